/* pass_rle.c — redundant load elimination and store-to-load forwarding over a trace's one
 * straight path: the pass follows, for stack slots ([rsp+d]/[rbp+d]) and absolute or
 * RIP-relative addresses, which general register holds the bytes a location has, and turns
 * a later load of those bytes (mov, movzx, movsx, movsxd into a general register) into the
 * same instruction from that register, or removes it when the destination already holds
 * exactly what the load would write.
 * Invariants:
 * - Exact at every instruction: a rewritten load writes the same value to the same register
 *   bits (a 32-bit load zero-extends, an 8/16-bit one merges, movzx/movsx extend as
 *   before); a removed load would have changed nothing. Flags are never touched.
 * - A location is known only while nothing since the access that made it known can have
 *   changed it or its holder: stores that may overlap (a different base, an unknown
 *   pointer, overlapping bytes), writes to the holder, barriers (lock, fences, syscalls),
 *   opaque instructions and changes of the pointer register the pass cannot follow.
 * - Memory order (TSO) and faults: an instruction that reads memory forgets everything, so
 *   a forwarded load is never moved across another load of this thread (loads stay in
 *   order; moving a load above stores is what the store buffer does anyway), and the
 *   earlier access of the same bytes has succeeded with no barrier or syscall since, so the
 *   removed access could not have faulted. A signal handler that changes the bytes cannot
 *   be missed: after a delivery the thread goes on from the dispatcher at the app pc, in
 *   code that is not this trace's middle.
 * - Stack pointers are followed as an anchor plus an offset: push/pop/call/ret, add/sub of a
 *   constant, lea, mov between rsp and rbp and leave keep rsp and rbp comparable; any other
 *   write gives the register a new anchor. Addresses through different anchors, and stack
 *   against absolute addresses, are assumed to overlap (rbp may point anywhere).
 * - Deterministic: a function of the IR only. */
#include "opt.h"
#include "analysis.h"
#include "heap.h"

#define RLE_MAX_KNOWN 32
#define RLE_ABS 0                       /* the anchor of absolute addresses */

typedef struct {
    int anchor;                         /* RLE_ABS, or an anchor a stack pointer had */
    int64_t off;                        /* from the anchor (RLE_ABS: the address) */
    int size;                           /* bytes */
} rle_loc_t;

typedef struct {
    rle_loc_t loc;
    int reg;                            /* the holder (an_reg_id): its low loc.size bytes */
    int full;                           /* the whole holder is the bytes zero-extended */
} rle_known_t;

typedef struct {
    int anchor;
    int64_t off;
} rle_ptr_t;                            /* a stack pointer's value: anchor + off */

typedef struct {
    rle_known_t known[RLE_MAX_KNOWN];
    int n;
    rle_ptr_t sp[2];                    /* [0] rsp, [1] rbp */
    int next_anchor;
    an_regs_t upper_zero;               /* registers whose upper 32 bits are known zero */
} rle_state_t;

enum { RLE_NONE, RLE_LOAD, RLE_STORE, RLE_USE };

typedef struct {
    int form;                           /* RLE_LOAD / RLE_STORE / RLE_USE / RLE_NONE */
    rle_loc_t loc;
    int reg;                            /* the register loaded or stored (an_reg_id); RLE_USE: -1 */
    ZydisRegister zreg;                 /* ... as the instruction names it */
    int op;                             /* RLE_USE: the memory operand's index */
} rle_access_t;

/* ==== knowledge ==== */

static void rle_forget_all(rle_state_t *s)
{
    s->n = 0;
}

static void rle_forget_if(rle_state_t *s, int (*dead)(const rle_known_t *, const void *),
                          const void *arg)
{
    int m = 0;
    for (int k = 0; k < s->n; k++)
        if (!dead(&s->known[k], arg)) s->known[m++] = s->known[k];
    s->n = m;
}

static int rle_held_by(const rle_known_t *k, const void *regs)
{
    return (AN_REG(k->reg) & *(const an_regs_t *)regs) != 0;
}

/* a store to loc may change k: other anchors may point anywhere near it */
static int rle_may_overlap(const rle_known_t *k, const void *loc)
{
    const rle_loc_t *l = loc;
    if (k->loc.anchor != l->anchor) return 1;
    return k->loc.off < l->off + l->size && l->off < k->loc.off + k->loc.size;
}

static void rle_remember(rle_state_t *s, const rle_loc_t *loc, int reg, int full)
{
    if (s->n == RLE_MAX_KNOWN) {                        /* drop the oldest */
        for (int k = 1; k < s->n; k++) s->known[k - 1] = s->known[k];
        s->n--;
    }
    rle_known_t *k = &s->known[s->n++];
    k->loc = *loc;
    k->reg = reg;
    k->full = full;
}

/* rle_lookup: what holds the bytes of loc (the first holder, or dst when it holds them: a
 * load into its own holder may go away); NULL when nothing does. */
static const rle_known_t *rle_lookup(const rle_state_t *s, const rle_loc_t *loc, int dst)
{
    const rle_known_t *found = 0;
    for (int k = 0; k < s->n; k++) {
        const rle_known_t *e = &s->known[k];
        if (e->loc.anchor != loc->anchor || e->loc.off != loc->off || e->loc.size < loc->size)
            continue;
        if (e->reg == dst) return e;
        if (!found) found = e;
    }
    return found;
}

/* ==== instructions ==== */

static int rle_is_gpr(ZydisRegister r)
{
    ZydisRegisterClass c = ZydisRegisterGetClass(r);
    if (c != ZYDIS_REGCLASS_GPR8 && c != ZYDIS_REGCLASS_GPR16 && c != ZYDIS_REGCLASS_GPR32 &&
        c != ZYDIS_REGCLASS_GPR64)
        return 0;
    return r != ZYDIS_REGISTER_AH && r != ZYDIS_REGISTER_CH && r != ZYDIS_REGISTER_DH &&
           r != ZYDIS_REGISTER_BH;                      /* not the low bytes of a register */
}

/* rle_gpr: the general register id at `size` bytes (al..r15b never ah..bh). */
static ZydisRegister rle_gpr(int id, int size)
{
    switch (size) {
    case 8: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, (ZyanU8)id);
    case 4: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR32, (ZyanU8)id);
    case 2: return ZydisRegisterEncode(ZYDIS_REGCLASS_GPR16, (ZyanU8)id);
    default:
        if (id < 4) return (ZydisRegister)(ZYDIS_REGISTER_AL + id);
        if (id < 8) return (ZydisRegister)(ZYDIS_REGISTER_SPL + (id - 4));
        return (ZydisRegister)(ZYDIS_REGISTER_R8B + (id - 8));
    }
}

/* rle_loc: the location i's memory operand names, with the stack pointers as they are
 * before i; 0 when it is not a stack slot or an absolute address the pass can compare. */
static int rle_loc(const rle_state_t *s, const ir_insn_t *i, rle_loc_t *loc)
{
    an_mem_t m;
    an_mem(i, &m);
    if (i->zi.address_width != 64 || m.size <= 0 || m.op < 0 ||
        i->ops[m.op].visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT)
        return 0;                       /* implicit ones (enter, string ops) write more */
    if (m.cls == AN_MEM_STACK) {
        const rle_ptr_t *p = &s->sp[m.base == AN_RSP ? 0 : 1];
        loc->anchor = p->anchor;
        loc->off = p->off + m.disp;
    } else if (m.cls == AN_MEM_ABS) {
        loc->anchor = RLE_ABS;
        loc->off = m.disp;
    } else {
        return 0;
    }
    loc->size = m.size;
    return 1;
}

/* rle_use_op: the index of i's memory operand when i only reads it as an integer source
 * that a register of the same size can stand for (cmp/test either way round; add, sub,
 * and, or, xor, adc, sbb, imul into a register), its other operand a general register or
 * an immediate; else -1. The register form computes the same result and flags. */
static int rle_use_op(const ir_insn_t *i)
{
    const ZydisDecodedInstruction *in = &i->zi;
    if (in->attributes & ZYDIS_ATTRIB_HAS_LOCK) return -1;
    int m = i->ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY ? 0 : 1, other = 1 - m;
    const ZydisDecodedOperand *mo = &i->ops[m], *oo = &i->ops[other];
    if (mo->type != ZYDIS_OPERAND_TYPE_MEMORY || mo->mem.type != ZYDIS_MEMOP_TYPE_MEM ||
        mo->size != in->operand_width || (mo->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
        return -1;
    if (oo->type == ZYDIS_OPERAND_TYPE_REGISTER ? !rle_is_gpr(oo->reg.value)
                                                : oo->type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return -1;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_CMP: case ZYDIS_MNEMONIC_TEST:
        return m;
    case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_ADC:
    case ZYDIS_MNEMONIC_SBB: case ZYDIS_MNEMONIC_IMUL:
        return m == 1 ? m : -1;
    default:
        return -1;
    }
}

/* rle_access: whether i is a load or store the pass follows: mov/movzx/movsx/movsxd from
 * memory into a general register, mov of a general register to memory, or a use of the
 * bytes as an operand (rle_use_op). */
static void rle_access(const rle_state_t *s, const ir_insn_t *i, rle_access_t *a)
{
    a->form = RLE_NONE;
    if (i->kind != IR_COPY || i->zi.operand_count_visible != 2) return;
    const ZydisDecodedOperand *o0 = &i->ops[0], *o1 = &i->ops[1];
    ZydisMnemonic mn = i->zi.mnemonic;
    int use = rle_use_op(i);
    if (use >= 0) {
        a->form = RLE_USE;
        a->op = use;
        a->reg = -1;
        if (!rle_loc(s, i, &a->loc)) a->form = RLE_NONE;
        return;
    }
    if (o0->type == ZYDIS_OPERAND_TYPE_REGISTER && o1->type == ZYDIS_OPERAND_TYPE_MEMORY &&
        (mn == ZYDIS_MNEMONIC_MOV || mn == ZYDIS_MNEMONIC_MOVZX || mn == ZYDIS_MNEMONIC_MOVSX ||
         mn == ZYDIS_MNEMONIC_MOVSXD) && rle_is_gpr(o0->reg.value)) {
        a->form = RLE_LOAD;
        a->zreg = o0->reg.value;
    } else if (o0->type == ZYDIS_OPERAND_TYPE_MEMORY && o1->type == ZYDIS_OPERAND_TYPE_REGISTER &&
               mn == ZYDIS_MNEMONIC_MOV && rle_is_gpr(o1->reg.value)) {
        a->form = RLE_STORE;
        a->zreg = o1->reg.value;
    } else {
        return;
    }
    a->reg = an_reg_id(a->zreg);
    if (!rle_loc(s, i, &a->loc)) a->form = RLE_NONE;
}

/* rle_load_full: after load i of a->loc.size bytes, the whole destination is those bytes
 * zero-extended (a 32/64-bit mov, movzx into 32/64 bits). */
static int rle_load_full(const ir_insn_t *i, const rle_access_t *a)
{
    int w = i->ops[0].size;
    if (i->zi.mnemonic == ZYDIS_MNEMONIC_MOV) return w >= 32;
    return i->zi.mnemonic == ZYDIS_MNEMONIC_MOVZX && w >= 32 && a->loc.size < 4;
}

/* rle_push_size: i writes below rsp and moves rsp down (push*, call): the bytes; else 0. */
static int rle_push_size(const ir_insn_t *i)
{
    if (i->kind == IR_CALL) return 8;
    if (i->zi.meta.category != ZYDIS_CATEGORY_PUSH && i->zi.meta.category != ZYDIS_CATEGORY_CALL)
        return 0;
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->visibility == ZYDIS_OPERAND_VISIBILITY_HIDDEN &&
            op->mem.base == ZYDIS_REGISTER_RSP && (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            return op->size / 8;
    }
    return 0;
}

static int rle_mem_operands(const ir_insn_t *i)
{
    int n = 0;
    for (int k = 0; k < i->zi.operand_count; k++)
        if (i->ops[k].type == ZYDIS_OPERAND_TYPE_MEMORY && i->ops[k].mem.type != ZYDIS_MEMOP_TYPE_AGEN)
            n++;
    return n;
}

/* rle_far_bits: bts/btr/btc with a register bit offset write a bit anywhere from their
 * operand's address on (the offset selects the byte). */
static int rle_far_bits(const ir_insn_t *i)
{
    ZydisMnemonic mn = i->zi.mnemonic;
    return (mn == ZYDIS_MNEMONIC_BTS || mn == ZYDIS_MNEMONIC_BTR || mn == ZYDIS_MNEMONIC_BTC) &&
           i->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
}

/* rle_store_kills: forget what i's memory writes may change. */
static void rle_store_kills(rle_state_t *s, const ir_insn_t *i, const an_effects_t *e)
{
    if (!e->mem_write) return;
    rle_loc_t loc;
    int push = rle_push_size(i);
    if (push) {
        loc.anchor = s->sp[0].anchor;
        loc.off = s->sp[0].off - push;
        loc.size = push;
    } else if (i->kind != IR_COPY || rle_mem_operands(i) != 1 || rle_far_bits(i) ||
               !rle_loc(s, i, &loc)) {
        rle_forget_all(s);
        return;
    }
    rle_forget_if(s, rle_may_overlap, &loc);
}

static void rle_fresh(rle_state_t *s, int which)
{
    s->sp[which].anchor = s->next_anchor++;
    s->sp[which].off = 0;
}

static int rle_sp_index(ZydisRegister r)
{
    return r == ZYDIS_REGISTER_RSP ? 0 : r == ZYDIS_REGISTER_RBP ? 1 : -1;
}

/* rle_follow_sp: the new values of rsp/rbp after i wrote `w` of them, computed from their
 * values before i (old). Forms it does not know give a new anchor. */
static void rle_follow_sp(rle_state_t *s, const ir_insn_t *i, an_regs_t w, const rle_ptr_t *old)
{
    const ZydisDecodedOperand *o = i->ops;
    int push = rle_push_size(i), dst = -1, known = 0;
    if (i->kind == IR_COPY && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER)
        dst = rle_sp_index(o[0].reg.value);
    if (push) {
        s->sp[0].off -= push;
        known = AN_REG(AN_RSP);
    } else if (i->zi.meta.category == ZYDIS_CATEGORY_POP && i->kind == IR_COPY) {
        s->sp[0].off += i->zi.operand_width / 8;
        known = AN_REG(AN_RSP);
        if (dst >= 0) known &= ~AN_REG(dst == 0 ? AN_RSP : AN_RBP);   /* popped: unknown */
    } else if (i->kind == IR_IND && i->zi.mnemonic == ZYDIS_MNEMONIC_RET) {
        int64_t imm = i->zi.operand_count_visible == 1 ? (int64_t)o[0].imm.value.u : 0;
        s->sp[0].off += 8 + imm;
        known = AN_REG(AN_RSP);
    } else if (i->kind == IR_COPY && i->zi.mnemonic == ZYDIS_MNEMONIC_LEAVE) {
        s->sp[0] = old[1];
        s->sp[0].off += 8;
        known = AN_REG(AN_RSP);                          /* rbp: popped */
    } else if (dst >= 0 && i->kind == IR_COPY && i->zi.operand_count_visible == 2 && o[0].size == 64) {
        int mn = i->zi.mnemonic;
        if ((mn == ZYDIS_MNEMONIC_ADD || mn == ZYDIS_MNEMONIC_SUB) &&
            o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            int64_t imm = o[1].imm.value.s;
            s->sp[dst].off += mn == ZYDIS_MNEMONIC_ADD ? imm : -imm;
            known = AN_REG(dst == 0 ? AN_RSP : AN_RBP);
        } else if (mn == ZYDIS_MNEMONIC_MOV && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
                   rle_sp_index(o[1].reg.value) >= 0) {
            s->sp[dst] = old[rle_sp_index(o[1].reg.value)];
            known = AN_REG(dst == 0 ? AN_RSP : AN_RBP);
        } else if (mn == ZYDIS_MNEMONIC_LEA && o[1].mem.index == ZYDIS_REGISTER_NONE &&
                   rle_sp_index(o[1].mem.base) >= 0) {
            s->sp[dst] = old[rle_sp_index(o[1].mem.base)];
            s->sp[dst].off += o[1].mem.disp.value;
            known = AN_REG(dst == 0 ? AN_RSP : AN_RBP);
        }
    }
    if ((w & AN_REG(AN_RSP)) && !(known & AN_REG(AN_RSP))) rle_fresh(s, 0);
    if ((w & AN_REG(AN_RBP)) && !(known & AN_REG(AN_RBP))) rle_fresh(s, 1);
}

/* rle_upper_zero: registers i leaves with their upper 32 bits zero (a plain 32-bit write,
 * which zero-extends; not a conditional one, nor bsf/bsr, whose result may be old). */
static an_regs_t rle_upper_zero(const ir_insn_t *i)
{
    an_regs_t z = 0, other = 0;
    if (i->kind != IR_COPY || i->zi.mnemonic == ZYDIS_MNEMONIC_BSF ||
        i->zi.mnemonic == ZYDIS_MNEMONIC_BSR)
        return 0;
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        int id = op->type == ZYDIS_OPERAND_TYPE_REGISTER ? an_reg_id(op->reg.value) : -1;
        if (id < 0 || !(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
        if (op->size == 32 && (op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) == ZYDIS_OPERAND_ACTION_WRITE)
            z |= AN_REG(id);
        else
            other |= AN_REG(id);
    }
    return z & ~other;
}

/* rle_step: update s for the effects of i (as it now is). */
static void rle_step(rle_state_t *s, const ir_insn_t *i)
{
    an_effects_t e;
    an_effects(i, &e);
    an_regs_t w = e.def | e.def_part;
    rle_ptr_t old[2] = { s->sp[0], s->sp[1] };
    if (e.barrier || e.opaque || i->kind == IR_SYSCALL) {
        rle_forget_all(s);                              /* anything may have changed, even */
        rle_fresh(s, 0);                                /* the stack (clone's child) */
        rle_fresh(s, 1);
        s->upper_zero &= ~w;
        return;
    }
    if (e.mem_read) rle_forget_all(s);                  /* keep loads in order (TSO) */
    rle_store_kills(s, i, &e);
    rle_forget_if(s, rle_held_by, &w);
    s->upper_zero = (s->upper_zero & ~w) | rle_upper_zero(i);
    if (w & (AN_REG(AN_RSP) | AN_REG(AN_RBP))) rle_follow_sp(s, i, w, old);
}

/* rle_can_drop: load i into its own holder k would change nothing. */
static int rle_can_drop(const ir_insn_t *i, const rle_access_t *a, const rle_known_t *k)
{
    if (k->reg != a->reg || i->zi.mnemonic != ZYDIS_MNEMONIC_MOV) return 0;
    int w = a->loc.size;
    if (w == 8) return 1;
    if (w == 4) return k->loc.size == 4 && k->full;     /* the load would zero the top */
    return 1;                                           /* 8/16 bits merge: same bytes */
}

/* rle_rewrite: i becomes the same instruction from the holder's low bytes. */
static int rle_rewrite(ir_insn_t *i, const rle_access_t *a, const rle_known_t *k)
{
    ZydisEncoderRequest req;
    if (a->form == RLE_USE) {                           /* the operand becomes the holder */
        if (!ZYAN_SUCCESS(ZydisEncoderDecodedInstructionToEncoderRequest(&i->zi, i->ops, i->zi.operand_count_visible, &req)))
            return 0;
        hp_memset(&req.operands[a->op].mem, 0, sizeof(req.operands[a->op].mem));
        req.operands[a->op].type = ZYDIS_OPERAND_TYPE_REGISTER;
        req.operands[a->op].reg.value = rle_gpr(k->reg, a->loc.size);
        return ir_set_insn(i, &req) == HP_OK;
    }
    hp_memset(&req, 0, sizeof(req));
    req.machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    req.mnemonic = i->zi.mnemonic;
    req.operand_count = 2;
    req.operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[0].reg.value = a->zreg;
    req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[1].reg.value = rle_gpr(k->reg, a->loc.size);
    return ir_set_insn(i, &req) == HP_OK;
}

int opt_pass_rle(ir_trace_t *t)
{
    rle_state_t s;
    hp_memset(&s, 0, sizeof(s));
    s.sp[0].anchor = 1;
    s.sp[1].anchor = 2;
    s.next_anchor = 3;
    int changed = 0;
    for (int k = 0; k < t->n;) {
        ir_insn_t *i = &t->insn[k];
        rle_access_t a;
        rle_access(&s, i, &a);
        const rle_known_t *held = a.form == RLE_LOAD || a.form == RLE_USE ? rle_lookup(&s, &a.loc, a.reg) : 0;
        if (held && k > 0 && rle_can_drop(i, &a, held)) {
            ir_remove(t, k);                            /* the state stays as it is */
            changed++;
            continue;
        }
        if (held && rle_rewrite(i, &a, held)) changed++;
        int full = a.form == RLE_STORE ? (a.loc.size == 8 ||
                                          (a.loc.size == 4 && (s.upper_zero & AN_REG(a.reg))))
                                       : a.form == RLE_LOAD && rle_load_full(i, &a);
        rle_step(&s, i);
        if (a.form == RLE_LOAD || a.form == RLE_STORE) rle_remember(&s, &a.loc, a.reg, full);
        k++;
    }
    return changed;
}
