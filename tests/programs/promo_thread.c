/* promo_thread.c — regression case from the review of the optimizer (fixed): Loop register promotion keeps a stack slot in a register across iterations; a store by
   another thread to that slot is never seen. Natively: the loop ends when the other thread
   sets the state (~50 ms); under hotpath the promoted loop spins forever.
   Built with -O0: `state` is main's local ([rbp-x]), read twice per iteration. */
#include <pthread.h>
#include <stdio.h>
#include <time.h>
static void *setter(void *p) {
    struct timespec ts = { 0, 50 * 1000 * 1000 };
    nanosleep(&ts, 0);
    __atomic_store_n((int *)p, 2, __ATOMIC_SEQ_CST);
    return 0;
}
int main(void) {
    volatile int state = 0;           /* 1: ready, 2: failed */
    long spins = 0;
    pthread_t th;
    pthread_create(&th, 0, setter, (void *)&state);
    while (state != 1 && state != 2) spins++;
    pthread_join(th, 0);
    printf("state = %d (spun %s)\n", state, spins > 0 ? "yes" : "no");
    return 0;
}
