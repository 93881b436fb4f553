/* test_ibl.c — the indirect lookup table: the C probe finds what was inserted, collisions
 * probe forward, a long collision chain grows the table, a clear empties it, and the layout
 * the in-cache probe relies on holds (slot index = low bits of the pc, zero ends a probe). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include "ibl.h"

static hp_thread_t th;

static void test_insert_lookup(void **s)
{
    (void)s;
    assert_int_equal(ibl_init(&th), HP_OK);
    assert_int_equal(ibl_lookup(0x401000), 0);
    assert_int_equal(ibl_insert(&th, 0x401000, 0xc0de), HP_OK);
    assert_int_equal(ibl_lookup(0x401000), 0xc0de);
    assert_int_equal(ibl_insert(&th, 0x401000, 0xbeef), HP_OK);   /* replace */
    assert_int_equal(ibl_lookup(0x401000), 0xbeef);
    hp_ibl_entry_t *tab = th.ibl_table;
    uint64_t slot = ((0x401000ull << 4) & th.ibl_mask16) / 16;
    assert_int_equal(tab[slot].app_pc, 0x401000);
}

static void test_collisions_grow(void **s)
{
    (void)s;
    ibl_clear(&th);
    uint64_t mask16 = th.ibl_mask16;
    uint64_t slots = (mask16 >> 4) + 1;
    /* 3 * IBL_PAD pcs with the same low bits: forces growth at least once */
    for (uint64_t i = 0; i < 3 * IBL_PAD; i++)
        assert_int_equal(ibl_insert(&th, 0x10000000 + i * slots, 0x1000 + i), HP_OK);
    assert_true(th.ibl_mask16 > mask16);
    for (uint64_t i = 0; i < 3 * IBL_PAD; i++)
        assert_int_equal(ibl_lookup(0x10000000 + i * slots), 0x1000 + i);
    assert_int_equal(ibl_lookup(0x10000000 + 3 * IBL_PAD * slots), 0);
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
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_lookup),
        cmocka_unit_test(test_collisions_grow),
        cmocka_unit_test(test_clear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
