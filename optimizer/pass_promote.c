/* pass_promote.c — loop register promotion: when a trace is a loop (an exit goes back to
 * its head: its last instruction, or a branch whose other way was recorded, as NET records
 * a short loop's last round), the stack slots it uses most live in registers the trace
 * never touches, write-through: loads of a slot become register moves, stores keep their
 * store and also set the register, read-modify-writes compute in the register and store
 * the result. Integer slots go to free general registers; double slots used only by
 * legacy-SSE scalar forms (movsd/movq, addsd ... ucomisd) go to a free xmm8..15, in a loop
 * whose vector code is all legacy SSE (the register's bits above 127 are never touched).
 * The emitter (ir_emit.c) adds the preheader (save the borrowed registers' app values in
 * the thread, load the slots), jumps back past it, and restores the registers on every
 * exit.
 * Slots (optimizer/frame.h): when the frame is tracked through the loop and it is the
 * head's wherever the loop goes round, a slot is an offset from rsp at the head, whichever
 * register addresses it, so a loop that calls -O0 functions keeps its own slots and its
 * callees' (push, call and frame set-up write known cells: no reloads); offsets from both
 * rsp and rbp make the preheader check rbp - rsp == frame_k first (ir_trace_t.promo_guard).
 * Otherwise a slot is an [rbp + disp] operand of a loop that never writes rbp.
 * Exactness: memory is always native (every store stays); the borrowed registers get their
 * app values back at every exit and, for signals, from the thread's save area
 * (runtime/signals.c, promo_lo..promo_hi; xmm values into the context's fpstate). Flags are
 * the app's at every instruction: replaced operands keep the operation and width. Two
 * deviations, documented in optimizer/README.md: a fault loading a slot in the preheader
 * is not the app's (the loop might have left before that access): the traces are flushed
 * and the head never promotes again (runtime/signals.c, traces/trace.c
 * trace_promotion_fault), and the store after a register read-modify-write (an inserted
 * instruction) is not a translatable point: the slot was read at the loop's entry, so it
 * faults only if the stack is unmapped under the loop.
 * Which slots: uses and stores are counted in the rounds only (up to the last branch back to
 * the head; what a trace runs after a mid-trace loop runs once per entry); a slot whose
 * reloads left in the rounds are more than half its uses is not worth its register, and the
 * loop is promoted again without it (pr_costly).
 * Memory others can write: a slot is promoted only if the loop itself stores to it (a
 * loop that only reads a location may be waiting for another thread or process to write
 * it — even on its own stack: the kernel completing an io_uring read into a local, a
 * debugger's process_vm_writev; tests/programs/promote_readonly.c), and only while the
 * process has one thread (trace_build says so; when a second thread starts, promoted
 * traces are flushed: traces/trace_cache.c).
 * Up to IR_MAX_PROMO slots, most used first, no more than PR_MAX_RELOADS allows (one
 * reload per slot after each store through a pointer), and one fewer each time a rewrite
 * runs out of room in the trace's IR (trace_build sizes it from the path).
 * Applies only when there is no opaque instruction, system call or loop instruction, and
 * each promoted slot is only accessed with one size at one offset by the forms handled
 * here; a store whose address is not known (through any other pointer) reloads the
 * registers from memory after it, unless its address can be checked: where every slot is
 * [rbp + disp] with rbp the head's throughout the loop (framed loops whose offsets mix rsp
 * and rbp too, behind the frame guard) and rcx is not used by the loop, rcx is borrowed
 * too (an entry without a slot; the least used slot gives way when all IR_MAX_PROMO, eight,
 * are taken)
 * and the emitter follows such a store with a flag-free test of its address against the
 * slots' span (ir_emit.c ie_alias_check): the registers read their slots again only when
 * it may have touched them. Inline checks in such a loop spill and reload the borrowed
 * rcx like an app one; their way into the lookup hands its app value over in the spill
 * slot (ir_emit.c ie_restore). */
#include "opt.h"
#include "analysis.h"
#include "frame.h"
#include "heap.h"
#include "builder_int.h"

#define PR_MAX_SLOTS 64
/* Reloads after stores through pointers one rewrite may insert: every store reloading
 * every slot costs more than the registers save, and each reload takes room in the IR
 * (1.2 KiB an instruction; a review's loop of 600 such stores a round). */
#define PR_MAX_RELOADS 256

/* The general registers a loop may borrow, in the order tried: not rax, rcx, rdx (exit
 * stubs, inline checks and lookups use them). */
static const int pr_order[] = { AN_R11, AN_R10, AN_R9, AN_R8, AN_R15, AN_R14, AN_R13, AN_R12,
                                AN_RBX, AN_RSI, AN_RDI };
#define PR_NORDER ((int)(sizeof(pr_order) / sizeof(pr_order[0])))

typedef struct {
    int64_t disp;
    int size;
    int uses;
    int bad;                    /* accessed in a form or size we do not handle */
    int written;                /* the loop stores to it (only such slots are promoted) */
    int xmm;                    /* 1: accessed by SSE scalar-double forms, 0: by integer ones,
                                   -1: not yet known */
    int reg;                    /* chosen register, or -1 */
} pr_slot_t;

/* The slot access forms we rewrite (with m = the slot operand); PR_X*: a double slot kept
 * in an xmm register (legacy SSE encodings only). */
enum { PR_NONE, PR_LOAD, PR_STORE, PR_SRC, PR_RMW, PR_XLOAD, PR_XSTORE, PR_XSRC };

/* pr_xform: movsd/movq between the slot and an xmm register, or a scalar-double operation
 * reading it (whose register form computes exactly the same: the destination's upper half
 * is kept in both, movq zeroes it as movsd from memory does). */
static int pr_xform(const ir_insn_t *i, const an_mem_t *m)
{
    const ZydisDecodedInstruction *in = &i->zi;
    if (in->encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY || in->operand_count_visible != 2 || m->size != 8)
        return PR_NONE;
    int other = 1 - m->op;
    if (other < 0 || other > 1 || i->ops[other].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        ZydisRegisterGetClass(i->ops[other].reg.value) != ZYDIS_REGCLASS_XMM)
        return PR_NONE;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_MOVSD: case ZYDIS_MNEMONIC_MOVQ:
        return m->op == 1 ? PR_XLOAD : PR_XSTORE;
    case ZYDIS_MNEMONIC_ADDSD: case ZYDIS_MNEMONIC_SUBSD: case ZYDIS_MNEMONIC_MULSD:
    case ZYDIS_MNEMONIC_DIVSD: case ZYDIS_MNEMONIC_MINSD: case ZYDIS_MNEMONIC_MAXSD:
    case ZYDIS_MNEMONIC_SQRTSD: case ZYDIS_MNEMONIC_UCOMISD: case ZYDIS_MNEMONIC_COMISD:
    case ZYDIS_MNEMONIC_CVTSD2SS:
        return m->op == 1 ? PR_XSRC : PR_NONE;
    default:
        return PR_NONE;
    }
}

static int pr_form(const ir_insn_t *i, const an_mem_t *m)
{
    const ZydisDecodedInstruction *in = &i->zi;
    int x = pr_xform(i, m);
    if (x != PR_NONE) return x;
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

static ZydisRegister pr_reg(const pr_slot_t *s)
{
    if (s->xmm == 1) return ZydisRegisterEncode(ZYDIS_REGCLASS_XMM, (ZyanU8)s->reg);
    return ZydisRegisterEncode(s->size == 8 ? ZYDIS_REGCLASS_GPR64 : ZYDIS_REGCLASS_GPR32, (ZyanU8)s->reg);
}

/* pr_mov_mnemonic: the register move of slot s's class (movq zeroes an xmm's upper half). */
static ZydisMnemonic pr_mov_mnemonic(const pr_slot_t *s)
{
    return s->xmm == 1 ? ZYDIS_MNEMONIC_MOVQ : ZYDIS_MNEMONIC_MOV;
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

/* Where a slot is addressed at one point of the loop: [base + disp]. */
typedef struct { int base; int64_t disp; } pr_addr_t;

static void pr_slot_op(ZydisEncoderOperand *op, const pr_slot_t *s, pr_addr_t a)
{
    op->type = ZYDIS_OPERAND_TYPE_MEMORY;
    op->mem.base = ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, (ZyanU8)a.base);
    op->mem.displacement = a.disp;
    op->mem.size = (ZyanU16)s->size;
}

/* pr_rewrite: instruction k accesses slot s through its operand m->op: rewrite it. Returns
 * the instructions inserted after it, or -1 if it cannot be encoded (the trace is then left
 * unpromoted). The store of a read-modify-write uses the instruction's own address. */
static int pr_rewrite(ir_trace_t *t, int k, const an_mem_t *m, const pr_slot_t *s)
{
    ir_insn_t *i = &t->insn[k];
    int form = pr_form(i, m);
    ZydisEncoderRequest req;
    if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&i->zi, i->ops, i->zi.operand_count_visible, &req)))
        return -1;
    int other = 1 - m->op;
    if (form == PR_XLOAD) {                              /* movq %xmmP,%xmmD */
        ZydisEncoderRequest mv;
        bb_req_reg(&mv, ZYDIS_MNEMONIC_MOVQ, 2, i->ops[other].reg.value);
        mv.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
        mv.operands[1].reg.value = pr_reg(s);
        return ir_set_insn(i, &mv) == HP_OK ? 0 : -1;
    }
    if (form == PR_STORE || form == PR_XSTORE) {         /* keep the store, set the register */
        ZydisEncoderRequest mv;
        bb_req_reg(&mv, pr_mov_mnemonic(s), 2, pr_reg(s));
        mv.operands[1] = req.operands[other];
        if (mv.operands[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && s->size == 4)
            mv.operands[1].imm.u &= 0xffffffffu;
        return pr_new(t, k + 1, i->app_pc, &mv) ? 1 : -1;
    }
    ZydisEncoderOperand slot = req.operands[m->op];
    req.operands[m->op].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[m->op].reg.value = pr_reg(s);
    hp_memset(&req.operands[m->op].mem, 0, sizeof(req.operands[m->op].mem));
    if (ir_set_insn(i, &req) != HP_OK) return -1;
    if (form != PR_RMW) return 0;
    ZydisEncoderRequest st;                              /* the result goes to memory too */
    bb_req_reg(&st, ZYDIS_MNEMONIC_MOV, 2, pr_reg(s));
    st.operands[1] = st.operands[0];
    st.operands[0] = slot;
    return pr_new(t, k + 1, i->app_pc, &st) ? 1 : -1;
}

/* pr_writes_rbp_only: every memory operand i writes (implicit ones too: push, call,
 * string instructions) is [rbp + disp] without index or segment; such a store can only
 * touch a promoted slot if it overlaps it, and those slots are not promoted (pr_find). */
static int pr_writes_rbp_only(const ir_insn_t *i)
{
    if (i->kind != IR_COPY || an_mem_bit_offset(i)) return 0;
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

/* pr_reload: after instruction k (a store that may alias), the registers read the slots,
 * addressed at a (per slot) as they are there. */
static int pr_reload(ir_trace_t *t, int k, const pr_slot_t *slots, int nslots, const pr_addr_t *a)
{
    int added = 0;
    for (int j = 0; j < nslots; j++) {
        if (slots[j].reg < 0) continue;
        ZydisEncoderRequest ld;
        bb_req_reg(&ld, pr_mov_mnemonic(&slots[j]), 2, pr_reg(&slots[j]));
        pr_slot_op(&ld.operands[1], &slots[j], a[j]);
        if (!pr_new(t, k + 1 + added, t->insn[k].app_pc, &ld)) return -1;
        added++;
    }
    return added;
}

/* pr_rw: how i uses promoted register p (hardware number; xmm or general): *reads, and
 * *writes when it sets the value the loop keeps there (a whole 32/64-bit or movq write). */
static void pr_rw(const ir_insn_t *i, const ir_promo_t *p, int *reads, int *writes)
{
    *reads = *writes = 0;
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
            if (!p->xmm && (an_reg_id(op->mem.base) == p->reg || an_reg_id(op->mem.index) == p->reg))
                *reads = 1;
            continue;
        }
        if (op->type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
        ZydisRegisterClass rc = ZydisRegisterGetClass(op->reg.value);
        int is_x = rc == ZYDIS_REGCLASS_XMM || rc == ZYDIS_REGCLASS_YMM || rc == ZYDIS_REGCLASS_ZMM;
        int id = is_x ? ZydisRegisterGetId(op->reg.value) : an_reg_id(op->reg.value);
        if (is_x != p->xmm || id != p->reg) continue;
        if (op->actions & (ZYDIS_OPERAND_ACTION_READ | ZYDIS_OPERAND_ACTION_CONDREAD)) *reads = 1;
        if ((op->actions & ZYDIS_OPERAND_ACTION_WRITE) && !(op->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) &&
            (p->xmm ? i->zi.mnemonic == ZYDIS_MNEMONIC_MOVQ : op->size >= 32))
            *writes = 1;
    }
}

/* pr_is_reload: i is a reload pr_reload put after a store (an inserted load of a register
 * from memory; its app pc is the store's). */
static int pr_is_reload(const ir_insn_t *i)
{
    return (i->flags & IR_F_NEW) && i->kind == IR_COPY && i->ops[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
           i->ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY &&
           (i->zi.mnemonic == ZYDIS_MNEMONIC_MOV || i->zi.mnemonic == ZYDIS_MNEMONIC_MOVQ);
}

/* pr_prune_reloads: a reload (after a store that may alias) whose register is written again
 * before the loop reads it is dead: gone. Exits do not read the borrowed registers (they
 * get the app's values back); going round reads them all. Returns how many went. */
static int pr_prune_reloads(ir_trace_t *t)
{
    uint32_t live = 0, all = (1u << t->npromo) - 1;
    int removed = 0, top = t->n;       /* what stays gathers at [top, n), moved down at the end */
    for (int k = t->n - 1; k >= 0; k--) {
        ir_insn_t *i = &t->insn[k];
        if ((i->kind == IR_EXIT || i->kind == IR_JCC) && i->target == t->head) live |= all;
        else if (i->kind == IR_EXIT) live = 0;
        int reload = pr_is_reload(i);
        uint32_t rd = 0, wr = 0;
        for (int j = 0; j < t->npromo; j++) {
            int r, w;
            pr_rw(i, &t->promo[j], &r, &w);
            rd |= (uint32_t)r << j;
            wr |= (uint32_t)w << j;
        }
        if (reload && wr && !(live & wr)) { heap_free(i->comp); removed++; continue; }
        live = (live & ~wr) | rd;
        if (--top != k) hp_memcpy(&t->insn[top], i, sizeof(ir_insn_t));   /* (top > k: moved or gone) */
    }
    ir_close_gap(t, 0, top);
    return removed;
}

/* The loop's view of the stack. Framed (frame.h, the loop is balanced): a slot is an
 * offset from S0, whichever register addressed it, so a loop that calls functions (push
 * rbp; mov %rsp,%rbp; ... leave; ret) keeps its slots and its callees' in registers; pushes
 * and calls write known cells, not "anywhere". Otherwise (rbp never written): a slot is an
 * [rbp + disp] operand as before, and every other store may alias. */
typedef struct {
    fr_info_t f;
    int framed;
    int by_rbp;                 /* framed, slots addressed through rbp: rbp is the head's
                                   everywhere and offsets come from it (or mix, behind the
                                   frame guard) */
} pr_view_t;

/* pr_access: the slot access j of instruction i, originally the trace's k-th (the framed
 * view has at most FR_MAX_ACC, the other one at most 1). */
static int pr_access(const ir_insn_t *i, const pr_view_t *v, int k, int j, int64_t *off, an_mem_t *m)
{
    if (v->framed) {
        const fr_insn_t *a = &v->f.at[k];
        if (j >= a->nacc) return 0;
        hp_memset(m, 0, sizeof(*m));
        m->cls = AN_MEM_STACK;
        m->op = a->acc[j].op;
        m->size = a->acc[j].size;
        *off = a->acc[j].off;
        return 1;
    }
    if (j) return 0;
    an_mem(i, m);
    if (m->cls != AN_MEM_STACK || m->base != AN_RBP) return 0;
    *off = m->disp;
    return 1;
}

/* pr_where: slot s's address before original instruction k (k == n: at the end). */
static pr_addr_t pr_where(const ir_trace_t *t, const pr_view_t *v, int k, const pr_slot_t *s)
{
    if (!v->framed) return (pr_addr_t){ AN_RBP, s->disp };
    if (k >= v->f.n)                                     /* the end: the head's frame */
        return v->by_rbp ? (pr_addr_t){ AN_RBP, s->disp - t->frame_k } : (pr_addr_t){ AN_RSP, s->disp };
    const fr_insn_t *a = &v->f.at[k];
    if (v->by_rbp) return (pr_addr_t){ AN_RBP, s->disp - a->rbp };     /* rbp_head there */
    if (!a->rsp_ok) return (pr_addr_t){ -1, 0 };         /* cannot be addressed here */
    return (pr_addr_t){ AN_RSP, s->disp - a->rsp };
}

/* pr_alias_op: i (a store that may alias, in a loop whose slots are all [rbp + disp] with
 * rbp fixed) can have its address checked after it instead of reloading: its only memory
 * write is one explicit operand through general registers it does not itself write, no
 * segment, not RIP-relative, and the check's displacement and window fit (slots in
 * [lo, hi)). Returns the operand's index, or -1. */
static int pr_alias_op(const ir_insn_t *i, const an_effects_t *e, int64_t lo, int64_t hi, int nslot)
{
    if (i->kind != IR_COPY || an_mem_bit_offset(i) || e->opaque || e->barrier) return -1;
    int w = an_mem_store_op(i);
    if (w < 0) return -1;
    const ZydisDecodedOperand *m = &i->ops[w];
    int b = an_reg_id(m->mem.base), x = an_reg_id(m->mem.index);
    if ((m->mem.base != ZYDIS_REGISTER_NONE && b < 0) ||
        (m->mem.index != ZYDIS_REGISTER_NONE && x < 0) ||
        m->mem.segment == ZYDIS_REGISTER_FS || m->mem.segment == ZYDIS_REGISTER_GS ||
        i->zi.address_width != 64 || m->size < 8 || m->size > 512)
        return -1;
    an_regs_t addr = (b >= 0 ? AN_REG(b) : 0) | (x >= 0 ? AN_REG(x) : 0);
    if ((e->def | e->def_part) & addr) return -1;
    int64_t d = m->mem.disp.value + m->size / 8 - 1 - lo;
    if (d != (int32_t)d || d + 1 != (int32_t)(d + 1) || hi - lo + m->size / 8 - 1 > 65536) return -1;
    /* worth it: the check is 4 instructions through rbp + index, 6-7 through another
       pointer; the reloads it saves are one load per slot (matmul.O0's loop of one slot,
       bound by its instruction count, ran 0.77 -> 0.91 of native with a 7-instruction check) */
    int direct = m->mem.base == ZYDIS_REGISTER_RBP && m->mem.index != ZYDIS_REGISTER_RBP;
    if (nslot < (direct ? 2 : 3)) return -1;
    return w;
}

/* pr_wild: instruction i (the trace's k-th before any rewrite; effects e) writes memory at
 * an address that may be a slot's. */
static int pr_wild(const ir_insn_t *i, const pr_view_t *v, int k, const an_effects_t *e)
{
    if (v->framed) return v->f.at[k].wild;
    return (e->mem_write || i->kind == IR_CALL) && !pr_writes_rbp_only(i);
}


#define PR_STATUS_FLAGS (AN_ALL_FLAGS & ~(an_flags_t)ZYDIS_CPUFLAG_DF)

/* pr_reloads_after: how many of pr_reload's reloads follow the store at k. */
static int pr_reloads_after(const ir_trace_t *t, int k)
{
    int m = 0;
    while (k + 1 + m < t->n && pr_is_reload(&t->insn[k + 1 + m]) && t->insn[k + 1 + m].app_pc == t->insn[k].app_pc)
        m++;
    return m;
}

/* pr_flag_checks: a store through a pointer that reloads the promoted registers after it
 * (IR_F_WILD; all slots [rbp + disp], rbp the head's throughout) has its address checked
 * instead, with flags, where the status flags are dead after it and nothing up to their
 * next writer can fault, exit or be a barrier (an_inexact_region; those instructions become
 * IR_F_INEXACT): lea/sub/cmp/jb in a scratch register the loop borrows (rcx when the
 * flag-free checks borrow it already, else a free register, an entry without a slot) and
 * the reloads out of line, taken only when the store's bytes may touch the slots' span.
 * A check replaces reloads only where they are more instructions than it (two or more
 * slots for lea, cmp/jb; three or more with the sub): on this machine a reload right after
 * the store that wrote the slot costs about one instruction (matmul.O0's one-slot loop ran
 * 0.71 -> 0.77 of native with the check instead of the reload), and the taken jmp of the
 * flag-free form is what the flags save (fannkuch.O0 0.767 -> 0.760, medians 0.781 ->
 * 0.755). At most BB_COLD per trace (the emitter's out-of-line reloads). Returns how many
 * stores it converted. */
static int pr_flag_checks(ir_trace_t *t, an_regs_t used)
{
    int64_t lo, hi;
    if (!ir_promo_span(t, t->npromo, &lo, &hi)) return 0;
    int scratch = ir_promo_scratch(t), done = 0, wild = 0, ok = 0;
    for (int k = 0; k < t->n; k++) {                     /* the flag-free checks: one by one */
        ir_insn_t *i = &t->insn[k];
        if (done == BB_COLD) break;                      /* the emitter's out-of-line reloads */
        if ((i->flags & IR_F_ALIAS) && an_inexact_region(t, k, 0, PR_STATUS_FLAGS, 1)) {
            i->flags = (uint8_t)((i->flags & ~IR_F_ALIAS) | IR_F_ALIAS_FL);   /* scratch: rcx */
            done++;
        }
    }
    /* the reloads: all of them or none (a store's reloads may be dead only because a later
       store's reload the same registers; pr_prune_reloads runs after this) */
    for (int k = 0; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        if (!(i->flags & IR_F_WILD)) continue;
        wild++;
        int m = pr_reloads_after(t, k), w = an_mem_store_op(i);
        an_effects_t e;
        an_effects(i, &e);
        if (m && pr_alias_op(i, &e, lo, hi, IR_MAX_PROMO) >= 0 && an_inexact_region(t, k + m, 0, PR_STATUS_FLAGS, 0) &&
            m >= (ir_check_direct(&i->ops[w]) ? 2 : 3))
            ok++;
    }
    if (!wild || ok < wild || done + wild > BB_COLD) return done;
    for (int k = 0; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        if (!(i->flags & IR_F_WILD)) continue;
        int m = pr_reloads_after(t, k);
        if (scratch < 0) {                               /* borrow a register the loop never names */
            an_regs_t taken = used;
            for (int j = 0; j < t->npromo; j++)
                if (!t->promo[j].xmm) taken |= AN_REG(t->promo[j].reg);
            for (int j = 0; j < PR_NORDER && scratch < 0; j++)
                if (!(taken & AN_REG(pr_order[j]))) scratch = pr_order[j];
            if (scratch < 0 || t->npromo == IR_MAX_PROMO) return done;
            ir_promo_t *p = &t->promo[t->npromo++];
            hp_memset(p, 0, sizeof(*p));
            p->reg = scratch;
            p->base = -1;
            p->size = 8;
        }
        ir_remove_range(t, k + 1, m);
        an_inexact_region(t, k, 0, PR_STATUS_FLAGS, 1);
        t->insn[k].flags |= IR_F_ALIAS_FL;
        done++;
    }
    return done;
}

/* pr_costly: a promoted slot whose reloads cost what promoting it saves, or -1. Each reload
 * left in the rounds (after a store through a pointer that is not checked, once
 * pr_prune_reloads dropped those no read needs) is a load, as each use of the slot was, and
 * the slot's stores all stay: a slot is worth its register only while twice its reloads
 * are at most its uses (nbody.O0: six stores through pointers a round, each reloading
 * slots used about as often; a cost, never a question of correctness). */
static int pr_costly(const ir_trace_t *t, const pr_slot_t *slots, int nslots)
{
    int end = -1;
    for (int k = 0; k < t->n; k++)
        if ((t->insn[k].kind == IR_EXIT || t->insn[k].kind == IR_JCC) && t->insn[k].target == t->head) end = k;
    for (int j = 0; j < t->npromo; j++) {
        const ir_promo_t *p = &t->promo[j];
        if (p->base < 0) continue;
        int reloads = 0;
        for (int k = 0; k <= end; k++) {
            int r, w;
            if (!pr_is_reload(&t->insn[k])) continue;
            pr_rw(&t->insn[k], p, &r, &w);
            reloads += w;
        }
        for (int s = 0; s < nslots; s++)
            if (slots[s].reg == p->reg && slots[s].xmm == p->xmm && 2 * reloads > slots[s].uses) return s;
    }
    return -1;
}

int opt_pass_promote(ir_trace_t *t)
{
    if (t->n < 2 || t->npromo || t->no_promote || t->unpromoted) return 0;
    int round_end = -1;                  /* the last exit back to the head: the last one, or a
                                            branch whose other side was recorded (the loop's
                                            last round: NET's path of a short loop); what
                                            follows it runs once per entry, not per round */
    for (int k = 0; k < t->n; k++)
        if ((t->insn[k].kind == IR_EXIT || t->insn[k].kind == IR_JCC) && t->insn[k].target == t->head) round_end = k;
    if (round_end < 0) return 0;
    pr_view_t v;
    if (fr_track(t, &v.f) != HP_OK) return 0;
    v.framed = v.f.balanced;
    v.by_rbp = 0;
    pr_slot_t slots[PR_MAX_SLOTS];
    int nslots = 0, ret = 0, nwild = 0;                  /* nwild: stores that reload */
    an_regs_t used = AN_REG(AN_RSP) | AN_REG(AN_RBP);
    uint32_t used_x = 0;                                 /* vector registers the loop names */
    int sse_only = 1;                                    /* ... all through legacy SSE */
    for (int k = 0; k < t->n; k++) {                     /* what the loop touches */
        const ir_insn_t *i = &t->insn[k];
        an_effects_t e;
        an_effects(i, &e);
        if (e.opaque || i->kind == IR_SYSCALL || i->kind == IR_LOOP) goto out;
        for (int j = 0; j < i->zi.operand_count; j++) {
            if (i->ops[j].type != ZYDIS_OPERAND_TYPE_REGISTER) continue;
            ZydisRegisterClass rc = ZydisRegisterGetClass(i->ops[j].reg.value);
            if (rc != ZYDIS_REGCLASS_XMM && rc != ZYDIS_REGCLASS_YMM && rc != ZYDIS_REGCLASS_ZMM) continue;
            used_x |= 1u << (ZydisRegisterGetId(i->ops[j].reg.value) & 31);
            if (i->zi.encoding != ZYDIS_INSTRUCTION_ENCODING_LEGACY) sse_only = 0;
        }
        if (an_vec_all(i)) sse_only = 0;                 /* all vector registers, no operand */
        if (!v.framed && ((e.def | e.def_part) & AN_REG(AN_RBP))) goto out;
        used |= e.use | e.def | e.def_part;
        nwild += pr_wild(i, &v, k, &e);
        int64_t off;
        an_mem_t m;
        for (int j = 0; pr_access(i, &v, k, j, &off, &m); j++) {
            int overlap;
            pr_slot_t *s = pr_find(slots, nslots, off, m.size, &overlap);
            if (!s) {
                if (nslots == PR_MAX_SLOTS) goto out;
                s = &slots[nslots++];
                hp_memset(s, 0, sizeof(*s));
                s->disp = off;
                s->size = m.size;
                s->bad = overlap || (m.size != 4 && m.size != 8);
                s->xmm = -1;
                pr_find(slots, nslots - 1, off, m.size, &overlap);   /* mark the others */
            }
            int form = m.op >= 0 && (!v.framed || v.f.at[k].nacc == 1) ? pr_form(i, &m) : PR_NONE;
            int x = form >= PR_XLOAD;
            if (form == PR_NONE || (s->xmm >= 0 && s->xmm != x)) s->bad = 1;   /* one class */
            s->xmm = x;
            if (k > round_end) continue;                 /* the tail: rewritten, not counted */
            s->uses += form == PR_RMW ? 2 : 1;               /* an accumulator: load and store */
            if (form == PR_STORE || form == PR_RMW || form == PR_XSTORE) s->written = 1;
        }
    }
    /* framed: offsets all from the head's rbp, in a loop that keeps rbp, are addressed
       through rbp; else through rsp, which needs rbp - rsp == frame_k at entry if some
       offset came from rbp (the preheader checks: promo_guard) */
    if (v.framed) {
        int head_rbp = 1, guard_fits = t->frame_k_ok && t->frame_k == (int32_t)t->frame_k &&
                                       t->frame_k != INT32_MIN;    /* -frame_k fits disp32 */
        for (int k = 0; k < t->n && head_rbp; k++)
            if (!v.f.at[k].rbp_head) head_rbp = 0;
        /* through rbp also where offsets mix, behind the guard (which they need anyway), so
           stores through pointers can be checked against [rbp + disp] slots: nbody.O0's
           loop, whose call to sqrt pushes and pops through rsp */
        v.by_rbp = head_rbp && (!v.f.from_rsp || (v.f.from_rbp && guard_fits));
        if (!v.by_rbp && v.f.from_rbp && !guard_fits) goto out;
    }
    /* general registers in pr_order; xmm8..15 (the legacy encodings reach them; -O0 code
       rarely does), only in a loop whose vector code is all legacy SSE (the borrowed
       register's bits above 127 are never touched) */
    const int *order = pr_order;
    /* the loop as it came: the rewrite's undo, and a new try without a slot whose reloads
       cost what it saves (pr_costly) */
    ir_insn_t *saved = heap_alloc_uninit(sizeof(ir_insn_t) * (size_t)t->n);
    if (!saved) goto out;
    int saved_n = t->n, tries = 0, limit = IR_MAX_PROMO;
    while (limit > 0 && nwild * limit > PR_MAX_RELOADS) limit--;
    if (!limit) goto done;
    hp_memcpy(saved, t->insn, sizeof(ir_insn_t) * (size_t)t->n);
select:;
    int next = 0, next_x = 15, npromo = 0;
    for (int k = 0; k < nslots; k++) slots[k].reg = -1;
    for (int k = 0; k < nslots; k++)
        if (slots[k].xmm == 1 && !sse_only) slots[k].bad = 1;
    while (npromo < limit) {                             /* most used first */
        int best = -1;
        for (int k = 0; k < nslots; k++)
            if (!slots[k].bad && slots[k].written && slots[k].reg < 0 && slots[k].uses >= 2 &&
                (best < 0 || slots[k].uses > slots[best].uses))
                best = k;
        if (best < 0) break;
        if (slots[best].xmm == 1) {
            while (next_x >= 8 && (used_x >> next_x & 1)) next_x--;
            if (next_x < 8) { slots[best].bad = 1; continue; }
            slots[best].reg = next_x--;
        } else {
            while (next < PR_NORDER && (used & AN_REG(order[next]))) next++;
            if (next == PR_NORDER) { slots[best].bad = 1; continue; }
            slots[best].reg = order[next++];
        }
        pr_addr_t a = pr_where(t, &v, t->n, &slots[best]);         /* at the head */
        t->promo[npromo].xmm = slots[best].xmm == 1;
        t->promo[npromo].reg = slots[best].reg;
        t->promo[npromo].base = a.base;
        t->promo[npromo].disp = a.disp;
        t->promo[npromo].size = slots[best].size;
        npromo++;
    }
    if (!npromo) goto done;
    /* a store through a pointer may hit a slot: its address is checked after it (flag-free,
       in rcx, borrowed like the slots' registers) and the registers read their slots again
       only when it lands near them; else they are read again after every such store. Only
       where the slots are [rbp + disp] with rbp the head's throughout and rcx is free. */
    int alias_ok = (!v.framed || v.by_rbp) && !(used & AN_REG(AN_RCX));
    int keep = npromo < IR_MAX_PROMO ? npromo : IR_MAX_PROMO - 1;  /* rcx needs an entry */
    int64_t alias_lo, alias_hi;
    if (!ir_promo_span(t, keep, &alias_lo, &alias_hi)) alias_ok = 0;
    int checks = 0;                                      /* stores that can be checked */
    for (int k = 0; k < t->n && alias_ok; k++) {
        an_effects_t e;
        an_effects(&t->insn[k], &e);
        if (pr_wild(&t->insn[k], &v, k, &e) && pr_alias_op(&t->insn[k], &e, alias_lo, alias_hi, keep) >= 0)
            checks++;
    }
    if (!checks) alias_ok = 0;
    else if (keep < npromo) {                            /* the least used slot stays in memory */
        for (int k = 0; k < nslots; k++)
            if (slots[k].reg == t->promo[keep].reg && slots[k].xmm == t->promo[keep].xmm) slots[k].reg = -1;
        npromo = keep;
    }
    int alias_used = 0, changed = 0;
    /* rewrite: on any failure the trace keeps its original instructions */
    /* the loop is rebuilt in place from `saved`: instruction o goes to k >= o with what the
       rewrite adds after it appended (inserting one by one would move the rest each time); the
       capacity leaves room for the originals still to come, so the IR fills up exactly where
       inserting would have */
    const int cap = t->cap;
    int k = 0;
    for (int o = 0; o < saved_n; k++, o++) {             /* o: the original index */
        hp_memcpy(&t->insn[k], &saved[o], sizeof(ir_insn_t));
        t->n = k + 1;
        t->cap = cap - (saved_n - o - 1);
        ir_insn_t *i = &t->insn[k];
        an_effects_t e;
        an_effects(i, &e);
        int64_t off;
        an_mem_t m;
        int overlap, added = 0;
        pr_slot_t *s = pr_access(i, &v, o, 0, &off, &m) ? pr_find(slots, nslots, off, m.size, &overlap) : 0;
        int wild = pr_wild(i, &v, o, &e);
        if (s && s->reg >= 0) {
            added = pr_rewrite(t, k, &m, s);
            changed++;
        } else if (wild && alias_ok && pr_alias_op(i, &e, alias_lo, alias_hi, npromo) >= 0) {
            i->flags |= IR_F_ALIAS;                      /* checked after it (ir_emit.c) */
            alias_used = 1;
        } else if (wild) {                               /* may alias a slot: read them again */
            pr_addr_t a[PR_MAX_SLOTS];
            for (int j = 0; j < nslots; j++) {
                a[j] = pr_where(t, &v, o + 1, &slots[j]);
                if (a[j].base < 0 && slots[j].reg >= 0) added = -1;
            }
            if (!added) added = pr_reload(t, k, slots, nslots, a);
            if (added > 0) t->insn[k].flags |= IR_F_WILD;   /* maybe checked instead (below) */
        }
        t->cap = cap;
        if (added < 0) {                                 /* (the IR full: fewer slots) */
            hp_memcpy(t->insn, saved, sizeof(ir_insn_t) * (size_t)saved_n);
            t->n = saved_n;
            if (--limit > 0) goto select;
            goto done;
        }
        k += added;
    }
    t->n = k;
    if (alias_used) {                                    /* rcx: the checks' scratch */
        hp_memset(&t->promo[npromo], 0, sizeof(t->promo[npromo]));
        t->promo[npromo].reg = AN_RCX;
        t->promo[npromo].base = -1;
        t->promo[npromo].size = 8;
        npromo++;
    }
    t->npromo = npromo;
    t->promo_guard = v.framed && v.f.from_rbp && (!v.by_rbp || v.f.from_rsp);
    if (!v.framed || v.by_rbp) pr_flag_checks(t, used);
    pr_prune_reloads(t);
    for (int k = 0; k < t->n; k++) t->insn[k].flags &= (uint8_t)~IR_F_WILD;
    int costly = pr_costly(t, slots, nslots);
    if (costly >= 0) {                                   /* again without it (or none) */
        hp_memcpy(t->insn, saved, sizeof(ir_insn_t) * (size_t)saved_n);
        t->n = saved_n;
        t->npromo = 0;
        t->promo_guard = 0;
        slots[costly].bad = 1;
        if (++tries <= IR_MAX_PROMO) goto select;
        goto done;
    }
    ret = changed;
done:
    heap_free(saved);
out:
    fr_free(&v.f);
    return ret;
}
