/* ret_chain_rcx — a chain of returns keeps the app's rcx through signals and faults.
 * Under hotpath a trace's inline return checks compute in rcx, and between two checks with
 * nothing in between that uses rcx the app's rcx stays in the thread's spill slot
 * (optimizer/ir_emit.c ie_keep_spill): a signal or a fault there must still show the app's
 * rcx in its context. Here asm functions that never touch rcx run with rcx = MAGIC: f1
 * calls f2 in a loop, f2 calls f3 (a short loop) and then loads through a pointer, so the
 * trace after f3's loop is `ret; load; pop; ret` — two checks, the load between them.
 * A SIGPROF timer checks the interrupted rcx whenever it lands in those functions; then
 * the pointer is made null and the load faults between the two returns: the SIGSEGV
 * handler checks rcx and the faulting pc there. Exit 52 when every check passed. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#define MAGIC 0x5eed0123456789abull

uint64_t rc_run(uint64_t magic, uint64_t rounds);
extern char rc_f1[], rc_fault[], rc_end[];
uint64_t *rc_ptr;

__asm__(".text\n"
        ".globl rc_run, rc_f1, rc_fault, rc_end\n"
        "rc_run:\n"                       /* rcx = magic; f1(rounds); return rcx */
        "  push %rbp\n  mov %rsp,%rbp\n"
        "  mov %rdi,%rcx\n  mov %rsi,%rdi\n"
        "  call rc_f1\n"
        "  mov %rcx,%rax\n  pop %rbp\n  ret\n"
        "rc_f1:\n"                        /* calls f2 rdi times */
        "  push %rbp\n  mov %rsp,%rbp\n  push %rbx\n  mov %rdi,%rbx\n"
        "1: call rc_f2\n  dec %rbx\n  jnz 1b\n"
        "  pop %rbx\n  pop %rbp\n  ret\n"
        "rc_f2:\n"                        /* f3, then a load through rc_ptr */
        "  push %rbp\n  mov %rsp,%rbp\n  call rc_f3\n"
        "  mov rc_ptr(%rip),%rdx\n"
        "rc_fault:\n"
        "  mov (%rdx),%r8\n  add %r8,%r9\n  pop %rbp\n  ret\n"
        "rc_f3:\n"
        "  push %rbp\n  mov %rsp,%rbp\n  mov $20,%eax\n"
        "2: add %rax,%r10\n  dec %eax\n  jnz 2b\n"
        "  pop %rbp\n  ret\n"
        "rc_end:\n");

static volatile sig_atomic_t in_range, bad_prof, segv_seen, segv_ok;
static sigjmp_buf env;

static void on_prof(int sig, siginfo_t *si, void *ctx)
{
    (void)sig; (void)si;
    const ucontext_t *uc = ctx;
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    if (rip < (uint64_t)rc_f1 || rip >= (uint64_t)rc_end) return;
    in_range++;
    if ((uint64_t)uc->uc_mcontext.gregs[REG_RCX] != MAGIC) bad_prof++;
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
    (void)sig;
    const ucontext_t *uc = ctx;
    segv_seen = 1;
    segv_ok = (uint64_t)uc->uc_mcontext.gregs[REG_RCX] == MAGIC &&
              (uint64_t)uc->uc_mcontext.gregs[REG_RIP] == (uint64_t)rc_fault && si->si_addr == 0;
    siglongjmp(env, 1);
}

int main(void)
{
    static uint64_t cell = 1;
    rc_ptr = &cell;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, 0);
    struct itimerval it = { { 0, 200 }, { 0, 200 } };
    setitimer(ITIMER_PROF, &it, 0);
    static int wrong;
    for (int r = 0; r < 30; r++)
        if (rc_run(MAGIC, 100000) != MAGIC) wrong++;
    memset(&it, 0, sizeof(it));
    setitimer(ITIMER_PROF, &it, 0);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGSEGV, &sa, 0);
    if (!sigsetjmp(env, 1)) {
        rc_ptr = 0;                       /* the next f2 faults between f3's and its return */
        rc_run(MAGIC, 10);
    }
    int ok = !wrong && !bad_prof && segv_seen && segv_ok;
    if (!ok)
        printf("ret_chain_rcx: wrong %d, bad rcx at %d of %d timer signals, segv %d/%d\n", wrong,
               (int)bad_prof, (int)in_range, (int)segv_seen, (int)segv_ok);
    else
        printf("ret_chain_rcx: ok\n");
    return ok ? 52 : 1;
}
