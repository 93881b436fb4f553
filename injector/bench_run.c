/* bench_run.c — runs a program once per variant and round for `hotpath bench`: fork/exec
 * with stdout (and, unless --show-stderr, stderr) on pipes, wall clock from fork to reaped,
 * stdout hashed and its first bytes kept, a timeout that kills the whole process group.
 * Invariants: the child is in its own process group (so a timeout or our own death by
 * SIGINT/SIGTERM kills everything it started); the parent never writes to the program;
 * every run is compared with the case's reference and a difference is printed, never
 * dropped. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "bench.h"

static volatile pid_t child_pgid;   /* the running program's group, 0 if none */

static void on_fatal_signal(int sig)
{
    if (child_pgid > 0) kill(-child_pgid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_signal_handlers(void)
{
    static int done;
    if (done) return;
    done = 1;
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGHUP, on_fatal_signal);
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* build_argv: the words variant v runs for c (NULL-terminated, malloc'd array; the strings
 * are borrowed from b, v and c). */
static char **build_argv(const bench_t *b, size_t v, const bench_case_t *c)
{
    const bench_variant_t *var = &b->variants[v];
    size_t n = 0, k = 0;
    for (char **p = c->argv; *p; p++) n++;
    for (char **p = var->words; p && *p; p++) n++;
    for (char **p = b->hotpath_args; p && *p; p++) n++;
    char **av = calloc(n + 4, sizeof(*av));
    if (!av) { fputs("hotpath: error: out of memory\n", stderr); exit(1); }
    if (var->kind == BENCH_V_HOTPATH) {
        av[k++] = (char *)b->self;
        av[k++] = "run";
        for (char **p = b->hotpath_args; p && *p; p++) av[k++] = *p;
    }
    for (char **p = var->words; p && *p; p++) av[k++] = *p;
    if (var->kind == BENCH_V_HOTPATH) av[k++] = "--";
    for (char **p = c->argv; *p; p++) av[k++] = *p;
    av[k] = NULL;
    return av;
}

void bench_format_command(const bench_t *b, size_t v, const bench_case_t *c, char *buf, size_t cap)
{
    char **av = build_argv(b, v, c);
    size_t len = 0;
    buf[0] = 0;
    for (char **p = av; *p && len + 1 < cap; p++) {
        int plain = **p != 0;
        for (const char *s = *p; *s; s++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-+=/.,:%@", *s)) plain = 0;
        len += (size_t)snprintf(buf + len, cap - len, "%s%s%s%s", p == av ? "" : " ",
                                plain ? "" : "'", *p, plain ? "" : "'");
        if (len >= cap) len = cap - 1;
    }
    if (c->stdin_path && len + 1 < cap) snprintf(buf + len, cap - len, " < %s", c->stdin_path);
    free(av);
}

/* spawn: fork and exec variant v of c with stdout on out_w and stderr on err_w (-1: ours).
 * Returns the pid, or -1 with errno. A failed exec is the child's exit 127, with a line on
 * its stderr. */
static pid_t spawn(const bench_t *b, size_t v, const bench_case_t *c, int out_w, int err_w)
{
    char **av = build_argv(b, v, c);
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        const char *in = c->stdin_path ? c->stdin_path : "/dev/null";
        int fd = open(in, O_RDONLY);
        if (fd < 0) {
            dprintf(err_w >= 0 ? err_w : 2, "hotpath bench: cannot open %s: %s\n", in, strerror(errno));
            _exit(127);
        }
        dup2(fd, 0);
        dup2(out_w, 1);
        if (err_w >= 0) dup2(err_w, 2);
        if (fd > 2) close(fd);
        execvp(av[0], av);
        dprintf(2, "hotpath bench: cannot run %s: %s\n", av[0], strerror(errno));
        _exit(127);
    }
    if (pid > 0) setpgid(pid, pid);   /* also here: no window where a kill misses it */
    free(av);
    return pid;
}

/* The output side of one run. */
typedef struct {
    char head[BENCH_HEAD];
    size_t head_len;
    char err[BENCH_ERR_TAIL];     /* ring: the last bytes of stderr */
    size_t err_len;               /* bytes written into the ring in all */
} capture_t;

static void take_stdout(bench_run_t *r, capture_t *cap, const char *buf, size_t n)
{
    unsigned long long h = r->hash;
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)buf[i]) * 0x100000001b3ULL;
    r->hash = h;
    r->out_bytes += n;
    if (cap->head_len < BENCH_HEAD) {
        size_t k = BENCH_HEAD - cap->head_len < n ? BENCH_HEAD - cap->head_len : n;
        memcpy(cap->head + cap->head_len, buf, k);
        cap->head_len += k;
    }
}

static void take_stderr(capture_t *cap, const char *buf, size_t n)
{
    for (size_t i = 0; i < n; i++) cap->err[(cap->err_len + i) % BENCH_ERR_TAIL] = buf[i];
    cap->err_len += n;
}

/* run_once: run variant v of c once into r and cap. Returns 0, or -1 if it could not start. */
static int run_once(const bench_t *b, size_t v, const bench_case_t *c, bench_run_t *r, capture_t *cap)
{
    int outp[2], errp[2] = { -1, -1 };
    if (pipe2(outp, O_CLOEXEC) != 0) return -1;
    if (!b->show_stderr && pipe2(errp, O_CLOEXEC) != 0) { close(outp[0]); close(outp[1]); return -1; }
    r->hash = 0xcbf29ce484222325ULL;
    fflush(stdout);
    fflush(stderr);
    double t0 = now();
    pid_t pid = spawn(b, v, c, outp[1], errp[1]);
    close(outp[1]);
    if (errp[1] >= 0) close(errp[1]);
    if (pid < 0) { close(outp[0]); if (errp[0] >= 0) close(errp[0]); return -1; }
    child_pgid = pid;
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);   /* -1 on old kernels: see below */
    int exited = 0, status = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof(ru));
    double deadline = b->timeout_s > 0 ? t0 + b->timeout_s : 0;
    struct pollfd pf[3] = { { outp[0], POLLIN, 0 }, { errp[0], POLLIN, 0 }, { pidfd, POLLIN, 0 } };
    static char buf[1 << 16];
    while (pf[0].fd >= 0 || pf[1].fd >= 0 || (pf[2].fd >= 0 && !exited)) {
        int ms = -1;
        if (deadline) {
            double left = deadline - now();
            ms = left <= 0 ? 0 : (int)(left * 1000) + 1;
        }
        int k = poll(pf, 3, ms);
        if (k < 0 && errno == EINTR) continue;
        if (k == 0 || (deadline && now() >= deadline)) {     /* timed out: kill them all */
            kill(-pid, SIGKILL);
            r->timed_out = 1;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (pf[i].fd < 0 || !pf[i].revents) continue;
            ssize_t n = read(pf[i].fd, buf, sizeof(buf));
            if (n > 0 && i == 0) take_stdout(r, cap, buf, (size_t)n);
            else if (n > 0) take_stderr(cap, buf, (size_t)n);
            else if (n == 0 || errno != EINTR) { close(pf[i].fd); pf[i].fd = -1; }
        }
        if (pf[2].fd >= 0 && pf[2].revents && !exited) {
            if (wait4(pid, &status, 0, &ru) == pid) exited = 1;
            close(pf[2].fd);
            pf[2].fd = -1;
        }
    }
    for (int i = 0; i < 3; i++)
        if (pf[i].fd >= 0) close(pf[i].fd);
    if (!exited) {      /* no pidfd, or a timeout: reap it now */
        while (wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {}
    }
    double t1 = now();
    child_pgid = 0;
    r->secs = t1 - t0;
    r->user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6;
    r->sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    if (WIFSIGNALED(status)) {
        r->signo = WTERMSIG(status);
        r->exit_code = 128 + r->signo;
    } else {
        r->exit_code = WEXITSTATUS(status);
    }
    return 0;
}

/* first_line_diff: print the first line where a and b (the first bytes of two outputs) differ. */
static void first_line_diff(const char *a, size_t na, const char *b, size_t nb)
{
    size_t i = 0, line_start = 0;
    while (i < na && i < nb && a[i] == b[i]) {
        if (a[i] == '\n') line_start = i + 1;
        i++;
    }
    if (i == na && i == nb) {
        printf("  the first %zu bytes are equal\n", na);
        return;
    }
    size_t ea = line_start, eb = line_start;
    while (ea < na && a[ea] != '\n' && ea - line_start < 160) ea++;
    while (eb < nb && b[eb] != '\n' && eb - line_start < 160) eb++;
    printf("  first difference at byte %zu:\n    native:   %.*s%s\n    this run: %.*s%s\n", i,
           (int)(ea - line_start), a + line_start, ea == na && na == i ? "<end>" : "",
           (int)(eb - line_start), b + line_start, eb == nb && nb == i ? "<end>" : "");
}

static void print_stderr_tail(const capture_t *cap)
{
    size_t n = cap->err_len < BENCH_ERR_TAIL ? cap->err_len : BENCH_ERR_TAIL;
    size_t start = cap->err_len < BENCH_ERR_TAIL ? 0 : cap->err_len % BENCH_ERR_TAIL;
    char tail[BENCH_ERR_TAIL + 1];
    for (size_t i = 0; i < n; i++) tail[i] = cap->err[(start + i) % BENCH_ERR_TAIL];
    tail[n] = 0;
    /* the last 6 lines */
    char *p = tail + n;
    for (int lines = 0; p > tail; p--)
        if (p[-1] == '\n' && p != tail + n && ++lines == 6) break;
    if (!*p) return;
    printf("  its stderr ends with:\n");
    for (char *l = strtok(p, "\n"); l; l = strtok(NULL, "\n")) printf("    %s\n", l);
}

/* report_mismatch: say on stdout why run r of c does not match the reference; with full,
 * also the command, the first differing line and the end of its stderr. */
static void report_mismatch(const bench_t *b, const bench_case_t *c, const bench_run_t *r,
                            const capture_t *cap, int full)
{
    int out_differs = r->hash != c->ref.hash || r->out_bytes != c->ref.out_bytes;
    printf("MISMATCH %s: variant %s, %s round %d: ", c->name, b->variants[r->variant].name,
           r->warmup ? "warm-up" : "timed", r->round);
    if (r->timed_out) {
        printf("killed after the %d s timeout\n", b->timeout_s);
    } else {
        if (r->exit_code != c->ref.exit_code)
            printf("exit status %d, native's %d%s", r->exit_code, c->ref.exit_code, out_differs ? "; " : "");
        if (out_differs)
            printf("stdout differs from native's (%llu bytes, native's %llu)", r->out_bytes, c->ref.out_bytes);
        putchar('\n');
    }
    if (full) {
        char cmd[2048];
        bench_format_command(b, (size_t)r->variant, c, cmd, sizeof(cmd));
        printf("  command: %s\n", cmd);
        if (!r->timed_out && out_differs) first_line_diff(c->ref_head, c->ref_head_len, cap->head, cap->head_len);
        print_stderr_tail(cap);
    }
    fflush(stdout);
}

/* progress: one line on a terminal's stderr, overwritten by the next. */
static void progress(const bench_t *b, const bench_case_t *c, size_t v, int warm, int round)
{
    static int tty = -1;
    if (tty < 0) tty = isatty(2);
    if (!tty) return;
    if (!c) { fprintf(stderr, "\r\033[K"); return; }
    fprintf(stderr, "\r\033[K%s: %s %d/%d %s", c->name, warm ? "warm-up" : "round", round,
            warm ? b->warmup : b->runs, b->variants[v].name);
}

void bench_run_case(bench_t *b, bench_case_t *c)
{
    install_signal_handlers();
    size_t total = (size_t)(b->warmup + b->runs) * b->nvariants;
    c->runs = calloc(total, sizeof(*c->runs));
    capture_t *cap = malloc(sizeof(*cap));
    unsigned char *told = calloc(b->nvariants, 1);   /* a variant's first mismatch in full */
    if (!c->runs || !cap || !told) { fputs("hotpath: error: out of memory\n", stderr); exit(1); }
    for (int warm = 1; warm >= 0; warm--) {
        int rounds = warm ? b->warmup : b->runs;
        for (int round = 1; round <= rounds; round++) {
            for (size_t v = 0; v < b->nvariants; v++) {
                bench_run_t *r = &c->runs[c->nruns];
                memset(r, 0, sizeof(*r));
                memset(cap, 0, sizeof(*cap));
                r->variant = (int)v;
                r->round = round;
                r->warmup = warm;
                progress(b, c, v, warm, round);
                if (run_once(b, v, c, r, cap) != 0) {
                    progress(b, NULL, 0, 0, 0);
                    fprintf(stderr, "hotpath: error: cannot start a run: %s\n", strerror(errno));
                    exit(1);
                }
                c->nruns++;
                if (!c->have_ref) {       /* the first native run: the reference */
                    c->have_ref = 1;
                    c->ref = *r;
                    memcpy(c->ref_head, cap->head, cap->head_len);
                    c->ref_head_len = cap->head_len;
                    if (b->suite && (r->exit_code != 0 || r->timed_out)) {
                        progress(b, NULL, 0, 0, 0);
                        printf("NATIVE-FAIL %s: exits %d natively%s; skipped\n", c->name, r->exit_code,
                               r->timed_out ? " (timeout)" : "");
                        print_stderr_tail(cap);
                        c->native_failed = 1;
                        b->failed = 1;
                        free(cap);
                        free(told);
                        return;
                    }
                }
                r->match = !r->timed_out && r->exit_code == c->ref.exit_code &&
                           r->hash == c->ref.hash && r->out_bytes == c->ref.out_bytes;
                if (!r->match) {
                    progress(b, NULL, 0, 0, 0);
                    report_mismatch(b, c, r, cap, !told[v]);
                    told[v] = 1;
                    b->failed = 1;
                }
            }
        }
    }
    progress(b, NULL, 0, 0, 0);
    free(cap);
    free(told);
}
