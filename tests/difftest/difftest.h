/* difftest.h — the differential tester of the trace optimizer (issue #5): deterministic
 * random instruction sequences run natively and through the real trace pipeline
 * (trace_build: ir_build_path, opt_run with every pass, ir_emit, bb_finish), then the 16
 * general registers, xmm0..15 (128 bits) and MXCSR, the defined status flags, the scratch
 * buffer and the whole stack area (the red zone below rsp included) must be the same.
 * Invariants: a case is a pure function of its seed (the addresses it runs at are fixed by
 * dt_setup); the generated code only touches the scratch buffer and the stack area, reads
 * no status flag that may be undefined on some path to it, and always reaches its end E,
 * whose `jmp *` leads to dt_native_end. */
#ifndef HOTPATH_DIFFTEST_H
#define HOTPATH_DIFFTEST_H
#include <stdint.h>
#include <stdio.h>
#include <Zydis/Zydis.h>

#define DT_MAX_INSNS 128        /* instructions of one sequence (before its end E) */
#define DT_STATES 4             /* initial states each sequence runs from */
#define DT_SCRATCH 8192         /* bytes of the scratch buffer */
#define DT_STACK 16384          /* bytes of the stack area; rsp starts in its middle */
#define DT_CODE_SIZE 65536      /* the executable "app" mapping */
#define DT_MAX_BLOCKS 128       /* blocks of a recorded path */

/* Status flags (EFLAGS bits). */
#define DT_CF 0x001u
#define DT_PF 0x004u
#define DT_AF 0x010u
#define DT_ZF 0x040u
#define DT_SF 0x080u
#define DT_OF 0x800u
#define DT_STATUS (DT_CF | DT_PF | DT_AF | DT_ZF | DT_SF | DT_OF)

/* A machine state: general registers in hardware order (rax..r15), rflags, MXCSR (low 32
 * bits), then xmm0..xmm15 (x[k][0]: bits 63..0, x[k][1]: bits 127..64). The assembly
 * (dt_entry.S: DT_OFF_*) relies on this layout. */
typedef struct {
    uint64_t r[16];
    uint64_t flags;
    uint64_t mxcsr;
    uint64_t x[16][2];
} dt_regs_t;

#define DT_MXCSR_DEFAULT 0x1f80u /* round to nearest, every exception masked, no FTZ/DAZ */
#define DT_MXCSR_STATUS 0x3fu    /* the sticky exception flags (IE DE ZE OE UE PE) */

/* Kinds of generated instruction: DT_PLAIN, or control transfers: forward jcc, jmp, call
 * (kind_call: the pushed return address stays on the stack; kind_func: the callee returns),
 * loop/loope/loopne/jrcxz (rel8 only), the loop's latch (jnz back to the head), the
 * return of a kind_func callee (ret / ret imm16; target: where it returns to), and
 * `jmp *reg` (kind_ijmp: the register holds the address of one of two later points). */
enum { DT_PLAIN, DT_JCC, DT_JMP, DT_CALL, DT_LOOP, DT_LATCH, DT_RET, DT_IJMP };

typedef struct {
    uint8_t kind;               /* DT_* */
    uint8_t cc;                 /* DT_JCC/DT_LATCH: condition code (low nibble of 0x7x);
                                   DT_LOOP: the opcode (0xe0 loopne .. 0xe3 jrcxz) */
    uint8_t near;               /* branches: rel32 form (else rel8); DT_LOOP: a 0x67 prefix
                                   (ecx counts) */
    uint8_t len;
    uint8_t bytes[16];
    uint32_t fdef;              /* status flags defined at its start on every path */
    int has_req;                /* DT_PLAIN: encoded from req (else bytes are raw) */
    int target;                 /* branches: index of the target; n (the case's) means E;
                                   DT_RET: the instruction it returns to (R; a return
                                   address chosen by cmov may send some states to AFTER) */
    uint16_t ret_pop;           /* DT_RET: the immediate of `ret imm16` (0: plain ret) */
    uint8_t ijmp_reg;           /* DT_IJMP: the register (id) it jumps through */
    int lea_a, lea_b;           /* DT_IJMP: the instructions whose addr_of are its targets
                                   (lea_b -1: one target) */
    int addr_of;                /* DT_PLAIN: 1 + index of the instruction (n: E) whose address
                                   is this one's immediate or RIP-relative operand (set at
                                   layout); 0: none */
    uint64_t pc;
    ZydisEncoderRequest req;    /* RIP-relative memory operands hold the absolute address */
} dt_insn_t;

/* Where a case runs (dt_setup): fixed for the life of the process. */
typedef struct {
    uint8_t *code;              /* RWX, DT_CODE_SIZE bytes: the sequence at its start */
    uint8_t *scratch;           /* DT_SCRATCH bytes, within 2 GiB of code (RIP-relative) */
    uint8_t *stack;             /* DT_STACK bytes */
    uint64_t rsp0;              /* initial rsp: the middle of the stack area */
    int abs_ok;                 /* scratch lies below 2 GiB: [disp32] addresses it */
    uint64_t native_end;        /* where E jumps: dt_native_end */
} dt_env_t;

typedef struct {
    uint64_t seed;
    int n;                      /* instructions before E (the loop latch included) */
    dt_insn_t insn[DT_MAX_INSNS];
    uint64_t end_pc;            /* E: jmp *0(%rip) to dt_native_end */
    int loop;                   /* insn[n-2..n-1] are `dec cnt; jnz insn[0]` */
    int base_reg;               /* B: the scratch pointer, never written */
    int base_in_stack;          /* B points into the stack area (aliases stack slots) */
    int cnt_reg;                /* the loop counter (-1: no loop), written by the latch only */
    int funcs;                  /* kind_func calls that return (call ... ret pairs) */
    uint32_t flags_end;         /* status flags defined at E on every path */
    int sse;                    /* scalar-double instructions generated (kind_sse) */
    int vex;                    /* of them VEX encoded (only where the CPU has AVX) */
    dt_regs_t init[DT_STATES];
    uint8_t scratch0[DT_SCRATCH], stack0[DT_STACK];   /* memory every run starts with */
} dt_case_t;

/* dt_gen (dt_gen.c): the case of `seed` for environment env, laid out at env->code (the
 * bytes are in c->insn; the caller copies them). Returns 0, or -1 if the generator could
 * not lay it out (a bug of the generator). */
int dt_gen(dt_case_t *c, const dt_env_t *env, uint64_t seed);

/* A recorded path, as trace_build takes it, and where it goes after its last block. */
typedef struct {
    uint64_t pcs[DT_MAX_BLOCKS];
    uint32_t lens[DT_MAX_BLOCKS];
    int n;
    uint64_t next_pc;           /* E, or the head (a loop's back edge) */
} dt_path_t;

/* dt_path_of: the path of an execution that ran instructions idx[0..n) (indices into
 * c->insn) and then went to instruction `next` (c->n: E; 0: the head again). Blocks end at
 * each branch and, seeded, at random other points (as blocks cut by length do). -1 if the
 * path is empty or has too many blocks. */
int dt_path_of(const dt_case_t *c, const int *idx, int n, int next, uint64_t seed, dt_path_t *p);

/* dt_path_random: a path whose conditional branches go the way a seeded coin says. */
int dt_path_random(const dt_case_t *c, uint64_t seed, dt_path_t *p);

/* dt_write_code: copy c's instructions and its end E into env->code. */
void dt_write_code(const dt_case_t *c, const dt_env_t *env);

/* dt_insn_at: index of the instruction at app pc (c->n for E), or -1. */
int dt_insn_at(const dt_case_t *c, uint64_t pc);

/* ---- the harness (dt_run.c) ---- */

typedef struct {
    const char *opt;            /* passes for opt_run ("all", "none", "dce,rle"...) */
    int mutate;                 /* self test: the trace is built from a copy of the sequence
                                   with one instruction replaced by nops */
    int max_failures;           /* stop reporting after this many (0: no limit) */
    int peel;                   /* promoted loops' first round unpromoted (--peel) */
    int trip;                   /* promotable loops built counted first (--trip: the trace
                                   with trip counters, traces/trace_trip.c; they run out
                                   after a few entries or rounds, by the case's seed) */
} dt_options_t;

typedef struct {
    uint64_t cases, runs, failures, errors;
    uint64_t insns, trace_insns;    /* generated / on the recorded paths */
    uint64_t side_exits, end_exits, reentries, native_tails;
    uint64_t loops, random_paths;
    /* calls that return (kind_func): cases with one, traces whose path returns (of them
       loops: the path goes back to the head), traces the
       retpair pass changed, promoted traces (with a call on the path: framed), promoted
       traces with the preheader's frame check, runs that left by it (LINK_PROMO), exits
       through a return's or indirect branch's lookup (LINK_INDIRECT) */
    uint64_t func_cases, funcs, func_traces, func_loop_traces, retpair_traces, promo_traces, framed_promo_traces;
    uint64_t guarded_traces, guard_exits, lookup_exits, alias_traces;
    /* --trip: counted traces, runs that left one where its counters ran out (LINK_TRIP) */
    uint64_t counted_traces, trip_exits;
    /* scalar-double code (kind_sse): cases with some, cases with a VEX instruction, traces
       with an xmm promotion (hp_block_t.promo_xmm; of them loops with a call: framed),
       xmm registers borrowed, the highest one not xmm15 (the loop names xmm15), exits
       of runs through xmm-promoted traces */
    uint64_t sse_cases, vex_cases, xpromo_traces, xpromo_framed, xpromo_regs, xpromo_below15;
    uint64_t xpromo_exits;
} dt_stats_t;

extern dt_options_t dt_opts;
extern dt_stats_t dt_stats;
extern FILE *dt_log;            /* where failures are reported (stderr after dt_setup) */

/* dt_setup: map the code, scratch and stack areas, initialise the runtime parts the trace
 * builder needs, point gs at a fake thread whose exit routine returns to the harness, and
 * install the fault and single-step handlers. Call once; returns 0 or -1. */
int dt_setup(void);

/* dt_run_case: generate, record, build, run and compare the case of `seed`. Returns 0 when
 * every state matched, 1 on a mismatch (reported on stderr with how to reproduce it), -1
 * when the harness or the generator failed (also reported). */
int dt_run_case(uint64_t seed);

/* dt_run_range: dt_run_case for seeds first .. first+count-1; returns the number of cases
 * that did not pass (stops early once dt_opts.max_failures is reached). */
uint64_t dt_run_range(uint64_t first, uint64_t count);

/* ---- reports (dt_report.c) ---- */


/* dt_report_case: the sequence (disassembled, the path's blocks marked), the IR after the
 * passes, the trace's code (cache_start/body_size, may be NULL) and the initial state. */
void dt_report_case(const dt_case_t *c, const dt_path_t *p, const uint8_t *trace_code,
                    uint32_t trace_size, int state);

/* dt_report_diff: the registers (general, xmm0..15, MXCSR), the rflags bits of mask, and
 * (unless the memory images are NULL) the bytes of the scratch buffer and stack area that
 * differ between a native and a trace state. */
void dt_report_diff(const dt_case_t *c, const dt_env_t *env, const dt_regs_t *nat,
                    const dt_regs_t *tr, uint64_t mask, const uint8_t *nat_mem, const uint8_t *tr_mem);

/* dt_reg_name: "rax".."r15". */
const char *dt_reg_name(int id);

#endif
