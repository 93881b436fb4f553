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

long opt_parse(const char *list, char *bad, int bad_len)
{
    long mask = 0;
    const char *w = list;
    while (*w) {
        int n = 0;
        while (w[n] && w[n] != ',') n++;
        int found = 0;
        if (opt_word_is(w, n, "all")) { mask = (1L << OPT_NPASSES) - 1; found = 1; }
        else if (opt_word_is(w, n, "none")) found = 1;
        for (int p = 0; p < OPT_NPASSES && !found; p++)
            if (opt_word_is(w, n, opt_names[p])) { mask |= 1L << p; found = 1; }
        if (!found || n == 0) {
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

