/* pass_promote.c — loop register promotion: when a trace is a loop (its last instruction
 * goes back to its head), the [rbp + disp] stack slots it uses most live in registers the
 * trace never touches, write-through: loads of a slot become register moves, stores keep
 * their store and also set the register, read-modify-writes compute in the register and
 * store the result. The emitter (ir_emit.c) adds the preheader (save the borrowed
 * registers' app values in the thread, load the slots), jumps back past it, and restores
 * the registers on every exit.
 * Exactness: memory is always native (every store stays); the borrowed registers get their
 * app values back at every exit and, for signals, from the thread's save area
 * (runtime/signals.c, promo_lo..promo_hi). Flags are the app's at every instruction:
 * replaced operands keep the operation and width. Two deviations, documented in
 * optimizer/README.md: a fault loading a slot in the preheader is not the app's (the loop
 * might have left before that access): the traces are flushed and the head never promotes
 * again (runtime/signals.c, traces/trace.c trace_promotion_fault), and the store after a register read-modify-write (an inserted instruction) is not
 * a translatable point: the slot was read at the loop's entry, so it faults only if the
 * stack is unmapped under the loop.
 * Memory others can write: a slot is promoted only if the loop itself stores to it (a
 * loop that only reads a location may be waiting for another thread or process to write
 * it), and only while the process has one thread (trace_build says so; when a second
 * thread starts, promoted traces are flushed: traces/trace_cache.c).
 * Applies only when rbp is not written in the trace, there is no opaque instruction, system
 * call or loop instruction, and each promoted slot is only accessed with one size at one
 * offset by the forms handled here; a store through any other pointer (or the stack
 * pointer) reloads the registers from memory after it. */
#include "opt.h"
#include "analysis.h"
#include "heap.h"
#include "builder_int.h"

#define PR_MAX_SLOTS 64

typedef struct {
    int64_t disp;
    int size;
    int uses;
    int bad;                    /* accessed in a form or size we do not handle */
    int written;                /* the loop stores to it (only such slots are promoted) */
    int reg;                    /* chosen register, or -1 */
} pr_slot_t;

/* The slot access forms we rewrite (with m = the slot operand). */
enum { PR_NONE, PR_LOAD, PR_STORE, PR_SRC, PR_RMW };

static int pr_form(const ir_insn_t *i, const an_mem_t *m)
{
    const ZydisDecodedInstruction *in = &i->zi;
    if (in->operand_count_visible != 2 || in->attributes & ZYDIS_ATTRIB_HAS_LOCK) return PR_NONE;
    if (in->operand_width != m->size * 8) return PR_NONE;
    int other = 1 - m->op;
    if (other < 0 || other > 1) return PR_NONE;
    ZydisOperandType ot = i->ops[other].type;
    if (ot != ZYDIS_OPERAND_TYPE_REGISTER && ot != ZYDIS_OPERAND_TYPE_IMMEDIATE) return PR_NONE;
    if (ot == ZYDIS_OPERAND_TYPE_REGISTER && an_reg_id(i->ops[other].reg.value) < 0) return PR_NONE;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        return m->op == 1 ? PR_LOAD : PR_STORE;
    case ZYDIS_MNEMONIC_CMP: case ZYDIS_MNEMONIC_TEST:
        return PR_SRC;
    case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_ADC:
    case ZYDIS_MNEMONIC_SBB:
        return m->op == 1 ? PR_SRC : PR_RMW;
    case ZYDIS_MNEMONIC_IMUL:
        return m->op == 1 ? PR_SRC : PR_NONE;
    default:
        return PR_NONE;
    }
}

static pr_slot_t *pr_find(pr_slot_t *s, int n, int64_t disp, int size, int *overlap)
{
    *overlap = 0;
    for (int k = 0; k < n; k++) {
        if (s[k].disp == disp && s[k].size == size) return &s[k];
        if (s[k].disp < disp + size && disp < s[k].disp + s[k].size) { *overlap = 1; s[k].bad = 1; }
    }
    return 0;
}

static ZydisRegister pr_reg(int id, int size)
{
    return ZydisRegisterEncode(size == 8 ? ZYDIS_REGCLASS_GPR64 : ZYDIS_REGCLASS_GPR32, (ZyanU8)id);
}

/* pr_new: an inserted instruction from req, at app pc pc. */
static int pr_new(ir_trace_t *t, int at, uint64_t pc, const ZydisEncoderRequest *req)
{
    ir_insn_t n;
    hp_memset(&n, 0, sizeof(n));
    n.app_pc = pc;
    n.flags = IR_F_NEW;
    return ir_set_insn(&n, req) == HP_OK && ir_insert(t, at, &n) != 0;
}

static void pr_slot_op(ZydisEncoderOperand *op, const pr_slot_t *s)
{
    op->type = ZYDIS_OPERAND_TYPE_MEMORY;
    op->mem.base = ZYDIS_REGISTER_RBP;
    op->mem.displacement = s->disp;
    op->mem.size = (ZyanU16)s->size;
}

/* pr_rewrite: instruction k accesses slot s: rewrite it. Returns the instructions inserted
 * after it, or -1 if it cannot be encoded (the trace is then left unpromoted). */
static int pr_rewrite(ir_trace_t *t, int k, const an_mem_t *m, const pr_slot_t *s)
{
    ir_insn_t *i = &t->insn[k];
    int form = pr_form(i, m);
    ZydisEncoderRequest req;
    if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&i->zi, i->ops, i->zi.operand_count_visible, &req)))
        return -1;
    int other = 1 - m->op;
    if (form == PR_STORE) {                              /* keep the store, set the register */
        ZydisEncoderRequest mv;
        bb_req_reg(&mv, ZYDIS_MNEMONIC_MOV, 2, pr_reg(s->reg, s->size));
        mv.operands[1] = req.operands[other];
        if (mv.operands[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && s->size == 4)
            mv.operands[1].imm.u &= 0xffffffffu;
        return pr_new(t, k + 1, i->app_pc, &mv) ? 1 : -1;
    }
    req.operands[m->op].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[m->op].reg.value = pr_reg(s->reg, s->size);
    hp_memset(&req.operands[m->op].mem, 0, sizeof(req.operands[m->op].mem));
    if (ir_set_insn(i, &req) != HP_OK) return -1;
    if (form != PR_RMW) return 0;
    ZydisEncoderRequest st;                              /* the result goes to memory too */
    bb_req_reg(&st, ZYDIS_MNEMONIC_MOV, 2, pr_reg(s->reg, s->size));
    st.operands[1] = st.operands[0];
    pr_slot_op(&st.operands[0], s);
    return pr_new(t, k + 1, i->app_pc, &st) ? 1 : -1;
}

/* pr_writes_rbp_only: every memory operand i writes (implicit ones too: push, call,
 * string instructions) is [rbp + disp] without index or segment; such a store can only
 * touch a promoted slot if it overlaps it, and those slots are not promoted (pr_find). */
static int pr_writes_rbp_only(const ir_insn_t *i)
{
    if (i->kind != IR_COPY) return 0;
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
        if (!(op->actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE))) continue;
        if (op->mem.base != ZYDIS_REGISTER_RBP || op->mem.index != ZYDIS_REGISTER_NONE ||
            op->mem.segment == ZYDIS_REGISTER_FS || op->mem.segment == ZYDIS_REGISTER_GS)
            return 0;
    }
    return 1;
}

/* pr_reload: after instruction k (a store that may alias), the registers read the slots. */
static int pr_reload(ir_trace_t *t, int k, const pr_slot_t *slots, int nslots)
{
    int added = 0;
    for (int j = 0; j < nslots; j++) {
        if (slots[j].reg < 0) continue;
        ZydisEncoderRequest ld;
        bb_req_reg(&ld, ZYDIS_MNEMONIC_MOV, 2, pr_reg(slots[j].reg, slots[j].size));
        pr_slot_op(&ld.operands[1], &slots[j]);
        if (!pr_new(t, k + 1 + added, t->insn[k].app_pc, &ld)) return -1;
        added++;
    }
    return added;
}

int opt_pass_promote(ir_trace_t *t)
{
    if (t->n < 2 || t->npromo || t->no_promote) return 0;
    ir_insn_t *last = &t->insn[t->n - 1];
    if (last->kind != IR_EXIT || last->target != t->head) return 0;
    pr_slot_t slots[PR_MAX_SLOTS];
    int nslots = 0;
    an_regs_t used = AN_REG(AN_RSP) | AN_REG(AN_RBP);
    for (int k = 0; k < t->n; k++) {                     /* what the loop touches */
        const ir_insn_t *i = &t->insn[k];
        an_effects_t e;
        an_effects(i, &e);
        if (e.opaque || i->kind == IR_SYSCALL || i->kind == IR_LOOP) return 0;
        if ((e.def | e.def_part) & AN_REG(AN_RBP)) return 0;
        used |= e.use | e.def | e.def_part;
        an_mem_t m;
        an_mem(i, &m);
        if (m.cls != AN_MEM_STACK || m.base != AN_RBP) continue;
        int overlap;
        pr_slot_t *s = pr_find(slots, nslots, m.disp, m.size, &overlap);
        if (!s) {
            if (nslots == PR_MAX_SLOTS) return 0;
            s = &slots[nslots++];
            hp_memset(s, 0, sizeof(*s));
            s->disp = m.disp;
            s->size = m.size;
            s->bad = overlap || (m.size != 4 && m.size != 8);
            pr_find(slots, nslots - 1, m.disp, m.size, &overlap);   /* mark the others */
        }
        s->uses++;
        int form = pr_form(i, &m);
        if (form == PR_NONE) s->bad = 1;
        if (form == PR_STORE || form == PR_RMW) s->written = 1;
    }
    /* not rax, rcx, rdx: exit stubs, inline checks and lookups borrow them */
    static const int order[] = { AN_R11, AN_R10, AN_R9, AN_R8, AN_R15, AN_R14, AN_R13, AN_R12,
                                 AN_RBX, AN_RSI, AN_RDI };
    int next = 0, npromo = 0;
    for (int k = 0; k < nslots; k++) slots[k].reg = -1;
    while (npromo < IR_MAX_PROMO) {                      /* most used first */
        int best = -1;
        for (int k = 0; k < nslots; k++)
            if (!slots[k].bad && slots[k].written && slots[k].reg < 0 && slots[k].uses >= 2 &&
                (best < 0 || slots[k].uses > slots[best].uses))
                best = k;
        if (best < 0) break;
        while (next < (int)(sizeof(order) / sizeof(order[0])) && (used & AN_REG(order[next]))) next++;
        if (next == (int)(sizeof(order) / sizeof(order[0]))) break;
        slots[best].reg = order[next++];
        t->promo[npromo].reg = slots[best].reg;
        t->promo[npromo].base = AN_RBP;
        t->promo[npromo].disp = slots[best].disp;
        t->promo[npromo].size = slots[best].size;
        npromo++;
    }
    if (!npromo) return 0;
    /* rewrite: on any failure the trace keeps its original instructions */
    ir_insn_t *saved = heap_alloc(sizeof(ir_insn_t) * (size_t)t->n);
    if (!saved) return 0;
    int saved_n = t->n, changed = 0;
    hp_memcpy(saved, t->insn, sizeof(ir_insn_t) * (size_t)t->n);
    for (int k = 0; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        if (i->flags & IR_F_NEW) continue;
        an_effects_t e;
        an_effects(i, &e);
        an_mem_t m;
        an_mem(i, &m);
        int overlap, added = 0;
        pr_slot_t *s = m.cls == AN_MEM_STACK && m.base == AN_RBP ? pr_find(slots, nslots, m.disp, m.size, &overlap) : 0;
        if (s && s->reg >= 0) {
            added = pr_rewrite(t, k, &m, s);
            changed++;
        } else if ((e.mem_write || i->kind == IR_CALL) && !pr_writes_rbp_only(i)) {
            added = pr_reload(t, k, slots, nslots);     /* may alias a slot: read them again */
        }
        if (added < 0) {
            hp_memcpy(t->insn, saved, sizeof(ir_insn_t) * (size_t)saved_n);
            t->n = saved_n;
            heap_free(saved);
            return 0;
        }
        k += added;
    }
    heap_free(saved);
    t->npromo = npromo;
    return changed;
}
