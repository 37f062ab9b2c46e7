/* test_ctrl.c - control flow and sequences (docs/CONTROL_FLOW.md), end to end: small models with
 * If / Loop / Scan bodies and sequence ops are built with the IR API, compiled to a shared
 * library (onnxc_prepare + be_emit, no bitcode for speed), loaded with the harness and run;
 * expected values are computed here in plain C. Also: what is refused (a run-time trip count)
 * and that the rewrites leave no control-flow or sequence node behind.
 */
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
#include "ops/op.h"
#include "passes/pass.h"
#include "tools/harness.h"

static char g_dir[256];
static int g_count;

/* ------------------------------------------------------------------ building models */

static IrValue *val(IrGraph *g, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(g, name);
    assert_non_null(v);
    if (rank >= 0)
        assert_int_equal(ir_type_set_tensor(g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

static IrValue *input(IrGraph *g, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = val(g, name, dt, rank, dims);
    assert_int_equal(ir_graph_add_input(g, v), 0);
    return v;
}

/* A constant value (folded-constant form: init, no producer). */
static IrValue *cst(IrGraph *g, const char *name, IrDType dt, int rank, const int64_t *dims,
                    const void *data) {
    IrValue *v = val(g, name, dt, rank, dims);
    v->init = ir_tensor_new(g->arena, dt, rank, dims);
    assert_non_null(v->init);
    memcpy(v->init->data, data, v->init->nbytes);
    return v;
}

static IrValue *i64s(IrGraph *g, const char *name, int64_t x) {
    return cst(g, name, IR_DT_INT64, 0, NULL, &x);
}

static IrNode *node(IrGraph *g, const char *op, int nin, IrValue **in, int nout, IrValue **out) {
    IrNode *n = ir_node_new(g, NULL, op, "", op, 16, nin, in, nout, out);
    assert_non_null(n);
    return n;
}

static IrValue *op1(IrGraph *g, const char *op, int nin, IrValue **in, const char *outname) {
    IrValue *o = ir_value_new(g, outname);
    node(g, op, nin, in, 1, &o);
    return o;
}

static void set_graph_attr(IrNode *n, const char *name, IrGraph *body) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_GRAPH);
    assert_non_null(a);
    a->g = body;
}

static void set_int_attr(IrNode *n, const char *name, int64_t v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INT);
    assert_non_null(a);
    a->i = v;
}

/* An outer reference in subgraph b to value v of its parent. */
static IrValue *outer(IrGraph *b, IrValue *v) {
    IrValue *o = ir_value_new(b, v->name);
    assert_non_null(o);
    o->flags |= IR_VALUE_OUTER;
    o->outer = v;
    return o;
}

static IrModel *new_model(void) {
    IrModel *m = ir_model_create();
    assert_non_null(m);
    m->nopsets = 1;
    m->opsets = ir_arena_alloc(m->arena, sizeof *m->opsets);
    m->opsets[0].domain = "";
    m->opsets[0].version = 16;
    m->graph = ir_graph_create(m, NULL, "ctrl");
    assert_non_null(m->graph);
    return m;
}

/* Compiles m (consumed) into a library and opens it; NULL when compilation fails (d has why). */
static HarnessModel *compile(IrModel *m, const OnnxcCompileOptions *opt, IrDiag *d) {
    OnnxcCompileOptions o;
    if (opt)
        o = *opt;
    else
        onnxc_options_default(&o);
    o.use_bitcode = 0;
    o.opt_level = 1;
    o.model_name = "ctrl";
    char so[512];
    snprintf(so, sizeof so, "%s/ctrl%d.so", g_dir, g_count++);
    HarnessModel *h = NULL;
    if (onnxc_prepare(m, &o, d) == 0 && be_emit(m, &o, BE_EMIT_SO, so, NULL, m->workspace_bytes, d) == 0)
        h = harness_open(so, NULL, d);
    if (!h)
        ir_diag_print(d, stderr);
    ir_model_destroy(m);
    return h;
}

static IrTensor *tensor(IrArena *a, IrDType dt, int rank, const int64_t *dims, const void *data) {
    IrTensor *t = ir_tensor_new(a, dt, rank, dims);
    assert_non_null(t);
    memcpy(t->data, data, t->nbytes);
    return t;
}

/* No If/Loop/Scan/sequence node is left in a prepared graph. */
static void assert_no_ctrl(const IrGraph *g) {
    for (const IrNode *n = g->first; n; n = n->next)
        assert_true(n->op != OP_If && n->op != OP_Loop && n->op != OP_Scan &&
                    n->op != OP_SequenceConstruct && n->op != OP_SplitToSequence &&
                    n->op != OP_SequenceAt);
}

/* ------------------------------------------------------------------ Loop */

/* Loop(n, true, s=0) { s_out = s_in + (i + 1); scan = s_out }: s = n(n+1)/2, scan = 1,3,6,.. */
static IrModel *loop_sum_model(int64_t n, int runtime_trip) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t zero = 0;
    uint8_t t = 1;
    IrValue *trip = runtime_trip ? input(g, "n", IR_DT_INT64, 0, NULL) : i64s(g, "n", n);
    IrValue *cond = cst(g, "cond", IR_DT_BOOL, 0, NULL, &t);
    IrValue *s0 = cst(g, "s0", IR_DT_INT64, 0, NULL, &zero);
    IrGraph *b = ir_graph_create(m, g, "body");
    assert_non_null(b);
    IrValue *it = input(b, "i", IR_DT_INT64, 0, NULL);
    IrValue *ci = input(b, "c", IR_DT_BOOL, 0, NULL);
    IrValue *si = input(b, "s", IR_DT_INT64, 0, NULL);
    IrValue *one = i64s(b, "one", 1);
    IrValue *co = op1(b, "Identity", 1, &ci, "c_out");
    IrValue *i1 = op1(b, "Add", 2, (IrValue *[]){it, one}, "i1");
    IrValue *so = op1(b, "Add", 2, (IrValue *[]){si, i1}, "s_out");
    IrValue *sc = op1(b, "Identity", 1, &so, "scan");
    ir_graph_add_output(b, co);
    ir_graph_add_output(b, so);
    ir_graph_add_output(b, sc);
    IrValue *outs[2] = {ir_value_new(g, "s"), ir_value_new(g, "all")};
    IrNode *lp = node(g, "Loop", 3, (IrValue *[]){trip, cond, s0}, 2, outs);
    set_graph_attr(lp, "body", b);
    ir_graph_add_output(g, outs[0]);
    ir_graph_add_output(g, outs[1]);
    return m;
}

static void test_loop_sum(void **state) {
    (void)state;
    static const int64_t ns[] = {1, 4, 10};
    for (int k = 0; k < 3; k++) {
        int64_t n = ns[k];
        IrDiag d;
        ir_diag_init(&d, "loop");
        HarnessModel *h = compile(loop_sum_model(n, 0), NULL, &d);
        assert_non_null(h);
        IrArena *a = ir_arena_create();
        IrTensor *out[2] = {NULL, NULL};
        assert_int_equal(harness_run(h, NULL, 0, a, out, &d), 0);
        assert_int_equal(out[0]->numel, 1);
        assert_int_equal(((int64_t *)out[0]->data)[0], n * (n + 1) / 2);
        assert_int_equal(out[1]->rank, 1);
        assert_int_equal(out[1]->dims[0], n);
        for (int64_t i = 0; i < n; i++)
            assert_int_equal(((int64_t *)out[1]->data)[i], (i + 1) * (i + 2) / 2);
        ir_arena_destroy(a);
        harness_close(h);
        ir_diag_free(&d);
    }
}

static void test_loop_runtime_trip_refused(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, "loop");
    IrModel *m = loop_sum_model(3, 1);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    assert_int_not_equal(onnxc_prepare(m, &o, &d), 0);
    assert_non_null(strstr(ir_diag_last(&d), "unsupported operator Loop"));
    assert_non_null(strstr(ir_diag_last(&d), "run time"));
    ir_model_destroy(m);
    ir_diag_free(&d);
}

/* ------------------------------------------------------------------ If */

/* If(cond) then { x + 1 } else { x * 2 }, x an outer f32[3] input; cond an input or constant. */
static IrModel *if_model(int const_cond) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d3 = 3;
    uint8_t cv = (uint8_t)(const_cond > 0);
    IrValue *cond = const_cond >= 0 ? cst(g, "cond", IR_DT_BOOL, 0, NULL, &cv)
                                    : input(g, "cond", IR_DT_BOOL, 0, NULL);
    IrValue *x = input(g, "x", IR_DT_FLOAT, 1, &d3);
    float one = 1.0f, two = 2.0f;
    IrGraph *tb = ir_graph_create(m, g, "then"), *eb = ir_graph_create(m, g, "else");
    IrValue *tx = outer(tb, x), *ex = outer(eb, x);
    IrValue *to = op1(tb, "Add", 2, (IrValue *[]){tx, cst(tb, "one", IR_DT_FLOAT, 0, NULL, &one)}, "t");
    IrValue *eo = op1(eb, "Mul", 2, (IrValue *[]){ex, cst(eb, "two", IR_DT_FLOAT, 0, NULL, &two)}, "e");
    ir_graph_add_output(tb, to);
    ir_graph_add_output(eb, eo);
    IrValue *r = ir_value_new(g, "r");
    IrNode *n = node(g, "If", 1, &cond, 1, &r);
    set_graph_attr(n, "then_branch", tb);
    set_graph_attr(n, "else_branch", eb);
    ir_graph_add_output(g, r);
    return m;
}

static void test_if_runtime(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, "if");
    HarnessModel *h = compile(if_model(-1), NULL, &d);
    assert_non_null(h);
    int64_t d3 = 3;
    const float xs[3] = {1.5f, -2.0f, 4.0f};
    for (int c = 0; c < 2; c++) {
        IrArena *a = ir_arena_create();
        uint8_t cb = (uint8_t)c;
        IrTensor *in[2] = {tensor(a, IR_DT_BOOL, 0, NULL, &cb), tensor(a, IR_DT_FLOAT, 1, &d3, xs)};
        IrTensor *out[1] = {NULL};
        assert_int_equal(harness_run(h, in, 2, a, out, &d), 0);
        for (int i = 0; i < 3; i++)
            assert_true(((float *)out[0]->data)[i] == (c ? xs[i] + 1.0f : xs[i] * 2.0f));
        ir_arena_destroy(a);
    }
    harness_close(h);
    ir_diag_free(&d);
}

static void test_if_constant_inlined(void **state) {
    (void)state;
    for (int c = 0; c < 2; c++) {
        IrDiag d;
        ir_diag_init(&d, "if");
        IrModel *m = if_model(c);
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        assert_int_equal(onnxc_prepare(m, &o, &d), 0);
        assert_no_ctrl(m->graph);
        /* only the taken branch's op is left */
        int adds = 0, muls = 0;
        for (IrNode *n = m->graph->first; n; n = n->next) {
            adds += n->op == OP_Add;
            muls += n->op == OP_Mul;
        }
        assert_int_equal(adds, c);
        assert_int_equal(muls, 1 - c);
        ir_model_destroy(m);
        ir_diag_free(&d);
    }
}

/* ------------------------------------------------------------------ Scan */

/* Scan-9 cumulative sum over x f32[4,2] (direction dir): final f32[2], partial sums f32[4,2]. */
static IrModel *scan_model(int dir) {
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d2 = 2, d42[2] = {4, 2};
    float z[2] = {0, 0};
    IrValue *s0 = cst(g, "s0", IR_DT_FLOAT, 1, &d2, z);
    IrValue *x = input(g, "x", IR_DT_FLOAT, 2, d42);
    IrGraph *b = ir_graph_create(m, g, "body");
    IrValue *si = input(b, "s", IR_DT_FLOAT, 1, &d2);
    IrValue *xi = input(b, "xi", IR_DT_FLOAT, 1, &d2);
    IrValue *so = op1(b, "Add", 2, (IrValue *[]){si, xi}, "s_out");
    IrValue *sc = op1(b, "Identity", 1, &so, "scan");
    ir_graph_add_output(b, so);
    ir_graph_add_output(b, sc);
    IrValue *outs[2] = {ir_value_new(g, "final"), ir_value_new(g, "partial")};
    IrNode *n = node(g, "Scan", 2, (IrValue *[]){s0, x}, 2, outs);
    n->opset = 11;
    set_graph_attr(n, "body", b);
    set_int_attr(n, "num_scan_inputs", 1);
    IrAttr *a = ir_node_add_attr(n, "scan_input_directions", IR_ATTR_INTS);
    a->n = 1;
    a->ints = ir_arena_alloc(g->arena, sizeof(int64_t));
    a->ints[0] = dir;
    ir_graph_add_output(g, outs[0]);
    ir_graph_add_output(g, outs[1]);
    return m;
}

static void test_scan_cumsum(void **state) {
    (void)state;
    const float xs[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    for (int dir = 0; dir < 2; dir++) {
        IrDiag d;
        ir_diag_init(&d, "scan");
        HarnessModel *h = compile(scan_model(dir), NULL, &d);
        assert_non_null(h);
        IrArena *a = ir_arena_create();
        int64_t d42[2] = {4, 2};
        IrTensor *in[1] = {tensor(a, IR_DT_FLOAT, 2, d42, xs)};
        IrTensor *out[2] = {NULL, NULL};
        assert_int_equal(harness_run(h, in, 1, a, out, &d), 0);
        const float *f = out[0]->data, *p = out[1]->data;
        assert_true(f[0] == 16.0f && f[1] == 20.0f);
        float s[2] = {0, 0};
        for (int t = 0; t < 4; t++) {
            int r = dir ? 3 - t : t; /* row read at step t */
            s[0] += xs[2 * r];
            s[1] += xs[2 * r + 1];
            assert_true(p[2 * t] == s[0] && p[2 * t + 1] == s[1]);
        }
        ir_arena_destroy(a);
        harness_close(h);
        ir_diag_free(&d);
    }
}

/* ------------------------------------------------------------------ sequences */

/* s: seq(f32[?]) input given at compile time as 3 tensors; x f32[6]:
 *   parts = SplitToSequence(x, [2, 4]); s2 = SequenceInsert(s, SequenceAt(parts, 1), 0)
 *   outputs: ConcatFromSequence(s2, axis 0), SequenceLength(s2), s2 itself (flattened) */
static void test_sequence_round_trip(void **state) {
    (void)state;
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d6 = 6, d2 = 2;
    IrValue *s = ir_value_new(g, "s");
    s->type.kind = IR_TYPE_SEQUENCE;
    s->type.rank = -1;
    s->type.elem = ir_arena_alloc(g->arena, sizeof(IrType));
    s->type.elem->kind = IR_TYPE_TENSOR;
    s->type.elem->dtype = IR_DT_FLOAT;
    s->type.elem->rank = -1;
    ir_graph_add_input(g, s);
    IrValue *x = input(g, "x", IR_DT_FLOAT, 1, &d6);
    int64_t sp[2] = {2, 4};
    IrValue *split = cst(g, "split", IR_DT_INT64, 1, &d2, sp);
    IrValue *parts = op1(g, "SplitToSequence", 2, (IrValue *[]){x, split}, "parts");
    IrValue *p1 = op1(g, "SequenceAt", 2, (IrValue *[]){parts, i64s(g, "one", 1)}, "p1");
    IrValue *s2 = op1(g, "SequenceInsert", 3, (IrValue *[]){s, p1, i64s(g, "zero", 0)}, "s2");
    IrValue *cat = ir_value_new(g, "cat");
    IrNode *cn = node(g, "ConcatFromSequence", 1, &s2, 1, &cat);
    set_int_attr(cn, "axis", 0);
    IrValue *len = op1(g, "SequenceLength", 1, &s2, "len");
    ir_graph_add_output(g, cat);
    ir_graph_add_output(g, len);
    ir_graph_add_output(g, s2);

    /* the sequence input: f32[1], f32[2], f32[3] */
    int dts[3] = {IR_DT_FLOAT, IR_DT_FLOAT, IR_DT_FLOAT};
    OnnxcShapeOverride sh[3];
    memset(sh, 0, sizeof sh);
    for (int i = 0; i < 3; i++) {
        sh[i].rank = 1;
        sh[i].dims[0] = i + 1;
    }
    OnnxcSeqInput si = {"s", 1, 3, dts, sh};
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.nseq_inputs = 1;
    o.seq_inputs = &si;
    IrDiag d;
    ir_diag_init(&d, "seq");
    HarnessModel *h = compile(m, &o, &d);
    assert_non_null(h);
    const OnnxcModelInfo *info = harness_info(h);
    assert_int_equal(info->num_inputs, 4);  /* s.0, s.1, s.2, x */
    assert_int_equal(info->num_outputs, 6); /* cat, len, s2.0 .. s2.3 */
    assert_string_equal(info->inputs[0].name, "s.0");
    IrArena *a = ir_arena_create();
    const float e0[1] = {10}, e1[2] = {20, 21}, e2[3] = {30, 31, 32}, xs[6] = {1, 2, 3, 4, 5, 6};
    int64_t one = 1, two = 2, three = 3;
    IrTensor *in[4] = {tensor(a, IR_DT_FLOAT, 1, &one, e0), tensor(a, IR_DT_FLOAT, 1, &two, e1),
                       tensor(a, IR_DT_FLOAT, 1, &three, e2), tensor(a, IR_DT_FLOAT, 1, &d6, xs)};
    IrTensor *out[6] = {0};
    assert_int_equal(harness_run(h, in, 4, a, out, &d), 0);
    const float want[10] = {3, 4, 5, 6, 10, 20, 21, 30, 31, 32};
    assert_int_equal(out[0]->numel, 10);
    for (int i = 0; i < 10; i++)
        assert_true(((float *)out[0]->data)[i] == want[i]);
    assert_int_equal(((int64_t *)out[1]->data)[0], 4);
    assert_int_equal(out[2]->numel, 4);
    assert_true(((float *)out[2]->data)[0] == 3.0f);
    assert_int_equal(out[5]->numel, 3);
    assert_true(((float *)out[5]->data)[2] == 32.0f);
    ir_arena_destroy(a);
    harness_close(h);
    ir_diag_free(&d);
}

/* A sequence output whose content is only known at run time is refused with a diagnostic. */
static void test_sequence_runtime_refused(void **state) {
    (void)state;
    IrModel *m = new_model();
    IrGraph *g = m->graph;
    int64_t d6 = 6;
    IrValue *x = input(g, "x", IR_DT_FLOAT, 1, &d6);
    IrValue *k = input(g, "k", IR_DT_INT64, 0, NULL);
    IrValue *parts = op1(g, "SplitToSequence", 2, (IrValue *[]){x, k}, "parts");
    ir_graph_add_output(g, parts);
    IrDiag d;
    ir_diag_init(&d, "seq");
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    assert_int_not_equal(onnxc_prepare(m, &o, &d), 0);
    assert_non_null(strstr(ir_diag_last(&d), "not known at compile time"));
    ir_model_destroy(m);
    ir_diag_free(&d);
}

static int setup(void **state) {
    (void)state;
    snprintf(g_dir, sizeof g_dir, "/tmp/onnxc_test_ctrl_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    for (int i = 0; i < g_count; i++) {
        char p[600];
        snprintf(p, sizeof p, "%s/ctrl%d.so", g_dir, i);
        unlink(p);
        snprintf(p, sizeof p, "%s/ctrl%d.h", g_dir, i);
        unlink(p);
    }
    rmdir(g_dir);
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_sum),
        cmocka_unit_test(test_loop_runtime_trip_refused),
        cmocka_unit_test(test_if_runtime),
        cmocka_unit_test(test_if_constant_inlined),
        cmocka_unit_test(test_scan_cumsum),
        cmocka_unit_test(test_sequence_round_trip),
        cmocka_unit_test(test_sequence_runtime_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
