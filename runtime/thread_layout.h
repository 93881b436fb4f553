/* thread_layout.h — byte offsets of the per-thread state (hp_thread_t) that the assembly and
 * the code emitted into the cache reach through the gs segment base.
 * Invariant: gs base == address of the thread's hp_thread_t for every thread under hotpath;
 * the app never uses gs (an instruction that does makes hotpath detach). thread.h checks
 * every offset against the C struct with static asserts. Usable from C and from .S files. */
#ifndef HOTPATH_THREAD_LAYOUT_H
#define HOTPATH_THREAD_LAYOUT_H

#define T_SELF          0x000  /* hp_thread_t *: the struct's own address */
#define T_SPILL_RAX     0x008  /* app rax while cache code or an exit stub borrows rax */
#define T_SPILL_RCX     0x010  /* app rcx while an indirect branch computes its target */
#define T_SPILL_RDX     0x018  /* app rdx inside the indirect lookup */
#define T_EXIT_REC      0x020  /* hp_link_t * of the exit that entered the dispatcher */
#define T_ENTRY_PC      0x028  /* where hp_cache_enter jumps: cache pc, or app pc on detach */
#define T_IBL_TARGET    0x030  /* app target of an indirect branch that missed the table */
#define T_IBL_TABLE     0x038  /* hp_ibl_entry_t *: the shared indirect lookup table */
#define T_IBL_TTABLE    0x040  /* hp_ibl_entry_t *: the lookup table of traces' exits (traces only) */
#define T_IBL_JMP       0x048  /* scratch: the cache pc an indirect lookup hit jumps to */
#define T_EXIT_ROUTINE  0x050  /* address of hp_cache_exit */
#define T_IBL_REC       0x058  /* hp_link_t * used by indirect-lookup misses */
#define T_RT_STACK      0x060  /* top of this thread's runtime stack (16-byte aligned) */
#define T_XSAVE_AREA    0x068  /* 64-byte aligned XSAVE area for app SIMD state */
#define T_IBL_COUNT     0x070  /* indirect branches executed through the in-cache lookup */
#define T_PENDING       0x078  /* nonzero: signals wait to be delivered (signals.c) */
#define T_CLONE_MASK    0x080  /* the signal mask a clone child sets once gs is its own */
#define T_IBL_TREC      0x0a0  /* hp_link_t * used by misses of the traces' lookup table */

#define T_CTX           0x100  /* app general registers, hardware order rax..r15 */
#define T_CTX_RSP       (T_CTX + 4 * 8)
#define T_CTX_FLAGS     0x180  /* app rflags */
#define T_CTX_RIP       0x188  /* app pc, when the dispatcher knows it */
#define T_PROMO         0x190  /* 8 slots: app values of registers a promoted loop borrows */
#define T_PROMO_X       0x1d0  /* 8 x 16 bytes: app values of xmm registers a promoted loop borrows */
#define T_TRIP          0x250  /* T_TRIP_SLOTS x 16 bytes: a counted loop trace's entries and */
#define T_TRIP_SLOTS    64     /*   rounds left (traces/trace_trip.c, optimizer/ir_emit.c) */

#endif
