/* rt_signal.c - kernels of the signal family (ops/op_signal.c, parameter blocks in
 * runtime/rt_params_signal.h). ONNX docs/Operators.md, sections DFT (17, 20), STFT (17),
 * HannWindow, HammingWindow, BlackmanWindow, MelWeightMatrix (17), CumProd (26), Det (11, 22),
 * BitCast (26), TensorScatter (24), ReverseSequence (10).
 *
 * Numerics: the transforms are computed in double whatever the element type and rounded once
 * to the output type. The DFT is evaluated directly from its definition,
 *   y[k] = sum_n x[n] exp(-+2 pi i k n / L)   (inverse: divided by L),
 * with a table of the L twiddle factors and the exponent index k*n reduced modulo L exactly, so
 * the error does not grow with k (O(L^2) per transform; the operators' sizes in practice are
 * frame lengths of a few hundred). The inverse onesided transform (IRFFT) first completes the
 * Hermitian spectrum X[L - k] = conj(X[k]) and keeps the real part, which is numpy's irfft
 * (the imaginary parts of bins 0 and L/2 are ignored).
 * Det uses LU decomposition with partial pivoting in double. CumProd multiplies in double for
 * float types and in wrapping unsigned 64-bit arithmetic for integers.
 * Values that decide a shape (sizes, axes, lengths) arrive as tensors and are read at run
 * time; the output's compiled dims must equal what they give (ONNXC_ERR_SHAPE otherwise).
 * Scratch memory (twiddles, frames, LU copies) is malloc'ed per call and freed before return.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

#define SIG_PI 3.14159265358979323846

/* ---------------------------------------------------------------- element access */

static int sig_is_float(int32_t dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

static int sig_is_int(int32_t dt) {
    return dt == IR_DT_INT8 || dt == IR_DT_INT16 || dt == IR_DT_INT32 || dt == IR_DT_INT64 ||
           dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 || dt == IR_DT_UINT64;
}

/* Reads a present scalar (or one-element) int32/int64 tensor; 0, or -1 if absent/bad. */
static int sig_int_scalar(const RtTensor *t, int64_t *v) {
    if (!t || t->rank < 0 || !t->data || rt_numel(t) != 1) return -1;
    if (t->dtype == IR_DT_INT64) *v = *(const int64_t *)t->data;
    else if (t->dtype == IR_DT_INT32) *v = *(const int32_t *)t->data;
    else return -1;
    return 0;
}

/* Reads a present one-element float tensor as double; 0, or -1 if absent/bad. */
static int sig_float_scalar(const RtTensor *t, double *v) {
    if (!t || t->rank < 0 || !t->data || rt_numel(t) != 1 || !sig_is_float(t->dtype)) return -1;
    *v = rt_load_f64(t, 0);
    return 0;
}

/* 1 if t has rank r and dims d. */
static int sig_dims_are(const RtTensor *t, int r, const int64_t *d) {
    if (t->rank != r) return 0;
    for (int i = 0; i < r; i++)
        if (t->dims[i] != d[i]) return 0;
    return 1;
}

/* Formats dims into buf for messages. */
static const char *sig_dims_str(char *buf, size_t cap, int r, const int64_t *d) {
    size_t k = 0;
    buf[0] = 0;
    for (int i = 0; i < r && k + 24 < cap; i++) {
        int64_t v = d[i];
        char tmp[24];
        int m = 0;
        int neg = v < 0;
        uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
        do {
            tmp[m++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (i) buf[k++] = 'x';
        if (neg) buf[k++] = '-';
        while (m) buf[k++] = tmp[--m];
        buf[k] = 0;
    }
    if (r == 0 && cap > 7) memcpy(buf, "scalar", 7);
    return buf;
}

/* Checks that the output has dims d (rank r); ONNXC_ERR_SHAPE with both shapes otherwise. */
static int sig_check_out(RtCtx *ctx, const char *op, const RtTensor *out, int r,
                         const int64_t *d) {
    if (sig_dims_are(out, r, d) && (rt_numel(out) == 0 || out->data)) return 0;
    char a[160], b[160];
    return rt_fail(ctx, ONNXC_ERR_SHAPE,
                   "%s: the inputs give an output of shape %s, but it was compiled as %s", op,
                   sig_dims_str(a, sizeof a, r, d),
                   sig_dims_str(b, sizeof b, out->rank, out->dims));
}

/* malloc of n doubles with overflow check; NULL if too large or out of memory. */
static double *sig_alloc_doubles(int64_t n) {
    if (n < 0 || (uint64_t)n > SIZE_MAX / sizeof(double) / 2) return NULL;
    return malloc((size_t)(n ? n : 1) * sizeof(double));
}

/* ---------------------------------------------------------------- DFT core */

/* Twiddle table: tw[2m], tw[2m+1] = cos, sin of 2 pi m / L for m in [0, L). */
static void sig_twiddles(double *tw, int64_t L) {
    for (int64_t m = 0; m < L; m++) {
        double a = 2.0 * SIG_PI * (double)m / (double)L;
        tw[2 * m] = cos(a);
        tw[2 * m + 1] = sin(a);
    }
}

/* y[k] (k < nk, interleaved re/im) = sum_{n < L} x[n] * exp(sign * 2 pi i k n / L), x
 * interleaved complex of length L. sign = -1 forward, +1 inverse (no scaling here). */
static void sig_dft(const double *x, double *y, int64_t L, int64_t nk, const double *tw,
                    int sign) {
    for (int64_t k = 0; k < nk; k++) {
        double re = 0, im = 0;
        int64_t step = L > 0 ? k % L : 0, m = 0;
        for (int64_t n = 0; n < L; n++) {
            double c = tw[2 * m], s = sign * tw[2 * m + 1];
            re += x[2 * n] * c - x[2 * n + 1] * s;
            im += x[2 * n] * s + x[2 * n + 1] * c;
            m += step;
            if (m >= L) m -= L;
        }
        y[2 * k] = re;
        y[2 * k + 1] = im;
    }
}

/* ---------------------------------------------------------------- DFT */

int rt_k_dft(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtDftParams *p = params;
    if (!p || !in || !out || nin < 1 || nout < 1 || in[0].rank < 2 || in[0].rank > 64)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "DFT: expects an input of rank >= 2");
    const RtTensor *x = &in[0];
    int r = x->rank;
    if (!sig_is_float(x->dtype) || out[0].dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "DFT: element types %d -> %d not supported",
                       (int)x->dtype, (int)out[0].dtype);
    int64_t cin = x->dims[r - 1];
    if (cin != 1 && cin != 2)
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "DFT: the last dim is %lld, expected 1 (real) or 2 (complex)",
                       (long long)cin);
    int64_t axis = p->axis;
    if (axis < 0) {
        axis = -2;
        if (nin > 2 && in[2].rank >= 0 && sig_int_scalar(&in[2], &axis))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "DFT: axis must be a scalar int64");
        if (axis < -r || axis > r - 2 || axis == -1)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME,
                           "DFT: axis %lld is outside [-%d, -2] and [0, %d]", (long long)axis,
                           r, r - 2);
        if (axis < 0) axis += r;
    }
    if (axis > r - 2) return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "DFT: bad axis parameter");
    int64_t n_in = x->dims[axis];
    int irfft = p->onesided && p->inverse;
    int64_t L = irfft ? 2 * (n_in - 1) : n_in;
    if (nin > 1 && in[1].rank >= 0) {
        if (sig_int_scalar(&in[1], &L))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "DFT: dft_length must be a scalar int32/int64");
    }
    if (L < 1 || L > ((int64_t)1 << 40))
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "DFT: dft_length %lld is not positive",
                       (long long)L);
    int64_t nk = (p->onesided && !p->inverse) ? L / 2 + 1 : L, cout = irfft ? 1 : 2;
    int64_t od[64];
    for (int i = 0; i < r; i++) od[i] = x->dims[i];
    od[axis] = nk;
    od[r - 1] = cout;
    int st = sig_check_out(ctx, "DFT", &out[0], r, od);
    if (st) return st;
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = (int)axis + 1; i < r - 1; i++) inner *= x->dims[i];
    if (outer == 0 || inner == 0) return 0;
    /* scratch: twiddles (2L), signal (2L), result (2L) */
    double *tw = sig_alloc_doubles(6 * L);
    if (!tw) return rt_fail(ctx, ONNXC_ERR_NOMEM, "DFT: out of memory (length %lld)", (long long)L);
    double *sx = tw + 2 * L, *sy = sx + 2 * L;
    sig_twiddles(tw, L);
    double scale = p->inverse ? 1.0 / (double)L : 1.0;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            /* gather the signal along the axis: element (o, n, i, c) */
            int64_t base = o * n_in * inner * cin + i * cin;
            for (int64_t n = 0; n < L; n++) {
                double re = 0, im = 0;
                if (!irfft) {
                    if (n < n_in) {
                        re = rt_load_f64(x, base + n * inner * cin);
                        im = cin == 2 ? rt_load_f64(x, base + n * inner * cin + 1) : 0.0;
                    }
                } else {
                    /* Hermitian completion of the half spectrum */
                    int64_t k = n <= L / 2 ? n : L - n;
                    if (k < n_in) {
                        re = rt_load_f64(x, base + k * inner * cin);
                        im = cin == 2 ? rt_load_f64(x, base + k * inner * cin + 1) : 0.0;
                        if (n > L / 2) im = -im;
                    }
                }
                sx[2 * n] = re;
                sx[2 * n + 1] = im;
            }
            sig_dft(sx, sy, L, nk, tw, p->inverse ? 1 : -1);
            int64_t obase = o * nk * inner * cout + i * cout;
            for (int64_t k = 0; k < nk; k++) {
                rt_store_f64(&out[0], obase + k * inner * cout, sy[2 * k] * scale, RT_STORE_TRUNC);
                if (cout == 2)
                    rt_store_f64(&out[0], obase + k * inner * cout + 1, sy[2 * k + 1] * scale,
                                 RT_STORE_TRUNC);
            }
        }
    free(tw);
    return 0;
}

/* ---------------------------------------------------------------- STFT */

int rt_k_stft(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    const RtStftParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1 || in[0].rank != 3)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG,
                       "STFT: expects a signal [batch, length, 1 or 2] and frame_step");
    const RtTensor *x = &in[0];
    if (!sig_is_float(x->dtype) || out[0].dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "STFT: element types %d -> %d not supported",
                       (int)x->dtype, (int)out[0].dtype);
    int64_t B = x->dims[0], len = x->dims[1], c = x->dims[2], step, fl = -1, W = -1;
    if (c != 1 && c != 2)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "STFT: the last dim of the signal is %lld, "
                       "expected 1 or 2", (long long)c);
    if (sig_int_scalar(&in[1], &step) || step < 1)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "STFT: frame_step must be a positive scalar");
    const RtTensor *win = nin > 2 && in[2].rank >= 0 ? &in[2] : NULL;
    if (win) {
        if (win->rank != 1 || win->dtype != x->dtype)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "STFT: the window must be 1-D of the signal's type");
        W = win->dims[0];
    }
    if (nin > 3 && in[3].rank >= 0 && sig_int_scalar(&in[3], &fl))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "STFT: frame_length must be a scalar int32/int64");
    if (fl < 0) fl = W >= 0 ? W : len;
    if (W < 0) W = fl;
    if (fl < 1 || fl > len || fl > ((int64_t)1 << 40))
        return rt_fail(ctx, ONNXC_ERR_RUNTIME,
                       "STFT: frame_length %lld is outside [1, signal length %lld]",
                       (long long)fl, (long long)len);
    int64_t frames = 1 + (len - fl) / step, bins = p->onesided ? fl / 2 + 1 : fl;
    int64_t od[4] = {B, frames, bins, 2};
    int st = sig_check_out(ctx, "STFT", &out[0], 4, od);
    if (st) return st;
    double *tw = sig_alloc_doubles(6 * fl);
    if (!tw) return rt_fail(ctx, ONNXC_ERR_NOMEM, "STFT: out of memory");
    double *sx = tw + 2 * fl, *sy = sx + 2 * fl;
    sig_twiddles(tw, fl);
    for (int64_t b = 0; b < B; b++)
        for (int64_t f = 0; f < frames; f++) {
            for (int64_t t = 0; t < fl; t++) {
                int64_t s = f * step + t;
                double re = 0, im = 0;
                if (t < W && s < len) {
                    double w = win ? rt_load_f64(win, t) : 1.0;
                    re = rt_load_f64(x, (b * len + s) * c) * w;
                    im = c == 2 ? rt_load_f64(x, (b * len + s) * c + 1) * w : 0.0;
                }
                sx[2 * t] = re;
                sx[2 * t + 1] = im;
            }
            sig_dft(sx, sy, fl, bins, tw, -1);
            int64_t ob = (b * frames + f) * bins * 2;
            for (int64_t k = 0; k < 2 * bins; k++)
                rt_store_f64(&out[0], ob + k, sy[k], RT_STORE_TRUNC);
        }
    free(tw);
    return 0;
}

/* ---------------------------------------------------------------- windows */

int rt_k_window(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtWindowParams *p = params;
    int64_t size;
    if (!p || !in || !out || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "window: expects a size and an output");
    if (sig_int_scalar(&in[0], &size))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "window: size must be a scalar int32/int64");
    if (size < 0)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "window: size %lld is negative", (long long)size);
    if (!sig_is_float(out[0].dtype) && !sig_is_int(out[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "window: output type %d not supported",
                       (int)out[0].dtype);
    int st = sig_check_out(ctx, "window", &out[0], 1, &size);
    if (st) return st;
    double a0, a1, a2 = 0;
    switch (p->kind) {
    case RT_WINDOW_HANN: a0 = 0.5, a1 = 0.5; break;
    case RT_WINDOW_HAMMING: a0 = 25.0 / 46.0, a1 = 21.0 / 46.0; break;
    case RT_WINDOW_BLACKMAN: a0 = 0.42, a1 = 0.5, a2 = 0.08; break;
    default: return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "window: bad kind %d", (int)p->kind);
    }
    double N = (double)(p->periodic ? size : size - 1);
    for (int64_t n = 0; n < size; n++) {
        double a = N > 0 ? 2.0 * SIG_PI * (double)n / N : 0.0;
        rt_store_f64(&out[0], n, a0 - a1 * cos(a) + a2 * cos(2.0 * a), RT_STORE_TRUNC);
    }
    return 0;
}

/* ---------------------------------------------------------------- MelWeightMatrix */

/* The construction of the operator's specification: num_mel_bins + 2 edges equally spaced on
 * the mel scale mel(f) = 2595 log10(1 + f / 700) between the two edge frequencies, each mapped
 * to the spectrogram bin floor((dft_length + 1) * f / sample_rate); filter i rises linearly
 * from edge i to edge i + 1 (value 1 there) and falls to edge i + 2. */
int rt_k_melweight(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    (void)params;
    int64_t nmel, dftl, rate;
    double lo, hi;
    if (!in || !out || nin < 5 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "MelWeightMatrix: expects 5 inputs");
    if (sig_int_scalar(&in[0], &nmel) || sig_int_scalar(&in[1], &dftl) ||
        sig_int_scalar(&in[2], &rate) || sig_float_scalar(&in[3], &lo) ||
        sig_float_scalar(&in[4], &hi))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MelWeightMatrix: inputs must be scalars (three "
                       "int32/int64, two float)");
    if (nmel < 1 || dftl < 1 || rate < 1 || nmel > ((int64_t)1 << 30) || dftl > ((int64_t)1 << 40))
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "MelWeightMatrix: num_mel_bins %lld, dft_length "
                       "%lld and sample_rate %lld must be positive", (long long)nmel,
                       (long long)dftl, (long long)rate);
    if (!(lo >= 0) || !(hi >= lo))
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "MelWeightMatrix: edges %g and %g must satisfy "
                       "0 <= lower <= upper", lo, hi);
    if (!sig_is_float(out[0].dtype) && !sig_is_int(out[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "MelWeightMatrix: output type %d not supported",
                       (int)out[0].dtype);
    int64_t nbins = dftl / 2 + 1, od[2] = {nbins, nmel};
    int st = sig_check_out(ctx, "MelWeightMatrix", &out[0], 2, od);
    if (st) return st;
    int64_t *edge = malloc((size_t)(nmel + 2) * sizeof *edge);
    if (!edge) return rt_fail(ctx, ONNXC_ERR_NOMEM, "MelWeightMatrix: out of memory");
    double mlo = 2595.0 * log10(1.0 + lo / 700.0), mhi = 2595.0 * log10(1.0 + hi / 700.0);
    double mstep = (mhi - mlo) / (double)(nmel + 2);
    for (int64_t i = 0; i < nmel + 2; i++) {
        double f = 700.0 * (pow(10.0, ((double)i * mstep + mlo) / 2595.0) - 1.0);
        edge[i] = (int64_t)floor((double)(dftl + 1) * f / (double)rate);
    }
    for (int64_t j = 0; j < nbins * nmel; j++) rt_store_f64(&out[0], j, 0.0, RT_STORE_TRUNC);
    for (int64_t i = 0; i < nmel; i++) {
        int64_t l = edge[i], c = edge[i + 1], h = edge[i + 2];
        if (l < 0 || h >= nbins || c < l || h < c) {
            free(edge);
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "MelWeightMatrix: band %lld spans bins "
                           "[%lld, %lld], outside the %lld spectrogram bins (upper_edge_hertz "
                           "above sample_rate / 2?)", (long long)i, (long long)l, (long long)h,
                           (long long)nbins);
        }
        if (c == l)
            rt_store_f64(&out[0], c * nmel + i, 1.0, RT_STORE_TRUNC);
        else
            for (int64_t j = l; j <= c; j++)
                rt_store_f64(&out[0], j * nmel + i, (double)(j - l) / (double)(c - l),
                             RT_STORE_TRUNC);
        for (int64_t j = c; j < h; j++)
            rt_store_f64(&out[0], j * nmel + i, (double)(h - j) / (double)(h - c), RT_STORE_TRUNC);
    }
    free(edge);
    return 0;
}

/* ---------------------------------------------------------------- CumProd */

int rt_k_cumprod(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    const RtCumProdParams *p = params;
    int64_t axis;
    if (!p || !in || !out || nin < 2 || nout < 1 || in[0].rank < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "CumProd: expects x (rank >= 1) and axis");
    const RtTensor *x = &in[0];
    int r = x->rank;
    if (sig_int_scalar(&in[1], &axis))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "CumProd: axis must be a scalar int32/int64");
    if (axis < -r || axis >= r)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "CumProd: axis %lld is out of range for rank %d",
                       (long long)axis, r);
    if (axis < 0) axis += r;
    if (out[0].dtype != x->dtype || (!sig_is_float(x->dtype) && !sig_is_int(x->dtype)))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "CumProd: element type %d not supported",
                       (int)x->dtype);
    int st = sig_check_out(ctx, "CumProd", &out[0], r, x->dims);
    if (st) return st;
    int64_t outer = 1, inner = 1, len = x->dims[axis];
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = (int)axis + 1; i < r; i++) inner *= x->dims[i];
    int isint = sig_is_int(x->dtype);
    size_t es = rt_dtype_size(x->dtype);
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            double acc = 1.0;
            uint64_t iacc = 1;
            for (int64_t s = 0; s < len; s++) {
                int64_t j = p->reverse ? len - 1 - s : s;
                int64_t idx = (o * len + j) * inner + i;
                if (isint) {
                    /* exact wrapping product on the low bits (two's complement) */
                    uint64_t v = 0;
                    const unsigned char *src = (const unsigned char *)x->data + (size_t)idx * es;
                    int sgn = x->dtype == IR_DT_INT8 || x->dtype == IR_DT_INT16 ||
                              x->dtype == IR_DT_INT32 || x->dtype == IR_DT_INT64;
                    memcpy(&v, src, es); /* little endian */
                    if (sgn && es < 8 && (v >> (8 * es - 1)) & 1) v |= ~(uint64_t)0 << (8 * es);
                    uint64_t before = iacc;
                    iacc *= v;
                    uint64_t res = p->exclusive ? before : iacc;
                    memcpy((unsigned char *)out[0].data + (size_t)idx * es, &res, es);
                } else {
                    double v = rt_load_f64(x, idx), before = acc;
                    acc *= v;
                    rt_store_f64(&out[0], idx, p->exclusive ? before : acc, RT_STORE_TRUNC);
                }
            }
        }
    return 0;
}

/* ---------------------------------------------------------------- Det */

int rt_k_det(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    (void)params;
    if (!in || !out || nin < 1 || nout < 1 || in[0].rank < 2 || in[0].rank > 64)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Det: expects an input of rank >= 2");
    const RtTensor *x = &in[0];
    int r = x->rank;
    int64_t m = x->dims[r - 1];
    if (x->dims[r - 2] != m)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Det: the matrices are %lldx%lld, not square",
                       (long long)x->dims[r - 2], (long long)m);
    if (!sig_is_float(x->dtype) || out[0].dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Det: element type %d not supported", (int)x->dtype);
    int st = sig_check_out(ctx, "Det", &out[0], r - 2, x->dims);
    if (st) return st;
    int64_t batch = 1;
    for (int i = 0; i < r - 2; i++) batch *= x->dims[i];
    if (m > 0 && m > INT64_MAX / m) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Det: matrix too large");
    double *a = sig_alloc_doubles(m * m);
    if (!a) return rt_fail(ctx, ONNXC_ERR_NOMEM, "Det: out of memory");
    for (int64_t b = 0; b < batch; b++) {
        for (int64_t k = 0; k < m * m; k++) a[k] = rt_load_f64(x, b * m * m + k);
        double det = 1.0;
        for (int64_t c = 0; c < m && det != 0.0; c++) {
            int64_t piv = c;
            for (int64_t rr = c + 1; rr < m; rr++)
                if (fabs(a[rr * m + c]) > fabs(a[piv * m + c])) piv = rr;
            if (a[piv * m + c] == 0.0) {
                det = 0.0;
                break;
            }
            if (piv != c) {
                for (int64_t k = 0; k < m; k++) {
                    double t = a[c * m + k];
                    a[c * m + k] = a[piv * m + k];
                    a[piv * m + k] = t;
                }
                det = -det;
            }
            double d = a[c * m + c];
            det *= d;
            for (int64_t rr = c + 1; rr < m; rr++) {
                double f = a[rr * m + c] / d;
                for (int64_t k = c; k < m; k++) a[rr * m + k] -= f * a[c * m + k];
            }
        }
        rt_store_f64(&out[0], b, det, RT_STORE_TRUNC);
    }
    free(a);
    return 0;
}

/* ---------------------------------------------------------------- BitCast */

/* Bit width of an element type in onnxc's layout terms (sub-byte types: their width). */
static int sig_bits(int32_t dt) {
    if (dt == IR_DT_UINT4 || dt == IR_DT_INT4 || dt == IR_DT_FLOAT4E2M1) return 4;
    if (dt == IR_DT_UINT2 || dt == IR_DT_INT2) return 2;
    return (int)rt_dtype_size(dt) * 8;
}

int rt_k_bitcast(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    (void)params;
    if (!in || !out || nin < 1 || nout < 1 || in[0].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "BitCast: expects an input and an output");
    int bi = sig_bits(in[0].dtype), bo = sig_bits(out[0].dtype);
    if (bi == 0 || bi != bo || in[0].dtype == IR_DT_STRING || out[0].dtype == IR_DT_STRING)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "BitCast: types %d and %d differ in bit width",
                       (int)in[0].dtype, (int)out[0].dtype);
    int st = sig_check_out(ctx, "BitCast", &out[0], in[0].rank, in[0].dims);
    if (st) return st;
    int64_t n = rt_numel(&in[0]);
    size_t es = rt_dtype_size(in[0].dtype);
    if (n == 0) return 0;
    if (bi >= 8) {
        if (in[0].data != out[0].data) memmove(out[0].data, in[0].data, (size_t)n * es);
        return 0;
    }
    /* sub-byte types: one element per byte; keep the low bits, sign-extend signed targets */
    const uint8_t *s = in[0].data;
    uint8_t *d = out[0].data, mask = (uint8_t)((1u << bi) - 1);
    int sgn = out[0].dtype == IR_DT_INT4 || out[0].dtype == IR_DT_INT2;
    for (int64_t i = 0; i < n; i++) {
        uint8_t v = s[i] & mask;
        if (sgn && (v >> (bi - 1)) & 1) v |= (uint8_t)~mask;
        d[i] = v;
    }
    return 0;
}

/* ---------------------------------------------------------------- TensorScatter */

int rt_k_tensorscatter(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                       RtTensor *out, int nout) {
    const RtTensorScatterParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1 || in[0].rank < 2 || in[1].rank != in[0].rank)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG,
                       "TensorScatter: expects past_cache and update of one rank >= 2");
    const RtTensor *past = &in[0], *upd = &in[1];
    int r = past->rank, ax = p->axis;
    if (ax < 1 || ax >= r) return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "TensorScatter: bad axis");
    if (upd->dtype != past->dtype || out[0].dtype != past->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "TensorScatter: element types differ");
    for (int i = 0; i < r; i++)
        if (i != ax && upd->dims[i] != past->dims[i])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "TensorScatter: update dim %d is %lld, the "
                           "cache has %lld", i, (long long)upd->dims[i],
                           (long long)past->dims[i]);
    int64_t maxlen = past->dims[ax], seqlen = upd->dims[ax], batch = past->dims[0];
    if (seqlen > maxlen)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "TensorScatter: update has %lld steps, the cache "
                       "%lld", (long long)seqlen, (long long)maxlen);
    int st = sig_check_out(ctx, "TensorScatter", &out[0], r, past->dims);
    if (st) return st;
    const RtTensor *wi = nin > 2 && in[2].rank >= 0 ? &in[2] : NULL;
    if (wi && (wi->dtype != IR_DT_INT64 || rt_numel(wi) != batch || !wi->data))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "TensorScatter: write_indices must be int64 [%lld]",
                       (long long)batch);
    size_t es = rt_dtype_size(past->dtype);
    int64_t n = rt_numel(past);
    if (es == 0) return rt_fail(ctx, ONNXC_ERR_TYPE, "TensorScatter: unknown element type");
    if (n == 0) return 0;
    if (out[0].data != past->data) memmove(out[0].data, past->data, (size_t)n * es);
    int64_t mid = 1, inner = 1; /* dims (0, ax) and (ax, r) */
    for (int i = 1; i < ax; i++) mid *= past->dims[i];
    for (int i = ax + 1; i < r; i++) inner *= past->dims[i];
    size_t row = (size_t)inner * es;
    for (int64_t b = 0; b < batch; b++) {
        int64_t w0 = wi ? ((const int64_t *)wi->data)[b] : 0;
        if (!p->circular && (w0 < 0 || w0 > maxlen - seqlen))
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "TensorScatter: write index %lld of batch "
                           "%lld puts %lld steps outside the cache of %lld", (long long)w0,
                           (long long)b, (long long)seqlen, (long long)maxlen);
        for (int64_t m = 0; m < mid; m++)
            for (int64_t s = 0; s < seqlen; s++) {
                int64_t t = w0 + s;
                if (p->circular) {
                    t %= maxlen;
                    if (t < 0) t += maxlen;
                }
                const char *src = (const char *)upd->data +
                                  (size_t)(((b * mid + m) * seqlen + s) * inner) * es;
                char *dst = (char *)out[0].data + (size_t)(((b * mid + m) * maxlen + t) * inner) * es;
                memcpy(dst, src, row);
            }
    }
    return 0;
}

/* ---------------------------------------------------------------- ReverseSequence */

int rt_k_reversesequence(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                         RtTensor *out, int nout) {
    const RtReverseSequenceParams *p = params;
    if (!p || !in || !out || nin < 2 || nout < 1 || in[0].rank < 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG,
                       "ReverseSequence: expects an input of rank >= 2 and sequence_lens");
    const RtTensor *x = &in[0], *sl = &in[1];
    int r = x->rank, ba = p->batch_axis, ta = p->time_axis;
    if (!((ba == 0 && ta == 1) || (ba == 1 && ta == 0)))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ReverseSequence: bad axes");
    int64_t B = x->dims[ba], T = x->dims[ta], inner = 1;
    for (int i = 2; i < r; i++) inner *= x->dims[i];
    if (sl->dtype != IR_DT_INT64 || rt_numel(sl) != B || (B > 0 && !sl->data))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ReverseSequence: sequence_lens must be int64 [%lld]",
                       (long long)B);
    if (out[0].dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "ReverseSequence: element types differ");
    int st = sig_check_out(ctx, "ReverseSequence", &out[0], r, x->dims);
    if (st) return st;
    size_t es = rt_dtype_size(x->dtype);
    if (es == 0) return rt_fail(ctx, ONNXC_ERR_TYPE, "ReverseSequence: unknown element type");
    const int64_t *lens = sl->data;
    for (int64_t b = 0; b < B; b++)
        if (lens[b] < 0 || lens[b] > T)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "ReverseSequence: sequence_lens[%lld] = %lld "
                           "is outside [0, %lld]", (long long)b, (long long)lens[b], (long long)T);
    size_t row = (size_t)inner * es;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int64_t src_t = t < lens[b] ? lens[b] - 1 - t : t;
            /* position of (batch b, time t) in x: dims (0, 1) are (b, t) or (t, b) */
            int64_t dst = ba == 0 ? b * T + t : t * B + b;
            int64_t src = ba == 0 ? b * T + src_t : src_t * B + b;
            memmove((char *)out[0].data + (size_t)dst * row,
                    (const char *)x->data + (size_t)src * row, row);
        }
    return 0;
}
