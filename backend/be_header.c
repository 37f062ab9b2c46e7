/* be_header.c - the C header generated next to each model library.
 *
 * The header is self-contained: it carries a copy of the declarations of
 * include/onnxc/onnxc_model.h under the same include guard (ONNXC_MODEL_H), so a user needs
 * only the generated .h and .so, and including both headers is harmless. It then lists every
 * input and output (name, element type, shape) in a comment and declares the typed API
 * (NAME_create / NAME_destroy / NAME_error / NAME_run). See docs/BACKEND.md.
 *
 * The copy must follow onnxc_model.h: the static assertions below catch layout changes.
 */
#include <ctype.h>
#include <string.h>

#include "backend/be_internal.h"
#include "onnxc/onnxc_model.h"

_Static_assert(ONNXC_ABI_VERSION == 1, "update the onnxc_model.h copy in be_header.c");
_Static_assert(sizeof(OnnxcModelInfo) == 64, "update the onnxc_model.h copy in be_header.c");
_Static_assert(sizeof(OnnxcTensorInfo) == 32, "update the onnxc_model.h copy in be_header.c");
_Static_assert(sizeof(OnnxcTensor) == 24, "update the onnxc_model.h copy in be_header.c");
_Static_assert(sizeof(OnnxcString) == 16, "update the onnxc_model.h copy in be_header.c");

int be_is_real_input(const IrValue *v) {
    return v && !(v->flags & IR_VALUE_INITIALIZER) && !v->init;
}

const char *be_c_type(int dtype) {
    switch (dtype) {
    case IR_DT_FLOAT: case IR_DT_COMPLEX64: return "float";
    case IR_DT_DOUBLE: case IR_DT_COMPLEX128: return "double";
    case IR_DT_INT8: case IR_DT_INT4: case IR_DT_INT2: return "int8_t";
    case IR_DT_INT16: return "int16_t";
    case IR_DT_INT32: return "int32_t";
    case IR_DT_INT64: return "int64_t";
    case IR_DT_UINT16: case IR_DT_FLOAT16: case IR_DT_BFLOAT16: return "uint16_t";
    case IR_DT_UINT32: return "uint32_t";
    case IR_DT_UINT64: return "uint64_t";
    case IR_DT_STRING: return "OnnxcString"; /* records {const char *data; size_t len} */
    default: return "uint8_t"; /* UINT8, BOOL, FLOAT8*, UINT4, FLOAT4E2M1, UINT2 */
    }
}

static const char *basename_of(const char *p) {
    const char *s = p ? strrchr(p, '/') : NULL;
    return s ? s + 1 : p;
}

void be_model_name(const IrModel *m, const OnnxcCompileOptions *o, const char *out_path,
                   char *buf, size_t cap) {
    const char *src = NULL;
    size_t n = 0;
    if (o && o->model_name && o->model_name[0]) {
        src = o->model_name;
        n = strlen(src);
    } else {
        src = (m && m->path) ? basename_of(m->path) : basename_of(out_path);
        if (!src)
            src = "";
        const char *dot = strchr(src, '.');
        n = dot ? (size_t)(dot - src) : strlen(src);
        /* "libfoo.so" -> "foo" */
        if (!(m && m->path) && n > 3 && strncmp(src, "lib", 3) == 0) {
            src += 3;
            n -= 3;
        }
    }
    size_t k = 0;
    if (cap == 0)
        return;
    if (n > 0 && isdigit((unsigned char)src[0]) && cap > 3) {
        buf[k++] = 'm';
        buf[k++] = '_';
    }
    for (size_t i = 0; i < n && k + 1 < cap; i++) {
        unsigned char c = (unsigned char)src[i];
        buf[k++] = (isalnum(c) || c == '_') && c < 128 ? (char)c : '_';
    }
    buf[k] = '\0';
    if (k == 0)
        snprintf(buf, cap, "model");
}

/* Writes one tensor line of the comment block. */
static void describe(FILE *f, const char *kind, int idx, const IrValue *v) {
    fprintf(f, " *   %s %d: '%s' %s [", kind, idx, v->name ? v->name : "",
            ir_dtype_onnx_name(v->type.dtype));
    for (int k = 0; k < v->type.rank; k++) {
        const IrDim *dm = &v->type.dims[k];
        if (k)
            fprintf(f, ", ");
        if (dm->value >= 0)
            fprintf(f, "%lld", (long long)dm->value);
        else
            fprintf(f, "%s", dm->sym ? dm->sym : "?");
    }
    fprintf(f, "]\n");
}

/* The copy of include/onnxc/onnxc_model.h's declarations (without its comments). */
static const char *const api_copy =
    "#ifndef ONNXC_MODEL_H\n"
    "#define ONNXC_MODEL_H\n"
    "#define ONNXC_ABI_VERSION 1\n"
    "typedef enum OnnxcStatus {\n"
    "    ONNXC_OK = 0,\n"
    "    ONNXC_ERR_INVALID_ARG = 1,\n"
    "    ONNXC_ERR_SHAPE = 2,\n"
    "    ONNXC_ERR_TYPE = 3,\n"
    "    ONNXC_ERR_NOMEM = 4,\n"
    "    ONNXC_ERR_RUNTIME = 5,\n"
    "    ONNXC_ERR_UNSUPPORTED = 6\n"
    "} OnnxcStatus;\n"
    "typedef struct OnnxcTensorInfo {\n"
    "    const char *name;\n"
    "    int32_t dtype;\n"
    "    int32_t rank;\n"
    "    const int64_t *dims;\n"
    "    const char *const *dim_names;\n"
    "} OnnxcTensorInfo;\n"
    "typedef struct OnnxcModelInfo {\n"
    "    uint32_t abi_version;\n"
    "    const char *name;\n"
    "    int32_t num_inputs;\n"
    "    int32_t num_outputs;\n"
    "    const OnnxcTensorInfo *inputs;\n"
    "    const OnnxcTensorInfo *outputs;\n"
    "    uint64_t workspace_bytes;\n"
    "    uint64_t weight_bytes;\n"
    "    const char *producer;\n"
    "} OnnxcModelInfo;\n"
    "typedef struct OnnxcTensor {\n"
    "    void *data;\n"
    "    int32_t dtype;\n"
    "    int32_t rank;\n"
    "    const int64_t *dims;\n"
    "} OnnxcTensor;\n"
    "typedef struct OnnxcString {\n"
    "    const char *data;\n"
    "    size_t len;\n"
    "} OnnxcString;\n"
    "typedef struct OnnxcContext OnnxcContext;\n"
    "const OnnxcModelInfo *onnxc_model_info(void);\n"
    "int onnxc_context_create(OnnxcContext **out);\n"
    "void onnxc_context_destroy(OnnxcContext *ctx);\n"
    "int onnxc_run(OnnxcContext *ctx, const OnnxcTensor *inputs, int32_t num_inputs,\n"
    "              OnnxcTensor *outputs, int32_t num_outputs);\n"
    "#define ONNXC_MAX_THREADS 256\n"
    "int onnxc_set_num_threads(OnnxcContext *ctx, int num_threads);\n"
    "int onnxc_get_num_threads(const OnnxcContext *ctx);\n"
    "const char *onnxc_context_error(const OnnxcContext *ctx);\n"
    "const char *onnxc_status_string(int status);\n"
    "#endif /* ONNXC_MODEL_H */\n";

int be_header_write(const IrGraph *g, const char *name, FILE *f) {
    char guard[300];
    size_t k = 0;
    for (const char *p = name; *p && k + 16 < sizeof guard; p++)
        guard[k++] = (char)toupper((unsigned char)*p);
    snprintf(guard + k, sizeof guard - k, "_ONNXC_H");

    fprintf(f, "/* %s.h - generated by onnxc " "%s" ": the C API of model '%s'.\n", name,
#ifdef ONNXC_VERSION
            ONNXC_VERSION,
#else
            "",
#endif
            name);
    fprintf(f, " *\n * Link with the model's shared library; this header is self-contained.\n"
               " * Tensors are dense, row-major, in the element layout of onnxc_model.h.\n"
               " *\n * Inputs:\n");
    int ni = 0, no = 0;
    for (int i = 0; i < g->ninputs; i++)
        if (be_is_real_input(g->inputs[i]))
            describe(f, "input", ni++, g->inputs[i]);
    fprintf(f, " * Outputs:\n");
    for (int i = 0; i < g->noutputs; i++)
        describe(f, "output", no++, g->outputs[i]);
    fprintf(f, " *\n * Each function returning int returns ONNXC_OK (0) or an OnnxcStatus; the\n"
               " * message of the last failure is %s_error(ctx). One context per thread.\n */\n",
            name);
    fprintf(f, "#ifndef %s\n#define %s\n\n#include <stddef.h>\n#include <stdint.h>\n\n", guard,
            guard);
    fprintf(f, "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n");
    fprintf(f, "/* ---- the generic API, common to every onnxc model library"
               " (copy of onnxc/onnxc_model.h) */\n%s\n", api_copy);
    fprintf(f, "/* ---- the typed API of this model */\n");
    fprintf(f, "/* Creates a context (holds %s's workspace); *ctx is NULL on failure. */\n", name);
    fprintf(f, "int %s_create(OnnxcContext **ctx);\n", name);
    fprintf(f, "/* Frees a context (NULL is allowed). */\nvoid %s_destroy(OnnxcContext *ctx);\n",
            name);
    fprintf(f, "/* Message of the last failure on ctx (\"\" if none). */\n"
               "const char *%s_error(const OnnxcContext *ctx);\n", name);
    if (be_graph_dynamic(g)) { /* docs/DYNAMIC_SHAPES.md */
        fprintf(f, "/* Runs the model. Its shapes are only known at run time, so every tensor is a\n"
                   " * descriptor with the rules of onnxc_run: an output with data == NULL gets\n"
                   " * data and dims owned by ctx, valid until the next run or destroy. */\n"
                   "int %s_run(OnnxcContext *ctx", name);
        ni = 0;
        for (int i = 0; i < g->ninputs; i++)
            if (be_is_real_input(g->inputs[i]))
                fprintf(f, ",\n    const OnnxcTensor *in%d", ni++);
        for (int i = 0; i < g->noutputs; i++)
            fprintf(f, ",\n    OnnxcTensor *out%d", i);
        fprintf(f, ");\n\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s */\n", guard);
        return ferror(f) ? -1 : 0;
    }
    fprintf(f, "/* Runs the model: buffers hold exactly the shapes listed above. */\nint %s_run(OnnxcContext *ctx", name);
    ni = 0;
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->inputs[i];
        if (be_is_real_input(v))
            fprintf(f, ",\n    const %s *in%d", be_c_type(v->type.dtype), ni++);
    }
    for (int i = 0; i < g->noutputs; i++)
        fprintf(f, ",\n    %s *out%d", be_c_type(g->outputs[i]->type.dtype), i);
    fprintf(f, ");\n\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s */\n", guard);
    return ferror(f) ? -1 : 0;
}
