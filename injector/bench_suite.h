/* bench_suite.h — the benchmark suite file (benchmarks/suite.txt) read by
 * `hotpath bench --suite`: one entry a line, `NAME KIND COMMAND...`, KIND own, debian or
 * gen; COMMAND is split into words like a shell would (quotes, backslashes) but never run
 * by one. The format is described at the top of benchmarks/suite.txt. No I/O here, so
 * tests/unit/test_bench_suite.c covers all of it. */
#ifndef HOTPATH_BENCH_SUITE_H
#define HOTPATH_BENCH_SUITE_H
#include <stddef.h>

typedef enum {
    BENCH_SUITE_OWN,     /* our program, one entry per optimisation level ({opt}) */
    BENCH_SUITE_DEBIAN,  /* a system program, one entry */
    BENCH_SUITE_GEN,     /* makes the inputs of the entries with the same NAME; untimed */
} bench_suite_kind_t;

typedef struct {
    char *name;          /* NAME, or NAME.LEVEL for an own entry */
    char *base;          /* NAME as written in the file */
    bench_suite_kind_t kind;
    char **argv;         /* the command's words, placeholders filled in, NULL-terminated */
    int argc;
    char *stdin_path;    /* from "< FILE" in the command; NULL: no redirection */
    int line;            /* its line in the file, from 1 */
} bench_suite_entry_t;

typedef struct {
    bench_suite_entry_t *runs;  /* the selected own and debian entries, in file order (an
                                   own line gives one entry per level, in level order) */
    size_t nruns;
    bench_suite_entry_t *gens;  /* gen entries of the selected NAMEs, in file order */
    size_t ngens;
} bench_suite_t;

/* What the placeholders stand for and which entries to take. */
typedef struct {
    const char *bin, *data, *src;   /* {bin} {data} {src}; NULL makes using one an error */
    const char *const *levels;      /* {opt} values: one entry per level for own lines */
    size_t nlevels;
    const char *filter;             /* POSIX extended regex on the entry's name (nbody.O2,
                                       bzip2); NULL or "" selects everything */
} bench_suite_params_t;

/* bench_suite_split: split cmd into words as sh would, without expanding anything:
 * blanks separate words; '...' is literal; in "..." a backslash escapes only " \ $ `;
 * outside quotes a backslash escapes the next character; an unquoted # starting a word
 * begins a comment. An unquoted '<' takes the next word (or the rest of its own) as the
 * stdin file (*stdin_path, malloc'd; NULL if none). Unquoted | > ; & ( ) $ ` * ? [ are
 * refused: the command is exec'd, no shell runs it. On success returns 0 with *argv a
 * malloc'd NULL-terminated array of malloc'd words (*argc of them, at least one); on error
 * returns -1 with one line in err and nothing to free. */
int bench_suite_split(const char *cmd, char ***argv, int *argc, char **stdin_path,
                      char *err, size_t errcap);

/* bench_suite_parse: parse the whole suite text (NUL-terminated; file names it in
 * errors) and select and expand its entries with p. Refused, with "FILE:LINE: reason" in
 * err and -1: fewer than three fields, an unknown KIND, a bad NAME, a COMMAND that
 * bench_suite_split refuses, an own line without {opt} or another line with it, a
 * placeholder p leaves NULL, a NAME given twice (own/debian), a gen line whose NAME has
 * no entry, a bad filter regex, an own line with no levels. Returns 0 and fills *out
 * (free with bench_suite_free) otherwise; selecting nothing is not an error here. */
int bench_suite_parse(const char *text, const char *file, const bench_suite_params_t *p,
                      bench_suite_t *out, char *err, size_t errcap);

/* bench_suite_free: free what bench_suite_parse filled in; s is left empty. */
void bench_suite_free(bench_suite_t *s);

/* bench_suite_levels: split a list of optimisation levels ("O0,O1,O2" or "O0 O1 O2")
 * into *levels (malloc'd array of malloc'd strings, *n of them, duplicates dropped).
 * Each must be O0-O3, Os or Og. Returns 0, or -1 with one line in err. */
int bench_suite_levels(const char *list, char ***levels, size_t *n, char *err, size_t errcap);

/* bench_suite_free_words: free a NULL-terminated array of malloc'd strings. */
void bench_suite_free_words(char **words);

#endif
