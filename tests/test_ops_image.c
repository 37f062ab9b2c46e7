/* test_ops_image.c - tests of the image family (ops/op_image.c, runtime/rt_image.c): the kernels
 * on small inputs whose results were worked out by hand from the formulas of docs/Operators.md
 * (Resize, QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, ConvTranspose, the integer
 * matmul/conv ops), the infer/lower hooks on small graphs (shapes, attribute errors), the
 * kernels' refusal of malformed calls, and the official ONNX backend node tests of the family:
 * each model is loaded, inferred and lowered, its nodes run natively through their kernels and
 * the results compared with output_K.pb (floats: |g - w| <= 1e-7 + 1e-3 |w|, float16 8e-3;
 * integer and float8 results exactly). Skipped with a message when the data is absent
 * (ONNXC_BACKEND_TESTS overrides ../shared/onnx-backend-tests).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
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
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"
#include "tests/test_util.h"

/* ------------------------------------------------------------------ helpers */

static void near_f(const float *got, const double *want, int n, double tol) {
    for (int i = 0; i < n; i++)
        if (!(fabs((double)got[i] - want[i]) <= tol * (1.0 + fabs(want[i])))) {
            print_message("element %d: got %.9g, want %.9g\n", i, (double)got[i], want[i]);
            fail();
        }
}

/* A 1-D (or N-D) Resize parameter block resampling every dim with the given scales. */
static RtResizeParams resize_params(int rank, int mode, int coord, const double *scale) {
    RtResizeParams p;
    memset(&p, 0, sizeof p);
    p.rank = rank;
    p.mode = mode;
    p.coord = coord;
    p.cubic_a = -0.75;
    for (int i = 0; i < rank; i++) {
        p.scale[i] = scale[i];
        p.roi_end[i] = 1.0;
        if (scale[i] != 1.0) p.axes[p.naxes++] = i;
    }
    return p;
}

/* ------------------------------------------------------------------ Resize kernel */

static void test_resize_kernel(void **state) {
    (void)state;
    /* nearest, asymmetric, 2x3 upsampling of a 2x2 image (like Upsample): */
    float x[4] = {1, 2, 3, 4}, y[24];
    int64_t dx[2] = {2, 2}, dy[2] = {4, 6};
    RtResizeParams p = resize_params(2, RT_RESIZE_NEAREST, RT_RESIZE_ASYMMETRIC, (double[]){2, 3});
    p.nearest_mode = RT_NEAREST_FLOOR;
    RtTensor in = tn(x, IR_DT_FLOAT, 2, dx), out = tn(y, IR_DT_FLOAT, 2, dy);
    assert_int_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    near_f(y, (double[]){1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 4, 3, 3, 3, 4, 4, 4},
           24, 0);

    /* linear, half_pixel, [1, 2] -> 4: x_original = -0.25, 0.25, 0.75, 1.25 (edges clamp) */
    float a[2] = {1, 2}, b[4];
    int64_t d2[1] = {2}, d4[1] = {4};
    p = resize_params(1, RT_RESIZE_LINEAR, RT_RESIZE_HALF_PIXEL, (double[]){2});
    in = tn(a, IR_DT_FLOAT, 1, d2);
    out = tn(b, IR_DT_FLOAT, 1, d4);
    assert_int_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    near_f(b, (double[]){1, 1.25, 1.75, 2}, 4, 1e-7);

    /* cubic (A = -0.75), asymmetric, [0 1 2 3] -> 8: r = 0.5 weights -0.09375, 0.59375; taps
     * beyond the edge read the edge value */
    float c[4] = {0, 1, 2, 3}, e[8];
    int64_t d8[1] = {8};
    p = resize_params(1, RT_RESIZE_CUBIC, RT_RESIZE_ASYMMETRIC, (double[]){2});
    in = tn(c, IR_DT_FLOAT, 1, d4);
    out = tn(e, IR_DT_FLOAT, 1, d8);
    assert_int_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    near_f(e, (double[]){0, 0.40625, 1, 1.5, 2, 2.59375, 3, 3.09375}, 8, 1e-7); /* 3 clamps */

    /* uint8 linear: [0, 255] -> 0, 63.75, 191.25, 255 rounded half to even */
    uint8_t u[2] = {0, 255}, v[4];
    p = resize_params(1, RT_RESIZE_LINEAR, RT_RESIZE_HALF_PIXEL, (double[]){2});
    in = tn(u, IR_DT_UINT8, 1, d2);
    out = tn(v, IR_DT_UINT8, 1, d4);
    assert_int_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    assert_int_equal(v[0], 0);
    assert_int_equal(v[1], 64);
    assert_int_equal(v[2], 191);
    assert_int_equal(v[3], 255);

    /* tf_crop_and_resize, roi [0.5, 1.5], 4 -> 3: 0.5*3 + j*1*3/2 -> 1.5, 3, 4.5 (> 3: extrapolated) */
    float g[4] = {0, 10, 20, 30}, h[3];
    int64_t d3[1] = {3};
    p = resize_params(1, RT_RESIZE_LINEAR, RT_RESIZE_TF_CROP, (double[]){0.75});
    p.roi_start[0] = 0.5;
    p.roi_end[0] = 1.5;
    p.extrapolation = -1.0;
    in = tn(g, IR_DT_FLOAT, 1, d4);
    out = tn(h, IR_DT_FLOAT, 1, d3);
    assert_int_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    near_f(h, (double[]){15, 30, -1}, 3, 1e-6);

    /* antialiased linear downsampling by 2 (half_pixel): filter of 4 taps (1/4 3/4 3/4 1/4) / 2 */
    float k8[8] = {0, 0, 0, 8, 8, 0, 0, 0}, k4[4];
    p = resize_params(1, RT_RESIZE_LINEAR, RT_RESIZE_HALF_PIXEL, (double[]){0.5});
    p.antialias = 1;
    in = tn(k8, IR_DT_FLOAT, 1, d8);
    out = tn(k4, IR_DT_FLOAT, 1, d4);
    assert_int_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    /* output 1: x_original 2.5, taps 1..4 weights .125 .375 .375 .125 -> 3 + 1 = 4 */
    near_f(k4, (double[]){0, 4, 4, 0}, 4, 1e-6);

    /* run-time scales (in[2]) must agree with Y's declared shape */
    float sc[1] = {2.0f}, sbad[1] = {3.0f};
    int64_t d1[1] = {1};
    p = resize_params(1, RT_RESIZE_LINEAR, RT_RESIZE_HALF_PIXEL, (double[]){2});
    p.runtime = 2;
    RtTensor ins[3] = {tn(a, IR_DT_FLOAT, 1, d2), absent, tn(sc, IR_DT_FLOAT, 1, d1)};
    out = tn(b, IR_DT_FLOAT, 1, d4);
    assert_int_equal(run_k("rt_k_resize", &p, ins, 3, &out, 1), 0);
    near_f(b, (double[]){1, 1.25, 1.75, 2}, 4, 1e-7);
    ins[2] = tn(sbad, IR_DT_FLOAT, 1, d1);
    assert_int_equal(run_k("rt_k_resize", &p, ins, 3, &out, 1), ONNXC_ERR_SHAPE);
}

/* ------------------------------------------------------------------ quantization kernels */

static void test_quant_kernels(void **state) {
    (void)state;
    RtQuantParams p = {0, 0, 1, 1};
    /* per tensor, uint8, scale 1: round half to even, saturate */
    float x[5] = {0.0f, 1.5f, -2.5f, 300.0f, 2.5f}, one = 1.0f;
    uint8_t y[5];
    int64_t d5[1] = {5};
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 1, d5), tn(&one, IR_DT_FLOAT, 0, NULL), absent};
    RtTensor out = tn(y, IR_DT_UINT8, 1, d5);
    assert_int_equal(run_k("rt_k_quantize_linear", &p, in, 3, &out, 1), 0);
    const uint8_t wy[5] = {0, 2, 0, 255, 2};
    assert_memory_equal(y, wy, 5);

    /* int8, scale 0.5, zero point -1: x / 0.5 - 1 */
    float half = 0.5f;
    int8_t zp = -1, q[5];
    in[1] = tn(&half, IR_DT_FLOAT, 0, NULL);
    in[2] = tn(&zp, IR_DT_INT8, 0, NULL);
    out = tn(q, IR_DT_INT8, 1, d5);
    assert_int_equal(run_k("rt_k_quantize_linear", &p, in, 3, &out, 1), 0);
    const int8_t wq[5] = {-1, 2, -6, 127, 4};
    assert_memory_equal(q, wq, 5);

    /* blocked: x [2, 4], axis 1, block 2: scales [[1, 2], [4, 8]] */
    float xb[8] = {2, 2, 2, 2, 8, 8, 8, 8}, sb[4] = {1, 2, 4, 8};
    int64_t d24[2] = {2, 4}, d22[2] = {2, 2};
    uint8_t yb[8];
    RtQuantParams pb = {1, 2, 1, 1};
    in[0] = tn(xb, IR_DT_FLOAT, 2, d24);
    in[1] = tn(sb, IR_DT_FLOAT, 2, d22);
    in[2] = absent;
    out = tn(yb, IR_DT_UINT8, 2, d24);
    assert_int_equal(run_k("rt_k_quantize_linear", &pb, in, 3, &out, 1), 0);
    const uint8_t wb[8] = {2, 2, 1, 1, 2, 2, 1, 1};
    assert_memory_equal(yb, wb, 8);

    /* float8 e4m3fn: 500 saturates to 448 (0x7E) or, without saturate, gives NaN (0x7F) */
    float big[2] = {500.0f, -1.0f};
    uint8_t f8[2], z8 = 0;
    int64_t d2[1] = {2};
    in[0] = tn(big, IR_DT_FLOAT, 1, d2);
    in[1] = tn(&one, IR_DT_FLOAT, 0, NULL);
    in[2] = tn(&z8, IR_DT_FLOAT8E4M3FN, 0, NULL);
    out = tn(f8, IR_DT_FLOAT8E4M3FN, 1, d2);
    assert_int_equal(run_k("rt_k_quantize_linear", &p, in, 3, &out, 1), 0);
    assert_int_equal(f8[0], 0x7E);
    assert_int_equal(f8[1], 0xB8); /* -1.0: sign, exponent 7 */
    RtQuantParams pn = {0, 0, 0, 1};
    assert_int_equal(run_k("rt_k_quantize_linear", &pn, in, 3, &out, 1), 0);
    assert_int_equal(f8[0], 0x7F);

    /* DequantizeLinear int4 (one per byte), per axis: x [2, 2], axis 0, scales [0.5, 2], zp [1, -1] */
    int8_t x4[4] = {-8, 7, 0, 1}, z4[2] = {1, -1};
    float s2[2] = {0.5f, 2.0f}, dq[4];
    int64_t d22b[2] = {2, 2}, d2b[1] = {2};
    RtQuantParams pa = {0, 0, 1, 1};
    in[0] = tn(x4, IR_DT_INT4, 2, d22b);
    in[1] = tn(s2, IR_DT_FLOAT, 1, d2b);
    in[2] = tn(z4, IR_DT_INT4, 1, d2b);
    out = tn(dq, IR_DT_FLOAT, 2, d22b);
    assert_int_equal(run_k("rt_k_dequantize_linear", &pa, in, 3, &out, 1), 0);
    near_f(dq, (double[]){-4.5, 3, 2, 4}, 4, 0);

    /* DynamicQuantizeLinear: min -1, max 4 -> scale 5/255, zero point 51 */
    float xd[4] = {0, 2, -1, 4}, ys;
    uint8_t yd[4], yz;
    int64_t d4[1] = {4};
    RtTensor din = tn(xd, IR_DT_FLOAT, 1, d4);
    RtTensor dout[3] = {tn(yd, IR_DT_UINT8, 1, d4), tn(&ys, IR_DT_FLOAT, 0, NULL),
                        tn(&yz, IR_DT_UINT8, 0, NULL)};
    assert_int_equal(run_k("rt_k_dynamic_quantize_linear", NULL, &din, 1, dout, 3), 0);
    near_f(&ys, (double[]){5.0 / 255.0}, 1, 1e-7);
    assert_int_equal(yz, 51);
    const uint8_t wd[4] = {51, 153, 0, 255};
    assert_memory_equal(yd, wd, 4);
}

/* ------------------------------------------------------------------ conv / matmul kernels */

static void test_conv_matmul_kernels(void **state) {
    (void)state;
    /* ConvTranspose 1-D: x [1, 2], w ones(3), stride 2 -> [1 1 3 2 2]; pads 1/1 -> [1 3 2] */
    float x[2] = {1, 2}, w[3] = {1, 1, 1}, y[5], b = 0.5f;
    int64_t dx[3] = {1, 1, 2}, dw[3] = {1, 1, 3}, dy[3] = {1, 1, 5}, dy3[3] = {1, 1, 3}, d1[1] = {1};
    RtConvTransposeParams p;
    memset(&p, 0, sizeof p);
    p.nspatial = 1;
    p.group = 1;
    p.stride[0] = 2;
    p.dilation[0] = 1;
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 3, dx), tn(w, IR_DT_FLOAT, 3, dw), absent};
    RtTensor out = tn(y, IR_DT_FLOAT, 3, dy);
    assert_int_equal(run_k("rt_k_conv_transpose_f32", &p, in, 3, &out, 1), 0);
    near_f(y, (double[]){1, 1, 3, 2, 2}, 5, 0);
    p.pad_begin[0] = 1;
    in[2] = tn(&b, IR_DT_FLOAT, 1, d1);
    out = tn(y, IR_DT_FLOAT, 3, dy3);
    assert_int_equal(run_k("rt_k_conv_transpose_f32", &p, in, 3, &out, 1), 0);
    near_f(y, (double[]){1.5, 3.5, 2.5}, 3, 0);
    /* the same in float16 (computed in float32) */
    uint16_t hx[2] = {rt_f2h(1), rt_f2h(2)}, hw[3] = {rt_f2h(1), rt_f2h(1), rt_f2h(1)}, hy[5];
    p.pad_begin[0] = 0;
    RtTensor hin[2] = {tn(hx, IR_DT_FLOAT16, 3, dx), tn(hw, IR_DT_FLOAT16, 3, dw)};
    out = tn(hy, IR_DT_FLOAT16, 3, dy);
    assert_int_equal(run_k("rt_k_conv_transpose_f16", &p, hin, 2, &out, 1), 0);
    for (int i = 0; i < 5; i++) y[i] = rt_h2f(hy[i]);
    near_f(y, (double[]){1, 1, 3, 2, 2}, 5, 0);

    /* MatMulInteger: (A - 1) x B with A uint8 [[1 2] [3 4]], B int8 identity */
    uint8_t a[4] = {1, 2, 3, 4}, az = 1;
    int8_t bm[4] = {1, 0, 0, 1};
    int32_t c[4];
    int64_t d22[2] = {2, 2};
    RtTensor mi[4] = {tn(a, IR_DT_UINT8, 2, d22), tn(bm, IR_DT_INT8, 2, d22),
                      tn(&az, IR_DT_UINT8, 0, NULL), absent};
    out = tn(c, IR_DT_INT32, 2, d22);
    assert_int_equal(run_k("rt_k_matmul_integer", NULL, mi, 4, &out, 1), 0);
    const int32_t wc[4] = {0, 1, 2, 3};
    assert_memory_equal(c, wc, sizeof wc);

    /* 1-D A: [1 2] - 1 times the identity -> [0 1] (rank 1) */
    int64_t d2v[1] = {2};
    RtTensor mv[4] = {tn(a, IR_DT_UINT8, 1, d2v), tn(bm, IR_DT_INT8, 2, d22),
                      tn(&az, IR_DT_UINT8, 0, NULL), absent};
    out = tn(c, IR_DT_INT32, 1, d2v);
    assert_int_equal(run_k("rt_k_matmul_integer", NULL, mv, 4, &out, 1), 0);
    assert_int_equal(c[0], 0);
    assert_int_equal(c[1], 1);

    /* QLinearMatMul: acc * (0.5 * 1 / 0.25) + 10 */
    float as = 0.5f, bs = 1.0f, ysc = 0.25f;
    uint8_t yz = 10, qy[4];
    RtTensor ql[8] = {tn(a, IR_DT_UINT8, 2, d22),      tn(&as, IR_DT_FLOAT, 0, NULL),
                      tn(&az, IR_DT_UINT8, 0, NULL),   tn(bm, IR_DT_INT8, 2, d22),
                      tn(&bs, IR_DT_FLOAT, 0, NULL),   absent,
                      tn(&ysc, IR_DT_FLOAT, 0, NULL),  tn(&yz, IR_DT_UINT8, 0, NULL)};
    out = tn(qy, IR_DT_UINT8, 2, d22);
    assert_int_equal(run_k("rt_k_qlinear_matmul", NULL, ql, 8, &out, 1), 0);
    const uint8_t wq[4] = {10, 12, 14, 16};
    assert_memory_equal(qy, wq, 4);

    /* ConvInteger 1-D: x uint8 [1 2 3] - 1, w [1 1], pads 1/0 -> [0, 1, 3] */
    uint8_t xi[3] = {1, 2, 3}, xz = 1, wi[2] = {1, 1};
    int32_t yi[3];
    int64_t dxi[3] = {1, 1, 3}, dwi[3] = {1, 1, 2};
    RtConvIntParams cp;
    memset(&cp, 0, sizeof cp);
    cp.nspatial = 1;
    cp.group = 1;
    cp.kernel[0] = 2;
    cp.stride[0] = cp.dilation[0] = 1;
    cp.pad_begin[0] = 1;
    RtTensor ci[4] = {tn(xi, IR_DT_UINT8, 3, dxi), tn(wi, IR_DT_UINT8, 3, dwi),
                      tn(&xz, IR_DT_UINT8, 0, NULL), absent};
    out = tn(yi, IR_DT_INT32, 3, dxi);
    assert_int_equal(run_k("rt_k_conv_integer", &cp, ci, 4, &out, 1), 0);
    const int32_t wyi[3] = {0, 1, 3};
    assert_memory_equal(yi, wyi, sizeof wyi);
}

/* ------------------------------------------------------------------ malformed calls */

static void test_kernel_errors(void **state) {
    (void)state;
    float x[4] = {0}, y[4];
    int64_t d4[1] = {4}, d3[1] = {3}, d22[2] = {2, 2};
    RtResizeParams p = resize_params(1, RT_RESIZE_LINEAR, RT_RESIZE_HALF_PIXEL, (double[]){2});
    RtTensor in = tn(x, IR_DT_FLOAT, 1, d4), out = tn(y, IR_DT_FLOAT, 2, d22);
    assert_int_not_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);      /* rank */
    assert_int_not_equal(run_k("rt_k_resize", NULL, &in, 1, &out, 1), 0);    /* no params */
    p.naxes = 0;                                                              /* dims differ */
    out = tn(y, IR_DT_FLOAT, 1, d3);
    assert_int_not_equal(run_k("rt_k_resize", &p, &in, 1, &out, 1), 0);
    /* per-axis scale of the wrong length */
    float s[3] = {1, 1, 1};
    uint8_t q[4];
    RtQuantParams qp = {0, 0, 1, 1};
    RtTensor qi[2] = {tn(x, IR_DT_FLOAT, 1, d4), tn(s, IR_DT_FLOAT, 1, d3)};
    out = tn(q, IR_DT_UINT8, 1, d4);
    assert_int_equal(run_k("rt_k_quantize_linear", &qp, qi, 2, &out, 1), ONNXC_ERR_SHAPE);
    /* ConvTranspose with a weight whose channels differ from X's */
    int64_t dx[3] = {1, 2, 2}, dw[3] = {1, 1, 1};
    RtConvTransposeParams cp;
    memset(&cp, 0, sizeof cp);
    cp.nspatial = 1;
    cp.group = 1;
    cp.stride[0] = cp.dilation[0] = 1;
    RtTensor ci[2] = {tn(x, IR_DT_FLOAT, 3, dx), tn(x, IR_DT_FLOAT, 3, dw)};
    out = tn(y, IR_DT_FLOAT, 3, dx);
    assert_int_equal(run_k("rt_k_conv_transpose_f32", &cp, ci, 2, &out, 1), ONNXC_ERR_SHAPE);
    /* MatMulInteger inner dims */
    uint8_t a[4] = {0};
    int32_t c[4];
    int64_t d21[2] = {2, 1};
    RtTensor mi[2] = {tn(a, IR_DT_UINT8, 2, d21), tn(a, IR_DT_UINT8, 2, d21)};
    out = tn(c, IR_DT_INT32, 2, d22);
    assert_int_equal(run_k("rt_k_matmul_integer", NULL, mi, 2, &out, 1), ONNXC_ERR_SHAPE);
}

/* ------------------------------------------------------------------ infer and lower */

typedef struct Fx {
    IrModel *m;
    IrGraph *g;
    IrDiag d;
} Fx;

static void fx_init(Fx *f) {
    f->m = ir_model_create();
    f->g = ir_graph_create(f->m, NULL, "g");
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
}

static void fx_free(Fx *f) {
    ir_model_destroy(f->m);
    ir_diag_free(&f->d);
}

static IrValue *mkval(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

/* A constant 1-D tensor with n values (float or int64). */
static IrValue *mkconst(Fx *f, const char *name, IrDType dt, int n, const double *vals) {
    int64_t d[1] = {n};
    IrValue *v = mkval(f, name, dt, 1, d);
    IrTensor *t = ir_tensor_new(f->g->arena, dt, 1, d);
    assert_non_null(t);
    for (int i = 0; i < n; i++) {
        if (dt == IR_DT_FLOAT) ((float *)t->data)[i] = (float)vals[i];
        else ((int64_t *)t->data)[i] = (int64_t)vals[i];
    }
    v->init = t;
    v->flags |= IR_VALUE_INITIALIZER;
    return v;
}

static IrNode *mknode(Fx *f, const char *op, int opset, int nin, IrValue **in, int nout) {
    static int k = 0;
    IrValue *outs[3];
    char name[32];
    for (int i = 0; i < nout; i++) {
        snprintf(name, sizeof name, "v%d_%d", k, i);
        outs[i] = ir_value_new(f->g, name);
    }
    snprintf(name, sizeof name, "n%d", k++);
    IrNode *n = ir_node_new(f->g, NULL, name, "", op, opset, nin, in, nout, outs);
    assert_non_null(n);
    return n;
}

static void set_str(IrNode *n, const char *name, const char *s) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_STRING);
    a->s.data = s;
    a->s.len = strlen(s);
}

static void set_ints(IrNode *n, const char *name, int k, const int64_t *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INTS);
    a->n = k;
    a->ints = (int64_t *)v;
}

static void expect_dims(const IrValue *v, IrDType dt, int rank, const int64_t *dims) {
    assert_int_equal(v->type.dtype, dt);
    assert_int_equal(v->type.rank, rank);
    for (int i = 0; i < rank; i++) assert_int_equal(v->type.dims[i].value, dims[i]);
}

static void test_infer_lower(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    int64_t d1234[] = {1, 2, 3, 4};
    IrValue *x = mkval(&f, "x", IR_DT_FLOAT, 4, d1234);
    /* Resize-13 with scales [1, 1, 2, 0.5] -> [1, 2, 6, 2], lowered to rt_k_resize */
    IrValue *sc = mkconst(&f, "sc", IR_DT_FLOAT, 4, (double[]){1, 1, 2, 0.5});
    IrNode *n = mknode(&f, "Resize", 13, 3, (IrValue *[]){x, NULL, sc}, 1);
    set_str(n, "mode", "linear");
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_FLOAT, 4, (int64_t[]){1, 2, 6, 2});
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_resize");
    const RtResizeParams *p = n->params;
    assert_int_equal(p->naxes, 2); /* dims 0 and 1 are identities */
    assert_int_equal(p->axes[0], 2);
    assert_int_equal(p->axes[1], 3);

    /* Resize-18 sizes [5, 5] on axes [2, 3] with not_larger: scale min(5/3, 5/4) = 1.25 */
    IrValue *sz = mkconst(&f, "sz", IR_DT_INT64, 2, (double[]){5, 5});
    n = mknode(&f, "Resize", 18, 4, (IrValue *[]){x, NULL, NULL, sz}, 1);
    set_ints(n, "axes", 2, (const int64_t[]){2, 3});
    set_str(n, "keep_aspect_ratio_policy", "not_larger");
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_FLOAT, 4, (int64_t[]){1, 2, 4, 5});

    /* errors: unknown mode, neither scales nor sizes, cubic in Resize-10 */
    n = mknode(&f, "Resize", 13, 3, (IrValue *[]){x, NULL, sc}, 1);
    set_str(n, "mode", "bicubic");
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "Resize", 13, 1, (IrValue *[]){x}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "Resize", 10, 2, (IrValue *[]){x, sc}, 1);
    set_str(n, "mode", "cubic");
    assert_int_equal(op_infer_node(n, &f.d), -1);

    /* computed scales without a declared output type: unsupported; with one: kept */
    IrValue *dyn = mkval(&f, "dyn", IR_DT_FLOAT, 1, (int64_t[]){4});
    n = mknode(&f, "Resize", 13, 3, (IrValue *[]){x, NULL, dyn}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "Resize", 13, 3, (IrValue *[]){x, NULL, dyn}, 1);
    assert_int_equal(ir_type_set_tensor(f.g->arena, &n->out[0]->type, IR_DT_FLOAT, 4,
                                        (int64_t[]){1, 2, 6, 8}), 0);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtResizeParams *)n->params)->runtime, 2);

    /* QuantizeLinear: output type from the zero point, else uint8; output_dtype conflicts */
    IrValue *s0 = mkval(&f, "s0", IR_DT_FLOAT, 0, NULL), *z8 = mkval(&f, "z8", IR_DT_INT8, 0, NULL);
    n = mknode(&f, "QuantizeLinear", 21, 3, (IrValue *[]){x, s0, z8}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_INT8, 4, d1234);
    n = mknode(&f, "QuantizeLinear", 21, 2, (IrValue *[]){x, s0}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_UINT8);
    n = mknode(&f, "QuantizeLinear", 21, 3, (IrValue *[]){x, s0, z8}, 1);
    ir_node_add_attr(n, "output_dtype", IR_ATTR_INT)->i = IR_DT_UINT8;
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* per-axis scale of the wrong length along axis 1 */
    IrValue *s3 = mkval(&f, "s3", IR_DT_FLOAT, 1, (int64_t[]){3});
    n = mknode(&f, "QuantizeLinear", 21, 2, (IrValue *[]){x, s3}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* DequantizeLinear of int8 with a float16 scale gives float16 */
    IrValue *q = mkval(&f, "q", IR_DT_INT8, 4, d1234), *h = mkval(&f, "h", IR_DT_FLOAT16, 0, NULL);
    n = mknode(&f, "DequantizeLinear", 21, 2, (IrValue *[]){q, h}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT16);

    /* ConvTranspose: x [1, 2, 3, 3], w [2, 3, 3, 3], stride 2, output_padding 1 -> [1, 3, 8, 8];
     * group 2 -> 6 channels; output_shape [10, 10] -> pads from total = 8 - 10 < 0 */
    IrValue *cx = mkval(&f, "cx", IR_DT_FLOAT, 4, (int64_t[]){1, 2, 3, 3});
    IrValue *cw = mkval(&f, "cw", IR_DT_FLOAT, 4, (int64_t[]){2, 3, 3, 3});
    n = mknode(&f, "ConvTranspose", 11, 2, (IrValue *[]){cx, cw}, 1);
    set_ints(n, "strides", 2, (const int64_t[]){2, 2});
    set_ints(n, "output_padding", 2, (const int64_t[]){1, 1});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_FLOAT, 4, (int64_t[]){1, 3, 8, 8});
    n = mknode(&f, "ConvTranspose", 11, 2, (IrValue *[]){cx, cw}, 1);
    ir_node_add_attr(n, "group", IR_ATTR_INT)->i = 2;
    set_ints(n, "output_shape", 2, (const int64_t[]){10, 10});
    set_ints(n, "strides", 2, (const int64_t[]){2, 2});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_FLOAT, 4, (int64_t[]){1, 6, 10, 10});
    assert_int_equal(op_lower_node(n, &f.d), 0);
    /* total = 2 * 2 + 3 - 10 = -3: begin = -3 - floor(-3 / 2) = -1 */
    assert_int_equal(((const RtConvTransposeParams *)n->params)->pad_begin[0], -1);
    /* kernel_shape disagreeing with the weight */
    n = mknode(&f, "ConvTranspose", 11, 2, (IrValue *[]){cx, cw}, 1);
    set_ints(n, "kernel_shape", 2, (const int64_t[]){2, 2});
    assert_int_equal(op_infer_node(n, &f.d), -1);

    /* MatMulInteger broadcasting [3, 2, 4] x [4, 5] -> int32 [3, 2, 5]; float A is refused */
    IrValue *ma = mkval(&f, "ma", IR_DT_UINT8, 3, (int64_t[]){3, 2, 4});
    IrValue *mb = mkval(&f, "mb", IR_DT_INT8, 2, (int64_t[]){4, 5});
    n = mknode(&f, "MatMulInteger", 10, 2, (IrValue *[]){ma, mb}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_INT32, 3, (int64_t[]){3, 2, 5});
    n = mknode(&f, "MatMulInteger", 10, 2, (IrValue *[]){x, mb}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* 1-D B: [3, 2, 4] x [4] -> [3, 2] */
    IrValue *mv = mkval(&f, "mv", IR_DT_INT8, 1, (int64_t[]){4});
    n = mknode(&f, "MatMulInteger", 10, 2, (IrValue *[]){ma, mv}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_INT32, 2, (int64_t[]){3, 2});

    /* ConvInteger SAME_UPPER keeps the spatial size */
    IrValue *ix = mkval(&f, "ix", IR_DT_UINT8, 4, (int64_t[]){1, 1, 5, 5});
    IrValue *iw = mkval(&f, "iw", IR_DT_UINT8, 4, (int64_t[]){4, 1, 3, 3});
    n = mknode(&f, "ConvInteger", 10, 2, (IrValue *[]){ix, iw}, 1);
    set_str(n, "auto_pad", "SAME_UPPER");
    assert_int_equal(op_infer_node(n, &f.d), 0);
    expect_dims(n->out[0], IR_DT_INT32, 4, (int64_t[]){1, 4, 5, 5});
    fx_free(&f);
}

/* ------------------------------------------------------------------ backend node tests */

static const char *const family_prefixes[] = {
    "test_resize", "test_upsample", "test_quantizelinear", "test_dequantizelinear",
    "test_dynamicquantizelinear", "test_convtranspose", "test_matmulinteger",
    "test_qlinearmatmul", "test_convinteger", "test_qlinearconv", NULL};

static int family_selected(const char *name) {
    if (strstr(name, "_expanded")) return 0; /* function bodies use other families */
    for (int i = 0; family_prefixes[i]; i++)
        if (strncmp(name, family_prefixes[i], strlen(family_prefixes[i])) == 0) return 1;
    return 0;
}

static void test_backend_node_tests(void **state) {
    (void)state;
    int count, pass;
    int unexpected =
        tu_run_node_tests("image", family_selected, NULL, tu_tensors_close, &count, &pass);
    assert_true(count >= 90);
    assert_int_equal(pass, count);
    assert_int_equal(unexpected, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resize_kernel),
        cmocka_unit_test(test_quant_kernels),
        cmocka_unit_test(test_conv_matmul_kernels),
        cmocka_unit_test(test_kernel_errors),
        cmocka_unit_test(test_infer_lower),
        cmocka_unit_test(test_backend_node_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
