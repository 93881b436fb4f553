/* opt.c — the pass manager (opt.h): the pass table from passes.def, --opt=LIST parsing, and
 * the fixed-order run over a trace's IR (the list is parsed by opt_parse.c).
 * Invariant: a pass that is off never runs; each pass's count goes to its own statistic. */
#include "opt.h"
#include "runtime.h"

void opt_run(ir_trace_t *t)
{
    static long mask = -2;
    if (mask == -2) {
        char bad[32];
        mask = opt_parse(hp_rt.opts.opt, bad, sizeof(bad));
        if (mask < 0) mask = 0;            /* the hotpath command refuses bad lists first */
    }
    int p = 0;
    opt_pass_fn off_fn;
#define PASS(name, fn, off, stat, help) \
    if (mask & (1L << p)) hp_rt.stats.stat += (uint64_t)fn(t); \
    else if ((off_fn = (off))) off_fn(t); \
    p++;
#include "passes.def"
#undef PASS
}
