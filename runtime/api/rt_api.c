/* rt_api.c - the generic model API (include/onnxc/onnxc_model.h) of every generated library.
 *
 * Linked (whole archive) into each model shared library next to the generated object, which
 * defines `onnxc__desc` (runtime/api/rt_model.h). A context owns an RtCtx (kernel error state)
 * and a 64-byte aligned workspace allocated once at create; run validates every argument
 * against the model info (count, element type, rank, each dimension) before calling the graph
 * function. No global mutable state: distinct contexts may run concurrently.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/api/rt_model.h"

struct OnnxcContext {
    RtCtx rt;        /* kernel state: status and message of the last failure; rt.pool is the
                        run-time allocator of dynamic shapes (docs/DYNAMIC_SHAPES.md) */
    void *ws;        /* workspace (64-byte aligned), NULL when the model needs none */
    uint64_t ws_bytes; /* bytes at ws */
    int64_t *out_dims; /* dynamic models: dims storage of every output (sum of ranks) */
};

/* ONNX upper-case element type names for messages ("FLOAT", "INT64", ...). */
static const char *dtype_name(int32_t dt) {
    static const char *const names[] = {
        "UNDEFINED", "FLOAT", "UINT8", "INT8", "UINT16", "INT16", "INT32", "INT64", "STRING",
        "BOOL", "FLOAT16", "DOUBLE", "UINT32", "UINT64", "COMPLEX64", "COMPLEX128", "BFLOAT16",
        "FLOAT8E4M3FN", "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4", "INT4",
        "FLOAT4E2M1", "FLOAT8E8M0", "UINT2", "INT2"};
    if (dt < 0 || dt >= (int32_t)(sizeof names / sizeof names[0]))
        return "?";
    return names[dt];
}

/* Records a message on the context and returns status. */
static int fail(OnnxcContext *ctx, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(OnnxcContext *ctx, int status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->rt.errmsg, sizeof ctx->rt.errmsg, fmt, ap);
    va_end(ap);
    ctx->rt.status = status;
    return status;
}

static void clear_error(OnnxcContext *ctx) {
    ctx->rt.errmsg[0] = '\0';
    ctx->rt.status = ONNXC_OK;
}

const OnnxcModelInfo *onnxc_model_info(void) { return onnxc__desc.info; }

/* ---- threads (docs/BACKEND.md, "Threads") */

/* ONNXC_NUM_THREADS as a thread count in 1..ONNXC_MAX_THREADS, or 0 when unset or invalid. */
static int env_threads(void) {
    const char *e = getenv("ONNXC_NUM_THREADS");
    if (!e || !*e)
        return 0;
    char *end;
    long v = strtol(e, &end, 10);
    if (*end != '\0' || v < 1 || v > ONNXC_MAX_THREADS)
        return 0;
    return (int)v;
}

/* Gives the context n threads (its pool of n - 1 workers) and sets OpenBLAS's thread count. */
static int set_threads(OnnxcContext *ctx, int n) {
    if (n != ctx->rt.num_threads || (n > 1 && !ctx->rt.threads)) {
        RtThreads *t = NULL;
        if (n > 1 && !(t = rt_threads_new(n)))
            return ONNXC_ERR_NOMEM;
        rt_threads_free(ctx->rt.threads);
        ctx->rt.threads = t;
        ctx->rt.num_threads = rt_threads_count(t);
    }
    rt_blas_set_threads(n);
    return ONNXC_OK;
}

int onnxc_set_num_threads(OnnxcContext *ctx, int num_threads) {
    if (!ctx)
        return ONNXC_ERR_INVALID_ARG;
    clear_error(ctx);
    if (num_threads == 0) {
        num_threads = env_threads();
        if (num_threads == 0)
            num_threads = 1;
    }
    if (num_threads < 1 || num_threads > ONNXC_MAX_THREADS)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "thread count %d: expected 1..%d (0: default)",
                    num_threads, ONNXC_MAX_THREADS);
    if (set_threads(ctx, num_threads) != ONNXC_OK)
        return fail(ctx, ONNXC_ERR_NOMEM, "cannot start %d worker threads", num_threads - 1);
    return ONNXC_OK;
}

int onnxc_get_num_threads(const OnnxcContext *ctx) { return ctx ? ctx->rt.num_threads : 0; }

int rt_api_create(OnnxcContext **out) {
    if (!out)
        return ONNXC_ERR_INVALID_ARG;
    *out = NULL;
    OnnxcContext *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ONNXC_ERR_NOMEM;
    rt_ctx_init(&ctx->rt);
    if (onnxc__desc.dynamic) {
        const OnnxcModelInfo *info = onnxc__desc.info;
        size_t nd = 1;
        for (int32_t i = 0; i < info->num_outputs; i++)
            nd += (size_t)(info->outputs[i].rank > 0 ? info->outputs[i].rank : 0);
        ctx->rt.pool = rt_pool_new();
        ctx->out_dims = calloc(nd, sizeof *ctx->out_dims);
        if (!ctx->rt.pool || !ctx->out_dims) {
            rt_pool_free(ctx->rt.pool);
            free(ctx->out_dims);
            free(ctx);
            return ONNXC_ERR_NOMEM;
        }
    }
    ctx->ws_bytes = onnxc__desc.workspace_bytes;
    if (ctx->ws_bytes > 0) {
        uint64_t sz = (ctx->ws_bytes + 63) & ~(uint64_t)63;
        if (sz < ctx->ws_bytes || sz > (uint64_t)SIZE_MAX ||
            posix_memalign(&ctx->ws, 64, (size_t)sz) != 0) {
            rt_pool_free(ctx->rt.pool);
            free(ctx->out_dims);
            free(ctx);
            return ONNXC_ERR_NOMEM;
        }
    }
    int nt = env_threads();
    if (nt > 0 && set_threads(ctx, nt) != ONNXC_OK) {
        rt_api_destroy(ctx);
        return ONNXC_ERR_NOMEM;
    }
    *out = ctx;
    return ONNXC_OK;
}

void rt_api_destroy(OnnxcContext *ctx) {
    if (!ctx)
        return;
    rt_threads_free(ctx->rt.threads);
    rt_str_release(&ctx->rt);
    rt_pool_free(ctx->rt.pool);
    free(ctx->out_dims);
    free(ctx->ws);
    free(ctx);
}

const char *rt_api_error(const OnnxcContext *ctx) {
    if (!ctx)
        return "no context (NULL OnnxcContext)";
    return ctx->rt.errmsg;
}

/* Calls the graph function; fills in a message when a kernel failed without one. */
static int call_graph(OnnxcContext *ctx, void *const *in, void *const *out) {
    rt_str_release(&ctx->rt); /* string outputs of the previous run end here */
    int st = onnxc__desc.run(&ctx->rt, ctx->ws, in, out);
    if (st != ONNXC_OK) {
        ctx->rt.status = st;
        if (ctx->rt.errmsg[0] == '\0')
            fail(ctx, st, "kernel failed with status %d (%s)", st, onnxc_status_string(st));
    }
    return st;
}

int rt_api_run(OnnxcContext *ctx, void *const *inputs, void *const *outputs) {
    if (!ctx)
        return ONNXC_ERR_INVALID_ARG;
    clear_error(ctx);
    const OnnxcModelInfo *info = onnxc__desc.info;
    if ((info->num_inputs > 0 && !inputs) || (info->num_outputs > 0 && !outputs))
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "NULL %s array",
                    (info->num_inputs > 0 && !inputs) ? "input" : "output");
    for (int32_t i = 0; i < info->num_inputs; i++)
        if (!inputs[i])
            return fail(ctx, ONNXC_ERR_INVALID_ARG, "input '%s': NULL data pointer",
                        info->inputs[i].name);
    for (int32_t i = 0; i < info->num_outputs; i++)
        if (!outputs[i])
            return fail(ctx, ONNXC_ERR_INVALID_ARG, "output '%s': NULL data pointer",
                        info->outputs[i].name);
    if (onnxc__desc.dynamic)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "this model has dynamic shapes: use onnxc_run");
    return call_graph(ctx, inputs, outputs);
}

/* 1 if the description has a dynamic (-1) dim. */
static int info_dynamic(const OnnxcTensorInfo *ti) {
    for (int32_t k = 0; k < ti->rank; k++)
        if (ti->dims[k] < 0)
            return 1;
    return 0;
}

/* Checks one caller tensor against its description; kind is "input" or "output". */
static int check_tensor(OnnxcContext *ctx, const char *kind, const OnnxcTensorInfo *ti,
                        const OnnxcTensor *t) {
    /* A dynamic output without a buffer: the library allocates it (only the type is checked). */
    if (onnxc__desc.dynamic && kind[0] == 'o' && !t->data && t->dtype == ti->dtype &&
        info_dynamic(ti))
        return ONNXC_OK;
    if (t->dtype != ti->dtype)
        return fail(ctx, ONNXC_ERR_TYPE, "%s '%s': element type is %s (%d), expected %s (%d)",
                    kind, ti->name, dtype_name(t->dtype), (int)t->dtype, dtype_name(ti->dtype),
                    (int)ti->dtype);
    if (t->rank != ti->rank)
        return fail(ctx, ONNXC_ERR_SHAPE, "%s '%s': rank is %d, expected %d", kind, ti->name,
                    (int)t->rank, (int)ti->rank);
    if (t->rank > 0 && !t->dims)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "%s '%s': NULL dims for rank %d", kind, ti->name,
                    (int)t->rank);
    int64_t numel = 1;
    for (int32_t k = 0; k < t->rank; k++) {
        if (ti->dims[k] >= 0 && t->dims[k] != ti->dims[k])
            return fail(ctx, ONNXC_ERR_SHAPE, "%s '%s': dim %d is %lld, expected %lld", kind,
                        ti->name, (int)k, (long long)t->dims[k], (long long)ti->dims[k]);
        if (t->dims[k] < 0)
            return fail(ctx, ONNXC_ERR_SHAPE, "%s '%s': dim %d is negative (%lld)", kind,
                        ti->name, (int)k, (long long)t->dims[k]);
        if (__builtin_mul_overflow(numel, t->dims[k], &numel) ||
            __builtin_mul_overflow(numel, (int64_t)16, &(int64_t){0}))
            return fail(ctx, ONNXC_ERR_SHAPE, "%s '%s': dims give a size that overflows 64 bits",
                        kind, ti->name); /* caller-supplied symbolic dims (docs/HARDENING.md) */
    }
    if (!t->data && numel > 0)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "%s '%s': NULL data pointer", kind, ti->name);
    return ONNXC_OK;
}

/* onnxc_run of a dynamic model (arguments checked): RtTensor descriptors in and out, then each
 * output either handed to the caller (data == NULL) or copied into the caller's buffer, whose
 * dims must equal the result's. */
static int run_dynamic(OnnxcContext *ctx, const OnnxcTensor *inputs, OnnxcTensor *outputs) {
    const OnnxcModelInfo *info = onnxc__desc.info;
    int32_t ni = info->num_inputs, no = info->num_outputs;
    RtTensor *in = malloc(sizeof *in * (size_t)(ni + no + 1));
    if (!in)
        return fail(ctx, ONNXC_ERR_NOMEM, "out of memory");
    RtTensor *out = in + ni;
    for (int32_t i = 0; i < ni; i++)
        in[i] = (RtTensor){inputs[i].data, inputs[i].dims, inputs[i].rank, inputs[i].dtype};
    int64_t *dp = ctx->out_dims;
    for (int32_t i = 0; i < no; i++) {
        const OnnxcTensorInfo *ti = &info->outputs[i];
        out[i] = (RtTensor){info_dynamic(ti) ? NULL : outputs[i].data, dp, ti->rank, ti->dtype};
        for (int32_t k = 0; k < ti->rank; k++)
            dp[k] = ti->dims[k];
        dp += ti->rank > 0 ? ti->rank : 0;
    }
    rt_pool_reset(ctx->rt.pool);
    rt_str_release(&ctx->rt); /* string outputs of the previous run end here */
    int st = ((RtGraphDynFn)(void *)onnxc__desc.run)(&ctx->rt, ctx->ws, in, out);
    if (st != ONNXC_OK) {
        ctx->rt.status = st;
        if (ctx->rt.errmsg[0] == '\0')
            fail(ctx, st, "kernel failed with status %d (%s)", st, onnxc_status_string(st));
        free(in);
        return st;
    }
    for (int32_t i = 0; i < no && st == ONNXC_OK; i++) {
        OnnxcTensor *t = &outputs[i];
        const OnnxcTensorInfo *ti = &info->outputs[i];
        if (!t->data) {
            t->data = out[i].data;
            t->dims = out[i].dims;
            t->rank = ti->rank;
            continue;
        }
        if (t->data == out[i].data)
            continue;
        int64_t n = 1;
        for (int32_t k = 0; k < ti->rank; k++) {
            if (t->dims[k] != out[i].dims[k]) {
                st = fail(ctx, ONNXC_ERR_SHAPE, "output '%s': dim %d is %lld, the caller's buffer "
                          "has %lld", ti->name, (int)k, (long long)out[i].dims[k],
                          (long long)t->dims[k]);
                break;
            }
            n *= out[i].dims[k];
        }
        if (st == ONNXC_OK && n > 0)
            memcpy(t->data, out[i].data, (size_t)n * rt_dtype_size(ti->dtype));
    }
    free(in);
    return st;
}

int rt_api_run_desc(OnnxcContext *ctx, const OnnxcTensor *const *inputs,
                    OnnxcTensor *const *outputs) {
    if (!ctx)
        return ONNXC_ERR_INVALID_ARG;
    const OnnxcModelInfo *info = onnxc__desc.info;
    int32_t ni = info->num_inputs, no = info->num_outputs;
    OnnxcTensor *t = malloc(sizeof *t * (size_t)(ni + no + 1));
    if (!t)
        return fail(ctx, ONNXC_ERR_NOMEM, "out of memory");
    for (int32_t i = 0; i < ni + no; i++) {
        const OnnxcTensor *s = i < ni ? inputs[i] : outputs[i - ni];
        if (!s) {
            free(t);
            clear_error(ctx);
            return fail(ctx, ONNXC_ERR_INVALID_ARG, "NULL tensor descriptor %d", (int)i);
        }
        t[i] = *s;
    }
    int st = onnxc_run(ctx, t, ni, t + ni, no);
    if (st == ONNXC_OK)
        for (int32_t i = 0; i < no; i++)
            *outputs[i] = t[ni + i];
    free(t);
    return st;
}

int onnxc_run(OnnxcContext *ctx, const OnnxcTensor *inputs, int32_t num_inputs,
              OnnxcTensor *outputs, int32_t num_outputs) {
    if (!ctx)
        return ONNXC_ERR_INVALID_ARG;
    clear_error(ctx);
    const OnnxcModelInfo *info = onnxc__desc.info;
    if (num_inputs != info->num_inputs)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "expected %d inputs, got %d",
                    (int)info->num_inputs, (int)num_inputs);
    if (num_outputs != info->num_outputs)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "expected %d outputs, got %d",
                    (int)info->num_outputs, (int)num_outputs);
    if (num_inputs > 0 && !inputs)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "NULL inputs array");
    if (num_outputs > 0 && !outputs)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "NULL outputs array");
    for (int32_t i = 0; i < num_inputs; i++) {
        int st = check_tensor(ctx, "input", &info->inputs[i], &inputs[i]);
        if (st)
            return st;
    }
    for (int32_t i = 0; i < num_outputs; i++) {
        int st = check_tensor(ctx, "output", &info->outputs[i], &outputs[i]);
        if (st)
            return st;
    }
    if (onnxc__desc.dynamic)
        return run_dynamic(ctx, inputs, outputs);
    /* Data pointer arrays: on the stack for ordinary models, on the heap for huge ones. */
    enum { SMALL = 32 };
    void *small_in[SMALL], *small_out[SMALL];
    void **in = small_in, **out = small_out;
    if (num_inputs > SMALL)
        in = malloc((size_t)num_inputs * sizeof *in);
    if (num_outputs > SMALL)
        out = malloc((size_t)num_outputs * sizeof *out);
    int st;
    if (!in || !out) {
        st = fail(ctx, ONNXC_ERR_NOMEM, "out of memory");
    } else {
        for (int32_t i = 0; i < num_inputs; i++)
            in[i] = inputs[i].data;
        for (int32_t i = 0; i < num_outputs; i++)
            out[i] = outputs[i].data;
        st = call_graph(ctx, in, out);
    }
    if (in != small_in)
        free(in);
    if (out != small_out)
        free(out);
    return st;
}

int onnxc_context_create(OnnxcContext **out) { return rt_api_create(out); }
void onnxc_context_destroy(OnnxcContext *ctx) { rt_api_destroy(ctx); }
const char *onnxc_context_error(const OnnxcContext *ctx) { return rt_api_error(ctx); }

const char *onnxc_status_string(int status) {
    switch (status) {
    case ONNXC_OK: return "ok";
    case ONNXC_ERR_INVALID_ARG: return "invalid argument";
    case ONNXC_ERR_SHAPE: return "shape mismatch";
    case ONNXC_ERR_TYPE: return "element type mismatch";
    case ONNXC_ERR_NOMEM: return "out of memory";
    case ONNXC_ERR_RUNTIME: return "runtime error";
    case ONNXC_ERR_UNSUPPORTED: return "unsupported";
    default: return "unknown status";
    }
}
