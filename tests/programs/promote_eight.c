/* promote_eight — -O0 loops with eight written locals each: eight integer slots (r8..r11,
 * r12..r15 and rbx borrowed), eight doubles (xmm8..15 borrowed), under a 200 µs SIGPROF.
 * The callers set r8..r15, rbx and xmm8..15 to known values first (the loops' own code,
 * compiled at -O0, never touches them): a handler interrupting a loop must see those app
 * values in its context, wherever promotion keeps the slots (runtime/signals.c restores the
 * borrowed registers from T_PROMO / T_PROMO_X, which session 13 moved and grew to eight
 * entries), and after each loop they must still hold them. Prints the loops' results and
 * the count of wrong registers seen (0 natively). A review's test, made a program. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

long sink;
double dsink;

void loop(long n, long *p)
{
    long a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
    for (long i = 0; i < n; i++) { a += i; b += a; c += b; d ^= c; e += d; f += e; g += f; h += g; *p += h; }
    sink = a + b + c + d + e + f + g + h;
}

void dloop(long n, double *p)
{
    double a = 0, b = 0, c = 0, d = 0, e = 0, f = 0, g = 0, h = 0;
    for (long i = 0; i < n; i++) {
        a += 1.0; b += a * 1e-3; c += b * 1e-3; d -= c * 1e-3; e += d * 1e-3; f += e * 1e-3;
        g += f * 1e-3; h += g * 1e-3;
    }
    *p = a + b + c + d + e + f + g + h;
}

void loops_end(void) {}

void call_loop(long n, long *p, long *out);           /* below: registers set, then saved */
void call_dloop(long n, double *p, long *out);
#define SETREGS \
    "push %rbx; push %r12; push %r13; push %r14; push %r15; push %rdx\n" \
    "mov $0x1111,%r8; mov $0x2222,%r9; mov $0x3333,%r10; mov $0x4444,%r11\n" \
    "mov $0x5555,%r12; mov $0x6666,%r13; mov $0x7777,%r14; mov $0x8888,%r15; mov $0x9999,%rbx\n" \
    ".irp i,8,9,10,11,12,13,14,15\n" \
    "mov $(0x100+\\i),%rax; movq %rax,%xmm\\i; mov $(0x200+\\i),%rax; movq %rax,%xmm0; punpcklqdq %xmm0,%xmm\\i\n" \
    ".endr\n"
#define SAVEREGS \
    "pop %rdx\n" \
    "mov %r8,0(%rdx); mov %r9,8(%rdx); mov %r10,16(%rdx); mov %r11,24(%rdx); mov %r12,32(%rdx)\n" \
    "mov %r13,40(%rdx); mov %r14,48(%rdx); mov %r15,56(%rdx); mov %rbx,64(%rdx)\n" \
    "movdqu %xmm8,72(%rdx); movdqu %xmm9,88(%rdx); movdqu %xmm10,104(%rdx); movdqu %xmm11,120(%rdx)\n" \
    "movdqu %xmm12,136(%rdx); movdqu %xmm13,152(%rdx); movdqu %xmm14,168(%rdx); movdqu %xmm15,184(%rdx)\n" \
    "pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx\n"
__asm__(".text\n.globl call_loop\ncall_loop:\n" SETREGS "sub $8,%rsp\ncall loop\nadd $8,%rsp\n" SAVEREGS "ret\n"
        ".globl call_dloop\ncall_dloop:\n" SETREGS "sub $8,%rsp\ncall dloop\nadd $8,%rsp\n" SAVEREGS "ret\n");

static volatile long bad;
static const int regs[] = { REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13, REG_R14, REG_R15, REG_RBX };

static void on_prof(int sig, siginfo_t *si, void *u)
{
    (void)sig; (void)si;
    ucontext_t *uc = u;
    unsigned long pc = uc->uc_mcontext.gregs[REG_RIP];
    if (pc < (unsigned long)loop || pc >= (unsigned long)loops_end) return;
    for (int i = 0; i < 9; i++)
        if (uc->uc_mcontext.gregs[regs[i]] != 0x1111 * (i + 1)) bad++;
    for (int i = 8; i < 16; i++) {
        long v[2];
        memcpy(v, &uc->uc_mcontext.fpregs->_xmm[i], 16);
        if (v[0] != 0x100 + i || v[1] != 0x200 + i) bad++;
    }
}

static int wrong_after(const long *out)
{
    int w = 0;
    for (int i = 0; i < 9; i++) w += out[i] != 0x1111 * (i + 1);
    for (int i = 0; i < 8; i++) w += out[9 + 2 * i] != 0x108 + i || out[10 + 2 * i] != 0x208 + i;
    return w;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 12000000;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, 0);
    struct itimerval it = { { 0, 200 }, { 0, 200 } };
    setitimer(ITIMER_PROF, &it, 0);
    long x = 0, out[9 + 16];
    double dx = 0;
    call_loop(n, &x, out);
    int w1 = wrong_after(out);
    call_dloop(n, &dx, out);
    int w2 = wrong_after(out);
    struct itimerval off;
    memset(&off, 0, sizeof(off));
    setitimer(ITIMER_PROF, &off, 0);
    printf("x=%ld sink=%ld dx=%.6e wrong after: %d %d, in handlers: %ld\n", x, sink, dx, w1, w2, bad);
    return 0;
}
