/* test_ibl.c — the indirect lookup table: the C probe finds what was inserted, a target
 * lives in its home slot or the next one (what the in-cache probe checks), a third target
 * on the same slot evicts the oldest while one thread runs (never with several), and a
 * clear empties the table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "ibl.h"
#include "threads.h"

static hp_thread_t th;

static void test_insert_lookup(void **s)
{
    (void)s;
    assert_int_equal(ibl_init(&th), HP_OK);
    assert_int_equal(ibl_lookup(0x401000), 0);
    assert_int_equal(ibl_insert(&th, 0x401000, 0xc0de), HP_OK);
    assert_int_equal(ibl_lookup(0x401000), 0xc0de);
    assert_int_equal(ibl_insert(&th, 0x401000, 0xbeef), HP_OK);   /* replace in place */
    assert_int_equal(ibl_lookup(0x401000), 0xbeef);
    hp_ibl_entry_t *tab = th.ibl_table;
    assert_int_equal(tab[0x1000].app_pc, 0x401000);
    assert_int_equal(tab[0x1001].app_pc, 0);
}

static void test_same_slot(void **s)
{
    (void)s;
    ibl_clear(&th);
    hp_ibl_entry_t *tab = th.ibl_table;
    uint64_t a = 0x7f0000001234, b = 0x7f0000011234, c = 0x7f0000021234;  /* same low 16 bits */
    ibl_insert(&th, a, 1);
    ibl_insert(&th, b, 2);
    assert_int_equal(tab[0x1234].app_pc, a);
    assert_int_equal(tab[0x1235].app_pc, b);
    assert_int_equal(ibl_lookup(a), 1);
    assert_int_equal(ibl_lookup(b), 2);
    hp_thread_t *second = threads_new();           /* two threads: no eviction */
    ibl_insert(&th, c, 3);
    assert_int_equal(ibl_lookup(c), 0);
    assert_int_equal(ibl_lookup(b), 2);
    threads_discard(second);
    ibl_insert(&th, c, 3);                         /* one thread: evicts b, in the second slot */
    assert_int_equal(ibl_lookup(c), 3);
    assert_int_equal(ibl_lookup(a), 1);
    assert_int_equal(ibl_lookup(b), 0);
}

static void test_last_slot(void **s)
{
    (void)s;
    ibl_clear(&th);
    uint64_t a = 0x40ffff, b = 0x41ffff;            /* home slot 0xffff: neighbour is the extra one */
    ibl_insert(&th, a, 7);
    ibl_insert(&th, b, 8);
    assert_int_equal(ibl_lookup(a), 7);
    assert_int_equal(ibl_lookup(b), 8);
    assert_int_equal(((hp_ibl_entry_t *)th.ibl_table)[IBL_SLOTS].app_pc, b);
}

static void test_clear(void **s)
{
    (void)s;
    ibl_insert(&th, 0x555555554000, 0x1234);
    ibl_clear(&th);
    assert_int_equal(ibl_lookup(0x555555554000), 0);
}

int main(void)
{
    assert_non_null(threads_new());   /* one live thread: eviction allowed */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_lookup),
        cmocka_unit_test(test_same_slot),
        cmocka_unit_test(test_last_slot),
        cmocka_unit_test(test_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
