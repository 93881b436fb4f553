/* pass_jtable.c — a switch's jump table folded into the trace.
 * gcc compiles a dense switch into a bound check, a load from a table of offsets in
 * read-only data and an indirect jump (at -O0, interp.c's dispatch):
 *     cmp $N,%eax ; ja default ; mov %eax,%eax ; lea 0(,%rax,4),%rdx ; lea T(%rip),%rax ;
 *     movslq (%rdx,%rax,1),%rax ; lea T(%rip),%rdx ; add %rdx,%rax ; jmp *%rax
 * On a trace the jump is an inline check against the recorded target K (a compare, a
 * branch, flags computed again), after a chain through the table load. When the code
 * between the bound check and the jump computes the target from the index and constants
 * alone, and the table lies in a read-only mapping of a file (what program code is), this
 * pass runs that code for every index the bound lets through and finds the one index v
 * whose target is K. Then:
 *     cmp $v,%eax ; jne X ; mov %eax,%eax ; lea 0(,%rax,4),%rdx ; lea T(%rip),%rax ;
 *     mov $T[v],%rax ; lea T(%rip),%rdx ; add %rdx,%rax          (and no jump, no check)
 * where X leaves to the `ja` with the flags of `cmp $N,%eax` computed again (compensation
 * code, ir_insn_t.comp): the app goes on through its own bound check, table and jump. The
 * loads become the values they read for v; dce removes what is then dead.
 * Exactness: registers are the app's at every instruction (the same instructions on the
 * same values; a folded load gives the bytes native execution reads). The flags are not
 * from `cmp $v` up to and including the first instruction of the sequence that writes them
 * all (the jne and those instructions are IR_F_INEXACT); nothing there can fault (no memory
 * access is left in the sequence), exit or be a barrier, and none of it reads a flag. The
 * table's bytes become part of what the trace depends on (ir_add_src): mprotect, munmap,
 * mremap, mmap over them or madvise that drops them invalidates the trace
 * (runtime/syscalls.c), as for code. When another index also leads to K the site is left
 * alone (which index is hot is not known).
 * Threads: only with one thread (ir_trace_t.no_fold off), and the trace is flushed when
 * a second one starts (one_thread): a thread looping inside a trace never meets the flush
 * that another thread's change to the table causes (runtime/flush.c keeps the memory of
 * invalidated traces while several threads run), where native code would see the new entry.
 * Tables: only from a loaded program or library (maps_find_ro: a read-only private mapping
 * of a file that is also mapped executable, neither a memfd nor deleted), whose bytes, like
 * its code's, change only through system calls the runtime sees, or by writing the file
 * under it or through /proc/self/mem or ptrace, which hotpath does not follow for code
 * either; and not after madvise(MADV_DONTFORK/WIPEONFORK) anywhere (a child would lose
 * pages its folded traces still read) nor once io_uring_setup was called (a ring's madvise
 * is not seen): hp_rt.no_fold_data, both given to the pass as ir_trace_t.no_fold. */
#include "opt.h"
#include "analysis.h"
#include "constprop.h"
#include "heap.h"
#include "maps.h"

#define JT_MAX_SEQ 12          /* instructions between the bound check and the jump */
#define JT_MAX_CASES 1024      /* indexes tried */
#define JT_MAX_LOADS 2         /* table loads in the sequence */
#define JT_PAGES 4             /* table pages read per pass */
#define JT_MAX_REFUSED 4       /* addresses maps_find_ro may refuse per pass */
#define JT_PAGE 4096
#define JT_STATUS (ZYDIS_CPUFLAG_CF | ZYDIS_CPUFLAG_PF | ZYDIS_CPUFLAG_AF | ZYDIS_CPUFLAG_ZF | \
                   ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_OF)

typedef struct {
    uint64_t page[JT_PAGES];   /* app page addresses read (0: free) */
    uint8_t buf[JT_PAGES][JT_PAGE], ok[JT_PAGES][JT_PAGE];
    maps_region_t ok_region;   /* the last region maps_find_ro accepted ([0, 0): none) */
    int refused;               /* lookups it refused in this pass (each may reread the maps) */
    uint64_t addr[JT_MAX_LOADS]; /* the last evaluation's loads: address, size, value */
    int size[JT_MAX_LOADS];
    uint64_t val[JT_MAX_LOADS];
} jt_ctx_t;

/* jt_byte: app byte at a (in a page read through maps_read); 0 when it cannot be read. */
static int jt_byte(jt_ctx_t *c, uint64_t a, uint8_t *b)
{
    uint64_t pg = a & ~(uint64_t)(JT_PAGE - 1);
    int k;
    for (k = 0; k < JT_PAGES && c->page[k] && c->page[k] != pg; k++) {}
    if (k == JT_PAGES) return 0;
    if (!c->page[k]) {
        maps_read(pg, JT_PAGE, c->buf[k], c->ok[k]);
        c->page[k] = pg;
    }
    if (!c->ok[k][a - pg]) return 0;
    *b = c->buf[k][a - pg];
    return 1;
}

/* jt_read: the size bytes at a, little-endian, from a loaded program's read-only data only
 * (maps_find_ro; its answers cached for the pass: a lookup it refuses may reread
 * /proc/self/maps, so after JT_MAX_REFUSED of them the pass reads nothing more). */
static int jt_read(jt_ctx_t *c, uint64_t a, int size, uint64_t *v)
{
    if (size < 1 || size > 8 || a + (uint64_t)size < a) return 0;
    if (a < c->ok_region.start || a + (uint64_t)size > c->ok_region.end) {
        if (c->refused >= JT_MAX_REFUSED) return 0;
        if (maps_find_ro(a, (uint64_t)size, &c->ok_region) != HP_OK) {
            c->ok_region.start = c->ok_region.end = 0;
            c->refused++;
            return 0;
        }
    }
    uint64_t x = 0;
    for (int k = size - 1; k >= 0; k--) {
        uint8_t b;
        if (!jt_byte(c, a + (uint64_t)k, &b)) return 0;
        x = x << 8 | b;
    }
    *v = x;
    return 1;
}

/* jt_load: i loads a general register from memory (mov, movzx, movsx, movsxd) with a
 * 32- or 64-bit destination: the form folded into an immediate. */
static int jt_load(const ir_insn_t *i)
{
    ZydisMnemonic m = i->zi.mnemonic;
    return (m == ZYDIS_MNEMONIC_MOV || m == ZYDIS_MNEMONIC_MOVZX || m == ZYDIS_MNEMONIC_MOVSX ||
            m == ZYDIS_MNEMONIC_MOVSXD) && i->zi.operand_count_visible == 2 &&
           i->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && an_reg_id(i->ops[0].reg.value) >= 0 &&
           (i->zi.operand_width == 32 || i->zi.operand_width == 64) &&
           i->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY && i->ops[1].mem.type == ZYDIS_MEMOP_TYPE_MEM;
}

/* jt_eval: run the sequence [a, b) with register idx holding v (the rest unknown): 1 with
 * register tgt's value after it in *out (and the loads in c); 0 when any input is unknown
 * or an instruction is not one cp_eval or jt_load understands. */
static int jt_eval(jt_ctx_t *c, const ir_trace_t *t, int a, int b, int idx, uint64_t v, int tgt, uint64_t *out)
{
    cp_state_t st;
    cp_reset(&st);
    hp_memset(c->size, 0, sizeof(c->size));
    st.known = AN_REG(idx);
    st.val[idx] = v;
    int nl = 0;
    for (int k = a; k < b; k++) {
        const ir_insn_t *i = &t->insn[k];
        ZydisRegister dst = i->ops[0].reg.value;
        uint64_t res, full, x;
        an_flags_t fw;
        if (jt_load(i)) {
            const ZydisDecodedOperand *m = &i->ops[1];
            if (nl == JT_MAX_LOADS || !cp_mem_addr(&st, i, m, &c->addr[nl]) ||
                !jt_read(c, c->addr[nl], m->size / 8, &x))
                return 0;
            c->size[nl] = m->size / 8;
            res = i->zi.mnemonic == ZYDIS_MNEMONIC_MOVSX || i->zi.mnemonic == ZYDIS_MNEMONIC_MOVSXD ?
                  cp_sext(x, m->size) : x;
            res &= cp_mask(i->zi.operand_width);
            c->val[nl++] = res;
        } else if (!cp_eval(&st, i, &dst, &res, &fw)) {
            return 0;
        }
        if (!cp_full(&st, dst, res, &full)) return 0;
        st.known |= AN_REG(an_reg_id(dst));
        st.val[an_reg_id(dst)] = full;
    }
    if (!(st.known & AN_REG(tgt))) return 0;
    *out = st.val[tgt];
    return 1;
}

/* jt_low32_only: the sequence [a, b) reads register idx only as its 32-bit register until
 * it writes it whole (so idx's upper half, unknown, cannot matter). */
static int jt_low32_only(const ir_trace_t *t, int a, int b, int idx)
{
    for (int k = a; k < b; k++) {
        const ir_insn_t *i = &t->insn[k];
        an_effects_t e;
        an_effects(i, &e);
        if (e.def_part & AN_REG(idx)) return 0;
        for (int o = 0; o < i->zi.operand_count; o++) {
            const ZydisDecodedOperand *op = &i->ops[o];
            if (op->type == ZYDIS_OPERAND_TYPE_MEMORY &&
                (an_reg_id(op->mem.base) == idx || an_reg_id(op->mem.index) == idx))
                return 0;
            if (op->type == ZYDIS_OPERAND_TYPE_REGISTER && an_reg_id(op->reg.value) == idx &&
                (op->actions & ZYDIS_OPERAND_ACTION_MASK_READ) && cp_width(op->reg.value) != 32)
                return 0;
        }
        if (e.def & AN_REG(idx)) return 1;
    }
    return 1;
}

/* jt_upper_zero: register idx's upper half is zero before instruction k: its last writer
 * on the trace wrote its 32-bit register (which zero-extends). */
static int jt_upper_zero(const ir_trace_t *t, int k, int idx)
{
    int j = an_reaching_def(t, k, idx);
    if (j < 0 || t->insn[j].kind != IR_COPY) return 0;
    const ir_insn_t *w = &t->insn[j];
    an_effects_t e;
    an_effects(w, &e);
    return (e.def & AN_REG(idx)) && w->zi.operand_count_visible >= 1 &&
           w->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && an_reg_id(w->ops[0].reg.value) == idx &&
           cp_width(w->ops[0].reg.value) == 32;
}

/* jt_sequence_ok: [a, b) holds only app instructions the fold may keep or fold: no memory
 * access but loads jt_load folds, nothing that can fault otherwise, exit, be a barrier or
 * opaque; none reads a flag up to the first instruction that writes status flags, which
 * defines them all (one that leaves some undefined may keep the new compare's: imul on
 * this CPU). *first gets that instruction's index. */
static int jt_sequence_ok(const ir_trace_t *t, int a, int b, int *first)
{
    *first = -1;
    for (int k = a; k < b; k++) {
        const ir_insn_t *i = &t->insn[k];
        an_effects_t e;
        an_effects(i, &e);
        if (i->kind != IR_COPY || i->flags || i->replay || i->ncomp || e.opaque || e.barrier ||
            e.mem_write || ((e.mem_read || e.may_fault) && !jt_load(i)))
            return 0;
        if (*first < 0 && (e.fuse & JT_STATUS)) return 0;
        if (*first < 0 && ((e.fdef | e.fundef) & JT_STATUS)) {
            if ((e.fdef & JT_STATUS) != JT_STATUS) return 0;   /* (undefined: may keep ours) */
            *first = k;
        }
    }
    return *first >= 0;
}

/* jt_set_imm: i (a load into a register) becomes mov $v,%reg: the same whole register. */
static int jt_set_imm(ir_insn_t *i, uint64_t v)
{
    int id = an_reg_id(i->ops[0].reg.value), w = i->zi.operand_width;
    if (w == 64 && !cp_fits_s32(v) && v <= 0xffffffffu) w = 32;     /* (zero-extends) */
    ZydisEncoderRequest req;
    cp_new(&req, ZYDIS_MNEMONIC_MOV, cp_reg(id, w));
    cp_set_imm(&req.operands[1], v, w);
    ir_insn_t old = *i;
    if (ir_set_insn(i, &req) != HP_OK || i->zi.mnemonic != ZYDIS_MNEMONIC_MOV ||
        i->ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE || (i->ops[1].imm.value.u & cp_mask(w)) != (v & cp_mask(w))) {
        *i = old;
        return 0;
    }
    return 1;
}

/* jt_set_jne: i (the bound's IR_JCC) becomes `jne` leaving to its own app pc. */
static int jt_set_jne(ir_insn_t *i)
{
    uint64_t pc = i->app_pc;
    uint8_t b[6] = { 0x0f, 0x85, 0xfa, 0xff, 0xff, 0xff };          /* jne rel32 -6: to pc */
    ir_insn_t old = *i;
    if (ir_decode(i, pc, b, sizeof b) != HP_OK) { *i = old; return 0; }
    i->kind = IR_JCC;
    i->cc = 0x5;
    i->target = pc;
    i->flags = old.flags | IR_F_INEXACT;
    return 1;
}

/* jt_jump: i is a recorded `jmp *%reg64` nothing else has claimed: a site to try. */
static int jt_jump(const ir_insn_t *j)
{
    return j->kind == IR_IND && j->zi.mnemonic == ZYDIS_MNEMONIC_JMP && j->target && !j->flags && !j->ncomp &&
           !j->target2 && j->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER && cp_width(j->ops[0].reg.value) == 64;
}

/* jt_site: fold the jump at k (jt_jump) when its form is the one in the banner; 1 if done. */
static int jt_site(jt_ctx_t *c, ir_trace_t *t, int k)
{
    ir_insn_t *j = &t->insn[k];
    int tgt = an_reg_id(j->ops[0].reg.value), a = k;
    while (a > 0 && k - a < JT_MAX_SEQ && t->insn[a - 1].kind == IR_COPY) a--;
    int k1 = a - 1, k0 = a - 2, first;                  /* the jcc and the cmp before it */
    if (k0 < 0 || a == k || !jt_sequence_ok(t, a, k, &first)) return 0;
    ir_insn_t *jcc = &t->insn[k1], *cmp = &t->insn[k0];
    if (jcc->kind != IR_JCC || (jcc->cc != 0x7 && jcc->cc != 0x3) || jcc->ncomp || jcc->flags ||
        cmp->kind != IR_COPY || cmp->flags || cmp->replay || cmp->zi.mnemonic != ZYDIS_MNEMONIC_CMP ||
        cmp->zi.operand_count_visible != 2 || cmp->ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        cmp->ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return 0;
    int idx = an_reg_id(cmp->ops[0].reg.value), w = cp_width(cmp->ops[0].reg.value);
    uint64_t n = cmp->ops[1].imm.value.u & cp_mask(w);
    if (idx < 0 || idx == AN_RSP || (w != 32 && w != 64)) return 0;
    uint64_t count = jcc->cc == 0x7 ? n + 1 : n;        /* ja leaves above n, jae from n */
    if (!count || count > JT_MAX_CASES) return 0;
    if (w == 32 && !jt_upper_zero(t, k0, idx) && !jt_low32_only(t, a, k, idx)) return 0;
    uint64_t v = 0, x;
    int found = 0;
    for (uint64_t u = 0; u < count && found < 2; u++)
        if (jt_eval(c, t, a, k, idx, u, tgt, &x) && x == j->target) {
            if (!found) v = u;
            found++;
        }
    if (found != 1 || !jt_eval(c, t, a, k, idx, v, tgt, &x)) return 0;
    /* the rewrite: the loads first (each may refuse), then the bound and the jump */
    ir_insn_t *saved = heap_alloc_uninit(sizeof(ir_insn_t) * (size_t)(k - a));
    ir_insn_t *comp = heap_alloc(sizeof(ir_insn_t));
    if (!saved || !comp) goto fail;
    hp_memcpy(saved, &t->insn[a], sizeof(ir_insn_t) * (size_t)(k - a));
    for (int i = a, nl = 0; i < k; i++) {
        if (jt_load(&t->insn[i]) && !jt_set_imm(&t->insn[i], c->val[nl++])) goto undo;
        if (i <= first) t->insn[i].flags |= IR_F_INEXACT;
    }
    *comp = *cmp;
    ZydisEncoderRequest req;
    cp_new(&req, ZYDIS_MNEMONIC_CMP, cmp->ops[0].reg.value);
    cp_set_imm(&req.operands[1], v, w);
    ir_insn_t old_cmp = *cmp, old_jcc = *jcc;
    if (!cp_set(cmp, &req, ZYDIS_MNEMONIC_CMP, w, 1, v, 15, 0)) goto undo;
    if (!jt_set_jne(jcc)) { *cmp = old_cmp; goto undo; }
    for (int l = 0; l < JT_MAX_LOADS; l++)
        if (c->size[l] && ir_add_src(t, c->addr[l], c->addr[l] + (uint64_t)c->size[l]) != HP_OK) {
            *cmp = old_cmp;
            *jcc = old_jcc;
            goto undo;
        }
    jcc->comp = comp;
    jcc->ncomp = 1;
    t->one_thread = 1;                     /* (a second thread flushes it: see the banner) */
    heap_free(saved);
    ir_remove(t, k);
    return 1;
undo:
    hp_memcpy(&t->insn[a], saved, sizeof(ir_insn_t) * (size_t)(k - a));
fail:
    heap_free(saved);
    heap_free(comp);
    return 0;
}

int opt_pass_jtable(ir_trace_t *t)
{
    if (t->no_fold) return 0;
    jt_ctx_t *c = 0;                     /* (its page buffers only for a trace with a site) */
    int changed = 0;
    for (int k = t->n - 1; k >= 2; k--) {
        if (!jt_jump(&t->insn[k])) continue;
        if (!c && !(c = heap_alloc(sizeof(*c)))) break;
        changed += jt_site(c, t, k);
    }
    heap_free(c);
    return changed;
}
