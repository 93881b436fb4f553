/* smc_fused — regression (review of session 7): code modified under a fused trace. Three
 * pages A < B < C:
 *   A: mov (%rdi),%eax ; jmp B      B: cltq ; jmp C      C: add %rax,%rsi ; dec %rdx ; jnz A
 * A hot loop makes a trace at A whose `mov; cltq` is fused (the jumps vanish). Then, with a
 * second thread alive, B is mprotected RW, its cltq overwritten by two nops, mprotected RX
 * again: natively the loop now adds the zero-extended value. Under hotpath the trace's map
 * (and so its app ranges, trace_emit.c tr_ranges) has no entry at B, so the invalidation of
 * B left the trace, which still sign-extended. A trace's app ranges are now its recorded
 * blocks whole (trace_emit.c tr_ranges). Prints both sums; exit 55. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int pfd[2];
static void *idle(void *a) { char c; (void)a; read(pfd[0], &c, 1); return 0; }

int main(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(0, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *A = m, *B = m + pg, *C = m + 2 * pg;
    memset(m, 0xcc, 3 * pg);
    uint8_t *p = A;
    *p++ = 0x8b; *p++ = 0x07;                                 /* mov (%rdi),%eax */
    *p++ = 0xe9; int32_t r = (int32_t)(B - (p + 4)); memcpy(p, &r, 4); p += 4;   /* jmp B */
    p = B;
    *p++ = 0x48; *p++ = 0x98;                                 /* cltq */
    *p++ = 0xe9; r = (int32_t)(C - (p + 4)); memcpy(p, &r, 4); p += 4;           /* jmp C */
    p = C;
    *p++ = 0x48; *p++ = 0x01; *p++ = 0xc6;                    /* add %rax,%rsi */
    *p++ = 0x48; *p++ = 0xff; *p++ = 0xca;                    /* dec %rdx */
    *p++ = 0x0f; *p++ = 0x85; r = (int32_t)(A - (p + 4)); memcpy(p, &r, 4); p += 4;  /* jnz A */
    *p++ = 0x48; *p++ = 0x89; *p++ = 0xf0;                    /* mov %rsi,%rax */
    *p++ = 0xc3;                                              /* ret */
    mprotect(m, 3 * pg, PROT_READ | PROT_EXEC);
    pipe(pfd);
    pthread_t th;
    pthread_create(&th, 0, idle, 0);
    static int32_t v = -5;
    long (*f)(int32_t *, long, long) = (void *)A;
    long s1 = 0;
    for (int k = 0; k < 200; k++) s1 = ((long (*)(int32_t *, long, long))A)(&v, 0, 1000);
    mprotect(B, pg, PROT_READ | PROT_WRITE);
    B[0] = 0x90; B[1] = 0x90;                                 /* cltq -> nop; nop */
    mprotect(B, pg, PROT_READ | PROT_EXEC);
    long s2 = 0;
    for (int k = 0; k < 200; k++) s2 = f(&v, 0, 1000);
    write(pfd[1], "x", 1);
    pthread_join(th, 0);
    printf("before %ld after %ld\n", s1, s2);
    return s2 == 1000L * 0xfffffffbL ? 55 : 1;
}
