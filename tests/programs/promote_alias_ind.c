/* promote_alias_ind — a promoted -O0 loop whose stores through a pointer are checked
 * against its slots (rcx borrowed as the checks' scratch) and which also holds an inline
 * check: a call through a function pointer. Now and then the pointer changes, the check
 * misses and the lookup takes the target in rcx while the app's rcx waits in the thread:
 * the way into the lookup must hand over the app's rcx from where the loop saved it (the
 * first version gave the lookup the app's rcx as the target). Nothing in the loop touches
 * rcx (the callees neither: one that read it would keep the loop from borrowing it), set
 * before the loop and read after it. Exit status 69 when every sum matches the closed
 * form and rcx came through unchanged. */
#include <stdio.h>

long rec_a(long x);
long rec_b(long x);
__asm__(".text\n"
        "rec_a: lea 1(%rdi), %rax\n ret\n"
        "rec_b: lea 2(%rdi), %rax\n ret\n");

__attribute__((noinline)) static long run(long n, long *out, long *rcx_after)
{
    long (*fp)(long) = rec_a;
    long acc = 0, alt = 0, i;
    __asm__ volatile("movabs $0x5eed1234abcd, %%rcx" ::: "rcx");
    for (i = 0; i < n; i++) {
        *out = i;                                /* a store through a pointer */
        acc += fp(i);
        alt += i & 3;
        fp = (i & 63) == 63 ? rec_b : rec_a;     /* the check misses now and then */
    }
    __asm__ volatile("mov %%rcx, %0" : "=m"(*rcx_after));
    return acc + alt;
}

int main(void)
{
    long out = 0, n = 400000, rcx = 0;
    long r = run(n, &out, &rcx);
    long calls_b = n / 64 - (n % 64 == 0);       /* i = 64k (k >= 1), after a 63 */
    long expect = n * (n - 1) / 2 + n + calls_b + (n / 4) * 6;
    int ok = r == expect && out == n - 1 && rcx == 0x5eed1234abcdL;
    printf("promote_alias_ind: %ld %ld %lx %s\n", r, out, rcx, ok ? "ok" : "WRONG");
    return ok ? 69 : 1;
}
