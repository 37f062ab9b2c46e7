/* rt_image.c - kernels of the image family: Resize/Upsample, QuantizeLinear, DequantizeLinear,
 * DynamicQuantizeLinear, ConvTranspose, MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv.
 *
 * ONNX specification: docs/Operators.md, sections Resize (10/11/13/18/19), Upsample (7/9),
 * QuantizeLinear and DequantizeLinear (10/13/19/21/23/25), DynamicQuantizeLinear (11),
 * ConvTranspose (1/11/22), MatMulInteger (10), QLinearMatMul (10/21), ConvInteger (10),
 * QLinearConv (10). Numerics follow the ONNX reference implementation (onnx/reference/ops):
 *   - Resize resamples one axis at a time in double precision; each output coordinate is mapped
 *     to x_original, whose taps are the n integers around it (the left one preferred), read with
 *     edge clamping; the result is rounded to Y's type with saturation (integers half to even).
 *     Nearest is a pure gather (any element type).
 *   - QuantizeLinear divides in the precision chosen by the compiler, rounds half to even and
 *     saturates; float8 targets use rt_convert.h (saturate attribute), float4e2m1 saturates.
 *   - DequantizeLinear computes (x - zero_point) * scale in float32 (no zero point for float8
 *     and float4 inputs), then rounds to the output type.
 *   - The integer ops accumulate in int32; QLinear* requantise with the scale ratio rounded to
 *     the scales' type, applied in double, rounded half to even and clipped.
 * Every kernel checks its tensors against its parameters and fails with ONNXC_ERR_SHAPE
 * instead of reading outside them.
 */
#include <cblas.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------ helpers
 * Elements are read and written through rt_load_f64_at / rt_store_f64_at (runtime/rt_convert.h;
 * stores use RT_STORE_SAT, numpy saturate_cast). */

/* Product of dims [from, to) of t; -1 on negative dims or overflow. */
static int64_t img_span(const RtTensor *t, int from, int to) {
    int64_t p = 1;
    for (int i = from; i < to; i++) {
        int64_t d = t->dims[i];
        if (d < 0 || (d && p > INT64_MAX / d)) return -1;
        p *= d;
    }
    return p;
}

static int img_present(const RtTensor *in, int nin, int i) {
    return i < nin && in[i].rank >= 0 && in[i].data;
}

/* ------------------------------------------------------------------------------------ Resize */

/* x_original of output coordinate x along dim d (in: input length, out: output length); sets
 * *extrap for tf_crop_and_resize outside [0, in - 1]. */
static double resize_coord(const RtResizeParams *p, int d, int64_t x, int64_t in, int64_t out,
                           int *extrap) {
    double s = p->scale[d], ow = s * (double)in, xd = (double)x, xo;
    *extrap = 0;
    switch (p->coord) {
    case RT_RESIZE_ALIGN_CORNERS: xo = ow == 1.0 ? 0.0 : xd * (double)(in - 1) / (ow - 1.0); break;
    case RT_RESIZE_ASYMMETRIC: xo = xd / s; break;
    case RT_RESIZE_TF_HALF_NN: xo = (xd + 0.5) / s; break;
    case RT_RESIZE_PYTORCH_HALF: xo = ow == 1.0 ? -0.5 : (xd + 0.5) / s - 0.5; break;
    case RT_RESIZE_HALF_PIXEL_SYM: {
        double adj = (double)out / ow, center = (double)in / 2.0;
        xo = center * (1.0 - adj) + (xd + 0.5) / s - 0.5;
        break;
    }
    case RT_RESIZE_TF_CROP: {
        /* the roi arithmetic is float32 in the reference (float32 roi tensor) */
        double span = (double)(float)((float)p->roi_end[d] - (float)p->roi_start[d]);
        double start = (double)(float)((float)p->roi_start[d] * (float)(in - 1));
        xo = ow == 1.0 ? span * (double)(in - 1) / 2.0 : xd * span * (double)(in - 1) / (ow - 1.0);
        xo += start;
        *extrap = xo < 0.0 || xo > (double)(in - 1);
        break;
    }
    default: xo = (xd + 0.5) / s - 0.5; break;
    }
    return xo;
}

/* Splits x_original into b (the left tap, x - r) and r in (0, 1]. */
static int64_t resize_split(double xo, double *r) {
    double f = __builtin_floor(xo);
    if (xo == f) {
        *r = 1.0;
        return (int64_t)f - 1;
    }
    *r = xo - f;
    return (int64_t)f;
}

/* Nearest source index along dim d for output x (clamped), or -1 when extrapolated. */
static int64_t resize_nearest(const RtResizeParams *p, int d, int64_t x, int64_t in, int64_t out) {
    int ex;
    double xo = resize_coord(p, d, x, in, out, &ex);
    if (ex) return -1;
    if (!(xo > -4e18 && xo < 4e18)) xo = xo > 0 ? 4e18 : -4e18;
    double r;
    int64_t b = resize_split(xo, &r), idx;
    if (r == 1.0) idx = b + 1;
    else switch (p->nearest_mode) {
        case RT_NEAREST_PREFER_CEIL: idx = r < 0.5 ? b : b + 1; break;
        case RT_NEAREST_FLOOR: idx = b; break;
        case RT_NEAREST_CEIL: idx = b + 1; break;
        case RT_NEAREST_SIMPLE: idx = p->scale[d] >= 1.0 ? b : b + 1; break;
        default: idx = r <= 0.5 ? b : b + 1; break;
        }
    return idx < 0 ? 0 : idx >= in ? in - 1 : idx;
}

static double cubic_w(double x, double a) {
    x = x < 0 ? -x : x;
    if (x <= 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0) return ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
    return 0.0;
}

/* Number of taps of the linear/cubic filter along dim d, and the offset of the first tap. */
static int64_t resize_taps(const RtResizeParams *p, int d, int64_t *first) {
    int64_t support = p->mode == RT_RESIZE_CUBIC ? 2 : 1;
    double s = p->scale[d] < 1.0 ? p->scale[d] : 1.0;
    int64_t start = 1 - support;
    if (p->antialias && s < 1.0) {
        double f = __builtin_floor(-(double)support / s);
        start = f > -1e9 ? (int64_t)f + 1 : -1000000000;
    }
    *first = start;
    return 2 - 2 * start;
}

/* Coefficients of the n taps (first tap at b + start) for ratio r along dim d. */
static void resize_coeffs(const RtResizeParams *p, int d, double r, int64_t n, int64_t start,
                          double *w) {
    double s = p->scale[d] < 1.0 ? p->scale[d] : 1.0, a = p->cubic_a, sum = 0.0;
    if (!p->antialias || s >= 1.0) s = 1.0;
    if (p->mode == RT_RESIZE_LINEAR && !p->antialias) {
        w[0] = 1.0 - r;
        w[1] = r;
        return;
    }
    if (p->mode == RT_RESIZE_CUBIC && !p->antialias) {
        w[0] = ((a * (r + 1) - 5 * a) * (r + 1) + 8 * a) * (r + 1) - 4 * a;
        w[1] = ((a + 2) * r - (a + 3)) * r * r + 1;
        w[2] = ((a + 2) * (1 - r) - (a + 3)) * (1 - r) * (1 - r) + 1;
        w[3] = ((a * ((1 - r) + 1) - 5 * a) * ((1 - r) + 1) + 8 * a) * ((1 - r) + 1) - 4 * a;
        return;
    }
    for (int64_t j = 0; j < n; j++) {
        double t = ((double)(start + j) - r) * s;
        double v;
        if (p->mode == RT_RESIZE_CUBIC) v = cubic_w(t, a);
        else {
            v = 1.0 - (t < 0 ? -t : t);
            v = v < 0 ? 0 : v > 1 ? 1 : v;
        }
        w[j] = v;
        sum += v;
    }
    if (sum != 0.0)
        for (int64_t j = 0; j < n; j++) w[j] /= sum;
}

/* Nearest: a gather of whole elements through per-dim source index tables. */
static int resize_gather(RtCtx *ctx, const RtResizeParams *p, const RtTensor *x, RtTensor *y) {
    int r = p->rank;
    size_t es = rt_dtype_size(x->dtype);
    int64_t total = 0, ny = img_span(y, 0, r);
    for (int d = 0; d < r; d++) total += y->dims[d];
    int64_t *tab = malloc((size_t)(total + 1) * sizeof(int64_t));
    if (!tab) return rt_fail(ctx, ONNXC_ERR_NOMEM, "Resize: out of memory");
    int64_t *src[RT_IMG_MAX_RANK], xs[RT_IMG_MAX_RANK], pos[RT_IMG_MAX_RANK];
    int64_t off = 0;
    for (int d = r - 1; d >= 0; d--) xs[d] = d == r - 1 ? 1 : xs[d + 1] * x->dims[d + 1];
    for (int d = 0; d < r; d++) {
        src[d] = tab + off;
        off += y->dims[d];
        int resampled = 0;
        for (int k = 0; k < p->naxes; k++) resampled |= p->axes[k] == d;
        for (int64_t j = 0; j < y->dims[d]; j++)
            src[d][j] = resampled ? resize_nearest(p, d, j, x->dims[d], y->dims[d]) : j;
        pos[d] = 0;
    }
    unsigned char fill[16] = {0};
    if (p->coord == RT_RESIZE_TF_CROP && es <= sizeof fill && x->dtype != 8)
        rt_store_f64_at(fill, x->dtype, 0, p->extrapolation, RT_STORE_SAT);
    const unsigned char *xb = x->data;
    unsigned char *yb = y->data;
    for (int64_t e = 0; e < ny; e++) {
        int64_t so = 0;
        int ext = 0;
        for (int d = 0; d < r; d++) {
            int64_t s = src[d][pos[d]];
            if (s < 0) ext = 1;
            else so += s * xs[d];
        }
        memcpy(yb + (size_t)e * es, ext ? fill : xb + (size_t)so * es, es);
        for (int d = r - 1; d >= 0; d--) {
            if (++pos[d] < y->dims[d]) break;
            pos[d] = 0;
        }
    }
    free(tab);
    return 0;
}

/* Linear / cubic: one pass per resampled axis over double buffers. */
static int resize_interp(RtCtx *ctx, const RtResizeParams *p, const RtTensor *x, RtTensor *y) {
    int r = p->rank;
    int64_t dims[RT_IMG_MAX_RANK], nx = img_span(x, 0, r), maxbuf = nx, maxtab = 1;
    for (int d = 0; d < r; d++) dims[d] = x->dims[d];
    for (int k = 0; k < p->naxes; k++) {
        int a = p->axes[k];
        dims[a] = y->dims[a];
        int64_t sz = 1, first;
        for (int d = 0; d < r; d++) {
            if (dims[d] && sz > ((int64_t)1 << 40) / dims[d]) sz = (int64_t)1 << 40;
            sz *= dims[d];
        }
        int64_t n = resize_taps(p, a, &first), t = n * (y->dims[a] + 1);
        if (n > ((int64_t)1 << 24) || t > ((int64_t)1 << 28) || sz >= ((int64_t)1 << 40))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: filter or tensor too large");
        if (sz > maxbuf) maxbuf = sz;
        if (t > maxtab) maxtab = t;
    }
    double *b0 = malloc((size_t)(maxbuf + 1) * sizeof(double));
    double *b1 = malloc((size_t)(maxbuf + 1) * sizeof(double));
    double *w = malloc((size_t)maxtab * sizeof(double));
    int64_t *ix = malloc((size_t)maxtab * sizeof(int64_t));
    if (!b0 || !b1 || !w || !ix) {
        free(b0); free(b1); free(w); free(ix);
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "Resize: out of memory");
    }
    for (int64_t e = 0; e < nx; e++) b0[e] = rt_load_f64_at(x->data, x->dtype, e);
    for (int d = 0; d < r; d++) dims[d] = x->dims[d];
    for (int k = 0; k < p->naxes; k++) {
        int a = p->axes[k];
        int64_t inw = dims[a], outw = y->dims[a], first;
        int64_t n = resize_taps(p, a, &first);
        int64_t outer = 1, inner = 1;
        for (int d = 0; d < a; d++) outer *= dims[d];
        for (int d = a + 1; d < r; d++) inner *= dims[d];
        for (int64_t j = 0; j < outw; j++) {
            int ex;
            double xo = resize_coord(p, a, j, inw, outw, &ex), rr;
            if (!(xo > -4e18 && xo < 4e18)) xo = xo > 0 ? 4e18 : -4e18;
            int64_t bb = resize_split(xo, &rr);
            double *wj = w + j * n;
            int64_t *ij = ix + j * n;
            resize_coeffs(p, a, rr, n, first, wj);
            double sum = 0.0;
            for (int64_t t = 0; t < n; t++) {
                int64_t q = bb + first + t;
                if (p->exclude_outside && (q < 0 || q >= inw)) wj[t] = 0.0;
                sum += wj[t];
                ij[t] = q < 0 ? 0 : q >= inw ? inw - 1 : q;
            }
            if (p->exclude_outside)
                for (int64_t t = 0; t < n; t++) wj[t] /= sum != 0.0 ? sum : 1.0;
            if (ex) ij[0] = -1;
        }
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < outw; j++) {
                const double *wj = w + j * n;
                const int64_t *ij = ix + j * n;
                const double *src = b0 + o * inw * inner;
                double *dst = b1 + (o * outw + j) * inner;
                if (ij[0] < 0) {
                    for (int64_t i = 0; i < inner; i++) dst[i] = p->extrapolation;
                    continue;
                }
                for (int64_t i = 0; i < inner; i++) {
                    double acc = 0.0;
                    for (int64_t t = 0; t < n; t++) acc += wj[t] * src[ij[t] * inner + i];
                    dst[i] = acc;
                }
            }
        dims[a] = outw;
        double *tmp = b0;
        b0 = b1;
        b1 = tmp;
    }
    int64_t ny = img_span(y, 0, r);
    for (int64_t e = 0; e < ny; e++) rt_store_f64_at(y->data, y->dtype, e, b0[e], RT_STORE_SAT);
    free(b0); free(b1); free(w); free(ix);
    return 0;
}

/* Run-time scales/sizes (p->runtime != 0): fills lp from their values, in the order of the
 * compile-time axes, checks Y's dims and drops identity axes. */
static int resize_runtime(RtCtx *ctx, const RtResizeParams *p, const RtTensor *in, int nin,
                          const RtTensor *y, RtResizeParams *lp) {
    *lp = *p;
    int mode = p->runtime & 7, slot = mode >= 3 ? 3 : mode, na = p->naxes, r = p->rank;
    const RtTensor *x = &in[0];
    if (p->runtime & 8) { /* roi at run time (tf_crop_and_resize) */
        if (!img_present(in, nin, 1) || in[1].rank != 1 || in[1].dims[0] != 2 * na || na > r)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: roi must have %d values", 2 * na);
        for (int i = 0; i < na; i++) {
            int a = p->axes[i];
            if (a < 0 || a >= r) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: bad axis");
            lp->roi_start[a] = rt_load_f64_at(in[1].data, in[1].dtype, i);
            lp->roi_end[a] = rt_load_f64_at(in[1].data, in[1].dtype, na + i);
        }
        if (!mode) return 0;
    }
    if (!img_present(in, nin, slot) || in[slot].rank != 1 || in[slot].dims[0] != na ||
        na < 1 || na > r || x->rank != r || y->rank != r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: scales/sizes must have %d values", na);
    double k = mode == 4 ? 1e300 : -1e300;
    for (int i = 0; i < na; i++) {
        int a = p->axes[i];
        if (a < 0 || a >= r) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: bad axis");
        double v = rt_load_f64_at(in[slot].data, in[slot].dtype, i), s = v / (double)x->dims[a];
        if (mode == 4 && s < k) k = s;
        if (mode == 5 && s > k) k = s;
    }
    lp->naxes = 0;
    for (int i = 0; i < na; i++) {
        int a = p->axes[i];
        double v = rt_load_f64_at(in[slot].data, in[slot].dtype, i), in_d = (double)x->dims[a];
        int64_t o;
        if (mode < 3) {
            if (!(v > 0.0) || v > 1e9) return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Resize: bad scale");
            lp->scale[a] = v;
            if (!(v * in_d < 1e15)) return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Resize: bad scale");
            o = (int64_t)__builtin_floor(v * in_d);
        } else if (mode == 3) {
            if (!(v >= 0.0 && v < 1e15)) return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Resize: bad sizes");
            o = (int64_t)v;
            lp->scale[a] = in_d > 0 ? v / in_d : 1.0;
        } else {
            if (!(k > 0.0) || k > 1e9 || !(k * in_d < 1e15))
                return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Resize: bad sizes");
            lp->scale[a] = k;
            o = (int64_t)(k * in_d + 0.5);
        }
        if (o != y->dims[a])
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "Resize: the run-time scales/sizes give %lld along dim %d, the model "
                           "declared %lld", (long long)o, a, (long long)y->dims[a]);
        double dl = lp->scale[a] - 1.0;
        if (!(dl < 1e-9 && dl > -1e-9 && o == x->dims[a] && p->coord != RT_RESIZE_TF_CROP))
            lp->axes[lp->naxes++] = a;
    }
    return 0;
}

int rt_k_resize(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtResizeParams *p = params;
    if (!p || nin < 1 || nout < 1 || !in[0].data || !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Resize: expected params, X and Y");
    RtResizeParams lp;
    if (p->runtime) {
        int rc = resize_runtime(ctx, p, in, nin, &out[0], &lp);
        if (rc) return rc;
        p = &lp;
    }
    const RtTensor *x = &in[0];
    RtTensor *y = &out[0];
    int r = p->rank;
    if (r < 0 || r > RT_IMG_MAX_RANK || x->rank != r || y->rank != r || x->dtype != y->dtype ||
        p->naxes < 0 || p->naxes > r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: rank or type mismatch");
    for (int d = 0; d < r; d++) {
        int resampled = 0;
        for (int k = 0; k < p->naxes; k++) {
            if (p->axes[k] < 0 || p->axes[k] >= r)
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: bad axis");
            resampled |= p->axes[k] == d;
        }
        if (x->dims[d] < 0 || y->dims[d] < 0 || (!resampled && x->dims[d] != y->dims[d]) ||
            (resampled && !(p->scale[d] > 0.0)))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: dim %d is %lld in X and %lld in Y", d,
                           (long long)x->dims[d], (long long)y->dims[d]);
    }
    int64_t nx = img_span(x, 0, r), ny = img_span(y, 0, r);
    if (nx < 0 || ny < 0) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: invalid dims");
    if (ny == 0) return 0;
    if (nx == 0) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Resize: empty input, non-empty output");
    if (p->mode == RT_RESIZE_NEAREST) return resize_gather(ctx, p, x, y);
    if (x->dtype == 8) return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Resize: strings need nearest");
    return resize_interp(ctx, p, x, y);
}

/* ---------------------------------------------------------------- QuantizeLinear / Dequantize */

/* Quantization geometry: x viewed as [outer, D, inner] around the axis; the scale index of
 * element (o, a, i) is o*mo + (a / blk)*ma + i*mi. */
typedef struct QGeo {
    int64_t outer, dlen, inner, mo, ma, mi, blk;
} QGeo;

static int qgeo_init(RtCtx *ctx, const RtQuantParams *p, const RtTensor *x, const RtTensor *s,
                     const RtTensor *zp, QGeo *g, const char *what) {
    int64_t nx = img_span(x, 0, x->rank), ns = img_span(s, 0, s->rank);
    memset(g, 0, sizeof *g);
    g->outer = 1;
    g->dlen = nx;
    g->inner = 1;
    g->blk = 1;
    if (nx < 0 || ns < 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: invalid x or scale", what);
    if (zp && img_span(zp, 0, zp->rank) != ns)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: zero point and scale differ in size", what);
    if (ns == 1 && p->block <= 0) return 0; /* per tensor */
    int ax = p->axis;
    if (ax < 0 || ax >= x->rank) return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad axis", what);
    g->outer = img_span(x, 0, ax);
    g->dlen = x->dims[ax];
    g->inner = img_span(x, ax + 1, x->rank);
    if (p->block <= 0) {
        if (s->rank != 1 || ns != g->dlen)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: per-axis scale must have %lld elements",
                           what, (long long)g->dlen);
        g->ma = 1;
        return 0;
    }
    if (s->rank != x->rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: blocked scale must have x's rank", what);
    int64_t sa = s->dims[ax], b = p->block;
    for (int i = 0; i < x->rank; i++)
        if (i != ax && s->dims[i] != x->dims[i])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: blocked scale shape mismatch", what);
    if (sa < 1 || (g->dlen + b - 1) / b != sa)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: %lld blocks of %lld do not cover %lld", what,
                       (long long)sa, (long long)b, (long long)g->dlen);
    g->blk = b;
    g->mi = 1;
    g->ma = g->inner;
    g->mo = sa * g->inner;
    return 0;
}

int rt_k_quantize_linear(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                         RtTensor *out, int nout) {
    const RtQuantParams *p = params;
    if (!p || nin < 2 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 1) ||
        !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "QuantizeLinear: expected x, y_scale, y");
    const RtTensor *x = &in[0], *s = &in[1], *zp = img_present(in, nin, 2) ? &in[2] : NULL;
    RtTensor *y = &out[0];
    int32_t yt = y->dtype;
    QGeo g;
    int rc = qgeo_init(ctx, p, x, s, zp, &g, "QuantizeLinear");
    if (rc) return rc;
    if (img_span(y, 0, y->rank) != img_span(x, 0, x->rank) || (zp && zp->dtype != yt))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "QuantizeLinear: y does not match x / zero point");
    double lo, hi;
    int is_int = rt_int_range(yt, &lo, &hi);
    const RtFpFormat *f = rt_fp_format(yt);
    if (!is_int && !f) return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "QuantizeLinear: bad type");
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t a = 0; a < g.dlen; a++)
            for (int64_t i = 0; i < g.inner; i++) {
                int64_t e = (o * g.dlen + a) * g.inner + i;
                int64_t si = o * g.mo + (a / g.blk) * g.ma + i * g.mi;
                double xv = rt_load_f64_at(x->data, x->dtype, e),
                       sv = rt_load_f64_at(s->data, s->dtype, si);
                double q;
                switch (p->precision) {
                case 1: q = (float)xv / (float)sv; break;
                case 10: q = rt_h2f(rt_f2h((float)xv / (float)sv)); break;
                case 16: q = rt_bf2f(rt_f2bf((float)xv / (float)sv)); break;
                default: q = xv / sv; break;
                }
                double z = zp ? rt_load_f64_at(zp->data, yt, si) : 0.0;
                if (is_int) {
                    q = q != q ? 0.0 : rt_round_half_even(q);
                    q = q < -2147483648.0 ? -2147483648.0 : q > 2147483647.0 ? 2147483647.0 : q;
                    rt_store_f64_at(y->data, yt, e, q + z, RT_STORE_SAT);
                } else {
                    if (z != 0.0 || yt == 23) q += z;
                    ((uint8_t *)y->data)[e] = (uint8_t)rt_fp_encode(q, f, yt == 23 || p->saturate);
                }
            }
    return 0;
}

int rt_k_dequantize_linear(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                           RtTensor *out, int nout) {
    const RtQuantParams *p = params;
    if (!p || nin < 2 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 1) ||
        !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "DequantizeLinear: expected x, x_scale, y");
    const RtTensor *x = &in[0], *s = &in[1], *zp = img_present(in, nin, 2) ? &in[2] : NULL;
    RtTensor *y = &out[0];
    QGeo g;
    int rc = qgeo_init(ctx, p, x, s, zp, &g, "DequantizeLinear");
    if (rc) return rc;
    if (img_span(y, 0, y->rank) != img_span(x, 0, x->rank) || (zp && zp->dtype != x->dtype))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "DequantizeLinear: y does not match x / zero point");
    double lo, hi;
    if (!rt_int_range(x->dtype, &lo, &hi)) zp = NULL; /* float8/float4: no zero point */
    for (int64_t o = 0; o < g.outer; o++)
        for (int64_t a = 0; a < g.dlen; a++)
            for (int64_t i = 0; i < g.inner; i++) {
                int64_t e = (o * g.dlen + a) * g.inner + i;
                int64_t si = o * g.mo + (a / g.blk) * g.ma + i * g.mi;
                float xv = (float)rt_load_f64_at(x->data, x->dtype, e);
                if (zp) xv -= (float)rt_load_f64_at(zp->data, zp->dtype, si);
                float v = xv * (float)rt_load_f64_at(s->data, s->dtype, si);
                switch (y->dtype) {
                case 10: ((uint16_t *)y->data)[e] = rt_f2h(v); break;
                case 16: ((uint16_t *)y->data)[e] = rt_f2bf(v); break;
                case 11: ((double *)y->data)[e] = v; break;
                default: ((float *)y->data)[e] = v; break;
                }
            }
    return 0;
}

int rt_k_dynamic_quantize_linear(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                                 RtTensor *out, int nout) {
    (void)params;
    if (nin < 1 || nout < 3 || !img_present(in, nin, 0) || in[0].dtype != 1 || !out[0].data ||
        !out[1].data || !out[2].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG,
                       "DynamicQuantizeLinear: expected float x and outputs y, scale, zero point");
    int64_t n = img_span(&in[0], 0, in[0].rank);
    if (n < 0 || img_span(&out[0], 0, out[0].rank) != n)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "DynamicQuantizeLinear: y does not match x");
    const float *x = in[0].data;
    float mx = 0.0f, mn = 0.0f;
    for (int64_t i = 0; i < n; i++) {
        if (x[i] > mx) mx = x[i];
        if (x[i] < mn) mn = x[i];
    }
    float scale = (mx == mn ? 1.0f : mx - mn) / 255.0f;
    float zp = 0.0f - mn / scale;
    zp = zp < 0.0f ? 0.0f : zp > 255.0f ? 255.0f : zp;
    double zpi = rt_round_half_even(zp);
    uint8_t *y = out[0].data;
    for (int64_t i = 0; i < n; i++) {
        double q = (float)(x[i] / scale);
        q = q != q ? 0.0 : rt_round_half_even(q) + zpi;
        y[i] = (uint8_t)(q < 0.0 ? 0.0 : q > 255.0 ? 255.0 : q);
    }
    *(float *)out[1].data = scale;
    *(uint8_t *)out[2].data = (uint8_t)zpi;
    return 0;
}

/* ----------------------------------------------------------------------------- ConvTranspose */

/* Scatter of one column matrix (rows (m, k), columns input positions) into the output channels
 * of one group: y[m][i * s + k * d - pb] += col[(m, k)][i]. */
#define DEFINE_COL2IM(T, NAME)                                                                   \
    static void NAME(const RtConvTransposeParams *p, const int64_t *xin, const int64_t *yo,      \
                     const int64_t *kd, int64_t mg, int64_t ksz, int64_t isz, int64_t osz,       \
                     const T *col, T *y) {                                                       \
        int ns = p->nspatial;                                                                    \
        int64_t kp[RT_IMG_MAX_RANK], ip[RT_IMG_MAX_RANK];                                        \
        for (int64_t m = 0; m < mg; m++)                                                         \
            for (int64_t k = 0; k < ksz; k++) {                                                  \
                int64_t t = k;                                                                   \
                for (int i = ns - 1; i >= 0; i--) { kp[i] = t % kd[i]; t /= kd[i]; }             \
                const T *c = col + (m * ksz + k) * isz;                                          \
                for (int i = 0; i < ns; i++) ip[i] = 0;                                          \
                for (int64_t j = 0; j < isz; j++) {                                              \
                    int64_t off = 0;                                                             \
                    int inside = 1;                                                              \
                    for (int i = 0; i < ns; i++) {                                               \
                        int64_t o = ip[i] * p->stride[i] + kp[i] * p->dilation[i] -              \
                                    p->pad_begin[i];                                             \
                        inside &= o >= 0 && o < yo[i];                                           \
                        off = off * yo[i] + o;                                                   \
                    }                                                                            \
                    if (inside) y[m * osz + off] += c[j];                                        \
                    for (int i = ns - 1; i >= 0; i--) {                                          \
                        if (++ip[i] < xin[i]) break;                                             \
                        ip[i] = 0;                                                               \
                    }                                                                            \
                }                                                                                \
            }                                                                                    \
    }
DEFINE_COL2IM(float, col2im_f32)
DEFINE_COL2IM(double, col2im_f64)

/* Checks the tensors of ConvTranspose; fills sizes. */
static int convt_geo(RtCtx *ctx, const RtConvTransposeParams *p, const RtTensor *in, int nin,
                     const RtTensor *out, int nout, int64_t *g) {
    if (!p || nin < 2 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 1) ||
        !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ConvTranspose: expected X, W, Y");
    int ns = p->nspatial;
    const RtTensor *x = &in[0], *w = &in[1], *y = &out[0];
    if (ns < 1 || ns > RT_IMG_MAX_RANK || x->rank != ns + 2 || w->rank != ns + 2 ||
        y->rank != ns + 2 || p->group < 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvTranspose: rank mismatch");
    int64_t grp = p->group, c = x->dims[1], mg = w->dims[1];
    if (w->dims[0] != c || c % grp || y->dims[0] != x->dims[0] || y->dims[1] != mg * grp)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvTranspose: channel mismatch");
    for (int i = 0; i < ns; i++)
        if (p->stride[i] < 1 || p->dilation[i] < 1)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvTranspose: bad stride/dilation");
    if (img_present(in, nin, 2) && (in[2].rank != 1 || in[2].dims[0] != mg * grp))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvTranspose: bias must have M elements");
    g[0] = x->dims[0];
    g[1] = c;
    g[2] = mg;
    g[3] = img_span(w, 2, w->rank);
    g[4] = img_span(x, 2, x->rank);
    g[5] = img_span(y, 2, y->rank);
    for (int i = 0; i < 6; i++)
        if (g[i] < 0) return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvTranspose: invalid dims");
    if (g[2] * g[3] > ((int64_t)1 << 32) || g[4] > ((int64_t)1 << 32))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvTranspose: too large");
    return 0;
}

#define DEFINE_CONVT(T, NAME, COL2IM, GEMM)                                                      \
    int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,        \
             int nout) {                                                                         \
        const RtConvTransposeParams *p = params;                                                 \
        int64_t g[6];                                                                            \
        int rc = convt_geo(ctx, p, in, nin, out, nout, g);                                       \
        if (rc) return rc;                                                                       \
        int64_t grp = p->group, cg = g[1] / grp, mg = g[2], ksz = g[3], isz = g[4], osz = g[5];  \
        const T *x = in[0].data, *w = in[1].data;                                                \
        const T *b = img_present(in, nin, 2) ? in[2].data : NULL;                                \
        T *y = out[0].data;                                                                      \
        int64_t m = mg * grp;                                                                    \
        for (int64_t n = 0; n < g[0]; n++)                                                       \
            for (int64_t c = 0; c < m; c++)                                                      \
                for (int64_t o = 0; o < osz; o++) y[(n * m + c) * osz + o] = b ? b[c] : (T)0;    \
        if (!isz || !cg || !mg || !ksz) return 0;                                                \
        T *col = malloc((size_t)(mg * ksz * isz) * sizeof(T));                                   \
        if (!col) return rt_fail(ctx, ONNXC_ERR_NOMEM, "ConvTranspose: out of memory");            \
        for (int64_t n = 0; n < g[0]; n++)                                                       \
            for (int64_t gi = 0; gi < grp; gi++) {                                               \
                GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, (int)(mg * ksz), (int)isz,         \
                     (int)cg, 1, w + gi * cg * mg * ksz, (int)(mg * ksz),                        \
                     x + (n * g[1] + gi * cg) * isz, (int)isz, 0, col, (int)isz);                \
                COL2IM(p, in[0].dims + 2, out[0].dims + 2, in[1].dims + 2, mg, ksz, isz, osz,   \
                       col, y + (n * m + gi * mg) * osz);                                        \
            }                                                                                    \
        free(col);                                                                               \
        return 0;                                                                                \
    }
DEFINE_CONVT(float, rt_k_conv_transpose_f32, col2im_f32, cblas_sgemm)
DEFINE_CONVT(double, rt_k_conv_transpose_f64, col2im_f64, cblas_dgemm)

/* ----------------------------------------------------------------- integer matmul and conv */

/* int8/uint8 (or 16-bit) element as int32. */
static inline int32_t img_q(const void *p, int32_t dt, int64_t i) {
    switch (dt) {
    case 3: return ((const int8_t *)p)[i];
    case 4: return ((const uint16_t *)p)[i];
    case 5: return ((const int16_t *)p)[i];
    case 6: return ((const int32_t *)p)[i];
    default: return ((const uint8_t *)p)[i];
    }
}

/* Zero point / scale element k of an optional tensor with 1 or more elements (0 / 1 absent). */
static double img_param(const RtTensor *t, int64_t k, double dflt) {
    if (!t) return dflt;
    int64_t n = img_span(t, 0, t->rank);
    return rt_load_f64_at(t->data, t->dtype, n > 1 ? k : 0);
}

/* Requantisation multiplier a * b / c rounded like the scales' type (float32, float16). */
static double img_mult(double a, double b, double c, int32_t dt) {
    if (dt == 10) {
        float ab = rt_h2f(rt_f2h((float)(a * b)));
        return rt_h2f(rt_f2h(ab / (float)c));
    }
    if (dt == 16) {
        float ab = rt_bf2f(rt_f2bf((float)(a * b)));
        return rt_bf2f(rt_f2bf(ab / (float)c));
    }
    if (dt == 11) return a * b / c;
    return (float)((float)((float)a * (float)b) / (float)c);
}

/* Batched integer matmul with numpy broadcasting of the batch dims: acc[..., M, N] =
 * sum_k (A - azp[m]) * (B - bzp[n]). A and B have rank >= 2 (the compiler promotes 1-D). */
static int img_matmul_acc(RtCtx *ctx, const RtTensor *a0, const RtTensor *azp,
                          const RtTensor *b0, const RtTensor *bzp, const RtTensor *y0,
                          int32_t *acc) {
    /* 1-D operands as numpy: A [K] -> [1, K], B [K] -> [K, 1], the added dim absent in Y */
    RtTensor av1 = *a0, bv1 = *b0, yv1 = *y0;
    int64_t ad[2], bd[2], yd[17];
    if (a0->rank == 1 || b0->rank == 1) {
        int ry0 = y0->rank, t = (a0->rank >= 2) + (b0->rank >= 2), k = 0;
        if (ry0 < t || ry0 > 15) return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMulInteger: rank");
        for (int i = 0; i < ry0 - t; i++) yd[k++] = y0->dims[i];
        yd[k++] = a0->rank == 1 ? 1 : y0->dims[ry0 - t];
        yd[k++] = b0->rank == 1 ? 1 : y0->dims[ry0 - 1];
        if (a0->rank == 1) {
            ad[0] = 1;
            ad[1] = a0->dims[0];
            av1.dims = ad;
            av1.rank = 2;
        }
        if (b0->rank == 1) {
            bd[0] = b0->dims[0];
            bd[1] = 1;
            bv1.dims = bd;
            bv1.rank = 2;
        }
        yv1.dims = yd;
        yv1.rank = k;
    }
    const RtTensor *a = &av1, *b = &bv1, *y = &yv1;
    int ra = a->rank, rb = b->rank, ry = y->rank;
    if (ra < 2 || rb < 2 || ry < 2 || ry > 16 || ra > ry || rb > ry)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMulInteger: ranks %d, %d -> %d", ra, rb, ry);
    int64_t m = a->dims[ra - 2], k = a->dims[ra - 1], n = b->dims[rb - 1];
    if (b->dims[rb - 2] != k || y->dims[ry - 2] != m || y->dims[ry - 1] != n)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMulInteger: inner dims do not match");
    int64_t batch = img_span(y, 0, ry - 2), sa[16], sb[16], ia = m * k, ib = k * n;
    for (int d = ry - 3; d >= 0; d--) {
        int da = d - (ry - ra), db = d - (ry - rb);
        int64_t ea = da >= 0 ? a->dims[da] : 1, eb = db >= 0 ? b->dims[db] : 1;
        if ((ea != 1 && ea != y->dims[d]) || (eb != 1 && eb != y->dims[d]))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMulInteger: batch dims do not broadcast");
        sa[d] = ea == 1 ? 0 : ia;
        sb[d] = eb == 1 ? 0 : ib;
        ia *= ea;
        ib *= eb;
    }
    int64_t azn = azp ? img_span(azp, 0, azp->rank) : 1, bzn = bzp ? img_span(bzp, 0, bzp->rank) : 1;
    if ((azn != 1 && azn != m) || (bzn != 1 && bzn != n))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMulInteger: zero point sizes");
    for (int64_t bt = 0; bt < batch; bt++) {
        int64_t oa = 0, ob = 0, t = bt;
        for (int d = ry - 3; d >= 0; d--) {
            int64_t id = t % y->dims[d];
            t /= y->dims[d];
            oa += id * sa[d];
            ob += id * sb[d];
        }
        int32_t *c = acc + bt * m * n;
        for (int64_t i = 0; i < m; i++) {
            int32_t za = azp ? img_q(azp->data, azp->dtype, azn > 1 ? i : 0) : 0;
            for (int64_t j = 0; j < n; j++) c[i * n + j] = 0;
            for (int64_t kk = 0; kk < k; kk++) {
                int32_t av = img_q(a->data, a->dtype, oa + i * k + kk) - za;
                for (int64_t j = 0; j < n; j++) {
                    int32_t zb = bzp ? img_q(bzp->data, bzp->dtype, bzn > 1 ? j : 0) : 0;
                    int32_t bv = img_q(b->data, b->dtype, ob + kk * n + j) - zb;
                    /* wraps like the reference's int32 on overflow (no signed overflow in C) */
                    c[i * n + j] = (int32_t)((uint32_t)c[i * n + j] + (uint32_t)av * (uint32_t)bv);
                }
            }
        }
    }
    return 0;
}

int rt_k_matmul_integer(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                        RtTensor *out, int nout) {
    (void)params;
    if (nin < 2 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 1) ||
        !out[0].data || out[0].dtype != 6)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "MatMulInteger: expected A, B, int32 Y");
    return img_matmul_acc(ctx, &in[0], img_present(in, nin, 2) ? &in[2] : NULL, &in[1],
                          img_present(in, nin, 3) ? &in[3] : NULL, &out[0], out[0].data);
}

/* Writes acc * mult[k] + zp[k] rounded half to even and clipped to y's type. */
static void img_requant(RtTensor *y, int64_t e, double v) {
    rt_store_f64_at(y->data, y->dtype, e, v, RT_STORE_SAT);
}

int rt_k_qlinear_matmul(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                        RtTensor *out, int nout) {
    (void)params;
    if (nin < 8 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 3) ||
        !img_present(in, nin, 1) || !img_present(in, nin, 4) || !img_present(in, nin, 6) ||
        !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "QLinearMatMul: expected 8 inputs");
    RtTensor *y = &out[0];
    int64_t ny = img_span(y, 0, y->rank);
    if (ny < 0) return rt_fail(ctx, ONNXC_ERR_SHAPE, "QLinearMatMul: invalid dims");
    int32_t *acc = malloc((size_t)(ny + 1) * sizeof(int32_t));
    if (!acc) return rt_fail(ctx, ONNXC_ERR_NOMEM, "QLinearMatMul: out of memory");
    const RtTensor *azp = img_present(in, nin, 2) ? &in[2] : NULL;
    const RtTensor *bzp = img_present(in, nin, 5) ? &in[5] : NULL;
    const RtTensor *yzp = img_present(in, nin, 7) ? &in[7] : NULL;
    int rc = img_matmul_acc(ctx, &in[0], azp, &in[3], bzp, y, acc);
    if (!rc) {
        int64_t m = in[0].rank >= 2 ? in[0].dims[in[0].rank - 2] : 1;
        int64_t n = in[3].rank >= 2 ? in[3].dims[in[3].rank - 1] : 1;
        int64_t na = img_span(&in[1], 0, in[1].rank), nb = img_span(&in[4], 0, in[4].rank);
        for (int64_t e = 0; e < ny; e++) {
            int64_t j = n ? e % n : 0, i = n ? (e / n) % (m ? m : 1) : 0;
            double mult = img_mult(rt_load_f64_at(in[1].data, in[1].dtype, na > 1 ? i : 0),
                                   rt_load_f64_at(in[4].data, in[4].dtype, nb > 1 ? j : 0),
                                   img_param(&in[6], 0, 1.0), in[1].dtype);
            img_requant(y, e, (double)acc[e] * mult + img_param(yzp, 0, 0.0));
        }
    }
    free(acc);
    return rc;
}

/* Integer direct convolution: acc[n, m, o] = sum (x - xzp) * (w - wzp[m]) over the window. */
static int img_conv_acc(RtCtx *ctx, const RtConvIntParams *p, const RtTensor *x,
                        const RtTensor *xzp, const RtTensor *w, const RtTensor *wzp,
                        const RtTensor *y, int32_t *acc) {
    int ns = p->nspatial;
    if (ns < 1 || ns > RT_IMG_MAX_RANK || x->rank != ns + 2 || w->rank != ns + 2 ||
        y->rank != ns + 2 || p->group < 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvInteger: rank mismatch");
    int64_t grp = p->group, nb = x->dims[0], c = x->dims[1], m = w->dims[0];
    int64_t cg = w->dims[1];
    if (cg * grp != c || m % grp || y->dims[0] != nb || y->dims[1] != m)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvInteger: channel mismatch");
    for (int i = 0; i < ns; i++)
        if (w->dims[2 + i] != p->kernel[i] || p->stride[i] < 1 || p->dilation[i] < 1)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvInteger: parameters do not match W");
    int64_t isz = img_span(x, 2, x->rank), osz = img_span(y, 2, y->rank), ksz = img_span(w, 2, w->rank);
    int64_t nwz = wzp ? img_span(wzp, 0, wzp->rank) : 1;
    if (isz < 0 || osz < 0 || ksz < 0 || (nwz != 1 && nwz != m))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvInteger: invalid dims");
    int32_t zx = xzp ? img_q(xzp->data, xzp->dtype, 0) : 0;
    int64_t mg = m / grp, op[RT_IMG_MAX_RANK], kp[RT_IMG_MAX_RANK];
    for (int64_t n = 0; n < nb; n++)
        for (int64_t mm = 0; mm < m; mm++) {
            int32_t zw = wzp ? img_q(wzp->data, wzp->dtype, nwz > 1 ? mm : 0) : 0;
            int64_t g0 = (mm / mg) * cg;
            for (int64_t o = 0; o < osz; o++) {
                int64_t t = o;
                for (int i = ns - 1; i >= 0; i--) { op[i] = t % y->dims[2 + i]; t /= y->dims[2 + i]; }
                uint32_t s = 0; /* wraps like the reference's int32 */
                for (int64_t kk = 0; kk < ksz; kk++) {
                    int64_t u = kk, off = 0;
                    int inside = 1;
                    for (int i = ns - 1; i >= 0; i--) { kp[i] = u % p->kernel[i]; u /= p->kernel[i]; }
                    for (int i = 0; i < ns && inside; i++) {
                        int64_t pos = op[i] * p->stride[i] - p->pad_begin[i] + kp[i] * p->dilation[i];
                        inside = pos >= 0 && pos < x->dims[2 + i];
                        off = off * x->dims[2 + i] + pos;
                    }
                    if (!inside) continue;
                    for (int64_t ci = 0; ci < cg; ci++)
                        s += (uint32_t)(img_q(x->data, x->dtype, (n * c + g0 + ci) * isz + off) -
                                        zx) *
                             (uint32_t)(img_q(w->data, w->dtype, (mm * cg + ci) * ksz + kk) - zw);
                }
                acc[(n * m + mm) * osz + o] = (int32_t)s;
            }
        }
    return 0;
}

int rt_k_conv_integer(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    if (!params || nin < 2 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 1) ||
        !out[0].data || out[0].dtype != 6)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ConvInteger: expected X, W, int32 Y");
    return img_conv_acc(ctx, params, &in[0], img_present(in, nin, 2) ? &in[2] : NULL, &in[1],
                        img_present(in, nin, 3) ? &in[3] : NULL, &out[0], out[0].data);
}

int rt_k_qlinear_conv(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    if (!params || nin < 8 || nout < 1 || !img_present(in, nin, 0) || !img_present(in, nin, 1) ||
        !img_present(in, nin, 3) || !img_present(in, nin, 4) || !img_present(in, nin, 6) ||
        !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "QLinearConv: expected 8 or 9 inputs");
    RtTensor *y = &out[0];
    int64_t ny = img_span(y, 0, y->rank);
    if (ny < 0 || y->rank < 3) return rt_fail(ctx, ONNXC_ERR_SHAPE, "QLinearConv: invalid dims");
    int32_t *acc = malloc((size_t)(ny + 1) * sizeof(int32_t));
    if (!acc) return rt_fail(ctx, ONNXC_ERR_NOMEM, "QLinearConv: out of memory");
    const RtTensor *xzp = img_present(in, nin, 2) ? &in[2] : NULL;
    const RtTensor *wzp = img_present(in, nin, 5) ? &in[5] : NULL;
    const RtTensor *yzp = img_present(in, nin, 7) ? &in[7] : NULL;
    const RtTensor *bias = img_present(in, nin, 8) ? &in[8] : NULL;
    int rc = img_conv_acc(ctx, params, &in[0], xzp, &in[3], wzp, y, acc);
    int64_t m = y->dims[1], osz = img_span(y, 2, y->rank);
    int64_t nws = img_span(&in[4], 0, in[4].rank);
    if (!rc && ((nws != 1 && nws != m) ||
                (bias && (bias->dtype != 6 || img_span(bias, 0, bias->rank) != m))))
        rc = rt_fail(ctx, ONNXC_ERR_SHAPE, "QLinearConv: w_scale or bias size");
    if (!rc)
        for (int64_t e = 0; e < ny; e++) {
            int64_t ch = osz ? (e / osz) % m : 0;
            int32_t a = (int32_t)((uint32_t)acc[e] +
                                  (uint32_t)(bias ? ((const int32_t *)bias->data)[ch] : 0));
            double mult = img_mult(img_param(&in[1], 0, 1.0),
                                   rt_load_f64_at(in[4].data, in[4].dtype, nws > 1 ? ch : 0),
                                   img_param(&in[6], 0, 1.0), in[1].dtype);
            img_requant(y, e, (double)a * mult + img_param(yzp, 0, 0.0));
        }
    free(acc);
    return rc;
}

/* float16 / bfloat16 ConvTranspose: float32 on widened copies, rounded back. */
static int convt_half(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout, int bf) {
    if (nin < 2 || nout < 1 || nin > 3 || !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ConvTranspose: expected X, W, Y");
    RtTensor fin[3], fout = out[0];
    float *buf[4] = {NULL, NULL, NULL, NULL};
    int rc = 0;
    for (int i = 0; i <= nin && !rc; i++) {
        const RtTensor *t = i < nin ? &in[i] : &out[0];
        if (i < nin) fin[i] = *t;
        if (t->rank < 0 || !t->data) continue;
        int64_t n = img_span(t, 0, t->rank);
        if (n < 0 || !(buf[i] = malloc((size_t)(n + 1) * sizeof(float)))) {
            rc = rt_fail(ctx, ONNXC_ERR_NOMEM, "ConvTranspose: out of memory");
            break;
        }
        if (i < nin) {
            for (int64_t k = 0; k < n; k++)
                buf[i][k] = (float)rt_load_f64_at(t->data, t->dtype, k);
            fin[i].data = buf[i];
            fin[i].dtype = 1;
        } else {
            fout.data = buf[i];
            fout.dtype = 1;
        }
    }
    if (!rc) rc = rt_k_conv_transpose_f32(ctx, params, fin, nin, &fout, 1);
    if (!rc) {
        int64_t n = img_span(&out[0], 0, out[0].rank);
        for (int64_t k = 0; k < n; k++)
            ((uint16_t *)out[0].data)[k] = bf ? rt_f2bf(buf[nin][k]) : rt_f2h(buf[nin][k]);
    }
    for (int i = 0; i < 4; i++) free(buf[i]);
    return rc;
}

int rt_k_conv_transpose_f16(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                            RtTensor *out, int nout) {
    return convt_half(ctx, params, in, nin, out, nout, 0);
}

int rt_k_conv_transpose_bf16(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                             RtTensor *out, int nout) {
    return convt_half(ctx, params, in, nin, out, nout, 1);
}
