/* rt_conv.c - kernels of the conv family: Conv, MaxPool, AveragePool, GlobalAveragePool,
 * LpPool, GlobalMaxPool, MaxUnpool.
 *
 * ONNX specification: docs/Operators.md, sections Conv (opset 1/11/22), MaxPool (1/8/10/11/12/22),
 * AveragePool (1/7/10/11/19/22), GlobalAveragePool (1/22), LpPool (1/2/11/18/22), GlobalMaxPool
 * (1/22), MaxUnpool (9/11/22). The compiler resolves auto_pad and
 * ceil_mode (ops/op_conv.c); kernels receive explicit pads and the output shape.
 *
 * Layout is NC(D1..Dn), any number of spatial dims up to RT_MAX_SPATIAL. Conv has two float32
 * implementations: a direct loop nest (rt_k_conv_ref_f32, the reference) and im2col followed by
 * one OpenBLAS sgemm per (image, group) (rt_k_conv_f32); tests check one against the other.
 *
 * float16 and bfloat16 kernels compute in float32 (widened copies) and round the results back.
 *
 * Every kernel validates the ranks and dimensions it is given against its parameter block, and
 * every input access is bounds-checked, so inconsistent arguments give ONNXC_ERR_SHAPE instead
 * of touching memory outside the tensors.
 */
#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_epilogue.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

/* Geometry of one conv/pool call, derived from the tensors and checked. */
typedef struct ConvGeo {
    int ns;                        /* number of spatial dims */
    int64_t batch;                 /* N */
    int64_t cin;                   /* C (input channels) */
    int64_t cout;                  /* M for conv, C for pooling */
    int64_t in[RT_MAX_SPATIAL];    /* input spatial dims */
    int64_t out[RT_MAX_SPATIAL];   /* output spatial dims */
    int64_t k[RT_MAX_SPATIAL];     /* kernel (window) dims */
    int64_t in_size;               /* product of in[] */
    int64_t out_size;              /* product of out[] */
    int64_t k_size;                /* product of k[] */
} ConvGeo;

/* Product of n dims into *out; -1 on negative dims or overflow. */
static int dims_product(const int64_t *d, int n, int64_t *out) {
    int64_t p = 1;
    for (int i = 0; i < n; i++) {
        if (d[i] < 0) return -1;
        if (d[i] != 0 && p > INT64_MAX / d[i]) return -1;
        p *= d[i];
    }
    *out = p;
    return 0;
}

/* Splits a flat row-major index over dims d[0..n) into idx[0..n). */
static void unflatten(int64_t flat, const int64_t *d, int n, int64_t *idx) {
    for (int i = n - 1; i >= 0; i--) {
        idx[i] = d[i] > 0 ? flat % d[i] : 0;
        flat = d[i] > 0 ? flat / d[i] : 0;
    }
}

/* Common checks of X (rank n+2) and Y (rank n+2, same N). Fills g except cout/k. */
static int geo_init(RtCtx *ctx, ConvGeo *g, int ns, const RtTensor *x, const RtTensor *y,
                    const char *what) {
    if (ns < 1 || ns > RT_MAX_SPATIAL)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: %d spatial dims (supported: 1..%d)", what,
                       ns, RT_MAX_SPATIAL);
    if (x->rank != ns + 2 || y->rank != ns + 2)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input rank %d / output rank %d, expected %d",
                       what, (int)x->rank, (int)y->rank, ns + 2);
    if (!x->data || !y->data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: missing tensor data", what);
    g->ns = ns;
    g->batch = x->dims[0];
    g->cin = x->dims[1];
    if (y->dims[0] != g->batch)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: batch %lld in output, %lld in input", what,
                       (long long)y->dims[0], (long long)g->batch);
    for (int i = 0; i < ns; i++) {
        g->in[i] = x->dims[2 + i];
        g->out[i] = y->dims[2 + i];
    }
    if (g->batch < 0 || g->cin < 0 || dims_product(g->in, ns, &g->in_size) ||
        dims_product(g->out, ns, &g->out_size))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: invalid dimensions", what);
    return 0;
}

/* ------------------------------------------------------------------------------------ Conv */

/* Checks X, W, B, Y against p and fills g. */
static int conv_geo(RtCtx *ctx, const RtConvParams *p, const RtTensor *in, int nin,
                    const RtTensor *out, int nout, ConvGeo *g) {
    if (!p || nin < 2 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Conv: expected params, 2-3 inputs, 1 output");
    int ns = p->nspatial;
    int rc = geo_init(ctx, g, ns, &in[0], &out[0], "Conv");
    if (rc) return rc;
    const RtTensor *w = &in[1];
    if (w->rank != ns + 2 || !w->data)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Conv: weight rank %d, expected %d", (int)w->rank,
                       ns + 2);
    int64_t group = p->group;
    g->cout = w->dims[0];
    if (group < 1 || g->cout < 0 || g->cout % group != 0 || w->dims[1] * group != g->cin)
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "Conv: %lld input channels, weight [%lld, %lld, ...], group %lld",
                       (long long)g->cin, (long long)w->dims[0], (long long)w->dims[1],
                       (long long)group);
    if (out[0].dims[1] != g->cout)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Conv: output has %lld channels, weight %lld",
                       (long long)out[0].dims[1], (long long)g->cout);
    for (int i = 0; i < ns; i++) {
        g->k[i] = w->dims[2 + i];
        if (g->k[i] != p->kernel[i] || p->stride[i] < 1 || p->dilation[i] < 1 ||
            p->pad_begin[i] < 0 || p->pad_end[i] < 0)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Conv: parameters do not match the weight");
    }
    if (dims_product(g->k, ns, &g->k_size))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Conv: invalid kernel dims");
    if (nin > 2 && in[2].rank >= 0) {
        if (in[2].rank != 1 || in[2].dims[0] != g->cout || !in[2].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Conv: bias must be 1-D of size %lld",
                           (long long)g->cout);
    }
    return 0;
}

/* Direct convolution: for every output element, sum over the kernel taps that fall inside the
 * input (padding contributes zeros) and, for each such tap, over the group's input channels. */
#define DEFINE_CONV_DIRECT(T, NAME)                                                              \
    static void NAME(const ConvGeo *g, const RtConvParams *p, const T *x, const T *w,            \
                     const T *b, T *y) {                                                         \
        int ns = g->ns;                                                                          \
        int64_t cg = g->cin / p->group, mg = g->cout / p->group;                                 \
        int64_t opos[RT_MAX_SPATIAL], kpos[RT_MAX_SPATIAL];                                      \
        for (int64_t n = 0; n < g->batch; n++)                                                   \
            for (int64_t m = 0; m < g->cout; m++) {                                              \
                int64_t grp = m / mg;                                                            \
                const T *xg = x + (n * g->cin + grp * cg) * g->in_size;                          \
                const T *wm = w + m * cg * g->k_size;                                            \
                T *yp = y + (n * g->cout + m) * g->out_size;                                     \
                for (int64_t o = 0; o < g->out_size; o++) {                                      \
                    unflatten(o, g->out, ns, opos);                                              \
                    T acc = b ? b[m] : (T)0;                                                     \
                    for (int64_t kk = 0; kk < g->k_size; kk++) {                                 \
                        unflatten(kk, g->k, ns, kpos);                                           \
                        int64_t off = 0;                                                         \
                        int inside = 1;                                                          \
                        for (int i = 0; i < ns && inside; i++) {                                 \
                            int64_t pos = opos[i] * p->stride[i] - p->pad_begin[i] +             \
                                          kpos[i] * p->dilation[i];                              \
                            inside = pos >= 0 && pos < g->in[i];                                 \
                            off = off * g->in[i] + pos;                                          \
                        }                                                                        \
                        if (!inside) continue;                                                   \
                        for (int64_t c = 0; c < cg; c++)                                         \
                            acc += xg[c * g->in_size + off] * wm[c * g->k_size + kk];            \
                    }                                                                            \
                    yp[o] = acc;                                                                 \
                }                                                                                \
            }                                                                                    \
    }

DEFINE_CONV_DIRECT(float, conv_direct_f32)
DEFINE_CONV_DIRECT(double, conv_direct_f64)

static const void *bias_ptr(const RtTensor *in, int nin) {
    return (nin > 2 && in[2].rank >= 0) ? in[2].data : NULL;
}

int rt_k_conv_ref_f32(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    ConvGeo g;
    const RtConvParams *p = params;
    int rc = conv_geo(ctx, p, in, nin, out, nout, &g);
    if (rc) return rc;
    conv_direct_f32(&g, p, in[0].data, in[1].data, bias_ptr(in, nin), out[0].data);
    rt_epilogue_f32(&p->epi, out[0].data, g.batch * g.cout * g.out_size);
    return 0;
}

int rt_k_conv_f64(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    ConvGeo g;
    const RtConvParams *p = params;
    int rc = conv_geo(ctx, p, in, nin, out, nout, &g);
    if (rc) return rc;
    conv_direct_f64(&g, p, in[0].data, in[1].data, bias_ptr(in, nin), out[0].data);
    rt_epilogue_f64(&p->epi, out[0].data, g.batch * g.cout * g.out_size);
    return 0;
}

/* im2col for the cg channels at x of one image, restricted to the output rows [r0, r1) (a row
 * is one position of all spatial dims but the last, i.e. out[last] consecutive outputs): col is
 * a (cg * k_size) x width row-major matrix, width = (r1 - r0) * out[last], whose row (c, kk)
 * holds, for each of those output positions, the input value under kernel tap kk (0 where the
 * tap falls in the padding). */
static void im2col_f32(const ConvGeo *g, const RtConvParams *p, const float *x, int64_t cg,
                       int64_t r0, int64_t r1, float *col) {
    int ns = g->ns;
    int last = ns - 1;
    int64_t kpos[RT_MAX_SPATIAL], opos[RT_MAX_SPATIAL];
    int64_t olast = g->out[last], width = (r1 - r0) * olast;
    for (int64_t c = 0; c < cg; c++) {
        const float *xc = x + c * g->in_size;
        for (int64_t kk = 0; kk < g->k_size; kk++) {
            float *dst = col + (c * g->k_size + kk) * width;
            unflatten(kk, g->k, ns, kpos);
            int64_t s = p->stride[last];
            int64_t start = kpos[last] * p->dilation[last] - p->pad_begin[last];
            for (int64_t r = r0; r < r1; r++) {
                float *drow = dst + (r - r0) * olast;
                unflatten(r, g->out, last, opos);
                int64_t off = 0;
                int inside = 1;
                for (int i = 0; i < last && inside; i++) {
                    int64_t pos =
                        opos[i] * p->stride[i] - p->pad_begin[i] + kpos[i] * p->dilation[i];
                    inside = pos >= 0 && pos < g->in[i];
                    off = off * g->in[i] + pos;
                }
                if (!inside) {
                    memset(drow, 0, (size_t)olast * sizeof(float));
                    continue;
                }
                const float *xrow = xc + off * g->in[last];
                for (int64_t o = 0; o < olast; o++) {
                    int64_t pos = o * s + start;
                    drow[o] = (pos >= 0 && pos < g->in[last]) ? xrow[pos] : 0.0f;
                }
            }
        }
    }
}

/* Convolution where each output channel reads one input channel (C / group == 1: depthwise,
 * with or without a channel multiplier), where one GEMM per group would be 1 x K x out: loops
 * tap by tap, adding w * x over each output row, whose valid range along the innermost dim is
 * computed once per row. */
static void conv_depthwise_f32(const ConvGeo *g, const RtConvParams *p, const float *x,
                               const float *w, const float *b, float *y) {
    int ns = g->ns, last = g->ns - 1;
    int64_t mg = g->cout / p->group;
    int64_t kpos[RT_MAX_SPATIAL], opos[RT_MAX_SPATIAL];
    int64_t olast = g->out[last], rows = olast > 0 ? g->out_size / olast : 0;
    int64_t s = p->stride[last];
    for (int64_t n = 0; n < g->batch; n++)
        for (int64_t m = 0; m < g->cout; m++) {
            const float *xc = x + (n * g->cin + m / mg) * g->in_size;
            const float *wm = w + m * g->k_size;
            float *yp = y + (n * g->cout + m) * g->out_size;
            float bias = b ? b[m] : 0.0f;
            for (int64_t o = 0; o < g->out_size; o++) yp[o] = bias;
            for (int64_t kk = 0; kk < g->k_size; kk++) {
                float wv = wm[kk];
                unflatten(kk, g->k, ns, kpos);
                int64_t start = kpos[last] * p->dilation[last] - p->pad_begin[last];
                /* outputs o with 0 <= o*s + start < in[last] */
                int64_t lo = start >= 0 ? 0 : (-start + s - 1) / s;
                int64_t hi = g->in[last] - start <= 0 ? 0 : (g->in[last] - start + s - 1) / s;
                if (hi > olast) hi = olast;
                if (lo >= hi) continue;
                for (int64_t r = 0; r < rows; r++) {
                    unflatten(r, g->out, last, opos);
                    int64_t off = 0;
                    int inside = 1;
                    for (int i = 0; i < last && inside; i++) {
                        int64_t pos =
                            opos[i] * p->stride[i] - p->pad_begin[i] + kpos[i] * p->dilation[i];
                        inside = pos >= 0 && pos < g->in[i];
                        off = off * g->in[i] + pos;
                    }
                    if (!inside) continue;
                    const float *xrow = xc + off * g->in[last];
                    float *yrow = yp + r * olast;
                    if (s == 1)
                        for (int64_t o = lo; o < hi; o++) yrow[o] += wv * xrow[o + start];
                    else
                        for (int64_t o = lo; o < hi; o++) yrow[o] += wv * xrow[o * s + start];
                }
            }
            rt_epilogue_f32(&p->epi, yp, g->out_size); /* FusedConv: while the channel is hot */
        }
}

/* ---- 2-D fast paths (the common case), each split over the context's threads */

/* Depthwise 2-D convolution (C / group == 1). For each (image, output channel) the input plane
 * is copied once into a zero-padded scratch buffer split by phase modulo the strides: plane
 * (qh, qw) holds the padded rows qh, qh + sh, ... and columns qw, qw + sw, ..., each HQ x WQ.
 * The input under tap (kh, kw) of output (oh, ow) is then element (oh + (kh*dh)/sh,
 * ow + (kw*dw)/sw) of plane ((kh*dh) % sh, (kw*dw) % sw). Outputs are accumulated in a scratch
 * plane of OH x WQ (the columns past OW are discarded), so that every tap is one flat,
 * contiguous loop over OH * WQ elements at a constant offset, for any stride or dilation: no
 * bounds checks, long trip counts even for 7x7 planes, and it vectorises. */
typedef struct Dw2d {
    const ConvGeo *g;
    const RtConvParams *p;
    const float *x, *w, *b;
    float *y;
    int64_t hq, wq;  /* rows and columns of one phase plane */
    int64_t nbuf;    /* floats of the phase planes, plus WQ of slack for discarded columns */
    int64_t per;     /* floats of scratch per worker (nbuf + OH * WQ) */
    float *scratch;  /* per worker */
} Dw2d;

/* out[i] += w0 a0[i] + w1 a1[i] + w2 a2[i] and out[i] += w0 a0[i] (restrict parameters: the
 * optimiser vectorises without run-time overlap checks). */
static void dw_taps3(float *restrict out, const float *restrict a0, const float *restrict a1,
                     const float *restrict a2, float w0, float w1, float w2, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] += w0 * a0[i] + w1 * a1[i] + w2 * a2[i];
}

static void dw_taps1(float *restrict out, const float *restrict a0, float w0, int64_t n) {
    for (int64_t i = 0; i < n; i++) out[i] += w0 * a0[i];
}

static void dw2d_range(void *arg, int64_t c0, int64_t c1, int worker) {
    const Dw2d *d = arg;
    const ConvGeo *g = d->g;
    const RtConvParams *p = d->p;
    float *buf = d->scratch + (int64_t)worker * d->per, *acc = buf + d->nbuf;
    int64_t H = g->in[0], W = g->in[1], OH = g->out[0], OW = g->out[1];
    int64_t KH = g->k[0], KW = g->k[1];
    int64_t sh = p->stride[0], sw = p->stride[1], dh = p->dilation[0], dw = p->dilation[1];
    int64_t pt = p->pad_begin[0], pl = p->pad_begin[1], hq = d->hq, wq = d->wq;
    int64_t mg = g->cout / p->group, plane = hq * wq, n_acc = OH * wq;
    memset(buf + sh * sw * plane, 0, (size_t)(d->nbuf - sh * sw * plane) * sizeof(float));
    for (int64_t nm = c0; nm < c1; nm++) {
        int64_t n = nm / g->cout, m = nm % g->cout;
        const float *xc = d->x + (n * g->cin + m / mg) * g->in_size;
        for (int64_t qh = 0; qh < sh; qh++)
            for (int64_t rr = 0; rr < hq; rr++) {
                int64_t ih = rr * sh + qh - pt;
                for (int64_t qw = 0; qw < sw; qw++) {
                    float *dst = buf + ((qh * sw + qw) * hq + rr) * wq;
                    if (ih < 0 || ih >= H) {
                        memset(dst, 0, (size_t)wq * sizeof(float));
                        continue;
                    }
                    const float *xrow = xc + ih * W;
                    if (sw == 1) { /* [0, pl) zeros, x[0..W) (clipped), zeros */
                        int64_t lead = pl < wq ? pl : wq;
                        int64_t cnt = W < wq - lead ? W : wq - lead;
                        memset(dst, 0, (size_t)lead * sizeof(float));
                        memcpy(dst + lead, xrow, (size_t)cnt * sizeof(float));
                        memset(dst + lead + cnt, 0, (size_t)(wq - lead - cnt) * sizeof(float));
                        continue;
                    }
                    /* j with 0 <= j*sw + qw - pl < W */
                    int64_t off = qw - pl;
                    int64_t jlo = off >= 0 ? 0 : (-off + sw - 1) / sw;
                    int64_t jhi = W - off <= 0 ? 0 : (W - off + sw - 1) / sw;
                    if (jhi > wq) jhi = wq;
                    if (jlo > jhi) jlo = jhi;
                    memset(dst, 0, (size_t)jlo * sizeof(float));
                    for (int64_t j = jlo; j < jhi; j++) dst[j] = xrow[j * sw + off];
                    memset(dst + jhi, 0, (size_t)(wq - jhi) * sizeof(float));
                }
            }
        const float *wm = d->w + m * KH * KW;
        float bias = d->b ? d->b[m] : 0.0f;
        for (int64_t i = 0; i < n_acc; i++) acc[i] = bias;
        for (int64_t kh = 0; kh < KH; kh++) {
            int64_t th = kh * dh;
            const float *prow = buf + (th % sh) * sw * plane + (th / sh) * wq;
            const float *wk = wm + kh * KW;
            int64_t kw = 0;
            for (; kw + 3 <= KW; kw += 3) {
                int64_t t0 = kw * dw, t1 = t0 + dw, t2 = t1 + dw;
                dw_taps3(acc, prow + (t0 % sw) * plane + t0 / sw,
                         prow + (t1 % sw) * plane + t1 / sw, prow + (t2 % sw) * plane + t2 / sw,
                         wk[kw], wk[kw + 1], wk[kw + 2], n_acc);
            }
            for (; kw < KW; kw++) {
                int64_t t0 = kw * dw;
                dw_taps1(acc, prow + (t0 % sw) * plane + t0 / sw, wk[kw], n_acc);
            }
        }
        float *yp = d->y + nm * g->out_size;
        for (int64_t oh = 0; oh < OH; oh++)
            memcpy(yp + oh * OW, acc + oh * wq, (size_t)OW * sizeof(float));
        rt_epilogue_f32(&p->epi, yp, g->out_size); /* FusedConv: while the channel is hot */
    }
}

/* Runs the 2-D depthwise path; 1 if it did, 0 if the scratch size is unreasonable (the caller
 * uses the general loops), negative when out of memory. */
static int conv_dw2d_f32(RtCtx *ctx, const ConvGeo *g, const RtConvParams *p, const float *x,
                         const float *w, const float *b, float *y) {
    int64_t sh = p->stride[0], sw = p->stride[1];
    int64_t hp = (g->out[0] - 1) * sh + (g->k[0] - 1) * p->dilation[0] + 1;
    int64_t wp = (g->out[1] - 1) * sw + (g->k[1] - 1) * p->dilation[1] + 1;
    int64_t hq = (hp + sh - 1) / sh, wq = (wp + sw - 1) / sw, nbuf, nacc, per, total;
    int nt = rt_ctx_threads(ctx);
    /* the flat loops read up to (KW-1)*dw/sw + WQ - OW past the last row of a plane: WQ of
     * slack after the last plane covers it (WQ >= OW + (KW-1)*dw/sw) */
    if (hp <= 0 || wq <= 0 || __builtin_mul_overflow(hq, wq, &nbuf) ||
        __builtin_mul_overflow(nbuf, sh * sw, &nbuf) || __builtin_add_overflow(nbuf, wq, &nbuf) ||
        __builtin_mul_overflow(g->out[0], wq, &nacc) || __builtin_add_overflow(nbuf, nacc, &per) ||
        __builtin_mul_overflow(per, (int64_t)nt, &total) || total > ((int64_t)1 << 28))
        return 0;
    float *scratch = malloc((size_t)total * sizeof(float));
    if (!scratch) return -1;
    Dw2d d = {g, p, x, w, b, y, hq, wq, nbuf, per, scratch};
    rt_parallel_for(ctx, g->batch * g->cout, g->out_size * g->k_size, dw2d_range, &d);
    free(scratch);
    return 1;
}

/* im2col for 2-D convolutions, the channels [c0, c1) of one image, output rows [r0, r1) (the
 * matrix of im2col_f32): per kernel tap, the valid output columns of a row are computed once,
 * a stride-1 row is one memcpy and the padding is memset. */
typedef struct Im2col2d {
    const ConvGeo *g;
    const RtConvParams *p;
    const float *x;
    int64_t r0, r1;
    float *col;
} Im2col2d;

static void im2col2d_range(void *arg, int64_t c0, int64_t c1, int worker) {
    const Im2col2d *a = arg;
    const ConvGeo *g = a->g;
    const RtConvParams *p = a->p;
    (void)worker;
    int64_t H = g->in[0], W = g->in[1], OW = g->out[1], KH = g->k[0], KW = g->k[1];
    int64_t sh = p->stride[0], sw = p->stride[1], dh = p->dilation[0], dw = p->dilation[1];
    int64_t pt = p->pad_begin[0], pl = p->pad_begin[1];
    int64_t width = (a->r1 - a->r0) * OW;
    for (int64_t c = c0; c < c1; c++) {
        const float *xc = a->x + c * g->in_size;
        for (int64_t kh = 0; kh < KH; kh++)
            for (int64_t kw = 0; kw < KW; kw++) {
                float *dst = a->col + ((c * KH + kh) * KW + kw) * width;
                int64_t start = kw * dw - pl; /* input column of output column 0 */
                /* output columns o with 0 <= o*sw + start < W */
                int64_t lo = start >= 0 ? 0 : (-start + sw - 1) / sw;
                int64_t hi = W - start <= 0 ? 0 : (W - start + sw - 1) / sw;
                if (hi > OW) hi = OW;
                if (lo > hi) lo = hi;
                for (int64_t oh = a->r0; oh < a->r1; oh++) {
                    float *drow = dst + (oh - a->r0) * OW;
                    int64_t ih = oh * sh - pt + kh * dh;
                    if (ih < 0 || ih >= H || lo == hi) {
                        memset(drow, 0, (size_t)OW * sizeof(float));
                        continue;
                    }
                    const float *xrow = xc + ih * W;
                    memset(drow, 0, (size_t)lo * sizeof(float));
                    if (sw == 1)
                        memcpy(drow + lo, xrow + lo + start, (size_t)(hi - lo) * sizeof(float));
                    else
                        for (int64_t o = lo; o < hi; o++) drow[o] = xrow[o * sw + start];
                    memset(drow + hi, 0, (size_t)(OW - hi) * sizeof(float));
                }
            }
    }
}

/* 1 if the conv is a pointwise (1x1..., stride 1, no padding) one whose im2col matrix is the
 * input itself. */
static int conv_is_pointwise(const ConvGeo *g, const RtConvParams *p) {
    for (int i = 0; i < g->ns; i++)
        if (g->k[i] != 1 || p->stride[i] != 1 || p->pad_begin[i] != 0 || p->pad_end[i] != 0 ||
            g->out[i] != g->in[i])
            return 0;
    return 1;
}

/* Bound on the im2col buffer: output rows are processed in blocks so that the buffer stays
 * under this many floats (16 MiB), unless a single row needs more. */
#define CONV_COL_BUDGET ((int64_t)4 << 20)

int rt_k_conv_f32(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    ConvGeo g;
    const RtConvParams *p = params;
    int rc = conv_geo(ctx, p, in, nin, out, nout, &g);
    if (rc) return rc;
    const float *x = in[0].data, *w = in[1].data, *b = bias_ptr(in, nin);
    float *y = out[0].data;
    int64_t cg = g.cin / p->group, mg = g.cout / p->group;
    int64_t kc = cg * g.k_size; /* inner dimension of the GEMM */
    if (g.batch == 0 || g.cout == 0 || g.out_size == 0) return 0;
    if (cg == 1) {
        int done = g.ns == 2 ? conv_dw2d_f32(ctx, &g, p, x, w, b, y) : 0;
        if (done < 0) return rt_fail(ctx, ONNXC_ERR_NOMEM, "Conv: out of memory (depthwise)");
        if (!done) conv_depthwise_f32(&g, p, x, w, b, y);
        return 0;
    }
    /* GEMM dimensions must fit cblas' int; otherwise use the direct loops. */
    if (kc == 0 || kc > INT_MAX || g.out_size > INT_MAX || mg > INT_MAX) {
        conv_direct_f32(&g, p, x, w, b, y);
        rt_epilogue_f32(&p->epi, y, g.batch * g.cout * g.out_size);
        return 0;
    }
    int64_t olast = g.out[g.ns - 1], rows = g.out_size / olast;
    int64_t block = CONV_COL_BUDGET / (kc * olast); /* output rows per GEMM */
    if (block < 1) block = 1;
    if (block > rows) block = rows;
    int pointwise = conv_is_pointwise(&g, p);
    float *col = NULL;
    if (!pointwise) {
        if ((uint64_t)(kc * block * olast) > SIZE_MAX / sizeof(float) ||
            !(col = malloc((size_t)(kc * block * olast) * sizeof(float))))
            return rt_fail(ctx, ONNXC_ERR_NOMEM, "Conv: cannot allocate %lld x %lld im2col buffer",
                           (long long)kc, (long long)(block * olast));
    }
    for (int64_t n = 0; n < g.batch; n++) {
        for (int64_t grp = 0; grp < p->group; grp++) {
            const float *xg = x + (n * g.cin + grp * cg) * g.in_size;
            const float *wg = w + grp * mg * kc;
            float *yg = y + (n * g.cout + grp * mg) * g.out_size;
            float beta = 0.0f;
            if (b) {
                for (int64_t m = 0; m < mg; m++)
                    for (int64_t o = 0; o < g.out_size; o++) yg[m * g.out_size + o] = b[grp * mg + m];
                beta = 1.0f;
            }
            if (pointwise) { /* the input channels already form the kc x out_size matrix */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mg, (int)g.out_size,
                            (int)kc, 1.0f, wg, (int)kc, xg, (int)g.out_size, beta, yg,
                            (int)g.out_size);
                rt_epilogue_f32(&p->epi, yg, mg * g.out_size);
                continue;
            }
            for (int64_t r0 = 0; r0 < rows; r0 += block) {
                int64_t r1 = r0 + block < rows ? r0 + block : rows;
                int width = (int)((r1 - r0) * olast);
                if (g.ns == 2) {
                    Im2col2d ic = {&g, p, xg, r0, r1, col};
                    rt_parallel_for(ctx, cg, g.k_size * width, im2col2d_range, &ic);
                } else {
                    im2col_f32(&g, p, xg, cg, r0, r1, col);
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mg, width, (int)kc,
                            1.0f, wg, (int)kc, col, width, beta, yg + r0 * olast,
                            (int)g.out_size);
                rt_epilogue_f32_2d(&p->epi, yg + r0 * olast, mg, width, g.out_size);
            }
        }
    }
    free(col);
    return 0;
}

/* ------------------------------------------------------------------------------------ pooling */

/* Checks X, Y (and p) for pooling and fills g (cout = C, k from p). */
static int pool_geo(RtCtx *ctx, const RtPoolParams *p, const RtTensor *in, int nin,
                    const RtTensor *out, int nout, ConvGeo *g, const char *what) {
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expected params, 1 input, 1 output", what);
    int rc = geo_init(ctx, g, p->nspatial, &in[0], &out[0], what);
    if (rc) return rc;
    g->cout = g->cin;
    if (out[0].dims[1] != g->cin)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output has %lld channels, input %lld", what,
                       (long long)out[0].dims[1], (long long)g->cin);
    for (int i = 0; i < g->ns; i++) {
        g->k[i] = p->kernel[i];
        if (p->kernel[i] < 1 || p->stride[i] < 1 || p->dilation[i] < 1 || p->pad_begin[i] < 0 ||
            p->pad_end[i] < 0)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: invalid window parameters", what);
    }
    if (dims_product(g->k, g->ns, &g->k_size))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: invalid kernel dims", what);
    return 0;
}

/* Window of one pooling output position o along spatial dim i: it starts at
 * start = o*stride - pad_begin; taps k in [klo, khi) fall inside the input, and npad taps fall
 * inside the padded input [-pad_begin, D + pad_end) (the count_include_pad divisor). */
typedef struct PoolWin {
    int64_t start; /* input position of tap 0 */
    int64_t klo;   /* first tap inside the input */
    int64_t khi;   /* one past the last tap inside the input (klo >= khi: none) */
    int64_t npad;  /* taps inside the padded input */
} PoolWin;

/* Builds the window table of every spatial dim: entry tab[first[i] + o] for position o along
 * dim i (first[] filled here). malloc'ed; NULL on OOM. */
static PoolWin *pool_tables(const ConvGeo *g, const RtPoolParams *p, int64_t *first) {
    int64_t total = 0;
    for (int i = 0; i < g->ns; i++) {
        first[i] = total;
        total += g->out[i];
    }
    PoolWin *tab = malloc((size_t)(total ? total : 1) * sizeof(PoolWin));
    if (!tab) return NULL;
    for (int i = 0; i < g->ns; i++)
        for (int64_t o = 0; o < g->out[i]; o++) {
            int64_t d = p->dilation[i], k = g->k[i], st = o * p->stride[i] - p->pad_begin[i];
            int64_t lo = st >= 0 ? 0 : (-st + d - 1) / d;  /* first k with st + k*d >= 0 */
            int64_t room = g->in[i] - st;                   /* k*d < room: inside */
            int64_t hi = room <= 0 ? 0 : (room + d - 1) / d;
            int64_t proom = g->in[i] + p->pad_end[i] - st;  /* k*d < proom: inside padding */
            int64_t phi = proom <= 0 ? 0 : (proom + d - 1) / d;
            PoolWin *w = &tab[first[i] + o];
            w->start = st;
            w->klo = lo < k ? lo : k;
            w->khi = hi < k ? hi : k;
            w->npad = phi < k ? phi : k;
        }
    return tab;
}

/* Gathers the window of output position opos from the tables; 0 when it holds no tap inside
 * the input. */
static int pool_window(const ConvGeo *g, const PoolWin *tab, const int64_t *first,
                       const int64_t *opos, int64_t *start, int64_t *klo, int64_t *khi,
                       int64_t *npad) {
    int nonempty = 1;
    for (int i = 0; i < g->ns; i++) {
        const PoolWin *w = &tab[first[i] + opos[i]];
        start[i] = w->start;
        klo[i] = w->klo;
        khi[i] = w->khi;
        npad[i] = w->npad;
        if (klo[i] >= khi[i]) nonempty = 0;
    }
    return nonempty;
}

/* Advances a row-major odometer idx over dims[0..n); 0 when it wraps around. */
static int odometer_next(int64_t *idx, const int64_t *dims, int n) {
    for (int i = n - 1; i >= 0; i--) {
        if (++idx[i] < dims[i]) return 1;
        idx[i] = 0;
    }
    return 0;
}

/* Calls BODY(off) for each tap of the window inside the input, in row-major kernel order, with
 * `off` the tap's flat offset in the input plane. Needs ns, g, p, start, klo, khi in scope. */
#define POOL_FOR_EACH_TAP(BODY)                                                                  \
    do {                                                                                         \
        int last_ = ns - 1;                                                                      \
        int64_t kidx_[RT_MAX_SPATIAL];                                                           \
        for (int i_ = 0; i_ < last_; i_++) kidx_[i_] = klo[i_];                                  \
        for (;;) {                                                                               \
            int64_t row_ = 0;                                                                    \
            for (int i_ = 0; i_ < last_; i_++)                                                   \
                row_ = row_ * g.in[i_] + start[i_] + kidx_[i_] * p->dilation[i_];                \
            row_ = row_ * g.in[last_] + start[last_];                                            \
            for (int64_t k_ = klo[last_]; k_ < khi[last_]; k_++) {                               \
                int64_t off = row_ + k_ * p->dilation[last_];                                    \
                BODY;                                                                            \
            }                                                                                    \
            int i_ = last_ - 1;                                                                  \
            while (i_ >= 0 && ++kidx_[i_] >= khi[i_]) {                                          \
                kidx_[i_] = klo[i_];                                                             \
                i_--;                                                                            \
            }                                                                                    \
            if (i_ < 0) break;                                                                   \
        }                                                                                        \
    } while (0)

/* MaxPool over 2 spatial dims without Indices, split over the context's threads by (image,
 * channel) plane: the same taps in the same order as the general loops (the first tap inside
 * the input, then each later one that is greater), without the per-output odometer. */
typedef struct MaxPool2d {
    const ConvGeo *g;
    const RtPoolParams *p;
    const PoolWin *th, *tw; /* window tables of the rows and the columns */
    const void *x;
    void *y;
} MaxPool2d;

#define DEFINE_MAXPOOL2D(T, NAME)                                                                \
    static void NAME(void *arg, int64_t c0, int64_t c1, int worker) {                            \
        const MaxPool2d *a = arg;                                                                \
        const ConvGeo *g = a->g;                                                                 \
        int64_t W = g->in[1], OH = g->out[0], OW = g->out[1];                                    \
        int64_t dh = a->p->dilation[0], dw = a->p->dilation[1];                                  \
        (void)worker;                                                                            \
        for (int64_t nc = c0; nc < c1; nc++) {                                                   \
            const T *xp = (const T *)a->x + nc * g->in_size;                                     \
            T *yp = (T *)a->y + nc * g->out_size;                                                \
            for (int64_t oh = 0; oh < OH; oh++) {                                                \
                const PoolWin *h = &a->th[oh];                                                   \
                for (int64_t ow = 0; ow < OW; ow++) {                                            \
                    const PoolWin *v = &a->tw[ow];                                               \
                    if (h->klo >= h->khi || v->klo >= v->khi) {                                  \
                        yp[oh * OW + ow] = (T)0;                                                 \
                        continue;                                                                \
                    }                                                                            \
                    int64_t b0 = h->start * W + v->start;                                        \
                    T best = xp[b0 + h->klo * dh * W + v->klo * dw];                             \
                    for (int64_t kh = h->klo; kh < h->khi; kh++) {                               \
                        int64_t ro = b0 + kh * dh * W;                                           \
                        for (int64_t kw = v->klo; kw < v->khi; kw++) {                           \
                            T val = xp[ro + kw * dw];                                            \
                            if (val > best) best = val;                                          \
                        }                                                                        \
                    }                                                                            \
                    yp[oh * OW + ow] = best;                                                     \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
    }

DEFINE_MAXPOOL2D(float, maxpool2d_f32)
DEFINE_MAXPOOL2D(double, maxpool2d_f64)
DEFINE_MAXPOOL2D(int8_t, maxpool2d_i8)
DEFINE_MAXPOOL2D(uint8_t, maxpool2d_u8)

/* MaxPool: maximum over the taps inside the input (the first maximum wins for Indices). A
 * window with no tap inside the input gives 0 and index -1. Indices are flat offsets into X:
 * (n*C + c) * prod(D) + spatial offset, the spatial offset row-major (storage_order 0) or
 * column-major (storage_order 1). */
#define DEFINE_MAXPOOL(T, NAME, MP2D)                                                            \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,         \
             int nout) {                                                                         \
        ConvGeo g;                                                                               \
        const RtPoolParams *p = params;                                                          \
        int rc = pool_geo(ctx, p, in, nin, out, nout, &g, "MaxPool");                            \
        if (rc) return rc;                                                                       \
        int64_t *ind = NULL;                                                                     \
        if (nout > 1 && out[1].rank >= 0 && out[1].data) {                                       \
            if (out[1].dtype != 7 /* INT64 */ || rt_numel(&out[1]) != rt_numel(&out[0]))         \
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "MaxPool: Indices must be int64 like Y");   \
            ind = out[1].data;                                                                   \
        }                                                                                        \
        int ns = g.ns;                                                                           \
        const T *x = in[0].data;                                                                 \
        T *y = out[0].data;                                                                      \
        int64_t opos[RT_MAX_SPATIAL], start[RT_MAX_SPATIAL], klo[RT_MAX_SPATIAL],                \
            khi[RT_MAX_SPATIAL], npad[RT_MAX_SPATIAL], pos[RT_MAX_SPATIAL];                      \
        if (g.out_size == 0) return 0;                                                           \
        int64_t first[RT_MAX_SPATIAL];                                                           \
        PoolWin *tab = pool_tables(&g, p, first);                                                \
        if (!tab) return rt_fail(ctx, ONNXC_ERR_NOMEM, "pooling: out of memory");                \
        if (ns == 2 && !ind) {                                                                   \
            MaxPool2d a2 = {&g, p, tab + first[0], tab + first[1], x, y};                        \
            rt_parallel_for(ctx, g.batch * g.cin, g.out_size * g.k_size, MP2D, &a2);             \
            free(tab);                                                                           \
            return 0;                                                                            \
        }                                                                                        \
        for (int64_t nc = 0; nc < g.batch * g.cin; nc++) {                                       \
            const T *xp = x + nc * g.in_size;                                                    \
            memset(opos, 0, sizeof opos);                                                        \
            for (int64_t o = 0; o < g.out_size; o++, odometer_next(opos, g.out, ns)) {           \
                T best = (T)0;                                                                   \
                int64_t best_off = -1;                                                           \
                if (pool_window(&g, tab, first, opos, start, klo, khi, npad))                             \
                    POOL_FOR_EACH_TAP(if (best_off < 0 || xp[off] > best) {                      \
                        best = xp[off];                                                          \
                        best_off = off;                                                          \
                    });                                                                          \
                y[nc * g.out_size + o] = best;                                                   \
                if (ind) {                                                                       \
                    int64_t idx = best_off;                                                      \
                    if (best_off >= 0 && p->storage_order == 1) {                                \
                        unflatten(best_off, g.in, ns, pos);                                      \
                        idx = 0;                                                                 \
                        for (int i = ns - 1; i >= 0; i--) idx = idx * g.in[i] + pos[i];          \
                    }                                                                            \
                    ind[nc * g.out_size + o] = best_off >= 0 ? idx + nc * g.in_size : -1;        \
                }                                                                                \
            }                                                                                    \
        }                                                                                        \
        free(tab);                                                                               \
        return 0;                                                                                \
    }

DEFINE_MAXPOOL(float, rt_k_maxpool_f32, maxpool2d_f32)
DEFINE_MAXPOOL(double, rt_k_maxpool_f64, maxpool2d_f64)
DEFINE_MAXPOOL(int8_t, rt_k_maxpool_i8, maxpool2d_i8)
DEFINE_MAXPOOL(uint8_t, rt_k_maxpool_u8, maxpool2d_u8)

/* AveragePool: sum of the taps inside the input divided by their count, or (count_include_pad)
 * by the number of taps inside the padded input [-pad_begin, D + pad_end) - taps that ceil_mode
 * pushes past the end padding never count. An empty window gives 0. */
#define DEFINE_AVGPOOL(T, NAME)                                                                  \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,         \
             int nout) {                                                                         \
        ConvGeo g;                                                                               \
        const RtPoolParams *p = params;                                                          \
        int rc = pool_geo(ctx, p, in, nin, out, nout, &g, "AveragePool");                        \
        if (rc) return rc;                                                                       \
        int ns = g.ns;                                                                           \
        const T *x = in[0].data;                                                                 \
        T *y = out[0].data;                                                                      \
        int64_t opos[RT_MAX_SPATIAL], start[RT_MAX_SPATIAL], klo[RT_MAX_SPATIAL],                \
            khi[RT_MAX_SPATIAL], npad[RT_MAX_SPATIAL];                                           \
        if (g.out_size == 0) return 0;                                                           \
        int64_t first[RT_MAX_SPATIAL];                                                           \
        PoolWin *tab = pool_tables(&g, p, first);                                                \
        if (!tab) return rt_fail(ctx, ONNXC_ERR_NOMEM, "pooling: out of memory");                \
        for (int64_t nc = 0; nc < g.batch * g.cin; nc++) {                                       \
            const T *xp = x + nc * g.in_size;                                                    \
            memset(opos, 0, sizeof opos);                                                        \
            for (int64_t o = 0; o < g.out_size; o++, odometer_next(opos, g.out, ns)) {           \
                T sum = 0;                                                                       \
                int nonempty = pool_window(&g, tab, first, opos, start, klo, khi, npad);                  \
                int64_t cnt = 1;                                                                 \
                for (int i = 0; i < ns; i++)                                                     \
                    cnt *= p->count_include_pad ? npad[i] : (khi[i] > klo[i] ? khi[i] - klo[i] : 0); \
                if (nonempty) POOL_FOR_EACH_TAP(sum += xp[off]);                                 \
                y[nc * g.out_size + o] = cnt > 0 ? sum / (T)cnt : (T)0;                          \
            }                                                                                    \
        }                                                                                        \
        free(tab);                                                                               \
        return 0;                                                                                \
    }

DEFINE_AVGPOOL(float, rt_k_avgpool_f32)
DEFINE_AVGPOOL(double, rt_k_avgpool_f64)

/* GlobalAveragePool: mean over all spatial positions; Y is [N, C, 1, ..., 1]. Accumulates in
 * double for float32 to keep large planes accurate. */
#define DEFINE_GLOBAL_AVGPOOL(T, NAME)                                                           \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,         \
             int nout) {                                                                         \
        (void)params;                                                                            \
        if (nin < 1 || nout < 1 || in[0].rank < 2 || out[0].rank != in[0].rank || !in[0].data || \
            !out[0].data)                                                                        \
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "GlobalAveragePool: bad tensors");              \
        int64_t nc = in[0].dims[0] * in[0].dims[1], plane = 1;                                   \
        for (int i = 2; i < in[0].rank; i++) {                                                   \
            plane *= in[0].dims[i];                                                              \
            if (out[0].dims[i] != 1)                                                             \
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "GlobalAveragePool: output dim %d not 1",  \
                               i);                                                               \
        }                                                                                        \
        if (out[0].dims[0] != in[0].dims[0] || out[0].dims[1] != in[0].dims[1])                  \
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "GlobalAveragePool: output N/C mismatch");      \
        const T *x = in[0].data;                                                                 \
        T *y = out[0].data;                                                                      \
        for (int64_t i = 0; i < nc; i++) {                                                       \
            double s = 0;                                                                        \
            for (int64_t j = 0; j < plane; j++) s += (double)x[i * plane + j];                   \
            y[i] = plane > 0 ? (T)(s / (double)plane) : (T)0;                                    \
        }                                                                                        \
        return 0;                                                                                \
    }

DEFINE_GLOBAL_AVGPOOL(float, rt_k_global_avgpool_f32)
DEFINE_GLOBAL_AVGPOOL(double, rt_k_global_avgpool_f64)

/* ------------------------------------------------------------------------------------ float16 */

/* float16 / bfloat16 versions: the tensors are widened to float32 copies, the float32 kernel
 * runs, and the outputs are rounded back (to nearest even). Tensors of other types (MaxPool's
 * int64 Indices) pass through unchanged. */
#define RT_WIDEN_MAX 4

static int run_widened(RtCtx *ctx, RtKernelFn fn, int32_t half_dtype, const void *params,
                       const RtTensor *in, int nin, RtTensor *out, int nout) {
    if (nin > RT_WIDEN_MAX || nout > RT_WIDEN_MAX || nin < 0 || nout < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "too many tensors for a float16 kernel");
    int bf = half_dtype == 16; /* BFLOAT16, else FLOAT16 (10) */
    RtTensor win[RT_WIDEN_MAX], wout[RT_WIDEN_MAX];
    float *bufs[2 * RT_WIDEN_MAX] = {0};
    memset(win, 0, sizeof win);
    memset(wout, 0, sizeof wout);
    int rc = 0;
    for (int k = 0; k < nin + nout && !rc; k++) {
        const RtTensor *t = k < nin ? &in[k] : &out[k - nin];
        RtTensor *w = k < nin ? &win[k] : &wout[k - nin];
        *w = *t;
        if (t->rank < 0 || t->dtype != half_dtype || !t->data) continue;
        int64_t n = rt_numel(t);
        if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof(float)) {
            rc = rt_fail(ctx, ONNXC_ERR_SHAPE, "float16 kernel: bad tensor size");
            break;
        }
        bufs[k] = malloc((size_t)(n ? n : 1) * sizeof(float));
        if (!bufs[k]) {
            rc = rt_fail(ctx, ONNXC_ERR_NOMEM, "float16 kernel: out of memory");
            break;
        }
        if (k < nin) {
            const uint16_t *h = t->data;
            for (int64_t i = 0; i < n; i++) bufs[k][i] = bf ? rt_bf2f(h[i]) : rt_h2f(h[i]);
        }
        w->data = bufs[k];
        w->dtype = 1; /* FLOAT */
    }
    if (!rc) rc = fn(ctx, params, win, nin, wout, nout);
    for (int k = nin; k < nin + nout && !rc; k++) {
        if (!bufs[k]) continue;
        uint16_t *h = out[k - nin].data;
        int64_t n = rt_numel(&out[k - nin]);
        for (int64_t i = 0; i < n; i++) h[i] = bf ? rt_f2bf(bufs[k][i]) : rt_f2h(bufs[k][i]);
    }
    for (int k = 0; k < nin + nout; k++) free(bufs[k]);
    return rc;
}

#define DEFINE_WIDENED(NAME, F32_KERNEL, HALF_DTYPE)                                             \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,         \
             int nout) {                                                                         \
        return run_widened(ctx, F32_KERNEL, HALF_DTYPE, params, in, nin, out, nout);             \
    }

DEFINE_WIDENED(rt_k_conv_f16, rt_k_conv_f32, 10)
DEFINE_WIDENED(rt_k_conv_bf16, rt_k_conv_f32, 16)
DEFINE_WIDENED(rt_k_maxpool_f16, rt_k_maxpool_f32, 10)
DEFINE_WIDENED(rt_k_maxpool_bf16, rt_k_maxpool_f32, 16)
DEFINE_WIDENED(rt_k_avgpool_f16, rt_k_avgpool_f32, 10)
DEFINE_WIDENED(rt_k_avgpool_bf16, rt_k_avgpool_f32, 16)
DEFINE_WIDENED(rt_k_global_avgpool_f16, rt_k_global_avgpool_f32, 10)
DEFINE_WIDENED(rt_k_global_avgpool_bf16, rt_k_global_avgpool_f32, 16)

/* ------------------------------------------------------- LpPool, GlobalMaxPool, MaxUnpool */

/* LpPool: (sum over the taps inside the input of |x|^p)^(1/p), accumulated in double; p = 1
 * and p = 2 avoid pow. An empty window gives 0. */
#define DEFINE_LPPOOL(T, NAME)                                                                   \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,         \
             int nout) {                                                                         \
        ConvGeo g;                                                                               \
        const RtLpPoolParams *lp = params;                                                       \
        if (!lp || !(lp->p > 0))                                                                 \
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "LpPool: p must be positive");            \
        const RtPoolParams *p = &lp->pool;                                                       \
        int rc = pool_geo(ctx, p, in, nin, out, nout, &g, "LpPool");                             \
        if (rc) return rc;                                                                       \
        int ns = g.ns;                                                                           \
        const T *x = in[0].data;                                                                 \
        T *y = out[0].data;                                                                      \
        double pe = lp->p;                                                                       \
        int64_t opos[RT_MAX_SPATIAL], start[RT_MAX_SPATIAL], klo[RT_MAX_SPATIAL],                \
            khi[RT_MAX_SPATIAL], npad[RT_MAX_SPATIAL];                                           \
        if (g.out_size == 0) return 0;                                                           \
        int64_t first[RT_MAX_SPATIAL];                                                           \
        PoolWin *tab = pool_tables(&g, p, first);                                                \
        if (!tab) return rt_fail(ctx, ONNXC_ERR_NOMEM, "pooling: out of memory");                \
        for (int64_t nc = 0; nc < g.batch * g.cin; nc++) {                                       \
            const T *xp = x + nc * g.in_size;                                                    \
            memset(opos, 0, sizeof opos);                                                        \
            for (int64_t o = 0; o < g.out_size; o++, odometer_next(opos, g.out, ns)) {           \
                double sum = 0;                                                                  \
                if (pool_window(&g, tab, first, opos, start, klo, khi, npad))                    \
                    POOL_FOR_EACH_TAP({                                                          \
                        double a_ = fabs((double)xp[off]);                                       \
                        sum += pe == 1.0 ? a_ : pe == 2.0 ? a_ * a_ : pow(a_, pe);               \
                    });                                                                          \
                y[nc * g.out_size + o] =                                                         \
                    (T)(pe == 1.0 ? sum : pe == 2.0 ? sqrt(sum) : pow(sum, 1.0 / pe));           \
            }                                                                                    \
        }                                                                                        \
        free(tab);                                                                               \
        return 0;                                                                                \
    }

DEFINE_LPPOOL(float, rt_k_lppool_f32)
DEFINE_LPPOOL(double, rt_k_lppool_f64)
DEFINE_WIDENED(rt_k_lppool_f16, rt_k_lppool_f32, 10)
DEFINE_WIDENED(rt_k_lppool_bf16, rt_k_lppool_f32, 16)

/* GlobalMaxPool: maximum over all spatial positions (NaN propagates); Y is [N, C, 1, ..., 1].
 * An empty plane gives 0. */
#define DEFINE_GLOBAL_MAXPOOL(T, NAME)                                                           \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,         \
             int nout) {                                                                         \
        (void)params;                                                                            \
        if (nin < 1 || nout < 1 || in[0].rank < 2 || out[0].rank != in[0].rank || !in[0].data || \
            !out[0].data)                                                                        \
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "GlobalMaxPool: bad tensors");                  \
        int64_t nc = in[0].dims[0] * in[0].dims[1], plane = 1;                                   \
        for (int i = 2; i < in[0].rank; i++) {                                                   \
            plane *= in[0].dims[i];                                                              \
            if (out[0].dims[i] != 1)                                                             \
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "GlobalMaxPool: output dim %d not 1", i);   \
        }                                                                                        \
        if (out[0].dims[0] != in[0].dims[0] || out[0].dims[1] != in[0].dims[1])                  \
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "GlobalMaxPool: output N/C mismatch");          \
        const T *x = in[0].data;                                                                 \
        T *y = out[0].data;                                                                      \
        for (int64_t i = 0; i < nc; i++) {                                                       \
            T m = plane > 0 ? x[i * plane] : (T)0;                                               \
            for (int64_t j = 1; j < plane; j++) {                                                \
                T v = x[i * plane + j];                                                          \
                if (v > m || v != v) m = v;                                                      \
                if (m != m) break;                                                               \
            }                                                                                    \
            y[i] = m;                                                                            \
        }                                                                                        \
        return 0;                                                                                \
    }

DEFINE_GLOBAL_MAXPOOL(float, rt_k_global_maxpool_f32)
DEFINE_GLOBAL_MAXPOOL(double, rt_k_global_maxpool_f64)
DEFINE_WIDENED(rt_k_global_maxpool_f16, rt_k_global_maxpool_f32, 10)
DEFINE_WIDENED(rt_k_global_maxpool_bf16, rt_k_global_maxpool_f32, 16)

/* MaxUnpool: Y = 0, then Y[I[j]] = X[j], I flat over the unpooled shape [N, C, U...] with
 * U = (D - 1) * stride - pad_begin - pad_end + kernel; each index is mapped to the same
 * coordinates in Y (whose spatial dims may be larger: output_shape). Indices outside the
 * unpooled tensor, or coordinates outside Y, fail with ONNXC_ERR_RUNTIME. Any element size. */
int rt_k_maxunpool(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtPoolParams *p = params;
    if (!p || nin < 2 || nout < 1 || p->nspatial < 1 || p->nspatial > RT_MAX_SPATIAL)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "MaxUnpool: expected params, X and I");
    const RtTensor *x = &in[0], *ind = &in[1];
    RtTensor *y = &out[0];
    int r = x->rank, ns = p->nspatial;
    if (r != ns + 2 || ind->rank != r || y->rank != r || ind->dtype != 7 /* INT64 */ ||
        y->dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MaxUnpool: X, I and Y must have rank %d (I int64)",
                       ns + 2);
    for (int i = 0; i < r; i++)
        if (ind->dims[i] != x->dims[i])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "MaxUnpool: I must have X's shape");
    int64_t ud[2 + RT_MAX_SPATIAL];
    ud[0] = x->dims[0];
    ud[1] = x->dims[1];
    for (int i = 0; i < ns; i++)
        ud[2 + i] = (x->dims[2 + i] > 0 ? x->dims[2 + i] - 1 : 0) * p->stride[i] - p->pad_begin[i] -
                    p->pad_end[i] + p->kernel[i];
    int64_t total;
    if (dims_product(ud, r, &total))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MaxUnpool: invalid unpooled shape");
    if (nin > 2 && in[2].rank >= 0) {
        /* output_shape: checked against Y's compiled dims */
        if (in[2].dtype != 7 || rt_numel(&in[2]) != r || !in[2].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "MaxUnpool: output_shape must be int64 [%d]", r);
        for (int i = 0; i < r; i++)
            if (((const int64_t *)in[2].data)[i] != y->dims[i])
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "MaxUnpool: output_shape[%d] is %lld, the "
                               "output was compiled with %lld", i,
                               (long long)((const int64_t *)in[2].data)[i], (long long)y->dims[i]);
    }
    size_t es = rt_dtype_size(x->dtype);
    int64_t ny = rt_numel(y), nx = rt_numel(x);
    if (es == 0) return rt_fail(ctx, ONNXC_ERR_TYPE, "MaxUnpool: unknown element type");
    if (ny > 0) memset(y->data, 0, (size_t)ny * es);
    const int64_t *iv = ind->data;
    int64_t pos[2 + RT_MAX_SPATIAL];
    for (int64_t j = 0; j < nx; j++) {
        int64_t k = iv[j];
        if (k < 0 || k >= total)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "MaxUnpool: index %lld is outside the "
                           "unpooled tensor of %lld elements", (long long)k, (long long)total);
        unflatten(k, ud, r, pos);
        int64_t o = 0;
        for (int i = 0; i < r; i++) {
            if (pos[i] >= y->dims[i])
                return rt_fail(ctx, ONNXC_ERR_RUNTIME, "MaxUnpool: index %lld falls outside the "
                               "output", (long long)k);
            o = o * y->dims[i] + pos[i];
        }
        memcpy((char *)y->data + (size_t)o * es, (const char *)x->data + (size_t)j * es, es);
    }
    return 0;
}
