/* test_ops_reduce.c - the reduce family (ops/op_reduce.c, runtime/rt_reduce.c): type and shape
 * inference, lowering and kernels of ReduceSum ... ReduceSumSquare, ArgMax/ArgMin and the
 * variadic Max/Min/Sum/Mean.
 *
 * Expected values are computed by hand (small cases, stated in comments) or by naive nested
 * loops written here independently of the kernels' strided walk. The last test runs the ONNX
 * backend node tests of the family (test_reduce_*, test_argmax_*, test_argmin_*, test_max_*,
 * test_min_*, test_sum_*, test_mean_*) through fe_load_model, pass_infer, pass_lower and the
 * kernel, and compares with output_0.pb (rtol 1e-3, atol 1e-7); it is skipped when the data is
 * absent (ONNXC_BACKEND_TESTS overrides the default ../shared/onnx-backend-tests).
 */
#include <dirent.h>
#include <math.h>
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
#include "ops/op.h"
#include "passes/pass.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"
#include "tools/harness.h"

/* ------------------------------------------------------------------ fixture helpers */

/* One model with one graph, and a diagnostic sink. */
typedef struct Fx {
    IrModel *m; /* owns g */
    IrGraph *g; /* the graph nodes are built in */
    IrDiag d;   /* diagnostics of infer/lower */
} Fx;

static Fx *fx_new(void) {
    Fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->m = ir_model_create();
    assert_non_null(f->m);
    f->g = ir_graph_create(f->m, NULL, "t");
    assert_non_null(f->g);
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
    return f;
}

static void fx_free(Fx *f) {
    ir_diag_free(&f->d);
    ir_model_destroy(f->m);
    free(f);
}

/* A graph input of static type. */
static IrValue *fx_input(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    assert_int_equal(ir_graph_add_input(f->g, v), 0);
    return v;
}

/* A constant 1-D int64 initializer. */
static IrValue *fx_const_i64(Fx *f, const char *name, int n, const int64_t *vals) {
    int64_t dims[1] = {n};
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    v->init = ir_tensor_new(f->g->arena, IR_DT_INT64, 1, dims);
    assert_non_null(v->init);
    if (n)
        memcpy(v->init->data, vals, (size_t)n * sizeof(int64_t));
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, IR_DT_INT64, 1, dims), 0);
    assert_int_equal(ir_graph_add_init(f->g, v), 0);
    return v;
}

/* A node with the given inputs (NULL entries are omitted inputs) and one output "y". */
static IrNode *fx_node(Fx *f, const char *op, int opset, int nin, IrValue **in) {
    IrValue *y = ir_value_new(f->g, "y");
    assert_non_null(y);
    IrNode *n = ir_node_new(f->g, NULL, op, "", op, opset, nin, in, 1, &y);
    assert_non_null(n);
    assert_int_not_equal(n->op, OP_UNKNOWN);
    return n;
}

static void set_int(IrNode *n, const char *name, int64_t v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INT);
    assert_non_null(a);
    a->i = v;
}

static void set_ints(IrNode *n, const char *name, int cnt, const int64_t *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INTS);
    assert_non_null(a);
    a->n = cnt;
    a->ints = ir_arena_memdup(n->graph->arena, v, (size_t)cnt * sizeof(int64_t));
}

/* Infers and lowers n (asserting success), checks the output shape against want_dims, runs the
 * kernel on the inputs' data (constants use their init) and returns the kernel status. The
 * output is written to `out` (caller-sized). */
static int fx_run(Fx *f, IrNode *n, const void *const *in_data, void *out, int want_rank,
                  const int64_t *want_dims) {
    if (op_infer_node(n, &f->d) != 0 || op_lower_node(n, &f->d) != 0) {
        ir_diag_print(&f->d, stderr);
        fail_msg("infer/lower failed: %s", ir_diag_last(&f->d));
    }
    const IrType *yt = &n->out[0]->type;
    assert_int_equal(yt->rank, want_rank);
    for (int i = 0; i < want_rank; i++)
        assert_int_equal(yt->dims[i].value, want_dims[i]);
    RtKernelFn k = rt_kernel_find(n->kernel);
    assert_non_null(k);
    RtTensor in[8];
    int64_t idims[8][IR_MAX_RANK];
    assert_true(n->nin <= 8);
    for (int i = 0; i < n->nin; i++) {
        IrValue *v = n->in[i];
        if (!v) {
            in[i] = (RtTensor){NULL, NULL, -1, 0};
            continue;
        }
        for (int j = 0; j < v->type.rank; j++)
            idims[i][j] = v->type.dims[j].value;
        in[i].data = v->init ? v->init->data : (void *)in_data[i];
        in[i].dims = idims[i];
        in[i].rank = v->type.rank;
        in[i].dtype = v->type.dtype;
    }
    int64_t odims[IR_MAX_RANK];
    for (int j = 0; j < yt->rank; j++)
        odims[j] = yt->dims[j].value;
    RtTensor o = {out, odims, yt->rank, yt->dtype};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int st = k(&ctx, n->params, in, n->nin, &o, 1);
    if (st)
        print_message("kernel: %s\n", ctx.errmsg);
    return st;
}

/* Asserts infer (or, when infer succeeds, lower) fails with a message containing `needle`. */
static void expect_error(Fx *f, IrNode *n, const char *needle) {
    int rc = op_infer_node(n, &f->d);
    if (rc == 0)
        rc = op_lower_node(n, &f->d);
    assert_int_not_equal(rc, 0);
    assert_true(f->d.nerrors > 0);
    if (!strstr(ir_diag_last(&f->d), needle))
        fail_msg("message '%s' lacks '%s'", ir_diag_last(&f->d), needle);
}

static void assert_floats(const float *got, const float *want, int n, double tol) {
    for (int i = 0; i < n; i++) {
        if (isnan(want[i]) ? !isnan(got[i])
                           : isinf(want[i]) ? got[i] != want[i]
                                            : fabs((double)got[i] - want[i]) > tol)
            fail_msg("element %d: got %.9g, want %.9g", i, got[i], want[i]);
    }
}

/* ------------------------------------------------------------------ Reduce* basics */

/* x = [[1,2,3],[4,5,6]] */
static const float X23[6] = {1, 2, 3, 4, 5, 6};
static const int64_t D23[2] = {2, 3};

static void test_reduce_sum_axes_input(void **state) {
    (void)state;
    Fx *f = fx_new();
    IrValue *x = fx_input(f, "x", IR_DT_FLOAT, 2, D23);
    int64_t ax1[1] = {1};
    IrValue *in[2] = {x, fx_const_i64(f, "axes", 1, ax1)};
    IrNode *n = fx_node(f, "ReduceSum", 13, 2, in);
    float y[2];
    const void *data[2] = {X23, NULL};
    int64_t want_dims[2] = {2, 1};
    assert_int_equal(fx_run(f, n, data, y, 2, want_dims), 0);
    const float want[2] = {6, 15}; /* 1+2+3, 4+5+6 */
    assert_floats(y, want, 2, 0);
    fx_free(f);

    /* keepdims=0, negative axis -2 (= 0): column sums [5,7,9] */
    f = fx_new();
    x = fx_input(f, "x", IR_DT_FLOAT, 2, D23);
    int64_t axm2[1] = {-2};
    IrValue *in2[2] = {x, fx_const_i64(f, "axes", 1, axm2)};
    n = fx_node(f, "ReduceSum", 13, 2, in2);
    set_int(n, "keepdims", 0);
    float y3[3];
    int64_t want3[1] = {3};
    assert_int_equal(fx_run(f, n, data, y3, 1, want3), 0);
    const float w3[3] = {5, 7, 9};
    assert_floats(y3, w3, 3, 0);
    assert_string_equal(n->kernel, "rt_k_reduce_sum");
    fx_free(f);
}

static void test_reduce_mean_all_axes_default(void **state) {
    (void)state;
    Fx *f = fx_new();
    IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23)};
    IrNode *n = fx_node(f, "ReduceMean", 18, 1, in);
    float y[1];
    const void *data[1] = {X23};
    int64_t want_dims[2] = {1, 1};
    assert_int_equal(fx_run(f, n, data, y, 2, want_dims), 0);
    assert_float_equal(y[0], 3.5f, 0); /* 21 / 6 */
    fx_free(f);
}

static void test_reduce_attr_axes_old_opset(void **state) {
    (void)state;
    /* ReduceProd opset 11, axes attribute [1]: [1*2*3, 4*5*6] = [6, 120] */
    Fx *f = fx_new();
    IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23)};
    IrNode *n = fx_node(f, "ReduceProd", 11, 1, in);
    int64_t ax[1] = {1};
    set_ints(n, "axes", 1, ax);
    set_int(n, "keepdims", 0);
    float y[2];
    const void *data[1] = {X23};
    int64_t want_dims[1] = {2};
    assert_int_equal(fx_run(f, n, data, y, 1, want_dims), 0);
    const float want[2] = {6, 120};
    assert_floats(y, want, 2, 0);
    fx_free(f);

    /* ReduceSum opset 11 takes an attribute too (the input came at 13) */
    f = fx_new();
    IrValue *in2[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23)};
    n = fx_node(f, "ReduceSum", 11, 1, in2);
    int64_t ax0[1] = {0};
    set_ints(n, "axes", 1, ax0);
    float y3[3];
    int64_t want3[2] = {1, 3};
    assert_int_equal(fx_run(f, n, data, y3, 2, want3), 0);
    const float w3[3] = {5, 7, 9};
    assert_floats(y3, w3, 3, 0);
    fx_free(f);
}

static void test_reduce_max_two_axes(void **state) {
    (void)state;
    /* x[i][j][k] = 4i + 2j + k over [2,2,2]; max over i and k: j=0 -> {0,1,4,5} = 5,
     * j=1 -> {2,3,6,7} = 7 */
    Fx *f = fx_new();
    int64_t d222[3] = {2, 2, 2};
    float x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (float)i;
    int64_t ax[2] = {0, -1};
    IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 3, d222), fx_const_i64(f, "axes", 2, ax)};
    IrNode *n = fx_node(f, "ReduceMax", 18, 2, in);
    float y[2];
    const void *data[2] = {x, NULL};
    int64_t want_dims[3] = {1, 2, 1};
    assert_int_equal(fx_run(f, n, data, y, 3, want_dims), 0);
    const float want[2] = {5, 7};
    assert_floats(y, want, 2, 0);
    fx_free(f);
}

/* L1, L2, SumSquare, LogSum, LogSumExp of the vector [3, 4] (double). */
static void test_reduce_norms_and_logs(void **state) {
    (void)state;
    static const struct {
        const char *op;
        double want;
    } cases[] = {
        {"ReduceL1", 7.0},                                  /* |3| + |4| */
        {"ReduceL2", 5.0},                                  /* sqrt(9 + 16) */
        {"ReduceSumSquare", 25.0},                          /* 9 + 16 */
        {"ReduceLogSum", 1.945910149055313305},             /* ln 7 */
        {"ReduceLogSumExp", 4.313261687518222834},          /* ln(e^3 + e^4) = 4 + ln(1 + 1/e) */
        {"ReduceMean", 3.5},
        {"ReduceMin", 3.0},
        {"ReduceProd", 12.0},
    };
    const double x[2] = {3, 4};
    int64_t d2[1] = {2};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Fx *f = fx_new();
        IrValue *in[1] = {fx_input(f, "x", IR_DT_DOUBLE, 1, d2)};
        IrNode *n = fx_node(f, cases[c].op, 18, 1, in);
        set_int(n, "keepdims", 0);
        double y = -1;
        const void *data[1] = {x};
        assert_int_equal(fx_run(f, n, data, &y, 0, NULL), 0);
        if (fabs(y - cases[c].want) > 1e-12)
            fail_msg("%s: got %.17g, want %.17g", cases[c].op, y, cases[c].want);
        fx_free(f);
    }
}

/* LogSumExp must not overflow: ln(e^1000 + e^1000) = 1000 + ln 2. */
static void test_reduce_logsumexp_large(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d2[1] = {2};
    const float x[2] = {1000.0f, 1000.0f};
    IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT, 1, d2)};
    IrNode *n = fx_node(f, "ReduceLogSumExp", 13, 1, in);
    float y[1];
    const void *data[1] = {x};
    int64_t want_dims[1] = {1};
    assert_int_equal(fx_run(f, n, data, y, 1, want_dims), 0);
    assert_float_equal(y[0], 1000.6931471805599f, 1e-3);
    fx_free(f);
}

/* noop_with_empty_axes: nothing is reduced, the elementwise part still applies. */
static void test_reduce_noop_empty_axes(void **state) {
    (void)state;
    const float x[3] = {-2, 3, 0.5f};
    int64_t d3[1] = {3};
    /* ReduceSumSquare: x*x */
    Fx *f = fx_new();
    IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT, 1, d3)};
    IrNode *n = fx_node(f, "ReduceSumSquare", 18, 1, in);
    set_int(n, "noop_with_empty_axes", 1);
    float y[3];
    const void *data[2] = {x, NULL};
    assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
    const float w[3] = {4, 9, 0.25f};
    assert_floats(y, w, 3, 0);
    fx_free(f);
    /* ReduceSum with an explicitly empty axes input: the identity */
    f = fx_new();
    IrValue *in2[2] = {fx_input(f, "x", IR_DT_FLOAT, 1, d3), fx_const_i64(f, "axes", 0, NULL)};
    n = fx_node(f, "ReduceSum", 13, 2, in2);
    set_int(n, "noop_with_empty_axes", 1);
    assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
    assert_floats(y, x, 3, 0);
    fx_free(f);
    /* without noop, an empty axes input reduces everything: -2 + 3 + 0.5 */
    f = fx_new();
    IrValue *in3[2] = {fx_input(f, "x", IR_DT_FLOAT, 1, d3), fx_const_i64(f, "axes", 0, NULL)};
    n = fx_node(f, "ReduceSum", 13, 2, in3);
    int64_t one[1] = {1};
    assert_int_equal(fx_run(f, n, data, y, 1, one), 0);
    assert_float_equal(y[0], 1.5f, 0);
    fx_free(f);
}

/* Reducing an empty set gives the identity of the reduction (ONNX spec of each op). */
static void test_reduce_empty_set_identities(void **state) {
    (void)state;
    static const struct {
        const char *op;
        float want;
    } cases[] = {
        {"ReduceSum", 0.0f},       {"ReduceProd", 1.0f},       {"ReduceL1", 0.0f},
        {"ReduceL2", 0.0f},        {"ReduceSumSquare", 0.0f},  {"ReduceMax", -INFINITY},
        {"ReduceMin", INFINITY},   {"ReduceLogSum", -INFINITY}, {"ReduceLogSumExp", -INFINITY},
        {"ReduceMean", NAN},
    };
    int64_t d[3] = {2, 0, 3};
    int64_t ax[1] = {1};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Fx *f = fx_new();
        IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 3, d), fx_const_i64(f, "axes", 1, ax)};
        IrNode *n = fx_node(f, cases[c].op, 18, 2, in);
        float y[6];
        float dummy = 0;
        const void *data[2] = {&dummy, NULL};
        int64_t want_dims[3] = {2, 1, 3};
        assert_int_equal(fx_run(f, n, data, y, 3, want_dims), 0);
        float want[6];
        for (int i = 0; i < 6; i++)
            want[i] = cases[c].want;
        assert_floats(y, want, 6, 0);
        fx_free(f);
    }
    /* integer max of nothing is the type's minimum */
    Fx *f = fx_new();
    IrValue *in[2] = {fx_input(f, "x", IR_DT_INT32, 3, d), fx_const_i64(f, "axes", 1, ax)};
    IrNode *n = fx_node(f, "ReduceMax", 18, 2, in);
    set_int(n, "keepdims", 0);
    int32_t y[6], dummy = 0;
    const void *data[2] = {&dummy, NULL};
    int64_t want_dims[2] = {2, 3};
    assert_int_equal(fx_run(f, n, data, y, 2, want_dims), 0);
    for (int i = 0; i < 6; i++)
        assert_int_equal(y[i], INT32_MIN);
    fx_free(f);
}

static void test_reduce_integers(void **state) {
    (void)state;
    /* int64 sum wraps like numpy: INT64_MAX + 1 = INT64_MIN; min of [-5, 7, -9] = -9 */
    int64_t d3[1] = {3};
    const int64_t xi[3] = {INT64_MAX, 1, 0};
    Fx *f = fx_new();
    IrValue *in[1] = {fx_input(f, "x", IR_DT_INT64, 1, d3)};
    IrNode *n = fx_node(f, "ReduceSum", 13, 1, in);
    set_int(n, "keepdims", 0);
    int64_t y;
    const void *data[1] = {xi};
    assert_int_equal(fx_run(f, n, data, &y, 0, NULL), 0);
    assert_true(y == INT64_MIN);
    fx_free(f);

    const int32_t x32[3] = {-5, 7, -9};
    const char *ops[4] = {"ReduceMin", "ReduceMax", "ReduceL1", "ReduceMean"};
    const int32_t want[4] = {-9, 7, 21, -2}; /* mean: -7/3 truncated toward zero */
    for (int c = 0; c < 4; c++) {
        f = fx_new();
        IrValue *in2[1] = {fx_input(f, "x", IR_DT_INT32, 1, d3)};
        n = fx_node(f, ops[c], 18, 1, in2);
        int32_t y32;
        const void *data2[1] = {x32};
        int64_t one[1] = {1};
        assert_int_equal(fx_run(f, n, data2, &y32, 1, one), 0);
        if (y32 != want[c])
            fail_msg("%s: got %d want %d", ops[c], y32, want[c]);
        fx_free(f);
    }

    /* uint8: max 250, min 3 over [3, 250, 17] */
    const uint8_t xu[3] = {3, 250, 17};
    for (int c = 0; c < 2; c++) {
        f = fx_new();
        IrValue *in3[1] = {fx_input(f, "x", IR_DT_UINT8, 1, d3)};
        n = fx_node(f, c ? "ReduceMin" : "ReduceMax", 18, 1, in3);
        uint8_t yu;
        const void *data3[1] = {xu};
        int64_t one[1] = {1};
        assert_int_equal(fx_run(f, n, data3, &yu, 1, one), 0);
        assert_int_equal(yu, c ? 3 : 250);
        fx_free(f);
    }
}

static void test_reduce_bool_max_min(void **state) {
    (void)state;
    /* rows [1,0], [0,0], [1,1]: any -> [1,0,1], all -> [0,0,1] */
    const uint8_t x[6] = {1, 0, 0, 0, 1, 1};
    int64_t d[2] = {3, 2};
    int64_t ax[1] = {1};
    for (int c = 0; c < 2; c++) {
        Fx *f = fx_new();
        IrValue *in[2] = {fx_input(f, "x", IR_DT_BOOL, 2, d), fx_const_i64(f, "axes", 1, ax)};
        IrNode *n = fx_node(f, c ? "ReduceMin" : "ReduceMax", 20, 2, in);
        set_int(n, "keepdims", 0);
        uint8_t y[3];
        const void *data[2] = {x, NULL};
        int64_t want_dims[1] = {3};
        assert_int_equal(fx_run(f, n, data, y, 1, want_dims), 0);
        const uint8_t want[2][3] = {{1, 0, 1}, {0, 0, 1}};
        assert_memory_equal(y, want[c], 3);
        fx_free(f);
    }
    /* bool is not allowed for ReduceSum */
    Fx *f = fx_new();
    IrValue *in[1] = {fx_input(f, "x", IR_DT_BOOL, 2, d)};
    IrNode *n = fx_node(f, "ReduceSum", 13, 1, in);
    expect_error(f, n, "not supported");
    fx_free(f);
}

/* Every subset of axes of a [3,4,5,2] tensor, ReduceSum and ReduceMax, against naive loops. */
static void test_reduce_all_axis_subsets(void **state) {
    (void)state;
    int64_t d[4] = {3, 4, 5, 2};
    double x[120];
    for (int i = 0; i < 120; i++)
        x[i] = (double)((i * 37) % 23) - 11.0; /* distinct-ish values with both signs */
    for (int mask = 0; mask < 16; mask++) {
        for (int which = 0; which < 2; which++) {
            Fx *f = fx_new();
            int64_t ax[4];
            int na = 0;
            for (int k = 0; k < 4; k++)
                if (mask & (1 << k))
                    ax[na++] = k;
            IrValue *in[2] = {fx_input(f, "x", IR_DT_DOUBLE, 4, d),
                              fx_const_i64(f, "axes", na, ax)};
            IrNode *n = fx_node(f, which ? "ReduceMax" : "ReduceSum", 18, 2, in);
            set_int(n, "noop_with_empty_axes", 1);
            int64_t od[4];
            for (int k = 0; k < 4; k++)
                od[k] = (mask & (1 << k)) ? 1 : d[k];
            double y[120], want[120];
            for (int i = 0; i < 120; i++)
                want[i] = which ? -INFINITY : 0.0;
            for (int a = 0; a < 3; a++)
                for (int b = 0; b < 4; b++)
                    for (int c = 0; c < 5; c++)
                        for (int e = 0; e < 2; e++) {
                            int oa = (mask & 1) ? 0 : a, ob = (mask & 2) ? 0 : b;
                            int oc = (mask & 4) ? 0 : c, oe = (mask & 8) ? 0 : e;
                            int64_t o = ((oa * od[1] + ob) * od[2] + oc) * od[3] + oe;
                            double v = x[((a * 4 + b) * 5 + c) * 2 + e];
                            if (which)
                                want[o] = v > want[o] ? v : want[o];
                            else
                                want[o] += v;
                        }
            const void *data[2] = {x, NULL};
            assert_int_equal(fx_run(f, n, data, y, 4, od), 0);
            int64_t nout = od[0] * od[1] * od[2] * od[3];
            for (int64_t i = 0; i < nout; i++)
                if (fabs(y[i] - want[i]) > 1e-9)
                    fail_msg("mask %d op %d element %lld: got %g want %g", mask, which,
                             (long long)i, y[i], want[i]);
            fx_free(f);
        }
    }
}

/* Deterministic pseudo-random numbers (xorshift64) for the randomized test. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;
static uint64_t rng_next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* Naive reference of a reduction over `mask`: every input element is visited in storage order,
 * its coordinates decoded and mapped to the output index with reduced coordinates dropped. */
static void naive_reduce(int code, const double *x, int rank, const int64_t *dims, unsigned mask,
                         double *y, int64_t nout) {
    double acc[256], acc2[256];
    int64_t cnt[256];
    for (int64_t o = 0; o < nout; o++) {
        acc[o] = code == RT_RED_PROD ? 1.0 : code == RT_RED_MAX ? -INFINITY
                 : code == RT_RED_MIN ? INFINITY : 0.0;
        acc2[o] = 0.0;
        cnt[o] = 0;
    }
    int64_t n = 1;
    for (int k = 0; k < rank; k++)
        n *= dims[k];
    for (int64_t i = 0; i < n; i++) {
        int64_t rem = i, coord[8];
        for (int k = rank - 1; k >= 0; k--) {
            coord[k] = rem % dims[k];
            rem /= dims[k];
        }
        int64_t o = 0;
        for (int k = 0; k < rank; k++)
            if (!(mask & (1u << k)))
                o = o * dims[k] + coord[k];
        double v = x[i];
        cnt[o]++;
        switch (code) {
        case RT_RED_SUM: case RT_RED_MEAN: case RT_RED_LOGSUM: acc[o] += v; break;
        case RT_RED_PROD: acc[o] *= v; break;
        case RT_RED_MAX: acc[o] = v > acc[o] ? v : acc[o]; break;
        case RT_RED_MIN: acc[o] = v < acc[o] ? v : acc[o]; break;
        case RT_RED_L1: acc[o] += fabs(v); break;
        case RT_RED_L2: case RT_RED_SUMSQUARE: acc[o] += v * v; break;
        case RT_RED_LOGSUMEXP: acc2[o] += exp(v); break;
        default: break;
        }
    }
    for (int64_t o = 0; o < nout; o++) {
        switch (code) {
        case RT_RED_MEAN: y[o] = acc[o] / (double)cnt[o]; break;
        case RT_RED_L2: y[o] = sqrt(acc[o]); break;
        case RT_RED_LOGSUM: y[o] = log(acc[o]); break;
        case RT_RED_LOGSUMEXP: y[o] = log(acc2[o]); break;
        default: y[o] = acc[o]; break;
        }
    }
}

/* Random shapes (rank 0..4, dims 0..4), random axes and keepdims, every reduction, float32 and
 * int32 inputs, against naive_reduce. */
static void test_reduce_random_vs_naive(void **state) {
    (void)state;
    static const char *const ops[RT_RED_COUNT] = {
        "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd",
        "ReduceL1", "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceSumSquare"};
    for (int iter = 0; iter < 400; iter++) {
        int code = (int)(rng_next() % RT_RED_COUNT);
        int is_int = (int)(rng_next() % 3) == 0;
        int rank = (int)(rng_next() % 5);
        int64_t dims[4];
        int64_t n = 1;
        for (int k = 0; k < rank; k++) {
            dims[k] = (int64_t)(rng_next() % 5);
            if (rng_next() % 4 == 0)
                dims[k] = dims[k] ? dims[k] : 1; /* empty tensors are rarer */
            n *= dims[k];
        }
        unsigned mask = rank ? (unsigned)(rng_next() % (1u << rank)) : 0;
        int keep = (int)(rng_next() % 2);
        double xd[256];
        float xf[256];
        int32_t xi[256];
        for (int64_t i = 0; i < n; i++) {
            /* positive values keep LogSum finite; small integers keep Prod exact */
            int v = 1 + (int)(rng_next() % 4);
            if (code != RT_RED_LOGSUM && rng_next() % 2)
                v = -v;
            xi[i] = v;
            xf[i] = is_int ? (float)v : (float)v * 0.37f;
            xd[i] = xf[i];
        }
        /* integer inputs: only the ops that stay exact in integers */
        if (is_int && (code == RT_RED_L2 || code == RT_RED_LOGSUM || code == RT_RED_LOGSUMEXP))
            is_int = 0;
        Fx *f = fx_new();
        int64_t ax[4];
        int na = 0;
        for (int k = 0; k < rank; k++)
            if (mask & (1u << k))
                ax[na++] = (rng_next() % 2) ? k : k - rank; /* negative axes too */
        IrValue *in[2] = {fx_input(f, "x", is_int ? IR_DT_INT32 : IR_DT_FLOAT, rank, dims),
                          fx_const_i64(f, "axes", na, ax)};
        IrNode *n0 = fx_node(f, ops[code], 18, 2, in);
        set_int(n0, "keepdims", keep);
        set_int(n0, "noop_with_empty_axes", 1);
        int64_t od[4];
        int orank = 0;
        int64_t nout = 1;
        for (int k = 0; k < rank; k++) {
            if (mask & (1u << k)) {
                if (keep)
                    od[orank++] = 1;
            } else {
                od[orank++] = dims[k];
                nout *= dims[k];
            }
        }
        double want[256];
        naive_reduce(code, xd, rank, dims, mask, want, nout);
        union {
            float f[256];
            int32_t i[256];
        } y;
        const void *data[2] = {is_int ? (const void *)xi : (const void *)xf, NULL};
        assert_int_equal(fx_run(f, n0, data, &y, orank, od), 0);
        for (int64_t o = 0; o < nout; o++) {
            double got = is_int ? (double)y.i[o] : (double)y.f[o];
            double w = want[o];
            if (is_int && code == RT_RED_MEAN)
                w = isnan(w) ? 0.0 : trunc(w);
            int same = (isnan(w) && isnan(got)) || (isinf(w) && got == w) ||
                       (is_int && isinf(w) && got == (w > 0 ? INT32_MAX : INT32_MIN)) ||
                       fabs(got - w) <= 1e-5 * fabs(w) + 1e-6;
            if (!same)
                fail_msg("iter %d %s %s rank %d mask %u keep %d out %lld: got %.9g want %.9g",
                         iter, ops[code], is_int ? "int32" : "float", rank, mask, keep,
                         (long long)o, got, w);
        }
        fx_free(f);
    }
}

static void test_reduce_float16(void **state) {
    (void)state;
    /* float16 [1.5, 2.25, -0.75]: sum 3, max 2.25 (all exact in binary16) */
    uint16_t x[3] = {rt_f2h(1.5f), rt_f2h(2.25f), rt_f2h(-0.75f)};
    int64_t d3[1] = {3};
    for (int c = 0; c < 2; c++) {
        Fx *f = fx_new();
        IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT16, 1, d3)};
        IrNode *n = fx_node(f, c ? "ReduceMax" : "ReduceSum", 13, 1, in);
        set_int(n, "keepdims", 0);
        uint16_t y;
        const void *data[1] = {x};
        assert_int_equal(fx_run(f, n, data, &y, 0, NULL), 0);
        assert_float_equal(rt_h2f(y), c ? 2.25f : 3.0f, 0);
        fx_free(f);
    }
}

static void test_reduce_errors(void **state) {
    (void)state;
    /* axes input that is not a constant */
    Fx *f = fx_new();
    int64_t d1[1] = {2};
    IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23), fx_input(f, "ax", IR_DT_INT64, 1, d1)};
    IrNode *n = fx_node(f, "ReduceMean", 18, 2, in);
    expect_error(f, n, "not a constant");
    fx_free(f);
    /* axis out of range */
    f = fx_new();
    int64_t ax[1] = {2};
    IrValue *in2[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23), fx_const_i64(f, "axes", 1, ax)};
    n = fx_node(f, "ReduceSum", 13, 2, in2);
    expect_error(f, n, "out of range");
    fx_free(f);
    /* axes attribute at opset 18 */
    f = fx_new();
    IrValue *in3[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23)};
    n = fx_node(f, "ReduceMax", 18, 1, in3);
    set_ints(n, "axes", 1, ax);
    expect_error(f, n, "not allowed");
    fx_free(f);
    /* axes input at opset 11 */
    f = fx_new();
    int64_t ax0[1] = {0};
    IrValue *in4[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23), fx_const_i64(f, "axes", 1, ax0)};
    n = fx_node(f, "ReduceL2", 11, 2, in4);
    expect_error(f, n, "attribute");
    fx_free(f);
    /* string input */
    f = fx_new();
    IrValue *in5[1] = {fx_input(f, "x", IR_DT_STRING, 1, d1)};
    n = fx_node(f, "ReduceMin", 18, 1, in5);
    expect_error(f, n, "not supported");
    fx_free(f);
}

/* Axes computed at run time: the declared output type is kept, the kernel reads the axes from
 * input 1, validates them and checks that they give the declared shape. */
static void test_reduce_axes_at_run_time(void **state) {
    (void)state;
    static const struct {
        int keep, noop;
        int yrank;
        int64_t ydims[2];
        int naxes;
        int64_t axes[2];
        int status;
        float want[3];
    } cases[] = {
        {1, 0, 2, {2, 1}, 1, {1}, ONNXC_OK, {6, 15}},
        {1, 0, 2, {2, 1}, 1, {-1}, ONNXC_OK, {6, 15}},
        {0, 0, 1, {3}, 1, {0}, ONNXC_OK, {5, 7, 9}},
        {0, 0, 0, {0}, 2, {1, -2}, ONNXC_OK, {21}},
        {0, 0, 0, {0}, 0, {0}, ONNXC_OK, {21}},      /* empty: every axis */
        {1, 0, 2, {2, 1}, 1, {0}, ONNXC_ERR_SHAPE, {0}}, /* gives (1, 3) */
        {1, 0, 2, {2, 1}, 0, {0}, ONNXC_ERR_SHAPE, {0}}, /* gives (1, 1) */
        {1, 0, 2, {2, 1}, 1, {2}, ONNXC_ERR_RUNTIME, {0}},
        {1, 0, 2, {2, 1}, 1, {-3}, ONNXC_ERR_RUNTIME, {0}},
        {1, 0, 2, {2, 1}, 2, {1, -1}, ONNXC_ERR_RUNTIME, {0}}, /* repeated */
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Fx *f = fx_new();
        int64_t ad[1] = {cases[c].naxes};
        IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23),
                          fx_input(f, "axes", IR_DT_INT64, 1, ad)};
        IrNode *n = fx_node(f, "ReduceSum", 18, 2, in);
        set_int(n, "keepdims", cases[c].keep);
        assert_int_equal(ir_type_set_tensor(f->g->arena, &n->out[0]->type, IR_DT_FLOAT,
                                            cases[c].yrank, cases[c].ydims), 0);
        float y[6] = {0};
        const void *data[2] = {X23, cases[c].axes};
        int st = fx_run(f, n, data, y, cases[c].yrank, cases[c].ydims);
        if (st != cases[c].status)
            fail_msg("case %d: status %d, want %d", (int)c, st, cases[c].status);
        if (st == ONNXC_OK) {
            int64_t cnt = 1;
            for (int i = 0; i < cases[c].yrank; i++)
                cnt *= cases[c].ydims[i];
            assert_floats(y, cases[c].want, (int)cnt, 0);
        }
        fx_free(f);
    }
    /* noop_with_empty_axes: empty axes give |x| for ReduceL1 at x's shape */
    Fx *f = fx_new();
    int64_t ad0[1] = {0};
    IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23), fx_input(f, "axes", IR_DT_INT64, 1, ad0)};
    IrNode *n = fx_node(f, "ReduceL1", 18, 2, in);
    set_int(n, "noop_with_empty_axes", 1);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &n->out[0]->type, IR_DT_FLOAT, 2, D23), 0);
    float y[6];
    const void *data[2] = {X23, NULL};
    assert_int_equal(fx_run(f, n, data, y, 2, D23), 0);
    assert_floats(y, X23, 6, 0);
    fx_free(f);
    /* no declared type of its own: the shape comes from the value reached through Sqrt and
     * Cast (ReduceL2's expanded body), here ReduceSum over run-time axes [1] -> (2, 1) */
    f = fx_new();
    int64_t adc[1] = {1}, d21[2] = {2, 1};
    IrValue *inc[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23), fx_input(f, "axes", IR_DT_INT64, 1, adc)};
    n = fx_node(f, "ReduceSum", 18, 2, inc);
    IrValue *s1 = ir_value_new(f->g, "s"), *z = ir_value_new(f->g, "z");
    IrNode *sq = ir_node_new(f->g, NULL, "Sqrt", "", "Sqrt", 18, 1, &n->out[0], 1, &s1);
    IrNode *cs = ir_node_new(f->g, NULL, "Cast", "", "Cast", 18, 1, &s1, 1, &z);
    assert_non_null(sq);
    assert_non_null(cs);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &z->type, IR_DT_DOUBLE, 2, d21), 0);
    const int64_t ax1v[1] = {1};
    const void *datac[2] = {X23, ax1v};
    float yc[2];
    assert_int_equal(fx_run(f, n, datac, yc, 2, d21), 0);
    assert_floats(yc, (const float[]){6, 15}, 2, 0);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_FLOAT);
    fx_free(f);
    /* a declared type that no set of axes can give is not kept */
    f = fx_new();
    int64_t ad1[1] = {1}, bad[2] = {3, 1};
    IrValue *in2[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, D23), fx_input(f, "axes", IR_DT_INT64, 1, ad1)};
    n = fx_node(f, "ReduceMax", 18, 2, in2);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &n->out[0]->type, IR_DT_FLOAT, 2, bad), 0);
    expect_error(f, n, "not a constant");
    fx_free(f);
}

/* The kernel rejects a parameter block or shapes that do not match its tensors. */
static void test_reduce_kernel_checks(void **state) {
    (void)state;
    RtReduceParams p = {.op = RT_RED_SUM, .rank = 2, .axes_mask = 1};
    float x[6] = {0}, y[3];
    int64_t xd[2] = {2, 3}, yd[1] = {2}; /* wrong: reducing axis 0 leaves 3 elements */
    RtTensor in = {x, xd, 2, IR_DT_FLOAT}, out = {y, yd, 1, IR_DT_FLOAT};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_equal(rt_k_reduce_sum(&ctx, &p, &in, 1, &out, 1), ONNXC_ERR_SHAPE);
    assert_non_null(strstr(ctx.errmsg, "elements"));
    p.op = RT_RED_MAX; /* block meant for another kernel */
    assert_int_equal(rt_k_reduce_sum(&ctx, &p, &in, 1, &out, 1), ONNXC_ERR_INVALID_ARG);
    p.op = RT_RED_SUM;
    p.axes_mask = 4; /* dim 2 of a rank-2 input */
    assert_int_equal(rt_k_reduce_sum(&ctx, &p, &in, 1, &out, 1), ONNXC_ERR_INVALID_ARG);
}

/* ------------------------------------------------------------------ ArgMax / ArgMin */

static void test_argmax_argmin(void **state) {
    (void)state;
    /* x = [[2, 5, 5], [7, 1, 1]] */
    const float x[6] = {2, 5, 5, 7, 1, 1};
    static const struct {
        const char *op;
        int axis, keep, last, rank;
        int64_t dims[2];
        int64_t want[3];
    } cases[] = {
        {"ArgMax", 1, 1, 0, 2, {2, 1}, {1, 0}},    /* first 5 at 1; 7 at 0 */
        {"ArgMax", 1, 0, 1, 1, {2, 0}, {2, 0}},    /* last 5 at 2 */
        {"ArgMin", 1, 0, 0, 1, {2, 0}, {0, 1}},    /* 2 at 0; first 1 at 1 */
        {"ArgMin", -1, 0, 1, 1, {2, 0}, {0, 2}},   /* last 1 at 2 */
        {"ArgMax", 0, 1, 0, 2, {1, 3}, {1, 0, 0}}, /* columns: 7>2, 5>1, 5>1 */
        {"ArgMin", 0, 0, 0, 1, {3, 0}, {0, 1, 1}},
    };
    int64_t d23[2] = {2, 3};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Fx *f = fx_new();
        IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, d23)};
        IrNode *n = fx_node(f, cases[c].op, 13, 1, in);
        set_int(n, "axis", cases[c].axis);
        set_int(n, "keepdims", cases[c].keep);
        set_int(n, "select_last_index", cases[c].last);
        int64_t y[3];
        const void *data[1] = {x};
        assert_int_equal(fx_run(f, n, data, y, cases[c].rank, cases[c].dims), 0);
        assert_int_equal(n->out[0]->type.dtype, IR_DT_INT64);
        int64_t cnt = cases[c].dims[0] * (cases[c].rank == 2 ? cases[c].dims[1] : 1);
        for (int64_t i = 0; i < cnt; i++)
            if (y[i] != cases[c].want[i])
                fail_msg("case %zu element %lld: got %lld want %lld", c, (long long)i,
                         (long long)y[i], (long long)cases[c].want[i]);
        fx_free(f);
    }
    /* int64 values beyond double precision still compare exactly */
    Fx *f = fx_new();
    int64_t d2[1] = {2};
    const int64_t xi[2] = {(int64_t)1 << 60, ((int64_t)1 << 60) + 1};
    IrValue *in[1] = {fx_input(f, "x", IR_DT_INT64, 1, d2)};
    IrNode *n = fx_node(f, "ArgMax", 13, 1, in);
    int64_t y;
    const void *data[1] = {xi};
    int64_t one[1] = {1};
    assert_int_equal(fx_run(f, n, data, &y, 1, one), 0);
    assert_int_equal(y, 1);
    fx_free(f);
    /* opset 11 has no select_last_index: the attribute is ignored, first index wins */
    f = fx_new();
    IrValue *in2[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, d23)};
    n = fx_node(f, "ArgMax", 11, 1, in2);
    set_int(n, "axis", 1);
    set_int(n, "select_last_index", 1);
    int64_t y2[2];
    const void *data2[1] = {x};
    int64_t dd[2] = {2, 1};
    assert_int_equal(fx_run(f, n, data2, y2, 2, dd), 0);
    assert_int_equal(y2[0], 1);
    fx_free(f);
    /* axis out of range */
    f = fx_new();
    IrValue *in3[1] = {fx_input(f, "x", IR_DT_FLOAT, 2, d23)};
    n = fx_node(f, "ArgMin", 13, 1, in3);
    set_int(n, "axis", 2);
    expect_error(f, n, "out of range");
    fx_free(f);
}

static void test_argmax_nan(void **state) {
    (void)state;
    /* numpy: a NaN is the result of argmax and argmin (first NaN) */
    const float x[4] = {1, NAN, 3, NAN};
    int64_t d4[1] = {4};
    for (int c = 0; c < 2; c++) {
        Fx *f = fx_new();
        IrValue *in[1] = {fx_input(f, "x", IR_DT_FLOAT, 1, d4)};
        IrNode *n = fx_node(f, c ? "ArgMin" : "ArgMax", 13, 1, in);
        set_int(n, "keepdims", 0);
        int64_t y;
        const void *data[1] = {x};
        assert_int_equal(fx_run(f, n, data, &y, 0, NULL), 0);
        assert_int_equal(y, 1);
        fx_free(f);
    }
}

/* ------------------------------------------------------------------ Max / Min / Sum / Mean */

static void test_variadic_broadcast(void **state) {
    (void)state;
    /* a = [1, 5, 3] (shape [3]), b = [[2], [4]] (shape [2,1]), c = 2.5 (scalar):
     * Max(a, b)  = [[2,5,3],[4,5,4]]
     * Min(a, b)  = [[1,2,2],[1,4,3]]
     * Sum(a,b,c) = [[5.5,9.5,7.5],[7.5,11.5,9.5]]
     * Mean(a,b,c)= Sum / 3 */
    const float a[3] = {1, 5, 3}, b[2] = {2, 4}, c = 2.5f;
    int64_t da[1] = {3}, db[2] = {2, 1};
    int64_t want_dims[2] = {2, 3};
    static const struct {
        const char *op;
        int nin;
        float want[6];
    } cases[] = {
        {"Max", 2, {2, 5, 3, 4, 5, 4}},
        {"Min", 2, {1, 2, 2, 1, 4, 3}},
        {"Sum", 3, {5.5f, 9.5f, 7.5f, 7.5f, 11.5f, 9.5f}},
        {"Mean", 3, {5.5f / 3, 9.5f / 3, 7.5f / 3, 7.5f / 3, 11.5f / 3, 9.5f / 3}},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        Fx *f = fx_new();
        IrValue *in[3] = {fx_input(f, "a", IR_DT_FLOAT, 1, da), fx_input(f, "b", IR_DT_FLOAT, 2, db),
                          fx_input(f, "c", IR_DT_FLOAT, 0, NULL)};
        IrNode *n = fx_node(f, cases[k].op, 13, cases[k].nin, in);
        float y[6];
        const void *data[3] = {a, b, &c};
        assert_int_equal(fx_run(f, n, data, y, 2, want_dims), 0);
        assert_floats(y, cases[k].want, 6, 1e-6);
        fx_free(f);
    }
}

static void test_variadic_types(void **state) {
    (void)state;
    int64_t d3[1] = {3};
    /* one input: a copy */
    {
        Fx *f = fx_new();
        const float a[3] = {-1, 0, 2};
        IrValue *in[1] = {fx_input(f, "a", IR_DT_FLOAT, 1, d3)};
        IrNode *n = fx_node(f, "Max", 8, 1, in);
        float y[3];
        const void *data[1] = {a};
        assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
        assert_floats(y, a, 3, 0);
        fx_free(f);
    }
    /* int8 Min and uint64 Max (values above INT64_MAX) */
    {
        Fx *f = fx_new();
        const int8_t a[3] = {-128, 5, 127}, b[3] = {0, -3, 100};
        IrValue *in[2] = {fx_input(f, "a", IR_DT_INT8, 1, d3), fx_input(f, "b", IR_DT_INT8, 1, d3)};
        IrNode *n = fx_node(f, "Min", 13, 2, in);
        int8_t y[3];
        const void *data[2] = {a, b};
        assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
        const int8_t want[3] = {-128, -3, 100};
        assert_memory_equal(y, want, 3);
        fx_free(f);
    }
    {
        Fx *f = fx_new();
        const uint64_t a[3] = {UINT64_MAX, 1, 7}, b[3] = {3, (uint64_t)1 << 63, 7};
        IrValue *in[2] = {fx_input(f, "a", IR_DT_UINT64, 1, d3),
                          fx_input(f, "b", IR_DT_UINT64, 1, d3)};
        IrNode *n = fx_node(f, "Max", 13, 2, in);
        uint64_t y[3];
        const void *data[2] = {a, b};
        assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
        assert_true(y[0] == UINT64_MAX && y[1] == (uint64_t)1 << 63 && y[2] == 7);
        fx_free(f);
    }
    /* float16 Max and NaN propagation in float Max */
    {
        Fx *f = fx_new();
        const uint16_t a[3] = {rt_f2h(1.5f), rt_f2h(-2.0f), rt_f2h(0.25f)};
        const uint16_t b[3] = {rt_f2h(0.5f), rt_f2h(-1.0f), rt_f2h(4.0f)};
        IrValue *in[2] = {fx_input(f, "a", IR_DT_FLOAT16, 1, d3),
                          fx_input(f, "b", IR_DT_FLOAT16, 1, d3)};
        IrNode *n = fx_node(f, "Max", 13, 2, in);
        uint16_t y[3];
        const void *data[2] = {a, b};
        assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
        assert_float_equal(rt_h2f(y[0]), 1.5f, 0);
        assert_float_equal(rt_h2f(y[1]), -1.0f, 0);
        assert_float_equal(rt_h2f(y[2]), 4.0f, 0);
        fx_free(f);
    }
    {
        Fx *f = fx_new();
        const float a[3] = {NAN, 1, 2}, b[3] = {0, NAN, 1};
        IrValue *in[2] = {fx_input(f, "a", IR_DT_FLOAT, 1, d3), fx_input(f, "b", IR_DT_FLOAT, 1, d3)};
        IrNode *n = fx_node(f, "Max", 13, 2, in);
        float y[3];
        const void *data[2] = {a, b};
        assert_int_equal(fx_run(f, n, data, y, 1, d3), 0);
        assert_true(isnan(y[0]) && isnan(y[1]) && y[2] == 2.0f);
        fx_free(f);
    }
}

static void test_variadic_errors(void **state) {
    (void)state;
    int64_t d3[1] = {3}, d2[1] = {2};
    /* mixed element types */
    Fx *f = fx_new();
    IrValue *in[2] = {fx_input(f, "a", IR_DT_FLOAT, 1, d3), fx_input(f, "b", IR_DT_DOUBLE, 1, d3)};
    IrNode *n = fx_node(f, "Max", 13, 2, in);
    expect_error(f, n, "element type");
    fx_free(f);
    /* shapes that do not broadcast */
    f = fx_new();
    IrValue *in2[2] = {fx_input(f, "a", IR_DT_FLOAT, 1, d3), fx_input(f, "b", IR_DT_FLOAT, 1, d2)};
    n = fx_node(f, "Sum", 13, 2, in2);
    expect_error(f, n, "broadcast");
    fx_free(f);
    /* Sum of integers is not in the spec */
    f = fx_new();
    IrValue *in3[1] = {fx_input(f, "a", IR_DT_INT32, 1, d3)};
    n = fx_node(f, "Mean", 13, 1, in3);
    expect_error(f, n, "not supported");
    fx_free(f);
    /* no broadcasting before opset 8 */
    f = fx_new();
    int64_t d1[1] = {1};
    IrValue *in4[2] = {fx_input(f, "a", IR_DT_FLOAT, 1, d3), fx_input(f, "b", IR_DT_FLOAT, 1, d1)};
    n = fx_node(f, "Min", 6, 2, in4);
    expect_error(f, n, "opset 8");
    fx_free(f);
}

/* ------------------------------------------------------------------ ONNX backend node tests */

static const char *backend_dir(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

static int family_test_name(const char *s) {
    static const char *const prefixes[] = {"test_reduce_", "test_argmax_", "test_argmin_",
                                           "test_max_", "test_min_", "test_sum_", "test_mean_"};
    for (size_t i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
        if (strncmp(s, prefixes[i], strlen(prefixes[i])) == 0)
            return strstr(s, "_expanded") == NULL;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs one backend test folder; returns 1 on pass, 0 on failure (reason in why). */
static int run_backend_test(const char *dir, char *why, size_t cap) {
    char path[1024];
    IrDiag d;
    ir_diag_init(&d, dir);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    IrModel *m = fe_load_model(path, NULL, &d);
    int ok = 0;
    IrArena *ar = ir_arena_create();
    if (!m || !ar) {
        snprintf(why, cap, "load: %s", ir_diag_last(&d));
        goto done;
    }
    IrGraph *g = m->graph;
    if (g->nnodes != 1 || g->noutputs != 1) {
        snprintf(why, cap, "expected one node and one output");
        goto done;
    }
    /* read every input; the axes input of a Reduce node becomes a constant (the compiler
     * supports constant axes only, and the backend tests feed them as graph inputs) */
    IrTensor *inputs[16] = {0};
    if (g->ninputs > 16) {
        snprintf(why, cap, "too many inputs");
        goto done;
    }
    IrNode *n = g->first;
    for (int i = 0; i < g->ninputs; i++) {
        snprintf(path, sizeof path, "%s/test_data_set_0/input_%d.pb", dir, i);
        inputs[i] = fe_read_tensor_pb(ar, path, &d);
        if (!inputs[i]) {
            snprintf(why, cap, "input %d: %s", i, ir_diag_last(&d));
            goto done;
        }
        if (strncmp(n->op_type, "Reduce", 6) == 0 && n->nin > 1 && n->in[1] == g->inputs[i])
            g->inputs[i]->init = inputs[i];
    }
    if (pass_infer(g, &d) != 0 || pass_lower(g, &d) != 0) {
        snprintf(why, cap, "compile: %s", ir_diag_last(&d));
        goto done;
    }
    RtKernelFn k = rt_kernel_find(n->kernel);
    if (!k) {
        snprintf(why, cap, "no kernel '%s'", n->kernel ? n->kernel : "(null)");
        goto done;
    }
    RtTensor in[16];
    for (int i = 0; i < n->nin; i++) {
        const IrTensor *t = NULL;
        for (int j = 0; j < g->ninputs; j++)
            if (n->in[i] == g->inputs[j])
                t = inputs[j];
        if (!t) {
            snprintf(why, cap, "node input %d is not a graph input", i);
            goto done;
        }
        in[i] = (RtTensor){t->data, t->dims, t->rank, t->dtype};
    }
    const IrType *yt = &n->out[0]->type;
    int64_t odims[IR_MAX_RANK];
    for (int j = 0; j < yt->rank; j++)
        odims[j] = yt->dims[j].value;
    IrTensor *y = ir_tensor_new(ar, yt->dtype, yt->rank, odims);
    if (!y) {
        snprintf(why, cap, "cannot allocate the output");
        goto done;
    }
    RtTensor out = {y->data, y->dims, y->rank, y->dtype};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    if (k(&ctx, n->params, in, n->nin, &out, 1) != 0) {
        snprintf(why, cap, "kernel: %s", ctx.errmsg);
        goto done;
    }
    snprintf(path, sizeof path, "%s/test_data_set_0/output_0.pb", dir);
    IrTensor *want = fe_read_tensor_pb(ar, path, &d);
    if (!want) {
        snprintf(why, cap, "output: %s", ir_diag_last(&d));
        goto done;
    }
    double mabs, mrel;
    if (!harness_compare(y, want, 1e-3, 1e-7, &mabs, &mrel)) {
        snprintf(why, cap, "mismatch: max abs err %g, max rel err %g", mabs, mrel);
        goto done;
    }
    ok = 1;
done:
    ir_model_destroy(m);
    ir_arena_destroy(ar);
    ir_diag_free(&d);
    return ok;
}

static void test_backend_node_tests(void **state) {
    (void)state;
    char root[1024];
    snprintf(root, sizeof root, "%s/node", backend_dir());
    DIR *dh = opendir(root);
    if (!dh) {
        print_message("skipped: no ONNX backend test data at %s (set ONNXC_BACKEND_TESTS)\n",
                      root);
        skip();
        return;
    }
    char *names[512];
    int cnt = 0;
    struct dirent *e;
    while ((e = readdir(dh)) && cnt < 512)
        if (family_test_name(e->d_name))
            names[cnt++] = strdup(e->d_name);
    closedir(dh);
    qsort(names, (size_t)cnt, sizeof names[0], cmp_str);
    int pass = 0;
    for (int i = 0; i < cnt; i++) {
        char dir[1400], why[600] = "";
        snprintf(dir, sizeof dir, "%s/%s", root, names[i]);
        if (run_backend_test(dir, why, sizeof why))
            pass++;
        else
            print_message("FAIL %s: %s\n", names[i], why);
        free(names[i]);
    }
    print_message("backend node tests of the reduce family: %d of %d pass\n", pass, cnt);
    assert_true(cnt > 0);
    assert_int_equal(pass, cnt);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reduce_sum_axes_input),
        cmocka_unit_test(test_reduce_mean_all_axes_default),
        cmocka_unit_test(test_reduce_attr_axes_old_opset),
        cmocka_unit_test(test_reduce_max_two_axes),
        cmocka_unit_test(test_reduce_norms_and_logs),
        cmocka_unit_test(test_reduce_logsumexp_large),
        cmocka_unit_test(test_reduce_noop_empty_axes),
        cmocka_unit_test(test_reduce_empty_set_identities),
        cmocka_unit_test(test_reduce_integers),
        cmocka_unit_test(test_reduce_bool_max_min),
        cmocka_unit_test(test_reduce_all_axis_subsets),
        cmocka_unit_test(test_reduce_random_vs_naive),
        cmocka_unit_test(test_reduce_float16),
        cmocka_unit_test(test_reduce_errors),
        cmocka_unit_test(test_reduce_axes_at_run_time),
        cmocka_unit_test(test_reduce_kernel_checks),
        cmocka_unit_test(test_argmax_argmin),
        cmocka_unit_test(test_argmax_nan),
        cmocka_unit_test(test_variadic_broadcast),
        cmocka_unit_test(test_variadic_types),
        cmocka_unit_test(test_variadic_errors),
        cmocka_unit_test(test_backend_node_tests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
