/* dt_fuzz.c — the long run of the differential tester (make fuzz; overnight runs):
 *   difftest_fuzz [--opt LIST] [--mutate] [--peel] [--trip] [--keep-going] [--quiet] [SEED [COUNT]]
 * runs the cases SEED .. SEED+COUNT-1 (default 1 and 1,000,000; seeds may be hex). A case
 * is reproduced alone with `difftest_fuzz SEED 1` (the failure report prints that line).
 * Exit status: 0 when every case passed, 1 otherwise. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "difftest.h"
#include "runtime.h"

static double dt_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void dt_summary(double secs)
{
    const dt_stats_t *s = &dt_stats;
    fprintf(stderr,
            "difftest: %lu cases (%lu loops, %lu random paths), %lu runs, %.1f s; "
            "%lu instructions, %lu on traces; exits: %lu side, %lu at the end, %lu back to the "
            "head; %lu native tails; dce removed %lu, fuse fused %lu, cse removed %lu, sink moved %lu, flagcheck %lu, xfwd %lu; %lu failures, %lu errors\n",
            (unsigned long)s->cases, (unsigned long)s->loops, (unsigned long)s->random_paths,
            (unsigned long)s->runs, secs, (unsigned long)s->insns, (unsigned long)s->trace_insns,
            (unsigned long)s->side_exits, (unsigned long)s->end_exits, (unsigned long)s->reentries,
            (unsigned long)s->native_tails, (unsigned long)hp_rt.stats.opt_dce, (unsigned long)hp_rt.stats.opt_fuse,
            (unsigned long)hp_rt.stats.opt_cse, (unsigned long)hp_rt.stats.opt_sink,
            (unsigned long)hp_rt.stats.opt_flagcheck, (unsigned long)hp_rt.stats.opt_xfwd, (unsigned long)s->failures, (unsigned long)s->errors);
    fprintf(stderr,
            "difftest: calls that return: %lu in %lu cases; traces: %lu returning on the path (%lu loops), "
            "%lu retpair, %lu promoted (%lu framed: a call on the path; %lu with the frame "
            "check; %lu with stores through pointers checked); exits: %lu by the frame check, %lu by a lookup\n",
            (unsigned long)s->funcs, (unsigned long)s->func_cases, (unsigned long)s->func_traces,
            (unsigned long)s->func_loop_traces, (unsigned long)s->retpair_traces, (unsigned long)s->promo_traces,
            (unsigned long)s->framed_promo_traces, (unsigned long)s->guarded_traces, (unsigned long)s->alias_traces,
            (unsigned long)s->guard_exits, (unsigned long)s->lookup_exits);
    fprintf(stderr,
            "difftest: scalar doubles: %lu cases (%lu with VEX); traces: %lu with an xmm promotion "
            "(%lu framed), %lu xmm registers borrowed, %lu traces below xmm15; %lu exits from them\n",
            (unsigned long)s->sse_cases, (unsigned long)s->vex_cases, (unsigned long)s->xpromo_traces,
            (unsigned long)s->xpromo_framed, (unsigned long)s->xpromo_regs, (unsigned long)s->xpromo_below15,
            (unsigned long)s->xpromo_exits);
    fprintf(stderr, "difftest: trip counts: %lu traces counted, %lu exits where their counters ran out\n",
            (unsigned long)s->counted_traces, (unsigned long)s->trip_exits);
}

int main(int argc, char **argv)
{
    uint64_t seed = 1, count = 1000000;
    int pos = 0, keep_going = 0, quiet = 0;
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--opt") && k + 1 < argc) dt_opts.opt = argv[++k];
        else if (!strcmp(argv[k], "--mutate")) dt_opts.mutate = 1;
        else if (!strcmp(argv[k], "--peel")) dt_opts.peel = 1;
        else if (!strcmp(argv[k], "--trip")) dt_opts.trip = 1;
        else if (!strcmp(argv[k], "--keep-going")) keep_going = 1;
        else if (!strcmp(argv[k], "--quiet")) quiet = 1;
        else if (argv[k][0] != '-' && pos == 0) seed = strtoull(argv[k], 0, 0), pos++;
        else if (argv[k][0] != '-' && pos == 1) count = strtoull(argv[k], 0, 0), pos++;
        else {
            fprintf(stderr, "usage: %s [--opt LIST] [--mutate] [--peel] [--trip] [--keep-going] [--quiet] [SEED [COUNT]]\n", argv[0]);
            return 2;
        }
    }
    if (dt_setup()) return 2;
    if (quiet) dt_log = fopen("/dev/null", "w");          /* the summary alone */
    double t0 = dt_now(), last = t0;
    uint64_t bad = 0, done = 0;
    while (done < count) {
        uint64_t n = count - done < 1000 ? count - done : 1000;
        dt_opts.max_failures = keep_going ? 0 : (int)(5 - bad);
        bad += dt_run_range(seed + done, n);
        done += n;
        if (!keep_going && bad >= 5) {
            fprintf(stderr, "difftest: stopping after %lu failing cases (--keep-going runs on)\n", (unsigned long)bad);
            break;
        }
        if (dt_now() - last > 30) {
            last = dt_now();
            fprintf(stderr, "difftest: %lu / %lu cases, %lu failing, %.0f s\n", (unsigned long)done,
                    (unsigned long)count, (unsigned long)bad, last - t0);
        }
    }
    dt_summary(dt_now() - t0);
    return bad ? 1 : 0;
}
