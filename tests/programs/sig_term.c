/* sig_term — death by SIGTERM with no handler installed: the exit status must be the
 * signal's (143 in bash), with stdout flushed beforehand. First SIGTERM is blocked and
 * raised, so it stays pending until sigprocmask unblocks it, and the process dies inside
 * that call. */
#include <signal.h>
#include <stdio.h>

int main(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigprocmask(SIG_BLOCK, &set, NULL);
    raise(SIGTERM);
    sigset_t pending;
    sigpending(&pending);
    printf("SIGTERM pending while blocked: %s\n", sigismember(&pending, SIGTERM) ? "yes" : "no");
    printf("unblocking: the process dies now\n");
    fflush(stdout);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    printf("still alive after unblocking\n");
    raise(SIGTERM);
    printf("still alive after raise\n");
    return 1;
}
