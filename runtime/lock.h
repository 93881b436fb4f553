/* lock.h — the runtime's mutex: a futex lock (Drepper's three states: 0 free, 1 held,
 * 2 held with waiters), so a thread waiting for the dispatcher sleeps instead of spinning.
 * Invariant: never held while the app runs or while a system call of the app blocks. */
#ifndef HOTPATH_LOCK_H
#define HOTPATH_LOCK_H
#include <linux/futex.h>
#include "sys.h"

typedef struct {
    int v;
} hp_lock_t;

static inline void hp_lock(hp_lock_t *l)
{
    int c = 0;
    if (__atomic_compare_exchange_n(&l->v, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    if (c != 2) c = __atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE);
    while (c != 0) {
        sys_call4(__NR_futex, &l->v, FUTEX_WAIT_PRIVATE, 2, 0);
        c = __atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE);
    }
}

static inline void hp_unlock(hp_lock_t *l)
{
    if (__atomic_fetch_sub(&l->v, 1, __ATOMIC_RELEASE) != 1) {
        __atomic_store_n(&l->v, 0, __ATOMIC_RELEASE);
        sys_call3(__NR_futex, &l->v, FUTEX_WAKE_PRIVATE, 1);
    }
}

#endif
