/* hotpath.c — the `hotpath` command: `hotpath run [OPTIONS] -- PROG [ARGS]` execs PROG with
 * the runtime (libhotpath.so) preloaded, so PID, exit status and death by signal are the
 * program's own. Options come from the command line and HOTPATH_OPTIONS (options.def).
 * `hotpath bench` is bench.c.
 * Invariant: every refusal is one line on stderr and a non-zero exit; nothing runs then. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "bench.h"
#include "elf_check.h"
#include "hotpath/options.h"
#include "opt.h"

#define HOTPATH_VERSION "0.1.0"

static void die(int code, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "hotpath: error: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    exit(code);
}

static void help_line(const char *name, int takes_value, const char *help)
{
    char left[64];
    snprintf(left, sizeof(left), "--%s%s", name, takes_value ? " ARG" : "");
    printf("  %-26s %s\n", left, help);
}

static void usage(FILE *f)
{
    fprintf(f, "usage: hotpath run [OPTIONS] -- PROG [ARGS...]\n"
               "       hotpath bench [BENCH-OPTIONS] -- PROG [ARGS...]   (hotpath bench --help)\n"
               "       hotpath --help | --version\n");
}

static void help(void)
{
    usage(stdout);
    printf("\nRuns PROG (a dynamically linked x86-64 program) from hotpath's code cache.\n"
           "Options (also read from HOTPATH_OPTIONS; a flag FOO is cleared by --no-FOO):\n");
    hp_options_help(help_line);
    printf("\nhotpath bench runs PROG natively and under hotpath variants, interleaved, checks\n"
           "that every run's output and exit status match native, and prints median times and\n"
           "ratios to native (--json, --svg; --suite FILE for a benchmark suite).\n");
}

/* find_runtime: libhotpath.so beside us: <dir of hotpath>/../lib/libhotpath.so. */
static void find_runtime(char *out, size_t cap)
{
    char self[PATH_MAX - 32];
    const char *env = getenv("HOTPATH_LIB");
    if (env && *env) { snprintf(out, cap, "%s", env); return; }
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n < 0) die(1, "cannot find my own path: %s%s", strerror(errno), "");
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash) *slash = 0;
    snprintf(out, cap, "%s/../lib/libhotpath.so", self);
    char real[PATH_MAX];
    if (realpath(out, real)) snprintf(out, cap, "%s", real);
    if (access(out, R_OK) != 0) die(1, "runtime library not found at %s%s", out, "");
}

/* append: add one "--name[=value]" word to the options string. */
static void append(char *buf, size_t cap, const char *name, const char *value)
{
    size_t len = strlen(buf);
    if (value && strchr(value, ' ')) die(2, "option --%s: a value with spaces is not supported: %s", name, value);
    snprintf(buf + len, cap - len, "%s--%s%s%s", len ? " " : "", name, value ? "=" : "", value ? value : "");
}

static int cmd_run(int argc, char **argv)
{
    hp_options_t opts;
    hp_options_default(&opts);
    static char words[8192];
    char bad[128];
    const char *env = getenv("HOTPATH_OPTIONS");
    if (env && hp_options_parse_string(&opts, env, bad, sizeof(bad)) != HP_OK)
        die(2, "HOTPATH_OPTIONS: unknown or malformed option '%s'%s", bad, "");
    if (env) snprintf(words, sizeof(words), "%s", env);
    int i = 0;
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) { i++; break; }
        if (a[0] != '-' || a[1] != '-') break;         /* the program starts here */
        char name[96];
        const char *eq = strchr(a + 2, '=');
        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - a - 2) : (int)strlen(a + 2), a + 2);
        int tv = hp_options_takes_value(name);
        if (tv < 0) die(2, "unknown option '%s' (see hotpath --help)%s", a, "");
        const char *value = eq ? eq + 1 : NULL;
        if (tv && !value) {
            if (i + 1 >= argc) die(2, "option '%s' needs a value%s", a, "");
            value = argv[++i];
        }
        if (!tv && value) die(2, "option '--%s' takes no value%s", name, "");
        char absval[PATH_MAX + 16];
        if (!strcmp(name, "stats-json") && value[0] != '/') {   /* the app may chdir */
            char cwd[PATH_MAX];
            if (!getcwd(cwd, sizeof(cwd))) die(1, "getcwd: %s%s", strerror(errno), "");
            snprintf(absval, sizeof(absval), "%s/%s", cwd, value);
            value = absval;
        }
        if (hp_options_set(&opts, name, value) != HP_OK) die(2, "bad value for option '%s': %s", a, value ? value : "");
        append(words, sizeof(words), name, value);
    }
    char badpass[64];
    if (opt_parse(opts.opt, badpass, sizeof(badpass)) < 0)
        die(2, "--opt: no optimizer pass called '%s' (passes: see optimizer/passes.def)%s", badpass, "");
    if (i >= argc) die(2, "no program given (usage: hotpath run [OPTIONS] -- PROG [ARGS...])%s%s", "", "");
    char path[PATH_MAX], err[PATH_MAX + 256];
    int code;
    if (elf_resolve(argv[i], path, sizeof(path), err, sizeof(err)) != 0) die(127, "%s%s", err, "");
    if (elf_check(path, err, sizeof(err), &code) != 0) die(code, "%s%s", err, "");
    char lib[PATH_MAX], preload[PATH_MAX * 2];
    find_runtime(lib, sizeof(lib));
    const char *old = getenv("LD_PRELOAD");
    snprintf(preload, sizeof(preload), "%s%s%s", lib, old && *old ? ":" : "", old && *old ? old : "");
    setenv("LD_PRELOAD", preload, 1);
    setenv("HOTPATH_OPTIONS", words, 1);
    fflush(stdout);
    execv(path, argv + i);
    die(126, "%s: %s", path, strerror(errno));
    return 126;
}

int main(int argc, char **argv)
{
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) { help(); return 0; }
    if (!strcmp(argv[1], "--version")) { printf("hotpath %s\n", HOTPATH_VERSION); return 0; }
    if (!strcmp(argv[1], "run")) return cmd_run(argc - 2, argv + 2);
    if (!strcmp(argv[1], "bench")) return bench_main(argc - 2, argv + 2, HOTPATH_VERSION);
    fprintf(stderr, "hotpath: error: unknown command '%s' (see hotpath --help)\n", argv[1]);
    return 2;
}
