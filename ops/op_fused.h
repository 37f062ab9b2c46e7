/* op_fused.h - helpers shared by the lower hooks of the fused operators (domain "ai.onnxc",
 * rows in ops/ops_fused.def): FusedConv (ops/op_conv.c), FusedGemm and FusedMatMul
 * (ops/op_matmul.c), FusedElementwise (ops/op_fused.c). The fusion passes
 * (passes/pass_fuse_*.c) create these nodes; docs/PASSES.md describes them. */
#ifndef ONNXC_OP_FUSED_H
#define ONNXC_OP_FUSED_H

#include "ir/ir.h"
#include "runtime/rt_params_fused.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The domain of onnxc's own operators. */
#define OP_FUSED_DOMAIN "ai.onnxc"

/* Reads the epilogue of a FusedConv/FusedGemm/FusedMatMul node from its attributes
 * `activation` (STRING: Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, Tanh) and
 * `activation_params` (FLOATS: LeakyRelu [alpha = 0.01]; Clip [min = -inf, max = +inf];
 * HardSigmoid [alpha = 0.2, beta = 0.5]), the convention of onnxruntime's
 * com.microsoft.FusedConv. Returns 0, or -1 + diag for an unknown activation or a wrong
 * parameter count. */
int op_fused_epilogue(IrNode *n, IrDiag *d, RtEpilogue *e);

/* RT_EPI_* of an activation name, or -1. */
int op_fused_act_code(const char *name);

#ifdef __cplusplus
}
#endif
#endif
