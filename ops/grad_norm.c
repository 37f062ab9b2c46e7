/* grad_norm.c - gradient rules of Softmax and LogSoftmax (docs/TRAINING.md), through
 * SoftmaxGrad on the forward output (before opset 13 the input is coerced to 2-D at `axis`), and
 * of the normalizations BatchNormalization (inference and training mode), LayerNormalization and
 * InstanceNormalization, composed of ordinary ops:
 *   xhat = (X - mean) rstd, rstd = 1 / sqrt(var + epsilon) over the normalized axes A,
 *   dX = rstd (dxhat - mean_A(dxhat) - xhat mean_A(dxhat xhat)), dxhat = dY scale,
 *   dScale = sum(dY xhat), dB = sum(dY) over the broadcast dims.
 * The statistics are recomputed in the backward graph (the optional Mean/InvStdDev and running
 * statistics outputs carry no gradient). Inference-mode BatchNormalization is affine in X:
 * dX = dY scale rstd, and its mean and var inputs get gradients too. */
#include "ops/grad.h"

static IrValue *op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b) {
    return a && b ? grad_op2(c, op_type, a, b) : NULL;
}

/* ReduceMean (keepdims 1, axes attribute at GRAD_ONNX_OPSET) / ReduceSum (axes input). */
static IrValue *reduce(GradCtx *c, const char *op, IrValue *x, const int64_t *axes, int nax,
                       int keep) {
    if (!x)
        return NULL;
    int sum = op[6] == 'S';
    IrValue *in[2] = {x, sum ? grad_const_i64(c, axes, nax) : NULL};
    IrNode *n = !sum || in[1] ? grad_node(c, "", op, sum ? 2 : 1, in, 1) : NULL;
    if (!n || (!sum && grad_attr_ints(c, n, "axes", axes, nax)) || grad_attr_int(c, n, "keepdims", keep))
        return NULL;
    return grad_emit(c, n);
}

/* v of shape [C] viewed as [C, 1, ...] (rank r - 1) to broadcast along dim 1 of a rank-r X. */
static IrValue *per_channel(GradCtx *c, IrValue *v, int r) {
    int64_t sd[IR_MAX_RANK];
    sd[0] = v->type.dims[0].value;
    for (int i = 1; i < r - 1; i++)
        sd[i] = 1;
    return r - 1 == 1 ? v : op2(c, "Reshape", v, grad_const_i64(c, sd, r - 1));
}

/* 1 / sqrt(v + eps). */
static IrValue *rsqrt_eps(GradCtx *c, IrValue *v, double eps) {
    IrValue *t = op2(c, "Add", v, grad_scalar(c, v->type.dtype, eps));
    return t ? grad_op1(c, "Reciprocal", grad_op1(c, "Sqrt", t)) : NULL;
}

/* dX (and *xhat) of a normalization of x over axes, with dxhat = g * sb (sb NULL: 1). */
static IrValue *norm_dx(GradCtx *c, IrValue *x, IrValue *g, IrValue *sb, const int64_t *axes,
                        int nax, double eps, IrValue **xhat) {
    IrValue *mu = reduce(c, "ReduceMean", x, axes, nax, 1);
    IrValue *xc = op2(c, "Sub", x, mu);
    IrValue *rstd = xc ? rsqrt_eps(c, reduce(c, "ReduceMean", op2(c, "Mul", xc, xc), axes, nax, 1), eps)
                       : NULL;
    *xhat = op2(c, "Mul", xc, rstd);
    IrValue *dxh = sb ? op2(c, "Mul", g, sb) : g;
    IrValue *m1 = reduce(c, "ReduceMean", dxh, axes, nax, 1);
    IrValue *m2 = reduce(c, "ReduceMean", op2(c, "Mul", dxh, *xhat), axes, nax, 1);
    IrValue *t = op2(c, "Sub", op2(c, "Sub", dxh, m1), op2(c, "Mul", *xhat, m2));
    return op2(c, "Mul", t, rstd);
}

static int no_stat_grads(IrNode *f, GradCtx *c, IrDiag *d) {
    for (int i = 1; i < f->nout; i++)
        if (grad_out(c, i)) {
            ir_error(d, f, "gradient through output %d ('%s') is not supported", i, f->out[i]->name);
            return -1;
        }
    if (!ir_type_is_static(&f->in[0]->type)) {
        ir_error(d, f, "gradient of %s needs static shapes", f->op_type);
        return -1;
    }
    return 0;
}

static int batchnorm_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g)
        return 0;
    if (no_stat_grads(f, c, d))
        return -1;
    int r = x->type.rank, nax = 0;
    int train = f->opset >= 14 ? ir_attr_int(f, "training_mode", 0) != 0 : f->nout > 1 && (f->out[1] || (f->nout > 2 && f->out[2]));
    if (r < 2 || (f->opset < 9 && ir_attr_int(f, "spatial", 1) == 0)) {
        ir_error(d, f, "gradient of BatchNormalization needs rank >= 2 and spatial = 1");
        return -1;
    }
    double eps = ir_attr_float(f, "epsilon", 1e-5f);
    int64_t axes[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        if (i != 1)
            axes[nax++] = i;
    IrValue *scale = f->in[1], *sb = per_channel(c, scale, r), *dx, *xhat;
    if (train) {
        dx = grad_wants(c, 0) ? norm_dx(c, x, g, sb, axes, nax, eps, &xhat) : NULL;
        if (grad_wants(c, 0) && grad_add(c, 0, dx))
            return -1;
        if (grad_wants(c, 1)) {
            if (!dx) {
                IrValue *mu = reduce(c, "ReduceMean", x, axes, nax, 1), *xc = op2(c, "Sub", x, mu);
                IrValue *var = reduce(c, "ReduceMean", op2(c, "Mul", xc, xc), axes, nax, 1);
                xhat = op2(c, "Mul", xc, var ? rsqrt_eps(c, var, eps) : NULL);
            }
            if (grad_add(c, 1, reduce(c, "ReduceSum", op2(c, "Mul", g, xhat), axes, nax, 0)))
                return -1;
        }
        return grad_wants(c, 2) ? grad_add(c, 2, reduce(c, "ReduceSum", g, axes, nax, 0)) : 0;
    }
    IrValue *rstd = rsqrt_eps(c, f->in[4], eps), *rb = rstd ? per_channel(c, rstd, r) : NULL;
    IrValue *xc = op2(c, "Sub", x, per_channel(c, f->in[3], r));
    if (grad_wants(c, 0) && grad_add(c, 0, op2(c, "Mul", g, op2(c, "Mul", sb, rb))))
        return -1;
    IrValue *sg = grad_wants(c, 2) || grad_wants(c, 3) ? reduce(c, "ReduceSum", g, axes, nax, 0) : NULL;
    IrValue *sgx = grad_wants(c, 1) || grad_wants(c, 4) ? reduce(c, "ReduceSum", op2(c, "Mul", g, xc), axes, nax, 0)
                                                        : NULL;
    if (grad_wants(c, 1) && grad_add(c, 1, op2(c, "Mul", sgx, rstd)))
        return -1;
    if (grad_wants(c, 2) && grad_add(c, 2, sg))
        return -1;
    if (grad_wants(c, 3) && grad_add(c, 3, grad_op1(c, "Neg", op2(c, "Mul", sg, op2(c, "Mul", scale, rstd)))))
        return -1;
    if (grad_wants(c, 4)) {
        /* d/dvar of scale (x - mean) (var + eps)^-1/2 = -scale (x - mean) rstd^3 / 2 */
        IrValue *r3 = op2(c, "Mul", rstd, op2(c, "Mul", rstd, rstd));
        IrValue *k = op2(c, "Mul", op2(c, "Mul", scale, r3), grad_scalar(c, x->type.dtype, -0.5));
        if (grad_add(c, 4, op2(c, "Mul", sgx, k)))
            return -1;
    }
    return 0;
}

/* LayerNormalization: statistics over [axis, rank); Scale and B broadcast to X. */
static int layernorm_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0], *xhat;
    if (!g)
        return 0;
    if (no_stat_grads(f, c, d))
        return -1;
    int r = x->type.rank, nax = 0;
    int64_t a, axes[IR_MAX_RANK];
    if (op_norm_axis(f, d, ir_attr_int(f, "axis", -1), r, &a))
        return -1;
    for (int64_t i = a; i < r; i++)
        axes[nax++] = i;
    IrValue *dx = norm_dx(c, x, g, f->in[1], axes, nax, ir_attr_float(f, "epsilon", 1e-5f), &xhat);
    if (grad_wants(c, 0) && grad_add(c, 0, dx))
        return -1;
    if (grad_wants(c, 1) && grad_add(c, 1, grad_sum_to(c, op2(c, "Mul", g, xhat), f->in[1])))
        return -1;
    IrValue *b = ir_node_in(f, 2);
    if (b && grad_wants(c, 2) && grad_add(c, 2, grad_sum_to(c, g, b)))
        return -1;
    return 0;
}

/* InstanceNormalization: statistics over the spatial dims per (n, c); scale and B per channel. */
static int instnorm_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0], *xhat;
    if (!g)
        return 0;
    if (no_stat_grads(f, c, d))
        return -1;
    int r = x->type.rank, nsp = 0, nch = 0;
    if (r < 3) {
        ir_error(d, f, "gradient of InstanceNormalization needs rank >= 3");
        return -1;
    }
    int64_t sp[IR_MAX_RANK], ch[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
        if (i >= 2)
            sp[nsp++] = i;
        if (i != 1)
            ch[nch++] = i;
    }
    IrValue *dx = norm_dx(c, x, g, per_channel(c, f->in[1], r), sp, nsp,
                          ir_attr_float(f, "epsilon", 1e-5f), &xhat);
    if (grad_wants(c, 0) && grad_add(c, 0, dx))
        return -1;
    if (grad_wants(c, 1) && grad_add(c, 1, reduce(c, "ReduceSum", op2(c, "Mul", g, xhat), ch, nch, 0)))
        return -1;
    if (grad_wants(c, 2) && grad_add(c, 2, reduce(c, "ReduceSum", g, ch, nch, 0)))
        return -1;
    return 0;
}

static int softmax_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    int r = f->in[0]->type.rank;
    int64_t axis = ir_attr_int(f, "axis", f->opset >= 13 ? -1 : 1), a;
    if (op_norm_axis(f, d, axis, r, &a))
        return -1;
    IrValue *in[2] = {g, f->out[0]};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "SoftmaxGrad", 2, in, 1);
    if (!n || grad_attr_int(c, n, "axis", a) ||
        grad_attr_int(c, n, "log", f->op == OP_LogSoftmax) ||
        grad_attr_int(c, n, "coerce2d", f->opset < 13))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

const OpGradFn op_grad_Softmax = softmax_rule;
const OpGradFn op_grad_LogSoftmax = softmax_rule;
const OpGradFn op_grad_BatchNormalization = batchnorm_rule;
const OpGradFn op_grad_LayerNormalization = layernorm_rule;
const OpGradFn op_grad_InstanceNormalization = instnorm_rule;
