/* builder.h — translate one basic block of app code into the code cache. */
#ifndef HOTPATH_BUILDER_H
#define HOTPATH_BUILDER_H
#include "runtime.h"

/* builder_init: set up the Zydis decoder. Call once before any build. */
void builder_init(void) HP_HIDDEN;

/* builder_build: translate the block that starts at app pc; on success *out is a new
 * block (not yet in the block table) whose exits are unlinked. Errors: HP_ERR_FAULT (pc not
 * mapped executable), HP_ERR_DECODE (first instruction undecodable), HP_ERR_UNSUPPORTED
 * (first instruction is one hotpath cannot run from the cache), HP_ERR_NOMEM, HP_ERR_ENCODE.
 * On any error *why names the case for --verbose and the statistics.
 * Uses SIMD state through Zydis: the caller must have saved the app's. */
hp_status_t builder_build(uint64_t pc, hp_block_t **out, const char **why) HP_HIDDEN;

/* builder_build_at: the same, with decoding limited to [pc, limit) of memory at `code`
 * (code may differ from pc for tests); used by the unit tests. */
hp_status_t builder_build_at(uint64_t pc, const uint8_t *code, uint64_t limit,
                             hp_block_t **out, const char **why) HP_HIDDEN;

/* builder_build_checked: builder_build_at, and with smc != 0 the block's entry first checks
 * that the app bytes are still the ones translated (code the app can write). */
hp_status_t builder_build_checked(uint64_t pc, const uint8_t *code, uint64_t limit, int smc,
                                  hp_block_t **out, const char **why) HP_HIDDEN;

#endif
