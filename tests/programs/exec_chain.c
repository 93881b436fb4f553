/* exec_chain — the program execs itself three times with a decreasing counter (argv[1]) and
 * a growing environment variable, then execs /bin/true: the PID stays the same through every
 * exec, stdout is flushed before each, and the final exit status is /bin/true's (0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 3;
    const char *trail = getenv("EXEC_CHAIN_TRAIL");
    const char *pid_env = getenv("EXEC_CHAIN_PID");
    char pid_now[32];
    snprintf(pid_now, sizeof pid_now, "%ld", (long)getpid());
    unsigned long h = (unsigned long)n;
    for (int i = 0; i < 300000; i++)
        h = h * 2862933555777941757ul + 3037000493ul;
    printf("exec_chain %d: trail \"%s\", same pid as the first: %s, work %016lx\n", n,
           trail ? trail : "", pid_env ? (strcmp(pid_env, pid_now) == 0 ? "yes" : "no") : "first", h);
    fflush(stdout);

    char newtrail[256];
    snprintf(newtrail, sizeof newtrail, "%s%s%d", trail ? trail : "", trail ? "," : "", n);
    setenv("EXEC_CHAIN_TRAIL", newtrail, 1);
    setenv("EXEC_CHAIN_PID", pid_now, 1);
    if (n > 0) {
        char next[16];
        snprintf(next, sizeof next, "%d", n - 1);
        char *args[] = {argv[0], next, NULL};
        execv("/proc/self/exe", args);
        perror("execv self");
        return 1;
    }
    char *args[] = {"true", NULL};
    execv("/bin/true", args);
    perror("execv /bin/true");
    return 1;
}
