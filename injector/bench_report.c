/* bench_report.c — what `hotpath bench` prints and writes: the per-variant table of one
 * program, the side-by-side table of a suite with the geometric mean per variant, and the
 * JSON file of every run. Invariants: only timed runs enter the statistics; a variant with
 * a mismatching run shows MISMATCH in place of its ratio and is left out of the geometric
 * mean, so a wrong result never reads as a speed. */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) { fputs("hotpath: error: out of memory\n", stderr); exit(1); }
    return p;
}

void bench_report_summarise(const bench_t *b, bench_case_t *c)
{
    size_t nv = b->nvariants;
    free(c->stats);
    free(c->mismatches);
    free(c->total);
    c->stats = xcalloc(nv, sizeof(*c->stats));
    c->mismatches = xcalloc(nv, sizeof(*c->mismatches));
    c->total = xcalloc(nv, sizeof(*c->total));
    double *t = xcalloc(c->nruns, sizeof(double) * nv);   /* t[v * nruns + i] */
    size_t *n = xcalloc(nv, sizeof(size_t));
    for (size_t i = 0; i < c->nruns; i++) {
        const bench_run_t *r = &c->runs[i];
        c->total[r->variant]++;
        if (!r->match) c->mismatches[r->variant]++;
        if (!r->warmup) t[(size_t)r->variant * c->nruns + n[r->variant]++] = r->secs;
    }
    for (size_t v = 0; v < nv; v++)
        bench_stats_compare(t, n[0], t + v * c->nruns, n[v], &c->stats[v]);
    free(t);
    free(n);
}

/* spread: "lo-hi" of the paired ratios, or "-" with no pair. */
static const char *spread(const bench_stats_t *s, char *buf, size_t cap)
{
    if (s->pairs == 0) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%.3f-%.3f", s->ratio_min, s->ratio_max);
    return buf;
}

void bench_report_case(FILE *f, const bench_t *b, const bench_case_t *c)
{
    fprintf(f, "%-12s %9s %9s %9s %7s  %-17s  %s\n", "variant", "median_s", "min_s", "max_s",
            "ratio", "ratio min-max", "status");
    if (c->native_failed) {
        fprintf(f, "%-12s  native run failed (exit %d): nothing measured\n", c->name, c->ref.exit_code);
        return;
    }
    for (size_t v = 0; v < b->nvariants; v++) {
        const bench_stats_t *s = &c->stats[v];
        char sp[48], st[48];
        if (c->mismatches[v]) snprintf(st, sizeof(st), "MISMATCH %d/%d runs", c->mismatches[v], c->total[v]);
        else snprintf(st, sizeof(st), "ok");
        fprintf(f, "%-12s %9.3f %9.3f %9.3f %7.3f  %-17s  %s\n", b->variants[v].name, s->median,
                s->min, s->max, s->ratio, v == 0 ? "-" : spread(s, sp, sizeof(sp)), st);
    }
}

/* The suite table: one column per non-native variant, wide enough for
 * "12.345 (10.000-15.000)" (valgrind, qemu); the last one unpadded (no trailing blanks). */
static int column_width(const bench_t *b, size_t v)
{
    int w = (int)strlen(b->variants[v].name);
    if (v + 1 == b->nvariants) return 0;
    return w < 22 ? 22 : w;
}

static void suite_header(FILE *f, const bench_t *b)
{
    fprintf(f, "%-18s %9s", "benchmark", "native_s");
    for (size_t v = 1; v < b->nvariants; v++) fprintf(f, "  %-*s", column_width(b, v), b->variants[v].name);
    fputc('\n', f);
}

void bench_report_suite_row(FILE *f, const bench_t *b, const bench_case_t *c)
{
    if (c->native_failed) {
        fprintf(f, "%-18s %9s  NATIVE-FAIL (exit %d)\n", c->name, "-", c->ref.exit_code);
        return;
    }
    fprintf(f, "%-18s %9.3f", c->name, c->stats[0].median);
    for (size_t v = 1; v < b->nvariants; v++) {
        char cell[80];
        const bench_stats_t *s = &c->stats[v];
        if (c->mismatches[v]) snprintf(cell, sizeof(cell), "MISMATCH %d/%d", c->mismatches[v], c->total[v]);
        else if (s->pairs) snprintf(cell, sizeof(cell), "%.3f (%.3f-%.3f)", s->ratio, s->ratio_min, s->ratio_max);
        else snprintf(cell, sizeof(cell), "%.3f", s->ratio);
        fprintf(f, "  %-*s", column_width(b, v), cell);
    }
    if (c->mismatches[0]) fprintf(f, "  native differs between its own runs (%d/%d)", c->mismatches[0], c->total[0]);
    fputc('\n', f);
}

/* usable: case c has a figure for variant v (measured, no mismatch in v or in native). */
static int usable(const bench_case_t *c, size_t v)
{
    return c->stats && !c->native_failed && !c->mismatches[v] && !c->mismatches[0] && c->stats[v].ratio > 0;
}

double bench_report_geomean(const bench_t *b, size_t v, size_t *used)
{
    double *r = xcalloc(b->ncases, sizeof(double));
    for (size_t i = 0; i < b->ncases; i++)
        r[i] = usable(&b->cases[i], v) ? b->cases[i].stats[v].ratio : 0;
    double g = bench_stats_geomean(r, b->ncases, used);
    free(r);
    return g;
}

void bench_report_suite(FILE *f, const bench_t *b)
{
    suite_header(f, b);
    for (size_t i = 0; i < b->ncases; i++) bench_report_suite_row(f, b, &b->cases[i]);
    fprintf(f, "%-18s %9s", "geometric mean", "");
    for (size_t v = 1; v < b->nvariants; v++) {
        char cell[64];
        size_t used;
        double g = bench_report_geomean(b, v, &used);
        if (!used) snprintf(cell, sizeof(cell), "-");
        else if (used == b->ncases) snprintf(cell, sizeof(cell), "%.3f", g);
        else snprintf(cell, sizeof(cell), "%.3f (%zu of %zu)", g, used, b->ncases);
        fprintf(f, "  %-*s", column_width(b, v), cell);
    }
    fputc('\n', f);
    fprintf(f, "ratios: median time under the variant / native median (< 1 is faster); in "
               "parentheses the smallest and largest ratio of a run to the native run of its round\n");
}

/* ---- JSON ---- */

static void json_str(FILE *f, const char *s)
{
    if (!s) { fputs("null", f); return; }
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

static void json_words(FILE *f, char *const *w)
{
    fputc('[', f);
    for (size_t i = 0; w && w[i]; i++) {
        if (i) fputs(", ", f);
        json_str(f, w[i]);
    }
    fputc(']', f);
}

/* json_num: a number JSON can hold (no nan or inf). */
static void json_num(FILE *f, double x)
{
    if (isfinite(x)) fprintf(f, "%.6f", x);
    else fputs("null", f);
}

/* json_field: `, "key": x` (a number). */
static void json_field(FILE *f, const char *key, double x)
{
    fprintf(f, ", \"%s\": ", key);
    json_num(f, x);
}

static void json_machine(FILE *f)
{
    char cpu[256] = "unknown", line[512];
    FILE *ci = fopen("/proc/cpuinfo", "r");
    while (ci && fgets(line, sizeof(line), ci)) {
        char *colon = strchr(line, ':');
        if (!strncmp(line, "model name", 10) && colon) {
            snprintf(cpu, sizeof(cpu), "%s", colon + 2);
            cpu[strcspn(cpu, "\n")] = 0;
            break;
        }
    }
    if (ci) fclose(ci);
    struct utsname u;
    char kernel[400] = "unknown";
    if (uname(&u) == 0) snprintf(kernel, sizeof(kernel), "%s %s %s", u.sysname, u.release, u.machine);
    fputs("  \"machine\": {\"cpu\": ", f);
    json_str(f, cpu);
    fprintf(f, ", \"cpus\": %ld, \"kernel\": ", sysconf(_SC_NPROCESSORS_ONLN));
    json_str(f, kernel);
    fputs("},\n", f);
}

static void json_case(FILE *f, const bench_t *b, const bench_case_t *c)
{
    fputs("    {\"name\": ", f);
    json_str(f, c->name);
    fputs(", \"command\": ", f);
    json_words(f, c->argv);
    fputs(", \"stdin\": ", f);
    json_str(f, c->stdin_path);
    fprintf(f, ", \"native_failed\": %s,\n     \"runs\": [", c->native_failed ? "true" : "false");
    for (size_t i = 0; i < c->nruns; i++) {
        const bench_run_t *r = &c->runs[i];
        fprintf(f, "%s\n      {\"variant\": ", i ? "," : "");
        json_str(f, b->variants[r->variant].name);
        fprintf(f, ", \"round\": %d, \"warmup\": %s", r->round, r->warmup ? "true" : "false");
        json_field(f, "seconds", r->secs);
        json_field(f, "user_s", r->user);
        json_field(f, "sys_s", r->sys);
        fprintf(f, ", \"exit\": %d, \"signal\": %d, \"timed_out\": %s, \"stdout_bytes\": %llu, "
                   "\"stdout_fnv1a64\": \"%016llx\", \"stdout_match\": %s}",
                r->exit_code, r->signo, r->timed_out ? "true" : "false", r->out_bytes, r->hash,
                r->match ? "true" : "false");
    }
    fputs("],\n     \"summary\": [", f);
    for (size_t v = 0; c->stats && v < b->nvariants; v++) {
        const bench_stats_t *s = &c->stats[v];
        fprintf(f, "%s\n      {\"variant\": ", v ? "," : "");
        json_str(f, b->variants[v].name);
        json_field(f, "median_s", s->median);
        json_field(f, "min_s", s->min);
        json_field(f, "max_s", s->max);
        json_field(f, "ratio", s->ratio);
        json_field(f, "ratio_min", s->ratio_min);
        json_field(f, "ratio_max", s->ratio_max);
        fprintf(f, ", \"pairs\": %zu, \"runs\": %d, \"mismatches\": %d, \"status\": \"%s\"}",
                s->pairs, c->total[v], c->mismatches[v],
                c->native_failed ? "native-fail" : c->mismatches[v] ? "mismatch" : "ok");
    }
    fputs("]}", f);
}

int bench_report_json(const char *path, const bench_t *b)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    char date[64];
    time_t now = time(NULL);
    strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fputs("{\n  \"tool\": \"hotpath bench\", \"version\": ", f);
    json_str(f, b->version);
    fprintf(f, ", \"date\": \"%s\",\n", date);
    json_machine(f);
    fprintf(f, "  \"runs_per_variant\": %d, \"warmup\": %d, \"timeout_s\": %d, \"ok\": %s,\n", b->runs, b->warmup,
            b->timeout_s, b->failed ? "false" : "true");
    fputs("  \"variants\": [", f);
    static const char *const kinds[] = { "native", "hotpath", "wrapper" };
    for (size_t v = 0; v < b->nvariants; v++) {
        fprintf(f, "%s\n    {\"name\": ", v ? "," : "");
        json_str(f, b->variants[v].name);
        fprintf(f, ", \"kind\": \"%s\", \"args\": ", kinds[b->variants[v].kind]);
        json_words(f, b->variants[v].words);
        fputc('}', f);
    }
    fputs("],\n  \"hotpath_args\": ", f);
    json_words(f, b->hotpath_args);
    fputs(",\n  \"benchmarks\": [\n", f);
    for (size_t i = 0; i < b->ncases; i++) {
        if (i) fputs(",\n", f);
        json_case(f, b, &b->cases[i]);
    }
    fputs("\n  ],\n  \"geomean\": {", f);
    for (size_t v = 1; v < b->nvariants; v++) {
        size_t used;
        double g = bench_report_geomean(b, v, &used);
        fprintf(f, "%s\n    ", v > 1 ? "," : "");
        json_str(f, b->variants[v].name);
        fputs(": {\"ratio\": ", f);
        if (used) json_num(f, g);
        else fputs("null", f);
        fprintf(f, ", \"over\": %zu}", used);
    }
    fputs("\n  }\n}\n", f);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad) return -1;
    return 0;
}
