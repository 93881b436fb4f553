/* dt_gen_int.h — the generator's own state and helpers, shared by dt_gen.c (the case:
 * emission, operands, layout, paths) and dt_kinds.c, dt_kinds_sse.c (the instruction
 * kinds). Not for the harness. Invariants: those of dt_gen.c (memory bounds, reserved registers, defined flags). */
#ifndef HOTPATH_DT_GEN_INT_H
#define HOTPATH_DT_GEN_INT_H
#include <string.h>
#include "difftest.h"

typedef struct { uint64_t s; } gen_rng_t;

typedef struct {
    ZydisRegister base, index;
    uint8_t scale;
    int64_t disp;
} gen_mem_t;

#define DT_SLOTS 6
#define DT_XSLOTS 8             /* 8-byte slots of scalar-double code (kind_sse): as many as promotion may borrow xmm8..15 for */

typedef struct {
    gen_rng_t rng;
    dt_case_t *c;
    const dt_env_t *env;
    uint32_t def;               /* status flags defined here on the fall-through path */
    int reachable;              /* the current point is reached by falling through */
    uint32_t wr;                /* registers (bit = id) instructions may write */
    int allow_rsp, allow_rbp;   /* the instruction being emitted may write rsp / rbp */
    int drift, drift_max;       /* bytes rsp moved (sum of |changes|) and the limit */
    int32_t slot_b[DT_SLOTS], slot_rsp[DT_SLOTS], slot_rbp[DT_SLOTS], slot_abs[DT_SLOTS];
    /* inside a kind_func callee (between its `mov rbp, rsp` and its epilogue): rbp is the
       callee's frame, rsp = rbp - frame; [rbp, rbp+16) holds the saved rbp and the return
       address, which only kind_func itself touches: gen_mem then addresses the callee's
       slots (slot_callee, below rbp) instead of the caller's, and B only if it points
       into the scratch buffer */
    int in_callee;
    int frame;
    int32_t slot_callee[DT_SLOTS];
    /* scalar-double code (kind_sse): the share of groups (percent) of that kind in this
       case; xhi: it may name xmm8..15 too (the promotion pass must then borrow a lower
       one); avx: the CPU has AVX (VEX forms allowed); its own 8-byte slots ([rbp-d] and
       [rsp+d] of the caller, [rbp-d] of a callee); how many instructions (and VEX ones)
       it emitted (kept here so that kind_func's undo takes them back) */
    int sse_pct, xhi, avx;
    int32_t slot_xrbp[DT_XSLOTS], slot_xrsp[DT_XSLOTS], slot_xcallee[DT_XSLOTS];
    int nsse, nvex;
    struct { int at, min; uint32_t def; } pend[DT_MAX_INSNS];
    int npend;
    ZydisDecoder dec;
} gen_t;

/* ---- random numbers (splitmix64) ---- */

static inline uint64_t gen_rand(gen_rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
static inline int gen_below(gen_t *g, int n) { return (int)(gen_rand(&g->rng) % (uint64_t)n); }
static inline int gen_chance(gen_t *g, int pct) { return gen_below(g, 100) < pct; }
static inline int gen_range(gen_t *g, int lo, int hi) { return lo + gen_below(g, hi - lo + 1); }

/* ---- requests ---- */

static inline void gen_rq(ZydisEncoderRequest *r, ZydisMnemonic m)
{
    memset(r, 0, sizeof(*r));
    r->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    r->mnemonic = m;
}

static inline void gen_rq_reg(ZydisEncoderRequest *r, ZydisRegister x)
{
    ZydisEncoderOperand *o = &r->operands[r->operand_count++];
    o->type = ZYDIS_OPERAND_TYPE_REGISTER;
    o->reg.value = x;
}

static inline void gen_rq_imm(ZydisEncoderRequest *r, int64_t v)
{
    ZydisEncoderOperand *o = &r->operands[r->operand_count++];
    o->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    o->imm.s = v;
}

static inline void gen_rq_mem(ZydisEncoderRequest *r, const gen_mem_t *m, int bytes)
{
    ZydisEncoderOperand *o = &r->operands[r->operand_count++];
    o->type = ZYDIS_OPERAND_TYPE_MEMORY;
    o->mem.base = m->base;
    o->mem.index = m->index;
    o->mem.scale = m->scale;
    o->mem.displacement = m->disp;
    o->mem.size = (ZyanU16)bytes;
}

/* ---- dt_gen.c ---- */

/* gen_value / gen_imm: an interesting 64-bit value / an immediate fitting a signed
 * `bits`-bit field (64-bit operations take 32). */
uint64_t gen_value(gen_t *g);
/* gen_double: the bits of an interesting double: zeros, small integers and fractions,
 * negatives, big and tiny ones, subnormals, now and then an infinity or a NaN (quiet or
 * signalling), or random bits. */
uint64_t gen_double(gen_t *g);
int64_t gen_imm(gen_t *g, int bits);
/* gen_reg: register id at width bits (8: al..r15b); gen_sized: the same, 8-bit ones
 * sometimes ah..bh; gen_wreg / gen_rreg: a register to write (never a reserved one) / to
 * read; gen_bits: an operand width. */
ZydisRegister gen_reg(int id, int bits);
ZydisRegister gen_sized(gen_t *g, int id, int bits);
int gen_wreg(gen_t *g);
int gen_rreg(gen_t *g);
int gen_bits(gen_t *g);
/* gen_slot: the next instruction slot (NULL when full), fdef set. gen_emit / gen_raw:
 * append an encoded request / raw bytes reading flags `reads` (refused unless all are
 * defined), affecting `aff` of which `defd` come out defined (maybe_zero: a count that may
 * be 0 leaves them); refused (0) when it does not encode or writes a register it may not. */
dt_insn_t *gen_slot(gen_t *g);
int gen_emit(gen_t *g, const ZydisEncoderRequest *r, uint32_t reads, uint32_t aff, uint32_t defd,
             int maybe_zero);
int gen_raw(gen_t *g, const uint8_t *b, int len, uint32_t reads, uint32_t aff, uint32_t defd);
/* gen_label: a group starts here; pending forward branches that may land here do (1 if
 * one did). */
int gen_label(gen_t *g);
/* gen_cc_reads: the flags condition cc reads; gen_cc: a condition whose flags are all
 * defined here (-1 if none). */
uint32_t gen_cc_reads(int cc);
int gen_cc(gen_t *g);
/* gen_mem: a memory operand (the indexed form emits its index mask first; in a callee, one
 * that cannot reach its saved rbp or return address); gen_rm: an r/m operand of `bits`
 * appended to r (a register from wr if written). */
int gen_mem(gen_t *g, gen_mem_t *m);
void gen_rm(gen_t *g, ZydisEncoderRequest *r, int bits, int written, int mem);

/* ---- dt_kinds.c ---- */

/* gen_one: one group of instructions of a random kind at the current point; gen_one_func:
 * a call that returns (kind_func) there, if it fits (else gen_one). */
void gen_one(gen_t *g);
void gen_one_func(gen_t *g);

/* gen_drift: rsp may move by d bytes more (0: it may not, nothing counted). */
int gen_drift(gen_t *g, int d);

/* ---- dt_kinds_branch.c: control transfers; each returns 1 if it emitted its group ---- */

/* gen_branch: a forward conditional branch, often (with cmp) right after a compare; or a
 * forward jump. Returns 1 if emitted. */
int gen_branch(gen_t *g, int cmp);
/* kind_branch: gen_branch, with a compare half the time; kind_call: a forward call whose
 * callee never returns; kind_loopx: loop, loope, loopne or jrcxz (rel8); kind_ijmp:
 * `jmp *reg` (see there). */
int kind_branch(gen_t *g);
int kind_call(gen_t *g);
int kind_loopx(gen_t *g);
int kind_ijmp(gen_t *g);

/* ---- dt_kinds_sse.c ---- */

/* kind_sse: one group of -O0 style scalar-double code; 1 if emitted. */
int kind_sse(gen_t *g);

#endif
