/* sig_resethand — regression (review of session 7): two queued SIGRTMIN (blocked), action
 * SA_RESETHAND. Natively the handler runs for the first (the action becomes default,
 * SIGRTMIN blocked meanwhile), then the second one's default action ends the process:
 * "handler" is written, then death by SIGRTMIN (status 162). hotpath passed SA_RESETHAND to
 * the kernel for its own handler, so the second copy met the default action before the
 * first one's frame was built: death without "handler". */
#define _GNU_SOURCE
#include <signal.h>
#include <string.h>
#include <unistd.h>
static void h(int s) { (void)s; write(1, "handler\n", 8); }
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h; sa.sa_flags = SA_RESETHAND; sigaction(SIGRTMIN, &sa, 0);
    sigset_t s; sigemptyset(&s); sigaddset(&s, SIGRTMIN); sigprocmask(SIG_BLOCK, &s, 0);
    union sigval v = { 0 }; sigqueue(getpid(), SIGRTMIN, v); sigqueue(getpid(), SIGRTMIN, v);
    sigprocmask(SIG_UNBLOCK, &s, 0);
    write(1, "survived\n", 9);
    return 0;
}
