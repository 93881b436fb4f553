/* ibl.c — the indirect branch lookup tables shared by all threads: one for blocks, and
 * one holding only traces that traces' own exits use (a miss there is a trace exit, so its
 * target is counted as a trace head; DynamoRIO keeps the same pair).
 * Invariants: a target lives in its home slot (low 16 bits of the pc) or the one after it,
 * which is what the in-cache probe checks; the table never moves, so the cache can keep its
 * address. Writers hold hp_rt.lock. Probes run concurrently in other threads, so with more
 * than one thread an entry only ever changes its cache pc for the same app pc (both are
 * translations of that pc) or is emptied; an emptied entry may go to another target, so a
 * probe reads the app pc again after the cache pc (entry.S) and misses if it changed. */
#include "ibl.h"
#include "heap.h"
#include "threads.h"

static hp_ibl_entry_t *ibl_tab;
static hp_ibl_entry_t *ibl_ttab;       /* traces only: what traces' exits look up */

hp_status_t ibl_init(hp_thread_t *t)
{
    if (!ibl_tab) {
        ibl_tab = heap_alloc((IBL_SLOTS + 1) * sizeof(*ibl_tab));
        ibl_ttab = heap_alloc((IBL_SLOTS + 1) * sizeof(*ibl_ttab));
        if (!ibl_tab || !ibl_ttab) return HP_ERR_NOMEM;
    }
    t->ibl_table = ibl_tab;
    t->ibl_ttable = ibl_ttab;
    return HP_OK;
}

static void ibl_set(hp_ibl_entry_t *e, uint64_t app_pc, uint64_t cache_pc)
{
    __atomic_store_n(&e->app_pc, 0, __ATOMIC_RELEASE);
    __atomic_store_n(&e->cache_pc, cache_pc, __ATOMIC_RELEASE);
    __atomic_store_n(&e->app_pc, app_pc, __ATOMIC_RELEASE);
}

static void ibl_put(hp_ibl_entry_t *tab, uint64_t app_pc, uint64_t cache_pc)
{
    hp_ibl_entry_t *e = &tab[app_pc & (IBL_SLOTS - 1)];
    if (e[0].app_pc == app_pc || e[0].app_pc == 0) ibl_set(&e[0], app_pc, cache_pc);
    else if (e[1].app_pc == app_pc || e[1].app_pc == 0) ibl_set(&e[1], app_pc, cache_pc);
    else if (threads_live() == 1) {            /* both taken: the older one moves out */
        ibl_set(&e[1], e[0].app_pc, e[0].cache_pc);
        ibl_set(&e[0], app_pc, cache_pc);
    }
    /* With threads, a probe may be between reading an entry's app pc and its cache pc:
     * a taken entry is never given to another target then (the new one keeps missing). */
}

hp_status_t ibl_insert(hp_thread_t *t, uint64_t app_pc, uint64_t cache_pc)
{
    (void)t;
    ibl_put(ibl_tab, app_pc, cache_pc);
    return HP_OK;
}

void ibl_insert_trace(uint64_t app_pc, uint64_t cache_pc)
{
    ibl_put(ibl_ttab, app_pc, cache_pc);
}

void ibl_remove(uint64_t app_pc, uint64_t cache_pc)
{
    for (int k = 0; k < 2; k++) {
        hp_ibl_entry_t *e = &(k ? ibl_ttab : ibl_tab)[app_pc & (IBL_SLOTS - 1)];
        for (int i = 0; i < 2; i++)
            if (e[i].app_pc == app_pc && e[i].cache_pc == cache_pc)
                __atomic_store_n(&e[i].app_pc, 0, __ATOMIC_RELEASE);
    }
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
    hp_memset(ibl_ttab, 0, (IBL_SLOTS + 1) * sizeof(*ibl_ttab));
    t->ibl_table = ibl_tab;
}

void *ibl_table(void) { return ibl_tab; }
