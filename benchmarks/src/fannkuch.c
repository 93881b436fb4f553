/* fannkuch.c — fannkuch-redux: for every permutation of 1..n, count pancake flips of
 * the prefix until 1 comes first (after the Benchmarks Game).
 * Stresses: data-dependent branches and short unpredictable loops over a tiny array,
 * byte loads/stores; no calls in the hot loop.
 * Usage: fannkuch [PERMS [N]]   (defaults 14000000 and 12): visits the first PERMS
 * permutations of 1..N in the usual rotation order (all N! if PERMS is 0 or larger).
 * Prints the checksum and the max flip count. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    long perms = argc > 1 ? atol(argv[1]) : 14000000;
    int n = argc > 2 ? atoi(argv[2]) : 12;
    if (n < 3 || n > 15) { fprintf(stderr, "fannkuch: N must be 3..15\n"); return 1; }
    int perm[16], perm1[16], count[16];
    int maxflips = 0, checksum = 0, r = n;
    long permcount = 0;
    for (int i = 0; i < n; i++)
        perm1[i] = i;
    for (;;) {
        for (; r != 1; r--)
            count[r - 1] = r;
        for (int i = 0; i < n; i++)
            perm[i] = perm1[i];
        int flips = 0, k;
        while ((k = perm[0]) != 0) {
            for (int i = 0, j = k; i < j; i++, j--) {
                int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
            }
            flips++;
        }
        if (flips > maxflips)
            maxflips = flips;
        checksum += (permcount % 2 == 0) ? flips : -flips;
        /* next permutation in the rotation order */
        for (;;) {
            if (r == n || permcount + 1 == perms) {
                printf("fannkuch n=%d perms=%ld checksum=%d maxflips=%d\n", n, permcount + 1,
                       checksum, maxflips);
                return 0;
            }
            int p0 = perm1[0];
            for (int i = 0; i < r; i++)
                perm1[i] = perm1[i + 1];
            perm1[r] = p0;
            if (--count[r] > 0)
                break;
            r++;
        }
        permcount++;
    }
}
