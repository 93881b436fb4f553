/* frame.h — stack-frame tracking over a trace: where rsp and rbp point before each
 * instruction, as offsets from rsp at the trace head (S0), and which stack bytes each
 * instruction reads and writes (explicit [rsp/rbp + disp] operands and the implicit ones of
 * push, pop, leave, call and ret). This lets a loop that calls -O0 functions (which push
 * rbp, set up a frame and return) see the callee's slots and the pushed return address at
 * fixed offsets from S0, below the caller's.
 * Offsets that come from rbp at the head are S0 + k, where k = rbp - rsp at the head as
 * seen when the path was recorded (ir_trace_t.frame_k); they are only valid while that
 * holds, so a user mixing them with offsets that come from rsp (fr_info_t.mixed) must check
 * rbp - rsp == k on entry (pass_promote's preheader guard); the remembered cells are
 * forgotten by any write whose offset came from the other register, so `ret_ok` and a
 * popped rbp never depend on k. A trace whose frame_k is not known tracks rbp-derived
 * offsets with k = 0 and, when they mix with rsp-derived ones, knows no access at all.
 * Invariants: conservative: a write whose address is not known here is `wild`; after a
 * system call or an opaque instruction nothing is known about memory contents; once rsp or
 * rbp is written in a way not modelled, it stays unknown to the end of the trace. */
#ifndef HOTPATH_FRAME_H
#define HOTPATH_FRAME_H
#include "ir.h"

#define FR_MAX_ACC 3            /* stack accesses of one instruction (push [m]: 2) */

typedef struct {
    int64_t off;                /* offset from S0 */
    int size;                   /* bytes */
    int8_t op;                  /* index in ops[] of the explicit operand, -1: implicit */
    uint8_t write;
} fr_acc_t;

typedef struct {
    uint8_t rsp_ok, rbp_ok;     /* rsp / rbp before the instruction are known */
    int64_t rsp, rbp;           /* ... at these offsets from S0 */
    uint8_t rbp_head;           /* rbp before the instruction is the head's rbp */
    uint8_t nacc;               /* its stack accesses at known offsets */
    fr_acc_t acc[FR_MAX_ACC];
    uint8_t wild;               /* writes memory at an address not known here */
    uint8_t ret_ok;             /* IR_IND ret: [rsp] holds the return address an IR_CALL of
                                   this trace pushed for exactly its recorded target, not
                                   written since (so the check cannot fail) */
} fr_insn_t;

typedef struct {
    fr_insn_t *at;              /* one per instruction (t->n) */
    int n;
    int balanced;               /* the trace goes back to its head (an IR_EXIT or IR_JCC to
                                   it) and wherever it does, rsp == S0 and rbp is the head's */
    int mixed;                  /* offsets derived from both the head's rsp and its rbp */
    int from_rsp, from_rbp;     /* some access's offset came from the head's rsp / rbp */
} fr_info_t;

/* fr_track: track t's stack frames into f (f->at allocated here; free with fr_free).
 * HP_ERR_NOMEM when out of memory (f is then empty). */
hp_status_t fr_track(const ir_trace_t *t, fr_info_t *f);
void fr_free(fr_info_t *f);

/* fr_overlaps: the accesses [a, a+as) and [b, b+bs) share a byte. */
static inline int fr_overlaps(int64_t a, int as, int64_t b, int bs)
{
    return a < b + bs && b < a + as;
}

#endif
