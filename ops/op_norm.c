/* op_norm.c - infer and lower hooks of BatchNormalization, Softmax and LogSoftmax (kernels in
 * runtime/rt_norm.c).
 *
 * ONNX specification: docs/Operators.md, sections BatchNormalization (opsets 1, 6, 7, 9, 14, 15),
 * Softmax and LogSoftmax (1, 11, 13).
 *  - BatchNormalization in inference mode: y = scale * (x - mean) / sqrt(var + epsilon) + B.
 *    Opsets < 7 carry `is_test` and `consumed_inputs`, opsets < 9 `spatial` (0: scale/B/mean/var
 *    have shape X.dims[1:]). Opset 15 lets scale/B (T1) and mean/var (T2) have other float types
 *    than X. Training mode (training_mode = 1 from opset 14; before, requesting the running
 *    mean/var outputs): Y uses the batch mean and population variance over all dims but 1, and
 *    outputs 1 and 2 are running_mean = mean * momentum + batch_mean * (1 - momentum) and the
 *    same for the variance (rt_k_batchnorm_train). The saved mean/var outputs 3 and 4 of opsets
 *    < 14 and training with spatial = 0 are reported as unsupported.
 *  - Softmax/LogSoftmax before opset 13 coerce the input to 2-D at `axis` (default 1) and
 *    normalise over the flattened trailing part; from opset 13 over the single axis `axis`
 *    (default -1).
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* 1 if dt is a float type these ops accept. */
static int is_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* 1 if the node runs in training mode (training_mode = 1 from opset 14; before, the running
 * statistics outputs are requested), 0 if not, -1 + diag for what is unsupported. */
static int bn_training(IrNode *n, IrDiag *d) {
    int train = 0;
    if (n->opset >= 14)
        train = ir_attr_int(n, "training_mode", 0) != 0;
    else
        for (int i = 1; i < n->nout; i++)
            train |= n->out[i] != NULL;
    if (!train) {
        for (int i = 1; i < n->nout; i++)
            if (n->out[i]) {
                ir_error(d, n, "output %d '%s' (running statistics) needs training_mode = 1", i,
                         n->out[i]->name);
                return -1;
            }
        return 0;
    }
    if (n->opset < 9 && ir_attr_int(n, "spatial", 1) == 0) {
        ir_error(d, n, "training mode with spatial = 0 is unsupported");
        return -1;
    }
    return 1;
}

static int infer_batchnorm(IrNode *n, IrDiag *d) {
    int train = bn_training(n, d);
    if (train < 0)
        return -1;
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (!is_float(x->dtype)) {
        ir_error(d, n, "X has element type %s, expected a float type", ir_dtype_name(x->dtype));
        return -1;
    }
    if (x->rank < 2) {
        ir_error(d, n, "X must have rank >= 2 (N x C x ...), got %d", x->rank);
        return -1;
    }
    int spatial = n->opset < 9 ? ir_attr_int(n, "spatial", 1) != 0 : 1;
    for (int i = 1; i < 5; i++) {
        const IrType *t = op_input_tensor(n, d, i);
        if (!t)
            return -1;
        if (!is_float(t->dtype) || (n->opset < 15 && t->dtype != x->dtype)) {
            ir_error(d, n, "input %d has element type %s, expected %s", i,
                     ir_dtype_name(t->dtype), n->opset < 15 ? ir_dtype_name(x->dtype) : "a float type");
            return -1;
        }
        if (spatial) {
            if (t->rank != 1) {
                ir_error(d, n, "input %d must be 1-D [C], got rank %d", i, t->rank);
                return -1;
            }
            if (t->dims[0].value >= 0 && x->dims[1].value >= 0 && t->dims[0].value != x->dims[1].value) {
                ir_error(d, n, "input %d has %lld entries, X has %lld channels", i,
                         (long long)t->dims[0].value, (long long)x->dims[1].value);
                return -1;
            }
        } else {
            /* legacy per-feature form: shape X.dims[1:] (or its flattened element count) */
            int64_t ne, fe = 1;
            int known = ir_type_numel(t, &ne) == 0;
            for (int k = 1; k < x->rank && known; k++) {
                if (x->dims[k].value < 0)
                    known = 0;
                else
                    fe *= x->dims[k].value;
            }
            if (known && ne != fe) {
                ir_error(d, n, "input %d has %lld elements, expected %lld (spatial = 0)", i,
                         (long long)ne, (long long)fe);
                return -1;
            }
        }
    }
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    /* training: running mean and variance, shaped and typed like the mean and var inputs */
    for (int i = 1; train && i < n->nout && i < 3; i++) {
        const IrType *t = &n->in[2 + i]->type;
        if (op_set_output(n, i, t->dtype, t->rank, t->dims)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int lower_batchnorm(IrNode *n, IrDiag *d) {
    int train = bn_training(n, d);
    if (train < 0)
        return -1;
    if (train) {
        RtBatchNormTrainParams *t = op_params(n, d, "rt_k_batchnorm_train", sizeof *t);
        if (!t)
            return -1;
        t->epsilon = ir_attr_float(n, "epsilon", 1e-5f);
        t->momentum = ir_attr_float(n, "momentum", 0.9f);
        return 0;
    }
    RtBatchNormParams *p = op_params(n, d, "rt_k_batchnorm", sizeof *p);
    if (!p)
        return -1;
    p->epsilon = ir_attr_float(n, "epsilon", 1e-5f);
    p->spatial = n->opset < 9 ? ir_attr_int(n, "spatial", 1) != 0 : 1;
    return 0;
}

/* Softmax and LogSoftmax share everything but the kernel. */
static int infer_softmax(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (!is_float(x->dtype)) {
        ir_error(d, n, "input has element type %s, expected a float type", ir_dtype_name(x->dtype));
        return -1;
    }
    int64_t axis = ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), norm;
    if (x->rank == 0 && n->opset < 13 && axis == 1)
        axis = 0; /* a scalar: nothing to coerce */
    if (!(x->rank == 0 && (axis == 0 || axis == -1)) && op_norm_axis(n, d, axis, x->rank, &norm))
        return -1;
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_softmax(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    int64_t axis = ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), norm = 0;
    if (x->rank > 0 && op_norm_axis(n, d, axis, x->rank, &norm))
        return -1;
    RtSoftmaxParams *p = op_params(n, d, n->op == OP_LogSoftmax ? "rt_k_logsoftmax" : "rt_k_softmax",
                                   sizeof *p);
    if (!p)
        return -1;
    p->axis = (int32_t)norm;
    p->coerce_2d = n->opset < 13;
    return 0;
}

const OpHooks op_hooks_BatchNormalization = {infer_batchnorm, lower_batchnorm, NULL};
const OpHooks op_hooks_Softmax = {infer_softmax, lower_softmax, NULL};
const OpHooks op_hooks_LogSoftmax = {infer_softmax, lower_softmax, NULL};
