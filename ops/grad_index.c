/* grad_index.c - gradient rules of Concat (Split of dY at the inputs' sizes; ops/ops.def),
 * Where (dY routed by the condition) and the variadic Sum and Mean (docs/TRAINING.md). */
#include "ops/grad.h"

static int concat_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    int r = g->type.rank;
    int64_t axis;
    if (op_norm_axis(f, d, ir_attr_int(f, "axis", 0), r, &axis))
        return -1;
    if (f->nin > 8) {
        ir_error(d, f, "gradient of Concat with more than 8 inputs is not supported");
        return -1;
    }
    int64_t sizes[8];
    for (int i = 0; i < f->nin; i++)
        sizes[i] = f->in[i]->type.dims[axis].value;
    IrValue *sp = grad_const_i64(c, sizes, f->nin);
    IrValue *in[2] = {g, sp};
    IrNode *n = sp ? grad_node(c, "", "Split", 2, in, f->nin) : NULL;
    if (!n || grad_attr_int(c, n, "axis", axis) || !grad_emit(c, n))
        return -1;
    for (int i = 0; i < f->nin; i++)
        if (grad_add(c, i, n->out[i]))
            return -1;
    return 0;
}

static int where_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    IrValue *zero = grad_scalar(c, g->type.dtype, 0.0);
    if (!zero)
        return -1;
    for (int k = 1; k <= 2; k++) {
        if (!grad_wants(c, k))
            continue;
        IrValue *in[3] = {f->in[0], k == 1 ? g : zero, k == 1 ? zero : g};
        IrValue *w = grad_emit(c, grad_node(c, "", "Where", 3, in, 1));
        if (!w || grad_add(c, k, grad_sum_to(c, w, f->in[k])))
            return -1;
    }
    return 0;
}

/* Sum: dX_i = SumTo(dY); Mean: dY / n. */
static int sum_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    if (f->op == OP_Mean) {
        g = grad_op2(c, "Mul", g, grad_scalar(c, g->type.dtype, 1.0 / f->nin));
        if (!g)
            return -1;
    }
    for (int i = 0; i < f->nin; i++)
        if (grad_wants(c, i) && grad_add(c, i, grad_sum_to(c, g, f->in[i])))
            return -1;
    return 0;
}

const OpGradFn op_grad_Concat = concat_rule;
const OpGradFn op_grad_Where = where_rule;
const OpGradFn op_grad_Sum = sum_rule;
const OpGradFn op_grad_Mean = sum_rule;
