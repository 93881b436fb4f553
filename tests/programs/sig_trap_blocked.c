/* sig_trap_blocked.c — regression case found in review (trapblk.c): native and hotpath must agree.
 * See the commit that added it for the bug it caught. */
#include <signal.h>
#include <stdio.h>
#include <sys/time.h>
static volatile long n;
static void h(int s){ n++; }
__attribute__((noinline)) static long f1(long x){ return x + 1; }
__attribute__((noinline)) static long f2(long x){ return x * 3; }
long (*volatile tab[2])(long) = { f1, f2 };
int main(){
  sigset_t s; sigemptyset(&s); sigaddset(&s, SIGTRAP); sigprocmask(SIG_BLOCK, &s, 0);  /* e.g. a daemon blocking "debug" signals */
  signal(SIGALRM, h);
  struct itimerval it = { { 0, 200 }, { 0, 200 } }; setitimer(ITIMER_REAL, &it, 0);
  long acc = 0;
  for (long i = 0; i < 50000000 && n < 2000; i++) acc = tab[i & 1](acc);
  printf("ok: %ld alarms\n", n > 100 ? 100L : n);
  return 0;
}
