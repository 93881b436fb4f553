/* trace.h — hot traces (Dynamo's next-executing tail): trace heads are counted in the
 * dispatcher, a hot head makes its thread record the blocks that run next, and the path
 * becomes one trace in the cache that replaces the head's block. */
#ifndef HOTPATH_TRACE_H
#define HOTPATH_TRACE_H
#include "runtime.h"

/* trace_is_head_exit: 1 if exit l to app pc `pc` (block `to`, or NULL if none yet) leads
 * to a trace head (a backward direct branch, any direct exit of a trace, or a miss in the
 * traces' lookup table) and must stay unlinked, or out of that table, until its target is
 * a trace itself or no trace can start there. */
int trace_is_head_exit(const hp_link_t *l, uint64_t pc, const hp_block_t *to) HP_HIDDEN;

/* trace_no_trace_at: 1 if building a trace at pc failed (it stays a block). Lock held. */
int trace_no_trace_at(uint64_t pc) HP_HIDDEN;

/* trace_dispatch: the trace part of a dispatcher pass for thread t arriving at app pc
 * through exit l (NULL: a system call, a signal, a resume). Counts heads, starts, extends
 * and ends recordings. Returns the block to enter instead of the normal lookup (a private
 * copy while recording), or NULL. Caller holds hp_rt.lock. */
hp_block_t *trace_dispatch(hp_thread_t *t, const hp_link_t *l, uint64_t pc) HP_HIDDEN;

/* trace_promotion_fault: loading a promoted slot before the loop at head faulted (maybe
 * where native code would have left the loop before the access; why =
 * TRACE_FLUSH_PROMO_FAULT), or its preheader found another frame than the loop was built
 * for (TRACE_FLUSH_PROMO_FRAME): every trace is flushed and head's traces are built without
 * promotion from now on. Caller holds the lock. */
void trace_promotion_fault(hp_thread_t *t, uint64_t head, int why) HP_HIDDEN;
/* trace_no_promote_at: traces starting at pc must not promote (trace_emit.c). */
int trace_no_promote_at(uint64_t pc) HP_HIDDEN;

/* trace_abort: stop t's recording, if any (a signal, a detach). Caller holds the lock. */
void trace_abort(hp_thread_t *t) HP_HIDDEN;

/* trace_forget: code in [lo, hi) changed: drop private copies and head counts there
 * (everything when lo == 0 and hi == ~0). Caller holds the lock. */
void trace_forget(uint64_t lo, uint64_t hi) HP_HIDDEN;

/* trace_build (trace_emit.c): translate the recorded blocks pcs[0..n), of lens[i] app
 * instructions each (as their blocks had), into a trace. succ: where the path went after
 * pcs[n-1] when that block ends in an indirect branch (0: unknown; the trace then ends
 * in a lookup, else in a check against succ and an exit there). frame_k: rbp - rsp at
 * pcs[0] when the path was recorded (NULL: unknown), see optimizer/frame.h. */
hp_status_t trace_build(const uint64_t *pcs, const uint32_t *lens, int n, uint64_t succ,
                        const int64_t *frame_k, hp_block_t **out, const char **why) HP_HIDDEN;

/* trace_reset_heads: every head counts from zero again (after a flush); a head no trace
 * could start from may try again. Private copies are kept. Caller holds the lock. */
void trace_reset_heads(void) HP_HIDDEN;

/* trace_raise_threshold: heads need twice as many executions from now on (up to 2^20):
 * after a full-cache flush, so a working set larger than the cache stops thrashing. */
void trace_raise_threshold(void) HP_HIDDEN;

/* trace_cache.c: the trace cache's limit in bytes (--cache-size); the check before a
 * trace is built (reuse retired units if safe, flush when full); the bookkeeping after one
 * is installed (peak size, phase changes); a flush of every trace (why: a TRACE_FLUSH_*).
 * Caller holds the lock. */
enum { TRACE_FLUSH_FULL, TRACE_FLUSH_PHASE, TRACE_FLUSH_THREADS, TRACE_FLUSH_PROMO_FAULT, TRACE_FLUSH_PROMO_FRAME };
uint64_t trace_cache_limit(void) HP_HIDDEN;
/* trace_cache_room: bytes of traces that still fit under the limit (a trace being built
 * gets at most this much; a longer one is cut to a prefix that fits). */
uint64_t trace_cache_room(void) HP_HIDDEN;
void trace_cache_before_build(hp_thread_t *t) HP_HIDDEN;
void trace_cache_built(hp_thread_t *t) HP_HIDDEN;
void trace_cache_flush(hp_thread_t *t, int why) HP_HIDDEN;
/* trace_cache_replace: trace b (built, not yet in any table) takes trace old's place in the
 * block table (old's head block, if it superseded one, goes with it); old is out of every
 * table and link, its memory stays (a thread may be in it). Caller holds the lock. */
void trace_cache_replace(hp_block_t *old, hp_block_t *b) HP_HIDDEN;

/* trace_trip.c: loop trip counts before promotion. Modes of a head's loop trace:
 * TRIP_COUNT: not known yet (the trace is built counted, if a slot is free),
 * TRIP_PROMOTE: promoted whole, TRIP_PEEL: its first round unpromoted, TRIP_PLAIN: not
 * promoted. */
enum { TRIP_COUNT, TRIP_PROMOTE, TRIP_PEEL, TRIP_PLAIN };
/* trace_trip_mode: how a loop trace at head is built now (TRIP_PROMOTE when counting is
 * off, --no-trip, or the process has threads). */
int trace_trip_mode(uint64_t head) HP_HIDDEN;
/* trace_trip_alloc / trace_trip_free: a counter slot (0..T_TRIP_SLOTS-1) for a counted
 * trace being built, or -1 when all are taken; given back when the build fails. */
int trace_trip_alloc(void) HP_HIDDEN;
void trace_trip_free(int slot) HP_HIDDEN;
/* trace_trip_installed: trace b was installed for t (tr_finish); if it is counted
 * (b->trip), its slot's counters start and its path is kept to build it again. */
void trace_trip_installed(hp_thread_t *t, hp_block_t *b, const uint64_t *pcs, const uint32_t *lens,
                          int n, uint64_t succ, const int64_t *frame_k) HP_HIDDEN;
/* trace_trip_done: counted trace l->from left through its LINK_TRIP exit l (its counters
 * ran out): decide its head's mode and build its trace again, replacing it. */
void trace_trip_done(hp_thread_t *t, const hp_link_t *l) HP_HIDDEN;
/* trace_trip_reset: every trace was flushed (trace_cache_flush), or the whole cache for
 * changed code (trace_forget): every counter slot is free again. The heads' kept paths go
 * with their entries' reset (trace_reset_heads) or removal (trace_forget). */
void trace_trip_reset(void) HP_HIDDEN;

#endif
