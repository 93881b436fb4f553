/* trip_flushes.c — 70 rounds of: a loop gets a counted trace (traces/trace_trip.c), not
 * decided yet, then an mprotect of its page (same rights) makes hotpath flush everything
 * (runtime/flush.c: code under translation changed, one thread: the whole cache); then a
 * loop that never goes round must still be counted and left unpromoted. A review: such a
 * flush kept the counted trace's slot, and after 64 of them nothing was counted any more
 * (run_traces.sh checks the statistics). Same output natively. Usage: trip_flushes [N]. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
static void cut(void) { struct sigaction o; sigaction(SIGUSR1, 0, &o); }   /* seen by hotpath: ends a path */
__attribute__((noinline)) long h(int n) { long s = 0; for (int i = 0; i < n; i++) s += i ^ 5; return s; }
__attribute__((noinline)) long g(int n) { long s = 0; for (int i = 0; i < n; i++) s += i * 3; return s; }
int main(int argc, char **argv)
{
    int cycles = argc > 1 ? atoi(argv[1]) : 70;
    long t = 0;
    void *page = (void *)((uintptr_t)h & ~(uintptr_t)4095);
    for (int c = 0; c < cycles; c++) {
        for (int k = 0; k < 20; k++) { cut(); t += h(3); }       /* h's loop: a counted trace, undecided */
        if (mprotect(page, 4096, PROT_READ | PROT_EXEC)) { perror("mprotect"); return 1; }
    }
    for (int k = 0; k < 20; k++) { cut(); t += g(3); }
    for (int k = 0; k < 1000; k++) { cut(); t += g(1); }
    printf("%ld\n", t);
    return 0;
}
