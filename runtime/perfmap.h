/* perfmap.h — perf's map of JIT code (--perf-map): /tmp/perf-PID.map names every fragment
 * so `perf report` attributes samples in the code cache to app addresses. */
#ifndef HOTPATH_PERFMAP_H
#define HOTPATH_PERFMAP_H
#include "runtime.h"

/* perfmap_add: append b's lines (a block; a trace's body and its out-of-line part) to the
 * map of the current process, when --perf-map is on. Caller holds hp_rt.lock. */
void perfmap_add(const hp_block_t *b) HP_HIDDEN;

#endif
