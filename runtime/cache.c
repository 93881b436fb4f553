/* cache.c — code cache units of CACHE_UNIT_SIZE bytes, mapped read-write-execute near the
 * code they hold translations of.
 * Invariants: a unit is used for an app pc only when both of its ends lie within
 * CACHE_MAX_DIST of that pc; units are never unmapped (a whole flush just empties them), so
 * a stale cache address never points to unmapped memory. Units are placed below the code
 * first, to stay away from the brk heap that grows up after the executable. Traces have
 * units of their own, so the trace cache can be flushed alone: its units are retired (still
 * mapped and searchable for signals) and reused only when no thread can be inside them. */
#include <sys/mman.h>
#include "cache.h"
#include "perfmap.h"
#include "sys.h"
#include "heap.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

#define CACHE_MAX_UNITS 512

enum { CU_BLOCKS, CU_TRACES, CU_RETIRED };

typedef struct {
    uint8_t *start, *cur, *end;
    int kind;                   /* CU_*: blocks, live traces, or flushed traces */
    hp_block_t **blocks;        /* blocks in this unit, by address (allocation order) */
    uint32_t nblocks, capblocks;
} cache_unit_t;

static cache_unit_t cache_units[CACHE_MAX_UNITS];
static int cache_nunits;

static uint64_t cache_dist(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

static int cache_unit_near(const cache_unit_t *u, uint64_t pc)
{
    return cache_dist((uint64_t)u->start, pc) < CACHE_MAX_DIST &&
           cache_dist((uint64_t)u->end, pc) < CACHE_MAX_DIST;
}

static cache_unit_t *cache_new_unit(uint64_t pc, int kind)
{
    static const uint64_t offs[] = { 64, 128, 192, 256, 320, 384, 448, 32, 16 };
    if (cache_nunits == CACHE_MAX_UNITS) return 0;
    for (int dir = 0; dir < 2; dir++) {
        for (unsigned i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
            uint64_t d = offs[i] << 20, addr;
            if (dir == 0) {
                if (pc < d + CACHE_UNIT_SIZE + (1u << 20)) continue;
                addr = (pc - d - CACHE_UNIT_SIZE) & ~(uint64_t)0xffff;
            } else {
                addr = (pc + d) & ~(uint64_t)0xffff;
                if (addr > 0x7ffffffff000ull - CACHE_UNIT_SIZE) continue;
            }
            void *m = sys_mmap((void *)addr, CACHE_UNIT_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                               MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
            if (sys_is_err((long)m)) continue;
            if ((uint64_t)m != addr) {   /* old kernels treat the flag as a hint */
                sys_munmap(m, CACHE_UNIT_SIZE);
                continue;
            }
            cache_unit_t *u = &cache_units[cache_nunits];
            u->start = u->cur = m;
            u->end = u->start + CACHE_UNIT_SIZE;
            u->kind = kind;
            __atomic_store_n(&cache_nunits, cache_nunits + 1, __ATOMIC_RELEASE);  /* filled first */
            hp_rt.stats.cache_units++;
            return u;
        }
    }
    return 0;
}

uint8_t *cache_reserve_kind(uint64_t app_pc, size_t max, int traces)
{
    int kind = traces ? CU_TRACES : CU_BLOCKS;
    for (int i = cache_nunits - 1; i >= 0; i--) {
        cache_unit_t *u = &cache_units[i];
        if (u->kind == kind && cache_unit_near(u, app_pc) && (size_t)(u->end - u->cur) >= max)
            return u->cur;
    }
    cache_unit_t *u = cache_new_unit(app_pc, kind);
    return u ? u->cur : 0;
}

uint8_t *cache_reserve(uint64_t app_pc, size_t max)
{
    return cache_reserve_kind(app_pc, max, 0);
}

uint64_t cache_trace_bytes(void)
{
    uint64_t n = 0;
    for (int i = 0; i < cache_nunits; i++)
        if (cache_units[i].kind == CU_TRACES) n += (uint64_t)(cache_units[i].cur - cache_units[i].start);
    return n;
}

int cache_retire_traces(void)
{
    int n = 0;
    for (int i = 0; i < cache_nunits; i++)
        if (cache_units[i].kind == CU_TRACES) { cache_units[i].kind = CU_RETIRED; n++; }
    return n;
}

void cache_reuse_retired(void (*release)(hp_block_t *))
{
    for (int i = 0; i < cache_nunits; i++) {
        cache_unit_t *u = &cache_units[i];
        if (u->kind != CU_RETIRED) continue;
        for (uint32_t k = 0; k < u->nblocks; k++) release(u->blocks[k]);
        u->nblocks = 0;
        u->cur = u->start;
        u->kind = CU_TRACES;
    }
}

int cache_has_retired(void)
{
    for (int i = 0; i < cache_nunits; i++)
        if (cache_units[i].kind == CU_RETIRED) return 1;
    return 0;
}

void cache_commit(uint8_t *start, size_t used)
{
    for (int i = 0; i < cache_nunits; i++) {
        cache_unit_t *u = &cache_units[i];
        if (u->cur == start) {
            u->cur += (used + 15) & ~(size_t)15;    /* keep blocks 16-byte aligned */
            if (u->cur > u->end) u->cur = u->end;
            hp_rt.stats.block_cache_bytes += used;
            return;
        }
    }
}

static cache_unit_t *cache_unit_of(uint64_t p)
{
    int n = __atomic_load_n(&cache_nunits, __ATOMIC_ACQUIRE);   /* also from signal handlers */
    for (int i = 0; i < n; i++)
        if (p >= (uint64_t)cache_units[i].start && p < (uint64_t)cache_units[i].end) return &cache_units[i];
    return 0;
}

int cache_contains(uint64_t p) { return cache_unit_of(p) != 0; }

/* cache_add_block: the writer holds the dispatcher lock; cache_find_block runs without it
 * (in hp_sig_entry, on any thread, with every signal blocked, so a fault there kills the
 * process silently). So a slot is filled before nblocks counts it (release; the reader
 * acquires), and a grown array is published only once it holds every counted slot; the
 * old one is never freed (another thread's handler may be searching it): arrays double,
 * so all those kept take less memory than the live one. */
hp_status_t cache_add_block(hp_block_t *b)
{
    cache_unit_t *u = cache_unit_of((uint64_t)b->cache_start);
    if (!u) return HP_ERR_INVALID;
    uint32_t nb = u->nblocks;
    if (nb == u->capblocks) {
        uint32_t cap = u->capblocks ? u->capblocks * 2 : 1024;
        hp_block_t **n = heap_alloc(sizeof(*n) * cap);
        if (!n) return HP_ERR_NOMEM;
        if (nb) hp_memcpy(n, u->blocks, sizeof(*n) * nb);
        __atomic_store_n(&u->blocks, n, __ATOMIC_RELEASE);
        u->capblocks = cap;
    }
    u->blocks[nb] = b;
    __atomic_store_n(&u->nblocks, nb + 1, __ATOMIC_RELEASE);
    perfmap_add(b);
    return HP_OK;
}

hp_block_t *cache_find_block(uint64_t p)
{
    cache_unit_t *u = cache_unit_of(p);
    if (!u) return 0;
    uint32_t nb = __atomic_load_n(&u->nblocks, __ATOMIC_ACQUIRE);
    hp_block_t *const *blocks = __atomic_load_n(&u->blocks, __ATOMIC_ACQUIRE);
    if (!nb) return 0;                     /* (a count > 0 was stored after its array) */
    int lo = 0, hi = (int)nb - 1, found = -1;
    while (lo <= hi) {                     /* last block starting at or before p */
        int mid = (lo + hi) / 2;
        const hp_block_t *m = blocks[mid];
        if (!m) return 0;                  /* (never: filled before counted) */
        if ((uint64_t)m->cache_start <= p) { found = mid; lo = mid + 1; }
        else hi = mid - 1;
    }
    if (found < 0) return 0;
    hp_block_t *b = blocks[found];
    return p < (uint64_t)b->cache_start + b->cache_size ? b : 0;
}

void cache_reset(void)
{
    for (int i = 0; i < cache_nunits; i++) {
        cache_units[i].cur = cache_units[i].start;
        cache_units[i].nblocks = 0;
        if (cache_units[i].kind == CU_RETIRED) cache_units[i].kind = CU_TRACES;
    }
    hp_rt.stats.cache_flushes++;
}
