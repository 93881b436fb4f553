/* sig_context.c — a SIGSEGV handler that changes the saved context, as garbage collectors
 * and JITs do: it checks the faulting pc is the faulting instruction, skips it by moving
 * REG_RIP past it and puts a value in the register the instruction would have loaded; the
 * program must go on from there with that value. Exits 46 when every round holds. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>

extern char fault_insn[], fault_next[];
static volatile int handled;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    ucontext_t *uc = ucv;
    greg_t *g = uc->uc_mcontext.gregs;
    if ((uintptr_t)g[REG_RIP] == (uintptr_t)fault_insn && si->si_addr == (void *)16) {
        g[REG_RIP] = (greg_t)(uintptr_t)fault_next;      /* skip the load */
        g[REG_RBX] = 4242 + handled;                     /* and make up its result */
        handled++;
    }
}

static __attribute__((noinline, noclone)) long load_through(long *p)
{
    long v;
    __asm__ volatile("mov %1, %%rax\n"
                     ".globl fault_insn\nfault_insn:\n"
                     "mov (%%rax), %%rbx\n"
                     ".globl fault_next\nfault_next:\n"
                     "mov %%rbx, %0\n"
                     : "=r"(v) : "r"(p) : "rax", "rbx", "memory");
    return v;
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, NULL);
    long ok = 0, good = 7;
    for (int i = 0; i < 5; i++) {
        long v = load_through((long *)16);               /* faults: the handler supplies rbx */
        ok += v == 4242 + i;
        ok += load_through(&good) == 7;                  /* the same code without a fault */
    }
    printf("handled %d faults, %ld of 10 results right\n", handled, ok);
    return handled == 5 && ok == 10 ? 46 : 1;
}
