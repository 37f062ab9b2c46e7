/* rt_act.c - kernels of the act family (ops/op_act.c): unary math and activation functions,
 * PRelu, Hardmax, the normalizations and Einsum (ONNX docs/Operators.md, sections Sin ... Atanh,
 * Erf, Softplus, Softsign, Elu, Selu, Celu, HardSigmoid, HardSwish, ThresholdedRelu, Gelu, Mish,
 * Shrink, Swish, SwiGLU, PRelu, Hardmax, LayerNormalization, RMSNormalization, InstanceNormalization,
 * GroupNormalization, LpNormalization, MeanVarianceNormalization, LRN, Einsum).
 *
 * Every kernel has one loop, whatever the element type: elements are read and written through
 * rt_load_f64/rt_store_f64 (runtime/rt_convert.h, mode RT_STORE_TRUNC), which switch on the
 * tensor's element type. In generated code the RtTensors are constants, so after inlining the
 * switch folds to one case; natively (constant folding) it costs a predictable branch per
 * element. Values are computed in double and rounded once to
 * the output type (float16/bfloat16 through float; integers truncated and saturated); sums are
 * kept in double. Float types (float, double, float16, bfloat16); integer types too for Shrink,
 * PRelu and Einsum (exact up to 2^53). No allocation.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

#define ACT_MAX_RANK 64

/* 1 if dt is float, double, float16 or bfloat16. */
static int act_float_type(int32_t dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* 1 if dt is an integer type the act kernels accept. */
static int act_int_type(int32_t dt) {
    return dt == IR_DT_INT8 || dt == IR_DT_INT16 || dt == IR_DT_INT32 || dt == IR_DT_INT64 ||
           dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 || dt == IR_DT_UINT64;
}

/* 1 if t is present with a float type. */
static int act_float_tensor(const RtTensor *t) {
    return t->rank >= 0 && t->data && act_float_type(t->dtype);
}

/* 1 if a and b have the same rank and dims. */
static int act_same_shape(const RtTensor *a, const RtTensor *b) {
    if (a->rank != b->rank)
        return 0;
    for (int d = 0; d < a->rank; d++)
        if (a->dims[d] != b->dims[d])
            return 0;
    return 1;
}

enum { ACT_ANY_OUT = 1, ACT_INTS = 2 };

/* Common checks of kernels whose output 0 is shaped like input 0, both of a float type (also an
 * integer type with ACT_INTS; the output's type equal to the input's unless ACT_ANY_OUT).
 * Returns 0 or a status. */
static int act_check_xy(RtCtx *ctx, const char *op, const RtTensor *in, int nin, RtTensor *out,
                        int nout, int min_in, int flags) {
    if (!in || !out || nin < min_in || nout < 1 || in[0].rank < 0 || out[0].rank < 0 ||
        in[0].rank > ACT_MAX_RANK ||
        (rt_numel(&in[0]) > 0 && (!in[0].data || !out[0].data)))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expects %d inputs and an output", op,
                       min_in);
    int ints = (flags & ACT_INTS) != 0;
    if (!(act_float_type(in[0].dtype) || (ints && act_int_type(in[0].dtype))) ||
        !(act_float_type(out[0].dtype) || (ints && act_int_type(out[0].dtype))) ||
        (!(flags & ACT_ANY_OUT) && out[0].dtype != in[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element types %d -> %d not supported", op,
                       (int)in[0].dtype, (int)out[0].dtype);
    if (!act_same_shape(&in[0], &out[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output shape differs from the input's", op);
    return 0;
}

/* ---------------------------------------------------------------- unary functions */

/* softplus, stable for large |x|: log(1 + exp(x)) = max(x, 0) + log1p(exp(-|x|)). */
static inline double act_softplus(double x) {
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

/* x sigmoid(alpha x), with the sigmoid evaluated without overflow for large |alpha x|. */
static inline double act_swish(double x, double alpha) {
    double z = alpha * x;
    return z >= 0 ? x / (1.0 + exp(-z)) : x * exp(z) / (1.0 + exp(z));
}

/* f(x) for function p->fn (RtActParams). NaN propagates through every function. */
static double act_eval(const RtActParams *p, double x) {
    double v;
    switch (p->fn) {
    case RT_ACT_SIN: return sin(x);
    case RT_ACT_COS: return cos(x);
    case RT_ACT_TAN: return tan(x);
    case RT_ACT_ASIN: return asin(x);
    case RT_ACT_ACOS: return acos(x);
    case RT_ACT_ATAN: return atan(x);
    case RT_ACT_SINH: return sinh(x);
    case RT_ACT_COSH: return cosh(x);
    case RT_ACT_ASINH: return asinh(x);
    case RT_ACT_ACOSH: return acosh(x);
    case RT_ACT_ATANH: return atanh(x);
    case RT_ACT_ERF: return erf(x);
    case RT_ACT_SOFTPLUS: return act_softplus(x);
    case RT_ACT_SOFTSIGN: return x / (1.0 + fabs(x));
    case RT_ACT_ELU: return x < 0 ? p->alpha * expm1(x) : x;
    case RT_ACT_SELU: return x <= 0 ? p->gamma * (p->alpha * exp(x) - p->alpha) : p->gamma * x;
    case RT_ACT_CELU:
        /* for alpha > 0 the max/min pick x when x > 0, else alpha (exp(x / alpha) - 1) */
        return x > 0 ? x : p->alpha * expm1(x / p->alpha);
    case RT_ACT_HARDSIGMOID:
        v = p->alpha * x + p->beta;
        return v < 0 ? 0.0 : v > 1 ? 1.0 : v;
    case RT_ACT_HARDSWISH:
        v = x / 6.0 + 0.5;
        return x * (v < 0 ? 0.0 : v > 1 ? 1.0 : v);
    case RT_ACT_THRESHOLDEDRELU: return x > p->alpha ? x : (x != x ? x : 0.0);
    case RT_ACT_GELU: return 0.5 * x * (1.0 + erf(x * 0.70710678118654752440));
    case RT_ACT_GELU_TANH:
        return 0.5 * x * (1.0 + tanh(0.79788456080286535588 * (x + 0.044715 * x * x * x)));
    case RT_ACT_MISH: return x * tanh(act_softplus(x));
    case RT_ACT_SHRINK:
        return x < -p->alpha ? x + p->beta : x > p->alpha ? x - p->beta : (x != x ? x : 0.0);
    case RT_ACT_SWISH: return act_swish(x, p->alpha);
    default: return x;
    }
}

int rt_k_act_unary(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtActParams *p = (const RtActParams *)params;
    if (!p || p->fn < 0 || p->fn >= RT_ACT_COUNT)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "activation: bad parameters");
    /* integers: Shrink only (the other functions are defined on float types) */
    int st = act_check_xy(ctx, "activation", in, nin, out, nout, 1,
                          p->fn == RT_ACT_SHRINK ? ACT_INTS : 0);
    if (st)
        return st;
    int64_t n = rt_numel(&in[0]);
    for (int64_t i = 0; i < n; i++)
        rt_store_f64(&out[0], i, act_eval(p, rt_load_f64(&in[0], i)), RT_STORE_TRUNC);
    return 0;
}

/* SwiGLU (28): y = Swish_alpha(a) * b, a = in[0] (gate) and b = in[1] of one shape (no
 * broadcasting) and float type. */
int rt_k_swiglu(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtActParams *p = (const RtActParams *)params;
    if (!p)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "SwiGLU: bad parameters");
    int st = act_check_xy(ctx, "SwiGLU", in, nin, out, nout, 2, 0);
    if (st)
        return st;
    if (!act_float_tensor(&in[1]) || in[1].dtype != in[0].dtype || !act_same_shape(&in[0], &in[1]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "SwiGLU: B must have A's type and shape");
    int64_t n = rt_numel(&in[0]);
    for (int64_t i = 0; i < n; i++)
        rt_store_f64(&out[0], i,
                     act_swish(rt_load_f64(&in[0], i), p->alpha) * rt_load_f64(&in[1], i),
                     RT_STORE_TRUNC);
    return 0;
}

/* ---------------------------------------------------------------- PRelu */

/* y = x > 0 ? x : x * slope, slope unidirectionally broadcast to x (right-aligned), or with
 * RtActAxisParams.axis >= 0 a 1-D slope running along dim `axis` of x. */
int rt_k_prelu(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    int axis = params ? ((const RtActAxisParams *)params)->axis : -1;
    int st = act_check_xy(ctx, "PRelu", in, nin, out, nout, 2, ACT_INTS);
    if (st)
        return st;
    const RtTensor *x = &in[0], *s = &in[1];
    if (s->rank < 0 || !s->data || s->dtype != x->dtype || s->rank > x->rank ||
        (axis >= 0 && (s->rank != 1 || axis >= x->rank)))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "PRelu: slope must have X's type and a rank <= X's");
    int r = x->rank;
    int64_t ss[ACT_MAX_RANK], idx[ACT_MAX_RANK];
    int64_t stride = 1;
    for (int d = r - 1; d >= 0; d--) {
        int k = axis >= 0 ? (d == axis ? 0 : -1) : d - (r - s->rank);
        int64_t sd = k >= 0 ? s->dims[k] : 1;
        if (sd != 1 && sd != x->dims[d])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "PRelu: slope does not broadcast to X (dim %d)", d);
        ss[d] = sd == 1 ? 0 : stride;
        stride *= sd;
        idx[d] = 0;
    }
    int64_t n = rt_numel(x), inner = r > 0 ? x->dims[r - 1] : 1, si = 0, ds = r > 0 ? ss[r - 1] : 0;
    if (n == 0)
        return 0;
    for (int64_t i = 0; i < n; i += inner) {
        for (int64_t j = 0; j < inner; j++) {
            double v = rt_load_f64(x, i + j);
            rt_store_f64(&out[0], i + j, v > 0 ? v : v * rt_load_f64(s, si + j * ds),
                         RT_STORE_TRUNC);
        }
        /* advance the slope offset over the outer dims (odometer) */
        for (int d = r - 2; d >= 0; d--) {
            si += ss[d];
            if (++idx[d] < x->dims[d])
                break;
            si -= ss[d] * x->dims[d];
            idx[d] = 0;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- axis kernels */

/* Splits input 0 into outer x len x inner around the axis of p (see RtActAxisParams). */
static int act_axis_split(RtCtx *ctx, const char *op, const RtActAxisParams *p, const RtTensor *x,
                          int64_t *outer, int64_t *len, int64_t *inner) {
    int r = x->rank, axis = p->axis;
    if (r == 0)
        axis = 0;
    else if (axis < 0 || axis >= r)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: axis %d out of range", op, (int)p->axis);
    *outer = *len = *inner = 1;
    for (int d = 0; d < r; d++) {
        if (d < axis)
            *outer *= x->dims[d];
        else if (d == axis || p->coerce_2d)
            *len *= x->dims[d];
        else
            *inner *= x->dims[d];
    }
    return 0;
}

/* Hardmax: 1 at the first maximum along the axis, 0 elsewhere (NaN compares false: a row of
 * NaNs marks its first element). */
int rt_k_hardmax(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    static const RtActAxisParams dflt = {0, 0, 2, 0};
    const RtActAxisParams *p = params ? (const RtActAxisParams *)params : &dflt;
    int64_t outer, len, inner;
    int st = act_check_xy(ctx, "Hardmax", in, nin, out, nout, 1, 0);
    if (!st)
        st = act_axis_split(ctx, "Hardmax", p, &in[0], &outer, &len, &inner);
    if (st)
        return st;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i, best = 0;
            double m = len > 0 ? rt_load_f64(&in[0], base) : 0.0;
            for (int64_t j = 1; j < len; j++) {
                double v = rt_load_f64(&in[0], base + j * inner);
                if (v > m) {
                    m = v;
                    best = j;
                }
            }
            for (int64_t j = 0; j < len; j++)
                rt_store_f64(&out[0], base + j * inner, j == best ? 1.0 : 0.0, RT_STORE_TRUNC);
        }
    return 0;
}

/* LpNormalization: y = x / ||x||_p along the axis (p = 1 or 2); a zero norm gives 0. */
int rt_k_lpnorm(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    static const RtActAxisParams dflt = {0, 0, 2, 0};
    const RtActAxisParams *p = params ? (const RtActAxisParams *)params : &dflt;
    int64_t outer, len, inner;
    int st = act_check_xy(ctx, "LpNormalization", in, nin, out, nout, 1, 0);
    if (!st)
        st = act_axis_split(ctx, "LpNormalization", p, &in[0], &outer, &len, &inner);
    if (st)
        return st;
    if (p->p != 1 && p->p != 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "LpNormalization: p = %d, expected 1 or 2",
                       (int)p->p);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t base = o * len * inner + i;
            double s = 0.0;
            for (int64_t j = 0; j < len; j++) {
                double v = rt_load_f64(&in[0], base + j * inner);
                s += p->p == 1 ? fabs(v) : v * v;
            }
            double norm = p->p == 1 ? s : sqrt(s);
            for (int64_t j = 0; j < len; j++)
                rt_store_f64(&out[0], base + j * inner,
                             norm == 0.0 ? 0.0 : rt_load_f64(&in[0], base + j * inner) / norm,
                             RT_STORE_TRUNC);
        }
    return 0;
}

/* ---------------------------------------------------------------- row normalizations */

/* Largest entry index an RtActIndex can produce over rows x cols, or -1 if malformed. */
static int64_t act_index_max(const RtActIndex *ix, int64_t rows, int64_t cols) {
    if (ix->rmod < 1 || ix->rmul < 0 || ix->cdiv < 1 || ix->cmod < 1)
        return -1;
    int64_t rm = rows < ix->rmod ? rows : ix->rmod, cq = (cols + ix->cdiv - 1) / ix->cdiv;
    int64_t cm = cq < ix->cmod ? cq : ix->cmod;
    if (rm < 1 || cm < 1)
        return 0;
    return (rm - 1) * ix->rmul + (cm - 1);
}

int rt_k_act_norm(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    const RtActNormParams *p = (const RtActNormParams *)params;
    int st = act_check_xy(ctx, "normalization", in, nin, out, nout, 2, ACT_ANY_OUT);
    if (st)
        return st;
    const RtTensor *x = &in[0], *sc = &in[1];
    const RtTensor *b = nin > 2 && in[2].rank >= 0 ? &in[2] : NULL;
    if (!p || p->axis < 0 || p->axis > x->rank || p->groups < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "normalization: bad parameters");
    if (!act_float_tensor(sc) || (b && !act_float_tensor(b)))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "normalization: scale/bias must be float tensors");
    int64_t rows = p->groups, cols = 1;
    for (int d = 0; d < x->rank; d++) {
        if (d < p->axis)
            rows *= x->dims[d];
        else
            cols *= x->dims[d];
    }
    if (cols % p->groups)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "normalization: %lld groups do not divide %lld",
                       (long long)p->groups, (long long)cols);
    cols /= p->groups;
    if (rows == 0 || cols == 0)
        return 0;
    int64_t smax = act_index_max(&p->scale, rows, cols);
    int64_t bmax = b ? act_index_max(&p->bias, rows, cols) : 0;
    if (smax < 0 || smax >= rt_numel(sc) || bmax < 0 || (b && bmax >= rt_numel(b)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "normalization: scale/bias too small for X");
    /* optional statistics outputs: one value per row (LayerNormalization, groups = 1) */
    const RtTensor *om = nout > 1 && out[1].rank >= 0 && out[1].data ? &out[1] : NULL;
    const RtTensor *oi = nout > 2 && out[2].rank >= 0 && out[2].data ? &out[2] : NULL;
    if ((om && (!act_float_type(om->dtype) || rt_numel(om) != rows)) ||
        (oi && (!act_float_type(oi->dtype) || rt_numel(oi) != rows)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "normalization: statistics outputs do not match");
    const RtActIndex *is = &p->scale, *ib = &p->bias;
    for (int64_t r = 0; r < rows; r++) {
        int64_t base = r * cols;
        double mean = 0.0, var = 0.0;
        if (!p->rms) {
            for (int64_t c = 0; c < cols; c++) mean += rt_load_f64(x, base + c);
            mean /= (double)cols;
        }
        for (int64_t c = 0; c < cols; c++) {
            double dv = rt_load_f64(x, base + c) - mean;
            var += dv * dv;
        }
        double inv = 1.0 / sqrt(var / (double)cols + p->epsilon);
        if (om) rt_store_f64(om, r, mean, RT_STORE_TRUNC);
        if (oi) rt_store_f64(oi, r, inv, RT_STORE_TRUNC);
        /* column c reads scale entry s0 + (c / cdiv) % cmod: walk it with counters */
        int64_t s0 = (r % is->rmod) * is->rmul, b0 = (r % ib->rmod) * ib->rmul;
        int64_t sq = 0, sk = 0, bq = 0, bk = 0;
        for (int64_t c = 0; c < cols; c++) {
            double y = (rt_load_f64(x, base + c) - mean) * inv * rt_load_f64(sc, s0 + sk);
            if (b) y += rt_load_f64(b, b0 + bk);
            rt_store_f64(&out[0], base + c, y, RT_STORE_TRUNC);
            if (++sq == is->cdiv) {
                sq = 0;
                if (++sk == is->cmod)
                    sk = 0;
            }
            if (++bq == ib->cdiv) {
                bq = 0;
                if (++bk == ib->cmod)
                    bk = 0;
            }
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- MeanVarianceNormalization */

/* Advances the odometer idx over the n dims `dims` (strides `str`), updating *off; returns 0
 * when it wrapped around. */
static int act_odo_next(int n, const int64_t *dims, const int64_t *str, int64_t *idx,
                        int64_t *off) {
    for (int k = n - 1; k >= 0; k--) {
        *off += str[k];
        if (++idx[k] < dims[k])
            return 1;
        *off -= str[k] * dims[k];
        idx[k] = 0;
    }
    return 0;
}

int rt_k_mvn(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtActMvnParams *p = (const RtActMvnParams *)params;
    int st = act_check_xy(ctx, "MeanVarianceNormalization", in, nin, out, nout, 1, 0);
    if (st)
        return st;
    const RtTensor *x = &in[0];
    int r = x->rank, nk = 0, nr = 0;
    uint64_t axes = p ? p->axes : 0xdu; /* default [0, 2, 3] */
    int64_t kd[ACT_MAX_RANK], ks[ACT_MAX_RANK], rd[ACT_MAX_RANK], rs[ACT_MAX_RANK];
    int64_t ki[ACT_MAX_RANK] = {0}, ri[ACT_MAX_RANK] = {0};
    int64_t stride = 1, count = 1;
    if (r < 64 && (axes >> r) != 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "MeanVarianceNormalization: axis out of range");
    if (rt_numel(x) == 0)
        return 0;
    for (int d = r - 1; d >= 0; d--) {
        if ((axes >> d) & 1u) {
            rd[nr] = x->dims[d];
            rs[nr++] = stride;
            count *= x->dims[d];
        } else {
            kd[nk] = x->dims[d];
            ks[nk++] = stride;
        }
        stride *= x->dims[d];
    }
    /* the lists were filled innermost first: reverse them into row-major order */
    for (int a = 0, z = nr - 1; a < z; a++, z--) {
        int64_t t = rd[a]; rd[a] = rd[z]; rd[z] = t;
        t = rs[a]; rs[a] = rs[z]; rs[z] = t;
    }
    for (int a = 0, z = nk - 1; a < z; a++, z--) {
        int64_t t = kd[a]; kd[a] = kd[z]; kd[z] = t;
        t = ks[a]; ks[a] = ks[z]; ks[z] = t;
    }
    int64_t ko = 0;
    do {
        double mean = 0.0, var = 0.0;
        int64_t ro = 0;
        do mean += rt_load_f64(x, ko + ro);
        while (act_odo_next(nr, rd, rs, ri, &ro));
        mean /= (double)count;
        do {
            double dv = rt_load_f64(x, ko + ro) - mean;
            var += dv * dv;
        } while (act_odo_next(nr, rd, rs, ri, &ro));
        double den = sqrt(var / (double)count) + 1e-9;
        do rt_store_f64(&out[0], ko + ro, (rt_load_f64(x, ko + ro) - mean) / den, RT_STORE_TRUNC);
        while (act_odo_next(nr, rd, rs, ri, &ro));
    } while (act_odo_next(nk, kd, ks, ki, &ko));
    return 0;
}

/* ---------------------------------------------------------------- LRN */

int rt_k_lrn(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtActLrnParams *p = (const RtActLrnParams *)params;
    int st = act_check_xy(ctx, "LRN", in, nin, out, nout, 1, 0);
    if (st)
        return st;
    const RtTensor *x = &in[0];
    if (!p || p->size < 1 || x->rank < 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "LRN: bad size or rank");
    int64_t nb = x->dims[0], ch = x->dims[1], inner = 1;
    for (int d = 2; d < x->rank; d++)
        inner *= x->dims[d];
    int64_t lo = (p->size - 1) / 2, hi = p->size / 2; /* floor((size-1)/2), ceil((size-1)/2) */
    double k = p->alpha / (double)p->size;
    for (int64_t n = 0; n < nb; n++)
        for (int64_t c = 0; c < ch; c++) {
            int64_t c0 = c - lo < 0 ? 0 : c - lo, c1 = c + hi >= ch ? ch - 1 : c + hi;
            int64_t base = (n * ch + c) * inner;
            for (int64_t i = 0; i < inner; i++) {
                double s = 0.0;
                for (int64_t cc = c0; cc <= c1; cc++) {
                    double v = rt_load_f64(x, (n * ch + cc) * inner + i);
                    s += v * v;
                }
                rt_store_f64(&out[0], base + i,
                             rt_load_f64(x, base + i) / pow(p->bias + k * s, p->beta),
                             RT_STORE_TRUNC);
            }
        }
    return 0;
}

/* ---------------------------------------------------------------- Einsum */

/* out[o...] = sum over the summed labels of prod_k in_k[...]. Labels run in an odometer, output
 * labels outermost; each input keeps its offset up to date through per-label strides (the sum of
 * the strides of its dims with that label, so repeated labels walk the diagonal; a dim of size
 * 1 under a longer label broadcasts with stride 0). */
int rt_k_einsum(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtActEinsumParams *p = (const RtActEinsumParams *)params;
    if (!p || !in || !out || nout < 1 || p->nin < 1 || p->nin > RT_EINSUM_MAX_IN ||
        nin != p->nin || p->nlabels < 0 || p->nlabels > RT_EINSUM_MAX_LABELS || p->nout < 0 ||
        p->nout > p->nlabels || out[0].rank != p->nout)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Einsum: inputs/outputs do not match the equation");
    int L = p->nlabels;
    int64_t size[RT_EINSUM_MAX_LABELS], idx[RT_EINSUM_MAX_LABELS] = {0};
    int64_t str[RT_EINSUM_MAX_IN][RT_EINSUM_MAX_LABELS];
    int64_t off[RT_EINSUM_MAX_IN] = {0};
    int32_t dt = out[0].dtype;
    if (!act_float_type(dt) && !act_int_type(dt))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Einsum: element type %d not supported", (int)dt);
    for (int l = 0; l < L; l++)
        size[l] = l < p->nout ? out[0].dims[l] : 1;
    /* label sizes from the inputs (a summed label takes its largest dim) */
    for (int k = 0; k < p->nin; k++) {
        if (in[k].rank != p->rank[k] || in[k].rank > RT_EINSUM_MAX_RANK || in[k].dtype != dt ||
            !in[k].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Einsum: input %d does not match the equation", k);
        for (int d = 0; d < in[k].rank; d++) {
            int l = p->label[k][d];
            if (l < 0 || l >= L)
                return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Einsum: bad label");
            if (l >= p->nout && in[k].dims[d] > size[l])
                size[l] = in[k].dims[d];
        }
    }
    for (int k = 0; k < p->nin; k++) {
        int64_t s = 1;
        for (int l = 0; l < L; l++)
            str[k][l] = 0;
        for (int d = in[k].rank - 1; d >= 0; d--) {
            int l = p->label[k][d];
            int64_t n = in[k].dims[d];
            if (n != size[l] && n != 1)
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Einsum: input %d dim %d is %lld, label size %lld",
                               k, d, (long long)n, (long long)size[l]);
            if (n == size[l])
                str[k][l] += s;
            s *= n;
        }
    }
    int64_t nsum = 1, nouts = rt_numel(&out[0]);
    for (int l = p->nout; l < L; l++)
        nsum *= size[l];
    for (int64_t o = 0; o < nouts; o++) {
        double acc = 0.0;
        for (int64_t s = 0; s < nsum; s++) {
            double prod = 1.0;
            for (int k = 0; k < p->nin; k++) prod *= rt_load_f64(&in[k], off[k]);
            acc += prod;
            /* next combination of the summed labels (the odometer's inner part) */
            for (int l = L - 1; l >= p->nout; l--) {
                for (int k = 0; k < p->nin; k++)
                    off[k] += str[k][l];
                if (++idx[l] < size[l])
                    break;
                for (int k = 0; k < p->nin; k++)
                    off[k] -= str[k][l] * size[l];
                idx[l] = 0;
            }
        }
        rt_store_f64(&out[0], o, acc, RT_STORE_TRUNC);
        for (int l = p->nout - 1; l >= 0; l--) {
            for (int k = 0; k < p->nin; k++)
                off[k] += str[k][l];
            if (++idx[l] < size[l])
                break;
            for (int k = 0; k < p->nin; k++)
                off[k] -= str[k][l] * size[l];
            idx[l] = 0;
        }
    }
    return 0;
}
