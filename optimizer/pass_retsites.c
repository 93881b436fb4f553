/* pass_retsites.c — a second return site for an inlined return's check. A ret on the path
 * is checked inline against the return address it had when the path was recorded; in
 * recursion and in helpers called from two places of one loop (fib(n-1) + fib(n-2), a
 * quicksort's two halves, a random-number helper called twice per round) the same ret
 * returns to two sites in turn, and every other return missed the check and paid the
 * lookup (spills, flags kept with lahf/seto, a hash probe, an indirect jump). When the
 * recorded return address T1 follows a direct `call X`, this pass looks in the code around
 * T1 (the same executable mapping, RS_WINDOW bytes either way, read with process_vm_readv
 * so bytes that cannot be read are skipped, never faulted on) for another direct call to
 * the same X and gives the ret its return address T2 (ir_insn_t.target2, the nearest such
 * site). The emitter's miss path compares with T2 (two flag-free instructions) before the
 * lookup and on a match leaves through a linked exit to T2.
 * Exactness: no instruction changes; the miss path only picks a different way to the same
 * app address, with every register and flag the app's. A byte pattern that only looks like
 * a call (inside another instruction) gives a site that never matches: it costs two
 * instructions on the miss path, never a wrong target (the compare is of the whole
 * address). */
#include "opt.h"
#include "maps.h"
#include "sys.h"
#include "heap.h"

#define RS_WINDOW 512           /* how far from T1 another call site is looked for */

/* rs_call_target: if the 5 bytes before offset k of the window (buf, ok) are a
 * `call rel32`, *callee is its target (pc: the app address of offset k) and 1 is returned. */
static int rs_call_target(const uint8_t *buf, const uint8_t *ok, uint64_t k, uint64_t pc, uint64_t *callee)
{
    if (k < 5 || !ok[k - 5] || !ok[k - 1] || buf[k - 5] != 0xe8) return 0;
    const uint8_t *p = buf + k - 5;
    int32_t rel = (int32_t)((uint32_t)p[1] | (uint32_t)p[2] << 8 | (uint32_t)p[3] << 16 | (uint32_t)p[4] << 24);
    *callee = pc + (uint64_t)(int64_t)rel;
    return 1;
}

/* rs_other_site: the return address of the direct call to the same function as the one
 * that returns to t1, nearest to t1 within RS_WINDOW bytes (and t1's executable mapping);
 * 0 when there is none. Reads app memory only through maps_read. */
static uint64_t rs_other_site(uint64_t t1)
{
    maps_region_t r;
    uint64_t x, y;
    uint8_t buf[2 * RS_WINDOW + 8], ok[2 * RS_WINDOW + 8];
    if (maps_find_exec(t1, &r) != HP_OK) return 0;
    uint64_t lo = t1 - r.start > RS_WINDOW ? t1 - RS_WINDOW : r.start;
    uint64_t hi = r.end - t1 > RS_WINDOW ? t1 + RS_WINDOW : r.end;
    maps_read(lo, hi - lo, buf, ok);
    if (!rs_call_target(buf, ok, t1 - lo, t1, &x)) return 0;
    uint64_t best = 0, best_d = 0;
    for (uint64_t pc = lo + 5; pc <= hi; pc++) {
        if (pc == t1 || !rs_call_target(buf, ok, pc - lo, pc, &y) || y != x) continue;
        uint64_t d = pc > t1 ? pc - t1 : t1 - pc;
        if (!best || d < best_d) { best = pc; best_d = d; }
    }
    return best;
}

int opt_pass_retsites(ir_trace_t *t)
{
    int changed = 0;
    for (int k = 0; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        if (i->kind != IR_IND || i->zi.mnemonic != ZYDIS_MNEMONIC_RET || !i->target) continue;
        i->target2 = rs_other_site(i->target);
        if (i->target2) changed++;
    }
    return changed;
}
