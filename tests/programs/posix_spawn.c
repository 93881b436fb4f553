/* posix_spawn — spawns /bin/echo (its output shares our stdout), then itself with an
 * argument, its stdout redirected into a pipe through file actions and a signal mask set
 * through spawn attributes; the child reports what it sees and exits with a code that the
 * parent checks. glibc implements posix_spawn with clone(CLONE_VM | CLONE_VFORK). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static int child_main(const char *arg)
{
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    unsigned long h = strtoul(arg, NULL, 10);
    for (int i = 0; i < 100000; i++)
        h = h * 6364136223846793005ul + 1;
    printf("spawned child: arg %s, SIGUSR2 blocked %s, hash %016lx\n", arg,
           sigismember(&cur, SIGUSR2) ? "yes" : "no", h);
    return 50 + atoi(arg);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--child") == 0)
        return child_main(argv[2]);

    int bad = 0, status;
    pid_t pid;
    char *echo_argv[] = {"echo", "hello from", "/bin/echo", NULL};
    printf("spawning /bin/echo\n");
    fflush(stdout);
    if (posix_spawn(&pid, "/bin/echo", NULL, NULL, echo_argv, environ) != 0)
        return 1;
    waitpid(pid, &status, 0);
    printf("echo exited with %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;

    for (int round = 1; round <= 3; round++) {
        int fds[2];
        if (pipe(fds) != 0)
            return 1;
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
        posix_spawn_file_actions_addclose(&fa, fds[0]);
        posix_spawn_file_actions_addclose(&fa, fds[1]);
        posix_spawnattr_t at;
        posix_spawnattr_init(&at);
        sigset_t mask;
        sigemptyset(&mask);
        if (round == 2)
            sigaddset(&mask, SIGUSR2);
        posix_spawnattr_setsigmask(&at, &mask);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK);
        char num[8];
        snprintf(num, sizeof num, "%d", round);
        char *self_argv[] = {argv[0], "--child", num, NULL};
        int r = posix_spawn(&pid, "/proc/self/exe", &fa, &at, self_argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        close(fds[1]);
        if (r != 0) {
            printf("posix_spawn failed: %s\n", strerror(r));
            return 1;
        }
        char buf[256];
        ssize_t n, total = 0;
        while ((n = read(fds[0], buf + total, sizeof buf - 1 - (size_t)total)) > 0)
            total += n;
        buf[total] = 0;
        close(fds[0]);
        waitpid(pid, &status, 0);
        printf("round %d: child said: %s", round, buf);
        printf("round %d: child exited with %d\n", round, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        bad |= !WIFEXITED(status) || WEXITSTATUS(status) != 50 + round;
    }

    /* A program that does not exist: posix_spawn reports the error. */
    char *none_argv[] = {"nope", NULL};
    int r = posix_spawn(&pid, "/no/such/program", NULL, NULL, none_argv, environ);
    printf("missing program: %s\n", r == ENOENT ? "ENOENT" : r == 0 ? "spawned?" : "other error");
    if (r == 0)
        waitpid(pid, &status, 0);
    return bad ? 1 : 38;
}
