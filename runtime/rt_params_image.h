/* rt_params_image.h - parameter blocks of the image kernels (see rt_params.h): Resize/Upsample,
 * QuantizeLinear/DequantizeLinear, ConvTranspose, and the integer conv/matmul family. Filled by
 * the lower hooks in ops/op_image.c; kernels take the shapes from their tensors. */
#ifndef ONNXC_RT_PARAMS_IMAGE_H
#define ONNXC_RT_PARAMS_IMAGE_H
#include <stdint.h>

#define RT_IMG_MAX_RANK 8 /* ranks supported by Resize and the spatial dims of ConvTranspose */

/* Resize coordinate transformation modes (x = output coordinate, s = scale). */
enum {
    RT_RESIZE_HALF_PIXEL = 0,      /* (x + 0.5) / s - 0.5 */
    RT_RESIZE_HALF_PIXEL_SYM = 1,  /* half_pixel around the centre of the implicit roi */
    RT_RESIZE_PYTORCH_HALF = 2,    /* half_pixel, or -0.5 when the output length is 1 */
    RT_RESIZE_ALIGN_CORNERS = 3,   /* x * (in - 1) / (out - 1), or 0 */
    RT_RESIZE_ASYMMETRIC = 4,      /* x / s */
    RT_RESIZE_TF_CROP = 5,         /* tf_crop_and_resize: roi, extrapolation_value */
    RT_RESIZE_TF_HALF_NN = 6       /* tf_half_pixel_for_nn (opset 11): (x + 0.5) / s */
};
/* Resize interpolation modes and nearest rounding. */
enum { RT_RESIZE_NEAREST = 0, RT_RESIZE_LINEAR = 1, RT_RESIZE_CUBIC = 2 };
enum { RT_NEAREST_PREFER_FLOOR = 0, RT_NEAREST_PREFER_CEIL = 1, RT_NEAREST_FLOOR = 2,
       RT_NEAREST_CEIL = 3, RT_NEAREST_SIMPLE = 4 /* floor if scale >= 1, else ceil */ };

/* Resize / Upsample (rt_k_resize). in: X (rank r <= RT_IMG_MAX_RANK; any element type for
 * nearest, a numeric one for linear/cubic); out: Y with the output shape the compiler resolved.
 * The dims listed in axes[0..naxes) are resampled one after the other, in that order (linear
 * and cubic in double precision, then rounded to Y's type with saturation, as the ONNX reference
 * does); the others must keep their size. */
typedef struct RtResizeParams {
    int32_t rank;                       /* r */
    int32_t mode;                       /* RT_RESIZE_NEAREST / LINEAR / CUBIC */
    int32_t coord;                      /* RT_RESIZE_* coordinate transformation */
    int32_t nearest_mode;               /* RT_NEAREST_* (mode nearest only) */
    int32_t exclude_outside;            /* 1: taps outside the input get weight 0 (renormalised) */
    int32_t antialias;                  /* 1: linear/cubic filters stretched by 1/scale when < 1 */
    int32_t naxes;                      /* dims to resample, in order */
    int32_t axes[RT_IMG_MAX_RANK];      /* their indices */
    int32_t runtime;                    /* 0: scale/axes resolved at compile time; else the
                                           resampled dims come from the run-time values of
                                           1: scales in[1], 2: scales in[2], 3/4/5: sizes in[3]
                                           (stretch / not_larger / not_smaller), and Y's dims
                                           are checked against them; plus 8: roi read from
                                           in[1] at run time (axes then lists every dim of
                                           the axes attribute) */
    double cubic_a;                     /* cubic_coeff_a */
    double extrapolation;               /* extrapolation_value (tf_crop_and_resize) */
    double scale[RT_IMG_MAX_RANK];      /* scale per dim (output/input for sizes) */
    double roi_start[RT_IMG_MAX_RANK];  /* roi per dim (0 and 1 when absent) */
    double roi_end[RT_IMG_MAX_RANK];
} RtResizeParams;

/* QuantizeLinear (rt_k_quantize_linear) and DequantizeLinear (rt_k_dequantize_linear).
 * in: x, scale, optional zero point; out: y (same shape as x). The scale (and zero point) is a
 * scalar or one element (per tensor), 1-D of x's size along axis (per axis), or x's shape with
 * ceil(D_axis / block) along axis (blocked). Element types are read from the tensors. */
typedef struct RtQuantParams {
    int32_t axis;       /* normalised axis (0..rank-1) for per-axis/blocked; ignored otherwise */
    int32_t block;      /* block size (> 0: blocked), 0 otherwise */
    int32_t saturate;   /* Quantize to float8: 1 saturates, 0 gives inf/NaN on overflow */
    int32_t precision;  /* Quantize: element type in which x / scale is computed (1, 10, 16, 11) */
} RtQuantParams;

/* ConvTranspose (rt_k_conv_transpose_f32 / _f64). in: X[N, C, D1..Dn], W[C, M/group, k1..kn],
 * optional B[M]; out: Y[N, M, O1..On]. Input position i and tap k write output position
 * i * stride + k * dilation - pad_begin when it lies in [0, O) (pad_begin may be negative when
 * an output_shape larger than the natural one was requested). */
typedef struct RtConvTransposeParams {
    int32_t nspatial;                     /* n (1..RT_IMG_MAX_RANK) */
    int32_t group;                        /* channel groups */
    int64_t stride[RT_IMG_MAX_RANK];      /* >= 1 */
    int64_t dilation[RT_IMG_MAX_RANK];    /* >= 1 */
    int64_t pad_begin[RT_IMG_MAX_RANK];   /* output crop at the start of each spatial dim */
} RtConvTransposeParams;

/* ConvInteger / QLinearConv (rt_k_conv_integer, rt_k_qlinear_conv). in: as the ONNX op (X, W,
 * zero points; QLinearConv also scales, y zero point and optional int32 bias); out: Y (int32 or
 * the y zero point's type). Pads are explicit (auto_pad resolved). */
typedef struct RtConvIntParams {
    int32_t nspatial;                     /* n (1..RT_IMG_MAX_RANK) */
    int32_t group;                        /* channel groups */
    int64_t kernel[RT_IMG_MAX_RANK];      /* equals W's spatial dims */
    int64_t stride[RT_IMG_MAX_RANK];
    int64_t dilation[RT_IMG_MAX_RANK];
    int64_t pad_begin[RT_IMG_MAX_RANK];   /* >= 0 */
} RtConvIntParams;

#endif
