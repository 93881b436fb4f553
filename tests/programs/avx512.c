/* avx512 — AVX-512 (F, BW, VL, DQ) through intrinsics in target(...) functions: opmask
 * registers, masked and zero-masked ops, compress/expand, gather/scatter, ternary logic,
 * EVEX-compressed displacements (disp8*N), and zmm16-zmm31 held live across a loop with
 * calls. Prints "SKIP" and exits 0 on a CPU without these extensions. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

#define AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"), noinline))

static int64_t qdata[2048] __attribute__((aligned(64)));
static int32_t ddata[4096] __attribute__((aligned(64)));
static const int64_t qconst[16] __attribute__((aligned(64))) = {
    1, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53,
};

static uint64_t fold(const void *p, int n)
{
    const uint64_t *q = p;
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < n; i++)
        h = (h ^ q[i]) * 1099511628211ull;
    return h;
}

AVX512 static uint64_t mask_kernel(int rounds)
{
    __m512i acc = _mm512_load_si512(qconst);
    __m512i acc2 = _mm512_load_si512(qconst + 8);
    unsigned long popsum = 0;
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 2048; i += 8) {
            __m512i v = _mm512_load_si512(&qdata[i]);
            __mmask8 k = _mm512_cmpgt_epi64_mask(v, acc);
            acc = _mm512_mask_add_epi64(acc, k, acc, v);
            acc = _mm512_maskz_xor_epi64((__mmask8)~k, acc, _mm512_rol_epi64(v, 17));
            acc = _mm512_ternarylogic_epi64(acc, v, acc2, 0x96);
            acc2 = _mm512_add_epi64(acc2, _mm512_mullo_epi64(acc, _mm512_load_si512(qconst + (i & 8))));
            popsum += (unsigned)__builtin_popcount(k);
        }
    }
    uint64_t out[16];
    _mm512_storeu_si512(out, acc);
    _mm512_storeu_si512(out + 8, acc2);
    return fold(out, 16) ^ popsum;
}

AVX512 static uint64_t compress_kernel(void)
{
    static int32_t packed[4096 + 16], expanded[4096];
    int n = 0;
    for (int i = 0; i < 4096; i += 16) {
        __m512i v = _mm512_load_si512(&ddata[i]);
        __mmask16 k = _mm512_cmplt_epi32_mask(v, _mm512_setzero_si512());
        _mm512_mask_compressstoreu_epi32(&packed[n], k, v);
        n += __builtin_popcount(k);
    }
    int m = 0;
    for (int i = 0; i < 4096; i += 16) {
        __mmask16 k = (__mmask16)(0x5a5a ^ i);
        __m512i e = _mm512_maskz_expandloadu_epi32(k, &packed[m % 2048]);
        m += __builtin_popcount(k);
        _mm512_storeu_si512(&expanded[i], e);
    }
    /* gather + scatter through computed indices */
    __m512i idx = _mm512_setr_epi32(0, 17, 34, 51, 68, 85, 102, 119, 136, 153, 170, 187, 204, 221, 238, 255);
    for (int r = 0; r < 64; r++) {
        __m512i g = _mm512_i32gather_epi32(idx, expanded, 4);
        g = _mm512_add_epi32(g, _mm512_set1_epi32(r));
        _mm512_i32scatter_epi32(expanded, _mm512_add_epi32(idx, _mm512_set1_epi32(r * 16)), g, 4);
    }
    /* byte/word ops (BW) and a 256-bit VL op with a mask */
    __m512i b = _mm512_loadu_si512(packed);
    __mmask64 kb = _mm512_cmpeq_epi8_mask(_mm512_and_si512(b, _mm512_set1_epi8(3)), _mm512_setzero_si512());
    __m256i y = _mm256_mask_add_epi32(_mm256_loadu_si256((const __m256i *)expanded), (__mmask8)0xa5,
                                      _mm256_loadu_si256((const __m256i *)expanded),
                                      _mm256_set1_epi32(1000));
    uint64_t yo[4];
    _mm256_storeu_si256((__m256i *)yo, y);
    return fold(expanded, 2048) ^ ((uint64_t)n << 40) ^ (uint64_t)__builtin_popcountll(kb) ^ fold(yo, 4);
}

/* zmm16-zmm31 stay live across a loop with calls; the callee is plain code that must not
 * disturb them. */
__attribute__((noinline)) static uint64_t plain_call(uint64_t x) { return x * 2654435761u + 1; }

AVX512 static uint64_t high_regs(int rounds)
{
    static uint64_t out[16 * 8] __attribute__((aligned(64)));
    uint64_t x = 1;
    __asm__ volatile(
        "vmovdqa64 (%0), %%zmm16\n\t"
        "vpbroadcastq %%xmm16, %%zmm17\n\t"
        "vpaddq %%zmm16, %%zmm17, %%zmm18\n\t"
        "vpsllq $3, %%zmm18, %%zmm19\n\t"
        "vpxorq %%zmm19, %%zmm16, %%zmm20\n\t"
        "vprolq $7, %%zmm20, %%zmm21\n\t"
        "vpaddq %%zmm21, %%zmm18, %%zmm22\n\t"
        "vpternlogq $0x96, %%zmm20, %%zmm21, %%zmm22\n\t"
        "vmovdqa64 %%zmm22, %%zmm23\n\t"
        "vpsubq %%zmm16, %%zmm23, %%zmm24\n\t"
        "vprorq $11, %%zmm24, %%zmm25\n\t"
        "vpxorq %%zmm25, %%zmm17, %%zmm26\n\t"
        "vpaddq %%zmm26, %%zmm26, %%zmm27\n\t"
        "vpmullq %%zmm27, %%zmm16, %%zmm28\n\t"
        "vpxorq %%zmm28, %%zmm19, %%zmm29\n\t"
        "vpaddq %%zmm29, %%zmm20, %%zmm30\n\t"
        "vpxorq %%zmm30, %%zmm21, %%zmm31\n\t"
        : : "r"(qconst) : "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
          "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31", "memory");
    for (int r = 0; r < rounds; r++) {
        x = plain_call(x);
        __asm__ volatile(
            "vpaddq %%zmm31, %%zmm16, %%zmm16\n\t"
            "vprolq $5, %%zmm16, %%zmm17\n\t"
            "vpxorq %%zmm17, %%zmm18, %%zmm18\n\t"
            "vpaddq %%zmm18, %%zmm19, %%zmm19\n\t"
            "vpermq %%zmm19, %%zmm20, %%zmm20\n\t"
            "vpxorq %%zmm20, %%zmm21, %%zmm21\n\t"
            "vpaddq %%zmm21, %%zmm22, %%zmm22\n\t"
            "vprorq $3, %%zmm22, %%zmm23\n\t"
            "vpxorq %%zmm23, %%zmm24, %%zmm24\n\t"
            "vpaddq %%zmm24, %%zmm25, %%zmm25\n\t"
            "vpshufd $0x4e, %%zmm25, %%zmm26\n\t"
            "vpxorq %%zmm26, %%zmm27, %%zmm27\n\t"
            "vpaddq %%zmm27, %%zmm28, %%zmm28\n\t"
            "vpxorq %%zmm28, %%zmm29, %%zmm29\n\t"
            "vpaddq %%zmm29, %%zmm30, %%zmm30\n\t"
            "vpternlogq $0xe8, %%zmm16, %%zmm30, %%zmm31\n\t"
            ::: "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24",
                "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
    }
    __asm__ volatile(
        "vmovdqa64 %%zmm16, 0(%0)\n\t"   "vmovdqa64 %%zmm17, 64(%0)\n\t"
        "vmovdqa64 %%zmm18, 128(%0)\n\t" "vmovdqa64 %%zmm19, 192(%0)\n\t"
        "vmovdqa64 %%zmm20, 256(%0)\n\t" "vmovdqa64 %%zmm21, 320(%0)\n\t"
        "vmovdqa64 %%zmm22, 384(%0)\n\t" "vmovdqa64 %%zmm23, 448(%0)\n\t"
        "vmovdqa64 %%zmm24, 512(%0)\n\t" "vmovdqa64 %%zmm25, 576(%0)\n\t"
        "vmovdqa64 %%zmm26, 640(%0)\n\t" "vmovdqa64 %%zmm27, 704(%0)\n\t"
        "vmovdqa64 %%zmm28, 768(%0)\n\t" "vmovdqa64 %%zmm29, 832(%0)\n\t"
        "vmovdqa64 %%zmm30, 896(%0)\n\t" "vmovdqa64 %%zmm31, 960(%0)\n\t"
        : : "r"(out) : "memory");
    return fold(out, 16 * 8) ^ x;
}

int main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512bw") ||
        !__builtin_cpu_supports("avx512vl") || !__builtin_cpu_supports("avx512dq")) {
        printf("SKIP\n");
        return 0;
    }
    uint64_t s = 12345;
    for (int i = 0; i < 2048; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        qdata[i] = (int64_t)s;
    }
    for (int i = 0; i < 4096; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        ddata[i] = (int32_t)(s >> 32);
    }
    printf("mask kernel = %016llx\n", (unsigned long long)mask_kernel(500));
    printf("compress kernel = %016llx\n", (unsigned long long)compress_kernel());
    printf("zmm16-31 kernel = %016llx\n", (unsigned long long)high_regs(200000));
    fprintf(stderr, "avx512 done\n");
    return 18;
}
