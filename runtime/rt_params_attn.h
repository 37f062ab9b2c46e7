/* rt_params_attn.h - parameter blocks of the attn kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_ATTN_H
#define ONNXC_RT_PARAMS_ATTN_H
#include <stdint.h>

#endif
