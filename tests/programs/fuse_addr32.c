/* fuse_addr32 — regression (review of session 7): `addr32 mov 0x80001000,%eax; cltq` (67h,
 * an absolute disp32 with bit 31 set: the address is zero-extended, 0x80001000) in a hot
 * loop. Natively the loop sums the int there; the fuse pass re-encoded the pair as movslq
 * without the 67h prefix, whose disp32 is sign-extended (0xffffffff80001000): SIGSEGV under
 * hotpath. Now such a mov is not fused. Exit 54 and "sum -5000". */
#include <stdio.h>
#include <stdint.h>
#include <sys/mman.h>

static long run(long n)
{
    long sum = 0;
    __asm__ volatile(
        "1:\n"
        "  .byte 0x67,0x8b,0x04,0x25,0x00,0x10,0x00,0x80\n"   /* addr32 mov 0x80001000,%eax */
        "  cltq\n"
        "  add %%rax,%0\n"
        "  dec %1\n"
        "  jnz 1b\n"
        : "+r"(sum), "+r"(n) : : "rax", "cc", "memory");
    return sum;
}

int main(void)
{
    void *p = mmap((void *)0x80000000ul, 0x2000, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != (void *)0x80000000ul) { perror("mmap"); return 2; }
    *(volatile int32_t *)0x80001000ul = -5;
    long s = 0;
    for (int r = 0; r < 1000; r++) s = run(1000);
    printf("sum %ld\n", s);
    return s == -5000 ? 54 : 1;
}
