/* heap.h — the runtime's own allocator on mmap (no libc malloc after takeover). */
#ifndef HOTPATH_HEAP_H
#define HOTPATH_HEAP_H
#include <stddef.h>
#include "runtime.h"

/* heap_alloc: zeroed memory of at least n bytes, 16-byte aligned; NULL when mmap fails. */
void *heap_alloc(size_t n) HP_HIDDEN;
/* heap_alloc_uninit: the same without zeroing (contents undefined): for big arrays the
 * caller fills before reading (a trace's IR). */
void *heap_alloc_uninit(size_t n) HP_HIDDEN;
/* heap_free: return memory from heap_alloc (NULL is ignored). */
void heap_free(void *p) HP_HIDDEN;
/* heap_bytes_mapped: bytes the allocator holds from the kernel (for tests and stats). */
size_t heap_bytes_mapped(void) HP_HIDDEN;

/* hp_memset/hp_memcpy: the runtime's own; also exported hidden as memset/memcpy so that
 * compiler-generated calls in the runtime never reach libc. */
void *hp_memset(void *d, int c, size_t n) HP_HIDDEN;
void *hp_memcpy(void *d, const void *s, size_t n) HP_HIDDEN;
/* hp_memmove_down: move n bytes from s to d where d <= s; the ranges may overlap (rep movsb
 * copies forward, one byte after another architecturally: a move down is exact). */
void *hp_memmove_down(void *d, const void *s, size_t n) HP_HIDDEN;

#endif
