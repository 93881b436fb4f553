/* bench.h — what the parts of `hotpath bench` share: variants, runs, cases and the whole
 * benchmark (bench.c: command line and order of runs; bench_run.c: one run of a program;
 * bench_report.c: tables and JSON; bench_svg.c: the chart).
 * Invariant: variants[0] is always native, and the first native run of a case is the
 * reference every other run of that case is compared with. */
#ifndef HOTPATH_BENCH_H
#define HOTPATH_BENCH_H
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include "bench_stats.h"

#define BENCH_NAME_MAX 32
#define BENCH_HEAD 4096      /* bytes of stdout kept per run, to show a difference */
#define BENCH_ERR_TAIL 2048  /* bytes of stderr kept per run, shown with a mismatch */

typedef enum {
    BENCH_V_NATIVE,    /* PROG ARGS */
    BENCH_V_HOTPATH,   /* hotpath run [--hotpath-args] WORDS -- PROG ARGS */
    BENCH_V_WRAPPER,   /* WORDS PROG ARGS (valgrind, qemu-x86_64, drrun --, env X=1) */
} bench_vkind_t;

typedef struct {
    char name[BENCH_NAME_MAX];
    bench_vkind_t kind;
    char **words;      /* hotpath options or the wrapper command; NULL-terminated, owned */
} bench_variant_t;

/* One run of one variant. */
typedef struct {
    int variant;                 /* index into bench_t.variants */
    int round;                   /* 1.. within warm-ups, 1.. within timed rounds */
    int warmup;                  /* 1: a warm-up, not in the statistics */
    double secs, user, sys;      /* wall clock (fork to reaped), user and system CPU */
    int exit_code;               /* exit status, or 128 + the signal that killed it */
    int signo;                   /* that signal, 0 if it exited */
    int timed_out;               /* killed after --timeout seconds */
    unsigned long long hash;     /* FNV-1a 64 of its stdout */
    unsigned long long out_bytes;
    int match;                   /* stdout and exit status equal the reference's */
} bench_run_t;

/* One program to measure: the command line, or one suite entry. */
typedef struct {
    const char *name;            /* the program's name, or the suite entry's */
    char **argv;                 /* argv[0] resolved to a path; NULL-terminated */
    const char *stdin_path;      /* NULL: /dev/null */
    bench_run_t *runs;           /* every run, in the order they ran */
    size_t nruns;
    int native_failed;           /* suite: the reference run exited non-zero, case skipped */
    bench_stats_t *stats;        /* per variant, from bench_report_summarise */
    int *mismatches;             /* per variant: runs that did not match */
    int *total;                  /* per variant: runs made */
    /* the reference (first native run) */
    int have_ref;
    bench_run_t ref;
    char ref_head[BENCH_HEAD];
    size_t ref_head_len;
} bench_case_t;

typedef struct {
    /* in: from the command line */
    bench_variant_t *variants;   /* [0] is native */
    size_t nvariants;
    int runs, warmup, timeout_s;
    int show_stderr;             /* let the program's stderr through instead of keeping it */
    int suite;                   /* cases come from a suite file (a native failure skips) */
    char **hotpath_args;         /* words added to every hotpath variant; owned */
    char self[PATH_MAX];         /* our own executable, to run `hotpath run` */
    const char *version;
    /* in and out */
    bench_case_t *cases;
    size_t ncases;
    int failed;                  /* a mismatch, a timeout or a native failure happened */
} bench_t;

/* bench_main: `hotpath bench ARGS` (argv[0] is the first word after "bench"). Returns the
 * exit status: 0 every run matched, 1 a mismatch (or, with --suite, a native failure),
 * 2 bad usage (one line on stderr; nothing runs). */
int bench_main(int argc, char **argv, const char *version);

/* bench_run_case: run c under every variant of b: b->warmup warm-up rounds then b->runs
 * timed rounds, each round running the variants in order (native, A, B, native, A, B...).
 * Fills c->runs and c->ref; reports each mismatch on stdout as it happens and sets
 * b->failed. Stops early only when the suite's native reference run fails. */
void bench_run_case(bench_t *b, bench_case_t *c);

/* bench_report_summarise: compute c->stats, c->mismatches, c->total from c->runs. */
void bench_report_summarise(const bench_t *b, bench_case_t *c);

/* bench_report_case: print the per-variant table of one summarised case. */
void bench_report_case(FILE *f, const bench_t *b, const bench_case_t *c);

/* bench_report_suite_row / bench_report_suite: the side-by-side table of a suite (native
 * seconds, then each variant's ratio and spread), one row, or the header, all rows and the
 * geometric mean per variant over the cases without a mismatch in it. */
void bench_report_suite_row(FILE *f, const bench_t *b, const bench_case_t *c);
void bench_report_suite(FILE *f, const bench_t *b);

/* bench_report_geomean: geometric mean of variant v's ratio over the summarised cases
 * without a mismatch or native failure; *used gets how many. */
double bench_report_geomean(const bench_t *b, size_t v, size_t *used);

/* bench_report_json: write every run and the summary to path. Returns 0, or -1 with errno. */
int bench_report_json(const char *path, const bench_t *b);

/* bench_svg_write: a bar chart of each variant's ratio to native with min-max whiskers,
 * one group per case (and the geometric mean with several cases). Returns 0, or -1. */
int bench_svg_write(const char *path, const bench_t *b);

/* bench_format_command: the shell-quoted command line variant v runs for c, into buf. */
void bench_format_command(const bench_t *b, size_t v, const bench_case_t *c, char *buf, size_t cap);

#endif
