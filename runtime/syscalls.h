/* syscalls.h — the system calls the runtime must see (the cache runs all others inline). */
#ifndef HOTPATH_SYSCALLS_H
#define HOTPATH_SYSCALLS_H
#include "runtime.h"

/* hp_syscall_table[n & 0xffff] != 0: syscall n leaves the cache for syscalls_handle. */
extern uint8_t hp_syscall_table[65536] HP_HIDDEN;

/* syscalls_init: fill hp_syscall_table. */
void syscalls_init(void) HP_HIDDEN;

/* syscalls_handle: the app executed the syscall at link->target with its registers in t.
 * Performs (or refuses) it as the kernel would and returns the app pc to go on at; returns
 * 0 after detaching the thread (t->entry_pc is then set). */
uint64_t syscalls_handle(hp_thread_t *t, const hp_link_t *link) HP_HIDDEN;

#endif
