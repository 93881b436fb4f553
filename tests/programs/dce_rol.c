/* dce_rol.c — regression case from the review of the optimizer (fixed): dce_lea turns `add $0x7ffffff0,%ecx` into lea because its flags look dead: rol $2 is
   said to write OF (undefined for counts other than 1) and sahf writes the rest. On this
   CPU rol $2 leaves OF as it was, so seto reads add's OF natively. */
#include <stdio.h>
int main(void) {
    unsigned long cnt;
    __asm__ volatile(
        "xor %%r8d, %%r8d\n\t"
        "mov $2000, %%r9d\n\t"
        "mov $0x1234, %%edx\n\t"
        ".p2align 4\n"
        "1:\n\t"
        "mov $0, %%eax\n\t"
        "mov %%r9d, %%ecx\n\t"
        "add $0x7ffffff0, %%ecx\n\t"  /* OF = 1 when r9d >= 0x10 */
        "rol $2, %%edx\n\t"
        "sahf\n\t"
        "seto %%al\n\t"
        "add %%rax, %%r8\n\t"
        "add %%rcx, %%r10\n\t"
        "sub $1, %%r9d\n\t"
        "jnz 1b\n\t"
        "mov %%r8, %0\n\t"
        : "=r"(cnt) : : "rax", "rcx", "rdx", "r8", "r9", "r10", "cc");
    printf("overflows seen = %lu\n", cnt);
    return 0;
}
