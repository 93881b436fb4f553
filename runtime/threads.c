/* threads.c — per-thread runtime state and the registry of all of them.
 * Invariants: a thread's hp_thread_t, runtime stack and XSAVE area stay valid until the
 * kernel has forgotten its tid (the exit system call runs on that stack), so an exited
 * thread's state is only reused after tgkill(pid, tid, 0) says ESRCH. The registry is
 * changed only under hp_rt.lock. Memory is bounded by the largest number of threads alive
 * at once, not by how many were ever created. */
#include <errno.h>
#include <sys/mman.h>
#include "threads.h"
#include "heap.h"
#include "ibl.h"
#include "sys.h"

#define RT_STACK_SIZE (256 * 1024)

enum { TH_LIVE = 1, TH_ZOMBIE = 2, TH_FREE = 3 };

static hp_thread_t *th_all;
static uint64_t th_serial;             /* hp_thread_t.serial of the last state handed out */
static int th_live_count;

static int th_gone(const hp_thread_t *t)
{
    if (t->state == TH_FREE) return 1;
    if (t->state != TH_ZOMBIE || !t->tid) return 0;
    return sys_call3(__NR_tgkill, sys_getpid(), t->tid, 0) == -ESRCH;
}

static hp_thread_t *th_alloc(void)
{
    hp_thread_t *t = heap_alloc(sizeof(*t));
    uint8_t *xs = heap_alloc(hp_rt.xsave_size + 64);
    uint8_t *stack = sys_mmap(0, RT_STACK_SIZE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!t || !xs || sys_is_err((long)stack)) return 0;
    t->xsave_area = (uint8_t *)(((uint64_t)xs + 63) & ~63ull);
    t->rt_stack_base = stack;
    t->rt_stack = (uint64_t)stack + RT_STACK_SIZE;
    t->next = th_all;
    th_all = t;
    return t;
}

hp_thread_t *threads_new(void)
{
    hp_thread_t *t = th_all;
    while (t && !th_gone(t)) t = t->next;
    if (t) {                           /* reuse: keep the stack, the XSAVE area, the count */
        uint64_t count = t->ibl_count;
        uint8_t *xs = t->xsave_area, *stack = t->rt_stack_base;
        uint64_t *rec = t->rec;
        uint32_t *rec_len = t->rec_len;
        uint8_t *sig_stack = t->sig_stack;
        size_t at = __builtin_offsetof(hp_thread_t, next) + sizeof(t->next);
        /* clear all but `next`: a registry walk in a signal handler may be on it */
        hp_memset(t, 0, __builtin_offsetof(hp_thread_t, next));
        hp_memset((char *)t + at, 0, sizeof(*t) - at);
        t->rec = rec;
        t->rec_len = rec_len;
        t->sig_stack = sig_stack;
        t->ibl_count = count;
        t->xsave_area = xs;
        t->rt_stack_base = stack;
        t->rt_stack = (uint64_t)stack + RT_STACK_SIZE;
        hp_memset(t->xsave_area, 0, 64 + 512);   /* legacy area and header: a valid image */
    } else if (!(t = th_alloc())) {
        return 0;
    }
    t->self = t;
    t->exit_routine = (uint64_t)hp_cache_exit;
    t->ibl_rec = &hp_rt.ibl_link;
    t->ibl_trec = &hp_rt.ibl_trace_link;
    t->start_link.kind = LINK_START;
    t->resume_link.kind = LINK_RESUME;
    t->state = TH_LIVE;
    if (ibl_init(t) != HP_OK) return 0;
    th_live_count++;
    hp_rt.stats.threads_seen++;
    t->serial = ++th_serial;                 /* (caller holds the lock, or is the only one) */
    return t;
}

void threads_exit(hp_thread_t *t)
{
    if (t->state != TH_LIVE) return;
    t->state = TH_ZOMBIE;
    th_live_count--;
}

void threads_discard(hp_thread_t *t)
{
    if (t->state == TH_LIVE) {
        th_live_count--;
        if (t->detach_done)                  /* (a vfork child that detached) */
            __atomic_sub_fetch(&hp_rt.ndetached, 1, __ATOMIC_ACQ_REL);
    }
    t->state = TH_FREE;
}

int threads_live(void) { return th_live_count; }

void threads_in_fork_child(hp_thread_t *self)
{
    self->tid = (int)sys_gettid();
    self->npend = 0;
    self->pending = 0;
    self->pend_base_ok = 0;
    self->sample_timer = 0;
    self->started = 0;
    th_live_count = 1;
    hp_rt.ndetached = 0;                     /* the parent's threads are not this process's, */
    hp_rt.detaching = 0;                     /* nor its --detach-after-ms timer */
    for (hp_thread_t *t = th_all; t; t = t->next)
        if (t != self) t->state = TH_FREE;
}

void threads_trip_out(int s)
{
    for (hp_thread_t *t = th_all; t; t = t->next) t->trip[s][0] = t->trip[s][1] = 0;
}

uint64_t threads_ibl_count(void)
{
    uint64_t n = 0;
    for (hp_thread_t *t = th_all; t; t = t->next) n += t->ibl_count;
    return n;
}

void threads_signal_others(hp_thread_t *self, int sig)
{
    long pid = sys_getpid();
    for (hp_thread_t *t = __atomic_load_n(&th_all, __ATOMIC_ACQUIRE); t; t = t->next)
        if (t != self && t->state == TH_LIVE && t->tid && !t->detached)
            sys_call3(__NR_tgkill, pid, t->tid, sig);
}

void threads_snapshot_dispatches(void)
{
    for (hp_thread_t *t = th_all; t; t = t->next)
        t->flush_snap = __atomic_load_n(&t->dispatches, __ATOMIC_RELAXED);
}

int threads_all_dispatched_since(void)
{
    for (hp_thread_t *t = th_all; t; t = t->next) {
        if (t->state != TH_LIVE || t->detached) continue;
        if (__atomic_load_n(&t->dispatches, __ATOMIC_RELAXED) == t->flush_snap) return 0;
    }
    return 1;
}
