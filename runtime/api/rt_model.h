/* rt_model.h - the contract between a generated model object (backend/be_llvm.c) and the
 * generic model API (runtime/api/rt_api.c) linked into the same shared library.
 *
 * The backend defines one hidden constant `onnxc__desc` of type RtModelDesc and a hidden
 * function `onnxc__graph` (the `run` member). rt_api.c implements the exported onnxc_* API and
 * the internal rt_api_* entry points (used by the generated typed NAME_* functions) on top of
 * it. See docs/BACKEND.md for the module layout and calling convention.
 *
 * The layout of RtModelDesc is mirrored by the LLVM struct type built in be_llvm.c; change both
 * together (be_llvm.c static-asserts the size).
 */
#ifndef ONNXC_RT_MODEL_H
#define ONNXC_RT_MODEL_H

#include <stdint.h>

#include "onnxc/onnxc_model.h"
#include "runtime/onnxc_rt.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The graph function: runs every kernel in order. `inputs` / `outputs` hold one data pointer
 * per real input / output in model order (already validated); ws is the 64-byte aligned
 * workspace of workspace_bytes bytes (may be NULL when that is 0). Returns 0 or the status of
 * the first failing kernel (message in ctx->errmsg). */
typedef int (*RtGraphFn)(RtCtx *ctx, void *ws, void *const *inputs, void *const *outputs);

/* The graph function of a model with dynamic shapes (docs/DYNAMIC_SHAPES.md): inputs[k] are
 * the caller's tensors (dims read at run time); outputs[k].dims is writable storage of the
 * output's rank, outputs[k].data the caller's buffer of a fully static output or NULL. On
 * success every outputs[k] holds the result's data pointer and dims (pool memory of ctx). */
typedef int (*RtGraphDynFn)(RtCtx *ctx, void *ws, const RtTensor *inputs, RtTensor *outputs);

typedef struct RtModelDesc {
    const OnnxcModelInfo *info; /* names, element types and shapes of inputs/outputs */
    uint64_t workspace_bytes;   /* bytes of workspace each context allocates */
    RtGraphFn run;              /* the generated graph function (onnxc__graph); an RtGraphDynFn
                                   when `dynamic` is set */
    int64_t dynamic;            /* 1: dynamic-shape graph function (RtGraphDynFn) */
} RtModelDesc;

/* Defined by the generated model object (hidden visibility: never exported). */
extern const RtModelDesc onnxc__desc __attribute__((visibility("hidden")));

/* Internal entry points used by the generated typed API (hidden). Same semantics as the
 * onnxc_* functions; rt_api_run takes raw data pointers (shapes are those of the info, not
 * checked) and checks only that the context and every pointer are non-NULL. */
int rt_api_create(OnnxcContext **out) __attribute__((visibility("hidden")));
void rt_api_destroy(OnnxcContext *ctx) __attribute__((visibility("hidden")));
const char *rt_api_error(const OnnxcContext *ctx) __attribute__((visibility("hidden")));
int rt_api_run(OnnxcContext *ctx, void *const *inputs, void *const *outputs)
    __attribute__((visibility("hidden")));
/* The typed run of a model with dynamic shapes: one descriptor per input and output, with the
 * semantics of onnxc_run (outputs written back). */
int rt_api_run_desc(OnnxcContext *ctx, const OnnxcTensor *const *inputs,
                    OnnxcTensor *const *outputs) __attribute__((visibility("hidden")));

#ifdef __cplusplus
}
#endif
#endif
