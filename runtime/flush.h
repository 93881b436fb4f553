/* flush.h — dropping translations when the code under them changes or goes away. */
#ifndef HOTPATH_FLUSH_H
#define HOTPATH_FLUSH_H
#include "runtime.h"

/* flush_range: code in [lo, hi) was unmapped, reprotected, remapped or rewritten. Blocks
 * translating it stop being reachable: with whole_ok and one thread the whole cache is
 * emptied and reused; otherwise only the blocks in the range are unlinked and taken out of
 * the tables (their memory stays: a thread may be inside). Caller holds hp_rt.lock. */
void flush_range(hp_thread_t *t, uint64_t lo, uint64_t hi, int whole_ok) HP_HIDDEN;

/* flush_unlink_incoming: every link patched to jump into b goes back to its stub (the next
 * time it runs, the dispatcher links it to whatever the table then holds). Under the lock. */
void flush_unlink_incoming(hp_block_t *b) HP_HIDDEN;

#endif
