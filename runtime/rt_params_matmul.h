/* rt_params_matmul.h - parameter blocks of the matmul kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_MATMUL_H
#define ONNXC_RT_PARAMS_MATMUL_H
#include <stdint.h>

#endif
