/* dt_run.c — the differential tester's harness. Each case: generate the sequence, record
 * the path it takes natively from its first state (single-stepped with TF, the way hotpath
 * records a trace: the blocks that ran) or pick one at random, build the trace with the
 * real pipeline (trace_build: ir_build_path, opt_run, ir_emit, bb_finish), then run every
 * initial state natively and through the trace and compare.
 * A trace run enters the trace's cache code with the state; each exit stub goes through the
 * fake thread's exit routine (dt_exit_routine) back here with the exact app state and the
 * exit's link record; an exit to the trace's own head enters the trace again (what the
 * runtime's link of a loop trace's back edge does), any other target (a side exit, a
 * promoted preheader's frame check, a return's lookup miss) continues natively from there
 * up to the end E. Each exit's state is compared with a single-stepped native
 * run at the same point, and the end state and memory (red zone included) with a plain
 * native run: side exits, straightened branches and everything the passes did are checked.
 * Invariants: gs points at the fake thread for the life of the process; every run starts
 * from the case's own memory contents; a fault or hang in generated or translated code
 * comes back here (siglongjmp) and is reported, never kills the tester. */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>
#include "difftest.h"
#include "opt.h"
#include "builder.h"
#include "ibl.h"
#include "syscalls.h"
#include "trace.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

extern dt_regs_t dt_in, dt_out;
_Static_assert(__builtin_offsetof(dt_regs_t, flags) == 16 * 8 && __builtin_offsetof(dt_regs_t, mxcsr) == 17 * 8 &&
               __builtin_offsetof(dt_regs_t, x) == 18 * 8 && sizeof(dt_regs_t) == 50 * 8,
               "dt_entry.S relies on the layout of dt_regs_t");
extern uint64_t dt_jump_pc;
extern hp_link_t *dt_link;
extern char dt_native_end[], dt_exit_routine[];
void dt_enter(void);

dt_options_t dt_opts = { .opt = "all", .mutate = 0, .max_failures = 5, .peel = 0, .trip = 0 };
FILE *dt_log;
dt_stats_t dt_stats;

static dt_env_t env;
static dt_case_t dcase;
static hp_thread_t *dt_thread;
static uint8_t nat_mem[DT_SCRATCH + DT_STACK], tr_mem[DT_SCRATCH + DT_STACK];

/* ---- signals: faults and hangs come back to dt_exec; TF steps are recorded ---- */

static sigjmp_buf dt_jb;
static volatile sig_atomic_t dt_armed, dt_stepping;
static volatile int dt_fault_sig;
static volatile uint64_t dt_fault_pc, dt_fault_addr;

/* A native run single-stepped: the state at the start of every app instruction it ran. */
#define DT_MAX_STEPS 8192
typedef struct {
    uint64_t pc;
    dt_regs_t st;
} dt_step_t;
static dt_step_t dt_steps[DT_MAX_STEPS];
static volatile int dt_nsteps, dt_steps_seen;

static void dt_on_signal(int sig, siginfo_t *si, void *ucv)
{
    ucontext_t *uc = ucv;
    greg_t *gr = uc->uc_mcontext.gregs;
    uint64_t rip = (uint64_t)gr[REG_RIP];
    if (sig == SIGTRAP && dt_stepping) {
        static const int hw[16] = { REG_RAX, REG_RCX, REG_RDX, REG_RBX, REG_RSP, REG_RBP, REG_RSI,
                                    REG_RDI, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13,
                                    REG_R14, REG_R15 };
        int in = rip >= (uint64_t)env.code && rip <= dcase.end_pc;
        if (in && dt_nsteps < DT_MAX_STEPS) {
            dt_step_t *st = &dt_steps[dt_nsteps++];
            st->pc = rip;
            for (int k = 0; k < 16; k++) st->st.r[k] = (uint64_t)gr[hw[k]];
            st->st.flags = (uint64_t)gr[REG_EFL] & ~0x100ull;
            st->st.mxcsr = uc->uc_mcontext.fpregs->mxcsr;       /* the fxsave image */
            memcpy(st->st.x, uc->uc_mcontext.fpregs->_xmm, sizeof(st->st.x));
            dt_steps_seen = 1;
        }
        if ((!in && dt_steps_seen) || dt_nsteps == DT_MAX_STEPS)
            gr[REG_EFL] &= ~0x100ll;                                      /* stop stepping */
        return;
    }
    dt_fault_sig = sig;
    dt_fault_pc = rip;
    dt_fault_addr = (uint64_t)si->si_addr;
    if (dt_armed) siglongjmp(dt_jb, 1);
    fprintf(stderr, "difftest: signal %d in the harness at %#lx (case seed %#lx)\n", sig,
            (unsigned long)rip, (unsigned long)dcase.seed);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* dt_signals: our handlers (again: a test framework may have put its own in meanwhile). */
static int dt_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = dt_on_signal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGALRM };
    for (unsigned k = 0; k < sizeof(sigs) / sizeof(sigs[0]); k++)
        if (sigaction(sigs[k], &sa, 0)) return -1;
    return 0;
}

/* ---- set-up ---- */

static void *dt_map_at(uint64_t at, size_t len, int prot)
{
    void *m = mmap((void *)at, len, prot, MAP_PRIVATE | MAP_ANONYMOUS | (at ? MAP_FIXED_NOREPLACE : 0), -1, 0);
    if (m == MAP_FAILED) return 0;
    if (at && (uint64_t)m != at) { munmap(m, len); return 0; }
    return m;
}

/* dt_map: code, scratch (within 2 GiB of the code) and stack, 1 MiB apart with unmapped
 * gaps between (a stray access faults); low addresses first, so [disp32] reaches scratch. */
static int dt_map(void)
{
    static const uint64_t at[] = { 0x10000000, 0x30000000, 0x50000000, 0x70000000 };
    for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
        env.code = dt_map_at(at[k], DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
        if (!env.code) continue;
        env.scratch = dt_map_at(at[k] + (1 << 20), DT_SCRATCH, PROT_READ | PROT_WRITE);
        env.stack = dt_map_at(at[k] + (2 << 20), DT_STACK, PROT_READ | PROT_WRITE);
        if (env.scratch && env.stack) break;
        munmap(env.code, DT_CODE_SIZE);
        if (env.scratch) munmap(env.scratch, DT_SCRATCH);
        if (env.stack) munmap(env.stack, DT_STACK);
        env.code = env.scratch = env.stack = 0;
    }
    if (!env.code) {                                  /* anywhere: no [disp32] then */
        uint8_t *m = dt_map_at(0, 3 << 20, PROT_NONE);
        if (!m) return -1;
        mprotect(m, DT_CODE_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC);
        mprotect(m + (1 << 20), DT_SCRATCH, PROT_READ | PROT_WRITE);
        mprotect(m + (2 << 20), DT_STACK, PROT_READ | PROT_WRITE);
        env.code = m;
        env.scratch = m + (1 << 20);
        env.stack = m + (2 << 20);
    }
    env.rsp0 = (uint64_t)env.stack + DT_STACK / 2;
    env.abs_ok = (uint64_t)env.scratch + DT_SCRATCH < 0x80000000ull;
    env.native_end = (uint64_t)dt_native_end;
    return 0;
}

static long opt_mask;              /* the passes on (opt_parse of dt_opts.opt) */

int dt_setup(void)
{
    dt_log = stderr;
    if (dt_map()) { fprintf(stderr, "difftest: cannot map the test areas\n"); return -1; }
    hp_options_default(&hp_rt.opts);
    hp_rt.opts.peel = dt_opts.peel;
    hp_rt.opts.trip = dt_opts.trip;
    snprintf(hp_rt.opts.opt, sizeof(hp_rt.opts.opt), "%s", dt_opts.opt);
    char bad[32];
    opt_mask = opt_parse(hp_rt.opts.opt, bad, sizeof(bad));
    hp_rt.ibl_link.kind = LINK_INDIRECT;
    hp_rt.cpu_bmi2 = __builtin_cpu_supports("bmi2");   /* as takeover.c finds it */
    hp_rt.cpu_logic_af = cpu_logic_af_fixed();
    builder_init();
    syscalls_init();
    /* the fake thread: what cache code reaches through gs (spill slots, exit routine,
     * lookup table and its miss record) */
    dt_thread = aligned_alloc(64, (sizeof(hp_thread_t) + 63) & ~(size_t)63);
    if (!dt_thread) return -1;
    memset(dt_thread, 0, sizeof(*dt_thread));
    dt_thread->self = dt_thread;
    dt_thread->exit_routine = (uint64_t)dt_exit_routine;
    dt_thread->ibl_rec = &hp_rt.ibl_link;
    hp_rt.ibl_trace_link.kind = LINK_INDIRECT;         /* a trace's lookup that misses */
    dt_thread->ibl_trec = &hp_rt.ibl_trace_link;
    if (ibl_init(dt_thread) != HP_OK) return -1;
    if (syscall(SYS_arch_prctl, ARCH_SET_GS, (unsigned long)dt_thread)) {
        perror("difftest: arch_prctl(ARCH_SET_GS)");
        return -1;
    }
    static uint8_t alt[256 * 1024];
    stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt), .ss_flags = 0 };
    if (sigaltstack(&ss, 0) || dt_signals()) { perror("difftest: signals"); return -1; }
    return 0;
}

/* ---- runs ---- */

static void dt_reset_memory(const dt_case_t *c)
{
    memcpy(env.scratch, c->scratch0, DT_SCRATCH);
    memcpy(env.stack, c->stack0, DT_STACK);
}

static void dt_save_memory(uint8_t *to)
{
    memcpy(to, env.scratch, DT_SCRATCH);
    memcpy(to + DT_SCRATCH, env.stack, DT_STACK);
}

/* dt_exec: run from pc with state in until a capture: *out, *link (NULL at the native
 * end). -1 on a fault or hang (dt_fault_* say where). */
static int dt_exec(uint64_t pc, const dt_regs_t *in, dt_regs_t *out, hp_link_t **link)
{
    dt_in = *in;
    dt_jump_pc = pc;
    dt_fault_sig = 0;
    if (sigsetjmp(dt_jb, 1)) {
        dt_armed = 0;
        dt_stepping = 0;
        return -1;
    }
    dt_armed = 1;
    dt_enter();
    dt_armed = 0;
    *out = dt_out;
    *link = dt_link;
    return 0;
}

static const char *dt_sig_name(int sig)
{
    return sig == SIGALRM ? "a hang (10 s)" : strsignal(sig);
}

/* dt_step_run: state s natively, single-stepped (TF) into dt_steps. */
static int dt_step_run(const dt_case_t *c, int s)
{
    dt_regs_t in = c->init[s], out;
    hp_link_t *l;
    in.flags |= 0x100;                                /* TF */
    dt_reset_memory(c);
    dt_nsteps = dt_steps_seen = 0;
    dt_stepping = 1;
    int st = dt_exec((uint64_t)env.code, &in, &out, &l);
    dt_stepping = 0;
    if (!st && dt_nsteps && dt_steps[dt_nsteps - 1].pc == c->end_pc) return 0;
    fprintf(dt_log, "difftest: case %#lx: the single-stepped run of state %d: %s at %#lx\n",
            (unsigned long)c->seed, s, st ? dt_sig_name(dt_fault_sig) : "did not reach E",
            (unsigned long)dt_fault_pc);
    return -1;
}

/* dt_record: the path state 0 takes natively (as hotpath records one: the blocks that
 * ran, up to E or until the head comes round again). */
static int dt_record(const dt_case_t *c, dt_path_t *p)
{
    static int idx[DT_MAX_STEPS];
    if (dt_step_run(c, 0)) return -1;
    int n = 0, next = c->n;
    for (int k = 0; k < dt_nsteps; k++) {
        int i = dt_insn_at(c, dt_steps[k].pc);
        if (i < 0) return -1;
        if (i == c->n || (k > 0 && i == 0)) { next = i; break; }
        idx[n++] = i;
    }
    return dt_path_of(c, idx, n, next, c->seed, p);
}

typedef struct {
    uint64_t exits[64];           /* the exits the trace took, in order */
    dt_regs_t at_exit[64];        /* the state each one left with */
    int nexits;
    int fault;                    /* 1: the trace faulted, 2: a native tail faulted */
    int guard;                    /* left by the promoted preheader's frame check (LINK_PROMO):
                                     the runtime then goes on natively, without this trace */
    int guard_exit;               /* ... as its exit number guard_exit (at the head: the
                                     entry's state, or after the peeled first round) */
    uint64_t trip_exit;           /* bit k: exit k left where the counters ran out (at the
                                     head: at an entry or after a round) */
    const char *error;
} dt_trace_run_t;

/* dt_run_trace: state `in` through trace b (re-entered at its head), native after the
 * last exit, to E. */
static void dt_run_trace(const dt_case_t *c, const hp_block_t *b, const dt_regs_t *in,
                         dt_regs_t *out, dt_trace_run_t *r)
{
    dt_regs_t st = *in;
    uint64_t pc = (uint64_t)env.code;
    hp_link_t *l;
    memset(r, 0, sizeof(*r));
    dt_reset_memory(c);
    if (b->trip) {                                      /* run out after 0..2 entries and */
        dt_thread->trip[b->trip - 1][0] = c->seed % 3;   /* 0..4 rounds */
        dt_thread->trip[b->trip - 1][1] = (c->seed >> 2) % 5;
    }
    for (;;) {
        if (pc == (uint64_t)env.code && r->nexits < 64 && !r->guard) {
            if (dt_exec((uint64_t)b->cache_pc, &st, out, &l)) { r->fault = 1; return; }
            int lookup = l == &hp_rt.ibl_link || l == &hp_rt.ibl_trace_link;
            if (l && l->kind == LINK_TRIP && l->from == b && l->target == (uint64_t)env.code) {
                r->trip_exit |= 1ull << r->nexits;      /* the runtime builds it again; here */
                dt_thread->trip[b->trip - 1][0] = ~0ull;   /* it goes on, never running out */
                dt_thread->trip[b->trip - 1][1] = ~0ull;
                dt_stats.trip_exits++;
            }
            else if (l && l->kind == LINK_PROMO && l->from == b) {
                r->guard = 1;
                r->guard_exit = r->nexits;
                dt_stats.guard_exits++;
            }
            else if (lookup) dt_stats.lookup_exits++;        /* the table is empty: every lookup misses */
            else if (!l || l->kind != LINK_DIRECT || l->from != b) {
                r->error = "the trace left without a direct exit of its own";
                return;
            }
            pc = lookup ? dt_thread->ibl_target : l->target;
            r->at_exit[r->nexits] = *out;
            r->exits[r->nexits++] = pc;
            if (dt_insn_at(c, pc) < 0) { r->error = "an exit to a pc that is no instruction"; return; }
            dt_stats.xpromo_exits += b->promo_xmm != 0;
            if (pc == c->end_pc) dt_stats.end_exits++;
            else if (pc == (uint64_t)env.code) dt_stats.reentries++;
            else dt_stats.side_exits++;
            st = *out;
            continue;
        }
        if (dt_exec(pc, &st, out, &l)) { r->fault = 2; return; }
        if (l) { r->error = "native code reached an exit stub"; return; }
        if (pc != c->end_pc) dt_stats.native_tails++;
        return;
    }
}

/* dt_flags_mask: the rflags bits compared at pc: DF, and the status flags defined there. */
static uint64_t dt_flags_mask(const dt_case_t *c, uint64_t pc)
{
    int i = dt_insn_at(c, pc);
    return 0x400 | (i >= c->n ? c->flags_end : c->insn[i].fdef);
}

/* dt_regs_same: general registers, xmm0..15 (all 128 bits), MXCSR, and the flags of
 * mask, agree. */
static int dt_regs_same(const dt_regs_t *a, const dt_regs_t *b, uint64_t mask)
{
    return !memcmp(a->r, b->r, sizeof(a->r)) && !((a->flags ^ b->flags) & mask) &&
           (uint32_t)a->mxcsr == (uint32_t)b->mxcsr && !memcmp(a->x, b->x, sizeof(a->x));
}

/* dt_check_exits: each exit's state is the native one at the same point: entry k of the
 * trace starts at native step ni (the head), and its exit to X is the first native step
 * at X after it (a sequence runs each pc once per iteration); an exit by the promoted
 * preheader's frame check leaves at the head before the first promoted round: the state of
 * step ni, or with --peel of the next arrival at the head (after the unpromoted round). A trace that loops inside
 * itself (promoted registers: it goes round without leaving) may leave after any number
 * of iterations: its exit must equal the native state at some arrival at X. Returns the
 * failing exit's index (its native step in *step; -1 if native never gets there) or -1. */
static int dt_check_exits(const dt_case_t *c, const dt_trace_run_t *r, int loops_inside, int *step)
{
    int ni = 0;
    for (int k = 0; k < r->nexits; k++) {
        int j = ni + 1, first = -1;
        uint64_t mask = dt_flags_mask(c, r->exits[k]);
        if (r->guard && k == r->guard_exit) {            /* the frame check, before the first */
            int g = ni;                                  /* promoted round: at the entry, or */
            if (dt_opts.peel)                            /* after exactly one round (peeled) */
                for (g = ni + 1; g < dt_nsteps && dt_steps[g].pc != r->exits[k]; g++)
                    ;
            *step = g < dt_nsteps ? g : ni;
            if (g == dt_nsteps || dt_steps[g].pc != r->exits[k] || !dt_regs_same(&dt_steps[g].st, &r->at_exit[k], mask))
                return k;
            continue;
        }
        if (r->trip_exit >> k & 1) j = ni;               /* counters out: maybe at the entry */
        for (; j < dt_nsteps; j++) {
            if (dt_steps[j].pc != r->exits[k]) continue;
            if (first < 0) first = j;
            if (!loops_inside || dt_regs_same(&dt_steps[j].st, &r->at_exit[k], mask)) break;
        }
        if (j == dt_nsteps) j = first;
        *step = j;
        if (j < 0) return k;
        if (!dt_regs_same(&dt_steps[j].st, &r->at_exit[k], mask)) return k;
        ni = j;
    }
    return -1;
}

/* dt_left_early: the run the path was recorded from took a side exit (a branch to its own
 * fall-through leaves to where the path goes anyway: not early). */
static int dt_left_early(const dt_case_t *c, const dt_path_t *p, const dt_trace_run_t *r)
{
    if (r->exits[0] == p->next_pc) return 0;
    int i = dt_insn_at(c, r->exits[0]);
    if (i <= 0) return 1;
    int k = c->insn[i - 1].kind;
    return !((k == DT_JCC || k == DT_LOOP) && c->insn[i - 1].target == i);
}

/* dt_drop_traces: the runtime's own flush of the trace cache (as when it is full) retires
 * the case's trace; the harness then counts as one finished dispatcher pass (it holds no
 * record of the trace any more), so the next check before a build reuses the memory. */
static void dt_drop_traces(void)
{
    trace_cache_flush(dt_thread, TRACE_FLUSH_FULL);
    dt_thread->dispatches++;
    trace_cache_before_build(dt_thread);
}

/* dt_mutate: self test: one app instruction of the path becomes a nop of the same length
 * (so the blocks keep their instruction counts) and the trace is built from that; returns
 * its index, or -1. The caller writes the code back. */
static int dt_mutate(const dt_case_t *c, const dt_path_t *p)
{
    static const uint8_t nop9[] = { 0x66, 0x0f, 0x1f, 0x84, 0, 0, 0, 0, 0 };
    static const uint8_t *nops[] = { 0, (const uint8_t *)"\x90", (const uint8_t *)"\x66\x90",
        (const uint8_t *)"\x0f\x1f\x00", (const uint8_t *)"\x0f\x1f\x40\x00",
        (const uint8_t *)"\x0f\x1f\x44\x00\x00", (const uint8_t *)"\x66\x0f\x1f\x44\x00\x00",
        (const uint8_t *)"\x0f\x1f\x80\x00\x00\x00\x00", nop9 + 1, nop9 };
    int cand[DT_MAX_INSNS], n = 0;
    for (int b = 0; b < p->n; b++)
        for (uint32_t k = 0, i = (uint32_t)dt_insn_at(c, p->pcs[b]); k < p->lens[b]; k++, i++)
            if (c->insn[i].kind == DT_PLAIN && c->insn[i].bytes[0] != 0x90) cand[n++] = (int)i;
    if (!n) return -1;
    int i = cand[c->seed % (uint64_t)n], len = c->insn[i].len, pre = len > 9 ? len - 9 : 0;
    uint8_t *at = (uint8_t *)c->insn[i].pc;
    memset(at, 0x66, (size_t)pre);                     /* longer ones: more 0x66 prefixes */
    memcpy(at + pre, nops[len - pre], (size_t)(len - pre));
    return i;
}

/* dt_count_trace: the statistics of calls that return (kind_func) and of xmm promotion
 * (promo_xmm: bit i says promo_reg[i] is an xmm register) for a built trace. */
static void dt_count_trace(const dt_case_t *c, const dt_path_t *p, const hp_block_t *b, int retpair)
{
    int rets = 0, guard = 0;
    for (int k = 0; k < p->n; k++)
        for (uint32_t j = 0, i = (uint32_t)dt_insn_at(c, p->pcs[k]); j < p->lens[k]; j++, i++)
            rets += c->insn[i].kind == DT_RET;
    for (const hp_link_t *l = b->exits; l; l = l->next) guard |= l->kind == LINK_PROMO;
    dt_stats.func_traces += rets > 0;
    dt_stats.func_loop_traces += rets > 0 && p->next_pc == c->insn[0].pc;
    dt_stats.retpair_traces += (uint64_t)retpair;
    dt_stats.promo_traces += b->npromo > 0;
    dt_stats.framed_promo_traces += b->npromo > 0 && rets > 0;
    dt_stats.guarded_traces += (uint64_t)guard;
    int alias = 0;                                     /* rcx borrowed: stores checked */
    for (int i = 0; i < b->npromo; i++) alias |= b->promo_reg[i] == 1 && !(b->promo_xmm >> i & 1);
    dt_stats.alias_traces += (uint64_t)alias;
    if (!b->promo_xmm) return;
    int top = -1;
    for (int i = 0; i < b->npromo; i++)
        if (b->promo_xmm >> i & 1) {
            dt_stats.xpromo_regs++;
            if (b->promo_reg[i] > top) top = b->promo_reg[i];
        }
    dt_stats.xpromo_traces++;
    dt_stats.xpromo_framed += rets > 0;
    dt_stats.xpromo_below15 += top < 15;
}

/* dt_path_vex: some instruction of the path is VEX or EVEX encoded (c4/c5/62 first: the
 * generator puts no prefix before them). */
static int dt_path_vex(const dt_case_t *c, const dt_path_t *p)
{
    for (int k = 0; k < p->n; k++)
        for (uint32_t j = 0, i = (uint32_t)dt_insn_at(c, p->pcs[k]); j < p->lens[k]; j++, i++) {
            uint8_t b0 = c->insn[i].bytes[0];
            if (c->insn[i].kind == DT_PLAIN && (b0 == 0xc4 || b0 == 0xc5 || b0 == 0x62)) return 1;
        }
    return 0;
}

static void dt_fail_header(const dt_case_t *c, const char *what)
{
    fprintf(dt_log, "\n==== difftest FAILURE: %s\n", what);
    fprintf(dt_log, "seed %#lx; reproduce: build/tests/difftest_fuzz%s --opt %s %#lx 1\n",
            (unsigned long)c->seed, dt_opts.mutate ? " --mutate" : "", dt_opts.opt,
            (unsigned long)c->seed);
}

static int dt_case(uint64_t seed)
{
    dt_case_t *c = &dcase;
    dt_path_t p;
    hp_block_t *b = 0;
    const char *why = "";
    int ret = 0, mutated = -1;
    dt_stats.cases++;
    if (dt_gen(c, &env, seed)) {
        fprintf(dt_log, "difftest: case %#lx: the generator could not lay it out\n", (unsigned long)seed);
        dt_stats.errors++;
        return -1;
    }
    dt_write_code(c, &env);
    dt_stats.insns += (uint64_t)c->n;
    dt_stats.loops += (uint64_t)c->loop;
    dt_stats.func_cases += c->funcs > 0;
    dt_stats.funcs += (uint64_t)c->funcs;
    dt_stats.sse_cases += c->sse > 0;
    dt_stats.vex_cases += c->vex > 0;
    int random_path = (seed * 0x9e3779b97f4a7c15ull) >> 62 == 0;     /* one case in four */
    if (random_path ? dt_path_random(c, seed, &p) : dt_record(c, &p)) {
        dt_fail_header(c, "no path could be recorded (generator or harness bug)");
        dt_stats.errors++;
        return -1;
    }
    dt_stats.random_paths += (uint64_t)random_path;
    for (int k = 0; k < p.n; k++) dt_stats.trace_insns += p.lens[k];
    if (dt_opts.mutate) mutated = dt_mutate(c, &p);
    int64_t frame_k = (int64_t)(c->init[0].r[5] - c->init[0].r[4]);   /* as recorded from state 0 */
    /* a path that ends at a ret: its successor is known to the trace (checked inline, then
       a linked exit) for odd seeds, else the ret's lookup ends the trace */
    const dt_insn_t *last = &c->insn[dt_insn_at(c, p.pcs[p.n - 1]) + (int)p.lens[p.n - 1] - 1];
    uint64_t succ = (last->kind == DT_RET || last->kind == DT_IJMP) && (seed & 1) ? p.next_pc : 0;
    uint64_t retpair0 = hp_rt.stats.opt_retpair;
    hp_status_t st = trace_build(p.pcs, p.lens, p.n, succ, &frame_k, &b, &why);
    if (st == HP_OK) dt_count_trace(c, &p, b, hp_rt.stats.opt_retpair != retpair0);
    if (st == HP_OK && b->trip) {                       /* as tr_finish installs it */
        trace_trip_installed(dt_thread, b, p.pcs, p.lens, p.n, succ, &frame_k);
        dt_stats.counted_traces++;
    }
    if (mutated >= 0) dt_write_code(c, &env);
    if (st != HP_OK) {
        dt_fail_header(c, "trace_build refused the path");
        fprintf(dt_log, "trace_build: %s (%s)\n", hp_status_str(st), why);
        dt_report_case(c, &p, 0, 0, 0);
        dt_stats.failures++;
        dt_drop_traces();
        return 1;
    }
    if (b->promo_xmm && dt_path_vex(c, &p)) {          /* pass_promote's rule: legacy SSE only */
        dt_fail_header(c, "an xmm register borrowed in a loop with VEX code");
        dt_report_case(c, &p, b->cache_start, b->body_size, 0);
        dt_stats.failures++;
        dt_drop_traces();
        return 1;
    }
    for (int s = 0; s < DT_STATES && !ret; s++) {
        dt_regs_t nat, tr;
        hp_link_t *l;
        dt_trace_run_t r;
        dt_stats.runs++;
        dt_reset_memory(c);
        if (dt_exec((uint64_t)env.code, &c->init[s], &nat, &l) || l) {
            dt_fail_header(c, "the native run faulted (generator bug)");
            fprintf(dt_log, "%s at %#lx (address %#lx)\n", dt_sig_name(dt_fault_sig),
                    (unsigned long)dt_fault_pc, (unsigned long)dt_fault_addr);
            dt_report_case(c, &p, 0, 0, s);
            ret = -1;
            break;
        }
        dt_save_memory(nat_mem);
        dt_run_trace(c, b, &c->init[s], &tr, &r);
        dt_save_memory(tr_mem);
        /* exits other than the one at E: their states against a single-stepped native run */
        int step = -1, bad_exit = -1;
        if (!r.fault && !r.error && (r.nexits > 1 || r.exits[0] != c->end_pc)) {
            if (dt_step_run(c, s)) { ret = -1; break; }
            bad_exit = dt_check_exits(c, &r, b->loops || b->npromo > 0, &step);
        }
        const char *what = r.fault == 1 ? "the trace faulted" : r.fault == 2 ? "the native tail after a trace exit faulted"
                         : r.error ? r.error : 0;
        if (!what && bad_exit >= 0)
            what = step < 0 ? "a trace exit native execution does not reach" : "the state at a trace exit differs from native";
        /* (not with promoted registers: the trace goes round inside, and not when the
           inlining passes are off: the trace then ends at the first call or return) */
        if (!what && s == 0 && !random_path && !b->npromo && !b->loops && (opt_mask & 3) == 3 && dt_left_early(c, &p, &r))
            what = "the run the path was recorded from left the trace early";
        if (!what && !dt_regs_same(&nat, &tr, dt_flags_mask(c, c->end_pc))) what = "native and trace runs differ";
        if (!what && memcmp(nat_mem, tr_mem, sizeof(nat_mem))) what = "native and trace runs differ in memory";
        if (!what) continue;
        dt_fail_header(c, what);
        if (r.fault)
            fprintf(dt_log, "%s at %#lx (address %#lx)\n", dt_sig_name(dt_fault_sig),
                    (unsigned long)dt_fault_pc, (unsigned long)dt_fault_addr);
        if (mutated >= 0) fprintf(dt_log, "mutated instruction: [%d]\n", mutated);
        dt_report_case(c, &p, b->cache_start, b->body_size, s);
        fprintf(dt_log, "exits taken:");
        for (int k = 0; k < r.nexits; k++) {
            int i = dt_insn_at(c, r.exits[k]);
            fprintf(dt_log, " %s", i == c->n ? "E" : i == 0 ? "head" : "");
            if (i != c->n && i != 0) fprintf(dt_log, "[%d]", i);
        }
        fprintf(dt_log, "%s\n", r.nexits ? "" : " none");
        if (bad_exit >= 0 && step >= 0) {
            fprintf(dt_log, "-- at exit %d (to [%d]), native step %d:\n", bad_exit, dt_insn_at(c, r.exits[bad_exit]), step);
            dt_report_diff(c, &env, &dt_steps[step].st, &r.at_exit[bad_exit], dt_flags_mask(c, r.exits[bad_exit]), 0, 0);
        } else if (!r.fault && !r.error) {
            dt_report_diff(c, &env, &nat, &tr, dt_flags_mask(c, c->end_pc), nat_mem, tr_mem);
        }
        ret = 1;
    }
    if (ret > 0) dt_stats.failures++;
    if (ret < 0) dt_stats.errors++;
    dt_drop_traces();
    return ret;
}

int dt_run_case(uint64_t seed)
{
    alarm(10);                                        /* a hang comes back as SIGALRM */
    int ret = dt_case(seed);
    alarm(0);
    return ret;
}

uint64_t dt_run_range(uint64_t first, uint64_t count)
{
    uint64_t bad = 0;
    dt_signals();
    for (uint64_t k = 0; k < count; k++) {
        if (dt_run_case(first + k)) bad++;
        if (dt_opts.max_failures && bad >= (uint64_t)dt_opts.max_failures) break;
    }
    return bad;
}
