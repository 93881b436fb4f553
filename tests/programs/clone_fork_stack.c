/* clone_fork_stack.c — regression case found in review (clonefork.c): native and hotpath must agree.
 * See the commit that added it for the bug it caught. */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
static int child(void *arg){ return 42; }
int main(){
  char *stk = malloc(1 << 20);
  int pid = clone(child, stk + (1 << 20), SIGCHLD, 0);   /* a new process on its own stack, as container tools do */
  int st; waitpid(pid, &st, 0);
  printf("child %s %d\n", WIFEXITED(st) ? "exited" : "killed by signal", WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
  return 0;
}
