/* cache.h — code cache units: executable memory placed within reach (rel32) of the app code
 * it translates, so copied RIP-relative operands and direct links still encode. */
#ifndef HOTPATH_CACHE_H
#define HOTPATH_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include "runtime.h"

#define CACHE_UNIT_SIZE (4u << 20)
/* Any cache byte lies at most this far from the app pc it was placed for. */
#define CACHE_MAX_DIST (512ull << 20)

/* cache_reserve: room for up to max bytes of code within CACHE_MAX_DIST of app_pc; returns
 * the start (the bytes may be written at once) or NULL when no memory can be mapped near.
 * Must be followed by cache_commit before the next reserve. */
uint8_t *cache_reserve(uint64_t app_pc, size_t max) HP_HIDDEN;

/* cache_reserve_kind: the same in the units of traces (traces != 0) or of blocks. */
uint8_t *cache_reserve_kind(uint64_t app_pc, size_t max, int traces) HP_HIDDEN;

/* cache_trace_bytes: bytes used in the live trace units (the trace cache's size). */
uint64_t cache_trace_bytes(void) HP_HIDDEN;

/* cache_retire_traces: the live trace units become retired: nothing new goes there, their
 * blocks stay findable. Returns how many. */
int cache_retire_traces(void) HP_HIDDEN;

/* cache_has_retired: 1 if some retired units wait to be reused. */
int cache_has_retired(void) HP_HIDDEN;

/* cache_reuse_retired: retired units become empty trace units; release(b) is called on each
 * block they held first. Only when no thread can execute in them. */
void cache_reuse_retired(void (*release)(hp_block_t *)) HP_HIDDEN;

/* cache_commit: keep the first used bytes of the last reservation. */
void cache_commit(uint8_t *start, size_t used) HP_HIDDEN;

/* cache_reachable: 1 if a rel32 at address `from` (end of the instruction) reaches `to`. */
static inline int cache_reachable(uint64_t from, uint64_t to)
{
    int64_t d = (int64_t)(to - from);
    return d == (int64_t)(int32_t)d;
}

/* cache_contains: 1 if p lies in a code cache unit. */
int cache_contains(uint64_t p) HP_HIDDEN;

/* cache_add_block: remember b (just committed) so cache_find_block can map its cache
 * addresses back to it. */
hp_status_t cache_add_block(hp_block_t *b) HP_HIDDEN;

/* cache_find_block: the block whose cache memory holds p, or NULL (a stub of no block, a
 * far-link trampoline, or not the cache at all). Blocks stay findable after invalidation.
 * Needs no lock: signal handlers call it on any thread while another adds blocks. */
hp_block_t *cache_find_block(uint64_t p) HP_HIDDEN;

/* cache_reset: forget every block: all units become empty (whole flush). Only when no
 * thread executes in the cache. */
void cache_reset(void) HP_HIDDEN;

#endif
