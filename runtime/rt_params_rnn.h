/* rt_params_rnn.h - parameter block of the recurrent kernel (runtime/rt_rnn.c, see
 * rt_params.h): RNN, GRU and LSTM. Shapes travel in the RtTensors; what is stored here is what
 * the node's attributes (resolved for its opset) decide. */
#pragma once
#include <stdint.h>

/* The cell of rt_k_rnn. */
enum { RT_RNN_SIMPLE = 0, RT_RNN_GRU = 1, RT_RNN_LSTM = 2 };

/* Activation functions of the recurrent ops (attribute `activations`, case-insensitive). */
enum {
    RT_RNN_ACT_RELU,            /* max(0, x) */
    RT_RNN_ACT_TANH,            /* tanh(x) */
    RT_RNN_ACT_SIGMOID,         /* 1 / (1 + exp(-x)) */
    RT_RNN_ACT_AFFINE,          /* alpha x + beta */
    RT_RNN_ACT_LEAKYRELU,       /* x >= 0 ? x : alpha x */
    RT_RNN_ACT_THRESHOLDEDRELU, /* x >= alpha ? x : 0 */
    RT_RNN_ACT_SCALEDTANH,      /* alpha tanh(beta x) */
    RT_RNN_ACT_HARDSIGMOID,     /* min(max(alpha x + beta, 0), 1) */
    RT_RNN_ACT_ELU,             /* x >= 0 ? x : alpha (exp(x) - 1) */
    RT_RNN_ACT_SOFTSIGN,        /* x / (1 + |x|) */
    RT_RNN_ACT_SOFTPLUS,        /* log(1 + exp(x)) */
    RT_RNN_ACT_COUNT
};

/* rt_k_rnn: one recurrent layer. Inputs X, W, R, B, sequence_lens, initial_h (, initial_c, P
 * for LSTM), outputs Y, Y_h (, Y_c for LSTM); every optional one may be absent (rank < 0).
 * Gate order in W/R/B: GRU z, r, h; LSTM i, o, f, c; P (LSTM) i, o, f. */
typedef struct RtRnnParams {
    int32_t cell;                /* RT_RNN_SIMPLE / GRU / LSTM */
    int32_t direction;           /* 0 forward, 1 reverse, 2 bidirectional */
    int64_t hidden;              /* hidden_size (>= 1) */
    int32_t layout;              /* 0: X [T, B, I], Y [T, D, B, H]; 1: X [B, T, I], Y [B, T, D, H] */
    int32_t has_clip;            /* nonzero: clip gate pre-activations to [-clip, clip] */
    double clip;                 /* > 0 */
    int32_t input_forget;        /* LSTM: couple the input and forget gates (f = 1 - i) */
    int32_t linear_before_reset; /* GRU: h = g(Xh + r * (H Rh^T + Rbh) + Wbh) */
    int32_t act[2][3];           /* per direction (forward first): f, g, h (RT_RNN_ACT_*) */
    double alpha[2][3];          /* their alpha (defaults resolved) */
    double beta[2][3];           /* their beta */
} RtRnnParams;
