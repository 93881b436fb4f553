/* test_trace.c — traces: the end-of-trace rules (which exits lead to trace heads) and the
 * translation of a recorded path: a conditional branch falls through in the recorded
 * direction (inverted when the path took it), a direct jump vanishes, a call goes on into
 * the callee, an indirect branch is checked inline against the recorded target, and a path
 * that the code cannot take is refused. */
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
#include "syscalls.h"
#include "trace.h"
#include "unit_init.h"

static uint8_t *code;     /* app code: an executable mapping, so the trace builder reads it */

typedef struct {
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    uint64_t addr;
} insn_t;

static int decode_body(const hp_block_t *b, insn_t *out, int max)
{
    ZydisDecoder d;
    ZydisDecoderInit(&d, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint64_t p = (uint64_t)b->cache_start;
    int n = 0;
    while (n < max && p < (uint64_t)b->cache_start + b->body_size) {
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&d, (void *)p, 15, &out[n].in, out[n].ops))) break;
        out[n].addr = p;
        p += out[n].in.length;
        if (out[n].in.mnemonic != ZYDIS_MNEMONIC_NOP) n++;
    }
    return n;
}

static uint64_t target_of(const insn_t *i) { return i->addr + i->in.length + (uint64_t)i->ops[0].imm.value.s; }

static hp_link_t *link_at(const hp_block_t *b, uint64_t stub)
{
    for (hp_link_t *l = b->exits; l; l = l->next)
        if ((uint64_t)l->stub == stub) return l;
    return NULL;
}

static hp_block_t *trace_of(const uint8_t *bytes, size_t n, const uint64_t *offs,
                            const uint32_t *lens, int nb, hp_status_t expect)
{
    memset(code, 0xcc, 4096);
    memcpy(code, bytes, n);
    uint64_t pcs[8];
    for (int i = 0; i < nb; i++) pcs[i] = (uint64_t)code + offs[i];
    hp_block_t *b = NULL;
    const char *why;
    assert_int_equal(trace_build(pcs, lens, nb, 0, 0, &b, &why), expect);
    if (b) assert_true(b->is_trace);
    return b;
}

static void test_jcc_fall_through_recorded(void **s)
{
    (void)s;
    /* 0: add %rbx,%rax; jz +3   | 5: inc %rcx; jmp 0 */
    static const uint8_t c[] = { 0x48, 0x01, 0xd8, 0x74, 0x03, 0x48, 0xff, 0xc1, 0xeb, 0xf6 };
    const uint64_t offs[] = { 0, 5 };
    const uint32_t lens[] = { 2, 2 };
    hp_block_t *b = trace_of(c, sizeof(c), offs, lens, 2, HP_OK);
    insn_t ins[16];
    int n = decode_body(b, ins, 16);
    assert_true(n >= 4);                                              /* nops are skipped */
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_JZ);          /* not taken on the path */
    assert_int_equal(link_at(b, target_of(&ins[1]))->target, (uint64_t)code + 8);
    /* the last block's jmp back to the head is an ordinary exit */
    assert_int_equal(ins[n - 1].in.mnemonic, ZYDIS_MNEMONIC_JMP);
    assert_int_equal(link_at(b, target_of(&ins[n - 1]))->target, (uint64_t)code);
}

/* A loop whose branch back is the trace's last instruction goes round inside the trace:
 * the branch jumps back to the trace's start while it loops, the way out is an exit. */
static void test_loop_goes_round(void **s)
{
    (void)s;
    static const uint8_t c[] = { 0x48, 0xff, 0xc9, 0x75, 0xfb };      /* 0: dec %rcx; jnz 0 */
    const uint64_t offs[] = { 0 };
    const uint32_t lens[] = { 2 };
    hp_block_t *b = trace_of(c, sizeof(c), offs, lens, 1, HP_OK);
    insn_t ins[16];
    int n = decode_body(b, ins, 16);
    assert_true(b->loops);
    int j = 1;
    assert_int_equal(ins[j].in.mnemonic, ZYDIS_MNEMONIC_JNZ);
    assert_int_equal(target_of(&ins[j]), (uint64_t)b->cache_start);  /* round, inside */
    assert_true(n >= 3);
    assert_int_equal(ins[j + 1].in.mnemonic, ZYDIS_MNEMONIC_JMP);      /* the way out */
    assert_int_equal(link_at(b, target_of(&ins[j + 1]))->target, (uint64_t)code + 5);
}

static void test_jcc_taken_is_inverted(void **s)
{
    (void)s;
    /* 0: add; jz +2 -> 7: ret  (the path took the branch) */
    static const uint8_t c[] = { 0x48, 0x01, 0xd8, 0x74, 0x02, 0x90, 0x90, 0xc3 };
    const uint64_t offs[] = { 0, 7 };
    const uint32_t lens[] = { 2, 1 };
    hp_block_t *b = trace_of(c, sizeof(c), offs, lens, 2, HP_OK);
    insn_t ins[8];
    decode_body(b, ins, 8);
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_JNZ);
    assert_int_equal(link_at(b, target_of(&ins[1]))->target, (uint64_t)code + 5);
}

static void test_jmp_vanishes_call_goes_on(void **s)
{
    (void)s;
    /* 0: jmp +1 | 3: call +1 | 9: ret */
    static const uint8_t c[] = { 0xeb, 0x01, 0x90, 0xe8, 0x01, 0x00, 0x00, 0x00, 0x90, 0xc3 };
    const uint64_t offs[] = { 0, 3, 9 };
    const uint32_t lens[] = { 1, 1, 1 };
    hp_block_t *b = trace_of(c, sizeof(c), offs, lens, 3, HP_OK);
    insn_t ins[8];
    decode_body(b, ins, 8);
    assert_int_equal(ins[0].in.mnemonic, ZYDIS_MNEMONIC_PUSH);        /* the call's push */
    uint64_t slot = 0;
    ZydisCalcAbsoluteAddress(&ins[0].in, &ins[0].ops[0], ins[0].addr, &slot);
    assert_int_equal(*(uint64_t *)slot, (uint64_t)code + 8);          /* app return address */
    assert_int_equal(ins[1].in.mnemonic, ZYDIS_MNEMONIC_MOV);         /* then the callee's ret */
    assert_int_equal(ins[1].ops[0].mem.segment, ZYDIS_REGISTER_GS);
}

static void test_indirect_checked_inline(void **s)
{
    (void)s;
    /* 0: jmp *%rax | 2: ret */
    static const uint8_t c[] = { 0xff, 0xe0, 0xc3 };
    const uint64_t offs[] = { 0, 2 };
    const uint32_t lens[] = { 1, 1 };
    hp_block_t *b = trace_of(c, sizeof(c), offs, lens, 2, HP_OK);
    insn_t ins[64];
    int n = decode_body(b, ins, 64), found = 0;
    /* movabs $-target,%rcx ; lea (%rcx,%rdx),%rcx ; jrcxz (hit) ; jmp (out-of-line lookup) */
    for (int i = 0; i + 3 < n; i++)
        if (ins[i].in.mnemonic == ZYDIS_MNEMONIC_MOV && ins[i].ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
            ins[i].ops[1].imm.value.u == (uint64_t)0 - ((uint64_t)code + 2) &&
            ins[i + 1].in.mnemonic == ZYDIS_MNEMONIC_LEA && ins[i + 2].in.mnemonic == ZYDIS_MNEMONIC_JRCXZ &&
            ins[i + 3].in.mnemonic == ZYDIS_MNEMONIC_JMP) {
            found = 1;
            uint64_t miss = target_of(&ins[i + 3]);             /* after the body's end */
            uint8_t tmpl[256], plain[256];
            size_t tl = (size_t)(bb_ibl_trace(tmpl) - tmpl);   /* probes the traces' table */
            assert_int_equal((size_t)(bb_ibl(plain) - plain), tl);
            assert_memory_not_equal(tmpl, plain, tl);
            assert_true(miss > (uint64_t)ins[i + 3].addr);
            assert_memory_equal((uint8_t *)miss + 3 + 9, tmpl, tl);   /* mov %rdx,%rcx; reload rdx */
        }
    assert_true(found);
    assert_true(hp_rt.stats.trace_inline_checks > 0);
}

static void test_impossible_path_refused(void **s)
{
    (void)s;
    static const uint8_t c[] = { 0x48, 0x01, 0xd8, 0x74, 0x02, 0x90, 0x90, 0xc3 };
    const uint64_t offs[] = { 0, 6 };                    /* neither outcome of the jz */
    const uint32_t lens[] = { 2, 1 };
    assert_null(trace_of(c, sizeof(c), offs, lens, 2, HP_ERR_UNSUPPORTED));
    const uint64_t offs2[] = { 0, 5 };
    const uint32_t lens2[] = { 1, 1 };                   /* the jz is not the block's end */
    assert_null(trace_of(c, sizeof(c), offs2, lens2, 2, HP_ERR_UNSUPPORTED));
}

static void test_head_rules(void **s)
{
    (void)s;
    hp_block_t from = { 0 }, to = { 0 }, trace = { 0 };
    from.app_pc = 0x1000;
    from.app_end = 0x1040;
    trace.is_trace = 1;
    hp_link_t l = { 0 };
    l.kind = LINK_DIRECT;
    l.from = &from;
    l.target = 0x1000;                                   /* backward: a head */
    assert_true(trace_is_head_exit(&l, l.target, &to));
    assert_false(trace_is_head_exit(&l, l.target, &trace));        /* unless it is a trace already */
    l.target = 0x1040;                                   /* forward: not a head */
    assert_false(trace_is_head_exit(&l, l.target, &to));
    l.from = &trace;                                     /* any exit of a trace is */
    assert_true(trace_is_head_exit(&l, l.target, &to));
    l.kind = LINK_INDIRECT;
    assert_false(trace_is_head_exit(&l, l.target, &to));
    hp_rt.opts.traces = 0;
    l.kind = LINK_DIRECT;
    assert_false(trace_is_head_exit(&l, l.target, &to));
    hp_rt.opts.traces = 1;
}

int main(void)
{
    code = unit_init(4096);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jcc_fall_through_recorded),
        cmocka_unit_test(test_jcc_taken_is_inverted),
        cmocka_unit_test(test_loop_goes_round),
        cmocka_unit_test(test_jmp_vanishes_call_goes_on),
        cmocka_unit_test(test_indirect_checked_inline),
        cmocka_unit_test(test_impossible_path_refused),
        cmocka_unit_test(test_head_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
