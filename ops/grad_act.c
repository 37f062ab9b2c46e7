/* grad_act.c - gradient rules of the act family's activations and unary math (ops/ops_act.def;
 * docs/TRAINING.md): dY * f'(X) through ActGrad. */
#include <string.h>

#include "ops/grad.h"
#include "runtime/rt_params.h"

static int act_x(GradCtx *c, int kind, double alpha, double beta, double gamma) {
    IrNode *f = grad_fwd(c);
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    IrValue *in[2] = {g, f->in[0]};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ActGrad", 2, in, 1);
    if (!n || grad_attr_int(c, n, "kind", kind) || grad_attr_float(c, n, "alpha", (float)alpha) ||
        grad_attr_float(c, n, "beta", (float)beta) || grad_attr_float(c, n, "gamma", (float)gamma))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

static int elu_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_ELU, ir_attr_float(f, "alpha", 1.0f), 0, 0);
}
static int softplus_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_SOFTPLUS, 0, 0, 0);
}
static int softsign_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_SOFTSIGN, 0, 0, 0);
}
static int hardsigmoid_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_HARDSIGMOID, ir_attr_float(f, "alpha", 0.2f), ir_attr_float(f, "beta", 0.5f), 0);
}
static int selu_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_SELU, ir_attr_float(f, "alpha", 1.67326319217681884765625f), 0,
                 ir_attr_float(f, "gamma", 1.05070102214813232421875f));
}
static int gelu_rule(IrNode *f, void *c, IrDiag *d) {
    const char *a = ir_attr_string(f, "approximate", "none");
    if (a && strcmp(a, "none") != 0) {
        ir_error(d, f, "gradient of Gelu with approximate='%s' is not supported", a);
        return -1;
    }
    return act_x(c, RT_AG_GELU, 0, 0, 0);
}
static int sin_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_SIN, 0, 0, 0);
}
static int cos_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_COS, 0, 0, 0);
}
static int erf_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_ERF, 0, 0, 0);
}

const OpGradFn op_grad_Elu = elu_rule;
const OpGradFn op_grad_Softplus = softplus_rule;
const OpGradFn op_grad_Softsign = softsign_rule;
const OpGradFn op_grad_HardSigmoid = hardsigmoid_rule;
const OpGradFn op_grad_Selu = selu_rule;
const OpGradFn op_grad_Gelu = gelu_rule;
const OpGradFn op_grad_Sin = sin_rule;
const OpGradFn op_grad_Cos = cos_rule;
const OpGradFn op_grad_Erf = erf_rule;
