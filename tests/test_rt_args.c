/* test_rt_args.c - the argument checks of a compiled model's entry points for symbolic
 * dimensions (docs/HARDENING.md, "Generated code: argument checks"; docs/DYNAMIC_SHAPES.md).
 *
 * The static checks (NULL context/arrays/data, counts, element type, rank, dims) are tested in
 * tests/test_backend.c. Here a model with a symbolic batch dimension, y = Add(a, b) with
 * a, b, y : f32[N,3], is compiled to a library and called through onnxc_run with symbolic
 * dims out of range: negative, so large that the byte size overflows 64 bits, two inputs that
 * give the symbol different values, a caller output buffer of the wrong size. Each must return
 * an error status with a message naming the tensor, never run the graph; a good call after
 * them still works. Under the sanitizer build an unchecked size computation is a UBSan report.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/be.h"
#include "ir/ir.h"
#include "onnxc/onnxc_model.h"
#include "passes/pass.h"

static const char model_text[] =
    "onnxc-ir 1\nir_version 8\nproducer \"\" \"\"\ndomain \"\"\nmodel_version 0\n"
    "opset \"\" 17\ngraph \"dyn\" {\n  input %a : f32[N,3]\n  input %b : f32[N,3]\n"
    "  %y = Add(%a, %b) {} : ?  # node \"add\", opset 17\n  output %y : ?\n}\n";

typedef struct Lib {
    void *h;
    const OnnxcModelInfo *(*info)(void);
    int (*create)(OnnxcContext **);
    void (*destroy)(OnnxcContext *);
    int (*run)(OnnxcContext *, const OnnxcTensor *, int32_t, OnnxcTensor *, int32_t);
    const char *(*error)(const OnnxcContext *);
} Lib;

static char g_dir[64];
static Lib g_lib;

/* Compiles the model; 0, or -1 when this build cannot compile symbolic shapes (skip). */
static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/onnxc_rtargs_XXXXXX");
    if (!mkdtemp(g_dir))
        return -1;
    char so[128];
    snprintf(so, sizeof so, "%s/libdyn.so", g_dir);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = ir_parse_model(model_text, sizeof model_text - 1, "dyn.ir", &d);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    o.model_name = "dyn";
    int ok = m && onnxc_prepare(m, &o, &d) == 0 &&
             be_emit(m, &o, BE_EMIT_SO, so, NULL, m->workspace_bytes, &d) == 0;
    if (!ok)
        print_message("compile of the symbolic model failed: %s\n", ir_diag_last(&d));
    ir_model_destroy(m);
    ir_diag_free(&d);
    if (ok && (g_lib.h = dlopen(so, RTLD_NOW | RTLD_LOCAL))) {
        g_lib.info = (const OnnxcModelInfo *(*)(void))dlsym(g_lib.h, "onnxc_model_info");
        g_lib.create = (int (*)(OnnxcContext **))dlsym(g_lib.h, "onnxc_context_create");
        g_lib.destroy = (void (*)(OnnxcContext *))dlsym(g_lib.h, "onnxc_context_destroy");
        g_lib.run = (int (*)(OnnxcContext *, const OnnxcTensor *, int32_t, OnnxcTensor *,
                             int32_t))dlsym(g_lib.h, "onnxc_run");
        g_lib.error = (const char *(*)(const OnnxcContext *))dlsym(g_lib.h, "onnxc_context_error");
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    if (g_lib.h)
        dlclose(g_lib.h);
    char p[128];
    snprintf(p, sizeof p, "%s/libdyn.so", g_dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/libdyn.h", g_dir);
    unlink(p);
    rmdir(g_dir);
    return 0;
}

static void test_symbolic_dims_checked(void **state) {
    (void)state;
    if (!g_lib.h || !g_lib.run || !g_lib.info) {
        print_message("SKIP: symbolic shapes do not compile in this build\n");
        skip();
    }
    const OnnxcModelInfo *info = g_lib.info();
    assert_int_equal(info->num_inputs, 2);
    assert_int_equal(info->inputs[0].rank, 2);
    assert_int_equal(info->inputs[0].dims[0], -1); /* symbolic */
    OnnxcContext *ctx = NULL;
    assert_int_equal(g_lib.create(&ctx), ONNXC_OK);

    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {10, 20, 30, 40, 50, 60}, y[6] = {0};
    int64_t d2[2] = {2, 3}, d3[2] = {3, 3};
    OnnxcTensor in[2] = {{a, 1 /* FLOAT */, 2, d2}, {b, 1 /* FLOAT */, 2, d2}};
    OnnxcTensor out[1] = {{y, 1 /* FLOAT */, 2, d2}};
    assert_int_equal(g_lib.run(ctx, in, 2, out, 1), ONNXC_OK);
    assert_true(y[5] == 66.0f);

    /* negative symbolic dim */
    int64_t dneg[2] = {-1, 3};
    OnnxcTensor bad[2] = {in[0], in[1]};
    bad[0].dims = dneg;
    memset(y, 0, sizeof y);
    assert_int_not_equal(g_lib.run(ctx, bad, 2, out, 1), ONNXC_OK);
    assert_non_null(strstr(g_lib.error(ctx), "'a'"));
    assert_true(y[0] == 0.0f); /* nothing ran */

    /* byte size overflows 64 bits: 2^62 x 3 floats */
    int64_t dhuge[2] = {(int64_t)1 << 62, 3};
    bad[0].dims = dhuge;
    bad[1].dims = dhuge;
    int st = g_lib.run(ctx, bad, 2, out, 1);
    assert_int_not_equal(st, ONNXC_OK);
    print_message("2^62 x 3: status %d: %s\n", st, g_lib.error(ctx));
    assert_non_null(strstr(g_lib.error(ctx), "'a'"));
    assert_true(y[0] == 0.0f);

    /* the symbol N bound to 2 by 'a' and to 3 by 'b' */
    bad[0].dims = d2;
    bad[1].dims = d3;
    st = g_lib.run(ctx, bad, 2, out, 1);
    assert_int_not_equal(st, ONNXC_OK);
    print_message("N=2 vs N=3: status %d: %s\n", st, g_lib.error(ctx));
    assert_true(g_lib.error(ctx)[0] != '\0');
    assert_true(y[0] == 0.0f);

    /* the caller's output buffer disagrees with the computed shape */
    OnnxcTensor bado[1] = {{y, 1 /* FLOAT */, 2, d3}};
    st = g_lib.run(ctx, in, 2, bado, 1);
    assert_int_not_equal(st, ONNXC_OK);
    print_message("output [3,3] for [2,3]: status %d: %s\n", st, g_lib.error(ctx));

    /* wrong rank, NULL dims */
    bad[0] = in[0];
    bad[1] = in[1];
    bad[0].rank = 3;
    assert_int_equal(g_lib.run(ctx, bad, 2, out, 1), ONNXC_ERR_SHAPE);
    bad[0].rank = 2;
    bad[0].dims = NULL;
    assert_int_not_equal(g_lib.run(ctx, bad, 2, out, 1), ONNXC_OK);

    /* and a good call still works */
    assert_int_equal(g_lib.run(ctx, in, 2, out, 1), ONNXC_OK);
    assert_true(y[0] == 11.0f);
    assert_string_equal(g_lib.error(ctx), "");
    g_lib.destroy(ctx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbolic_dims_checked),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
