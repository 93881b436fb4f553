/* unit_emit.h — for the optimizer's unit tests: emit a trace's IR into a fresh 4 KiB of
 * code cache near the code it came from, as trace_build would (the exits and map entries
 * land in the caller's arrays). Fails the test when the cache or the emitter refuses.
 * Included by one test file each (static). */
#ifndef HOTPATH_UNIT_EMIT_H
#define HOTPATH_UNIT_EMIT_H
#include "builder_int.h"
#include "cache.h"
#include "ir_emit.h"

/* unit_emit: t into cache near `near`; exits[cap_exits], xl[cap_xl] receive its exits and
 * map; ctx describes the emitted code (commit it with cache_commit when done). */
static void unit_emit(const ir_trace_t *t, uint64_t near, bb_ctx_t *ctx, bb_exit_t *exits, int cap_exits,
                      hp_xl_t *xl, int cap_xl)
{
    memset(ctx, 0, sizeof(*ctx));
    ctx->exits = exits;
    ctx->cap_exits = cap_exits;
    ctx->xl = xl;
    ctx->cap_xl = cap_xl;
    ctx->start = ctx->p = cache_reserve(near, 4096);
    assert_non_null(ctx->start);
    ctx->end = ctx->start + 4096;
    const char *why;
    assert_int_equal(ir_emit(ctx, t, &why), HP_OK);
}

#endif
