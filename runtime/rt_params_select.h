/* rt_params_select.h - kernel parameter records of the select family (runtime/rt_select.c). */
#pragma once
#include <stdint.h>

/* TopK: axis normalised; k from the attribute (opset 1, k >= 0) or the input (k < 0). */
typedef struct RtTopKParams {
    int32_t axis;
    int32_t largest;  /* 1: largest k, 0: smallest k */
    int64_t k;        /* >= 0: attribute value; -1: read input 1 at run time */
} RtTopKParams;

/* Unique: with has_axis, rows are the slices along axis (normalised); else the elements. */
typedef struct RtUniqueParams {
    int32_t has_axis;
    int32_t axis;
    int32_t sorted;   /* 1: ascending order of the unique rows, 0: order of first occurrence */
    int32_t pad;
} RtUniqueParams;

/* Compress: with has_axis, selects slices along axis (normalised); else flattened elements. */
typedef struct RtCompressParams {
    int32_t has_axis;
    int32_t axis;
} RtCompressParams;
