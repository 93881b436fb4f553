/* promote_readonly — -O0 counted loops with locals the loop only reads (a flag, a bound, a
 * step). Loop promotion keeps only the slots a loop writes in registers: a local the loop
 * only reads may be written while it runs by something the loop cannot see, and native
 * code sees it at once (also a local read twice a round: promoting it with the round's
 * first read from memory was tried in session 13 and reverted — the second read would
 * move ahead of the loads between, which a seqlock-style reader can tell). Cases:
 * - another process writes the flag (process_vm_writev, as a debugger would: the parent
 *   into the child, which Yama allows; if the kernel refuses, a signal does it): native
 *   code stops early (a review found the flag promoted to a register, the loop never
 *   stopping; the kernel completing an io_uring read into a local is the same case), once
 *   with the flag read once a round, once twice;
 * - a SIGALRM handler lowers the bound through a pointer: the delivery leaves the trace and
 *   the loop comes back through the preheader;
 * - a callee changes a step through a pointer halfway;
 * - the same loop in frames of different sizes (alloca: rbp - rsp differs from call to call).
 * Exit status 51 when every result matches what is computed here in closed form. */
#define _GNU_SOURCE
#include <alloca.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile int stop_by_signal;

static void on_usr1(int sig) { (void)sig; stop_by_signal = 1; }

/* spin: the child's loop over a flag only another process writes (the address goes to the
 * parent through the pipe first). */
__attribute__((noinline)) static long spin(int fd)
{
    volatile int stop = 0;               /* (volatile: -O2 reads it every round too) */
    long i, n = 3000000000L;             /* seconds if the write were missed */
    int *p = (int *)&stop;
    if (write(fd, &p, sizeof(p)) != sizeof(p)) _exit(2);
    for (i = 0; i < n; i++)
        if (stop || stop_by_signal) break;
    return i;
}

/* spin_twice: the same with the flag read twice a round: promoted (pass_promote.c
 * pr_worth), its first read each round a load from memory that sets the register. */
__attribute__((noinline)) static long spin_twice(int fd)
{
    volatile int stop = 0;
    long i, seen = 0, n = 3000000000L;
    int *p = (int *)&stop;
    if (write(fd, &p, sizeof(p)) != sizeof(p)) _exit(2);
    for (i = 0; i < n; i++) {
        if (stop || stop_by_signal) break;
        seen += stop;
    }
    return i + seen;
}

static int written_by_other_process(int twice)
{
    int fd[2];
    if (pipe(fd)) return 0;
    signal(SIGUSR1, on_usr1);
    pid_t c = fork();
    if (c < 0) return 0;
    if (c == 0) {
        close(fd[0]);
        _exit((twice ? spin_twice(fd[1]) : spin(fd[1])) < 3000000000L ? 0 : 1);
    }
    close(fd[1]);
    int *addr;
    if (read(fd[0], &addr, sizeof(addr)) != sizeof(addr)) return 0;
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, 0);
    int one = 1;
    struct iovec l = { &one, sizeof(one) }, r = { addr, sizeof(one) };
    if (process_vm_writev(c, &l, 1, &r, 1, 0) != sizeof(one)) kill(c, SIGUSR1);
    int st;
    if (waitpid(c, &st, 0) != c) return 0;
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static volatile long *bound_ptr;         /* (volatile: -O2 reads it every round too) */

static void on_alarm(int sig)
{
    (void)sig;
    *bound_ptr = 0;                      /* stop the loop below */
}

__attribute__((noinline)) static long until_alarm(void)
{
    volatile long bound = 40000000000L;  /* minutes natively if the alarm were missed */
    long i, sum = 0;
    bound_ptr = &bound;
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_usec = 20000;
    setitimer(ITIMER_REAL, &it, 0);
    for (i = 0; i < bound; i++)
        sum += i & 3;
    return i < 40000000000L && sum >= 0;
}

__attribute__((noinline)) static void bump(long *p) { *p += 2; }

__attribute__((noinline)) static long step_changes(long n)
{
    long step = 1, sum = 0;
    for (long i = 0; i < n; i++) {
        if (i == n / 2) bump(&step);     /* the step goes from 1 to 3 */
        sum += step;
    }
    return sum;
}

__attribute__((noinline)) static long in_frame(long n, long pad)
{
    char *buf = alloca(pad);             /* rbp - rsp differs from call to call */
    memset(buf, 1, pad);
    long limit = n, k = 7, sum = 0;
    for (long i = 0; i < limit; i++)
        sum += k + buf[i % pad];
    return sum;
}

int main(void)
{
    int ok = 1;
    if (!written_by_other_process(0)) { printf("the loop missed the other process's write\n"); ok = 0; }
    stop_by_signal = 0;
    if (!written_by_other_process(1)) { printf("the loop reading twice missed the write\n"); ok = 0; }
    signal(SIGALRM, on_alarm);
    if (!until_alarm()) { printf("the loop missed the handler's bound\n"); ok = 0; }
    long n = 3000000;
    if (step_changes(n) != n / 2 + 3 * (n - n / 2)) { printf("step_changes wrong\n"); ok = 0; }
    for (long pad = 16; pad <= 4096; pad *= 4) {
        long m = 200000 + pad;
        if (in_frame(m, pad) != 8 * m) { printf("in_frame(%ld) wrong\n", pad); ok = 0; }
    }
    printf("promote_readonly %s\n", ok ? "ok" : "FAILED");
    return ok ? 51 : 1;
}
