/* jtable_thread — a review's reproducer for pass_jtable.c (fixed: it folds tables only
 * while one thread runs). Thread A dispatches op 1 through a jump table in .rodata in a
 * loop; thread B
 * swaps the table's entries 1 and 2 (mprotect RW, store, mprotect RO, as the project's own
 * jtable_switch.c does), then sets `flag` (release). A reads `flag` at the top of every
 * round, before its table load (x86: loads in order, so a round that saw flag == 1 must
 * take the new entry: case 2). It counts rounds that saw flag == 1 by the case they reached,
 * and stops after 1000000 of them. Native: after1 = 0, after2 = 1000000. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

extern int32_t jt_table[4];
long after1, after2;
volatile long flag;
void jt_loop(const unsigned char *op);
__asm__(
    ".text\n.globl jt_loop\n.type jt_loop,@function\njt_loop:\n"
    "    xor %r9d,%r9d\n"
    "1:  mov flag(%rip),%r10\n"
    "    movzbl (%rdi),%eax\n"
    "    cmp $3,%eax\n"
    "    ja 8f\n"
    "    mov %eax,%eax\n"
    "    lea jt_table(%rip),%rdx\n"
    "    movslq (%rdx,%rax,4),%rax\n"
    "    add %rdx,%rax\n"
    "    jmp *%rax\n"
    "jt_c0: jmp 2f\n"
    "jt_c1: add %r10,after1(%rip)\n jmp 2f\n"
    "jt_c2: add %r10,after2(%rip)\n jmp 2f\n"
    "jt_c3: jmp 2f\n"
    "8:  nop\n"
    "2:  add %r10,%r9\n"
    "    cmp $1000000,%r9\n"
    "    jb 1b\n"
    "    ret\n"
    ".size jt_loop, .-jt_loop\n"
    ".section .rodata\n.balign 4096\n.globl jt_table\njt_table:\n"
    "    .long jt_c0-jt_table, jt_c1-jt_table, jt_c2-jt_table, jt_c3-jt_table\n"
    ".balign 4096\n.text\n");

static void *thread_a(void *arg)
{
    static const unsigned char one = 1;
    (void)arg;
    jt_loop(&one);
    return 0;
}

int main(void)
{
    pthread_t a;
    pthread_create(&a, 0, thread_a, 0);
    usleep(300000);                                   /* A's loop is hot (a trace) */
    void *pg = (void *)((uintptr_t)jt_table & ~(uintptr_t)4095);
    if (mprotect(pg, 4096, PROT_READ | PROT_WRITE)) { perror("mprotect"); return 2; }
    int32_t e1 = jt_table[1];
    jt_table[1] = jt_table[2];
    jt_table[2] = e1;
    if (mprotect(pg, 4096, PROT_READ)) { perror("mprotect"); return 2; }
    __atomic_store_n(&flag, 1, __ATOMIC_RELEASE);
    pthread_join(a, 0);
    printf("after1 %ld after2 %ld\n", after1, after2);
    return 0;
}
