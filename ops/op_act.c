/* op_act.c - infer and lower hooks of the act family: unary math functions, activations,
 * normalizations and Einsum (kernels in runtime/rt_act.c, parameter blocks in
 * runtime/rt_params_act.h).
 *
 * ONNX specification: docs/Operators.md, sections
 *  - Sin, Cos, Tan, Asin, Acos, Atan (7), Sinh, Cosh, Asinh, Acosh, Atanh (9), Erf (9, 13),
 *    Softplus, Softsign (1), Elu, Selu, HardSigmoid, ThresholdedRelu (1, 6, 10), Celu (12),
 *    HardSwish (14), Mish (18), Gelu (20: approximate "none" or "tanh"), Shrink (9), Swish (24:
 *    x sigmoid(alpha x)): elementwise,
 *    float types (all of them share rt_k_act_unary with a function code); Shrink also integer
 *    types (computed in double, truncated and saturated back);
 *  - PRelu (1, 6, 7, 9, 16): slope unidirectionally broadcast to X (numpy, right-aligned); a 1-D
 *    slope that does not broadcast so runs along the channel dim 1 (the per-channel slope of
 *    opsets < 7) or along the one dim of X of its size (as the reference implementation does);
 *  - Hardmax (1, 11, 13): before 13 the input is coerced to 2-D at `axis` (default 1) and the
 *    maximum taken over the flattened trailing part; from 13 along `axis` (default -1);
 *  - LayerNormalization (17): statistics over dims [axis, rank); Scale and B unidirectionally
 *    broadcast to X; optional outputs Mean and InvStdDev of type stash_type shaped
 *    X.dims[0:axis] + [1] * (rank - axis);
 *  - RMSNormalization (23), InstanceNormalization (1, 6), GroupNormalization (18: scale and bias
 *    per group; 21: per channel), LpNormalization (1, 22), MeanVarianceNormalization (9, 13:
 *    (X - E[X]) / (sqrt(Var[X]) + 1e-9) as in its function body), LRN (1, 13);
 *  - SwiGLU (28): Swish_alpha(A) * B, A and B of one shape (rt_k_swiglu);
 *  - Einsum (12): explicit and implicit output, ellipsis, repeated labels (diagonals).
 * Statistics are computed in double whatever stash_type says (at least its precision).
 * Scale/bias broadcasting of the normalizations is limited to patterns where the varying dims
 * of the parameter form one contiguous block inside the normalized dims (every pattern the
 * specification's examples use); others are reported as unsupported.
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* 1 if dt is a float type the act kernels accept. */
static int act_is_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* 1 if dt is an integer type (Shrink, PRelu and Einsum accept some). */
static int act_is_int(IrDType dt) {
    return dt == IR_DT_INT8 || dt == IR_DT_INT16 || dt == IR_DT_INT32 || dt == IR_DT_INT64 ||
           dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 || dt == IR_DT_UINT64;
}

/* Integer types op n accepts on its input 0 (type constraints of docs/Operators.md). */
static int act_int_ok(const IrNode *n, IrDType dt) {
    if (n->op == OP_Shrink || n->op == OP_Einsum)
        return act_is_int(dt);
    if (n->op == OP_PRelu && n->opset >= 9)
        return dt == IR_DT_INT32 || dt == IR_DT_INT64 || dt == IR_DT_UINT32 || dt == IR_DT_UINT64;
    return 0;
}

/* Input i as a float tensor type (rank may be unknown), or NULL + diag. Integer types too where
 * the op accepts them (act_int_ok). */
static const IrType *act_float_in(IrNode *n, IrDiag *d, int i, int need_rank) {
    IrValue *v = ir_node_in(n, i);
    if (!v) {
        ir_error(d, n, "input %d is missing", i);
        return NULL;
    }
    if (v->type.kind != IR_TYPE_TENSOR) {
        ir_error(d, n, "input %d '%s' is not a tensor", i, v->name);
        return NULL;
    }
    if (!act_is_float(v->type.dtype) && !act_int_ok(n, v->type.dtype)) {
        ir_error(d, n, "input %d has element type %s, not supported by %s (opset %d)", i,
                 ir_dtype_name(v->type.dtype), n->op_type, n->opset);
        return NULL;
    }
    if (need_rank && v->type.rank < 0) {
        ir_error(d, n, "input %d '%s' has unknown rank", i, v->name);
        return NULL;
    }
    return &v->type;
}

/* Output i gets the type of `t` (element type dt). */
static int act_out_like(IrNode *n, IrDiag *d, int i, IrDType dt, const IrType *t) {
    if (op_set_output(n, i, dt, t->rank, t->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- unary functions */

static int act_fn(int op) {
    switch (op) {
    case OP_Sin: return RT_ACT_SIN;
    case OP_Cos: return RT_ACT_COS;
    case OP_Tan: return RT_ACT_TAN;
    case OP_Asin: return RT_ACT_ASIN;
    case OP_Acos: return RT_ACT_ACOS;
    case OP_Atan: return RT_ACT_ATAN;
    case OP_Sinh: return RT_ACT_SINH;
    case OP_Cosh: return RT_ACT_COSH;
    case OP_Asinh: return RT_ACT_ASINH;
    case OP_Acosh: return RT_ACT_ACOSH;
    case OP_Atanh: return RT_ACT_ATANH;
    case OP_Erf: return RT_ACT_ERF;
    case OP_Softplus: return RT_ACT_SOFTPLUS;
    case OP_Softsign: return RT_ACT_SOFTSIGN;
    case OP_Elu: return RT_ACT_ELU;
    case OP_Selu: return RT_ACT_SELU;
    case OP_Celu: return RT_ACT_CELU;
    case OP_HardSigmoid: return RT_ACT_HARDSIGMOID;
    case OP_HardSwish: return RT_ACT_HARDSWISH;
    case OP_ThresholdedRelu: return RT_ACT_THRESHOLDEDRELU;
    case OP_Gelu: return RT_ACT_GELU;
    case OP_Mish: return RT_ACT_MISH;
    case OP_Shrink: return RT_ACT_SHRINK;
    case OP_Swish: return RT_ACT_SWISH;
    default: return -1;
    }
}

/* Gelu's `approximate`: 0 none, 1 tanh, -1 + diag otherwise. */
static int gelu_tanh(IrNode *n, IrDiag *d) {
    const char *a = ir_attr_string(n, "approximate", "none");
    if (strcmp(a, "none") == 0)
        return 0;
    if (strcmp(a, "tanh") == 0)
        return 1;
    ir_error(d, n, "attribute 'approximate' is '%s', expected 'none' or 'tanh'", a);
    return -1;
}

static int infer_unary(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 0);
    if (!x)
        return -1;
    if (n->op == OP_Gelu && gelu_tanh(n, d) < 0)
        return -1;
    return act_out_like(n, d, 0, x->dtype, x);
}

static int lower_unary(IrNode *n, IrDiag *d) {
    RtActParams *p = op_params(n, d, "rt_k_act_unary", sizeof *p);
    if (!p)
        return -1;
    p->fn = act_fn(n->op);
    switch (n->op) {
    case OP_Elu:
    case OP_Celu:
    case OP_ThresholdedRelu:
        p->alpha = ir_attr_float(n, "alpha", 1.0f);
        if (n->op == OP_Celu && p->alpha == 0.0) {
            ir_error(d, n, "attribute 'alpha' must not be 0");
            return -1;
        }
        break;
    case OP_Selu:
        p->alpha = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
        p->gamma = ir_attr_float(n, "gamma", 1.05070102214813232421875f);
        break;
    case OP_HardSigmoid:
        p->alpha = ir_attr_float(n, "alpha", 0.2f);
        p->beta = ir_attr_float(n, "beta", 0.5f);
        break;
    case OP_Swish:
        p->alpha = ir_attr_float(n, "alpha", 1.0f);
        break;
    case OP_Shrink:
        p->alpha = ir_attr_float(n, "lambd", 0.5f);
        p->beta = ir_attr_float(n, "bias", 0.0f);
        break;
    case OP_Gelu: {
        int t = gelu_tanh(n, d);
        if (t < 0)
            return -1;
        if (t)
            p->fn = RT_ACT_GELU_TANH;
        break;
    }
    default: break;
    }
    return 0;
}

/* ---------------------------------------------------------------- SwiGLU */

/* SwiGLU (28): A (gate) and B of one float type and shape (no broadcasting). */
static int infer_swiglu(IrNode *n, IrDiag *d) {
    const IrType *a = act_float_in(n, d, 0, 0), *b = a ? act_float_in(n, d, 1, 0) : NULL;
    if (!b)
        return -1;
    if (a->dtype != b->dtype) {
        ir_error(d, n, "B has element type %s, A %s", ir_dtype_name(b->dtype),
                 ir_dtype_name(a->dtype));
        return -1;
    }
    if (a->rank >= 0 && b->rank >= 0) {
        int same = a->rank == b->rank;
        for (int k = 0; same && k < a->rank; k++) {
            int64_t x = a->dims[k].value, y = b->dims[k].value;
            same = x < 0 || y < 0 || x == y;
        }
        if (!same) {
            ir_error(d, n, "A and B must have the same shape (SwiGLU does not broadcast)");
            return -1;
        }
    }
    return act_out_like(n, d, 0, a->dtype, a);
}

static int lower_swiglu(IrNode *n, IrDiag *d) {
    RtActParams *p = op_params(n, d, "rt_k_swiglu", sizeof *p);
    if (!p)
        return -1;
    p->fn = RT_ACT_SWISH;
    p->alpha = ir_attr_float(n, "alpha", 1.0f);
    return 0;
}

/* ---------------------------------------------------------------- PRelu */

/* -1 + diag unless p (rank pr) broadcasts unidirectionally (right-aligned) to x. */
static int check_unidir(IrNode *n, IrDiag *d, const IrType *p, const IrType *x, const char *what) {
    if (p->rank < 0 || x->rank < 0)
        return 0;
    if (p->rank > x->rank) {
        ir_error(d, n, "%s has rank %d, more than X's %d", what, p->rank, x->rank);
        return -1;
    }
    for (int k = 0; k < p->rank; k++) {
        int64_t pd = p->dims[k].value, xd = x->dims[k + x->rank - p->rank].value;
        if (pd >= 0 && pd != 1 && xd >= 0 && pd != xd) {
            ir_error(d, n, "%s dim %d is %lld, X has %lld there: not broadcastable", what, k,
                     (long long)pd, (long long)xd);
            return -1;
        }
    }
    return 0;
}

/* Where PRelu's slope is aligned: -1 for numpy unidirectional broadcasting; else a 1-D slope
 * runs along X's dim *axis: the channel dim 1 (the pre-opset-7 per-channel slope, as exported by
 * old PyTorch), or else the one dim of X with the slope's size (the reference implementation's
 * fallback). Unknown dims count as matching. -1 + diag if none applies. */
static int prelu_axis(IrNode *n, IrDiag *d, const IrType *s, const IrType *x, int *axis) {
    *axis = -1;
    if (s->rank < 0 || x->rank < 0)
        return 0;
    int numpy = s->rank <= x->rank;
    for (int k = 0; numpy && k < s->rank; k++) {
        int64_t pd = s->dims[k].value, xd = x->dims[k + x->rank - s->rank].value;
        numpy = !(pd >= 0 && pd != 1 && xd >= 0 && pd != xd);
    }
    if (numpy)
        return 0;
    int64_t c = s->rank == 1 ? s->dims[0].value : -1;
    if (c >= 0 && x->rank >= 2 && x->dims[1].value == c) {
        *axis = 1;
        return 0;
    }
    int hits = 0;
    for (int k = 0; c >= 0 && k < x->rank; k++)
        if (x->dims[k].value == c) {
            hits++;
            *axis = k;
        }
    if (hits == 1)
        return 0;
    return check_unidir(n, d, s, x, "slope") ? -1 : 0; /* reports the mismatch */
}

static int infer_prelu(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 0), *s = x ? act_float_in(n, d, 1, 0) : NULL;
    int axis;
    if (!s)
        return -1;
    if (s->dtype != x->dtype) {
        ir_error(d, n, "slope has element type %s, X %s", ir_dtype_name(s->dtype),
                 ir_dtype_name(x->dtype));
        return -1;
    }
    if (prelu_axis(n, d, s, x, &axis))
        return -1;
    return act_out_like(n, d, 0, x->dtype, x);
}

static int lower_prelu(IrNode *n, IrDiag *d) {
    int axis;
    if (prelu_axis(n, d, &n->in[1]->type, &n->in[0]->type, &axis))
        return -1;
    RtActAxisParams *p = op_params(n, d, "rt_k_prelu", sizeof *p);
    if (!p)
        return -1;
    p->axis = axis;
    return 0;
}

/* ---------------------------------------------------------------- Hardmax, LpNormalization */

/* The axis of Hardmax / LpNormalization, normalised; -1 + diag if out of range. */
static int axis_of(IrNode *n, IrDiag *d, int rank, int32_t *out) {
    int64_t dflt = (n->op == OP_Hardmax && n->opset < 13) ? 1 : -1, a;
    int64_t axis = ir_attr_int(n, "axis", dflt);
    if (rank == 0 && (axis == 0 || axis == -1 || axis == 1)) {
        *out = 0;
        return 0;
    }
    if (op_norm_axis(n, d, axis, rank, &a))
        return -1;
    *out = (int32_t)a;
    return 0;
}

static int infer_axis_op(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 1);
    int32_t a;
    if (!x || axis_of(n, d, x->rank, &a))
        return -1;
    if (n->op == OP_LpNormalization) {
        int64_t p = ir_attr_int(n, "p", 2);
        if (p != 1 && p != 2) {
            ir_error(d, n, "attribute 'p' is %lld, expected 1 or 2", (long long)p);
            return -1;
        }
    }
    return act_out_like(n, d, 0, x->dtype, x);
}

static int lower_axis_op(IrNode *n, IrDiag *d) {
    int32_t a;
    if (axis_of(n, d, n->in[0]->type.rank, &a))
        return -1;
    RtActAxisParams *p = op_params(n, d, n->op == OP_Hardmax ? "rt_k_hardmax" : "rt_k_lpnorm",
                                   sizeof *p);
    if (!p)
        return -1;
    p->axis = a;
    p->coerce_2d = n->op == OP_Hardmax && n->opset < 13;
    p->p = (int32_t)ir_attr_int(n, "p", 2);
    return 0;
}

/* ---------------------------------------------------------------- row normalizations */

/* RtActIndex of a LayerNormalization/RMSNormalization parameter `pt` (static shape) against X's
 * static dims with the normalized dims starting at `axis`: the parameter's non-1 dims must lie
 * in [axis, rank) and form one contiguous block. -1 + diag otherwise. */
static int layer_index(IrNode *n, IrDiag *d, const IrType *pt, const IrType *x, int axis,
                       const char *what, RtActIndex *ix) {
    int r = x->rank, first = -1, last = -1;
    if (pt->rank > r) {
        ir_error(d, n, "%s has rank %d, more than X's %d", what, pt->rank, r);
        return -1;
    }
    for (int dd = 0; dd < r; dd++) {
        int k = dd - (r - pt->rank);
        int64_t pd = k >= 0 ? pt->dims[k].value : 1, xd = x->dims[dd].value;
        if (pd == 1 || xd == 1)
            continue;
        if (pd != xd) {
            ir_error(d, n, "%s dim %d is %lld, X has %lld there: not broadcastable", what, k,
                     (long long)pd, (long long)xd);
            return -1;
        }
        if (dd < axis) {
            ir_error(d, n, "%s varies along dim %d of X, which is not normalized (axis %d): "
                     "unsupported", what, dd, axis);
            return -1;
        }
        if (first < 0)
            first = dd;
        else if (last != dd - 1) {
            ir_error(d, n, "%s broadcasts along a dim between two it varies on: unsupported", what);
            return -1;
        }
        last = dd;
    }
    ix->rmod = ix->rmul = ix->cdiv = ix->cmod = 1;
    if (first >= 0) {
        for (int dd = first; dd <= last; dd++)
            ix->cmod *= x->dims[dd].value;
        for (int dd = last + 1; dd < r; dd++)
            ix->cdiv *= x->dims[dd].value;
    }
    return 0;
}

/* Normalized first axis of LayerNormalization / RMSNormalization (default -1). */
static int norm_axis(IrNode *n, IrDiag *d, int rank, int *out) {
    int64_t a;
    if (op_norm_axis(n, d, ir_attr_int(n, "axis", -1), rank, &a))
        return -1;
    *out = (int)a;
    return 0;
}

/* stash_type as an element type: -1 + diag unless a float type. */
static int stash_type(IrNode *n, IrDiag *d) {
    int64_t s = ir_attr_int(n, "stash_type", IR_DT_FLOAT);
    if (s < 0 || s >= IR_DT_COUNT || !act_is_float((IrDType)s)) {
        ir_error(d, n, "attribute 'stash_type' is %lld, expected a float type", (long long)s);
        return -1;
    }
    return (int)s;
}

/* LayerNormalization and RMSNormalization. */
static int infer_layernorm(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 1), *s = x ? act_float_in(n, d, 1, 1) : NULL;
    int axis, st = stash_type(n, d);
    if (!s || st < 0 || norm_axis(n, d, x->rank, &axis))
        return -1;
    int nparam = n->op == OP_LayerNormalization ? 3 : 2;
    for (int i = 1; i < nparam; i++) {
        if (!ir_node_in(n, i))
            continue; /* B is optional */
        const IrType *t = act_float_in(n, d, i, 1);
        if (!t)
            return -1;
        if (n->op == OP_LayerNormalization && t->dtype != x->dtype) {
            ir_error(d, n, "input %d has element type %s, X %s", i, ir_dtype_name(t->dtype),
                     ir_dtype_name(x->dtype));
            return -1;
        }
        if (check_unidir(n, d, t, x, i == 1 ? "Scale" : "B"))
            return -1;
    }
    if (act_out_like(n, d, 0, x->dtype, x))
        return -1;
    if (n->op == OP_LayerNormalization && n->nout > 1) {
        IrDim dims[IR_MAX_RANK];
        for (int k = 0; k < x->rank; k++)
            dims[k] = k < axis ? x->dims[k] : (IrDim){1, NULL};
        if (act_out_like(n, d, 1, (IrDType)st, &(IrType){IR_TYPE_TENSOR, (IrDType)st, x->rank, dims, NULL}) ||
            act_out_like(n, d, 2, (IrDType)st, &(IrType){IR_TYPE_TENSOR, (IrDType)st, x->rank, dims, NULL}))
            return -1;
    }
    return 0;
}

static int lower_layernorm(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    int axis;
    if (norm_axis(n, d, x->rank, &axis))
        return -1;
    RtActIndex is, ib = {1, 1, 1, 1};
    if (layer_index(n, d, &n->in[1]->type, x, axis, "Scale", &is))
        return -1;
    IrValue *b = n->op == OP_LayerNormalization ? ir_node_in(n, 2) : NULL;
    if (b && layer_index(n, d, &b->type, x, axis, "B", &ib))
        return -1;
    RtActNormParams *p = op_params(n, d, "rt_k_act_norm", sizeof *p);
    if (!p)
        return -1;
    p->axis = axis;
    p->rms = n->op == OP_RMSNormalization;
    p->groups = 1;
    p->epsilon = ir_attr_float(n, "epsilon", 1e-5f);
    p->scale = is;
    p->bias = ib;
    return 0;
}

/* InstanceNormalization and GroupNormalization: X is N x C x ..., scale and bias 1-D with C
 * entries (GroupNormalization opset < 21: num_groups entries). */
static int group_count(IrNode *n, IrDiag *d, int64_t *g) {
    if (n->op == OP_InstanceNormalization) {
        *g = 0; /* one per channel */
        return 0;
    }
    if (!ir_node_attr(n, "num_groups")) {
        ir_error(d, n, "attribute 'num_groups' is required");
        return -1;
    }
    *g = ir_attr_int(n, "num_groups", 1);
    if (*g < 1) {
        ir_error(d, n, "attribute 'num_groups' is %lld, expected >= 1", (long long)*g);
        return -1;
    }
    return 0;
}

static int infer_chnorm(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 1);
    int64_t g;
    if (!x || group_count(n, d, &g))
        return -1;
    if (n->op == OP_GroupNormalization && stash_type(n, d) < 0)
        return -1;
    if (x->rank < 2) {
        ir_error(d, n, "X must have rank >= 2 (N x C x ...), got %d", x->rank);
        return -1;
    }
    int64_t c = x->dims[1].value;
    if (g > 0 && c >= 0 && c % g) {
        ir_error(d, n, "num_groups %lld does not divide the %lld channels", (long long)g,
                 (long long)c);
        return -1;
    }
    for (int i = 1; i < 3; i++) {
        const IrType *t = act_float_in(n, d, i, 1);
        if (!t)
            return -1;
        if (n->op == OP_InstanceNormalization && t->dtype != x->dtype) {
            ir_error(d, n, "input %d has element type %s, X %s", i, ir_dtype_name(t->dtype),
                     ir_dtype_name(x->dtype));
            return -1;
        }
        int64_t ne;
        if (t->rank != 1) {
            ir_error(d, n, "input %d must be 1-D, got rank %d", i, t->rank);
            return -1;
        }
        if (ir_type_numel(t, &ne) == 0 && c >= 0 && ne != c &&
            !(n->op == OP_GroupNormalization && n->opset < 21 && ne == g)) {
            ir_error(d, n, "input %d has %lld entries, expected %lld", i, (long long)ne,
                     (long long)(n->op == OP_GroupNormalization && n->opset < 21 ? g : c));
            return -1;
        }
    }
    return act_out_like(n, d, 0, x->dtype, x);
}

static int lower_chnorm(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    int64_t g, c = x->dims[1].value, spatial = 1;
    if (group_count(n, d, &g))
        return -1;
    for (int k = 2; k < x->rank; k++)
        spatial *= x->dims[k].value;
    RtActNormParams *p = op_params(n, d, "rt_k_act_norm", sizeof *p);
    if (!p)
        return -1;
    p->epsilon = ir_attr_float(n, "epsilon", 1e-5f);
    if (g == 0) { /* InstanceNormalization: rows are (n, c), entry c */
        p->axis = 2;
        p->groups = 1;
        p->scale = (RtActIndex){c > 0 ? c : 1, 1, 1, 1};
    } else {
        /* rows are (n, group), cols (channel in group, spatial) */
        int64_t cpg = c / g, ne;
        p->axis = 1;
        p->groups = g;
        if (ir_type_numel(&n->in[1]->type, &ne) == 0 && ne == c)
            p->scale = (RtActIndex){g, cpg, spatial > 0 ? spatial : 1, cpg > 0 ? cpg : 1};
        else /* opset 18: one entry per group */
            p->scale = (RtActIndex){g, 1, 1, 1};
    }
    p->bias = p->scale;
    return 0;
}

/* ---------------------------------------------------------------- MVN, LRN */

/* The reduced axes of MeanVarianceNormalization as a bit mask; -1 + diag if out of range. */
static int mvn_axes(IrNode *n, IrDiag *d, int rank, uint64_t *mask) {
    static const int64_t dflt[3] = {0, 2, 3};
    const int64_t *ax = dflt;
    int na = 3;
    if (ir_node_attr(n, "axes"))
        na = ir_attr_ints(n, "axes", &ax);
    *mask = 0;
    for (int i = 0; i < na; i++) {
        int64_t a;
        if (op_norm_axis(n, d, ax[i], rank, &a))
            return -1;
        *mask |= (uint64_t)1 << a;
    }
    return 0;
}

static int infer_mvn(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 1);
    uint64_t m;
    if (!x)
        return -1;
    if (x->rank > 64) {
        ir_error(d, n, "rank %d is more than 64", x->rank);
        return -1;
    }
    if (mvn_axes(n, d, x->rank, &m))
        return -1;
    return act_out_like(n, d, 0, x->dtype, x);
}

static int lower_mvn(IrNode *n, IrDiag *d) {
    uint64_t m;
    if (mvn_axes(n, d, n->in[0]->type.rank, &m))
        return -1;
    RtActMvnParams *p = op_params(n, d, "rt_k_mvn", sizeof *p);
    if (!p)
        return -1;
    p->axes = m;
    return 0;
}

static int infer_lrn(IrNode *n, IrDiag *d) {
    const IrType *x = act_float_in(n, d, 0, 1);
    if (!x)
        return -1;
    if (x->rank < 2) {
        ir_error(d, n, "X must have rank >= 2 (N x C x ...), got %d", x->rank);
        return -1;
    }
    if (!ir_node_attr(n, "size") || ir_attr_int(n, "size", 0) < 1) {
        ir_error(d, n, "attribute 'size' is required and must be >= 1");
        return -1;
    }
    return act_out_like(n, d, 0, x->dtype, x);
}

static int lower_lrn(IrNode *n, IrDiag *d) {
    RtActLrnParams *p = op_params(n, d, "rt_k_lrn", sizeof *p);
    if (!p)
        return -1;
    p->alpha = ir_attr_float(n, "alpha", 1e-4f);
    p->beta = ir_attr_float(n, "beta", 0.75f);
    p->bias = ir_attr_float(n, "bias", 1.0f);
    p->size = ir_attr_int(n, "size", 1);
    return 0;
}

/* ---------------------------------------------------------------- Einsum */

#define EQ_ELL 52 /* label codes: a-z 0..25, A-Z 26..51, ellipsis dim j: EQ_ELL + j */
#define EQ_CODES (EQ_ELL + RT_EINSUM_MAX_RANK)

/* A parsed equation: per input its dims' label codes; the output's label codes. */
typedef struct EinsumEq {
    int nin;
    int rank[RT_EINSUM_MAX_IN];
    int code[RT_EINSUM_MAX_IN][RT_EINSUM_MAX_RANK];
    int nout;
    int out[RT_EINSUM_MAX_RANK];
} EinsumEq;

static int eq_letter(char c) {
    if (c >= 'a' && c <= 'z')
        return c - 'a';
    if (c >= 'A' && c <= 'Z')
        return 26 + c - 'A';
    return -1;
}

/* Parses one term (letters and at most one "..."; spaces ignored) of [s, e) into codes for a
 * dim count `rank` (rank < 0: the output, whose ellipsis has `ell` dims). Returns the dim
 * count, or -1 + diag. */
static int eq_term(IrNode *n, IrDiag *d, const char *s, const char *e, int rank, int ell,
                   int *codes) {
    int letters = 0, has_ell = 0;
    for (const char *q = s; q < e; q++) {
        if (*q == '.') {
            if (has_ell || e - q < 3 || q[1] != '.' || q[2] != '.')
                goto bad;
            has_ell = 1;
            q += 2;
        } else if (eq_letter(*q) >= 0) {
            letters++;
        } else if (*q != ' ') {
            goto bad;
        }
    }
    int ne = rank >= 0 ? rank - letters : has_ell ? ell : 0; /* output without "...": summed */
    if (ne < 0 || (!has_ell && ne != 0) || letters + ne > RT_EINSUM_MAX_RANK || ne > ell) {
        ir_error(d, n, "equation term '%.*s' does not match an input of rank %d", (int)(e - s), s,
                 rank);
        return -1;
    }
    int k = 0;
    for (const char *q = s; q < e; q++) {
        if (*q == '.') {
            for (int j = 0; j < ne; j++)
                codes[k++] = EQ_ELL + ell - ne + j; /* right-aligned ellipsis dims */
            q += 2;
        } else if (eq_letter(*q) >= 0) {
            codes[k++] = eq_letter(*q);
        }
    }
    return k;
bad:
    ir_error(d, n, "bad equation term '%.*s'", (int)(e - s), s);
    return -1;
}

/* Parses the node's equation against its inputs' ranks. Returns 0 or -1 + diag. */
static int eq_parse(IrNode *n, IrDiag *d, EinsumEq *q) {
    const char *eq = ir_attr_string(n, "equation", NULL);
    if (!eq) {
        ir_error(d, n, "attribute 'equation' is required");
        return -1;
    }
    if (n->nin > RT_EINSUM_MAX_IN) {
        ir_error(d, n, "%d inputs: at most %d are supported", n->nin, RT_EINSUM_MAX_IN);
        return -1;
    }
    memset(q, 0, sizeof *q);
    q->nin = n->nin;
    const char *arrow = strstr(eq, "->"), *lhs_end = arrow ? arrow : eq + strlen(eq);
    /* ellipsis rank: the most dims any input's "..." stands for */
    int ell = 0, k = 0;
    const char *s = eq;
    for (;; k++) {
        const char *e = s;
        while (e < lhs_end && *e != ',')
            e++;
        if (k >= n->nin) {
            ir_error(d, n, "equation has more terms than the %d inputs", n->nin);
            return -1;
        }
        const IrType *t = op_input_tensor(n, d, k);
        if (!t)
            return -1;
        int letters = 0;
        for (const char *c = s; c < e; c++)
            letters += eq_letter(*c) >= 0;
        if (t->rank - letters > ell)
            ell = t->rank - letters;
        q->rank[k] = t->rank;
        if (e == lhs_end)
            break;
        s = e + 1;
    }
    if (k + 1 != n->nin) {
        ir_error(d, n, "equation has %d terms for %d inputs", k + 1, n->nin);
        return -1;
    }
    s = eq;
    for (k = 0; k < n->nin; k++) {
        const char *e = s;
        while (e < lhs_end && *e != ',')
            e++;
        if (eq_term(n, d, s, e, q->rank[k], ell, q->code[k]) < 0)
            return -1;
        s = e + 1;
    }
    if (arrow) {
        int r = eq_term(n, d, arrow + 2, arrow + strlen(arrow), -1, ell, q->out);
        if (r < 0)
            return -1;
        q->nout = r;
        for (int i = 0; i < r; i++)
            for (int j = 0; j < i; j++)
                if (q->out[i] == q->out[j]) {
                    ir_error(d, n, "output label repeated in equation '%s'", eq);
                    return -1;
                }
    } else {
        /* implicit output: the ellipsis dims, then the labels seen once, in alphabetical order */
        int count[EQ_CODES] = {0};
        for (k = 0; k < n->nin; k++)
            for (int i = 0; i < q->rank[k]; i++)
                count[q->code[k][i]]++;
        for (int j = 0; j < ell; j++)
            q->out[q->nout++] = EQ_ELL + j;
        static const int order[52] = {26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
                                      41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 0, 1, 2, 3, 4,
                                      5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                                      21, 22, 23, 24, 25}; /* ASCII: upper case first */
        for (int i = 0; i < 52; i++)
            if (count[order[i]] == 1) {
                if (q->nout >= RT_EINSUM_MAX_RANK) {
                    ir_error(d, n, "output rank above %d", RT_EINSUM_MAX_RANK);
                    return -1;
                }
                q->out[q->nout++] = order[i];
            }
    }
    /* every output label must occur in an input */
    for (int i = 0; i < q->nout; i++) {
        int seen = 0;
        for (k = 0; k < n->nin && !seen; k++)
            for (int j = 0; j < q->rank[k]; j++)
                seen |= q->code[k][j] == q->out[i];
        if (!seen && q->out[i] < EQ_ELL) {
            ir_error(d, n, "output label '%c' does not occur in an input",
                     q->out[i] < 26 ? 'a' + q->out[i] : 'A' + q->out[i] - 26);
            return -1;
        }
    }
    return 0;
}

static int infer_einsum(IrNode *n, IrDiag *d) {
    EinsumEq q;
    const IrType *t0 = &n->in[0]->type;
    for (int k = 0; k < n->nin; k++) {
        const IrType *t = op_input_tensor(n, d, k);
        if (!t)
            return -1;
        if (!act_is_float(t->dtype) && !act_int_ok(n, t->dtype)) {
            ir_error(d, n, "input %d has element type %s, not supported", k, ir_dtype_name(t->dtype));
            return -1;
        }
        if (t->dtype != t0->dtype) {
            ir_error(d, n, "inputs have different element types %s and %s",
                     ir_dtype_name(t0->dtype), ir_dtype_name(t->dtype));
            return -1;
        }
    }
    if (eq_parse(n, d, &q))
        return -1;
    IrDim dims[RT_EINSUM_MAX_RANK];
    for (int i = 0; i < q.nout; i++) {
        /* the largest known dim with this label (1s broadcast); unknown if any is unknown */
        IrDim dim = {1, NULL};
        for (int k = 0; k < n->nin; k++)
            for (int j = 0; j < q.rank[k]; j++) {
                if (q.code[k][j] != q.out[i])
                    continue;
                IrDim in = n->in[k]->type.dims[j];
                if (in.value < 0) {
                    if (dim.value == 1 || (dim.value < 0 && dim.sym && in.sym && strcmp(dim.sym, in.sym) == 0))
                        dim = in;
                    else if (dim.value < 0)
                        dim = (IrDim){-1, NULL};
                } else if (in.value != 1) {
                    if (dim.value > 1 && dim.value != in.value) {
                        ir_error(d, n, "label size mismatch: %lld and %lld",
                                 (long long)dim.value, (long long)in.value);
                        return -1;
                    }
                    dim = in;
                }
            }
        dims[i] = dim;
    }
    if (op_set_output(n, 0, t0->dtype, q.nout, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_einsum(IrNode *n, IrDiag *d) {
    EinsumEq q;
    if (eq_parse(n, d, &q))
        return -1;
    int id[EQ_CODES];
    for (int c = 0; c < EQ_CODES; c++)
        id[c] = -1;
    int nl = 0;
    for (int i = 0; i < q.nout; i++)
        id[q.out[i]] = nl++;
    for (int k = 0; k < q.nin; k++)
        for (int j = 0; j < q.rank[k]; j++)
            if (id[q.code[k][j]] < 0) {
                if (nl >= RT_EINSUM_MAX_LABELS) {
                    ir_error(d, n, "more than %d labels", RT_EINSUM_MAX_LABELS);
                    return -1;
                }
                id[q.code[k][j]] = nl++;
            }
    RtActEinsumParams *p = op_params(n, d, "rt_k_einsum", sizeof *p);
    if (!p)
        return -1;
    p->nin = q.nin;
    p->nlabels = nl;
    p->nout = q.nout;
    for (int k = 0; k < q.nin; k++) {
        p->rank[k] = q.rank[k];
        for (int j = 0; j < q.rank[k]; j++)
            p->label[k][j] = (int8_t)id[q.code[k][j]];
    }
    return 0;
}

/* ---------------------------------------------------------------- the table's hooks */

const OpHooks op_hooks_Sin = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Cos = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Tan = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Asin = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Acos = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Atan = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Sinh = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Cosh = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Asinh = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Acosh = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Atanh = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Erf = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Softplus = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Softsign = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Elu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Selu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Celu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_HardSigmoid = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_HardSwish = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_ThresholdedRelu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Gelu = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Mish = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Shrink = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_Swish = {infer_unary, lower_unary, NULL};
const OpHooks op_hooks_SwiGLU = {infer_swiglu, lower_swiglu, NULL};
const OpHooks op_hooks_PRelu = {infer_prelu, lower_prelu, NULL};
const OpHooks op_hooks_Hardmax = {infer_axis_op, lower_axis_op, NULL};
const OpHooks op_hooks_LayerNormalization = {infer_layernorm, lower_layernorm, NULL};
const OpHooks op_hooks_RMSNormalization = {infer_layernorm, lower_layernorm, NULL};
const OpHooks op_hooks_GroupNormalization = {infer_chnorm, lower_chnorm, NULL};
const OpHooks op_hooks_InstanceNormalization = {infer_chnorm, lower_chnorm, NULL};
const OpHooks op_hooks_LpNormalization = {infer_axis_op, lower_axis_op, NULL};
const OpHooks op_hooks_MeanVarianceNormalization = {infer_mvn, lower_mvn, NULL};
const OpHooks op_hooks_LRN = {infer_lrn, lower_lrn, NULL};
const OpHooks op_hooks_Einsum = {infer_einsum, lower_einsum, NULL};
