/* sys.h — raw Linux system calls for the runtime, which must not call libc after takeover
 * (the app may hold a libc lock or be inside malloc). Invariant: inline, no errno: each
 * returns the kernel's value (negative errno on failure). */
#ifndef HOTPATH_SYS_H
#define HOTPATH_SYS_H
#include <stddef.h>
#include <stdint.h>
#include <asm/unistd.h>

static inline long sys_call6(long n, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys_call0(n) sys_call6((n), 0, 0, 0, 0, 0, 0)
#define sys_call1(n, a) sys_call6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys_call2(n, a, b) sys_call6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys_call3(n, a, b, c) sys_call6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys_call4(n, a, b, c, d) sys_call6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

static inline long sys_write(int fd, const void *buf, size_t n) { return sys_call3(__NR_write, fd, buf, n); }
static inline long sys_read(int fd, void *buf, size_t n) { return sys_call3(__NR_read, fd, buf, n); }
static inline long sys_open(const char *p, int flags, int mode) { return sys_call3(__NR_open, p, flags, mode); }
static inline long sys_close(int fd) { return sys_call1(__NR_close, fd); }
static inline long sys_getpid(void) { return sys_call0(__NR_getpid); }
static inline long sys_gettid(void) { return sys_call0(__NR_gettid); }
static inline void *sys_mmap(void *addr, size_t len, int prot, int flags, int fd, long off)
{
    return (void *)sys_call6(__NR_mmap, (long)addr, (long)len, prot, flags, fd, off);
}
static inline long sys_munmap(void *addr, size_t len) { return sys_call2(__NR_munmap, addr, len); }
static inline long sys_mprotect(void *addr, size_t len, int prot) { return sys_call3(__NR_mprotect, addr, len, prot); }
static inline long sys_arch_prctl(int code, unsigned long addr) { return sys_call2(__NR_arch_prctl, code, addr); }
static inline __attribute__((noreturn)) void sys_exit_group(int code)
{
    for (;;) sys_call1(__NR_exit_group, code);
}
static inline int sys_is_err(long r) { return (unsigned long)r > (unsigned long)-4096L; }

#endif
