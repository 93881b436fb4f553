/* promote_fault_exit — a loop whose [rbp+8] "slot" is a field through a pointer in rbp
 * (as -O2 code uses rbp), checked for NULL at the loop head before the access. Hot with a
 * valid pointer, the loop's trace promotes the field into a register and loads it before
 * the loop; entered with rbp = NULL, native code leaves at the check and never touches
 * memory, so the preheader's load must not become a SIGSEGV: hotpath flushes, builds the
 * loop again without promotion and goes on (run_traces.sh checks that promotion happened). */
#include <stdio.h>

__attribute__((noinline)) static long run(long *p, long n)
{
    long r;
    __asm__ volatile(
        "lea -128(%%rsp), %%rsp\n\t"      /* keep off the red zone */
        "push %%rbp\n\t"
        "mov %1, %%rbp\n\t"
        "mov %2, %%rcx\n\t"
        "xor %%eax, %%eax\n\t"
        "jmp 1f\n\t"                      /* the loop is entered at its head */
        "1:\n\t"
        "test %%rbp, %%rbp\n\t"
        "jz 2f\n\t"
        "addq $3, 8(%%rbp)\n\t"
        "add 8(%%rbp), %%rax\n\t"
        "dec %%rcx\n\t"
        "jnz 1b\n\t"
        "2:\n\t"
        "pop %%rbp\n\t"
        "lea 128(%%rsp), %%rsp\n\t"
        : "=&a"(r)
        : "D"(p), "S"(n)
        : "rcx", "memory", "cc");
    return r;
}

int main(void)
{
    long cell[2] = { 0, 0 }, sum = 0;
    for (int i = 0; i < 200; i++) sum += run(cell, 1000);
    long none = run(0, 1000);                 /* leaves at the check: no access */
    for (int i = 0; i < 50; i++) sum += run(cell, 100);   /* and the loop still works */
    printf("sum=%ld cell=%ld none=%ld\n", sum, cell[1], none);
    return 0;
}
