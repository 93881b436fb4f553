/* ibl.h — the indirect branch lookup table, probed by code in the cache (entry.S template)
 * without entering C. Layout is fixed: IBL_SLOTS + 1 entries of 16 bytes {app pc, cache
 * pc}; a target's home slot is its low 16 bits, and the probe also looks at the next one. */
#ifndef HOTPATH_IBL_H
#define HOTPATH_IBL_H
#include "runtime.h"

#define IBL_SLOTS 65536

typedef struct {
    uint64_t app_pc;
    uint64_t cache_pc;
} hp_ibl_entry_t;

/* ibl_insert: make lookups of app_pc jump to cache_pc, evicting an older target that
 * shares its slots if both are taken (the evicted one misses once and comes back). */
hp_status_t ibl_insert(hp_thread_t *t, uint64_t app_pc, uint64_t cache_pc) HP_HIDDEN;
/* ibl_insert_trace: the same in the traces' table (cache_pc a trace, or a block whose head
 * cannot become a trace, so its misses stop). */
void ibl_insert_trace(uint64_t app_pc, uint64_t cache_pc) HP_HIDDEN;
/* ibl_remove: drop app_pc's entries (both tables) if they jump to cache_pc. */
void ibl_remove(uint64_t app_pc, uint64_t cache_pc) HP_HIDDEN;
/* ibl_lookup: the C view of a probe (for tests): cache pc or 0. */
uint64_t ibl_lookup(uint64_t app_pc) HP_HIDDEN;
/* ibl_clear: empty the tables (whole flush). */
void ibl_clear(hp_thread_t *t) HP_HIDDEN;
/* ibl_table: the shared table (what T_IBL_TABLE normally holds). */
void *ibl_table(void) HP_HIDDEN;
/* ibl_init: the table (allocated once); publishes it in t (T_IBL_TABLE). */
hp_status_t ibl_init(hp_thread_t *t) HP_HIDDEN;

#endif
