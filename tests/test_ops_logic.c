/* test_ops_logic.c - tests of the cast, comparison, logical and bitwise family: the scalar
 * conversions of runtime/rt_convert.h against values worked out by hand from the format
 * definitions, the kernels of runtime/rt_logic.c through rt_kernel_find, the infer/lower hooks
 * of ops/op_logic.c on small graphs, and the official ONNX backend node tests of the family
 * (test_cast_*, test_castlike_*, test_equal*, ..., test_bitwise*): each model is loaded by the
 * frontend, inferred and lowered, its nodes run through their kernels on input_K.pb and the
 * results compared with output_K.pb (exact for integers, bools and strings; rtol 1e-3,
 * atol 1e-7 for floats, NaN equal to NaN). Skipped with a message when the data is absent
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
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"
#include "tests/test_util.h"

/* ------------------------------------------------------------------ helpers */

static RtLogicParams defaults(void) {
    RtLogicParams p = {-1, 0, 1, RT_ROUND_UP, 0, 0, 1, 1};
    return p;
}

/* Runs kernel `name` on nin inputs and one output; returns its status. */
static int run_lk(const char *name, const RtLogicParams *p, const RtTensor *in, int nin,
                 RtTensor *out) {
    RtKernelFn f = rt_kernel_find(name);
    assert_non_null(f);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int st = f(&ctx, p, in, nin, out, 1);
    if (st)
        print_message("%s: %s\n", name, ctx.errmsg);
    return st;
}

static void assert_bytes(const uint8_t *got, const uint8_t *want, int n) {
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            print_message("element %d: got %d, want %d\n", i, got[i], want[i]);
            fail();
        }
}

/* ------------------------------------------------------------------ scalar conversions */

static void test_convert_float8(void **state) {
    (void)state;
    /* E4M3FN: 1.0 = exponent 7 (bias 7) -> 0x38; 448 = 1.75 * 2^8 -> 0x7e (largest);
     * 464 is halfway between 448 (mantissa 110) and 480 (111, the NaN code): ties to even 448;
     * 480 overflows: saturate -> 448, else NaN 0x7f. */
    assert_int_equal(rt_fp_encode(1.0, &rt_fmt_e4m3fn, 1), 0x38);
    assert_int_equal(rt_fp_encode(448.0, &rt_fmt_e4m3fn, 0), 0x7e);
    assert_int_equal(rt_fp_encode(464.0, &rt_fmt_e4m3fn, 0), 0x7e);
    assert_int_equal(rt_fp_encode(480.0, &rt_fmt_e4m3fn, 1), 0x7e);
    assert_int_equal(rt_fp_encode(480.0, &rt_fmt_e4m3fn, 0), 0x7f);
    assert_int_equal(rt_fp_encode(-480.0, &rt_fmt_e4m3fn, 0), 0xff);
    assert_int_equal(rt_fp_encode(-INFINITY, &rt_fmt_e4m3fn, 1), 0xfe);
    assert_int_equal(rt_fp_encode(-0.0, &rt_fmt_e4m3fn, 1), 0x80);
    /* subnormals: smallest 2^-9 -> 0x01; 2^-10 is a tie between 0 and 2^-9 -> 0;
     * 1.5 * 2^-10 = 0.75 * 2^-9 -> 0x01; 3 * 2^-9 -> 0x03; 7.5 * 2^-9 -> 8 * 2^-9 = 2^-6,
     * the smallest normal (exponent 1) -> 0x08 */
    assert_int_equal(rt_fp_encode(ldexp(1, -9), &rt_fmt_e4m3fn, 1), 0x01);
    assert_int_equal(rt_fp_encode(ldexp(1, -10), &rt_fmt_e4m3fn, 1), 0x00);
    assert_int_equal(rt_fp_encode(ldexp(1.5, -10), &rt_fmt_e4m3fn, 1), 0x01);
    assert_int_equal(rt_fp_encode(ldexp(3, -9), &rt_fmt_e4m3fn, 1), 0x03);
    assert_int_equal(rt_fp_encode(ldexp(7.5, -9), &rt_fmt_e4m3fn, 1), 0x08);
    assert_true(isnan(rt_fp_decode(0x7f, &rt_fmt_e4m3fn)));
    assert_true(rt_fp_decode(0x7e, &rt_fmt_e4m3fn) == 448.0);
    assert_true(rt_fp_decode(0x01, &rt_fmt_e4m3fn) == ldexp(1, -9));
    /* E4M3FNUZ: bias 8, 1.0 -> 0x40, no -0, NaN 0x80, max 240 = 1.875 * 2^7 -> 0x7f */
    assert_int_equal(rt_fp_encode(1.0, &rt_fmt_e4m3fnuz, 1), 0x40);
    assert_int_equal(rt_fp_encode(-0.0, &rt_fmt_e4m3fnuz, 1), 0x00);
    assert_int_equal(rt_fp_encode(-1e-9, &rt_fmt_e4m3fnuz, 1), 0x00);
    assert_int_equal(rt_fp_encode(NAN, &rt_fmt_e4m3fnuz, 1), 0x80);
    assert_int_equal(rt_fp_encode(1000.0, &rt_fmt_e4m3fnuz, 1), 0x7f);
    assert_int_equal(rt_fp_encode(-1000.0, &rt_fmt_e4m3fnuz, 1), 0xff);
    assert_int_equal(rt_fp_encode(1000.0, &rt_fmt_e4m3fnuz, 0), 0x80);
    assert_true(rt_fp_decode(0x7f, &rt_fmt_e4m3fnuz) == 240.0);
    assert_true(isnan(rt_fp_decode(0x80, &rt_fmt_e4m3fnuz)));
    /* E5M2: 1.0 -> 0x3c; max 57344 -> 0x7b; inf 0x7c only without saturation */
    assert_int_equal(rt_fp_encode(1.0, &rt_fmt_e5m2, 1), 0x3c);
    assert_int_equal(rt_fp_encode(65536.0, &rt_fmt_e5m2, 1), 0x7b);
    assert_int_equal(rt_fp_encode(65536.0, &rt_fmt_e5m2, 0), 0x7c);
    assert_int_equal(rt_fp_encode(INFINITY, &rt_fmt_e5m2, 0), 0x7c);
    assert_int_equal(rt_fp_encode(INFINITY, &rt_fmt_e5m2, 1), 0x7b);
    assert_true(isinf(rt_fp_decode(0xfc, &rt_fmt_e5m2)) && rt_fp_decode(0xfc, &rt_fmt_e5m2) < 0);
    /* E5M2FNUZ: bias 16, 1.0 -> 16 << 2 = 0x40; 1.5 -> 0x42 */
    assert_int_equal(rt_fp_encode(1.0, &rt_fmt_e5m2fnuz, 1), 0x40);
    assert_int_equal(rt_fp_encode(1.5, &rt_fmt_e5m2fnuz, 1), 0x42);
    assert_true(rt_fp_decode(0x7f, &rt_fmt_e5m2fnuz) == 57344.0);
}

static void test_convert_float4_e8m0_f16(void **state) {
    (void)state;
    /* E2M1 values 0, .5, 1, 1.5, 2, 3, 4, 6: 2.5 ties to 2 (100), 5 ties to 4 (110),
     * 0.25 ties to 0, 0.75 ties to 1 (010), 7 -> 6, -inf -> -6 */
    assert_int_equal(rt_fp_encode(2.5, &rt_fmt_e2m1, 0), 0x4);
    assert_int_equal(rt_fp_encode(5.0, &rt_fmt_e2m1, 0), 0x6);
    assert_int_equal(rt_fp_encode(0.25, &rt_fmt_e2m1, 0), 0x0);
    assert_int_equal(rt_fp_encode(0.75, &rt_fmt_e2m1, 0), 0x2);
    assert_int_equal(rt_fp_encode(7.0, &rt_fmt_e2m1, 0), 0x7);
    assert_int_equal(rt_fp_encode(-INFINITY, &rt_fmt_e2m1, 0), 0xf);
    assert_true(rt_fp_decode(0xd, &rt_fmt_e2m1) == -3.0);
    assert_true(rt_fp_decode(0x1, &rt_fmt_e2m1) == 0.5);
    /* E8M0: 1.0 -> 127; 3 = 1.5 * 2: up -> 4 (129), down -> 2 (128), nearest -> 4;
     * 2.5 = 1.25 * 2: nearest -> 2 (128) */
    assert_int_equal(rt_e8m0_encode(1.0f, 1, RT_ROUND_UP), 127);
    assert_int_equal(rt_e8m0_encode(3.0f, 1, RT_ROUND_UP), 129);
    assert_int_equal(rt_e8m0_encode(3.0f, 1, RT_ROUND_DOWN), 128);
    assert_int_equal(rt_e8m0_encode(3.0f, 1, RT_ROUND_NEAREST), 129);
    assert_int_equal(rt_e8m0_encode(2.5f, 1, RT_ROUND_NEAREST), 128);
    assert_int_equal(rt_e8m0_encode(NAN, 1, RT_ROUND_UP), 255);
    assert_true(rt_e8m0_decode(130) == 8.0);
    /* float16 from double: 65519 -> 0x7bff (65504), 65520 -> inf; 1 + 2^-11 ties to 1.0;
     * 1 + 3 * 2^-11 ties to 1 + 2^-9 (0x3c02) */
    assert_int_equal(rt_fp_encode(65519.0, &rt_fmt_f16, 0), 0x7bff);
    assert_int_equal(rt_fp_encode(65520.0, &rt_fmt_f16, 0), 0x7c00);
    assert_int_equal(rt_fp_encode(1.0 + ldexp(1, -11), &rt_fmt_f16, 0), 0x3c00);
    assert_int_equal(rt_fp_encode(1.0 + ldexp(3, -11), &rt_fmt_f16, 0), 0x3c02);
    /* bfloat16 1.0 = 0x3f80 */
    assert_int_equal(rt_fp_encode(1.0, &rt_fmt_bf16, 0), 0x3f80);
    /* sub-byte integers: round half even, keep the low bits */
    assert_int_equal((int8_t)rt_wrap_small((uint64_t)(int64_t)-9, 4, 1), 7);
    assert_int_equal((int8_t)rt_wrap_small(8, 4, 1), -8);
    assert_int_equal(rt_wrap_small((uint64_t)(int64_t)-1, 2, 0), 3);
    assert_true(rt_round_half_even(2.5) == 2.0 && rt_round_half_even(-3.5) == -4.0);
    assert_true(rt_round_half_even(0.49999999999999994) == 0.0);
}

/* ------------------------------------------------------------------ kernels */

static void test_cast_kernel(void **state) {
    (void)state;
    RtLogicParams p = defaults();
    int64_t d5[] = {5};
    /* float -> int32 truncates toward zero, NaN gives 0 */
    float xf[5] = {1.9f, -1.9f, 300.5f, NAN, -0.0f};
    int32_t yi[5];
    RtTensor in = tn(xf, IR_DT_FLOAT, 1, d5), out = tn(yi, IR_DT_INT32, 1, d5);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_int_equal(yi[0], 1);
    assert_int_equal(yi[1], -1);
    assert_int_equal(yi[2], 300);
    assert_int_equal(yi[3], 0);
    assert_int_equal(yi[4], 0);
    /* int16 -> int8 keeps the low byte: 200 -> -56, -129 -> 127 */
    int16_t xs[5] = {200, -129, 5, -5, 256};
    int8_t yb[5];
    in = tn(xs, IR_DT_INT16, 1, d5);
    out = tn(yb, IR_DT_INT8, 1, d5);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    int8_t wb[5] = {-56, 127, 5, -5, 0};
    assert_memory_equal(yb, wb, 5);
    /* float -> bool, NaN is true */
    uint8_t bo[5];
    in = tn(xf, IR_DT_FLOAT, 1, d5);
    out = tn(bo, IR_DT_BOOL, 1, d5);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    uint8_t wbo[5] = {1, 1, 1, 1, 0};
    assert_bytes(bo, wbo, 5);
    /* float -> int4: 7.5 -> 8 -> -8 (wrap), 2.5 -> 2, -9 -> 7, -0.5 -> 0, 15 -> -1 */
    float x4[5] = {7.5f, 2.5f, -9.0f, -0.5f, 15.0f};
    int8_t y4[5];
    in = tn(x4, IR_DT_FLOAT, 1, d5);
    out = tn(y4, IR_DT_INT4, 1, d5);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    int8_t w4[5] = {-8, 2, 7, 0, -1};
    assert_memory_equal(y4, w4, 5);
    /* float -> float8e4m3fn without saturation: 1000 -> NaN 0x7f */
    float x8[5] = {1.0f, 1000.0f, -2.0f, 0.0f, 0.5f};
    uint8_t y8[5];
    p.saturate = 0;
    in = tn(x8, IR_DT_FLOAT, 1, d5);
    out = tn(y8, IR_DT_FLOAT8E4M3FN, 1, d5);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    /* -2 = -(1.0 * 2^1): 0x80 | (8 << 3) = 0xc0; 0.5: exponent 6 -> 0x30 */
    uint8_t w8[5] = {0x38, 0x7f, 0xc0, 0x00, 0x30};
    assert_bytes(y8, w8, 5);
    p.saturate = 1;
    /* uint64 max -> float: 2^64 */
    uint64_t xu[1] = {UINT64_MAX};
    float yu[1];
    int64_t d1[] = {1};
    in = tn(xu, IR_DT_UINT64, 1, d1);
    out = tn(yu, IR_DT_FLOAT, 1, d1);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_true(yu[0] == 18446744073709551616.0f);
    /* plain C pairs: float -> uint8 keeps the low byte of the truncated value (300.7 -> 300 ->
     * 44, -1 -> 255); int64 -> int32 keeps the low 32 bits; bool -> double */
    float xq[3] = {300.7f, -1.0f, 255.9f};
    uint8_t yq[3];
    int64_t d3[] = {3};
    in = tn(xq, IR_DT_FLOAT, 1, d3);
    out = tn(yq, IR_DT_UINT8, 1, d3);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_bytes(yq, (uint8_t[]){44, 255, 255}, 3);
    int64_t xl[3] = {((int64_t)1 << 32) + 5, -1, INT64_MIN};
    int32_t yl32[3];
    in = tn(xl, IR_DT_INT64, 1, d3);
    out = tn(yl32, IR_DT_INT32, 1, d3);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_int_equal(yl32[0], 5);
    assert_int_equal(yl32[1], -1);
    assert_int_equal(yl32[2], 0);
    uint8_t xbo[3] = {1, 0, 1};
    double ybd[3];
    in = tn(xbo, IR_DT_BOOL, 1, d3);
    out = tn(ybd, IR_DT_DOUBLE, 1, d3);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_true(ybd[0] == 1.0 && ybd[1] == 0.0 && ybd[2] == 1.0);
    /* double -> float16 rounds once from the double: 1 + 2^-11 + 2^-40 is just above the tie
     * and goes up to 1 + 2^-10 (0x3c01); through float it would tie down to 1.0 */
    double xh[1] = {1.0 + ldexp(1, -11) + ldexp(1, -40)};
    uint16_t yh[1];
    in = tn(xh, IR_DT_DOUBLE, 1, d1);
    out = tn(yh, IR_DT_FLOAT16, 1, d1);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_int_equal(yh[0], 0x3c01);
    /* string -> double and -> int64 */
    IrString xs2[5] = {{"3.25", 4}, {"-INF", 4}, {"nan", 3}, {"1e3", 3}, {" 7", 2}};
    double yd[5];
    in = tn(xs2, IR_DT_STRING, 1, d5);
    out = tn(yd, IR_DT_DOUBLE, 1, d5);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_true(yd[0] == 3.25 && isinf(yd[1]) && yd[1] < 0 && isnan(yd[2]) && yd[3] == 1000.0 &&
                yd[4] == 7.0);
    IrString xs3[1] = {{"9007199254740993", 16}}; /* 2^53 + 1: exact only without double */
    int64_t yl[1];
    in = tn(xs3, IR_DT_STRING, 1, d1);
    out = tn(yl, IR_DT_INT64, 1, d1);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), 0);
    assert_true(yl[0] == 9007199254740993LL);
    IrString bad[1] = {{"hello", 5}};
    in = tn(bad, IR_DT_STRING, 1, d1);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), ONNXC_ERR_RUNTIME);
    /* element count mismatch is an error, not a crash */
    int64_t d2[] = {2};
    out = tn(yl, IR_DT_INT64, 1, d2);
    in = tn(xu, IR_DT_UINT64, 1, d1);
    assert_int_equal(run_lk("rt_k_cast", &p, &in, 1, &out), ONNXC_ERR_SHAPE);
}

static void test_compare_broadcast(void **state) {
    (void)state;
    RtLogicParams p = defaults();
    /* a: [2,3], b: [3] -> [2,3] */
    int32_t a[6] = {1, 2, 3, 4, 5, 6};
    int32_t b[3] = {2, 2, 6};
    int64_t da[] = {2, 3}, db[] = {3};
    uint8_t y[6];
    RtTensor in[2] = {tn(a, IR_DT_INT32, 2, da), tn(b, IR_DT_INT32, 1, db)};
    RtTensor out = tn(y, IR_DT_BOOL, 2, da);
    assert_int_equal(run_lk("rt_k_less", &p, in, 2, &out), 0);
    uint8_t wl[6] = {1, 0, 1, 0, 0, 0};
    assert_bytes(y, wl, 6);
    assert_int_equal(run_lk("rt_k_greater_equal", &p, in, 2, &out), 0);
    uint8_t wge[6] = {0, 1, 0, 1, 1, 1};
    assert_bytes(y, wge, 6);
    assert_int_equal(run_lk("rt_k_equal", &p, in, 2, &out), 0);
    uint8_t weq[6] = {0, 1, 0, 0, 0, 1};
    assert_bytes(y, weq, 6);
    /* column broadcast: a [2,1] vs b [1,3] -> [2,3]; floats with NaN (never equal/less) */
    float fa[2] = {1.0f, NAN}, fb[3] = {0.0f, 1.0f, 2.0f};
    int64_t dfa[] = {2, 1}, dfb[] = {1, 3};
    in[0] = tn(fa, IR_DT_FLOAT, 2, dfa);
    in[1] = tn(fb, IR_DT_FLOAT, 2, dfb);
    assert_int_equal(run_lk("rt_k_less_equal", &p, in, 2, &out), 0);
    uint8_t wle[6] = {0, 1, 1, 0, 0, 0};
    assert_bytes(y, wle, 6);
    /* uint64 compares as unsigned */
    uint64_t ua[1] = {UINT64_MAX}, ub[1] = {1};
    int64_t d1[] = {1};
    in[0] = tn(ua, IR_DT_UINT64, 1, d1);
    in[1] = tn(ub, IR_DT_UINT64, 1, d1);
    out = tn(y, IR_DT_BOOL, 1, d1);
    assert_int_equal(run_lk("rt_k_greater", &p, in, 2, &out), 0);
    assert_int_equal(y[0], 1);
    /* strings */
    IrString sa[2] = {{"ab", 2}, {"abc", 3}}, sb[1] = {{"abc", 3}};
    int64_t d2[] = {2};
    in[0] = tn(sa, IR_DT_STRING, 1, d2);
    in[1] = tn(sb, IR_DT_STRING, 1, d1);
    out = tn(y, IR_DT_BOOL, 1, d2);
    assert_int_equal(run_lk("rt_k_equal", &p, in, 2, &out), 0);
    assert_int_equal(y[0], 0);
    assert_int_equal(y[1], 1);
    assert_int_equal(run_lk("rt_k_less", &p, in, 2, &out), ONNXC_ERR_TYPE);
    /* shapes that do not broadcast are an error */
    int64_t d4[] = {4};
    in[0] = tn(a, IR_DT_INT32, 1, d4);
    in[1] = tn(b, IR_DT_INT32, 1, db);
    out = tn(y, IR_DT_BOOL, 1, d4);
    assert_int_equal(run_lk("rt_k_equal", &p, in, 2, &out), ONNXC_ERR_SHAPE);
}

static void test_logical_where(void **state) {
    (void)state;
    RtLogicParams p = defaults();
    uint8_t a[4] = {0, 0, 1, 1}, b[4] = {0, 1, 0, 1}, y[4];
    int64_t d4[] = {4};
    RtTensor in[3] = {tn(a, IR_DT_BOOL, 1, d4), tn(b, IR_DT_BOOL, 1, d4)};
    RtTensor out = tn(y, IR_DT_BOOL, 1, d4);
    assert_int_equal(run_lk("rt_k_and", &p, in, 2, &out), 0);
    assert_bytes(y, (uint8_t[]){0, 0, 0, 1}, 4);
    assert_int_equal(run_lk("rt_k_or", &p, in, 2, &out), 0);
    assert_bytes(y, (uint8_t[]){0, 1, 1, 1}, 4);
    assert_int_equal(run_lk("rt_k_xor", &p, in, 2, &out), 0);
    assert_bytes(y, (uint8_t[]){0, 1, 1, 0}, 4);
    assert_int_equal(run_lk("rt_k_not", &p, in, 1, &out), 0);
    assert_bytes(y, (uint8_t[]){1, 1, 0, 0}, 4);
    /* Where: cond [2,1], x [3], y scalar -> [2,3] */
    uint8_t c[2] = {1, 0};
    int64_t x[3] = {10, 20, 30}, z[1] = {-1}, w[6];
    int64_t dc[] = {2, 1}, dx[] = {3}, dw[] = {2, 3};
    in[0] = tn(c, IR_DT_BOOL, 2, dc);
    in[1] = tn(x, IR_DT_INT64, 1, dx);
    in[2] = tn(z, IR_DT_INT64, 0, NULL);
    out = tn(w, IR_DT_INT64, 2, dw);
    assert_int_equal(run_lk("rt_k_where", &p, in, 3, &out), 0);
    int64_t ww[6] = {10, 20, 30, -1, -1, -1};
    assert_memory_equal(w, ww, sizeof ww);
    /* Where on strings (16-byte records) */
    IrString sx[1] = {{"yes", 3}}, sz[1] = {{"no", 2}}, sw[2];
    int64_t d1[] = {1}, d2[] = {2};
    in[0] = tn(c, IR_DT_BOOL, 1, d2);
    in[1] = tn(sx, IR_DT_STRING, 1, d1);
    in[2] = tn(sz, IR_DT_STRING, 1, d1);
    out = tn(sw, IR_DT_STRING, 1, d2);
    assert_int_equal(run_lk("rt_k_where", &p, in, 3, &out), 0);
    assert_int_equal(sw[0].len, 3);
    assert_int_equal(sw[1].len, 2);
}

static void test_float_unary(void **state) {
    (void)state;
    RtLogicParams p = defaults();
    float x[8] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.7f, -INFINITY, NAN};
    float y[8];
    uint8_t b[8];
    int64_t d8[] = {8};
    RtTensor in = tn(x, IR_DT_FLOAT, 1, d8), out = tn(y, IR_DT_FLOAT, 1, d8);
    assert_int_equal(run_lk("rt_k_round", &p, &in, 1, &out), 0);
    float wr[7] = {0.0f, 2.0f, 2.0f, -0.0f, -2.0f, 3.0f, -INFINITY};
    for (int i = 0; i < 7; i++)
        assert_true(y[i] == wr[i]);
    assert_true(isnan(y[7]));
    assert_true(signbit(y[3])); /* -0.5 rounds to -0 */
    assert_int_equal(run_lk("rt_k_floor", &p, &in, 1, &out), 0);
    float wf[7] = {0, 1, 2, -1, -3, 2, -INFINITY};
    for (int i = 0; i < 7; i++)
        assert_true(y[i] == wf[i]);
    assert_int_equal(run_lk("rt_k_ceil", &p, &in, 1, &out), 0);
    float wc[7] = {1, 2, 3, -0.0f, -2, 3, -INFINITY};
    for (int i = 0; i < 7; i++)
        assert_true(y[i] == wc[i]);
    assert_int_equal(run_lk("rt_k_reciprocal", &p, &in, 1, &out), 0);
    assert_true(y[0] == 2.0f && y[3] == -2.0f && y[6] == -0.0f);
    assert_int_equal(run_lk("rt_k_sign", &p, &in, 1, &out), 0);
    float ws[7] = {1, 1, 1, -1, -1, 1, -1};
    for (int i = 0; i < 7; i++)
        assert_true(y[i] == ws[i]);
    assert_true(isnan(y[7]));
    out = tn(b, IR_DT_BOOL, 1, d8);
    assert_int_equal(run_lk("rt_k_isnan", &p, &in, 1, &out), 0);
    assert_bytes(b, (uint8_t[]){0, 0, 0, 0, 0, 0, 0, 1}, 8);
    assert_int_equal(run_lk("rt_k_isinf", &p, &in, 1, &out), 0);
    assert_bytes(b, (uint8_t[]){0, 0, 0, 0, 0, 0, 1, 0}, 8);
    p.detect_negative = 0;
    assert_int_equal(run_lk("rt_k_isinf", &p, &in, 1, &out), 0);
    assert_bytes(b, (uint8_t[]){0, 0, 0, 0, 0, 0, 0, 0}, 8);
    /* float16 Round: 2.5 -> 2 (0x4000), 3.5 -> 4 (0x4400) */
    uint16_t h[2] = {0x4100, 0x4300}, hy[2];
    int64_t d2[] = {2};
    in = tn(h, IR_DT_FLOAT16, 1, d2);
    out = tn(hy, IR_DT_FLOAT16, 1, d2);
    assert_int_equal(run_lk("rt_k_round", &p, &in, 1, &out), 0);
    assert_int_equal(hy[0], 0x4000);
    assert_int_equal(hy[1], 0x4400);
    /* integer Sign, and Floor refuses integers */
    int8_t si[3] = {-7, 0, 9}, so[3];
    int64_t d3[] = {3};
    in = tn(si, IR_DT_INT8, 1, d3);
    out = tn(so, IR_DT_INT8, 1, d3);
    assert_int_equal(run_lk("rt_k_sign", &p, &in, 1, &out), 0);
    assert_int_equal(so[0], -1);
    assert_int_equal(so[1], 0);
    assert_int_equal(so[2], 1);
    assert_int_equal(run_lk("rt_k_floor", &p, &in, 1, &out), ONNXC_ERR_TYPE);
}

static void test_mod_bits(void **state) {
    (void)state;
    RtLogicParams p = defaults();
    /* sign of the divisor: -4 mod 3 = 2, 7 mod -3 = -2, -7 mod -3 = -1, x mod 0 = 0,
     * INT32_MIN mod -1 = 0 */
    int32_t a[5] = {-4, 7, -7, 5, INT32_MIN}, b[5] = {3, -3, -3, 0, -1}, y[5];
    int64_t d5[] = {5};
    RtTensor in[2] = {tn(a, IR_DT_INT32, 1, d5), tn(b, IR_DT_INT32, 1, d5)};
    RtTensor out = tn(y, IR_DT_INT32, 1, d5);
    assert_int_equal(run_lk("rt_k_mod", &p, in, 2, &out), 0);
    int32_t wm[5] = {2, -2, -1, 0, 0};
    assert_memory_equal(y, wm, sizeof wm);
    /* fmod = 1: sign of the dividend: -4 % 3 = -1, 7 % -3 = 1 */
    p.fmod = 1;
    assert_int_equal(run_lk("rt_k_mod", &p, in, 2, &out), 0);
    int32_t wf[5] = {-1, 1, -1, 0, 0};
    assert_memory_equal(y, wf, sizeof wf);
    /* floats: fmod(-4.5, 2) = -0.5; fmod = 0: -4.5 mod 2 = 1.5 */
    double fa[2] = {-4.5, 5.25}, fb[2] = {2.0, -2.0}, fy[2];
    int64_t d2[] = {2};
    in[0] = tn(fa, IR_DT_DOUBLE, 1, d2);
    in[1] = tn(fb, IR_DT_DOUBLE, 1, d2);
    out = tn(fy, IR_DT_DOUBLE, 1, d2);
    assert_int_equal(run_lk("rt_k_mod", &p, in, 2, &out), 0);
    assert_true(fy[0] == -0.5 && fy[1] == 1.25);
    p.fmod = 0;
    assert_int_equal(run_lk("rt_k_mod", &p, in, 2, &out), 0);
    assert_true(fy[0] == 1.5 && fy[1] == -0.75);
    /* BitShift: 1 << 7 = 128, 255 >> 9 = 0 (shift beyond width), 1 << 8 = 0 */
    uint8_t ba[3] = {1, 255, 1}, bb[3] = {7, 9, 8}, by[3];
    int64_t d3[] = {3};
    in[0] = tn(ba, IR_DT_UINT8, 1, d3);
    in[1] = tn(bb, IR_DT_UINT8, 1, d3);
    out = tn(by, IR_DT_UINT8, 1, d3);
    assert_int_equal(run_lk("rt_k_bitshift", &p, in, 2, &out), 0);
    assert_bytes(by, (uint8_t[]){128, 0, 0}, 3);
    p.shift_right = 1;
    uint8_t bb2[3] = {0, 4, 1};
    in[1] = tn(bb2, IR_DT_UINT8, 1, d3);
    assert_int_equal(run_lk("rt_k_bitshift", &p, in, 2, &out), 0);
    assert_bytes(by, (uint8_t[]){1, 15, 0}, 3);
    /* bitwise on int16 with broadcast of a scalar */
    int16_t ia[3] = {0x0f0f, -1, 0x1234}, ib[1] = {0x00ff}, iy[3];
    in[0] = tn(ia, IR_DT_INT16, 1, d3);
    in[1] = tn(ib, IR_DT_INT16, 0, NULL);
    out = tn(iy, IR_DT_INT16, 1, d3);
    assert_int_equal(run_lk("rt_k_bitwise_and", &p, in, 2, &out), 0);
    assert_true(iy[0] == 0x000f && iy[1] == 0x00ff && iy[2] == 0x0034);
    assert_int_equal(run_lk("rt_k_bitwise_xor", &p, in, 2, &out), 0);
    assert_true(iy[0] == 0x0ff0 && iy[1] == (int16_t)0xff00 && iy[2] == 0x12cb);
    assert_int_equal(run_lk("rt_k_bitwise_not", &p, in, 1, &out), 0);
    assert_true(iy[0] == (int16_t)0xf0f0 && iy[1] == 0 && iy[2] == (int16_t)0xedcb);
}

/* ------------------------------------------------------------------ infer and lower */

typedef struct Fx {
    IrModel *m; /* model owning g */
    IrGraph *g; /* graph the nodes are added to */
    IrDiag d;   /* diagnostics */
} Fx;

static void fx_init(Fx *f) {
    f->m = ir_model_create();
    assert_non_null(f->m);
    f->g = ir_graph_create(f->m, NULL, "g");
    assert_non_null(f->g);
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
}

static void fx_free(Fx *f) {
    ir_diag_free(&f->d);
    ir_model_destroy(f->m);
}

static IrValue *mkval(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

static IrNode *mknode(Fx *f, const char *op, int opset, int nin, IrValue **in) {
    static int k = 0;
    char name[32];
    snprintf(name, sizeof name, "y%d", k++);
    IrValue *y = ir_value_new(f->g, name);
    IrNode *n = ir_node_new(f->g, NULL, name, "", op, opset, nin, in, 1, &y);
    assert_non_null(n);
    return n;
}

static void test_infer_lower(void **state) {
    (void)state;
    Fx f;
    fx_init(&f);
    int64_t d23[] = {2, 3}, d3[] = {3}, d21[] = {2, 1};
    IrValue *a = mkval(&f, "a", IR_DT_FLOAT, 2, d23), *b = mkval(&f, "b", IR_DT_FLOAT, 1, d3);
    /* Less: broadcast [2,3] x [3] -> bool [2,3] */
    IrNode *n = mknode(&f, "Less", 13, 2, (IrValue *[]){a, b});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_BOOL);
    assert_int_equal(n->out[0]->type.rank, 2);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_less");
    /* Cast to FLOAT8E5M2 with saturate 0 */
    n = mknode(&f, "Cast", 19, 1, (IrValue *[]){a});
    IrAttr *at = ir_node_add_attr(n, "to", IR_ATTR_INT);
    at->i = IR_DT_FLOAT8E5M2;
    at = ir_node_add_attr(n, "saturate", IR_ATTR_INT);
    at->i = 0;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT8E5M2);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_cast");
    const RtLogicParams *p = n->params;
    assert_int_equal(p->to, IR_DT_FLOAT8E5M2);
    assert_int_equal(p->saturate, 0);
    /* Cast without `to` is an error, not a crash */
    n = mknode(&f, "Cast", 13, 1, (IrValue *[]){a});
    assert_int_equal(op_infer_node(n, &f.d), -1);
    assert_non_null(strstr(ir_diag_last(&f.d), "'to'"));
    /* Cast-1 names the type; out-of-range numbers are an error */
    n = mknode(&f, "Cast", 1, 1, (IrValue *[]){a});
    at = ir_node_add_attr(n, "to", IR_ATTR_STRING);
    at->s.data = "INT64";
    at->s.len = 5;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_INT64);
    n = mknode(&f, "Cast", 13, 1, (IrValue *[]){a});
    at = ir_node_add_attr(n, "to", IR_ATTR_INT);
    at->i = (int64_t)1 << 33;
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* Cast to STRING: inferred, refused when lowering */
    n = mknode(&f, "Cast", 13, 1, (IrValue *[]){a});
    at = ir_node_add_attr(n, "to", IR_ATTR_INT);
    at->i = IR_DT_STRING;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), -1);
    assert_non_null(strstr(ir_diag_last(&f.d), "STRING"));
    /* CastLike takes input 1's type */
    IrValue *i64 = mkval(&f, "i", IR_DT_INT64, 1, d3);
    n = mknode(&f, "CastLike", 15, 2, (IrValue *[]){a, i64});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_INT64);
    /* And on floats: a type error */
    n = mknode(&f, "And", 7, 2, (IrValue *[]){a, b});
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* Equal with mixed types: an error */
    n = mknode(&f, "Equal", 13, 2, (IrValue *[]){a, i64});
    assert_int_equal(op_infer_node(n, &f.d), -1);
    /* Where: bool [2,1], float [2,3], float [3] -> float [2,3] */
    IrValue *c = mkval(&f, "c", IR_DT_BOOL, 2, d21);
    n = mknode(&f, "Where", 16, 3, (IrValue *[]){c, a, b});
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT);
    assert_int_equal(n->out[0]->type.rank, 2);
    assert_int_equal(n->out[0]->type.dims[0].value, 2);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    /* BitShift needs a direction; Mod lowers fmod */
    IrValue *u = mkval(&f, "u", IR_DT_UINT32, 1, d3);
    n = mknode(&f, "BitShift", 11, 2, (IrValue *[]){u, u});
    assert_int_equal(op_infer_node(n, &f.d), -1);
    at = ir_node_add_attr(n, "direction", IR_ATTR_STRING);
    at->s.data = "RIGHT";
    at->s.len = 5;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtLogicParams *)n->params)->shift_right, 1);
    /* legacy broadcast (opset 1): B [3] at axis 1 of A [2,3,... ] needs broadcast=1 */
    int64_t d234[] = {2, 3, 4};
    IrValue *l = mkval(&f, "l", IR_DT_BOOL, 3, d234), *r = mkval(&f, "r", IR_DT_BOOL, 1, d3);
    n = mknode(&f, "Or", 1, 2, (IrValue *[]){l, r});
    assert_int_equal(op_infer_node(n, &f.d), -1);
    at = ir_node_add_attr(n, "broadcast", IR_ATTR_INT);
    at->i = 1;
    at = ir_node_add_attr(n, "axis", IR_ATTR_INT);
    at->i = 1;
    assert_int_equal(op_infer_node(n, &f.d), 0);
    assert_int_equal(n->out[0]->type.rank, 3);
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_int_equal(((const RtLogicParams *)n->params)->b_axis, 1);
    fx_free(&f);
}

static void test_legacy_broadcast_kernel(void **state) {
    (void)state;
    /* Or with B [3] aligned at dim 1 of A [2,3,2]: y[i,j,k] = a[i,j,k] | b[j] */
    RtLogicParams p = defaults();
    p.b_axis = 1;
    uint8_t a[12] = {0}, b[3] = {0, 1, 0}, y[12];
    a[0] = 1;
    int64_t da[] = {2, 3, 2}, db[] = {3};
    RtTensor in[2] = {tn(a, IR_DT_BOOL, 3, da), tn(b, IR_DT_BOOL, 1, db)};
    RtTensor out = tn(y, IR_DT_BOOL, 3, da);
    assert_int_equal(run_lk("rt_k_or", &p, in, 2, &out), 0);
    uint8_t w[12] = {1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0};
    assert_bytes(y, w, 12);
}

/* ------------------------------------------------------------------ ONNX backend node tests */

static const char *const family_prefixes[] = {
    "test_cast_", "test_castlike_", "test_equal", "test_less", "test_greater", "test_and",
    "test_or", "test_xor", "test_not", "test_where", "test_isnan", "test_isinf", "test_sign",
    "test_floor", "test_ceil", "test_round", "test_reciprocal", "test_mod_", "test_bitshift",
    "test_bitwise", NULL};

static int family_selected(const char *name) {
    if (strstr(name, "_expanded"))
        return 0; /* the function bodies use ops of other families */
    for (int i = 0; family_prefixes[i]; i++)
        if (strncmp(name, family_prefixes[i], strlen(family_prefixes[i])) == 0)
            return 1;
    return 0;
}

/* Element i of a float-like tensor as double, for comparison. */
static double elem_double(const IrTensor *t, int64_t i) {
    switch (t->dtype) {
    case IR_DT_FLOAT: return ((const float *)t->data)[i];
    case IR_DT_DOUBLE: return ((const double *)t->data)[i];
    case IR_DT_FLOAT8E8M0: return rt_e8m0_decode(((const uint8_t *)t->data)[i]);
    case IR_DT_FLOAT16: case IR_DT_BFLOAT16:
        return rt_fp_decode(((const uint16_t *)t->data)[i], rt_fp_format(t->dtype));
    default: return rt_fp_decode(((const uint8_t *)t->data)[i], rt_fp_format(t->dtype));
    }
}

/* 1 if got matches want: exact bytes for integer, bool types; byte-wise for strings; floats
 * within |g-w| <= 1e-7 + 1e-3 |w| with NaN == NaN. */
static int tensors_match(const IrTensor *got, const IrTensor *want, char *why, size_t cap) {
    if (got->dtype != want->dtype || got->numel != want->numel || got->rank != want->rank) {
        snprintf(why, cap, "type/shape differ (%s[%lld] vs %s[%lld])", ir_dtype_name(got->dtype),
                 (long long)got->numel, ir_dtype_name(want->dtype), (long long)want->numel);
        return 0;
    }
    for (int i = 0; i < got->rank; i++)
        if (got->dims[i] != want->dims[i]) {
            snprintf(why, cap, "dim %d differs", i);
            return 0;
        }
    int dt = got->dtype;
    if (dt == IR_DT_STRING) {
        const IrString *g = got->data, *w = want->data;
        for (int64_t i = 0; i < got->numel; i++)
            if (g[i].len != w[i].len || (g[i].len && memcmp(g[i].data, w[i].data, g[i].len))) {
                snprintf(why, cap, "string %lld differs", (long long)i);
                return 0;
            }
        return 1;
    }
    int is_float = dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT8E8M0 ||
                   rt_fp_format(dt) != NULL;
    if (!is_float) {
        if (memcmp(got->data, want->data, got->nbytes) == 0)
            return 1;
        size_t es = ir_dtype_size(dt);
        for (int64_t i = 0; i < got->numel; i++)
            if (memcmp((const char *)got->data + i * es, (const char *)want->data + i * es, es)) {
                snprintf(why, cap, "element %lld differs", (long long)i);
                return 0;
            }
        return 0;
    }
    for (int64_t i = 0; i < got->numel; i++) {
        double g = elem_double(got, i), w = elem_double(want, i);
        if (isnan(g) && isnan(w))
            continue;
        if (isinf(w) && g == w)
            continue;
        if (!(fabs(g - w) <= 1e-7 + 1e-3 * fabs(w))) {
            snprintf(why, cap, "element %lld: got %.9g, want %.9g", (long long)i, g, w);
            return 0;
        }
    }
    return 1;
}

/* Tests of the family known not to pass, with the reason (none expected at the moment). */
static const char *const known_failures[] = {NULL};

static int known_failure(const char *name) {
    for (int i = 0; known_failures[i]; i++)
        if (strcmp(known_failures[i], name) == 0)
            return 1;
    return 0;
}

/* The comparison used by the backend tests must notice differences. */
static void test_tensors_match(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    int64_t d2[] = {2};
    IrTensor *x = ir_tensor_new(a, IR_DT_FLOAT, 1, d2), *y = ir_tensor_new(a, IR_DT_FLOAT, 1, d2);
    char why[128];
    ((float *)x->data)[0] = 1.0f;
    ((float *)y->data)[0] = 1.0005f; /* within rtol 1e-3 */
    ((float *)x->data)[1] = NAN;
    ((float *)y->data)[1] = NAN;
    assert_int_equal(tensors_match(x, y, why, sizeof why), 1);
    ((float *)y->data)[0] = 1.002f;
    assert_int_equal(tensors_match(x, y, why, sizeof why), 0);
    IrTensor *i = ir_tensor_new(a, IR_DT_INT4, 1, d2), *j = ir_tensor_new(a, IR_DT_INT4, 1, d2);
    ((int8_t *)i->data)[1] = -8;
    ((int8_t *)j->data)[1] = 7;
    assert_int_equal(tensors_match(i, j, why, sizeof why), 0);
    IrTensor *f8 = ir_tensor_new(a, IR_DT_FLOAT8E4M3FN, 1, d2);
    IrTensor *g8 = ir_tensor_new(a, IR_DT_FLOAT8E4M3FN, 1, d2);
    ((uint8_t *)f8->data)[0] = 0x38;
    ((uint8_t *)g8->data)[0] = 0x39;
    assert_int_equal(tensors_match(f8, g8, why, sizeof why), 0);
    ir_arena_destroy(a);
}

static void test_backend_node_tests(void **state) {
    (void)state;
    int count, pass;
    int unexpected =
        tu_run_node_tests("logic", family_selected, known_failure, tensors_match, &count, &pass);
    assert_true(count > 0);
    assert_int_equal(unexpected, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert_float8),
        cmocka_unit_test(test_convert_float4_e8m0_f16),
        cmocka_unit_test(test_cast_kernel),
        cmocka_unit_test(test_compare_broadcast),
        cmocka_unit_test(test_logical_where),
        cmocka_unit_test(test_float_unary),
        cmocka_unit_test(test_mod_bits),
        cmocka_unit_test(test_infer_lower),
        cmocka_unit_test(test_legacy_broadcast_kernel),
        cmocka_unit_test(test_tensors_match),
        cmocka_unit_test(test_backend_node_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
