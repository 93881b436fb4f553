/* jit_memfd — the dual-mapping JIT scheme (as in PCRE2's and V8's W^X modes): a memfd is
 * mapped twice, once RW and once RX, at different addresses. Code is written through the RW
 * view and run through the RX view, so the running copy changes without any write to, or
 * system call on, the executable address. Rewritten several times, each time run from a hot
 * loop. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*fn_t)(int);

static __attribute__((noinline)) int64_t call_many(fn_t f, int n)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += f(i);
    return sum;
}

/* `imul eax, edi, imm32; add eax, add8; ret` */
static void emit(uint8_t *p, int32_t mul, int8_t add)
{
    p[0] = 0x69;
    p[1] = 0xc7;
    memcpy(p + 2, &mul, 4);
    p[6] = 0x83;
    p[7] = 0xc0;
    p[8] = (uint8_t)add;
    p[9] = 0xc3;
}

int main(void)
{
    int fd = memfd_create("hotpath-jit", MFD_CLOEXEC);
    if (fd < 0 || ftruncate(fd, 4096) != 0)
        return 1;
    uint8_t *rw = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    uint8_t *rx = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (rw == MAP_FAILED || rx == MAP_FAILED)
        return 1;
    int bad = 0;
    for (int round = 0; round < 8; round++) {
        int32_t mul = round * 3 + 1;
        int8_t add = (int8_t)(round * 5 - 20);
        emit(rw, mul, add);
        int64_t sum = call_many((fn_t)rx, 2000), want = 0;
        for (int i = 0; i < 2000; i++)
            want += (int32_t)(i * mul + add);
        printf("round %d: mul %d add %d: sum %lld %s\n", round, mul, add, (long long)sum,
               sum == want ? "ok" : "WRONG");
        bad |= sum != want;
    }
    munmap(rx, 4096);
    munmap(rw, 4096);
    close(fd);
    return bad ? 1 : 41;
}
