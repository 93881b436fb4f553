/* promote_alias — -O0 loops (kept free of rcx, which the check borrows) whose locals live in registers under hotpath (loop promotion)
 * while the loop stores through pointers that sometimes point at those very locals: a
 * heap cell, a stack array element, the loop's own accumulator and counter. Promoted
 * loops check each such store's address (pass_promote.c, IR_F_ALIAS) and read the slots
 * again when it lands on them; a wrong check gives other sums than native. Also an indexed
 * store into a stack array next to the locals, and a phase where the pointer never aliases.
 * Exit status 49 when the results match the closed forms computed here. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) static long run(long n, int *heap)
{
    int arr[16];
    long sum = 0, k = 0;
    long *targets[4];
    long cell = 0;
    for (int j = 0; j < 16; j++) arr[j] = 0;
    targets[0] = &cell;
    targets[1] = &sum;            /* the promoted accumulator itself */
    targets[2] = &cell;
    targets[3] = &k;              /* and the counter */
    for (long i = 0; i < n; i++) {
        long *p = targets[i & 3];
        *p = *p + 1;              /* through a pointer: may be a promoted slot */
        sum += i & 7;
        arr[i & 15] = (int)i;     /* indexed store into the stack array */
        k++;
        heap[i & 63] = (int)i;    /* a heap store: never aliases */
    }
    long a = 0;
    for (int j = 0; j < 16; j++) a += arr[j];
    return sum * 1000003 + k * 1009 + cell * 7 + a;
}

__attribute__((noinline)) static long quiet(long n, int *heap)
{
    long sum = 0;
    for (long i = 0; i < n; i++) {
        heap[i & 63] = (int)i;    /* never aliases: no reloads at all */
        sum += heap[(i + 1) & 63];
    }
    return sum;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 2000000;
    int *heap = calloc(64, sizeof(int));
    if (!heap) return 1;
    long r = run(n, heap), q = quiet(n, heap);
    /* closed forms: each quarter of rounds adds 1 to sum (and k) through the pointer */
    long sum = 0, k = 0, cell = 0;
    for (long i = 0; i < n; i++) {
        if ((i & 3) == 1) sum++;
        else if ((i & 3) == 3) k++;
        else cell++;
        sum += i & 7;
        k++;
    }
    printf("promote_alias n=%ld r=%ld q=%ld\n", n, r, q);
    long a = 0;
    for (int j = 0; j < 16; j++) {
        long last = n - 1 - ((n - 1 - j) & 15);           /* last i with i & 15 == j */
        a += j < n ? (int)last : 0;
    }
    int ok = r == sum * 1000003 + k * 1009 + cell * 7 + a;
    return ok ? 49 : 1;
}
