/* trip_rebuild_vfork.c — counted loops (traces/trace_trip.c) whose traces cannot be built
 * again once decided (run with --cache-size 16 --no-phase-flush: 24 long loops, no room
 * left), so the counted traces stay; a vfork child then enters one with counters of its
 * own, all zero. A review: every entry left at the head (LINK_TRIP), the dispatcher made no
 * decision and entered the same trace again: the child never finished (run_traces.sh runs
 * it under a timeout). Same output natively. Usage: trip_rebuild_vfork [K] (the child
 * calls g_K; default 4; -1: none). */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

int a[8];

#define ARM(j, x) if (a[(i + (j)) & 7] == 12345 + (j)) { x += (j) + 1; }
#define ARMS8(j) ARM(j, x0) ARM(j + 1, x1) ARM(j + 2, x2) ARM(j + 3, x3) \
                 ARM(j + 4, x4) ARM(j + 5, x5) ARM(j + 6, x6) ARM(j + 7, x7)
#define G(k)                                                                          \
    __attribute__((noinline)) static long g_##k(int n)                                \
    {                                                                                 \
        long x0 = k, x1 = 1, x2 = 2, x3 = 3, x4 = 4, x5 = 5, x6 = 6, x7 = 7;          \
        for (int i = 0; i < n; i++) {                                                 \
            ARMS8(0) ARMS8(8) ARMS8(16) ARM(24, x0) ARM(25, x1) ARM(26, x2) ARM(27, x3) \
            x0 += i; x1 ^= i; x2 += x1; x3 -= i; x4 += x3; x5 ^= x4; x6 += x5; x7 -= x6; \
        }                                                                             \
        return x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7;                                 \
    }
G(0) G(1) G(2) G(3) G(4) G(5) G(6) G(7) G(8) G(9) G(10) G(11)
G(12) G(13) G(14) G(15) G(16) G(17) G(18) G(19) G(20) G(21) G(22) G(23)

static long (*const fns[24])(int) = {
    g_0, g_1, g_2, g_3, g_4, g_5, g_6, g_7, g_8, g_9, g_10, g_11,
    g_12, g_13, g_14, g_15, g_16, g_17, g_18, g_19, g_20, g_21, g_22, g_23,
};

int main(int argc, char **argv)
{
    int K = argc > 1 ? atoi(argv[1]) : 4;
    long t = 0;
    for (int k = 0; k < 24 && k <= (K < 0 ? 23 : K); k++) t += fns[k](3000);
    printf("%ld\n", t);
    fflush(stdout);
    pid_t p = vfork();
    if (p == 0) {
        if (K >= 0) fns[K](1);
        _exit(0);
    }
    int st;
    waitpid(p, &st, 0);
    printf("child %d\n", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
