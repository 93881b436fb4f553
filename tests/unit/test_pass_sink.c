/* test_pass_sink.c — pass_sink on hand-written -O0 loops after promotion: the copy of the
 * promoted counter into eax for the loop's test goes, the test reads the counter's register,
 * the exits (the loop's own and a side exit) get the copy as compensation code, the test
 * (which can fault) replays it, the branch and the head's part of the stale region are
 * inexact; the emitted code runs the copy on the way out before the registers are restored
 * and maps the region as such. Refused: no promotion, the head reading the destination or
 * holding a load that can fault before overwriting it, the destination used as an address,
 * the source changing after the copy. Running such loops is tests/programs/sink_copy.c's
 * part. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>
#include "analysis.h"
#include "builder.h"
#include "ir.h"
#include "opt.h"
#include "syscalls.h"
#include "unit_ir.h"
#include "unit_emit.h"
#include "unit_init.h"

static uint8_t *code;

/* build: the loop of one block (or two: the first nfirst instructions, then the rest at
 * byte second) in straightened form, promoted (promote: 1) or not. */
static void build(ir_trace_t *t, const uint8_t *bytes, size_t n, uint32_t len, uint32_t nfirst, uint64_t second,
                  int promote)
{
    uint64_t offs[2] = { 0, second };
    uint32_t lens[2] = { nfirst ? nfirst : len, len - nfirst };
    unit_build_path(t, code, bytes, n, offs, lens, nfirst ? 2 : 1);
    opt_pass_straighten(t);
    assert_true(ir_is_loop(t));
    if (promote) assert_true(opt_pass_promote(t) > 0);
}

/* build_sink: the loop `bytes` promoted, then sink; its result. */
static int build_sink(ir_trace_t *t, const uint8_t *bytes, size_t n, uint32_t len)
{
    build(t, bytes, n, len, 0, 0, 1);
    return opt_pass_sink(t);
}

/* sinks: what sink returns on the promoted loop `bytes` (the trace freed after). */
static int sinks(const uint8_t *bytes, size_t n, uint32_t len)
{
    ir_trace_t t;
    int r = build_sink(&t, bytes, n, len);
    ir_free(&t);
    return r;
}

static int is_reg(const ir_insn_t *i, int op, ZydisRegister r)
{
    return i->ops[op].type == ZYDIS_OPERAND_TYPE_REGISTER && i->ops[op].reg.value == r;
}

/* the loop of test_pass_promote.c: i in -0xc (r11 after promotion), sum in -0x8 */
static const uint8_t loop[] = {
    0x8b, 0x45, 0xf4,                   /* 0: mov -0xc(%rbp),%eax */
    0x01, 0x45, 0xf8,                   /* 3: add %eax,-0x8(%rbp) */
    0x83, 0x45, 0xf4, 0x01,             /* 6: addl $1,-0xc(%rbp) */
    0x8b, 0x45, 0xf4,                   /* 10: mov -0xc(%rbp),%eax */
    0x3b, 0x45, 0xf0,                   /* 13: cmp -0x10(%rbp),%eax */
    0x7c, 0xee,                         /* 16: jl 0 */
};

static void test_sinks_the_test_copy(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, loop, sizeof(loop), 6, 0, 0, 1);
    /* mov %r11d,%eax ; add %eax,%r10d ; mov %r10d,-8(%rbp) ; add $1,%r11d ;
       mov %r11d,-0xc(%rbp) ; mov %r11d,%eax ; cmp -0x10(%rbp),%eax ; jge-exit ; exit */
    assert_int_equal(t.n, 9);
    assert_int_equal(opt_pass_sink(&t), 1);
    assert_int_equal(t.n, 8);
    ir_insn_t *cmp = &t.insn[5], *jcc = &t.insn[6];
    assert_int_equal(cmp->zi.mnemonic, ZYDIS_MNEMONIC_CMP);
    assert_true(is_reg(cmp, 0, ZYDIS_REGISTER_R11D));               /* reads the counter */
    assert_int_equal(cmp->ops[1].mem.disp.value, -0x10);
    assert_int_equal(cmp->replay, IR_REPLAY(XL_RP_ZX32, AN_RAX, AN_R11));   /* can fault */
    assert_false(cmp->flags & IR_F_INEXACT);
    assert_int_equal(jcc->kind, IR_JCC);
    assert_int_equal(jcc->ncomp, 1);                                /* the way out copies */
    assert_int_equal(jcc->comp[0].zi.mnemonic, ZYDIS_MNEMONIC_MOV);
    assert_true(is_reg(&jcc->comp[0], 0, ZYDIS_REGISTER_EAX));
    assert_true(is_reg(&jcc->comp[0], 1, ZYDIS_REGISTER_R11D));
    assert_true(jcc->flags & IR_F_INEXACT);
    assert_true(t.insn[0].flags & IR_F_INEXACT);          /* the head, until eax is written */
    assert_true(is_reg(&t.insn[0], 0, ZYDIS_REGISTER_EAX));
    for (int k = 1; k < 5; k++) assert_false(t.insn[k].flags & IR_F_INEXACT);
    assert_int_equal(opt_pass_sink(&t), 0);                         /* nothing more */
    ir_free(&t);
}

/* The emitted loop: the cmp's map entry replays, the branch's is inexact, and after the
 * branch back the copy runs before the map's exit entry and the restore of r11. */
static void test_emitted(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, loop, sizeof(loop), 6, 0, 0, 1);
    assert_int_equal(opt_pass_sink(&t), 1);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 32);
    int n = ctx.n_xl;
    assert_int_equal(xl[n - 1].kind, XL_END);
    assert_int_equal(xl[n - 2].kind, XL_INEXACT);                   /* the branch */
    assert_int_equal(xl[n - 2].app_pc, (uint64_t)code + 16);
    assert_int_equal(xl[n - 3].kind, XL_COPY | XL_F_REPLAY | (uint32_t)IR_REPLAY(XL_RP_ZX32, AN_RAX, AN_R11) << 12);
    assert_int_equal(xl[n - 3].app_pc, (uint64_t)code + 13);
    assert_int_equal(xl[0].kind, XL_PREHEAD);
    assert_int_equal(xl[1].kind, XL_INEXACT);                       /* the head */
    assert_int_equal(xl[1].app_pc, (uint64_t)code);
    assert_int_equal(xl[2].kind, XL_COPY);                          /* then exact */
    static const uint8_t copy[] = { 0x44, 0x89, 0xd8 };              /* mov %r11d,%eax */
    uint8_t *out = ctx.start + xl[n - 1].cache_off;
    assert_memory_equal(out - sizeof(copy), copy, sizeof(copy));   /* then the exit entry */
    assert_int_equal(out[0], 0x65);                                 /* mov %gs:..,%r11 */
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

/* A side exit after the copy gets it too, out of line. */
static void test_side_exit(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x01, 0x45, 0xf8,               /* 3: add %eax,-0x8(%rbp) */
        0x83, 0x45, 0xf4, 0x01,         /* 6: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 10: mov -0xc(%rbp),%eax */
        0x85, 0xf6,                     /* 13: test %esi,%esi */
        0x74, 0x17,                     /* 15: je 40 (the side exit) */
        0x3b, 0x45, 0xf0,               /* 17: cmp -0x10(%rbp),%eax */
        0x7c, 0xea,                     /* 20: jl 0 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 8, 6, 17, 1);
    assert_int_equal(opt_pass_sink(&t), 1);
    int side = -1;
    for (int k = 0; k < t.n; k++)
        if (t.insn[k].kind == IR_JCC && t.insn[k].target == (uint64_t)code + 40) side = k;
    assert_true(side > 0);
    assert_int_equal(t.insn[side].ncomp, 1);
    assert_true(t.insn[side].flags & IR_F_INEXACT);
    assert_true(t.insn[side - 1].flags & IR_F_INEXACT);             /* test: cannot fault */
    assert_int_equal(t.insn[side - 1].replay, 0);
    assert_int_equal(t.insn[t.n - 2].ncomp, 1);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 32);
    static const uint8_t copy_restore[] = { 0x44, 0x89, 0xd8, 0x65, 0x4c, 0x8b, 0x1c, 0x25 };
    int found = 0;
    for (uint8_t *p = ctx.start; p + sizeof(copy_restore) <= ctx.p; p++)
        found += !memcmp(p, copy_restore, sizeof(copy_restore));
    assert_int_equal(found, 2);                     /* the loop's exit and the side exit */
    const hp_xl_t *x = 0;                           /* the side exit's je goes to the copy */
    for (int k = 0; k < ctx.n_xl; k++)
        if (xl[k].app_pc == (uint64_t)code + 15) x = &xl[k];
    assert_non_null(x);
    assert_int_equal(x->kind, XL_INEXACT);
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint8_t *p = ctx.start + x->cache_off;
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, 15, &in, ops)));
    assert_int_equal(in.mnemonic, ZYDIS_MNEMONIC_JZ);
    assert_memory_equal(p + in.length + ops[0].imm.value.s, copy_restore, sizeof(copy_restore));
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

static void test_refusals(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, loop, sizeof(loop), 6, 0, 0, 0);                      /* not promoted */
    assert_int_equal(opt_pass_sink(&t), 0);
    ir_free(&t);
    static const uint8_t head_reads[] = {
        0x01, 0x45, 0xf8,               /* 0: add %eax,-0x8(%rbp) (eax: the copy's) */
        0x83, 0x45, 0xf4, 0x01,         /* 3: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 7: mov -0xc(%rbp),%eax */
        0x3b, 0x45, 0xf0,               /* 10: cmp -0x10(%rbp),%eax */
        0x7c, 0xf1,                     /* 13: jl 0 */
    };
    assert_int_equal(sinks(head_reads, sizeof(head_reads), 5), 0);
    uint8_t head_faults[] = {
        0x8b, 0x16,                     /* 0: mov (%rsi),%edx (can fault before eax's write) */
        0x8b, 0x45, 0xf4,               /* 2: mov -0xc(%rbp),%eax */
        0x01, 0x45, 0xf8,               /* 5: add %eax,-0x8(%rbp) */
        0x83, 0x45, 0xf4, 0x01,         /* 8: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 12: mov -0xc(%rbp),%eax */
        0x3b, 0x45, 0xf0,               /* 15: cmp -0x10(%rbp),%eax */
        0x7c, 0xec,                     /* 18: jl 0 */
    };
    assert_int_equal(sinks(head_faults, sizeof(head_faults), 7), 0);
    head_faults[0] = 0x89;                          /* mov %esi,%edx: cannot fault */
    head_faults[1] = 0xf2;
    assert_int_equal(sinks(head_faults, sizeof(head_faults), 7), 1);
    static const uint8_t address[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x01, 0x45, 0xf8,               /* 3: add %eax,-0x8(%rbp) */
        0x83, 0x45, 0xf4, 0x01,         /* 6: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 10: mov -0xc(%rbp),%eax */
        0x83, 0x3c, 0x86, 0x05,         /* 13: cmpl $5,(%rsi,%rax,4) */
        0x7c, 0xed,                     /* 17: jl 0 */
    };
    assert_int_equal(sinks(address, sizeof(address), 6), 0);
    static const uint8_t source_changes[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x01, 0x45, 0xf8,               /* 3: add %eax,-0x8(%rbp) */
        0x8b, 0x45, 0xf4,               /* 6: mov -0xc(%rbp),%eax */
        0x83, 0x45, 0xf4, 0x01,         /* 9: addl $1,-0xc(%rbp) (r11 changes) */
        0x3b, 0x45, 0xf0,               /* 13: cmp -0x10(%rbp),%eax */
        0x7c, 0xee,                     /* 16: jl 0 */
    };
    assert_int_equal(sinks(source_changes, sizeof(source_changes), 6), 0);
}

/* Refused, each for one reason (with a control that sinks where one is possible). */
static void test_refusals_one_by_one(void **s)
{
    (void)s;
    ir_trace_t t;
    /* no exact point left in the round: the head is inexact up to eax's write, the test and
       branch after the copy, the increment's write-back is inserted, and nothing else can
       fault (dce could make the rest inexact: a signal would step until the loop ends) */
    uint8_t no_exact[] = {
        0x89, 0xf0,                     /* 0: mov %esi,%eax */
        0x83, 0xc2, 0x03,               /* 2: add $3,%edx */
        0x89, 0xfa,                     /* 5: mov %edi,%edx */
        0x83, 0x45, 0xfc, 0x01,         /* 7: addl $1,-4(%rbp) */
        0x8b, 0x45, 0xfc,               /* 11: mov -4(%rbp),%eax */
        0x39, 0xc8,                     /* 14: cmp %ecx,%eax */
        0x7c, 0xee,                     /* 16: jl 0 */
    };
    assert_int_equal(sinks(no_exact, sizeof(no_exact), 7), 0);
    no_exact[14] = 0x3b;                            /* cmp (%rcx),%eax: can fault, stays exact */
    no_exact[15] = 0x01;
    assert_int_equal(sinks(no_exact, sizeof(no_exact), 7), 1);
    /* the head reads eax before writing it */
    uint8_t head_reads[] = {
        0x01, 0xc2,                     /* 0: add %eax,%edx */
        0x8b, 0x45, 0xf4,               /* 2: mov -0xc(%rbp),%eax */
        0x83, 0x45, 0xf4, 0x01,         /* 5: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 9: mov -0xc(%rbp),%eax */
        0x3b, 0x45, 0xf0,               /* 12: cmp -0x10(%rbp),%eax */
        0x7c, 0xef,                     /* 15: jl 0 */
    };
    assert_int_equal(sinks(head_reads, sizeof(head_reads), 6), 0);
    head_reads[1] = 0xf2;                           /* add %esi,%edx */
    assert_int_equal(build_sink(&t, head_reads, sizeof(head_reads), 6), 1);
    assert_true(t.insn[1].flags & IR_F_INEXACT);    /* up to eax's write (the second) */
    assert_false(t.insn[2].flags & IR_F_INEXACT);
    ir_free(&t);
    /* eax written again after the copy (the exit must see 5, not the copy) */
    static const uint8_t rewritten[] = {
        0x8b, 0x45, 0xf4, 0x01, 0x45, 0xf8, 0x83, 0x45, 0xf4, 0x01, 0x8b, 0x45, 0xf4,
        0xb8, 0x05, 0x00, 0x00, 0x00,   /* 13: mov $5,%eax */
        0x3b, 0x45, 0xf0,               /* 18: cmp -0x10(%rbp),%eax */
        0x7c, 0xe9,                     /* 21: jl 0 */
    };
    assert_int_equal(sinks(rewritten, sizeof(rewritten), 7), 0);
    /* eax read as a hidden operand (cltd: edx = the sign of eax) */
    static const uint8_t hidden[] = {
        0x8b, 0x45, 0xf4, 0x01, 0x45, 0xf8, 0x83, 0x45, 0xf4, 0x01, 0x8b, 0x45, 0xf4,
        0x99,                           /* 13: cltd */
        0x3b, 0x55, 0xf0,               /* 14: cmp -0x10(%rbp),%edx */
        0x7c, 0xed,                     /* 17: jl 0 */
    };
    assert_int_equal(sinks(hidden, sizeof(hidden), 7), 0);
    /* read as rax after a 32-bit copy (another width) */
    static const uint8_t wider[] = {
        0x8b, 0x45, 0xf4, 0x01, 0x45, 0xf8, 0x83, 0x45, 0xf4, 0x01, 0x8b, 0x45, 0xf4,
        0x48, 0x3b, 0x45, 0xe0,         /* 13: cmp -0x20(%rbp),%rax */
        0x7c, 0xed,                     /* 17: jl 0 */
    };
    assert_int_equal(sinks(wider, sizeof(wider), 6), 0);
    /* read by an instruction with no form for another register (scas reads eax): the
       rewrite fails and the round is left as it was */
    static const uint8_t scas[] = {
        0x8b, 0x45, 0xf4, 0x01, 0x45, 0xf8, 0x83, 0x45, 0xf4, 0x01, 0x8b, 0x45, 0xf4,
        0xaf,                           /* 13: scas %es:(%rdi),%eax */
        0x7c, 0xf0,                     /* 14: jl 0 */
    };
    build(&t, scas, sizeof(scas), 6, 0, 0, 1);
    int n = t.n;
    assert_int_equal(opt_pass_sink(&t), 0);
    assert_int_equal(t.n, n);
    assert_true(is_reg(&t.insn[n - 4], 0, ZYDIS_REGISTER_EAX));    /* the copy stays */
    assert_true(is_reg(&t.insn[n - 4], 1, ZYDIS_REGISTER_R11D));
    assert_int_equal(t.insn[n - 3].replay, 0);
    assert_false(t.insn[n - 2].flags & IR_F_INEXACT);
    assert_int_equal(t.insn[n - 2].ncomp, 0);
    ir_free(&t);
}

/* A 64-bit copy replays as one (no zero extension); the short form of cmp $imm32,%eax
 * (eax implicit in its encoding) reads the counter's register in the long form. */
static void test_forms(void **s)
{
    (void)s;
    static const uint8_t wide[] = {
        0x48, 0x8b, 0x45, 0xf0,         /* 0: mov -0x10(%rbp),%rax */
        0x48, 0x01, 0x45, 0xe8,         /* 4: add %rax,-0x18(%rbp) */
        0x48, 0x83, 0x45, 0xf0, 0x01,   /* 8: addq $1,-0x10(%rbp) */
        0x48, 0x8b, 0x45, 0xf0,         /* 13: mov -0x10(%rbp),%rax */
        0x48, 0x3b, 0x45, 0xe0,         /* 17: cmp -0x20(%rbp),%rax */
        0x7c, 0xe9,                     /* 21: jl 0 */
    };
    ir_trace_t t;
    assert_int_equal(build_sink(&t, wide, sizeof(wide), 6), 1);
    ir_insn_t *cmp = &t.insn[t.n - 3];
    assert_true(is_reg(cmp, 0, ZYDIS_REGISTER_R11));
    assert_int_equal(cmp->replay, IR_REPLAY(XL_RP_COPY, AN_RAX, AN_R11));
    assert_true(is_reg(&t.insn[t.n - 2].comp[0], 0, ZYDIS_REGISTER_RAX));
    assert_true(is_reg(&t.insn[t.n - 2].comp[0], 1, ZYDIS_REGISTER_R11));
    ir_free(&t);
    static const uint8_t imm[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x03, 0x55, 0xf0,               /* 3: add -0x10(%rbp),%edx (can fault: exact) */
        0x83, 0x45, 0xf4, 0x01,         /* 6: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 10: mov -0xc(%rbp),%eax */
        0x3d, 0x00, 0x01, 0x00, 0x00,   /* 13: cmp $0x100,%eax */
        0x7c, 0xec,                     /* 18: jl 0 */
    };
    assert_int_equal(build_sink(&t, imm, sizeof(imm), 6), 1);
    cmp = &t.insn[t.n - 3];
    assert_int_equal(cmp->zi.mnemonic, ZYDIS_MNEMONIC_CMP);
    assert_true(is_reg(cmp, 0, ZYDIS_REGISTER_R11D));
    assert_int_equal(cmp->ops[1].imm.value.u, 0x100);
    assert_true(cmp->flags & IR_F_INEXACT);         /* cannot fault: inexact, no replay */
    ir_free(&t);
}

int main(void)
{
    code = unit_init(4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sinks_the_test_copy),
        cmocka_unit_test(test_emitted),
        cmocka_unit_test(test_side_exit),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_refusals_one_by_one),
        cmocka_unit_test(test_forms),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
