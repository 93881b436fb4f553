/* smc_jump — regression (review of session 7): a direct jump on a trace's path, which the
 * trace IR drops, is rewritten while a second thread lives; the trace's app ranges (then
 * from its instruction map) did not cover the jump, so it was not invalidated; now they are
 * the recorded blocks whole. A: mov (%rdi),%eax; cltq; jmp B.  B: jmp C.  C: add %rax,%rsi;
 * dec %rdx; jnz A; ret.  D = C+0x100: sub %rax,%rsi; ... The jmp at B is redirected to D
 * (mprotect, second thread alive). Exit 56. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
static int pfd[2];
static void *idle(void *a) { char c; (void)a; read(pfd[0], &c, 1); return 0; }
static uint8_t *body(uint8_t *p, uint8_t *A, uint8_t op)
{
    int32_t r;
    *p++ = 0x48; *p++ = op; *p++ = 0xc6;                     /* add/sub %rax,%rsi */
    *p++ = 0x48; *p++ = 0xff; *p++ = 0xca;                   /* dec %rdx */
    *p++ = 0x0f; *p++ = 0x85; r = (int32_t)(A - (p + 4)); memcpy(p, &r, 4); p += 4;
    *p++ = 0x48; *p++ = 0x89; *p++ = 0xf0; *p++ = 0xc3;
    return p;
}
int main(void)
{
    long pg = sysconf(_SC_PAGESIZE);
    uint8_t *m = mmap(0, 3 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    uint8_t *A = m, *B = m + pg, *C = m + 2 * pg, *D = C + 0x100, *p;
    int32_t r;
    memset(m, 0xcc, 3 * pg);
    p = A; *p++ = 0x8b; *p++ = 0x07; *p++ = 0x48; *p++ = 0x98;
    *p++ = 0xe9; r = (int32_t)(B - (p + 4)); memcpy(p, &r, 4);
    p = B; *p++ = 0xe9; r = (int32_t)(C - (p + 4)); memcpy(p, &r, 4);
    body(C, A, 0x01); body(D, A, 0x29);
    mprotect(m, 3 * pg, PROT_READ | PROT_EXEC);
    pipe(pfd); pthread_t th; pthread_create(&th, 0, idle, 0);
    static int32_t v = -5;
    long (*f)(int32_t *, long, long) = (void *)A, s1 = 0, s2 = 0;
    for (int k = 0; k < 200; k++) s1 = f(&v, 0, 1000);
    mprotect(B, pg, PROT_READ | PROT_WRITE);
    r = (int32_t)(D - (B + 5)); memcpy(B + 1, &r, 4);
    mprotect(B, pg, PROT_READ | PROT_EXEC);
    for (int k = 0; k < 200; k++) s2 = f(&v, 0, 1000);
    write(pfd[1], "x", 1); pthread_join(th, 0);
    printf("before %ld after %ld\n", s1, s2);
    return s2 == 5000 ? 56 : 1;
}
