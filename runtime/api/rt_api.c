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
    RtCtx rt;        /* kernel state: status and message of the last failure */
    void *ws;        /* workspace (64-byte aligned), NULL when the model needs none */
    uint64_t ws_bytes; /* bytes at ws */
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

int rt_api_create(OnnxcContext **out) {
    if (!out)
        return ONNXC_ERR_INVALID_ARG;
    *out = NULL;
    OnnxcContext *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return ONNXC_ERR_NOMEM;
    rt_ctx_init(&ctx->rt);
    ctx->ws_bytes = onnxc__desc.workspace_bytes;
    if (ctx->ws_bytes > 0) {
        uint64_t sz = (ctx->ws_bytes + 63) & ~(uint64_t)63;
        if (sz < ctx->ws_bytes || sz > (uint64_t)SIZE_MAX ||
            posix_memalign(&ctx->ws, 64, (size_t)sz) != 0) {
            free(ctx);
            return ONNXC_ERR_NOMEM;
        }
    }
    *out = ctx;
    return ONNXC_OK;
}

void rt_api_destroy(OnnxcContext *ctx) {
    if (!ctx)
        return;
    rt_str_release(&ctx->rt);
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
    return call_graph(ctx, inputs, outputs);
}

/* Checks one caller tensor against its description; kind is "input" or "output". */
static int check_tensor(OnnxcContext *ctx, const char *kind, const OnnxcTensorInfo *ti,
                        const OnnxcTensor *t) {
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
        numel *= t->dims[k];
    }
    if (!t->data && numel > 0)
        return fail(ctx, ONNXC_ERR_INVALID_ARG, "%s '%s': NULL data pointer", kind, ti->name);
    return ONNXC_OK;
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
