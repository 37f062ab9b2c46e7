/* rt_convert.h - scalar conversions between every onnxc element type and double/float, used by
 * the Cast kernel (runtime/rt_logic.c) and by any kernel that needs to read or write the narrow
 * float types (internal to runtime/; not part of the ABI).
 *
 * Formats (ONNX docs/Operators.md "Cast", docs/technical/float8.md, float4.md, int4.md, int2.md):
 *   FLOAT16      IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits, inf and NaN
 *   BFLOAT16     upper half of binary32: 8 exponent (bias 127), 7 mantissa bits, inf and NaN
 *   FLOAT8E4M3FN     4 exponent (bias 7), 3 mantissa; no inf; NaN = S.1111.111; max 448
 *   FLOAT8E4M3FNUZ   4 exponent (bias 8), 3 mantissa; no inf, no -0; NaN = 0x80; max 240
 *   FLOAT8E5M2       5 exponent (bias 15), 2 mantissa; inf and NaN as binary16; max 57344
 *   FLOAT8E5M2FNUZ   5 exponent (bias 16), 2 mantissa; no inf, no -0; NaN = 0x80; max 57344
 *   FLOAT8E8M0   8 exponent bits only (bias 127), value 2^(code-127); 0xFF = NaN; no zero/sign
 *   FLOAT4E2M1   2 exponent (bias 1), 1 mantissa; no inf/NaN; max 6 (stored one per byte)
 *   INT4/UINT4/INT2/UINT2   stored one per byte, signed ones sign-extended (ir/ir.h)
 *
 * Encoding rules (narrowing to a float format):
 *   - round to nearest, ties to even, from the exact double value (float inputs are widened to
 *     double exactly, so there is one rounding step);
 *   - float8 with saturate != 0: +-inf and values whose rounding exceeds the largest finite
 *     value give +-max; NaN stays NaN;
 *   - float8 with saturate == 0: overflow and inf give inf for E5M2, NaN for the others;
 *   - FNUZ types have no negative zero: a result that is zero is +0;
 *   - FLOAT4E2M1 always saturates to +-6 (inf included). NaN gives the code 0x8: that is what
 *     the ONNX reference implementation (and so the official backend test data,
 *     test_cast_FLOAT_to_FLOAT4E2M1) produces, although docs/technical/float4.md says 6;
 *   - FLOAT8E8M0 follows onnx.numpy_helper.to_float8e8m0: it works on the float32 exponent
 *     field, inf and NaN give 0xFF, round_mode "up" adds one when the fraction is nonzero,
 *     "down" truncates, "nearest" rounds on the guard bit; saturate keeps 0xFE from growing to
 *     0xFF. Negative inputs are unspecified by the spec (the sign is ignored here).
 * Integer targets from floats: INT4/UINT4/INT2/UINT2 round half to even then keep the low bits
 * (int4.md); the wider integer types truncate toward zero like C and numpy, then keep the low
 * bits of the 64-bit result. NaN gives 0 and values beyond the int64/uint64 range are clamped
 * first (the spec leaves this undefined; C would make it undefined behaviour).
 */
#ifndef ONNXC_RT_CONVERT_H
#define ONNXC_RT_CONVERT_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"

/* Round modes of Cast to FLOAT8E8M0 (the `round_mode` attribute). */
enum { RT_ROUND_UP = 0, RT_ROUND_DOWN = 1, RT_ROUND_NEAREST = 2 };

/* Description of a small IEEE-like binary float format. */
typedef struct RtFpFormat {
    int ebits;        /* exponent field width */
    int mbits;        /* mantissa field width */
    int bias;         /* exponent bias */
    uint32_t maxcode; /* code of the largest finite positive value */
    uint32_t infcode; /* code of +inf, 0 if the format has no infinity */
    uint32_t nancode; /* code of the (positive) NaN, 0 if the format has none */
    int fnuz;         /* 1: no negative zero, the single NaN is the sign bit alone */
} RtFpFormat;

static const RtFpFormat rt_fmt_f16 = {5, 10, 15, 0x7bffu, 0x7c00u, 0x7e00u, 0};
static const RtFpFormat rt_fmt_bf16 = {8, 7, 127, 0x7f7fu, 0x7f80u, 0x7fc0u, 0};
static const RtFpFormat rt_fmt_e4m3fn = {4, 3, 7, 0x7eu, 0, 0x7fu, 0};
static const RtFpFormat rt_fmt_e4m3fnuz = {4, 3, 8, 0x7fu, 0, 0x80u, 1};
static const RtFpFormat rt_fmt_e5m2 = {5, 2, 15, 0x7bu, 0x7cu, 0x7eu, 0};
static const RtFpFormat rt_fmt_e5m2fnuz = {5, 2, 16, 0x7fu, 0, 0x80u, 1};
static const RtFpFormat rt_fmt_e2m1 = {2, 1, 1, 0x7u, 0, 0, 0};

/* double -> code of format f (see the rules at the top). `saturate` only matters when the
 * format has no infinity or when it is nonzero (then overflow gives the largest value). */
static inline uint32_t rt_fp_encode(double x, const RtFpFormat *f, int saturate) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    uint32_t sign = (uint32_t)(bits >> 63) << (f->ebits + f->mbits);
    int dexp = (int)((bits >> 52) & 0x7ffu);
    uint64_t dman = bits & 0xfffffffffffffull;
    int sat = saturate || (!f->infcode && !f->nancode); /* e2m1 always saturates */
    if (dexp == 0x7ff) {
        if (dman) { /* NaN */
            if (!f->nancode)
                return sign; /* e2m1: see the header comment */
            return f->fnuz ? f->nancode : (sign | f->nancode);
        }
        if (sat)
            return sign | f->maxcode;
        if (f->infcode)
            return sign | f->infcode;
        return f->fnuz ? f->nancode : (sign | f->nancode);
    }
    uint32_t mag;
    if (dexp == 0) {
        mag = 0; /* double subnormals are far below every target's smallest value */
    } else {
        int e = dexp - 1023;           /* unbiased exponent of x */
        int emin = 1 - f->bias;        /* exponent of the smallest normal target value */
        int emaxf = (1 << f->ebits) - 1 - f->bias; /* exponent of the largest field value */
        if (e > emaxf + 1) {
            mag = f->maxcode + 1; /* certainly beyond the range */
        } else {
            uint64_t sig = dman | (1ull << 52);
            int shift = 52 - f->mbits + (e < emin ? emin - e : 0);
            uint64_t r;
            if (shift >= 64) {
                r = 0;
            } else {
                r = sig >> shift;
                uint64_t rem = sig & ((1ull << shift) - 1u);
                uint64_t half = 1ull << (shift - 1);
                if (rem > half || (rem == half && (r & 1u)))
                    r++;
            }
            if (e < emin) {
                /* subnormal (or rounded up to the smallest normal): the code is r itself */
                mag = (uint32_t)r;
            } else {
                int be = e + f->bias;
                if (r >> (f->mbits + 1)) { /* mantissa carried into the next binade */
                    r >>= 1;
                    be++;
                }
                if (be > (1 << f->ebits) - 1)
                    mag = f->maxcode + 1;
                else
                    mag = ((uint32_t)be << f->mbits) | (uint32_t)(r & ((1ull << f->mbits) - 1u));
            }
        }
    }
    if (mag > f->maxcode) {
        if (sat)
            return sign | f->maxcode;
        if (f->infcode)
            return sign | f->infcode;
        return f->fnuz ? f->nancode : (sign | f->nancode);
    }
    if (mag == 0 && f->fnuz)
        return 0;
    return sign | mag;
}

/* code of format f -> double (exact). */
static inline double rt_fp_decode(uint32_t code, const RtFpFormat *f) {
    int nb = f->ebits + f->mbits;
    uint32_t sign = (code >> nb) & 1u;
    uint32_t mag = code & ((1u << nb) - 1u);
    if (f->fnuz) {
        if (code == f->nancode)
            return __builtin_nan("");
    } else if (f->nancode) {
        if (f->infcode) {
            if ((mag >> f->mbits) == (1u << f->ebits) - 1u) {
                if (mag & ((1u << f->mbits) - 1u))
                    return sign ? -__builtin_nan("") : __builtin_nan("");
                return sign ? -__builtin_inf() : __builtin_inf();
            }
        } else if (mag == f->nancode) {
            return sign ? -__builtin_nan("") : __builtin_nan("");
        }
    }
    uint32_t be = mag >> f->mbits;
    uint32_t m = mag & ((1u << f->mbits) - 1u);
    double v;
    if (be == 0) /* subnormal: m * 2^(1 - bias - mbits) */
        v = __builtin_ldexp((double)m, 1 - f->bias - f->mbits);
    else
        v = __builtin_ldexp((double)(m | (1u << f->mbits)), (int)be - f->bias - f->mbits);
    return sign ? -v : v;
}

/* Format of a narrow float element type, or NULL. */
static inline const RtFpFormat *rt_fp_format(int dt) {
    switch (dt) {
    case 10: return &rt_fmt_f16;
    case 16: return &rt_fmt_bf16;
    case 17: return &rt_fmt_e4m3fn;
    case 18: return &rt_fmt_e4m3fnuz;
    case 19: return &rt_fmt_e5m2;
    case 20: return &rt_fmt_e5m2fnuz;
    case 23: return &rt_fmt_e2m1;
    default: return NULL;
    }
}

/* float -> FLOAT8E8M0 code (rules at the top; the float32 value is what is encoded). */
static inline uint8_t rt_e8m0_encode(float x, int saturate, int round_mode) {
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    uint32_t e = (b >> 23) & 0xffu;
    if (e == 0xffu)
        return 0xff;
    uint32_t inc = 0;
    if (round_mode == RT_ROUND_UP) {
        inc = (b & 0x7fffffu) != 0;
    } else if (round_mode == RT_ROUND_NEAREST) {
        uint32_t g = (b >> 22) & 1u, r = (b >> 21) & 1u, s = (b & 0x1fffffu) != 0;
        inc = g && (r || s || e > 0);
    }
    if (saturate && e == 0xfeu)
        inc = 0;
    return (uint8_t)(e + inc);
}

/* FLOAT8E8M0 code -> double: 2^(code-127), NaN for 0xFF. */
static inline double rt_e8m0_decode(uint8_t c) {
    if (c == 0xff)
        return __builtin_nan("");
    return __builtin_ldexp(1.0, (int)c - 127);
}

/* Round half to even of a finite double (no libm: exact with the 2^52 trick). */
static inline double rt_round_half_even(double x) {
    double ax = x < 0 ? -x : x;
    if (!(ax < 4503599627370496.0)) /* >= 2^52 (already integral), or NaN */
        return x;
    /* volatile keeps the optimizer from folding (ax + 2^52) - 2^52 back to ax */
    volatile double t = ax + 4503599627370496.0;
    double r = t - 4503599627370496.0;
    return x < 0 ? -r : r;
}

/* double -> int64 with truncation toward zero; NaN gives 0, out-of-range values clamp. */
static inline int64_t rt_d2i64(double x) {
    if (x != x)
        return 0;
    if (x >= 9223372036854775808.0)
        return INT64_MAX;
    if (x <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)x;
}

/* double -> uint64 bit pattern of the truncated value (negative values wrap as int64 would). */
static inline uint64_t rt_d2u64(double x) {
    if (x != x)
        return 0;
    if (x >= 18446744073709551616.0)
        return UINT64_MAX;
    if (x >= 9223372036854775808.0)
        return (uint64_t)x;
    return (uint64_t)rt_d2i64(x);
}

/* Keep the low `bits` bits of v, sign-extended when `is_signed` (sub-byte integer storage). */
static inline uint8_t rt_wrap_small(uint64_t v, int bits, int is_signed) {
    uint32_t m = (1u << bits) - 1u;
    uint32_t u = (uint32_t)(v & m);
    if (is_signed && (u >> (bits - 1)))
        u |= ~m;
    return (uint8_t)u;
}

/* ------------------------------------------------------------ element access through double
 * rt_load_f64 / rt_store_f64 read and write one element of any numeric tensor as a double.
 * They switch on the element type; kernels call them with the tensor and the mode, so in
 * generated code (constant RtTensors, constant mode) the switch folds to one case after
 * inlining, and natively (constant folding) it costs a predictable branch per element. */

/* How rt_store_f64 turns a double into an element (the family's semantics, always explicit):
 *   RT_STORE_TRUNC  integers: truncate toward zero, saturate to the type's range (int64 to
 *                   2^63 - 1024, the largest double below 2^63), NaN gives 0. Float types:
 *                   (float)v, float16/bfloat16 through float. (act, signal, norm, attn)
 *   RT_STORE_ROUND  as TRUNC, but integers round to nearest (nearbyint, ties to even in the
 *                   default rounding mode) before saturating (interpolated values: vision).
 *   RT_STORE_WRAP   C-cast semantics: integers truncate (rt_d2i64/rt_d2u64) and keep the low
 *                   bits, bool is v != 0, float8/float4 encode saturating; float types as
 *                   TRUNC (indexing family: Range, ConstantOfShape, EyeLike, ...).
 *   RT_STORE_SAT    numpy saturate_cast: integers (bool and the sub-byte types included) round
 *                   half to even and clip to the range (NaN gives 0), float/float16/bfloat16/
 *                   float8/float4 clip to the largest finite value, encoded from the double in
 *                   one rounding (NaN stays NaN) (quantization and Resize: image family).
 * Sub-byte integers and FLOAT8E8M0 are written only by RT_STORE_SAT (E8M0 not even there);
 * bool and float8/float4 only by WRAP and SAT. rt_store_f64 returns -1 when it wrote nothing. */
enum { RT_STORE_TRUNC = 0, RT_STORE_ROUND = 1, RT_STORE_WRAP = 2, RT_STORE_SAT = 3 };

/* 1 if rt_load_f64 gives a value for element type dt (every real numeric type and bool). */
static inline int rt_f64_readable(int32_t dt) {
    switch (dt) {
    case IR_DT_UNDEFINED: case IR_DT_STRING: case IR_DT_COMPLEX64: case IR_DT_COMPLEX128:
        return 0;
    default: return dt > IR_DT_UNDEFINED && dt < IR_DT_COUNT;
    }
}

/* Element i of an array of element type dt as double (exact, except integers beyond 2^53,
 * which round); bool reads as 0/1; 0.0 for types rt_f64_readable rejects. */
static inline double rt_load_f64_at(const void *p, int32_t dt, int64_t i) {
    switch (dt) {
    case IR_DT_FLOAT: return ((const float *)p)[i];
    case IR_DT_DOUBLE: return ((const double *)p)[i];
    case IR_DT_FLOAT16: return rt_h2f(((const uint16_t *)p)[i]);
    case IR_DT_BFLOAT16: return rt_bf2f(((const uint16_t *)p)[i]);
    case IR_DT_INT8: case IR_DT_INT4: case IR_DT_INT2: return ((const int8_t *)p)[i];
    case IR_DT_INT16: return ((const int16_t *)p)[i];
    case IR_DT_INT32: return ((const int32_t *)p)[i];
    case IR_DT_INT64: return (double)((const int64_t *)p)[i];
    case IR_DT_UINT8: case IR_DT_UINT4: case IR_DT_UINT2: return ((const uint8_t *)p)[i];
    case IR_DT_UINT16: return ((const uint16_t *)p)[i];
    case IR_DT_UINT32: return ((const uint32_t *)p)[i];
    case IR_DT_UINT64: return (double)((const uint64_t *)p)[i];
    case IR_DT_BOOL: return ((const uint8_t *)p)[i] != 0;
    case IR_DT_FLOAT8E8M0: return rt_e8m0_decode(((const uint8_t *)p)[i]);
    default: {
        const RtFpFormat *f = rt_fp_format(dt);
        return f ? rt_fp_decode(((const uint8_t *)p)[i], f) : 0.0;
    }
    }
}

/* Element i of tensor t as double (see rt_load_f64_at). */
static inline double rt_load_f64(const RtTensor *t, int64_t i) {
    return rt_load_f64_at(t->data, t->dtype, i);
}

/* Integer range [lo, hi] of element type dt as doubles; 0 if dt is not an integer or bool.
 * hi of int64 is 2^63 (the double nearest INT64_MAX), of uint64 2^64. */
static inline int rt_int_range(int32_t dt, double *lo, double *hi) {
    switch (dt) {
    case IR_DT_UINT8: *lo = 0; *hi = 255; return 1;
    case IR_DT_INT8: *lo = -128; *hi = 127; return 1;
    case IR_DT_UINT16: *lo = 0; *hi = 65535; return 1;
    case IR_DT_INT16: *lo = -32768; *hi = 32767; return 1;
    case IR_DT_INT32: *lo = -2147483648.0; *hi = 2147483647.0; return 1;
    case IR_DT_INT64: *lo = -9223372036854775808.0; *hi = 9223372036854775807.0; return 1;
    case IR_DT_UINT32: *lo = 0; *hi = 4294967295.0; return 1;
    case IR_DT_UINT64: *lo = 0; *hi = 18446744073709551615.0; return 1;
    case IR_DT_BOOL: *lo = 0; *hi = 1; return 1;
    case IR_DT_UINT4: *lo = 0; *hi = 15; return 1;
    case IR_DT_INT4: *lo = -8; *hi = 7; return 1;
    case IR_DT_UINT2: *lo = 0; *hi = 3; return 1;
    case IR_DT_INT2: *lo = -2; *hi = 1; return 1;
    default: return 0;
    }
}

/* double -> integer in [lo, hi] for RT_STORE_TRUNC / RT_STORE_ROUND: NaN gives 0, ROUND
 * rounds to nearest first, then saturates, then truncates toward zero. `hi` must convert to
 * int64 exactly (2^63 - 1024 for int64). */
static inline int64_t rt_d2i_sat(double v, double lo, double hi, int mode) {
    if (v != v)
        return 0;
    if (mode == RT_STORE_ROUND)
        v = nearbyint(v);
    if (v <= lo)
        return (int64_t)lo;
    if (v >= hi)
        return (int64_t)hi;
    return (int64_t)v;
}

/* RT_STORE_SAT: numpy saturate_cast of v into element i of type dt; -1 if dt has no value. */
static inline int rt_store_sat_at(void *p, int32_t dt, int64_t i, double v) {
    double lo, hi;
    if (rt_int_range(dt, &lo, &hi)) {
        v = v != v ? 0.0 : rt_round_half_even(v);
        v = v < lo ? lo : v > hi ? hi : v;
        switch (dt) {
        case IR_DT_INT64: ((int64_t *)p)[i] = rt_d2i64(v); return 0;
        case IR_DT_UINT64: ((uint64_t *)p)[i] = rt_d2u64(v); return 0;
        case IR_DT_INT32: ((int32_t *)p)[i] = (int32_t)v; return 0;
        case IR_DT_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; return 0;
        case IR_DT_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; return 0;
        case IR_DT_INT16: ((int16_t *)p)[i] = (int16_t)v; return 0;
        case IR_DT_INT8: case IR_DT_INT4: case IR_DT_INT2: ((int8_t *)p)[i] = (int8_t)v; return 0;
        default: ((uint8_t *)p)[i] = (uint8_t)v; return 0;
        }
    }
    switch (dt) {
    case IR_DT_DOUBLE: ((double *)p)[i] = v; return 0;
    case IR_DT_FLOAT:
        if (v > 3.4028234663852886e38)
            v = 3.4028234663852886e38;
        if (v < -3.4028234663852886e38)
            v = -3.4028234663852886e38;
        ((float *)p)[i] = (float)v;
        return 0;
    case IR_DT_FLOAT16: ((uint16_t *)p)[i] = (uint16_t)rt_fp_encode(v, &rt_fmt_f16, 1); return 0;
    case IR_DT_BFLOAT16: ((uint16_t *)p)[i] = (uint16_t)rt_fp_encode(v, &rt_fmt_bf16, 1); return 0;
    default: {
        const RtFpFormat *f = rt_fp_format(dt);
        if (!f)
            return -1;
        ((uint8_t *)p)[i] = (uint8_t)rt_fp_encode(v, f, 1);
        return 0;
    }
    }
}

/* Stores v as element i of an array of element type dt, converted as `mode` says (see the
 * RT_STORE_* modes above). Returns 0, or -1 if the mode does not write type dt. */
static inline int rt_store_f64_at(void *p, int32_t dt, int64_t i, double v, int mode) {
    if (mode == RT_STORE_SAT)
        return rt_store_sat_at(p, dt, i, v);
    int wrap = mode == RT_STORE_WRAP;
    switch (dt) {
    case IR_DT_FLOAT: ((float *)p)[i] = (float)v; return 0;
    case IR_DT_DOUBLE: ((double *)p)[i] = v; return 0;
    case IR_DT_FLOAT16: ((uint16_t *)p)[i] = rt_f2h((float)v); return 0;
    case IR_DT_BFLOAT16: ((uint16_t *)p)[i] = rt_f2bf((float)v); return 0;
    case IR_DT_INT8:
        ((int8_t *)p)[i] = (int8_t)(wrap ? rt_d2i64(v) : rt_d2i_sat(v, -128.0, 127.0, mode));
        return 0;
    case IR_DT_INT16:
        ((int16_t *)p)[i] =
            (int16_t)(wrap ? rt_d2i64(v) : rt_d2i_sat(v, -32768.0, 32767.0, mode));
        return 0;
    case IR_DT_INT32:
        ((int32_t *)p)[i] =
            (int32_t)(wrap ? rt_d2i64(v) : rt_d2i_sat(v, -2147483648.0, 2147483647.0, mode));
        return 0;
    case IR_DT_INT64:
        ((int64_t *)p)[i] =
            wrap ? rt_d2i64(v)
                 : rt_d2i_sat(v, -9223372036854775808.0, 9223372036854774784.0, mode);
        return 0;
    case IR_DT_UINT8:
        ((uint8_t *)p)[i] =
            (uint8_t)(wrap ? rt_d2u64(v) : (uint64_t)rt_d2i_sat(v, 0.0, 255.0, mode));
        return 0;
    case IR_DT_UINT16:
        ((uint16_t *)p)[i] =
            (uint16_t)(wrap ? rt_d2u64(v) : (uint64_t)rt_d2i_sat(v, 0.0, 65535.0, mode));
        return 0;
    case IR_DT_UINT32:
        ((uint32_t *)p)[i] =
            (uint32_t)(wrap ? rt_d2u64(v) : (uint64_t)rt_d2i_sat(v, 0.0, 4294967295.0, mode));
        return 0;
    case IR_DT_UINT64:
        if (wrap)
            ((uint64_t *)p)[i] = rt_d2u64(v);
        else
            ((uint64_t *)p)[i] = !(v > 0)                      ? 0u
                                 : v >= 18446744073709551615.0 ? UINT64_MAX
                                 : mode == RT_STORE_ROUND      ? (uint64_t)nearbyint(v)
                                                               : (uint64_t)v;
        return 0;
    case IR_DT_BOOL:
        if (!wrap)
            return -1;
        ((uint8_t *)p)[i] = v != 0;
        return 0;
    default: {
        const RtFpFormat *f = wrap ? rt_fp_format(dt) : NULL;
        if (!f)
            return -1;
        ((uint8_t *)p)[i] = (uint8_t)rt_fp_encode(v, f, 1);
        return 0;
    }
    }
}

/* Stores v as element i of tensor t (see rt_store_f64_at). */
static inline int rt_store_f64(const RtTensor *t, int64_t i, double v, int mode) {
    return rt_store_f64_at(t->data, t->dtype, i, v, mode);
}

#endif
