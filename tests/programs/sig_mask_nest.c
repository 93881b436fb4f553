/* sig_mask_nest — a handler that blocks its own signal (no SA_NODEFER) is never entered by
 * that signal again before it returns. Another process floods this one with SIGUSR1 while
 * it calls through function pointers (every call and return an inline check: signals often
 * land inside one and wait for a clean point, the next ones queue up behind). Natively the
 * kernel delivers one, blocks SIGUSR1 for the handler, and delivers the next after its
 * sigreturn, in the context it interrupts then. A bug found in session 7: hotpath built
 * the frames of two queued SIGUSR1 one on the other, so the second handler saw the first
 * handler's entry as its interrupted pc (and the clean FPU state a handler starts with).
 * The handler counts contexts whose pc is its own first bytes. Exit 53 when there are none. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <ucontext.h>
#include <unistd.h>

static volatile long got, inside;

static void on_usr1(int sig, siginfo_t *si, void *ctx)
{
    (void)sig; (void)si;
    const ucontext_t *uc = ctx;
    uint64_t rip = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    if (rip >= (uint64_t)on_usr1 && rip < (uint64_t)on_usr1 + 64) inside++;
    got++;
}

__attribute__((noinline)) static long f1(long a) { return a + 1; }
__attribute__((noinline)) static long f2(long a) { return a ^ 3; }
static long (*volatile fp[2])(long) = { f1, f2 };

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_usr1;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGUSR1, &sa, 0);
    pid_t parent = getpid(), c = fork();
    if (c < 0) return 2;
    if (c == 0) {
        for (long i = 0; i < 200000; i++) kill(parent, SIGUSR1);
        _exit(0);
    }
    volatile long x = 0;
    while (waitpid(c, 0, WNOHANG) == 0)
        for (int i = 0; i < 1000; i++) x += fp[i & 1](i);
    if (inside) printf("sig_mask_nest: %ld of %ld handlers entered from the handler's entry\n", inside, got);
    else printf("sig_mask_nest: ok\n");
    return inside ? 1 : 53;
}
