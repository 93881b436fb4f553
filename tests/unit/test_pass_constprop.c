/* test_pass_constprop.c — the constprop pass (optimizer/pass_constprop.c) on hand-written
 * paths, before and after: register sources to immediates, folding to mov, strength
 * reduction, lea folding, copy propagation; and what it must leave alone: registers
 * redefined (whole, in part, implicitly, by opaque instructions, by a syscall), flags live
 * after a would-be change, a fault in the would-be inexact region, immediates that do not
 * fit. Then a differential check: deterministic random sequences of integer instructions
 * run natively before and after the pass, from the same registers and flags, must end (and
 * pass every exit) with the same registers and flags. */
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
#include "unit_init.h"

static uint8_t *code;     /* app code: an executable mapping the IR builder reads */
static ir_trace_t t;

/* build: the IR of the path through blocks at offs[] of lens[] instructions. */
static void build(const uint8_t *bytes, size_t n, const uint64_t *offs, const uint32_t *lens, int nb)
{
    memset(code, 0xcc, 4096);
    memcpy(code, bytes, n);
    uint64_t pcs[8];
    for (int i = 0; i < nb; i++) pcs[i] = (uint64_t)code + offs[i];
    const char *why = "";
    assert_int_equal(ir_init(&t, 64), HP_OK);
    assert_int_equal(ir_build_path(&t, pcs, lens, nb, &why), HP_OK);
}

/* cp: one block of the sequence (its instructions, then the exit), and the pass over it. */
static int cp(const uint8_t *bytes, size_t n, uint32_t ninsn)
{
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { ninsn };
    build(bytes, n, offs, lens, 1);
    return opt_pass_constprop(&t);
}

static void expect(int k, const uint8_t *bytes, size_t n)
{
    assert_int_equal(t.insn[k].len, n);
    assert_memory_equal(t.insn[k].bytes, bytes, n);
}

#define RUN(n, ...) do { static const uint8_t c_[] = { __VA_ARGS__ }; \
                         nchanged = cp(c_, sizeof(c_), (n)); } while (0)
#define EXPECT(k, ...) do { static const uint8_t e_[] = { __VA_ARGS__ }; expect((k), e_, sizeof(e_)); } while (0)
/* the instruction is still the app's own */
#define UNCHANGED(k) assert_memory_equal(t.insn[k].bytes, (const void *)t.insn[k].app_pc, t.insn[k].len)
#define INEXACT(k) (t.insn[k].flags & IR_F_INEXACT)

static int nchanged;

static void test_reg_to_imm(void **s)
{
    (void)s;
    RUN(2, 0xb9, 0x05, 0, 0, 0,                     /* mov $5,%ecx */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax  (flags live: the exit) */
    assert_int_equal(nchanged, 1);
    UNCHANGED(0);
    EXPECT(1, 0x48, 0x83, 0xc0, 0x05);              /* add $5,%rax: same value, same flags */
    assert_false(INEXACT(2));
    ir_free(&t);
    RUN(2, 0xb9, 0x04, 0, 0, 0,                     /* mov $4,%ecx */
           0x39, 0x4d, 0xf8);                       /* cmp %ecx,-8(%rbp) */
    EXPECT(1, 0x83, 0x7d, 0xf8, 0x04);              /* cmpl $4,-8(%rbp) */
    ir_free(&t);
    RUN(2, 0xb9, 0x07, 0, 0, 0,                     /* mov $7,%ecx */
           0x89, 0x4d, 0xfc);                       /* mov %ecx,-4(%rbp) */
    EXPECT(1, 0xc7, 0x45, 0xfc, 0x07, 0, 0, 0);     /* movl $7,-4(%rbp) */
    ir_free(&t);
    RUN(2, 0xb9, 0x07, 0, 0, 0,                     /* mov $7,%ecx */
           0x64, 0x89, 0x0c, 0x25, 0x10, 0, 0, 0);  /* mov %ecx,%fs:0x10 */
    EXPECT(1, 0x64, 0xc7, 0x04, 0x25, 0x10, 0, 0, 0, 0x07, 0, 0, 0);   /* movl $7,%fs:0x10 */
    ir_free(&t);
    RUN(2, 0xb9, 0x07, 0, 0, 0,                     /* mov $7,%ecx */
           0x51);                                   /* push %rcx */
    EXPECT(1, 0x6a, 0x07);                          /* push $7 */
    ir_free(&t);
}

/* A RIP-relative store keeps its absolute address when its length changes. */
static void test_reg_to_imm_rip_relative(void **s)
{
    (void)s;
    RUN(2, 0xb9, 0x07, 0, 0, 0,                     /* mov $7,%ecx */
           0x89, 0x0d, 0x10, 0, 0, 0);              /* mov %ecx,0x10(%rip) */
    assert_int_equal(nchanged, 1);
    assert_int_equal(t.insn[1].zi.mnemonic, ZYDIS_MNEMONIC_MOV);
    assert_int_equal(t.insn[1].ops[1].type, ZYDIS_OPERAND_TYPE_IMMEDIATE);
    assert_int_equal(t.insn[1].ops[1].imm.value.u, 7);
    uint64_t abs = 0;
    ZydisCalcAbsoluteAddress(&t.insn[1].zi, &t.insn[1].ops[0], t.insn[1].app_pc, &abs);
    assert_int_equal(abs, (uint64_t)code + 5 + 6 + 0x10);
    ir_free(&t);
}

/* Known values flow past a side exit (the path goes on with the same registers). */
static void test_across_side_exit(void **s)
{
    (void)s;
    static const uint8_t c[] = {
        0xb9, 0x05, 0, 0, 0,                        /* 0: mov $5,%ecx */
        0x74, 0x00,                                 /* 5: jz 7 (not taken) */
        0x48, 0x01, 0xc8,                           /* 7: add %rcx,%rax */
    };
    const uint64_t offs[] = { 0, 7 };
    const uint32_t lens[] = { 2, 1 };
    build(c, sizeof(c), offs, lens, 2);
    assert_int_equal(t.insn[1].kind, IR_JCC);
    assert_int_equal(opt_pass_constprop(&t), 1);
    EXPECT(2, 0x48, 0x83, 0xc0, 0x05);
    ir_free(&t);
}

/* Results fully known become mov $imm; flags they wrote must be dead (then stale up to the
 * next writer: an inexact region). */
static void test_fold(void **s)
{
    (void)s;
    RUN(2, 0xb9, 0x05, 0, 0, 0,                     /* mov $5,%ecx */
           0x8d, 0x41, 0x03);                       /* lea 3(%rcx),%eax (no flags) */
    assert_int_equal(nchanged, 1);
    EXPECT(1, 0xb8, 0x08, 0, 0, 0);                 /* mov $8,%eax */
    assert_false(INEXACT(2));
    ir_free(&t);
    RUN(3, 0xb8, 0x05, 0, 0, 0,                     /* mov $5,%eax */
           0x83, 0xc0, 0x03,                        /* add $3,%eax (flags dead) */
           0x39, 0xd6);                             /* cmp %edx,%esi */
    assert_int_equal(nchanged, 1);
    EXPECT(1, 0xb8, 0x08, 0, 0, 0);                 /* mov $8,%eax */
    assert_false(INEXACT(1));
    assert_true(INEXACT(2));                        /* the flags of add are stale at cmp */
    assert_false(INEXACT(3));
    ir_free(&t);
    RUN(2, 0xb8, 0xfb, 0xff, 0xff, 0xff,            /* mov $-5,%eax */
           0x48, 0x98);                             /* cltq */
    EXPECT(1, 0x48, 0xc7, 0xc0, 0xfb, 0xff, 0xff, 0xff);   /* mov $-5,%rax */
    ir_free(&t);
    RUN(2, 0xb8, 0x05, 0, 0, 0,                     /* mov $5,%eax */
           0x48, 0x98);                             /* cltq */
    EXPECT(1, 0xb8, 0x05, 0, 0, 0);                 /* mov $5,%eax (zero-extends) */
    ir_free(&t);
    RUN(3, 0x48, 0xc7, 0xc0, 0xfb, 0xff, 0xff, 0xff,   /* mov $-5,%rax */
           0x48, 0x99,                              /* cqo: rdx implicitly */
           0x48, 0x01, 0xd1);                       /* add %rdx,%rcx */
    assert_int_equal(nchanged, 2);
    EXPECT(1, 0x48, 0xc7, 0xc2, 0xff, 0xff, 0xff, 0xff);   /* mov $-1,%rdx */
    EXPECT(2, 0x48, 0x83, 0xc1, 0xff);              /* add $-1,%rcx */
    ir_free(&t);
}

/* Shifts: 32-bit sar sign-extends from bit 31; a zero count writes no flags (the fold to mov
 * needs none dead). */
static void test_fold_shifts(void **s)
{
    (void)s;
    RUN(3, 0xb8, 0xf0, 0xff, 0xff, 0xff,            /* mov $-16,%eax */
           0xc1, 0xf8, 0x02,                        /* sar $2,%eax */
           0x39, 0xd6);                             /* cmp %edx,%esi */
    EXPECT(1, 0xb8, 0xfc, 0xff, 0xff, 0xff);        /* mov $-4,%eax */
    ir_free(&t);
    RUN(2, 0xb8, 0x05, 0, 0, 0,                     /* mov $5,%eax */
           0xc1, 0xe0, 0x00);                       /* shl $0,%eax: flags live, but kept */
    assert_int_equal(nchanged, 1);
    EXPECT(1, 0xb8, 0x05, 0, 0, 0);                 /* mov $5,%eax */
    assert_false(INEXACT(2));
    ir_free(&t);
}

static void test_fold_refused(void **s)
{
    (void)s;
    RUN(2, 0xb8, 0x05, 0, 0, 0,                     /* mov $5,%eax */
           0x83, 0xc0, 0x03);                       /* add $3,%eax: flags live (the exit) */
    assert_int_equal(nchanged, 0);
    UNCHANGED(1);
    ir_free(&t);
    RUN(4, 0xb8, 0x05, 0, 0, 0,                     /* mov $5,%eax */
           0x83, 0xc0, 0x03,                        /* add $3,%eax: flags dead, but */
           0x8b, 0x0f,                              /* mov (%rdi),%ecx: may fault with them stale */
           0x39, 0xd6);                             /* cmp %edx,%esi */
    assert_int_equal(nchanged, 0);
    UNCHANGED(1);
    for (int k = 0; k < t.n; k++) assert_false(INEXACT(k));
    ir_free(&t);
    static const uint8_t c[] = {
        0xb8, 0x05, 0, 0, 0,                        /* 0: mov $5,%eax */
        0x83, 0xc0, 0x03,                           /* 5: add $3,%eax */
        0x74, 0x00,                                 /* 8: jz 10: reads ZF, and exits */
        0x39, 0xd6,                                 /* 10: cmp %edx,%esi */
    };
    const uint64_t offs[] = { 0, 10 };
    const uint32_t lens[] = { 3, 1 };
    build(c, sizeof(c), offs, lens, 2);
    assert_int_equal(opt_pass_constprop(&t), 0);
    UNCHANGED(1);
    ir_free(&t);
    RUN(2, 0x48, 0xb9, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0,   /* movabs $0x123456789,%rcx */
           0x48, 0x89, 0xca);                       /* mov %rcx,%rdx: would need movabs */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
}

/* A known 64-bit value near the code (a switch's target from its folded table:
 * pass_jtable.c) becomes lea v(%rip),%reg where the flags are dead */
static void test_fold_rip(void **s)
{
    (void)s;
    RUN(4, 0x48, 0x8d, 0x15, 0x00, 0x01, 0, 0,     /* 0: lea 0x100(%rip),%rdx: code + 0x107 */
           0x48, 0xc7, 0xc0, 0xf8, 0xff, 0xff, 0xff,  /* 7: mov $-8,%rax */
           0x48, 0x01, 0xd0,                        /* 14: add %rdx,%rax: code + 0xff */
           0x39, 0xce);                             /* 17: cmp %ecx,%esi: flags dead before */
    assert_int_equal(t.insn[2].zi.mnemonic, ZYDIS_MNEMONIC_LEA);
    assert_int_equal(t.insn[2].ops[1].mem.base, ZYDIS_REGISTER_RIP);
    uint64_t a = 0;
    assert_int_equal(ZydisCalcAbsoluteAddress(&t.insn[2].zi, &t.insn[2].ops[1], t.insn[2].app_pc, &a), ZYAN_STATUS_SUCCESS);
    assert_int_equal(a, (uint64_t)code + 0xff);
    assert_int_equal(t.insn[2].ops[0].reg.value, ZYDIS_REGISTER_RAX);
    ir_free(&t);
    RUN(3, 0x48, 0x8d, 0x15, 0x00, 0x01, 0, 0,     /* the same, the flags live (the exit) */
           0x48, 0xc7, 0xc0, 0xf8, 0xff, 0xff, 0xff,
           0x48, 0x01, 0xd0);
    assert_int_equal(t.insn[2].zi.mnemonic, ZYDIS_MNEMONIC_ADD);
    ir_free(&t);
}

/* What kills a known value. */
static void test_kills(void **s)
{
    (void)s;
    RUN(3, 0xb9, 0x05, 0, 0, 0,                     /* mov $5,%ecx */
           0x48, 0x8b, 0x0f,                        /* mov (%rdi),%rcx: a load, unknown */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(3, 0xb9, 0x05, 0, 0, 0,                     /* mov $5,%ecx */
           0x8a, 0x0f,                              /* mov (%rdi),%cl: a partial write */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(3, 0xba, 0x05, 0, 0, 0,                     /* mov $5,%edx */
           0x48, 0x99,                              /* cqo: writes rdx from rax (unknown) */
           0x48, 0x01, 0xd0);                       /* add %rdx,%rax */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(3, 0xb9, 0x05, 0, 0, 0,                     /* mov $5,%ecx */
           0xe4, 0x80,                              /* in $0x80,%al: opaque (I/O) */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(3, 0xbb, 0x05, 0, 0, 0,                     /* mov $5,%ebx */
           0x0f, 0x05,                              /* syscall */
           0x48, 0x01, 0xd8);                       /* add %rbx,%rax */
    assert_int_equal(t.insn[1].kind, IR_SYSCALL);
    assert_int_equal(nchanged, 0);
    ir_free(&t);
}

/* Partial writes merge into a known value; 32-bit writes zero-extend. */
static void test_widths(void **s)
{
    (void)s;
    RUN(3, 0xb9, 0x34, 0x12, 0, 0,                  /* mov $0x1234,%ecx */
           0xb1, 0x56,                              /* mov $0x56,%cl */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    EXPECT(2, 0x48, 0x05, 0x56, 0x12, 0, 0);        /* add $0x1256,%rax */
    ir_free(&t);
    RUN(2, 0xb9, 0xff, 0xff, 0xff, 0xff,            /* mov $-1,%ecx: rcx = 0xffffffff */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax: no imm32 for it */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(2, 0xb9, 0xff, 0xff, 0xff, 0xff,            /* mov $-1,%ecx */
           0x01, 0xc8);                             /* add %ecx,%eax */
    EXPECT(1, 0x83, 0xc0, 0xff);                    /* add $-1,%eax */
    ir_free(&t);
    RUN(2, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff,   /* mov $-1,%rcx */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    EXPECT(1, 0x48, 0x83, 0xc0, 0xff);              /* add $-1,%rax */
    ir_free(&t);
    RUN(2, 0x48, 0xb9, 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0,   /* movabs $0x123456789,%rcx */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(4, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff,   /* mov $-1,%rcx */
           0x83, 0xc1, 0x01,                        /* add $1,%ecx: 0, zero-extended */
           0x39, 0xd6,                              /* cmp %edx,%esi */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    assert_int_equal(nchanged, 2);
    EXPECT(1, 0xb9, 0, 0, 0, 0);                    /* mov $0,%ecx */
    EXPECT(3, 0x48, 0x83, 0xc0, 0x00);              /* add $0,%rax */
    ir_free(&t);
    RUN(4, 0xb9, 0xff, 0x01, 0, 0,                  /* mov $0x1ff,%ecx */
           0x80, 0xc1, 0x01,                        /* add $1,%cl: merges, no carry out */
           0x39, 0xd6,                              /* cmp %edx,%esi */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    EXPECT(1, 0xb1, 0x00);                          /* mov $0,%cl */
    EXPECT(3, 0x48, 0x05, 0x00, 0x01, 0, 0);        /* add $0x100,%rax */
    ir_free(&t);
    RUN(2, 0xb8, 0x34, 0x12, 0, 0,                  /* mov $0x1234,%eax */
           0x00, 0xe3);                             /* add %ah,%bl */
    EXPECT(1, 0x80, 0xc3, 0x12);                    /* add $0x12,%bl */
    ir_free(&t);
    RUN(2, 0xb9, 0x45, 0x23, 0x01, 0,               /* mov $0x12345,%ecx */
           0x66, 0x01, 0xca);                       /* add %cx,%dx */
    EXPECT(1, 0x66, 0x81, 0xc2, 0x45, 0x23);        /* add $0x2345,%dx */
    ir_free(&t);
}

static void test_strength(void **s)
{
    (void)s;
    RUN(2, 0x48, 0x6b, 0xc1, 0x08,                  /* imul $8,%rcx,%rax */
           0x39, 0xd6);                             /* cmp %edx,%esi */
    assert_int_equal(nchanged, 1);
    EXPECT(0, 0x48, 0x8d, 0x04, 0xcd, 0, 0, 0, 0);  /* lea 0(,%rcx,8),%rax */
    assert_true(INEXACT(1));
    ir_free(&t);
    RUN(2, 0x48, 0x6b, 0xc0, 0x08,                  /* imul $8,%rax,%rax */
           0x39, 0xd6);
    EXPECT(0, 0x48, 0xc1, 0xe0, 0x03);              /* shl $3,%rax */
    ir_free(&t);
    RUN(2, 0x6b, 0xc1, 0x03,                        /* imul $3,%ecx,%eax */
           0x39, 0xd6);
    EXPECT(0, 0x8d, 0x04, 0x49);                    /* lea (%rcx,%rcx,2),%eax */
    ir_free(&t);
    RUN(3, 0xb9, 0x04, 0, 0, 0,                     /* mov $4,%ecx */
           0x48, 0x0f, 0xaf, 0xc1,                  /* imul %rcx,%rax */
           0x39, 0xd6);
    EXPECT(1, 0x48, 0xc1, 0xe0, 0x02);              /* shl $2,%rax */
    ir_free(&t);
    RUN(1, 0x48, 0x6b, 0xc0, 0x08);                 /* imul $8,%rax,%rax: flags live */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(2, 0xb9, 0x04, 0, 0, 0,                     /* mov $4,%ecx */
           0x48, 0x0f, 0xaf, 0xc1);                 /* imul %rcx,%rax: undefined flags live */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(3, 0x48, 0x6b, 0xc1, 0x08,                  /* imul $8,%rcx,%rax */
           0x8b, 0x17,                              /* mov (%rdi),%edx: a load in the region */
           0x39, 0xd6);
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(2, 0x48, 0x6b, 0xc1, 0x07,                  /* imul $7,%rcx,%rax: no cheaper form */
           0x39, 0xd6);
    assert_int_equal(nchanged, 0);
    ir_free(&t);
}

static void test_shift_by_cl(void **s)
{
    (void)s;
    RUN(3, 0xb9, 0x03, 0, 0, 0,                     /* mov $3,%ecx */
           0x48, 0xd3, 0xe0,                        /* shl %cl,%rax */
           0x39, 0xd6);                             /* cmp %edx,%esi */
    EXPECT(1, 0x48, 0xc1, 0xe0, 0x03);              /* shl $3,%rax */
    assert_true(INEXACT(2));                        /* OF and AF (undefined) may differ */
    ir_free(&t);
    RUN(2, 0xb9, 0x03, 0, 0, 0,                     /* mov $3,%ecx */
           0x48, 0xd3, 0xe0);                       /* shl %cl,%rax: undefined flags live */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
}

static void test_lea(void **s)
{
    (void)s;
    RUN(2, 0xb9, 0x10, 0, 0, 0,                     /* mov $16,%ecx */
           0x48, 0x8d, 0x44, 0x91, 0x08);           /* lea 8(%rcx,%rdx,4),%rax */
    EXPECT(1, 0x48, 0x8d, 0x04, 0x95, 0x18, 0, 0, 0);   /* lea 24(,%rdx,4),%rax */
    ir_free(&t);
    RUN(2, 0xba, 0x02, 0, 0, 0,                     /* mov $2,%edx */
           0x48, 0x8d, 0x44, 0x93, 0x08);           /* lea 8(%rbx,%rdx,4),%rax */
    EXPECT(1, 0x48, 0x8d, 0x43, 0x10);              /* lea 16(%rbx),%rax */
    ir_free(&t);
    RUN(2, 0xb9, 0x10, 0, 0, 0,                     /* mov $16,%ecx */
           0x8d, 0x44, 0x0b, 0xf0);                 /* lea -16(%rbx,%rcx),%eax */
    EXPECT(1, 0x89, 0xd8);                          /* mov %ebx,%eax */
    ir_free(&t);
    RUN(2, 0xb9, 0x10, 0, 0, 0,                     /* mov $16,%ecx */
           0x48, 0x8d, 0x44, 0x11, 0x08);           /* lea 8(%rcx,%rdx),%rax */
    EXPECT(1, 0x48, 0x8d, 0x42, 0x18);              /* lea 24(%rdx),%rax */
    ir_free(&t);
    RUN(2, 0x48, 0xb9, 0, 0, 0, 0, 0x01, 0, 0, 0,  /* movabs $0x100000000,%rcx */
           0x48, 0x8d, 0x44, 0x11, 0x08);           /* lea 8(%rcx,%rdx),%rax: disp too big */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
}

static void test_copies(void **s)
{
    (void)s;
    RUN(2, 0x48, 0x89, 0xfb,                        /* mov %rdi,%rbx */
           0x48, 0x01, 0xd8);                       /* add %rbx,%rax */
    EXPECT(1, 0x48, 0x01, 0xf8);                    /* add %rdi,%rax */
    ir_free(&t);
    RUN(2, 0x89, 0xfb,                              /* mov %edi,%ebx: 32-bit copy */
           0x48, 0x01, 0xd8);                       /* add %rbx,%rax: reads 64 bits */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(2, 0x89, 0xfb,                              /* mov %edi,%ebx */
           0x01, 0xd8);                             /* add %ebx,%eax */
    EXPECT(1, 0x01, 0xf8);                          /* add %edi,%eax */
    ir_free(&t);
    RUN(2, 0x48, 0x89, 0xfb,                        /* mov %rdi,%rbx */
           0x8b, 0x03);                             /* mov (%rbx),%eax */
    EXPECT(1, 0x8b, 0x07);                          /* mov (%rdi),%eax */
    ir_free(&t);
    RUN(2, 0x48, 0x89, 0xc1,                        /* mov %rax,%rcx */
           0x48, 0x89, 0xc8);                       /* mov %rcx,%rax */
    EXPECT(1, 0x48, 0x89, 0xc0);                    /* mov %rax,%rax: dce's no-op */
    ir_free(&t);
    RUN(2, 0x48, 0x89, 0xc1,                        /* mov %rax,%rcx */
           0x89, 0xc8);                             /* mov %ecx,%eax: stays (mov %eax,%eax is slower) */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(2, 0x48, 0x89, 0xeb,                        /* mov %rbp,%rbx */
           0x8b, 0x43, 0x08);                       /* mov 8(%rbx),%eax: not through rbp (#SS) */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
    RUN(2, 0x48, 0x89, 0xfb,                        /* mov %rdi,%rbx */
           0x8b, 0x0c, 0x18);                       /* mov (%rax,%rbx),%ecx */
    EXPECT(1, 0x8b, 0x0c, 0x38);                    /* mov (%rax,%rdi),%ecx */
    ir_free(&t);
    RUN(3, 0x48, 0x89, 0xfb,                        /* mov %rdi,%rbx */
           0x48, 0x89, 0xd9,                        /* mov %rbx,%rcx: a copy of rdi too */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    EXPECT(1, 0x48, 0x89, 0xf9);                    /* mov %rdi,%rcx */
    EXPECT(2, 0x48, 0x01, 0xf8);                    /* add %rdi,%rax */
    ir_free(&t);
    RUN(3, 0x89, 0xfb,                              /* mov %edi,%ebx: low 32 bits of rdi */
           0x48, 0x89, 0xd9,                        /* mov %rbx,%rcx: still only 32 */
           0x48, 0x01, 0xc8);                       /* add %rcx,%rax */
    UNCHANGED(2);
    ir_free(&t);
    RUN(3, 0x48, 0x89, 0xfb,                        /* mov %rdi,%rbx */
           0x48, 0x83, 0xc7, 0x01,                  /* add $1,%rdi: the original changes */
           0x48, 0x01, 0xd8);                       /* add %rbx,%rax */
    assert_int_equal(nchanged, 0);
    ir_free(&t);
}

/* With dce after it (passes.def order), the definitions constprop made dead go. */
static void test_then_dce(void **s)
{
    (void)s;
    RUN(5, 0x90,                                    /* nop (the head stays) */
           0xb9, 0x05, 0, 0, 0,                     /* mov $5,%ecx */
           0x48, 0x01, 0xc8,                        /* add %rcx,%rax -> add $5,%rax */
           0x48, 0x01, 0xca,                        /* add %rcx,%rdx -> add $5,%rdx */
           0xb9, 0x02, 0, 0, 0);                    /* mov $2,%ecx: ecx's 5 now unread */
    assert_int_equal(nchanged, 2);
    assert_int_equal(opt_pass_dce(&t), 2);          /* mov $5,%ecx goes; the first add's */
    assert_int_equal(t.n, 5);                       /* flags are dead: it becomes a lea */
    EXPECT(1, 0x48, 0x8d, 0x40, 0x05);
    EXPECT(2, 0x48, 0x83, 0xc2, 0x05);
    assert_true(INEXACT(1) && INEXACT(2) && INEXACT(3));   /* rcx stale until mov $2 */
    ir_free(&t);
}

/* ==== differential: native runs of random sequences, before and after ==== */

typedef struct { uint64_t r[16]; uint64_t flags; } cpu_t;

#define STATUS_FLAGS 0x8d5ull       /* CF PF AF ZF SF OF */
static uint8_t *xbuf;               /* the harness and the sequence, executable */

static uint8_t *put(uint8_t *p, const void *b, size_t n) { memcpy(p, b, n); return p + n; }

/* run: body from the registers and flags in *c (rsp aside); the result back in *c. */
static void run(const uint8_t *body, size_t n, cpu_t *c)
{
    static const uint8_t pro[] = { 0x53, 0x55, 0x41, 0x54, 0x41, 0x55, 0x41, 0x56, 0x41, 0x57,
                                   0x57,                                 /* push %rdi */
                                   0xff, 0xb7, 0x80, 0, 0, 0, 0x9d };   /* push 128(%rdi); popf */
    static const uint8_t mid[] = { 0x57, 0x48, 0x8b, 0x7c, 0x24, 0x08 };  /* push %rdi; mov 8(%rsp),%rdi */
    static const uint8_t epi[] = { 0x58, 0x48, 0x89, 0x47, 0x38,        /* pop %rax; mov %rax,56(%rdi) */
                                   0x9c, 0x58, 0x48, 0x89, 0x87, 0x80, 0, 0, 0,  /* pushf; pop; store */
                                   0x5f, 0x41, 0x5f, 0x41, 0x5e, 0x41, 0x5d, 0x41, 0x5c, 0x5d, 0x5b, 0xc3 };
    uint8_t *p = put(xbuf, pro, sizeof(pro));
    for (int id = 0; id < 16; id++) {                 /* mov 8*id(%rdi),%reg */
        if (id == 4 || id == 7) continue;
        uint8_t m[] = { (uint8_t)(0x48 | (id >= 8 ? 4 : 0)), 0x8b, (uint8_t)(0x47 | ((id & 7) << 3)), (uint8_t)(8 * id) };
        p = put(p, m, 4);
    }
    p = put(p, (const uint8_t[]){ 0x48, 0x8b, 0x7f, 0x38 }, 4);         /* mov 56(%rdi),%rdi */
    p = put(p, body, n);
    p = put(p, mid, sizeof(mid));
    for (int id = 0; id < 16; id++) {                 /* mov %reg,8*id(%rdi) (flags untouched) */
        if (id == 4 || id == 7) continue;
        uint8_t m[] = { (uint8_t)(0x48 | (id >= 8 ? 4 : 0)), 0x89, (uint8_t)(0x47 | ((id & 7) << 3)), (uint8_t)(8 * id) };
        p = put(p, m, 4);
    }
    p = put(p, epi, sizeof(epi));
    c->flags = (c->flags & STATUS_FLAGS) | 0x202;
    ((void (*)(cpu_t *))xbuf)(c);
    c->flags &= STATUS_FLAGS;
    c->r[4] = 0;
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }

static const int pool[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9 };   /* no rsp */
static const int64_t imms[] = { 0, 1, 2, 3, 4, 5, 7, 8, 9, 16, 31, 32, 33, 63, 64, -1, -2, -8, 0x7f,
                                0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000ll,
                                0xffffffffll, 0x123456789ll, -0x123456789ll };

static ZydisRegister greg(int w)
{
    int id = pool[rnd() % (rnd() % 3 ? 4 : 9)];        /* mostly a few: values meet */
    if (w == 8) {
        static const ZydisRegister r8[] = { ZYDIS_REGISTER_AL, ZYDIS_REGISTER_CL, ZYDIS_REGISTER_DL,
            ZYDIS_REGISTER_BL, ZYDIS_REGISTER_SIL, ZYDIS_REGISTER_DIL, ZYDIS_REGISTER_R8B,
            ZYDIS_REGISTER_AH, ZYDIS_REGISTER_CH, ZYDIS_REGISTER_DH, ZYDIS_REGISTER_BH };
        return r8[rnd() % (rnd() % 3 ? 4 : 11)];
    }
    return ZydisRegisterEncode(w == 64 ? ZYDIS_REGCLASS_GPR64 : w == 32 ? ZYDIS_REGCLASS_GPR32 :
                               ZYDIS_REGCLASS_GPR16, (ZyanU8)id);
}

static int gw(void) { static const int w[] = { 64, 64, 32, 32, 32, 16, 8 }; return w[rnd() % 7]; }

static void opreg(ZydisEncoderOperand *o, ZydisRegister r) { o->type = ZYDIS_OPERAND_TYPE_REGISTER; o->reg.value = r; }
static void opimm(ZydisEncoderOperand *o, int64_t v) { o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE; o->imm.s = v; }

/* gen: one random instruction into out; its length (0: the encoder refused, try again). */
static size_t gen(uint8_t *out)
{
    static const ZydisMnemonic alu[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_AND,
        ZYDIS_MNEMONIC_OR, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_ADC,
        ZYDIS_MNEMONIC_SBB, ZYDIS_MNEMONIC_TEST };
    static const ZydisMnemonic sh[] = { ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR,
        ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR };
    static const ZydisMnemonic un[] = { ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC, ZYDIS_MNEMONIC_NEG,
        ZYDIS_MNEMONIC_NOT };
    static const uint8_t fixed[][3] = { { 2, 0x48, 0x98 }, { 2, 0x48, 0x99 }, { 1, 0x99 }, { 1, 0x98 },
                                        { 2, 0x66, 0x98 } };   /* cltq cqo cltd cwtl cbtw */
    ZydisEncoderRequest r;
    memset(&r, 0, sizeof(r));
    r.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    r.operand_count = 2;
    int w = gw();
    switch (rnd() % 17) {
    case 0: case 1: case 2: case 3: case 4:          /* constants, often */
        r.mnemonic = ZYDIS_MNEMONIC_MOV;
        opreg(&r.operands[0], greg(w));
        opimm(&r.operands[1], imms[rnd() % 30]);
        break;
    case 5:
        if (rnd() & 1) {
            r.mnemonic = ZYDIS_MNEMONIC_XOR;
            opreg(&r.operands[0], greg(32));
            r.operands[1] = r.operands[0];
            break;
        }
        r.mnemonic = ZYDIS_MNEMONIC_MOV;
        w = rnd() & 1 ? 64 : 32;
        opreg(&r.operands[0], greg(w));
        opreg(&r.operands[1], greg(w));
        break;
    case 6: case 7: case 8: case 16:
        r.mnemonic = alu[rnd() % 9];
        opreg(&r.operands[0], greg(w));
        if (rnd() % 3) opreg(&r.operands[1], greg(w));
        else opimm(&r.operands[1], imms[rnd() % 30]);
        break;
    case 9: {
        r.mnemonic = ZYDIS_MNEMONIC_LEA;
        opreg(&r.operands[0], greg(rnd() & 1 ? 64 : 32));
        r.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
        r.operands[1].mem.base = rnd() % 4 ? greg(64) : ZYDIS_REGISTER_NONE;
        r.operands[1].mem.index = rnd() % 3 ? greg(64) : ZYDIS_REGISTER_NONE;
        r.operands[1].mem.scale = r.operands[1].mem.index ? (uint8_t)(1 << (rnd() % 4)) : 0;
        r.operands[1].mem.displacement = (int64_t)(rnd() % 64) - 32;
        r.operands[1].mem.size = 8;
        break;
    }
    case 10:
        r.mnemonic = ZYDIS_MNEMONIC_IMUL;
        w = rnd() & 1 ? 64 : 32;
        opreg(&r.operands[0], greg(w));
        opreg(&r.operands[1], greg(w));
        if (rnd() & 1) {
            static const int64_t mul[] = { 1, 2, 3, 4, 5, 7, 8, 9, 16, 1024, -2, -8 };
            r.operand_count = 3;
            opimm(&r.operands[2], mul[rnd() % 12]);
        }
        break;
    case 11:
        r.mnemonic = sh[rnd() % 5];
        w = rnd() % 3 ? (rnd() & 1 ? 64 : 32) : 8;
        opreg(&r.operands[0], greg(w));
        if (rnd() & 1) opreg(&r.operands[1], ZYDIS_REGISTER_CL);
        else opimm(&r.operands[1], (int64_t)(rnd() % 70));
        break;
    case 12:
        r.mnemonic = un[rnd() % 4];
        r.operand_count = 1;
        opreg(&r.operands[0], greg(w));
        break;
    case 13: {
        static const ZydisMnemonic ext[] = { ZYDIS_MNEMONIC_MOVZX, ZYDIS_MNEMONIC_MOVSX, ZYDIS_MNEMONIC_MOVSXD };
        r.mnemonic = ext[rnd() % 3];
        opreg(&r.operands[0], greg(rnd() & 1 ? 64 : 32));
        opreg(&r.operands[1], greg(r.mnemonic == ZYDIS_MNEMONIC_MOVSXD ? 32 : rnd() & 1 ? 8 : 16));
        break;
    }
    case 15: {
        const uint8_t *f = fixed[rnd() % 5];
        memcpy(out, f + 1, f[0]);
        return f[0];
    }
    case 14:                                          /* flag readers */
        if (rnd() & 1) {
            r.mnemonic = ZYDIS_MNEMONIC_SETB + (ZydisMnemonic)(rnd() % 4);
            r.operand_count = 1;
            opreg(&r.operands[0], greg(8));
        } else {
            static const ZydisMnemonic cm[] = { ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVB,
                                                ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVO };
            r.mnemonic = cm[rnd() % 4];
            w = rnd() & 1 ? 64 : 32;
            opreg(&r.operands[0], greg(w));
            opreg(&r.operands[1], greg(w));
        }
        break;
    }
    ZyanUSize len = 15;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(&r, out, &len))) return 0;
    return len;
}

/* body_of: the bytes of t's instructions [0, upto) (copies only: the exits are markers). */
static size_t body_of(uint8_t *out, int upto)
{
    size_t n = 0;
    for (int k = 0; k < upto; k++)
        if (t.insn[k].kind == IR_COPY) { memcpy(out + n, t.insn[k].bytes, t.insn[k].len); n += t.insn[k].len; }
    return n;
}

static uint64_t rndval(void)
{
    switch (rnd() % 4) {
    case 0: return (uint64_t)imms[rnd() % 30];
    case 1: return rnd() & 0xff;
    default: return rnd();
    }
}

static void test_differential(void **s)
{
    (void)s;
    int changed = 0, checked = 0;
    for (int round = 0; round < 4000; round++) {
        uint8_t orig[64][16];
        size_t len[64];
        int n = 2 + (int)(rnd() % 22), exits[64];
        assert_int_equal(ir_init(&t, 64), HP_OK);
        uint64_t pc = 0x10000;
        for (int k = 0; k < n; k++) {
            ir_insn_t in;
            exits[k] = k > 0 && rnd() % 6 == 0;         /* a side exit: jz .+2 */
            if (exits[k]) {
                static const uint8_t jz[] = { 0x74, 0x00 };
                assert_int_equal(ir_decode(&in, pc, jz, 2), HP_OK);
                in.kind = IR_JCC;
                in.cc = 4;
                in.target = pc + 2;
            } else {
                while (!(len[k] = gen(orig[k]))) {}
                assert_int_equal(ir_decode(&in, pc, orig[k], len[k]), HP_OK);
            }
            pc += in.len;
            assert_non_null(ir_append(&t, &in));
        }
        ir_insn_t end;
        memset(&end, 0, sizeof(end));
        end.kind = IR_EXIT;
        end.app_pc = end.target = pc;
        assert_non_null(ir_append(&t, &end));
        uint8_t before[64 * 16], after[64 * 16];
        int upto[64], nup = 0;
        for (int k = 0; k < n; k++) if (exits[k]) upto[nup++] = k;
        upto[nup++] = n;
        size_t nb[64];
        for (int u = 0; u < nup; u++) nb[u] = body_of(before, upto[u]);
        int ch = opt_pass_constprop(&t);
        changed += ch;
        for (int u = 0; u < nup; u++) {                  /* each exit sees the native state */
            size_t na = body_of(after, upto[u]);
            uint8_t nat[64 * 16];
            size_t nn = 0;
            for (int k = 0; k < upto[u]; k++)
                if (!exits[k]) { memcpy(nat + nn, orig[k], len[k]); nn += len[k]; }
            assert_int_equal(nn, nb[u]);
            for (int v = 0; v < 3; v++) {
                cpu_t a, b;
                for (int r = 0; r < 16; r++) a.r[r] = rndval();
                a.flags = rnd();
                b = a;
                run(nat, nn, &a);
                run(after, na, &b);
                if (memcmp(&a, &b, sizeof(a))) {
                    char line[128];
                    for (int k = 0; k <= n; k++) {
                        ir_format(&t.insn[k], line, sizeof(line));
                        print_message("%2d %s%s\n", k, line, INEXACT(k) ? "   (inexact)" : "");
                    }
                    for (int r = 0; r < 16; r++)
                        if (a.r[r] != b.r[r]) print_message("r%d native %#llx optimized %#llx\n", r,
                                                            (unsigned long long)a.r[r], (unsigned long long)b.r[r]);
                    print_message("flags native %#llx optimized %#llx (upto %d)\n",
                                  (unsigned long long)a.flags, (unsigned long long)b.flags, upto[u]);
                    fail_msg("round %d: state differs", round);
                }
                checked++;
            }
        }
        ir_free(&t);
    }
    print_message("differential: %d changes, %d states compared\n", changed, checked);
    assert_true(changed > 1000);                        /* the sequences do exercise the pass */
}

int main(void)
{
    code = unit_init(4096);
    xbuf = mmap(0, 8192, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reg_to_imm),
        cmocka_unit_test(test_reg_to_imm_rip_relative),
        cmocka_unit_test(test_across_side_exit),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_fold_shifts),
        cmocka_unit_test(test_fold_refused),
        cmocka_unit_test(test_fold_rip),
        cmocka_unit_test(test_kills),
        cmocka_unit_test(test_widths),
        cmocka_unit_test(test_strength),
        cmocka_unit_test(test_shift_by_cl),
        cmocka_unit_test(test_lea),
        cmocka_unit_test(test_copies),
        cmocka_unit_test(test_then_dce),
        cmocka_unit_test(test_differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
