/* runtime.h — the runtime's shared types: per-thread state, blocks, link records, and the
 * one global hp_rt. Invariants: the runtime never calls libc after takeover; every field
 * the cache reaches through gs sits at the offset thread_layout.h gives. */
#ifndef HOTPATH_RUNTIME_H
#define HOTPATH_RUNTIME_H
#include <stddef.h>
#include <stdint.h>
#include "hotpath/options.h"
#include "hotpath/status.h"
#include "thread_layout.h"
#include "lock.h"

#define HP_HIDDEN __attribute__((visibility("hidden")))

/* Register numbers in hardware encoding order (ctx.gpr index). */
enum { R_RAX, R_RCX, R_RDX, R_RBX, R_RSP, R_RBP, R_RSI, R_RDI,
       R_R8, R_R9, R_R10, R_R11, R_R12, R_R13, R_R14, R_R15 };

typedef struct hp_block hp_block_t;
typedef struct hp_sigtab hp_sigtab_t;     /* signals.c: the app's signal actions */

/* Kinds of cache exit (hp_link_t.kind). */
typedef enum {
    LINK_DIRECT,    /* direct branch or fall-through to target; patchable */
    LINK_INDIRECT,  /* indirect lookup miss: target in T_IBL_TARGET */
    LINK_SYSCALL,   /* a system call the runtime must see; target = its app pc */
    LINK_START,     /* takeover: start at target */
    LINK_SMC,       /* a block's code changed since it was translated: rebuild it */
    LINK_RESUME,    /* go on at t->rip (after a signal, or a second dispatcher pass) */
    LINK_PROMO,     /* a promoted loop's preheader found another frame than it was built
                       for: go on at target (its head), which promotes no more */
    LINK_TRIP,      /* a counted loop trace's counters ran out: its head's trace is built
                       again as they say (traces/trace_trip.c), go on at target (the head) */
} hp_link_kind_t;

/* An exit from a block: one per stub. The stub loads its address into rax. */
typedef struct hp_link {
    uint64_t target;          /* app pc the exit goes to (LINK_SYSCALL: the syscall's pc) */
    uint8_t *branch_rel32;    /* rel32 field of the block's branch to the stub, or NULL */
    uint8_t *stub;            /* the stub itself (a far link rewrites its start) */
    hp_block_t *from;
    hp_block_t *to;           /* linked target block, or NULL */
    struct hp_link *next;     /* next exit of the same block */
    struct hp_link *next_in;  /* next link into the same target block (to->incoming) */
    uint32_t kind;
    uint32_t insn_len;        /* LINK_SYSCALL: length of the syscall instruction;
                                 LINK_DIRECT: a direct call's exit to its callee (its length), else 0 */
} hp_link_t;

/* Where one app instruction's translation starts (signals: cache pc -> app state). */
typedef enum {
    XL_COPY,        /* copied: at its start (and after it) every register is the app's */
    XL_RCX,         /* indirect jmp/call, ret: after the first instruction rcx is spilled */
    XL_SYSCALL,     /* the syscall filter: rcx and r11 are dead */
    XL_OTHER,       /* direct branches and calls: registers are the app's throughout */
    XL_END,         /* the fall-through exit after the last instruction */
    XL_INEXACT,     /* a trace instruction a pass inserted or changed: no exact app state
                       at its start (an asynchronous signal waits for an exact point) */
    XL_PREHEAD,     /* a promoted loop's preheader: a fault there is reported at the head */
} hp_xl_kind_t;
/* Or'ed into a kind: the app's rcx is in the thread's spill slot (gs:T_SPILL_RCX) from the
 * entry's start, not in rcx (a trace keeps it there between two inline checks; see
 * optimizer/ir_emit.c ie_keep_spill). XL_KIND: the kind without it. */
#define XL_F_RCX_SPILLED 0x100u
#define XL_KIND(k) ((k) & 0xffu)
/* Or'ed into XL_COPY with a replay op (optimizer/ir.h IR_REPLAY) in bits 12..22: a pass
 * removed a dead register move before this instruction (pass_dce.c); the move's result is
 * not in its register here, so a signal or fault at the entry's start applies it to the
 * context first (runtime/signals.c), which gives the app's state. */
#define XL_F_REPLAY 0x200u
enum { XL_RP_COPY = 1, XL_RP_ZX32 = 2, XL_RP_SX32 = 3 };  /* mov r64,r64; mov r32,r32; movsxd */
#define XL_REPLAY_OP(k) (((k) >> 12) & 0x7ffu)

typedef struct {
    uint64_t app_pc;          /* the app instruction (a trace spans several places) */
    uint32_t cache_off;       /* from the block's cache_start */
    uint32_t kind;
} hp_xl_t;

/* A translated basic block. */
struct hp_block {
    uint64_t app_pc;
    uint64_t app_end;         /* one past its last app instruction */
    uint8_t *cache_pc;        /* entry: the body, or the code check of a writable source */
    uint8_t *cache_start;     /* first byte of the block's cache memory (body) */
    uint32_t cache_size;      /* bytes from cache_start: body, stubs, constants, check */
    int smc_checked;          /* entry compares the app bytes (source memory is writable) */
    uint32_t body_size;       /* bytes of translated instructions (stubs follow) */
    uint32_t n_xl;
    hp_xl_t *xl;              /* one entry per app instruction, and XL_END, by cache_off */
    int is_trace;             /* a trace (traces/): several app blocks, app_pc is its head */
    int record_copy;          /* a private copy run while a trace is recorded: never linked */
    struct hp_block *supersedes; /* a trace: the head's block it replaced (back on a flush) */
    uint8_t loops;            /* a trace that goes round inside itself (its own back edge) */
    uint8_t npromo;           /* a promoted loop: registers whose app values are in t->promo */
    uint8_t promo_reg[8];     /*   (register numbers, hardware order) while the thread is */
    uint8_t promo_xmm;        /*   bit i: promo_reg[i] is an xmm register (app value in t->promo_x[i]) */
    uint32_t promo_lo, promo_hi; /* between these cache offsets (the loop body) */
    uint8_t trip;             /* a counted loop trace: its counters are t->trip[trip - 1] */
    uint32_t nranges;         /* a trace: the app ranges it translates */
    uint64_t (*ranges)[2];
    uint32_t n_insns;
    hp_link_t *exits;
    hp_link_t *incoming;      /* links patched to jump here (unlinked on invalidation) */
    int invalid;              /* removed from the tables; its memory stays (threads may run it) */
};

/* Per-thread state; the cache reaches it through gs (offsets in thread_layout.h). */
typedef struct hp_thread {
    struct hp_thread *self;
    uint64_t spill_rax, spill_rcx, spill_rdx;
    hp_link_t *exit_rec;
    uint64_t entry_pc;
    uint64_t ibl_target;
    void *ibl_table;
    void *ibl_ttable;
    uint64_t ibl_jmp;
    uint64_t exit_routine;
    hp_link_t *ibl_rec;
    uint64_t rt_stack;
    uint8_t *xsave_area;
    uint64_t ibl_count;
    uint64_t pending;
    uint64_t clone_mask;             /* the app mask a clone child sets once gs is its own */
    uint64_t pad_free[3];            /* (free: the promoted registers moved past rip) */
    hp_link_t *ibl_trec;
    uint8_t pad0[T_CTX - T_IBL_TREC - 8];
    uint64_t gpr[16];
    uint64_t rflags;
    uint64_t rip;
    uint64_t promo[8];               /* the app's values of a promoted trace's registers */
    uint8_t promo_x[8][16];          /* the same for xmm registers (promo entry i: promo_x[i]) */
    uint64_t trip[T_TRIP_SLOTS][2];  /* counted loop traces: entries and rounds left */
    /* not reached from the cache */
    uint64_t serial;                 /* threads.c: unique per thread state handed out (a state
                                        reused for a new thread gets a new one; a fork child
                                        keeps its parent's, with its copy of the counters) */
    uint8_t *rt_stack_base;
    int tid;
    int detached;
    int state;                       /* threads.c: live, zombie (exited), free */
    hp_link_t start_link;            /* LINK_START record: where the thread enters first */
    hp_link_t resume_link;           /* LINK_RESUME record: go on at t->rip */
    struct hp_thread *next;          /* registry (threads.c) */
    /* signals.c: signals caught but not yet delivered to the app */
    int stepping;                    /* single-stepping out of a mangled sequence */
    int trap_blocked;                /* the app had SIGTRAP blocked when stepping began */
    int fork_child;                  /* a clone without CLONE_VM on a new stack: set up here */
    int detach_done;                 /* signals_detached ran */
    int started;                     /* the per-thread setup of its first dispatcher pass ran */
    int own_altstack;                /* the kernel has this thread on hotpath's signal stack */
    int sample_timer;                /* its CPU-time sampling timer id + 1 (0: none) */
    uint8_t *sig_stack;              /* hotpath's signal stack for this thread */
    struct { uint64_t sp; int32_t flags, pad; uint64_t size; } app_ss;   /* the app's sigaltstack */
    int detach_pending;              /* --detach-after-ms: detach at the next clean point */
    hp_sigtab_t *sigtab;             /* the app's actions, shared by CLONE_SIGHAND threads */
    int npend;
    struct { int sig; int in_rt; uint8_t info[128]; uint64_t err, trapno, cr2; } pend[32];
    uint64_t pend_base;              /* with pend_base_ok: the app's signal mask when the first of
                                        them was caught in app code (signals.c sig_queue) */
    int pend_base_ok;
    /* traces/trace.c: the blocks recorded so far (rec_n == 0: not recording) */
    uint64_t *rec;
    uint32_t *rec_len;               /* instructions of each recorded block */
    int rec_n;
    uint64_t promo_fault;            /* a promoted trace's preheader faulted: its head (signals.c) */
    int rec_tail;                    /* blocks recorded past an end (--trace-dispatch) */
    int rec_tail_at;                 /* rec_n where that tail began (the path's real end) */
    int rec_tail_trace;              /* that tail began at another trace, reached by a jump
                                        forward or back (it is kept if it comes back to the
                                        head: trace.c) */
    uint64_t rec_succ;               /* where an indirect branch ending the path went (0: none) */
    int64_t rec_k;                   /* rbp - rsp at the head when recording began */
    /* traces/trace_cache.c: dispatcher passes, and their number when traces were flushed */
    uint64_t dispatches, flush_snap;
} hp_thread_t;

_Static_assert(__builtin_offsetof(hp_thread_t, spill_rax) == T_SPILL_RAX, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, spill_rcx) == T_SPILL_RCX, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, spill_rdx) == T_SPILL_RDX, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, exit_rec) == T_EXIT_REC, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, entry_pc) == T_ENTRY_PC, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_target) == T_IBL_TARGET, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_table) == T_IBL_TABLE, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_jmp) == T_IBL_JMP, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, exit_routine) == T_EXIT_ROUTINE, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_rec) == T_IBL_REC, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, rt_stack) == T_RT_STACK, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, xsave_area) == T_XSAVE_AREA, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_count) == T_IBL_COUNT, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, pending) == T_PENDING, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, promo) == T_PROMO, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_trec) == T_IBL_TREC, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, clone_mask) == T_CLONE_MASK, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, promo_x) == T_PROMO_X, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, trip) == T_TRIP, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, ibl_ttable) == T_IBL_TTABLE, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, gpr) == T_CTX, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, rflags) == T_CTX_FLAGS, "layout");
_Static_assert(__builtin_offsetof(hp_thread_t, rip) == T_CTX_RIP, "layout");

/* Statistics (names are the JSON keys; later issues add fields, never rename). */
#define HP_STATS(X) \
    X(blocks_built) X(block_cache_bytes) X(dispatcher_entries) X(indirect_lookups) \
    X(indirect_misses) X(links_made) X(syscalls_seen) X(cache_units) X(cache_flushes) X(signal_handlers) X(signals_caught) X(signals_delivered) \
    X(threads_seen) X(blocks_invalidated) X(smc_rebuilds) \
    X(traces_built) X(trace_cache_bytes) X(trace_side_exits) X(traces_aborted) \
    X(trace_inline_checks) X(cache_flushes_full) X(cache_flushes_phase) X(trace_cache_peak_bytes) \
    X(trace_tails_looped) \
    /* one per optimizer pass (optimizer/passes.def): instructions removed or changed */ \
    X(opt_inline_calls) X(opt_inline_ind) X(opt_straighten) X(opt_rle) X(opt_constprop) \
    X(opt_promote) X(opt_dce) X(opt_retpair) X(opt_fuse) X(opt_cse) X(opt_retsites) \
    X(opt_sink) X(opt_flagcheck) X(opt_xfwd) X(opt_jtable) \
    /* promoted loops: stores through pointers checked instead of reloading the slots (all;
       those checked with flags, IR_F_ALIAS_FL) */ \
    X(promote_alias_checks) X(promote_flag_checks) \
    /* loop traces counted before promoting (traces/trace_trip.c): how many, and what their \
       counts chose: promoted whole, peeled (the first round unpromoted), not promoted; \
       counted traces kept because building them again failed (no room) */ \
    X(trips_counted) X(trips_promoted) X(trips_peeled) X(trips_plain) X(trips_kept)

typedef struct {
#define HP_STAT_FIELD(n) uint64_t n;
    HP_STATS(HP_STAT_FIELD)
#undef HP_STAT_FIELD
} hp_stats_t;

/* The runtime's global state (one per process). */
typedef struct {
    hp_options_t opts;
    hp_stats_t stats;
    /* counted by threads without the lock (atomic adds), copied into stats when they are
       written: trace building restores stats from a copy when a try fails */
    uint64_t n_signals_caught, n_signals_delivered, n_syscalls_seen;
    uint64_t self_start, self_end;   /* libhotpath.so's own mappings: never translated */
    uint64_t xsave_mask;             /* XCR0: the state components xsave must keep */
    uint32_t xsave_size;
    int cpu_bmi2;                    /* the CPU has BMI2 (rorx: flag-free rotate) */
    int cpu_logic_af;                /* and/or/xor/test leave AF the same whatever their
                                        operands and the AF before (cpu_logic_af_fixed) */
    int exit_code;                   /* -1 until the app exits */
    char detach_reason[96];          /* the first detach's reason ("" if none) */
    hp_link_t ibl_link;              /* the record T_IBL_REC points to */
    hp_link_t ibl_trace_link;        /* T_IBL_TREC: a miss in the traces' table (a trace exit) */
    hp_lock_t lock;                  /* the dispatcher lock: tables, builder, links, registry */
    int detaching;                   /* every thread is being detached */
    uint64_t samples[4];             /* where sampled threads were: traces, blocks, runtime, native */
    int ndetached;                   /* threads that went native */
    int multithreaded;               /* a thread sharing memory was created (no promotion) */
    int promoted;                    /* some trace has promoted registers */
    int no_fold_data;                /* madvise(MADV_DONTFORK/WIPEONFORK) or io_uring_setup
                                        was seen: no pass folds read-only data any more (a
                                        fork child would lose pages its traces read; a ring
                                        can madvise unseen) */
} hp_runtime_t;

extern hp_runtime_t hp_rt HP_HIDDEN;

/* hp_xsave / hp_xrstor: the SIMD state components hotpath keeps (hp_rt.xsave_mask) to or
 * from a 64-byte aligned XSAVE image. */
static inline void hp_xsave(void *area)
{
    __asm__ volatile("xsave64 (%0)" : : "r"(area), "a"((uint32_t)hp_rt.xsave_mask),
                     "d"((uint32_t)(hp_rt.xsave_mask >> 32)) : "memory");
}

static inline void hp_xrstor(const void *area)
{
    __asm__ volatile("xrstor64 (%0)" : : "r"(area), "a"((uint32_t)hp_rt.xsave_mask),
                     "d"((uint32_t)(hp_rt.xsave_mask >> 32)) : "memory");
}

/* hp_simd_save / hp_simd_restore: keep the app's SIMD state around runtime code that may
 * touch it: Zydis and the libc string functions it calls. */
static inline void hp_simd_save(hp_thread_t *t) { hp_xsave(t->xsave_area); }
static inline void hp_simd_restore(hp_thread_t *t) { hp_xrstor(t->xsave_area); }

/* Assembly entry points (entry.S). */
extern char hp_cache_exit[] HP_HIDDEN;
extern char hp_ibl_tmpl_begin[] HP_HIDDEN, hp_ibl_tmpl_end[] HP_HIDDEN;
extern char hp_ibl_tmpl_count[] HP_HIDDEN, hp_ibl_tmpl_count_end[] HP_HIDDEN;

/* hp_dispatch: called by entry.S on the runtime stack with the app context saved in t;
 * decides where the thread goes next and stores it in t->entry_pc (a cache pc, or an app
 * pc when hotpath detaches). Never returns an error: it detaches instead. */
void hp_dispatch(hp_thread_t *t) HP_HIDDEN;

/* hp_detach: give up control of thread t (other threads stay under hotpath): it goes on
 * natively at app pc `pc` with the context in t. Writes statistics. reason: a short phrase for stats and --verbose. */
void hp_detach(hp_thread_t *t, uint64_t pc, const char *reason, uint64_t where) HP_HIDDEN;

/* hp_stats_write: write the statistics JSON if --stats-json was given. */
void hp_stats_write(void) HP_HIDDEN;

/* cpu_logic_af_fixed: 1 when and/or/xor/test leave AF (architecturally undefined) at one
 * value whatever their operands and the AF they find, on this CPU (takeover.c runs them). */
int cpu_logic_af_fixed(void) HP_HIDDEN;

#endif
