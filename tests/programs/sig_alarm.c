/* sig_alarm — setitimer(ITIMER_REAL, 1 ms) delivers SIGALRM about a thousand times a second
 * while a hot loop with many live registers runs for ~300 ms natively: each signal
 * interrupts translated code and returns into it through sigreturn. The handler counts ticks
 * and does some work of its own; the loop result must not depend on the interruptions.
 * Only "ticks > 10" is printed, the count itself depends on timing. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>

static volatile sig_atomic_t ticks;
static volatile uint64_t handler_work;

static void on_alarm(int sig)
{
    uint64_t x = (uint64_t)sig;
    for (int i = 0; i < 50; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull;
    handler_work += x & 1;    /* clobbers registers the loop may be using, natively saved */
    ticks++;
}

static __attribute__((noinline)) uint64_t hot_loop(uint64_t rounds)
{
    uint64_t a = 1, b = 2, c = 3, d = 4, e = 5, f = 6, g = 7, h = 8;
    double x = 1.0, y = 0.5;
    for (uint64_t i = 0; i < rounds; i++) {
        a += b ^ i;
        b = (b << 7 | b >> 57) + c;
        c ^= d * 0x9e3779b97f4a7c15ull;
        d += e >> 3;
        e = e * 5 + f;
        f ^= g + i;
        g += h | 1;
        h = (h >> 1) ^ (-(h & 1) & 0xd800000000000000ull) ^ a;
        x = x * 0.999999 + y;
        y = y * 0.5 + (double)(i & 3);
    }
    return a ^ b ^ c ^ d ^ e ^ f ^ g ^ h ^ (uint64_t)(x * 1000.0) ^ (uint64_t)(y * 1000.0);
}

int main(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGALRM, &sa, NULL) != 0)
        return 1;
    struct itimerval it = {{0, 1000}, {0, 1000}};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0)
        return 1;
    uint64_t r = hot_loop(110000000);
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    int enough = ticks > 10;
    uint64_t again = hot_loop(1000000);
    printf("ticks>10: %s\n", enough ? "yes" : "no");
    printf("loop result: %016llx (short run %016llx)\n", (unsigned long long)r, (unsigned long long)again);
    return enough ? 30 : 1;
}
