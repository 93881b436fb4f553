/* flush.c — invalidation of translated code (munmap, mprotect, mremap, MAP_FIXED, shmdt).
 * Invariants: after flush_range no lookup, table or link leads into a block translating the
 * range; a whole flush (cache memory reused) happens only while a single thread is under
 * hotpath and it is in the dispatcher, so nothing executes in the cache then. */
#include "flush.h"
#include "block_table.h"
#include "cache.h"
#include "emit.h"
#include "fmt.h"
#include "ibl.h"
#include "threads.h"
#include "trace.h"

/* Invariant kept here and in dsp_link/trace_cache.c: a link is in X->incoming exactly when
 * its `to` is X, so a block that comes back (a head after a trace flush) can be linked to
 * again without a link appearing twice in one list. */
void flush_unlink_incoming(hp_block_t *b)
{
    for (hp_link_t *l = b->incoming; l; l = l->next_in) {
        if (l->to != b) continue;
        emit_set_rel32(l->branch_rel32, (uint64_t)l->stub);
        l->to = 0;
    }
    b->incoming = 0;
}

static void flush_block(hp_block_t *b)
{
    b->invalid = 1;
    hp_rt.stats.blocks_invalidated++;
    ibl_remove(b->app_pc, (uint64_t)b->cache_pc);
    flush_unlink_incoming(b);
}

void flush_range(hp_thread_t *t, uint64_t lo, uint64_t hi, int whole_ok)
{
    if (!btab_overlaps(lo, hi)) return;
    if (whole_ok && threads_live() == 1) {
        hp_note("code under translation changed: flushing the cache", 0, lo);
        hp_rt.stats.blocks_invalidated += btab_count();
        btab_clear();
        ibl_clear(t);
        trace_abort(t);
        trace_forget(0, ~0ull);
        cache_reset();
        return;
    }
    trace_forget(lo, hi);
    hp_note("code under translation changed: invalidating its blocks", 0, lo);
    btab_remove_overlapping(lo, hi, flush_block);
}
