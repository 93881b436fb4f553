/* sig_mask — signal masks and handler flags: a blocked SIGUSR1 stays pending (sigpending)
 * and is delivered inside the rt_sigprocmask call that unblocks it; sa_mask and the handler's
 * own signal are blocked while it runs; SA_NODEFER lets a handler be interrupted by its own
 * signal, without it the second delivery waits; SA_RESETHAND restores SIG_DFL after one
 * delivery. Last, with threads: tgkill sends SIGUSR1 to one chosen thread and only that
 * thread's handler record changes. */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static volatile sig_atomic_t count, depth, max_depth, reraise;
static volatile sig_atomic_t saw_own_blocked, saw_usr2_blocked;

static int is_blocked(int sig)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, sig);
}

static void on_usr1(int sig)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    count++;
    saw_own_blocked = is_blocked(sig);
    saw_usr2_blocked = is_blocked(SIGUSR2);
    if (reraise) {
        reraise = 0;
        raise(sig);                           /* nested now with SA_NODEFER, else deferred */
    }
    depth--;
}

static void install(int sig, void (*fn)(int), int flags, int mask_usr2)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = fn;
    sa.sa_flags = flags;
    sigemptyset(&sa.sa_mask);
    if (mask_usr2)
        sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(sig, &sa, NULL);
}

static const char *yes_no(int b) { return b ? "yes" : "no"; }

/* ---- per-thread delivery ---- */
#define NTHREADS 4
static __thread int my_index = 0;             /* 0: the main thread */
static volatile sig_atomic_t handled_by[NTHREADS + 1];
static volatile pid_t tids[NTHREADS + 1];
static volatile int ready, done;

static void on_usr1_record(int sig)
{
    (void)sig;
    handled_by[my_index]++;
}

static void *worker(void *arg)
{
    my_index = (int)(long)arg;
    tids[my_index] = (pid_t)syscall(SYS_gettid);
    __atomic_fetch_add(&ready, 1, __ATOMIC_SEQ_CST);
    while (!done)
        usleep(200);
    return NULL;
}

int main(void)
{
    int bad = 0;
    sigset_t usr1, pending;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);

    /* 1. Blocked, pending, delivered when unblocked (raw rt_sigprocmask, 8-byte set). */
    install(SIGUSR1, on_usr1, 0, 1);
    syscall(SYS_rt_sigprocmask, SIG_BLOCK, &usr1, NULL, 8);
    raise(SIGUSR1);
    raise(SIGUSR1);                           /* standard signals do not queue */
    sigpending(&pending);
    int before = count;
    printf("blocked: handler ran %d times, pending: %s\n", before, yes_no(sigismember(&pending, SIGUSR1)));
    syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &usr1, NULL, 8);
    int after = count;
    sigpending(&pending);
    printf("unblocked: handler ran %d time(s), still pending: %s\n", after, yes_no(sigismember(&pending, SIGUSR1)));
    printf("in handler: SIGUSR1 blocked %s, SIGUSR2 (sa_mask) blocked %s; after: %s %s\n",
           yes_no(saw_own_blocked), yes_no(saw_usr2_blocked), yes_no(is_blocked(SIGUSR1)), yes_no(is_blocked(SIGUSR2)));
    bad |= before != 0 || after != 1 || !saw_own_blocked || !saw_usr2_blocked || is_blocked(SIGUSR1);

    /* 2. Without SA_NODEFER the re-raised signal waits for the handler to return. */
    count = max_depth = 0;
    reraise = 1;
    raise(SIGUSR1);
    printf("default: ran %d times, max nesting %d\n", (int)count, (int)max_depth);
    bad |= count != 2 || max_depth != 1;

    /* 3. With SA_NODEFER it nests. */
    install(SIGUSR1, on_usr1, SA_NODEFER, 0);
    count = max_depth = 0;
    reraise = 1;
    raise(SIGUSR1);
    printf("SA_NODEFER: ran %d times, max nesting %d, own signal blocked inside: %s\n", (int)count,
           (int)max_depth, yes_no(saw_own_blocked));
    bad |= count != 2 || max_depth != 2 || saw_own_blocked;

    /* 4. SA_RESETHAND: one delivery, then the disposition is SIG_DFL again. */
    install(SIGUSR2, on_usr1, SA_RESETHAND, 0);
    count = 0;
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("SA_RESETHAND: ran %d time(s), now SIG_DFL: %s\n", (int)count, yes_no(now.sa_handler == SIG_DFL));
    bad |= count != 1 || now.sa_handler != SIG_DFL;

    /* 5. tgkill to one thread. */
    install(SIGUSR1, on_usr1_record, 0, 0);
    tids[0] = (pid_t)syscall(SYS_gettid);
    pthread_t t[NTHREADS + 1];
    for (long i = 1; i <= NTHREADS; i++)
        if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
            return 1;
    while (__atomic_load_n(&ready, __ATOMIC_SEQ_CST) < NTHREADS)
        usleep(200);
    const int target = 3;
    syscall(SYS_tgkill, getpid(), tids[target], SIGUSR1);
    while (!handled_by[target])
        usleep(200);
    syscall(SYS_tgkill, getpid(), tids[0], SIGUSR1);   /* the main thread: delivered at once */
    done = 1;
    for (int i = 1; i <= NTHREADS; i++)
        pthread_join(t[i], NULL);
    printf("tgkill: handled by thread");
    for (int i = 0; i <= NTHREADS; i++)
        printf(" %d:%d", i, (int)handled_by[i]);
    printf("\n");
    for (int i = 0; i <= NTHREADS; i++)
        bad |= handled_by[i] != (i == target || i == 0);
    return bad ? 1 : 34;
}
