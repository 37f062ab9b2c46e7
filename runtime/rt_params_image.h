/* rt_params_image.h - parameter blocks of the image kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_IMAGE_H
#define ONNXC_RT_PARAMS_IMAGE_H
#include <stdint.h>

#endif
