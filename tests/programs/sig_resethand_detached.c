/* sig_resethand_detached — regression (review of session 16): a thread that has detached
 * (main runs `int $0x80`, which hotpath does not translate) receives a signal whose action
 * has SA_RESETHAND while another thread is still under hotpath, so hotpath's handler
 * forwards it (sig_forward). The reset cleared the action before the handler was called
 * through it: the thread jumped to address 0. Natively: the handler runs once and the
 * action is SIG_DFL afterwards. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static volatile int hits, stop;
static void h(int s) { (void)s; hits++; }
static void *worker(void *a) { (void)a; while (!stop) usleep(1000); return 0; }
int main(void)
{
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h; sa.sa_flags = SA_RESETHAND;
    sigaction(SIGUSR1, &sa, 0);
    pthread_t th; pthread_create(&th, 0, worker, 0);
    usleep(20000);
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");   /* 32-bit getpid */
    raise(SIGUSR1);
    struct sigaction now; sigaction(SIGUSR1, 0, &now);
    printf("hits=%d getpid_ok=%d reset=%d\n", hits, r == getpid(), now.sa_handler == SIG_DFL);
    stop = 1; pthread_join(th, 0);
    return 0;
}
