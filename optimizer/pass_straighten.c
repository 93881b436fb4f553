/* pass_straighten.c — straightening. The IR is straight already (ir.c: direct jumps on the
 * path are gone, conditional branches fall through in the recorded direction, exit stubs
 * and lookups are out of line). This pass handles the end of a loop trace: when the last
 * branch goes back to the head and its fall-through is the final exit, the branch is
 * inverted so the loop falls through to a jump back to the head (the form loop promotion
 * needs); and a conditional branch whose exit is the very next instruction's address on
 * the path is dropped (both outcomes go on there).
 * Exactness: branches change no app state; the jcc's flags reads are only removed. */
#include "opt.h"

int opt_pass_straighten(ir_trace_t *t)
{
    int changed = 0;
    for (int k = 0; k + 1 < t->n;) {
        ir_insn_t *i = &t->insn[k];
        if (i->kind == IR_JCC && !(t->insn[k + 1].flags & IR_F_NEW) &&
            t->insn[k + 1].kind != IR_EXIT && i->target == t->insn[k + 1].app_pc) {
            ir_remove(t, k);                            /* both outcomes: the next one */
            changed++;
            continue;
        }
        k++;
    }
    if (t->n >= 2) {
        ir_insn_t *j = &t->insn[t->n - 2], *x = &t->insn[t->n - 1];
        if (j->kind == IR_JCC && x->kind == IR_EXIT && j->target == t->head && x->target != t->head) {
            uint64_t fall = x->target;
            j->cc ^= 1;                                  /* leave when the loop ends */
            j->target = fall;
            x->target = t->head;                         /* and go round */
            x->app_pc = t->head;
            changed++;
        }
    }
    return changed;
}
