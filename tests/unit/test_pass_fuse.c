/* test_pass_fuse.c — the fuse pass on hand-written sequences, before and after: -O0's
 * `mov X,%eax; cltq` becomes `movslq X,%rax` for X a 32-bit register, a stack slot or a
 * RIP-relative location (same absolute address), also across a direct jump between two
 * blocks; what it leaves alone: another destination, an immediate or 16-bit source, a pair
 * with an instruction between, a 32-bit address (67h), instructions another pass inserted,
 * a cltq with no mov before it. Native equivalence of the fused form is the differential tester's part
 * (its kind_widen emits the pair with random sources and values). */
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

/* movslq_at: instruction k is `movslq SRC,%rax` at app offset off. */
static const ir_insn_t *movslq_at(const ir_trace_t *t, int k, uint64_t off)
{
    const ir_insn_t *i = &t->insn[k];
    assert_int_equal(i->kind, IR_COPY);
    assert_int_equal(i->app_pc, (uint64_t)code + off);
    assert_int_equal(i->zi.mnemonic, ZYDIS_MNEMONIC_MOVSXD);
    assert_int_equal(i->zi.operand_width, 64);
    assert_int_equal(i->ops[0].reg.value, ZYDIS_REGISTER_RAX);
    return i;
}

static void test_register_and_slot(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x44, 0x89, 0xd8,                        /* 0: mov %r11d,%eax */
        0x48, 0x98,                              /* 3: cltq */
        0x48, 0x8d, 0x14, 0xc5, 0, 0, 0, 0,      /* 5: lea 0x0(,%rax,8),%rdx */
        0x8b, 0x45, 0xec,                        /* 13: mov -0x14(%rbp),%eax */
        0x48, 0x98,                              /* 16: cltq */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 5);
    assert_int_equal(opt_pass_fuse(&t), 2);
    assert_int_equal(t.n, 4);
    const ir_insn_t *i = movslq_at(&t, 0, 0);
    assert_int_equal(i->ops[1].type, ZYDIS_OPERAND_TYPE_REGISTER);
    assert_int_equal(i->ops[1].reg.value, ZYDIS_REGISTER_R11D);
    assert_int_equal(t.insn[1].app_pc, (uint64_t)code + 5);      /* the lea stays */
    i = movslq_at(&t, 2, 13);
    assert_int_equal(i->ops[1].type, ZYDIS_OPERAND_TYPE_MEMORY);
    assert_int_equal(i->ops[1].mem.base, ZYDIS_REGISTER_RBP);
    assert_int_equal(i->ops[1].mem.disp.value, -0x14);
    assert_int_equal(i->ops[1].size, 32);
    assert_int_equal(t.insn[3].kind, IR_EXIT);
    ir_free(&t);
}

static void test_rip_relative(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x8b, 0x05, 0x00, 0x01, 0, 0,            /* 0: mov 0x100(%rip),%eax (code+0x106) */
        0x48, 0x98,                              /* 6: cltq */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 2);
    assert_int_equal(opt_pass_fuse(&t), 1);
    const ir_insn_t *i = movslq_at(&t, 0, 0);
    assert_int_equal(i->ops[1].mem.base, ZYDIS_REGISTER_RIP);
    ZyanU64 abs = 0;
    assert_true(ZYAN_SUCCESS(ZydisCalcAbsoluteAddress(&i->zi, &i->ops[1], i->app_pc, &abs)));
    assert_int_equal(abs, (uint64_t)code + 0x106);
    ir_free(&t);
}

/* A direct jump between the two (the path's blocks): the jump is gone from the IR, the pair
 * is adjacent and fuses. */
static void test_across_jump(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0xf8,                              /* 0: mov %edi,%eax */
        0xeb, 0x0c,                              /* 2: jmp 16 */
        [16] = 0x48, 0x98,                       /* 16: cltq */
    };
    const uint64_t offs[] = { 0, 16 };
    const uint32_t lens[] = { 2, 1 };
    ir_trace_t t;
    unit_build_path(&t, code, c, sizeof(c), offs, lens, 2);
    assert_int_equal(opt_pass_fuse(&t), 1);
    const ir_insn_t *i = movslq_at(&t, 0, 0);
    assert_int_equal(i->ops[1].reg.value, ZYDIS_REGISTER_EDI);
    assert_int_equal(t.insn[1].kind, IR_EXIT);
    ir_free(&t);
}

static void test_left_alone(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x48, 0x98,                              /* 0: cltq (nothing before it) */
        0x44, 0x89, 0xd9,                        /* 2: mov %r11d,%ecx */
        0x48, 0x98,                              /* 5: cltq (mov to ecx) */
        0xb8, 0xff, 0xff, 0xff, 0xff,            /* 7: mov $-1,%eax */
        0x48, 0x98,                              /* 12: cltq (immediate) */
        0x66, 0x8b, 0x45, 0xec,                  /* 14: mov -0x14(%rbp),%ax */
        0x48, 0x98,                              /* 18: cltq (16-bit mov) */
        0x8b, 0x45, 0xec,                        /* 20: mov -0x14(%rbp),%eax */
        0x90,                                    /* 23: nop */
        0x48, 0x98,                              /* 24: cltq (not adjacent) */
        0x48, 0x8b, 0x45, 0xe8,                  /* 26: mov -0x18(%rbp),%rax */
        0x48, 0x98,                              /* 30: cltq (64-bit mov) */
        0x89, 0xc8,                              /* 32: mov %ecx,%eax */
        0x98,                                    /* 34: cwde, not cltq */
        0x67, 0x8b, 0x04, 0x25, 0, 0x10, 0, 0x80,    /* 35: addr32 mov 0x80001000,%eax (the */
        0x48, 0x98,                              /* 43: cltq     encoder request drops 67h) */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 16);
    assert_int_equal(opt_pass_fuse(&t), 0);
    assert_int_equal(t.n, 17);
    for (int k = 0; k < 16; k++)
        assert_memory_equal(t.insn[k].bytes, c + (t.insn[k].app_pc - (uint64_t)code), t.insn[k].len);
    ir_free(&t);
}

/* Instructions a pass inserted (IR_F_NEW, promote's reloads) or marked are not fused. */
static void test_marked(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x44, 0x89, 0xd8,                        /* 0: mov %r11d,%eax */
        0x48, 0x98,                              /* 3: cltq */
    };
    ir_trace_t t;
    build1(&t, c, sizeof(c), 2);
    t.insn[0].flags = IR_F_NEW;
    assert_int_equal(opt_pass_fuse(&t), 0);
    t.insn[0].flags = 0;
    t.insn[1].flags = IR_F_INEXACT;
    assert_int_equal(opt_pass_fuse(&t), 0);
    t.insn[1].flags = 0;
    assert_int_equal(opt_pass_fuse(&t), 1);
    assert_int_equal(t.n, 2);
    ir_free(&t);
}

int main(void)
{
    code = unit_init(8192);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_register_and_slot),
        cmocka_unit_test(test_rip_relative),
        cmocka_unit_test(test_across_jump),
        cmocka_unit_test(test_left_alone),
        cmocka_unit_test(test_marked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
