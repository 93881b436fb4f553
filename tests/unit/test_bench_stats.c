/* test_bench_stats.c — the statistics of `hotpath bench`: median of odd and even counts
 * (input left unsorted and untouched), min/max, ratio of medians, the spread over runs
 * paired by round (not over sorted runs), unequal counts, zero times, geometric mean. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "bench_stats.h"

#define EPS 1e-12

static void test_median(void **s)
{
    (void)s;
    double odd[] = { 5, 1, 3 };
    assert_float_equal(bench_stats_median(odd, 3), 3, EPS);
    double even[] = { 4, 1, 3, 2 };
    assert_float_equal(bench_stats_median(even, 4), 2.5, EPS);
    assert_float_equal(even[0], 4, EPS);               /* not sorted in place */
    assert_float_equal(even[1], 1, EPS);
    double one[] = { 7.25 };
    assert_float_equal(bench_stats_median(one, 1), 7.25, EPS);
    assert_float_equal(bench_stats_median(one, 0), 0, EPS);
    double dup[] = { 2, 2, 9, 2, 1 };
    assert_float_equal(bench_stats_median(dup, 5), 2, EPS);
    double big[100];                                   /* more than the on-stack copy */
    for (int i = 0; i < 100; i++) big[i] = 100 - i;    /* 100 .. 1 */
    assert_float_equal(bench_stats_median(big, 100), 50.5, EPS);
    assert_float_equal(bench_stats_median(big, 99), 51, EPS);   /* 100 .. 2 */
}

static void test_min_max(void **s)
{
    (void)s;
    double v[] = { 3, -1, 8, 8, 0.5 };
    assert_float_equal(bench_stats_min(v, 5), -1, EPS);
    assert_float_equal(bench_stats_max(v, 5), 8, EPS);
    assert_float_equal(bench_stats_min(v, 1), 3, EPS);
    assert_float_equal(bench_stats_max(v, 0), 0, EPS);
}

static void test_compare_pairs_by_round(void **s)
{
    (void)s;
    /* Round 2 was slow for both: pairing by round sees ratio 1.1 there, not 2.2/1.0;
     * sorted or reversed pairing would give 0.96..1.5 or 1.1..1.76. */
    double native[] = { 1.0, 2.0, 1.25 };
    double x[] = { 1.2, 2.2, 1.5 };
    bench_stats_t st;
    bench_stats_compare(native, 3, x, 3, &st);
    assert_float_equal(st.median, 1.5, EPS);
    assert_float_equal(st.min, 1.2, EPS);
    assert_float_equal(st.max, 2.2, EPS);
    assert_float_equal(st.ratio, 1.5 / 1.25, EPS);
    assert_float_equal(st.ratio_min, 1.1, EPS);
    assert_float_equal(st.ratio_max, 1.2, EPS);
    assert_int_equal(st.pairs, 3);
}

static void test_compare_even_and_unequal(void **s)
{
    (void)s;
    double native[] = { 2, 4, 2, 4 };                  /* median 3 */
    double x[] = { 3, 3, 6, 6, 100 };                  /* median 6; the 5th has no pair */
    bench_stats_t st;
    bench_stats_compare(native, 4, x, 5, &st);
    assert_float_equal(st.ratio, 2.0, EPS);
    assert_int_equal(st.pairs, 4);
    assert_float_equal(st.ratio_min, 0.75, EPS);       /* 3/4 */
    assert_float_equal(st.ratio_max, 3.0, EPS);        /* 6/2, not 100/x */
    assert_float_equal(st.max, 100, EPS);              /* but the median and max see it */
}

static void test_compare_self_and_zero(void **s)
{
    (void)s;
    double native[] = { 1.0, 1.25 };
    bench_stats_t st;
    bench_stats_compare(native, 2, native, 2, &st);
    assert_float_equal(st.ratio, 1.0, EPS);
    assert_float_equal(st.ratio_min, 1.0, EPS);
    assert_float_equal(st.ratio_max, 1.0, EPS);
    double zero[] = { 0, 0 }, x[] = { 1, 2 };
    bench_stats_compare(zero, 2, x, 2, &st);           /* no division by zero */
    assert_float_equal(st.ratio, 0, EPS);
    assert_int_equal(st.pairs, 0);
    bench_stats_compare(native, 2, x, 0, &st);         /* a variant with no runs */
    assert_int_equal(st.pairs, 0);
    assert_float_equal(st.median, 0, EPS);
}

static void test_geomean(void **s)
{
    (void)s;
    double v[] = { 2, 8, 0, -1 };
    size_t used;
    assert_float_equal(bench_stats_geomean(v, 4, &used), 4, 1e-9);
    assert_int_equal(used, 2);
    assert_float_equal(bench_stats_geomean(v + 2, 2, &used), 0, EPS);
    assert_int_equal(used, 0);
    double one[] = { 1.44 };
    assert_float_equal(bench_stats_geomean(one, 1, NULL), 1.44, 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_median),
        cmocka_unit_test(test_min_max),
        cmocka_unit_test(test_compare_pairs_by_round),
        cmocka_unit_test(test_compare_even_and_unequal),
        cmocka_unit_test(test_compare_self_and_zero),
        cmocka_unit_test(test_geomean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
