/* sig_segv_longjmp — a SIGSEGV handler installed with SA_SIGINFO checks that si_addr is the
 * address the program deliberately touched (a PROT_NONE page, a read-only page, an unmapped
 * page, a low address) and that si_code tells a mapping error from an access error, then
 * siglongjmps out. Done many times, from a hot loop too; the signal mask saved by sigsetjmp
 * is restored each time, so SIGSEGV is not left blocked. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static volatile uintptr_t expected_addr;
static volatile int addr_ok, last_code, faults;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    faults++;
    addr_ok = sig == SIGSEGV && (uintptr_t)si->si_addr == expected_addr;
    last_code = si->si_code;
    siglongjmp(env, 1);
}

static const char *code_name(int c)
{
    return c == SEGV_MAPERR ? "SEGV_MAPERR" : c == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
}

/* touch: reads (write=0) or writes one byte at p; returns 1 if it faulted as expected. */
static __attribute__((noinline)) int touch(volatile char *p, int write, int *code)
{
    expected_addr = (uintptr_t)p;
    addr_ok = 0;
    if (sigsetjmp(env, 1) == 0) {
        if (write)
            *p = 1;
        else
            (void)*p;
        return 0;                             /* no fault */
    }
    *code = last_code;
    return addr_ok;
}

static int blocked_segv(void)
{
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, SIGSEGV);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, NULL) != 0)
        return 1;

    long pg = sysconf(_SC_PAGESIZE);
    char *area = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (area == MAP_FAILED)
        return 1;
    mprotect(area, pg, PROT_NONE);            /* page 0: no access */
    mprotect(area + pg, pg, PROT_READ);       /* page 1: read only */
    munmap(area + 3 * pg, pg);                /* page 3: unmapped */
    area[2 * pg] = 5;                         /* page 2: fine */

    struct {
        const char *what;
        volatile char *p;
        int write;
    } probes[] = {
        {"read PROT_NONE", area + 123, 0},
        {"write PROT_NONE", area + pg - 1, 1},
        {"write read-only", area + pg + 8, 1},
        {"read unmapped", area + 3 * pg + 77, 0},
        {"write low address", (volatile char *)(uintptr_t)0x18, 1},
    };
    int bad = 0;
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        int code = 0;
        int ok = touch(probes[i].p, probes[i].write, &code);
        printf("%-18s: si_addr matches: %s, %s, SIGSEGV blocked after: %s\n", probes[i].what,
               ok ? "yes" : "no", code_name(code), blocked_segv() ? "yes" : "no");
        bad |= !ok || blocked_segv();
    }
    int code = 0;
    printf("read mapped page faults: %s, value %d\n", touch(area + 2 * pg, 0, &code) ? "yes" : "no",
           area[2 * pg]);

    /* Many faults from a hot loop, alternating addresses. */
    int ok_count = 0;
    for (int i = 0; i < 2000; i++)
        ok_count += touch(area + (i % 2 ? 0 : 3 * pg) + (i * 13) % pg, i % 3 == 0, &code);
    printf("hot loop: %d of 2000 faults as expected, %d faults in all\n", ok_count, faults);
    bad |= ok_count != 2000;
    return bad ? 1 : 31;
}
