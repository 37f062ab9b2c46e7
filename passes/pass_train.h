/* pass_train.h - training on the IR (docs/TRAINING.md): reverse-mode autodiff
 * (passes/pass_autodiff.c) and the construction of a training graph from an inference model
 * (passes/pass_train.c). */
#ifndef ONNXC_PASS_TRAIN_H
#define ONNXC_PASS_TRAIN_H

#include "ir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Builds the backward graph of `loss` (a value of g with a static float/double type, usually a
 * scalar) with respect to wrt[0..nwrt-1] (values of g: initializers, inputs or intermediates).
 * Every node of g must already be type-inferred with static shapes. The backward nodes are
 * appended to g (after every existing node) from the gradient rules of the op table
 * (op_grad_rule); grads[i] receives dL/d wrt[i] (a zero constant when the loss does not depend
 * on it). The seed dL/dloss is 1. Returns 0, or -1 with a diagnostic naming the node whose
 * operator has no rule or whose rule failed. */
int pass_autodiff(IrGraph *g, IrValue *loss, int nwrt, IrValue *const *wrt, IrValue **grads,
                  IrDiag *d);

/* Same with an explicit seed dL/dloss (a value of loss's type; NULL: ones) and the backward
 * nodes inserted before `before` (NULL: appended); used by the Gradient operator. */
int pass_autodiff_at(IrGraph *g, IrValue *loss, IrValue *seed, int nwrt, IrValue *const *wrt,
                     IrValue **grads, IrNode *before, IrDiag *d);

/* The training graph (passes/pass_train.c): m's main graph must be inferred with static
 * shapes. Adds the target input and the loss ("mse", "ce", "bce"; plus l1 * sum|w| when
 * l1 > 0), differentiates it, makes the outputs [loss, dL/dw...] and the weights inputs (after
 * the real inputs and the target). w receives the weights (at most cap), *nw their count. */
int train_build(IrModel *m, const char *loss_kind, double l1, IrValue **w, int *nw, int cap,
                IrDiag *d);
/* The trainable weights of g that its first output depends on, in initializer order. */
int train_find_weights(IrGraph *g, IrValue **w, int cap);
/* Turns the initializers w[0..nw-1] into graph inputs placed after the other inputs;
 * init_out (may be NULL) receives their constant data. 0 / -1. */
int train_weights_to_inputs(IrGraph *g, IrValue **w, int nw, IrTensor **init_out);

#ifdef __cplusplus
}
#endif
#endif
