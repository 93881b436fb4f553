/* sig_action_race — regression (review of session 16): one thread raises SIGUSR1 again and
 * again while another switches its action between a handler and SIG_IGN. hotpath builds
 * the handler's frame without the dispatcher lock; it read the action more than once, so
 * a change in between gave a frame whose handler was SIG_IGN (1) or SIG_DFL (0): a jump
 * to address 1 and a SIGSEGV (2 runs in 10). Now one copy is taken under the lock. Either
 * outcome of each raise is native behaviour; the output does not depend on which. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static volatile int stop;
static volatile long hits, toggles;
static void h(int s) { (void)s; hits++; }
static void *toggler(void *a)
{
    (void)a;
    struct sigaction on, off; memset(&on, 0, sizeof on); memset(&off, 0, sizeof off);
    on.sa_handler = h; off.sa_handler = SIG_IGN;
    while (!stop) { sigaction(SIGUSR1, &off, 0); sigaction(SIGUSR1, &on, 0); toggles++; }
    return 0;
}
int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 20000;
    struct sigaction on; memset(&on, 0, sizeof on); on.sa_handler = h; sigaction(SIGUSR1, &on, 0);
    pthread_t th; pthread_create(&th, 0, toggler, 0);
    for (int i = 0; i < n; i++) raise(SIGUSR1);
    stop = 1; pthread_join(th, 0);
    sigaction(SIGUSR1, &on, 0);                       /* alone now: this one must run it */
    long before = hits;
    raise(SIGUSR1);
    int ok = hits == before + 1 && hits <= n + 1;
    printf("sig_action_race: %d raises under a changing action, then one more: %s\n", n,
           ok ? "handled" : "NOT handled as it should be");
    return ok ? 0 : 1;
}
