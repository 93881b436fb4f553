/* constprop.h — the evaluator of pass_constprop.c, shared with pass_jtable.c: what is known
 * about the general registers at a point of a trace (whole 64-bit values and copies) and
 * the value an instruction writes from it.
 * Invariant: an evaluation is exact or refused: a value is known only when every input is
 * (32-bit writes zero-extend, 8/16-bit writes merge into a known old value); memory is
 * never read here (a caller that knows a load's bytes computes its result itself). */
#ifndef HOTPATH_CONSTPROP_H
#define HOTPATH_CONSTPROP_H
#include "analysis.h"

typedef struct {
    an_regs_t known;            /* bit r: val[r] is register r's whole 64-bit value */
    uint64_t val[16];
    int8_t copy[16];            /* -1, or s: the low cw[r] bits of r equal those of s, and s
                                   is itself no copy (the chain's root) */
    uint8_t cw[16];             /* 32 or 64 */
} cp_state_t;

static inline uint64_t cp_mask(int w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

static inline uint64_t cp_sext(uint64_t v, int w)
{
    if (w >= 64) return v;
    uint64_t m = 1ull << (w - 1);
    return ((v & cp_mask(w)) ^ m) - m;
}

static inline int cp_fits_s32(uint64_t v) { return (int64_t)v == (int64_t)(int32_t)v; }

static inline int cp_width(ZydisRegister r) { return ZydisRegisterGetWidth(ZYDIS_MACHINE_MODE_LONG_64, r); }

/* cp_reg: general register id at width 16, 32 or 64. */
ZydisRegister cp_reg(int id, int w);

/* cp_reset: nothing known. */
void cp_reset(cp_state_t *st);

/* cp_read: the value of register r (any width, ah..bh too) when its register is known. */
int cp_read(const cp_state_t *st, ZydisRegister r, uint64_t *v);

/* cp_mem_addr: the address memory operand m of i names (lea's computation or an access),
 * when its registers are known: 1 with *a; 0 with an unknown register, a 32-bit address
 * or an fs/gs segment on an access. */
int cp_mem_addr(const cp_state_t *st, const ir_insn_t *i, const ZydisDecodedOperand *m, uint64_t *a);

/* cp_eval: the value instruction i writes to its one destination register, from what st
 * knows: 1 with *dst (the register as written, any width), *res (its written bits) and *fw
 * (the flags it writes); 0 when i is not understood here or an input is unknown. Only
 * instructions without memory access, with one register result. */
int cp_eval(const cp_state_t *st, const ir_insn_t *i, ZydisRegister *dst, uint64_t *res, an_flags_t *fw);

/* cp_full: the whole register after dst is written with res: 32-bit writes zero-extend,
 * 8/16-bit writes merge into the old value (which must be known). */
int cp_full(const cp_state_t *st, ZydisRegister dst, uint64_t res, uint64_t *full);

/* cp_new / cp_set_imm: an encoder request mn with register destination dst (two operands,
 * the second for the caller) / operand op as the immediate v at width w (sign-extended). */
void cp_new(ZydisEncoderRequest *req, ZydisMnemonic mn, ZydisRegister dst);
void cp_set_imm(ZydisEncoderOperand *op, uint64_t v, int w);

/* cp_set: re-encode i from req. Kept only if the encoder takes it and the decoding of the
 * result is the mnemonic mn at operand width w, with the immediate imm (its low w bits) at
 * operand imm_op (-1: none), no longer than max_len bytes and with the same memory accesses
 * (their registers too unless regs_change); otherwise i is left as it was. */
int cp_set(ir_insn_t *i, const ZydisEncoderRequest *req, ZydisMnemonic mn, int w, int imm_op,
           uint64_t imm, int max_len, int regs_change);

#endif
