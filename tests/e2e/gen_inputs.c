/* gen_inputs — writes the deterministic inputs of run_debian.sh to stdout, from a fixed
 * xorshift generator (same bytes on every machine, unlike awk's rand()).
 *
 * usage: gen_inputs KIND COUNT
 *   words N   N lines "<word> <number> <word>-<word>", for sort and sed
 *   csv N     a header and N rows "id,region,product,qty,price", for gawk and perl
 *   bytes N   N bytes of binary data with runs and repeats, for bzip2 and gzip
 *   sql N     N INSERT statements for the sqlite3 case's table `sales`
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t state = 0x2545f4914f6cdd1dull;

static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

static const char *const syllables[] = {
    "ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "xe", "zu", "bra", "che", "dri", "fon",
    "gla", "hum", "ist", "jor", "kel", "mun", "orp", "pla", "qui", "sto", "tre", "ulm",
};
#define NSYL (sizeof syllables / sizeof syllables[0])

static void word(char *buf, size_t cap)
{
    int n = 1 + (int)(next() % 4);
    buf[0] = '\0';
    for (int i = 0; i < n; i++) {
        strncat(buf, syllables[next() % NSYL], cap - strlen(buf) - 1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: gen_inputs words|csv|bytes|sql COUNT\n");
        return 2;
    }
    const char *kind = argv[1];
    long count = atol(argv[2]);
    char a[64], b[64], c[64];

    if (!strcmp(kind, "words")) {
        for (long i = 0; i < count; i++) {
            word(a, sizeof a);
            word(b, sizeof b);
            word(c, sizeof c);
            printf("%s %lu %s-%s\n", a, (unsigned long)(next() % 1000000), b, c);
        }
    } else if (!strcmp(kind, "csv")) {
        static const char *const regions[] = { "north", "south", "east", "west", "central" };
        printf("id,region,product,qty,price\n");
        for (long i = 0; i < count; i++) {
            word(a, sizeof a);
            a[3] = '\0';  /* a small set of product names */
            printf("%ld,%s,%s,%lu,%lu.%02lu\n", i + 1, regions[next() % 5], a,
                   (unsigned long)(1 + next() % 50), (unsigned long)(next() % 500),
                   (unsigned long)(next() % 100));
        }
    } else if (!strcmp(kind, "bytes")) {
        unsigned char buf[4096];
        long done = 0;
        while (done < count) {
            uint64_t r = next();
            size_t n = 1 + r % sizeof buf;
            if (n > (size_t)(count - done))
                n = (size_t)(count - done);
            switch (r >> 60 & 3) {
            case 0: memset(buf, (int)(r >> 32 & 0xff), n); break;          /* a run */
            case 1: for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)next(); break;
            default: for (size_t i = 0; i < n; i++) buf[i] = (unsigned char)('a' + (i * 7 + (r >> 40)) % 26); break;
            }
            fwrite(buf, 1, n, stdout);
            done += (long)n;
        }
    } else if (!strcmp(kind, "sql")) {
        static const char *const regions[] = { "north", "south", "east", "west", "central" };
        for (long i = 0; i < count; i++) {
            word(a, sizeof a);
            a[4] = '\0';
            printf("INSERT INTO sales(region, product, qty, price) VALUES('%s', '%s', %lu, %lu.%02lu);\n",
                   regions[next() % 5], a, (unsigned long)(1 + next() % 50),
                   (unsigned long)(next() % 500), (unsigned long)(next() % 100));
        }
    } else {
        fprintf(stderr, "gen_inputs: unknown kind %s\n", kind);
        return 2;
    }
    return fflush(stdout) == 0 ? 0 : 1;
}
