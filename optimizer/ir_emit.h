/* ir_emit.h — writing a trace's IR into the code cache. */
#ifndef HOTPATH_IR_EMIT_H
#define HOTPATH_IR_EMIT_H
#include "ir.h"
#include "builder_int.h"

/* ir_emit: write the code of trace t into c (a reservation, exits and map arrays set up by
 * the caller), then the out-of-line code; the caller finishes with bb_finish. On failure
 * *why says why (the caller abandons the reservation). */
hp_status_t ir_emit(bb_ctx_t *c, const ir_trace_t *t, const char **why) HP_HIDDEN;

/* ir_emit_peeled: a promoted loop t (npromo > 0) whose rounds run promoted only from the
 * second on: first (the same path, optimized without promotion) is written first, its ways
 * round going to t's preheader, then t as ir_emit writes it. A loop left in its first
 * round pays neither the preheader nor the restores. Each part keeps its own out-of-line
 * code (first's exits restore nothing). Same contract as ir_emit. */
hp_status_t ir_emit_peeled(bb_ctx_t *c, const ir_trace_t *first, const ir_trace_t *t,
                           const char **why) HP_HIDDEN;

/* ir_emit_counted: loop trace t (not promoted: the same path as a promoted loop, optimized
 * without promotion) with trip counters (traces/trace_trip.c): before its body the entries
 * left in the thread's slot `slot` (gs:T_TRIP + 16 * slot) count down, on every way round
 * the rounds left (gs:T_TRIP + 16 * slot + 8); when one ran out the trace leaves at its
 * head through a LINK_TRIP exit. Flag-free, in rcx spilled; a signal there is delivered
 * after single-stepping. Same contract as ir_emit. */
hp_status_t ir_emit_counted(bb_ctx_t *c, const ir_trace_t *t, int slot, const char **why) HP_HIDDEN;

#endif
