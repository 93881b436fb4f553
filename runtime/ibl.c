/* ibl.c — the indirect branch lookup table shared by all threads.
 * Invariants: the probe in the cache computes slot = (pc << 4) & mask16, i.e. the low bits
 * of the app pc, then walks forward until it finds pc or a zero entry. An entry's cache pc
 * is written before its app pc, so a concurrent probe never sees a half entry. */
#include "ibl.h"
#include "heap.h"

static hp_ibl_entry_t *ibl_tab;
static uint64_t ibl_slots;     /* power of two, not counting the pad */

static void ibl_publish(hp_thread_t *t)
{
    t->ibl_table = ibl_tab;
    t->ibl_mask16 = (ibl_slots - 1) << 4;
}

static int ibl_put(hp_ibl_entry_t *tab, uint64_t slots, uint64_t app_pc, uint64_t cache_pc)
{
    uint64_t i = app_pc & (slots - 1);
    for (uint64_t k = 0; k < IBL_PAD - 1; k++, i++) {
        if (tab[i].app_pc == app_pc || tab[i].app_pc == 0) {
            tab[i].cache_pc = cache_pc;
            __atomic_store_n(&tab[i].app_pc, app_pc, __ATOMIC_RELEASE);
            return 1;
        }
    }
    return 0;
}

static hp_status_t ibl_alloc(uint64_t slots)
{
    hp_ibl_entry_t *t = heap_alloc((slots + IBL_PAD) * sizeof(*t));
    if (!t) return HP_ERR_NOMEM;
    ibl_tab = t;
    ibl_slots = slots;
    return HP_OK;
}

hp_status_t ibl_init(hp_thread_t *t)
{
    if (!ibl_tab) CHECK(ibl_alloc(1 << 12));
    ibl_publish(t);
    return HP_OK;
}

hp_status_t ibl_insert(hp_thread_t *t, uint64_t app_pc, uint64_t cache_pc)
{
    while (!ibl_put(ibl_tab, ibl_slots, app_pc, cache_pc)) {
        hp_ibl_entry_t *old = ibl_tab;
        uint64_t old_slots = ibl_slots;
        CHECK(ibl_alloc(old_slots * 2));
        for (uint64_t i = 0; i < old_slots + IBL_PAD; i++)
            if (old[i].app_pc) ibl_put(ibl_tab, ibl_slots, old[i].app_pc, old[i].cache_pc);
        /* The old table stays allocated: another thread may be probing it (leaked until a
         * quiescent point; tables only grow, so the total is bounded by twice the last). */
    }
    ibl_publish(t);
    return HP_OK;
}

uint64_t ibl_lookup(uint64_t app_pc)
{
    for (uint64_t i = app_pc & (ibl_slots - 1);; i++) {
        if (ibl_tab[i].app_pc == app_pc) return ibl_tab[i].cache_pc;
        if (!ibl_tab[i].app_pc) return 0;
    }
}

void ibl_clear(hp_thread_t *t)
{
    hp_memset(ibl_tab, 0, (ibl_slots + IBL_PAD) * sizeof(*ibl_tab));
    ibl_publish(t);
}
