/* rt_params_elementwise.h - parameter blocks of the elementwise kernels (see rt_params.h).
 *
 * Every elementwise kernel (runtime/rt_elementwise.c) takes an RtEltParams; the fields an op
 * does not use are zero. Shapes are not stored here: kernels read them from the RtTensor dims.
 */
#ifndef ONNXC_RT_PARAMS_ELEMENTWISE_H
#define ONNXC_RT_PARAMS_ELEMENTWISE_H
#include <stdint.h>

typedef struct RtEltParams {
    /* Binary ops: where input 1 is aligned in the output's dims. -1 = numpy broadcasting
     * (right-aligned). >= 0: legacy (opset < 7, broadcast=1) broadcasting, input 1's dims start
     * at output dim `b_axis` (missing trailing dims act as 1). */
    int32_t b_axis;
    /* Clip: nonzero when the bounds come from lo/hi below (opset < 11 attributes); zero when
     * they come from the optional inputs 1 and 2 (opset >= 11), omitted ones meaning none. */
    int32_t bounds_from_attr;
    /* LeakyRelu: slope for negative inputs (default 0.01). */
    double alpha;
    /* Clip (bounds_from_attr): lower and upper bound, already defaulted to -inf/+inf. */
    double lo;
    double hi;
} RtEltParams;

#endif
