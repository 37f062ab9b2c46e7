/* grad_index.c - gradient rules of Concat (Split of dY at the inputs' sizes; ops/ops.def),
 * Where (dY routed by the condition) and the variadic Sum and Mean (docs/TRAINING.md). */
#include <string.h>

#include "ops/grad.h"
#include "runtime/rt_params.h"

static int concat_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    int r = g->type.rank;
    int64_t axis;
    if (op_norm_axis(f, d, ir_attr_int(f, "axis", 0), r, &axis))
        return -1;
    if (f->nin > 8) {
        ir_error(d, f, "gradient of Concat with more than 8 inputs is not supported");
        return -1;
    }
    int64_t sizes[8];
    for (int i = 0; i < f->nin; i++)
        sizes[i] = f->in[i]->type.dims[axis].value;
    IrValue *sp = grad_const_i64(c, sizes, f->nin);
    IrValue *in[2] = {g, sp};
    IrNode *n = sp ? grad_node(c, "", "Split", 2, in, f->nin) : NULL;
    if (!n || grad_attr_int(c, n, "axis", axis) || !grad_emit(c, n))
        return -1;
    for (int i = 0; i < f->nin; i++)
        if (grad_add(c, i, n->out[i]))
            return -1;
    return 0;
}

static int where_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    IrValue *zero = grad_scalar(c, g->type.dtype, 0.0);
    if (!zero)
        return -1;
    for (int k = 1; k <= 2; k++) {
        if (!grad_wants(c, k))
            continue;
        IrValue *in[3] = {f->in[0], k == 1 ? g : zero, k == 1 ? zero : g};
        IrValue *w = grad_emit(c, grad_node(c, "", "Where", 3, in, 1));
        if (!w || grad_add(c, k, grad_sum_to(c, w, f->in[k])))
            return -1;
    }
    return 0;
}

/* Sum: dX_i = SumTo(dY); Mean: dY / n. */
static int sum_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    if (f->op == OP_Mean) {
        g = grad_op2(c, "Mul", g, grad_scalar(c, g->type.dtype, 1.0 / f->nin));
        if (!g)
            return -1;
    }
    for (int i = 0; i < f->nin; i++)
        if (grad_wants(c, i) && grad_add(c, i, grad_sum_to(c, g, f->in[i])))
            return -1;
    return 0;
}

const OpGradFn op_grad_Concat = concat_rule;
const OpGradFn op_grad_Where = where_rule;
const OpGradFn op_grad_Sum = sum_rule;
const OpGradFn op_grad_Mean = sum_rule;

/* ------------------------------------------------------------------------------------------------
 * Slice, Gather, GatherElements, Split, Pad, Expand, Tile. The backward nodes are ordinary ops:
 * a gather's gradient is ScatterElements with reduction "add" into zeros (indices may repeat or be
 * negative), a unit-step slice's and a constant pad's are a Pad, Expand's is SumTo, Tile's a
 * ReduceSum over a reshaped dY. Shapes are static (the training graph's). */

static IrValue *op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b) {
    return a && b ? grad_op2(c, op_type, a, b) : NULL;
}

/* Zeros of like's type (ExpandTo of a scalar 0). */
static IrValue *zeros_like(GradCtx *c, IrValue *like) {
    IrValue *in[2] = {grad_scalar(c, like->type.dtype, 0.0), like};
    return in[0] ? grad_emit(c, grad_node(c, GRAD_DOMAIN, "ExpandTo", 2, in, 1)) : NULL;
}

/* dst (zeros when NULL: like's shape) with g added at ix along axis (ScatterElements, add). */
static IrValue *scatter_add(GradCtx *c, IrValue *dst, IrValue *like, IrValue *ix, IrValue *g,
                            int64_t axis) {
    if (!dst)
        dst = zeros_like(c, like);
    IrValue *in[3] = {dst, ix, g};
    IrNode *n = dst && ix && g ? grad_node(c, "", "ScatterElements", 3, in, 1) : NULL;
    if (!n || grad_attr_int(c, n, "axis", axis) || grad_attr_string(c, n, "reduction", "add"))
        return NULL;
    return grad_emit(c, n);
}

/* The 1-D index list idx (count n, int64 constant or value) laid along axis of shape dims (rank
 * r) and broadcast to it: the indices input of ScatterElements. */
static IrValue *axis_indices(GradCtx *c, IrValue *idx, int r, int64_t axis, const int64_t *dims) {
    int64_t one[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        one[i] = i == axis ? dims[i] : 1;
    IrValue *col = op2(c, "Reshape", idx, grad_const_i64(c, one, r));
    return op2(c, "Expand", col, grad_const_i64(c, dims, r));
}

static int static_or_fail(IrNode *f, IrDiag *d, const IrValue *v) {
    if (v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type))
        return 0;
    ir_error(d, f, "gradient of %s needs static shapes ('%s' is not)", f->op_type, v->name);
    return -1;
}

/* Slice: the constant starts/steps resolved by the operator's own lower hook (RtSliceParams), the
 * counts are dY's dims. Axes with a step other than 1 are scattered (ScatterElements with the
 * constant index list start + step * i); the remaining unit-step axes are padded with zeros. */
static int slice_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g || !grad_wants(c, 0))
        return 0;
    if (static_or_fail(f, d, x) || static_or_fail(f, d, g))
        return -1;
    /* the lower hook resolves the constants; the node is left as it was (lowered later) */
    const OpInfo *oi = op_info(f->op);
    void *params = f->params;
    size_t psize = f->params_size;
    const char *kernel = f->kernel;
    RtSliceParams sp;
    if (!oi || !oi->hooks->lower || oi->hooks->lower(f, d))
        return -1;
    memcpy(&sp, f->params, sizeof sp);
    f->params = params;
    f->params_size = psize;
    f->kernel = kernel;
    const RtSliceParams *p = &sp;
    if (p->from_inputs) {
        ir_error(d, f, "gradient of Slice needs constant starts, ends, axes and steps");
        return -1;
    }
    int r = x->type.rank;
    int64_t cur[IR_MAX_RANK], pads[2 * IR_MAX_RANK], total = 1;
    for (int i = 0; i < r; i++) {
        cur[i] = g->type.dims[i].value;
        total *= cur[i];
    }
    if (total == 0)
        return grad_add(c, 0, zeros_like(c, x));
    IrValue *cg = g;
    int any_pad = 0;
    for (int a = 0; a < r; a++) {
        int64_t dim = x->type.dims[a].value, m = cur[a], st = p->step[a], s0 = p->start[a];
        pads[a] = pads[r + a] = 0;
        if (st == 1) {
            pads[a] = s0;
            pads[r + a] = dim - s0 - m;
            any_pad |= pads[a] || pads[r + a];
            continue;
        }
        int64_t *ix = ir_arena_alloc(f->graph->arena, (size_t)m * sizeof *ix);
        if (!ix) {
            ir_error(d, f, "out of memory");
            return -1;
        }
        for (int64_t i = 0; i < m; i++)
            ix[i] = s0 + st * i;
        IrValue *ixv = axis_indices(c, grad_const_i64(c, ix, (int)m), r, a, cur);
        int64_t nd[IR_MAX_RANK];
        for (int i = 0; i < r; i++)
            nd[i] = i == a ? dim : cur[i];
        /* zeros of the scattered shape: ExpandTo needs a value of that shape */
        IrValue *z = op2(c, "Expand", grad_scalar(c, g->type.dtype, 0.0), grad_const_i64(c, nd, r));
        cg = scatter_add(c, z, NULL, ixv, cg, a);
        if (!cg)
            return -1;
        cur[a] = dim;
    }
    if (any_pad) {
        IrValue *in[2] = {cg, grad_const_i64(c, pads, 2 * r)};
        IrNode *n = in[1] ? grad_node(c, "", "Pad", 2, in, 1) : NULL;
        cg = grad_emit(c, n);
    }
    return grad_add(c, 0, cg);
}

/* Gather: dY reshaped to X[:axis] + [numel(indices)] + X[axis+1:] and scattered with add. */
static int gather_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0], *ix = f->in[1];
    if (!g || !grad_wants(c, 0))
        return 0;
    if (static_or_fail(f, d, x) || static_or_fail(f, d, ix))
        return -1;
    int r = x->type.rank;
    int64_t axis, n = 1, gd[IR_MAX_RANK];
    if (op_norm_axis(f, d, ir_attr_int(f, "axis", 0), r, &axis))
        return -1;
    for (int i = 0; i < ix->type.rank; i++)
        n *= ix->type.dims[i].value;
    for (int i = 0; i < r; i++)
        gd[i] = i == axis ? n : x->type.dims[i].value;
    if (n == 0)
        return grad_add(c, 0, zeros_like(c, x));
    int64_t flat = -1;
    IrValue *ix1 = ix;
    if (ix->type.dtype != IR_DT_INT64) {
        IrNode *cn = grad_node(c, "", "Cast", 1, &ix, 1);
        if (!cn || grad_attr_int(c, cn, "to", IR_DT_INT64) || !(ix1 = grad_emit(c, cn)))
            return -1;
    }
    ix1 = op2(c, "Reshape", ix1, grad_const_i64(c, &flat, 1));
    IrValue *g2 = op2(c, "Reshape", g, grad_const_i64(c, gd, r));
    IrValue *ixe = ix1 ? axis_indices(c, ix1, r, axis, gd) : NULL;
    return grad_add(c, 0, scatter_add(c, NULL, x, ixe, g2, axis));
}

/* GatherElements: ScatterElements(zeros, indices, dY, axis, add). */
static int gather_elements_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g || !grad_wants(c, 0))
        return 0;
    if (static_or_fail(f, d, x))
        return -1;
    int64_t axis;
    if (op_norm_axis(f, d, ir_attr_int(f, "axis", 0), x->type.rank, &axis))
        return -1;
    return grad_add(c, 0, scatter_add(c, NULL, x, f->in[1], g, axis));
}

/* Split: Concat of the outputs' gradients (zeros for outputs the loss does not read). */
static int split_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    if (!grad_wants(c, 0))
        return 0;
    int64_t axis;
    if (op_norm_axis(f, d, ir_attr_int(f, "axis", 0), f->in[0]->type.rank, &axis))
        return -1;
    IrValue **gs = ir_arena_alloc(f->graph->arena, (size_t)f->nout * sizeof *gs);
    if (!gs) {
        ir_error(d, f, "out of memory");
        return -1;
    }
    for (int i = 0; i < f->nout; i++) {
        gs[i] = grad_out(c, i);
        if (!gs[i] && !(gs[i] = zeros_like(c, f->out[i])))
            return -1;
    }
    IrNode *n = grad_node(c, "", "Concat", f->nout, gs, 1);
    if (!n || grad_attr_int(c, n, "axis", axis))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

/* Pad (constant mode): dX = Pad(dY, -pads), which also zero-fills what negative pads cropped. */
static int pad_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g || !grad_wants(c, 0))
        return 0;
    if (strcmp(ir_attr_string(f, "mode", "constant"), "constant") != 0) {
        ir_error(d, f, "gradient of Pad in mode '%s' is not supported (only constant)",
                 ir_attr_string(f, "mode", "constant"));
        return -1;
    }
    int r = x->type.rank;
    int64_t pads[2 * IR_MAX_RANK] = {0};
    const int64_t *p, *axes = NULL;
    int k, na = r;
    if (f->opset < 11) {
        k = ir_attr_ints(f, f->opset < 2 ? "paddings" : "pads", &p);
    } else {
        k = op_const_ints(f, 1, &p);
        if (ir_node_in(f, 3) && (na = op_const_ints(f, 3, &axes)) < 0)
            k = -1;
    }
    if (k < 0 || k != 2 * na || na > r) {
        ir_error(d, f, "gradient of Pad needs constant pads (and axes) matching the rank");
        return -1;
    }
    for (int i = 0; i < na; i++) {
        int64_t a = i;
        if (axes && op_norm_axis(f, d, axes[i], r, &a))
            return -1;
        pads[a] = -p[i];
        pads[r + a] = -p[na + i];
    }
    IrValue *in[2] = {g, grad_const_i64(c, pads, 2 * r)};
    return grad_add(c, 0, in[1] ? grad_emit(c, grad_node(c, "", "Pad", 2, in, 1)) : NULL);
}

static int expand_rule(IrNode *f, void *ctx, IrDiag *d) {
    (void)d;
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    return g ? grad_add(c, 0, grad_sum_to(c, g, f->in[0])) : 0;
}

/* Tile: dY viewed as [r0, d0, r1, d1, ...] (repeat-major, as Tile lays the copies out) summed
 * over the repeat axes; axes repeated once are left merged. */
static int tile_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0];
    if (!g || !grad_wants(c, 0))
        return 0;
    if (static_or_fail(f, d, x) || static_or_fail(f, d, g))
        return -1;
    int r = x->type.rank, k = 0, nax = 0;
    int64_t shape[2 * IR_MAX_RANK], axes[IR_MAX_RANK];
    for (int i = 0; i < r; i++) {
        int64_t dim = x->type.dims[i].value, rep = dim ? g->type.dims[i].value / dim : 0;
        if (rep > 1) {
            axes[nax++] = k;
            shape[k++] = rep;
        }
        shape[k++] = dim;
    }
    if (!nax || k > IR_MAX_RANK) {
        if (nax) {
            ir_error(d, f, "gradient of Tile: rank %d with %d repeated axes is too large", r, nax);
            return -1;
        }
        return grad_add(c, 0, grad_reshape_like(c, g, x));
    }
    IrValue *gv = op2(c, "Reshape", g, grad_const_i64(c, shape, k));
    IrValue *in[2] = {gv, grad_const_i64(c, axes, nax)};
    IrNode *n = gv && in[1] ? grad_node(c, "", "ReduceSum", 2, in, 1) : NULL;
    if (!n || grad_attr_int(c, n, "keepdims", 0))
        return -1;
    return grad_add(c, 0, grad_reshape_like(c, grad_emit(c, n), x));
}

const OpGradFn op_grad_Slice = slice_rule;
const OpGradFn op_grad_Gather = gather_rule;
const OpGradFn op_grad_GatherElements = gather_elements_rule;
const OpGradFn op_grad_Split = split_rule;
const OpGradFn op_grad_Pad = pad_rule;
const OpGradFn op_grad_Expand = expand_rule;
const OpGradFn op_grad_Tile = tile_rule;
