/* takeover.c — the preload constructor's C half: read the options, set up the runtime and
 * the first thread, and hand the caller's context to the dispatcher.
 * Invariants: until hp_takeover_c returns 1 nothing of the app's state has changed (a 0
 * return runs the app natively); after it, gs points at the thread state and every app
 * instruction runs from the cache. libc is not called here either. */
#include <asm/prctl.h>
#include <sys/mman.h>
#include "runtime.h"
#include "builder.h"
#include "fmt.h"
#include "heap.h"
#include "ibl.h"
#include "maps.h"
#include "syscalls.h"
#include "threads.h"
#include "signals.h"
#include "sys.h"

hp_runtime_t hp_rt;

extern char hp_takeover_entry[] HP_HIDDEN;
int hp_takeover_c(uint64_t *image) HP_HIDDEN;

static void tk_cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* tk_xsave_setup: the XSAVE mask and area size for this CPU; 0 if XSAVE is unusable. */
static int tk_xsave_setup(void)
{
    uint32_t r[4];
    tk_cpuid(1, 0, r);
    if (!(r[2] & (1u << 27))) return 0;               /* OSXSAVE */
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    /* The state a signal frame holds, as the kernel sizes it for a process that did not ask
     * for AMX (ARCH_REQ_XCOMP_PERM): XCR0 without the tile components 17 and 18. */
    hp_rt.xsave_mask = (((uint64_t)hi << 32) | lo) & ~((1ull << 17) | (1ull << 18));
    uint32_t size = 576;                               /* legacy area and header */
    for (int i = 2; i < 64; i++) {
        if (!(hp_rt.xsave_mask & (1ull << i))) continue;
        tk_cpuid(0xd, (uint32_t)i, r);                 /* eax: size, ebx: offset */
        if (r[0] + r[1] > size) size = r[0] + r[1];
    }
    hp_rt.xsave_size = size;
    return 1;
}

/* tk_af: the AF bit (0x10) after one of and/or/xor/test (op 0..3) at width w (0: 8 bits,
 * 1: 32, 2: 64) of a and b, entered with AF = af. lahf/sahf only: nothing below rsp. */
static uint32_t tk_af(int op, int w, uint64_t a, uint64_t b, int af)
{
    uint64_t ax = af ? 0x1200 : 0x0200;                 /* AH: AF, and the bit that reads 1 */
#define TK_AF(insn) __asm__ volatile("sahf\n\t" insn "\n\tlahf" : "+a"(ax), "+d"(a) : "c"(b) : "cc")
    switch (op * 3 + w) {
    case 0: TK_AF("and %%cl,%%dl"); break;   case 1: TK_AF("and %%ecx,%%edx"); break;
    case 2: TK_AF("and %%rcx,%%rdx"); break; case 3: TK_AF("or %%cl,%%dl"); break;
    case 4: TK_AF("or %%ecx,%%edx"); break;  case 5: TK_AF("or %%rcx,%%rdx"); break;
    case 6: TK_AF("xor %%cl,%%dl"); break;   case 7: TK_AF("xor %%ecx,%%edx"); break;
    case 8: TK_AF("xor %%rcx,%%rdx"); break; case 9: TK_AF("test %%cl,%%dl"); break;
    case 10: TK_AF("test %%ecx,%%edx"); break;
    default: TK_AF("test %%rcx,%%rdx"); break;
    }
#undef TK_AF
    return (uint32_t)(ax >> 8) & 0x10;
}

int cpu_logic_af_fixed(void)
{
    uint32_t r[4];
    tk_cpuid(0x80000000u, 0, r);
    if (r[0] < 0x80000001u) return 0;
    tk_cpuid(0x80000001u, 0, r);
    if (!(r[2] & 1)) return 0;                          /* no lahf/sahf in 64-bit mode */
    static const uint64_t v[][2] = { { 1, 0xf }, { 8, 8 }, { 0xff, 1 }, { 0, 0 }, { 0x1f, 0x11 },
                                     { 0x8000000f, 0x80000001 }, { ~0ull, 0x10 } };
    uint32_t first = tk_af(0, 0, v[0][0], v[0][1], 0);
    for (int op = 0; op < 4; op++)
        for (int w = 0; w < 3; w++)
            for (int k = 0; k < (int)(sizeof(v) / sizeof(v[0])); k++)
                for (int af = 0; af < 2; af++)
                    if (tk_af(op, w, v[k][0], v[k][1], af) != first) return 0;
    return 1;
}

/* tk_cpu_features: what emitted code may use beyond x86-64: BMI2 (the trace checks' rorx,
 * optimizer/ir_emit.c); whether logical instructions leave AF the same whatever they
 * find (pass_flagcheck.c computes their flags again with a test). */
static void tk_cpu_features(void)
{
    uint32_t r[4];
    hp_rt.cpu_logic_af = cpu_logic_af_fixed();
    tk_cpuid(0, 0, r);
    if (r[0] < 7) return;
    tk_cpuid(7, 0, r);
    hp_rt.cpu_bmi2 = (r[1] >> 8) & 1;                  /* ebx bit 8: BMI2 */
}

/* tk_options: HOTPATH_OPTIONS from envp; 0 on a bad option (the app then runs natively). */
static int tk_options(char **envp)
{
    hp_options_default(&hp_rt.opts);
    for (char **e = envp; e && *e; e++) {
        if (!hp_strneq(*e, "HOTPATH_OPTIONS=", 16)) continue;
        char bad[64];
        if (hp_options_parse_string(&hp_rt.opts, *e + 16, bad, sizeof(bad)) != HP_OK) {
            fmt_buf_t b;
            char msg[128];
            fmt_init(&b, msg, sizeof(msg));
            fmt_str(&b, "hotpath: unknown or malformed option in HOTPATH_OPTIONS: ");
            fmt_str(&b, bad);
            fmt_str(&b, "\n");
            sys_write(2, msg, hp_strlen(fmt_cstr(&b)));
            return 0;
        }
    }
    return 1;
}

int hp_takeover_c(uint64_t *image)
{
    char **envp = (char **)image[R_RDX];
    hp_rt.exit_code = -1;
    if (!tk_options(envp)) return 0;
    if (hp_rt.opts.max_trace_blocks < 1) hp_rt.opts.max_trace_blocks = 1;
    if (hp_rt.opts.threshold < 1) hp_rt.opts.threshold = 1;
    uint64_t gs = 1;
    if (sys_arch_prctl(ARCH_GET_GS, (unsigned long)&gs) != 0 || gs != 0) {
        hp_note("the program already uses gs: running natively", 0, 0);
        return 0;
    }
    if (!tk_xsave_setup()) {
        hp_note("no usable XSAVE: running natively", 0, 0);
        return 0;
    }
    tk_cpu_features();
    if (maps_refresh() != HP_OK ||
        maps_object_range((uint64_t)hp_takeover_entry, &hp_rt.self_start, &hp_rt.self_end) != HP_OK) {
        hp_note("cannot read /proc/self/maps: running natively", 0, 0);
        return 0;
    }
    hp_thread_t *t = threads_new();
    if (!t) {
        hp_note("out of memory at start: running natively", 0, 0);
        return 0;
    }
    builder_init();
    syscalls_init();
    if (signals_init(t) != HP_OK) {
        hp_note("out of memory at start: running natively", 0, 0);
        return 0;
    }
    hp_rt.ibl_link.kind = LINK_INDIRECT;
    hp_rt.ibl_trace_link.kind = LINK_INDIRECT;
    t->tid = (int)sys_gettid();
    t->start_link.target = image[17];
    hp_memcpy(t->gpr, image, 16 * sizeof(uint64_t));
    t->gpr[R_RSP] = (uint64_t)(image + 18);        /* as after our ret */
    t->rflags = image[16];
    t->rip = image[17];
    t->exit_rec = &t->start_link;
    if (sys_arch_prctl(ARCH_SET_GS, (unsigned long)t) != 0) {
        hp_note("cannot set the gs base: running natively", 0, 0);
        return 0;
    }
    return 1;
}
