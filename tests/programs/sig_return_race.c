/* sig_return_race — regression (review of session 7): a helper thread sends SIGUSR1 to the
 * main thread, waits until its handler is about to return, spins a varying short delay and
 * sends SIGUSR2, so SIGUSR2 arrives around the handler's return (its rt_sigreturn).
 * SIGUSR1's handler runs with SIGUSR1 and SIGTERM (sa_mask) blocked. Natively the main
 * loop's mask is always empty after the handlers. A signal caught in a system call's exit
 * stub widened the mask for its frame before hotpath ran the rt_sigreturn, whose mask the
 * frame then saved: SIGUSR1 and SIGTERM stayed blocked for good. Exit 62. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
static volatile long n1, n2, returning, stop;
static int main_tid;
static void h1(int s) { (void)s; n1++; returning = 1; for (volatile int k = 0; k < 1500; k++) ; }
static void h2(int s) { (void)s; n2++; }
static void *helper(void *a) {
    long trials = (long)a;
    for (long i = 0; i < trials && !stop; i++) {
        long want = n2 + 1;
        returning = 0;
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
        while (!returning && !stop) ;
        for (volatile long d = 0, e = i % 4000; d < e; d++) ;
        syscall(SYS_tgkill, getpid(), main_tid, SIGUSR2);
        while (n2 < want && !stop) ;
    }
    stop = 1;
    return 0;
}
int main(int argc, char **argv) {
    long trials = argc > 1 ? atol(argv[1]) : 30000;
    main_tid = syscall(SYS_gettid);
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h1; sa.sa_flags = SA_RESTART; sigaddset(&sa.sa_mask, SIGTERM); sigaction(SIGUSR1, &sa, 0);
    sa.sa_handler = h2; sigemptyset(&sa.sa_mask); sigaction(SIGUSR2, &sa, 0);
    sigset_t s; sigemptyset(&s); sigaddset(&s, SIGUSR1); sigaddset(&s, SIGUSR2);
    pthread_sigmask(SIG_BLOCK, &s, 0);
    pthread_t th; pthread_create(&th, 0, helper, (void *)trials);
    pthread_sigmask(SIG_UNBLOCK, &s, 0);
    sigset_t cur; int bad = 0;
    while (!stop) {
        sigprocmask(SIG_BLOCK, 0, &cur);
        if (sigismember(&cur, SIGUSR1) || sigismember(&cur, SIGTERM)) { bad = 1; stop = 1; }
    }
    pthread_join(th, 0);
    printf("%ld usr1, %ld usr2: main's mask %s\n", n1, n2, bad ? "LEAKED (SIGUSR1/SIGTERM blocked after the handlers)" : "clean");
    return bad ? 1 : 62;
}
