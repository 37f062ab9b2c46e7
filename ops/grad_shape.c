/* grad_shape.c - gradient rules of the shape family (docs/TRAINING.md): the views (Reshape,
 * Flatten, Squeeze, Unsqueeze, Identity, inference-mode Dropout) reshape dY back; Transpose applies
 * the inverse permutation. */
#include "ops/grad.h"

static int view_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    if (f->op == OP_Dropout) {
        const IrValue *tm = ir_node_in(f, 2);
        double ratio = ir_attr_float(f, "ratio", 0.5f);
        if ((tm && (!tm->init || ((const uint8_t *)tm->init->data)[0])) ||
            (!tm && ir_attr_int(f, "is_test", 1) == 0 && ratio > 0 && f->opset < 7)) {
            ir_error(d, f, "gradient of Dropout in training mode is not supported");
            return -1;
        }
    }
    return grad_add(c, 0, grad_reshape_like(c, g, f->in[0]));
}

static int transpose_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    int r = f->in[0]->type.rank;
    int64_t perm[IR_MAX_RANK], inv[IR_MAX_RANK];
    const int64_t *p;
    int k = ir_attr_ints(f, "perm", &p);
    for (int i = 0; i < r; i++)
        perm[i] = k == r ? (p[i] < 0 ? p[i] + r : p[i]) : r - 1 - i;
    for (int i = 0; i < r; i++)
        inv[perm[i]] = i;
    IrNode *n = grad_node(c, "", "Transpose", 1, &g, 1);
    if (!n || grad_attr_ints(c, n, "perm", inv, r))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

const OpGradFn op_grad_Reshape = view_rule;
const OpGradFn op_grad_Flatten = view_rule;
const OpGradFn op_grad_Squeeze = view_rule;
const OpGradFn op_grad_Unsqueeze = view_rule;
const OpGradFn op_grad_Identity = view_rule;
const OpGradFn op_grad_Dropout = view_rule;
const OpGradFn op_grad_Transpose = transpose_rule;
