/* test_maps.c — /proc/self/maps parsing and lookups of executable memory. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <sys/mman.h>
#include <cmocka.h>
#include "maps.h"

static void test_parse_line(void **s)
{
    (void)s;
    maps_region_t r;
    assert_true(maps_parse_line("7f12a0000000-7f12a0021000 r-xp 00002000 fd:01 1234567   /usr/lib/x.so", &r));
    assert_int_equal(r.start, 0x7f12a0000000ull);
    assert_int_equal(r.end, 0x7f12a0021000ull);
    assert_int_equal(r.prot, PROT_READ | PROT_EXEC);
    assert_int_equal(r.inode, 1234567);
    assert_true(maps_parse_line("00400000-00401000 rw-p 00000000 00:00 0 ", &r));
    assert_int_equal(r.prot, PROT_READ | PROT_WRITE);
    assert_false(maps_parse_line("garbage", &r));
}

static void test_find_exec(void **s)
{
    (void)s;
    maps_region_t r;
    assert_int_equal(maps_find_exec((uint64_t)test_find_exec, &r), HP_OK);
    assert_true(r.start <= (uint64_t)test_find_exec && (uint64_t)test_find_exec < r.end);
    static char data[64];
    assert_int_equal(maps_find_exec((uint64_t)data, &r), HP_ERR_FAULT);
    void *m = mmap(0, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_int_equal(maps_find_exec((uint64_t)m + 100, &r), HP_OK);     /* new mapping: reread */
    munmap(m, 8192);
    maps_forget((uint64_t)m, (uint64_t)m + 8192);
    assert_int_equal(maps_find_exec((uint64_t)m + 100, &r), HP_ERR_FAULT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_find_exec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
