/* op_elementwise.c - infer and lower hooks of the elementwise family (kernels in
 * runtime/rt_elementwise.c).
 *
 * ONNX specification: docs/Operators.md, sections Add, Sub, Mul, Div (opsets 1, 6, 7, 13, 14),
 * Pow (1, 7, 12, 13, 15), Neg, Abs, Sqrt, Exp, Log, Relu (1, 6, 13, 14), LeakyRelu (1, 6, 16),
 * Sigmoid, Tanh (1, 6, 13), Clip (1, 6, 11, 12, 13), and "Broadcasting in ONNX".
 *
 *  - Binary ops broadcast numpy-style (opset >= 7). Before opset 7 they broadcast only when the
 *    `broadcast` attribute is 1, and then B's dims are matched against A's starting at `axis`
 *    (default: B right-aligned); the output has A's shape. The lower hook passes that alignment
 *    to the kernel (RtEltParams.b_axis).
 *  - Pow's output takes the base's element type; from opset 12 the exponent may have any
 *    numeric type.
 *  - Clip takes min/max attributes before opset 11 and optional scalar inputs 1 and 2 from
 *    opset 11 (either may be omitted: no bound on that side).
 *  - `consumed_inputs` (opset < 6) is ignored.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* Type sets (bit i = IrDType i). */
#define TBIT(t) (1u << (t))
#define TS_FLOAT (TBIT(IR_DT_FLOAT16) | TBIT(IR_DT_FLOAT) | TBIT(IR_DT_DOUBLE) | TBIT(IR_DT_BFLOAT16))
#define TS_SINT (TBIT(IR_DT_INT8) | TBIT(IR_DT_INT16) | TBIT(IR_DT_INT32) | TBIT(IR_DT_INT64))
#define TS_UINT (TBIT(IR_DT_UINT8) | TBIT(IR_DT_UINT16) | TBIT(IR_DT_UINT32) | TBIT(IR_DT_UINT64))
#define TS_NUMERIC (TS_FLOAT | TS_SINT | TS_UINT)
#define TS_WIDE_INT (TBIT(IR_DT_INT32) | TBIT(IR_DT_INT64) | TBIT(IR_DT_UINT32) | TBIT(IR_DT_UINT64))

/* Element types allowed for input 0 of op `op` at `opset` (following the type constraints of
 * each opset version). */
static unsigned elt_types(int op, int opset) {
    switch (op) {
    case OP_Add: case OP_Sub: case OP_Mul: case OP_Div:
        return opset >= 14 ? TS_NUMERIC : TS_FLOAT | TS_WIDE_INT;
    case OP_Pow:
        return opset >= 12 ? TS_FLOAT | TBIT(IR_DT_INT32) | TBIT(IR_DT_INT64) : TS_FLOAT;
    case OP_Neg:
        return opset >= 6 ? TS_FLOAT | TS_SINT : TS_FLOAT;
    case OP_Abs:
        return opset >= 6 ? TS_NUMERIC : TS_FLOAT;
    case OP_Relu:
        return opset >= 14 ? TS_FLOAT | TS_SINT : TS_FLOAT;
    case OP_Clip:
        return opset >= 12 ? TS_NUMERIC : TS_FLOAT;
    default:
        return TS_FLOAT;
    }
}

/* The kernel symbol of each op of the family. */
static const char *elt_kernel(int op) {
    switch (op) {
    case OP_Add: return "rt_k_add";
    case OP_Sub: return "rt_k_sub";
    case OP_Mul: return "rt_k_mul";
    case OP_Div: return "rt_k_div";
    case OP_Pow: return "rt_k_pow";
    case OP_Neg: return "rt_k_neg";
    case OP_Abs: return "rt_k_abs";
    case OP_Sqrt: return "rt_k_sqrt";
    case OP_Exp: return "rt_k_exp";
    case OP_Log: return "rt_k_log";
    case OP_Relu: return "rt_k_relu";
    case OP_LeakyRelu: return "rt_k_leakyrelu";
    case OP_Sigmoid: return "rt_k_sigmoid";
    case OP_Tanh: return "rt_k_tanh";
    case OP_Clip: return "rt_k_clip";
    default: return NULL;
    }
}

/* Add, Sub, Mul, Div, Pow */
static int infer_binary(IrNode *n, IrDiag *d) {
    const IrType *a = op_input_any_rank(n, d, 0), *b = a ? op_input_any_rank(n, d, 1) : NULL;
    if (!a || !b)
        return -1;
    if (op_check_dtype(n, d, 0, a->dtype, elt_types(n->op, n->opset)))
        return -1;
    if (n->op == OP_Pow) {
        unsigned es = n->opset >= 12 ? TS_NUMERIC : TS_FLOAT;
        if (op_check_dtype(n, d, 1, b->dtype, es))
            return -1;
        if (n->opset < 12 && b->dtype != a->dtype) {
            ir_error(d, n, "base is %s and exponent %s: must be equal before opset 12",
                     ir_dtype_name(a->dtype), ir_dtype_name(b->dtype));
            return -1;
        }
    } else if (b->dtype != a->dtype) {
        ir_error(d, n, "inputs have different element types %s and %s", ir_dtype_name(a->dtype),
                 ir_dtype_name(b->dtype));
        return -1;
    }
    if (n->opset < 7) {
        int b_axis;
        if (op_legacy_broadcast(n, d, a, b, &b_axis))
            return -1;
        if (a->rank >= 0 && b->rank >= 0 && ir_attr_int(n, "broadcast", 0)) {
            /* legacy broadcasting: the output has A's shape */
            if (op_set_output(n, 0, a->dtype, a->rank, a->dims)) {
                ir_error(d, n, "out of memory");
                return -1;
            }
            return 0;
        }
    }
    IrType t;
    if (op_broadcast_shapes(n, d, a, b, &t))
        return -1;
    t.dtype = a->dtype;
    if (op_set_output(n, 0, t.dtype, t.rank, t.dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_binary(IrNode *n, IrDiag *d) {
    int b_axis = -1;
    if (n->opset < 7 && ir_attr_int(n, "broadcast", 0) &&
        op_legacy_broadcast(n, d, &n->in[0]->type, &n->in[1]->type, &b_axis))
        return -1;
    RtEltParams *p = op_params(n, d, elt_kernel(n->op), sizeof *p);
    if (!p)
        return -1;
    p->b_axis = b_axis;
    return 0;
}

/* Unary ops: output has the input's type. */
static int infer_unary(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_any_rank(n, d, 0);
    if (!x)
        return -1;
    if (op_check_dtype(n, d, 0, x->dtype, elt_types(n->op, n->opset)))
        return -1;
    if (n->op == OP_Clip && n->opset >= 11) {
        for (int i = 1; i < 3; i++) {
            IrValue *v = ir_node_in(n, i);
            if (!v)
                continue; /* omitted bound */
            if (v->type.kind != IR_TYPE_TENSOR || v->type.dtype != x->dtype) {
                ir_error(d, n, "input %d ('%s') must be a %s scalar", i, i == 1 ? "min" : "max",
                         ir_dtype_name(x->dtype));
                return -1;
            }
            int64_t ne;
            if (v->type.rank > 1 || (ir_type_numel(&v->type, &ne) == 0 && ne != 1)) {
                ir_error(d, n, "input %d ('%s') must be a scalar", i, i == 1 ? "min" : "max");
                return -1;
            }
        }
    } else if (n->op == OP_Clip && n->nin > 1 && ir_node_in(n, 1)) {
        ir_error(d, n, "Clip before opset 11 takes its bounds as attributes, not inputs");
        return -1;
    }
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_unary(IrNode *n, IrDiag *d) {
    RtEltParams *p = op_params(n, d, elt_kernel(n->op), sizeof *p);
    if (!p)
        return -1;
    p->b_axis = -1;
    if (n->op == OP_LeakyRelu)
        p->alpha = ir_attr_float(n, "alpha", 0.01f);
    if (n->op == OP_Clip && n->opset < 11) {
        /* attributes; absent bounds default to float's lowest and max values (spec) */
        p->bounds_from_attr = 1;
        p->lo = ir_attr_float(n, "min", -FLT_MAX);
        p->hi = ir_attr_float(n, "max", FLT_MAX);
    }
    return 0;
}

const OpHooks op_hooks_Add = {infer_binary, lower_binary, NULL};
const OpHooks op_hooks_Sub = {infer_binary, lower_binary, NULL};
const OpHooks op_hooks_Mul = {infer_binary, lower_binary, NULL};
const OpHooks op_hooks_Div = {infer_binary, lower_binary, NULL};
const OpHooks op_hooks_Pow = {infer_binary, lower_binary, NULL};
const OpHooks op_hooks_Neg = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Abs = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Sqrt = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Exp = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Log = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Relu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_LeakyRelu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Sigmoid = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Tanh = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Clip = {infer_unary, lower_unary, NULL};
