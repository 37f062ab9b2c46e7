/* grad_reduce.c - gradient rules of the reductions (docs/TRAINING.md). ReduceSum/ReduceMean: dY
 * reshaped to the keepdims shape, then broadcast to X (ExpandTo) and scaled by 1 (Sum) or 1/count
 * (Mean). ReduceSumSquare: 2 X dY; ReduceL2: X dY / Y; ReduceLogSumExp: exp(X - Y) dY (Y and dY
 * broadcast back in the keepdims shape). ReduceMax/ReduceMin and GlobalMaxPool: dY is shared evenly
 * by the elements equal to the extremum (PyTorch's amax/amin convention). */
#include "ops/grad.h"

/* The reduced dims of reduction f (red[i] = 1) from its axes attribute or constant input; 1 when
 * noop_with_empty_axes makes f the identity, 0, or -1 + diag. */
static int reduce_dims(IrNode *f, IrDiag *d, unsigned char *red) {
    int r = f->in[0]->type.rank;
    const int64_t *ax = NULL;
    int nax = -1;
    int axes_input = f->op == OP_ReduceSum ? f->opset >= 13 : f->opset >= 18;
    if (f->op == OP_GlobalMaxPool) {
        for (int i = 0; i < r; i++)
            red[i] = i >= 2;
        return 0;
    }
    if (axes_input) {
        if (ir_node_in(f, 1)) {
            nax = op_const_ints(f, 1, &ax);
            if (nax < 0) {
                ir_error(d, f, "gradient needs constant axes");
                return -1;
            }
        }
    } else {
        nax = ir_attr_ints(f, "axes", &ax);
    }
    for (int i = 0; i < r; i++)
        red[i] = 0;
    if (nax <= 0) {
        if (nax == 0 && ir_attr_int(f, "noop_with_empty_axes", 0))
            return 1;
        for (int i = 0; i < r; i++)
            red[i] = 1;
        return 0;
    }
    for (int i = 0; i < nax; i++) {
        int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
        if (a < 0 || a >= r) {
            ir_error(d, f, "axis %lld out of range", (long long)ax[i]);
            return -1;
        }
        red[a] = 1;
    }
    return 0;
}

static int reduce_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g)
        return 0;
    int r = x->type.rank;
    unsigned char red[IR_MAX_RANK];
    int noop = reduce_dims(f, d, red);
    if (noop < 0)
        return -1;
    if (noop)
        return grad_add(c, 0, g);
    int64_t kd[IR_MAX_RANK], count = 1;
    for (int i = 0; i < r; i++) {
        kd[i] = red[i] ? 1 : x->type.dims[i].value;
        if (red[i])
            count *= x->type.dims[i].value;
    }
    IrValue *gk = g;
    if (g->type.rank != r) {
        IrValue *shape = grad_const_i64(c, kd, r);
        gk = shape ? grad_op2(c, "Reshape", g, shape) : NULL;
        if (!gk)
            return -1;
    }
    IrValue *in[2] = {gk, x};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ExpandTo", 2, in, 1);
    if (!n)
        return -1;
    if (f->op == OP_ReduceMean) {
        IrAttr *a = ir_node_add_attr(n, "scale_d", IR_ATTR_FLOATS);
        float *v = a ? ir_arena_alloc(n->graph->arena, 2 * sizeof(float)) : NULL;
        if (!v) {
            ir_error(d, f, "out of memory");
            return -1;
        }
        v[0] = 1.0f;
        v[1] = (float)count;
        a->floats = v;
        a->n = 2;
    }
    return grad_add(c, 0, grad_emit(c, n));
}

static IrValue *op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b) {
    return a && b ? grad_op2(c, op_type, a, b) : NULL;
}

/* v (rank of Y) reshaped to the keepdims shape kd (rank r). */
static IrValue *keepdims(GradCtx *c, IrValue *v, int r, const int64_t *kd) {
    if (!v || v->type.rank == r)
        return v;
    return op2(c, "Reshape", v, grad_const_i64(c, kd, r));
}

static int reduce2_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g || !grad_wants(c, 0))
        return 0;
    int r = x->type.rank;
    unsigned char red[IR_MAX_RANK];
    int noop = reduce_dims(f, d, red);
    if (noop < 0)
        return -1;
    int minmax = f->op == OP_ReduceMax || f->op == OP_ReduceMin || f->op == OP_GlobalMaxPool;
    if (noop && minmax)
        return grad_add(c, 0, g);
    if (noop) {
        ir_error(d, f, "gradient with noop_with_empty_axes and empty axes is not supported");
        return -1;
    }
    if (!ir_type_is_static(&x->type) || !ir_type_is_static(&g->type)) {
        ir_error(d, f, "gradient of %s needs static shapes", f->op_type);
        return -1;
    }
    int64_t kd[IR_MAX_RANK], axes[IR_MAX_RANK];
    int nax = 0;
    for (int i = 0; i < r; i++) {
        kd[i] = red[i] ? 1 : x->type.dims[i].value;
        if (red[i])
            axes[nax++] = i;
    }
    IrDType dt = x->type.dtype;
    IrValue *gk = keepdims(c, g, r, kd), *yk = keepdims(c, f->out[0], r, kd), *dx;
    switch (f->op) {
    case OP_ReduceSumSquare:
        dx = op2(c, "Mul", op2(c, "Mul", gk, x), grad_scalar(c, dt, 2.0));
        break;
    case OP_ReduceL2:
        dx = op2(c, "Mul", op2(c, "Div", gk, yk), x);
        break;
    case OP_ReduceLogSumExp:
        dx = op2(c, "Mul", gk, yk ? grad_op1(c, "Exp", op2(c, "Sub", x, yk)) : NULL);
        break;
    default: {
        IrValue *eq = op2(c, "Equal", x, yk), *mask = NULL, *cnt = NULL;
        IrNode *n = eq ? grad_node(c, "", "Cast", 1, &eq, 1) : NULL;
        if (n && !grad_attr_int(c, n, "to", dt))
            mask = grad_emit(c, n);
        IrValue *in[2] = {mask, grad_const_i64(c, axes, nax)};
        n = mask && in[1] ? grad_node(c, "", "ReduceSum", 2, in, 1) : NULL;
        if (n && !grad_attr_int(c, n, "keepdims", 1))
            cnt = grad_emit(c, n);
        dx = op2(c, "Mul", mask, op2(c, "Div", gk, cnt));
        break;
    }
    }
    return grad_add(c, 0, dx);
}

const OpGradFn op_grad_ReduceSum = reduce_rule;
const OpGradFn op_grad_ReduceMean = reduce_rule;
const OpGradFn op_grad_ReduceMax = reduce2_rule;
const OpGradFn op_grad_ReduceMin = reduce2_rule;
const OpGradFn op_grad_ReduceL2 = reduce2_rule;
const OpGradFn op_grad_ReduceSumSquare = reduce2_rule;
const OpGradFn op_grad_ReduceLogSumExp = reduce2_rule;
const OpGradFn op_grad_GlobalMaxPool = reduce2_rule;
