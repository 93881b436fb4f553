/* funcptr — indirect calls and indirect tail calls: a table of operations, qsort/bsearch
 * callbacks into the program, a vtable-like struct, and a state machine whose states
 * return the next state's function pointer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint64_t (*op_fn)(uint64_t, uint64_t);

__attribute__((noinline)) static uint64_t op_add(uint64_t a, uint64_t b) { return a + b; }
__attribute__((noinline)) static uint64_t op_xor(uint64_t a, uint64_t b) { return a ^ (b << 1); }
__attribute__((noinline)) static uint64_t op_mul(uint64_t a, uint64_t b) { return a * (b | 1); }
__attribute__((noinline)) static uint64_t op_rot(uint64_t a, uint64_t b) { return (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63)); }
__attribute__((noinline)) uint64_t op_sub(uint64_t a, uint64_t b) { return a - b * 3; }

static op_fn const ops[] = { op_add, op_xor, op_mul, op_rot, op_sub };
#define NOPS (sizeof ops / sizeof ops[0])

/* An indirect tail call: gcc -O2 emits `jmp *%rax` here. */
__attribute__((noinline)) static uint64_t apply(unsigned i, uint64_t a, uint64_t b)
{
    return ops[i % NOPS](a, b);
}

static int cmp_u32(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    return (a > b) - (a < b);
}

struct shape_ops {
    const char *name;
    long (*area)(long);
    long (*perimeter)(long);
};
static long sq_area(long s) { return s * s; }
static long sq_perim(long s) { return 4 * s; }
static long tri_area(long s) { return s * s / 2; }
static long tri_perim(long s) { return 3 * s; }
static const struct shape_ops shapes[] = {
    { "square", sq_area, sq_perim },
    { "triangle", tri_area, tri_perim },
};

/* State machine: each state returns the next state. */
struct state;
typedef struct state (*state_fn)(uint64_t *);
struct state { state_fn next; };
static struct state st_a(uint64_t *x);
static struct state st_b(uint64_t *x);
static struct state st_c(uint64_t *x);
static struct state st_a(uint64_t *x) { *x = *x * 6364136223846793005ull + 1; return (struct state){ (*x >> 60) & 1 ? st_b : st_c }; }
static struct state st_b(uint64_t *x) { *x ^= *x >> 17; return (struct state){ (*x & 3) ? st_a : st_c }; }
static struct state st_c(uint64_t *x) { *x += 0x9e3779b97f4a7c15ull; return (struct state){ st_a }; }

int main(void)
{
    uint64_t acc = 12345;
    for (unsigned i = 0; i < 2000000; i++)
        acc = apply(i * 7 + (unsigned)(acc & 3), acc, i);
    printf("ops chain: %016llx\n", (unsigned long long)acc);

    enum { N = 20000 };
    static uint32_t v[N];
    uint32_t s = 1;
    for (int i = 0; i < N; i++) {
        s = s * 1103515245u + 12345u;
        v[i] = s >> 8;
    }
    qsort(v, N, sizeof v[0], cmp_u32);
    int sorted = 1;
    for (int i = 1; i < N; i++)
        sorted &= v[i - 1] <= v[i];
    uint32_t key = v[N / 3];
    uint32_t *hit = bsearch(&key, v, N, sizeof v[0], cmp_u32);
    printf("qsort sorted=%d min=%u max=%u bsearch=%s\n", sorted, v[0], v[N - 1],
           hit && *hit == key ? "found" : "missing");

    for (unsigned i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        printf("%s: area(7)=%ld perimeter(7)=%ld\n", shapes[i].name,
               shapes[i].area(7), shapes[i].perimeter(7));

    uint64_t x = 42;
    struct state st = { st_a };
    unsigned long steps[3] = { 0, 0, 0 };
    for (int i = 0; i < 1000000; i++) {
        steps[st.next == st_a ? 0 : st.next == st_b ? 1 : 2]++;
        st = st.next(&x);
    }
    printf("state machine: x=%016llx a=%lu b=%lu c=%lu\n", (unsigned long long)x,
           steps[0], steps[1], steps[2]);

    volatile op_fn via_volatile = op_sub;
    printf("pointer identity: table==direct %s, volatile==direct %s\n",
           ops[4] == op_sub ? "yes" : "no", via_volatile == op_sub ? "yes" : "no");
    return 12;
}
