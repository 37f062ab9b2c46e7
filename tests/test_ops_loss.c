/* test_ops_loss.c - the loss family (ops/op_loss.c, runtime/rt_loss.c): type and shape inference,
 * lowering and kernels of NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss, and the
 * gradient kernel of SoftmaxCrossEntropyLoss checked against central finite differences.
 *
 * Expected values are worked out by hand in the comments (small cases).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/ir.h"
#include "ops/op.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------ fixture helpers */

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

static IrValue *fx_input(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    assert_int_equal(ir_graph_add_input(f->g, v), 0);
    return v;
}

/* A node with the given inputs (NULL entries are omitted) and nout outputs y0, y1. */
static IrNode *fx_node(Fx *f, const char *op, int opset, int nin, IrValue **in, int nout) {
    IrValue *y[2] = {ir_value_new(f->g, "y0"), ir_value_new(f->g, "y1")};
    IrNode *n = ir_node_new(f->g, NULL, op, "", op, opset, nin, in, nout, y);
    assert_non_null(n);
    assert_int_not_equal(n->op, OP_UNKNOWN);
    return n;
}

static void set_int(IrNode *n, const char *name, int64_t v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INT);
    assert_non_null(a);
    a->i = v;
}

static void set_str(IrNode *n, const char *name, const char *s) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_STRING);
    assert_non_null(a);
    a->s.data = ir_arena_strdup(n->graph->arena, s);
    a->s.len = strlen(s);
}

static void infer_lower_ok(Fx *f, IrNode *n) {
    if (op_infer_node(n, &f->d) != 0 || op_lower_node(n, &f->d) != 0) {
        ir_diag_print(&f->d, stderr);
        fail_msg("infer/lower failed: %s", ir_diag_last(&f->d));
    }
}

static void expect_error(Fx *f, IrNode *n, const char *needle) {
    int rc = op_infer_node(n, &f->d);
    if (rc == 0)
        rc = op_lower_node(n, &f->d);
    assert_int_not_equal(rc, 0);
    if (!strstr(ir_diag_last(&f->d), needle))
        fail_msg("message '%s' lacks '%s'", ir_diag_last(&f->d), needle);
}

static void assert_close(const double *got, const double *want, int n, double tol) {
    for (int i = 0; i < n; i++)
        if (!(fabs(got[i] - want[i]) <= tol))
            fail_msg("element %d: got %.12g, want %.12g", i, got[i], want[i]);
}

/* Runs a loss kernel on double tensors: x (rank xr), labels int64 (rank xr-1), weights w (C) or
 * NULL, output y (ny elements), optional log_prob lp (x's shape). */
static int run_loss(const char *kernel, const RtLossParams *p, const double *x, const int64_t *xd,
                    int xr, const int64_t *lab, const double *w, double *y, int64_t ny,
                    double *lp) {
    int64_t ld[8], wd[1] = {xd[1]}, yd[1] = {ny};
    ld[0] = xd[0];
    for (int i = 2; i < xr; i++)
        ld[i - 1] = xd[i];
    RtTensor in[3] = {{(void *)x, xd, xr, IR_DT_DOUBLE},
                      {(void *)lab, ld, xr - 1, IR_DT_INT64},
                      {(void *)w, wd, w ? 1 : -1, IR_DT_DOUBLE}};
    RtTensor out[2] = {{y, yd, 1, IR_DT_DOUBLE}, {lp, xd, lp ? xr : -1, IR_DT_DOUBLE}};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    RtKernelFn k = rt_kernel_find(kernel);
    assert_non_null(k);
    int st = k(&ctx, p, in, 3, out, 2);
    if (st)
        print_message("kernel: %s\n", ctx.errmsg);
    return st;
}

/* ------------------------------------------------------------------ NegativeLogLikelihoodLoss */

/* x = [[-1,-2,-3],[-0.5,-1.5,-2.5]], labels [2, 0], weights [1, 2, 3]. */
static const double NX[6] = {-1, -2, -3, -0.5, -1.5, -2.5};
static const int64_t NXD[2] = {2, 3};
static const double NW[3] = {1, 2, 3};

static void test_nll_reductions(void **state) {
    (void)state;
    const int64_t lab[2] = {2, 0};
    double y[2];
    RtLossParams p = {RT_LOSS_NONE, 0, 0};
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NULL, y, 2, NULL), 0);
    const double w_none[2] = {3, 0.5}; /* -x[0,2], -x[1,0] */
    assert_close(y, w_none, 2, 1e-12);
    p.reduction = RT_LOSS_SUM;
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NULL, y, 1, NULL), 0);
    assert_close(y, (const double[]){3.5}, 1, 1e-12);
    p.reduction = RT_LOSS_MEAN;
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NULL, y, 1, NULL), 0);
    assert_close(y, (const double[]){1.75}, 1, 1e-12);
    /* weights: losses 3*3 = 9 and 0.5*1; mean = 9.5 / (3 + 1) */
    p.reduction = RT_LOSS_NONE;
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NW, y, 2, NULL), 0);
    assert_close(y, (const double[]){9, 0.5}, 2, 1e-12);
    p.reduction = RT_LOSS_MEAN;
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NW, y, 1, NULL), 0);
    assert_close(y, (const double[]){2.375}, 1, 1e-12);
}

static void test_nll_ignore_index(void **state) {
    (void)state;
    /* labels [2, -1] with ignore_index -1: the second element counts for neither sum nor weight */
    const int64_t lab[2] = {2, -1};
    double y[2];
    RtLossParams p = {RT_LOSS_NONE, 1, -1};
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NW, y, 2, NULL), 0);
    assert_close(y, (const double[]){9, 0}, 2, 0);
    p.reduction = RT_LOSS_MEAN; /* 9 / 3 */
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NW, y, 1, NULL), 0);
    assert_close(y, (const double[]){3}, 1, 1e-12);
    p.reduction = RT_LOSS_MEAN; /* no weights: 3 / 1 non-ignored element */
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab, NULL, y, 1, NULL), 0);
    assert_close(y, (const double[]){3}, 1, 1e-12);
    /* an ignore_index beyond C (10), as in the backend tests' *_high_ii */
    const int64_t lab2[2] = {10, 1};
    p = (RtLossParams){RT_LOSS_SUM, 1, 10};
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab2, NULL, y, 1, NULL), 0);
    assert_close(y, (const double[]){1.5}, 1, 1e-12);
    /* every element ignored: mean is 0/0 */
    const int64_t lab3[2] = {10, 10};
    p.reduction = RT_LOSS_MEAN;
    assert_int_equal(run_loss("rt_k_nll_loss", &p, NX, NXD, 2, lab3, NULL, y, 1, NULL), 0);
    assert_true(isnan(y[0]));
}

static void test_nll_nd_and_bad_labels(void **state) {
    (void)state;
    /* x (1, 2, 2): x[0,:,0] = [-1,-2], x[0,:,1] = [-3,-4]; labels [[1, 0]] -> [[2, 3]] */
    const double x[4] = {-1, -3, -2, -4};
    const int64_t xd[3] = {1, 2, 2};
    const int64_t lab[2] = {1, 0};
    double y[2];
    RtLossParams p = {RT_LOSS_NONE, 0, 0};
    assert_int_equal(run_loss("rt_k_nll_loss", &p, x, xd, 3, lab, NULL, y, 2, NULL), 0);
    assert_close(y, (const double[]){2, 3}, 2, 0);
    /* out of range labels fail at run time, also when an ignore_index is set to another value */
    const int64_t bad[2] = {2, 0}, neg[2] = {0, -1};
    assert_int_equal(run_loss("rt_k_nll_loss", &p, x, xd, 3, bad, NULL, y, 2, NULL),
                     ONNXC_ERR_RUNTIME);
    p.has_ignore = 1;
    p.ignore_index = -100;
    assert_int_equal(run_loss("rt_k_nll_loss", &p, x, xd, 3, neg, NULL, y, 2, NULL),
                     ONNXC_ERR_RUNTIME);
    /* wrong output size */
    assert_int_equal(run_loss("rt_k_nll_loss", &p, x, xd, 3, lab, NULL, y, 1, NULL),
                     ONNXC_ERR_SHAPE);
}

/* float32 data with int32 labels through infer and lower. */
static void test_nll_infer_float_int32(void **state) {
    (void)state;
    Fx *f = fx_new();
    const int64_t xd[3] = {2, 3, 4}, ld[2] = {2, 4};
    IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 3, xd), fx_input(f, "l", IR_DT_INT32, 2, ld)};
    IrNode *n = fx_node(f, "NegativeLogLikelihoodLoss", 13, 2, in, 1);
    set_str(n, "reduction", "none");
    infer_lower_ok(f, n);
    const IrType *t = &n->out[0]->type;
    assert_int_equal(t->dtype, IR_DT_FLOAT);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0].value, 2);
    assert_int_equal(t->dims[1].value, 4);
    assert_string_equal(n->kernel, "rt_k_nll_loss");
    /* run: x[i, c, d] = -(i*12 + c*4 + d) / 10, labels l[i, d] = (i + d) % 3 */
    float x[24], y[8];
    int32_t lab[8];
    for (int i = 0; i < 24; i++)
        x[i] = -(float)i / 10.0f;
    for (int i = 0; i < 2; i++)
        for (int d = 0; d < 4; d++)
            lab[i * 4 + d] = (i + d) % 3;
    RtTensor ti[2] = {{x, xd, 3, IR_DT_FLOAT}, {lab, ld, 2, IR_DT_INT32}};
    RtTensor to = {y, ld, 2, IR_DT_FLOAT};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_equal(rt_k_nll_loss(&ctx, n->params, ti, 2, &to, 1), 0);
    for (int i = 0; i < 2; i++)
        for (int d = 0; d < 4; d++) {
            int c = (i + d) % 3;
            assert_float_equal(y[i * 4 + d], (float)(i * 12 + c * 4 + d) / 10.0f, 1e-6);
        }
    fx_free(f);
}

static void test_loss_infer_errors(void **state) {
    (void)state;
    const int64_t xd[2] = {2, 3}, ld[1] = {2}, bad[1] = {3}, wd[1] = {4};
    struct {
        IrDType xt, lt;
        const int64_t *ldims;
        const char *reduction;
        int weights;
        const char *needle;
    } cases[] = {
        {IR_DT_INT32, IR_DT_INT64, ld, NULL, 0, "not supported"},
        {IR_DT_FLOAT, IR_DT_FLOAT, ld, NULL, 0, "labels have element type"},
        {IR_DT_FLOAT, IR_DT_INT64, bad, NULL, 0, "labels dim 0"},
        {IR_DT_FLOAT, IR_DT_INT64, ld, "avg", 0, "reduction"},
        {IR_DT_FLOAT, IR_DT_INT64, ld, NULL, 1, "weights"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Fx *f = fx_new();
        IrValue *in[3] = {fx_input(f, "x", cases[c].xt, 2, xd),
                          fx_input(f, "l", cases[c].lt, 1, cases[c].ldims),
                          cases[c].weights ? fx_input(f, "w", IR_DT_FLOAT, 1, wd) : NULL};
        IrNode *n = fx_node(f, c % 2 ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss",
                            13, 3, in, 1);
        if (cases[c].reduction)
            set_str(n, "reduction", cases[c].reduction);
        expect_error(f, n, cases[c].needle);
        fx_free(f);
    }
    /* labels of the wrong rank */
    Fx *f = fx_new();
    IrValue *in[2] = {fx_input(f, "x", IR_DT_FLOAT, 2, xd), fx_input(f, "l", IR_DT_INT64, 2, xd)};
    IrNode *n = fx_node(f, "SoftmaxCrossEntropyLoss", 13, 2, in, 1);
    expect_error(f, n, "rank");
    fx_free(f);
}

/* ------------------------------------------------------------------ SoftmaxCrossEntropyLoss */

static void test_sce_values_and_log_prob(void **state) {
    (void)state;
    /* one row of scores [1, 2, 3]: lse = 3 + log(1 + e^-1 + e^-2) = 3.40760596444438;
     * second row [0, 0, 0]: lse = log 3 */
    const double x[6] = {1, 2, 3, 0, 0, 0};
    const int64_t lab[2] = {0, 2};
    const double lse = 3.40760596444438, l3 = log(3.0);
    double y[2], lp[6];
    RtLossParams p = {RT_LOSS_NONE, 0, 0};
    assert_int_equal(run_loss("rt_k_sce_loss", &p, x, NXD, 2, lab, NULL, y, 2, lp), 0);
    assert_close(y, (const double[]){lse - 1, l3}, 2, 1e-12);
    const double want_lp[6] = {1 - lse, 2 - lse, 3 - lse, -l3, -l3, -l3};
    assert_close(lp, want_lp, 6, 1e-12);
    /* mean with weights [1,2,3]: (1*(lse-1) + 3*l3) / (1 + 3) */
    p.reduction = RT_LOSS_MEAN;
    assert_int_equal(run_loss("rt_k_sce_loss", &p, x, NXD, 2, lab, NW, y, 1, NULL), 0);
    assert_close(y, (const double[]){(lse - 1 + 3 * l3) / 4}, 1, 1e-12);
    /* ignore the second row: the log_prob output is still written for it */
    p = (RtLossParams){RT_LOSS_SUM, 1, 2};
    memset(lp, 0, sizeof lp);
    assert_int_equal(run_loss("rt_k_sce_loss", &p, x, NXD, 2, lab, NULL, y, 1, lp), 0);
    assert_close(y, (const double[]){lse - 1}, 1, 1e-12);
    assert_close(lp, want_lp, 6, 1e-12);
    /* large scores do not overflow */
    const double big[6] = {1000, 1001, 1002, -1000, 0, 1000};
    p = (RtLossParams){RT_LOSS_NONE, 0, 0};
    assert_int_equal(run_loss("rt_k_sce_loss", &p, big, NXD, 2, lab, NULL, y, 2, NULL), 0);
    assert_close(y, (const double[]){lse - 1, log(1 + exp(-1000.0) + exp(-2000.0))}, 2, 1e-9);
    const int64_t bad[2] = {3, 0};
    assert_int_equal(run_loss("rt_k_sce_loss", &p, x, NXD, 2, bad, NULL, y, 2, NULL),
                     ONNXC_ERR_RUNTIME);
}

static void test_sce_infer_outputs(void **state) {
    (void)state;
    Fx *f = fx_new();
    const int64_t xd[4] = {3, 5, 2, 7}, ld[3] = {3, 2, 7}, wd[1] = {5};
    IrValue *in[3] = {fx_input(f, "x", IR_DT_DOUBLE, 4, xd), fx_input(f, "l", IR_DT_INT64, 3, ld),
                      fx_input(f, "w", IR_DT_DOUBLE, 1, wd)};
    IrNode *n = fx_node(f, "SoftmaxCrossEntropyLoss", 13, 3, in, 2);
    set_int(n, "ignore_index", -7);
    infer_lower_ok(f, n);
    assert_int_equal(n->out[0]->type.rank, 0); /* mean by default */
    assert_int_equal(n->out[1]->type.rank, 4);
    assert_int_equal(n->out[1]->type.dims[3].value, 7);
    assert_int_equal(n->out[1]->type.dtype, IR_DT_DOUBLE);
    const RtLossParams *p = n->params;
    assert_int_equal(p->reduction, RT_LOSS_MEAN);
    assert_int_equal(p->has_ignore, 1);
    assert_int_equal(p->ignore_index, -7);
    assert_string_equal(n->kernel, "rt_k_sce_loss");
    fx_free(f);
}

/* ------------------------------------------------------------------ gradient */

/* sum_e dY[e] * loss[e] (none) or dY * loss (sum/mean) for scores x: the function whose gradient
 * rt_k_sce_loss_grad computes. */
static double sce_objective(const RtLossParams *p, const double *x, const int64_t *xd,
                            const int64_t *lab, const double *w, const double *dy, int64_t ne) {
    double y[64];
    assert_true(ne <= 64);
    int64_t ny = p->reduction == RT_LOSS_NONE ? ne : 1;
    assert_int_equal(run_loss("rt_k_sce_loss", p, x, xd, 3, lab, w, y, ny, NULL), 0);
    double s = 0;
    for (int64_t i = 0; i < ny; i++)
        s += dy[i] * y[i];
    return s;
}

static void test_sce_grad_finite_differences(void **state) {
    (void)state;
    enum { N = 2, C = 4, D = 3, NX = N * C * D, NE = N * D };
    const int64_t xd[3] = {N, C, D}, ld[2] = {N, D}, wd[1] = {C}, yd[2] = {N, D};
    double x[NX], w[C] = {0.5, 1.0, 2.0, 1.5}, dy[NE], g[NX];
    int64_t lab[NE] = {0, 3, -1, 2, 1, 1}; /* -1 is ignored */
    srand(7);
    for (int i = 0; i < NX; i++)
        x[i] = (double)rand() / RAND_MAX * 4.0 - 2.0;
    for (int i = 0; i < NE; i++)
        dy[i] = (double)rand() / RAND_MAX + 0.5;
    for (int red = RT_LOSS_NONE; red <= RT_LOSS_MEAN; red++)
        for (int weighted = 0; weighted < 2; weighted++) {
            RtLossParams p = {red, 1, -1};
            const double *wp = weighted ? w : NULL;
            RtTensor in[4] = {{dy, red == RT_LOSS_NONE ? yd : NULL, red == RT_LOSS_NONE ? 2 : 0,
                               IR_DT_DOUBLE},
                              {x, xd, 3, IR_DT_DOUBLE},
                              {lab, ld, 2, IR_DT_INT64},
                              {(void *)wp, wd, wp ? 1 : -1, IR_DT_DOUBLE}};
            RtTensor out = {g, xd, 3, IR_DT_DOUBLE};
            RtCtx ctx;
            rt_ctx_init(&ctx);
            assert_int_equal(rt_k_sce_loss_grad(&ctx, &p, in, 4, &out, 1), 0);
            double maxd = 0;
            for (int i = 0; i < NX; i++) {
                const double h = 1e-5, x0 = x[i];
                x[i] = x0 + h;
                double fp = sce_objective(&p, x, xd, lab, wp, dy, NE);
                x[i] = x0 - h;
                double fm = sce_objective(&p, x, xd, lab, wp, dy, NE);
                x[i] = x0;
                double fd = (fp - fm) / (2 * h), diff = fabs(fd - g[i]);
                if (diff > maxd)
                    maxd = diff;
                if (diff > 1e-7)
                    fail_msg("reduction %d weighted %d: d/dx[%d] = %.10g, finite difference %.10g",
                             red, weighted, i, g[i], fd);
            }
            /* the ignored element (n=0, d=2) gets a zero gradient */
            for (int c = 0; c < C; c++)
                assert_true(g[c * D + 2] == 0.0);
            print_message("reduction %d weighted %d: largest difference %.3g\n", red, weighted,
                          maxd);
        }
    /* a bad label is a run-time error */
    lab[0] = 4;
    RtLossParams p = {RT_LOSS_SUM, 1, -1};
    RtTensor in[3] = {{dy, NULL, 0, IR_DT_DOUBLE},
                      {x, xd, 3, IR_DT_DOUBLE},
                      {lab, ld, 2, IR_DT_INT64}};
    RtTensor out = {g, xd, 3, IR_DT_DOUBLE};
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_int_equal(rt_k_sce_loss_grad(&ctx, &p, in, 3, &out, 1), ONNXC_ERR_RUNTIME);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nll_reductions),
        cmocka_unit_test(test_nll_ignore_index),
        cmocka_unit_test(test_nll_nd_and_bad_labels),
        cmocka_unit_test(test_nll_infer_float_int32),
        cmocka_unit_test(test_loss_infer_errors),
        cmocka_unit_test(test_sce_values_and_log_prob),
        cmocka_unit_test(test_sce_infer_outputs),
        cmocka_unit_test(test_sce_grad_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
