/* xfwd_doubles — -O0 code moving doubles through stack slots and general registers, the
 * forms pass_xfwd.c reads back from registers: a double argument (stored, loaded into rax,
 * movq into xmm0 for sqrt and for a function of ours), a double result (movq %xmm0,%rax;
 * movq %rax,%xmm1), a local double read back after a store through a pointer to it (the
 * pass must forget what it held: the value is the pointer's), and a double stored from a
 * general register. Every value is a small integer, so each result is exact and is
 * checked against the same sum in integers. Exit status 67 when everything matches. */
#include <math.h>
#include <stdio.h>
#include <string.h>

__attribute__((noinline)) static double twice(double x) { return x + x; }

__attribute__((noinline)) static void bump(double *p, double by) { *p += by; }

int main(void)
{
    long isum = 0;
    double dsum = 0, esum = 0;
    for (long i = 0; i < 300000; i++) {
        double a = (double)(i & 1023);
        double r = sqrt(a * a);                  /* a, through sqrt's argument and result */
        double t = twice(r);                     /* 2a */
        double u = t + 1.0;
        long ubits;
        memcpy(&ubits, &u, sizeof ubits);
        double d = t;                            /* xmm0 holds d's bytes ... */
        double *p = &d;
        memcpy(p, &ubits, sizeof ubits);         /* ... until a store through a pointer to d
                                                    (from a general register) */
        dsum += d;                               /* 2a + 1 */
        bump(&d, 2.0);                           /* and through a callee */
        esum += d;                               /* 2a + 3 */
        long bits;
        memcpy(&bits, &t, sizeof bits);          /* t's bits through a general register */
        double back;
        memcpy(&back, &bits, sizeof back);
        esum -= back;                            /* 3 */
        isum += 2 * (i & 1023) + 1;
    }
    int ok = dsum == (double)isum && esum == 3.0 * 300000;
    printf("xfwd_doubles: %.1f %.1f %s\n", dsum, esum, ok ? "ok" : "WRONG");
    return ok ? 67 : 1;
}
