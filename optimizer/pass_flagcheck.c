/* pass_flagcheck.c — the inline check of an indirect jmp or call through a register
 * compares with flags where the flags it overwrites can be computed again.
 * The emitter's usual check (ir_emit.c ie_check_target) keeps every flag: it spills rcx,
 * moves the target into it, subtracts the recorded target in two halves (lea, rorx, lea)
 * and tests with jrcxz: seven instructions and a taken branch at every switch dispatch or
 * call through a pointer. With flags it is `cmp target(%rip),%reg ; jne miss`. The flags the
 * cmp destroys are the app's flags F at the branch; they come from the last instruction W
 * before it that writes status flags, and this pass takes the check only where W's flags
 * can be computed again there: a register-only cmp or test whose registers did not change
 * since runs again; an add/sub of a register or an immediate into a register, neither
 * changed since (gcc's jump tables: `add %rdx,%rax ; jmp *%rax`), runs again after its
 * inverse (`sub %rdx,%rax ; add %rdx,%rax`: the same inputs, so the same result and
 * flags); an and/or/xor into a register not changed since gives its flags to `test
 * dst,dst` (CPython's dispatch: `or %eax,%esi ; ... ; jmp *%rax`), where the CPU leaves AF
 * (undefined after both) at one value whatever it finds (hp_rt.cpu_logic_af, probed at
 * takeover). Those one or two instructions are the branch's compensation code
 * (ir_insn_t.comp): the miss path runs them before anything else, so the target found by
 * the lookup starts with the app's flags; the hit path runs them too (IR_F_CHECK_REMAT),
 * except where the flags are dead after the branch and an inexact region up to their next
 * writer is allowed (an_inexact_region: then those instructions are IR_F_INEXACT).
 * Exactness: the branch's map entry is XL_OTHER (emitter): exact at its first byte; an
 * asynchronous signal inside the check single-steps to the next exact instruction; the
 * only instruction in it that can fault is an indirect call's push, which comes first,
 * before the cmp (the miss path, out of line, has nothing that can fault). W must define
 * every status flag (none left undefined but the logical ones' AF, none read: adc/sbb,
 * inc/dec keep CF) and touch no memory. "Changed since" counts what the emitter adds
 * between: a store checked against a promoted loop's slots (IR_F_ALIAS*) may reload every
 * register holding a slot (a review found `cmpq $3,SLOT`, promoted to `cmp $3,%r11`,
 * computed again from the reloaded register). */
#include "opt.h"
#include "analysis.h"
#include "heap.h"
#include "runtime.h"

#define FC_STATUS (ZYDIS_CPUFLAG_CF | ZYDIS_CPUFLAG_PF | ZYDIS_CPUFLAG_AF | ZYDIS_CPUFLAG_ZF | \
                   ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_OF)

/* How W's flags are computed again: W itself (cmp, test: nothing written), W after its
 * inverse (add, sub), or `test dst,dst` (and, or, xor: the flags follow from the result,
 * all but AF, which the CPU must leave at one value: hp_rt.cpu_logic_af). */
enum { FC_RERUN, FC_INVERSE, FC_TEST };

/* fc_writer: the index of W, the last instruction before k that writes status flags, when
 * its flags can be computed again at k (see the banner); *how gets FC_*, *inv the inverse's
 * mnemonic for FC_INVERSE. -1 when there is no such W. */
static int fc_writer(const ir_trace_t *t, int k, int *how, ZydisMnemonic *inv)
{
    an_regs_t changed = 0;                               /* written between W and k */
    for (int j = k - 1; j >= 0; j--) {
        const ir_insn_t *w = &t->insn[j];
        an_effects_t e;
        an_effects(w, &e);
        if (w->kind == IR_SYSCALL || e.opaque) return -1;
        /* (an earlier inline check keeps the flags: flag-free, or with flags given back on
           its hit path, as flags live at it since this branch k exits; its ret/call moves
           rsp, which W may not read) */
        changed |= an_check_reloads(t, w);               /* (tests/programs/promote_alias_flags.c) */
        if (!((e.fdef | e.fundef) & FC_STATUS)) {
            changed |= e.def | e.def_part;
            continue;
        }
        ZydisMnemonic m = w->zi.mnemonic;
        int logic = m == ZYDIS_MNEMONIC_AND || m == ZYDIS_MNEMONIC_OR || m == ZYDIS_MNEMONIC_XOR ||
                    m == ZYDIS_MNEMONIC_TEST;
        an_flags_t undef = logic && hp_rt.cpu_logic_af ? ZYDIS_CPUFLAG_AF : 0;
        if (w->kind != IR_COPY || (w->flags & IR_F_NEW) || w->replay ||
            e.mem_read || e.mem_write || e.may_fault || e.barrier || e.fuse ||
            ((e.fdef | e.fundef) & FC_STATUS) != FC_STATUS || (e.fundef & FC_STATUS & ~undef) ||
            (e.use & AN_REG(AN_RSP)) || w->zi.operand_count_visible != 2 ||
            w->ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
            (w->ops[1].type != ZYDIS_OPERAND_TYPE_REGISTER && w->ops[1].type != ZYDIS_OPERAND_TYPE_IMMEDIATE))
            return -1;
        int same = w->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER && w->ops[1].reg.value == w->ops[0].reg.value;
        int dst = an_reg_id(w->ops[0].reg.value);
        switch (m) {
        case ZYDIS_MNEMONIC_CMP: case ZYDIS_MNEMONIC_TEST:
            if (e.use & changed) return -1;
            *how = FC_RERUN;
            return j;
        case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB:
            if (same || (e.use & changed)) return -1;
            *how = FC_INVERSE;
            *inv = m == ZYDIS_MNEMONIC_ADD ? ZYDIS_MNEMONIC_SUB : ZYDIS_MNEMONIC_ADD;
            return j;
        case ZYDIS_MNEMONIC_AND: case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR:
            if (!undef || dst < 0 || (changed & AN_REG(dst))) return -1;
            *how = FC_TEST;
            return j;
        default:
            return -1;
        }
    }
    return -1;                                           /* the flags come from before the trace */
}

/* fc_remat: the compensation list of branch i that gives W's flags back (FC_*). */
static hp_status_t fc_remat(ir_insn_t *i, const ir_insn_t *w, int how, ZydisMnemonic inv)
{
    int n = how == FC_INVERSE ? 2 : 1;
    ir_insn_t *c = heap_alloc(sizeof(ir_insn_t) * (size_t)n);
    if (!c) return HP_ERR_NOMEM;
    c[n - 1] = *w;
    c[n - 1].comp = 0;
    c[n - 1].ncomp = 0;
    if (how != FC_RERUN) {
        ZydisEncoderRequest req;
        if (!ir_request(w, &req)) { heap_free(c); return HP_ERR_ENCODE; }
        if (how == FC_INVERSE) {
            c[0] = c[1];
            req.mnemonic = inv;
        } else {                                         /* test dst,dst */
            req.mnemonic = ZYDIS_MNEMONIC_TEST;
            req.operands[1] = req.operands[0];
        }
        c[0].flags = IR_F_NEW;
        if (ir_set_insn(&c[0], &req) != HP_OK) { heap_free(c); return HP_ERR_ENCODE; }
    }
    i->comp = c;
    i->ncomp = n;
    return HP_OK;
}

int opt_pass_flagcheck(ir_trace_t *t)
{
    an_regs_t *lr = heap_alloc(sizeof(an_regs_t) * (size_t)(t->n ? t->n : 1));
    an_flags_t *lf = heap_alloc(sizeof(an_flags_t) * (size_t)(t->n ? t->n : 1));
    int changed = 0;
    if (!lr || !lf) goto out;
    an_liveness(t, lr, lf);
    for (int k = 0; k + 1 < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        if (i->kind != IR_IND || !i->target || i->ncomp || i->flags) continue;
        if ((i->zi.mnemonic != ZYDIS_MNEMONIC_CALL && i->zi.mnemonic != ZYDIS_MNEMONIC_JMP) || i->zi.operand_count_visible != 1 ||
            i->ops[0].type != ZYDIS_OPERAND_TYPE_REGISTER || i->ops[0].size != 64 ||
            an_reg_id(i->ops[0].reg.value) < 0 || i->ops[0].reg.value == ZYDIS_REGISTER_RSP)
            continue;
        ZydisMnemonic inv = ZYDIS_MNEMONIC_INVALID;
        int how, w = fc_writer(t, k, &how, &inv);
        if (w < 0 || fc_remat(i, &t->insn[w], how, inv) != HP_OK) continue;
        /* flags live at the next instruction: what it reads, or all when it exits */
        an_effects_t e;
        an_effects(&t->insn[k + 1], &e);
        an_flags_t live = e.exits ? AN_ALL_FLAGS : (lf[k + 1] & ~e.fdef) | e.fuse;
        i->flags |= IR_F_CHECK_FL;
        if ((live & FC_STATUS) || !an_inexact_region(t, k, 0, FC_STATUS, 1))
            i->flags |= IR_F_CHECK_REMAT;
        changed++;
    }
out:
    heap_free(lr);
    heap_free(lf);
    return changed;
}
