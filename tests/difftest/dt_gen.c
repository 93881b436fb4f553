/* dt_gen.c — the differential tester's generator: a deterministic random instruction
 * sequence per seed (groups of the kinds in dt_kinds.c, sometimes inside a counted loop),
 * laid out at the app address; the initial states and memory it runs from; the recorded
 * paths trace_build gets.
 * Invariants:
 * - memory is addressed only through B (the scratch pointer), rsp, rbp, an index register
 *   masked right before (`and idx32, 63` in the same group), RIP-relative or [disp32] to the
 *   scratch buffer; B and the loop counter are never written, rsp and rbp only by the
 *   instructions that keep them in the stack area (rsp moves at most drift_max bytes);
 *   every instruction is decoded again and refused if it writes another register than the
 *   ones allowed.
 * - flags: `def` is the set of status flags defined on every path to the current point;
 *   an instruction that reads flags is only generated when they are all in it (so native
 *   results never depend on undefined flags); flags_end is that set at E.
 * - branches only go forward (the latch is the one backward branch), and land only at the
 *   start of a group (never between an index mask and the access that uses it); so do
 *   kind_ijmp's `jmp *reg` (its targets: the addr_of of its leas, bound like a jmp's).
 * - vector state: any of xmm0..15 may be written (scalar-double code, kind_sse); no
 *   instruction loads MXCSR (the default: exceptions masked, round to nearest; only its
 *   sticky flags change), so floating point results are deterministic; VEX forms only
 *   where the CPU has AVX. */
#include "dt_gen_int.h"

/* An interesting 64-bit value: edges of every width, small numbers, pointers, noise. */
uint64_t gen_value(gen_t *g)
{
    static const uint64_t edges[] = {
        0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff,
        0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffff00000000ull,
    };
    switch (gen_below(g, 14)) {
    case 0: return 0;
    case 1: return 1;
    case 2: return ~0ull;
    case 3: return (uint64_t)gen_below(g, 64);
    case 4: return (uint64_t)-(int64_t)gen_range(g, 1, 64);
    case 5: return 1ull << gen_below(g, 64);
    case 6: return (1ull << gen_below(g, 64)) - 1;
    case 7: return edges[gen_below(g, (int)(sizeof(edges) / sizeof(edges[0])))] + (uint64_t)gen_range(g, -1, 1);
    case 8: return (uint64_t)g->env->scratch + (uint64_t)gen_below(g, DT_SCRATCH);
    case 9: return gen_rand(&g->rng) & 0xffffffffull;
    default: return gen_rand(&g->rng);
    }
}

uint64_t gen_double(gen_t *g)
{
    uint64_t sign = gen_chance(g, 35) ? 1ull << 63 : 0, frac = gen_rand(&g->rng) & ((1ull << 52) - 1);
    switch (gen_below(g, 16)) {
    case 0: return sign;                                         /* +-0 */
    case 1: case 2: case 3: {                                    /* small integers */
        double d = (double)gen_range(g, 1, 1000);
        uint64_t b;
        memcpy(&b, &d, 8);
        return sign | b;
    }
    case 4: case 5: {                                            /* fractions: k / 2^j */
        double d = (double)gen_range(g, 1, 100000) / (double)(1u << gen_below(g, 20));
        uint64_t b;
        memcpy(&b, &d, 8);
        return sign | b;
    }
    case 6: return sign | (uint64_t)gen_range(g, 2000, 2046) << 52 | frac;              /* huge */
    case 7: return sign | (uint64_t)gen_range(g, 1, 60) << 52 | frac;                    /* tiny */
    case 8: return sign | frac >> gen_below(g, 40);                                     /* subnormal */
    case 9:                                                      /* infinities, NaNs */
        switch (gen_below(g, 4)) {
        case 0: return sign | 0x7ff0000000000000ull;
        case 1: return sign | 0x7ff8000000000000ull;
        case 2: return sign | 0x7ff8000000000000ull | (frac >> 1);  /* quiet, with a payload */
        default: return sign | 0x7ff0000000000000ull | ((frac >> 1) | 1);   /* signalling */
        }
    case 10: return gen_rand(&g->rng);
    default: return sign | (uint64_t)gen_range(g, 1013, 1033) << 52 | frac;   /* ordinary: 2^-10 .. 2^10 */
    }
}

/* An immediate that fits a signed `bits`-bit field (64-bit operations take 32). */
int64_t gen_imm(gen_t *g, int bits)
{
    if (bits > 32) bits = 32;
    int64_t lo = -(1ll << (bits - 1)), hi = (1ll << (bits - 1)) - 1;
    switch (gen_below(g, 6)) {
    case 0: return gen_range(g, -2, 2);
    case 1: return gen_below(g, 2) ? lo : hi;
    case 2: return gen_range(g, -16, 16);
    default: return lo + (int64_t)(gen_rand(&g->rng) >> (64 - bits));
    }
}

/* ---- registers ---- */

ZydisRegister gen_reg(int id, int bits)
{
    switch (bits) {
    case 8:
        if (id < 4) return (ZydisRegister)(ZYDIS_REGISTER_AL + id);
        if (id < 8) return (ZydisRegister)(ZYDIS_REGISTER_SPL + id - 4);
        return (ZydisRegister)(ZYDIS_REGISTER_R8B + id - 8);
    case 16: return (ZydisRegister)(ZYDIS_REGISTER_AX + id);
    case 32: return (ZydisRegister)(ZYDIS_REGISTER_EAX + id);
    default: return (ZydisRegister)(ZYDIS_REGISTER_RAX + id);
    }
}

/* gen_pick: a random register of set `mask` (-1 if empty). */
static int gen_pick(gen_t *g, uint32_t mask)
{
    int n = __builtin_popcount(mask);
    if (!n) return -1;
    int k = gen_below(g, n);
    for (int id = 0; id < 16; id++)
        if ((mask >> id & 1) && k-- == 0) return id;
    return -1;
}

int gen_wreg(gen_t *g) { return gen_pick(g, g->wr); }
int gen_rreg(gen_t *g) { return gen_chance(g, 85) ? gen_pick(g, g->wr) : gen_below(g, 16); }

/* A register of `bits`; 8-bit ones are sometimes ah..bh (id < 4). */
ZydisRegister gen_sized(gen_t *g, int id, int bits)
{
    if (bits == 8 && id < 4 && gen_chance(g, 20)) return (ZydisRegister)(ZYDIS_REGISTER_AH + id);
    return gen_reg(id, bits);
}

int gen_bits(gen_t *g)
{
    int k = gen_below(g, 100);
    return k < 10 ? 8 : k < 20 ? 16 : k < 55 ? 32 : 64;
}

/* ---- emission ---- */

static void gen_set_flags(gen_t *g, uint32_t aff, uint32_t defd, int maybe_zero)
{
    uint32_t after = (g->def & ~aff) | defd;
    g->def = maybe_zero ? (after & g->def) : after;   /* a zero count leaves them as they were */
}

/* gen_check: the decoded instruction writes only allowed registers. */
static int gen_check(gen_t *g, const uint8_t *b, int len)
{
    ZydisDecodedInstruction in;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&g->dec, b, (ZyanUSize)len, &in, ops))) return 0;
    if (in.length != len) return 0;
    uint32_t ok = g->wr | (g->allow_rsp ? 1u << 4 : 0) | (g->allow_rbp ? 1u << 5 : 0);
    for (int k = 0; k < in.operand_count; k++) {
        if (ops[k].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
        if (!(ops[k].actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE))) continue;
        ZydisRegisterClass cls = ZydisRegisterGetClass(ops[k].reg.value);
        if (cls != ZYDIS_REGCLASS_GPR8 && cls != ZYDIS_REGCLASS_GPR16 &&
            cls != ZYDIS_REGCLASS_GPR32 && cls != ZYDIS_REGCLASS_GPR64) continue;
        ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, ops[k].reg.value);
        int id = ZydisRegisterGetId(big);
        if (id < 0 || id > 15 || !(ok >> id & 1)) return 0;
    }
    return 1;
}

dt_insn_t *gen_slot(gen_t *g)
{
    if (g->c->n >= DT_MAX_INSNS - 4) return 0;     /* room for the latch */
    dt_insn_t *i = &g->c->insn[g->c->n];
    memset(i, 0, sizeof(*i));
    i->fdef = g->def;
    return i;
}

int gen_emit(gen_t *g, const ZydisEncoderRequest *r, uint32_t reads, uint32_t aff, uint32_t defd,
             int maybe_zero)
{
    dt_insn_t *i = gen_slot(g);
    if (!i || (reads & ~g->def)) return 0;
    ZyanUSize len = sizeof(i->bytes);
    i->req = *r;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&i->req, i->bytes, &len,
                                                            (ZyanU64)g->env->code)))
        return 0;
    if (!gen_check(g, i->bytes, (int)len)) return 0;
    i->req = *r;                       /* the encoder rewrote relative operands */
    i->kind = DT_PLAIN;
    i->has_req = 1;
    i->len = (uint8_t)len;
    g->c->n++;
    gen_set_flags(g, aff, defd, maybe_zero);
    return 1;
}

int gen_raw(gen_t *g, const uint8_t *b, int len, uint32_t reads, uint32_t aff, uint32_t defd)
{
    dt_insn_t *i = gen_slot(g);
    if (!i || (reads & ~g->def) || !gen_check(g, b, len)) return 0;
    memcpy(i->bytes, b, (size_t)len);
    i->kind = DT_PLAIN;
    i->len = (uint8_t)len;
    g->c->n++;
    gen_set_flags(g, aff, defd, 0);
    return 1;
}

/* gen_label: a group starts here: forward branches that may land here do. Returns 1 if one
 * did. */
int gen_label(gen_t *g)
{
    int bound = 0;
    uint32_t join = DT_STATUS;
    for (int k = 0; k < g->npend;) {
        if (g->pend[k].min > g->c->n) { k++; continue; }
        dt_insn_t *from = &g->c->insn[g->pend[k].at];
        if (from->kind == DT_PLAIN) from->addr_of = g->c->n + 1;   /* kind_ijmp's lea */
        else from->target = g->c->n;
        join &= g->pend[k].def;
        bound = 1;
        g->pend[k] = g->pend[--g->npend];
    }
    if (!g->reachable) g->def = DT_STATUS;      /* dead unless a branch lands here */
    if (bound) { g->def &= join; g->reachable = 1; }
    return bound;
}

/* ---- operands ---- */

uint32_t gen_cc_reads(int cc)
{
    static const uint32_t r[8] = { DT_OF, DT_CF, DT_ZF, DT_CF | DT_ZF, DT_SF, DT_PF,
                                   DT_SF | DT_OF, DT_ZF | DT_SF | DT_OF };
    return r[(cc >> 1) & 7];
}

/* gen_cc: a condition whose flags are all defined here (-1 if none). */
int gen_cc(gen_t *g)
{
    int start = gen_below(g, 16);
    for (int k = 0; k < 16; k++) {
        int cc = (start + k) & 15;
        if (!(gen_cc_reads(cc) & ~g->def)) return cc;
    }
    return -1;
}

static int32_t gen_slot_of(gen_t *g, const int32_t *slots, int lo, int hi)
{
    return gen_chance(g, 80) ? slots[gen_below(g, DT_SLOTS)] : gen_range(g, lo, hi);
}

/* gen_mem: a memory operand inside the scratch buffer or the stack area whatever the
 * path; the indexed form emits its mask first. */
int gen_mem(gen_t *g, gen_mem_t *m)
{
    int k = gen_below(g, 100);
    memset(m, 0, sizeof(*m));
    if (g->in_callee && g->c->base_in_stack && (k < 28 || (k >= 64 && k < 76)))
        k = 28 + gen_below(g, 36);                            /* B might reach the return address */
    if (k >= 64 && k < 76) {                                  /* [B + idx*s + disp] */
        int idx = gen_wreg(g);
        ZydisEncoderRequest r;
        gen_rq(&r, ZYDIS_MNEMONIC_AND);
        gen_rq_reg(&r, gen_reg(idx, 32));
        gen_rq_imm(&r, 63);
        if (gen_emit(g, &r, 0, DT_STATUS, DT_STATUS & ~DT_AF, 0)) {
            m->base = gen_reg(g->c->base_reg, 64);
            m->index = gen_reg(idx, 64);
            m->scale = (uint8_t)(1 << gen_below(g, 4));
            m->disp = -gen_range(g, 0, 512);
            return 1;
        }
        k = 0;
    }
    if (k >= 76 && k < 90) {                                  /* [rip + scratch] */
        m->base = ZYDIS_REGISTER_RIP;
        m->disp = (int64_t)(g->env->scratch + gen_slot_of(g, g->slot_abs, 0, DT_SCRATCH - 8));
    } else if (k >= 90 && g->env->abs_ok) {                   /* [disp32] */
        m->disp = (int64_t)(g->env->scratch + gen_slot_of(g, g->slot_abs, 0, DT_SCRATCH - 8));
    } else if (g->in_callee && k >= 28 && k < 64) {          /* the callee's slots: below rbp */
        m->base = k < 46 ? ZYDIS_REGISTER_RBP : ZYDIS_REGISTER_RSP;
        m->disp = gen_slot_of(g, g->slot_callee, -(g->frame + 32), -8) + (k < 46 ? 0 : g->frame);
    } else if (k >= 28 && k < 46) {
        m->base = ZYDIS_REGISTER_RBP;
        m->disp = gen_slot_of(g, g->slot_rbp, -256, 256);
    } else if (k >= 46 && k < 64) {
        m->base = ZYDIS_REGISTER_RSP;
        m->disp = gen_slot_of(g, g->slot_rsp, -256, 256);
    } else {
        m->base = gen_reg(g->c->base_reg, 64);
        m->disp = gen_slot_of(g, g->slot_b, -1024, 1016);
    }
    return 1;
}

/* gen_rm: operand `r/m` of `bits`: a register (written: from wr) or memory. */
void gen_rm(gen_t *g, ZydisEncoderRequest *r, int bits, int written, int mem)
{
    gen_mem_t m;
    if (mem && gen_mem(g, &m)) { gen_rq_mem(r, &m, bits / 8); return; }
    gen_rq_reg(r, gen_sized(g, written ? gen_wreg(g) : gen_rreg(g), bits));
}

/* ---- the case ---- */

static void gen_slots(gen_t *g)
{
    for (int k = 0; k < DT_SLOTS; k++) {
        int odd = gen_chance(g, 15);
        g->slot_b[k] = 8 * gen_range(g, -16, 16) + (odd ? gen_range(g, 1, 7) : 0);
        g->slot_rsp[k] = gen_chance(g, 25) ? -8 * gen_range(g, 1, 16) : 8 * gen_range(g, 0, 16);
        g->slot_rsp[k] += odd ? gen_range(g, 1, 7) : 0;
        g->slot_rbp[k] = -8 * gen_range(g, 1, 12) + (odd ? gen_range(g, 1, 7) : 0);
        g->slot_abs[k] = 8 * gen_range(g, 0, DT_SCRATCH / 8 - 2) + (odd ? gen_range(g, 1, 7) : 0);
        g->slot_callee[k] = -8 - 4 * gen_range(g, 0, 6) - (odd ? gen_range(g, 1, 7) : 0);
    }
    if (g->c->base_in_stack)                             /* B slots meet rsp/rbp slots */
        for (int k = 0; k < DT_SLOTS; k += 2) g->slot_b[k] = 8 * gen_range(g, -16, 16);
    for (int k = 0; k < DT_XSLOTS; k++) {                /* doubles: aligned, apart from those */
        g->slot_xrbp[k] = -8 * gen_range(g, 13, 24);
        g->slot_xrsp[k] = 8 * gen_range(g, 17, 31);
        g->slot_xcallee[k] = -8 * gen_range(g, 5, 8);   /* below the integer ones */
    }
}

/* gen_xstate: xmm0..15 of a state: a double in the low half, a double or random bits in
 * the high half (a wrong "zero the upper half" or "keep it" shows). */
static void gen_xstate(gen_t *g, dt_regs_t *s, int k)
{
    s->x[k][0] = gen_chance(g, 85) ? gen_double(g) : gen_rand(&g->rng);
    s->x[k][1] = gen_chance(g, 30) ? gen_double(g) : gen_rand(&g->rng);
}

static void gen_states(gen_t *g)
{
    dt_case_t *c = g->c;
    dt_regs_t *s = &c->init[0];
    for (int id = 0; id < 16; id++) s->r[id] = gen_value(g);
    s->r[4] = g->env->rsp0;
    s->r[5] = g->env->rsp0 + (uint64_t)(int64_t)(8 * gen_range(g, -16, 16) + (gen_chance(g, 10) ? 4 : 0));
    s->r[c->base_reg] = c->base_in_stack ? g->env->rsp0 + (uint64_t)(int64_t)(8 * gen_range(g, -16, 16))
                                         : (uint64_t)g->env->scratch + DT_SCRATCH / 2;
    if (c->cnt_reg >= 0) s->r[c->cnt_reg] = (uint64_t)gen_range(g, 1, 6);
    s->flags = 0x202 | (gen_rand(&g->rng) & DT_STATUS);
    s->mxcsr = DT_MXCSR_DEFAULT;                         /* state 0: no exception flag yet */
    for (int k = 0; k < 16; k++) gen_xstate(g, s, k);
    for (int k = 1; k < DT_STATES; k++) {
        c->init[k] = c->init[0];
        for (int id = 0; id < 16; id++)
            if ((g->wr >> id & 1) && gen_chance(g, 50)) c->init[k].r[id] = gen_value(g);
        if (c->cnt_reg >= 0) c->init[k].r[c->cnt_reg] = (uint64_t)gen_range(g, 1, 6);
        if (gen_chance(g, 30))                           /* another frame: rbp - rsp differs */
            c->init[k].r[5] = g->env->rsp0 + (uint64_t)(int64_t)(8 * gen_range(g, -16, 16) + (gen_chance(g, 10) ? 4 : 0));
        c->init[k].flags = 0x202 | (gen_rand(&g->rng) & DT_STATUS);
        c->init[k].mxcsr = DT_MXCSR_DEFAULT | (gen_chance(g, 40) ? gen_rand(&g->rng) & DT_MXCSR_STATUS : 0);
        for (int x = 0; x < 16; x++)
            if (gen_chance(g, 50)) gen_xstate(g, &c->init[k], x);
    }
    for (int k = 0; k < DT_SCRATCH; k += 8) {
        uint64_t v = gen_chance(g, 30) ? gen_value(g) : gen_chance(g, 20) ? gen_double(g) : gen_rand(&g->rng);
        memcpy(c->scratch0 + k, &v, 8);
    }
    for (int k = 0; k < DT_STACK; k += 8) {
        uint64_t v = gen_chance(g, 30) ? gen_value(g) : gen_chance(g, 30) ? gen_double(g) : gen_rand(&g->rng);
        memcpy(c->stack0 + k, &v, 8);
    }
}

/* gen_layout: addresses, short branches that do not reach become near ones, final bytes. */
static int gen_layout(dt_case_t *c, const dt_env_t *env)
{
    static const uint8_t lens[][2] = {                   /* rel8 and rel32 forms */
        [DT_JCC] = { 2, 6 }, [DT_JMP] = { 2, 5 }, [DT_CALL] = { 5, 5 }, [DT_LATCH] = { 2, 6 },
    };
    for (int changed = 1; changed;) {
        changed = 0;
        uint64_t pc = (uint64_t)env->code;
        for (int k = 0; k < c->n; k++) {
            dt_insn_t *i = &c->insn[k];
            i->pc = pc;
            if (i->kind == DT_LOOP) i->len = (uint8_t)(2 + i->near);
            else if (i->kind == DT_RET) i->len = i->ret_pop ? 3 : 1;
            else if (i->kind == DT_IJMP) i->len = (uint8_t)(i->ijmp_reg >= 8 ? 3 : 2);
            else if (i->kind != DT_PLAIN) i->len = lens[i->kind][i->near];
            pc += i->len;
        }
        c->end_pc = pc;
        for (int k = 0; k < c->n; k++) {
            dt_insn_t *i = &c->insn[k];
            if (i->kind == DT_PLAIN || i->kind == DT_LOOP || i->kind == DT_CALL || i->kind == DT_RET ||
                i->kind == DT_IJMP || i->near)
                continue;
            uint64_t to = i->target >= c->n ? c->end_pc : c->insn[i->target].pc;
            int64_t rel = (int64_t)(to - (i->pc + 2));
            if (rel < -128 || rel > 127) { i->near = 1; changed = 1; }
        }
    }
    for (int k = 0; k < c->n; k++) {
        dt_insn_t *i = &c->insn[k];
        uint64_t to = i->target >= c->n ? c->end_pc : c->insn[i->target].pc;
        int64_t rel = (int64_t)(to - (i->pc + i->len));
        int32_t rel32 = (int32_t)rel;
        uint8_t *b = i->bytes;
        if (i->kind == DT_PLAIN && i->has_req) {
            ZydisEncoderRequest r = i->req;
            ZyanUSize len = sizeof(i->bytes);
            if (i->addr_of) {                            /* an instruction's address as operand */
                uint64_t a = i->addr_of - 1 >= c->n ? c->end_pc : c->insn[i->addr_of - 1].pc;
                for (int o = 0; o < r.operand_count; o++)
                    if (r.operands[o].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) r.operands[o].imm.u = a;
                    else if (r.operands[o].type == ZYDIS_OPERAND_TYPE_MEMORY &&
                             r.operands[o].mem.base == ZYDIS_REGISTER_RIP)
                        r.operands[o].mem.displacement = (int64_t)a;
            }
            if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstructionAbsolute(&r, i->bytes, &len, i->pc)) ||
                len != i->len)
                return -1;
        } else if (i->kind == DT_LOOP) {                 /* rel8 only: the generator keeps it near */
            if (rel < -128 || rel > 127) return -1;
            if (i->near) *b++ = 0x67;
            b[0] = i->cc;
            b[1] = (uint8_t)rel;
        } else if (i->kind == DT_CALL) {
            b[0] = 0xe8;
            memcpy(b + 1, &rel32, 4);
        } else if (i->kind == DT_IJMP) {                 /* [41] ff e0+r: jmp *reg */
            if (i->ijmp_reg >= 8) *b++ = 0x41;
            b[0] = 0xff;
            b[1] = (uint8_t)(0xe0 | (i->ijmp_reg & 7));
        } else if (i->kind == DT_RET) {                  /* c3, or c2 iw */
            b[0] = i->ret_pop ? 0xc2 : 0xc3;
            memcpy(b + 1, &i->ret_pop, 2);
        } else if (i->kind != DT_PLAIN && !i->near) {
            b[0] = (uint8_t)(i->kind == DT_JMP ? 0xeb : 0x70 | i->cc);
            b[1] = (uint8_t)rel;
        } else if (i->kind == DT_JMP) {
            b[0] = 0xe9;
            memcpy(b + 1, &rel32, 4);
        } else if (i->kind != DT_PLAIN) {
            b[0] = 0x0f;
            b[1] = (uint8_t)(0x80 | i->cc);
            memcpy(b + 2, &rel32, 4);
        }
    }
    return c->end_pc + 14 <= (uint64_t)env->code + DT_CODE_SIZE ? 0 : -1;
}

int dt_gen(dt_case_t *c, const dt_env_t *env, uint64_t seed)
{
    static gen_t g;
    memset(&g, 0, sizeof(g));
    g.rng.s = seed * 0x2545f4914f6cdd1dull + 0x1234567;
    g.c = c;
    g.env = env;
    ZydisDecoderInit(&g.dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    c->seed = seed;
    c->n = 0;
    c->loop = gen_chance(&g, 20);
    do c->base_reg = gen_below(&g, 16); while (c->base_reg == 4 || c->base_reg == 5);
    c->base_in_stack = gen_chance(&g, 30);
    g.wr = 0xffffu & ~(1u << 4 | 1u << 5 | 1u << c->base_reg);
    c->cnt_reg = -1;
    c->funcs = 0;
    if (c->loop) {
        c->cnt_reg = gen_wreg(&g);
        g.wr &= ~(1u << c->cnt_reg);
    }
    g.drift_max = c->loop ? 64 : 512;
    g.def = c->loop ? DT_STATUS & ~DT_CF : DT_STATUS;   /* later iterations: after the latch's dec */
    g.reachable = 1;
    gen_slots(&g);
    int copy_reg = -1;                  /* -O0's latch: the counter tested through a copy */
    if (c->loop && gen_chance(&g, 35)) {
        copy_reg = gen_wreg(&g);        /* written first thing in a round (pass_sink.c) */
        uint8_t mov[6] = { (uint8_t)(copy_reg >= 8 ? 0x41 : 0x40), (uint8_t)(0xb8 | (copy_reg & 7)) };
        uint32_t imm = (uint32_t)gen_value(&g);
        memcpy(mov + 2, &imm, 4);
        gen_raw(&g, mov, 6, 0, 0, 0);
        g.def &= ~DT_AF;                /* (the latch's test leaves AF undefined) */
    }
    static const int sse_pcts[] = { 0, 0, 0, 0, 8, 8, 20, 35, 35, 60 };   /* kind_sse's share */
    int lvl = gen_below(&g, 10) + (c->loop ? 3 : 0);                      /* loops: more often */
    g.sse_pct = sse_pcts[lvl > 9 ? 9 - gen_below(&g, 3) : lvl];
    g.xhi = gen_chance(&g, 30);
    g.avx = __builtin_cpu_supports("avx");
    int len = gen_chance(&g, 50) ? gen_range(&g, 1, 16) : gen_range(&g, 16, 64);
    int func_at = c->loop && gen_chance(&g, 40) ? gen_below(&g, len) : -1;   /* loops around calls */
    for (int guard = 0; c->n < len && guard < 4 * DT_MAX_INSNS; guard++) {
        if (func_at >= 0 && c->n >= func_at && !c->funcs) gen_one_func(&g);
        else gen_one(&g);
    }
    if (!c->n) {
        static const uint8_t nop = 0x90;
        gen_raw(&g, &nop, 1, 0, 0, 0);
    }
    if (c->loop) {                                       /* the latch: dec cnt; jnz head */
        for (int k = 0; k < g.npend; k++)                /* some leave the loop */
            if (gen_chance(&g, 40)) g.pend[k].min = DT_MAX_INSNS;
        gen_label(&g);
        uint8_t dec[3] = { (uint8_t)(0x48 | (c->cnt_reg >= 8)), 0xff, (uint8_t)(0xc8 | (c->cnt_reg & 7)) };
        g.wr |= 1u << c->cnt_reg;
        gen_raw(&g, dec, 3, 0, DT_STATUS & ~DT_CF, DT_STATUS & ~DT_CF);
        g.wr &= ~(1u << c->cnt_reg);
        if (copy_reg >= 0) {                             /* mov %cnt32,%copy32 ; test */
            uint8_t rex = (uint8_t)(0x40 | (c->cnt_reg >= 8) << 2 | (copy_reg >= 8));
            uint8_t mov[3] = { rex, 0x89, (uint8_t)(0xc0 | (c->cnt_reg & 7) << 3 | (copy_reg & 7)) };
            uint8_t rext = (uint8_t)(0x40 | (copy_reg >= 8) << 2 | (copy_reg >= 8));
            uint8_t test[3] = { rext, 0x85, (uint8_t)(0xc0 | (copy_reg & 7) << 3 | (copy_reg & 7)) };
            gen_raw(&g, mov, 3, 0, 0, 0);
            gen_raw(&g, test, 3, 0, DT_STATUS, DT_STATUS & ~DT_AF);
        }
        dt_insn_t *l = gen_slot(&g);
        c->n++;
        l->kind = DT_LATCH;
        l->cc = 0x5;                                     /* jnz */
        l->target = 0;
    }
    for (int k = 0; k < g.npend; k++) g.pend[k].min = c->n;   /* the rest land on E */
    gen_label(&g);
    c->flags_end = g.def;
    c->sse = g.nsse;
    c->vex = g.nvex;
    gen_states(&g);
    return gen_layout(c, env);
}

void dt_write_code(const dt_case_t *c, const dt_env_t *env)
{
    for (int k = 0; k < c->n; k++) memcpy((void *)c->insn[k].pc, c->insn[k].bytes, c->insn[k].len);
    uint8_t *e = (uint8_t *)c->end_pc;                   /* jmp *0(%rip); .quad native_end */
    static const uint8_t jmp[] = { 0xff, 0x25, 0, 0, 0, 0 };
    memcpy(e, jmp, sizeof(jmp));
    memcpy(e + 6, &env->native_end, 8);
}

int dt_insn_at(const dt_case_t *c, uint64_t pc)
{
    if (pc == c->end_pc) return c->n;
    int lo = 0, hi = c->n - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        if (c->insn[mid].pc == pc) return mid;
        if (c->insn[mid].pc < pc) lo = mid + 1;
        else hi = mid - 1;
    }
    return -1;
}

/* ---- recorded paths ---- */

int dt_path_of(const dt_case_t *c, const int *idx, int n, int next, uint64_t seed, dt_path_t *p)
{
    gen_rng_t r = { seed ^ 0x5bd1e995deadbeefull };
    memset(p, 0, sizeof(*p));
    p->next_pc = next >= c->n ? c->end_pc : c->insn[next].pc;
    for (int k = 0; k < n; k++) {
        const dt_insn_t *i = &c->insn[idx[k]];
        if (p->n == DT_MAX_BLOCKS) return -1;
        if (!p->lens[p->n]) p->pcs[p->n] = i->pc;
        p->lens[p->n]++;
        /* a block ends at a branch, or (as one cut by length) at a random point */
        if (i->kind != DT_PLAIN || gen_rand(&r) % 16 == 0 || k == n - 1) p->n++;
    }
    return p->n ? 0 : -1;
}

int dt_path_random(const dt_case_t *c, uint64_t seed, dt_path_t *p)
{
    gen_rng_t r = { seed ^ 0x9e3779b97f4a7c15ull };
    int idx[DT_MAX_INSNS * 2], n = 0, k = 0;
    while (k < c->n && n < DT_MAX_INSNS * 2) {
        const dt_insn_t *i = &c->insn[k];
        idx[n++] = k;
        if (i->kind == DT_JCC || i->kind == DT_LOOP) k = gen_rand(&r) & 1 ? i->target : k + 1;
        else if (i->kind == DT_JMP || i->kind == DT_CALL || i->kind == DT_RET) k = i->target;
        else if (i->kind == DT_IJMP)                      /* either of its two targets */
            k = c->insn[i->lea_b >= 0 && gen_rand(&r) & 1 ? i->lea_b : i->lea_a].addr_of - 1;
        else if (i->kind == DT_LATCH && gen_rand(&r) & 1) { k = 0; break; }
        else k++;
    }
    return dt_path_of(c, idx, n, k, seed, p);
}
