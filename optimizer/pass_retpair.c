/* pass_retpair.c — a return whose check cannot fail goes: when the trace called the
 * function itself (an IR_CALL pushed the return address) and nothing since can have written
 * that stack cell (optimizer/frame.h: every store in between is at a known stack offset
 * elsewhere, no system call, no store through an unknown pointer), the ret's inline check
 * against the recorded return address always passes, so the ret becomes `lea 8(%rsp),%rsp`
 * (8 + its immediate): rsp moves as the ret moves it, no register or flag changes, and the
 * path goes on at the return address as it did. -O0 code pays ~9 instructions (two spills
 * through gs, a 64-bit compare) at every inlined return otherwise.
 * Exactness: exact at every instruction (the lea stands at the ret's app pc, where the state
 * is the one before the ret; after it, the state at the return address).
 * Only with one thread (ir_trace_t.threads off): another thread could write the cell. */
#include "opt.h"
#include "frame.h"
#include "builder_int.h"

int opt_pass_retpair(ir_trace_t *t)
{
    if (t->threads) return 0;
    fr_info_t f;
    if (fr_track(t, &f) != HP_OK) return 0;
    int changed = 0;
    for (int k = 0; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        if (i->kind != IR_IND || i->zi.mnemonic != ZYDIS_MNEMONIC_RET || !f.at[k].ret_ok) continue;
        int64_t pop = 8 + (i->zi.operand_count_visible ? (int64_t)i->ops[0].imm.value.u : 0);
        ZydisEncoderRequest req;
        bb_req_reg(&req, ZYDIS_MNEMONIC_LEA, 2, ZYDIS_REGISTER_RSP);
        req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
        req.operands[1].mem.base = ZYDIS_REGISTER_RSP;
        req.operands[1].mem.displacement = pop;
        req.operands[1].mem.size = 8;
        ir_insn_t n = *i;
        n.kind = IR_COPY;
        n.target = 0;
        if (ir_set_insn(&n, &req) != HP_OK) continue;
        *i = n;
        changed++;
        t->one_thread = 1;
    }
    fr_free(&f);
    return changed;
}
