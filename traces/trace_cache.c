/* trace_cache.c — the trace cache's size and flushes (issue #4 item 5).
 * Traces live in cache units of their own (cache.c). They are flushed all at once, as in
 * Dynamo, when the live units would pass --cache-size, or on a phase change: after a
 * stable stretch (at least TC_STABLE intervals of TC_INTERVAL_NS with at most TC_QUIET new
 * traces each) the program builds TC_BURST traces within one interval (--no-phase-flush
 * turns this off; it is the only decision that depends on time).
 * After a full flush heads need twice the executions (Dynamo's cache thrashed on working
 * sets larger than itself; here the hottest paths keep their traces).
 * A flush takes every trace out of the tables (the head blocks they replaced come back), unlinks what jumps into it and what it
 * linked to, resets the head counters, and retires its units. Threads may still be running
 * a flushed trace: the units are reused only once every other thread has passed the
 * dispatcher since the flush (threads.c counts locked passes; the flushing thread's own
 * pass counts only once it is over, since it may still hold a flushed trace's exit record);
 * until then new traces go to new units. Invariants: caller holds hp_rt.lock; a retired fragment's memory and records stay
 * intact until reuse, so a thread still inside leaves through its (unlinked) exits. */
#include "trace.h"
#include "block_table.h"
#include "cache.h"
#include "flush.h"
#include "fmt.h"
#include "heap.h"
#include "ibl.h"
#include "sys.h"
#include "threads.h"

#define TC_INTERVAL_NS 100000000ull    /* 100 ms */
#define TC_STABLE 3
#define TC_QUIET 4
#define TC_BURST 32
#define TC_MIN_SIZE (16u << 10)

static uint64_t tc_interval_start;
static hp_block_t *tc_restore;          /* head blocks to put back after a flush */
static int tc_in_interval, tc_stable;

static uint64_t tc_now_ns(void)
{
    struct { long sec, nsec; } ts = { 0, 0 };
    sys_call2(__NR_clock_gettime, 1 /* CLOCK_MONOTONIC */, &ts);
    return (uint64_t)ts.sec * 1000000000ull + (uint64_t)ts.nsec;
}

uint64_t trace_cache_limit(void)
{
    uint64_t kib = hp_rt.opts.cache_size > 0 ? (uint64_t)hp_rt.opts.cache_size : 16384;
    uint64_t bytes = kib << 10;
    return bytes < TC_MIN_SIZE ? TC_MIN_SIZE : bytes;
}

/* tc_unlink_out: b's exits leave the incoming lists of the blocks they are linked to. */
static void tc_unlink_out(hp_block_t *b)
{
    for (hp_link_t *l = b->exits; l; l = l->next) {
        if (!l->to) continue;
        for (hp_link_t **pp = &l->to->incoming; *pp; pp = &(*pp)->next_in)
            if (*pp == l) { *pp = l->next_in; break; }
        l->to = 0;
    }
}

/* tc_take_out: trace b out of the lookup tables, nothing jumps in, its links leave the
 * lists of the blocks they lead to (the block table is the caller's). */
static void tc_take_out(hp_block_t *b)
{
    b->invalid = 1;
    ibl_remove(b->app_pc, (uint64_t)b->cache_pc);
    flush_unlink_incoming(b);
    tc_unlink_out(b);
}

/* tc_drop: one flushed trace: taken out; its head's block comes back (after the flush). */
static void tc_drop(hp_block_t *b)
{
    if (b->supersedes && !b->supersedes->invalid) {    /* its head's block comes back */
        b->supersedes->supersedes = tc_restore;        /* (a block's own field is free) */
        tc_restore = b->supersedes;
    }
    b->supersedes = 0;
    tc_take_out(b);
}

/* tc_release: a retired trace's records, once no thread can be inside it (a trace taken
 * out by a range invalidation may still have linked exits: they are unlinked first). */
static void tc_release(hp_block_t *b)
{
    tc_unlink_out(b);
    for (hp_link_t *l = b->exits, *next; l; l = next) {
        next = l->next;
        heap_free(l);
    }
    heap_free(b->xl);
    heap_free(b->ranges);
    heap_free(b);
}

void trace_cache_flush(hp_thread_t *t, int why)
{
    static const char *const notes[] = { "trace cache full: flushing it",
                                         "phase change: flushing the trace cache",
                                         "a second thread: flushing traces with promoted registers",
                                         "a promoted loop's slot load faulted: flushing traces",
                                         "a promoted loop found another frame than it was built for: flushing traces" };
    int phase = why == TRACE_FLUSH_PHASE;
    hp_note(notes[why], 0, 0);
    btab_remove_traces(tc_drop);
    while (tc_restore) {
        hp_block_t *b = tc_restore;
        tc_restore = b->supersedes;
        b->supersedes = 0;
        if (!btab_lookup(b->app_pc)) btab_insert(b);
    }
    trace_reset_heads();
    trace_trip_reset();
    cache_retire_traces();
    threads_snapshot_dispatches();
    hp_rt.stats.cache_flushes++;
    if (why == TRACE_FLUSH_THREADS || why == TRACE_FLUSH_PROMO_FAULT || why == TRACE_FLUSH_PROMO_FRAME)
        hp_rt.promoted = 0;
    if (phase) hp_rt.stats.cache_flushes_phase++;
    else if (why == TRACE_FLUSH_FULL) {
        hp_rt.stats.cache_flushes_full++;
        trace_raise_threshold();            /* a working set bigger than the cache: only */
    }                                       /* hotter paths become traces from now on */
    (void)t;        /* reuse waits for the next pass: this one may still hold their links */
}

void trace_cache_replace(hp_block_t *old, hp_block_t *b)
{
    btab_replace(old, b);
    b->supersedes = old->supersedes;
    old->supersedes = 0;
    tc_take_out(old);
    hp_rt.stats.traces_built++;
}

uint64_t trace_cache_room(void)
{
    uint64_t limit = trace_cache_limit(), live = cache_trace_bytes();
    return live < limit ? limit - live : 0;
}

void trace_cache_before_build(hp_thread_t *t)
{
    if (cache_has_retired() && threads_all_dispatched_since()) cache_reuse_retired(tc_release);
    uint64_t limit = trace_cache_limit();
    if (cache_trace_bytes() + limit / 8 > limit) trace_cache_flush(t, TRACE_FLUSH_FULL);   /* room for one more */
}

void trace_cache_built(hp_thread_t *t)
{
    uint64_t live = cache_trace_bytes();
    if (live > hp_rt.stats.trace_cache_peak_bytes) hp_rt.stats.trace_cache_peak_bytes = live;
    if (!hp_rt.opts.phase_flush) return;
    uint64_t now = tc_now_ns();
    if (!tc_interval_start) tc_interval_start = now;
    if (now - tc_interval_start >= TC_INTERVAL_NS) {
        uint64_t k = (now - tc_interval_start) / TC_INTERVAL_NS;   /* k - 1 of them empty */
        tc_stable = tc_in_interval <= TC_QUIET ? tc_stable + (int)k : (int)k - 1;
        tc_interval_start = now;
        tc_in_interval = 0;
    }
    if (++tc_in_interval >= TC_BURST && tc_stable >= TC_STABLE) {
        trace_cache_flush(t, TRACE_FLUSH_PHASE);
        tc_stable = 0;
    }
}
