/* spectralnorm.c — spectral norm of the infinite matrix A(i,j)=1/((i+j)(i+j+1)/2+i+1)
 * by the power method (after the Benchmarks Game).
 * Stresses: a small function called N*N times per product (calls/returns at -O0/-O1,
 * inlined at -O2), integer-to-double conversion, floating-point division.
 * Usage: spectralnorm [N]   (default 4600). Prints the norm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static double eval_a(int i, int j) { return 1.0 / ((i + j) * (i + j + 1) / 2 + i + 1); }

static void mul_av(int n, const double *v, double *av)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++)
            s += eval_a(i, j) * v[j];
        av[i] = s;
    }
}

static void mul_atv(int n, const double *v, double *atv)
{
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++)
            s += eval_a(j, i) * v[j];
        atv[i] = s;
    }
}

static void mul_atav(int n, const double *v, double *out, double *tmp)
{
    mul_av(n, v, tmp);
    mul_atv(n, tmp, out);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 4600;
    double *u = malloc(sizeof(double) * n), *v = malloc(sizeof(double) * n);
    double *tmp = malloc(sizeof(double) * n);
    if (!u || !v || !tmp) { fprintf(stderr, "spectralnorm: out of memory\n"); return 1; }
    for (int i = 0; i < n; i++)
        u[i] = 1;
    for (int i = 0; i < 10; i++) {
        mul_atav(n, u, v, tmp);
        mul_atav(n, v, u, tmp);
    }
    double vbv = 0, vv = 0;
    for (int i = 0; i < n; i++) {
        vbv += u[i] * v[i];
        vv += v[i] * v[i];
    }
    printf("spectralnorm n=%d checksum=%.9f\n", n, sqrt(vbv / vv));
    free(u); free(v); free(tmp);
    return 0;
}
