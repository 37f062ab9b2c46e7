/* op.h - the operator table: each operator described once (ops/ops.def) with one record of hooks.
 *
 * Hooks (any may be NULL, meaning "not supported"; the diagnostic then says which part):
 *   infer(n, d)  check input arity/types/attributes for this node's opset version and set the
 *                type and shape of every present output (n->out[i]->type). Inputs' types are
 *                already inferred. Constant inputs are visible as n->in[i]->init (non-NULL) and
 *                may be read (e.g. Reshape's shape). Returns 0, or -1 after ir_error(d, n, ...).
 *   lower(n, d)  called when every input and output type is static: choose the kernel
 *                (n->kernel = "rt_k_..."; a name listed in runtime/kernels.def) and fill its
 *                parameter block (n->params / n->params_size, allocated in the graph arena; a
 *                POD struct from runtime/rt_params.h). The same kernel serves constant folding
 *                (passes/) and the generated code (backend/). Returns 0 or -1 with a diagnostic.
 *   grad         reserved; gradient rules live in the op_grad_<ID> table below (training).
 *
 * Version-specific semantics (attributes that became inputs, changed defaults) are handled inside
 * the hooks using n->opset.
 */
#ifndef ONNXC_OP_H
#define ONNXC_OP_H

#include "ir/ir.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Operator flags. */
enum {
    OPF_ELEMENTWISE = 1 << 0, /* output shape = broadcast of inputs; candidates for loop fusion */
    OPF_VIEW = 1 << 1,        /* output has the input's bytes (reshape-like); may alias */
    OPF_CONSTANT = 1 << 2,    /* produces a constant from attributes */
    OPF_RANDOM = 1 << 3,      /* nondeterministic: never constant-folded */
    OPF_NO_FOLD = 1 << 4,     /* never constant-folded for another reason */
    OPF_DYN_SHAPE = 1 << 5    /* kernel computes its output shapes (rt_out_alloc) and the lower
                                 hook reads only ranks of non-static values (DYNAMIC_SHAPES.md) */
};

typedef int (*OpInferFn)(IrNode *n, IrDiag *d);
typedef int (*OpLowerFn)(IrNode *n, IrDiag *d);
typedef int (*OpGradFn)(IrNode *n, void *grad_ctx, IrDiag *d);

typedef struct OpHooks {
    OpInferFn infer;
    OpLowerFn lower;
    OpGradFn grad;
} OpHooks;

typedef enum OpId {
#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) OP_##ID,
#include "ops/ops.def"
#undef OP
    OP_COUNT,
    OP_UNKNOWN = -1
} OpId;

typedef struct OpInfo {
    const char *op_type;  /* ONNX op type */
    const char *domain;   /* "" for ai.onnx */
    int min_in, max_in;   /* max_in -1: variadic */
    int min_out, max_out;
    unsigned flags;       /* OPF_* */
    const OpHooks *hooks; /* never NULL (may contain NULL hooks) */
} OpInfo;

/* Declarations of every op's hooks (defined in the family files). */
#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) extern const OpHooks op_hooks_##ID;
#include "ops/ops.def"
#undef OP

/* Gradient rules (training; docs/TRAINING.md). One weak `op_grad_<ID>` per row, NULL unless a
 * file ops/grad_<family>.c defines it strongly (`const OpGradFn op_grad_Relu = relu_grad;`), so
 * rules are added without touching the family files. The rule of node n reads the gradients of
 * its outputs and adds those of its inputs through the GradCtx of ops/grad.h (grad_ctx).
 * op_grad_rule(op) returns the hooks' grad if set, else op_grad_<ID>, else NULL. */
#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) extern const OpGradFn op_grad_##ID;
#include "ops/ops.def"
#undef OP
OpGradFn op_grad_rule(int op);

/* The table, indexed by OpId. */
extern const OpInfo op_table[OP_COUNT];

/* Lookup by domain ("" and "ai.onnx" are the same) and op type; OP_UNKNOWN if not found. */
int op_lookup(const char *domain, const char *op_type);
/* Info for an op id, or NULL if out of range. */
const OpInfo *op_info(int op);

/* Run the node's infer hook (with arity checks against the table). Unknown op: error
 * "unsupported operator". A node whose outputs are small integer tensors computed from
 * constants is then evaluated at once (op_fold_node). Returns 0/-1. */
int op_infer_node(IrNode *n, IrDiag *d);
/* Run the node's lower hook. Returns 0/-1. */
int op_lower_node(IrNode *n, IrDiag *d);

/* Compile-time rewriting of control flow and non-tensor values (ops/op_ctrl.c,
 * docs/CONTROL_FLOW.md), called by pass_infer before a node's infer hook, once its inputs are
 * typed: If/Loop/Scan/sequence/optional nodes whose behaviour is known at compile time are
 * replaced by tensor nodes. Returns 1 when n was replaced (*next = the first node to infer
 * next), 0 when n is left alone, -1 on error (diagnostic given). */
int op_expand_node(IrNode *n, IrNode **next, IrDiag *d);
/* Removes nodes whose outputs are all unused sequence/optional values (resolved at compile
 * time); returns the number removed. */
int op_remove_dead_nontensor(IrGraph *g);

/* ------------------------------------------------------------ helpers shared by family files */

/* numpy-style broadcast of two shapes (symbolic dims allowed when equal). 0 or -1 + diag. */
int op_broadcast_shapes(IrNode *n, IrDiag *d, const IrType *a, const IrType *b, IrType *out);
/* Require input i present and a tensor with known rank; returns the type or NULL + diag. */
const IrType *op_input_tensor(IrNode *n, IrDiag *d, int i);
/* Require input i present and a tensor (rank may be unknown); the type or NULL + diag. */
const IrType *op_input_any_rank(IrNode *n, IrDiag *d, int i);
/* -1 + diag ("input i has element type ..., not supported by <op> (opset N)") unless element
 * type dt is in `set` (bit t = IrDType t), else 0. */
int op_check_dtype(IrNode *n, IrDiag *d, int i, IrDType dt, unsigned set);
/* Legacy (opset < 7) broadcasting of the binary ops (attributes `broadcast` and `axis`): checks
 * B against A (shapes must be equal when broadcast is 0) and sets *b_axis to the dim of A where
 * B starts, -1 for right alignment (or when a rank is unknown: checked again once known).
 * Returns 0 or -1 + diag. */
int op_legacy_broadcast(IrNode *n, IrDiag *d, const IrType *a, const IrType *b, int *b_axis);
/* Sets output i (if present) to a tensor type (copy dims into the graph arena). */
int op_set_output(IrNode *n, int i, IrDType dt, int rank, const IrDim *dims);
int op_set_output_static(IrNode *n, int i, IrDType dt, int rank, const int64_t *dims);
/* Allocate a zeroed params block of `size` bytes in the node's graph arena, set n->params,
 * n->params_size and n->kernel. Returns the block or NULL (with diag) on OOM. */
void *op_params(IrNode *n, IrDiag *d, const char *kernel, size_t size);
/* Read a constant int64/int32 1-D input tensor into an arena array; returns count or -1. */
int op_const_ints(IrNode *n, int i, const int64_t **out);
/* Compile-time evaluation during inference: when every present input of n is a constant and
 * every output a static tensor, with at most `cap` output bytes in total, and no output has data
 * yet, runs the op's lower hook and its kernel natively and stores the results as the outputs'
 * init (so that shape computations resolve during inference, before ops that need a constant
 * shape). Ops flagged OPF_RANDOM or OPF_NO_FOLD are left alone, and so is a node whose lowering
 * or kernel fails (the failure then happens at run time). Returns -1 only on out of memory. */
int op_fold_node(IrNode *n, IrDiag *d, int64_t cap);
/* The cap of op_infer_node, which folds nodes with integer outputs (shape arithmetic) after a
 * successful infer hook. */
#define OP_INFER_FOLD_CAP ((int64_t)64 << 10)
/* Normalise an axis in [-rank, rank-1] (or [-rank-1, rank] when `inclusive_end`): -1 + diag if
 * out of range. */
int op_norm_axis(IrNode *n, IrDiag *d, int64_t axis, int rank, int64_t *out);

#ifdef __cplusplus
}
#endif
#endif
