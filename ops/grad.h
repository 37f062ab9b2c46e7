/* grad.h - what a gradient rule (ops/grad_<family>.c) may use: the GradCtx of the autodiff pass
 * (passes/pass_autodiff.c) and helpers that build backward nodes. docs/TRAINING.md.
 *
 * A rule is `int rule(IrNode *n, void *grad_ctx, IrDiag *d)` registered as
 * `const OpGradFn op_grad_<ID> = rule;`. It is called once per forward node n that lies between
 * the chosen parameters and the loss, after the gradients of all of n's consumers are known.
 * It reads dL/d(out i) with grad_out (NULL: no gradient flows into that output, treat as zero),
 * checks which inputs need a gradient with grad_wants, builds backward nodes with grad_node /
 * grad_emit (or the helpers) and hands dL/d(in i) to grad_add, which accumulates (Add) when an
 * input is read several times. New nodes are appended at the end of the graph, so the list
 * stays a topological order, and are type-inferred at once (rules can read their types).
 * Returns 0, or -1 after a diagnostic (n's name, op type and opset).
 */
#ifndef ONNXC_GRAD_H
#define ONNXC_GRAD_H

#include "ops/op.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Domain of the backward-only operators (ops/ops_train.def). */
#define GRAD_DOMAIN "onnxc.train"
/* Opset of the ai.onnx nodes rules create. */
#define GRAD_ONNX_OPSET 17

typedef struct GradCtx GradCtx;

/* dL/d(output i) of the node being differentiated, or NULL. */
IrValue *grad_out(GradCtx *c, int i);
/* 1 if input i of the node is on a path from a parameter (needs a gradient). */
int grad_wants(GradCtx *c, int i);
/* Adds g to dL/d(input i) (nothing when input i does not need one). 0 / -1. */
int grad_add(GradCtx *c, int i, IrValue *g);

/* A new node appended to the graph: domain "" (ai.onnx, opset GRAD_ONNX_OPSET) or GRAD_DOMAIN
 * (opset 1), named after the forward node; nout fresh outputs. Add attributes with the
 * grad_attr_* helpers, then call grad_emit. NULL + diag on failure. */
IrNode *grad_node(GradCtx *c, const char *domain, const char *op_type, int nin,
                  IrValue *const *in, int nout);
/* Infers the node's types; returns out[0], or NULL + diag. */
IrValue *grad_emit(GradCtx *c, IrNode *n);
int grad_attr_int(GradCtx *c, IrNode *n, const char *name, int64_t v);
int grad_attr_ints(GradCtx *c, IrNode *n, const char *name, const int64_t *v, int count);
int grad_attr_float(GradCtx *c, IrNode *n, const char *name, float v);
int grad_attr_string(GradCtx *c, IrNode *n, const char *name, const char *v);

/* One-node helpers (ai.onnx ops unless named otherwise); NULL + diag on failure. */
IrValue *grad_op1(GradCtx *c, const char *op_type, IrValue *a);
IrValue *grad_op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b);
/* A rank-0 constant of dtype dt (float or double) with value v. */
IrValue *grad_scalar(GradCtx *c, IrDType dt, double v);
/* A 1-D int64 constant. */
IrValue *grad_const_i64(GradCtx *c, const int64_t *v, int count);
/* g summed over the dimensions that broadcasting added or stretched, so that it has like's
 * shape (SumTo); g itself when the shapes already agree. */
IrValue *grad_sum_to(GradCtx *c, IrValue *g, const IrValue *like);
/* g reshaped to like's static shape (Reshape); g itself when equal. */
IrValue *grad_reshape_like(GradCtx *c, IrValue *g, const IrValue *like);
/* x with its last two axes swapped (Transpose). */
IrValue *grad_transpose_last2(GradCtx *c, IrValue *x);
/* The forward node and its diagnostic sink. */
IrNode *grad_fwd(GradCtx *c);

#ifdef __cplusplus
}
#endif
#endif
