/* interp.c — a small stack-machine bytecode interpreter with switch dispatch.
 * Stresses: one hot indirect jump (the switch's jump table) with many targets and a
 * data-dependent target sequence; loads/stores to the operand stack and locals.
 * The bytecode program is built at run time, so the compiler cannot fold it.
 * Usage: interp [N]   (default 8000000): the guest program runs an outer loop N times
 * with a short inner loop inside. Prints the guest program's accumulator. */
#include <stdio.h>
#include <stdlib.h>

enum op {
    OP_PUSH, OP_LOAD, OP_STORE, OP_ADD, OP_SUB, OP_MUL, OP_MOD, OP_AND, OP_XOR, OP_SHL,
    OP_SHR, OP_LT, OP_DUP, OP_SWAP, OP_POP, OP_JMP, OP_JZ, OP_JNZ, OP_INC, OP_HALT,
};

/* locals of the guest program */
enum { V_I, V_N, V_ACC, V_J, V_X, NVARS };

static long run(const long *code, long *vars)
{
    long stack[64];
    int sp = 0;
    long pc = 0;
    for (;;) {
        long a, b;
        switch ((enum op)code[pc++]) {
        case OP_PUSH:  stack[sp++] = code[pc++]; break;
        case OP_LOAD:  stack[sp++] = vars[code[pc++]]; break;
        case OP_STORE: vars[code[pc++]] = stack[--sp]; break;
        case OP_ADD:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a + b; break;
        case OP_SUB:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a - b; break;
        case OP_MUL:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a * b; break;
        case OP_MOD:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a % b; break;
        case OP_AND:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a & b; break;
        case OP_XOR:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a ^ b; break;
        case OP_SHL:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = a << b; break;
        case OP_SHR:   b = stack[--sp]; a = stack[--sp]; stack[sp++] = (long)((unsigned long)a >> b); break;
        case OP_LT:    b = stack[--sp]; a = stack[--sp]; stack[sp++] = a < b; break;
        case OP_DUP:   stack[sp] = stack[sp - 1]; sp++; break;
        case OP_SWAP:  a = stack[sp - 1]; stack[sp - 1] = stack[sp - 2]; stack[sp - 2] = a; break;
        case OP_POP:   sp--; break;
        case OP_JMP:   pc = code[pc]; break;
        case OP_JZ:    pc = stack[--sp] == 0 ? code[pc] : pc + 1; break;
        case OP_JNZ:   pc = stack[--sp] != 0 ? code[pc] : pc + 1; break;
        case OP_INC:   vars[code[pc]]++; pc++; break;
        case OP_HALT:  return sp > 0 ? stack[sp - 1] : 0;
        default:       fprintf(stderr, "interp: bad opcode at %ld\n", pc - 1); exit(2);
        }
    }
}

static long code[256];
static int ncode;
static void emit(long w) { code[ncode++] = w; }

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 8000000;
    long vars[NVARS] = {0};
    vars[V_N] = n;
    vars[V_ACC] = 1;

    /* for (i = 0; i < n; i++) {
     *     x = (acc ^ (i << 3)) & 0xffff;
     *     for (j = 0; j < (i & 3) + 2; j++)
     *         x = (x * 75 + 74) % 65537;
     *     acc = ((acc * 31) + x) & 0xffffffff; acc = acc ^ (acc >> 7);
     * } return acc;                                                        */
    long top, inner, inner_end, done, patch_done, patch_inner_end;
    top = ncode;
    emit(OP_LOAD); emit(V_I); emit(OP_LOAD); emit(V_N); emit(OP_LT);
    emit(OP_JZ); patch_done = ncode; emit(0);
    emit(OP_LOAD); emit(V_ACC); emit(OP_LOAD); emit(V_I); emit(OP_PUSH); emit(3); emit(OP_SHL);
    emit(OP_XOR); emit(OP_PUSH); emit(0xffff); emit(OP_AND); emit(OP_STORE); emit(V_X);
    emit(OP_PUSH); emit(0); emit(OP_STORE); emit(V_J);
    inner = ncode;
    emit(OP_LOAD); emit(V_J); emit(OP_LOAD); emit(V_I); emit(OP_PUSH); emit(3); emit(OP_AND);
    emit(OP_PUSH); emit(2); emit(OP_ADD); emit(OP_LT);
    emit(OP_JZ); patch_inner_end = ncode; emit(0);
    emit(OP_LOAD); emit(V_X); emit(OP_PUSH); emit(75); emit(OP_MUL); emit(OP_PUSH); emit(74);
    emit(OP_ADD); emit(OP_PUSH); emit(65537); emit(OP_MOD); emit(OP_STORE); emit(V_X);
    emit(OP_INC); emit(V_J);
    emit(OP_JMP); emit(inner);
    inner_end = ncode;
    emit(OP_LOAD); emit(V_ACC); emit(OP_PUSH); emit(31); emit(OP_MUL); emit(OP_LOAD); emit(V_X);
    emit(OP_ADD); emit(OP_PUSH); emit(0xffffffffL); emit(OP_AND);
    emit(OP_DUP); emit(OP_PUSH); emit(7); emit(OP_SHR); emit(OP_XOR); emit(OP_STORE); emit(V_ACC);
    emit(OP_INC); emit(V_I);
    emit(OP_JMP); emit(top);
    done = ncode;
    emit(OP_LOAD); emit(V_ACC); emit(OP_HALT);
    code[patch_done] = done;
    code[patch_inner_end] = inner_end;

    long acc = run(code, vars);
    printf("interp n=%ld checksum=%ld\n", n, acc);
    return 0;
}
