/* sig_resethand_tstp — regression (review of session 7): a SIGTSTP handler with
 * SA_RESETHAND; the second SIGTSTP stops the process (default action), a child sends SIGCONT
 * and it goes on: "handler", "continued". hotpath's default action re-raised the stop
 * signal and then stopped with "fatal: default action of a signal did not end the
 * process". Exit 61. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static void h(int s) { (void)s; write(1, "handler\n", 8); }
int main(int argc, char **argv) {
    (void)argc; (void)argv;
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h; sa.sa_flags = SA_RESETHAND; sigaction(SIGTSTP, &sa, 0);
    raise(SIGTSTP);
    /* a helper process continues us after we stopped */
    pid_t me = getpid();
    if (!fork()) { usleep(200000); kill(me, SIGCONT); _exit(0); }
    raise(SIGTSTP);
    write(1, "continued\n", 10);
    wait(0);
    return 61;
}
