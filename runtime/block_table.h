/* block_table.h — the map from app pc to translated block (the dispatcher's lookup). */
#ifndef HOTPATH_BLOCK_TABLE_H
#define HOTPATH_BLOCK_TABLE_H
#include "runtime.h"

/* btab_lookup: the block starting at app pc, or NULL. */
hp_block_t *btab_lookup(uint64_t pc) HP_HIDDEN;
/* btab_insert: add b (its app_pc must not be in the table yet). HP_ERR_NOMEM on failure. */
hp_status_t btab_insert(hp_block_t *b) HP_HIDDEN;
/* btab_replace: neu (same app pc) takes old's place in the table. */
void btab_replace(hp_block_t *old, hp_block_t *neu) HP_HIDDEN;
/* btab_clear: drop every block and its link records (after a whole cache flush). */
void btab_clear(void) HP_HIDDEN;
/* btab_count: number of blocks in the table. */
uint64_t btab_count(void) HP_HIDDEN;
/* btab_overlaps: 1 if some block translates app bytes in [lo, hi). */
int btab_overlaps(uint64_t lo, uint64_t hi) HP_HIDDEN;

/* btab_remove_overlapping: take every block translating bytes in [lo, hi) out of the
 * table and call fn on it; the block itself is not freed (threads may be running it). */
void btab_remove_overlapping(uint64_t lo, uint64_t hi, void (*fn)(hp_block_t *)) HP_HIDDEN;
/* btab_remove_traces: the same for every trace in the table. */
void btab_remove_traces(void (*fn)(hp_block_t *)) HP_HIDDEN;

#endif
