/* op_select.c - infer and lower hooks of the select family: TopK, NonZero, Unique, Compress
 * (ONNX Operators.md; kernels in runtime/rt_select.c). Output dims that depend on data (or on
 * a computed k) become fresh symbols `<output>?<k>`, bound at run time by the kernel, which
 * reports its output shapes through rt_out_alloc (docs/DYNAMIC_SHAPES.md). */
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* A fresh symbolic dim for dim k of output i. */
static int fresh_dim(IrNode *n, IrDiag *d, int i, int k, IrDim *out) {
    char buf[256];
    const IrValue *o = i < n->nout ? n->out[i] : NULL;
    snprintf(buf, sizeof buf, "%s?%d", o && o->name ? o->name : "out", k);
    out->value = -1;
    out->sym = ir_arena_strdup(n->graph->arena, buf);
    if (!out->sym) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int set_out(IrNode *n, IrDiag *d, int i, IrDType dt, int rank, const IrDim *dims) {
    if (op_set_output(n, i, dt, rank, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int numeric(IrDType dt) {
    return dt != IR_DT_STRING && dt != IR_DT_COMPLEX64 && dt != IR_DT_COMPLEX128 &&
           dt != IR_DT_UNDEFINED && (dt <= IR_DT_BFLOAT16);
}

/* ------------------------------------------------------------------ TopK */

static int topk_axis(IrNode *n, IrDiag *d, int rank, int64_t *axis) {
    return op_norm_axis(n, d, ir_attr_int(n, "axis", -1), rank, axis);
}

static int topk_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (x->rank < 1 || !numeric(x->dtype)) {
        ir_error(d, n, "input must be a numeric tensor of rank >= 1");
        return -1;
    }
    int64_t axis;
    if (topk_axis(n, d, x->rank, &axis))
        return -1;
    IrDim dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof(IrDim) * (size_t)x->rank);
    int64_t k = -1;
    if (n->opset < 10) {
        k = ir_attr_int(n, "k", -1);
        if (k < 0) {
            ir_error(d, n, "attribute 'k' is required and must be >= 0");
            return -1;
        }
    } else {
        IrValue *kv = ir_node_in(n, 1);
        if (!kv) {
            ir_error(d, n, "input 1 (K) is required");
            return -1;
        }
        const int64_t *kp;
        if (kv->init && op_const_ints(n, 1, &kp) == 1) {
            k = kp[0];
            if (k < 0) {
                ir_error(d, n, "K must be >= 0");
                return -1;
            }
        }
    }
    if (k >= 0) {
        if (x->dims[axis].value >= 0 && k > x->dims[axis].value) {
            ir_error(d, n, "K = %lld is larger than dim %lld (%lld)", (long long)k,
                     (long long)axis, (long long)x->dims[axis].value);
            return -1;
        }
        dims[axis] = (IrDim){k, NULL};
    } else if (fresh_dim(n, d, 0, (int)axis, &dims[axis])) {
        return -1;
    }
    return set_out(n, d, 0, x->dtype, x->rank, dims) || set_out(n, d, 1, IR_DT_INT64, x->rank, dims)
               ? -1 : 0;
}

static int topk_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    if (topk_axis(n, d, n->in[0]->type.rank, &axis))
        return -1;
    RtTopKParams *p = op_params(n, d, "rt_k_topk", sizeof *p);
    if (!p)
        return -1;
    p->axis = (int32_t)axis;
    p->largest = n->opset >= 11 ? (int32_t)ir_attr_int(n, "largest", 1) != 0 : 1;
    p->k = n->opset < 10 ? ir_attr_int(n, "k", 0) : -1;
    return 0;
}

const OpHooks op_hooks_TopK = {topk_infer, topk_lower, NULL};

/* ------------------------------------------------------------------ NonZero */

static int nonzero_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (x->dtype == IR_DT_STRING) {
        ir_error(d, n, "string input is not supported");
        return -1;
    }
    IrDim dims[2] = {{x->rank, NULL}, {-1, NULL}};
    if (fresh_dim(n, d, 0, 1, &dims[1]))
        return -1;
    return set_out(n, d, 0, IR_DT_INT64, 2, dims);
}

static int nonzero_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_nonzero", 0) ? 0 : -1;
}

const OpHooks op_hooks_NonZero = {nonzero_infer, nonzero_lower, NULL};

/* ------------------------------------------------------------------ Unique */

static int unique_axis(IrNode *n, IrDiag *d, int rank, int *has, int64_t *axis) {
    *has = ir_node_attr(n, "axis") != NULL;
    *axis = 0;
    return *has ? op_norm_axis(n, d, ir_attr_int(n, "axis", 0), rank, axis) : 0;
}

static int unique_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (!numeric(x->dtype)) {
        ir_error(d, n, "element type %s is not supported", ir_dtype_name(x->dtype));
        return -1;
    }
    int has;
    int64_t axis;
    if (unique_axis(n, d, x->rank, &has, &axis))
        return -1;
    IrDim u, dims[IR_MAX_RANK], len;
    if (fresh_dim(n, d, 0, has ? (int)axis : 0, &u))
        return -1;
    int r = 1;
    dims[0] = u;
    if (has) {
        r = x->rank;
        memcpy(dims, x->dims, sizeof(IrDim) * (size_t)r);
        dims[axis] = u;
        len = x->dims[axis];
    } else {
        int64_t ne;
        if (ir_type_numel(x, &ne) == 0)
            len = (IrDim){ne, NULL};
        else if (fresh_dim(n, d, 2, 0, &len))
            return -1;
    }
    if (set_out(n, d, 0, x->dtype, r, dims) || set_out(n, d, 1, IR_DT_INT64, 1, &u) ||
        set_out(n, d, 2, IR_DT_INT64, 1, &len) || set_out(n, d, 3, IR_DT_INT64, 1, &u))
        return -1;
    return 0;
}

static int unique_lower(IrNode *n, IrDiag *d) {
    int has;
    int64_t axis;
    if (unique_axis(n, d, n->in[0]->type.rank, &has, &axis))
        return -1;
    RtUniqueParams *p = op_params(n, d, "rt_k_unique", sizeof *p);
    if (!p)
        return -1;
    p->has_axis = has;
    p->axis = (int32_t)axis;
    p->sorted = ir_attr_int(n, "sorted", 1) != 0;
    return 0;
}

const OpHooks op_hooks_Unique = {unique_infer, unique_lower, NULL};

/* ------------------------------------------------------------------ Compress */

static int compress_axis(IrNode *n, IrDiag *d, int rank, int *has, int64_t *axis) {
    *has = ir_node_attr(n, "axis") != NULL;
    *axis = 0;
    return *has ? op_norm_axis(n, d, ir_attr_int(n, "axis", 0), rank, axis) : 0;
}

static int compress_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    const IrType *c = op_input_tensor(n, d, 1);
    if (!x || !c)
        return -1;
    if (c->rank != 1) {
        ir_error(d, n, "condition must be 1-D");
        return -1;
    }
    int has;
    int64_t axis;
    if (compress_axis(n, d, x->rank, &has, &axis))
        return -1;
    IrDim dims[IR_MAX_RANK];
    int r = 1;
    if (has) {
        r = x->rank;
        memcpy(dims, x->dims, sizeof(IrDim) * (size_t)r);
    }
    if (fresh_dim(n, d, 0, has ? (int)axis : 0, &dims[has ? axis : 0]))
        return -1;
    return set_out(n, d, 0, x->dtype, r, dims);
}

static int compress_lower(IrNode *n, IrDiag *d) {
    int has;
    int64_t axis;
    if (compress_axis(n, d, n->in[0]->type.rank, &has, &axis))
        return -1;
    RtCompressParams *p = op_params(n, d, "rt_k_compress", sizeof *p);
    if (!p)
        return -1;
    p->has_axis = has;
    p->axis = (int32_t)axis;
    return 0;
}

const OpHooks op_hooks_Compress = {compress_infer, compress_lower, NULL};
