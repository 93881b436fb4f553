/* bench.c — `hotpath bench`: the command line, the variants, the suite mode (inputs made
 * once, one case per suite entry) and the output files. Running and comparing is in
 * bench_run.c, the tables and JSON in bench_report.c, the chart in bench_svg.c.
 * Invariants: every refusal is one line on stderr and exit 2 before anything runs;
 * variants[0] is native whatever --variants says; the exit status is 1 whenever a run
 * did not match native (or a suite entry failed natively), so no mismatch goes unseen. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "bench.h"
#include "bench_suite.h"
#include "elf_check.h"
#include "hotpath/options.h"

static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("hotpath: error: bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

static void bench_help(void)
{
    printf(
"usage: hotpath bench [OPTIONS] -- PROG [ARGS...]\n"
"       hotpath bench [OPTIONS] --suite FILE [--bin DIR] [--data DIR] [--opt-levels L] [--filter RE]\n"
"\n"
"Runs PROG natively and under each variant, interleaved (native, A, B, native, A, B, ...)\n"
"after the warm-up rounds, and prints per variant the median wall time, min, max and the\n"
"ratio to native (ratio of medians; min-max of the ratio of each run to the native run of\n"
"its round). Every run's stdout (hashed, not shown) and exit status must equal the first\n"
"native run's; a difference is printed as MISMATCH and makes the exit status 1.\n"
"The program's stdin is /dev/null; its stderr is kept and its last lines shown with a\n"
"mismatch (--show-stderr lets it through).\n"
"\n"
"Options:\n"
"  -n, --runs N         timed runs per variant (default 5)\n"
"  --warmup N           untimed rounds first (default 1; the first native run, warm-up or\n"
"                       not, is the reference output)\n"
"  --variants LIST      comma-separated variants (default blocks,traces,opt); native always\n"
"                       runs first. A variant is:\n"
"                         native   PROG ARGS\n"
"                         blocks   hotpath run --no-traces -- PROG ARGS\n"
"                         traces   hotpath run --no-opt -- PROG ARGS\n"
"                         opt      hotpath run -- PROG ARGS (everything on)\n"
"                         NAME=OPTIONS   hotpath run OPTIONS -- PROG ARGS  (t1=--threshold 1)\n"
"                         NAME:COMMAND   COMMAND PROG ARGS  (vg:valgrind --tool=none,\n"
"                                        qemu:qemu-x86_64, odd:env FOO=1)\n"
"                       OPTIONS and COMMAND are split into words like sh does (quotes).\n"
"  --variant SPEC       add one variant; SPEC may contain commas. Repeatable.\n"
"  --hotpath-args ARGS  hotpath run options added to every hotpath variant\n"
"  --timeout SEC        kill a run (its process group) after SEC s: a MISMATCH (default: none)\n"
"  --show-stderr        let the program's stderr through\n"
"  --json FILE          write every run and the summary as JSON\n"
"  --svg FILE           draw the ratios with their spread as a bar chart\n"
"  --summary FILE       write the final table to FILE too\n"
"Suite mode (benchmarks/suite.txt describes the file):\n"
"  --suite FILE         run every selected entry of FILE; one table, a column per variant,\n"
"                       and the geometric mean per variant; gen entries run first, once\n"
"  --bin DIR, --data DIR  what {bin} and {data} stand for ({src}: FILE's directory)\n"
"  --opt-levels LIST    levels of our own programs, e.g. O0,O1,O2 (default O2)\n"
"  --filter REGEX       only entries whose name (nbody.O2, bzip2) matches (extended regex)\n"
"  --list               print the selected entries and run nothing\n"
"Environment: HOTPATH_OPTIONS applies to every hotpath variant.\n"
"Exit status: 0 every run matched native, 1 a MISMATCH or a suite entry failing natively,\n"
"2 bad usage.\n");
}

/* ---- variants ---- */

/* words_of: s split into words (NULL-terminated, malloc'd; empty if s is only blanks). */
static char **words_of(const char *s, const char *what)
{
    char **w, *in, err[200];
    int n;
    if (!s[strspn(s, " \t")]) {
        if (!(w = calloc(1, sizeof(*w)))) usage_error("out of memory");
        return w;
    }
    if (bench_suite_split(s, &w, &n, &in, err, sizeof(err)) != 0) usage_error("%s '%s': %s", what, s, err);
    if (in) usage_error("%s '%s': no '<' here", what, s);
    return w;
}

/* check_hotpath_options: refuse an option `hotpath run` would refuse, before running. */
static void check_hotpath_options(char **w, const char *what)
{
    hp_options_t o;
    hp_options_default(&o);
    for (size_t i = 0; w && w[i]; i++) {
        if (strncmp(w[i], "--", 2) || !w[i][2]) usage_error("%s: '%s' is not a hotpath run option", what, w[i]);
        char name[96];
        const char *eq = strchr(w[i], '=');
        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - w[i] - 2) : (int)strlen(w[i] + 2), w[i] + 2);
        int tv = hp_options_takes_value(name);
        if (tv < 0) usage_error("%s: unknown hotpath option '%s'", what, w[i]);
        const char *value = eq ? eq + 1 : NULL;
        if (tv && !value) {
            if (!w[i + 1]) usage_error("%s: option '%s' needs a value", what, w[i]);
            value = w[++i];
        }
        if (hp_options_set(&o, name, value) != HP_OK) usage_error("%s: bad option '%s'", what, w[i]);
    }
}

static void variant_add(bench_t *b, const char *spec)
{
    static const struct { const char *name; const char *opts; } builtin[] = {
        { "blocks", "--no-traces" }, { "traces", "--no-opt" }, { "opt", "" },
    };
    bench_variant_t v;
    memset(&v, 0, sizeof(v));
    size_t len = strcspn(spec, "=:");
    if (len == 0 || len >= BENCH_NAME_MAX) usage_error("bad variant '%s' (see hotpath bench --help)", spec);
    memcpy(v.name, spec, len);
    for (const char *p = v.name; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+-", *p))
            usage_error("bad variant name '%s' (letters, digits, _ . + -)", v.name);
    if (!spec[len]) {
        if (!strcmp(v.name, "native")) return;               /* always there */
        size_t i = 0;
        while (i < sizeof(builtin) / sizeof(builtin[0]) && strcmp(builtin[i].name, v.name)) i++;
        if (i == sizeof(builtin) / sizeof(builtin[0]))
            usage_error("unknown variant '%s' (native, blocks, traces, opt, NAME=OPTIONS or NAME:COMMAND)", spec);
        v.kind = BENCH_V_HOTPATH;
        v.words = words_of(builtin[i].opts, "variant");
    } else if (spec[len] == '=') {
        v.kind = BENCH_V_HOTPATH;
        v.words = words_of(spec + len + 1, "variant");
        check_hotpath_options(v.words, spec);
    } else {
        v.kind = BENCH_V_WRAPPER;
        v.words = words_of(spec + len + 1, "variant");
        if (!v.words[0]) usage_error("variant '%s' has no command after ':'", spec);
    }
    for (size_t i = 0; i < b->nvariants; i++)
        if (!strcmp(b->variants[i].name, v.name)) usage_error("variant '%s' given twice", v.name);
    b->variants = realloc(b->variants, (b->nvariants + 1) * sizeof(*b->variants));
    if (!b->variants) usage_error("out of memory");
    b->variants[b->nvariants++] = v;
}

static void variants_add_list(bench_t *b, const char *list)
{
    char *copy = strdup(list), *save = NULL;
    if (!copy) usage_error("out of memory");
    int any = 0;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        variant_add(b, s);
        any = 1;
    }
    if (!any) usage_error("--variants: empty list");
    free(copy);
}

/* ---- command line ---- */

typedef struct {
    const char *variants, *json, *svg, *summary, *suite, *bin, *data, *levels, *filter;
    const char **extra;          /* --variant SPECs, in order */
    size_t nextra;
    int list;
    int prog;                    /* index of PROG in argv, or -1 */
} args_t;

static int positive(const char *opt, const char *s, int zero_ok)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno || *end || end == s || n < (zero_ok ? 0 : 1) || n > 1000000)
        usage_error("%s wants a %s integer, not '%s'", opt, zero_ok ? "non-negative" : "positive", s);
    return (int)n;
}

static void parse_args(int argc, char **argv, bench_t *b, args_t *a)
{
    static const char *const with_value[] = { "-n", "--runs", "--warmup", "--variants", "--variant",
        "--hotpath-args", "--timeout", "--json", "--svg", "--summary", "--suite", "--bin", "--data",
        "--opt-levels", "--filter", NULL };
    a->prog = -1;
    int i = 0;
    for (; i < argc; i++) {
        char *arg = argv[i];
        if (!strcmp(arg, "--")) { i++; break; }
        if (arg[0] != '-') break;
        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) { bench_help(); exit(0); }
        if (!strcmp(arg, "--show-stderr")) { b->show_stderr = 1; continue; }
        if (!strcmp(arg, "--list")) { a->list = 1; continue; }
        char name[64];
        const char *eq = strchr(arg, '='), *val = NULL;
        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        size_t k = 0;
        while (with_value[k] && strcmp(with_value[k], name)) k++;
        if (!with_value[k]) usage_error("unknown option '%s' (see hotpath bench --help)", arg);
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else usage_error("option '%s' needs a value", arg);
        if (!strcmp(name, "-n") || !strcmp(name, "--runs")) b->runs = positive(name, val, 0);
        else if (!strcmp(name, "--warmup")) b->warmup = positive(name, val, 1);
        else if (!strcmp(name, "--timeout")) b->timeout_s = positive(name, val, 1);
        else if (!strcmp(name, "--variants")) a->variants = val;
        else if (!strcmp(name, "--variant")) {
            a->extra = realloc(a->extra, (a->nextra + 1) * sizeof(*a->extra));
            if (!a->extra) usage_error("out of memory");
            a->extra[a->nextra++] = val;
        }
        else if (!strcmp(name, "--hotpath-args")) {
            b->hotpath_args = words_of(val, "--hotpath-args");
            check_hotpath_options(b->hotpath_args, "--hotpath-args");
        }
        else if (!strcmp(name, "--json")) a->json = val;
        else if (!strcmp(name, "--svg")) a->svg = val;
        else if (!strcmp(name, "--summary")) a->summary = val;
        else if (!strcmp(name, "--suite")) a->suite = val;
        else if (!strcmp(name, "--bin")) a->bin = val;
        else if (!strcmp(name, "--data")) a->data = val;
        else if (!strcmp(name, "--opt-levels")) a->levels = val;
        else if (!strcmp(name, "--filter")) a->filter = val;
    }
    if (i < argc) a->prog = i;
    if (a->suite && a->prog >= 0) usage_error("give either --suite FILE or a program, not both");
    if (!a->suite && a->prog < 0) usage_error("no program given (usage: hotpath bench [OPTIONS] -- PROG [ARGS...])");
    if (!a->suite && (a->bin || a->data || a->levels || a->filter || a->list))
        usage_error("--bin, --data, --opt-levels, --filter and --list go with --suite");
}

/* ---- suite mode ---- */

static char *read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) usage_error("cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *s = malloc(cap);
    for (size_t n; s && (n = fread(s + len, 1, cap - len - 1, f)) > 0;) {
        len += n;
        if (len + 1 == cap) s = realloc(s, cap *= 2);
    }
    fclose(f);
    if (!s) usage_error("out of memory");
    s[len] = 0;
    return s;
}

static char *absolute(const char *path)
{
    char *r = realpath(path, NULL);
    if (!r) usage_error("%s: %s", path, strerror(errno));
    return r;
}

/* run_generator: run gen entry g natively in data (stdout and stderr on our stderr) once:
 * a marker named after a hash of its command says it ran. Exits 1 if it fails. */
static void run_generator(const bench_suite_entry_t *g, const char *data)
{
    unsigned long long h = 0xcbf29ce484222325ULL;
    for (char **p = g->argv; *p; p++)
        for (const char *s = *p; ; s++) {
            h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
            if (!*s) break;
        }
    char marker[PATH_MAX];
    snprintf(marker, sizeof(marker), "%s/.gen-%016llx.done", data, h);
    if (access(marker, F_OK) == 0) return;
    fprintf(stderr, "generating inputs for %s: %s ...\n", g->base, g->argv[0]);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(g->stdin_path ? g->stdin_path : "/dev/null", O_RDONLY);
        if (fd < 0 || chdir(data) != 0) _exit(127);
        dup2(fd, 0);
        dup2(2, 1);
        execvp(g->argv[0], g->argv);
        fprintf(stderr, "hotpath bench: cannot run %s: %s\n", g->argv[0], strerror(errno));
        _exit(127);
    }
    int st = 0;
    if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "hotpath: error: bench: the generator for %s (suite line %d) failed\n", g->base, g->line);
        exit(1);
    }
    int fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) close(fd);
}

/* resolve: argv[0] as a path found in PATH (left alone if not found: the run then fails
 * with exit 127, reported like any failure). */
static void resolve(char **argv)
{
    char path[PATH_MAX], err[PATH_MAX + 64];
    if (elf_resolve(argv[0], path, sizeof(path), err, sizeof(err)) == 0 && strcmp(path, argv[0])) {
        char *p = strdup(path);
        if (p) { free(argv[0]); argv[0] = p; }
    }
}

static void print_entry(const bench_suite_entry_t *e)
{
    printf("%-18s %-7s", e->name, e->kind == BENCH_SUITE_OWN ? "own" : e->kind == BENCH_SUITE_DEBIAN ? "debian" : "gen");
    for (char **p = e->argv; *p; p++) printf(" %s", *p);
    if (e->stdin_path) printf(" < %s", e->stdin_path);
    putchar('\n');
}

static void run_suite(bench_t *b, const args_t *a, bench_suite_t *s)
{
    char *file = absolute(a->suite), *text = read_file(file);
    char *dir = strdup(file);
    char **levels = NULL, err[600];
    size_t nlevels = 0;
    if (!dir) usage_error("out of memory");
    if (bench_suite_levels(a->levels ? a->levels : "O2", &levels, &nlevels, err, sizeof(err)) != 0)
        usage_error("--opt-levels: %s", err);
    bench_suite_params_t prm = { a->bin, a->data, dirname(dir), (const char *const *)levels, nlevels, a->filter };
    if (bench_suite_parse(text, file, &prm, s, err, sizeof(err)) != 0) usage_error("%s", err);
    if (s->nruns == 0) usage_error("no benchmark selected (filter '%s')", a->filter ? a->filter : "");
    if (a->list) {
        for (size_t i = 0; i < s->ngens; i++) print_entry(&s->gens[i]);
        for (size_t i = 0; i < s->nruns; i++) print_entry(&s->runs[i]);
        exit(0);
    }
    if (s->ngens && !a->data) usage_error("--data DIR is needed: the suite has gen entries");
    if (s->ngens && mkdir(a->data, 0755) != 0 && errno != EEXIST)
        usage_error("cannot create %s: %s", a->data, strerror(errno));
    for (size_t i = 0; i < s->ngens; i++) run_generator(&s->gens[i], a->data);
    b->cases = calloc(s->nruns, sizeof(*b->cases));
    if (!b->cases) usage_error("out of memory");
    printf("# hotpath bench --suite %s: %zu benchmark%s, %d timed run%s per variant after %d warm-up "
           "round%s, interleaved\n", file, s->nruns, s->nruns == 1 ? "" : "s", b->runs,
           b->runs == 1 ? "" : "s", b->warmup, b->warmup == 1 ? "" : "s");
    for (size_t i = 0; i < s->nruns; i++) {
        bench_case_t *c = &b->cases[b->ncases++];
        resolve(s->runs[i].argv);
        c->name = s->runs[i].name;
        c->argv = s->runs[i].argv;
        c->stdin_path = s->runs[i].stdin_path;
        char cmd[1024];
        bench_format_command(b, 0, c, cmd, sizeof(cmd));
        printf("[%zu/%zu] %s: %s\n", i + 1, s->nruns, c->name, cmd);
        fflush(stdout);
        bench_run_case(b, c);
        bench_report_summarise(b, c);
        printf("    ");
        bench_report_suite_row(stdout, b, c);
        fflush(stdout);
    }
    putchar('\n');
    bench_report_suite(stdout, b);
    bench_suite_free_words(levels);
    free(text);
    free(dir);
    free(file);
}

static void run_program(bench_t *b, char **argv)
{
    char path[PATH_MAX], err[PATH_MAX + 64];
    if (elf_resolve(argv[0], path, sizeof(path), err, sizeof(err)) != 0) usage_error("%s", err);
    if (access(path, X_OK) != 0) usage_error("%s: %s", path, strerror(errno));
    argv[0] = strdup(path);
    b->cases = calloc(1, sizeof(*b->cases));
    if (!argv[0] || !b->cases) usage_error("out of memory");
    bench_case_t *c = &b->cases[b->ncases++];
    const char *slash = strrchr(argv[0], '/');
    c->name = slash ? slash + 1 : argv[0];
    c->argv = argv;
    char cmd[1024];
    bench_format_command(b, 0, c, cmd, sizeof(cmd));
    printf("# hotpath bench: %s\n# %d timed run%s per variant after %d warm-up round%s, interleaved\n",
           cmd, b->runs, b->runs == 1 ? "" : "s", b->warmup, b->warmup == 1 ? "" : "s");
    fflush(stdout);
    bench_run_case(b, c);
    bench_report_summarise(b, c);
    bench_report_case(stdout, b, c);
}

int bench_main(int argc, char **argv, const char *version)
{
    bench_t b;
    args_t a;
    memset(&b, 0, sizeof(b));
    memset(&a, 0, sizeof(a));
    b.runs = 5;
    b.warmup = 1;
    b.version = version;
    b.variants = calloc(1, sizeof(*b.variants));
    if (!b.variants) usage_error("out of memory");
    snprintf(b.variants[0].name, sizeof(b.variants[0].name), "native");
    b.variants[0].kind = BENCH_V_NATIVE;
    b.nvariants = 1;
    parse_args(argc, argv, &b, &a);
    const char *env = getenv("HOTPATH_OPTIONS");   /* it reaches every hotpath variant */
    hp_options_t o;
    char bad[128];
    hp_options_default(&o);
    if (env && hp_options_parse_string(&o, env, bad, sizeof(bad)) != HP_OK)
        usage_error("HOTPATH_OPTIONS: unknown or malformed option '%s'", bad);
    variants_add_list(&b, a.variants ? a.variants : "blocks,traces,opt");
    for (size_t i = 0; i < a.nextra; i++) variant_add(&b, a.extra[i]);
    ssize_t n = readlink("/proc/self/exe", b.self, sizeof(b.self) - 1);
    if (n <= 0) usage_error("cannot find my own path: %s", strerror(errno));
    b.self[n] = 0;
    bench_suite_t suite = { 0 };
    if (a.suite) {
        b.suite = 1;
        run_suite(&b, &a, &suite);
    } else {
        run_program(&b, argv + a.prog);
    }
    int status = b.failed ? 1 : 0;
    if (a.summary) {
        FILE *f = fopen(a.summary, "w");
        if (f) {
            if (b.suite) bench_report_suite(f, &b);
            else bench_report_case(f, &b, &b.cases[0]);
        }
        if (!f || fclose(f) != 0) { fprintf(stderr, "hotpath: error: bench: cannot write %s\n", a.summary); status = 1; }
    }
    if (a.json && bench_report_json(a.json, &b) != 0) {
        fprintf(stderr, "hotpath: error: bench: cannot write %s: %s\n", a.json, strerror(errno));
        status = 1;
    }
    if (a.svg && bench_svg_write(a.svg, &b) != 0) {
        fprintf(stderr, "hotpath: error: bench: cannot write %s: %s\n", a.svg, strerror(errno));
        status = 1;
    }
    if (b.failed)
        printf("hotpath bench: some runs did not match the native run (MISMATCH above): "
               "their figures are not comparable\n");
    return status;
}
