/* dispatch_loop — a stack-machine bytecode interpreter with one switch (a jump table gcc
 * -O2 compiles to `jmp *%reg`) running a guest loop: the case --trace-dispatch is for.
 * Each handler's trace takes the dispatch along and goes on into the next handler, so the
 * inline checks follow the guest program (run_traces.sh compares the lookups with
 * --no-trace-dispatch). Output: one checksum line. Usage: dispatch_loop [N] */
#include <stdio.h>
#include <stdlib.h>

enum op { PUSH, LOAD, STORE, ADD, MUL, MOD, XOR, SHR, LT, JZ, JMP, INC, HALT };

__attribute__((noinline)) static long run(const long *code, long *vars)
{
    long stack[16], sp = 0, pc = 0, a, b;
    for (;;) {
        switch ((enum op)code[pc++]) {
        case PUSH:  stack[sp++] = code[pc++]; break;
        case LOAD:  stack[sp++] = vars[code[pc++]]; break;
        case STORE: vars[code[pc++]] = stack[--sp]; break;
        case ADD:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a + b; break;
        case MUL:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a * b; break;
        case MOD:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a % b; break;
        case XOR:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a ^ b; break;
        case SHR:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = (long)((unsigned long)a >> b); break;
        case LT:    b = stack[--sp]; a = stack[--sp]; stack[sp++] = a < b; break;
        case JZ:    pc = stack[--sp] == 0 ? code[pc] : pc + 1; break;
        case JMP:   pc = code[pc]; break;
        case INC:   vars[code[pc]]++; pc++; break;
        case HALT:  return stack[sp - 1];
        default:    fprintf(stderr, "bad opcode\n"); exit(2);
        }
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 300000;
    enum { I, N, ACC };
    long vars[3] = { 0, n, 1 };
    /* while (i < n) { acc = (acc * 75 + 74) % 65537 ^ (acc >> 3); i++; } return acc; */
    long code[] = {
        LOAD, I, LOAD, N, LT, JZ, 27,
        LOAD, ACC, PUSH, 75, MUL, PUSH, 74, ADD, PUSH, 65537, MOD,
        LOAD, ACC, PUSH, 3, SHR, XOR, STORE, ACC,
        INC, I, JMP, 0,
        LOAD, ACC, HALT,
    };
    code[6] = 30;                                   /* the exit: the LOAD ACC after JMP */
    printf("dispatch_loop n=%ld acc=%ld\n", n, run(code, vars));
    return 0;
}
