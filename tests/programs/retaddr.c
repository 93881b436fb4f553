/* retaddr — programs that look at code addresses: __builtin_return_address(0) must lie
 * inside the calling function (checked against its address and with dladdr), the pc read
 * by `lea 0(%rip)` must lie inside the running function, and a function's address must be
 * the same however it is obtained (direct, data table, dlsym, volatile round trip). Prints
 * comparisons only: addresses change with ASLR. Built with -rdynamic so dladdr and dlsym
 * see the program's own symbols. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define WINDOW 4096  /* a caller's call site lies within this many bytes of its entry */

static int checks, failures;

static void expect(const char *what, int ok)
{
    checks++;
    failures += !ok;
    printf("%-48s %s\n", what, ok ? "ok" : "WRONG");
}

static const char *symbol_of(const void *pc)
{
    Dl_info info;
    if (!dladdr(pc, &info) || !info.dli_sname)
        return "?";
    return info.dli_sname;
}

__attribute__((noinline)) void *who_called(void)
{
    void *ra = __builtin_extract_return_addr(__builtin_return_address(0));
    __asm__ volatile("" ::: "memory");
    return ra;
}

__attribute__((noinline)) void *current_pc(void)
{
    void *pc;
    __asm__ volatile("lea 0(%%rip), %0" : "=r"(pc));
    return pc;
}

__attribute__((noinline)) uintptr_t caller_alpha(void)
{
    return (uintptr_t)who_called() ^ 1;
}

__attribute__((noinline)) uintptr_t caller_beta(int twice)
{
    uintptr_t a = (uintptr_t)who_called();
    if (twice)
        a = (uintptr_t)who_called();
    return a ^ 2;  /* work after the call: no tail call */
}

/* Which caller made the call, decided from the return address alone. */
__attribute__((noinline)) int dispatch_on_caller(void *ra)
{
    uintptr_t r = (uintptr_t)ra;
    if (r > (uintptr_t)caller_alpha && r < (uintptr_t)caller_alpha + WINDOW && r < (uintptr_t)caller_beta)
        return 1;
    if (r > (uintptr_t)caller_beta && r < (uintptr_t)caller_beta + WINDOW)
        return 2;
    return 0;
}

__attribute__((noinline)) int target_fn(int x) { return x * 3 + 1; }
static int (*const table[])(int) = { target_fn };

int main(void)
{
    uintptr_t ra_alpha = caller_alpha() ^ 1;
    uintptr_t ra_beta = caller_beta(1) ^ 2;
    uintptr_t a = (uintptr_t)caller_alpha, b = (uintptr_t)caller_beta;
    expect("return address inside caller_alpha", ra_alpha > a && ra_alpha < a + WINDOW);
    expect("return address inside caller_beta", ra_beta > b && ra_beta < b + WINDOW);
    expect("dladdr(return address) names caller_alpha", !strcmp(symbol_of((void *)ra_alpha), "caller_alpha"));
    expect("dladdr(return address) names caller_beta", !strcmp(symbol_of((void *)ra_beta), "caller_beta"));
    expect("dispatch by return address picks alpha", dispatch_on_caller((void *)ra_alpha) == 1);
    expect("dispatch by return address picks beta", dispatch_on_caller((void *)ra_beta) == 2);
    expect("repeated call site gives the same address", (caller_alpha() ^ 1) == ra_alpha);

    uintptr_t ra_main = (uintptr_t)who_called();
    expect("return address in main names main", !strcmp(symbol_of((void *)ra_main), "main"));

    uintptr_t pc = (uintptr_t)current_pc();
    expect("lea 0(%rip) lies inside current_pc", pc >= (uintptr_t)current_pc && pc < (uintptr_t)current_pc + 64);
    expect("dladdr(pc) names current_pc", !strcmp(symbol_of((void *)pc), "current_pc"));

    int (*volatile through_volatile)(int) = target_fn;
    int (*from_dlsym)(int) = (int (*)(int))dlsym(RTLD_DEFAULT, "target_fn");
    int (*printf_dlsym)(const char *, ...) = (int (*)(const char *, ...))dlsym(RTLD_DEFAULT, "printf");
    expect("&target_fn == table entry", table[0] == target_fn);
    expect("&target_fn == volatile round trip", through_volatile == target_fn);
    expect("&target_fn == dlsym(\"target_fn\")", from_dlsym == target_fn);
    expect("&printf == dlsym(\"printf\")", printf_dlsym == printf);
    expect("calls through each pointer agree",
           table[0](5) == 16 && through_volatile(5) == 16 && from_dlsym && from_dlsym(5) == 16);

    /* a hot loop keyed on return addresses */
    unsigned long votes[3] = { 0, 0, 0 };
    for (int i = 0; i < 300000; i++) {
        void *ra = (i & 1) ? (void *)(caller_alpha() ^ 1) : (void *)(caller_beta(i & 2) ^ 2);
        votes[dispatch_on_caller(ra)]++;
    }
    printf("votes: unknown=%lu alpha=%lu beta=%lu\n", votes[0], votes[1], votes[2]);
    printf("%d checks, %d wrong\n", checks, failures);
    return failures ? 1 : 21;
}
