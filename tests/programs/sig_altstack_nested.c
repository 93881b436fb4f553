/* sig_altstack_nested.c — regression case found in review (altnest.c): an SA_ONSTACK handler
 * running on the alternate stack while another signal arrives must keep its frame. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/mman.h>
static char altstk[64*1024];
static void *page; static volatile int done, n2;
static pthread_t mainth;
static void h2(int s){ n2++; }
static void h1(int s){
  for (int i = 0; i < 300000; i++) mprotect(page, 4096, PROT_READ|PROT_WRITE);  /* syscall the runtime sees */
}
static void *spam(void *a){ while (!done) { pthread_kill(mainth, SIGUSR2); usleep(20); } return 0; }
int main(){
  page = mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  stack_t ss = { .ss_sp = altstk, .ss_size = sizeof altstk }; sigaltstack(&ss, 0);
  struct sigaction sa; memset(&sa, 0, sizeof sa); sa.sa_flags = SA_ONSTACK|SA_RESTART;
  sa.sa_handler = h1; sigaction(SIGUSR1, &sa, 0);
  sa.sa_handler = h2; sigaction(SIGUSR2, &sa, 0);
  mainth = pthread_self(); pthread_t th; pthread_create(&th, 0, spam, 0);
  volatile long canary = 0x1234567;
  raise(SIGUSR1);
  done = 1; pthread_join(th, 0);
  printf("ok: handler 1 returned, canary %lx, %d nested SIGUSR2\n", (long)canary, n2 > 0);
  return 0;
}
