/* dt_kinds_branch.c — the differential tester's control-transfer kinds: forward jcc and
 * jmp (often after a compare), forward calls whose callee never returns, loop/loope/loopne/
 * jrcxz, and `jmp *reg` to one of two later points after a flag writer (kind_ijmp).
 * Invariants: those of dt_gen.c; every transfer goes forward to the start of a group,
 * bound by gen_label (a jmp's or call's target field, or the addr_of of kind_ijmp's leas). */
#include "dt_gen_int.h"

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

int gen_branch(gen_t *g, int cmp)
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

int kind_branch(gen_t *g) { return gen_branch(g, gen_chance(g, 55)); }

/* kind_ijmp: an indirect jump through a register with flags that its targets may read
 * (pass_flagcheck.c checks it with a cmp and must compute them again on both paths):
 *         lea ra, [rip+T]
 *         [lea rb, [rip+U] ; test rz, bit ; cmovcc ra, rb]   states go to T or U
 *         W                   cmp/test/add/sub/and/or/xor, never into ra
 *         [mov rx, ry]        (any width: may change W's inputs, in part too; the check
 *                             then stays flag-free)
 *         jmp *ra
 * T and U are later group starts (forward, like a jmp's target). */
int kind_ijmp(gen_t *g)
{
    dt_case_t *c = g->c;
    gen_t saved = *g;
    int n0 = c->n;
    ZydisEncoderRequest r;
    gen_mem_t a;
    memset(&a, 0, sizeof(a));
    a.base = ZYDIS_REGISTER_RIP;
    a.disp = (int64_t)g->env->code;                          /* placeholders: set at layout */
    int ra = gen_wreg(g), rb = -1, lea_b = -1;
    if (ra < 0) return 0;
    gen_rq(&r, ZYDIS_MNEMONIC_LEA);                          /* lea ra, [rip+T] */
    gen_rq_reg(&r, gen_reg(ra, 64));
    gen_rq_mem(&r, &a, 8);
    if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
    int lea_a = c->n - 1;
    g->wr &= ~(1u << ra);                                    /* ra holds the target from here */
    if (gen_chance(g, 60) && (rb = gen_wreg(g)) >= 0) {
        int rz;
        do rz = gen_below(g, 16); while (rz == rb || rz == 4);
        gen_rq(&r, ZYDIS_MNEMONIC_LEA);                      /* lea rb, [rip+U] */
        gen_rq_reg(&r, gen_reg(rb, 64));
        gen_rq_mem(&r, &a, 8);
        if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
        lea_b = c->n - 1;
        gen_rq(&r, ZYDIS_MNEMONIC_TEST);                     /* test rz, 1 << bit */
        gen_rq_reg(&r, gen_reg(rz, 64));
        gen_rq_imm(&r, 1ll << gen_below(g, 31));
        if (!gen_emit(g, &r, 0, DT_STATUS, DT_STATUS & ~DT_AF, 0)) goto undo;
        g->wr |= 1u << ra;
        gen_rq(&r, gen_chance(g, 50) ? ZYDIS_MNEMONIC_CMOVZ : ZYDIS_MNEMONIC_CMOVNZ);
        gen_rq_reg(&r, gen_reg(ra, 64));
        gen_rq_reg(&r, gen_reg(rb, 64));
        int ok = gen_emit(g, &r, DT_ZF, 0, 0, 0);
        g->wr &= ~(1u << ra);
        if (!ok) goto undo;
    }
    static const ZydisMnemonic ws[] = { ZYDIS_MNEMONIC_CMP, ZYDIS_MNEMONIC_TEST, ZYDIS_MNEMONIC_ADD,
                                        ZYDIS_MNEMONIC_SUB, ZYDIS_MNEMONIC_AND, ZYDIS_MNEMONIC_OR,
                                        ZYDIS_MNEMONIC_XOR };
    ZydisMnemonic m = ws[gen_below(g, (int)(sizeof(ws) / sizeof(ws[0])))];
    int writes = m != ZYDIS_MNEMONIC_CMP && m != ZYDIS_MNEMONIC_TEST;
    int bits = gen_bits(g), dst = writes ? gen_wreg(g) : gen_rreg(g);
    if (dst < 0) goto undo;
    gen_rq(&r, m);                                           /* W */
    gen_rq_reg(&r, gen_sized(g, dst, bits));
    if (gen_chance(g, 40)) gen_rq_imm(&r, gen_imm(g, bits));
    else gen_rq_reg(&r, gen_sized(g, gen_rreg(g), bits));
    int logic = m == ZYDIS_MNEMONIC_TEST || m == ZYDIS_MNEMONIC_AND || m == ZYDIS_MNEMONIC_OR ||
                m == ZYDIS_MNEMONIC_XOR;
    if (!gen_emit(g, &r, 0, DT_STATUS, logic ? DT_STATUS & ~DT_AF : DT_STATUS, 0)) goto undo;
    if (gen_chance(g, 30)) {                                 /* mov rx, ry (any width) */
        int rx = gen_wreg(g), mb = gen_bits(g);
        if (rx >= 0) {
            gen_rq(&r, ZYDIS_MNEMONIC_MOV);
            gen_rq_reg(&r, gen_sized(g, rx, mb));
            gen_rq_reg(&r, gen_sized(g, gen_rreg(g), mb));
            if (!gen_emit(g, &r, 0, 0, 0, 0)) goto undo;
        }
    }
    g->wr = saved.wr;
    dt_insn_t *i = gen_slot(g);                              /* jmp *ra */
    if (!i || g->npend + 2 > DT_MAX_INSNS) goto undo;
    i->kind = DT_IJMP;
    i->ijmp_reg = (uint8_t)ra;
    i->lea_a = lea_a;
    i->lea_b = lea_b;
    i->target = 0;
    int jn = c->n++;
    for (int t = 0; t < 2; t++) {
        int at = t ? lea_b : lea_a;
        if (at < 0) continue;
        g->pend[g->npend].at = at;
        g->pend[g->npend].min = jn + 1 + gen_below(g, 3);
        g->pend[g->npend++].def = g->def;
    }
    g->reachable = 0;
    return 1;
undo: {
        gen_rng_t rng = g->rng;
        *g = saved;
        g->rng = rng;
        c->n = n0;
        return 0;
    }
}

/* A forward call: the app return address is pushed and stays (the callee never returns). */
int kind_call(gen_t *g)
{
    if (!gen_drift(g, 8)) return 0;
    return gen_transfer(g, DT_CALL, 0, 1 + gen_below(g, 6));
}

/* loopne/loope/loop (rcx counts down) or jrcxz, rel8 only: it skips one group at most. */
int kind_loopx(gen_t *g)
{
    int op = 0xe0 + gen_below(g, 4);
    if (op != 0xe3 && !(g->wr & 2)) op = 0xe3;            /* loop* write rcx */
    if (op < 0xe2 && !(g->def & DT_ZF)) op = 0xe2;        /* loope/loopne read ZF */
    if (!gen_transfer(g, DT_LOOP, op, 2)) return 0;
    g->c->insn[g->c->n - 1].near = (uint8_t)gen_chance(g, 25);   /* 0x67: ecx */
    return 1;
}
