/* rt_params_shape.h - parameter blocks of the shape kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_SHAPE_H
#define ONNXC_RT_PARAMS_SHAPE_H
#include <stdint.h>

#endif
