/* op_loss.c - infer and lower hooks of the loss family: SoftmaxCrossEntropyLoss and
 * NegativeLogLikelihoodLoss (kernels in runtime/rt_loss.c).
 *
 * ONNX specification: docs/Operators.md, sections SoftmaxCrossEntropyLoss (versions 12, 13) and
 * NegativeLogLikelihoodLoss (12, 13, 22); reference onnx/reference/ops/op_*_loss.py.
 *  - Inputs: scores / log-probabilities (N, C, d1, ..., dk), k >= 0; labels (N, d1, ..., dk) of
 *    int32 or int64; optional weights (C) of the input's type.
 *  - Attributes: reduction ("none", "sum", "mean"; default "mean"); ignore_index (optional int).
 *  - Outputs: the loss ((N, d1, ..., dk) for none, a scalar otherwise) and, for
 *    SoftmaxCrossEntropyLoss, the optional log_prob (the scores' shape).
 * Types: float and double (the spec also lists float16 and bfloat16: not supported yet).
 * Label values are checked at run time (a label outside [0, C) that is not ignore_index fails).
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* The reduction attribute as RtLossReduction, or -1 + diag. */
static int loss_reduction(IrNode *n, IrDiag *d) {
    const char *r = ir_attr_string(n, "reduction", "mean");
    if (!r) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    if (strcmp(r, "none") == 0)
        return RT_LOSS_NONE;
    if (strcmp(r, "sum") == 0)
        return RT_LOSS_SUM;
    if (strcmp(r, "mean") == 0)
        return RT_LOSS_MEAN;
    ir_error(d, n, "attribute 'reduction' is '%s', expected none, sum or mean", r);
    return -1;
}

/* Dims agree unless both are known and differ. */
static int dims_agree(const IrDim *a, const IrDim *b) {
    return a->value < 0 || b->value < 0 || a->value == b->value;
}

static int loss_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    const IrType *lab = x ? op_input_tensor(n, d, 1) : NULL;
    if (!lab)
        return -1;
    if (x->dtype != IR_DT_FLOAT && x->dtype != IR_DT_DOUBLE) {
        ir_error(d, n, "element type %s is not supported (expected float or double)",
                 ir_dtype_name(x->dtype));
        return -1;
    }
    if (x->rank < 2) {
        ir_error(d, n, "input 0 must have shape (N, C, d1, ..., dk), got rank %d", x->rank);
        return -1;
    }
    if (lab->dtype != IR_DT_INT32 && lab->dtype != IR_DT_INT64) {
        ir_error(d, n, "labels have element type %s, expected int32 or int64",
                 ir_dtype_name(lab->dtype));
        return -1;
    }
    if (lab->rank != x->rank - 1) {
        ir_error(d, n, "labels have rank %d, expected %d (the input's without C)", lab->rank,
                 x->rank - 1);
        return -1;
    }
    IrDim dims[IR_MAX_RANK];
    for (int i = 0; i < lab->rank; i++) {
        const IrDim *xd = &x->dims[i == 0 ? 0 : i + 1];
        if (!dims_agree(&lab->dims[i], xd)) {
            ir_error(d, n, "labels dim %d is %lld, the input's is %lld", i,
                     (long long)lab->dims[i].value, (long long)xd->value);
            return -1;
        }
        dims[i] = xd->value >= 0 ? *xd : lab->dims[i];
    }
    if (ir_node_in(n, 2)) {
        const IrType *w = op_input_tensor(n, d, 2);
        if (!w)
            return -1;
        if (w->dtype != x->dtype || w->rank != 1 || !dims_agree(&w->dims[0], &x->dims[1])) {
            ir_error(d, n, "weights must be a 1-D tensor of C elements of the input's type");
            return -1;
        }
    }
    int red = loss_reduction(n, d);
    if (red < 0)
        return -1;
    if (op_set_output(n, 0, x->dtype, red == RT_LOSS_NONE ? lab->rank : 0, dims) ||
        op_set_output(n, 1, x->dtype, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int loss_lower(IrNode *n, IrDiag *d) {
    int red = loss_reduction(n, d);
    if (red < 0)
        return -1;
    const char *k = n->op == OP_SoftmaxCrossEntropyLoss ? "rt_k_sce_loss" : "rt_k_nll_loss";
    RtLossParams *p = op_params(n, d, k, sizeof(RtLossParams));
    if (!p)
        return -1;
    p->reduction = red;
    p->has_ignore = ir_node_attr(n, "ignore_index") != NULL;
    p->ignore_index = ir_attr_int(n, "ignore_index", 0);
    return 0;
}

const OpHooks op_hooks_SoftmaxCrossEntropyLoss = {loss_infer, loss_lower, NULL};
const OpHooks op_hooks_NegativeLogLikelihoodLoss = {loss_infer, loss_lower, NULL};
