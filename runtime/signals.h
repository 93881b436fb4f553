/* signals.h — app signal handlers run under hotpath, with the app's view of every signal:
 * its handlers, the interrupted app pc and registers, its masks. */
#ifndef HOTPATH_SIGNALS_H
#define HOTPATH_SIGNALS_H
#include "runtime.h"

/* signals_init: the first thread's table of app actions; take SIGTRAP (single-stepping
 * out of mangled code) and the --detach-after-ms timer. Once, at takeover. */
hp_status_t signals_init(hp_thread_t *t) HP_HIDDEN;

/* signals_table_copy: a new table of app actions, a copy of `from` (NULL: empty, to be
 * read from the kernel). For a child that shares memory but not handlers (vfork). */
hp_sigtab_t *signals_table_copy(const hp_sigtab_t *from) HP_HIDDEN;

/* signals_sigaction: rt_sigaction on the app's behalf: the app's action is recorded, the
 * kernel gets hotpath's handler for it. Returns what the kernel would (0 or -errno). */
long signals_sigaction(hp_thread_t *t, int sig, const void *act, void *oact, uint64_t setsize) HP_HIDDEN;

/* signals_deliver: deliver the thread's pending signals: build the app's signal frame on
 * the app stack (or its alternate stack) for the context in t interrupted at app pc `pc`,
 * and return the app pc to go on at (a handler, or pc when nothing is to be delivered).
 * A signal whose action is the default one ends the process as natively. */
uint64_t signals_deliver(hp_thread_t *t, uint64_t pc) HP_HIDDEN;

/* signals_sigreturn: rt_sigreturn from a frame signals_deliver built: restore the app
 * context (registers, flags, SIMD state, mask) and return the app pc to go on at. */
uint64_t signals_sigreturn(hp_thread_t *t) HP_HIDDEN;

/* signals_detached: thread t has gone native (hp_detach; the dispatcher delivers the
 * signals it had caught, as frames the app's handlers return from natively): the app's
 * alternate stack goes back into the kernel, and once every thread is native the app's own
 * actions do too, so no hotpath code runs any more. Once per thread. */
void signals_detached(hp_thread_t *t) HP_HIDDEN;

/* signals_thread_start: on the thread itself, before it runs app code: hotpath's own
 * signal stack (the app's alternate stack is emulated), so hotpath's handler never writes
 * over a frame the app has on its alternate stack. */
void signals_thread_start(hp_thread_t *t) HP_HIDDEN;

/* signals_sigaltstack: sigaltstack on the app's behalf (the app's stack is recorded). */
long signals_sigaltstack(hp_thread_t *t, const void *ss, void *old) HP_HIDDEN;

/* signals_sample_start / stop: with --stats-json, a timer on the thread's CPU time
 * interrupts it every millisecond and counts where it was (trace, block, runtime). */
void signals_sample_start(hp_thread_t *t) HP_HIDDEN;
void signals_sample_stop(hp_thread_t *t) HP_HIDDEN;

#endif
