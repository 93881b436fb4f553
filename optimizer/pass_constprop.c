/* pass_constprop.c — constant and copy propagation, constant folding and strength reduction
 * over a trace's IR. Forward along the path the pass knows which general registers hold a
 * known 64-bit value (from mov $imm, xor r,r, a rip-relative lea, results it computed) and
 * which hold a copy of another register (mov r,r), and rewrites an instruction into one that
 * computes the same values more cheaply:
 *   - a register source known constant becomes an immediate (add %rcx,%rax -> add $5,%rax;
 *     mov %ecx,-4(%rbp) -> movl $5,-4(%rbp); shl %cl,%eax -> shl $3,%eax; imul %rcx,%rax ->
 *     imul $8,%rax,%rax);
 *   - an instruction whose result is known becomes mov $imm,%reg;
 *   - imul by 2^k, 3, 5 or 9 becomes shl or lea;
 *   - lea with a known base or index takes it into the displacement;
 *   - a read of a copy reads the register it was copied from.
 * Invariants (the exactness contract of optimizer/README.md):
 *   - after a changed instruction every register and memory location holds what native
 *     execution gives there; nothing is removed or moved, so exits, faults and the kernel
 *     see the native registers and memory;
 *   - flags are left different from native only where those the original writes (and the
 *     replacement writes) are dead and an_inexact_region allows it; a change to another
 *     form of the same operation (register to immediate) keeps the defined flags, and the
 *     ones the original leaves undefined count as left different (another encoding may
 *     leave other values there);
 *   - a memory access keeps its size, its address and its base register when that is rsp
 *     or rbp (a fault through those is #SS, through the others #GP: another signal);
 *   - what is known dies at any write of a register (whole, partial or implicit, an_effects),
 *     at opaque instructions and at syscalls; loads give unknown values; rsp is never
 *     tracked. Deterministic: a function of the IR alone. */
#include "opt.h"
#include "analysis.h"
#include "heap.h"
#include "constprop.h"
#include "cache.h"

#define CP_STATUS_FLAGS (ZYDIS_CPUFLAG_CF | ZYDIS_CPUFLAG_PF | ZYDIS_CPUFLAG_AF | \
                         ZYDIS_CPUFLAG_ZF | ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_OF)

typedef struct {
    ir_trace_t *t;
    an_flags_t *flive;          /* flags live after each instruction (an_liveness, at entry) */
    cp_state_t st;              /* what is known before the instruction at hand */
} cp_ctx_t;

/* ==== values ==== */

static int cp_is_high8(ZydisRegister r)
{
    return r == ZYDIS_REGISTER_AH || r == ZYDIS_REGISTER_CH || r == ZYDIS_REGISTER_DH ||
           r == ZYDIS_REGISTER_BH;
}

/* cp_reg: general register id at width 16, 32 or 64. */
ZydisRegister cp_reg(int id, int w)
{
    ZydisRegisterClass cls = w == 64 ? ZYDIS_REGCLASS_GPR64 :
                             w == 32 ? ZYDIS_REGCLASS_GPR32 : ZYDIS_REGCLASS_GPR16;
    return ZydisRegisterEncode(cls, (ZyanU8)id);
}

/* cp_read: the value of register r (any width, ah..bh too) when its register is known. */
int cp_read(const cp_state_t *st, ZydisRegister r, uint64_t *v)
{
    int id = an_reg_id(r);
    if (id < 0 || !(st->known & AN_REG(id))) return 0;
    if (cp_is_high8(r)) *v = (st->val[id] >> 8) & 0xff;
    else *v = st->val[id] & cp_mask(cp_width(r));
    return 1;
}

/* cp_operand: the value of a register or immediate operand at width w. */
static int cp_operand(const cp_state_t *st, const ZydisDecodedOperand *op, int w, uint64_t *v)
{
    if (op->type == ZYDIS_OPERAND_TYPE_IMMEDIATE) { *v = op->imm.value.u & cp_mask(w); return 1; }
    if (op->type != ZYDIS_OPERAND_TYPE_REGISTER || !cp_read(st, op->reg.value, v)) return 0;
    *v &= cp_mask(w);
    return 1;
}

void cp_reset(cp_state_t *st)
{
    st->known = 0;
    for (int r = 0; r < 16; r++) st->copy[r] = -1;
}

/* cp_kill: register id changes: its value and every copy relation it is part of are gone. */
static void cp_kill(cp_state_t *st, int id)
{
    st->known &= ~AN_REG(id);
    st->copy[id] = -1;
    for (int r = 0; r < 16; r++)
        if (st->copy[r] == id) st->copy[r] = -1;
}

/* ==== evaluation ==== */

int cp_mem_addr(const cp_state_t *st, const ir_insn_t *i, const ZydisDecodedOperand *m, uint64_t *a)
{
    uint64_t b = 0, x = 0;
    if (i->zi.address_width != 64 || m->type != ZYDIS_OPERAND_TYPE_MEMORY) return 0;
    if (m->mem.type != ZYDIS_MEMOP_TYPE_AGEN && (m->mem.segment == ZYDIS_REGISTER_FS ||
                                                  m->mem.segment == ZYDIS_REGISTER_GS))
        return 0;                                        /* fs:, gs: have bases of their own */
    if (m->mem.base == ZYDIS_REGISTER_RIP) b = i->app_pc + i->len;
    else if (m->mem.base != ZYDIS_REGISTER_NONE && !cp_read(st, m->mem.base, &b)) return 0;
    if (m->mem.index != ZYDIS_REGISTER_NONE && !cp_read(st, m->mem.index, &x)) return 0;
    *a = b + x * (m->mem.index != ZYDIS_REGISTER_NONE ? m->mem.scale : 0) + (uint64_t)m->mem.disp.value;
    return 1;
}

/* cp_lea_addr: the address a 64-bit-address lea computes, when its registers are known. */
static int cp_lea_addr(const cp_state_t *st, const ir_insn_t *i, uint64_t *a)
{
    return cp_mem_addr(st, i, &i->ops[1], a);
}

/* cp_shift: result of a shift or rotate of a by count c (already masked) at width w. */
static uint64_t cp_shift(ZydisMnemonic mn, uint64_t a, unsigned c, int w)
{
    uint64_t m = cp_mask(w);
    a &= m;
    if (!c) return a;
    switch (mn) {
    case ZYDIS_MNEMONIC_SHL: return (a << c) & m;
    case ZYDIS_MNEMONIC_SHR: return a >> c;
    case ZYDIS_MNEMONIC_SAR: return (uint64_t)((int64_t)cp_sext(a, w) >> c) & m;
    case ZYDIS_MNEMONIC_ROL: return ((a << c) | (a >> (w - c))) & m;
    default:                 return ((a >> c) | (a << (w - c))) & m;       /* ROR */
    }
}

/* cp_eval: the value instruction i writes to its one destination register, from what st
 * knows: 1 with *dst (the register as written, any width), *res (its written bits) and *fw
 * (the flags it writes); 0 when i is not understood here or an input is unknown. Only
 * instructions without memory access, with one register result. */
int cp_eval(const cp_state_t *st, const ir_insn_t *i, ZydisRegister *dst, uint64_t *res,
                   an_flags_t *fw)
{
    const ZydisDecodedInstruction *in = &i->zi;
    const ZydisDecodedOperand *o = i->ops;
    int w = in->operand_width, nv = in->operand_count_visible;
    uint64_t a, b, m = cp_mask(w);
    an_effects_t e;
    if (i->kind != IR_COPY || in->operand_count < 1 || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER)
        return 0;
    an_effects(i, &e);
    if (e.opaque || e.mem_read || e.mem_write || e.may_fault || e.barrier) return 0;
    *dst = o[0].reg.value;
    *fw = e.fdef | e.fundef;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        if (nv != 2 || !cp_operand(st, &o[1], w, &a)) return 0;
        *res = a;
        return 1;
    case ZYDIS_MNEMONIC_MOVZX: case ZYDIS_MNEMONIC_MOVSX: case ZYDIS_MNEMONIC_MOVSXD:
        if (o[1].type != ZYDIS_OPERAND_TYPE_REGISTER || !cp_read(st, o[1].reg.value, &a)) return 0;
        *res = (in->mnemonic == ZYDIS_MNEMONIC_MOVZX ? a : cp_sext(a, o[1].size)) & m;
        return 1;
    case ZYDIS_MNEMONIC_CBW: case ZYDIS_MNEMONIC_CWDE: case ZYDIS_MNEMONIC_CDQE:
        if (!cp_operand(st, &o[1], w / 2, &a)) return 0;     /* ax <- al, eax <- ax, rax <- eax */
        *res = cp_sext(a, w / 2) & m;
        return 1;
    case ZYDIS_MNEMONIC_CDQ: case ZYDIS_MNEMONIC_CQO:        /* edx/rdx <- sign of eax/rax */
        if (!cp_operand(st, &o[1], w, &a)) return 0;
        *res = (a >> (w - 1)) & 1 ? m : 0;
        return 1;
    case ZYDIS_MNEMONIC_LEA:
        if ((w != 32 && w != 64) || !cp_lea_addr(st, i, &a)) return 0;
        *res = a & m;
        return 1;
    case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR:
        if (nv != 2) return 0;
        if ((in->mnemonic == ZYDIS_MNEMONIC_XOR || in->mnemonic == ZYDIS_MNEMONIC_SUB) &&
            o[1].type == ZYDIS_OPERAND_TYPE_REGISTER && o[1].reg.value == o[0].reg.value) {
            *res = 0;                                        /* the zeroing idioms */
            return 1;
        }
        if (!cp_operand(st, &o[0], w, &a) || !cp_operand(st, &o[1], w, &b)) return 0;
        switch (in->mnemonic) {
        case ZYDIS_MNEMONIC_ADD: *res = (a + b) & m; break;
        case ZYDIS_MNEMONIC_SUB: *res = (a - b) & m; break;
        case ZYDIS_MNEMONIC_AND: *res = a & b; break;
        case ZYDIS_MNEMONIC_OR:  *res = a | b; break;
        default:                 *res = a ^ b; break;
        }
        return 1;
    case ZYDIS_MNEMONIC_INC: case ZYDIS_MNEMONIC_DEC: case ZYDIS_MNEMONIC_NEG:
    case ZYDIS_MNEMONIC_NOT:
        if (!cp_operand(st, &o[0], w, &a)) return 0;
        *res = (in->mnemonic == ZYDIS_MNEMONIC_INC ? a + 1 : in->mnemonic == ZYDIS_MNEMONIC_DEC ? a - 1 :
                in->mnemonic == ZYDIS_MNEMONIC_NEG ? 0 - a : ~a) & m;
        return 1;
    case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR: {
        if ((w != 32 && w != 64) || nv != 2) return 0;      /* 8/16: rotates count mod w */
        if (!cp_operand(st, &o[0], w, &a) || !cp_operand(st, &o[1], 8, &b)) return 0;
        unsigned c = (unsigned)(b & (w == 64 ? 63 : 31));
        *res = cp_shift(in->mnemonic, a, c, w);
        if (!c) *fw = 0;                                     /* a zero count leaves the flags */
        return 1;
    }
    case ZYDIS_MNEMONIC_IMUL:
        if (nv == 2 && cp_operand(st, &o[0], w, &a) && cp_operand(st, &o[1], w, &b)) {
            *res = (a * b) & m;
            return 1;
        }
        if (nv == 3 && cp_operand(st, &o[1], w, &a) && cp_operand(st, &o[2], w, &b)) {
            *res = (a * b) & m;
            return 1;
        }
        return 0;
    default:
        return 0;
    }
}

/* cp_full: the whole register after dst is written with res: 32-bit writes zero-extend,
 * 8/16-bit writes merge into the old value (which must be known). */
int cp_full(const cp_state_t *st, ZydisRegister dst, uint64_t res, uint64_t *full)
{
    int id = an_reg_id(dst), w = cp_width(dst);
    if (id < 0) return 0;
    if (w == 64 || w == 32) { *full = res & cp_mask(w); return 1; }
    if (!(st->known & AN_REG(id))) return 0;
    uint64_t old = st->val[id];
    if (cp_is_high8(dst)) *full = (old & ~0xff00ull) | ((res & 0xff) << 8);
    else *full = (old & ~cp_mask(w)) | (res & cp_mask(w));
    return 1;
}

/* cp_step: st after instruction i (as it now stands). */
static void cp_step(cp_state_t *st, const ir_insn_t *i)
{
    an_effects_t e;
    an_effects(i, &e);
    if (i->kind == IR_SYSCALL || e.opaque) { cp_reset(st); return; }
    ZydisRegister dst;
    uint64_t res, full = 0;
    an_flags_t fw;
    int have = cp_eval(st, i, &dst, &res, &fw) && cp_full(st, dst, res, &full);
    int did = -1, src = -1, sw = 0;
    const ZydisDecodedOperand *o = i->ops;
    int w = i->zi.operand_width;
    if (i->kind == IR_COPY && i->zi.mnemonic == ZYDIS_MNEMONIC_MOV && (w == 32 || w == 64) &&
        o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
        did = an_reg_id(o[0].reg.value);
        src = an_reg_id(o[1].reg.value);
        sw = w;
        if (src >= 0 && st->copy[src] >= 0) {               /* copy of a copy: of the root */
            if (st->cw[src] < sw) sw = st->cw[src];
            src = st->copy[src];
        }
        if (did < 0 || src < 0 || src == did || did == AN_RSP || src == AN_RSP) src = -1;
    }
    an_regs_t wr = e.def | e.def_part;
    for (int r = 0; r < 16; r++)
        if (wr & AN_REG(r)) cp_kill(st, r);
    if (have && (wr & AN_REG(an_reg_id(dst)))) {
        st->known |= AN_REG(an_reg_id(dst));
        st->val[an_reg_id(dst)] = full;
    }
    if (src >= 0) {
        st->copy[did] = (int8_t)src;
        st->cw[did] = (uint8_t)sw;
    }
}

/* ==== re-encoding ==== */


void cp_new(ZydisEncoderRequest *req, ZydisMnemonic mn, ZydisRegister dst)
{
    hp_memset(req, 0, sizeof(*req));
    req->machine_mode = ZYDIS_MACHINE_MODE_LONG_64;
    req->mnemonic = mn;
    req->operand_count = 2;
    req->operands[0].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req->operands[0].reg.value = dst;
}

void cp_set_imm(ZydisEncoderOperand *op, uint64_t v, int w)
{
    hp_memset(op, 0, sizeof(*op));
    op->type = ZYDIS_OPERAND_TYPE_IMMEDIATE;
    op->imm.u = cp_sext(v, w);
}

/* cp_same_mem: the memory accesses of n are those of o (same operands, segment, size and
 * address form: displacement, RIP-relative absolute address, and with regs also base,
 * index and scale). lea's address computation is no access. */
static int cp_same_mem(const ir_insn_t *o, const ir_insn_t *n, int regs)
{
    for (int k = 0; k < o->zi.operand_count_visible; k++) {
        const ZydisDecodedOperand *a = &o->ops[k], *b = &n->ops[k];
        if (a->type != ZYDIS_OPERAND_TYPE_MEMORY || a->mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
        ZyanU64 x = 0, y = 0;
        if (b->type != a->type || b->mem.type != a->mem.type || b->mem.segment != a->mem.segment ||
            b->size != a->size || (b->mem.base == ZYDIS_REGISTER_RIP) != (a->mem.base == ZYDIS_REGISTER_RIP))
            return 0;
        if (a->mem.base == ZYDIS_REGISTER_RIP) {
            ZydisCalcAbsoluteAddress(&o->zi, a, o->app_pc, &x);
            ZydisCalcAbsoluteAddress(&n->zi, b, n->app_pc, &y);
            if (x != y) return 0;
        } else if (b->mem.disp.value != a->mem.disp.value) {
            return 0;
        }
        if (regs && (b->mem.base != a->mem.base || b->mem.index != a->mem.index || b->mem.scale != a->mem.scale))
            return 0;
    }
    return 1;
}

/* cp_set: re-encode i from req. Kept only if the encoder takes it and the decoding of the
 * result is the mnemonic mn at operand width w, with the immediate imm (its low w bits) at
 * operand imm_op (-1: none), no longer than max_len bytes and with the same memory accesses
 * (their registers too unless regs_change); otherwise i is left as it was. */
int cp_set(ir_insn_t *i, const ZydisEncoderRequest *req, ZydisMnemonic mn, int w,
                  int imm_op, uint64_t imm, int max_len, int regs_change)
{
    ir_insn_t old;
    hp_memcpy(&old, i, sizeof(old));
    if (ir_set_insn(i, req) != HP_OK || i->zi.mnemonic != mn || i->zi.operand_width != w ||
        i->len > max_len || !cp_same_mem(&old, i, !regs_change))
        goto undo;
    if (imm_op >= 0 && (i->ops[imm_op].type != ZYDIS_OPERAND_TYPE_IMMEDIATE ||
                        (i->ops[imm_op].imm.value.u & cp_mask(w)) != (imm & cp_mask(w))))
        goto undo;
    return 1;
undo:
    hp_memcpy(i, &old, sizeof(old));
    return 0;
}

/* cp_flags_ok: instruction k may leave flags fl different from native after it. With
 * apply, marks the inexact region. */
static int cp_flags_ok(cp_ctx_t *c, int k, an_flags_t fl, int apply)
{
    if (!fl) return 1;
    if (fl & c->flive[k]) return 0;
    return an_inexact_region(c->t, k, 0, fl, apply);
}

/* cp_undefined: the flags instruction i leaves undefined (another form of the same
 * operation may leave them otherwise: dead and an inexact region, or no change of form). */
static an_flags_t cp_undefined(const ir_insn_t *i)
{
    return i->zi.cpu_flags ? i->zi.cpu_flags->undefined & AN_ALL_FLAGS : 0;
}

/* ==== the transformations ==== */

/* cp_materializes: i already sets its register to a constant in the cheapest way. */
static int cp_materializes(const ir_insn_t *i)
{
    const ZydisDecodedOperand *o = i->ops;
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_MOV:
        return o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE;
    case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_SUB:
        return o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && o[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
               o[0].reg.value == o[1].reg.value;
    case ZYDIS_MNEMONIC_LEA:
        return o[1].mem.index == ZYDIS_REGISTER_NONE &&
               (o[1].mem.base == ZYDIS_REGISTER_NONE || o[1].mem.base == ZYDIS_REGISTER_RIP);
    default:
        return 0;
    }
}

/* cp_fold: an instruction whose one register result is known becomes mov $imm,%reg; the
 * flags it wrote must be dead and may stay stale (inexact region). A 64-bit value that
 * fits 32 bits unsigned is written through the 32-bit register (zero-extends); an address
 * that the trace's cache unit reaches rip-relative whatever unit it gets (well within 2 GiB
 * of the trace's head) becomes lea v(%rip),%reg (a function's or table's address computed
 * from a rip-relative lea and a constant); any other that needs movabs stays computed. */
static int cp_fold(cp_ctx_t *c, int k)
{
    ir_insn_t *i = &c->t->insn[k];
    ZydisRegister dst;
    uint64_t res;
    an_flags_t fw;
    an_effects_t e;
    if (cp_materializes(i) || !cp_eval(&c->st, i, &dst, &res, &fw)) return 0;
    an_effects(i, &e);
    int id = an_reg_id(dst), w = cp_width(dst);
    if (id < 0 || id == AN_RSP || (e.def | e.def_part) != AN_REG(id)) return 0;
    if (!cp_flags_ok(c, k, fw, 0)) return 0;
    uint64_t v = res & cp_mask(w);
    ZydisEncoderRequest req;
    if (w == 64 && v > 0xffffffffu && !cp_fits_s32(v)) {   /* an address near the code: */
        uint64_t far = v > c->t->head ? v - c->t->head : c->t->head - v;   /* lea v(%rip),%reg; */
        if (far >= (1ull << 31) - CACHE_MAX_DIST - (1ull << 20)) return 0; /* (the trace's unit
                                      lies within CACHE_MAX_DIST of its head; else movabs:
                                      10 bytes for little) */
        cp_new(&req, ZYDIS_MNEMONIC_LEA, dst);
        req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
        req.operands[1].mem.base = ZYDIS_REGISTER_RIP;
        req.operands[1].mem.displacement = (ZyanI64)v;        /* (ir_set_insn: absolute) */
        req.operands[1].mem.size = 8;
        ir_insn_t old = *i;
        uint64_t a;
        if (ir_set_insn(i, &req) != HP_OK || i->zi.mnemonic != ZYDIS_MNEMONIC_LEA ||
            !cp_lea_addr(&c->st, i, &a) || a != v) {
            *i = old;
            return 0;
        }
    } else {
        if (w == 64 && v <= 0xffffffffu) { dst = cp_reg(id, 32); w = 32; }
        cp_new(&req, ZYDIS_MNEMONIC_MOV, dst);
        cp_set_imm(&req.operands[1], v, w);
        if (!cp_set(i, &req, ZYDIS_MNEMONIC_MOV, w, 1, v, 15, 0)) return 0;
    }
    cp_flags_ok(c, k, fw, 1);
    return 1;
}

/* cp_imm: a register source whose value is known becomes an immediate of the same
 * operation (same values, same defined flags): ALU ops, mov to memory, push, two-operand
 * imul (to its three-operand form), shifts and rotates by %cl. Flags the operation leaves
 * undefined must be dead (inexact region). */
static int cp_imm(cp_ctx_t *c, int k)
{
    ir_insn_t *i = &c->t->insn[k];
    const ZydisDecodedOperand *o = i->ops;
    ZydisMnemonic mn = i->zi.mnemonic;
    int w = i->zi.operand_width, nv = i->zi.operand_count_visible, src = 1, shift = 0, two = 1;
    uint64_t v;
    switch (mn) {
    case ZYDIS_MNEMONIC_ADD: case ZYDIS_MNEMONIC_SUB: case ZYDIS_MNEMONIC_AND:
    case ZYDIS_MNEMONIC_OR: case ZYDIS_MNEMONIC_XOR: case ZYDIS_MNEMONIC_CMP:
    case ZYDIS_MNEMONIC_ADC: case ZYDIS_MNEMONIC_SBB: case ZYDIS_MNEMONIC_IMUL:
        break;
    case ZYDIS_MNEMONIC_TEST:                                /* commutes: either may go */
        if (nv == 2 && o[0].type == ZYDIS_OPERAND_TYPE_REGISTER && !cp_read(&c->st, o[1].reg.value, &v))
            src = 0;
        break;
    case ZYDIS_MNEMONIC_MOV:
        if (o[0].type != ZYDIS_OPERAND_TYPE_MEMORY) return 0;  /* to a register: cp_fold */
        break;
    case ZYDIS_MNEMONIC_PUSH:
        if (w != 64 || nv != 1) return 0;
        src = 0;
        two = 0;
        break;
    case ZYDIS_MNEMONIC_SHL: case ZYDIS_MNEMONIC_SHR: case ZYDIS_MNEMONIC_SAR:
    case ZYDIS_MNEMONIC_ROL: case ZYDIS_MNEMONIC_ROR:
        if (nv != 2 || o[1].type != ZYDIS_OPERAND_TYPE_REGISTER || o[1].reg.value != ZYDIS_REGISTER_CL)
            return 0;
        shift = 1;
        break;
    default:
        return 0;
    }
    if ((two && nv != 2) || o[src].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        !cp_read(&c->st, o[src].reg.value, &v))
        return 0;
    if (two && o[1 - src].type == ZYDIS_OPERAND_TYPE_REGISTER && o[1 - src].reg.value == o[src].reg.value)
        return 0;                                            /* xor %eax,%eax and the like */
    if (shift) v &= w == 64 ? 63 : 31;
    else if (w == 64 && !cp_fits_s32(v)) return 0;
    an_flags_t und = cp_undefined(i);
    if (!cp_flags_ok(c, k, und, 0)) return 0;
    ZydisEncoderRequest req;
    if (!ir_request(i, &req)) return 0;
    int imm_op = src;
    if (mn == ZYDIS_MNEMONIC_TEST && src == 0) {
        req.operands[0] = req.operands[1];
        imm_op = 1;
    } else if (mn == ZYDIS_MNEMONIC_IMUL) {
        req.operand_count = 3;
        req.operands[1] = req.operands[0];
        imm_op = 2;
    }
    cp_set_imm(&req.operands[imm_op], v, shift ? 8 : w);
    if (shift) req.operands[imm_op].imm.u = v;
    if (!cp_set(i, &req, mn, w, imm_op, v, 15, 0)) return 0;
    cp_flags_ok(c, k, und, 1);
    return 1;
}

/* cp_lea_req: lea disp(base,index,scale),dst with 64-bit address registers. */
static void cp_lea_req(ZydisEncoderRequest *req, ZydisRegister dst, ZydisRegister base,
                       ZydisRegister index, int scale, int64_t disp)
{
    cp_new(req, ZYDIS_MNEMONIC_LEA, dst);
    ZydisEncoderOperand *m = &req->operands[1];
    m->type = ZYDIS_OPERAND_TYPE_MEMORY;
    m->mem.base = base;
    m->mem.index = index;
    m->mem.scale = (ZyanU8)(index == ZYDIS_REGISTER_NONE ? 0 : scale);
    m->mem.displacement = disp;
    m->mem.size = 8;
}

/* cp_strength: imul $2^j / $3 / $5 / $9 of a register becomes shl (same register) or lea
 * (another register); both write other flags (lea none), so all of imul's and shl's flags
 * must be dead and may stay stale (inexact region). */
static int cp_strength(cp_ctx_t *c, int k)
{
    ir_insn_t *i = &c->t->insn[k];
    const ZydisDecodedOperand *o = i->ops;
    int w = i->zi.operand_width;
    if (i->zi.mnemonic != ZYDIS_MNEMONIC_IMUL || i->zi.operand_count_visible != 3 ||
        (w != 32 && w != 64) || o[1].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        o[2].type != ZYDIS_OPERAND_TYPE_IMMEDIATE)
        return 0;
    uint64_t kv = o[2].imm.value.u & cp_mask(w);
    int did = an_reg_id(o[0].reg.value), sid = an_reg_id(o[1].reg.value), j = 0;
    while (j < w && kv != (1ull << j)) j++;
    if (sid < 0 || did < 0 || sid == AN_RSP || did == AN_RSP) return 0;
    ZydisEncoderRequest req;
    ZydisRegister s64 = cp_reg(sid, 64);
    ZydisMnemonic mn = ZYDIS_MNEMONIC_LEA;
    if (j >= 1 && j < w && sid == did) {
        cp_new(&req, ZYDIS_MNEMONIC_SHL, o[0].reg.value);
        cp_set_imm(&req.operands[1], (uint64_t)j, 8);
        mn = ZYDIS_MNEMONIC_SHL;
    } else if (j == 1) {
        cp_lea_req(&req, o[0].reg.value, s64, s64, 1, 0);
    } else if (j == 2 || j == 3) {
        cp_lea_req(&req, o[0].reg.value, ZYDIS_REGISTER_NONE, s64, 1 << j, 0);
    } else if (kv == 3 || kv == 5 || kv == 9) {
        cp_lea_req(&req, o[0].reg.value, s64, s64, (int)kv - 1, 0);
    } else {
        return 0;
    }
    an_flags_t fl = CP_STATUS_FLAGS;                      /* imul's, and shl's (a subset) */
    if (!cp_flags_ok(c, k, fl, 0) || !cp_set(i, &req, mn, w, -1, 0, 15, 0)) return 0;
    cp_flags_ok(c, k, fl, 1);
    return 1;
}

/* cp_lea: lea with a known base or index register takes its value into the displacement
 * (when the sum fits 32 bits signed); lea 0(%base),%dst becomes mov %base,%dst. A base
 * known with the index not is cp_fold's case when both are known. No flags either way. */
static int cp_lea(cp_ctx_t *c, int k)
{
    ir_insn_t *i = &c->t->insn[k];
    const ZydisDecodedOperand *m = &i->ops[1];
    int w = i->zi.operand_width;
    if (i->zi.mnemonic != ZYDIS_MNEMONIC_LEA || i->zi.address_width != 64 || (w != 32 && w != 64) ||
        m->mem.base == ZYDIS_REGISTER_RIP || m->mem.segment == ZYDIS_REGISTER_FS ||
        m->mem.segment == ZYDIS_REGISTER_GS)
        return 0;
    ZydisRegister base = m->mem.base, index = m->mem.index, dst = i->ops[0].reg.value;
    int scale = m->mem.scale;
    uint64_t bv = 0, xv = 0, disp = (uint64_t)m->mem.disp.value;
    int bk = base != ZYDIS_REGISTER_NONE && cp_read(&c->st, base, &bv);
    int xk = index != ZYDIS_REGISTER_NONE && cp_read(&c->st, index, &xv);
    if (bk == xk) return 0;                                  /* neither, or both (cp_fold) */
    ZydisEncoderRequest req;
    if (bk) {
        disp += bv;
        if (scale == 1) { base = index; index = ZYDIS_REGISTER_NONE; }
        else base = ZYDIS_REGISTER_NONE;
    } else {
        disp += xv * (uint64_t)scale;
        index = ZYDIS_REGISTER_NONE;
    }
    if (!cp_fits_s32(disp) || (base == ZYDIS_REGISTER_NONE && index == ZYDIS_REGISTER_NONE)) return 0;
    if (disp == 0 && index == ZYDIS_REGISTER_NONE) {         /* lea (%base),%dst: a move */
        if (an_reg_id(base) == an_reg_id(dst) && w == 64) return 0;   /* would be a no-op */
        cp_new(&req, ZYDIS_MNEMONIC_MOV, dst);
        req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
        req.operands[1].reg.value = cp_reg(an_reg_id(base), w);
        return cp_set(i, &req, ZYDIS_MNEMONIC_MOV, w, -1, 0, 15, 0);
    }
    cp_lea_req(&req, dst, base, index, scale, (int64_t)disp);
    return cp_set(i, &req, ZYDIS_MNEMONIC_LEA, w, -1, 0, 15, 0);
}

/* cp_copy_of: the register to read instead of r (a copy of it at width w), or NONE. */
static ZydisRegister cp_copy_of(const cp_state_t *st, ZydisRegister r, int w)
{
    int id = an_reg_id(r);
    if ((w != 32 && w != 64) || id < 0 || cp_width(r) != w || st->copy[id] < 0 || st->cw[id] < w)
        return ZYDIS_REGISTER_NONE;
    return cp_reg(st->copy[id], w);
}

/* cp_copies: read-only register operands (32/64-bit) and 64-bit address registers that
 * hold a copy read the original instead, where the encoding gets no longer (and a 32-bit
 * mov does not become one of a register to itself; the 64-bit one is dce's no-op). A memory
 * access keeps rsp/rbp as base and gets neither as base (the fault through them differs;
 * the index does not choose the segment). */
static int cp_copies(cp_ctx_t *c, int k)
{
    ir_insn_t *i = &c->t->insn[k];
    ZydisRegister reg[ZYDIS_MAX_OPERAND_COUNT], base[ZYDIS_MAX_OPERAND_COUNT], index[ZYDIS_MAX_OPERAND_COUNT];
    int changed = 0;
    for (int n = 0; n < i->zi.operand_count_visible; n++) {   /* what each operand reads instead */
        const ZydisDecodedOperand *op = &i->ops[n];
        reg[n] = base[n] = index[n] = ZYDIS_REGISTER_NONE;
        if (op->type == ZYDIS_OPERAND_TYPE_REGISTER && op->actions == ZYDIS_OPERAND_ACTION_READ)
            reg[n] = cp_copy_of(&c->st, op->reg.value, cp_width(op->reg.value));
        if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
            int agen = op->mem.type == ZYDIS_MEMOP_TYPE_AGEN;
            int bid = an_reg_id(op->mem.base);
            ZydisRegister s = bid >= 0 && op->mem.base != ZYDIS_REGISTER_RIP ? cp_copy_of(&c->st, op->mem.base, 64)
                                                                             : ZYDIS_REGISTER_NONE;
            if (s != ZYDIS_REGISTER_NONE && (agen || (bid != AN_RBP && an_reg_id(s) != AN_RBP))) base[n] = s;
            index[n] = cp_copy_of(&c->st, op->mem.index, 64);
        }
        changed |= reg[n] != ZYDIS_REGISTER_NONE || base[n] != ZYDIS_REGISTER_NONE || index[n] != ZYDIS_REGISTER_NONE;
    }
    ZydisEncoderRequest req;           /* (most instructions have none: no request then) */
    if (!changed || !ir_request(i, &req)) return 0;
    for (int n = 0; n < req.operand_count && n < i->zi.operand_count_visible; n++) {
        ZydisEncoderOperand *eo = &req.operands[n];
        if (reg[n] != ZYDIS_REGISTER_NONE) eo->reg.value = reg[n];
        if (base[n] != ZYDIS_REGISTER_NONE) eo->mem.base = base[n];
        if (index[n] != ZYDIS_REGISTER_NONE) eo->mem.index = index[n];
    }
    if (i->zi.mnemonic == ZYDIS_MNEMONIC_MOV && i->zi.operand_width == 32 &&
        req.operands[0].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        req.operands[1].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        req.operands[0].reg.value == req.operands[1].reg.value)
        return 0;                       /* mov %eax,%eax: not eliminated at rename, unlike the copy */
    return cp_set(i, &req, i->zi.mnemonic, i->zi.operand_width, -1, 0, i->len, 1);
}

/* ==== the pass ==== */

/* cp_candidate: an app instruction the pass may rewrite. */
static int cp_candidate(const ir_insn_t *i)
{
    if (i->kind != IR_COPY) return 0;
    an_effects_t e;
    an_effects(i, &e);
    return !e.opaque && !e.barrier && !(i->zi.attributes & ZYDIS_ATTRIB_HAS_LOCK);
}

int opt_pass_constprop(ir_trace_t *t)
{
    if (t->n <= 0) return 0;
    cp_ctx_t c;
    an_regs_t *live = heap_alloc(sizeof(*live) * (size_t)t->n);
    c.t = t;
    c.flive = heap_alloc(sizeof(*c.flive) * (size_t)t->n);
    int changed = 0;
    if (live && c.flive) {
        an_liveness(t, live, c.flive);
        cp_reset(&c.st);
        for (int k = 0; k < t->n; k++) {
            if (cp_candidate(&t->insn[k])) {
                int ch = cp_fold(&c, k);
                if (!ch) {
                    ch |= cp_imm(&c, k);
                    ch |= cp_strength(&c, k);
                    ch |= cp_lea(&c, k);
                    ch |= cp_copies(&c, k);
                }
                changed += ch;
            }
            cp_step(&c.st, &t->insn[k]);
        }
    }
    heap_free(live);
    heap_free(c.flive);
    return changed;
}
