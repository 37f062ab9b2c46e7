/* rt_reduce.c - kernels of the reduce family: ReduceSum, ReduceMean, ReduceMax, ReduceMin,
 * ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare, ArgMax, ArgMin,
 * and the variadic elementwise Max, Min, Sum, Mean.
 *
 * Semantics follow docs/Operators.md of ONNX and its reference implementation
 * (onnx/reference/ops/op_reduce_*.py, op_argmax.py, op_max.py, ...):
 *  - the reduced axes come as a bit mask (RtReduceParams.axes_mask); a mask of 0 reduces over the
 *    empty set of axes, so every output is the reduction of one element (ReduceL1 gives |x|,
 *    ReduceSumSquare x*x, ReduceLogSum log(x), as the spec says for noop_with_empty_axes);
 *  - with RtReduceParams.axes_input the axes are read at run time from in[1] instead: out of
 *    range or repeated axes are errors (ONNXC_ERR_RUNTIME), and so is (ONNXC_ERR_SHAPE) a
 *    reduced shape other than the output's compiled one;
 *  - reducing an empty set of values gives the identity: 0 for Sum/L1/L2/SumSquare, 1 for Prod,
 *    -inf for LogSum/LogSumExp, the lowest value of the type for Max (-inf for floats, false for
 *    bool), the highest for Min; Mean of nothing is NaN for floats (0/0) and 0 for integers;
 *  - floating types (float, double, float16, bfloat16) are reduced in double precision and
 *    rounded once; NaN propagates through Max/Min as in numpy;
 *  - integer Sum/Prod/L1/SumSquare wrap around in the element type as numpy does with
 *    dtype=x.dtype; integer Mean is the wrapped sum divided by the count, truncated toward zero;
 *    integer L2/LogSum/LogSumExp are computed in double and converted back (NaN gives 0, values
 *    out of range saturate);
 *  - ArgMax/ArgMin return int64 indices; ties go to the first index unless select_last is set;
 *    a NaN counts as the extreme value (numpy's argmax/argmin);
 *  - variadic Max/Min/Sum/Mean broadcast all inputs to the output (numpy rules); Sum and Mean
 *    add in the element type in input order (float16 rounds after every addition, like the
 *    reference), Mean then divides by the input count.
 * Kernels are plain C (also built as LLVM bitcode) and allocate nothing.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

#define RED_MAX_RANK 64

/* ------------------------------------------------------------------ conversions */

/* double -> int64 without undefined behaviour: NaN gives 0, out-of-range values saturate. */
static inline int64_t red_d2i64(double v) {
    if (v != v)
        return 0;
    if (v >= 9223372036854775808.0)
        return INT64_MAX;
    if (v < -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

/* double -> uint64 without undefined behaviour: NaN and negatives give 0, large values saturate. */
static inline uint64_t red_d2u64(double v) {
    if (v != v || v <= 0.0)
        return 0;
    if (v >= 18446744073709551616.0)
        return UINT64_MAX;
    return (uint64_t)v;
}

/* Clamp helpers used when a double result goes back into a narrow integer type. */
static inline int64_t red_clamp_i(int64_t v, int64_t lo, int64_t hi) {
    return v < lo ? lo : v > hi ? hi : v;
}
static inline uint64_t red_clamp_u(uint64_t v, uint64_t hi) { return v > hi ? hi : v; }

/* ------------------------------------------------------------------ reduction plan */

/* The input seen as kept and reduced dimension runs: size-1 dims are dropped and neighbouring
 * dims of the same kind are merged (row-major storage keeps them contiguous). Each output element
 * is the reduction of nred input elements found at base + sum(ridx[i] * rstr[i]), where base
 * walks the kept dims in order. Both lists have at least one entry (a dim of size 1 with stride
 * 0 when there is nothing of that kind). */
typedef struct RedPlan {
    int nk;                      /* kept runs (>= 1) */
    int nr;                      /* reduced runs (>= 1) */
    int64_t kdim[RED_MAX_RANK];  /* kept run sizes, outermost first */
    int64_t kstr[RED_MAX_RANK];  /* their input strides in elements */
    int64_t rdim[RED_MAX_RANK];  /* reduced run sizes, outermost first */
    int64_t rstr[RED_MAX_RANK];  /* their input strides in elements */
    int64_t nout;                /* output elements (product of kdim) */
    int64_t nred;                /* input elements per output (product of rdim) */
} RedPlan;

/* Builds the plan for reducing `x` over `mask`. Returns 0 or -1 on a bad rank. */
static int red_plan(const RtTensor *x, uint64_t mask, RedPlan *p) {
    if (x->rank < 0 || x->rank > RED_MAX_RANK)
        return -1;
    int64_t str[RED_MAX_RANK];
    int64_t s = 1;
    for (int d = x->rank - 1; d >= 0; d--) {
        str[d] = s;
        s *= x->dims[d];
    }
    p->nk = p->nr = 0;
    p->nout = p->nred = 1;
    int last = -1; /* kind of the last run appended: 0 kept, 1 reduced */
    for (int d = 0; d < x->rank; d++) {
        int64_t n = x->dims[d];
        int red = (int)((mask >> d) & 1u);
        if (red)
            p->nred *= n;
        else
            p->nout *= n;
        if (n == 1)
            continue;
        int64_t *dims = red ? p->rdim : p->kdim;
        int64_t *strs = red ? p->rstr : p->kstr;
        int *cnt = red ? &p->nr : &p->nk;
        if (last == red && *cnt > 0) {
            /* merge with the previous run of this kind (contiguous with it) */
            dims[*cnt - 1] *= n;
            strs[*cnt - 1] = str[d];
        } else {
            dims[*cnt] = n;
            strs[*cnt] = str[d];
            (*cnt)++;
        }
        last = red;
    }
    if (p->nk == 0) {
        p->kdim[0] = 1;
        p->kstr[0] = 0;
        p->nk = 1;
    }
    if (p->nr == 0) {
        p->rdim[0] = 1;
        p->rstr[0] = 0;
        p->nr = 1;
    }
    return 0;
}

/* Advances an odometer over dims[0..n) with strides str; updates *off. Returns 0 when it wrapped
 * around (the walk is complete), 1 otherwise. */
static inline int red_next(int n, const int64_t *dims, const int64_t *str, int64_t *idx,
                           int64_t *off) {
    for (int i = n - 1; i >= 0; i--) {
        if (++idx[i] < dims[i]) {
            *off += str[i];
            return 1;
        }
        *off -= (dims[i] - 1) * str[i];
        idx[i] = 0;
    }
    return 0;
}

/* Runs BODY with `OFF` set to the offset of every input element that reduces into the output
 * whose kept-dims offset is BASE. The innermost reduced run is a plain strided loop. */
#define FOR_REDUCED(P, BASE, OFF, BODY)                                                      \
    do {                                                                                     \
        if ((P)->nred > 0) {                                                                 \
            int64_t ridx_[RED_MAX_RANK];                                                     \
            memset(ridx_, 0, sizeof(int64_t) * (size_t)(P)->nr);                             \
            int64_t rbase_ = (BASE);                                                         \
            const int64_t rin_ = (P)->rdim[(P)->nr - 1], rst_ = (P)->rstr[(P)->nr - 1];      \
            do {                                                                             \
                for (int64_t j_ = 0; j_ < rin_; j_++) {                                      \
                    const int64_t OFF = rbase_ + j_ * rst_;                                  \
                    BODY;                                                                    \
                }                                                                            \
            } while (red_next((P)->nr - 1, (P)->rdim, (P)->rstr, ridx_, &rbase_));           \
        }                                                                                    \
    } while (0)

/* Walks every output element: runs BODY with `O` = output index and `BASE` = input offset of its
 * kept coordinates (the reduced coordinates are all zero). */
#define FOR_OUTPUTS(P, O, BASE, BODY)                                                        \
    do {                                                                                     \
        int64_t kidx_[RED_MAX_RANK];                                                         \
        memset(kidx_, 0, sizeof(int64_t) * (size_t)(P)->nk);                                 \
        int64_t BASE = 0;                                                                    \
        for (int64_t O = 0; O < (P)->nout; O++) {                                            \
            BODY;                                                                            \
            red_next((P)->nk, (P)->kdim, (P)->kstr, kidx_, &BASE);                           \
        }                                                                                    \
    } while (0)

/* ------------------------------------------------------------------ floating reductions */

/* Reduces one output of a floating tensor: LD(i) loads element i as double. */
#define RED_FLOAT_BODY(P, OP, BASE, LD, R)                                                   \
    do {                                                                                     \
        switch (OP) {                                                                        \
        case RT_RED_SUM:                                                                     \
        case RT_RED_MEAN: {                                                                  \
            double s_ = 0.0;                                                                 \
            FOR_REDUCED(P, BASE, o_, s_ += LD(o_));                                          \
            R = (OP) == RT_RED_MEAN ? s_ / (double)(P)->nred : s_;                           \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_MAX: {                                                                   \
            double m_ = -INFINITY;                                                           \
            FOR_REDUCED(P, BASE, o_, {                                                       \
                double v_ = LD(o_);                                                          \
                if (v_ > m_ || v_ != v_)                                                     \
                    m_ = v_;                                                                 \
            });                                                                              \
            R = m_;                                                                          \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_MIN: {                                                                   \
            double m_ = INFINITY;                                                            \
            FOR_REDUCED(P, BASE, o_, {                                                       \
                double v_ = LD(o_);                                                          \
                if (v_ < m_ || v_ != v_)                                                     \
                    m_ = v_;                                                                 \
            });                                                                              \
            R = m_;                                                                          \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_PROD: {                                                                  \
            double s_ = 1.0;                                                                 \
            FOR_REDUCED(P, BASE, o_, s_ *= LD(o_));                                          \
            R = s_;                                                                          \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_L1: {                                                                    \
            double s_ = 0.0;                                                                 \
            FOR_REDUCED(P, BASE, o_, s_ += fabs(LD(o_)));                                    \
            R = s_;                                                                          \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_L2:                                                                      \
        case RT_RED_SUMSQUARE: {                                                             \
            double s_ = 0.0;                                                                 \
            FOR_REDUCED(P, BASE, o_, {                                                       \
                double v_ = LD(o_);                                                          \
                s_ += v_ * v_;                                                               \
            });                                                                              \
            R = (OP) == RT_RED_L2 ? sqrt(s_) : s_;                                           \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_LOGSUM: {                                                                \
            double s_ = 0.0;                                                                 \
            FOR_REDUCED(P, BASE, o_, s_ += LD(o_));                                          \
            R = log(s_);                                                                     \
            break;                                                                           \
        }                                                                                    \
        case RT_RED_LOGSUMEXP: {                                                             \
            /* shift by the largest finite value so that exp cannot overflow */             \
            double m_ = -INFINITY;                                                           \
            FOR_REDUCED(P, BASE, o_, {                                                       \
                double v_ = LD(o_);                                                          \
                if (isfinite(v_) && v_ > m_)                                                 \
                    m_ = v_;                                                                 \
            });                                                                              \
            if (m_ == -INFINITY)                                                             \
                m_ = 0.0;                                                                    \
            double s_ = 0.0;                                                                 \
            FOR_REDUCED(P, BASE, o_, s_ += exp(LD(o_) - m_));                                \
            R = log(s_) + m_;                                                                \
            break;                                                                           \
        }                                                                                    \
        default:                                                                             \
            R = NAN;                                                                         \
            break;                                                                           \
        }                                                                                    \
    } while (0)

#define LD_F32(i) ((double)xf_[(i)])
#define LD_F64(i) (xd_[(i)])
#define LD_F16(i) ((double)rt_h2f(xh_[(i)]))
#define LD_BF16(i) ((double)rt_bf2f(xh_[(i)]))

static void red_f32(const RedPlan *p, int op, const float *xf_, float *y) {
    FOR_OUTPUTS(p, o, base, {
        double r;
        RED_FLOAT_BODY(p, op, base, LD_F32, r);
        y[o] = (float)r;
    });
}

static void red_f64(const RedPlan *p, int op, const double *xd_, double *y) {
    FOR_OUTPUTS(p, o, base, {
        double r;
        RED_FLOAT_BODY(p, op, base, LD_F64, r);
        y[o] = r;
    });
}

static void red_f16(const RedPlan *p, int op, const uint16_t *xh_, uint16_t *y) {
    FOR_OUTPUTS(p, o, base, {
        double r;
        RED_FLOAT_BODY(p, op, base, LD_F16, r);
        y[o] = rt_f2h((float)r);
    });
}

static void red_bf16(const RedPlan *p, int op, const uint16_t *xh_, uint16_t *y) {
    FOR_OUTPUTS(p, o, base, {
        double r;
        RED_FLOAT_BODY(p, op, base, LD_BF16, r);
        y[o] = rt_f2bf((float)r);
    });
}

/* ------------------------------------------------------------------ integer reductions */

/* Defines red_<NAME>(plan, op, x, y) for an integer element type T. Arithmetic is done in
 * uint64_t (wrapping, no undefined behaviour) and truncated to T, which equals numpy's wrapping in
 * T. ACC is int64_t or uint64_t (the comparison domain); LO/HI the range of T; FROMD converts the
 * result of the double-based ops back; ISNEG(v) tests a value for < 0 (constant 0 if unsigned). */
#define DEF_RED_INT(NAME, T, ACC, LO, HI, FROMD, ISNEG)                                      \
    static void red_##NAME(const RedPlan *p, int op, const T *x, T *y) {                     \
        FOR_OUTPUTS(p, o, base, {                                                            \
            T r = 0;                                                                         \
            switch (op) {                                                                    \
            case RT_RED_SUM:                                                                 \
            case RT_RED_MEAN: {                                                              \
                uint64_t s = 0;                                                              \
                FOR_REDUCED(p, base, i, s += (uint64_t)(ACC)x[i]);                           \
                r = (T)s;                                                                    \
                if (op == RT_RED_MEAN)                                                       \
                    r = p->nred > 0 ? (T)((ACC)r / (ACC)p->nred) : (T)0;                     \
                break;                                                                       \
            }                                                                                \
            case RT_RED_MAX: {                                                               \
                ACC m = (ACC)(LO);                                                           \
                FOR_REDUCED(p, base, i, if ((ACC)x[i] > m) m = (ACC)x[i]);                   \
                r = (T)m;                                                                    \
                break;                                                                       \
            }                                                                                \
            case RT_RED_MIN: {                                                               \
                ACC m = (ACC)(HI);                                                           \
                FOR_REDUCED(p, base, i, if ((ACC)x[i] < m) m = (ACC)x[i]);                   \
                r = (T)m;                                                                    \
                break;                                                                       \
            }                                                                                \
            case RT_RED_PROD: {                                                              \
                uint64_t s = 1;                                                              \
                FOR_REDUCED(p, base, i, s *= (uint64_t)(ACC)x[i]);                           \
                r = (T)s;                                                                    \
                break;                                                                       \
            }                                                                                \
            case RT_RED_L1: {                                                                \
                uint64_t s = 0;                                                              \
                FOR_REDUCED(p, base, i, {                                                    \
                    ACC v = (ACC)x[i];                                                       \
                    s += ISNEG(v) ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;                 \
                });                                                                          \
                r = (T)s;                                                                    \
                break;                                                                       \
            }                                                                                \
            case RT_RED_SUMSQUARE: {                                                         \
                uint64_t s = 0;                                                              \
                FOR_REDUCED(p, base, i, s += (uint64_t)(ACC)x[i] * (uint64_t)(ACC)x[i]);     \
                r = (T)s;                                                                    \
                break;                                                                       \
            }                                                                                \
            default: {                                                                       \
                /* L2, LogSum, LogSumExp: in double, converted back with saturation */       \
                double d = 0.0;                                                              \
                switch (op) {                                                                \
                case RT_RED_L2: {                                                            \
                    double s = 0.0;                                                          \
                    FOR_REDUCED(p, base, i, s += (double)x[i] * (double)x[i]);               \
                    d = sqrt(s);                                                             \
                    break;                                                                   \
                }                                                                            \
                case RT_RED_LOGSUM: {                                                        \
                    double s = 0.0;                                                          \
                    FOR_REDUCED(p, base, i, s += (double)x[i]);                              \
                    d = log(s);                                                              \
                    break;                                                                   \
                }                                                                            \
                case RT_RED_LOGSUMEXP: {                                                     \
                    double m = -INFINITY;                                                    \
                    double s = 0.0;                                                          \
                    FOR_REDUCED(p, base, i, if ((double)x[i] > m) m = (double)x[i]);         \
                    if (m == -INFINITY)                                                      \
                        m = 0.0;                                                             \
                    FOR_REDUCED(p, base, i, s += exp((double)x[i] - m));                     \
                    d = log(s) + m;                                                          \
                    break;                                                                   \
                }                                                                            \
                default:                                                                     \
                    break;                                                                   \
                }                                                                            \
                r = FROMD(d, LO, HI);                                                        \
                break;                                                                       \
            }                                                                                \
            }                                                                                \
            y[o] = r;                                                                        \
        });                                                                                  \
    }

#define FROMD_S(d, LO, HI) red_clamp_i(red_d2i64(d), (int64_t)(LO), (int64_t)(HI))
#define RED_NEG_S(v) ((v) < 0)
#define RED_NEG_U(v) 0
#define FROMD_U(d, LO, HI) red_clamp_u(red_d2u64(d), (uint64_t)(HI))

DEF_RED_INT(i8, int8_t, int64_t, INT8_MIN, INT8_MAX, FROMD_S, RED_NEG_S)
DEF_RED_INT(i16, int16_t, int64_t, INT16_MIN, INT16_MAX, FROMD_S, RED_NEG_S)
DEF_RED_INT(i32, int32_t, int64_t, INT32_MIN, INT32_MAX, FROMD_S, RED_NEG_S)
DEF_RED_INT(i64, int64_t, int64_t, INT64_MIN, INT64_MAX, FROMD_S, RED_NEG_S)
DEF_RED_INT(u8, uint8_t, uint64_t, 0, UINT8_MAX, FROMD_U, RED_NEG_U)
DEF_RED_INT(u16, uint16_t, uint64_t, 0, UINT16_MAX, FROMD_U, RED_NEG_U)
DEF_RED_INT(u32, uint32_t, uint64_t, 0, UINT32_MAX, FROMD_U, RED_NEG_U)
DEF_RED_INT(u64, uint64_t, uint64_t, 0, UINT64_MAX, FROMD_U, RED_NEG_U)
DEF_RED_INT(bool, uint8_t, uint64_t, 0, 1, FROMD_U, RED_NEG_U)

/* ------------------------------------------------------------------ reduce kernels */

static const char *const red_names[RT_RED_COUNT] = {
    "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
    "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};

/* The axes mask of a reduction whose axes come at run time (p->axes_input): reads in[1] (absent
 * or empty: every axis, or none with noop_empty), rejects axes out of [-rank, rank) and repeated
 * axes, and checks that the shape they give equals the output's (compiled, declared) shape.
 * Returns 0 or the status after rt_fail. */
static int red_axes_input(RtCtx *ctx, const char *name, const RtReduceParams *p,
                          const RtTensor *x, const RtTensor *a, const RtTensor *y, uint64_t *mask) {
    int r = x->rank;
    int64_t k = a && a->rank >= 0 ? rt_numel(a) : 0;
    if (a && a->rank >= 0 && (a->rank != 1 || (a->dtype != IR_DT_INT64 && a->dtype != IR_DT_INT32) ||
                              (k > 0 && !a->data)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: the axes input must be a 1-D int64 tensor", name);
    uint64_t m = 0;
    for (int64_t i = 0; i < k; i++) {
        int64_t v = a->dtype == IR_DT_INT64 ? ((const int64_t *)a->data)[i]
                                            : ((const int32_t *)a->data)[i];
        int64_t ax = v < 0 ? v + r : v;
        if (ax < 0 || ax >= r)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "%s: axis %lld is out of range for rank %d",
                           name, (long long)v, r);
        if ((m >> ax) & 1u)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "%s: axis %lld is repeated", name,
                           (long long)v);
        m |= (uint64_t)1 << ax;
    }
    if (k == 0 && !p->noop_empty)
        m = r >= 64 ? UINT64_MAX : ((uint64_t)1 << r) - 1;
    int yr = 0, ok = 1;
    for (int d = 0; d < r && ok; d++) {
        int red = (int)((m >> d) & 1u);
        if (red && !p->keepdims)
            continue;
        ok = yr < y->rank && y->dims[yr] == (red ? 1 : x->dims[d]);
        yr++;
    }
    if (!ok || yr != y->rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: the axes input gives a result shape that differs "
                       "from the compiled output shape (rank %d)", name, (int)y->rank);
    *mask = m;
    return 0;
}

/* The shared body of the ten reduce kernels: checks the tensors against the parameter block,
 * plans the walk and dispatches on the element type. */
static int red_run(RtCtx *ctx, int op, const void *params, const RtTensor *in, int nin,
                   RtTensor *out, int nout) {
    const char *name = red_names[op];
    const RtReduceParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: needs parameters, an input and an output",
                       name);
    if (p->op != op)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: parameter block is for reduction %d", name,
                       (int)p->op);
    const RtTensor *x = &in[0];
    RtTensor *y = &out[0];
    if (x->rank != p->rank || x->rank < 0 || x->rank > RED_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input has rank %d, expected %d", name,
                       (int)x->rank, (int)p->rank);
    uint64_t mask = p->axes_mask;
    if (p->axes_input) {
        int st = red_axes_input(ctx, name, p, x, nin > 1 ? &in[1] : NULL, y, &mask);
        if (st)
            return st;
    }
    if (x->rank < 64 && (mask >> x->rank) != 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: axes mask names dims beyond rank %d", name,
                       (int)x->rank);
    if (y->dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: output type %d differs from input type %d", name,
                       (int)y->dtype, (int)x->dtype);
    RedPlan plan;
    if (red_plan(x, mask, &plan) != 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad input rank %d", name, (int)x->rank);
    if (rt_numel(y) != plan.nout)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output has %lld elements, expected %lld", name,
                       (long long)rt_numel(y), (long long)plan.nout);
    if (plan.nout == 0)
        return ONNXC_OK;
    switch (x->dtype) {
    case IR_DT_FLOAT: red_f32(&plan, op, x->data, y->data); break;
    case IR_DT_DOUBLE: red_f64(&plan, op, x->data, y->data); break;
    case IR_DT_FLOAT16: red_f16(&plan, op, x->data, y->data); break;
    case IR_DT_BFLOAT16: red_bf16(&plan, op, x->data, y->data); break;
    case IR_DT_INT8: red_i8(&plan, op, x->data, y->data); break;
    case IR_DT_INT16: red_i16(&plan, op, x->data, y->data); break;
    case IR_DT_INT32: red_i32(&plan, op, x->data, y->data); break;
    case IR_DT_INT64: red_i64(&plan, op, x->data, y->data); break;
    case IR_DT_UINT8: red_u8(&plan, op, x->data, y->data); break;
    case IR_DT_UINT16: red_u16(&plan, op, x->data, y->data); break;
    case IR_DT_UINT32: red_u32(&plan, op, x->data, y->data); break;
    case IR_DT_UINT64: red_u64(&plan, op, x->data, y->data); break;
    case IR_DT_BOOL:
        if (op != RT_RED_MAX && op != RT_RED_MIN)
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: bool input is only valid for ReduceMax and "
                           "ReduceMin", name);
        red_bool(&plan, op, x->data, y->data);
        break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d is not supported", name,
                       (int)x->dtype);
    }
    return ONNXC_OK;
}

#define DEF_RED_KERNEL(KNAME, OP)                                                            \
    int KNAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,    \
              int nout) {                                                                    \
        return red_run(ctx, OP, params, in, nin, out, nout);                                 \
    }

DEF_RED_KERNEL(rt_k_reduce_sum, RT_RED_SUM)
DEF_RED_KERNEL(rt_k_reduce_mean, RT_RED_MEAN)
DEF_RED_KERNEL(rt_k_reduce_max, RT_RED_MAX)
DEF_RED_KERNEL(rt_k_reduce_min, RT_RED_MIN)
DEF_RED_KERNEL(rt_k_reduce_prod, RT_RED_PROD)
DEF_RED_KERNEL(rt_k_reduce_l1, RT_RED_L1)
DEF_RED_KERNEL(rt_k_reduce_l2, RT_RED_L2)
DEF_RED_KERNEL(rt_k_reduce_logsum, RT_RED_LOGSUM)
DEF_RED_KERNEL(rt_k_reduce_logsumexp, RT_RED_LOGSUMEXP)
DEF_RED_KERNEL(rt_k_reduce_sumsquare, RT_RED_SUMSQUARE)

/* ------------------------------------------------------------------ ArgMax / ArgMin */

/* Defines arg_<NAME>(x, y, outer, n, inner, is_min, last): y[o*inner+i] = index along the axis
 * of the extreme of x[o, :, i]. K is the comparison type, LD(v) converts an element to it, ISNAN
 * tests for NaN (constant 0 for integers). */
#define DEF_ARG(NAME, T, K, LD, ISNAN)                                                       \
    static void arg_##NAME(const T *x, int64_t *y, int64_t outer, int64_t n, int64_t inner,  \
                           int is_min, int last) {                                           \
        for (int64_t o = 0; o < outer; o++)                                                  \
            for (int64_t i = 0; i < inner; i++) {                                            \
                const T *px = x + o * n * inner + i;                                         \
                K best = LD(px[0]);                                                          \
                int best_nan = ISNAN(best);                                                  \
                int64_t bi = 0;                                                              \
                for (int64_t k = 1; k < n; k++) {                                            \
                    K v = LD(px[k * inner]);                                                 \
                    int take;                                                                \
                    if (ISNAN(v))                                                            \
                        take = !best_nan || last;                                            \
                    else if (best_nan)                                                       \
                        take = 0;                                                            \
                    else if (v == best)                                                      \
                        take = last;                                                         \
                    else                                                                     \
                        take = is_min ? v < best : v > best;                                 \
                    if (take) {                                                              \
                        best = v;                                                            \
                        best_nan = ISNAN(v);                                                 \
                        bi = k;                                                              \
                    }                                                                        \
                }                                                                            \
                y[o * inner + i] = bi;                                                       \
            }                                                                                \
    }

#define LD_ID(v) (v)
#define LD_H(v) ((double)rt_h2f(v))
#define LD_BF(v) ((double)rt_bf2f(v))
#define NAN_F(v) ((v) != (v))
#define NAN_NO(v) 0

DEF_ARG(f32, float, double, LD_ID, NAN_F)
DEF_ARG(f64, double, double, LD_ID, NAN_F)
DEF_ARG(f16, uint16_t, double, LD_H, NAN_F)
DEF_ARG(bf16, uint16_t, double, LD_BF, NAN_F)
DEF_ARG(i8, int8_t, int64_t, LD_ID, NAN_NO)
DEF_ARG(i16, int16_t, int64_t, LD_ID, NAN_NO)
DEF_ARG(i32, int32_t, int64_t, LD_ID, NAN_NO)
DEF_ARG(i64, int64_t, int64_t, LD_ID, NAN_NO)
DEF_ARG(u8, uint8_t, uint64_t, LD_ID, NAN_NO)
DEF_ARG(u16, uint16_t, uint64_t, LD_ID, NAN_NO)
DEF_ARG(u32, uint32_t, uint64_t, LD_ID, NAN_NO)
DEF_ARG(u64, uint64_t, uint64_t, LD_ID, NAN_NO)

static int arg_run(RtCtx *ctx, int is_min, const void *params, const RtTensor *in, int nin,
                   RtTensor *out, int nout) {
    const char *name = is_min ? "ArgMin" : "ArgMax";
    const RtArgParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: needs parameters, an input and an output",
                       name);
    const RtTensor *x = &in[0];
    RtTensor *y = &out[0];
    if (x->rank < 1 || p->axis < 0 || p->axis >= x->rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: axis %d is out of range for rank %d", name,
                       (int)p->axis, (int)x->rank);
    if (y->dtype != IR_DT_INT64)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: output must be int64", name);
    int64_t outer = 1, inner = 1, n = x->dims[p->axis];
    for (int d = 0; d < p->axis; d++)
        outer *= x->dims[d];
    for (int d = p->axis + 1; d < x->rank; d++)
        inner *= x->dims[d];
    if (rt_numel(y) != outer * inner)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output has %lld elements, expected %lld", name,
                       (long long)rt_numel(y), (long long)(outer * inner));
    if (outer * inner == 0)
        return ONNXC_OK;
    if (n == 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: the reduced axis %d is empty", name,
                       (int)p->axis);
    int last = p->select_last != 0;
    int64_t *py = y->data;
    switch (x->dtype) {
    case IR_DT_FLOAT: arg_f32(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_DOUBLE: arg_f64(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_FLOAT16: arg_f16(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_BFLOAT16: arg_bf16(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_INT8: arg_i8(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_INT16: arg_i16(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_INT32: arg_i32(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_INT64: arg_i64(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_UINT8:
    case IR_DT_BOOL: arg_u8(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_UINT16: arg_u16(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_UINT32: arg_u32(x->data, py, outer, n, inner, is_min, last); break;
    case IR_DT_UINT64: arg_u64(x->data, py, outer, n, inner, is_min, last); break;
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d is not supported", name,
                       (int)x->dtype);
    }
    return ONNXC_OK;
}

int rt_k_argmax(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    return arg_run(ctx, 0, params, in, nin, out, nout);
}

int rt_k_argmin(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    return arg_run(ctx, 1, params, in, nin, out, nout);
}

/* ------------------------------------------------------------------ variadic Max/Min/Sum/Mean */

/* Input strides (elements) of t against output dims (0 where t is broadcast), numpy alignment.
 * Returns 0, or -1 if t does not broadcast to the output. */
static int var_strides(const RtTensor *t, const RtTensor *y, int64_t *s) {
    if (t->rank < 0 || t->rank > y->rank)
        return -1;
    int off = y->rank - t->rank;
    int64_t st = 1;
    for (int d = y->rank - 1; d >= 0; d--) {
        int k = d - off;
        int64_t td = k >= 0 ? t->dims[k] : 1;
        if (td == y->dims[d])
            s[d] = td == 1 ? 0 : st;
        else if (td == 1)
            s[d] = 0;
        else
            return -1;
        st *= td;
    }
    return 0;
}

/* Combines input t into y elementwise: y[i] = F(y[i], t[bcast(i)]) for every output index i; the
 * first input (first != 0) is copied instead. T is the element type. */
#define DEF_VAR(NAME, T, F)                                                                  \
    static void var_##NAME(T *y, const T *t, const int64_t *dims, const int64_t *st,        \
                           int rank, int64_t nout, int first) {                              \
        int64_t idx[RED_MAX_RANK];                                                           \
        memset(idx, 0, sizeof(int64_t) * (size_t)(rank > 0 ? rank : 1));                     \
        int64_t off = 0, in_n = rank > 0 ? dims[rank - 1] : 1;                               \
        int64_t in_s = rank > 0 ? st[rank - 1] : 0;                                          \
        for (int64_t o = 0; o < nout; o += in_n) {                                           \
            if (first)                                                                       \
                for (int64_t j = 0; j < in_n; j++)                                           \
                    y[o + j] = t[off + j * in_s];                                            \
            else                                                                             \
                for (int64_t j = 0; j < in_n; j++)                                           \
                    y[o + j] = F(y[o + j], t[off + j * in_s]);                               \
            if (rank > 1)                                                                    \
                red_next(rank - 1, dims, st, idx, &off);                                     \
        }                                                                                    \
    }

/* Max/Min with NaN propagation for floating types (numpy maximum/minimum). */
#define V_MAX(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (b) > (a) ? (b) : (a))
#define V_MIN(a, b) ((a) != (a) ? (a) : (b) != (b) ? (b) : (b) < (a) ? (b) : (a))
#define V_ADD(a, b) ((a) + (b))
/* integer addition wraps (through uint64_t) */
#define V_IADD(a, b) ((uint64_t)(a) + (uint64_t)(b))
/* float16/bfloat16: computed in float and rounded back */
static inline uint16_t v_hmax(uint16_t a, uint16_t b) { return rt_f2h(V_MAX(rt_h2f(a), rt_h2f(b))); }
static inline uint16_t v_hmin(uint16_t a, uint16_t b) { return rt_f2h(V_MIN(rt_h2f(a), rt_h2f(b))); }
static inline uint16_t v_hadd(uint16_t a, uint16_t b) { return rt_f2h(rt_h2f(a) + rt_h2f(b)); }
static inline uint16_t v_bmax(uint16_t a, uint16_t b) { return rt_f2bf(V_MAX(rt_bf2f(a), rt_bf2f(b))); }
static inline uint16_t v_bmin(uint16_t a, uint16_t b) { return rt_f2bf(V_MIN(rt_bf2f(a), rt_bf2f(b))); }
static inline uint16_t v_badd(uint16_t a, uint16_t b) { return rt_f2bf(rt_bf2f(a) + rt_bf2f(b)); }

#define DEF_VAR3(SUF, T, FADD)                                                               \
    DEF_VAR(max_##SUF, T, V_MAX)                                                             \
    DEF_VAR(min_##SUF, T, V_MIN)                                                             \
    DEF_VAR(sum_##SUF, T, FADD)

DEF_VAR3(f32, float, V_ADD)
DEF_VAR3(f64, double, V_ADD)
DEF_VAR3(i8, int8_t, V_IADD)
DEF_VAR3(i16, int16_t, V_IADD)
DEF_VAR3(i32, int32_t, V_IADD)
DEF_VAR3(i64, int64_t, V_IADD)
DEF_VAR3(u8, uint8_t, V_IADD)
DEF_VAR3(u16, uint16_t, V_IADD)
DEF_VAR3(u32, uint32_t, V_IADD)
DEF_VAR3(u64, uint64_t, V_IADD)
DEF_VAR(max_f16, uint16_t, v_hmax)
DEF_VAR(min_f16, uint16_t, v_hmin)
DEF_VAR(sum_f16, uint16_t, v_hadd)
DEF_VAR(max_bf16, uint16_t, v_bmax)
DEF_VAR(min_bf16, uint16_t, v_bmin)
DEF_VAR(sum_bf16, uint16_t, v_badd)

/* Mean's final step: y[i] /= count (integers truncate toward zero). */
#define DEF_VAR_DIV(NAME, T, EXPR)                                                           \
    static void vdiv_##NAME(T *y, int64_t n, int64_t cnt) {                                  \
        for (int64_t i = 0; i < n; i++)                                                      \
            y[i] = EXPR;                                                                     \
    }
DEF_VAR_DIV(f32, float, (float)(y[i] / (float)cnt))
DEF_VAR_DIV(f64, double, y[i] / (double)cnt)
DEF_VAR_DIV(f16, uint16_t, rt_f2h(rt_h2f(y[i]) / (float)cnt))
DEF_VAR_DIV(bf16, uint16_t, rt_f2bf(rt_bf2f(y[i]) / (float)cnt))
DEF_VAR_DIV(i8, int8_t, (int8_t)(y[i] / cnt))
DEF_VAR_DIV(i16, int16_t, (int16_t)(y[i] / cnt))
DEF_VAR_DIV(i32, int32_t, (int32_t)(y[i] / cnt))
DEF_VAR_DIV(i64, int64_t, y[i] / cnt)
DEF_VAR_DIV(u8, uint8_t, (uint8_t)(y[i] / (uint64_t)cnt))
DEF_VAR_DIV(u16, uint16_t, (uint16_t)(y[i] / (uint64_t)cnt))
DEF_VAR_DIV(u32, uint32_t, (uint32_t)(y[i] / (uint64_t)cnt))
DEF_VAR_DIV(u64, uint64_t, y[i] / (uint64_t)cnt)

static const char *const var_names[4] = {"Max", "Min", "Sum", "Mean"};

/* Dispatches one combining step on the element type; -1 if the type is not supported. */
#define VAR_CASE(DT, SUF, T)                                                                 \
    case DT:                                                                                 \
        if (op == RT_VAR_MAX)                                                                \
            var_max_##SUF((T *)y->data, (const T *)t->data, y->dims, st, y->rank, n, first); \
        else if (op == RT_VAR_MIN)                                                           \
            var_min_##SUF((T *)y->data, (const T *)t->data, y->dims, st, y->rank, n, first); \
        else                                                                                 \
            var_sum_##SUF((T *)y->data, (const T *)t->data, y->dims, st, y->rank, n, first); \
        return 0;

static int var_step(int op, RtTensor *y, const RtTensor *t, const int64_t *st, int64_t n,
                    int first) {
    switch (y->dtype) {
    VAR_CASE(IR_DT_FLOAT, f32, float)
    VAR_CASE(IR_DT_DOUBLE, f64, double)
    VAR_CASE(IR_DT_FLOAT16, f16, uint16_t)
    VAR_CASE(IR_DT_BFLOAT16, bf16, uint16_t)
    VAR_CASE(IR_DT_INT8, i8, int8_t)
    VAR_CASE(IR_DT_INT16, i16, int16_t)
    VAR_CASE(IR_DT_INT32, i32, int32_t)
    VAR_CASE(IR_DT_INT64, i64, int64_t)
    VAR_CASE(IR_DT_UINT8, u8, uint8_t)
    VAR_CASE(IR_DT_UINT16, u16, uint16_t)
    VAR_CASE(IR_DT_UINT32, u32, uint32_t)
    VAR_CASE(IR_DT_UINT64, u64, uint64_t)
    default:
        return -1;
    }
}

static void var_div(RtTensor *y, int64_t n, int64_t cnt) {
    switch (y->dtype) {
    case IR_DT_FLOAT: vdiv_f32(y->data, n, cnt); break;
    case IR_DT_DOUBLE: vdiv_f64(y->data, n, cnt); break;
    case IR_DT_FLOAT16: vdiv_f16(y->data, n, cnt); break;
    case IR_DT_BFLOAT16: vdiv_bf16(y->data, n, cnt); break;
    case IR_DT_INT8: vdiv_i8(y->data, n, cnt); break;
    case IR_DT_INT16: vdiv_i16(y->data, n, cnt); break;
    case IR_DT_INT32: vdiv_i32(y->data, n, cnt); break;
    case IR_DT_INT64: vdiv_i64(y->data, n, cnt); break;
    case IR_DT_UINT8: vdiv_u8(y->data, n, cnt); break;
    case IR_DT_UINT16: vdiv_u16(y->data, n, cnt); break;
    case IR_DT_UINT32: vdiv_u32(y->data, n, cnt); break;
    case IR_DT_UINT64: vdiv_u64(y->data, n, cnt); break;
    default: break;
    }
}

/* The shared body of the variadic kernels. The output must not alias any input but the first. */
static int var_run(RtCtx *ctx, int op, const void *params, const RtTensor *in, int nin,
                   RtTensor *out, int nout) {
    const char *name = var_names[op];
    const RtVarParams *p = params;
    if (!p || p->op != op || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: needs its parameters, inputs and an output",
                       name);
    RtTensor *y = &out[0];
    if (y->rank < 0 || y->rank > RED_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad output rank %d", name, (int)y->rank);
    int64_t st[RED_MAX_RANK];
    /* check every input before writing anything */
    for (int k = 0; k < nin; k++) {
        if (in[k].dtype != y->dtype)
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: input %d has type %d, output %d", name, k,
                           (int)in[k].dtype, (int)y->dtype);
        if (var_strides(&in[k], y, st) != 0)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input %d does not broadcast to the output",
                           name, k);
        if (k > 0 && in[k].data == y->data && rt_numel(y) > 0)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: output aliases input %d", name, k);
    }
    int64_t n = rt_numel(y);
    if (n == 0)
        return ONNXC_OK;
    for (int k = 0; k < nin; k++) {
        var_strides(&in[k], y, st);
        if (var_step(op == RT_VAR_MEAN ? RT_VAR_SUM : op, y, &in[k], st, n, k == 0) != 0)
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d is not supported", name,
                           (int)y->dtype);
    }
    if (op == RT_VAR_MEAN)
        var_div(y, n, nin);
    return ONNXC_OK;
}

int rt_k_var_max(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    return var_run(ctx, RT_VAR_MAX, params, in, nin, out, nout);
}

int rt_k_var_min(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    return var_run(ctx, RT_VAR_MIN, params, in, nin, out, nout);
}

int rt_k_var_sum(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    return var_run(ctx, RT_VAR_SUM, params, in, nin, out, nout);
}

int rt_k_var_mean(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    return var_run(ctx, RT_VAR_MEAN, params, in, nin, out, nout);
}
