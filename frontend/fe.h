/* fe.h - the ONNX importer: ModelProto (protobuf-c, schema compiled from Debian's onnx.proto)
 * into the IR, and TensorProto .pb files in and out.
 *
 * Every function reports problems to the IrDiag it is given (with the file name and, where one
 * applies, the node) and returns NULL/-1; none aborts on bad input.
 */
#ifndef ONNXC_FE_H
#define ONNXC_FE_H

#include "ir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct FeOptions {
    int64_t max_file_bytes;      /* refuse model files larger than this (0: default 4 GiB) */
    int allow_external_data;     /* 1 (default when options NULL): load external data files */
    /* 0: the main graph as stored. k >= 1: the main graph becomes ONNX's training graph of
     * training_info[k-1] (onnx.proto TrainingInfoProto.algorithm): the concatenation of the main
     * graph's and the algorithm's inputs, initializers, nodes and outputs, in that order
     * (passes/pass_trinfo.c builds the training step from it). Error if there is no such entry. */
    int training_algorithm;
} FeOptions;

/* Loads a model file: an ONNX ModelProto, or onnxc IR text (docs/IR_FORMAT.md, recognised by
 * its first line "onnxc-ir", parsed by ir_parse_model; fe_load_model_buffer too). External
 * data locations are resolved relative to the model's folder; absolute paths, ".." escapes, symlinks leaving the folder, and offset/length ranges outside
 * the file are errors. Returns NULL on error (diagnostics in d). */
IrModel *fe_load_model(const char *path, const FeOptions *opt, IrDiag *d);
/* Same from memory; `path` is used for diagnostics, `dir` for external data (may be NULL: then
 * external data is an error). */
IrModel *fe_load_model_buffer(const void *buf, size_t len, const char *path, const char *dir,
                              const FeOptions *opt, IrDiag *d);

/* Writes m as an ONNX ModelProto file (frontend/fe_write.c), atomically (temporary file in the
 * same folder + rename): graph, initializers as raw_data (4-bit and 2-bit types packed),
 * value_info for every typed intermediate, attributes of every kind, subgraphs, functions,
 * opsets, metadata. Folded constants without a producer become initializers. 0 or -1. */
int fe_write_model(const IrModel *m, const char *path, IrDiag *d);

/* Reads one serialized onnx.TensorProto (.pb) into a tensor allocated in arena a. */
IrTensor *fe_read_tensor_pb(IrArena *a, const char *path, IrDiag *d);
IrTensor *fe_read_tensor_pb_buffer(IrArena *a, const void *buf, size_t len, const char *path,
                                   IrDiag *d);
/* Writes a tensor as a serialized TensorProto, atomically (temporary file + rename). */
int fe_write_tensor_pb(const char *path, const IrTensor *t, const char *name, IrDiag *d);

/* Reads a whole file into a malloc'ed buffer (caller frees); -1 + diag on error or if larger
 * than max_bytes (0: no limit besides memory). */
int fe_read_file(const char *path, int64_t max_bytes, void **buf, size_t *len, IrDiag *d);

#ifdef __cplusplus
}
#endif
#endif
