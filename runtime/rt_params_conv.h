/* rt_params_conv.h - parameter blocks of the conv kernels (see rt_params.h).
 *
 * Filled by the lower hooks in ops/op_conv.c from the node's attributes, with auto_pad already
 * resolved into explicit pads (so kernels never see auto_pad or ceil_mode: the output size that
 * ceil_mode chose arrives as out[0].dims). Spatial arrays use the first `nspatial` entries. */
#ifndef ONNXC_RT_PARAMS_CONV_H
#define ONNXC_RT_PARAMS_CONV_H
#include <stdint.h>

#include "runtime/rt_params_fused.h" /* RtEpilogue */

#ifndef RT_MAX_SPATIAL
#define RT_MAX_SPATIAL 8 /* same value as in rt_params.h (kept here so this header stands alone) */
#endif

/* Conv (rt_k_conv_f32, rt_k_conv_ref_f32, rt_k_conv_f64).
 * in: X[N, C, D1..Dn], W[M, C/group, k1..kn], optional B[M]; out: Y[N, M, O1..On]. */
typedef struct RtConvParams {
    int32_t nspatial;                   /* n: number of spatial dims (1..RT_MAX_SPATIAL) */
    int32_t group;                      /* channel groups (>= 1; C and M divisible by it) */
    int64_t kernel[RT_MAX_SPATIAL];     /* kernel size per spatial dim (equals W's dims) */
    int64_t stride[RT_MAX_SPATIAL];     /* stride per spatial dim (>= 1) */
    int64_t dilation[RT_MAX_SPATIAL];   /* dilation per spatial dim (>= 1) */
    int64_t pad_begin[RT_MAX_SPATIAL];  /* zero padding before each spatial dim (>= 0) */
    int64_t pad_end[RT_MAX_SPATIAL];    /* zero padding after each spatial dim (>= 0) */
    RtEpilogue epi;                     /* activation applied to Y (FusedConv); zero for Conv */
} RtConvParams;

/* MaxPool / AveragePool (rt_k_maxpool_*, rt_k_avgpool_*).
 * in: X[N, C, D1..Dn]; out: Y[N, C, O1..On] and, for MaxPool, optional Indices (int64, same
 * shape). A window of output o along dim i starts at o*stride - pad_begin and has kernel taps
 * spaced by dilation; taps outside [0, D) are skipped (MaxPool) or, for AveragePool with
 * count_include_pad, counted in the divisor while inside [-pad_begin, D + pad_end). */
typedef struct RtPoolParams {
    int32_t nspatial;                   /* n: number of spatial dims (1..RT_MAX_SPATIAL) */
    int32_t count_include_pad;          /* AveragePool: 1 if padding taps count in the divisor */
    int32_t storage_order;              /* MaxPool Indices: 0 row-major, 1 column-major spatial */
    int32_t reserved;                   /* zero; keeps the int64 arrays 8-byte aligned */
    int64_t kernel[RT_MAX_SPATIAL];     /* window size per spatial dim (>= 1) */
    int64_t stride[RT_MAX_SPATIAL];     /* stride per spatial dim (>= 1) */
    int64_t dilation[RT_MAX_SPATIAL];   /* dilation per spatial dim (>= 1) */
    int64_t pad_begin[RT_MAX_SPATIAL];  /* padding before each spatial dim (>= 0) */
    int64_t pad_end[RT_MAX_SPATIAL];    /* padding after each spatial dim (>= 0) */
} RtPoolParams;

/* LpPool (rt_k_lppool_*): the windows of RtPoolParams (count_include_pad and storage_order
 * unused); y = (sum over the taps inside the input of |x|^p)^(1/p). MaxUnpool (rt_k_maxunpool)
 * uses a plain RtPoolParams (kernel, stride, pad_begin, pad_end). */
typedef struct RtLpPoolParams {
    RtPoolParams pool; /* the window */
    double p;          /* the exponent (> 0) */
} RtLpPoolParams;

#endif
