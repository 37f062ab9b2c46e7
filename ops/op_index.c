/* op_index.c - infer and lower hooks of the indexing and shape-computation family: Shape, Size,
 * ConstantOfShape, Gather, GatherElements, GatherND, Slice, Split, Expand, Tile, Range, Pad,
 * OneHot, ScatterElements, Scatter, ScatterND, Trilu, CumSum, EyeLike, DepthToSpace,
 * SpaceToDepth (kernels in runtime/rt_index.c, parameter blocks in runtime/rt_params_index.h).
 *
 * ONNX specification: docs/Operators.md, sections Shape (1/13/15/19/21/23), Size (1/13/19/21/23),
 * ConstantOfShape (9/20/21/23), Gather (1/11/13), GatherElements (11/13), GatherND (11/12/13),
 * Slice (1/10/11/13: attributes before 10, inputs from 10), Split (1/2/11/13/18: `split` an
 * attribute before 13 (or input 1 in Split-1), an input from 13, num_outputs from 18), Expand
 * (8/13), Tile (6/13), Range (11), Pad (1/2/11/13/18/19/21/23: pads an attribute before 11, an
 * input from 11, axes from 18, wrap mode from 19), OneHot (9/11), ScatterElements
 * (11/13/16/18), Scatter (9/11), ScatterND (11/13/16/18), Trilu (14), CumSum (11/14), EyeLike
 * (9/22), DepthToSpace (1/11/13), SpaceToDepth (1/13).
 *
 * Static shapes. Every output shape must be known at compile time. When an input that determines
 * it (Slice starts, Expand shape, Tile repeats, Range limits, OneHot depth, Pad pads, Split
 * sizes, ConstantOfShape shape) is a constant, infer computes the shape from it. When it is
 * computed at run time and the model declares a static output type (graph output or
 * value_info), that type is kept and the kernel checks at run time that the input gives exactly
 * it; otherwise the node is rejected ("unsupported: ... computed at run time").
 *
 * Compile-time values. When every input of a node is a constant (or, for Shape and Size, when
 * the input's shape is static), infer evaluates the node at once with its own kernel and stores
 * the result as the output's init, so that shape chains such as Shape -> Gather -> Unsqueeze ->
 * Concat -> Reshape resolve during inference (the node then is not lowered). Results above
 * IDX_FOLD_CAP bytes are left to the fold pass and the run time.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

/* Largest total output size (bytes) infer evaluates at compile time. */
#define IDX_FOLD_CAP ((int64_t)4 << 20)

static IrDim dim_const(int64_t v) {
    IrDim d = {v, NULL};
    return d;
}

static IrDim dim_unknown(void) {
    IrDim d = {-1, NULL};
    return d;
}

static int is_int_index_type(IrDType dt) { return dt == IR_DT_INT64 || dt == IR_DT_INT32; }

/* ------------------------------------------------------------------------ shared helpers */

/* Compile-time evaluation of this family's nodes (op_fold_node, ops/op_table.c) with the
 * family's larger cap. */
static int fold_now(IrNode *n, IrDiag *d) { return op_fold_node(n, d, IDX_FOLD_CAP); }

/* Sets output 0 and then tries fold_now. */
static int set_out_fold(IrNode *n, IrDiag *d, IrDType dt, int rank, const IrDim *dims) {
    if (op_set_output(n, 0, dt, rank, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return fold_now(n, d);
}

/* 1 if input i is present and a constant. */
static int is_const(const IrNode *n, int i) {
    IrValue *v = ir_node_in(n, i);
    return v && v->init;
}

/* 1 if input i is present and computed at run time. */
static int is_computed(const IrNode *n, int i) {
    IrValue *v = ir_node_in(n, i);
    return v && !v->init;
}

/* The model's declared type of output i is used when the input `what` that determines its shape
 * is computed at run time: it must be a static tensor of element type dt (unless dt is
 * IR_DT_UNDEFINED) and rank `rank` (unless rank < 0); the kernel then checks the shape at run
 * time. Returns 0 if usable, else -1 with the "unsupported" diagnostic. */
static int keep_declared(IrNode *n, IrDiag *d, int i, IrDType dt, int rank, const char *what) {
    IrValue *o = i < n->nout ? n->out[i] : NULL;
    if (!o) return 0;
    if (o->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&o->type) &&
        (dt == IR_DT_UNDEFINED || o->type.dtype == dt) && (rank < 0 || o->type.rank == rank))
        return 0;
    /* Ops whose kernel computes the output shape (OPF_DYN_SHAPE): every dim becomes a fresh
     * symbol `<output>?<k>` bound when the kernel runs (docs/DYNAMIC_SHAPES.md). */
    const OpInfo *oi = op_info(n->op);
    if (oi && (oi->flags & OPF_DYN_SHAPE) && rank >= 0 && rank <= IR_MAX_RANK &&
        dt != IR_DT_UNDEFINED) {
        IrDim dims[IR_MAX_RANK];
        for (int k = 0; k < rank; k++) {
            char buf[256];
            snprintf(buf, sizeof buf, "%s?%d", o->name ? o->name : "out", k);
            dims[k] = (IrDim){-1, ir_arena_strdup(n->graph->arena, buf)};
            if (!dims[k].sym) {
                ir_error(d, n, "out of memory");
                return -1;
            }
        }
        if (op_set_output(n, i, dt, rank, dims)) {
            ir_error(d, n, "out of memory");
            return -1;
        }
        return 0;
    }
    ir_error(d, n,
             "unsupported: the output shape of %s depends on the value of its %s input, which is "
             "computed at run time (only static shapes are supported: make it a constant or "
             "declare a static output type in the model)",
             n->op_type, what);
    return -1;
}

/* Reads the constant input i (int32/int64, rank 0 or 1) into an arena array; returns the count
 * or -1 + diag naming `what`. */
static int const_ints(IrNode *n, IrDiag *d, int i, const char *what, const int64_t **out) {
    IrValue *v = ir_node_in(n, i);
    if (!v || !v->init || !is_int_index_type(v->init->dtype) || v->init->rank > 1) {
        ir_error(d, n, "input %d (%s) must be a constant 1-D int64 tensor", i, what);
        return -1;
    }
    int k = op_const_ints(n, i, out);
    if (k < 0) ir_error(d, n, "cannot read input %d (%s)", i, what);
    return k;
}

/* Element k of a constant numeric tensor as a double; -1 for other element types. */
static int tensor_f64(const IrTensor *t, int64_t k, double *v) {
    const void *p = t->data;
    switch (t->dtype) {
    case IR_DT_FLOAT: *v = ((const float *)p)[k]; return 0;
    case IR_DT_DOUBLE: *v = ((const double *)p)[k]; return 0;
    case IR_DT_UINT8: *v = ((const uint8_t *)p)[k]; return 0;
    case IR_DT_INT8: *v = ((const int8_t *)p)[k]; return 0;
    case IR_DT_UINT16: *v = ((const uint16_t *)p)[k]; return 0;
    case IR_DT_INT16: *v = ((const int16_t *)p)[k]; return 0;
    case IR_DT_INT32: *v = ((const int32_t *)p)[k]; return 0;
    case IR_DT_INT64: *v = (double)((const int64_t *)p)[k]; return 0;
    case IR_DT_UINT32: *v = ((const uint32_t *)p)[k]; return 0;
    case IR_DT_UINT64: *v = (double)((const uint64_t *)p)[k]; return 0;
    case IR_DT_BOOL: *v = ((const uint8_t *)p)[k] != 0; return 0;
    case IR_DT_FLOAT16: *v = rt_h2f(((const uint16_t *)p)[k]); return 0;
    case IR_DT_BFLOAT16: *v = rt_bf2f(((const uint16_t *)p)[k]); return 0;
    default: return -1;
    }
}

/* Reads a constant one-element input as an int64 (integers exactly, others truncated). Returns
 * 1 if read, 0 if the input is absent or computed, -1 + diag if malformed. */
static int const_scalar_i64(IrNode *n, IrDiag *d, int i, const char *what, int64_t *out) {
    IrValue *v = ir_node_in(n, i);
    if (!v || !v->init) return 0;
    const IrTensor *t = v->init;
    double x;
    if (t->numel != 1 || t->rank > 1) {
        ir_error(d, n, "input %d (%s) must hold exactly one value", i, what);
        return -1;
    }
    if (t->dtype == IR_DT_INT64) *out = *(const int64_t *)t->data;
    else if (tensor_f64(t, 0, &x) == 0 && x == x && fabs(x) < 9.2e18) *out = (int64_t)x;
    else {
        ir_error(d, n, "input %d (%s) has an unsupported element type %s", i, what,
                 ir_dtype_name(t->dtype));
        return -1;
    }
    return 1;
}

/* Requires input i to be an int32/int64 tensor (indices). */
static const IrType *index_input(IrNode *n, IrDiag *d, int i) {
    const IrType *t = op_input_tensor(n, d, i);
    if (t && !is_int_index_type(t->dtype)) {
        ir_error(d, n, "input %d must be int32 or int64 indices, not %s", i,
                 ir_dtype_name(t->dtype));
        return NULL;
    }
    return t;
}

/* Copies x's type to output 0 (same element type and shape); then fold_now. */
static int same_as_input(IrNode *n, IrDiag *d, const IrType *x) {
    return set_out_fold(n, d, x->dtype, x->rank, x->dims);
}

/* ------------------------------------------------------------------------ Shape */

/* start/end of Shape-15+ normalised and clamped into [0, rank], start <= end. */
static void shape_range(const IrNode *n, int rank, int *start, int *end) {
    int64_t s = 0, e = rank;
    if (n->opset >= 15) {
        s = ir_attr_int(n, "start", 0);
        e = ir_attr_int(n, "end", rank);
    }
    if (s < 0) s += rank;
    if (e < 0) e += rank;
    s = s < 0 ? 0 : s > rank ? rank : s;
    e = e < 0 ? 0 : e > rank ? rank : e;
    if (e < s) e = s;
    *start = (int)s;
    *end = (int)e;
}

static int shape_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    int s, e;
    shape_range(n, x->rank, &s, &e);
    int64_t len = e - s;
    if (op_set_output_static(n, 0, IR_DT_INT64, 1, &len)) goto oom;
    int known = 1;
    for (int i = s; i < e; i++) known &= x->dims[i].value >= 0;
    if (known && n->nout > 0 && n->out[0]) {
        IrTensor *t = ir_tensor_new(n->graph->arena, IR_DT_INT64, 1, &len);
        if (!t) goto oom;
        for (int i = s; i < e; i++) ((int64_t *)t->data)[i - s] = x->dims[i].value;
        t->name = n->out[0]->name;
        n->out[0]->init = t;
    }
    return 0;
oom:
    ir_error(d, n, "out of memory");
    return -1;
}

static int shape_lower(IrNode *n, IrDiag *d) {
    RtShapeParams *p = op_params(n, d, "rt_k_shape", sizeof *p);
    if (!p) return -1;
    int s, e;
    shape_range(n, n->in[0]->type.rank, &s, &e);
    p->start = s;
    p->end = e;
    return 0;
}

const OpHooks op_hooks_Shape = {shape_infer, shape_lower, NULL};

/* ------------------------------------------------------------------------ Size */

static int size_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (op_set_output_static(n, 0, IR_DT_INT64, 0, NULL)) goto oom;
    int64_t numel;
    if (ir_type_numel(x, &numel) == 0 && n->nout > 0 && n->out[0]) {
        IrTensor *t = ir_tensor_new(n->graph->arena, IR_DT_INT64, 0, NULL);
        if (!t) goto oom;
        *(int64_t *)t->data = numel;
        t->name = n->out[0]->name;
        n->out[0]->init = t;
    }
    return 0;
oom:
    ir_error(d, n, "out of memory");
    return -1;
}

static int size_lower(IrNode *n, IrDiag *d) { return op_params(n, d, "rt_k_size", 0) ? 0 : -1; }

const OpHooks op_hooks_Size = {size_infer, size_lower, NULL};

/* ------------------------------------------------------------------------ ConstantOfShape */

/* The value attribute: a one-element tensor (default float 0). NULL + diag if malformed;
 * *dflt receives a float zero when absent. */
static const IrTensor *cos_value(IrNode *n, IrDiag *d, IrTensor *dflt) {
    const IrAttr *a = ir_node_attr(n, "value");
    if (!a) {
        static const int64_t one = 1;
        static float zero = 0.0f;
        memset(dflt, 0, sizeof *dflt);
        dflt->dtype = IR_DT_FLOAT;
        dflt->rank = 1;
        dflt->dims = (int64_t *)&one;
        dflt->numel = 1;
        dflt->data = &zero;
        dflt->nbytes = sizeof zero;
        return dflt;
    }
    if ((a->kind != IR_ATTR_TENSOR && a->kind != IR_ATTR_SPARSE_TENSOR) || !a->t ||
        a->t->numel != 1) {
        ir_error(d, n, "attribute 'value' must be a one-element tensor");
        return NULL;
    }
    if (a->t->dtype == IR_DT_STRING || ir_dtype_size(a->t->dtype) > 16) {
        ir_error(d, n, "a %s value is not supported", ir_dtype_name(a->t->dtype));
        return NULL;
    }
    return a->t;
}

static int cos_infer(IrNode *n, IrDiag *d) {
    IrTensor dflt;
    const IrTensor *val = cos_value(n, d, &dflt);
    const IrType *st = op_input_tensor(n, d, 0);
    if (!val || !st) return -1;
    if (!is_int_index_type(st->dtype) || st->rank != 1) {
        ir_error(d, n, "input 0 (shape) must be a 1-D int64 tensor");
        return -1;
    }
    if (!is_const(n, 0))
        return keep_declared(n, d, 0, val->dtype, (int)st->dims[0].value, "shape");
    const int64_t *shape;
    int k = const_ints(n, d, 0, "shape", &shape);
    if (k < 0) return -1;
    if (k > IR_MAX_RANK) {
        ir_error(d, n, "shape has %d dims (at most %d)", k, IR_MAX_RANK);
        return -1;
    }
    for (int i = 0; i < k; i++)
        if (shape[i] < 0) {
            ir_error(d, n, "shape[%d] is %lld", i, (long long)shape[i]);
            return -1;
        }
    if (op_set_output_static(n, 0, val->dtype, k, shape)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return fold_now(n, d);
}

static int cos_lower(IrNode *n, IrDiag *d) {
    IrTensor dflt;
    const IrTensor *val = cos_value(n, d, &dflt);
    if (!val) return -1;
    RtConstantOfShapeParams *p = op_params(n, d, "rt_k_constant_of_shape", sizeof *p);
    if (!p) return -1;
    p->size = (int32_t)ir_dtype_size(val->dtype);
    memcpy(p->value, val->data, (size_t)p->size);
    return 0;
}

const OpHooks op_hooks_ConstantOfShape = {cos_infer, cos_lower, NULL};

/* ------------------------------------------------------------------------ Gather */

static int gather_axis(IrNode *n, IrDiag *d, int rank, int64_t *axis) {
    return op_norm_axis(n, d, ir_attr_int(n, "axis", 0), rank, axis);
}

static int gather_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *ix = index_input(n, d, 1);
    if (!x || !ix) return -1;
    int64_t axis;
    if (x->rank < 1) {
        ir_error(d, n, "data must have rank >= 1");
        return -1;
    }
    if (gather_axis(n, d, x->rank, &axis)) return -1;
    int r = x->rank - 1 + ix->rank;
    if (r > IR_MAX_RANK) {
        ir_error(d, n, "output rank %d exceeds %d", r, IR_MAX_RANK);
        return -1;
    }
    IrDim out[IR_MAX_RANK];
    int k = 0;
    for (int i = 0; i < axis; i++) out[k++] = x->dims[i];
    for (int i = 0; i < ix->rank; i++) out[k++] = ix->dims[i];
    for (int i = (int)axis + 1; i < x->rank; i++) out[k++] = x->dims[i];
    return set_out_fold(n, d, x->dtype, r, out);
}

static int gather_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    if (gather_axis(n, d, n->in[0]->type.rank, &axis)) return -1;
    RtAxisParams *p = op_params(n, d, "rt_k_gather", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    return 0;
}

const OpHooks op_hooks_Gather = {gather_infer, gather_lower, NULL};

/* ------------------------------------------------------------------------ GatherElements */

/* Shared checks of GatherElements/ScatterElements: same ranks, normalised axis. */
static int elements_check(IrNode *n, IrDiag *d, const IrType *x, const IrType *ix,
                          int64_t *axis) {
    if (x->rank < 1 || ix->rank != x->rank) {
        ir_error(d, n, "data (rank %d) and indices (rank %d) must have the same rank >= 1",
                 x->rank, ix->rank);
        return -1;
    }
    return op_norm_axis(n, d, ir_attr_int(n, "axis", 0), x->rank, axis);
}

static int gather_elements_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *ix = index_input(n, d, 1);
    int64_t axis;
    if (!x || !ix || elements_check(n, d, x, ix, &axis)) return -1;
    return set_out_fold(n, d, x->dtype, ix->rank, ix->dims);
}

static int gather_elements_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    if (op_norm_axis(n, d, ir_attr_int(n, "axis", 0), n->in[0]->type.rank, &axis)) return -1;
    RtAxisParams *p = op_params(n, d, "rt_k_gather_elements", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    return 0;
}

const OpHooks op_hooks_GatherElements = {gather_elements_infer, gather_elements_lower, NULL};

/* ------------------------------------------------------------------------ GatherND */

static int gather_nd_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *ix = index_input(n, d, 1);
    if (!x || !ix) return -1;
    int64_t b = n->opset >= 12 ? ir_attr_int(n, "batch_dims", 0) : 0;
    int q = ix->rank, r = x->rank;
    if (q < 1 || r < 1 || b < 0 || b >= q || b >= r) {
        ir_error(d, n, "bad ranks (data %d, indices %d) for batch_dims %lld", r, q, (long long)b);
        return -1;
    }
    int64_t m = ix->dims[q - 1].value;
    if (m < 0) {
        ir_error(d, n, "the last dim of indices must be known at compile time");
        return -1;
    }
    if (m < 1 || m > r - b) {
        ir_error(d, n, "index tuples of %lld values for data of rank %d (batch_dims %lld)",
                 (long long)m, r, (long long)b);
        return -1;
    }
    IrDim out[2 * IR_MAX_RANK];
    int k = 0;
    for (int i = 0; i < q - 1; i++) out[k++] = ix->dims[i];
    for (int i = (int)(b + m); i < r; i++) out[k++] = x->dims[i];
    if (k > IR_MAX_RANK) {
        ir_error(d, n, "output rank %d exceeds %d", k, IR_MAX_RANK);
        return -1;
    }
    return set_out_fold(n, d, x->dtype, k, out);
}

static int gather_nd_lower(IrNode *n, IrDiag *d) {
    RtGatherNDParams *p = op_params(n, d, "rt_k_gather_nd", sizeof *p);
    if (!p) return -1;
    p->batch_dims = n->opset >= 12 ? (int32_t)ir_attr_int(n, "batch_dims", 0) : 0;
    return 0;
}

const OpHooks op_hooks_GatherND = {gather_nd_infer, gather_nd_lower, NULL};

/* ------------------------------------------------------------------------ Slice */

/* Slice parameters per data dim, resolved from constants (attributes before opset 10, inputs
 * from 10). */
typedef struct SliceSpec {
    int64_t start[IR_MAX_RANK]; /* first index read */
    int64_t step[IR_MAX_RANK];  /* increment */
    IrDim len[IR_MAX_RANK];     /* output dim */
} SliceSpec;

/* 1 when Slice's starts/ends/axes/steps are all known at compile time. */
static int slice_params_const(const IrNode *n) {
    if (n->opset < 10) return 1;
    for (int i = 1; i < 5; i++)
        if (is_computed(n, i)) return 0;
    return 1;
}

/* Resolves the constant slice parameters against x's dims (ONNX Slice-10 rules: negative
 * starts/ends count from the end, then clamp to [0, dim] (step > 0) or [-1, dim-1] (step < 0)).
 * A sliced symbolic dim gives an unknown output dim unless the slice takes all of it. */
static int slice_spec(IrNode *n, IrDiag *d, const IrType *x, SliceSpec *sp) {
    const int64_t *starts, *ends, *axes = NULL, *steps = NULL;
    int k, ke, ka = -1, ks = -1, r = x->rank;
    if (n->opset < 10) {
        k = ir_attr_ints(n, "starts", &starts);
        ke = ir_attr_ints(n, "ends", &ends);
        ka = ir_attr_ints(n, "axes", &axes);
        if (k < 0 || ke < 0) {
            ir_error(d, n, "attributes 'starts' and 'ends' are required by Slice-%d", n->opset);
            return -1;
        }
    } else {
        k = const_ints(n, d, 1, "starts", &starts);
        if (k < 0) return -1;
        ke = const_ints(n, d, 2, "ends", &ends);
        if (ke < 0) return -1;
        if (ir_node_in(n, 3) && (ka = const_ints(n, d, 3, "axes", &axes)) < 0) return -1;
        if (ir_node_in(n, 4) && (ks = const_ints(n, d, 4, "steps", &steps)) < 0) return -1;
    }
    if (ke != k || (ka >= 0 && ka != k) || (ks >= 0 && ks != k) || k > r) {
        ir_error(d, n, "starts, ends, axes and steps must have one length <= rank %d", r);
        return -1;
    }
    unsigned char seen[IR_MAX_RANK] = {0};
    for (int i = 0; i < r; i++) {
        sp->start[i] = 0;
        sp->step[i] = 1;
        sp->len[i] = x->dims[i];
    }
    for (int i = 0; i < k; i++) {
        int64_t a;
        if (op_norm_axis(n, d, ka >= 0 ? axes[i] : i, r, &a)) return -1;
        if (seen[a]) {
            ir_error(d, n, "axis %lld is repeated", (long long)a);
            return -1;
        }
        seen[a] = 1;
        int64_t s = starts[i], e = ends[i], st = ks >= 0 ? steps[i] : 1, dim = x->dims[a].value;
        if (st == 0) {
            ir_error(d, n, "steps[%d] is 0", i);
            return -1;
        }
        sp->step[a] = st;
        if (dim < 0) {
            /* symbolic: only the whole dim keeps it */
            if (st == 1 && s == 0 && e >= INT32_MAX) sp->len[a] = x->dims[a];
            else sp->len[a] = dim_unknown();
            sp->start[a] = s;
            continue;
        }
        if (s < 0) s += dim;
        if (e < 0) e += dim;
        int64_t l;
        if (st > 0) {
            s = s < 0 ? 0 : s > dim ? dim : s;
            e = e < 0 ? 0 : e > dim ? dim : e;
            l = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
            e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
            l = s > e ? (st < -dim - 1 ? 1 : (s - e - 1) / -st + 1) : 0;
        }
        sp->start[a] = s;
        sp->len[a] = dim_const(l);
    }
    return 0;
}

static int slice_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (n->opset >= 10) {
        for (int i = 1; i < 5; i++) {
            IrValue *v = ir_node_in(n, i);
            if (v && (v->type.kind != IR_TYPE_TENSOR || !is_int_index_type(v->type.dtype))) {
                ir_error(d, n, "input %d must be an int32/int64 tensor", i);
                return -1;
            }
        }
        if (!ir_node_in(n, 1) || !ir_node_in(n, 2)) {
            ir_error(d, n, "inputs 1 (starts) and 2 (ends) are required");
            return -1;
        }
    }
    if (!slice_params_const(n)) return keep_declared(n, d, 0, x->dtype, x->rank, "starts/ends");
    SliceSpec sp;
    if (slice_spec(n, d, x, &sp)) return -1;
    return set_out_fold(n, d, x->dtype, x->rank, sp.len);
}

static int slice_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    RtSliceParams *p = op_params(n, d, "rt_k_slice", sizeof *p);
    if (!p) return -1;
    p->rank = x->rank;
    if (!slice_params_const(n)) {
        p->from_inputs = 1;
        return 0;
    }
    SliceSpec sp;
    if (slice_spec(n, d, x, &sp)) return -1;
    for (int i = 0; i < x->rank; i++) {
        p->start[i] = sp.start[i];
        p->step[i] = sp.step[i];
    }
    return 0;
}

const OpHooks op_hooks_Slice = {slice_infer, slice_lower, NULL};

/* ------------------------------------------------------------------------ Split */

static int split_axis(IrNode *n, IrDiag *d, int rank, int64_t *axis) {
    return op_norm_axis(n, d, ir_attr_int(n, "axis", 0), rank, axis);
}

/* Index of the input holding `split`, or -1 (Split-1 and Split-13+ take it as input 1). */
static int split_input_slot(const IrNode *n) {
    return (n->opset >= 13 || n->opset < 2) && ir_node_in(n, 1) ? 1 : -1;
}

static int split_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    int64_t axis;
    if (x->rank < 1) {
        ir_error(d, n, "input must have rank >= 1");
        return -1;
    }
    if (split_axis(n, d, x->rank, &axis)) return -1;
    int nout = n->nout, slot = split_input_slot(n);
    const int64_t *split = NULL;
    int k = -1;
    if (slot >= 0) {
        IrValue *v = n->in[slot];
        if (v->type.kind != IR_TYPE_TENSOR || !is_int_index_type(v->type.dtype)) {
            ir_error(d, n, "input 'split' must be an int64 tensor");
            return -1;
        }
        if (!v->init) {
            for (int i = 0; i < nout; i++)
                if (keep_declared(n, d, i, x->dtype, x->rank, "split")) return -1;
            return 0;
        }
        k = const_ints(n, d, slot, "split", &split);
        if (k < 0) return -1;
    } else if (n->opset < 13) {
        k = ir_attr_ints(n, "split", &split);
    }
    IrDim dims[IR_MAX_RANK];
    memcpy(dims, x->dims, sizeof(IrDim) * (size_t)x->rank);
    int64_t dim = x->dims[axis].value;
    if (k >= 0) {
        if (k != nout) {
            ir_error(d, n, "'split' has %d values for %d outputs", k, nout);
            return -1;
        }
        int64_t sum = 0;
        for (int i = 0; i < k; i++) {
            if (split[i] < 0) {
                ir_error(d, n, "split[%d] is %lld", i, (long long)split[i]);
                return -1;
            }
            sum += split[i];
        }
        if (dim >= 0 && sum != dim) {
            ir_error(d, n, "'split' sums to %lld, the axis has %lld", (long long)sum,
                     (long long)dim);
            return -1;
        }
        for (int i = 0; i < nout; i++) {
            dims[axis] = dim_const(split[i]);
            if (op_set_output(n, i, x->dtype, x->rank, dims)) goto oom;
        }
        return fold_now(n, d);
    }
    int64_t parts = nout;
    if (n->opset >= 18) {
        const IrAttr *a = ir_node_attr(n, "num_outputs");
        if (!a) {
            ir_error(d, n, "either input 'split' or attribute 'num_outputs' is required");
            return -1;
        }
        parts = a->i;
        if (parts != nout) {
            ir_error(d, n, "num_outputs is %lld but the node has %d outputs", (long long)parts,
                     nout);
            return -1;
        }
    }
    if (dim < 0) {
        ir_error(d, n, "splitting a symbolic dim into parts is not supported yet");
        return -1;
    }
    int64_t chunk;
    if (n->opset >= 18) {
        chunk = dim / parts + (dim % parts != 0); /* ceil without overflow (dim may be INT64_MAX) */
        if (parts > 1 && chunk * (parts - 1) > dim) {
            ir_error(d, n, "cannot split %lld into %lld parts", (long long)dim, (long long)parts);
            return -1;
        }
    } else {
        if (dim % parts) {
            ir_error(d, n, "cannot split %lld evenly into %lld parts", (long long)dim,
                     (long long)parts);
            return -1;
        }
        chunk = dim / parts;
    }
    for (int i = 0; i < nout; i++) {
        dims[axis] = dim_const(i < nout - 1 ? chunk : dim - chunk * (nout - 1));
        if (op_set_output(n, i, x->dtype, x->rank, dims)) goto oom;
    }
    return fold_now(n, d);
oom:
    ir_error(d, n, "out of memory");
    return -1;
}

static int split_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    if (split_axis(n, d, n->in[0]->type.rank, &axis)) return -1;
    for (int i = 0; i < n->nout; i++)
        if (!n->out[i]) {
            ir_error(d, n, "an omitted Split output is not supported");
            return -1;
        }
    RtAxisParams *p = op_params(n, d, "rt_k_split", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    return 0;
}

const OpHooks op_hooks_Split = {split_infer, split_lower, NULL};

/* ------------------------------------------------------------------------ Expand */

static int expand_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *st = index_input(n, d, 1);
    if (!x || !st) return -1;
    if (st->rank != 1) {
        ir_error(d, n, "input 1 (shape) must be 1-D");
        return -1;
    }
    if (!is_const(n, 1)) {
        int k = (int)st->dims[0].value;
        return keep_declared(n, d, 0, x->dtype, k >= 0 && k < x->rank ? x->rank : k, "shape");
    }
    const int64_t *shape;
    int k = const_ints(n, d, 1, "shape", &shape);
    if (k < 0) return -1;
    int r = k > x->rank ? k : x->rank;
    if (r > IR_MAX_RANK) {
        ir_error(d, n, "output rank %d exceeds %d", r, IR_MAX_RANK);
        return -1;
    }
    IrDim out[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int ia = i - (r - x->rank), ib = i - (r - k);
        IrDim a = ia >= 0 ? x->dims[ia] : dim_const(1);
        int64_t b = ib >= 0 ? shape[ib] : 1;
        if (b < 0) {
            ir_error(d, n, "shape[%d] is %lld", ib, (long long)b);
            return -1;
        }
        if (a.value >= 0 && a.value != 1 && b != 1 && a.value != b) {
            ir_error(d, n, "dim %lld cannot be expanded to %lld", (long long)a.value,
                     (long long)b);
            return -1;
        }
        out[i] = b == 1 ? a : dim_const(b);
    }
    return set_out_fold(n, d, x->dtype, r, out);
}

static int expand_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_expand", 0) ? 0 : -1;
}

const OpHooks op_hooks_Expand = {expand_infer, expand_lower, NULL};

/* ------------------------------------------------------------------------ Tile */

static int tile_infer(IrNode *n, IrDiag *d) {
    if (n->opset < 6) {
        ir_error(d, n, "Tile-1 (tiles and axis inputs) is not supported");
        return -1;
    }
    const IrType *x = op_input_tensor(n, d, 0), *rt = index_input(n, d, 1);
    if (!x || !rt) return -1;
    if (rt->rank != 1 || (rt->dims[0].value >= 0 && rt->dims[0].value != x->rank)) {
        ir_error(d, n, "input 1 (repeats) must be 1-D with %d values", x->rank);
        return -1;
    }
    if (!is_const(n, 1)) return keep_declared(n, d, 0, x->dtype, x->rank, "repeats");
    const int64_t *rep;
    int k = const_ints(n, d, 1, "repeats", &rep);
    if (k < 0) return -1;
    IrDim out[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        if (rep[i] < 0) {
            ir_error(d, n, "repeats[%d] is %lld", i, (long long)rep[i]);
            return -1;
        }
        if (rep[i] == 1) out[i] = x->dims[i];
        else if (x->dims[i].value >= 0) {
            int64_t v;
            if (ir_mul_i64(x->dims[i].value, rep[i], &v)) {
                ir_error(d, n, "dimension overflows");
                return -1;
            }
            out[i] = dim_const(v);
        } else out[i] = rep[i] == 0 ? dim_const(0) : dim_unknown();
    }
    return set_out_fold(n, d, x->dtype, x->rank, out);
}

static int tile_lower(IrNode *n, IrDiag *d) { return op_params(n, d, "rt_k_tile", 0) ? 0 : -1; }

const OpHooks op_hooks_Tile = {tile_infer, tile_lower, NULL};

/* ------------------------------------------------------------------------ Range */

/* Number of elements of Range(start, limit, delta) from constant scalars; -1 + diag. */
static int range_count(IrNode *n, IrDiag *d, int64_t *count) {
    const IrTensor *t[3];
    for (int i = 0; i < 3; i++) {
        t[i] = n->in[i]->init;
        if (t[i]->numel != 1) {
            ir_error(d, n, "input %d must be a scalar", i);
            return -1;
        }
    }
    if (t[0]->dtype == IR_DT_INT64) {
        int64_t s = *(const int64_t *)t[0]->data, l = *(const int64_t *)t[1]->data;
        int64_t dl = *(const int64_t *)t[2]->data;
        if (dl == 0) goto zero;
        __int128 span = (__int128)l - s, c;
        if (dl > 0) c = span > 0 ? (span + dl - 1) / dl : 0;
        else c = span < 0 ? (-span - dl - 1) / -(__int128)dl : 0;
        if (c > INT32_MAX) goto big;
        *count = (int64_t)c;
        return 0;
    }
    double v[3];
    for (int i = 0; i < 3; i++)
        if (tensor_f64(t[i], 0, &v[i])) {
            ir_error(d, n, "element type %s is not supported", ir_dtype_name(t[i]->dtype));
            return -1;
        }
    if (v[2] == 0 || v[2] != v[2]) goto zero;
    double c = ceil((v[1] - v[0]) / v[2]);
    if (c != c) goto zero;
    if (c > INT32_MAX) goto big;
    *count = c > 0 ? (int64_t)c : 0;
    return 0;
zero:
    ir_error(d, n, "delta is 0 (or a value is NaN)");
    return -1;
big:
    ir_error(d, n, "the range has too many elements");
    return -1;
}

static int range_infer(IrNode *n, IrDiag *d) {
    const IrType *t0 = op_input_tensor(n, d, 0);
    if (!t0) return -1;
    for (int i = 1; i < 3; i++) {
        const IrType *t = op_input_tensor(n, d, i);
        if (!t) return -1;
        if (t->dtype != t0->dtype) {
            ir_error(d, n, "start, limit and delta must have one element type");
            return -1;
        }
    }
    if (!is_const(n, 0) || !is_const(n, 1) || !is_const(n, 2))
        return keep_declared(n, d, 0, t0->dtype, 1, "start/limit/delta");
    int64_t count;
    if (range_count(n, d, &count)) return -1;
    IrDim dim = dim_const(count);
    return set_out_fold(n, d, t0->dtype, 1, &dim);
}

static int range_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_range", 0) ? 0 : -1;
}

const OpHooks op_hooks_Range = {range_infer, range_lower, NULL};

/* ------------------------------------------------------------------------ Pad */

static int pad_mode(IrNode *n, IrDiag *d, int *mode) {
    const char *m = ir_attr_string(n, "mode", "constant");
    if (strcmp(m, "constant") == 0) *mode = RT_PAD_CONSTANT;
    else if (strcmp(m, "reflect") == 0) *mode = RT_PAD_REFLECT;
    else if (strcmp(m, "edge") == 0) *mode = RT_PAD_EDGE;
    else if (strcmp(m, "wrap") == 0 && n->opset >= 19) *mode = RT_PAD_WRAP;
    else {
        ir_error(d, n, "unknown mode '%s'", m);
        return -1;
    }
    return 0;
}

/* Constant pads as 2*rank values (ONNX order), from the attribute before opset 11 and from
 * inputs 1 (and 3, axes) after. Returns 1 if known, 0 if computed at run time, -1 + diag. */
static int pad_pads(IrNode *n, IrDiag *d, int rank, int64_t *pads) {
    const int64_t *p;
    int k;
    memset(pads, 0, sizeof(int64_t) * 2 * (size_t)rank);
    if (n->opset < 11) {
        k = ir_attr_ints(n, n->opset < 2 ? "paddings" : "pads", &p);
        if (k < 0) {
            ir_error(d, n, "attribute 'pads' is required by Pad-%d", n->opset);
            return -1;
        }
        if (k != 2 * rank) {
            ir_error(d, n, "'pads' has %d values for rank %d", k, rank);
            return -1;
        }
        memcpy(pads, p, sizeof(int64_t) * (size_t)k);
        return 1;
    }
    if (!ir_node_in(n, 1)) {
        ir_error(d, n, "input 1 (pads) is required");
        return -1;
    }
    if (is_computed(n, 1) || is_computed(n, 3)) return 0;
    if ((k = const_ints(n, d, 1, "pads", &p)) < 0) return -1;
    const int64_t *axes = NULL;
    int na = rank;
    if (ir_node_in(n, 3) && (na = const_ints(n, d, 3, "axes", &axes)) < 0) return -1;
    if (k != 2 * na || na > rank) {
        ir_error(d, n, "'pads' has %d values for %d axes", k, na);
        return -1;
    }
    unsigned char seen[IR_MAX_RANK] = {0};
    for (int i = 0; i < na; i++) {
        int64_t a = i;
        if (axes && op_norm_axis(n, d, axes[i], rank, &a)) return -1;
        if (seen[a]) {
            ir_error(d, n, "axis %lld is repeated", (long long)a);
            return -1;
        }
        seen[a] = 1;
        pads[a] = p[i];
        pads[rank + a] = p[na + i];
    }
    return 1;
}

static int pad_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    int mode;
    if (pad_mode(n, d, &mode)) return -1;
    if (n->opset >= 11) {
        IrValue *cv = ir_node_in(n, 2);
        if (cv && cv->type.kind == IR_TYPE_TENSOR && cv->type.dtype != x->dtype) {
            ir_error(d, n, "constant_value is %s, data is %s", ir_dtype_name(cv->type.dtype),
                     ir_dtype_name(x->dtype));
            return -1;
        }
        for (int i = 1; i < 4; i += 2) {
            IrValue *v = ir_node_in(n, i);
            if (v && (v->type.kind != IR_TYPE_TENSOR || !is_int_index_type(v->type.dtype))) {
                ir_error(d, n, "input %d must be an int64 tensor", i);
                return -1;
            }
        }
    }
    int64_t pads[2 * IR_MAX_RANK];
    int known = pad_pads(n, d, x->rank, pads);
    if (known < 0) return -1;
    if (!known) return keep_declared(n, d, 0, x->dtype, x->rank, "pads");
    IrDim out[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        int64_t extra;
        if (__builtin_add_overflow(pads[i], pads[x->rank + i], &extra) || extra < -INT32_MAX ||
            extra > ((int64_t)1 << 40)) {
            ir_error(d, n, "pads of dim %d are out of range", i);
            return -1;
        }
        if (extra == 0) out[i] = x->dims[i];
        else if (x->dims[i].value < 0) out[i] = dim_unknown();
        else if (x->dims[i].value + extra < 0) {
            ir_error(d, n, "pads make dim %d negative", i);
            return -1;
        } else out[i] = dim_const(x->dims[i].value + extra);
    }
    return set_out_fold(n, d, x->dtype, x->rank, out);
}

static int pad_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    int mode;
    if (pad_mode(n, d, &mode)) return -1;
    RtPadParams *p = op_params(n, d, "rt_k_pad", sizeof *p);
    if (!p) return -1;
    p->rank = x->rank;
    p->mode = mode;
    if (n->opset >= 11) {
        p->from_inputs = 1;
        return 0;
    }
    p->value = ir_attr_float(n, "value", 0.0f);
    return pad_pads(n, d, x->rank, p->pads) == 1 ? 0 : -1;
}

const OpHooks op_hooks_Pad = {pad_infer, pad_lower, NULL};

/* ------------------------------------------------------------------------ OneHot */

static int onehot_infer(IrNode *n, IrDiag *d) {
    const IrType *ix = op_input_tensor(n, d, 0), *dp = op_input_tensor(n, d, 1);
    const IrType *vals = op_input_tensor(n, d, 2);
    if (!ix || !dp || !vals) return -1;
    int r = ix->rank + 1;
    if (r > IR_MAX_RANK) {
        ir_error(d, n, "output rank %d exceeds %d", r, IR_MAX_RANK);
        return -1;
    }
    int64_t axis;
    if (op_norm_axis(n, d, ir_attr_int(n, "axis", -1), r, &axis)) return -1;
    if (vals->rank != 1 || (vals->dims[0].value >= 0 && vals->dims[0].value != 2)) {
        ir_error(d, n, "input 2 (values) must be [off_value, on_value]");
        return -1;
    }
    int64_t depth;
    int got = const_scalar_i64(n, d, 1, "depth", &depth);
    if (got < 0) return -1;
    if (!got) return keep_declared(n, d, 0, vals->dtype, r, "depth");
    if (depth < 1) {
        ir_error(d, n, "depth %lld must be positive", (long long)depth);
        return -1;
    }
    IrDim out[IR_MAX_RANK];
    for (int i = 0, j = 0; i < r; i++) out[i] = i == axis ? dim_const(depth) : ix->dims[j++];
    return set_out_fold(n, d, vals->dtype, r, out);
}

static int onehot_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    if (op_norm_axis(n, d, ir_attr_int(n, "axis", -1), n->in[0]->type.rank + 1, &axis)) return -1;
    RtAxisParams *p = op_params(n, d, "rt_k_onehot", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    return 0;
}

const OpHooks op_hooks_OneHot = {onehot_infer, onehot_lower, NULL};

/* ------------------------------------------------------------------------ Scatter* */

/* The reduction attribute of ScatterElements/ScatterND for this opset. */
static int scatter_reduction(IrNode *n, IrDiag *d, int *red) {
    const char *r = ir_attr_string(n, "reduction", "none");
    if (strcmp(r, "none") == 0) *red = RT_SCATTER_NONE;
    else if (strcmp(r, "add") == 0 && n->opset >= 16) *red = RT_SCATTER_ADD;
    else if (strcmp(r, "mul") == 0 && n->opset >= 16) *red = RT_SCATTER_MUL;
    else if (strcmp(r, "max") == 0 && n->opset >= 18) *red = RT_SCATTER_MAX;
    else if (strcmp(r, "min") == 0 && n->opset >= 18) *red = RT_SCATTER_MIN;
    else {
        ir_error(d, n, "reduction '%s' is not defined for %s-%d", r, n->op_type, n->opset);
        return -1;
    }
    return 0;
}

/* ScatterElements and Scatter (the same op under its older name, no reduction). */
static int scatter_elements_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *ix = index_input(n, d, 1);
    const IrType *u = op_input_tensor(n, d, 2);
    int64_t axis;
    int red = RT_SCATTER_NONE;
    if (!x || !ix || !u || elements_check(n, d, x, ix, &axis)) return -1;
    if (n->op == OP_ScatterElements && scatter_reduction(n, d, &red)) return -1;
    if (u->dtype != x->dtype || u->rank != ix->rank) {
        ir_error(d, n, "updates must have the data's element type and the indices' shape");
        return -1;
    }
    return same_as_input(n, d, x);
}

static int scatter_elements_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    int red = RT_SCATTER_NONE;
    if (op_norm_axis(n, d, ir_attr_int(n, "axis", 0), n->in[0]->type.rank, &axis)) return -1;
    if (n->op == OP_ScatterElements && scatter_reduction(n, d, &red)) return -1;
    RtScatterParams *p = op_params(n, d, "rt_k_scatter_elements", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    p->reduction = red;
    return 0;
}

const OpHooks op_hooks_ScatterElements = {scatter_elements_infer, scatter_elements_lower, NULL};
const OpHooks op_hooks_Scatter = {scatter_elements_infer, scatter_elements_lower, NULL};

static int scatter_nd_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *ix = index_input(n, d, 1);
    const IrType *u = op_input_tensor(n, d, 2);
    int red;
    if (!x || !ix || !u || scatter_reduction(n, d, &red)) return -1;
    int q = ix->rank;
    if (q < 1 || x->rank < 1) {
        ir_error(d, n, "data and indices must have rank >= 1");
        return -1;
    }
    int64_t m = ix->dims[q - 1].value;
    if (m > x->rank || u->dtype != x->dtype ||
        (m >= 0 && u->rank != q - 1 + x->rank - (int)m)) {
        ir_error(d, n, "updates must be %s of rank indices-1 + data - tuple length",
                 ir_dtype_name(x->dtype));
        return -1;
    }
    return same_as_input(n, d, x);
}

static int scatter_nd_lower(IrNode *n, IrDiag *d) {
    int red;
    if (scatter_reduction(n, d, &red)) return -1;
    RtScatterParams *p = op_params(n, d, "rt_k_scatter_nd", sizeof *p);
    if (!p) return -1;
    p->reduction = red;
    return 0;
}

const OpHooks op_hooks_ScatterND = {scatter_nd_infer, scatter_nd_lower, NULL};

/* ------------------------------------------------------------------------ Trilu */

static int trilu_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (x->rank < 2) {
        ir_error(d, n, "input must have rank >= 2");
        return -1;
    }
    IrValue *k = ir_node_in(n, 1);
    if (k && (k->type.kind != IR_TYPE_TENSOR || k->type.dtype != IR_DT_INT64)) {
        ir_error(d, n, "input 1 (k) must be an int64 scalar");
        return -1;
    }
    return same_as_input(n, d, x);
}

static int trilu_lower(IrNode *n, IrDiag *d) {
    RtTriluParams *p = op_params(n, d, "rt_k_trilu", sizeof *p);
    if (!p) return -1;
    p->upper = ir_attr_int(n, "upper", 1) != 0;
    return 0;
}

const OpHooks op_hooks_Trilu = {trilu_infer, trilu_lower, NULL};

/* ------------------------------------------------------------------------ CumSum */

static int cumsum_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *ax = index_input(n, d, 1);
    if (!x || !ax) return -1;
    int64_t axis;
    int got = const_scalar_i64(n, d, 1, "axis", &axis);
    if (got < 0) return -1;
    if (got && (axis < -x->rank || axis >= x->rank)) {
        ir_error(d, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
        return -1;
    }
    return same_as_input(n, d, x);
}

static int cumsum_lower(IrNode *n, IrDiag *d) {
    RtCumSumParams *p = op_params(n, d, "rt_k_cumsum", sizeof *p);
    if (!p) return -1;
    p->exclusive = ir_attr_int(n, "exclusive", 0) != 0;
    p->reverse = ir_attr_int(n, "reverse", 0) != 0;
    return 0;
}

const OpHooks op_hooks_CumSum = {cumsum_infer, cumsum_lower, NULL};

/* ------------------------------------------------------------------------ EyeLike */

static int eyelike_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (x->rank != 2) {
        ir_error(d, n, "input must be 2-D (rank %d)", x->rank);
        return -1;
    }
    IrDType dt = x->dtype;
    const IrAttr *a = ir_node_attr(n, "dtype");
    if (a) {
        if (!ir_dtype_valid((int)a->i) || a->i == IR_DT_STRING) {
            ir_error(d, n, "dtype %lld is not a supported element type", (long long)a->i);
            return -1;
        }
        dt = (IrDType)a->i;
    }
    return set_out_fold(n, d, dt, 2, x->dims);
}

static int eyelike_lower(IrNode *n, IrDiag *d) {
    RtEyeLikeParams *p = op_params(n, d, "rt_k_eyelike", sizeof *p);
    if (!p) return -1;
    p->k = ir_attr_int(n, "k", 0);
    return 0;
}

const OpHooks op_hooks_EyeLike = {eyelike_infer, eyelike_lower, NULL};

/* ------------------------------------------------------------------------ DepthToSpace */

/* blocksize and mode of DepthToSpace/SpaceToDepth. */
static int d2s_params(IrNode *n, IrDiag *d, int64_t *b, int *mode) {
    const IrAttr *a = ir_node_attr(n, "blocksize");
    if (!a || a->i < 1 || a->i > INT32_MAX) {
        ir_error(d, n, "attribute 'blocksize' (>= 1) is required");
        return -1;
    }
    *b = a->i;
    if (n->op == OP_SpaceToDepth) {
        *mode = RT_S2D;
        return 0;
    }
    const char *m = n->opset >= 11 ? ir_attr_string(n, "mode", "DCR") : "DCR";
    if (strcmp(m, "DCR") == 0) *mode = RT_D2S_DCR;
    else if (strcmp(m, "CRD") == 0) *mode = RT_D2S_CRD;
    else {
        ir_error(d, n, "unknown mode '%s'", m);
        return -1;
    }
    return 0;
}

/* A dim times (mul) or divided by (div) b; unknown when symbolic. */
static IrDim dim_scale(IrNode *n, IrDiag *d, IrDim x, int64_t b, int div, int *err) {
    if (x.value < 0) return dim_unknown();
    if (div) {
        if (x.value % b) {
            ir_error(d, n, "dim %lld is not a multiple of %lld", (long long)x.value, (long long)b);
            *err = 1;
        }
        return dim_const(x.value / b);
    }
    int64_t v;
    if (ir_mul_i64(x.value, b, &v)) {
        ir_error(d, n, "dimension overflows");
        *err = 1;
    }
    return dim_const(v);
}

static int d2s_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    int64_t b;
    int mode, err = 0;
    if (d2s_params(n, d, &b, &mode)) return -1;
    if (x->rank != 4) {
        ir_error(d, n, "input must be 4-D (NCHW), not rank %d", x->rank);
        return -1;
    }
    IrDim out[4];
    out[0] = x->dims[0];
    if (mode == RT_S2D) {
        out[1] = dim_scale(n, d, x->dims[1], b * b, 0, &err);
        out[2] = dim_scale(n, d, x->dims[2], b, 1, &err);
        out[3] = dim_scale(n, d, x->dims[3], b, 1, &err);
    } else {
        out[1] = dim_scale(n, d, x->dims[1], b * b, 1, &err);
        out[2] = dim_scale(n, d, x->dims[2], b, 0, &err);
        out[3] = dim_scale(n, d, x->dims[3], b, 0, &err);
    }
    if (err) return -1;
    return set_out_fold(n, d, x->dtype, 4, out);
}

static int d2s_lower(IrNode *n, IrDiag *d) {
    int64_t b;
    int mode;
    if (d2s_params(n, d, &b, &mode)) return -1;
    RtDepthSpaceParams *p = op_params(n, d, "rt_k_depth_space", sizeof *p);
    if (!p) return -1;
    p->blocksize = (int32_t)b;
    p->mode = mode;
    return 0;
}

const OpHooks op_hooks_DepthToSpace = {d2s_infer, d2s_lower, NULL};
const OpHooks op_hooks_SpaceToDepth = {d2s_infer, d2s_lower, NULL};
