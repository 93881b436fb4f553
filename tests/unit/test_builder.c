/* test_builder.c — the block builder, one test per instruction kind: what it emits is
 * decoded back with Zydis and checked against what the app instruction must do. */
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
#include "emit.h"
#include "heap.h"
#include "syscalls.h"

/* App code lives in this buffer; its "app pc" is its own address. */
static uint8_t app[256] __attribute__((aligned(64)));

typedef struct {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    uint64_t addr;
} insn_t;

/* Decode the translation of a block: up to max instructions from its cache start. */
static int decode_cache(const hp_block_t *b, insn_t *out, int max)
{
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint64_t p = (uint64_t)b->cache_pc;
    int n = 0;
    while (n < max && p < (uint64_t)b->cache_pc + b->cache_size) {
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, (void *)p, 15, &out[n].in, out[n].ops))) break;
        out[n].addr = p;
        p += out[n].in.length;
        if (out[n].in.mnemonic == ZYDIS_MNEMONIC_NOP) continue;   /* alignment padding */
        n++;
    }
    return n;
}

static uint64_t branch_target(const insn_t *i)
{
    return i->addr + i->in.length + (uint64_t)i->ops[0].imm.value.s;
}

static hp_block_t *build(const uint8_t *bytes, size_t n, hp_status_t expect)
{
    memset(app, 0xcc, sizeof(app));
    memcpy(app, bytes, n);
    hp_block_t *b = NULL;
    const char *why = "";
    hp_status_t st = builder_build_at((uint64_t)app, app, (uint64_t)app + sizeof(app), &b, &why);
    assert_int_equal(st, expect);
    return b;
}

/* The stub an exit jumps to must load the link record for `target`. */
static hp_link_t *exit_link(const hp_block_t *b, uint64_t stub)
{
    for (hp_link_t *l = b->exits; l; l = l->next)
        if ((uint64_t)l->stub == stub) return l;
    return NULL;
}

static void test_plain_copy(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x48, 0x01, 0xd8, 0x48, 0x89, 0xc1, 0xeb, 0x00 };  /* add; mov; jmp +0 */
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    assert_memory_equal(b->cache_pc, code, 6);
    assert_int_equal(b->n_insns, 3);
    insn_t ins[8];
    int n = decode_cache(b, ins, 8);
    assert_true(n >= 3);
    assert_int_equal(ins[2].in.mnemonic, ZYDIS_MNEMONIC_JMP);
    hp_link_t *l = exit_link(b, branch_target(&ins[2]));
    assert_non_null(l);
    assert_int_equal(l->kind, LINK_DIRECT);
    assert_int_equal(l->target, (uint64_t)app + 8);
}

static void test_rip_relative(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x48, 0x8b, 0x05, 0x00, 0x01, 0x00, 0x00, 0xc3 };  /* mov 0x100(%rip),%rax; ret */
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    insn_t ins[4];
    decode_cache(b, ins, 4);
    assert_int_equal(ins[0].in.mnemonic, ZYDIS_MNEMONIC_MOV);
    assert_int_equal(ins[0].ops[1].mem.base, ZYDIS_REGISTER_RIP);
    uint64_t abs = 0;
    ZydisCalcAbsoluteAddress(&ins[0].in, &ins[0].ops[1], ins[0].addr, &abs);
    assert_int_equal(abs, (uint64_t)app + 7 + 0x100);
}

static void test_jcc(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x85, 0xc0, 0x74, 0x10 };   /* test %eax,%eax; jz +0x10 */
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    insn_t ins[4];
    decode_cache(b, ins, 4);
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_JZ);
    assert_int_equal(ins[1].in.length, 6);                     /* rel32 form */
    assert_int_equal(exit_link(b, branch_target(&ins[1]))->target, (uint64_t)app + 4 + 0x10);
    assert_int_equal(ins[2].in.mnemonic, ZYDIS_MNEMONIC_JMP);
    assert_int_equal(exit_link(b, branch_target(&ins[2]))->target, (uint64_t)app + 4);
}

static void test_call_direct_pushes_app_return(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xe8, 0x20, 0x00, 0x00, 0x00 };   /* call +0x20 */
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    insn_t ins[6];
    int n = decode_cache(b, ins, 6);
    /* pushq ret(%rip) (one 8-byte store; app is above 2 GiB); jmp stub */
    uint64_t ret = (uint64_t)app + 5, slot = 0;
    assert_true(n >= 2);
    assert_int_equal(ins[0].in.mnemonic, ZYDIS_MNEMONIC_PUSH);
    assert_int_equal(ins[0].ops[0].mem.base, ZYDIS_REGISTER_RIP);
    ZydisCalcAbsoluteAddress(&ins[0].in, &ins[0].ops[0], ins[0].addr, &slot);
    assert_int_equal(*(uint64_t *)slot, ret);
    assert_true(slot >= (uint64_t)b->cache_pc && slot + 8 <= (uint64_t)b->cache_pc + b->cache_size);
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_JMP);
    assert_int_equal(exit_link(b, branch_target(&ins[1]))->target, (uint64_t)app + 5 + 0x20);
}

static void test_ret_uses_lookup(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xc2, 0x10, 0x00 };          /* ret $0x10 */
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    insn_t ins[4];
    decode_cache(b, ins, 4);
    assert_int_equal(ins[0].in.mnemonic, ZYDIS_MNEMONIC_MOV);   /* mov %rcx,%gs:T_SPILL_RCX */
    assert_int_equal(ins[0].ops[0].mem.segment, ZYDIS_REGISTER_GS);
    assert_int_equal(ins[0].ops[0].mem.disp.value, T_SPILL_RCX);
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_POP);
    assert_int_equal(ins[1].ops[0].reg.value, ZYDIS_REGISTER_RCX);
    assert_int_equal(ins[2].in.mnemonic, ZYDIS_MNEMONIC_LEA);   /* the $0x10 */
    assert_int_equal(ins[2].ops[1].mem.disp.value, 0x10);
    uint8_t tmpl[256];
    size_t tl = (size_t)(bb_ibl(tmpl) - tmpl);
    assert_memory_equal((uint8_t *)ins[3].addr, tmpl, tl);
    assert_null(b->exits);                                      /* no stub: the lookup exits */
}

/* The lookup's hit counter is only copied when statistics are written. */
static void test_ibl_counter_with_stats(void **s)
{
    (void)s;
    uint8_t a[256], b[256];
    size_t plain = (size_t)(bb_ibl(a) - a);
    hp_rt.opts.stats_json[0] = 'x';
    size_t counted = (size_t)(bb_ibl(b) - b);
    hp_rt.opts.stats_json[0] = 0;
    assert_int_equal(counted, plain + (size_t)(hp_ibl_tmpl_count_end - hp_ibl_tmpl_count));
    assert_memory_equal(a, b, (size_t)(hp_ibl_tmpl_count - hp_ibl_tmpl_begin));
}

static void check_indirect(const uint8_t *code, size_t n, int is_call, ZydisOperandType optype)
{
    hp_block_t *b = build(code, n, HP_OK);
    insn_t ins[8];
    decode_cache(b, ins, 8);
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_MOV);
    assert_int_equal(ins[1].ops[0].reg.value, ZYDIS_REGISTER_RCX);
    assert_int_equal(ins[1].ops[1].type, optype);
    int k = 2;
    if (is_call) {
        uint64_t slot = 0;
        assert_int_equal(ins[2].in.mnemonic, ZYDIS_MNEMONIC_PUSH);
        ZydisCalcAbsoluteAddress(&ins[2].in, &ins[2].ops[0], ins[2].addr, &slot);
        assert_int_equal(*(uint64_t *)slot, (uint64_t)app + n);
        k = 3;
    }
    uint8_t tmpl[256];
    size_t tl = (size_t)(bb_ibl(tmpl) - tmpl);
    assert_memory_equal((uint8_t *)ins[k].addr, tmpl, tl);
}

static void test_indirect_jmp_reg(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x41, 0xff, 0xe3 };          /* jmp *%r11 */
    check_indirect(code, sizeof(code), 0, ZYDIS_OPERAND_TYPE_REGISTER);
}

static void test_indirect_jmp_mem(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xff, 0x24, 0xc5, 0x00, 0x10, 0x00, 0x00 };  /* jmp *0x1000(,%rax,8) */
    check_indirect(code, sizeof(code), 0, ZYDIS_OPERAND_TYPE_MEMORY);
}

static void test_indirect_call_rip(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0xff, 0x15, 0x40, 0x00, 0x00, 0x00 };   /* call *0x40(%rip) */
    check_indirect(code, sizeof(code), 1, ZYDIS_OPERAND_TYPE_MEMORY);
    insn_t ins[2];
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    decode_cache(b, ins, 2);
    uint64_t abs = 0;
    ZydisCalcAbsoluteAddress(&ins[1].in, &ins[1].ops[1], ins[1].addr, &abs);
    assert_int_equal(abs, (uint64_t)app + 6 + 0x40);
}

static void test_jrcxz_and_loop(void **s)
{
    (void)s;
    static const uint8_t jr[] = { 0xe3, 0x30 };                 /* jrcxz +0x30 */
    static const uint8_t lp[] = { 0xe2, 0xfe };                 /* loop .  */
    const uint8_t *codes[] = { jr, lp };
    const int64_t rel[] = { 0x30, -2 };
    for (int k = 0; k < 2; k++) {
        hp_block_t *b = build(codes[k], 2, HP_OK);
        insn_t ins[4];
        decode_cache(b, ins, 4);
        assert_int_equal(ins[0].in.opcode, codes[k][0]);
        uint64_t taken = branch_target(&ins[0]);                 /* taken: past the jmp, */
        assert_true(taken > ins[1].addr && taken <= ins[2].addr); /* onto padding or the jmp */
        assert_int_equal(exit_link(b, branch_target(&ins[1]))->target, (uint64_t)app + 2);
        assert_int_equal(exit_link(b, branch_target(&ins[2]))->target, (uint64_t)app + 2 + rel[k]);
    }
}

static void test_syscall_inline_check(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xc3 };   /* syscall; mov %rax,%rdi; ret */
    hp_block_t *b = build(code, sizeof(code), HP_OK);
    insn_t ins[12];
    int n = decode_cache(b, ins, 12);
    int sc = -1;
    for (int i = 0; i < n; i++) if (ins[i].in.mnemonic == ZYDIS_MNEMONIC_SYSCALL) sc = i;
    assert_true(sc >= 2);
    assert_int_equal(ins[sc - 2].in.mnemonic, ZYDIS_MNEMONIC_JRCXZ);
    hp_link_t *l = exit_link(b, branch_target(&ins[sc - 1]));
    assert_int_equal(l->kind, LINK_SYSCALL);
    assert_int_equal(l->target, (uint64_t)app);
    /* after the syscall rcx holds the app's next pc, and the block goes on */
    assert_int_equal(ins[sc + 1].ops[1].imm.value.u, (uint64_t)app + 2);
    assert_memory_equal((uint8_t *)ins[sc + 2].addr, code + 2, 3);
}

static void test_unsupported_ends_block(void **s)
{
    (void)s;
    static const uint8_t first[] = { 0xcd, 0x80 };              /* int $0x80 */
    assert_null(build(first, sizeof(first), HP_ERR_UNSUPPORTED));
    static const uint8_t later[] = { 0x90, 0xcd, 0x80 };        /* nop; int $0x80 */
    hp_block_t *b = build(later, sizeof(later), HP_OK);
    assert_int_equal(b->n_insns, 1);
    assert_int_equal(b->exits->target, (uint64_t)app + 1);
    static const uint8_t gs[] = { 0x65, 0x48, 0x8b, 0x04, 0x25, 0, 0, 0, 0 };   /* mov %gs:0,%rax */
    assert_null(build(gs, sizeof(gs), HP_ERR_UNSUPPORTED));
}

static void test_undecodable_and_truncated(void **s)
{
    (void)s;
    static const uint8_t bad[] = { 0x0f, 0x0b };                 /* ud2 decodes: copied */
    assert_non_null(build(bad, sizeof(bad), HP_OK));
    hp_block_t *b = NULL;
    const char *why;
    memset(app, 0, sizeof(app));
    app[0] = 0x48;                                               /* REX then the limit */
    assert_int_equal(builder_build_at((uint64_t)app, app, (uint64_t)app + 1, &b, &why), HP_ERR_DECODE);
}

static void test_max_block_insns(void **s)
{
    (void)s;
    uint8_t nops[200];
    memset(nops, 0x90, sizeof(nops));
    hp_rt.opts.max_block_insns = 10;
    hp_block_t *b = build(nops, sizeof(nops), HP_OK);
    hp_rt.opts.max_block_insns = 64;
    assert_int_equal(b->n_insns, 10);
    assert_int_equal(b->exits->target, (uint64_t)app + 10);
}

/* Every exit a link may patch has its rel32 within one aligned 8-byte block (one atomic
 * store on Intel and AMD), and the padding that ensures it comes only when needed: at every
 * position mod 64, the test stays next to its jz (so the CPU can fuse them) unless the
 * field would cross such a block. */
static void test_exit_fields_aligned(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x90, 0x85, 0xc0, 0x74, 0x10 };   /* nop; test; jz */
    int padded = 0;
    for (int shift = 0; shift < 64; shift++) {
        uint8_t buf[80];                             /* shift bytes in few instructions: */
        memset(buf, 0x90, sizeof(buf));              /* mov $0,%eax (5 bytes) and nops */
        for (int k = 0; k + 5 <= shift; k += 5) memcpy(buf + k, "\xb8\0\0\0\0", 5);
        memcpy(buf + shift, code, sizeof(code));
        hp_block_t *b = build(buf, shift + sizeof(code), HP_OK);
        int n = 0;
        for (hp_link_t *l = b->exits; l; l = l->next, n++)
            assert_true(((uint64_t)l->branch_rel32 & 7) <= 4);      /* within an aligned quadword */
        const uint8_t *jz = b->exits->branch_rel32 - 2;             /* the jz's 0f 84 */
        for (hp_link_t *l = b->exits; l; l = l->next)
            if (l->branch_rel32 < jz + 2) jz = l->branch_rel32 - 2;
        assert_int_equal(jz[0], 0x0f);
        const uint8_t *q = jz;                                      /* where it would start */
        while (q[-1] == 0x90) q--;
        assert_int_equal(q[-1], 0xc0);                              /* test %eax,%eax before */
        assert_int_equal(q != jz, ((uint64_t)(q + 2) & 7) > 4);      /* padded iff needed */
        padded += q != jz;
        assert_int_equal(n, 2);
    }
    assert_true(padded > 0 && padded <= 24);                         /* 3 in 8 */
}

/* Code the app can write: the entry compares the app bytes (8, 2 and 1 byte pieces for 11
 * bytes) before jumping to the body, and a mismatch leaves through a LINK_SMC exit. */
static void test_smc_check(void **s)
{
    (void)s;
    static const uint8_t code[] = { 0x48, 0x01, 0xd8, 0x48, 0x01, 0xd8, 0x48, 0x01, 0xd8,
                                    0x90, 0xc3 };                     /* 3x add; nop; ret: 11 bytes */
    memset(app, 0xcc, sizeof(app));
    memcpy(app, code, sizeof(code));
    hp_block_t *b = NULL;
    const char *why;
    assert_int_equal(builder_build_checked((uint64_t)app, app, (uint64_t)app + sizeof(app), 1, &b, &why), HP_OK);
    assert_true(b->smc_checked);
    assert_ptr_not_equal(b->cache_pc, b->cache_start);
    assert_memory_equal(b->cache_start, code, 10);                    /* the body is copied */
    hp_link_t *smc = NULL;
    for (hp_link_t *l = b->exits; l; l = l->next) if (l->kind == LINK_SMC) smc = l;
    assert_non_null(smc);
    assert_int_equal(smc->target, (uint64_t)app);
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    int cmps = 0, sizes = 0;
    uint64_t p = (uint64_t)b->cache_pc;
    for (int i = 0; i < 40; i++) {
        assert_true(ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, (void *)p, 15, &in, ops)));
        if (in.mnemonic == ZYDIS_MNEMONIC_CMP) { cmps++; sizes += ops[0].size / 8; }
        if (in.mnemonic == ZYDIS_MNEMONIC_JMP) {                      /* to the body */
            assert_int_equal(p + in.length + (uint64_t)ops[0].imm.value.s, (uint64_t)b->cache_start);
            break;
        }
        p += in.length;
    }
    assert_int_equal(cmps, 3);
    assert_int_equal(sizes, 11);
}

/* emit_rot_rcx (emit.h), run natively: rcx becomes 0 exactly when it held T, for return
 * addresses of every shape (low half with its top bit set or clear, high halves of
 * PIE, non-PIE and library code, neighbours that differ in one bit of either half), and
 * emit_unrot_rcx gives rcx back; constants that cannot be encoded are refused. */
static uint64_t rot_run(uint8_t *buf, emit_rot_t r, int undo, uint64_t v)
{
    uint8_t *p = buf;
    p = emit_u8(p, 0x48); p = emit_u8(p, 0x89); p = emit_u8(p, 0xf9);   /* mov %rdi,%rcx */
    p = emit_rot_rcx(p, r);
    if (undo) p = emit_unrot_rcx(p, r);
    p = emit_u8(p, 0x48); p = emit_u8(p, 0x89); p = emit_u8(p, 0xc8);   /* mov %rcx,%rax */
    emit_u8(p, 0xc3);                                                    /* ret */
    return ((uint64_t (*)(uint64_t))(void *)buf)(v);
}

static void test_rot_compare(void **s)
{
    (void)s;
    if (!__builtin_cpu_supports("bmi2")) { skip(); return; }
    uint8_t *buf = mmap(0, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    assert_true(buf != MAP_FAILED);
    static const uint64_t ts[] = { 0x555555555149ull, 0x5555d0001234ull, 0x401136ull, 0x80001000ull,
                                   0x7ffff7e2a1cfull, 0x7fffffffffffull, 0x100000000ull, 0xffffffffull,
                                   0x7f0080000000ull + 5, 0x12345678ull, 0xffffffffff600000ull };
    uint64_t x = 88172645463325252ull;                                   /* xorshift */
    for (unsigned i = 0; i < sizeof(ts) / sizeof(ts[0]); i++) {
        uint64_t t = ts[i];
        emit_rot_t r;
        assert_true(emit_rot_consts(t, &r));
        assert_int_equal(rot_run(buf, r, 0, t), 0);
        for (int b = 0; b < 64; b++) {                                   /* one bit off */
            assert_int_not_equal(rot_run(buf, r, 0, t ^ (1ull << b)), 0);
            assert_int_equal(rot_run(buf, r, 1, t ^ (1ull << b)), t ^ (1ull << b));
        }
        for (int k = 0; k < 200; k++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            uint64_t v = k & 1 ? (t & ~0xffffffffull) | (x & 0xffffffffull) : x;
            assert_int_equal(rot_run(buf, r, 0, v) == 0, v == t);
            assert_int_equal(rot_run(buf, r, 1, v), v);
        }
    }
    emit_rot_t r;
    assert_false(emit_rot_consts(0x555580000000ull, &r));               /* D = INT32_MIN */
    assert_false(emit_rot_consts(0xffff800000001000ull, &r));           /* kernel half */
    munmap(buf, 4096);
}

int main(void)
{
    hp_options_default(&hp_rt.opts);
    builder_init();
    syscalls_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_copy),
        cmocka_unit_test(test_rip_relative),
        cmocka_unit_test(test_jcc),
        cmocka_unit_test(test_call_direct_pushes_app_return),
        cmocka_unit_test(test_ret_uses_lookup),
        cmocka_unit_test(test_ibl_counter_with_stats),
        cmocka_unit_test(test_indirect_jmp_reg),
        cmocka_unit_test(test_indirect_jmp_mem),
        cmocka_unit_test(test_indirect_call_rip),
        cmocka_unit_test(test_jrcxz_and_loop),
        cmocka_unit_test(test_syscall_inline_check),
        cmocka_unit_test(test_unsupported_ends_block),
        cmocka_unit_test(test_undecodable_and_truncated),
        cmocka_unit_test(test_max_block_insns),
        cmocka_unit_test(test_exit_fields_aligned),
        cmocka_unit_test(test_rot_compare),
        cmocka_unit_test(test_smc_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
