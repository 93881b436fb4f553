/* syscalls.c — system calls the runtime must see: process exit (statistics), thread and
 * vfork creation and signal handlers (detach until the transparency work lands), exec
 * (statistics before the image goes), and unmapping, reprotecting or dropping (madvise)
 * code or read-only data a trace folded (flush).
 * Invariant: a call the runtime performs on the app's behalf leaves rax, rcx and r11 as the
 * kernel's syscall instruction would (result, next app pc, rflags). */
#include <asm/prctl.h>
#include <linux/sched.h>
#include <signal.h>
#include <sys/mman.h>
#include "syscalls.h"
#include "flush.h"
#include "fmt.h"
#include "heap.h"
#include "ibl.h"
#include "maps.h"
#include "sys.h"
#include "threads.h"
#include "trace.h"
#include "signals.h"

uint8_t hp_syscall_table[65536];

#define SC_MADV_DONTNEED_LOCKED 24     /* (Linux 5.18; not in every libc's headers) */
#define SC_MADV_GUARD_INSTALL 102      /* (Linux 6.13) */
#define SC_SHM_REMAP 040000
#define SC_MREMAP_FIXED 2

static const int sc_seen[] = {
    __NR_exit, __NR_exit_group, __NR_clone, __NR_clone3, __NR_fork, __NR_vfork,
    __NR_execve, __NR_execveat, __NR_rt_sigaction, __NR_rt_sigreturn, __NR_munmap,
    __NR_mprotect, __NR_mremap, __NR_mmap, __NR_arch_prctl, __NR_shmdt, __NR_sigaltstack,
    __NR_pkey_mprotect, __NR_madvise, __NR_shmat, __NR_process_madvise, __NR_io_uring_setup,
};

void syscalls_init(void)
{
    for (unsigned i = 0; i < sizeof(sc_seen) / sizeof(sc_seen[0]); i++)
        hp_syscall_table[sc_seen[i]] = 1;
}

/* sc_end: the end of the pages [lo, lo + len) covers (the whole space for a failed call's
 * nonsense length). */
static uint64_t sc_end(uint64_t lo, uint64_t len)
{
    uint64_t hi = lo + ((len + 4095) & ~4095ull);
    return hi < lo || len > ~0ull - 4095 ? ~0ull : hi;
}

/* sc_code_changed: the mapping of [lo, lo + len) changed (sc_all_changed: of everything):
 * the cached maps forget it and whatever was translated or folded from it is flushed.
 * sc_bytes_changed: only the bytes of [lo, lo + len) may have (madvise): flushed where the
 * cached maps show code or folded data (malloc's heap never: no scan of the block table). */
static void sc_code_changed(hp_thread_t *t, uint64_t lo, uint64_t len)
{
    uint64_t hi = sc_end(lo, len);
    hp_lock(&hp_rt.lock);
    maps_forget(lo, hi);
    flush_range(t, lo, hi, 1);
    hp_unlock(&hp_rt.lock);
}

static void sc_all_changed(hp_thread_t *t) { sc_code_changed(t, 0, ~0ull - 8192); }

static void sc_bytes_changed(hp_thread_t *t, uint64_t lo, uint64_t len)
{
    uint64_t hi = sc_end(lo, len);
    hp_lock(&hp_rt.lock);
    if (maps_may_hold_code(lo, hi)) flush_range(t, lo, hi, 1);
    hp_unlock(&hp_rt.lock);
}

static uint64_t sc_do(hp_thread_t *t, uint64_t next)
{
    uint64_t *g = t->gpr;
    long ret = sys_call6((long)g[R_RAX], (long)g[R_RDI], (long)g[R_RSI], (long)g[R_RDX],
                         (long)g[R_R10], (long)g[R_R8], (long)g[R_R9]);
    g[R_RAX] = (uint64_t)ret;
    g[R_RCX] = next;
    g[R_R11] = t->rflags;
    return next;
}

/* sc_clone: clone, clone3 or vfork, with the clone flags and the child's stack (0: the
 * parent's). Without CLONE_VM the child is a copy (fork): it goes on from the dispatcher
 * with everything copied, the lock taken around the call so the copy has it free. With
 * CLONE_VM (threads, vfork, posix_spawn) the child gets its own runtime state, prepared
 * here, and starts in the dispatcher at the instruction after the syscall. */
extern long hp_clone_raw(long nr, long a1, long a2, long a3, long a4, long a5,
                         hp_thread_t *child) HP_HIDDEN;

static uint64_t sc_clone(hp_thread_t *t, uint64_t pc, uint64_t next, uint64_t flags, uint64_t child_sp)
{
    uint64_t *g = t->gpr;
    if (!(flags & CLONE_VM) && !child_sp) {  /* fork: the child goes on from right here */
        hp_lock(&hp_rt.lock);
        sc_do(t, next);
        if (g[R_RAX] == 0) threads_in_fork_child(t);
        hp_unlock(&hp_rt.lock);
        return next;
    }
    hp_lock(&hp_rt.lock);
    hp_thread_t *c = threads_new();
    if (c) {
        hp_memcpy(c->gpr, g, sizeof(c->gpr));
        c->gpr[R_RAX] = 0;
        c->gpr[R_RCX] = next;
        c->gpr[R_R11] = t->rflags;
        if (child_sp) c->gpr[R_RSP] = child_sp;
        c->rflags = t->rflags;
        c->rip = next;
        c->start_link.target = next;
        c->exit_rec = &c->start_link;
        /* the kernel keeps the alternate signal stack for a vfork or fork child, and gives
         * a new thread none */
        if ((flags & CLONE_VFORK) || !(flags & CLONE_VM)) c->app_ss = t->app_ss;
        else { c->app_ss.flags = SS_DISABLE; c->app_ss.size = 0; c->app_ss.sp = 0; }
        c->sigtab = (flags & CLONE_SIGHAND) ? t->sigtab : signals_table_copy(t->sigtab);
        if (!c->sigtab) { threads_discard(c); c = 0; }
        else if (!(flags & CLONE_VM)) c->fork_child = 1;   /* its own memory, a new stack */
        else if (!(flags & CLONE_VFORK) && !hp_rt.multithreaded) {
            hp_rt.multithreaded = 1;      /* a loop's registers would hide its stores */
            if (hp_rt.promoted) trace_cache_flush(t, TRACE_FLUSH_THREADS);
        }
    }
    if ((flags & CLONE_VM) || !c) hp_unlock(&hp_rt.lock);   /* a fork keeps it across the call */
    if (!c) {
        hp_detach(t, pc, "out of memory for a new thread", pc);
        return 0;
    }
    /* every signal blocked across the call: the child runs with the parent's gs until it
       sets its own (hp_clone_raw), and a signal caught there would be queued in the
       parent's state; the child puts the mask back itself (clone_mask) */
    uint64_t all = ~0ull, app_mask;
    sys_call4(__NR_rt_sigprocmask, SIG_BLOCK, &all, &app_mask, 8);
    c->clone_mask = app_mask;
    long ret = hp_clone_raw((long)g[R_RAX], (long)g[R_RDI], (long)g[R_RSI], (long)g[R_RDX],
                            (long)g[R_R10], (long)g[R_R8], c);
    sys_call4(__NR_rt_sigprocmask, SIG_SETMASK, &app_mask, 0, 8);
    if (!(flags & CLONE_VM)) {               /* fork on a new stack: c is the child's only */
        threads_discard(c);
        hp_unlock(&hp_rt.lock);
    } else if (sys_is_err(ret)) {            /* no child: its state goes back */
        hp_lock(&hp_rt.lock);
        threads_discard(c);
        hp_unlock(&hp_rt.lock);
    } else if ((flags & CLONE_VFORK) && !(flags & CLONE_THREAD)) {
        /* The parent goes on only once the child has exec'd or exited: nothing runs on the
         * child's state any more (its tid is another process's), so it is free now. */
        hp_lock(&hp_rt.lock);
        if (c->sigtab != t->sigtab) heap_free(c->sigtab);
        threads_discard(c);
        hp_unlock(&hp_rt.lock);
    } else {
        hp_lock(&hp_rt.lock);
        if (!c->tid) c->tid = (int)ret;
        hp_unlock(&hp_rt.lock);
    }
    g[R_RAX] = (uint64_t)ret;
    g[R_RCX] = next;
    g[R_R11] = t->rflags;
    return next;
}

/* sc_env_without_us: a copy of the environment entry e without hotpath: NULL to drop it
 * (HOTPATH_OPTIONS, or LD_PRELOAD holding only libhotpath.so), else e or a new string with
 * libhotpath.so taken out of LD_PRELOAD's list. */
static const char *sc_env_without_us(const char *e)
{
    if (hp_strneq(e, "HOTPATH_OPTIONS=", 16)) return 0;
    if (!hp_strneq(e, "LD_PRELOAD=", 11)) return e;
    size_t n = hp_strlen(e);
    char *out = heap_alloc(n + 1);
    if (!out) return e;
    hp_memcpy(out, e, 11);
    size_t o = 11;
    for (const char *p = e + 11; *p;) {
        const char *q = p;
        while (*q && *q != ':' && *q != ' ') q++;
        size_t len = (size_t)(q - p);
        int ours = len >= 14 && hp_strneq(q - 14, "/libhotpath.so", 14);
        if (!ours && len) {
            if (o > 11) out[o++] = ':';
            hp_memcpy(out + o, p, len);
            o += len;
        }
        p = *q ? q + 1 : q;
    }
    out[o] = 0;
    return o > 11 ? out : 0;
}

/* sc_exec_native: execve/execveat with an environment from which hotpath is removed
 * (--no-follow-exec): the new program runs natively. env_reg holds envp. */
static uint64_t sc_exec_native(hp_thread_t *t, uint64_t next, int env_reg)
{
    uint64_t *g = t->gpr;
    const char *const *env = (const char *const *)g[env_reg];
    size_t n = 0;
    while (env && env[n]) n++;
    const char **copy = heap_alloc((n + 1) * sizeof(*copy));
    if (!copy) return sc_do(t, next);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const char *e = sc_env_without_us(env[i]);
        if (e) copy[k++] = e;
    }
    copy[k] = 0;
    uint64_t saved = g[env_reg];
    g[env_reg] = (uint64_t)copy;
    sc_do(t, next);                        /* returns only if the exec failed */
    g[env_reg] = saved;
    return next;
}

uint64_t syscalls_handle(hp_thread_t *t, const hp_link_t *link)
{
    uint64_t *g = t->gpr;
    uint64_t pc = link->target, next = pc + link->insn_len;
    int nr = (int)g[R_RAX];
    __atomic_add_fetch(&hp_rt.n_syscalls_seen, 1, __ATOMIC_RELAXED);
    switch (nr) {
    case __NR_exit:
        signals_sample_stop(t);
        hp_lock(&hp_rt.lock);
        threads_exit(t);
        if (threads_live() == 0) {           /* the last thread: the process ends */
            hp_rt.exit_code = (int)(g[R_RDI] & 0xff);
            hp_stats_write();
        }
        hp_unlock(&hp_rt.lock);
        return sc_do(t, next);
    case __NR_exit_group:
        hp_rt.exit_code = (int)(g[R_RDI] & 0xff);
        hp_stats_write();
        return sc_do(t, next);
    case __NR_clone:
        return sc_clone(t, pc, next, g[R_RDI], g[R_RSI]);
    case __NR_clone3: {
        const uint64_t *args = (const uint64_t *)g[R_RDI];  /* struct clone_args */
        if (g[R_RSI] < 64) return sc_do(t, next);          /* let the kernel refuse it */
        return sc_clone(t, pc, next, args[0], args[5] ? args[5] + args[6] : 0);
    }
    case __NR_vfork:
        return sc_clone(t, pc, next, CLONE_VM | CLONE_VFORK, 0);
    case __NR_fork:
        return sc_clone(t, pc, next, 0, 0);
    case __NR_execve:
    case __NR_execveat:
        hp_stats_write();
        if (!hp_rt.opts.follow_exec) return sc_exec_native(t, next, nr == __NR_execveat ? R_R10 : R_RDX);
        return sc_do(t, next);
    case __NR_rt_sigaction:
        g[R_RAX] = (uint64_t)signals_sigaction(t, (int)g[R_RDI], (const void *)g[R_RSI],
                                               (void *)g[R_RDX], g[R_R10]);
        g[R_RCX] = next;
        g[R_R11] = t->rflags;
        return next;
    case __NR_rt_sigreturn:
        return signals_sigreturn(t);
    case __NR_sigaltstack:
        g[R_RAX] = (uint64_t)signals_sigaltstack(t, (const void *)g[R_RDI], (void *)g[R_RSI]);
        g[R_RCX] = next;
        g[R_R11] = t->rflags;
        return next;
    case __NR_arch_prctl:
        if (g[R_RDI] == ARCH_SET_GS || g[R_RDI] == ARCH_GET_GS) break;
        return sc_do(t, next);
    case __NR_madvise: {             /* these give pages their file's bytes, zeros or faults */
        uint64_t lo = g[R_RDI], len = g[R_RSI], advice = g[R_RDX];
        sc_do(t, next);                  /* (an error may come after part of the range changed:
                                            ENOMEM for a hole; so whatever it returns) */
        if (advice == MADV_DONTFORK || advice == MADV_WIPEONFORK) hp_rt.no_fold_data = 1;
        if (advice == MADV_DONTNEED || advice == MADV_FREE || advice == MADV_REMOVE ||
            advice == SC_MADV_DONTNEED_LOCKED || advice == SC_MADV_GUARD_INSTALL ||
            advice == MADV_DONTFORK || advice == MADV_WIPEONFORK)
            sc_bytes_changed(t, lo, len);
        return next;
    }
    case __NR_process_madvise:       /* its ranges are in the app's iovec: everything */
        sc_do(t, next);
        sc_all_changed(t);
        return next;
    case __NR_io_uring_setup:        /* a ring can madvise, and write memory, unseen */
        hp_rt.no_fold_data = 1;
        return sc_do(t, next);
    case __NR_munmap:
    case __NR_pkey_mprotect:
    case __NR_mprotect: {            /* (whatever it returns: an error may come after part of
                                        the range changed, EACCES on a shared page further on) */
        uint64_t lo = g[R_RDI], len = g[R_RSI];
        sc_do(t, next);
        sc_code_changed(t, lo, len);
        return next;
    }
    case __NR_mremap: {              /* the old range, and the new one it may land on (moving
                                        several mappings may fail partway: whatever it returns) */
        uint64_t lo = g[R_RDI], len = g[R_RSI], nlen = g[R_RDX], flags = g[R_R10], to = g[R_R8];
        sc_do(t, next);
        sc_code_changed(t, lo, len);
        if (!sys_is_err((long)g[R_RAX]) && g[R_RAX] != lo) sc_code_changed(t, g[R_RAX], nlen);
        if (flags & SC_MREMAP_FIXED) sc_code_changed(t, to, nlen);
        return next;
    }
    case __NR_shmat:                 /* SHM_REMAP replaces what was mapped there */
        sc_do(t, next);
        if (!sys_is_err((long)g[R_RAX]) && (g[R_RDX] & SC_SHM_REMAP)) sc_all_changed(t);
        return next;
    case __NR_mmap: {                /* (a failed MAP_FIXED may have unmapped the old) */
        uint64_t lo = g[R_RDI], len = g[R_RSI], flags = g[R_R10];
        sc_do(t, next);
        if (flags & MAP_FIXED) sc_code_changed(t, lo, len);
        return next;
    }
    case __NR_shmdt:
        sc_do(t, next);
        sc_all_changed(t);
        return next;
    default:
        return sc_do(t, next);
    }
    hp_detach(t, pc, "system call not supported yet", pc);
    return 0;
}
