/* rt_core.c - kernel context, error reporting, element sizes, the kernel lookup table, the
 * generic copy kernel used by view-like operators (Reshape, Flatten, Squeeze, Identity, ...) and
 * the run-time allocator of dynamic shapes (docs/DYNAMIC_SHAPES.md). */
#include "runtime/onnxc_rt.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
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

/* ------------------------------------------------------------------ run-time pool */

/* One malloc'd block. */
typedef struct RtBlock {
    void *mem;     /* 64-byte aligned */
    size_t size;   /* bytes at mem */
    int used;      /* handed out since the last reset */
} RtBlock;

struct RtPool {
    RtBlock *blocks; /* n entries (cap allocated) */
    int n, cap;
};

RtPool *rt_pool_new(void) { return calloc(1, sizeof(RtPool)); }

void rt_pool_free(RtPool *p) {
    if (!p)
        return;
    for (int i = 0; i < p->n; i++)
        free(p->blocks[i].mem);
    free(p->blocks);
    free(p);
}

void rt_pool_reset(RtPool *p) {
    if (p)
        for (int i = 0; i < p->n; i++)
            p->blocks[i].used = 0;
}

/* Best fit among free blocks; else replaces the largest free block that is too small (so the
 * number of blocks stays bounded by the most blocks one run needs), else adds a block. */
void *rt_alloc(RtCtx *ctx, size_t bytes) {
    RtPool *p = ctx ? ctx->pool : NULL;
    if (!p) {
        rt_fail(ctx, ONNXC_ERR_UNSUPPORTED, "run-time allocation without a context pool");
        return NULL;
    }
    if (bytes == 0)
        bytes = 1;
    if (bytes > (SIZE_MAX >> 1)) {
        rt_fail(ctx, ONNXC_ERR_NOMEM, "cannot allocate %zu bytes", bytes);
        return NULL;
    }
    int best = -1, small = -1;
    for (int i = 0; i < p->n; i++) {
        RtBlock *b = &p->blocks[i];
        if (b->used)
            continue;
        if (b->size >= bytes) {
            if (best < 0 || b->size < p->blocks[best].size)
                best = i;
        } else if (small < 0 || b->size > p->blocks[small].size) {
            small = i;
        }
    }
    if (best >= 0) {
        p->blocks[best].used = 1;
        return p->blocks[best].mem;
    }
    size_t sz = (bytes + 63) & ~(size_t)63;
    void *mem = NULL;
    if (posix_memalign(&mem, 64, sz) != 0 || !mem) {
        rt_fail(ctx, ONNXC_ERR_NOMEM, "cannot allocate %zu bytes", bytes);
        return NULL;
    }
    if (small >= 0) {
        free(p->blocks[small].mem);
        p->blocks[small] = (RtBlock){mem, sz, 1};
        return mem;
    }
    if (p->n == p->cap) {
        int nc = p->cap ? p->cap * 2 : 16;
        RtBlock *nb = realloc(p->blocks, sizeof *nb * (size_t)nc);
        if (!nb) {
            free(mem);
            rt_fail(ctx, ONNXC_ERR_NOMEM, "out of memory");
            return NULL;
        }
        p->blocks = nb;
        p->cap = nc;
    }
    p->blocks[p->n++] = (RtBlock){mem, sz, 1};
    return mem;
}

/* Bytes of a tensor with t->rank dims `dims`; -1 on overflow or a negative dim. */
static int64_t dyn_bytes(const RtTensor *t, const int64_t *dims) {
    int64_t n = (int64_t)rt_dtype_size(t->dtype);
    for (int i = 0; i < t->rank; i++) {
        if (dims[i] < 0 || __builtin_mul_overflow(n, dims[i], &n))
            return -1;
    }
    return n;
}

static void dims_str(char *buf, size_t cap, int rank, const int64_t *dims) {
    size_t k = (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < rank && k < cap; i++)
        k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)dims[i]);
    if (k < cap)
        snprintf(buf + k, cap - k, "]");
}

int rt_out_alloc(RtCtx *ctx, RtTensor *t, const int64_t *dims) {
    if (t->data) {
        for (int i = 0; i < t->rank; i++) {
            if (dims[i] != t->dims[i]) {
                char a[128], b[128];
                dims_str(a, sizeof a, t->rank, dims);
                dims_str(b, sizeof b, t->rank, t->dims);
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "output shape %s differs from the expected %s",
                               a, b);
            }
        }
        return ONNXC_OK;
    }
    int64_t nb = dyn_bytes(t, dims);
    if (nb < 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "output size overflows or a dim is negative");
    if (t->rank > 0) {
        if (!t->dims)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "dynamic output without dims storage");
        memcpy((int64_t *)(uintptr_t)t->dims, dims, sizeof(int64_t) * (size_t)t->rank);
    }
    t->data = rt_alloc(ctx, (size_t)nb);
    return t->data ? ONNXC_OK : (ctx && ctx->status ? ctx->status : ONNXC_ERR_NOMEM);
}

int rt_out_prepare(RtCtx *ctx, RtTensor *t) {
    if (t->data)
        return ONNXC_OK;
    int64_t nb = dyn_bytes(t, t->dims);
    if (nb < 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "tensor size overflows or a dim is negative");
    t->data = rt_alloc(ctx, (size_t)nb);
    return t->data ? ONNXC_OK : (ctx && ctx->status ? ctx->status : ONNXC_ERR_NOMEM);
}

int rt_dyn_bind(RtCtx *ctx, int64_t *slot, int64_t value, const char *sym) {
    if (value < 0)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "dimension '%s' is negative (%lld)", sym,
                       (long long)value);
    if (*slot < 0) {
        *slot = value;
        return ONNXC_OK;
    }
    if (*slot != value)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "dimension '%s' is %lld here but %lld elsewhere", sym,
                       (long long)value, (long long)*slot);
    return ONNXC_OK;
}
