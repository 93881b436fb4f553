/* strings_big — glibc's string and memory functions on large buffers, at many sizes and
 * alignments, so the AVX2/AVX-512/ERMS variants chosen by ifunc (and their tail paths)
 * all run: memcpy, memmove (overlapping), memset, memcmp, memchr, strlen, strchr,
 * strrchr, strcmp, strncmp, strcpy, strstr, snprintf/printf. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BIG (8u << 20)

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ull;
    return h;
}

static uint32_t rng = 2024;
static uint32_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

int main(void)
{
    char *a = malloc(BIG + 64), *b = malloc(BIG + 64);
    if (!a || !b)
        return 1;
    for (size_t i = 0; i < BIG + 64; i++)
        a[i] = (char)('a' + (next() % 26));
    a[BIG] = '\0';

    /* whole-buffer operations */
    memcpy(b, a, BIG + 1);
    printf("memcpy big: cmp=%d strlen=%zu\n", memcmp(a, b, BIG + 1), strlen(b));
    memset(b + 1000, 'Z', BIG / 2);
    printf("memset big: hash=%016llx\n", (unsigned long long)fnv(b, BIG, 1469598103934665603ull));
    memmove(b + 3, b, BIG / 2);          /* overlapping, forwards */
    memmove(b + 100, b + 4099, BIG / 4); /* overlapping, backwards */
    printf("memmove: hash=%016llx\n", (unsigned long long)fnv(b, BIG, 1469598103934665603ull));

    /* many sizes and alignments */
    uint64_t h = 1469598103934665603ull;
    long cmpsum = 0;
    size_t lensum = 0;
    for (int i = 0; i < 20000; i++) {
        size_t n = next() % (i % 100 == 0 ? 65536 : 600);
        size_t src = next() % (BIG / 2), dst = next() % (BIG / 2);
        memcpy(b + dst, a + src, n);
        h = fnv(b + dst, n < 32 ? n : 32, h);
        cmpsum += memcmp(a + src, b + dst, n) == 0;
        b[dst + n] = '\0';
        lensum += strlen(b + dst + (n ? next() % n : 0));
        int c = memcmp(a + src, a + dst, n);
        cmpsum += c < 0 ? -1 : c > 0;
    }
    printf("sized copies: hash=%016llx cmpsum=%ld lensum=%zu\n", (unsigned long long)h, cmpsum, lensum);

    /* searches */
    memcpy(b, a, BIG + 1);
    b[BIG - 7] = '#';
    b[BIG / 3] = '@';
    char *hash_at = strchr(b, '#');
    char *at_at = memchr(b, '@', BIG);
    char *last_a = strrchr(b, 'a');
    printf("search: strchr=%td memchr=%td strrchr=%td strchr(missing)=%s\n", hash_at - b, at_at - b,
           last_a - b, strchr(b, '!') ? "found" : "null");
    memcpy(b + BIG - 100, "needle-in-haystack", 18);
    char *nd = strstr(b, "needle-in-haystack");
    printf("strstr: %td\n", nd ? nd - b : (ptrdiff_t)-1);

    /* string compare and copy */
    strcpy(b, a);
    printf("strcmp equal=%d ", strcmp(a, b));
    b[BIG - 1] = 'A';
    printf("differs at end=%d ", strcmp(a, b) > 0);
    printf("strncmp prefix=%d\n", strncmp(a, b, BIG - 1));

    /* formatted output in bulk */
    char line[256];
    uint64_t fh = 1469598103934665603ull;
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(line, sizeof line, "%d:%08x:%.3f:%s:%-10.5s|", i, next(), i / 7.0, "str", a + (i % 1000));
        fh = fnv(line, (size_t)n, fh);
    }
    printf("snprintf: hash=%016llx\n", (unsigned long long)fh);
    for (int i = 0; i < 2000; i++)
        printf("%04d %.60s\n", i, a + i * 97);
    fprintf(stderr, "strings_big done\n");
    free(a);
    free(b);
    return 24;
}
