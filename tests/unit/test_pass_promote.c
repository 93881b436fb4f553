/* test_pass_promote.c — loop register promotion: on a -O0 style loop the [rbp+disp] slots
 * go to registers the trace does not use (loads become moves, stores also set the
 * register, read-modify-writes compute in the register and store), a store through another
 * pointer reloads them or, where cheaper, has its address checked (the emitted check run on
 * a thousand addresses), a loop that writes rbp or is not a loop is left alone, and the
 * emitted loop has its preheader, jumps back past it and restores the registers on exits;
 * framed loops across -O0 calls, retpair, xmm slots. */
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

static uint8_t *code;

static void build(ir_trace_t *t, const uint8_t *bytes, size_t n, uint32_t len)
{
    memset(code, 0xcc, 4096);
    memcpy(code, bytes, n);
    uint64_t pcs[1] = { (uint64_t)code };
    uint32_t lens[1] = { len };
    const char *why = "";
    assert_int_equal(ir_init(t, 64), HP_OK);
    assert_int_equal(ir_build_path(t, pcs, lens, 1, &why), HP_OK);
    opt_pass_straighten(t);                  /* a loop: the branch back falls through */
}

/* build_with_callee: the IR of a path through a and b (a at code, b, if any, at code +
 * 0x40): blocks at code + offs[k] of lens[k] instructions, rbp - rsp at the head frame_k
 * (known unless negative). */
static void build_with_callee(ir_trace_t *t, const uint8_t *a, size_t na, const uint8_t *b, size_t nb,
                              const uint64_t *offs, const uint32_t *lens, int nblocks, int64_t frame_k)
{
    memset(code, 0xcc, 4096);
    memcpy(code, a, na);
    if (b) memcpy(code + 0x40, b, nb);
    uint64_t pcs[4];
    for (int k = 0; k < nblocks; k++) pcs[k] = (uint64_t)code + offs[k];
    const char *why = "";
    assert_int_equal(ir_init(t, 64), HP_OK);
    t->frame_k = frame_k < 0 ? 0 : frame_k;
    t->frame_k_ok = frame_k >= 0;
    assert_int_equal(ir_build_path(t, pcs, lens, nblocks, &why), HP_OK);
}

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

static int is_reg(const ir_insn_t *i, int op, ZydisRegister r)
{
    return i->ops[op].type == ZYDIS_OPERAND_TYPE_REGISTER && i->ops[op].reg.value == r;
}

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

/* A loop of three promoted slots storing through a pointer (rdi):
 *   0: mov -0xc(%rbp),%e?x ; mov %e?x,(%rdi) ; addl $1,-0xc(%rbp) ; addl $2,-0x8(%rbp) ;
 *      addl $3,-0x4(%rbp) ; cmp -0x10(%rbp),%e?x ; jl 0          (?: a, or c)        */
static const uint8_t ptr_loop[] = {
    0x8b, 0x45, 0xf4,                   /* 0: mov -0xc(%rbp),%eax */
    0x89, 0x07,                         /* 3: mov %eax,(%rdi)  (may alias) */
    0x83, 0x45, 0xf4, 0x01,             /* 5: addl $1,-0xc(%rbp) */
    0x83, 0x45, 0xf8, 0x02,             /* 9: addl $2,-0x8(%rbp) */
    0x83, 0x45, 0xfc, 0x03,             /* 13: addl $3,-0x4(%rbp) */
    0x3b, 0x45, 0xf0,                   /* 17: cmp -0x10(%rbp),%eax */
    0x7c, 0xea,                         /* 20: jl 0 */
};

/* The same with a load that may fault right after the store (mov (%rsi),%edx): the
 * flags are not free there (a fault must see the app's), so no check with flags. */
static const uint8_t ptr_loop_fault[] = {
    0x8b, 0x45, 0xf4,                   /* 0: mov -0xc(%rbp),%eax */
    0x89, 0x07,                         /* 3: mov %eax,(%rdi)  (may alias) */
    0x8b, 0x16,                         /* 5: mov (%rsi),%edx  (may fault) */
    0x83, 0x45, 0xf4, 0x01,             /* 7: addl $1,-0xc(%rbp) */
    0x83, 0x45, 0xf8, 0x02,             /* 11: addl $2,-0x8(%rbp) */
    0x83, 0x45, 0xfc, 0x03,             /* 15: addl $3,-0x4(%rbp) */
    0x3b, 0x45, 0xf0,                   /* 19: cmp -0x10(%rbp),%eax */
    0x7c, 0xe8,                         /* 22: jl 0 */
};

/* A store through a pointer may hit a slot. Where a fault could see the flags right after
 * it: with rcx free in the loop and three slots to reload its address is checked after it
 * (IR_F_ALIAS, rcx borrowed as an entry without a slot) and nothing is reloaded; with rcx in
 * use, or only one slot (a reload is cheaper than the check), the registers read their
 * slots again after it. */
static void test_store_through_pointer_reloads(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, ptr_loop_fault, sizeof(ptr_loop_fault), 8);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.insn[1].zi.mnemonic, ZYDIS_MNEMONIC_MOV);        /* the store */
    assert_true(t.insn[1].flags & IR_F_ALIAS);                          /* checked */
    assert_false(t.insn[2].flags & IR_F_NEW);                           /* no reload */
    assert_int_equal(t.npromo, 4);
    assert_int_equal(t.promo[3].reg, 1);                                /* rcx, no slot */
    assert_int_equal(t.promo[3].base, -1);
    assert_int_equal(t.promo[3].xmm, 0);
    ir_free(&t);
    uint8_t with_rcx[sizeof(ptr_loop_fault)];                           /* ecx for eax */
    memcpy(with_rcx, ptr_loop_fault, sizeof(ptr_loop_fault));
    with_rcx[1] = 0x4d; with_rcx[4] = 0x0f; with_rcx[21] = 0x4d;
    build(&t, with_rcx, sizeof(with_rcx), 8);
    assert_true(opt_pass_promote(&t) > 0);
    assert_false(t.insn[1].flags & IR_F_ALIAS);
    assert_true(t.insn[2].flags & IR_F_NEW);                            /* reloads */
    assert_true(is_reg(&t.insn[2], 0, ZYDIS_REGISTER_R11D));
    assert_int_equal(t.insn[2].ops[1].mem.disp.value, -0xc);
    assert_int_equal(t.npromo, 3);
    ir_free(&t);
    static const uint8_t one_slot[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x89, 0x07,                     /* 3: mov %eax,(%rdi)  (may alias) */
        0x8b, 0x16,                     /* 5: mov (%rsi),%edx  (may fault) */
        0x83, 0x45, 0xf4, 0x01,         /* 7: addl $1,-0xc(%rbp) */
        0x3b, 0x45, 0xf0,               /* 11: cmp -0x10(%rbp),%eax */
        0x7c, 0xf0,                     /* 14: jl 0 */
    };
    build(&t, one_slot, sizeof(one_slot), 6);
    assert_true(opt_pass_promote(&t) > 0);
    assert_false(t.insn[1].flags & IR_F_ALIAS);
    assert_true(t.insn[2].flags & IR_F_NEW);                            /* a reload */
    assert_int_equal(t.npromo, 1);
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

/* emit_trace: emit t into a fresh 4 KiB of cache near the code (8 exits, 32 map entries). */
static void emit_trace(const ir_trace_t *t, bb_ctx_t *ctx, bb_exit_t *exits, hp_xl_t *xl)
{
    unit_emit(t, (uint64_t)code, ctx, exits, 8, xl, 32);
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

/* emit_check: the promoted loop of `bytes` (ninsn instructions) emitted with one address
 * check; returns where the check starts: after `seq`'s first two bytes (the store) in the
 * code. */
static uint8_t *emit_check(ir_trace_t *t, const uint8_t *bytes, size_t n, uint32_t ninsn, bb_ctx_t *ctx,
                           bb_exit_t *exits, hp_xl_t *xl, const uint8_t *seq, size_t nseq)
{
    build(t, bytes, n, ninsn);
    assert_true(opt_pass_promote(t) > 0);
    uint64_t checks0 = hp_rt.stats.promote_alias_checks;
    emit_trace(t, ctx, exits, xl);
    assert_int_equal(hp_rt.stats.promote_alias_checks, checks0 + 1);
    uint8_t *at = 0;
    for (uint8_t *p = ctx->start; p + nseq <= ctx->p; p++)
        if (!memcmp(p, seq, nseq)) at = p + 2;
    assert_non_null(at);
    return at;
}

/* run_check: the first n bytes of a check at `at`, then `tail` (which leaves the result in
 * rax and returns), run with rbp = RUN_RBP and rdi = RUN_RBP + off for off in
 * [-0x200, 0x200]: res[off + 0x200] = rax. */
#define RUN_RBP 0x7ffd00001000ull
static void run_check(const uint8_t *at, size_t n, const uint8_t *tail, size_t ntail, uint64_t *res)
{
    uint8_t *run = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(run != MAP_FAILED);
    memcpy(run, at, n);
    memcpy(run + n, tail, ntail);
    for (int64_t off = -0x200; off <= 0x200; off++) {
        uint64_t rdi = RUN_RBP + (uint64_t)off, rbp = RUN_RBP, r;
        __asm__ volatile("push %%rbp\n\tmov %%rsi,%%rbp\n\tcall *%%rdx\n\tpop %%rbp"
                         : "=a"(r) : "D"(rdi), "S"(rbp), "d"(run) : "rcx", "memory", "cc");
        res[off + 0x200] = r;
    }
    munmap(run, 4096);
}

/* The emitted check after a store through a pointer: rcx saved in the preheader (not
 * loaded), then after the store mov %rbp,%rcx ; not ; lea (w-1-lo+1)(%rdi,%rcx),%rcx ;
 * mov $0,%cl ; jrcxz ; jmp over the reloads of the slots. Run on addresses: the reload
 * happens exactly when the store's bytes fall in [lo-(w-1), lo-(w-1)+256), which holds
 * every address whose bytes touch a slot. */
static void test_alias_check_emitted(void **s)
{
    (void)s;
    /* after the store: mov %rbp,%rcx ; not %rcx ; lea 0x10(%rdi,%rcx),%rcx (0xf + 1: 3 - (-0xc)
       and the not's -1) ; mov $0,%cl ; jrcxz 1f ; jmp 2f ; 1: the three reloads ; 2: */
    static const uint8_t seq[] = {
        0x89, 0x07,                                 /* the store: mov %eax,(%rdi) */
        0x48, 0x89, 0xe9,                           /* mov %rbp,%rcx */
        0x48, 0xf7, 0xd1,                           /* not %rcx */
        0x48, 0x8d, 0x4c, 0x0f, 0x10,               /* lea 0x10(%rdi,%rcx,1),%rcx */
        0xb1, 0x00,                                 /* mov $0,%cl */
        0xe3, 0x02,                                 /* jrcxz 1f */
        0xeb, 0x0c,                                 /* jmp 2f */
        0x44, 0x8b, 0x5d, 0xf4,                     /* 1: mov -0xc(%rbp),%r11d */
        0x44, 0x8b, 0x55, 0xf8,                     /* mov -0x8(%rbp),%r10d */
        0x44, 0x8b, 0x4d, 0xfc,                     /* mov -0x4(%rbp),%r9d */
    };
    ir_trace_t t;
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    uint8_t *at = emit_check(&t, ptr_loop_fault, sizeof(ptr_loop_fault), 8, &ctx, exits, xl, seq, sizeof(seq));
    /* the check on its own, run: rcx = 0 after it iff [rdi, rdi+4) may touch [rbp-0xc, rbp) */
    static const uint8_t tail[] = { 0x48, 0x89, 0xc8, 0xc3 };        /* mov %rcx,%rax ; ret */
    uint64_t res[0x401];
    run_check(at, 13, tail, sizeof(tail), res);                       /* up to the jrcxz */
    for (int64_t off = -0x200; off <= 0x200; off++) {
        uint64_t rcx = res[off + 0x200];
        int touches = off + 4 > -0xc && off < 0;
        int window = off >= -0xf && off < -0xf + 256;               /* the reload zone */
        if (touches) assert_int_equal(rcx, 0);
        assert_int_equal(rcx == 0, window);
    }
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

/* Where the flags are dead after the store up to a writer with nothing that can fault
 * between (ptr_loop: the store, then addl $1,-0xc(%rbp), whose add writes them), the check
 * is made with flags (IR_F_ALIAS_FL) and the instructions up to the writer are inexact: in
 * rcx when the flag-free check borrowed it already, else in a register the loop never
 * names (an entry without a slot) when it replaces three reloads; no reload stays inline.
 * Not for one slot (a reload is cheaper), nor where the writer reads the flags first. */
static void test_store_checked_with_flags(void **s)
{
    (void)s;
    ir_trace_t t;
    build(&t, ptr_loop, sizeof(ptr_loop), 7);
    assert_true(opt_pass_promote(&t) > 0);
    assert_true(t.insn[1].flags & IR_F_ALIAS_FL);
    assert_false(t.insn[1].flags & (IR_F_ALIAS | IR_F_WILD));
    assert_false(t.insn[2].flags & IR_F_NEW);                           /* no reload */
    assert_int_equal(t.insn[2].zi.mnemonic, ZYDIS_MNEMONIC_ADD);        /* add $1,%r11d */
    assert_true(t.insn[2].flags & IR_F_INEXACT);                        /* flags not the app's */
    assert_false(t.insn[3].flags & IR_F_INEXACT);                       /* its store: exact */
    assert_int_equal(t.npromo, 4);
    assert_int_equal(t.promo[3].reg, 1);                                /* rcx */
    assert_int_equal(t.promo[3].base, -1);
    ir_free(&t);
    uint8_t with_rcx[sizeof(ptr_loop)];                                 /* ecx for eax */
    memcpy(with_rcx, ptr_loop, sizeof(ptr_loop));
    with_rcx[1] = 0x4d; with_rcx[4] = 0x0f;
    build(&t, with_rcx, sizeof(with_rcx), 7);
    assert_true(opt_pass_promote(&t) > 0);
    assert_true(t.insn[1].flags & IR_F_ALIAS_FL);
    assert_false(t.insn[2].flags & IR_F_NEW);
    assert_true(t.insn[2].flags & IR_F_INEXACT);                        /* up to the add */
    assert_false(t.insn[3].flags & IR_F_INEXACT);
    assert_int_equal(t.npromo, 4);
    assert_int_equal(t.promo[3].reg, 8);                                /* r8: r11..r9 hold slots */
    assert_int_equal(t.promo[3].base, -1);
    ir_free(&t);
    static const uint8_t one_slot[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x89, 0x07,                     /* 3: mov %eax,(%rdi)  (may alias) */
        0x83, 0x45, 0xf4, 0x01,         /* 5: addl $1,-0xc(%rbp) */
        0x3b, 0x45, 0xf0,               /* 9: cmp -0x10(%rbp),%eax */
        0x7c, 0xf2,                     /* 12: jl 0 */
    };
    build(&t, one_slot, sizeof(one_slot), 5);                           /* one reload: cheaper */
    assert_true(opt_pass_promote(&t) > 0);
    assert_false(t.insn[1].flags & IR_F_ALIAS_FL);
    assert_true(t.insn[2].flags & IR_F_NEW);
    assert_int_equal(t.npromo, 1);
    ir_free(&t);
    uint8_t flags_read[sizeof(ptr_loop)];                               /* adcl: reads CF */
    memcpy(flags_read, ptr_loop, sizeof(ptr_loop));
    flags_read[6] = 0x55;
    build(&t, flags_read, sizeof(flags_read), 7);
    assert_true(opt_pass_promote(&t) > 0);
    assert_true(t.insn[1].flags & IR_F_ALIAS);                          /* flag-free check */
    assert_false(t.insn[1].flags & IR_F_ALIAS_FL);
    assert_false(t.insn[2].flags & IR_F_INEXACT);
    ir_free(&t);
    flags_read[1] = 0x4d; flags_read[4] = 0x0f;                         /* and rcx in use */
    build(&t, flags_read, sizeof(flags_read), 7);
    assert_true(opt_pass_promote(&t) > 0);
    assert_false(t.insn[1].flags & (IR_F_ALIAS | IR_F_ALIAS_FL));
    assert_true(t.insn[2].flags & IR_F_NEW);                            /* the reloads */
    assert_int_equal(t.npromo, 3);
    ir_free(&t);
}

/* The emitted check with flags: lea 0xf(%rdi),%rcx ; sub %rbp,%rcx ; cmp $0xf,%rcx ; jb
 * to the reloads out of line, which jump back after the jb. Run on addresses: it is taken
 * exactly when the store's bytes [rdi, rdi+4) touch the slots [rbp-0xc, rbp). */
static void test_flag_check_emitted(void **s)
{
    (void)s;
    static const uint8_t seq[] = {
        0x89, 0x07,                                 /* the store: mov %eax,(%rdi) */
        0x48, 0x8d, 0x4f, 0x0f,                     /* lea 0xf(%rdi),%rcx */
        0x48, 0x29, 0xe9,                           /* sub %rbp,%rcx */
        0x48, 0x83, 0xf9, 0x0f,                     /* cmp $0xf,%rcx */
        0x0f, 0x82,                                 /* jb rel32 */
    };
    ir_trace_t t;
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    uint8_t *at = emit_check(&t, ptr_loop, sizeof(ptr_loop), 7, &ctx, exits, xl, seq, sizeof(seq));
    uint8_t *back = at + 17;                                          /* after the jb */
    int32_t rel;
    memcpy(&rel, at + 13, 4);
    uint8_t *stub = back + rel;
    static const uint8_t reloads[] = {
        0x44, 0x8b, 0x5d, 0xf4,                     /* mov -0xc(%rbp),%r11d */
        0x44, 0x8b, 0x55, 0xf8,                     /* mov -0x8(%rbp),%r10d */
        0x44, 0x8b, 0x4d, 0xfc,                     /* mov -0x4(%rbp),%r9d */
        0xe9,                                       /* jmp back */
    };
    assert_true(stub > back && stub + sizeof(reloads) + 4 <= ctx.p);   /* out of line */
    assert_memory_equal(stub, reloads, sizeof(reloads));
    memcpy(&rel, stub + sizeof(reloads), 4);
    assert_ptr_equal(stub + sizeof(reloads) + 4 + rel, back);
    assert_false(back[0] == 0x44 && back[1] == 0x8b);                  /* nothing reloads inline */
    static const uint8_t tail[] = { 0x0f, 0x92, 0xc0, 0x48, 0x0f, 0xb6, 0xc0, 0xc3 }; /* setb; movzx; ret */
    uint64_t res[0x401];
    run_check(at, 11, tail, sizeof(tail), res);                       /* lea, sub, cmp */
    for (int64_t off = -0x200; off <= 0x200; off++) {
        int touches = off + 4 > -0xc && off < 0;
        assert_int_equal(res[off + 0x200], touches);
    }
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

/* A loop with an inline check (an indirect call to a leaf that keeps rbp, as nbody.O0's
 * call to sqrt through the PLT) and a store through a pointer: offsets mix (the call's push
 * and the ret's pop come from rsp), rbp stays the head's, so the slots are addressed
 * through rbp behind the frame check and the store is checked against them (rcx
 * borrowed; the checks' way into the lookup hands the app's rcx over:
 * tests/programs/promote_alias_ind.c) instead of reloading them after it. */
static void test_checked_store_with_inline_check(void **s)
{
    (void)s;
    static const uint8_t loop[] = {
        0x8b, 0x45, 0xf4,               /* 0: mov -0xc(%rbp),%eax */
        0x89, 0x07,                     /* 3: mov %eax,(%rdi)  (may alias) */
        0xff, 0xd2,                     /* 5: call *%rdx */
        0x01, 0x45, 0xf8,               /* 7: add %eax,-0x8(%rbp) */
        0x83, 0x45, 0xfc, 0x03,         /* 10: addl $3,-0x4(%rbp) */
        0x83, 0x45, 0xf4, 0x01,         /* 14: addl $1,-0xc(%rbp) */
        0x83, 0x7d, 0xf4, 0x64,         /* 18: cmpl $100,-0xc(%rbp) */
        0x7c, 0xe8,                     /* 22: jl 0 */
    };
    static const uint8_t leaf[] = { 0x8d, 0x40, 0x01, 0xc3 };         /* lea 1(%rax),%eax ; ret */
    const uint64_t offs[3] = { 0, 0x40, 7 };
    const uint32_t lens[3] = { 3, 2, 5 };
    ir_trace_t t;
    build_with_callee(&t, loop, sizeof(loop), leaf, sizeof(leaf), offs, lens, 3, 0x30);
    opt_pass_straighten(&t);
    int ind = -1;
    for (int k = 0; k < t.n; k++)
        if (t.insn[k].kind == IR_IND) ind = k;
    assert_true(ind >= 0);
    assert_true(opt_pass_promote(&t) > 0);
    assert_int_equal(t.promo_guard, 1);
    int slots = 0, rcx = 0;
    for (int i = 0; i < t.npromo; i++) {
        if (t.promo[i].base < 0) { rcx += t.promo[i].reg == 1; continue; }
        assert_int_equal(t.promo[i].base, 5);                    /* through rbp */
        slots++;
    }
    assert_int_equal(slots, 3);
    assert_int_equal(rcx, 1);
    assert_true(t.insn[1].flags & IR_F_ALIAS);                   /* the store, checked */
    assert_false(t.insn[2].flags & IR_F_NEW);                    /* no reloads */
    ir_free(&t);
}

/* has_handover: the emitted code holds the way into the lookup with a borrowed rcx: its
 * app value from T_PROMO + 8 * slot through rax into T_SPILL_RCX, rax given back. */
static int has_handover(const bb_ctx_t *ctx, int slot)
{
    const uint8_t seq[] = {
        0x65, 0x48, 0x89, 0x04, 0x25, T_SPILL_RAX, 0, 0, 0,           /* mov %rax,%gs:SPILL_RAX */
        0x65, 0x48, 0x8b, 0x04, 0x25, (uint8_t)(T_PROMO + 8 * slot), 0, 0, 0,
        0x65, 0x48, 0x89, 0x04, 0x25, T_SPILL_RCX, 0, 0, 0,           /* mov %rax,%gs:SPILL_RCX */
        0x65, 0x48, 0x8b, 0x04, 0x25, T_SPILL_RAX, 0, 0, 0,           /* mov %gs:SPILL_RAX,%rax */
    };
    for (const uint8_t *p = ctx->start; p + sizeof(seq) <= ctx->p; p++)
        if (!memcmp(p, seq, sizeof(seq))) return 1;
    return 0;
}

/* The lookups out of a loop that borrows rcx get the app's rcx in T_SPILL_RCX (rcx holds
 * the target): the miss of an inline check, and an indirect jump with no recorded target
 * after the loop's last round (the trace's end). */
static void test_lookup_gets_app_rcx(void **s)
{
    (void)s;
    static const uint8_t loop_tail[] = {
        0x48, 0x8b, 0x55, 0xf0,         /* 0: mov -0x10(%rbp),%rdx */
        0x48, 0x8b, 0x45, 0xe0,         /* 4: mov -0x20(%rbp),%rax */
        0x48, 0x89, 0x02,               /* 8: mov %rax,(%rdx)  (may alias) */
        0x48, 0x01, 0x45, 0xe8,         /* 11: add %rax,-0x18(%rbp) */
        0x48, 0x83, 0x45, 0xd8, 0x03,   /* 15: addq $3,-0x28(%rbp) */
        0x48, 0x83, 0x45, 0xe0, 0x01,   /* 20: addq $1,-0x20(%rbp) */
        0x48, 0x8b, 0x45, 0xe0,         /* 25: mov -0x20(%rbp),%rax */
        0x48, 0x3b, 0x45, 0xf8,         /* 29: cmp -0x8(%rbp),%rax */
        0x7c, 0xdd,                     /* 33: jl 0 */
        0xff, 0xe2,                     /* 35: jmp *%rdx  (no recorded target) */
    };
    const uint64_t offs[2] = { 0, 35 };
    const uint32_t lens[2] = { 9, 1 };
    ir_trace_t t;
    build_with_callee(&t, loop_tail, sizeof(loop_tail), 0, 0, offs, lens, 2, -1);
    opt_pass_straighten(&t);
    assert_int_equal(t.insn[t.n - 1].kind, IR_IND);
    assert_int_equal(t.insn[t.n - 1].target, 0);
    assert_true(opt_pass_promote(&t) > 0);
    int rcx = -1;
    for (int i = 0; i < t.npromo; i++)
        if (t.promo[i].base < 0 && t.promo[i].reg == 1) rcx = i;
    assert_true(rcx >= 0);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    emit_trace(&t, &ctx, exits, xl);
    assert_true(has_handover(&ctx, rcx));
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
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
    t.no_promote = 1;                                           /* other threads */
    assert_int_equal(opt_pass_retpair(&t), 0);
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
        cmocka_unit_test(test_store_through_pointer_reloads),
        cmocka_unit_test(test_alias_check_emitted),
        cmocka_unit_test(test_store_checked_with_flags),
        cmocka_unit_test(test_flag_check_emitted),
        cmocka_unit_test(test_push_reloads),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_read_only_slots_stay),
        cmocka_unit_test(test_only_rounds_count),
        cmocka_unit_test(test_cost_of_reloads),
        cmocka_unit_test(test_cost_retry),
        cmocka_unit_test(test_emit_promoted),
        cmocka_unit_test(test_framed_call_loop),
        cmocka_unit_test(test_checked_store_with_inline_check),
        cmocka_unit_test(test_lookup_gets_app_rcx),
        cmocka_unit_test(test_retpair),
        cmocka_unit_test(test_xmm_slot),
        cmocka_unit_test(test_review_frame_origins),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
