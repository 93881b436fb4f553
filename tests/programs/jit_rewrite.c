/* jit_rewrite — code generated at run time and rewritten in place, as a JIT does:
 *   1. an RW page gets `mov eax, imm32; ret`, is made RX with mprotect, called; made RW,
 *      rewritten (sometimes to `lea eax, [rdi + imm32]; ret`, a different length), made RX,
 *      called again — each round from a hot loop, so the old code was translated and linked;
 *   2. an RWX page is rewritten with no system call between the writes and the calls, every
 *      100 calls of a hot loop (only the immediate, or the whole instruction).
 * Every result is printed; a stale translation shows as a wrong sum. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

typedef int (*fn_t)(int);

/* emit: writes `mov eax, imm; ret` (kind 0) or `lea eax, [rdi + imm]; ret` (kind 1) at p. */
static void emit(uint8_t *p, int kind, int32_t imm)
{
    if (kind == 0) {
        p[0] = 0xb8;
        memcpy(p + 1, &imm, 4);
        p[5] = 0xc3;
    } else {
        p[0] = 0x8d;
        p[1] = 0x87;
        memcpy(p + 2, &imm, 4);
        p[6] = 0xc3;
    }
}

static int64_t expect(int kind, int32_t imm, int x) { return kind == 0 ? imm : x + imm; }

static __attribute__((noinline)) int64_t call_many(fn_t f, int n)
{
    int64_t sum = 0;
    for (int i = 0; i < n; i++)
        sum += f(i);
    return sum;
}

int main(void)
{
    int bad = 0;
    /* 1. W^X with mprotect between writing and running. */
    uint8_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return 1;
    for (int round = 0; round < 8; round++) {
        int kind = round % 3 == 2;
        int32_t imm = round * 100 + 7;
        if (mprotect(page, 4096, PROT_READ | PROT_WRITE) != 0)
            return 1;
        memset(page, 0xcc, 64);
        emit(page, kind, imm);
        emit(page + 32, 1 - kind, -imm);      /* a second function on the same page */
        if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0)
            return 1;
        int64_t s1 = call_many((fn_t)page, 1000);
        int64_t s2 = call_many((fn_t)(page + 32), 1000);
        int64_t w1 = 0, w2 = 0;
        for (int i = 0; i < 1000; i++) {
            w1 += expect(kind, imm, i);
            w2 += expect(1 - kind, -imm, i);
        }
        printf("mprotect round %d: %s sums %lld %lld %s\n", round, kind ? "lea" : "mov",
               (long long)s1, (long long)s2, s1 == w1 && s2 == w2 ? "ok" : "WRONG");
        bad |= s1 != w1 || s2 != w2;
    }
    munmap(page, 4096);

    /* 2. RWX: rewritten with no system call in between. */
    uint8_t *rwx = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (rwx == MAP_FAILED)
        return 1;
    emit(rwx, 0, 1);
    for (int round = 0; round < 6; round++) {
        int64_t sum = 0, want = 0;
        for (int i = 0; i < 1000; i++) {
            if (i % 100 == 0) {
                int kind = (round + i / 100) % 4 == 3;
                int32_t imm = round * 1000 + i;
                if (round % 2 == 0 && !kind) {
                    emit(rwx, 0, 0);              /* keep the kind, change the immediate only */
                    memcpy(rwx + 1, &imm, 4);
                } else {
                    emit(rwx, kind, imm);
                }
            }
            int kind = rwx[0] == 0x8d;
            int32_t imm;
            memcpy(&imm, rwx + 1 + kind, 4);
            sum += ((fn_t)rwx)(i);
            want += expect(kind, imm, i);
        }
        printf("rwx round %d: sum %lld %s\n", round, (long long)sum, sum == want ? "ok" : "WRONG");
        bad |= sum != want;
    }
    munmap(rwx, 4096);
    return bad ? 1 : 40;
}
