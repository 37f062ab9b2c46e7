/* rt_elementwise.c - kernels of the elementwise family: Add, Sub, Mul, Div, Pow (numpy
 * multidirectional broadcasting, ONNX "Broadcasting in ONNX"; legacy opset < 7 axis broadcasting
 * through RtEltParams.b_axis), Neg, Abs, Sqrt, Exp, Log, Relu, LeakyRelu, Sigmoid, Tanh, Clip.
 *
 * Semantics follow docs/Operators.md of ONNX:
 *  - integer Add/Sub/Mul/Neg/Abs wrap around (two's complement), as numpy does;
 *  - integer Div truncates toward zero; a zero divisor fails with ONNXC_ERR_RUNTIME;
 *  - Pow's output has the base's type; integer bases with integer exponents are computed exactly
 *    (wrapping), other combinations in double precision;
 *  - Clip computes min(max(x, lo), hi), so lo > hi gives hi everywhere and NaN stays NaN;
 *  - float16/bfloat16 are computed in float and rounded back.
 * Kernels are plain C (also built as LLVM bitcode) and allocate nothing.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

#define ELT_MAX_RANK 64

/* How the two inputs of a binary kernel walk over the output. */
typedef struct BcastPlan {
    int rank;                   /* collapsed rank (>= 1) */
    int64_t n;                  /* output element count */
    int64_t dims[ELT_MAX_RANK]; /* collapsed output dims */
    int64_t sa[ELT_MAX_RANK];   /* element stride of input 0 per dim (0: broadcast) */
    int64_t sb[ELT_MAX_RANK];   /* element stride of input 1 per dim (0: broadcast) */
} BcastPlan;

/* Aligns input t (placed at output dim `off`) against the output dims and writes its strides.
 * Returns 0, or -1 if a dim neither matches nor is 1. */
static int plan_strides(const RtTensor *t, int off, int orank, const int64_t *odims, int64_t *s) {
    int64_t st = 1;
    for (int d = orank - 1; d >= 0; d--) {
        int k = d - off;
        int64_t td = (k >= 0 && k < t->rank) ? t->dims[k] : 1;
        if (td == odims[d]) {
            s[d] = td == 1 ? 0 : st;
        } else if (td == 1) {
            s[d] = 0;
        } else {
            return -1;
        }
        st *= td;
    }
    return 0;
}

/* Builds the plan for out = f(a, b). b_axis < 0: numpy broadcasting; else b starts at output dim
 * b_axis (legacy). Checks that out's dims are the broadcast of a's and b's. */
static int plan_binary(RtCtx *ctx, const char *op, const RtTensor *a, const RtTensor *b,
                       const RtTensor *out, int b_axis, BcastPlan *p) {
    int orank = out->rank;
    int64_t sa[ELT_MAX_RANK], sb[ELT_MAX_RANK], dims[ELT_MAX_RANK];
    if (orank < 0 || orank > ELT_MAX_RANK || a->rank < 0 || b->rank < 0 || a->rank > orank ||
        b->rank > orank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad ranks (%d, %d -> %d)", op, (int)a->rank,
                       (int)b->rank, (int)orank);
    int offb = b_axis >= 0 ? b_axis : orank - b->rank;
    if (offb < 0 || offb + b->rank > orank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: broadcast axis %d out of range", op, b_axis);
    if (plan_strides(a, orank - a->rank, orank, out->dims, sa) != 0 ||
        plan_strides(b, offb, orank, out->dims, sb) != 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input shapes do not broadcast to the output", op);
    /* every output dim must come from an input (or be 1) */
    for (int d = 0; d < orank; d++) {
        int ka = d - (orank - a->rank), kb = d - offb;
        int64_t da = ka >= 0 ? a->dims[ka] : 1;
        int64_t db = (kb >= 0 && kb < b->rank) ? b->dims[kb] : 1;
        int64_t want = da == 1 ? db : da;
        if (out->dims[d] != want)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output dim %d is %lld, expected %lld", op, d,
                           (long long)out->dims[d], (long long)want);
    }
    /* collapse: drop size-1 dims, merge neighbours that stay contiguous for both inputs */
    int r = 0;
    p->n = 1;
    for (int d = 0; d < orank; d++) {
        p->n *= out->dims[d];
        if (out->dims[d] == 1)
            continue;
        dims[r] = out->dims[d];
        p->sa[r] = sa[d];
        p->sb[r] = sb[d];
        r++;
    }
    memcpy(sa, p->sa, sizeof(int64_t) * (size_t)r);
    memcpy(sb, p->sb, sizeof(int64_t) * (size_t)r);
    int w = 0;
    for (int d = 0; d < r; d++) {
        if (w > 0 && sa[w - 1] == sa[d] * dims[d] && sb[w - 1] == sb[d] * dims[d]) {
            /* outer dim w-1 is contiguous with dim d for both inputs: merge */
            dims[w - 1] *= dims[d];
            sa[w - 1] = sa[d];
            sb[w - 1] = sb[d];
        } else {
            dims[w] = dims[d];
            sa[w] = sa[d];
            sb[w] = sb[d];
            w++;
        }
    }
    if (w == 0) {
        dims[0] = 1;
        sa[0] = sb[0] = 0;
        w = 1;
    }
    p->rank = w;
    memcpy(p->dims, dims, sizeof(int64_t) * (size_t)w);
    memcpy(p->sa, sa, sizeof(int64_t) * (size_t)w);
    memcpy(p->sb, sb, sizeof(int64_t) * (size_t)w);
    return 0;
}

/* The broadcast loop: Y[i] = F(A[ia], B[ib]) over the plan `p`. The innermost dim is a plain
 * loop (unit or zero strides, which LLVM vectorises); outer dims advance an odometer. */
#define BIN_LOOP(TA, TB, TY, F)                                                        \
    do {                                                                               \
        const TA *A_ = (const TA *)a->data;                                            \
        const TB *B_ = (const TB *)b->data;                                            \
        TY *Y_ = (TY *)out->data;                                                      \
        int64_t inner_ = p.dims[p.rank - 1];                                           \
        int64_t ia_ = p.sa[p.rank - 1], ib_ = p.sb[p.rank - 1];                        \
        int64_t rows_ = inner_ > 0 ? p.n / inner_ : 0;                                 \
        int64_t idx_[ELT_MAX_RANK] = {0};                                              \
        int64_t oa_ = 0, ob_ = 0, oy_ = 0;                                             \
        for (int64_t r_ = 0; r_ < rows_; r_++) {                                       \
            if (ia_ == 1 && ib_ == 1) {                                                \
                for (int64_t j_ = 0; j_ < inner_; j_++)                                \
                    Y_[oy_ + j_] = F(A_[oa_ + j_], B_[ob_ + j_]);                      \
            } else if (ia_ == 1 && ib_ == 0) {                                         \
                for (int64_t j_ = 0; j_ < inner_; j_++)                                \
                    Y_[oy_ + j_] = F(A_[oa_ + j_], B_[ob_]);                           \
            } else if (ia_ == 0 && ib_ == 1) {                                         \
                for (int64_t j_ = 0; j_ < inner_; j_++)                                \
                    Y_[oy_ + j_] = F(A_[oa_], B_[ob_ + j_]);                           \
            } else {                                                                   \
                for (int64_t j_ = 0; j_ < inner_; j_++)                                \
                    Y_[oy_ + j_] = F(A_[oa_ + j_ * ia_], B_[ob_ + j_ * ib_]);          \
            }                                                                          \
            oy_ += inner_;                                                             \
            for (int d_ = p.rank - 2; d_ >= 0; d_--) {                                 \
                idx_[d_]++;                                                            \
                oa_ += p.sa[d_];                                                       \
                ob_ += p.sb[d_];                                                       \
                if (idx_[d_] < p.dims[d_])                                             \
                    break;                                                             \
                oa_ -= p.sa[d_] * p.dims[d_];                                          \
                ob_ -= p.sb[d_] * p.dims[d_];                                          \
                idx_[d_] = 0;                                                          \
            }                                                                          \
        }                                                                              \
    } while (0)

/* The broadcast loop without the unit-stride special cases, for Pow (whose 72 type combinations
 * would otherwise make the kernel, and every model that links it, slow to compile). */
#define BIN_LOOP_PLAIN(TA, TB, TY, F)                                                  \
    do {                                                                               \
        const TA *A_ = (const TA *)a->data;                                            \
        const TB *B_ = (const TB *)b->data;                                            \
        TY *Y_ = (TY *)out->data;                                                      \
        int64_t inner_ = p.dims[p.rank - 1];                                           \
        int64_t ia_ = p.sa[p.rank - 1], ib_ = p.sb[p.rank - 1];                        \
        int64_t rows_ = inner_ > 0 ? p.n / inner_ : 0;                                 \
        int64_t idx_[ELT_MAX_RANK] = {0};                                              \
        int64_t oa_ = 0, ob_ = 0, oy_ = 0;                                             \
        for (int64_t r_ = 0; r_ < rows_; r_++) {                                       \
            for (int64_t j_ = 0; j_ < inner_; j_++)                                    \
                Y_[oy_ + j_] = F(A_[oa_ + j_ * ia_], B_[ob_ + j_ * ib_]);              \
            oy_ += inner_;                                                             \
            for (int d_ = p.rank - 2; d_ >= 0; d_--) {                                 \
                idx_[d_]++;                                                            \
                oa_ += p.sa[d_];                                                       \
                ob_ += p.sb[d_];                                                       \
                if (idx_[d_] < p.dims[d_])                                             \
                    break;                                                             \
                oa_ -= p.sa[d_] * p.dims[d_];                                          \
                ob_ -= p.sb[d_] * p.dims[d_];                                          \
                idx_[d_] = 0;                                                          \
            }                                                                          \
        }                                                                              \
    } while (0)

/* Per-type element functions. Integer arithmetic goes through uint64_t so that overflow wraps
 * instead of being undefined. */
#define F_ADD(x, y) ((x) + (y))
#define F_SUB(x, y) ((x) - (y))
#define F_MUL(x, y) ((x) * (y))
#define F_DIV(x, y) ((x) / (y))
#define I_ADD(x, y) ((uint64_t)(x) + (uint64_t)(y))
#define I_SUB(x, y) ((uint64_t)(x) - (uint64_t)(y))
#define I_MUL(x, y) ((uint64_t)(x) * (uint64_t)(y))
/* signed division: y == -1 is negation (avoids MIN / -1 overflow); zero divisors are rejected
 * before the loop runs */
#define S_DIV(x, y) ((y) == -1 ? (0 - (uint64_t)(x)) : (uint64_t)((x) / (y)))
#define U_DIV(x, y) ((x) / (y))
#define H_ADD(x, y) rt_f2h(rt_h2f(x) + rt_h2f(y))
#define H_SUB(x, y) rt_f2h(rt_h2f(x) - rt_h2f(y))
#define H_MUL(x, y) rt_f2h(rt_h2f(x) * rt_h2f(y))
#define H_DIV(x, y) rt_f2h(rt_h2f(x) / rt_h2f(y))
#define BF_ADD(x, y) rt_f2bf(rt_bf2f(x) + rt_bf2f(y))
#define BF_SUB(x, y) rt_f2bf(rt_bf2f(x) - rt_bf2f(y))
#define BF_MUL(x, y) rt_f2bf(rt_bf2f(x) * rt_bf2f(y))
#define BF_DIV(x, y) rt_f2bf(rt_bf2f(x) / rt_bf2f(y))

static const RtEltParams elt_default_params = {-1, 0, 0.01, 0.0, 0.0};

static const RtEltParams *elt_params(const void *params) {
    return params ? (const RtEltParams *)params : &elt_default_params;
}

/* Checks arity and that a, b and the output share one element type (Pow: a and output only). */
static int check_binary(RtCtx *ctx, const char *op, const RtTensor *in, int nin, RtTensor *out,
                        int nout, int same_b) {
    if (!in || !out || nin < 2 || nout < 1 || in[0].rank < 0 || in[1].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expects 2 inputs and 1 output", op);
    if (in[0].dtype != out[0].dtype || (same_b && in[1].dtype != in[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element types differ (%d, %d -> %d)", op,
                       (int)in[0].dtype, (int)in[1].dtype, (int)out[0].dtype);
    return 0;
}

/* Shared body of Add, Sub, Mul: all numeric types. */
#define ARITH_KERNEL(NAME, OPNAME, FF, FI, FH, FB)                                          \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,   \
             int nout) {                                                                    \
        BcastPlan p;                                                                        \
        const RtTensor *a = &in[0], *b = &in[1];                                            \
        int st = check_binary(ctx, OPNAME, in, nin, out, nout, 1);                          \
        if (st)                                                                             \
            return st;                                                                      \
        st = plan_binary(ctx, OPNAME, a, b, out, elt_params(params)->b_axis, &p);          \
        if (st)                                                                             \
            return st;                                                                      \
        if (p.n == 0)                                                                       \
            return 0;                                                                       \
        switch (a->dtype) {                                                                 \
        case IR_DT_FLOAT: BIN_LOOP(float, float, float, FF); break;                         \
        case IR_DT_DOUBLE: BIN_LOOP(double, double, double, FF); break;                     \
        case IR_DT_INT8: BIN_LOOP(int8_t, int8_t, int8_t, FI); break;                       \
        case IR_DT_INT16: BIN_LOOP(int16_t, int16_t, int16_t, FI); break;                   \
        case IR_DT_INT32: BIN_LOOP(int32_t, int32_t, int32_t, FI); break;                   \
        case IR_DT_INT64: BIN_LOOP(int64_t, int64_t, int64_t, FI); break;                   \
        case IR_DT_UINT8: BIN_LOOP(uint8_t, uint8_t, uint8_t, FI); break;                   \
        case IR_DT_UINT16: BIN_LOOP(uint16_t, uint16_t, uint16_t, FI); break;               \
        case IR_DT_UINT32: BIN_LOOP(uint32_t, uint32_t, uint32_t, FI); break;               \
        case IR_DT_UINT64: BIN_LOOP(uint64_t, uint64_t, uint64_t, FI); break;               \
        case IR_DT_FLOAT16: BIN_LOOP(uint16_t, uint16_t, uint16_t, FH); break;              \
        case IR_DT_BFLOAT16: BIN_LOOP(uint16_t, uint16_t, uint16_t, FB); break;             \
        default:                                                                            \
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d not supported", OPNAME, \
                           (int)a->dtype);                                                  \
        }                                                                                   \
        return 0;                                                                           \
    }

ARITH_KERNEL(rt_k_add, "Add", F_ADD, I_ADD, H_ADD, BF_ADD)
ARITH_KERNEL(rt_k_sub, "Sub", F_SUB, I_SUB, H_SUB, BF_SUB)
ARITH_KERNEL(rt_k_mul, "Mul", F_MUL, I_MUL, H_MUL, BF_MUL)

/* Returns nonzero if any of the n elements of integer tensor t is zero. */
#define HAS_ZERO(T, t, n, res)                                  \
    do {                                                        \
        const T *q_ = (const T *)(t)->data;                     \
        for (int64_t i_ = 0; i_ < (n); i_++)                    \
            if (q_[i_] == 0) {                                  \
                (res) = 1;                                      \
                break;                                          \
            }                                                   \
    } while (0)

int rt_k_div(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    BcastPlan p;
    const RtTensor *a = &in[0], *b = &in[1];
    int st = check_binary(ctx, "Div", in, nin, out, nout, 1);
    if (st)
        return st;
    st = plan_binary(ctx, "Div", a, b, out, elt_params(params)->b_axis, &p);
    if (st)
        return st;
    if (p.n == 0)
        return 0;
    int64_t nb = rt_numel(b);
    int zero = 0;
    switch (a->dtype) {
    case IR_DT_INT8: HAS_ZERO(int8_t, b, nb, zero); break;
    case IR_DT_INT16: HAS_ZERO(int16_t, b, nb, zero); break;
    case IR_DT_INT32: HAS_ZERO(int32_t, b, nb, zero); break;
    case IR_DT_INT64: HAS_ZERO(int64_t, b, nb, zero); break;
    case IR_DT_UINT8: HAS_ZERO(uint8_t, b, nb, zero); break;
    case IR_DT_UINT16: HAS_ZERO(uint16_t, b, nb, zero); break;
    case IR_DT_UINT32: HAS_ZERO(uint32_t, b, nb, zero); break;
    case IR_DT_UINT64: HAS_ZERO(uint64_t, b, nb, zero); break;
    default: break;
    }
    if (zero)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Div: integer division by zero");
    switch (a->dtype) {
    case IR_DT_FLOAT: BIN_LOOP(float, float, float, F_DIV); break;
    case IR_DT_DOUBLE: BIN_LOOP(double, double, double, F_DIV); break;
    case IR_DT_INT8: BIN_LOOP(int8_t, int8_t, int8_t, S_DIV); break;
    case IR_DT_INT16: BIN_LOOP(int16_t, int16_t, int16_t, S_DIV); break;
    case IR_DT_INT32: BIN_LOOP(int32_t, int32_t, int32_t, S_DIV); break;
    case IR_DT_INT64: BIN_LOOP(int64_t, int64_t, int64_t, S_DIV); break;
    case IR_DT_UINT8: BIN_LOOP(uint8_t, uint8_t, uint8_t, U_DIV); break;
    case IR_DT_UINT16: BIN_LOOP(uint16_t, uint16_t, uint16_t, U_DIV); break;
    case IR_DT_UINT32: BIN_LOOP(uint32_t, uint32_t, uint32_t, U_DIV); break;
    case IR_DT_UINT64: BIN_LOOP(uint64_t, uint64_t, uint64_t, U_DIV); break;
    case IR_DT_FLOAT16: BIN_LOOP(uint16_t, uint16_t, uint16_t, H_DIV); break;
    case IR_DT_BFLOAT16: BIN_LOOP(uint16_t, uint16_t, uint16_t, BF_DIV); break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Div: element type %d not supported", (int)a->dtype);
    }
    return 0;
}

/* ---------------------------------------------------------------- Pow */

/* base^e for integers, exact with wrap-around; e < 0 truncates 1/base^|e| toward zero. */
static inline int64_t pow_i64(int64_t base, int64_t e) {
    if (e < 0) {
        if (base == 1)
            return 1;
        if (base == -1)
            return (e & 1) ? -1 : 1;
        return 0; /* |1/base^|e|| < 1 (base 0: no exact answer; 0 like numpy's float->int path) */
    }
    uint64_t r = 1, b = (uint64_t)base;
    uint64_t k = (uint64_t)e;
    while (k) {
        if (k & 1u)
            r *= b;
        b *= b;
        k >>= 1;
    }
    return (int64_t)r;
}

/* double -> int64 without undefined behaviour: truncates, saturates, NaN gives 0. */
static inline int64_t d2i64(double v) {
    if (v != v)
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

#define P_F(x, y) ((float)pow((double)(x), (double)(y)))
#define P_D(x, y) pow((double)(x), (double)(y))
#define P_H(x, y) rt_f2h((float)pow((double)rt_h2f(x), (double)(y)))
#define P_BF(x, y) rt_f2bf((float)pow((double)rt_bf2f(x), (double)(y)))
#define P_H_H(x, y) rt_f2h((float)pow((double)rt_h2f(x), (double)rt_h2f(y)))
#define P_BF_H(x, y) rt_f2bf((float)pow((double)rt_bf2f(x), (double)rt_h2f(y)))
#define P_F_H(x, y) ((float)pow((double)(x), (double)rt_h2f(y)))
#define P_D_H(x, y) pow((double)(x), (double)rt_h2f(y))
#define P_H_BF(x, y) rt_f2h((float)pow((double)rt_h2f(x), (double)rt_bf2f(y)))
#define P_BF_BF(x, y) rt_f2bf((float)pow((double)rt_bf2f(x), (double)rt_bf2f(y)))
#define P_F_BF(x, y) ((float)pow((double)(x), (double)rt_bf2f(y)))
#define P_D_BF(x, y) pow((double)(x), (double)rt_bf2f(y))
/* integer base: integer exponent exact, float exponent through double */
#define P_I_I(x, y) pow_i64((int64_t)(x), (int64_t)(y))
#define P_I_U64(x, y) pow_i64((int64_t)(x), (y) > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)(y))
#define P_I_F(x, y) d2i64(pow((double)(x), (double)(y)))
#define P_I_H(x, y) d2i64(pow((double)(x), (double)rt_h2f(y)))
#define P_I_BF(x, y) d2i64(pow((double)(x), (double)rt_bf2f(y)))

/* Switch over the exponent's type for base type TA. FF: float exponents (f32/f64); FI: integer
 * exponents (FU64 for uint64); FH, FB: float16/bfloat16 exponents. */
#define POW_EXP_SWITCH(TA, FF, FI, FU64, FH, FB)                         \
    switch (b->dtype) {                                                  \
    case IR_DT_FLOAT: BIN_LOOP_PLAIN(TA, float, TA, FF); break;                \
    case IR_DT_DOUBLE: BIN_LOOP_PLAIN(TA, double, TA, FF); break;              \
    case IR_DT_FLOAT16: BIN_LOOP_PLAIN(TA, uint16_t, TA, FH); break;           \
    case IR_DT_BFLOAT16: BIN_LOOP_PLAIN(TA, uint16_t, TA, FB); break;          \
    case IR_DT_INT8: BIN_LOOP_PLAIN(TA, int8_t, TA, FI); break;                \
    case IR_DT_INT16: BIN_LOOP_PLAIN(TA, int16_t, TA, FI); break;              \
    case IR_DT_INT32: BIN_LOOP_PLAIN(TA, int32_t, TA, FI); break;              \
    case IR_DT_INT64: BIN_LOOP_PLAIN(TA, int64_t, TA, FI); break;              \
    case IR_DT_UINT8: BIN_LOOP_PLAIN(TA, uint8_t, TA, FI); break;              \
    case IR_DT_UINT16: BIN_LOOP_PLAIN(TA, uint16_t, TA, FI); break;            \
    case IR_DT_UINT32: BIN_LOOP_PLAIN(TA, uint32_t, TA, FI); break;            \
    case IR_DT_UINT64: BIN_LOOP_PLAIN(TA, uint64_t, TA, FU64); break;          \
    default: bad_exp = 1; break;                                         \
    }

int rt_k_pow(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    BcastPlan p;
    const RtTensor *a = &in[0], *b = &in[1];
    int bad_exp = 0;
    int st = check_binary(ctx, "Pow", in, nin, out, nout, 0);
    if (st)
        return st;
    st = plan_binary(ctx, "Pow", a, b, out, elt_params(params)->b_axis, &p);
    if (st)
        return st;
    if (p.n == 0)
        return 0;
    switch (a->dtype) {
    case IR_DT_FLOAT: POW_EXP_SWITCH(float, P_F, P_F, P_F, P_F_H, P_F_BF); break;
    case IR_DT_DOUBLE: POW_EXP_SWITCH(double, P_D, P_D, P_D, P_D_H, P_D_BF); break;
    case IR_DT_FLOAT16: POW_EXP_SWITCH(uint16_t, P_H, P_H, P_H, P_H_H, P_H_BF); break;
    case IR_DT_BFLOAT16: POW_EXP_SWITCH(uint16_t, P_BF, P_BF, P_BF, P_BF_H, P_BF_BF); break;
    case IR_DT_INT32: POW_EXP_SWITCH(int32_t, P_I_F, P_I_I, P_I_U64, P_I_H, P_I_BF); break;
    case IR_DT_INT64: POW_EXP_SWITCH(int64_t, P_I_F, P_I_I, P_I_U64, P_I_H, P_I_BF); break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Pow: base element type %d not supported",
                       (int)a->dtype);
    }
    if (bad_exp)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Pow: exponent element type %d not supported",
                       (int)b->dtype);
    return 0;
}

/* ---------------------------------------------------------------- unary */

/* Y[i] = F(X[i]) over n elements. */
#define UN_LOOP(T, F)                                   \
    do {                                                \
        const T *X_ = (const T *)in[0].data;            \
        T *Y_ = (T *)out[0].data;                       \
        for (int64_t i_ = 0; i_ < n; i_++)              \
            Y_[i_] = F(X_[i_]);                         \
    } while (0)

/* Checks arity, equal element types and equal shapes of input 0 and output 0; sets *n. */
static int check_unary(RtCtx *ctx, const char *op, const RtTensor *in, int nin, RtTensor *out,
                       int nout, int64_t *n) {
    if (!in || !out || nin < 1 || nout < 1 || in[0].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expects 1 input and 1 output", op);
    if (in[0].dtype != out[0].dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element types differ (%d -> %d)", op,
                       (int)in[0].dtype, (int)out[0].dtype);
    if (in[0].rank != out[0].rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input and output ranks differ", op);
    for (int d = 0; d < in[0].rank; d++)
        if (in[0].dims[d] != out[0].dims[d])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input and output shapes differ", op);
    *n = rt_numel(&in[0]);
    return 0;
}

/* The float-only unary kernels: f32 F32, f64 F64, float16/bfloat16 through float F32. */
#define FLOAT_UNARY_KERNEL(NAME, OPNAME, F32, F64)                                          \
    static inline uint16_t NAME##_h(uint16_t x) { return rt_f2h(F32(rt_h2f(x))); }        \
    static inline uint16_t NAME##_bf(uint16_t x) { return rt_f2bf(F32(rt_bf2f(x))); }      \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,   \
             int nout) {                                                                    \
        int64_t n;                                                                          \
        (void)params;                                                                       \
        int st = check_unary(ctx, OPNAME, in, nin, out, nout, &n);                          \
        if (st)                                                                             \
            return st;                                                                      \
        switch (in[0].dtype) {                                                              \
        case IR_DT_FLOAT: UN_LOOP(float, F32); break;                                       \
        case IR_DT_DOUBLE: UN_LOOP(double, F64); break;                                     \
        case IR_DT_FLOAT16: UN_LOOP(uint16_t, NAME##_h); break;                             \
        case IR_DT_BFLOAT16: UN_LOOP(uint16_t, NAME##_bf); break;                           \
        default:                                                                            \
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d not supported", OPNAME, \
                           (int)in[0].dtype);                                               \
        }                                                                                   \
        return 0;                                                                           \
    }

/* logistic function, stable for large |x| */
static inline float sigmoid_f(float x) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}
static inline double sigmoid_d(double x) {
    if (x >= 0.0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

FLOAT_UNARY_KERNEL(rt_k_sqrt, "Sqrt", sqrtf, sqrt)
FLOAT_UNARY_KERNEL(rt_k_exp, "Exp", expf, exp)
FLOAT_UNARY_KERNEL(rt_k_log, "Log", logf, log)
FLOAT_UNARY_KERNEL(rt_k_tanh, "Tanh", tanhf, tanh)
FLOAT_UNARY_KERNEL(rt_k_sigmoid, "Sigmoid", sigmoid_f, sigmoid_d)

#define NEG_F(x) (-(x))
#define NEG_I(x) (0 - (uint64_t)(x))
#define NEG_H(x) ((uint16_t)((x) ^ 0x8000u))
#define ABS_F(x) fabsf(x)
#define ABS_D(x) fabs(x)
#define ABS_I(x) ((x) < 0 ? (0 - (uint64_t)(x)) : (uint64_t)(x))
#define ABS_U(x) (x)
#define ABS_H(x) ((uint16_t)((x) & 0x7fffu))
#define RELU_F(x) ((x) > 0 ? (x) : 0)
#define RELU_H(x) (rt_h2f(x) > 0.0f ? (x) : (uint16_t)0)
#define RELU_BF(x) (rt_bf2f(x) > 0.0f ? (x) : (uint16_t)0)

int rt_k_neg(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    int64_t n;
    (void)params;
    int st = check_unary(ctx, "Neg", in, nin, out, nout, &n);
    if (st)
        return st;
    switch (in[0].dtype) {
    case IR_DT_FLOAT: UN_LOOP(float, NEG_F); break;
    case IR_DT_DOUBLE: UN_LOOP(double, NEG_F); break;
    case IR_DT_INT8: UN_LOOP(int8_t, NEG_I); break;
    case IR_DT_INT16: UN_LOOP(int16_t, NEG_I); break;
    case IR_DT_INT32: UN_LOOP(int32_t, NEG_I); break;
    case IR_DT_INT64: UN_LOOP(int64_t, NEG_I); break;
    case IR_DT_FLOAT16:
    case IR_DT_BFLOAT16: UN_LOOP(uint16_t, NEG_H); break; /* both: flip the sign bit */
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Neg: element type %d not supported",
                       (int)in[0].dtype);
    }
    return 0;
}

int rt_k_abs(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    int64_t n;
    (void)params;
    int st = check_unary(ctx, "Abs", in, nin, out, nout, &n);
    if (st)
        return st;
    switch (in[0].dtype) {
    case IR_DT_FLOAT: UN_LOOP(float, ABS_F); break;
    case IR_DT_DOUBLE: UN_LOOP(double, ABS_D); break;
    case IR_DT_INT8: UN_LOOP(int8_t, ABS_I); break;
    case IR_DT_INT16: UN_LOOP(int16_t, ABS_I); break;
    case IR_DT_INT32: UN_LOOP(int32_t, ABS_I); break;
    case IR_DT_INT64: UN_LOOP(int64_t, ABS_I); break;
    case IR_DT_UINT8: UN_LOOP(uint8_t, ABS_U); break;
    case IR_DT_UINT16: UN_LOOP(uint16_t, ABS_U); break;
    case IR_DT_UINT32: UN_LOOP(uint32_t, ABS_U); break;
    case IR_DT_UINT64: UN_LOOP(uint64_t, ABS_U); break;
    case IR_DT_FLOAT16:
    case IR_DT_BFLOAT16: UN_LOOP(uint16_t, ABS_H); break; /* both: clear the sign bit */
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Abs: element type %d not supported",
                       (int)in[0].dtype);
    }
    return 0;
}

int rt_k_relu(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    int64_t n;
    (void)params;
    int st = check_unary(ctx, "Relu", in, nin, out, nout, &n);
    if (st)
        return st;
    switch (in[0].dtype) {
    case IR_DT_FLOAT: UN_LOOP(float, RELU_F); break;
    case IR_DT_DOUBLE: UN_LOOP(double, RELU_F); break;
    case IR_DT_INT8: UN_LOOP(int8_t, RELU_F); break;
    case IR_DT_INT16: UN_LOOP(int16_t, RELU_F); break;
    case IR_DT_INT32: UN_LOOP(int32_t, RELU_F); break;
    case IR_DT_INT64: UN_LOOP(int64_t, RELU_F); break;
    case IR_DT_FLOAT16: UN_LOOP(uint16_t, RELU_H); break;
    case IR_DT_BFLOAT16: UN_LOOP(uint16_t, RELU_BF); break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Relu: element type %d not supported",
                       (int)in[0].dtype);
    }
    return 0;
}

int rt_k_leakyrelu(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    int64_t n;
    double alpha = elt_params(params)->alpha;
    float alphaf = (float)alpha;
    int st = check_unary(ctx, "LeakyRelu", in, nin, out, nout, &n);
    if (st)
        return st;
#define LRELU_F(x) ((x) < 0 ? (x) * alphaf : (x))
#define LRELU_D(x) ((x) < 0 ? (x) * alpha : (x))
#define LRELU_H(x) rt_f2h(LRELU_F(rt_h2f(x)))
#define LRELU_BF(x) rt_f2bf(LRELU_F(rt_bf2f(x)))
    switch (in[0].dtype) {
    case IR_DT_FLOAT: UN_LOOP(float, LRELU_F); break;
    case IR_DT_DOUBLE: UN_LOOP(double, LRELU_D); break;
    case IR_DT_FLOAT16: UN_LOOP(uint16_t, LRELU_H); break;
    case IR_DT_BFLOAT16: UN_LOOP(uint16_t, LRELU_BF); break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "LeakyRelu: element type %d not supported",
                       (int)in[0].dtype);
    }
#undef LRELU_F
#undef LRELU_D
#undef LRELU_H
#undef LRELU_BF
    return 0;
}

/* ---------------------------------------------------------------- Clip */

/* dst = v converted to T, saturated to [LO, HI] (NaN leaves dst unchanged): no undefined
 * float -> integer conversion. */
#define CLIP_FROM_DOUBLE(T, dst, v, LO, HI)                                        \
    do {                                                                           \
        if ((v) != (v))                                                            \
            break;                                                                 \
        if ((v) <= (double)(LO))                                                   \
            (dst) = (LO);                                                          \
        else if ((v) >= (double)(HI))                                              \
            (dst) = (HI);                                                          \
        else                                                                       \
            (dst) = (T)(v);                                                        \
    } while (0)

/* Bounds of one Clip call for native type T: from the attributes (legacy) or from the optional
 * scalar inputs 1 and 2, else the type's limits LO/HI. */
#define CLIP_BOUNDS(T, LO, HI)                                                     \
    T lo_ = (LO), hi_ = (HI);                                                      \
    if (pp->bounds_from_attr) {                                                    \
        CLIP_FROM_DOUBLE(T, lo_, pp->lo, LO, HI);                                  \
        CLIP_FROM_DOUBLE(T, hi_, pp->hi, LO, HI);                                  \
    } else {                                                                       \
        if (nin > 1 && in[1].rank >= 0 && in[1].data && rt_numel(&in[1]) >= 1)    \
            lo_ = *(const T *)in[1].data;                                          \
        if (nin > 2 && in[2].rank >= 0 && in[2].data && rt_numel(&in[2]) >= 1)    \
            hi_ = *(const T *)in[2].data;                                          \
    }

#define CLIP_NATIVE(T, LO, HI)                                                     \
    do {                                                                           \
        CLIP_BOUNDS(T, LO, HI)                                                     \
        const T *X_ = (const T *)in[0].data;                                       \
        T *Y_ = (T *)out[0].data;                                                  \
        for (int64_t i_ = 0; i_ < n; i_++) {                                       \
            T v_ = X_[i_] < lo_ ? lo_ : X_[i_];                                    \
            Y_[i_] = v_ > hi_ ? hi_ : v_;                                          \
        }                                                                          \
    } while (0)

/* float16/bfloat16: bounds and values through float (TOF/FROMF convert) */
#define CLIP_HALF(TOF, FROMF)                                                      \
    do {                                                                           \
        float lo_ = -INFINITY, hi_ = INFINITY;                                     \
        if (pp->bounds_from_attr) {                                                \
            lo_ = (float)pp->lo;                                                   \
            hi_ = (float)pp->hi;                                                   \
        } else {                                                                   \
            if (nin > 1 && in[1].rank >= 0 && in[1].data && rt_numel(&in[1]) >= 1) \
                lo_ = TOF(*(const uint16_t *)in[1].data);                          \
            if (nin > 2 && in[2].rank >= 0 && in[2].data && rt_numel(&in[2]) >= 1) \
                hi_ = TOF(*(const uint16_t *)in[2].data);                          \
        }                                                                          \
        const uint16_t *X_ = (const uint16_t *)in[0].data;                         \
        uint16_t *Y_ = (uint16_t *)out[0].data;                                    \
        for (int64_t i_ = 0; i_ < n; i_++) {                                       \
            float x_ = TOF(X_[i_]);                                                \
            float v_ = x_ < lo_ ? lo_ : x_;                                        \
            Y_[i_] = v_ > hi_ ? FROMF(hi_) : (v_ == x_ ? X_[i_] : FROMF(v_));      \
        }                                                                          \
    } while (0)

int rt_k_clip(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    int64_t n;
    const RtEltParams *pp = elt_params(params);
    int st = check_unary(ctx, "Clip", in, nin, out, nout, &n);
    if (st)
        return st;
    for (int i = 1; i < nin && i < 3; i++)
        if (!pp->bounds_from_attr && in[i].rank >= 0 && in[i].dtype != in[0].dtype)
            return rt_fail(ctx, ONNXC_ERR_TYPE, "Clip: bound %d has element type %d, input %d",
                           i, (int)in[i].dtype, (int)in[0].dtype);
    switch (in[0].dtype) {
    case IR_DT_FLOAT: CLIP_NATIVE(float, -INFINITY, INFINITY); break;
    case IR_DT_DOUBLE: CLIP_NATIVE(double, -INFINITY, INFINITY); break;
    case IR_DT_INT8: CLIP_NATIVE(int8_t, INT8_MIN, INT8_MAX); break;
    case IR_DT_INT16: CLIP_NATIVE(int16_t, INT16_MIN, INT16_MAX); break;
    case IR_DT_INT32: CLIP_NATIVE(int32_t, INT32_MIN, INT32_MAX); break;
    case IR_DT_INT64: CLIP_NATIVE(int64_t, INT64_MIN, INT64_MAX); break;
    case IR_DT_UINT8: CLIP_NATIVE(uint8_t, 0, UINT8_MAX); break;
    case IR_DT_UINT16: CLIP_NATIVE(uint16_t, 0, UINT16_MAX); break;
    case IR_DT_UINT32: CLIP_NATIVE(uint32_t, 0, UINT32_MAX); break;
    case IR_DT_UINT64: CLIP_NATIVE(uint64_t, 0, UINT64_MAX); break;
    case IR_DT_FLOAT16: CLIP_HALF(rt_h2f, rt_f2h); break;
    case IR_DT_BFLOAT16: CLIP_HALF(rt_bf2f, rt_f2bf); break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Clip: element type %d not supported",
                       (int)in[0].dtype);
    }
    return 0;
}
