/* sink_copy — a hot -O0-style loop whose counter lives in a stack slot and is tested
 * through eax: `mov -4(%rbp),%eax; cmp (%rsi),%eax; jl`. Under hotpath promote keeps the
 * slot in a register and pass_sink moves that copy into the loop's exit (the test reads
 * the register instead), so eax is stale from the copy to the next round's first
 * instruction. What native execution shows must hold all the same:
 *  - after the loop, eax is the counter (the exit's compensation code);
 *  - the test's load runs into a PROT_NONE page: the SIGSEGV handler sees eax = the
 *    counter at the test (the replay at a fault);
 *  - SIGPROF (every tick of CPU time) until 100 land in the loop: eax must be what native
 *    code has at the interrupted instruction, the slot - 1 from the increment to the copy,
 *    the slot elsewhere (async signals in the stale region are delivered at an exact point).
 * Exit status 64 when every check held. */
#define _GNU_SOURCE
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <ucontext.h>
#include <unistd.h>

extern const char sc_loop[], sc_inc_done[], sc_test[], sc_end[];
static sigjmp_buf jb;
static volatile long seen_rax, seen_rip, seen_slot;
static volatile long alarms, in_region, bad_alarms;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    ucontext_t *uc = ucv;
    seen_rax = uc->uc_mcontext.gregs[REG_RAX];
    seen_rip = uc->uc_mcontext.gregs[REG_RIP];
    seen_slot = *(int *)(uc->uc_mcontext.gregs[REG_RBP] - 4);
    siglongjmp(jb, 1);
}

static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    ucontext_t *uc = ucv;
    unsigned long rip = (unsigned long)uc->uc_mcontext.gregs[REG_RIP];
    if (rip < (unsigned long)sc_loop || rip >= (unsigned long)sc_end) return;
    alarms++;
    int eax = (int)uc->uc_mcontext.gregs[REG_RAX];
    int slot = *(int *)(uc->uc_mcontext.gregs[REG_RBP] - 4);
    int stale = rip >= (unsigned long)sc_inc_done && rip < (unsigned long)sc_test;
    if (rip >= (unsigned long)sc_test) in_region++;
    if (eax != (stale ? slot - 1 : slot)) bad_alarms++;
}

/* Counts rounds i = 1, 2, ... while i < bounds[i - 1]; returns eax after the loop (the
 * round whose bound failed, as natively). sum: the slot -8 accumulates i, kept in memory as -O0 does. */
__attribute__((noinline)) static int run(const int *bounds, long *sum)
{
    int ret;
    long s;
    __asm__ volatile(
        "sub $128, %%rsp\n\t"                /* (past the red zone of a leaf function) */
        "push %%rbp\n\t"
        "mov %%rsp, %%rbp\n\t"
        "sub $16, %%rsp\n\t"
        "movl $0, -4(%%rbp)\n\t"
        "movl $0, -8(%%rbp)\n\t"
        "mov %[b], %%rsi\n\t"
        "xor %%eax, %%eax\n"                 /* (eax = the slot at the head, every round) */
        ".globl sc_loop\n"
        "sc_loop:\n\t"
        "mov -4(%%rbp), %%eax\n\t"           /* defines eax first thing in a round */
        "add %%eax, -8(%%rbp)\n\t"
        "addl $1, -4(%%rbp)\n"
        ".globl sc_inc_done\n"
        "sc_inc_done:\n\t"
        "add $4, %%rsi\n\t"
        "mov -4(%%rbp), %%eax\n"             /* the copy pass_sink moves into the exit */
        ".globl sc_test\n"
        "sc_test:\n\t"
        "cmp (%%rsi), %%eax\n\t"             /* may fault */
        "jl sc_loop\n"
        ".globl sc_end\n"
        "sc_end:\n\t"
        "movslq -8(%%rbp), %%rdx\n\t"
        "leave\n\t"
        "add $128, %%rsp\n"
        : "=a"(ret), "=d"(s)
        : [b] "r"(bounds - 1)
        : "rsi", "cc", "memory");
    *sum = s;
    return ret;
}

int main(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(0, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m + page, page, PROT_NONE)) return 1;
    int n = (int)(page / 4);
    int *b = (int *)m;
    int ok = 1;
    long total = 0, sum;
    for (int r = 0; r < 300; r++) {                       /* hot: a promoted trace */
        for (int i = 0; i < n; i++) b[i] = INT_MAX;
        int stop = 100 + r % 700;
        b[stop] = 0;
        int ret = run(b, &sum);
        if (ret != stop + 1) ok = 0;                      /* eax after the loop */
        total += ret + sum;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_alarm;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, 0);
    struct itimerval it = { { 0, 50 }, { 0, 50 } };
    setitimer(ITIMER_PROF, &it, 0);
    for (int i = 0; i < n; i++) b[i] = INT_MAX;
    b[n - 1] = 0;
    for (long r = 0; r < 2000000 && alarms < 100; r++) run(b, &sum);   /* (about 0.4 s) */
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_PROF, &off, 0);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    for (int i = 0; i < n; i++) b[i] = INT_MAX;           /* no bound: runs into the page */
    int faults = 0;
    for (int r = 0; r < 10; r++) {
        if (sigsetjmp(jb, 1) == 0) {
            run(b + r, &sum);
            ok = 0;                                       /* (must have faulted) */
        } else {
            faults++;
            if (seen_rip != (long)sc_test || seen_rax != seen_slot || seen_rax != n - r + 1) ok = 0;
        }
    }
    if (bad_alarms) ok = 0;
    if (getenv("SC_DEBUG")) fprintf(stderr, "%ld alarms, %ld in the region, %ld wrong\n", alarms, in_region, bad_alarms);
    printf("sink_copy total=%ld faults=%d rax=%ld ok=%d\n", total, faults, seen_rax, ok);
    return ok ? 64 : 1;
}
