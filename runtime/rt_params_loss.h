/* rt_params_loss.h - parameter blocks of the loss kernels (see rt_params.h).
 *
 * NegativeLogLikelihoodLoss (rt_k_nll_loss), SoftmaxCrossEntropyLoss (rt_k_sce_loss) and the
 * gradient of SoftmaxCrossEntropyLoss with respect to its scores (rt_k_sce_loss_grad) share one
 * block. Shapes are not stored: the kernels read them from the RtTensor dims. */
#ifndef ONNXC_RT_PARAMS_LOSS_H
#define ONNXC_RT_PARAMS_LOSS_H
#include <stdint.h>

/* How the per-element losses are reduced. */
typedef enum RtLossReduction {
    RT_LOSS_NONE = 0, /* output has the labels' shape (N, d1, ..., dk) */
    RT_LOSS_SUM = 1,  /* scalar: sum of the losses */
    RT_LOSS_MEAN = 2  /* scalar: sum of the losses / sum of the weights of non-ignored elements */
} RtLossReduction;

typedef struct RtLossParams {
    int32_t reduction;    /* RtLossReduction */
    int32_t has_ignore;   /* nonzero: labels equal to ignore_index are skipped (loss and weight 0) */
    int64_t ignore_index; /* the ignored label value (any int64, also outside [0, C)) */
} RtLossParams;

#endif
