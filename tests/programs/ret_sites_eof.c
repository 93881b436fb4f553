/* ret_sites_eof — regression (review of session 5): retsites looks for a second call site
 * in the code around a return address. Here the code is a file mapping (a memfd of one
 * page) mapped two pages long: the second page is listed executable in /proc/self/maps
 * but lies past the end of the file, so reading it raises SIGBUS. The loop at offset 3800
 * calls F at 3900, whose ret returns to 3807: the scan window reaches the second page.
 * Native code never reads there; under hotpath the scan must not either (it used to die
 * with SIGBUS inside the runtime). Exit status 50 when the loop ran as natively. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    static unsigned char page[4096];
    static const unsigned char run[] = {
        0x31, 0xc0,                         /* 3800: xor %eax,%eax */
        0xe8, 0x5d, 0x00, 0x00, 0x00,       /* 3802: call F (3900) */
        0x48, 0x83, 0xc0, 0x01,             /* 3807: add $1,%rax */
        0x48, 0xff, 0xcf,                   /* 3811: dec %rdi */
        0x75, 0xf2,                         /* 3814: jnz 3802 */
        0xc3,                               /* 3816: ret */
    };
    static const unsigned char f[] = {
        0x48, 0x89, 0x16,                   /* 3900: mov %rdx,(%rsi)  (keeps the ret's check) */
        0xc3,                               /* ret */
    };
    memset(page, 0xcc, sizeof(page));
    memcpy(page + 3800, run, sizeof(run));
    memcpy(page + 3900, f, sizeof(f));
    int fd = memfd_create("ret_sites_eof", 0);
    if (fd < 0 || write(fd, page, sizeof(page)) != (ssize_t)sizeof(page)) return 2;
    unsigned char *p = mmap(0, 8192, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    if (p == MAP_FAILED) return 3;
    long n = argc > 1 ? atol(argv[1]) : 100000, cell = 0;
    long (*loop)(long, long *) = (long (*)(long, long *))(void *)(p + 3800);
    long r = loop(n, &cell);
    printf("ret_sites_eof r=%ld\n", r);
    return r == n ? 50 : 1;
}
