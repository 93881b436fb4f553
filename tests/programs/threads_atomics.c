/* threads_atomics — 16 threads hammer shared counters: lock-free atomics (add, CAS loop,
 * exchange), a mutex-protected counter, and a bounded producer/consumer queue built on a
 * mutex and two condition variables. Every total is known in advance and checked. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#define NTHREADS 16
#define ITERS 20000
#define NPRODUCERS 4
#define NCONSUMERS 4
#define ITEMS_PER_PRODUCER 5000
#define QSIZE 8

static uint64_t atomic_sum;        /* __atomic_fetch_add */
static uint64_t cas_sum;           /* compare-and-swap loop */
static uint64_t xchg_token;        /* passed around with __atomic_exchange_n */
static uint64_t locked_sum;        /* under sum_lock */
static uint64_t locked_hash;       /* order-independent hash, under sum_lock */
static pthread_mutex_t sum_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ull;
    x ^= x >> 27;
    return x;
}

static void *hammer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    for (uint64_t i = 0; i < ITERS; i++) {
        __atomic_fetch_add(&atomic_sum, i + id, __ATOMIC_SEQ_CST);
        uint64_t old = __atomic_load_n(&cas_sum, __ATOMIC_RELAXED), want;
        do
            want = old + (i & 7);
        while (!__atomic_compare_exchange_n(&cas_sum, &old, want, 1, __ATOMIC_ACQ_REL,
                                            __ATOMIC_RELAXED));
        (void)__atomic_exchange_n(&xchg_token, id * ITERS + i, __ATOMIC_ACQ_REL);
        if (i % 16 == 0) {
            pthread_mutex_lock(&sum_lock);
            locked_sum += id + 1;
            locked_hash += mix(id * ITERS + i);
            pthread_mutex_unlock(&sum_lock);
        }
    }
    return (void *)(uintptr_t)(id * 3);
}

/* ---- producer/consumer ---- */
static uint64_t queue[QSIZE];
static int q_head, q_count, producers_left = NPRODUCERS;
static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_not_empty = PTHREAD_COND_INITIALIZER;
static pthread_cond_t q_not_full = PTHREAD_COND_INITIALIZER;
static uint64_t consumed_sum, consumed_hash, consumed_count;

static void *producer(void *arg)
{
    uint64_t id = (uint64_t)(uintptr_t)arg;
    for (uint64_t i = 0; i < ITEMS_PER_PRODUCER; i++) {
        uint64_t item = id * 1000000 + i;
        pthread_mutex_lock(&q_lock);
        while (q_count == QSIZE)
            pthread_cond_wait(&q_not_full, &q_lock);
        queue[(q_head + q_count) % QSIZE] = item;
        q_count++;
        pthread_cond_signal(&q_not_empty);
        pthread_mutex_unlock(&q_lock);
    }
    pthread_mutex_lock(&q_lock);
    producers_left--;
    pthread_cond_broadcast(&q_not_empty);
    pthread_mutex_unlock(&q_lock);
    return NULL;
}

static void *consumer(void *arg)
{
    (void)arg;
    uint64_t sum = 0, hash = 0, count = 0;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        while (q_count == 0 && producers_left > 0)
            pthread_cond_wait(&q_not_empty, &q_lock);
        if (q_count == 0) {
            pthread_mutex_unlock(&q_lock);
            break;
        }
        uint64_t item = queue[q_head];
        q_head = (q_head + 1) % QSIZE;
        q_count--;
        pthread_cond_signal(&q_not_full);
        pthread_mutex_unlock(&q_lock);
        sum += item;
        hash += mix(item);
        count++;
    }
    pthread_mutex_lock(&sum_lock);
    consumed_sum += sum;
    consumed_hash += hash;
    consumed_count += count;
    pthread_mutex_unlock(&sum_lock);
    return NULL;
}

int main(void)
{
    pthread_t t[NTHREADS];
    int bad = 0;
    for (uint64_t i = 0; i < NTHREADS; i++)
        if (pthread_create(&t[i], NULL, hammer, (void *)(uintptr_t)i) != 0)
            return 1;
    uint64_t ret_sum = 0;
    for (int i = 0; i < NTHREADS; i++) {
        void *r;
        pthread_join(t[i], &r);
        ret_sum += (uint64_t)(uintptr_t)r;
    }

    uint64_t want_atomic = 0, want_cas = 0, want_locked = 0, want_hash = 0;
    for (uint64_t id = 0; id < NTHREADS; id++)
        for (uint64_t i = 0; i < ITERS; i++) {
            want_atomic += i + id;
            want_cas += i & 7;
            if (i % 16 == 0) {
                want_locked += id + 1;
                want_hash += mix(id * ITERS + i);
            }
        }
    uint64_t tok = xchg_token;
    int tok_ok = tok % ITERS == ITERS - 1 && tok / ITERS < NTHREADS;
    printf("atomic add: %llu %s\n", (unsigned long long)atomic_sum, atomic_sum == want_atomic ? "ok" : "WRONG");
    printf("cas loop: %llu %s\n", (unsigned long long)cas_sum, cas_sum == want_cas ? "ok" : "WRONG");
    printf("exchange: last token is some thread's last: %s\n", tok_ok ? "yes" : "no");
    printf("mutex: %llu %016llx %s\n", (unsigned long long)locked_sum, (unsigned long long)locked_hash,
           locked_sum == want_locked && locked_hash == want_hash ? "ok" : "WRONG");
    printf("join results: %llu\n", (unsigned long long)ret_sum);
    bad |= atomic_sum != want_atomic || cas_sum != want_cas || !tok_ok || locked_sum != want_locked ||
           locked_hash != want_hash;

    pthread_t p[NPRODUCERS], c[NCONSUMERS];
    for (uint64_t i = 0; i < NCONSUMERS; i++)
        pthread_create(&c[i], NULL, consumer, NULL);
    for (uint64_t i = 0; i < NPRODUCERS; i++)
        pthread_create(&p[i], NULL, producer, (void *)(uintptr_t)i);
    for (int i = 0; i < NPRODUCERS; i++)
        pthread_join(p[i], NULL);
    for (int i = 0; i < NCONSUMERS; i++)
        pthread_join(c[i], NULL);
    uint64_t want_sum = 0, want_chash = 0;
    for (uint64_t id = 0; id < NPRODUCERS; id++)
        for (uint64_t i = 0; i < ITEMS_PER_PRODUCER; i++) {
            want_sum += id * 1000000 + i;
            want_chash += mix(id * 1000000 + i);
        }
    int q_ok = consumed_count == NPRODUCERS * ITEMS_PER_PRODUCER && consumed_sum == want_sum &&
               consumed_hash == want_chash && q_count == 0;
    printf("producer/consumer: %llu items, sum %llu, hash %016llx %s\n",
           (unsigned long long)consumed_count, (unsigned long long)consumed_sum,
           (unsigned long long)consumed_hash, q_ok ? "ok" : "WRONG");
    bad |= !q_ok;
    return bad ? 1 : 26;
}
