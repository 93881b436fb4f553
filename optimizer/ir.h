/* ir.h — the trace IR, shared by trace building (traces/) and the optimizer passes.
 *
 * A trace is the recorded path as a straight list of instructions, each with the app
 * address it comes from, its encoding and its Zydis decoding. Control flow is explicit:
 * the path falls through from one instruction to the next; an instruction of an exit kind
 * (IR_JCC, IR_LOOP, IR_IND miss, IR_EXIT, IR_SYSCALL seen by the runtime) leaves the
 * trace to an app address. Direct jumps of the path are gone; direct calls are IR_CALL
 * (the return address push, the callee follows); indirect branches and returns are IR_IND
 * with the recorded target, checked inline.
 *
 * Invariants:
 * - bytes/zi/ops always agree: change an instruction only through ir_set_insn (which
 *   encodes and decodes again). A RIP-relative operand is encoded as if the instruction
 *   sat at app_pc; the emitter moves it.
 * - app_pc of an inserted instruction (IR_F_NEW) is the app pc of the original instruction
 *   it stands before: the app state there is described by the xl map of that pc.
 * - the last instruction ends the trace (IR_EXIT, or IR_IND without a recorded target).
 * - an IR_EXIT's app_pc is its target: the state there is the app's state at the target
 *   (a signal delivered at the exit must not re-run the call or loop before it).
 * - only IR_COPY and IR_SYSCALL instructions are app computation; the other kinds are the
 *   trace's own control flow and keep every app register and flag (except IR_CALL's push
 *   and IR_IND's rsp/target effects, which are the app's own). */
#ifndef HOTPATH_IR_H
#define HOTPATH_IR_H
#include <stdint.h>
#include <Zydis/Zydis.h>
#include "hotpath/status.h"

typedef enum {
    IR_COPY,      /* an app instruction, executed as is */
    IR_JCC,       /* leaves to target when condition cc holds; else the path goes on */
    IR_LOOP,      /* jrcxz/jecxz/loop*: bytes are the app instruction; see IR_F_TAKEN_STAYS */
    IR_CALL,      /* a direct call on the path: pushes the app return address `target` */
    IR_IND,       /* indirect jmp/call or ret (zi/ops): target = recorded successor (0: none,
                     the lookup alone ends the trace) */
    IR_SYSCALL,   /* syscall: filtered inline (the runtime sees the calls it must) */
    IR_EXIT,      /* leaves to target: the end of the trace */
} ir_kind_t;

enum {
    IR_F_NEW = 1,          /* inserted by a pass, not an app instruction */
    IR_F_TAKEN_STAYS = 2,  /* IR_LOOP: the path went on at the taken target; leaves at the
                              fall-through (without: goes on at the fall-through, leaves at
                              target) */
    IR_F_INEXACT = 4,      /* app state at this instruction differs from native (a pass moved
                              work): a fault here must be recovered (see optimizer/README.md) */
    IR_F_ALIAS = 8,        /* IR_COPY in a promoted loop: a store through a pointer that may
                              hit a promoted slot; the emitter checks its address after it
                              (flag-free, in the borrowed rcx) and reloads the promoted
                              registers when it lands near them (pass_promote.c) */
    IR_F_ALIAS_FL = 16,    /* the same with flags: the status flags are dead after it up to a
                              writer of them, with nothing that can fault between (marked
                              IR_F_INEXACT); the emitter checks its address in the loop's
                              scratch register (lea/sub/cmp/jb, nothing taken when it lands
                              away from the slots) and reloads out of line (pass_promote.c) */
    IR_F_WILD = 32,        /* pass_promote.c, only while it runs: a store it follows with reloads */
    IR_F_CHECK_FL = 64,    /* IR_IND through a register: its inline check compares with flags;
                              comp holds the instructions that compute the app's flags again,
                              run on the miss path (pass_flagcheck.c) */
    IR_F_CHECK_REMAT = 128,  /* with IR_F_CHECK_FL: the hit path runs comp too (else the flags
                              are dead after the branch, the region up to their writer inexact) */
};

typedef struct ir_insn {
    uint8_t kind;               /* ir_kind_t */
    uint8_t cc;                 /* IR_JCC: condition code (low nibble of a jcc opcode) */
    uint8_t len;                /* length of bytes */
    uint8_t flags;              /* IR_F_* */
    uint16_t replay;            /* an app instruction that can fault, after a register move a
                                   pass removed as dead (pass_dce.c): at a fault or signal
                                   here that move is applied to the context first
                                   (IR_REPLAY; 0: none; runtime.h XL_F_REPLAY) */
    uint8_t bytes[16];          /* the encoding (as if at app_pc) */
    uint64_t app_pc;
    uint64_t target;            /* IR_JCC/IR_LOOP/IR_EXIT: where the exit goes; IR_CALL: the
                                   return address pushed; IR_IND: the recorded target */
    uint64_t target2;           /* IR_IND: a second target its miss path checks before the
                                   lookup, leaving through a linked exit (0: none;
                                   pass_retsites.c); within +-2 GiB of target */
    struct ir_insn *comp;       /* IR_JCC exits: app instructions a pass moved off the path,
                                   run on the way out after the branch, before borrowed
                                   registers are restored (ir_emit.c; pass_sink.c); IR_IND
                                   with IR_F_CHECK_FL: what gives the flags back (its miss
                                   path runs it first; pass_flagcheck.c) */
    int ncomp;
    uint8_t eff_kind;           /* analysis.c's cache of an_effects: the kind + 1 it holds
                                   the effects of (0: none; ir_decode clears it, and zi/ops
                                   change only through ir_set_insn, which decodes again) */
    uint64_t eff[4];
    ZydisDecodedInstruction zi;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
} ir_insn_t;

/* ir_insn_t.replay: op (XL_RP_*, runtime.h) << 8 | destination << 4 | source (hardware
 * numbers). */
#define IR_REPLAY(op, dst, src) ((uint16_t)((op) << 8 | (dst) << 4 | (src)))

/* A stack slot a loop keeps in a register (pass_promote.c). */
#define IR_MAX_PROMO 8
typedef struct {
    int reg;                    /* the register holding it (hardware number) */
    int xmm;                    /* reg is xmm<reg> (a double slot), else a general register */
    int base;                   /* the slot: [base + disp], size bytes (4 or 8); -1: no slot,
                                   a scratch register the loop borrows (rcx of IR_F_ALIAS) */
    int64_t disp;
    int size;
} ir_promo_t;

typedef struct {
    ir_insn_t *insn;
    int n, cap;
    uint64_t head;              /* app pc of the first instruction (the trace head) */
    int napp;                   /* app instructions the path holds (for statistics) */
    /* a loop (the last instruction is an IR_EXIT to head) whose stack slots live in
       registers: a preheader saves the registers' app values in the thread (T_PROMO) and
       loads the slots; the loop jumps back past it; every exit restores the registers */
    int npromo;
    ir_promo_t promo[IR_MAX_PROMO];
    int one_thread;             /* a pass relied on no other thread writing this thread's
                                   stack (retpair): flushed when a second thread starts */
    int no_promote;             /* no loop promotion: other threads may share memory, or a
                                   preheader of this head faulted (trace_emit.c) */
    int threads;                /* other threads may run (hp_rt.multithreaded): what a pass
                                   could rely on with one thread alone (retpair) is off */
    int no_fold;                /* no folding of app data (pass_jtable.c): other threads may
                                   change it unseen, madvise DONTFORK or io_uring was used
                                   (hp_rt.no_fold_data; trace_emit.c) */
    uint64_t (*src)[2];         /* the recorded blocks' bytes [lo, hi), whole (direct jumps
                                   the IR dropped included), and read-only data a pass
                                   folded (ir_add_src): what the trace depends on */
    int nsrc;
    int64_t frame_k;            /* rbp - rsp at the head when the path was recorded */
    int frame_k_ok;             /* frame_k is known (optimizer/frame.h) */
    int unpromoted;             /* left unpromoted by choice (trace_emit.c): the first round
                                   of a peeled loop (ir_emit_peeled), a counted loop
                                   (ir_emit_counted), one its trip counts leave as it is */
    int promo_guard;            /* the preheader checks rbp - rsp == frame_k (the slots'
                                   addresses depend on it); if not, the head is promoted no
                                   more (an exit of kind LINK_PROMO) */
    uint64_t succ;              /* set before ir_build_path: where the path went after its
                                   last block when that ends in an indirect branch (0:
                                   unknown); the branch is then checked against it */
} ir_trace_t;

/* ir_init / ir_free: an empty trace with room for cap instructions / release its memory
 * (compensation lists included). */
hp_status_t ir_init(ir_trace_t *t, int cap);
void ir_free(ir_trace_t *t);

/* ir_decode: decode the instruction at bytes (up to avail bytes) into i (kind IR_COPY,
 * app_pc pc). HP_ERR_DECODE when it is not a valid instruction. */
hp_status_t ir_decode(ir_insn_t *i, uint64_t pc, const uint8_t *bytes, uint64_t avail);

/* ir_append / ir_insert: add a copy of *i at the end / before index at; returns the new
 * slot or NULL when the trace is full. */
ir_insn_t *ir_append(ir_trace_t *t, const ir_insn_t *i);
ir_insn_t *ir_insert(ir_trace_t *t, int at, const ir_insn_t *i);

/* ir_remove: delete instruction at (its compensation list too). ir_remove_range: delete
 * count instructions from at on, moving the rest once (nothing when the range is not
 * inside the trace). */
void ir_remove(ir_trace_t *t, int at);
void ir_remove_range(ir_trace_t *t, int at, int count);
/* ir_close_gap: [top, n) moves down to at (0 <= at <= top <= n) in one move, nothing freed:
 * for a pass that gathered what stays at the top in a backward walk (the gap [at, top)
 * holds only stale copies or removed instructions whose lists it freed itself). */
void ir_close_gap(ir_trace_t *t, int at, int top);

/* ir_add_src: the trace also depends on the app bytes [lo, hi) (read-only data a pass
 * folded into it): writing them, or changing their mapping, invalidates it (runtime/flush.c
 * through the trace's ranges). */
hp_status_t ir_add_src(ir_trace_t *t, uint64_t lo, uint64_t hi);

/* ir_cut: end the trace at instruction k, an IR_CALL (the push stays, then an exit to the
 * callee) or an IR_IND (its lookup ends the trace): what followed is dropped. */
void ir_cut(ir_trace_t *t, int k);

/* ir_request: the encoder request of i as it is, RIP-relative displacements absolute (what
 * ir_set_insn takes); 0 if Zydis cannot make one. */
int ir_request(const ir_insn_t *i, ZydisEncoderRequest *req);

/* ir_set_insn: re-encode i from an encoder request (RIP-relative memory operands take the
 * absolute address as displacement), keeping app_pc, kind and flags. */
hp_status_t ir_set_insn(ir_insn_t *i, const ZydisEncoderRequest *req);

/* ir_build_path: the IR of the recorded path: blocks at pcs[0..n) of lens[i] app
 * instructions each, read from app memory. A path the code cannot take (a recorded block
 * that is not an outcome of the previous one's branch, a branch inside a block) or an
 * instruction a trace cannot hold: HP_ERR_UNSUPPORTED with *why. */
hp_status_t ir_build_path(ir_trace_t *t, const uint64_t *pcs, const uint32_t *lens, int n,
                          const char **why);

/* ir_is_loop: 1 if t is a loop in the form straighten makes: its last two instructions are
 * an IR_JCC that leaves and an IR_EXIT back to its head. The emitter then closes the loop
 * with one backward conditional branch (taken while it loops) inside the trace. */
static inline int ir_is_loop(const ir_trace_t *t)
{
    return t->n >= 2 && t->insn[t->n - 1].kind == IR_EXIT && t->insn[t->n - 1].target == t->head &&
           t->insn[t->n - 2].kind == IR_JCC && t->insn[t->n - 2].target != t->head;
}

/* ir_promo_span: the bytes [*lo, *hi) (offsets from their base) that the first n promoted
 * entries with a slot cover; 1 if every one of them is [rbp + disp] (AN_RBP, id 5) and
 * there is at least one. The address checks of stores (IR_F_ALIAS) test against it. */
static inline int ir_promo_span(const ir_trace_t *t, int n, int64_t *lo, int64_t *hi)
{
    int rbp = 0;
    *lo = INT64_MAX;
    *hi = INT64_MIN;
    for (int k = 0; k < n; k++) {
        const ir_promo_t *p = &t->promo[k];
        if (p->base < 0) continue;
        if (p->base != 5) return 0;
        rbp = 1;
        if (p->disp < *lo) *lo = p->disp;
        if (p->disp + p->size > *hi) *hi = p->disp + p->size;
    }
    return rbp;
}

/* ir_promo_scratch: the register a promoted loop borrows without a slot (the address
 * checks' scratch), or -1. */
static inline int ir_promo_scratch(const ir_trace_t *t)
{
    for (int k = 0; k < t->npromo; k++)
        if (t->promo[k].base < 0) return t->promo[k].reg;
    return -1;
}

/* ir_check_direct: store operand m is [rbp + index*s + disp]: its check with flags needs no
 * sub of rbp (lea D(,%index,s) gives the offset from rbp at once). */
static inline int ir_check_direct(const ZydisDecodedOperand *m)
{
    return m->mem.base == ZYDIS_REGISTER_RBP && m->mem.index != ZYDIS_REGISTER_NONE &&
           m->mem.index != ZYDIS_REGISTER_RBP;
}

/* ir_is_exit: 1 if i can leave the trace. */
static inline int ir_is_exit(const ir_insn_t *i)
{
    return i->kind == IR_JCC || i->kind == IR_LOOP || i->kind == IR_IND ||
           i->kind == IR_EXIT || i->kind == IR_SYSCALL;
}

/* ir_format: one line of text for i ("0x401000  add rax, rbx" or "exit -> 0x..."); for
 * tests and --verbose dumps. */
void ir_format(const ir_insn_t *i, char *buf, int cap);

#endif
