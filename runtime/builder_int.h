/* builder_int.h — the builder's translation context and helpers, shared by the block
 * builder (builder.c) and the trace builder (traces/trace_emit.c). Not for other modules. */
#ifndef HOTPATH_BUILDER_INT_H
#define HOTPATH_BUILDER_INT_H
#include <Zydis/Zydis.h>
#include "runtime.h"

#define BB_RETS 64              /* `pushq ret(%rip)` constants in one translation */

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
    int ended;                  /* a control transfer ended the translation */
    int overflow;               /* an array was full: the translation is abandoned */
    int n;                      /* app instructions translated */
    uint64_t cur;               /* after bb_translate: the app pc after the last one */
    const char *why;
    /* trace building: the app pcs of the recorded blocks; follow[fi] is being translated */
    const uint64_t *follow;
    const uint32_t *lens;       /* instructions of each recorded block */
    int nfollow, fi;
} bb_ctx_t;

typedef hp_status_t (*bb_action_t)(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                                   const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code);

enum { BB_CTI_NONE, BB_CTI_JMP, BB_CTI_JCC, BB_CTI_LOOP, BB_CTI_CALL, BB_CTI_INDIRECT };

/* bb_translate: translate app code from pc into c (c->start..c->end reserved) until a
 * control transfer ends it; with c->follow, a control transfer whose recorded successor
 * is known goes through trace_cti and the translation goes on there. code: the bytes
 * (NULL: app memory itself), limit: end of readable code. */
hp_status_t bb_translate(bb_ctx_t *c, uint64_t pc, const uint8_t *code, uint64_t limit,
                         const char **why) HP_HIDDEN;
/* bb_finish: stubs for c's exits, return-address constants; a new block object. */
hp_status_t bb_finish(bb_ctx_t *c, uint64_t pc, uint64_t end_pc, int n_insns, hp_block_t **out) HP_HIDDEN;
void bb_add_exit(bb_ctx_t *c, uint32_t kind, uint64_t target, uint8_t *field, uint32_t len) HP_HIDDEN;
void bb_push_return(bb_ctx_t *c, uint64_t ret) HP_HIDDEN;
uint8_t *bb_ibl(uint8_t *p) HP_HIDDEN;
/* bb_indirect_target: spill rcx and put the app target of an indirect jmp/call or ret in
 * rcx (a call also pushes its app return address; a ret pops). */
hp_status_t bb_indirect_target(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *ops, uint64_t pc) HP_HIDDEN;
void bb_xl(bb_ctx_t *c, uint64_t app_pc, uint8_t *at, int kind) HP_HIDDEN;
int bb_cti_kind(bb_action_t act) HP_HIDDEN;

/* trace_cti (traces/trace_emit.c): translate a control transfer of kind cti at app pc
 * whose recorded successor is `next`, so that the trace falls through to `next` and other
 * outcomes leave through exits. HP_ERR_UNSUPPORTED when next is not one of its outcomes. */
hp_status_t trace_cti(bb_ctx_t *c, int cti, const ZydisDecodedInstruction *in,
                      const ZydisDecodedOperand *ops, uint64_t pc, uint64_t next) HP_HIDDEN;

#endif
