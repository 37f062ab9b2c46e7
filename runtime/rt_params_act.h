/* rt_params_act.h - parameter blocks of the act kernels (runtime/rt_act.c, see rt_params.h):
 * unary math and activation functions, PRelu, Hardmax, the normalizations (LayerNormalization,
 * RMSNormalization, InstanceNormalization, GroupNormalization, LpNormalization,
 * MeanVarianceNormalization, LRN) and Einsum. Shapes travel in the RtTensors; what is stored
 * here is what the node's attributes (resolved for its opset) and static shapes decide. */
#ifndef ONNXC_RT_PARAMS_ACT_H
#define ONNXC_RT_PARAMS_ACT_H
#include <stdint.h>

/* The functions of rt_k_act_unary (y = f(x) elementwise, float types). */
enum {
    RT_ACT_SIN, RT_ACT_COS, RT_ACT_TAN, RT_ACT_ASIN, RT_ACT_ACOS, RT_ACT_ATAN,
    RT_ACT_SINH, RT_ACT_COSH, RT_ACT_ASINH, RT_ACT_ACOSH, RT_ACT_ATANH, RT_ACT_ERF,
    RT_ACT_SOFTPLUS,        /* log(1 + exp(x)) */
    RT_ACT_SOFTSIGN,        /* x / (1 + |x|) */
    RT_ACT_ELU,             /* x < 0 ? alpha (exp(x) - 1) : x */
    RT_ACT_SELU,            /* x <= 0 ? gamma (alpha exp(x) - alpha) : gamma x */
    RT_ACT_CELU,            /* max(0, x) + min(0, alpha (exp(x / alpha) - 1)) */
    RT_ACT_HARDSIGMOID,     /* max(0, min(1, alpha x + beta)) */
    RT_ACT_HARDSWISH,       /* x max(0, min(1, x / 6 + 1 / 2)) */
    RT_ACT_THRESHOLDEDRELU, /* x > alpha ? x : 0 */
    RT_ACT_GELU,            /* x / 2 (1 + erf(x / sqrt(2))) */
    RT_ACT_GELU_TANH,       /* x / 2 (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) */
    RT_ACT_MISH,            /* x tanh(softplus(x)) */
    RT_ACT_SHRINK,          /* x < -alpha ? x + beta : x > alpha ? x - beta : 0 (alpha = lambd) */
    RT_ACT_SWISH,           /* x sigmoid(alpha x) (also the gate of rt_k_swiglu) */
    RT_ACT_COUNT
};

/* rt_k_act_unary: output = f(input), same element type and shape.
 * rt_k_swiglu (SwiGLU): output = Swish_alpha(in[0]) * in[1], the three of one type and shape;
 * only alpha is used. */
typedef struct RtActParams {
    int32_t fn;   /* RT_ACT_* */
    int32_t pad_; /* zero */
    double alpha; /* Elu, Selu, Celu, HardSigmoid, ThresholdedRelu, Swish: alpha; Shrink: lambd */
    double beta;  /* HardSigmoid: beta; Shrink: bias */
    double gamma; /* Selu: gamma */
} RtActParams;

/* rt_k_hardmax and rt_k_lpnorm: an axis of the input, as Softmax has one:
 *   - coerce_2d != 0 (Hardmax opset < 13): dims [axis, rank) flattened form the axis;
 *   - else the single dim `axis`. */
typedef struct RtActAxisParams {
    int32_t axis;      /* in [0, rank) (0 for rank-0 inputs) */
    int32_t coerce_2d; /* see above */
    int32_t p;         /* LpNormalization: 1 or 2 */
    int32_t pad_;      /* zero */
} RtActAxisParams;

/* Where a per-row or per-column parameter (scale or bias) of rt_k_act_norm is read: X is seen
 * as [rows, cols] (statistics per row); element (r, c) uses entry
 *   (r % rmod) * rmul + (c / cdiv) % cmod
 * of the parameter tensor. Examples: LayerNormalization with Scale shaped like the normalized
 * dims {1, 0, 1, cols}; InstanceNormalization (rows = N * C) {C, 1, cols, 1}; GroupNormalization
 * opset 21 (rows = N * G, cols = C / G * spatial) {G, C / G, spatial, C / G}. */
typedef struct RtActIndex {
    int64_t rmod, rmul, cdiv, cmod; /* all >= 1 */
} RtActIndex;

/* rt_k_act_norm: LayerNormalization, RMSNormalization, InstanceNormalization,
 * GroupNormalization. X (input 0) is seen as [rows, cols] with
 *   rows = prod(dims[0:axis]) * groups,  cols = prod(dims[axis:]) / groups;
 * each row is normalized: y = (x - mean) / sqrt(var + epsilon) (rms: y = x / sqrt(mean(x^2) +
 * epsilon)), then y * scale + bias. Input 1 is the scale, input 2 the optional bias; outputs 1
 * and 2 (optional, LayerNormalization) receive the row mean and 1 / sqrt(var + epsilon). */
typedef struct RtActNormParams {
    int32_t axis;     /* first normalized dim, in [0, rank] */
    int32_t rms;      /* nonzero: RMSNormalization (no mean subtraction) */
    int64_t groups;   /* rows per prod(dims[0:axis]) (>= 1) */
    double epsilon;   /* added to the variance */
    RtActIndex scale; /* indexing of input 1 */
    RtActIndex bias;  /* indexing of input 2 (if present) */
} RtActNormParams;

/* rt_k_mvn: y = (x - mean) / (sqrt(var) + 1e-9), mean and (population) variance over the dims
 * whose bit is set in `axes` (MeanVarianceNormalization's function body). */
typedef struct RtActMvnParams {
    uint64_t axes; /* bit d: dim d is reduced */
} RtActMvnParams;

/* rt_k_lrn: y = x / (bias + alpha / size * sum of x^2 over the channel window)^beta, the window
 * of channel c being [c - floor((size - 1) / 2), c + ceil((size - 1) / 2)] within [0, C). */
typedef struct RtActLrnParams {
    double alpha, beta, bias;
    int64_t size; /* >= 1 */
} RtActLrnParams;

/* rt_k_einsum: the equation, resolved at compile time. Labels are numbered 0..nlabels-1, the
 * output's labels first (in output order), then the summed ones; each input dim names the label
 * it runs along (a label repeated within one input takes the diagonal). */
#define RT_EINSUM_MAX_IN 8
#define RT_EINSUM_MAX_RANK 16
#define RT_EINSUM_MAX_LABELS 32
typedef struct RtActEinsumParams {
    int32_t nin;                                            /* inputs (1..RT_EINSUM_MAX_IN) */
    int32_t nlabels;                                        /* labels (<= RT_EINSUM_MAX_LABELS) */
    int32_t nout;                                           /* output rank (labels 0..nout-1) */
    int32_t rank[RT_EINSUM_MAX_IN];                         /* rank of each input */
    int8_t label[RT_EINSUM_MAX_IN][RT_EINSUM_MAX_RANK];     /* label of each input dim */
} RtActEinsumParams;

#endif
