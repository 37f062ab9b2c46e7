/* rt_params_elementwise.h - parameter blocks of the elementwise kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_ELEMENTWISE_H
#define ONNXC_RT_PARAMS_ELEMENTWISE_H
#include <stdint.h>

#endif
