/* libm_loop — a hot loop calling libm through the PLT (sin, cos, exp, log, pow, atan2,
 * sqrt), printing running sums with %.6f. libm's ifunc picks FMA/AVX2 variants, which run
 * the same way natively and translated, so the digits must match exactly. */
#include <math.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argv;
    volatile double scale = 1e-4 * argc;  /* not a compile-time constant */
    double s = 0, c = 0, e = 0, l = 0, p = 0, t = 0;
    for (int i = 1; i <= 1000000; i++) {
        double x = i * scale;
        s += sin(x);
        c += cos(x * 0.5);
        if ((i & 7) == 0) {
            e += exp(-x);
            l += log(x + 1.0);
            p += pow(x, 0.25);
            t += atan2(x, 1.0 + sqrt(x));
        }
        if (i % 200000 == 0)
            printf("i=%7d sin=%.6f cos=%.6f exp=%.6f log=%.6f pow=%.6f atan2=%.6f\n", i, s, c, e, l, p, t);
    }
    printf("tan(1)=%.6f cbrt(2)=%.6f hypot(3,4)=%.6f fmod(10,3)=%.6f\n", tan(1.0 * argc),
           cbrt(2.0 * argc), hypot(3.0, 4.0 * argc), fmod(10.0 * argc, 3.0));
    fprintf(stderr, "libm_loop done\n");
    return 25;
}
