/* trace_emit.c — a recorded path becomes a trace: the path's IR (optimizer/ir.c), the
 * optimizer's passes (optimizer/opt.c), then the IR emitted into the cache
 * (optimizer/ir_emit.c) as one fragment with its exits, map and app ranges.
 * Invariants: the fragment is only published (cache_add_block) when every step worked; a
 * failed build gives its reservation back. */
#include "trace.h"
#include "builder_int.h"
#include "cache.h"
#include "heap.h"
#include "ir_emit.h"
#include "opt.h"

#define TR_RESERVE (256 * 1024)
#define TR_EXITS 512
#define TR_IR 4096             /* most IR instructions in one trace */

/* tr_ranges: the app bytes a trace depends on: every recorded block whole (ir->src), also
 * what the IR dropped (direct jumps) or a pass folded away (fuse's cltq), so writing any of
 * them invalidates it (runtime/flush.c). Touching or overlapping blocks merge. */
static hp_status_t tr_ranges(hp_block_t *b, const ir_trace_t *ir)
{
    b->ranges = heap_alloc(sizeof(*b->ranges) * (size_t)(ir->nsrc + 1));
    if (!b->ranges) return HP_ERR_NOMEM;
    uint32_t n = 0;
    for (int i = 0; i < ir->nsrc; i++) {
        uint64_t lo = ir->src[i][0], hi = ir->src[i][1];
        if (n && lo <= b->ranges[n - 1][1] && hi >= b->ranges[n - 1][0]) {
            if (lo < b->ranges[n - 1][0]) b->ranges[n - 1][0] = lo;
            if (hi > b->ranges[n - 1][1]) b->ranges[n - 1][1] = hi;
            continue;
        }
        b->ranges[n][0] = lo;
        b->ranges[n++][1] = hi;
    }
    b->nranges = n;
    return HP_OK;
}

hp_status_t trace_build(const uint64_t *pcs, const uint32_t *lens, int n, uint64_t succ,
                        const int64_t *frame_k, hp_block_t **out, const char **why)
{
    int cap = 16;                            /* IR room: the path, its exits, what passes add */
    for (int i = 0; i < n; i++) cap += 2 * (int)lens[i] + 2;
    if (cap > TR_IR) cap = TR_IR;
    bb_ctx_t *c = heap_alloc(sizeof(*c));
    bb_exit_t *exits = heap_alloc(sizeof(*exits) * TR_EXITS);
    hp_xl_t *xl = heap_alloc(sizeof(*xl) * (size_t)(2 * cap + 4));   /* (two copies: --peel) */
    ir_trace_t ir, first;                    /* first: the loop without promotion */
    int have_first = 0, mode = trace_trip_mode(pcs[0]), slot = -1, counted = 0;
    first.insn = 0;
    hp_status_t st = HP_ERR_NOMEM;
    *why = "out of memory";
    if (ir_init(&ir, cap) != HP_OK) ir.insn = 0;
    if (!c || !exits || !xl || !ir.insn) goto done;
    c->exits = exits;
    c->cap_exits = TR_EXITS;
    c->xl = xl;
    c->cap_xl = 2 * cap + 4;
    ir.succ = succ;
    ir.frame_k_ok = frame_k != 0;
    ir.frame_k = frame_k ? *frame_k : 0;
    st = ir_build_path(&ir, pcs, lens, n, why);
    ir.no_promote = hp_rt.multithreaded || trace_no_promote_at(pcs[0]);
    ir.threads = hp_rt.multithreaded;
    ir.unpromoted = mode == TRIP_PLAIN;      /* (retpair and the rest stay) */
    ir.no_fold = hp_rt.multithreaded || hp_rt.no_fold_data;
    if (st != HP_OK) goto done;
    opt_run(&ir);
    /* a promoted loop: counted first (its trip counts decide, traces/trace_trip.c), then
       peeled (ir_emit_peeled) or whole; the counted and the peeled need the same path
       optimized by the same passes without promotion. Without it (no memory, a failed
       build) the loop is emitted whole as before */
    if (!ir.npromo) mode = TRIP_PROMOTE;     /* (nothing to choose) */
    if (mode == TRIP_COUNT && (slot = trace_trip_alloc()) < 0) mode = TRIP_PROMOTE;
    if (ir.npromo && (mode != TRIP_PROMOTE || hp_rt.opts.peel) && ir_init(&first, cap) == HP_OK) {
        const char *why_first;
        first.succ = succ;
        first.frame_k_ok = ir.frame_k_ok;
        first.frame_k = ir.frame_k;
        first.unpromoted = 1;
        first.no_promote = ir.no_promote;
        first.threads = ir.threads;
        first.no_fold = ir.no_fold;
        if (ir_build_path(&first, pcs, lens, n, &why_first) == HP_OK) {
            hp_stats_t stats = hp_rt.stats;      /* the passes count the trace once (one */
            opt_run(&first);                     /* thread: promoted) */
            hp_rt.stats = stats;
            have_first = 1;                      /* (it goes round where ir does) */
        }
    }
    c->start = c->p = cache_reserve_kind(pcs[0], TR_RESERVE, 1);
    st = HP_ERR_NOMEM;
    *why = "no cache memory near the code";
    if (!c->start) goto done;
    uint64_t room = trace_cache_room();       /* a trace that does not fit is cut (tr_finish) */
    c->end = c->start + (room < TR_RESERVE ? room : TR_RESERVE);
    st = HP_ERR_NOMEM;
    if (have_first) {                         /* else, or if that fails, the loop whole */
        bb_ctx_t *c0 = heap_alloc(sizeof(*c0));
        hp_stats_t stats = hp_rt.stats;
        if (c0) {
            *c0 = *c;
            st = mode == TRIP_COUNT ? ir_emit_counted(c, &first, slot, why) : ir_emit_peeled(c, &first, &ir, why);
            if (st != HP_OK) { *c = *c0; hp_rt.stats = stats; }
            else counted = mode == TRIP_COUNT;
            heap_free(c0);
        }
    }
    if (st != HP_OK) st = ir_emit(c, &ir, why);
    if (st == HP_OK) st = bb_finish(c, pcs[0], pcs[0] + 1, c->n, out);
    if (st == HP_OK) {
        hp_block_t *b = *out;
        b->is_trace = 1;
        b->npromo = counted ? 0 : (uint8_t)ir.npromo;
        b->trip = counted ? (uint8_t)(slot + 1) : 0;
        b->loops = (uint8_t)c->loops;
        if (ir.npromo || ir.one_thread) hp_rt.promoted = 1;   /* flushed by a 2nd thread (first's
                                                             passes are ir's but promote; a counted
                                                             trace too: its counters are one
                                                             thread's) */
        for (int i = 0; i < b->npromo; i++) {
            b->promo_reg[i] = (uint8_t)ir.promo[i].reg;
            if (ir.promo[i].xmm) b->promo_xmm |= (uint8_t)(1u << i);
        }
        b->promo_lo = c->promo_lo;
        b->promo_hi = c->promo_hi;
        b->cache_start = c->start;
        b->cache_size = (uint32_t)(c->p - c->start);
        st = tr_ranges(b, &ir);              /* (first's: the same path, no more folded) */
    }
    if (st != HP_OK) {
        cache_commit(c->start, 0);
        goto done;
    }
    cache_commit(c->start, (size_t)(c->p - c->start));
    hp_rt.stats.trace_cache_bytes += (*out)->cache_size;
    st = cache_add_block(*out);
done:
    if (slot >= 0 && (st != HP_OK || !counted)) trace_trip_free(slot);
    if (first.insn) ir_free(&first);
    ir_free(&ir);
    heap_free(xl);
    heap_free(exits);
    heap_free(c);
    return st;
}
