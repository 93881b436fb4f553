/* ibl.h — the indirect branch lookup table, probed by code in the cache (entry.S template)
 * without entering C. Layout is fixed: 16-byte entries {app pc, cache pc}; a zero app pc
 * ends a probe; the table has IBL_PAD extra slots so a probe never wraps. */
#ifndef HOTPATH_IBL_H
#define HOTPATH_IBL_H
#include "runtime.h"

#define IBL_PAD 64

typedef struct {
    uint64_t app_pc;
    uint64_t cache_pc;
} hp_ibl_entry_t;

/* ibl_insert: make lookups of app_pc jump to cache_pc; grows the table when a probe would
 * exceed IBL_PAD slots. Updates t's T_IBL_TABLE/T_IBL_MASK16. */
hp_status_t ibl_insert(hp_thread_t *t, uint64_t app_pc, uint64_t cache_pc) HP_HIDDEN;
/* ibl_lookup: the C view of a probe (for tests): cache pc or 0. */
uint64_t ibl_lookup(uint64_t app_pc) HP_HIDDEN;
/* ibl_clear: empty the table (whole flush); t gets the table pointer back. */
void ibl_clear(hp_thread_t *t) HP_HIDDEN;
/* ibl_init: first table; publishes it in t. */
hp_status_t ibl_init(hp_thread_t *t) HP_HIDDEN;

#endif
