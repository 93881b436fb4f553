/* ac_flag.c — regression case found in review (acflag.c): native and hotpath must agree.
 * See the commit that added it for the bug it caught. */
#include <stdio.h>
__attribute__((noinline)) long work(long *a, int n){ long s = 0; for (int i = 0; i < n; i++) s += a[i] * (i & 3 ? 3 : 5); return s; }
__attribute__((noinline)) long work2(long x){ return x ^ (x >> 3); }
int main(){ static long a[64]; for (int i = 0; i < 64; i++) a[i] = i;
  __asm__ volatile("pushf; orl $0x40000, (%%rsp); popf" ::: "memory", "cc");   /* AC=1: alignment checking on */
  long s = work(a, 64); s = work2(s);
  __asm__ volatile("pushf; andl $~0x40000, (%%rsp); popf" ::: "memory", "cc");
  printf("ok %ld\n", s); return 0; }
