/* be_train.h - the training library (`onnxc compile --train`; backend/be_train.c,
 * docs/TRAINING.md). */
#ifndef ONNXC_BE_TRAIN_H
#define ONNXC_BE_TRAIN_H

#include "backend/be.h"
#include "runtime/rt_params_train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct BeTrainSpec {
    const char *loss;      /* "mse", "ce", "bce" */
    const char *optimizer; /* sgd, momentum, nesterov, adam, adamw, adagrad, rmsprop */
    double lr;             /* learning rate */
    double beta1, beta2;   /* -1: PyTorch's default for the optimizer */
    double eps;            /* -1: default */
    double weight_decay;   /* L2 (coupled), decoupled for adamw */
    double l1;             /* L1 regularisation coefficient added to the loss (0: none) */
} BeTrainSpec;

void be_train_spec_default(BeTrainSpec *s);

/* Compiles model_path into a training library at so_path (+ header, NULL: so_path with .h).
 * 0 / -1 with diagnostics; nothing is left behind on failure. */
int be_emit_train(const char *model_path, const OnnxcCompileOptions *o, const BeTrainSpec *s,
                  const char *so_path, const char *header_path, IrDiag *d);

/* ---- internal to backend/ (be_train.c -> be_train_glue.c) ---- */

/* What the training library's descriptor object holds (runtime/api/rt_train_model.h). */
typedef struct BeTrainGlue {
    const char *name;                 /* model name: prefix of the typed entry points */
    const char *train_desc;           /* hidden RtModelDesc symbols of the two graph objects */
    const char *infer_desc;
    int nx, ny, nw, nout;             /* data inputs, targets, weights, inference outputs */
    IrTensor *const *winit;           /* nw initial weights (their bytes are emitted) */
    RtOptimConfig opt;
    const unsigned char *model;       /* the ModelProto without the trained initializers */
    size_t model_len;
    const char *loss;
    int mode;                         /* RtTrainDesc.mode (0: loss + optimizer) */
} BeTrainGlue;

/* Writes the object holding the RtTrainDesc `onnxc__train` (weights, optimizer, model bytes,
 * loss name) and the exported onnxc_train_* / NAME_* entry points, through the LLVM-C API, to
 * obj_path (the caller's temporary file). 0 / -1 with diagnostics. */
int be_train_glue_emit(const BeTrainGlue *t, const OnnxcCompileOptions *o, const char *obj_path,
                       IrDiag *d);

#ifdef __cplusplus
}
#endif
#endif
