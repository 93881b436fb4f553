/* test_maps.c — /proc/self/maps parsing, lookups of executable memory and of read-only
 * file data (what a pass may fold), and reads of app memory that never fault. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
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
    assert_false(r.volatile_file);
    assert_true(maps_parse_line("7f0000000000-7f0000001000 r--p 00000000 00:01 42   /memfd:jit (deleted)", &r));
    assert_true(r.volatile_file);
    assert_true(maps_parse_line("7f0000000000-7f0000001000 r--p 00000000 fd:01 43  /usr/lib/old.so (deleted)", &r));
    assert_true(r.volatile_file);
    assert_true(maps_parse_line("7f0000000000-7f0000001000 r--p 00000000 fd:01 43  /usr/lib/x.so", &r));
    assert_false(r.volatile_file);
    assert_int_equal(r.dev, 0xfdull << 32 | 1);
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

/* file_map: 2 pages of a temporary file (bytes 0..255 repeated), mapped with prot/flags
 * (and, with exec_too, its first page once more executable: a program's file) */
static int exec_too;
static char files[8][32];
static int nfiles;
static uint8_t *file_map(int prot, int flags)
{
    char name[] = "/tmp/test_maps.XXXXXX";
    int fd = mkstemp(name);
    assert_true(fd >= 0);
    if (nfiles < 8) strcpy(files[nfiles++], name);   /* unlinked at the end: a deleted file is
                                                         no program's (maps_find_ro) */
    uint8_t page[8192];
    for (int k = 0; k < 8192; k++) page[k] = (uint8_t)k;
    assert_int_equal(write(fd, page, sizeof page), (ssize_t)sizeof page);
    uint8_t *m = mmap(0, 8192, prot, flags, fd, 0);
    if (exec_too) assert_true(mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0) != MAP_FAILED);
    close(fd);
    assert_true(m != MAP_FAILED);
    return m;
}

static void test_find_ro(void **s)
{
    (void)s;
    maps_region_t r;
    exec_too = 1;
    uint8_t *ro = file_map(PROT_READ, MAP_PRIVATE), *rw = file_map(PROT_READ | PROT_WRITE, MAP_PRIVATE);
    uint8_t *sh = file_map(PROT_READ, MAP_SHARED);
    exec_too = 0;
    uint8_t *data = file_map(PROT_READ, MAP_PRIVATE);
    assert_int_equal(maps_find_ro((uint64_t)data + 100, 8, &r), HP_ERR_FAULT);  /* no code: data */
    uint8_t *an = mmap(0, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_int_equal(maps_find_ro((uint64_t)ro + 100, 8, &r), HP_OK);
    assert_int_equal(maps_find_ro((uint64_t)ro + 8190, 2, &r), HP_OK);
    assert_int_equal(maps_find_ro((uint64_t)ro + 8190, 4, &r), HP_ERR_FAULT);   /* past its end */
    assert_int_equal(maps_find_ro((uint64_t)rw + 100, 8, &r), HP_ERR_FAULT);    /* writable */
    assert_int_equal(maps_find_ro((uint64_t)sh + 100, 8, &r), HP_ERR_FAULT);    /* shared */
    assert_int_equal(maps_find_ro((uint64_t)an + 100, 8, &r), HP_ERR_FAULT);    /* no file */
    assert_int_equal(mprotect(ro, 4096, PROT_READ | PROT_WRITE), 0);            /* as the app would: */
    maps_forget((uint64_t)ro, (uint64_t)ro + 4096);                             /* (the runtime sees it) */
    assert_int_equal(maps_find_ro((uint64_t)ro + 100, 8, &r), HP_ERR_FAULT);
    assert_int_equal(maps_find_ro((uint64_t)ro + 4100, 8, &r), HP_OK);
    uint8_t *gone = file_map(PROT_READ, MAP_PRIVATE);                          /* (exec_too 0) */
    exec_too = 1;
    uint8_t *gone2 = file_map(PROT_READ, MAP_PRIVATE);
    assert_int_equal(maps_find_ro((uint64_t)gone2 + 100, 8, &r), HP_OK);
    unlink(files[nfiles - 1]);                                                  /* deleted */
    maps_forget((uint64_t)gone2, (uint64_t)gone2 + 8192);
    assert_int_equal(maps_find_ro((uint64_t)gone2 + 100, 8, &r), HP_ERR_FAULT);
    munmap(ro, 8192); munmap(rw, 8192); munmap(sh, 8192); munmap(an, 4096); munmap(data, 8192);
    munmap(gone, 8192); munmap(gone2, 8192);
    for (int k = 0; k < nfiles; k++) unlink(files[k]);
}

static void test_read(void **s)
{
    (void)s;
    uint8_t *m = mmap(0, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(m != MAP_FAILED);
    for (int k = 0; k < 3 * 4096; k++) m[k] = (uint8_t)(k * 7);
    assert_int_equal(mprotect(m + 4096, 4096, PROT_NONE), 0);                   /* a hole */
    uint8_t buf[3 * 4096], ok[3 * 4096];
    maps_read((uint64_t)m + 4000, 8200, buf, ok);                               /* across it */
    for (int k = 0; k < 8200; k++) {
        uint64_t a = 4000 + (uint64_t)k;
        int readable = a < 4096 || a >= 8192;
        assert_int_equal(ok[k], readable);
        if (readable) assert_int_equal(buf[k], (uint8_t)(a * 7));
    }
    munmap(m, 3 * 4096);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_line),
        cmocka_unit_test(test_find_exec),
        cmocka_unit_test(test_find_ro),
        cmocka_unit_test(test_read),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
