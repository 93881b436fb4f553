/* sig_spawn_reset.c — a posix_spawn child (vfork: shares the parent's memory, not its
 * signal handlers) resets SIGCHLD to the default before exec; the parent's SIGCHLD handler
 * must still run for each child. Exits 44 when all checks hold. */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;
static volatile sig_atomic_t chld;

static void on_chld(int sig) { (void)sig; chld++; }

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_chld;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t def;
    sigemptyset(&def);
    sigaddset(&def, SIGCHLD);
    posix_spawnattr_setsigdefault(&attr, &def);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
    int ok = 0;
    for (int i = 0; i < 4; i++) {
        pid_t pid;
        char *argv[] = { "true", NULL };
        if (posix_spawn(&pid, "/bin/true", NULL, &attr, argv, environ) != 0) return 1;
        int st;
        while (waitpid(pid, &st, 0) < 0) {}
        ok += WIFEXITED(st) && WEXITSTATUS(st) == 0;
    }
    while (chld < 4) usleep(1000);          /* every SIGCHLD reaches our handler */
    struct sigaction now;
    sigaction(SIGCHLD, NULL, &now);
    printf("children ok: %d, SIGCHLD handled: %d, handler still ours: %s\n", ok, (int)chld,
           now.sa_handler == on_chld ? "yes" : "no");
    return ok == 4 && now.sa_handler == on_chld ? 44 : 1;
}
