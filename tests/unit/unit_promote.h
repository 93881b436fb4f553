/* unit_promote.h — for the loop promotion tests (test_pass_promote.c,
 * test_pass_promote_checks.c): the app code page, traces built from hand-written loops
 * (one block, straightened; or blocks around a callee at code + 0x40) and their emission.
 * Included by one test file each (static, unused ones allowed). */
#ifndef HOTPATH_UNIT_PROMOTE_H
#define HOTPATH_UNIT_PROMOTE_H
#include "unit_emit.h"

static uint8_t *code;     /* app code: an executable mapping the IR builder reads */

__attribute__((unused))
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

__attribute__((unused))
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

__attribute__((unused))
static int is_reg(const ir_insn_t *i, int op, ZydisRegister r)
{
    return i->ops[op].type == ZYDIS_OPERAND_TYPE_REGISTER && i->ops[op].reg.value == r;
}

__attribute__((unused))
/* emit_trace: emit t into a fresh 4 KiB of cache near the code (8 exits, 32 map entries). */
static void emit_trace(const ir_trace_t *t, bb_ctx_t *ctx, bb_exit_t *exits, hp_xl_t *xl)
{
    unit_emit(t, (uint64_t)code, ctx, exits, 8, xl, 32);
}

#endif
