/* test_harness.c - tests of tools/harness.c (compare, open/run/close) and of the onnxc driver on
 * the example model examples/mlp.onnx, whose expected output was computed with numpy by
 * examples/make_mlp.py (independently of onnxc). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "tools/harness.h"

#define MLP_MODEL ONNXC_SOURCE_DIR "/examples/mlp.onnx"
#define MLP_DATA ONNXC_SOURCE_DIR "/examples/mlp_data"
#define DRIVER ONNXC_BINARY_DIR "/onnxc"

/* A 1-D tensor of n elements with the given bytes. */
static IrTensor *vec(IrArena *a, IrDType dt, int64_t n, const void *data) {
    IrTensor *t = ir_tensor_new(a, dt, 1, &n);
    assert_non_null(t);
    memcpy(t->data, data, (size_t)n * ir_dtype_size(dt));
    return t;
}

/* ------------------------------------------------------------------ harness_compare */

static void test_compare_float(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    float x[3] = {1.0f, 2.0f, -4.0f}, y[3] = {1.0005f, 2.0f, -4.0f};
    double mabs, mrel;
    /* |1 - 1.0005| = 5e-4 <= 1e-3 * 1.0005 */
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT, 3, x), vec(a, IR_DT_FLOAT, 3, y), 1e-3,
                                     0, &mabs, &mrel), 1);
    assert_true(fabs(mabs - 5e-4) < 1e-7);
    assert_true(fabs(mrel - 5e-4 / 1.0005) < 1e-7);
    /* ...but not within rtol 1e-4 */
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT, 3, x), vec(a, IR_DT_FLOAT, 3, y), 1e-4,
                                     0, &mabs, &mrel), 0);
    /* atol alone can accept it */
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT, 3, x), vec(a, IR_DT_FLOAT, 3, y), 0,
                                     1e-3, NULL, NULL), 1);
    ir_arena_destroy(a);
}

static void test_compare_nan_inf(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    double n1[2] = {NAN, INFINITY}, n2[2] = {NAN, INFINITY}, n3[2] = {1.0, INFINITY},
           n4[2] = {NAN, -INFINITY};
    double mabs, mrel;
    assert_int_equal(harness_compare(vec(a, IR_DT_DOUBLE, 2, n1), vec(a, IR_DT_DOUBLE, 2, n2),
                                     1e-3, 1e-7, &mabs, &mrel), 1);
    assert_true(mabs == 0);
    assert_int_equal(harness_compare(vec(a, IR_DT_DOUBLE, 2, n3), vec(a, IR_DT_DOUBLE, 2, n2),
                                     1e-3, 1e-7, &mabs, &mrel), 0);
    assert_int_equal(harness_compare(vec(a, IR_DT_DOUBLE, 2, n4), vec(a, IR_DT_DOUBLE, 2, n2),
                                     1e-3, 1e-7, &mabs, &mrel), 0);
    ir_arena_destroy(a);
}

static void test_compare_half_types(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    /* float16: 0x3C00 = 1.0, 0x3C01 = 1 + 2^-10; 0xC000 = -2.0 */
    uint16_t h1[2] = {0x3C00, 0xC000}, h2[2] = {0x3C01, 0xC000};
    double mabs, mrel;
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT16, 2, h1), vec(a, IR_DT_FLOAT16, 2, h2),
                                     1e-3, 0, &mabs, &mrel), 1);
    assert_true(mabs == 1.0 / 1024);
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT16, 2, h1), vec(a, IR_DT_FLOAT16, 2, h2),
                                     1e-4, 0, &mabs, &mrel), 0);
    /* bfloat16: 0x3F80 = 1.0, 0x3F81 = 1 + 2^-7, 0x4040 = 3.0 */
    uint16_t b1[2] = {0x3F80, 0x4040}, b2[2] = {0x3F81, 0x4040};
    assert_int_equal(harness_compare(vec(a, IR_DT_BFLOAT16, 2, b1), vec(a, IR_DT_BFLOAT16, 2, b2),
                                     1e-3, 0, &mabs, &mrel), 0);
    assert_true(mabs == 1.0 / 128);
    assert_int_equal(harness_compare(vec(a, IR_DT_BFLOAT16, 2, b1), vec(a, IR_DT_BFLOAT16, 2, b2),
                                     1e-2, 0, &mabs, &mrel), 1);
    /* float8 E4M3FN: 0x38 = 1.0, 0x39 = 1.125; E5M2: 0x3C = 1.0, 0x3D = 1.25 */
    uint8_t e1[1] = {0x38}, e2[1] = {0x39}, f1[1] = {0x3C}, f2[1] = {0x3D};
    harness_compare(vec(a, IR_DT_FLOAT8E4M3FN, 1, e1), vec(a, IR_DT_FLOAT8E4M3FN, 1, e2), 0, 0,
                    &mabs, &mrel);
    assert_true(mabs == 0.125);
    harness_compare(vec(a, IR_DT_FLOAT8E5M2, 1, f1), vec(a, IR_DT_FLOAT8E5M2, 1, f2), 0, 0,
                    &mabs, &mrel);
    assert_true(mabs == 0.25);
    ir_arena_destroy(a);
}

static void test_compare_exact_types(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    int64_t i1[3] = {5, -7, 1}, i2[3] = {5, -7, 1}, i3[3] = {5, -9, 1};
    double mabs, mrel;
    assert_int_equal(harness_compare(vec(a, IR_DT_INT64, 3, i1), vec(a, IR_DT_INT64, 3, i2), 1, 1,
                                     &mabs, &mrel), 1);
    /* ints are exact whatever the tolerance */
    assert_int_equal(harness_compare(vec(a, IR_DT_INT64, 3, i1), vec(a, IR_DT_INT64, 3, i3), 1, 10,
                                     &mabs, &mrel), 0);
    assert_true(mabs == 2);
    uint8_t b1[2] = {1, 0}, b2[2] = {0, 0};
    assert_int_equal(harness_compare(vec(a, IR_DT_BOOL, 2, b1), vec(a, IR_DT_BOOL, 2, b2), 1, 1,
                                     NULL, NULL), 0);
    IrString s1[2] = {{"ab", 2}, {"c", 1}}, s2[2] = {{"ab", 2}, {"c", 1}}, s3[2] = {{"ab", 2}, {"d", 1}};
    assert_int_equal(harness_compare(vec(a, IR_DT_STRING, 2, s1), vec(a, IR_DT_STRING, 2, s2), 0, 0,
                                     NULL, NULL), 1);
    assert_int_equal(harness_compare(vec(a, IR_DT_STRING, 2, s1), vec(a, IR_DT_STRING, 2, s3), 0, 0,
                                     NULL, NULL), 0);
    ir_arena_destroy(a);
}

static void test_compare_structure(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    float x[4] = {1, 2, 3, 4};
    int64_t d22[2] = {2, 2};
    IrTensor *m = ir_tensor_new(a, IR_DT_FLOAT, 2, d22);
    memcpy(m->data, x, sizeof x);
    double mabs = 0;
    /* same data, shape [4] vs [2,2] */
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT, 4, x), m, 1, 1, &mabs, NULL), 0);
    assert_true(isinf(mabs));
    /* same bytes, different element type */
    assert_int_equal(harness_compare(vec(a, IR_DT_FLOAT, 1, x), vec(a, IR_DT_INT32, 1, x), 1, 1,
                                     NULL, NULL), 0);
    ir_arena_destroy(a);
}

/* ------------------------------------------------------------------ open / run */

static void test_open_errors(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, "x");
    assert_null(harness_open("/nonexistent/libnothing.so", NULL, &d));
    assert_true(d.nerrors > 0);
    assert_non_null(strstr(ir_diag_last(&d), "cannot load"));
    ir_diag_free(&d);
    ir_diag_init(&d, "x");
    assert_null(harness_open("/nonexistent/model.onnx", NULL, &d));
    assert_true(d.nerrors > 0);
    ir_diag_free(&d);
}

static void test_mlp_in_process(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, MLP_MODEL);
    HarnessModel *h = harness_open(MLP_MODEL, NULL, &d);
    if (!h) ir_diag_print(&d, stderr);
    assert_non_null(h);
    const OnnxcModelInfo *info = harness_info(h);
    assert_int_equal(info->num_inputs, 1);
    assert_int_equal(info->num_outputs, 1);
    assert_string_equal(info->inputs[0].name, "x");
    assert_int_equal(info->inputs[0].dtype, IR_DT_FLOAT);
    assert_int_equal(info->inputs[0].rank, 2);
    assert_int_equal(info->inputs[0].dims[0], 32);
    assert_int_equal(info->inputs[0].dims[1], 9);
    assert_string_equal(info->outputs[0].name, "y");
    assert_int_equal(info->outputs[0].rank, 2);
    assert_int_equal(info->outputs[0].dims[1], 1);

    IrArena *a = ir_arena_create();
    IrTensor *x = fe_read_tensor_pb(a, MLP_DATA "/input_0.pb", &d);
    IrTensor *want = fe_read_tensor_pb(a, MLP_DATA "/output_0.pb", &d);
    assert_non_null(x);
    assert_non_null(want);
    IrTensor *out[1] = {NULL};
    assert_int_equal(harness_run(h, &x, 1, a, out, &d), 0);
    double mabs, mrel;
    int ok = harness_compare(out[0], want, 0, 1e-5, &mabs, &mrel);
    print_message("mlp: max abs err %.3g vs the numpy reference\n", mabs);
    assert_int_equal(ok, 1);
    /* Second run on the same context gives the same answer. */
    IrTensor *out2[1] = {NULL};
    assert_int_equal(harness_run(h, &x, 1, a, out2, &d), 0);
    assert_memory_equal(out[0]->data, out2[0]->data, out[0]->nbytes);

    /* Mismatching inputs are refused with a clear message, before running. */
    int64_t bad_dims[2] = {32, 8};
    IrTensor *bad_shape = ir_tensor_new(a, IR_DT_FLOAT, 2, bad_dims);
    assert_int_equal(harness_run(h, &bad_shape, 1, a, out, &d), ONNXC_ERR_SHAPE);
    assert_non_null(strstr(ir_diag_last(&d), "[32,8]"));
    int64_t ok_dims[2] = {32, 9};
    IrTensor *bad_type = ir_tensor_new(a, IR_DT_DOUBLE, 2, ok_dims);
    assert_int_equal(harness_run(h, &bad_type, 1, a, out, &d), ONNXC_ERR_TYPE);
    assert_non_null(strstr(ir_diag_last(&d), "element type"));
    assert_int_equal(harness_run(h, NULL, 0, a, out, &d), ONNXC_ERR_INVALID_ARG);
    harness_close(h);
    ir_arena_destroy(a);
    ir_diag_free(&d);
}

/* ------------------------------------------------------------------ the driver */

static int run_cmd(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void test_driver_mlp(void **state) {
    (void)state;
    if (access(DRIVER, X_OK) != 0) {
        print_message("driver %s not built; skipped\n", DRIVER);
        skip();
    }
    char dir[] = "/tmp/onnxc-test-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cmd[2048];
    /* compile to a library + header (one compile: it is the slow step) */
    snprintf(cmd, sizeof cmd, "%s compile %s --name mlp -o %s/libmlp.so", DRIVER, MLP_MODEL, dir);
    assert_int_equal(run_cmd(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/libmlp.h", dir);
    assert_int_equal(access(cmd, R_OK), 0);
    /* run it: compares with the numpy output at 1e-5 and writes the outputs */
    snprintf(cmd, sizeof cmd, "%s run %s/libmlp.so --data %s --rtol 0 --atol 1e-5 --out %s/out "
             "> /dev/null", DRIVER, dir, MLP_DATA, dir);
    assert_int_equal(run_cmd(cmd), 0);
    /* the written output reads back and matches too */
    IrDiag d;
    ir_diag_init(&d, "out");
    IrArena *a = ir_arena_create();
    snprintf(cmd, sizeof cmd, "%s/out/output_0.pb", dir);
    IrTensor *got = fe_read_tensor_pb(a, cmd, &d);
    IrTensor *want = fe_read_tensor_pb(a, MLP_DATA "/output_0.pb", &d);
    assert_non_null(got);
    assert_non_null(want);
    assert_int_equal(harness_compare(got, want, 0, 1e-5, NULL, NULL), 1);
    snprintf(cmd, sizeof cmd, "%s info %s/libmlp.so | grep -q 'x: f32\\[32,9\\]'", DRIVER, dir);
    assert_int_equal(run_cmd(cmd), 0);
    /* a wrong expected output (the input itself, another shape) makes `run` exit 1 */
    snprintf(cmd, sizeof cmd, "mkdir -p %s/bad && cp %s/input_0.pb %s/bad/ && cp %s/input_0.pb "
             "%s/bad/output_0.pb", dir, MLP_DATA, dir, MLP_DATA, dir);
    assert_int_equal(run_cmd(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s run %s/libmlp.so --data %s/bad > /dev/null", DRIVER, dir, dir);
    assert_int_equal(run_cmd(cmd), 1);
    /* --shape: a whole input's shape must agree with its static dims; an unknown name fails */
    snprintf(cmd, sizeof cmd, "%s compile %s --emit=ir -o - --shape x=32,9 > %s/ir.txt", DRIVER,
             MLP_MODEL, dir);
    assert_int_equal(run_cmd(cmd), 0);
    snprintf(cmd, sizeof cmd, "grep -q 'input %%x : f32\\[32,9\\]' %s/ir.txt", dir);
    assert_int_equal(run_cmd(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s compile %s --emit=ir -o - --shape x=16,9 > /dev/null 2>&1",
             DRIVER, MLP_MODEL);
    assert_int_equal(run_cmd(cmd), 1);
    snprintf(cmd, sizeof cmd, "%s compile %s --emit=ir -o - --shape batch=3 > /dev/null 2>&1",
             DRIVER, MLP_MODEL);
    assert_int_equal(run_cmd(cmd), 1);
    snprintf(cmd, sizeof cmd, "%s compile %s --shape x > /dev/null 2>&1", DRIVER, MLP_MODEL);
    assert_int_equal(run_cmd(cmd), 2);
    /* usage errors exit 2, load errors 1 */
    snprintf(cmd, sizeof cmd, "%s frobnicate 2> /dev/null", DRIVER);
    assert_int_equal(run_cmd(cmd), 2);
    snprintf(cmd, sizeof cmd, "%s dump /nonexistent.onnx 2> /dev/null", DRIVER);
    assert_int_equal(run_cmd(cmd), 1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    run_cmd(cmd);
    ir_arena_destroy(a);
    ir_diag_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compare_float),
        cmocka_unit_test(test_compare_nan_inf),
        cmocka_unit_test(test_compare_half_types),
        cmocka_unit_test(test_compare_exact_types),
        cmocka_unit_test(test_compare_structure),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_mlp_in_process),
        cmocka_unit_test(test_driver_mlp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
