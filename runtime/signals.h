/* signals.h — app signal handlers run under hotpath, with the app's view of every signal:
 * its handlers, the interrupted app pc and registers, its masks. */
#ifndef HOTPATH_SIGNALS_H
#define HOTPATH_SIGNALS_H
#include "runtime.h"

/* signals_init: take SIGTRAP (single-stepping out of mangled code); call once at takeover. */
void signals_init(void) HP_HIDDEN;

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

#endif
