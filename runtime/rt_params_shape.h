/* rt_params_shape.h - parameter blocks of the shape kernels (see rt_params.h).
 *
 * View-like ops (Flatten, Reshape, Squeeze, Unsqueeze, Identity, Dropout without mask) use the
 * generic rt_k_copy kernel and have no parameter block. */
#ifndef ONNXC_RT_PARAMS_SHAPE_H
#define ONNXC_RT_PARAMS_SHAPE_H
#include <stdint.h>

#define RT_TRANSPOSE_MAX_RANK 64 /* = IR_MAX_RANK; the runtime does not include the IR header */

/* Transpose (rt_k_transpose): out.dims[i] = in.dims[perm[i]]; any element type. */
typedef struct RtTransposeParams {
    int32_t rank;                        /* number of dims (0..RT_TRANSPOSE_MAX_RANK) */
    int32_t perm[RT_TRANSPOSE_MAX_RANK]; /* output dim i takes input dim perm[i] */
} RtTransposeParams;

/* Concat (rt_k_concat): inputs joined along `axis`; any element type. */
typedef struct RtConcatParams {
    int32_t axis; /* normalised axis in [0, rank) */
} RtConcatParams;

/* Reshape / Squeeze / Unsqueeze whose shape or axes input is computed (rt_k_view_checked): the
 * output shape was taken from the model's declared type at compile time; the kernel computes the
 * shape the run-time input gives and fails (ONNXC_ERR_SHAPE) unless it is the compiled one, then
 * copies the bytes. */
typedef struct RtViewCheckParams {
    int32_t mode;      /* 0 Reshape (in[1] = shape), 1 Squeeze, 2 Unsqueeze (in[1] = axes) */
    int32_t allowzero; /* Reshape: a 0 in the shape means size 0 (1) or "copy the dim" (0) */
} RtViewCheckParams;

#endif
