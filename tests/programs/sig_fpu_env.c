/* sig_fpu_env.c — regression case found in review (fpenv.c): native and hotpath must agree.
 * See the commit that added it for the bug it caught. */
#include <signal.h>
#include <stdio.h>
#include <fenv.h>
#include <string.h>
#include <xmmintrin.h>
static volatile int r_in_handler; static volatile unsigned mx_in_handler;
static void h(int s){ r_in_handler = fegetround(); mx_in_handler = _mm_getcsr(); }
int main(){
  signal(SIGUSR1, h);
  fesetround(FE_DOWNWARD);
  raise(SIGUSR1);
  printf("handler: rounding=%s mxcsr=%#x (main still %s)\n",
         r_in_handler == FE_TONEAREST ? "to-nearest" : r_in_handler == FE_DOWNWARD ? "downward" : "other",
         mx_in_handler, fegetround() == FE_DOWNWARD ? "downward" : "?");
  return 0;
}
