/* test_oom.c - out-of-memory handling by allocation-failure injection (docs/HARDENING.md).
 *
 * ir_fault_set(n) (ir/ir.h) makes the n-th allocation made through ir_malloc/ir_calloc/
 * ir_realloc fail: the arena, the IR tables, the frontend and protobuf-c (fe_pb_allocator), the
 * IR text parser, the verifier, the passes' scratch arrays and the backend's (code generation
 * tables, temporary file names, the linker's captured output). Each test first counts the
 * allocations of a clean run of one phase, then repeats the run failing allocation 1, 2, ..., N
 * of that phase in turn. Every run must end either in a success without errors or in a clean
 * failure with at least one error, never in a crash; the emit runs must also leave nothing in
 * the output folder when they fail (no partial output, no temporary file). That nothing leaks
 * is checked by running this test under ASan's leak checker (the sanitizer build of
 * scripts/harden.sh) and valgrind.
 *
 * Phases: load .onnx + onnxc_prepare at -O2 (examples/mlp.onnx, a Conv model and an If model of
 * the backend tests), load of IR text + prepare, the .pb tensor reader, and be_emit of an object
 * file and of a shared library (+ header) for mlp and the Conv model. LLVM's own allocations
 * (C++ new inside libLLVM) and the linker child process are out of reach of the hook.
 */
#include <dirent.h>
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

/* The allocation of the phase under test that must fail (0x7fffffff: none, count only). A run
 * function calls arm() where its phase starts; what it does before (setup) is not failed. */
static long g_fail_at;
static long g_count; /* allocations the phase made (set by disarm) */
static void arm(void) { ir_fault_set(g_fail_at); }
static void disarm(void) {
    g_count = ir_fault_count();
    ir_fault_set(0);
}

/* Input of a run: a buffer (model bytes or IR text) and what to do with it. */
typedef struct Job {
    const void *buf;
    size_t len;
    int prepare;          /* also run onnxc_prepare at -O2 */
    BeEmitKind kind;      /* emit jobs: what to write */
    const char *outdir;   /* emit jobs: an empty folder to write into */
} Job;

typedef int (*RunFn)(const Job *j);

static void check_result(int ok, const IrDiag *d) {
    if (ok)
        assert_int_equal(d->nerrors, 0);
    else
        assert_true(d->nerrors > 0); /* a failure always says why */
}

/* Load .onnx bytes and, with j->prepare, onnxc_prepare at -O2. 1 success, 0 clean failure. */
static int run_load_prepare(const Job *j) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    arm();
    IrModel *m = fe_load_model_buffer(j->buf, j->len, "oom.onnx", NULL, NULL, &d);
    int ok = m != NULL;
    if (m && j->prepare) {
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        ok = onnxc_prepare(m, &o, &d) == 0;
    }
    disarm();
    check_result(ok, &d);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return ok;
}

/* Parse IR text and, with j->prepare, onnxc_prepare at -O2. */
static int run_parse(const Job *j) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    arm();
    IrModel *m = ir_parse_model(j->buf, j->len, "oom.ir", &d);
    int ok = m != NULL;
    if (m && j->prepare) {
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        ok = onnxc_prepare(m, &o, &d) == 0;
    }
    disarm();
    check_result(ok, &d);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return ok;
}

static int run_tensor(const Job *j) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    arm();
    IrArena *a = ir_arena_create();
    IrTensor *t = a ? fe_read_tensor_pb_buffer(a, j->buf, j->len, "oom.pb", &d) : NULL;
    disarm();
    if (a)
        check_result(t != NULL, &d);
    ir_arena_destroy(a);
    ir_diag_free(&d);
    return t != NULL;
}

/* Number of entries of folder `dir` (besides . and ..). */
static int dir_entries(const char *dir) {
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(dp);
    return n;
}

/* Load + prepare (not failed), then be_emit with allocation failures. A failed emit must leave
 * the output folder empty; a successful one leaves exactly the output (+ header), removed here. */
static int run_emit(const Job *j) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(j->buf, j->len, "oom.onnx", NULL, NULL, &d);
    assert_non_null(m);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0; /* the kernels of the runtime library: the test stays fast */
    o.model_name = "oom";
    assert_int_equal(onnxc_prepare(m, &o, &d), 0);
    char out[4096], hdr[4096];
    snprintf(out, sizeof out, "%s/%s", j->outdir, j->kind == BE_EMIT_SO ? "liboom.so" : "oom.o");
    snprintf(hdr, sizeof hdr, "%s/liboom.h", j->outdir);
    arm();
    int ok = be_emit(m, &o, j->kind, out, NULL, m->workspace_bytes, &d) == 0;
    disarm();
    check_result(ok, &d);
    if (ok) {
        assert_int_equal(access(out, R_OK), 0);
        if (j->kind == BE_EMIT_SO)
            assert_int_equal(access(hdr, R_OK), 0);
        assert_int_equal(dir_entries(j->outdir), j->kind == BE_EMIT_SO ? 2 : 1);
        unlink(out);
        unlink(hdr);
    }
    if (dir_entries(j->outdir) != 0)
        fail_msg("a failed emit left files in %s (%s)", j->outdir, ir_diag_last(&d));
    ir_model_destroy(m);
    ir_diag_free(&d);
    return ok;
}

/* Counts the allocations of a clean run, then fails each in turn. Prints the numbers. */
static void fail_each(const char *what, RunFn fn, const Job *j) {
    g_fail_at = 0x7fffffffL; /* count only (never reached) */
    int ok = fn(j);
    ok = ok && fn(j); /* a second count: caches filled by the first run (if any) are warm now */
    long total = g_count;
    assert_true(ok);
    assert_true(total > 0);
    long failed = 0, survived = 0;
    for (long n = 1; n <= total; n++) {
        g_fail_at = n;
        int r = fn(j);
        if (r)
            survived++; /* the failed allocation had a fallback (or was not reached) */
        else
            failed++;
    }
    g_fail_at = 0;
    print_message("oom %-34s %4ld allocations, each failed in turn: %4ld clean errors, %3ld "
                  "recovered\n", what, total, failed, survived);
    assert_true(failed > 0);
    assert_true(fn(j)); /* and a clean run after all that still works */
}

/* Loads a backend test model's bytes, or NULL (the test then skips). */
static void *backend_model(const char *test, size_t *len) {
    char path[4096];
    snprintf(path, sizeof path, "%s/node/%s/model.onnx", backend_dir(), test);
    void *buf = read_all(path, len);
    if (!buf)
        print_message("SKIP: %s not found (set ONNXC_BACKEND_TESTS)\n", path);
    return buf;
}

static void test_oom_mlp_load_prepare(void **state) {
    (void)state;
    Job j = {0};
    j.buf = read_all(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &j.len);
    assert_non_null(j.buf);
    fail_each("mlp.onnx load", run_load_prepare, &j);
    j.prepare = 1;
    fail_each("mlp.onnx load+prepare -O2", run_load_prepare, &j);
    free((void *)j.buf);
}

static void test_oom_conv_model(void **state) {
    (void)state;
    Job j = {0};
    if (!(j.buf = backend_model("test_conv_with_strides_padding", &j.len)))
        skip();
    j.prepare = 1;
    fail_each("conv load+prepare -O2", run_load_prepare, &j);
    free((void *)j.buf);
}

static void test_oom_subgraph_model(void **state) {
    (void)state;
    Job j = {0};
    if (!(j.buf = backend_model("test_if", &j.len)))
        skip();
    fail_each("test_if load", run_load_prepare, &j);
    /* prepare too when the If model prepares in this build (ctrl ops may be unsupported) */
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(j.buf, j.len, "if.onnx", NULL, NULL, &d);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    int prepares = m && onnxc_prepare(m, &o, &d) == 0;
    ir_model_destroy(m);
    ir_diag_free(&d);
    if (prepares) {
        j.prepare = 1;
        fail_each("test_if load+prepare -O2", run_load_prepare, &j);
    } else {
        print_message("oom test_if: onnxc_prepare fails in this build; load only\n");
    }
    free((void *)j.buf);
}

/* The IR text of a model file (dump --full). */
static char *ir_text_of(const char *path, size_t *len) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model(path, NULL, &d);
    assert_non_null(m);
    char *text = NULL;
    FILE *f = open_memstream(&text, len);
    assert_non_null(f);
    assert_int_equal(ir_print_model(m, f, 1), 0);
    fclose(f);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return text;
}

static void test_oom_ir_text(void **state) {
    (void)state;
    Job j = {0};
    j.buf = ir_text_of(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &j.len);
    fail_each("mlp IR text parse", run_parse, &j);
    j.prepare = 1;
    fail_each("mlp IR text parse+prepare -O2", run_parse, &j);
    free((void *)j.buf);
}

static void test_oom_tensor_pb(void **state) {
    (void)state;
    Job j = {0};
    j.buf = read_all(ONNXC_SOURCE_DIR "/examples/mlp_data/input_0.pb", &j.len);
    assert_non_null(j.buf);
    fail_each("input_0.pb read", run_tensor, &j);
    free((void *)j.buf);
}

static void emit_all(const char *what, const void *buf, size_t len) {
    char dir[] = "/tmp/onnxc_oom_XXXXXX";
    assert_non_null(mkdtemp(dir));
    Job j = {0};
    j.buf = buf;
    j.len = len;
    j.outdir = dir;
    char name[128];
    j.kind = BE_EMIT_OBJ;
    snprintf(name, sizeof name, "%s emit .o", what);
    fail_each(name, run_emit, &j);
    j.kind = BE_EMIT_SO;
    snprintf(name, sizeof name, "%s emit .so + .h", what);
    fail_each(name, run_emit, &j);
    assert_int_equal(rmdir(dir), 0); /* empty: nothing left behind */
}

static void test_oom_emit(void **state) {
    (void)state;
    size_t len;
    void *buf = read_all(ONNXC_SOURCE_DIR "/examples/mlp.onnx", &len);
    assert_non_null(buf);
    emit_all("mlp", buf, len);
    free(buf);
    if ((buf = backend_model("test_conv_with_strides_padding", &len))) {
        emit_all("conv", buf, len);
        free(buf);
    }
    /* the subgraph model, when it compiles in this build */
    if ((buf = backend_model("test_if", &len))) {
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrModel *m = fe_load_model_buffer(buf, len, "if.onnx", NULL, NULL, &d);
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        o.use_bitcode = 0;
        char dir[] = "/tmp/onnxc_oomif_XXXXXX", out[64];
        assert_non_null(mkdtemp(dir));
        snprintf(out, sizeof out, "%s/if.o", dir);
        int emits = m && onnxc_prepare(m, &o, &d) == 0 &&
                    be_emit(m, &o, BE_EMIT_OBJ, out, NULL, m->workspace_bytes, &d) == 0;
        unlink(out);
        rmdir(dir);
        ir_model_destroy(m);
        ir_diag_free(&d);
        if (emits)
            emit_all("test_if", buf, len);
        else
            print_message("oom test_if: does not compile in this build; emit not tested\n");
        free(buf);
    }
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
        cmocka_unit_test(test_oom_conv_model),
        cmocka_unit_test(test_oom_subgraph_model),
        cmocka_unit_test(test_oom_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
