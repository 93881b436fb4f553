/* pass_sink.c — a register copy that a promoted loop makes only for its own test goes into
 * the loop's exits (partial dead code elimination). -O0 code tests its counter through
 * eax: once promote keeps the counter in a borrowed register, every round ends
 *     mov %r11d,%eax ; cmp X,%eax ; jl head
 * and eax is overwritten early in the next round: the copy matters only when the loop
 * leaves. The test reads the source instead (`cmp X,%r11d`), the copy goes, and each exit
 * after it runs the copy as compensation code (ir_insn_t.comp, optimizer/ir_emit.c) before
 * the promoted registers get their app values back.
 * Exactness (the exits' compensation and re-execution, optimizer/README.md): from the copy
 * to the end of the round and, after the loop's branch back, from the head up to the
 * instruction that overwrites the copy's destination, that register differs from native.
 * The exits there run the copy; the instructions that can fault carry it as their replay
 * (a fault or signal there applies it to the context first, runtime/signals.c), the others
 * and the branch are marked inexact (a signal there steps to an exact point). The source
 * stays unchanged from the copy to the loop's end, so both recompute the same value; the
 * head's part holds nothing that can fault (its first round, entered from the preheader,
 * has the app's value, which a replay would overwrite) and is only stepped through. Only
 * in promoted loops: the branch back goes past the preheader, so the trace's entry point
 * (always exact, runtime/signals.c) is never reached with the stale register. And only
 * where the round keeps an instruction no pass can make inexact (sk_exact_point), so a
 * signal never steps through a whole loop. The copy taken is the last one within
 * SK_WINDOW instructions of the branch back that all this allows. */
#include "opt.h"
#include "analysis.h"
#include "heap.h"

#define SK_WINDOW 16        /* copies looked for this close to the branch back */
#define SK_MAX_EXITS 8      /* exits after the copy that get its compensation */

/* sk_copy: instruction i is `mov S,D` between two different general registers of 32 or 64
 * bits (not movsxd: D's readers could not read S at their width), a plain app instruction;
 * its replay op (XL_RP_ZX32 / XL_RP_COPY, an_reg_move) with *d and *s, or 0. */
static int sk_copy(const ir_insn_t *i, int *d, int *s)
{
    if (i->kind != IR_COPY || i->flags || i->replay || i->ncomp) return 0;
    int op = an_reg_move(i, d, s);
    if (!op || op == XL_RP_SX32) return 0;
    return *d != AN_RSP && *s != AN_RSP ? op : 0;
}

/* sk_use_ok: instruction i reads register dst (the copy's destination, ZydisRegister of the
 * copy's width) only as visible register operands of that very width (explicit, or implicit
 * as in `cmp $imm32,%eax`: the encoder then picks the general form), never as an address,
 * and writes neither it nor any part of it: each such operand can read src instead. */
static int sk_use_ok(const ir_insn_t *i, ZydisRegister dst)
{
    ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, dst);
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *o = &i->ops[k];
        if (o->type == ZYDIS_OPERAND_TYPE_MEMORY) {
            if (ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->mem.base) == big ||
                ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->mem.index) == big)
                return 0;
            continue;
        }
        if (o->type != ZYDIS_OPERAND_TYPE_REGISTER ||
            ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, o->reg.value) != big)
            continue;
        if (o->reg.value != dst || k >= i->zi.operand_count_visible ||   /* hidden: never */
                                                      /* (implicit: 3d, cmp $imm32,%eax) */
            (o->actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE)))
            return 0;
    }
    return i->kind == IR_COPY;
}

/* sk_rewrite: i reads src where it read dst (sk_use_ok holds). */
static int sk_rewrite(ir_insn_t *i, ZydisRegister dst, ZydisRegister src)
{
    ZydisEncoderRequest req;
    if (!ir_request(i, &req)) return 0;
    for (int k = 0; k < req.operand_count; k++)
        if (req.operands[k].type == ZYDIS_OPERAND_TYPE_REGISTER && req.operands[k].reg.value == dst)
            req.operands[k].reg.value = src;
    ir_insn_t n = *i;
    if (ir_set_insn(&n, &req) != HP_OK || n.zi.mnemonic != i->zi.mnemonic) return 0;
    *i = n;
    return 1;
}

/* sk_head_def: the index of the instruction that overwrites register d whole, counted
 * from the head, if nothing before it (nor it) reads d, can fault, exits or is a barrier;
 * else -1. */
static int sk_head_def(const ir_trace_t *t, int d, int limit)
{
    for (int j = 0; j < limit; j++) {
        const ir_insn_t *i = &t->insn[j];
        an_effects_t e;
        an_effects(i, &e);
        if (i->kind != IR_COPY || (e.use & AN_REG(d)) || e.may_fault || e.barrier || e.opaque || e.exits ||
            (e.def_part & AN_REG(d)))
            return -1;
        if (e.def & AN_REG(d)) return j;
    }
    return -1;
}

/* sk_exact_point: some instruction in [from, to] stays exact whatever later passes do: a
 * plain app instruction that can fault (no pass makes one inexact; dce and sink only give
 * it a replay). With the head's part and the end of the round inexact, a round without one
 * would leave an asynchronous signal single-stepping until the loop ends. */
static int sk_exact_point(const ir_trace_t *t, int from, int to)
{
    for (int j = from; j <= to; j++) {
        an_effects_t e;
        an_effects(&t->insn[j], &e);
        if (t->insn[j].kind == IR_COPY && !t->insn[j].flags && e.may_fault && !e.barrier && !e.opaque) return 1;
    }
    return 0;
}

/* sk_try: sink the copy at k into the loop's exits if the rest of the round allows it
 * (see the banner). Returns 1 if it went. */
static int sk_try(ir_trace_t *t, int k)
{
    ir_insn_t *c = &t->insn[k];
    int d, s, op = sk_copy(c, &d, &s);
    if (!op) return 0;
    ZydisRegister dst = c->ops[0].reg.value, src = c->ops[1].reg.value;
    int back = t->n - 2, nexits = 0;
    for (int j = k + 1; j <= back; j++) {
        const ir_insn_t *i = &t->insn[j];
        an_effects_t e;
        an_effects(i, &e);
        if (e.opaque || e.barrier || ((e.def | e.def_part) & (AN_REG(d) | AN_REG(s)))) return 0;
        if (i->kind == IR_JCC) {
            if (i->target == t->head || i->ncomp) return 0;    /* (a round inside the round) */
            nexits++;
            continue;
        }
        if (i->kind != IR_COPY) return 0;
        if (e.may_fault && (i->flags || i->replay)) return 0;
        if ((e.use & AN_REG(d)) && !sk_use_ok(i, dst)) return 0;
    }
    int w = sk_head_def(t, d, k);
    if (w < 0 || nexits > SK_MAX_EXITS || !sk_exact_point(t, w + 1, t->n - 2)) return 0;
    ir_insn_t *comp[SK_MAX_EXITS];
    ir_insn_t *saved = heap_alloc(sizeof(ir_insn_t) * (size_t)(back - k));
    int ok = saved != 0, n = 0;
    for (; ok && n < nexits; n++)
        if (!(comp[n] = heap_alloc(sizeof(ir_insn_t)))) ok = 0;
    if (ok) hp_memcpy(saved, &t->insn[k + 1], sizeof(ir_insn_t) * (size_t)(back - k));
    for (int j = k + 1; ok && j <= back; j++) {
        an_effects_t e;
        an_effects(&t->insn[j], &e);
        if ((e.use & AN_REG(d)) && !sk_rewrite(&t->insn[j], dst, src)) {
            hp_memcpy(&t->insn[k + 1], saved, sizeof(ir_insn_t) * (size_t)(back - k));
            ok = 0;
        }
    }
    heap_free(saved);
    if (!ok) {
        for (int x = 0; x < n; x++) heap_free(comp[x]);
        return 0;
    }
    uint16_t rp = IR_REPLAY(op, d, s);
    for (int j = k + 1, x = 0; j <= back; j++) {
        ir_insn_t *i = &t->insn[j];
        an_effects_t e;
        an_effects(i, &e);
        if (i->kind == IR_JCC) {                     /* each exit runs the copy first */
            *comp[x] = *c;
            i->comp = comp[x++];
            i->ncomp = 1;
            i->flags |= IR_F_INEXACT;
        } else if (e.may_fault) {
            i->replay = rp;
        } else {
            i->flags |= IR_F_INEXACT;
        }
    }
    for (int j = 0; j <= w; j++) t->insn[j].flags |= IR_F_INEXACT;
    ir_remove(t, k);
    return 1;
}

int opt_pass_sink(ir_trace_t *t)
{
    if (!t->npromo || !ir_is_loop(t)) return 0;
    for (int k = t->n - 3; k >= 1 && k >= t->n - 2 - SK_WINDOW; k--)
        if (sk_try(t, k)) return 1;                  /* the last copy before the branch back */
    return 0;
}
