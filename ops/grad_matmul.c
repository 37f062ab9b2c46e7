/* grad_matmul.c - gradient rules of MatMul and Gemm (docs/TRAINING.md).
 *   Gemm Y = alpha op(A) op(B) + beta C:  d op(A) = alpha dY op(B)^T, d op(B) = alpha op(A)^T dY,
 *   each expressed as one Gemm with transA/transB; dC = beta SumTo(dY, C).
 *   MatMul (rank >= 2): dA = SumTo(dY B^T, A), dB = SumTo(A^T dY, B). */
#include "ops/grad.h"

static IrValue *gemm(GradCtx *c, IrValue *a, IrValue *b, int ta, int tb, double alpha) {
    IrValue *in[2] = {a, b};
    IrNode *n = grad_node(c, "", "Gemm", 2, in, 1);
    if (!n || grad_attr_int(c, n, "transA", ta) || grad_attr_int(c, n, "transB", tb) ||
        grad_attr_float(c, n, "alpha", (float)alpha))
        return NULL;
    return grad_emit(c, n);
}

static int gemm_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *a = f->in[0], *b = f->in[1];
    if (!g)
        return 0;
    int ta = ir_attr_int(f, "transA", 0) != 0, tb = ir_attr_int(f, "transB", 0) != 0;
    double alpha = ir_attr_float(f, "alpha", 1.0f), beta = ir_attr_float(f, "beta", 1.0f);
    if (grad_wants(c, 0)) {
        IrValue *da = !ta ? gemm(c, g, b, 0, !tb, alpha) : gemm(c, b, g, tb, 1, alpha);
        if (grad_add(c, 0, da))
            return -1;
    }
    if (grad_wants(c, 1)) {
        IrValue *db = !tb ? gemm(c, a, g, !ta, 0, alpha) : gemm(c, g, a, 1, ta, alpha);
        if (grad_add(c, 1, db))
            return -1;
    }
    if (grad_wants(c, 2)) {
        IrValue *gc = g;
        if (beta != 1.0)
            gc = grad_op2(c, "Mul", g, grad_scalar(c, g->type.dtype, beta));
        if (grad_add(c, 2, grad_sum_to(c, gc, f->in[2])))
            return -1;
    }
    return 0;
}

static int matmul_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *a = f->in[0], *b = f->in[1];
    if (!g)
        return 0;
    if (a->type.rank < 2 || b->type.rank < 2) {
        ir_error(d, f, "gradient of MatMul with a 1-D operand is not supported");
        return -1;
    }
    if (a->type.rank == 2 && b->type.rank == 2) {
        if (grad_wants(c, 0) && grad_add(c, 0, gemm(c, g, b, 0, 1, 1.0)))
            return -1;
        if (grad_wants(c, 1) && grad_add(c, 1, gemm(c, a, g, 1, 0, 1.0)))
            return -1;
        return 0;
    }
    if (grad_wants(c, 0) &&
        grad_add(c, 0, grad_sum_to(c, grad_op2(c, "MatMul", g, grad_transpose_last2(c, b)), a)))
        return -1;
    if (grad_wants(c, 1) &&
        grad_add(c, 1, grad_sum_to(c, grad_op2(c, "MatMul", grad_transpose_last2(c, a), g), b)))
        return -1;
    return 0;
}

const OpGradFn op_grad_Gemm = gemm_rule;
const OpGradFn op_grad_MatMul = matmul_rule;
