/* jtable_switch — a switch dispatch whose jump table hotpath folds into its traces
 * (optimizer/pass_jtable.c), and the table changed under them:
 * - jt_run: an interpreter loop in gcc's -O0 form (bound check, `mov (%rdx,%rax),%eax;
 *   cltq`, add, `jmp *%rax`), written in assembly so the table has a name; ops 0..3 are
 *   cases, 4 and up the default;
 * - phase 1 runs it hot with the table as linked;
 * - phase 2 makes the table's page writable, swaps the entries of cases 1 and 2 and makes
 *   it read-only again: native code takes the new entries at once (a trace that kept the
 *   folded entry would not); each handler still has one case, so the new entries fold too;
 * - phase 3 drops the page with madvise(MADV_DONTNEED): a private file page goes back to
 *   the file's bytes, the original table, without any mprotect;
 * - phase 4 swaps the entries again, the page made writable and read-only by pkey_mprotect
 *   (key -1: as mprotect does);
 * - a C switch in a loop (the build's own -O0 or -O2 form) runs too.
 * Each phase's accumulator goes to stdout; exit status 71 when every one matches what is
 * computed here in C from the table as it should be then. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

extern const int32_t jt_table[4];
long jt_run(const unsigned char *ops, long n, long acc);

__asm__(
    ".text\n"
    ".globl jt_run\n"
    ".type jt_run,@function\n"
    "jt_run:\n"
    "    mov %rdx,%r9\n"
    "    xor %r8d,%r8d\n"
    "1:  cmp %rsi,%r8\n"
    "    jge 9f\n"
    "    movzbl (%rdi,%r8,1),%eax\n"
    "    inc %r8\n"
    "    cmp $3,%eax\n"
    "    ja 8f\n"
    "    mov %eax,%eax\n"
    "    lea 0(,%rax,4),%rdx\n"
    "    lea jt_table(%rip),%rax\n"
    "    mov (%rdx,%rax,1),%eax\n"
    "    cltq\n"
    "    lea jt_table(%rip),%rdx\n"
    "    add %rdx,%rax\n"
    "    jmp *%rax\n"
    "jt_c0: add $3,%r9\n"
    "    jmp 1b\n"
    "jt_c1: imul $5,%r9,%r9\n"
    "    jmp 1b\n"
    "jt_c2: xor $0x55,%r9\n"
    "    jmp 1b\n"
    "jt_c3: rol $7,%r9\n"
    "    jmp 1b\n"
    "8:  sub $1,%r9\n"
    "    jmp 1b\n"
    "9:  mov %r9,%rax\n"
    "    ret\n"
    ".size jt_run, .-jt_run\n"
    ".section .rodata\n"
    ".balign 4096\n"                       /* a page of its own (madvise drops whole pages) */
    ".globl jt_table\n"
    "jt_table:\n"
    "    .long jt_c0-jt_table, jt_c1-jt_table, jt_c2-jt_table, jt_c3-jt_table\n"
    ".balign 4096\n"
    ".text\n");

/* model: what jt_run computes, with cases 1 and 2 swapped when swap */
static long model(const unsigned char *ops, long n, long acc, int swap)
{
    uint64_t a = (uint64_t)acc;
    for (long i = 0; i < n; i++) {
        int op = swap && (ops[i] == 1 || ops[i] == 2) ? 3 - ops[i] : ops[i];
        switch (op) {
        case 0: a += 3; break;
        case 1: a *= 5; break;
        case 2: a ^= 0x55; break;
        case 3: a = a << 7 | a >> 57; break;
        default: a -= 1; break;
        }
    }
    return (long)a;
}

/* c_switch: the same in C, in whatever form the build gives it */
__attribute__((noinline)) static long c_switch(const unsigned char *ops, long n, long acc)
{
    for (long i = 0; i < n; i++) {
        switch (ops[i]) {
        case 0: acc += 3; break;
        case 1: acc *= 5; break;
        case 2: acc ^= 0x55; break;
        case 3: acc = (long)((uint64_t)acc << 7 | (uint64_t)acc >> 57); break;
        case 4: acc -= 1; break;
        case 5: acc += 11; break;
        default: acc ^= 1; break;
        }
    }
    return acc;
}

static int set_table_prot(int prot)
{
    long pg = sysconf(_SC_PAGESIZE);
    return mprotect((void *)((uintptr_t)jt_table & ~(uintptr_t)(pg - 1)), (size_t)pg, prot);
}

static int set_table_pkey_prot(int prot)
{
    long pg = sysconf(_SC_PAGESIZE);
    return (int)syscall(SYS_pkey_mprotect, (void *)((uintptr_t)jt_table & ~(uintptr_t)(pg - 1)), (size_t)pg, prot, -1);
}

int main(void)
{
    enum { N = 200000 };
    static unsigned char ops[N];
    for (long i = 0; i < N; i++)                  /* mostly 1 0 2 3 1, sometimes 4 and up */
        ops[i] = (unsigned char)(i % 97 == 0 ? 4 + i % 3 : "10231"[i % 5] - '0');
    int ok = 1;
    long a = jt_run(ops, N, 1), m = model(ops, N, 1, 0);
    printf("phase 1: %ld\n", a);
    ok &= a == m;
    const volatile int32_t *vt = jt_table;              /* (const to the compiler: -O2 would
                                                           move plain loads past the stores) */
    int32_t orig = vt[1], e2 = vt[2];
    if (set_table_prot(PROT_READ | PROT_WRITE)) { perror("mprotect"); return 2; }
    *(volatile int32_t *)&jt_table[2] = orig;             /* (offsets from the table) */
    *(volatile int32_t *)&jt_table[1] = e2;
    if (set_table_prot(PROT_READ)) { perror("mprotect"); return 2; }
    a = jt_run(ops, N, 1);
    m = model(ops, N, 1, 1);
    printf("phase 2: %ld\n", a);
    ok &= a == m;
    long pg = sysconf(_SC_PAGESIZE);
    if (madvise((void *)((uintptr_t)jt_table & ~(uintptr_t)(pg - 1)), (size_t)pg, MADV_DONTNEED)) {
        perror("madvise");
        return 2;
    }
    int restored = vt[1] == orig;
    printf("phase 3 table restored: %d\n", restored);
    a = jt_run(ops, N, 1);
    m = model(ops, N, 1, !restored);
    printf("phase 3: %ld\n", a);
    ok &= a == m;
    if (set_table_pkey_prot(PROT_READ | PROT_WRITE)) { perror("pkey_mprotect"); return 2; }
    int32_t e1 = vt[1], e2b = vt[2];
    *(volatile int32_t *)&jt_table[1] = e2b;
    *(volatile int32_t *)&jt_table[2] = e1;
    if (set_table_pkey_prot(PROT_READ)) { perror("pkey_mprotect"); return 2; }
    a = jt_run(ops, N, 1);
    m = model(ops, N, 1, restored);
    printf("phase 4: %ld\n", a);
    ok &= a == m;
    for (long i = 0; i < N; i++) ops[i] = (unsigned char)((i * 7 + i / 13) % 9);
    a = c_switch(ops, N, 1);
    printf("c switch: %ld\n", a);
    return ok ? 71 : 1;
}
