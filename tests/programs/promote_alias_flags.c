/* promote_alias_flags — -O0-style loops (asm, so the forms are fixed) that are promoted
 * with their stores through a pointer checked against the slots (rcx borrowed) and that
 * hold an indirect call (a review's reproducers for d712117):
 * - flags: the callee reads the flags of `cmpq $3,SLOT` made before a store through a
 *   pointer to that very slot; promotion turns the cmp into `cmp $3,%reg`, and the check
 *   after the store reloads the register: flagcheck must not compute the flags again from
 *   the reloaded register (the first version gave the callee the flags of the new value);
 * - rax: the callee reads rax, live into the lookup when the call's check misses (the
 *   hand-over of the app's rcx borrows rax and must give it back);
 * - flags on a miss: the check with flags misses every 64th round and its lookup must get
 *   the app's rcx.
 * rcx is set before each loop and compared after it. Exit status 70 when every result
 * matches the same computation in C. */
#include <stdio.h>

long run_flags(long n), run_rax(long n, long *out), run_flagmiss(long n, long *out);
__asm__(".text\n"
"fl_a: setl %al\n movzbl %al,%eax\n ret\n"
"fl_b: setg %al\n movzbl %al,%eax\n add $10,%eax\n ret\n"
"rx_a: lea 1(%rax),%rax\n ret\n"
"rx_b: lea 2(%rax),%rax\n ret\n"
/* run_flags(n): sum over i of (i&7) < 3, through the flags of cmpq $3 at the callee */
"run_flags: push %rbp\n mov %rsp,%rbp\n sub $0x30,%rsp\n"
" mov %rdi,-0x8(%rbp)\n lea -0x18(%rbp),%rsi\n mov %rsi,-0x10(%rbp)\n"
" movq $0,-0x18(%rbp)\n movq $0,-0x20(%rbp)\n movq $0,-0x28(%rbp)\n"
" lea fl_a(%rip),%rax\n mov %rax,-0x30(%rbp)\n"
"1: mov -0x20(%rbp),%rax\n and $7,%rax\n mov %rax,-0x18(%rbp)\n"
" mov -0x10(%rbp),%rdx\n"
" cmpq $3,-0x18(%rbp)\n"
" mov -0x20(%rbp),%rax\n mov %rax,(%rdx)\n"            /* overwrites the slot cmp read */
" mov -0x30(%rbp),%rax\n call *%rax\n"
" add %rax,-0x28(%rbp)\n addq $1,-0x20(%rbp)\n mov -0x20(%rbp),%rax\n cmp -0x8(%rbp),%rax\n jl 1b\n"
" mov -0x28(%rbp),%rax\n leave\n ret\n"
/* run_rax(n, out): rcx set, a callee reading rax, a target change every 64 rounds */
"run_rax: push %rbp\n mov %rsp,%rbp\n sub $0x30,%rsp\n"
" movabs $0x5eed1234abcd,%rcx\n"
" mov %rdi,-0x8(%rbp)\n mov %rsi,-0x10(%rbp)\n"
" movq $0,-0x18(%rbp)\n movq $0,-0x20(%rbp)\n movq $0,-0x28(%rbp)\n"
" lea rx_a(%rip),%rax\n mov %rax,-0x30(%rbp)\n"
"1: mov -0x10(%rbp),%rdx\n mov -0x20(%rbp),%rax\n mov %rax,(%rdx)\n"
" addq $3,-0x18(%rbp)\n"
" mov -0x30(%rbp),%rdx\n mov -0x20(%rbp),%rax\n cmpq $0,-0x8(%rbp)\n call *%rdx\n"
" add %rax,-0x28(%rbp)\n"
" lea rx_a(%rip),%rax\n lea rx_b(%rip),%rdx\n testq $63,-0x20(%rbp)\n cmovz %rdx,%rax\n mov %rax,-0x30(%rbp)\n"
" addq $1,-0x20(%rbp)\n mov -0x20(%rbp),%rax\n cmp -0x8(%rbp),%rax\n jl 1b\n"
" movabs $0x5eed1234abcd,%rdx\n cmp %rdx,%rcx\n je 2f\n movq $-1,-0x28(%rbp)\n2:"
" mov -0x28(%rbp),%rax\n add -0x18(%rbp),%rax\n leave\n ret\n"
/* run_flagmiss(n, out): the flags of cmpq $3 at fl_a, fl_b every 64 rounds; rcx checked */
"run_flagmiss: push %rbp\n mov %rsp,%rbp\n sub $0x30,%rsp\n"
" movabs $0x5eed1234abcd,%rcx\n"
" mov %rdi,-0x8(%rbp)\n mov %rsi,-0x10(%rbp)\n"
" movq $0,-0x18(%rbp)\n movq $0,-0x20(%rbp)\n movq $0,-0x28(%rbp)\n"
" lea fl_a(%rip),%rax\n mov %rax,-0x30(%rbp)\n"
"1: mov -0x20(%rbp),%rax\n and $7,%rax\n mov %rax,-0x18(%rbp)\n"
" mov -0x10(%rbp),%rdx\n"
" mov -0x20(%rbp),%rax\n mov %rax,(%rdx)\n"
" cmpq $3,-0x18(%rbp)\n"
" mov -0x30(%rbp),%rax\n call *%rax\n"
" add %rax,-0x28(%rbp)\n"
" lea fl_a(%rip),%rax\n lea fl_b(%rip),%rdx\n testq $63,-0x20(%rbp)\n cmovz %rdx,%rax\n mov %rax,-0x30(%rbp)\n"
" addq $1,-0x20(%rbp)\n mov -0x20(%rbp),%rax\n cmp -0x8(%rbp),%rax\n jl 1b\n"
" movabs $0x5eed1234abcd,%rdx\n cmp %rdx,%rcx\n je 2f\n movq $-1,-0x28(%rbp)\n2:"
" mov -0x28(%rbp),%rax\n leave\n ret\n");

int main(void)
{
    const long n = 300000;
    long out = 0, e_flags = 0, e_rax = 0, e_miss = 0;
    for (long i = 0; i < n; i++) {
        int fb = i > 0 && (i - 1) % 64 == 0;     /* the previous round chose fl_b / rx_b */
        e_flags += (i & 7) < 3;
        e_rax += i + (fb ? 2 : 1) + 3;
        e_miss += fb ? 10 + ((i & 7) > 3) : (i & 7) < 3;
    }
    long r1 = run_flags(n), r2 = run_rax(n, &out), r3 = run_flagmiss(n, &out);
    int ok = r1 == e_flags && r2 == e_rax && r3 == e_miss && out == n - 1;
    printf("promote_alias_flags: %ld %ld %ld %s\n", r1, r2, r3, ok ? "ok" : "WRONG");
    return ok ? 70 : 1;
}
