/* trip_vfork.c — a loop counted before promotion (traces/trace_trip.c) entered by a vfork
 * child, whose thread state has counters of its own, all zero: the child's entries must not
 * decide for the parent's loop (a review: the child's first entry "ran out" at once and the
 * loop, which never goes round, was promoted whole as if it had gone 1024 rounds in 64
 * entries). Then the same with the trace installed by a first vfork child that exits
 * before deciding and a second one that gets the first one's thread state back, zeroed (a
 * second review: the check that only the counting thread decides compared the states'
 * addresses). run_traces.sh checks both loops end up not promoted. Same output natively. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static void cut(void)              /* a system call hotpath sees: ends a recorded path */
{
    struct sigaction o;
    sigaction(SIGUSR1, 0, &o);
}

__attribute__((noinline)) static long f(int n)
{
    long s = 0;
    for (int i = 0; i < n; i++) s += i * 3;
    return s;
}

__attribute__((noinline)) static long g(int n)   /* f's twin, for the second part */
{
    long s = 0;
    for (int i = 0; i < n; i++) s += i * 5;
    return s;
}

static int two_children(void)
{
    long t = 0;
    int st;
    pid_t p = vfork();
    if (p == 0) {                  /* child 1: makes g's loop hot, installs it, exits */
        long u = 0;
        for (int k = 0; k < 25; k++) { cut(); u += g(3); }
        _exit(u == 0);
    }
    waitpid(p, &st, 0);
    p = vfork();
    if (p == 0) {                  /* child 2: child 1's thread state, zeroed counters */
        g(1);
        _exit(0);
    }
    waitpid(p, &st, 0);
    for (int k = 0; k < 1000; k++) { cut(); t += g(1); }   /* one entry, no way round */
    printf("%ld, children %d\n", t, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}

int main(int argc, char **argv)
{
    int child_runs_f = argc > 1 ? atoi(argv[1]) : 1;
    long t = 0;
    for (int k = 0; k < 20; k++) { cut(); t += f(3); }     /* f's loop: a counted trace */
    pid_t p = vfork();
    if (p == 0) {
        if (child_runs_f) f(1);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    for (int k = 0; k < 1000; k++) { cut(); t += f(1); }   /* one entry, no way round */
    printf("%ld, child %d\n", t, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return two_children();
}
