/* pass_dce.c — dead code and dead flags: instructions with no effect on the app state are removed: the
 * no-op forms compilers use for alignment (nop, nopw/nopl, mov of a 64-bit register to
 * itself), and computations whose every result (registers and flags) is overwritten before
 * any read or exit, that write no memory and cannot fault.
 * Dead flags: `add`/`sub`/`inc`/`dec` of a register whose flags are dead become `lea`.
 * Exactness: a no-op changes nothing. A removed computation leaves its registers and flags
 * stale until they are overwritten; that region may hold no instruction that can fault, no
 * barrier and no exit, and is marked inexact (an_inexact_region), so signals, faults and
 * exits always see the native state. One exception: a dead register move whose region holds
 * instructions that can fault (dce_replay) — each of them carries the move, which a fault
 * or signal there applies to the context first (fault recovery by re-execution). */
#include "opt.h"
#include "analysis.h"
#include "heap.h"
#include "builder_int.h"

#define DCE_ROUNDS 4

/* dce_replay: instruction k (effects e) is dead but its region (up to the instruction
 * that overwrites its result) holds instructions that can fault. Where k is a register move
 * (mov r64,r64; mov r32,r32; movsxd r64,r32) whose source no instruction of the region
 * writes before its end, and the region holds no barrier, exit or opaque instruction, it
 * goes anyway: every instruction there that can fault must be a plain app instruction and
 * gets the move as its replay (ir_insn_t.replay: a signal or fault at its start applies the
 * move to the context, runtime/signals.c), the others are marked inexact. At most one
 * replay per instruction. Returns 1 if k can go (the caller removes it). */
static int dce_replay(ir_trace_t *t, int k, const an_effects_t *e)
{
    const ir_insn_t *d = &t->insn[k];
    int dst, src, op;
    if (d->kind != IR_COPY || d->ncomp || d->replay || (d->flags & ~IR_F_INEXACT) || e->fdef || e->fundef ||
        e->may_fault || !(op = an_reg_move(d, &dst, &src)) || e->def != AN_REG(dst))
        return 0;
    an_regs_t regs = AN_REG(dst);
    int end = -1, nf = 0;
    for (int j = k + 1; j < t->n; j++) {
        const ir_insn_t *i = &t->insn[j];
        an_effects_t f;
        an_effects(i, &f);
        if ((f.use & regs) || f.barrier || f.opaque || f.exits) return 0;
        if (f.may_fault) {
            if (i->kind != IR_COPY || i->flags || i->replay || i->ncomp) return 0;
            nf++;
        }
        if (f.def & regs) { end = j; break; }
        if ((f.def | f.def_part) & AN_REG(src)) return 0;   /* the move would read another value */
    }
    if (end < 0 || !nf) return 0;
    uint16_t rp = IR_REPLAY(op, dst, src);
    for (int j = k + 1; j <= end; j++) {
        an_effects_t f;
        an_effects(&t->insn[j], &f);
        if (f.may_fault) t->insn[j].replay = rp;
        else t->insn[j].flags |= IR_F_INEXACT;
    }
    return 1;
}

static int dce_is_nop(const ir_insn_t *i)
{
    if (i->kind != IR_COPY) return 0;
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_NOP:
        return 1;                                       /* 90, 66 90, 0f 1f /0 */
    case ZYDIS_MNEMONIC_MOV:
        return i->zi.operand_width == 64 && i->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
               i->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
               i->ops[0].reg.value == i->ops[1].reg.value;
    default:
        return 0;
    }
}

/* dce_dead: i computes only registers and flags that are all dead after it. */
static int dce_dead(const ir_insn_t *i, an_regs_t live, an_flags_t flive)
{
    if (i->kind != IR_COPY) return 0;
    an_effects_t e;
    an_effects(i, &e);
    if (e.mem_write || e.may_fault || e.barrier || e.opaque || e.exits) return 0;
    if ((e.def | e.def_part) & AN_REG(AN_RSP)) return 0;
    if (!(e.def | e.def_part | e.fdef)) return 0;       /* no result: not a computation */
    return !((e.def | e.def_part) & live) && !((e.fdef | e.fundef) & flive);
}

/* dce_lea: `add`/`sub` of an immediate or `add` of a register, `inc`, `dec` on a 32- or
 * 64-bit register whose flags are dead become `lea` (no flags: the flags stay stale until
 * overwritten, an inexact region). Returns 1 if changed. */
static int dce_lea(ir_trace_t *t, int k, an_flags_t flive)
{
    ir_insn_t *i = &t->insn[k];
    const ZydisDecodedInstruction *in = &i->zi;
    if (i->kind != IR_COPY || (in->operand_width != 32 && in->operand_width != 64)) return 0;
    if (in->attributes & ZYDIS_ATTRIB_HAS_LOCK) return 0;
    if (i->ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER) return 0;
    int64_t disp = 0;
    ZydisRegister index = ZYDIS_REGISTER_NONE;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_INC: disp = 1; break;
    case ZYDIS_MNEMONIC_DEC: disp = -1; break;
    case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB:
        if (i->ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            disp = i->ops[1].imm.value.s;
            if (in->mnemonic == ZYDIS_MNEMONIC_SUB) disp = -disp;
            if (disp != (int32_t)disp) return 0;
        } else if (i->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && in->mnemonic == ZYDIS_MNEMONIC_ADD) {
            index = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, i->ops[1].reg.value);
            if (index == ZYDIS_REGISTER_RSP) return 0;           /* not an index register */
        } else {
            return 0;
        }
        break;
    default:
        return 0;
    }
    an_effects_t e;
    an_effects(i, &e);
    if ((e.fdef | e.fundef) & flive) return 0;
    ZydisRegister dst = i->ops[0].reg.value;
    ZydisRegister base = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, dst);
    if (base == ZYDIS_REGISTER_RSP) return 0;
    if (!an_inexact_region(t, k, 0, e.fdef | e.fundef, 0)) return 0;
    ZydisEncoderRequest req;
    bb_req_reg(&req, ZYDIS_MNEMONIC_LEA, 2, dst);
    req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
    req.operands[1].mem.base = base;
    req.operands[1].mem.index = index;
    req.operands[1].mem.scale = index == ZYDIS_REGISTER_NONE ? 0 : 1;
    req.operands[1].mem.displacement = disp;
    req.operands[1].mem.size = 8;                       /* (what Zydis takes for lea) */
    if (ir_set_insn(i, &req) != HP_OK) return 0;
    an_inexact_region(t, k, 0, e.fdef | e.fundef, 1);
    return 1;
}

int opt_pass_dce(ir_trace_t *t)
{
    int removed = 0;
    if (t->n > 1) {                    /* the head's entry stays: its map entry is the entry */
        int w = 1;                     /* (one pass: removing one by one moves the rest each time) */
        for (int k = 1; k < t->n; k++) {
            if (dce_is_nop(&t->insn[k])) { heap_free(t->insn[k].comp); removed++; continue; }
            if (w != k) hp_memcpy(&t->insn[w], &t->insn[k], sizeof(ir_insn_t));
            w++;
        }
        t->n = w;
    }
    an_regs_t *live = heap_alloc(sizeof(*live) * (size_t)t->n);
    an_flags_t *flive = heap_alloc(sizeof(*flive) * (size_t)t->n);
    for (int round = 0; live && flive && round < DCE_ROUNDS && t->n > 1; round++) {
        int changed = 0, n = t->n, top = n;
        an_liveness(t, live, flive);
        /* backwards; what stays gathers at [top, n) and the instruction looked at goes just
           below it (to p), so the checks that scan forward from it see the trace as if every
           removal so far had been made: the same result without moving the rest each time */
        for (int k = n - 1; k >= 1; k--) {
            int p = top - 1;
            if (p != k) hp_memcpy(&t->insn[p], &t->insn[k], sizeof(ir_insn_t));
            ir_insn_t *i = &t->insn[p];
            int gone = 0;
            if (!dce_dead(i, live[k], flive[k])) {
                if (round == 0) removed += dce_lea(t, p, flive[k]);   /* dead flags */
            } else {
                an_effects_t e;
                an_effects(i, &e);
                if (an_inexact_region(t, p, e.def | e.def_part, e.fdef | e.fundef, 1)) gone = 1;
                else if (dce_replay(t, p, &e)) gone = 1;
                else if (round == 0) removed += dce_lea(t, p, flive[k]);   /* still: dead flags */
            }
            if (gone) {
                heap_free(i->comp);
                removed++;
                changed = 1;
            } else {
                top = p;
            }
        }
        ir_close_gap(t, 1, top);
        if (!changed) break;
    }
    heap_free(live);
    heap_free(flive);
    return removed;
}
