/* maps.h — what the process has mapped (executable code, read-only data), read from
 * /proc/self/maps with raw syscalls, so the block builder never decodes memory that is not
 * there and the optimizer folds only loads the app cannot change unseen. */
#ifndef HOTPATH_MAPS_H
#define HOTPATH_MAPS_H
#include <stdint.h>
#include "runtime.h"

typedef struct {
    uint64_t start, end;
    uint64_t inode;
    uint64_t dev;      /* major << 32 | minor */
    int prot;          /* PROT_READ | PROT_WRITE | PROT_EXEC */
    int shared;        /* MAP_SHARED: another mapping of the same object may write it */
    int volatile_file; /* a memfd or a deleted file (written by whoever holds it, never a
                          program's image on disk), or a line too long to tell */
} maps_region_t;

/* maps_refresh: reread /proc/self/maps. HP_ERR_IO if it cannot be read. */
hp_status_t maps_refresh(void) HP_HIDDEN;

/* maps_find_exec: the readable, executable region holding pc, rereading the maps once if
 * the cached copy has none. Returns HP_ERR_FAULT when pc is not mapped executable. */
hp_status_t maps_find_exec(uint64_t pc, maps_region_t *out) HP_HIDDEN;

/* maps_find_ro: the region holding [lo, lo + len) when it is part of a loaded program or
 * library: a private mapping, readable and not writable, of a file that is also mapped
 * executable (same device and inode), neither a memfd nor deleted. Its bytes then change, as the object's code does,
 * through system calls the runtime sees (mprotect, munmap, mremap, mmap MAP_FIXED, madvise)
 * or by writing the file under the mapping, /proc/self/mem or ptrace, which hotpath does
 * not follow for code either. Rereads the maps once when lo is unknown or forgotten.
 * HP_ERR_FAULT otherwise. */
hp_status_t maps_find_ro(uint64_t lo, uint64_t len, maps_region_t *out) HP_HIDDEN;

/* maps_may_hold_code: some region in the cached maps overlapping [lo, hi) is executable,
 * a file's read-only data (what a pass may fold), or forgotten since (its protection
 * unknown). Translated code and folded data come only from regions the cache has held
 * since they were looked up, so 0 means nothing translated lies there. Caller holds the
 * runtime lock. */
int maps_may_hold_code(uint64_t lo, uint64_t hi) HP_HIDDEN;

/* maps_read: the app bytes [lo, lo + len) into buf, page by page through process_vm_readv
 * on this process, which fails where a plain read would fault (a file mapping past the
 * file's end is listed in /proc/self/maps but raises SIGBUS; another thread may unmap
 * memory meanwhile). ok[k] says whether byte k was read. */
void maps_read(uint64_t lo, uint64_t len, uint8_t *buf, uint8_t *ok) HP_HIDDEN;

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
