/* builder.c — the block builder: decode app instructions with Zydis and write their
 * translation into the cache, one small action per instruction kind (fastBT style).
 * Invariants: the translation executes exactly the app's instructions; the app sees only
 * app addresses (calls push app return addresses; after a syscall rcx holds the app pc);
 * every control transfer out of a block goes through an exit stub with a link record, or
 * through the in-cache indirect lookup; only the last instruction of a block transfers
 * control (a syscall may continue the block). */
#include <sys/mman.h>
#include <Zydis/Zydis.h>
#include "builder.h"
#include "cache.h"
#include "emit.h"
#include "heap.h"
#include "maps.h"
#include "builder_int.h"

#define BB_RESERVE 16384
#define BB_SLACK 512            /* room one instruction and its stubs may need */
#define BB_EXITS 4
#define BB_XL 130               /* map entries: instructions (max-block-insns is capped) + end */

static ZydisDecoder bb_decoder;

void builder_init(void)
{
    ZydisDecoderInit(&bb_decoder, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

void bb_add_exit(bb_ctx_t *c, uint32_t kind, uint64_t target, uint8_t *field, uint32_t len)
{
    if (c->nexits == c->cap_exits) { c->overflow = 1; return; }
    bb_exit_t *e = &c->exits[c->nexits++];
    e->kind = kind;
    e->target = target;
    e->field = field;
    e->insn_len = len;
}

/* ---- actions: one per instruction kind ---- */

/* Plain copy; a RIP-relative displacement is rewritten for the new address. */
hp_status_t bb_copy(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                           const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    hp_memcpy(c->p, code, in->length);
    if (in->attributes & ZYDIS_ATTRIB_IS_RELATIVE) {
        int found = 0;
        for (int i = 0; i < in->operand_count; i++)
            if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.base == ZYDIS_REGISTER_RIP)
                found = 1;
        if (!found || in->raw.disp.size != 32) { c->why = "relative operand"; return HP_ERR_UNSUPPORTED; }
        uint64_t abs = pc + in->length + (uint64_t)in->raw.disp.value;
        uint64_t end = (uint64_t)c->p + in->length;
        if (!cache_reachable(end, abs)) { c->why = "rip-relative operand out of reach"; return HP_ERR_ENCODE; }
        emit_u32(c->p + in->raw.disp.offset, (uint32_t)(int32_t)(int64_t)(abs - end));
    }
    c->p += in->length;
    return HP_OK;
}

static hp_status_t bb_jmp_direct(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                                 const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    (void)code;
    uint8_t *field;
    c->p = emit_exit_jmp(c->p, &field);
    bb_add_exit(c, LINK_DIRECT, pc + in->length + (uint64_t)ops[0].imm.value.s, field, 0);
    c->ended = 1;
    return HP_OK;
}

static hp_status_t bb_jcc(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                          const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    (void)code;
    uint8_t *taken, *fall;
    c->p = emit_exit_jcc(c->p, in->opcode & 0x0f, &taken);
    c->p = emit_exit_jmp(c->p, &fall);
    bb_add_exit(c, LINK_DIRECT, pc + in->length + (uint64_t)ops[0].imm.value.s, taken, 0);
    bb_add_exit(c, LINK_DIRECT, pc + in->length, fall, 0);
    c->ended = 1;
    return HP_OK;
}

/* jrcxz/jecxz/loop*: 8-bit displacement only. Rewritten as
 *   <insn> 1f ; jmp fallthrough-stub ; 1: jmp target-stub   (each jmp field aligned) */
static hp_status_t bb_short_loop(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                                 const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    uint8_t *taken, *fall;
    hp_memcpy(c->p, code, in->length);
    uint8_t *rel8 = c->p + in->length - 1;
    c->p += in->length;
    c->p = emit_exit_jmp(c->p, &fall);
    uint8_t *taken_at = c->p;
    c->p = emit_exit_jmp(c->p, &taken);
    *rel8 = (uint8_t)(taken_at - (rel8 + 1));
    bb_add_exit(c, LINK_DIRECT, pc + in->length, fall, 0);
    bb_add_exit(c, LINK_DIRECT, pc + in->length + (uint64_t)ops[0].imm.value.s, taken, 0);
    c->ended = 1;
    return HP_OK;
}

void bb_rip_const(bb_ctx_t *c, uint64_t v)
{
    c->rets[c->nrets].field = c->p;
    c->rets[c->nrets++].value = v;
    c->p = emit_u32(c->p, 0);
}

/* bb_push_return: push the app return address as one 8-byte store, so the ret that pops
 * it gets store-to-load forwarding: `push $imm32` when it fits (non-PIE), else
 * `pushq ret(%rip)` from a constant written after the block's stubs (bb_finish). */
void bb_push_return(bb_ctx_t *c, uint64_t ret)
{
    if ((int64_t)ret == (int64_t)(int32_t)ret || c->nrets == BB_RETS) {
        c->p = emit_push_imm64(c->p, ret);
        return;
    }
    c->p = emit_u8(c->p, 0xff);
    c->p = emit_u8(c->p, 0x35);
    bb_rip_const(c, ret);
}

static hp_status_t bb_call_direct(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                                  const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    (void)code;
    uint8_t *field;
    bb_push_return(c, pc + in->length);
    c->p = emit_exit_jmp(c->p, &field);
    bb_add_exit(c, LINK_DIRECT, pc + in->length + (uint64_t)ops[0].imm.value.s, field,
                in->length);                       /* nonzero: a call's exit (traces/trace.c) */
    c->ended = 1;
    return HP_OK;
}

/* bb_ibl: the lookup template; its hit counter only when statistics are written. */
uint8_t *bb_ibl(uint8_t *p)
{
    size_t n = (size_t)(hp_ibl_tmpl_count - hp_ibl_tmpl_begin);
    hp_memcpy(p, hp_ibl_tmpl_begin, n);
    p += n;
    if (hp_rt.opts.stats_json[0]) {
        n = (size_t)(hp_ibl_tmpl_count_end - hp_ibl_tmpl_count);
        hp_memcpy(p, hp_ibl_tmpl_count, n);
        p += n;
    }
    n = (size_t)(hp_ibl_tmpl_end - hp_ibl_tmpl_count_end);
    hp_memcpy(p, hp_ibl_tmpl_count_end, n);
    return p + n;
}

/* mov <operand of an indirect jmp/call>, %rcx — with the app's rcx still in place. */
/* bb_ibl_trace: the lookup for an exit of a trace: the template probing the traces' table
 * (T_IBL_TTABLE) and missing through T_IBL_TREC, so the dispatcher counts the target as a
 * trace head. The two gs displacements of the copy are rewritten. */
uint8_t *bb_ibl_trace(uint8_t *p)
{
    static const uint8_t table[] = { 0x65, 0x48, 0x03, 0x14, 0x25, T_IBL_TABLE, 0, 0, 0 };
    static const uint8_t rec[] = { 0x65, 0x48, 0x8b, 0x04, 0x25, T_IBL_REC, 0, 0, 0 };
    uint8_t *end = bb_ibl(p);
    if (!hp_rt.opts.trace_ibl) return end;
    for (uint8_t *q = p; q + sizeof(table) <= end; q++) {
        int is_table = 1, is_rec = 1;
        for (unsigned k = 0; k < sizeof(table); k++) {
            if (q[k] != table[k]) is_table = 0;
            if (q[k] != rec[k]) is_rec = 0;
        }
        if (is_table) q[5] = T_IBL_TTABLE;
        if (is_rec) q[5] = T_IBL_TREC;
    }
    return end;
}

hp_status_t bb_load_target(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                           const ZydisDecodedOperand *op, uint64_t pc)
{
    ZydisEncoderRequest req;
    bb_req_reg(&req, ZYDIS_MNEMONIC_MOV, 2, ZYDIS_REGISTER_RCX);
    if (op->type == ZYDIS_OPERAND_TYPE_REGISTER) {
        if (op->size != 64) { c->why = "indirect branch through a narrow register"; return HP_ERR_UNSUPPORTED; }
        req.operands[1].type = ZYDIS_OPERAND_TYPE_REGISTER;
        req.operands[1].reg.value = op->reg.value;
    } else if (op->type == ZYDIS_OPERAND_TYPE_MEMORY) {
        if (op->size != 64) { c->why = "indirect branch through a narrow operand"; return HP_ERR_UNSUPPORTED; }
        req.operands[1].type = ZYDIS_OPERAND_TYPE_MEMORY;
        req.operands[1].mem.base = op->mem.base;
        req.operands[1].mem.index = op->mem.index;
        req.operands[1].mem.scale = op->mem.index == ZYDIS_REGISTER_NONE ? 0 : op->mem.scale;
        req.operands[1].mem.displacement = op->mem.disp.value;
        req.operands[1].mem.size = 8;
        if (op->mem.segment == ZYDIS_REGISTER_FS) req.prefixes |= ZYDIS_ATTRIB_HAS_SEGMENT_FS;
        if (op->mem.base == ZYDIS_REGISTER_RIP) {
            uint64_t abs = pc + in->length + (uint64_t)op->mem.disp.value;
            if (!cache_reachable((uint64_t)c->p + 7, abs)) {
                /* movabs $abs,%rcx ; mov (%rcx),%rcx */
                c->p = emit_mov_imm64(c->p, R_RCX, abs);
                c->p = emit_u8(c->p, 0x48); c->p = emit_u8(c->p, 0x8b); c->p = emit_u8(c->p, 0x09);
                return HP_OK;
            }
            req.operands[1].mem.displacement = (int64_t)abs;
        }
    } else {
        c->why = "indirect branch operand";
        return HP_ERR_UNSUPPORTED;
    }
    ZyanUSize len = 16;
    ZyanStatus zs = op->type == ZYDIS_OPERAND_TYPE_MEMORY && op->mem.base == ZYDIS_REGISTER_RIP
        ? ZydisEncoderEncodeInstructionAbsolute(&req, c->p, &len, (ZyanU64)c->p)
        : ZydisEncoderEncodeInstruction(&req, c->p, &len);
    if (!ZYAN_SUCCESS(zs)) { c->why = "cannot encode indirect target load"; return HP_ERR_ENCODE; }
    c->p += len;
    return HP_OK;
}

hp_status_t bb_indirect_target(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *ops, uint64_t pc)
{
    if (!c->rcx_spilled) c->p = emit_gs_store(c->p, R_RCX, T_SPILL_RCX);
    c->rcx_spilled = 0;
    if (in->mnemonic == ZYDIS_MNEMONIC_RET) {
        c->p = emit_u8(c->p, 0x59);                               /* pop %rcx */
        if (in->operand_count_visible > 0 && ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && ops[0].imm.value.u)
            c->p = emit_lea_rsp(c->p, (int32_t)ops[0].imm.value.u);
        return HP_OK;
    }
    CHECK(bb_load_target(c, in, &ops[0], pc));
    if (in->mnemonic == ZYDIS_MNEMONIC_CALL) bb_push_return(c, pc + in->length);
    return HP_OK;
}

static hp_status_t bb_indirect(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    (void)code;
    CHECK(bb_indirect_target(c, in, ops, pc));
    c->p = bb_ibl(c->p);
    c->ended = 1;
    return HP_OK;
}

static hp_status_t bb_ret(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                          const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    return bb_indirect(c, in, ops, pc, code);
}

/* syscall: rcx and r11 are dead (the kernel overwrites them), so they test, without
 * touching flags, whether the runtime must see this system call number:
 *   movzx %ax,%r11d ; movabs $table,%rcx ; movzbl (%rcx,%r11),%ecx ; jrcxz 1f
 *   jmp <syscall stub>
 *   1: syscall ; movabs $app_next_pc,%rcx                                        */
extern uint8_t hp_syscall_table[65536] HP_HIDDEN;

hp_status_t bb_syscall(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                              const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    (void)ops; (void)code;
    static const uint8_t movzx_r11[] = { 0x44, 0x0f, 0xb7, 0xd8 };
    static const uint8_t load[] = { 0x42, 0x0f, 0xb6, 0x0c, 0x19 };
    uint8_t *field;
    for (unsigned i = 0; i < sizeof(movzx_r11); i++) c->p = emit_u8(c->p, movzx_r11[i]);
    c->p = emit_mov_imm64(c->p, R_RCX, (uint64_t)hp_syscall_table);
    for (unsigned i = 0; i < sizeof(load); i++) c->p = emit_u8(c->p, load[i]);
    c->p = emit_u8(c->p, 0xe3);
    c->p = emit_u8(c->p, 5);
    c->p = emit_jmp_rel32(c->p, &field);
    bb_add_exit(c, LINK_SYSCALL, pc, field, in->length);
    c->p = emit_u8(c->p, 0x0f);
    c->p = emit_u8(c->p, 0x05);
    c->p = emit_mov_imm64(c->p, R_RCX, pc + in->length);
    if (c->nexits >= c->cap_exits - 2) c->ended = 2;   /* leave room for the final exits */
    return HP_OK;
}

static hp_status_t bb_unsupported(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                                  const ZydisDecodedOperand *ops, uint64_t pc, const uint8_t *code)
{
    (void)in; (void)ops; (void)pc; (void)code;
    if (!c->why) c->why = "unsupported instruction";
    return HP_ERR_UNSUPPORTED;
}

static int bb_uses_gs(const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_RDGSBASE: case ZYDIS_MNEMONIC_WRGSBASE: case ZYDIS_MNEMONIC_SWAPGS:
        return 1;
    default: break;
    }
    for (int i = 0; i < in->operand_count; i++) {
        if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && ops[i].reg.value == ZYDIS_REGISTER_GS) return 1;
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.segment == ZYDIS_REGISTER_GS) return 1;
    }
    return 0;
}

/* bb_classify: the action for one decoded instruction. */
static bb_action_t bb_classify(bb_ctx_t *c, const ZydisDecodedInstruction *in,
                               const ZydisDecodedOperand *ops)
{
    if (bb_uses_gs(in, ops)) { c->why = "app uses the gs segment"; return bb_unsupported; }
    int far = in->meta.branch_type == ZYDIS_BRANCH_TYPE_FAR;
    switch (in->mnemonic) {
    case ZYDIS_MNEMONIC_JMP:
        if (far) break;
        return ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? bb_jmp_direct : bb_indirect;
    case ZYDIS_MNEMONIC_CALL:
        if (far) break;
        return ops[0].type == ZYDIS_OPERAND_TYPE_IMMEDIATE ? bb_call_direct : bb_indirect;
    case ZYDIS_MNEMONIC_RET:
        if (far) break;
        return bb_ret;
    case ZYDIS_MNEMONIC_JCXZ: case ZYDIS_MNEMONIC_JECXZ: case ZYDIS_MNEMONIC_JRCXZ:
    case ZYDIS_MNEMONIC_LOOP: case ZYDIS_MNEMONIC_LOOPE: case ZYDIS_MNEMONIC_LOOPNE:
        return bb_short_loop;
    case ZYDIS_MNEMONIC_SYSCALL:
        return bb_syscall;
    case ZYDIS_MNEMONIC_SYSENTER: case ZYDIS_MNEMONIC_IRET: case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRETQ: case ZYDIS_MNEMONIC_XBEGIN: case ZYDIS_MNEMONIC_SYSRET:
    case ZYDIS_MNEMONIC_SYSEXIT:
        c->why = "unsupported control transfer";
        return bb_unsupported;
    case ZYDIS_MNEMONIC_INT:
        if (ops[0].imm.value.u == 0x80) { c->why = "int $0x80 (32-bit system call)"; return bb_unsupported; }
        return bb_copy;
    default:
        if (in->meta.category == ZYDIS_CATEGORY_COND_BR) return bb_jcc;
        return bb_copy;
    }
    c->why = "far control transfer";
    return bb_unsupported;
}

void bb_xl(bb_ctx_t *c, uint64_t app_pc, uint8_t *at, int kind)
{
    if (c->n_xl == c->cap_xl) { c->overflow = 1; return; }
    hp_xl_t *x = &c->xl[c->n_xl++];
    x->app_pc = app_pc;
    x->cache_off = (uint32_t)(at - c->start);
    x->kind = (uint32_t)kind | (c->rcx_spilled ? XL_F_RCX_SPILLED : 0);
}

int bb_cti_kind(bb_action_t act)
{
    if (act == bb_jmp_direct) return BB_CTI_JMP;
    if (act == bb_jcc) return BB_CTI_JCC;
    if (act == bb_short_loop) return BB_CTI_LOOP;
    if (act == bb_call_direct) return BB_CTI_CALL;
    if (act == bb_indirect || act == bb_ret) return BB_CTI_INDIRECT;
    return BB_CTI_NONE;
}

int bb_insn_kind(bb_ctx_t *c, const ZydisDecodedInstruction *in, const ZydisDecodedOperand *ops)
{
    bb_action_t act = bb_classify(c, in, ops);
    if (act == bb_unsupported) return BB_K_UNSUPPORTED;
    if (act == bb_syscall) return BB_K_SYSCALL;
    return bb_cti_kind(act);
}

static int bb_xl_kind(bb_action_t act)
{
    if (act == bb_copy) return XL_COPY;
    if (act == bb_indirect || act == bb_ret) return XL_RCX;
    if (act == bb_syscall) return XL_SYSCALL;
    return XL_OTHER;
}

hp_status_t bb_finish(bb_ctx_t *c, uint64_t pc, uint64_t end_pc, int n_insns, hp_block_t **out)
{
    hp_block_t *b = heap_alloc(sizeof(*b));
    if (!b) return HP_ERR_NOMEM;
    b->body_size = (uint32_t)(c->p - c->start);
    b->xl = heap_alloc(sizeof(hp_xl_t) * (size_t)c->n_xl);
    if (!b->xl) return HP_ERR_NOMEM;
    hp_memcpy(b->xl, c->xl, sizeof(hp_xl_t) * (size_t)c->n_xl);
    b->n_xl = (uint32_t)c->n_xl;
    b->app_pc = pc;
    b->app_end = end_pc;
    b->cache_pc = c->start;
    b->n_insns = (uint32_t)n_insns;
    hp_link_t **tail = &b->exits;
    for (int i = 0; i < c->nexits; i++) {
        hp_link_t *l = heap_alloc(sizeof(*l));
        if (!l) return HP_ERR_NOMEM;
        bb_exit_t *e = &c->exits[i];
        l->kind = e->kind;
        l->target = e->target;
        l->insn_len = e->insn_len;
        l->from = b;
        l->stub = c->p;
        l->branch_rel32 = e->field;
        emit_set_rel32(e->field, (uint64_t)c->p);
        c->p = emit_stub(c->p, (uint64_t)l);
        *tail = l;
        tail = &l->next;
    }
    for (int i = 0; i < c->nrets; i++) {
        while ((uint64_t)c->p & 7) c->p = emit_u8(c->p, 0xcc);
        emit_u32(c->rets[i].field, (uint32_t)(c->p - (c->rets[i].field + 4)));
        c->p = emit_u64(c->p, c->rets[i].value);
    }
    b->cache_size = (uint32_t)(c->p - c->start);
    *out = b;
    return HP_OK;
}

/* bb_smc_check: the entry of a block translated from memory the app can write (an RWX
 * JIT region, or a shared mapping another view may write): compare the app bytes with the
 * ones translated, and leave through a LINK_SMC exit when they differ, so the block is
 * rebuilt (DynamoRIO's "sandboxing"). Flags, rax, rcx and rdx are kept (lahf/seto). Placed
 * after the stubs; the block's entry is here and it jumps to the body. */
static void bb_emit_cmp(bb_ctx_t *c, const uint8_t *code, uint32_t off, int size)
{
    uint64_t v = 0;
    for (int i = 0; i < size; i++) v |= (uint64_t)code[off + i] << (8 * i);
    if (size == 8) {
        c->p = emit_mov_imm64(c->p, R_RDX, v);
        static const uint8_t cmp[] = { 0x48, 0x39, 0x91 };            /* cmp %rdx,d32(%rcx) */
        for (unsigned i = 0; i < sizeof(cmp); i++) c->p = emit_u8(c->p, cmp[i]);
        c->p = emit_u32(c->p, off);
        return;
    }
    if (size == 2) c->p = emit_u8(c->p, 0x66);
    c->p = emit_u8(c->p, size == 1 ? 0x80 : 0x81);                    /* cmp $imm,d32(%rcx) */
    c->p = emit_u8(c->p, 0xb9);
    c->p = emit_u32(c->p, off);
    if (size == 1) c->p = emit_u8(c->p, (uint8_t)v);
    else if (size == 2) { c->p = emit_u8(c->p, (uint8_t)v); c->p = emit_u8(c->p, (uint8_t)(v >> 8)); }
    else c->p = emit_u32(c->p, (uint32_t)v);
}

static uint8_t *bb_restore_spills(uint8_t *p)
{
    p = emit_restore_flags_ax(p);
    p = emit_gs_load(p, R_RDX, T_SPILL_RDX);
    p = emit_gs_load(p, R_RCX, T_SPILL_RCX);
    return emit_gs_load(p, R_RAX, T_SPILL_RAX);
}

static uint8_t *bb_smc_check(bb_ctx_t *c, uint64_t pc, const uint8_t *code, uint32_t len,
                             uint8_t **smc_field)
{
    while ((uint64_t)c->p & 15) c->p = emit_u8(c->p, 0xcc);
    uint8_t *entry = c->p;
    uint8_t *mismatch[160];
    int nm = 0;
    c->p = emit_gs_store(c->p, R_RAX, T_SPILL_RAX);
    c->p = emit_save_flags_ax(c->p);
    c->p = emit_gs_store(c->p, R_RCX, T_SPILL_RCX);
    c->p = emit_gs_store(c->p, R_RDX, T_SPILL_RDX);
    c->p = emit_mov_imm64(c->p, R_RCX, pc);
    uint32_t off = 0;
    while (off < len && nm < 160) {
        uint32_t left = len - off;
        int size = left >= 8 ? 8 : left >= 4 ? 4 : left >= 2 ? 2 : 1;
        bb_emit_cmp(c, code, off, size);
        c->p = emit_jcc_rel32(c->p, 0x5, &mismatch[nm++]);              /* jne */
        off += (uint32_t)size;
    }
    c->p = bb_restore_spills(c->p);
    uint8_t *to_body;
    c->p = emit_jmp_rel32(c->p, &to_body);
    emit_set_rel32(to_body, (uint64_t)c->start);
    uint8_t *mis = c->p;
    for (int i = 0; i < nm; i++) emit_set_rel32(mismatch[i], (uint64_t)mis);
    c->p = bb_restore_spills(c->p);
    c->p = emit_jmp_rel32(c->p, smc_field);
    return entry;
}

hp_status_t builder_build_at(uint64_t pc, const uint8_t *code, uint64_t limit,
                             hp_block_t **out, const char **why)
{
    return builder_build_checked(pc, code, limit, 0, out, why);
}

hp_status_t builder_build_checked(uint64_t pc, const uint8_t *code, uint64_t limit, int smc,
                                  hp_block_t **out, const char **why)
{
    bb_ctx_t c;
    bb_exit_t exits[BB_EXITS];
    hp_xl_t xl[BB_XL];
    hp_memset(&c, 0, sizeof(c));
    c.exits = exits;
    c.cap_exits = BB_EXITS;
    c.xl = xl;
    c.cap_xl = BB_XL;
    c.start = c.p = cache_reserve(pc, BB_RESERVE);
    if (!c.start) { *why = "no cache memory near the code"; return HP_ERR_NOMEM; }
    c.end = c.start + BB_RESERVE;
    CHECK(bb_translate(&c, pc, code, limit, why));
    uint8_t *entry, *smc_field = 0;
    hp_status_t st = bb_finish(&c, pc, c.cur, c.n, out);
    if (st != HP_OK) return st;
    if (smc && c.cur > pc) {
        entry = bb_smc_check(&c, pc, code, (uint32_t)(c.cur - pc), &smc_field);
        hp_link_t *l = heap_alloc(sizeof(*l));
        if (!l) return HP_ERR_NOMEM;
        l->kind = LINK_SMC;
        l->target = pc;
        l->from = *out;
        l->stub = c.p;
        l->branch_rel32 = smc_field;
        emit_set_rel32(smc_field, (uint64_t)c.p);
        c.p = emit_stub(c.p, (uint64_t)l);
        l->next = (*out)->exits;
        (*out)->exits = l;
        (*out)->cache_pc = entry;
        (*out)->smc_checked = 1;
    }
    (*out)->cache_size = (uint32_t)(c.p - c.start);
    (*out)->cache_start = c.start;
    cache_commit(c.start, (size_t)(c.p - c.start));
    return cache_add_block(*out);
}

hp_status_t bb_translate(bb_ctx_t *c, uint64_t pc, const uint8_t *code, uint64_t limit,
                         const char **why)
{
    uint64_t cur = pc;
    long max = hp_rt.opts.max_block_insns > 0 ? hp_rt.opts.max_block_insns : 64;
    if (max > BB_XL - 2) max = BB_XL - 2;
    while (!c->ended) {
        ZydisDecodedInstruction in;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        const uint8_t *src = code + (cur - pc);
        uint64_t avail = limit > cur ? limit - cur : 0;
        if (c->n >= max || c->p + BB_SLACK > c->end || c->ended == 2 ||
            avail == 0 || c->overflow || c->n_xl + 2 >= c->cap_xl)
            break;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&bb_decoder, src, avail > 15 ? 15 : avail, &in, ops))) {
            if (c->n == 0) { *why = "undecodable instruction"; return HP_ERR_DECODE; }
            break;                         /* let the next block report it at its own pc */
        }
        bb_action_t act = bb_classify(c, &in, ops);
        uint8_t *mark = c->p;
        int mark_exits = c->nexits;
        bb_xl(c, cur, mark, bb_xl_kind(act));
        hp_status_t st = act(c, &in, ops, cur, src);
        if (st != HP_OK) {
            if (c->n == 0) { *why = c->why; return st; }
            c->p = mark;                   /* end the block before it */
            c->nexits = mark_exits;
            c->n_xl--;
            c->ended = 0;
            c->why = 0;
            break;
        }
        cur += in.length;
        c->n++;
    }
    if (c->ended != 1) {                   /* fell off the end: jump to the next pc */
        uint8_t *field;
        bb_xl(c, cur, c->p, XL_END);
        c->p = emit_exit_jmp(c->p, &field);
        bb_add_exit(c, LINK_DIRECT, cur, field, 0);
    }
    c->cur = cur;
    if (c->overflow) { *why = "translation too large"; return HP_ERR_NOMEM; }
    return HP_OK;
}

hp_status_t builder_build(uint64_t pc, hp_block_t **out, const char **why)
{
    maps_region_t r;
    *why = "target not mapped executable";
    CHECK(maps_find_exec(pc, &r));
    if (pc >= hp_rt.self_start && pc < hp_rt.self_end) {
        *why = "app jumped into hotpath's own code";
        return HP_ERR_UNSUPPORTED;
    }
    uint64_t limit = r.end;
    if (hp_rt.self_start > pc && hp_rt.self_start < limit) limit = hp_rt.self_start;
    int smc = (r.prot & PROT_WRITE) || r.shared;
    return builder_build_checked(pc, (const uint8_t *)pc, limit, smc, out, why);
}
