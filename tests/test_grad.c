/* test_grad.c - every gradient rule (ops/grad_*.c) against central finite differences
 * (docs/TRAINING.md).
 *
 * For each case a one-node graph is built whose inputs are constants with seeded random data
 * (double precision where the forward kernel has it); the loss is sum(out * R) with a random
 * R, so the rule sees a general upstream gradient. The autodiff pass builds the backward nodes,
 * every node is lowered and the graph is evaluated by calling the kernels natively in list
 * order. The analytic gradient of every element (inputs of up to 16) or of 8 spread elements per
 * differentiable input is compared with
 * (L(x + h) - L(x - h)) / 2h; the largest difference is printed.
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
#include "passes/pass.h"
#include "passes/pass_train.h"
#include "runtime/onnxc_rt.h"

enum { K_PARAM = 0, K_POS = 1, K_INTS = 2, K_LABELS = 3, K_NONE = 4, K_CONSTF = 5, K_BOOL = 6 };

typedef struct GCase {
    const char *name, *op;
    int opset;
    int nin;
    int kind[5];
    int rank[5];
    int64_t dims[5][5];
    int64_t ints[5][12]; /* K_INTS values (row-major, numel entries); K_LABELS: classes in [0] */
    const char *attrs;   /* "a=1;b=0.5;c=[1,2];d=str" */
    IrDType dt;          /* element type of the float inputs */
    int nout;            /* outputs (0: 1); the loss sums sum(out_i * R_i) over all of them */
} GCase;

static uint64_t g_rng = 12345;
static double urand(void) {
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(g_rng >> 11) / 9007199254740992.0;
}

static void add_attrs(IrNode *n, const char *spec) {
    if (!spec)
        return;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", spec);
    for (char *tok = strtok(buf, ";"); tok; tok = strtok(NULL, ";")) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = '\0';
        const char *v = eq + 1;
        IrAttr *a;
        if (v[0] == '[') {
            int64_t vals[16];
            int k = 0;
            for (const char *p = v + 1; *p && *p != ']' && k < 16;) {
                vals[k++] = strtoll(p, (char **)&p, 10);
                if (*p == ',')
                    p++;
            }
            a = ir_node_add_attr(n, tok, IR_ATTR_INTS);
            a->ints = ir_arena_memdup(n->graph->arena, vals, (size_t)k * sizeof(int64_t));
            a->n = k;
        } else if ((v[0] >= '0' && v[0] <= '9') || v[0] == '-') {
            if (strchr(v, '.')) {
                a = ir_node_add_attr(n, tok, IR_ATTR_FLOAT);
                a->f = strtof(v, NULL);
            } else {
                a = ir_node_add_attr(n, tok, IR_ATTR_INT);
                a->i = strtoll(v, NULL, 10);
            }
        } else {
            a = ir_node_add_attr(n, tok, IR_ATTR_STRING);
            a->s.data = ir_arena_strdup(n->graph->arena, v);
            a->s.len = strlen(v);
        }
        assert_non_null(a);
    }
}

/* Buffers of every value (by id) while evaluating. */
typedef struct Eval {
    void **buf;
    int n;
} Eval;

static void *vdata(Eval *e, IrValue *v) {
    if (v->init)
        return v->init->data;
    if (!e->buf[v->id]) {
        int64_t nb = 0;
        assert_int_equal(ir_type_nbytes(&v->type, &nb), 0);
        e->buf[v->id] = calloc(1, (size_t)nb + 16);
    }
    return e->buf[v->id];
}

static void tensor_of(Eval *e, IrValue *v, RtTensor *t, int64_t *dims) {
    if (!v) {
        *t = (RtTensor){NULL, NULL, -1, 0};
        return;
    }
    for (int i = 0; i < v->type.rank; i++)
        dims[i] = v->type.dims[i].value;
    *t = (RtTensor){vdata(e, v), dims, v->type.rank, v->type.dtype};
}

/* Runs every lowered node; returns the loss value. */
static double run_graph(IrGraph *g, Eval *e, IrValue *loss) {
    for (IrNode *n = g->first; n; n = n->next) {
        if (!n->kernel)
            continue;
        RtTensor in[16], out[8];
        int64_t dims[24][IR_MAX_RANK];
        assert_true(n->nin <= 16 && n->nout <= 8);
        for (int i = 0; i < n->nin; i++)
            tensor_of(e, n->in[i], &in[i], dims[i]);
        for (int i = 0; i < n->nout; i++)
            tensor_of(e, n->out[i], &out[i], dims[16 + i]);
        RtKernelFn k = rt_kernel_find(n->kernel);
        assert_non_null(k);
        RtCtx ctx;
        rt_ctx_init(&ctx);
        int st = k(&ctx, n->params, in, n->nin, out, n->nout);
        if (st)
            fail_msg("node %s (%s): %s", n->name, n->op_type, ctx.errmsg);
    }
    void *p = vdata(e, loss);
    return loss->type.dtype == IR_DT_DOUBLE ? *(double *)p : *(float *)p;
}

static double ld(const IrValue *v, void *p, int64_t i) {
    return v->type.dtype == IR_DT_DOUBLE ? ((double *)p)[i] : ((float *)p)[i];
}

static void check_case(const GCase *c) {
    IrDiag d;
    ir_diag_init(&d, c->name);
    d.echo = 1;
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "g");
    IrGraph *g = m->graph;
    IrDType dt = c->dt ? c->dt : IR_DT_DOUBLE;
    IrValue *in[5] = {0}, *wrt[5];
    int nwrt = 0;
    for (int i = 0; i < c->nin; i++) {
        if (c->kind[i] == K_NONE)
            continue;
        char nm[16];
        snprintf(nm, sizeof nm, "in%d", i);
        IrValue *v = ir_value_new(g, nm);
        IrDType t = c->kind[i] == K_INTS || c->kind[i] == K_LABELS ? IR_DT_INT64
                    : c->kind[i] == K_BOOL                       ? IR_DT_BOOL
                                                                 : dt;
        IrTensor *ts = ir_tensor_new(g->arena, t, c->rank[i], c->dims[i]);
        assert_non_null(ts);
        for (int64_t k = 0; k < ts->numel; k++) {
            if (c->kind[i] == K_INTS)
                ((int64_t *)ts->data)[k] = c->ints[i][k];
            else if (c->kind[i] == K_BOOL)
                ((uint8_t *)ts->data)[k] = urand() < 0.5;
            else if (c->kind[i] == K_LABELS)
                ((int64_t *)ts->data)[k] = (int64_t)(urand() * (double)c->ints[i][0]);
            else {
                double x = c->kind[i] == K_POS || c->kind[i] == K_CONSTF ? 0.5 + urand() : 2.0 * urand() - 1.0;
                if (t == IR_DT_DOUBLE)
                    ((double *)ts->data)[k] = x;
                else
                    ((float *)ts->data)[k] = (float)x;
            }
        }
        ts->name = v->name;
        v->init = ts;
        assert_int_equal(ir_type_set_tensor(g->arena, &v->type, t, c->rank[i], c->dims[i]), 0);
        assert_int_equal(ir_graph_add_init(g, v), 0);
        in[i] = v;
        if (c->kind[i] == K_PARAM || c->kind[i] == K_POS)
            wrt[nwrt++] = v;
    }
    int nout = c->nout ? c->nout : 1;
    IrValue *ys[8], *parts[8];
    for (int o = 0; o < nout; o++) {
        char nm[16];
        snprintf(nm, sizeof nm, "y%d", o);
        ys[o] = ir_value_new(g, nm);
    }
    IrNode *n = ir_node_new(g, NULL, "fwd", "", c->op, c->opset, c->nin, in, nout, ys);
    assert_non_null(n);
    add_attrs(n, c->attrs);
    /* the parameters look computed while the forward node is typed, so that it is not folded */
    IrTensor *saved[5];
    for (int w = 0; w < nwrt; w++) {
        saved[w] = wrt[w]->init;
        wrt[w]->init = NULL;
    }
    int inf = op_infer_node(n, &d);
    for (int w = 0; w < nwrt; w++)
        wrt[w]->init = saved[w];
    if (inf)
        fail_msg("%s: forward inference failed: %s", c->name, ir_diag_last(&d));
    /* loss = sum over outputs of ReduceSum(y_o * R_o) */
    for (int o = 0; o < nout; o++) {
        IrValue *y = ys[o];
        char nm[16];
        snprintf(nm, sizeof nm, "R%d", o);
        IrValue *r = ir_value_new(g, nm);
        int64_t yd[IR_MAX_RANK];
        for (int i = 0; i < y->type.rank; i++)
            yd[i] = y->type.dims[i].value;
        IrTensor *rt = ir_tensor_new(g->arena, y->type.dtype, y->type.rank, yd);
        for (int64_t k = 0; k < rt->numel; k++) {
            double x = 2.0 * urand() - 1.0;
            if (rt->dtype == IR_DT_DOUBLE)
                ((double *)rt->data)[k] = x;
            else
                ((float *)rt->data)[k] = (float)x;
        }
        rt->name = r->name;
        r->init = rt;
        ir_type_set_tensor(g->arena, &r->type, rt->dtype, rt->rank, yd);
        ir_graph_add_init(g, r);
        snprintf(nm, sizeof nm, "yr%d", o);
        IrValue *yr = ir_value_new(g, nm);
        snprintf(nm, sizeof nm, "part%d", o);
        parts[o] = ir_value_new(g, nm);
        IrNode *mul = ir_node_new(g, NULL, "mul", "", "Mul", 17, 2, (IrValue *[]){y, r}, 1, &yr);
        IrNode *rs = ir_node_new(g, NULL, "sum", "", "ReduceSum", 17, 1, &yr, 1, &parts[o]);
        ir_node_add_attr(rs, "keepdims", IR_ATTR_INT);
        assert_int_equal(op_infer_node(mul, &d), 0);
        assert_int_equal(op_infer_node(rs, &d), 0);
    }
    IrValue *loss = parts[0];
    if (nout > 1) {
        loss = ir_value_new(g, "loss");
        IrNode *sn = ir_node_new(g, NULL, "total", "", "Sum", 13, nout, parts, 1, &loss);
        assert_int_equal(op_infer_node(sn, &d), 0);
    }
    IrValue *grads[5];
    if (pass_autodiff(g, loss, nwrt, wrt, grads, &d))
        fail_msg("%s: autodiff failed: %s", c->name, ir_diag_last(&d));
    if (pass_lower(g, &d))
        fail_msg("%s: lowering failed: %s", c->name, ir_diag_last(&d));
    Eval e = {calloc((size_t)g->nvalues + 1, sizeof(void *)), g->nvalues};
    run_graph(g, &e, loss);
    double worst = 0, biggest = 0, h = dt == IR_DT_DOUBLE ? (getenv("GRAD_H") ? atof(getenv("GRAD_H")) : 1e-6) : 1e-2;
    double tol = dt == IR_DT_DOUBLE ? 1e-6 : 2e-2;
    for (int w = 0; w < nwrt; w++) {
        IrTensor *t = wrt[w]->init;
        void *gp = vdata(&e, grads[w]);
        int64_t cnt = t->numel <= 16 ? t->numel : 8; /* every element of small inputs */
        double *an = malloc((size_t)cnt * sizeof(double));
        for (int64_t s = 0; s < cnt; s++) {
            int64_t k = (t->numel * s) / cnt;
            an[s] = ld(grads[w], gp, k);
        }
        for (int64_t s = 0; s < cnt; s++) {
            int64_t k = (t->numel * s) / cnt;
            double x0 = ld(wrt[w], t->data, k), lp, lm;
            if (dt == IR_DT_DOUBLE)
                ((double *)t->data)[k] = x0 + h;
            else
                ((float *)t->data)[k] = (float)(x0 + h);
            lp = run_graph(g, &e, loss);
            if (dt == IR_DT_DOUBLE)
                ((double *)t->data)[k] = x0 - h;
            else
                ((float *)t->data)[k] = (float)(x0 - h);
            lm = run_graph(g, &e, loss);
            if (dt == IR_DT_DOUBLE)
                ((double *)t->data)[k] = x0;
            else
                ((float *)t->data)[k] = (float)x0;
            run_graph(g, &e, loss); /* back to the unperturbed state for the next reads */
            double num = (lp - lm) / (2 * h), diff = fabs(num - an[s]) / (1.0 + fabs(num));
            if (diff > worst)
                worst = diff;
            if (fabs(num) > biggest)
                biggest = fabs(num);
            if (diff > tol)
                fail_msg("%s: d loss / d %s[%lld]: analytic %.9g, numeric %.9g", c->name,
                         wrt[w]->name, (long long)k, an[s], num);
        }
        free(an);
    }
    run_graph(g, &e, loss);
    /* a case whose sampled gradients all vanish checks nothing (a folded forward node, a bad
     * sample): refuse it */
    if (nwrt && biggest < 1e-3)
        fail_msg("%s: every sampled gradient is 0", c->name);
    printf("  %-28s %d inputs, largest difference %.2e\n", c->name, nwrt, worst);
    for (int i = 0; i < e.n; i++)
        free(e.buf[i]);
    free(e.buf);
    ir_model_destroy(m);
    ir_diag_free(&d);
}

static const GCase cases[] = {
    {"Add broadcast", "Add", 14, 2, {K_PARAM, K_PARAM}, {2, 1}, {{3, 4}, {4}}, {{0}}, NULL, 0, 0},
    {"Sub broadcast", "Sub", 14, 2, {K_PARAM, K_PARAM}, {2, 2}, {{3, 4}, {3, 1}}, {{0}}, NULL, 0, 0},
    {"Mul broadcast", "Mul", 14, 2, {K_PARAM, K_PARAM}, {3, 1}, {{2, 3, 4}, {4}}, {{0}}, NULL, 0, 0},
    {"Div broadcast", "Div", 14, 2, {K_PARAM, K_POS}, {2, 2}, {{3, 4}, {1, 4}}, {{0}}, NULL, 0, 0},
    {"Pow", "Pow", 15, 2, {K_POS, K_PARAM}, {2, 2}, {{3, 4}, {3, 4}}, {{0}}, NULL, 0, 0},
    {"Neg", "Neg", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Relu", "Relu", 14, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"LeakyRelu", "LeakyRelu", 16, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "alpha=0.1", 0, 0},
    {"Sigmoid", "Sigmoid", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Tanh", "Tanh", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Exp", "Exp", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Log", "Log", 13, 1, {K_POS}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Sqrt", "Sqrt", 13, 1, {K_POS}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Abs", "Abs", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Reciprocal", "Reciprocal", 13, 1, {K_POS}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Elu", "Elu", 6, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "alpha=0.7", 0, 0},
    {"Softplus", "Softplus", 1, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Softsign", "Softsign", 1, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"HardSigmoid", "HardSigmoid", 6, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "alpha=0.3;beta=0.4", 0, 0},
    {"Selu", "Selu", 6, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Gelu", "Gelu", 20, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Sin", "Sin", 7, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Cos", "Cos", 7, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Erf", "Erf", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Gemm", "Gemm", 13, 3, {K_PARAM, K_PARAM, K_PARAM}, {2, 2, 1}, {{3, 4}, {4, 5}, {5}}, {{0}}, NULL, 0, 0},
    {"Gemm transA", "Gemm", 13, 3, {K_PARAM, K_PARAM, K_PARAM}, {2, 2, 2}, {{4, 3}, {4, 5}, {3, 5}}, {{0}},
     "transA=1;alpha=0.5;beta=2.0", 0, 0},
    {"Gemm transB", "Gemm", 13, 3, {K_PARAM, K_PARAM, K_PARAM}, {2, 2, 2}, {{3, 4}, {5, 4}, {1, 5}}, {{0}},
     "transB=1", 0, 0},
    {"Gemm transA transB", "Gemm", 13, 2, {K_PARAM, K_PARAM}, {2, 2}, {{4, 3}, {5, 4}}, {{0}},
     "transA=1;transB=1;alpha=1.5", 0, 0},
    {"MatMul 2-D", "MatMul", 13, 2, {K_PARAM, K_PARAM}, {2, 2}, {{3, 4}, {4, 5}}, {{0}}, NULL, 0, 0},
    {"MatMul batched", "MatMul", 13, 2, {K_PARAM, K_PARAM}, {3, 2}, {{2, 3, 4}, {4, 5}}, {{0}}, NULL, 0, 0},
    {"Reshape", "Reshape", 14, 2, {K_PARAM, K_INTS}, {2, 1}, {{3, 4}, {2}}, {{0}, {6, 2}}, NULL, 0, 0},
    {"Flatten", "Flatten", 13, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, "axis=2", 0, 0},
    {"Squeeze", "Squeeze", 13, 2, {K_PARAM, K_INTS}, {3, 1}, {{3, 1, 4}, {1}}, {{0}, {1}}, NULL, 0, 0},
    {"Unsqueeze", "Unsqueeze", 13, 2, {K_PARAM, K_INTS}, {2, 1}, {{3, 4}, {1}}, {{0}, {0}}, NULL, 0, 0},
    {"Identity", "Identity", 16, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Transpose", "Transpose", 13, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, "perm=[2,0,1]", 0, 0},
    {"ReduceSum axes", "ReduceSum", 13, 2, {K_PARAM, K_INTS}, {3, 1}, {{2, 3, 4}, {1}}, {{0}, {1}},
     "keepdims=0", 0, 0},
    {"ReduceSum all", "ReduceSum", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"ReduceMean axes", "ReduceMean", 13, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, "axes=[0,2]", 0, 0},
    {"ReduceMean 18", "ReduceMean", 18, 2, {K_PARAM, K_INTS}, {3, 1}, {{2, 3, 4}, {1}}, {{0}, {-1}},
     "keepdims=0", 0, 0},
    {"Softmax", "Softmax", 13, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, "axis=1", 0, 0},
    {"Softmax opset 11", "Softmax", 11, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, NULL, 0, 0},
    {"LogSoftmax", "LogSoftmax", 13, 1, {K_PARAM}, {2}, {{3, 5}}, {{0}}, NULL, 0, 0},
    {"Conv", "Conv", 11, 3, {K_PARAM, K_PARAM, K_PARAM}, {4, 4, 1}, {{2, 3, 5, 5}, {4, 3, 3, 3}, {4}},
     {{0}}, "pads=[1,1,1,1]", 0, 0},
    {"Conv stride group", "Conv", 11, 2, {K_PARAM, K_PARAM}, {4, 4}, {{1, 4, 6, 5}, {4, 2, 2, 2}},
     {{0}}, "strides=[2,1];group=2;auto_pad=SAME_UPPER", 0, 0},
    {"Conv 1-D dilated", "Conv", 11, 2, {K_PARAM, K_PARAM}, {3, 3}, {{2, 2, 9}, {3, 2, 3}}, {{0}},
     "dilations=[2]", 0, 0},
    {"MaxPool", "MaxPool", 12, 1, {K_PARAM}, {4}, {{2, 2, 5, 5}}, {{0}},
     "kernel_shape=[2,2];strides=[2,2];pads=[0,0,1,1]", 0, 0},
    {"AveragePool", "AveragePool", 11, 1, {K_PARAM}, {4}, {{2, 2, 5, 5}}, {{0}},
     "kernel_shape=[3,3];pads=[1,1,1,1]", 0, 0},
    {"AveragePool incl pad", "AveragePool", 11, 1, {K_PARAM}, {4}, {{1, 2, 4, 4}}, {{0}},
     "kernel_shape=[3,3];pads=[1,1,1,1];count_include_pad=1", 0, 0},
    {"GlobalAveragePool", "GlobalAveragePool", 1, 1, {K_PARAM}, {4}, {{2, 3, 4, 5}}, {{0}}, NULL, 0, 0},
    {"SCE loss mean", "SoftmaxCrossEntropyLoss", 13, 2, {K_PARAM, K_LABELS}, {2, 1}, {{4, 5}, {4}},
     {{0}, {5}}, NULL, 0, 0},
    {"SCE loss weights sum", "SoftmaxCrossEntropyLoss", 13, 3, {K_PARAM, K_LABELS, K_CONSTF}, {3, 2, 1},
     {{3, 4, 2}, {3, 2}, {4}}, {{0}, {4}}, "reduction=sum", 0, 0},
    {"SCE loss none ignore", "SoftmaxCrossEntropyLoss", 13, 2, {K_PARAM, K_LABELS}, {2, 1},
     {{6, 3}, {6}}, {{0}, {3}}, "reduction=none;ignore_index=1", 0, 0},
    {"NLL loss mean weights", "NegativeLogLikelihoodLoss", 13, 3, {K_PARAM, K_LABELS, K_CONSTF},
     {2, 1, 1}, {{5, 4}, {5}, {4}}, {{0}, {4}}, NULL, 0, 0},
    {"NLL loss none", "NegativeLogLikelihoodLoss", 13, 2, {K_PARAM, K_LABELS}, {3, 2},
     {{2, 3, 2}, {2, 2}}, {{0}, {3}}, "reduction=none;ignore_index=0", 0, 0},
    {"Concat", "Concat", 13, 3, {K_PARAM, K_PARAM, K_PARAM}, {2, 2, 2}, {{2, 3}, {2, 1}, {2, 2}}, {{0}},
     "axis=1", 0, 0},
    {"Sum broadcast", "Sum", 13, 3, {K_PARAM, K_PARAM, K_PARAM}, {2, 1, 2}, {{3, 4}, {4}, {3, 1}}, {{0}},
     NULL, 0, 0},
    {"Mean", "Mean", 13, 2, {K_PARAM, K_PARAM}, {2, 2}, {{3, 4}, {3, 4}}, {{0}}, NULL, 0, 0},
    {"Where broadcast", "Where", 16, 3, {K_BOOL, K_PARAM, K_PARAM}, {2, 2, 1}, {{3, 4}, {3, 4}, {4}},
     {{0}}, NULL, 0, 0},
    {"Mul float32", "Mul", 14, 2, {K_PARAM, K_PARAM}, {2, 2}, {{3, 4}, {3, 4}}, {{0}}, NULL, IR_DT_FLOAT, 0},
    {"Slice steps 2, -2", "Slice", 13, 5, {K_PARAM, K_INTS, K_INTS, K_INTS, K_INTS}, {2, 1, 1, 1, 1},
     {{5, 6}, {2}, {2}, {2}, {2}}, {{0}, {0, -1}, {5, -100}, {0, 1}, {2, -2}}, NULL, 0, 0},
    {"Slice step 1 axes", "Slice", 13, 4, {K_PARAM, K_INTS, K_INTS, K_INTS}, {3, 1, 1, 1},
     {{2, 3, 5}, {1}, {1}, {1}}, {{0}, {1}, {-1}, {-1}}, NULL, 0, 0},
    {"Slice mixed steps", "Slice", 13, 5, {K_PARAM, K_INTS, K_INTS, K_NONE, K_INTS}, {2, 1, 1, 0, 1},
     {{4, 7}, {2}, {2}, {0}, {2}}, {{0}, {1, 6}, {3, 0}, {0}, {1, -3}}, NULL, 0, 0},
    {"Slice opset 1", "Slice", 1, 1, {K_PARAM}, {2}, {{4, 5}}, {{0}}, "starts=[1,0];ends=[3,2]", 0, 0},
    {"Gather axis 1 repeats", "Gather", 13, 2, {K_PARAM, K_INTS}, {2, 2}, {{3, 4}, {2, 2}},
     {{0}, {0, -1, 3, 0}}, "axis=1", 0, 0},
    {"Gather scalar index", "Gather", 13, 2, {K_PARAM, K_INTS}, {3, 0}, {{2, 3, 4}, {0}}, {{0}, {-2}}, NULL,
     0, 0},
    {"GatherElements", "GatherElements", 13, 2, {K_PARAM, K_INTS}, {2, 2}, {{3, 4}, {2, 4}},
     {{0}, {0, 2, -1, 0, 2, 2, 1, 0}}, "axis=0", 0, 0},
    {"Split", "Split", 13, 2, {K_PARAM, K_INTS}, {2, 1}, {{2, 4}, {3}}, {{0}, {1, 2, 1}}, "axis=1", 0, 3},
    {"Split 18 num_outputs", "Split", 18, 1, {K_PARAM}, {2}, {{4, 3}}, {{0}}, "num_outputs=2", 0, 2},
    {"Pad crop", "Pad", 13, 2, {K_PARAM, K_INTS}, {2, 1}, {{3, 4}, {4}}, {{0}, {1, 0, -1, 2}}, NULL, 0, 0},
    {"Pad opset 2", "Pad", 2, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "pads=[0,1,1,0];value=0.5", 0, 0},
    {"Expand", "Expand", 13, 2, {K_PARAM, K_INTS}, {2, 1}, {{3, 1}, {3}}, {{0}, {2, 3, 4}}, NULL, 0, 0},
    {"Tile", "Tile", 13, 2, {K_PARAM, K_INTS}, {2, 1}, {{2, 3}, {2}}, {{0}, {2, 3}}, NULL, 0, 0},
    {"Tile one axis", "Tile", 13, 2, {K_PARAM, K_INTS}, {3, 1}, {{2, 3, 2}, {3}}, {{0}, {1, 1, 3}}, NULL, 0,
     0},
    {"BatchNormalization", "BatchNormalization", 15, 5, {K_PARAM, K_PARAM, K_PARAM, K_PARAM, K_POS},
     {3, 1, 1, 1, 1}, {{2, 3, 4}, {3}, {3}, {3}, {3}}, {{0}}, "epsilon=0.01", 0, 0},
    {"BatchNormalization training", "BatchNormalization", 15, 5,
     {K_PARAM, K_PARAM, K_PARAM, K_CONSTF, K_CONSTF}, {4, 1, 1, 1, 1}, {{3, 2, 2, 2}, {2}, {2}, {2}, {2}},
     {{0}}, "training_mode=1", 0, 0},
    {"BatchNormalization 2-D", "BatchNormalization", 9, 5, {K_PARAM, K_PARAM, K_PARAM, K_CONSTF, K_CONSTF},
     {2, 1, 1, 1, 1}, {{4, 3}, {3}, {3}, {3}, {3}}, {{0}}, NULL, 0, 0},
    {"LayerNormalization axis 1", "LayerNormalization", 17, 3, {K_PARAM, K_PARAM, K_PARAM}, {3, 2, 1},
     {{2, 3, 4}, {3, 4}, {4}}, {{0}}, "axis=1", 0, 0},
    {"LayerNormalization last", "LayerNormalization", 17, 2, {K_PARAM, K_PARAM}, {2, 1}, {{3, 5}, {5}},
     {{0}}, "epsilon=0.001", 0, 0},
    {"InstanceNormalization", "InstanceNormalization", 6, 3, {K_PARAM, K_PARAM, K_PARAM}, {3, 1, 1},
     {{2, 3, 4}, {3}, {3}}, {{0}}, NULL, 0, 0},
    {"Clip inputs", "Clip", 13, 3, {K_PARAM, K_PARAM, K_POS}, {2, 0, 0}, {{4, 5}}, {{0}}, NULL, 0, 0},
    {"Clip max only", "Clip", 13, 3, {K_PARAM, K_NONE, K_PARAM}, {2, 0, 0}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Clip opset 6", "Clip", 6, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "min=-0.4;max=0.3", 0, 0},
    {"Max broadcast", "Max", 13, 3, {K_PARAM, K_PARAM, K_PARAM}, {2, 1, 2}, {{3, 4}, {4}, {3, 1}}, {{0}},
     NULL, 0, 0},
    {"Min", "Min", 13, 2, {K_PARAM, K_PARAM}, {2, 2}, {{3, 4}, {3, 4}}, {{0}}, NULL, 0, 0},
    {"Cast float to double", "Cast", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "to=11", IR_DT_FLOAT, 0},
    {"Cast double to double", "Cast", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "to=11", 0, 0},
    {"ReduceMax", "ReduceMax", 13, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, "axes=[1];keepdims=0", 0, 0},
    {"ReduceMin 18", "ReduceMin", 18, 2, {K_PARAM, K_INTS}, {3, 1}, {{2, 2, 3}, {2}}, {{0}, {0, -1}}, NULL, 0,
     0},
    {"ReduceL2", "ReduceL2", 13, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "axes=[1]", 0, 0},
    {"ReduceSumSquare", "ReduceSumSquare", 18, 2, {K_PARAM, K_INTS}, {3, 1}, {{2, 3, 4}, {1}}, {{0}, {1}},
     "keepdims=0", 0, 0},
    {"ReduceLogSumExp", "ReduceLogSumExp", 13, 1, {K_PARAM}, {3}, {{2, 3, 4}}, {{0}}, "axes=[0,2]", 0, 0},
    {"ReduceLogSumExp all", "ReduceLogSumExp", 18, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "keepdims=0", 0, 0},
    {"GlobalMaxPool", "GlobalMaxPool", 1, 1, {K_PARAM}, {4}, {{1, 2, 2, 3}}, {{0}}, NULL, 0, 0},
    {"HardSwish", "HardSwish", 14, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, NULL, 0, 0},
    {"Swish", "Swish", 24, 1, {K_PARAM}, {2}, {{3, 4}}, {{0}}, "alpha=0.7", 0, 0},
    {"PRelu broadcast", "PRelu", 16, 2, {K_PARAM, K_PARAM}, {2, 1}, {{3, 4}, {4}}, {{0}}, NULL, 0, 0},
    {"Einsum matmul", "Einsum", 12, 2, {K_PARAM, K_PARAM}, {2, 2}, {{3, 4}, {4, 2}}, {{0}}, "equation=ij,jk->ik",
     0, 0},
    {"Einsum batched sum", "Einsum", 12, 3, {K_PARAM, K_PARAM, K_PARAM}, {3, 2, 1}, {{2, 3, 4}, {4, 2}, {2}},
     {{0}}, "equation=bij,jk,k->bi", 0, 0},
    {"Einsum implicit", "Einsum", 12, 2, {K_PARAM, K_PARAM}, {2, 1}, {{3, 4}, {4}}, {{0}}, "equation=ij,j", 0,
     0},
    {"Einsum summed label", "Einsum", 12, 1, {K_PARAM}, {3}, {{2, 3, 2}}, {{0}}, "equation=ijk->ki", 0, 0},
    {"PRelu channel", "PRelu", 16, 2, {K_PARAM, K_PARAM}, {3, 1}, {{2, 3, 4}, {3}}, {{0}}, NULL, 0, 0},
};

static void test_rules(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        check_case(&cases[i]);
}

/* Ties of Max/Min and ReduceMax/GlobalMaxPool: dY is shared evenly by the tied elements
 * (PyTorch's maximum/amax convention), checked on exact values; loss = sum(y). */
static void tie_case(const char *op, int opset, int nin, const double (*x)[4], const char *attrs,
                     const double (*want)[4]) {
    IrDiag d;
    ir_diag_init(&d, op);
    d.echo = 1;
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "g");
    IrGraph *g = m->graph;
    IrValue *in[2], *grads[2];
    int64_t dims[4] = {1, 1, 1, 4};
    int rank = strcmp(op, "GlobalMaxPool") == 0 ? 4 : 1;
    for (int i = 0; i < nin; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "x%d", i);
        in[i] = ir_value_new(g, nm);
        IrTensor *t = ir_tensor_new(g->arena, IR_DT_DOUBLE, rank, dims + 4 - rank);
        memcpy(t->data, x[i], sizeof x[i]);
        t->name = in[i]->name;
        in[i]->init = t;
        ir_type_set_tensor(g->arena, &in[i]->type, IR_DT_DOUBLE, rank, dims + 4 - rank);
        ir_graph_add_init(g, in[i]);
    }
    IrValue *y = ir_value_new(g, "y"), *l = ir_value_new(g, "l");
    IrNode *n = ir_node_new(g, NULL, "f", "", op, opset, nin, in, 1, &y);
    IrNode *s = ir_node_new(g, NULL, "sum", "", "ReduceSum", 17, 1, &y, 1, &l);
    add_attrs(n, attrs);
    ir_node_add_attr(s, "keepdims", IR_ATTR_INT);
    assert_int_equal(op_infer_node(n, &d), 0);
    assert_int_equal(op_infer_node(s, &d), 0);
    assert_int_equal(pass_autodiff(g, l, nin, in, grads, &d), 0);
    assert_int_equal(pass_lower(g, &d), 0);
    Eval e = {calloc((size_t)g->nvalues + 1, sizeof(void *)), g->nvalues};
    run_graph(g, &e, l);
    for (int i = 0; i < nin; i++) {
        const double *gv = vdata(&e, grads[i]);
        for (int k = 0; k < 4; k++)
            if (fabs(gv[k] - want[i][k]) > 1e-12)
                fail_msg("%s: d sum / d x%d[%d] = %g, want %g", op, i, k, gv[k], want[i][k]);
    }
    for (int i = 0; i < e.n; i++)
        free(e.buf[i]);
    free(e.buf);
    ir_model_destroy(m);
    ir_diag_free(&d);
}

static void test_ties(void **state) {
    (void)state;
    const double two[2][4] = {{1, 2, 3, 4}, {1, 0, 3, 5}};
    tie_case("Max", 13, 2, two, NULL, (const double[2][4]){{0.5, 1, 0.5, 0}, {0.5, 0, 0.5, 1}});
    tie_case("Min", 13, 2, two, NULL, (const double[2][4]){{0.5, 0, 0.5, 1}, {0.5, 1, 0.5, 0}});
    const double one[1][4] = {{3, 1, 3, 3}};
    tie_case("ReduceMax", 13, 1, one, NULL, (const double[1][4]){{1.0 / 3, 0, 1.0 / 3, 1.0 / 3}});
    tie_case("ReduceMin", 13, 1, (const double[1][4]){{2, 1, 1, 5}}, NULL,
             (const double[1][4]){{0, 0.5, 0.5, 0}});
    tie_case("GlobalMaxPool", 1, 1, one, NULL, (const double[1][4]){{1.0 / 3, 0, 1.0 / 3, 1.0 / 3}});
    /* Clip's bounds are inclusive for X (PyTorch's clamp): X = min or max passes dY */
    tie_case("Clip", 6, 1, (const double[1][4]){{-1, 0.5, 1, 2}}, "min=-1.0;max=1.0",
             (const double[1][4]){{1, 1, 1, 0}});
}

/* The operators without a rule say so, with the node. */
static void test_missing_rule(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, "t");
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "g");
    IrGraph *g = m->graph;
    int64_t dims[1] = {4};
    IrValue *x = ir_value_new(g, "x");
    IrTensor *t = ir_tensor_new(g->arena, IR_DT_FLOAT, 1, dims);
    t->name = x->name;
    x->init = t;
    ir_type_set_tensor(g->arena, &x->type, IR_DT_FLOAT, 1, dims);
    ir_graph_add_init(g, x);
    IrValue *y = ir_value_new(g, "y"), *l = ir_value_new(g, "l");
    IrNode *n = ir_node_new(g, NULL, "round", "", "Round", 11, 1, &x, 1, &y);
    IrNode *s = ir_node_new(g, NULL, "sum", "", "ReduceSum", 17, 1, &y, 1, &l);
    assert_int_equal(op_infer_node(n, &d), 0);
    assert_int_equal(op_infer_node(s, &d), 0);
    IrValue *gr;
    assert_int_equal(pass_autodiff(g, l, 1, &x, &gr, &d), -1);
    assert_non_null(strstr(ir_diag_last(&d), "no gradient rule for operator Round"));
    assert_non_null(strstr(ir_diag_last(&d), "'round'"));
    ir_model_destroy(m);
    ir_diag_free(&d);
}

/* The training weights: BatchNormalization's running mean and variance are statistics the
 * optimizer must leave alone (as PyTorch does); its scale and bias are weights. */
static void test_bn_statistics_not_weights(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, "t");
    IrModel *m = ir_model_create();
    m->graph = ir_graph_create(m, NULL, "g");
    IrGraph *g = m->graph;
    int64_t xd[2] = {2, 3}, cd[1] = {3};
    IrValue *x = ir_value_new(g, "x");
    ir_type_set_tensor(g->arena, &x->type, IR_DT_FLOAT, 2, xd);
    x->flags |= IR_VALUE_INPUT;
    ir_graph_add_input(g, x);
    const char *names[4] = {"scale", "bias", "mean", "var"};
    IrValue *in[5] = {x};
    for (int i = 0; i < 4; i++) {
        IrValue *v = ir_value_new(g, names[i]);
        IrTensor *t = ir_tensor_new(g->arena, IR_DT_FLOAT, 1, cd);
        t->name = v->name;
        v->init = t;
        ir_type_set_tensor(g->arena, &v->type, IR_DT_FLOAT, 1, cd);
        ir_graph_add_init(g, v);
        in[i + 1] = v;
    }
    IrValue *y = ir_value_new(g, "y");
    IrNode *n = ir_node_new(g, NULL, "bn", "", "BatchNormalization", 15, 5, in, 1, &y);
    assert_non_null(n);
    assert_int_equal(ir_graph_add_output(g, y), 0);
    IrValue *w[8];
    int nw = train_find_weights(g, w, 8);
    assert_int_equal(nw, 2);
    assert_string_equal(w[0]->name, "scale");
    assert_string_equal(w[1]->name, "bias");
    ir_model_destroy(m);
    ir_diag_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_missing_rule),
        cmocka_unit_test(test_ties),
        cmocka_unit_test(test_bn_statistics_not_weights),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
