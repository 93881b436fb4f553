/* perfmap.c — /tmp/perf-PID.map for perf (the format perf reads for JIT code: one line
 * "START SIZE NAME" per range, hex without 0x). Names: hp_block_APP, hp_trace_APP for a
 * trace's body and hp_trace_cold_APP for its out-of-line part (inline checks' lookups and
 * exits restoring promoted registers), APP the head's app address.
 * Invariants: raw syscalls only; the file is opened, written (one write(2), O_APPEND) and
 * closed for each fragment, so no descriptor of ours lives among the app's (a child's
 * dup2 onto it, a daemon closing what it inherited) and a forked child writes its own. */
#include <fcntl.h>
#include "perfmap.h"
#include "fmt.h"
#include "sys.h"

static void perfmap_line(fmt_buf_t *b, uint64_t start, uint64_t size, const char *kind, uint64_t app)
{
    char hex[24];
    fmt_buf_t h;
    fmt_init(&h, hex, sizeof(hex));
    fmt_hex(&h, start);
    fmt_str(b, fmt_cstr(&h) + 2);
    fmt_str(b, " ");
    fmt_init(&h, hex, sizeof(hex));
    fmt_hex(&h, size);
    fmt_str(b, fmt_cstr(&h) + 2);
    fmt_str(b, " ");
    fmt_str(b, kind);
    fmt_init(&h, hex, sizeof(hex));
    fmt_hex(&h, app);
    fmt_str(b, fmt_cstr(&h) + 2);
    fmt_str(b, "\n");
}

void perfmap_add(const hp_block_t *b)
{
    if (!hp_rt.opts.perf_map || !b->cache_size) return;
    char buf[160];
    fmt_buf_t l;
    fmt_init(&l, buf, sizeof(buf));
    uint64_t start = (uint64_t)b->cache_start, body = b->cache_size;
    if (b->is_trace && b->promo_hi && b->promo_hi < b->cache_size) body = b->promo_hi;
    perfmap_line(&l, start, body, b->is_trace ? "hp_trace_" : "hp_block_", b->app_pc);
    if (body < b->cache_size)
        perfmap_line(&l, start + body, b->cache_size - body, "hp_trace_cold_", b->app_pc);
    char path[64];
    fmt_buf_t p;
    fmt_init(&p, path, sizeof(path));
    fmt_str(&p, "/tmp/perf-");
    fmt_dec(&p, sys_getpid());
    fmt_str(&p, ".map");
    long fd = sys_open(fmt_cstr(&p), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return;
    sys_write((int)fd, buf, l.len < l.cap ? l.len : l.cap);
    sys_close((int)fd);
}
