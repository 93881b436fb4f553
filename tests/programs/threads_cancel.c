/* threads_cancel — pthread_cancel of threads blocked in cancellation points: read on an empty
 * pipe, pthread_cond_wait (which must hand back the mutex to the cleanup handler) and
 * nanosleep; one thread defers its cancel with pthread_setcancelstate and acts on it at
 * pthread_testcancel. Cleanup handlers run in reverse order; every join yields
 * PTHREAD_CANCELED. Whether the cancel arrives before or during the blocking call does not
 * matter (a pending cancel acts when the call is entered), so the output is fixed. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char log_buf[4][256];          /* per thread: the cleanup handlers that ran, in order */
static volatile int started[4];
static volatile int may_test;

static void note(int id, const char *what)
{
    pthread_mutex_lock(&log_lock);
    strcat(log_buf[id], what);
    pthread_mutex_unlock(&log_lock);
}

static void cleanup_outer(void *arg) { note((int)(long)arg, " outer"); }
static void cleanup_inner(void *arg) { note((int)(long)arg, " inner"); }
static void cleanup_unlock(void *arg)
{
    /* After a cancelled pthread_cond_wait the mutex is held again. */
    int r = pthread_mutex_trylock(&lock);       /* EBUSY when held, by anyone */
    note((int)(long)arg, r != 0 ? " unlock(held)" : " unlock(NOT HELD)");
    pthread_mutex_unlock(&lock);              /* ours either way */
}

static int pipefd[2];

static void *reader(void *arg)
{
    char c;
    pthread_cleanup_push(cleanup_outer, arg);
    pthread_cleanup_push(cleanup_inner, arg);
    started[0] = 1;
    for (;;)
        if (read(pipefd[0], &c, 1) >= 0)      /* blocks: nobody writes */
            note(0, " READ RETURNED");
    pthread_cleanup_pop(0);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *waiter(void *arg)
{
    pthread_mutex_lock(&lock);
    pthread_cleanup_push(cleanup_unlock, arg);
    started[1] = 1;
    for (;;)
        pthread_cond_wait(&never, &lock);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *sleeper(void *arg)
{
    pthread_cleanup_push(cleanup_outer, arg);
    started[2] = 1;
    struct timespec ts = {30, 0};
    for (;;)
        nanosleep(&ts, NULL);
    pthread_cleanup_pop(0);
    return NULL;
}

static void *deferrer(void *arg)
{
    int old;
    pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);
    pthread_cleanup_push(cleanup_inner, arg);
    started[3] = 1;
    while (!may_test)
        usleep(1000);                         /* a cancellation point, but cancel is disabled */
    note(3, " still-running");
    pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
    pthread_testcancel();
    note(3, " NOT CANCELLED");
    pthread_cleanup_pop(0);
    return NULL;
}

int main(void)
{
    void *(*fns[4])(void *) = {reader, waiter, sleeper, deferrer};
    const char *names[4] = {"read", "cond_wait", "nanosleep", "deferred"};
    pthread_t t[4];
    if (pipe(pipefd) != 0)
        return 1;
    for (long i = 0; i < 4; i++)
        if (pthread_create(&t[i], NULL, fns[i], (void *)i) != 0)
            return 1;
    for (int i = 0; i < 4; i++)
        while (!started[i])
            usleep(1000);
    usleep(20000);                            /* most likely blocked by now; either way works */
    for (int i = 0; i < 4; i++)
        pthread_cancel(t[i]);
    usleep(5000);
    may_test = 1;
    int bad = 0;
    for (int i = 0; i < 4; i++) {
        void *res = NULL;
        int r = pthread_join(t[i], &res);
        printf("%-9s: join=%d canceled=%s cleanup:%s\n", names[i], r,
               res == PTHREAD_CANCELED ? "yes" : "no", log_buf[i]);
        bad |= r != 0 || res != PTHREAD_CANCELED;
    }
    /* The mutex the cancelled waiter held is free again. */
    int free_again = pthread_mutex_trylock(&lock) == 0;
    printf("mutex free after cancel: %s\n", free_again ? "yes" : "no");
    return bad || !free_again ? 1 : 28;
}
