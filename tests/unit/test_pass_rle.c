/* test_pass_rle.c — the rle pass (redundant load elimination, store-to-load forwarding) on
 * hand-written instruction sequences, before and after: what it forwards (stores, loads,
 * narrower loads, movzx/movsx, absolute addresses, across side exits and calls, with rsp
 * followed through push/sub/call) and what stops it (writes to the holder, unknown-pointer
 * and overlapping stores, other reads, barriers, opaque instructions, stack pointer
 * changes it cannot follow), the count it returns, and that a rewritten sequence computes
 * exactly what the original does when both run natively. */
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
static uint8_t *run_buf;  /* where a sequence is copied to run natively */

/* build_blocks: the IR of the path through blocks at code+offs[k] of lens[k] instructions. */
static void build_blocks(ir_trace_t *t, const uint8_t *bytes, size_t n, const uint64_t *offs,
                         const uint32_t *lens, int nb)
{
    unit_build_path(t, code, bytes, n, offs, lens, nb);
}

/* build: one block of ninsn instructions (the IR ends with an exit after them). */
static void build(ir_trace_t *t, const uint8_t *bytes, size_t n, uint32_t ninsn)
{
    const uint64_t off = 0;
    build_blocks(t, bytes, n, &off, &ninsn, 1);
    assert_int_equal(t->n, (int)ninsn + 1);
}

/* at: the IR instruction that comes from code offset off (fails when there is none). */
static const ir_insn_t *at(const ir_trace_t *t, uint64_t off)
{
    for (int k = 0; k < t->n; k++)
        if (t->insn[k].kind != IR_EXIT && t->insn[k].app_pc == (uint64_t)code + off)
            return &t->insn[k];
    fail_msg("no instruction from offset %lu", (unsigned long)off);
    return NULL;
}

static int gone(const ir_trace_t *t, uint64_t off)
{
    for (int k = 0; k < t->n; k++)
        if (t->insn[k].kind != IR_EXIT && t->insn[k].app_pc == (uint64_t)code + off) return 0;
    return 1;
}

/* unchanged: the instruction from off still has its original bytes. */
static void unchanged(const ir_trace_t *t, uint64_t off)
{
    const ir_insn_t *i = at(t, off);
    assert_memory_equal(i->bytes, code + off, i->len);
}

/* reg_reg: the instruction from off is now `mn dst, src` between registers. */
static void reg_reg(const ir_trace_t *t, uint64_t off, ZydisMnemonic mn, ZydisRegister dst,
                    ZydisRegister src)
{
    const ir_insn_t *i = at(t, off);
    assert_int_equal(i->zi.mnemonic, mn);
    assert_int_equal(i->zi.operand_count_visible, 2);
    assert_int_equal(i->ops[0].type, ZYDIS_OPERAND_TYPE_REGISTER);
    assert_int_equal(i->ops[1].type, ZYDIS_OPERAND_TYPE_REGISTER);
    assert_int_equal(i->ops[0].reg.value, dst);
    assert_int_equal(i->ops[1].reg.value, src);
}

static void test_store_then_load(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xec,                        /* 0: mov %eax,-0x14(%rbp) */
        0x8b, 0x4d, 0xec,                        /* 3: mov -0x14(%rbp),%ecx */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 2);
    assert_int_equal(opt_pass_rle(&t), 1);
    unchanged(&t, 0);                                            /* stores stay */
    reg_reg(&t, 3, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EAX);
    assert_int_equal(t.n, 3);
    ir_free(&t);
}

/* The -O0 pattern: a value stored and loaded back into the register it came from. The
 * load goes when the register's upper half is known zero (a 32-bit result); else it
 * becomes mov %ecx,%ecx, which clears the upper half as the load would. */
static void test_reload_same_register(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x01, 0xd0,                              /* 0: add %edx,%eax */
        0x89, 0x45, 0xec,                        /* 2: mov %eax,-0x14(%rbp) */
        0x8b, 0x45, 0xec,                        /* 5: mov -0x14(%rbp),%eax */
        0x48, 0x01, 0xd1,                        /* 8: add %rdx,%rcx */
        0x89, 0x4d, 0xe8,                        /* 11: mov %ecx,-0x18(%rbp) */
        0x8b, 0x4d, 0xe8,                        /* 14: mov -0x18(%rbp),%ecx */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 6);
    assert_int_equal(opt_pass_rle(&t), 2);
    assert_true(gone(&t, 5));
    reg_reg(&t, 14, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_ECX);
    assert_int_equal(t.n, 6);
    ir_free(&t);
}

static void test_load_twice(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x48, 0x8b, 0x45, 0xf8,                  /* 0: mov -0x8(%rbp),%rax */
        0x48, 0x8b, 0x4d, 0xf8,                  /* 4: mov -0x8(%rbp),%rcx */
        0x48, 0x8b, 0x45, 0xf8,                  /* 8: mov -0x8(%rbp),%rax */
        0x48, 0x8b, 0x4d, 0xf8,                  /* 12: mov -0x8(%rbp),%rcx */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 4);
    assert_int_equal(opt_pass_rle(&t), 3);
    unchanged(&t, 0);
    reg_reg(&t, 4, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RAX);
    assert_true(gone(&t, 8));                                    /* rax holds it already */
    assert_true(gone(&t, 12));
    assert_int_equal(t.n, 3);
    ir_free(&t);
}

static void test_holder_overwritten(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xec,                        /* 0: mov %eax,-0x14(%rbp) */
        0x83, 0xc0, 0x01,                        /* 3: add $1,%eax */
        0x8b, 0x4d, 0xec,                        /* 6: mov -0x14(%rbp),%ecx */
        0x48, 0x89, 0x55, 0xf8,                  /* 9: mov %rdx,-0x8(%rbp) */
        0xb2, 0x01,                              /* 13: mov $1,%dl (a part) */
        0x48, 0x8b, 0x75, 0xf8,                  /* 15: mov -0x8(%rbp),%rsi */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 6);
    assert_int_equal(opt_pass_rle(&t), 0);
    unchanged(&t, 6);
    unchanged(&t, 15);
    ir_free(&t);
}

/* A store through an unknown pointer (or with an index) may hit the slot. */
static void test_unknown_store(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xec,                        /* 0: mov %eax,-0x14(%rbp) */
        0x89, 0x0f,                              /* 3: mov %ecx,(%rdi) */
        0x8b, 0x55, 0xec,                        /* 5: mov -0x14(%rbp),%edx */
        0x89, 0x45, 0xec,                        /* 8: mov %eax,-0x14(%rbp) */
        0x89, 0x4c, 0xb5, 0xfc,                  /* 11: mov %ecx,-0x4(%rbp,%rsi,4) */
        0x8b, 0x55, 0xec,                        /* 15: mov -0x14(%rbp),%edx */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 6);
    assert_int_equal(opt_pass_rle(&t), 0);
    unchanged(&t, 5);
    unchanged(&t, 15);
    ir_free(&t);
}

/* Loads stay in order (TSO): a load in between ends what the pass knows. */
static void test_other_load_between(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xec,                        /* 0: mov %eax,-0x14(%rbp) */
        0x8b, 0x0f,                              /* 3: mov (%rdi),%ecx */
        0x8b, 0x55, 0xec,                        /* 5: mov -0x14(%rbp),%edx */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 3);
    assert_int_equal(opt_pass_rle(&t), 0);
    unchanged(&t, 5);
    ir_free(&t);
}

static void test_sizes(void **s)
{
    (void)s;
    static const uint8_t wider[] = {
        0x89, 0x45, 0xec,                        /* 0: mov %eax,-0x14(%rbp) */
        0x48, 0x8b, 0x4d, 0xec,                  /* 3: mov -0x14(%rbp),%rcx (8 of 4 bytes) */
    };
    static const uint8_t overlap[] = {
        0x48, 0x89, 0x45, 0xf8,                  /* 0: mov %rax,-0x8(%rbp) */
        0x66, 0xc7, 0x45, 0xfa, 0x01, 0x00,      /* 4: movw $1,-0x6(%rbp) */
        0x8b, 0x4d, 0xf8,                        /* 10: mov -0x8(%rbp),%ecx */
    };
    static const uint8_t narrower[] = {
        0x48, 0x89, 0x45, 0xf8,                  /* 0: mov %rax,-0x8(%rbp) */
        0xc7, 0x45, 0xf4, 0x00, 0x00, 0x00, 0x00, /* 4: movl $0,-0xc(%rbp) (beside) */
        0x8b, 0x4d, 0xf8,                        /* 11: mov -0x8(%rbp),%ecx */
        0x40, 0x8a, 0x7d, 0xf8,                  /* 14: mov -0x8(%rbp),%dil */
        0x40, 0x8a, 0x75, 0xf9,                  /* 18: mov -0x7(%rbp),%sil (not the low byte) */
    };
    ir_trace_t t;
    build(&t, wider, sizeof(wider), 2);
    assert_int_equal(opt_pass_rle(&t), 0);
    unchanged(&t, 3);
    ir_free(&t);
    build(&t, overlap, sizeof(overlap), 3);
    assert_int_equal(opt_pass_rle(&t), 0);
    unchanged(&t, 10);
    ir_free(&t);
    build(&t, narrower, sizeof(narrower), 5);
    assert_int_equal(opt_pass_rle(&t), 2);
    reg_reg(&t, 11, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EAX);
    reg_reg(&t, 14, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_DIL, ZYDIS_REGISTER_AL);
    unchanged(&t, 18);
    ir_free(&t);
}

static void test_barriers(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xec,                        /* 0: mov %eax,-0x14(%rbp) */
        0x0f, 0xae, 0xf0,                        /* 3: mfence */
        0x8b, 0x55, 0xec,                        /* 6: mov -0x14(%rbp),%edx */
        0x89, 0x45, 0xec,                        /* 9: mov %eax,-0x14(%rbp) */
        0xf0, 0x83, 0x4d, 0xc0, 0x00,            /* 12: lock orl $0,-0x40(%rbp) */
        0x8b, 0x55, 0xec,                        /* 17: mov -0x14(%rbp),%edx */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 6);
    assert_int_equal(opt_pass_rle(&t), 0);
    unchanged(&t, 6);
    unchanged(&t, 17);
    ir_free(&t);
}

/* rsp followed through push, sub and lea; `and` makes it unknown. */
static void test_rsp_followed(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x53,                                    /* 0: push %rbx */
        0x89, 0x44, 0x24, 0x04,                  /* 1: mov %eax,0x4(%rsp) */
        0x48, 0x83, 0xec, 0x08,                  /* 5: sub $0x8,%rsp */
        0x48, 0x8d, 0x54, 0x24, 0x10,            /* 9: lea 0x10(%rsp),%rdx */
        0x8b, 0x4c, 0x24, 0x0c,                  /* 14: mov 0xc(%rsp),%ecx (the same slot) */
        0x89, 0x54, 0x24, 0x10,                  /* 18: mov %edx,0x10(%rsp) */
        0x48, 0x83, 0xe4, 0xf0,                  /* 22: and $-16,%rsp */
        0x8b, 0x74, 0x24, 0x10,                  /* 26: mov 0x10(%rsp),%esi */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 8);
    assert_int_equal(opt_pass_rle(&t), 1);
    reg_reg(&t, 14, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EAX);
    unchanged(&t, 26);                        /* would be 18's slot had rsp stayed */
    ir_free(&t);
}

/* rbp and rsp are unrelated (a store through one may hit the other's slots) until
 * mov %rsp,%rbp; a new rbp is unrelated to what was known. */
static void test_rsp_rbp(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xfc,                        /* 0: mov %eax,-0x4(%rbp) */
        0x89, 0x4c, 0x24, 0xf8,                  /* 3: mov %ecx,-0x8(%rsp) */
        0x8b, 0x55, 0xfc,                        /* 7: mov -0x4(%rbp),%edx */
        0x48, 0x89, 0xe5,                        /* 10: mov %rsp,%rbp */
        0x89, 0x45, 0xfc,                        /* 13: mov %eax,-0x4(%rbp) */
        0x89, 0x4c, 0x24, 0xf8,                  /* 16: mov %ecx,-0x8(%rsp) (beside) */
        0x8b, 0x55, 0xfc,                        /* 20: mov -0x4(%rbp),%edx */
        0x48, 0x89, 0xf5,                        /* 23: mov %rsi,%rbp */
        0x8b, 0x7d, 0xfc,                        /* 26: mov -0x4(%rbp),%edi */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 9);
    assert_int_equal(opt_pass_rle(&t), 1);
    unchanged(&t, 7);
    reg_reg(&t, 20, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EAX);
    unchanged(&t, 26);
    ir_free(&t);
}

/* Through a call on the path: the return address goes below the slot, rsp moves down 8. */
static void test_call(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x04, 0x24,                        /* 0: mov %eax,(%rsp) */
        0xe8, 0x08, 0x00, 0x00, 0x00,            /* 3: call 16 */
        0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc, 0xcc,
        0x8b, 0x4c, 0x24, 0x08,                  /* 16: mov 0x8(%rsp),%ecx */
        0x55,                                    /* 20: push %rbp */
        0x48, 0x89, 0xe5,                        /* 21: mov %rsp,%rbp */
        0x8b, 0x55, 0x10,                        /* 24: mov 0x10(%rbp),%edx */
    };
    const uint64_t offs[] = { 0, 16 };
    const uint32_t lens[] = { 2, 4 };
    ir_trace_t t;
    build_blocks(&t, c, sizeof(c), offs, lens, 2);
    assert_int_equal(t.insn[1].kind, IR_CALL);
    assert_int_equal(opt_pass_rle(&t), 2);
    reg_reg(&t, 16, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EAX);
    reg_reg(&t, 24, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EAX);
    ir_free(&t);
}

/* A side exit not taken changes nothing the pass knows. */
static void test_across_side_exit(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xfc,                        /* 0: mov %eax,-0x4(%rbp) */
        0x39, 0xc8,                              /* 3: cmp %ecx,%eax */
        0x74, 0x10,                              /* 5: jz 23 (not taken) */
        0x8b, 0x55, 0xfc,                        /* 7: mov -0x4(%rbp),%edx */
    };
    const uint64_t offs[] = { 0, 7 };
    const uint32_t lens[] = { 3, 1 };
    ir_trace_t t;
    build_blocks(&t, c, sizeof(c), offs, lens, 2);
    assert_int_equal(t.insn[2].kind, IR_JCC);
    assert_int_equal(opt_pass_rle(&t), 1);
    reg_reg(&t, 7, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EAX);
    ir_free(&t);
}

/* RIP-relative addresses compare by their absolute address; stack stores may hit them
 * (rbp may point anywhere) and so may overlapping absolute stores. */
static void test_absolute(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x05, 0x00, 0x10, 0x00, 0x00,      /* 0: mov %eax,0x1000(%rip)  (0x1006) */
        0x8b, 0x0d, 0xfa, 0x0f, 0x00, 0x00,      /* 6: mov 0xffa(%rip),%ecx   (0x1006) */
        0x89, 0x55, 0xfc,                        /* 12: mov %edx,-0x4(%rbp) */
        0x8b, 0x35, 0xf1, 0x0f, 0x00, 0x00,      /* 15: mov 0xff1(%rip),%esi  (0x1006) */
    };
    static const uint8_t c2[] = {
        0x48, 0x89, 0x05, 0x00, 0x10, 0x00, 0x00, /* 0: mov %rax,0x1000(%rip) (0x1007) */
        0xc6, 0x05, 0x01, 0x10, 0x00, 0x00, 0x00, /* 7: movb $0,0x1001(%rip)  (0x100f, beside) */
        0x8b, 0x0d, 0xf3, 0x0f, 0x00, 0x00,      /* 14: mov 0xff3(%rip),%ecx  (0x1007) */
        0xc6, 0x05, 0xee, 0x0f, 0x00, 0x00, 0x00, /* 20: movb $0,0xfee(%rip)  (0x1009, inside) */
        0x8b, 0x15, 0xe6, 0x0f, 0x00, 0x00,      /* 27: mov 0xfe6(%rip),%edx  (0x1007) */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 4);
    assert_int_equal(opt_pass_rle(&t), 1);
    reg_reg(&t, 6, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EAX);
    unchanged(&t, 15);
    ir_free(&t);
    build(&t, c2, sizeof(c2), 5);
    assert_int_equal(opt_pass_rle(&t), 1);
    reg_reg(&t, 14, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_EAX);
    unchanged(&t, 27);
    ir_free(&t);
}

static void test_extending_loads(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xfc,                        /* 0: mov %eax,-0x4(%rbp) */
        0x0f, 0xb6, 0x4d, 0xfc,                  /* 3: movzbl -0x4(%rbp),%ecx */
        0x0f, 0xbf, 0x55, 0xfc,                  /* 7: movswl -0x4(%rbp),%edx */
        0x48, 0x63, 0x75, 0xfc,                  /* 11: movslq -0x4(%rbp),%rsi */
        0x0f, 0xb7, 0x7d, 0xfe,                  /* 15: movzwl -0x2(%rbp),%edi (upper half) */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 5);
    assert_int_equal(opt_pass_rle(&t), 3);
    reg_reg(&t, 3, ZYDIS_MNEMONIC_MOVZX, ZYDIS_REGISTER_ECX, ZYDIS_REGISTER_AL);
    reg_reg(&t, 7, ZYDIS_MNEMONIC_MOVSX, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_AX);
    reg_reg(&t, 11, ZYDIS_MNEMONIC_MOVSXD, ZYDIS_REGISTER_RSI, ZYDIS_REGISTER_EAX);
    unchanged(&t, 15);
    ir_free(&t);
}

/* An opaque instruction (a segment register read, which an_effects does not model; clzero,
 * whose store names no memory operand) ends all knowledge. */
static void test_opaque_between(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x45, 0xfc,                        /* 0: mov %eax,-0x4(%rbp) */
        0x8b, 0x55, 0xfc,                        /* 3: mov -0x4(%rbp),%edx */
        0x8c, 0xd9,                              /* 6: mov %ds,%ecx */
        0x8b, 0x75, 0xfc,                        /* 8: mov -0x4(%rbp),%esi */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 4);
    assert_int_equal(opt_pass_rle(&t), 1);
    reg_reg(&t, 3, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EAX);
    unchanged(&t, 8);
    ir_free(&t);
    static const uint8_t z[] = {                 /* clzero: a store through rax that names */
        0x89, 0x3c, 0x24,                        /* 0: mov %edi,(%rsp)     no memory operand */
        0x48, 0x89, 0xe0,                        /* 3: mov %rsp,%rax */
        0x0f, 0x01, 0xfc,                        /* 6: clzero */
        0x8b, 0x34, 0x24,                        /* 9: mov (%rsp),%esi */
    };
    build(&t, z, sizeof(z), 4);
    assert_int_equal(opt_pass_rle(&t), 0);       /* (a review found %esi read from %edi) */
    unchanged(&t, 9);
    ir_free(&t);
}

/* What gcc -O0 makes of: int f(int a, int b) { int x = a + b; int y = x * 3;
 * int z = y - a; return z + x; } */
static void test_gcc_O0_function(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x55,                                    /* 0: push %rbp */
        0x48, 0x89, 0xe5,                        /* 1: mov %rsp,%rbp */
        0x89, 0x7d, 0xec,                        /* 4: mov %edi,-0x14(%rbp) */
        0x89, 0x75, 0xe8,                        /* 7: mov %esi,-0x18(%rbp) */
        0x8b, 0x55, 0xec,                        /* 10: mov -0x14(%rbp),%edx    -> %edi */
        0x8b, 0x45, 0xe8,                        /* 13: mov -0x18(%rbp),%eax    -> %esi */
        0x01, 0xd0,                              /* 16: add %edx,%eax */
        0x89, 0x45, 0xfc,                        /* 18: mov %eax,-0x4(%rbp) */
        0x8b, 0x55, 0xfc,                        /* 21: mov -0x4(%rbp),%edx     -> %eax */
        0x89, 0xd0,                              /* 24: mov %edx,%eax */
        0x01, 0xc0,                              /* 26: add %eax,%eax */
        0x01, 0xd0,                              /* 28: add %edx,%eax */
        0x89, 0x45, 0xf8,                        /* 30: mov %eax,-0x8(%rbp) */
        0x8b, 0x45, 0xf8,                        /* 33: mov -0x8(%rbp),%eax     gone */
        0x2b, 0x45, 0xec,                        /* 36: sub -0x14(%rbp),%eax    -> %edi */
        0x89, 0x45, 0xf4,                        /* 39: mov %eax,-0xc(%rbp) */
        0x8b, 0x55, 0xf4,                        /* 42: mov -0xc(%rbp),%edx     -> %eax */
        0x8b, 0x45, 0xfc,                        /* 45: mov -0x4(%rbp),%eax     stays */
        0x01, 0xd0,                              /* 48: add %edx,%eax */
        0x5d,                                    /* 50: pop %rbp */
        0xc3,                                    /* 51: ret */
    };
    const uint64_t off = 0;
    const uint32_t len = 21;
    ir_trace_t t;
    build_blocks(&t, c, sizeof(c), &off, &len, 1);
    assert_int_equal(t.n, 21);                                   /* the ret ends it */
    assert_int_equal(t.insn[20].kind, IR_IND);
    assert_int_equal(opt_pass_rle(&t), 6);
    assert_int_equal(t.n, 20);
    reg_reg(&t, 10, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EDI);
    reg_reg(&t, 13, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_ESI);
    reg_reg(&t, 21, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EAX);
    assert_true(gone(&t, 33));
    reg_reg(&t, 36, ZYDIS_MNEMONIC_SUB, ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_EDI);
    reg_reg(&t, 42, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EDX, ZYDIS_REGISTER_EAX);
    unchanged(&t, 45);
    ir_free(&t);
}

/* ==== running a sequence natively ==== */

/* run_native(regs, fn): registers rax..r15 (rsp ignored) from regs[16], call fn, and write
 * the registers back to regs. */
void run_native(uint64_t *regs, const void *fn);
void *run_native_fn;
__asm__(
    ".text\n"
    "run_native:\n"
    "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "  push %rdi\n"
    "  mov %rsi, run_native_fn(%rip)\n"
    "  mov 0(%rdi), %rax; mov 8(%rdi), %rcx; mov 16(%rdi), %rdx; mov 24(%rdi), %rbx\n"
    "  mov 40(%rdi), %rbp; mov 48(%rdi), %rsi; mov 64(%rdi), %r8; mov 72(%rdi), %r9\n"
    "  mov 80(%rdi), %r10; mov 88(%rdi), %r11; mov 96(%rdi), %r12; mov 104(%rdi), %r13\n"
    "  mov 112(%rdi), %r14; mov 120(%rdi), %r15; mov 56(%rdi), %rdi\n"
    "  call *run_native_fn(%rip)\n"
    "  xchg %rdi, (%rsp)\n"
    "  mov %rax, 0(%rdi); mov %rcx, 8(%rdi); mov %rdx, 16(%rdi); mov %rbx, 24(%rdi)\n"
    "  mov %rbp, 40(%rdi); mov %rsi, 48(%rdi); mov %r8, 64(%rdi); mov %r9, 72(%rdi)\n"
    "  mov %r10, 80(%rdi); mov %r11, 88(%rdi); mov %r12, 96(%rdi); mov %r13, 104(%rdi)\n"
    "  mov %r14, 112(%rdi); mov %r15, 120(%rdi)\n"
    "  pop %rax; mov %rax, 56(%rdi)\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "  ret\n");

/* run_sequence: run n bytes of code (no rsp use, no RIP-relative operands) with rbp in the
 * middle of a frame and every other register holding a pattern with its upper half set;
 * the registers and the frame afterwards go to regs and frame. */
static void run_sequence(const uint8_t *bytes, size_t n, uint64_t *regs, uint8_t *frame)
{
    static uint8_t mem[256];
    memcpy(run_buf, bytes, n);
    run_buf[n] = 0xc3;
    for (int r = 0; r < 16; r++) regs[r] = 0x8badf00d00000000ull ^ (0x0123456789abcdefull * (uint64_t)(r + 1));
    for (int b = 0; b < 256; b++) mem[b] = (uint8_t)(0xa5 ^ b);
    regs[5] = (uint64_t)(mem + 128);
    run_native(regs, run_buf);
    memcpy(frame, mem, sizeof(mem));
}

/* Every kind of rewrite the pass makes, run before and after: the same registers and the
 * same memory. */
static void test_same_results(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0x89, 0x7d, 0xec,                        /* 0: mov %edi,-0x14(%rbp) */
        0x8b, 0x45, 0xec,                        /* 3: mov -0x14(%rbp),%eax     -> %edi */
        0x83, 0xc0, 0x01,                        /* 6: add $1,%eax */
        0x89, 0x45, 0xfc,                        /* 9: mov %eax,-0x4(%rbp) */
        0x8b, 0x45, 0xfc,                        /* 12: mov -0x4(%rbp),%eax     gone */
        0x0f, 0xaf, 0xc0,                        /* 15: imul %eax,%eax */
        0x89, 0x45, 0xf8,                        /* 18: mov %eax,-0x8(%rbp) */
        0x8b, 0x55, 0xf8,                        /* 21: mov -0x8(%rbp),%edx     -> %eax */
        0x48, 0x89, 0x75, 0xe0,                  /* 24: mov %rsi,-0x20(%rbp) */
        0x8b, 0x4d, 0xe0,                        /* 28: mov -0x20(%rbp),%ecx    -> %esi */
        0x66, 0x8b, 0x5d, 0xe0,                  /* 31: mov -0x20(%rbp),%bx     -> %si */
        0x44, 0x0f, 0xb6, 0x45, 0xe0,            /* 35: movzbl -0x20(%rbp),%r8d -> %sil */
        0x4c, 0x63, 0x4d, 0xe0,                  /* 40: movslq -0x20(%rbp),%r9  -> %esi */
        0x48, 0x89, 0xf0,                        /* 44: mov %rsi,%rax */
        0x89, 0x45, 0xd8,                        /* 47: mov %eax,-0x28(%rbp) */
        0x8b, 0x45, 0xd8,                        /* 50: mov -0x28(%rbp),%eax    -> %eax */
        0x44, 0x88, 0x55, 0xd0,                  /* 53: mov %r10b,-0x30(%rbp) */
        0x44, 0x8a, 0x55, 0xd0,                  /* 57: mov -0x30(%rbp),%r10b   gone */
        0x44, 0x8a, 0x5d, 0xd0,                  /* 61: mov -0x30(%rbp),%r11b   -> %r10b */
        0x66, 0x44, 0x0f, 0xbe, 0x65, 0xd0,      /* 65: movsbw -0x30(%rbp),%r12w -> %r10b */
        0x48, 0x8b, 0x75, 0xe0,                  /* 71: mov -0x20(%rbp),%rsi    gone */
        0x44, 0x8b, 0x6d, 0xe0,                  /* 75: mov -0x20(%rbp),%r13d   -> %esi */
    };
    ir_trace_t t;
    build(&t, c, sizeof(c), 22);
    assert_int_equal(opt_pass_rle(&t), 13);
    assert_int_equal(t.n, 20);
    reg_reg(&t, 50, ZYDIS_MNEMONIC_MOV, ZYDIS_REGISTER_EAX, ZYDIS_REGISTER_EAX);
    uint8_t after[128];
    size_t n = 0;
    for (int k = 0; k < t.n; k++) {
        if (t.insn[k].kind != IR_COPY) continue;
        memcpy(after + n, t.insn[k].bytes, t.insn[k].len);
        n += t.insn[k].len;
    }
    assert_true(n < sizeof(c));
    uint64_t r0[16], r1[16];
    uint8_t f0[256], f1[256];
    run_sequence(c, sizeof(c), r0, f0);
    run_sequence(after, n, r1, f1);
    for (int r = 0; r < 16; r++)
        if (r != 4) assert_int_equal(r0[r], r1[r]);
    assert_memory_equal(f0, f1, sizeof(f0));
    ir_free(&t);
}

int main(void)
{
    code = unit_init(8192);
    run_buf = code + 4096;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_then_load),
        cmocka_unit_test(test_reload_same_register),
        cmocka_unit_test(test_load_twice),
        cmocka_unit_test(test_holder_overwritten),
        cmocka_unit_test(test_unknown_store),
        cmocka_unit_test(test_other_load_between),
        cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_barriers),
        cmocka_unit_test(test_rsp_followed),
        cmocka_unit_test(test_rsp_rbp),
        cmocka_unit_test(test_call),
        cmocka_unit_test(test_across_side_exit),
        cmocka_unit_test(test_absolute),
        cmocka_unit_test(test_extending_loads),
        cmocka_unit_test(test_opaque_between),
        cmocka_unit_test(test_gcc_O0_function),
        cmocka_unit_test(test_same_results),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
