/* split_loop — a naive string search (built at -O1 by tests/e2e/run_traces.sh): the inner
 * loop's test is a block of its own that the outer loop's trace exits to, so it becomes a
 * trace head before the inner loop's head does; recording from the inner head then meets
 * that trace one block in. hotpath keeps such a tail when it comes back to the head
 * (trace.c: the split loop closes as one, statistic trace_tails_looped). Prints the match
 * counts (compared with native). */
#include <stdio.h>

static long search(const unsigned char *t, long n, const unsigned char *p, long m)
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

int main(void)
{
    static unsigned char text[1 << 18];
    unsigned seed = 7;
    for (long i = 0; i < (long)sizeof(text); i++) {
        seed = seed * 1103515245u + 12345u;
        text[i] = (unsigned char)"acgt"[(seed >> 16) & 3];
    }
    static const char *pats[] = { "acgt", "gattaca", "ttt", "cagcag" };
    long total = 0;
    for (int r = 0; r < 8; r++)
        for (int k = 0; k < 4; k++) {
            long m = 0;
            while (pats[k][m]) m++;
            long c = search(text, (long)sizeof(text), (const unsigned char *)pats[k], m);
            if (r == 0) printf("%s: %ld\n", pats[k], c);
            total += c;
        }
    printf("total %ld\n", total);
    return 0;
}
