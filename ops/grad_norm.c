/* grad_norm.c - gradient rules of Softmax and LogSoftmax (docs/TRAINING.md), through
 * SoftmaxGrad on the forward output. Before opset 13 the input is coerced to 2-D at `axis`. */
#include "ops/grad.h"

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
