/* unit_init.h — for the unit tests that build blocks or traces: the runtime pieces they
 * need (default options, the builder, the system call table) and an executable mapping
 * for their hand-written app code. Included by one test file each. */
#ifndef HOTPATH_UNIT_INIT_H
#define HOTPATH_UNIT_INIT_H
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include "builder.h"
#include "runtime.h"
#include "syscalls.h"

/* unit_init: set up the runtime for building; returns `bytes` of fresh read-write-execute
 * memory (the test's app code; MAP_FAILED if the kernel refuses). */
static inline uint8_t *unit_init(size_t bytes)
{
    hp_options_default(&hp_rt.opts);
    builder_init();
    syscalls_init();
    return mmap(0, bytes, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
}

#endif
