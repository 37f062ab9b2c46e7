/* grad_elementwise.c - gradient rules of the elementwise arithmetic and the core activations
 * (rows of ops/ops.def; docs/TRAINING.md). Broadcasting is undone with SumTo. */
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
