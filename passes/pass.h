/* pass.h - passes over the IR and the compile pipeline that runs them.
 *
 * The pipeline for compiling a model (onnxc_prepare):
 *   1. shape specialisation from --shape options (pass_specialize_shapes)
 *   2. type and shape inference over every node, in order (pass_infer)
 *   3. lowering: each node picks its kernel and parameter block (pass_lower); nodes whose every
 *      output is a constant (value->init != NULL, e.g. Constant) are skipped
 *   4. memory planning: workspace offsets by liveness (pass_plan)
 * Between 2 and 3 the pass manager (passes/pass_manager.h) runs the optimisation pipeline of
 * o->opt_level (folding, simplification, fusion, CSE, DCE) and re-infers changed types.
 */
#ifndef ONNXC_PASS_H
#define ONNXC_PASS_H

#include "ir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A shape override: input dim symbol `name` (e.g. "batch") := value, or a whole input `name`
 * := dims (when rank >= 0). */
typedef struct OnnxcShapeOverride {
    const char *name;
    int rank;            /* -1: `name` is a symbol and dims[0] its value; else input shape */
    int64_t dims[IR_MAX_RANK];
} OnnxcShapeOverride;

/* A sequence or optional graph input made concrete at compile time, as --shape does for a
 * tensor (passes/pass_seqio.c, docs/CONTROL_FLOW.md): its `count` tensors (the sequence's
 * elements, or the optional's tensor) become tensor inputs NAME.0, NAME.1, ... */
typedef struct OnnxcSeqInput {
    const char *name;    /* graph input */
    int present;         /* optional inputs: 0 = empty (count 0) */
    int count;           /* tensors that stand for it */
    const int *dtypes;   /* count element types */
    const OnnxcShapeOverride *shapes; /* count element shapes (name unused) */
} OnnxcSeqInput;

typedef struct OnnxcCompileOptions {
    int opt_level;             /* 0..3 (LLVM pipeline and future IR passes) */
    const char *model_name;    /* C identifier for the typed API; NULL: derived from the file */
    int nshapes;
    const OnnxcShapeOverride *shapes;
    int use_bitcode;           /* 1: link kernel bitcode into the model (specialised by LLVM);
                                  0: call the kernels of the runtime library */
    int verbose;
    /* Optimisation pass manager (passes/pass_manager.h); all off/NULL by default. */
    const char *passes;        /* custom comma-separated pass pipeline instead of -O's; NULL: -O's */
    const char *print_before;  /* pass name or "all": print the IR before it runs */
    const char *print_after;   /* pass name or "all": print the IR after it ran */
    int print_changed;         /* with print_after: only after passes that changed the graph;
                                  alone: print after every pass that changed it */
    int verify_each;           /* ir_verify after each pass; a failure stops the pipeline */
    const char *disable_pass;  /* comma-separated pass names to skip */
    int time_passes;           /* print time and changes per pass */
    int stats;                 /* print nodes by op, parameters, FLOPs, workspace, rule counts */
    void *pass_out;            /* FILE* for the instruments' text; NULL: stderr */
    int nseq_inputs;           /* sequence/optional inputs made concrete (OnnxcSeqInput) */
    const OnnxcSeqInput *seq_inputs;
    int portable;              /* passes keep the graph standard ONNX at the model's opsets (what
                                  `onnxc optimize` writes): no ai.onnxc ops, no op newer than the
                                  model's opset import (docs/PASSES.md, "Portable") */
} OnnxcCompileOptions;

/* Defaults: O2, bitcode on. */
void onnxc_options_default(OnnxcCompileOptions *o);

int pass_specialize_shapes(IrModel *m, const OnnxcCompileOptions *o, IrDiag *d);
/* Sequence/optional values at the model boundary (passes/pass_seqio.c): each input named in
 * o->seq_inputs becomes its tensors NAME.i (a SequenceConstruct/Optional node rebuilds the
 * value); after inference each sequence/optional output known at compile time becomes the
 * outputs NAME.i, one per tensor. 0 / -1 + diag (an input or output that stays a sequence or
 * optional is reported by onnxc_prepare / the backend). */
int pass_seq_inputs(IrModel *m, const OnnxcCompileOptions *o, IrDiag *d);
int pass_seq_outputs(IrModel *m, IrDiag *d);
/* Infers types of every node output in m->graph (recursing into subgraphs where ops do). Nodes
 * with an unknown op get an "unsupported operator" error; inference keeps going past errors so
 * that one run reports several. Returns the number of errors. */
int pass_infer(IrGraph *g, IrDiag *d);
/* Lowers every node (requires static shapes). Returns the number of errors. */
int pass_lower(IrGraph *g, IrDiag *d);
/* Plans the workspace: sets value->offset for every intermediate (not an input, output or
 * constant) by liveness, reusing memory of dead values; *ws_bytes = workspace size, *naive_bytes
 * = sum of all intermediate sizes (for --stats). 64-byte aligned offsets. Returns 0/-1. */
int pass_plan(IrGraph *g, int64_t *ws_bytes, int64_t *naive_bytes, IrDiag *d);

/* Runs 1-4. Returns 0 or -1 (diagnostics in d). Refuses models above the limits (ir.h,
 * IrLimits: tensor bytes, dimension, nodes per graph) with onnxc_check_limits, before and after
 * inference and before lowering. */
int onnxc_prepare(IrModel *m, const OnnxcCompileOptions *o, IrDiag *d);
/* Checks every value of m (graph inputs and outputs included, subgraphs too) and every graph's
 * node count against ir_limits(); an error naming the value for each one above them. 0 / -1. */
int onnxc_check_limits(IrModel *m, IrDiag *d);

#ifdef __cplusplus
}
#endif
#endif
