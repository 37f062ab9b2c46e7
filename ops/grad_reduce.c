/* grad_reduce.c - gradient rules of ReduceSum and ReduceMean (docs/TRAINING.md): dY reshaped to
 * the keepdims shape, then broadcast to X (ExpandTo) and scaled by 1 (Sum) or 1/count (Mean). */
#include "ops/grad.h"

static int reduce_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g)
        return 0;
    int r = x->type.rank;
    const int64_t *ax = NULL;
    int nax = -1;
    int axes_input = f->op == OP_ReduceSum ? f->opset >= 13 : f->opset >= 18;
    if (axes_input) {
        if (ir_node_in(f, 1)) {
            nax = op_const_ints(f, 1, &ax);
            if (nax < 0) {
                ir_error(d, f, "gradient needs constant axes");
                return -1;
            }
        }
    } else {
        nax = ir_attr_ints(f, "axes", &ax);
    }
    unsigned char red[IR_MAX_RANK] = {0};
    if (nax <= 0) {
        if (nax == 0 && ir_attr_int(f, "noop_with_empty_axes", 0))
            return grad_add(c, 0, g);
        for (int i = 0; i < r; i++)
            red[i] = 1;
    } else {
        for (int i = 0; i < nax; i++) {
            int64_t a = ax[i] < 0 ? ax[i] + r : ax[i];
            if (a < 0 || a >= r) {
                ir_error(d, f, "axis %lld out of range", (long long)ax[i]);
                return -1;
            }
            red[a] = 1;
        }
    }
    int64_t kd[IR_MAX_RANK], count = 1;
    for (int i = 0; i < r; i++) {
        kd[i] = red[i] ? 1 : x->type.dims[i].value;
        if (red[i])
            count *= x->type.dims[i].value;
    }
    IrValue *gk = g;
    if (g->type.rank != r) {
        IrValue *shape = grad_const_i64(c, kd, r);
        gk = shape ? grad_op2(c, "Reshape", g, shape) : NULL;
        if (!gk)
            return -1;
    }
    IrValue *in[2] = {gk, x};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ExpandTo", 2, in, 1);
    if (!n)
        return -1;
    if (f->op == OP_ReduceMean) {
        IrAttr *a = ir_node_add_attr(n, "scale_d", IR_ATTR_FLOATS);
        float *v = a ? ir_arena_alloc(n->graph->arena, 2 * sizeof(float)) : NULL;
        if (!v) {
            ir_error(d, f, "out of memory");
            return -1;
        }
        v[0] = 1.0f;
        v[1] = (float)count;
        a->floats = v;
        a->n = 2;
    }
    return grad_add(c, 0, grad_emit(c, n));
}

const OpGradFn op_grad_ReduceSum = reduce_rule;
const OpGradFn op_grad_ReduceMean = reduce_rule;
