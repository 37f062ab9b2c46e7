/* rt_params_loss.h - parameter blocks of the loss kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_LOSS_H
#define ONNXC_RT_PARAMS_LOSS_H
#include <stdint.h>

#endif
