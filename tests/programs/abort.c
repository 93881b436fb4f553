/* abort — death by signal: flushes some output, then abort() raises SIGABRT. The parent
 * must see the signal (bash reports 134), not a normal exit. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static void fail_deep(int n)
{
    if (n < 0)
        return;
    if (n > 0) {
        fail_deep(n - 1);
        return;
    }
    fprintf(stderr, "abort: about to call abort()\n");
    abort();
}

int main(void)
{
    printf("abort: output before the signal\n");
    fflush(stdout);
    printf("abort: this buffered line is lost when the process dies\n");
    fail_deep(100);
    return 0;
}
