/* pass_fuse.c — two adjacent app instructions that together do what one instruction does
 * become that instruction. The pair -O0 code writes for every int index it widens,
 * `mov X,%eax; cltq` (X a 32-bit register or memory), becomes `movslq X,%rax`: rax ends as
 * the sign extension of X either way, flags are untouched by all three. After promotion X
 * is often a borrowed register (`mov %r11d,%eax; cltq`); matmul.O0's inner loop has three
 * such pairs in 24 instructions, fannkuch.O0's four in 40.
 * Exactness: exact at every instruction. The fused instruction stands at the first's app
 * pc; the state between the two (rax zero-extended) is never visible: nothing can leave,
 * fault or take a signal between them (a signal lands before the pair, at the first's pc,
 * or after it); the only access that can fault is X's read, which faults before anything is
 * written, with the state before the pair. Only plain app instructions are fused (no pass
 * inserted or marked either); a trace's head is never the second of a pair (a loop goes
 * back to instruction 0, which has no first). Runs after promote and rle, which turn
 * loads of X into register moves. */
#include "opt.h"
#include "builder_int.h"
#include "heap.h"

/* fs_widen: i is `mov r/m32,%eax` (the 8b form: a register or memory source, no immediate). */
static int fs_widen(const ir_insn_t *i)
{
    if (i->kind != IR_COPY || i->flags || i->ncomp || i->replay || i->zi.mnemonic != ZYDIS_MNEMONIC_MOV ||
        i->zi.operand_width != 32 || i->zi.operand_count_visible != 2 || i->zi.address_width != 64)
        return 0;                            /* (67h: the encoder request would lose it) */
    if (i->ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || i->ops[0].reg.value != ZYDIS_REGISTER_EAX)
        return 0;
    const ZydisDecodedOperand *s = &i->ops[1];
    if (s->type == ZYDIS_OPERAND_TYPE_REGISTER)
        return ZydisRegisterGetClass(s->reg.value) == ZYDIS_REGCLASS_GPR32;
    return s->type == ZYDIS_OPERAND_TYPE_MEMORY && s->mem.type == ZYDIS_MEMOP_TYPE_MEM && s->size == 32;
}

static int fs_is_cltq(const ir_insn_t *i)
{
    return i->kind == IR_COPY && !i->flags && !i->ncomp && i->zi.mnemonic == ZYDIS_MNEMONIC_CDQE;
}

/* fs_movslq: rewrite i (`mov X,%eax`) as `movslq X,%rax`; RIP-relative X keeps its absolute
 * address (ir_set_insn encodes as if at app_pc). */
static int fs_movslq(ir_insn_t *i)
{
    ZydisEncoderRequest req;
    if (!ir_request(i, &req)) return 0;
    req.mnemonic = ZYDIS_MNEMONIC_MOVSXD;
    req.operands[0].reg.value = ZYDIS_REGISTER_RAX;
    req.operand_size_hint = ZYDIS_OPERAND_SIZE_HINT_64;
    ir_insn_t n = *i;
    if (ir_set_insn(&n, &req) != HP_OK || n.zi.mnemonic != ZYDIS_MNEMONIC_MOVSXD || n.zi.operand_width != 64 ||
        n.zi.address_width != i->zi.address_width)
        return 0;
    *i = n;
    return 1;
}

int opt_pass_fuse(ir_trace_t *t)
{
    int changed = 0, o = 0;                  /* one pass, compacting (traces run to thousands
                                                of instructions: no removal one by one) */
    for (int k = 0; k < t->n; k++, o++) {
        if (o != k) hp_memcpy(&t->insn[o], &t->insn[k], sizeof(ir_insn_t));
        if (k + 1 < t->n && fs_widen(&t->insn[o]) && fs_is_cltq(&t->insn[k + 1]) && fs_movslq(&t->insn[o])) {
            k++;                             /* the cltq goes (no compensation list: fs_is_cltq) */
            changed++;
        }
    }
    t->n = o;
    return changed;
}
