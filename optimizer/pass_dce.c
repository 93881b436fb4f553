/* pass_dce.c — dead code and dead flags: instructions with no effect on the app state are removed: the
 * no-op forms compilers use for alignment (nop, nopw/nopl, mov of a 64-bit register to
 * itself), and computations whose every result (registers and flags) is overwritten before
 * any read or exit, that write no memory and cannot fault.
 * Dead flags: `add`/`sub`/`inc`/`dec` of a register whose flags are dead become `lea`.
 * Exactness: a no-op changes nothing. A removed computation leaves its registers and flags
 * stale until they are overwritten; that region may hold no instruction that can fault, no
 * barrier and no exit, and is marked inexact (an_inexact_region), so signals, faults and
 * exits always see the native state. */
#include "opt.h"
#include "analysis.h"
#include "heap.h"
#include "builder_int.h"

#define DCE_ROUNDS 4

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
    for (int k = 1; k < t->n;) {       /* the head's entry stays: its map entry is the entry */
        if (dce_is_nop(&t->insn[k])) { ir_remove(t, k); removed++; continue; }
        k++;
    }
    an_regs_t *live = heap_alloc(sizeof(*live) * (size_t)t->n);
    an_flags_t *flive = heap_alloc(sizeof(*flive) * (size_t)t->n);
    for (int round = 0; live && flive && round < DCE_ROUNDS; round++) {
        int changed = 0;
        an_liveness(t, live, flive);
        for (int k = t->n - 1; k >= 1; k--) {           /* backwards: indices below stay valid */
            ir_insn_t *i = &t->insn[k];
            if (!dce_dead(i, live[k], flive[k])) {
                if (round == 0) removed += dce_lea(t, k, flive[k]);   /* dead flags */
                continue;
            }
            an_effects_t e;
            an_effects(i, &e);
            if (!an_inexact_region(t, k, e.def | e.def_part, e.fdef | e.fundef, 1)) {
                if (round == 0) removed += dce_lea(t, k, flive[k]);   /* still: dead flags */
                continue;
            }
            ir_remove(t, k);
            removed++;
            changed = 1;
        }
        if (!changed) break;
    }
    heap_free(live);
    heap_free(flive);
    return removed;
}
