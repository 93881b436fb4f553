/* options.c — parsing of the one options table (options.def), shared by the `hotpath`
 * command and the runtime. Invariant: no libc call, so it is safe inside the app process. */
#include "hotpath/options.h"

enum { K_BOOL, K_INT, K_STR, K_LIST };

typedef struct {
    const char *name;
    int kind;
    const char *help;
} opt_desc_t;

static const opt_desc_t opt_table[] = {
#define OPT(kind, name, field, def, help) { name, K_##kind, help },
#include "hotpath/options.def"
#undef OPT
};
#define OPT_COUNT ((int)(sizeof(opt_table) / sizeof(opt_table[0])))

static int opt_streq(const char *a, const char *b)
{
    while (*a && *a == *b) { a++; b++; }
    return *a == *b;
}

static void opt_strcpy(char *dst, const char *src, int cap)
{
    int i = 0;
    for (; src[i] && i < cap - 1; i++) dst[i] = src[i];
    dst[i] = 0;
}

static void opt_set_bool(hp_options_t *o, int idx, int v)
{
    int i = 0;
#define OPT_BOOL_SET(f) if (i == idx) o->f = v;
#define OPT_INT_SET(f)
#define OPT_STR_SET(f)
#define OPT_LIST_SET(f)
#define OPT(kind, name, field, def, help) OPT_##kind##_SET(field) i++;
#include "hotpath/options.def"
#undef OPT
}

static void opt_set_int(hp_options_t *o, int idx, long v)
{
    int i = 0;
#define OPT_BOOL_SETI(f)
#define OPT_INT_SETI(f) if (i == idx) o->f = v;
#define OPT_STR_SETI(f)
#define OPT_LIST_SETI(f)
#define OPT(kind, name, field, def, help) OPT_##kind##_SETI(field) i++;
#include "hotpath/options.def"
#undef OPT
}

static void opt_set_str(hp_options_t *o, int idx, const char *v)
{
    int i = 0;
#define OPT_BOOL_SETS(f)
#define OPT_INT_SETS(f)
#define OPT_STR_SETS(f) if (i == idx) opt_strcpy(o->f, v, HP_OPT_STR_MAX);
#define OPT_LIST_SETS(f) OPT_STR_SETS(f)
#define OPT(kind, name, field, def, help) OPT_##kind##_SETS(field) i++;
#include "hotpath/options.def"
#undef OPT
}

void hp_options_default(hp_options_t *o)
{
#define OPT_BOOL_DEF(f, d) o->f = (d);
#define OPT_INT_DEF(f, d) o->f = (d);
#define OPT_STR_DEF(f, d) opt_strcpy(o->f, (d), HP_OPT_STR_MAX);
#define OPT_LIST_DEF(f, d) OPT_STR_DEF(f, d)
#define OPT(kind, name, field, def, help) OPT_##kind##_DEF(field, def)
#include "hotpath/options.def"
#undef OPT
}

static int opt_find(const char *name)
{
    for (int i = 0; i < OPT_COUNT; i++)
        if (opt_streq(opt_table[i].name, name)) return i;
    return -1;
}

int hp_options_takes_value(const char *name)
{
    int i = opt_find(name);
    if (i < 0) {
        if (name[0] == 'n' && name[1] == 'o' && name[2] == '-') {
            i = opt_find(name + 3);
            if (i >= 0 && (opt_table[i].kind == K_BOOL || opt_table[i].kind == K_LIST)) return 0;
        }
        return -1;
    }
    return opt_table[i].kind != K_BOOL;
}

static int opt_parse_long(const char *s, long *out)
{
    long v = 0;
    int neg = 0;
    if (*s == '-') { neg = 1; s++; }
    if (!*s) return 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        if (v > (1L << 58)) return 0;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return 1;
}

hp_status_t hp_options_set(hp_options_t *o, const char *name, const char *value)
{
    int i = opt_find(name);
    if (i < 0) {
        if (name[0] == 'n' && name[1] == 'o' && name[2] == '-') {
            i = opt_find(name + 3);
            if (i >= 0 && opt_table[i].kind == K_BOOL && !value) {
                opt_set_bool(o, i, 0);
                return HP_OK;
            }
            if (i >= 0 && opt_table[i].kind == K_LIST && !value) {
                opt_set_str(o, i, "none");
                return HP_OK;
            }
        }
        return HP_ERR_INVALID;
    }
    switch (opt_table[i].kind) {
    case K_BOOL:
        if (value) return HP_ERR_INVALID;
        opt_set_bool(o, i, 1);
        return HP_OK;
    case K_INT: {
        long v;
        if (!value || !opt_parse_long(value, &v)) return HP_ERR_INVALID;
        opt_set_int(o, i, v);
        return HP_OK;
    }
    default:
        if (!value) return HP_ERR_INVALID;
        opt_set_str(o, i, value);
        return HP_OK;
    }
}

hp_status_t hp_options_parse_string(hp_options_t *o, const char *s, char *bad, int bad_len)
{
    char word[HP_OPT_STR_MAX + 64], name[96];
    const char *pending = 0;   /* option name waiting for its value */
    char pend_buf[96];
    while (*s) {
        while (*s == ' ' || *s == '\t' || *s == '\n') s++;
        if (!*s) break;
        int n = 0;
        while (*s && *s != ' ' && *s != '\t' && *s != '\n') {
            if (n < (int)sizeof(word) - 1) word[n++] = *s;
            s++;
        }
        word[n] = 0;
        if (pending) {
            if (hp_options_set(o, pending, word) != HP_OK) goto bad;
            pending = 0;
            continue;
        }
        if (word[0] != '-' || word[1] != '-') goto bad;
        const char *w = word + 2, *eq = 0;
        int k = 0;
        for (; w[k] && w[k] != '='; k++)
            if (k < (int)sizeof(name) - 1) name[k] = w[k];
        name[k < (int)sizeof(name) - 1 ? k : (int)sizeof(name) - 1] = 0;
        if (w[k] == '=') eq = w + k + 1;
        int tv = hp_options_takes_value(name);
        if (tv < 0) goto bad;
        if (tv && !eq) {
            opt_strcpy(pend_buf, name, sizeof(pend_buf));
            pending = pend_buf;
            continue;
        }
        if (hp_options_set(o, name, eq) != HP_OK) goto bad;
    }
    if (!pending) return HP_OK;
    opt_strcpy(word, pending, sizeof(word));
bad:
    if (bad && bad_len > 0) opt_strcpy(bad, word, bad_len);
    return HP_ERR_INVALID;
}

void hp_options_help(void (*emit)(const char *name, int takes_value, const char *help))
{
    for (int i = 0; i < OPT_COUNT; i++)
        emit(opt_table[i].name, opt_table[i].kind != K_BOOL, opt_table[i].help);
}

const char *hp_status_str(hp_status_t st)
{
    switch (st) {
    case HP_OK: return "ok";
    case HP_ERR_NOMEM: return "out of memory";
    case HP_ERR_DECODE: return "undecodable instruction";
    case HP_ERR_UNSUPPORTED: return "unsupported";
    case HP_ERR_ENCODE: return "encoding failed";
    case HP_ERR_FAULT: return "address not executable";
    case HP_ERR_INVALID: return "invalid argument";
    case HP_ERR_IO: return "i/o error";
    }
    return "unknown status";
}
