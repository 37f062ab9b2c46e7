/* rt_params_logic.h - parameter blocks of the logic kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_LOGIC_H
#define ONNXC_RT_PARAMS_LOGIC_H
#include <stdint.h>

#endif
