/* rt_params_norm.h - parameter blocks of the norm kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_NORM_H
#define ONNXC_RT_PARAMS_NORM_H
#include <stdint.h>

/* BatchNormalization, inference mode (rt_k_batchnorm):
 *   y = scale * (x - mean) / sqrt(var + epsilon) + bias
 * per channel: dim 1 of X when spatial != 0, else every element of X's dims 1..r-1 (the legacy
 * opset < 9 `spatial = 0` form, where scale/bias/mean/var have shape X.dims[1:]). */
typedef struct RtBatchNormParams {
    double epsilon;  /* added to the variance (default 1e-5) */
    int32_t spatial; /* 1: per channel (dim 1); 0: per feature (dims 1..r-1) */
} RtBatchNormParams;

/* rt_k_batchnorm_train (training mode, spatial only): Y normalises X with the batch mean and
 * population variance of each channel (over all dims but 1); optional outputs 1 and 2 receive
 * the running mean and variance (inputs 3 and 4 blended with the batch statistics by momentum). */
typedef struct RtBatchNormTrainParams {
    double epsilon;  /* added to the variance (default 1e-5) */
    double momentum; /* running = input * momentum + batch * (1 - momentum) (default 0.9) */
} RtBatchNormTrainParams;

/* Softmax / LogSoftmax (rt_k_softmax, rt_k_logsoftmax): normalise over
 *   - dims [axis, rank) flattened, when coerce_2d != 0 (opset < 13);
 *   - dim `axis` alone, when coerce_2d == 0 (opset >= 13). */
typedef struct RtSoftmaxParams {
    int32_t axis;      /* normalised axis in [0, rank) (0 for rank-0 inputs) */
    int32_t coerce_2d; /* nonzero: opset < 13 semantics */
} RtSoftmaxParams;

#endif
