/* test_pass_xfwd.c — the xfwd pass on hand-written sequences, before and after: -O0's
 * double argument (`movsd %xmm0,M ; mov M,%rax ; movq %rax,%xmm0`) and double result
 * (`movq %xmm0,%rax ; movq %rax,%xmm1`), loads and scalar operations from a slot an xmm
 * register stored, a slot a general register stored; what ends what a register is known
 * to hold (the holder written, by name or not: fxrstor, pcmpistrm's xmm0; a store that may
 * overlap; the base moved; a barrier; vzeroupper; another memory read, which may show the
 * store left the store buffer; a call's push) and what is never rewritten (other sizes,
 * VEX forms, half loads, marked instructions).
 * Native equivalence is the differential tester's part (kind_sse's double-through-a-
 * general-register group). */
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

/* build: the trace of c (n bytes, ninsn instructions, one block) and the pass run over it,
 * which must change `changed` instructions and none of the instruction count. */
static void build(ir_trace_t *t, const uint8_t *c, size_t n, uint32_t ninsn, int changed)
{
    const uint64_t off = 0;
    unit_build_path(t, code, c, n, &off, &ninsn, 1);
    assert_int_equal(t->n, (int)ninsn + 1);
    assert_int_equal(opt_pass_xfwd(t), changed);
    assert_int_equal(t->n, (int)ninsn + 1);
}

/* reg_reg: instruction k is `MN SRC,DST` (AT&T order) between two registers, legacy. */
static void reg_reg(const ir_trace_t *t, int k, ZydisMnemonic mn, ZydisRegister dst, ZydisRegister src)
{
    const ir_insn_t *i = &t->insn[k];
    assert_int_equal(i->kind, IR_COPY);
    assert_int_equal(i->zi.mnemonic, mn);
    assert_int_equal(i->zi.encoding, ZYDIS_INSTRUCTION_ENCODING_LEGACY);
    assert_int_equal(i->ops[0].type, ZYDIS_OPERAND_TYPE_REGISTER);
    assert_int_equal(i->ops[0].reg.value, dst);
    assert_int_equal(i->ops[1].type, ZYDIS_OPERAND_TYPE_REGISTER);
    assert_int_equal(i->ops[1].reg.value, src);
}

/* same: instruction k is still the app's bytes at offset off. */
static void same(const ir_trace_t *t, int k, const uint8_t *c, size_t off, size_t len)
{
    assert_int_equal(t->insn[k].len, len);
    assert_memory_equal(t->insn[k].bytes, c + off, len);
    assert_int_equal(t->insn[k].app_pc, (uint64_t)code + off);
}

/* The two -O0 patterns of nbody.O0's call to sqrt. */
static void test_argument_and_result(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xf2, 0x0f, 0x11, 0x45, 0xc0,            /* 0: movsd %xmm0,-0x40(%rbp) */
        0x48, 0x8b, 0x45, 0xc0,                  /* 5: mov -0x40(%rbp),%rax */
        0x66, 0x48, 0x0f, 0x6e, 0xc0,            /* 9: movq %rax,%xmm0 */
        0xf2, 0x0f, 0x51, 0xc0,                  /* 14: sqrtsd %xmm0,%xmm0 */
        0x66, 0x48, 0x0f, 0x7e, 0xc0,            /* 18: movq %xmm0,%rax */
        0x66, 0x48, 0x0f, 0x6e, 0xc8,            /* 23: movq %rax,%xmm1 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 6, 3);
    same(&t, 0, c, 0, 5);
    reg_reg(&t, 1, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_XMM0);
    assert_int_equal(t.insn[1].app_pc, (uint64_t)code + 5);
    reg_reg(&t, 2, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_XMM0, ZYDIS_REGISTER_XMM0);
    same(&t, 3, c, 14, 4);
    same(&t, 4, c, 18, 5);
    reg_reg(&t, 5, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_XMM1, ZYDIS_REGISTER_XMM0);
    ir_free(&t);
}

/* A slot an xmm register stored, read by a load and by scalar operations; one a general
 * register stored, read into an xmm register; movq stores too. */
static void test_loads_and_operations(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xf2, 0x0f, 0x11, 0x55, 0xb8,            /* 0: movsd %xmm2,-0x48(%rbp) */
        0xf2, 0x0f, 0x10, 0x4d, 0xb8,            /* 5: movsd -0x48(%rbp),%xmm1 */
        0xf2, 0x0f, 0x59, 0x5d, 0xb8,            /* 10: mulsd -0x48(%rbp),%xmm3 */
        0x66, 0x0f, 0x2e, 0x5d, 0xb8,            /* 15: ucomisd -0x48(%rbp),%xmm3 */
        0x48, 0x89, 0x55, 0xe8,                  /* 20: mov %rdx,-0x18(%rbp) */
        0xf2, 0x0f, 0x10, 0x45, 0xe8,            /* 24: movsd -0x18(%rbp),%xmm0 */
        0x66, 0x0f, 0xd6, 0x45, 0xc0,            /* 29: movq %xmm0,-0x40(%rbp) */
        0xf3, 0x0f, 0x7e, 0x6d, 0xc0,            /* 34: movq -0x40(%rbp),%xmm5 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 8, 5);
    reg_reg(&t, 1, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_XMM1, ZYDIS_REGISTER_XMM2);
    reg_reg(&t, 2, ZYDIS_MNEMONIC_MULSD, ZYDIS_REGISTER_XMM3, ZYDIS_REGISTER_XMM2);
    reg_reg(&t, 3, ZYDIS_MNEMONIC_UCOMISD, ZYDIS_REGISTER_XMM3, ZYDIS_REGISTER_XMM2);
    reg_reg(&t, 5, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_XMM0, ZYDIS_REGISTER_RDX);
    reg_reg(&t, 7, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_XMM5, ZYDIS_REGISTER_XMM0);
    ir_free(&t);
}

/* What ends a register's hold on a slot or on an xmm value: each sequence is a store (or
 * movq) that would be forwarded, something between, then the reader, left as it is. */
static void test_forgotten(void **s)
{
    (void)s;
    static const uint8_t st[] = { 0xf2, 0x0f, 0x11, 0x45, 0xc0 };       /* movsd %xmm0,-0x40(%rbp) */
    static const uint8_t ld[] = { 0x48, 0x8b, 0x45, 0xc0 };             /* mov -0x40(%rbp),%rax */
    static const uint8_t mq[] = { 0x66, 0x48, 0x0f, 0x7e, 0xc0 };       /* movq %xmm0,%rax */
    static const uint8_t back[] = { 0x66, 0x48, 0x0f, 0x6e, 0xc8 };     /* movq %rax,%xmm1 */
    static const struct {
        const char *what;
        uint8_t mid[8];
        int len, by_movq;
    } cases[] = {
        { "the xmm register written", { 0xf2, 0x0f, 0x58, 0xc1 }, 4, 0 },             /* addsd %xmm1,%xmm0 */
        { "pxor of the xmm register", { 0x66, 0x0f, 0xef, 0xc0 }, 4, 1 },             /* pxor %xmm0,%xmm0 */
        { "vzeroupper", { 0xc5, 0xf8, 0x77 }, 3, 0 },
        { "a store through a pointer", { 0x48, 0x89, 0x08 }, 3, 0 },                 /* mov %rcx,(%rax) */
        { "a store through the other base", { 0x89, 0x44, 0x24, 0xf0 }, 4, 0 },     /* mov %eax,-0x10(%rsp) */
        { "an overlapping store", { 0x89, 0x45, 0xc4 }, 3, 0 },                      /* mov %eax,-0x3c(%rbp) */
        { "the base written", { 0x48, 0x83, 0xc5, 0x08 }, 4, 0 },                    /* add $8,%rbp */
        { "a barrier", { 0x0f, 0xae, 0xf0 }, 3, 0 },                                  /* mfence */
        { "the general register written", { 0x48, 0x83, 0xc0, 0x01 }, 4, 1 },       /* add $1,%rax */
        { "a push", { 0x53 }, 1, 0 },                                                  /* push %rbx */
        { "fxrstor (slot)", { 0x0f, 0xae, 0x0f }, 3, 0 },                              /* fxrstor (%rdi) */
        { "fxrstor (movq)", { 0x0f, 0xae, 0x0f }, 3, 1 },
        { "xrstor (opaque)", { 0x0f, 0xae, 0x2f }, 3, 0 },                             /* xrstor (%rdi) */
        { "pcmpistrm writes xmm0, hidden", { 0x66, 0x0f, 0x3a, 0x62, 0xca, 0x00 }, 6, 1 },
        { "an 8-byte store 4 bytes below", { 0x48, 0x89, 0x45, 0xbc }, 4, 0 },     /* mov %rax,-0x44(%rbp) */
        { "another load (TSO)", { 0x48, 0x8b, 0x11 }, 3, 0 },                        /* mov (%rcx),%rdx */
    };
    for (size_t k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        uint8_t c[32];
        size_t n = 0;
        const uint8_t *first = cases[k].by_movq ? mq : st, *last = cases[k].by_movq ? back : ld;
        size_t fl = cases[k].by_movq ? sizeof(mq) : sizeof(st), ll = cases[k].by_movq ? sizeof(back) : sizeof(ld);
        memcpy(c + n, first, fl), n += fl;
        memcpy(c + n, cases[k].mid, (size_t)cases[k].len), n += (size_t)cases[k].len;
        memcpy(c + n, last, ll), n += ll;
        ir_trace_t t;
        print_message("%s\n", cases[k].what);
        build(&t, c, n, 3, 0);
        same(&t, 2, c, fl + (size_t)cases[k].len, ll);
        ir_free(&t);
    }
    static const uint8_t apart[] = {             /* a store beside the slot forgets nothing */
        0xf2, 0x0f, 0x11, 0x45, 0xc0,            /* 0: movsd %xmm0,-0x40(%rbp) */
        0x89, 0x45, 0xb0,                        /* 5: mov %eax,-0x50(%rbp) */
        0x48, 0x8b, 0x45, 0xc0,                  /* 8: mov -0x40(%rbp),%rax */
    };
    ir_trace_t t;
    build(&t, apart, sizeof(apart), 3, 1);
    reg_reg(&t, 2, ZYDIS_MNEMONIC_MOVQ, ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_XMM0);
    ir_free(&t);
}

/* Never rewritten: a narrower load, a VEX load, an rsp slot after a push moved rsp
 * (forgotten), instructions a pass inserted or marked. */
static void test_left_alone(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xf2, 0x0f, 0x11, 0x45, 0xc0,            /* 0: movsd %xmm0,-0x40(%rbp) */
        0x8b, 0x45, 0xc0,                        /* 5: mov -0x40(%rbp),%eax */
        0xc5, 0xfb, 0x10, 0x4d, 0xc0,            /* 8: vmovsd -0x40(%rbp),%xmm1 */
        0xf2, 0x0f, 0x11, 0x44, 0x24, 0x08,      /* 13: movsd %xmm0,0x8(%rsp) */
        0x53,                                    /* 19: push %rbx */
        0xf3, 0x0f, 0x7e, 0x4c, 0x24, 0x08,      /* 20: movq 0x8(%rsp),%xmm1 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 6, 0);
    same(&t, 1, c, 5, 3);
    same(&t, 2, c, 8, 5);
    same(&t, 5, c, 20, 6);
    ir_free(&t);
    static const uint8_t d[] = {
        0xf2, 0x0f, 0x11, 0x45, 0xc0,            /* 0: movsd %xmm0,-0x40(%rbp) */
        0x48, 0x8b, 0x45, 0xc0,                  /* 5: mov -0x40(%rbp),%rax */
    };
    const uint64_t off = 0;
    uint32_t two = 2;
    unit_build_path(&t, code, d, sizeof(d), &off, &two, 1);
    t.insn[1].flags = IR_F_NEW;
    assert_int_equal(opt_pass_xfwd(&t), 0);
    t.insn[1].flags = IR_F_INEXACT;
    assert_int_equal(opt_pass_xfwd(&t), 0);
    t.insn[1].flags = 0;
    t.insn[1].replay = IR_REPLAY(1, 0, 1);
    assert_int_equal(opt_pass_xfwd(&t), 0);
    t.insn[1].replay = 0;
    assert_int_equal(opt_pass_xfwd(&t), 1);
    ir_free(&t);
}

/* A general register holding a slot is written before the load; movlpd/movhpd load half of
 * an xmm register (movq would zero the other half): never rewritten. A call on the path
 * (its push may overlap an rbp slot) forgets. */
static void test_merges_and_calls(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x48, 0x89, 0x55, 0xc0,                  /* mov %rdx,-0x40(%rbp) */
        0x48, 0x83, 0xc2, 0x01,                  /* add $1,%rdx */
        0xf2, 0x0f, 0x10, 0x45, 0xc0,            /* movsd -0x40(%rbp),%xmm0 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 3, 0);
    ir_free(&t);
    static const uint8_t d[] = {
        0xf2, 0x0f, 0x11, 0x45, 0xc0,            /* movsd %xmm0,-0x40(%rbp) */
        0x66, 0x0f, 0x12, 0x4d, 0xc0,            /* movlpd -0x40(%rbp),%xmm1 */
        0x66, 0x0f, 0x16, 0x4d, 0xc0,            /* movhpd -0x40(%rbp),%xmm1 */
    };
    build(&t, d, sizeof(d), 3, 0);
    ir_free(&t);
    static const uint8_t e[] = {
        0xf2, 0x0f, 0x11, 0x45, 0xc0,            /* 0: movsd %xmm0,-0x40(%rbp) */
        0xe8, 0x00, 0x00, 0x00, 0x00,            /* 5: call 10 */
        0x48, 0x8b, 0x45, 0xc0,                  /* 10: mov -0x40(%rbp),%rax */
        0x66, 0x48, 0x0f, 0x6e, 0xc0,            /* 14: movq %rax,%xmm0 */
    };
    const uint64_t offs[2] = { 0, 10 };
    const uint32_t lens[2] = { 2, 2 };
    unit_build_path(&t, code, e, sizeof(e), offs, lens, 2);
    assert_int_equal(t.insn[1].kind, IR_CALL);
    assert_int_equal(opt_pass_xfwd(&t), 0);
    same(&t, 2, e, 10, 4);
    ir_free(&t);
}

int main(void)
{
    code = unit_init(8192);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_argument_and_result),
        cmocka_unit_test(test_loads_and_operations),
        cmocka_unit_test(test_forgotten),
        cmocka_unit_test(test_left_alone),
        cmocka_unit_test(test_merges_and_calls),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
