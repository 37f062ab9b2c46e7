/* rt_params_vision.h - parameter blocks of the vision kernels (runtime/rt_vision.c, see
 * rt_params.h): GridSample, AffineGrid, Col2Im, CenterCropPad, DeformConv, RoiAlign and
 * NonMaxSuppression. Shapes travel in the RtTensors; what is stored here is what the node's
 * attributes (resolved for its opset) decide. */
#pragma once
#include <stdint.h>

#define RT_VISION_MAX_SPATIAL 8 /* spatial dims of GridSample / Col2Im */
#define RT_VISION_MAX_RANK 64   /* rank of CenterCropPad's input (IR_MAX_RANK) */

/* GridSample interpolation modes and padding modes. */
enum { RT_GS_NEAREST = 0, RT_GS_LINEAR = 1, RT_GS_CUBIC = 2 };
enum { RT_GS_ZEROS = 0, RT_GS_BORDER = 1, RT_GS_REFLECTION = 2 };

/* rt_k_grid_sample: Y[n, c, o...] = interpolation of X[n, c] at the point grid[n, o...] (its last
 * dim lists the coordinates innermost spatial dim first: x, y[, z]), normalised to [-1, 1]. */
typedef struct RtGridSampleParams {
    int32_t mode;          /* RT_GS_NEAREST / LINEAR / CUBIC */
    int32_t padding;       /* RT_GS_ZEROS / BORDER / REFLECTION */
    int32_t align_corners; /* 1: -1 and 1 are the centres of the corner pixels */
    int32_t nspatial;      /* spatial dims of X (rank - 2), 1..RT_VISION_MAX_SPATIAL */
} RtGridSampleParams;

/* rt_k_affine_grid: grid[n, d.., h, w, :] = theta[n] * (x_w, y_h[, z_d], 1), the base
 * coordinates evenly spaced in [-1, 1] (pixel centres unless align_corners). Input 1 (size) is
 * read at run time and must agree with the output's shape. */
typedef struct RtAffineGridParams {
    int32_t align_corners;
    int32_t nspatial; /* 2 or 3 */
} RtAffineGridParams;

/* rt_k_col2im: output[n, c, image...] = sum of the columns input[n, c * prod(block) + b, l] that
 * land on each pixel. image_shape and block_shape (inputs 1 and 2) are read at run time. */
typedef struct RtCol2ImParams {
    int32_t nspatial;                             /* spatial dims, 1..RT_VISION_MAX_SPATIAL */
    int32_t pad_;                                 /* zero */
    int64_t dilations[RT_VISION_MAX_SPATIAL];     /* >= 1 */
    int64_t strides[RT_VISION_MAX_SPATIAL];       /* >= 1 */
    int64_t pads[2 * RT_VISION_MAX_SPATIAL];      /* begins then ends, >= 0 */
} RtCol2ImParams;

/* rt_k_center_crop_pad: every dim listed in axes is centre-cropped or zero-padded to the value
 * of the shape input (input 1, read at run time, entry k for axes[k]); other dims unchanged. Any
 * element type (bytes copied; padding is all-zero bytes). */
typedef struct RtCenterCropPadParams {
    int32_t naxes;                        /* entries of axes (= the shape input's length) */
    int32_t pad_;                         /* zero */
    int32_t axes[RT_VISION_MAX_RANK]; /* normalised to [0, rank), distinct */
} RtCenterCropPadParams;

/* rt_k_deform_conv (2-D): Y[n, oc, i, j] = B[oc] + sum over ic of its group and kernel taps
 * (a, b) of W[oc, ic, a, b] * mask * X[n, ic] bilinearly sampled (zero outside) at
 * (i * stride_h - pad_h + a * dil_h + off_h, j * stride_w - pad_w + b * dil_w + off_w); the
 * offsets (input 2, [N, offset_group * kh * kw * 2, oh, ow], (h, w) pairs) and mask (input 4,
 * optional, [N, offset_group * kh * kw, oh, ow]) belong to the input channel's offset group. */
typedef struct RtDeformConvParams {
    int64_t group;        /* >= 1 */
    int64_t offset_group; /* >= 1 */
    int64_t kernel[2];    /* kh, kw */
    int64_t strides[2];
    int64_t dilations[2];
    int64_t pads[4]; /* top, left, bottom, right */
} RtDeformConvParams;

/* rt_k_roi_align: Y[r, c, ph, pw] = average (or maximum) of X[batch_indices[r], c] bilinearly
 * sampled on a sampling grid of each output bin of the region rois[r] = (x1, y1, x2, y2). */
typedef struct RtRoiAlignParams {
    int32_t mode_max;       /* 0: avg, 1: max (of the weighted corner values, as onnxruntime) */
    int32_t half_pixel;     /* coordinate_transformation_mode half_pixel (shift by -0.5) */
    int64_t output_height;  /* >= 1 */
    int64_t output_width;   /* >= 1 */
    int64_t sampling_ratio; /* > 0: samples per bin side; 0: ceil(roi size / output size) */
    double spatial_scale;
} RtRoiAlignParams;

/* rt_k_nms: NonMaxSuppression. selected_indices[k] = (batch, class, box), boxes taken per batch
 * and class in decreasing score order, skipping boxes with score <= score_threshold (when
 * given) and boxes whose IoU with a selected one exceeds iou_threshold, at most
 * max_output_boxes_per_class per class. The row count depends on the data. */
typedef struct RtNmsParams {
    int32_t center_point_box; /* 0: (y1, x1, y2, x2) corners; 1: (x_center, y_center, w, h) */
    int32_t pad_;             /* zero */
} RtNmsParams;
