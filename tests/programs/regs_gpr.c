/* regs_gpr — register exactness for the 15 general-purpose registers (all but rsp).
 * gpr_kernel (assembly at file scope, so the compiler allocates nothing) loads every GPR
 * from a state array, runs a few million iterations of a loop that keeps all of them live
 * and mixes them with add/adc/sbb/rotates/mul/bswap/xadd/cmpxchg, setcc and cmov, lahf,
 * shifts by %cl, jrcxz and loop, rip-relative loads, direct calls on both sides of a branch
 * and an indirect call through a table; then stores every register and the arithmetic
 * flags. Any register or flag the translator fails to preserve changes the output. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

/* void gpr_kernel(uint64_t state[16], uint64_t iterations)
 * state[0..14] = rax rbx rcx rdx rsi rdi rbp r8..r15 in, out; state[15] = rflags out. */
void gpr_kernel(uint64_t *state, uint64_t iterations);

__asm__(
    "    .section .rodata\n"
    "    .balign 8\n"
    "gpr_const: .quad 0x9e3779b97f4a7c15, 0xbf58476d1ce4e5b9\n"
    "    .section .data.rel.ro,\"aw\"\n"
    "    .balign 8\n"
    "gpr_table: .quad gpr_t0, gpr_t1, gpr_t2, gpr_t3\n"
    "    .text\n"
    /* the four table targets leave rbx and rcx alone: the caller restores them */
    "gpr_t0: add %rdx, %rdi\n"
    "    ret\n"
    "gpr_t1: xor %rsi, %r8\n"
    "    setc %al\n"
    "    ret\n"
    "gpr_t2: sbb %r9, %r10\n"
    "    ret\n"
    "gpr_t3: cmc\n"
    "    adc %r11, %r12\n"
    "    ret\n"
    "gpr_sub_a: xor %r15, %rax\n"
    "    add %rax, %r13\n"
    "    rcl $1, %r13\n"
    "    ret\n"
    "gpr_sub_b: sub %r14, %rsi\n"
    "    adc $0x55, %r15\n"
    "    not %rdx\n"
    "    ret\n"
    "    .globl gpr_kernel\n"
    "    .type gpr_kernel, @function\n"
    "gpr_kernel:\n"
    "    push %rbx\n"
    "    push %rbp\n"
    "    push %r12\n"
    "    push %r13\n"
    "    push %r14\n"
    "    push %r15\n"
    "    push %rdi\n"              /* state pointer: 8(%rsp) inside the loop */
    "    push %rsi\n"              /* iteration counter: 0(%rsp) */
    "    mov 0(%rdi), %rax\n"
    "    mov 8(%rdi), %rbx\n"
    "    mov 16(%rdi), %rcx\n"
    "    mov 24(%rdi), %rdx\n"
    "    mov 32(%rdi), %rsi\n"
    "    mov 48(%rdi), %rbp\n"
    "    mov 56(%rdi), %r8\n"
    "    mov 64(%rdi), %r9\n"
    "    mov 72(%rdi), %r10\n"
    "    mov 80(%rdi), %r11\n"
    "    mov 88(%rdi), %r12\n"
    "    mov 96(%rdi), %r13\n"
    "    mov 104(%rdi), %r14\n"
    "    mov 112(%rdi), %r15\n"
    "    mov 40(%rdi), %rdi\n"
    "    clc\n"
    "1:  add %rax, %rbx\n"
    "    adc %rbx, %rcx\n"
    "    rol $13, %rcx\n"
    "    sub %rcx, %rdx\n"
    "    sbb %rdx, %rsi\n"
    "    lea 0x9e37(%rsi,%rdi,2), %rdi\n"
    "    xor %rdi, %rbp\n"
    "    ror $7, %rbp\n"
    "    cmp %rbp, %r8\n"
    "    cmovb %rbp, %r8\n"
    "    setg %r9b\n"
    "    add %r8, %r9\n"
    "    imul %r9, %r10\n"
    "    add gpr_const(%rip), %r10\n"
    "    xor %r10, %r11\n"
    "    bswap %r11\n"
    "    add %r11, %r12\n"
    "    shl %cl, %r12\n"
    "    or %r13, %r12\n"
    "    test $1, %r11b\n"
    "    jz 2f\n"
    "    call gpr_sub_a\n"
    "    jmp 3f\n"
    "2:  call gpr_sub_b\n"
    "3:  mul %r13\n"                /* rdx:rax = rax * r13 */
    "    add %rdx, %r14\n"
    "    jrcxz 4f\n"
    "    xadd %r14, %r15\n"
    "4:  push %rcx\n"
    "    mov $3, %ecx\n"
    "5:  add %r15, %r14\n"
    "    rol $1, %r14\n"
    "    loop 5b\n"
    "    pop %rcx\n"
    "    cmp %r14, %r13\n"
    "    ja 6f\n"
    "    adc gpr_const+8(%rip), %r13\n"
    "6:  lahf\n"
    "    movzbl %ah, %edx\n"
    "    add %rdx, %rbp\n"
    "    mov %r13, %rax\n"
    "    cmpxchg %r15, %r8\n"       /* ZF-dependent: r8 == rax ? r8 = r15 : rax = r8 */
    "    sete %dl\n"
    "    neg %rdx\n"
    "    sbb %r9, %rdi\n"
    "    cmovs %rsi, %r10\n"
    "    push %rbx\n"
    "    push %rcx\n"
    "    mov %rdi, %rbx\n"
    "    shr $17, %rbx\n"
    "    xor %ebp, %ebx\n"
    "    and $3, %ebx\n"
    "    lea gpr_table(%rip), %rcx\n"
    "    call *(%rcx,%rbx,8)\n"
    "    pop %rcx\n"
    "    pop %rbx\n"
    "    add %r12, %rax\n"
    "    xor %rbp, %rcx\n"
    "    movsbq %r11b, %rdx\n"
    "    add %rdx, %rsi\n"
    "    decq (%rsp)\n"             /* dec leaves CF alone */
    "    jnz 1b\n"
    "    adc %rdx, %rsi\n"          /* final flags: CF from the loop body */
    "    pushfq\n"
    "    xchg %rdi, 16(%rsp)\n"     /* save app rdi, get the state pointer back */
    "    mov %rax, 0(%rdi)\n"
    "    mov %rbx, 8(%rdi)\n"
    "    mov %rcx, 16(%rdi)\n"
    "    mov %rdx, 24(%rdi)\n"
    "    mov %rsi, 32(%rdi)\n"
    "    mov %rbp, 48(%rdi)\n"
    "    mov %r8, 56(%rdi)\n"
    "    mov %r9, 64(%rdi)\n"
    "    mov %r10, 72(%rdi)\n"
    "    mov %r11, 80(%rdi)\n"
    "    mov %r12, 88(%rdi)\n"
    "    mov %r13, 96(%rdi)\n"
    "    mov %r14, 104(%rdi)\n"
    "    mov %r15, 112(%rdi)\n"
    "    mov 16(%rsp), %rax\n"
    "    mov %rax, 40(%rdi)\n"
    "    pop %rax\n"
    "    mov %rax, 120(%rdi)\n"
    "    add $16, %rsp\n"
    "    pop %r15\n"
    "    pop %r14\n"
    "    pop %r13\n"
    "    pop %r12\n"
    "    pop %rbp\n"
    "    pop %rbx\n"
    "    ret\n"
    "    .size gpr_kernel, .-gpr_kernel\n");

static const char *const names[15] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8",
    "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

int main(void)
{
    uint64_t state[16];
    for (int i = 0; i < 15; i++)
        state[i] = 0x0101010101010101ull * (uint64_t)(i + 1) ^ ((uint64_t)i << 60);
    state[15] = 0;

    gpr_kernel(state, 3000000);

    for (int i = 0; i < 15; i++)
        printf("%-3s = %016" PRIx64 "\n", names[i], state[i]);
    uint64_t f = state[15];
    printf("flags = %03" PRIx64 " [%s%s%s%s%s%s]\n", f & 0x8d5,
           f & 0x001 ? "CF " : "", f & 0x004 ? "PF " : "", f & 0x010 ? "AF " : "",
           f & 0x040 ? "ZF " : "", f & 0x080 ? "SF " : "", f & 0x800 ? "OF" : "");
    return 22;
}
