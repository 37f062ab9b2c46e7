/* grad_loss.c - gradient rules of SoftmaxCrossEntropyLoss and NegativeLogLikelihoodLoss
 * (docs/TRAINING.md): d(loss)/d(scores) by the kernels rt_k_sce_loss_grad / rt_k_nll_loss_grad,
 * with the forward node's reduction and ignore_index. Labels and weights get no gradient. */
#include "ops/grad.h"

static int loss_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (f->nout > 1 && grad_out(c, 1)) {
        ir_error(d, f, "the gradient through log_prob is not supported");
        return -1;
    }
    if (grad_wants(c, 2)) {
        ir_error(d, f, "gradients of the class weights are not supported");
        return -1;
    }
    if (!g || !grad_wants(c, 0))
        return 0;
    IrValue *in[4] = {g, f->in[0], f->in[1], ir_node_in(f, 2)};
    int nin = in[3] ? 4 : 3;
    IrNode *n = grad_node(c, GRAD_DOMAIN, f->op == OP_SoftmaxCrossEntropyLoss
                                              ? "SoftmaxCrossEntropyLossGrad"
                                              : "NegativeLogLikelihoodLossGrad", nin, in, 1);
    if (!n || grad_attr_string(c, n, "reduction", ir_attr_string(f, "reduction", "mean")))
        return -1;
    if (ir_node_attr(f, "ignore_index") &&
        grad_attr_int(c, n, "ignore_index", ir_attr_int(f, "ignore_index", 0)))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

const OpGradFn op_grad_SoftmaxCrossEntropyLoss = loss_rule;
const OpGradFn op_grad_NegativeLogLikelihoodLoss = loss_rule;
