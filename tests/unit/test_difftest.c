/* test_difftest.c — the differential tester of the trace optimizer (tests/difftest/): 3000
 * deterministic random instruction sequences run natively and through the real trace
 * pipeline with every pass on must end in the same registers, flags and memory; the runs
 * must reach side exits, loop back edges and native tails (else the tester tests little);
 * and traces built from the sequence with one instruction replaced by a nop must be caught
 * (else the tester cannot fail). `make fuzz` runs the same cases by the million. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>
#include "difftest.h"
#include "runtime.h"

#define DT_UNIT_CASES 3000

static void test_native_and_trace_agree(void **s)
{
    (void)s;
    dt_opts.max_failures = 3;
    uint64_t bad = dt_run_range(1, DT_UNIT_CASES);
    fprintf(stderr, "difftest: %lu cases, %lu runs: %lu side exits, %lu loop back edges, %lu native tails\n",
            (unsigned long)dt_stats.cases, (unsigned long)dt_stats.runs, (unsigned long)dt_stats.side_exits,
            (unsigned long)dt_stats.reentries, (unsigned long)dt_stats.native_tails);
    assert_int_equal(bad, 0);
    assert_int_equal(dt_stats.errors, 0);
    assert_true(dt_stats.side_exits > DT_UNIT_CASES / 4);
    assert_true(dt_stats.loops > DT_UNIT_CASES / 10);      /* loops (they go round inside */
                                                           /* their trace: few re-entries) */
    assert_true(dt_stats.end_exits > DT_UNIT_CASES);
}

/* The same with promoted loops peeled (--peel: the first round unpromoted, the frame check
 * after it): other cases, the same agreement. */
static void test_peeled_agree(void **s)
{
    (void)s;
    dt_opts.max_failures = 3;
    hp_rt.opts.peel = dt_opts.peel = 1;
    uint64_t guards = dt_stats.guard_exits;
    uint64_t bad = dt_run_range(3000001, DT_UNIT_CASES / 3);
    hp_rt.opts.peel = dt_opts.peel = 0;
    assert_int_equal(bad, 0);
    assert_int_equal(dt_stats.errors, 0);
    assert_true(dt_stats.guard_exits > guards);          /* frame checks after a round */
}

/* The same with promotable loops built counted first (--trip: the loop unpromoted, with trip
 * counters that here run out after 0..2 entries or 0..4 rounds and leave at the head). */
static void test_counted_agree(void **s)
{
    (void)s;
    dt_opts.max_failures = 3;
    hp_rt.opts.trip = dt_opts.trip = 1;
    uint64_t counted = dt_stats.counted_traces, trips = dt_stats.trip_exits;
    uint64_t bad = dt_run_range(5000001, DT_UNIT_CASES / 3);
    hp_rt.opts.trip = dt_opts.trip = 0;
    fprintf(stderr, "difftest: %lu traces counted, %lu exits where the counters ran out\n",
            (unsigned long)(dt_stats.counted_traces - counted), (unsigned long)(dt_stats.trip_exits - trips));
    assert_int_equal(bad, 0);
    assert_int_equal(dt_stats.errors, 0);
    assert_true(dt_stats.counted_traces - counted > DT_UNIT_CASES / 60);
    assert_true(dt_stats.trip_exits - trips > DT_UNIT_CASES / 30);
}

static void test_a_wrong_trace_is_caught(void **s)
{
    (void)s;
    FILE *log = dt_log;
    dt_log = fopen("/dev/null", "w");
    dt_opts.mutate = 1;
    dt_opts.max_failures = 0;
    uint64_t caught = dt_run_range(1000001, 200);
    dt_opts.mutate = 0;
    fclose(dt_log);
    dt_log = log;
    fprintf(stderr, "difftest: %lu of 200 wrong traces caught\n", (unsigned long)caught);
    assert_true(caught >= 120);          /* a value overwritten before anyone looks is not */
}

int main(void)
{
    if (dt_setup()) return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_and_trace_agree),
        cmocka_unit_test(test_peeled_agree),
        cmocka_unit_test(test_counted_agree),
        cmocka_unit_test(test_a_wrong_trace_is_caught),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
