/* test_heap.c — the runtime allocator: zeroed, aligned, reuses freed blocks of its class,
 * serves big requests from their own mapping and gives them back; blocks of up to 1 MiB
 * (trace building's arrays) are kept in their class and handed out again, zeroed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "heap.h"

static void test_zeroed_aligned(void **s)
{
    (void)s;
    for (size_t n = 1; n < 5000; n = n * 3 + 1) {
        unsigned char *p = heap_alloc(n);
        assert_non_null(p);
        assert_int_equal((uint64_t)p & 15, 0);
        for (size_t i = 0; i < n; i++) assert_int_equal(p[i], 0);
        hp_memset(p, 0xab, n);
        heap_free(p);
    }
}

static void test_reuse(void **s)
{
    (void)s;
    void *a = heap_alloc(100);
    heap_free(a);
    void *b = heap_alloc(90);               /* same class (128) */
    assert_ptr_equal(a, b);
    unsigned char *c = b;
    for (int i = 0; i < 90; i++) assert_int_equal(c[i], 0);   /* zeroed again */
    heap_free(b);
}

static void test_mid(void **s)
{
    (void)s;
    unsigned char *a = heap_alloc(30000);                   /* class 32 KiB */
    assert_non_null(a);
    assert_int_equal((uint64_t)a & 15, 0);
    hp_memset(a, 0xcd, 30000);
    size_t mapped = heap_bytes_mapped();
    heap_free(a);
    assert_int_equal(heap_bytes_mapped(), mapped);          /* kept, not unmapped */
    unsigned char *b = heap_alloc(20000);                   /* the same class again */
    assert_ptr_equal(b, a);
    assert_int_equal(heap_bytes_mapped(), mapped);
    for (int i = 0; i < 20000; i++) assert_int_equal(b[i], 0);
    unsigned char *c = heap_alloc_uninit(25000);            /* another: a new mapping */
    assert_non_null(c);
    assert_true(c != b);
    hp_memset(c, 1, 25000);
    heap_free(c);
    heap_free(b);
    unsigned char *d = heap_alloc(200000);                  /* the largest class */
    assert_non_null(d);
    for (int i = 0; i < 200000; i += 4096) assert_int_equal(d[i], 0);
    heap_free(d);
}

static void test_big(void **s)
{
    (void)s;
    size_t before = heap_bytes_mapped();
    char *p = heap_alloc(2 << 20);
    assert_non_null(p);
    assert_true(heap_bytes_mapped() >= before + (2 << 20));
    p[(2 << 20) - 1] = 1;
    p[5] = 7;
    heap_free(p);                         /* kept for reuse */
    size_t kept = heap_bytes_mapped();
    char *q = heap_alloc((2 << 20) - 100);
    assert_ptr_equal(q, p);               /* the same mapping again, no new one */
    assert_int_equal(heap_bytes_mapped(), kept);
    assert_int_equal(q[5], 0);            /* zeroed again */
    heap_free(q);
    char *r = heap_alloc(8 << 20);        /* above the kept size: back to the kernel */
    assert_non_null(r);
    size_t with_r = heap_bytes_mapped();
    heap_free(r);
    assert_true(heap_bytes_mapped() <= with_r - (8 << 20));
}

static void test_many_distinct(void **s)
{
    (void)s;
    void *ptrs[2000];
    for (int i = 0; i < 2000; i++) {
        ptrs[i] = heap_alloc(48);
        *(int *)ptrs[i] = i;
    }
    for (int i = 0; i < 2000; i++) assert_int_equal(*(int *)ptrs[i], i);
    for (int i = 0; i < 2000; i++) heap_free(ptrs[i]);
}

/* hp_memmove_down: an overlapping move to a lower address is exact (what ir_remove and the
 * passes' compactions rely on), whatever the distance; n = 0 moves nothing. */
static void test_memmove_down(void **s)
{
    (void)s;
    uint8_t b[4096];
    for (size_t dist = 1; dist <= 1300; dist = dist * 3 + 1) {
        for (size_t i = 0; i < sizeof(b); i++) b[i] = (uint8_t)(i * 7 + 3);
        size_t n = sizeof(b) - dist - 5;
        assert_ptr_equal(hp_memmove_down(b + 2, b + 2 + dist, n), b + 2);
        for (size_t i = 0; i < n; i++) assert_int_equal(b[2 + i], (uint8_t)((2 + dist + i) * 7 + 3));
        assert_int_equal(b[0], 3);                                   /* before: untouched */
        assert_int_equal(b[1], 10);
    }
    b[0] = 1; b[1] = 2;
    hp_memmove_down(b, b + 1, 0);
    assert_int_equal(b[0], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_zeroed_aligned),
        cmocka_unit_test(test_reuse),
        cmocka_unit_test(test_mid),
        cmocka_unit_test(test_big),
        cmocka_unit_test(test_many_distinct),
        cmocka_unit_test(test_memmove_down),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
