/* threads_many — 64 threads run the same small compute function (so they share its
 * translated code) on different inputs, some of them at the same time; each result is
 * stored by index, and the checksum over all of them is printed after the joins. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define NTHREADS 64

static uint64_t results[NTHREADS];

static __attribute__((noinline)) uint64_t collatz_steps(uint64_t n)
{
    uint64_t steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static void *compute(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg, acc = id;
    for (uint64_t n = 1 + id * 5000; n <= 5000 + id * 5000; n++)
        acc = acc * 1099511628211ull ^ collatz_steps(n);
    results[id] = acc;
    return (void *)(uintptr_t)(acc & 0xff);
}

int main(void)
{
    pthread_t t[NTHREADS];
    for (uint64_t i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, compute, (void *)(uintptr_t)i) != 0)
            return 1;
    uint64_t low_bytes = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        if (pthread_join(t[i], &r) != 0)
            return 1;
        low_bytes += (uint64_t)(uintptr_t)r;
    }
    uint64_t sum = 0;
    for (int i = 0; i < NTHREADS; i++)
        sum = sum * 31 + results[i];
    /* The same work again on the main thread must give the same answers. */
    int same = 1;
    for (uint64_t i = 0; i < NTHREADS; i += 9) {
        uint64_t want = results[i];
        compute((void *)(uintptr_t)i);
        same &= results[i] == want;
    }
    printf("threads: %d, checksum %016llx, low bytes %llu, recomputed same: %s\n", NTHREADS,
           (unsigned long long)sum, (unsigned long long)low_bytes, same ? "yes" : "no");
    return same ? 29 : 1;
}
