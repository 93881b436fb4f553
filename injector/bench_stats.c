/* bench_stats.c — median, min/max, paired ratios and geometric mean for `hotpath bench`.
 * Invariant: no function modifies its input arrays or keeps a pointer to them. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "bench_stats.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_stats_median(const double *v, size_t n)
{
    if (n == 0) return 0;
    double small[64], *a = n <= 64 ? small : malloc(n * sizeof(*a));
    if (!a) return 0;
    memcpy(a, v, n * sizeof(*a));
    qsort(a, n, sizeof(*a), cmp_double);
    double m = n % 2 ? a[n / 2] : (a[n / 2 - 1] + a[n / 2]) / 2;
    if (a != small) free(a);
    return m;
}

double bench_stats_min(const double *v, size_t n)
{
    double m = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] < m) m = v[i];
    return m;
}

double bench_stats_max(const double *v, size_t n)
{
    double m = n ? v[0] : 0;
    for (size_t i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

void bench_stats_compare(const double *native, size_t nn, const double *x, size_t nx,
                         bench_stats_t *out)
{
    memset(out, 0, sizeof(*out));
    out->median = bench_stats_median(x, nx);
    out->min = bench_stats_min(x, nx);
    out->max = bench_stats_max(x, nx);
    double base = bench_stats_median(native, nn);
    out->ratio = base > 0 ? out->median / base : 0;
    size_t n = nn < nx ? nn : nx;
    for (size_t i = 0; i < n; i++) {
        if (native[i] <= 0) continue;
        double r = x[i] / native[i];
        if (out->pairs == 0 || r < out->ratio_min) out->ratio_min = r;
        if (out->pairs == 0 || r > out->ratio_max) out->ratio_max = r;
        out->pairs++;
    }
}

double bench_stats_geomean(const double *v, size_t n, size_t *used)
{
    double logsum = 0;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] <= 0) continue;
        logsum += log(v[i]);
        k++;
    }
    if (used) *used = k;
    return k ? exp(logsum / (double)k) : 0;
}
