/* rt_params_reduce.h - parameter blocks of the reduce kernels (see rt_params.h).
 *
 * The reduction kernels (ReduceSum ... ReduceSumSquare) take an RtReduceParams, ArgMax/ArgMin an
 * RtArgParams and the variadic elementwise kernels (Max, Min, Sum, Mean) an RtVarParams. Shapes
 * are not stored here: kernels read them from the RtTensor dims.
 */
#ifndef ONNXC_RT_PARAMS_REDUCE_H
#define ONNXC_RT_PARAMS_REDUCE_H
#include <stdint.h>

/* Which reduction a reduce kernel computes (the kernel symbol fixes it too; the field lets the
 * kernel check that it was given the block its lower hook meant for it). */
typedef enum RtReduceOp {
    RT_RED_SUM = 0,
    RT_RED_MEAN = 1,
    RT_RED_MAX = 2,
    RT_RED_MIN = 3,
    RT_RED_PROD = 4,
    RT_RED_L1 = 5,
    RT_RED_L2 = 6,
    RT_RED_LOGSUM = 7,
    RT_RED_LOGSUMEXP = 8,
    RT_RED_SUMSQUARE = 9,
    RT_RED_COUNT = 10
} RtReduceOp;

typedef struct RtReduceParams {
    int32_t op;         /* RtReduceOp */
    int32_t rank;       /* rank of the input (the kernel checks it) */
    uint64_t axes_mask; /* bit d set: input dim d is reduced; 0 = reduce over the empty set of
                           axes (noop_with_empty_axes: only the elementwise part is applied) */
    int32_t axes_input; /* nonzero: axes_mask is unused; the axes are read at run time from in[1]
                           (1-D int64/int32, validated: range, no repeats) and the reduced shape
                           must equal the output's compiled (declared) shape */
    int32_t keepdims;   /* axes_input only: reduced dims are kept as 1 (nonzero) or dropped */
    int32_t noop_empty; /* axes_input only: empty axes reduce nothing (noop_with_empty_axes) */
    int32_t pad;        /* zero */
} RtReduceParams;

typedef struct RtArgParams {
    int32_t axis;        /* normalised axis in [0, rank) */
    int32_t select_last; /* nonzero: the last index of the extreme value wins, else the first */
} RtArgParams;

/* Which variadic elementwise operation an RtVarParams kernel computes. */
typedef enum RtVarOp { RT_VAR_MAX = 0, RT_VAR_MIN = 1, RT_VAR_SUM = 2, RT_VAR_MEAN = 3 } RtVarOp;

typedef struct RtVarParams {
    int32_t op; /* RtVarOp */
    int32_t pad; /* zero; keeps the block 8 bytes */
} RtVarParams;

#endif
