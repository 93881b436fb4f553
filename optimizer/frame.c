/* frame.c — stack-frame tracking over a trace (frame.h): a forward walk that keeps rsp and
 * rbp as offsets from S0 (rsp at the head), and the values pushed on the stack that it can
 * name (the head's rbp, a frame pointer, a return address an IR_CALL pushed), so `pop
 * %rbp` and `leave` give the caller's frame back and a `ret` can be matched with its call.
 * Invariant: anything not modelled makes the register unknown (for the rest of the trace)
 * or the write wild (every remembered stack value is forgotten). */
#include "frame.h"
#include "analysis.h"
#include "heap.h"

enum { FR_FROM_RSP = 1, FR_FROM_RBP = 2 };     /* where an offset came from (fr_info.mixed) */

typedef struct {
    uint8_t ok, from;
    int64_t off;
} fr_val_t;

#define FR_MAX_CELLS 32
typedef struct {
    int64_t off;                /* an 8-byte stack cell at S0 + off */
    int from;                   /* where that offset came from (FR_FROM_*) */
    int is_ret;                 /* holds return address `ret` (else the value v) */
    uint64_t ret;
    fr_val_t v;
} fr_cell_t;

typedef struct {
    fr_val_t rsp, rbp;
    fr_cell_t cell[FR_MAX_CELLS];
    int ncell;
    int from_used;              /* FR_FROM_* of every access recorded */
} fr_state_t;

/* fr_forget: a write of size bytes at off, an offset that came from `from`: cells it may
 * overlap are forgotten, and so are cells whose offset came from elsewhere (the two only
 * compare through frame_k, which nothing checks unless promote's preheader does). */
static void fr_forget(fr_state_t *s, int64_t off, int size, int from)
{
    for (int c = 0; c < s->ncell;)
        if (fr_overlaps(s->cell[c].off, 8, off, size) || s->cell[c].from != from) s->cell[c] = s->cell[--s->ncell];
        else c++;
}

static void fr_remember(fr_state_t *s, int64_t off, int is_ret, uint64_t ret, fr_val_t v)
{
    fr_forget(s, off, 8, s->rsp.from);
    if (s->ncell == FR_MAX_CELLS) return;
    fr_cell_t *c = &s->cell[s->ncell++];
    c->off = off;
    c->from = s->rsp.from;
    c->is_ret = is_ret;
    c->ret = ret;
    c->v = v;
}

static const fr_cell_t *fr_cell(const fr_state_t *s, int64_t off)
{
    for (int c = 0; c < s->ncell; c++)
        if (s->cell[c].off == off) return &s->cell[c];
    return 0;
}

/* fr_acc: note an access of size bytes at v + disp (v known) in a. */
static void fr_acc(fr_state_t *s, fr_insn_t *a, fr_val_t v, int64_t disp, int size, int op, int write)
{
    if (a->nacc == FR_MAX_ACC || !v.ok) { if (write) a->wild = 1; return; }
    fr_acc_t *x = &a->acc[a->nacc++];
    x->off = v.off + disp;
    x->size = size;
    x->op = (int8_t)op;
    x->write = (uint8_t)write;
    s->from_used |= v.from;
    if (write) fr_forget(s, x->off, size, v.from);
}

static fr_val_t *fr_reg(fr_state_t *s, ZydisRegister r)
{
    if (r == ZYDIS_REGISTER_RSP) return &s->rsp;
    if (r == ZYDIS_REGISTER_RBP) return &s->rbp;
    return 0;
}

/* fr_explicit: the memory operands of i other than push/pop's implicit stack cell. */
static void fr_explicit(fr_state_t *s, const ir_insn_t *i, fr_insn_t *a, int skip_hidden_stack,
                        const fr_val_t *rsp_for_op)
{
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
        if (i->zi.meta.category == ZYDIS_CATEGORY_NOP) continue;
        int hidden = op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN;
        if (hidden && skip_hidden_stack && op->mem.base == ZYDIS_REGISTER_RSP) continue;
        int wr = (op->actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE)) != 0;
        int seg = op->mem.segment == ZYDIS_REGISTER_FS || op->mem.segment == ZYDIS_REGISTER_GS ||
                  an_mem_bit_offset(i);                   /* bts %reg,m: anywhere near m */
        const fr_val_t *base = op->mem.base == ZYDIS_REGISTER_RSP ? rsp_for_op :
                               op->mem.base == ZYDIS_REGISTER_RBP ? &s->rbp : 0;
        if (!base || seg || op->mem.index != ZYDIS_REGISTER_NONE || hidden) {
            if (wr) a->wild = 1;
            continue;
        }
        fr_acc(s, a, *base, op->mem.disp.value, op->size / 8, k, wr);
    }
}

/* fr_regs: rsp/rbp after an IR_COPY that is not push/pop/leave (before: s; e: its effects). */
static void fr_regs(fr_state_t *s, const ir_insn_t *i, const an_effects_t *ep)
{
    an_effects_t e = *ep;
    an_regs_t w = e.def | e.def_part;
    if (!(w & (AN_REG(AN_RSP) | AN_REG(AN_RBP)))) return;
    const ZydisDecodedInstruction *in = &i->zi;
    const ZydisDecodedOperand *o = i->ops;
    fr_val_t *d = in->operand_count_visible >= 1 ? fr_reg(s, o[0].reg.value) : 0;
    fr_val_t v = { 0, 0, 0 };
    if (d && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && in->operand_count_visible == 2 && !e.opaque) {
        if (in->mnemonic == ZYDIS_MNEMONIC_MOV && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
            fr_reg(s, o[1].reg.value))
            v = *fr_reg(s, o[1].reg.value);
        else if ((in->mnemonic == ZYDIS_MNEMONIC_ADD || in->mnemonic == ZYDIS_MNEMONIC_SUB) &&
                 o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && d->ok) {
            v = *d;
            v.off += in->mnemonic == ZYDIS_MNEMONIC_ADD ? o[1].imm.value.s : -o[1].imm.value.s;
        } else if (in->mnemonic == ZYDIS_MNEMONIC_LEA && o[1].mem.index == ZYDIS_REGISTER_NONE &&
                   fr_reg(s, o[1].mem.base) && o[1].mem.segment != ZYDIS_REGISTER_FS &&
                   o[1].mem.segment != ZYDIS_REGISTER_GS) {
            v = *fr_reg(s, o[1].mem.base);
            v.off += o[1].mem.disp.value;
        }
    }
    if (w & AN_REG(AN_RSP)) s->rsp.ok = 0;
    if (w & AN_REG(AN_RBP)) s->rbp.ok = 0;
    if (d && v.ok && in->operand_width == 64) *d = v;     /* one of the forms above */
}

static void fr_step(fr_state_t *s, const ir_insn_t *i, fr_insn_t *a)
{
    const ZydisDecodedInstruction *in = &i->zi;
    fr_val_t old_rsp = s->rsp;
    switch (i->kind) {
    case IR_CALL:
        s->rsp.off -= 8;
        fr_acc(s, a, s->rsp, 0, 8, -1, 1);
        if (s->rsp.ok) fr_remember(s, s->rsp.off, 1, i->target, s->rsp);
        return;
    case IR_SYSCALL:
        a->wild = 1;
        return;
    case IR_IND:
        fr_explicit(s, i, a, 1, &s->rsp);
        if (in->mnemonic == ZYDIS_MNEMONIC_RET) {
            const fr_cell_t *c = s->rsp.ok ? fr_cell(s, s->rsp.off) : 0;
            a->ret_ok = c && c->is_ret && i->target && c->ret == i->target;
            fr_acc(s, a, s->rsp, 0, 8, -1, 0);
            s->rsp.off += 8 + (in->operand_count_visible ? (int64_t)i->ops[0].imm.value.u : 0);
        } else if (in->mnemonic == ZYDIS_MNEMONIC_CALL) {
            s->rsp.off -= 8;
            fr_acc(s, a, s->rsp, 0, 8, -1, 1);
            if (s->rsp.ok) fr_remember(s, s->rsp.off, 1, i->app_pc + i->len, s->rsp);
        }
        return;
    case IR_COPY:
        break;
    default:
        return;
    }
    an_effects_t e;
    an_effects(i, &e);
    if (e.opaque) { a->wild = 1; s->rsp.ok = s->rbp.ok = 0; return; }
    int size = in->operand_width / 8;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_PUSH: case ZYDIS_MNEMONIC_PUSHFQ: {
        fr_explicit(s, i, a, 1, &old_rsp);                /* push [m]: m before the push */
        s->rsp.off -= size;
        fr_acc(s, a, s->rsp, 0, size, -1, 1);
        fr_val_t *r = in->mnemonic == ZYDIS_MNEMONIC_PUSH && i->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER
                      ? fr_reg(s, i->ops[0].reg.value) : 0;
        if (r && r->ok && size == 8 && s->rsp.ok) fr_remember(s, s->rsp.off, 0, 0, r == &s->rsp ? old_rsp : *r);
        return;
    }
    case ZYDIS_MNEMONIC_POP: case ZYDIS_MNEMONIC_POPFQ: {
        fr_acc(s, a, s->rsp, 0, size, -1, 0);
        const fr_cell_t *c = s->rsp.ok && size == 8 ? fr_cell(s, s->rsp.off) : 0;
        fr_val_t got = c && !c->is_ret ? c->v : (fr_val_t){ 0, 0, 0 };
        s->rsp.off += size;
        if (in->mnemonic == ZYDIS_MNEMONIC_POP && i->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            fr_val_t *r = fr_reg(s, i->ops[0].reg.value);
            if (r == &s->rsp) s->rsp.ok = 0;
            else if (r) *r = size == 8 ? got : (fr_val_t){ 0, 0, 0 };
        } else {
            fr_explicit(s, i, a, 1, &s->rsp);             /* pop [m]: m after the pop */
        }
        return;
    }
    case ZYDIS_MNEMONIC_LEAVE: {
        if (size != 8) { a->wild = 1; s->rsp.ok = s->rbp.ok = 0; return; }   /* leave16 */
        s->rsp = s->rbp;
        fr_acc(s, a, s->rsp, 0, 8, -1, 0);
        const fr_cell_t *c = s->rsp.ok ? fr_cell(s, s->rsp.off) : 0;
        s->rbp = c && !c->is_ret ? c->v : (fr_val_t){ 0, 0, 0 };
        s->rsp.off += 8;
        return;
    }
    default:
        break;
    }
    for (int k = 0; k < in->operand_count; k++)           /* other implicit stack use */
        if (i->ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY && i->ops[k].mem.base == ZYDIS_REGISTER_RSP &&
            i->ops[k].visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN) {
            a->wild = 1;
            s->rsp.ok = s->rbp.ok = 0;
            return;
        }
    fr_explicit(s, i, a, 0, &s->rsp);
    fr_regs(s, i, &e);
}

hp_status_t fr_track(const ir_trace_t *t, fr_info_t *f)
{
    hp_memset(f, 0, sizeof(*f));
    f->at = heap_alloc(sizeof(fr_insn_t) * (size_t)(t->n ? t->n : 1));
    if (!f->at) return HP_ERR_NOMEM;
    f->n = t->n;
    hp_memset(f->at, 0, sizeof(fr_insn_t) * (size_t)(t->n ? t->n : 1));
    fr_state_t s;
    hp_memset(&s, 0, sizeof(s));
    s.rsp = (fr_val_t){ 1, FR_FROM_RSP, 0 };
    s.rbp = (fr_val_t){ 1, FR_FROM_RBP, t->frame_k };
    int back_edges = 0, balanced = 1;
    for (int k = 0; k < t->n; k++) {
        fr_insn_t *a = &f->at[k];
        const ir_insn_t *i = &t->insn[k];
        if ((i->kind == IR_JCC || i->kind == IR_EXIT) && i->target == t->head) {   /* goes round */
            back_edges++;
            if (!(s.rsp.ok && s.rsp.from == FR_FROM_RSP && s.rsp.off == 0 &&
                  s.rbp.ok && s.rbp.from == FR_FROM_RBP && s.rbp.off == t->frame_k))
                balanced = 0;
        }
        a->rsp_ok = s.rsp.ok;
        a->rsp = s.rsp.off;
        a->rbp_ok = s.rbp.ok;
        a->rbp = s.rbp.off;
        a->rbp_head = s.rbp.ok && s.rbp.from == FR_FROM_RBP && s.rbp.off == t->frame_k;
        fr_step(&s, &t->insn[k], a);
        if (a->wild) s.ncell = 0;
    }
    f->balanced = back_edges && balanced;
    f->mixed = s.from_used == (FR_FROM_RSP | FR_FROM_RBP);
    f->from_rsp = (s.from_used & FR_FROM_RSP) != 0;
    f->from_rbp = (s.from_used & FR_FROM_RBP) != 0;
    if (f->mixed && !t->frame_k_ok) {                     /* offsets that cannot be compared */
        for (int k = 0; k < t->n; k++) { f->at[k].nacc = 0; f->at[k].wild = 1; f->at[k].ret_ok = 0; }
        f->balanced = 0;
    }
    return HP_OK;
}

void fr_free(fr_info_t *f)
{
    heap_free(f->at);
    f->at = 0;
}
