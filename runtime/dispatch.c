/* dispatch.c — the dispatcher: the one loop between cache exits and cache entries.
 * Look up the next block, build it if missing, link the exit that led here, enter.
 * Invariants: runs on the runtime stack with the app context saved in t; never returns an
 * error to the cache: anything it cannot handle detaches the thread at an app pc with the
 * exact app state; the app's SIMD state is saved around the builder (Zydis, libc memset). */
#include "block_table.h"
#include "builder.h"
#include "cache.h"
#include "emit.h"
#include "fmt.h"
#include "ibl.h"
#include "syscalls.h"
#include "sys.h"

static inline void dsp_xsave(hp_thread_t *t)
{
    __asm__ volatile("xsave64 (%0)" : : "r"(t->xsave_area), "a"((uint32_t)hp_rt.xsave_mask),
                     "d"((uint32_t)(hp_rt.xsave_mask >> 32)) : "memory");
}

static inline void dsp_xrstor(hp_thread_t *t)
{
    __asm__ volatile("xrstor64 (%0)" : : "r"(t->xsave_area), "a"((uint32_t)hp_rt.xsave_mask),
                     "d"((uint32_t)(hp_rt.xsave_mask >> 32)) : "memory");
}

/* dsp_link: make exit l jump straight to block to from now on. */
static void dsp_link(hp_link_t *l, hp_block_t *to)
{
    if (l->kind != LINK_DIRECT || l->to || !hp_rt.opts.link) return;
    if (cache_reachable((uint64_t)l->branch_rel32 + 4, (uint64_t)to->cache_pc))
        emit_set_rel32(l->branch_rel32, (uint64_t)to->cache_pc);
    else
        emit_far_jmp(l->stub, (uint64_t)to->cache_pc);
    l->to = to;
    hp_rt.stats.links_made++;
}

/* dsp_build: translate the block at pc and link its exits whose targets already exist. */
static hp_block_t *dsp_build(hp_thread_t *t, uint64_t pc)
{
    hp_block_t *b = 0;
    const char *why = "";
    dsp_xsave(t);
    hp_status_t st = builder_build(pc, &b, &why);
    dsp_xrstor(t);
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

void hp_dispatch(hp_thread_t *t)
{
    hp_link_t *l = t->exit_rec;
    uint64_t pc;
    hp_rt.stats.dispatcher_entries++;
    switch (l->kind) {
    case LINK_INDIRECT:
        pc = t->ibl_target;
        hp_rt.stats.indirect_misses++;
        break;
    case LINK_SYSCALL:
        pc = syscalls_handle(t, l);
        if (!pc) return;              /* detached */
        l = 0;                        /* a flush may have freed it */
        break;
    default:
        pc = l->target;
        break;
    }
    hp_block_t *b = btab_lookup(pc);
    if (!b) {
        b = dsp_build(t, pc);
        if (!b) return;               /* detached */
    }
    if (l && l->kind == LINK_DIRECT) dsp_link(l, b);
    if (l && l->kind == LINK_INDIRECT && hp_rt.opts.ibl) {
        if (ibl_insert(t, pc, (uint64_t)b->cache_pc) != HP_OK) {
            hp_detach(t, pc, "out of memory for the lookup table", pc);
            return;
        }
    }
    t->rip = pc;
    t->entry_pc = (uint64_t)b->cache_pc;
}

void hp_detach(hp_thread_t *t, uint64_t pc, const char *reason, uint64_t where)
{
    int i = 0;
    for (; reason[i] && i < (int)sizeof(hp_rt.detach_reason) - 1; i++) hp_rt.detach_reason[i] = reason[i];
    hp_rt.detach_reason[i] = 0;
    hp_note("detaching:", reason, where);
    hp_rt.active = 0;
    t->detached = 1;
    t->rip = pc;
    t->entry_pc = pc;
    hp_stats_write();
}
