/* analysis.c — effects of one IR instruction from Zydis operand actions and cpu_flags,
 * liveness over a trace, memory operand classes (analysis.h).
 * Invariant: conservative; anything not understood is read, written and opaque. */
#include "analysis.h"
#include "heap.h"
#include "runtime.h"

static int an_reg_id_slow(ZydisRegister r)
{
    switch (ZydisRegisterGetClass(r)) {
    case ZYDIS_REGCLASS_GPR8: case ZYDIS_REGCLASS_GPR16:
    case ZYDIS_REGCLASS_GPR32: case ZYDIS_REGCLASS_GPR64: {
        ZydisRegister big = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, r);
        int id = ZydisRegisterGetId(big);
        return id >= 0 && id < 16 ? id : -1;
    }
    default:
        return -1;
    }
}

/* an_reg_id answers from a table made on first use (the passes ask it for every operand
 * of every instruction, several times: Zydis's three lookups were 2% of sqlite3's run
 * under hotpath). Filled before it is marked ready; trace building holds the dispatcher
 * lock, and a second filler would write the same values. */
int an_reg_id(ZydisRegister r)
{
    static int8_t ids[ZYDIS_REGISTER_MAX_VALUE + 1];
    static int ready;
    if ((unsigned)r > ZYDIS_REGISTER_MAX_VALUE) return -1;
    if (!__atomic_load_n(&ready, __ATOMIC_ACQUIRE)) {
        for (int k = 0; k <= ZYDIS_REGISTER_MAX_VALUE; k++) ids[k] = (int8_t)an_reg_id_slow((ZydisRegister)k);
        __atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
    }
    return ids[r];
}

int an_reg_move(const ir_insn_t *i, int *dst, int *src)
{
    const ZydisDecodedOperand *o = i->ops;
    if (i->zi.operand_count_visible != 2 || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER ||
        o[1].type != ZYDIS_OPERAND_TYPE_REGISTER)
        return 0;
    ZydisRegisterClass dc = ZydisRegisterGetClass(o[0].reg.value), sc = ZydisRegisterGetClass(o[1].reg.value);
    int op;
    if (i->zi.mnemonic == ZYDIS_MNEMONIC_MOV && dc == ZYDIS_REGCLASS_GPR64 && sc == ZYDIS_REGCLASS_GPR64) op = XL_RP_COPY;
    else if (i->zi.mnemonic == ZYDIS_MNEMONIC_MOV && dc == ZYDIS_REGCLASS_GPR32 && sc == ZYDIS_REGCLASS_GPR32) op = XL_RP_ZX32;
    else if (i->zi.mnemonic == ZYDIS_MNEMONIC_MOVSXD && dc == ZYDIS_REGCLASS_GPR64 && sc == ZYDIS_REGCLASS_GPR32) op = XL_RP_SX32;
    else return 0;
    *dst = an_reg_id(o[0].reg.value);
    *src = an_reg_id(o[1].reg.value);
    return *dst >= 0 && *src >= 0 && *dst != *src ? op : 0;
}

static int an_is_barrier(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
    if (in->attributes & ZYDIS_ATTRIB_HAS_LOCK) return 1;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_XCHG:
        return ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY || ops[1].type == ZYDIS_OPERAND_TYPE_MEMORY;
    case ZYDIS_MNEMONIC_MFENCE: case ZYDIS_MNEMONIC_LFENCE: case ZYDIS_MNEMONIC_SFENCE:
    case ZYDIS_MNEMONIC_SYSCALL: case ZYDIS_MNEMONIC_CPUID: case ZYDIS_MNEMONIC_RDTSC:
    case ZYDIS_MNEMONIC_RDTSCP: case ZYDIS_MNEMONIC_SERIALIZE: case ZYDIS_MNEMONIC_PAUSE:
    case ZYDIS_MNEMONIC_XGETBV: case ZYDIS_MNEMONIC_RDRAND: case ZYDIS_MNEMONIC_RDSEED:
    case ZYDIS_MNEMONIC_RDPID: case ZYDIS_MNEMONIC_UD2: case ZYDIS_MNEMONIC_INT3:
    case ZYDIS_MNEMONIC_INT: case ZYDIS_MNEMONIC_HLT:
    case ZYDIS_MNEMONIC_UD0: case ZYDIS_MNEMONIC_UD1:      /* (register forms: SIGILL) */
    case ZYDIS_MNEMONIC_CLI: case ZYDIS_MNEMONIC_STI:      /* (user mode: SIGSEGV) */
    case ZYDIS_MNEMONIC_MONITOR: case ZYDIS_MNEMONIC_MWAIT:
    case ZYDIS_MNEMONIC_MONITORX: case ZYDIS_MNEMONIC_MWAITX:
    case ZYDIS_MNEMONIC_FWAIT:                             /* (a pending x87 exception) */
        return 1;
    default:
        return 0;
    }
}

/* Instructions whose effects the operands do not describe (system state, I/O, segment
 * bases, save areas of unknown size, transactions): opaque. Everything else is modelled by
 * its operands and cpu_flags; vector, mask and x87 registers are not tracked (an
 * instruction touching them may raise a floating-point exception: may_fault). */
static int an_is_opaque(const ZydisDecodedInstruction *in)
{
    switch (in->meta.category) {
    case ZYDIS_CATEGORY_SYSTEM: case ZYDIS_CATEGORY_IO: case ZYDIS_CATEGORY_IOSTRINGOP:
    case ZYDIS_CATEGORY_INTERRUPT: case ZYDIS_CATEGORY_SYSCALL: case ZYDIS_CATEGORY_SYSRET:
    case ZYDIS_CATEGORY_SEGOP: case ZYDIS_CATEGORY_XSAVE: case ZYDIS_CATEGORY_XSAVEOPT:
    case ZYDIS_CATEGORY_RDWRFSGS: case ZYDIS_CATEGORY_SGX: case ZYDIS_CATEGORY_VTX:
    case ZYDIS_CATEGORY_PT: case ZYDIS_CATEGORY_UINTR: case ZYDIS_CATEGORY_TSX_LDTRK:
    case ZYDIS_CATEGORY_AMX_TILE: case ZYDIS_CATEGORY_KEYLOCKER: case ZYDIS_CATEGORY_KEYLOCKER_WIDE:
    case ZYDIS_CATEGORY_PCONFIG: case ZYDIS_CATEGORY_MPX: case ZYDIS_CATEGORY_PKU:
    case ZYDIS_CATEGORY_SMAP: case ZYDIS_CATEGORY_CET: case ZYDIS_CATEGORY_ENQCMD:
    case ZYDIS_CATEGORY_HRESET: case ZYDIS_CATEGORY_SERIALIZE: case ZYDIS_CATEGORY_CLZERO: case ZYDIS_CATEGORY_INVALID:
        return 1;
    default:
        return in->mnemonic == ZYDIS_MNEMONIC_CPUID || in->mnemonic == ZYDIS_MNEMONIC_XLAT;
    }
}

static void an_effects_of(const ir_insn_t *i, an_effects_t *e);

/* an_effects keeps what it found in the instruction (eff, eff_kind): passes ask for every
 * instruction's effects several times each (liveness, regions, candidates), which was a
 * tenth of trace building. */
void an_effects(const ir_insn_t *i, an_effects_t *e)
{
    _Static_assert(sizeof(an_effects_t) <= sizeof(i->eff), "an_effects cache");
    if (i->eff_kind == i->kind + 1) {
        hp_memcpy(e, i->eff, sizeof(*e));
        return;
    }
    an_effects_of(i, e);
    ir_insn_t *w = (ir_insn_t *)i;                      /* (a cache: not the app's state) */
    hp_memcpy(w->eff, e, sizeof(*e));
    w->eff_kind = (uint8_t)(i->kind + 1);
}

static void an_effects_of(const ir_insn_t *i, an_effects_t *e)
{
    const ZydisDecodedInstruction *in = &i->zi;
    hp_memset(e, 0, sizeof(*e));
    e->exits = (uint8_t)ir_is_exit(i);
    if (i->kind == IR_EXIT) return;                     /* our own jump: nothing of the app */
    if (i->kind == IR_JCC) {                            /* reads the flags of its condition */
        if (in->cpu_flags) e->fuse = in->cpu_flags->tested;
        else e->fuse = AN_ALL_FLAGS;
        return;
    }
    if (in->cpu_flags) {
        e->fuse = in->cpu_flags->tested;
        e->fdef = in->cpu_flags->modified | in->cpu_flags->set_0 | in->cpu_flags->set_1;
        e->fundef = in->cpu_flags->undefined & ~e->fdef;
    }
    e->fuse &= AN_ALL_FLAGS;
    e->fdef &= AN_ALL_FLAGS;
    e->fundef &= AN_ALL_FLAGS;
    if ((in->meta.category == ZYDIS_CATEGORY_SHIFT || in->meta.category == ZYDIS_CATEGORY_ROTATE) &&
        !(in->operand_count_visible >= 2 && i->ops[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE &&
          (i->ops[1].imm.value.u & (in->operand_width == 64 ? 63 : 31)) != 0))
        e->fuse |= e->fdef;                             /* a zero count leaves the flags */
    for (int k = 0; k < in->operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        int rd = op->actions & (ZYDIS_OPERAND_ACTION_READ | ZYDIS_OPERAND_ACTION_CONDREAD);
        int wr = op->actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE);
        int cond_wr = (op->actions & ZYDIS_OPERAND_ACTION_CONDWRITE) != 0;
        if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
            ZydisRegister r = op->reg.value;
            if (r == ZYDIS_REGISTER_RIP || r == ZYDIS_REGISTER_EIP) continue;
            if (r == ZYDIS_REGISTER_RFLAGS || r == ZYDIS_REGISTER_EFLAGS || r == ZYDIS_REGISTER_FLAGS)
                continue;                                /* cpu_flags says which */
            int id = an_reg_id(r);
            if (id < 0) {
                ZydisRegisterClass rc = ZydisRegisterGetClass(r);
                if (rc == ZYDIS_REGCLASS_SEGMENT || rc == ZYDIS_REGCLASS_CONTROL ||
                    rc == ZYDIS_REGCLASS_DEBUG || rc == ZYDIS_REGCLASS_TABLE || rc == ZYDIS_REGCLASS_TEST)
                    e->opaque = 1;
                else
                    e->may_fault = 1;                    /* vector/x87/mask: FP exceptions */
                continue;
            }
            if (rd) e->use |= AN_REG(id);
            if (wr) {
                /* bsf/bsr leave the destination alone when the source is 0 */
                int keeps = in->mnemonic == ZYDIS_MNEMONIC_BSF || in->mnemonic == ZYDIS_MNEMONIC_BSR;
                int whole = (op->size == 64 || op->size == 32) && !cond_wr && !keeps;
                if (whole) e->def |= AN_REG(id);
                else { e->def_part |= AN_REG(id); e->use |= AN_REG(id); }
            }
        } else if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
            int b = an_reg_id(op->mem.base), x = an_reg_id(op->mem.index);
            if (b >= 0) e->use |= AN_REG(b);
            if (x >= 0) e->use |= AN_REG(x);
            if (op->mem.type == ZYDIS_MEMOP_TYPE_AGEN || in->meta.category == ZYDIS_CATEGORY_NOP) continue;
            if (rd) e->mem_read = 1;
            if (wr) e->mem_write = 1;
            if (rd || wr) e->may_fault = 1;
        }
    }
    if (in->mnemonic == ZYDIS_MNEMONIC_DIV || in->mnemonic == ZYDIS_MNEMONIC_IDIV) e->may_fault = 1;
    e->barrier = (uint8_t)an_is_barrier(in, i->ops);
    if (e->barrier) e->may_fault = 1;
    if (i->kind == IR_COPY && an_is_opaque(in)) e->opaque = 1;
    if (e->opaque) {                                    /* assume the worst */
        e->use = e->def_part = AN_ALL_REGS;
        e->fuse = e->fdef = AN_ALL_FLAGS;
        e->fundef = 0;
        e->mem_read = e->mem_write = e->may_fault = 1;
    }
    if (i->kind == IR_CALL) {                           /* push of the return address */
        e->use = e->def_part = AN_REG(AN_RSP);
        e->def = 0;
        e->fuse = e->fdef = 0;
        e->mem_write = e->may_fault = 1;
    }
    if (i->kind == IR_SYSCALL) {
        e->use = AN_REG(AN_RAX) | AN_REG(AN_RDI) | AN_REG(AN_RSI) | AN_REG(AN_RDX) |
                 AN_REG(AN_R10) | AN_REG(AN_R8) | AN_REG(AN_R9);
        e->def = AN_REG(AN_RAX) | AN_REG(AN_RCX) | AN_REG(AN_R11);
        e->mem_read = e->mem_write = e->may_fault = e->barrier = 1;
    }
}

void an_liveness(const ir_trace_t *t, an_regs_t *live_regs, an_flags_t *live_flags)
{
    an_regs_t r = AN_ALL_REGS;               /* after the end: whatever runs next reads all */
    an_flags_t f = AN_ALL_FLAGS;
    for (int k = t->n - 1; k >= 0; k--) {
        an_effects_t e;
        an_effects(&t->insn[k], &e);
        if (e.exits) { r = AN_ALL_REGS; f = AN_ALL_FLAGS; }
        live_regs[k] = r;
        live_flags[k] = f;
        r = (r & ~e.def) | e.use;
        f = (f & ~e.fdef) | e.fuse;
    }
}

int an_reaching_def(const ir_trace_t *t, int k, int reg)
{
    for (int j = k - 1; j >= 0; j--) {
        an_effects_t e;
        an_effects(&t->insn[j], &e);
        if ((e.def | e.def_part) & AN_REG(reg)) return j;
    }
    return -1;
}

int an_mem_bit_offset(const ir_insn_t *i)
{
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_BT: case ZYDIS_MNEMONIC_BTS: case ZYDIS_MNEMONIC_BTR: case ZYDIS_MNEMONIC_BTC:
        return i->zi.operand_count_visible >= 2 && i->ops[0].type == ZYDIS_OPERAND_TYPE_MEMORY &&
               i->ops[1].type == ZYDIS_OPERAND_TYPE_REGISTER;
    default:
        return 0;
    }
}

an_regs_t an_check_reloads(const ir_trace_t *t, const ir_insn_t *i)
{
    an_regs_t r = 0;
    if (i->flags & (IR_F_ALIAS | IR_F_ALIAS_FL))
        for (int p = 0; p < t->npromo; p++)
            if (!t->promo[p].xmm) r |= AN_REG(t->promo[p].reg);
    return r;
}

int an_vec_all(const ir_insn_t *i)
{
    switch (i->zi.mnemonic) {
    case ZYDIS_MNEMONIC_VZEROALL: case ZYDIS_MNEMONIC_VZEROUPPER: case ZYDIS_MNEMONIC_FXSAVE:
    case ZYDIS_MNEMONIC_FXSAVE64: case ZYDIS_MNEMONIC_FXRSTOR: case ZYDIS_MNEMONIC_FXRSTOR64:
        return 1;
    default:
        return 0;
    }
}

int an_mem_store_op(const ir_insn_t *i)
{
    int w = -1;
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
        if (!(op->actions & (ZYDIS_OPERAND_ACTION_WRITE | ZYDIS_OPERAND_ACTION_CONDWRITE))) continue;
        if (w >= 0 || op->visibility != ZYDIS_OPERAND_VISIBILITY_EXPLICIT) return -1;
        w = k;
    }
    return w;
}

void an_mem(const ir_insn_t *i, an_mem_t *m)
{
    hp_memset(m, 0, sizeof(*m));
    m->cls = AN_MEM_NONE;
    m->base = -1;
    m->op = -1;
    if (i->kind != IR_COPY) return;
    for (int k = 0; k < i->zi.operand_count; k++) {
        const ZydisDecodedOperand *op = &i->ops[k];
        if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.type == ZYDIS_MEMOP_TYPE_AGEN) continue;
        if (i->zi.meta.category == ZYDIS_CATEGORY_NOP) continue;
        m->op = k;
        m->size = op->size / 8;
        int seg = op->mem.segment == ZYDIS_REGISTER_FS || op->mem.segment == ZYDIS_REGISTER_GS ||
                  an_mem_bit_offset(i);                   /* only the base is known: unknown */
        int b = an_reg_id(op->mem.base);
        if (!seg && op->mem.index == ZYDIS_REGISTER_NONE && (b == AN_RSP || b == AN_RBP) &&
            op->mem.base != ZYDIS_REGISTER_ESP && op->mem.base != ZYDIS_REGISTER_EBP) {
            m->cls = AN_MEM_STACK;
            m->base = b;
            m->disp = op->mem.disp.value;
        } else if (!seg && op->mem.base == ZYDIS_REGISTER_RIP) {
            m->cls = AN_MEM_ABS;
            m->disp = (int64_t)(i->app_pc + i->len + (uint64_t)op->mem.disp.value);
        } else if (!seg && op->mem.base == ZYDIS_REGISTER_NONE && op->mem.index == ZYDIS_REGISTER_NONE) {
            m->cls = AN_MEM_ABS;
            m->disp = op->mem.disp.value;
        } else {
            m->cls = AN_MEM_UNKNOWN;
        }
        return;
    }
}

int an_inexact_region(ir_trace_t *t, int k, an_regs_t regs, an_flags_t flags, int apply)
{
    int end = k;
    for (int j = k + 1; j < t->n && (regs || flags); j++) {
        an_effects_t e;
        an_effects(&t->insn[j], &e);
        if ((e.use & regs) || (e.fuse & flags)) return 0;     /* read: not dead after all */
        if (e.may_fault || e.barrier || e.opaque || e.exits) return 0;
        regs &= ~e.def;
        flags &= ~e.fdef;
        end = j;
    }
    if (regs || flags) return 0;                              /* the end of the trace */
    if (apply)
        for (int j = k + 1; j <= end; j++) t->insn[j].flags |= IR_F_INEXACT;
    return 1;
}
