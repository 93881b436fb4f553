/* system — system("echo hi; exit 3") runs /bin/sh, whose output shares our stdout and whose
 * exit status comes back through the wait status; then a pipeline whose last command fails,
 * and popen reading a child's output. stdout is flushed before each so the order is fixed. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

static int code_of(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

int main(void)
{
    int bad = 0;
    printf("before system\n");
    fflush(stdout);
    int s = system("echo hi; exit 3");
    printf("system returned exit status %d\n", code_of(s));
    bad |= code_of(s) != 3;

    fflush(stdout);
    s = system("printf 'a\\nb\\nc\\n' | sed -n 2p; (exit 7) | (exit 9)");
    printf("pipeline returned exit status %d\n", code_of(s));
    bad |= code_of(s) != 9;

    printf("shell available: %s\n", system(NULL) ? "yes" : "no");

    fflush(stdout);
    FILE *p = popen("seq 1 100 | awk '{ s += $1 } END { print s }'", "r");
    int sum = 0;
    if (!p || fscanf(p, "%d", &sum) != 1)
        return 1;
    int pc = pclose(p);
    printf("popen: sum %d, exit status %d\n", sum, code_of(pc));
    bad |= sum != 5050 || code_of(pc) != 0;
    return bad ? 1 : 39;
}
