/* pass_fuse_epilogue.c - bias and activation epilogues of Conv, Gemm and MatMul.
 *
 * Two rewrites, each counted for --stats:
 *   epilogue.conv_bias   y = Add(Conv(X, W[, b]), c), c a constant of shape [M,1,..,1] or
 *                        [1,M,1,..,1] (one value per output channel, as PyTorch exports a bias
 *                        kept apart) -> y = Conv(X, W, b + c), named "conv1+add1"
 *   epilogue.<target>    y = Act(P(...)), P in {Conv, Gemm, MatMul}, Act in {Relu, LeakyRelu,
 *                        Clip (constant bounds), Sigmoid, HardSigmoid, Tanh}
 *                        -> y = FusedConv / FusedGemm / FusedMatMul (domain ai.onnxc) with P's
 *                        inputs and attributes plus `activation` and `activation_params`
 *                        (ops/op_fused.h); the kernel applies the activation to each block of
 *                        output while it is in cache. Named "conv1+relu1".
 * Conditions: P's output is read only by the root (and is not a graph output); float32 or
 * float64 (Conv also float16/bfloat16, computed in float32); the activation's output type
 * equals P's. The fused node writes the root's output value, so names and graph outputs stay.
 * The fused ops are added to the model's opset imports as ("ai.onnxc", 1).
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"
#include "ops/op_fused.h"
#include "passes/pass_manager.h"

/* Adds ("ai.onnxc", 1) to the model's opset imports if missing; 0 or -1 on OOM. */
int pm_ensure_fused_opset(IrModel *m) {
    for (int i = 0; i < m->nopsets; i++)
        if (m->opsets[i].domain && strcmp(m->opsets[i].domain, OP_FUSED_DOMAIN) == 0)
            return 0;
    IrOpsetImport *o = ir_arena_alloc(m->arena, (size_t)(m->nopsets + 1) * sizeof *o);
    const char *dom = ir_arena_strdup(m->arena, OP_FUSED_DOMAIN);
    if (!o || !dom)
        return -1;
    if (m->nopsets > 0)
        memcpy(o, m->opsets, (size_t)m->nopsets * sizeof *o);
    o[m->nopsets] = (IrOpsetImport){dom, 1};
    m->opsets = o;
    m->nopsets++;
    return 0;
}

/* 1 if v is an intermediate read only once (by the node being fused with its producer). */
static int single_use(const IrValue *v) {
    return v && v->nuses == 1 && !(v->flags & (IR_VALUE_OUTPUT | IR_VALUE_INPUT)) && !v->init;
}

/* Scalar value of a constant (f32/f64, one element) into *out; 0 or -1. */
static int const_scalar(const IrValue *v, double *out) {
    if (!v || !v->init || v->init->numel != 1)
        return -1;
    if (v->init->dtype == IR_DT_FLOAT)
        *out = ((const float *)v->init->data)[0];
    else if (v->init->dtype == IR_DT_DOUBLE)
        *out = ((const double *)v->init->data)[0];
    else
        return -1;
    return 0;
}

/* Reads the activation of node a: its code and activation_params; 0 or -1 (not fusable). */
static int read_act(const IrNode *a, int *code, float *prm, int *nprm) {
    *nprm = 0;
    switch (a->op) {
    case OP_Relu: *code = RT_EPI_RELU; return 0;
    case OP_Sigmoid: *code = RT_EPI_SIGMOID; return 0;
    case OP_Tanh: *code = RT_EPI_TANH; return 0;
    case OP_LeakyRelu:
        *code = RT_EPI_LEAKYRELU;
        prm[0] = ir_attr_float(a, "alpha", 0.01f);
        *nprm = 1;
        return 0;
    case OP_HardSigmoid:
        *code = RT_EPI_HARDSIGMOID;
        prm[0] = ir_attr_float(a, "alpha", 0.2f);
        prm[1] = ir_attr_float(a, "beta", 0.5f);
        *nprm = 2;
        return 0;
    case OP_Clip: {
        double lo = -INFINITY, hi = INFINITY;
        if (a->opset < 11) {
            lo = ir_attr_float(a, "min", -INFINITY);
            hi = ir_attr_float(a, "max", INFINITY);
        } else {
            IrValue *l = ir_node_in(a, 1), *h = ir_node_in(a, 2);
            if ((l && const_scalar(l, &lo)) || (h && const_scalar(h, &hi)))
                return -1;
        }
        *code = RT_EPI_CLIP;
        prm[0] = (float)lo;
        prm[1] = (float)hi;
        *nprm = 2;
        return 0;
    }
    default:
        return -1;
    }
}

static const char *act_name(int code) {
    switch (code) {
    case RT_EPI_RELU: return "Relu";
    case RT_EPI_LEAKYRELU: return "LeakyRelu";
    case RT_EPI_CLIP: return "Clip";
    case RT_EPI_SIGMOID: return "Sigmoid";
    case RT_EPI_HARDSIGMOID: return "HardSigmoid";
    default: return "Tanh";
    }
}

/* Copies the attributes of `from` into n (shared arena data). 0 or -1. */
static int copy_attrs(IrGraph *g, IrNode *n, const IrNode *from, int extra) {
    n->attrs = ir_arena_alloc(g->arena, (size_t)(from->nattr + extra) * sizeof(IrAttr));
    if (!n->attrs)
        return -1;
    if (from->nattr)
        memcpy(n->attrs, from->attrs, (size_t)from->nattr * sizeof(IrAttr));
    n->nattr = from->nattr;
    return 0;
}

/* Act(P(...)) -> FusedP(...). Returns 1 if fused. */
static int fuse_act(IrModel *m, IrGraph *g, IrNode *act, PassCtx *cx) {
    IrValue *x = act->in[0], *y = act->out[0];
    IrNode *p = x ? x->producer : NULL;
    if (!p || !y || !single_use(x) || p->nout != 1 || !ir_type_equal(&x->type, &y->type))
        return 0;
    const char *fused;
    const char *rule;
    IrDType dt = x->type.dtype;
    int fp = dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE;
    if (p->op == OP_Conv && (fp || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16)) {
        fused = "FusedConv";
        rule = "epilogue.conv";
    } else if (p->op == OP_Gemm && fp) {
        fused = "FusedGemm";
        rule = "epilogue.gemm";
    } else if (p->op == OP_MatMul && fp) {
        fused = "FusedMatMul";
        rule = "epilogue.matmul";
    } else {
        return 0;
    }
    int code, nprm;
    float prm[2];
    if (read_act(act, &code, prm, &nprm))
        return 0;
    if (pm_ensure_fused_opset(m))
        return 0;
    const char *name = pm_join_names(g, p->name, act->name);
    IrValue *ins[3] = {ir_node_in(p, 0), ir_node_in(p, 1), ir_node_in(p, 2)};
    int nin = p->nin;
    ir_node_remove(g, act);
    IrNode *nn = ir_node_new(g, p, name, OP_FUSED_DOMAIN, fused, 1, nin, ins, 1, &y);
    if (!nn || copy_attrs(g, nn, p, 2))
        return -1;
    IrAttr *a = ir_node_add_attr(nn, "activation", IR_ATTR_STRING);
    if (!a)
        return -1;
    const char *an = act_name(code);
    a->s.data = ir_arena_strdup(g->arena, an);
    a->s.len = strlen(an);
    if (nprm > 0) {
        IrAttr *ap = ir_node_add_attr(nn, "activation_params", IR_ATTR_FLOATS);
        float *f = ir_arena_alloc(g->arena, sizeof(float) * (size_t)nprm);
        if (!ap || !f)
            return -1;
        memcpy(f, prm, sizeof(float) * (size_t)nprm);
        ap->floats = f;
        ap->n = nprm;
    }
    ir_node_remove(g, p);
    pm_count_rule(cx, rule);
    return 1;
}

/* Add(Conv(X, W[, b]), c) with c one value per output channel -> Conv(X, W, b + c). */
static int fuse_conv_bias(IrGraph *g, IrNode *add, PassCtx *cx) {
    for (int side = 0; side < 2; side++) {
        IrValue *x = add->in[side], *c = add->in[1 - side], *y = add->out[0];
        IrNode *p = x ? x->producer : NULL;
        if (!p || p->op != OP_Conv || !single_use(x) || !c || !c->init || !y ||
            !ir_type_equal(&x->type, &y->type) || !ir_type_is_static(&x->type))
            continue;
        IrDType dt = x->type.dtype;
        if ((dt != IR_DT_FLOAT && dt != IR_DT_DOUBLE) || c->init->dtype != dt)
            continue;
        int r = x->type.rank;
        int64_t mch = x->type.dims[1].value;
        const IrTensor *ct = c->init;
        /* c: [M,1..1] (rank r-1) or [1,M,1..1] (rank r) */
        int lead = ct->rank == r ? 1 : ct->rank == r - 1 ? 0 : -1;
        if (lead < 0 || ct->numel != mch || (lead == 1 && ct->dims[0] != 1) ||
            ct->dims[lead] != mch)
            continue;
        IrValue *b = ir_node_in(p, 2);
        if (b && (!b->init || b->init->dtype != dt || b->init->numel != mch))
            continue;
        IrValue *nb = pm_new_const(g, b ? b->name : "bias", dt, 1, &mch);
        if (!nb)
            return -1;
        for (int64_t k = 0; k < mch; k++) {
            if (dt == IR_DT_FLOAT)
                ((float *)nb->init->data)[k] = ((const float *)ct->data)[k] +
                                               (b ? ((const float *)b->init->data)[k] : 0.0f);
            else
                ((double *)nb->init->data)[k] = ((const double *)ct->data)[k] +
                                                (b ? ((const double *)b->init->data)[k] : 0.0);
        }
        const char *name = pm_join_names(g, p->name, add->name);
        IrValue *ins[3] = {p->in[0], p->in[1], nb};
        ir_node_remove(g, add);
        IrNode *nn = ir_node_new(g, p, name, p->domain, p->op_type, p->opset, 3, ins, 1, &y);
        if (!nn || copy_attrs(g, nn, p, 0))
            return -1;
        ir_node_remove(g, p);
        pm_count_rule(cx, "epilogue.conv_bias");
        return 1;
    }
    return 0;
}

int pass_fuse_epilogue_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    IrNode *next;
    /* biases first, so that Conv + Add + Relu becomes one node */
    for (IrNode *n = g->first; n; n = next) {
        next = n->next;
        if (n->op == OP_Add && n->nin == 2 && n->nout == 1) {
            int r = fuse_conv_bias(g, n, cx);
            if (r < 0)
                goto oom;
            changes += r;
        }
    }
    if (cx->o && cx->o->portable)
        return changes; /* FusedConv/FusedGemm/FusedMatMul are onnxc's own ops */
    for (IrNode *n = g->first; n; n = next) {
        next = n->next;
        if (n->nin < 1 || n->nout != 1 || !n->in[0] || !n->out[0])
            continue;
        if (n->op == OP_Relu || n->op == OP_LeakyRelu || n->op == OP_Clip ||
            n->op == OP_Sigmoid || n->op == OP_HardSigmoid || n->op == OP_Tanh) {
            int r = fuse_act(m, g, n, cx);
            if (r < 0)
                goto oom;
            changes += r;
        }
    }
    return changes;
oom:
    ir_error(cx->d, NULL, "out of memory in pass fuse_epilogue");
    return -1;
}
