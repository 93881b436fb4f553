/* dt_report.c — what the differential tester prints on a failure, so that one command
 * reproduces it and the output alone says where to look: the sequence disassembled (Zydis)
 * with the recorded path's blocks and branch targets marked, the trace IR after the passes
 * (ir_format), the trace's code in the cache, the initial state, and every register, flag
 * and byte that differs between the native and the trace run.
 * Invariant: reports only read; the IR is rebuilt from the app code exactly as trace_build
 * builds it (same path, same passes), then freed. */
#include <stdio.h>
#include <string.h>
#include "difftest.h"
#include "ir.h"
#include "opt.h"

const char *dt_reg_name(int id)
{
    static const char *n[16] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                                 "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15" };
    return id >= 0 && id < 16 ? n[id] : "-";
}

static void dt_flags_text(uint64_t f, char *buf)
{
    static const struct { uint32_t bit; char c; } fl[] = {
        { DT_CF, 'C' }, { DT_PF, 'P' }, { DT_AF, 'A' }, { DT_ZF, 'Z' }, { DT_SF, 'S' }, { DT_OF, 'O' },
    };
    int n = 0;
    for (unsigned k = 0; k < sizeof(fl) / sizeof(fl[0]); k++) buf[n++] = (f & fl[k].bit) ? fl[k].c : '-';
    buf[n] = 0;
}

static void dt_disasm(uint64_t pc, const uint8_t *b, int len, char *text, size_t cap)
{
    ZydisDisassembledInstruction d;
    if (ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, pc, b, (ZyanUSize)len, &d)))
        snprintf(text, cap, "%s", d.text);
    else
        snprintf(text, cap, "(bad)");
}

static void dt_print_sequence(const dt_case_t *c, const dt_path_t *p)
{
    fprintf(dt_log, "-- sequence (%d instructions; > starts a block of the path)\n", c->n);
    for (int k = 0; k <= c->n; k++) {
        uint64_t pc = k < c->n ? c->insn[k].pc : c->end_pc;
        int block = -1;
        for (int b = 0; p && b < p->n; b++)
            if (p->pcs[b] == pc) block = b;
        char text[128], bytes[48] = "", tgt[24] = "";
        if (k == c->n) {
            snprintf(text, sizeof(text), "E: jmp *dt_native_end");
        } else {
            const dt_insn_t *i = &c->insn[k];
            dt_disasm(i->pc, i->bytes, i->len, text, sizeof(text));
            for (int j = 0; j < i->len; j++) snprintf(bytes + 3 * j, 4, "%02x ", i->bytes[j]);
            if (i->kind != DT_PLAIN) {
                if (i->target >= c->n) snprintf(tgt, sizeof(tgt), "-> E");
                else snprintf(tgt, sizeof(tgt), "-> [%d]", i->target);
            }
        }
        char mark[16] = "  ";
        if (block >= 0) snprintf(mark, sizeof(mark), ">%d", block);
        fprintf(dt_log, "%-4s [%3d] %#lx  %-44s %-8s %s\n", mark, k, (unsigned long)pc, text, tgt, bytes);
    }
    if (!p) return;
    fprintf(dt_log, "-- path: %d blocks:", p->n);
    for (int b = 0; b < p->n; b++) {
        int i = dt_insn_at(c, p->pcs[b]);
        fprintf(dt_log, " [%d..%d]", i, i + (int)p->lens[b] - 1);
    }
    int nx = dt_insn_at(c, p->next_pc);
    fprintf(dt_log, " then %s\n", nx == c->n ? "E" : "head");
}

/* dt_print_ir: the IR after the passes, built as trace_build did (frame_k of state 0). */
static void dt_print_ir(const dt_case_t *c, const dt_path_t *p)
{
    ir_trace_t t;
    const char *why = "";
    int cap = 16;
    for (int b = 0; b < p->n; b++) cap += 2 * (int)p->lens[b] + 2;
    if (ir_init(&t, cap) != HP_OK) return;
    t.frame_k_ok = 1;
    t.frame_k = (int64_t)(c->init[0].r[5] - c->init[0].r[4]);
    if (ir_build_path(&t, p->pcs, p->lens, p->n, &why) != HP_OK) {
        fprintf(dt_log, "-- IR: ir_build_path refused: %s\n", why);
        ir_free(&t);
        return;
    }
    int before = t.n;
    opt_run(&t);
    fprintf(dt_log, "-- IR after the passes (%d instructions, %d before; * inexact)\n", t.n, before);
    for (int k = 0; k < t.n; k++) {
        char line[160];
        ir_format(&t.insn[k], line, sizeof(line));
        fprintf(dt_log, "  %c %s\n", (t.insn[k].flags & IR_F_INEXACT) ? '*' : ' ', line);
    }
    ir_free(&t);
}

static void dt_print_cache(const uint8_t *code, uint32_t size)
{
    fprintf(dt_log, "-- trace code in the cache (%u bytes of body at %p)\n", size, (const void *)code);
    for (uint32_t off = 0; off < size;) {
        ZydisDisassembledInstruction d;
        if (!ZYAN_SUCCESS(ZydisDisassembleIntel(ZYDIS_MACHINE_MODE_LONG_64, (ZyanU64)(code + off),
                                                code + off, size - off, &d))) {
            fprintf(dt_log, "  +%-4u (undecodable)\n", off);
            break;
        }
        fprintf(dt_log, "  +%-4u %s\n", off, d.text);
        off += d.info.length;
    }
}

static void dt_print_state(const char *what, const dt_regs_t *s)
{
    char f[8];
    dt_flags_text(s->flags, f);
    fprintf(dt_log, "-- %s: flags %s (%#lx)\n", what, f, (unsigned long)s->flags);
    for (int id = 0; id < 16; id++)
        fprintf(dt_log, "  %-3s %016lx%s", dt_reg_name(id), (unsigned long)s->r[id], id % 4 == 3 ? "\n" : "");
    fprintf(dt_log, "  mxcsr %#x\n", (unsigned)s->mxcsr);
    for (int k = 0; k < 16; k++)
        fprintf(dt_log, "  xmm%-2d %016lx:%016lx%s", k, (unsigned long)s->x[k][1], (unsigned long)s->x[k][0],
                k % 2 == 1 ? "\n" : "");
}

void dt_report_case(const dt_case_t *c, const dt_path_t *p, const uint8_t *trace_code,
                    uint32_t trace_size, int state)
{
    char f[8];
    dt_flags_text(c->flags_end, f);
    fprintf(dt_log, "-- case: %s; B = %s -> %s; loop counter %s; flags defined at E: %s\n",
            c->loop ? "a counted loop" : "straight", dt_reg_name(c->base_reg),
            c->base_in_stack ? "the stack" : "scratch", dt_reg_name(c->cnt_reg), f);
    dt_print_sequence(c, p);
    if (p) dt_print_ir(c, p);
    if (trace_code) dt_print_cache(trace_code, trace_size);
    char what[32];
    snprintf(what, sizeof(what), "initial state %d", state);
    dt_print_state(what, &c->init[state]);
}

void dt_report_diff(const dt_case_t *c, const dt_env_t *env, const dt_regs_t *nat,
                    const dt_regs_t *tr, uint64_t mask, const uint8_t *nat_mem, const uint8_t *tr_mem)
{
    fprintf(dt_log, "-- differences (native / trace)\n");
    for (int id = 0; id < 16; id++)
        if (nat->r[id] != tr->r[id])
            fprintf(dt_log, "  %-3s %016lx / %016lx\n", dt_reg_name(id), (unsigned long)nat->r[id],
                    (unsigned long)tr->r[id]);
    (void)c;
    for (int k = 0; k < 16; k++)
        if (nat->x[k][0] != tr->x[k][0] || nat->x[k][1] != tr->x[k][1])
            fprintf(dt_log, "  xmm%-2d %016lx:%016lx / %016lx:%016lx (high:low)\n", k, (unsigned long)nat->x[k][1],
                    (unsigned long)nat->x[k][0], (unsigned long)tr->x[k][1], (unsigned long)tr->x[k][0]);
    if ((uint32_t)nat->mxcsr != (uint32_t)tr->mxcsr)
        fprintf(dt_log, "  mxcsr %#x / %#x\n", (unsigned)nat->mxcsr, (unsigned)tr->mxcsr);
    if ((nat->flags ^ tr->flags) & mask) {
        char a[8], b[8], d[8];
        dt_flags_text(nat->flags, a);
        dt_flags_text(tr->flags, b);
        dt_flags_text(mask, d);
        fprintf(dt_log, "  flags %s / %s (%#lx / %#lx; compared: %s and DF)\n", a, b,
                (unsigned long)nat->flags, (unsigned long)tr->flags, d);
    }
    int shown = 0, total = 0;
    for (int k = 0; nat_mem && k < DT_SCRATCH + DT_STACK; k++) {
        if (nat_mem[k] == tr_mem[k]) continue;
        total++;
        if (shown++ >= 24) continue;
        if (k < DT_SCRATCH) {
            fprintf(dt_log, "  scratch+%-5d %p  %02x / %02x\n", k, (void *)(env->scratch + k), nat_mem[k], tr_mem[k]);
        } else {
            uint64_t a = (uint64_t)env->stack + (uint64_t)(k - DT_SCRATCH);
            int64_t rel = (int64_t)(a - nat->r[4]);
            fprintf(dt_log, "  stack rsp%+-5ld %p  %02x / %02x%s\n", (long)rel, (void *)a,
                    nat_mem[k], tr_mem[k], rel < 0 ? "  (below the final rsp: red zone)" : "");
        }
    }
    if (total) fprintf(dt_log, "  %d bytes differ\n", total);
}
