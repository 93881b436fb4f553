/* bench_suite.c — reads the benchmark suite file: word splitting (sh-like, nothing
 * expanded), placeholder filling, selection by level and filter.
 * Invariants: on error nothing is left allocated for the caller; every string in a
 * bench_suite_t is its own allocation (bench_suite_free frees them all). */
#include <ctype.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bench_suite.h"

/* A growable string and a growable array of strings. */
typedef struct { char *s; size_t len, cap; } str_t;
typedef struct { char **v; size_t n, cap; } words_t;

static void fail(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (!q) { fputs("hotpath: error: out of memory\n", stderr); exit(1); }
    return q;
}

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(xrealloc(NULL, n), s, n);
}

static void str_add(str_t *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->s = xrealloc(b->s, b->cap);
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

static void words_add(words_t *w, char *s)
{
    if (w->n + 2 > w->cap) {
        w->cap = (w->n + 2) * 2;
        w->v = xrealloc(w->v, w->cap * sizeof(*w->v));
    }
    w->v[w->n++] = s;
    w->v[w->n] = NULL;
}

void bench_suite_free_words(char **words)
{
    if (!words) return;
    for (char **p = words; *p; p++) free(*p);
    free(words);
}

int bench_suite_split(const char *cmd, char ***argv, int *argc, char **stdin_path,
                      char *err, size_t errcap)
{
    words_t w = {0};
    str_t cur = {0};
    char *in = NULL;
    int in_word = 0, want_stdin = 0;
    const char *p = cmd;
    *stdin_path = NULL;
    for (;;) {
        char c = *p;
        if (c == 0 || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (in_word) {              /* end of a word */
                char *word = xstrdup(cur.s ? cur.s : "");
                if (want_stdin) {
                    if (in) { free(word); fail(err, errcap, "two '<' redirections"); goto bad; }
                    in = word;
                    want_stdin = 0;
                } else {
                    words_add(&w, word);
                }
                cur.len = 0;
                in_word = 0;
            }
            if (c == 0) break;
            p++;
            continue;
        }
        if (!in_word && c == '#') break;              /* a comment to the end */
        if (c == '<' && !in_word) {
            if (want_stdin || in) { fail(err, errcap, "two '<' redirections"); goto bad; }
            want_stdin = 1;
            p++;
            continue;
        }
        if (strchr("|>;&()$`*?[<", c)) {
            fail(err, errcap, "unquoted '%c' (the command is exec'd, no shell runs it: quote it, or run /bin/sh -c '...')", c);
            goto bad;
        }
        in_word = 1;
        if (!cur.s) str_add(&cur, "", 0);
        if (c == '\'') {
            const char *end = strchr(p + 1, '\'');
            if (!end) { fail(err, errcap, "unterminated '"); goto bad; }
            str_add(&cur, p + 1, (size_t)(end - p - 1));
            p = end + 1;
        } else if (c == '"') {
            for (p++; *p != '"'; p++) {
                if (!*p) { fail(err, errcap, "unterminated \""); goto bad; }
                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1])) p++;
                str_add(&cur, p, 1);
            }
            p++;
        } else if (c == '\\') {
            if (!p[1]) { fail(err, errcap, "a backslash at the end"); goto bad; }
            str_add(&cur, p + 1, 1);
            p += 2;
        } else {
            str_add(&cur, p, 1);
            p++;
        }
    }
    if (want_stdin) { fail(err, errcap, "'<' without a file"); goto bad; }
    if (w.n == 0) { fail(err, errcap, "no command"); goto bad; }
    free(cur.s);
    *argv = w.v;
    *argc = (int)w.n;
    *stdin_path = in;
    return 0;
bad:
    free(cur.s);
    free(in);
    if (w.v) bench_suite_free_words(w.v);
    return -1;
}

/* subst: a copy of word with {bin} {data} {src} {opt} filled in (opt NULL: {opt} is left
 * for the caller to have refused). Returns NULL with err set if a needed value is NULL. */
static char *subst(const char *word, const bench_suite_params_t *prm, const char *opt,
                   char *err, size_t errcap)
{
    static const char *const names[] = { "{bin}", "{data}", "{src}", "{opt}" };
    const char *vals[] = { prm->bin, prm->data, prm->src, opt };
    str_t b = {0};
    str_add(&b, "", 0);
    for (const char *p = word; *p;) {
        size_t k = 0;
        while (k < 4 && strncmp(p, names[k], strlen(names[k]))) k++;
        if (k == 4) { str_add(&b, p, 1); p++; continue; }
        if (!vals[k]) {
            fail(err, errcap, "placeholder %s has no value here", names[k]);
            free(b.s);
            return NULL;
        }
        str_add(&b, vals[k], strlen(vals[k]));
        p += strlen(names[k]);
    }
    return b.s;
}

static void entry_free(bench_suite_entry_t *e)
{
    free(e->name);
    free(e->base);
    bench_suite_free_words(e->argv);
    free(e->stdin_path);
}

void bench_suite_free(bench_suite_t *s)
{
    for (size_t i = 0; i < s->nruns; i++) entry_free(&s->runs[i]);
    for (size_t i = 0; i < s->ngens; i++) entry_free(&s->gens[i]);
    free(s->runs);
    free(s->gens);
    memset(s, 0, sizeof(*s));
}

/* make_entry: fill e from the split words with placeholders expanded for level opt. */
static int make_entry(bench_suite_entry_t *e, const char *name, const char *base,
                      bench_suite_kind_t kind, char **words, int nwords, const char *in,
                      int line, const bench_suite_params_t *prm, const char *opt,
                      char *err, size_t errcap)
{
    memset(e, 0, sizeof(*e));
    e->argv = xrealloc(NULL, (size_t)(nwords + 1) * sizeof(char *));
    e->argv[0] = NULL;
    for (int i = 0; i < nwords; i++) {
        e->argv[i] = subst(words[i], prm, opt, err, errcap);
        e->argv[i + 1] = NULL;
        if (!e->argv[i]) goto bad;
    }
    e->argc = nwords;
    if (in && !(e->stdin_path = subst(in, prm, opt, err, errcap))) goto bad;
    e->name = xstrdup(name);
    e->base = xstrdup(base);
    e->kind = kind;
    e->line = line;
    return 0;
bad:
    entry_free(e);
    return -1;
}

static void push(bench_suite_entry_t **v, size_t *n, const bench_suite_entry_t *e)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = *e;
}

static int valid_name(const char *s)
{
    if (!*s) return 0;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("_.+-", *s)) return 0;
    return 1;
}

/* parse_line: one non-blank, non-comment line. Adds to out (selected entries), to gens
 * (all gen lines, filtered later) and to seen (every own/debian NAME). */
static int parse_line(char *line, int lineno, const bench_suite_params_t *prm,
                      const regex_t *re, bench_suite_t *out, bench_suite_t *gens,
                      words_t *seen, char *err, size_t errcap)
{
    char *name = line + strspn(line, " \t");
    char *kind = name + strcspn(name, " \t");
    if (*kind) *kind++ = 0;
    kind += strspn(kind, " \t");
    char *cmd = kind + strcspn(kind, " \t");
    if (*cmd) *cmd++ = 0;
    cmd += strspn(cmd, " \t");
    if (!*kind || !*cmd || *cmd == '#') { fail(err, errcap, "want NAME KIND COMMAND..."); return -1; }
    if (!valid_name(name)) { fail(err, errcap, "bad NAME '%s' (letters, digits, _ . + -)", name); return -1; }
    bench_suite_kind_t k;
    if (!strcmp(kind, "own")) k = BENCH_SUITE_OWN;
    else if (!strcmp(kind, "debian")) k = BENCH_SUITE_DEBIAN;
    else if (!strcmp(kind, "gen")) k = BENCH_SUITE_GEN;
    else { fail(err, errcap, "unknown KIND '%s' (want own, debian or gen)", kind); return -1; }
    int has_opt = strstr(cmd, "{opt}") != NULL;
    if (k == BENCH_SUITE_OWN && !has_opt) { fail(err, errcap, "an own entry names its binary with {opt}"); return -1; }
    if (k != BENCH_SUITE_OWN && has_opt) { fail(err, errcap, "{opt} is only for own entries"); return -1; }
    if (k == BENCH_SUITE_OWN && prm->nlevels == 0) { fail(err, errcap, "no optimisation level given for own entries"); return -1; }
    if (k != BENCH_SUITE_GEN) {
        for (size_t i = 0; i < seen->n; i++)
            if (!strcmp(seen->v[i], name)) { fail(err, errcap, "benchmark '%s' given twice", name); return -1; }
        words_add(seen, xstrdup(name));
    }
    char **words, *in, ebuf[200];
    int nwords;
    if (bench_suite_split(cmd, &words, &nwords, &in, ebuf, sizeof(ebuf)) != 0) {
        fail(err, errcap, "%s", ebuf);
        return -1;
    }
    int rc = 0;
    size_t nexp = k == BENCH_SUITE_OWN ? prm->nlevels : 1;
    for (size_t i = 0; i < nexp && rc == 0; i++) {
        const char *opt = k == BENCH_SUITE_OWN ? prm->levels[i] : NULL;
        char full[300];
        snprintf(full, sizeof(full), "%s%s%s", name, opt ? "." : "", opt ? opt : "");
        if (k != BENCH_SUITE_GEN && re && regexec(re, full, 0, NULL, 0) != 0) continue;
        bench_suite_entry_t e;
        if (make_entry(&e, full, name, k, words, nwords, in, lineno, prm, opt, ebuf, sizeof(ebuf)) != 0) {
            fail(err, errcap, "%s", ebuf);
            rc = -1;
        } else if (k == BENCH_SUITE_GEN) {
            push(&gens->gens, &gens->ngens, &e);
        } else {
            push(&out->runs, &out->nruns, &e);
        }
    }
    bench_suite_free_words(words);
    free(in);
    return rc;
}

int bench_suite_parse(const char *text, const char *file, const bench_suite_params_t *p,
                      bench_suite_t *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    regex_t re;
    int have_re = p->filter && *p->filter;
    if (have_re && regcomp(&re, p->filter, REG_EXTENDED | REG_NOSUB) != 0) {
        fail(err, errcap, "bad filter regex '%s'", p->filter);
        return -1;
    }
    bench_suite_t gens = {0};
    words_t seen = {0};
    char ebuf[400];
    int lineno = 0, rc = 0;
    for (const char *l = text; *l && rc == 0;) {
        size_t n = strcspn(l, "\n");
        char *line = xrealloc(NULL, n + 1);
        memcpy(line, l, n);
        line[n] = 0;
        l += n + (l[n] == '\n');
        lineno++;
        const char *t = line + strspn(line, " \t\r");
        if (*t && *t != '#' &&
            parse_line(line, lineno, p, have_re ? &re : NULL, out, &gens, &seen, ebuf, sizeof(ebuf)) != 0) {
            fail(err, errcap, "%s:%d: %s", file, lineno, ebuf);
            rc = -1;
        }
        free(line);
    }
    /* Keep the gen lines of selected names; a gen line for no benchmark is a typo. */
    for (size_t i = 0; i < gens.ngens && rc == 0; i++) {
        bench_suite_entry_t *g = &gens.gens[i];
        size_t k = 0;
        while (k < seen.n && strcmp(seen.v[k], g->base)) k++;
        if (k == seen.n) {
            fail(err, errcap, "%s:%d: gen line for '%s', which has no benchmark", file, g->line, g->base);
            rc = -1;
            break;
        }
        for (k = 0; k < out->nruns && strcmp(out->runs[k].base, g->base); k++) {}
        if (k < out->nruns) {
            push(&out->gens, &out->ngens, g);
            memset(g, 0, sizeof(*g));   /* moved */
        }
    }
    bench_suite_free(&gens);
    if (seen.v) bench_suite_free_words(seen.v);
    if (have_re) regfree(&re);
    if (rc != 0) bench_suite_free(out);
    return rc;
}

int bench_suite_levels(const char *list, char ***levels, size_t *n, char *err, size_t errcap)
{
    words_t w = {0};
    for (const char *p = list; *p;) {
        p += strspn(p, " ,\t");
        size_t len = strcspn(p, " ,\t");
        if (!len) break;
        if (len != 2 || p[0] != 'O' || !strchr("0123sg", p[1])) {
            fail(err, errcap, "bad optimisation level '%.*s' (want O0, O1, O2, O3, Os or Og)", (int)len, p);
            if (w.v) bench_suite_free_words(w.v);
            return -1;
        }
        size_t i = 0;
        while (i < w.n && strncmp(w.v[i], p, 2)) i++;
        if (i == w.n) {
            char *s = xrealloc(NULL, 3);
            memcpy(s, p, 2);
            s[2] = 0;
            words_add(&w, s);
        }
        p += len;
    }
    if (w.n == 0) { fail(err, errcap, "no optimisation level given"); return -1; }
    *levels = w.v;
    *n = w.n;
    return 0;
}
