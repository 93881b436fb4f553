/* test_pass_cse.c — the cse pass on hand-written sequences, before and after: -O0's index
 * recomputed with its register unchanged goes (the lea into a register that holds its
 * value already); what stays: a recomputation after an operand changed, a destination that
 * holds another value (64 against 32 bits, -1 against 0xffffffff), after a partial write,
 * and after a store checked against a promoted loop's slots (the promoted registers may
 * have been read again); a RIP-relative lea's value is its absolute address. Native equivalence of what is left is the differential tester's
 * part. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>
#include "builder.h"
#include "ir.h"
#include "opt.h"
#include "syscalls.h"
#include "unit_ir.h"
#include "unit_init.h"

static uint8_t *code;     /* app code: an executable mapping the IR builder reads */

static void build1(ir_trace_t *t, const uint8_t *bytes, size_t n, uint32_t ninsn)
{
    const uint64_t off = 0;
    unit_build_path(t, code, bytes, n, &off, &ninsn, 1);
    assert_int_equal(t->n, (int)ninsn + 1);
}

/* pcs_left: the app offsets of t's instructions, in order, are exactly want[0..n). */
static void pcs_left(const ir_trace_t *t, const uint64_t *want, int n)
{
    assert_int_equal(t->n, n + 1);                                /* and the exit */
    for (int k = 0; k < n; k++) assert_int_equal(t->insn[k].app_pc, (uint64_t)code + want[k]);
}

/* matmul.O0's inner loop after promotion and fuse (j in r11). */
static void test_index_recomputed(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x49, 0x63, 0xc3,                        /* 0: movslq %r11d,%rax */
        0x48, 0x8d, 0x14, 0xc5, 0, 0, 0, 0,      /* 3: lea 0x0(,%rax,8),%rdx */
        0x48, 0x8b, 0x45, 0xa0,                  /* 11: mov -0x60(%rbp),%rax */
        0x48, 0x01, 0xd0,                        /* 15: add %rdx,%rax */
        0x49, 0x63, 0xc3,                        /* 18: movslq %r11d,%rax (rax differs) */
        0x48, 0x8d, 0x14, 0xc5, 0, 0, 0, 0,      /* 21: lea 0x0(,%rax,8),%rdx (rdx holds it) */
        0x48, 0x8b, 0x45, 0xa8,                  /* 29: mov -0x58(%rbp),%rax */
        0x41, 0x83, 0xc3, 0x01,                  /* 33: add $1,%r11d */
        0x49, 0x63, 0xc3,                        /* 37: movslq %r11d,%rax */
        0x48, 0x8d, 0x14, 0xc5, 0, 0, 0, 0,      /* 40: lea 0x0(,%rax,8),%rdx (j changed) */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 10);
    assert_int_equal(opt_pass_cse(&t), 1);
    static const uint64_t left[] = { 0, 3, 11, 15, 18, 29, 33, 37, 40 };
    pcs_left(&t, left, 9);
    ir_free(&t);
}

/* Whole 64-bit values: a 32-bit write zero-extends, a 64-bit immediate sign-extends. */
static void test_widths(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, /* 0: mov $-1,%rax */
        0xb8, 0xff, 0xff, 0xff, 0xff,             /* 7: mov $0xffffffff,%eax (upper half 0) */
        0xb8, 0xff, 0xff, 0xff, 0xff,             /* 12: again: goes */
        0x89, 0xc0,                               /* 17: mov %eax,%eax: zero-extended already: goes */
        0x4c, 0x89, 0xd9,                         /* 19: mov %r11,%rcx */
        0x44, 0x89, 0xd9,                         /* 22: mov %r11d,%ecx (upper half may differ) */
        0x4c, 0x89, 0xda,                         /* 25: mov %r11,%rdx */
        0x4c, 0x89, 0xda,                         /* 28: mov %r11,%rdx: goes */
        0x48, 0x89, 0xd6,                         /* 31: mov %rdx,%rsi */
        0x4c, 0x89, 0xde,                         /* 34: mov %r11,%rsi: same value: goes */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 10);
    assert_int_equal(opt_pass_cse(&t), 4);
    static const uint64_t left[] = { 0, 7, 19, 22, 25, 31 };
    pcs_left(&t, left, 6);
    ir_free(&t);
}

/* Partial writes, other writers, rip-relative lea and cltq. */
static void test_writers(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x44, 0x89, 0xd8,                         /* 0: mov %r11d,%eax */
        0xb0, 0x01,                               /* 3: mov $1,%al (partial) */
        0x44, 0x89, 0xd8,                         /* 5: mov %r11d,%eax: stays */
        0x48, 0x8d, 0x15, 0x10, 0, 0, 0,          /* 8: lea 0x10(%rip),%rdx */
        0x48, 0x8d, 0x15, 0x09, 0, 0, 0,          /* 15: lea 0x9(%rip),%rdx: same address: goes */
        0x48, 0x98,                               /* 22: cltq */
        0x48, 0x98,                               /* 24: cltq: rax = sx(eax) already: goes */
        0x48, 0x63, 0xc8,                         /* 26: movslq %eax,%rcx */
        0x48, 0xff, 0xc1,                         /* 29: inc %rcx */
        0x48, 0x63, 0xc8,                         /* 32: movslq %eax,%rcx: stays */
        0x48, 0x8b, 0x08,                         /* 35: mov (%rax),%rcx (a load) */
        0x48, 0x63, 0xc8,                         /* 38: movslq %eax,%rcx: stays */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 12);
    assert_int_equal(opt_pass_cse(&t), 2);
    static const uint64_t left[] = { 0, 3, 5, 8, 22, 26, 29, 32, 35, 38 };
    pcs_left(&t, left, 10);
    ir_free(&t);
    static const uint8_t rip[] = {                /* a RIP-relative lea is its absolute address */
        0x8d, 0x05, 0x0a, 0, 0, 0,                /* 0: lea 0xa(%rip),%eax = code + 16 */
        0xb8, 0, 0, 0, 0,                         /* 6: mov $(code + 16),%eax (set below): goes */
        0xb8, 0, 0, 0, 0,                         /* 11: mov $(code + 17),%eax: stays */
    };
    uint8_t r[sizeof(rip)];
    memcpy(r, rip, sizeof(rip));
    uint32_t a = (uint32_t)((uint64_t)code + 16), b = a + 1;
    memcpy(r + 7, &a, 4);
    memcpy(r + 12, &b, 4);
    build1(&t, r, sizeof(r), 3);
    assert_int_equal(opt_pass_cse(&t), 1);
    static const uint64_t left2[] = { 0, 11 };
    pcs_left(&t, left2, 2);
    ir_free(&t);
}

/* A checked store in a promoted loop may reload r11: the copy after it stays. */
static void test_after_checked_store(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x44, 0x89, 0xd8,                         /* 0: mov %r11d,%eax */
        0x89, 0x07,                               /* 3: mov %eax,(%rdi) (checked) */
        0x44, 0x89, 0xd8,                         /* 5: mov %r11d,%eax */
    };
    for (int flag = 0; flag < 3; flag++) {
        ir_trace_t t;
        build1(&t, c, sizeof(c), 3);
        t.npromo = 1;
        t.promo[0].reg = 11;
        t.promo[0].base = 5;
        t.promo[0].disp = -0xc;
        t.promo[0].size = 4;
        t.insn[1].flags |= flag == 1 ? IR_F_ALIAS : flag == 2 ? IR_F_ALIAS_FL : 0;
        assert_int_equal(opt_pass_cse(&t), flag ? 0 : 1);
        ir_free(&t);
    }
}

int main(void)
{
    code = unit_init(8192);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_index_recomputed),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_writers),
        cmocka_unit_test(test_after_checked_store),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
