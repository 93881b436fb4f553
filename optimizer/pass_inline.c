/* pass_inline.c — call, return and indirect branch inlining. The trace IR already follows
 * the recorded path through them (ir.c): a direct call keeps its architectural effect (the
 * app return address pushed, rsp) as IR_CALL and the callee follows; a return, indirect
 * jump or indirect call is an IR_IND whose target is compared inline with the recorded one
 * (the popped return address for a ret, so longjmp and exceptions leave through the
 * lookup). These passes count the sites; turned off, they end the trace at the first call
 * (an exit to the callee after the push) or the first indirect branch (its lookup), as
 * MAMBO-X64 does to keep the hardware return predictor working.
 * Exactness: no instruction changes. */
#include "opt.h"

static int inl_count(const ir_trace_t *t, int kind)
{
    int n = 0;
    for (int k = 0; k < t->n; k++)
        if (t->insn[k].kind == kind && (kind != IR_IND || t->insn[k].target)) n++;
    return n;
}

static int inl_cut(ir_trace_t *t, int kind)
{
    for (int k = 0; k < t->n; k++)
        if (t->insn[k].kind == kind && (kind != IR_IND || t->insn[k].target) &&
            !(kind == IR_CALL && k == t->n - 2)) {       /* a call that ends it already */
            ir_cut(t, k);
            return 1;
        }
    return 0;
}

int opt_pass_inline_calls(ir_trace_t *t) { return inl_count(t, IR_CALL); }
int opt_pass_inline_ind(ir_trace_t *t) { return inl_count(t, IR_IND); }
int opt_cut_calls(ir_trace_t *t) { return inl_cut(t, IR_CALL); }
int opt_cut_ind(ir_trace_t *t) { return inl_cut(t, IR_IND); }
