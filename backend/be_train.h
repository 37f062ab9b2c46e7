/* be_train.h - the training library (`onnxc compile --train`; backend/be_train.c,
 * docs/TRAINING.md). */
#ifndef ONNXC_BE_TRAIN_H
#define ONNXC_BE_TRAIN_H

#include "backend/be.h"

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

#ifdef __cplusplus
}
#endif
#endif
