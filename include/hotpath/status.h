/* status.h — the one status type every hotpath module returns, and the CHECK macro.
 * Invariant: HP_OK is 0; every failing call returns a negative hp_status_t. */
#ifndef HOTPATH_STATUS_H
#define HOTPATH_STATUS_H

typedef enum {
    HP_OK = 0,
    HP_ERR_NOMEM = -1,     /* allocator or mmap could not give memory */
    HP_ERR_DECODE = -2,    /* an instruction Zydis cannot decode */
    HP_ERR_UNSUPPORTED = -3, /* an instruction or situation hotpath does not handle yet */
    HP_ERR_ENCODE = -4,    /* Zydis could not encode (e.g. displacement out of reach) */
    HP_ERR_FAULT = -5,     /* the address is not mapped executable */
    HP_ERR_INVALID = -6,   /* bad argument or option */
    HP_ERR_IO = -7,        /* a system call on a file failed */
} hp_status_t;

/* CHECK(expr): evaluate a call returning hp_status_t; on failure return it to our caller. */
#define CHECK(expr) do { hp_status_t _st = (expr); if (_st != HP_OK) return _st; } while (0)

/* hp_status_str: a short constant name for a status (never NULL). */
const char *hp_status_str(hp_status_t st);

#endif
