/* test_pass_promote.c — loop register promotion: on a -O0 style loop the [rbp+disp] slots
 * go to registers the trace does not use (loads become moves, stores also set the
 * register, read-modify-writes compute in the register and store), a loop that writes rbp
 * or is not a loop is left alone, and the emitted loop has its preheader, jumps back past
 * it and restores the registers on exits; framed loops across -O0 calls, retpair, xmm
 * slots, the cost of reloads. Stores through pointers and their checks:
 * test_pass_promote_checks.c. */
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
#include "ir.h"
#include "ir_emit.h"
#include "opt.h"
#include "syscalls.h"
#include "unit_emit.h"
#include "unit_init.h"

#include "unit_promote.h"

/* 0: mov -0xc(%rbp),%eax ; add %eax,-0x8(%rbp) ; addl $1,-0xc(%rbp) ;
 *    mov -0xc(%rbp),%eax ; cmp -0x10(%rbp),%eax ; jl 0                  */
static const uint8_t loop[] = {
    0x8b, 0x45, 0xf4,                   /* 0: mov -0xc(%rbp),%eax */
    0x01, 0x45, 0xf8,                   /* 3: add %eax,-0x8(%rbp) */
    0x83, 0x45, 0xf4, 0x01,             /* 6: addl $1,-0xc(%rbp) */
    0x8b, 0x45, 0xf4,                   /* 10: mov -0xc(%rbp),%eax */
    0x3b, 0x45, 0xf0,                   /* 13: cmp -0x10(%rbp),%eax */
    0x7c, 0xee,                         /* 16: jl 0 */
};

static void test_promotes_loop_slots(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, loop, sizeof(loop), 6);
    assert_int_equal(t.insn[t.n - 1].kind, IR_EXIT);             /* a loop: back to the head */
    assert_int_equal(t.insn[t.n - 1].target, (uint64_t)code);
    assert_int_equal(t.insn[t.n - 2].kind, IR_JCC);              /* leaves when not less */
    assert_int_equal(t.insn[t.n - 2].cc, 0xd);
    int changed = opt_pass_promote(&t);
    assert_int_equal(t.npromo, 2);                  /* -0xc: 4 uses; -0x8: an accumulator */
    assert_int_equal(t.promo[0].disp, -0xc);        /* (its read-modify-write counts 2); */
    assert_int_equal(t.promo[0].size, 4);           /* -0x10 is only read */
    assert_int_equal(t.promo[0].reg, 11);                        /* r11: unused by the loop */
    assert_int_equal(t.promo[1].disp, -0x8);
    assert_int_equal(t.promo[1].reg, 10);
    assert_int_equal(changed, 4);
    /* mov %r11d,%eax ; add %eax,%r10d ; mov %r10d,-8(%rbp) (new) ; add $1,%r11d ;
       mov %r11d,-0xc(%rbp) (new) ; mov %r11d,%eax ; cmp -0x10(%rbp),%eax ; jge-exit ;
       exit->head */
    assert_int_equal(t.n, 9);
    assert_true(is_reg(&t.insn[0], 1, ZYDIS_REGISTER_R11D));
    assert_true(is_reg(&t.insn[1], 0, ZYDIS_REGISTER_R10D));     /* the accumulator */
    assert_true(t.insn[2].flags & IR_F_NEW);
    assert_int_equal(t.insn[2].ops[0].mem.disp.value, -0x8);
    assert_int_equal(t.insn[3].zi.mnemonic, ZYDIS_MNEMONIC_ADD);
    assert_true(is_reg(&t.insn[3], 0, ZYDIS_REGISTER_R11D));
    assert_true(t.insn[4].flags & IR_F_NEW);                     /* the write-through store */
    assert_int_equal(t.insn[4].ops[0].type, ZYDIS_OPERAND_TYPE_MEMORY);
    assert_int_equal(t.insn[4].ops[0].mem.disp.value, -0xc);
    assert_true(is_reg(&t.insn[4], 1, ZYDIS_REGISTER_R11D));
    assert_true(is_reg(&t.insn[5], 1, ZYDIS_REGISTER_R11D));
    assert_int_equal(t.insn[6].ops[1].type, ZYDIS_OPERAND_TYPE_MEMORY);   /* not promoted */
    ir_free(&t);
}

/* A push reading an rbp slot still writes below rsp (found by the differential tester: a
 * loop pushing without popping reaches the slot): the registers are read again after it. */
static void test_push_reloads(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xff, 0x75, 0x10,               /* 0: push 0x10(%rbp) */
        0x83, 0x45, 0xf4, 0x01,         /* 3: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 7: mov -0xc(%rbp),%eax */
        0x7c, 0xf4,                     /* 10: jl 0 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 4);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.insn[0].zi.mnemonic, ZYDIS_MNEMONIC_PUSH);
    assert_true(t.insn[1].flags & IR_F_NEW);                            /* the reload */
    assert_true(is_reg(&t.insn[1], 0, ZYDIS_REGISTER_R11D));
    assert_int_equal(t.insn[1].ops[1].mem.disp.value, -0xc);
    ir_free(&t);
}

/* a loop that only reads its slots: mov -0xc(%rbp),%eax (twice) ; cmp -0x10(%rbp),%eax ; jl 0 */
static const uint8_t spin[] = { 0x8b, 0x45, 0xf4, 0x8b, 0x45, 0xf4, 0x3b, 0x45, 0xf0, 0x7c, 0xf5 };

static void test_refusals(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, spin, sizeof(spin), 4);                /* (another thread may write them) */
    assert_int_equal(opt_pass_promote(&t), 0);
    ir_free(&t);
    build(&t, loop, sizeof(loop), 6);
    t.no_promote = 1;                                /* other threads: no promotion */
    assert_int_equal(opt_pass_promote(&t), 0);
    ir_free(&t);
    static const uint8_t writes_rbp[] = {
        0x8b, 0x45, 0xf4, 0x8b, 0x45, 0xf4, 0x48, 0x89, 0xe5,   /* ...; mov %rsp,%rbp */
        0x3b, 0x45, 0xf0, 0x7c, 0xf2 };
    build(&t, writes_rbp, sizeof(writes_rbp), 5);
    assert_int_equal(opt_pass_promote(&t), 0);
    assert_int_equal(t.npromo, 0);
    ir_free(&t);
    build(&t, loop, sizeof(loop) - 2, 5);                        /* no branch back: no loop */
    assert_int_equal(opt_pass_promote(&t), 0);
    ir_free(&t);
    static const uint8_t mixed[] = {                             /* -0xc read as 4 and 8 bytes */
        0x8b, 0x45, 0xf4, 0x48, 0x8b, 0x45, 0xf4, 0x8b, 0x45, 0xf4, 0x7c, 0xf4 };
    build(&t, mixed, sizeof(mixed), 4);
    assert_int_equal(opt_pass_promote(&t), 0);
    ir_free(&t);
}

/* A slot the loop only reads (-0x10 in `loop`, the spin loop's) stays in memory even where
 * it is surely this thread's stack (frame_k known and a frame's size): the kernel (an
 * io_uring read into a local) or another process (process_vm_writev) may write it while
 * the loop waits for it (a review's reproducers; tests/programs/promote_readonly.c). */
static void test_read_only_slots_stay(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, loop, sizeof(loop), 6);
    t.frame_k_ok = 1;
    t.frame_k = 0x20;
    opt_pass_promote(&t);
    assert_int_equal(t.npromo, 2);
    for (int k = 0; k < t.npromo; k++) assert_int_not_equal(t.promo[k].disp, -0x10);
    ir_free(&t);
    build(&t, spin, sizeof(spin), 4);
    t.frame_k_ok = 1;
    t.frame_k = 0x20;
    assert_int_equal(opt_pass_promote(&t), 0);
    ir_free(&t);
}

/* Every store through a pointer reloads every slot (here the loop uses rcx: no address
 * checks): with six slots the reloads do not fit the trace's IR (64 here; trace_build
 * sizes it from the path), so promotion tries again with fewer slots instead of none (a
 * review found eight slots giving none where four had fitted). */
static void test_fewer_slots_when_full(void **s)
{
    (void)s;
    uint8_t c[128];
    size_t n = 0;
    static const uint8_t head[] = { 0x48, 0x8b, 0x4d, 0xb0 };      /* mov -0x50(%rbp),%rcx */
    memcpy(c + n, head, sizeof(head));
    n += sizeof(head);
    for (int k = 1; k <= 6; k++) {                                  /* addq $1,-8k(%rbp) */
        const uint8_t add[] = { 0x48, 0x83, 0x45, (uint8_t)(-8 * k), 0x01 };
        memcpy(c + n, add, sizeof(add));
        n += sizeof(add);
    }
    for (int k = 0; k < 10; k++) {                                  /* mov %rax,(%rcx) */
        const uint8_t st[] = { 0x48, 0x89, 0x01 };
        memcpy(c + n, st, sizeof(st));
        n += sizeof(st);
    }
    static const uint8_t tail[] = {
        0x48, 0x8b, 0x45, 0xf8,         /* mov -0x8(%rbp),%rax */
        0x48, 0x3b, 0x45, 0xa8,         /* cmp -0x58(%rbp),%rax */
        0x7c, 0x00,                     /* jl 0 (patched) */
    };
    memcpy(c + n, tail, sizeof(tail));
    n += sizeof(tail);
    c[n - 1] = (uint8_t)(-(int)n);
    ir_trace_t t;
    build(&t, c, n, 1 + 6 + 10 + 3);
    assert_true(opt_pass_promote(&t) > 0);
    assert_true(t.npromo >= 1 && t.npromo < 6);
    ir_free(&t);
}

/* Peeled (ir_emit_peeled, trace_build's default): the loop's first round comes first,
 * unpromoted (no save, no slot load before the app's first instruction, slots read from
 * memory), and its branch back goes to the promoted copy's preheader, which saves r11. */
static void test_emit_peeled(void **s)
{
    (void)s;
    ir_trace_t t, f;
    build(&t, loop, sizeof(loop), 6);
    assert_true(opt_pass_promote(&t) > 0);
    build(&f, loop, sizeof(loop), 6);
    f.unpromoted = 1;
    assert_int_equal(opt_pass_promote(&f), 0);                   /* not promoted itself */
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    memset(&ctx, 0, sizeof(ctx));
    ctx.exits = exits;
    ctx.cap_exits = 8;
    ctx.xl = xl;
    ctx.cap_xl = 32;
    ctx.start = ctx.p = cache_reserve((uint64_t)code, 4096);
    assert_non_null(ctx.start);
    ctx.end = ctx.start + 4096;
    const char *why;
    assert_int_equal(ir_emit_peeled(&ctx, &t, &t, &why), HP_ERR_UNSUPPORTED);   /* promoted */
    ctx.p = ctx.start;
    ctx.n_xl = ctx.nexits = 0;
    assert_int_equal(ir_emit_peeled(&ctx, &f, &t, &why), HP_OK);
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, ctx.start, 15, &in, ops)));
    assert_int_equal(in.mnemonic, ZYDIS_MNEMONIC_MOV);                       /* the app's */
    assert_int_equal(ops[1].mem.segment, ZYDIS_REGISTER_SS);
    assert_int_equal(ops[1].mem.disp.value, -0xc);
    assert_int_equal(xl[0].kind, XL_COPY);
    assert_true(ctx.promo_lo > 0);
    uint8_t *p = ctx.start;
    while (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, 15, &in, ops)) && in.mnemonic != ZYDIS_MNEMONIC_JL)
        p += in.length;
    assert_int_equal(in.mnemonic, ZYDIS_MNEMONIC_JL);              /* the first round's */
    assert_true(p < ctx.start + ctx.promo_lo);
    uint8_t *pre = p + in.length + ops[0].imm.value.s;
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, pre, 15, &in, ops)));
    assert_int_equal(ops[0].mem.segment, ZYDIS_REGISTER_GS);                 /* save r11 */
    assert_int_equal(ops[0].mem.disp.value, T_PROMO);
    assert_int_equal(ops[1].reg.value, ZYDIS_REGISTER_R11);
    int prehead = 0;
    for (int k = 0; k < ctx.n_xl; k++) prehead += xl[k].kind == XL_PREHEAD;
    assert_int_equal(prehead, 1);
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&f);
    ir_free(&t);
}

/* A loop that goes round from the middle of its trace (NET recorded its last round and the
 * path went on): only what the rounds run counts. The flag it spins on is written after the
 * loop only, so it stays in memory (another process may set it while the loop waits); the
 * counter the loop increments is promoted.
 *   0: addl $1,-0x8(%rbp) ; cmpl $0,-0x4(%rbp) ; je 0          (the rounds)
 *  10: movl $2,-0x4(%rbp) ; addl $3,-0x4(%rbp)                   (after the loop) */
static void test_only_rounds_count(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x83, 0x45, 0xf8, 0x01,             /* 0: addl $1,-0x8(%rbp) */
        0x83, 0x7d, 0xfc, 0x00,             /* 4: cmpl $0,-0x4(%rbp) */
        0x74, 0xf6,                         /* 8: je 0 */
        0xc7, 0x45, 0xfc, 0x02, 0, 0, 0,    /* 10: movl $2,-0x4(%rbp) */
        0x83, 0x45, 0xfc, 0x03,             /* 17: addl $3,-0x4(%rbp) */
    };
    const uint64_t offs[2] = { 0, 10 };
    const uint32_t lens[2] = { 3, 2 };
    ir_trace_t t;
    build_with_callee(&t, c, sizeof(c), 0, 0, offs, lens, 2, -1);
    assert_int_equal(t.insn[2].kind, IR_JCC);                   /* goes round when taken */
    assert_int_equal(t.insn[2].target, (uint64_t)code);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.npromo, 1);
    assert_int_equal(t.promo[0].disp, -0x8);
    ir_free(&t);
}

/* The emitted loop: saves r11 in the thread, loads the slot, body, jumps back to the body
 * (not the preheader); the side exit restores r11 out of line. */
static void test_emit_promoted(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, loop, sizeof(loop), 6);
    assert_true(opt_pass_promote(&t) > 0);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    emit_trace(&t, &ctx, exits, xl);
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, ctx.start, 15, &in, ops)));
    assert_int_equal(ops[0].mem.segment, ZYDIS_REGISTER_GS);                 /* save r11 */
    assert_int_equal(ops[0].mem.disp.value, T_PROMO);
    assert_int_equal(ops[1].reg.value, ZYDIS_REGISTER_R11);
    uint8_t *load = ctx.start + ctx.promo_lo;
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, load, 15, &in, ops)));
    assert_int_equal(ops[0].reg.value, ZYDIS_REGISTER_R11D);                 /* load slot */
    assert_int_equal(ops[1].mem.disp.value, -0xc);
    uint8_t *body = load + in.length;
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, body, 15, &in, ops)));
    assert_int_equal(ops[0].reg.value, ZYDIS_REGISTER_R10D);                 /* and -0x8 */
    body += in.length;
    while (ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, body, 15, &in, ops)) && in.mnemonic == ZYDIS_MNEMONIC_NOP)
        body += in.length;                        /* (nops: a short loop in one cache line) */
    assert_int_equal(xl[1].cache_off, (uint32_t)(body - ctx.start));         /* head map */
    assert_int_equal(xl[0].kind, XL_PREHEAD);
    /* the loop's own branch goes back to the body while it loops (jl, taken) */
    uint8_t *p = ctx.start + xl[ctx.n_xl - 2].cache_off;
    while (*p == 0x90 || (p[0] == 0x66 && p[1] == 0x90) || (p[0] == 0x0f && p[1] == 0x1f)) {
        assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, 15, &in, ops)));
        p += in.length;                                  /* alignment before a field */
    }
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, 15, &in, ops)));
    assert_int_equal(in.mnemonic, ZYDIS_MNEMONIC_JL);
    assert_ptr_equal(p + in.length + ops[0].imm.value.s, body);
    assert_int_equal((uint64_t)body >> 6, (uint64_t)(p + in.length - 1) >> 6);   /* one line */
    /* then the way out: r11 restored, an exit to after the loop (map: its state there) */
    assert_int_equal(xl[ctx.n_xl - 1].kind, XL_END);
    assert_int_equal(xl[ctx.n_xl - 1].app_pc, (uint64_t)code + sizeof(loop));
    uint8_t *out = ctx.start + xl[ctx.n_xl - 1].cache_off;
    assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, out, 15, &in, ops)));
    assert_int_equal(ops[1].mem.segment, ZYDIS_REGISTER_GS);                 /* restore */
    assert_int_equal(ops[0].reg.value, ZYDIS_REGISTER_R11);
    assert_int_equal(ctx.nexits, 1);
    assert_int_equal(exits[0].target, (uint64_t)code + sizeof(loop));
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

/* An -O0 loop calling an -O0 function (path: the call's block, the callee, the rest):
 *   0: mov -0xc(%rbp),%eax ; mov %eax,%edi ; call F
 *      add %eax,-0x8(%rbp) ; addl $1,-0xc(%rbp) ; cmpl $100,-0xc(%rbp) ; jl 0
 *   F: push %rbp ; mov %rsp,%rbp ; mov %edi,-0x4(%rbp) ; mov -0x4(%rbp),%eax ;
 *      add -0x4(%rbp),%eax ; pop %rbp ; ret                                        */
static const uint8_t caller[] = {
    0x8b, 0x45, 0xf4,                   /* 0: mov -0xc(%rbp),%eax */
    0x89, 0xc7,                         /* 3: mov %eax,%edi */
    0xe8, 0x36, 0x00, 0x00, 0x00,       /* 5: call 0x40 */
    0x01, 0x45, 0xf8,                   /* 10: add %eax,-0x8(%rbp) */
    0x83, 0x45, 0xf4, 0x01,             /* 13: addl $1,-0xc(%rbp) */
    0x83, 0x7d, 0xf4, 0x64,             /* 17: cmpl $100,-0xc(%rbp) */
    0x7c, 0xe9,                         /* 21: jl 0 */
};
static const uint8_t callee[] = {
    0x55, 0x48, 0x89, 0xe5,             /* 0x40: push %rbp ; mov %rsp,%rbp */
    0x89, 0x7d, 0xfc,                   /* mov %edi,-0x4(%rbp) */
    0x8b, 0x45, 0xfc,                   /* mov -0x4(%rbp),%eax */
    0x03, 0x45, 0xfc,                   /* add -0x4(%rbp),%eax */
    0x5d, 0xc3,                         /* pop %rbp ; ret */
};

static void build_call_loop(ir_trace_t *t, int64_t frame_k, int frame_k_ok)
{
    memset(code, 0xcc, 4096);
    memcpy(code, caller, sizeof(caller));
    memcpy(code + 0x40, callee, sizeof(callee));
    uint64_t pcs[3] = { (uint64_t)code, (uint64_t)code + 0x40, (uint64_t)code + 10 };
    uint32_t lens[3] = { 3, 7, 4 };
    const char *why = "";
    assert_int_equal(ir_init(t, 64), HP_OK);
    t->frame_k = frame_k;
    t->frame_k_ok = frame_k_ok;
    t->succ = 0;
    assert_int_equal(ir_build_path(t, pcs, lens, 3, &why), HP_OK);
    opt_pass_straighten(t);
}

static int find_promo(const ir_trace_t *t, int base, int64_t disp)
{
    for (int i = 0; i < t->npromo; i++)
        if (t->promo[i].base == base && t->promo[i].disp == disp) return i;
    return -1;
}

/* Framed: the caller's slot and the callee's are offsets from rsp at the head (the
 * callee's -0x4(%rbp) is S0 - 8 (return address) - 8 (rbp) - 4); the loop mixes offsets
 * from rbp and rsp, so the preheader checks rbp - rsp == frame_k. The push of the return
 * address and of rbp write known cells: no reloads. */
static void test_framed_call_loop(void **s)
{
    (void)s;
    ir_trace_t t;
    build_call_loop(&t, 0x30, 1);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.promo_guard, 1);
    assert_true(find_promo(&t, 4, 0x30 - 0xc) >= 0);            /* -0xc(%rbp) via rsp */
    assert_true(find_promo(&t, 4, -20) >= 0);                   /* the callee's slot */
    for (int k = 0; k < t.n; k++)                               /* no reload after a push */
        if (t.insn[k].kind == IR_CALL || t.insn[k].zi.mnemonic == ZYDIS_MNEMONIC_PUSH)
            assert_false(k + 1 < t.n && (t.insn[k + 1].flags & IR_F_NEW) &&
                         t.insn[k + 1].ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY);
    ir_free(&t);
    build_call_loop(&t, 0x30, 0);                               /* frame not known: */
    opt_pass_promote(&t);                                       /* no framed promotion */
    assert_int_equal(t.promo_guard, 0);
    assert_int_equal(find_promo(&t, 4, -20), -1);
    ir_free(&t);
}

/* retpair: the callee's ret returns where the inlined call pushed: its check goes. */
static void test_retpair(void **s)
{
    (void)s;
    ir_trace_t t;
    build_call_loop(&t, 0x30, 1);
    int k = 0;
    while (k < t.n && !(t.insn[k].kind == IR_IND && t.insn[k].zi.mnemonic == ZYDIS_MNEMONIC_RET)) k++;
    assert_true(k < t.n);
    assert_int_equal(t.insn[k].target, (uint64_t)code + 10);
    assert_int_equal(opt_pass_retpair(&t), 1);
    assert_int_equal(t.insn[k].kind, IR_COPY);                  /* lea 8(%rsp),%rsp */
    assert_int_equal(t.insn[k].zi.mnemonic, ZYDIS_MNEMONIC_LEA);
    assert_int_equal(t.insn[k].ops[1].mem.disp.value, 8);
    assert_int_equal(t.insn[k].app_pc, (uint64_t)code + 0x40 + 14);
    ir_free(&t);
    /* a store through a pointer in the callee may overwrite the return address: kept */
    static const uint8_t wild[] = { 0x55, 0x48, 0x89, 0xe5, 0x89, 0x3e,   /* mov %edi,(%rsi) */
                                    0x8b, 0x45, 0xfc, 0x03, 0x45, 0xfc, 0x5d, 0xc3 };
    memset(code, 0xcc, 4096);
    memcpy(code, caller, sizeof(caller));
    memcpy(code + 0x40, wild, sizeof(wild));
    uint64_t pcs[3] = { (uint64_t)code, (uint64_t)code + 0x40, (uint64_t)code + 10 };
    uint32_t lens[3] = { 3, 7, 4 };
    const char *why = "";
    assert_int_equal(ir_init(&t, 64), HP_OK);
    t.frame_k_ok = 1;
    assert_int_equal(ir_build_path(&t, pcs, lens, 3, &why), HP_OK);
    assert_int_equal(opt_pass_retpair(&t), 0);
    ir_free(&t);
    build_call_loop(&t, 0x30, 1);
    t.threads = 1;                                              /* other threads */
    assert_int_equal(opt_pass_retpair(&t), 0);
    ir_free(&t);
    build_call_loop(&t, 0x30, 1);                 /* not promoting (a preheader fault, a */
    t.no_promote = 1;                             /* loop its trip counts leave unpromoted) */
    t.unpromoted = 1;                             /* is no reason to keep the check */
    assert_int_equal(opt_pass_retpair(&t), 1);
    ir_free(&t);
}

/* Review findings: (1) a write through the head's rbp between a call and its ret could hit
 * the return address if rbp - rsp is not what was recorded (nothing checks frame_k for
 * retpair): such a write forgets the trace's remembered return addresses; (2) `bts %reg,m`
 * writes anywhere near m: an unknown address, so the promoted registers are read again. */
static void test_review_frame_origins(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xe8, 0x3b, 0x00, 0x00, 0x00,       /* 0: call 0x40 */
        0x48, 0xff, 0xc3,                   /* 5: inc %rbx */
        0x7c, 0xf6,                         /* 8: jl 0 */
    };
    static const uint8_t f[] = {
        0x48, 0x89, 0x45, 0xf8,             /* 0x40: mov %rax,-0x8(%rbp) */
        0xc3,                               /* ret */
    };
    const uint64_t offs[3] = { 0, 0x40, 5 };
    const uint32_t lens[3] = { 1, 2, 2 };
    ir_trace_t t;
    build_with_callee(&t, c, sizeof(c), f, sizeof(f), offs, lens, 3, 16);
    assert_int_equal(opt_pass_retpair(&t), 0);                  /* the check stays */
    ir_free(&t);
    static const uint8_t bts[] = {
        0x48, 0x0f, 0xab, 0x45, 0xf0,       /* 0: bts %rax,-0x10(%rbp) */
        0x48, 0x83, 0x45, 0xf8, 0x01,       /* 5: addq $1,-0x8(%rbp) */
        0x48, 0x8b, 0x4d, 0xf8,             /* 10: mov -0x8(%rbp),%rcx */
        0x7c, 0xf0,                         /* 14: jl 0 */
    };
    build(&t, bts, sizeof(bts), 4);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.insn[0].zi.mnemonic, ZYDIS_MNEMONIC_BTS);
    assert_true(t.insn[1].flags & IR_F_NEW);                    /* reload after the bts */
    assert_int_equal(t.insn[1].ops[1].type, ZYDIS_OPERAND_TYPE_MEMORY);
    assert_int_equal(t.insn[1].ops[1].mem.disp.value, -0x8);
    ir_free(&t);
}

/* A double slot read-modified-written through SSE: kept in xmm15 (the loop names only
 * xmm0/xmm1); the load becomes movq (zeroes the upper half as movsd from memory does), the
 * store stays and also sets xmm15, and the emitted preheader saves xmm15 with movdqu. */
static void test_xmm_slot(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xf2, 0x0f, 0x10, 0x4d, 0xf0,   /* 0: movsd -0x10(%rbp),%xmm1 */
        0xf2, 0x0f, 0x58, 0xc8,         /* 5: addsd %xmm0,%xmm1 */
        0xf2, 0x0f, 0x11, 0x4d, 0xf0,   /* 9: movsd %xmm1,-0x10(%rbp) */
        0xf2, 0x0f, 0x58, 0x45, 0xf0,   /* 14: addsd -0x10(%rbp),%xmm0 */
        0x83, 0x45, 0xfc, 0x01,         /* 19: addl $1,-0x4(%rbp) */
        0x83, 0x7d, 0xfc, 0x0a,         /* 23: cmpl $10,-0x4(%rbp) */
        0x7c, 0xe3,                     /* 27: jl 0 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 7);
    assert_true(opt_pass_promote(&t) > 0);
    int x = -1;
    for (int i = 0; i < t.npromo; i++) if (t.promo[i].xmm) x = i;
    assert_true(x >= 0);
    assert_int_equal(t.promo[x].reg, 15);
    assert_int_equal(t.promo[x].disp, -0x10);
    assert_int_equal(t.insn[0].zi.mnemonic, ZYDIS_MNEMONIC_MOVQ);           /* the load */
    assert_true(is_reg(&t.insn[0], 0, ZYDIS_REGISTER_XMM1));
    assert_true(is_reg(&t.insn[0], 1, ZYDIS_REGISTER_XMM15));
    assert_int_equal(t.insn[2].zi.mnemonic, ZYDIS_MNEMONIC_MOVSD);          /* the store */
    assert_true(t.insn[3].flags & IR_F_NEW);                                /* + movq */
    assert_true(is_reg(&t.insn[3], 0, ZYDIS_REGISTER_XMM15));
    assert_true(is_reg(&t.insn[4], 1, ZYDIS_REGISTER_XMM15));               /* addsd src */
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    emit_trace(&t, &ctx, exits, xl);
    ZydisDecoder d;
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    int saw_save = 0;
    for (uint8_t *p = ctx.start; p < ctx.start + ctx.promo_lo; p += in.length) {
        assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, p, 15, &in, ops)));
        if (in.mnemonic == ZYDIS_MNEMONIC_MOVDQU && ops[0].mem.segment == ZYDIS_REGISTER_GS &&
            ops[0].mem.disp.value == T_PROMO_X + 16 * x && ops[1].reg.value == ZYDIS_REGISTER_XMM15)
            saw_save = 1;
    }
    assert_true(saw_save);
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
    /* the same slot also read as an integer: not promoted to xmm */
    static const uint8_t mixed[] = {
        0xf2, 0x0f, 0x10, 0x4d, 0xf0,   /* movsd -0x10(%rbp),%xmm1 */
        0xf2, 0x0f, 0x11, 0x4d, 0xf0,   /* movsd %xmm1,-0x10(%rbp) */
        0x48, 0x8b, 0x45, 0xf0,         /* mov -0x10(%rbp),%rax */
        0x7c, 0xf0,                     /* jl 0 */
    };
    build(&t, mixed, sizeof(mixed), 4);
    opt_pass_promote(&t);
    for (int i = 0; i < t.npromo; i++) assert_false(t.promo[i].disp == -0x10);
    ir_free(&t);
}

/* The cost (pr_costly): each store through rcx (no check: the loop uses rcx; one slot: no
 * flags check either) is followed by a read of -0xc, so its reload stays. Four stores:
 * seven uses against four reloads, not worth it (twice the reloads exceed the uses); three:
 * six against three, promoted. */
static void test_cost_of_reloads(void **s)
{
    (void)s;
    static const uint8_t four[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x89, 0x01,                     /* 3: mov %eax,(%rcx) */
        0x8b, 0x55, 0xf4,               /* 5: mov -0xc(%rbp),%edx */
        0x89, 0x51, 0x04,               /* 8: mov %edx,0x4(%rcx) */
        0x8b, 0x55, 0xf4,               /* 11: mov -0xc(%rbp),%edx */
        0x89, 0x51, 0x08,               /* 14: mov %edx,0x8(%rcx) */
        0x8b, 0x55, 0xf4,               /* 17: mov -0xc(%rbp),%edx */
        0x89, 0x51, 0x0c,               /* 20: mov %edx,0xc(%rcx) */
        0x83, 0x45, 0xf4, 0x01,         /* 23: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 27: mov -0xc(%rbp),%eax */
        0x3b, 0x45, 0xf0,               /* 30: cmp -0x10(%rbp),%eax */
        0x7c, 0xdd,                     /* 33: jl 0 */
    };
    static const uint8_t three[] = {
        0x8b, 0x45, 0xf4, 0x89, 0x01, 0x8b, 0x55, 0xf4, 0x89, 0x51, 0x04, 0x8b, 0x55, 0xf4,
        0x89, 0x51, 0x08,
        0x83, 0x45, 0xf4, 0x01,         /* 17: addl $1,-0xc(%rbp) */
        0x8b, 0x45, 0xf4,               /* 21: mov -0xc(%rbp),%eax */
        0x3b, 0x45, 0xf0,               /* 24: cmp -0x10(%rbp),%eax */
        0x7c, 0xe3,                     /* 27: jl 0 */
    };
    ir_trace_t t;
    build(&t, four, sizeof(four), 12);
    int n0 = t.n;
    assert_int_equal(opt_pass_promote(&t), 0);
    assert_int_equal(t.npromo, 0);
    assert_int_equal(t.n, n0);                          /* the loop as it came */
    for (int k = 0; k < t.n; k++) assert_false(t.insn[k].flags & (IR_F_NEW | IR_F_ALIAS | IR_F_ALIAS_FL));
    ir_free(&t);
    build(&t, three, sizeof(three), 10);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.npromo, 1);
    assert_int_equal(t.promo[0].disp, -0xc);
    int reloads = 0;
    for (int k = 0; k < t.n; k++)
        reloads += (t.insn[k].flags & IR_F_NEW) && t.insn[k].ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
    assert_int_equal(reloads, 3);
    ir_free(&t);
}

/* The retry: -0xc (5 uses) keeps three reloads after the stores through rcx, -0x8 (4 uses,
 * written before each read) one: the loop is promoted again with -0x8 alone, in the
 * register -0xc had first, one reload left and no mark of the first try. */
static void test_cost_retry(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x8b, 0x45, 0xf4,                         /* 0: mov -0xc(%rbp),%eax */
        0x89, 0x01,                               /* 3: mov %eax,(%rcx) */
        0xc7, 0x45, 0xf8, 0x05, 0, 0, 0,          /* 5: movl $5,-0x8(%rbp) */
        0x8b, 0x55, 0xf8,                         /* 12: mov -0x8(%rbp),%edx */
        0x8b, 0x55, 0xf4,                         /* 15: mov -0xc(%rbp),%edx */
        0x89, 0x51, 0x04,                         /* 18: mov %edx,0x4(%rcx) */
        0x8b, 0x75, 0xf4,                         /* 21: mov -0xc(%rbp),%esi */
        0xc7, 0x45, 0xf8, 0x06, 0, 0, 0,          /* 24: movl $6,-0x8(%rbp) */
        0x8b, 0x55, 0xf8,                         /* 31: mov -0x8(%rbp),%edx */
        0x89, 0x51, 0x08,                         /* 34: mov %edx,0x8(%rcx) */
        0x83, 0x45, 0xf4, 0x01,                   /* 37: addl $1,-0xc(%rbp) */
        0x3b, 0x45, 0xf0,                         /* 41: cmp -0x10(%rbp),%eax */
        0x7c, 0xd2,                               /* 44: jl 0 */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 13);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.npromo, 1);
    assert_int_equal(t.promo[0].disp, -0x8);
    assert_int_equal(t.promo[0].reg, 11);
    int reloads = 0;
    for (int k = 0; k < t.n; k++) {
        assert_false(t.insn[k].flags & (IR_F_ALIAS | IR_F_ALIAS_FL | IR_F_WILD));
        reloads += (t.insn[k].flags & IR_F_NEW) && t.insn[k].ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
    }
    assert_int_equal(reloads, 1);
    ir_free(&t);
}

int main(void)
{
    code = unit_init(4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promotes_loop_slots),
        cmocka_unit_test(test_push_reloads),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_fewer_slots_when_full),
        cmocka_unit_test(test_read_only_slots_stay),
        cmocka_unit_test(test_only_rounds_count),
        cmocka_unit_test(test_cost_of_reloads),
        cmocka_unit_test(test_cost_retry),
        cmocka_unit_test(test_emit_promoted),
        cmocka_unit_test(test_emit_peeled),
        cmocka_unit_test(test_framed_call_loop),
        cmocka_unit_test(test_retpair),
        cmocka_unit_test(test_xmm_slot),
        cmocka_unit_test(test_review_frame_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
