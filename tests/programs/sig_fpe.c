/* sig_fpe — integer division by zero (volatile operands, so the compiler cannot fold it) in
 * 32- and 64-bit, signed and unsigned, plus INT_MIN / -1, each raising SIGFPE; the
 * SA_SIGINFO handler checks si_code == FPE_INTDIV and that si_addr is inside the dividing
 * function, then siglongjmps back. Repeated from a loop. */
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static sigjmp_buf env;
static volatile int last_code, last_sig, fpe_count;
static volatile uintptr_t last_addr;

static void on_fpe(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    last_sig = sig;
    last_code = si->si_code;
    last_addr = (uintptr_t)si->si_addr;
    fpe_count++;
    siglongjmp(env, 1);
}

static volatile int32_t i32_num = 1000, i32_zero = 0, i32_min = INT_MIN, i32_m1 = -1;
static volatile int64_t i64_num = 1000000000000ll, i64_zero = 0;
static volatile uint32_t u32_num = 77, u32_zero = 0;
static volatile uint64_t u64_num = 99, u64_zero = 0;

/* Each divider lives between its own start and the next function, roughly: the check is
 * that si_addr lies in [fn, fn + 256). */
static __attribute__((noinline)) int64_t div_i32(void) { return i32_num / i32_zero; }
static __attribute__((noinline)) int64_t div_i64(void) { return i64_num / i64_zero; }
static __attribute__((noinline)) int64_t div_u32(void) { return u32_num % u32_zero; }
static __attribute__((noinline)) int64_t div_u64(void) { return (int64_t)(u64_num / u64_zero); }
static __attribute__((noinline)) int64_t div_min(void) { return i32_min / i32_m1; }
static __attribute__((noinline)) int64_t div_ok(void) { return i32_num / 7; }

static const char *code_name(int c)
{
    return c == FPE_INTDIV ? "FPE_INTDIV" : c == FPE_INTOVF ? "FPE_INTOVF" : "other";
}

static int try_div(int64_t (*fn)(void), int64_t *value)
{
    last_code = 0;
    last_addr = 0;
    if (sigsetjmp(env, 1) == 0) {
        *value = fn();
        return 0;
    }
    return 1;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGFPE, &sa, NULL) != 0)
        return 1;
    struct {
        const char *name;
        int64_t (*fn)(void);
    } cases[] = {
        {"int32 / 0", div_i32}, {"int64 / 0", div_i64}, {"uint32 % 0", div_u32},
        {"uint64 / 0", div_u64}, {"INT_MIN / -1", div_min}, {"1000 / 7", div_ok},
    };
    int bad = 0;
    for (unsigned i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t v = 0;
        int trapped = try_div(cases[i].fn, &v);
        int in_fn = last_addr >= (uintptr_t)cases[i].fn && last_addr < (uintptr_t)cases[i].fn + 256;
        if (trapped)
            printf("%-12s: SIGFPE %s, si_code %s, si_addr in the function: %s\n", cases[i].name,
                   last_sig == SIGFPE ? "yes" : "no", code_name(last_code), in_fn ? "yes" : "no");
        else
            printf("%-12s: no signal, value %lld\n", cases[i].name, (long long)v);
        bad |= trapped && (last_sig != SIGFPE || last_code != FPE_INTDIV || !in_fn);
        bad |= !trapped && cases[i].fn != div_ok;
    }
    int n = 0;
    for (int i = 0; i < 3000; i++) {
        int64_t v;
        n += try_div(i % 4 == 3 ? div_ok : i % 2 ? div_i64 : div_u32, &v) && last_code == FPE_INTDIV;
    }
    printf("loop: %d traps with FPE_INTDIV, %d SIGFPE in all\n", n, fpe_count);
    bad |= n != 2250;
    return bad ? 1 : 32;
}
