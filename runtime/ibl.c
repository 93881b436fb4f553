/* ibl.c — the indirect branch lookup table shared by all threads.
 * Invariants: a target lives in its home slot (low 16 bits of the pc) or the one after it,
 * which is what the in-cache probe checks; the table never moves, so the cache can keep its
 * address. Single-writer today (one thread under hotpath); an entry being replaced is
 * cleared first so a probe sees either the old pair, an empty slot, or the new pair only
 * once threads arrive with a lock around writers and a quiescent point for replacement. */
#include "ibl.h"
#include "heap.h"

static hp_ibl_entry_t *ibl_tab;

hp_status_t ibl_init(hp_thread_t *t)
{
    if (!ibl_tab) {
        ibl_tab = heap_alloc((IBL_SLOTS + 1) * sizeof(*ibl_tab));
        if (!ibl_tab) return HP_ERR_NOMEM;
    }
    t->ibl_table = ibl_tab;
    return HP_OK;
}

static void ibl_set(hp_ibl_entry_t *e, uint64_t app_pc, uint64_t cache_pc)
{
    __atomic_store_n(&e->app_pc, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&e->cache_pc, cache_pc, __ATOMIC_RELEASE);
    __atomic_store_n(&e->app_pc, app_pc, __ATOMIC_RELEASE);
}

hp_status_t ibl_insert(hp_thread_t *t, uint64_t app_pc, uint64_t cache_pc)
{
    (void)t;
    hp_ibl_entry_t *e = &ibl_tab[app_pc & (IBL_SLOTS - 1)];
    if (e[0].app_pc == app_pc || e[0].app_pc == 0) ibl_set(&e[0], app_pc, cache_pc);
    else if (e[1].app_pc == app_pc || e[1].app_pc == 0) ibl_set(&e[1], app_pc, cache_pc);
    else {                                     /* both taken: the older one moves out */
        ibl_set(&e[1], e[0].app_pc, e[0].cache_pc);
        ibl_set(&e[0], app_pc, cache_pc);
    }
    return HP_OK;
}

uint64_t ibl_lookup(uint64_t app_pc)
{
    hp_ibl_entry_t *e = &ibl_tab[app_pc & (IBL_SLOTS - 1)];
    if (e[0].app_pc == app_pc) return e[0].cache_pc;
    if (e[1].app_pc == app_pc) return e[1].cache_pc;
    return 0;
}

void ibl_clear(hp_thread_t *t)
{
    hp_memset(ibl_tab, 0, (IBL_SLOTS + 1) * sizeof(*ibl_tab));
    t->ibl_table = ibl_tab;
}
