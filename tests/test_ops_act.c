/* test_ops_act.c - tests of the act family (ops/op_act.c, runtime/rt_act.c): the kernels on small
 * inputs whose results were worked out by hand (or with a calculator from the formulas of
 * docs/Operators.md), the infer/lower hooks on small graphs (types, shapes, attribute errors),
 * the kernels' refusal of malformed calls, and the official ONNX backend node tests of the family
 * (non-expanded): each model is loaded, inferred and lowered, its nodes run through their kernels
 * and the results compared with output_K.pb (rtol 1e-3, atol 1e-7; float16/bfloat16 within
 * 2 ulp-ish: rtol 4e-3). Skipped with a message when the data is absent (ONNXC_BACKEND_TESTS
 * overrides ../shared/onnx-backend-tests).
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

/* Asserts |got[i] - want[i]| <= tol (1 + |want[i]|) for n floats, printing the worst. */
static void near_f(const float *got, const double *want, int n, double tol) {
    double worst = 0.0;
    int wi = -1;
    for (int i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= worst)) {
            worst = e;
            wi = i;
        }
    }
    if (!(worst <= tol)) {
        print_message("element %d: got %.9g, want %.9g (relative error %g)\n", wi,
                      (double)got[wi], want[wi], worst);
        fail();
    }
}

/* y = f(x) for n floats through rt_k_act_unary. */
static void unary(int fn, double alpha, double beta, double gamma, const float *x, float *y,
                  int n) {
    RtActParams p = {fn, 0, alpha, beta, gamma};
    int64_t d[1] = {n};
    RtTensor in = tn((void *)x, IR_DT_FLOAT, 1, d), out = tn(y, IR_DT_FLOAT, 1, d);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0);
}

/* ------------------------------------------------------------------ kernels */

static void test_unary_functions(void **state) {
    (void)state;
    const float x[4] = {-1.0f, 0.0f, 0.5f, 2.0f};
    float y[4];
    /* Elu alpha 1: -1 -> e^-1 - 1 */
    unary(RT_ACT_ELU, 1.0, 0, 0, x, y, 4);
    near_f(y, (double[]){-0.6321205588, 0.0, 0.5, 2.0}, 4, 1e-6);
    /* Selu with the default constants: gamma x, gamma alpha (e^x - 1) */
    unary(RT_ACT_SELU, 1.67326319217681884765625, 0, 1.05070102214813232421875, x, y, 4);
    near_f(y, (double[]){-1.1113307413, 0.0, 0.5253505111, 2.1014020443}, 4, 1e-6);
    /* Celu alpha 2: 2 (e^(x/2) - 1) for x <= 0 */
    unary(RT_ACT_CELU, 2.0, 0, 0, x, y, 4);
    near_f(y, (double[]){-0.7869386806, 0.0, 0.5, 2.0}, 4, 1e-6);
    /* HardSigmoid 0.2 x + 0.5 clipped to [0, 1] */
    unary(RT_ACT_HARDSIGMOID, 0.2, 0.5, 0, x, y, 4);
    near_f(y, (double[]){0.3, 0.5, 0.6, 0.9}, 4, 1e-6);
    /* HardSwish x clip(x / 6 + 1/2) */
    unary(RT_ACT_HARDSWISH, 0, 0, 0, x, y, 4);
    near_f(y, (double[]){-1.0 / 3.0, 0.0, 0.5 * (0.5 / 6 + 0.5), 2.0 * (2.0 / 6 + 0.5)}, 4, 1e-6);
    /* ThresholdedRelu alpha 0.5: strictly greater */
    unary(RT_ACT_THRESHOLDEDRELU, 0.5, 0, 0, x, y, 4);
    near_f(y, (double[]){0.0, 0.0, 0.0, 2.0}, 4, 0);
    /* Softplus ln(1 + e^x), Softsign x / (1 + |x|) */
    unary(RT_ACT_SOFTPLUS, 0, 0, 0, x, y, 4);
    near_f(y, (double[]){0.3132616875, 0.6931471806, 0.9740769842, 2.1269280110}, 4, 1e-6);
    unary(RT_ACT_SOFTSIGN, 0, 0, 0, x, y, 4);
    near_f(y, (double[]){-0.5, 0.0, 1.0 / 3.0, 2.0 / 3.0}, 4, 1e-6);
    /* Gelu exact and tanh approximation */
    unary(RT_ACT_GELU, 0, 0, 0, x, y, 4);
    near_f(y, (double[]){-0.1586552539, 0.0, 0.3457312306, 1.9544997361}, 4, 1e-6);
    unary(RT_ACT_GELU_TANH, 0, 0, 0, x, y, 4);
    near_f(y, (double[]){-0.1588080094, 0.0, 0.3457140098, 1.9545976940}, 4, 1e-6);
    /* Mish x tanh(softplus(x)) */
    unary(RT_ACT_MISH, 0, 0, 0, x, y, 4);
    near_f(y, (double[]){-0.3034014613, 0.0, 0.3752452113, 1.9439589595}, 4, 1e-6);
    /* Shrink lambd 0.5 bias 0.25: |x| <= lambd -> 0 */
    unary(RT_ACT_SHRINK, 0.5, 0.25, 0, x, y, 4);
    near_f(y, (double[]){-0.75, 0.0, 0.0, 1.75}, 4, 1e-7);
    /* inverse hyperbolic and error functions */
    const float z[3] = {0.5f, 1.0f, 2.0f};
    unary(RT_ACT_ASINH, 0, 0, 0, z, y, 3);
    near_f(y, (double[]){0.4812118251, 0.8813735870, 1.4436354752}, 3, 1e-6);
    unary(RT_ACT_ACOSH, 0, 0, 0, z + 1, y, 2);
    near_f(y, (double[]){0.0, 1.3169578969}, 2, 1e-6);
    unary(RT_ACT_ATANH, 0, 0, 0, z, y, 1);
    near_f(y, (double[]){0.5493061443}, 1, 1e-6);
    unary(RT_ACT_ERF, 0, 0, 0, z, y, 3);
    near_f(y, (double[]){0.5204998778, 0.8427007929, 0.9953222650}, 3, 1e-6);
    unary(RT_ACT_TAN, 0, 0, 0, z, y, 2);
    near_f(y, (double[]){0.5463024898, 1.5574077247}, 2, 1e-6);
    /* NaN propagates through the piecewise functions */
    const float nan1[1] = {NAN};
    unary(RT_ACT_SHRINK, 0.5, 0, 0, nan1, y, 1);
    assert_true(isnan(y[0]));
    unary(RT_ACT_HARDSIGMOID, 0.2, 0.5, 0, nan1, y, 1);
    assert_true(isnan(y[0]));
    /* float16 and bfloat16 go through float: HardSigmoid(1) = 0.7 */
    uint16_t h[2] = {rt_f2h(1.0f), rt_f2h(-10.0f)}, hy[2];
    int64_t d2[1] = {2};
    RtActParams p = {RT_ACT_HARDSIGMOID, 0, 0.2, 0.5, 0};
    RtTensor in = tn(h, IR_DT_FLOAT16, 1, d2), out = tn(hy, IR_DT_FLOAT16, 1, d2);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0);
    assert_int_equal(hy[0], rt_f2h(0.7f));
    assert_int_equal(hy[1], 0);
    in.dtype = out.dtype = IR_DT_BFLOAT16;
    h[0] = rt_f2bf(1.0f);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0);
    assert_int_equal(hy[0], rt_f2bf(0.7f));
    /* Shrink on integers: computed in double, truncated and saturated back */
    int32_t si[4] = {-3, 0, 1, 5}, so[4];
    int64_t d4[1] = {4};
    p = (RtActParams){RT_ACT_SHRINK, 0, 1.5, 1.0, 0};
    in = tn(si, IR_DT_INT32, 1, d4);
    out = tn(so, IR_DT_INT32, 1, d4);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0);
    assert_true(so[0] == -2 && so[1] == 0 && so[2] == 0 && so[3] == 4);
    uint8_t ui[2] = {250, 0}, uo[2];
    p = (RtActParams){RT_ACT_SHRINK, 0, 0.5, -10.0, 0};
    in = tn(ui, IR_DT_UINT8, 1, d2);
    out = tn(uo, IR_DT_UINT8, 1, d2);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0);
    assert_true(uo[0] == 255 && uo[1] == 0);
    /* other functions refuse integers */
    p.fn = RT_ACT_ELU;
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), ONNXC_ERR_TYPE);
    /* double keeps double precision */
    double xd = 0.5, yd;
    int64_t d1[1] = {1};
    p = (RtActParams){RT_ACT_SIN, 0, 0, 0, 0};
    in = tn(&xd, IR_DT_DOUBLE, 1, d1);
    out = tn(&yd, IR_DT_DOUBLE, 1, d1);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0);
    assert_true(fabs(yd - 0.479425538604203) < 1e-15);
}

static void test_prelu_hardmax(void **state) {
    (void)state;
    /* PRelu: X [2,3], slope [3] broadcast over rows; slope [2,1] over columns */
    float x[6] = {-1, 2, -3, -4, -5, 6}, s3[3] = {0.1f, 0.2f, 0.3f}, s21[2] = {10, 100}, y[6];
    int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
    RtTensor in[2] = {tn(x, IR_DT_FLOAT, 2, d23), tn(s3, IR_DT_FLOAT, 1, d3)};
    RtTensor out = tn(y, IR_DT_FLOAT, 2, d23);
    assert_int_equal(run_k("rt_k_prelu", NULL, in, 2, &out, 1), 0);
    near_f(y, (double[]){-0.1, 2, -0.9, -0.4, -1.0, 6}, 6, 1e-6);
    in[1] = tn(s21, IR_DT_FLOAT, 2, d21);
    assert_int_equal(run_k("rt_k_prelu", NULL, in, 2, &out, 1), 0);
    near_f(y, (double[]){-10, 2, -30, -400, -500, 6}, 6, 1e-6);
    /* a 1-D slope along dim 0 (RtActAxisParams.axis 0): rows scaled by 10 and 100 */
    RtActAxisParams pp = {0, 0, 0, 0};
    in[1] = tn(s21, IR_DT_FLOAT, 1, (int64_t[]){2});
    assert_int_equal(run_k("rt_k_prelu", &pp, in, 2, &out, 1), 0);
    near_f(y, (double[]){-10, 2, -30, -400, -500, 6}, 6, 1e-6);
    /* int64 PRelu */
    int64_t xi[2] = {-4, 3}, sl[1] = {2}, yi[2];
    int64_t d2[] = {2}, d1[] = {1};
    RtTensor iin[2] = {tn(xi, IR_DT_INT64, 1, d2), tn(sl, IR_DT_INT64, 1, d1)};
    RtTensor iout = tn(yi, IR_DT_INT64, 1, d2);
    assert_int_equal(run_k("rt_k_prelu", NULL, iin, 2, &iout, 1), 0);
    assert_true(yi[0] == -8 && yi[1] == 3);
    /* a slope that does not broadcast is refused */
    in[1] = tn(s21, IR_DT_FLOAT, 1, (int64_t[]){2});
    assert_int_equal(run_k("rt_k_prelu", NULL, in, 2, &out, 1), ONNXC_ERR_SHAPE);

    /* Hardmax on [2,2,2]: opset 13 along axis 1; opset 11 coerced to [2, 4] at axis 1 */
    float h[8] = {1, 5, 3, 2, /* */ 7, 7, 0, 9}, hy[8];
    int64_t d222[] = {2, 2, 2};
    RtActAxisParams hp = {1, 0, 0, 0};
    RtTensor hi = tn(h, IR_DT_FLOAT, 3, d222), ho = tn(hy, IR_DT_FLOAT, 3, d222);
    assert_int_equal(run_k("rt_k_hardmax", &hp, &hi, 1, &ho, 1), 0);
    near_f(hy, (double[]){0, 1, 1, 0, /* */ 1, 0, 0, 1}, 8, 0);
    hp.coerce_2d = 1;
    assert_int_equal(run_k("rt_k_hardmax", &hp, &hi, 1, &ho, 1), 0);
    near_f(hy, (double[]){0, 1, 0, 0, /* */ 0, 0, 0, 1}, 8, 0);
    /* ties: the first maximum */
    hp = (RtActAxisParams){2, 0, 0, 0};
    assert_int_equal(run_k("rt_k_hardmax", &hp, &hi, 1, &ho, 1), 0);
    near_f(hy, (double[]){0, 1, 1, 0, /* */ 1, 0, 0, 1}, 8, 0);
    /* an axis beyond the rank is an error, not a crash */
    hp.axis = 3;
    assert_int_equal(run_k("rt_k_hardmax", &hp, &hi, 1, &ho, 1), ONNXC_ERR_INVALID_ARG);
}

static void test_layer_rms_norm(void **state) {
    (void)state;
    /* LayerNormalization over the last dim of [2,3], epsilon 0:
     * row [1,2,3]: mean 2, var 2/3, inv 1.224744871 */
    float x[6] = {1, 2, 3, 4, 0, 8}, sc[3] = {1, 2, 3}, b[3] = {0.5f, 0, -1}, y[6], mean[2], inv[2];
    int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
    RtActNormParams p = {1, 0, 1, 0.0, {1, 1, 1, 3}, {1, 1, 1, 3}};
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 2, d23), tn(sc, IR_DT_FLOAT, 1, d3), tn(b, IR_DT_FLOAT, 1, d3)};
    RtTensor out[3] = {tn(y, IR_DT_FLOAT, 2, d23), tn(mean, IR_DT_FLOAT, 2, d21),
                       tn(inv, IR_DT_FLOAT, 2, d21)};
    assert_int_equal(run_k("rt_k_act_norm", &p, in, 3, out, 3), 0);
    /* row 2 [4,0,8]: mean 4, var 32/3, inv 0.306186218 */
    near_f(y, (double[]){0.5 - 1.224744871, 0, 3 * 1.224744871 - 1, 0.5, -2 * 1.224744871,
                         3 * 1.224744871 - 1},
           6, 1e-6);
    near_f(mean, (double[]){2, 4}, 2, 1e-7);
    near_f(inv, (double[]){1.224744871, 0.306186218}, 2, 1e-6);
    /* scalar scale (cmod 1), no bias, statistics outputs omitted */
    float one = 2.0f;
    in[1] = tn(&one, IR_DT_FLOAT, 0, NULL);
    p.scale = (RtActIndex){1, 1, 1, 1};
    RtTensor in2[3] = {in[0], in[1], absent};
    assert_int_equal(run_k("rt_k_act_norm", &p, in2, 3, out, 1), 0);
    near_f(y, (double[]){-2.449489743, 0, 2.449489743, 0, -2.449489743, 2.449489743}, 6, 1e-6);
    /* a scale too small for the index pattern is refused */
    p.scale = (RtActIndex){1, 1, 1, 3};
    assert_int_equal(run_k("rt_k_act_norm", &p, in2, 3, out, 1), ONNXC_ERR_SHAPE);

    /* RMSNormalization of [1, 4]: rms = sqrt((1 + 4 + 9 + 16) / 4) = sqrt(7.5) */
    float r[4] = {1, -2, 3, 4}, rs[4] = {1, 1, 2, 0.5f}, ry[4];
    int64_t d14[] = {1, 4}, d4[] = {4};
    RtActNormParams rp = {1, 1, 1, 0.0, {1, 1, 1, 4}, {1, 1, 1, 1}};
    RtTensor rin[2] = {tn(r, IR_DT_FLOAT, 2, d14), tn(rs, IR_DT_FLOAT, 1, d4)};
    RtTensor rout = tn(ry, IR_DT_FLOAT, 2, d14);
    assert_int_equal(run_k("rt_k_act_norm", &rp, rin, 2, &rout, 1), 0);
    double k = 1.0 / sqrt(7.5);
    near_f(ry, (double[]){k, -2 * k, 6 * k, 2 * k}, 4, 1e-6);
}

static void test_channel_norms(void **state) {
    (void)state;
    /* InstanceNormalization on [1, 2, 2]: channel 0 [1, 3] -> [-1, 1], channel 1 [5, 5] -> 0;
     * scale [2, 3], bias [0, 1], epsilon 0 (channel 1 has var 0: 0 * inf is NaN, so use 1e-5) */
    float x[4] = {1, 3, 5, 5}, sc[2] = {2, 3}, b[2] = {0, 1}, y[4];
    int64_t d122[] = {1, 2, 2}, d2[] = {2};
    RtActNormParams p = {2, 0, 1, 1e-5, {2, 1, 1, 1}, {2, 1, 1, 1}};
    RtTensor in[3] = {tn(x, IR_DT_FLOAT, 3, d122), tn(sc, IR_DT_FLOAT, 1, d2), tn(b, IR_DT_FLOAT, 1, d2)};
    RtTensor out = tn(y, IR_DT_FLOAT, 3, d122);
    assert_int_equal(run_k("rt_k_act_norm", &p, in, 3, &out, 1), 0);
    double s = 1.0 / sqrt(1.0 + 1e-5);
    near_f(y, (double[]){-2 * s, 2 * s, 1, 1}, 4, 1e-6);

    /* GroupNormalization opset 21 on [1, 4, 1] with 2 groups: groups {1, 3} and {2, 6};
     * per-channel scale [1, 2, 3, 4], bias [0, 0, 10, 10]; epsilon 0 */
    float g[4] = {1, 3, 2, 6}, gs[4] = {1, 2, 3, 4}, gb[4] = {0, 0, 10, 10}, gy[4];
    int64_t d141[] = {1, 4, 1}, d4[] = {4};
    RtActNormParams gp = {1, 0, 2, 0.0, {2, 2, 1, 2}, {2, 2, 1, 2}};
    RtTensor gin[3] = {tn(g, IR_DT_FLOAT, 3, d141), tn(gs, IR_DT_FLOAT, 1, d4), tn(gb, IR_DT_FLOAT, 1, d4)};
    RtTensor gout = tn(gy, IR_DT_FLOAT, 3, d141);
    assert_int_equal(run_k("rt_k_act_norm", &gp, gin, 3, &gout, 1), 0);
    near_f(gy, (double[]){-1, 2, 10 - 3, 10 + 4}, 4, 1e-6);
    /* opset 18: one scale/bias per group */
    float gs2[2] = {2, 5}, gb2[2] = {1, -1};
    RtActNormParams gp2 = {1, 0, 2, 0.0, {2, 1, 1, 1}, {2, 1, 1, 1}};
    gin[1] = tn(gs2, IR_DT_FLOAT, 1, d2);
    gin[2] = tn(gb2, IR_DT_FLOAT, 1, d2);
    assert_int_equal(run_k("rt_k_act_norm", &gp2, gin, 3, &gout, 1), 0);
    near_f(gy, (double[]){-1, 3, -6, 4}, 4, 1e-6);
    /* groups that do not divide the row are refused */
    gp2.groups = 3;
    assert_int_equal(run_k("rt_k_act_norm", &gp2, gin, 3, &gout, 1), ONNXC_ERR_SHAPE);
}

static void test_lp_mvn_lrn(void **state) {
    (void)state;
    /* LpNormalization along axis 1 of [2, 2]: p 2 [3,4] -> [0.6, 0.8]; a zero row stays 0 */
    float x[4] = {3, 4, 0, 0}, y[4];
    int64_t d22[] = {2, 2};
    RtActAxisParams p = {1, 0, 2, 0};
    RtTensor in = tn(x, IR_DT_FLOAT, 2, d22), out = tn(y, IR_DT_FLOAT, 2, d22);
    assert_int_equal(run_k("rt_k_lpnorm", &p, &in, 1, &out, 1), 0);
    near_f(y, (double[]){0.6, 0.8, 0, 0}, 4, 1e-7);
    p.p = 1; /* [3/7, 4/7] */
    assert_int_equal(run_k("rt_k_lpnorm", &p, &in, 1, &out, 1), 0);
    near_f(y, (double[]){3.0 / 7, 4.0 / 7, 0, 0}, 4, 1e-7);
    p.axis = 0; /* columns [3, 0] and [4, 0] */
    assert_int_equal(run_k("rt_k_lpnorm", &p, &in, 1, &out, 1), 0);
    near_f(y, (double[]){1, 1, 0, 0}, 4, 1e-7);
    p.p = 3;
    assert_int_equal(run_k("rt_k_lpnorm", &p, &in, 1, &out, 1), ONNXC_ERR_INVALID_ARG);

    /* MVN over axes {0, 2} of [2, 2, 2]: channel 0 = {1, 3, 5, 7} (mean 4,
     * std sqrt(5)), channel 1 = {2, 2, 2, 2} (std 0: y = 0) */
    float m[8] = {1, 3, 2, 2, 5, 7, 2, 2}, my[8];
    int64_t d222[] = {2, 2, 2};
    RtActMvnParams mp = {0x5u};
    RtTensor mi = tn(m, IR_DT_FLOAT, 3, d222), mo = tn(my, IR_DT_FLOAT, 3, d222);
    assert_int_equal(run_k("rt_k_mvn", &mp, &mi, 1, &mo, 1), 0);
    double sd = sqrt(5.0);
    near_f(my, (double[]){-3 / sd, -1 / sd, 0, 0, 1 / sd, 3 / sd, 0, 0}, 8, 1e-6);
    mp.axes = 0x8u; /* dim 3 of a rank-3 tensor */
    assert_int_equal(run_k("rt_k_mvn", &mp, &mi, 1, &mo, 1), ONNXC_ERR_INVALID_ARG);

    /* LRN size 3 on [1, 3, 1]: x = [1, 2, 3]; windows {0,1}, {0,1,2}, {1,2};
     * y = x / (bias + alpha / 3 * sum)^beta with alpha 3, beta 1, bias 1 */
    float l[3] = {1, 2, 3}, ly[3];
    int64_t d131[] = {1, 3, 1};
    RtActLrnParams lp = {3.0, 1.0, 1.0, 3};
    RtTensor li = tn(l, IR_DT_FLOAT, 3, d131), lo = tn(ly, IR_DT_FLOAT, 3, d131);
    assert_int_equal(run_k("rt_k_lrn", &lp, &li, 1, &lo, 1), 0);
    near_f(ly, (double[]){1.0 / 6, 2.0 / 15, 3.0 / 14}, 3, 1e-6);
    /* size 2: windows [c, c + 1] (floor(1/2) = 0 before, ceil(1/2) = 1 after) */
    lp.size = 2;
    lp.alpha = 2.0;
    assert_int_equal(run_k("rt_k_lrn", &lp, &li, 1, &lo, 1), 0);
    near_f(ly, (double[]){1.0 / 6, 2.0 / 14, 3.0 / 10}, 3, 1e-6);
}

/* Builds an Einsum node over the given inputs, runs infer + lower, checks the output dims and
 * runs the kernel on the data. */
static void check_einsum(const char *eq, int nin, const float *const *data, const int *ranks,
                         const int64_t *const *dims, int out_rank, const int64_t *out_dims,
                         const double *want) {
    IrModel *m = ir_model_create();
    IrGraph *g = ir_graph_create(m, NULL, "g");
    m->graph = g;
    IrDiag d;
    ir_diag_init(&d, "einsum");
    IrValue *iv[4];
    for (int k = 0; k < nin; k++) {
        char name[8];
        snprintf(name, sizeof name, "x%d", k);
        iv[k] = ir_value_new(g, name);
        assert_int_equal(ir_type_set_tensor(g->arena, &iv[k]->type, IR_DT_FLOAT, ranks[k], dims[k]), 0);
    }
    IrValue *y = ir_value_new(g, "y");
    IrNode *n = ir_node_new(g, NULL, "e", "", "Einsum", 12, nin, iv, 1, &y);
    IrAttr *a = ir_node_add_attr(n, "equation", IR_ATTR_STRING);
    a->s.data = (char *)eq;
    a->s.len = strlen(eq);
    if (op_infer_node(n, &d) != 0 || op_lower_node(n, &d) != 0) {
        print_message("%s: %s\n", eq, ir_diag_last(&d));
        fail();
    }
    assert_int_equal(y->type.rank, out_rank);
    int64_t ne = 1;
    for (int i = 0; i < out_rank; i++) {
        assert_int_equal(y->type.dims[i].value, out_dims[i]);
        ne *= out_dims[i];
    }
    RtTensor in[4];
    for (int k = 0; k < nin; k++)
        in[k] = tn((void *)data[k], IR_DT_FLOAT, ranks[k], dims[k]);
    float res[64];
    RtTensor out = tn(res, IR_DT_FLOAT, out_rank, out_dims);
    assert_int_equal(run_k(n->kernel, n->params, in, nin, &out, 1), 0);
    near_f(res, want, (int)ne, 1e-6);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

static void test_einsum(void **state) {
    (void)state;
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, 0, 1, 1, 1}, sq[4] = {1, 2, 3, 4};
    const int64_t d23[] = {2, 3}, d32[] = {3, 2}, d22[] = {2, 2}, d123[] = {1, 2, 3};
    /* matrix product [2,3] x [3,2]: [[1+3, 2+3], [4+6, 5+6]] */
    check_einsum("ij,jk->ik", 2, (const float *[]){a, b}, (int[]){2, 2},
                 (const int64_t *[]){d23, d32}, 2, d22, (double[]){4, 5, 10, 11});
    /* implicit output: labels seen once, alphabetical ("ik") */
    check_einsum("ij,jk", 2, (const float *[]){a, b}, (int[]){2, 2},
                 (const int64_t *[]){d23, d32}, 2, d22, (double[]){4, 5, 10, 11});
    /* trace (implicit scalar) and diagonal */
    check_einsum("ii", 1, (const float *[]){sq}, (int[]){2}, (const int64_t *[]){d22}, 0, NULL,
                 (double[]){5});
    check_einsum("ii->i", 1, (const float *[]){sq}, (int[]){2}, (const int64_t *[]){d22}, 1,
                 (const int64_t[]){2}, (double[]){1, 4});
    /* transpose with an ellipsis, and a sum over an ellipsis-free explicit output */
    check_einsum("...ij->...ji", 1, (const float *[]){a}, (int[]){3}, (const int64_t *[]){d123},
                 3, (const int64_t[]){1, 3, 2}, (double[]){1, 4, 2, 5, 3, 6});
    check_einsum("ij->j", 1, (const float *[]){a}, (int[]){2}, (const int64_t *[]){d23}, 1,
                 (const int64_t[]){3}, (double[]){5, 7, 9});
    /* int32 inner product through the kernel directly */
    {
        int32_t u[3] = {1, 2, 3}, v[3] = {4, 5, 6}, r = 0;
        int64_t d3[] = {3};
        RtActEinsumParams ep;
        memset(&ep, 0, sizeof ep);
        ep.nin = 2;
        ep.nlabels = 1;
        ep.rank[0] = ep.rank[1] = 1;
        RtTensor in[2] = {tn(u, IR_DT_INT32, 1, d3), tn(v, IR_DT_INT32, 1, d3)};
        RtTensor out = tn(&r, IR_DT_INT32, 0, NULL);
        assert_int_equal(run_k("rt_k_einsum", &ep, in, 2, &out, 1), 0);
        assert_int_equal(r, 32);
    }
    /* spaces are ignored; inner product */
    check_einsum("i , i ->", 2, (const float *[]){a, b}, (int[]){1, 1},
                 (const int64_t *[]){(const int64_t[]){6}, (const int64_t[]){6}}, 0, NULL,
                 (double[]){1 + 4 + 5 + 6});
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

static IrValue *mkval(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
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

static void set_int(IrNode *n, const char *name, int64_t v) {
    ir_node_add_attr(n, name, IR_ATTR_INT)->i = v;
}

static void test_infer_lower(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    int64_t d234[] = {2, 3, 4}, d4[] = {4}, d34[] = {3, 4}, d3[] = {3}, d2345[] = {2, 3, 4, 5};
    IrValue *x = mkval(&f, "x", IR_DT_FLOAT, 3, d234), *s4 = mkval(&f, "s4", IR_DT_FLOAT, 1, d4);
    IrValue *s34 = mkval(&f, "s34", IR_DT_FLOAT, 2, d34);
    /* LayerNormalization axis 1 with Scale [3, 4]: Mean/InvStdDev float [2, 1, 1] */
    IrNode *n = mknode(&f, "LayerNormalization", 17, 2, (IrValue *[]){x, s34}, 3);
    set_int(n, "axis", 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[1]->type.dtype, IR_DT_FLOAT);
    assert_int_equal(n->out[1]->type.rank, 3);
    assert_int_equal(n->out[1]->type.dims[0].value, 2);
    assert_int_equal(n->out[1]->type.dims[1].value, 1);
    assert_int_equal(n->out[2]->type.dims[2].value, 1);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    const RtActNormParams *np = n->params;
    assert_string_equal(n->kernel, "rt_k_act_norm");
    assert_int_equal(np->axis, 1);
    assert_int_equal(np->scale.cmod, 12);
    assert_int_equal(np->scale.cdiv, 1);
    /* Scale [4] with axis 1: varies along the last dim only -> cmod 4 */
    n = mknode(&f, "LayerNormalization", 17, 2, (IrValue *[]){x, s4}, 1);
    set_int(n, "axis", 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    np = n->params;
    assert_int_equal(np->scale.cmod, 4);
    /* Scale [3, 1] broadcast along the last dim: cdiv 4, cmod 3 */
    IrValue *s31 = mkval(&f, "s31", IR_DT_FLOAT, 2, (int64_t[]){3, 1});
    n = mknode(&f, "RMSNormalization", 23, 2, (IrValue *[]){x, s31}, 1);
    set_int(n, "axis", -2);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    np = n->params;
    assert_int_equal(np->rms, 1);
    assert_int_equal(np->axis, 1);
    assert_int_equal(np->scale.cdiv, 4);
    assert_int_equal(np->scale.cmod, 3);
    /* Scale varying along a dim that is not normalized is refused */
    n = mknode(&f, "LayerNormalization", 17, 2, (IrValue *[]){x, s34}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), -1);
    /* axis out of range */
    n = mknode(&f, "LayerNormalization", 17, 2, (IrValue *[]){x, s4}, 1);
    set_int(n, "axis", 3);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* GroupNormalization: 3 channels, 2 groups is an error; 3 groups with per-channel scale */
    IrValue *x4 = mkval(&f, "x4", IR_DT_FLOAT, 4, d2345), *c3 = mkval(&f, "c3", IR_DT_FLOAT, 1, d3);
    n = mknode(&f, "GroupNormalization", 21, 3, (IrValue *[]){x4, c3, c3}, 1);
    set_int(n, "num_groups", 2);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "GroupNormalization", 21, 3, (IrValue *[]){x4, c3, c3}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1); /* num_groups is required */
    set_int(n, "num_groups", 3);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    np = n->params;
    assert_int_equal(np->groups, 3);
    assert_int_equal(np->scale.rmod, 3);
    assert_int_equal(np->scale.cdiv, 20);
    /* Gelu: approximate must be none or tanh */
    n = mknode(&f, "Gelu", 20, 1, (IrValue *[]){x}, 1);
    IrAttr *at = ir_node_add_attr(n, "approximate", IR_ATTR_STRING);
    at->s.data = "erf";
    at->s.len = 3;
    assert_int_equal(op_infer_node(n, &f.d), -1);
    at->s.data = "tanh";
    at->s.len = 4;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtActParams *)n->params)->fn, RT_ACT_GELU_TANH);
    /* Selu defaults; integer input refused */
    n = mknode(&f, "Selu", 6, 1, (IrValue *[]){x}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_true(fabs(((const RtActParams *)n->params)->gamma - 1.0507010221) < 1e-7);
    IrValue *xi = mkval(&f, "xi", IR_DT_INT32, 1, d3);
    n = mknode(&f, "Sin", 7, 1, (IrValue *[]){xi}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* integers: Shrink any, PRelu int32 from opset 9 */
    n = mknode(&f, "Shrink", 9, 1, (IrValue *[]){xi}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_INT32);
    n = mknode(&f, "PRelu", 7, 2, (IrValue *[]){xi, xi}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "PRelu", 16, 2, (IrValue *[]){xi, xi}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    /* Hardmax default axis: 1 before opset 13 (coerced), -1 from 13 */
    n = mknode(&f, "Hardmax", 11, 1, (IrValue *[]){x}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    const RtActAxisParams *ap = n->params;
    assert_int_equal(ap->axis, 1);
    assert_int_equal(ap->coerce_2d, 1);
    n = mknode(&f, "Hardmax", 13, 1, (IrValue *[]){x}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    ap = n->params;
    assert_int_equal(ap->axis, 2);
    assert_int_equal(ap->coerce_2d, 0);
    /* PRelu: slope [4] broadcasts to [2,3,4]; slope [3] runs along the channels (axis 1);
     * slope [5] matches no dim */
    n = mknode(&f, "PRelu", 16, 2, (IrValue *[]){x, s4}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtActAxisParams *)n->params)->axis, -1);
    n = mknode(&f, "PRelu", 6, 2, (IrValue *[]){x, c3}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtActAxisParams *)n->params)->axis, 1);
    IrValue *s5 = mkval(&f, "s5", IR_DT_FLOAT, 1, (int64_t[]){5});
    n = mknode(&f, "PRelu", 16, 2, (IrValue *[]){x, s5}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* MVN default axes [0, 2, 3] need rank 4 */
    n = mknode(&f, "MeanVarianceNormalization", 13, 1, (IrValue *[]){x}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    n = mknode(&f, "MeanVarianceNormalization", 13, 1, (IrValue *[]){x4}, 1);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtActMvnParams *)n->params)->axes, 0xdu);
    /* LRN requires size */
    n = mknode(&f, "LRN", 13, 1, (IrValue *[]){x4}, 1);
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* Einsum: bad equations are errors */
    const char *bad[] = {"ij,jk->ik", "ijkl->i", "i.jk->i", "ijk->q", "ijk->ii", "ijk->i-", NULL};
    for (int i = 0; bad[i]; i++) {
        n = mknode(&f, "Einsum", 12, 1, (IrValue *[]){x}, 1);
        at = ir_node_add_attr(n, "equation", IR_ATTR_STRING);
        at->s.data = (char *)bad[i];
        at->s.len = strlen(bad[i]);
        if (op_infer_node(n, &f.d) != -1) {
            print_message("equation '%s' accepted\n", bad[i]);
            fail();
        }
    }
    ir_diag_free(&f.d);
    ir_model_destroy(f.m);
}

/* Kernels refuse malformed calls instead of crashing. */
static void test_kernel_errors(void **state) {
    (void)state;
    float x[4] = {0}, y[4];
    int64_t d4[] = {4}, d2[] = {2};
    RtTensor in = tn(x, IR_DT_FLOAT, 1, d4), out = tn(y, IR_DT_FLOAT, 1, d4);
    RtActParams p = {RT_ACT_COUNT, 0, 0, 0, 0};
    assert_int_not_equal(run_k("rt_k_act_unary", &p, &in, 1, &out, 1), 0); /* bad function */
    assert_int_not_equal(run_k("rt_k_act_unary", NULL, &in, 1, &out, 1), 0);
    p.fn = RT_ACT_SIN;
    RtTensor small = tn(y, IR_DT_FLOAT, 1, d2);
    assert_int_equal(run_k("rt_k_act_unary", &p, &in, 1, &small, 1), ONNXC_ERR_SHAPE);
    RtTensor i32 = tn(x, IR_DT_INT32, 1, d4);
    assert_int_equal(run_k("rt_k_act_unary", &p, &i32, 1, &out, 1), ONNXC_ERR_TYPE);
    assert_int_not_equal(run_k("rt_k_act_norm", NULL, &in, 1, &out, 1), 0);
    assert_int_not_equal(run_k("rt_k_lrn", NULL, &in, 1, &out, 1), 0);
    RtActEinsumParams ep;
    memset(&ep, 0, sizeof ep);
    ep.nin = 1;
    ep.nlabels = 1;
    ep.nout = 1;
    ep.rank[0] = 1;
    ep.label[0][0] = 5; /* beyond nlabels */
    assert_int_not_equal(run_k("rt_k_einsum", &ep, &in, 1, &out, 1), 0);
    ep.label[0][0] = 0;
    assert_int_equal(run_k("rt_k_einsum", &ep, &in, 1, &out, 1), 0);
    assert_int_not_equal(run_k("rt_k_einsum", &ep, &in, 1, &small, 1), 0); /* 4 vs 2 */
}

/* ------------------------------------------------------------------ ONNX backend node tests */

static const char *const family_prefixes[] = {
    "test_sin", "test_cos", "test_tan", "test_asin", "test_acos", "test_atan", "test_erf",
    "test_softplus", "test_softsign", "test_elu", "test_selu", "test_celu", "test_hardsigmoid",
    "test_hardswish", "test_thresholdedrelu", "test_prelu", "test_gelu", "test_mish",
    "test_shrink", "test_hardmax", "test_layer_normalization", "test_group_normalization",
    "test_instancenorm", "test_rms_normalization", "test_lrn", "test_lpnormalization",
    "test_mvn", "test_einsum", NULL};

static int family_selected(const char *name) {
    if (strstr(name, "_expanded") || strncmp(name, "test_tanh", 9) == 0)
        return 0; /* function bodies use other families; Tanh is elementwise's */
    for (int i = 0; family_prefixes[i]; i++)
        if (strncmp(name, family_prefixes[i], strlen(family_prefixes[i])) == 0)
            return 1;
    return 0;
}

static void test_backend_node_tests(void **state) {
    (void)state;
    int count, pass;
    int unexpected =
        tu_run_node_tests("act", family_selected, NULL, tu_tensors_close, &count, &pass);
    assert_true(count >= 100);
    assert_int_equal(pass, count);
    assert_int_equal(unexpected, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_unary_functions),
        cmocka_unit_test(test_prelu_hardmax),
        cmocka_unit_test(test_layer_rms_norm),
        cmocka_unit_test(test_channel_norms),
        cmocka_unit_test(test_lp_mvn_lrn),
        cmocka_unit_test(test_einsum),
        cmocka_unit_test(test_infer_lower),
        cmocka_unit_test(test_kernel_errors),
        cmocka_unit_test(test_backend_node_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
