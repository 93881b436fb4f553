/* fork_pending_sig.c — regression case found in review (forkpend.c): native and hotpath must agree.
 * See the commit that added it for the bug it caught. */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/time.h>
#include <sys/wait.h>
static pid_t parent; static volatile int in_child;
static void h(int s){ if (getpid() != parent) in_child = 1; }
int main(){
  parent = getpid(); signal(SIGALRM, h);
  struct itimerval it = { { 0, 30 }, { 0, 30 } }; setitimer(ITIMER_REAL, &it, 0);
  int bad = 0;
  for (int i = 0; i < 3000; i++) {
    pid_t p = fork();
    if (p == 0) _exit(in_child);
    int st; while (waitpid(p, &st, 0) < 0) ;
    if (WIFEXITED(st) && WEXITSTATUS(st)) bad++;
  }
  printf("children that ran the parent's SIGALRM handler: %d (natively always 0)\n", bad);
  return 0;
}
