/* test_backend.c - memory planning (passes/pass_plan.c), LLVM code generation and linking
 * (backend/), the generated header and the model-library API (runtime/api/rt_api.c).
 *
 * Models are built with the ir_* API. The elementwise models are lowered by hand (kernel name
 * and parameter block set directly, as an op's lower hook would) so that these tests depend
 * only on the runtime kernels; one test goes through onnxc_prepare with the shape ops.
 * Expected numbers are computed by hand in the comments next to them.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/be.h"
#include "ir/ir.h"
#include "onnxc/onnxc_model.h"
#include "passes/pass.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------ helpers */

static char g_dir[256]; /* mkdtemp folder of this run */

static void make_path(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", g_dir, name);
}

static IrValue *tensor_value(IrGraph *g, const char *name, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(g->arena, &v->type, IR_DT_FLOAT, rank, dims), 0);
    return v;
}

/* A hand-lowered node: kernel and (elementwise) params set as the lower hook would. */
static IrNode *lowered(IrGraph *g, const char *op, const char *kernel, int nin, IrValue **in,
                       IrValue *out) {
    IrNode *n = ir_node_new(g, NULL, op, "", op, 13, nin, in, 1, &out);
    assert_non_null(n);
    RtEltParams *p = ir_arena_alloc(g->arena, sizeof *p);
    p->b_axis = -1;
    n->kernel = kernel;
    n->params = p;
    n->params_size = sizeof *p;
    return n;
}

/* Model "addrelu": x f32[2,3], b f32[3] = {1, -2, 0.5} (initializer)
 *   t1 = Add(x, b); t2 = Relu(t1); y = Add(t2, t2)
 * outputs: y, t2 (an output that a later node also reads), x (an input), b (a constant),
 *          y again (listed twice). */
static IrModel *build_addrelu(void) {
    IrModel *m = ir_model_create();
    assert_non_null(m);
    m->graph = ir_graph_create(m, NULL, "main");
    IrGraph *g = m->graph;
    int64_t d23[2] = {2, 3}, d3[1] = {3};
    IrValue *x = tensor_value(g, "x", 2, d23);
    IrValue *b = tensor_value(g, "b", 1, d3);
    b->init = ir_tensor_new(g->arena, IR_DT_FLOAT, 1, d3);
    float bv[3] = {1.0f, -2.0f, 0.5f};
    memcpy(b->init->data, bv, sizeof bv);
    assert_int_equal(ir_graph_add_input(g, x), 0);
    assert_int_equal(ir_graph_add_init(g, b), 0);
    IrValue *t1 = tensor_value(g, "t1", 2, d23);
    IrValue *t2 = tensor_value(g, "t2", 2, d23);
    IrValue *y = tensor_value(g, "y", 2, d23);
    lowered(g, "Add", "rt_k_add", 2, (IrValue *[]){x, b}, t1);
    lowered(g, "Relu", "rt_k_relu", 1, (IrValue *[]){t1}, t2);
    lowered(g, "Add", "rt_k_add", 2, (IrValue *[]){t2, t2}, y);
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, t2);
    ir_graph_add_output(g, x);
    ir_graph_add_output(g, b);
    ir_graph_add_output(g, y);
    return m;
}

/* Model "chain": x f32[64,64] -> Relu x5 -> y; four 16 KiB intermediates. */
static IrModel *build_chain(int len) {
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "main");
    IrGraph *g = m->graph;
    int64_t dd[2] = {64, 64};
    IrValue *prev = tensor_value(g, "x", 2, dd);
    ir_graph_add_input(g, prev);
    for (int i = 0; i < len; i++) {
        char nm[16];
        if (i == len - 1)
            snprintf(nm, sizeof nm, "y");
        else
            snprintf(nm, sizeof nm, "t%d", i);
        IrValue *v = tensor_value(g, nm, 2, dd);
        lowered(g, "Relu", "rt_k_relu", 1, &prev, v);
        prev = v;
    }
    ir_graph_add_output(g, prev);
    return m;
}

static void default_opts(OnnxcCompileOptions *o, int bitcode, int opt) {
    memset(o, 0, sizeof *o);
    o->opt_level = opt;
    o->use_bitcode = bitcode;
}

/* Plans and emits m as kind at path; asserts success. */
static void emit_ok(IrModel *m, const OnnxcCompileOptions *o, BeEmitKind kind, const char *path) {
    IrDiag d;
    ir_diag_init(&d, "test");
    int64_t ws = 0, naive = 0;
    assert_int_equal(pass_plan(m->graph, &ws, &naive, &d), 0);
    int rc = be_emit(m, o, kind, path, NULL, ws, &d);
    if (rc != 0)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    ir_diag_free(&d);
}

/* The API of a loaded model library. */
typedef struct Lib {
    void *h;
    const OnnxcModelInfo *(*info)(void);
    int (*create)(OnnxcContext **);
    void (*destroy)(OnnxcContext *);
    int (*run)(OnnxcContext *, const OnnxcTensor *, int32_t, OnnxcTensor *, int32_t);
    const char *(*error)(const OnnxcContext *);
    const char *(*status)(int);
    void *typed_run; /* NAME_run */
    int (*typed_create)(OnnxcContext **);
    const char *(*typed_error)(const OnnxcContext *);
} Lib;

static void lib_open(Lib *l, const char *path, const char *name) {
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
    *(void **)&l->status = dlsym(l->h, "onnxc_status_string");
    char nm[128];
    snprintf(nm, sizeof nm, "%s_run", name);
    l->typed_run = dlsym(l->h, nm);
    snprintf(nm, sizeof nm, "%s_create", name);
    *(void **)&l->typed_create = dlsym(l->h, nm);
    snprintf(nm, sizeof nm, "%s_error", name);
    *(void **)&l->typed_error = dlsym(l->h, nm);
    assert_non_null(l->info);
    assert_non_null(l->create);
    assert_non_null(l->destroy);
    assert_non_null(l->run);
    assert_non_null(l->error);
    assert_non_null(l->status);
    assert_non_null(l->typed_run);
    assert_non_null(l->typed_create);
    assert_non_null(l->typed_error);
    /* Internal symbols must not be exported. */
    assert_null(dlsym(l->h, "onnxc__desc"));
    assert_null(dlsym(l->h, "onnxc__graph"));
    assert_null(dlsym(l->h, "rt_api_run"));
    assert_null(dlsym(l->h, "rt_k_add"));
}

static int count_files(const char *dir) {
    DIR *dp = opendir(dir);
    assert_non_null(dp);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(dp);
    return n;
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ------------------------------------------------------------------ planning */

static void test_plan_chain(void **state) {
    (void)state;
    IrModel *m = build_chain(5);
    IrDiag d;
    ir_diag_init(&d, "chain");
    int64_t ws = -1, naive = -1;
    assert_int_equal(pass_plan(m->graph, &ws, &naive, &d), 0);
    /* 4 intermediates of 64*64*4 = 16384 bytes; each Relu writes over its input, which dies
     * there (in-place plan, docs/PASSES.md): one buffer. */
    assert_int_equal(naive, 4 * 16384);
    assert_int_equal(ws, 16384);
    assert_true(ws < naive);
    IrGraph *g = m->graph;
    IrNode *n = g->first;
    for (; n; n = n->next) {
        IrValue *in = n->in[0], *out = n->out[0];
        if (out->flags & IR_VALUE_OUTPUT) {
            assert_int_equal(out->offset, -1);
            continue;
        }
        assert_int_equal(out->offset % 64, 0);
        if (!(in->flags & IR_VALUE_INPUT)) /* in place exactly, or no overlap */
            assert_true(in->offset == out->offset || in->offset + 16384 <= out->offset ||
                        out->offset + 16384 <= in->offset);
    }
    assert_int_equal(g->inputs[0]->offset, -1);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* Sizes are rounded to 64; a value with no reader lives during its producer only; values
 * produced by a skipped (constant) node are not planned. */
static void test_plan_mixed(void **state) {
    (void)state;
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "main");
    IrGraph *g = m->graph;
    int64_t d10[1] = {10}, d3[1] = {3};
    IrValue *x = tensor_value(g, "x", 1, d10);
    ir_graph_add_input(g, x);
    IrValue *a = tensor_value(g, "a", 1, d10);   /* 40 B -> 64 */
    IrValue *dead = tensor_value(g, "dead", 1, d10); /* never read */
    IrValue *c = tensor_value(g, "c", 1, d3);    /* constant, produced by a skipped node */
    c->init = ir_tensor_new(g->arena, IR_DT_FLOAT, 1, d3);
    IrValue *bb = tensor_value(g, "bb", 1, d10);
    IrValue *y = tensor_value(g, "y", 1, d10);
    lowered(g, "Relu", "rt_k_relu", 1, &x, a);
    lowered(g, "Relu", "rt_k_relu", 1, &a, dead);
    IrNode *k = ir_node_new(g, NULL, "k", "", "Constant", 13, 0, NULL, 1, &c);
    k->kernel = NULL;
    lowered(g, "Relu", "rt_k_relu", 1, &a, bb);
    lowered(g, "Add", "rt_k_add", 2, (IrValue *[]){bb, x}, y);
    ir_graph_add_output(g, y);
    IrDiag d;
    ir_diag_init(&d, "mixed");
    int64_t ws = 0, naive = 0;
    assert_int_equal(pass_plan(g, &ws, &naive, &d), 0);
    assert_int_equal(naive, 3 * 64);  /* a, dead, bb */
    assert_int_equal(c->offset, -1);
    assert_int_equal(y->offset, -1);
    /* a is live over nodes 0..3, dead only at 1, bb from 3 to 4: a dies at node 3, whose Relu
     * writes bb over it (in place); dead overlaps a. */
    assert_true(a->offset != dead->offset && a->offset == bb->offset);
    assert_int_equal(ws, 2 * 64);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ shared library */

static const float k_x[6] = {1, 2, 3, -4, -5, 6};
/* x + b = {2, 0, 3.5, -3, -7, 6.5}; relu = {2, 0, 3.5, 0, 0, 6.5}; y = 2 * relu */
static const float k_t2[6] = {2, 0, 3.5f, 0, 0, 6.5f};
static const float k_y[6] = {4, 0, 7, 0, 0, 13};
static const float k_b[3] = {1, -2, 0.5f};

typedef int (*AddreluRun)(OnnxcContext *, const float *, float *, float *, float *, float *,
                          float *);

static void check_addrelu_lib(const char *so, const char *name) {
    Lib l;
    lib_open(&l, so, name);
    const OnnxcModelInfo *info = l.info();
    assert_int_equal(info->abi_version, ONNXC_ABI_VERSION);
    assert_string_equal(info->name, name);
    assert_int_equal(info->num_inputs, 1); /* b is an initializer, not an input */
    assert_int_equal(info->num_outputs, 5);
    assert_string_equal(info->inputs[0].name, "x");
    assert_int_equal(info->inputs[0].dtype, 1);
    assert_int_equal(info->inputs[0].rank, 2);
    assert_int_equal(info->inputs[0].dims[0], 2);
    assert_int_equal(info->inputs[0].dims[1], 3);
    const char *onames[5] = {"y", "t2", "x", "b", "y"};
    for (int i = 0; i < 5; i++)
        assert_string_equal(info->outputs[i].name, onames[i]);
    assert_int_equal(info->outputs[3].rank, 1);
    assert_int_equal(info->outputs[3].dims[0], 3);
    assert_int_equal(info->weight_bytes, 12);
    assert_true(strncmp(info->producer, "onnxc", 5) == 0);
    /* t1 is the only intermediate: 24 bytes -> 64 */
    assert_int_equal(info->workspace_bytes, 64);

    OnnxcContext *ctx = NULL;
    assert_int_equal(l.create(&ctx), ONNXC_OK);
    assert_non_null(ctx);
    assert_string_equal(l.error(ctx), "");

    /* generic API */
    float x[6], y[6], t2[6], xo[6], bo[3], y2[6];
    memcpy(x, k_x, sizeof x);
    int64_t d23[2] = {2, 3}, d3[1] = {3};
    OnnxcTensor in[1] = {{x, 1, 2, d23}};
    OnnxcTensor out[5] = {{y, 1, 2, d23}, {t2, 1, 2, d23}, {xo, 1, 2, d23}, {bo, 1, 1, d3},
                          {y2, 1, 2, d23}};
    int st = l.run(ctx, in, 1, out, 5);
    if (st)
        fprintf(stderr, "run: %s\n", l.error(ctx));
    assert_int_equal(st, ONNXC_OK);
    assert_memory_equal(y, k_y, sizeof y);
    assert_memory_equal(t2, k_t2, sizeof t2);
    assert_memory_equal(xo, k_x, sizeof xo);
    assert_memory_equal(bo, k_b, sizeof bo);
    assert_memory_equal(y2, k_y, sizeof y2);

    /* typed API */
    memset(y, 0, sizeof y);
    memset(y2, 0, sizeof y2);
    memset(bo, 0, sizeof bo);
    OnnxcContext *tctx = NULL;
    assert_int_equal(l.typed_create(&tctx), ONNXC_OK);
    AddreluRun trun = (AddreluRun)l.typed_run;
    assert_int_equal(trun(tctx, x, y, t2, xo, bo, y2), ONNXC_OK);
    assert_memory_equal(y, k_y, sizeof y);
    assert_memory_equal(y2, k_y, sizeof y2);
    assert_memory_equal(bo, k_b, sizeof bo);
    assert_int_equal(trun(tctx, NULL, y, t2, xo, bo, y2), ONNXC_ERR_INVALID_ARG);
    assert_non_null(strstr(l.typed_error(tctx), "input 'x'"));
    assert_int_equal(trun(NULL, x, y, t2, xo, bo, y2), ONNXC_ERR_INVALID_ARG);
    l.destroy(tctx);

    /* errors of the generic API */
    assert_int_equal(l.run(NULL, in, 1, out, 5), ONNXC_ERR_INVALID_ARG);
    assert_non_null(l.error(NULL));
    assert_int_equal(l.run(ctx, NULL, 1, out, 5), ONNXC_ERR_INVALID_ARG);
    assert_int_equal(l.run(ctx, in, 1, NULL, 5), ONNXC_ERR_INVALID_ARG);
    assert_int_equal(l.run(ctx, in, 2, out, 5), ONNXC_ERR_INVALID_ARG);
    assert_string_equal(l.error(ctx), "expected 1 inputs, got 2");
    assert_int_equal(l.run(ctx, in, 1, out, 4), ONNXC_ERR_INVALID_ARG);
    assert_string_equal(l.error(ctx), "expected 5 outputs, got 4");
    OnnxcTensor bad = in[0];
    bad.dtype = 7;
    assert_int_equal(l.run(ctx, &bad, 1, out, 5), ONNXC_ERR_TYPE);
    assert_string_equal(l.error(ctx), "input 'x': element type is INT64 (7), expected FLOAT (1)");
    int64_t d24[2] = {2, 4};
    bad = in[0];
    bad.dims = d24;
    assert_int_equal(l.run(ctx, &bad, 1, out, 5), ONNXC_ERR_SHAPE);
    assert_string_equal(l.error(ctx), "input 'x': dim 1 is 4, expected 3");
    bad = in[0];
    bad.rank = 1;
    assert_int_equal(l.run(ctx, &bad, 1, out, 5), ONNXC_ERR_SHAPE);
    assert_string_equal(l.error(ctx), "input 'x': rank is 1, expected 2");
    bad = in[0];
    bad.data = NULL;
    assert_int_equal(l.run(ctx, &bad, 1, out, 5), ONNXC_ERR_INVALID_ARG);
    assert_string_equal(l.error(ctx), "input 'x': NULL data pointer");
    OnnxcTensor bado[5];
    memcpy(bado, out, sizeof bado);
    bado[3].dims = (int64_t[]){4};
    assert_int_equal(l.run(ctx, in, 1, bado, 5), ONNXC_ERR_SHAPE);
    assert_string_equal(l.error(ctx), "output 'b': dim 0 is 4, expected 3");
    /* and a good run clears the message */
    assert_int_equal(l.run(ctx, in, 1, out, 5), ONNXC_OK);
    assert_string_equal(l.error(ctx), "");
    assert_string_equal(l.status(ONNXC_ERR_SHAPE), "shape mismatch");
    l.destroy(ctx);
    l.destroy(NULL);
    dlclose(l.h);
}

static void run_addrelu(int bitcode, int opt, const char *file, const char *name) {
    IrModel *m = build_addrelu();
    OnnxcCompileOptions o;
    default_opts(&o, bitcode, opt);
    o.model_name = name;
    char so[512], h[512];
    make_path(so, sizeof so, file);
    emit_ok(m, &o, BE_EMIT_SO, so);
    snprintf(h, sizeof h, "%.*s.h", (int)(strlen(so) - 3), so);
    assert_int_equal(access(h, R_OK), 0);
    check_addrelu_lib(so, name);
    ir_model_destroy(m);
}

static void test_so_no_bitcode(void **state) {
    (void)state;
    run_addrelu(0, 2, "addrelu_nobc.so", "addrelu_nobc");
}

static void test_so_bitcode_o2(void **state) {
    (void)state;
    run_addrelu(1, 2, "addrelu_bc.so", "addrelu_bc");
}

static void test_so_bitcode_o0(void **state) {
    (void)state;
    run_addrelu(1, 0, "addrelu_bc0.so", "addrelu_bc0");
}

/* Model name derived from the output file when none is given, sanitised. */
static void test_model_name_derived(void **state) {
    (void)state;
    IrModel *m = build_chain(2);
    OnnxcCompileOptions o;
    default_opts(&o, 0, 0);
    char so[512];
    make_path(so, sizeof so, "9-my model.so");
    emit_ok(m, &o, BE_EMIT_SO, so);
    Lib l;
    lib_open(&l, so, "m_9_my_model");
    assert_string_equal(l.info()->name, "m_9_my_model");
    dlclose(l.h);
    ir_model_destroy(m);
}

/* A kernel failure stops the graph and its status and message reach the caller: Add of a
 * float and an int64 tensor (hand-lowered, so no type check stopped it) fails in rt_k_add;
 * the Relu after it must not run (its output keeps the caller's sentinel). */
static void test_kernel_failure(void **state) {
    (void)state;
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "main");
    IrGraph *g = m->graph;
    int64_t d2[1] = {2};
    IrValue *x = tensor_value(g, "x", 1, d2);
    IrValue *c = ir_value_new(g, "c");
    ir_type_set_tensor(g->arena, &c->type, IR_DT_INT64, 1, d2);
    c->init = ir_tensor_new(g->arena, IR_DT_INT64, 1, d2);
    ir_graph_add_input(g, x);
    ir_graph_add_init(g, c);
    IrValue *t = tensor_value(g, "t", 1, d2), *y = tensor_value(g, "y", 1, d2);
    lowered(g, "Add", "rt_k_add", 2, (IrValue *[]){x, c}, t);
    lowered(g, "Relu", "rt_k_relu", 1, &t, y);
    ir_graph_add_output(g, y);
    OnnxcCompileOptions o;
    default_opts(&o, 1, 0);
    o.model_name = "kfail";
    char so[512];
    make_path(so, sizeof so, "kfail.so");
    emit_ok(m, &o, BE_EMIT_SO, so);
    Lib l;
    lib_open(&l, so, "kfail");
    OnnxcContext *ctx;
    assert_int_equal(l.create(&ctx), 0);
    float xv[2] = {1, 2}, yv[2] = {-7, -7};
    OnnxcTensor in = {xv, 1, 1, d2}, out = {yv, 1, 1, d2};
    assert_int_equal(l.run(ctx, &in, 1, &out, 1), ONNXC_ERR_TYPE);
    assert_non_null(strstr(l.error(ctx), "Add"));
    assert_true(yv[0] == -7 && yv[1] == -7);
    l.destroy(ctx);
    dlclose(l.h);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ other outputs */

static int64_t file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (int64_t)st.st_size : -1;
}

static void test_emit_kinds(void **state) {
    (void)state;
    IrModel *m = build_addrelu();
    OnnxcCompileOptions o;
    default_opts(&o, 1, 2);
    o.model_name = "kinds";
    char ll[512], s[512], obj[512];
    make_path(ll, sizeof ll, "kinds.ll");
    make_path(s, sizeof s, "kinds.s");
    make_path(obj, sizeof obj, "kinds.o");
    emit_ok(m, &o, BE_EMIT_LLVM, ll);
    emit_ok(m, &o, BE_EMIT_ASM, s);
    emit_ok(m, &o, BE_EMIT_OBJ, obj);
    assert_true(file_size(ll) > 0 && file_size(s) > 0 && file_size(obj) > 0);
    FILE *f = fopen(ll, "r");
    char *buf = calloc(1, (size_t)file_size(ll) + 1);
    assert_int_equal(fread(buf, 1, (size_t)file_size(ll), f), (size_t)file_size(ll));
    fclose(f);
    assert_non_null(strstr(buf, "@onnxc__graph"));
    assert_non_null(strstr(buf, "@onnxc__desc"));
    assert_non_null(strstr(buf, "@kinds_run"));
    /* the bitcode kernels were linked in and internalised */
    assert_null(strstr(buf, "declare i32 @rt_k_add"));
    free(buf);
    f = fopen(obj, "rb");
    unsigned char magic[4];
    assert_int_equal(fread(magic, 1, 4, f), 4);
    fclose(f);
    assert_memory_equal(magic, "\x7f" "ELF", 4);
    ir_model_destroy(m);
}

/* A failed emit leaves no file behind: unwritable folder, and a link failure (after the
 * header and object were written to temporaries). */
static void test_emit_failure_leaves_nothing(void **state) {
    (void)state;
    IrModel *m = build_addrelu();
    OnnxcCompileOptions o;
    default_opts(&o, 0, 0);
    o.model_name = "fail";
    IrDiag d;
    ir_diag_init(&d, "fail");
    int64_t ws = 0, naive = 0;
    assert_int_equal(pass_plan(m->graph, &ws, &naive, &d), 0);
    char sub[512], so[600];
    make_path(sub, sizeof sub, "faildir");
    assert_int_equal(mkdir(sub, 0700), 0);
    /* missing folder */
    snprintf(so, sizeof so, "%s/missing/x.so", sub);
    assert_int_equal(be_emit(m, &o, BE_EMIT_SO, so, NULL, ws, &d), -1);
    assert_true(d.nerrors > 0);
    assert_non_null(strstr(ir_diag_last(&d), "temporary"));
    /* link failure: runtime folder without the libraries */
    snprintf(so, sizeof so, "%s/x.so", sub);
    setenv("ONNXC_RUNTIME_DIR", sub, 1);
    int rc = be_emit(m, &o, BE_EMIT_SO, so, NULL, ws, &d);
    unsetenv("ONNXC_RUNTIME_DIR");
    assert_int_equal(rc, -1);
    assert_non_null(strstr(ir_diag_last(&d), "runtime libraries not found"));
    assert_int_equal(count_files(sub), 0);
    /* bitcode missing */
    o.use_bitcode = 1;
    setenv("ONNXC_RUNTIME_DIR", sub, 1);
    rc = be_emit(m, &o, BE_EMIT_OBJ, so, NULL, ws, &d);
    unsetenv("ONNXC_RUNTIME_DIR");
    assert_int_equal(rc, -1);
    assert_int_equal(count_files(sub), 0);
    /* unwritable folder (permissions do not bind root; skip that part then) */
    if (geteuid() != 0) {
        o.use_bitcode = 0;
        chmod(sub, 0500);
        assert_int_equal(be_emit(m, &o, BE_EMIT_SO, so, NULL, ws, &d), -1);
        chmod(sub, 0700);
        assert_int_equal(count_files(sub), 0);
    }
    rmdir(sub);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* The backend refuses a graph whose intermediates were not planned or whose kernel is unknown. */
static void test_emit_rejects_bad_graph(void **state) {
    (void)state;
    IrModel *m = build_chain(3);
    OnnxcCompileOptions o;
    default_opts(&o, 0, 0);
    IrDiag d;
    ir_diag_init(&d, "bad");
    char so[512];
    make_path(so, sizeof so, "bad.so");
    /* not planned: offsets are -1 */
    assert_int_equal(be_emit(m, &o, BE_EMIT_SO, so, NULL, 0, &d), -1);
    assert_non_null(strstr(ir_diag_last(&d), "not planned"));
    int64_t ws, naive;
    assert_int_equal(pass_plan(m->graph, &ws, &naive, &d), 0);
    m->graph->first->kernel = "rt_k_no_such_kernel";
    assert_int_equal(be_emit(m, &o, BE_EMIT_SO, so, NULL, ws, &d), -1);
    assert_non_null(strstr(ir_diag_last(&d), "rt_k_no_such_kernel"));
    assert_int_equal(access(so, F_OK), -1);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ the generated header */

/* Compiles a program against the generated header alone (no -I to onnxc's include folder) and
 * the library, and runs it: the header is self-contained and its prototypes match. */
static void test_header_compiles(void **state) {
    (void)state;
    IrModel *m = build_addrelu();
    OnnxcCompileOptions o;
    default_opts(&o, 0, 1);
    o.model_name = "hdr";
    char so[512], c[512], exe[512], cmd[4096];
    make_path(so, sizeof so, "libhdr.so");
    make_path(c, sizeof c, "hdr_main.c");
    make_path(exe, sizeof exe, "hdr_main");
    emit_ok(m, &o, BE_EMIT_SO, so);
    FILE *f = fopen(c, "w");
    fputs("#include \"libhdr.h\"\n#include <stdio.h>\n"
          "int main(void) {\n"
          "  OnnxcContext *ctx; float x[6] = {1, 2, 3, -4, -5, 6}, y[6], t2[6], xo[6], b[3], y2[6];\n"
          "  if (hdr_create(&ctx)) return 2;\n"
          "  if (hdr_run(ctx, x, y, t2, xo, b, y2)) { puts(hdr_error(ctx)); return 3; }\n"
          "  const OnnxcModelInfo *mi = onnxc_model_info();\n"
          "  int ok = y[0] == 4 && y[2] == 7 && y[5] == 13 && y2[5] == 13 && b[1] == -2 &&\n"
          "           mi->num_inputs == 1 && mi->num_outputs == 5;\n"
          "  hdr_destroy(ctx);\n  return ok ? 0 : 4;\n}\n", f);
    fclose(f);
    /* The compiler and sanitizer flags of this build (CMakeLists.txt): in the ASan+UBSan build
     * the runtime inside the library is instrumented, so the program must link the same
     * sanitizer runtime. */
    snprintf(cmd, sizeof cmd,
             "'%s' %s -std=c11 -Wall -Wextra -Werror -o '%s' '%s' -I'%s' '%s' -Wl,-rpath,'%s'",
             ONNXC_TEST_CC, ONNXC_TEST_SAN_FLAGS, exe, c, g_dir, so, g_dir);
    assert_int_equal(system(cmd), 0);
    assert_int_equal(system(exe), 0);
    /* the header names the tensors */
    char h[512];
    make_path(h, sizeof h, "libhdr.h");
    f = fopen(h, "r");
    char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    assert_non_null(strstr(buf, "input 0: 'x' FLOAT [2, 3]"));
    assert_non_null(strstr(buf, "output 3: 'b' FLOAT [3]"));
    assert_non_null(strstr(buf, "int hdr_run(OnnxcContext *ctx"));
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ threads */

typedef struct ThreadArg {
    Lib *l;          /* loaded library */
    float out[4096]; /* y of the last run */
    int status;      /* first non-zero status */
} ThreadArg;

static void *thread_main(void *p) {
    ThreadArg *a = p;
    OnnxcContext *ctx = NULL;
    a->status = a->l->create(&ctx);
    if (a->status)
        return NULL;
    int64_t dd[2] = {64, 64};
    for (int it = 0; it < 200 && !a->status; it++) {
        float local_x[4096];
        for (int i = 0; i < 4096; i++)
            local_x[i] = (float)((i * 7 + it) % 23) - 11.0f;
        OnnxcTensor in = {local_x, 1, 2, dd}, out = {a->out, 1, 2, dd};
        a->status = a->l->run(ctx, &in, 1, &out, 1);
    }
    a->l->destroy(ctx);
    return NULL;
}

static void test_two_threads(void **state) {
    (void)state;
    IrModel *m = build_chain(5);
    OnnxcCompileOptions o;
    default_opts(&o, 1, 2);
    o.model_name = "chain";
    char so[512];
    make_path(so, sizeof so, "chain.so");
    emit_ok(m, &o, BE_EMIT_SO, so);
    Lib l;
    lib_open(&l, so, "chain");
    assert_int_equal(l.info()->workspace_bytes, 16384); /* in place: one buffer */
    ThreadArg *a = calloc(2, sizeof *a);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        a[i].l = &l;
        assert_int_equal(pthread_create(&th[i], NULL, thread_main, &a[i]), 0);
    }
    for (int i = 0; i < 2; i++)
        pthread_join(th[i], NULL);
    assert_int_equal(a[0].status, 0);
    assert_int_equal(a[1].status, 0);
    assert_memory_equal(a[0].out, a[1].out, sizeof a[0].out);
    /* last iteration it = 199: y = relu(x) */
    for (int i = 0; i < 4096; i++) {
        float x = (float)((i * 7 + 199) % 23) - 11.0f;
        assert_true(a[0].out[i] == (x > 0 ? x : 0));
    }
    free(a);
    dlclose(l.h);
    ir_model_destroy(m);
}

/* be_emit itself may run in several threads at once (own LLVM context per emission). */
typedef struct EmitArg {
    IrModel *m;     /* model to compile (one per thread) */
    char path[512]; /* output .so */
    int rc;         /* be_emit's result */
} EmitArg;

static void *emit_main(void *p) {
    EmitArg *a = p;
    OnnxcCompileOptions o;
    default_opts(&o, 1, 1);
    o.model_name = "par";
    IrDiag d;
    ir_diag_init(&d, "par");
    int64_t ws = 0, naive = 0;
    a->rc = pass_plan(a->m->graph, &ws, &naive, &d);
    if (a->rc == 0)
        a->rc = be_emit(a->m, &o, BE_EMIT_SO, a->path, NULL, ws, &d);
    ir_diag_free(&d);
    return NULL;
}

static void test_parallel_emit(void **state) {
    (void)state;
    EmitArg a[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        a[i].m = build_addrelu();
        char nm[32];
        snprintf(nm, sizeof nm, "par%d.so", i);
        make_path(a[i].path, sizeof a[i].path, nm);
        assert_int_equal(pthread_create(&th[i], NULL, emit_main, &a[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(a[i].rc, 0);
    }
    for (int i = 0; i < 2; i++) {
        check_addrelu_lib(a[i].path, "par");
        ir_model_destroy(a[i].m);
    }
}

/* ------------------------------------------------------------------ through onnxc_prepare */

/* x f32[2,3] -> Transpose -> Identity -> y f32[3,2]; x = [[1,2,3],[4,5,6]] gives
 * y = [[1,4],[2,5],[3,6]]. */
static void test_prepare_transpose(void **state) {
    (void)state;
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "main");
    IrGraph *g = m->graph;
    int64_t d23[2] = {2, 3};
    IrValue *x = tensor_value(g, "x", 2, d23);
    ir_graph_add_input(g, x);
    IrValue *t = ir_value_new(g, "t"), *y = ir_value_new(g, "y");
    ir_node_new(g, NULL, "tr", "", "Transpose", 13, 1, &x, 1, &t);
    ir_node_new(g, NULL, "id", "", "Identity", 13, 1, &t, 1, &y);
    ir_graph_add_output(g, y);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.model_name = "tr";
    IrDiag d;
    ir_diag_init(&d, "transpose");
    int rc = onnxc_prepare(m, &o, &d);
    if (rc)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    char so[512];
    make_path(so, sizeof so, "tr.so");
    assert_int_equal(be_emit(m, &o, BE_EMIT_SO, so, NULL, m->workspace_bytes, &d), 0);
    Lib l;
    lib_open(&l, so, "tr");
    assert_int_equal(l.info()->outputs[0].dims[0], 3);
    assert_int_equal(l.info()->outputs[0].dims[1], 2);
    float xv[6] = {1, 2, 3, 4, 5, 6}, yv[6] = {0};
    float want[6] = {1, 4, 2, 5, 3, 6};
    OnnxcContext *ctx;
    assert_int_equal(l.typed_create(&ctx), 0);
    assert_int_equal(((int (*)(OnnxcContext *, const float *, float *))l.typed_run)(ctx, xv, yv), 0);
    assert_memory_equal(yv, want, sizeof want);
    l.destroy(ctx);
    dlclose(l.h);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ compile time */

/* Not an assertion of speed: prints how long be_emit takes for the small addrelu model, for
 * docs/BACKEND.md. The first bitcode compile includes reading the bitcode file. */
static void test_emit_timing(void **state) {
    (void)state;
    IrModel *m = build_addrelu();
    int64_t ws, naive;
    IrDiag d;
    ir_diag_init(&d, "timing");
    assert_int_equal(pass_plan(m->graph, &ws, &naive, &d), 0);
    char so[512];
    make_path(so, sizeof so, "timing.so");
    for (int bc = 0; bc <= 1; bc++) {
        for (int opt = 0; opt <= 2; opt += 2) {
            OnnxcCompileOptions o;
            default_opts(&o, bc, opt);
            o.model_name = "timing";
            for (int kind = 0; kind < 2; kind++) {
                BeEmitKind k = kind ? BE_EMIT_SO : BE_EMIT_OBJ;
                double best = 1e9;
                for (int rep = 0; rep < 1; rep++) {
                    double t0 = now_ms();
                    assert_int_equal(be_emit(m, &o, k, so, NULL, ws, &d), 0);
                    double t = now_ms() - t0;
                    if (t < best)
                        best = t;
                }
                printf("[ timing ] be_emit %s bitcode=%d O%d: %.1f ms (wall clock, one run)\n",
                       kind ? ".so" : ".o ", bc, opt, best);
            }
        }
    }
    ir_diag_free(&d);
    ir_model_destroy(m);
}

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/onnxc_test_backend_XXXXXX");
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
        cmocka_unit_test(test_plan_chain),
        cmocka_unit_test(test_plan_mixed),
        cmocka_unit_test(test_so_no_bitcode),
        cmocka_unit_test(test_so_bitcode_o2),
        cmocka_unit_test(test_so_bitcode_o0),
        cmocka_unit_test(test_model_name_derived),
        cmocka_unit_test(test_kernel_failure),
        cmocka_unit_test(test_emit_kinds),
        cmocka_unit_test(test_emit_failure_leaves_nothing),
        cmocka_unit_test(test_emit_rejects_bad_graph),
        cmocka_unit_test(test_header_compiles),
        cmocka_unit_test(test_two_threads),
        cmocka_unit_test(test_parallel_emit),
        cmocka_unit_test(test_prepare_transpose),
        cmocka_unit_test(test_emit_timing),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
