/* fe_internal.h - shared between the frontend's files (fe_model.c, fe_tensor.c); not public.
 *
 * fe_tensor.c decodes onnx.TensorProto / SparseTensorProto (ONNX IR spec, "Tensor Element
 * Types" and "External Tensor Data") into IrTensor in onnxc's in-memory layout (ir/ir.h);
 * fe_model.c builds the IrModel from onnx.ModelProto.
 */
#ifndef ONNXC_FE_INTERNAL_H
#define ONNXC_FE_INTERNAL_H

#include "frontend/fe.h"
#include "onnxpb/onnx.pb-c.h"

/* Where tensors may find their external data. */
typedef struct FeTensorCtx {
    const char *dir;        /* model folder for external data; NULL: external data is an error */
    int allow_external;     /* 0: external data is refused */
    const IrNode *node;     /* node for diagnostics (attribute tensors), or NULL */
    const char *what;       /* context word for messages ("initializer", "attribute 'value'") */
} FeTensorCtx;

/* Decodes one TensorProto into a tensor allocated in arena a. Every inconsistency (unknown
 * element type, rank/size limits, data length vs dims, bad external data) is an error naming
 * the tensor; returns NULL then. */
IrTensor *fe_tensor_decode(IrArena *a, const Onnx__TensorProto *tp, const FeTensorCtx *c,
                           IrDiag *d);
/* Decodes a SparseTensorProto and densifies it (zeros elsewhere); NULL + diagnostic on error.
 * The tensor's name is values.name. */
IrTensor *fe_sparse_decode(IrArena *a, const Onnx__SparseTensorProto *sp, const FeTensorCtx *c,
                           IrDiag *d);

/* Frees tp's numeric payload (raw_data and the typed numeric arrays) once it has been decoded,
 * leaving a message that protobuf-c's free_unpacked still frees correctly. tp must come from
 * an unpack with the default allocator. Keeps peak memory near one copy of the weights. */
void fe_tensor_release(Onnx__TensorProto *tp);

/* Number of bytes that numel elements of dt take in ONNX's serialized (packed) form, or -1 on
 * overflow / STRING. */
int64_t fe_packed_nbytes(int dt, int64_t numel);

/* protobuf-c allocator for every unpack/free_unpacked of the frontend: malloc/free through the
 * fault-injection hook (ir_fault_set in ir/ir.h), so OOM tests also fail protobuf-c's own
 * allocations. Compatible with fe_tensor_release (same malloc/free). */
extern ProtobufCAllocator fe_pb_allocator;

#endif
