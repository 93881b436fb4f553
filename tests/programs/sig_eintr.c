/* sig_eintr — a read blocked on an empty pipe is interrupted by SIGALRM: without SA_RESTART
 * it fails with EINTR; with SA_RESTART the kernel restarts it (the first alarm only
 * interrupts, the second one writes the data from the handler, so the restarted read
 * returns it); poll is never restarted, SA_RESTART or not. The handler counts ticks, which
 * are fixed because each timer is one-shot or stopped by the handler. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static int fds[2];
static volatile sig_atomic_t ticks, write_on_tick;

static void on_alarm(int sig)
{
    (void)sig;
    ticks++;
    if (write_on_tick && ticks == write_on_tick) {
        struct itimerval off = {{0, 0}, {0, 0}};
        setitimer(ITIMER_REAL, &off, NULL);
        (void)!write(fds[1], "data", 4);
    }
}

static void install(int flags)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
}

static void arm(long first_us, long interval_us)
{
    struct itimerval it = {{0, interval_us}, {0, first_us}};
    setitimer(ITIMER_REAL, &it, NULL);
}

int main(void)
{
    int bad = 0;
    char buf[16];
    if (pipe(fds) != 0)
        return 1;

    /* 1. No SA_RESTART: EINTR. */
    install(0);
    ticks = 0;
    write_on_tick = 0;
    arm(20000, 0);
    ssize_t n = read(fds[0], buf, sizeof buf);
    int err = errno;
    printf("no SA_RESTART: read returned %zd, %s, ticks %d\n", n,
           n < 0 && err == EINTR ? "EINTR" : "not EINTR", (int)ticks);
    bad |= !(n < 0 && err == EINTR) || ticks != 1;

    /* 2. SA_RESTART: restarted after tick 1, data written on tick 2. */
    install(SA_RESTART);
    ticks = 0;
    write_on_tick = 2;
    arm(20000, 20000);
    n = read(fds[0], buf, sizeof buf);
    printf("SA_RESTART: read returned %zd \"%.*s\", ticks %d\n", n, n > 0 ? (int)n : 0, buf, (int)ticks);
    bad |= n != 4 || memcmp(buf, "data", 4) != 0 || ticks != 2;

    /* 3. poll is not restarted even with SA_RESTART. */
    ticks = 0;
    write_on_tick = 0;
    arm(20000, 0);
    struct pollfd p = {.fd = fds[0], .events = POLLIN};
    int r = poll(&p, 1, 5000);
    err = errno;
    printf("SA_RESTART poll: returned %d, %s, ticks %d\n", r, r < 0 && err == EINTR ? "EINTR" : "not EINTR",
           (int)ticks);
    bad |= !(r < 0 && err == EINTR) || ticks != 1;
    return bad ? 1 : 35;
}
