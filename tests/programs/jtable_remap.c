/* jtable_remap — a review's reproducer for pass_jtable.c and runtime/syscalls.c: the jump
 * table lies in the program's own .rodata (a page of its own, in the ELF
 * file, which is also mapped executable: what maps_find_ro accepts). Modes change the
 * table's page behind a hot folded switch in various ways; each phase prints its
 * accumulator. Run: ./jtable_remap MODE [all1] (all1: every op is case 1). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include "jtable_dispatch.h"

enum { N = 200000 };
static unsigned char ops[N];
static void swap12(void)
{
    if (mprotect(pg(), 4096, PROT_READ | PROT_WRITE)) { perror("mprotect"); exit(2); }
    volatile int32_t *t = (volatile int32_t *)jt_table;
    int32_t e = t[1]; t[1] = t[2]; t[2] = e;
    if (mprotect(pg(), 4096, PROT_READ)) { perror("mprotect"); exit(2); }
}
static int noread;
static void phase(const char *n)
{
    long a = jt_run(ops, N, 1);
    printf("%s: %ld (table[1]=%d)\n", n, a, noread ? 0 : ((volatile const int32_t *)jt_table)[1]);
    fflush(stdout);
}
static void segv(int s) { (void)s; static const char m[] = "SIGSEGV\n"; write(1, m, sizeof m - 1); _exit(3); }
int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "none";
    signal(SIGSEGV, segv);
    for (long i = 0; i < N; i++) ops[i] = argc > 2 ? 1 : "11211"[i % 5] - '0';
    phase("phase 1");
    swap12();                                   /* (seen: flushed) */
    phase("phase 2 (swapped)");
    phase("phase 2b (swapped)");
    struct iovec v = { pg(), 4096 };
    if (!strcmp(mode, "pmadv")) {               /* back to the file's bytes, unseen */
        if (syscall(SYS_process_madvise, -10000, &v, 1, MADV_DONTNEED, 0) != 4096) { perror("pm"); return 2; }
    } else if (!strcmp(mode, "madv")) {
        if (madvise(pg(), 4096, MADV_DONTNEED)) { perror("madvise"); return 2; }
    } else if (!strcmp(mode, "pguard")) {
        noread = 1;
        if (syscall(SYS_process_madvise, -10000, &v, 1, 102, 0) != 4096) { perror("pm"); return 2; }
    } else if (!strcmp(mode, "guard")) {
        noread = 1;
        if (madvise(pg(), 4096, 102)) { perror("madvise"); return 2; }
    } else if (!strcmp(mode, "mremap")) {       /* a page with the original table moved over it */
        int32_t *o = mmap(0, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        memcpy(o, (const void *)jt_table, 16);
        int32_t e = o[1]; o[1] = o[2]; o[2] = e;
        mprotect(o, 4096, PROT_READ);
        if (mremap(o, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED, pg()) == MAP_FAILED) { perror("mremap"); return 2; }
    } else if (!strcmp(mode, "dontunmap")) {    /* the old range refaults from the file */
        if (mremap(pg(), 4096, 4096, MREMAP_MAYMOVE | 4 /* MREMAP_DONTUNMAP */) == MAP_FAILED) { perror("mremap"); return 2; }
    } else if (!strcmp(mode, "shmat")) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        int32_t *o = shmat(id, 0, 0);
        memcpy(o, (const void *)jt_table, 16);
        int32_t e = o[1]; o[1] = o[2]; o[2] = e;
        shmdt(o);  /* (shmdt flushes everything: redo phase 2 so the traces come back) */
        phase("phase 2c (swapped)");
        if (shmat(id, pg(), SHM_RDONLY | 040000) == (void *)-1) { perror("shmat"); return 2; }
        shmctl(id, IPC_RMID, 0);
    } else if (!strcmp(mode, "dontfork") || !strcmp(mode, "wipe")) {
        if (madvise(pg(), 4096, MADV_DONTFORK)) { perror("madvise"); return 2; }
        phase("phase 2d");
        pid_t p = fork();
        if (p == 0) { phase("child"); _exit(0); }
        int st; waitpid(p, &st, 0);
        printf("child status %d\n", st);
    }
    phase("phase 3");
    return 0;
}
