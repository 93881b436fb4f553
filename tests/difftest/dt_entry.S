/* dt_entry.S — the differential tester's switches between the harness and the code under
 * test: dt_enter loads a whole machine state (dt_in) and jumps to dt_jump_pc (app code or a
 * trace's cache code); the state comes back in dt_out through dt_native_end (the sequence's
 * end E jumps there) or dt_exit_routine (the fake thread's exit routine, which the trace's
 * exit stubs jump to: rax = the hp_link_t, the app's rax in gs:T_SPILL_RAX).
 * Invariants: between dt_enter's jump and the capture nothing but the code under test runs,
 * and the capture writes nothing on the app's stack (flags are read after switching back
 * to the harness stack), so the red zone below the app's rsp is the app's alone; the
 * vector state (xmm0..15, MXCSR) is loaded last before the jump and saved first at the
 * capture, by instructions that touch no other vector register, and the harness's MXCSR
 * is put back before C runs again. */
#include "thread_layout.h"

/* dt_regs_t (difftest.h) */
#define DT_OFF_FLAGS (16 * 8)
#define DT_OFF_MXCSR (17 * 8)
#define DT_OFF_X     (18 * 8)
#define DT_REGS_SIZE (50 * 8)

        .bss
        .align 16
        .globl dt_in, dt_out, dt_jump_pc, dt_link, dt_harness_rsp
dt_in:  .zero DT_REGS_SIZE               /* dt_regs_t: rax..r15, rflags, mxcsr, xmm0..15 */
dt_out: .zero DT_REGS_SIZE
dt_jump_pc:     .quad 0
dt_harness_mxcsr: .quad 0
dt_link:        .quad 0                 /* hp_link_t * of the exit taken, 0 at dt_native_end */
dt_harness_rsp: .quad 0

        .text
/* void dt_enter(void): run from dt_jump_pc with the state dt_in until the state is
 * captured in dt_out; returns to the caller then. */
        .globl dt_enter
        .type dt_enter, @function
dt_enter:
        pushq %rbx
        pushq %rbp
        pushq %r12
        pushq %r13
        pushq %r14
        pushq %r15
        movq %rsp, dt_harness_rsp(%rip)
        stmxcsr dt_harness_mxcsr(%rip)
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu dt_in+DT_OFF_X+16*\n(%rip), %xmm\n
        .endr
        ldmxcsr dt_in+DT_OFF_MXCSR(%rip)
        pushq dt_in+DT_OFF_FLAGS(%rip)
        popfq
        movq dt_in+0*8(%rip), %rax
        movq dt_in+1*8(%rip), %rcx
        movq dt_in+2*8(%rip), %rdx
        movq dt_in+3*8(%rip), %rbx
        movq dt_in+5*8(%rip), %rbp
        movq dt_in+6*8(%rip), %rsi
        movq dt_in+7*8(%rip), %rdi
        movq dt_in+8*8(%rip), %r8
        movq dt_in+9*8(%rip), %r9
        movq dt_in+10*8(%rip), %r10
        movq dt_in+11*8(%rip), %r11
        movq dt_in+12*8(%rip), %r12
        movq dt_in+13*8(%rip), %r13
        movq dt_in+14*8(%rip), %r14
        movq dt_in+15*8(%rip), %r15
        movq dt_in+4*8(%rip), %rsp
        jmp *dt_jump_pc(%rip)
        .size dt_enter, .-dt_enter

/* dt_native_end: where the sequence's end E jumps (all registers are the app's). */
        .globl dt_native_end
        .type dt_native_end, @function
dt_native_end:
        movq $0, dt_link(%rip)
        movq %rax, dt_out+0*8(%rip)
        jmp dt_capture
        .size dt_native_end, .-dt_native_end

/* dt_exit_routine: the fake thread's T_EXIT_ROUTINE (an exit stub's `jmp *%gs:...`). */
        .globl dt_exit_routine
        .type dt_exit_routine, @function
dt_exit_routine:
        movq %rax, dt_link(%rip)
        movq %gs:T_SPILL_RAX, %rax
        movq %rax, dt_out+0*8(%rip)
dt_capture:
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqu %xmm\n, dt_out+DT_OFF_X+16*\n(%rip)
        .endr
        stmxcsr dt_out+DT_OFF_MXCSR(%rip)
        ldmxcsr dt_harness_mxcsr(%rip)
        movq %rcx, dt_out+1*8(%rip)
        movq %rdx, dt_out+2*8(%rip)
        movq %rbx, dt_out+3*8(%rip)
        movq %rsp, dt_out+4*8(%rip)
        movq %rbp, dt_out+5*8(%rip)
        movq %rsi, dt_out+6*8(%rip)
        movq %rdi, dt_out+7*8(%rip)
        movq %r8, dt_out+8*8(%rip)
        movq %r9, dt_out+9*8(%rip)
        movq %r10, dt_out+10*8(%rip)
        movq %r11, dt_out+11*8(%rip)
        movq %r12, dt_out+12*8(%rip)
        movq %r13, dt_out+13*8(%rip)
        movq %r14, dt_out+14*8(%rip)
        movq %r15, dt_out+15*8(%rip)
        movq dt_harness_rsp(%rip), %rsp
        pushfq
        popq dt_out+DT_OFF_FLAGS(%rip)
        pushq $2                        /* DF, AC and TF clear for C */
        popfq
        popq %r15
        popq %r14
        popq %r13
        popq %r12
        popq %rbp
        popq %rbx
        ret
        .size dt_exit_routine, .-dt_exit_routine

        .section .note.GNU-stack, "", @progbits
