/* pass_trinfo.h - the training step of a model's TrainingInfoProto (onnx.proto; docs/TRAINING.md
 * section "TrainingInfoProto"), built on the IR imported by the frontend (IrModel.training_info).
 */
#ifndef ONNXC_PASS_TRINFO_H
#define ONNXC_PASS_TRINFO_H

#include "ir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Index of the training_info entry whose algorithm graph has nodes or outputs; -1 if none;
 * -2 with an error if several have one (one training step from several algorithms run one
 * after another is not supported). */
int trinfo_algorithm_index(const IrModel *m, IrDiag *d);

/* Runs every initialization graph (in order) at compile time (constant folding: the same C
 * kernels) and assigns its outputs to the initializers named by its initialization_binding that
 * m's main graph has (others, e.g. an algorithm's own initializers absent from an inference
 * model, are skipped). Error when an output cannot be folded (random operators) or its type
 * differs from the initializer's. The initialization graphs are consumed. 0 / -1. */
int trinfo_apply_init(IrModel *m, IrDiag *d);

/* m: loaded with FeOptions.training_algorithm = k + 1 (main graph = main ++ algorithm k), shapes
 * specialised, NOT yet inferred: the weights become inputs first, then pass_infer runs here (it
 * expands Gradient, and would fold integer arithmetic on constant weights such as T + 1).
 * Applies the initialization, then turns the graph into the training step: inputs = the combined graph's non-initializer inputs (*nx of
 * them), then the nw update_binding keys (the weights, w[] in binding order; winit[] receives
 * their current values); outputs = the loss (the first algorithm output not named by
 * update_binding that is a float tensor of one element; a constant 0 if none), then the new value
 * of each weight. Types of bound outputs must equal their initializers'. 0 / -1. */
int trinfo_build(IrModel *m, int k, IrValue **w, IrTensor **winit, int *nw, int cap, int *nx,
                 IrDiag *d);

/* The inference graph of a trinfo library: mi (the plain model, specialised, not yet inferred:
 * the caller runs pass_infer after) gets the initialization applied, the training graph tg's nx
 * data inputs as its data inputs (the same API for train_step and infer: the algorithm's own
 * inputs, e.g. the target, are unused here) and the weights named like w[0..nw-1] as its last
 * inputs (weights that only the algorithm has are unused inputs of type winit[i]). 0 / -1. */
int trinfo_infer_graph(IrModel *mi, const IrGraph *tg, int nx, IrValue *const *w,
                       IrTensor *const *winit, int nw, IrDiag *d);

#ifdef __cplusplus
}
#endif
#endif
