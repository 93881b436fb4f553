/* pass_xfwd.c — forwarding through vector registers. -O0 code moves every double through
 * the stack and often through a general register too: a double argument is
 * `movsd %xmm0,-0x40(%rbp) ; mov -0x40(%rbp),%rax ; movq %rax,%xmm0`, a double result
 * `movq %xmm0,%rax ; movq %rax,%xmm1`. Each store-to-load round trip of an xmm value costs
 * about 9 cycles of latency on this machine (the store forwarding of general registers is
 * free, that of xmm values is not), each crossing between the register files about 4; in
 * nbody.O0's inner loop they lie on the chain to sqrt and div (its native run went 0.89 s
 * -> 0.82 s with the two moves above changed by hand). Over the trace's one straight path
 * the pass follows which register holds the 8 bytes of a stack slot ([rsp+d] / [rbp+d]),
 * stored there by movsd/movq from an xmm register or mov from a 64-bit general one, and
 * which general registers hold the low 64 bits of an xmm register (movq %xmmX,%rG), and
 * rewrites:
 *   mov M,%rG                          ->  movq %xmmX,%rG      (M holds xmmX's low 64 bits)
 *   movsd|movq M,%xmmB                 ->  movq %xmmX,%xmmB    (or movq %rG,%xmmB)
 *   addsd|subsd|mulsd|divsd|minsd|maxsd|sqrtsd|ucomisd|comisd|cvtsd2ss M,%xmmB
 *                                      ->  the same from %xmmX
 *   movq %rG,%xmmB                     ->  movq %xmmX,%xmmB    (rG holds xmmX's low 64 bits)
 * Invariants:
 * - Exact at every instruction: each rewritten instruction writes the same bits to the
 *   same destination (movsd from memory and movq into an xmm register both zero bits
 *   127:64 and, legacy-encoded, keep the bits above; the scalar operations read the low 64
 *   bits of their source either way, so results, flags and MXCSR are the same). Flags are
 *   never touched. Only legacy-SSE forms are rewritten and written (a VEX form zeroes
 *   differently), and only plain app instructions (no pass inserted or marked them).
 * - Faults: a rewritten load read bytes this thread stored to the same address with no
 *   write that may overlap since: it could not fault. Memory order (TSO): the load reads
 *   this thread's own last store to those bytes, which native execution also does while
 *   the store waits in the store buffer, but only with no other memory read between: a
 *   load in between may see what another thread wrote after seeing the store (so it had
 *   left the buffer), and the slot must then be read from memory (a review's two-thread
 *   reproducer, tests/programs/xfwd_tso.c). Any instruction that reads memory therefore
 *   forgets what registers hold slots (as rle does); barriers (lock, fences, syscalls) and
 *   opaque instructions forget everything.
 * - What holds a slot is forgotten at any write that may overlap it (a store through
 *   another base or an unknown pointer, a push or call, an implicit or string store), any
 *   write to its holder (an xmm register written in any part, by any operand, hidden ones
 *   too; vzeroupper, vzeroall, fxrstor: an_vec_all) or to its base register. clzero (a
 *   store through rax that names no memory operand) is opaque (analysis.c). A signal
 *   handler cannot change a holder unseen: after a delivery the thread goes on from the
 *   dispatcher at the app pc.
 * - Deterministic: a function of the IR only. */
#include "opt.h"
#include "analysis.h"
#include "builder_int.h"

#define XF_MAX 16

typedef struct {
    int base;                   /* AN_RSP / AN_RBP */
    int64_t disp;
    int xmm;                    /* the holder: xmm id, or -1 */
    int gpr;                    /* ... or general register id (whole 64 bits), or -1 */
} xf_slot_t;

typedef struct {
    xf_slot_t s[XF_MAX];
    int n;
    int8_t gx[16];              /* gx[g]: the xmm id whose low 64 bits general register g
                                   holds (movq %xmmX,%rG), or -1 */
} xf_state_t;

static void xf_forget_mem(xf_state_t *st)
{
    st->n = 0;
}

static void xf_forget_all(xf_state_t *st)
{
    st->n = 0;
    for (int g = 0; g < 16; g++) st->gx[g] = -1;
}

/* xf_kill_xmm: xmm register x (-1: every one) was written. */
static void xf_kill_xmm(xf_state_t *st, int x)
{
    int m = 0;
    for (int k = 0; k < st->n; k++)
        if (st->s[k].xmm < 0 || (x >= 0 && st->s[k].xmm != x)) st->s[m++] = st->s[k];
    st->n = m;
    for (int g = 0; g < 16; g++)
        if (st->gx[g] >= 0 && (x < 0 || st->gx[g] == x)) st->gx[g] = -1;
}

/* xf_kill_gprs: the general registers in regs were written (whole or in part). */
static void xf_kill_gprs(xf_state_t *st, an_regs_t regs)
{
    int m = 0;
    for (int k = 0; k < st->n; k++) {
        const xf_slot_t *s = &st->s[k];
        if ((regs & AN_REG(s->base)) || (s->gpr >= 0 && (regs & AN_REG(s->gpr)))) continue;
        st->s[m++] = *s;
    }
    st->n = m;
    for (int g = 0; g < 16; g++)
        if (regs & AN_REG(g)) st->gx[g] = -1;
}

/* xf_kill_store: a store of size bytes at [base + disp] (base AN_RSP/AN_RBP): what it may
 * overlap goes (a slot through the other base may be the same bytes). */
static void xf_kill_store(xf_state_t *st, int base, int64_t disp, int size)
{
    int m = 0;
    for (int k = 0; k < st->n; k++) {
        const xf_slot_t *s = &st->s[k];
        if (s->base == base && (s->disp + 8 <= disp || disp + size <= s->disp)) st->s[m++] = *s;
    }
    st->n = m;
}

static void xf_remember(xf_state_t *st, int base, int64_t disp, int xmm, int gpr)
{
    if (st->n == XF_MAX) {                               /* drop the oldest */
        for (int k = 1; k < st->n; k++) st->s[k - 1] = st->s[k];
        st->n--;
    }
    st->s[st->n++] = (xf_slot_t){ base, disp, xmm, gpr };
}

static const xf_slot_t *xf_find(const xf_state_t *st, int base, int64_t disp)
{
    for (int k = st->n - 1; k >= 0; k--)
        if (st->s[k].base == base && st->s[k].disp == disp) return &st->s[k];
    return 0;
}

/* xf_xmm_id: r's xmm/ymm/zmm number, or -1 when r is no vector register. */
static int xf_xmm_id(ZydisRegister r)
{
    ZydisRegisterClass c = ZydisRegisterGetClass(r);
    if (c != ZYDIS_REGCLASS_XMM && c != ZYDIS_REGCLASS_YMM && c != ZYDIS_REGCLASS_ZMM) return -1;
    return ZydisRegisterGetId(r);
}

/* xf_is_gpr64 / xf_is_xmm: operand op is a 64-bit general register / an xmm register. */
static int xf_is_gpr64(const ZydisDecodedOperand *op)
{
    return op->type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_GPR64 &&
           an_reg_id(op->reg.value) >= 0;
}

static int xf_is_xmm(const ZydisDecodedOperand *op)
{
    return op->type == ZYDIS_OPERAND_TYPE_REGISTER && ZydisRegisterGetClass(op->reg.value) == ZYDIS_REGCLASS_XMM;
}

/* xf_plain: a two-operand app instruction no pass inserted or marked, 64-bit addressing. */
static int xf_plain(const ir_insn_t *i)
{
    return i->kind == IR_COPY && !i->flags && !i->ncomp && !i->replay && i->zi.operand_count_visible == 2 &&
           i->zi.address_width == 64;
}

static int xf_legacy(const ir_insn_t *i)
{
    return i->zi.encoding == ZYDIS_INSTRUCTION_ENCODING_LEGACY;
}

/* xf_scalar_src: mnemonic m reads a scalar double from its second operand, which may be
 * memory or an xmm register with the same result. */
static int xf_scalar_src(ZydisMnemonic m)
{
    switch (m) {
    case ZYDIS_MNEMONIC_ADDSD: case ZYDIS_MNEMONIC_SUBSD: case ZYDIS_MNEMONIC_MULSD:
    case ZYDIS_MNEMONIC_DIVSD: case ZYDIS_MNEMONIC_MINSD: case ZYDIS_MNEMONIC_MAXSD:
    case ZYDIS_MNEMONIC_SQRTSD: case ZYDIS_MNEMONIC_UCOMISD: case ZYDIS_MNEMONIC_COMISD:
    case ZYDIS_MNEMONIC_CVTSD2SS:
        return 1;
    default:
        return 0;
    }
}

/* xf_set: re-encode i as req if the result is legacy-encoded with the mnemonic wanted. */
static int xf_set(ir_insn_t *i, const ZydisEncoderRequest *req)
{
    ir_insn_t n = *i;
    if (ir_set_insn(&n, req) != HP_OK || n.zi.mnemonic != req->mnemonic || !xf_legacy(&n)) return 0;
    *i = n;
    return 1;
}

/* xf_movq: i becomes `movq SRC,DST` (DST an xmm or a 64-bit general register, SRC an xmm or
 * a 64-bit general register, not both general). */
static int xf_movq(ir_insn_t *i, ZydisRegister dst, ZydisRegister src)
{
    ZydisEncoderRequest req;
    bb_req_reg(&req, ZYDIS_MNEMONIC_MOVQ, 2, dst);
    req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[1].reg.value = src;
    return xf_set(i, &req);
}

static ZydisRegister xf_xmm(int id)
{
    return (ZydisRegister)(ZYDIS_REGISTER_XMM0 + id);
}

/* xf_rewrite: rewrite i if what it reads is held in a register; 1 if it changed. */
static int xf_rewrite(ir_insn_t *i, const xf_state_t *st)
{
    if (!xf_plain(i) || !xf_legacy(i)) return 0;
    const ZydisDecodedOperand *d = &i->ops[0], *s = &i->ops[1];
    ZydisMnemonic mn = i->zi.mnemonic;
    if (s->type == ZYDIS_OPERAND_TYPE_REGISTER) {        /* movq %rG,%xmmB */
        if (mn != ZYDIS_MNEMONIC_MOVQ || !xf_is_xmm(d) || !xf_is_gpr64(s)) return 0;
        int x = st->gx[an_reg_id(s->reg.value)];
        return x >= 0 && xf_movq(i, d->reg.value, xf_xmm(x));
    }
    an_mem_t m;
    an_mem(i, &m);
    if (m.cls != AN_MEM_STACK || m.op != 1 || m.size != 8 || !(s->actions & ZYDIS_OPERAND_ACTION_READ) ||
        (s->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
        return 0;
    const xf_slot_t *h = xf_find(st, m.base, m.disp);
    if (!h) return 0;
    if (mn == ZYDIS_MNEMONIC_MOV && xf_is_gpr64(d))     /* mov M,%rG */
        return h->xmm >= 0 && xf_movq(i, d->reg.value, xf_xmm(h->xmm));
    if (!xf_is_xmm(d)) return 0;
    if (mn == ZYDIS_MNEMONIC_MOVSD || mn == ZYDIS_MNEMONIC_MOVQ)    /* a load into an xmm */
        return xf_movq(i, d->reg.value, h->xmm >= 0 ? xf_xmm(h->xmm) : ZydisRegisterEncode(ZYDIS_REGCLASS_GPR64, (ZyanU8)h->gpr));
    if (!xf_scalar_src(mn) || h->xmm < 0) return 0;      /* op M,%xmmB -> op %xmmX,%xmmB */
    ZydisEncoderRequest req;
    if (!ir_request(i, &req)) return 0;
    hp_memset(&req.operands[1], 0, sizeof(req.operands[1]));
    req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
    req.operands[1].reg.value = xf_xmm(h->xmm);
    return xf_set(i, &req);
}

/* xf_after: what i (as it is now) changes in st. */
static void xf_after(const ir_insn_t *i, xf_state_t *st)
{
    an_effects_t e;
    an_effects(i, &e);
    if (i->kind == IR_SYSCALL || e.opaque || e.barrier) { xf_forget_all(st); return; }
    if (i->kind != IR_COPY) {                            /* the trace's control flow: pushes,
                                                            pops, rcx of loop */
        xf_forget_mem(st);
        xf_kill_gprs(st, e.def | e.def_part);
        return;
    }
    if (an_vec_all(i)) xf_kill_xmm(st, -1);              /* every xmm, none named */
    for (int k = 0; k < i->zi.operand_count; k++) {     /* vector registers written */
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type != ZYDIS_OPERAND_TYPE_REGISTER || !(op->actions & ZYDIS_OPERAND_ACTION_MASK_WRITE)) continue;
        int x = xf_xmm_id(op->reg.value);
        if (x >= 0) xf_kill_xmm(st, x);
    }
    xf_kill_gprs(st, e.def | e.def_part);
    if (e.mem_read) xf_forget_mem(st);                  /* TSO: see the banner */
    an_mem_t m;
    an_mem(i, &m);
    int w = e.mem_write ? an_mem_store_op(i) : -1;
    if (e.mem_write) {
        if (w < 0 || m.cls != AN_MEM_STACK || m.op != w) xf_forget_mem(st);
        else xf_kill_store(st, m.base, m.disp, m.size);
    }
    if (!xf_plain(i) || !xf_legacy(i)) return;
    const ZydisDecodedOperand *d = &i->ops[0], *s = &i->ops[1];
    ZydisMnemonic mn = i->zi.mnemonic;
    if (mn == ZYDIS_MNEMONIC_MOVQ && xf_is_gpr64(d) && xf_is_xmm(s)) {       /* movq %xmmX,%rG */
        st->gx[an_reg_id(d->reg.value)] = (int8_t)ZydisRegisterGetId(s->reg.value);
        return;
    }
    if (w != 0 || m.cls != AN_MEM_STACK || m.size != 8) return;
    if ((mn == ZYDIS_MNEMONIC_MOVSD || mn == ZYDIS_MNEMONIC_MOVQ) && xf_is_xmm(s))
        xf_remember(st, m.base, m.disp, ZydisRegisterGetId(s->reg.value), -1);
    else if (mn == ZYDIS_MNEMONIC_MOV && xf_is_gpr64(s) && an_reg_id(s->reg.value) != m.base)
        xf_remember(st, m.base, m.disp, -1, an_reg_id(s->reg.value));
}

int opt_pass_xfwd(ir_trace_t *t)
{
    xf_state_t st;
    xf_forget_all(&st);
    int changed = 0;
    for (int k = 0; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        changed += xf_rewrite(i, &st);
        xf_after(i, &st);
    }
    return changed;
}
