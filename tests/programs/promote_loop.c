/* promote_loop.c — loops whose stack slots a trace keeps in registers (built at -O0, where
 * every local lives in a stack slot): int and long slots, read-modify-writes, stores of
 * constants, a store through a pointer to a local inside the loop (the register copy must
 * be reloaded), a timer signal firing all along (its handler runs with the loop's state),
 * and a fault inside a promoted loop recovered with siglongjmp: the locals it left in
 * memory must be what they are natively. */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile long ticks;
static sigjmp_buf env;

static void on_alarm(int sig) { (void)sig; ticks++; }
static void on_segv(int sig) { (void)sig; siglongjmp(env, 1); }

static long sum_loop(int n)
{
    long s = 0;
    int x = 3;
    int *p = &x;
    for (int i = 0; i < n; i++) {
        s += i ^ (s >> 3);
        x = x * 5 + 1;
        if ((i & 1023) == 0) *p += 7;          /* a store to a promoted slot by pointer */
        s -= x & 15;
    }
    return s + x;
}

static int fault_loop(volatile int **ptrs, int n, long *out_i, long *out_acc)
{
    long acc = 0;
    long i = 0;
    if (sigsetjmp(env, 1)) {                     /* the fault: acc and i from memory */
        *out_i = i;
        *out_acc = acc;
        return 1;
    }
    for (i = 0; i < n; i++) {
        acc += i * 3;
        acc += *ptrs[i == 900 ? 7 : i % 7];      /* ptrs[7] is NULL: faults at i == 900 */
    }
    return 0;
}

int main(void)
{
    signal(SIGALRM, on_alarm);
    struct itimerval it = { { 0, 200 }, { 0, 200 } };
    setitimer(ITIMER_REAL, &it, 0);
    long total = 0;
    for (int r = 0; r < 40; r++) total += sum_loop(2000000 + r);
    struct itimerval off;
    memset(&off, 0, sizeof(off));
    setitimer(ITIMER_REAL, &off, 0);
    printf("sum_loop total: %ld (ticks seen: %s)\n", total, ticks > 0 ? "yes" : "no");

    signal(SIGSEGV, on_segv);
    int vals[7] = { 1, 2, 3, 4, 5, 6, 7 };
    volatile int *ptrs[8];
    for (int k = 0; k < 7; k++) ptrs[k] = &vals[k];
    ptrs[7] = 0;
    long fi = 0, facc = 0;
    int faulted = fault_loop(ptrs, 1000, &fi, &facc);
    printf("fault_loop: faulted=%d at i=%ld acc=%ld\n", faulted, fi, facc);
    return 0;
}
