/* emit.h — the fixed machine-code sequences the block builder writes into the cache.
 * Invariant: none of them changes the app's flags; the only registers they touch are the
 * ones their contract names, always spilled to the thread state first. */
#ifndef HOTPATH_EMIT_H
#define HOTPATH_EMIT_H
#include <stdint.h>
#include "thread_layout.h"

/* Bytes of an exit stub: mov %rax,%gs:T_SPILL_RAX; movabs $link,%rax; jmp *%gs:T_EXIT_ROUTINE */
#define EMIT_STUB_LEN 27
/* Bytes a far link writes over the start of a stub: jmp *0(%rip); .quad target */
#define EMIT_FAR_JMP_LEN 14

static inline uint8_t *emit_u8(uint8_t *p, uint8_t b) { *p = b; return p + 1; }
static inline uint8_t *emit_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 4;
}
static inline uint8_t *emit_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
    return p + 8;
}

/* emit_gs_abs: the operand bytes of `reg, %gs:off` (ModRM with a SIB of no base, no index). */
static inline uint8_t *emit_gs_abs(uint8_t *p, int reg, uint32_t off)
{
    p = emit_u8(p, (uint8_t)(0x04 | ((reg & 7) << 3)));
    p = emit_u8(p, 0x25);
    return emit_u32(p, off);
}
/* emit_gs_store / emit_gs_load: mov %reg64, %gs:off / mov %gs:off, %reg64 (reg 0..15). */
static inline uint8_t *emit_gs_mov(uint8_t *p, int reg, uint32_t off, uint8_t opcode)
{
    p = emit_u8(p, 0x65);
    p = emit_u8(p, (uint8_t)(0x48 | (reg >= 8 ? 4 : 0)));
    p = emit_u8(p, opcode);
    return emit_gs_abs(p, reg, off);
}
static inline uint8_t *emit_gs_store(uint8_t *p, int reg, uint32_t off) { return emit_gs_mov(p, reg, off, 0x89); }
static inline uint8_t *emit_gs_load(uint8_t *p, int reg, uint32_t off) { return emit_gs_mov(p, reg, off, 0x8b); }

/* emit_gs_xmm_store / emit_gs_xmm_load: movdqu %xmmN, %gs:off / movdqu %gs:off, %xmmN
 * (N 0..15, legacy SSE: the bits of ymmN/zmmN above 127 stay). */
static inline uint8_t *emit_gs_xmm(uint8_t *p, int reg, uint32_t off, uint8_t opcode)
{
    p = emit_u8(p, 0x65);
    p = emit_u8(p, 0xf3);
    if (reg >= 8) p = emit_u8(p, 0x44);
    p = emit_u8(p, 0x0f);
    p = emit_u8(p, opcode);
    return emit_gs_abs(p, reg, off);
}
static inline uint8_t *emit_gs_xmm_store(uint8_t *p, int reg, uint32_t off) { return emit_gs_xmm(p, reg, off, 0x7f); }
static inline uint8_t *emit_gs_xmm_load(uint8_t *p, int reg, uint32_t off) { return emit_gs_xmm(p, reg, off, 0x6f); }

/* emit_mov_imm64: movabs $v, %reg64 (reg 0..15); 10 bytes. */
static inline uint8_t *emit_mov_imm64(uint8_t *p, int reg, uint64_t v)
{
    p = emit_u8(p, (uint8_t)(0x48 | (reg >= 8 ? 1 : 0)));
    p = emit_u8(p, (uint8_t)(0xb8 + (reg & 7)));
    return emit_u64(p, v);
}

/* emit_jmp_rel32 / emit_jcc_rel32: the rel32 field is left for a later fixup; *field gets
 * its address. cc is the condition code (low nibble of the jcc opcode). */
static inline uint8_t *emit_jmp_rel32(uint8_t *p, uint8_t **field)
{
    p = emit_u8(p, 0xe9);
    *field = p;
    return emit_u32(p, 0);
}
static inline uint8_t *emit_jcc_rel32(uint8_t *p, int cc, uint8_t **field)
{
    p = emit_u8(p, 0x0f);
    p = emit_u8(p, (uint8_t)(0x80 | cc));
    *field = p;
    return emit_u32(p, 0);
}

/* emit_align_field: nops so that a field `off` bytes into the next instruction lies within
 * one naturally aligned 8-byte block: a rel32 that linking patches is then written with one
 * atomic store while other threads may execute it (Intel makes an unaligned store atomic
 * within a cache line, AMD within an aligned quadword: the stricter rule holds on both).
 * Padding only then (3 times in 8, where 4-byte alignment padded 3 times in 4) keeps a
 * cmp/test next to its jcc more often, which the CPU fuses into one uop. */
static inline uint8_t *emit_align_field(uint8_t *p, int off)
{
    while ((((uint64_t)p + (uint64_t)off) & 7) > 4) p = emit_u8(p, 0x90);
    return p;
}

/* emit_exit_jmp / emit_exit_jcc: a linkable jmp/jcc rel32 with its field aligned. */
static inline uint8_t *emit_exit_jmp(uint8_t *p, uint8_t **field)
{
    return emit_jmp_rel32(emit_align_field(p, 1), field);
}
static inline uint8_t *emit_exit_jcc(uint8_t *p, int cc, uint8_t **field)
{
    return emit_jcc_rel32(emit_align_field(p, 2), cc, field);
}

/* emit_save_flags_ax / emit_restore_flags_ax: keep the arithmetic flags in ax without
 * pushf (lahf; seto %al — and back: addb $0x7f,%al sets OF from al; sahf the rest).
 * rax must be spilled first. */
static inline uint8_t *emit_save_flags_ax(uint8_t *p)
{
    p = emit_u8(p, 0x9f);                                             /* lahf */
    p = emit_u8(p, 0x0f); p = emit_u8(p, 0x90);
    return emit_u8(p, 0xc0);                                           /* seto %al */
}
static inline uint8_t *emit_restore_flags_ax(uint8_t *p)
{
    p = emit_u8(p, 0x04);
    p = emit_u8(p, 0x7f);                                              /* addb $0x7f,%al */
    return emit_u8(p, 0x9e);                                           /* sahf */
}

/* emit_lea_rcx: lea disp(%rcx),%rcx (no flags). */
static inline uint8_t *emit_lea_rcx(uint8_t *p, int32_t disp)
{
    p = emit_u8(p, 0x48); p = emit_u8(p, 0x8d); p = emit_u8(p, 0x89);
    return emit_u32(p, (uint32_t)disp);
}

/* emit_rot_consts / emit_rot_rcx / emit_unrot_rcx: a flag-free 64-bit compare of rcx with a
 * constant T that touches only rcx (BMI2's rorx; the caller checks the CPU has it):
 *     lea -D(%rcx),%rcx ; rorx $32,%rcx,%rcx ; lea -H(%rcx),%rcx
 * with D = T's low 32 bits sign-extended and H = the high half of T - D (whose low half is
 * zero): rcx becomes 0 exactly when it was T (each step is one-to-one, and T - D rotated by
 * 32 is H), ready for jrcxz. emit_unrot_rcx runs the steps backwards and gives rcx back.
 * emit_rot_consts returns 0 when T does not fit (D = INT32_MIN, or H above INT32_MAX:
 * kernel-half addresses). */
typedef struct { int32_t d, h; } emit_rot_t;

static inline int emit_rot_consts(uint64_t t, emit_rot_t *r)
{
    int32_t d = (int32_t)(uint32_t)t;
    uint64_t h = (t - (uint64_t)(int64_t)d) >> 32;
    if (d == INT32_MIN || h > INT32_MAX) return 0;
    r->d = d;
    r->h = (int32_t)h;
    return 1;
}

static inline uint8_t *emit_rorx32_rcx(uint8_t *p)               /* rorx $32,%rcx,%rcx */
{
    static const uint8_t b[] = { 0xc4, 0xe3, 0xfb, 0xf0, 0xc9, 0x20 };
    for (unsigned k = 0; k < sizeof(b); k++) p = emit_u8(p, b[k]);
    return p;
}

static inline uint8_t *emit_rot_rcx(uint8_t *p, emit_rot_t r)
{
    return emit_lea_rcx(emit_rorx32_rcx(emit_lea_rcx(p, -r.d)), -r.h);
}

static inline uint8_t *emit_unrot_rcx(uint8_t *p, emit_rot_t r)
{
    return emit_lea_rcx(emit_rorx32_rcx(emit_lea_rcx(p, r.h)), r.d);
}

/* emit_set_rel32: point a rel32 field at target. Caller checked reachability. */
static inline void emit_set_rel32(uint8_t *field, uint64_t target)
{
    int32_t d = (int32_t)(target - ((uint64_t)field + 4));
    __atomic_store_n((uint32_t *)field, (uint32_t)d, __ATOMIC_RELEASE);
}

/* emit_push_imm64: push a 64-bit constant without touching flags or registers. The two
 * halves are written below rsp before rsp moves, so a fault on them (a stack overflow) leaves
 * rsp where the push found it, as a faulting push does (signal frames skip the 128 bytes
 * below rsp). */
static inline uint8_t *emit_push_imm64(uint8_t *p, uint64_t v)
{
    if ((int64_t)v == (int64_t)(int32_t)v) {           /* push $imm32 (sign-extended) */
        p = emit_u8(p, 0x68);
        return emit_u32(p, (uint32_t)v);
    }
    p = emit_u8(p, 0xc7); p = emit_u8(p, 0x44); p = emit_u8(p, 0x24); p = emit_u8(p, 0xf8);
    p = emit_u32(p, (uint32_t)v);                                      /* movl $lo,-8(%rsp) */
    p = emit_u8(p, 0xc7); p = emit_u8(p, 0x44); p = emit_u8(p, 0x24); p = emit_u8(p, 0xfc);
    p = emit_u32(p, (uint32_t)(v >> 32));                              /* movl $hi,-4(%rsp) */
    static const uint8_t lea[] = { 0x48, 0x8d, 0x64, 0x24, 0xf8 };   /* lea -8(%rsp),%rsp */
    for (unsigned i = 0; i < sizeof(lea); i++) p = emit_u8(p, lea[i]);
    return p;
}

/* emit_lea_rsp: lea imm(%rsp),%rsp (flags untouched). */
static inline uint8_t *emit_lea_rsp(uint8_t *p, int32_t imm)
{
    static const uint8_t lea[] = { 0x48, 0x8d, 0xa4, 0x24 };
    for (unsigned i = 0; i < sizeof(lea); i++) p = emit_u8(p, lea[i]);
    return emit_u32(p, (uint32_t)imm);
}

/* emit_stub: an exit stub that enters the dispatcher with rax = link (app rax spilled). */
static inline uint8_t *emit_stub(uint8_t *p, uint64_t link)
{
    p = emit_gs_store(p, 0, T_SPILL_RAX);
    p = emit_mov_imm64(p, 0, link);
    p = emit_u8(p, 0x65); p = emit_u8(p, 0xff); p = emit_u8(p, 0x24); p = emit_u8(p, 0x25);
    return emit_u32(p, T_EXIT_ROUTINE);
}

/* emit_far_jmp: jmp *0(%rip); .quad target — a link that a rel32 cannot reach. */
static inline uint8_t *emit_far_jmp(uint8_t *p, uint64_t target)
{
    p = emit_u8(p, 0xff); p = emit_u8(p, 0x25);
    p = emit_u32(p, 0);
    return emit_u64(p, target);
}

#endif
