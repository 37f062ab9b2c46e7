/* grad_conv.c - gradient rules of Conv, MaxPool, AveragePool and GlobalAveragePool
 * (docs/TRAINING.md). auto_pad is resolved to explicit pads here (ONNX Conv/pool definitions);
 * the backward kernels (ConvGrad, PoolGrad) then take the window geometry as attributes. */
#include <string.h>

#include "ops/grad.h"
#include "runtime/rt_params.h"

/* Explicit pads (begins, ends) of node f for input spatial dims `in`, output `out`. */
static int resolve_pads(IrNode *f, IrDiag *d, int nsp, const int64_t *in, const int64_t *out,
                        const int64_t *k, const int64_t *st, const int64_t *dil, int64_t *pads) {
    const char *ap = ir_attr_string(f, "auto_pad", "NOTSET");
    for (int i = 0; i < 2 * nsp; i++)
        pads[i] = 0;
    if (!ap || !strcmp(ap, "NOTSET")) {
        const int64_t *p;
        int n = ir_attr_ints(f, "pads", &p);
        if (n == 2 * nsp)
            memcpy(pads, p, (size_t)n * sizeof *p);
        else if (n >= 0) {
            ir_error(d, f, "attribute 'pads' has %d entries", n);
            return -1;
        }
        return 0;
    }
    if (!strcmp(ap, "VALID"))
        return 0;
    int upper = !strcmp(ap, "SAME_UPPER");
    if (!upper && strcmp(ap, "SAME_LOWER") != 0) {
        ir_error(d, f, "auto_pad '%s' is not supported", ap);
        return -1;
    }
    for (int s = 0; s < nsp; s++) {
        int64_t total = (out[s] - 1) * st[s] + (k[s] - 1) * dil[s] + 1 - in[s];
        if (total < 0)
            total = 0;
        pads[s] = upper ? total / 2 : total - total / 2;
        pads[nsp + s] = total - pads[s];
    }
    return 0;
}

static void ints_or(IrNode *f, const char *name, int n, int64_t dflt, int64_t *dst) {
    const int64_t *v;
    int k = ir_attr_ints(f, name, &v);
    for (int i = 0; i < n; i++)
        dst[i] = k == n ? v[i] : dflt;
}

static int conv_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0], *w = f->in[1];
    if (!g)
        return 0;
    int nsp = x->type.rank - 2;
    if (nsp < 1 || nsp > RT_TRAIN_MAX_SPATIAL) {
        ir_error(d, f, "gradient of Conv: %d spatial dims are not supported", nsp);
        return -1;
    }
    int64_t in[RT_TRAIN_MAX_SPATIAL], out[RT_TRAIN_MAX_SPATIAL], k[RT_TRAIN_MAX_SPATIAL];
    int64_t st[RT_TRAIN_MAX_SPATIAL], dil[RT_TRAIN_MAX_SPATIAL], pads[2 * RT_TRAIN_MAX_SPATIAL];
    for (int s = 0; s < nsp; s++) {
        in[s] = x->type.dims[2 + s].value;
        out[s] = g->type.dims[2 + s].value;
        k[s] = w->type.dims[2 + s].value;
    }
    ints_or(f, "strides", nsp, 1, st);
    ints_or(f, "dilations", nsp, 1, dil);
    if (resolve_pads(f, d, nsp, in, out, k, st, dil, pads))
        return -1;
    IrValue *ins[3] = {g, x, w};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ConvGrad", 3, ins, 3);
    if (!n || grad_attr_ints(c, n, "strides", st, nsp) ||
        grad_attr_ints(c, n, "dilations", dil, nsp) || grad_attr_ints(c, n, "pads", pads, 2 * nsp) ||
        grad_attr_int(c, n, "group", ir_attr_int(f, "group", 1)) || !grad_emit(c, n))
        return -1;
    if (grad_add(c, 0, n->out[0]) || grad_add(c, 1, n->out[1]))
        return -1;
    return grad_wants(c, 2) ? grad_add(c, 2, n->out[2]) : 0;
}

static int pool_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (grad_out(c, 1)) {
        ir_error(d, f, "MaxPool indices have no gradient");
        return -1;
    }
    if (!g)
        return 0;
    int nsp = x->type.rank - 2;
    if (nsp < 1 || nsp > RT_TRAIN_MAX_SPATIAL) {
        ir_error(d, f, "gradient of pooling: %d spatial dims are not supported", nsp);
        return -1;
    }
    int64_t in[RT_TRAIN_MAX_SPATIAL], out[RT_TRAIN_MAX_SPATIAL], k[RT_TRAIN_MAX_SPATIAL];
    int64_t st[RT_TRAIN_MAX_SPATIAL], dil[RT_TRAIN_MAX_SPATIAL], pads[2 * RT_TRAIN_MAX_SPATIAL];
    for (int s = 0; s < nsp; s++) {
        in[s] = x->type.dims[2 + s].value;
        out[s] = g->type.dims[2 + s].value;
    }
    ints_or(f, "kernel_shape", nsp, 1, k);
    ints_or(f, "strides", nsp, 1, st);
    ints_or(f, "dilations", nsp, 1, dil);
    if (resolve_pads(f, d, nsp, in, out, k, st, dil, pads))
        return -1;
    IrValue *ins[2] = {g, x};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "PoolGrad", 2, ins, 1);
    if (!n || grad_attr_int(c, n, "max", f->op == OP_MaxPool) ||
        grad_attr_int(c, n, "count_include_pad", ir_attr_int(f, "count_include_pad", 0)) ||
        grad_attr_ints(c, n, "kernel_shape", k, nsp) || grad_attr_ints(c, n, "strides", st, nsp) ||
        grad_attr_ints(c, n, "dilations", dil, nsp) || grad_attr_ints(c, n, "pads", pads, 2 * nsp))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

static int gap_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g)
        return 0;
    int64_t count = 1;
    for (int i = 2; i < x->type.rank; i++)
        count *= x->type.dims[i].value;
    IrValue *in[2] = {g, x};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ExpandTo", 2, in, 1);
    IrAttr *a = n ? ir_node_add_attr(n, "scale_d", IR_ATTR_FLOATS) : NULL;
    float *v = a ? ir_arena_alloc(n->graph->arena, 2 * sizeof(float)) : NULL;
    if (!v) {
        ir_error(d, f, "out of memory");
        return -1;
    }
    v[0] = 1.0f;
    v[1] = (float)count;
    a->floats = v;
    a->n = 2;
    return grad_add(c, 0, grad_emit(c, n));
}

const OpGradFn op_grad_Conv = conv_rule;
const OpGradFn op_grad_MaxPool = pool_rule;
const OpGradFn op_grad_AveragePool = pool_rule;
const OpGradFn op_grad_GlobalAveragePool = gap_rule;
