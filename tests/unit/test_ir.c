/* test_ir.c — the trace IR: construction from a recorded path (kinds, recorded directions,
 * the end of a trace), the container operations, re-encoding (RIP-relative operands keep
 * their absolute address), emission into the cache (map entries, exits, out-of-line
 * lookups), the pass manager's list parsing and the dce pass. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>
#include "builder.h"
#include "builder_int.h"
#include "cache.h"
#include "analysis.h"
#include "ir.h"
#include "ir_emit.h"
#include "opt.h"
#include "syscalls.h"
#include "unit_emit.h"
#include "unit_init.h"

static uint8_t *code;     /* app code: an executable mapping the IR builder reads */

static void build(ir_trace_t *t, const uint8_t *bytes, size_t n, const uint64_t *offs,
                  const uint32_t *lens, int nb, hp_status_t expect)
{
    memset(code, 0xcc, 4096);
    memcpy(code, bytes, n);
    uint64_t pcs[8];
    for (int i = 0; i < nb; i++) pcs[i] = (uint64_t)code + offs[i];
    const char *why = "";
    assert_int_equal(ir_init(t, 64), HP_OK);
    assert_int_equal(ir_build_path(t, pcs, lens, nb, &why), expect);
}

/* Path: 0: add %rbx,%rax ; jz 7 (not taken) | 5: call 12 | 12: nop ; ret (to 10) |
 * 10: jmp *%rax (the end). */
static void test_build_kinds(void **s)
{
    (void)s;
    static const uint8_t bytes[] = {
        0x48, 0x01, 0xd8,             /* 0: add %rbx,%rax */
        0x74, 0x02,                   /* 3: jz 7 */
        0xe8, 0x02, 0x00, 0x00, 0x00, /* 5: call 12 */
        0xff, 0xe0,                   /* 10: jmp *%rax */
        0x90, 0xc3,                   /* 12: nop ; ret */
    };
    const uint64_t offs[] = { 0, 5, 12, 10 };
    const uint32_t lens[] = { 2, 1, 2, 1 };
    ir_trace_t t;
    build(&t, bytes, 14, offs, lens, 4, HP_OK);
    assert_int_equal(t.head, (uint64_t)code);
    assert_int_equal(t.napp, 6);
    assert_int_equal(t.n, 6);
    assert_int_equal(t.insn[0].kind, IR_COPY);
    assert_int_equal(t.insn[0].zi.mnemonic, ZYDIS_MNEMONIC_ADD);
    assert_int_equal(t.insn[1].kind, IR_JCC);
    assert_int_equal(t.insn[1].cc, 0x4);                         /* leaves when z: to 7 */
    assert_int_equal(t.insn[1].target, (uint64_t)code + 7);
    assert_int_equal(t.insn[2].kind, IR_CALL);
    assert_int_equal(t.insn[2].target, (uint64_t)code + 10);     /* the return address */
    assert_int_equal(t.insn[3].zi.mnemonic, ZYDIS_MNEMONIC_NOP);
    assert_int_equal(t.insn[4].kind, IR_IND);                    /* the ret, checked */
    assert_int_equal(t.insn[4].target, (uint64_t)code + 10);
    assert_int_equal(t.insn[5].kind, IR_IND);                    /* last: lookup only */
    assert_int_equal(t.insn[5].target, 0);
    ir_free(&t);
}

/* A path ending in an indirect branch whose successor was seen (the recording stopped at
 * a trace there): the branch is checked against it and an exit goes there. */
static void test_build_succ(void **s)
{
    (void)s;
    static const uint8_t bytes[] = { 0x48, 0x01, 0xd8, 0xc3 };   /* add %rbx,%rax ; ret */
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 2 };
    ir_trace_t t;
    memset(code, 0xcc, 4096);
    memcpy(code, bytes, sizeof(bytes));
    uint64_t pcs[1] = { (uint64_t)code + offs[0] };
    const char *why = "";
    assert_int_equal(ir_init(&t, 16), HP_OK);
    t.succ = (uint64_t)code + 0x100;
    assert_int_equal(ir_build_path(&t, pcs, lens, 1, &why), HP_OK);
    assert_int_equal(t.n, 3);
    assert_int_equal(t.insn[1].kind, IR_IND);
    assert_int_equal(t.insn[1].target, (uint64_t)code + 0x100);
    assert_int_equal(t.insn[2].kind, IR_EXIT);
    assert_int_equal(t.insn[2].target, (uint64_t)code + 0x100);
    ir_free(&t);
    build(&t, bytes, sizeof(bytes), offs, lens, 1, HP_OK);      /* unknown: lookup only */
    assert_int_equal(t.n, 2);
    assert_int_equal(t.insn[1].target, 0);
    ir_free(&t);
}

static void test_build_taken_and_end(void **s)
{
    (void)s;
    /* 0: add ; jz 7 (taken) | 7: inc %rax ; (block ends by length) */
    static const uint8_t c[] = { 0x48, 0x01, 0xd8, 0x74, 0x02, 0x90, 0x90, 0x48, 0xff, 0xc0 };
    const uint64_t offs[] = { 0, 7 };
    const uint32_t lens[] = { 2, 1 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 2, HP_OK);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.insn[1].kind, IR_JCC);
    assert_int_equal(t.insn[1].cc, 0x5);                         /* inverted: leaves when nz */
    assert_int_equal(t.insn[1].target, (uint64_t)code + 5);
    assert_int_equal(t.insn[3].kind, IR_EXIT);                   /* falls off: exit at 10 */
    assert_int_equal(t.insn[3].target, (uint64_t)code + 10);
    ir_free(&t);
    const uint64_t bad[] = { 0, 6 };                             /* not an outcome of the jz */
    build(&t, c, sizeof(c), bad, lens, 2, HP_ERR_UNSUPPORTED);
    ir_free(&t);
}

/* A trace ending at a call: the push, then an exit whose map pc is the callee (a signal
 * there must not run the call again). */
static void test_end_at_call(void **s)
{
    (void)s;
    static const uint8_t c[] = { 0xe8, 0x10, 0x00, 0x00, 0x00 };     /* 0: call 0x15 */
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 1 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 1, HP_OK);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.insn[0].kind, IR_CALL);
    assert_int_equal(t.insn[1].kind, IR_EXIT);
    assert_int_equal(t.insn[1].target, (uint64_t)code + 0x15);
    assert_int_equal(t.insn[1].app_pc, (uint64_t)code + 0x15);
    ir_free(&t);
}

static void test_insert_remove(void **s)
{
    (void)s;
    ir_trace_t t;
    ir_insn_t a, b;
    assert_int_equal(ir_init(&t, 2), HP_OK);
    static const uint8_t nop[] = { 0x90 }, inc[] = { 0x48, 0xff, 0xc0 };
    assert_int_equal(ir_decode(&a, 0x1000, nop, 1), HP_OK);
    assert_int_equal(ir_decode(&b, 0x1001, inc, 3), HP_OK);
    assert_non_null(ir_append(&t, &b));
    assert_non_null(ir_insert(&t, 0, &a));
    assert_null(ir_append(&t, &a));                              /* full */
    assert_int_equal(t.insn[0].app_pc, 0x1000);
    assert_int_equal(t.insn[1].zi.mnemonic, ZYDIS_MNEMONIC_INC);
    ir_remove(&t, 0);
    assert_int_equal(t.n, 1);
    assert_int_equal(t.insn[0].app_pc, 0x1001);
    ir_free(&t);
}

/* ir_remove_range: a run goes at once, the rest keeps its order; a range not inside the
 * trace (or empty) changes nothing. */
static void test_remove_range(void **s)
{
    (void)s;
    ir_trace_t t;
    ir_insn_t a;
    static const uint8_t nop[] = { 0x90 };
    assert_int_equal(ir_init(&t, 8), HP_OK);
    for (int k = 0; k < 6; k++) {
        assert_int_equal(ir_decode(&a, 0x1000 + (uint64_t)k, nop, 1), HP_OK);
        assert_non_null(ir_append(&t, &a));
    }
    ir_remove_range(&t, 4, 3);                                   /* past the end: nothing */
    ir_remove_range(&t, -1, 2);
    ir_remove_range(&t, 2, 0);
    assert_int_equal(t.n, 6);
    ir_remove_range(&t, 1, 3);                                   /* 0x1001..0x1003 */
    assert_int_equal(t.n, 3);
    assert_int_equal(t.insn[0].app_pc, 0x1000);
    assert_int_equal(t.insn[1].app_pc, 0x1004);
    assert_int_equal(t.insn[2].app_pc, 0x1005);
    ir_remove_range(&t, 1, 2);                                   /* the tail */
    assert_int_equal(t.n, 1);
    assert_int_equal(t.insn[0].app_pc, 0x1000);
    for (int k = 1; k < 5; k++) {                                /* 0x1000..0x1004 */
        assert_int_equal(ir_decode(&a, 0x1000 + (uint64_t)k, nop, 1), HP_OK);
        assert_non_null(ir_append(&t, &a));
    }
    ir_close_gap(&t, 1, 3);                                      /* [3, 5) down to 1 */
    assert_int_equal(t.n, 3);
    assert_int_equal(t.insn[1].app_pc, 0x1003);
    assert_int_equal(t.insn[2].app_pc, 0x1004);
    ir_close_gap(&t, 3, 3);                                      /* no gap: nothing */
    assert_int_equal(t.n, 3);
    ir_free(&t);
}

/* Re-encoding a RIP-relative load at another length keeps its absolute address. */
static void test_set_insn_rip_relative(void **s)
{
    (void)s;
    static const uint8_t ld[] = { 0x48, 0x8b, 0x05, 0x10, 0x00, 0x00, 0x00 };  /* mov 0x10(%rip),%rax */
    ir_insn_t i;
    assert_int_equal(ir_decode(&i, 0x400000, ld, sizeof(ld)), HP_OK);
    ZydisEncoderRequest req;
    assert_true(ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&i.zi, i.ops, i.zi.operand_count_visible, &req)));
    req.operands[0].reg.value = ZYDIS_REGISTER_R9;               /* now needs REX.R */
    req.operands[1].mem.displacement = 0x400000 + 7 + 0x10;      /* absolute */
    assert_int_equal(ir_set_insn(&i, &req), HP_OK);
    assert_int_equal(i.ops[0].reg.value, ZYDIS_REGISTER_R9);
    uint64_t abs = 0;
    ZydisCalcAbsoluteAddress(&i.zi, &i.ops[1], i.app_pc, &abs);
    assert_int_equal(abs, 0x400017);
}

/* Emission: one map entry per IR instruction at its first byte, the jcc to a stub whose
 * link goes to the exit target, the final exit, and nothing else in between. */
static void test_emit(void **s)
{
    (void)s;
    static const uint8_t c[] = { 0x48, 0x01, 0xd8, 0x74, 0x02, 0x90, 0x90, 0x48, 0xff, 0xc0 };
    const uint64_t offs[] = { 0, 7 };
    const uint32_t lens[] = { 2, 1 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 2, HP_OK);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[16];
    unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 16);
    assert_int_equal(ctx.n_xl, 4);
    assert_int_equal(xl[0].app_pc, (uint64_t)code);
    assert_int_equal(xl[0].cache_off, 0);
    assert_int_equal(xl[0].kind, XL_COPY);
    assert_memory_equal(ctx.start, c, 3);                        /* add copied as is */
    assert_int_equal(xl[1].kind, XL_OTHER);
    assert_int_equal(xl[3].kind, XL_END);
    assert_int_equal(ctx.nexits, 2);
    assert_int_equal(exits[0].target, (uint64_t)code + 5);
    assert_int_equal(exits[1].target, (uint64_t)code + 10);
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint8_t *jcc = ctx.start + xl[1].cache_off;
    while (*jcc == 0x90 || (jcc[0] == 0x66 && jcc[1] == 0x90) || (jcc[0] == 0x0f && jcc[1] == 0x1f)) {
        assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&d, 0, jcc, 15, &in)));
        jcc += in.length;                                        /* alignment before a field */
    }
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&d, 0, jcc, 15, &in)));
    assert_int_equal(in.mnemonic, ZYDIS_MNEMONIC_JNZ);
    assert_ptr_equal(jcc + 2, exits[0].field);
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

static void test_opt_parse(void **s)
{
    (void)s;
    char bad[32];
    /* bits in passes.def order: inline_calls 1, inline_ind 2, retpair 4, jtable 8,
       straighten 16, rle 32, xfwd 64, constprop 128, promote 256, fuse 512, cse 1024,
       sink 2048, dce 4096, retsites 8192, flagcheck 16384;
       formation = 1 | 2 | 16 */
    assert_int_equal(opt_parse("all", bad, sizeof(bad)), 32767);
    assert_int_equal(opt_parse("none", bad, sizeof(bad)), 19);          /* formation only */
    assert_int_equal(opt_parse("", bad, sizeof(bad)), 19);
    assert_int_equal(opt_parse("dce", bad, sizeof(bad)), 19 | 4096);
    assert_int_equal(opt_parse("constprop,rle", bad, sizeof(bad)), 19 | 160);
    assert_int_equal(opt_parse("xfwd", bad, sizeof(bad)), 19 | 64);
    assert_int_equal(opt_parse("jtable", bad, sizeof(bad)), 19 | 8);
    assert_int_equal(opt_parse("all,-promote", bad, sizeof(bad)), 32767 & ~256);
    assert_int_equal(opt_parse("all,-fuse", bad, sizeof(bad)), 32767 & ~512);
    assert_int_equal(opt_parse("all,-cse", bad, sizeof(bad)), 32767 & ~1024);
    assert_int_equal(opt_parse("all,-sink", bad, sizeof(bad)), 32767 & ~2048);
    assert_int_equal(opt_parse("all,-xfwd", bad, sizeof(bad)), 32767 & ~64);
    assert_int_equal(opt_parse("all,-jtable", bad, sizeof(bad)), 32767 & ~8);
    assert_int_equal(opt_parse("all,-flagcheck", bad, sizeof(bad)), 16383);
    assert_int_equal(opt_parse("none,-inline_calls,-inline_ind,-straighten", bad, sizeof(bad)), 0);
    assert_int_equal(opt_parse("-bogus", bad, sizeof(bad)), -1);
    assert_string_equal(bad, "-bogus");
    assert_int_equal(opt_parse("dce,bogus", bad, sizeof(bad)), -1);
    assert_string_equal(bad, "bogus");
    assert_int_equal(opt_parse("dce,,dce", bad, sizeof(bad)), -1);
}

static void test_dce_removes_nops(void **s)
{
    (void)s;
    /* 0: nop ; nopw 0(%rax,%rax) ; mov %rax,%rax ; mov %eax,%eax (not a no-op) ; inc */
    static const uint8_t c[] = { 0x90, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00, 0x48, 0x89, 0xc0,
                                 0x89, 0xc0, 0x48, 0xff, 0xc0 };
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 5 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 1, HP_OK);
    assert_int_equal(t.n, 6);
    assert_int_equal(opt_pass_dce(&t), 2);                       /* the head's nop stays */
    assert_int_equal(t.n, 4);
    assert_int_equal(t.insn[0].zi.mnemonic, ZYDIS_MNEMONIC_NOP);
    assert_int_equal(t.insn[1].zi.mnemonic, ZYDIS_MNEMONIC_MOV);   /* 32-bit: zero-extends */
    assert_int_equal(t.insn[2].zi.mnemonic, ZYDIS_MNEMONIC_INC);
    ir_free(&t);
}

/* Dead computations go, unless a fault could see the stale value; the region where the
 * state differs from native is marked inexact. */
static void test_dce_dead_values(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x90,                               /* 0: nop (the head stays) */
        0xb9, 0x01, 0x00, 0x00, 0x00,       /* 1: mov $1,%ecx   (dead: overwritten at 11) */
        0x85, 0xc0,                         /* 6: test %eax,%eax (flags dead: cmp at 16) */
        0x01, 0xd8,                         /* 8: add %ebx,%eax  (flags dead; eax dead too, but
                                               the load at 23 could fault before it is rewritten) */
        0x90,                               /* 10: nop */
        0xb9, 0x02, 0x00, 0x00, 0x00,       /* 11: mov $2,%ecx */
        0x39, 0xca,                         /* 16: cmp %ecx,%edx */
        0xbe, 0x01, 0x00, 0x00, 0x00,       /* 18: mov $1,%esi   (dead, but a load follows) */
        0x8b, 0x07,                         /* 23: mov (%rdi),%eax */
        0xbe, 0x02, 0x00, 0x00, 0x00,       /* 25: mov $2,%esi */
    };
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 11 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 1, HP_OK);
    assert_int_equal(t.n, 12);                          /* 11 and the exit */
    assert_int_equal(opt_pass_dce(&t), 4);              /* nop, mov $1,%ecx, test; add->lea */
    assert_int_equal(t.n, 9);
    assert_int_equal(t.insn[1].app_pc, (uint64_t)code + 8);     /* add: its flags are dead */
    assert_int_equal(t.insn[1].zi.mnemonic, ZYDIS_MNEMONIC_LEA);
    assert_int_equal(t.insn[1].ops[0].reg.value, ZYDIS_REGISTER_EAX);
    assert_int_equal(t.insn[1].ops[1].mem.base, ZYDIS_REGISTER_RAX);
    assert_int_equal(t.insn[1].ops[1].mem.index, ZYDIS_REGISTER_RBX);
    assert_true(t.insn[1].flags & IR_F_INEXACT);       /* ecx and the flags are stale */
    assert_true(t.insn[2].flags & IR_F_INEXACT);       /* mov $2,%ecx: ecx still stale */
    assert_true(t.insn[3].flags & IR_F_INEXACT);       /* cmp: the lea left the flags stale */
    assert_int_equal(t.insn[4].app_pc, (uint64_t)code + 18);    /* mov $1,%esi stays */
    assert_false(t.insn[4].flags & IR_F_INEXACT);      /* exact again after the cmp */
    ir_free(&t);
}

/* A dead register move whose region holds loads that can fault goes anyway: each load
 * carries the move as its replay (a fault there applies it to the context), the others in
 * the region are inexact, and the map entry of a load says so. Refused: a move whose source
 * changes in the region, one whose result a load reads, one with an exit in its region,
 * an immediate move (no replay form), a region with nothing that can fault (the plain rule). */
static void test_dce_replay(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x90,                               /* 0: nop (the head stays) */
        0x48, 0x63, 0xc1,                   /* 1: movslq %ecx,%rax  (dead but for the loads) */
        0x8b, 0x16,                         /* 4: mov (%rsi),%edx   (may fault: replay) */
        0x48, 0x89, 0xd3,                   /* 6: mov %rdx,%rbx     (inexact) */
        0x48, 0x8b, 0x06,                   /* 9: mov (%rsi),%rax   (writes rax: the end, replay) */
        0x48, 0x01, 0xc3,                   /* 12: add %rax,%rbx */
    };
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 6 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 1, HP_OK);
    assert_int_equal(opt_pass_dce(&t), 1);
    assert_int_equal(t.n, 6);
    assert_int_equal(t.insn[1].app_pc, (uint64_t)code + 4);
    assert_int_equal(t.insn[1].replay, IR_REPLAY(XL_RP_SX32, 0, 1));   /* rax = sx(ecx) */
    assert_false(t.insn[1].flags);
    assert_true(t.insn[2].flags & IR_F_INEXACT);
    assert_int_equal(t.insn[2].replay, 0);
    assert_int_equal(t.insn[3].replay, IR_REPLAY(XL_RP_SX32, 0, 1));
    assert_false(t.insn[4].flags & IR_F_INEXACT);                       /* exact after the end */
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[16];
    unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 16);
    int found = 0;
    for (int k = 0; k < ctx.n_xl; k++)
        if (xl[k].app_pc == (uint64_t)code + 4) {
            assert_int_equal(XL_KIND(xl[k].kind), XL_COPY);
            assert_true(xl[k].kind & XL_F_REPLAY);
            assert_int_equal(XL_REPLAY_OP(xl[k].kind), IR_REPLAY(XL_RP_SX32, 0, 1));
            found = 1;
        }
    assert_true(found);
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
    static const uint8_t refused[][16] = {
        { 0x90, 0x48, 0x63, 0xc1, 0xff, 0xc1, 0x8b, 0x16, 0x48, 0x8b, 0x06 },   /* inc %ecx between */
        { 0x90, 0x48, 0x63, 0xc1, 0x8b, 0x10, 0x48, 0x8b, 0x06 },               /* mov (%rax),%edx */
        { 0x90, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x8b, 0x16, 0x48, 0x8b, 0x06 },   /* mov $1,%eax */
    };
    static const uint32_t nref[] = { 5, 4, 4 };          /* up to the load that ends it */
    for (int r = 0; r < 3; r++) {
        const uint32_t l[] = { nref[r] };
        build(&t, refused[r], sizeof(refused[r]), offs, l, 1, HP_OK);
        int n = t.n;
        assert_int_equal(opt_pass_dce(&t), 0);
        assert_int_equal(t.n, n);
        for (int k = 0; k < t.n; k++) assert_int_equal(t.insn[k].replay, 0);
        ir_free(&t);
    }
    static const uint8_t with_exit[] = {
        0x90,                               /* 0: nop */
        0x48, 0x63, 0xc1,                   /* 1: movslq %ecx,%rax */
        0x8b, 0x16,                         /* 4: mov (%rsi),%edx */
        0x85, 0xd2,                         /* 6: test %edx,%edx */
        0x74, 0x03,                         /* 8: je 13 (an exit: rax is the app's there) */
        0x48, 0x8b, 0x06,                   /* 10: mov (%rsi),%rax */
        0x90,                               /* 13: nop */
    };
    const uint64_t offs2[] = { 0, 10 };
    const uint32_t lens2[] = { 5, 1 };
    build(&t, with_exit, sizeof(with_exit), offs2, lens2, 2, HP_OK);
    assert_int_equal(opt_pass_dce(&t), 0);
    ir_free(&t);
}

/* straighten: a loop's last branch back to the head is inverted to fall through to a jump
 * round; inline_calls off: the trace ends at the call, after the push. */
static void test_straighten_and_cut(void **s)
{
    (void)s;
    static const uint8_t loop[] = { 0x48, 0xff, 0xc8, 0x75, 0xfb };   /* 0: dec %rax ; jnz 0 */
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 2 };
    ir_trace_t t;
    build(&t, loop, sizeof(loop), offs, lens, 1, HP_OK);
    assert_int_equal(t.insn[1].kind, IR_JCC);
    assert_int_equal(t.insn[1].target, (uint64_t)code);        /* to the head ... */
    assert_int_equal(t.insn[2].target, (uint64_t)code + 5);    /* ... else out */
    assert_int_equal(opt_pass_straighten(&t), 1);
    assert_int_equal(t.insn[1].cc, 0x4);                       /* jz: leaves at the end */
    assert_int_equal(t.insn[1].target, (uint64_t)code + 5);
    assert_int_equal(t.insn[2].kind, IR_EXIT);
    assert_int_equal(t.insn[2].target, (uint64_t)code);        /* goes round */
    ir_free(&t);
    /* 0: call 10 | 10: inc %rax ; ret -> 5: (path ends there) */
    static const uint8_t call[] = { 0xe8, 0x05, 0x00, 0x00, 0x00, 0x90, 0x90, 0x90, 0x90, 0x90,
                                    0x48, 0xff, 0xc0, 0xc3 };
    const uint64_t offs2[] = { 0, 10, 5 };
    const uint32_t lens2[] = { 1, 2, 1 };
    build(&t, call, sizeof(call), offs2, lens2, 3, HP_OK);
    assert_int_equal(opt_pass_inline_calls(&t), 1);
    assert_int_equal(opt_pass_inline_ind(&t), 1);             /* the ret */
    assert_int_equal(opt_cut_calls(&t), 1);
    assert_int_equal(t.n, 2);
    assert_int_equal(t.insn[0].kind, IR_CALL);
    assert_int_equal(t.insn[1].kind, IR_EXIT);
    assert_int_equal(t.insn[1].target, (uint64_t)code + 10);
    ir_free(&t);
}

/* Effects, liveness and def-use on a small sequence. */
static void test_analysis(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x48, 0x89, 0xd8,                   /* 0: mov %rbx,%rax */
        0x48, 0x01, 0xc8,                   /* 3: add %rcx,%rax */
        0x88, 0xc2,                         /* 6: mov %al,%dl (partial write of rdx) */
        0x48, 0x8b, 0x4d, 0xf8,             /* 8: mov -8(%rbp),%rcx */
        0x48, 0x89, 0x07,                   /* 12: mov %rax,(%rdi) */
    };
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 5 };
    ir_trace_t t;
    build(&t, c, sizeof(c), offs, lens, 1, HP_OK);
    an_effects_t e;
    an_effects(&t.insn[1], &e);
    assert_int_equal(e.use, AN_REG(AN_RAX) | AN_REG(AN_RCX));
    assert_int_equal(e.def, AN_REG(AN_RAX));
    assert_true(e.fdef & ZYDIS_CPUFLAG_ZF);
    assert_false(e.may_fault);
    an_effects(&t.insn[2], &e);
    assert_int_equal(e.def_part, AN_REG(AN_RDX));
    assert_true(e.use & AN_REG(AN_RDX));
    an_effects(&t.insn[4], &e);
    assert_true(e.mem_write && e.may_fault);
    an_effects_t again;                             /* from the instruction's cache */
    an_effects(&t.insn[4], &again);
    assert_memory_equal(&again, &e, sizeof(e));
    ZydisEncoderRequest req;                        /* re-encoded: the cache goes with it */
    ir_insn_t c4 = t.insn[4];                       /* mov %rax,(%rdi) -> mov %rax,%rdi */
    assert_true(ir_request(&c4, &req));
    req.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[0].reg.value = ZYDIS_REGISTER_RDI;
    assert_int_equal(ir_set_insn(&c4, &req), HP_OK);
    an_effects(&c4, &again);
    assert_false(again.mem_write || again.may_fault);
    assert_int_equal(again.def, AN_REG(AN_RDI));
    ir_insn_t k2 = t.insn[1];                       /* another kind: computed again */
    an_effects(&k2, &e);
    k2.kind = IR_EXIT;
    an_effects(&k2, &again);
    assert_int_equal(again.use, 0);
    assert_true(again.exits);
    ir_insn_t x;                                    /* faults with no memory operand */
    static const uint8_t faulting[][3] = { { 0xfa }, { 0xfb }, { 0x0f, 0xb9, 0xc0 }, { 0x0f, 0xff, 0xc0 } };
    static const uint8_t flen[] = { 1, 1, 3, 3 };   /* cli, sti, ud1 %eax,%eax, ud0 */
    for (int k = 0; k < 4; k++) {
        assert_int_equal(ir_decode(&x, (uint64_t)code, faulting[k], flen[k]), HP_OK);
        an_effects(&x, &e);
        assert_true(e.may_fault && e.barrier);
    }
    an_mem_t m;
    an_mem(&t.insn[3], &m);
    assert_int_equal(m.cls, AN_MEM_STACK);
    assert_int_equal(m.base, AN_RBP);
    assert_int_equal(m.disp, -8);
    assert_int_equal(m.size, 8);
    an_mem(&t.insn[4], &m);
    assert_int_equal(m.cls, AN_MEM_UNKNOWN);
    an_regs_t live[8];
    an_flags_t flive[8];
    an_liveness(&t, live, flive);
    assert_true(live[0] & AN_REG(AN_RAX));                     /* rax read by the add */
    assert_false(live[2] & AN_REG(AN_RCX));                     /* rcx overwritten at 8 */
    assert_true(flive[4] & ZYDIS_CPUFLAG_ZF);                  /* exit at the end: live */
    assert_int_equal(an_reaching_def(&t, 4, AN_RAX), 1);
    assert_int_equal(an_reaching_def(&t, 4, AN_RCX), 3);
    assert_int_equal(an_reaching_def(&t, 2, AN_RDI), -1);
    ir_free(&t);
}

int main(void)
{
    code = unit_init(4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_kinds),
        cmocka_unit_test(test_build_taken_and_end),
        cmocka_unit_test(test_build_succ),
        cmocka_unit_test(test_end_at_call),
        cmocka_unit_test(test_insert_remove),
        cmocka_unit_test(test_remove_range),
        cmocka_unit_test(test_set_insn_rip_relative),
        cmocka_unit_test(test_emit),
        cmocka_unit_test(test_opt_parse),
        cmocka_unit_test(test_dce_removes_nops),
        cmocka_unit_test(test_dce_dead_values),
        cmocka_unit_test(test_dce_replay),
        cmocka_unit_test(test_straighten_and_cut),
        cmocka_unit_test(test_analysis),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
