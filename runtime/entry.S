/* entry.S — the context switches between the app (in the code cache) and the runtime, the
 * takeover entry, and the indirect-lookup template copied into the cache.
 * Invariants: every app general register and rflags is saved in the thread's context
 * (gs:T_CTX..) before any runtime C code runs and restored exactly before the cache is
 * entered; the runtime runs on its own stack with DF clear; the runtime C code is built
 * with -mgeneral-regs-only, and the only code that may touch SIMD state (Zydis) is wrapped
 * in xsave/xrstor by dispatch.c. */
#include "thread_layout.h"

        .text

/* hp_cache_exit: reached by `jmp *%gs:T_EXIT_ROUTINE` from an exit stub or a lookup miss.
 * In: app rax in gs:T_SPILL_RAX, rax = hp_link_t * of the exit; everything else is app. */
        .globl hp_cache_exit
        .hidden hp_cache_exit
        .type hp_cache_exit, @function
hp_cache_exit:
        movq %rax, %gs:T_EXIT_REC
        movq %gs:T_SPILL_RAX, %rax
        movq %rax, %gs:T_CTX+0*8
        movq %rcx, %gs:T_CTX+1*8
        movq %rdx, %gs:T_CTX+2*8
        movq %rbx, %gs:T_CTX+3*8
        movq %rsp, %gs:T_CTX+4*8
        movq %rbp, %gs:T_CTX+5*8
        movq %rsi, %gs:T_CTX+6*8
        movq %rdi, %gs:T_CTX+7*8
        movq %r8,  %gs:T_CTX+8*8
        movq %r9,  %gs:T_CTX+9*8
        movq %r10, %gs:T_CTX+10*8
        movq %r11, %gs:T_CTX+11*8
        movq %r12, %gs:T_CTX+12*8
        movq %r13, %gs:T_CTX+13*8
        movq %r14, %gs:T_CTX+14*8
        movq %r15, %gs:T_CTX+15*8
        movq %gs:T_RT_STACK, %rsp
        pushfq
        popq %gs:T_CTX_FLAGS
        pushq $2                        /* clean flags for C: DF, AC, TF clear */
        popfq
        /* fall through */

/* hp_dispatch_enter: on the runtime stack (16-byte aligned), run the dispatcher, then
 * restore the app context and jump to gs:T_ENTRY_PC (cache pc, or app pc after detach). */
        .globl hp_dispatch_enter
        .hidden hp_dispatch_enter
hp_dispatch_enter:
        movq %gs:T_SELF, %rdi
        call hp_dispatch
/* From here to hp_enter_tail_end only registers change: a signal caught here restarts at
 * hp_dispatch_enter (signals.c). The pending check is inside: a signal caught between it
 * and the jump would otherwise wait in the queue while the app runs on, into a blocking
 * system call for all it knows. */
        .globl hp_enter_tail_begin
        .hidden hp_enter_tail_begin
hp_enter_tail_begin:
        cmpq $0, %gs:T_PENDING          /* a signal came in meanwhile: deliver it first */
        jne hp_dispatch_enter
        pushq %gs:T_CTX_FLAGS
        popfq
        movq %gs:T_CTX+0*8, %rax
        movq %gs:T_CTX+1*8, %rcx
        movq %gs:T_CTX+2*8, %rdx
        movq %gs:T_CTX+3*8, %rbx
        movq %gs:T_CTX+5*8, %rbp
        movq %gs:T_CTX+6*8, %rsi
        movq %gs:T_CTX+7*8, %rdi
        movq %gs:T_CTX+8*8, %r8
        movq %gs:T_CTX+9*8, %r9
        movq %gs:T_CTX+10*8, %r10
        movq %gs:T_CTX+11*8, %r11
        movq %gs:T_CTX+12*8, %r12
        movq %gs:T_CTX+13*8, %r13
        movq %gs:T_CTX+14*8, %r14
        movq %gs:T_CTX+15*8, %r15
        movq %gs:T_CTX+4*8, %rsp
        jmp *%gs:T_ENTRY_PC
        .globl hp_enter_tail_end
        .hidden hp_enter_tail_end
hp_enter_tail_end:
        .size hp_cache_exit, .-hp_cache_exit

/* hp_sig_restorer: the sa_restorer of hotpath's own signal handler. */
        .globl hp_sig_restorer
        .hidden hp_sig_restorer
hp_sig_restorer:
        movl $15, %eax                  /* rt_sigreturn */
        syscall
        hlt

/* hp_clone_raw(nr, a1, a2, a3, a4, a5, child): perform clone/clone3/vfork for the app.
 * The parent gets the kernel's result back. The child (rax == 0) points gs at its own
 * state `child` (prepared by the parent, with the app context the child starts with),
 * switches to its own runtime stack and enters the dispatcher: it never returns here and
 * never touches the stack the kernel gave it. */
        .globl hp_clone_raw
        .hidden hp_clone_raw
        .type hp_clone_raw, @function
hp_clone_raw:
        pushq %r12
        movq 16(%rsp), %r12
        movq %rdi, %rax
        movq %rsi, %rdi
        movq %rdx, %rsi
        movq %rcx, %rdx
        movq %r8, %r10
        movq %r9, %r8
        syscall
        testq %rax, %rax
        jz 1f
        popq %r12
        ret
1:      movl $158, %eax               /* arch_prctl(ARCH_SET_GS, child) */
        movl $0x1001, %edi
        movq %r12, %rsi
        syscall
        movq T_RT_STACK(%r12), %rsp
        movl $14, %eax                /* rt_sigprocmask(SIG_SETMASK, &child->clone_mask, 0, 8): */
        movl $2, %edi                 /* the parent blocked every signal around the clone, so */
        leaq T_CLONE_MASK(%r12), %rsi /* none came in while gs was still the parent's */
        xorl %edx, %edx
        movl $8, %r10d
        syscall
        jmp hp_dispatch_enter
        .size hp_clone_raw, .-hp_clone_raw

/* hp_takeover_entry: called by ld.so as an init_array function (argc, argv, envp).
 * Saves the caller's registers as an image on the stack: rax..r15 at 0..15*8, rflags at
 * 16*8, the return address at 17*8, and passes it to hp_takeover_c. If that returns 0,
 * hotpath stays out: restore and return normally. Otherwise gs is set up and the thread's
 * context holds the state right after our return: run the dispatcher and enter the cache. */
        .globl hp_takeover_entry
        .hidden hp_takeover_entry
        .type hp_takeover_entry, @function
hp_takeover_entry:
        pushfq
        pushq %r15
        pushq %r14
        pushq %r13
        pushq %r12
        pushq %r11
        pushq %r10
        pushq %r9
        pushq %r8
        pushq %rdi
        pushq %rsi
        pushq %rbp
        pushq %rsp
        pushq %rbx
        pushq %rdx
        pushq %rcx
        pushq %rax
        movq %rsp, %rdi
        movq %rsp, %rbx
        andq $-16, %rsp
        call hp_takeover_c
        testl %eax, %eax
        jz 1f
        movq %gs:T_RT_STACK, %rsp
        jmp hp_dispatch_enter
1:      movq %rbx, %rsp
        popq %rax
        popq %rcx
        popq %rdx
        popq %rbx
        addq $8, %rsp
        popq %rbp
        popq %rsi
        popq %rdi
        popq %r8
        popq %r9
        popq %r10
        popq %r11
        popq %r12
        popq %r13
        popq %r14
        popq %r15
        popfq
        ret
        .size hp_takeover_entry, .-hp_takeover_entry

/* hp_ibl_tmpl: the in-cache indirect branch lookup, copied after every translated
 * indirect jmp, call and ret. Position independent: only gs-absolute data and internal
 * relative jumps. In: rcx = app target, app rcx in gs:T_SPILL_RCX.
 * Flags are kept with lahf/seto (no pushf), as DynamoRIO does. The slot is the low 16
 * bits of the target; the entry there and its neighbour are probed (ibl.c keeps a target
 * in one of the two). A flag-free probe (not/lea/jrcxz) measured slower on this machine.
 * The hit counter is copied only when statistics are asked for: its read-modify-write on
 * one gs slot chains every lookup through store forwarding (interp 2.0x -> see PERFORMANCE).
 * A hit compares the entry's app pc again after loading its cache pc: between the two
 * loads another thread may remove the target (its app pc zeroed) and give the entry to
 * another (ibl.c), whose cache pc this thread would otherwise run. (An entry that goes
 * from A to B and back to A while a probe is stopped between its loads still fools it:
 * two removals within three instructions; a sequence count would close that too.) */

        .globl hp_ibl_tmpl_begin
        .hidden hp_ibl_tmpl_begin
        .globl hp_ibl_tmpl_end
        .hidden hp_ibl_tmpl_end
hp_ibl_tmpl_begin:
        movq %rax, %gs:T_SPILL_RAX
        movq %rdx, %gs:T_SPILL_RDX
        lahf
        seto %al
        movzwl %cx, %edx
        shlq $4, %rdx
        addq %gs:T_IBL_TABLE, %rdx
        cmpq (%rdx), %rcx
        je 2f
        addq $16, %rdx
        cmpq (%rdx), %rcx
        je 2f
3:      movq %rcx, %gs:T_IBL_TARGET
        addb $0x7f, %al
        sahf
        movq %gs:T_SPILL_RCX, %rcx
        movq %gs:T_SPILL_RDX, %rdx
        movq %gs:T_IBL_REC, %rax
        jmp *%gs:T_EXIT_ROUTINE
2:      movq %rcx, %gs:T_IBL_TARGET
        movq 8(%rdx), %rcx
        movq %rcx, %gs:T_IBL_JMP
        movq %gs:T_IBL_TARGET, %rcx
        cmpq (%rdx), %rcx               /* still its entry: a writer may have emptied it */
        jne 3b                          /* and given it to another target meanwhile */
        .globl hp_ibl_tmpl_count
        .hidden hp_ibl_tmpl_count
hp_ibl_tmpl_count:                      /* copied only with --stats-json (bb_ibl) */
        addq $1, %gs:T_IBL_COUNT
        .globl hp_ibl_tmpl_count_end
        .hidden hp_ibl_tmpl_count_end
hp_ibl_tmpl_count_end:
        addb $0x7f, %al
        sahf
        movq %gs:T_SPILL_RAX, %rax
        movq %gs:T_SPILL_RCX, %rcx
        movq %gs:T_SPILL_RDX, %rdx
        jmp *%gs:T_IBL_JMP
hp_ibl_tmpl_end:

        .section .note.GNU-stack, "", @progbits
