/* test_pass_jtable.c — pass_jtable on hand-written switch dispatches: gcc's -O0 form (bound
 * check, table of 32-bit offsets, add, jmp *%rax) and the -O2 one are folded to a compare
 * of the index with the recorded case, the table load to an immediate, the jump gone, the
 * bound's exit leaving to the app's own check with its flags computed again, the table's
 * bytes added to what the trace depends on; refused where the table could change unseen
 * (a writable or anonymous mapping), where two cases lead to the recorded target, where
 * the target depends on a register the sequence does not compute or on the index's unknown
 * upper half. The table lives in a read-only private mapping of a file, as in a program.
 * Running such code (and changing the table under it) is tests/programs/jtable_switch.c's
 * part. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>
#include "analysis.h"
#include "builder.h"
#include "ir.h"
#include "maps.h"
#include "opt.h"
#include "syscalls.h"
#include "unit_ir.h"
#include "unit_init.h"

static uint8_t *code;

#define CASES 0x40                       /* case v's handler at CASES + 8v */
enum { RO_FILE, RW_FILE, RO_ANON, RO_DATA };  /* RO_DATA: a file not also mapped executable */
static void *sibling;                    /* the table file's executable mapping (an ELF's code) */
static char table_file[64];

/* table: four 32-bit offsets from the table to the handlers (twice case 1's handler when
 * dup), in a fresh mapping of the given kind over the page main reserved near the code (so
 * they fit 32 bits); untable gives the reservation back. */
static int32_t *table(int kind, int dup)
{
    int32_t v[4];
    uint8_t *near = code + (1 << 20);
    for (int k = 0; k < 4; k++) v[k] = 0;
    int prot = kind == RW_FILE ? PROT_READ | PROT_WRITE : PROT_READ;
    void *m;
    if (kind == RO_ANON) {
        m = mmap(near, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    } else {
        char name[] = "/tmp/test_pass_jtable.XXXXXX";
        int fd = mkstemp(name);
        assert_true(fd >= 0);
        strcpy(table_file, name);            /* (unlinked by untable: a deleted file is no
                                                program's, maps_find_ro) */
        uint8_t page[4096] = { 0 };
        for (int k = 0; k < 5; k++) {           /* (entry 4, past the bound: case 3's) */
            int32_t off = (int32_t)((int64_t)(code + CASES + 8 * (dup && k == 2 ? 1 : k == 4 ? 3 : k)) - (int64_t)near);
            memcpy(page + 4 * k, &off, 4);
        }
        assert_int_equal(write(fd, page, sizeof page), (ssize_t)sizeof page);
        assert_int_equal(write(fd, page, sizeof page), (ssize_t)sizeof page);
        m = mmap(near, 4096, prot, MAP_PRIVATE | MAP_FIXED, fd, 0);
        sibling = kind == RO_DATA ? 0 : mmap(0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 4096);
        assert_true(sibling != MAP_FAILED);
        close(fd);
    }
    assert_ptr_equal(m, near);
    maps_forget((uint64_t)near, (uint64_t)near + 4096);   /* (what the runtime does at mmap) */
    if (kind == RO_ANON) {
        for (int k = 0; k < 4; k++)
            v[k] = (int32_t)((int64_t)(code + CASES + 8 * k) - (int64_t)near);
        memcpy(m, v, sizeof v);
        assert_int_equal(mprotect(m, 4096, PROT_READ), 0);
    }
    return m;
}

static void untable(int32_t *t)
{
    if (sibling) munmap(sibling, 4096);
    sibling = 0;
    if (table_file[0]) unlink(table_file);
    table_file[0] = 0;
    assert_ptr_equal(mmap(t, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0), t);
}

/* put_imm64: the 8 bytes of a movabs immediate. */
static void put_imm64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* the -O0 form: 9 instructions; T at offsets 17 and 31 */
static const uint8_t o0[] = {
    0x83, 0xf8, 0x03,                                   /* 0: cmp $3,%eax */
    0x77, 0x2b,                                         /* 3: ja 0x30 */
    0x89, 0xc0,                                         /* 5: mov %eax,%eax */
    0x48, 0x8d, 0x14, 0x85, 0, 0, 0, 0,                 /* 7: lea 0x0(,%rax,4),%rdx */
    0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,                 /* 15: movabs $T,%rax */
    0x48, 0x63, 0x04, 0x02,                             /* 25: movslq (%rdx,%rax,1),%rax */
    0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0,                 /* 29: movabs $T,%rdx */
    0x48, 0x01, 0xd0,                                   /* 39: add %rdx,%rax */
    0xff, 0xe0,                                         /* 42: jmp *%rax */
};

/* build: the path through bytes (n instructions: a block of `first` up to the ja, one of
 * the rest from `second` up to the jump) and case `taken`'s handler (add $1,%rbx; jmp 0). */
static void build2(ir_trace_t *t, const uint8_t *bytes, size_t len, uint32_t first, uint64_t second,
                   uint32_t n, int taken)
{
    uint8_t b[CASES + 32];
    memset(b, 0x90, sizeof b);
    memcpy(b, bytes, len);
    for (int k = 0; k < 4; k++) {
        uint8_t *h = b + CASES + 8 * k;
        h[0] = 0x48; h[1] = 0x83; h[2] = 0xc3; h[3] = 0x01;          /* add $1,%rbx */
        h[4] = 0xeb; h[5] = (uint8_t)(-(CASES + 8 * k + 6));           /* jmp 0 */
    }
    uint64_t offs[3] = { 0, second, CASES + 8 * (uint64_t)taken };
    uint32_t lens[3] = { first, n - first, 2 };
    unit_build_path(t, code, b, sizeof b, offs, lens, 3);
}

/* build: the same with the ja as the second instruction and 5 bytes in */
static void build(ir_trace_t *t, const uint8_t *bytes, size_t len, uint32_t n, int taken)
{
    build2(t, bytes, len, 2, 5, n, taken);
}

static void o0_bytes(uint8_t *b, const int32_t *tab)
{
    memcpy(b, o0, sizeof o0);
    put_imm64(b + 17, (uint64_t)tab);
    put_imm64(b + 31, (uint64_t)tab);
}

/* fold: the pass over the -O0 form with this table; returns what it returned. */
static int fold(int kind, int dup, int taken)
{
    int32_t *tab = table(kind, dup);
    uint8_t b[sizeof o0];
    o0_bytes(b, tab);
    ir_trace_t t;
    build(&t, b, sizeof b, 9, taken);
    int r = opt_pass_jtable(&t);
    ir_free(&t);
    untable(tab);
    return r;
}

static int find_kind(const ir_trace_t *t, int kind)
{
    for (int k = 0; k < t->n; k++)
        if (t->insn[k].kind == kind) return k;
    return -1;
}

static void test_folds_o0_form(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    uint8_t b[sizeof o0];
    o0_bytes(b, tab);
    ir_trace_t t;
    build(&t, b, sizeof b, 9, 2);
    int n0 = t.n, src0 = t.nsrc;
    assert_int_equal(opt_pass_jtable(&t), 1);
    assert_int_equal(t.n, n0 - 1);
    assert_int_equal(find_kind(&t, IR_IND), -1);                       /* no jump, no check */
    const ir_insn_t *c = &t.insn[0], *j = &t.insn[1];
    assert_int_equal(c->zi.mnemonic, ZYDIS_MNEMONIC_CMP);              /* cmp $2,%eax */
    assert_int_equal(c->ops[0].reg.value, ZYDIS_REGISTER_EAX);
    assert_int_equal(c->ops[1].imm.value.u, 2);
    assert_int_equal(c->flags, 0);                                     /* exact at its start */
    assert_int_equal(j->kind, IR_JCC);                                 /* jne to the app's ja */
    assert_int_equal(j->cc, 0x5);
    assert_int_equal(j->zi.mnemonic, ZYDIS_MNEMONIC_JNZ);
    assert_int_equal(j->target, (uint64_t)code + 3);
    assert_int_equal(j->flags, IR_F_INEXACT);
    assert_int_equal(j->ncomp, 1);                                     /* cmp $3,%eax again */
    assert_memory_equal(j->comp[0].bytes, o0, 3);
    /* the load became its value; up to the add (the first flag writer) inexact */
    const ir_insn_t *l = &t.insn[5];
    assert_int_equal(l->zi.mnemonic, ZYDIS_MNEMONIC_MOV);
    assert_int_equal(l->ops[0].reg.value, ZYDIS_REGISTER_RAX);
    assert_int_equal(l->ops[1].type, ZYDIS_OPERAND_TYPE_IMMEDIATE);
    assert_int_equal((int64_t)l->ops[1].imm.value.s, (int64_t)tab[2]);
    for (int k = 2; k <= 7; k++) assert_int_equal(t.insn[k].flags, IR_F_INEXACT);
    assert_int_equal(t.insn[7].zi.mnemonic, ZYDIS_MNEMONIC_ADD);
    assert_int_equal(t.insn[8].app_pc, (uint64_t)code + CASES + 16);   /* the handler follows */
    assert_int_equal(t.insn[8].flags, 0);
    assert_int_equal(t.nsrc, src0 + 1);                                /* the entry read */
    assert_int_equal(t.src[src0][0], (uint64_t)(tab + 2));
    assert_int_equal(t.src[src0][1], (uint64_t)(tab + 3));
    ir_free(&t);
    untable(tab);
}

/* gcc -O0's own form: a 32-bit load, then cltq (fuse makes it movslq later); the entry
 * (negative here: the table lies after the handlers) becomes mov $imm32,%eax */
static void test_folds_32bit_load(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    uint8_t b[48] = {
        0x83, 0xf8, 0x03,                               /* 0: cmp $3,%eax */
        0x77, 0x2b,                                     /* 3: ja */
        0x89, 0xc0,                                     /* 5: mov %eax,%eax */
        0x48, 0x8d, 0x14, 0x85, 0, 0, 0, 0,             /* 7: lea 0x0(,%rax,4),%rdx */
        0x48, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0,             /* 15: movabs $T,%rax */
        0x8b, 0x04, 0x02,                               /* 25: mov (%rdx,%rax,1),%eax */
        0x48, 0x98,                                     /* 28: cltq */
        0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0,             /* 30: movabs $T,%rdx */
        0x48, 0x01, 0xd0,                               /* 40: add %rdx,%rax */
        0xff, 0xe0,                                     /* 43: jmp *%rax */
    };
    put_imm64(b + 17, (uint64_t)tab);
    put_imm64(b + 32, (uint64_t)tab);
    ir_trace_t t;
    build(&t, b, 45, 10, 3);
    assert_true(tab[3] < 0);
    assert_int_equal(opt_pass_jtable(&t), 1);
    const ir_insn_t *l = &t.insn[5];
    assert_int_equal(l->zi.mnemonic, ZYDIS_MNEMONIC_MOV);
    assert_int_equal(l->ops[0].reg.value, ZYDIS_REGISTER_EAX);
    assert_int_equal(l->ops[1].type, ZYDIS_OPERAND_TYPE_IMMEDIATE);
    assert_int_equal(l->ops[1].imm.value.u & 0xffffffffu, (uint32_t)tab[3]);
    assert_int_equal(t.insn[6].zi.mnemonic, ZYDIS_MNEMONIC_CDQE);      /* kept: it extends */
    ir_free(&t);
    untable(tab);
}

static void test_each_case(void **s)
{
    (void)s;
    for (int v = 0; v < 4; v++) assert_int_equal(fold(RO_FILE, 0, v), 1);
}

/* no folding where the trace builder says app data may change unseen (other threads,
 * madvise DONTFORK, io_uring: ir_trace_t.no_fold) */
static void test_no_fold(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    uint8_t b[sizeof o0];
    o0_bytes(b, tab);
    ir_trace_t t;
    build(&t, b, sizeof b, 9, 1);
    t.no_fold = 1;
    assert_int_equal(opt_pass_jtable(&t), 0);
    t.no_fold = 0;
    assert_int_equal(opt_pass_jtable(&t), 1);
    ir_free(&t);
    untable(tab);
}

static void test_refuses_changeable_tables(void **s)
{
    (void)s;
    assert_int_equal(fold(RW_FILE, 0, 1), 0);          /* the app may write it */
    assert_int_equal(fold(RO_ANON, 0, 1), 0);          /* not a file's */
    assert_int_equal(fold(RO_DATA, 0, 1), 0);          /* a file's, but no program's */
    assert_int_equal(fold(RO_FILE, 0, 1), 1);
}

static void test_refuses_two_cases(void **s)
{
    (void)s;
    assert_int_equal(fold(RO_FILE, 1, 1), 0);          /* cases 1 and 2 lead there */
    assert_int_equal(fold(RO_FILE, 1, 3), 1);          /* case 3 alone does */
}

/* the -O2 form: the base computed in the sequence, the index's upper half zero from an
 * earlier 32-bit write (else unknown: refused, unless the bound check is 64-bit) */
static void test_o2_form(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    uint8_t b[32] = {
        0x89, 0xc8,                                     /* 0: mov %ecx,%eax (upper half 0) */
        0x83, 0xf8, 0x03,                               /* 2: cmp $3,%eax */
        0x77, 0x30,                                     /* 5: ja */
        0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0,             /* 7: movabs $T,%rdx */
        0x48, 0x63, 0x04, 0x82,                         /* 17: movslq (%rdx,%rax,4),%rax */
        0x48, 0x01, 0xd0,                               /* 21: add %rdx,%rax */
        0xff, 0xe0,                                     /* 24: jmp *%rax */
    };
    put_imm64(b + 9, (uint64_t)tab);
    ir_trace_t t;
    build2(&t, b, 26, 3, 7, 7, 3);
    assert_int_equal(opt_pass_jtable(&t), 1);
    assert_int_equal(t.insn[1].ops[1].imm.value.u, 3);
    ir_free(&t);
    b[0] = 0x90; b[1] = 0x90;                           /* nop; nop: upper half unknown */
    build2(&t, b, 26, 4, 7, 8, 3);
    assert_int_equal(opt_pass_jtable(&t), 0);
    ir_free(&t);
    /* a 64-bit bound check: the whole index known */
    {
        uint8_t c[32] = {
            0x48, 0x89, 0xc8,                           /* 0: mov %rcx,%rax */
            0x48, 0x83, 0xf8, 0x03,                     /* 3: cmp $3,%rax */
            0x77, 0x30,                                 /* 7: ja */
            0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0,         /* 9: movabs $T,%rdx */
            0x48, 0x63, 0x04, 0x82,                     /* 19: movslq (%rdx,%rax,4),%rax */
            0x48, 0x01, 0xd0,                           /* 23: add %rdx,%rax */
            0xff, 0xe0,                                 /* 26: jmp *%rax */
        };
        put_imm64(c + 11, (uint64_t)tab);
        build2(&t, c, 28, 3, 9, 7, 0);
        assert_int_equal(opt_pass_jtable(&t), 1);
        ir_free(&t);
    }
    untable(tab);
}

/* the base in a register the sequence does not set (-O2 hoists it out of the loop): the
 * table's address is not known */
static void test_refuses_unknown_base(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    static const uint8_t b[] = {
        0x83, 0xf8, 0x03,                               /* 0: cmp $3,%eax */
        0x77, 0x30,                                     /* 3: ja */
        0x89, 0xc0,                                     /* 5: mov %eax,%eax */
        0x48, 0x63, 0x04, 0x87,                         /* 7: movslq (%rdi,%rax,4),%rax */
        0x48, 0x01, 0xf8,                               /* 11: add %rdi,%rax */
        0xff, 0xe0,                                     /* 14: jmp *%rax */
    };
    ir_trace_t t;
    build(&t, b, sizeof b, 6, 1);
    assert_int_equal(opt_pass_jtable(&t), 0);
    ir_free(&t);
    untable(tab);
}

/* jae: the bound lets 0..N-1 through (entry N, which leads to case N-1's handler too, is
 * not a second case); a sequence with no flag writer (the flags would stay those of the
 * new compare) is refused */
static void test_jae_and_flags(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    uint8_t b[sizeof o0 + 1];
    o0_bytes(b, tab);
    assert_int_equal(tab[4], tab[3]);
    b[2] = 4;                                           /* cmp $4,%eax */
    b[3] = 0x73;                                        /* jae */
    ir_trace_t t;
    build(&t, b, sizeof o0, 9, 3);
    assert_int_equal(opt_pass_jtable(&t), 1);
    assert_memory_equal(t.insn[1].comp[0].bytes, b, 3);
    ir_free(&t);
    b[39] = 0x48; b[40] = 0x8d; b[41] = 0x04; b[42] = 0x10;   /* lea (%rax,%rdx),%rax */
    b[43] = 0xff; b[44] = 0xe0;                               /* jmp *%rax */
    build(&t, b, 45, 9, 3);
    assert_int_equal(opt_pass_jtable(&t), 0);
    ir_free(&t);
    untable(tab);
}

/* what the sequence may not do before its first flag writer, and the index's upper half:
 * each variant of the -O0 form must be refused */
static void test_refusals(void **s)
{
    (void)s;
    int32_t *tab = table(RO_FILE, 0);
    uint8_t b[64];
    ir_trace_t t;
    /* shl $0 keeps (reads) the flags: they would be the new compare's */
    o0_bytes(b, tab);
    memmove(b + 43, b + 39, 5);                        /* add, jmp 4 bytes later */
    memcpy(b + 39, (const uint8_t[]){ 0x48, 0xc1, 0xe2, 0x00 }, 4);   /* shl $0,%rdx */
    build(&t, b, 48, 10, 1);
    assert_int_equal(opt_pass_jtable(&t), 0);
    ir_free(&t);
    /* inc leaves CF: not the writer of every flag */
    memcpy(b + 39, (const uint8_t[]){ 0x48, 0xff, 0xc2, 0x90 }, 4);   /* inc %rdx; nop */
    build(&t, b, 48, 11, 1);
    assert_int_equal(opt_pass_jtable(&t), 0);
    ir_free(&t);
    /* ... while a flag-free instruction there is fine */
    memcpy(b + 39, (const uint8_t[]){ 0x48, 0x8d, 0x52, 0x00 }, 4);   /* lea 0(%rdx),%rdx */
    build(&t, b, 48, 10, 1);
    assert_int_equal(opt_pass_jtable(&t), 1);
    ir_free(&t);
    /* the index read whole (mov %rax,%rcx) with its upper half unknown */
    static const uint8_t w[] = {
        0x48, 0x89, 0xc8,                               /* 0: mov %rcx,%rax (64-bit writer) */
        0x83, 0xf8, 0x03,                               /* 3: cmp $3,%eax */
        0x77, 0x30,                                     /* 6: ja */
        0x48, 0x89, 0xc1,                               /* 8: mov %rax,%rcx */
        0x48, 0xba, 0, 0, 0, 0, 0, 0, 0, 0,             /* 11: movabs $T,%rdx */
        0x48, 0x63, 0x04, 0x8a,                         /* 21: movslq (%rdx,%rcx,4),%rax */
        0x48, 0x01, 0xd0,                               /* 25: add %rdx,%rax */
        0xff, 0xe0,                                     /* 28: jmp *%rax */
    };
    memcpy(b, w, sizeof w);
    put_imm64(b + 13, (uint64_t)tab);
    build2(&t, b, sizeof w, 3, 8, 8, 1);
    assert_int_equal(opt_pass_jtable(&t), 0);
    ir_free(&t);
    b[8] = 0x40; b[9] = 0x89; b[10] = 0xc1;             /* mov %eax,%ecx: the low half only */
    build2(&t, b, sizeof w, 3, 8, 8, 1);
    assert_int_equal(opt_pass_jtable(&t), 1);
    ir_free(&t);
    untable(tab);
}

int main(void)
{
    code = unit_init(8192);
    if (code == MAP_FAILED ||
        mmap(code + (1 << 20), 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) !=
            code + (1 << 20))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_folds_o0_form),
        cmocka_unit_test(test_folds_32bit_load),
        cmocka_unit_test(test_each_case),
        cmocka_unit_test(test_no_fold),
        cmocka_unit_test(test_refuses_changeable_tables),
        cmocka_unit_test(test_refuses_two_cases),
        cmocka_unit_test(test_o2_form),
        cmocka_unit_test(test_refuses_unknown_base),
        cmocka_unit_test(test_jae_and_flags),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, 0, 0);
}
