/* strsearch.c — counts occurrences of several patterns in a 4 MiB generated text, with a
 * naive search and with Boyer-Moore-Horspool, and checks that both agree.
 * Stresses: byte loads, short data-dependent inner loops and branches, table lookups
 * (Horspool's shift table), function calls per pattern/position at -O0.
 * Usage: strsearch [PASSES]   (default 7). Prints the total number of matches. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TEXT_LEN (4 << 20)

static long search_naive(const unsigned char *t, long n, const unsigned char *p, long m)
{
    long count = 0;
    for (long i = 0; i + m <= n; i++) {
        long j = 0;
        while (j < m && t[i + j] == p[j])
            j++;
        if (j == m)
            count++;
    }
    return count;
}

static long search_horspool(const unsigned char *t, long n, const unsigned char *p, long m)
{
    long shift[256], count = 0;
    for (int c = 0; c < 256; c++)
        shift[c] = m;
    for (long j = 0; j < m - 1; j++)
        shift[p[j]] = m - 1 - j;
    for (long i = 0; i + m <= n; i += shift[t[i + m - 1]]) {
        long j = m - 1;
        while (j >= 0 && t[i + j] == p[j])
            j--;
        if (j < 0)
            count++;
    }
    return count;
}

int main(int argc, char **argv)
{
    int passes = argc > 1 ? atoi(argv[1]) : 7;
    static const char *patterns[] = {"acgt", "gattaca", "ttttt", "cagcagcag", "acgtacgtaggcta", "tacg"};
    const int npat = sizeof patterns / sizeof patterns[0];
    unsigned char *text = malloc(TEXT_LEN);
    if (!text) { fprintf(stderr, "strsearch: out of memory\n"); return 1; }
    unsigned seed = 7;
    for (long i = 0; i < TEXT_LEN; i++) {
        seed = seed * 1103515245u + 12345u;
        text[i] = "acgt"[(seed >> 16) & 3];
    }
    long total = 0;
    for (int pass = 0; pass < passes; pass++) {
        for (int k = 0; k < npat; k++) {
            const unsigned char *p = (const unsigned char *)patterns[(k + pass) % npat];
            long m = (long)strlen((const char *)p);
            long a = search_naive(text, TEXT_LEN, p, m);
            long b = search_horspool(text, TEXT_LEN, p, m);
            if (a != b) { fprintf(stderr, "strsearch: naive %ld != horspool %ld\n", a, b); return 1; }
            total += a;
        }
        text[(pass * 7919) % TEXT_LEN] = 'g'; /* perturb so passes differ */
    }
    printf("strsearch passes=%d checksum=%ld\n", passes, total);
    free(text);
    return 0;
}
