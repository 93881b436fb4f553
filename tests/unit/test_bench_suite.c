/* test_bench_suite.c — the suite file parser of `hotpath bench --suite`: sh-like word
 * splitting (quotes, backslashes, comments, '<'), refusal of shell syntax it does not run,
 * placeholders, own entries expanded per level, the filter, gen entries kept only for
 * selected names, every refusal with its FILE:LINE. The last test parses the real
 * benchmarks/suite.txt (make runs the tests from the repository root). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include "bench_suite.h"

static void split_ok(const char *cmd, const char *const *want, const char *want_in)
{
    char **w, *in, err[200];
    int n;
    assert_int_equal(bench_suite_split(cmd, &w, &n, &in, err, sizeof(err)), 0);
    int k = 0;
    while (want[k]) {
        assert_non_null(w[k]);
        assert_string_equal(w[k], want[k]);
        k++;
    }
    assert_int_equal(n, k);
    assert_null(w[k]);
    if (want_in) assert_string_equal(in, want_in);
    else assert_null(in);
    bench_suite_free_words(w);
    free(in);
}

static void split_bad(const char *cmd, const char *why)
{
    char **w = NULL, *in = NULL, err[200] = "";
    int n;
    assert_int_equal(bench_suite_split(cmd, &w, &n, &in, err, sizeof(err)), -1);
    if (!strstr(err, why)) fail_msg("'%s': error '%s' lacks '%s'", cmd, err, why);
}

static void test_split(void **s)
{
    (void)s;
    split_ok("a  b\tc", (const char *[]){ "a", "b", "c", NULL }, NULL);
    split_ok("  /usr/bin/x 'one two' \"th\\\"ree\" f\\ our ''", (const char *[]){ "/usr/bin/x", "one two", "th\"ree", "f our", "", NULL }, NULL);
    split_ok("p -c 'print(\"a\\n\")' # comment | ignored", (const char *[]){ "p", "-c", "print(\"a\\n\")", NULL }, NULL);
    split_ok("a'b'\"c\"d x#y", (const char *[]){ "abcd", "x#y", NULL }, NULL);
    split_ok("sqlite3 :memory: < {data}/o.sql", (const char *[]){ "sqlite3", ":memory:", NULL }, "{data}/o.sql");
    split_ok("cat <in.txt -", (const char *[]){ "cat", "-", NULL }, "in.txt");
    split_ok("x '$HOME|*' \"a\\b\"", (const char *[]){ "x", "$HOME|*", "a\\b", NULL }, NULL);
}

static void test_split_refusals(void **s)
{
    (void)s;
    split_bad("bzip2 -c f | cksum", "'|'");
    split_bad("x > out", "'>'");
    split_bad("a; b", "';'");
    split_bad("a && b", "'&'");
    split_bad("echo $HOME", "'$'");
    split_bad("echo `date`", "'`'");
    split_bad("ls *.c", "'*'");
    split_bad("x 'open", "unterminated '");
    split_bad("x \"open", "unterminated \"");
    split_bad("x <", "'<' without a file");
    split_bad("x < a < b", "two '<'");
    split_bad("x \\", "backslash at the end");
    split_bad("   # only a comment", "no command");
    split_bad("", "no command");
}

static const char suite_text[] =
    "# a comment\n"
    "\n"
    "nbody   own     {bin}/nbody.{opt} 800\n"
    "  fib   own     {bin}/fib.{opt} 30   # trailing comment\n"
    "bzip2   gen     /usr/bin/python3 {src}/gen.py corpus {data}/c.txt 1\n"
    "bzip2   debian  /usr/bin/bzip2 -c {data}/c.txt\n"
    "sqlite3 gen     /usr/bin/python3 {src}/gen.py sql {data}/o.sql\n"
    "sqlite3 debian  /usr/bin/sqlite3 :memory: < {data}/o.sql\n"
    "lua5.4  debian  /usr/bin/lua5.4 -e 'print(({1,2})[2])'\n";

static const char *const levels2[] = { "O0", "O2" };

static void test_parse_expand(void **s)
{
    (void)s;
    bench_suite_params_t p = { "/B", "/D", "/S", levels2, 2, NULL };
    bench_suite_t st;
    char err[300];
    assert_int_equal(bench_suite_parse(suite_text, "t.txt", &p, &st, err, sizeof(err)), 0);
    assert_int_equal(st.nruns, 7);
    const char *names[] = { "nbody.O0", "nbody.O2", "fib.O0", "fib.O2", "bzip2", "sqlite3", "lua5.4" };
    for (int i = 0; i < 7; i++) assert_string_equal(st.runs[i].name, names[i]);
    assert_string_equal(st.runs[1].argv[0], "/B/nbody.O2");
    assert_string_equal(st.runs[1].argv[1], "800");
    assert_string_equal(st.runs[1].base, "nbody");
    assert_int_equal(st.runs[1].kind, BENCH_SUITE_OWN);
    assert_int_equal(st.runs[1].line, 3);
    assert_int_equal(st.runs[3].argc, 2);                        /* the comment is gone */
    assert_string_equal(st.runs[4].argv[2], "/D/c.txt");
    assert_int_equal(st.runs[4].kind, BENCH_SUITE_DEBIAN);
    assert_null(st.runs[4].stdin_path);
    assert_string_equal(st.runs[5].stdin_path, "/D/o.sql");
    assert_string_equal(st.runs[6].argv[2], "print(({1,2})[2])");  /* other braces stay */
    assert_int_equal(st.ngens, 2);
    assert_string_equal(st.gens[0].base, "bzip2");
    assert_string_equal(st.gens[0].argv[1], "/S/gen.py");
    assert_string_equal(st.gens[1].base, "sqlite3");
    assert_int_equal(st.gens[1].kind, BENCH_SUITE_GEN);
    bench_suite_free(&st);
    assert_int_equal(st.nruns, 0);
}

static void test_filter(void **s)
{
    (void)s;
    bench_suite_params_t p = { "/B", "/D", "/S", levels2, 2, "O2$|^sql" };
    bench_suite_t st;
    char err[300];
    assert_int_equal(bench_suite_parse(suite_text, "t.txt", &p, &st, err, sizeof(err)), 0);
    assert_int_equal(st.nruns, 3);
    assert_string_equal(st.runs[0].name, "nbody.O2");
    assert_string_equal(st.runs[1].name, "fib.O2");
    assert_string_equal(st.runs[2].name, "sqlite3");
    assert_int_equal(st.ngens, 1);                 /* bzip2's generator is not needed */
    assert_string_equal(st.gens[0].base, "sqlite3");
    bench_suite_free(&st);
    p.filter = "nothing-matches";
    assert_int_equal(bench_suite_parse(suite_text, "t.txt", &p, &st, err, sizeof(err)), 0);
    assert_int_equal(st.nruns, 0);
    assert_int_equal(st.ngens, 0);
    bench_suite_free(&st);
}

static void parse_bad(const char *text, const bench_suite_params_t *p, const char *why)
{
    bench_suite_t st;
    char err[300] = "";
    assert_int_equal(bench_suite_parse(text, "s.txt", p, &st, err, sizeof(err)), -1);
    if (!strstr(err, why)) fail_msg("error '%s' lacks '%s'", err, why);
    assert_int_equal(st.nruns, 0);
    assert_null(st.runs);
}

static void test_parse_refusals(void **s)
{
    (void)s;
    bench_suite_params_t p = { "/B", "/D", "/S", levels2, 2, NULL };
    parse_bad("x own\n", &p, "s.txt:1: want NAME KIND COMMAND");
    parse_bad("\n\nx debian # nothing\n", &p, "s.txt:3: want NAME KIND");
    parse_bad("x nativ /bin/true\n", &p, "s.txt:1: unknown KIND 'nativ'");
    parse_bad("x/y debian /bin/true\n", &p, "bad NAME");
    parse_bad("x own {bin}/x 3\n", &p, "s.txt:1: an own entry names its binary with {opt}");
    parse_bad("x debian /bin/x.{opt}\n", &p, "{opt} is only for own");
    parse_bad("x debian /bin/true | cat\n", &p, "s.txt:1: unquoted '|'");
    parse_bad("x debian /bin/true\nx debian /bin/false\n", &p, "s.txt:2: benchmark 'x' given twice");
    parse_bad("x debian /bin/true\ny gen /bin/true\n", &p, "s.txt:2: gen line for 'y', which has no benchmark");
    parse_bad("x debian /bin/true\n", &(bench_suite_params_t){ "/B", "/D", "/S", levels2, 2, "(" }, "bad filter");
    parse_bad("x debian {data}/x\n", &(bench_suite_params_t){ "/B", NULL, "/S", levels2, 2, NULL }, "s.txt:1: placeholder {data} has no value");
    parse_bad("x own {bin}/x.{opt}\n", &(bench_suite_params_t){ "/B", "/D", "/S", NULL, 0, NULL }, "no optimisation level");
    /* a later error frees what earlier lines made (run under valgrind to see it) */
    parse_bad("a debian /bin/true\nb gen /bin/true\nb own {bin}/b\n", &p, "s.txt:3:");
}

static void test_levels(void **s)
{
    (void)s;
    char **lv, err[200];
    size_t n;
    assert_int_equal(bench_suite_levels("O0,O1 O2,O1", &lv, &n, err, sizeof(err)), 0);
    assert_int_equal(n, 3);
    assert_string_equal(lv[0], "O0");
    assert_string_equal(lv[2], "O2");
    assert_null(lv[3]);
    bench_suite_free_words(lv);
    assert_int_equal(bench_suite_levels("Os", &lv, &n, err, sizeof(err)), 0);
    bench_suite_free_words(lv);
    assert_int_equal(bench_suite_levels("O2,-O3", &lv, &n, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "'-O3'"));
    assert_int_equal(bench_suite_levels("O4", &lv, &n, err, sizeof(err)), -1);
    assert_int_equal(bench_suite_levels(" , ", &lv, &n, err, sizeof(err)), -1);
}

/* The real suite parses, every entry is a plain command with an absolute program path,
 * and each generator belongs to a benchmark. */
static void test_real_suite(void **s)
{
    (void)s;
    FILE *f = fopen("benchmarks/suite.txt", "r");
    if (!f) { skip(); return; }
    static char text[1 << 16];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = 0;
    static const char *const lv[] = { "O0", "O1", "O2" };
    bench_suite_params_t p = { "/B", "/D", "/S", lv, 3, NULL };
    bench_suite_t st;
    char err[400];
    if (bench_suite_parse(text, "benchmarks/suite.txt", &p, &st, err, sizeof(err)) != 0) fail_msg("%s", err);
    assert_true(st.nruns >= 3 * 11 + 7);
    for (size_t i = 0; i < st.nruns; i++) assert_int_equal(st.runs[i].argv[0][0], '/');
    bench_suite_free(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split),
        cmocka_unit_test(test_split_refusals),
        cmocka_unit_test(test_parse_expand),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_parse_refusals),
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_real_suite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
