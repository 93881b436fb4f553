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
 * from the counts (trace_trip_mode says it from then on, across flushes) and builds the
 * head's trace again from the same recorded path, replacing the counted one.
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
 * instead of deciding); a flush
 * of every trace, or of the whole cache for changed code, frees them all (trace_trip_reset,
 * trace_trip_forget), a trace taken out for changed code frees its slot when the slot is
 * next wanted, so a LINK_TRIP exit of a trace flushed meanwhile changes nothing; and a
 * thread that leaves through LINK_TRIP never does again on the same counters unless they
 * are set anew (its counters of the slot go to ~0 first), so a counted trace that stays (a
 * failed rebuild, another thread's counts) cannot hold it at its head.
 * Caller holds hp_rt.lock everywhere. */
#include "trace.h"
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
#define TT_HASH 1024

typedef struct tt_entry {
    uint64_t head;
    int mode;                    /* TRIP_* */
    uint64_t *pcs;               /* the counted trace's recorded path (until decided) */
    uint32_t *lens;
    int n;
    uint64_t succ;
    int64_t k;
    int has_k;
    struct tt_entry *next;
} tt_entry_t;

static tt_entry_t *tt_tab[TT_HASH];
static hp_block_t *tt_owner[T_TRIP_SLOTS];
static uint64_t tt_thread[T_TRIP_SLOTS];   /* hp_thread_t.serial of the thread whose
                                              counters count it (a state reused for another
                                              thread comes with another serial, zeroed
                                              counters: a vfork child after another) */

static tt_entry_t *tt_get(uint64_t head, int create)
{
    uint64_t h = (head * 0x9E3779B97F4A7C15ull) >> 54;   /* 10 bits: TT_HASH */
    for (tt_entry_t *e = tt_tab[h]; e; e = e->next)
        if (e->head == head) return e;
    if (!create) return 0;
    tt_entry_t *e = heap_alloc(sizeof(*e));
    if (!e) return 0;
    e->head = head;
    e->next = tt_tab[h];
    tt_tab[h] = e;
    return e;
}

static void tt_free_path(tt_entry_t *e)
{
    heap_free(e->pcs);
    heap_free(e->lens);
    e->pcs = 0;
    e->lens = 0;
    e->n = 0;
}

int trace_trip_mode(uint64_t head)
{
    tt_entry_t *e = tt_get(head, 0);
    if (e && e->mode != TRIP_COUNT) return e->mode;
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

void trace_trip_installed(hp_thread_t *t, hp_block_t *b, const uint64_t *pcs, const uint32_t *lens,
                          int n, uint64_t succ, const int64_t *frame_k)
{
    if (!b->trip) return;
    int s = b->trip - 1;
    if (b->invalid || btab_lookup(b->app_pc) != b) {   /* unreachable (tr_install) */
        trace_trip_free(s);
        return;
    }
    tt_entry_t *e = tt_get(b->app_pc, 1);
    if (e) {
        tt_free_path(e);
        e->pcs = heap_alloc(sizeof(*e->pcs) * (size_t)n);
        e->lens = heap_alloc(sizeof(*e->lens) * (size_t)n);
    }
    if (!e || !e->pcs || !e->lens) {                   /* never decided: runs counted, */
        if (e) tt_free_path(e);                        /* its counters never run out */
        tt_owner[s] = b;
        tt_thread[s] = t->serial;
        t->trip[s][0] = t->trip[s][1] = ~0ull;
        return;
    }
    tt_thread[s] = t->serial;
    threads_trip_out(s);                               /* (others' counters: not for it) */
    hp_memcpy(e->pcs, pcs, sizeof(*pcs) * (size_t)n);
    hp_memcpy(e->lens, lens, sizeof(*lens) * (size_t)n);
    e->n = n;
    e->succ = succ;
    e->has_k = frame_k != 0;
    e->k = frame_k ? *frame_k : 0;
    e->mode = TRIP_COUNT;
    tt_owner[s] = b;
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
    tt_entry_t *e = tt_get(old->app_pc, 0);
    if (!e || !e->pcs) return;
    if (tt_thread[s] != t->serial) {                   /* counted so far in another thread's */
        tt_thread[s] = t->serial;                      /* counters (a vfork child's, or the */
        t->trip[s][0] = TRIP_ENTRIES;                  /* parent's after one): t counts from */
        t->trip[s][1] = TRIP_ROUNDS;                   /* here, its own counters (all zero */
        return;                                        /* in a new thread) decide nothing */
    }
    int mode = tt_choose(entries, rounds);
    e->mode = mode;
    tt_note(old->app_pc, entries, rounds, mode);
    if (mode == TRIP_PROMOTE) hp_rt.stats.trips_promoted++;
    else if (mode == TRIP_PEEL) hp_rt.stats.trips_peeled++;
    else hp_rt.stats.trips_plain++;
    trace_cache_before_build(t);                       /* (may flush every trace) */
    if (old->invalid || btab_lookup(old->app_pc) != old || tt_owner[s] != old) {
        tt_free_path(e);
        return;
    }
    hp_block_t *b;
    const char *why = "";
    hp_simd_save(t);
    hp_status_t st = trace_build(e->pcs, e->lens, e->n, e->succ, e->has_k ? &e->k : 0, &b, &why);
    hp_simd_restore(t);
    tt_free_path(e);
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
    for (int h = 0; h < TT_HASH; h++)
        for (tt_entry_t *e = tt_tab[h]; e; e = e->next) tt_free_path(e);
}

void trace_trip_forget(uint64_t lo, uint64_t hi)
{
    if (lo == 0 && hi == ~0ull) trace_trip_reset();   /* (a whole flush frees the blocks) */
    for (int h = 0; h < TT_HASH; h++)
        for (tt_entry_t **pp = &tt_tab[h]; *pp;) {
            tt_entry_t *e = *pp;
            if (e->head >= lo && e->head < hi) {
                *pp = e->next;
                tt_free_path(e);
                heap_free(e);
            } else {
                pp = &e->next;
            }
        }
}
