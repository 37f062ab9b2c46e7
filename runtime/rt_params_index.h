/* rt_params_index.h - parameter blocks of the index kernels (see rt_params.h; kernels in
 * runtime/rt_index.c, hooks in ops/op_index.c).
 *
 * Kernels whose output shape depends on the values of an input (Slice starts/ends, Expand shape,
 * Tile repeats, Range limits, OneHot depth, Pad pads, ConstantOfShape shape, Split sizes) read
 * that input at run time and fail with ONNXC_ERR_SHAPE unless it gives exactly the output shape
 * the model was compiled with. Kernels without a parameter block below take none (NULL). */
#ifndef ONNXC_RT_PARAMS_INDEX_H
#define ONNXC_RT_PARAMS_INDEX_H
#include <stdint.h>

#define RT_INDEX_MAX_RANK 64 /* = IR_MAX_RANK; the runtime does not include the IR header */

/* Shape (rt_k_shape): out = in[0].dims[start:end] as a 1-D int64 tensor. */
typedef struct RtShapeParams {
    int32_t start; /* first dim, normalised and clamped to [0, rank] */
    int32_t end;   /* one past the last dim, clamped to [start, rank] */
} RtShapeParams;

/* ConstantOfShape (rt_k_constant_of_shape): every output element is `value` (the element's bytes
 * in onnxc layout, `size` of them); in[0] is the shape input, checked against out.dims. */
typedef struct RtConstantOfShapeParams {
    int32_t size;      /* bytes per element (1..16) */
    uint8_t value[16]; /* the element */
} RtConstantOfShapeParams;

/* Gather, GatherElements, Split, OneHot: one axis. */
typedef struct RtAxisParams {
    int32_t axis; /* normalised axis of the data input (OneHot: of the output) */
} RtAxisParams;

/* GatherND (rt_k_gather_nd). */
typedef struct RtGatherNDParams {
    int32_t batch_dims; /* leading dims shared by data and indices */
} RtGatherNDParams;

/* Scatter reductions (ScatterElements-16/18, ScatterND-16/18). */
enum { RT_SCATTER_NONE = 0, RT_SCATTER_ADD = 1, RT_SCATTER_MUL = 2, RT_SCATTER_MAX = 3,
       RT_SCATTER_MIN = 4 };

/* ScatterElements (rt_k_scatter_elements) and ScatterND (rt_k_scatter_nd). */
typedef struct RtScatterParams {
    int32_t axis;      /* ScatterElements: normalised axis; unused by ScatterND */
    int32_t reduction; /* RT_SCATTER_* */
} RtScatterParams;

/* Slice (rt_k_slice): output element o (per dim) reads input index start[d] + o * step[d].
 * With from_inputs the starts/ends/axes/steps are read from in[1..4] at run time (opset 10
 * rules: negative values count from the end, then clamping) and the shape they give is checked
 * against out.dims; start/step are then ignored. */
typedef struct RtSliceParams {
    int32_t rank;                       /* rank of the data input */
    int32_t from_inputs;                /* 1: compute start/step from in[1..4] at run time */
    int64_t start[RT_INDEX_MAX_RANK];   /* first input index per dim */
    int64_t step[RT_INDEX_MAX_RANK];    /* index increment per dim (nonzero) */
} RtSliceParams;

/* Pad modes. */
enum { RT_PAD_CONSTANT = 0, RT_PAD_REFLECT = 1, RT_PAD_EDGE = 2, RT_PAD_WRAP = 3 };

/* Pad (rt_k_pad). Pads are ONNX-ordered [begin_0..begin_{r-1}, end_0..end_{r-1}] (negative pads
 * crop). From opset 11 pads come from in[1] (with the optional axes in[3] from opset 18) and the
 * constant value from the optional in[2]; before, from this block. */
typedef struct RtPadParams {
    int32_t rank;                         /* rank of the data input */
    int32_t mode;                         /* RT_PAD_* */
    int32_t from_inputs;                  /* 1: pads from in[1]/in[3], value from in[2] */
    int32_t pad_;                         /* (alignment) */
    double value;                         /* constant value when !from_inputs */
    int64_t pads[2 * RT_INDEX_MAX_RANK];  /* pads when !from_inputs */
} RtPadParams;

/* Trilu (rt_k_trilu): keep j - i >= k (upper) or j - i <= k (lower) in the last two dims; k is
 * the optional in[1] (default 0). */
typedef struct RtTriluParams {
    int32_t upper; /* 1: upper triangle, 0: lower */
} RtTriluParams;

/* CumSum (rt_k_cumsum): the axis is in[1] (a scalar or 1-element int32/int64 tensor). */
typedef struct RtCumSumParams {
    int32_t exclusive; /* 1: element j sums elements before j only */
    int32_t reverse;   /* 1: sums run from the end of the axis */
} RtCumSumParams;

/* EyeLike (rt_k_eyelike): 2-D output of zeros with ones on the diagonal j = i + k. */
typedef struct RtEyeLikeParams {
    int64_t k; /* diagonal offset */
} RtEyeLikeParams;

/* DepthToSpace / SpaceToDepth (rt_k_depth_space) on NCHW data. */
enum { RT_D2S_DCR = 0, RT_D2S_CRD = 1, RT_S2D = 2 };
typedef struct RtDepthSpaceParams {
    int32_t blocksize; /* block size b >= 1 */
    int32_t mode;      /* RT_D2S_DCR, RT_D2S_CRD (DepthToSpace) or RT_S2D (SpaceToDepth) */
} RtDepthSpaceParams;

#endif
