/* rt_params_conv.h - parameter blocks of the conv kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_CONV_H
#define ONNXC_RT_PARAMS_CONV_H
#include <stdint.h>

#endif
