/* rt_shape.c - kernels of the shape / data movement family: Transpose, Concat and Dropout's
 * inference-mode mask.
 *
 * ONNX specification: docs/Operators.md, sections Transpose (1/13/21/23), Concat (1/4/11/13/23),
 * Dropout (1/6/7/10/12/13/22). The view-like ops of the family (Flatten, Reshape, Squeeze,
 * Unsqueeze, Identity) only copy bytes and use rt_k_copy (runtime/rt_core.c).
 *
 * These kernels move elements without looking at them, so they serve every element type: the
 * element size comes from rt_dtype_size (a STRING element is an IrString record, copied as is).
 */
#include <stdlib.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_copy.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

/* Transpose: walks the output in row-major order; the innermost output dim is a strided read
 * of the input. Checks that perm is a permutation and that out.dims[i] == in.dims[perm[i]]. */
int rt_k_transpose(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtTransposeParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Transpose: expected params, 1 input, 1 output");
    int r = p->rank;
    if (r < 0 || r > RT_TRANSPOSE_MAX_RANK || in[0].rank != r || out[0].rank != r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Transpose: rank %d, input %d, output %d", r,
                       (int)in[0].rank, (int)out[0].rank);
    size_t es = rt_dtype_size(in[0].dtype);
    if (es == 0 || in[0].dtype != out[0].dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Transpose: element types %d -> %d", (int)in[0].dtype,
                       (int)out[0].dtype);
    unsigned char seen[RT_TRANSPOSE_MAX_RANK] = {0};
    int64_t istride[RT_TRANSPOSE_MAX_RANK]; /* input strides, in elements */
    int64_t ostr[RT_TRANSPOSE_MAX_RANK];    /* input stride of each output dim */
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        istride[i] = s;
        s *= in[0].dims[i];
    }
    for (int i = 0; i < r; i++) {
        int pi = p->perm[i];
        if (pi < 0 || pi >= r || seen[pi] || out[0].dims[i] != in[0].dims[pi])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Transpose: perm/output dims do not match");
        seen[pi] = 1;
        ostr[i] = istride[pi];
    }
    int64_t total = rt_numel(&out[0]);
    if (total == 0) return 0;
    if (!in[0].data || !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Transpose: missing tensor data");
    rt_strided_gather(out[0].data, in[0].data, r, out[0].dims, ostr, 0, es);
    return 0;
}

/* Concat: for each outer index (dims before axis), copies each input's contiguous block of
 * dims[axis] * inner elements in turn. Checks that all non-axis dims agree with the output and
 * that the axis dims sum to the output's. */
int rt_k_concat(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtConcatParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Concat: expected params, inputs, 1 output");
    int r = out[0].rank, axis = p->axis;
    if (axis < 0 || axis >= r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Concat: axis %d out of range for rank %d", axis, r);
    size_t es = rt_dtype_size(out[0].dtype);
    if (es == 0) return rt_fail(ctx, ONNXC_ERR_TYPE, "Concat: unknown element type");
    int64_t axis_sum = 0;
    for (int k = 0; k < nin; k++) {
        if (in[k].rank != r || in[k].dtype != out[0].dtype)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Concat: input %d rank/type differs", k);
        for (int i = 0; i < r; i++)
            if (i != axis && in[k].dims[i] != out[0].dims[i])
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Concat: input %d dim %d is %lld, not %lld",
                               k, i, (long long)in[k].dims[i], (long long)out[0].dims[i]);
        axis_sum += in[k].dims[axis];
    }
    if (axis_sum != out[0].dims[axis])
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Concat: axis sizes sum to %lld, output has %lld",
                       (long long)axis_sum, (long long)out[0].dims[axis]);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= out[0].dims[i];
    for (int i = axis + 1; i < r; i++) inner *= out[0].dims[i];
    if (rt_numel(&out[0]) == 0) return 0;
    char *dst = out[0].data;
    size_t orow = (size_t)(out[0].dims[axis] * inner) * es; /* bytes per outer index in Y */
    size_t pos = 0;                                           /* byte offset within a Y row */
    for (int k = 0; k < nin; k++) {
        size_t blk = (size_t)(in[k].dims[axis] * inner) * es;
        if (blk == 0) continue;
        if (!in[k].data || !dst)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Concat: missing tensor data");
        const char *src = in[k].data;
        for (int64_t o = 0; o < outer; o++)
            memcpy(dst + (size_t)o * orow + pos, src + (size_t)o * blk, blk);
        pos += blk;
    }
    return 0;
}

/* Dropout in inference mode with its mask output: out[0] is a copy of in[0], out[1] (bool, same
 * shape) is all true. in[1] (ratio) and in[2] (training_mode) are ignored: the compiler rejects
 * training_mode with ratio > 0. */
int rt_k_dropout_mask(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    (void)params;
    if (nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Dropout: expected 1 input and an output");
    int64_t n = rt_numel(&in[0]);
    size_t es = rt_dtype_size(in[0].dtype);
    if (rt_numel(&out[0]) != n || out[0].dtype != in[0].dtype || es == 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Dropout: output differs from input");
    if (n > 0 && in[0].data != out[0].data) memmove(out[0].data, in[0].data, (size_t)n * es);
    if (nout > 1 && out[1].rank >= 0 && out[1].data) {
        if (rt_numel(&out[1]) != n || out[1].dtype != 9 /* BOOL */)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Dropout: mask must be bool like the input");
        memset(out[1].data, 1, (size_t)n);
    }
    return 0;
}

/* Dropout-12+ whose training_mode (in[2]) or ratio (in[1], default 0.5) is computed at run
 * time: out of training mode, or with ratio 0, y = x and the mask (optional out[1]) is all
 * true; training with ratio > 0 would draw a random mask, which is not implemented (no
 * generator can reproduce the reference's numpy draws): ONNXC_ERR_UNSUPPORTED with the ratio. */
int rt_k_dropout_train(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                       RtTensor *out, int nout) {
    (void)params;
    double ratio = 0.5;
    int training = 0;
    if (nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Dropout: expected 1 input and an output");
    if (nin > 2 && in[2].rank >= 0) {
        if (in[2].dtype != 9 /* BOOL */ || rt_numel(&in[2]) != 1 || !in[2].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Dropout: training_mode must be one bool");
        training = *(const uint8_t *)in[2].data != 0;
    }
    if (training && nin > 1 && in[1].rank >= 0) {
        if (rt_numel(&in[1]) != 1 || !in[1].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Dropout: ratio must be one value");
        switch (in[1].dtype) {
        case 1: ratio = *(const float *)in[1].data; break;
        case 11: ratio = *(const double *)in[1].data; break;
        case 10: ratio = rt_h2f(*(const uint16_t *)in[1].data); break;
        case 16: ratio = rt_bf2f(*(const uint16_t *)in[1].data); break;
        default: return rt_fail(ctx, ONNXC_ERR_TYPE, "Dropout: ratio of type %d", (int)in[1].dtype);
        }
    }
    if (training && !(ratio >= 0 && ratio < 1))
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Dropout: ratio %g is outside [0, 1)", ratio);
    if (training && ratio > 0)
        return rt_fail(ctx, ONNXC_ERR_UNSUPPORTED,
                       "Dropout: training mode with ratio %g draws a random mask; onnxc does not "
                       "implement random dropout (only ratio 0 or training_mode false)", ratio);
    return rt_k_dropout_mask(ctx, NULL, in, 1, out, nout);
}

/* Reshape/Squeeze/Unsqueeze with a shape or axes input computed at run time (see
 * RtViewCheckParams): derives the output shape from in[0]'s dims and in[1]'s values with the
 * ONNX rules (Reshape: 0 copies a dim unless allowzero, one -1 is inferred; Squeeze: the axes
 * must have size 1; Unsqueeze: axes index the output; negative axes count from the end, repeats
 * are errors), checks it equals out[0]'s compiled dims, and copies the bytes. */
int rt_k_view_checked(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    static const char *const names[3] = {"Reshape", "Squeeze", "Unsqueeze"};
    const RtViewCheckParams *p = params;
    if (!p || p->mode < 0 || p->mode > 2 || nin < 2 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "view: expected params, 2 inputs, 1 output");
    const char *op = names[p->mode];
    const RtTensor *x = &in[0], *v = &in[1], *y = &out[0];
    if (v->rank != 1 || (v->dtype != 7 && v->dtype != 6) || (v->dims[0] > 0 && !v->data))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: the %s input must be a 1-D int64 tensor", op,
                       p->mode ? "axes" : "shape");
    int64_t k = v->dims[0];
    int r = x->rank;
    if (k > RT_TRANSPOSE_MAX_RANK || r > RT_TRANSPOSE_MAX_RANK || y->rank > RT_TRANSPOSE_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: rank too large", op);
    int64_t vals[RT_TRANSPOSE_MAX_RANK], want[RT_TRANSPOSE_MAX_RANK];
    for (int64_t i = 0; i < k; i++)
        vals[i] = v->dtype == 7 ? ((const int64_t *)v->data)[i] : ((const int32_t *)v->data)[i];
    int wr; /* rank of the shape the input gives */
    if (p->mode == 0) {
        wr = (int)k;
        int infer_at = -1;
        int64_t known = 1, total = rt_numel(x);
        for (int i = 0; i < wr; i++) {
            if (vals[i] == -1 && infer_at < 0) {
                infer_at = i;
                want[i] = 1;
            } else if (vals[i] == 0 && !p->allowzero) {
                if (i >= r) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Reshape: 0 beyond the input rank");
                want[i] = x->dims[i];
            } else if (vals[i] < 0) {
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Reshape: invalid shape value %lld",
                               (long long)vals[i]);
            } else {
                want[i] = vals[i];
            }
            if (i != infer_at) known *= want[i];
        }
        if (infer_at >= 0) {
            if (known == 0 || total % known != 0)
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Reshape: cannot infer -1 for %lld elements",
                               (long long)total);
            want[infer_at] = total / known;
        }
    } else {
        int orank = p->mode == 1 ? r : r + (int)k; /* the rank axes index */
        if (orank > RT_TRANSPOSE_MAX_RANK)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: rank too large", op);
        unsigned char mark[RT_TRANSPOSE_MAX_RANK] = {0};
        for (int64_t i = 0; i < k; i++) {
            int64_t a = vals[i] < 0 ? vals[i] + orank : vals[i];
            if (a < 0 || a >= orank || mark[a])
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: axis %lld is out of range or repeated",
                               op, (long long)vals[i]);
            mark[a] = 1;
        }
        wr = 0;
        if (p->mode == 1) {
            for (int i = 0; i < r; i++) {
                if (mark[i] && x->dims[i] != 1)
                    return rt_fail(ctx, ONNXC_ERR_SHAPE, "Squeeze: axis %d has size %lld", i,
                                   (long long)x->dims[i]);
                if (!mark[i] && (k > 0 || x->dims[i] != 1)) want[wr++] = x->dims[i];
            }
        } else {
            for (int i = 0, j = 0; i < orank; i++) want[wr++] = mark[i] ? 1 : x->dims[j++];
        }
    }
    int same = wr == y->rank;
    for (int i = 0; same && i < wr; i++) same = want[i] == y->dims[i];
    if (!same)
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "%s: the %s input gives a shape other than the one compiled from the model's "
                       "declared output type", op, p->mode ? "axes" : "shape");
    size_t es = rt_dtype_size(x->dtype);
    int64_t n = rt_numel(x);
    if (es == 0 || n != rt_numel(y) || x->dtype != y->dtype)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output differs from input", op);
    if (n > 0 && x->data != y->data) memmove(y->data, x->data, (size_t)n * es);
    return 0;
}
