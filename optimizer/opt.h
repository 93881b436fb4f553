/* opt.h — the pass manager: runs the enabled passes (passes.def, --opt=LIST, --no-opt) over
 * a trace's IR in a fixed order and counts what each changed (opt_<pass> statistics).
 * Invariant: passes are deterministic functions of the IR (no clocks, no addresses of
 * runtime memory), so the same path always gives the same code. */
#ifndef HOTPATH_OPT_H
#define HOTPATH_OPT_H
#include "ir.h"

/* opt_pass_fn: transform t in place; returns how many instructions it removed or changed. */
typedef int (*opt_pass_fn)(ir_trace_t *t);

#define PASS(name, fn, off, stat, help) int fn(ir_trace_t *t);
#include "passes.def"
#undef PASS
int opt_cut_calls(ir_trace_t *t);
int opt_cut_ind(ir_trace_t *t);

/* opt_parse: which passes `list` turns on, as a bit mask in passes.def order. The trace
 * formation passes (inline_calls, inline_ind, straighten: what issue #4's traces do) are
 * on unless removed; words, left to right: "all" (every pass), "none" (formation only),
 * NAME (add), -NAME (remove). "--no-opt" is "none"; "--opt=all,-promote" is everything
 * but promote; "--opt=none,-inline_calls,-inline_ind,-straighten" runs no pass at all.
 * -1 (and *bad = the word) when a word is not a pass. No libc: the hotpath command and the
 * runtime both call it. */
long opt_parse(const char *list, char *bad, int bad_len);

/* opt_run: run the passes enabled by hp_rt.opts.opt over t, adding to their statistics. */
void opt_run(ir_trace_t *t);

#endif
