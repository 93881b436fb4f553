/* demo.c — the bundled example for `make demo`: a small compute-bound program with calls,
 * returns, indirect calls and a switch, run natively and under hotpath. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
static unsigned long sq(unsigned long x) { return x * x; }
static unsigned long cube(unsigned long x) { return x * x * x; }

int main(int argc, char **argv)
{
    unsigned n = argc > 1 ? (unsigned)atoi(argv[1]) : 32;
    unsigned long (*ops[2])(unsigned long) = { sq, cube };
    unsigned long acc = 0;
    for (unsigned i = 0; i < 2000000; i++) {
        switch (i % 5) {
        case 0: acc += ops[i & 1](i); break;
        case 1: acc ^= acc >> 7; break;
        case 2: acc *= 31; break;
        case 3: acc += i; break;
        default: acc -= i / 3; break;
        }
    }
    printf("fib(%u) = %lu, mix = %lu\n", n, fib(n), acc);
    return 0;
}
