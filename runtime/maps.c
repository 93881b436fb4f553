/* maps.c — a cached copy of /proc/self/maps.
 * Invariant: the cache is only a hint: a miss rereads the file before saying "not mapped";
 * munmap/mprotect/mremap handling calls maps_refresh so removed code is never decoded. */
#include <fcntl.h>
#include <sys/mman.h>
#include "maps.h"
#include "heap.h"
#include "sys.h"

#define MAPS_PAGE 4096

static maps_region_t *maps_tab;
static int maps_n, maps_cap;

static int maps_hex(const char **s, uint64_t *v)
{
    uint64_t x = 0;
    int any = 0;
    for (;; (*s)++, any = 1) {
        char c = **s;
        if (c >= '0' && c <= '9') x = x * 16 + (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f') x = x * 16 + (uint64_t)(c - 'a' + 10);
        else break;
    }
    *v = x;
    return any;
}

int maps_parse_line(const char *s, maps_region_t *r)
{
    uint64_t dummy;
    if (!maps_hex(&s, &r->start) || *s++ != '-') return 0;
    if (!maps_hex(&s, &r->end) || *s++ != ' ') return 0;
    r->prot = 0;
    if (s[0] == 'r') r->prot |= PROT_READ;
    if (s[1] == 'w') r->prot |= PROT_WRITE;
    if (s[2] == 'x') r->prot |= PROT_EXEC;
    r->shared = s[3] == 's';
    s += 4;
    if (*s++ != ' ') return 0;
    if (!maps_hex(&s, &dummy) || *s++ != ' ') return 0;      /* offset */
    if (!maps_hex(&s, &r->dev) || *s++ != ':') return 0;     /* dev major */
    if (!maps_hex(&s, &dummy) || *s++ != ' ') return 0;      /* dev minor */
    r->dev = r->dev << 32 | dummy;
    r->inode = 0;
    while (*s >= '0' && *s <= '9') r->inode = r->inode * 10 + (uint64_t)(*s++ - '0');
    while (*s == ' ') s++;                                   /* the path */
    const char *memfd = "/memfd:", *del = " (deleted)";
    int k = 0, n = 0, d = 0;
    while (memfd[k] && s[k] == memfd[k]) k++;
    while (s[n]) n++;
    while (d < 10 && n >= 10 && s[n - 10 + d] == del[d]) d++;   /* (10: strlen(del)) */
    r->volatile_file = !memfd[k] || d == 10;
    return r->end > r->start;
}

static hp_status_t maps_add(const maps_region_t *r)
{
    if (maps_n == maps_cap) {
        int cap = maps_cap ? maps_cap * 2 : 256;
        maps_region_t *t = heap_alloc(sizeof(*t) * (size_t)cap);
        if (!t) return HP_ERR_NOMEM;
        if (maps_n) hp_memcpy(t, maps_tab, sizeof(*t) * (size_t)maps_n);
        heap_free(maps_tab);
        maps_tab = t;
        maps_cap = cap;
    }
    maps_tab[maps_n++] = *r;
    return HP_OK;
}

hp_status_t maps_refresh(void)
{
    long fd = sys_open("/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return HP_ERR_IO;
    char buf[4096], line[512];
    int ln = 0, cut = 0;
    maps_n = 0;
    for (;;) {
        long got = sys_read((int)fd, buf, sizeof(buf));
        if (got <= 0) break;
        for (long i = 0; i < got; i++) {
            if (buf[i] != '\n') {
                if (ln < (int)sizeof(line) - 1) line[ln++] = buf[i];
                else cut = 1;
                continue;
            }
            line[ln] = 0;
            ln = 0;
            maps_region_t r;
            if (maps_parse_line(line, &r)) {
                if (cut) r.volatile_file = 1;                /* (its path's end unseen) */
                cut = 0;
                hp_status_t st = maps_add(&r);
                if (st != HP_OK) { sys_close((int)fd); return st; }
            }
        }
    }
    sys_close((int)fd);
    return maps_n ? HP_OK : HP_ERR_IO;
}

static const maps_region_t *maps_lookup(uint64_t pc)
{
    int lo = 0, hi = maps_n - 1;     /* /proc/self/maps is sorted by address */
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (pc < maps_tab[mid].start) hi = mid - 1;
        else if (pc >= maps_tab[mid].end) lo = mid + 1;
        else return &maps_tab[mid];
    }
    return 0;
}

hp_status_t maps_find_exec(uint64_t pc, maps_region_t *out)
{
    for (int pass = 0; pass < 2; pass++) {
        const maps_region_t *r = maps_lookup(pc);
        if (r && (r->prot & PROT_EXEC) && (r->prot & PROT_READ)) {
            *out = *r;
            /* merge adjacent executable regions so a block may cross their boundary */
            for (const maps_region_t *n = r + 1; n < maps_tab + maps_n && n->start == out->end
                 && (n->prot & (PROT_EXEC | PROT_READ)) == (PROT_EXEC | PROT_READ); n++) {
                out->end = n->end;
                out->prot |= n->prot;
                out->shared |= n->shared;
            }
            return HP_OK;
        }
        if (pass == 0) CHECK(maps_refresh());
    }
    return HP_ERR_FAULT;
}

hp_status_t maps_object_range(uint64_t pc, uint64_t *lo, uint64_t *hi)
{
    const maps_region_t *r = maps_lookup(pc);
    if (!r) {
        CHECK(maps_refresh());
        r = maps_lookup(pc);
        if (!r) return HP_ERR_FAULT;
    }
    *lo = r->start;
    *hi = r->end;
    for (int i = 0; i < maps_n; i++) {
        if (maps_tab[i].inode != r->inode || !r->inode) continue;
        if (maps_tab[i].start < *lo) *lo = maps_tab[i].start;
        if (maps_tab[i].end > *hi) *hi = maps_tab[i].end;
    }
    return HP_OK;
}

hp_status_t maps_find_ro(uint64_t lo, uint64_t len, maps_region_t *out)
{
    const maps_region_t *r = maps_lookup(lo);
    if (!r || !r->prot) {                            /* unknown or forgotten: read again */
        CHECK(maps_refresh());
        r = maps_lookup(lo);
    }
    if (!r || len > r->end - lo || (r->prot & (PROT_READ | PROT_WRITE)) != PROT_READ || r->shared || !r->inode ||
        r->volatile_file)
        return HP_ERR_FAULT;
    for (int i = 0; i < maps_n; i++)                 /* the object has code: a loaded ELF */
        if (maps_tab[i].inode == r->inode && maps_tab[i].dev == r->dev && (maps_tab[i].prot & PROT_EXEC)) {
            *out = *r;
            return HP_OK;
        }
    return HP_ERR_FAULT;
}

int maps_may_hold_code(uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < maps_n; i++) {
        const maps_region_t *r = &maps_tab[i];
        if (r->start < hi && r->end > lo &&
            (!r->prot || (r->prot & PROT_EXEC) || (r->inode && !(r->prot & PROT_WRITE))))
            return 1;
    }
    return 0;
}

void maps_read(uint64_t lo, uint64_t len, uint8_t *buf, uint8_t *ok)
{
    long pid = sys_getpid();
    for (uint64_t at = lo; at < lo + len;) {
        uint64_t end = (at & ~(uint64_t)(MAPS_PAGE - 1)) + MAPS_PAGE;
        if (end > lo + len) end = lo + len;
        struct { void *base; uint64_t len; } local = { buf + (at - lo), end - at }, remote = { (void *)at, end - at };
        long got = sys_call6(__NR_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
        hp_memset(ok + (at - lo), got == (long)(end - at), end - at);
        at = end;
    }
}

void maps_forget(uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < maps_n; i++)
        if (maps_tab[i].start < hi && maps_tab[i].end > lo) maps_tab[i].prot = 0;
}
