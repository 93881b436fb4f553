/* sig_order — regression (review of session 7): SIGUSR1 and SIGTERM pending together
 * (process-directed); SIGUSR1's handler blocks SIGUSR2 and SIGTERM and sends SIGUSR2 to the
 * process. Natively after it returns both SIGUSR2 (12) and SIGTERM (15) are shared-pending:
 * the lower one, SIGUSR2, comes first: "order ACB". A first fix that handed blocked signals
 * back to the thread's own queue gave ABC; the build before, BAC. Exit 57. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static char order[16]; static volatile int n;
static void h(int sig) {
    order[n++] = sig == SIGUSR1 ? 'A' : sig == SIGUSR2 ? 'C' : 'B';
    if (sig == SIGUSR1) kill(getpid(), SIGUSR2);
}
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h;
    sigemptyset(&sa.sa_mask); sigaddset(&sa.sa_mask, SIGUSR2); sigaddset(&sa.sa_mask, SIGTERM);
    sigaction(SIGUSR1, &sa, 0);
    sigfillset(&sa.sa_mask);
    sigaction(SIGUSR2, &sa, 0); sigaction(SIGTERM, &sa, 0);
    sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR1); sigaddset(&s, SIGTERM);
    sigprocmask(SIG_BLOCK, &s, 0);
    kill(getpid(), SIGUSR1); kill(getpid(), SIGTERM);
    sigprocmask(SIG_UNBLOCK, &s, 0);
    while (n < 3) ;
    printf("order %s\n", order);
    return strcmp(order, "ACB") ? 1 : 57;
}
