/* flagcheck_switch — hot dispatch loops whose indirect branch `jmp/call *%rax` is reached
 * with flags its targets read (lahf, seto). Under hotpath, pass_flagcheck checks the
 * recorded target with `cmp`, which overwrites the flags; they must be computed again on
 * the hit path and on the miss path (another target), as natively:
 *  - A: the flags come from the jump table's `add %rdx,%rax` (gcc's switch), re-run after
 *    its inverse;
 *  - B: from `cmp %r8,%r10` of data that changes every round, re-run;
 *  - C: as B, but the recorded target writes the flags first (the hit path leaves them
 *    stale up to that write; the other targets read them);
 *  - D: as B through `call *%rax`, targets that return;
 *  - E: from `or %r8,%r10` (CPython's dispatch: hotpath tests the result again, where the
 *    CPU leaves AF, undefined after both, at one value).
 * Each target folds the flags it sees into a checksum (printed: compared with native).
 * SIGPROF, every tick of CPU time, until 20 signals land at the branch or at a target's
 * first instruction of loops B..E (or 40000 rounds): the context's flags there must be
 * those of the cmp (r8, r10 are in the context), or of the or (E: r10 is its result); none
 * landing there fails too (the check would have checked nothing). Exit status 65 when every check held. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <ucontext.h>

#define N 4096
#define FLAGS_MASK 0x8d5ul           /* OF SF ZF AF PF CF */

extern const char fa_loop[], fa_t0[], fa_t1[], fa_t2[], fa_t3[];
extern const char fb_loop[], fb_jmp[], fb_t0[], fb_t1[], fb_t2[], fb_t3[], fb_end[];
extern const char fc_loop[], fc_jmp[], fc_t0[], fc_t1[], fc_t2[], fc_t3[], fc_end[];
extern const char fd_loop[], fd_jmp[], fd_t0[], fd_t1[], fd_t2[], fd_t3[], fd_end[];
extern const char fe_loop[], fe_jmp[], fe_t0[], fe_t1[], fe_t2[], fe_t3[], fe_end[];

static unsigned char idx[N];
static unsigned long va[N], vb[N];
static volatile long alarms, checked, bad;
static unsigned long or_af;                 /* AF after an or on this CPU (undefined) */

/* the status flags of `cmp %r8,%r10` (r10 - r8) */
static unsigned long cmp_flags(unsigned long r10, unsigned long r8)
{
    unsigned long res = r10 - r8, f = 0;
    if (r10 < r8) f |= 1;                                            /* CF */
    if (!__builtin_parityl(res & 0xff)) f |= 4;                      /* PF: even */
    if ((r10 ^ r8 ^ res) & 0x10) f |= 0x10;                          /* AF */
    if (!res) f |= 0x40;                                             /* ZF */
    if ((long)res < 0) f |= 0x80;                                    /* SF */
    if (((r10 ^ r8) & (r10 ^ res)) >> 63) f |= 0x800;                /* OF */
    return f;
}

/* the status flags of `or %r8,%r10` (result r10) */
static unsigned long or_flags(unsigned long res)
{
    unsigned long f = or_af;
    if (!__builtin_parityl(res & 0xff)) f |= 4;
    if (!res) f |= 0x40;
    if ((long)res < 0) f |= 0x80;
    return f;
}

static void on_prof(int sig, siginfo_t *si, void *ucv)
{
    (void)sig; (void)si;
    ucontext_t *uc = ucv;
    const char *rip = (const char *)uc->uc_mcontext.gregs[REG_RIP];
    const char *at[] = { fb_jmp, fb_t0, fb_t1, fb_t2, fb_t3, fc_jmp, fc_t0, fc_t1, fc_t2, fc_t3,
                         fd_jmp, fd_t0, fd_t1, fd_t2, fd_t3 };
    const char *ate[] = { fe_jmp, fe_t0, fe_t1, fe_t2, fe_t3 };
    unsigned long r10 = (unsigned long)uc->uc_mcontext.gregs[REG_R10];
    unsigned long fl = (unsigned long)uc->uc_mcontext.gregs[REG_EFL] & FLAGS_MASK;
    if (rip >= fe_loop && rip < fe_end) {
        alarms++;
        for (unsigned k = 0; k < sizeof(ate) / sizeof(ate[0]); k++)
            if (rip == ate[k]) {
                checked++;
                if (fl != or_flags(r10)) bad++;
            }
        return;
    }
    if (!((rip >= fb_loop && rip < fb_end) || (rip >= fc_loop && rip < fc_end) ||
          (rip >= fd_loop && rip < fd_end)))
        return;
    alarms++;
    for (unsigned k = 0; k < sizeof(at) / sizeof(at[0]); k++)
        if (rip == at[k]) {
            checked++;
            if (fl != cmp_flags(r10, (unsigned long)uc->uc_mcontext.gregs[REG_R8])) bad++;
        }
}

/* the flags a target sees, folded into rbx: lahf (SF ZF AF PF CF), seto (OF) */
#define FOLD(mul) "lahf\n\tseto %%cl\n\tmovzbl %%ah,%%edx\n\tmovzbl %%cl,%%ecx\n\tshl $8,%%ecx\n\t" \
                  "or %%ecx,%%edx\n\timul $" #mul ",%%rbx,%%rbx\n\tadd %%rdx,%%rbx\n\t"

__attribute__((noinline)) static unsigned long run_a(void)
{
    unsigned long acc = 1;
    __asm__ volatile(
        "xor %%r9d,%%r9d\n"
        ".globl fa_loop\nfa_loop:\n\t"
        "movzbl (%[idx],%%r9),%%eax\n\t"
        "lea fa_tab(%%rip),%%rdx\n\t"
        "movslq (%%rdx,%%rax,4),%%rax\n\t"
        "add %%rdx,%%rax\n\t"
        "jmp *%%rax\n"
        ".globl fa_t0\nfa_t0:\n\t" FOLD(3) "jmp 1f\n"
        ".globl fa_t1\nfa_t1:\n\t" FOLD(5) "jmp 1f\n"
        ".globl fa_t2\nfa_t2:\n\t" FOLD(7) "jmp 1f\n"
        ".globl fa_t3\nfa_t3:\n\t" FOLD(11) "\n"
        "1:\n\tinc %%r9\n\tcmp $" "4096" ",%%r9\n\tjb fa_loop\n\t"
        ".pushsection .rodata\n\t.p2align 2\n"
        "fa_tab:\n\t.long fa_t0-fa_tab, fa_t1-fa_tab, fa_t2-fa_tab, fa_t3-fa_tab\n\t.popsection\n"
        : "+b"(acc)
        : [idx] "r"(idx)
        : "rax", "rcx", "rdx", "r9", "cc", "memory");
    return acc;
}

/* B, C, D: r8 = va[i], r10 = vb[i], rax = the target, then cmp %r8,%r10 ; branch
 * (E: or %r8,%r10) */
#define HEAD(L) HEAD_OP(L, "cmp")
#define HEAD_OP(L, op) \
        "xor %%r9d,%%r9d\n" \
        ".globl " #L "_loop\n" #L "_loop:\n\t" \
        "movzbl (%[idx],%%r9),%%eax\n\t" \
        "mov (%[tab],%%rax,8),%%rax\n\t" \
        "mov (%[va],%%r9,8),%%r8\n\t" \
        "mov (%[vb],%%r9,8),%%r10\n\t" \
        op " %%r8,%%r10\n" \
        ".globl " #L "_jmp\n" #L "_jmp:\n\t"
/* targets 1..3 of loop L (each folds the flags it finds), the loop's end, its operands */
#define T123(L) \
        ".globl " #L "_t1\n" #L "_t1:\n\t" FOLD(5) "jmp 1f\n" \
        ".globl " #L "_t2\n" #L "_t2:\n\t" FOLD(7) "jmp 1f\n" \
        ".globl " #L "_t3\n" #L "_t3:\n\t" FOLD(11) "\n"
#define OPERANDS \
        : "+b"(acc) \
        : [idx] "r"(idx), [tab] "r"(tab), [va] "r"(va), [vb] "r"(vb) \
        : "rax", "rcx", "rdx", "r8", "r9", "r10", "cc", "memory"
#define TAIL(L) \
        "1:\n\tinc %%r9\n\tcmp $4096,%%r9\n\tjb " #L "_loop\n" \
        ".globl " #L "_end\n" #L "_end:\n"

/* run_L: loop L of the jmp kind: W is `op %r8,%r10`, then `jmp *%rax` to target 0 (t0:
 * its code, ending in `jmp 1f`) or 1..3 */
#define JMP_LOOP(L, op, t0) \
__attribute__((noinline)) static unsigned long run_##L(const void *const *tab) \
{ \
    unsigned long acc = 1; \
    __asm__ volatile( \
        HEAD_OP(L, op) \
        "jmp *%%rax\n" \
        ".globl " #L "_t0\n" #L "_t0:\n\t" t0 \
        T123(L) \
        TAIL(L) \
        OPERANDS); \
    return acc; \
}
JMP_LOOP(fb, "cmp", FOLD(3) "jmp 1f\n")
JMP_LOOP(fc, "cmp", "add $13,%%rbx\n\t"           /* the recorded target: flags dead */ \
                    "mov %%rbx,%%rcx\n\tshr $3,%%rcx\n\txor %%rcx,%%rbx\n\tjmp 1f\n")
JMP_LOOP(fe, "or", FOLD(3) "jmp 1f\n")

__attribute__((noinline)) static unsigned long run_fd(const void *const *tab)
{
    unsigned long acc = 1;
    __asm__ volatile(
        "sub $128,%%rsp\n\t"                 /* (the calls' pushes stay off the red zone) */
        HEAD(fd)
        "call *%%rax\n\t"
        "jmp 1f\n"
        ".globl fd_t0\nfd_t0:\n\t" FOLD(3) "ret\n"
        ".globl fd_t1\nfd_t1:\n\t" FOLD(5) "ret\n"
        ".globl fd_t2\nfd_t2:\n\t" FOLD(7) "ret\n"
        ".globl fd_t3\nfd_t3:\n\t" FOLD(11) "ret\n"
        TAIL(fd)
        "add $128,%%rsp\n"
        OPERANDS);
    return acc;
}

int main(void)
{
    static const void *tb[] = { fb_t0, fb_t1, fb_t2, fb_t3 };
    static const void *tc[] = { fc_t0, fc_t1, fc_t2, fc_t3 };
    static const void *td[] = { fd_t0, fd_t1, fd_t2, fd_t3 };
    static const void *te[] = { fe_t0, fe_t1, fe_t2, fe_t3 };
    unsigned long ax = 0x1200, o = 1;
    __asm__ volatile("sahf\n\tor $0xf,%1\n\tlahf" : "+a"(ax), "+r"(o) : : "cc");
    or_af = ax >> 8 & 0x10;
    unsigned long x = 0x9e3779b97f4a7c15ul, sum = 0;
    for (int i = 0; i < N; i++) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        idx[i] = (unsigned char)(i % 7 == 3 ? 1 + (i / 7) % 3 : 0);   /* mostly target 0 */
        va[i] = x;
        vb[i] = i % 5 == 0 ? x : i % 5 == 1 ? x + 1 : i % 5 == 2 ? x ^ (1ul << 63) : x * 3;
    }
    for (int r = 0; r < 100; r++)                                     /* hot: traces */
        sum = sum * 31 + run_a() + 3 * run_fb(tb) + 5 * run_fc(tc) + 7 * run_fd(td) + 9 * run_fe(te);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_prof;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigaction(SIGPROF, &sa, 0);
    struct itimerval it = { { 0, 50 }, { 0, 50 } };
    setitimer(ITIMER_PROF, &it, 0);
    for (long r = 0; r < 40000 && checked < 20; r++) { run_fb(tb); run_fc(tc); run_fd(td); run_fe(te); }
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_PROF, &off, 0);
    if (getenv("FC_DEBUG")) fprintf(stderr, "%ld alarms, %ld checked, %ld wrong\n", alarms, checked, bad);
    printf("flagcheck_switch sum=%lu ok=%d\n", sum, !bad && checked > 0);
    return bad || !checked ? 1 : 65;
}
