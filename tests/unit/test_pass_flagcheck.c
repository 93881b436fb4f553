/* test_pass_flagcheck.c — pass_flagcheck on hand-written paths through `jmp/call *%reg`:
 * the check with flags is taken where the last flag writer can run again (a register cmp;
 * an add/sub of a register or an immediate into a register, after its inverse), with the
 * hit path recomputing the flags unless they are dead after the branch (then the region up
 * to their writer is inexact); refused for
 * every other writer and where the writer's inputs changed. The emitted check is `cmp
 * target(%rip),%reg ; jne miss`, mapped XL_OTHER, its constant the recorded target, the
 * recomputation after the jne, and the miss path starts with it; a call pushes first and
 * its miss path does not push again. Running such code (hits,
 * misses, signals) is tests/programs/flagcheck_switch.c's part. */
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

#define T2 32                                   /* the second block (the branch's target) */

/* build: the path `first` (nfirst instructions at 0, ending in the indirect branch) then
 * the target block at T2: setc %cl (reads CF) or, dead, add $1,%rbx; then jmp 0. */
static void build(ir_trace_t *t, const uint8_t *first, size_t n, uint32_t nfirst, int dead)
{
    uint8_t b[64];
    memset(b, 0x90, sizeof(b));
    memcpy(b, first, n);
    static const uint8_t setc[] = { 0x0f, 0x92, 0xc1, 0xeb, 0xdb };          /* setc %cl ; jmp 0 */
    static const uint8_t add[] = { 0x48, 0x83, 0xc3, 0x01, 0xeb, 0xda };     /* add $1,%rbx ; jmp 0 */
    memcpy(b + T2, dead ? add : setc, dead ? sizeof(add) : sizeof(setc));
    uint64_t offs[2] = { 0, T2 };
    uint32_t lens[2] = { nfirst, 2 };
    unit_build_path(t, code, b, sizeof(b), offs, lens, 2);
}

/* checks: what the pass returns on that path (the trace freed after). */
static int checks(const uint8_t *first, size_t n, uint32_t nfirst, int dead)
{
    ir_trace_t t;
    build(&t, first, n, nfirst, dead);
    int r = opt_pass_flagcheck(&t);
    ir_free(&t);
    return r;
}

static int ind_at(const ir_trace_t *t)
{
    for (int k = 0; k < t->n; k++)
        if (t->insn[k].kind == IR_IND) return k;
    fail();
    return -1;
}

/* build_one: the path as build makes it, the pass run (it must take the one branch);
 * returns the branch's index. */
static int build_one(ir_trace_t *t, const uint8_t *first, size_t n, uint32_t nfirst, int dead)
{
    build(t, first, n, nfirst, dead);
    assert_int_equal(opt_pass_flagcheck(t), 1);
    return ind_at(t);
}

static const uint8_t table_add[] = {
    0x48, 0x01, 0xd0,                   /* 0: add %rdx,%rax */
    0xff, 0xe0,                         /* 3: jmp *%rax */
};

static void test_add_reruns_after_inverse(void **s)
{
    (void)s;
    ir_trace_t t;
    int k = build_one(&t, table_add, sizeof(table_add), 2, 0);
    const ir_insn_t *i = &t.insn[k];
    assert_int_equal(i->flags, IR_F_CHECK_FL | IR_F_CHECK_REMAT);    /* setc reads CF */
    assert_int_equal(i->ncomp, 2);
    static const uint8_t sub[] = { 0x48, 0x29, 0xd0 };               /* sub %rdx,%rax */
    assert_int_equal(i->comp[0].len, 3);
    assert_memory_equal(i->comp[0].bytes, sub, 3);
    assert_int_equal(i->comp[0].flags, IR_F_NEW);
    assert_memory_equal(i->comp[1].bytes, table_add, 3);
    assert_int_equal(t.insn[k + 1].flags, 0);                        /* nothing inexact */
    ir_free(&t);
}

static void test_cmp_reruns(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x4d, 0x39, 0xc2,               /* 0: cmp %r8,%r10 */
        0x48, 0x89, 0xf0,               /* 3: mov %rsi,%rax (not an input of the cmp) */
        0xff, 0xe0,                     /* 6: jmp *%rax */
    };
    ir_trace_t t;
    int k = build_one(&t, c, sizeof(c), 3, 0);
    const ir_insn_t *i = &t.insn[k];
    assert_int_equal(i->ncomp, 1);
    assert_memory_equal(i->comp[0].bytes, c, 3);
    ir_free(&t);
}

/* and/or/xor: `test dst,dst` gives their flags back, test runs again: only where the CPU
 * leaves AF (undefined after them) at one value */
static void test_logic(void **s)
{
    (void)s;
    static const uint8_t or_[] = {
        0x09, 0xc6,                     /* 0: or %eax,%esi */
        0x0f, 0xb6, 0xc0,               /* 2: movzbl %al,%eax (the or's source may change) */
        0xff, 0xe0,                     /* 5: jmp *%rax */
    };
    static const uint8_t or_changed[] = { 0x09, 0xc6, 0x89, 0xfe, 0xff, 0xe0 };   /* or; mov %edi,%esi */
    static const uint8_t test_[] = { 0x48, 0x85, 0xc0, 0xff, 0xe0 };             /* test %rax,%rax */
    static const uint8_t test_changed[] = { 0x48, 0x85, 0xd0, 0x48, 0x89, 0xf2, 0xff, 0xe0 };  /* test; mov %rsi,%rdx */
    static const uint8_t or_part[] = { 0x09, 0xc6, 0x40, 0x88, 0xfe, 0xff, 0xe0 };   /* or; mov %dil,%sil */
    hp_rt.cpu_logic_af = 0;
    assert_int_equal(checks(or_, sizeof(or_), 3, 0), 0);
    assert_int_equal(checks(test_, sizeof(test_), 2, 0), 0);
    hp_rt.cpu_logic_af = 1;
    ir_trace_t t;
    int k = build_one(&t, or_, sizeof(or_), 3, 0);
    const ir_insn_t *i = &t.insn[k];
    assert_int_equal(i->ncomp, 1);
    static const uint8_t test_esi[] = { 0x85, 0xf6 };                /* test %esi,%esi */
    assert_int_equal(i->comp[0].len, 2);
    assert_memory_equal(i->comp[0].bytes, test_esi, 2);
    ir_free(&t);
    k = build_one(&t, test_, sizeof(test_), 2, 0);
    i = &t.insn[k];
    assert_int_equal(i->ncomp, 1);
    assert_memory_equal(i->comp[0].bytes, test_, 3);
    ir_free(&t);
    assert_int_equal(checks(or_changed, sizeof(or_changed), 3, 0), 0);
    assert_int_equal(checks(test_changed, sizeof(test_changed), 3, 0), 0);
    assert_int_equal(checks(or_part, sizeof(or_part), 3, 0), 0);
    hp_rt.cpu_logic_af = 0;
}

/* flags dead after the branch: no recomputation on the hit path, the target's first
 * instruction (their writer) inexact */
static void test_dead_flags(void **s)
{
    (void)s;
    ir_trace_t t;
    int k = build_one(&t, table_add, sizeof(table_add), 2, 1);
    assert_int_equal(t.insn[k].flags, IR_F_CHECK_FL);
    assert_int_equal(t.insn[k].ncomp, 2);                            /* the miss path's */
    assert_true(t.insn[k + 1].flags & IR_F_INEXACT);                 /* add $1,%rbx */
    assert_int_equal(t.insn[k - 1].flags, 0);
    ir_free(&t);
}

/* a call: the same rules (its push comes first, while the flags are the app's); emitted
 * as push, cmp, jne, and the miss path loads the target without a second push */
static void test_call(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x48, 0x01, 0xd0,               /* 0: add %rdx,%rax */
        0xff, 0xd0,                     /* 3: call *%rax */
    };
    ir_trace_t t;
    int k = build_one(&t, c, sizeof(c), 2, 1);
    assert_int_equal(t.insn[k].flags, IR_F_CHECK_FL);                /* dead after: no remat */
    assert_true(t.insn[k + 1].flags & IR_F_INEXACT);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 32);
    assert_int_equal(xl[k].kind, XL_OTHER);
    const uint8_t *at = ctx.start + xl[k].cache_off;
    static const uint8_t push[] = { 0xff, 0x35 };                    /* pushq ret(%rip) */
    static const uint8_t cmp[] = { 0x48, 0x3b, 0x05 };
    assert_memory_equal(at, push, 2);
    assert_memory_equal(at + 6, cmp, 3);
    assert_int_equal(ctx.nrets, 2);
    assert_int_equal(ctx.rets[0].value, (uint64_t)code + 5);         /* the return address */
    assert_int_equal(ctx.rets[1].value, (uint64_t)code + T2);
    assert_int_equal(at[13], 0x0f);                                  /* jne miss */
    assert_int_equal(at[14], 0x85);
    assert_ptr_equal(at + 19, ctx.start + xl[k + 1].cache_off);      /* nothing after it */
    int32_t rel;
    memcpy(&rel, at + 15, 4);
    const uint8_t *miss = at + 19 + rel;
    static const uint8_t remat[] = { 0x48, 0x29, 0xd0, 0x48, 0x01, 0xd0 };
    static const uint8_t spill_load[] = { 0x65, 0x48, 0x89, 0x0c, 0x25, 0x10, 0, 0, 0, 0x48, 0x89, 0xc1 };
    assert_memory_equal(miss, remat, sizeof(remat));
    assert_memory_equal(miss + sizeof(remat), spill_load, sizeof(spill_load));   /* no push */
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

static void test_refusals(void **s)
{
    (void)s;
    static const uint8_t xor_w[] = { 0x48, 0x01, 0xd0, 0x31, 0xd2, 0xff, 0xe0 };     /* add; xor %edx,%edx */
    static const uint8_t src_part[] = { 0x48, 0x01, 0xd0, 0x40, 0x88, 0xf2, 0xff, 0xe0 };  /* add; mov %sil,%dl */
    static const uint8_t dst_part[] = { 0x48, 0x01, 0xd0, 0x66, 0x89, 0xf0, 0xff, 0xe0 };  /* add; mov %si,%ax */
    static const uint8_t src_high[] = { 0x48, 0x01, 0xd0, 0x88, 0xde, 0xff, 0xe0 };  /* add; mov %bl,%dh */
    static const uint8_t src_changed[] = { 0x48, 0x01, 0xd0, 0x48, 0x89, 0xf2, 0xff, 0xe0 }; /* add; mov %rsi,%rdx */
    static const uint8_t dst_changed[] = { 0x48, 0x01, 0xd0, 0x48, 0x89, 0xf0, 0xff, 0xe0 }; /* add; mov %rsi,%rax */
    static const uint8_t cmp_changed[] = { 0x4d, 0x39, 0xc2, 0x4d, 0x89, 0xca, 0xff, 0xe0 }; /* cmp %r8,%r10; mov %r9,%r10 */
    static const uint8_t test_[] = { 0x48, 0x85, 0xc0, 0xff, 0xe0 };            /* test %rax,%rax: AF undefined */
    static const uint8_t mem[] = { 0x48, 0x3b, 0x06, 0xff, 0xe0 };              /* cmp (%rsi),%rax */
    static const uint8_t adc[] = { 0x48, 0x11, 0xd0, 0xff, 0xe0 };              /* adc %rdx,%rax: reads CF */
    static const uint8_t inc[] = { 0x48, 0xff, 0xc0, 0xff, 0xe0 };              /* inc %rax: keeps CF */
    static const uint8_t same[] = { 0x48, 0x01, 0xc0, 0xff, 0xe0 };             /* add %rax,%rax */
    static const uint8_t none[] = { 0x48, 0x89, 0xf0, 0xff, 0xe0 };             /* flags from before the trace */
    static const uint8_t jmem[] = { 0x48, 0x01, 0xd0, 0xff, 0x20 };             /* jmp *(%rax) */
    static const uint8_t rsp[] = { 0x48, 0x83, 0xec, 0x08, 0xff, 0xe0 };        /* sub $8,%rsp */
#define CASE(b, nfirst) { b, sizeof(b), nfirst }
    static const struct { const uint8_t *b; size_t n; uint32_t nfirst; } refused[] = {
        CASE(xor_w, 3), CASE(src_part, 3), CASE(dst_part, 3), CASE(src_high, 3),
        CASE(src_changed, 3), CASE(dst_changed, 3), CASE(cmp_changed, 3), CASE(test_, 2),
        CASE(mem, 2), CASE(adc, 2), CASE(inc, 2), CASE(same, 2), CASE(none, 2), CASE(jmem, 2),
        CASE(rsp, 2),
    };
#undef CASE
    for (unsigned k = 0; k < sizeof(refused) / sizeof(refused[0]); k++)
        if (checks(refused[k].b, refused[k].n, refused[k].nfirst, 0) != 0) fail_msg("case %u taken", k);
    assert_int_equal(checks(table_add, sizeof(table_add), 2, 0), 1);            /* (the base case) */
}

static const uint8_t *find(const uint8_t *from, const uint8_t *to, const uint8_t *pat, size_t n)
{
    for (const uint8_t *p = from; p + n <= to; p++)
        if (!memcmp(p, pat, n)) return p;
    return 0;
}

static void test_emitted(void **s)
{
    (void)s;
    ir_trace_t t;
    int k = build_one(&t, table_add, sizeof(table_add), 2, 0);
    bb_ctx_t ctx;
    bb_exit_t exits[8];
    hp_xl_t xl[32];
    unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 32);
    assert_int_equal(ctx.n_xl, t.n);
    assert_int_equal(xl[k].kind, XL_OTHER);
    const uint8_t *at = ctx.start + xl[k].cache_off;
    static const uint8_t cmp[] = { 0x48, 0x3b, 0x05 };               /* cmp disp32(%rip),%rax */
    assert_memory_equal(at, cmp, 3);
    assert_int_equal(ctx.nrets, 1);
    assert_ptr_equal(ctx.rets[0].field, at + 3);
    assert_int_equal(ctx.rets[0].value, (uint64_t)code + T2);
    assert_int_equal(at[7], 0x0f);                                   /* jne miss */
    assert_int_equal(at[8], 0x85);
    static const uint8_t remat[] = { 0x48, 0x29, 0xd0, 0x48, 0x01, 0xd0 };
    assert_memory_equal(at + 13, remat, sizeof(remat));              /* the hit path's */
    assert_ptr_equal(at + 13 + sizeof(remat), ctx.start + xl[k + 1].cache_off);
    int32_t rel;
    memcpy(&rel, at + 9, 4);
    const uint8_t *miss = at + 13 + rel;
    assert_memory_equal(miss, remat, sizeof(remat));                 /* the miss path's, first */
    static const uint8_t spill[] = { 0x65, 0x48, 0x89, 0x0c, 0x25 }; /* mov %rcx,%gs:.. */
    assert_memory_equal(miss + sizeof(remat), spill, sizeof(spill));
    assert_null(find(ctx.start, at, spill, sizeof(spill)));          /* none on the way in */
    cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
    ir_free(&t);
}

/* every test starts on a CPU whose logical instructions' AF is not known (test_logic says
 * otherwise for itself): a failing test leaves no setting behind for the next */
static int reset_af(void **s)
{
    (void)s;
    hp_rt.cpu_logic_af = 0;
    return 0;
}

int main(void)
{
    code = unit_init(4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_add_reruns_after_inverse, reset_af),
        cmocka_unit_test_setup(test_cmp_reruns, reset_af),
        cmocka_unit_test_setup(test_logic, reset_af),
        cmocka_unit_test_setup(test_dead_flags, reset_af),
        cmocka_unit_test_setup(test_call, reset_af),
        cmocka_unit_test_setup(test_refusals, reset_af),
        cmocka_unit_test_setup(test_emitted, reset_af),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
