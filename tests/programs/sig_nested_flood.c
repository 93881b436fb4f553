/* sig_nested_flood.c — regression case found in review (spam.c): native and hotpath must agree.
 * See the commit that added it for the bug it caught. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <sys/mman.h>
static volatile int done, n2; static pthread_t mainth; static void *page;
static void h2(int s){ n2++; }
static void *spam(void *a){ while (!done) { pthread_kill(mainth, SIGUSR2); usleep(20); } return 0; }
int main(int argc, char **argv){
  int mode = argc > 1 ? atoi(argv[1]) : 0;
  page = mmap(0, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0);
  signal(SIGUSR2, h2);
  mainth = pthread_self(); pthread_t th; pthread_create(&th, 0, spam, 0);
  volatile long x = 0;
  for (int i = 0; i < 300000; i++) { if (mode == 0) mprotect(page, 4096, PROT_READ|PROT_WRITE); else getppid(); }
  done = 1; pthread_join(th, 0);
  printf("ok %d\n", n2 > 0);
  return 0;
}
