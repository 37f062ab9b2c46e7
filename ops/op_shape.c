/* op_shape.c - infer and lower hooks of the shape / data movement family: Flatten, Reshape,
 * Transpose, Concat, Squeeze, Unsqueeze, Identity, Constant, Dropout (kernels in
 * runtime/rt_shape.c and the generic rt_k_copy of runtime/rt_core.c).
 *
 * ONNX specification: docs/Operators.md, sections Flatten (1/9/11/13/21/23), Reshape
 * (1/5/13/14/19/21/23), Transpose (1/13/21/23), Concat (1/4/11/13/23), Squeeze and Unsqueeze
 * (1/11/13/21/23: axes an attribute before 13, an optional input from 13), Identity (1/13/14/16
 * /19/21/23), Constant (1/9/11/12/13/19/21/23), Dropout (1/6/7/10/12/13/22).
 *
 * These ops move bytes and accept every element type. The view-like ones (Flatten, Reshape,
 * Squeeze, Unsqueeze, Identity, Dropout without a mask) lower to rt_k_copy. Symbolic dims flow
 * through wherever they are carried unchanged (Transpose, Concat's other dims, Reshape's 0 and a
 * -1 that cancels against the same symbol, Flatten when a product has exactly one symbol).
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* An unknown dim (neither a constant nor a named symbol). */
static IrDim dim_unknown(void) {
    IrDim d = {-1, NULL};
    return d;
}

static IrDim dim_const(int64_t v) {
    IrDim d = {v, NULL};
    return d;
}

/* Product of dims[lo, hi) as one dim: a constant if all are constants; the single symbol when
 * exactly one dim is symbolic and the others are 1; else unknown. -1 + diag on overflow. */
static int dims_product(IrNode *n, IrDiag *d, const IrDim *dims, int lo, int hi, IrDim *out) {
    int64_t p = 1;
    int nsym = 0, unknown = 0;
    const IrDim *sym = NULL;
    for (int i = lo; i < hi; i++) {
        if (dims[i].value >= 0) {
            if (ir_mul_i64(p, dims[i].value, &p)) {
                ir_error(d, n, "dimension product overflows");
                return -1;
            }
        } else if (dims[i].sym) {
            nsym++;
            sym = &dims[i];
        } else {
            unknown = 1;
        }
    }
    if (!unknown && nsym == 0) *out = dim_const(p);
    else if (!unknown && nsym == 1 && p == 1) *out = *sym;
    else if (p == 0) *out = dim_const(0);
    else *out = dim_unknown();
    return 0;
}

/* Sets output 0 to input 0's type (any kind) and lowers nothing else. */
static int copy_input_type(IrNode *n, IrDiag *d) {
    IrValue *x = ir_node_in(n, 0);
    if (!x) {
        ir_error(d, n, "input 0 is missing");
        return -1;
    }
    if (n->nout < 1 || !n->out[0]) return 0;
    if (ir_type_copy(n->graph->arena, &n->out[0]->type, &x->type)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

/* Lowering of the view-like ops: a plain copy of the input's bytes. */
static int lower_copy(IrNode *n, IrDiag *d) {
    if (n->in[0]->type.kind != IR_TYPE_TENSOR) {
        ir_error(d, n, "%s of a non-tensor value is not supported yet", n->op_type);
        return -1;
    }
    return op_params(n, d, "rt_k_copy", 0) ? 0 : -1;
}

/* Reads a constant 1-D integer input (shape, axes) into *out (arena-owned). Returns the count,
 * or -1 + diag naming `what` when the input is not a constant int32/int64 vector. */
static int const_ints_input(IrNode *n, IrDiag *d, int i, const char *what, const int64_t **out) {
    IrValue *v = ir_node_in(n, i);
    if (!v || !v->init) {
        ir_error(d, n, "%s with a computed %s%s is not supported yet (it must be a constant)",
                 n->op_type, what, strcmp(what, "axes") == 0 ? " input" : "");
        return -1;
    }
    if (v->init->rank != 1 || (v->init->dtype != IR_DT_INT64 && v->init->dtype != IR_DT_INT32)) {
        ir_error(d, n, "input %d (%s) must be a 1-D int64 tensor", i, what);
        return -1;
    }
    int k = op_const_ints(n, i, out);
    if (k < 0) ir_error(d, n, "cannot read input %d (%s)", i, what);
    return k;
}

/* A shape/axes input (slot 1) computed at run time can still be compiled when the model declares
 * a static type for the output (as a graph output or in value_info): that type is kept, and the
 * lowering picks rt_k_view_checked, which fails at run time unless the input gives exactly that
 * shape. Returns 1 when the declared type is usable: a static tensor of x's element type with
 * x's element count (when known), of rank `rank` (when rank >= 0), and the computed input is a
 * 1-D integer tensor. */
static int declared_output_usable(IrNode *n, const IrType *x, int rank) {
    IrValue *o = n->nout > 0 ? n->out[0] : NULL;
    IrValue *v = ir_node_in(n, 1);
    if (!o || !v || o->type.kind != IR_TYPE_TENSOR || !ir_type_is_static(&o->type) ||
        o->type.dtype != x->dtype || (rank >= 0 && o->type.rank != rank))
        return 0;
    if (v->type.kind != IR_TYPE_TENSOR || v->type.rank != 1 ||
        (v->type.dtype != IR_DT_INT64 && v->type.dtype != IR_DT_INT32))
        return 0;
    int64_t no, nx;
    if (ir_type_is_static(x) && (ir_type_numel(&o->type, &no) || ir_type_numel(x, &nx) || no != nx))
        return 0;
    return 1;
}

/* 1 if slot 1 (shape/axes) is present and not a constant. */
static int computed_param_input(const IrNode *n) {
    IrValue *v = ir_node_in(n, 1);
    return v && !v->init;
}

/* Lowering of Reshape/Squeeze/Unsqueeze: a copy, or the checked copy when slot 1 is computed. */
static int lower_view_param(IrNode *n, IrDiag *d, int mode, int param_is_input) {
    if (!param_is_input || !computed_param_input(n)) return lower_copy(n, d);
    RtViewCheckParams *p = op_params(n, d, "rt_k_view_checked", sizeof *p);
    if (!p) return -1;
    p->mode = mode;
    p->allowzero = mode == 0 && n->opset >= 14 && ir_attr_int(n, "allowzero", 0) != 0;
    return 0;
}

/* ------------------------------------------------------------------------------------ Flatten */

static int flatten_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    int64_t axis = ir_attr_int(n, "axis", 1);
    /* axis may equal rank (then the output is [prod, 1]); negative from opset 11 */
    if (axis < -x->rank || axis > x->rank || (axis < 0 && n->opset < 11)) {
        ir_error(d, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
        return -1;
    }
    if (axis < 0) axis += x->rank;
    IrDim out[2];
    if (dims_product(n, d, x->dims, 0, (int)axis, &out[0]) ||
        dims_product(n, d, x->dims, (int)axis, x->rank, &out[1]))
        return -1;
    return op_set_output(n, 0, x->dtype, 2, out);
}

const OpHooks op_hooks_Flatten = {flatten_infer, lower_copy, NULL};

/* ------------------------------------------------------------------------------------ Reshape */

/* 1 if two dims are the same symbol. */
static int same_sym(const IrDim *a, const IrDim *b) {
    return a->value < 0 && b->value < 0 && a->sym && b->sym && strcmp(a->sym, b->sym) == 0;
}

static int reshape_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    const int64_t *shape;
    int k;
    if (n->opset < 5) {
        k = ir_attr_ints(n, "shape", &shape);
        if (k < 0) {
            ir_error(d, n, "attribute 'shape' is required by Reshape-%d", n->opset);
            return -1;
        }
    } else {
        if (!ir_node_in(n, 1)) {
            ir_error(d, n, "input 1 (shape) is missing");
            return -1;
        }
        if (computed_param_input(n)) {
            const IrType *st = &n->in[1]->type;
            int rank = st->kind == IR_TYPE_TENSOR && st->rank == 1 ? (int)st->dims[0].value : -1;
            if (declared_output_usable(n, x, rank)) return 0; /* checked at run time */
        }
        k = const_ints_input(n, d, 1, "shape", &shape);
        if (k < 0) return -1;
    }
    if (k > IR_MAX_RANK) {
        ir_error(d, n, "target shape has %d dims (at most %d)", k, IR_MAX_RANK);
        return -1;
    }
    int allowzero = n->opset >= 14 && ir_attr_int(n, "allowzero", 0) != 0;
    IrDim out[IR_MAX_RANK];
    int infer_at = -1, has_zero = 0;
    for (int i = 0; i < k; i++) {
        if (shape[i] == -1) {
            if (infer_at >= 0) {
                ir_error(d, n, "target shape has more than one -1");
                return -1;
            }
            infer_at = i;
            out[i] = dim_unknown();
        } else if (shape[i] < -1) {
            ir_error(d, n, "target shape[%d] is %lld", i, (long long)shape[i]);
            return -1;
        } else if (shape[i] == 0 && !allowzero) {
            if (i >= x->rank) {
                ir_error(d, n, "target shape[%d] is 0 (copy) but the input has rank %d", i,
                         x->rank);
                return -1;
            }
            out[i] = x->dims[i];
        } else {
            has_zero |= shape[i] == 0;
            out[i] = dim_const(shape[i]);
        }
    }
    if (allowzero && has_zero && infer_at >= 0) {
        ir_error(d, n, "target shape has both 0 and -1 with allowzero=1");
        return -1;
    }
    /* Compare element counts: constants multiply, symbols cancel by name. */
    int64_t pin = 1, pout = 1;
    int in_unknown = 0, out_unknown = 0;
    const IrDim *insyms[IR_MAX_RANK];
    int nin = 0;
    for (int i = 0; i < x->rank; i++) {
        if (x->dims[i].value >= 0) {
            if (ir_mul_i64(pin, x->dims[i].value, &pin)) goto overflow;
        } else if (x->dims[i].sym) insyms[nin++] = &x->dims[i];
        else in_unknown = 1;
    }
    int out_sym_left = 0;
    for (int i = 0; i < k; i++) {
        if (i == infer_at) continue;
        if (out[i].value >= 0) {
            if (ir_mul_i64(pout, out[i].value, &pout)) goto overflow;
        } else if (out[i].sym) {
            int j;
            for (j = 0; j < nin; j++)
                if (insyms[j] && same_sym(insyms[j], &out[i])) break;
            if (j < nin) insyms[j] = NULL;
            else out_sym_left = 1;
        } else out_unknown = 1;
    }
    int in_sym_left = 0;
    const IrDim *last_in_sym = NULL;
    for (int j = 0; j < nin; j++)
        if (insyms[j]) {
            in_sym_left++;
            last_in_sym = insyms[j];
        }
    int exact = !in_unknown && !out_unknown && !out_sym_left;
    if (infer_at >= 0) {
        if (exact && in_sym_left == 0) {
            if (pout == 0) {
                if (pin != 0) {
                    ir_error(d, n, "cannot infer -1: the other target dims multiply to 0");
                    return -1;
                }
                out[infer_at] = dim_const(0);
            } else if (pin % pout != 0) {
                ir_error(d, n, "cannot reshape %lld elements into a shape with %lld x -1",
                         (long long)pin, (long long)pout);
                return -1;
            } else out[infer_at] = dim_const(pin / pout);
        } else if (exact && in_sym_left == 1 && pin == pout && pout != 0) {
            out[infer_at] = *last_in_sym;
        }
    } else if (exact && in_sym_left == 0 && pin != pout) {
        ir_error(d, n, "cannot reshape %lld elements into %lld", (long long)pin,
                 (long long)pout);
        return -1;
    }
    return op_set_output(n, 0, x->dtype, k, out);
overflow:
    ir_error(d, n, "element count overflows");
    return -1;
}

static int reshape_lower(IrNode *n, IrDiag *d) {
    return lower_view_param(n, d, 0, n->opset >= 5);
}

const OpHooks op_hooks_Reshape = {reshape_infer, reshape_lower, NULL};

/* ------------------------------------------------------------------------------------ Transpose */

/* Reads perm (default: reversed dims) into perm[0..rank) and checks it is a permutation. */
static int read_perm(IrNode *n, IrDiag *d, int rank, int *perm) {
    const int64_t *p;
    int k = ir_attr_ints(n, "perm", &p);
    if (k < 0) {
        for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
        return 0;
    }
    if (k != rank) {
        ir_error(d, n, "perm has %d entries, the input has rank %d", k, rank);
        return -1;
    }
    unsigned char seen[IR_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        if (p[i] < 0 || p[i] >= rank || seen[p[i]]) {
            ir_error(d, n, "perm is not a permutation of 0..%d (entry %d is %lld)", rank - 1, i,
                     (long long)p[i]);
            return -1;
        }
        seen[p[i]] = 1;
        perm[i] = (int)p[i];
    }
    return 0;
}

static int transpose_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    int perm[IR_MAX_RANK];
    if (read_perm(n, d, x->rank, perm)) return -1;
    IrDim out[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++) out[i] = x->dims[perm[i]];
    return op_set_output(n, 0, x->dtype, x->rank, out);
}

static int transpose_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    int perm[IR_MAX_RANK];
    if (read_perm(n, d, x->rank, perm)) return -1;
    /* an identity permutation is a copy */
    int ident = 1;
    for (int i = 0; i < x->rank; i++) ident &= perm[i] == i;
    if (ident) return op_params(n, d, "rt_k_copy", 0) ? 0 : -1;
    RtTransposeParams *p = op_params(n, d, "rt_k_transpose", sizeof *p);
    if (!p) return -1;
    p->rank = x->rank;
    for (int i = 0; i < x->rank; i++) p->perm[i] = perm[i];
    return 0;
}

const OpHooks op_hooks_Transpose = {transpose_infer, transpose_lower, NULL};

/* ------------------------------------------------------------------------------------ Concat */

/* Normalised axis of a Concat node with inputs of rank `rank`. */
static int concat_axis(IrNode *n, IrDiag *d, int rank, int64_t *axis) {
    const IrAttr *a = ir_node_attr(n, "axis");
    if (!a && n->opset >= 4) {
        ir_error(d, n, "attribute 'axis' is required");
        return -1;
    }
    int64_t v = a ? ir_attr_int(n, "axis", 1) : 1;
    if (v < 0 && n->opset < 11) {
        ir_error(d, n, "negative axis needs Concat-11 or later");
        return -1;
    }
    return op_norm_axis(n, d, v, rank, axis);
}

static int concat_infer(IrNode *n, IrDiag *d) {
    const IrType *x0 = op_input_tensor(n, d, 0);
    if (!x0) return -1;
    if (x0->rank < 1) {
        ir_error(d, n, "inputs must have rank >= 1");
        return -1;
    }
    int64_t axis;
    if (concat_axis(n, d, x0->rank, &axis)) return -1;
    IrDim out[IR_MAX_RANK];
    memcpy(out, x0->dims, sizeof(IrDim) * (size_t)x0->rank);
    int64_t sum = 0;
    int sum_known = 1;
    for (int k = 0; k < n->nin; k++) {
        const IrType *x = op_input_tensor(n, d, k);
        if (!x) return -1;
        if (x->dtype != x0->dtype || x->rank != x0->rank) {
            ir_error(d, n, "input %d is %s of rank %d, input 0 is %s of rank %d", k,
                     ir_dtype_name(x->dtype), x->rank, ir_dtype_name(x0->dtype), x0->rank);
            return -1;
        }
        for (int i = 0; i < x->rank; i++) {
            if (i == axis) continue;
            if (x->dims[i].value >= 0 && out[i].value >= 0 && x->dims[i].value != out[i].value) {
                ir_error(d, n, "input %d has dim %d = %lld, input 0 has %lld", k, i,
                         (long long)x->dims[i].value, (long long)out[i].value);
                return -1;
            }
            if (out[i].value < 0 && x->dims[i].value >= 0) out[i] = x->dims[i];
        }
        if (x->dims[axis].value >= 0) {
            if (ir_add_i64(sum, x->dims[axis].value, &sum)) {
                ir_error(d, n, "dimension overflows");
                return -1;
            }
        } else sum_known = 0;
    }
    out[axis] = sum_known ? dim_const(sum) : (n->nin == 1 ? x0->dims[axis] : dim_unknown());
    return op_set_output(n, 0, x0->dtype, x0->rank, out);
}

static int concat_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    if (concat_axis(n, d, n->in[0]->type.rank, &axis)) return -1;
    RtConcatParams *p = op_params(n, d, "rt_k_concat", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    return 0;
}

const OpHooks op_hooks_Concat = {concat_infer, concat_lower, NULL};

/* ------------------------------------------------------------------------------------ Squeeze */

/* Reads the axes of Squeeze/Unsqueeze: an attribute before opset 13, the optional constant
 * input 1 from 13. Returns the count (-1 + diag on error); *present = 0 when absent. */
static int read_axes(IrNode *n, IrDiag *d, const int64_t **axes, int *present) {
    *present = 0;
    if (n->opset < 13) {
        int k = ir_attr_ints(n, "axes", axes);
        if (k >= 0) *present = 1;
        return k < 0 ? 0 : k;
    }
    if (ir_node_attr(n, "axes")) {
        ir_error(d, n, "axes is an input (not an attribute) from opset 13");
        return -1;
    }
    if (!ir_node_in(n, 1)) return 0;
    *present = 1;
    return const_ints_input(n, d, 1, "axes", axes);
}

/* Normalises axes into [0, rank) and marks them in mark[]; duplicates are an error. */
static int mark_axes(IrNode *n, IrDiag *d, const int64_t *axes, int k, int rank,
                     unsigned char *mark) {
    memset(mark, 0, IR_MAX_RANK);
    for (int i = 0; i < k; i++) {
        int64_t a;
        if (op_norm_axis(n, d, axes[i], rank, &a)) return -1;
        if (mark[a]) {
            ir_error(d, n, "axis %lld is repeated", (long long)axes[i]);
            return -1;
        }
        mark[a] = 1;
    }
    return 0;
}

/* Rank of the output when the axes input (slot 1) has a static length; -1 otherwise. */
static int axes_output_rank(const IrNode *n, const IrType *x, int sign) {
    const IrType *at = &n->in[1]->type;
    if (at->kind != IR_TYPE_TENSOR || at->rank != 1 || at->dims[0].value < 0) return -1;
    return x->rank + sign * (int)at->dims[0].value;
}

static int squeeze_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (n->opset >= 13 && computed_param_input(n) &&
        declared_output_usable(n, x, axes_output_rank(n, x, -1)))
        return 0; /* checked at run time */
    const int64_t *axes = NULL;
    int present;
    int k = read_axes(n, d, &axes, &present);
    if (k < 0) return -1;
    unsigned char mark[IR_MAX_RANK];
    if (present) {
        if (mark_axes(n, d, axes, k, x->rank, mark)) return -1;
        for (int i = 0; i < x->rank; i++)
            if (mark[i] && x->dims[i].value >= 0 && x->dims[i].value != 1) {
                ir_error(d, n, "cannot squeeze axis %d of size %lld", i,
                         (long long)x->dims[i].value);
                return -1;
            }
    } else {
        for (int i = 0; i < x->rank; i++) {
            if (x->dims[i].value < 0) {
                ir_error(d, n, "Squeeze without axes on a symbolic dim (%d) is not supported yet",
                         i);
                return -1;
            }
            mark[i] = x->dims[i].value == 1;
        }
    }
    IrDim out[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < x->rank; i++)
        if (!mark[i]) out[r++] = x->dims[i];
    return op_set_output(n, 0, x->dtype, r, out);
}

static int squeeze_lower(IrNode *n, IrDiag *d) {
    return lower_view_param(n, d, 1, n->opset >= 13);
}

const OpHooks op_hooks_Squeeze = {squeeze_infer, squeeze_lower, NULL};

static int unsqueeze_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (n->opset >= 13 && computed_param_input(n) &&
        declared_output_usable(n, x, axes_output_rank(n, x, 1)))
        return 0; /* checked at run time */
    const int64_t *axes = NULL;
    int present;
    int k = read_axes(n, d, &axes, &present);
    if (k < 0) return -1;
    if (!present) {
        ir_error(d, n, "axes are required");
        return -1;
    }
    int r = x->rank + k;
    if (r > IR_MAX_RANK) {
        ir_error(d, n, "output rank %d exceeds %d", r, IR_MAX_RANK);
        return -1;
    }
    unsigned char mark[IR_MAX_RANK];
    if (mark_axes(n, d, axes, k, r, mark)) return -1;
    IrDim out[IR_MAX_RANK];
    for (int i = 0, j = 0; i < r; i++) out[i] = mark[i] ? dim_const(1) : x->dims[j++];
    return op_set_output(n, 0, x->dtype, r, out);
}

static int unsqueeze_lower(IrNode *n, IrDiag *d) {
    return lower_view_param(n, d, 2, n->opset >= 13);
}

const OpHooks op_hooks_Unsqueeze = {unsqueeze_infer, unsqueeze_lower, NULL};

/* ------------------------------------------------------------------------------------ Identity */

const OpHooks op_hooks_Identity = {copy_input_type, lower_copy, NULL};

/* ------------------------------------------------------------------------------------ Constant */

/* Builds the constant from whichever value attribute the node has and makes it the output's
 * init, so later passes treat the output as an embedded weight (pass_lower skips the node). */
static int constant_infer(IrNode *n, IrDiag *d) {
    static const char *const names[] = {"value",        "value_float",  "value_floats",
                                        "value_int",    "value_ints",   "value_string",
                                        "value_strings", "sparse_value"};
    const IrAttr *a = NULL;
    int count = 0;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const IrAttr *t = ir_node_attr(n, names[i]);
        if (t) {
            a = t;
            count++;
        }
    }
    if (count != 1) {
        ir_error(d, n, "exactly one value attribute is required (found %d)", count);
        return -1;
    }
    IrArena *ar = n->graph->arena;
    IrTensor *t = NULL;
    int64_t len;
    switch (a->kind) {
    case IR_ATTR_TENSOR:
    case IR_ATTR_SPARSE_TENSOR: /* the frontend densifies sparse values */
        t = a->t;
        if (!t) {
            ir_error(d, n, "attribute '%s' has no tensor", a->name);
            return -1;
        }
        break;
    case IR_ATTR_FLOAT:
        t = ir_tensor_new(ar, IR_DT_FLOAT, 0, NULL);
        if (t) *(float *)t->data = a->f;
        break;
    case IR_ATTR_INT:
        t = ir_tensor_new(ar, IR_DT_INT64, 0, NULL);
        if (t) *(int64_t *)t->data = a->i;
        break;
    case IR_ATTR_STRING:
        t = ir_tensor_new(ar, IR_DT_STRING, 0, NULL);
        if (t) *(IrString *)t->data = a->s;
        break;
    case IR_ATTR_FLOATS:
        len = a->n;
        t = ir_tensor_new(ar, IR_DT_FLOAT, 1, &len);
        if (t && a->n) memcpy(t->data, a->floats, sizeof(float) * (size_t)a->n);
        break;
    case IR_ATTR_INTS:
        len = a->n;
        t = ir_tensor_new(ar, IR_DT_INT64, 1, &len);
        if (t && a->n) memcpy(t->data, a->ints, sizeof(int64_t) * (size_t)a->n);
        break;
    case IR_ATTR_STRINGS:
        len = a->n;
        t = ir_tensor_new(ar, IR_DT_STRING, 1, &len);
        if (t && a->n) memcpy(t->data, a->strings, sizeof(IrString) * (size_t)a->n);
        break;
    default:
        ir_error(d, n, "attribute '%s' has an unexpected kind %d", a->name, (int)a->kind);
        return -1;
    }
    if (!t) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    if (n->nout < 1 || !n->out[0]) return 0;
    if (op_set_output_static(n, 0, t->dtype, t->rank, t->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    n->out[0]->init = t;
    return 0;
}

/* No lower hook: the value is embedded, nothing runs. */
const OpHooks op_hooks_Constant = {constant_infer, NULL, NULL};

/* ------------------------------------------------------------------------------------ Dropout */

/* Reads a constant scalar input as a double; 1 if read, 0 if absent, -1 + diag if not constant. */
static int const_scalar(IrNode *n, IrDiag *d, int i, const char *what, double *out) {
    IrValue *v = ir_node_in(n, i);
    if (!v) return 0;
    if (!v->init || v->init->numel != 1) {
        ir_error(d, n, "%s must be a constant scalar (computed values are not supported yet)",
                 what);
        return -1;
    }
    const void *p = v->init->data;
    switch (v->init->dtype) {
    case IR_DT_FLOAT: *out = *(const float *)p; break;
    case IR_DT_DOUBLE: *out = *(const double *)p; break;
    case IR_DT_BOOL: *out = *(const uint8_t *)p; break;
    case IR_DT_FLOAT16: {
        /* only the sign/zero matters for ratio > 0: nonzero magnitude bits mean nonzero */
        uint16_t h = *(const uint16_t *)p;
        *out = (h & 0x7fff) ? ((h & 0x8000) ? -1.0 : 1.0) : 0.0;
        break;
    }
    default:
        ir_error(d, n, "%s has unexpected element type %s", what,
                 ir_dtype_name(v->init->dtype));
        return -1;
    }
    return 1;
}

/* Dropout-12+: 1 when training_mode or ratio is computed at run time (where training with
 * ratio > 0 matters), so that rt_k_dropout_train decides at run time; 0 otherwise. */
static int dropout_runtime(const IrNode *n) {
    IrValue *t = ir_node_in(n, 2), *r = ir_node_in(n, 1);
    if (n->opset < 12 || !t) return 0;
    if (!t->init) return 1;
    /* a constant true training_mode with a computed ratio */
    return t->init->numel == 1 && t->init->dtype == IR_DT_BOOL &&
           *(const uint8_t *)t->init->data != 0 && r && !r->init;
}

static int dropout_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (n->opset >= 12 && !dropout_runtime(n)) {
        /* ratio only matters in training mode: read it (it must then be constant) only when
         * training_mode is present and true */
        double ratio = 0.5, training = 0;
        if (const_scalar(n, d, 2, "training_mode", &training) < 0) return -1;
        if (training != 0) {
            if (const_scalar(n, d, 1, "ratio", &ratio) < 0) return -1;
            if (ratio < 0 || ratio >= 1) {
                ir_error(d, n, "ratio %g is outside [0, 1)", ratio);
                return -1;
            }
            if (ratio > 0) {
                ir_error(d, n, "unsupported: Dropout in training mode (ratio %g) draws a random "
                         "mask; onnxc does not implement random dropout", ratio);
                return -1;
            }
        }
    } else if (n->opset < 12) {
        float ratio = ir_attr_float(n, "ratio", 0.5f);
        if (ratio < 0 || ratio >= 1) {
            ir_error(d, n, "ratio %g is outside [0, 1)", (double)ratio);
            return -1;
        }
    }
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims)) return -1;
    /* the mask is bool from opset 10, of the data type before */
    if (n->nout > 1 && op_set_output(n, 1, n->opset >= 10 ? IR_DT_BOOL : x->dtype, x->rank,
                                     x->dims))
        return -1;
    return 0;
}

static int dropout_lower(IrNode *n, IrDiag *d) {
    if (dropout_runtime(n)) return op_params(n, d, "rt_k_dropout_train", 0) ? 0 : -1;
    if (n->nout > 1 && n->out[1]) {
        if (n->out[1]->type.dtype != IR_DT_BOOL) {
            ir_error(d, n, "a non-bool Dropout mask (opset < 10) is not supported yet");
            return -1;
        }
        return op_params(n, d, "rt_k_dropout_mask", 0) ? 0 : -1;
    }
    return op_params(n, d, "rt_k_copy", 0) ? 0 : -1;
}

const OpHooks op_hooks_Dropout = {dropout_infer, dropout_lower, NULL};
