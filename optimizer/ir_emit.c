/* ir_emit.c — the emitter from trace IR into the code cache (through the builder's
 * translation context, so blocks and traces share exit stubs, links, return-address
 * constants and the per-instruction map that signals use).
 * Layout: the body is the IR in order; an IR_JCC is one inverted-or-not jcc to its exit
 * stub; an IR_IND with a recorded target is an inline check whose miss path (the lookup)
 * is out of line after the body, one per check so each keeps its own indirect jump for the
 * predictor: flag-free, or with flags where pass_flagcheck.c says the flags can be
 * computed again (IR_F_CHECK_FL); compensation code of an exit goes out of line before its
 * stub.
 * Invariants: each IR instruction gets one map entry at its first byte (its app pc, kind by
 * IR kind); inserted or inexact instructions are marked so a signal there is delivered at
 * an exact point (see runtime/signals.c sig_translate). */
#include "ir_emit.h"
#include "analysis.h"
#include "emit.h"
#include "heap.h"

/* ie_rot: whether the check against target t compares in rcx alone (BMI2, and t fits
 * emit_rot_consts), with its constants in *r: the check and its miss path both ask. */
static int ie_rot(uint64_t t, emit_rot_t *r)
{
    return hp_rt.cpu_bmi2 && emit_rot_consts(t, r);
}

/* rcx = the app target (app rcx spilled): go on inline if it is `next`, else look it up.
 * With BMI2 (ie_rot; emit_rot_rcx, emit.h), rcx alone:
 *     <emit_rot_rcx next> ; jrcxz 1f ; jmp miss
 * 1:  mov %gs:SPILL_RCX,%rcx                                     (the trace goes on)
 * miss (out of line, ie_emit_cold): <emit_unrot_rcx next> ; <lookup>
 * Without, rdx helps:
 *     mov %rdx,%gs:SPILL_RDX ; mov %rcx,%rdx ; movabs $-next,%rcx ; lea (%rcx,%rdx),%rcx
 *     jrcxz 1f ; jmp miss
 * 1:  mov %gs:SPILL_RDX,%rdx ; mov %gs:SPILL_RCX,%rcx
 * miss: mov %rdx,%rcx ; mov %gs:SPILL_RDX,%rdx ; <lookup>
 * (lahf/seto on this path measured slower: virtcall 1.89 s against 1.79 s.) */
static void ie_check_target(bb_ctx_t *c, uint64_t next, uint64_t alt, int keep)
{
    if (c->ncold == BB_COLD) { c->overflow = 1; return; }
    emit_rot_t r;
    int rot = ie_rot(next, &r);
    c->cold_alt[c->ncold].next = next;
    c->cold_alt[c->ncold].alt = alt;
    c->cold_alt[c->ncold].fl = 0;
    if (rot) {
        c->p = emit_rot_rcx(c->p, r);
    } else {
        c->p = emit_gs_store(c->p, R_RDX, T_SPILL_RDX);
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x89); c->p = emit_u8(c->p, 0xca);   /* mov %rcx,%rdx */
        c->p = emit_mov_imm64(c->p, R_RCX, (uint64_t)0 - next);
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x8d); c->p = emit_u8(c->p, 0x0c);
        c->p = emit_u8(c->p, 0x11);                                       /* lea (%rcx,%rdx),%rcx */
    }
    c->p = emit_u8(c->p, 0xe3);                                           /* jrcxz 1f */
    c->p = emit_u8(c->p, 5);
    c->p = emit_jmp_rel32(c->p, &c->cold[c->ncold++]);                    /* jmp miss */
    if (!rot) c->p = emit_gs_load(c->p, R_RDX, T_SPILL_RDX);
    if (keep) c->rcx_spilled = 1;                                         /* ie_keep_spill */
    else c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);
    hp_rt.stats.trace_inline_checks++;
}

static hp_status_t ie_comp(bb_ctx_t *c, const ir_insn_t *i);

/* ie_check_fl_ok: whether IR_IND i gets the check with flags (IR_F_CHECK_FL,
 * pass_flagcheck.c): room for its constant (and a call's return address) and its miss path. */
static int ie_check_fl_ok(const bb_ctx_t *c, const ir_insn_t *i)
{
    return (i->flags & IR_F_CHECK_FL) && i->target && c->nrets + 2 <= BB_RETS && c->ncold < BB_COLD;
}

/* ie_check_fl: the inline check of `jmp/call *%reg` i with flags (pass_flagcheck.c):
 *     [push return address] ; cmp target(%rip),%reg ; jne miss ; [<comp>]
 * A call pushes first, while the flags are still the app's: a fault on the push is the
 * call's own, exact (XL_OTHER: rsp has not moved); nothing after it can fault. comp (the
 * app's flags computed again) runs here with IR_F_CHECK_REMAT; the miss path
 * (ie_emit_cold) runs it first, then loads the target into rcx as the flag-free check
 * does, without a push. rcx is never spilled on the hit path. */
static void ie_check_fl(bb_ctx_t *c, const ir_insn_t *i)
{
    if (c->rcx_spilled) c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);
    c->rcx_spilled = 0;
    if (i->zi.mnemonic == ZYDIS_MNEMONIC_CALL) bb_push_return(c, i->app_pc + i->len);
    int r = ZydisRegisterGetId(i->ops[0].reg.value);
    c->p = emit_u8(c->p, (uint8_t)(0x48 | (r >= 8 ? 4 : 0)));
    c->p = emit_u8(c->p, 0x3b);                                       /* cmp disp32(%rip),%reg */
    c->p = emit_u8(c->p, (uint8_t)(0x05 | (r & 7) << 3));
    bb_rip_const(c, i->target);
    c->cold_alt[c->ncold].next = i->target;
    c->cold_alt[c->ncold].alt = 0;                                    /* (retsites: rets only) */
    c->cold_alt[c->ncold].fl = i;
    c->p = emit_jcc_rel32(c->p, 5, &c->cold[c->ncold++]);             /* jne miss */
    if ((i->flags & IR_F_CHECK_REMAT) && ie_comp(c, i) != HP_OK) c->overflow = 1;
    hp_rt.stats.trace_inline_checks++;
}

/* ie_keep_spill: after the inline check of instruction k (an IR_IND with a recorded
 * target) the app's rcx may stay in gs:T_SPILL_RCX, rcx keeping the check's leftovers,
 * until the next inline check, which then does not spill again: two instructions (a store
 * and a load) less per check in a chain of returns (-O0 code unwinding: ret, leave, ret).
 * Only when everything in between is an app instruction that neither reads nor writes rcx
 * (nor is opaque, nor an address check of a promoted loop, which computes in rcx) or a
 * direct call's push, so nothing between can leave the trace; the next one is an IR_IND
 * with a recorded target whose operand does not read rcx; and the trace borrows no
 * registers (promoted loops restore at exits of their own). Map entries in between say
 * where rcx is (XL_F_RCX_SPILLED): a signal or fault there gets the app's rcx from the
 * thread (runtime/signals.c). */
static int ie_keep_spill(const ir_trace_t *t, int k)
{
    if (t->npromo) return 0;
    for (int j = k + 1; j < t->n; j++) {
        const ir_insn_t *i = &t->insn[j];
        an_effects_t e;
        an_effects(i, &e);
        if (i->kind == IR_CALL) continue;
        if (i->kind == IR_IND) return i->target && !(e.use & AN_REG(AN_RCX)) && !(i->flags & IR_F_CHECK_FL);
        if (i->kind != IR_COPY || (i->flags & (IR_F_ALIAS | IR_F_ALIAS_FL)) || e.opaque ||
            ((e.use | e.def | e.def_part) & AN_REG(AN_RCX)))
            return 0;
    }
    return 0;
}

/* ie_restore: a promoted loop's registers get their app values back (before leaving).
 * lookup: on the way into the lookup, where rcx holds the target and the lookup takes the
 * app's rcx from T_SPILL_RCX: a borrowed rcx (the address checks' scratch, pass_promote.c)
 * gets its app value there instead, through rax and rax's own spill slot (the lookup's
 * first store overwrites it with the same value). */
static void ie_restore(bb_ctx_t *c, const ir_trace_t *t, int lookup)
{
    for (int i = 0; i < t->npromo; i++) {
        uint32_t off = T_PROMO + 8 * (uint32_t)i;
        if (t->promo[i].xmm) c->p = emit_gs_xmm_load(c->p, t->promo[i].reg, T_PROMO_X + 16 * (uint32_t)i);
        else if (!lookup || t->promo[i].reg != R_RCX) c->p = emit_gs_load(c->p, t->promo[i].reg, off);
        else {
            c->p = emit_gs_store(c->p, R_RAX, T_SPILL_RAX);
            c->p = emit_gs_load(c->p, R_RAX, off);
            c->p = emit_gs_store(c->p, R_RAX, T_SPILL_RCX);
            c->p = emit_gs_load(c->p, R_RAX, T_SPILL_RAX);
        }
    }
}

/* ie_exit_jcc / ie_exit_jmp: leave to target when cc holds / always; with promoted
 * registers or compensation code (i->comp) the jcc goes to out-of-line code that runs the
 * compensation and restores them first. */
static void ie_exit_jcc(bb_ctx_t *c, const ir_trace_t *t, const ir_insn_t *i)
{
    uint8_t *field;
    int cc = i->cc;
    uint64_t target = i->target;
    if (!t->npromo && !i->ncomp) {
        c->p = emit_exit_jcc(c->p, cc, &field);
        bb_add_exit(c, LINK_DIRECT, target, field, 0);
        return;
    }
    if (c->ncold_exits == BB_COLD) { c->overflow = 1; return; }
    c->p = emit_jcc_rel32(c->p, cc, &c->cold_exits[c->ncold_exits].field);
    c->cold_exits[c->ncold_exits].comp = i;
    c->cold_exits[c->ncold_exits++].target = target;
}

/* ie_comp: exit instruction i's compensation code (ir_insn_t.comp: app instructions a pass
 * moved into the exit), before the promoted registers get their app values back. No map
 * entries: it belongs to the exit's own (inexact) entry, or to out-of-line code. */
static hp_status_t ie_comp(bb_ctx_t *c, const ir_insn_t *i)
{
    for (int k = 0; k < i->ncomp; k++)
        if (bb_copy(c, &i->comp[k].zi, i->comp[k].ops, i->comp[k].app_pc, i->comp[k].bytes) != HP_OK)
            return HP_ERR_ENCODE;
    return HP_OK;
}

static void ie_exit_jmp(bb_ctx_t *c, const ir_trace_t *t, uint64_t target)
{
    uint8_t *field;
    ie_restore(c, t, 0);
    c->p = emit_exit_jmp(c->p, &field);
    bb_add_exit(c, LINK_DIRECT, target, field, 0);
}

/* ie_second_target: on a miss of the check against next, a second target alt before the
 * lookup. After a rotated check (rcx = the target again, app rcx spilled, rdx the app's):
 *     <emit_rot_rcx alt> ; jrcxz 1f ; <emit_unrot_rcx alt> ; jmp 2f
 * otherwise (rcx = target - next, rdx = the target, both app values spilled):
 *     lea (next-alt)(%rcx),%rcx ; jrcxz 1f ; jmp 2f
 * 1:  [mov %gs:SPILL_RDX,%rdx] ; mov %gs:SPILL_RCX,%rcx ; <restore promoted> ; exit to alt
 * 2:  (the lookup) */
static void ie_second_target(bb_ctx_t *c, const ir_trace_t *t, uint64_t next, uint64_t alt, int rot)
{
    uint8_t *over;
    if (rot) {
        emit_rot_t r;
        if (!ie_rot(alt, &r)) return;
        c->p = emit_rot_rcx(c->p, r);
        c->p = emit_u8(c->p, 0xe3);                       /* jrcxz 1f */
        uint8_t *rel8 = c->p;
        c->p = emit_u8(c->p, 0);
        c->p = emit_unrot_rcx(c->p, r);
        c->p = emit_jmp_rel32(c->p, &over);               /* jmp 2f */
        *rel8 = (uint8_t)(c->p - (rel8 + 1));
    } else {
        int64_t d = (int64_t)(next - alt);
        if (d != (int32_t)d) return;                      /* pass_retsites keeps it near */
        c->p = emit_lea_rcx(c->p, (int32_t)d);            /* lea d(%rcx),%rcx */
        c->p = emit_u8(c->p, 0xe3);                       /* jrcxz 1f */
        c->p = emit_u8(c->p, 5);
        c->p = emit_jmp_rel32(c->p, &over);               /* jmp 2f */
        c->p = emit_gs_load(c->p, R_RDX, T_SPILL_RDX);
    }
    c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);
    ie_exit_jmp(c, t, alt);
    emit_set_rel32(over, (uint64_t)c->p);
}

static hp_status_t ie_load_slot(bb_ctx_t *c, const ir_promo_t *pr);

/* ie_encode: req's instruction at c->p, which moves past it. */
static hp_status_t ie_encode(bb_ctx_t *c, const ZydisEncoderRequest *req)
{
    ZyanUSize len = 16;
    if (!ZYAN_SUCCESS(ZydisEncoderEncodeInstruction(req, c->p, &len))) return HP_ERR_ENCODE;
    c->p += len;
    return HP_OK;
}

/* ie_emit_cold: the lookups of the inline checks' misses and the exits that restore
 * promoted registers, after the body. No map entries: a signal there is delivered after
 * single-stepping into the next fragment (or the dispatcher). */
static void ie_emit_cold(bb_ctx_t *c, const ir_trace_t *t)
{
    for (int i = 0; i < c->ncold; i++) {
        if (c->p + 512 > c->end) { c->overflow = 1; return; }     /* one item's worst case */
        emit_set_rel32(c->cold[i], (uint64_t)c->p);
        const ir_insn_t *fl = c->cold_alt[i].fl;
        if (fl) {                                         /* a check with flags missed: */
            if (ie_comp(c, fl) != HP_OK) { c->overflow = 1; return; }        /* the app's flags, */
            c->p = emit_gs_store(c->p, R_RCX, T_SPILL_RCX);                  /* rcx = the target */
            if (bb_load_target(c, &fl->zi, &fl->ops[0], fl->app_pc) != HP_OK) { c->overflow = 1; return; }
            ie_restore(c, t, 1);
            c->p = bb_ibl_trace(c->p);
            continue;
        }
        emit_rot_t r;
        int rot = ie_rot(c->cold_alt[i].next, &r);
        if (rot) c->p = emit_unrot_rcx(c->p, r);                                       /* rcx = target */
        if (c->cold_alt[i].alt) ie_second_target(c, t, c->cold_alt[i].next, c->cold_alt[i].alt, rot);
        if (!rot) {
            c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x89); c->p = emit_u8(c->p, 0xd1); /* mov %rdx,%rcx */
            c->p = emit_gs_load(c->p, R_RDX, T_SPILL_RDX);
        }
        ie_restore(c, t, 1);
        c->p = bb_ibl_trace(c->p);
    }
    for (int i = 0; i < c->ncold_exits; i++) {
        if (c->p + 128 > c->end) { c->overflow = 1; return; }
        emit_set_rel32(c->cold_exits[i].field, (uint64_t)c->p);
        if (ie_comp(c, c->cold_exits[i].comp) != HP_OK) { c->overflow = 1; return; }
        ie_exit_jmp(c, t, c->cold_exits[i].target);
    }
    for (int i = 0; i < c->ncold_reload; i++) {          /* a checked store hit the slots */
        if (c->p + 128 > c->end) { c->overflow = 1; return; }
        emit_set_rel32(c->cold_reload[i].field, (uint64_t)c->p);
        for (int k = 0; k < t->npromo; k++)
            if (t->promo[k].base >= 0 && ie_load_slot(c, &t->promo[k]) != HP_OK) { c->overflow = 1; return; }
        uint8_t *field;
        c->p = emit_jmp_rel32(c->p, &field);
        emit_set_rel32(field, (uint64_t)c->cold_reload[i].back);
    }
}

/* ie_load_slot: mov/movq promoted entry pr's slot into its register. */
static hp_status_t ie_load_slot(bb_ctx_t *c, const ir_promo_t *pr)
{
    ZydisEncoderRequest req;
    if (pr->xmm)                                            /* movq m64,%xmm: upper half 0 */
        bb_req_reg(&req, ZYDIS_MNEMONIC_MOVQ, 2, ZydisRegisterEncode(ZYDIS_REGCLASS_XMM, (ZyanU8)pr->reg));
    else
        bb_req_reg(&req, ZYDIS_MNEMONIC_MOV, 2,
                   ZydisRegisterEncode(pr->size == 8 ? ZYDIS_REGCLASS_GPR64 : ZYDIS_REGCLASS_GPR32, (ZyanU8)pr->reg));
    req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
    req.operands[1].mem.base = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, (ZyanU8)pr->base);
    req.operands[1].mem.displacement = pr->disp;
    req.operands[1].mem.size = (ZyanU16)pr->size;
    if (ie_encode(c, &req) != HP_OK) return HP_ERR_ENCODE;
    return HP_OK;
}

/* ie_alias_check: after i (IR_F_ALIAS: a store through a pointer in a promoted loop whose
 * slots are [rbp + disp], rbp fixed, rcx borrowed), the promoted registers read their slots
 * again if the store's bytes [A, A+w) may touch [rbp+lo, rbp+hi). Flag-free:
 *     rcx = A + (w-1) - (rbp+lo)       lea D(,%index,s),%rcx when the base is rbp, else
 *                                      mov %rbp,%rcx ; not %rcx (-rbp-1) ;
 *                                      lea D+1(%base,%rcx),%rcx [; lea (%rcx,%index,s),%rcx]
 *     mov $0,%cl (or %cx)              rcx = 0 iff rcx < 2^8 (2^16) >= hi - lo + w - 1
 *     jrcxz 1f ; jmp 2f ; 1: <reload each slot> ; 2:
 * A store just above the slots (within the power of two) reloads too: slower, never wrong. */
static hp_status_t ie_alias_check(bb_ctx_t *c, const ir_trace_t *t, const ir_insn_t *i)
{
    int op = an_mem_store_op(i);
    int64_t lo, hi;
    if (op < 0 || !ir_promo_span(t, t->npromo, &lo, &hi)) return HP_ERR_ENCODE;
    const ZydisDecodedOperand *m = &i->ops[op];
    int64_t w = m->size / 8, range = hi - lo + w - 1;
    int64_t d = m->mem.disp.value + w - 1 - lo;
    if (range > 65536 || d != (int32_t)d) return HP_ERR_ENCODE;
    int short_form = m->mem.base == ZYDIS_REGISTER_RBP && m->mem.index != ZYDIS_REGISTER_RBP;
    ZydisRegister base = ZYDIS_REGISTER_NONE, index = m->mem.index, idx2 = ZYDIS_REGISTER_NONE;
    int scale = m->mem.scale;
    if (!short_form) {                                   /* rcx = -rbp - 1 */
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x89); c->p = emit_u8(c->p, 0xe9);  /* mov %rbp,%rcx */
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0xf7); c->p = emit_u8(c->p, 0xd1);  /* not %rcx */
        base = ZYDIS_REGISTER_RCX;
        d++;
        if (m->mem.base != ZYDIS_REGISTER_NONE) {        /* base + rcx (rsp cannot be an */
            idx2 = index;                                /* index), then + index*s */
            base = m->mem.base;
            index = ZYDIS_REGISTER_RCX;
            scale = 1;
        }
    }
    for (int step = 0; step < 2; step++) {
        ZydisEncoderRequest req;
        bb_req_reg(&req, ZYDIS_MNEMONIC_LEA, 2, ZYDIS_REGISTER_RCX);
        req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
        req.operands[1].mem.base = step ? ZYDIS_REGISTER_RCX : base;
        req.operands[1].mem.index = step ? idx2 : index;
        req.operands[1].mem.scale = (ZyanU8)(step ? m->mem.scale : scale);
        if (req.operands[1].mem.index == ZYDIS_REGISTER_NONE) req.operands[1].mem.scale = 0;
        req.operands[1].mem.displacement = step ? 0 : d;
        req.operands[1].mem.size = 8;
        if (ie_encode(c, &req) != HP_OK) return HP_ERR_ENCODE;
        if (idx2 == ZYDIS_REGISTER_NONE) break;
    }
    if (range <= 256) {
        c->p = emit_u8(c->p, 0xb1); c->p = emit_u8(c->p, 0);        /* mov $0,%cl */
    } else {
        c->p = emit_u8(c->p, 0x66); c->p = emit_u8(c->p, 0xb9);     /* mov $0,%cx */
        c->p = emit_u8(c->p, 0); c->p = emit_u8(c->p, 0);
    }
    c->p = emit_u8(c->p, 0xe3); c->p = emit_u8(c->p, 2);            /* jrcxz 1f */
    c->p = emit_u8(c->p, 0xeb);                                      /* jmp 2f */
    uint8_t *rel8 = c->p;
    c->p = emit_u8(c->p, 0);
    for (int k = 0; k < t->npromo; k++)                              /* 1: */
        if (t->promo[k].base >= 0 && ie_load_slot(c, &t->promo[k]) != HP_OK) return HP_ERR_ENCODE;
    if (c->p - (rel8 + 1) > 127) return HP_ERR_ENCODE;
    *rel8 = (uint8_t)(c->p - (rel8 + 1));                            /* 2: */
    hp_rt.stats.promote_alias_checks++;
    return HP_OK;
}

/* ie_alias_check_fl: after i (IR_F_ALIAS_FL: as IR_F_ALIAS, with the status flags dead
 * until a writer of them that nothing able to fault precedes), with scratch the register
 * the loop borrows without a slot:
 *     lea D(base,index,s),%scratch ; sub %rbp,%scratch     scratch = A + (w-1) - (rbp+lo)
 *     (lea D(,%index,s),%scratch when the base is rbp)
 *     cmp $(hi-lo+w-1),%scratch ; jb reload                 unsigned: the bytes overlap
 * reload (out of line, ie_emit_cold): every slot read again, then back after the jb. */
static hp_status_t ie_alias_check_fl(bb_ctx_t *c, const ir_trace_t *t, const ir_insn_t *i)
{
    int op = an_mem_store_op(i), scratch = ir_promo_scratch(t);
    int64_t lo, hi;
    if (op < 0 || scratch < 0 || !ir_promo_span(t, t->npromo, &lo, &hi) || c->ncold_reload == BB_COLD)
        return HP_ERR_ENCODE;
    const ZydisDecodedOperand *m = &i->ops[op];
    int64_t w = m->size / 8, range = hi - lo + w - 1;
    int64_t d = m->mem.disp.value + w - 1 - lo;
    if (range != (int32_t)range || d != (int32_t)d) return HP_ERR_ENCODE;
    int direct = ir_check_direct(m);
    ZydisRegister r = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, (ZyanU8)scratch);
    ZydisEncoderRequest req;
    bb_req_reg(&req, ZYDIS_MNEMONIC_LEA, 2, r);
    req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
    req.operands[1].mem.base = direct ? ZYDIS_REGISTER_NONE : m->mem.base;
    req.operands[1].mem.index = m->mem.index;
    req.operands[1].mem.scale = m->mem.index == ZYDIS_REGISTER_NONE ? 0 : m->mem.scale;
    req.operands[1].mem.displacement = d;
    req.operands[1].mem.size = 8;
    if (ie_encode(c, &req) != HP_OK) return HP_ERR_ENCODE;
    if (!direct) {
        bb_req_reg(&req, ZYDIS_MNEMONIC_SUB, 2, r);
        req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
        req.operands[1].reg.value = ZYDIS_REGISTER_RBP;
        if (ie_encode(c, &req) != HP_OK) return HP_ERR_ENCODE;
    }
    bb_req_reg(&req, ZYDIS_MNEMONIC_CMP, 2, r);
    req.operands[1].type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    req.operands[1].imm.s = range;
    if (ie_encode(c, &req) != HP_OK) return HP_ERR_ENCODE;
    c->p = emit_jcc_rel32(c->p, 0x2, &c->cold_reload[c->ncold_reload].field);   /* jb */
    c->cold_reload[c->ncold_reload++].back = c->p;
    hp_rt.stats.promote_alias_checks++;
    hp_rt.stats.promote_flag_checks++;
    return HP_OK;
}

/* ie_preheader: with promo_guard, check the frame the slots' offsets assume (flag-free:
 * rcx = rsp - rbp + frame_k, jrcxz; a mismatch leaves through a LINK_PROMO exit with every
 * register the app's); save the registers a promoted loop borrows, then load the slots into
 * them (map kind XL_PREHEAD: a fault loading a slot is reported at the head). */
static hp_status_t ie_preheader(bb_ctx_t *c, const ir_trace_t *t)
{
    if (t->promo_guard) {                /* rbp - rsp == frame_k, or the head promotes no more */
        uint8_t *field;
        c->p = emit_gs_store(c->p, R_RCX, T_SPILL_RCX);
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x8d); c->p = emit_u8(c->p, 0x8d);
        c->p = emit_u32(c->p, (uint32_t)(int32_t)-t->frame_k);      /* lea -k(%rbp),%rcx */
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0xf7); c->p = emit_u8(c->p, 0xd1);  /* not %rcx */
        c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x8d); c->p = emit_u8(c->p, 0x4c);
        c->p = emit_u8(c->p, 0x0c); c->p = emit_u8(c->p, 0x01);     /* lea 1(%rsp,%rcx),%rcx */
        c->p = emit_u8(c->p, 0xe3);                                 /* jrcxz 1f (rcx = 0) */
        uint8_t *rel8 = c->p;
        c->p = emit_u8(c->p, 0);
        c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);
        c->p = emit_exit_jmp(c->p, &field);
        bb_add_exit(c, LINK_PROMO, t->head, field, 0);
        *rel8 = (uint8_t)(c->p - (rel8 + 1));
        c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);             /* 1: */
    }
    for (int i = 0; i < t->npromo; i++)
        c->p = t->promo[i].xmm ? emit_gs_xmm_store(c->p, t->promo[i].reg, T_PROMO_X + 16 * (uint32_t)i)
                               : emit_gs_store(c->p, t->promo[i].reg, T_PROMO + 8 * (uint32_t)i);
    c->promo_lo = (uint32_t)(c->p - c->start);
    bb_xl(c, t->head, c->p, XL_PREHEAD);
    for (int i = 0; i < t->npromo; i++)                  /* (a scratch register: no slot) */
        if (t->promo[i].base >= 0 && ie_load_slot(c, &t->promo[i]) != HP_OK) return HP_ERR_ENCODE;
    return HP_OK;
}

/* jrcxz/loop with an 8-bit displacement: the app instruction, then the exits. */
static void ie_loop(bb_ctx_t *c, const ir_insn_t *i)
{
    uint8_t *field;
    hp_memcpy(c->p, i->bytes, i->len);
    uint8_t *rel8 = c->p + i->len - 1;
    c->p += i->len;
    if (i->flags & IR_F_TAKEN_STAYS) {     /* 0: jmp fall-stub; 1: (go on) */
        c->p = emit_exit_jmp(c->p, &field);
        bb_add_exit(c, LINK_DIRECT, i->target, field, 0);
        *rel8 = (uint8_t)(c->p - (rel8 + 1));
    } else {                               /* jmp 2f; 1: jmp target-stub; 2: (go on) */
        c->p = emit_u8(c->p, 0xeb);
        uint8_t *over = c->p;
        c->p = emit_u8(c->p, 0);
        *rel8 = (uint8_t)(c->p - (rel8 + 1));
        c->p = emit_exit_jmp(c->p, &field);
        bb_add_exit(c, LINK_DIRECT, i->target, field, 0);
        *over = (uint8_t)(c->p - (over + 1));
    }
}

/* ie_align: long nops up to the next multiple of `align` (a power of two). A short loop
 * that straddles two 64-byte lines ran 14% slower than natively on Zen 5 (matmul.O1's
 * 46-byte inner loop, the same instructions as native, which fit one line). */
static uint8_t *ie_align(uint8_t *p, uint64_t align)
{
    static const uint8_t nop[9][9] = {
        { 0x90 }, { 0x66, 0x90 }, { 0x0f, 0x1f, 0x00 }, { 0x0f, 0x1f, 0x40, 0x00 },
        { 0x0f, 0x1f, 0x44, 0x00, 0x00 }, { 0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00 },
        { 0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00 }, { 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
        { 0x66, 0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00 },
    };
    uint64_t pad = (align - ((uint64_t)p & (align - 1))) & (align - 1);
    while (pad) {
        uint64_t n = pad > 9 ? 9 : pad;
        hp_memcpy(p, nop[n - 1], n);
        p += n;
        pad -= n;
    }
    return p;
}

/* ie_loop_bytes: about how long a loop trace's round is emitted (its instructions, a jcc
 * of 6 bytes per branch); more than 64 where it cannot be known (checks, calls). */
static int ie_loop_bytes(const ir_trace_t *t)
{
    int n = 0;
    for (int k = 0; k + 1 < t->n; k++) {
        const ir_insn_t *i = &t->insn[k];
        if (i->kind == IR_JCC) n += 6;
        else if (i->kind == IR_COPY && !(i->flags & (IR_F_ALIAS | IR_F_ALIAS_FL))) n += i->len;
        else return 1000;
    }
    return n;
}

static int ie_xl_kind(const ir_insn_t *i)
{
    if (i->flags & IR_F_INEXACT) return XL_INEXACT;     /* (a branch too: pass_sink.c) */
    switch (i->kind) {
    case IR_COPY:
        if (i->flags & IR_F_NEW) return XL_INEXACT;
        return i->replay ? XL_COPY | XL_F_REPLAY | (uint32_t)i->replay << 12 : XL_COPY;
    case IR_IND: return XL_RCX;
    case IR_SYSCALL: return XL_SYSCALL;
    case IR_EXIT: return XL_END;
    default: return XL_OTHER;
    }
}

/* Where a loop trace goes round to: its body (after the preheader), or (defer) somewhere
 * emitted later: for the first round of a peeled promoted loop (ir_emit_peeled) the
 * promoted copy's preheader, for a counted loop (ir_emit_counted) its round counter; the
 * jumps' fields wait in fwd. */
#define IE_MAX_ROUND 64
typedef struct {
    uint8_t *body;
    int defer;
    uint8_t *fwd[IE_MAX_ROUND];
    int nfwd;
} ie_round_t;

static void ie_goes_round(bb_ctx_t *c, ie_round_t *r, uint8_t *field)
{
    if (!r->defer) { emit_set_rel32(field, (uint64_t)r->body); return; }
    if (r->nfwd == IE_MAX_ROUND) { c->overflow = 1; return; }
    r->fwd[r->nfwd++] = field;
}

static hp_status_t ie_trace(bb_ctx_t *c, const ir_trace_t *t, ie_round_t *r, const char **why)
{
    *why = "translation too large";
    uint8_t *body = c->p;                   /* where the loop goes round to */
    if (t->npromo) {
        if (ie_preheader(c, t) != HP_OK) { *why = "cannot encode a promoted slot load"; return HP_ERR_ENCODE; }
        body = c->p;
    }
    c->loops = ir_is_loop(t);
    int round = c->loops && !r->defer ? ie_loop_bytes(t) : 1000;
    if (round <= 64 && ((uint64_t)c->p & 63) + (uint64_t)round > 64) {
        c->p = ie_align(c->p, 64);          /* a short loop in one cache line (ie_align) */
        body = c->p;
    }
    r->body = body;
    int round_jumps = t->npromo || r->defer; /* going round stays in the fragment */
    for (int k = 0; k < t->n; k++) {
        const ir_insn_t *i = &t->insn[k];
        uint8_t *field;
        if (c->p + 512 > c->end || c->overflow) return HP_ERR_NOMEM;
        if (i->kind == IR_SYSCALL && t->npromo) { *why = "system call in a promoted loop"; return HP_ERR_UNSUPPORTED; }
        int fl = i->kind == IR_IND && ie_check_fl_ok(c, i);
        if (i->ncomp && i->kind != IR_JCC && !(i->kind == IR_IND && (i->flags & IR_F_CHECK_FL))) {
            *why = "compensation code off a branch";
            return HP_ERR_UNSUPPORTED;
        }
        bb_xl(c, i->app_pc, c->p, fl ? XL_OTHER : ie_xl_kind(i));
        switch (i->kind) {
        case IR_COPY:
            if (bb_copy(c, &i->zi, i->ops, i->app_pc, i->bytes) != HP_OK) { *why = c->why; return HP_ERR_ENCODE; }
            if (((i->flags & IR_F_ALIAS) && ie_alias_check(c, t, i) != HP_OK) ||
                ((i->flags & IR_F_ALIAS_FL) && ie_alias_check_fl(c, t, i) != HP_OK)) {
                *why = "cannot encode an alias check";
                return HP_ERR_ENCODE;
            }
            break;
        case IR_JCC:
            if (c->loops && k == t->n - 2) {  /* the loop's own branch goes back, taken */
                c->p = emit_jcc_rel32(c->p, i->cc ^ 1, &field);
                ie_goes_round(c, r, field);
                if (ie_comp(c, i) != HP_OK) { *why = "cannot encode compensation code"; return HP_ERR_ENCODE; }
                bb_xl(c, i->target, c->p, XL_END);      /* then the way out: state at target */
                ie_exit_jmp(c, t, i->target);
                k++;                                     /* the IR_EXIT to the head is done */
                break;
            }
            if (round_jumps && i->target == t->head) {    /* goes round, registers kept */
                if (i->ncomp) { *why = "compensation code on a branch back"; return HP_ERR_UNSUPPORTED; }
                c->p = emit_jcc_rel32(c->p, i->cc, &field);
                ie_goes_round(c, r, field);
                break;
            }
            ie_exit_jcc(c, t, i);
            break;
        case IR_LOOP:
            if (t->npromo) { *why = "loop instruction in a promoted loop"; return HP_ERR_UNSUPPORTED; }
            ie_loop(c, i);
            break;
        case IR_CALL:
            bb_push_return(c, i->target);
            break;
        case IR_IND:
            if (fl) {                                    /* pass_flagcheck.c */
                ie_check_fl(c, i);
                break;
            }
            if (bb_indirect_target(c, &i->zi, i->ops, i->app_pc) != HP_OK) { *why = c->why; return HP_ERR_UNSUPPORTED; }
            if (i->target) {
                ie_check_target(c, i->target, i->target2, ie_keep_spill(t, k));
            } else {
                ie_restore(c, t, 1);
                c->p = bb_ibl_trace(c->p);
            }
            break;
        case IR_EXIT:
            if (round_jumps && k == t->n - 1 && i->target == t->head) {   /* goes round */
                c->p = emit_jmp_rel32(c->p, &field);
                ie_goes_round(c, r, field);
            } else {
                ie_exit_jmp(c, t, i->target);
            }
            break;
        case IR_SYSCALL:
            if (t->npromo) { *why = "system call in a promoted loop"; return HP_ERR_UNSUPPORTED; }
            bb_syscall(c, &i->zi, i->ops, i->app_pc, i->bytes);
            break;
        }
    }
    c->n = t->napp;
    c->promo_hi = (uint32_t)(c->p - c->start);
    ie_emit_cold(c, t);
    if (c->overflow) return HP_ERR_NOMEM;
    /* bb_finish adds a 27-byte stub per exit and the return-address constants: they too
       must fit before c->end (the trace cache's room, trace_cache_room) */
    if (c->p + 32 * (size_t)c->nexits + 16 * (size_t)c->nrets + 64 > c->end) return HP_ERR_NOMEM;
    return HP_OK;
}

hp_status_t ir_emit(bb_ctx_t *c, const ir_trace_t *t, const char **why)
{
    ie_round_t r;
    r.defer = 0;
    r.nfwd = 0;
    return ie_trace(c, t, &r, why);
}

/* ie_count: count down the thread's counter at gs:off, flag-free, or leave at the head when
 * it ran out (a LINK_TRIP exit: every register the app's, the state the head's):
 *     mov %rcx,%gs:SPILL ; mov %gs:off,%rcx ; jrcxz 1f ; lea -1(%rcx),%rcx
 *     mov %rcx,%gs:off ; mov %gs:SPILL,%rcx ; jmp 2f
 * 1:  mov %gs:SPILL,%rcx ; jmp <exit to the head>
 * 2:  */
static void ie_count(bb_ctx_t *c, const ir_trace_t *t, uint32_t off)
{
    uint8_t *field;
    c->p = emit_gs_store(c->p, R_RCX, T_SPILL_RCX);
    c->p = emit_gs_load(c->p, R_RCX, off);
    c->p = emit_u8(c->p, 0xe3);                                   /* jrcxz 1f */
    uint8_t *out = c->p;
    c->p = emit_u8(c->p, 0);
    c->p = emit_lea_rcx(c->p, -1);
    c->p = emit_gs_store(c->p, R_RCX, off);
    c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);
    c->p = emit_u8(c->p, 0xeb);                                   /* jmp 2f */
    uint8_t *over = c->p;
    c->p = emit_u8(c->p, 0);
    *out = (uint8_t)(c->p - (out + 1));
    c->p = emit_gs_load(c->p, R_RCX, T_SPILL_RCX);                /* 1: */
    c->p = emit_exit_jmp(c->p, &field);
    bb_add_exit(c, LINK_TRIP, t->head, field, 0);
    *over = (uint8_t)(c->p - (over + 1));                         /* 2: */
}

hp_status_t ir_emit_counted(bb_ctx_t *c, const ir_trace_t *t, int slot, const char **why)
{
    ie_round_t r;
    r.defer = 1;                                         /* ways round wait in r.fwd */
    r.nfwd = 0;
    if (t->npromo || slot < 0 || slot >= T_TRIP_SLOTS) { *why = "not a counted loop"; return HP_ERR_UNSUPPORTED; }
    uint32_t entries = T_TRIP + 16 * (uint32_t)slot, rounds = entries + 8;
    bb_xl(c, t->head, c->p, XL_INEXACT);                 /* a signal in the counters: after */
    ie_count(c, t, entries);                             /* single-stepping out of them */
    CHECK(ie_trace(c, t, &r, why));
    if (!r.nfwd) { *why = "a loop that never goes round"; return HP_ERR_UNSUPPORTED; }
    if (c->p + 96 + 32 * (size_t)(c->nexits + 1) + 16 * (size_t)c->nrets + 64 > c->end) return HP_ERR_NOMEM;
    for (int k = 0; k < r.nfwd; k++) emit_set_rel32(r.fwd[k], (uint64_t)c->p);
    ie_count(c, t, rounds);                              /* (out of line, after the body's */
    uint8_t *field;                                      /* own: no map entries) */
    c->p = emit_jmp_rel32(c->p, &field);
    emit_set_rel32(field, (uint64_t)r.body);
    return c->overflow ? HP_ERR_NOMEM : HP_OK;           /* (no room for its exit) */
}

hp_status_t ir_emit_peeled(bb_ctx_t *c, const ir_trace_t *first, const ir_trace_t *t, const char **why)
{
    ie_round_t r;
    r.defer = 1;
    r.nfwd = 0;
    if (first->npromo || !t->npromo || first->head != t->head) { *why = "not a peeled loop"; return HP_ERR_UNSUPPORTED; }
    CHECK(ie_trace(c, first, &r, why));                  /* its own out-of-line code too */
    if (!r.nfwd) { *why = "a first round that never goes round"; return HP_ERR_UNSUPPORTED; }
    c->ncold = c->ncold_exits = c->ncold_reload = 0;
    c->rcx_spilled = 0;
    for (int k = 0; k < r.nfwd; k++) emit_set_rel32(r.fwd[k], (uint64_t)c->p);   /* the preheader */
    return ir_emit(c, t, why);
}
