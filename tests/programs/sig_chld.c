/* sig_chld — a SIGCHLD handler counts children as they exit: 5 children, forked one at a
 * time, exit with different codes; SIGCHLD is blocked between fork and sigsuspend so no
 * signal is missed or merged, and each child is reaped with waitpid. The count, the codes
 * and their order are fixed. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile sig_atomic_t chld_count;
static volatile sig_atomic_t last_code;

static void on_chld(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig == SIGCHLD && si->si_code == CLD_EXITED) {
        last_code = si->si_status;
        chld_count++;
    }
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_chld;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGCHLD, &sa, NULL) != 0)
        return 1;
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);

    const int codes[5] = {3, 7, 0, 42, 255};
    int sum = 0, bad = 0;
    for (int i = 0; i < 5; i++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
            return 1;
        if (pid == 0) {
            /* The child computes something so its code runs translated too. */
            unsigned long h = (unsigned long)i;
            for (int k = 0; k < 100000; k++)
                h = h * 2862933555777941757ul + 3037000493ul;
            _exit(h == 0 ? 1 : codes[i]);
        }
        while (chld_count == i)
            sigsuspend(&old);                 /* the handler runs inside */
        int status;
        pid_t w;
        while ((w = waitpid(pid, &status, 0)) < 0 && errno == EINTR)
            ;
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        printf("child %d: handler count %d, handler saw %d, waitpid saw %d, reaped: %s\n", i,
               (int)chld_count, (int)last_code, code, w == pid ? "yes" : "no");
        bad |= code != codes[i] || last_code != codes[i] || w != pid;
        sum += code;
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    int more = waitpid(-1, NULL, WNOHANG);
    printf("children: %d, exit codes sum %d, none left: %s\n", (int)chld_count, sum,
           more < 0 && errno == ECHILD ? "yes" : "no");
    return bad || chld_count != 5 ? 1 : 33;
}
