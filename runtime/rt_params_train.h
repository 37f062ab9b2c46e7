/* rt_params_train.h - kernel parameter records of the train family (ops/op_train.c,
 * runtime/rt_train.c, docs/TRAINING.md). */
#pragma once
#include <stdint.h>

#define RT_TRAIN_MAX_SPATIAL 8 /* spatial dims of ConvGrad / PoolGrad */

/* ActGrad: dX = dY * f'(...) from the saved tensor T (the forward input X or output Y). */
typedef enum RtActGradKind {
    RT_AG_RELU = 0,      /* T = X: dY * (X > 0) */
    RT_AG_SIGMOID = 1,   /* T = Y: dY * Y * (1 - Y) */
    RT_AG_TANH = 2,      /* T = Y: dY * (1 - Y^2) */
    RT_AG_LEAKYRELU = 3, /* T = X: dY * (X > 0 ? 1 : alpha) */
    RT_AG_EXP = 4,       /* T = Y: dY * Y */
    RT_AG_LOG = 5,       /* T = X: dY / X */
    RT_AG_SQRT = 6,      /* T = Y: dY / (2 Y) */
    RT_AG_ELU = 7,       /* T = X: dY * (X > 0 ? 1 : alpha * exp(X)) */
    RT_AG_SOFTPLUS = 8,  /* T = X: dY * sigmoid(X) */
    RT_AG_ABS = 9,       /* T = X: dY * sign(X) */
    RT_AG_RECIPROCAL = 10, /* T = Y: -dY * Y^2 */
    RT_AG_SIN = 11,      /* T = X: dY * cos(X) */
    RT_AG_COS = 12,      /* T = X: -dY * sin(X) */
    RT_AG_HARDSIGMOID = 13, /* T = X: dY * alpha where 0 < alpha X + beta < 1 */
    RT_AG_SOFTSIGN = 14, /* T = X: dY / (1 + |X|)^2 */
    RT_AG_GELU = 15,     /* T = X: exact (erf) Gelu */
    RT_AG_SELU = 16,     /* T = X: gamma * (X > 0 ? 1 : alpha * exp(X)) */
    RT_AG_ERF = 17,      /* T = X: 2/sqrt(pi) exp(-X^2) */
    RT_AG_HARDSWISH = 18, /* T = X: 0 (X < -3), X/3 + 1/2 (X <= 3), 1 (PyTorch's boundaries) */
    RT_AG_SWISH = 19,    /* T = X: s + alpha X s (1 - s), s = sigmoid(alpha X) */
    RT_AG_COUNT = 20
} RtActGradKind;

typedef struct RtActGradParams {
    int32_t kind;  /* RtActGradKind */
    int32_t pad_;
    double alpha;  /* LeakyRelu/Elu/HardSigmoid/Selu/Swish alpha */
    double beta;   /* HardSigmoid beta */
    double gamma;  /* Selu gamma */
} RtActGradParams;

/* SoftmaxGrad: the input viewed as (outer, n, inner) around the softmax axis (or, for opsets
 * before 13, (outer, n) with n the product of the dims from the axis on: inner = 1). */
typedef struct RtSoftmaxGradParams {
    int32_t axis;     /* normalised axis */
    int32_t log;      /* 1: LogSoftmax (T = log-probabilities) */
    int32_t coerce2d; /* 1: opset < 13 semantics */
    int32_t pad_;
} RtSoftmaxGradParams;

/* ExpandTo: out = broadcast(in) * scale. */
typedef struct RtExpandToParams {
    double scale;
} RtExpandToParams;

/* ConvGrad: gradients of Conv (explicit pads, NC + spatial layout). */
typedef struct RtConvGradParams {
    int32_t nsp;   /* spatial dims */
    int32_t group;
    int64_t strides[RT_TRAIN_MAX_SPATIAL];
    int64_t dilations[RT_TRAIN_MAX_SPATIAL];
    int64_t pads[2 * RT_TRAIN_MAX_SPATIAL]; /* begins then ends */
} RtConvGradParams;

/* PoolGrad: gradients of MaxPool / AveragePool (explicit pads). */
typedef struct RtPoolGradParams {
    int32_t nsp;
    int32_t max;               /* 1: MaxPool (first maximum gets the gradient), 0: AveragePool */
    int32_t count_include_pad; /* AveragePool */
    int32_t pad_;
    int64_t kernel[RT_TRAIN_MAX_SPATIAL];
    int64_t strides[RT_TRAIN_MAX_SPATIAL];
    int64_t dilations[RT_TRAIN_MAX_SPATIAL];
    int64_t pads[2 * RT_TRAIN_MAX_SPATIAL];
} RtPoolGradParams;

/* The optimizers of ai.onnx.preview.training (Adam, Adagrad, Momentum): n tensors. */
typedef struct RtOptimOpParams {
    int32_t n;        /* tensors optimised */
    int32_t nesterov; /* Momentum mode */
    double alpha, beta, epsilon, decay_factor, norm_coefficient, norm_coefficient_post;
} RtOptimOpParams;

/* The optimizers of the training library (runtime/api/rt_train_api.c), PyTorch's definitions
 * (torch.optim, docs/TRAINING.md). */
typedef enum RtOptimKind {
    RT_OPT_SGD = 0,
    RT_OPT_MOMENTUM = 1,
    RT_OPT_NESTEROV = 2,
    RT_OPT_ADAM = 3,
    RT_OPT_ADAMW = 4,
    RT_OPT_ADAGRAD = 5,
    RT_OPT_RMSPROP = 6,
    RT_OPT_COUNT = 7
} RtOptimKind;

typedef struct RtOptimConfig {
    int32_t kind;        /* RtOptimKind */
    int32_t pad_;
    double lr;           /* learning rate */
    double beta1;        /* Adam/AdamW beta1; momentum of SGD/RMSprop */
    double beta2;        /* Adam/AdamW beta2; RMSprop alpha */
    double eps;          /* Adam/Adagrad/RMSprop epsilon */
    double weight_decay; /* L2 (coupled) or decoupled for AdamW */
} RtOptimConfig;

/* One optimizer step on n floats: x -= update(g), with the state s1, s2 (n floats each, zero
 * at the start) and `step` the 1-based count of steps including this one. lr overrides c->lr
 * (schedules). Defined in runtime/rt_train.c. */
void rt_optim_step(const RtOptimConfig *c, double lr, int64_t step, float *x, const float *g,
                   float *s1, float *s2, int64_t n);
