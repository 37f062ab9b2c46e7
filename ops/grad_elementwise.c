/* grad_elementwise.c - gradient rules of the elementwise arithmetic and the core activations
 * (rows of ops/ops.def; docs/TRAINING.md), Clip, the variadic Max/Min and Cast. Broadcasting is
 * undone with SumTo. */
#include "ops/grad.h"
#include "runtime/rt_params.h"

/* dY * f'(T) with T = input 0 (use_out 0) or output 0 (use_out 1). */
static int act_rule(GradCtx *c, int kind, int use_out, double alpha, double beta, double gamma) {
    IrNode *f = grad_fwd(c);
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    IrValue *in[2] = {g, use_out ? f->out[0] : f->in[0]};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ActGrad", 2, in, 1);
    if (!n || grad_attr_int(c, n, "kind", kind) || grad_attr_float(c, n, "alpha", (float)alpha) ||
        grad_attr_float(c, n, "beta", (float)beta) || grad_attr_float(c, n, "gamma", (float)gamma))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

static int add_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    if (grad_wants(c, 0) && grad_add(c, 0, grad_sum_to(c, g, f->in[0])))
        return -1;
    if (grad_wants(c, 1)) {
        IrValue *gb = f->op == OP_Sub ? grad_op1(c, "Neg", g) : g;
        if (grad_add(c, 1, grad_sum_to(c, gb, f->in[1])))
            return -1;
    }
    return 0;
}

static int mul_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    if (grad_wants(c, 0) && grad_add(c, 0, grad_sum_to(c, grad_op2(c, "Mul", g, f->in[1]), f->in[0])))
        return -1;
    if (grad_wants(c, 1) && grad_add(c, 1, grad_sum_to(c, grad_op2(c, "Mul", g, f->in[0]), f->in[1])))
        return -1;
    return 0;
}

/* Y = A / B: dA = dY / B, dB = -dY * Y / B. */
static int div_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    IrValue *q = grad_op2(c, "Div", g, f->in[1]);
    if (grad_wants(c, 0) && grad_add(c, 0, grad_sum_to(c, q, f->in[0])))
        return -1;
    if (grad_wants(c, 1)) {
        IrValue *t = q ? grad_op1(c, "Neg", grad_op2(c, "Mul", q, f->out[0])) : NULL;
        if (!t || grad_add(c, 1, grad_sum_to(c, t, f->in[1])))
            return -1;
    }
    return 0;
}

/* Y = A ^ B: dA = dY * B * A^(B-1), dB = dY * Y * log(A). */
static int pow_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *a = f->in[0], *b = f->in[1];
    if (!g)
        return 0;
    if (b->type.dtype != a->type.dtype) {
        ir_error(d, f, "gradient of Pow needs the exponent in the base's element type");
        return -1;
    }
    if (grad_wants(c, 0)) {
        IrValue *one = grad_scalar(c, a->type.dtype, 1.0);
        IrValue *p = one ? grad_op2(c, "Pow", a, grad_op2(c, "Sub", b, one)) : NULL;
        IrValue *t = p ? grad_op2(c, "Mul", g, grad_op2(c, "Mul", b, p)) : NULL;
        if (!t || grad_add(c, 0, grad_sum_to(c, t, a)))
            return -1;
    }
    if (grad_wants(c, 1)) {
        IrValue *t = grad_op2(c, "Mul", g, grad_op2(c, "Mul", f->out[0], grad_op1(c, "Log", a)));
        if (!t || grad_add(c, 1, grad_sum_to(c, t, b)))
            return -1;
    }
    return 0;
}

static int neg_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    return g ? grad_add(c, 0, grad_op1(c, "Neg", g)) : 0;
}

static int relu_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_RELU, 0, 0, 0, 0);
}
static int leaky_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    return act_rule(ctx, RT_AG_LEAKYRELU, 0, ir_attr_float(f, "alpha", 0.01f), 0, 0);
}
static int sigmoid_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_SIGMOID, 1, 0, 0, 0);
}
static int tanh_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_TANH, 1, 0, 0, 0);
}
static int exp_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_EXP, 1, 0, 0, 0);
}
static int log_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_LOG, 0, 0, 0, 0);
}
static int sqrt_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_SQRT, 1, 0, 0, 0);
}
static int abs_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_ABS, 0, 0, 0, 0);
}
static int reciprocal_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)f, (void)d;
    return act_rule(ctx, RT_AG_RECIPROCAL, 1, 0, 0, 0);
}

static IrValue *op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b) {
    return a && b ? grad_op2(c, op_type, a, b) : NULL;
}
static IrValue *where(GradCtx *c, IrValue *cond, IrValue *a, IrValue *b) {
    IrValue *in[3] = {cond, a, b};
    return cond && a && b ? grad_emit(c, grad_node(c, "", "Where", 3, in, 1)) : NULL;
}
static IrValue *cast_to(GradCtx *c, IrValue *v, IrDType to) {
    IrNode *n = v ? grad_node(c, "", "Cast", 1, &v, 1) : NULL;
    return n && !grad_attr_int(c, n, "to", to) ? grad_emit(c, n) : NULL;
}

/* Clip = Min(Max(X, min), max): dY passes where min <= X and Max(X, min) <= max (PyTorch's clamp,
 * bounds inclusive); a bound given as an input gets dY where it is the result (min > max gives
 * max). Bounds from attributes before opset 11. */
static int clip_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g)
        return 0;
    IrDType dt = x->type.dtype;
    IrValue *lo = ir_node_in(f, 1), *hi = ir_node_in(f, 2), *zero = grad_scalar(c, dt, 0.0);
    if (f->opset < 11) {
        lo = ir_node_attr(f, "min") ? grad_scalar(c, dt, ir_attr_float(f, "min", 0.0f)) : NULL;
        hi = ir_node_attr(f, "max") ? grad_scalar(c, dt, ir_attr_float(f, "max", 0.0f)) : NULL;
    }
    IrValue *below = lo ? op2(c, "Less", x, lo) : NULL, *t = lo ? op2(c, "Max", x, lo) : x;
    IrValue *above = hi ? op2(c, "Greater", t, hi) : NULL;
    IrValue *gh = hi ? where(c, above, zero, g) : g; /* dL/d Max(X, min) */
    if (grad_wants(c, 0) && grad_add(c, 0, lo ? where(c, below, zero, gh) : gh))
        return -1;
    if (f->opset >= 11 && lo && grad_wants(c, 1) && grad_add(c, 1, grad_sum_to(c, where(c, below, gh, zero), lo)))
        return -1;
    if (f->opset >= 11 && hi && grad_wants(c, 2) && grad_add(c, 2, grad_sum_to(c, where(c, above, g, zero), hi)))
        return -1;
    return 0;
}

/* Max/Min: dY is shared evenly by the inputs equal to the result (PyTorch's maximum/minimum give
 * 1/2 to each of two tied operands), then summed back to each input's shape. */
static int maxmin_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *y = f->out[0];
    if (!g)
        return 0;
    if (f->nin == 1)
        return grad_add(c, 0, g);
    IrValue **mask = ir_arena_alloc(f->graph->arena, (size_t)f->nin * sizeof *mask);
    if (!mask) {
        ir_error(d, f, "out of memory");
        return -1;
    }
    for (int i = 0; i < f->nin; i++)
        if (!(mask[i] = cast_to(c, op2(c, "Equal", f->in[i], y), y->type.dtype)))
            return -1;
    IrValue *cnt = grad_emit(c, grad_node(c, "", "Sum", f->nin, mask, 1));
    IrValue *share = op2(c, "Div", g, cnt);
    for (int i = 0; i < f->nin; i++)
        if (grad_wants(c, i) && grad_add(c, i, grad_sum_to(c, op2(c, "Mul", share, mask[i]), f->in[i])))
            return -1;
    return 0;
}

/* Cast between float and double passes dY back in the input's type; a cast to another type
 * (integers, bool) carries no gradient. */
static int cast_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    IrDType from = f->in[0]->type.dtype, to = f->out[0]->type.dtype;
    int ff = (from == IR_DT_FLOAT || from == IR_DT_DOUBLE) && (to == IR_DT_FLOAT || to == IR_DT_DOUBLE);
    if (!g || !ff)
        return 0;
    return grad_add(c, 0, from == to ? g : cast_to(c, g, from));
}

const OpGradFn op_grad_Add = add_rule;
const OpGradFn op_grad_Sub = add_rule;
const OpGradFn op_grad_Mul = mul_rule;
const OpGradFn op_grad_Div = div_rule;
const OpGradFn op_grad_Pow = pow_rule;
const OpGradFn op_grad_Neg = neg_rule;
const OpGradFn op_grad_Relu = relu_rule;
const OpGradFn op_grad_LeakyRelu = leaky_rule;
const OpGradFn op_grad_Sigmoid = sigmoid_rule;
const OpGradFn op_grad_Tanh = tanh_rule;
const OpGradFn op_grad_Exp = exp_rule;
const OpGradFn op_grad_Log = log_rule;
const OpGradFn op_grad_Sqrt = sqrt_rule;
const OpGradFn op_grad_Abs = abs_rule;
const OpGradFn op_grad_Reciprocal = reciprocal_rule;
const OpGradFn op_grad_Clip = clip_rule;
const OpGradFn op_grad_Max = maxmin_rule;
const OpGradFn op_grad_Min = maxmin_rule;
const OpGradFn op_grad_Cast = cast_rule;
