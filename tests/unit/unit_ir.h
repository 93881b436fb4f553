/* unit_ir.h — for the optimizer's unit tests: the trace IR of a hand-written path, copied
 * into the test's executable page first (the IR builder reads app code where it lies).
 * Fails the test when the builder refuses. Included by one test file each (static). */
#ifndef HOTPATH_UNIT_IR_H
#define HOTPATH_UNIT_IR_H
#include "ir.h"

/* unit_build_path: bytes[0..n) copied to code (a 4 KiB page, the rest int3), then t = the
 * IR of the path through blocks at code+offs[k] of lens[k] instructions (nb <= 4). */
static void unit_build_path(ir_trace_t *t, uint8_t *code, const uint8_t *bytes, size_t n,
                            const uint64_t *offs, const uint32_t *lens, int nb)
{
    memset(code, 0xcc, 4096);
    memcpy(code, bytes, n);
    uint64_t pcs[4];
    for (int k = 0; k < nb; k++) pcs[k] = (uint64_t)code + offs[k];
    const char *why = "";
    assert_int_equal(ir_init(t, 64), HP_OK);
    assert_int_equal(ir_build_path(t, pcs, lens, nb, &why), HP_OK);
}

#endif
