/* test_pass_retsites.c — the retsites pass (a second return site for an inlined return's
 * check): which site it finds around the recorded return address (another direct call to
 * the same function, the nearest one), what it leaves alone (a return address that follows
 * no direct call, calls to other functions, far-away calls, addresses outside executable
 * memory, indirect jumps, returns without a recorded target), and the emitted miss path:
 * the compare with the second site before the lookup and a linked exit to it. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <cmocka.h>
#include <Zydis/Zydis.h>
#include "builder.h"
#include "builder_int.h"
#include "cache.h"
#include "emit.h"
#include "ir.h"
#include "ir_emit.h"
#include "opt.h"
#include "syscalls.h"
#include "unit_emit.h"
#include "unit_init.h"

static uint8_t *code;     /* app code: an executable mapping (two pages) the pass reads */

/* put_call: a 5-byte `call rel32` at code+off to code+to. */
static void put_call(uint64_t off, uint64_t to)
{
    int32_t rel = (int32_t)((int64_t)to - (int64_t)(off + 5));
    code[off] = 0xe8;
    memcpy(code + off + 1, &rel, 4);
}

/* one_ret: a trace of one ret instruction at code+0x1000 whose recorded target is t1 (the
 * path ended at it and went to t1). */
static void one_ret(ir_trace_t *t, uint64_t t1, uint8_t op)
{
    code[0x1000] = op;
    code[0x1001] = 0xe0;                 /* ff e0: jmp *%rax when op is 0xff */
    uint64_t pc = (uint64_t)code + 0x1000;
    uint32_t len = 1;
    const char *why = "";
    assert_int_equal(ir_init(t, 16), HP_OK);
    t->succ = t1;
    assert_int_equal(ir_build_path(t, &pc, &len, 1, &why), HP_OK);
    assert_int_equal(t->insn[0].kind, IR_IND);
    assert_int_equal(t->insn[0].target, t1);
}

static void test_finds_other_site(void **s)
{
    (void)s;
    memset(code, 0xcc, 8192);
    put_call(0x100, 0x1000);             /* fib: call fib ; ... ; call fib */
    put_call(0x120, 0x1000);
    put_call(0x140, 0x1800);             /* a call to another function between */
    ir_trace_t t;
    one_ret(&t, (uint64_t)code + 0x105, 0xc3);
    assert_int_equal(opt_pass_retsites(&t), 1);
    assert_int_equal(t.insn[0].target2, (uint64_t)code + 0x125);
    ir_free(&t);
    one_ret(&t, (uint64_t)code + 0x125, 0xc3);                 /* and back */
    assert_int_equal(opt_pass_retsites(&t), 1);
    assert_int_equal(t.insn[0].target2, (uint64_t)code + 0x105);
    ir_free(&t);
}

static void test_nearest_site(void **s)
{
    (void)s;
    memset(code, 0xcc, 8192);
    put_call(0x100, 0x1000);
    put_call(0x300, 0x1000);
    put_call(0x190, 0x1000);
    put_call(0x40, 0x1000);
    ir_trace_t t;
    one_ret(&t, (uint64_t)code + 0x195, 0xc3);
    assert_int_equal(opt_pass_retsites(&t), 1);
    assert_int_equal(t.insn[0].target2, (uint64_t)code + 0x105);   /* 0x90 away, not 0x16b */
    ir_free(&t);
}

static void test_leaves_alone(void **s)
{
    (void)s;
    memset(code, 0xcc, 8192);
    put_call(0x100, 0x1000);
    put_call(0x140, 0x1800);             /* the only other call: to another function */
    put_call(0xe00, 0x1000);             /* same function, beyond the window */
    ir_trace_t t;
    one_ret(&t, (uint64_t)code + 0x105, 0xc3);
    assert_int_equal(opt_pass_retsites(&t), 0);
    assert_int_equal(t.insn[0].target2, 0);
    ir_free(&t);
    one_ret(&t, (uint64_t)code + 0x108, 0xc3);                 /* follows no call */
    assert_int_equal(opt_pass_retsites(&t), 0);
    assert_int_equal(t.insn[0].target2, 0);
    ir_free(&t);
    static uint8_t data[64];                                    /* not executable memory */
    one_ret(&t, (uint64_t)data + 5, 0xc3);
    assert_int_equal(opt_pass_retsites(&t), 0);
    ir_free(&t);
    put_call(0x120, 0x1000);                                    /* a site now, but: */
    one_ret(&t, (uint64_t)code + 0x105, 0xff);                  /* jmp *%rax: not a return */
    assert_int_equal(opt_pass_retsites(&t), 0);
    assert_int_equal(t.insn[0].target2, 0);
    ir_free(&t);
    one_ret(&t, (uint64_t)code + 0x105, 0xc3);
    t.insn[0].target = 0;                                       /* lookup only: nothing to add */
    assert_int_equal(opt_pass_retsites(&t), 0);
    assert_int_equal(t.insn[0].target2, 0);
    ir_free(&t);
}

/* Code in a file mapping longer than the file (review of session 5): the page past the
 * file's end is listed executable but raises SIGBUS when read. The scan reads around the
 * return address without faulting and still finds the site on the readable page. */
static void test_unreadable_page(void **s)
{
    (void)s;
    uint8_t page[4096];
    memset(page, 0xcc, sizeof(page));
    int fd = memfd_create("retsites", 0);
    assert_true(fd >= 0);
    uint8_t *saved = code;
    code = page;                                     /* put_call writes into page */
    put_call(3900, 4000);
    put_call(3950, 4000);
    code = saved;
    assert_int_equal(write(fd, page, sizeof(page)), (ssize_t)sizeof(page));
    uint8_t *m = mmap(0, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    assert_true(m != MAP_FAILED);
    ir_trace_t t;
    one_ret(&t, (uint64_t)m + 3905, 0xc3);           /* the window reaches the second page */
    assert_int_equal(opt_pass_retsites(&t), 1);
    assert_int_equal(t.insn[0].target2, (uint64_t)m + 3955);
    ir_free(&t);
    munmap(m, 8192);
    close(fd);
}

/* count: how many times the bytes [b, e) appear in the emitted code. */
static int count(const bb_ctx_t *ctx, const uint8_t *b, const uint8_t *e)
{
    int n = 0;
    for (const uint8_t *p = ctx->start; p + (e - b) <= ctx->p; p++)
        if (!memcmp(p, b, (size_t)(e - b))) n++;
    return n;
}

/* The emitted miss path compares with the second site and has a linked exit to it; without
 * a second site neither is there. Without BMI2 the compare is lea d(%rcx),%rcx ; jrcxz
 * (rcx = target - first site); with it, the check rotates rcx (emit_rot_rcx), the miss
 * path rotates it back and compares with the second site the same way. */
static void test_emit_second_site(void **s)
{
    (void)s;
    for (int bmi2 = 0; bmi2 < 2; bmi2++)
    for (int with = 0; with < 2; with++) {
        if (bmi2 && !__builtin_cpu_supports("bmi2")) continue;
        hp_rt.cpu_bmi2 = bmi2;
        memset(code, 0xcc, 8192);
        put_call(0x100, 0x1000);
        put_call(0x120, 0x1000);
        ir_trace_t t;
        uint64_t t1 = (uint64_t)code + 0x105, t2 = (uint64_t)code + 0x125;
        one_ret(&t, t1, 0xc3);
        if (with) assert_int_equal(opt_pass_retsites(&t), 1);
        bb_ctx_t ctx;
        bb_exit_t exits[8];
        hp_xl_t xl[16];
        unit_emit(&t, (uint64_t)code, &ctx, exits, 8, xl, 16);
        int to_site = 0, to_succ = 0;
        for (int k = 0; k < ctx.nexits; k++) {
            to_site += exits[k].target == t2 && exits[k].kind == LINK_DIRECT;
            to_succ += exits[k].target == t1;
        }
        assert_int_equal(to_site, with);
        assert_int_equal(to_succ, 1);                            /* the path's own exit */
        static const uint8_t lea[] = { 0x48, 0x8d, 0x89, 0xe0, 0xff, 0xff, 0xff, 0xe3, 0x05 };
        assert_int_equal(count(&ctx, lea, lea + sizeof(lea)), bmi2 ? 0 : with);  /* lea -0x20 */
        emit_rot_t r1 = { 0, 0 }, r2 = { 0, 0 };
        assert_true(emit_rot_consts(t1, &r1) && emit_rot_consts(t2, &r2));
        uint8_t seq[32];
        assert_int_equal(count(&ctx, seq, emit_rot_rcx(seq, r1)), bmi2);
        assert_int_equal(count(&ctx, seq, emit_unrot_rcx(seq, r1)), bmi2);
        assert_int_equal(count(&ctx, seq, emit_rot_rcx(seq, r2)), bmi2 && with);
        cache_commit(ctx.start, (size_t)(ctx.p - ctx.start));
        ir_free(&t);
    }
    hp_rt.cpu_bmi2 = 0;
}

int main(void)
{
    code = unit_init(8192);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_finds_other_site),
        cmocka_unit_test(test_nearest_site),
        cmocka_unit_test(test_leaves_alone),
        cmocka_unit_test(test_unreadable_page),
        cmocka_unit_test(test_emit_second_site),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
