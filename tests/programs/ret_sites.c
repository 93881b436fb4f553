/* ret_sites — one function returning to two call sites in turn (doubly recursive fib, a
 * helper called twice per loop round) and returns that go to neither: a longjmp out of the
 * recursion and a function that returns to a third site through the same ret instruction.
 * Under hotpath the ret's inline check is for one site, the miss path tries the other
 * (pass_retsites.c) before the lookup; every return must still land where it does natively.
 * Exit status 48 when every result is right. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf escape;
static unsigned long leaves;
static int jump_armed = 1;

__attribute__((noinline)) static long fib(int n)
{
    if (n < 2) {
        leaves++;
        if (n == 1 && jump_armed && leaves == 250000) longjmp(escape, 7);   /* from deep down */
        return n;
    }
    return fib(n - 1) + fib(n - 2);
}

static unsigned rng = 12345;
__attribute__((noinline)) static unsigned next(void)
{
    rng = rng * 1103515245u + 12345u;
    return rng >> 8;
}

/* pick: called from three places of one function, the third in a branch taken 1 in 8. */
__attribute__((noinline)) static unsigned mix(unsigned long rounds)
{
    unsigned acc = 0;
    for (unsigned long i = 0; i < rounds; i++) {
        acc += next();
        acc ^= next() << 1;
        if ((i & 7) == 5) acc -= next();
    }
    return acc;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 27;
    int ok = 1;
    int jumped = setjmp(escape);
    if (!jumped) {
        fib(n);
        ok = 0;                              /* the longjmp must have happened */
    } else if (jumped != 7) {
        ok = 0;
    }
    jump_armed = 0;                          /* once */
    leaves = 0;
    long f = fib(n);
    unsigned m = mix(400000);
    printf("fib(%d)=%ld leaves=%lu mix=%u jumped=%d\n", n, f, leaves, m, jumped);
    if (f != 196418 && n == 27) ok = 0;
    return ok ? 48 : 1;
}
