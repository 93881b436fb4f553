/* builder_int.h — the builder's translation context and helpers, shared by the block
 * builder (builder.c) and the trace builder (traces/trace_emit.c). Not for other modules. */
#ifndef HOTPATH_BUILDER_INT_H
#define HOTPATH_BUILDER_INT_H
#include <Zydis/Zydis.h>
#include "runtime.h"
#include "heap.h"

#define BB_RETS 128             /* 8-byte constants after one translation's stubs: return
                                   addresses (`pushq ret(%rip)`), checked targets (`cmp
                                   target(%rip),%reg`, pass_flagcheck.c) */
#define BB_COLD 64              /* out-of-line lookups of a trace's inline target checks */

typedef struct {
    uint32_t kind;
    uint64_t target;
    uint8_t *field;             /* rel32 in the body that must reach the stub */
    uint32_t insn_len;
} bb_exit_t;

typedef struct bb_ctx {
    uint8_t *start, *p, *end;   /* the cache reservation and the write pointer */
    bb_exit_t *exits;           /* exits being built (caller's array of cap_exits) */
    int nexits, cap_exits;
    hp_xl_t *xl;                /* cache pc -> app pc map being built */
    int n_xl, cap_xl;
    struct { uint8_t *field; uint64_t value; } rets[BB_RETS];
    int nrets;
    uint8_t *cold[BB_COLD];     /* rel32 fields of jumps to out-of-line lookups (traces) */
    struct { uint64_t next, alt; const struct ir_insn *fl; } cold_alt[BB_COLD];  /* each
                                   one's checked target, a second one its miss path tries
                                   first (alt 0: none), and for a check with flags its IR_IND
                                   (fl; else 0: the flag-free check's miss path) */
    int ncold;
    struct { uint8_t *field; uint64_t target; const struct ir_insn *comp; } cold_exits[BB_COLD];
    int ncold_exits;            /* exits that run compensation code (comp: the exit's IR
                                   instruction) or restore promoted registers first (out of
                                   line, traces; optimizer/ir_emit.c) */
    struct { uint8_t *field, *back; } cold_reload[BB_COLD];  /* a promoted loop's reloads after */
    int ncold_reload;           /* a store checked with flags (IR_F_ALIAS_FL), and the way back */
    uint32_t promo_lo, promo_hi;  /* a promoted loop's preheader loads and body (offsets) */
    int loops;                  /* the trace goes round inside itself (ir_is_loop) */
    int ended;                  /* a control transfer ended the translation */
    int overflow;               /* an array was full: the translation is abandoned */
    int rcx_spilled;            /* the app's rcx is in gs:T_SPILL_RCX, not in rcx (traces:
                                   between two inline checks, ir_emit.c ie_keep_spill): map
                                   entries say so, the next indirect target skips its spill */
    int n;                      /* app instructions translated */
    uint64_t cur;               /* after bb_translate: the app pc after the last one */
    const char *why;
} bb_ctx_t;

typedef hp_status_t (*bb_action_t)(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                                   const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code);

enum { BB_CTI_NONE, BB_CTI_JMP, BB_CTI_JCC, BB_CTI_LOOP, BB_CTI_CALL, BB_CTI_INDIRECT,
       BB_K_SYSCALL, BB_K_UNSUPPORTED };

/* bb_insn_kind: how the builder treats `in`: BB_CTI_NONE (copied), a BB_CTI_* control
 * transfer, BB_K_SYSCALL, or BB_K_UNSUPPORTED (c->why says why). */
int bb_insn_kind(bb_ctx_t *c, const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops) HP_HIDDEN;
/* bb_copy / bb_syscall: the builder's actions for a copied instruction (RIP-relative
 * operands moved) and a system call (the inline filter), at app pc from bytes code. */
hp_status_t bb_copy(bb_ctx_t *c, const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                    uint64_t pc, const uint8_t *code) HP_HIDDEN;
hp_status_t bb_syscall(bb_ctx_t *c, const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops,
                       uint64_t pc, const uint8_t *code) HP_HIDDEN;

/* bb_translate: translate app code from pc into c (c->start..c->end reserved) until a
 * control transfer ends it. code: the bytes, limit: end of readable code. */
hp_status_t bb_translate(bb_ctx_t *c, uint64_t pc, const uint8_t *code, uint64_t limit,
                         const char **why) HP_HIDDEN;
/* bb_finish: stubs for c's exits, return-address constants; a new block object. */
hp_status_t bb_finish(bb_ctx_t *c, uint64_t pc, uint64_t end_pc, int n_insns, hp_block_t **out) HP_HIDDEN;
void bb_add_exit(bb_ctx_t *c, uint32_t kind, uint64_t target, uint8_t *field, uint32_t len) HP_HIDDEN;
void bb_push_return(bb_ctx_t *c, uint64_t ret) HP_HIDDEN;
uint8_t *bb_ibl(uint8_t *p) HP_HIDDEN;

/* bb_req_reg: an encoder request for `m` with n operands, operand 0 the register r. */
static inline void bb_req_reg(ZydisEncoderRequest *req, ZydisMnemonic m, int n, ZydisRegister r)
{
    hp_memset(req, 0, sizeof(*req));
    req->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    req->mnemonic = m;
    req->operand_count = (ZyanU8)n;
    req->operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req->operands[0].reg.value = r;
}
uint8_t *bb_ibl_trace(uint8_t *p) HP_HIDDEN;
/* bb_rip_const: the disp32 of a RIP-relative operand ending the instruction at c->p,
 * pointing at a constant v that bb_finish writes after the stubs (c->nrets < BB_RETS). */
void bb_rip_const(bb_ctx_t *c, uint64_t v) HP_HIDDEN;
/* bb_load_target: mov the target of indirect jmp/call `in` (operand op, at app pc) into
 * rcx (the app's rcx already spilled). */
hp_status_t bb_load_target(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                           const ZydisDecodedOperand *op, uint64_t pc) HP_HIDDEN;

/* bb_indirect_target: spill rcx (unless c->rcx_spilled says it is already: then the
 * operand must not read rcx) and put the app target of an indirect jmp/call or ret in rcx
 * (a call also pushes its app return address; a ret pops). */
hp_status_t bb_indirect_target(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *ops, uint64_t pc) HP_HIDDEN;
void bb_xl(bb_ctx_t *c, uint64_t app_pc, uint8_t *at, int kind) HP_HIDDEN;
int bb_cti_kind(bb_action_t act) HP_HIDDEN;


#endif
