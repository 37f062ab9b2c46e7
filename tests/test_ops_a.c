/* test_ops_a.c - tests of the elementwise, matmul and norm families: kernels called through
 * rt_kernel_find with hand- or numpy-computed expected values, the OpenBLAS path against the
 * plain C reference, the infer/lower hooks on small graphs built with the ir_* API, and a
 * kernel-level check against the ONNX backend test data (node/test_add*, ... test_logsoftmax*):
 * each model is loaded by the frontend, inferred and lowered by the op hooks, its nodes run
 * through their kernels on input_K.pb and the results compared with output_K.pb (rtol 1e-3,
 * atol 1e-7, as upstream).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <float.h>
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
#include "runtime/rt_halfconv.h"
#include "runtime/rt_matmul.h"
#include "runtime/rt_params.h"
#include "tools/harness.h"

/* ------------------------------------------------------------------ helpers */

static RtTensor T(void *data, int32_t dtype, int32_t rank, const int64_t *dims) {
    RtTensor t = {data, dims, rank, dtype};
    return t;
}

static const RtTensor ABSENT = {NULL, NULL, -1, 0};

/* Runs kernel `name`; returns its status (message printed on failure if `verbose`). */
static int run_k(const char *name, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int verbose) {
    RtKernelFn f = rt_kernel_find(name);
    assert_non_null(f);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int st = f(&ctx, params, in, nin, out, 1);
    if (st && verbose)
        fprintf(stderr, "%s: %s\n", name, ctx.errmsg);
    return st;
}

static void assert_floats(const float *got, const float *want, int n, double tol) {
    for (int i = 0; i < n; i++) {
        if (!(fabs((double)got[i] - (double)want[i]) <= tol)) {
            fprintf(stderr, "element %d: got %.9g, want %.9g\n", i, got[i], want[i]);
            fail();
        }
    }
}

static void assert_doubles(const double *got, const double *want, int n, double tol) {
    for (int i = 0; i < n; i++) {
        if (!(fabs(got[i] - want[i]) <= tol)) {
            fprintf(stderr, "element %d: got %.17g, want %.17g\n", i, got[i], want[i]);
            fail();
        }
    }
}

static RtEltParams elt(void) {
    RtEltParams p = {-1, 0, 0.01, 0.0, 0.0};
    return p;
}

/* ------------------------------------------------------------------ elementwise kernels */

static void test_add_broadcast(void **state) {
    (void)state;
    float a[6] = {1, 2, 3, 4, 5, 6};
    float row[3] = {10, 20, 30}, col[2] = {100, 200}, y[6];
    int64_t da[2] = {2, 3}, drow[1] = {3}, dcol[2] = {2, 1};
    RtEltParams p = elt();
    /* [2,3] + [3] */
    RtTensor in[2] = {T(a, IR_DT_FLOAT, 2, da), T(row, IR_DT_FLOAT, 1, drow)};
    RtTensor out = T(y, IR_DT_FLOAT, 2, da);
    assert_int_equal(run_k("rt_k_add", &p, in, 2, &out, 1), 0);
    float w1[6] = {11, 22, 33, 14, 25, 36};
    assert_floats(y, w1, 6, 0);
    /* [2,1] + [2,3] (first input broadcast) */
    in[0] = T(col, IR_DT_FLOAT, 2, dcol);
    in[1] = T(a, IR_DT_FLOAT, 2, da);
    assert_int_equal(run_k("rt_k_sub", &p, in, 2, &out, 1), 0);
    float w2[6] = {99, 98, 97, 196, 195, 194};
    assert_floats(y, w2, 6, 0);
    /* [2,1] * [3] -> [2,3] (both broadcast) */
    in[0] = T(col, IR_DT_FLOAT, 2, dcol);
    in[1] = T(row, IR_DT_FLOAT, 1, drow);
    assert_int_equal(run_k("rt_k_mul", &p, in, 2, &out, 1), 0);
    float w3[6] = {1000, 2000, 3000, 2000, 4000, 6000};
    assert_floats(y, w3, 6, 0);
    /* scalar / [2,3] */
    float s = 60;
    in[0] = T(&s, IR_DT_FLOAT, 0, NULL);
    in[1] = T(a, IR_DT_FLOAT, 2, da);
    assert_int_equal(run_k("rt_k_div", &p, in, 2, &out, 1), 0);
    float w4[6] = {60, 30, 20, 15, 12, 10};
    assert_floats(y, w4, 6, 0);
    /* a wrong output shape is rejected */
    int64_t dbad[2] = {3, 2};
    RtTensor bad = T(y, IR_DT_FLOAT, 2, dbad);
    in[0] = T(a, IR_DT_FLOAT, 2, da);
    in[1] = T(row, IR_DT_FLOAT, 1, drow);
    assert_int_equal(run_k("rt_k_add", &p, in, 2, &bad, 0), ONNXC_ERR_SHAPE);
}

static void test_add_broadcast_4d(void **state) {
    (void)state;
    /* [2,3,2,2] + [1,3,1,1] (per-channel bias): y = x + 10 * (c + 1) */
    float x[24], bias[3] = {10, 20, 30}, y[24];
    int64_t dx[4] = {2, 3, 2, 2}, db[4] = {1, 3, 1, 1};
    for (int i = 0; i < 24; i++)
        x[i] = (float)i;
    RtEltParams p = elt();
    RtTensor in[2] = {T(x, IR_DT_FLOAT, 4, dx), T(bias, IR_DT_FLOAT, 4, db)};
    RtTensor out = T(y, IR_DT_FLOAT, 4, dx);
    assert_int_equal(run_k("rt_k_add", &p, in, 2, &out, 1), 0);
    for (int i = 0; i < 24; i++) {
        int c = (i / 4) % 3;
        assert_true(y[i] == (float)i + 10.0f * (float)(c + 1));
    }
    /* legacy (opset < 7) axis broadcasting: B [3] aligned at axis 1 of A [2,3,2,2] */
    int64_t db1[1] = {3};
    p.b_axis = 1;
    in[1] = T(bias, IR_DT_FLOAT, 1, db1);
    memset(y, 0, sizeof y);
    assert_int_equal(run_k("rt_k_add", &p, in, 2, &out, 1), 0);
    for (int i = 0; i < 24; i++)
        assert_true(y[i] == (float)i + 10.0f * (float)((i / 4) % 3 + 1));
}

static void test_integer_arith(void **state) {
    (void)state;
    RtEltParams p = elt();
    int64_t d4[1] = {4};
    /* int32 division truncates toward zero */
    int32_t a[4] = {7, -7, 7, -7}, b[4] = {2, 2, -2, -2}, y[4];
    RtTensor in[2] = {T(a, IR_DT_INT32, 1, d4), T(b, IR_DT_INT32, 1, d4)};
    RtTensor out = T(y, IR_DT_INT32, 1, d4);
    assert_int_equal(run_k("rt_k_div", &p, in, 2, &out, 1), 0);
    assert_int_equal(y[0], 3);
    assert_int_equal(y[1], -3);
    assert_int_equal(y[2], -3);
    assert_int_equal(y[3], 3);
    /* INT32_MIN / -1 wraps instead of trapping */
    int32_t m[1] = {INT32_MIN}, mone[1] = {-1}, y1[1];
    int64_t d1[1] = {1};
    RtTensor in1[2] = {T(m, IR_DT_INT32, 1, d1), T(mone, IR_DT_INT32, 1, d1)};
    RtTensor out1 = T(y1, IR_DT_INT32, 1, d1);
    assert_int_equal(run_k("rt_k_div", &p, in1, 2, &out1, 1), 0);
    assert_int_equal(y1[0], INT32_MIN);
    /* division by zero is a runtime error, not a crash */
    b[2] = 0;
    assert_int_equal(run_k("rt_k_div", &p, in, 2, &out, 0), ONNXC_ERR_RUNTIME);
    /* uint8 addition wraps: 200 + 100 = 44; int8 multiplication wraps: 100 * 3 = 44 */
    uint8_t ua[2] = {200, 1}, ub[2] = {100, 2}, uy[2];
    int64_t d2[1] = {2};
    RtTensor uin[2] = {T(ua, IR_DT_UINT8, 1, d2), T(ub, IR_DT_UINT8, 1, d2)};
    RtTensor uout = T(uy, IR_DT_UINT8, 1, d2);
    assert_int_equal(run_k("rt_k_add", &p, uin, 2, &uout, 1), 0);
    assert_int_equal(uy[0], 44);
    assert_int_equal(uy[1], 3);
    int8_t sa[2] = {100, -5}, sb[2] = {3, 7}, sy[2];
    RtTensor sin[2] = {T(sa, IR_DT_INT8, 1, d2), T(sb, IR_DT_INT8, 1, d2)};
    RtTensor sout = T(sy, IR_DT_INT8, 1, d2);
    assert_int_equal(run_k("rt_k_mul", &p, sin, 2, &sout, 1), 0);
    assert_int_equal(sy[0], 44);
    assert_int_equal(sy[1], -35);
    /* uint64 subtraction wraps: 1 - 2 = 2^64 - 1 */
    uint64_t qa[1] = {1}, qb[1] = {2}, qy[1];
    RtTensor qin[2] = {T(qa, IR_DT_UINT64, 1, d1), T(qb, IR_DT_UINT64, 1, d1)};
    RtTensor qout = T(qy, IR_DT_UINT64, 1, d1);
    assert_int_equal(run_k("rt_k_sub", &p, qin, 2, &qout, 1), 0);
    assert_true(qy[0] == UINT64_MAX);
    /* mismatched element types are rejected */
    RtTensor mix[2] = {T(a, IR_DT_INT32, 1, d4), T(ua, IR_DT_UINT8, 1, d2)};
    assert_int_equal(run_k("rt_k_add", &p, mix, 2, &out, 0), ONNXC_ERR_TYPE);
}

static void test_pow_mixed_types(void **state) {
    (void)state;
    RtEltParams p = elt();
    int64_t d3[1] = {3};
    /* float base, int64 exponent */
    float fb[3] = {2, 3, -2}, fy[3];
    int64_t ie[3] = {3, 2, 3};
    RtTensor in[2] = {T(fb, IR_DT_FLOAT, 1, d3), T(ie, IR_DT_INT64, 1, d3)};
    RtTensor out = T(fy, IR_DT_FLOAT, 1, d3);
    assert_int_equal(run_k("rt_k_pow", &p, in, 2, &out, 1), 0);
    float w1[3] = {8, 9, -8};
    assert_floats(fy, w1, 3, 0);
    /* float base, float scalar exponent 0.5 */
    float half = 0.5f, fb2[3] = {4, 9, 2};
    in[0] = T(fb2, IR_DT_FLOAT, 1, d3);
    in[1] = T(&half, IR_DT_FLOAT, 0, NULL);
    assert_int_equal(run_k("rt_k_pow", &p, in, 2, &out, 1), 0);
    float w2[3] = {2, 3, 1.41421356f};
    assert_floats(fy, w2, 3, 1e-6);
    /* int64 base, int64 exponent: exact (2^62 is not exact through a float pow of 53 bits) */
    int64_t ib[3] = {3, 2, -2}, ie2[3] = {4, 62, 3}, iy[3];
    in[0] = T(ib, IR_DT_INT64, 1, d3);
    in[1] = T(ie2, IR_DT_INT64, 1, d3);
    out = T(iy, IR_DT_INT64, 1, d3);
    assert_int_equal(run_k("rt_k_pow", &p, in, 2, &out, 1), 0);
    assert_true(iy[0] == 81);
    assert_true(iy[1] == ((int64_t)1 << 62));
    assert_true(iy[2] == -8);
    /* int32 base, float exponent: truncated (2^0.5 = 1.41 -> 1, 3^2.5 = 15.59 -> 15) */
    int32_t jb[2] = {2, 3}, jy[2];
    float je[2] = {0.5f, 2.5f};
    int64_t d2[1] = {2};
    in[0] = T(jb, IR_DT_INT32, 1, d2);
    in[1] = T(je, IR_DT_FLOAT, 1, d2);
    out = T(jy, IR_DT_INT32, 1, d2);
    assert_int_equal(run_k("rt_k_pow", &p, in, 2, &out, 1), 0);
    assert_int_equal(jy[0], 1);
    assert_int_equal(jy[1], 15);
}

static void test_unary(void **state) {
    (void)state;
    RtEltParams p = elt();
    int64_t d5[1] = {5};
    float x[5] = {-2, -0.5f, 0, 1, 4}, y[5];
    RtTensor in = T(x, IR_DT_FLOAT, 1, d5), out = T(y, IR_DT_FLOAT, 1, d5);
    assert_int_equal(run_k("rt_k_neg", &p, &in, 1, &out, 1), 0);
    float wneg[5] = {2, 0.5f, 0, -1, -4};
    assert_floats(y, wneg, 5, 0);
    assert_int_equal(run_k("rt_k_abs", &p, &in, 1, &out, 1), 0);
    float wabs[5] = {2, 0.5f, 0, 1, 4};
    assert_floats(y, wabs, 5, 0);
    assert_int_equal(run_k("rt_k_relu", &p, &in, 1, &out, 1), 0);
    float wrelu[5] = {0, 0, 0, 1, 4};
    assert_floats(y, wrelu, 5, 0);
    assert_int_equal(run_k("rt_k_leakyrelu", &p, &in, 1, &out, 1), 0); /* alpha 0.01 */
    float wl[5] = {-0.02f, -0.005f, 0, 1, 4};
    assert_floats(y, wl, 5, 1e-7);
    p.alpha = 0.5;
    assert_int_equal(run_k("rt_k_leakyrelu", &p, &in, 1, &out, 1), 0);
    float wl2[5] = {-1, -0.25f, 0, 1, 4};
    assert_floats(y, wl2, 5, 0);
    assert_int_equal(run_k("rt_k_tanh", &p, &in, 1, &out, 1), 0);
    float wt[5] = {-0.96402758f, -0.46211716f, 0, 0.76159416f, 0.99932930f};
    assert_floats(y, wt, 5, 1e-6);
    assert_int_equal(run_k("rt_k_sigmoid", &p, &in, 1, &out, 1), 0);
    float ws[5] = {0.11920292f, 0.37754067f, 0.5f, 0.73105858f, 0.98201379f};
    assert_floats(y, ws, 5, 1e-6);
    assert_int_equal(run_k("rt_k_exp", &p, &in, 1, &out, 1), 0);
    float we[5] = {0.13533528f, 0.60653066f, 1, 2.71828183f, 54.59815003f};
    assert_floats(y, we, 5, 1e-5);
    float pos[5] = {1, 4, 0.25f, 2.71828183f, 100}, z[5];
    RtTensor pin = T(pos, IR_DT_FLOAT, 1, d5), zout = T(z, IR_DT_FLOAT, 1, d5);
    assert_int_equal(run_k("rt_k_sqrt", &p, &pin, 1, &zout, 1), 0);
    float wsq[5] = {1, 2, 0.5f, 1.64872127f, 10};
    assert_floats(z, wsq, 5, 1e-6);
    assert_int_equal(run_k("rt_k_log", &p, &pin, 1, &zout, 1), 0);
    float wlog[5] = {0, 1.38629436f, -1.38629436f, 1, 4.60517019f};
    assert_floats(z, wlog, 5, 1e-6);
    /* sigmoid saturates without NaN for large |x| */
    float big[2] = {-1000, 1000}, by[2];
    int64_t d2[1] = {2};
    RtTensor bin = T(big, IR_DT_FLOAT, 1, d2), bout = T(by, IR_DT_FLOAT, 1, d2);
    assert_int_equal(run_k("rt_k_sigmoid", &p, &bin, 1, &bout, 1), 0);
    assert_true(by[0] == 0.0f && by[1] == 1.0f);
    /* integer Neg/Abs wrap at the minimum */
    int8_t ix[3] = {-128, -3, 5}, iy[3];
    int64_t d3[1] = {3};
    RtTensor iin = T(ix, IR_DT_INT8, 1, d3), iout = T(iy, IR_DT_INT8, 1, d3);
    assert_int_equal(run_k("rt_k_neg", &p, &iin, 1, &iout, 1), 0);
    assert_int_equal(iy[0], -128);
    assert_int_equal(iy[1], 3);
    assert_int_equal(iy[2], -5);
    assert_int_equal(run_k("rt_k_abs", &p, &iin, 1, &iout, 1), 0);
    assert_int_equal(iy[1], 3);
    assert_int_equal(iy[2], 5);
    /* double */
    double dx[2] = {1, -1}, dy[2];
    RtTensor din = T(dx, IR_DT_DOUBLE, 1, d2), dout = T(dy, IR_DT_DOUBLE, 1, d2);
    assert_int_equal(run_k("rt_k_tanh", &p, &din, 1, &dout, 1), 0);
    double wdt[2] = {0.7615941559557649, -0.7615941559557649};
    assert_doubles(dy, wdt, 2, 1e-15);
    /* Sqrt of an integer tensor is a type error */
    assert_int_equal(run_k("rt_k_sqrt", &p, &iin, 1, &iout, 0), ONNXC_ERR_TYPE);
}

static void test_clip(void **state) {
    (void)state;
    RtEltParams p = elt();
    int64_t d5[1] = {5};
    float x[5] = {-5, -1, 0.5f, 3, NAN}, y[5];
    float lo = -1.5f, hi = 2;
    /* opset >= 11: min omitted, max given */
    RtTensor in[3] = {T(x, IR_DT_FLOAT, 1, d5), ABSENT, T(&hi, IR_DT_FLOAT, 0, NULL)};
    RtTensor out = T(y, IR_DT_FLOAT, 1, d5);
    assert_int_equal(run_k("rt_k_clip", &p, in, 3, &out, 1), 0);
    float w1[4] = {-5, -1, 0.5f, 2};
    assert_floats(y, w1, 4, 0);
    assert_true(isnan(y[4]));
    /* both bounds */
    in[1] = T(&lo, IR_DT_FLOAT, 0, NULL);
    assert_int_equal(run_k("rt_k_clip", &p, in, 3, &out, 1), 0);
    float w2[4] = {-1.5f, -1, 0.5f, 2};
    assert_floats(y, w2, 4, 0);
    /* max omitted (only 2 inputs) */
    assert_int_equal(run_k("rt_k_clip", &p, in, 2, &out, 1), 0);
    float w3[4] = {-1.5f, -1, 0.5f, 3};
    assert_floats(y, w3, 4, 0);
    /* min > max: every value becomes max */
    float lo2 = 5, hi2 = 1;
    in[1] = T(&lo2, IR_DT_FLOAT, 0, NULL);
    in[2] = T(&hi2, IR_DT_FLOAT, 0, NULL);
    assert_int_equal(run_k("rt_k_clip", &p, in, 3, &out, 1), 0);
    float w4[4] = {1, 1, 1, 1};
    assert_floats(y, w4, 4, 0);
    /* legacy attributes */
    p.bounds_from_attr = 1;
    p.lo = 0;
    p.hi = 1;
    assert_int_equal(run_k("rt_k_clip", &p, in, 1, &out, 1), 0);
    float w5[4] = {0, 0, 0.5f, 1};
    assert_floats(y, w5, 4, 0);
    /* int8 with only a min */
    p = elt();
    int8_t ix[4] = {-128, -10, 0, 127}, iy[4], ilo = -5;
    int64_t d4[1] = {4};
    RtTensor iin[2] = {T(ix, IR_DT_INT8, 1, d4), T(&ilo, IR_DT_INT8, 0, NULL)};
    RtTensor iout = T(iy, IR_DT_INT8, 1, d4);
    assert_int_equal(run_k("rt_k_clip", &p, iin, 2, &iout, 1), 0);
    assert_int_equal(iy[0], -5);
    assert_int_equal(iy[1], -5);
    assert_int_equal(iy[2], 0);
    assert_int_equal(iy[3], 127);
}

static void test_float16(void **state) {
    (void)state;
    /* bit patterns: 1.5 = 0x3E00, 2.25 = 0x4080, 3.75 = 0x4380, 65504 = 0x7BFF, 2^-24 = 0x0001 */
    assert_true(rt_h2f(0x3E00) == 1.5f);
    assert_true(rt_f2h(2.25f) == 0x4080);
    assert_true(rt_f2h(65504.0f) == 0x7BFF);
    assert_true(rt_f2h(65520.0f) == 0x7C00);      /* rounds to infinity */
    assert_true(rt_f2h(5.9604645e-8f) == 0x0001); /* smallest subnormal */
    assert_true(rt_h2f(0x0001) == 5.9604645e-8f);
    assert_true(rt_f2h(1.0f + 1.0f / 2048) == 0x3C00); /* tie rounds to even */
    assert_true(rt_f2bf(1.0f) == 0x3F80);
    assert_true(rt_bf2f(0x4049) == 3.140625f);
    uint16_t a[2] = {0x3E00, 0xC000 /* -2 */}, b[2] = {0x4080, 0x4080}, y[2];
    int64_t d2[1] = {2};
    RtEltParams p = elt();
    RtTensor in[2] = {T(a, IR_DT_FLOAT16, 1, d2), T(b, IR_DT_FLOAT16, 1, d2)};
    RtTensor out = T(y, IR_DT_FLOAT16, 1, d2);
    assert_int_equal(run_k("rt_k_add", &p, in, 2, &out, 1), 0);
    assert_true(y[0] == 0x4380);
    assert_true(rt_h2f(y[1]) == 0.25f);
    assert_int_equal(run_k("rt_k_relu", &p, in, 1, &out, 1), 0);
    assert_true(y[0] == 0x3E00 && y[1] == 0);
}

/* ------------------------------------------------------------------ matmul kernels */

static void test_matmul_shapes(void **state) {
    (void)state;
    RtMatMulParams p = {1};
    for (int blas = 0; blas < 2; blas++) {
        p.use_blas = blas;
        /* 1-D . 1-D -> scalar */
        float v[3] = {1, 2, 3}, w[3] = {4, 5, 6}, s;
        int64_t d3[1] = {3};
        RtTensor in[2] = {T(v, IR_DT_FLOAT, 1, d3), T(w, IR_DT_FLOAT, 1, d3)};
        RtTensor out = T(&s, IR_DT_FLOAT, 0, NULL);
        assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
        assert_true(s == 32.0f);
        /* [2,4,3] . [3] -> [2,4] (numpy: 8 26 44 62 80 98 116 134) */
        float m3[24], y8[8];
        for (int i = 0; i < 24; i++)
            m3[i] = (float)i;
        int64_t dm3[3] = {2, 4, 3}, dy8[2] = {2, 4};
        in[0] = T(m3, IR_DT_FLOAT, 3, dm3);
        in[1] = T(v, IR_DT_FLOAT, 1, d3);
        out = T(y8, IR_DT_FLOAT, 2, dy8);
        assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
        float w8[8] = {8, 26, 44, 62, 80, 98, 116, 134};
        assert_floats(y8, w8, 8, 0);
        /* [3] . [3,2] -> [2] (numpy: 16 22) */
        float m32[6] = {0, 1, 2, 3, 4, 5}, y2[2];
        int64_t dm32[2] = {3, 2}, d2[1] = {2};
        in[0] = T(v, IR_DT_FLOAT, 1, d3);
        in[1] = T(m32, IR_DT_FLOAT, 2, dm32);
        out = T(y2, IR_DT_FLOAT, 1, d2);
        assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
        float w2[2] = {16, 22};
        assert_floats(y2, w2, 2, 0);
        /* [2,3] . [2,3,2] -> [2,2,2]: the 2-D A broadcast over B's batch (numpy values) */
        float a23[6] = {1, -2, 3, 0, 1, -1}, b[12], y222[8];
        for (int i = 0; i < 12; i++)
            b[i] = (float)i - 5;
        int64_t da[2] = {2, 3}, db[3] = {2, 3, 2}, dy[3] = {2, 2, 2};
        in[0] = T(a23, IR_DT_FLOAT, 2, da);
        in[1] = T(b, IR_DT_FLOAT, 3, db);
        out = T(y222, IR_DT_FLOAT, 3, dy);
        assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
        float wb[8] = {-2, 0, -2, -2, 10, 12, -2, -2};
        assert_floats(y222, wb, 8, 0);
        /* inner dims differ */
        in[1] = T(m3, IR_DT_FLOAT, 3, dm3);
        assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 0), ONNXC_ERR_SHAPE);
    }
    /* int32 [2,2] . [2,2] through the C loop */
    int32_t ia[4] = {1, 2, 3, 4}, ib[4] = {5, 6, 7, 8}, iy[4];
    int64_t d22[2] = {2, 2};
    RtTensor in[2] = {T(ia, IR_DT_INT32, 2, d22), T(ib, IR_DT_INT32, 2, d22)};
    RtTensor out = T(iy, IR_DT_INT32, 2, d22);
    assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
    assert_int_equal(iy[0], 19);
    assert_int_equal(iy[1], 22);
    assert_int_equal(iy[2], 43);
    assert_int_equal(iy[3], 50);
}

/* Deterministic pseudo-random floats in [-1, 1). */
static uint32_t lcg_state = 12345u;
static float frand(void) {
    lcg_state = lcg_state * 1664525u + 1013904223u;
    return (float)((lcg_state >> 8) & 0xffffff) / 8388608.0f - 1.0f;
}

static void test_matmul_blas_vs_ref(void **state) {
    (void)state;
    /* batched [3,1,37,45] x [2,45,29] -> [3,2,37,29] with BLAS; each matrix against the
     * reference. Tolerance: 1e-4 absolute on sums of 45 products of values in [-1, 1). */
    enum { M = 37, K = 45, N = 29 };
    float *a = malloc(sizeof(float) * 3 * M * K), *b = malloc(sizeof(float) * 2 * K * N);
    float *y = malloc(sizeof(float) * 6 * M * N), *r = malloc(sizeof(float) * M * N);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(y);
    assert_non_null(r);
    for (int i = 0; i < 3 * M * K; i++)
        a[i] = frand();
    for (int i = 0; i < 2 * K * N; i++)
        b[i] = frand();
    int64_t da[4] = {3, 1, M, K}, db[3] = {2, K, N}, dy[4] = {3, 2, M, N};
    RtMatMulParams p = {1};
    RtTensor in[2] = {T(a, IR_DT_FLOAT, 4, da), T(b, IR_DT_FLOAT, 3, db)};
    RtTensor out = T(y, IR_DT_FLOAT, 4, dy);
    assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
    double maxdiff = 0;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 2; j++) {
            rt_ref_matmul_f32(a + i * M * K, b + j * K * N, r, M, N, K);
            for (int e = 0; e < M * N; e++) {
                double df = fabs((double)y[(i * 2 + j) * M * N + e] - (double)r[e]);
                if (df > maxdiff)
                    maxdiff = df;
            }
        }
    printf("matmul f32 BLAS vs reference: largest difference %.3g (tolerance 1e-4)\n", maxdiff);
    assert_true(maxdiff <= 1e-4);
    /* float64 */
    double *a64 = malloc(sizeof(double) * M * K), *b64 = malloc(sizeof(double) * K * N);
    double *y64 = malloc(sizeof(double) * M * N), *r64 = malloc(sizeof(double) * M * N);
    assert_non_null(a64);
    assert_non_null(b64);
    assert_non_null(y64);
    assert_non_null(r64);
    for (int i = 0; i < M * K; i++)
        a64[i] = frand();
    for (int i = 0; i < K * N; i++)
        b64[i] = frand();
    int64_t da2[2] = {M, K}, db2[2] = {K, N}, dy2[2] = {M, N};
    in[0] = T(a64, IR_DT_DOUBLE, 2, da2);
    in[1] = T(b64, IR_DT_DOUBLE, 2, db2);
    out = T(y64, IR_DT_DOUBLE, 2, dy2);
    assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
    rt_ref_matmul_f64(a64, b64, r64, M, N, K);
    maxdiff = 0;
    for (int e = 0; e < M * N; e++)
        if (fabs(y64[e] - r64[e]) > maxdiff)
            maxdiff = fabs(y64[e] - r64[e]);
    printf("matmul f64 BLAS vs reference: largest difference %.3g (tolerance 1e-12)\n", maxdiff);
    assert_true(maxdiff <= 1e-12);
    free(a);
    free(b);
    free(y);
    free(r);
    free(a64);
    free(b64);
    free(y64);
    free(r64);
}

static void test_gemm_trans_and_bias(void **state) {
    (void)state;
    /* A [2,3], B [3,2]: A.B = [[22,28],[49,64]] */
    float A[6] = {1, 2, 3, 4, 5, 6}, At[6] = {1, 4, 2, 5, 3, 6};
    float B[6] = {1, 2, 3, 4, 5, 6}, Bt[6] = {1, 3, 5, 2, 4, 6};
    int64_t d23[2] = {2, 3}, d32[2] = {3, 2}, d22[2] = {2, 2};
    float cs = 10, cv[2] = {1, 2}, cc[2] = {1, 2}, cf[4] = {1, 2, 3, 4}, y[4];
    int64_t dcv[1] = {2}, dcc[2] = {2, 1};
    /* bias variants and the expected y = 2 * AB + 0.5 * C */
    struct {
        RtTensor c;
        float want[4];
    } cases[5] = {
        {{NULL, NULL, -1, 0}, {44, 56, 98, 128}},
        {T(&cs, IR_DT_FLOAT, 0, NULL), {49, 61, 103, 133}},
        {T(cv, IR_DT_FLOAT, 1, dcv), {44.5f, 57, 98.5f, 129}},
        {T(cc, IR_DT_FLOAT, 2, dcc), {44.5f, 56.5f, 99, 129}},
        {T(cf, IR_DT_FLOAT, 2, d22), {44.5f, 57, 99.5f, 130}},
    };
    for (int blas = 0; blas < 2; blas++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                for (int c = 0; c < 5; c++) {
                    RtGemmParams p = {2.0, 0.5, ta, tb, blas};
                    RtTensor in[3] = {ta ? T(At, IR_DT_FLOAT, 2, d32) : T(A, IR_DT_FLOAT, 2, d23),
                                      tb ? T(Bt, IR_DT_FLOAT, 2, d23) : T(B, IR_DT_FLOAT, 2, d32),
                                      cases[c].c};
                    RtTensor out = T(y, IR_DT_FLOAT, 2, d22);
                    memset(y, 0, sizeof y);
                    assert_int_equal(run_k("rt_k_gemm", &p, in, 3, &out, 1), 0);
                    assert_floats(y, cases[c].want, 4, 0);
                }
    /* a C that does not broadcast to [M, N] */
    float cbad[3] = {1, 2, 3};
    int64_t dbad[1] = {3};
    RtGemmParams p = {1.0, 1.0, 0, 0, 1};
    RtTensor in[3] = {T(A, IR_DT_FLOAT, 2, d23), T(B, IR_DT_FLOAT, 2, d32),
                      T(cbad, IR_DT_FLOAT, 1, dbad)};
    RtTensor out = T(y, IR_DT_FLOAT, 2, d22);
    assert_int_equal(run_k("rt_k_gemm", &p, in, 3, &out, 0), ONNXC_ERR_SHAPE);
    /* int64 Gemm (C loop) with alpha = beta = 1 */
    int64_t iA[6] = {1, 2, 3, 4, 5, 6}, iB[6] = {1, 2, 3, 4, 5, 6}, ic = 1, iy[4];
    RtTensor iin[3] = {T(iA, IR_DT_INT64, 2, d23), T(iB, IR_DT_INT64, 2, d32),
                       T(&ic, IR_DT_INT64, 0, NULL)};
    RtTensor iout = T(iy, IR_DT_INT64, 2, d22);
    assert_int_equal(run_k("rt_k_gemm", &p, iin, 3, &iout, 1), 0);
    assert_true(iy[0] == 23 && iy[1] == 29 && iy[2] == 50 && iy[3] == 65);
}

static void test_gemm_blas_vs_ref(void **state) {
    (void)state;
    enum { M = 33, K = 50, N = 21 };
    static float a[M * K], b[K * N], c[M * N], y[M * N], r[M * N];
    for (int i = 0; i < M * K; i++)
        a[i] = frand();
    for (int i = 0; i < K * N; i++)
        b[i] = frand();
    for (int i = 0; i < M * N; i++)
        c[i] = frand();
    double worst = 0;
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            int64_t da[2] = {ta ? K : M, ta ? M : K}, db[2] = {tb ? N : K, tb ? K : N};
            int64_t dc[2] = {M, N};
            RtGemmParams p = {0.75, -1.25, ta, tb, 1};
            RtTensor in[3] = {T(a, IR_DT_FLOAT, 2, da), T(b, IR_DT_FLOAT, 2, db),
                              T(c, IR_DT_FLOAT, 2, dc)};
            RtTensor out = T(y, IR_DT_FLOAT, 2, dc);
            assert_int_equal(run_k("rt_k_gemm", &p, in, 3, &out, 1), 0);
            rt_ref_gemm_f32(ta, tb, M, N, K, 0.75f, a, b, -1.25f, c, r);
            for (int e = 0; e < M * N; e++)
                if (fabs((double)y[e] - (double)r[e]) > worst)
                    worst = fabs((double)y[e] - (double)r[e]);
        }
    printf("gemm f32 BLAS vs reference (4 trans combinations): largest difference %.3g "
           "(tolerance 1e-4)\n", worst);
    assert_true(worst <= 1e-4);
}

static void test_empty_and_half_matmul(void **state) {
    (void)state;
    /* K = 0: the product of [2,0] and [0,3] is a [2,3] of zeros */
    float a[1], b[1], y[6] = {9, 9, 9, 9, 9, 9};
    int64_t da[2] = {2, 0}, db[2] = {0, 3}, dy[2] = {2, 3};
    RtMatMulParams p = {1};
    RtTensor in[2] = {T(a, IR_DT_FLOAT, 2, da), T(b, IR_DT_FLOAT, 2, db)};
    RtTensor out = T(y, IR_DT_FLOAT, 2, dy);
    assert_int_equal(run_k("rt_k_matmul", &p, in, 2, &out, 1), 0);
    for (int i = 0; i < 6; i++)
        assert_true(y[i] == 0.0f);
    /* an empty broadcast: [0,3] + [3] -> [0,3] touches nothing */
    int64_t de[2] = {0, 3}, d3[1] = {3};
    RtEltParams ep = elt();
    RtTensor ein[2] = {T(a, IR_DT_FLOAT, 2, de), T(y, IR_DT_FLOAT, 1, d3)};
    RtTensor eout = T(a, IR_DT_FLOAT, 2, de);
    assert_int_equal(run_k("rt_k_add", &ep, ein, 2, &eout, 1), 0);
    /* float16 MatMul through the C loop: [1,2] . [2,1] = 1.5*2 + 0.5*4 = 5 (0x4500) */
    uint16_t ha[2] = {0x3E00, 0x3800}, hb[2] = {0x4000, 0x4400}, hy[1];
    int64_t d12[2] = {1, 2}, d21[2] = {2, 1}, d11[2] = {1, 1};
    RtTensor hin[2] = {T(ha, IR_DT_FLOAT16, 2, d12), T(hb, IR_DT_FLOAT16, 2, d21)};
    RtTensor hout = T(hy, IR_DT_FLOAT16, 2, d11);
    assert_int_equal(run_k("rt_k_matmul", &p, hin, 2, &hout, 1), 0);
    assert_true(hy[0] == 0x4500);
}

/* ------------------------------------------------------------------ norm kernels */

static void test_softmax(void **state) {
    (void)state;
    float x[6] = {1, 2, 3, 0, 0, 0}, y[6];
    int64_t d23[2] = {2, 3};
    RtSoftmaxParams p = {1, 0};
    RtTensor in = T(x, IR_DT_FLOAT, 2, d23), out = T(y, IR_DT_FLOAT, 2, d23);
    assert_int_equal(run_k("rt_k_softmax", &p, &in, 1, &out, 1), 0);
    float w[6] = {0.09003057f, 0.24472847f, 0.66524094f, 1 / 3.0f, 1 / 3.0f, 1 / 3.0f};
    assert_floats(y, w, 6, 1e-6);
    assert_true(fabs(y[0] + y[1] + y[2] - 1.0) < 1e-6 && fabs(y[3] + y[4] + y[5] - 1.0) < 1e-6);
    assert_int_equal(run_k("rt_k_logsoftmax", &p, &in, 1, &out, 1), 0);
    float wl[6] = {-2.40760596f, -1.40760596f, -0.40760596f, -1.09861229f, -1.09861229f,
                   -1.09861229f};
    assert_floats(y, wl, 6, 1e-6);
    /* large inputs do not overflow: softmax(1000 + v) = softmax(v) */
    float big[6] = {1001, 1002, 1003, 1000, 1000, 1000};
    in.data = big;
    assert_int_equal(run_k("rt_k_softmax", &p, &in, 1, &out, 1), 0);
    assert_floats(y, w, 6, 1e-6);
    /* axis 0 (columns) */
    p.axis = 0;
    in.data = x;
    assert_int_equal(run_k("rt_k_softmax", &p, &in, 1, &out, 1), 0);
    float w0[6] = {0.73105858f, 0.88079708f, 0.95257413f, 0.26894142f, 0.11920292f, 0.04742587f};
    assert_floats(y, w0, 6, 1e-6);
    /* [2,2,2] of 1..8, axis 1: legacy (normalise the flattened [2,4]) vs opset 13 (dim 1 only) */
    double z[8] = {1, 2, 3, 4, 5, 6, 7, 8}, zy[8];
    int64_t d222[3] = {2, 2, 2};
    RtSoftmaxParams legacy = {1, 1}, single = {1, 0};
    RtTensor zin = T(z, IR_DT_DOUBLE, 3, d222), zout = T(zy, IR_DT_DOUBLE, 3, d222);
    assert_int_equal(run_k("rt_k_softmax", &legacy, &zin, 1, &zout, 1), 0);
    double wlg[8] = {0.03205860328008499, 0.08714431874203257, 0.23688281808991013,
                     0.6439142598879724, 0.03205860328008499, 0.08714431874203257,
                     0.23688281808991013, 0.6439142598879724};
    assert_doubles(zy, wlg, 8, 1e-12);
    assert_int_equal(run_k("rt_k_softmax", &single, &zin, 1, &zout, 1), 0);
    double wsg[8] = {0.11920292202211755, 0.11920292202211755, 0.8807970779778823,
                     0.8807970779778823, 0.11920292202211755, 0.11920292202211755,
                     0.8807970779778823, 0.8807970779778823};
    assert_doubles(zy, wsg, 8, 1e-12);
}

static void test_batchnorm(void **state) {
    (void)state;
    /* X [1,2,1,2] = {1,2 | 3,4}; channel 0: (x-1)/sqrt(4) * 1 + 0, channel 1: (x-3)/1 * 2 + 1 */
    float x[4] = {1, 2, 3, 4}, y[4];
    float scale[2] = {1, 2}, bias[2] = {0, 1}, mean[2] = {1, 3}, var[2] = {4, 1};
    int64_t dx[4] = {1, 2, 1, 2}, dc[1] = {2};
    RtBatchNormParams p = {0.0, 1};
    RtTensor in[5] = {T(x, IR_DT_FLOAT, 4, dx), T(scale, IR_DT_FLOAT, 1, dc),
                      T(bias, IR_DT_FLOAT, 1, dc), T(mean, IR_DT_FLOAT, 1, dc),
                      T(var, IR_DT_FLOAT, 1, dc)};
    RtTensor out = T(y, IR_DT_FLOAT, 4, dx);
    assert_int_equal(run_k("rt_k_batchnorm", &p, in, 5, &out, 1), 0);
    float w[4] = {0, 0.5f, 1, 3};
    assert_floats(y, w, 4, 1e-7);
    /* epsilon = 0.5 on channel 0: var + eps = 4.5 */
    p.epsilon = 0.5;
    assert_int_equal(run_k("rt_k_batchnorm", &p, in, 5, &out, 1), 0);
    assert_true(fabs(y[1] - 1.0 / sqrt(4.5)) < 1e-6);
    /* legacy spatial = 0: per feature of X [2,2] (batch 2, 2 features) */
    float x2[4] = {1, 3, 5, 7}, y2[4];
    int64_t dx2[2] = {2, 2};
    RtBatchNormParams p0 = {0.0, 0};
    in[0] = T(x2, IR_DT_FLOAT, 2, dx2);
    out = T(y2, IR_DT_FLOAT, 2, dx2);
    assert_int_equal(run_k("rt_k_batchnorm", &p0, in, 5, &out, 1), 0);
    float w2[4] = {0, 1, 2, 9};
    assert_floats(y2, w2, 4, 1e-7);
    /* wrong parameter length */
    int64_t dc3[1] = {3};
    float s3[3] = {1, 1, 1};
    in[1] = T(s3, IR_DT_FLOAT, 1, dc3);
    assert_int_equal(run_k("rt_k_batchnorm", &p0, in, 5, &out, 0), ONNXC_ERR_SHAPE);
}

/* ------------------------------------------------------------------ infer and lower hooks */

typedef struct Fixture {
    IrModel *m;
    IrGraph *g;
    IrDiag d;
} Fixture;

static void fx_init(Fixture *f) {
    f->m = ir_model_create();
    assert_non_null(f->m);
    f->g = ir_graph_create(f->m, NULL, "g");
    assert_non_null(f->g);
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
}

static void fx_free(Fixture *f) {
    ir_diag_free(&f->d);
    ir_model_destroy(f->m);
}

/* A value with a tensor type; dims < 0 become the symbol "N". */
static IrValue *val(Fixture *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    v->type.kind = IR_TYPE_TENSOR;
    v->type.dtype = dt;
    v->type.rank = rank;
    if (rank > 0) {
        v->type.dims = ir_arena_alloc(f->g->arena, sizeof(IrDim) * (size_t)rank);
        for (int i = 0; i < rank; i++) {
            v->type.dims[i].value = dims[i];
            v->type.dims[i].sym = dims[i] < 0 ? "N" : NULL;
        }
    }
    return v;
}

/* Adds a node op_type(in...) -> one fresh output "y<k>" and runs its infer hook. */
static IrNode *node(Fixture *f, const char *op, int opset, int nin, IrValue **in, int *status) {
    static int k = 0;
    char name[32];
    snprintf(name, sizeof name, "y%d", k++);
    IrValue *y = ir_value_new(f->g, name);
    IrNode *n = ir_node_new(f->g, NULL, name, "", op, opset, nin, in, 1, &y);
    assert_non_null(n);
    *status = op_infer_node(n, &f->d);
    return n;
}

static void assert_dims(const IrType *t, int rank, const int64_t *dims) {
    assert_int_equal(t->kind, IR_TYPE_TENSOR);
    assert_int_equal(t->rank, rank);
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0) {
            assert_true(t->dims[i].value < 0);
            assert_non_null(t->dims[i].sym);
            assert_string_equal(t->dims[i].sym, "N");
        } else {
            assert_int_equal(t->dims[i].value, dims[i]);
        }
    }
}

static void test_infer_elementwise(void **state) {
    (void)state;
    Fixture f;
    fx_init(&f);
    int st;
    int64_t da[3] = {-1, 3, 1}, db[1] = {4}, dbad[2] = {2, 5}, d23[2] = {2, 3};
    IrValue *in[3] = {val(&f, "a", IR_DT_FLOAT, 3, da), val(&f, "b", IR_DT_FLOAT, 1, db)};
    IrNode *n = node(&f, "Add", 14, 2, in, &st);
    assert_int_equal(st, 0);
    int64_t want[3] = {-1, 3, 4};
    assert_dims(&n->out[0]->type, 3, want);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT);
    /* [N,3,1] * [2,5]: 3 vs 2 do not broadcast */
    in[1] = val(&f, "bad", IR_DT_FLOAT, 2, dbad);
    n = node(&f, "Mul", 14, 2, in, &st);
    assert_int_equal(st, -1);
    assert_true(f.d.nerrors >= 1);
    assert_non_null(strstr(ir_diag_last(&f.d), "broadcast"));
    /* element types must agree */
    in[1] = val(&f, "i", IR_DT_INT64, 1, db);
    n = node(&f, "Sub", 14, 2, in, &st);
    assert_int_equal(st, -1);
    /* Pow: float base, int64 exponent is fine from opset 12; output is float */
    n = node(&f, "Pow", 15, 2, in, &st);
    assert_int_equal(st, 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT);
    n = node(&f, "Pow", 7, 2, in, &st);
    assert_int_equal(st, -1);
    /* uint8 Add needs opset 14 */
    IrValue *u[2] = {val(&f, "u0", IR_DT_UINT8, 2, d23), val(&f, "u1", IR_DT_UINT8, 2, d23)};
    n = node(&f, "Add", 13, 2, u, &st);
    assert_int_equal(st, -1);
    n = node(&f, "Add", 14, 2, u, &st);
    assert_int_equal(st, 0);
    /* legacy broadcast (opset 6): B [3] at axis 1 of A [2,3,4] */
    int64_t d234[3] = {2, 3, 4}, d3[1] = {3};
    IrValue *lg[2] = {val(&f, "la", IR_DT_FLOAT, 3, d234), val(&f, "lb", IR_DT_FLOAT, 1, d3)};
    n = node(&f, "Add", 6, 2, lg, &st);
    assert_int_equal(st, -1); /* broadcast attribute is 0: shapes must be equal */
    ir_node_add_attr(n, "broadcast", IR_ATTR_INT)->i = 1;
    ir_node_add_attr(n, "axis", IR_ATTR_INT)->i = 1;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_dims(&n->out[0]->type, 3, d234);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_add");
    assert_int_equal(((const RtEltParams *)n->params)->b_axis, 1);
    /* unary: shape flows through, symbols included */
    IrValue *x[1] = {in[0]};
    n = node(&f, "Sigmoid", 13, 1, x, &st);
    assert_int_equal(st, 0);
    assert_dims(&n->out[0]->type, 3, da);
    /* Sqrt of int64 is rejected */
    IrValue *xi[1] = {in[1]};
    n = node(&f, "Sqrt", 13, 1, xi, &st);
    assert_int_equal(st, -1);
    /* LeakyRelu: alpha reaches the params */
    IrValue *xs[1] = {val(&f, "s", IR_DT_FLOAT, 2, d23)};
    n = node(&f, "LeakyRelu", 16, 1, xs, &st);
    assert_int_equal(st, 0);
    ir_node_add_attr(n, "alpha", IR_ATTR_FLOAT)->f = 0.25f;
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_leakyrelu");
    assert_true(((const RtEltParams *)n->params)->alpha == 0.25);
    fx_free(&f);
}

static void test_infer_clip(void **state) {
    (void)state;
    Fixture f;
    fx_init(&f);
    int st;
    int64_t d23[2] = {2, 3}, d2[1] = {2};
    /* opset 11: min omitted, max a scalar */
    IrValue *in[3] = {val(&f, "x", IR_DT_FLOAT, 2, d23), NULL, val(&f, "hi", IR_DT_FLOAT, 0, NULL)};
    IrNode *n = node(&f, "Clip", 11, 3, in, &st);
    assert_int_equal(st, 0);
    assert_dims(&n->out[0]->type, 2, d23);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtEltParams *)n->params)->bounds_from_attr, 0);
    /* a non-scalar bound */
    in[2] = val(&f, "hi2", IR_DT_FLOAT, 1, d2);
    n = node(&f, "Clip", 13, 3, in, &st);
    assert_int_equal(st, -1);
    /* int8 Clip only from opset 12 */
    IrValue *xi[1] = {val(&f, "xi", IR_DT_INT8, 2, d23)};
    n = node(&f, "Clip", 11, 1, xi, &st);
    assert_int_equal(st, -1);
    n = node(&f, "Clip", 12, 1, xi, &st);
    assert_int_equal(st, 0);
    /* opset 6: attributes into params, default max */
    IrValue *x6[1] = {in[0]};
    n = node(&f, "Clip", 6, 1, x6, &st);
    assert_int_equal(st, 0);
    ir_node_add_attr(n, "min", IR_ATTR_FLOAT)->f = -1.0f;
    assert_int_equal(op_lower_node(n, &f.d), 0);
    const RtEltParams *p = n->params;
    assert_int_equal(p->bounds_from_attr, 1);
    assert_true(p->lo == -1.0 && p->hi == (double)FLT_MAX);
    fx_free(&f);
}

static void test_infer_matmul_gemm(void **state) {
    (void)state;
    Fixture f;
    fx_init(&f);
    int st;
    int64_t da[3] = {-1, 2, 3}, db[2] = {3, 5}, d3[1] = {3}, dbad[2] = {4, 5};
    IrValue *in[3] = {val(&f, "a", IR_DT_FLOAT, 3, da), val(&f, "b", IR_DT_FLOAT, 2, db)};
    IrNode *n = node(&f, "MatMul", 13, 2, in, &st);
    assert_int_equal(st, 0);
    int64_t w1[3] = {-1, 2, 5};
    assert_dims(&n->out[0]->type, 3, w1);
    /* [N,2,3] . [3] -> [N,2] */
    in[1] = val(&f, "v", IR_DT_FLOAT, 1, d3);
    n = node(&f, "MatMul", 13, 2, in, &st);
    assert_int_equal(st, 0);
    int64_t w2[2] = {-1, 2};
    assert_dims(&n->out[0]->type, 2, w2);
    /* [3] . [3] -> scalar */
    in[0] = in[1];
    n = node(&f, "MatMul", 13, 2, in, &st);
    assert_int_equal(st, 0);
    assert_int_equal(n->out[0]->type.rank, 0);
    /* K mismatch */
    in[0] = val(&f, "a2", IR_DT_FLOAT, 3, da);
    in[1] = val(&f, "b2", IR_DT_FLOAT, 2, dbad);
    n = node(&f, "MatMul", 13, 2, in, &st);
    assert_int_equal(st, -1);
    /* batch broadcast [2,1,4,3] . [5,3,6] -> [2,5,4,6] */
    int64_t dba[4] = {2, 1, 4, 3}, dbb[3] = {5, 3, 6}, w3[4] = {2, 5, 4, 6};
    in[0] = val(&f, "ba", IR_DT_DOUBLE, 4, dba);
    in[1] = val(&f, "bb", IR_DT_DOUBLE, 3, dbb);
    n = node(&f, "MatMul", 13, 2, in, &st);
    assert_int_equal(st, 0);
    assert_dims(&n->out[0]->type, 4, w3);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_matmul");
    /* Gemm transA: A [3,N] -> M = N; B [3,4]; C [4] -> Y [N,4] */
    int64_t dga[2] = {3, -1}, dgb[2] = {3, 4}, dgc[1] = {4}, wg[2] = {-1, 4};
    in[0] = val(&f, "ga", IR_DT_FLOAT, 2, dga);
    in[1] = val(&f, "gb", IR_DT_FLOAT, 2, dgb);
    in[2] = val(&f, "gc", IR_DT_FLOAT, 1, dgc);
    IrValue *y = ir_value_new(f.g, "gy");
    n = ir_node_new(f.g, NULL, "gemm", "", "Gemm", 13, 3, in, 1, &y);
    ir_node_add_attr(n, "transA", IR_ATTR_INT)->i = 1;
    ir_node_add_attr(n, "alpha", IR_ATTR_FLOAT)->f = 0.5f;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_dims(&y->type, 2, wg);
    /* C [5] does not broadcast to [M, 4] */
    int64_t dgc5[1] = {5};
    in[2] = val(&f, "gc5", IR_DT_FLOAT, 1, dgc5);
    IrValue *y2 = ir_value_new(f.g, "gy2");
    n = ir_node_new(f.g, NULL, "gemm2", "", "Gemm", 13, 3, in, 1, &y2);
    ir_node_add_attr(n, "transA", IR_ATTR_INT)->i = 1;
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* C is required before opset 11 */
    n = node(&f, "Gemm", 9, 2, in, &st);
    assert_int_equal(st, -1);
    /* static Gemm: params */
    int64_t sa[2] = {2, 3}, sb[2] = {4, 3};
    in[0] = val(&f, "sa", IR_DT_FLOAT, 2, sa);
    in[1] = val(&f, "sb", IR_DT_FLOAT, 2, sb);
    IrValue *y3 = ir_value_new(f.g, "gy3");
    n = ir_node_new(f.g, NULL, "gemm3", "", "Gemm", 13, 2, in, 1, &y3);
    ir_node_add_attr(n, "transB", IR_ATTR_INT)->i = 1;
    ir_node_add_attr(n, "beta", IR_ATTR_FLOAT)->f = 0.0f;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    int64_t w4[2] = {2, 4};
    assert_dims(&y3->type, 2, w4);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    const RtGemmParams *gp = n->params;
    assert_true(gp->alpha == 1.0 && gp->beta == 0.0 && gp->trans_a == 0 && gp->trans_b == 1);
    fx_free(&f);
}

static void test_infer_norm(void **state) {
    (void)state;
    Fixture f;
    fx_init(&f);
    int st;
    int64_t dx[4] = {-1, 3, 5, 5}, dc[1] = {3}, dc4[1] = {4};
    IrValue *in[5] = {val(&f, "x", IR_DT_FLOAT, 4, dx), val(&f, "s", IR_DT_FLOAT, 1, dc),
                      val(&f, "b", IR_DT_FLOAT, 1, dc), val(&f, "m", IR_DT_FLOAT, 1, dc),
                      val(&f, "v", IR_DT_FLOAT, 1, dc)};
    IrNode *n = node(&f, "BatchNormalization", 15, 5, in, &st);
    assert_int_equal(st, 0);
    assert_dims(&n->out[0]->type, 4, dx);
    /* training mode (rt_k_batchnorm_train, tests/test_ops_signal.c) infers Y the same way */
    ir_node_add_attr(n, "training_mode", IR_ATTR_INT)->i = 1;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_dims(&n->out[0]->type, 4, dx);
    /* channel count mismatch */
    in[1] = val(&f, "s4", IR_DT_FLOAT, 1, dc4);
    n = node(&f, "BatchNormalization", 9, 5, in, &st);
    assert_int_equal(st, -1);
    /* Softmax: axis out of range, default axes by opset */
    int64_t d234[3] = {2, 3, 4};
    IrValue *x[1] = {val(&f, "sx", IR_DT_FLOAT, 3, d234)};
    n = node(&f, "Softmax", 13, 1, x, &st);
    assert_int_equal(st, 0);
    assert_dims(&n->out[0]->type, 3, d234);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    const RtSoftmaxParams *sp = n->params;
    assert_int_equal(sp->axis, 2);
    assert_int_equal(sp->coerce_2d, 0);
    n = node(&f, "LogSoftmax", 11, 1, x, &st);
    assert_int_equal(st, 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_logsoftmax");
    sp = n->params;
    assert_int_equal(sp->axis, 1);
    assert_int_equal(sp->coerce_2d, 1);
    n = node(&f, "Softmax", 13, 1, x, &st);
    ir_node_add_attr(n, "axis", IR_ATTR_INT)->i = 3;
    assert_int_equal(op_infer_node(n, &f.d), -1);
    fx_free(&f);
}

/* ------------------------------------------------------------------ ONNX backend node tests */

#define BACKEND_NODE_DIR "../shared/onnx-backend-tests/node"

static const char *const conf_prefixes[] = {
    "test_add", "test_sub", "test_mul", "test_div", "test_pow", "test_neg", "test_abs",
    "test_sqrt", "test_exp", "test_log", "test_relu", "test_leakyrelu", "test_sigmoid",
    "test_tanh", "test_clip", "test_matmul", "test_gemm", "test_batchnorm", "test_softmax",
    "test_logsoftmax"};

/* Tests under those prefixes that are not of these families or use other ops. */
static int conf_selected(const char *name) {
    int ok = 0;
    for (size_t i = 0; i < sizeof conf_prefixes / sizeof conf_prefixes[0]; i++)
        if (strncmp(name, conf_prefixes[i], strlen(conf_prefixes[i])) == 0)
            ok = 1;
    if (!ok || strstr(name, "_expanded") || strncmp(name, "test_expand", 11) == 0 ||
        strncmp(name, "test_matmulinteger", 18) == 0)
        return 0;
    return 1;
}

/* Training-mode BatchNormalization: documented as unsupported; expected to be refused. */
static int conf_expected_unsupported(const char *name) {
    return strstr(name, "_training_mode") != NULL;
}

/* 1 if every node of g is an op of these families (or a Constant). */
static int conf_only_our_ops(const IrGraph *g) {
    static const int ours[] = {OP_Add, OP_Sub, OP_Mul, OP_Div, OP_Pow, OP_Neg, OP_Abs, OP_Sqrt,
                               OP_Exp, OP_Log, OP_Relu, OP_LeakyRelu, OP_Sigmoid, OP_Tanh,
                               OP_Clip, OP_MatMul, OP_Gemm, OP_BatchNormalization, OP_Softmax,
                               OP_LogSoftmax, OP_Constant};
    for (const IrNode *n = g->first; n; n = n->next) {
        int found = 0;
        for (size_t i = 0; i < sizeof ours / sizeof ours[0]; i++)
            if (n->op == ours[i])
                found = 1;
        if (!found)
            return 0;
    }
    return 1;
}

/* Runs one backend test at kernel level. Returns 1 pass, 0 fail, -1 refused by infer/lower,
 * -2 not run because the model uses ops of other families. */
static int conf_run(const char *dir, const char *name, char *why, size_t cap) {
    char path[1024];
    IrDiag d;
    ir_diag_init(&d, name);
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
    IrModel *m = fe_load_model(path, NULL, &d);
    int result = 0;
    if (!m) {
        snprintf(why, cap, "load: %s", ir_diag_last(&d));
        ir_diag_free(&d);
        return 0;
    }
    IrGraph *g = m->graph;
    if (!conf_only_our_ops(g)) {
        result = -2;
        goto done;
    }
    if (pass_infer(g, &d) || pass_lower(g, &d)) {
        snprintf(why, cap, "%s", ir_diag_last(&d));
        result = -1;
        goto done;
    }
    for (int set = 0;; set++) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s/test_data_set_%d", dir, name, set);
        if (stat(path, &sb) != 0)
            break;
        /* tensors by value id */
        IrTensor **vals = calloc((size_t)g->nvalues, sizeof(IrTensor *));
        assert_non_null(vals);
        for (int i = 0; i < g->nvalues; i++)
            if (g->values[i]->init)
                vals[i] = g->values[i]->init;
        int k = 0;
        for (int i = 0; i < g->ninputs; i++) {
            IrValue *v = g->inputs[i];
            if (v->init)
                continue;
            snprintf(path, sizeof path, "%s/%s/test_data_set_%d/input_%d.pb", dir, name, set, k++);
            vals[v->id] = fe_read_tensor_pb(g->arena, path, &d);
            if (!vals[v->id]) {
                snprintf(why, cap, "input: %s", ir_diag_last(&d));
                free(vals);
                goto done;
            }
        }
        for (IrNode *n = g->first; n; n = n->next) {
            RtTensor in[8], out[8];
            if (!n->kernel && n->nout == 1 && n->out[0] && n->out[0]->init) {
                vals[n->out[0]->id] = n->out[0]->init; /* a constant, folded by inference */
                continue;
            }
            if (!n->kernel || n->nin > 8 || n->nout > 8) {
                snprintf(why, cap, "node %s has no kernel", n->op_type);
                free(vals);
                goto done;
            }
            for (int i = 0; i < n->nin; i++) {
                IrTensor *t = n->in[i] ? vals[n->in[i]->id] : NULL;
                in[i] = t ? T(t->data, t->dtype, t->rank, t->dims) : ABSENT;
            }
            for (int i = 0; i < n->nout; i++) {
                IrValue *v = n->out[i];
                if (!v) {
                    out[i] = ABSENT;
                    continue;
                }
                int64_t dims[IR_MAX_RANK];
                for (int j = 0; j < v->type.rank; j++)
                    dims[j] = v->type.dims[j].value;
                IrTensor *t = ir_tensor_new(g->arena, v->type.dtype, v->type.rank, dims);
                assert_non_null(t);
                vals[v->id] = t;
                out[i] = T(t->data, t->dtype, t->rank, t->dims);
            }
            RtCtx ctx;
            rt_ctx_init(&ctx);
            RtKernelFn f = rt_kernel_find(n->kernel);
            if (!f || f(&ctx, n->params, in, n->nin, out, n->nout) != 0) {
                snprintf(why, cap, "kernel %s: %s", n->kernel, f ? ctx.errmsg : "not found");
                free(vals);
                goto done;
            }
        }
        for (int i = 0; i < g->noutputs; i++) {
            snprintf(path, sizeof path, "%s/%s/test_data_set_%d/output_%d.pb", dir, name, set, i);
            IrTensor *want = fe_read_tensor_pb(g->arena, path, &d);
            IrTensor *got = vals[g->outputs[i]->id];
            double ma = 0, mr = 0;
            if (!want || !got || !harness_compare(got, want, 1e-3, 1e-7, &ma, &mr)) {
                snprintf(why, cap, "output %d differs (max abs %.3g, max rel %.3g)", i, ma, mr);
                free(vals);
                goto done;
            }
        }
        free(vals);
    }
    result = 1;
done:
    ir_model_destroy(m);
    ir_diag_free(&d);
    return result;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs the selected tests of one folder of the backend data; adds to the counters. */
static void conf_dir(const char *dir, int select_by_name, int *pass, int *fails, int *refused,
                     int *total) {
    DIR *dp = opendir(dir);
    if (!dp) {
        printf("%s not found: skipped\n", dir);
        return;
    }
    char *names[2048];
    int count = 0;
    struct dirent *e;
    while ((e = readdir(dp)) && count < 2048)
        if (e->d_name[0] != '.' && (!select_by_name || conf_selected(e->d_name)))
            names[count++] = strdup(e->d_name);
    closedir(dp);
    qsort(names, (size_t)count, sizeof names[0], cmp_str);
    for (int i = 0; i < count; i++) {
        char why[600] = "";
        int r = conf_run(dir, names[i], why, sizeof why);
        if (r == -2) {
            free(names[i]);
            continue;
        }
        (*total)++;
        if (r == 1) {
            (*pass)++;
            printf("  PASS %s\n", names[i]);
        } else if (r == -1 && conf_expected_unsupported(names[i])) {
            (*refused)++;
            printf("  UNSUPPORTED %s: %s\n", names[i], why);
        } else {
            (*fails)++;
            printf("  FAIL %s: %s\n", names[i], why);
        }
        free(names[i]);
    }
}

static void test_backend_node_tests(void **state) {
    (void)state;
    struct stat sb;
    if (stat(BACKEND_NODE_DIR, &sb) != 0) {
        printf("%s not found: skipped\n", BACKEND_NODE_DIR);
        skip();
    }
    int pass = 0, fails = 0, refused = 0, total = 0;
    /* node/: by test name; pytorch-*: every model made only of these families' ops */
    conf_dir(BACKEND_NODE_DIR, 1, &pass, &fails, &refused, &total);
    conf_dir(BACKEND_NODE_DIR "/../pytorch-converted", 0, &pass, &fails, &refused, &total);
    conf_dir(BACKEND_NODE_DIR "/../pytorch-operator", 0, &pass, &fails, &refused, &total);
    printf("backend tests (kernel level): %d passed, %d unsupported (training mode), "
           "%d failed, of %d\n", pass, refused, fails, total);
    assert_int_equal(fails, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_broadcast),
        cmocka_unit_test(test_add_broadcast_4d),
        cmocka_unit_test(test_integer_arith),
        cmocka_unit_test(test_pow_mixed_types),
        cmocka_unit_test(test_unary),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_float16),
        cmocka_unit_test(test_matmul_shapes),
        cmocka_unit_test(test_matmul_blas_vs_ref),
        cmocka_unit_test(test_gemm_trans_and_bias),
        cmocka_unit_test(test_gemm_blas_vs_ref),
        cmocka_unit_test(test_empty_and_half_matmul),
        cmocka_unit_test(test_softmax),
        cmocka_unit_test(test_batchnorm),
        cmocka_unit_test(test_infer_elementwise),
        cmocka_unit_test(test_infer_clip),
        cmocka_unit_test(test_infer_matmul_gemm),
        cmocka_unit_test(test_infer_norm),
        cmocka_unit_test(test_backend_node_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
