/* exit_deep — exit() called from the bottom of a deep recursion: atexit handlers run in
 * reverse order, a destructor runs, and buffered stdout is flushed by exit, not by us. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned long reached;

static void first_registered(void) { printf("atexit: first registered, runs last (reached=%lu)\n", reached); }
static void second_registered(void)
{
    printf("atexit: second registered, runs first\n");
    fprintf(stderr, "atexit handler on stderr\n");
}
__attribute__((destructor)) static void fini(void) { printf("destructor runs after atexit handlers\n"); }

__attribute__((noinline)) static long descend(long n)
{
    volatile long local = n;
    reached++;
    if (n < 0)
        return 0;
    if (n == 0) {
        printf("bottom reached at depth %lu, calling exit(37)\n", reached);
        exit(37);
    }
    return descend(n - 1) + local;
}

int main(void)
{
    atexit(first_registered);
    atexit(second_registered);
    /* stdout is a pipe or file here: fully buffered until exit flushes it */
    for (int i = 0; i < 1000; i++)
        printf("line %d before the descent\n", i);
    long r = descend(50000);
    printf("unreachable %ld\n", r);
    return 0;
}
