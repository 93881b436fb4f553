/* bench_stats.h — the statistics of `hotpath bench`: median, min, max, the ratio of a
 * variant's times to native's with its spread, the geometric mean. Pure functions over
 * arrays of seconds; no I/O, so tests/unit/test_bench_stats.c covers all of it. */
#ifndef HOTPATH_BENCH_STATS_H
#define HOTPATH_BENCH_STATS_H
#include <stddef.h>

/* Summary of one variant against native over paired rounds. */
typedef struct {
    double median;      /* out: median of the variant's times, seconds */
    double min, max;    /* out: smallest and largest of the variant's times */
    double ratio;       /* out: median(variant) / median(native); 0 if native's median is 0 */
    double ratio_min;   /* out: smallest of time[i] / native[i] over the pairs */
    double ratio_max;   /* out: largest of time[i] / native[i] over the pairs */
    size_t pairs;       /* out: how many pairs the spread is over (min of the two counts,
                           less pairs whose native time is 0) */
} bench_stats_t;

/* bench_stats_median: median of v[0..n) (mean of the middle two for an even n); v is not
 * modified. Returns 0 for n == 0. */
double bench_stats_median(const double *v, size_t n);

/* bench_stats_min, bench_stats_max: smallest / largest of v[0..n); 0 for n == 0. */
double bench_stats_min(const double *v, size_t n);
double bench_stats_max(const double *v, size_t n);

/* bench_stats_compare: summarise x[0..nx) (a variant's timed runs, in round order) against
 * native[0..nn) (native's, in round order). Run i of the variant is paired with run i of
 * native (both come from the same interleaved round), which is what the spread is over:
 * a pair sees the same state of the machine, two medians need not. Extra runs on either
 * side are left out of the pairs but not of the medians. */
void bench_stats_compare(const double *native, size_t nn, const double *x, size_t nx,
                         bench_stats_t *out);

/* bench_stats_geomean: geometric mean of the positive values of v[0..n); values <= 0
 * (no figure) are skipped. *used (if not NULL) gets how many were used. 0 if none. */
double bench_stats_geomean(const double *v, size_t n, size_t *used);

#endif
