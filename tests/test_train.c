/* test_train.c - the training library and `onnxc train` (docs/TRAINING.md).
 *
 *  - test_library_api: examples/mlp.onnx compiled with be_emit_train (MSE, Adam), loaded with
 *    dlopen: train_step lowers the loss on a fixed batch, get/set weights round-trip, infer runs
 *    on the current weights, save writes a model the frontend loads with the trained weights.
 *  - test_optimizer_step: rt_optim_step against hand-computed first steps of SGD, momentum, Adam.
 *  - test_no_rule: a model with an operator that has no gradient rule fails with its name.
 *  - test_mlp_vs_torch, test_digits: tests/train/mlp_vs_torch.py (100 epochs, loss curve within
 *    1e-4 of PyTorch) and tests/train/digits.py (>= 97% test accuracy, saved model recompiled
 *    gives the same predictions) through the onnxc binary; skipped with a message when
 *    /usr/bin/python3 lacks torch / sklearn.
 */
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/be_train.h"
#include "frontend/fe.h"
#include "runtime/api/rt_train_model.h"

static void test_optimizer_step(void **state) {
    (void)state;
    RtOptimConfig c = {.kind = RT_OPT_SGD, .lr = 0.1};
    float x[2] = {1.0f, -2.0f}, g[2] = {0.5f, 1.0f}, s1[2] = {0}, s2[2] = {0};
    rt_optim_step(&c, 0.1, 1, x, g, s1, s2, 2);
    assert_float_equal(x[0], 0.95f, 1e-7);
    assert_float_equal(x[1], -2.1f, 1e-7);
    /* momentum: step 1 b = g; step 2 b = 0.9 g + g */
    c.kind = RT_OPT_MOMENTUM;
    c.beta1 = 0.9;
    x[0] = 1.0f;
    rt_optim_step(&c, 0.1, 1, x, g, s1, s2, 1);
    rt_optim_step(&c, 0.1, 2, x, g, s1, s2, 1);
    assert_float_equal(x[0], 1.0f - 0.05f - 0.1f * 0.95f, 1e-6);
    /* Adam's first step moves every weight by lr (sign of g) when eps is negligible */
    c.kind = RT_OPT_ADAM;
    c.beta1 = 0.9;
    c.beta2 = 0.999;
    c.eps = 1e-8;
    x[0] = 1.0f;
    x[1] = -2.0f;
    memset(s1, 0, sizeof s1);
    memset(s2, 0, sizeof s2);
    rt_optim_step(&c, 0.01, 1, x, g, s1, s2, 2);
    assert_float_equal(x[0], 0.99f, 1e-6);
    assert_float_equal(x[1], -2.01f, 1e-6);
}

typedef struct TrainLib {
    void *h;
    int (*create)(OnnxcTrainer **);
    void (*destroy)(OnnxcTrainer *);
    int (*step)(OnnxcTrainer *, const float *, const float *, float *);
    int (*infer)(OnnxcTrainer *, const float *, float *);
    int (*get)(OnnxcTrainer *, int, float *);
    int (*set)(OnnxcTrainer *, int, const float *);
    int (*save)(OnnxcTrainer *, const char *);
} TrainLib;

static void test_library_api(void **state) {
    (void)state;
    char dir[] = "/tmp/onnxc_test_train_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char so[256], h[256], saved[256];
    snprintf(so, sizeof so, "%s/libmlp_train.so", dir);
    snprintf(h, sizeof h, "%s/libmlp_train.h", dir);
    snprintf(saved, sizeof saved, "%s/trained.onnx", dir);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    o.opt_level = 1;
    o.model_name = "mlp";
    BeTrainSpec s;
    be_train_spec_default(&s);
    s.lr = 0.01;
    IrDiag d;
    ir_diag_init(&d, "mlp");
    d.echo = 1;
    assert_int_equal(be_emit_train(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &o, &s, so, NULL, &d), 0);
    ir_diag_free(&d);
    TrainLib L;
    L.h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(L.h);
    *(void **)&L.create = dlsym(L.h, "mlp_create");
    *(void **)&L.destroy = dlsym(L.h, "mlp_destroy");
    *(void **)&L.step = dlsym(L.h, "mlp_train_step");
    *(void **)&L.infer = dlsym(L.h, "mlp_infer");
    *(void **)&L.get = dlsym(L.h, "mlp_get_weight");
    *(void **)&L.set = dlsym(L.h, "mlp_set_weight");
    *(void **)&L.save = dlsym(L.h, "mlp_save");
    assert_true(L.create && L.destroy && L.step && L.infer && L.get && L.set && L.save);
    OnnxcTrainer *t = NULL;
    assert_int_equal(L.create(&t), 0);
    float x[32 * 9], y[32], out[32], loss0 = 0, loss = 0;
    for (int i = 0; i < 32 * 9; i++)
        x[i] = (float)sin(0.37 * i);
    for (int i = 0; i < 32; i++)
        y[i] = x[9 * i] + 0.5f * x[9 * i + 1];
    for (int it = 0; it < 200; it++) {
        assert_int_equal(L.step(t, x, y, &loss), 0);
        if (it == 0)
            loss0 = loss;
    }
    printf("  mlp: loss %.6f after 1 step, %.6f after 200\n", loss0, loss);
    assert_true(loss < 0.2f * loss0);
    /* infer on the current weights: its MSE is the loss of a step taken now (before update) */
    assert_int_equal(L.infer(t, x, out), 0);
    double mse = 0;
    for (int i = 0; i < 32; i++)
        mse += (out[i] - y[i]) * (out[i] - y[i]) / 32.0;
    assert_true(mse < loss0);
    float w[90], w2[90];
    assert_int_equal(L.get(t, 0, w), 0);
    for (int i = 0; i < 90; i++)
        w2[i] = w[i] + 1.0f;
    assert_int_equal(L.set(t, 0, w2), 0);
    assert_int_equal(L.get(t, 0, w2), 0);
    assert_float_equal(w2[5], w[5] + 1.0f, 1e-6);
    assert_int_equal(L.set(t, 0, w), 0);
    assert_int_equal(L.save(t, saved), 0);
    /* the saved model loads, with the trained dense1_w */
    ir_diag_init(&d, saved);
    IrModel *m = fe_load_model(saved, NULL, &d);
    assert_non_null(m);
    IrValue *v = ir_graph_find_value(m->graph, "dense1_w");
    assert_non_null(v);
    assert_non_null(v->init);
    assert_memory_equal(v->init->data, w, sizeof w);
    ir_model_destroy(m);
    ir_diag_free(&d);
    L.destroy(t);
    dlclose(L.h);
    unlink(so);
    unlink(h);
    unlink(saved);
    rmdir(dir);
}

static void test_no_rule(void **state) {
    (void)state;
    /* Round has no gradient: the training build names it */
    const char *path = "/tmp/onnxc_test_train_round.onnx";
    IrModel *mm = ir_model_create();
    assert_non_null(mm);
    mm->ir_version = 8;
    mm->nopsets = 1;
    mm->opsets = ir_arena_alloc(mm->arena, sizeof *mm->opsets);
    mm->opsets[0].domain = "";
    mm->opsets[0].version = 13;
    mm->graph = ir_graph_create(mm, NULL, "g");
    IrGraph *g = mm->graph;
    int64_t xd[2] = {4, 2}, wd[2] = {2, 2};
    IrValue *x = ir_value_new(g, "x"), *w = ir_value_new(g, "w"), *hv = ir_value_new(g, "h"),
            *y = ir_value_new(g, "y");
    ir_type_set_tensor(g->arena, &x->type, IR_DT_FLOAT, 2, xd);
    ir_type_set_tensor(g->arena, &y->type, IR_DT_FLOAT, 2, xd);
    ir_type_set_tensor(g->arena, &w->type, IR_DT_FLOAT, 2, wd);
    w->init = ir_tensor_new(g->arena, IR_DT_FLOAT, 2, wd);
    w->init->name = w->name;
    ir_graph_add_input(g, x);
    ir_graph_add_init(g, w);
    ir_node_new(g, NULL, "mm", "", "MatMul", 13, 2, (IrValue *[]){x, w}, 1, &hv);
    ir_node_new(g, NULL, "round", "", "Round", 13, 1, &hv, 1, &y);
    ir_graph_add_output(g, y);
    IrDiag dw;
    ir_diag_init(&dw, path);
    assert_int_equal(fe_write_model(mm, path, &dw), 0);
    ir_diag_free(&dw);
    ir_model_destroy(mm);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    BeTrainSpec s;
    be_train_spec_default(&s);
    IrDiag d;
    ir_diag_init(&d, path);
    int rc = be_emit_train(path, &o, &s, "/tmp/onnxc_test_train_round.so", NULL, &d);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(ir_diag_last(&d), "no gradient rule for operator Round"));
    assert_non_null(strstr(ir_diag_last(&d), "'round'"));
    assert_int_not_equal(access("/tmp/onnxc_test_train_round.so", F_OK), 0);
    ir_diag_free(&d);
    unlink(path);
}

/* Runs a Python check script; 77 = skipped. */
static void run_script(const char *script, const char *args) {
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("SKIP: /usr/bin/python3 not found\n");
        skip();
    }
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/train/%s %s/onnxc %s", ONNXC_SOURCE_DIR,
             script, ONNXC_BINARY_DIR, args);
    int st = system(cmd);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) == 77) {
        printf("SKIP: %s needs torch/sklearn/onnx in /usr/bin/python3\n", script);
        skip();
    }
    assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_mlp_vs_torch(void **state) {
    (void)state;
    run_script("mlp_vs_torch.py", ONNXC_SOURCE_DIR "/examples/mlp.onnx /tmp/onnxc_test_mlp_torch");
}

static void test_digits(void **state) {
    (void)state;
    run_script("digits.py", "/tmp/onnxc_test_digits");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_optimizer_step),
        cmocka_unit_test(test_library_api),
        cmocka_unit_test(test_no_rule),
        cmocka_unit_test(test_mlp_vs_torch),
        cmocka_unit_test(test_digits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
