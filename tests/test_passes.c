/* test_passes.c - the pass manager (passes/pass_manager.c) and the optimisation passes (fold,
 * dce, cse, simplify, bn_fold, matmul_add).
 *
 * Each pass test builds a small model with the ir_* API twice: once compiled at -O0 (no
 * passes) and once at -O2 (the full pipeline, or a chosen pipeline). It checks the node list
 * after the passes (op types in order, fused names, graph output names) and that both compiled
 * libraries give the same outputs on the same pseudo-random inputs (rtol 1e-5, atol 1e-6: the
 * folds of bn_fold round once in double, so the values differ in the last bits).
 * The instrument tests capture the manager's text through OnnxcCompileOptions.pass_out, and
 * register a deliberately broken pass to check that verify-each stops it. When the ONNX backend
 * test data is present, a few of its models are also compiled at -O0 and -O2 and compared.
 * test_optimize_portable: what `onnxc optimize -O3` writes (portable passes, fe_write_model) for
 * the benchmark models and a few backend-test models has only standard ops at the original's
 * opsets; tests/optimize_check.py runs onnx.checker (full_check) on it and tests/optimize_ort.js
 * runs original and optimized with onnxruntime-node and compares the outputs (each part skipped
 * with a message when python3-onnx, node or onnxruntime-node is missing).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "backend/be.h"
#include "frontend/fe.h"
#include "ir/ir.h"
#include "ops/op.h"
#include "ops/op_fused.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"
#include "tools/harness.h"

/* ------------------------------------------------------------------ model building */

static char g_dir[256]; /* mkdtemp folder of this run */
static int g_seq;       /* numbering of compiled libraries */

static IrModel *new_model(void) {
    IrModel *m = ir_model_create();
    assert_non_null(m);
    m->ir_version = 8;
    m->nopsets = 1;
    m->opsets = ir_arena_alloc(m->arena, sizeof *m->opsets);
    m->opsets[0].domain = "";
    m->opsets[0].version = 13;
    m->graph = ir_graph_create(m, NULL, "main");
    assert_non_null(m->graph);
    return m;
}

static IrValue *input(IrGraph *g, const char *name, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(g->arena, &v->type, IR_DT_FLOAT, rank, dims), 0);
    assert_int_equal(ir_graph_add_input(g, v), 0);
    return v;
}

/* An initializer of floats (data may be NULL: 0.1*i - 0.3*(i%3) pattern). */
static IrValue *init_f(IrGraph *g, const char *name, int rank, const int64_t *dims, const float *data) {
    IrValue *v = ir_value_new(g, name);
    assert_non_null(v);
    v->init = ir_tensor_new(g->arena, IR_DT_FLOAT, rank, dims);
    assert_non_null(v->init);
    float *p = v->init->data;
    for (int64_t i = 0; i < v->init->numel; i++)
        p[i] = data ? data[i] : (float)(0.1 * (double)(i % 17) - 0.3 * (double)(i % 3) + 0.05);
    assert_int_equal(ir_type_set_tensor(g->arena, &v->type, IR_DT_FLOAT, rank, dims), 0);
    assert_int_equal(ir_graph_add_init(g, v), 0);
    return v;
}

static IrValue *init_i64(IrGraph *g, const char *name, int64_t n, const int64_t *data) {
    IrValue *v = ir_value_new(g, name);
    v->init = ir_tensor_new(g->arena, IR_DT_INT64, 1, &n);
    memcpy(v->init->data, data, (size_t)n * sizeof(int64_t));
    assert_int_equal(ir_type_set_tensor(g->arena, &v->type, IR_DT_INT64, 1, &n), 0);
    assert_int_equal(ir_graph_add_init(g, v), 0);
    return v;
}

/* Node with one output value named `out` (created); returns the output value. */
static IrValue *op1(IrGraph *g, const char *op, const char *name, int nin, IrValue **in,
                    const char *out, IrNode **node) {
    IrValue *o = ir_value_new(g, out);
    assert_non_null(o);
    IrNode *n = ir_node_new(g, NULL, name, "", op, 13, nin, in, 1, &o);
    assert_non_null(n);
    if (node)
        *node = n;
    return o;
}

static void attr_ints(IrNode *n, const char *name, int k, const int64_t *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INTS);
    a->ints = ir_arena_memdup(n->graph->arena, v, (size_t)k * sizeof(int64_t));
    a->n = k;
}

static void attr_int(IrNode *n, const char *name, int64_t v) {
    ir_node_add_attr(n, name, IR_ATTR_INT)->i = v;
}

/* "Op1,Op2,..." of the live nodes, in order. */
static void node_list(const IrGraph *g, char *buf, size_t cap) {
    buf[0] = 0;
    size_t k = 0;
    for (const IrNode *n = g->first; n && k < cap; n = n->next)
        k += (size_t)snprintf(buf + k, cap - k, "%s%s", k ? "," : "", n->op_type);
}

static const IrNode *find_node(const IrGraph *g, const char *op) {
    for (const IrNode *n = g->first; n; n = n->next)
        if (strcmp(n->op_type, op) == 0)
            return n;
    return NULL;
}

/* ------------------------------------------------------------------ compile and run */

static void opts(OnnxcCompileOptions *o, int level) {
    onnxc_options_default(o);
    o->opt_level = level;
    o->use_bitcode = 0; /* the runtime library's kernels: fast compiles */
    o->model_name = "pm";
}

/* Runs onnxc_prepare; asserts success. */
static void prepare_ok(IrModel *m, const OnnxcCompileOptions *o) {
    IrDiag d;
    ir_diag_init(&d, "test");
    int rc = onnxc_prepare(m, o, &d);
    if (rc != 0)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    ir_diag_free(&d);
}

/* Emits a prepared model as a library and loads it. */
static HarnessModel *load(IrModel *m, const OnnxcCompileOptions *o) {
    IrDiag d;
    ir_diag_init(&d, "test");
    char so[400];
    snprintf(so, sizeof so, "%s/m%d.so", g_dir, g_seq++);
    int rc = be_emit(m, o, BE_EMIT_SO, so, NULL, m->workspace_bytes, &d);
    if (rc != 0)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    HarnessModel *h = harness_open(so, NULL, &d);
    if (!h)
        ir_diag_print(&d, stderr);
    assert_non_null(h);
    ir_diag_free(&d);
    return h;
}

/* Deterministic inputs for a library's inputs. */
static void make_inputs(const OnnxcModelInfo *info, IrArena *a, IrTensor **ins) {
    uint32_t s = 12345u;
    for (int i = 0; i < info->num_inputs; i++) {
        const OnnxcTensorInfo *t = &info->inputs[i];
        ins[i] = ir_tensor_new(a, (IrDType)t->dtype, t->rank, t->dims);
        assert_non_null(ins[i]);
        assert_int_equal(t->dtype, IR_DT_FLOAT);
        float *p = ins[i]->data;
        for (int64_t k = 0; k < ins[i]->numel; k++) {
            s = s * 1664525u + 1013904223u;
            p[k] = (float)((double)(s >> 8) / (double)(1u << 24) * 4.0 - 2.0);
        }
    }
}

/* Runs h on the deterministic inputs; outputs in arena a. */
static int run(HarnessModel *h, IrArena *a, IrTensor **outs) {
    const OnnxcModelInfo *info = harness_info(h);
    IrTensor *ins[16];
    assert_true(info->num_inputs <= 16 && info->num_outputs <= 16);
    make_inputs(info, a, ins);
    IrDiag d;
    ir_diag_init(&d, "test");
    int rc = harness_run(h, ins, info->num_inputs, a, outs, &d);
    if (rc != 0)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, 0);
    ir_diag_free(&d);
    return info->num_outputs;
}

typedef IrModel *(*BuildFn)(void);

/* Builds the model twice, compiles it at -O0 and with `o2` (NULL: -O2), checks the node list
 * after the passes and that the outputs agree. Returns nothing; `after` receives the optimised
 * model (caller destroys) when non-NULL. */
static void check_equiv(BuildFn build, const OnnxcCompileOptions *o2, const char *expect_nodes,
                        IrModel **after) {
    OnnxcCompileOptions o0, oo;
    opts(&o0, 0);
    if (o2)
        oo = *o2;
    else
        opts(&oo, 2);
    IrModel *m0 = build(), *m2 = build();
    prepare_ok(m0, &o0);
    prepare_ok(m2, &oo);
    char buf[512];
    node_list(m2->graph, buf, sizeof buf);
    if (expect_nodes)
        assert_string_equal(buf, expect_nodes);
    {
        IrDiag d;
        ir_diag_init(&d, "test");
        int verrs = ir_verify(m2->graph, &d);
        if (verrs)
            ir_diag_print(&d, stderr);
        assert_int_equal(verrs, 0);
        ir_diag_free(&d);
    }
    /* graph output names are the model's */
    assert_int_equal(m0->graph->noutputs, m2->graph->noutputs);
    for (int i = 0; i < m0->graph->noutputs; i++)
        assert_string_equal(m0->graph->outputs[i]->name, m2->graph->outputs[i]->name);
    HarnessModel *h0 = load(m0, &o0), *h2 = load(m2, &oo);
    IrArena *a = ir_arena_create();
    IrTensor *out0[16], *out2[16];
    int n0 = run(h0, a, out0), n2 = run(h2, a, out2);
    assert_int_equal(n0, n2);
    for (int i = 0; i < n0; i++) {
        double mabs = 0, mrel = 0;
        int ok = harness_compare(out2[i], out0[i], 1e-5, 1e-6, &mabs, &mrel);
        if (!ok)
            fprintf(stderr, "output %d: max abs %g, max rel %g\n", i, mabs, mrel);
        assert_true(ok);
    }
    ir_arena_destroy(a);
    harness_close(h0);
    harness_close(h2);
    ir_model_destroy(m0);
    if (after)
        *after = m2;
    else
        ir_model_destroy(m2);
}

/* ------------------------------------------------------------------ fold */

/* x[2,3]; k = Constant [3]; s = Add(c1, k) (constant); s2 = Mul(s, s); y = Add(x, s2) */
static IrModel *build_fold(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d23[2] = {2, 3}, d3[1] = {3};
    IrValue *x = input(g, "x", 2, d23);
    IrValue *c1 = init_f(g, "c1", 1, d3, (const float[]){1, 2, 3});
    IrValue *k = ir_value_new(g, "k");
    IrNode *cn = ir_node_new(g, NULL, "const_k", "", "Constant", 13, 0, NULL, 1, &k);
    IrAttr *at = ir_node_add_attr(cn, "value", IR_ATTR_TENSOR);
    at->t = ir_tensor_new(g->arena, IR_DT_FLOAT, 1, d3);
    memcpy(at->t->data, (const float[]){0.5f, -1.0f, 2.0f}, 3 * sizeof(float));
    IrValue *s = op1(g, "Add", "add_c", 2, (IrValue *[]){c1, k}, "s", NULL);
    IrValue *s2 = op1(g, "Mul", "sq", 2, (IrValue *[]){s, s}, "s2", NULL);
    IrValue *y = op1(g, "Add", "add_x", 2, (IrValue *[]){x, s2}, "y", NULL);
    ir_graph_add_output(g, y);
    return m;
}

static void test_fold(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    OnnxcCompileOptions o;
    opts(&o, 1); /* -O1: fold, dce */
    check_equiv(build_fold, &o, "Add", &m2);
    IrValue *s2 = ir_graph_find_value(m2->graph, "s2");
    assert_non_null(s2);
    assert_non_null(s2->init);
    const float *p = s2->init->data;
    /* (1+0.5)^2, (2-1)^2, (3+2)^2 */
    assert_true(p[0] == 2.25f && p[1] == 1.0f && p[2] == 25.0f);
    assert_null(s2->producer);
    /* the folded intermediates s and k are gone, and so is c1 (no longer read) */
    assert_null(ir_graph_find_value(m2->graph, "s")->init);
    assert_int_equal(m2->graph->ninits, 0);
    ir_model_destroy(m2);
}

/* Folding refuses outputs over the cap and leaves a failing kernel alone. */
static void test_fold_cap(void **state) {
    (void)state;
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d1[1] = {1};
    IrValue *x = input(g, "x", 1, d1);
    IrValue *c = init_f(g, "c", 1, d1, (const float[]){3});
    IrValue *t = op1(g, "Neg", "neg", 1, &c, "t", NULL);
    IrValue *y = op1(g, "Add", "add", 2, (IrValue *[]){x, t}, "y", NULL);
    ir_graph_add_output(g, y);
    IrDiag d;
    ir_diag_init(&d, "test");
    assert_int_equal(pass_infer(g, &d), 0);
    PassCtx cx;
    pm_ctx_init(&cx, NULL, &d);
    cx.fold_cap_bytes = 2; /* a float is 4 bytes: nothing may be folded */
    assert_int_equal(pm_run_pipeline(m, &cx, "fold"), 0);
    assert_int_equal(g->nnodes, 2);
    cx.fold_cap_bytes = 64 << 20;
    assert_int_equal(pm_run_pipeline(m, &cx, "fold"), 1);
    assert_int_equal(g->nnodes, 1);
    assert_true(((const float *)t->init->data)[0] == -3.0f);
    assert_int_equal(pm_rule_count(&cx, "fold.evaluated"), 1);
    pm_ctx_free(&cx);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ dce */

/* x -> Relu -> y; x -> Neg -> n (unused) -> Exp -> e (unused); unused initializer w */
static IrModel *build_dce(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d4[1] = {4};
    IrValue *x = input(g, "x", 1, d4);
    init_f(g, "w", 1, d4, NULL);
    IrValue *y = op1(g, "Relu", "relu", 1, &x, "y", NULL);
    IrValue *n = op1(g, "Neg", "neg", 1, &x, "n", NULL);
    op1(g, "Exp", "exp", 1, &n, "e", NULL);
    ir_graph_add_output(g, y);
    return m;
}

static void test_dce(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    OnnxcCompileOptions o;
    opts(&o, 2);
    o.passes = "dce";
    check_equiv(build_dce, &o, "Relu", &m2);
    assert_int_equal(m2->graph->ninits, 0);
    assert_int_equal(m2->graph->ninputs, 1); /* inputs are never removed */
    ir_model_destroy(m2);
}

/* ------------------------------------------------------------------ cse */

/* a = Relu(x), b = Relu(x), p = Mul(a, w), q = Mul(b, w), y = Add(p, q), z = Relu(x) (output) */
static IrModel *build_cse(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d23[2] = {2, 3}, d3[1] = {3};
    IrValue *x = input(g, "x", 2, d23);
    IrValue *w = init_f(g, "w", 1, d3, NULL);
    IrValue *a = op1(g, "Relu", "r1", 1, &x, "a", NULL);
    IrValue *b = op1(g, "Relu", "r2", 1, &x, "b", NULL);
    IrValue *p = op1(g, "Mul", "m1", 2, (IrValue *[]){a, w}, "p", NULL);
    IrValue *q = op1(g, "Mul", "m2", 2, (IrValue *[]){b, w}, "q", NULL);
    IrValue *y = op1(g, "Add", "add", 2, (IrValue *[]){p, q}, "y", NULL);
    IrValue *z = op1(g, "Relu", "r3", 1, &x, "z", NULL);
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, z);
    return m;
}

static void test_cse(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    OnnxcCompileOptions o;
    opts(&o, 2);
    o.passes = "cse,dce";
    /* r2, m2 merge into r1, m1; r3 merges too, and r1 then writes the output z */
    check_equiv(build_cse, &o, "Relu,Mul,Add", &m2);
    const IrNode *add = find_node(m2->graph, "Add");
    assert_ptr_equal(add->in[0], add->in[1]);
    assert_string_equal(m2->graph->outputs[1]->name, "z");
    assert_string_equal(m2->graph->outputs[1]->producer->name, "r1");
    ir_model_destroy(m2);
}

/* ------------------------------------------------------------------ simplify */

/* x[2,3,4] -> Identity -> Transpose(1,0,2) -> Transpose(1,0,2) -> Mul(., ones[4]) -> Cast(f32)
 *   -> Reshape([6,4]) -> Reshape([4,6]) -> Dropout -> Add(., zeros[1]) -> Div(., ones[1])
 *   -> Relu -> y */
static IrModel *build_simplify(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d234[3] = {2, 3, 4}, d4[1] = {4}, d1[1] = {1};
    IrValue *x = input(g, "x", 3, d234);
    IrValue *ones = init_f(g, "ones", 1, d4, (const float[]){1, 1, 1, 1});
    IrValue *zero = init_f(g, "zero", 1, d1, (const float[]){0});
    IrValue *one = init_f(g, "one", 1, d1, (const float[]){1});
    IrValue *s64 = init_i64(g, "s64", 2, (const int64_t[]){6, 4});
    IrValue *s46 = init_i64(g, "s46", 2, (const int64_t[]){4, -1});
    IrNode *n;
    IrValue *t0 = op1(g, "Identity", "id", 1, &x, "t0", NULL);
    IrValue *t1 = op1(g, "Transpose", "tr1", 1, &t0, "t1", &n);
    attr_ints(n, "perm", 3, (const int64_t[]){1, 0, 2});
    IrValue *t2 = op1(g, "Transpose", "tr2", 1, &t1, "t2", &n);
    attr_ints(n, "perm", 3, (const int64_t[]){1, 0, 2});
    IrValue *t3 = op1(g, "Mul", "mul1", 2, (IrValue *[]){t2, ones}, "t3", NULL);
    IrValue *t4 = op1(g, "Cast", "cast", 1, &t3, "t4", &n);
    attr_int(n, "to", IR_DT_FLOAT);
    IrValue *t5 = op1(g, "Reshape", "rs1", 2, (IrValue *[]){t4, s64}, "t5", NULL);
    IrValue *t6 = op1(g, "Reshape", "rs2", 2, (IrValue *[]){t5, s46}, "t6", NULL);
    IrValue *t7 = op1(g, "Dropout", "drop", 1, &t6, "t7", NULL);
    IrValue *t8 = op1(g, "Add", "add0", 2, (IrValue *[]){t7, zero}, "t8", NULL);
    IrValue *t9 = op1(g, "Div", "div1", 2, (IrValue *[]){t8, one}, "t9", NULL);
    IrValue *y = op1(g, "Relu", "relu", 1, &t9, "y", NULL);
    ir_graph_add_output(g, y);
    return m;
}

static void test_simplify(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    OnnxcCompileOptions o;
    opts(&o, 2);
    o.stats = 1;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    o.pass_out = f;
    check_equiv(build_simplify, &o, "Reshape,Relu", &m2);
    fclose(f);
    const IrNode *rs = find_node(m2->graph, "Reshape");
    assert_string_equal(rs->in[0]->name, "x");
    assert_string_equal(rs->name, "rs1+rs2");
    const int64_t *shape = rs->in[1]->init->data;
    assert_true(shape[0] == 4 && shape[1] == 6);
    /* counters in --stats */
    assert_non_null(strstr(text, "simplify.identity"));
    assert_non_null(strstr(text, "simplify.transpose_cancel"));
    assert_non_null(strstr(text, "simplify.mul_one"));
    assert_non_null(strstr(text, "simplify.same_type_cast"));
    assert_non_null(strstr(text, "simplify.reshape_reshape"));
    assert_non_null(strstr(text, "simplify.dropout"));
    assert_non_null(strstr(text, "simplify.add_zero"));
    assert_non_null(strstr(text, "simplify.div_one"));
    assert_non_null(strstr(text, "nodes: 2"));
    assert_non_null(strstr(text, "workspace:"));
    free(text);
    ir_model_destroy(m2);
}

/* x[2,3,4] -> Transpose(1,2,0) -> Transpose(1,2,0) -> y (graph output) */
static IrModel *build_transpose_compose(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d234[3] = {2, 3, 4};
    IrValue *x = input(g, "x", 3, d234);
    IrNode *n;
    IrValue *t1 = op1(g, "Transpose", "t1", 1, &x, "a", &n);
    attr_ints(n, "perm", 3, (const int64_t[]){1, 2, 0});
    IrValue *y = op1(g, "Transpose", "t2", 1, &t1, "y", &n);
    attr_ints(n, "perm", 3, (const int64_t[]){1, 2, 0});
    ir_graph_add_output(g, y);
    return m;
}

static void test_transpose_compose(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    check_equiv(build_transpose_compose, NULL, "Transpose", &m2);
    const IrNode *t = find_node(m2->graph, "Transpose");
    assert_string_equal(t->name, "t1+t2");
    const int64_t *perm = NULL;
    assert_int_equal(ir_attr_ints(t, "perm", &perm), 3);
    assert_true(perm[0] == 2 && perm[1] == 0 && perm[2] == 1);
    assert_string_equal(t->out[0]->name, "y");
    ir_model_destroy(m2);
}

/* An identity op whose output is a graph output: the producer writes the output instead. */
static IrModel *build_identity_output(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d5[1] = {5};
    IrValue *x = input(g, "x", 1, d5);
    IrValue *a = op1(g, "Relu", "relu", 1, &x, "a", NULL);
    IrValue *b = op1(g, "Identity", "id", 1, &a, "y", NULL);
    IrValue *z = op1(g, "Identity", "id2", 1, &x, "z", NULL); /* of an input: must stay */
    ir_graph_add_output(g, b);
    ir_graph_add_output(g, z);
    return m;
}

static void test_identity_output(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    check_equiv(build_identity_output, NULL, "Relu,Identity", &m2);
    assert_string_equal(m2->graph->outputs[0]->producer->op_type, "Relu");
    ir_model_destroy(m2);
}

/* ------------------------------------------------------------------ bn_fold, matmul_add */

/* x[1,2,5,5] -> Conv(W[3,2,3,3], b[3], pads 1) -> BN(scale, B, mean, var) -> Relu -> y */
static IrModel *build_conv_bn(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t dx[4] = {1, 2, 5, 5}, dw[4] = {3, 2, 3, 3}, d3[1] = {3};
    IrValue *x = input(g, "x", 4, dx);
    IrValue *w = init_f(g, "w", 4, dw, NULL);
    IrValue *b = init_f(g, "b", 1, d3, (const float[]){0.1f, -0.2f, 0.3f});
    IrValue *sc = init_f(g, "scale", 1, d3, (const float[]){1.5f, 0.5f, -2.0f});
    IrValue *bb = init_f(g, "bias", 1, d3, (const float[]){0.0f, 1.0f, -1.0f});
    IrValue *mu = init_f(g, "mean", 1, d3, (const float[]){0.2f, -0.1f, 0.7f});
    IrValue *var = init_f(g, "var", 1, d3, (const float[]){1.0f, 0.25f, 4.0f});
    IrNode *n;
    IrValue *c = op1(g, "Conv", "conv1", 3, (IrValue *[]){x, w, b}, "c", &n);
    attr_ints(n, "pads", 4, (const int64_t[]){1, 1, 1, 1});
    IrValue *t = op1(g, "BatchNormalization", "bn1", 5, (IrValue *[]){c, sc, bb, mu, var}, "t", &n);
    ir_node_add_attr(n, "epsilon", IR_ATTR_FLOAT)->f = 1e-3f;
    IrValue *y = op1(g, "Relu", "relu", 1, &t, "y", NULL);
    ir_graph_add_output(g, y);
    return m;
}

static void test_bn_fold_conv(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    check_equiv(build_conv_bn, NULL, "Conv,Relu", &m2);
    const IrNode *c = find_node(m2->graph, "Conv");
    assert_string_equal(c->name, "conv1+bn1");
    assert_string_equal(c->out[0]->name, "t");
    assert_int_equal(c->nin, 3);
    /* the old weights are gone from the IR */
    assert_int_equal(m2->graph->ninits, 0);
    ir_model_destroy(m2);
}

/* Conv without bias, BN output is the graph output. */
static IrModel *build_conv_nobias_bn(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t dx[4] = {2, 2, 4, 4}, dw[4] = {2, 2, 1, 1}, d2[1] = {2};
    IrValue *x = input(g, "x", 4, dx);
    IrValue *w = init_f(g, "w", 4, dw, NULL);
    IrValue *sc = init_f(g, "scale", 1, d2, (const float[]){0.7f, 1.3f});
    IrValue *bb = init_f(g, "bias", 1, d2, (const float[]){0.2f, 0.0f});
    IrValue *mu = init_f(g, "mean", 1, d2, (const float[]){0.0f, 0.5f});
    IrValue *var = init_f(g, "var", 1, d2, (const float[]){2.0f, 0.5f});
    IrValue *c = op1(g, "Conv", "conv", 2, (IrValue *[]){x, w}, "c", NULL);
    IrValue *y = op1(g, "BatchNormalization", "bn", 5, (IrValue *[]){c, sc, bb, mu, var}, "y", NULL);
    ir_graph_add_output(g, y);
    return m;
}

static void test_bn_fold_conv_output(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    check_equiv(build_conv_nobias_bn, NULL, "Conv", &m2);
    assert_string_equal(m2->graph->outputs[0]->producer->name, "conv+bn");
    ir_model_destroy(m2);
}

/* x[4,3] -> MatMul(W[3,5]) -> Add(b[5]) -> BN -> y;  and x -> MatMul(W) -> Add(b2[1,5]) -> z */
static IrModel *build_mm_add_bn(void) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t dx[2] = {4, 3}, dw[2] = {3, 5}, d5[1] = {5}, d15[2] = {1, 5};
    IrValue *x = input(g, "x", 2, dx);
    IrValue *w = init_f(g, "w", 2, dw, NULL);
    IrValue *b = init_f(g, "b", 1, d5, NULL);
    IrValue *b2 = init_f(g, "b2", 2, d15, NULL);
    IrValue *sc = init_f(g, "scale", 1, d5, (const float[]){1, 2, 3, 0.5f, -1});
    IrValue *bb = init_f(g, "bias", 1, d5, (const float[]){0, 0.1f, 0.2f, 0.3f, 0.4f});
    IrValue *mu = init_f(g, "mean", 1, d5, (const float[]){0.5f, 0, -0.5f, 1, 0});
    IrValue *var = init_f(g, "var", 1, d5, (const float[]){1, 2, 3, 4, 5});
    IrValue *t = op1(g, "MatMul", "mm", 2, (IrValue *[]){x, w}, "t", NULL);
    IrValue *u = op1(g, "Add", "add", 2, (IrValue *[]){t, b}, "u", NULL);
    IrValue *y = op1(g, "BatchNormalization", "bn", 5, (IrValue *[]){u, sc, bb, mu, var}, "y", NULL);
    IrValue *t2 = op1(g, "MatMul", "mm2", 2, (IrValue *[]){x, w}, "t2", NULL);
    IrValue *z = op1(g, "Add", "add2", 2, (IrValue *[]){b2, t2}, "z", NULL);
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, z);
    return m;
}

static void test_matmul_add_bn(void **state) {
    (void)state;
    IrModel *m2 = NULL;
    OnnxcCompileOptions o;
    opts(&o, 2);
    o.disable_pass = "cse"; /* keep the two MatMuls apart to see both fusions */
    check_equiv(build_mm_add_bn, &o, "Gemm,Gemm", &m2);
    assert_string_equal(m2->graph->outputs[0]->producer->name, "mm+add+bn");
    assert_string_equal(m2->graph->outputs[1]->producer->name, "mm2+add2");
    ir_model_destroy(m2);
    /* with matmul_add disabled nothing is fused */
    opts(&o, 2);
    o.disable_pass = "matmul_add,cse";
    check_equiv(build_mm_add_bn, &o, "MatMul,Add,BatchNormalization,MatMul,Add", NULL);
}

/* ------------------------------------------------------------------ instruments */

static char *capture_prepare(BuildFn build, OnnxcCompileOptions *o, int expect_rc, IrModel **out) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    o->pass_out = f;
    IrModel *m = build();
    IrDiag d;
    ir_diag_init(&d, "test");
    int rc = onnxc_prepare(m, o, &d);
    if (rc != expect_rc)
        ir_diag_print(&d, stderr);
    assert_int_equal(rc, expect_rc);
    ir_diag_free(&d);
    fclose(f);
    o->pass_out = NULL;
    if (out)
        *out = m;
    else
        ir_model_destroy(m);
    return text;
}

static void test_print_instruments(void **state) {
    (void)state;
    OnnxcCompileOptions o;
    opts(&o, 1);
    o.print_after = "fold";
    char *t = capture_prepare(build_fold, &o, 0, NULL);
    assert_non_null(strstr(t, "IR Dump After fold"));
    assert_null(strstr(t, "IR Dump After dce"));
    assert_null(strstr(t, "IR Dump Before"));
    /* after folding the IR shows s2 as a constant */
    assert_non_null(strstr(t, "const %s2"));
    free(t);

    opts(&o, 2);
    o.print_before = "all";
    t = capture_prepare(build_fold, &o, 0, NULL);
    assert_non_null(strstr(t, "IR Dump Before simplify"));
    assert_non_null(strstr(t, "IR Dump Before dce"));
    free(t);

    /* print-changed alone: only passes that changed something (fold did, matmul_add not) */
    opts(&o, 2);
    o.print_changed = 1;
    t = capture_prepare(build_fold, &o, 0, NULL);
    assert_non_null(strstr(t, "IR Dump After fold"));
    assert_null(strstr(t, "IR Dump After matmul_add"));
    free(t);

    opts(&o, 2);
    o.time_passes = 1;
    t = capture_prepare(build_fold, &o, 0, NULL);
    assert_non_null(strstr(t, "pass execution times"));
    assert_non_null(strstr(t, "bn_fold"));
    free(t);
}

static void test_disable_pass(void **state) {
    (void)state;
    OnnxcCompileOptions o;
    opts(&o, 2);
    o.disable_pass = "fold";
    IrModel *m = NULL;
    free(capture_prepare(build_fold, &o, 0, &m));
    char buf[256];
    node_list(m->graph, buf, sizeof buf);
    /* the Constant node is not folded either; dce has nothing to remove */
    assert_string_equal(buf, "Constant,Add,Mul,Add");
    ir_model_destroy(m);
    /* -O0 runs nothing */
    opts(&o, 0);
    free(capture_prepare(build_fold, &o, 0, &m));
    node_list(m->graph, buf, sizeof buf);
    assert_string_equal(buf, "Constant,Add,Mul,Add");
    ir_model_destroy(m);
}

/* A broken pass: makes the first node read a value produced by the last node (a use before
 * its definition) and says it changed nothing. */
static int broken_pass(IrModel *m, PassCtx *cx) {
    (void)cx;
    IrGraph *g = m->graph;
    IrNode *n = g->first;
    while (n && n->nin == 0)
        n = n->next;
    if (n && g->last && n != g->last)
        ir_node_set_input(n, 0, g->last->out[0]);
    return 0;
}

static void test_verify_each(void **state) {
    (void)state;
    IrModel *m = build_fold();
    IrDiag d;
    ir_diag_init(&d, "test");
    assert_int_equal(pass_infer(m->graph, &d), 0);
    OnnxcCompileOptions o;
    opts(&o, 2);
    o.verify_each = 1;
    PassCtx cx;
    pm_ctx_init(&cx, &o, &d);
    PassInfo bp = {"broken", "breaks the IR on purpose", broken_pass, 0};
    assert_int_equal(pm_ctx_add_pass(&cx, &bp), 0);
    assert_int_equal(pm_run_pipeline(m, &cx, "simplify,broken,dce"), -1);
    assert_true(d.nerrors > 0);
    assert_non_null(strstr(ir_diag_last(&d), "after pass 'broken'"));
    pm_ctx_free(&cx);
    ir_diag_free(&d);
    ir_model_destroy(m);

    /* without verify-each the pipeline does not notice */
    m = build_fold();
    ir_diag_init(&d, "test");
    assert_int_equal(pass_infer(m->graph, &d), 0);
    o.verify_each = 0;
    pm_ctx_init(&cx, &o, &d);
    pm_ctx_add_pass(&cx, &bp);
    assert_true(pm_run_pipeline(m, &cx, "broken") >= 0);
    pm_ctx_free(&cx);
    ir_diag_free(&d);
    ir_model_destroy(m);

    /* unknown pass names are an error before anything runs */
    m = build_fold();
    ir_diag_init(&d, "test");
    pm_ctx_init(&cx, NULL, &d);
    assert_int_equal(pm_run_pipeline(m, &cx, "fold,nosuchpass"), -1);
    assert_non_null(strstr(ir_diag_last(&d), "nosuchpass"));
    assert_int_equal(m->graph->nnodes, 4);
    pm_ctx_free(&cx);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

static void test_registry(void **state) {
    (void)state;
    const char *names[] = {"fold",          "dce",           "cse",
                           "simplify",      "bn_fold",       "matmul_add",
                           "fuse_patterns", "fuse_epilogue", "fuse_elementwise"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const PassInfo *p = pm_find_pass(NULL, names[i]);
        assert_non_null(p);
        assert_non_null(p->run);
        assert_non_null(p->desc);
    }
    assert_string_equal(pm_pipeline_for_level(0), "");
    assert_string_equal(pm_pipeline_for_level(1), "fold,dce");
    assert_non_null(strstr(pm_pipeline_for_level(2), "bn_fold"));
    assert_null(strstr(pm_pipeline_for_level(2), "fuse_"));
    assert_non_null(strstr(pm_pipeline_for_level(3), "fuse_patterns,fuse_epilogue,fuse_elementwise"));
}

/* FLOPs estimate of the stats. */
static void test_flops(void **state) {
    (void)state;
    IrModel *m = build_conv_bn();
    IrDiag d;
    ir_diag_init(&d, "test");
    assert_int_equal(pass_infer(m->graph, &d), 0);
    const IrNode *c = find_node(m->graph, "Conv");
    /* Y[1,3,5,5] = 75 outputs, each 2*3*3 = 18 multiply-adds: 2 * 75 * 18 */
    assert_int_equal(pm_node_flops(c), 2 * 75 * 18);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ backend test data */

static const char *conf_dir(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

/* Compiles model dir/name/model.onnx at -O0 and -O2 and compares with the expected outputs
 * of test_data_set_0. Returns 1 if both match, 0 if the model is unsupported, asserts on a
 * mismatch of -O2 only. */
static int conf_model(const char *path, const char *data) {
    char mp[700], p[800];
    snprintf(mp, sizeof mp, "%s/model.onnx", path);
    int ok[2] = {0, 0};
    for (int lvl = 0; lvl < 2; lvl++) {
        OnnxcCompileOptions o;
        opts(&o, lvl ? 2 : 0);
        o.verify_each = 1;
        o.model_name = NULL;
        IrDiag d;
        ir_diag_init(&d, mp);
        HarnessModel *h = harness_open(mp, &o, &d);
        if (!h) {
            ir_diag_free(&d);
            continue;
        }
        const OnnxcModelInfo *info = harness_info(h);
        IrArena *a = ir_arena_create();
        IrTensor *ins[16] = {0}, *outs[16] = {0};
        int good = info->num_inputs <= 16 && info->num_outputs <= 16;
        for (int i = 0; good && i < info->num_inputs; i++) {
            snprintf(p, sizeof p, "%s/%s/input_%d.pb", path, data, i);
            ins[i] = fe_read_tensor_pb(a, p, &d);
            good = ins[i] != NULL;
        }
        if (good && harness_run(h, ins, info->num_inputs, a, outs, &d) == 0) {
            int all = 1;
            for (int i = 0; i < info->num_outputs; i++) {
                snprintf(p, sizeof p, "%s/%s/output_%d.pb", path, data, i);
                IrTensor *e = fe_read_tensor_pb(a, p, &d);
                double ma, mr;
                all &= e && harness_compare(outs[i], e, 1e-3, 1e-7, &ma, &mr);
            }
            ok[lvl] = all;
        }
        ir_arena_destroy(a);
        harness_close(h);
        ir_diag_free(&d);
    }
    if (ok[0] && !ok[1])
        fprintf(stderr, "%s: passes at -O0 but not at -O2\n", path);
    assert_false(ok[0] && !ok[1]);
    return ok[0] && ok[1];
}

static void test_backend_models(void **state) {
    (void)state;
    static const char *const models[] = {
        "node/test_batchnorm_example", "node/test_batchnorm_epsilon",
        "node/test_gemm_default_matrix_bias", "node/test_matmul_2d",
        "node/test_transpose_default", "node/test_reshape_reordered_all_dims",
        "node/test_identity", "node/test_dropout_default", "node/test_cast_FLOAT_to_DOUBLE",
        "node/test_conv_with_strides_padding", "pytorch-converted/test_Conv2d",
        "pytorch-converted/test_BatchNorm2d_eval", "pytorch-operator/test_operator_mm",
    };
    struct stat st;
    char path[600];
    snprintf(path, sizeof path, "%s/node", conf_dir());
    if (stat(path, &st) != 0) {
        fprintf(stderr, "backend test data not found: skipped\n");
        return;
    }
    int both = 0;
    for (size_t i = 0; i < sizeof models / sizeof models[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", conf_dir(), models[i]);
        if (stat(path, &st) != 0)
            continue;
        both += conf_model(path, "test_data_set_0");
    }
    fprintf(stderr, "backend models passing at -O0 and -O2: %d\n", both);
    assert_true(both >= 5);
}

/* ------------------------------------------------------------------ main */

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/onnxc_test_passes_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ ResNet-18 at -O3 */

/* Exports `name` with scripts/make_models.py into the build folder unless it is there already.
 * Returns 1 if the model is ready, 0 when torch (or python) is missing (the caller skips). */
static int model_ready(const char *name, char *path, size_t cap) {
    const char *dir = ONNXC_BINARY_DIR "/models";
    snprintf(path, cap, "%s/%s.onnx", dir, name);
    struct stat st;
    if (stat(path, &st) == 0)
        return 1;
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/scripts/make_models.py %s %s > %s/models.log 2>&1",
             ONNXC_SOURCE_DIR, dir, name, ONNXC_BINARY_DIR);
    int rc = system(cmd);
    if (rc != 0 || stat(path, &st) != 0) {
        fprintf(stderr, "SKIPPED: %s could not be exported (exit %d; torch missing? "
                "see %s/models.log)\n", name, rc, ONNXC_BINARY_DIR);
        return 0;
    }
    return 1;
}

/* ResNet-18 with random weights (BatchNormalization kept by the exporter): at -O3 no
 * BatchNormalization is left, no Relu reads a Conv directly, the workspace is well under the
 * sum of the intermediates, and the compiled library matches torch. */
static void test_resnet18(void **state) {
    (void)state;
    char path[600], p[800];
    if (!model_ready("resnet18", path, sizeof path))
        return;
    IrDiag d;
    ir_diag_init(&d, path);
    int64_t naive0 = 0;
    for (int lvl = 0; lvl <= 3; lvl += 3) {
        IrModel *m = fe_load_model(path, NULL, &d);
        assert_non_null(m);
        int bn_before = 0;
        for (IrNode *n = m->graph->first; n; n = n->next)
            bn_before += strcmp(n->op_type, "BatchNormalization") == 0;
        OnnxcCompileOptions o;
        opts(&o, lvl);
        int rc = onnxc_prepare(m, &o, &d);
        if (rc != 0)
            ir_diag_print(&d, stderr);
        assert_int_equal(rc, 0);
        int bn = 0, relu_after_conv = 0, fused = 0, nodes = m->graph->nnodes;
        for (IrNode *n = m->graph->first; n; n = n->next) {
            bn += strcmp(n->op_type, "BatchNormalization") == 0;
            fused += strcmp(n->op_type, "FusedConv") == 0;
            IrNode *pr = n->nin > 0 && n->in[0] ? n->in[0]->producer : NULL;
            if (strcmp(n->op_type, "Relu") == 0 && pr &&
                (strcmp(pr->op_type, "Conv") == 0 || strcmp(pr->op_type, "FusedConv") == 0))
                relu_after_conv++;
        }
        fprintf(stderr, "resnet18 -O%d: %d nodes, %d BatchNormalization (of %d), %d FusedConv, "
                "%d Relu after Conv; workspace %lld bytes, intermediates %lld bytes\n", lvl,
                nodes, bn, bn_before, fused, relu_after_conv, (long long)m->workspace_bytes,
                (long long)m->naive_bytes);
        if (lvl == 0) {
            naive0 = m->naive_bytes;
            assert_true(bn_before >= 20); /* the exporter kept them: bn_fold has work */
        } else {
            assert_int_equal(bn, 0);
            assert_int_equal(relu_after_conv, 0);
            assert_true(fused >= 9); /* stem + first conv of each block; the rest feed Adds */
            assert_true(m->workspace_bytes > 0);
            assert_true(m->workspace_bytes * 3 < m->naive_bytes);
            assert_true(m->workspace_bytes * 5 < naive0);
        }
        ir_model_destroy(m);
    }
    /* the -O3 library against torch's output */
    OnnxcCompileOptions o;
    opts(&o, 3);
    o.use_bitcode = 1;
    HarnessModel *h = harness_open(path, &o, &d);
    if (!h)
        ir_diag_print(&d, stderr);
    assert_non_null(h);
    IrArena *a = ir_arena_create();
    IrTensor *in = NULL, *out[1] = {NULL};
    snprintf(p, sizeof p, "%s/models/resnet18/test_data_set_0/input_0.pb", ONNXC_BINARY_DIR);
    in = fe_read_tensor_pb(a, p, &d);
    assert_non_null(in);
    assert_int_equal(harness_run(h, &in, 1, a, out, &d), 0);
    snprintf(p, sizeof p, "%s/models/resnet18/test_data_set_0/output_0.pb", ONNXC_BINARY_DIR);
    IrTensor *want = fe_read_tensor_pb(a, p, &d);
    assert_non_null(want);
    double mabs = 0, mrel = 0;
    int ok = harness_compare(out[0], want, 1e-3, 1e-4, &mabs, &mrel);
    fprintf(stderr, "resnet18 -O3 vs torch: max abs err %.3g, max rel err %.3g\n", mabs, mrel);
    assert_true(ok);
    ir_arena_destroy(a);
    harness_close(h);
    ir_diag_free(&d);
}

/* ------------------------------------------------------------------ optimize -O3: portable */

/* Directory holding onnxruntime-node for tests/optimize_ort.js: $ONNXC_ORT_NODE_PATH, else
 * BUILD/bench-ort/node_modules (bench/run.sh installs it there); NULL when absent. */
static const char *ort_node_path(char *buf, size_t cap) {
    const char *e = getenv("ONNXC_ORT_NODE_PATH");
    if (e && *e)
        snprintf(buf, cap, "%s", e);
    else
        snprintf(buf, cap, "%s/bench-ort/node_modules", ONNXC_BINARY_DIR);
    char probe[1200];
    snprintf(probe, sizeof probe, "%s/onnxruntime-node/package.json", buf);
    struct stat st;
    return stat(probe, &st) == 0 ? buf : NULL;
}

/* Loads path, runs the -O3 pipeline as `onnxc optimize` does (portable) and writes out; checks
 * that only standard ops at the model's opsets are left. Returns 1 if written, 0 if the model
 * is not supported (skipped). */
static int optimize_portable(const char *path, const char *out, int *nfused_std) {
    IrDiag d;
    ir_diag_init(&d, path);
    IrModel *m = fe_load_model(path, NULL, &d);
    assert_non_null(m);
    OnnxcCompileOptions o;
    opts(&o, 3);
    o.portable = 1;
    o.verify_each = 1;
    PassCtx cx;
    pm_ctx_init(&cx, &o, &d);
    int rc = -1;
    if (pass_infer(m->graph, &d) == 0 && ir_verify(m->graph, &d) == 0)
        rc = pm_run_default(m, &cx);
    pm_ctx_free(&cx);
    if (rc < 0) {
        fprintf(stderr, "optimize_portable: %s not supported: %s\n", path,
                d.nentries ? d.entries[0].msg : "?");
        ir_model_destroy(m);
        ir_diag_free(&d);
        return 0;
    }
    int64_t os = ir_model_opset(m, "");
    for (const IrNode *n = m->graph->first; n; n = n->next) {
        if (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0)
            fail_msg("%s: node '%s' of domain %s left by the portable -O3 pipeline", path,
                     n->name ? n->name : "", n->domain);
        if (n->opset > os)
            fail_msg("%s: %s-%d above the model's opset %lld", path, n->op_type, n->opset,
                     (long long)os);
        *nfused_std += n->name && strchr(n->name, '+') != NULL;
    }
    assert_true(ir_model_opset(m, OP_FUSED_DOMAIN) < 0); /* no ai.onnxc import added */
    assert_int_equal(fe_write_model(m, out, &d), 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return 1;
}

static void test_optimize_portable(void **state) {
    (void)state;
    static const char *const bench[] = {"mlp", "lenet", "transformer", "lstm", "resnet18",
                                        "mobilenetv2"};
    static const char *const backend[] = {
        "node/test_layer_normalization_4d_axis_negative_1_expanded",
        "node/test_softmax_example_expanded", "node/test_gelu_default_1_expanded",
        "pytorch-operator/test_operator_conv", "light/light_squeezenet.onnx"};
    char list[400], path[1200], out[600];
    snprintf(list, sizeof list, "%s/optimize_list.txt", g_dir);
    FILE *lf = fopen(list, "w");
    assert_non_null(lf);
    int written = 0, nfused = 0;
    for (size_t i = 0; i < sizeof bench / sizeof *bench; i++) {
        if (!model_ready(bench[i], path, sizeof path))
            continue;
        snprintf(out, sizeof out, "%s/opt_%s.onnx", g_dir, bench[i]);
        if (optimize_portable(path, out, &nfused)) {
            fprintf(lf, "%s\t%s\t%s\n", bench[i], path, out);
            written++;
        }
    }
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    const char *root = e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
    for (size_t i = 0; i < sizeof backend / sizeof *backend; i++) {
        struct stat st;
        const char *b = backend[i];
        snprintf(path, sizeof path, strstr(b, ".onnx") ? "%s/%s" : "%s/%s/model.onnx", root, b);
        if (stat(path, &st) != 0)
            continue;
        const char *nm = strrchr(b, '/') + 1;
        snprintf(out, sizeof out, "%s/opt_%.*s.onnx", g_dir, (int)strcspn(nm, "."), nm);
        if (optimize_portable(path, out, &nfused)) {
            fprintf(lf, "%.*s\t%s\t%s\n", (int)strcspn(nm, "."), nm, path, out);
            written++;
        }
    }
    fclose(lf);
    fprintf(stderr, "optimize -O3 (portable): %d models written, %d nodes with joined names\n",
            written, nfused);
    if (written == 0) {
        print_message("SKIP: no benchmark (torch) or backend-test model available\n");
        skip();
    }
    char cmd[2400];
    if (system("/usr/bin/python3 -c 'import onnx, numpy' >/dev/null 2>&1") != 0) {
        print_message("SKIP: /usr/bin/python3 with onnx and numpy not found: checker and "
                      "onnxruntime comparison not run\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s/tests/optimize_check.py %s %s 1>&2",
             ONNXC_SOURCE_DIR, list, g_dir);
    assert_int_equal(system(cmd), 0);
    char np[1024];
    if (system("node --version >/dev/null 2>&1") != 0 || !ort_node_path(np, sizeof np)) {
        print_message("SKIP: node or onnxruntime-node not found (set ONNXC_ORT_NODE_PATH, or run "
                      "bench/run.sh --smoke once): onnxruntime comparison not run\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "NODE_PATH='%s' node %s/tests/optimize_ort.js %s %s 1>&2", np,
             ONNXC_SOURCE_DIR, list, g_dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_fold_cap),
        cmocka_unit_test(test_dce),
        cmocka_unit_test(test_cse),
        cmocka_unit_test(test_simplify),
        cmocka_unit_test(test_transpose_compose),
        cmocka_unit_test(test_identity_output),
        cmocka_unit_test(test_bn_fold_conv),
        cmocka_unit_test(test_bn_fold_conv_output),
        cmocka_unit_test(test_matmul_add_bn),
        cmocka_unit_test(test_print_instruments),
        cmocka_unit_test(test_disable_pass),
        cmocka_unit_test(test_verify_each),
        cmocka_unit_test(test_flops),
        cmocka_unit_test(test_backend_models),
        cmocka_unit_test(test_resnet18),
        cmocka_unit_test(test_optimize_portable),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
