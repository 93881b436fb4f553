/* recursion — deep non-tail recursion (100k frames by default, argv[1] overrides), mutual
 * recursion and a return-heavy Ackermann: every return must land on the right frame. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long calls;

/* Work after the recursive call keeps gcc from turning this into a loop. */
__attribute__((noinline)) static unsigned long deep(unsigned long n, unsigned long acc)
{
    volatile unsigned long local = n * 2654435761ul;
    calls++;
    if (n == 0)
        return acc;
    unsigned long r = deep(n - 1, acc ^ local);
    return r * 31 + (local & 0xff);
}

__attribute__((noinline)) static int is_odd(unsigned n);
__attribute__((noinline)) static int is_even(unsigned n)
{
    calls++;
    return n == 0 ? 1 : is_odd(n - 1) + 0 * (int)calls;
}
__attribute__((noinline)) static int is_odd(unsigned n)
{
    calls++;
    return n == 0 ? 0 : is_even(n - 1) + 0 * (int)calls;
}

__attribute__((noinline)) static unsigned long ack(unsigned long m, unsigned long n)
{
    calls++;
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(int argc, char **argv)
{
    unsigned long depth = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;

    unsigned long r = deep(depth, 1);
    printf("deep(%lu) = %016lx calls=%lu\n", depth, r, calls);

    calls = 0;
    int e = is_even((unsigned)(depth / 2 + 1));
    printf("is_even(%lu) = %d calls=%lu\n", depth / 2 + 1, e, calls);

    calls = 0;
    unsigned long a = ack(2, 2000);
    unsigned long b = ack(3, 6);
    printf("ack(2,2000) = %lu ack(3,6) = %lu calls=%lu\n", a, b, calls);

    fprintf(stderr, "recursion done\n");
    return 11;
}
