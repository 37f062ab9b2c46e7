/* op_reduce.c - infer and lower hooks of the reduce family: ReduceSum, ReduceMean, ReduceMax,
 * ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum, ReduceLogSumExp, ReduceSumSquare,
 * ArgMax, ArgMin, and the variadic elementwise Max, Min, Sum, Mean (kernels in
 * runtime/rt_reduce.c).
 *
 * ONNX specification: docs/Operators.md, sections Reduce* (versions 1/11/13/18, ReduceMax and
 * ReduceMin also 12/20; ReduceSum 1/11/13), ArgMax/ArgMin (1/11/12/13), Max/Min (1/6/8/12/13),
 * Sum/Mean (1/6/8/13).
 *  - Axes: an `axes` attribute before opset 18 (13 for ReduceSum), the optional input 1 from then
 *    on. The output shape depends on the axes: a constant axes input (an initializer or folded
 *    constant) gives it at compile time; an axes input computed at run time is accepted when the
 *    model declares a static output type (graph output or value_info; or the type of a value
 *    it reaches through unary elementwise ops and casts): that shape is kept and the kernel
 *    reads the axes from input 1, validates them (range, no repeats) and fails unless they give
 *    the declared shape. Negative axes count from the end; a repeated constant axis counts
 *    once.
 *  - Absent or empty axes reduce over every axis, unless noop_with_empty_axes (opset 18, 13 for
 *    ReduceSum) is set: then nothing is reduced and only the elementwise part of the reduction
 *    is applied (ReduceL1 gives |x|, ReduceSumSquare x*x, ...).
 *  - keepdims (default 1) keeps reduced dims as 1; symbolic dims of kept axes flow through.
 *  - ArgMax/ArgMin: axis (default 0), keepdims, select_last_index (opset 12); int64 output.
 *  - Max/Min/Sum/Mean: numpy broadcasting of 1..N inputs of one type (before opset 8 the inputs
 *    must have equal shapes).
 * Types: every numeric type the kernels handle (float, double, float16, bfloat16, signed and
 * unsigned 8..64-bit integers); bool only for ReduceMax/ReduceMin (opset 20); Sum and Mean
 * take the floating types of the spec only.
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------ type checks */

static int is_float_type(int dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

static int is_int_type(int dt) {
    switch (dt) {
    case IR_DT_INT8: case IR_DT_INT16: case IR_DT_INT32: case IR_DT_INT64:
    case IR_DT_UINT8: case IR_DT_UINT16: case IR_DT_UINT32: case IR_DT_UINT64:
        return 1;
    default:
        return 0;
    }
}

/* -1 + diag unless dt is a numeric type (or bool when allow_bool). */
static int check_numeric(IrNode *n, IrDiag *d, int dt, int allow_bool) {
    if (is_float_type(dt) || is_int_type(dt) || (allow_bool && dt == IR_DT_BOOL))
        return 0;
    ir_error(d, n, "element type %s is not supported (expected a numeric type%s)",
             ir_dtype_name(dt), allow_bool ? " or bool" : "");
    return -1;
}

/* ------------------------------------------------------------------ Reduce* */

/* Per-op facts: the reduction code and the kernel. Indexed by op id minus OP_ReduceSum would
 * tie this table to the row order; a switch keeps it independent. */
static int red_code(int op, const char **kernel) {
    switch (op) {
    case OP_ReduceSum: *kernel = "rt_k_reduce_sum"; return RT_RED_SUM;
    case OP_ReduceMean: *kernel = "rt_k_reduce_mean"; return RT_RED_MEAN;
    case OP_ReduceMax: *kernel = "rt_k_reduce_max"; return RT_RED_MAX;
    case OP_ReduceMin: *kernel = "rt_k_reduce_min"; return RT_RED_MIN;
    case OP_ReduceProd: *kernel = "rt_k_reduce_prod"; return RT_RED_PROD;
    case OP_ReduceL1: *kernel = "rt_k_reduce_l1"; return RT_RED_L1;
    case OP_ReduceL2: *kernel = "rt_k_reduce_l2"; return RT_RED_L2;
    case OP_ReduceLogSum: *kernel = "rt_k_reduce_logsum"; return RT_RED_LOGSUM;
    case OP_ReduceLogSumExp: *kernel = "rt_k_reduce_logsumexp"; return RT_RED_LOGSUMEXP;
    case OP_ReduceSumSquare: *kernel = "rt_k_reduce_sumsquare"; return RT_RED_SUMSQUARE;
    default: *kernel = NULL; return -1;
    }
}

/* The reduced axes of node n over an input of rank `rank`, as a bit mask (bit d: dim d reduced).
 * Reads the attribute or the constant input 1 depending on the opset (see the header comment).
 * Returns 0 or -1 + diag. */
static int red_axes(IrNode *n, IrDiag *d, int rank, uint64_t *mask) {
    int from_input = n->op == OP_ReduceSum ? n->opset >= 13 : n->opset >= 18;
    const int64_t *axes = NULL;
    int naxes = 0;
    int noop = 0;
    if (from_input) {
        if (ir_node_attr(n, "axes")) {
            ir_error(d, n, "attribute 'axes' is not allowed from opset %d: axes are input 1",
                     n->op == OP_ReduceSum ? 13 : 18);
            return -1;
        }
        noop = ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
        IrValue *av = ir_node_in(n, 1);
        if (av) {
            if (!av->init) {
                ir_error(d, n, "unsupported: axes input '%s' is not a constant and the output "
                         "has no declared static type of a shape the axes could give (the "
                         "output shape depends on the axes)", av->name);
                return -1;
            }
            if (av->init->dtype != IR_DT_INT64 && av->init->dtype != IR_DT_INT32) {
                ir_error(d, n, "axes input '%s' has element type %s, expected int64", av->name,
                         ir_dtype_name(av->init->dtype));
                return -1;
            }
            naxes = op_const_ints(n, 1, &axes);
            if (naxes < 0) {
                ir_error(d, n, "axes input '%s' must be a 1-D list of integers", av->name);
                return -1;
            }
        }
    } else {
        if (ir_node_in(n, 1)) {
            ir_error(d, n, "has an axes input, which exists only from opset %d (this node is "
                     "opset %d: use the 'axes' attribute)",
                     n->op == OP_ReduceSum ? 13 : 18, n->opset);
            return -1;
        }
        const IrAttr *a = ir_node_attr(n, "axes");
        if (a) {
            if (a->kind != IR_ATTR_INTS) {
                ir_error(d, n, "attribute 'axes' must be a list of ints");
                return -1;
            }
            naxes = a->n;
            axes = a->ints;
        }
    }
    if (rank > IR_MAX_RANK) {
        ir_error(d, n, "input rank %d exceeds the limit of %d", rank, IR_MAX_RANK);
        return -1;
    }
    uint64_t m = 0;
    if (naxes == 0) {
        if (!noop)
            for (int i = 0; i < rank; i++)
                m |= (uint64_t)1 << i;
    } else {
        for (int i = 0; i < naxes; i++) {
            int64_t ax;
            if (op_norm_axis(n, d, axes[i], rank, &ax))
                return -1;
            m |= (uint64_t)1 << ax;
        }
    }
    *mask = m;
    return 0;
}

/* 1 when node n takes its axes from input 1 and that input is present but not a constant. */
static int red_axes_computed(const IrNode *n) {
    int from_input = n->op == OP_ReduceSum ? n->opset >= 13 : n->opset >= 18;
    IrValue *av = ir_node_in(n, 1);
    return from_input && av && !av->init;
}

/* The declared static type that fixes the shape of n's output: the output's own, or else that of
 * the value reached through a short chain of single-use, shape-preserving ops (unary elementwise
 * ops, Cast, CastLike), as in the expanded function bodies of ReduceL2 or ReduceLogSumExp
 * (ReduceSum -> Sqrt/Log -> CastLike -> graph output). *own is set when it is the output's own
 * type. NULL when there is none. */
static const IrType *red_declared_type(const IrNode *n, int *own) {
    const IrValue *v = n->nout > 0 ? n->out[0] : NULL;
    const IrNode *at = n;
    for (int hop = 0; v && hop < 4; hop++) {
        *own = hop == 0;
        if (v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type))
            return &v->type;
        if (v->nuses != 1)
            return NULL;
        const IrNode *c = at->next;
        while (c && !(c->nin > 0 && c->in[0] == v))
            c = c->next;
        if (!c || c->nout < 1 || (c->domain && c->domain[0]))
            return NULL;
        const OpInfo *oi = op_info(c->op);
        int unary = oi && (oi->flags & OPF_ELEMENTWISE) && oi->max_in == 1;
        if (!unary && strcmp(c->op_type, "Cast") != 0 && strcmp(c->op_type, "CastLike") != 0)
            return NULL;
        v = c->out[0];
        at = c;
    }
    return NULL;
}

/* With computed axes (red_axes_computed), the declared type (red_declared_type) whose shape the
 * output can take, or NULL: of x's element type when it is the output's own, of a shape some set
 * of axes could give (with keepdims: x's rank, each dim x's or 1; without: x's dims with some
 * dropped, where x's dims are known), and the axes input is a 1-D integer tensor. The kernel
 * checks the actual axes at run time. */
static const IrType *red_declared_usable(const IrNode *n, const IrType *x, int keep) {
    int own = 0;
    const IrType *ot = red_declared_type(n, &own);
    const IrValue *av = ir_node_in(n, 1);
    if (!ot || (own && ot->dtype != x->dtype) || ot->rank > x->rank ||
        (keep && ot->rank != x->rank))
        return NULL;
    if (av->type.kind != IR_TYPE_TENSOR || av->type.rank != 1 ||
        (av->type.dtype != IR_DT_INT64 && av->type.dtype != IR_DT_INT32))
        return NULL;
    int j = 0; /* output dims matched so far; unknown input dims match anything */
    for (int i = 0; i < x->rank && j < ot->rank; i++) {
        int64_t xd = x->dims[i].value, od = ot->dims[j].value;
        if (keep) {
            if (xd >= 0 && od != xd && od != 1)
                return NULL;
            j++;
        } else if (xd < 0 || od == xd) {
            j++;
        }
    }
    return j == ot->rank ? ot : NULL;
}

static int reduce_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    int allow_bool = n->op == OP_ReduceMax || n->op == OP_ReduceMin;
    if (check_numeric(n, d, x->dtype, allow_bool))
        return -1;
    const IrType *decl = NULL;
    if (red_axes_computed(n) && x->rank <= IR_MAX_RANK &&
        (decl = red_declared_usable(n, x, ir_attr_int(n, "keepdims", 1) != 0)) != NULL) {
        /* the declared shape is taken; the kernel checks the axes at run time */
        if (decl != &n->out[0]->type && op_set_output(n, 0, x->dtype, decl->rank, decl->dims)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
        return 0;
    }
    uint64_t mask;
    if (red_axes(n, d, x->rank, &mask))
        return -1;
    int keep = ir_attr_int(n, "keepdims", 1) != 0;
    IrDim dims[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if ((mask >> i) & 1u) {
            if (keep)
                dims[r++] = (IrDim){1, NULL};
        } else {
            dims[r++] = x->dims[i];
        }
    }
    if (op_set_output(n, 0, x->dtype, r, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int reduce_lower(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    const char *kernel;
    int code = red_code(n->op, &kernel);
    if (code < 0) {
        ir_error(d, n, "internal: not a reduction");
        return -1;
    }
    uint64_t mask = 0;
    int computed = red_axes_computed(n);
    if (!computed && red_axes(n, d, x->rank, &mask))
        return -1;
    if (computed && (ir_node_attr(n, "axes") || x->rank > IR_MAX_RANK)) {
        ir_error(d, n, "attribute 'axes' is not allowed with an axes input, or rank too large");
        return -1;
    }
    RtReduceParams *p = op_params(n, d, kernel, sizeof(RtReduceParams));
    if (!p)
        return -1;
    p->op = code;
    p->rank = x->rank;
    p->axes_mask = mask;
    p->axes_input = computed;
    p->keepdims = ir_attr_int(n, "keepdims", 1) != 0;
    p->noop_empty = ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
    return 0;
}

#define REDUCE_HOOKS(ID) const OpHooks op_hooks_##ID = {reduce_infer, reduce_lower, NULL};
REDUCE_HOOKS(ReduceSum)
REDUCE_HOOKS(ReduceMean)
REDUCE_HOOKS(ReduceMax)
REDUCE_HOOKS(ReduceMin)
REDUCE_HOOKS(ReduceProd)
REDUCE_HOOKS(ReduceL1)
REDUCE_HOOKS(ReduceL2)
REDUCE_HOOKS(ReduceLogSum)
REDUCE_HOOKS(ReduceLogSumExp)
REDUCE_HOOKS(ReduceSumSquare)

/* ------------------------------------------------------------------ ArgMax / ArgMin */

/* Normalised axis of an ArgMax/ArgMin node over rank `rank`; -1 + diag. */
static int arg_axis(IrNode *n, IrDiag *d, int rank, int64_t *axis) {
    if (rank < 1) {
        ir_error(d, n, "input must have rank >= 1, got a scalar");
        return -1;
    }
    return op_norm_axis(n, d, ir_attr_int(n, "axis", 0), rank, axis);
}

static int arg_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (check_numeric(n, d, x->dtype, 0))
        return -1;
    int64_t axis;
    if (arg_axis(n, d, x->rank, &axis))
        return -1;
    if (x->dims[axis].value == 0) {
        ir_error(d, n, "cannot take %s over axis %lld of size 0", n->op_type, (long long)axis);
        return -1;
    }
    int keep = ir_attr_int(n, "keepdims", 1) != 0;
    IrDim dims[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++) {
        if (i == axis) {
            if (keep)
                dims[r++] = (IrDim){1, NULL};
        } else {
            dims[r++] = x->dims[i];
        }
    }
    if (op_set_output(n, 0, IR_DT_INT64, r, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int arg_lower(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    int64_t axis;
    if (arg_axis(n, d, x->rank, &axis))
        return -1;
    const char *kernel = n->op == OP_ArgMin ? "rt_k_argmin" : "rt_k_argmax";
    RtArgParams *p = op_params(n, d, kernel, sizeof(RtArgParams));
    if (!p)
        return -1;
    p->axis = (int32_t)axis;
    /* select_last_index exists from opset 12; earlier nodes always take the first index */
    p->select_last = n->opset >= 12 && ir_attr_int(n, "select_last_index", 0) != 0;
    return 0;
}

const OpHooks op_hooks_ArgMax = {arg_infer, arg_lower, NULL};
const OpHooks op_hooks_ArgMin = {arg_infer, arg_lower, NULL};

/* ------------------------------------------------------------------ Max / Min / Sum / Mean */

static int var_infer(IrNode *n, IrDiag *d) {
    int nin = n->nin;
    while (nin > 0 && !n->in[nin - 1])
        nin--;
    if (nin < 1) {
        ir_error(d, n, "needs at least one input");
        return -1;
    }
    const IrType *t0 = op_input_tensor(n, d, 0);
    if (!t0)
        return -1;
    int floats_only = n->op == OP_Sum || n->op == OP_Mean;
    if (floats_only ? !is_float_type(t0->dtype) : check_numeric(n, d, t0->dtype, 0) != 0) {
        if (floats_only)
            ir_error(d, n, "element type %s is not supported (expected float, double, float16 "
                     "or bfloat16)", ir_dtype_name(t0->dtype));
        return -1;
    }
    IrType acc = *t0;
    for (int i = 1; i < nin; i++) {
        const IrType *ti = op_input_tensor(n, d, i);
        if (!ti)
            return -1;
        if (ti->dtype != t0->dtype) {
            ir_error(d, n, "input %d has element type %s, input 0 has %s", i,
                     ir_dtype_name(ti->dtype), ir_dtype_name(t0->dtype));
            return -1;
        }
        if (n->opset < 8) {
            /* no broadcasting before opset 8: shapes must agree where known */
            int same = ti->rank == t0->rank;
            for (int k = 0; same && k < t0->rank; k++)
                if (ti->dims[k].value >= 0 && t0->dims[k].value >= 0 &&
                    ti->dims[k].value != t0->dims[k].value)
                    same = 0;
            if (!same) {
                ir_error(d, n, "input %d's shape differs from input 0's (no broadcasting "
                         "before opset 8)", i);
                return -1;
            }
        }
        IrType out;
        if (op_broadcast_shapes(n, d, &acc, ti, &out))
            return -1;
        acc = out;
    }
    if (op_set_output(n, 0, t0->dtype, acc.rank, acc.dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int var_lower(IrNode *n, IrDiag *d) {
    const char *kernel;
    int code;
    switch (n->op) {
    case OP_Max: kernel = "rt_k_var_max"; code = RT_VAR_MAX; break;
    case OP_Min: kernel = "rt_k_var_min"; code = RT_VAR_MIN; break;
    case OP_Sum: kernel = "rt_k_var_sum"; code = RT_VAR_SUM; break;
    case OP_Mean: kernel = "rt_k_var_mean"; code = RT_VAR_MEAN; break;
    default:
        ir_error(d, n, "internal: not a variadic elementwise op");
        return -1;
    }
    for (int i = 0; i < n->nin; i++)
        if (!n->in[i]) {
            ir_error(d, n, "input %d is omitted: every input of %s must be present", i,
                     n->op_type);
            return -1;
        }
    RtVarParams *p = op_params(n, d, kernel, sizeof(RtVarParams));
    if (!p)
        return -1;
    p->op = code;
    return 0;
}

const OpHooks op_hooks_Max = {var_infer, var_lower, NULL};
const OpHooks op_hooks_Min = {var_infer, var_lower, NULL};
const OpHooks op_hooks_Sum = {var_infer, var_lower, NULL};
const OpHooks op_hooks_Mean = {var_infer, var_lower, NULL};
