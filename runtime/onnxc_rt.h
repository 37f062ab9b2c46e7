/* onnxc_rt.h - the kernel ABI shared by the runtime kernels, the compiler (constant folding calls
 * the same kernels natively) and the generated code (which calls them, or their LLVM bitcode).
 *
 * A kernel is `int rt_k_NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
 *                            RtTensor *out, int nout)`:
 *   - params points at the op's POD parameter struct from rt_params.h (filled by the op's lower
 *     hook at compile time, embedded as a constant in the generated code);
 *   - in[i].rank < 0 (and data NULL) marks an omitted optional input;
 *   - out[i].data is preallocated with out[i].dims set to the inferred static shape, except for
 *     ops whose kernel computes its output shape (OPF_DYN_SHAPE): out[i].data may then be NULL
 *     and the kernel calls rt_out_alloc() (docs/DYNAMIC_SHAPES.md);
 *   - returns 0 (ONNXC_OK) or a status from onnxc_model.h, after rt_fail() recorded a message.
 * Kernels never abort, never touch memory outside the tensors they are given, and validate
 * data-dependent indices (returning ONNXC_ERR_RUNTIME).
 */
#ifndef ONNXC_RT_H
#define ONNXC_RT_H

#include <stddef.h>
#include <stdint.h>

#include "onnxc/onnxc_model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct RtTensor {
    void *data;          /* element storage (onnxc layout, see ir/ir.h) */
    const int64_t *dims; /* rank entries */
    int32_t rank;        /* -1: absent optional input */
    int32_t dtype;       /* ONNX element type number */
} RtTensor;

#define RT_ERRMSG_CAP 512

typedef struct RtThreads RtThreads; /* a context's worker pool (runtime/rt_threads.c) */

/* Per-call state handed to kernels. Embedded in OnnxcContext for generated libraries, or on the
 * stack of the compiler for constant folding. */
typedef struct RtCtx {
    char errmsg[RT_ERRMSG_CAP]; /* last failure message */
    int status;                 /* last failure status */
    int num_threads;            /* threads kernels may use (1 = serial) */
    void *str_pool;             /* chunks of string bytes made by kernels (rt_str_alloc), or NULL */
    struct RtPool *pool;        /* run-time allocator of dynamic shapes (NULL: none, e.g. folding) */
    RtThreads *threads;         /* worker pool of num_threads - 1 threads, or NULL (serial) */
} RtCtx;

typedef int (*RtKernelFn)(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                          RtTensor *out, int nout);

void rt_ctx_init(RtCtx *ctx);
/* Records a formatted message and returns `status` (for `return rt_fail(...)`). */
int rt_fail(RtCtx *ctx, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Element count of a tensor (product of dims, 1 for rank 0). */
int64_t rt_numel(const RtTensor *t);
/* Bytes per element in onnxc layout for an ONNX dtype (0 if unknown). */
size_t rt_dtype_size(int32_t dtype);

/* String bytes that kernels create (StringConcat, StringNormalizer, ...): `n` bytes from the
 * context's pool (runtime/rt_str.c), NULL when out of memory. They live until rt_str_release,
 * which the model API calls before every run and when the context is destroyed. STRING elements
 * are OnnxcString records {data, len} (the layout of IrString). */
void *rt_str_alloc(RtCtx *ctx, size_t n);
void rt_str_release(RtCtx *ctx);

/* ---- dynamic shapes (docs/DYNAMIC_SHAPES.md) */

/* Run-time allocator: blocks are reused across runs (rt_pool_reset makes all free). */
typedef struct RtPool RtPool;
RtPool *rt_pool_new(void);
void rt_pool_free(RtPool *p);
void rt_pool_reset(RtPool *p);
/* A 64-byte aligned block of `bytes` from ctx->pool, valid until the next reset; NULL after
 * rt_fail (ONNXC_ERR_NOMEM, or ONNXC_ERR_UNSUPPORTED without a pool). Never NULL for 0 bytes. */
void *rt_alloc(RtCtx *ctx, size_t bytes);
/* Output shape reporting for kernels that compute their output shape: if t->data is set, checks
 * that dims (t->rank entries) equals t->dims; else copies dims into the writable t->dims storage
 * and allocates t->data with rt_alloc. 0 or a status after rt_fail. */
int rt_out_alloc(RtCtx *ctx, RtTensor *t, const int64_t *dims);
/* Used by generated code: allocates t->data for the dims already in t->dims unless set. */
int rt_out_prepare(RtCtx *ctx, RtTensor *t);
/* Used by generated code: binds symbol `sym` (slot < 0: unbound) to value, or checks it. */
int rt_dyn_bind(RtCtx *ctx, int64_t *slot, int64_t value, const char *sym);

/* ---- threads (runtime/rt_threads.c, docs/BACKEND.md "Threads") */

/* A pool of num_threads - 1 workers (NULL when num_threads < 2 or nothing could be started). */
RtThreads *rt_threads_new(int num_threads);
void rt_threads_free(RtThreads *t);
/* Threads of a pool, the caller included (1 for NULL). */
int rt_threads_count(const RtThreads *t);
/* Sets OpenBLAS's (process-wide) thread count. */
void rt_blas_set_threads(int num_threads);
/* Body of a parallel loop: items [begin, end); worker in [0, threads) (0: the calling thread),
 * e.g. to pick per-worker scratch memory. */
typedef void (*RtRangeFn)(void *arg, int64_t begin, int64_t end, int worker);
/* Runs fn over [0, total) on ctx->threads (serially, as one call fn(arg, 0, total, 0), without
 * a pool or when total * cost is small; cost: rough work units per item). Chunks must write
 * disjoint memory; the result must not depend on the split. */
void rt_parallel_for(RtCtx *ctx, int64_t total, int64_t cost, RtRangeFn fn, void *arg);
/* Upper bound of the worker index rt_parallel_for may pass for ctx (>= 1). */
static inline int rt_ctx_threads(const RtCtx *ctx) {
    return ctx ? rt_threads_count(ctx->threads) : 1;
}

/* Kernel lookup by symbol name (runtime/kernels.def); NULL if unknown. Used by constant folding
 * and tests; generated code references kernels by symbol instead. */
RtKernelFn rt_kernel_find(const char *name);

/* Declarations of every kernel. */
#define KERNEL(NAME) int NAME(RtCtx *ctx, const void *params, const RtTensor *in, int nin, \
                              RtTensor *out, int nout);
#include "runtime/kernels.def"
#undef KERNEL

#ifdef __cplusplus
}
#endif
#endif
