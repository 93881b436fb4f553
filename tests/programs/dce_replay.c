/* dce_replay — a hot loop with a register move that is dead but for the load after it,
 * which can fault: `movslq %ecx,%rax` then `mov (%rsi),%rax`. Under hotpath the trace's dce
 * removes the move and gives the load a replay of it (pass_dce.c); the last round's load
 * runs into a PROT_NONE page, and the SIGSEGV handler must see rax = the sign extension of
 * ecx (as natively, where the move ran) at the load's address. Values of ecx are negative,
 * so a zero extension would differ too. Exit status 63 when every check held. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

extern const char dr_load[];
static sigjmp_buf jb;
static volatile long seen_rax, seen_rcx, seen_rip;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    ucontext_t *uc = ucv;
    seen_rax = uc->uc_mcontext.gregs[REG_RAX];
    seen_rcx = uc->uc_mcontext.gregs[REG_RCX];
    seen_rip = uc->uc_mcontext.gregs[REG_RIP];
    siglongjmp(jb, 1);
}

/* sum of p[0..n) (n >= 1); ecx is -5 in the first round and goes down by 3 a round */
__attribute__((noinline)) static long run(const long *p, long n)
{
    long sum = 0;
    const long *q = p;
    long k = n;
    __asm__ volatile(
        "mov $-2, %%ecx\n"
        "1:\n\t"
        "sub $3, %%ecx\n\t"                 /* (a trace's first instruction always stays) */
        "movslq %%ecx, %%rax\n"              /* dead: the load below overwrites rax */
        ".globl dr_load\n"
        "dr_load:\n\t"
        "mov (%[q]), %%rax\n\t"              /* may fault */
        "add %%rax, %[sum]\n\t"
        "add $8, %[q]\n\t"
        "dec %[k]\n\t"
        "jnz 1b\n"
        : [sum] "+r"(sum), [q] "+r"(q), [k] "+r"(k)
        :
        : "rax", "rcx", "cc", "memory");
    return sum;
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + page, page, PROT_NONE)) return 1;
    long n = page / 8;
    long *p = (long *)m;
    for (long i = 0; i < n; i++) p[i] = i;
    long total = 0;
    for (int r = 0; r < 300; r++) total += run(p, n);         /* hot: a trace */
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    int ok = 1;
    for (int r = 0; r < 20; r++) {
        long len = n + 1 - (r % 3);                          /* the last round or two fault */
        if (sigsetjmp(jb, 1) == 0) {
            total += run(p + (r % 3), len);
            ok = 0;                                          /* (must have faulted) */
        } else {
            int ecx = (int)seen_rcx;
            if (seen_rax != (long)ecx || seen_rip != (long)dr_load || ecx >= 0) ok = 0;
        }
    }
    printf("dce_replay total=%ld rax=%ld rcx=%ld ok=%d\n", total, seen_rax, (long)(int)seen_rcx, ok);
    return ok ? 63 : 1;
}
