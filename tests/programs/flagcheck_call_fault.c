/* flagcheck_call_fault — regression (review of session 10): `cmp %r8,%r10 ; call *%rax` in
 * a hot loop, so pass_flagcheck checks the call's target with flags. In the last round rsp
 * moves to just above a PROT_NONE page, so the call's push faults; once with the recorded
 * target (the check's hit path) and once with another one (its miss path, where the first
 * version pushed out of line: "fault in hotpath's generated code"). The SIGSEGV handler, on
 * an alternate stack, must see what native execution shows: rip at the call, rcx, rax and
 * the flags the app's, rsp not moved. It prints them (compared with native) and checks them.
 * Exit status 66 when both faults were seen as natively. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

extern void fcf_run(long n, long swap_at, void *newsp, const void *other);
extern const char fcf_call[], fcf_t0[], fcf_t1[];
__asm__(
    ".text\n.globl fcf_run, fcf_call, fcf_t0, fcf_t1\n"
    /* fcf_run(n, swap_at, newsp, other): n rounds calling fcf_t0; in round swap_at rsp =
       newsp and the target is `other` */
    "fcf_run: push %rbx\n push %r12\n push %r13\n"
    " mov %rcx,%r12\n lea fcf_t0(%rip),%rax\n"
    " mov %rsi,%r13\n mov %rdx,%rbx\n"
    " mov $9,%r8\n mov $7,%r10\n mov %rdi,%r9\n mov $0x1234,%rcx\n"
    "1: cmp %r9,%r13\n cmove %rbx,%rsp\n cmove %r12,%rax\n"
    " cmp %r8,%r10\n"
    "fcf_call: call *%rax\n"
    " dec %r9\n jnz 1b\n"
    " pop %r13\n pop %r12\n pop %rbx\n ret\n"
    "fcf_t0: ret\n"
    "fcf_t1: ret\n");

static sigjmp_buf jb;
static volatile long seen_rip, seen_rcx, seen_rax, seen_flags, seen_rsp;

static void on_segv(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    greg_t *g = ((ucontext_t *)ucv)->uc_mcontext.gregs;
    seen_rip = g[REG_RIP];
    seen_rcx = g[REG_RCX];
    seen_rax = g[REG_RAX];
    seen_flags = g[REG_EFL] & 0x8d5;
    seen_rsp = g[REG_RSP];
    siglongjmp(jb, 1);
}

int main(void)
{
    static char alt[65536];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof alt };
    sigaltstack(&ss, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, 0);
    char *m = mmap(0, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED || mprotect(m, 4096, PROT_NONE)) return 1;
    for (int i = 0; i < 50; i++) fcf_run(10000, 0, 0, fcf_t0);       /* hot: a trace */
    const char *targets[2] = { fcf_t0, fcf_t1 }, *names[2] = { "hit", "miss" };
    int ok = 1;
    for (int k = 0; k < 2; k++) {
        seen_rip = 0;
        if (sigsetjmp(jb, 1) == 0) {
            fcf_run(10000, 1, m + 4096, targets[k]);
            printf("%s: no fault\n", names[k]);
            ok = 0;
            continue;
        }
        int good = (const char *)seen_rip == fcf_call && seen_rcx == 0x1234 &&
                   (const char *)seen_rax == targets[k] && seen_flags == 0x91 &&
                   seen_rsp == (long)(m + 4096);
        printf("%s: SEGV at %s rcx=%lx target=%d flags=%lx rsp=%s\n", names[k],
               (const char *)seen_rip == fcf_call ? "the call" : "another pc", (unsigned long)seen_rcx,
               (const char *)seen_rax == targets[k], (unsigned long)seen_flags,
               seen_rsp == (long)(m + 4096) ? "not moved" : "moved");
        ok &= good;
    }
    return ok ? 66 : 1;
}
