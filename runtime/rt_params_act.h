/* rt_params_act.h - parameter blocks of the act kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_ACT_H
#define ONNXC_RT_PARAMS_ACT_H
#include <stdint.h>

#endif
