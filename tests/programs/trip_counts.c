/* trip_counts.c — loops whose trip counts hotpath measures before promoting them
 * (traces/trace_trip.c), built with -O0 so their locals are stack slots promotion wants:
 * a search that mostly ends in its first round, short inner loops whose traces close over
 * their outer loops (promoted whole), loops of hundreds of rounds, and fannkuch's, whose
 * count reset and rotation loops go round less than once an entry (peeled). Each phase
 * runs under a 50 us SIGPROF timer whose handler changes a global the loops read (to no
 * effect on their results), so signals land in the counters, the counted
 * traces and the rebuilt ones; then a fork child runs the phases with the parent's
 * decisions, then a second thread (traces are flushed: promoted and counted ones are one
 * thread's) runs them beside the first. Every result is printed: a counter that disturbed
 * a register, a flag or a slot shows as a different sum. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile int bias;

static void on_prof(int sig)
{
    (void)sig;
    bias ^= 1;
}

static int table[64];

static int find(int x)             /* a search that mostly ends in its first round */
{
    for (int i = 0; i < 64; i++)
        if (table[i] == x) return i;
    return -1;
}

static long rare(int n)            /* find's loop: no way round for 15 calls in 16 (peeled) */
{
    long sum = 0;
    for (int i = 0; i < n; i++) sum += find((i & 15) == 0 ? table[4] : table[0]) + (bias & 0);
    return sum;
}

static long about_once(int n)      /* 0, 1 or 2 rounds an entry */
{
    long sum = 0;
    for (int i = 0; i < n; i++) {
        int k = i % 3;
        for (int j = 0; j < k; j++) sum ^= (long)(j + 1) * (i + 7);
    }
    return sum;
}

static long long_rounds(int n)     /* hundreds of rounds an entry */
{
    long sum = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < 300; j++) sum += (j ^ i) & 15;
    return sum;
}

static long flips(int n, long perms)  /* fannkuch: loops of one round an entry or none */
{                                    /* (the count reset, the rotation), and long ones */
    int perm[16], perm1[16], count[16];
    int checksum = 0, r = n;
    long permcount = 0;
    for (int i = 0; i < n; i++)
        perm1[i] = i;
    for (;;) {
        for (; r != 1; r--)
            count[r - 1] = r;
        for (int i = 0; i < n; i++)
            perm[i] = perm1[i];
        int f = 0, k;
        while ((k = perm[0]) != 0) {
            for (int i = 0, j = k; i < j; i++, j--) {
                int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
            }
            f++;
        }
        checksum += (permcount % 2 == 0) ? f : -f;
        for (;;) {
            if (r == n || permcount + 1 == perms) return checksum;
            int p0 = perm1[0];
            for (int i = 0; i < r; i++)
                perm1[i] = perm1[i + 1];
            perm1[r] = p0;
            if (--count[r] > 0)
                break;
            r++;
        }
        permcount++;
    }
}

static void phases(const char *who, int scale)
{
    printf("%s: rare %ld, about once %ld, long %ld, flips %ld\n", who, rare(200000 * scale),
           about_once(200000 * scale), long_rounds(2000 * scale), flips(9, 100000L * scale));
    fflush(stdout);
}

static void *other(void *p)
{
    (void)p;
    phases("thread", 1);
    return 0;
}

int main(void)
{
    for (int i = 0; i < 64; i++) table[i] = i * 7 + 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_prof;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPROF, &sa, 0);
    struct itimerval it = { { 0, 50 }, { 0, 50 } };
    setitimer(ITIMER_PROF, &it, 0);
    phases("first", 1);
    phases("again", 3);
    pid_t pid = fork();
    if (pid == 0) {
        phases("child", 2);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    printf("child exit %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    pthread_t th;
    pthread_create(&th, 0, other, 0);
    pthread_join(th, 0);
    phases("after", 1);
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    setitimer(ITIMER_PROF, &off, 0);
    return 0;
}
