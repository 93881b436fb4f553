/* setjmp — longjmp out of deep call chains (glibc mangles the saved rsp/rbp/rip and jumps
 * with an indirect `jmp`), volatile locals surviving the jump, nested jump buffers and
 * _setjmp/_longjmp in a hot loop. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf outer, inner;
static unsigned long frames;

__attribute__((noinline)) static void dive(int depth, int code, jmp_buf *target)
{
    volatile char pad[64];
    pad[depth & 63] = (char)depth;
    frames++;
    if (depth < 0)
        return;
    if (depth == 0)
        longjmp(*target, code);
    dive(depth - 1, code, target);
    frames += (unsigned long)pad[depth & 63];  /* never reached */
}

__attribute__((noinline)) static int guarded(int depth, int code)
{
    int r = setjmp(inner);
    if (r != 0)
        return r * 2;
    dive(depth, code, &inner);
    return -1;
}

__attribute__((noinline)) static int jump_once(int i)
{
    jmp_buf b;
    int k = _setjmp(b);
    if (k == 0)
        _longjmp(b, i % 13 + 1);
    return k;
}

int main(void)
{
    volatile int rounds = 0;
    volatile unsigned long sum = 0;

    int r = setjmp(outer);
    sum += (unsigned long)r;
    if (rounds < 5) {
        rounds++;
        dive(1000 * rounds, rounds + 100, &outer);
    }
    printf("outer: rounds=%d sum=%lu frames=%lu\n", rounds, sum, frames);

    long total = 0;
    for (int i = 1; i <= 20000; i++)
        total += guarded(i % 50, i % 7 + 1);
    printf("inner: total=%ld frames=%lu\n", total, frames);

    /* longjmp(buf, 0) must make setjmp return 1. */
    jmp_buf z;
    volatile int seen = 0;
    int v = _setjmp(z);
    if (!seen) {
        seen = 1;
        _longjmp(z, 0);
    }
    printf("longjmp with 0 returns %d\n", v);

    /* hot loop of jumps within one frame */
    unsigned long acc = 0;
    for (int i = 0; i < 200000; i++)
        acc = acc * 31 + (unsigned long)jump_once(i);
    printf("loop acc=%lu\n", acc);
    fprintf(stderr, "setjmp done\n");
    return 14;
}
