/* dispatch.c — the dispatcher: the one loop between cache exits and cache entries.
 * Look up the next block, build it if missing, link the exit that led here, enter.
 * Invariants: runs on the runtime stack with the app context saved in t; never returns an
 * error to the cache: anything it cannot handle detaches the thread at an app pc with the
 * exact app state; the app's SIMD state is saved around the builder (Zydis, libc memset). */
#include "block_table.h"
#include "builder.h"
#include "cache.h"
#include "emit.h"
#include "flush.h"
#include "fmt.h"
#include "ibl.h"
#include "signals.h"
#include "trace.h"
#include "syscalls.h"
#include "threads.h"
#include "sys.h"

/* dsp_link: make exit l jump straight to block `to` from now on. The only store another
 * thread can see is the 4-byte rel32 of the block's branch, which the builder keeps inside
 * an aligned 8-byte block so one store writes it atomically (emit.h emit_align_field):
 * to the target itself, or to a far-jump trampoline written before it is published. */
static void dsp_link(hp_link_t *l, hp_block_t *to)
{
    if (l->kind != LINK_DIRECT || l->to || !hp_rt.opts.link || to->invalid || l->from->invalid) return;
    if (l->from->record_copy || to->record_copy || trace_is_head_exit(l, to->app_pc, to)) return;
    uint64_t dest = (uint64_t)to->cache_pc;
    if (!cache_reachable((uint64_t)l->branch_rel32 + 4, dest)) {
        uint8_t *tramp = cache_reserve((uint64_t)l->branch_rel32, EMIT_FAR_JMP_LEN);
        if (!tramp || !cache_reachable((uint64_t)l->branch_rel32 + 4, (uint64_t)tramp)) {
            if (tramp) cache_commit(tramp, 0);
            return;                          /* stays unlinked: correct, only slower */
        }
        emit_far_jmp(tramp, dest);
        cache_commit(tramp, EMIT_FAR_JMP_LEN);
        dest = (uint64_t)tramp;
    }
    emit_set_rel32(l->branch_rel32, dest);
    l->to = to;
    l->next_in = to->incoming;
    to->incoming = l;
    hp_rt.stats.links_made++;
}

/* dsp_build: translate the block at pc and link its exits whose targets already exist. */
static hp_block_t *dsp_build(hp_thread_t *t, uint64_t pc)
{
    hp_block_t *b = 0;
    const char *why = "";
    hp_simd_save(t);
    hp_status_t st = builder_build(pc, &b, &why);
    hp_simd_restore(t);
    if (st == HP_OK) st = btab_insert(b);
    if (st != HP_OK) {
        hp_detach(t, pc, why && *why ? why : hp_status_str(st), pc);
        return 0;
    }
    hp_rt.stats.blocks_built++;
    for (hp_link_t *l = b->exits; l; l = l->next) {
        hp_block_t *to = l->kind == LINK_DIRECT ? btab_lookup(l->target) : 0;
        if (to) dsp_link(l, to);
    }
    if (hp_rt.opts.detach_after_blocks && hp_rt.stats.blocks_built >= (uint64_t)hp_rt.opts.detach_after_blocks) {
        hp_detach(t, pc, "--detach-after-blocks reached", pc);
        return 0;
    }
    return b;
}

/* dsp_go_native: the detached thread t leaves at app pc `pc`, natively: signals it had
 * caught become app frames first (their handlers run natively and return through the
 * kernel's own rt_sigreturn). Not under the lock. */
static void dsp_go_native(hp_thread_t *t, uint64_t pc)
{
    t->pending = 0;                        /* first: a signal caught while delivering sets it */
    if (t->npend) pc = signals_deliver(t, pc);
    t->rip = pc;
    t->entry_pc = pc;
    signals_detached(t);
}

void hp_dispatch(hp_thread_t *t)
{
    hp_link_t *l = t->exit_rec;
    uint64_t pc;
    if (t->detached) {                     /* back here from the entry tail: go native */
        dsp_go_native(t, t->rip);
        return;
    }
    if (t->fork_child) {                   /* first pass of a clone child with its own memory */
        t->fork_child = 0;
        hp_rt.lock.v = 0;                  /* the parent held it across the clone */
        threads_in_fork_child(t);
    }
    if (!t->started) {                     /* the thread's first pass: its own setup, once */
        t->started = 1;
        if (!t->tid) t->tid = (int)sys_gettid();
        signals_thread_start(t);
        signals_sample_start(t);
    }
    if (l->kind == LINK_SYSCALL && t->npend) {   /* caught on the way (the exit stub): the */
        pc = l->target;                          /* handler first, then the system call, */
        l = 0;                                   /* as natively (not with its mask widened */
    } else if (l->kind == LINK_SYSCALL) {        /* for the frame, signals.c sig_queue) */
        pc = syscalls_handle(t, l);
        if (!pc) { dsp_go_native(t, t->rip); return; }   /* detached */
        l = 0;                            /* a flush may have freed it */
    } else if (l->kind == LINK_RESUME) {
        pc = t->rip;
        l = 0;
    } else {
        pc = l->kind == LINK_INDIRECT ? t->ibl_target : l->target;
    }
    if (t->detach_pending) {               /* --detach-after-ms: go native here */
        t->detach_pending = 0;
        hp_detach(t, pc, "--detach-after-ms reached", pc);
        dsp_go_native(t, pc);
        return;
    }
    uint64_t promo_head = l && l->kind == LINK_PROMO ? l->target : 0;   /* (l may go below) */
    const hp_link_t *trip = l && l->kind == LINK_TRIP ? l : 0;
    if (t->pending) {                      /* signals first: the handler runs next */
        uint64_t to = signals_deliver(t, pc);
        if (to != pc) l = 0;
        pc = to;
    }
    hp_lock(&hp_rt.lock);
    hp_rt.stats.dispatcher_entries++;
    if (l && l->kind == LINK_INDIRECT) hp_rt.stats.indirect_misses++;
    if (l && l->from && l->from->is_trace) hp_rt.stats.trace_side_exits++;
    if (l && l->kind == LINK_SMC) {        /* its code changed: drop it and what overlaps */
        uint64_t lo = l->from->app_pc, hi = l->from->app_end;
        hp_rt.stats.smc_rebuilds++;
        flush_range(t, lo, hi, 0);
        l = 0;
    }
    if (!l && t->rec_n) trace_abort(t);   /* a signal handler or a syscall: not a path */
    if (t->promo_fault) {                  /* a promoted loop's preheader faulted */
        trace_promotion_fault(t, t->promo_fault, TRACE_FLUSH_PROMO_FAULT);
        t->promo_fault = 0;
        l = 0;
    }
    if (promo_head) {                      /* ... or found another frame (ir_emit.c) */
        trace_promotion_fault(t, promo_head, TRACE_FLUSH_PROMO_FRAME);
        l = 0;
    }
    if (trip) {                            /* a counted loop's counters ran out: its trace */
        trace_trip_done(t, trip);          /* is built again (trace_trip.c) */
        l = 0;
    }
    hp_block_t *b = trace_dispatch(t, l, pc);
    if (!b) b = btab_lookup(pc);
    if (!b) b = dsp_build(t, pc);
    if (b) {
        if (l && l->kind == LINK_DIRECT) dsp_link(l, b);
        if (l == &hp_rt.ibl_trace_link && hp_rt.opts.ibl && !b->record_copy &&
            !trace_is_head_exit(l, pc, b))            /* a trace, or a head given up */
            ibl_insert_trace(pc, (uint64_t)b->cache_pc);
        else if (l && l->kind == LINK_INDIRECT && hp_rt.opts.ibl && !b->record_copy)
            ibl_insert(t, pc, (uint64_t)b->cache_pc);
        t->rip = pc;
        t->entry_pc = (uint64_t)b->cache_pc;
        t->exit_rec = &t->resume_link;    /* a second pass (signal meanwhile) goes on here */
    }
    /* trace_cache.c: a locked pass is over; from here on this thread uses no fragment or
       link it found before and enters only what the tables hold now */
    __atomic_store_n(&t->dispatches, t->dispatches + 1, __ATOMIC_RELAXED);
    hp_unlock(&hp_rt.lock);                /* no block: dsp_build detached the thread */
    if (t->detached) dsp_go_native(t, t->rip);
}

void hp_detach(hp_thread_t *t, uint64_t pc, const char *reason, uint64_t where)
{
    if (!hp_rt.detach_reason[0]) {      /* the first detach names the reason */
        int i = 0;
        for (; reason[i] && i < (int)sizeof(hp_rt.detach_reason) - 1; i++) hp_rt.detach_reason[i] = reason[i];
        hp_rt.detach_reason[i] = 0;
    }
    hp_note("detaching:", reason, where);
    t->detached = 1;
    t->rec_n = 0;
    t->rip = pc;
    t->entry_pc = pc;
    hp_stats_write();
}
