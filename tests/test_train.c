/* test_train.c - the training library and `onnxc train` (docs/TRAINING.md).
 *
 *  - test_library_api: examples/mlp.onnx compiled with be_emit_train (MSE, Adam), loaded with
 *    dlopen: train_step lowers the loss on a fixed batch, get/set weights round-trip, infer runs
 *    on the current weights, save writes a model (one graph field) the frontend loads with the
 *    trained weights.
 *  - test_optimizer_step: rt_optim_step against hand-computed first steps of SGD, momentum, Adam.
 *  - test_no_rule: a model with an operator that has no gradient rule fails with its name.
 *  - test_no_source_tree: the onnxc binary builds a training library with ONNXC_SOURCE_DIR
 *    pointing nowhere and only cc + ld on PATH (no objcopy); it trains through onnxc_train_* and
 *    the typed step, and its saved model has one graph field and passes onnx.checker.
 *  - test_emit_oom: be_emit_train with injected allocation failures fails cleanly and leaves
 *    nothing in the output folder.
 *  - test_mlp_vs_torch, test_digits: tests/train/mlp_vs_torch.py (100 epochs, loss curve within
 *    1e-4 of PyTorch) and tests/train/digits.py (>= 97% test accuracy, saved model recompiled
 *    gives the same predictions) through the onnxc binary; skipped with a message when
 *    /usr/bin/python3 lacks torch / sklearn.
 *  - test_layernorm_vs_torch: tests/train/ln_vs_torch.py, a LayerNormalization model trained 20
 *    epochs (its scale and bias too): the loss falls and follows PyTorch within 1e-4.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/be_train.h"
#include "frontend/fe.h"
#include "ir/ir.h"
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

/* Number of top-level ModelProto.graph fields (7, length-delimited) in the file; -1 if it
 * cannot be read or is not a well-formed sequence of protobuf fields. */
static int graph_fields(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    static unsigned char b[1 << 20];
    size_t n = fread(b, 1, sizeof b, f);
    fclose(f);
    if (n == 0 || n == sizeof b)
        return -1;
    int count = 0;
    size_t i = 0;
    while (i < n) {
        uint64_t v[2] = {0, 0};
        for (int k = 0; k < 2; k++) { /* key, then the value / length */
            int sh = 0;
            for (;;) {
                if (i >= n || sh > 63)
                    return -1;
                v[k] |= (uint64_t)(b[i] & 0x7f) << sh;
                sh += 7;
                if (!(b[i++] & 0x80))
                    break;
            }
            if ((v[0] & 7) != 2 && (v[0] & 7) != 0)
                return -1;
        }
        if ((v[0] & 7) == 2) {
            if (v[1] > n - i)
                return -1;
            i += v[1];
            count += (v[0] >> 3) == 7;
        }
    }
    return count;
}

/* onnx.checker on a file through /usr/bin/python3: 0 passed, 1 failed, 77 not available. */
static int onnx_check(const char *path) {
    if (access("/usr/bin/python3", X_OK) != 0)
        return 77;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c 'import sys\ntry:\n import onnx\nexcept ImportError:\n "
             "sys.exit(77)\nonnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True)' %s",
             path);
    int st = system(cmd);
    return WIFEXITED(st) ? (WEXITSTATUS(st) == 77 ? 77 : WEXITSTATUS(st) != 0) : 1;
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
    /* one ModelProto.graph field (not the stored graph + a second one to be merged) */
    assert_int_equal(graph_fields(saved), 1);
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

/* Absolute path of `name` found on PATH, into buf; 0 / -1. */
static int which(const char *name, char *buf, size_t cap) {
    const char *p = getenv("PATH");
    while (p && *p) {
        const char *e = strchr(p, ':');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        snprintf(buf, cap, "%.*s/%s", (int)n, p, name);
        if (n && access(buf, X_OK) == 0)
            return 0;
        p = e ? e + 1 : NULL;
    }
    return -1;
}

/* `onnxc compile --train` as an installed compiler would run: ONNXC_SOURCE_DIR names a missing
 * folder and PATH holds only cc and the ld it drives (no objcopy, no other binutils); the
 * library builds, trains through the generic onnxc_train_* API and saves a model with one graph
 * field that onnx.checker accepts. */
static void test_no_source_tree(void **state) {
    (void)state;
    char dir[] = "/tmp/onnxc_test_train_nosrc_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char bin[256], cc[4096], ld[4096], lnk[300], so[300], h[300], saved[300], arg_o[300];
    snprintf(bin, sizeof bin, "%s/bin", dir);
    assert_int_equal(mkdir(bin, 0755), 0);
    const char *ccn = getenv("ONNXC_CC") && getenv("ONNXC_CC")[0] ? getenv("ONNXC_CC") : "cc";
    assert_int_equal(which(ccn, cc, sizeof cc), 0);
    assert_int_equal(which("ld", ld, sizeof ld), 0);
    snprintf(lnk, sizeof lnk, "%s/cc", bin);
    assert_int_equal(symlink(cc, lnk), 0);
    snprintf(lnk, sizeof lnk, "%s/ld", bin);
    assert_int_equal(symlink(ld, lnk), 0);
    snprintf(so, sizeof so, "%s/libnosrc.so", dir);
    snprintf(h, sizeof h, "%s/libnosrc.h", dir);
    snprintf(saved, sizeof saved, "%s/saved.onnx", dir);
    snprintf(arg_o, sizeof arg_o, "%s", so);
    char path_env[300];
    snprintf(path_env, sizeof path_env, "PATH=%s", bin);
    char *envp[] = {path_env, "ONNXC_SOURCE_DIR=/nonexistent/onnxc-source", NULL};
    char *argv[] = {ONNXC_BINARY_DIR "/onnxc", "compile", ONNXC_SOURCE_DIR "/examples/mlp.onnx",
                    "--train", "--lr=0.01", "--name", "nosrc", "-o", arg_o, NULL};
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execve(argv[0], argv, envp);
        _exit(127);
    }
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    assert_int_equal(access(h, R_OK), 0);

    void *lib = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    assert_non_null(lib);
    int (*create)(OnnxcTrainer **), (*step)(OnnxcTrainer *, void *const *, float *),
        (*save)(OnnxcTrainer *, const char *), (*typed_step)(OnnxcTrainer *, const float *,
                                                             const float *, float *);
    void (*destroy)(OnnxcTrainer *);
    const RtTrainDesc *(*desc)(void);
    *(void **)&create = dlsym(lib, "onnxc_train_create");
    *(void **)&step = dlsym(lib, "onnxc_train_step");
    *(void **)&save = dlsym(lib, "onnxc_train_save");
    *(void **)&destroy = dlsym(lib, "onnxc_train_destroy");
    *(void **)&desc = dlsym(lib, "onnxc_train_desc");
    *(void **)&typed_step = dlsym(lib, "nosrc_train_step");
    assert_true(create && step && save && destroy && desc && typed_step);
    /* the descriptor emitted through LLVM: counts, optimizer defaults, loss, model bytes */
    const RtTrainDesc *td = desc();
    assert_int_equal(td->nx, 1);
    assert_int_equal(td->ny, 1);
    assert_int_equal(td->nw, 4);
    assert_int_equal(td->opt.kind, RT_OPT_ADAM);
    assert_float_equal(td->opt.lr, 0.01, 0);
    assert_float_equal(td->opt.beta2, 0.999, 0);
    assert_string_equal(td->loss, "mse");
    assert_true(td->model_len > 0);
    OnnxcTrainer *t = NULL;
    assert_int_equal(create(&t), 0);
    float x[32 * 9], y[32], loss0 = 0, loss = 0;
    for (int i = 0; i < 32 * 9; i++)
        x[i] = (float)cos(0.23 * i);
    for (int i = 0; i < 32; i++)
        y[i] = 0.3f * x[9 * i] - x[9 * i + 2];
    for (int it = 0; it < 100; it++) {
        void *in[2] = {x, y};
        assert_int_equal(it % 2 ? step(t, in, &loss) : typed_step(t, x, y, &loss), 0);
        if (it == 0)
            loss0 = loss;
    }
    printf("  no source tree: loss %.6f after 1 step, %.6f after 100\n", loss0, loss);
    assert_true(loss < 0.5f * loss0);
    assert_int_equal(save(t, saved), 0);
    assert_int_equal(graph_fields(saved), 1);
    int chk = onnx_check(saved);
    if (chk == 77)
        printf("  (onnx.checker not available in /usr/bin/python3: not run)\n");
    else
        assert_int_equal(chk, 0);
    destroy(t);
    dlclose(lib);
    unlink(saved);
    unlink(so);
    unlink(h);
    snprintf(lnk, sizeof lnk, "%s/cc", bin);
    unlink(lnk);
    snprintf(lnk, sizeof lnk, "%s/ld", bin);
    unlink(lnk);
    rmdir(bin);
    rmdir(dir);
}

/* Number of entries of folder dir besides . and .. */
static int dir_entries(const char *dir) {
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dp);
    return n;
}

/* be_emit_train with allocation failures (ir_fault_set, as tests/test_oom.c): a clean count,
 * then 24 runs failing allocation k of the emission (spread over all of them, the last ones
 * included: the descriptor object, the link, the header). Each run ends in success without
 * errors or in a failure with an error, and a failure leaves nothing in the output folder. */
static void test_emit_oom(void **state) {
    (void)state;
    char dir[] = "/tmp/onnxc_test_train_oom_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char so[300];
    snprintf(so, sizeof so, "%s/liboom.so", dir);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    o.opt_level = 0;
    o.model_name = "oom";
    BeTrainSpec s;
    be_train_spec_default(&s);
    IrDiag d;
    ir_diag_init(&d, "oom");
    ir_fault_set(0x7fffffff);
    int rc = be_emit_train(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &o, &s, so, NULL, &d);
    long n = ir_fault_count();
    ir_fault_set(0);
    assert_int_equal(rc, 0);
    assert_int_equal(d.nerrors, 0);
    ir_diag_free(&d);
    assert_int_equal(dir_entries(dir), 2); /* .so + .h */
    char h[300];
    snprintf(h, sizeof h, "%s/liboom.h", dir);
    unlink(so);
    unlink(h);
    assert_true(n > 24);
    int failed = 0;
    for (int r = 0; r < 24; r++) {
        long k = r < 20 ? 1 + (n - 1) * r / 20 : n - (23 - r); /* spread, then the last 4 */
        ir_diag_init(&d, "oom");
        ir_fault_set(k);
        rc = be_emit_train(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &o, &s, so, NULL, &d);
        ir_fault_set(0);
        if (rc == 0) {
            assert_int_equal(d.nerrors, 0);
            unlink(so);
            unlink(h);
        } else {
            assert_true(d.nerrors > 0);
            failed++;
        }
        ir_diag_free(&d);
        assert_int_equal(dir_entries(dir), 0);
    }
    printf("  %ld allocations; 24 injected failures, %d clean errors\n", n, failed);
    assert_true(failed > 0);
    rmdir(dir);
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

/* A LayerNormalization gradient in a real training (tests/train/ln_vs_torch.py, docs/GRAD_RULES.md). */
static void test_layernorm_vs_torch(void **state) {
    (void)state;
    run_script("ln_vs_torch.py", "/tmp/onnxc_test_ln_torch");
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
        cmocka_unit_test(test_no_source_tree),
        cmocka_unit_test(test_emit_oom),
        cmocka_unit_test(test_mlp_vs_torch),
        cmocka_unit_test(test_digits),
        cmocka_unit_test(test_layernorm_vs_torch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
