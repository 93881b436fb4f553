/* jtable_flags — a review's reproducer for pass_jtable.c (fixed: the first flag writer of
 * the folded sequence must define every status flag). The first flag writer after the table load is imul, which writes CF/OF
 * and leaves SF/ZF/AF/PF undefined. On AMD (and documented as "undefined") those flags keep
 * their old value: natively they are cmp $3's; under hotpath's jtable fold, cmp $v's. The
 * case body reads the flags with pushf. */
#include <stdio.h>
#include <stdint.h>
long jt_run(const unsigned char *ops, long n, long acc);
long last_c1_flags;
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
    "    movslq (%rdx,%rax,4),%rcx\n"
    "    imul $1,%rcx,%rcx\n"
    "    lea (%rdx,%rcx),%rcx\n"
    "    jmp *%rcx\n"
    "jt_c0: pushf\n pop %r10\n and $0xd5,%r10\n add %r10,%r9\n jmp 1b\n"
    "jt_c1: pushf\n pop %r10\n and $0xd5,%r10\n mov %r10,last_c1_flags(%rip)\n imul $3,%r9,%r9\n add %r10,%r9\n jmp 1b\n"
    "jt_c2: pushf\n pop %r10\n and $0xd5,%r10\n xor %r10,%r9\n add $7,%r9\n jmp 1b\n"
    "jt_c3: pushf\n pop %r10\n and $0xd5,%r10\n sub %r10,%r9\n jmp 1b\n"
    "8:  sub $1,%r9\n    jmp 1b\n"
    "9:  mov %r9,%rax\n    ret\n"
    ".size jt_run, .-jt_run\n"
    ".section .rodata\n.balign 16\njt_table:\n"
    "    .long jt_c0-jt_table, jt_c1-jt_table, jt_c2-jt_table, jt_c3-jt_table\n"
    ".text\n");
int main(void)
{
    enum { N = 100000 };
    static unsigned char ops[N];
    for (long i = 0; i < N; i++) ops[i] = "1023"[i % 4] - '0';
    long a = jt_run(ops, N, 1);
    printf("acc %ld  flags (&0xd5) at case 1's entry, last time: %#lx\n", a, last_c1_flags);
    return 0;
}
