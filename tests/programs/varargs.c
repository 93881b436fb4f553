/* varargs — variadic functions: integer and floating arguments spilling to the stack,
 * %al carrying the vector-register count, va_copy, vsnprintf, long double and structs
 * passed by value through `...`. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct pair { long a; double b; };
struct big { long v[5]; };

__attribute__((noinline)) static long sum_ints(int n, ...)
{
    va_list ap;
    va_start(ap, n);
    long s = 0;
    for (int i = 0; i < n; i++)
        s = s * 3 + va_arg(ap, long);
    va_end(ap);
    return s;
}

/* 'i' long, 'd' double, 'L' long double, 'p' struct pair, 'b' struct big */
__attribute__((noinline)) static double mixed(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    double s = 0;
    for (const char *f = fmt; *f; f++) {
        switch (*f) {
        case 'i': s += (double)va_arg(ap, long); break;
        case 'd': s += va_arg(ap, double) * 2; break;
        case 'L': s += (double)(va_arg(ap, long double) * 3); break;
        case 'p': { struct pair p = va_arg(ap, struct pair); s += (double)p.a + p.b; } break;
        case 'b': { struct big b = va_arg(ap, struct big); for (int i = 0; i < 5; i++) s += (double)b.v[i]; } break;
        }
    }
    /* walk the copy again: first argument only */
    double first = 0;
    if (fmt[0] == 'i') first = (double)va_arg(again, long);
    else if (fmt[0] == 'd') first = va_arg(again, double);
    va_end(again);
    va_end(ap);
    return s + first / 1000;
}

__attribute__((noinline, format(printf, 2, 3))) static int fmt_into(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, 256, fmt, ap);
    va_end(ap);
    return n;
}

int main(void)
{
    printf("sum_ints(3) = %ld\n", sum_ints(3, 1L, 2L, 3L));
    printf("sum_ints(12) = %ld\n", sum_ints(12, 1L, -2L, 3L, -4L, 5L, -6L, 7L, -8L, 9L, -10L, 11L, -12L));

    struct pair p = { 40, 0.25 };
    struct big b = { { 1, 2, 3, 4, 5 } };
    printf("mixed = %.4f\n", mixed("idddddddddddiLpb", 7L, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0,
                                    9.0, 10.0, 11.0, 99L, (long double)1.5, p, b));

    char buf[256];
    int n = fmt_into(buf, "%s|%5d|%-6.2f|%x|%c|%lld|%e", "text", 42, 3.14159, 0xbeef, 'z',
                     -1234567890123LL, 6.02214076e23);
    printf("fmt_into(%d) = [%s]\n", n, buf);

    double acc = 0;
    long iacc = 0;
    for (int i = 0; i < 200000; i++) {
        iacc += sum_ints(8, (long)i, 1L, 2L, 3L, 4L, 5L, 6L, (long)(i & 7));
        acc += mixed("dididi", (double)i, (long)i, 0.5, 2L, 0.25, 3L);
    }
    printf("loop: iacc=%ld acc=%.3f\n", iacc, acc);
    fprintf(stderr, "varargs %s\n", "done");
    return 19;
}
