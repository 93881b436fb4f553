/* test_options.c — the options table: defaults, flags and their no- forms, values with a
 * space or '=', and refusal of unknown or malformed options. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "hotpath/options.h"

static void test_defaults(void **s)
{
    (void)s;
    hp_options_t o;
    hp_options_default(&o);
    assert_int_equal(o.verbose, 0);
    assert_int_equal(o.link, 1);
    assert_int_equal(o.max_block_insns, 64);
    assert_string_equal(o.stats_json, "");
}

static void test_parse_string(void **s)
{
    (void)s;
    hp_options_t o;
    char bad[64];
    hp_options_default(&o);
    assert_int_equal(hp_options_parse_string(&o, "--verbose --stats-json /tmp/x.%p --no-link --max-block-insns=7", bad, sizeof(bad)), HP_OK);
    assert_int_equal(o.verbose, 1);
    assert_string_equal(o.stats_json, "/tmp/x.%p");
    assert_int_equal(o.link, 0);
    assert_int_equal(o.max_block_insns, 7);
}

static void test_refusals(void **s)
{
    (void)s;
    hp_options_t o;
    char bad[64];
    hp_options_default(&o);
    assert_int_equal(hp_options_parse_string(&o, "--bogus", bad, sizeof(bad)), HP_ERR_INVALID);
    assert_string_equal(bad, "--bogus");
    assert_int_equal(hp_options_parse_string(&o, "--max-block-insns=x1", bad, sizeof(bad)), HP_ERR_INVALID);
    assert_int_equal(hp_options_parse_string(&o, "--stats-json", bad, sizeof(bad)), HP_ERR_INVALID);
    assert_int_equal(hp_options_parse_string(&o, "--verbose=1", bad, sizeof(bad)), HP_ERR_INVALID);
    assert_int_equal(hp_options_parse_string(&o, "verbose", bad, sizeof(bad)), HP_ERR_INVALID);
    assert_int_equal(hp_options_parse_string(&o, "--no-stats-json", bad, sizeof(bad)), HP_ERR_INVALID);
    assert_int_equal(hp_options_takes_value("stats-json"), 1);
    assert_int_equal(hp_options_takes_value("no-verbose"), 0);
    assert_int_equal(hp_options_takes_value("nothing"), -1);
}

/* A LIST option takes a value, and its no- form means "none". */
static void test_list_option(void **state)
{
    (void)state;
    hp_options_t o;
    char bad[64];
    hp_options_default(&o);
    assert_string_equal(o.opt, "all");
    assert_int_equal(hp_options_parse_string(&o, "--opt=fold,dce", bad, sizeof(bad)), HP_OK);
    assert_string_equal(o.opt, "fold,dce");
    assert_int_equal(hp_options_parse_string(&o, "--no-opt", bad, sizeof(bad)), HP_OK);
    assert_string_equal(o.opt, "none");
    assert_int_equal(hp_options_takes_value("no-opt"), 0);
    assert_int_equal(hp_options_takes_value("opt"), 1);
    assert_int_equal(hp_options_parse_string(&o, "--no-opt=x", bad, sizeof(bad)), HP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_parse_string),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_list_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
