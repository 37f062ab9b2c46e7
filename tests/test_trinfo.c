/* test_trinfo.c - ONNX TrainingInfoProto (docs/TRAINING.md section "TrainingInfoProto"):
 * frontend import (IrModel.training_info), the training library built from a model's algorithm
 * and initialization graphs (passes/pass_trinfo.c, be_emit_train), and hostile variants.
 *
 * The models come from scripts/trinfo_models.py (run with /usr/bin/python3 at test time; the
 * tests skip with a message when it lacks onnx/numpy), which also writes a float64 numpy
 * re-computation of 20 training steps:
 *  - test_import: linear_momentum.onnx's training_info in the IR (graphs, bindings, order).
 *  - test_momentum: y = X W + B, MSE, Gradient + Momentum (standard, beta 0.8 so that the
 *    first-step rule beta_adjusted = 1 matters) and an initialization graph (Constant W0 -> W,
 *    ConstantOfShape 0 -> T, the algorithm's iteration count stored as 7): the initial weights
 *    are the initialization's, 20 steps through the generated library match numpy (per-step
 *    loss and final W, B), T counts the steps, infer uses the trained weights, reset returns to
 *    the initialized state, save writes the trained weights.
 *  - test_adam: the same with Adam and no initialization graph (stored weights).
 *  - test_init_only: training_info with only an initialization: the --loss/--optimizer library
 *    starts from the initialization's W.
 *  - test_hostile: binding to a missing initializer, a bound output of the wrong type, an
 *    initialization binding naming no output, a random initialization, two algorithms: each
 *    fails with its message, no library is left behind.
 * Tolerance: float32 library vs float64 numpy; 20 steps of a well-conditioned 3x2 least squares
 * problem lose a few float32 ulps per step: 2e-5 relative + 2e-5 absolute (observed 4e-7 for
 * Momentum, 2.9e-6 for Adam, whose division by sqrt(H) + 1e-6 amplifies rounding).
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

#define STEPS 20
#define DIR "/tmp/onnxc_test_trinfo"

static int have_models = -1; /* -1 not tried, 0 skipped, 1 generated */

static void models(void) {
    if (have_models < 0) {
        have_models = 0;
        if (access("/usr/bin/python3", X_OK) != 0) {
            printf("SKIP: /usr/bin/python3 not found\n");
        } else {
            int st = system("/usr/bin/python3 " ONNXC_SOURCE_DIR "/scripts/trinfo_models.py " DIR);
            assert_true(WIFEXITED(st));
            if (WEXITSTATUS(st) == 77)
                printf("SKIP: scripts/trinfo_models.py needs onnx and numpy in /usr/bin/python3\n");
            else
                assert_int_equal(WEXITSTATUS(st), 0);
            have_models = WEXITSTATUS(st) == 0;
        }
    }
    if (!have_models)
        skip();
}

static void read_bin(const char *name, void *dst, size_t n) {
    char p[512];
    snprintf(p, sizeof p, DIR "/%s", name);
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    assert_int_equal(fread(dst, 1, n, f), n);
    fclose(f);
}

static void test_import(void **state) {
    (void)state;
    models();
    IrDiag d;
    ir_diag_init(&d, "import");
    d.echo = 1;
    IrModel *m = fe_load_model(DIR "/linear_momentum.onnx", NULL, &d);
    assert_non_null(m);
    assert_int_equal(m->ntraining_info, 1);
    const IrTrainingInfo *ti = &m->training_info[0];
    assert_non_null(ti->algorithm);
    assert_non_null(ti->initialization);
    assert_ptr_equal(ti->algorithm->parent, m->graph);
    assert_int_equal(ti->algorithm->ninputs, 1);
    assert_string_equal(ti->algorithm->inputs[0]->name, "Yt");
    assert_int_equal(ti->algorithm->noutputs, 6);
    assert_string_equal(ti->algorithm->outputs[0]->name, "L");
    assert_int_equal(ti->algorithm->ninits, 4); /* R, T, VW, VB */
    /* the algorithm reads the inference graph's Y, W, B as captured values */
    IrValue *y = ir_graph_find_value(ti->algorithm, "Y");
    assert_non_null(y);
    assert_true(y->flags & IR_VALUE_OUTER);
    assert_int_equal(ti->nupdate_bind, 5);
    assert_string_equal(ti->update_keys[0], "W");
    assert_string_equal(ti->update_values[0], "W_new");
    assert_string_equal(ti->update_keys[4], "T");
    assert_int_equal(ti->ninit_bind, 2);
    assert_string_equal(ti->init_keys[1], "T");
    assert_string_equal(ti->init_values[1], "T0");
    /* the main graph is untouched */
    assert_int_equal(m->graph->noutputs, 1);
    assert_int_equal(m->graph->nnodes, 2);
    ir_model_destroy(m);
    /* the combined graph of onnx.proto: main ++ algorithm */
    FeOptions fo = {.allow_external_data = 1, .training_algorithm = 1};
    m = fe_load_model(DIR "/linear_momentum.onnx", &fo, &d);
    assert_non_null(m);
    assert_int_equal(m->graph->ninputs, 2); /* X, Yt */
    assert_int_equal(m->graph->noutputs, 7);
    assert_int_equal(m->graph->ninits, 6);
    ir_model_destroy(m);
    fo.training_algorithm = 2;
    ir_diag_free(&d);
    ir_diag_init(&d, "import");
    assert_null(fe_load_model(DIR "/linear_momentum.onnx", &fo, &d));
    assert_non_null(strstr(ir_diag_last(&d), "training_info[1]: no such entry"));
    ir_diag_free(&d);
}

typedef struct Lib {
    void *h;
    int (*create)(OnnxcTrainer **);
    void (*destroy)(OnnxcTrainer *);
    int (*step)(OnnxcTrainer *, void *const *, float *);
    int (*infer)(OnnxcTrainer *, void *const *, void *const *);
    int (*get)(OnnxcTrainer *, int, float *);
    int (*save)(OnnxcTrainer *, const char *);
    int (*typed_step)(OnnxcTrainer *, const float *, const float *, float *);
} Lib;

static void build(const char *model, const char *so, const char *name, Lib *L) {
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    o.opt_level = 1;
    o.model_name = name;
    BeTrainSpec s;
    be_train_spec_default(&s);
    IrDiag d;
    ir_diag_init(&d, model);
    d.echo = 1;
    assert_int_equal(be_emit_train(model, &o, &s, so, NULL, &d), 0);
    /* the command line's loss/optimizer are reported as ignored */
    int warned = 0;
    for (int i = 0; i < d.nentries; i++)
        warned |= strstr(d.entries[i].msg, "--loss, --optimizer") != NULL;
    assert_true(warned);
    ir_diag_free(&d);
    L->h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(L->h);
    *(void **)&L->create = dlsym(L->h, "onnxc_train_create");
    *(void **)&L->destroy = dlsym(L->h, "onnxc_train_destroy");
    *(void **)&L->step = dlsym(L->h, "onnxc_train_step");
    *(void **)&L->infer = dlsym(L->h, "onnxc_train_infer");
    *(void **)&L->get = dlsym(L->h, "onnxc_train_get_weight");
    *(void **)&L->save = dlsym(L->h, "onnxc_train_save");
    char sym[128];
    snprintf(sym, sizeof sym, "%s_train_step", name);
    *(void **)&L->typed_step = dlsym(L->h, sym);
    assert_true(L->create && L->destroy && L->step && L->infer && L->get && L->save &&
                L->typed_step);
}

static void close_enough(double got, double want, const char *what, int i) {
    double tol = 2e-5 + 2e-5 * fabs(want);
    if (fabs(got - want) > tol)
        fail_msg("%s[%d]: library %.9g, numpy %.9g (difference %.3g > %.3g)", what, i, got, want,
                 fabs(got - want), tol);
}

/* Runs STEPS steps of a trinfo library against the numpy reference ref_NAME.bin. Weights 0/1
 * are W and B; `t_index` is the weight index of T (int64). Returns the largest difference. */
static double run_against_numpy(const char *model, const char *refname, int t_index,
                                int test_reset) {
    char so[256], h[256], saved[256];
    snprintf(so, sizeof so, DIR "/lib%s.so", refname);
    snprintf(h, sizeof h, DIR "/lib%s.h", refname);
    snprintf(saved, sizeof saved, DIR "/%s_trained.onnx", refname);
    Lib L;
    build(model, so, refname, &L);
    float X[12], Yt[8];
    double ref[STEPS + 16];
    read_bin("X.bin", X, sizeof X);
    read_bin("Yt.bin", Yt, sizeof Yt);
    char rn[128];
    snprintf(rn, sizeof rn, "ref_%s.bin", refname);
    read_bin(rn, ref, sizeof ref);
    const double *rW = ref + STEPS, *rB = rW + 6, *rW0 = rB + 2, *rB0 = rW0 + 6;
    OnnxcTrainer *c = NULL;
    assert_int_equal(L.create(&c), 0);
    float W[6], B[2];
    int64_t T = -1;
    /* the initial state: the initialization's W (or the stored one), the stored B */
    assert_int_equal(L.get(c, 0, W), 0);
    assert_int_equal(L.get(c, 1, B), 0);
    for (int i = 0; i < 6; i++)
        assert_float_equal(W[i], rW0[i], 0);
    for (int i = 0; i < 2; i++)
        assert_float_equal(B[i], rB0[i], 0);
    assert_int_equal(L.get(c, t_index, (float *)&T), 0);
    assert_int_equal(T, 0);
    double worst = 0;
    void *in[2] = {X, Yt};
    for (int it = 0; it < STEPS; it++) {
        float loss = -1;
        if (it % 2)
            assert_int_equal(L.step(c, in, &loss), 0);
        else
            assert_int_equal(L.typed_step(c, X, Yt, &loss), 0);
        close_enough(loss, ref[it], "loss", it);
        worst = fmax(worst, fabs(loss - ref[it]));
    }
    assert_int_equal(L.get(c, 0, W), 0);
    assert_int_equal(L.get(c, 1, B), 0);
    for (int i = 0; i < 6; i++) {
        close_enough(W[i], rW[i], "W", i);
        worst = fmax(worst, fabs(W[i] - rW[i]));
    }
    for (int i = 0; i < 2; i++) {
        close_enough(B[i], rB[i], "B", i);
        worst = fmax(worst, fabs(B[i] - rB[i]));
    }
    assert_int_equal(L.get(c, t_index, (float *)&T), 0);
    assert_int_equal(T, STEPS);
    /* infer: the main graph on the trained weights */
    float Y[8];
    void *out[1] = {Y};
    assert_int_equal(L.infer(c, in, out), 0);
    for (int r = 0; r < 4; r++)
        for (int k = 0; k < 2; k++) {
            double y = rB[k];
            for (int j = 0; j < 3; j++)
                y += (double)X[r * 3 + j] * rW[j * 2 + k];
            close_enough(Y[r * 2 + k], y, "Y", r * 2 + k);
        }
    /* save: the trained W is in the written model */
    assert_int_equal(L.save(c, saved), 0);
    IrDiag d;
    ir_diag_init(&d, saved);
    IrModel *m = fe_load_model(saved, NULL, &d);
    assert_non_null(m);
    IrValue *v = ir_graph_find_value(m->graph, "W");
    assert_true(v && v->init && v->init->nbytes == sizeof W);
    assert_memory_equal(v->init->data, W, sizeof W);
    ir_model_destroy(m);
    ir_diag_free(&d);
    if (test_reset) {
        int (*reset)(OnnxcTrainer *) = NULL;
        *(void **)&reset = dlsym(L.h, "onnxc_train_reset");
        if (!reset) {
            printf("  (onnxc_train_reset not exported by this library build)\n");
        } else {
            assert_int_equal(reset(c), 0);
            assert_int_equal(L.get(c, 0, W), 0);
            for (int i = 0; i < 6; i++)
                assert_float_equal(W[i], rW0[i], 0);
            assert_int_equal(L.get(c, t_index, (float *)&T), 0);
            assert_int_equal(T, 0);
        }
    }
    L.destroy(c);
    dlclose(L.h);
    unlink(so);
    unlink(h);
    unlink(saved);
    return worst;
}

static void test_momentum(void **state) {
    (void)state;
    models();
    double w = run_against_numpy(DIR "/linear_momentum.onnx", "momentum", 4, 1);
    printf("  momentum: 20 steps, largest difference to numpy %.3g\n", w);
}

static void test_adam(void **state) {
    (void)state;
    models();
    double w = run_against_numpy(DIR "/linear_adam.onnx", "adam", 6, 0);
    printf("  adam: 20 steps, largest difference to numpy %.3g\n", w);
}

static void expect_failure(const char *model, const char *msg1, const char *msg2) {
    char path[256], so[256];
    snprintf(path, sizeof path, DIR "/%s", model);
    snprintf(so, sizeof so, DIR "/bad.so");
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    BeTrainSpec s;
    be_train_spec_default(&s);
    IrDiag d;
    ir_diag_init(&d, path);
    assert_int_not_equal(be_emit_train(path, &o, &s, so, NULL, &d), 0);
    int found = 0;
    for (int i = 0; i < d.nentries; i++)
        found |= strstr(d.entries[i].msg, msg1) && (!msg2 || strstr(d.entries[i].msg, msg2));
    if (!found)
        fail_msg("%s: expected an error with '%s'%s%s, got '%s'", model, msg1, msg2 ? " and " : "",
                 msg2 ? msg2 : "", ir_diag_last(&d));
    assert_int_not_equal(access(so, F_OK), 0);
    ir_diag_free(&d);
}

static void test_hostile(void **state) {
    (void)state;
    models();
    expect_failure("bad_key.onnx", "update_binding 'Wx' <- 'W_new'",
                   "is not an initializer of the main graph or of the algorithm");
    expect_failure("bad_type.onnx", "update_binding 'B' <- 'W_new'", "the algorithm computes");
    expect_failure("bad_init_out.onnx", "initialization_binding 'W' <- 'nothing'",
                   "is not an output of the initialization graph");
    expect_failure("random_init.onnx", "training_info[0]: initialization", "compile time");
    expect_failure("two_algorithms.onnx", "both have an algorithm", NULL);
}

/* training_info without an algorithm: --loss/--optimizer, starting from the initialization */
static void test_init_only(void **state) {
    (void)state;
    models();
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    o.opt_level = 1;
    o.model_name = "init_only";
    BeTrainSpec s;
    be_train_spec_default(&s);
    IrDiag d;
    ir_diag_init(&d, "init_only");
    const char *so = DIR "/libinit_only.so";
    assert_int_equal(be_emit_train(DIR "/init_only.onnx", &o, &s, so, NULL, &d), 0);
    int warned = 0;
    for (int i = 0; i < d.nentries; i++)
        warned |= strstr(d.entries[i].msg, "its initialization is applied") != NULL;
    assert_true(warned);
    ir_diag_free(&d);
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(h);
    int (*create)(OnnxcTrainer **) = NULL;
    void (*destroy)(OnnxcTrainer *) = NULL;
    int (*get)(OnnxcTrainer *, int, float *) = NULL;
    *(void **)&create = dlsym(h, "onnxc_train_create");
    *(void **)&destroy = dlsym(h, "onnxc_train_destroy");
    *(void **)&get = dlsym(h, "onnxc_train_get_weight");
    assert_true(create && destroy && get);
    OnnxcTrainer *c = NULL;
    assert_int_equal(create(&c), 0);
    float W[6];
    double ref[STEPS + 16];
    read_bin("ref_momentum.bin", ref, sizeof ref);
    assert_int_equal(get(c, 0, W), 0); /* weight 0 is W (initializer order) */
    for (int i = 0; i < 6; i++)
        assert_float_equal(W[i], ref[STEPS + 8 + i], 0); /* W_INIT, not the stored W */
    destroy(c);
    dlclose(h);
    unlink(so);
    unlink(DIR "/libinit_only.h");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_import),
        cmocka_unit_test(test_momentum),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_init_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
