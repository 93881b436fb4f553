/* sig_fault_nest — regression (review of session 7): a SIGSEGV from `call *(%rax)` (rax = 8)
 * while another process floods SIGUSR1 (whose handler blocks every signal). Natively
 * SIGSEGV's context is always the faulting call (a SIGUSR1 that comes first runs and
 * returns, then the call faults). Under hotpath a SIGUSR1 caught inside the call's sequence
 * and a fault while stepping out of it were delivered nested, the SIGSEGV's context the
 * other handler's entry; a first fix let the SIGUSR1 handler's mask (SIGSEGV included) block
 * the fault while stepping, and the kernel killed the process. The SIGSEGV handler counts
 * contexts whose pc is elsewhere, and fixes rax so the call is made again and succeeds.
 * Built without PIE (the asm label). Exit 59. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>
extern char fault_insn[];
static void target(void) {}
static void *good = (void *)target;
static volatile long segv, wrong, usr;
static uint64_t wrong_rip;
static void on_segv(int s, siginfo_t *si, void *c) {
    (void)s; (void)si; ucontext_t *uc = c;
    segv++;
    if ((uint64_t)uc->uc_mcontext.gregs[REG_RIP] != (uint64_t)fault_insn) { wrong++; wrong_rip = uc->uc_mcontext.gregs[REG_RIP]; }
    else uc->uc_mcontext.gregs[REG_RAX] = (greg_t)&good;
}
static void on_usr1(int s) { (void)s; usr++; }
__attribute__((noinline)) static void once(void) {
    __asm__ volatile("mov $8, %%rax\n.globl fault_insn\nfault_insn: call *(%%rax)\n" ::: "rax", "rcx", "rdx", "rsi", "rdi", "r8", "r9", "r10", "r11", "memory", "cc");
}
int main(void) {
    struct sigaction sa; memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv; sa.sa_flags = SA_SIGINFO; sigaction(SIGSEGV, &sa, 0);
    sa.sa_handler = on_usr1; sa.sa_flags = SA_RESTART; sigfillset(&sa.sa_mask); sigaction(SIGUSR1, &sa, 0);
    pid_t parent = getpid(), c = fork();
    if (!c) { for (long i = 0; i < 1000000; i++) kill(parent, SIGUSR1); _exit(0); }
    long n = 0;
    while (waitpid(c, 0, WNOHANG) == 0) { once(); n++; }
    if (wrong || segv != n)
        printf("sig_fault_nest: %ld calls, %ld segv, %ld segv contexts not at the call (%#lx)\n", n, segv,
               wrong, (unsigned long)wrong_rip);
    else
        printf("sig_fault_nest: ok\n");
    return wrong || segv != n ? 1 : 59;
}
