/* trace_emit.c — translate a recorded path of basic blocks into one trace: the path is
 * straight-line code; a conditional branch falls through in the recorded direction and
 * leaves through a side exit otherwise; direct jumps vanish; calls push the app return
 * address and go on into the callee; an indirect branch or return is checked inline
 * against the recorded target, with the in-cache lookup when it differs.
 * Invariants: the same app instructions as the blocks, with the same per-instruction map
 * (signals) and the same exits (stubs, links); flags are kept across the inline checks. */
#include "trace.h"
#include "builder_int.h"
#include "cache.h"
#include "emit.h"
#include "heap.h"

#define TR_RESERVE (256 * 1024)
#define TR_EXITS 512
#define TR_XL 2048

static uint8_t *tr_restore_flags_rax_rdx(uint8_t *p)
{
    p = emit_restore_flags_ax(p);
    p = emit_gs_load(p, R_RAX, T_SPILL_RAX);
    return emit_gs_load(p, R_RDX, T_SPILL_RDX);
}

/* rcx = the app target (app rcx spilled): go on inline if it is `next`, else look it up. */
static void tr_check_target(bb_ctx_t *c, uint64_t next)
{
    uint8_t *miss, *cont;
    c->p = emit_gs_store(c->p, R_RAX, T_SPILL_RAX);
    c->p = emit_gs_store(c->p, R_RDX, T_SPILL_RDX);
    c->p = emit_save_flags_ax(c->p);
    c->p = emit_mov_imm64(c->p, R_RDX, next);
    c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x39); c->p = emit_u8(c->p, 0xd1);  /* cmp %rdx,%rcx */
    c->p = emit_jcc_rel32(c->p, 0x5, &miss);                          /* jne */
    c->p = tr_restore_flags_rax_rdx(c->p);
    c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);
    c->p = emit_jmp_rel32(c->p, &cont);
    emit_set_rel32(miss, (uint64_t)c->p);
    c->p = tr_restore_flags_rax_rdx(c->p);
    c->p = bb_ibl(c->p);                                              /* rcx = target */
    emit_set_rel32(cont, (uint64_t)c->p);
    hp_rt.stats.trace_inline_checks++;
}

hp_status_t trace_cti(bb_ctx_t *c, int cti, const ZydisDecodedInstruction *in,
                      const ZydisDecodedOperand *ops, uint64_t pc, uint64_t next)
{
    uint64_t fall = pc + in->length;
    uint64_t target = cti == BB_CTI_INDIRECT ? 0 : fall + (uint64_t)ops[0].imm.value.s;
    uint8_t *field;
    switch (cti) {
    case BB_CTI_JMP:
        return next == target ? HP_OK : HP_ERR_UNSUPPORTED;
    case BB_CTI_CALL:
        if (next != target) return HP_ERR_UNSUPPORTED;
        bb_push_return(c, fall);
        return HP_OK;
    case BB_CTI_JCC: {
        int cc = in->opcode & 0x0f;
        if (next == target) {
            c->p = emit_exit_jcc(c->p, cc ^ 1, &field);
            bb_add_exit(c, LINK_DIRECT, fall, field, 0);
        } else if (next == fall) {
            c->p = emit_exit_jcc(c->p, cc, &field);
            bb_add_exit(c, LINK_DIRECT, target, field, 0);
        } else {
            return HP_ERR_UNSUPPORTED;
        }
        return HP_OK;
    }
    case BB_CTI_LOOP: {
        if (next != target && next != fall) return HP_ERR_UNSUPPORTED;
        hp_memcpy(c->p, (const void *)pc, in->length);                 /* jrcxz/loop 1f */
        uint8_t *rel8 = c->p + in->length - 1;
        c->p += in->length;
        if (next == target) {          /* 0: jmp fall-stub; 1: (go on) */
            c->p = emit_exit_jmp(c->p, &field);
            bb_add_exit(c, LINK_DIRECT, fall, field, 0);
            *rel8 = (uint8_t)(c->p - (rel8 + 1));
        } else {                       /* jmp 2f; 1: jmp target-stub; 2: (go on) */
            c->p = emit_u8(c->p, 0xeb);
            uint8_t *over = c->p;
            c->p = emit_u8(c->p, 0);
            *rel8 = (uint8_t)(c->p - (rel8 + 1));
            c->p = emit_exit_jmp(c->p, &field);
            bb_add_exit(c, LINK_DIRECT, target, field, 0);
            *over = (uint8_t)(c->p - (over + 1));
        }
        return HP_OK;
    }
    case BB_CTI_INDIRECT:
        CHECK(bb_indirect_target(c, in, ops, pc));
        tr_check_target(c, next);
        return HP_OK;
    }
    return HP_ERR_UNSUPPORTED;
}

/* tr_ranges: the app ranges a trace translates, from its instruction map (each run of
 * nearby instructions; an instruction is at most 15 bytes). */
static hp_status_t tr_ranges(hp_block_t *b)
{
    b->ranges = heap_alloc(sizeof(*b->ranges) * (b->n_xl + 1));
    if (!b->ranges) return HP_ERR_NOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < b->n_xl; i++) {
        uint64_t lo = b->xl[i].app_pc, hi = lo + 15;
        if (n && lo >= b->ranges[n - 1][0] && lo <= b->ranges[n - 1][1]) {
            if (hi > b->ranges[n - 1][1]) b->ranges[n - 1][1] = hi;
            continue;
        }
        b->ranges[n][0] = lo;
        b->ranges[n++][1] = hi;
    }
    b->nranges = n;
    return HP_OK;
}

hp_status_t trace_build(const uint64_t *pcs, const uint32_t *lens, int n, hp_block_t **out,
                        const char **why)
{
    bb_ctx_t *c = heap_alloc(sizeof(*c));
    bb_exit_t *exits = heap_alloc(sizeof(*exits) * TR_EXITS);
    hp_xl_t *xl = heap_alloc(sizeof(*xl) * TR_XL);
    hp_status_t st = HP_ERR_NOMEM;
    *why = "out of memory";
    if (!c || !exits || !xl) goto done;
    c->exits = exits;
    c->cap_exits = TR_EXITS;
    c->xl = xl;
    c->cap_xl = TR_XL;
    c->follow = pcs;
    c->lens = lens;
    c->nfollow = n;
    c->start = c->p = cache_reserve(pcs[0], TR_RESERVE);
    *why = "no cache memory near the code";
    if (!c->start) goto done;
    c->end = c->start + TR_RESERVE;
    st = bb_translate(c, pcs[0], 0, 0, why);
    if (st == HP_OK && c->fi + 1 < n) { st = HP_ERR_UNSUPPORTED; *why = "trace ended early"; }
    if (st == HP_OK) st = bb_finish(c, pcs[0], c->cur, c->n, out);
    if (st == HP_OK) {
        hp_block_t *b = *out;
        b->is_trace = 1;
        b->cache_start = c->start;
        b->cache_size = (uint32_t)(c->p - c->start);
        b->app_end = pcs[0] + 1;
        st = tr_ranges(b);
    }
    if (st != HP_OK) {
        cache_commit(c->start, 0);
        goto done;
    }
    cache_commit(c->start, (size_t)(c->p - c->start));
    hp_rt.stats.trace_cache_bytes += (*out)->cache_size;
    st = cache_add_block(*out);
done:
    heap_free(xl);
    heap_free(exits);
    heap_free(c);
    return st;
}
