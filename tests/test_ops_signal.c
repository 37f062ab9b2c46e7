/* test_ops_signal.c - direct kernel checks of the signal family (runtime/rt_signal.c: DFT, STFT,
 * windows, MelWeightMatrix, CumProd, Det, BitCast, TensorScatter, ReverseSequence) and of the
 * ops added with it to other families this session (LpPool, GlobalMaxPool, MaxUnpool in
 * runtime/rt_conv.c; Swish/SwiGLU in runtime/rt_act.c; BatchNormalization training and Dropout
 * with a computed training_mode). Expected values are computed here independently: the DFT from
 * its defining sum with cos/sin of the full angle (no twiddle table), windows from their closed
 * forms, the rest from small cases worked out by hand or from the specification's examples.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"
#include "tests/test_util.h"

/* Asserts |got[i] - want[i]| <= tol (1 + |want[i]|) for n doubles, printing the worst. */
static void near_d(const double *got, const double *want, int n, double tol) {
    double worst = 0.0;
    int wi = 0;
    for (int i = 0; i < n; i++) {
        double e = fabs(got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) {
            worst = e;
            wi = i;
        }
    }
    if (!(worst <= tol)) {
        print_message("element %d: got %.12g, want %.12g (error %g)\n", wi, got[wi], want[wi],
                      worst);
        fail();
    }
}

/* Naive DFT of a complex sequence (interleaved) of length L, bins k < nk: exp(sign 2 pi i k n / L)
 * with the angle computed directly (independent of the kernel's twiddle table). */
static void naive_dft(const double *x, int L, int nk, int sign, double *y) {
    for (int k = 0; k < nk; k++) {
        long double re = 0, im = 0;
        for (int n = 0; n < L; n++) {
            long double a = sign * 2.0L * 3.14159265358979323846264338L * k * n / L;
            re += x[2 * n] * cosl(a) - x[2 * n + 1] * sinl(a);
            im += x[2 * n] * sinl(a) + x[2 * n + 1] * cosl(a);
        }
        y[2 * k] = (double)re;
        y[2 * k + 1] = (double)im;
    }
}

/* ------------------------------------------------------------------ DFT */

/* Complex forward DFT along dim 1 of [2, 7, 3, 2] against the naive sum, per (batch, column). */
static void test_dft_complex_axis1(void **state) {
    (void)state;
    enum { B = 2, N = 7, C = 3 };
    double x[B * N * C * 2], y[B * N * C * 2];
    for (int i = 0; i < B * N * C * 2; i++) x[i] = sin(0.7 * i) + 0.1 * (i % 5);
    int64_t d[4] = {B, N, C, 2};
    RtDftParams p = {1, 0, 0, 0};
    RtTensor in[1] = {tn(x, IR_DT_DOUBLE, 4, d)}, out = tn(y, IR_DT_DOUBLE, 4, d);
    assert_int_equal(run_k("rt_k_dft", &p, in, 1, &out, 1), 0);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) {
            double sig[2 * N], want[2 * N], got[2 * N];
            for (int n = 0; n < N; n++) {
                sig[2 * n] = x[((b * N + n) * C + c) * 2];
                sig[2 * n + 1] = x[((b * N + n) * C + c) * 2 + 1];
                got[2 * n] = y[((b * N + n) * C + c) * 2];
                got[2 * n + 1] = y[((b * N + n) * C + c) * 2 + 1];
            }
            naive_dft(sig, N, N, -1, want);
            near_d(got, want, 2 * N, 1e-12);
        }
}

/* Real input, onesided (RFFT) with dft_length 10 > 8 (zero padding), axis taken from the
 * DFT-20 input (-2); then the inverse onesided transform (IRFFT) gives the padded signal back. */
static void test_dft_rfft_irfft(void **state) {
    (void)state;
    enum { N = 8, L = 10, K = L / 2 + 1 };
    float x[N], spec[K * 2], back[L];
    for (int i = 0; i < N; i++) x[i] = (float)(i * i % 7) - 2.5f;
    int64_t dx[3] = {1, N, 1}, ds[3] = {1, K, 2}, db[3] = {1, L, 1};
    int64_t len = L, axis = -2;
    RtDftParams p = {-1, 0, 1, 0};
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 3, dx), tn(&len, IR_DT_INT64, 0, NULL),
                      tn(&axis, IR_DT_INT64, 0, NULL)};
    RtTensor out = tn(spec, IR_DT_FLOAT, 3, ds);
    assert_int_equal(run_k("rt_k_dft", &p, in, 3, &out, 1), 0);
    double sig[2 * L] = {0}, want[2 * L], got[2 * K];
    for (int n = 0; n < N; n++) sig[2 * n] = x[n];
    naive_dft(sig, L, K, -1, want);
    for (int k = 0; k < 2 * K; k++) got[k] = spec[k];
    near_d(got, want, 2 * K, 1e-6);
    /* IRFFT of the half spectrum: the 10 samples (8 of x, then 2 zeros) */
    RtDftParams q = {1, 1, 1, 0};
    RtTensor in2[2] = {tn(spec, IR_DT_FLOAT, 3, ds), tn(&len, IR_DT_INT64, 0, NULL)};
    RtTensor out2 = tn(back, IR_DT_FLOAT, 3, db);
    assert_int_equal(run_k("rt_k_dft", &q, in2, 2, &out2, 1), 0);
    double gb[L], wb[L];
    for (int n = 0; n < L; n++) {
        gb[n] = back[n];
        wb[n] = n < N ? x[n] : 0.0;
    }
    near_d(gb, wb, L, 1e-5);
}

/* Inverse of the forward transform gives the input back; an output of the wrong shape is
 * refused; an out-of-range axis input is refused. */
static void test_dft_inverse_and_errors(void **state) {
    (void)state;
    enum { N = 5 };
    double x[N * 2], f[N * 2], b[N * 2];
    for (int i = 0; i < 2 * N; i++) x[i] = cos(1.3 * i);
    int64_t d[2] = {N, 2};
    RtDftParams fw = {0, 0, 0, 0}, inv = {0, 1, 0, 0};
    RtTensor in = tn(x, IR_DT_DOUBLE, 2, d), o1 = tn(f, IR_DT_DOUBLE, 2, d);
    assert_int_equal(run_k("rt_k_dft", &fw, &in, 1, &o1, 1), 0);
    RtTensor in2 = tn(f, IR_DT_DOUBLE, 2, d), o2 = tn(b, IR_DT_DOUBLE, 2, d);
    assert_int_equal(run_k("rt_k_dft", &inv, &in2, 1, &o2, 1), 0);
    near_d(b, x, 2 * N, 1e-12);
    int64_t bad[2] = {N + 1, 2};
    RtTensor ob = tn(b, IR_DT_DOUBLE, 2, bad);
    assert_int_equal(run_k("rt_k_dft", &fw, &in, 1, &ob, 1), ONNXC_ERR_SHAPE);
    int64_t axis = 1; /* the last (complex) dim is not a valid axis */
    RtDftParams dyn = {-1, 0, 0, 0};
    RtTensor in3[3] = {in, absent, tn(&axis, IR_DT_INT64, 0, NULL)};
    assert_int_not_equal(run_k("rt_k_dft", &dyn, in3, 3, &o1, 1), 0);
}

/* ------------------------------------------------------------------ STFT */

/* STFT of a real signal with a window, frame_step 3, frame_length 6: every frame against the
 * naive DFT of the windowed samples. */
static void test_stft(void **state) {
    (void)state;
    enum { LEN = 20, STEP = 3, FL = 6, FR = 1 + (LEN - FL) / STEP, K = FL / 2 + 1 };
    float sig[LEN], win[FL], y[FR * K * 2];
    for (int i = 0; i < LEN; i++) sig[i] = (float)sin(0.3 * i * i);
    for (int i = 0; i < FL; i++) win[i] = 0.5f + 0.1f * (float)i;
    int64_t ds[3] = {1, LEN, 1}, dw[1] = {FL}, dy[4] = {1, FR, K, 2}, step = STEP;
    RtStftParams p = {1, 0};
    RtTensor in[4] = {tn(sig, IR_DT_FLOAT, 3, ds), tn(&step, IR_DT_INT64, 0, NULL),
                      tn(win, IR_DT_FLOAT, 1, dw), absent};
    RtTensor out = tn(y, IR_DT_FLOAT, 4, dy);
    assert_int_equal(run_k("rt_k_stft", &p, in, 4, &out, 1), 0);
    for (int f = 0; f < FR; f++) {
        double fr[2 * FL], want[2 * K], got[2 * K];
        for (int t = 0; t < FL; t++) {
            fr[2 * t] = (double)sig[f * STEP + t] * win[t];
            fr[2 * t + 1] = 0;
        }
        naive_dft(fr, FL, K, -1, want);
        for (int k = 0; k < 2 * K; k++) got[k] = y[f * K * 2 + k];
        near_d(got, want, 2 * K, 1e-5);
    }
}

/* ------------------------------------------------------------------ windows, mel */

static void test_windows(void **state) {
    (void)state;
    const double pi = 3.14159265358979323846;
    int64_t size = 9, d[1] = {9};
    for (int kind = 0; kind < 3; kind++)
        for (int periodic = 0; periodic < 2; periodic++) {
            double y[9], want[9];
            RtWindowParams p = {kind, periodic};
            RtTensor in = tn(&size, IR_DT_INT64, 0, NULL), out = tn(y, IR_DT_DOUBLE, 1, d);
            assert_int_equal(run_k("rt_k_window", &p, &in, 1, &out, 1), 0);
            double N = periodic ? 9 : 8;
            for (int n = 0; n < 9; n++) {
                double c1 = cos(2 * pi * n / N), c2 = cos(4 * pi * n / N);
                want[n] = kind == RT_WINDOW_HANN      ? 0.5 * (1 - c1)
                          : kind == RT_WINDOW_HAMMING ? 0.54347826086956519 - 0.45652173913043481 * c1
                                                      : 0.42 - 0.5 * c1 + 0.08 * c2;
            }
            near_d(y, want, 9, 1e-15);
            if (!periodic) assert_true(fabs(y[0] - y[8]) < 1e-15); /* symmetric */
        }
    /* integer output type: truncation of the values (Hann peak 1 only at the centre) */
    int32_t yi[9];
    RtWindowParams p = {RT_WINDOW_HANN, 0};
    RtTensor in = tn(&size, IR_DT_INT64, 0, NULL), out = tn(yi, IR_DT_INT32, 1, d);
    assert_int_equal(run_k("rt_k_window", &p, &in, 1, &out, 1), 0);
    for (int n = 0; n < 9; n++) assert_int_equal(yi[n], n == 4 ? 1 : 0);
    /* size that disagrees with the compiled output */
    int64_t eight = 8;
    RtTensor in8 = tn(&eight, IR_DT_INT64, 0, NULL);
    assert_int_equal(run_k("rt_k_window", &p, &in8, 1, &out, 1), ONNXC_ERR_SHAPE);
}

/* The specification's example: 8 mel bins, dft_length 16, 8192 Hz, [0, 4096] Hz; its printed
 * output starts with rows (1 1 0 0 ...), (0 0 1 1 0 ...), (0 0 0 0 1 0 ...). */
static void test_melweight(void **state) {
    (void)state;
    int32_t nmel = 8, dftl = 16, rate = 8192;
    float lo = 0.0f, hi = 4096.0f, y[9 * 8];
    int64_t d[2] = {9, 8};
    RtTensor in[5] = {tn(&nmel, IR_DT_INT32, 0, NULL), tn(&dftl, IR_DT_INT32, 0, NULL),
                      tn(&rate, IR_DT_INT32, 0, NULL), tn(&lo, IR_DT_FLOAT, 0, NULL),
                      tn(&hi, IR_DT_FLOAT, 0, NULL)};
    RtTensor out = tn(y, IR_DT_FLOAT, 2, d);
    assert_int_equal(run_k("rt_k_melweight", NULL, in, 5, &out, 1), 0);
    static const float rows[3][8] = {{1, 1, 0, 0, 0, 0, 0, 0},
                                     {0, 0, 1, 1, 0, 0, 0, 0},
                                     {0, 0, 0, 0, 1, 0, 0, 0}};
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 8; c++) assert_true(y[r * 8 + c] == rows[r][c]);
    /* every filter peaks at exactly 1 */
    for (int c = 0; c < 8; c++) {
        float m = 0;
        for (int r = 0; r < 9; r++) m = y[r * 8 + c] > m ? y[r * 8 + c] : m;
        assert_true(m == 1.0f);
    }
}

/* ------------------------------------------------------------------ CumProd, Det */

static void test_cumprod(void **state) {
    (void)state;
    double x[3] = {1, 2, 3}, y[3];
    int64_t d[1] = {3}, axis = 0;
    static const double want[4][3] = {{1, 2, 6}, {1, 1, 2}, {6, 6, 3}, {6, 3, 1}};
    for (int m = 0; m < 4; m++) {
        RtCumProdParams p = {m & 1, m >> 1};
        RtTensor in[2] = {tn(x, IR_DT_DOUBLE, 1, d), tn(&axis, IR_DT_INT64, 0, NULL)};
        RtTensor out = tn(y, IR_DT_DOUBLE, 1, d);
        assert_int_equal(run_k("rt_k_cumprod", &p, in, 2, &out, 1), 0);
        near_d(y, want[m], 3, 0);
    }
    /* int32 along axis -1 of [2, 2], wrapping like two's complement */
    int32_t xi[4] = {65536, 65536, -3, 5}, yi[4];
    int64_t d2[2] = {2, 2}, ax = -1;
    RtCumProdParams p = {0, 0};
    RtTensor in[2] = {tn(xi, IR_DT_INT32, 2, d2), tn(&ax, IR_DT_INT64, 0, NULL)};
    RtTensor out = tn(yi, IR_DT_INT32, 2, d2);
    assert_int_equal(run_k("rt_k_cumprod", &p, in, 2, &out, 1), 0);
    assert_int_equal(yi[0], 65536);
    assert_int_equal(yi[1], 0); /* 2^32 wraps to 0 */
    assert_int_equal(yi[2], -3);
    assert_int_equal(yi[3], -15);
    ax = 2;
    assert_int_equal(run_k("rt_k_cumprod", &p, in, 2, &out, 1), ONNXC_ERR_RUNTIME);
}

static void test_det(void **state) {
    (void)state;
    /* [[1, 2], [3, 4]] -> -2; a 3x3 needing a row swap (zero pivot) -> det by cofactors;
     * a singular 3x3 -> 0 */
    float x[4 + 9 + 9] = {1, 2, 3, 4};
    float a3[9] = {0, 2, 1, 3, -1, 2, 1, 1, 4};
    float s3[9] = {1, 2, 3, 2, 4, 6, 0, 1, 1};
    float y[3];
    int64_t d2[2] = {2, 2}, d3[3] = {2, 3, 3}, dy[1] = {2};
    RtTensor in = tn(x, IR_DT_FLOAT, 2, d2), out = tn(y, IR_DT_FLOAT, 0, NULL);
    assert_int_equal(run_k("rt_k_det", NULL, &in, 1, &out, 1), 0);
    assert_true(fabsf(y[0] + 2.0f) < 1e-6f);
    memcpy(x, a3, sizeof a3);
    memcpy(x + 9, s3, sizeof s3);
    /* cofactor expansion of a3 along row 0: 0*(-4-2) - 2*(12-2) + 1*(3+1) = -16 */
    RtTensor in3 = tn(x, IR_DT_FLOAT, 3, d3), out3 = tn(y, IR_DT_FLOAT, 1, dy);
    assert_int_equal(run_k("rt_k_det", NULL, &in3, 1, &out3, 1), 0);
    assert_true(fabsf(y[0] + 16.0f) < 1e-5f);
    assert_true(fabsf(y[1]) < 1e-6f);
    int64_t ns[2] = {2, 3};
    RtTensor bad = tn(x, IR_DT_FLOAT, 2, ns);
    assert_int_equal(run_k("rt_k_det", NULL, &bad, 1, &out, 1), ONNXC_ERR_SHAPE);
}

/* ------------------------------------------------------------------ BitCast, TensorScatter,
 * ReverseSequence */

static void test_bitcast(void **state) {
    (void)state;
    float x[2] = {1.0f, -2.0f};
    int32_t y[2];
    int64_t d[1] = {2};
    RtTensor in = tn(x, IR_DT_FLOAT, 1, d), out = tn(y, IR_DT_INT32, 1, d);
    assert_int_equal(run_k("rt_k_bitcast", NULL, &in, 1, &out, 1), 0);
    assert_int_equal((uint32_t)y[0], 0x3f800000u);
    assert_int_equal((uint32_t)y[1], 0xc0000000u);
    /* int4 -> uint4 (one element per byte): -1 is 0b1111 = 15; uint4 -> int4: 8 is -8 */
    int8_t i4[2] = {-1, 7};
    uint8_t u4[2];
    RtTensor a = tn(i4, IR_DT_INT4, 1, d), b = tn(u4, IR_DT_UINT4, 1, d);
    assert_int_equal(run_k("rt_k_bitcast", NULL, &a, 1, &b, 1), 0);
    assert_int_equal(u4[0], 15);
    assert_int_equal(u4[1], 7);
    u4[0] = 8;
    assert_int_equal(run_k("rt_k_bitcast", NULL, &b, 1, &a, 1), 0);
    assert_int_equal(i4[0], -8);
    /* different widths are refused */
    double dd[2];
    RtTensor o64 = tn(dd, IR_DT_DOUBLE, 1, d);
    assert_int_equal(run_k("rt_k_bitcast", NULL, &in, 1, &o64, 1), ONNXC_ERR_TYPE);
}

static void test_tensorscatter(void **state) {
    (void)state;
    /* cache [2, 4, 1], update [2, 2, 1], write indices {1, 3}: linear fails for batch 1 (3 + 2
     * > 4), circular wraps batch 1 to positions 3 and 0 */
    float past[8] = {0, 1, 2, 3, 10, 11, 12, 13}, upd[4] = {-1, -2, -3, -4}, y[8];
    int64_t dp[3] = {2, 4, 1}, du[3] = {2, 2, 1}, dw[1] = {2}, wi[2] = {1, 3};
    RtTensor in[3] = {tn(past, IR_DT_FLOAT, 3, dp), tn(upd, IR_DT_FLOAT, 3, du),
                      tn(wi, IR_DT_INT64, 1, dw)};
    RtTensor out = tn(y, IR_DT_FLOAT, 3, dp);
    RtTensorScatterParams lin = {1, 0}, circ = {1, 1};
    assert_int_equal(run_k("rt_k_tensorscatter", &lin, in, 3, &out, 1), ONNXC_ERR_RUNTIME);
    assert_int_equal(run_k("rt_k_tensorscatter", &circ, in, 3, &out, 1), 0);
    static const float want[8] = {0, -1, -2, 3, -4, 11, 12, -3};
    for (int i = 0; i < 8; i++) assert_true(y[i] == want[i]);
    wi[1] = 2;
    assert_int_equal(run_k("rt_k_tensorscatter", &lin, in, 3, &out, 1), 0);
    static const float want2[8] = {0, -1, -2, 3, 10, 11, -3, -4};
    for (int i = 0; i < 8; i++) assert_true(y[i] == want2[i]);
}

static void test_reversesequence(void **state) {
    (void)state;
    /* the specification's two examples */
    float x[16], y[16];
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    int64_t d[2] = {4, 4}, dl[1] = {4}, l1[4] = {1, 2, 3, 4};
    RtReverseSequenceParams p = {0, 1};
    RtTensor in[2] = {tn(x, IR_DT_FLOAT, 2, d), tn(l1, IR_DT_INT64, 1, dl)};
    RtTensor out = tn(y, IR_DT_FLOAT, 2, d);
    assert_int_equal(run_k("rt_k_reversesequence", &p, in, 2, &out, 1), 0);
    static const float w1[16] = {0, 1, 2, 3, 5, 4, 6, 7, 10, 9, 8, 11, 15, 14, 13, 12};
    for (int i = 0; i < 16; i++) assert_true(y[i] == w1[i]);
    /* example 1: x[t][b] = 4 b + t, lens {4, 3, 2, 1}, time_axis 0, batch_axis 1 */
    for (int t = 0; t < 4; t++)
        for (int b = 0; b < 4; b++) x[t * 4 + b] = (float)(4 * b + t);
    int64_t l2[4] = {4, 3, 2, 1};
    RtReverseSequenceParams q = {1, 0};
    in[1] = tn(l2, IR_DT_INT64, 1, dl);
    assert_int_equal(run_k("rt_k_reversesequence", &q, in, 2, &out, 1), 0);
    static const float w2[16] = {3, 6, 9, 12, 2, 5, 8, 13, 1, 4, 10, 14, 0, 7, 11, 15};
    for (int i = 0; i < 16; i++) assert_true(y[i] == w2[i]);
    l2[0] = 5;
    assert_int_equal(run_k("rt_k_reversesequence", &q, in, 2, &out, 1), ONNXC_ERR_RUNTIME);
}

/* ------------------------------------------------------------------ other families */

/* LpPool p = 3, kernel 2, stride 1 on [1, 1, 4]; GlobalMaxPool; MaxUnpool of MaxPool indices. */
static void test_pools(void **state) {
    (void)state;
    float x[4] = {1, -2, 3, 0.5f}, y[3];
    int64_t dx[3] = {1, 1, 4}, dy[3] = {1, 1, 3};
    RtLpPoolParams p;
    memset(&p, 0, sizeof p);
    p.pool.nspatial = 1;
    p.pool.kernel[0] = 2;
    p.pool.stride[0] = 1;
    p.pool.dilation[0] = 1;
    p.p = 3;
    RtTensor in = tn(x, IR_DT_FLOAT, 3, dx), out = tn(y, IR_DT_FLOAT, 3, dy);
    assert_int_equal(run_k("rt_k_lppool_f32", &p, &in, 1, &out, 1), 0);
    double got[3] = {y[0], y[1], y[2]};
    double want[3] = {cbrt(1 + 8), cbrt(8 + 27), cbrt(27 + 0.125)};
    near_d(got, want, 3, 1e-6);
    float g;
    int64_t dg[3] = {1, 1, 1};
    RtTensor og = tn(&g, IR_DT_FLOAT, 3, dg);
    assert_int_equal(run_k("rt_k_global_maxpool_f32", NULL, &in, 1, &og, 1), 0);
    assert_true(g == 3.0f);
    /* MaxUnpool: X [1, 1, 2] at flat indices {1, 2} of the unpooled [1, 1, 4] (kernel 2,
     * stride 2); into a [1, 1, 5] output (output_shape), the tail stays 0 */
    float xu[2] = {7, 9}, yu[5];
    int64_t iu[2] = {1, 2}, dxu[3] = {1, 1, 2}, dyu[3] = {1, 1, 5}, os[3] = {1, 1, 5}, dos[1] = {3};
    RtPoolParams u;
    memset(&u, 0, sizeof u);
    u.nspatial = 1;
    u.kernel[0] = 2;
    u.stride[0] = 2;
    u.dilation[0] = 1;
    RtTensor uin[3] = {tn(xu, IR_DT_FLOAT, 3, dxu), tn(iu, IR_DT_INT64, 3, dxu),
                       tn(os, IR_DT_INT64, 1, dos)};
    RtTensor uout = tn(yu, IR_DT_FLOAT, 3, dyu);
    assert_int_equal(run_k("rt_k_maxunpool", &u, uin, 3, &uout, 1), 0);
    static const float wu[5] = {0, 7, 9, 0, 0};
    for (int i = 0; i < 5; i++) assert_true(yu[i] == wu[i]);
    iu[1] = 4; /* outside the unpooled tensor of 4 elements */
    assert_int_equal(run_k("rt_k_maxunpool", &u, uin, 3, &uout, 1), ONNXC_ERR_RUNTIME);
}

static void test_swish_swiglu(void **state) {
    (void)state;
    float a[3] = {-2, 0.5f, 3}, b[3] = {1, 2, -1}, y[3];
    int64_t d[1] = {3};
    RtActParams p = {RT_ACT_SWISH, 0, 0.5, 0, 0};
    RtTensor in[2] = {tn(a, IR_DT_FLOAT, 1, d), tn(b, IR_DT_FLOAT, 1, d)};
    RtTensor out = tn(y, IR_DT_FLOAT, 1, d);
    assert_int_equal(run_k("rt_k_act_unary", &p, in, 1, &out, 1), 0);
    double got[3], want[3];
    for (int i = 0; i < 3; i++) {
        got[i] = y[i];
        want[i] = a[i] / (1 + exp(-0.5 * a[i]));
    }
    near_d(got, want, 3, 1e-7);
    assert_int_equal(run_k("rt_k_swiglu", &p, in, 2, &out, 1), 0);
    for (int i = 0; i < 3; i++) {
        got[i] = y[i];
        want[i] *= b[i];
    }
    near_d(got, want, 3, 1e-7);
}

/* BatchNormalization training on [2, 1, 2]: batch mean 2.5, variance 1.25. */
static void test_batchnorm_train(void **state) {
    (void)state;
    float x[4] = {1, 2, 3, 4}, s = 2, bias = 1, mean = 10, var = 20, y[4], rm, rv;
    int64_t dx[3] = {2, 1, 2}, dc[1] = {1};
    RtBatchNormTrainParams p = {0.25, 0.9};
    RtTensor in[5] = {tn(x, IR_DT_FLOAT, 3, dx), tn(&s, IR_DT_FLOAT, 1, dc),
                      tn(&bias, IR_DT_FLOAT, 1, dc), tn(&mean, IR_DT_FLOAT, 1, dc),
                      tn(&var, IR_DT_FLOAT, 1, dc)};
    RtTensor out[3] = {tn(y, IR_DT_FLOAT, 3, dx), tn(&rm, IR_DT_FLOAT, 1, dc),
                       tn(&rv, IR_DT_FLOAT, 1, dc)};
    assert_int_equal(run_k("rt_k_batchnorm_train", &p, in, 5, out, 3), 0);
    /* (x - 2.5) / sqrt(1.25 + 0.25) * 2 + 1 */
    double got[6] = {y[0], y[1], y[2], y[3], rm, rv}, want[6];
    for (int i = 0; i < 4; i++) want[i] = (x[i] - 2.5) / sqrt(1.5) * 2 + 1;
    want[4] = 10 * 0.9 + 2.5 * 0.1;
    want[5] = 20 * 0.9 + 1.25 * 0.1;
    near_d(got, want, 6, 1e-6);
}

/* Dropout with computed training_mode: not training or ratio 0 copies with an all-true mask;
 * training with ratio > 0 is refused as unsupported. */
static void test_dropout_train(void **state) {
    (void)state;
    float x[3] = {1, 2, 3}, y[3], ratio = 0.0f;
    uint8_t mask[3] = {0}, train = 1;
    int64_t d[1] = {3};
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 1, d), tn(&ratio, IR_DT_FLOAT, 0, NULL),
                      tn(&train, IR_DT_BOOL, 0, NULL)};
    RtTensor out[2] = {tn(y, IR_DT_FLOAT, 1, d), tn(mask, IR_DT_BOOL, 1, d)};
    assert_int_equal(run_k("rt_k_dropout_train", NULL, in, 3, out, 2), 0);
    for (int i = 0; i < 3; i++) {
        assert_true(y[i] == x[i]);
        assert_int_equal(mask[i], 1);
    }
    ratio = 0.5f;
    assert_int_equal(run_k("rt_k_dropout_train", NULL, in, 3, out, 2), ONNXC_ERR_UNSUPPORTED);
    train = 0;
    assert_int_equal(run_k("rt_k_dropout_train", NULL, in, 3, out, 2), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dft_complex_axis1),
        cmocka_unit_test(test_dft_rfft_irfft),
        cmocka_unit_test(test_dft_inverse_and_errors),
        cmocka_unit_test(test_stft),
        cmocka_unit_test(test_windows),
        cmocka_unit_test(test_melweight),
        cmocka_unit_test(test_cumprod),
        cmocka_unit_test(test_det),
        cmocka_unit_test(test_bitcast),
        cmocka_unit_test(test_tensorscatter),
        cmocka_unit_test(test_reversesequence),
        cmocka_unit_test(test_pools),
        cmocka_unit_test(test_swish_swiglu),
        cmocka_unit_test(test_batchnorm_train),
        cmocka_unit_test(test_dropout_train),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
