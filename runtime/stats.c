/* stats.c — the statistics JSON (--stats-json FILE, %p = pid), written with raw syscalls.
 * Invariant: one JSON object per file, keys from HP_STATS plus exit_code, detached,
 * detach_reason; written at exit, at exec and at detach (a later write replaces it). */
#include <fcntl.h>
#include "runtime.h"
#include "fmt.h"
#include "sys.h"
#include "threads.h"

static void stats_path(char *out, int cap)
{
    fmt_buf_t b;
    fmt_init(&b, out, (size_t)cap);
    for (const char *s = hp_rt.opts.stats_json; *s; s++) {
        if (s[0] == '%' && s[1] == 'p') { fmt_dec(&b, sys_getpid()); s++; }
        else { char c[2] = { *s, 0 }; fmt_str(&b, c); }
    }
    fmt_cstr(&b);
}

void hp_stats_write(void)
{
    if (!hp_rt.opts.stats_json[0]) return;
    char path[HP_OPT_STR_MAX + 32], buf[4096];
    stats_path(path, sizeof(path));
    hp_stats_t st = hp_rt.stats;          /* a copy: written without the lock */
    st.indirect_lookups = threads_ibl_count() + st.indirect_misses;
    st.signals_caught = __atomic_load_n(&hp_rt.n_signals_caught, __ATOMIC_RELAXED);
    st.signals_delivered = __atomic_load_n(&hp_rt.n_signals_delivered, __ATOMIC_RELAXED);
    st.syscalls_seen = __atomic_load_n(&hp_rt.n_syscalls_seen, __ATOMIC_RELAXED);
    fmt_buf_t b;
    fmt_init(&b, buf, sizeof(buf));
    fmt_str(&b, "{");
#define STAT_JSON(n) fmt_str(&b, "\"" #n "\": "); fmt_udec(&b, st.n); fmt_str(&b, ", ");
    HP_STATS(STAT_JSON)
#undef STAT_JSON
    uint64_t all = hp_rt.samples[0] + hp_rt.samples[1] + hp_rt.samples[2] + hp_rt.samples[3];
    static const char *const where[] = { "time_in_traces_pct", "time_in_blocks_pct",
                                         "time_in_runtime_pct", "time_native_pct" };
    for (int i = 0; i < 4; i++) {          /* sampled every ms of thread CPU time */
        fmt_str(&b, "\"");
        fmt_str(&b, where[i]);
        fmt_str(&b, "\": ");
        uint64_t tenths = all ? (hp_rt.samples[i] * 1000 + all / 2) / all : 0;
        fmt_udec(&b, tenths / 10);
        fmt_str(&b, ".");
        fmt_udec(&b, tenths % 10);
        fmt_str(&b, ", ");
    }
    fmt_str(&b, "\"samples\": ");
    fmt_udec(&b, all);
    fmt_str(&b, ", ");
    fmt_str(&b, "\"exit_code\": ");
    if (hp_rt.exit_code >= 0) fmt_dec(&b, hp_rt.exit_code); else fmt_str(&b, "null");
    fmt_str(&b, ", \"detached\": ");
    fmt_str(&b, hp_rt.detach_reason[0] ? "true" : "false");
    fmt_str(&b, ", \"detach_reason\": ");
    fmt_json_str(&b, hp_rt.detach_reason);
    fmt_str(&b, "}\n");
    long fd = sys_open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) { hp_note("cannot write statistics to", path, 0); return; }
    size_t n = b.len < b.cap ? b.len : b.cap;
    sys_write((int)fd, buf, n);
    sys_close((int)fd);
}
