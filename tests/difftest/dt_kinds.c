/* dt_kinds.c — the differential tester's instruction kinds: each appends one group (a few
 * instructions no branch lands inside) of one kind: ALU, unary, multiplies, shifts and
 * rotates, moves, extensions, lea, cmov/setcc, xchg, push/pop and stack adjustments,
 * no-op forms and conversions, flag instructions, locked barriers, -O0 style slot updates,
 * dead values, control transfers (forward jcc/jmp/call, loop*, `jmp *reg`:
 * dt_kinds_branch.c), -O0 style scalar-double code (kind_sse, dt_kinds_sse.c; its share is
 * per case), and -O0 style calls that return (kind_func: the callee's body from
 * gen_callee_kinds). Weights in gen_kinds.
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

/* kind_widen: -O0's widening of an int index, `mov r/m32,%eax; cltq` (the fuse pass makes
 * it one movslq); only while rax may be written. */
static int kind_widen(gen_t *g)
{
    static const uint8_t cdqe[] = { 0x48, 0x98 };
    ZydisEncoderRequest r;
    if (!(g->wr & 1)) return 0;
    gen_rq(&r, ZYDIS_MNEMONIC_MOV);
    gen_rq_reg(&r, ZYDIS_REGISTER_EAX);
    gen_rm(g, &r, 32, 0, gen_chance(g, 60));
    if (!gen_emit(g, &r, 0, 0, 0, 0)) return 0;
    return gen_raw(g, cdqe, 2, 0, 0, 0);
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
    if (g->in_callee && g->c->base_in_stack) {           /* B might reach the return address */
        m->base = ZYDIS_REGISTER_RIP;
        m->disp = (int64_t)(g->env->scratch + 8 * gen_range(g, 0, DT_SCRATCH / 8 - 1));
        return;
    }
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

int gen_drift(gen_t *g, int d)
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

/* gen_slot_update: -O0 style update of slot m (`bits` wide): load it, work on the value,
 * store it back; or (direct) one read-modify-write of the slot (`add dword [rbp-8], 1`).
 * Rle and promotion material. */
static int gen_slot_update(gen_t *g, const gen_mem_t *m, int bits, int direct)
{
    ZydisEncoderRequest r;
    if (direct) {
        static const ZydisMnemonic rmw[] = { ZYDIS_MNEMONIC_ADD, ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_AND,
                                             ZYDIS_MNEMONIC_OR, ZYDIS_MNEMONIC_XOR };
        int k = gen_below(g, 5);
        gen_rq(&r, rmw[k]);
        gen_rq_mem(&r, m, bits / 8);
        if (gen_chance(g, 60)) gen_rq_imm(&r, gen_chance(g, 50) ? 1 : gen_imm(g, 8));
        else gen_rq_reg(&r, gen_reg(gen_rreg(g), bits));
        return gen_emit(g, &r, 0, DT_STATUS, k >= 2 ? DT_STATUS & ~DT_AF : DT_STATUS, 0);
    }
    int id = gen_wreg(g);
    gen_rq(&r, ZYDIS_MNEMONIC_MOV);
    gen_rq_reg(&r, gen_reg(id, bits));
    gen_rq_mem(&r, m, bits / 8);
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
    gen_rq_mem(&r, m, bits / 8);
    gen_rq_reg(&r, gen_reg(id, bits));
    return gen_emit(g, &r, 0, 0, 0, 0);
}

/* -O0 style: load a slot, work on it, store it back (in a callee: one of its own slots). */
static int kind_slot_rmw(gen_t *g)
{
    gen_mem_t m;
    int bits = gen_chance(g, 50) ? 32 : 64;
    memset(&m, 0, sizeof(m));
    m.base = gen_chance(g, 60) ? ZYDIS_REGISTER_RBP : gen_chance(g, 50) ? ZYDIS_REGISTER_RSP
                                                                : gen_reg(g->c->base_reg, 64);
    if (g->in_callee && g->c->base_in_stack && m.base != ZYDIS_REGISTER_RSP) m.base = ZYDIS_REGISTER_RBP;
    if (g->in_callee && (m.base == ZYDIS_REGISTER_RBP || m.base == ZYDIS_REGISTER_RSP))
        m.disp = g->slot_callee[gen_below(g, DT_SLOTS)] + (m.base == ZYDIS_REGISTER_RSP ? g->frame : 0);
    else
        m.disp = m.base == ZYDIS_REGISTER_RBP ? g->slot_rbp[gen_below(g, DT_SLOTS)]
                 : m.base == ZYDIS_REGISTER_RSP ? g->slot_rsp[gen_below(g, DT_SLOTS)]
                                                : g->slot_b[gen_below(g, DT_SLOTS)];
    return gen_slot_update(g, &m, bits, 0);
}

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

typedef int (*gen_kind_fn)(gen_t *g);
typedef struct { gen_kind_fn fn; int weight; } gen_kind_t;

/* gen_pick_kind: one group of a kind of table ks (weights), or (the case's sse_pct
 * percent) of kind_sse, tried up to 16 times. Where a branch lands, often one that reads
 * flags first: the flags a side exit leaves must be the native ones, and native code after
 * it should look. */
static void gen_pick_kind(gen_t *g, const gen_kind_t *ks, int nk)
{
    int total = 0;
    for (int k = 0; k < nk; k++) total += ks[k].weight;
    for (int tries = 0; tries < 16; tries++) {
        int w = gen_below(g, total), k = 0;
        while (w >= ks[k].weight) w -= ks[k++].weight;
        if (gen_label(g) && gen_chance(g, 50) && kind_cond(g)) return;
        if (g->sse_pct && gen_chance(g, g->sse_pct)) {
            if (kind_sse(g)) return;
            continue;
        }
        if (ks[k].fn(g)) return;
    }
}

/* ---- calls that return: -O0 style functions ---- */

/* gen_caller_slot: an update of one of the caller's [rbp + d] slots; each slot keeps one
 * size (so promotion may take it): the ones before a call and after its return meet. */
static int gen_caller_slot(gen_t *g)
{
    gen_mem_t m;
    int k = gen_below(g, DT_SLOTS);
    memset(&m, 0, sizeof(m));
    m.base = ZYDIS_REGISTER_RBP;
    m.disp = g->slot_rbp[k];
    return gen_slot_update(g, &m, k < DT_SLOTS / 2 ? 32 : 64, gen_chance(g, 30));
}

/* A callee's slot, -O0 style: [rbp - d] (sometimes the same cell as [rsp + frame - d]),
 * one size per slot; 4-byte ones may also sit at [rbp-4]. */
static void gen_callee_mem(gen_t *g, gen_mem_t *m, int *bits)
{
    int k = gen_below(g, DT_SLOTS), by_rsp = gen_chance(g, 25);
    memset(m, 0, sizeof(*m));
    *bits = k < DT_SLOTS / 2 ? 32 : 64;
    m->base = by_rsp ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_RBP;
    m->disp = (*bits == 32 && gen_chance(g, 20) ? -4 : g->slot_callee[k]) + (by_rsp ? g->frame : 0);
}

/* The callee's own slot work: an update, a spill of a register (`mov [rbp-4], edi`) or a
 * load (`mov eax, [rbp-4]`). */
static int kind_callee_slot(gen_t *g)
{
    ZydisEncoderRequest r;
    gen_mem_t m;
    int bits, k = gen_below(g, 10);
    gen_callee_mem(g, &m, &bits);
    if (k < 5) return gen_slot_update(g, &m, bits, k < 2);
    gen_rq(&r, ZYDIS_MNEMONIC_MOV);
    if (k < 8) {
        gen_rq_mem(&r, &m, bits / 8);
        gen_rq_reg(&r, gen_reg(gen_rreg(g), bits));
    } else {
        gen_rq_reg(&r, gen_reg(gen_wreg(g), bits));
        gen_rq_mem(&r, &m, bits / 8);
    }
    return gen_emit(g, &r, 0, 0, 0, 0);
}

/* What a callee's body is made of: nothing that moves rsp or rbp, no calls; its forward
 * branches land inside it (kind_func binds them before the epilogue). */
static const gen_kind_t gen_callee_kinds[] = {
    { kind_alu, 16 }, { kind_unary, 3 }, { kind_mul, 3 }, { kind_shift, 6 }, { kind_mov, 12 }, { kind_movx, 3 },
    { kind_lea, 3 }, { kind_cond, 5 }, { kind_xchg, 1 }, { kind_misc, 3 }, { kind_slot_rmw, 4 },
    { kind_callee_slot, 20 }, { kind_dead, 2 }, { kind_branch, 6 }, { kind_loopx, 1 },
};

/* How a callee treats its return address: leaves it alone (the retpair pass may drop the
 * ret's check); stores the same value back (`mov rX, [rbp+8]; mov [rbp+8], rX`: the check
 * stays and passes); stores the address of the instruction after the call's `jmp AFTER`
 * (the ret goes there: the check stays and passes); stores AFTER or R as a bit of a
 * register says (`lea a, [rip+AFTER]; lea b, [rip+R]; test r, bit; cmovcc a, b`: states
 * return to different places, so the check must stay: it fails for some, which leave
 * through the ret's lookup); or returns through a copy pushed after the epilogue (`push
 * qword [rsp]; ret`: the original stays on the stack, rsp ends 8 lower). */
enum { FN_PLAIN, FN_SAME, FN_AFTER, FN_COND, FN_COPY };

/* kind_func: a balanced -O0 style call that returns, in one group:
 *         [push arg]            0-2 stack arguments (a caller slot update before)
 *         call F
 *     R:  [lea r, [r+d]]        (what a return to AFTER skips)
 *         jmp AFTER
 *     F:  push rbp; mov rbp, rsp; [sub rsp, 16n]
 *         body: the callee's slot spills, loads and updates, the stack arguments at
 *         [rbp+16..], other kinds (gen_callee_kinds, memory by gen_mem's callee rules) and
 *         forward branches inside the callee
 *         [the return address rewritten: FN_SAME, FN_AFTER]
 *         leave | mov rsp, rbp; pop rbp | add rsp, 16n; pop rbp | lea rsp, [rbp]; pop rbp
 *         [push qword [rsp]: FN_COPY]
 *         ret | ret 8*nargs
 *     AFTER: [add rsp, 8*nargs]; (a caller slot update)
 * F is reached only by the call; branches from before the group land after it; on any
 * failure to emit a part that keeps the stack balanced, the group is taken back whole.
 * rsp goes at most 8*2 + 16 + 32 + 8 below where it was (not counted in drift: it comes
 * back), FN_COPY leaves it 8 lower (counted). */
static int kind_func(gen_t *g)
{
    static gen_t saved;
    static struct { int at, min; uint32_t def; } outer[DT_MAX_INSNS];
    dt_case_t *c = g->c;
    if (g->in_callee || c->n + 56 > DT_MAX_INSNS - 4) return 0;
    for (int k = 0; k < g->npend; k++)                       /* a loop* (rel8) cannot jump over it */
        if (c->insn[g->pend[k].at].kind == DT_LOOP) return 0;
    int nargs = gen_chance(g, 30) ? gen_range(g, 1, 2) : 0;
    int frame = gen_chance(g, 50) ? 16 * gen_range(g, 1, 2) : 0;
    int callee_pops = nargs && gen_chance(g, 50);
    int how = gen_below(g, 100), n0 = c->n;
    int mode = how < 56 ? FN_PLAIN : how < 66 ? FN_SAME : how < 78 ? FN_AFTER : how < 90 ? FN_COND : FN_COPY;
    if (g->drift + 8 * nargs + 24 + frame > g->drift_max + 80) return 0;
    saved = *g;
    if (mode == FN_COPY && !gen_drift(g, 8)) mode = FN_PLAIN;
    ZydisEncoderRequest r;
    gen_mem_t m;
    dt_insn_t *i;
    int ok = 1;
    if (gen_chance(g, 60)) gen_caller_slot(g);
    g->allow_rsp = 1;
    for (int j = 0; j < nargs && ok; j++) {                  /* stack arguments */
        gen_rq(&r, ZYDIS_MNEMONIC_PUSH);
        if (gen_chance(g, 40)) gen_rq_imm(&r, gen_imm(g, gen_chance(g, 50) ? 8 : 32));
        else gen_rq_reg(&r, gen_reg(gen_rreg(g), 64));
        ok = gen_emit(g, &r, 0, 0, 0, 0);
    }
    g->allow_rsp = 0;
    int at_call = c->n, at_r = c->n + 1;
    if (!ok || !(i = gen_slot(g))) goto undo;                /* call F (F: set below) */
    i->kind = DT_CALL;
    c->n++;
    if (gen_chance(g, 70)) {                                 /* R: something a return to AFTER skips */
        memset(&m, 0, sizeof(m));
        int id = gen_wreg(g);
        m.base = gen_reg(id, 64);
        m.disp = gen_chance(g, 50) ? gen_range(g, 1, 127) : -gen_range(g, 1, 128);
        gen_rq(&r, ZYDIS_MNEMONIC_LEA);
        gen_rq_reg(&r, gen_reg(id, 64));
        gen_rq_mem(&r, &m, 8);
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
    }
    int at_j = c->n;
    if (!(i = gen_slot(g))) goto undo;                       /* R: jmp AFTER (set below) */
    i->kind = DT_JMP;
    i->near = (uint8_t)gen_chance(g, 25);
    c->n++;
    c->insn[at_call].target = c->n;
    /* F: the prologue */
    static const uint8_t push_rbp[] = { 0x55 }, mov_rbp_rsp[2][3] = { { 0x48, 0x89, 0xe5 }, { 0x48, 0x8b, 0xec } };
    g->allow_rsp = g->allow_rbp = 1;
    ok = gen_raw(g, push_rbp, 1, 0, 0, 0) && gen_raw(g, mov_rbp_rsp[gen_chance(g, 20)], 3, 0, 0, 0);
    if (ok && frame) {
        gen_rq(&r, ZYDIS_MNEMONIC_SUB);
        gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
        gen_rq_imm(&r, frame);
        ok = gen_emit(g, &r, 0, DT_STATUS, DT_STATUS, 0);
    }
    g->allow_rsp = g->allow_rbp = 0;
    if (!ok) goto undo;
    /* the body; the caller's pending branches wait (none lands inside the callee) */
    int nouter = g->npend;
    memcpy(outer, g->pend, sizeof(outer[0]) * (size_t)nouter);
    g->npend = 0;
    g->in_callee = 1;
    g->frame = frame;
    for (int j = gen_below(g, 3); j > 0; j--) {              /* argument registers spilled */
        int bits;
        gen_callee_mem(g, &m, &bits);
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);
        gen_rq_mem(&r, &m, bits / 8);
        gen_rq_reg(&r, gen_reg(gen_rreg(g), bits));
        gen_emit(g, &r, 0, 0, 0, 0);
    }
    for (int j = 0; j < nargs; j++) {                        /* stack arguments: [rbp+16+8j] */
        if (gen_chance(g, 40)) continue;
        int bits = gen_chance(g, 50) ? 32 : 64;
        memset(&m, 0, sizeof(m));
        m.base = ZYDIS_REGISTER_RBP;
        m.disp = 16 + 8 * j;
        if (gen_chance(g, 25)) {                             /* -O0 writes its parameters too */
            gen_slot_update(g, &m, bits, 1);
            continue;
        }
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);
        gen_rq_reg(&r, gen_reg(gen_wreg(g), bits));
        gen_rq_mem(&r, &m, bits / 8);
        gen_emit(g, &r, 0, 0, 0, 0);
    }
    for (int j = gen_range(g, 1, 6); j > 0 && c->n + 24 < DT_MAX_INSNS - 4; j--)
        gen_pick_kind(g, gen_callee_kinds, (int)(sizeof(gen_callee_kinds) / sizeof(gen_callee_kinds[0])));
    for (int k = 0; k < g->npend; k++) g->pend[k].min = c->n;   /* the callee's branches land here */
    gen_label(g);
    g->in_callee = 0;
    memcpy(g->pend + g->npend, outer, sizeof(outer[0]) * (size_t)nouter);
    g->npend += nouter;
    /* the return address: [rbp+8], or the same cell as [rsp+frame+8] */
    int fix = -1;
    memset(&m, 0, sizeof(m));
    int by_rsp = gen_chance(g, 30);
    m.base = by_rsp ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_RBP;
    m.disp = by_rsp ? frame + 8 : 8;
    if (mode == FN_SAME || (mode == FN_AFTER && gen_chance(g, 50))) {
        int id = gen_wreg(g);                                /* a register: the same value, or */
        gen_rq(&r, mode == FN_SAME ? ZYDIS_MNEMONIC_MOV : ZYDIS_MNEMONIC_LEA);   /* lea [rip+AFTER] */
        gen_rq_reg(&r, gen_reg(id, 64));
        if (mode == FN_SAME) {
            gen_rq_mem(&r, &m, 8);
            m.base = gen_chance(g, 50) ? ZYDIS_REGISTER_RSP : ZYDIS_REGISTER_RBP;   /* either view */
            m.disp = m.base == ZYDIS_REGISTER_RSP ? frame + 8 : 8;
        } else {
            gen_mem_t a;
            memset(&a, 0, sizeof(a));
            a.base = ZYDIS_REGISTER_RIP;
            a.disp = (int64_t)g->env->code;                  /* placeholder: set at layout */
            gen_rq_mem(&r, &a, 8);
        }
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
        if (mode == FN_AFTER) fix = c->n - 1;
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);
        gen_rq_mem(&r, &m, 8);
        gen_rq_reg(&r, gen_reg(id, 64));
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
    } else if (mode == FN_COND) {
        gen_mem_t a;
        memset(&a, 0, sizeof(a));
        a.base = ZYDIS_REGISTER_RIP;
        a.disp = (int64_t)g->env->code;                      /* placeholders: set at layout */
        int ra = gen_wreg(g), rb, rz;
        g->wr &= ~(1u << ra);
        rb = gen_wreg(g);
        g->wr |= 1u << ra;
        do rz = gen_below(g, 16); while (rz == ra || rz == rb || rz == 4);
        gen_rq(&r, ZYDIS_MNEMONIC_LEA);                      /* lea ra, [rip+AFTER] */
        gen_rq_reg(&r, gen_reg(ra, 64));
        gen_rq_mem(&r, &a, 8);
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
        fix = c->n - 1;
        gen_rq(&r, ZYDIS_MNEMONIC_LEA);                      /* lea rb, [rip+R] */
        gen_rq_reg(&r, gen_reg(rb, 64));
        gen_rq_mem(&r, &a, 8);
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
        c->insn[c->n - 1].addr_of = at_r + 1;
        gen_rq(&r, ZYDIS_MNEMONIC_TEST);                     /* test rz, 1 << bit */
        gen_rq_reg(&r, gen_reg(rz, 64));
        gen_rq_imm(&r, 1ll << gen_below(g, 31));
        if (!gen_emit(g, &r, 0, DT_STATUS, DT_STATUS & ~DT_AF, 0)) goto undo;
        gen_rq(&r, gen_chance(g, 50) ? ZYDIS_MNEMONIC_CMOVZ : ZYDIS_MNEMONIC_CMOVNZ);
        gen_rq_reg(&r, gen_reg(ra, 64));
        gen_rq_reg(&r, gen_reg(rb, 64));
        if (!gen_emit(g, &r, DT_ZF, 0, 0, 0)) goto undo;
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);
        gen_rq_mem(&r, &m, 8);
        gen_rq_reg(&r, gen_reg(ra, 64));
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
    } else if (mode == FN_AFTER) {
        if ((uint64_t)g->env->code + DT_CODE_SIZE >= 0x80000000ull) goto undo;   /* no imm32 */
        gen_rq(&r, ZYDIS_MNEMONIC_MOV);                      /* mov qword [rbp+8], AFTER */
        gen_rq_mem(&r, &m, 8);
        gen_rq_imm(&r, 0x10000000);                          /* placeholder: set at layout */
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
        fix = c->n - 1;
    }
    /* the epilogue */
    static const uint8_t leave[] = { 0xc9 }, pop_rbp[] = { 0x5d }, mov_rsp_rbp[] = { 0x48, 0x89, 0xec },
                         lea_rsp_rbp[] = { 0x48, 0x8d, 0x65, 0x00 }, push_ret[] = { 0xff, 0x34, 0x24 };
    g->allow_rsp = g->allow_rbp = 1;
    switch (gen_below(g, 4)) {
    case 0:
        ok = gen_raw(g, leave, 1, 0, 0, 0);
        break;
    case 1:
        ok = gen_raw(g, mov_rsp_rbp, 3, 0, 0, 0) && gen_raw(g, pop_rbp, 1, 0, 0, 0);
        break;
    case 2:
        if (frame) {
            gen_rq(&r, ZYDIS_MNEMONIC_ADD);
            gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
            gen_rq_imm(&r, frame);
            ok = gen_emit(g, &r, 0, DT_STATUS, DT_STATUS, 0);
        }
        ok = ok && gen_raw(g, pop_rbp, 1, 0, 0, 0);
        break;
    default:
        ok = gen_raw(g, lea_rsp_rbp, 4, 0, 0, 0) && gen_raw(g, pop_rbp, 1, 0, 0, 0);
        break;
    }
    if (ok && mode == FN_COPY) ok = gen_raw(g, push_ret, 3, 0, 0, 0);
    g->allow_rsp = g->allow_rbp = 0;
    if (!ok || !(i = gen_slot(g))) goto undo;                /* ret */
    i->kind = DT_RET;
    i->ret_pop = (uint16_t)(callee_pops ? 8 * nargs : 0);
    i->target = mode == FN_AFTER ? c->n + 1 : at_r;
    c->n++;
    for (int k = at_r; k <= at_j; k++) c->insn[k].fdef = g->def;   /* R runs after the return */
    c->insn[at_j].target = c->n;
    if (fix >= 0) c->insn[fix].addr_of = c->n + 1;
    /* AFTER */
    if (nargs && !callee_pops) {                             /* the caller pops the arguments */
        g->allow_rsp = 1;
        if (gen_chance(g, 50)) {
            gen_rq(&r, ZYDIS_MNEMONIC_ADD);
            gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
            gen_rq_imm(&r, 8 * nargs);
            ok = gen_emit(g, &r, 0, DT_STATUS, DT_STATUS, 0);
        } else {
            memset(&m, 0, sizeof(m));
            m.base = ZYDIS_REGISTER_RSP;
            m.disp = 8 * nargs;
            gen_rq(&r, ZYDIS_MNEMONIC_LEA);
            gen_rq_reg(&r, ZYDIS_REGISTER_RSP);
            gen_rq_mem(&r, &m, 8);
            ok = gen_emit(g, &r, 0, 0, 0, 0);
        }
        g->allow_rsp = 0;
        if (!ok) goto undo;
    }
    g->reachable = 1;
    c->funcs++;
    if (gen_chance(g, 70)) gen_caller_slot(g);
    return 1;
undo: {
        gen_rng_t rng = g->rng;                              /* (the next try draws anew) */
        *g = saved;
        g->rng = rng;
        c->n = n0;
        return 0;
    }
}

static const gen_kind_t gen_kinds[] = {
    { kind_alu, 22 }, { kind_unary, 5 }, { kind_mul, 5 }, { kind_shift, 10 }, { kind_mov, 16 }, { kind_movx, 5 },
    { kind_lea, 5 }, { kind_widen, 3 }, { kind_cond, 7 }, { kind_xchg, 2 }, { kind_stack, 7 }, { kind_misc, 5 }, { kind_slot_rmw, 4 },
    { kind_dead, 3 }, { kind_branch, 10 }, { kind_call, 1 }, { kind_loopx, 2 }, { kind_func, 4 }, { kind_ijmp, 3 },
};

/* gen_one_func: a kind_func group here (another kind if it does not fit). */
void gen_one_func(gen_t *g)
{
    gen_label(g);
    if (!kind_func(g)) gen_one(g);
}

/* gen_one: one group of a random kind at the current point. */
void gen_one(gen_t *g)
{
    gen_pick_kind(g, gen_kinds, (int)(sizeof(gen_kinds) / sizeof(gen_kinds[0])));
}
