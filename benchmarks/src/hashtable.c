/* hashtable.c — open-addressing (linear probing) hash table of 64-bit keys: rounds of
 * inserts/updates followed by lookups that half hit and half miss.
 * Stresses: memory (random accesses over a 16 MiB table, cache and TLB misses),
 * unpredictable probe-loop branches, 64-bit multiply hashing, small calls at -O0/-O1.
 * Usage: hashtable [ROUNDS]   (default 28): each round clears the table, inserts 600000
 * pseudo-random keys and looks up 1200000. Prints a checksum of values found. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TABLE_BITS 20
#define TABLE_SIZE (1u << TABLE_BITS)
#define KEYS_PER_ROUND 600000

struct slot { uint64_t key; uint64_t value; }; /* key 0 marks an empty slot */

static struct slot *table;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    uint64_t x = rng_state; /* xorshift64 */
    x ^= x << 13; x ^= x >> 7; x ^= x << 17;
    return rng_state = x;
}

static uint32_t hash(uint64_t key)
{
    return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> (64 - TABLE_BITS));
}

static void insert(uint64_t key, uint64_t value)
{
    uint32_t i = hash(key);
    while (table[i].key != 0 && table[i].key != key)
        i = (i + 1) & (TABLE_SIZE - 1);
    if (table[i].key == key)
        table[i].value += value;
    else {
        table[i].key = key;
        table[i].value = value;
    }
}

static int lookup(uint64_t key, uint64_t *value)
{
    uint32_t i = hash(key);
    while (table[i].key != 0) {
        if (table[i].key == key) {
            *value = table[i].value;
            return 1;
        }
        i = (i + 1) & (TABLE_SIZE - 1);
    }
    return 0;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 28;
    table = malloc(sizeof(struct slot) * TABLE_SIZE);
    uint64_t *keys = malloc(sizeof(uint64_t) * KEYS_PER_ROUND);
    if (!table || !keys) { fprintf(stderr, "hashtable: out of memory\n"); return 1; }
    uint64_t sum = 0, hits = 0;
    for (int r = 0; r < rounds; r++) {
        memset(table, 0, sizeof(struct slot) * TABLE_SIZE);
        for (int i = 0; i < KEYS_PER_ROUND; i++) {
            /* about 1 key in 8 repeats an earlier one, to exercise updates */
            uint64_t k = (i > 8 && (next_rand() & 7) == 0) ? keys[next_rand() % i]
                                                           : (next_rand() | 1);
            keys[i] = k;
            insert(k, (uint64_t)i);
        }
        for (int i = 0; i < 2 * KEYS_PER_ROUND; i++) {
            uint64_t v, k = (i & 1) ? keys[next_rand() % KEYS_PER_ROUND] : (next_rand() | 1);
            if (lookup(k, &v)) {
                hits++;
                sum = sum * 31 + v;
            }
        }
    }
    printf("hashtable rounds=%d checksum=%llu hits=%llu\n", rounds, (unsigned long long)sum,
           (unsigned long long)hits);
    free(table); free(keys);
    return 0;
}
