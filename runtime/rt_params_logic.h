/* rt_params_logic.h - parameter blocks of the logic kernels (see rt_params.h).
 *
 * Every kernel of runtime/rt_logic.c takes an RtLogicParams (NULL params means all defaults:
 * numpy broadcasting, saturate on, round_mode up, fmod 0, shift left, detect both infinities).
 * Fields an op does not use are left at their defaults by ops/op_logic.c.
 */
#ifndef ONNXC_RT_PARAMS_LOGIC_H
#define ONNXC_RT_PARAMS_LOGIC_H
#include <stdint.h>

typedef struct RtLogicParams {
    /* Binary ops: where input 1 is aligned in the output's dims. -1 = numpy broadcasting
     * (right-aligned); >= 0: legacy (opset < 7, broadcast=1) alignment starting at this dim. */
    int32_t b_axis;
    /* Cast/CastLike: target element type (ONNX DataType number). */
    int32_t to;
    /* Cast to float8 types: nonzero = saturate out-of-range values to the largest finite value. */
    int32_t saturate;
    /* Cast to FLOAT8E8M0: RT_ROUND_UP (0), RT_ROUND_DOWN (1) or RT_ROUND_NEAREST (2)
     * (runtime/rt_convert.h). */
    int32_t round_mode;
    /* Mod: nonzero = C fmod semantics (sign of the dividend); zero = sign of the divisor. */
    int32_t fmod;
    /* BitShift: 0 = LEFT, 1 = RIGHT. */
    int32_t shift_right;
    /* IsInf: report -inf (detect_negative) and +inf (detect_positive). */
    int32_t detect_negative;
    int32_t detect_positive;
} RtLogicParams;

#endif
