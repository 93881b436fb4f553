/* pass_cse.c — redundant register computations: an instruction that puts into a register
 * the value that register already holds is removed. Values are numbered along the path
 * (value numbering over general registers): each register holds a value number; a copy,
 * a sign or zero extension of a register's low half, an lea of registers and constants, an
 * immediate, compute a number from their operands' numbers; anything else that writes a
 * register gives it a fresh one. -O0 code recomputes an array index for every access
 * (`movslq %r11d,%rax; lea 0x0(,%rax,8),%rdx` three times in matmul.O0's inner loop, with
 * r11 unchanged): the second and third lea find rdx holding 8 * r11d already and go.
 * Exactness: exact at every instruction. Only instructions that read and write registers
 * alone and leave the flags are removed (mov between registers or from an immediate,
 * movsxd, cltq, lea with a 64-bit address), and only when the destination's whole 64 bits
 * already are what they would write, so no register, flag or memory differs anywhere; none
 * of them can fault. The path is linear from the head (a loop comes back to the head,
 * where every register starts with a fresh number); after a store checked against a
 * promoted loop's slots (IR_F_ALIAS, IR_F_ALIAS_FL) the promoted registers may have been
 * read again from memory: fresh numbers. Runs after promote and fuse (which make the
 * register forms it sees) and before dce: the index extension a removed lea read is dead
 * then but for the load after it, which dce's replay handles (matmul.O0). */
#include "opt.h"
#include "analysis.h"
#include "builder_int.h"
#include "heap.h"

#define CS_MAX 1024              /* value numbers per trace; past it, the pass stops */

enum { CS_IN, CS_IMM, CS_ZX32, CS_SX32, CS_LEA };

typedef struct {
    uint8_t op;
    uint8_t scale;
    int a, b;                    /* operand value numbers (-1: none) */
    int64_t k;                   /* CS_IMM: the value; CS_LEA: the displacement */
} cs_expr_t;

#define CS_HASH (2 * CS_MAX)     /* open addressing over the expressions other than CS_IN */

typedef struct {
    cs_expr_t e[CS_MAX];
    int n;
    int vn[16];                  /* the value number each general register holds */
    int16_t slot[CS_HASH];       /* expression index + 1 (0: empty) */
} cs_state_t;

_Static_assert((CS_HASH & (CS_HASH - 1)) == 0 && CS_HASH > CS_MAX, "cs_hash: a power of two, never full");

static unsigned cs_hash(const cs_expr_t *x)
{
    uint64_t h = (uint64_t)x->op * 0x9e3779b97f4a7c15ull ^ (uint64_t)(uint32_t)x->a * 0xc2b2ae3d27d4eb4full ^
                 (uint64_t)(uint32_t)x->b * 0x165667b19e3779f9ull ^ (uint64_t)x->k * 0xff51afd7ed558ccdull ^
                 (uint64_t)x->scale << 7;
    return (unsigned)(h ^ h >> 29) & (CS_HASH - 1);
}

/* cs_num: the number of expression x, made if new; -1 when the table is full. An
 * extension reads only the low half, which an extended value shares with its operand
 * (sx(zx(v)) = sx(v)); extending an extended value the same way is that value. */
static int cs_num(cs_state_t *s, cs_expr_t x)
{
    if ((x.op == CS_ZX32 || x.op == CS_SX32) && x.a >= 0) {
        const cs_expr_t *y = &s->e[x.a];
        if (y->op == x.op) return x.a;
        if (y->op == CS_IMM)                             /* a constant's extension: constant */
            return cs_num(s, (cs_expr_t){ CS_IMM, 0, -1, -1, x.op == CS_ZX32 ? (int64_t)(uint32_t)y->k
                                                                               : (int64_t)(int32_t)y->k });
        if (y->op == CS_ZX32 || y->op == CS_SX32) x.a = y->a;
    }
    unsigned h = 0;
    if (x.op != CS_IN)                                   /* (inputs are all different) */
        for (h = cs_hash(&x); s->slot[h]; h = (h + 1) & (CS_HASH - 1)) {
            const cs_expr_t *y = &s->e[s->slot[h] - 1];
            if (y->op == x.op && y->a == x.a && y->b == x.b && y->k == x.k && y->scale == x.scale)
                return s->slot[h] - 1;
        }
    if (s->n == CS_MAX) return -1;
    s->e[s->n] = x;
    if (x.op != CS_IN) s->slot[h] = (int16_t)(s->n + 1);
    return s->n++;
}

static int cs_fresh(cs_state_t *s)
{
    return cs_num(s, (cs_expr_t){ CS_IN, 0, -1, -1, s->n });
}

/* cs_reg64: the register's an_reg_id if r is a 64-bit general register, else -1. */
static int cs_reg64(ZydisRegister r)
{
    return ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_GPR64 ? an_reg_id(r) : -1;
}

static int cs_reg32(ZydisRegister r)
{
    return ZydisRegisterGetClass(r) == ZYDIS_REGCLASS_GPR32 ? an_reg_id(r) : -1;
}

/* cs_value: the value number i writes into its destination register *dst (its whole 64
 * bits), when i is one of the forms handled; -1 otherwise (also when the table is full:
 * *full). */
static int cs_value(cs_state_t *s, const ir_insn_t *i, int *dst, int *full)
{
    const ZydisDecodedInstruction *in = &i->zi;
    const ZydisDecodedOperand *o = i->ops;
    *dst = -1;
    if (i->kind != IR_COPY || i->ncomp) return -1;
    int v = -2;
    if (in->mnemonic == ZYDIS_MNEMONIC_CDQE) {                    /* rax = sx32(eax) */
        *dst = AN_RAX;
        v = cs_num(s, (cs_expr_t){ CS_SX32, 0, s->vn[AN_RAX], -1, 0 });
    } else if (in->operand_count_visible != 2 || o[0].type != ZYDIS_OPERAND_TYPE_REGISTER) {
        return -1;
    } else if (in->mnemonic == ZYDIS_MNEMONIC_MOV) {
        int d64 = cs_reg64(o[0].reg.value), d32 = cs_reg32(o[0].reg.value);
        if (d64 < 0 && d32 < 0) return -1;
        *dst = d64 >= 0 ? d64 : d32;
        if (o[1].type == ZYDIS_OPERAND_TYPE_IMMEDIATE) {
            uint64_t k = o[1].imm.value.u;
            if (d32 >= 0) k &= 0xffffffffu;
            v = cs_num(s, (cs_expr_t){ CS_IMM, 0, -1, -1, (int64_t)k });
        } else if (o[1].type == ZYDIS_OPERAND_TYPE_REGISTER) {
            int s64 = cs_reg64(o[1].reg.value), s32 = cs_reg32(o[1].reg.value);
            if (d64 >= 0 && s64 >= 0) v = s->vn[s64];
            else if (d32 >= 0 && s32 >= 0) v = cs_num(s, (cs_expr_t){ CS_ZX32, 0, s->vn[s32], -1, 0 });
            else return -1;
        } else {
            return -1;
        }
    } else if (in->mnemonic == ZYDIS_MNEMONIC_MOVSXD) {
        int d64 = cs_reg64(o[0].reg.value);
        if (d64 < 0 || o[1].type != ZYDIS_OPERAND_TYPE_REGISTER || cs_reg32(o[1].reg.value) < 0) return -1;
        *dst = d64;
        v = cs_num(s, (cs_expr_t){ CS_SX32, 0, s->vn[cs_reg32(o[1].reg.value)], -1, 0 });
    } else if (in->mnemonic == ZYDIS_MNEMONIC_LEA) {
        int d64 = cs_reg64(o[0].reg.value), d32 = cs_reg32(o[0].reg.value);
        const ZydisDecodedOperand *m = &o[1];
        if ((d64 < 0 && d32 < 0) || in->address_width != 64) return -1;
        *dst = d64 >= 0 ? d64 : d32;
        int64_t disp = m->mem.disp.has_displacement ? m->mem.disp.value : 0;
        if (m->mem.base == ZYDIS_REGISTER_RIP) {                  /* an absolute address */
            if (m->mem.index != ZYDIS_REGISTER_NONE) return -1;
            v = cs_num(s, (cs_expr_t){ CS_IMM, 0, -1, -1, (int64_t)(i->app_pc + i->len + (uint64_t)disp) });
        } else {
            int b = m->mem.base == ZYDIS_REGISTER_NONE ? -2 : cs_reg64(m->mem.base);
            int x = m->mem.index == ZYDIS_REGISTER_NONE ? -2 : cs_reg64(m->mem.index);
            if (b == -1 || x == -1) return -1;
            v = cs_num(s, (cs_expr_t){ CS_LEA, x >= 0 ? m->mem.scale : 0, b >= 0 ? s->vn[b] : -1,
                                       x >= 0 ? s->vn[x] : -1, disp });
        }
        if (v >= 0 && d32 >= 0) v = cs_num(s, (cs_expr_t){ CS_ZX32, 0, v, -1, 0 });
    } else {
        return -1;
    }
    if (v < 0) *full = 1;
    return v;
}

int opt_pass_cse(ir_trace_t *t)
{
    cs_state_t *s = heap_alloc(sizeof(*s));
    if (!s) return 0;
    for (int r = 0; r < 16; r++) s->vn[r] = cs_fresh(s);
    int removed = 0, o = 0, k = 0;      /* one pass, compacting (no removal one by one:
                                           traces run to thousands of instructions) */
    for (; k < t->n; k++) {
        ir_insn_t *i = &t->insn[k];
        int dst, full = 0;
        int v = cs_value(s, i, &dst, &full);
        if (full) break;
        if (v >= 0 && s->vn[dst] == v) {                          /* already there: gone */
            removed++;                                            /* (no comp: cs_value) */
            continue;
        }
        an_effects_t e;
        an_effects(i, &e);
        an_regs_t w = e.def | e.def_part;
        for (int r = 0; r < 16; r++)
            if (w & AN_REG(r)) s->vn[r] = cs_fresh(s);
        if (v >= 0) s->vn[dst] = v;
        an_regs_t again = an_check_reloads(t, i);                  /* maybe read again */
        for (int r = 0; r < 16; r++)
            if (again & AN_REG(r)) s->vn[r] = cs_fresh(s);
        if (o != k) hp_memcpy(&t->insn[o], i, sizeof(*i));
        o++;
        if (s->n >= CS_MAX - 20) { k++; break; }
    }
    if (o != k) {                                                 /* the rest as it is */
        for (; k < t->n; k++, o++) hp_memcpy(&t->insn[o], &t->insn[k], sizeof(ir_insn_t));
        t->n = o;
    }
    heap_free(s);
    return removed;
}
