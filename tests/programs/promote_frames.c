/* promote_frames.c — promoted loops that call -O0 functions (built at -O0: the callee
 * pushes rbp, keeps its arguments in its own stack slots and returns), with double
 * accumulators in stack slots (kept in xmm registers by the trace) and returns matched
 * with their calls (retpair). The cases:
 * - xmm8..xmm15 hold sentinels the loop never touches natively; a timer signal fires all
 *   along and its handler checks that the interrupted context shows them (a borrowed
 *   register must show the app's value in a signal context), and they must be intact
 *   after the loop;
 * - the same loop entered with another frame (alloca before it: rbp - rsp differs from the
 *   recorded one; the preheader's frame check must refuse the promoted trace);
 * - a fault inside the callee of a promoted loop recovered with siglongjmp: the caller's
 *   locals in memory are what they are natively, and the handler sees the sentinels;
 * - a callee that stores through a pointer to the caller's promoted slot. */
#define _GNU_SOURCE
#include <alloca.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#define SENTINEL(k) (0x5e5e000000000000ull | (uint64_t)(k) * 0x1111)

static volatile long ticks, bad_ctx;
static sigjmp_buf env;

static void set_sentinels(void)
{
    uint64_t v[8];
    for (int k = 0; k < 8; k++) v[k] = SENTINEL(k + 8);
    __asm__ volatile("movq %0, %%xmm8\n\tmovq %1, %%xmm9\n\tmovq %2, %%xmm10\n\tmovq %3, %%xmm11\n\t"
                     "movq %4, %%xmm12\n\tmovq %5, %%xmm13\n\tmovq %6, %%xmm14\n\tmovq %7, %%xmm15"
                     :: "m"(v[0]), "m"(v[1]), "m"(v[2]), "m"(v[3]), "m"(v[4]), "m"(v[5]), "m"(v[6]), "m"(v[7])
                     : "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

/* sentinels_bad: how many of xmm8..15 do not hold their sentinel now. */
static int sentinels_bad(void)
{
    uint64_t v[8];
    __asm__ volatile("movq %%xmm8, %0\n\tmovq %%xmm9, %1\n\tmovq %%xmm10, %2\n\tmovq %%xmm11, %3\n\t"
                     "movq %%xmm12, %4\n\tmovq %%xmm13, %5\n\tmovq %%xmm14, %6\n\tmovq %%xmm15, %7"
                     : "=m"(v[0]), "=m"(v[1]), "=m"(v[2]), "=m"(v[3]), "=m"(v[4]), "=m"(v[5]), "=m"(v[6]), "=m"(v[7]));
    int bad = 0;
    for (int k = 0; k < 8; k++) bad += v[k] != SENTINEL(k + 8);
    return bad;
}

static int ctx_bad(void *ucv)
{
    ucontext_t *uc = ucv;
    int bad = 0;
    for (int k = 8; k < 16; k++) {
        uint64_t lo;
        memcpy(&lo, &uc->uc_mcontext.fpregs->_xmm[k], 8);
        bad += lo != SENTINEL(k);
    }
    return bad;
}

static void on_alarm(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si;
    ticks++;
    if (ctx_bad(uc)) bad_ctx++;
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig; (void)si;
    if (ctx_bad(uc)) bad_ctx++;
    siglongjmp(env, 1);
}

static int weight(int i, int j)
{
    int a = i + j;
    int b = a * (a + 1) / 2;
    return b + i + 1;
}

static double step(double x, int k)
{
    double y = x * 0.5;
    y += k;
    return y;
}

/* loop_calls: an -O0 loop whose body calls two functions; s and t are double slots. */
static double loop_calls(int n, int seed)
{
    double s = 0, t = 1;
    long acc = seed;
    for (int j = 0; j < n; j++) {
        s += 1.0 / weight(seed, j);
        t = step(t, j & 7);
        acc += j ^ (acc >> 5);
    }
    return s + t + (double)(acc & 0xffff);
}

/* loop_alloca: the same loop after an alloca of `pad` bytes: another frame at its head. */
static double loop_alloca(int n, int pad)
{
    volatile char *p = alloca(pad);
    p[0] = 1;
    double s = 0;
    for (int j = 0; j < n; j++) s += 1.0 / weight(pad, j) + p[0];
    return s;
}

static void bump(long *where, int by) { *where += by; }

/* loop_store_through: the callee writes the caller's promoted slot through a pointer. */
static long loop_store_through(int n)
{
    long c = 0;
    for (int j = 0; j < n; j++) {
        c += 3;
        if ((j & 255) == 0) bump(&c, 1000);
        c -= 1;
    }
    return c;
}

static long deref(volatile long *p, long i) { return *p + i; }

/* loop_fault: the callee faults at i == at (ptrs[7] is NULL); i and acc from memory. */
static int loop_fault(volatile long **ptrs, int n, int at, long *out_i, long *out_acc, double *out_d)
{
    volatile long i = 0, acc = 0;
    volatile double d = 0;
    if (sigsetjmp(env, 1)) {
        *out_i = i;
        *out_acc = acc;
        *out_d = d;
        return 1;
    }
    for (i = 0; i < n; i++) {
        acc += deref(ptrs[i == at ? 7 : i % 7], i);
        d += 0.25;
    }
    return 0;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGALRM, &sa, 0);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    struct itimerval it = { { 0, 300 }, { 0, 300 } };
    set_sentinels();
    setitimer(ITIMER_REAL, &it, 0);
    double total = 0;
    for (int r = 0; r < 30; r++) total += loop_calls(300000, r);
    int after = sentinels_bad();
    struct itimerval off;
    memset(&off, 0, sizeof(off));
    setitimer(ITIMER_REAL, &off, 0);
    printf("loop_calls: %.6f (ticks seen: %s, bad contexts: %ld, sentinels lost: %d)\n", total,
           ticks > 0 ? "yes" : "no", bad_ctx, after);

    double a = 0;
    for (int r = 0; r < 6; r++) a += loop_alloca(200000, 16 + 48 * (r % 3));
    printf("loop_alloca: %.6f\n", a);

    long c = 0;
    for (int r = 0; r < 10; r++) c += loop_store_through(100000 + r);
    printf("loop_store_through: %ld\n", c);

    long vals[7] = { 1, 2, 3, 4, 5, 6, 7 };
    volatile long *ptrs[8];
    for (int k = 0; k < 7; k++) ptrs[k] = &vals[k];
    ptrs[7] = 0;
    set_sentinels();
    long fi = 0, facc = 0;
    double fd = 0;
    int faulted = loop_fault(ptrs, 100000, 90000, &fi, &facc, &fd);
    printf("loop_fault: faulted=%d at i=%ld acc=%ld d=%.2f (bad contexts: %ld)\n", faulted, fi, facc, fd,
           bad_ctx);
    return bad_ctx ? 1 : 47;
}
