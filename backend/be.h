/* be.h - LLVM code generation (LLVM-C API of LLVM 19) and linking of model libraries.
 *
 * Input: a model after onnxc_prepare() (types static, kernels chosen, workspace planned).
 * Output, by kind:
 *   BE_EMIT_LLVM  textual LLVM IR (.ll)
 *   BE_EMIT_ASM   target assembly (.s)
 *   BE_EMIT_OBJ   object file (.o)
 *   BE_EMIT_SO    shared library (.so) + C header (same path with .h)
 * Every output file is written to a temporary name in the same folder and renamed on success,
 * so a failed compile leaves nothing half-written.
 */
#ifndef ONNXC_BE_H
#define ONNXC_BE_H

#include "ir/ir.h"
#include "passes/pass.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum BeEmitKind { BE_EMIT_LLVM, BE_EMIT_ASM, BE_EMIT_OBJ, BE_EMIT_SO } BeEmitKind;

/* Generates `kind` for model m at out_path. For BE_EMIT_SO also writes the header at
 * header_path (NULL: out_path with its extension replaced by ".h"). workspace_bytes comes from
 * pass_plan. Returns 0 or -1 with diagnostics. */
int be_emit(IrModel *m, const OnnxcCompileOptions *o, BeEmitKind kind, const char *out_path,
            const char *header_path, int64_t workspace_bytes, IrDiag *d);

/* 1 if the prepared graph has a value whose shape is only known at run time (a real input or
 * output, or a tensor a lowered node reads or writes): the backend then emits the dynamic graph
 * function and the typed API takes OnnxcTensor descriptors (docs/DYNAMIC_SHAPES.md). */
int be_graph_dynamic(const IrGraph *g);

/* Folder holding the runtime pieces a model is linked with (onnxc_rt.bc, libonnxc_rt.a,
 * libonnxc_rtapi.a): $ONNXC_RUNTIME_DIR if set, else the build folder compiled in. */
const char *be_runtime_dir(void);

#ifdef __cplusplus
}
#endif
#endif
