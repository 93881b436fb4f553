/* ptrchase.c — walks a singly linked list whose nodes are scattered randomly over a
 * 64 MiB pool, summing a field of each node.
 * Stresses: memory latency (each load depends on the previous: cache and TLB misses);
 * the instruction stream itself is a tiny loop, so a code cache should cost ~nothing.
 * Usage: ptrchase [STEPS]   (default 10000000 node visits). Prints the sum. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define NODES (1 << 20)

struct node {
    struct node *next;
    uint64_t value;
    char pad[48]; /* one node per 64-byte cache line */
};

int main(int argc, char **argv)
{
    long steps = argc > 1 ? atol(argv[1]) : 10000000;
    struct node *pool = malloc(sizeof(struct node) * NODES);
    uint32_t *order = malloc(sizeof(uint32_t) * NODES);
    if (!pool || !order) { fprintf(stderr, "ptrchase: out of memory\n"); return 1; }
    /* a random cyclic order of all nodes (Fisher-Yates with an LCG) */
    for (uint32_t i = 0; i < NODES; i++)
        order[i] = i;
    uint64_t seed = 42;
    for (uint32_t i = NODES - 1; i > 0; i--) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint32_t j = (uint32_t)((seed >> 33) % (i + 1));
        uint32_t t = order[i]; order[i] = order[j]; order[j] = t;
    }
    for (uint32_t i = 0; i < NODES; i++) {
        struct node *nd = &pool[order[i]];
        nd->next = &pool[order[(i + 1) % NODES]];
        nd->value = order[i] * 2654435761u;
    }
    struct node *p = &pool[order[0]];
    uint64_t sum = 0;
    for (long s = 0; s < steps; s++) {
        sum += p->value ^ (uint64_t)s;
        p = p->next;
    }
    printf("ptrchase steps=%ld checksum=%llu\n", steps, (unsigned long long)sum);
    free(pool); free(order);
    return 0;
}
