/* trip_signals.c — a flood of SIGPROF (a 20 us POSIX timer: ITIMER_PROF only fires at the
 * scheduler tick) over 512 copies of a -O0-style loop (an [rbp] slot promotion wants)
 * that keeps a live value in rcx across its head, each run 300 times while its trace is
 * counted (traces/trace_trip.c: the counters compute in rcx, spilled): a handler that
 * interrupts a loop must see the app's rcx. Catches a trip counter whose signal mapping is
 * wrong (a review's mutant: the point after the counter's load marked exact, delivering
 * the counter in rcx), which trip_counts.c does not. Prints the same natively. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>
#include <time.h>
#include <unistd.h>
#define MAGIC 0x1234567887654321ull
extern char run_0[], run_1[], in_0[], out_0[], run_end[];
static volatile long bad, hits;
static void on_prof(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    ucontext_t *uc = ucv;
    uint64_t pc = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    uint64_t stride = (uint64_t)(run_1 - run_0);
    if (pc < (uint64_t)run_0 || pc >= (uint64_t)run_end) return;
    uint64_t off = (pc - (uint64_t)run_0) % stride;
    if (off < (uint64_t)(in_0 - run_0) || off > (uint64_t)(out_0 - run_0)) return;
    hits++;
    if ((uint64_t)uc->uc_mcontext.gregs[REG_RCX] != MAGIC) bad++;
}
__asm__(
    "    .pushsection .text\n"
    "    .macro RUN k\n"
    "    .balign 64\n"
    "    .globl run_\\k\n"
    "run_\\k:\n"
    "    push %rbp\n"
    "    mov %rsp,%rbp\n"
    "    sub $32,%rsp\n"
    "    movq $0,-8(%rbp)\n"
    "    mov %rdi,-16(%rbp)\n"
    "    movabs $0x1234567887654321,%rcx\n"
    "    .globl in_\\k\n"
    "in_\\k:\n"
    "    jmp 2f\n"
    "1:  mov -8(%rbp),%rax\n"
    "    add $1,%rax\n"
    "    mov %rax,-8(%rbp)\n"
    "2:  mov -8(%rbp),%rax\n"
    "    cmp -16(%rbp),%rax\n"
    "    jl 1b\n"
    "    .globl out_\\k\n"
    "out_\\k:\n"
    "    movabs $0x1234567887654321,%rdx\n"
    "    xor %rdx,%rcx\n"
    "    mov -8(%rbp),%rax\n"
    "    add %rcx,%rax\n"
    "    leave\n"
    "    ret\n"
    "    .endm\n"
    "    .altmacro\n"
    "    .set k, 0\n"
    "    .rept 512\n"
    "    RUN %k\n"
    "    .set k, k+1\n"
    "    .endr\n"
    "    .globl run_end\n"
    "run_end:\n"
    "    .noaltmacro\n"
    "    .purgem RUN\n"
    "    .popsection\n"
);

static void cut(void) { struct sigaction o; sigaction(SIGUSR1, 0, &o); }   /* ends a recorded path */
int main(void)
{
    uint64_t stride = (uint64_t)(run_1 - run_0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, 0);
    timer_t tm;                               /* a real flood: ITIMER_PROF fires at the tick */
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_SIGNAL;
    ev.sigev_signo = SIGPROF;
    timer_create(CLOCK_MONOTONIC, &ev, &tm);
    struct itimerspec its = { { 0, 20000 }, { 0, 20000 } };
    timer_settime(tm, 0, &its, 0);
    long sum = 0;
    for (int k = 0; k < 512; k++) {
        long (*f)(long) = (long (*)(long))(run_0 + stride * (uint64_t)k);
        for (int i = 0; i < 300; i++) { cut(); sum += f(1 + (i & 1)); }
    }
    struct itimerspec none = { { 0, 0 }, { 0, 0 } };
    timer_settime(tm, 0, &none, 0);
    printf("sum %ld, bad rcx in %s handlers\n", sum, bad ? "some" : "no");
    return bad != 0;
}
