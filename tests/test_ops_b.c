/* test_ops_b.c - tests of the conv/pool and shape/data-movement families: kernels
 * (runtime/rt_conv.c, runtime/rt_shape.c) against hand-computed values, the im2col+sgemm conv
 * against the direct reference, the infer/lower hooks (ops/op_conv.c, ops/op_shape.c) on small
 * graphs, and the ONNX backend node tests of these ops run through infer, lower and the
 * kernels (a small interpreter below; skipped when the data folder is absent).
 *
 * Expected values in the hand tests were worked out on paper (each test says how); the backend
 * tests compare with the official output_*.pb files.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "ops/op.h"
#include "passes/pass.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"
#include "tools/harness.h"

/* ================================================================ kernel helpers */

static RtTensor tens(void *data, int rank, const int64_t *dims, int dtype) {
    RtTensor t = {data, dims, rank, dtype};
    return t;
}

static const RtTensor absent = {NULL, NULL, -1, 0};

static int run_kernel(const char *name, const void *params, const RtTensor *in, int nin,
                      RtTensor *out, int nout) {
    RtKernelFn fn = rt_kernel_find(name);
    assert_non_null(fn);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int rc = fn(&ctx, params, in, nin, out, nout);
    if (rc) print_message("%s: %s\n", name, ctx.errmsg);
    return rc;
}

static void assert_floats(const float *got, const float *want, int n, float tol) {
    for (int i = 0; i < n; i++) {
        if (fabsf(got[i] - want[i]) > tol) {
            print_error("element %d: got %g, want %g\n", i, (double)got[i], (double)want[i]);
            fail();
        }
    }
}

static RtConvParams conv_params2d(int64_t k0, int64_t k1, int64_t s, int64_t dil, int64_t pad,
                                  int group) {
    RtConvParams p;
    memset(&p, 0, sizeof p);
    p.nspatial = 2;
    p.group = group;
    p.kernel[0] = k0;
    p.kernel[1] = k1;
    for (int i = 0; i < 2; i++) {
        p.stride[i] = s;
        p.dilation[i] = dil;
        p.pad_begin[i] = p.pad_end[i] = pad;
    }
    return p;
}

/* Runs both float32 conv kernels and checks each against `want`. */
static void check_conv_both(const RtConvParams *p, float *x, const int64_t *xd, float *w,
                            const int64_t *wd, float *b, const int64_t *yd, const float *want,
                            int ny) {
    float y[256];
    int64_t bd[1] = {wd[0]};
    RtTensor in[3] = {tens(x, p->nspatial + 2, xd, 1), tens(w, p->nspatial + 2, wd, 1),
                      b ? tens(b, 1, bd, 1) : absent};
    const char *names[2] = {"rt_k_conv_ref_f32", "rt_k_conv_f32"};
    for (int k = 0; k < 2; k++) {
        memset(y, 0xff, sizeof y);
        RtTensor out = tens(y, p->nspatial + 2, yd, 1);
        assert_int_equal(run_kernel(names[k], p, in, 3, &out, 1), 0);
        assert_floats(y, want, ny, 1e-5f);
    }
}

/* ================================================================ conv kernels */

/* X = 0..8 as 3x3, W = 2x2 ones, no padding: each output is the sum of a 2x2 block:
 * 0+1+3+4 = 8, 1+2+4+5 = 12, 3+4+6+7 = 20, 4+5+7+8 = 24. */
static void test_conv_basic(void **state) {
    (void)state;
    float x[9], w[4] = {1, 1, 1, 1};
    for (int i = 0; i < 9; i++) x[i] = (float)i;
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 2, 2};
    RtConvParams p = conv_params2d(2, 2, 1, 1, 0, 1);
    float want[4] = {8, 12, 20, 24};
    check_conv_both(&p, x, xd, w, wd, NULL, yd, want, 4);
}

/* X = 0..8 (3x3), W = 3x3 with w[r][c] = 1 + r*3 + c (1..9), pads 1, stride 2 -> 2x2 output.
 * Window of output (0,0) covers rows/cols -1..1: x(0,0)*w(1,1) + x(0,1)*w(1,2) + x(1,0)*w(2,1)
 *   + x(1,1)*w(2,2) = 0*5 + 1*6 + 3*8 + 4*9 = 66.
 * (0,1): rows -1..1, cols 1..3: x(0,1)w(1,0) + x(0,2)w(1,1) + x(1,1)w(2,0) + x(1,2)w(2,1)
 *   = 1*4 + 2*5 + 4*7 + 5*8 = 82.
 * (1,0): rows 1..3, cols -1..1: x(1,0)w(0,1) + x(1,1)w(0,2) + x(2,0)w(1,1) + x(2,1)w(1,2)
 *   = 3*2 + 4*3 + 6*5 + 7*6 = 90.
 * (1,1): rows 1..3, cols 1..3: x(1,1)w(0,0) + x(1,2)w(0,1) + x(2,1)w(1,0) + x(2,2)w(1,1)
 *   = 4*1 + 5*2 + 7*4 + 8*5 = 82.  With bias 0.5 added to each. */
static void test_conv_pad_stride_bias(void **state) {
    (void)state;
    float x[9], w[9], b[1] = {0.5f};
    for (int i = 0; i < 9; i++) {
        x[i] = (float)i;
        w[i] = (float)(i + 1);
    }
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 2, 2};
    RtConvParams p = conv_params2d(3, 3, 2, 1, 1, 1);
    float want[4] = {66.5f, 82.5f, 90.5f, 82.5f};
    check_conv_both(&p, x, xd, w, wd, b, yd, want, 4);
}

/* X = 0..15 (4x4), W = 2x2 ones, dilation 2 -> 2x2 output summing x(i,j), x(i,j+2),
 * x(i+2,j), x(i+2,j+2): (0,0) 0+2+8+10 = 20, (0,1) 1+3+9+11 = 24, (1,0) 4+6+12+14 = 36,
 * (1,1) 5+7+13+15 = 40. */
static void test_conv_dilation(void **state) {
    (void)state;
    float x[16], w[4] = {1, 1, 1, 1};
    for (int i = 0; i < 16; i++) x[i] = (float)i;
    int64_t xd[4] = {1, 1, 4, 4}, wd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 2, 2};
    RtConvParams p = conv_params2d(2, 2, 1, 2, 0, 1);
    float want[4] = {20, 24, 36, 40};
    check_conv_both(&p, x, xd, w, wd, NULL, yd, want, 4);
}

/* Two groups of 1x1 convs: channel 0 (1..4) times 2 plus bias 1, channel 1 (5..8) times 3
 * minus 1. */
static void test_conv_groups(void **state) {
    (void)state;
    float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, w[2] = {2, 3}, b[2] = {1, -1};
    int64_t xd[4] = {1, 2, 2, 2}, wd[4] = {2, 1, 1, 1}, yd[4] = {1, 2, 2, 2};
    RtConvParams p = conv_params2d(1, 1, 1, 1, 0, 2);
    float want[8] = {3, 5, 7, 9, 14, 17, 20, 23};
    check_conv_both(&p, x, xd, w, wd, b, yd, want, 8);
}

/* Depthwise 1-D conv (group = C = 2), kernel 3, pads 1: ch0 x = 1 2 3 4, w = [1 0 -1]:
 * y[o] = x[o-1] - x[o+1] -> [0-2, 1-3, 2-4, 3-0] = [-2, -2, -2, 3]; ch1 x = 1 1 1 1,
 * w = [1 1 1] -> [2, 3, 3, 2]. */
static void test_conv_depthwise_1d(void **state) {
    (void)state;
    float x[8] = {1, 2, 3, 4, 1, 1, 1, 1}, w[6] = {1, 0, -1, 1, 1, 1}, y[8];
    int64_t xd[3] = {1, 2, 4}, wd[3] = {2, 1, 3}, yd[3] = {1, 2, 4};
    RtConvParams p;
    memset(&p, 0, sizeof p);
    p.nspatial = 1;
    p.group = 2;
    p.kernel[0] = 3;
    p.stride[0] = p.dilation[0] = 1;
    p.pad_begin[0] = p.pad_end[0] = 1;
    RtTensor in[2] = {tens(x, 3, xd, 1), tens(w, 3, wd, 1)};
    float want[8] = {-2, -2, -2, 3, 2, 3, 3, 2};
    const char *names[2] = {"rt_k_conv_ref_f32", "rt_k_conv_f32"};
    for (int k = 0; k < 2; k++) {
        RtTensor out = tens(y, 3, yd, 1);
        assert_int_equal(run_kernel(names[k], &p, in, 2, &out, 1), 0);
        assert_floats(y, want, 8, 1e-6f);
    }
}

/* Mismatched weight channels are an error, not a crash. */
static void test_conv_kernel_rejects_bad_shapes(void **state) {
    (void)state;
    float x[18] = {0}, w[8] = {0}, y[8];
    int64_t xd[4] = {1, 2, 3, 3}, wd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 2, 2};
    RtConvParams p = conv_params2d(2, 2, 1, 1, 0, 1);
    RtTensor in[2] = {tens(x, 4, xd, 1), tens(w, 4, wd, 1)};
    RtTensor out = tens(y, 4, yd, 1);
    RtKernelFn fn = rt_kernel_find("rt_k_conv_f32");
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_equal(fn(&ctx, &p, in, 2, &out, 1), ONNXC_ERR_SHAPE);
    assert_true(strlen(ctx.errmsg) > 0);
}

static uint32_t lcg_state = 12345;
static float lcg_float(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)((lcg_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

/* Output size along one dim for explicit pads (floor mode). */
static int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
    return (in + pb + pe - ((k - 1) * d + 1)) / s + 1;
}

/* im2col + sgemm (and the depthwise path) against the direct loops on random data, over
 * 1-D/2-D/3-D configurations with groups, asymmetric pads, strides and dilations. Tolerance 1e-4 (sums of <= 200 products of
 * values in [-1, 1]); prints the largest difference. */
static void test_conv_im2col_vs_direct(void **state) {
    (void)state;
    struct {
        int ns, n, c, m, group;
        int64_t in[3], k[3], s[3], d[3], pb[3], pe[3];
        int bias;
    } cfg[] = {
        {2, 2, 3, 4, 1, {7, 6}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1},
        {2, 1, 4, 6, 2, {9, 8}, {3, 2}, {2, 1}, {1, 2}, {0, 1}, {2, 0}, 1},
        {2, 1, 6, 6, 6, {5, 5}, {3, 3}, {1, 2}, {2, 1}, {2, 1}, {2, 1}, 0},
        {1, 3, 2, 5, 1, {11}, {4}, {3}, {1}, {2}, {1}, 1},
        {3, 1, 2, 3, 1, {5, 4, 6}, {2, 3, 2}, {1, 2, 2}, {2, 1, 1}, {1, 0, 1}, {0, 1, 1}, 1},
        {2, 2, 8, 4, 1, {6, 6}, {1, 1}, {1, 1}, {1, 1}, {0, 0}, {0, 0}, 1}, /* pointwise */
        {1, 2, 3, 6, 3, {10}, {3}, {2}, {1}, {1}, {2}, 1},               /* depthwise x2 */
        {3, 1, 4, 4, 4, {4, 5, 6}, {3, 2, 3}, {1, 1, 2}, {1, 2, 1}, {1, 0, 2}, {1, 1, 0}, 1},
        {2, 1, 2, 2, 2, {3, 3}, {5, 5}, {1, 1}, {1, 1}, {2, 2}, {2, 2}, 0}, /* kernel > input */
        /* im2col in blocks of output rows: 144 x 258 floats per row, 4 Mi budget -> 112 rows
         * per block, 256 rows */
        {2, 1, 16, 4, 1, {256, 258}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}, 1},
    };
    double worst = 0;
    for (size_t ci = 0; ci < sizeof cfg / sizeof cfg[0]; ci++) {
        int ns = cfg[ci].ns;
        RtConvParams p;
        memset(&p, 0, sizeof p);
        p.nspatial = ns;
        p.group = cfg[ci].group;
        int64_t xd[5] = {cfg[ci].n, cfg[ci].c}, wd[5] = {cfg[ci].m, cfg[ci].c / cfg[ci].group},
                yd[5] = {cfg[ci].n, cfg[ci].m}, bd[1] = {cfg[ci].m};
        int64_t nx = xd[0] * xd[1], nw = wd[0] * wd[1], ny = yd[0] * yd[1];
        for (int i = 0; i < ns; i++) {
            p.kernel[i] = cfg[ci].k[i];
            p.stride[i] = cfg[ci].s[i];
            p.dilation[i] = cfg[ci].d[i];
            p.pad_begin[i] = cfg[ci].pb[i];
            p.pad_end[i] = cfg[ci].pe[i];
            xd[2 + i] = cfg[ci].in[i];
            wd[2 + i] = cfg[ci].k[i];
            yd[2 + i] = out_len(cfg[ci].in[i], cfg[ci].k[i], cfg[ci].s[i], cfg[ci].d[i],
                                cfg[ci].pb[i], cfg[ci].pe[i]);
            nx *= xd[2 + i];
            nw *= wd[2 + i];
            ny *= yd[2 + i];
        }
        float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw);
        float *b = malloc(sizeof(float) * (size_t)cfg[ci].m);
        float *y1 = malloc(sizeof(float) * (size_t)ny), *y2 = malloc(sizeof(float) * (size_t)ny);
        for (int64_t i = 0; i < nx; i++) x[i] = lcg_float();
        for (int64_t i = 0; i < nw; i++) w[i] = lcg_float();
        for (int i = 0; i < cfg[ci].m; i++) b[i] = lcg_float();
        RtTensor in[3] = {tens(x, ns + 2, xd, 1), tens(w, ns + 2, wd, 1),
                          cfg[ci].bias ? tens(b, 1, bd, 1) : absent};
        RtTensor o1 = tens(y1, ns + 2, yd, 1), o2 = tens(y2, ns + 2, yd, 1);
        assert_int_equal(run_kernel("rt_k_conv_ref_f32", &p, in, 3, &o1, 1), 0);
        assert_int_equal(run_kernel("rt_k_conv_f32", &p, in, 3, &o2, 1), 0);
        double md = 0;
        for (int64_t i = 0; i < ny; i++) md = fmax(md, fabs((double)y1[i] - (double)y2[i]));
        if (md > worst) worst = md;
        if (md > 1e-4) {
            print_error("config %zu: max |im2col - direct| = %g\n", ci, md);
            fail();
        }
        free(x);
        free(w);
        free(b);
        free(y1);
        free(y2);
    }
    print_message("im2col vs direct: largest difference %g\n", worst);
}

/* The basic conv (X = 0..8, W = 2x2 ones -> 8 12 20 24) on float16 and bfloat16 bit patterns,
 * written out by hand: float16 k = 0x3C00 (1), 0x4000 (2), 0x4200 (3), 0x4400 (4), 0x4500 (5),
 * 0x4600 (6), 0x4700 (7), 0x4800 (8); 12 = 0x4A00, 20 = 0x4D00, 24 = 0x4E00. bfloat16: 1 = 0x3F80,
 * 2 = 0x4000, 3 = 0x4040, 4 = 0x4080, 5 = 0x40A0, 6 = 0x40C0, 7 = 0x40E0, 8 = 0x4100,
 * 12 = 0x4140, 20 = 0x41A0, 24 = 0x41C0. MaxPool 2x2 stride 1 on the same X gives 4 5 7 8. */
static void test_conv_pool_half(void **state) {
    (void)state;
    uint16_t xh[9] = {0, 0x3C00, 0x4000, 0x4200, 0x4400, 0x4500, 0x4600, 0x4700, 0x4800};
    uint16_t xb[9] = {0, 0x3F80, 0x4000, 0x4040, 0x4080, 0x40A0, 0x40C0, 0x40E0, 0x4100};
    uint16_t wh[4] = {0x3C00, 0x3C00, 0x3C00, 0x3C00}, wb[4] = {0x3F80, 0x3F80, 0x3F80, 0x3F80};
    uint16_t want_h[4] = {0x4800, 0x4A00, 0x4D00, 0x4E00}, want_b[4] = {0x4100, 0x4140, 0x41A0,
                                                                         0x41C0};
    uint16_t pool_h[4] = {0x4400, 0x4500, 0x4700, 0x4800}, pool_b[4] = {0x4080, 0x40A0, 0x40E0,
                                                                         0x4100};
    int64_t xd[4] = {1, 1, 3, 3}, wd[4] = {1, 1, 2, 2}, yd[4] = {1, 1, 2, 2};
    RtConvParams p = conv_params2d(2, 2, 1, 1, 0, 1);
    RtPoolParams pp;
    memset(&pp, 0, sizeof pp);
    pp.nspatial = 2;
    for (int i = 0; i < 2; i++) pp.kernel[i] = 2, pp.stride[i] = pp.dilation[i] = 1;
    for (int bf = 0; bf < 2; bf++) {
        int dt = bf ? 16 : 10;
        uint16_t y[4];
        RtTensor in[2] = {tens(bf ? xb : xh, 4, xd, dt), tens(bf ? wb : wh, 4, wd, dt)};
        RtTensor out = tens(y, 4, yd, dt);
        assert_int_equal(run_kernel(bf ? "rt_k_conv_bf16" : "rt_k_conv_f16", &p, in, 2, &out, 1),
                         0);
        assert_memory_equal(y, bf ? want_b : want_h, sizeof y);
        int64_t idx[4];
        RtTensor outs[2] = {tens(y, 4, yd, dt), tens(idx, 4, yd, 7)};
        assert_int_equal(
            run_kernel(bf ? "rt_k_maxpool_bf16" : "rt_k_maxpool_f16", &pp, in, 1, outs, 2), 0);
        assert_memory_equal(y, bf ? pool_b : pool_h, sizeof y);
        int64_t wi[4] = {4, 5, 7, 8};
        assert_memory_equal(idx, wi, sizeof wi);
    }
}

/* ================================================================ pooling kernels */

static RtPoolParams pool_params2d(int64_t k, int64_t s, int64_t pad) {
    RtPoolParams p;
    memset(&p, 0, sizeof p);
    p.nspatial = 2;
    for (int i = 0; i < 2; i++) {
        p.kernel[i] = k;
        p.stride[i] = s;
        p.dilation[i] = 1;
        p.pad_begin[i] = p.pad_end[i] = pad;
    }
    return p;
}

/* ONNX's maxpool_2d_ceil example: X = 1..16 (4x4), kernel 3, stride 2, ceil_mode -> 2x2
 * [[11, 12], [15, 16]]: windows rows/cols {0..2, 2..3}. Indices (row-major) 10, 11, 14, 15;
 * column-major h + 4*w: 11 at (2,2) -> 10, 12 at (2,3) -> 14, 15 at (3,2) -> 11, 16 -> 15. */
static void test_maxpool_ceil_indices(void **state) {
    (void)state;
    float x[16], y[4];
    int64_t idx[4];
    for (int i = 0; i < 16; i++) x[i] = (float)(i + 1);
    int64_t xd[4] = {1, 1, 4, 4}, yd[4] = {1, 1, 2, 2};
    RtPoolParams p = pool_params2d(3, 2, 0);
    RtTensor in = tens(x, 4, xd, 1);
    RtTensor out[2] = {tens(y, 4, yd, 1), tens(idx, 4, yd, 7)};
    assert_int_equal(run_kernel("rt_k_maxpool_f32", &p, &in, 1, out, 2), 0);
    float want[4] = {11, 12, 15, 16};
    assert_floats(y, want, 4, 0);
    int64_t wi[4] = {10, 11, 14, 15};
    for (int i = 0; i < 4; i++) assert_int_equal(idx[i], wi[i]);
    p.storage_order = 1;
    assert_int_equal(run_kernel("rt_k_maxpool_f32", &p, &in, 1, out, 2), 0);
    int64_t wc[4] = {10, 14, 11, 15};
    for (int i = 0; i < 4; i++) assert_int_equal(idx[i], wc[i]);
}

/* Second image/channel offsets the indices by the plane size; padding never wins even when
 * every value is negative: X (1x2x2x2) ch0 = -1 -2 -3 -4, ch1 = -5 -6 -7 -8, kernel 2, pads 1,
 * stride 2 -> 2x2 per channel, each window holding one real element. */
static void test_maxpool_pads_negative(void **state) {
    (void)state;
    float x[8] = {-1, -2, -3, -4, -5, -6, -7, -8}, y[8];
    int64_t idx[8];
    int64_t xd[4] = {1, 2, 2, 2}, yd[4] = {1, 2, 2, 2};
    RtPoolParams p = pool_params2d(2, 2, 1);
    RtTensor in = tens(x, 4, xd, 1);
    RtTensor out[2] = {tens(y, 4, yd, 1), tens(idx, 4, yd, 7)};
    assert_int_equal(run_kernel("rt_k_maxpool_f32", &p, &in, 1, out, 2), 0);
    assert_floats(y, x, 8, 0);
    for (int i = 0; i < 8; i++) assert_int_equal(idx[i], i);
}

/* uint8 MaxPool, 1-D: x = 3 9 2 7 1, kernel 2 stride 2 (floor) -> 9 7. */
static void test_maxpool_u8(void **state) {
    (void)state;
    uint8_t x[5] = {3, 9, 2, 7, 1}, y[2];
    int64_t xd[3] = {1, 1, 5}, yd[3] = {1, 1, 2};
    RtPoolParams p;
    memset(&p, 0, sizeof p);
    p.nspatial = 1;
    p.kernel[0] = 2;
    p.stride[0] = 2;
    p.dilation[0] = 1;
    RtTensor in = tens(x, 3, xd, 2), out = tens(y, 3, yd, 2);
    assert_int_equal(run_kernel("rt_k_maxpool_u8", &p, &in, 1, &out, 1), 0);
    assert_int_equal(y[0], 9);
    assert_int_equal(y[1], 7);
}

/* X = 0..8 (3x3), kernel 2, stride 2, pads 1 -> 2x2. Windows: (0,0) {x00} = 0; (0,1) {x01, x02}
 * = 1+2; (1,0) {x10, x20} = 3+6; (1,1) {x11,x12,x21,x22} = 4+5+7+8. Excluding pads: 0, 1.5,
 * 4.5, 6; including pads (divide by 4): 0, 0.75, 2.25, 6. */
static void test_avgpool_pads(void **state) {
    (void)state;
    float x[9], y[4];
    for (int i = 0; i < 9; i++) x[i] = (float)i;
    int64_t xd[4] = {1, 1, 3, 3}, yd[4] = {1, 1, 2, 2};
    RtPoolParams p = pool_params2d(2, 2, 1);
    RtTensor in = tens(x, 4, xd, 1), out = tens(y, 4, yd, 1);
    assert_int_equal(run_kernel("rt_k_avgpool_f32", &p, &in, 1, &out, 1), 0);
    float want0[4] = {0, 1.5f, 4.5f, 6};
    assert_floats(y, want0, 4, 1e-6f);
    p.count_include_pad = 1;
    assert_int_equal(run_kernel("rt_k_avgpool_f32", &p, &in, 1, &out, 1), 0);
    float want1[4] = {0, 0.75f, 2.25f, 6};
    assert_floats(y, want1, 4, 1e-6f);
}

/* ceil_mode window past the end padding: 1-D x = 1 2 3 4 5, kernel 2, stride 2, no pads, ceil
 * -> 3 outputs: (1+2)/2, (3+4)/2, and the last window {5, beyond} = 5 whether or not padding
 * counts (there is no padding to count). */
static void test_avgpool_ceil(void **state) {
    (void)state;
    float x[5] = {1, 2, 3, 4, 5}, y[3];
    int64_t xd[3] = {1, 1, 5}, yd[3] = {1, 1, 3};
    RtPoolParams p;
    memset(&p, 0, sizeof p);
    p.nspatial = 1;
    p.kernel[0] = 2;
    p.stride[0] = 2;
    p.dilation[0] = 1;
    RtTensor in = tens(x, 3, xd, 1), out = tens(y, 3, yd, 1);
    float want[3] = {1.5f, 3.5f, 5};
    for (int cip = 0; cip < 2; cip++) {
        p.count_include_pad = cip;
        assert_int_equal(run_kernel("rt_k_avgpool_f32", &p, &in, 1, &out, 1), 0);
        assert_floats(y, want, 3, 1e-6f);
    }
}

/* Per-channel means: ch0 = 1..4 -> 2.5, ch1 = 10 20 30 40 -> 25. */
static void test_global_avgpool(void **state) {
    (void)state;
    float x[8] = {1, 2, 3, 4, 10, 20, 30, 40}, y[2];
    int64_t xd[4] = {1, 2, 2, 2}, yd[4] = {1, 2, 1, 1};
    RtTensor in = tens(x, 4, xd, 1), out = tens(y, 4, yd, 1);
    assert_int_equal(run_kernel("rt_k_global_avgpool_f32", NULL, &in, 1, &out, 1), 0);
    float want[2] = {2.5f, 25};
    assert_floats(y, want, 2, 1e-6f);
}

/* ================================================================ shape kernels */

/* 2x3 -> 3x2: [[0 1 2] [3 4 5]]^T = [[0 3] [1 4] [2 5]]. */
static void test_transpose_2d(void **state) {
    (void)state;
    int32_t x[6] = {0, 1, 2, 3, 4, 5}, y[6];
    int64_t xd[2] = {2, 3}, yd[2] = {3, 2};
    RtTransposeParams p;
    memset(&p, 0, sizeof p);
    p.rank = 2;
    p.perm[0] = 1;
    p.perm[1] = 0;
    RtTensor in = tens(x, 2, xd, 6), out = tens(y, 2, yd, 6);
    assert_int_equal(run_kernel("rt_k_transpose", &p, &in, 1, &out, 1), 0);
    int32_t want[6] = {0, 3, 1, 4, 2, 5};
    for (int i = 0; i < 6; i++) assert_int_equal(y[i], want[i]);
}

/* Every permutation of a 2x3x4 tensor whose element (a,b,c) holds the code 100a + 10b + c:
 * the output element at (i,j,k) must hold the code of the input coordinate it came from. Also
 * run on int64 and on 16-byte string records to cover the element sizes. */
static void test_transpose_3d_all_perms(void **state) {
    (void)state;
    static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    int64_t xd[3] = {2, 3, 4};
    float x[24], y[24];
    IrString xs[24], ys[24];
    char codes[24][16];
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int c = 0; c < 4; c++) {
                int i = a * 12 + b * 4 + c;
                x[i] = (float)(100 * a + 10 * b + c);
                snprintf(codes[i], sizeof codes[i], "%d%d%d", a, b, c);
                xs[i].data = codes[i];
                xs[i].len = 3;
            }
    for (int pi = 0; pi < 6; pi++) {
        RtTransposeParams p;
        memset(&p, 0, sizeof p);
        p.rank = 3;
        int64_t yd[3];
        for (int i = 0; i < 3; i++) {
            p.perm[i] = perms[pi][i];
            yd[i] = xd[perms[pi][i]];
        }
        RtTensor in = tens(x, 3, xd, 1), out = tens(y, 3, yd, 1);
        assert_int_equal(run_kernel("rt_k_transpose", &p, &in, 1, &out, 1), 0);
        RtTensor ins = tens(xs, 3, xd, 8), outs = tens(ys, 3, yd, 8);
        assert_int_equal(run_kernel("rt_k_transpose", &p, &ins, 1, &outs, 1), 0);
        for (int i = 0; i < yd[0]; i++)
            for (int j = 0; j < yd[1]; j++)
                for (int k = 0; k < yd[2]; k++) {
                    int o[3] = {i, j, k}, src[3];
                    for (int t = 0; t < 3; t++) src[perms[pi][t]] = o[t];
                    int oi = (i * (int)yd[1] + j) * (int)yd[2] + k;
                    assert_int_equal((int)y[oi], 100 * src[0] + 10 * src[1] + src[2]);
                    char want[16];
                    snprintf(want, sizeof want, "%d%d%d", src[0], src[1], src[2]);
                    assert_int_equal(ys[oi].len, 3);
                    assert_memory_equal(ys[oi].data, want, 3);
                }
    }
}

static void test_transpose_rejects_bad_perm(void **state) {
    (void)state;
    float x[6] = {0}, y[6];
    int64_t xd[2] = {2, 3}, yd[2] = {3, 2};
    RtTransposeParams p;
    memset(&p, 0, sizeof p);
    p.rank = 2; /* perm {0, 0} */
    RtTensor in = tens(x, 2, xd, 1), out = tens(y, 2, yd, 1);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_not_equal(rt_kernel_find("rt_k_transpose")(&ctx, &p, &in, 1, &out, 1), 0);
}

/* Concat of [[1 2] [3 4]] and [[5 6]] along axis 0 = [[1 2] [3 4] [5 6]]; of [[1 2] [3 4]] and
 * [[7] [8]] along axis 1 = [[1 2 7] [3 4 8]]; an empty input contributes nothing. */
static void test_concat_axes(void **state) {
    (void)state;
    int64_t a[4] = {1, 2, 3, 4}, b[2] = {5, 6}, c[2] = {7, 8}, y[6];
    int64_t ad[2] = {2, 2}, bd[2] = {1, 2}, cd[2] = {2, 1}, ed[2] = {2, 0};
    RtConcatParams p = {0};
    RtTensor in0[2] = {tens(a, 2, ad, 7), tens(b, 2, bd, 7)};
    int64_t yd0[2] = {3, 2};
    RtTensor out = tens(y, 2, yd0, 7);
    assert_int_equal(run_kernel("rt_k_concat", &p, in0, 2, &out, 1), 0);
    int64_t want0[6] = {1, 2, 3, 4, 5, 6};
    assert_memory_equal(y, want0, sizeof want0);
    p.axis = 1;
    RtTensor in1[3] = {tens(a, 2, ad, 7), tens(NULL, 2, ed, 7), tens(c, 2, cd, 7)};
    int64_t yd1[2] = {2, 3};
    out = tens(y, 2, yd1, 7);
    assert_int_equal(run_kernel("rt_k_concat", &p, in1, 3, &out, 1), 0);
    int64_t want1[6] = {1, 2, 7, 3, 4, 8};
    assert_memory_equal(y, want1, sizeof want1);
    /* mismatching dims are an error */
    RtTensor bad[2] = {tens(a, 2, ad, 7), tens(b, 2, bd, 7)};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_equal(rt_kernel_find("rt_k_concat")(&ctx, &p, bad, 2, &out, 1), ONNXC_ERR_SHAPE);
}

static void test_dropout_mask_kernel(void **state) {
    (void)state;
    float x[3] = {1, -2, 3}, y[3];
    uint8_t m[3] = {7, 7, 7};
    int64_t d[1] = {3};
    RtTensor in = tens(x, 1, d, 1);
    RtTensor out[2] = {tens(y, 1, d, 1), tens(m, 1, d, 9)};
    assert_int_equal(run_kernel("rt_k_dropout_mask", NULL, &in, 1, out, 2), 0);
    assert_floats(y, x, 3, 0);
    for (int i = 0; i < 3; i++) assert_int_equal(m[i], 1);
}

/* rt_k_view_checked: Reshape 2x3x4 by [0, -1] must match a compiled [2, 12] (and fails against
 * [3, 8]); Squeeze [1, 3, 1] by axes [-1] gives [1, 3]; Unsqueeze [3] by axes [0, 2] gives
 * [1, 3, 1]; a repeated axis fails. */
static void test_view_checked_kernel(void **state) {
    (void)state;
    float x[24], y[24];
    for (int i = 0; i < 24; i++) x[i] = (float)i;
    int64_t xd[3] = {2, 3, 4}, sd[1] = {2}, shape[2] = {0, -1};
    RtViewCheckParams p = {0, 0};
    RtTensor in[2] = {tens(x, 3, xd, 1), tens(shape, 1, sd, 7)};
    int64_t yd[2] = {2, 12}, bad[2] = {3, 8};
    RtTensor out = tens(y, 2, yd, 1);
    assert_int_equal(run_kernel("rt_k_view_checked", &p, in, 2, &out, 1), 0);
    assert_floats(y, x, 24, 0);
    out = tens(y, 2, bad, 1);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_equal(rt_kernel_find("rt_k_view_checked")(&ctx, &p, in, 2, &out, 1),
                     ONNXC_ERR_SHAPE);

    int64_t qd[3] = {1, 3, 1}, ad[1] = {1}, axes[1] = {-1}, qy[2] = {1, 3};
    p.mode = 1;
    RtTensor qin[2] = {tens(x, 3, qd, 1), tens(axes, 1, ad, 7)};
    out = tens(y, 2, qy, 1);
    assert_int_equal(run_kernel("rt_k_view_checked", &p, qin, 2, &out, 1), 0);

    int64_t ud[1] = {3}, ad2[1] = {2}, axes2[2] = {0, 2}, uy[3] = {1, 3, 1}, rep[2] = {1, 1};
    p.mode = 2;
    RtTensor uin[2] = {tens(x, 1, ud, 1), tens(axes2, 1, ad2, 7)};
    out = tens(y, 3, uy, 1);
    assert_int_equal(run_kernel("rt_k_view_checked", &p, uin, 2, &out, 1), 0);
    RtTensor uin2[2] = {tens(x, 1, ud, 1), tens(rep, 1, ad2, 7)};
    assert_int_equal(rt_kernel_find("rt_k_view_checked")(&ctx, &p, uin2, 2, &out, 1),
                     ONNXC_ERR_SHAPE);
}

/* ================================================================ infer hooks */

/* A one-node graph under construction. */
typedef struct TG {
    IrModel *m;  /* owner */
    IrGraph *g;  /* the graph */
    IrDiag d;    /* diagnostics of infer/lower */
} TG;

static void tg_init(TG *t) {
    t->m = ir_model_create();
    t->g = ir_graph_create(t->m, NULL, "t");
    t->m->graph = t->g;
    ir_diag_init(&t->d, "test");
}

static void tg_free(TG *t) {
    ir_diag_free(&t->d);
    ir_model_destroy(t->m);
}

/* A graph input with static dims (a dim of -1 becomes the symbol "N"). */
static IrValue *tg_input(TG *t, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(t->g, name);
    int64_t tmp[IR_MAX_RANK];
    for (int i = 0; i < rank; i++) tmp[i] = dims[i] < 0 ? 0 : dims[i];
    ir_type_set_tensor(t->g->arena, &v->type, dt, rank, tmp);
    for (int i = 0; i < rank; i++)
        if (dims[i] < 0) {
            v->type.dims[i].value = -1;
            v->type.dims[i].sym = ir_arena_strdup(t->g->arena, "N");
        }
    ir_graph_add_input(t->g, v);
    return v;
}

/* A constant int64 vector initializer. */
static IrValue *tg_const_i64(TG *t, const char *name, int n, const int64_t *vals) {
    IrValue *v = ir_value_new(t->g, name);
    int64_t dn = n;
    v->init = ir_tensor_new(t->g->arena, IR_DT_INT64, 1, &dn);
    if (n) memcpy(v->init->data, vals, sizeof(int64_t) * (size_t)n);
    ir_type_set_tensor(t->g->arena, &v->type, IR_DT_INT64, 1, &dn);
    v->flags |= IR_VALUE_INITIALIZER;
    ir_graph_add_init(t->g, v);
    return v;
}

static IrNode *tg_node(TG *t, const char *op, int opset, int nin, IrValue **in, int nout) {
    IrValue *outs[4];
    for (int i = 0; i < nout; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "y%d", i);
        outs[i] = ir_value_new(t->g, nm);
    }
    return ir_node_new(t->g, NULL, "n", "", op, opset, nin, in, nout, outs);
}

static void attr_ints(IrNode *n, const char *name, int k, const int64_t *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INTS);
    a->n = k;
    a->ints = ir_arena_memdup(n->graph->arena, v, sizeof(int64_t) * (size_t)(k ? k : 1));
}

static void attr_int(IrNode *n, const char *name, int64_t v) {
    ir_node_add_attr(n, name, IR_ATTR_INT)->i = v;
}

static void attr_str(IrNode *n, const char *name, const char *s) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_STRING);
    a->s.data = ir_arena_strdup(n->graph->arena, s);
    a->s.len = strlen(s);
}

/* Checks output i's static dims. */
static void assert_dims(const IrNode *n, int i, int rank, const int64_t *want) {
    const IrType *t = &n->out[i]->type;
    assert_int_equal(t->kind, IR_TYPE_TENSOR);
    assert_int_equal(t->rank, rank);
    for (int k = 0; k < rank; k++) {
        if (t->dims[k].value != want[k])
            print_error("dim %d: got %lld want %lld\n", k, (long long)t->dims[k].value,
                        (long long)want[k]);
        assert_int_equal(t->dims[k].value, want[k]);
    }
}

/* Expects the infer hook to fail with a message containing `needle`. */
static void assert_infer_error(TG *t, IrNode *n, const char *needle) {
    assert_int_not_equal(op_infer_node(n, &t->d), 0);
    const char *msg = ir_diag_last(&t->d);
    if (!strstr(msg, needle)) print_error("message '%s' lacks '%s'\n", msg, needle);
    assert_non_null(strstr(msg, needle));
}

/* Conv output shapes: 1x1x7x5 input, 3x3 kernel:
 *  pads 1, strides 2 -> floor((7+2-3)/2)+1 = 4, floor((5+2-3)/2)+1 = 3;
 *  SAME_UPPER stride 2 -> ceil(7/2) = 4, ceil(5/2) = 3, with total pads (4-1)*2+3-7 = 2 ->
 *    1/1 and (3-1)*2+3-5 = 2 -> 1/1;
 *  SAME_LOWER stride 1 dilation 2 (extent 5) -> 7, 5 with pads 4 -> 2/2;
 *  VALID -> 5, 3;  asymmetric pads [1,0,0,2] stride 1 -> 7+1-3+1 = 6, 5+2-3+1 = 5;
 *  group 2 with 4 input channels and W [6, 2, 3, 3] -> 6 channels. Symbolic N flows through. */
static void test_infer_conv_shapes(void **state) {
    (void)state;
    struct {
        const char *auto_pad;
        int64_t pads[4], strides[2], dil[2];
        int64_t want[2], pb[2], pe[2];
    } cases[] = {
        {NULL, {1, 1, 1, 1}, {2, 2}, {1, 1}, {4, 3}, {1, 1}, {1, 1}},
        {"SAME_UPPER", {0, 0, 0, 0}, {2, 2}, {1, 1}, {4, 3}, {1, 1}, {1, 1}},
        {"SAME_LOWER", {0, 0, 0, 0}, {1, 1}, {2, 2}, {7, 5}, {2, 2}, {2, 2}},
        {"VALID", {0, 0, 0, 0}, {1, 1}, {1, 1}, {5, 3}, {0, 0}, {0, 0}},
        {NULL, {1, 0, 0, 2}, {1, 1}, {1, 1}, {6, 5}, {1, 0}, {0, 2}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        TG t;
        tg_init(&t);
        int64_t xd[4] = {-1, 4, 7, 5}, wd[4] = {6, 2, 3, 3}, bd[1] = {6};
        IrValue *in[3] = {tg_input(&t, "x", IR_DT_FLOAT, 4, xd),
                          tg_input(&t, "w", IR_DT_FLOAT, 4, wd),
                          tg_input(&t, "b", IR_DT_FLOAT, 1, bd)};
        IrNode *n = tg_node(&t, "Conv", 11, 3, in, 1);
        attr_int(n, "group", 2);
        if (cases[c].auto_pad) attr_str(n, "auto_pad", cases[c].auto_pad);
        else attr_ints(n, "pads", 4, cases[c].pads);
        attr_ints(n, "strides", 2, cases[c].strides);
        attr_ints(n, "dilations", 2, cases[c].dil);
        assert_int_equal(op_infer_node(n, &t.d), 0);
        const IrType *ty = &n->out[0]->type;
        assert_int_equal(ty->rank, 4);
        assert_non_null(ty->dims[0].sym);
        assert_string_equal(ty->dims[0].sym, "N");
        assert_int_equal(ty->dims[1].value, 6);
        assert_int_equal(ty->dims[2].value, cases[c].want[0]);
        assert_int_equal(ty->dims[3].value, cases[c].want[1]);
        /* lower with N fixed: resolved pads land in the params */
        in[0]->type.dims[0].value = 2;
        in[0]->type.dims[0].sym = NULL;
        ty->dims[0] = in[0]->type.dims[0];
        assert_int_equal(op_lower_node(n, &t.d), 0);
        assert_string_equal(n->kernel, "rt_k_conv_f32");
        const RtConvParams *p = n->params;
        assert_int_equal(p->nspatial, 2);
        assert_int_equal(p->group, 2);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(p->pad_begin[i], cases[c].pb[i]);
            assert_int_equal(p->pad_end[i], cases[c].pe[i]);
            assert_int_equal(p->kernel[i], 3);
        }
        tg_free(&t);
    }
}

/* Conv attribute errors. */
static void test_infer_conv_errors(void **state) {
    (void)state;
    int64_t xd[4] = {1, 3, 5, 5}, wd[4] = {2, 3, 3, 3};
    struct {
        const char *what;
        const char *needle;
    } cases[] = {
        {"negative pads", "pads"},
        {"kernel too large", "larger than the padded input"},
        {"kernel_shape mismatch", "kernel_shape"},
        {"bad group", "group"},
        {"zero stride", "strides"},
        {"bad auto_pad", "auto_pad"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        TG t;
        tg_init(&t);
        int64_t xd2[4] = {1, 3, 2, 5};
        IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT, 4, c == 1 ? xd2 : xd),
                          tg_input(&t, "w", IR_DT_FLOAT, 4, wd)};
        IrNode *n = tg_node(&t, "Conv", 11, 2, in, 1);
        switch (c) {
        case 0: attr_ints(n, "pads", 4, (int64_t[]){0, -1, 0, 0}); break;
        case 1: break; /* 2 rows < 3-row kernel */
        case 2: attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 2}); break;
        case 3: attr_int(n, "group", 2); break;
        case 4: attr_ints(n, "strides", 2, (int64_t[]){1, 0}); break;
        case 5: attr_str(n, "auto_pad", "SAME"); break;
        }
        assert_infer_error(&t, n, cases[c].needle);
        tg_free(&t);
    }
}

/* Pool output shapes on a 1x2x5x5 input, kernel 2:
 *  stride 2 floor -> 2x2; ceil_mode -> 3x3; pads 1 + ceil -> floor((5+2-2)/2)+1 = 3, ceil
 *  (5/2 -> 3)+1 = 4 but the 4th window starts at 3*2 = 6 >= 5+1 -> 3;
 *  kernel 3 stride 2 pads 1 ceil (ONNX's averagepool_2d_ceil_last_window_starts_on_pad shape
 *  logic) on 5: ceil((5+2-3)/2)+1 = 3, window 3 starts at 4 < 6 -> 3;
 *  SAME_UPPER stride 2 -> 3x3; MaxPool Indices output gets int64 with the same dims. */
static void test_infer_pool_shapes(void **state) {
    (void)state;
    struct {
        const char *op, *auto_pad;
        int64_t k, s, pad, ceil;
        int64_t want;
    } cases[] = {
        {"MaxPool", NULL, 2, 2, 0, 0, 2},      {"MaxPool", NULL, 2, 2, 0, 1, 3},
        {"AveragePool", NULL, 2, 2, 1, 1, 3},  {"AveragePool", NULL, 3, 2, 1, 1, 3},
        {"MaxPool", "SAME_UPPER", 2, 2, 0, 0, 3}, {"AveragePool", "VALID", 3, 1, 0, 0, 3},
        {"MaxPool", NULL, 1, 3, 0, 1, 2},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        TG t;
        tg_init(&t);
        int64_t xd[4] = {1, 2, 5, 5};
        IrValue *in[1] = {tg_input(&t, "x", IR_DT_FLOAT, 4, xd)};
        int maxp = strcmp(cases[c].op, "MaxPool") == 0;
        IrNode *n = tg_node(&t, cases[c].op, 12, 1, in, maxp ? 2 : 1);
        attr_ints(n, "kernel_shape", 2, (int64_t[]){cases[c].k, cases[c].k});
        attr_ints(n, "strides", 2, (int64_t[]){cases[c].s, cases[c].s});
        if (cases[c].pad) attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
        if (cases[c].auto_pad) attr_str(n, "auto_pad", cases[c].auto_pad);
        attr_int(n, "ceil_mode", cases[c].ceil);
        if (op_infer_node(n, &t.d)) print_error("%s\n", ir_diag_last(&t.d));
        int64_t want[4] = {1, 2, cases[c].want, cases[c].want};
        assert_dims(n, 0, 4, want);
        if (maxp) {
            assert_int_equal(n->out[1]->type.dtype, IR_DT_INT64);
            assert_dims(n, 1, 4, want);
        }
        assert_int_equal(op_lower_node(n, &t.d), 0);
        tg_free(&t);
    }
}

/* Symbolic spatial dims: a symbolic H (the "N" symbol of tg_input) flows through a 1-tap stride-1
 * window and through SAME_UPPER with stride 1, and becomes unknown (value -1, no symbol) under a
 * 3-tap unpadded window. float16 Conv lowers to the float16 kernel. */
static void test_infer_symbolic_spatial(void **state) {
    (void)state;
    const char *auto_pads[3] = {NULL, "SAME_UPPER", NULL};
    int64_t ks[3] = {1, 3, 3};
    for (int c = 0; c < 3; c++) {
        TG t;
        tg_init(&t);
        int64_t xd[4] = {1, 2, -1, 5};
        IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 4, xd);
        IrNode *n = tg_node(&t, "MaxPool", 12, 1, &x, 1);
        attr_ints(n, "kernel_shape", 2, (int64_t[]){ks[c], ks[c]});
        if (auto_pads[c]) attr_str(n, "auto_pad", auto_pads[c]);
        assert_int_equal(op_infer_node(n, &t.d), 0);
        const IrDim *h = &n->out[0]->type.dims[2];
        if (c < 2) {
            assert_non_null(h->sym);
            assert_string_equal(h->sym, "N");
        } else {
            assert_null(h->sym);
            assert_true(h->value < 0);
        }
        assert_int_equal(n->out[0]->type.dims[3].value, c == 2 ? 3 : 5);
        tg_free(&t);
    }
    TG t;
    tg_init(&t);
    int64_t xd[4] = {1, 2, 5, 5}, wd[4] = {3, 2, 3, 3};
    IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT16, 4, xd),
                      tg_input(&t, "w", IR_DT_FLOAT16, 4, wd)};
    IrNode *n = tg_node(&t, "Conv", 11, 2, in, 1);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 4, (int64_t[]){1, 3, 3, 3});
    assert_int_equal(op_lower_node(n, &t.d), 0);
    assert_string_equal(n->kernel, "rt_k_conv_f16");
    tg_free(&t);
}

static void test_infer_pool_errors(void **state) {
    (void)state;
    int64_t xd[4] = {1, 2, 5, 5}, x3[3] = {1, 2, 5};
    TG t;
    tg_init(&t);
    IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 4, xd);
    IrNode *n = tg_node(&t, "MaxPool", 12, 1, &x, 1);
    assert_infer_error(&t, n, "kernel_shape");                     /* required */
    attr_ints(n, "kernel_shape", 2, (int64_t[]){6, 6});
    assert_infer_error(&t, n, "larger than the padded input");     /* 6 > 5 */
    tg_free(&t);

    tg_init(&t);
    x = tg_input(&t, "x", IR_DT_FLOAT, 3, x3);
    n = tg_node(&t, "AveragePool", 19, 1, &x, 1);
    attr_ints(n, "kernel_shape", 1, (int64_t[]){2});
    attr_ints(n, "pads", 2, (int64_t[]){-1, 0});
    assert_infer_error(&t, n, "pads");
    tg_free(&t);

    tg_init(&t);
    x = tg_input(&t, "x", IR_DT_INT32, 3, x3);
    n = tg_node(&t, "MaxPool", 12, 1, &x, 1);
    attr_ints(n, "kernel_shape", 1, (int64_t[]){2});
    assert_infer_error(&t, n, "element type");
    tg_free(&t);
}

static void test_infer_global_avgpool(void **state) {
    (void)state;
    TG t;
    tg_init(&t);
    int64_t xd[5] = {-1, 3, 4, 5, 6};
    IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 5, xd);
    IrNode *n = tg_node(&t, "GlobalAveragePool", 1, 1, &x, 1);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    const IrType *ty = &n->out[0]->type;
    assert_int_equal(ty->rank, 5);
    assert_string_equal(ty->dims[0].sym, "N");
    assert_int_equal(ty->dims[1].value, 3);
    for (int i = 2; i < 5; i++) assert_int_equal(ty->dims[i].value, 1);
    tg_free(&t);
}

/* Reshape of 2x3x4: [0, -1] -> [2, 12]; [-1, 2] -> [12, 2]; [4, 0, -1] -> [4, 3, 2];
 * allowzero with [0, 4] on an empty input [0, 4] -> [0, 4]; symbolic N x 3 x 4 with [0, -1] ->
 * [N, 12] and with [-1, 12] -> [N, 12] (the symbol cancels). */
static void test_infer_reshape(void **state) {
    (void)state;
    struct {
        int n;
        int64_t shape[4];
        int rank;
        int64_t want[4];
    } cases[] = {
        {2, {0, -1}, 2, {2, 12}},
        {2, {-1, 2}, 2, {12, 2}},
        {3, {4, 0, -1}, 3, {4, 3, 2}},
        {1, {-1}, 1, {24}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        TG t;
        tg_init(&t);
        int64_t xd[3] = {2, 3, 4};
        IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT, 3, xd),
                          tg_const_i64(&t, "s", cases[c].n, cases[c].shape)};
        IrNode *n = tg_node(&t, "Reshape", 14, 2, in, 1);
        assert_int_equal(op_infer_node(n, &t.d), 0);
        assert_dims(n, 0, cases[c].rank, cases[c].want);
        assert_int_equal(op_lower_node(n, &t.d), 0);
        assert_string_equal(n->kernel, "rt_k_copy");
        tg_free(&t);
    }
    /* allowzero */
    TG t;
    tg_init(&t);
    int64_t ed[2] = {0, 4};
    IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT, 2, ed),
                      tg_const_i64(&t, "s", 3, (int64_t[]){4, 0, 1})};
    IrNode *n = tg_node(&t, "Reshape", 14, 2, in, 1);
    attr_int(n, "allowzero", 1);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 3, (int64_t[]){4, 0, 1});
    tg_free(&t);
    /* symbolic */
    for (int c = 0; c < 2; c++) {
        tg_init(&t);
        int64_t sd[3] = {-1, 3, 4};
        int64_t sh[2][2] = {{0, -1}, {-1, 12}};
        IrValue *in2[2] = {tg_input(&t, "x", IR_DT_FLOAT, 3, sd), tg_const_i64(&t, "s", 2, sh[c])};
        n = tg_node(&t, "Reshape", 14, 2, in2, 1);
        assert_int_equal(op_infer_node(n, &t.d), 0);
        const IrType *ty = &n->out[0]->type;
        assert_int_equal(ty->rank, 2);
        assert_non_null(ty->dims[0].sym);
        assert_string_equal(ty->dims[0].sym, "N");
        assert_int_equal(ty->dims[1].value, 12);
        tg_free(&t);
    }
}

static void test_infer_reshape_errors(void **state) {
    (void)state;
    int64_t xd[3] = {2, 3, 4};
    struct {
        int n;
        int64_t shape[3];
        const char *needle;
    } cases[] = {
        {2, {-1, -1}, "more than one -1"},
        {2, {5, -1}, "cannot reshape"},
        {2, {5, 5}, "cannot reshape"},
        {2, {-2, 12}, "target shape[0]"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        TG t;
        tg_init(&t);
        IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT, 3, xd),
                          tg_const_i64(&t, "s", cases[c].n, cases[c].shape)};
        IrNode *n = tg_node(&t, "Reshape", 14, 2, in, 1);
        assert_infer_error(&t, n, cases[c].needle);
        tg_free(&t);
    }
    /* a computed shape */
    TG t;
    tg_init(&t);
    int64_t sd[1] = {2};
    IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT, 3, xd),
                      tg_input(&t, "s", IR_DT_INT64, 1, sd)};
    IrNode *n = tg_node(&t, "Reshape", 14, 2, in, 1);
    assert_infer_error(&t, n, "Reshape with a computed shape is not supported yet");
    /* ... unless the model declares a static output type with the same element count and the
     * shape input's length as rank: kept, and checked at run time */
    int64_t wrong[2] = {5, 5}, good[2] = {6, 4};
    ir_type_set_tensor(t.g->arena, &n->out[0]->type, IR_DT_FLOAT, 2, wrong);
    assert_infer_error(&t, n, "Reshape with a computed shape is not supported yet");
    ir_type_set_tensor(t.g->arena, &n->out[0]->type, IR_DT_FLOAT, 2, good);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 2, good);
    assert_int_equal(op_lower_node(n, &t.d), 0);
    assert_string_equal(n->kernel, "rt_k_view_checked");
    tg_free(&t);
}

/* Flatten of 2x3x4x5: axis 0 -> [1, 120]; 2 -> [6, 20]; -1 -> [24, 5]; 4 -> [120, 1]. */
static void test_infer_flatten(void **state) {
    (void)state;
    int64_t axes[4] = {0, 2, -1, 4}, want[4][2] = {{1, 120}, {6, 20}, {24, 5}, {120, 1}};
    for (int c = 0; c < 4; c++) {
        TG t;
        tg_init(&t);
        int64_t xd[4] = {2, 3, 4, 5};
        IrValue *x = tg_input(&t, "x", IR_DT_UINT8, 4, xd);
        IrNode *n = tg_node(&t, "Flatten", 13, 1, &x, 1);
        attr_int(n, "axis", axes[c]);
        assert_int_equal(op_infer_node(n, &t.d), 0);
        assert_dims(n, 0, 2, want[c]);
        assert_int_equal(n->out[0]->type.dtype, IR_DT_UINT8);
        tg_free(&t);
    }
    TG t;
    tg_init(&t);
    int64_t xd[2] = {2, 3};
    IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 2, xd);
    IrNode *n = tg_node(&t, "Flatten", 13, 1, &x, 1);
    attr_int(n, "axis", 3);
    assert_infer_error(&t, n, "out of range");
    tg_free(&t);
}

/* Transpose: default perm reverses (2x3x4 -> 4x3x2); perm {1, 2, 0} -> 3x4x2; errors for a
 * non-permutation and a wrong length. */
static void test_infer_transpose(void **state) {
    (void)state;
    int64_t xd[3] = {2, 3, 4};
    TG t;
    tg_init(&t);
    IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 3, xd);
    IrNode *n = tg_node(&t, "Transpose", 13, 1, &x, 1);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 3, (int64_t[]){4, 3, 2});
    assert_int_equal(op_lower_node(n, &t.d), 0);
    const RtTransposeParams *p = n->params;
    assert_int_equal(p->rank, 3);
    assert_int_equal(p->perm[0], 2);
    assert_int_equal(p->perm[2], 0);
    tg_free(&t);

    tg_init(&t);
    x = tg_input(&t, "x", IR_DT_FLOAT, 3, xd);
    n = tg_node(&t, "Transpose", 13, 1, &x, 1);
    attr_ints(n, "perm", 3, (int64_t[]){1, 2, 0});
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 3, (int64_t[]){3, 4, 2});
    tg_free(&t);

    int64_t bad[2][3] = {{0, 0, 1}, {0, 1, 3}};
    for (int c = 0; c < 3; c++) {
        tg_init(&t);
        x = tg_input(&t, "x", IR_DT_FLOAT, 3, xd);
        n = tg_node(&t, "Transpose", 13, 1, &x, 1);
        if (c < 2) {
            attr_ints(n, "perm", 3, bad[c]);
            assert_infer_error(&t, n, "not a permutation");
        } else {
            attr_ints(n, "perm", 2, (int64_t[]){1, 0});
            assert_infer_error(&t, n, "perm has 2 entries");
        }
        tg_free(&t);
    }
}

/* Concat along axis -1 of 2x3 and 2x5 -> 2x8; mismatching other dims are an error; symbolic N
 * in dim 0 passes through. */
static void test_infer_concat(void **state) {
    (void)state;
    TG t;
    tg_init(&t);
    int64_t ad[2] = {-1, 3}, bd[2] = {-1, 5};
    IrValue *in[2] = {tg_input(&t, "a", IR_DT_FLOAT, 2, ad), tg_input(&t, "b", IR_DT_FLOAT, 2, bd)};
    IrNode *n = tg_node(&t, "Concat", 13, 2, in, 1);
    attr_int(n, "axis", -1);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_string_equal(n->out[0]->type.dims[0].sym, "N");
    assert_int_equal(n->out[0]->type.dims[1].value, 8);
    tg_free(&t);

    tg_init(&t);
    int64_t cd[2] = {2, 3}, dd[2] = {3, 3};
    IrValue *in2[2] = {tg_input(&t, "a", IR_DT_FLOAT, 2, cd), tg_input(&t, "b", IR_DT_FLOAT, 2, dd)};
    n = tg_node(&t, "Concat", 13, 2, in2, 1);
    attr_int(n, "axis", 1);
    assert_infer_error(&t, n, "dim 0");
    tg_free(&t);

    tg_init(&t);
    IrValue *in3[2] = {tg_input(&t, "a", IR_DT_FLOAT, 2, cd), tg_input(&t, "b", IR_DT_FLOAT, 2, dd)};
    n = tg_node(&t, "Concat", 13, 2, in3, 1);
    assert_infer_error(&t, n, "axis");
    tg_free(&t);
}

/* Squeeze/Unsqueeze: axes as attribute (opset 11) and as constant input (opset 13). */
static void test_infer_squeeze_unsqueeze(void **state) {
    (void)state;
    int64_t xd[4] = {1, 3, 1, 5};
    TG t;
    tg_init(&t);
    IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 4, xd);
    IrNode *n = tg_node(&t, "Squeeze", 11, 1, &x, 1);
    attr_ints(n, "axes", 1, (int64_t[]){-2});
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 3, (int64_t[]){1, 3, 5});
    tg_free(&t);

    tg_init(&t);
    x = tg_input(&t, "x", IR_DT_FLOAT, 4, xd);
    n = tg_node(&t, "Squeeze", 13, 1, &x, 1); /* no axes: all 1s */
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 2, (int64_t[]){3, 5});
    tg_free(&t);

    tg_init(&t);
    IrValue *in[2] = {tg_input(&t, "x", IR_DT_FLOAT, 4, xd), tg_const_i64(&t, "a", 1,
                                                                          (int64_t[]){1})};
    n = tg_node(&t, "Squeeze", 13, 2, in, 1);
    assert_infer_error(&t, n, "size 3");
    tg_free(&t);

    /* Unsqueeze 3x5 with axes {-1, 0} (output rank 4) -> 1x3x5x1 */
    tg_init(&t);
    int64_t yd[2] = {3, 5};
    IrValue *in2[2] = {tg_input(&t, "x", IR_DT_FLOAT, 2, yd),
                       tg_const_i64(&t, "a", 2, (int64_t[]){-1, 0})};
    n = tg_node(&t, "Unsqueeze", 13, 2, in2, 1);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 4, (int64_t[]){1, 3, 5, 1});
    assert_int_equal(op_lower_node(n, &t.d), 0);
    assert_string_equal(n->kernel, "rt_k_copy");
    tg_free(&t);

    tg_init(&t);
    x = tg_input(&t, "x", IR_DT_FLOAT, 2, yd);
    n = tg_node(&t, "Unsqueeze", 11, 1, &x, 1);
    attr_ints(n, "axes", 2, (int64_t[]){1, 1});
    assert_infer_error(&t, n, "repeated");
    tg_free(&t);
}

/* Constant from value_ints = {4, 5, 6}: an int64 [3] output whose init holds the values;
 * value_float 2.5 gives a scalar. Two value attributes are an error. */
static void test_infer_constant(void **state) {
    (void)state;
    TG t;
    tg_init(&t);
    IrNode *n = tg_node(&t, "Constant", 13, 0, NULL, 1);
    attr_ints(n, "value_ints", 3, (int64_t[]){4, 5, 6});
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_dims(n, 0, 1, (int64_t[]){3});
    assert_int_equal(n->out[0]->type.dtype, IR_DT_INT64);
    assert_non_null(n->out[0]->init);
    const int64_t *v = n->out[0]->init->data;
    assert_int_equal(v[0], 4);
    assert_int_equal(v[2], 6);
    tg_free(&t);

    tg_init(&t);
    n = tg_node(&t, "Constant", 13, 0, NULL, 1);
    ir_node_add_attr(n, "value_float", IR_ATTR_FLOAT)->f = 2.5f;
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_int_equal(n->out[0]->type.rank, 0);
    assert_true(*(const float *)n->out[0]->init->data == 2.5f);
    attr_int(n, "value_int", 1);
    assert_infer_error(&t, n, "exactly one");
    tg_free(&t);
}

/* Dropout: mask is bool; training_mode true with ratio 0.5 is unsupported; with ratio 0 fine. */
static void test_infer_dropout(void **state) {
    (void)state;
    int64_t xd[2] = {2, 3};
    TG t;
    tg_init(&t);
    IrValue *x = tg_input(&t, "x", IR_DT_FLOAT, 2, xd);
    IrNode *n = tg_node(&t, "Dropout", 13, 1, &x, 2);
    assert_int_equal(op_infer_node(n, &t.d), 0);
    assert_int_equal(n->out[1]->type.dtype, IR_DT_BOOL);
    assert_dims(n, 1, 2, xd);
    assert_int_equal(op_lower_node(n, &t.d), 0);
    assert_string_equal(n->kernel, "rt_k_dropout_mask");
    tg_free(&t);

    for (int c = 0; c < 2; c++) {
        tg_init(&t);
        IrValue *r = ir_value_new(t.g, "r"), *tm = ir_value_new(t.g, "t");
        r->init = ir_tensor_new(t.g->arena, IR_DT_FLOAT, 0, NULL);
        *(float *)r->init->data = c == 0 ? 0.5f : 0.0f;
        ir_type_set_tensor(t.g->arena, &r->type, IR_DT_FLOAT, 0, NULL);
        tm->init = ir_tensor_new(t.g->arena, IR_DT_BOOL, 0, NULL);
        *(uint8_t *)tm->init->data = 1;
        ir_type_set_tensor(t.g->arena, &tm->type, IR_DT_BOOL, 0, NULL);
        IrValue *in[3] = {tg_input(&t, "x", IR_DT_FLOAT, 2, xd), r, tm};
        n = tg_node(&t, "Dropout", 13, 3, in, 1);
        if (c == 0) assert_infer_error(&t, n, "training mode");
        else {
            assert_int_equal(op_infer_node(n, &t.d), 0);
            assert_int_equal(op_lower_node(n, &t.d), 0);
            assert_string_equal(n->kernel, "rt_k_copy");
        }
        tg_free(&t);
    }
}

/* ================================================================ ONNX backend node tests */

/* Runs the node test folder `dir` (model.onnx + test_data_set_0) through the frontend,
 * pass_infer, pass_lower and the kernels, and compares every output. With freeze_params, graph
 * inputs that feed a shape/axes/ratio slot are bound as constants (counted in *nfrozen).
 * Returns 1 on a match, 0 otherwise (reason in why). */
static int run_backend_test(const char *dir, int freeze_params, int *nfrozen, char *why,
                            size_t cap) {
    char path[1024];
    IrDiag d;
    ir_diag_init(&d, dir);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    IrModel *m = fe_load_model(path, NULL, &d);
    int ok = 0;
    void **buf = NULL;
    RtTensor *rin = NULL, *rout = NULL;
    IrArena *a = ir_arena_create();
    if (!m) {
        snprintf(why, cap, "load: %s", ir_diag_last(&d));
        goto done;
    }
    IrGraph *g = m->graph;
    /* feed inputs (values without an initializer, in order) */
    buf = calloc((size_t)g->nvalues + 1, sizeof(void *));
    int k = 0;
    for (int i = 0; i < g->ninputs; i++) {
        IrValue *v = g->inputs[i];
        if (v->init) continue;
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, k++);
        IrTensor *t = fe_read_tensor_pb(a, path, &d);
        if (!t) {
            snprintf(why, cap, "input: %s", ir_diag_last(&d));
            goto done;
        }
        buf[v->id] = t->data;
        /* the models' inputs are static; the data must agree */
        if (v->type.rank != t->rank) {
            snprintf(why, cap, "input rank mismatch");
            goto done;
        }
        /* The official tests feed Reshape's shape, Squeeze/Unsqueeze's axes and Dropout's ratio
         * as graph inputs; onnxc needs them at compile time, so bind such inputs as constants
         * (what specialising the model on its test data would do). */
        if (freeze_params) {
            for (IrNode *n = g->first; n; n = n->next) {
                int param_op = n->op == OP_Reshape || n->op == OP_Squeeze ||
                               n->op == OP_Unsqueeze || n->op == OP_Dropout;
                for (int s = 1; param_op && s < n->nin; s++)
                    if (n->in[s] == v) v->init = t;
            }
            if (v->init) (*nfrozen)++;
        }
    }
    if (pass_infer(g, &d) || pass_lower(g, &d)) {
        snprintf(why, cap, "compile: %s", ir_diag_last(&d));
        goto done;
    }
    rin = calloc(64, sizeof(RtTensor));
    rout = calloc(64, sizeof(RtTensor));
    for (IrNode *n = g->first; n; n = n->next) {
        if (!n->kernel) continue; /* constant */
        if (n->nin > 64 || n->nout > 64) goto done;
        for (int i = 0; i < n->nin; i++) {
            IrValue *v = n->in[i];
            if (!v) {
                rin[i] = absent;
                continue;
            }
            int64_t *dims = ir_arena_alloc(a, sizeof(int64_t) * (size_t)(v->type.rank + 1));
            for (int j = 0; j < v->type.rank; j++) dims[j] = v->type.dims[j].value;
            rin[i] = tens(v->init ? v->init->data : buf[v->id], v->type.rank, dims, v->type.dtype);
        }
        for (int i = 0; i < n->nout; i++) {
            IrValue *v = n->out[i];
            if (!v) {
                rout[i] = absent;
                continue;
            }
            int64_t nb;
            if (ir_type_nbytes(&v->type, &nb)) {
                snprintf(why, cap, "output %s not static", v->name);
                goto done;
            }
            int64_t *dims = ir_arena_alloc(a, sizeof(int64_t) * (size_t)(v->type.rank + 1));
            for (int j = 0; j < v->type.rank; j++) dims[j] = v->type.dims[j].value;
            buf[v->id] = ir_arena_alloc(a, (size_t)nb + 1);
            rout[i] = tens(buf[v->id], v->type.rank, dims, v->type.dtype);
        }
        RtKernelFn fn = rt_kernel_find(n->kernel);
        if (!fn) {
            snprintf(why, cap, "no kernel %s", n->kernel);
            goto done;
        }
        RtCtx ctx;
        rt_ctx_init(&ctx);
        if (fn(&ctx, n->params, rin, n->nin, rout, n->nout)) {
            snprintf(why, cap, "%s: %s", n->kernel, ctx.errmsg);
            goto done;
        }
    }
    ok = 1;
    for (int i = 0; i < g->noutputs; i++) {
        IrValue *v = g->outputs[i];
        snprintf(path, sizeof path, "%s/test_data_set_0/output_%d.pb", dir, i);
        IrTensor *e = fe_read_tensor_pb(a, path, &d);
        if (!e) {
            snprintf(why, cap, "expected: %s", ir_diag_last(&d));
            ok = 0;
            break;
        }
        IrTensor act = *e;
        act.data = v->init ? v->init->data : buf[v->id];
        act.dtype = v->type.dtype;
        act.rank = v->type.rank;
        int64_t dims[IR_MAX_RANK];
        for (int j = 0; j < v->type.rank; j++) dims[j] = v->type.dims[j].value;
        act.dims = dims;
        ir_type_numel(&v->type, &act.numel);
        double mabs, mrel;
        if (!harness_compare(&act, e, 1e-3, 1e-7, &mabs, &mrel)) {
            snprintf(why, cap, "output %d differs (max abs %g, rel %g)", i, mabs, mrel);
            ok = 0;
            break;
        }
    }
done:
    free(buf);
    free(rin);
    free(rout);
    ir_arena_destroy(a);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return ok;
}

/* Test folders (under the data root) and name prefixes of the tests of these families. */
static const char *const family_prefixes[] = {
    "node/test_conv_", "node/test_maxpool_", "node/test_averagepool_",
    "node/test_globalaveragepool", "node/test_flatten_", "node/test_reshape_",
    "node/test_transpose_", "node/test_concat_", "node/test_squeeze", "node/test_unsqueeze_",
    "node/test_identity", "node/test_constant", "node/test_dropout_",
    "pytorch-converted/test_Conv1d", "pytorch-converted/test_Conv2d",
    "pytorch-converted/test_Conv3d", "pytorch-converted/test_AvgPool",
    "pytorch-converted/test_MaxPool", "pytorch-operator/test_operator_conv",
    "pytorch-operator/test_operator_maxpool", "pytorch-operator/test_operator_flatten",
    "pytorch-operator/test_operator_concat2", "pytorch-operator/test_operator_permute2",
    "pytorch-operator/test_operator_view"};

/* Tests of these families that are out of scope (other operators sharing a prefix, or values
 * that are not tensors). */
static int out_of_scope(const char *name) {
    return strstr(name, "_expanded") || strncmp(name, "test_constantofshape", 20) == 0 ||
           strncmp(name, "test_constant_pad", 17) == 0 ||
           strcmp(name, "test_identity_opt") == 0 || strcmp(name, "test_identity_sequence") == 0 ||
           strcmp(name, "test_operator_convtranspose") == 0;
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Collects the test names of folder `sub` matching the family prefixes into names[] (as
 * "sub/name"); returns the new count, or -1 if the folder is missing. */
static int collect_tests(const char *root, const char *sub, char **names, int nn, int cap) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, sub);
    DIR *dh = opendir(dir);
    if (!dh) return -1;
    struct dirent *de;
    size_t sl = strlen(sub);
    while ((de = readdir(dh)) && nn < cap) {
        int match = 0;
        for (size_t i = 0; i < sizeof family_prefixes / sizeof family_prefixes[0]; i++) {
            const char *p = family_prefixes[i];
            match |= strncmp(p, sub, sl) == 0 && p[sl] == '/' &&
                     strncmp(de->d_name, p + sl + 1, strlen(p + sl + 1)) == 0;
        }
        if (match && !out_of_scope(de->d_name)) {
            char full[1024];
            snprintf(full, sizeof full, "%s/%s", sub, de->d_name);
            names[nn++] = strdup(full);
        }
    }
    closedir(dh);
    return nn;
}

static void test_backend_node_data(void **state) {
    (void)state;
    const char *root = getenv("ONNXC_BACKEND_TESTS");
    if (!root) root = ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
    char *names[512];
    int nn = collect_tests(root, "node", names, 0, 512);
    if (nn < 0) {
        print_message("backend data not found at %s: skipped\n", root);
        skip();
    }
    int k = collect_tests(root, "pytorch-converted", names, nn, 512);
    if (k >= 0) nn = k;
    k = collect_tests(root, "pytorch-operator", names, nn, 512);
    if (k >= 0) nn = k;
    qsort(names, (size_t)nn, sizeof names[0], cmp_str);
    int pass = 0, pass_frozen = 0;
    for (int i = 0; i < nn; i++) {
        char dir[2048], why[600] = "";
        int nfrozen = 0;
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        if (run_backend_test(dir, 0, &nfrozen, why, sizeof why)) pass++;
        else if (run_backend_test(dir, 1, &nfrozen, why, sizeof why) && nfrozen > 0) {
            pass_frozen++;
            print_message("pass %s with its shape/axes/ratio inputs bound as constants\n",
                          names[i]);
        } else print_message("FAIL %s: %s\n", names[i], why);
        free(names[i]);
    }
    print_message("backend tests of the conv and shape families: %d/%d pass as given, "
                  "%d more with shape/axes/ratio inputs bound as constants\n",
                  pass, nn, pass_frozen);
    assert_true(nn > 0);
    assert_int_equal(pass + pass_frozen, nn);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_basic),
        cmocka_unit_test(test_conv_pad_stride_bias),
        cmocka_unit_test(test_conv_dilation),
        cmocka_unit_test(test_conv_groups),
        cmocka_unit_test(test_conv_depthwise_1d),
        cmocka_unit_test(test_conv_kernel_rejects_bad_shapes),
        cmocka_unit_test(test_conv_im2col_vs_direct),
        cmocka_unit_test(test_conv_pool_half),
        cmocka_unit_test(test_maxpool_ceil_indices),
        cmocka_unit_test(test_maxpool_pads_negative),
        cmocka_unit_test(test_maxpool_u8),
        cmocka_unit_test(test_avgpool_pads),
        cmocka_unit_test(test_avgpool_ceil),
        cmocka_unit_test(test_global_avgpool),
        cmocka_unit_test(test_transpose_2d),
        cmocka_unit_test(test_transpose_3d_all_perms),
        cmocka_unit_test(test_transpose_rejects_bad_perm),
        cmocka_unit_test(test_concat_axes),
        cmocka_unit_test(test_dropout_mask_kernel),
        cmocka_unit_test(test_view_checked_kernel),
        cmocka_unit_test(test_infer_conv_shapes),
        cmocka_unit_test(test_infer_conv_errors),
        cmocka_unit_test(test_infer_pool_shapes),
        cmocka_unit_test(test_infer_pool_errors),
        cmocka_unit_test(test_infer_symbolic_spatial),
        cmocka_unit_test(test_infer_global_avgpool),
        cmocka_unit_test(test_infer_reshape),
        cmocka_unit_test(test_infer_reshape_errors),
        cmocka_unit_test(test_infer_flatten),
        cmocka_unit_test(test_infer_transpose),
        cmocka_unit_test(test_infer_concat),
        cmocka_unit_test(test_infer_squeeze_unsqueeze),
        cmocka_unit_test(test_infer_constant),
        cmocka_unit_test(test_infer_dropout),
        cmocka_unit_test(test_backend_node_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
