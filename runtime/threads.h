/* threads.h — the registry of threads under hotpath: creation of a thread's runtime state,
 * thread exit, and sums over all threads. */
#ifndef HOTPATH_THREADS_H
#define HOTPATH_THREADS_H
#include "runtime.h"

/* threads_new: runtime state for a new thread (a zombie's is reused once its thread is
 * gone): runtime stack, XSAVE area, lookup table, link records. NULL when out of memory.
 * Caller holds hp_rt.lock. */
hp_thread_t *threads_new(void) HP_HIDDEN;

/* threads_exit: t's thread is about to leave with the exit system call: its state becomes
 * a zombie, reused only after the kernel no longer knows its tid. Caller holds the lock. */
void threads_exit(hp_thread_t *t) HP_HIDDEN;

/* threads_discard: t was made for a thread the kernel did not create, or for a vfork
 * child that is gone: free it now (it no longer counts as live, nor as detached). */
void threads_discard(hp_thread_t *t) HP_HIDDEN;

/* threads_live: threads under hotpath that have not exited (>= 1). */
int threads_live(void) HP_HIDDEN;

/* threads_in_fork_child: in a fork child (own memory), only t exists: every other thread
 * becomes free; t gets its new tid, drops the signals its parent caught (the parent
 * delivers them) and redoes its per-thread setup (timers are not inherited). */
void threads_in_fork_child(hp_thread_t *t) HP_HIDDEN;

/* threads_signal_others: send sig (tgkill) to every live thread but self. Safe in a signal
 * handler: the registry is only ever prepended to. */
void threads_signal_others(hp_thread_t *self, int sig) HP_HIDDEN;

/* threads_trip_out: every thread state's counters of trip slot s (traces/trace_trip.c) run
 * out at once: a thread that enters the slot's new counted trace with counters that are not
 * for it leaves at once and takes the counting over. Caller holds the lock. */
void threads_trip_out(int s) HP_HIDDEN;

/* threads_ibl_count: indirect lookups that hit in the cache, summed over all threads. */
uint64_t threads_ibl_count(void) HP_HIDDEN;

/* threads_snapshot_dispatches: remember every thread's dispatcher pass count (a trace
 * flush). Caller holds the lock. */
void threads_snapshot_dispatches(void) HP_HIDDEN;

/* threads_all_dispatched_since: 1 if every live thread under hotpath (the caller too) has
 * finished a locked dispatcher pass since the last snapshot, so none is inside code
 * retired then, or holds a link or block record of it: after such a pass a thread enters
 * only fragments the tables hold. Caller holds the lock. */
int threads_all_dispatched_since(void) HP_HIDDEN;

#endif
