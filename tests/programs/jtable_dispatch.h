/* jtable_dispatch.h — shared by jtable_partial.c and jtable_remap.c (included, no main of
 * its own): jt_run, an interpreter loop in gcc's -O2 switch form (bound check, 32-bit
 * offsets from jt_table in .rodata, add, `jmp *%rax`) over ops 0..3 (cases) and 4 and up
 * (the default), whose table has a page of its own followed by JT_TAIL in .rodata; pg(),
 * the table's page. pass_jtable.c folds the table into jt_run's traces. */
#ifndef JTABLE_DISPATCH_H
#define JTABLE_DISPATCH_H
#include <stdint.h>

#ifndef JT_TAIL
#define JT_TAIL ""
#endif

long jt_run(const unsigned char *ops, long n, long acc);
extern const int32_t jt_table[4];
__asm__(
    ".text\n.globl jt_run\n.type jt_run,@function\njt_run:\n"
    "    mov %rdx,%r9\n"
    "    xor %r8d,%r8d\n"
    "1:  cmp %rsi,%r8\n"
    "    jge 9f\n"
    "    movzbl (%rdi,%r8,1),%eax\n"
    "    inc %r8\n"
    "    cmp $3,%eax\n"
    "    ja 8f\n"
    "    mov %eax,%eax\n"
    "    lea jt_table(%rip),%rdx\n"
    "    movslq (%rdx,%rax,4),%rax\n"
    "    add %rdx,%rax\n"
    "    jmp *%rax\n"
    "jt_c0: add $3,%r9\n jmp 1b\n"
    "jt_c1: imul $5,%r9,%r9\n jmp 1b\n"
    "jt_c2: xor $0x55,%r9\n jmp 1b\n"
    "jt_c3: rol $7,%r9\n jmp 1b\n"
    "8:  sub $1,%r9\n    jmp 1b\n"
    "9:  mov %r9,%rax\n    ret\n"
    ".size jt_run, .-jt_run\n"
    ".section .rodata\n.balign 4096\n.globl jt_table\njt_table:\n"
    "    .long jt_c0-jt_table, jt_c1-jt_table, jt_c2-jt_table, jt_c3-jt_table\n"
    ".balign 4096\n" JT_TAIL ".text\n");

static inline char *pg(void) { return (char *)((uintptr_t)jt_table & ~(uintptr_t)4095); }

#endif
