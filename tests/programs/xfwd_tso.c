/* xfwd_tso — x86-TSO litmus for store-to-load forwarding (a review's reproducer): a load
 * may read this thread's own store from the store buffer, but not once a later load saw
 * something that proves the store had left it. A stores d = x (a stack slot); B, seeing
 * d == x, writes d = -1 and then G = i; A loads G, then d. Natively, G == i implies
 * d == -1. The first version of pass_xfwd.c read d from xmm0 (x) whatever G said
 * (160,000 forbidden outcomes in 2M rounds; 0 natively, as TSO guarantees). Exit status
 * 68 when no round saw the forbidden outcome. */
#include <pthread.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>
volatile long G = -1;
double *volatile P;
volatile int stop;
long f(long i, double x);    /* 1: G == i but d still x (forbidden); 0: otherwise */
__asm__(".text\n.globl f\nf: push %rbp\n mov %rsp,%rbp\n sub $32,%rsp\n"
"  lea -8(%rbp),%rax\n mov %rax,P(%rip)\n"
"  movsd %xmm0,-8(%rbp)\n"                       /* d = x */
"  movapd %xmm0,%xmm2\n"
"  .rept 120\n sqrtsd %xmm2,%xmm2\n .endr\n"      /* time for B (registers only) */
"  mov G(%rip),%rcx\n"                           /* r1 = G */
"  mov -8(%rbp),%rax\n"                          /* r2 = d   (xfwd: movq %xmm0,%rax) */
"  movq %xmm0,%rdx\n"
"  xor %esi,%esi\n cmp %rdi,%rcx\n jne 1f\n cmp %rdx,%rax\n jne 1f\n mov $1,%esi\n"
"1: mov %rsi,%rax\n leave\n ret\n");
static void *bthread(void *a)
{
    (void)a;
    uint64_t last = 0;
    while (!stop) {
        double *p = P;
        if (!p) continue;
        uint64_t v = __atomic_load_n((uint64_t *)p, __ATOMIC_RELAXED), m1;
        double dv; memcpy(&dv, &v, 8);
        if (v == last || !(dv >= 1.0 && dv < 1e9) || dv != (double)(long)dv) continue;
        double minus = -1.0; memcpy(&m1, &minus, 8);
        if (__atomic_compare_exchange_n((uint64_t *)p, &v, m1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
            last = v;
            G = (long)dv;
        }
    }
    return 0;
}
int main(void)
{
    pthread_t b;
    pthread_create(&b, 0, bthread, 0);
    long bad = 0, seen = 0;
    for (long i = 1; i < 400000; i++) {
        bad += f(i, (double)i);
        seen += G == i;
    }
    stop = 1;
    pthread_join(b, 0);
    (void)seen;                                  /* (scheduling: not printed) */
    printf("xfwd_tso: forbidden outcomes %ld\n", bad);
    return bad ? 1 : 68;
}
