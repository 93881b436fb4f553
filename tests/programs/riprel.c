/* riprel — data addressed relative to the program counter. run_programs.sh builds it twice:
 * -fPIE -pie (rip-relative loads/stores, lea of tables, GOT loads) and -fno-pie -no-pie
 * (absolute 32-bit addresses such as `mov table(,%rax,8)`). Also thread-local data through
 * %fs, copy-relocated libc data (stdout, environ) and function-local statics. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

extern char **environ;

static const uint32_t crc_table_seed[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};
static uint64_t counters[256];
uint64_t exported_counter = 7;
static char message[] = "rip-relative data survives";
static __thread uint64_t tls_acc = 5;
__thread int tls_zero;
static const char *const names[] = { "alpha", "beta", "gamma", "delta" };

__attribute__((noinline)) static uint32_t crc32_nibble(const unsigned char *p, size_t n)
{
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        crc = (crc >> 4) ^ crc_table_seed[crc & 15];
        crc = (crc >> 4) ^ crc_table_seed[crc & 15];
    }
    return ~crc;
}

__attribute__((noinline)) static uint64_t next_id(void)
{
    static uint64_t id = 1000;
    return id++;
}

__attribute__((noinline)) static void bump(unsigned i)
{
    counters[i & 255] += i;
    exported_counter ^= counters[(i * 7) & 255];
    tls_acc = tls_acc * 3 + i;
    tls_zero += (int)(i & 1);
}

int main(void)
{
    unsigned char buf[4096];
    for (unsigned i = 0; i < sizeof buf; i++)
        buf[i] = (unsigned char)(i * 131 + 7);
    uint32_t crc = 0;
    for (int r = 0; r < 50; r++) {
        buf[r] ^= (unsigned char)crc;
        crc = crc32_nibble(buf, sizeof buf);
    }
    printf("crc = %08x\n", crc);

    for (unsigned i = 0; i < 1000000; i++)
        bump(i);
    uint64_t h = 0;
    for (int i = 0; i < 256; i++)
        h = h * 1099511628211ull + counters[i];
    printf("counters hash = %016llx exported = %016llx\n", (unsigned long long)h,
           (unsigned long long)exported_counter);
    printf("tls_acc = %016llx tls_zero = %d\n", (unsigned long long)tls_acc, tls_zero);

    for (int i = 0; i < 3; i++)
        printf("next_id = %llu\n", (unsigned long long)next_id());
    for (unsigned i = 0; i < 4; i++)
        printf("name[%u] = %s (%zu)\n", i, names[i], strlen(names[i]));

    message[0] = 'R';
    fputs(message, stdout);
    fputc('\n', stdout);
    printf("environ is %s, fileno(stdout) = %d\n", environ ? "set" : "null", fileno(stdout));
    fprintf(stderr, "riprel done\n");
    return 16;
}
