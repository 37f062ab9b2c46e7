/* test_atomic.c - every file onnxc writes appears complete or not at all (docs/HARDENING.md,
 * "Files").
 *
 * Outputs are written under a temporary name in the target's folder and renamed when complete:
 * be_emit (.so + .h, .o, .ll, .s; backend/be_llvm.c with be_tmp_create/be_tmp_commit),
 * `onnxc compile --emit=ir -o F` (tools/onnxc.c), `onnxc optimize -o F.onnx` and .pb outputs
 * (frontend, fe_write_model / fe_write_tensor_pb). Here compiles are made to fail late - the
 * linker fails after the header and the object were written (ONNXC_CC=false), the runtime
 * folder is missing, prepare fails - and the output folder must then hold nothing: no output,
 * no temporary file; an existing output is left as it was. The successful runs leave exactly
 * the outputs. A compile killed by SIGTERM during the link removes its temporary files. The
 * driver is run as a child (ONNXC_BINARY_DIR/onnxc).
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
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

#include "backend/be.h"
#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"

#define DRIVER ONNXC_BINARY_DIR "/onnxc"
#define MLP ONNXC_SOURCE_DIR "/examples/mlp.onnx"

static char g_dir[64];

/* Names in g_dir joined by spaces into buf (sorted order not needed: counts are compared). */
static int list_dir(char *buf, size_t cap) {
    DIR *dp = opendir(g_dir);
    assert_non_null(dp);
    int n = 0;
    size_t k = 0;
    buf[0] = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        if (k < cap)
            k += (size_t)snprintf(buf + k, cap - k, "%s ", e->d_name);
    }
    closedir(dp);
    return n;
}

static void expect_empty(const char *why) {
    char names[2048];
    if (list_dir(names, sizeof names) != 0)
        fail_msg("%s: files left behind in %s: %s", why, g_dir, names);
}

static void clean_dir(void) {
    DIR *dp = opendir(g_dir);
    assert_non_null(dp);
    struct dirent *e;
    char p[512];
    while ((e = readdir(dp))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", g_dir, e->d_name);
        unlink(p);
    }
    closedir(dp);
}

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/onnxc_atomic_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    clean_dir();
    return rmdir(g_dir);
}

static IrModel *prepared_mlp(IrDiag *d, OnnxcCompileOptions *o) {
    onnxc_options_default(o);
    o->use_bitcode = 0;
    o->model_name = "mlp";
    IrModel *m = fe_load_model(MLP, NULL, d);
    assert_non_null(m);
    assert_int_equal(onnxc_prepare(m, o, d), 0);
    return m;
}

/* Runs a shell command (test code only); returns its exit status. */
static int sh(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* be_emit .so fails in the link step, after the header and the object were written to their
 * temporary names: nothing may remain. */
static void test_link_failure_leaves_nothing(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, NULL);
    OnnxcCompileOptions o;
    IrModel *m = prepared_mlp(&d, &o);
    char out[256];
    snprintf(out, sizeof out, "%s/libmlp.so", g_dir);
    setenv("ONNXC_CC", "false", 1);
    int rc = be_emit(m, &o, BE_EMIT_SO, out, NULL, m->workspace_bytes, &d);
    unsetenv("ONNXC_CC");
    assert_int_equal(rc, -1);
    assert_true(d.nerrors > 0);
    assert_non_null(strstr(ir_diag_last(&d), "linking"));
    expect_empty("link failure");

    /* runtime folder missing: fails after the header's temporary file exists */
    setenv("ONNXC_RUNTIME_DIR", "/nonexistent/onnxc", 1);
    rc = be_emit(m, &o, BE_EMIT_SO, out, NULL, m->workspace_bytes, &d);
    unsetenv("ONNXC_RUNTIME_DIR");
    assert_int_equal(rc, -1);
    expect_empty("missing runtime");

    /* an existing output survives a failed compile unchanged */
    FILE *f = fopen(out, "w");
    assert_non_null(f);
    fputs("old library", f);
    fclose(f);
    setenv("ONNXC_CC", "false", 1);
    rc = be_emit(m, &o, BE_EMIT_SO, out, NULL, m->workspace_bytes, &d);
    unsetenv("ONNXC_CC");
    assert_int_equal(rc, -1);
    char buf[64] = "";
    f = fopen(out, "r");
    assert_non_null(f);
    assert_non_null(fgets(buf, sizeof buf, f));
    fclose(f);
    assert_string_equal(buf, "old library");
    char names[512];
    assert_int_equal(list_dir(names, sizeof names), 1);
    clean_dir();

    /* and the successful runs leave exactly their outputs */
    static const struct { BeEmitKind kind; const char *name; int files; } k[] = {
        {BE_EMIT_SO, "libmlp.so", 2}, {BE_EMIT_OBJ, "mlp.o", 1}, {BE_EMIT_ASM, "mlp.s", 1},
        {BE_EMIT_LLVM, "mlp.ll", 1}};
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        snprintf(out, sizeof out, "%s/%s", g_dir, k[i].name);
        assert_int_equal(be_emit(m, &o, k[i].kind, out, NULL, m->workspace_bytes, &d), 0);
        assert_int_equal(access(out, R_OK), 0);
        assert_int_equal(list_dir(names, sizeof names), k[i].files);
        struct stat st;
        assert_int_equal(stat(out, &st), 0);
        assert_true(st.st_size > 0);
        clean_dir();
    }
    ir_model_destroy(m);
    ir_diag_free(&d);
}

/* .o/.ll/.s/.so when the allocation of each temporary name or of the code generator fails
 * (fault injection): failures leave nothing. */
static void test_emit_faults_leave_nothing(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, NULL);
    OnnxcCompileOptions o;
    IrModel *m = prepared_mlp(&d, &o);
    char out[256];
    static const BeEmitKind kinds[] = {BE_EMIT_LLVM, BE_EMIT_ASM};
    for (size_t i = 0; i < 2; i++) {
        snprintf(out, sizeof out, "%s/mlp.%s", g_dir, kinds[i] == BE_EMIT_LLVM ? "ll" : "s");
        ir_fault_set(0x7fffffffL);
        assert_int_equal(be_emit(m, &o, kinds[i], out, NULL, m->workspace_bytes, &d), 0);
        long total = ir_fault_count();
        ir_fault_set(0);
        clean_dir();
        for (long n = 1; n <= total; n++) {
            IrDiag e;
            ir_diag_init(&e, NULL);
            ir_fault_set(n);
            int rc = be_emit(m, &o, kinds[i], out, NULL, m->workspace_bytes, &e);
            ir_fault_set(0);
            if (rc == 0) {
                clean_dir();
            } else {
                assert_true(e.nerrors > 0);
                expect_empty("emit with a failed allocation");
            }
            ir_diag_free(&e);
        }
    }
    ir_model_destroy(m);
    ir_diag_free(&d);
}

/* The driver: compile (so, ir), optimize. */
static void test_driver_outputs(void **state) {
    (void)state;
    if (access(DRIVER, X_OK) != 0) {
        print_message("SKIP: %s not built\n", DRIVER);
        skip();
    }
    char cmd[1024], names[1024];
    /* link fails late */
    snprintf(cmd, sizeof cmd, "ONNXC_CC=false %s compile %s --no-bitcode -o %s/libmlp.so "
             ">/dev/null 2>&1", DRIVER, MLP, g_dir);
    assert_int_equal(sh(cmd), 1);
    expect_empty("onnxc compile with a failing linker");

    /* a model that fails in prepare: no .ir, .so or .onnx */
    char bad[256];
    snprintf(bad, sizeof bad, "%s/../bad.ir", g_dir);
    FILE *f = fopen(bad, "w");
    assert_non_null(f);
    fputs("onnxc-ir 1\nir_version 7\nproducer \"\" \"\"\ndomain \"\"\nmodel_version 0\n"
          "opset \"\" 17\ngraph \"g\" {\n  input %x : f32[2]\n"
          "  %y = NoSuchOp(%x) {} : ?  # node \"n\", opset 17\n  output %y : ?\n}\n", f);
    fclose(f);
    static const char *const forms[] = {
        "compile %s --emit=ir -o %s/out.ir", "compile %s -o %s/libout.so",
        "optimize %s -o %s/out.onnx"};
    for (int i = 0; i < 3; i++) {
        char args[600];
        snprintf(args, sizeof args, forms[i], bad, g_dir);
        snprintf(cmd, sizeof cmd, "%s %s >/dev/null 2>&1", DRIVER, args);
        assert_int_equal(sh(cmd), 1);
        expect_empty(args);
    }
    unlink(bad);

    /* successes: exactly the outputs */
    snprintf(cmd, sizeof cmd, "%s compile %s --emit=ir -o %s/mlp.ir >/dev/null 2>&1", DRIVER, MLP,
             g_dir);
    assert_int_equal(sh(cmd), 0);
    assert_int_equal(list_dir(names, sizeof names), 1);
    assert_non_null(strstr(names, "mlp.ir "));
    clean_dir();
    snprintf(cmd, sizeof cmd, "%s optimize %s -o %s/mlp.onnx >/dev/null 2>&1", DRIVER, MLP, g_dir);
    assert_int_equal(sh(cmd), 0);
    assert_int_equal(list_dir(names, sizeof names), 1);
    assert_non_null(strstr(names, "mlp.onnx "));
    clean_dir();
}

/* fe_write_model (onnxc optimize) with each of its allocations failed: no file, no temp. */
static void test_write_model_faults(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model(MLP, NULL, &d);
    assert_non_null(m);
    char out[256];
    snprintf(out, sizeof out, "%s/mlp.onnx", g_dir);
    ir_fault_set(0x7fffffffL);
    assert_int_equal(fe_write_model(m, out, &d), 0);
    long total = ir_fault_count();
    ir_fault_set(0);
    clean_dir();
    int failed = 0;
    for (long n = 1; n <= total; n++) {
        IrDiag e;
        ir_diag_init(&e, NULL);
        ir_fault_set(n);
        int rc = fe_write_model(m, out, &e);
        ir_fault_set(0);
        if (rc == 0) {
            clean_dir();
        } else {
            failed++;
            assert_true(e.nerrors > 0);
            expect_empty("fe_write_model with a failed allocation");
        }
        ir_diag_free(&e);
    }
    print_message("atomic: fe_write_model: %ld allocations, %d failures left no file\n", total,
                  failed);
    ir_model_destroy(m);
    ir_diag_free(&d);
}

/* An interrupted compile: SIGTERM while the linker runs (ONNXC_CC is a script that sleeps, so
 * the header, the object and the version script exist under their temporary names). The
 * driver's handler removes them before dying: the folder ends empty. */
static void test_interrupted_compile(void **state) {
    (void)state;
    if (access(DRIVER, X_OK) != 0) {
        print_message("SKIP: %s not built\n", DRIVER);
        skip();
    }
    char script[128], out[128], names[1024];
    snprintf(script, sizeof script, "%s.slowcc", g_dir); /* outside the output folder */
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs("#!/bin/sh\nexec sleep 3\n", f);
    fclose(f);
    assert_int_equal(chmod(script, 0755), 0);
    snprintf(out, sizeof out, "%s/libmlp.so", g_dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        setenv("ONNXC_CC", script, 1);
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        dup2(null, 2);
        execl(DRIVER, DRIVER, "compile", MLP, "--no-bitcode", "-o", out, (char *)NULL);
        _exit(127);
    }
    /* wait until the link step has begun: the version script (.map) exists */
    int seen = 0;
    for (int i = 0; i < 3000 && !seen; i++) {
        list_dir(names, sizeof names);
        seen = strstr(names, ".map ") != NULL;
        if (!seen)
            usleep(10000);
    }
    assert_true(seen);
    assert_true(strstr(names, ".h ") != NULL); /* the header's temporary is there too */
    assert_int_equal(kill(pid, SIGTERM), 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM);
    expect_empty("compile interrupted by SIGTERM");
    unlink(script);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_failure_leaves_nothing),
        cmocka_unit_test(test_emit_faults_leave_nothing),
        cmocka_unit_test(test_driver_outputs),
        cmocka_unit_test(test_write_model_faults),
        cmocka_unit_test(test_interrupted_compile),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
