/* trace_int.h — what the files of traces/ share and nothing else sees: a trace head's
 * entry (its counter, its private copy for recording, what is known about promoting its
 * loop). */
#ifndef HOTPATH_TRACE_INT_H
#define HOTPATH_TRACE_INT_H
#include "trace.h"

/* A counted loop trace's recorded path, kept to build it again (trace_trip.c): one
 * allocation, the arrays after the struct. */
typedef struct {
    int n;
    int has_k;
    uint64_t succ;
    int64_t k;
    uint64_t *pcs;
    uint32_t *lens;
} tr_path_t;

typedef struct tr_entry {
    uint64_t pc;
    int32_t count;               /* executions of this head; -1: no trace can be made */
    int no_promote;              /* a promoted preheader faulted here (kept across flushes) */
    int trip;                    /* TRIP_*: how its loop trace is built (kept across flushes) */
    tr_path_t *trip_path;        /* its counted trace's path, until decided (freed by a
                                    flush: the counted trace is gone) */
    hp_block_t *copy;            /* private copy of the block at pc, for recording */
    struct tr_entry *next;
} tr_entry_t;

/* trace_head: the entry of head pc, made (zeroed) when create is set and there is none;
 * NULL when there is none or no memory. Entries live until code at pc changes
 * (trace_forget). Caller holds the lock. */
tr_entry_t *trace_head(uint64_t pc, int create) HP_HIDDEN;

#endif
