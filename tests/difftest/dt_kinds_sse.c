/* dt_kinds_sse.c — the differential tester's scalar-double kind (kind_sse): -O0 style
 * SSE2 code on 8-byte stack slots (movsd/movq loads and stores, addsd .. sqrtsd, ucomisd
 * with a jcc, conversions), accumulators in counted loops so loop promotion keeps slots in
 * xmm registers; doubles through general registers (movq, as -O0 passes arguments and
 * results: pass_xfwd.c); now and then an integer access of a double slot, a VEX form or fxsave
 * (each must stop that promotion). Its share of a case's groups is g->sse_pct.
 * Invariants: those of dt_gen.c; every instruction goes through gen_emit. */
#include "dt_gen_int.h"

/* gen_xreg: an xmm register of scalar-double code: xmm0..7; in cases with xhi sometimes
 * xmm8..15, xmm15 and xmm14 most (the ones the promotion pass borrows first). */
static ZydisRegister gen_xreg(gen_t *g)
{
    int k = gen_below(g, 8);
    if (g->xhi && gen_chance(g, 30)) k = gen_chance(g, 50) ? 15 - gen_below(g, 2) : 8 + gen_below(g, 8);
    return (ZydisRegister)(ZYDIS_REGISTER_XMM0 + k);
}

/* gen_xslot: a double's 8-byte slot: one of the case's [rbp-d] or [rsp+d] double slots
 * (in a callee: its own [rbp-d], sometimes as the same cell [rsp+frame-d]); now and then
 * one of the integer kinds' [rbp+d] slots (sizes and forms meet there: no promotion), a
 * [B+d] cell (B may point into the stack: a store there may alias a promoted slot) or the
 * scratch buffer (RIP-relative). Within the bounds gen_mem keeps (in a callee, B only
 * when it points into the scratch buffer). */
static void gen_xslot(gen_t *g, gen_mem_t *m)
{
    int k = gen_below(g, DT_XSLOTS), w = gen_below(g, 100);
    memset(m, 0, sizeof(*m));
    if (w >= 96) {
        m->base = ZYDIS_REGISTER_RIP;
        m->disp = (int64_t)(g->env->scratch + (g->slot_abs[gen_below(g, DT_SLOTS)] & ~7));
    } else if (g->in_callee) {
        int by_rsp = w < 20;
        m->base = by_rsp ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_RBP;
        m->disp = g->slot_xcallee[k] + (by_rsp ? g->frame : 0);
    } else if (w < 70) {
        m->base = ZYDIS_REGISTER_RBP;
        m->disp = g->slot_xrbp[k];
    } else if (w < 88) {
        m->base = ZYDIS_REGISTER_RSP;
        m->disp = g->slot_xrsp[k];
    } else if (w < 92 && !(g->in_callee && g->c->base_in_stack)) {   /* B: may alias a slot */
        m->base = gen_reg(g->c->base_reg, 64);
        m->disp = g->slot_b[gen_below(g, DT_SLOTS)];
    } else {
        m->base = ZYDIS_REGISTER_RBP;
        m->disp = g->slot_rbp[gen_below(g, DT_SLOTS)];
    }
}

/* gen_xemit: a scalar-double instruction (cmp: ucomisd/comisd, which define every status
 * flag: ZF PF CF from the comparison, OF SF AF cleared). */
static int gen_xemit(gen_t *g, const ZydisEncoderRequest *r, int cmp)
{
    if (!gen_emit(g, r, 0, cmp ? DT_STATUS : 0, cmp ? DT_STATUS : 0, 0)) return 0;
    g->nsse++;
    if (r->allowed_encodings == ZYDIS_ENCODABLE_ENCODING_VEX) g->nvex++;
    return 1;
}

/* gen_xsrc: the source of a scalar-double operation: a slot (mem_pct percent) or an xmm. */
static void gen_xsrc(gen_t *g, ZydisEncoderRequest *r, int mem_pct)
{
    gen_mem_t m;
    if (gen_chance(g, mem_pct)) {
        gen_xslot(g, &m);
        gen_rq_mem(r, &m, 8);
    } else {
        gen_rq_reg(r, gen_xreg(g));
    }
}

/* kind_sse: -O0 style scalar-double code: an accumulator (movsd/movq x, [slot]; addsd ..
 * maxsd x, [slot2]|x2; movsd/movq [slot], x), loads, stores, arithmetic from a slot or a
 * register (sqrtsd too), ucomisd/comisd (sometimes followed by a branch on their flags),
 * cvtsi2sd, cvttsd2si, movapd, pxor, cvtsd2ss from a slot; now and then an integer access
 * of a double slot (the pass must then leave that slot alone) or, where the CPU has AVX, a
 * VEX form (the pass must then borrow no xmm register in that loop). MXCSR stays the
 * default: every exception is masked, results are deterministic. */
int kind_sse(gen_t *g)
{
    static const ZydisMnemonic arith[] = { ZYDIS_MNEMONIC_ADDSD, ZYDIS_MNEMONIC_SUBSD, ZYDIS_MNEMONIC_MULSD,
        ZYDIS_MNEMONIC_DIVSD, ZYDIS_MNEMONIC_MINSD, ZYDIS_MNEMONIC_MAXSD, ZYDIS_MNEMONIC_SQRTSD };
    static const ZydisMnemonic vex[] = { ZYDIS_MNEMONIC_VADDSD, ZYDIS_MNEMONIC_VSUBSD, ZYDIS_MNEMONIC_VMULSD,
                                         ZYDIS_MNEMONIC_VSQRTSD };
    ZydisEncoderRequest r;
    gen_mem_t m;
    ZydisRegister a = gen_xreg(g);
    ZydisMnemonic mov = gen_chance(g, 70) ? ZYDIS_MNEMONIC_MOVSD : ZYDIS_MNEMONIC_MOVQ;
    int k = gen_below(g, 100);
    if (k >= 97 && !g->avx) k = 95;
    if (k < 30) {                                        /* accumulator: load, op, store back */
        gen_xslot(g, &m);
        gen_rq(&r, mov);
        gen_rq_reg(&r, a);
        gen_rq_mem(&r, &m, 8);
        if (!gen_xemit(g, &r, 0)) return 0;
        for (int j = gen_chance(g, 70) ? 1 : 2; j > 0; j--) {
            gen_rq(&r, arith[gen_below(g, 7)]);
            gen_rq_reg(&r, a);
            gen_xsrc(g, &r, 40);
            gen_xemit(g, &r, 0);
        }
        gen_rq(&r, gen_chance(g, 70) ? ZYDIS_MNEMONIC_MOVSD : ZYDIS_MNEMONIC_MOVQ);
        gen_rq_mem(&r, &m, 8);
        gen_rq_reg(&r, a);
        return gen_xemit(g, &r, 0);
    }
    if (k < 50) {                                        /* a load or a store */
        gen_xslot(g, &m);
        gen_rq(&r, mov);
        if (k < 40) gen_rq_reg(&r, a);
        gen_rq_mem(&r, &m, 8);
        if (k >= 40) gen_rq_reg(&r, a);
        return gen_xemit(g, &r, 0);
    }
    if (k < 70) {                                        /* op x, [slot] | x2 (movsd x, x2 too) */
        gen_rq(&r, k >= 67 ? ZYDIS_MNEMONIC_MOVSD : arith[gen_below(g, 7)]);
        gen_rq_reg(&r, a);
        gen_xsrc(g, &r, k >= 67 ? 0 : 60);
        return gen_xemit(g, &r, 0);
    }
    if (k < 78) {                                        /* compare; sometimes a branch on it */
        gen_rq(&r, gen_chance(g, 60) ? ZYDIS_MNEMONIC_UCOMISD : ZYDIS_MNEMONIC_COMISD);
        gen_rq_reg(&r, a);
        gen_xsrc(g, &r, 60);
        if (!gen_xemit(g, &r, 1)) return 0;
        if (gen_chance(g, 50)) gen_branch(g, 0);
        return 1;
    }
    if (k < 84) {                                        /* cvtsi2sd x, r32/r64 (or [slot]) */
        gen_rq(&r, ZYDIS_MNEMONIC_CVTSI2SD);
        gen_rq_reg(&r, a);
        if (gen_chance(g, 15)) {
            gen_xslot(g, &m);
            gen_rq_mem(&r, &m, 8);
        } else {
            gen_rq_reg(&r, gen_reg(gen_rreg(g), gen_chance(g, 50) ? 32 : 64));
        }
        return gen_xemit(g, &r, 0);
    }
    if (k < 89) {                                        /* cvttsd2si r32/r64, x (or [slot]) */
        gen_rq(&r, ZYDIS_MNEMONIC_CVTTSD2SI);
        gen_rq_reg(&r, gen_reg(gen_wreg(g), gen_chance(g, 50) ? 32 : 64));
        gen_xsrc(g, &r, 20);
        return gen_xemit(g, &r, 0);
    }
    if (k < 92) {                                        /* movapd x, x2; pxor x, x | x2 */
        int px = gen_chance(g, 50);
        gen_rq(&r, px ? ZYDIS_MNEMONIC_PXOR : ZYDIS_MNEMONIC_MOVAPD);
        gen_rq_reg(&r, a);
        gen_rq_reg(&r, px && gen_chance(g, 60) ? a : gen_xreg(g));
        return gen_xemit(g, &r, 0);
    }
    if (k < 95) {                                        /* cvtsd2ss x, [slot] */
        gen_xslot(g, &m);
        gen_rq(&r, ZYDIS_MNEMONIC_CVTSD2SS);
        gen_rq_reg(&r, a);
        gen_rq_mem(&r, &m, 8);
        return gen_xemit(g, &r, 0);
    }
    if (k < 97 && gen_chance(g, 30)) {                  /* fxsave: names every xmm register */
        memset(&m, 0, sizeof(m));
        m.base = ZYDIS_REGISTER_RIP;
        m.disp = (int64_t)(g->env->scratch + 16 * gen_range(g, 0, (DT_SCRATCH - 512) / 16));
        gen_rq(&r, ZYDIS_MNEMONIC_FXSAVE);
        gen_rq_mem(&r, &m, 512);
        return gen_emit(g, &r, 0, 0, 0, 0);
    }
    if (k < 97 && gen_chance(g, 40)) {                  /* a double through a general register */
        ZydisRegister gr = gen_reg(gen_wreg(g), 64);     /* movq x, r [; [not r]; movq r, x2 | mov r, [slot]] */
        gen_rq(&r, ZYDIS_MNEMONIC_MOVQ);
        gen_rq_reg(&r, gr);
        gen_rq_reg(&r, a);
        if (!gen_xemit(g, &r, 0)) return 0;
        int j = gen_below(g, 3);
        if (j == 2) return 1;
        if (gen_chance(g, 25)) {                         /* r changes before it is read */
            gen_rq(&r, ZYDIS_MNEMONIC_NOT);
            gen_rq_reg(&r, gr);
            if (!gen_emit(g, &r, 0, 0, 0, 0)) return 0;
        }
        gen_rq(&r, j ? ZYDIS_MNEMONIC_MOV : ZYDIS_MNEMONIC_MOVQ);
        if (j) gen_xslot(g, &m), gen_rq_mem(&r, &m, 8);
        else gen_rq_reg(&r, gen_xreg(g));
        gen_rq_reg(&r, gr);
        return j ? gen_emit(g, &r, 0, 0, 0, 0) : gen_xemit(g, &r, 0);
    }
    if (k < 97) {                                        /* an integer access of a double slot */
        int j = gen_below(g, 5), bits = j == 4 ? 32 : 64;
        gen_xslot(g, &m);
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);
        if (j == 3) gen_rq_mem(&r, &m, 8), gen_rq_reg(&r, gen_reg(gen_rreg(g), 64));
        else gen_rq_reg(&r, gen_reg(gen_wreg(g), bits)), gen_rq_mem(&r, &m, bits / 8);
        return gen_emit(g, &r, 0, 0, 0, 0);
    }
    gen_xslot(g, &m);                                    /* VEX: vaddsd x, x2, [slot]; vmovsd */
    int j = gen_below(g, 6);
    gen_rq(&r, j < 4 ? vex[j] : ZYDIS_MNEMONIC_VMOVSD);
    r.allowed_encodings = ZYDIS_ENCODABLE_ENCODING_VEX;
    if (j < 4) {
        gen_rq_reg(&r, a);
        gen_rq_reg(&r, gen_xreg(g));
        gen_rq_mem(&r, &m, 8);
    } else if (j == 4) {
        gen_rq_reg(&r, a);
        gen_rq_mem(&r, &m, 8);
    } else {
        gen_rq_mem(&r, &m, 8);
        gen_rq_reg(&r, a);
    }
    return gen_xemit(g, &r, 0);
}
