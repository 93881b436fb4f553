/* sig_escape.c — a plain (non-SA_SIGINFO) SIGUSR1 handler that siglongjmps out of a hot
 * loop: the code after the jump must still run under hotpath (it ends with exit status 45
 * and the statistics hotpath writes at exit prove it was still there). */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile unsigned long spins;

static void on_usr1(int sig)
{
    (void)sig;
    siglongjmp(env, 1);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    int rounds = 0;
    for (int i = 0; i < 5; i++) {
        if (sigsetjmp(env, 1) == 0) {
            for (unsigned long k = 0;; k++) {
                spins = k;
                if (k == 100000 + 1000 * (unsigned long)i) raise(SIGUSR1);
            }
        }
        rounds++;
    }
    unsigned long sum = 0;
    for (unsigned long k = 0; k < 3000000; k++) sum += k ^ (k >> 3);
    printf("rounds %d, sum %lu\n", rounds, sum);
    return rounds == 5 ? 45 : 1;
}
