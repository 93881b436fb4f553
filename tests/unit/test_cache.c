/* test_cache.c — the code cache's block index (runtime/cache.c): cache_find_block maps an
 * address inside a committed fragment to its block and nothing else to any block, across
 * the index array's growth; and it stays right while another thread adds blocks, as it
 * must for signal handlers, which search without the dispatcher lock (a slot counted before
 * it was filled made such a handler read through NULL and kill the process). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <pthread.h>
#include <sched.h>
#include <cmocka.h>
#include "cache.h"
#include "runtime.h"

/* app code the units are placed near (any address of this executable will do) */
static const uint64_t app_pc_base = (uint64_t)&cache_find_block;

/* one fragment of `size` bytes committed in the cache, its block not yet in the index */
static hp_block_t *new_fragment(size_t size)
{
    uint8_t *p = cache_reserve(app_pc_base, size);
    if (!p) return 0;
    cache_commit(p, size);
    hp_block_t *b = calloc(1, sizeof(*b));
    if (!b) return 0;
    b->cache_start = p;
    b->cache_size = (uint32_t)size;
    b->app_pc = app_pc_base;
    return b;
}

static hp_block_t *add_fragment(size_t size)
{
    hp_block_t *b = new_fragment(size);
    return b && cache_add_block(b) == HP_OK ? b : 0;
}

static void test_find(void **s)
{
    (void)s;
    enum { N = 3000 };                             /* past two doublings of the index (1024) */
    static hp_block_t *b[N];
    for (int i = 0; i < N; i++) {
        b[i] = add_fragment(16 + (size_t)(i % 5) * 16);
        assert_non_null(b[i]);
    }
    for (int i = 0; i < N; i++) {
        uint64_t start = (uint64_t)b[i]->cache_start;
        assert_ptr_equal(cache_find_block(start), b[i]);
        assert_ptr_equal(cache_find_block(start + b[i]->cache_size - 1), b[i]);
    }
    /* the commit rounds to 16 bytes: a 16-byte fragment's successor starts right after */
    assert_null(cache_find_block(0x1000));         /* not the cache */
    assert_false(cache_contains(0x1000));
    assert_true(cache_contains((uint64_t)b[0]->cache_start));
}

/* The writer adds fragments and publishes each one's address just before adding it; the
 * reader keeps looking that address up: the answer is that block or none yet, never
 * another block, and the search never meets an empty slot. */
static uint64_t volatile newest;
static int volatile done, started;
static long wrong;

static void *reader(void *a)
{
    (void)a;
    long n = 0;
    started = 1;
    int last;
    do {                                           /* once more after done: n > 0 */
        last = done;
        uint64_t p = newest;
        if (!p) continue;
        hp_block_t *b = cache_find_block(p);
        if (b ? (uint64_t)b->cache_start != p : last) wrong++;   /* none: only while adding */
        n++;
    } while (!last);
    return (void *)n;
}

static void test_concurrent(void **s)
{
    (void)s;
    pthread_t th;
    assert_int_equal(pthread_create(&th, 0, reader, 0), 0);
    while (!started) sched_yield();                /* (a busy machine may start it late) */
    for (int i = 0; i < 200000; i++) {
        hp_block_t *b = new_fragment(16);
        assert_non_null(b);
        __atomic_store_n(&newest, (uint64_t)b->cache_start, __ATOMIC_RELEASE);
        assert_int_equal(cache_add_block(b), HP_OK);
    }
    done = 1;
    void *looked;
    pthread_join(th, &looked);
    assert_int_equal(wrong, 0);
    assert_true((long)looked > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_concurrent),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
