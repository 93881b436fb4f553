/* ir.c — the trace IR's container operations and its construction from a recorded path
 * (ir.h). Runs inside the app process: no libc, memory from the runtime's heap; callers
 * keep the app's SIMD state saved around it (Zydis).
 * Invariant: every instruction's bytes, zi and ops agree (ir_decode / ir_set_insn). */
#include "ir.h"
#include "builder_int.h"
#include "heap.h"
#include "maps.h"

static ZydisDecoder ir_decoder;
static int ir_decoder_ready;

hp_status_t ir_init(ir_trace_t *t, int cap)
{
    hp_memset(t, 0, sizeof(*t));
    t->insn = heap_alloc_uninit(sizeof(ir_insn_t) * (size_t)cap);   /* filled as appended */
    if (!t->insn) return HP_ERR_NOMEM;
    t->cap = cap;
    return HP_OK;
}

void ir_free(ir_trace_t *t)
{
    for (int i = 0; i < t->n; i++) heap_free(t->insn[i].comp);
    heap_free(t->insn);
    heap_free(t->src);
    t->src = 0;
    t->nsrc = 0;
    t->insn = 0;
    t->n = t->cap = 0;
}

hp_status_t ir_decode(ir_insn_t *i, uint64_t pc, const uint8_t *bytes, uint64_t avail)
{
    if (!ir_decoder_ready) {
        ZydisDecoderInit(&ir_decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
        ir_decoder_ready = 1;
    }
    hp_memset(i, 0, sizeof(*i));
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&ir_decoder, bytes, avail > 15 ? 15 : avail, &i->zi, i->ops)))
        return HP_ERR_DECODE;
    i->kind = IR_COPY;
    i->len = i->zi.length;
    i->app_pc = pc;
    hp_memcpy(i->bytes, bytes, i->len);
    return HP_OK;
}

ir_insn_t *ir_insert(ir_trace_t *t, int at, const ir_insn_t *i)
{
    if (t->n == t->cap || at < 0 || at > t->n) return 0;
    for (int k = t->n; k > at; k--) hp_memcpy(&t->insn[k], &t->insn[k - 1], sizeof(ir_insn_t));
    hp_memcpy(&t->insn[at], i, sizeof(ir_insn_t));
    t->n++;
    return &t->insn[at];
}

ir_insn_t *ir_append(ir_trace_t *t, const ir_insn_t *i)
{
    return ir_insert(t, t->n, i);
}

void ir_remove(ir_trace_t *t, int at)
{
    ir_remove_range(t, at, 1);
}

void ir_remove_range(ir_trace_t *t, int at, int count)
{
    if (at < 0 || count <= 0 || at + count > t->n) return;
    for (int k = at; k < at + count; k++) heap_free(t->insn[k].comp);
    ir_close_gap(t, at, at + count);
}

void ir_close_gap(ir_trace_t *t, int at, int top)
{
    if (top > at) hp_memmove_down(&t->insn[at], &t->insn[top], sizeof(ir_insn_t) * (size_t)(t->n - top));
    t->n -= top - at;
}

int ir_request(const ir_insn_t *i, ZydisEncoderRequest *req)
{
    if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&i->zi, i->ops,
                                                                     i->zi.operand_count_visible, req)))
        return 0;
    for (int k = 0; k < req->operand_count; k++) {
        ZydisEncoderOperand *op = &req->operands[k];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.base != ZYDIS_REGISTER_RIP) continue;
        ZyanU64 abs;
        if (!ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&i->zi, &i->ops[k], i->app_pc, &abs))) return 0;
        op->mem.displacement = (ZyanI64)abs;
    }
    return 1;
}

hp_status_t ir_set_insn(ir_insn_t *i, const ZydisEncoderRequest *req)
{
    uint8_t buf[ZYDIS_MAX_INSTRUCTION_LENGTH];
    ZyanUSize len = sizeof(buf);
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute((ZydisEncoderRequest *)req, buf, &len, i->app_pc)))
        return HP_ERR_ENCODE;
    ir_insn_t n;
    CHECK(ir_decode(&n, i->app_pc, buf, len));
    n.kind = i->kind;
    n.cc = i->cc;
    n.flags = i->flags;
    n.target = i->target;
    n.comp = i->comp;
    n.ncomp = i->ncomp;
    n.replay = i->replay;             /* (a re-encoding must not read the replayed register) */
    hp_memcpy(i, &n, sizeof(n));
    return HP_OK;
}

/* ---- construction from the recorded path ---- */

static ir_insn_t *ir_add(ir_trace_t *t, int kind, uint64_t pc, uint64_t target)
{
    ir_insn_t i;
    hp_memset(&i, 0, sizeof(i));
    i.kind = (uint8_t)kind;
    i.app_pc = pc;
    i.target = target;
    return ir_append(t, &i);
}

/* ir_add_cti: the IR of the control transfer `in` (kind cti, at pc) whose recorded
 * successor is next (0: the trace ends here). */
static hp_status_t ir_add_cti(ir_trace_t *t, const ir_insn_t *in, int cti, uint64_t next)
{
    uint64_t fall = in->app_pc + in->len;
    uint64_t target = cti == BB_CTI_INDIRECT ? 0 : fall + (uint64_t)in->ops[0].imm.value.s;
    ir_insn_t *x;
    switch (cti) {
    case BB_CTI_JMP:
        if (next && next != target) return HP_ERR_UNSUPPORTED;
        if (!next && !ir_add(t, IR_EXIT, target, target)) return HP_ERR_NOMEM;
        return HP_OK;
    case BB_CTI_CALL:
        if (next && next != target) return HP_ERR_UNSUPPORTED;
        if (!(x = ir_append(t, in))) return HP_ERR_NOMEM;
        x->kind = IR_CALL;
        x->target = fall;
        if (!next && !ir_add(t, IR_EXIT, target, target)) return HP_ERR_NOMEM;
        return HP_OK;
    case BB_CTI_JCC:
    case BB_CTI_LOOP:
        if (next && next != target && next != fall) return HP_ERR_UNSUPPORTED;
        if (!(x = ir_append(t, in))) return HP_ERR_NOMEM;
        x->kind = cti == BB_CTI_JCC ? IR_JCC : IR_LOOP;
        x->cc = in->zi.opcode & 0x0f;
        x->target = target;
        if (next == target && next != fall) {         /* the path took it */
            if (cti == BB_CTI_JCC) x->cc ^= 1;
            else x->flags |= IR_F_TAKEN_STAYS;
            x->target = fall;
        }
        if (!next && !ir_add(t, IR_EXIT, fall, fall)) return HP_ERR_NOMEM;
        return HP_OK;
    case BB_CTI_INDIRECT:
        if (!(x = ir_append(t, in))) return HP_ERR_NOMEM;
        x->kind = IR_IND;
        x->target = next;
        return HP_OK;
    }
    return HP_ERR_UNSUPPORTED;
}

hp_status_t ir_add_src(ir_trace_t *t, uint64_t lo, uint64_t hi)
{
    uint64_t (*n)[2] = heap_alloc(sizeof(*n) * (size_t)(t->nsrc + 1));
    if (!n) return HP_ERR_NOMEM;
    if (t->nsrc) hp_memcpy(n, t->src, sizeof(*n) * (size_t)t->nsrc);
    n[t->nsrc][0] = lo;
    n[t->nsrc][1] = hi;
    heap_free(t->src);
    t->src = n;
    t->nsrc++;
    return HP_OK;
}

hp_status_t ir_build_path(ir_trace_t *t, const uint64_t *pcs, const uint32_t *lens, int n,
                          const char **why)
{
    bb_ctx_t probe;                          /* only for bb_insn_kind's reason */
    hp_memset(&probe, 0, sizeof(probe));
    t->head = pcs[0];
    *why = "out of memory";
    heap_free(t->src);
    t->nsrc = 0;
    t->src = heap_alloc(sizeof(*t->src) * (size_t)(n > 0 ? n : 1));
    if (!t->src) return HP_ERR_NOMEM;
    *why = "trace too long";
    for (int b = 0; b < n; b++) {
        uint64_t cur = pcs[b];
        uint64_t next = b + 1 < n ? pcs[b + 1] : 0;
        t->src[t->nsrc][0] = t->src[t->nsrc][1] = pcs[b];
        t->nsrc++;
        for (uint32_t k = 0; k < lens[b]; k++) {
            maps_region_t r;
            if (t->n == t->cap) return HP_ERR_NOMEM;
            ir_insn_t *in = &t->insn[t->n];      /* decoded in place: the next slot */
            if (maps_find_exec(cur, &r) != HP_OK) { *why = "trace code unmapped"; return HP_ERR_FAULT; }
            if (ir_decode(in, cur, (const uint8_t *)cur, r.end - cur) != HP_OK) {
                *why = "undecodable instruction";
                return HP_ERR_DECODE;
            }
            int kind = bb_insn_kind(&probe, &in->zi, in->ops);
            int last = k + 1 == lens[b];
            t->src[t->nsrc - 1][1] = cur + in->len;
            t->napp++;
            if (kind == BB_K_UNSUPPORTED) { *why = probe.why ? probe.why : "unsupported"; return HP_ERR_UNSUPPORTED; }
            if (kind != BB_CTI_NONE && kind != BB_K_SYSCALL) {
                if (!last) { *why = "trace path mismatch"; return HP_ERR_UNSUPPORTED; }
                ir_insn_t cti = *in;             /* (ir_add_cti may append over the slot) */
                hp_status_t st = ir_add_cti(t, &cti, kind, next);
                if (st == HP_ERR_UNSUPPORTED) *why = "trace path mismatch";
                if (st != HP_OK) return st;
                cur = 0;
                break;
            }
            if (kind == BB_K_SYSCALL) in->kind = IR_SYSCALL;
            t->n++;
            cur += in->len;
        }
        if (!cur) continue;                  /* ended by its control transfer */
        /* ended without one (length or exit cap): the next block starts right here */
        if (next && next != cur) { *why = "trace path mismatch"; return HP_ERR_UNSUPPORTED; }
        if (!next && !ir_add(t, IR_EXIT, cur, cur)) return HP_ERR_NOMEM;
    }
    ir_insn_t *last = t->n ? &t->insn[t->n - 1] : 0;
    if (!last) { *why = "empty trace"; return HP_ERR_UNSUPPORTED; }
    if (last->kind == IR_IND) {                   /* the path ended at it */
        last->target = t->succ;                   /* checked inline, then a linked exit */
        if (t->succ && !ir_add(t, IR_EXIT, t->succ, t->succ)) return HP_ERR_NOMEM;
    }
    return HP_OK;
}

void ir_cut(ir_trace_t *t, int k)
{
    ir_insn_t *i = &t->insn[k];
    int keep = k + 1;
    if (i->kind == IR_IND) i->target = 0;                     /* the lookup ends it */
    while (t->n > keep) ir_remove(t, t->n - 1);
    if (i->kind == IR_CALL) {                                 /* the push, then the callee */
        uint64_t callee = i->app_pc + i->len + (uint64_t)i->ops[0].imm.value.s;
        ir_add(t, IR_EXIT, callee, callee);                   /* (room: we just removed) */
    }
}

/* ---- text ---- */

static void ir_puts(char *buf, int cap, int *n, const char *s)
{
    while (*s && *n < cap - 1) buf[(*n)++] = *s++;
    buf[*n] = 0;
}

static void ir_puthex(char *buf, int cap, int *n, uint64_t v)
{
    char tmp[19];
    int k = 18;
    tmp[k] = 0;
    do { tmp[--k] = "0123456789abcdef"[v & 15]; v >>= 4; } while (v);
    tmp[--k] = 'x';
    tmp[--k] = '0';
    ir_puts(buf, cap, n, tmp + k);
}

void ir_format(const ir_insn_t *i, char *buf, int cap)
{
    static const char *names[] = { "", "jcc-exit", "loop-exit", "call-push", "indirect",
                                   "syscall", "exit" };
    int n = 0;
    buf[0] = 0;
    ir_puthex(buf, cap, &n, i->app_pc);
    ir_puts(buf, cap, &n, "  ");
    if (i->kind == IR_COPY || i->kind == IR_SYSCALL) {
        char text[96];
        ZydisFormatter f;
        ZydisFormatterInit(&f, ZYDIS_FORMATTER_STYLE_INTEL);
        if (ZYAN_SUCCESS(ZydisFormatterFormatInstruction(&f, &i->zi, i->ops, i->zi.operand_count_visible,
                                                         text, sizeof(text), i->app_pc, ZYAN_NULL)))
            ir_puts(buf, cap, &n, text);
        return;
    }
    ir_puts(buf, cap, &n, names[i->kind]);
    ir_puts(buf, cap, &n, " -> ");
    ir_puthex(buf, cap, &n, i->target);
}
