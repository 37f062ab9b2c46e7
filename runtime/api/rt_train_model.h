/* rt_train_model.h - the contract between a generated training library's glue (written by
 * backend/be_train.c) and the generic training runtime (runtime/api/rt_train_api.c).
 * docs/TRAINING.md.
 *
 * A training library holds two compiled graphs: `train` (inputs: nx data inputs, ny targets,
 * nw weights; outputs: the loss, then one gradient per weight; in RT_TRAIN_MODE_TRAININFO the
 * new weights instead) and `infer` (inputs: nx data
 * inputs, nw weights; outputs: the model's outputs). The runtime keeps the weights and the
 * optimizer state in the OnnxcTrainer, feeds them to both graphs and updates them in place.
 */
#ifndef ONNXC_RT_TRAIN_MODEL_H
#define ONNXC_RT_TRAIN_MODEL_H

#include <stdint.h>

#include "runtime/api/rt_model.h"
#include "runtime/rt_params_train.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct RtTrainDesc {
    const RtModelDesc *train;       /* the training graph */
    const RtModelDesc *infer;       /* the inference graph */
    int32_t nx, ny, nw;             /* data inputs, targets, weights */
    int32_t pad_;
    const float *const *w_init;     /* nw initial weights (numel from train->info inputs) */
    RtOptimConfig opt;              /* optimizer and its default learning rate */
    const unsigned char *model;     /* the ModelProto without the trained initializers */
    uint64_t model_len;
    const char *loss;               /* "mse", "ce", "bce" */
    /* RT_TRAIN_MODE_LOSS: as above. RT_TRAIN_MODE_TRAININFO: the model's TrainingInfoProto
     * (passes/pass_trinfo.c): `train`'s outputs are the loss then the NEW value of each weight,
     * which the step assigns (no optimizer); ny is 0; weights may have any fixed-size element
     * type (their dtype and shape are train->info's inputs nx + ny + i). */
    int32_t mode;
    int32_t pad2_;
} RtTrainDesc;

#define RT_TRAIN_MODE_LOSS 0
#define RT_TRAIN_MODE_TRAININFO 1

typedef struct OnnxcTrainer OnnxcTrainer;

int rt_train_create(const RtTrainDesc *t, OnnxcTrainer **out);
void rt_train_destroy(OnnxcTrainer *c);
const char *rt_train_error(const OnnxcTrainer *c);
/* inputs: nx data pointers then ny target pointers; *loss receives the batch loss. */
int rt_train_step(OnnxcTrainer *c, void *const *inputs, float *loss);
/* inputs: nx data pointers; outputs: the inference graph's outputs. */
int rt_train_infer(OnnxcTrainer *c, void *const *inputs, void *const *outputs);
/* Loss (and nothing else) on a batch with the current weights. */
int rt_train_eval_loss(OnnxcTrainer *c, void *const *inputs, float *loss);
int rt_train_get_weight(OnnxcTrainer *c, int i, float *dst);
int rt_train_set_weight(OnnxcTrainer *c, int i, const float *src);
int rt_train_set_lr(OnnxcTrainer *c, double lr);
/* Writes the model with the current weights as an ONNX file (temporary file + rename). */
int rt_train_save(OnnxcTrainer *c, const char *path);
/* Back to the initial state: the weights' initial values (w_init: the model's initializers after
 * its TrainingInfoProto initialization, if any), optimizer state and step count zero. */
int rt_train_reset(OnnxcTrainer *c);
/* Optimizer steps done so far. */
int64_t rt_train_steps(const OnnxcTrainer *c);

#ifdef __cplusplus
}
#endif
#endif
