/* test_pass_promote_checks.c — loop promotion and stores through pointers: a store that
 * may hit a slot reloads the promoted registers after it or, where cheaper, has its
 * address checked (flag-free in a borrowed rcx, or with flags where they are dead up to a
 * writer with nothing that can fault between); the emitted checks run on a thousand
 * addresses; checks also in a loop that holds an inline check (an indirect call), whose
 * way into the lookup hands the app's rcx over. */
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
#include "unit_init.h"
#include "unit_promote.h"

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
        0x65, 0x48, 0x8b, 0x04, 0x25, (uint8_t)(T_PROMO + 8 * slot), (uint8_t)((T_PROMO + 8 * slot) >> 8), 0, 0,
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

int main(void)
{
    code = unit_init(4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_through_pointer_reloads),
        cmocka_unit_test(test_alias_check_emitted),
        cmocka_unit_test(test_store_checked_with_flags),
        cmocka_unit_test(test_flag_check_emitted),
        cmocka_unit_test(test_checked_store_with_inline_check),
        cmocka_unit_test(test_lookup_gets_app_rcx),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
