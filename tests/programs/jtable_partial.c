/* jtable_partial — a review's reproducer for pass_jtable.c and runtime/syscalls.c (fixed:
 * mprotect, madvise and mremap are acted on whatever they return): a system call that
 * fails but still changes part of its range.
 * The jump table is in the program's .rodata, on a page of its own followed by a spare
 * page (also .rodata). Each mode makes the call cover the table page and the spare page:
 *   madv:  the spare page unmapped first; madvise(MADV_DONTNEED) on both pages returns -1
 *          ENOMEM (a hole) but drops the table page (a private copy with cases 1, 2
 *          swapped) back to the file's bytes;
 *   mprot: the spare page a read-only MAP_SHARED file mapping; mprotect(RW) on both pages
 *          fails with EACCES after the table page was made writable: the app then swaps
 *          the entries in place.
 *   dontfork: the spare page unmapped; madvise(MADV_DONTFORK) on both pages returns -1
 *          ENOMEM but marks the table page: a fork child has no table (SIGSEGV natively).
 * Run: ./jtable_partial madv|mprot|dontfork */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#define JT_TAIL ".skip 4096\n"      /* a spare page after the table's */
#include "jtable_dispatch.h"

enum { N = 200000 };
static unsigned char ops[N];
static void swap12(void)
{
    volatile int32_t *t = (volatile int32_t *)jt_table;
    int32_t e = t[1]; t[1] = t[2]; t[2] = e;
}
static void phase(const char *n)
{
    long a = jt_run(ops, N, 1);
    printf("%s: %ld (table[1]=%d)\n", n, a, ((volatile const int32_t *)jt_table)[1]);
    fflush(stdout);
}
int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "madv";
    for (long i = 0; i < N; i++) ops[i] = !strcmp(mode, "dontfork") ? 1 : "11211"[i % 5] - '0';
    if (!strcmp(mode, "madv")) {
        if (munmap(pg() + 4096, 4096)) { perror("munmap"); return 2; }
        if (mprotect(pg(), 4096, PROT_READ | PROT_WRITE)) { perror("mprotect"); return 2; }
        swap12();
        if (mprotect(pg(), 4096, PROT_READ)) { perror("mprotect"); return 2; }
        phase("phase 1 (swapped copy)");
        int r = madvise(pg(), 8192, MADV_DONTNEED);
        printf("madvise: %d %s\n", r, r ? strerror(errno) : "");
        phase("phase 2 (file's bytes again)");
    } else if (!strcmp(mode, "dontfork")) {
        if (munmap(pg() + 4096, 4096)) { perror("munmap"); return 2; }
        phase("phase 1");
        int r = madvise(pg(), 8192, MADV_DONTFORK);
        printf("madvise: %d %s\n", r, r ? strerror(errno) : "");
        phase("phase 2");
        fflush(stdout);
        pid_t c = fork();
        if (c == 0) {
            ops[0] = 4;                /* first round by the default: then the loop head (a trace) */
            long a = jt_run(ops, N, 1);
            printf("child: %ld\n", a);
            fflush(stdout);
            _exit(0);
        }
        int st;
        waitpid(c, &st, 0);
        printf("child: %s %d\n", WIFSIGNALED(st) ? "signal" : "exit", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
    } else {
        int fd = open("/etc/hostname", O_RDONLY);
        if (fd < 0 || mmap(pg() + 4096, 4096, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0) == MAP_FAILED) { perror("map"); return 2; }
        phase("phase 1");
        int r = mprotect(pg(), 8192, PROT_READ | PROT_WRITE);
        printf("mprotect: %d %s\n", r, r ? strerror(errno) : "");
        swap12();                                  /* (the table page is writable now) */
        phase("phase 2 (swapped)");
    }
    return 0;
}
