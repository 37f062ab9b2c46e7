/* rt_core.c - kernel context, error reporting, element sizes, the kernel lookup table and the
 * generic copy kernel used by view-like operators (Reshape, Flatten, Squeeze, Identity, ...). */
#include "runtime/onnxc_rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rt_ctx_init(RtCtx *ctx) {
    memset(ctx, 0, sizeof(*ctx));
    ctx->num_threads = 1;
}

int rt_fail(RtCtx *ctx, int status, const char *fmt, ...) {
    if (ctx) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ctx->errmsg, sizeof ctx->errmsg, fmt, ap);
        va_end(ap);
        ctx->status = status;
    }
    return status;
}

int64_t rt_numel(const RtTensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        n *= t->dims[i];
    return n;
}

/* Element sizes in onnxc layout, indexed by ONNX element type (see ir/ir.h). */
static const unsigned char rt_sizes[27] = {
    0,  /* UNDEFINED */
    4,  /* FLOAT */
    1,  /* UINT8 */
    1,  /* INT8 */
    2,  /* UINT16 */
    2,  /* INT16 */
    4,  /* INT32 */
    8,  /* INT64 */
    sizeof(void *) + sizeof(size_t), /* STRING: {const char *, size_t} */
    1,  /* BOOL */
    2,  /* FLOAT16 */
    8,  /* DOUBLE */
    4,  /* UINT32 */
    8,  /* UINT64 */
    8,  /* COMPLEX64 */
    16, /* COMPLEX128 */
    2,  /* BFLOAT16 */
    1, 1, 1, 1, /* FLOAT8 variants */
    1, 1, /* UINT4, INT4 (unpacked) */
    1, 1, /* FLOAT4E2M1, FLOAT8E8M0 */
    1, 1  /* UINT2, INT2 (unpacked) */
};

size_t rt_dtype_size(int32_t dtype) {
    return (dtype >= 0 && dtype < (int32_t)sizeof rt_sizes) ? rt_sizes[dtype] : 0;
}

/* Copies in[0] to out[0] byte for byte; the element counts must agree. */
int rt_k_copy(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out, int nout) {
    (void)params;
    if (nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "copy: needs one input and one output");
    int64_t n = rt_numel(&in[0]), m = rt_numel(&out[0]);
    size_t es = rt_dtype_size(in[0].dtype);
    if (n != m || es != rt_dtype_size(out[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "copy: %lld elements in, %lld out", (long long)n,
                       (long long)m);
    if (n > 0 && in[0].data != out[0].data)
        memmove(out[0].data, in[0].data, (size_t)n * es);
    return ONNXC_OK;
}
