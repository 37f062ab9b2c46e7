/* rt_vision.c - kernels of the vision family (ops/op_vision.c): GridSample, AffineGrid, Col2Im,
 * CenterCropPad, DeformConv, RoiAlign and NonMaxSuppression (ONNX docs/Operators.md, sections
 * of those names; semantics as onnx/reference/ops/op_grid_sample.py, op_roi_align.py,
 * op_non_max_suppression.py, op_deform_conv.py describe them).
 *
 * Elements are read and written through rt_load_f64/rt_store_f64 (runtime/rt_convert.h; mode
 * RT_STORE_ROUND: integer outputs round to nearest and saturate), a switch on the element type
 * that folds away in generated code, where the RtTensors are constants. Interpolation weights
 * and sums are computed in double and rounded once to the output type; NonMaxSuppression
 * computes IoU in float, as the reference and onnxruntime do (its boundary cases depend on it).
 * Coordinates that are NaN or huge are clamped to a range where the index arithmetic cannot
 * overflow; every index computed from data is range checked.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

#define VIS_MAX_RANK 64

static int vis_float_type(int32_t dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

static int vis_num_type(int32_t dt) {
    return vis_float_type(dt) || dt == IR_DT_INT8 || dt == IR_DT_INT16 || dt == IR_DT_INT32 ||
           dt == IR_DT_INT64 || dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 ||
           dt == IR_DT_UINT64;
}

/* 1 if t is present with data (or empty) and rank r (any rank when r < 0). */
static int vis_present(const RtTensor *t, int r) {
    return t->rank >= 0 && t->rank <= VIS_MAX_RANK && (r < 0 || t->rank == r) &&
           (t->data || rt_numel(t) == 0);
}

/* Element k of an int32/int64 tensor. */
static int64_t vis_int_at(const RtTensor *t, int64_t k) {
    return t->dtype == IR_DT_INT32 ? ((const int32_t *)t->data)[k] : ((const int64_t *)t->data)[k];
}

/* x limited to [-2^40, 2^40] (NaN to the low end), so that floor/round convert to int64 safely
 * and every index computed from it is far outside any real tensor when it is out of range. */
static inline double vis_clamp_coord(double x) {
    const double lim = 1099511627776.0;
    if (!(x > -lim))
        return -lim;
    return x < lim ? x : lim;
}

/* ---------------------------------------------------------------- GridSample */

/* Reflects x into [lo, hi] (repeatedly, by the nearer border), as the reference does. */
static double gs_reflect(double x, double lo, double hi) {
    double rng = hi - lo;
    if (rng <= 0)
        return lo;
    if (x < lo) {
        double dx = lo - x;
        double n = floor(dx / rng), r = dx - n * rng;
        return fmod(n, 2.0) == 0 ? lo + r : hi - r;
    }
    if (x > hi) {
        double dx = x - hi;
        double n = floor(dx / rng), r = dx - n * rng;
        return fmod(n, 2.0) == 0 ? hi - r : lo + r;
    }
    return x;
}

/* Maps tap index i of a dim of size s to the index read, or -1 for a zero (padding "zeros"). */
static int64_t gs_tap(const RtGridSampleParams *p, int64_t i, int64_t s) {
    switch (p->padding) {
    case RT_GS_BORDER: return i < 0 ? 0 : i >= s ? s - 1 : i;
    case RT_GS_REFLECTION: {
        double lo = p->align_corners ? 0.0 : -0.5, hi = p->align_corners ? (double)s - 1 : s - 0.5;
        int64_t k = (int64_t)gs_reflect((double)i, lo, hi); /* truncation, as int() */
        return k < 0 ? 0 : k >= s ? s - 1 : k;
    }
    default: return (i < 0 || i >= s) ? -1 : i;
    }
}

/* Keys' cubic convolution weights (a = -0.75) of the taps x0-1 .. x0+2 for t = x - x0. */
static void gs_cubic(double t, double w[4]) {
    const double A = -0.75;
    double t1 = t + 1, u = 1 - t, u1 = 2 - t;
    w[0] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
    w[1] = ((A + 2) * t - (A + 3)) * t * t + 1;
    w[2] = ((A + 2) * u - (A + 3)) * u * u + 1;
    w[3] = ((A * u1 - 5 * A) * u1 + 8 * A) * u1 - 4 * A;
}

int rt_k_grid_sample(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                     int nout) {
    const RtGridSampleParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1 || p->nspatial < 1 ||
        p->nspatial > RT_VISION_MAX_SPATIAL || p->mode < 0 || p->mode > 2 || p->padding < 0 ||
        p->padding > 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "GridSample: bad parameters");
    const int k = p->nspatial;
    const RtTensor *x = &in[0], *g = &in[1], *y = &out[0];
    if (!vis_present(x, k + 2) || !vis_present(g, k + 2) || !vis_present(y, k + 2))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "GridSample: X, grid and Y must have rank %d", k + 2);
    if (!vis_num_type(x->dtype) || y->dtype != x->dtype || !vis_float_type(g->dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "GridSample: element types %d, %d -> %d not supported",
                       (int)x->dtype, (int)g->dtype, (int)y->dtype);
    int64_t N = x->dims[0], C = x->dims[1], P = 1, S = 1;
    if (g->dims[0] != N || g->dims[k + 1] != k || y->dims[0] != N || y->dims[1] != C)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "GridSample: grid must be [N, ..., %d] and Y [N, C, ...]",
                       k);
    for (int i = 0; i < k; i++) {
        if (y->dims[2 + i] != g->dims[1 + i])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "GridSample: Y's spatial dims differ from grid's");
        P *= g->dims[1 + i];
        S *= x->dims[2 + i];
    }
    if (rt_numel(y) == 0)
        return 0;
    const int ntap1 = p->mode == RT_GS_NEAREST ? 1 : p->mode == RT_GS_LINEAR ? 2 : 4;
    int64_t tap_ix[RT_VISION_MAX_SPATIAL][4];  /* index read per dim and tap (-1: zero) */
    double tap_w[RT_VISION_MAX_SPATIAL][4];     /* weight per dim and tap */
    int64_t xstride[RT_VISION_MAX_SPATIAL];     /* element stride of spatial dim i in X */
    xstride[k - 1] = 1;
    for (int i = k - 2; i >= 0; i--)
        xstride[i] = xstride[i + 1] * x->dims[3 + i];
    double *acc = malloc((size_t)C * sizeof(double)); /* one sum per channel */
    if (!acc)
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "GridSample: out of memory");
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < P; o++) {
            for (int i = 0; i < k; i++) {
                int64_t s = x->dims[2 + i];
                /* the grid's last dim lists the innermost spatial dim first */
                double gn = rt_load_f64(g, (n * P + o) * k + (k - 1 - i));
                double c = p->align_corners ? (gn + 1) / 2.0 * (double)(s - 1)
                                            : ((gn + 1) * (double)s - 1) / 2.0;
                double lo = p->align_corners ? 0.0 : -0.5;
                double hi = p->align_corners ? (double)s - 1 : (double)s - 0.5;
                c = vis_clamp_coord(c);
                if (p->mode == RT_GS_NEAREST)
                    c = nearbyint(c); /* half to even, for every rank (the test data's rule) */
                if (c < lo || c > hi) {
                    if (p->padding == RT_GS_BORDER)
                        c = c < 0 ? 0 : c > (double)(s - 1) ? (double)(s - 1) : c;
                    else if (p->padding == RT_GS_REFLECTION)
                        c = gs_reflect(c, lo, hi);
                }
                if (p->mode == RT_GS_NEAREST) {
                    tap_ix[i][0] = gs_tap(p, (int64_t)c, s); /* truncation, as astype(int32) */
                    tap_w[i][0] = 1.0;
                    continue;
                }
                double f = floor(c), t = c - f;
                int64_t x0 = (int64_t)f;
                if (p->mode == RT_GS_LINEAR) {
                    tap_w[i][0] = 1 - t;
                    tap_w[i][1] = t;
                    tap_ix[i][0] = gs_tap(p, x0, s);
                    tap_ix[i][1] = gs_tap(p, x0 + 1, s);
                } else {
                    gs_cubic(t, tap_w[i]);
                    for (int j = 0; j < 4; j++)
                        tap_ix[i][j] = gs_tap(p, x0 - 1 + j, s);
                }
            }
            for (int64_t c = 0; c < C; c++)
                acc[c] = 0.0;
            /* every combination of taps (odometer over the k dims) */
            int tap[RT_VISION_MAX_SPATIAL] = {0};
            for (;;) {
                double w = 1.0;
                int64_t off = 0;
                for (int i = 0; i < k && off >= 0; i++) {
                    int64_t ix = tap_ix[i][tap[i]];
                    if (ix < 0)
                        off = -1;
                    else {
                        off += ix * xstride[i];
                        w *= tap_w[i][tap[i]];
                    }
                }
                if (off >= 0)
                    for (int64_t c = 0; c < C; c++)
                        acc[c] += w * rt_load_f64(x, (n * C + c) * S + off);
                int i = k - 1;
                while (i >= 0 && ++tap[i] == ntap1)
                    tap[i--] = 0;
                if (i < 0)
                    break;
            }
            for (int64_t c = 0; c < C; c++)
                rt_store_f64(y, (n * C + c) * P + o, acc[c], RT_STORE_ROUND);
        }
    free(acc);
    return 0;
}

/* ---------------------------------------------------------------- AffineGrid */

/* Base coordinate of index i of a dim of size s in [-1, 1]: pixel centres (align_corners 0) or
 * corner pixels at -1 and 1 (align_corners 1; a dim of size 1 sits at 0, as PyTorch). */
static double ag_base(int64_t i, int64_t s, int align) {
    if (align)
        return s > 1 ? -1.0 + 2.0 * (double)i / (double)(s - 1) : 0.0;
    return -1.0 + (2.0 * (double)i + 1.0) / (double)s;
}

int rt_k_affine_grid(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                     int nout) {
    const RtAffineGridParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1 || (p->nspatial != 2 && p->nspatial != 3))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "AffineGrid: bad parameters");
    const int k = p->nspatial;
    const RtTensor *th = &in[0], *sz = &in[1];
    RtTensor *y = &out[0];
    if (!vis_present(th, 3) || !vis_present(sz, 1) || y->rank != k + 2 ||
        !vis_float_type(th->dtype) || y->dtype != th->dtype ||
        (sz->dtype != IR_DT_INT64 && sz->dtype != IR_DT_INT32))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "AffineGrid: expects float theta, int64 size");
    int64_t N = th->dims[0];
    if (th->dims[1] != k || th->dims[2] != k + 1 || sz->dims[0] != k + 2)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "AffineGrid: theta must be [N, %d, %d], size [%d]", k,
                       k + 1, k + 2);
    if (vis_int_at(sz, 0) != N)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "AffineGrid: size[0] is %lld, theta has N = %lld",
                       (long long)vis_int_at(sz, 0), (long long)N);
    /* the output's shape is the one size asks for (checked, or allocated when dynamic) */
    int64_t od[5] = {N, 0, 0, 0, 0};
    for (int i = 0; i < k; i++) {
        od[1 + i] = vis_int_at(sz, 2 + i);
        if (od[1 + i] < 0 || od[1 + i] > ((int64_t)1 << 40))
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "AffineGrid: size[%d] is %lld", 2 + i,
                           (long long)od[1 + i]);
    }
    od[k + 1] = k;
    int st = rt_out_alloc(ctx, y, od);
    if (st)
        return st;
    int64_t P = 1;
    for (int i = 0; i < k; i++)
        P *= y->dims[1 + i];
    for (int64_t n = 0; n < N; n++)
        for (int64_t o = 0; o < P; o++) {
            /* homogeneous point (x, y[, z], 1): x runs along the last spatial dim */
            double pt[4];
            int64_t rem = o;
            for (int i = k - 1; i >= 0; i--) {
                int64_t s = y->dims[1 + i];
                pt[k - 1 - i] = ag_base(rem % s, s, p->align_corners);
                rem /= s;
            }
            pt[k] = 1.0;
            for (int j = 0; j < k; j++) {
                double v = 0.0;
                for (int m = 0; m <= k; m++)
                    v += rt_load_f64(th, (n * k + j) * (k + 1) + m) * pt[m];
                rt_store_f64(y, (n * P + o) * k + j, v, RT_STORE_ROUND);
            }
        }
    return 0;
}

/* ---------------------------------------------------------------- Col2Im */

int rt_k_col2im(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtCol2ImParams *p = params;
    if (!p || !in || !out || nin < 3 || nout < 1 || p->nspatial < 1 ||
        p->nspatial > RT_VISION_MAX_SPATIAL)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Col2Im: bad parameters");
    const int k = p->nspatial;
    const RtTensor *x = &in[0], *im = &in[1], *bl = &in[2];
    RtTensor *y = &out[0];
    if (!vis_present(x, 3) || !vis_present(im, 1) || !vis_present(bl, 1) || y->rank != k + 2 ||
        im->dims[0] != k || bl->dims[0] != k)
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "Col2Im: expects input [N, C*B, L], image_shape and block_shape [%d]", k);
    if (!vis_num_type(x->dtype) || y->dtype != x->dtype ||
        (im->dtype != IR_DT_INT64 && im->dtype != IR_DT_INT32) ||
        (bl->dtype != IR_DT_INT64 && bl->dtype != IR_DT_INT32))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Col2Im: element types not supported");
    int64_t blk[RT_VISION_MAX_SPATIAL], nb[RT_VISION_MAX_SPATIAL], B = 1, L = 1, S = 1;
    int64_t od[RT_VISION_MAX_SPATIAL + 2];
    for (int i = 0; i < k; i++) {
        int64_t img = vis_int_at(im, i), b = vis_int_at(bl, i);
        if (img < 0 || img > ((int64_t)1 << 40) || b < 1 || b > ((int64_t)1 << 32))
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Col2Im: image_shape[%d] = %lld, "
                           "block_shape[%d] = %lld", i, (long long)img, i, (long long)b);
        int64_t eff = p->dilations[i] * (b - 1) + 1;
        int64_t span = img + p->pads[i] + p->pads[k + i] - eff;
        if (span < 0)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Col2Im: block larger than the padded image");
        blk[i] = b;
        nb[i] = span / p->strides[i] + 1;
        if (__builtin_mul_overflow(B, b, &B) || __builtin_mul_overflow(L, nb[i], &L) ||
            __builtin_mul_overflow(S, img, &S))
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Col2Im: sizes overflow");
        od[2 + i] = img;
    }
    int64_t N = x->dims[0], C = B ? x->dims[1] / B : 0;
    if (B == 0 || x->dims[1] != C * B || x->dims[2] != L)
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "Col2Im: input is [%lld, %lld, %lld], expected [%lld, C * %lld, %lld]",
                       (long long)x->dims[0], (long long)x->dims[1], (long long)x->dims[2],
                       (long long)N, (long long)B, (long long)L);
    od[0] = N;
    od[1] = C;
    int st = rt_out_alloc(ctx, y, od); /* checked, or allocated when dynamic */
    if (st)
        return st;
    int64_t total = rt_numel(y);
    if (total == 0)
        return 0;
    /* gather: output pixel q receives column (b, l) when, along every dim i,
     * q_i = l_i * stride_i - pad_i + b_i * dilation_i for some l_i in [0, nb_i) */
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++)
            for (int64_t q = 0; q < S; q++) {
                int64_t qi[RT_VISION_MAX_SPATIAL], rem = q;
                for (int i = k - 1; i >= 0; i--) {
                    qi[i] = rem % y->dims[2 + i];
                    rem /= y->dims[2 + i];
                }
                double acc = 0.0;
                int64_t bi[RT_VISION_MAX_SPATIAL] = {0};
                for (int64_t b = 0; b < B; b++) {
                    int64_t l = 0;
                    for (int i = 0; i < k && l >= 0; i++) {
                        int64_t t = qi[i] + p->pads[i] - bi[i] * p->dilations[i];
                        if (t < 0 || t % p->strides[i] || t / p->strides[i] >= nb[i])
                            l = -1;
                        else
                            l = l * nb[i] + t / p->strides[i];
                    }
                    if (l >= 0)
                        acc += rt_load_f64(x, ((n * C + c) * B + b) * L + l);
                    for (int i = k - 1; i >= 0; i--) { /* next block offset */
                        if (++bi[i] < blk[i])
                            break;
                        bi[i] = 0;
                    }
                }
                rt_store_f64(y, (n * C + c) * S + q, acc, RT_STORE_ROUND);
            }
    return 0;
}

/* ---------------------------------------------------------------- CenterCropPad */

int rt_k_center_crop_pad(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                         RtTensor *out, int nout) {
    const RtCenterCropPadParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1 || p->naxes < 0 || p->naxes > RT_VISION_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "CenterCropPad: bad parameters");
    const RtTensor *x = &in[0], *sh = &in[1];
    RtTensor *y = &out[0];
    int r = x->rank;
    size_t es = rt_dtype_size(x->dtype);
    if (!vis_present(x, -1) || !vis_present(sh, 1) || y->rank != r || es == 0 ||
        y->dtype != x->dtype || (sh->dtype != IR_DT_INT64 && sh->dtype != IR_DT_INT32) ||
        sh->dims[0] != p->naxes)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "CenterCropPad: expects data, a shape of %d entries",
                       (int)p->naxes);
    int64_t off[VIS_MAX_RANK], od[VIS_MAX_RANK]; /* output index - input index; output dims */
    for (int d = 0; d < r; d++) {
        off[d] = 0;
        od[d] = x->dims[d];
    }
    for (int a = 0; a < p->naxes; a++) {
        int d = p->axes[a];
        if (d < 0 || d >= r)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "CenterCropPad: axis %d out of range", d);
        int64_t s = vis_int_at(sh, a), in_d = x->dims[d];
        if (s < 0 || s > ((int64_t)1 << 40))
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "CenterCropPad: shape[%d] is %lld", a,
                           (long long)s);
        od[d] = s;
        off[d] = s >= in_d ? (s - in_d) / 2 : -((in_d - s) / 2);
    }
    int st = rt_out_alloc(ctx, y, od); /* checked, or allocated when dynamic */
    if (st)
        return st;
    int64_t total = rt_numel(y);
    if (total == 0)
        return 0;
    /* rows along the last dim: a zero prefix, a copied run, a zero suffix */
    int64_t yl = r > 0 ? y->dims[r - 1] : 1, xl = r > 0 ? x->dims[r - 1] : 1;
    int64_t lo = r > 0 ? off[r - 1] : 0; /* output column of input column 0 */
    int64_t c0 = lo > 0 ? lo : 0, c1 = lo + xl < yl ? lo + xl : yl; /* copied output columns */
    int64_t idx[VIS_MAX_RANK] = {0};
    char *yd = y->data;
    const char *xd = x->data;
    for (int64_t row = 0; row < total / (yl ? yl : 1); row++) {
        /* input row of this output row, if every outer dim is inside the input */
        int64_t xrow = 0, ok = 1;
        for (int d = 0; d < r - 1; d++) {
            int64_t i = idx[d] - off[d];
            if (i < 0 || i >= x->dims[d])
                ok = 0;
            xrow = xrow * x->dims[d] + i;
        }
        char *dst = yd + (size_t)(row * yl) * es;
        if (!ok || c1 <= c0)
            memset(dst, 0, (size_t)yl * es);
        else {
            memset(dst, 0, (size_t)c0 * es);
            memcpy(dst + (size_t)c0 * es, xd + (size_t)(xrow * xl + (c0 - lo)) * es,
                   (size_t)(c1 - c0) * es);
            memset(dst + (size_t)c1 * es, 0, (size_t)(yl - c1) * es);
        }
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < y->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- DeformConv */

/* X[plane] (h x w) bilinearly sampled at (py, px), zero outside (GridSample linear, zeros,
 * align_corners on pixel coordinates). */
static double dc_sample(const RtTensor *x, int64_t plane, int64_t h, int64_t w, double py,
                        double px) {
    py = vis_clamp_coord(py);
    px = vis_clamp_coord(px);
    double fy = floor(py), fx = floor(px), ly = py - fy, lx = px - fx;
    int64_t y0 = (int64_t)fy, x0 = (int64_t)fx;
    double v = 0.0;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            int64_t yy = y0 + a, xx = x0 + b;
            if (yy < 0 || yy >= h || xx < 0 || xx >= w)
                continue;
            double wt = (a ? ly : 1 - ly) * (b ? lx : 1 - lx);
            v += wt * rt_load_f64(x, (plane * h + yy) * w + xx);
        }
    return v;
}

int rt_k_deform_conv(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                     int nout) {
    const RtDeformConvParams *p = params;
    if (!p || !in || !out || nin < 3 || nout < 1 || p->group < 1 || p->offset_group < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "DeformConv: bad parameters");
    const RtTensor *x = &in[0], *w = &in[1], *of = &in[2], *y = &out[0];
    const RtTensor *bias = nin > 3 && in[3].rank >= 0 ? &in[3] : NULL;
    const RtTensor *mask = nin > 4 && in[4].rank >= 0 ? &in[4] : NULL;
    if (!vis_present(x, 4) || !vis_present(w, 4) || !vis_present(of, 4) || !vis_present(y, 4) ||
        (bias && !vis_present(bias, 1)) || (mask && !vis_present(mask, 4)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "DeformConv: 2-D only (X, W, offset, Y of rank 4)");
    if (!vis_float_type(x->dtype) || w->dtype != x->dtype || of->dtype != x->dtype ||
        y->dtype != x->dtype || (bias && bias->dtype != x->dtype) ||
        (mask && mask->dtype != x->dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "DeformConv: all inputs must have X's float type");
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t OC = w->dims[0], kh = p->kernel[0], kw = p->kernel[1], oh = y->dims[2], ow = y->dims[3];
    int64_t G = p->group, OG = p->offset_group, cpg = C / G, ocpg = OC / G, cpog = C / OG;
    int64_t K = kh * kw;
    if (C % G || OC % G || C % OG || w->dims[1] != cpg || w->dims[2] != kh || w->dims[3] != kw ||
        y->dims[0] != N || y->dims[1] != OC || of->dims[0] != N || of->dims[1] != OG * K * 2 ||
        of->dims[2] != oh || of->dims[3] != ow || (bias && bias->dims[0] != OC) ||
        (mask && (mask->dims[0] != N || mask->dims[1] != OG * K || mask->dims[2] != oh ||
                  mask->dims[3] != ow)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "DeformConv: inconsistent shapes");
    int64_t P = oh * ow, rows = cpg * K;
    if (rt_numel(y) == 0)
        return 0;
    /* one group's sampled columns: [cpg * K, P] */
    double *col = malloc((size_t)(rows * P) * sizeof(double));
    if (!col)
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "DeformConv: out of memory");
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            for (int64_t ci = 0; ci < cpg; ci++) {
                int64_t ic = g * cpg + ci, og = ic / cpog;
                for (int64_t a = 0; a < kh; a++)
                    for (int64_t b = 0; b < kw; b++) {
                        int64_t kk = a * kw + b;
                        double *dst = col + (ci * K + kk) * P;
                        int64_t ofc = ((n * OG + og) * K + kk) * 2; /* offset channel of dh */
                        for (int64_t i = 0; i < oh; i++)
                            for (int64_t j = 0; j < ow; j++) {
                                double dy = rt_load_f64(of, (ofc * oh + i) * ow + j);
                                double dx = rt_load_f64(of, ((ofc + 1) * oh + i) * ow + j);
                                double py = (double)(i * p->strides[0] - p->pads[0] +
                                                     a * p->dilations[0]) + dy;
                                double px = (double)(j * p->strides[1] - p->pads[1] +
                                                     b * p->dilations[1]) + dx;
                                double v = dc_sample(x, n * C + ic, H, W, py, px);
                                if (mask)
                                    v *= rt_load_f64(mask,
                                                     (((n * OG + og) * K + kk) * oh + i) * ow + j);
                                dst[i * ow + j] = v;
                            }
                    }
            }
            for (int64_t oc = g * ocpg; oc < (g + 1) * ocpg; oc++)
                for (int64_t q = 0; q < P; q++) {
                    double s = bias ? rt_load_f64(bias, oc) : 0.0;
                    for (int64_t r = 0; r < rows; r++)
                        s += rt_load_f64(w, oc * rows + r) * col[r * P + q];
                    rt_store_f64(y, (n * OC + oc) * P + q, s, RT_STORE_ROUND);
                }
        }
    free(col);
    return 0;
}

/* ---------------------------------------------------------------- RoiAlign */

int rt_k_roi_align(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtRoiAlignParams *p = params;
    if (!p || !in || !out || nin < 3 || nout < 1 || p->output_height < 1 || p->output_width < 1 ||
        p->sampling_ratio < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "RoiAlign: bad parameters");
    const RtTensor *x = &in[0], *rois = &in[1], *bi = &in[2], *y = &out[0];
    if (!vis_present(x, 4) || !vis_present(rois, 2) || !vis_present(bi, 1) || !vis_present(y, 4) ||
        !vis_float_type(x->dtype) || rois->dtype != x->dtype || y->dtype != x->dtype ||
        (bi->dtype != IR_DT_INT64 && bi->dtype != IR_DT_INT32))
        return rt_fail(ctx, ONNXC_ERR_TYPE,
                       "RoiAlign: expects X [N, C, H, W], rois [R, 4] of X's type, int64 indices");
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3], R = rois->dims[0];
    int64_t PH = p->output_height, PW = p->output_width;
    if (rois->dims[1] != 4 || bi->dims[0] != R || y->dims[0] != R || y->dims[1] != C ||
        y->dims[2] != PH || y->dims[3] != PW)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "RoiAlign: inconsistent shapes");
    const double off = p->half_pixel ? 0.5 : 0.0, sc = p->spatial_scale;
    const int64_t sample_cap = (int64_t)1 << 24; /* samples per bin */
    if (rt_numel(y) == 0)
        return 0;
    if (H < 1 || W < 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "RoiAlign: X has an empty spatial dim");
    double *acc = malloc((size_t)C * sizeof(double)); /* one sum (or maximum) per channel */
    if (!acc)
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "RoiAlign: out of memory");
    for (int64_t r = 0; r < R; r++) {
        int64_t b = vis_int_at(bi, r);
        if (b < 0 || b >= N) {
            free(acc);
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "RoiAlign: batch index %lld out of [0, %lld)",
                           (long long)b, (long long)N);
        }
        double x1 = rt_load_f64(rois, r * 4) * sc - off,
               y1 = rt_load_f64(rois, r * 4 + 1) * sc - off;
        double x2 = rt_load_f64(rois, r * 4 + 2) * sc - off,
               y2 = rt_load_f64(rois, r * 4 + 3) * sc - off;
        double rw = x2 - x1, rh = y2 - y1;
        if (!isfinite(x1) || !isfinite(y1) || !isfinite(rw) || !isfinite(rh)) {
            free(acc);
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "RoiAlign: roi %lld is not finite", (long long)r);
        }
        if (!p->half_pixel) { /* malformed rois forced to 1x1 */
            rw = rw > 1.0 ? rw : 1.0;
            rh = rh > 1.0 ? rh : 1.0;
        }
        double bh = rh / (double)PH, bw = rw / (double)PW;
        double gh_d = p->sampling_ratio > 0 ? (double)p->sampling_ratio : ceil(rh / (double)PH);
        double gw_d = p->sampling_ratio > 0 ? (double)p->sampling_ratio : ceil(rw / (double)PW);
        if (gh_d < 0)
            gh_d = 0; /* negative roi sizes (half_pixel) give no samples */
        if (gw_d < 0)
            gw_d = 0;
        if (gh_d * gw_d > (double)sample_cap) {
            free(acc);
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "RoiAlign: roi %lld needs %.0f samples per bin",
                           (long long)r, gh_d * gw_d);
        }
        int64_t gh = (int64_t)gh_d, gw = (int64_t)gw_d, count = gh * gw > 1 ? gh * gw : 1;
        for (int64_t ph = 0; ph < PH; ph++)
            for (int64_t pw = 0; pw < PW; pw++) {
                int first = 1;
                for (int64_t c = 0; c < C; c++)
                    acc[c] = 0.0;
                for (int64_t iy = 0; iy < gh; iy++) {
                    double yy = y1 + (double)ph * bh + ((double)iy + 0.5) * bh / (double)gh;
                    for (int64_t ix = 0; ix < gw; ix++) {
                        double xx = x1 + (double)pw * bw + ((double)ix + 0.5) * bw / (double)gw;
                        /* the four corners and their weights; all zero outside [-1, size] */
                        double w1 = 0, w2 = 0, w3 = 0, w4 = 0;
                        int64_t p1 = 0, p2 = 0, p3 = 0, p4 = 0;
                        if (!(yy < -1.0 || yy > (double)H || xx < -1.0 || xx > (double)W)) {
                            double sy = yy > 0 ? yy : 0, sx = xx > 0 ? xx : 0;
                            int64_t ylo = (int64_t)sy, xlo = (int64_t)sx, yhi, xhi;
                            if (ylo >= H - 1) {
                                yhi = ylo = H - 1;
                                sy = (double)ylo;
                            } else
                                yhi = ylo + 1;
                            if (xlo >= W - 1) {
                                xhi = xlo = W - 1;
                                sx = (double)xlo;
                            } else
                                xhi = xlo + 1;
                            double ly = sy - (double)ylo, lx = sx - (double)xlo;
                            double hy = 1.0 - ly, hx = 1.0 - lx;
                            w1 = hy * hx;
                            w2 = hy * lx;
                            w3 = ly * hx;
                            w4 = ly * lx;
                            p1 = ylo * W + xlo;
                            p2 = ylo * W + xhi;
                            p3 = yhi * W + xlo;
                            p4 = yhi * W + xhi;
                        }
                        for (int64_t c = 0; c < C; c++) {
                            int64_t base = (b * C + c) * H * W;
                            double v1 = w1 * rt_load_f64(x, base + p1),
                                   v2 = w2 * rt_load_f64(x, base + p2);
                            double v3 = w3 * rt_load_f64(x, base + p3),
                                   v4 = w4 * rt_load_f64(x, base + p4);
                            if (!p->mode_max) {
                                acc[c] += v1 + v2 + v3 + v4;
                            } else {
                                double m = v1;
                                m = v2 > m ? v2 : m;
                                m = v3 > m ? v3 : m;
                                m = v4 > m ? v4 : m;
                                if (first || m > acc[c])
                                    acc[c] = m;
                            }
                        }
                        first = 0;
                    }
                }
                for (int64_t c = 0; c < C; c++)
                    rt_store_f64(y, ((r * C + c) * PH + ph) * PW + pw,
                                 p->mode_max ? acc[c] : acc[c] / (double)count, RT_STORE_ROUND);
            }
    }
    free(acc);
    return 0;
}

/* ---------------------------------------------------------------- NonMaxSuppression */

/* Box i of the batch's boxes as (ymin, xmin, ymax, xmax) in float. */
static void nms_box(const float *b, int center, float o[4]) {
    if (center) { /* (x_center, y_center, width, height) */
        float hw = b[2] / 2, hh = b[3] / 2;
        o[0] = b[1] - hh;
        o[1] = b[0] - hw;
        o[2] = b[1] + hh;
        o[3] = b[0] + hw;
    } else { /* (y1, x1, y2, x2), corners in any order */
        o[0] = b[0] < b[2] ? b[0] : b[2];
        o[2] = b[0] < b[2] ? b[2] : b[0];
        o[1] = b[1] < b[3] ? b[1] : b[3];
        o[3] = b[1] < b[3] ? b[3] : b[1];
    }
}

/* 1 if the IoU of a and b (normalised boxes) exceeds thr; degenerate boxes never suppress. */
static int nms_suppress(const float a[4], const float b[4], float thr) {
    float ix0 = a[1] > b[1] ? a[1] : b[1], ix1 = a[3] < b[3] ? a[3] : b[3];
    if (!(ix1 > ix0))
        return 0;
    float iy0 = a[0] > b[0] ? a[0] : b[0], iy1 = a[2] < b[2] ? a[2] : b[2];
    if (!(iy1 > iy0))
        return 0;
    float inter = (ix1 - ix0) * (iy1 - iy0);
    float area_a = (a[3] - a[1]) * (a[2] - a[0]), area_b = (b[3] - b[1]) * (b[2] - b[0]);
    float uni = area_a + area_b - inter;
    if (!(inter > 0) || !(area_a > 0) || !(area_b > 0) || !(uni > 0))
        return 0;
    return inter / uni > thr;
}

/* A candidate: its score and box index. */
typedef struct NmsCand {
    float score;
    int64_t idx;
} NmsCand;

/* Decreasing score, then increasing index; NaN scores last. */
static int nms_cmp(const void *pa, const void *pb) {
    const NmsCand *a = pa, *b = pb;
    int an = a->score != a->score, bn = b->score != b->score;
    if (an != bn)
        return an - bn;
    if (!an && a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* The row count is known only after the selection: the output is checked against it when its
 * shape was known before the call, else allocated (rt_out_alloc, docs/DYNAMIC_SHAPES.md). */
static int nms_report(RtCtx *ctx, RtTensor *t, int64_t rows) {
    if (t->rank != 2)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "NonMaxSuppression: output must be [k, 3]");
    int64_t od[2] = {rows, 3};
    int st = rt_out_alloc(ctx, t, od);
    if (st && ctx) {
        char msg[RT_ERRMSG_CAP];
        snprintf(msg, sizeof msg, "%s", ctx->errmsg);
        return rt_fail(ctx, st, "NonMaxSuppression: selected %lld boxes: %s", (long long)rows, msg);
    }
    return st;
}

int rt_k_nms(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtNmsParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "NonMaxSuppression: bad parameters");
    const RtTensor *bx = &in[0], *sc = &in[1];
    const RtTensor *mo = nin > 2 && in[2].rank >= 0 ? &in[2] : NULL;
    const RtTensor *it = nin > 3 && in[3].rank >= 0 ? &in[3] : NULL;
    const RtTensor *st = nin > 4 && in[4].rank >= 0 ? &in[4] : NULL;
    if (!vis_present(bx, 3) || !vis_present(sc, 3) || bx->dtype != IR_DT_FLOAT ||
        sc->dtype != IR_DT_FLOAT || (mo && (!vis_present(mo, -1) || mo->dtype != IR_DT_INT64)) ||
        (it && (!vis_present(it, -1) || it->dtype != IR_DT_FLOAT)) ||
        (st && (!vis_present(st, -1) || st->dtype != IR_DT_FLOAT)) || out[0].dtype != IR_DT_INT64)
        return rt_fail(ctx, ONNXC_ERR_TYPE,
                       "NonMaxSuppression: expects float boxes [B, N, 4], scores [B, C, N]");
    int64_t B = bx->dims[0], N = bx->dims[1], C = sc->dims[1];
    if (bx->dims[2] != 4 || sc->dims[0] != B || sc->dims[2] != N)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "NonMaxSuppression: boxes [B, N, 4] and scores "
                                             "[B, C, N] disagree");
    int64_t maxo = mo && rt_numel(mo) > 0 ? ((const int64_t *)mo->data)[0] : 0;
    float iou = it && rt_numel(it) > 0 ? ((const float *)it->data)[0] : 0.0f;
    int has_st = st && rt_numel(st) > 0;
    float sthr = has_st ? ((const float *)st->data)[0] : 0.0f;
    if (maxo < 0)
        maxo = 0;
    int64_t per = maxo < N ? maxo : N, cap; /* rows per (batch, class) at most */
    if (__builtin_mul_overflow(B, C, &cap) || __builtin_mul_overflow(cap, per, &cap) ||
        __builtin_mul_overflow(cap, (int64_t)3, &cap) ||
        cap > ((int64_t)1 << 40))
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "NonMaxSuppression: too many boxes");
    NmsCand *cand = malloc((size_t)(N ? N : 1) * sizeof *cand);
    int64_t *sel = malloc((size_t)(per ? per : 1) * sizeof *sel);
    int64_t *res = malloc((size_t)(cap ? cap : 1) * sizeof *res);
    if (!cand || !sel || !res) {
        free(cand);
        free(sel);
        free(res);
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "NonMaxSuppression: out of memory");
    }
    const float *boxes = bx->data, *scores = sc->data;
    int64_t rows = 0;
    for (int64_t b = 0; b < B && per > 0; b++)
        for (int64_t c = 0; c < C; c++) {
            const float *s = scores + (b * C + c) * N;
            int64_t nc = 0, ns = 0;
            for (int64_t i = 0; i < N; i++)
                if (!has_st || s[i] > sthr)
                    cand[nc++] = (NmsCand){s[i], i};
            qsort(cand, (size_t)nc, sizeof *cand, nms_cmp);
            for (int64_t k = 0; k < nc && ns < per; k++) {
                float a[4], o[4];
                nms_box(boxes + (b * N + cand[k].idx) * 4, p->center_point_box, a);
                int keep = 1;
                for (int64_t j = 0; j < ns && keep; j++) {
                    nms_box(boxes + (b * N + sel[j]) * 4, p->center_point_box, o);
                    keep = !nms_suppress(a, o, iou);
                }
                if (!keep)
                    continue;
                sel[ns++] = cand[k].idx;
                res[rows * 3] = b;
                res[rows * 3 + 1] = c;
                res[rows * 3 + 2] = cand[k].idx;
                rows++;
            }
        }
    free(cand);
    free(sel);
    int status = nms_report(ctx, &out[0], rows);
    if (!status && rows > 0)
        memcpy(out[0].data, res, (size_t)rows * 3 * sizeof(int64_t));
    free(res);
    return status;
}
