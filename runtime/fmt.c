/* fmt.c — formatting without libc, the fatal path and verbose notes.
 * Invariant: never allocates; output longer than a buffer is cut, never overflows. */
#include "fmt.h"
#include "sys.h"
#include "runtime.h"

void fmt_init(fmt_buf_t *b, char *buf, size_t cap)
{
    b->buf = buf;
    b->cap = cap;
    b->len = 0;
}

static void fmt_ch(fmt_buf_t *b, char c)
{
    if (b->len + 1 < b->cap) b->buf[b->len] = c;
    b->len++;
}

void fmt_str(fmt_buf_t *b, const char *s)
{
    while (*s) fmt_ch(b, *s++);
}

void fmt_json_str(fmt_buf_t *b, const char *s)
{
    static const char hexd[] = "0123456789abcdef";
    fmt_ch(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') { fmt_ch(b, '\\'); fmt_ch(b, (char)c); }
        else if (c < 0x20) {
            fmt_str(b, "\\u00");
            fmt_ch(b, hexd[c >> 4]);
            fmt_ch(b, hexd[c & 15]);
        } else fmt_ch(b, (char)c);
    }
    fmt_ch(b, '"');
}

void fmt_udec(fmt_buf_t *b, uint64_t v)
{
    char tmp[24];
    int n = 0;
    do { tmp[n++] = (char)('0' + v % 10); v /= 10; } while (v);
    while (n) fmt_ch(b, tmp[--n]);
}

void fmt_dec(fmt_buf_t *b, long v)
{
    if (v < 0) { fmt_ch(b, '-'); fmt_udec(b, (uint64_t)0 - (uint64_t)v); }
    else fmt_udec(b, (uint64_t)v);
}

void fmt_hex(fmt_buf_t *b, uint64_t v)
{
    static const char hexd[] = "0123456789abcdef";
    char tmp[20];
    int n = 0;
    do { tmp[n++] = hexd[v & 15]; v >>= 4; } while (v);
    fmt_str(b, "0x");
    while (n) fmt_ch(b, tmp[--n]);
}

const char *fmt_cstr(fmt_buf_t *b)
{
    size_t end = b->len < b->cap ? b->len : b->cap - 1;
    b->buf[end] = 0;
    return b->buf;
}

size_t hp_strlen(const char *s)
{
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

int hp_strneq(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (a[i] != b[i]) return 0;
        if (!a[i]) return 1;
    }
    return 1;
}

static void fmt_emit_line(const char *kind, const char *msg, const char *detail, uint64_t value)
{
    char buf[512];
    fmt_buf_t b;
    fmt_init(&b, buf, sizeof(buf));
    fmt_str(&b, "hotpath: ");
    fmt_str(&b, kind);
    fmt_str(&b, msg);
    if (detail && *detail) { fmt_str(&b, " "); fmt_str(&b, detail); }
    if (value) { fmt_str(&b, " at "); fmt_hex(&b, value); }
    fmt_str(&b, "\n");
    size_t n = b.len < b.cap ? b.len : b.cap;
    sys_write(2, buf, n);
}

void hp_note(const char *msg, const char *detail, uint64_t value)
{
    if (hp_rt.opts.verbose) fmt_emit_line("", msg, detail, value);
}

void hp_fatal(const char *msg, uint64_t value)
{
    fmt_emit_line("fatal: ", msg, 0, value);
    sys_exit_group(125);
}
