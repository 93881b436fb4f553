/* flush.h — dropping translations when the code under them changes or goes away. */
#ifndef HOTPATH_FLUSH_H
#define HOTPATH_FLUSH_H
#include "runtime.h"

/* flush_range: code in [lo, hi) was unmapped, reprotected or remapped. Blocks translating
 * it stop being reachable: with one thread the whole cache is emptied and reused; with
 * several, only the blocks in the range are unlinked and taken out of the tables (their
 * memory stays: another thread may be inside). Caller holds hp_rt.lock; t is the caller. */
void flush_range(hp_thread_t *t, uint64_t lo, uint64_t hi) HP_HIDDEN;

#endif
