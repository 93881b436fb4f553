/* dce_bsf.c — regression case from the review of the optimizer (fixed): DCE removes `mov $42,%eax` as dead because an_effects says bsf writes eax whole;
   with a zero source bsf leaves its destination unchanged (Intel and AMD). */
#include <stdio.h>
int main(void) {
    unsigned long sum;
    __asm__ volatile(
        "xor %%r8d, %%r8d\n\t"
        "mov $2000, %%r9d\n\t"
        "xor %%edx, %%edx\n\t"
        "mov $7, %%eax\n\t"
        ".p2align 4\n"
        "1:\n\t"
        "add $1, %%r10\n\t"          /* the head instruction (kept by dce) */
        "mov $42, %%eax\n\t"         /* 'dead': bsf below 'defines' eax */
        "bsf %%edx, %%eax\n\t"       /* edx = 0: eax unchanged = 42 */
        "add %%rax, %%r8\n\t"
        "mov %%r9d, %%eax\n\t"     /* eax changes every iteration */
        "sub $1, %%r9d\n\t"
        "jnz 1b\n\t"
        "mov %%r8, %0\n\t"
        : "=r"(sum) : : "rax", "rdx", "r8", "r9", "r10", "cc");
    printf("sum = %lu\n", sum);
    return 0;
}
