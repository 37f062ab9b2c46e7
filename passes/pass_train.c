/* pass_train.c - a training graph from an inference model (docs/TRAINING.md).
 *
 * train_make_graphs turns a loaded, shape-specialised model into
 *   - the training graph: inputs = the model's real inputs, the target, then every trainable
 *     weight; outputs = the loss (scalar) then dL/dweight for each weight (autodiff pass);
 *   - (with train_weights_to_inputs on a second copy) the inference graph with the same weights
 *     as inputs, so that the library runs both on the weights it keeps in its context.
 * Trainable weights: float initializers of rank >= 1 on which the model's first output depends
 * through differentiable inputs. Losses: mse (mean of squares over all elements; PyTorch
 * MSELoss), ce (SoftmaxCrossEntropyLoss, mean, int64 labels of shape [N]), bce (mean binary
 * cross-entropy on probabilities, built from Log/Mul/Sub; PyTorch BCELoss without its log clamp).
 * L2 regularisation is the optimizers' weight decay; L1 adds l1 * sum |w| to the loss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/grad.h"
#include "passes/pass_train.h"

static int is_trainable(const IrValue *v) {
    return v->init && v->init->dtype == IR_DT_FLOAT && v->init->rank >= 1 &&
           v->type.kind == IR_TYPE_TENSOR;
}

/* Weights the first output depends on (value ids marked in dep), in initializer order. */
static int find_weights(IrGraph *g, IrValue **w, int cap) {
    if (g->noutputs < 1)
        return 0;
    unsigned char *dep = calloc((size_t)g->nvalues + 1, 1);
    if (!dep)
        return -1;
    dep[g->outputs[0]->id] = 1;
    for (IrNode *n = g->last; n; n = n->prev) {
        int any = 0;
        for (int i = 0; i < n->nout; i++)
            any |= n->out[i] && dep[n->out[i]->id];
        if (!any)
            continue;
        for (int i = 0; i < n->nin; i++)
            if (n->in[i]) {
                /* shape-like inputs (int) never carry weights; float ones do */
                dep[n->in[i]->id] = 1;
            }
    }
    /* BatchNormalization's running mean and variance (inputs 3 and 4) are statistics, not
     * parameters: PyTorch keeps them out of the optimizer, so does onnxc. */
    for (IrNode *n = g->first; n; n = n->next)
        if (!strcmp(n->op_type, "BatchNormalization") && (!n->domain || !n->domain[0] ||
                                                          !strcmp(n->domain, "ai.onnx")))
            for (int i = 3; i < n->nin && i < 5; i++)
                if (n->in[i])
                    dep[n->in[i]->id] = 0;
    int k = 0;
    for (int i = 0; i < g->ninits && k < cap; i++)
        if (dep[g->inits[i]->id] && is_trainable(g->inits[i]))
            w[k++] = g->inits[i];
    free(dep);
    return k;
}

int train_weights_to_inputs(IrGraph *g, IrValue **w, int nw, IrTensor **init_out) {
    int k = 0;
    for (int i = 0; i < g->ninits; i++) {
        int is_w = 0;
        for (int j = 0; j < nw; j++)
            is_w |= g->inits[i] == w[j];
        if (!is_w)
            g->inits[k++] = g->inits[i];
    }
    g->ninits = k;
    /* graph inputs: real inputs (not weights) first, the weights at the end, in w's order */
    k = 0;
    for (int i = 0; i < g->ninputs; i++) {
        int is_w = 0;
        for (int j = 0; j < nw; j++)
            is_w |= g->inputs[i] == w[j];
        if (!is_w)
            g->inputs[k++] = g->inputs[i];
    }
    g->ninputs = k;
    for (int j = 0; j < nw; j++) {
        if (init_out)
            init_out[j] = w[j]->init;
        w[j]->init = NULL;
        w[j]->flags &= ~(unsigned)IR_VALUE_INITIALIZER;
        w[j]->flags |= IR_VALUE_INPUT;
        if (ir_graph_add_input(g, w[j]))
            return -1;
    }
    return 0;
}

int train_find_weights(IrGraph *g, IrValue **w, int cap) { return find_weights(g, w, cap); }

/* A node appended to g (ai.onnx opset 17) with one fresh output. */
static IrValue *node(IrGraph *g, IrDiag *d, const char *op, int nin, IrValue **in) {
    const char *nm = ir_graph_unique_name(g, "train_loss");
    IrValue *o = nm ? ir_value_new(g, nm) : NULL;
    IrNode *n = o ? ir_node_new(g, NULL, nm, "", op, GRAD_ONNX_OPSET, nin, in, 1, &o) : NULL;
    if (!n) {
        ir_error(d, NULL, "out of memory");
        return NULL;
    }
    if (op_infer_node(n, d))
        return NULL;
    return o;
}

static IrValue *node2(IrGraph *g, IrDiag *d, const char *op, IrValue *a, IrValue *b) {
    IrValue *in[2] = {a, b};
    return a && b ? node(g, d, op, 2, in) : NULL;
}

static IrValue *scalar(IrGraph *g, IrDiag *d, float v) {
    const char *nm = ir_graph_unique_name(g, "train_const");
    IrValue *c = nm ? ir_value_new(g, nm) : NULL;
    IrTensor *t = c ? ir_tensor_new(g->arena, IR_DT_FLOAT, 0, NULL) : NULL;
    if (!t || ir_type_set_tensor(g->arena, &c->type, IR_DT_FLOAT, 0, NULL)) {
        ir_error(d, NULL, "out of memory");
        return NULL;
    }
    *(float *)t->data = v;
    t->name = c->name;
    c->init = t;
    return ir_graph_add_init(g, c) ? NULL : c;
}

int train_build(IrModel *m, const char *loss_kind, double l1, IrValue **w, int *nw, int cap,
                IrDiag *d) {
    IrGraph *g = m->graph;
    if (g->noutputs < 1) {
        ir_error(d, NULL, "training: the model has no output");
        return -1;
    }
    IrValue *pred = g->outputs[0];
    if (pred->type.dtype != IR_DT_FLOAT || !ir_type_is_static(&pred->type)) {
        ir_error(d, NULL, "training: output '%s' must be a float tensor of static shape "
                 "(use --shape)", pred->name);
        return -1;
    }
    int k = find_weights(g, w, cap);
    if (k < 0) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    if (k == 0) {
        ir_error(d, NULL, "training: no float initializer of rank >= 1 feeds output '%s'",
                 pred->name);
        return -1;
    }
    *nw = k;
    /* target input */
    const char *tn = ir_graph_unique_name(g, "target");
    IrValue *target = tn ? ir_value_new(g, tn) : NULL;
    if (!target) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    int ce = strcmp(loss_kind, "ce") == 0;
    if (ce) {
        if (pred->type.rank < 2) {
            ir_error(d, NULL, "training: --loss=ce needs scores of shape (N, C, ...)");
            return -1;
        }
        int64_t dims[IR_MAX_RANK];
        for (int i = 0, j = 0; i < pred->type.rank; i++)
            if (i != 1)
                dims[j++] = pred->type.dims[i].value;
        if (ir_type_set_tensor(g->arena, &target->type, IR_DT_INT64, pred->type.rank - 1, dims))
            return -1;
    } else if (ir_type_copy(g->arena, &target->type, &pred->type)) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    target->flags |= IR_VALUE_INPUT;
    if (ir_graph_add_input(g, target))
        return -1;
    IrValue *loss = NULL;
    if (ce) {
        IrValue *in[2] = {pred, target};
        loss = node(g, d, "SoftmaxCrossEntropyLoss", 2, in);
    } else if (!strcmp(loss_kind, "mse")) {
        IrValue *diff = node2(g, d, "Sub", pred, target);
        loss = node(g, d, "ReduceMean", 1, (IrValue *[]){node2(g, d, "Mul", diff, diff)});
        if (loss && loss->producer)
            ir_node_add_attr(loss->producer, "keepdims", IR_ATTR_INT); /* i = 0 */
    } else if (!strcmp(loss_kind, "bce")) {
        /* -(t log p + (1 - t) log(1 - p)) averaged */
        IrValue *one = scalar(g, d, 1.0f);
        IrValue *a = node2(g, d, "Mul", target, node(g, d, "Log", 1, &pred));
        IrValue *omp = node2(g, d, "Sub", one, pred);
        IrValue *omt = node2(g, d, "Sub", one, target);
        IrValue *b = omp ? node2(g, d, "Mul", omt, node(g, d, "Log", 1, &omp)) : NULL;
        IrValue *s = node(g, d, "Neg", 1, (IrValue *[]){node2(g, d, "Add", a, b)});
        loss = s ? node(g, d, "ReduceMean", 1, &s) : NULL;
        if (loss)
            ir_node_add_attr(loss->producer, "keepdims", IR_ATTR_INT);
    } else {
        ir_error(d, NULL, "training: unknown loss '%s' (mse, ce or bce)", loss_kind);
        return -1;
    }
    if (!loss)
        return -1;
    if (loss->producer && loss->producer->op == OP_ReduceMean && op_infer_node(loss->producer, d))
        return -1;
    if (l1 > 0) {
        for (int i = 0; i < k && loss; i++) {
            IrValue *a = node(g, d, "Abs", 1, &w[i]);
            IrValue *s = a ? node(g, d, "ReduceSum", 1, &a) : NULL;
            if (s) {
                ir_node_add_attr(s->producer, "keepdims", IR_ATTR_INT);
                if (op_infer_node(s->producer, d))
                    return -1;
            }
            loss = node2(g, d, "Add", loss, node2(g, d, "Mul", s, scalar(g, d, (float)l1)));
        }
        if (!loss)
            return -1;
    }
    IrValue *grads[256];
    if (k > 256) {
        ir_error(d, NULL, "training: more than 256 weight tensors");
        return -1;
    }
    if (pass_autodiff(g, loss, k, w, grads, d))
        return -1;
    /* outputs: loss, then the gradients (an Identity where a gradient is another output) */
    for (int i = 0; i < g->noutputs; i++)
        g->outputs[i]->flags &= ~(unsigned)IR_VALUE_OUTPUT;
    g->noutputs = 0;
    if (ir_graph_add_output(g, loss))
        return -1;
    loss->flags |= IR_VALUE_OUTPUT;
    for (int i = 0; i < k; i++) {
        IrValue *gv = grads[i];
        int dup = gv == loss || gv->init != NULL;
        for (int j = 0; j < i; j++)
            dup |= grads[j] == gv;
        for (int j = 0; j < k; j++)
            dup |= gv == w[j];
        if (dup) {
            gv = node(g, d, "Identity", 1, &gv);
            if (!gv)
                return -1;
        }
        char nm[300];
        snprintf(nm, sizeof nm, "grad_%s", w[i]->name);
        gv->flags |= IR_VALUE_OUTPUT;
        if (ir_graph_add_output(g, gv))
            return -1;
    }
    return train_weights_to_inputs(g, w, k, NULL);
}
