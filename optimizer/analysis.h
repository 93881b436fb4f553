/* analysis.h — what the passes know about the trace IR: each instruction's effects (general
 * registers and status flags read and written, memory accessed, whether it can fault or is
 * a barrier), liveness of registers and flags after each instruction, and memory operands
 * classified (stack slot, absolute, unknown pointer).
 * Invariants: everything is conservative: a register or flag the analysis cannot account
 * for counts as read and written; an exit of the trace makes every register and flag
 * live (the code it goes to may read anything); an instruction with effects the analysis
 * does not model (segment bases, system state, I/O, save areas, transactions) is `opaque`
 * and passes must leave it and what it touches alone. Vector, mask and x87 registers are
 * not tracked: instructions on them are modelled by their general-register, flag and
 * memory operands and count as may_fault (floating-point exceptions). */
#ifndef HOTPATH_ANALYSIS_H
#define HOTPATH_ANALYSIS_H
#include "ir.h"

/* General registers as bits: bit n = the register with Zydis id n (rax=0, rcx=1, rdx=2,
 * rbx=3, rsp=4, rbp=5, rsi=6, rdi=7, r8..r15 = 8..15). */
typedef uint32_t an_regs_t;
#define AN_ALL_REGS 0xffffu
#define AN_REG(id) (1u << (id))
enum { AN_RAX, AN_RCX, AN_RDX, AN_RBX, AN_RSP, AN_RBP, AN_RSI, AN_RDI,
       AN_R8, AN_R9, AN_R10, AN_R11, AN_R12, AN_R13, AN_R14, AN_R15 };

/* Status flags and DF as ZYDIS_CPUFLAG_* bits. */
typedef uint32_t an_flags_t;
#define AN_ALL_FLAGS (ZYDIS_CPUFLAG_CF | ZYDIS_CPUFLAG_PF | ZYDIS_CPUFLAG_AF | ZYDIS_CPUFLAG_ZF | \
                      ZYDIS_CPUFLAG_SF | ZYDIS_CPUFLAG_OF | ZYDIS_CPUFLAG_DF)

typedef struct {
    an_regs_t use;          /* registers read (address registers included) */
    an_regs_t def;          /* registers written whole (64 bits, or 32 zero-extending) */
    an_regs_t def_part;     /* registers written in part (8/16 bits): also in use */
    an_flags_t fuse;        /* flags read */
    an_flags_t fdef;        /* flags surely written (set, cleared or modified) */
    an_flags_t fundef;      /* flags left undefined: some CPUs keep their old value, so they
                               do not end a flag's life, but removing or changing the
                               instruction changes them: they must be dead for that too */
    uint8_t mem_read;       /* reads memory (not lea's address computation) */
    uint8_t mem_write;      /* writes memory */
    uint8_t may_fault;      /* can raise a synchronous signal (memory access, division, ...) */
    uint8_t barrier;        /* orders memory or leaves to the kernel: lock prefix, xchg with
                               memory, fences, syscall, cpuid, rdtsc, serializing */
    uint8_t opaque;         /* touches state not modelled here (vector/x87/segment/system) */
    uint8_t exits;          /* can leave the trace (ir_is_exit) */
} an_effects_t;

/* an_effects: the effects of instruction i (of any IR kind). */
void an_effects(const ir_insn_t *i, an_effects_t *e);

/* an_liveness: for each instruction k of t, the registers and flags live after it (read by
 * some later instruction or exit before being written whole). live_regs and live_flags
 * have t->n entries each. */
void an_liveness(const ir_trace_t *t, an_regs_t *live_regs, an_flags_t *live_flags);

/* an_inexact_region: a pass wants to leave registers `regs` and flags `flags` different
 * from native after instruction k (their values are dead: overwritten before any read or
 * exit). The state is then inexact from k+1 up to and including the instruction that
 * writes the last of them. Allowed only if no instruction in that region can fault, is a
 * barrier, is opaque or exits (so faults, exits and the kernel see exact state; an
 * asynchronous signal waits for the next exact instruction). Returns 1 if allowed; with
 * apply, marks the region's instructions IR_F_INEXACT. */
int an_inexact_region(ir_trace_t *t, int k, an_regs_t regs, an_flags_t flags, int apply);

/* an_reaching_def: def-use: the index of the instruction that last writes register `reg`
 * (an AN_* id, whole or in part) before instruction k on the trace, or -1 when its value at
 * k comes from before the trace. */
int an_reaching_def(const ir_trace_t *t, int k, int reg);

/* Memory operand classes. */
typedef enum {
    AN_MEM_NONE,            /* no memory operand */
    AN_MEM_STACK,           /* [rsp + disp] or [rbp + disp], no index, no segment */
    AN_MEM_ABS,             /* RIP-relative or absolute address, no segment */
    AN_MEM_UNKNOWN,         /* through any other pointer, or with a segment (fs:) */
} an_mem_class_t;

typedef struct {
    an_mem_class_t cls;
    int base;               /* AN_RSP / AN_RBP for AN_MEM_STACK, else -1 */
    int64_t disp;           /* AN_MEM_STACK: offset from base; AN_MEM_ABS: the address */
    int size;               /* bytes accessed */
    int op;                 /* index of the operand in ops[] (-1: none) */
} an_mem_t;

/* an_mem: the class of i's memory access (the first memory operand that is not lea's). */
void an_mem(const ir_insn_t *i, an_mem_t *m);

/* an_mem_bit_offset: i is bt/bts/btr/btc with a register bit offset: its memory operand
 * names only the base of an access anywhere within +-2^60 bits of it. */
int an_mem_bit_offset(const ir_insn_t *i);

/* an_mem_store_op: the index in ops[] of the memory operand i writes, when it writes
 * exactly one and that one is explicit (no push, call, string or other hidden store);
 * else -1. */
int an_mem_store_op(const ir_insn_t *i);

/* an_reg_move: i is a move between two different general registers that a signal context
 * can replay (mov r64,r64; mov r32,r32; movsxd r64,r32): its XL_RP_* op (runtime.h), with
 * *dst and *src their an_reg_id; 0 otherwise. Whatever its IR kind or flags: callers judge
 * those. */
int an_reg_move(const ir_insn_t *i, int *dst, int *src);

/* an_check_reloads: the general registers the emitter may write right after instruction i
 * of t, beyond i's own effects: a store checked against a promoted loop's slots
 * (IR_F_ALIAS, IR_F_ALIAS_FL) reads every slot's register again when it lands near them. */
an_regs_t an_check_reloads(const ir_trace_t *t, const ir_insn_t *i);

/* an_vec_all: i reads or writes every vector register without naming one (vzeroupper,
 * vzeroall, fxsave, fxrstor; the xsave family is opaque). */
int an_vec_all(const ir_insn_t *i);

/* an_reg_id: the an_regs_t bit index of a general register (any width), or -1. */
int an_reg_id(ZydisRegister r);

#endif
