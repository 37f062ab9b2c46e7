/* rt_params_reduce.h - parameter blocks of the reduce kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_REDUCE_H
#define ONNXC_RT_PARAMS_REDUCE_H
#include <stdint.h>

#endif
