/* promote_readonly — -O0 counted loops whose locals the loop only reads (their bound, a
 * step) live in registers under hotpath (pass_promote.c: read-only slots of counted loops,
 * with the preheader's check of rbp - rsp where they are addressed through rbp). Cases:
 * - the bound is lowered by a SIGALRM handler through a pointer while the loop runs: native
 *   code reads it every round and stops; under hotpath the delivery leaves the trace and
 *   the loop comes back through the preheader, which reads the slot again;
 * - a callee changes a read-only step through a pointer halfway (a store the loop cannot
 *   see into: no read-only promotion there, and the sum must be native's);
 * - the same loop in frames of different sizes (alloca): the preheader's frame check fails
 *   after the first size and the loop runs unpromoted, with the same sums.
 * Exit status 51 when every result matches what is computed here in closed form. */
#include <alloca.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile long *bound_ptr;         /* (volatile: -O2 reads it every round too) */

static void on_alarm(int sig)
{
    (void)sig;
    *bound_ptr = 0;                      /* stop the loop below */
}

__attribute__((noinline)) static long until_alarm(void)
{
    volatile long bound = 40000000000L;  /* minutes natively if the alarm were missed */
    long i, sum = 0;
    bound_ptr = &bound;
    struct itimerval it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_usec = 20000;
    setitimer(ITIMER_REAL, &it, 0);
    for (i = 0; i < bound; i++)
        sum += i & 3;
    return i < 40000000000L && sum >= 0;
}

__attribute__((noinline)) static void bump(long *p) { *p += 2; }

__attribute__((noinline)) static long step_changes(long n)
{
    long step = 1, sum = 0;
    for (long i = 0; i < n; i++) {
        if (i == n / 2) bump(&step);     /* the step goes from 1 to 3 */
        sum += step;
    }
    return sum;
}

__attribute__((noinline)) static long in_frame(long n, long pad)
{
    char *buf = alloca(pad);             /* rbp - rsp differs from call to call */
    memset(buf, 1, pad);
    long limit = n, k = 7, sum = 0;
    for (long i = 0; i < limit; i++)
        sum += k + buf[i % pad];
    return sum;
}

int main(void)
{
    int ok = 1;
    signal(SIGALRM, on_alarm);
    if (!until_alarm()) { printf("the loop missed the handler's bound\n"); ok = 0; }
    long n = 3000000;
    if (step_changes(n) != n / 2 + 3 * (n - n / 2)) { printf("step_changes wrong\n"); ok = 0; }
    for (long pad = 16; pad <= 4096; pad *= 4) {
        long m = 200000 + pad;
        if (in_frame(m, pad) != 8 * m) { printf("in_frame(%ld) wrong\n", pad); ok = 0; }
    }
    printf("promote_readonly %s\n", ok ? "ok" : "FAILED");
    return ok ? 51 : 1;
}
