/* avx2 — AVX2 and FMA code through intrinsics in target("avx2,fma") functions: integer
 * and float lanes, gathers, masked loads, cross-lane permutes and VEX-encoded rip-relative
 * constants. Prints "SKIP" and exits 0 on a CPU without AVX2+FMA, so both runs agree. */
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>

#define AVX2 __attribute__((target("avx2,fma"), noinline))

static int32_t idata[4096];
static float fdata[4096];

AVX2 static uint64_t int_kernel(int rounds)
{
    __m256i acc = _mm256_set_epi32(8, 7, 6, 5, 4, 3, 2, 1);
    const __m256i perm = _mm256_setr_epi32(3, 0, 7, 2, 5, 1, 6, 4);
    const __m256i mul = _mm256_set1_epi32(0x01000193);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 4096; i += 8) {
            __m256i v = _mm256_loadu_si256((const __m256i *)&idata[i]);
            acc = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_xor_si256(acc, v), mul), v);
            acc = _mm256_permutevar8x32_epi32(acc, perm);
            __m256i idx = _mm256_and_si256(acc, _mm256_set1_epi32(4095));
            __m256i g = _mm256_i32gather_epi32(idata, idx, 4);
            acc = _mm256_sub_epi32(acc, _mm256_srli_epi32(g, 3));
            __m256i mask = _mm256_cmpgt_epi32(v, _mm256_setzero_si256());
            acc = _mm256_blendv_epi8(acc, _mm256_shuffle_epi32(acc, 0x1b), mask);
        }
    }
    __m256i mask = _mm256_setr_epi32(-1, 0, -1, 0, -1, -1, 0, -1);
    __m256i tail = _mm256_maskload_epi32(&idata[4088], mask);
    acc = _mm256_xor_si256(acc, tail);
    uint64_t out[4];
    _mm256_storeu_si256((__m256i *)out, acc);
    return out[0] ^ (out[1] << 1) ^ (out[2] << 2) ^ (out[3] << 3);
}

AVX2 static double float_kernel(int rounds)
{
    __m256 acc = _mm256_setzero_ps();
    __m256 scale = _mm256_set1_ps(0.999f);
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 4096; i += 8) {
            __m256 v = _mm256_loadu_ps(&fdata[i]);
            acc = _mm256_fmadd_ps(acc, scale, _mm256_mul_ps(v, v));
            acc = _mm256_permute2f128_ps(acc, acc, 0x01);
        }
    }
    __m128 lo = _mm256_castps256_ps128(acc), hi = _mm256_extractf128_ps(acc, 1);
    __m128 s = _mm_add_ps(lo, hi);
    s = _mm_hadd_ps(s, s);
    s = _mm_hadd_ps(s, s);
    return (double)_mm_cvtss_f32(s);
}

int main(void)
{
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) {
        printf("SKIP\n");
        return 0;
    }
    uint32_t s = 99;
    for (int i = 0; i < 4096; i++) {
        s = s * 1664525u + 1013904223u;
        idata[i] = (int32_t)s;
        fdata[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    printf("int kernel = %016llx\n", (unsigned long long)int_kernel(2000));
    printf("float kernel = %.6f\n", float_kernel(2000));
    fprintf(stderr, "avx2 done\n");
    return 17;
}
