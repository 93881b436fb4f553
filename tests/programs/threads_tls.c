/* threads_tls — __thread variables (initialised, zeroed, an array, one reached through a
 * returned address) and pthread_key_create destructors across 8 threads. A destructor that sets
 * its key again is called once more (glibc repeats up to PTHREAD_DESTRUCTOR_ITERATIONS).
 * Every thread checks that its TLS is its own; the results are printed after all joins. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 8

static __thread long tls_counter = 1000;      /* .tdata */
static __thread long tls_zero;                /* .tbss */
static __thread uint32_t tls_array[64];
static __thread int tls_id = -1;

static pthread_key_t key_plain, key_again;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long destroyed_plain[NTHREADS + 1];    /* value seen by the destructor, per thread */
static int destroyed_again[NTHREADS + 1];     /* times the re-arming destructor ran */
static long tls_result[NTHREADS + 1];
static int tls_own[NTHREADS + 1];

static void destroy_plain(void *v)
{
    long *p = v;
    pthread_mutex_lock(&lock);
    destroyed_plain[p[0]] = p[1];
    pthread_mutex_unlock(&lock);
    free(p);
}

/* Runs twice per thread: the first call sets the key again, the second does not. */
static void destroy_again(void *v)
{
    int id = (int)(intptr_t)v - 1;
    pthread_mutex_lock(&lock);
    int n = ++destroyed_again[id];
    pthread_mutex_unlock(&lock);
    if (n == 1)
        pthread_setspecific(key_again, v);
}

static __attribute__((noinline)) long *counter_addr(void) { return &tls_counter; }

static void work(int id)
{
    tls_id = id;
    for (int i = 0; i < 200000; i++) {
        tls_counter += i % 7 + id;
        tls_zero ^= (long)i * (id + 1);
        tls_array[i & 63] += (uint32_t)(i * 2654435761u) >> (id % 5);
    }
    long *p = malloc(2 * sizeof(long));
    p[0] = id;
    p[1] = tls_counter * 3 + id;
    pthread_setspecific(key_plain, p);
    pthread_setspecific(key_again, (void *)(intptr_t)(id + 1));

    long h = tls_counter ^ tls_zero;
    for (int i = 0; i < 64; i++)
        h = h * 31 + tls_array[i];
    /* The address another thread sees for tls_counter is not this one's. */
    long *mine = counter_addr();
    int own = mine == &tls_counter && *mine == tls_counter && tls_id == id &&
              ((long *)pthread_getspecific(key_plain))[0] == id;
    pthread_mutex_lock(&lock);
    tls_result[id] = h;
    tls_own[id] = own;
    pthread_mutex_unlock(&lock);
}

static void *thread_main(void *arg)
{
    work((int)(intptr_t)arg);
    return NULL;
}

int main(void)
{
    pthread_key_create(&key_plain, destroy_plain);
    pthread_key_create(&key_again, destroy_again);
    pthread_t t[NTHREADS];
    for (int i = 1; i <= NTHREADS; i++)
        if (pthread_create(&t[i - 1], NULL, thread_main, (void *)(intptr_t)i) != 0)
            return 1;
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(t[i], NULL);
    /* The main thread's own TLS was untouched by the others. */
    printf("main before work: counter=%ld zero=%ld id=%d\n", tls_counter, tls_zero, tls_id);
    work(0);
    int bad = 0;
    for (int i = 0; i <= NTHREADS; i++) {
        printf("thread %d: hash=%016lx own=%s destructor=%ld again=%d\n", i,
               (unsigned long)tls_result[i], tls_own[i] ? "yes" : "no", destroyed_plain[i],
               destroyed_again[i]);
        bad |= !tls_own[i] || (i > 0 && (destroyed_again[i] != 2 || destroyed_plain[i] == 0));
    }
    /* Key destructors never run for the main thread (it returns from main, not
     * pthread_exit); deleting the keys does not run them either. */
    pthread_key_delete(key_plain);
    pthread_key_delete(key_again);
    return bad ? 1 : 27;
}
