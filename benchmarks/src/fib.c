/* fib.c — naive doubly recursive Fibonacci.
 * Stresses: direct calls and returns (deep, very many), return-address prediction,
 * stack traffic; nearly no other work per call.
 * Usage: fib [N]   (default 42). Prints fib(N). */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static long fib(int n)
{
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 42;
    printf("fib n=%d checksum=%ld\n", n, fib(n));
    return 0;
}
