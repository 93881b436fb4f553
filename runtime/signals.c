/* signals.c — signals under hotpath. The kernel only ever sees hotpath's handler for a
 * signal the app handles; hotpath keeps the app's actions (sig_app) and delivers to the
 * app's handlers itself, with app state only.
 * - Caught in the cache at the start of a translated app instruction (a "clean" point),
 *   or as a fault of one (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP): the context is turned
 *   into the app's (cache pc -> app pc, spilled rcx back) and the thread goes to the
 *   dispatcher, which builds the app's frame. Faults are reported at the app instruction.
 * - Caught inside a mangled sequence (lookup, call push, exit stub): the thread is
 *   single-stepped (TF) to the next clean point or into the runtime; the delay is bounded.
 * - Caught in the runtime: queued; the dispatcher delivers before it enters the cache.
 * - A detached thread: forwarded to the app's handler at once (it runs natively).
 * Invariants: an app frame holds app pcs only; rt_sigreturn from it is emulated
 * (syscalls.c), so the app may change the saved context and it is honoured. */
#include <signal.h>
#include "signals.h"
#include "cache.h"
#include "fmt.h"
#include "heap.h"
#include "lock.h"
#include "sys.h"
#include "threads.h"

#define K_SA_RESTORER 0x04000000
#define HP_DETACH_SIG 64            /* SIGRTMAX: the --detach-after-ms timer and its relay */
#define HP_SAMPLE_SIG 63            /* SIGRTMAX-1: the sampling timers (--stats-json) */
#define HP_SAMPLE_MAGIC 0x68707370u /* sigev_value of our sampling timers */
#define K_SI_TIMER (-2)
#define K_NSIG 64
#define EFLAGS_TF 0x100
#define EFLAGS_DF 0x400
#define EFLAGS_AC 0x40000
#define TRAP_BIT (1ull << (SIGTRAP - 1))
#ifndef FP_XSTATE_MAGIC1
#define FP_XSTATE_MAGIC1 0x46505853u
#define FP_XSTATE_MAGIC2 0x46505845u
#endif
#define UC_FP_XSTATE 0x1
#define UC_SIGCONTEXT_SS 0x2
#define UC_STRICT_RESTORE_SS 0x4

/* The kernel's layouts (x86-64), independent of glibc's larger ucontext_t. */
typedef struct { uint64_t handler, flags, restorer, mask; } k_sigaction_t;
typedef struct { uint64_t sp; int32_t flags, pad; uint64_t size; } k_stack_t;
typedef struct {
    uint64_t r8, r9, r10, r11, r12, r13, r14, r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp;
    uint64_t rip, eflags;
    uint16_t cs, gs, fs, ss;
    uint64_t err, trapno, oldmask, cr2, fpstate, reserved1[8];
} k_sigcontext_t;
typedef struct {
    uint64_t flags, link;
    k_stack_t stack;
    k_sigcontext_t mc;
    uint64_t sigmask;
} k_ucontext_t;
typedef struct {
    uint64_t pretcode;
    k_ucontext_t uc;
    uint8_t info[128];
} k_sigframe_t;
_Static_assert(sizeof(k_sigcontext_t) == 256, "sigcontext");
_Static_assert(sizeof(k_ucontext_t) == 304, "ucontext");

/* The app's actions: one table per set of threads sharing handlers (CLONE_SIGHAND); a
 * vfork or posix_spawn child shares memory but not handlers, so it gets a copy. */
struct hp_sigtab {
    k_sigaction_t act[K_NSIG + 1];
    uint8_t known[K_NSIG + 1];       /* act[sig] read from the kernel already */
};

extern char hp_sig_restorer[] HP_HIDDEN;    /* entry.S: rt_sigreturn */
extern char hp_dispatch_enter[] HP_HIDDEN;
extern char hp_enter_tail_begin[] HP_HIDDEN, hp_enter_tail_end[] HP_HIDDEN;
void hp_sig_entry(int sig, void *info, void *ucv) HP_HIDDEN;

static long sig_kernel_action(int sig, const k_sigaction_t *act, k_sigaction_t *old)
{
    return sys_call4(__NR_rt_sigaction, sig, act, old, 8);
}

static k_sigaction_t *sig_app_action(hp_thread_t *t, int sig)
{
    hp_sigtab_t *tab = t->sigtab;
    if (!tab->known[sig]) {
        k_sigaction_t k;
        if (sig_kernel_action(sig, 0, &k) == 0) tab->act[sig] = k;
        tab->known[sig] = 1;
    }
    return &tab->act[sig];
}

hp_sigtab_t *signals_table_copy(const hp_sigtab_t *from)
{
    hp_sigtab_t *tab = heap_alloc(sizeof(*tab));
    if (tab && from) hp_memcpy(tab, from, sizeof(*tab));
    return tab;
}

static long sig_install_ours(int sig, const k_sigaction_t *app)
{
    k_sigaction_t k;
    k.handler = (uint64_t)hp_sig_entry;
    k.flags = (app->flags & (SA_RESTART | SA_NODEFER | SA_NOCLDSTOP | SA_NOCLDWAIT)) |
              SA_SIGINFO | SA_ONSTACK | K_SA_RESTORER;   /* SA_RESETHAND: at delivery (a second
                                                            one queued meanwhile must not die) */
    k.restorer = (uint64_t)hp_sig_restorer;
    k.mask = ~0ull;           /* nothing nests in hp_sig_entry; the app's mask is applied at delivery */
    (void)app->mask;
    return sig_kernel_action(sig, &k, 0);
}

/* sig_reset_hand: SA_RESETHAND at delivery (not left to the kernel, which would reset
 * hotpath's own handler before a second queued copy is delivered): the action becomes the
 * default in the app's table and in the kernel, so a default-ignored signal interrupts
 * nothing; SIGTRAP, SIGSEGV and SIGBUS keep hotpath's handler (its own stepping and
 * preheader faults), which applies the default action for the app. */
static void sig_reset_hand(int sig, k_sigaction_t *a)
{
    a->handler = (uint64_t)SIG_DFL;
    if (sig == SIGTRAP || sig == SIGSEGV || sig == SIGBUS) sig_install_ours(sig, a);
    else sig_kernel_action(sig, a, 0);
}

/* sig_take_action: *out = t's action for sig, one copy taken under the lock that
 * signals_sigaction writes it under (another thread may change it meanwhile), with
 * SA_RESETHAND applied there when the action runs a handler: what one delivery uses. The
 * caller does not hold the lock. */
static void sig_take_action(hp_thread_t *t, int sig, k_sigaction_t *out)
{
    hp_lock(&hp_rt.lock);
    k_sigaction_t *a = sig_app_action(t, sig);
    *out = *a;
    if (a->handler != (uint64_t)SIG_IGN && a->handler != (uint64_t)SIG_DFL && (a->flags & SA_RESETHAND))
        sig_reset_hand(sig, a);
    hp_unlock(&hp_rt.lock);
}

/* sig_detach_timer: a one-shot POSIX timer that sends HP_DETACH_SIG to this thread. */
static void sig_detach_timer(long ms)
{
    struct { uint64_t value; int signo, notify, tid, pad[11]; } sev;
    hp_memset(&sev, 0, sizeof(sev));
    sev.signo = HP_DETACH_SIG;
    sev.notify = 4;                                    /* SIGEV_THREAD_ID */
    sev.tid = (int)sys_gettid();
    int id = 0;
    if (sys_call3(__NR_timer_create, 1 /* CLOCK_MONOTONIC */, &sev, &id) != 0) return;
    struct { long isec, insec, sec, nsec; } its = { 0, 0, ms / 1000, (ms % 1000) * 1000000 };
    sys_call4(__NR_timer_settime, id, 0, &its, 0);
}

hp_status_t signals_init(hp_thread_t *t)
{
    if (!(t->sigtab = signals_table_copy(0))) return HP_ERR_NOMEM;
    if (hp_rt.opts.detach_after_ms > 0) {
        k_sigaction_t k = *sig_app_action(t, HP_DETACH_SIG);
        k.flags = SA_RESTART;
        k.mask = 0;
        sig_install_ours(HP_DETACH_SIG, &k);
        sig_detach_timer(hp_rt.opts.detach_after_ms);
    }
    k_sigaction_t *a = sig_app_action(t, SIGTRAP);
    if (a->handler <= 1) {            /* the app's SIGTRAP stays default: ours steps */
        k_sigaction_t k = *a;
        k.flags = SA_NODEFER;
        sig_install_ours(SIGTRAP, &k);
    }
    static const int faults[] = { SIGSEGV, SIGBUS };
    for (int i = 0; i < 2; i++) {     /* default SIGSEGV/SIGBUS: ours sees a fault first */
        a = sig_app_action(t, faults[i]);   /* (a promoted loop's preheader, signals.c) and */
        if (a->handler == (uint64_t)SIG_DFL) sig_install_ours(faults[i], a);   /* re-raises */
    }
    return HP_OK;
}

long signals_sigaction(hp_thread_t *t, int sig, const void *act, void *oact, uint64_t setsize)
{
    if (sig < 1 || sig > K_NSIG || setsize != 8 || sig == SIGKILL || sig == SIGSTOP)
        return sys_call4(__NR_rt_sigaction, sig, act, oact, setsize);
    hp_lock(&hp_rt.lock);
    k_sigaction_t old = *sig_app_action(t, sig), neu;
    if (act) {
        hp_memcpy(&neu, act, sizeof(neu));
        long r;
        if (neu.handler > 1 || sig == SIGTRAP || (sig == HP_DETACH_SIG && hp_rt.opts.detach_after_ms > 0) ||
            ((sig == SIGSEGV || sig == SIGBUS) && neu.handler == (uint64_t)SIG_DFL) ||
            (sig == HP_SAMPLE_SIG && hp_rt.opts.stats_json[0])) {
            r = sig_install_ours(sig, &neu);
            if (r == 0 && neu.handler > 1) hp_rt.stats.signal_handlers++;
        } else {
            r = sig_kernel_action(sig, &neu, 0);
        }
        if (r != 0) { hp_unlock(&hp_rt.lock); return r; }
        t->sigtab->act[sig] = neu;
    }
    hp_unlock(&hp_rt.lock);
    if (oact) hp_memcpy(oact, &old, sizeof(old));
    return 0;
}

/* ---- catching: hp_sig_entry runs on the kernel's frame, in any state of the thread ---- */

static hp_thread_t *sig_self(void)
{
    uint64_t gs = 0;
    if (sys_arch_prctl(0x1004 /* ARCH_GET_GS */, (unsigned long)&gs) != 0) return 0;
    return (hp_thread_t *)gs;
}

/* sig_frame_mask: the mask a handler of sig (action a) runs with, from mask m before it. */
static uint64_t sig_frame_mask(uint64_t m, int sig, const k_sigaction_t *a)
{
    return m | a->mask | ((a->flags & SA_NODEFER) ? 0 : 1ull << (sig - 1));
}

/* Signals that may not be blocked while the thread still runs app code (stepping to a clean
 * point): a blocked fault or trap kills the process (the kernel forces it). */
#define SIG_FAULTS ((1ull << (SIGSEGV - 1)) | (1ull << (SIGBUS - 1)) | (1ull << (SIGFPE - 1)) | \
                    (1ull << (SIGILL - 1)) | TRAP_BIT)

/* sig_is_fault: sig with siginfo info is a synchronous fault of an instruction (the CPU's:
 * si_code > 0, SI_KERNEL included, which a general-protection SIGSEGV has). */
static int sig_is_fault(int sig, const void *info)
{
    int code;
    hp_memcpy(&code, (const uint8_t *)info + 8, sizeof(code));     /* si_code */
    return (SIG_FAULTS >> (sig - 1) & 1) && code > 0;
}

/* sig_queue: note sig for delivery; 1 if it was queued (0: the queue was full). Caught in
 * app code (in_rt 0), where the mask in uc is the app's: the first such one notes it
 * (t->pend_base), and each one with a handler adds what its frame will block (but faults)
 * to the mask the kernel restores when hp_sig_entry returns, as the kernel's own delivery
 * would at once: a signal that frame blocks stays in the kernel, in its own queue (process
 * or thread, its order, a timer's entry) until the handler's sigreturn
 * (tests/programs/sig_mask_nest.c). Caught in the runtime, which may be changing the app's
 * mask (an emulated sigreturn), nothing is noted: the delivery reads the mask then. */
static int sig_queue(hp_thread_t *t, int sig, const void *info, k_ucontext_t *uc, int in_rt)
{
    int queued = 0;
    if (t->npend < (int)(sizeof(t->pend) / sizeof(t->pend[0]))) {
        queued = 1;
        if (!in_rt) {
            if (!t->pend_base_ok) t->pend_base = uc->sigmask | (t->trap_blocked ? TRAP_BIT : 0);
            t->pend_base_ok = 1;
            k_sigaction_t *a = sig_app_action(t, sig);
            if (a->handler != (uint64_t)SIG_IGN && a->handler != (uint64_t)SIG_DFL)
                uc->sigmask |= sig_frame_mask(uc->sigmask, sig, a) & ~SIG_FAULTS;
        }
        int i = t->npend++;
        t->pend[i].sig = sig;
        t->pend[i].in_rt = in_rt;
        hp_memcpy(t->pend[i].info, info, 128);
        t->pend[i].err = uc->mc.err;
        t->pend[i].trapno = uc->mc.trapno;
        t->pend[i].cr2 = uc->mc.cr2;
    }
    t->pending = 1;
    return queued;
}

/* sig_fatal_fault: a fault hotpath cannot give the app (in the runtime, reading app
 * pointers for it, or untranslatable): with the app's default action the process dies by
 * the signal as it would natively (the instruction faults again with the default action
 * back), a note with --verbose; otherwise a fatal error. */
/* sig_kernel_default: the kernel's default action for sig, unblocked, statistics written:
 * the next sig (raised, or a fault executed again) ends the process as natively. */
static void sig_kernel_default(int sig)
{
    hp_stats_write();
    k_sigaction_t d = { 0, 0, 0, 0 };
    sig_kernel_action(sig, &d, 0);
    uint64_t set = 1ull << (sig - 1);
    sys_call4(__NR_rt_sigprocmask, SIG_UNBLOCK, &set, 0, 8);
}

static void sig_fatal_fault(hp_thread_t *t, int sig, const char *msg, uint64_t pc)
{
    if (sig_app_action(t, sig)->handler != (uint64_t)SIG_DFL) hp_fatal(msg, pc);
    hp_note(msg, "", pc);
    sig_kernel_default(sig);
}

/* sig_forward: sig caught in native code (a detached thread's, or outside the cache) is
 * the app's: its handler runs here, as the kernel would have run it (the thread is outside
 * the runtime, so it does not hold the lock sig_take_action takes). */
static void sig_forward(hp_thread_t *t, int sig, void *info, k_ucontext_t *uc)
{
    if (!t) return;                                   /* no table: cannot happen under us */
    k_sigaction_t act;
    sig_take_action(t, sig, &act);
    const k_sigaction_t *a = &act;
    if (a->handler == (uint64_t)SIG_IGN) return;
    if (a->handler == (uint64_t)SIG_DFL) {              /* default action, natively */
        k_sigaction_t d = { 0, 0, 0, 0 };
        sig_kernel_action(sig, &d, 0);
        int code = ((const int *)info)[2];              /* si_code > 0: from the CPU */
        if (!((sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) && code > 0))
            sys_call3(__NR_tgkill, sys_getpid(), sys_gettid(), sig);
        return;                                         /* a fault re-executes and dies */
    }
    ((void (*)(int, void *, void *))a->handler)(sig, info, uc);
}

static uint64_t *sig_greg(k_sigcontext_t *mc, int r)
{
    switch (r) {
    case R_RAX: return &mc->rax; case R_RCX: return &mc->rcx; case R_RDX: return &mc->rdx;
    case R_RBX: return &mc->rbx; case R_RSP: return &mc->rsp; case R_RBP: return &mc->rbp;
    case R_RSI: return &mc->rsi; case R_RDI: return &mc->rdi; case R_R8: return &mc->r8;
    case R_R9: return &mc->r9; case R_R10: return &mc->r10; case R_R11: return &mc->r11;
    case R_R12: return &mc->r12; case R_R13: return &mc->r13; case R_R14: return &mc->r14;
    default: return &mc->r15;
    }
}

/* sig_replay: apply a register move a pass removed before this point (op << 8 | dst << 4 |
 * src, XL_RP_*) to the context. */
static void sig_replay(k_sigcontext_t *mc, uint32_t op)
{
    uint64_t v = *sig_greg(mc, (int)(op & 15));
    uint64_t *d = sig_greg(mc, (int)(op >> 4 & 15));
    switch (op >> 8) {
    case XL_RP_COPY: *d = v; break;
    case XL_RP_ZX32: *d = (uint32_t)v; break;
    case XL_RP_SX32: *d = (uint64_t)(int64_t)(int32_t)v; break;
    default: break;
    }
}

/* sig_translate: the app pc of cache pc `pc` if the thread's state there is the app's
 * (fixing spilled rcx into mc for a fault), else 0. sync: the instruction at pc faulted. */
static uint64_t sig_translate_at(hp_thread_t *t, const hp_block_t *b, uint64_t pc,
                                 k_sigcontext_t *mc, int sync);

/* sig_translate: ... and for a promoted loop, the registers it borrows get the app's values
 * back (from t->promo) whenever the thread leaves the cache at an app pc. */
static uint64_t sig_translate(hp_thread_t *t, uint64_t pc, k_sigcontext_t *mc, int sync)
{
    hp_block_t *b = cache_find_block(pc);
    if (!b) return 0;
    uint64_t app = sig_translate_at(t, b, pc, mc, sync);
    uint64_t off = pc - (uint64_t)b->cache_start;
    if (app && b->npromo && off >= b->promo_lo && off < b->promo_hi)
        for (int i = 0; i < b->npromo; i++) {
            if (!(b->promo_xmm >> i & 1)) { *sig_greg(mc, b->promo_reg[i]) = t->promo[i]; continue; }
            uint8_t *fp = (uint8_t *)mc->fpstate;        /* fxsave layout: xmm0 at byte 160 */
            if (!fp) hp_fatal("a signal context without SIMD state in a loop borrowing xmm", b->app_pc);
            hp_memcpy(fp + 160 + 16 * b->promo_reg[i], t->promo_x[i], 16);
        }
    return app;
}

static uint64_t sig_translate_at(hp_thread_t *t, const hp_block_t *b, uint64_t pc,
                                 k_sigcontext_t *mc, int sync)
{
    if (pc == (uint64_t)b->cache_pc) return b->app_pc;
    uint64_t off = pc - (uint64_t)b->cache_start;
    if (off >= b->body_size || !b->n_xl) return 0;
    const hp_xl_t *x = b->xl;
    for (uint32_t i = 1; i < b->n_xl && b->xl[i].cache_off <= off; i++) x = &b->xl[i];
    uint64_t at = off - x->cache_off, app = x->app_pc;
    int spilled = (x->kind & XL_F_RCX_SPILLED) != 0;     /* app rcx in the spill slot */
    switch (XL_KIND(x->kind)) {
    case XL_COPY: case XL_OTHER: case XL_END:
        if (!(at == 0 || (sync && XL_KIND(x->kind) == XL_OTHER))) return 0;
        if (spilled) mc->rcx = t->spill_rcx;
        if (x->kind & XL_F_REPLAY) sig_replay(mc, XL_REPLAY_OP(x->kind));
        return app;
    case XL_RCX:
        if (at == 0) {
            if (spilled) mc->rcx = t->spill_rcx;
            return app;
        }
        if (!sync) return 0;
        mc->rcx = t->spill_rcx;          /* faulted loading the target, pushing or popping */
        return app;
    case XL_INEXACT:
        return 0;
    case XL_PREHEAD:                     /* loads of promoted slots, before the loop runs: */
        if (!sync) return 0;             /* a fault there may be one native never takes */
        t->promo_fault = b->app_pc;      /* (the slot's access may follow an exit): the */
        return b->app_pc;                /* loop starts over without promotion (dispatch.c) */
    case XL_SYSCALL: {
        const hp_xl_t *nx = x + 1 < b->xl + b->n_xl ? x + 1 : 0;
        uint64_t len = (nx ? nx->cache_off : b->body_size) - x->cache_off;
        uint64_t next_app = nx ? nx->app_pc : x->app_pc + 2;
        if (at + 10 == len) {            /* after the syscall: at movabs $next_app,%rcx */
            mc->rcx = next_app;
            return next_app;
        }
        return at + 10 < len ? app : 0;  /* before it: rcx and r11 are dead anyway */
    }
    }
    return 0;
}

static int sig_in_runtime(hp_thread_t *t, const k_sigcontext_t *mc)
{
    return (mc->rip >= hp_rt.self_start && mc->rip < hp_rt.self_end) ||
           (mc->rsp >= (uint64_t)t->rt_stack_base && mc->rsp <= t->rt_stack);
}

/* sig_in_tail: pc is in hp_dispatch_enter's restore tail (only registers change there). */
static int sig_in_tail(uint64_t pc)
{
    return pc >= (uint64_t)hp_enter_tail_begin && pc < (uint64_t)hp_enter_tail_end;
}

/* sig_restart_dispatcher: the kernel's sigreturn runs a dispatcher pass that goes on at
 * t->rip (the app context is already in t). The runtime's C code runs with DF and AC
 * clear: caught in the restore tail after its popfq, mc holds the app's flags. */
static void sig_restart_dispatcher(hp_thread_t *t, k_sigcontext_t *mc)
{
    t->exit_rec = &t->resume_link;
    mc->rip = (uint64_t)hp_dispatch_enter;
    mc->rsp = t->rt_stack;
    mc->eflags &= ~(uint64_t)(EFLAGS_DF | EFLAGS_AC);
}

/* sig_resume_in_dispatcher: the app context of the interrupted thread is mc (app pc `app`):
 * save it in t and make the kernel's sigreturn continue in the dispatcher, which delivers. */
static void sig_resume_in_dispatcher(hp_thread_t *t, k_sigcontext_t *mc, uint64_t app)
{
    /* SIGFPE, SIGILL, SIGTRAP report the faulting instruction in si_addr: the app's */
    for (int i = 0; i < t->npend; i++) {
        uint64_t *addr = (uint64_t *)(t->pend[i].info + 16);
        if (*addr == mc->rip) *addr = app;
    }
    for (int r = 0; r < 16; r++) t->gpr[r] = *sig_greg(mc, r);
    t->rflags = mc->eflags & ~(uint64_t)EFLAGS_TF;
    t->rip = app;
    t->stepping = 0;
    sig_restart_dispatcher(t, mc);
    mc->eflags &= ~(uint64_t)EFLAGS_TF;
}

/* sig_detach_here: thread t goes native at app pc `app` with the context in uc (already
 * the app's). From the kernel's sigreturn when it can; but while hotpath's own alternate
 * signal stack is installed this handler runs on it and sigaltstack cannot give the app
 * its own back (EPERM), so then, as with signals still to deliver, the thread detaches in
 * the dispatcher, on the runtime stack. */
static void sig_detach_here(hp_thread_t *t, k_ucontext_t *uc, uint64_t app)
{
    k_sigcontext_t *mc = &uc->mc;
    if (t->npend || t->own_altstack) {
        sig_resume_in_dispatcher(t, mc, app);
        t->detach_pending = 1;
        t->pending = 1;
        return;
    }
    mc->rip = app;
    mc->eflags &= ~(uint64_t)EFLAGS_TF;
    t->stepping = 0;
    t->detach_pending = 0;
    hp_detach(t, app, "--detach-after-ms reached", app);
    signals_detached(t);
}

/* sig_step / sig_unstep: single-step the thread (TF) from this signal's return; the kernel
 * would turn a blocked SIGTRAP into the default action, so the app's block of it is lifted
 * while stepping and put back after. */
static void sig_step(hp_thread_t *t, k_ucontext_t *uc)
{
    t->stepping = 1;
    uc->mc.eflags |= EFLAGS_TF;
    if (uc->sigmask & TRAP_BIT) {
        t->trap_blocked = 1;
        uc->sigmask &= ~TRAP_BIT;
    }
}

static void sig_unstep(hp_thread_t *t, k_ucontext_t *uc)
{
    t->stepping = 0;
    uc->mc.eflags &= ~(uint64_t)EFLAGS_TF;
    if (t->trap_blocked) {
        t->trap_blocked = 0;
        uc->sigmask |= TRAP_BIT;
    }
}

void hp_sig_entry(int sig, void *info, void *ucv)
{
    k_ucontext_t *uc = ucv;
    k_sigcontext_t *mc = &uc->mc;
    hp_thread_t *t = sig_self();
    int code = ((int *)info)[2];                      /* si_code */
    if (sig == HP_SAMPLE_SIG && code == K_SI_TIMER && ((uint32_t *)info)[6] == HP_SAMPLE_MAGIC) {
        uint64_t pc = mc->rip;
        hp_block_t *b = t && cache_contains(pc) ? cache_find_block(pc) : 0;
        int where = b ? (b->is_trace ? 0 : 1) : (t && sig_in_runtime(t, mc)) || cache_contains(pc) ? 2 : 3;
        __atomic_add_fetch(&hp_rt.samples[where], 1, __ATOMIC_RELAXED);
        return;
    }
    if (sig == HP_DETACH_SIG && hp_rt.opts.detach_after_ms > 0 && (code == K_SI_TIMER || hp_rt.detaching)) {
        if (!t || t->detached) return;
        if (!hp_rt.detaching) {
            hp_rt.detaching = 1;
            threads_signal_others(t, HP_DETACH_SIG);
        }
        t->detach_pending = 1;
        t->pending = 1;                               /* the dispatcher's loop sees it */
        uint64_t pc = mc->rip;
        if (cache_contains(pc) && !sig_in_runtime(t, mc)) {
            uint64_t app = sig_translate(t, pc, mc, 0);
            if (app) { sig_unstep(t, uc); sig_detach_here(t, uc, app); return; }
            sig_step(t, uc);
        } else if (sig_in_tail(pc)) {
            sig_restart_dispatcher(t, mc);
        }
        return;                                       /* in the runtime: the dispatcher */
    }
    if (!t || (t->detached && !sig_in_runtime(t, mc))) { sig_forward(t, sig, info, uc); return; }
    if (t->detached) {             /* still leaving: the dispatcher delivers it on the way */
        sig_queue(t, sig, info, uc, 1);
        if (sig_in_tail(mc->rip)) sig_restart_dispatcher(t, mc);
        return;
    }
    int step_trap = sig == SIGTRAP && t->stepping && code == 2 /* TRAP_TRACE */;
    int sync = !step_trap && sig_is_fault(sig, info);
    uint64_t pc = mc->rip;
    int in_cache = cache_contains(pc), in_rt = sig_in_runtime(t, mc);
    int queued = 0;
    uint64_t mask_before = uc->sigmask;
    if (!step_trap) {
        if (sync && in_rt) { sig_fatal_fault(t, sig, "fault inside hotpath's runtime", pc); return; }
        if (!in_cache && !in_rt) {                      /* native code: as natively */
            sig_forward(t, sig, info, uc);
            return;
        }
        __atomic_add_fetch(&hp_rt.n_signals_caught, 1, __ATOMIC_RELAXED);
        queued = sig_queue(t, sig, info, uc, in_rt || !in_cache || sig_in_tail(pc));
    }
    if (sig_in_tail(pc)) {        /* restoring the app context: nothing written yet, start over */
        sig_unstep(t, uc);
        sig_restart_dispatcher(t, mc);
        return;
    }
    if (in_rt || !in_cache) {                          /* the dispatcher will deliver */
        sig_unstep(t, uc);
        return;
    }
    uint64_t app = sig_translate(t, pc, mc, sync);
    if (app && t->promo_fault) {         /* not the app's fault: no signal, start over */
        if (queued) { t->npend--; uc->sigmask = mask_before; }   /* (it was queued last) */
        if (!t->npend) t->pend_base_ok = 0;
        t->pending = t->npend > 0 || t->detach_pending;
        __atomic_sub_fetch(&hp_rt.n_signals_caught, 1, __ATOMIC_RELAXED);
    }
    if (app && t->detach_pending && step_trap) {
        sig_unstep(t, uc);
        sig_detach_here(t, uc, app);
        return;
    }
    if (app) {
        sig_unstep(t, uc);
        sig_resume_in_dispatcher(t, mc, app);
        return;
    }
    if (sync) { sig_fatal_fault(t, sig, "fault in hotpath's generated code", pc); return; }
    sig_step(t, uc);                                   /* step to a clean point */
}

/* ---- delivering: in the dispatcher, with the app context in t and its SIMD state live ---- */

static void sig_default_action(int sig)
{
    if (sig == SIGCHLD || sig == SIGURG || sig == SIGWINCH || sig == SIGCONT) return;
    sig_kernel_default(sig);
    sys_call3(__NR_tgkill, sys_getpid(), sys_gettid(), sig);
    if (sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) return;   /* stopped, then continued */
    hp_fatal("default action of a signal did not end the process", (uint64_t)sig);
}

/* sig_build_frame: the app frame of queued signal i over the app context in t, to return
 * to pc; *mask: the app's signal mask before it (saved in the frame), then with the
 * handler's sa_mask and signal added. Returns the handler (or pc: ignored, default). */
static uint64_t sig_build_frame(hp_thread_t *t, int i, uint64_t pc, uint64_t *mask)
{
    int sig = t->pend[i].sig;
    k_sigaction_t act;
    sig_take_action(t, sig, &act);
    const k_sigaction_t *a = &act;
    if (a->handler == (uint64_t)SIG_IGN) return pc;
    if (a->handler == (uint64_t)SIG_DFL) { sig_default_action(sig); return pc; }
    k_stack_t ss;
    uint64_t sp = t->gpr[R_RSP];
    hp_memcpy(&ss, &t->app_ss, sizeof(ss));
    int on_alt = ss.size && !(ss.flags & SS_DISABLE) && sp > ss.sp && sp <= ss.sp + ss.size;
    if ((a->flags & SA_ONSTACK) && ss.size && !(ss.flags & SS_DISABLE) && !on_alt)
        sp = ss.sp + ss.size;
    else
        sp -= 128;                                       /* the red zone */
    sp -= hp_rt.xsave_size + 4;                          /* XSAVE image and MAGIC2 */
    sp &= ~63ull;
    uint8_t *fp = (uint8_t *)sp;
    hp_memset(fp + 512, 0, 64);                          /* XSAVE header */
    hp_xsave(fp);
    uint32_t *sw = (uint32_t *)(fp + 464);               /* fpx_sw_bytes */
    sw[0] = FP_XSTATE_MAGIC1;
    sw[1] = hp_rt.xsave_size + 4;                        /* extended_size */
    *(uint64_t *)&sw[2] = hp_rt.xsave_mask;              /* xfeatures */
    sw[4] = hp_rt.xsave_size;                            /* xstate_size */
    *(uint32_t *)(fp + hp_rt.xsave_size) = FP_XSTATE_MAGIC2;
    sp -= sizeof(k_sigframe_t);
    sp = (sp & ~15ull) - 8;                              /* as after a call */
    k_sigframe_t *f = (k_sigframe_t *)sp;
    hp_memset(f, 0, sizeof(*f));
    f->pretcode = a->restorer;
    f->uc.flags = UC_FP_XSTATE | UC_SIGCONTEXT_SS | UC_STRICT_RESTORE_SS;
    f->uc.stack = ss;
    if (on_alt) f->uc.stack.flags |= SS_ONSTACK;
    for (int r = 0; r < 16; r++) *sig_greg(&f->uc.mc, r) = t->gpr[r];
    f->uc.mc.rip = pc;
    f->uc.mc.eflags = t->rflags;
    f->uc.mc.cs = 0x33;
    f->uc.mc.ss = 0x2b;
    f->uc.mc.err = t->pend[i].err;
    f->uc.mc.trapno = t->pend[i].trapno;
    f->uc.mc.cr2 = t->pend[i].cr2;
    f->uc.mc.fpstate = (uint64_t)fp;
    uint64_t old = *mask;
    f->uc.sigmask = old;
    f->uc.mc.oldmask = old;
    hp_memcpy(f->info, t->pend[i].info, 128);
    *mask = sig_frame_mask(old, sig, a);
    uint64_t handler = a->handler;
    t->gpr[R_RDI] = (uint64_t)sig;
    t->gpr[R_RSI] = (uint64_t)f->info;
    t->gpr[R_RDX] = (uint64_t)&f->uc;
    t->gpr[R_RAX] = 0;
    t->gpr[R_RSP] = sp;
    t->rflags &= ~(uint64_t)(EFLAGS_TF | EFLAGS_DF);
    __atomic_add_fetch(&hp_rt.n_signals_delivered, 1, __ATOMIC_RELAXED);
    return handler;
}

/* The state a handler starts with, as the kernel gives it (fpu__clear_user_states): every
 * component in its initial state, x87 control word 0x37f, MXCSR 0x1f80. */
static uint8_t sig_init_fpu[1024] __attribute__((aligned(64)));

static void sig_clean_fpu(void)
{
    *(uint16_t *)sig_init_fpu = 0x037f;                 /* FCW */
    *(uint32_t *)(sig_init_fpu + 24) = 0x1f80;          /* MXCSR */
    hp_xrstor(sig_init_fpu);
}

/* sig_requeue_kernel: give queued signal i back to the kernel, pending on this thread with
 * its siginfo, until the mask lets it through (hp_sig_entry catches it again then). */
static void sig_requeue_kernel(const hp_thread_t *t, int i)
{
    int sig = t->pend[i].sig;
    if (sys_call4(__NR_rt_tgsigqueueinfo, sys_getpid(), sys_gettid(), sig, t->pend[i].info) < 0)
        sys_call3(__NR_tgkill, sys_getpid(), sys_gettid(), sig);
}

uint64_t signals_deliver(hp_thread_t *t, uint64_t pc)
{
    /* Deliver the oldest first; each frame nests on the previous one, so the newest
     * handler runs first, as the kernel does when several signals are pending. The masks
     * are the kernel's: each frame saves the mask before it and installs that plus its
     * handler's sa_mask and signal; the last one stays. Signals are blocked (but faults)
     * while the frames are built, so none is caught half-way; those caught in app code
     * meanwhile had what their frames block added to the kernel's mask already (sig_queue);
     * one caught in the runtime that the frames built before it block goes back to the
     * kernel and waits for their sigreturn. A fault queued behind a frame is dropped: the
     * frames return to the faulting instruction, which runs again after the handlers and
     * faults then, as it would natively. */
    if (!__atomic_load_n(&t->npend, __ATOMIC_RELAXED)) return pc;
    uint64_t all = ~SIG_FAULTS, cur;
    sys_call4(__NR_rt_sigprocmask, SIG_BLOCK, &all, &cur, 8);
    int n = __atomic_load_n(&t->npend, __ATOMIC_RELAXED);   /* after blocking: one caught just
                                                               before is delivered, not lost */
    uint64_t first = pc, mask = t->pend_base_ok ? t->pend_base : cur;
    t->npend = 0;
    t->pending = 0;
    t->pend_base_ok = 0;
    for (int i = 0; i < n; i++) {
        int sig = t->pend[i].sig, fault = sig_is_fault(sig, t->pend[i].info);
        if (pc != first && fault) continue;
        if (t->pend[i].in_rt && !fault && (mask >> (sig - 1) & 1)) {
            sig_requeue_kernel(t, i);
            continue;
        }
        pc = sig_build_frame(t, i, pc, &mask);
    }
    sys_call4(__NR_rt_sigprocmask, SIG_SETMASK, &mask, 0, 8);
    if (pc != first) sig_clean_fpu();
    return pc;
}

uint64_t signals_sigreturn(hp_thread_t *t)
{
    k_ucontext_t *uc = (k_ucontext_t *)t->gpr[R_RSP];    /* the handler's ret took pretcode */
    k_sigcontext_t *mc = &uc->mc;
    for (int r = 0; r < 16; r++) t->gpr[r] = *sig_greg(mc, r);
    /* the flags a program may change (the kernel's FIX_EFLAGS) */
    const uint64_t fix = 0x40dd5 | EFLAGS_TF | EFLAGS_DF | 0x200000;
    t->rflags = (t->rflags & ~fix) | (mc->eflags & fix);
    if (mc->fpstate)
        hp_xrstor((const void *)mc->fpstate);
    sys_call4(__NR_rt_sigprocmask, SIG_SETMASK, &uc->sigmask, 0, 8);
    return mc->rip;
}

void signals_detached(hp_thread_t *t)
{
    if (t->detach_done) return;
    t->detach_done = 1;             /* caught signals: the dispatcher built their frames */
    signals_sample_stop(t);
    if (t->own_altstack) {                             /* the app's own stack, natively */
        k_stack_t app;
        hp_memcpy(&app, &t->app_ss, sizeof(app));
        if (app.size && !(app.flags & SS_DISABLE)) sys_call2(__NR_sigaltstack, &app, 0);
        else { app.flags = SS_DISABLE; sys_call2(__NR_sigaltstack, &app, 0); }
    }
    if (__atomic_add_fetch(&hp_rt.ndetached, 1, __ATOMIC_ACQ_REL) < threads_live()) return;
    for (int sig = 1; sig <= K_NSIG; sig++) {          /* every thread is native now */
        if (!t->sigtab->known[sig] || sig == SIGKILL || sig == SIGSTOP) continue;
        sig_kernel_action(sig, &t->sigtab->act[sig], 0);
    }
}

#define HP_SIG_STACK (64 * 1024)

void signals_thread_start(hp_thread_t *t)
{
    if (t->own_altstack) return;
    k_stack_t old, mine;
    if (sys_call2(__NR_sigaltstack, 0, &old) == 0 && !t->app_ss.size) {
        t->app_ss.sp = old.sp;                       /* what the app had (fork keeps it) */
        t->app_ss.flags = old.flags & ~SS_ONSTACK;
        t->app_ss.size = old.size;
        if (!old.size) t->app_ss.flags = SS_DISABLE;
    }
    if (!t->sig_stack) t->sig_stack = heap_alloc(HP_SIG_STACK);
    if (!t->sig_stack) return;                        /* the kernel keeps the app's */
    mine.sp = (uint64_t)t->sig_stack;
    mine.flags = 0;
    mine.size = HP_SIG_STACK;
    if (sys_call2(__NR_sigaltstack, &mine, 0) == 0) t->own_altstack = 1;
}

long signals_sigaltstack(hp_thread_t *t, const void *ssv, void *oldv)
{
    if (!t->own_altstack) return sys_call2(__NR_sigaltstack, ssv, oldv);
    k_stack_t cur, neu;
    hp_memcpy(&cur, &t->app_ss, sizeof(cur));
    uint64_t sp = t->gpr[R_RSP];
    int on = cur.size && !(cur.flags & SS_DISABLE) && sp > cur.sp && sp <= cur.sp + cur.size;
    if (ssv) {
        hp_memcpy(&neu, ssv, sizeof(neu));
        if (on) return -1;                              /* EPERM: in use */
        int mode = neu.flags & ~(int)0x80000000;        /* SS_AUTODISARM */
        if (mode != 0 && mode != SS_DISABLE && mode != SS_ONSTACK) return -22;
        if (mode == SS_DISABLE) { neu.sp = 0; neu.size = 0; }
        else if (neu.size < 2048) return -12;           /* ENOMEM: below MINSIGSTKSZ */
        neu.flags = mode == SS_DISABLE ? SS_DISABLE : 0;
        hp_memcpy(&t->app_ss, &neu, sizeof(neu));
    }
    if (oldv) {
        cur.flags = cur.size ? (on ? SS_ONSTACK : cur.flags & SS_DISABLE) : SS_DISABLE;
        hp_memcpy(oldv, &cur, sizeof(cur));
    }
    return 0;
}

/* ---- sampling where threads are (statistics time_in_*_pct) ---- */

void signals_sample_start(hp_thread_t *t)
{
    if (!hp_rt.opts.stats_json[0] || t->sample_timer) return;
    static int installed;
    if (!installed) {
        k_sigaction_t k = *sig_app_action(t, HP_SAMPLE_SIG);
        k.flags = SA_RESTART;
        sig_install_ours(HP_SAMPLE_SIG, &k);
        installed = 1;
    }
    struct { uint64_t value; int signo, notify, tid, pad[11]; } sev;
    hp_memset(&sev, 0, sizeof(sev));
    sev.value = HP_SAMPLE_MAGIC;
    sev.signo = HP_SAMPLE_SIG;
    sev.notify = 4;                                    /* SIGEV_THREAD_ID */
    sev.tid = (int)sys_gettid();
    long clock = (long)(((unsigned long)~sev.tid << 3) | 4 | 2);   /* this thread's CPU time */
    int id = 0;
    if (sys_call3(__NR_timer_create, clock, &sev, &id) != 0) return;
    struct { long isec, insec, sec, nsec; } its = { 0, 1000000, 0, 1000000 };   /* 1 ms */
    sys_call4(__NR_timer_settime, id, 0, &its, 0);
    t->sample_timer = id + 1;
}

void signals_sample_stop(hp_thread_t *t)
{
    if (!t->sample_timer) return;
    sys_call1(__NR_timer_delete, t->sample_timer - 1);
    t->sample_timer = 0;
}
