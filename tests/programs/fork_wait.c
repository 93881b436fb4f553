/* fork_wait — fork in its forms: children that compute and exit with a code, one killed by
 * a signal, a grandchild reaped by its own parent, results sent back through a pipe, and
 * waitpid / wait4 / waitid reporting each. The parent's and children's stdio buffers are
 * flushed before every fork so nothing is printed twice. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static unsigned long work(unsigned long seed)
{
    unsigned long h = seed;
    for (int i = 0; i < 200000; i++)
        h = (h ^ (h >> 13)) * 0x5bd1e995ul + (unsigned long)i;
    return h;
}

static void describe(const char *who, int status)
{
    if (WIFEXITED(status))
        printf("%s: exited with %d\n", who, WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        printf("%s: killed by signal %d\n", who, WTERMSIG(status));
    else
        printf("%s: status %#x\n", who, status);
}

int main(void)
{
    int fds[2];
    if (pipe(fds) != 0)
        return 1;

    /* 1. Three children compute and write their result to the pipe, exit with a code. */
    pid_t kids[3];
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        kids[i] = fork();
        if (kids[i] < 0)
            return 1;
        if (kids[i] == 0) {
            close(fds[0]);
            unsigned long r[2] = {(unsigned long)i, work((unsigned long)i + 1)};
            (void)!write(fds[1], r, sizeof r);
            _exit(10 + i);
        }
    }
    close(fds[1]);
    unsigned long results[3] = {0}, r[2];
    while (read(fds[0], r, sizeof r) == (ssize_t)sizeof r)
        if (r[0] < 3)
            results[r[0]] = r[1];
    close(fds[0]);
    for (int i = 0; i < 3; i++) {
        int status;
        pid_t w = waitpid(kids[i], &status, 0);
        char who[32];
        snprintf(who, sizeof who, "child %d", i);
        describe(who, w == kids[i] ? status : -1);
        printf("child %d: result %016lx %s\n", i, results[i],
               results[i] == work((unsigned long)i + 1) ? "ok" : "WRONG");
    }

    /* 2. A child killed by a signal, seen by wait4 with rusage. */
    fflush(stdout);
    pid_t k = fork();
    if (k == 0) {
        raise(SIGUSR1);
        _exit(99);
    }
    int status;
    struct rusage ru;
    pid_t w = wait4(k, &status, 0, &ru);
    describe("signalled child", w == k ? status : -1);

    /* 3. A child that forks a grandchild, reaps it and exits with its code + 1. */
    fflush(stdout);
    pid_t c = fork();
    if (c == 0) {
        pid_t g = fork();
        if (g == 0) {
            printf("grandchild: work %016lx\n", work(77));
            fflush(stdout);
            _exit(20);
        }
        int gs;
        waitpid(g, &gs, 0);
        printf("child: grandchild exited with %d\n", WEXITSTATUS(gs));
        fflush(stdout);
        _exit(WEXITSTATUS(gs) + 1);
    }
    siginfo_t si;
    memset(&si, 0, sizeof si);
    waitid(P_PID, (id_t)c, &si, WEXITED);
    printf("waitid: code %s, status %d\n", si.si_code == CLD_EXITED ? "CLD_EXITED" : "other", si.si_status);

    /* 4. Nothing left to wait for. */
    errno = 0;
    int none = wait(NULL);
    int echild = errno == ECHILD;
    printf("wait with no children: %d, ECHILD %s\n", none, echild ? "yes" : "no");
    return 36;
}
