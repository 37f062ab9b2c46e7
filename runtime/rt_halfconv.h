/* rt_halfconv.h - float16 / bfloat16 <-> float32 conversions for the kernels of the
 * elementwise, matmul and norm families (internal to runtime/; not part of the ABI).
 *
 * float16 is IEEE 754 binary16, bfloat16 the upper half of a binary32; both are stored as
 * uint16_t bit patterns (ir/ir.h layout). Conversions to the narrow types round to nearest even,
 * overflow gives infinity and NaN stays NaN (quiet).
 */
#ifndef ONNXC_RT_HALFCONV_H
#define ONNXC_RT_HALFCONV_H

#include <stdint.h>
#include <string.h>

/* binary16 bits -> float (exact). */
static inline float rt_h2f(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t e = (h >> 10) & 0x1fu;
    uint32_t m = h & 0x3ffu;
    uint32_t bits;
    float f;
    if (e == 0) {
        /* zero or subnormal: m * 2^-24 is exact in float */
        f = (float)m * 5.9604644775390625e-08f;
        return sign ? -f : f;
    }
    if (e == 31)
        bits = sign | 0x7f800000u | (m << 13);
    else
        bits = sign | ((e + 112u) << 23) | (m << 13);
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* float -> binary16 bits, round to nearest even. */
static inline uint16_t rt_f2h(float f) {
    uint32_t x, ax, e, m, res, rem, half, shift;
    uint16_t sign;
    memcpy(&x, &f, sizeof x);
    sign = (uint16_t)((x >> 16) & 0x8000u);
    ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) /* inf or NaN */
        return (uint16_t)(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u));
    if (ax >= 0x477ff000u) /* >= 65520 rounds to infinity */
        return (uint16_t)(sign | 0x7c00u);
    e = ax >> 23;
    if (e >= 113) { /* normal half */
        m = ax & 0x7fffffu;
        res = ((e - 112u) << 10) | (m >> 13);
        rem = m & 0x1fffu;
        if (rem > 0x1000u || (rem == 0x1000u && (res & 1u)))
            res++;
        return (uint16_t)(sign | res);
    }
    if (e < 102) /* below half the smallest subnormal */
        return sign;
    m = (ax & 0x7fffffu) | 0x800000u;
    shift = 126u - e; /* 14..24 */
    res = m >> shift;
    rem = m & ((1u << shift) - 1u);
    half = 1u << (shift - 1u);
    if (rem > half || (rem == half && (res & 1u)))
        res++;
    return (uint16_t)(sign | res);
}

/* bfloat16 bits -> float (exact). */
static inline float rt_bf2f(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* float -> bfloat16 bits, round to nearest even. */
static inline uint16_t rt_f2bf(float f) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    if ((x & 0x7fffffffu) > 0x7f800000u) /* NaN: keep it quiet */
        return (uint16_t)((x >> 16) | 0x40u);
    x += 0x7fffu + ((x >> 16) & 1u);
    return (uint16_t)(x >> 16);
}

#endif
