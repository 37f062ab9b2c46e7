/* test_oom.c - out-of-memory handling by allocation-failure injection (docs/HARDENING.md).
 *
 * ir_fault_set(n) (ir/ir.h) makes the n-th allocation of the arena, the IR tables, the frontend
 * and protobuf-c (fe_pb_allocator) fail. Each test first counts the allocations of a clean run,
 * then repeats the run failing allocation 1, 2, ..., N in turn. Every run must end either in a
 * success without errors or in a clean failure with at least one error, never in a crash; that
 * nothing leaks is checked by running this test under ASan's leak checker (the sanitizer build of
 * scripts/test.sh) and valgrind.
 *
 * Models: examples/mlp.onnx (load + onnxc_prepare), the IR text of it (ir_parse_model), its
 * input .pb (fe_read_tensor_pb_buffer) and, when the backend test data is present, a model with
 * an If subgraph.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"

static void *read_all(const char *path, size_t *len) {
    void *buf = NULL;
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = fe_read_file(path, 0, &buf, len, &d);
    ir_diag_free(&d);
    return rc == 0 ? buf : NULL;
}

static const char *backend_dir(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

/* One run: load `buf` and (if prepare) run onnxc_prepare. Returns 1 on success, 0 on failure;
 * fails the test if the result and the diagnostics disagree. */
static int run_load_prepare(const void *buf, size_t len, int prepare) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(buf, len, "oom.onnx", NULL, NULL, &d);
    int ok = m != NULL;
    if (m) {
        assert_int_equal(d.nerrors, 0);
        if (prepare) {
            OnnxcCompileOptions o;
            onnxc_options_default(&o);
            int rc = onnxc_prepare(m, &o, &d);
            ok = rc == 0;
            if (ok)
                assert_int_equal(d.nerrors, 0);
        }
    }
    if (!ok)
        assert_true(d.nerrors > 0); /* a failure always says why */
    ir_model_destroy(m);
    ir_diag_free(&d);
    return ok;
}

typedef int (*RunFn)(const void *buf, size_t len, int arg);

/* Counts the allocations of a clean run, then fails each in turn. Prints the numbers. */
static void fail_each(const char *what, RunFn fn, const void *buf, size_t len, int arg) {
    ir_fault_set(0x7fffffffL); /* count only (never reached) */
    int ok = fn(buf, len, arg);
    long total = ir_fault_count();
    ir_fault_set(0);
    assert_true(ok);
    assert_true(total > 0);
    long failed = 0, survived = 0;
    for (long n = 1; n <= total; n++) {
        ir_fault_set(n);
        int r = fn(buf, len, arg);
        ir_fault_set(0);
        if (r)
            survived++; /* the failed allocation had a fallback (or was not reached) */
        else
            failed++;
    }
    print_message("oom %s: %ld allocations, each failed in turn: %ld clean errors, %ld runs "
                  "recovered\n", what, total, failed, survived);
    assert_true(failed > 0);
    assert_true(fn(buf, len, arg)); /* and a clean run after all that still works */
}

static void test_oom_mlp_load_prepare(void **state) {
    (void)state;
    size_t len;
    void *buf = read_all(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &len);
    assert_non_null(buf);
    fail_each("mlp.onnx load", run_load_prepare, buf, len, 0);
    fail_each("mlp.onnx load+prepare", run_load_prepare, buf, len, 1);
    free(buf);
}

static void test_oom_subgraph_model(void **state) {
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/node/test_if/model.onnx", backend_dir());
    size_t len;
    void *buf = read_all(path, &len);
    if (!buf) {
        print_message("SKIP: %s not found (set ONNXC_BACKEND_TESTS)\n", path);
        skip();
    }
    fail_each("test_if load", run_load_prepare, buf, len, 0);
    free(buf);
}

static int run_parse(const void *text, size_t len, int arg) {
    (void)arg;
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = ir_parse_model(text, len, "oom.ir", &d);
    if (m)
        assert_int_equal(d.nerrors, 0);
    else
        assert_true(d.nerrors > 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return m != NULL;
}

static void test_oom_ir_text(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model(ONNXC_SOURCE_DIR "/examples/mlp.onnx", NULL, &d);
    assert_non_null(m);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(ir_print_model(m, f, 1), 0);
    fclose(f);
    ir_model_destroy(m);
    ir_diag_free(&d);
    fail_each("mlp IR text parse", run_parse, text, len, 0);
    free(text);
}

static int run_tensor(const void *buf, size_t len, int arg) {
    (void)arg;
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrArena *a = ir_arena_create();
    IrTensor *t = NULL;
    if (a) {
        t = fe_read_tensor_pb_buffer(a, buf, len, "oom.pb", &d);
        if (t)
            assert_int_equal(d.nerrors, 0);
        else
            assert_true(d.nerrors > 0);
    }
    ir_arena_destroy(a);
    ir_diag_free(&d);
    return t != NULL;
}

static void test_oom_tensor_pb(void **state) {
    (void)state;
    size_t len;
    void *buf = read_all(ONNXC_SOURCE_DIR "/examples/mlp_data/input_0.pb", &len);
    assert_non_null(buf);
    fail_each("input_0.pb read", run_tensor, buf, len, 0);
    free(buf);
}

/* The hook itself: counts per thread, fails exactly the n-th allocation, off by default. */
static void test_fault_hook(void **state) {
    (void)state;
    ir_fault_set(0);
    void *p = ir_malloc(8);
    assert_non_null(p);
    free(p);
    assert_int_equal(ir_fault_count(), 0);
    ir_fault_set(2);
    void *a = ir_malloc(8), *b = ir_malloc(8), *c = ir_calloc(1, 8);
    assert_non_null(a);
    assert_null(b);
    assert_non_null(c);
    assert_int_equal(ir_fault_count(), 3);
    ir_fault_set(0);
    free(a);
    free(c);
    ir_fault_set(1);
    IrArena *ar = ir_arena_create();
    assert_null(ar);
    ir_fault_set(0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fault_hook),
        cmocka_unit_test(test_oom_mlp_load_prepare),
        cmocka_unit_test(test_oom_ir_text),
        cmocka_unit_test(test_oom_tensor_pb),
        cmocka_unit_test(test_oom_subgraph_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
