/* fmt.h — the runtime's own formatting (no libc): a bounded buffer builder, printing to a
 * file descriptor, the one fatal-error path and verbose notes. */
#ifndef HOTPATH_FMT_H
#define HOTPATH_FMT_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *buf;
    size_t cap, len;   /* len may exceed cap: then the output was cut */
} fmt_buf_t;

void fmt_init(fmt_buf_t *b, char *buf, size_t cap);
void fmt_str(fmt_buf_t *b, const char *s);
void fmt_json_str(fmt_buf_t *b, const char *s);   /* quoted, escaped */
void fmt_dec(fmt_buf_t *b, long v);
void fmt_udec(fmt_buf_t *b, uint64_t v);
void fmt_hex(fmt_buf_t *b, uint64_t v);           /* 0x-prefixed */
/* fmt_cstr: NUL-terminate (cutting at cap-1) and return the buffer. */
const char *fmt_cstr(fmt_buf_t *b);

/* hp_note: under --verbose, write "hotpath: <msg><hex if nonzero>\n" to stderr. */
void hp_note(const char *msg, const char *detail, uint64_t value);

/* hp_fatal: the one fatal path: write "hotpath: fatal: msg" to stderr and exit with 125. */
__attribute__((noreturn)) void hp_fatal(const char *msg, uint64_t value);

size_t hp_strlen(const char *s);
int hp_strneq(const char *a, const char *b, size_t n);

#endif
