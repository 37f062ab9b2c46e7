/* rt_logic.c - kernels of the cast, comparison and logical family (ONNX docs/Operators.md):
 *   Cast / CastLike (rt_k_cast: every pair of numeric types and bool, plus string -> number),
 *   Equal, Less, LessOrEqual, Greater, GreaterOrEqual (bool output), And, Or, Xor, Not, Where,
 *   IsNaN, IsInf, Sign, Floor, Ceil, Round, Reciprocal, Mod, BitShift,
 *   BitwiseAnd, BitwiseOr, BitwiseXor, BitwiseNot.
 *
 * Binary and ternary kernels use numpy multidirectional broadcasting ("Broadcasting in ONNX");
 * input 1 may instead be aligned at a fixed output dim (legacy opset < 7, RtLogicParams.b_axis).
 * float16/bfloat16 are computed in float and rounded back (round to nearest even).
 * Semantics worth stating:
 *   - Mod with fmod=0 takes the sign of the divisor (Python/numpy), with fmod=1 of the dividend
 *     (C fmod). An integer divisor of zero gives 0 (as numpy does) instead of trapping;
 *     MIN % -1 gives 0.
 *   - BitShift by at least the bit width gives 0 (C would be undefined).
 *   - Round is half to even; Sign keeps NaN; Reciprocal of integer types is not offered.
 *   - Cast follows runtime/rt_convert.h. Casting to STRING is not supported (a kernel cannot
 *     allocate the output strings); string -> number parses with strtod/strtoll, and "INF",
 *     "+INF", "-INF", "NaN" case-insensitively.
 * Kernels are plain C (also built as LLVM bitcode) and allocate nothing.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

#define LG_MAX_RANK 64
#define LG_MAX_IN 3

/* How up to three inputs walk over the output (after merging contiguous dims). */
typedef struct LgPlan {
    int rank;                              /* collapsed rank (>= 1) */
    int64_t n;                             /* output element count */
    int64_t dims[LG_MAX_RANK];             /* collapsed output dims */
    int64_t st[LG_MAX_IN][LG_MAX_RANK];    /* element stride of each input per dim (0: broadcast) */
} LgPlan;

static const RtLogicParams lg_default_params = {-1, 0, 1, 0, 0, 0, 1, 1};

static const RtLogicParams *lg_params(const void *params) {
    return params ? (const RtLogicParams *)params : &lg_default_params;
}

/* Builds the walk of nt inputs over `out`. Input 1 starts at output dim b_axis when b_axis >= 0,
 * every other input is right-aligned. Checks that out's dims are the broadcast of the inputs. */
static int lg_plan(RtCtx *ctx, const char *op, const RtTensor *in, int nt, int b_axis,
                   const RtTensor *out, LgPlan *p) {
    int orank = out->rank;
    int64_t st[LG_MAX_IN][LG_MAX_RANK], dims[LG_MAX_RANK];
    if (orank < 0 || orank > LG_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad output rank %d", op, (int)orank);
    for (int k = 0; k < nt; k++) {
        const RtTensor *t = &in[k];
        int off = (k == 1 && b_axis >= 0) ? b_axis : orank - t->rank;
        if (t->rank < 0 || off < 0 || off + t->rank > orank)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input %d of rank %d does not fit output rank %d",
                           op, k, (int)t->rank, orank);
        int64_t s = 1;
        for (int d = orank - 1; d >= 0; d--) {
            int kk = d - off;
            int64_t td = (kk >= 0 && kk < t->rank) ? t->dims[kk] : 1;
            if (td == out->dims[d])
                st[k][d] = td == 1 ? 0 : s;
            else if (td == 1)
                st[k][d] = 0;
            else
                return rt_fail(ctx, ONNXC_ERR_SHAPE,
                               "%s: input %d dim %d is %lld, output dim is %lld", op, k, kk,
                               (long long)td, (long long)out->dims[d]);
            s *= td;
        }
    }
    /* every output dim other than 1 must come from some input */
    for (int d = 0; d < orank; d++) {
        if (out->dims[d] == 1)
            continue;
        int found = 0;
        for (int k = 0; k < nt; k++) {
            int off = (k == 1 && b_axis >= 0) ? b_axis : orank - in[k].rank;
            int kk = d - off;
            if (kk >= 0 && kk < in[k].rank && in[k].dims[kk] == out->dims[d])
                found = 1;
        }
        if (!found)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output dim %d (%lld) is not the broadcast "
                           "of the inputs", op, d, (long long)out->dims[d]);
    }
    p->n = 1;
    for (int d = 0; d < orank; d++)
        p->n *= out->dims[d];
    /* drop size-1 dims, then merge neighbours that stay contiguous for every input */
    int r = 0;
    for (int d = 0; d < orank; d++) {
        if (out->dims[d] == 1)
            continue;
        dims[r] = out->dims[d];
        for (int k = 0; k < nt; k++)
            st[k][r] = st[k][d];
        r++;
    }
    int w = 0;
    for (int d = 0; d < r; d++) {
        int merge = w > 0;
        for (int k = 0; k < nt && merge; k++)
            if (st[k][w - 1] != st[k][d] * dims[d])
                merge = 0;
        if (merge) {
            dims[w - 1] *= dims[d];
            for (int k = 0; k < nt; k++)
                st[k][w - 1] = st[k][d];
        } else {
            dims[w] = dims[d];
            for (int k = 0; k < nt; k++)
                st[k][w] = st[k][d];
            w++;
        }
    }
    if (w == 0) {
        dims[0] = 1;
        for (int k = 0; k < nt; k++)
            st[k][0] = 0;
        w = 1;
    }
    p->rank = w;
    for (int d = 0; d < w; d++) {
        p->dims[d] = dims[d];
        for (int k = 0; k < LG_MAX_IN; k++)
            p->st[k][d] = k < nt ? st[k][d] : 0;
    }
    return 0;
}

/* The broadcast walk: runs BODY with output index y_ and input indices i0_, i1_, i2_. The
 * innermost dim is a plain loop; outer dims advance an odometer. */
#define LG_FOR(P, BODY)                                                                   \
    do {                                                                                  \
        int64_t inner_ = (P).dims[(P).rank - 1];                                          \
        int64_t s0_ = (P).st[0][(P).rank - 1], s1_ = (P).st[1][(P).rank - 1];             \
        int64_t s2_ = (P).st[2][(P).rank - 1];                                            \
        int64_t rows_ = inner_ > 0 ? (P).n / inner_ : 0;                                  \
        int64_t idx_[LG_MAX_RANK] = {0};                                                  \
        int64_t o0_ = 0, o1_ = 0, o2_ = 0, oy_ = 0;                                       \
        for (int64_t r_ = 0; r_ < rows_; r_++) {                                          \
            for (int64_t j_ = 0; j_ < inner_; j_++) {                                     \
                int64_t y_ = oy_ + j_, i0_ = o0_ + j_ * s0_, i1_ = o1_ + j_ * s1_;        \
                int64_t i2_ = o2_ + j_ * s2_;                                             \
                (void)i1_;                                                                \
                (void)i2_;                                                                \
                BODY;                                                                     \
            }                                                                             \
            oy_ += inner_;                                                                \
            for (int d_ = (P).rank - 2; d_ >= 0; d_--) {                                  \
                idx_[d_]++;                                                               \
                o0_ += (P).st[0][d_];                                                     \
                o1_ += (P).st[1][d_];                                                     \
                o2_ += (P).st[2][d_];                                                     \
                if (idx_[d_] < (P).dims[d_])                                              \
                    break;                                                                \
                o0_ -= (P).st[0][d_] * (P).dims[d_];                                      \
                o1_ -= (P).st[1][d_] * (P).dims[d_];                                      \
                o2_ -= (P).st[2][d_] * (P).dims[d_];                                      \
                idx_[d_] = 0;                                                             \
            }                                                                             \
        }                                                                                 \
    } while (0)

/* Checks arity and presence of nin_want inputs and one output. */
static int lg_check(RtCtx *ctx, const char *op, const RtTensor *in, int nin, RtTensor *out,
                    int nout, int nin_want) {
    if (!in || !out || nin < nin_want || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expects %d inputs and 1 output", op,
                       nin_want);
    for (int i = 0; i < nin_want; i++)
        if (in[i].rank < 0 || (!in[i].data && rt_numel(&in[i]) > 0))
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: input %d is missing", op, i);
    if (!out[0].data && rt_numel(&out[0]) > 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: output has no storage", op);
    return 0;
}

/* Element type names for messages (the runtime does not link the IR library). */
static const char *lg_dtype_name(int dt) {
    static const char *const names[IR_DT_COUNT] = {
        "undefined", "f32", "u8", "i8", "u16", "i16", "i32", "i64", "string", "bool", "f16",
        "f64", "u32", "u64", "c64", "c128", "bf16", "f8e4m3fn", "f8e4m3fnuz", "f8e5m2",
        "f8e5m2fnuz", "u4", "i4", "f4e2m1", "f8e8m0", "u2", "i2"};
    return (dt >= 0 && dt < IR_DT_COUNT) ? names[dt] : "?";
}

static int lg_bad_type(RtCtx *ctx, const char *op, int dt) {
    return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %s is not supported", op,
                   lg_dtype_name(dt));
}

/* ------------------------------------------------------------------ element conversions */

#define CV_ID(x) (x)
#define CV_H(x) rt_h2f(x)
#define CV_BF(x) rt_bf2f(x)

/* ------------------------------------------------------------------ comparisons */

/* out(bool) = F(CV(a), CV(b)) for inputs of C type T. */
#define LG_CMP_T(T, CV, F)                                                          \
    do {                                                                            \
        const T *A_ = (const T *)in[0].data;                                        \
        const T *B_ = (const T *)in[1].data;                                        \
        uint8_t *Y_ = (uint8_t *)out[0].data;                                       \
        LG_FOR(p, Y_[y_] = (uint8_t)(F(CV(A_[i0_]), CV(B_[i1_])) ? 1 : 0));         \
    } while (0)

static int lg_str_eq(const IrString *a, const IrString *b) {
    if (a->len != b->len)
        return 0;
    return a->len == 0 || memcmp(a->data, b->data, a->len) == 0;
}

/* Body of every comparison kernel; `strings` allows STRING inputs (Equal). */
#define CMP_KERNEL(NAME, OPNAME, F, STRINGS)                                                    \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,        \
             int nout) {                                                                        \
        const RtLogicParams *pr = lg_params(params);                                            \
        LgPlan p;                                                                               \
        if (lg_check(ctx, OPNAME, in, nin, out, nout, 2))                                       \
            return ctx ? ctx->status : ONNXC_ERR_INVALID_ARG;                                   \
        if (in[0].dtype != in[1].dtype || out[0].dtype != IR_DT_BOOL)                           \
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element types differ (%s, %s -> %s)",      \
                           OPNAME, lg_dtype_name(in[0].dtype), lg_dtype_name(in[1].dtype),      \
                           lg_dtype_name(out[0].dtype));                                        \
        if (lg_plan(ctx, OPNAME, in, 2, pr->b_axis, &out[0], &p))                               \
            return ONNXC_ERR_SHAPE;                                                             \
        switch (in[0].dtype) {                                                                  \
        case IR_DT_FLOAT: LG_CMP_T(float, CV_ID, F); break;                                     \
        case IR_DT_DOUBLE: LG_CMP_T(double, CV_ID, F); break;                                   \
        case IR_DT_FLOAT16: LG_CMP_T(uint16_t, CV_H, F); break;                                 \
        case IR_DT_BFLOAT16: LG_CMP_T(uint16_t, CV_BF, F); break;                               \
        case IR_DT_INT8: LG_CMP_T(int8_t, CV_ID, F); break;                                     \
        case IR_DT_INT16: LG_CMP_T(int16_t, CV_ID, F); break;                                   \
        case IR_DT_INT32: LG_CMP_T(int32_t, CV_ID, F); break;                                   \
        case IR_DT_INT64: LG_CMP_T(int64_t, CV_ID, F); break;                                   \
        case IR_DT_UINT8: case IR_DT_BOOL: LG_CMP_T(uint8_t, CV_ID, F); break;                  \
        case IR_DT_UINT16: LG_CMP_T(uint16_t, CV_ID, F); break;                                 \
        case IR_DT_UINT32: LG_CMP_T(uint32_t, CV_ID, F); break;                                 \
        case IR_DT_UINT64: LG_CMP_T(uint64_t, CV_ID, F); break;                                 \
        case IR_DT_STRING:                                                                      \
            if (!(STRINGS))                                                                     \
                return lg_bad_type(ctx, OPNAME, in[0].dtype);                                   \
            {                                                                                   \
                const IrString *A_ = (const IrString *)in[0].data;                              \
                const IrString *B_ = (const IrString *)in[1].data;                              \
                uint8_t *Y_ = (uint8_t *)out[0].data;                                           \
                LG_FOR(p, Y_[y_] = (uint8_t)lg_str_eq(&A_[i0_], &B_[i1_]));                     \
            }                                                                                   \
            break;                                                                              \
        default: return lg_bad_type(ctx, OPNAME, in[0].dtype);                                  \
        }                                                                                       \
        return ONNXC_OK;                                                                        \
    }

#define F_EQ(x, y) ((x) == (y))
#define F_LT(x, y) ((x) < (y))
#define F_LE(x, y) ((x) <= (y))
#define F_GT(x, y) ((x) > (y))
#define F_GE(x, y) ((x) >= (y))

CMP_KERNEL(rt_k_equal, "Equal", F_EQ, 1)
CMP_KERNEL(rt_k_less, "Less", F_LT, 0)
CMP_KERNEL(rt_k_less_equal, "LessOrEqual", F_LE, 0)
CMP_KERNEL(rt_k_greater, "Greater", F_GT, 0)
CMP_KERNEL(rt_k_greater_equal, "GreaterOrEqual", F_GE, 0)

/* ------------------------------------------------------------------ logical and bitwise */

/* out = F(a, b) for same-type inputs and output of C type T. */
#define LG_BIN_T(T, F)                                                        \
    do {                                                                      \
        const T *A_ = (const T *)in[0].data;                                  \
        const T *B_ = (const T *)in[1].data;                                  \
        T *Y_ = (T *)out[0].data;                                             \
        LG_FOR(p, Y_[y_] = (T)F(A_[i0_], B_[i1_]));                           \
    } while (0)

/* Shared prologue of binary kernels whose inputs and output share one element type (or, with
 * out_dt >= 0, whose output has type out_dt). */
static int lg_binary_setup(RtCtx *ctx, const char *op, const void *params, const RtTensor *in,
                           int nin, RtTensor *out, int nout, int out_dt, LgPlan *p) {
    const RtLogicParams *pr = lg_params(params);
    if (lg_check(ctx, op, in, nin, out, nout, 2))
        return ONNXC_ERR_INVALID_ARG;
    int want = out_dt >= 0 ? out_dt : in[0].dtype;
    if (in[0].dtype != in[1].dtype || out[0].dtype != want)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element types differ (%s, %s -> %s)", op,
                       lg_dtype_name(in[0].dtype), lg_dtype_name(in[1].dtype),
                       lg_dtype_name(out[0].dtype));
    if (lg_plan(ctx, op, in, 2, pr->b_axis, &out[0], p))
        return ONNXC_ERR_SHAPE;
    return 0;
}

#define F_LAND(x, y) ((x) != 0 && (y) != 0)
#define F_LOR(x, y) ((x) != 0 || (y) != 0)
#define F_LXOR(x, y) (((x) != 0) != ((y) != 0))

#define LOGIC_KERNEL(NAME, OPNAME, F)                                                        \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,     \
             int nout) {                                                                     \
        LgPlan p;                                                                            \
        int rc = lg_binary_setup(ctx, OPNAME, params, in, nin, out, nout, IR_DT_BOOL, &p);   \
        if (rc)                                                                              \
            return rc;                                                                       \
        if (in[0].dtype != IR_DT_BOOL)                                                       \
            return lg_bad_type(ctx, OPNAME, in[0].dtype);                                    \
        LG_BIN_T(uint8_t, F);                                                                \
        return ONNXC_OK;                                                                     \
    }

LOGIC_KERNEL(rt_k_and, "And", F_LAND)
LOGIC_KERNEL(rt_k_or, "Or", F_LOR)
LOGIC_KERNEL(rt_k_xor, "Xor", F_LXOR)

#define F_BAND(x, y) ((x) & (y))
#define F_BOR(x, y) ((x) | (y))
#define F_BXOR(x, y) ((x) ^ (y))

/* 1 for the integer element types (signed and unsigned, 8 to 64 bits). */
static int lg_is_wide_int(int dt) {
    switch (dt) {
    case IR_DT_INT8: case IR_DT_INT16: case IR_DT_INT32: case IR_DT_INT64:
    case IR_DT_UINT8: case IR_DT_UINT16: case IR_DT_UINT32: case IR_DT_UINT64:
        return 1;
    default:
        return 0;
    }
}

/* Bitwise ops do not depend on signedness: dispatch on the element size. */
#define BITWISE_KERNEL(NAME, OPNAME, F)                                                      \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,     \
             int nout) {                                                                     \
        LgPlan p;                                                                            \
        int rc = lg_binary_setup(ctx, OPNAME, params, in, nin, out, nout, -1, &p);           \
        if (rc)                                                                              \
            return rc;                                                                       \
        if (!lg_is_wide_int(in[0].dtype))                                                    \
            return lg_bad_type(ctx, OPNAME, in[0].dtype);                                    \
        switch (rt_dtype_size(in[0].dtype)) {                                                \
        case 1: LG_BIN_T(uint8_t, F); break;                                                 \
        case 2: LG_BIN_T(uint16_t, F); break;                                                \
        case 4: LG_BIN_T(uint32_t, F); break;                                                \
        default: LG_BIN_T(uint64_t, F); break;                                               \
        }                                                                                    \
        return ONNXC_OK;                                                                     \
    }

BITWISE_KERNEL(rt_k_bitwise_and, "BitwiseAnd", F_BAND)
BITWISE_KERNEL(rt_k_bitwise_or, "BitwiseOr", F_BOR)
BITWISE_KERNEL(rt_k_bitwise_xor, "BitwiseXor", F_BXOR)

/* Shift by `s` (in the element type); shifts of at least the width give 0. */
#define F_SHL8(x, s) ((s) >= 8 ? 0 : (uint8_t)((uint32_t)(x) << (s)))
#define F_SHR8(x, s) ((s) >= 8 ? 0 : (uint8_t)((x) >> (s)))
#define F_SHL16(x, s) ((s) >= 16 ? 0 : (uint16_t)((uint32_t)(x) << (s)))
#define F_SHR16(x, s) ((s) >= 16 ? 0 : (uint16_t)((x) >> (s)))
#define F_SHL32(x, s) ((s) >= 32 ? 0 : (uint32_t)((x) << (s)))
#define F_SHR32(x, s) ((s) >= 32 ? 0 : (uint32_t)((x) >> (s)))
#define F_SHL64(x, s) ((s) >= 64 ? 0 : ((x) << (s)))
#define F_SHR64(x, s) ((s) >= 64 ? 0 : ((x) >> (s)))

int rt_k_bitshift(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    const RtLogicParams *pr = lg_params(params);
    LgPlan p;
    int rc = lg_binary_setup(ctx, "BitShift", params, in, nin, out, nout, -1, &p);
    if (rc)
        return rc;
    int right = pr->shift_right != 0;
    switch (in[0].dtype) {
    case IR_DT_UINT8:
        if (right) LG_BIN_T(uint8_t, F_SHR8); else LG_BIN_T(uint8_t, F_SHL8);
        break;
    case IR_DT_UINT16:
        if (right) LG_BIN_T(uint16_t, F_SHR16); else LG_BIN_T(uint16_t, F_SHL16);
        break;
    case IR_DT_UINT32:
        if (right) LG_BIN_T(uint32_t, F_SHR32); else LG_BIN_T(uint32_t, F_SHL32);
        break;
    case IR_DT_UINT64:
        if (right) LG_BIN_T(uint64_t, F_SHR64); else LG_BIN_T(uint64_t, F_SHL64);
        break;
    default:
        return lg_bad_type(ctx, "BitShift", in[0].dtype);
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ Mod */

/* Signed remainder with the sign of the divisor (fmod = 0) or of the dividend (fmod = 1);
 * a zero divisor gives 0, and so does -1 (avoids MIN % -1). */
static inline int64_t lg_mod_s(int64_t x, int64_t y, int c_fmod) {
    if (y == 0 || y == -1)
        return 0;
    int64_t r = x % y;
    if (!c_fmod && r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}
static inline uint64_t lg_mod_u(uint64_t x, uint64_t y) { return y == 0 ? 0 : x % y; }
static inline double lg_mod_d(double x, double y, int c_fmod) {
    double r = fmod(x, y);
    if (!c_fmod && r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}
static inline float lg_mod_f(float x, float y, int c_fmod) {
    float r = fmodf(x, y);
    if (!c_fmod && r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

#define F_MODS(x, y) lg_mod_s((int64_t)(x), (int64_t)(y), cf)
#define F_MODU(x, y) lg_mod_u((uint64_t)(x), (uint64_t)(y))
#define F_MODF(x, y) lg_mod_f((x), (y), cf)
#define F_MODD(x, y) lg_mod_d((x), (y), cf)
#define F_MODH(x, y) rt_f2h(lg_mod_f(rt_h2f(x), rt_h2f(y), cf))
#define F_MODBF(x, y) rt_f2bf(lg_mod_f(rt_bf2f(x), rt_bf2f(y), cf))

int rt_k_mod(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtLogicParams *pr = lg_params(params);
    LgPlan p;
    int rc = lg_binary_setup(ctx, "Mod", params, in, nin, out, nout, -1, &p);
    if (rc)
        return rc;
    int cf = pr->fmod != 0;
    switch (in[0].dtype) {
    case IR_DT_INT8: LG_BIN_T(int8_t, F_MODS); break;
    case IR_DT_INT16: LG_BIN_T(int16_t, F_MODS); break;
    case IR_DT_INT32: LG_BIN_T(int32_t, F_MODS); break;
    case IR_DT_INT64: LG_BIN_T(int64_t, F_MODS); break;
    case IR_DT_UINT8: LG_BIN_T(uint8_t, F_MODU); break;
    case IR_DT_UINT16: LG_BIN_T(uint16_t, F_MODU); break;
    case IR_DT_UINT32: LG_BIN_T(uint32_t, F_MODU); break;
    case IR_DT_UINT64: LG_BIN_T(uint64_t, F_MODU); break;
    case IR_DT_FLOAT: LG_BIN_T(float, F_MODF); break;
    case IR_DT_DOUBLE: LG_BIN_T(double, F_MODD); break;
    case IR_DT_FLOAT16: LG_BIN_T(uint16_t, F_MODH); break;
    case IR_DT_BFLOAT16: LG_BIN_T(uint16_t, F_MODBF); break;
    default: return lg_bad_type(ctx, "Mod", in[0].dtype);
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ Where */

/* A 16-byte element (STRING records, COMPLEX128) copied as a whole. */
typedef struct LgW16 {
    uint64_t lo; /* first 8 bytes */
    uint64_t hi; /* last 8 bytes */
} LgW16;

#define LG_WHERE_T(T)                                                          \
    do {                                                                       \
        const uint8_t *C_ = (const uint8_t *)in[0].data;                       \
        const T *X_ = (const T *)in[1].data;                                   \
        const T *Z_ = (const T *)in[2].data;                                   \
        T *Y_ = (T *)out[0].data;                                              \
        LG_FOR(p, Y_[y_] = C_[i0_] ? X_[i1_] : Z_[i2_]);                       \
    } while (0)

int rt_k_where(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    (void)params;
    LgPlan p;
    if (lg_check(ctx, "Where", in, nin, out, nout, 3))
        return ONNXC_ERR_INVALID_ARG;
    if (in[0].dtype != IR_DT_BOOL || in[1].dtype != in[2].dtype || out[0].dtype != in[1].dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Where: bad element types (%s, %s, %s -> %s)",
                       lg_dtype_name(in[0].dtype), lg_dtype_name(in[1].dtype),
                       lg_dtype_name(in[2].dtype), lg_dtype_name(out[0].dtype));
    if (lg_plan(ctx, "Where", in, 3, -1, &out[0], &p))
        return ONNXC_ERR_SHAPE;
    switch (rt_dtype_size(in[1].dtype)) {
    case 1: LG_WHERE_T(uint8_t); break;
    case 2: LG_WHERE_T(uint16_t); break;
    case 4: LG_WHERE_T(uint32_t); break;
    case 8: LG_WHERE_T(uint64_t); break;
    case 16: LG_WHERE_T(LgW16); break;
    default: return lg_bad_type(ctx, "Where", in[1].dtype);
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ unary */

/* Checks a unary kernel: one input, one output of the same element count, output type out_dt
 * (or the input's when out_dt < 0). */
static int lg_unary_setup(RtCtx *ctx, const char *op, const RtTensor *in, int nin, RtTensor *out,
                          int nout, int out_dt, int64_t *n) {
    if (lg_check(ctx, op, in, nin, out, nout, 1))
        return ONNXC_ERR_INVALID_ARG;
    int want = out_dt >= 0 ? out_dt : in[0].dtype;
    if (out[0].dtype != want)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: output type %s, expected %s", op,
                       lg_dtype_name(out[0].dtype), lg_dtype_name(want));
    *n = rt_numel(&in[0]);
    if (*n != rt_numel(&out[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: %lld elements in, %lld out", op,
                       (long long)*n, (long long)rt_numel(&out[0]));
    return 0;
}

#define LG_UN_T(TI, TO, F)                                              \
    do {                                                                \
        const TI *X_ = (const TI *)in[0].data;                          \
        TO *Y_ = (TO *)out[0].data;                                     \
        for (int64_t i_ = 0; i_ < n; i_++)                              \
            Y_[i_] = (TO)(F(X_[i_]));                                   \
    } while (0)

int rt_k_not(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    (void)params;
    int64_t n;
    int rc = lg_unary_setup(ctx, "Not", in, nin, out, nout, IR_DT_BOOL, &n);
    if (rc)
        return rc;
    if (in[0].dtype != IR_DT_BOOL)
        return lg_bad_type(ctx, "Not", in[0].dtype);
#define F_LNOT(x) ((x) == 0)
    LG_UN_T(uint8_t, uint8_t, F_LNOT);
    return ONNXC_OK;
}

int rt_k_bitwise_not(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                     int nout) {
    (void)params;
    int64_t n;
    int rc = lg_unary_setup(ctx, "BitwiseNot", in, nin, out, nout, -1, &n);
    if (rc)
        return rc;
    if (!lg_is_wide_int(in[0].dtype))
        return lg_bad_type(ctx, "BitwiseNot", in[0].dtype);
#define F_BNOT(x) (~(x))
    switch (rt_dtype_size(in[0].dtype)) {
    case 1: LG_UN_T(uint8_t, uint8_t, F_BNOT); break;
    case 2: LG_UN_T(uint16_t, uint16_t, F_BNOT); break;
    case 4: LG_UN_T(uint32_t, uint32_t, F_BNOT); break;
    default: LG_UN_T(uint64_t, uint64_t, F_BNOT); break;
    }
    return ONNXC_OK;
}

/* Float predicates: a float value `v` of any float type. */
#define P_NAN(v) ((v) != (v))

int rt_k_isnan(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    (void)params;
    int64_t n;
    int rc = lg_unary_setup(ctx, "IsNaN", in, nin, out, nout, IR_DT_BOOL, &n);
    if (rc)
        return rc;
#define F_NAN_H(x) P_NAN(rt_h2f(x))
#define F_NAN_BF(x) P_NAN(rt_bf2f(x))
    switch (in[0].dtype) {
    case IR_DT_FLOAT: LG_UN_T(float, uint8_t, P_NAN); break;
    case IR_DT_DOUBLE: LG_UN_T(double, uint8_t, P_NAN); break;
    case IR_DT_FLOAT16: LG_UN_T(uint16_t, uint8_t, F_NAN_H); break;
    case IR_DT_BFLOAT16: LG_UN_T(uint16_t, uint8_t, F_NAN_BF); break;
    default: {
        const RtFpFormat *f = rt_fp_format(in[0].dtype);
        if (!f && in[0].dtype != IR_DT_FLOAT8E8M0)
            return lg_bad_type(ctx, "IsNaN", in[0].dtype);
        const uint8_t *X = (const uint8_t *)in[0].data;
        uint8_t *Y = (uint8_t *)out[0].data;
        for (int64_t i = 0; i < n; i++) {
            double v = f ? rt_fp_decode(X[i], f) : rt_e8m0_decode(X[i]);
            Y[i] = (uint8_t)P_NAN(v);
        }
    }
    }
    return ONNXC_OK;
}

static inline int lg_isinf(double v, int pos, int neg) {
    return (pos && v == __builtin_inf()) || (neg && v == -__builtin_inf());
}

int rt_k_isinf(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    const RtLogicParams *pr = lg_params(params);
    int64_t n;
    int rc = lg_unary_setup(ctx, "IsInf", in, nin, out, nout, IR_DT_BOOL, &n);
    if (rc)
        return rc;
    int pos = pr->detect_positive != 0, neg = pr->detect_negative != 0;
#define F_INF(v) lg_isinf((double)(v), pos, neg)
#define F_INF_H(x) F_INF(rt_h2f(x))
#define F_INF_BF(x) F_INF(rt_bf2f(x))
    switch (in[0].dtype) {
    case IR_DT_FLOAT: LG_UN_T(float, uint8_t, F_INF); break;
    case IR_DT_DOUBLE: LG_UN_T(double, uint8_t, F_INF); break;
    case IR_DT_FLOAT16: LG_UN_T(uint16_t, uint8_t, F_INF_H); break;
    case IR_DT_BFLOAT16: LG_UN_T(uint16_t, uint8_t, F_INF_BF); break;
    default: {
        const RtFpFormat *f = rt_fp_format(in[0].dtype);
        if (!f)
            return lg_bad_type(ctx, "IsInf", in[0].dtype);
        const uint8_t *X = (const uint8_t *)in[0].data;
        uint8_t *Y = (uint8_t *)out[0].data;
        for (int64_t i = 0; i < n; i++) {
            double v = rt_fp_decode(X[i], f);
            Y[i] = (uint8_t)(F_INF(v));
        }
    }
    }
    return ONNXC_OK;
}

/* Unary float op F (on float or double) for every float type. */
#define FLOAT_UNARY_KERNEL(NAME, OPNAME, FF, FD)                                             \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,     \
             int nout) {                                                                     \
        (void)params;                                                                        \
        int64_t n;                                                                           \
        int rc = lg_unary_setup(ctx, OPNAME, in, nin, out, nout, -1, &n);                    \
        if (rc)                                                                              \
            return rc;                                                                       \
        switch (in[0].dtype) {                                                               \
        case IR_DT_FLOAT: LG_UN_T(float, float, FF); break;                                  \
        case IR_DT_DOUBLE: LG_UN_T(double, double, FD); break;                               \
        case IR_DT_FLOAT16: {                                                                \
            const uint16_t *X = (const uint16_t *)in[0].data;                                \
            uint16_t *Y = (uint16_t *)out[0].data;                                           \
            for (int64_t i = 0; i < n; i++)                                                  \
                Y[i] = rt_f2h(FF(rt_h2f(X[i])));                                             \
            break;                                                                           \
        }                                                                                    \
        case IR_DT_BFLOAT16: {                                                               \
            const uint16_t *X = (const uint16_t *)in[0].data;                                \
            uint16_t *Y = (uint16_t *)out[0].data;                                           \
            for (int64_t i = 0; i < n; i++)                                                  \
                Y[i] = rt_f2bf(FF(rt_bf2f(X[i])));                                           \
            break;                                                                           \
        }                                                                                    \
        default: return lg_bad_type(ctx, OPNAME, in[0].dtype);                               \
        }                                                                                    \
        return ONNXC_OK;                                                                     \
    }

#define F_FLOORF(x) __builtin_floorf(x)
#define F_FLOORD(x) __builtin_floor(x)
#define F_CEILF(x) __builtin_ceilf(x)
#define F_CEILD(x) __builtin_ceil(x)
#define F_ROUNDF(x) ((float)rt_round_half_even((double)(x)))
#define F_ROUNDD(x) rt_round_half_even(x)
#define F_RECF(x) (1.0f / (x))
#define F_RECD(x) (1.0 / (x))

FLOAT_UNARY_KERNEL(rt_k_floor, "Floor", F_FLOORF, F_FLOORD)
FLOAT_UNARY_KERNEL(rt_k_ceil, "Ceil", F_CEILF, F_CEILD)
FLOAT_UNARY_KERNEL(rt_k_round, "Round", F_ROUNDF, F_ROUNDD)
FLOAT_UNARY_KERNEL(rt_k_reciprocal, "Reciprocal", F_RECF, F_RECD)

/* Sign: -1, 0 or 1 in the input's type; NaN stays NaN. */
#define F_SGN(x) ((x) > 0 ? 1 : (x) < 0 ? -1 : 0)
#define F_SGNU(x) ((x) > 0 ? 1 : 0)
#define F_SGNF(x) ((x) > 0 ? 1.0f : (x) < 0 ? -1.0f : (x) == 0 ? 0.0f : (x))
#define F_SGND(x) ((x) > 0 ? 1.0 : (x) < 0 ? -1.0 : (x) == 0 ? 0.0 : (x))

int rt_k_sign(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    (void)params;
    int64_t n;
    int rc = lg_unary_setup(ctx, "Sign", in, nin, out, nout, -1, &n);
    if (rc)
        return rc;
    switch (in[0].dtype) {
    case IR_DT_FLOAT: LG_UN_T(float, float, F_SGNF); break;
    case IR_DT_DOUBLE: LG_UN_T(double, double, F_SGND); break;
    case IR_DT_INT8: LG_UN_T(int8_t, int8_t, F_SGN); break;
    case IR_DT_INT16: LG_UN_T(int16_t, int16_t, F_SGN); break;
    case IR_DT_INT32: LG_UN_T(int32_t, int32_t, F_SGN); break;
    case IR_DT_INT64: LG_UN_T(int64_t, int64_t, F_SGN); break;
    case IR_DT_UINT8: LG_UN_T(uint8_t, uint8_t, F_SGNU); break;
    case IR_DT_UINT16: LG_UN_T(uint16_t, uint16_t, F_SGNU); break;
    case IR_DT_UINT32: LG_UN_T(uint32_t, uint32_t, F_SGNU); break;
    case IR_DT_UINT64: LG_UN_T(uint64_t, uint64_t, F_SGNU); break;
    case IR_DT_FLOAT16: {
        const uint16_t *X = (const uint16_t *)in[0].data;
        uint16_t *Y = (uint16_t *)out[0].data;
        for (int64_t i = 0; i < n; i++)
            Y[i] = rt_f2h(F_SGNF(rt_h2f(X[i])));
        break;
    }
    case IR_DT_BFLOAT16: {
        const uint16_t *X = (const uint16_t *)in[0].data;
        uint16_t *Y = (uint16_t *)out[0].data;
        for (int64_t i = 0; i < n; i++)
            Y[i] = rt_f2bf(F_SGNF(rt_bf2f(X[i])));
        break;
    }
    default: return lg_bad_type(ctx, "Sign", in[0].dtype);
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ Cast */

/* A scalar in transit: exactly one of the three fields is meaningful (see `kind`). */
typedef struct LgScalar {
    int kind;   /* 0: signed integer in i, 1: unsigned integer in u, 2: float in d */
    int64_t i;  /* signed integer value */
    uint64_t u; /* unsigned integer value */
    double d;   /* floating-point value */
} LgScalar;

/* Parses a STRING element as a number: integers exactly when the whole text is an integer
 * (and the target is an integer type), otherwise strtod; INF/+INF/-INF/NaN in any case.
 * Returns 0, or -1 if the text is not a number. */
static int lg_parse_string(const IrString *s, int int_target, LgScalar *v) {
    char buf[128];
    size_t len = s->len;
    if (len >= sizeof buf || (len > 0 && !s->data))
        return -1;
    if (len)
        memcpy(buf, s->data, len);
    buf[len] = 0;
    char *str = buf;
    while (*str == ' ' || *str == '\t' || *str == '\n')
        str++;
    if (strcasecmp(str, "inf") == 0 || strcasecmp(str, "+inf") == 0) {
        v->kind = 2;
        v->d = __builtin_inf();
        return 0;
    }
    if (strcasecmp(str, "-inf") == 0) {
        v->kind = 2;
        v->d = -__builtin_inf();
        return 0;
    }
    if (strcasecmp(str, "nan") == 0) {
        v->kind = 2;
        v->d = __builtin_nan("");
        return 0;
    }
    char *end = NULL;
    if (int_target && *str) {
        if (*str == '-') {
            long long x = strtoll(str, &end, 10);
            if (end && *end == 0 && end != str) {
                v->kind = 0;
                v->i = x;
                return 0;
            }
        } else {
            unsigned long long x = strtoull(str, &end, 10);
            if (end && *end == 0 && end != str) {
                v->kind = 1;
                v->u = x;
                return 0;
            }
        }
    }
    double d = strtod(str, &end);
    if (!*str || !end || *end != 0)
        return -1;
    v->kind = 2;
    v->d = d;
    return 0;
}

/* Reads element i of a tensor of type dt. Returns 0, or -1 for unsupported types. */
static int lg_load(const void *data, int64_t i, int dt, LgScalar *v) {
    switch (dt) {
    case IR_DT_BOOL: v->kind = 1; v->u = ((const uint8_t *)data)[i] != 0; return 0;
    case IR_DT_UINT8: case IR_DT_UINT4: case IR_DT_UINT2:
        v->kind = 1; v->u = ((const uint8_t *)data)[i]; return 0;
    case IR_DT_UINT16: v->kind = 1; v->u = ((const uint16_t *)data)[i]; return 0;
    case IR_DT_UINT32: v->kind = 1; v->u = ((const uint32_t *)data)[i]; return 0;
    case IR_DT_UINT64: v->kind = 1; v->u = ((const uint64_t *)data)[i]; return 0;
    case IR_DT_INT8: case IR_DT_INT4: case IR_DT_INT2:
        v->kind = 0; v->i = ((const int8_t *)data)[i]; return 0;
    case IR_DT_INT16: v->kind = 0; v->i = ((const int16_t *)data)[i]; return 0;
    case IR_DT_INT32: v->kind = 0; v->i = ((const int32_t *)data)[i]; return 0;
    case IR_DT_INT64: v->kind = 0; v->i = ((const int64_t *)data)[i]; return 0;
    case IR_DT_FLOAT: v->kind = 2; v->d = ((const float *)data)[i]; return 0;
    case IR_DT_DOUBLE: v->kind = 2; v->d = ((const double *)data)[i]; return 0;
    case IR_DT_FLOAT16: v->kind = 2; v->d = rt_h2f(((const uint16_t *)data)[i]); return 0;
    case IR_DT_BFLOAT16: v->kind = 2; v->d = rt_bf2f(((const uint16_t *)data)[i]); return 0;
    case IR_DT_FLOAT8E8M0: v->kind = 2; v->d = rt_e8m0_decode(((const uint8_t *)data)[i]); return 0;
    default: {
        const RtFpFormat *f = rt_fp_format(dt);
        if (!f)
            return -1;
        v->kind = 2;
        v->d = rt_fp_decode(((const uint8_t *)data)[i], f);
        return 0;
    }
    }
}

static double lg_as_double(const LgScalar *v) {
    return v->kind == 0 ? (double)v->i : v->kind == 1 ? (double)v->u : v->d;
}

/* Integer bits of v for an integer target (truncation toward zero for floats; `rne` rounds
 * half to even first, for the sub-byte types). */
static uint64_t lg_as_bits(const LgScalar *v, int rne) {
    if (v->kind == 0)
        return (uint64_t)v->i;
    if (v->kind == 1)
        return v->u;
    return rt_d2u64(rne ? rt_round_half_even(v->d) : v->d);
}

/* Writes v as element i of a tensor of type dt. Returns 0, or -1 for unsupported types. */
static int lg_store(void *data, int64_t i, int dt, const LgScalar *v, const RtLogicParams *pr) {
    switch (dt) {
    case IR_DT_BOOL:
        ((uint8_t *)data)[i] = (uint8_t)(v->kind == 0 ? v->i != 0 : v->kind == 1 ? v->u != 0
                                                                                  : v->d != 0);
        return 0;
    case IR_DT_UINT8: case IR_DT_INT8: ((uint8_t *)data)[i] = (uint8_t)lg_as_bits(v, 0); return 0;
    case IR_DT_UINT16: case IR_DT_INT16:
        ((uint16_t *)data)[i] = (uint16_t)lg_as_bits(v, 0); return 0;
    case IR_DT_UINT32: case IR_DT_INT32:
        ((uint32_t *)data)[i] = (uint32_t)lg_as_bits(v, 0); return 0;
    case IR_DT_UINT64: case IR_DT_INT64: ((uint64_t *)data)[i] = lg_as_bits(v, 0); return 0;
    case IR_DT_UINT4: ((uint8_t *)data)[i] = rt_wrap_small(lg_as_bits(v, 1), 4, 0); return 0;
    case IR_DT_INT4: ((uint8_t *)data)[i] = rt_wrap_small(lg_as_bits(v, 1), 4, 1); return 0;
    case IR_DT_UINT2: ((uint8_t *)data)[i] = rt_wrap_small(lg_as_bits(v, 1), 2, 0); return 0;
    case IR_DT_INT2: ((uint8_t *)data)[i] = rt_wrap_small(lg_as_bits(v, 1), 2, 1); return 0;
    case IR_DT_FLOAT:
        /* integers convert directly (one rounding), not through double */
        ((float *)data)[i] = v->kind == 0 ? (float)v->i : v->kind == 1 ? (float)v->u : (float)v->d;
        return 0;
    case IR_DT_DOUBLE: ((double *)data)[i] = lg_as_double(v); return 0;
    case IR_DT_FLOAT16: case IR_DT_BFLOAT16:
        ((uint16_t *)data)[i] = (uint16_t)rt_fp_encode(lg_as_double(v), rt_fp_format(dt), 0);
        return 0;
    case IR_DT_FLOAT8E8M0:
        ((uint8_t *)data)[i] = rt_e8m0_encode((float)lg_as_double(v), pr->saturate, pr->round_mode);
        return 0;
    default: {
        const RtFpFormat *f = rt_fp_format(dt);
        if (!f)
            return -1;
        ((uint8_t *)data)[i] = (uint8_t)rt_fp_encode(lg_as_double(v), f, pr->saturate);
        return 0;
    }
    }
}

/* 1 if dt is an integer or bool type (for string parsing). */
static int lg_int_target(int dt) {
    return lg_is_wide_int(dt) || dt == IR_DT_BOOL || dt == IR_DT_INT4 || dt == IR_DT_UINT4 ||
           dt == IR_DT_INT2 || dt == IR_DT_UINT2;
}

/* Fast paths for the pairs models use most (index casts, masks, precision changes), with the
 * same results as lg_load/lg_store: float -> integer truncates toward zero through rt_d2u64 and
 * keeps the low bits, integer -> integer keeps the low bits, anything -> bool tests != 0. The
 * list is kept short on purpose: every loop here is optimized again in each model that uses
 * Cast (the full matrix of 88 loops cost about 1.6 s of LLVM time per model). */
#define LG_CV_LOOP(S, D, EXPR)                                    \
    do {                                                          \
        const S *X_ = (const S *)src;                             \
        D *Y_ = (D *)dst;                                         \
        for (int64_t i_ = 0; i_ < n; i_++) {                      \
            S x_ = X_[i_];                                        \
            Y_[i_] = (D)(EXPR);                                   \
        }                                                         \
    } while (0)

#define LG_PAIR(S, D) ((S) * IR_DT_COUNT + (D))

/* Converts n elements for the common pairs; returns 1 if done, 0 otherwise. */
static int lg_cast_fast(const void *src, int sdt, void *dst, int ddt, int64_t n) {
    switch (LG_PAIR(sdt, ddt)) {
    case LG_PAIR(IR_DT_INT64, IR_DT_FLOAT): LG_CV_LOOP(int64_t, float, x_); return 1;
    case LG_PAIR(IR_DT_INT32, IR_DT_FLOAT): LG_CV_LOOP(int32_t, float, x_); return 1;
    case LG_PAIR(IR_DT_BOOL, IR_DT_FLOAT): LG_CV_LOOP(uint8_t, float, x_ != 0); return 1;
    case LG_PAIR(IR_DT_UINT8, IR_DT_FLOAT): LG_CV_LOOP(uint8_t, float, x_); return 1;
    case LG_PAIR(IR_DT_FLOAT, IR_DT_DOUBLE): LG_CV_LOOP(float, double, x_); return 1;
    case LG_PAIR(IR_DT_DOUBLE, IR_DT_FLOAT): LG_CV_LOOP(double, float, x_); return 1;
    case LG_PAIR(IR_DT_FLOAT, IR_DT_BOOL): LG_CV_LOOP(float, uint8_t, x_ != 0); return 1;
    case LG_PAIR(IR_DT_FLOAT, IR_DT_INT64): LG_CV_LOOP(float, uint64_t, rt_d2u64(x_)); return 1;
    case LG_PAIR(IR_DT_FLOAT, IR_DT_INT32):
        LG_CV_LOOP(float, uint32_t, (uint32_t)rt_d2u64(x_));
        return 1;
    case LG_PAIR(IR_DT_INT32, IR_DT_INT64): LG_CV_LOOP(int32_t, int64_t, x_); return 1;
    case LG_PAIR(IR_DT_INT64, IR_DT_INT32): LG_CV_LOOP(int64_t, uint32_t, (uint64_t)x_); return 1;
    case LG_PAIR(IR_DT_BOOL, IR_DT_INT64): LG_CV_LOOP(uint8_t, int64_t, x_ != 0); return 1;
    case LG_PAIR(IR_DT_INT64, IR_DT_BOOL): LG_CV_LOOP(int64_t, uint8_t, x_ != 0); return 1;
    default: return 0;
    }
}

int rt_k_cast(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    const RtLogicParams *pr = lg_params(params);
    int64_t n;
    if (lg_check(ctx, "Cast", in, nin, out, nout, 1))
        return ONNXC_ERR_INVALID_ARG;
    n = rt_numel(&in[0]);
    if (n != rt_numel(&out[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Cast: %lld elements in, %lld out", (long long)n,
                       (long long)rt_numel(&out[0]));
    int sdt = in[0].dtype, ddt = out[0].dtype;
    if (ddt == IR_DT_STRING)
        return rt_fail(ctx, ONNXC_ERR_UNSUPPORTED, "Cast: casting to STRING is not supported");
    if (sdt == ddt) {
        if (n > 0 && in[0].data != out[0].data)
            memmove(out[0].data, in[0].data, (size_t)n * rt_dtype_size(sdt));
        return ONNXC_OK;
    }
    if (lg_cast_fast(in[0].data, sdt, out[0].data, ddt, n))
        return ONNXC_OK;
    if (sdt == IR_DT_FLOAT && ddt == IR_DT_FLOAT16) {
        const float *X = (const float *)in[0].data;
        uint16_t *Y = (uint16_t *)out[0].data;
        for (int64_t i = 0; i < n; i++)
            Y[i] = rt_f2h(X[i]);
        return ONNXC_OK;
    }
    if (sdt == IR_DT_FLOAT16 && ddt == IR_DT_FLOAT) {
        const uint16_t *X = (const uint16_t *)in[0].data;
        float *Y = (float *)out[0].data;
        for (int64_t i = 0; i < n; i++)
            Y[i] = rt_h2f(X[i]);
        return ONNXC_OK;
    }
    int int_target = lg_int_target(ddt);
    for (int64_t i = 0; i < n; i++) {
        LgScalar v = {0, 0, 0, 0.0};
        if (sdt == IR_DT_STRING) {
            if (lg_parse_string(&((const IrString *)in[0].data)[i], int_target, &v))
                return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Cast: element %lld is not a number",
                               (long long)i);
        } else if (lg_load(in[0].data, i, sdt, &v)) {
            return rt_fail(ctx, ONNXC_ERR_UNSUPPORTED, "Cast: cannot cast from %s",
                           lg_dtype_name(sdt));
        }
        if (lg_store(out[0].data, i, ddt, &v, pr))
            return rt_fail(ctx, ONNXC_ERR_UNSUPPORTED, "Cast: cannot cast to %s",
                           lg_dtype_name(ddt));
    }
    return ONNXC_OK;
}
