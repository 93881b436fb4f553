/* trace_trip.c — trip counts: how many rounds a loop trace goes per entry, measured before
 * its slots are promoted, because that decides whether promotion pays (pass_promote.c).
 * A promoted loop pays its preheader (the borrowed registers saved, the slots loaded) at
 * every entry and the restores at every exit, and saves loads in every round: a loop that
 * goes round many times an entry gains, one left in its first round mostly loses (session
 * 13's measurements: docs/PERFORMANCE.md).
 * Flow: the first trace built for a head whose loop would be promoted is a counted one
 * (trace_build, optimizer/ir_emit.c ir_emit_counted): the loop without promotion, an entry
 * counter before its body and a round counter on its ways round, both counting down
 * flag-free in the thread (t->trip[slot], T_TRIP). When either runs out the trace leaves
 * at its head through a LINK_TRIP exit; the dispatcher calls trace_trip_done, which decides
 * from the counts (the head's entry keeps it: trace_trip_mode says it from then on, across
 * flushes) and builds the head's trace again from the same recorded path, replacing the
 * counted one.
 * Choice (rounds taken per entry r = rounds / entries): r >= TRIP_PROMOTE_MIN promoted
 * whole; below, peeled (the first round unpromoted, ir_emit_peeled: an entry that leaves
 * in it pays nothing, one that goes round still runs promoted rounds), or, r < 1 /
 * TRIP_PEEL_DIV, not promoted at all (ir_trace_t.unpromoted).
 * Invariants: counting happens only while the process has one thread (as promotion: a
 * second thread flushes counted traces with promoted ones, hp_rt.promoted); a slot belongs
 * to at most one live counted trace (tt_owner) and counts in one thread's counters
 * (tt_thread, a thread state's serial: installing the trace makes every other state's
 * counters of the slot run out, and a thread leaving on counts not its own — a vfork
 * child's, all zero, or the parent's after one — takes the counting over from the start
 * instead of deciding); a flush of every trace, or of the whole cache for changed code,
 * frees them all (trace_trip_reset; a head's decision and kept path live in its entry,
 * traces/trace_int.h, and go where the code changes: trace_forget), a trace taken out for
 * changed code frees its slot when the slot is next wanted, so a LINK_TRIP exit of a trace
 * flushed meanwhile changes nothing; and a thread that leaves through LINK_TRIP never does
 * again on the same counters unless they are set anew (its counters of the slot go to ~0
 * first), so a counted trace that stays (a failed rebuild, another thread's counts) cannot
 * hold it at its head.
 * Caller holds hp_rt.lock everywhere. */
#include "trace_int.h"
#include "block_table.h"
#include "fmt.h"
#include "heap.h"
#include "ibl.h"
#include "threads.h"

#define TRIP_ENTRIES 64          /* entries counted before deciding */
#define TRIP_ROUNDS 1024         /* ... or rounds (a loop entered rarely, going round long) */
#define TRIP_PROMOTE_MIN 1       /* rounds taken per entry, at least, to promote unpeeled */
#define TRIP_PEEL_DIV 4          /* ... and at least 1 in this many entries, to peel (else
                                    the loop is not promoted: a peeled trace is twice as
                                    long, virtcall.O0 0.62 -> 0.68 of native with loops that
                                    never went round peeled) */

static hp_block_t *tt_owner[T_TRIP_SLOTS];
static uint64_t tt_thread[T_TRIP_SLOTS];   /* hp_thread_t.serial of the thread whose
                                              counters count it (a state reused for another
                                              thread comes with another serial, zeroed
                                              counters: a vfork child after another) */

int trace_trip_mode(uint64_t head)
{
    tr_entry_t *e = trace_head(head, 0);
    if (e && e->trip != TRIP_COUNT) return e->trip;
    return hp_rt.opts.trip && !hp_rt.multithreaded ? TRIP_COUNT : TRIP_PROMOTE;
}

int trace_trip_alloc(void)
{
    for (int s = 0; s < T_TRIP_SLOTS; s++)
        if (!tt_owner[s] || (tt_owner[s] != (hp_block_t *)1 && tt_owner[s]->invalid)) {
            /* (free, or its trace taken out of the tables by a change of code: its record
               stays until a flush of every trace or of the cache, which frees every slot
               first) */
            tt_owner[s] = (hp_block_t *)1;             /* taken until installed or freed */
            return s;
        }
    return -1;
}

void trace_trip_free(int slot)
{
    if (slot >= 0 && slot < T_TRIP_SLOTS) tt_owner[slot] = 0;
}

/* tt_keep: a copy of the path pcs/lens[0..n) in one allocation, or NULL. */
static tr_path_t *tt_keep(const uint64_t *pcs, const uint32_t *lens, int n, uint64_t succ,
                          const int64_t *frame_k)
{
    tr_path_t *p = heap_alloc(sizeof(*p) + (sizeof(*pcs) + sizeof(*lens)) * (size_t)n);
    if (!p) return 0;
    p->n = n;
    p->succ = succ;
    p->has_k = frame_k != 0;
    p->k = frame_k ? *frame_k : 0;
    p->pcs = (uint64_t *)(p + 1);
    p->lens = (uint32_t *)(p->pcs + n);
    hp_memcpy(p->pcs, pcs, sizeof(*pcs) * (size_t)n);
    hp_memcpy(p->lens, lens, sizeof(*lens) * (size_t)n);
    return p;
}

void trace_trip_installed(hp_thread_t *t, hp_block_t *b, const uint64_t *pcs, const uint32_t *lens,
                          int n, uint64_t succ, const int64_t *frame_k)
{
    if (!b->trip) return;
    int s = b->trip - 1;
    if (b->invalid || btab_lookup(b->app_pc) != b) {   /* unreachable (tr_install) */
        trace_trip_free(s);
        return;
    }
    tr_entry_t *e = trace_head(b->app_pc, 1);
    tt_owner[s] = b;
    tt_thread[s] = t->serial;
    if (e) {
        heap_free(e->trip_path);
        e->trip_path = tt_keep(pcs, lens, n, succ, frame_k);
    }
    if (!e || !e->trip_path) {                         /* never decided: runs counted, */
        t->trip[s][0] = t->trip[s][1] = ~0ull;         /* its counters never run out */
        return;
    }
    threads_trip_out(s);                               /* (others' counters: not for it) */
    e->trip = TRIP_COUNT;
    t->trip[s][0] = TRIP_ENTRIES;
    t->trip[s][1] = TRIP_ROUNDS;
    hp_rt.stats.trips_counted++;
}

/* tt_choose: the mode for a loop that went `rounds` times round in `entries` entries. */
static int tt_choose(uint64_t entries, uint64_t rounds)
{
    if (!entries) entries = 1;
    if (rounds >= entries * TRIP_PROMOTE_MIN) return TRIP_PROMOTE;
    return rounds * TRIP_PEEL_DIV >= entries ? TRIP_PEEL : TRIP_PLAIN;
}

static void tt_note(uint64_t head, uint64_t entries, uint64_t rounds, int mode)
{
    static const char *const names[] = { "counting", "promoted", "peeled", "not promoted" };
    char buf[128];
    fmt_buf_t f;
    fmt_init(&f, buf, sizeof buf);
    fmt_udec(&f, rounds);
    fmt_str(&f, " rounds in ");
    fmt_udec(&f, entries);
    fmt_str(&f, " entries: ");
    fmt_str(&f, names[mode]);
    hp_note("loop trip count:", fmt_cstr(&f), head);
}

void trace_trip_done(hp_thread_t *t, const hp_link_t *l)
{
    hp_block_t *old = l->from;
    int s = old->trip - 1;
    if (s < 0 || s >= T_TRIP_SLOTS) return;
    /* whatever follows, t's counters of this slot run out no more: a counted trace left in
       place (a failed rebuild, counts that are not t's) must let t through, or t would
       leave at its head again and again */
    uint64_t entries = TRIP_ENTRIES - t->trip[s][0], rounds = TRIP_ROUNDS - t->trip[s][1];
    t->trip[s][0] = t->trip[s][1] = ~0ull;
    if (tt_owner[s] != old) return;                    /* flushed meanwhile */
    tr_entry_t *e = trace_head(old->app_pc, 0);
    if (!e || !e->trip_path) return;
    if (tt_thread[s] != t->serial) {                   /* counted so far in another thread's */
        tt_thread[s] = t->serial;                      /* counters (a vfork child's, or the */
        t->trip[s][0] = TRIP_ENTRIES;                  /* parent's after one): t counts from */
        t->trip[s][1] = TRIP_ROUNDS;                   /* here, its own counters (all zero */
        return;                                        /* in a new thread) decide nothing */
    }
    int mode = tt_choose(entries, rounds);
    e->trip = mode;
    tt_note(old->app_pc, entries, rounds, mode);
    if (mode == TRIP_PROMOTE) hp_rt.stats.trips_promoted++;
    else if (mode == TRIP_PEEL) hp_rt.stats.trips_peeled++;
    else hp_rt.stats.trips_plain++;
    trace_cache_before_build(t);                       /* (may flush every trace, and */
    if (old->invalid || btab_lookup(old->app_pc) != old || tt_owner[s] != old) return;   /* the path) */
    tr_path_t *p = e->trip_path;
    e->trip_path = 0;
    hp_block_t *b;
    const char *why = "";
    hp_simd_save(t);
    hp_status_t st = trace_build(p->pcs, p->lens, p->n, p->succ, p->has_k ? &p->k : 0, &b, &why);
    hp_simd_restore(t);
    heap_free(p);
    if (st != HP_OK) {                                 /* the counted trace stays */
        hp_rt.stats.trips_kept++;
        hp_note("loop trip count: building the trace again failed:", why, old->app_pc);
        return;
    }
    tt_owner[s] = 0;
    trace_cache_replace(old, b);
    ibl_insert(t, b->app_pc, (uint64_t)b->cache_pc);
    ibl_insert_trace(b->app_pc, (uint64_t)b->cache_pc);
    trace_cache_built(t);
}

void trace_trip_reset(void)
{
    for (int s = 0; s < T_TRIP_SLOTS; s++) tt_owner[s] = 0;
}
