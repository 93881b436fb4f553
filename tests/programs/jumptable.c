/* jumptable — a 32-opcode bytecode interpreter whose dense switch gcc -O2 compiles to a
 * jump table (`jmp *%reg`, checked by run_programs.sh with objdump on vm_step). Each case
 * does different work so gcc cannot turn the switch into a lookup table of values. */
#include <stdint.h>
#include <stdio.h>

struct vm {
    uint64_t r[8];
    uint64_t mem[64];
    unsigned long counts[32];
};

__attribute__((noinline)) static void note(struct vm *vm, unsigned op) { vm->counts[op]++; }

/* Executes one instruction; returns the next pc offset. */
__attribute__((noinline, noclone)) unsigned vm_step(struct vm *vm, unsigned op, unsigned a, unsigned b)
{
    uint64_t *r = vm->r;
    switch (op) {
    case 0:  r[a] += r[b]; break;
    case 1:  r[a] -= r[b] * 3; break;
    case 2:  r[a] ^= r[b] >> 7; break;
    case 3:  r[a] = r[a] * 6364136223846793005ull + r[b]; break;
    case 4:  r[a] = (r[a] << 13) | (r[a] >> 51); break;
    case 5:  r[a] |= 1ull << (r[b] & 63); break;
    case 6:  r[a] &= ~(r[b] << 2); break;
    case 7:  vm->mem[r[b] & 63] = r[a]; break;
    case 8:  r[a] = vm->mem[r[b] & 63] + 1; break;
    case 9:  r[a] = r[b] ? r[a] / (r[b] | 1) : r[a] + 9; break;
    case 10: r[a] = r[a] % ((r[b] & 0xffff) + 3); break;
    case 11: note(vm, 11); r[a] += 11; break;
    case 12: r[a] = __builtin_popcountll(r[b]) + r[a]; break;
    case 13: r[a] = r[a] > r[b] ? r[a] - r[b] : r[b] - r[a]; break;
    case 14: r[a] = ~r[a] + a; break;
    case 15: r[a] = -r[b] ^ 0x5555; break;
    case 16: { uint64_t t = r[a]; r[a] = r[b]; r[b] = t; } break;
    case 17: r[a] = __builtin_bswap64(r[a]); break;
    case 18: r[a] = r[a] * 17 + 1717; break;
    case 19: r[a] += (uint64_t)__builtin_clzll(r[b] | 1); break;
    case 20: r[a] += (uint64_t)__builtin_ctzll(r[b] | 0x100000); break;
    case 21: note(vm, 21); r[b] ^= r[a]; break;
    case 22: r[a] = (r[a] >> 1) ^ (-(r[a] & 1) & 0xd800000000000000ull); break;
    case 23: vm->mem[(a * 8 + b) & 63] ^= r[a]; break;
    case 24: r[a] -= vm->mem[(r[a] >> 3) & 63]; break;
    case 25: return (unsigned)(r[a] & 3) + 1;
    case 26: r[a] = (uint32_t)r[a] * (uint64_t)(uint32_t)r[b]; break;
    case 27: r[a] += r[b] + (r[a] < r[b]); break;
    case 28: r[a] = (int64_t)r[a] >> 5; break;
    case 29: r[a] ^= 0x0123456789abcdefull; break;
    case 30: note(vm, 30); r[a] = r[a] + r[b] + 30; break;
    case 31: return 3;
    }
    vm->counts[op]++;
    return 1;
}

int main(void)
{
    static struct vm vm;
    unsigned char code[4096];
    uint32_t s = 7;
    for (unsigned i = 0; i < sizeof code; i++) {
        s = s * 1664525u + 1013904223u;
        code[i] = (unsigned char)(s >> 24);
    }
    for (int i = 0; i < 8; i++)
        vm.r[i] = 0x1111111111111111ull * (uint64_t)(i + 1);

    unsigned pc = 0;
    for (long step = 0; step < 3000000; step++) {
        unsigned char insn = code[pc % sizeof code];
        unsigned char arg = code[(pc + 1) % sizeof code];
        pc += vm_step(&vm, insn & 31, arg & 7, (arg >> 3) & 7);
    }

    for (int i = 0; i < 8; i++)
        printf("r%d = %016llx\n", i, (unsigned long long)vm.r[i]);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 64; i++)
        h = (h ^ vm.mem[i]) * 1099511628211ull;
    printf("mem hash = %016llx pc = %u\n", (unsigned long long)h, pc);
    for (int i = 0; i < 32; i++)
        printf("op%02d:%lu%c", i, vm.counts[i], i % 8 == 7 ? '\n' : ' ');
    return 13;
}
