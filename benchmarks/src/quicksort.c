/* quicksort.c — recursive quicksort (median of three, insertion sort for short runs) of
 * pseudo-random 32-bit integers.
 * Stresses: recursive calls/returns, unpredictable compare branches, sequential memory
 * access over a 32 MiB array.
 * Usage: quicksort [N]   (default 8000000 elements); sorts two different arrays of N.
 * Checks the result is sorted and prints a position-weighted checksum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static void insertion_sort(int32_t *a, long n)
{
    for (long i = 1; i < n; i++) {
        int32_t v = a[i];
        long j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
}

static void swap(int32_t *a, int32_t *b) { int32_t t = *a; *a = *b; *b = t; }

static void quicksort(int32_t *a, long n)
{
    if (n <= 16) {
        insertion_sort(a, n);
        return;
    }
    long mid = n / 2;
    if (a[mid] < a[0]) swap(&a[mid], &a[0]);
    if (a[n - 1] < a[0]) swap(&a[n - 1], &a[0]);
    if (a[n - 1] < a[mid]) swap(&a[n - 1], &a[mid]);
    int32_t pivot = a[mid];
    long i = 0, j = n - 1;
    for (;;) {
        while (a[i] < pivot) i++;
        while (a[j] > pivot) j--;
        if (i >= j) break;
        swap(&a[i], &a[j]);
        i++; j--;
    }
    quicksort(a, j + 1);
    quicksort(a + j + 1, n - j - 1);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 8000000;
    int32_t *a = malloc(sizeof(int32_t) * n);
    if (!a) { fprintf(stderr, "quicksort: out of memory\n"); return 1; }
    uint64_t check = 0;
    uint32_t seed = 12345;
    for (int pass = 0; pass < 2; pass++) {
        for (long i = 0; i < n; i++) {
            seed = seed * 1664525u + 1013904223u; /* LCG */
            a[i] = (int32_t)(seed >> 1) % (pass == 0 ? 1000000000 : 1000); /* pass 1: many duplicates */
        }
        quicksort(a, n);
        for (long i = 1; i < n; i++)
            if (a[i - 1] > a[i]) { fprintf(stderr, "quicksort: not sorted at %ld\n", i); return 1; }
        for (long i = 0; i < n; i++)
            check = check * 1000003u + (uint64_t)a[i] * (uint64_t)(i + 1);
    }
    printf("quicksort n=%ld checksum=%llu\n", n, (unsigned long long)check);
    free(a);
    return 0;
}
