/* trace_churn.c — many distinct hot loops, in two phases: a long stable stretch in one loop,
 * then 96 new loops one after another, each hot enough to become a trace, with threads
 * doing the same at once. Under hotpath with a small --cache-size the trace cache fills and
 * is flushed while threads run traces; after the stable stretch the burst of new traces is a
 * phase change. The output (checksums) must not change. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define LOOP(k) \
    static uint64_t loop_##k(uint64_t x, int n) \
    { \
        for (int i = 0; i < n; i++) { \
            x = x * (6364136223846793005ull + 2 * (k)) + (uint64_t)i; \
            if ((x >> 61) == (k) % 8) x ^= x >> 17; \
        } \
        return x; \
    }
#define L8(a) LOOP(a##0) LOOP(a##1) LOOP(a##2) LOOP(a##3) LOOP(a##4) LOOP(a##5) LOOP(a##6) LOOP(a##7)
L8(1) L8(2) L8(3) L8(4) L8(5) L8(6) L8(7) L8(10) L8(11) L8(12) L8(13) L8(14)
#define R8(a) loop_##a##0, loop_##a##1, loop_##a##2, loop_##a##3, loop_##a##4, loop_##a##5, loop_##a##6, loop_##a##7,
static uint64_t (*const loops[])(uint64_t, int) = {
    R8(1) R8(2) R8(3) R8(4) R8(5) R8(6) R8(7) R8(10) R8(11) R8(12) R8(13) R8(14)
};
#define NLOOPS ((int)(sizeof(loops) / sizeof(loops[0])))

static void *worker(void *arg)
{
    uint64_t x = (uint64_t)(uintptr_t)arg;
    for (int round = 0; round < 20; round++)
        for (int k = 0; k < NLOOPS; k++) x = loops[(k + round) % NLOOPS](x, 300);
    return (void *)(uintptr_t)x;
}

int main(void)
{
    uint64_t x = 1;
    for (int i = 0; i < 250000000; i++) {             /* the stable phase: one hot loop */
        x = x * 2862933555777941757ull + 3037000493ull;
        if ((x >> 60) == 5) x ^= x >> 23;
    }
    printf("stable phase: %llu\n", (unsigned long long)x);
    for (int k = 0; k < NLOOPS; k++) x = loops[k](x, 200);   /* the burst: new traces */
    printf("burst phase: %llu\n", (unsigned long long)x);
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], 0, worker, (void *)(uintptr_t)(i + 7));
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        printf("thread %d: %llu\n", i, (unsigned long long)(uintptr_t)r);
    }
    return 0;
}
