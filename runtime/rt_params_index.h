/* rt_params_index.h - parameter blocks of the index kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_INDEX_H
#define ONNXC_RT_PARAMS_INDEX_H
#include <stdint.h>

#endif
