/* rt_norm.c - kernels of the norm family: BatchNormalization (inference and training mode),
 * Softmax and LogSoftmax (ONNX docs/Operators.md).
 *
 *  - BatchNormalization: y = scale * (x - mean) / sqrt(var + epsilon) + bias, per channel (dim 1)
 *    or, for the legacy spatial = 0 form, per feature (dims 1..r-1). Opset 15 allows scale/bias
 *    (T1) and mean/var (T2) to have other float types than X; each is read per channel.
 *  - Softmax / LogSoftmax: over `len` elements with stride `inner` (see RtSoftmaxParams), the
 *    maximum is subtracted first so that large inputs do not overflow; sums are kept in double.
 * float16/bfloat16 are computed in float. No allocation.
 */
#include <math.h>
#include <stdint.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

#define ID(x) (x)

/* 1 if dt is one of the float types these kernels support. */
static int norm_float_type(int32_t dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* ---------------------------------------------------------------- BatchNormalization */

/* y[o, c, i] = (x[o, c, i] - mean) * s + b for one channel c over `inner` elements. */
#define BN_LOOP(T, CT, LD, ST)                                                                     \
    do {                                                                                           \
        const T *x_ = (const T *)in[0].data;                                                       \
        T *y_ = (T *)out[0].data;                                                                  \
        for (int64_t o_ = 0; o_ < outer; o_++)                                                     \
            for (int64_t c_ = 0; c_ < ch; c_++) {                                                  \
                double sd_ =                                                                       \
                    rt_load_f64(&in[1], c_) / sqrt(rt_load_f64(&in[4], c_) + pp->epsilon);         \
                CT s_ = (CT)sd_, b_ = (CT)rt_load_f64(&in[2], c_);                                 \
                CT m_ = (CT)rt_load_f64(&in[3], c_);                                               \
                int64_t base_ = (o_ * ch + c_) * inner;                                            \
                for (int64_t i_ = 0; i_ < inner; i_++)                                             \
                    y_[base_ + i_] = ST(((CT)LD(x_[base_ + i_]) - m_) * s_ + b_);                  \
            }                                                                                      \
    } while (0)

int rt_k_batchnorm(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    static const RtBatchNormParams dflt = {1e-5, 1};
    const RtBatchNormParams *pp = params ? (const RtBatchNormParams *)params : &dflt;
    if (!in || !out || nin < 5 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "BatchNormalization: expects 5 inputs");
    for (int i = 0; i < 5; i++)
        if (in[i].rank < 0 || !norm_float_type(in[i].dtype))
            return rt_fail(ctx, ONNXC_ERR_TYPE,
                           "BatchNormalization: input %d missing or of unsupported type", i);
    if (out[0].dtype != in[0].dtype || out[0].rank != in[0].rank)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "BatchNormalization: output does not match X");
    int r = in[0].rank;
    for (int d = 0; d < r; d++)
        if (out[0].dims[d] != in[0].dims[d])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "BatchNormalization: output shape differs from X");
    int64_t outer = r >= 1 ? in[0].dims[0] : 1, ch = 1, inner = 1;
    for (int d = 1; d < r; d++) {
        if (d == 1 || !pp->spatial)
            ch *= in[0].dims[d];
        else
            inner *= in[0].dims[d];
    }
    for (int i = 1; i < 5; i++)
        if (rt_numel(&in[i]) != ch)
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "BatchNormalization: input %d has %lld elements, expected %lld", i,
                           (long long)rt_numel(&in[i]), (long long)ch);
    switch (in[0].dtype) {
    case IR_DT_FLOAT: BN_LOOP(float, float, ID, ID); break;
    case IR_DT_DOUBLE: BN_LOOP(double, double, ID, ID); break;
    case IR_DT_FLOAT16: BN_LOOP(uint16_t, float, rt_h2f, rt_f2h); break;
    case IR_DT_BFLOAT16: BN_LOOP(uint16_t, float, rt_bf2f, rt_f2bf); break;
    default: break;
    }
    return 0;
}

/* Training mode: per channel c, batch mean m and population variance v over (n, spatial) in
 * double (two passes); y = (x - m) / sqrt(v + epsilon) * scale + bias; running statistics
 * out[1] = mean * momentum + m * (1 - momentum), out[2] likewise with var and v. */
int rt_k_batchnorm_train(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                         RtTensor *out, int nout) {
    const RtBatchNormTrainParams *pp = params;
    if (!pp || !in || !out || nin < 5 || nout < 1 || in[0].rank < 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG,
                       "BatchNormalization (training): expects 5 inputs, X of rank >= 2");
    for (int i = 0; i < 5; i++)
        if (in[i].rank < 0 || !norm_float_type(in[i].dtype))
            return rt_fail(ctx, ONNXC_ERR_TYPE,
                           "BatchNormalization: input %d missing or of unsupported type", i);
    int r = in[0].rank;
    if (out[0].dtype != in[0].dtype || out[0].rank != r)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "BatchNormalization: output does not match X");
    for (int d = 0; d < r; d++)
        if (out[0].dims[d] != in[0].dims[d])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "BatchNormalization: output shape differs from X");
    int64_t outer = in[0].dims[0], ch = in[0].dims[1], inner = 1;
    for (int d = 2; d < r; d++)
        inner *= in[0].dims[d];
    for (int i = 1; i < 5; i++)
        if (rt_numel(&in[i]) != ch)
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "BatchNormalization: input %d has %lld elements, expected %lld", i,
                           (long long)rt_numel(&in[i]), (long long)ch);
    for (int i = 1; i < 3 && i < nout; i++)
        if (out[i].rank >= 0 && out[i].data &&
            (rt_numel(&out[i]) != ch || !norm_float_type(out[i].dtype)))
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "BatchNormalization: output %d must have %lld float elements", i,
                           (long long)ch);
    double cnt = (double)outer * (double)inner;
    for (int64_t c = 0; c < ch; c++) {
        double sum = 0, sq = 0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++)
                sum += rt_load_f64(&in[0], (o * ch + c) * inner + i);
        double m = cnt > 0 ? sum / cnt : 0.0;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                double e = rt_load_f64(&in[0], (o * ch + c) * inner + i) - m;
                sq += e * e;
            }
        double v = cnt > 0 ? sq / cnt : 0.0;
        double s = rt_load_f64(&in[1], c) / sqrt(v + pp->epsilon), b = rt_load_f64(&in[2], c);
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) {
                int64_t k = (o * ch + c) * inner + i;
                rt_store_f64(&out[0], k, (rt_load_f64(&in[0], k) - m) * s + b, RT_STORE_TRUNC);
            }
        if (nout > 1 && out[1].rank >= 0 && out[1].data)
            rt_store_f64(&out[1], c,
                         rt_load_f64(&in[3], c) * pp->momentum + m * (1.0 - pp->momentum),
                         RT_STORE_TRUNC);
        if (nout > 2 && out[2].rank >= 0 && out[2].data)
            rt_store_f64(&out[2], c,
                         rt_load_f64(&in[4], c) * pp->momentum + v * (1.0 - pp->momentum),
                         RT_STORE_TRUNC);
    }
    return 0;
}

/* ---------------------------------------------------------------- Softmax, LogSoftmax */

/* For each of outer x inner rows of len elements (stride inner): m = max, s = sum exp(x - m);
 * softmax y = exp(x - m) / s, log-softmax y = x - m - log(s). CT is the compute type, EXPF its
 * exp function. */
#define SM_LOOP(T, CT, LD, ST, EXPF, LOGF)                                          \
    do {                                                                            \
        const T *x_ = (const T *)in[0].data;                                        \
        T *y_ = (T *)out[0].data;                                                   \
        for (int64_t o_ = 0; o_ < outer; o_++)                                      \
            for (int64_t i_ = 0; i_ < inner; i_++) {                                \
                int64_t base_ = o_ * len * inner + i_;                              \
                CT m_ = (CT)LD(x_[base_]);                                          \
                for (int64_t j_ = 1; j_ < len; j_++) {                              \
                    CT v_ = (CT)LD(x_[base_ + j_ * inner]);                         \
                    if (v_ > m_)                                                    \
                        m_ = v_;                                                    \
                }                                                                   \
                double s_ = 0.0;                                                    \
                for (int64_t j_ = 0; j_ < len; j_++)                                \
                    s_ += (double)EXPF((CT)LD(x_[base_ + j_ * inner]) - m_);        \
                if (log_) {                                                         \
                    CT ls_ = (CT)log(s_);                                           \
                    for (int64_t j_ = 0; j_ < len; j_++)                            \
                        y_[base_ + j_ * inner] =                                    \
                            ST((CT)LD(x_[base_ + j_ * inner]) - m_ - ls_);          \
                } else {                                                            \
                    CT inv_ = (CT)(1.0 / s_);                                       \
                    for (int64_t j_ = 0; j_ < len; j_++)                            \
                        y_[base_ + j_ * inner] =                                    \
                            ST(EXPF((CT)LD(x_[base_ + j_ * inner]) - m_) * inv_);   \
                }                                                                   \
            }                                                                       \
    } while (0)

static int softmax_common(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                          RtTensor *out, int nout, int log_) {
    static const RtSoftmaxParams dflt = {-1, 0};
    const RtSoftmaxParams *pp = params ? (const RtSoftmaxParams *)params : &dflt;
    const char *op = log_ ? "LogSoftmax" : "Softmax";
    if (!in || !out || nin < 1 || nout < 1 || in[0].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expects 1 input and 1 output", op);
    if (!norm_float_type(in[0].dtype) || out[0].dtype != in[0].dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d not supported", op,
                       (int)in[0].dtype);
    int r = in[0].rank;
    if (out[0].rank != r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output rank differs from input", op);
    for (int d = 0; d < r; d++)
        if (out[0].dims[d] != in[0].dims[d])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output shape differs from input", op);
    int axis = pp->axis;
    if (axis < 0)
        axis += r;
    if (r == 0)
        axis = 0;
    else if (axis < 0 || axis >= r)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: axis %d out of range", op, (int)pp->axis);
    int64_t outer = 1, len = 1, inner = 1;
    for (int d = 0; d < r; d++) {
        if (d < axis)
            outer *= in[0].dims[d];
        else if (d == axis || pp->coerce_2d)
            len *= in[0].dims[d];
        else
            inner *= in[0].dims[d];
    }
    if (outer == 0 || len == 0 || inner == 0)
        return 0;
    switch (in[0].dtype) {
    case IR_DT_FLOAT: SM_LOOP(float, float, ID, ID, expf, logf); break;
    case IR_DT_DOUBLE: SM_LOOP(double, double, ID, ID, exp, log); break;
    case IR_DT_FLOAT16: SM_LOOP(uint16_t, float, rt_h2f, rt_f2h, expf, logf); break;
    case IR_DT_BFLOAT16: SM_LOOP(uint16_t, float, rt_bf2f, rt_f2bf, expf, logf); break;
    default: break;
    }
    return 0;
}

int rt_k_softmax(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    return softmax_common(ctx, params, in, nin, out, nout, 0);
}

int rt_k_logsoftmax(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                    int nout) {
    return softmax_common(ctx, params, in, nin, out, nout, 1);
}
