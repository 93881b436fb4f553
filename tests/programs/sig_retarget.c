/* sig_retarget — regression (review of session 7): SIGUSR1 and SIGUSR2 are pending on the
 * process (kill) while every thread blocks both; the main thread unblocks them. Natively it
 * takes SIGUSR1 (the lower) and its handler blocks SIGUSR2, which stays pending on the
 * process; the handler then lets the other thread unblock SIGUSR2, which takes it and runs
 * its handler; the first handler waits for that (up to 2 s). A first fix re-queued SIGUSR2
 * on the main thread (rt_tgsigqueueinfo): no other thread could take it. Exit 58. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>
static volatile int h1_running, h2_done, h2_tid, waited_ok;
static int main_tid;
static double now(void) { struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts); return ts.tv_sec + ts.tv_nsec / 1e9; }
static void h1(int sig) { (void)sig; h1_running = 1; double t0 = now(); while (!h2_done && now() - t0 < 2) ; waited_ok = h2_done; }
static void h2(int sig) { (void)sig; h2_tid = syscall(SYS_gettid); h2_done = 1; }
static void *other(void *a) {
    (void)a;
    while (!h1_running) ;
    sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_UNBLOCK, &s, 0);
    for (;;) pause();
}
int main(void) {
    main_tid = syscall(SYS_gettid);
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h1; sigaddset(&sa.sa_mask, SIGUSR2); sigaction(SIGUSR1, &sa, 0);
    sa.sa_handler = h2; sigemptyset(&sa.sa_mask); sigaction(SIGUSR2, &sa, 0);
    sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR1); sigaddset(&s, SIGUSR2);
    sigprocmask(SIG_BLOCK, &s, 0);
    pthread_t th; pthread_create(&th, 0, other, 0);     /* inherits the block */
    kill(getpid(), SIGUSR1); kill(getpid(), SIGUSR2);
    sigprocmask(SIG_UNBLOCK, &s, 0);
    while (!h2_done) ;
    printf("h1 saw h2: %s; h2 ran in the %s thread\n", waited_ok ? "yes" : "NO (2 s timeout)",
           h2_tid == main_tid ? "main" : "other");
    return waited_ok && h2_tid != main_tid ? 58 : 1;
}
