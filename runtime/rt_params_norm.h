/* rt_params_norm.h - parameter blocks of the norm kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_NORM_H
#define ONNXC_RT_PARAMS_NORM_H
#include <stdint.h>

#endif
