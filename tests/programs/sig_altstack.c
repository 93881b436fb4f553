/* sig_altstack — unbounded recursion overflows the stack; the SIGSEGV handler runs on a
 * sigaltstack (SA_ONSTACK), checks that it really is on that stack, prints with write(2)
 * (stdio is not async-signal-safe) and leaves with _exit(3). The recursion depth reached
 * depends on the stack limit and the environment, so only "depth > 1000" is printed. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *alt_base;
static size_t alt_size;
static volatile unsigned long depth;
static volatile unsigned long stop_at = ~0ul;   /* never reached; keeps gcc from warning */

static void say(const char *s) { (void)!write(1, s, strlen(s)); }

static void on_segv(int sig)
{
    char here;
    int on_alt = (uintptr_t)&here >= (uintptr_t)alt_base &&
                 (uintptr_t)&here < (uintptr_t)alt_base + alt_size;
    stack_t cur;
    sigaltstack(NULL, &cur);
    say(sig == SIGSEGV ? "caught SIGSEGV\n" : "caught another signal\n");
    say(on_alt ? "handler on the alternate stack: yes\n" : "handler on the alternate stack: no\n");
    say(cur.ss_flags & SS_ONSTACK ? "sigaltstack reports SS_ONSTACK: yes\n"
                                  : "sigaltstack reports SS_ONSTACK: no\n");
    say(depth > 1000 ? "depth > 1000: yes\n" : "depth > 1000: no\n");
    _exit(on_alt ? 3 : 1);
}

static __attribute__((noinline)) unsigned long recurse(unsigned long n)
{
    volatile char frame[200];
    frame[n % 200] = (char)n;
    depth = n;
    if (n == stop_at)
        return 0;
    return recurse(n + 1) + frame[(n * 7) % 200];  /* not a tail call */
}

int main(void)
{
    alt_size = 64 * 1024;
    alt_base = malloc(alt_size);
    stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
    if (!alt_base || sigaltstack(&ss, NULL) != 0)
        return 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_segv;
    sa.sa_flags = SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0)
        return 1;
    printf("recursing until the stack overflows\n");
    fflush(stdout);
    return (int)recurse(0);
}
