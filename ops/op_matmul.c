/* op_matmul.c - infer and lower hooks of MatMul and Gemm (kernels in runtime/rt_matmul.c).
 *
 * ONNX specification: docs/Operators.md, sections MatMul (opsets 1, 9, 13) and Gemm (1, 6, 7, 9,
 * 11, 13).
 *  - MatMul behaves like numpy.matmul: a 1-D A is promoted to [1, K] and a 1-D B to [K, 1], the
 *    promoted dims are removed from the result, and the batch dims (all but the last two)
 *    broadcast numpy-style. Symbolic dims flow through.
 *  - Gemm: Y[M, N] = alpha * op(A) * op(B) + beta * C, op = transpose when transA/transB. C is
 *    required before opset 11; before opset 7 it is broadcast only if `broadcast` = 1, from
 *    opset 7 it is always unidirectionally broadcast to [M, N].
 */
#include <string.h>

#include "ops/op.h"
#include "ops/op_fused.h"
#include "runtime/rt_params.h"

#define TBIT(t) (1u << (t))
#define TS_FLOAT (TBIT(IR_DT_FLOAT16) | TBIT(IR_DT_FLOAT) | TBIT(IR_DT_DOUBLE) | TBIT(IR_DT_BFLOAT16))
#define TS_WIDE_INT (TBIT(IR_DT_INT32) | TBIT(IR_DT_INT64) | TBIT(IR_DT_UINT32) | TBIT(IR_DT_UINT64))

/* Element types of MatMul/Gemm at `opset`: floats, and from opset 9 the 32/64-bit integers. */
static unsigned mm_types(int opset) { return opset >= 9 ? TS_FLOAT | TS_WIDE_INT : TS_FLOAT; }

/* Input i as a tensor type of the allowed element type (rank may be unknown), or NULL + diag. */
static const IrType *mm_input(IrNode *n, IrDiag *d, int i) {
    IrValue *v = ir_node_in(n, i);
    if (!v || v->type.kind != IR_TYPE_TENSOR) {
        ir_error(d, n, "input %d is missing or not a tensor", i);
        return NULL;
    }
    IrDType dt = v->type.dtype;
    if (dt <= 0 || dt >= 32 || !(mm_types(n->opset) & TBIT(dt))) {
        ir_error(d, n, "input %d has element type %s, not supported by %s (opset %d)", i,
                 ir_dtype_name(dt), n->op_type, n->opset);
        return NULL;
    }
    return &v->type;
}

/* -1 + diag if two dims are both known and differ. */
static int check_same_dim(IrNode *n, IrDiag *d, IrDim x, IrDim y, const char *what) {
    if (x.value >= 0 && y.value >= 0 && x.value != y.value) {
        ir_error(d, n, "%s differ: %lld and %lld", what, (long long)x.value, (long long)y.value);
        return -1;
    }
    return 0;
}

static int infer_matmul(IrNode *n, IrDiag *d) {
    const IrType *a = mm_input(n, d, 0), *b = a ? mm_input(n, d, 1) : NULL;
    if (!a || !b)
        return -1;
    if (a->dtype != b->dtype) {
        ir_error(d, n, "inputs have different element types %s and %s", ir_dtype_name(a->dtype),
                 ir_dtype_name(b->dtype));
        return -1;
    }
    if (a->rank < 0 || b->rank < 0) {
        /* rank unknown: so is the result's */
        if (op_set_output(n, 0, a->dtype, -1, NULL)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
        return 0;
    }
    if (a->rank < 1 || b->rank < 1) {
        ir_error(d, n, "inputs must have rank >= 1 (got %d and %d)", a->rank, b->rank);
        return -1;
    }
    int ra = a->rank, rb = b->rank;
    IrDim ka = a->dims[ra - 1], kb = rb == 1 ? b->dims[0] : b->dims[rb - 2];
    if (check_same_dim(n, d, ka, kb, "inner dimensions (K) of A and B"))
        return -1;
    /* batch dims: broadcast of A's and B's leading dims */
    IrType ba = {.kind = IR_TYPE_TENSOR, .dtype = a->dtype, .rank = ra > 2 ? ra - 2 : 0,
                 .dims = a->dims};
    IrType bb = {.kind = IR_TYPE_TENSOR, .dtype = a->dtype, .rank = rb > 2 ? rb - 2 : 0,
                 .dims = b->dims};
    IrType bt;
    if (op_broadcast_shapes(n, d, &ba, &bb, &bt))
        return -1;
    IrDim dims[IR_MAX_RANK];
    int r = 0;
    if (bt.rank + 2 > IR_MAX_RANK) {
        ir_error(d, n, "rank too large");
        return -1;
    }
    for (int i = 0; i < bt.rank; i++)
        dims[r++] = bt.dims[i];
    if (ra > 1)
        dims[r++] = a->dims[ra - 2];
    if (rb > 1)
        dims[r++] = b->dims[rb - 1];
    if (op_set_output(n, 0, a->dtype, r, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_matmul(IrNode *n, IrDiag *d) {
    RtMatMulParams *p = op_params(n, d, "rt_k_matmul", sizeof *p);
    if (!p)
        return -1;
    p->use_blas = 1;
    return 0;
}

static int infer_gemm(IrNode *n, IrDiag *d) {
    const IrType *a = mm_input(n, d, 0), *b = a ? mm_input(n, d, 1) : NULL;
    if (!a || !b)
        return -1;
    IrValue *cv = ir_node_in(n, 2);
    const IrType *c = cv ? mm_input(n, d, 2) : NULL;
    if (cv && !c)
        return -1;
    if (!cv && n->opset < 11) {
        ir_error(d, n, "input C is required before opset 11");
        return -1;
    }
    if (a->dtype != b->dtype || (c && c->dtype != a->dtype)) {
        ir_error(d, n, "inputs have different element types");
        return -1;
    }
    if (a->rank < 0 || b->rank < 0) {
        IrDim unk[2] = {{-1, NULL}, {-1, NULL}};
        if (op_set_output(n, 0, a->dtype, 2, unk)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
        return 0;
    }
    if (a->rank != 2 || b->rank != 2) {
        ir_error(d, n, "A and B must be 2-D (got rank %d and %d)", a->rank, b->rank);
        return -1;
    }
    int ta = ir_attr_int(n, "transA", 0) != 0, tb = ir_attr_int(n, "transB", 0) != 0;
    IrDim m = a->dims[ta ? 1 : 0], ka = a->dims[ta ? 0 : 1];
    IrDim kb = b->dims[tb ? 1 : 0], nn = b->dims[tb ? 0 : 1];
    if (check_same_dim(n, d, ka, kb, "inner dimensions (K) of op(A) and op(B)"))
        return -1;
    if (c && c->rank >= 0) {
        if (c->rank > 2) {
            ir_error(d, n, "C must have rank <= 2 (got %d)", c->rank);
            return -1;
        }
        int legacy_full = n->opset < 7 && !ir_attr_int(n, "broadcast", 0);
        if (legacy_full && c->rank != 2) {
            ir_error(d, n, "C must be [M, N] when attribute 'broadcast' is 0 (opset %d)",
                     n->opset);
            return -1;
        }
        IrDim cm = c->rank == 2 ? c->dims[0] : (IrDim){1, NULL};
        IrDim cn = c->rank >= 1 ? c->dims[c->rank - 1] : (IrDim){1, NULL};
        if ((legacy_full || cm.value != 1) && check_same_dim(n, d, cm, m, "C's rows and M"))
            return -1;
        if ((legacy_full || cn.value != 1) && check_same_dim(n, d, cn, nn, "C's columns and N"))
            return -1;
    }
    IrDim dims[2] = {m, nn};
    if (op_set_output(n, 0, a->dtype, 2, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_gemm(IrNode *n, IrDiag *d) {
    RtGemmParams *p = op_params(n, d, "rt_k_gemm", sizeof *p);
    if (!p)
        return -1;
    p->alpha = ir_attr_float(n, "alpha", 1.0f);
    p->beta = ir_attr_float(n, "beta", 1.0f);
    p->trans_a = ir_attr_int(n, "transA", 0) != 0;
    p->trans_b = ir_attr_int(n, "transB", 0) != 0;
    p->use_blas = 1;
    return 0;
}

/* FusedMatMul / FusedGemm (ai.onnxc, passes/pass_fuse_epilogue.c): MatMul / Gemm whose kernel
 * applies the activation of the `activation` / `activation_params` attributes (ops/op_fused.h)
 * to its output; float32 and float64 only. */
static int check_act_type(IrNode *n, IrDiag *d) {
    IrDType dt = n->out[0]->type.dtype;
    if (dt != IR_DT_FLOAT && dt != IR_DT_DOUBLE) {
        ir_error(d, n, "%s on %s: the activation epilogue needs float32 or float64", n->op_type,
                 ir_dtype_name(dt));
        return -1;
    }
    return 0;
}

/* The fused ops are ai.onnxc opset 1; their shapes follow MatMul-13 / Gemm-13. */
static int infer_as_13(IrNode *n, IrDiag *d, OpInferFn f) {
    int saved = n->opset;
    n->opset = 13;
    int rc = f(n, d);
    n->opset = saved;
    return rc;
}
static int infer_fused_matmul(IrNode *n, IrDiag *d) { return infer_as_13(n, d, infer_matmul); }
static int infer_fused_gemm(IrNode *n, IrDiag *d) { return infer_as_13(n, d, infer_gemm); }

static int lower_fused_matmul(IrNode *n, IrDiag *d) {
    if (check_act_type(n, d))
        return -1;
    RtMatMulActParams *p = op_params(n, d, "rt_k_matmul_act", sizeof *p);
    if (!p)
        return -1;
    p->mm.use_blas = 1;
    return op_fused_epilogue(n, d, &p->epi);
}

static int lower_fused_gemm(IrNode *n, IrDiag *d) {
    if (check_act_type(n, d))
        return -1;
    RtGemmActParams *p = op_params(n, d, "rt_k_gemm_act", sizeof *p);
    if (!p)
        return -1;
    p->gemm.alpha = ir_attr_float(n, "alpha", 1.0f);
    p->gemm.beta = ir_attr_float(n, "beta", 1.0f);
    p->gemm.trans_a = ir_attr_int(n, "transA", 0) != 0;
    p->gemm.trans_b = ir_attr_int(n, "transB", 0) != 0;
    p->gemm.use_blas = 1;
    return op_fused_epilogue(n, d, &p->epi);
}

const OpHooks op_hooks_MatMul = {infer_matmul, lower_matmul, NULL};
const OpHooks op_hooks_Gemm = {infer_gemm, lower_gemm, NULL};
const OpHooks op_hooks_FusedMatMul = {infer_fused_matmul, lower_fused_matmul, NULL};
const OpHooks op_hooks_FusedGemm = {infer_fused_gemm, lower_fused_gemm, NULL};
