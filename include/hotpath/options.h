/* options.h — the parsed options (fields generated from options.def).
 * Parsing uses no libc, so the runtime can parse HOTPATH_OPTIONS before and after takeover. */
#ifndef HOTPATH_OPTIONS_H
#define HOTPATH_OPTIONS_H
#include "hotpath/status.h"

#define HP_OPT_STR_MAX 256

typedef struct {
#define OPT_BOOL_FIELD(f) int f;
#define OPT_INT_FIELD(f) long f;
#define OPT_STR_FIELD(f) char f[HP_OPT_STR_MAX];
#define OPT_LIST_FIELD(f) char f[HP_OPT_STR_MAX];
#define OPT(kind, name, field, def, help) OPT_##kind##_FIELD(field)
#include "hotpath/options.def"
#undef OPT
} hp_options_t;

/* hp_options_default: fill every field with its default from options.def. */
void hp_options_default(hp_options_t *o);

/* hp_options_set: apply one option. name has no leading dashes ("stats-json", "no-link");
 * value is NULL for a flag. Returns HP_ERR_INVALID for an unknown name, a missing or extra
 * value, or a bad number. *takes_value (if not NULL) says whether name needs a value. */
hp_status_t hp_options_set(hp_options_t *o, const char *name, const char *value);

/* hp_options_takes_value: 1 if the option called name (no dashes) needs a value, 0 if it is
 * a flag, -1 if there is no such option. */
int hp_options_takes_value(const char *name);

/* hp_options_parse_string: parse a HOTPATH_OPTIONS string ("--verbose --stats-json F" or
 * "--stats-json=F"), words split on spaces. On error writes the offending word into bad
 * (bad_len bytes, NUL-terminated) and returns HP_ERR_INVALID. */
hp_status_t hp_options_parse_string(hp_options_t *o, const char *s, char *bad, int bad_len);

/* hp_options_help: call emit(line) for each option's help line ("  --name ARG  help"). */
void hp_options_help(void (*emit)(const char *name, int takes_value, const char *help));

#endif
