/* block_table.c — open-addressing hash table app pc -> hp_block_t*.
 * Invariants: load factor stays under 1/2; each slot holds its block's app pc beside the
 * pointer (a probe reads no block: the dispatcher looks up several times per pass); a
 * cleared table frees blocks and their links;
 * [tr_lo, tr_hi) bounds every app byte that was ever translated since the last clear. */
#include "block_table.h"
#include "heap.h"

typedef struct { uint64_t pc; hp_block_t *b; } btab_slot_t;
static btab_slot_t *btab_slots;
static uint64_t btab_size, btab_used;
static uint64_t tr_lo = ~0ull, tr_hi;

static uint64_t btab_hash(uint64_t pc) { return (pc * 0x9E3779B97F4A7C15ull) >> 20; }

hp_block_t *btab_lookup(uint64_t pc)
{
    if (!btab_size) return 0;
    for (uint64_t i = btab_hash(pc) & (btab_size - 1);; i = (i + 1) & (btab_size - 1)) {
        if (!btab_slots[i].b) return 0;
        if (btab_slots[i].pc == pc) return btab_slots[i].b;
    }
}

static void btab_put(btab_slot_t *slots, uint64_t size, hp_block_t *b)
{
    uint64_t i = btab_hash(b->app_pc) & (size - 1);
    while (slots[i].b) i = (i + 1) & (size - 1);
    slots[i].pc = b->app_pc;
    slots[i].b = b;
}

/* btab_range_of: the app bytes b translates, as [lo, hi) runs (a trace has several). */
static int btab_block_overlaps(const hp_block_t *b, uint64_t lo, uint64_t hi)
{
    if (!b->nranges) return b->app_pc < hi && b->app_end > lo;
    for (uint32_t i = 0; i < b->nranges; i++)
        if (b->ranges[i][0] < hi && b->ranges[i][1] > lo) return 1;
    return 0;
}

static void btab_remove_if(int (*match)(const hp_block_t *, uint64_t, uint64_t), uint64_t lo,
                           uint64_t hi, void (*fn)(hp_block_t *));

static void btab_widen(const hp_block_t *b)
{
    if (b->app_pc < tr_lo) tr_lo = b->app_pc;
    if (b->app_end > tr_hi) tr_hi = b->app_end;
    for (uint32_t i = 0; i < b->nranges; i++) {
        if (b->ranges[i][0] < tr_lo) tr_lo = b->ranges[i][0];
        if (b->ranges[i][1] > tr_hi) tr_hi = b->ranges[i][1];
    }
}

void btab_replace(hp_block_t *old, hp_block_t *neu)
{
    for (uint64_t i = btab_hash(old->app_pc) & (btab_size - 1);; i = (i + 1) & (btab_size - 1)) {
        if (!btab_slots[i].b) return;
        if (btab_slots[i].b == old) {
            btab_slots[i].b = neu;               /* the same app pc */
            btab_widen(neu);
            return;
        }
    }
}

hp_status_t btab_insert(hp_block_t *b)
{
    if ((btab_used + 1) * 2 > btab_size) {
        uint64_t nsize = btab_size ? btab_size * 2 : 4096;
        btab_slot_t *n = heap_alloc(nsize * sizeof(*n));
        if (!n) return HP_ERR_NOMEM;
        for (uint64_t i = 0; i < btab_size; i++)
            if (btab_slots[i].b) btab_put(n, nsize, btab_slots[i].b);
        heap_free(btab_slots);
        btab_slots = n;
        btab_size = nsize;
    }
    btab_put(btab_slots, btab_size, b);
    btab_used++;
    btab_widen(b);
    return HP_OK;
}

void btab_clear(void)
{
    for (uint64_t i = 0; i < btab_size; i++) {
        hp_block_t *b = btab_slots[i].b;
        if (!b) continue;
        for (hp_link_t *l = b->exits, *next; l; l = next) {
            next = l->next;
            heap_free(l);
        }
        heap_free(b);
        btab_slots[i].b = 0;
    }
    btab_used = 0;
    tr_lo = ~0ull;
    tr_hi = 0;
}

uint64_t btab_count(void) { return btab_used; }

int btab_overlaps(uint64_t lo, uint64_t hi)
{
    if (hi <= tr_lo || lo >= tr_hi) return 0;     /* fast path: outside every block */
    for (uint64_t i = 0; i < btab_size; i++) {
        hp_block_t *b = btab_slots[i].b;
        if (b && btab_block_overlaps(b, lo, hi)) return 1;
    }
    return 0;
}

static int btab_is_trace(const hp_block_t *b, uint64_t lo, uint64_t hi)
{
    (void)lo; (void)hi;
    return b->is_trace;
}

void btab_remove_overlapping(uint64_t lo, uint64_t hi, void (*fn)(hp_block_t *))
{
    if (hi <= tr_lo || lo >= tr_hi) return;
    btab_remove_if(btab_block_overlaps, lo, hi, fn);
}

void btab_remove_traces(void (*fn)(hp_block_t *))
{
    btab_remove_if(btab_is_trace, 0, 0, fn);
}

static void btab_remove_if(int (*match)(const hp_block_t *, uint64_t, uint64_t), uint64_t lo,
                           uint64_t hi, void (*fn)(hp_block_t *))
{
    int removed = 0;
    for (uint64_t i = 0; i < btab_size; i++) {
        hp_block_t *b = btab_slots[i].b;
        if (b && match(b, lo, hi)) {
            btab_slots[i].b = 0;
            btab_used--;
            fn(b);
            removed = 1;
        }
    }
    if (!removed) return;
    /* Open addressing: put the survivors back so no probe chain has a hole. */
    btab_slot_t *old = btab_slots;
    uint64_t size = btab_size;
    btab_slot_t *n = heap_alloc(size * sizeof(*n));
    if (!n) {                    /* keep the old array: rehash in place, slot by slot */
        for (uint64_t i = 0; i < size; i++) {
            hp_block_t *b = old[i].b;
            if (!b) continue;
            old[i].b = 0;
            btab_put(old, size, b);
        }
        return;
    }
    for (uint64_t i = 0; i < size; i++)
        if (old[i].b) btab_put(n, size, old[i].b);
    btab_slots = n;
    heap_free(old);
}
