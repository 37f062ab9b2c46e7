/* harness.h - compile a model to a temporary shared library, load it, and run it on tensors;
 * shared by `onnxc run` and the conformance runner. */
#ifndef ONNXC_HARNESS_H
#define ONNXC_HARNESS_H

#include "ir/ir.h"
#include "passes/pass.h"
#include "onnxc/onnxc_model.h"

typedef struct HarnessModel HarnessModel; /* a loaded model library (dlopen handle + API) */

/* Compiles model_path (.onnx) into a temporary .so and loads it; or loads a .so directly. */
HarnessModel *harness_open(const char *model_path, const OnnxcCompileOptions *o, IrDiag *d);
const OnnxcModelInfo *harness_info(const HarnessModel *h);
/* Runs on inputs (count and order of info->inputs); allocates outputs in arena a (shapes from
 * the info). Returns 0 or an OnnxcStatus with message in d. */
int harness_run(HarnessModel *h, IrTensor *const *inputs, int ninputs, IrArena *a,
                IrTensor **outputs, IrDiag *d);
void harness_close(HarnessModel *h); /* unloads and deletes the temporary files */
/* Copies the bytes of every element of a STRING tensor into arena a (they point into the
 * model's context after harness_run); 0, or -1 when out of memory or a record is invalid.
 * Other element types: no-op. (tools/harness_str.c) */
int harness_str_own(IrTensor *t, IrArena *a);

/* Compare actual vs expected with |a-e| <= atol + rtol*|e| (NaN equals NaN; exact for ints,
 * bools and strings). Fills max abs and rel error; returns 1 if within tolerance. */
int harness_compare(const IrTensor *actual, const IrTensor *expected, double rtol, double atol,
                    double *max_abs, double *max_rel);
/* Sequence and optional values of the backend-test data (tools/harness_seq.c). Values are
 * flattened into their tensors in model order, as the compiled library sees them
 * (passes/pass_seqio.c). harness_seq_model: 1 if m has a sequence/optional input or output.
 * harness_seq_read_inputs: input_K.pb of folder dir (TensorProto, SequenceProto or
 * OptionalProto by the declared input type) flattened into *ins (*nin tensors), and the
 * compile-time description of each sequence/optional input (*specs, *nspecs; may be NULL).
 * harness_seq_read_outputs: output_K.pb likewise. Everything in arena a; 0 or -1 + diag. */
int harness_seq_model(const IrModel *m);
int harness_seq_read_inputs(IrArena *a, const IrModel *m, const char *dir, IrTensor ***ins,
                            int *nin, OnnxcSeqInput **specs, int *nspecs, IrDiag *d);
int harness_seq_read_outputs(IrArena *a, const IrModel *m, const char *dir, IrTensor ***outs,
                             int *nout, IrDiag *d);
#endif
