/* heap.c — size-class allocator on anonymous mmap for the runtime.
 * Invariants: never calls libc; blocks of 16..4096 bytes come from 64 KiB slabs, blocks up
 * to 1 MiB are their own mapping of their class's size, and both go back to a per-class
 * free list (never to the kernel: trace building asks for the same few sizes over and
 * over, and a fresh mapping faulted in each time was 7% of python3's run under hotpath);
 * larger ones are their own mapping, and the last few freed mappings are kept for reuse (a
 * trace's IR is hundreds of KiB: mapping, faulting in and unmapping it per trace cost
 * python3's start-up 0.2 s). A spin lock makes it safe for threads. Every block carries a
 * 16-byte header with its class or its mapping length. */
#include <sys/mman.h>
#include "heap.h"
#include "sys.h"

#define HEAP_MIN_SHIFT 4      /* 16 bytes */
#define HEAP_SLAB_SHIFT 12    /* 4096 bytes: the largest class carved from slabs */
#define HEAP_MAX_SHIFT 20     /* 1 MiB: the largest class (a mapping each, kept) */
#define HEAP_NCLASS (HEAP_MAX_SHIFT - HEAP_MIN_SHIFT + 1)
#define HEAP_SLAB (64 * 1024)
#define HEAP_HDR 16
#define HEAP_BIG_KEEP 8       /* freed big mappings kept for reuse */
#define HEAP_BIG_MAX (4u << 20) /* bigger ones go back to the kernel at once */

typedef struct heap_free { struct heap_free *next; } heap_free_t;

static heap_free_t *heap_lists[HEAP_NCLASS];
static char *heap_cur, *heap_end;
static size_t heap_mapped;
static char *heap_big[HEAP_BIG_KEEP];  /* kept big mappings (length in their header) */
static volatile int heap_lock;

static void heap_acquire(void)
{
    while (__atomic_exchange_n(&heap_lock, 1, __ATOMIC_ACQUIRE))
        while (heap_lock) __builtin_ia32_pause();
}

static void heap_release(void) { __atomic_store_n(&heap_lock, 0, __ATOMIC_RELEASE); }

/* rep stosb / rep movsb: fast strings on every CPU we run on (ERMS); a byte loop made
 * hp_memset and hp_memcpy a third of python3's start-up under hotpath. */
void *hp_memset(void *d, int c, size_t n)
{
    void *p = d;
    __asm__ volatile("rep stosb" : "+D"(p), "+c"(n) : "a"(c) : "memory");
    return d;
}

void *hp_memcpy(void *d, const void *s, size_t n)
{
    void *p = d;
    __asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(n) : : "memory");
    return d;
}

void *hp_memmove_down(void *d, const void *s, size_t n)
{
    void *p = d;                                /* forward, byte after byte (DF is clear) */
    __asm__ volatile("rep movsb" : "+D"(p), "+S"(s), "+c"(n) : : "memory");
    return d;
}

/* Compiler-generated calls bind to these (hidden, so the app's symbols are untouched). */
__attribute__((visibility("hidden"))) void *memset(void *d, int c, size_t n) { return hp_memset(d, c, n); }
__attribute__((visibility("hidden"))) void *memcpy(void *d, const void *s, size_t n) { return hp_memcpy(d, s, n); }

static int heap_class(size_t n)
{
    int shift = HEAP_MIN_SHIFT;
    while (((size_t)1 << shift) < n + HEAP_HDR) shift++;
    return shift - HEAP_MIN_SHIFT;
}

static void *heap_get(size_t n, int zero)
{
    if (n + HEAP_HDR > ((size_t)1 << HEAP_MAX_SHIFT)) {
        size_t len = (n + HEAP_HDR + 4095) & ~(size_t)4095;
        char *m = 0;
        heap_acquire();
        for (int i = 0; i < HEAP_BIG_KEEP && !m; i++) {
            size_t have = heap_big[i] ? *(size_t *)heap_big[i] : 0;
            if (have >= len && have <= 4 * len) { m = heap_big[i]; heap_big[i] = 0; }
        }
        heap_release();
        if (m) {                          /* reused: zero what the caller asked for */
            if (zero) hp_memset(m + HEAP_HDR, 0, n);
            return m + HEAP_HDR;
        }
        m = sys_mmap(0, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (sys_is_err((long)m)) return 0;
        __atomic_add_fetch(&heap_mapped, len, __ATOMIC_RELAXED);
        *(size_t *)m = len;               /* big block: header holds its mapping length */
        return m + HEAP_HDR;
    }
    int c = heap_class(n);
    size_t sz = (size_t)1 << (c + HEAP_MIN_SHIFT);
    char *blk;
    heap_acquire();
    if (heap_lists[c]) {
        blk = (char *)heap_lists[c];
        heap_lists[c] = heap_lists[c]->next;
    } else if (c + HEAP_MIN_SHIFT > HEAP_SLAB_SHIFT) {
        heap_release();
        blk = sys_mmap(0, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (sys_is_err((long)blk)) return 0;
        __atomic_add_fetch(&heap_mapped, sz, __ATOMIC_RELAXED);
        *(size_t *)blk = (size_t)c;
        return blk + HEAP_HDR;            /* (fresh from the kernel: zero) */
    } else {
        if (heap_cur + sz > heap_end) {
            char *m = sys_mmap(0, HEAP_SLAB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
            if (sys_is_err((long)m)) { heap_release(); return 0; }
            heap_mapped += HEAP_SLAB;
            heap_cur = m;
            heap_end = m + HEAP_SLAB;
        }
        blk = heap_cur;
        heap_cur += sz;
    }
    heap_release();
    if (zero) hp_memset(blk, 0, n + HEAP_HDR);
    *(size_t *)blk = (size_t)c;           /* small block: header holds its class */
    return blk + HEAP_HDR;
}

void *heap_alloc(size_t n) { return heap_get(n, 1); }

void *heap_alloc_uninit(size_t n) { return heap_get(n, 0); }

void heap_free(void *p)
{
    if (!p) return;
    char *blk = (char *)p - HEAP_HDR;
    size_t h = *(size_t *)blk;
    if (h >= 4096) {
        if (h <= HEAP_BIG_MAX) {
            heap_acquire();
            for (int i = 0; i < HEAP_BIG_KEEP; i++)
                if (!heap_big[i]) { heap_big[i] = blk; blk = 0; break; }
            heap_release();
            if (!blk) return;
        }
        __atomic_sub_fetch(&heap_mapped, h, __ATOMIC_RELAXED);
        sys_munmap(blk, h);
        return;
    }
    heap_acquire();
    ((heap_free_t *)blk)->next = heap_lists[h];
    heap_lists[h] = (heap_free_t *)blk;
    heap_release();
}

size_t heap_bytes_mapped(void) { return heap_mapped; }
