/* op_train.c - infer and lower hooks of the train family (ops/ops_train.def; kernels in
 * runtime/rt_train.c, parameter blocks in runtime/rt_params_train.h; docs/TRAINING.md).
 *
 * Backward operators of the domain onnxc.train, made by the autodiff pass:
 *   SumTo(g, like)            g summed to like's shape (reverse of broadcasting)
 *   ExpandTo(g, like)         g broadcast to like's shape, times attribute `scale` (default 1)
 *   ActGrad(dY, T)            dY * f'(T); attribute `kind` (RtActGradKind), alpha, beta, gamma
 *   SoftmaxGrad(dY, Y)        attributes axis (normalised), log (0/1), coerce2d (0/1)
 *   SoftmaxCrossEntropyLossGrad / NegativeLogLikelihoodLossGrad(dY, scores, labels, weights?)
 *                             attributes reduction, ignore_index as the forward loss
 *   ConvGrad(dY, X, W) -> dX?, dW?, dB?   attributes strides, dilations, pads (explicit), group
 *   PoolGrad(dY, X)           attributes max (0/1), kernel_shape, strides, dilations, pads,
 *                             count_include_pad
 * ONNX's ai.onnx.preview.training operators (docs/Operators.md): Adam, Adagrad, Momentum
 * (variadic: R, T, X..., G..., state...) and Gradient (expanded by passes/pass_autodiff.c into
 * backward nodes; its own node then copies them to its outputs).
 */
#include <stdio.h>
#include <string.h>

#include "ops/grad.h"
#include "passes/pass_train.h"
#include "runtime/rt_params.h"

static int same_as_input(IrNode *n, IrDiag *d, int out, int in_type, int in_dtype) {
    const IrType *t = op_input_tensor(n, d, in_type);
    const IrType *e = t ? op_input_tensor(n, d, in_dtype) : NULL;
    if (!e)
        return -1;
    if (e->dtype != IR_DT_FLOAT && e->dtype != IR_DT_DOUBLE) {
        ir_error(d, n, "element type %s is not supported (float or double)", ir_dtype_name(e->dtype));
        return -1;
    }
    if (op_set_output(n, out, e->dtype, t->rank, t->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- SumTo / ExpandTo */

static int like_infer(IrNode *n, IrDiag *d) { return same_as_input(n, d, 0, 1, 0); }

static int sum_to_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_sum_to", 0) ? 0 : -1;
}

static int expand_to_lower(IrNode *n, IrDiag *d) {
    RtExpandToParams *p = op_params(n, d, "rt_k_expand_to", sizeof *p);
    if (!p)
        return -1;
    p->scale = ir_attr_float(n, "scale", 1.0f);
    const IrAttr *a = ir_node_attr(n, "scale_d"); /* exact double scale (1 / count) */
    if (a && a->kind == IR_ATTR_FLOATS && a->n == 2)
        p->scale = (double)a->floats[0] / (double)a->floats[1];
    return 0;
}

const OpHooks op_hooks_SumTo = {like_infer, sum_to_lower, NULL};
const OpHooks op_hooks_ExpandTo = {like_infer, expand_to_lower, NULL};

/* ---------------------------------------------------------------- ActGrad / SoftmaxGrad */

static int dy_infer(IrNode *n, IrDiag *d) { return same_as_input(n, d, 0, 0, 0); }

static int act_grad_lower(IrNode *n, IrDiag *d) {
    int64_t k = ir_attr_int(n, "kind", -1);
    if (k < 0 || k >= RT_AG_COUNT) {
        ir_error(d, n, "attribute 'kind' %lld is not an RtActGradKind", (long long)k);
        return -1;
    }
    RtActGradParams *p = op_params(n, d, "rt_k_act_grad", sizeof *p);
    if (!p)
        return -1;
    p->kind = (int32_t)k;
    p->alpha = ir_attr_float(n, "alpha", 0.0f);
    p->beta = ir_attr_float(n, "beta", 0.0f);
    p->gamma = ir_attr_float(n, "gamma", 0.0f);
    return 0;
}

static int softmax_grad_lower(IrNode *n, IrDiag *d) {
    RtSoftmaxGradParams *p = op_params(n, d, "rt_k_softmax_grad", sizeof *p);
    if (!p)
        return -1;
    p->axis = (int32_t)ir_attr_int(n, "axis", -1);
    p->log = (int32_t)ir_attr_int(n, "log", 0);
    p->coerce2d = (int32_t)ir_attr_int(n, "coerce2d", 0);
    if (p->axis < 0 || p->axis >= n->in[1]->type.rank) {
        ir_error(d, n, "axis %d out of range", p->axis);
        return -1;
    }
    return 0;
}

const OpHooks op_hooks_ActGrad = {dy_infer, act_grad_lower, NULL};
const OpHooks op_hooks_SoftmaxGrad = {dy_infer, softmax_grad_lower, NULL};

/* ---------------------------------------------------------------- loss gradients */

static int loss_grad_infer(IrNode *n, IrDiag *d) { return same_as_input(n, d, 0, 1, 1); }

static int loss_grad_lower(IrNode *n, IrDiag *d) {
    const char *r = ir_attr_string(n, "reduction", "mean");
    int red = !r ? -1 : !strcmp(r, "none") ? RT_LOSS_NONE : !strcmp(r, "sum") ? RT_LOSS_SUM
              : !strcmp(r, "mean")          ? RT_LOSS_MEAN : -1;
    if (red < 0) {
        ir_error(d, n, "attribute 'reduction' must be none, sum or mean");
        return -1;
    }
    RtLossParams *p = op_params(n, d, n->op == OP_SceLossGrad ? "rt_k_sce_loss_grad"
                                                               : "rt_k_nll_loss_grad", sizeof *p);
    if (!p)
        return -1;
    p->reduction = red;
    p->has_ignore = ir_node_attr(n, "ignore_index") != NULL;
    p->ignore_index = ir_attr_int(n, "ignore_index", 0);
    return 0;
}

const OpHooks op_hooks_SceLossGrad = {loss_grad_infer, loss_grad_lower, NULL};
const OpHooks op_hooks_NllLossGrad = {loss_grad_infer, loss_grad_lower, NULL};

/* ---------------------------------------------------------------- ConvGrad / PoolGrad */

/* Copies an ints attribute of `count` entries into dst (default dflt when absent). */
static int window_ints(IrNode *n, IrDiag *d, const char *name, int count, int64_t dflt,
                       int64_t *dst) {
    const int64_t *v;
    int k = ir_attr_ints(n, name, &v);
    for (int i = 0; i < count; i++)
        dst[i] = dflt;
    if (k < 0)
        return 0;
    if (k != count) {
        ir_error(d, n, "attribute '%s' has %d entries, expected %d", name, k, count);
        return -1;
    }
    memcpy(dst, v, (size_t)count * sizeof *v);
    return 0;
}

static int conv_grad_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 1), *w = x ? op_input_tensor(n, d, 2) : NULL;
    if (!w)
        return -1;
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims) ||
        op_set_output(n, 1, w->dtype, w->rank, w->dims) ||
        op_set_output(n, 2, w->dtype, 1, w->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int conv_grad_lower(IrNode *n, IrDiag *d) {
    RtConvGradParams *p = op_params(n, d, "rt_k_conv_grad", sizeof *p);
    if (!p)
        return -1;
    int nsp = n->in[1]->type.rank - 2;
    if (nsp < 1 || nsp > RT_TRAIN_MAX_SPATIAL) {
        ir_error(d, n, "%d spatial dimensions are not supported", nsp);
        return -1;
    }
    p->nsp = nsp;
    p->group = (int32_t)ir_attr_int(n, "group", 1);
    if (window_ints(n, d, "strides", nsp, 1, p->strides) ||
        window_ints(n, d, "dilations", nsp, 1, p->dilations) ||
        window_ints(n, d, "pads", 2 * nsp, 0, p->pads))
        return -1;
    return 0;
}

static int pool_grad_infer(IrNode *n, IrDiag *d) { return same_as_input(n, d, 0, 1, 1); }

static int pool_grad_lower(IrNode *n, IrDiag *d) {
    RtPoolGradParams *p = op_params(n, d, "rt_k_pool_grad", sizeof *p);
    if (!p)
        return -1;
    int nsp = n->in[1]->type.rank - 2;
    if (nsp < 1 || nsp > RT_TRAIN_MAX_SPATIAL) {
        ir_error(d, n, "%d spatial dimensions are not supported", nsp);
        return -1;
    }
    p->nsp = nsp;
    p->max = (int32_t)ir_attr_int(n, "max", 0);
    p->count_include_pad = (int32_t)ir_attr_int(n, "count_include_pad", 0);
    if (window_ints(n, d, "kernel_shape", nsp, 1, p->kernel) ||
        window_ints(n, d, "strides", nsp, 1, p->strides) ||
        window_ints(n, d, "dilations", nsp, 1, p->dilations) ||
        window_ints(n, d, "pads", 2 * nsp, 0, p->pads))
        return -1;
    return 0;
}

const OpHooks op_hooks_ConvGrad = {conv_grad_infer, conv_grad_lower, NULL};
const OpHooks op_hooks_PoolGrad = {pool_grad_infer, pool_grad_lower, NULL};

/* ---------------------------------------------------------------- optimizers */

/* Groups of tensors after R and T: Adam 4 (X, G, V, H), Adagrad and Momentum 3. */
static int opt_groups(const IrNode *n) { return n->op == OP_Adam ? 4 : 3; }

static int opt_infer(IrNode *n, IrDiag *d) {
    int groups = opt_groups(n);
    int k = n->nin - 2;
    if (k <= 0 || k % groups != 0) {
        ir_error(d, n, "has %d inputs: expected R, T and %d groups of equal size", n->nin, groups);
        return -1;
    }
    int cnt = k / groups;
    if (n->nout > (groups - 1) * cnt) {
        ir_error(d, n, "has %d outputs, at most %d expected", n->nout, (groups - 1) * cnt);
        return -1;
    }
    for (int o = 0; o < n->nout; o++) {
        /* output group j (0: X_new, then the states) mirrors input group 0 / 2 / 3 */
        int j = o / cnt, i = o % cnt, src = j == 0 ? 2 + i : 2 + (j + 1) * cnt + i;
        const IrType *t = op_input_tensor(n, d, src);
        if (!t)
            return -1;
        if (op_set_output(n, o, t->dtype, t->rank, t->dims)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int opt_lower(IrNode *n, IrDiag *d) {
    const char *k = n->op == OP_Adam ? "rt_k_opt_adam" : n->op == OP_Adagrad ? "rt_k_opt_adagrad"
                                                                              : "rt_k_opt_momentum";
    RtOptimOpParams *p = op_params(n, d, k, sizeof *p);
    if (!p)
        return -1;
    p->n = (n->nin - 2) / opt_groups(n);
    if (n->op == OP_Adam) {
        p->alpha = ir_attr_float(n, "alpha", 0.9f);
        p->beta = ir_attr_float(n, "beta", 0.999f);
        p->epsilon = ir_attr_float(n, "epsilon", 0.0f);
        p->norm_coefficient = ir_attr_float(n, "norm_coefficient", 0.0f);
        p->norm_coefficient_post = ir_attr_float(n, "norm_coefficient_post", 0.0f);
    } else if (n->op == OP_Adagrad) {
        p->epsilon = ir_attr_float(n, "epsilon", 0.0f);
        p->decay_factor = ir_attr_float(n, "decay_factor", 0.0f);
        p->norm_coefficient = ir_attr_float(n, "norm_coefficient", 0.0f);
    } else {
        const char *mode = ir_attr_string(n, "mode", "standard");
        if (!ir_node_attr(n, "alpha") || !ir_node_attr(n, "beta") || !mode) {
            ir_error(d, n, "attributes alpha, beta and mode are required");
            return -1;
        }
        if (strcmp(mode, "standard") != 0 && strcmp(mode, "nesterov") != 0) {
            ir_error(d, n, "attribute 'mode' is '%s', expected standard or nesterov", mode);
            return -1;
        }
        p->nesterov = strcmp(mode, "nesterov") == 0;
        p->alpha = ir_attr_float(n, "alpha", 0.0f);
        p->beta = ir_attr_float(n, "beta", 0.0f);
        p->norm_coefficient = ir_attr_float(n, "norm_coefficient", 0.0f);
    }
    return 0;
}

const OpHooks op_hooks_Adam = {opt_infer, opt_lower, NULL};
const OpHooks op_hooks_Adagrad = {opt_infer, opt_lower, NULL};
const OpHooks op_hooks_Momentum = {opt_infer, opt_lower, NULL};

/* ---------------------------------------------------------------- Gradient */

/* The first inference expands the node: the backward nodes of y with respect to xs are inserted
 * before it (the forward part must precede it in the node list), and its inputs become those
 * gradients, which it copies to its outputs. An attribute `onnxc_expanded` marks it. */
static int gradient_infer(IrNode *n, IrDiag *d) {
    if (!ir_node_attr(n, "onnxc_expanded")) {
        const IrAttr *xs = ir_node_attr(n, "xs");
        const char *yname = ir_attr_string(n, "y", NULL);
        if (!xs || xs->kind != IR_ATTR_STRINGS || !yname || xs->n != n->nout) {
            ir_error(d, n, "needs attributes xs (one name per output) and y");
            return -1;
        }
        if (ir_node_attr(n, "zs")) {
            ir_error(d, n, "attribute zs is not supported");
            return -1;
        }
        IrGraph *g = n->graph;
        IrValue *y = ir_graph_find_value(g, yname);
        IrValue *wrt[64], *grads[64];
        if (!y || xs->n > 64) {
            ir_error(d, n, "y '%s' is not a value of the graph (or more than 64 xs)", yname);
            return -1;
        }
        for (int i = 0; i < xs->n; i++) {
            char nm[256];
            snprintf(nm, sizeof nm, "%.*s", (int)xs->strings[i].len, xs->strings[i].data);
            wrt[i] = ir_graph_find_value(g, nm);
            if (!wrt[i]) {
                ir_error(d, n, "xs '%s' is not a value of the graph", nm);
                return -1;
            }
        }
        if (pass_autodiff_at(g, y, NULL, xs->n, wrt, grads, n, d))
            return -1;
        for (int i = 0; i < xs->n && i < n->nin; i++)
            ir_node_set_input(n, i, grads[i]);
        if (!ir_node_add_attr(n, "onnxc_expanded", IR_ATTR_INT)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
    }
    for (int i = 0; i < n->nout; i++) {
        const IrType *t = i < n->nin ? op_input_tensor(n, d, i) : NULL;
        if (!t)
            return -1;
        if (op_set_output(n, i, t->dtype, t->rank, t->dims)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
    }
    return 0;
}

static int gradient_lower(IrNode *n, IrDiag *d) {
    if (n->nin != n->nout) {
        ir_error(d, n, "has %d inputs for %d outputs", n->nin, n->nout);
        return -1;
    }
    return op_params(n, d, "rt_k_copy_all", 0) ? 0 : -1;
}

const OpHooks op_hooks_Gradient = {gradient_infer, gradient_lower, NULL};
