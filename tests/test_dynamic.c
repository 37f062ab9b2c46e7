/* test_dynamic.c - dynamic shapes end to end (docs/DYNAMIC_SHAPES.md): a model with a symbolic
 * batch dimension, compiled once, runs at batch 1, 3 and 17 through the public API; a
 * data-dependent output (NonZero) comes back through onnxc_run with library-owned memory and
 * through a caller buffer of the right shape (a wrong shape is refused); the typed API takes
 * descriptors. Expected values are computed here in plain C.
 *
 * Model (IR text):  x f32[N,4] -> Mul(x, w f32[4]) -> Add(., b f32[4]) -> Relu -> y f32[N,4]
 *                   nz = NonZero(y) : i64[2, ?]
 */
#include <dlfcn.h>
#include <pthread.h>
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

static char g_dir[256];

static const char *const model_text =
    "onnxc-ir 1\n"
    "ir_version 8\n"
    "producer \"test\" \"1\"\n"
    "domain \"\"\n"
    "model_version 0\n"
    "opset \"\" 13\n"
    "graph \"dyn\" {\n"
    "  input %x : f32[N,4]\n"
    "  init %w : f32[4] = [1.0, -2.0, 0.5, 3.0]\n"
    "  init %b : f32[4] = [0.0, 1.0, -1.0, 0.25]\n"
    "  %m = Mul(%x, %w) {} : ?  # node \"mul\", opset 13\n"
    "  %a = Add(%m, %b) {} : ?  # node \"add\", opset 13\n"
    "  %y = Relu(%a) {} : ?  # node \"relu\", opset 13\n"
    "  %nz = NonZero(%y) {} : ?  # node \"nz\", opset 13\n"
    "  output %y : ?\n"
    "  output %nz : ?\n"
    "}\n";

static const float W[4] = {1.0f, -2.0f, 0.5f, 3.0f}, B[4] = {0.0f, 1.0f, -1.0f, 0.25f};

typedef struct Lib {
    void *h;
    const OnnxcModelInfo *(*info)(void);
    int (*create)(OnnxcContext **);
    void (*destroy)(OnnxcContext *);
    int (*run)(OnnxcContext *, const OnnxcTensor *, int32_t, OnnxcTensor *, int32_t);
    const char *(*error)(const OnnxcContext *);
    int (*typed_run)(OnnxcContext *, const OnnxcTensor *, OnnxcTensor *, OnnxcTensor *);
} Lib;

/* Compiles the model once to a shared library in g_dir; returns its path. */
static void compile_model(char *so, size_t cap, int bitcode) {
    IrDiag d;
    ir_diag_init(&d, "dyn");
    IrModel *m = ir_parse_model(model_text, strlen(model_text), "dyn.ir", &d);
    if (!m)
        ir_diag_print(&d, stderr);
    assert_non_null(m);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.model_name = "dyn";
    o.use_bitcode = bitcode;
    int rc = onnxc_prepare(m, &o, &d);
    if (rc)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    assert_int_equal(be_graph_dynamic(m->graph), 1);
    snprintf(so, cap, "%s/dyn%d.so", g_dir, bitcode);
    rc = be_emit(m, &o, BE_EMIT_SO, so, NULL, m->workspace_bytes, &d);
    if (rc)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

static void lib_open(Lib *l, const char *path) {
    memset(l, 0, sizeof *l);
    l->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!l->h)
        fprintf(stderr, "dlopen: %s\n", dlerror());
    assert_non_null(l->h);
    *(void **)&l->info = dlsym(l->h, "onnxc_model_info");
    *(void **)&l->create = dlsym(l->h, "onnxc_context_create");
    *(void **)&l->destroy = dlsym(l->h, "onnxc_context_destroy");
    *(void **)&l->run = dlsym(l->h, "onnxc_run");
    *(void **)&l->error = dlsym(l->h, "onnxc_context_error");
    *(void **)&l->typed_run = dlsym(l->h, "dyn_run");
    assert_non_null(l->run);
    assert_non_null(l->typed_run);
}

/* Reference: y = relu(x * w + b), and the coordinates of its non-zeros. */
static int64_t reference(int64_t n, const float *x, float *y, int64_t *nz) {
    int64_t cnt = 0;
    for (int64_t i = 0; i < n * 4; i++) {
        float v = x[i] * W[i % 4] + B[i % 4];
        y[i] = v > 0 ? v : 0;
        cnt += y[i] != 0;
    }
    int64_t c = 0;
    for (int64_t i = 0; i < n * 4; i++)
        if (y[i] != 0) {
            nz[c] = i / 4;
            nz[cnt + c] = i % 4;
            c++;
        }
    return cnt;
}

static void run_batches(const char *so) {
    Lib l;
    lib_open(&l, so);
    const OnnxcModelInfo *info = l.info();
    assert_int_equal(info->num_inputs, 1);
    assert_int_equal(info->num_outputs, 2);
    assert_int_equal(info->inputs[0].dims[0], -1);
    assert_string_equal(info->inputs[0].dim_names[0], "N");
    assert_int_equal(info->outputs[1].dims[0], 2);
    assert_int_equal(info->outputs[1].dims[1], -1);
    OnnxcContext *ctx = NULL;
    assert_int_equal(l.create(&ctx), ONNXC_OK);
    static const int64_t batches[] = {1, 3, 17, 3};
    for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++) {
        int64_t n = batches[bi];
        float x[17 * 4], want[17 * 4], y[17 * 4];
        int64_t wnz[2 * 17 * 4];
        for (int64_t i = 0; i < n * 4; i++)
            x[i] = (float)((i * 7 + bi * 3) % 11) - 5.0f; /* mixes signs: some outputs 0 */
        int64_t cnt = reference(n, x, want, wnz);
        int64_t xd[2] = {n, 4}, yd[2] = {n, 4};
        OnnxcTensor in = {x, 1, 2, xd};
        OnnxcTensor out[2] = {{y, 1, 2, yd}, {NULL, 7, 2, NULL}};
        int st = l.run(ctx, &in, 1, out, 2);
        if (st)
            fprintf(stderr, "run: %s\n", l.error(ctx));
        assert_int_equal(st, ONNXC_OK);
        assert_memory_equal(y, want, sizeof(float) * (size_t)(n * 4));
        /* NonZero: library-owned data and dims */
        assert_non_null(out[1].data);
        assert_non_null(out[1].dims);
        assert_int_equal(out[1].rank, 2);
        assert_int_equal(out[1].dims[0], 2);
        assert_int_equal(out[1].dims[1], cnt);
        assert_memory_equal(out[1].data, wnz, sizeof(int64_t) * (size_t)(2 * cnt));
        /* NonZero into a caller buffer of the right shape, then of a wrong one */
        int64_t buf[2 * 17 * 4], bd[2] = {2, cnt};
        OnnxcTensor out2[2] = {{y, 1, 2, yd}, {buf, 7, 2, bd}};
        assert_int_equal(l.run(ctx, &in, 1, out2, 2), ONNXC_OK);
        assert_memory_equal(buf, wnz, sizeof(int64_t) * (size_t)(2 * cnt));
        int64_t bad[2] = {2, cnt + 1};
        OnnxcTensor out3[2] = {{y, 1, 2, yd}, {buf, 7, 2, bad}};
        assert_int_equal(l.run(ctx, &in, 1, out3, 2), ONNXC_ERR_SHAPE);
        assert_non_null(strstr(l.error(ctx), "nz"));
        /* y with both outputs library-owned, through the typed API */
        OnnxcTensor o1 = {NULL, 1, 2, NULL}, o2 = {NULL, 7, 2, NULL};
        assert_int_equal(l.typed_run(ctx, &in, &o1, &o2), ONNXC_OK);
        assert_int_equal(o1.dims[0], n);
        assert_memory_equal(o1.data, want, sizeof(float) * (size_t)(n * 4));
        assert_int_equal(o2.dims[1], cnt);
    }
    /* inconsistent shapes are refused with a message */
    float x[8] = {0};
    int64_t xd[2] = {2, 5};
    OnnxcTensor in = {x, 1, 2, xd};
    OnnxcTensor out[2] = {{NULL, 1, 2, NULL}, {NULL, 7, 2, NULL}};
    assert_int_equal(l.run(ctx, &in, 1, out, 2), ONNXC_ERR_SHAPE);
    l.destroy(ctx);
    dlclose(l.h);
}

/* One thread: its own context, 50 runs at batch 1 + (seed + i) % 17, results checked. */
typedef struct Job {
    Lib *l;
    int seed;
    int bad; /* runs with a wrong result or status */
} Job;

static void *job_main(void *arg) {
    Job *j = arg;
    OnnxcContext *ctx = NULL;
    if (j->l->create(&ctx) != ONNXC_OK) {
        j->bad = 1000;
        return NULL;
    }
    for (int it = 0; it < 50; it++) {
        int64_t n = 1 + (j->seed + it) % 17;
        float x[17 * 4], want[17 * 4], y[17 * 4];
        int64_t wnz[2 * 17 * 4];
        for (int64_t i = 0; i < n * 4; i++)
            x[i] = (float)((i * 5 + it + j->seed) % 9) - 4.0f;
        int64_t cnt = reference(n, x, want, wnz);
        int64_t xd[2] = {n, 4}, yd[2] = {n, 4};
        OnnxcTensor in = {x, 1, 2, xd};
        OnnxcTensor out[2] = {{y, 1, 2, yd}, {NULL, 7, 2, NULL}};
        if (j->l->run(ctx, &in, 1, out, 2) != ONNXC_OK ||
            memcmp(y, want, sizeof(float) * (size_t)(n * 4)) != 0 || out[1].dims[1] != cnt ||
            memcmp(out[1].data, wnz, sizeof(int64_t) * (size_t)(2 * cnt)) != 0)
            j->bad++;
    }
    j->l->destroy(ctx);
    return NULL;
}

/* Distinct contexts run concurrently, each with its own pool. */
static void test_two_threads(void **state) {
    (void)state;
    char so[512];
    compile_model(so, sizeof so, 0);
    Lib l;
    lib_open(&l, so);
    Job jobs[2] = {{&l, 0, 0}, {&l, 7, 0}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&t[i], NULL, job_main, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(jobs[0].bad, 0);
    assert_int_equal(jobs[1].bad, 0);
    dlclose(l.h);
}

static void test_symbolic_batch_and_nonzero(void **state) {
    (void)state;
    char so[512];
    compile_model(so, sizeof so, 0);
    run_batches(so);
}

static void test_symbolic_batch_bitcode(void **state) {
    (void)state;
    char so[512];
    compile_model(so, sizeof so, 1);
    run_batches(so);
}

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/onnxc_test_dynamic_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_symbolic_batch_and_nonzero),
        cmocka_unit_test(test_symbolic_batch_bitcode),
        cmocka_unit_test(test_two_threads),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
