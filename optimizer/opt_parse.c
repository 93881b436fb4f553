/* opt_parse.c — the --opt=LIST parser (opt.h), shared by the hotpath command (which
 * refuses a bad list before the program starts) and the runtime. No libc, no runtime
 * state: only the pass names from passes.def. */
#include "opt.h"

static const char *const opt_names[] = {
#define PASS(name, fn, off, stat, help) name,
#include "passes.def"
#undef PASS
};
#define OPT_NPASSES ((int)(sizeof(opt_names) / sizeof(opt_names[0])))

static int opt_word_is(const char *w, int n, const char *name)
{
    int i = 0;
    for (; i < n && name[i] && w[i] == name[i]; i++) {}
    return i == n && !name[i];
}

/* The passes that make a trace what issue #4 describes (it follows calls, checks indirect
 * branches inline, a loop falls through): on unless a list removes them by name. */
static long opt_formation(void)
{
    long m = 0;
    for (int p = 0; p < OPT_NPASSES; p++)
        if (opt_word_is("inline_calls", 12, opt_names[p]) || opt_word_is("inline_ind", 10, opt_names[p]) ||
            opt_word_is("straighten", 10, opt_names[p]))
            m |= 1L << p;
    return m;
}

long opt_parse(const char *list, char *bad, int bad_len)
{
    long mask = opt_formation();
    const char *w = list;
    while (*w) {
        int n = 0;
        while (w[n] && w[n] != ',') n++;
        int found = 0, minus = w[0] == '-';
        const char *name = w + minus;
        int len = n - minus;
        if (!minus && opt_word_is(name, len, "all")) { mask = (1L << OPT_NPASSES) - 1; found = 1; }
        else if (!minus && opt_word_is(name, len, "none")) { mask = opt_formation(); found = 1; }
        for (int p = 0; p < OPT_NPASSES && !found; p++)
            if (opt_word_is(name, len, opt_names[p])) {
                if (minus) mask &= ~(1L << p);
                else mask |= 1L << p;
                found = 1;
            }
        if (!found || len == 0) {
            int k = 0;
            for (; k < n && k < bad_len - 1; k++) bad[k] = w[k];
            if (bad_len > 0) bad[k] = 0;
            return -1;
        }
        w += n;
        if (*w == ',') w++;
    }
    return mask;
}
