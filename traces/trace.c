/* trace.c — trace heads, recording and installation (the dispatcher's side of traces).
 * Heads: targets of backward direct branches and exits of traces. Such an exit is not
 * linked while its target is not a trace, so every execution passes the dispatcher and is
 * counted; at --threshold the thread records: it runs private, never-linked copies of the
 * blocks, with an empty lookup table so indirect branches come back too, and notes each
 * block until the path returns to the head, takes a backward branch, reaches a trace,
 * leaves for a system call or a signal, or has --max-trace-blocks blocks.
 * With --trace-dispatch (interpreters): a trace reached through an indirect branch or a
 * direct call does not end the path, a call to a lower address is not a backward branch
 * (the callee is taken in: its return is then checked against this caller), and where
 * the path would end at a backward branch or a trace it goes on
 * through up to TR_TAIL_BLOCKS short blocks (TR_TAIL_INSNS) if they reach an indirect
 * branch, or, past a trace, the head again (a tail that does neither is dropped again, so
 * the path ends where it would have without it): a loop whose inner test is a trace head
 * of its own closes as one loop (strsearch.O1's search), and a bytecode handler's trace
 * takes the dispatch code with it (each handler its own
 * copy of the dispatch, its own inline check against the next handler seen) and the path
 * goes on into the next handler. The inline checks then follow the interpreted program's
 * own sequence of operations (interp.O2: 644M lookups down to 8M).
 * Invariants: a thread records at most one trace at a time; a trace replaces its head's
 * block in the block table and the lookup table, and links into the old block are undone
 * so they find the trace. */
#include "trace_int.h"
#include "block_table.h"
#include "builder.h"
#include "flush.h"
#include "fmt.h"
#include "heap.h"
#include "ibl.h"

#define TR_HASH 32768           /* buckets of head counters (a chain walk per dispatch) */
#define TR_TAIL_BLOCKS 6         /* --trace-dispatch: blocks past an end, to an indirect branch */
#define TR_TAIL_INSNS 16         /*   each at most this long (-O0 dispatch blocks: ~12) */

static tr_entry_t *tr_tab[TR_HASH];
static int tr_threshold_shift;      /* the threshold doubles on each full-cache flush */
static hp_ibl_entry_t *tr_empty_ibl;  /* all zero: every lookup misses while recording */

static tr_entry_t *tr_get(uint64_t pc, int create)
{
    uint64_t h = (pc * 0x9E3779B97F4A7C15ull) >> 49;    /* 15 bits: TR_HASH */
    for (tr_entry_t *e = tr_tab[h]; e; e = e->next)
        if (e->pc == pc) return e;
    if (!create) return 0;
    tr_entry_t *e = heap_alloc(sizeof(*e));
    if (!e) return 0;
    e->pc = pc;
    e->next = tr_tab[h];
    tr_tab[h] = e;
    return e;
}

tr_entry_t *trace_head(uint64_t pc, int create)
{
    return tr_get(pc, create);
}

int trace_is_head_exit(const hp_link_t *l, uint64_t pc, const hp_block_t *to)
{
    if (!hp_rt.opts.traces || (to && to->is_trace)) return 0;
    if (l == &hp_rt.ibl_trace_link) return !trace_no_trace_at(pc);   /* a trace's lookup */
    if (l->kind != LINK_DIRECT) return 0;
    if (!l->from->is_trace && l->target >= l->from->app_end) return 0;
    return !trace_no_trace_at(l->target);   /* a head no trace can start from is linked */
}

int trace_no_trace_at(uint64_t pc)
{
    tr_entry_t *e = tr_get(pc, 0);
    return e && e->count < 0;
}

int trace_no_promote_at(uint64_t pc)
{
    tr_entry_t *e = tr_get(pc, 0);
    return e && e->no_promote;
}

void trace_promotion_fault(hp_thread_t *t, uint64_t head, int why)
{
    tr_entry_t *e = tr_get(head, 1);
    if (e) e->no_promote = 1;
    trace_abort(t);
    trace_cache_flush(t, why);
}

static void tr_stop(hp_thread_t *t)
{
    t->rec_n = 0;
    t->ibl_table = ibl_table();
}

void trace_abort(hp_thread_t *t)
{
    if (!t->rec_n) return;
    hp_rt.stats.traces_aborted++;
    tr_stop(t);
}

/* tr_copy: the private copy of the block at pc used while recording (built once). */
static hp_block_t *tr_copy(hp_thread_t *t, uint64_t pc)
{
    tr_entry_t *e = tr_get(pc, 1);
    if (!e) return 0;
    if (!e->copy) {
        const char *why;
        hp_block_t *b;
        hp_simd_save(t);
        hp_status_t st = builder_build(pc, &b, &why);
        hp_simd_restore(t);
        if (st != HP_OK) return 0;
        b->record_copy = 1;
        e->copy = b;
    }
    return e->copy->smc_checked ? 0 : e->copy;      /* no traces over writable code */
}

/* tr_ends_indirect: block b ends in an indirect jump, call or return. */
static int tr_ends_indirect(const hp_block_t *b)
{
    for (uint32_t k = 0; k < b->n_xl; k++)
        if (XL_KIND(b->xl[k].kind) == XL_RCX) return 1;
    return 0;
}

/* tr_install: trace b replaces the block of its head. */
static void tr_install(hp_thread_t *t, hp_block_t *b)
{
    hp_block_t *old = btab_lookup(b->app_pc);
    if (old && old->is_trace) {          /* another thread recorded the same head: keep */
        b->invalid = 1;                  /* the first (b stays unreachable in its unit) */
        return;
    }
    if (old) {
        btab_replace(old, b);
        if (!old->is_trace) b->supersedes = old;
        flush_unlink_incoming(old);
    } else if (btab_insert(b) != HP_OK) {
        return;
    }
    ibl_insert(t, b->app_pc, (uint64_t)b->cache_pc);
    ibl_insert_trace(b->app_pc, (uint64_t)b->cache_pc);
    hp_rt.stats.traces_built++;
}

/* tr_finish: build the recorded path into a trace; a block that cannot be part of it
 * (code out of reach, an unsupported instruction) cuts the trace before it. Returns 1 when
 * the whole path went in as this head's trace. */
static int tr_finish(hp_thread_t *t)
{
    int n = t->rec_n;
    int full = n;
    uint64_t succ = t->rec_succ;          /* valid for the whole path only */
    tr_stop(t);
    trace_cache_before_build(t);
    while (n > 0) {
        hp_block_t *b;
        const char *why = "";
        hp_simd_save(t);
        hp_status_t st = trace_build(t->rec, t->rec_len, n, n == full ? succ : 0, &t->rec_k, &b, &why);
        hp_simd_restore(t);
        if (st == HP_OK) {
            tr_install(t, b);
            trace_trip_installed(t, b, t->rec, t->rec_len, n, n == full ? succ : 0, &t->rec_k);
            trace_cache_built(t);
            return n == full && !b->invalid;
        }
        if (n == 1) break;
        n = n / 2;                                      /* a shorter prefix */
    }
    tr_entry_t *e = tr_get(t->rec[0], 1);
    if (e) e->count = -1;
    hp_rt.stats.traces_aborted++;
    return 0;
}

hp_block_t *trace_dispatch(hp_thread_t *t, const hp_link_t *l, uint64_t pc)
{
    if (!hp_rt.opts.traces) return 0;
    if (t->rec_n) {
        int dispatch = hp_rt.opts.trace_dispatch;
        int go = l && (l->kind == LINK_DIRECT || l->kind == LINK_INDIRECT) && pc != t->rec[0] &&
                 t->rec_n < hp_rt.opts.max_trace_blocks;
        int soft_end = 0;                 /* an end --trace-dispatch may look past */
        int at_trace = 0;                 /* ... that end is another trace */
        if (go) {
            hp_block_t *there = btab_lookup(pc);
            int call = dispatch && l->kind == LINK_DIRECT && l->insn_len;   /* a direct call */
            at_trace = there && there->is_trace && !(call || (dispatch && l->kind == LINK_INDIRECT));
            soft_end = at_trace ||
                       (l->kind == LINK_DIRECT && !call && l->target < l->from->app_end);   /* backward */
        }
        hp_block_t *copy = 0;
        if (go && (soft_end || t->rec_tail)) {         /* past an end: short blocks only */
            if (!t->rec_tail) {
                t->rec_tail_at = t->rec_n;
                t->rec_tail_trace = at_trace;
            }
            if (dispatch && l->kind == LINK_DIRECT && t->rec_tail < TR_TAIL_BLOCKS &&
                (copy = tr_copy(t, pc)) && copy->n_insns <= TR_TAIL_INSNS)
                t->rec_tail = tr_ends_indirect(copy) ? 0 : t->rec_tail + 1;
            else
                copy = 0;
        } else if (go) {
            copy = tr_copy(t, pc);
        }
        if (copy) {
            t->rec_len[t->rec_n] = copy->n_insns;
            t->rec[t->rec_n++] = pc;
            return copy;
        }
        t->rec_succ = l && l->kind == LINK_INDIRECT ? pc : 0;
        /* a tail that reached no indirect branch is dropped again (the path ends where it
           would have without it), unless it began at another trace (reached by a jump,
           forward or back) and came back to the head: a loop split by a trace head inside
           it (an inner loop that goes round once or twice, its test a head of its own)
           closes as one loop */
        int looped = t->rec_tail && t->rec_tail_trace && pc == t->rec[0];
        if (t->rec_tail && !looped) {
            t->rec_n = t->rec_tail_at;
            t->rec_succ = 0;
        }
        if (tr_finish(t) && looped) hp_rt.stats.trace_tails_looped++;
        return 0;
    }
    if (!l || !trace_is_head_exit(l, pc, btab_lookup(pc))) return 0;
    tr_entry_t *e = tr_get(pc, 1);
    if (!e || e->count < 0 || ++e->count < hp_rt.opts.threshold << tr_threshold_shift) return 0;
    if (!t->rec) {
        size_t max = (size_t)hp_rt.opts.max_trace_blocks;   /* >= 1 (takeover.c) */
        t->rec = heap_alloc(sizeof(*t->rec) * max);
        t->rec_len = heap_alloc(sizeof(*t->rec_len) * max);
        if (!t->rec || !t->rec_len) { heap_free(t->rec); t->rec = 0; return 0; }
    }
    if (!tr_empty_ibl && !(tr_empty_ibl = heap_alloc((IBL_SLOTS + 1) * sizeof(hp_ibl_entry_t))))
        return 0;
    hp_block_t *copy = tr_copy(t, pc);
    if (!copy) { e->count = -1; return 0; }
    e->count = 0;
    t->rec[0] = pc;
    t->rec_k = (int64_t)(t->gpr[R_RBP] - t->gpr[R_RSP]);   /* the frame at the head */
    t->rec_tail = 0;
    t->rec_len[0] = copy->n_insns;
    t->rec_n = 1;
    t->ibl_table = tr_empty_ibl;
    return copy;
}

void trace_raise_threshold(void)
{
    if ((hp_rt.opts.threshold << tr_threshold_shift) < (1L << 20)) tr_threshold_shift++;
}

void trace_reset_heads(void)
{
    for (int h = 0; h < TR_HASH; h++)
        for (tr_entry_t *e = tr_tab[h]; e; e = e->next) {
            e->count = 0;
            heap_free(e->trip_path);            /* (its counted trace was flushed too) */
            e->trip_path = 0;
        }
}

void trace_forget(uint64_t lo, uint64_t hi)
{
    if (lo == 0 && hi == ~0ull) trace_trip_reset();   /* (a whole flush frees the blocks) */
    for (int h = 0; h < TR_HASH; h++) {
        for (tr_entry_t **pp = &tr_tab[h]; *pp;) {
            tr_entry_t *e = *pp;
            int stale = (e->pc >= lo && e->pc < hi) ||
                        (e->copy && e->copy->app_pc < hi && e->copy->app_end > lo);
            if (stale) {                          /* copies stay in the cache, unreachable */
                *pp = e->next;
                heap_free(e->trip_path);
                heap_free(e);
            } else {
                pp = &e->next;
            }
        }
    }
}
