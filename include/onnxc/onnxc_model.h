/* onnxc_model.h - the contract of every shared library that onnxc generates.
 *
 * Every compiled model library exports this generic, self-describing API (so tools and bindings
 * can drive any model without its generated header) plus a typed per-model API declared in the
 * generated header (NAME_create / NAME_run / NAME_destroy / NAME_error).
 *
 * Threading: the library has no mutable global state. Weights are read-only and shared. Each
 * caller creates its own OnnxcContext (which holds the workspace); one context must not be used
 * by two threads at once, distinct contexts may run concurrently.
 *
 * Errors: every function returning int returns ONNXC_OK (0) or an OnnxcStatus code; the message
 * of the last failure on a context is available from onnxc_context_error() and stays valid until
 * the next call on that context. Functions never abort the process on bad arguments.
 */
#ifndef ONNXC_MODEL_H
#define ONNXC_MODEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ONNXC_ABI_VERSION 1

typedef enum OnnxcStatus {
    ONNXC_OK = 0,
    ONNXC_ERR_INVALID_ARG = 1, /* NULL pointer, wrong count of tensors */
    ONNXC_ERR_SHAPE = 2,       /* rank or dimension does not match the model */
    ONNXC_ERR_TYPE = 3,        /* element type does not match the model */
    ONNXC_ERR_NOMEM = 4,       /* allocation failed */
    ONNXC_ERR_RUNTIME = 5,     /* data-dependent failure (e.g. index out of range) */
    ONNXC_ERR_UNSUPPORTED = 6  /* feature not available in this build */
} OnnxcStatus;

/* Element types use ONNX TensorProto.DataType numbers (1 = float32, 7 = int64, ...). */

typedef struct OnnxcTensorInfo {
    const char *name;            /* graph input/output name */
    int32_t dtype;               /* ONNX element type number */
    int32_t rank;                /* number of dimensions */
    const int64_t *dims;         /* rank entries; -1 for a symbolic dimension */
    const char *const *dim_names; /* rank entries; symbol name or NULL for static dims */
} OnnxcTensorInfo;

typedef struct OnnxcModelInfo {
    uint32_t abi_version;          /* ONNXC_ABI_VERSION */
    const char *name;              /* model name (C identifier used as the typed API prefix) */
    int32_t num_inputs;
    int32_t num_outputs;
    const OnnxcTensorInfo *inputs;  /* num_inputs entries */
    const OnnxcTensorInfo *outputs; /* num_outputs entries */
    uint64_t workspace_bytes;      /* bytes allocated per context for intermediates */
    uint64_t weight_bytes;         /* bytes of embedded weights */
    const char *producer;          /* "onnxc <version>" */
} OnnxcModelInfo;

/* A tensor passed to onnxc_run: caller-owned memory, dense row-major, onnxc element layout
 * (float16/bfloat16 as uint16 bit patterns, bool as one byte, 4-bit types one per byte). */
typedef struct OnnxcTensor {
    void *data;
    int32_t dtype;
    int32_t rank;
    const int64_t *dims;
} OnnxcTensor;

/* One element of a STRING tensor (dtype 8): `len` bytes at `data`, not NUL-terminated in
 * general (may contain NUL). Input strings are caller-owned and only read. Output strings point
 * at bytes owned by the context (made by the run), at the model's constant bytes, or at the
 * caller's input bytes (e.g. Identity); they stay valid until the next run on that context or
 * its destruction, whichever comes first. */
typedef struct OnnxcString {
    const char *data;
    size_t len;
} OnnxcString;

typedef struct OnnxcContext OnnxcContext;

/* Description of the compiled model (static storage; never NULL). */
const OnnxcModelInfo *onnxc_model_info(void);
/* Creates a context (workspace allocated here). *out set to NULL on failure. */
int onnxc_context_create(OnnxcContext **out);
/* Frees a context; NULL is allowed. */
void onnxc_context_destroy(OnnxcContext *ctx);
/* Runs the model. inputs/outputs are in model order and must match the info (count, dtype,
 * rank, static dims); output buffers are caller-allocated. Dynamic shapes (docs/DYNAMIC_SHAPES.md):
 * a dim reported as -1 accepts any size on input (one size per symbol name). An output with a
 * -1 dim may be passed with data == NULL: on success its data and dims then point at memory
 * owned by ctx, valid until the next run on ctx or its destruction; given a buffer instead, its
 * dims must equal the result's (ONNXC_ERR_SHAPE otherwise) and the result is copied there. */
int onnxc_run(OnnxcContext *ctx, const OnnxcTensor *inputs, int32_t num_inputs,
              OnnxcTensor *outputs, int32_t num_outputs);
/* Threads of one context (docs/BACKEND.md, "Threads"): kernels split their heavy loops (direct
 * and depthwise Conv, im2col, pooling) over a pool of num_threads - 1 workers owned by ctx,
 * and OpenBLAS's thread count (process-wide) is set to num_threads. 0 restores the default:
 * the environment variable ONNXC_NUM_THREADS, read when a context is created, else 1 (the
 * calling thread only; OpenBLAS then keeps its own setting, e.g. OPENBLAS_NUM_THREADS). Not
 * to be called while ctx runs. Returns ONNXC_ERR_INVALID_ARG outside 0..ONNXC_MAX_THREADS. */
#define ONNXC_MAX_THREADS 256
int onnxc_set_num_threads(OnnxcContext *ctx, int num_threads);
/* Threads of ctx (1 by default; 0 for ctx == NULL). */
int onnxc_get_num_threads(const OnnxcContext *ctx);
/* Message of the last failure on ctx ("" if none); for ctx == NULL a static message. */
const char *onnxc_context_error(const OnnxcContext *ctx);
/* Static name of a status code. */
const char *onnxc_status_string(int status);

#ifdef __cplusplus
}
#endif
#endif
