/* dt_kinds.c — the differential tester's instruction kinds: each appends one group (a few
 * instructions no branch lands inside) of one kind: ALU, unary, multiplies, shifts and
 * rotates, moves, extensions, lea, cmov/setcc, xchg, push/pop and stack adjustments,
 * no-op forms and conversions, flag instructions, locked barriers, -O0 style slot updates,
 * dead values, forward branches. Weights in gen_kinds.
 * Invariants: those of dt_gen.c; every instruction goes through gen_emit/gen_raw, which
 * check the registers it writes and the flags it reads. */
#include "dt_gen_int.h"

/* ---- instruction kinds: each returns 1 if it emitted its group ---- */

static int kind_alu(gen_t *g)
{
    static const ZydisMnemonic ops[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_AND,
        ZYDIS_MNEMONIC_OR, ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_ADC, ZYDIS_MNEMONIC_SBB,
        ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_TEST };
    ZydisMnemonic m = ops[gen_below(g, 9)];
    int bits = gen_bits(g), form = gen_below(g, 5);
    uint32_t reads = (m == ZYDIS_MNEMONIC_ADC || m == ZYDIS_MNEMONIC_SBB) ? DT_CF : 0;
    if (reads & ~g->def) m = m == ZYDIS_MNEMONIC_ADC ? ZYDIS_MNEMONIC_ADD : ZYDIS_MNEMONIC_SUB, reads = 0;
    int logic = m == ZYDIS_MNEMONIC_AND || m == ZYDIS_MNEMONIC_OR || m == ZYDIS_MNEMONIC_XOR ||
                m == ZYDIS_MNEMONIC_TEST;
    int writes = m != ZYDIS_MNEMONIC_CMP && m != ZYDIS_MNEMONIC_TEST;
    if (m == ZYDIS_MNEMONIC_TEST && form == 2) form = 3;           /* test has no r, m form */
    ZydisEncoderRequest r;
    gen_rq(&r, m);
    if (form == 2) {                                               /* reg, mem */
        gen_mem_t mm;
        gen_mem(g, &mm);
        gen_rq_reg(&r, gen_sized(g, writes ? gen_wreg(g) : gen_rreg(g), bits));
        gen_rq_mem(&r, &mm, bits / 8);
    } else {
        gen_rm(g, &r, bits, writes, form >= 3);
        if (form == 1 || form == 4) gen_rq_imm(&r, gen_imm(g, bits));
        else gen_rq_reg(&r, gen_sized(g, gen_rreg(g), bits));
    }
    return gen_emit(g, &r, reads, DT_STATUS, logic ? DT_STATUS & ~DT_AF : DT_STATUS, 0);
}

static int kind_unary(gen_t *g)
{
    static const ZydisMnemonic ops[] = { ZYDIS_MNEMONIC_INC, ZYDIS_MNEMONIC_DEC,
                                         ZYDIS_MNEMONIC_NEG, ZYDIS_MNEMONIC_NOT };
    int k = gen_below(g, 4);
    ZydisEncoderRequest r;
    gen_rq(&r, ops[k]);
    gen_rm(g, &r, gen_bits(g), 1, gen_chance(g, 35));
    uint32_t aff = k < 2 ? DT_STATUS & ~DT_CF : k == 2 ? DT_STATUS : 0;
    return gen_emit(g, &r, 0, aff, aff, 0);
}

static int kind_mul(gen_t *g)
{
    ZydisEncoderRequest r;
    int bits = gen_bits(g), k = gen_below(g, 3);
    if (k < 2 && bits == 8) bits = 32;
    if (k == 0) {                                        /* imul r, r/m */
        gen_rq(&r, ZYDIS_MNEMONIC_IMUL);
        gen_rq_reg(&r, gen_reg(gen_wreg(g), bits));
        gen_rm(g, &r, bits, 0, gen_chance(g, 30));
    } else if (k == 1) {                                 /* imul r, r/m, imm */
        gen_rq(&r, ZYDIS_MNEMONIC_IMUL);
        gen_rq_reg(&r, gen_reg(gen_wreg(g), bits));
        gen_rm(g, &r, bits, 0, gen_chance(g, 30));
        gen_rq_imm(&r, gen_imm(g, bits));
    } else {                                             /* mul/imul r/m: rdx:rax */
        if (!(g->wr & 1) || (bits > 8 && !(g->wr & 4))) return 0;
        gen_rq(&r, gen_chance(g, 50) ? ZYDIS_MNEMONIC_MUL : ZYDIS_MNEMONIC_IMUL);
        gen_rm(g, &r, bits, 0, gen_chance(g, 30));
    }
    return gen_emit(g, &r, 0, DT_STATUS, DT_CF | DT_OF, 0);
}

static int kind_shift(gen_t *g)
{
    static const ZydisMnemonic ops[] = { ZYDIS_MNEMONIC_SHL, ZYDIS_MNEMONIC_SHR, ZYDIS_MNEMONIC_SAR,
        ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_ROR, ZYDIS_MNEMONIC_RCL, ZYDIS_MNEMONIC_RCR };
    int k = gen_below(g, 7), bits = gen_bits(g), by_cl = gen_chance(g, 30);
    if (k >= 5 && !(g->def & DT_CF)) k -= 2;             /* rcl/rcr need a defined CF */
    int rot = k >= 3;
    uint32_t reads = k >= 5 ? DT_CF : 0;
    ZydisEncoderRequest r;
    gen_rq(&r, ops[k]);
    gen_rm(g, &r, bits, 1, gen_chance(g, 30));
    uint32_t aff = rot ? DT_CF | DT_OF : DT_STATUS, defd;
    if (by_cl) {
        gen_rq_reg(&r, ZYDIS_REGISTER_CL);
        /* the count may be 0 (flags kept), or >= the width for 8/16 bits (CF undefined) */
        defd = rot ? DT_CF : DT_PF | DT_ZF | DT_SF | (bits >= 32 ? DT_CF : 0);
        return gen_emit(g, &r, reads, aff, defd, 1);
    }
    int n = gen_chance(g, 30) ? 1 : gen_range(g, 1, bits - 1);    /* never >= the width */
    gen_rq_imm(&r, n);
    defd = rot ? DT_CF : DT_CF | DT_PF | DT_ZF | DT_SF;
    if (n == 1) defd |= DT_OF;
    return gen_emit(g, &r, reads, aff, defd, 0);
}

static int kind_mov(gen_t *g)
{
    ZydisEncoderRequest r;
    int bits = gen_bits(g), form = gen_below(g, 5);
    gen_rq(&r, ZYDIS_MNEMONIC_MOV);
    gen_mem_t m;
    switch (form) {
    case 0:                                              /* reg, reg */
        gen_rq_reg(&r, gen_sized(g, gen_wreg(g), bits));
        gen_rq_reg(&r, gen_sized(g, gen_rreg(g), bits));
        break;
    case 1:                                              /* reg, imm (movabs too) */
        gen_rq_reg(&r, gen_sized(g, gen_wreg(g), bits));
        gen_rq_imm(&r, bits == 64 && gen_chance(g, 40) ? (int64_t)gen_value(g) : gen_imm(g, bits));
        break;
    case 2:                                              /* load */
        gen_mem(g, &m);
        gen_rq_reg(&r, gen_sized(g, gen_wreg(g), bits));
        gen_rq_mem(&r, &m, bits / 8);
        break;
    case 3:                                              /* store */
        gen_mem(g, &m);
        gen_rq_mem(&r, &m, bits / 8);
        gen_rq_reg(&r, gen_sized(g, gen_rreg(g), bits));
        break;
    default:                                             /* store imm */
        gen_mem(g, &m);
        gen_rq_mem(&r, &m, bits / 8);
        gen_rq_imm(&r, gen_imm(g, bits));
        break;
    }
    return gen_emit(g, &r, 0, 0, 0, 0);
}

static int kind_movx(gen_t *g)
{
    ZydisEncoderRequest r;
    int k = gen_below(g, 5), src, dst;
    ZydisMnemonic m = gen_chance(g, 50) ? ZYDIS_MNEMONIC_MOVZX : ZYDIS_MNEMONIC_MOVSX;
    if (k == 4) { m = ZYDIS_MNEMONIC_MOVSXD; src = 32; dst = 64; }
    else if (k >= 2) { src = 16; dst = gen_chance(g, 50) ? 32 : 64; }
    else { src = 8; dst = 16 << gen_below(g, 3); }
    gen_rq(&r, m);
    gen_rq_reg(&r, gen_reg(gen_wreg(g), dst));
    gen_rm(g, &r, src, 0, gen_chance(g, 50));
    return gen_emit(g, &r, 0, 0, 0, 0);
}

static int kind_lea(gen_t *g)
{
    ZydisEncoderRequest r;
    gen_mem_t m;
    memset(&m, 0, sizeof(m));
    int bits = 16 << gen_below(g, 3), k = gen_below(g, 10);
    if (bits == 16 && gen_chance(g, 50)) bits = 64;
    if (k == 0) {                                        /* [rip + x] */
        m.base = ZYDIS_REGISTER_RIP;
        m.disp = (int64_t)(g->env->scratch + (uint64_t)gen_below(g, DT_SCRATCH));
    } else if (k == 1) {                                 /* the no-op forms: lea r, [r] */
        int id = gen_wreg(g);
        m.base = gen_reg(id, 64);
        gen_rq(&r, ZYDIS_MNEMONIC_LEA);
        gen_rq_reg(&r, gen_reg(id, gen_chance(g, 50) ? 64 : 32));
        gen_rq_mem(&r, &m, 8);
        return gen_emit(g, &r, 0, 0, 0, 0);
    } else {
        if (gen_chance(g, 90)) m.base = gen_reg(gen_below(g, 16), 64);
        if (gen_chance(g, 50)) {
            int x = gen_below(g, 16);
            if (x != 4) { m.index = gen_reg(x, 64); m.scale = (uint8_t)(1 << gen_below(g, 4)); }
        }
        m.disp = gen_chance(g, 30) ? 0 : gen_chance(g, 70) ? gen_range(g, -300, 300) : gen_imm(g, 32);
    }
    gen_rq(&r, ZYDIS_MNEMONIC_LEA);
    gen_rq_reg(&r, gen_reg(gen_wreg(g), bits));
    gen_rq_mem(&r, &m, 8);
    return gen_emit(g, &r, 0, 0, 0, 0);
}

static int kind_cond(gen_t *g)
{
    ZydisEncoderRequest r;
    int cc;
    if (gen_chance(g, 55)) {                                 /* cmovcc r, r/m */
        int bits = 16 << gen_below(g, 3);
        if (bits == 16 && gen_chance(g, 60)) bits = 32;
        int dst = gen_wreg(g);
        gen_mem_t m;
        int mem = gen_chance(g, 35) && gen_mem(g, &m);
        if ((cc = gen_cc(g)) < 0) return 0;
        static const ZydisMnemonic cmov[16] = { ZYDIS_MNEMONIC_CMOVO, ZYDIS_MNEMONIC_CMOVNO,
            ZYDIS_MNEMONIC_CMOVB, ZYDIS_MNEMONIC_CMOVNB, ZYDIS_MNEMONIC_CMOVZ, ZYDIS_MNEMONIC_CMOVNZ,
            ZYDIS_MNEMONIC_CMOVBE, ZYDIS_MNEMONIC_CMOVNBE, ZYDIS_MNEMONIC_CMOVS, ZYDIS_MNEMONIC_CMOVNS,
            ZYDIS_MNEMONIC_CMOVP, ZYDIS_MNEMONIC_CMOVNP, ZYDIS_MNEMONIC_CMOVL, ZYDIS_MNEMONIC_CMOVNL,
            ZYDIS_MNEMONIC_CMOVLE, ZYDIS_MNEMONIC_CMOVNLE };
        gen_rq(&r, cmov[cc]);
        gen_rq_reg(&r, gen_reg(dst, bits));
        if (mem) gen_rq_mem(&r, &m, bits / 8);
        else gen_rq_reg(&r, gen_reg(gen_rreg(g), bits));
        return gen_emit(g, &r, gen_cc_reads(cc), 0, 0, 0);
    }
    static const ZydisMnemonic set[16] = { ZYDIS_MNEMONIC_SETO, ZYDIS_MNEMONIC_SETNO,
        ZYDIS_MNEMONIC_SETB, ZYDIS_MNEMONIC_SETNB, ZYDIS_MNEMONIC_SETZ, ZYDIS_MNEMONIC_SETNZ,
        ZYDIS_MNEMONIC_SETBE, ZYDIS_MNEMONIC_SETNBE, ZYDIS_MNEMONIC_SETS, ZYDIS_MNEMONIC_SETNS,
        ZYDIS_MNEMONIC_SETP, ZYDIS_MNEMONIC_SETNP, ZYDIS_MNEMONIC_SETL, ZYDIS_MNEMONIC_SETNL,
        ZYDIS_MNEMONIC_SETLE, ZYDIS_MNEMONIC_SETNLE };
    ZydisEncoderRequest tmp;
    gen_rq(&tmp, ZYDIS_MNEMONIC_NOP);
    gen_rm(g, &tmp, 8, 1, gen_chance(g, 30));                  /* the operand first (a mask may come) */
    if ((cc = gen_cc(g)) < 0) return 0;
    gen_rq(&r, set[cc]);
    r.operands[0] = tmp.operands[0];
    r.operand_count = 1;
    return gen_emit(g, &r, gen_cc_reads(cc), 0, 0, 0);
}

/* gen_mem_locked: [B + disp] aligned to 8 (B is): a locked access never splits a cache
 * line (the kernel punishes split locks). */
static void gen_mem_locked(gen_t *g, gen_mem_t *m)
{
    memset(m, 0, sizeof(*m));
    m->base = gen_reg(g->c->base_reg, 64);
    m->disp = 8 * gen_range(g, -16, 16);
}

static int kind_xchg(gen_t *g)
{
    ZydisEncoderRequest r;
    int bits = gen_bits(g);
    gen_rq(&r, ZYDIS_MNEMONIC_XCHG);
    if (gen_chance(g, 15)) {                                 /* with memory: a locked barrier */
        gen_mem_t m;
        gen_mem_locked(g, &m);
        gen_rq_mem(&r, &m, bits / 8);
    } else {
        gen_rq_reg(&r, gen_sized(g, gen_wreg(g), bits));
    }
    gen_rq_reg(&r, gen_sized(g, gen_wreg(g), bits));
    return gen_emit(g, &r, 0, 0, 0, 0);
}

/* gen_drift: rsp may move by d bytes more. */
static int gen_drift(gen_t *g, int d)
{
    if (g->drift + d > g->drift_max) return 0;
    g->drift += d;
    return 1;
}

static int kind_stack(gen_t *g)
{
    ZydisEncoderRequest r;
    gen_mem_t m;
    int k = gen_below(g, 20), ok;
    g->allow_rsp = 1;
    if (k < 8) {                                         /* push */
        int w = k == 7 ? 2 : 8;
        if (!gen_drift(g, w)) { g->allow_rsp = 0; return 0; }
        gen_rq(&r, ZYDIS_MNEMONIC_PUSH);
        if (k == 7) gen_rq_reg(&r, gen_reg(gen_rreg(g), 16));
        else if (k == 6) gen_rq_imm(&r, gen_imm(g, gen_chance(g, 50) ? 8 : 32));
        else if (k == 5 && gen_mem(g, &m)) gen_rq_mem(&r, &m, 8);
        else gen_rq_reg(&r, gen_reg(gen_below(g, 16), 64));
        ok = gen_emit(g, &r, 0, 0, 0, 0);
    } else if (k < 14) {                                 /* pop */
        int w = k == 13 ? 2 : 8;
        if (!gen_drift(g, w)) { g->allow_rsp = 0; return 0; }
        gen_rq(&r, ZYDIS_MNEMONIC_POP);
        if (k == 13) gen_rq_reg(&r, gen_reg(gen_wreg(g), 16));
        else if (k == 12 && gen_mem(g, &m)) gen_rq_mem(&r, &m, 8);
        else gen_rq_reg(&r, gen_reg(gen_wreg(g), 64));
        ok = gen_emit(g, &r, 0, 0, 0, 0);
    } else if (k < 18) {                                 /* sub/add rsp, lea rsp */
        int d = 8 * gen_range(g, 1, 8);
        if (!gen_drift(g, d)) { g->allow_rsp = 0; return 0; }
        if (k < 16) {
            gen_rq(&r, k == 14 ? ZYDIS_MNEMONIC_SUB : ZYDIS_MNEMONIC_ADD);
            gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
            gen_rq_imm(&r, d);
            ok = gen_emit(g, &r, 0, DT_STATUS, DT_STATUS, 0);
        } else {
            memset(&m, 0, sizeof(m));
            m.base = ZYDIS_REGISTER_RSP;
            m.disp = k == 16 ? -d : d;
            gen_rq(&r, ZYDIS_MNEMONIC_LEA);
            gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
            gen_rq_mem(&r, &m, 8);
            ok = gen_emit(g, &r, 0, 0, 0, 0);
        }
    } else if (k == 18) {                                /* and rsp, -16 */
        if (!gen_drift(g, 15)) { g->allow_rsp = 0; return 0; }
        gen_rq(&r, ZYDIS_MNEMONIC_AND);
        gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
        gen_rq_imm(&r, -16);
        ok = gen_emit(g, &r, 0, DT_STATUS, DT_STATUS & ~DT_AF, 0);
    } else {                                             /* a new frame: rbp = rsp + d */
        g->allow_rsp = 0;
        g->allow_rbp = 1;
        gen_rq(&r, gen_chance(g, 50) ? ZYDIS_MNEMONIC_MOV : ZYDIS_MNEMONIC_LEA);
        gen_rq_reg(&r, ZYDIS_REGISTER_RBP);
        if (r.mnemonic == ZYDIS_MNEMONIC_MOV) gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
        else {
            memset(&m, 0, sizeof(m));
            m.base = ZYDIS_REGISTER_RSP;
            m.disp = 8 * gen_range(g, -8, 8);
            gen_rq_mem(&r, &m, 8);
        }
        ok = gen_emit(g, &r, 0, 0, 0, 0);
    }
    g->allow_rsp = g->allow_rbp = 0;
    return ok;
}

static int kind_misc(gen_t *g)
{
    static const uint8_t nops[][7] = { { 1, 0x90 }, { 2, 0x66, 0x90 }, { 3, 0x0f, 0x1f, 0x00 },
        { 5, 0x0f, 0x1f, 0x44, 0x00, 0x00 }, { 6, 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 } };
    static const uint8_t conv[][4] = { { 2, 0x66, 0x98 }, { 1, 0x98 }, { 2, 0x48, 0x98 },
        { 2, 0x66, 0x99 }, { 1, 0x99 }, { 2, 0x48, 0x99 } };   /* cbw cwde cdqe cwd cdq cqo */
    int k = gen_below(g, 8), id = gen_wreg(g);
    uint8_t b[4];
    ZydisEncoderRequest r;
    switch (k) {
    case 0: {
        const uint8_t *n = nops[gen_below(g, 5)];
        return gen_raw(g, n + 1, n[0], 0, 0, 0);
    }
    case 1: {
        const uint8_t *c = conv[gen_below(g, 6)];
        return gen_raw(g, c + 1, c[0], 0, 0, 0);
    }
    case 2:                                              /* mov r64, itself: a no-op */
    case 3:                                              /* mov r32, itself: zero-extends */
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);
        gen_rq_reg(&r, gen_reg(id, k == 2 ? 64 : 32));
        gen_rq_reg(&r, gen_reg(id, k == 2 ? 64 : 32));
        return gen_emit(g, &r, 0, 0, 0, 0);
    case 4: {                                            /* xchg r32, itself (87 /r): zero-extends */
        int n = 0;
        if (id >= 8) b[n++] = 0x45;
        b[n++] = 0x87;
        b[n++] = (uint8_t)(0xc0 | (id & 7) << 3 | (id & 7));
        return gen_raw(g, b, n, 0, 0, 0);
    }
    case 5:                                              /* bswap */
        gen_rq(&r, ZYDIS_MNEMONIC_BSWAP);
        gen_rq_reg(&r, gen_reg(id, gen_chance(g, 50) ? 32 : 64));
        return gen_emit(g, &r, 0, 0, 0, 0);
    case 6: {                                            /* stc / clc / cmc */
        static const uint8_t f[] = { 0xf9, 0xf8, 0xf5 };
        int j = gen_below(g, 3);
        if (j == 2 && !(g->def & DT_CF)) j = 0;
        return gen_raw(g, &f[j], 1, j == 2 ? DT_CF : 0, DT_CF, DT_CF);
    }
    default: {                                           /* barriers: lock op, mfence */
        static const ZydisMnemonic lk[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_OR,
                                            ZYDIS_MNEMONIC_XADD, ZYDIS_MNEMONIC_SUB };
        if (gen_chance(g, 25)) {
            static const uint8_t mf[] = { 0x0f, 0xae, 0xf0 };
            return gen_raw(g, mf, 3, 0, 0, 0);
        }
        int j = gen_below(g, 4), bits = gen_bits(g);
        gen_mem_t m;
        gen_mem_locked(g, &m);
        gen_rq(&r, lk[j]);
        r.prefixes = ZYDIS_ATTRIB_HAS_LOCK;
        gen_rq_mem(&r, &m, bits / 8);
        gen_rq_reg(&r, gen_sized(g, j == 2 ? gen_wreg(g) : gen_rreg(g), bits));
        return gen_emit(g, &r, 0, DT_STATUS, j == 1 ? DT_STATUS & ~DT_AF : DT_STATUS, 0);
    }
    }
}

/* -O0 style: load a slot, work on it, store it back (rle and promotion material). */
static int kind_slot_rmw(gen_t *g)
{
    ZydisEncoderRequest r;
    gen_mem_t m;
    int bits = gen_chance(g, 50) ? 32 : 64, id = gen_wreg(g);
    memset(&m, 0, sizeof(m));
    m.base = gen_chance(g, 60) ? ZYDIS_REGISTER_RBP : gen_chance(g, 50) ? ZYDIS_REGISTER_RSP
                                                                : gen_reg(g->c->base_reg, 64);
    m.disp = m.base == ZYDIS_REGISTER_RBP ? g->slot_rbp[gen_below(g, DT_SLOTS)]
             : m.base == ZYDIS_REGISTER_RSP ? g->slot_rsp[gen_below(g, DT_SLOTS)]
                                            : g->slot_b[gen_below(g, DT_SLOTS)];
    gen_rq(&r, ZYDIS_MNEMONIC_MOV);
    gen_rq_reg(&r, gen_reg(id, bits));
    gen_rq_mem(&r, &m, bits / 8);
    if (!gen_emit(g, &r, 0, 0, 0, 0)) return 0;
    static const ZydisMnemonic ops[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_SUB,
                                         ZYDIS_MNEMONIC_XOR, ZYDIS_MNEMONIC_IMUL };
    int k = gen_below(g, 4);
    gen_rq(&r, ops[k]);
    gen_rq_reg(&r, gen_reg(id, bits));
    if (k == 3) gen_rq_reg(&r, gen_reg(id, bits));       /* imul r, r, imm / imul r, r */
    if (gen_chance(g, 50)) gen_rq_imm(&r, gen_imm(g, 8));
    else if (k != 3) gen_rq_reg(&r, gen_reg(gen_rreg(g), bits));
    gen_emit(g, &r, 0, DT_STATUS, k == 3 ? DT_CF | DT_OF : k == 2 ? DT_STATUS & ~DT_AF : DT_STATUS, 0);
    gen_rq(&r, ZYDIS_MNEMONIC_MOV);
    gen_rq_mem(&r, &m, bits / 8);
    gen_rq_reg(&r, gen_reg(id, bits));
    return gen_emit(g, &r, 0, 0, 0, 0);
}

static int gen_branch(gen_t *g, int cmp);

/* Dead values: a result overwritten before any use (dce material). The first instruction
 * often sets only some flags (inc/dec: not CF; rotates: CF and OF; stc/clc), so whether it
 * may go depends on which flags stay live, up to the exits that follow. */
static int kind_dead(gen_t *g)
{
    ZydisEncoderRequest r;
    int id = gen_wreg(g), k = gen_below(g, 6), bits = gen_chance(g, 50) ? 64 : 32;
    static const ZydisMnemonic first[] = { ZYDIS_MNEMONIC_MOV, ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_INC,
                                           ZYDIS_MNEMONIC_DEC, ZYDIS_MNEMONIC_ROL, ZYDIS_MNEMONIC_NEG };
    static const uint32_t aff[] = { 0, DT_STATUS, DT_STATUS & ~DT_CF, DT_STATUS & ~DT_CF,
                                    DT_CF | DT_OF, DT_STATUS };
    gen_rq(&r, first[k]);
    gen_rq_reg(&r, gen_reg(id, bits));
    if (k < 2) gen_rq_imm(&r, gen_imm(g, 32));
    if (k == 4) gen_rq_imm(&r, 1);
    if (!gen_emit(g, &r, 0, aff[k], aff[k], 0)) return 0;
    if (gen_chance(g, 25)) {                                 /* a flag of its own, maybe dead */
        static const uint8_t f[] = { 0xf9, 0xf8 };
        gen_raw(g, &f[gen_below(g, 2)], 1, 0, DT_CF, DT_CF);
    }
    gen_rq(&r, gen_chance(g, 50) ? ZYDIS_MNEMONIC_MOV : ZYDIS_MNEMONIC_LEA);
    gen_rq_reg(&r, gen_reg(id, bits));
    if (r.mnemonic == ZYDIS_MNEMONIC_MOV) {
        gen_rq_reg(&r, gen_reg(gen_rreg(g), bits));
    } else {
        gen_mem_t m;
        memset(&m, 0, sizeof(m));
        m.base = gen_reg(gen_rreg(g), 64);
        m.disp = gen_range(g, -8, 8);
        gen_rq_mem(&r, &m, 8);
    }
    if (!gen_emit(g, &r, 0, 0, 0, 0)) return 0;
    if (gen_chance(g, 40)) gen_branch(g, 0);                   /* its flags reach an exit */
    return 1;
}

/* gen_transfer: append a forward control transfer of `kind` (cc: its condition or opcode)
 * landing `min` instructions on or later; an unconditional one ends the fall-through. */
static int gen_transfer(gen_t *g, int kind, int cc, int min)
{
    dt_insn_t *i = gen_slot(g);
    if (!i) return 0;
    i->kind = (uint8_t)kind;
    i->cc = (uint8_t)cc;
    i->near = (uint8_t)gen_chance(g, 25);
    i->target = -1;
    g->pend[g->npend].at = g->c->n;
    g->pend[g->npend].min = g->c->n + min;
    g->pend[g->npend++].def = g->def;
    g->c->n++;
    if (kind == DT_JMP || kind == DT_CALL) g->reachable = 0;
    return 1;
}

/* A forward conditional branch, often (with cmp) right after a compare; or a forward jump. */
static int gen_branch(gen_t *g, int cmp)
{
    if (cmp) {
        ZydisEncoderRequest r;
        int bits = gen_bits(g);
        gen_rq(&r, gen_chance(g, 70) ? ZYDIS_MNEMONIC_CMP : ZYDIS_MNEMONIC_TEST);
        gen_rm(g, &r, bits, 0, gen_chance(g, 30));
        if (gen_chance(g, 50)) gen_rq_imm(&r, gen_chance(g, 50) ? gen_range(g, -2, 2) : gen_imm(g, bits));
        else gen_rq_reg(&r, gen_sized(g, gen_rreg(g), bits));
        gen_emit(g, &r, 0, DT_STATUS,
               r.mnemonic == ZYDIS_MNEMONIC_TEST ? DT_STATUS & ~DT_AF : DT_STATUS, 0);
    }
    int jmp = gen_chance(g, 8), cc = gen_cc(g);
    if (!jmp && cc < 0) return 0;
    return gen_transfer(g, jmp ? DT_JMP : DT_JCC, jmp ? 0 : cc,
                        1 + (gen_chance(g, 70) ? gen_below(g, 4) : gen_below(g, 16)));
}

static int kind_branch(gen_t *g) { return gen_branch(g, gen_chance(g, 55)); }

/* A forward call: the app return address is pushed and stays (the callee never returns). */
static int kind_call(gen_t *g)
{
    if (!gen_drift(g, 8)) return 0;
    return gen_transfer(g, DT_CALL, 0, 1 + gen_below(g, 6));
}

/* loopne/loope/loop (rcx counts down) or jrcxz, rel8 only: it skips one group at most. */
static int kind_loopx(gen_t *g)
{
    int op = 0xe0 + gen_below(g, 4);
    if (op != 0xe3 && !(g->wr & 2)) op = 0xe3;            /* loop* write rcx */
    if (op < 0xe2 && !(g->def & DT_ZF)) op = 0xe2;        /* loope/loopne read ZF */
    if (!gen_transfer(g, DT_LOOP, op, 2)) return 0;
    g->c->insn[g->c->n - 1].near = (uint8_t)gen_chance(g, 25);   /* 0x67: ecx */
    return 1;
}

typedef int (*gen_kind_fn)(gen_t *g);

static const struct { gen_kind_fn fn; int weight; } gen_kinds[] = {
    { kind_alu, 22 }, { kind_unary, 5 }, { kind_mul, 5 }, { kind_shift, 10 }, { kind_mov, 16 }, { kind_movx, 5 },
    { kind_lea, 5 }, { kind_cond, 7 }, { kind_xchg, 2 }, { kind_stack, 7 }, { kind_misc, 5 }, { kind_slot_rmw, 4 },
    { kind_dead, 3 }, { kind_branch, 10 }, { kind_call, 1 }, { kind_loopx, 2 },
};

/* gen_one: one group. Where a branch lands, often one that reads flags first: the flags a
 * side exit leaves must be the native ones, and native code after it should look. */
void gen_one(gen_t *g)
{
    int total = 0;
    for (unsigned k = 0; k < sizeof(gen_kinds) / sizeof(gen_kinds[0]); k++) total += gen_kinds[k].weight;
    for (int tries = 0; tries < 16; tries++) {
        int w = gen_below(g, total);
        unsigned k = 0;
        while (w >= gen_kinds[k].weight) w -= gen_kinds[k++].weight;
        if (gen_label(g) && gen_chance(g, 50) && kind_cond(g)) return;
        if (gen_kinds[k].fn(g)) return;
    }
}

