/* matmul.c — dense double-precision matrix multiply C = A*B, naive triple loop (i-k-j).
 * Stresses: floating point in a tight loop, streaming loads/stores over N*N arrays
 * (memory bandwidth and cache), loop-carried address arithmetic; no calls in the hot loop.
 * Usage: matmul [N]   (default 800); the product is repeated REPS times with a feedback
 * step so the work cannot be skipped. Prints the sum of C's elements. */
#include <stdio.h>
#include <stdlib.h>

#define REPS 4

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 800;
    double *a = malloc(sizeof(double) * n * n);
    double *b = malloc(sizeof(double) * n * n);
    double *c = malloc(sizeof(double) * n * n);
    if (!a || !b || !c) { fprintf(stderr, "matmul: out of memory\n"); return 1; }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
            b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 12.0 - 0.5;
        }
    double sum = 0;
    for (int r = 0; r < REPS; r++) {
        for (int i = 0; i < n * n; i++)
            c[i] = 0;
        for (int i = 0; i < n; i++)
            for (int k = 0; k < n; k++) {
                double aik = a[i * n + k];
                const double *brow = &b[k * n];
                double *crow = &c[i * n];
                for (int j = 0; j < n; j++)
                    crow[j] += aik * brow[j];
            }
        /* feed a little of the result back into A so each repetition differs */
        for (int i = 0; i < n; i++)
            a[i * n + (i + r) % n] += c[i * n + i] * 1e-3;
        for (int i = 0; i < n * n; i++)
            sum += c[i];
    }
    printf("matmul n=%d checksum=%.6e\n", n, sum);
    free(a); free(b); free(c);
    return 0;
}
