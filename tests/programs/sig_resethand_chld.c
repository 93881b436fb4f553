/* sig_resethand_chld — regression (review of session 7): a SIGCHLD handler with
 * SA_RESETHAND; after the first SIGCHLD the action is the default (ignore), so a later
 * SIGCHLD must not interrupt a blocking read. When hotpath applied SA_RESETHAND in its own
 * table only, its handler stayed in the kernel and the second SIGCHLD made the call fail
 * with EINTR. Exit 60. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static volatile int hits;
static void h(int s) { (void)s; hits++; }
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_handler = h; sa.sa_flags = SA_RESETHAND; sigaction(SIGCHLD, &sa, 0);
    if (!fork()) _exit(0);
    while (!hits) ;
    wait(0);
    int p[2];
    if (pipe(p)) return 2;
    if (!fork()) {                       /* exits at 50 ms (a SIGCHLD), its child writes at 150 */
        usleep(50000);
        if (!fork()) { usleep(100000); if (write(p[1], "x", 1) != 1) _exit(1); _exit(0); }
        _exit(0);
    }
    close(p[1]);
    char c;
    ssize_t r = read(p[0], &c, 1);       /* (a read, not a sleep: hotpath's own detach signal */
    printf("hits %d, read %d%s\n", hits, (int)r,   /* restarts it, SA_RESTART) */
           r != 1 ? " (EINTR: SIGCHLD interrupted it)" : "");
    return r != 1 ? 1 : 60;
}
