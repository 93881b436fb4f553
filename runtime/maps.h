/* maps.h — what the process has mapped executable, read from /proc/self/maps with raw
 * syscalls, so the block builder never decodes memory that is not there. */
#ifndef HOTPATH_MAPS_H
#define HOTPATH_MAPS_H
#include <stdint.h>
#include "runtime.h"

typedef struct {
    uint64_t start, end;
    uint64_t inode;
    int prot;          /* PROT_READ | PROT_WRITE | PROT_EXEC */
    int shared;        /* MAP_SHARED: another mapping of the same object may write it */
} maps_region_t;

/* maps_refresh: reread /proc/self/maps. HP_ERR_IO if it cannot be read. */
hp_status_t maps_refresh(void) HP_HIDDEN;

/* maps_find_exec: the readable, executable region holding pc, rereading the maps once if
 * the cached copy has none. Returns HP_ERR_FAULT when pc is not mapped executable. */
hp_status_t maps_find_exec(uint64_t pc, maps_region_t *out) HP_HIDDEN;

/* maps_object_range: lowest start and highest end of the regions that share pc's inode
 * (one loaded ELF object, e.g. libhotpath.so itself). HP_ERR_FAULT if pc is unmapped. */
hp_status_t maps_object_range(uint64_t pc, uint64_t *lo, uint64_t *hi) HP_HIDDEN;

/* maps_forget: drop cached regions overlapping [lo, hi), so the next lookup there rereads
 * the file (after munmap, mprotect or mremap). */
void maps_forget(uint64_t lo, uint64_t hi) HP_HIDDEN;

/* maps_parse_line: parse one /proc/self/maps line into r; returns 1 on success. Exposed
 * for the unit tests. */
int maps_parse_line(const char *line, maps_region_t *r) HP_HIDDEN;

#endif
