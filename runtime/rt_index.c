/* rt_index.c - kernels of the indexing and shape-computation family: Shape, Size,
 * ConstantOfShape, Gather, GatherElements, GatherND, Slice, Split, Expand, Tile, Range, Pad,
 * OneHot, ScatterElements (and the older Scatter), ScatterND, Trilu, CumSum, EyeLike,
 * DepthToSpace and SpaceToDepth. Hooks in ops/op_index.c, parameter blocks in
 * runtime/rt_params_index.h.
 *
 * ONNX specification: docs/Operators.md, the sections of these operators (all versions up to
 * opset 23); the reference implementations are onnx/reference/ops/op_<name>.py.
 *
 * Every index that comes from data (Gather/Scatter indices, GatherND tuples) is checked: an
 * out-of-range index fails with ONNXC_ERR_RUNTIME instead of touching memory outside the tensor.
 * Inputs that determine an output shape (Slice starts/ends, Expand shape, Tile repeats, Range
 * limits, OneHot depth, Pad pads, ConstantOfShape shape, Split sizes) are read at run time and
 * must give exactly the compiled output shape (ONNXC_ERR_SHAPE otherwise).
 *
 * Data movement (Gather, Slice, Expand, Tile, DepthToSpace, ...) does not look at the elements
 * and serves every element type; the arithmetic kernels (Range, CumSum, scatter reductions,
 * EyeLike's one) switch on the element type.
 */
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_copy.h"
#include "runtime/rt_params.h"

#define MAXR RT_INDEX_MAX_RANK

/* ONNX element type numbers used here. */
enum {
    T_FLOAT = 1, T_UINT8 = 2, T_INT8 = 3, T_UINT16 = 4, T_INT16 = 5, T_INT32 = 6, T_INT64 = 7,
    T_STRING = 8, T_BOOL = 9, T_FLOAT16 = 10, T_DOUBLE = 11, T_UINT32 = 12, T_UINT64 = 13,
    T_BFLOAT16 = 16
};

/* ------------------------------------------------------------------------------ helpers */

/* 1 if t is present with rank r and dims equal to dims[0..r). */
static int dims_equal(const RtTensor *t, int r, const int64_t *dims) {
    if (t->rank != r) return 0;
    for (int i = 0; i < r; i++)
        if (t->dims[i] != dims[i]) return 0;
    return 1;
}

/* 1 if t is an int32 or int64 tensor whose data is readable. */
static int is_int_tensor(const RtTensor *t) {
    return t->rank >= 0 && (t->dtype == T_INT64 || t->dtype == T_INT32) &&
           (t->data || rt_numel(t) == 0);
}

/* Element k of an int32/int64 tensor (checked by is_int_tensor). */
static int64_t int_at(const RtTensor *t, int64_t k) {
    return t->dtype == T_INT64 ? ((const int64_t *)t->data)[k] : ((const int32_t *)t->data)[k];
}

/* Reads a one-element int32/int64 tensor (rank 0 or 1); -1 if it is not one. */
static int int_scalar(const RtTensor *t, int64_t *v) {
    if (!is_int_tensor(t) || t->rank > 1 || rt_numel(t) != 1) return -1;
    *v = int_at(t, 0);
    return 0;
}

/* 1 if this family reads and writes type dt through double: the numeric types and bool, not
 * the sub-byte integers or FLOAT8E8M0 (their kernels refuse those). */
static int f64_type(int dt) {
    return rt_f64_readable(dt) && dt != IR_DT_UINT4 && dt != IR_DT_INT4 && dt != IR_DT_UINT2 &&
           dt != IR_DT_INT2 && dt != IR_DT_FLOAT8E8M0;
}

/* Element k of any numeric tensor as a double; -1 for types without a numeric value. */
static int load_f64(const RtTensor *t, int64_t k, double *v) {
    if (!f64_type(t->dtype)) return -1;
    *v = rt_load_f64(t, k);
    return 0;
}

/* Stores v as one element of type dtype at p (integers truncate and wrap, float8 saturates:
 * RT_STORE_WRAP); -1 for types without a numeric value. */
static int store_f64(void *p, int dtype, double v) {
    return rt_store_f64_at(p, dtype, 0, v, RT_STORE_WRAP);
}

/* Row-major strides (in elements) of dims[0..r). */
static void strides_of(int r, const int64_t *dims, int64_t *st) {
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        st[i] = s;
        s *= dims[i];
    }
}

/* Fills n elements of size es at dst with the element at val. */
static void fill_elems(char *dst, const void *val, int64_t n, size_t es) {
    switch (es) {
    case 1:
        memset(dst, *(const uint8_t *)val, (size_t)n);
        break;
    case 2: {
        uint16_t v, *d = (uint16_t *)dst;
        memcpy(&v, val, 2);
        for (int64_t i = 0; i < n; i++) d[i] = v;
        break;
    }
    case 4: {
        uint32_t v, *d = (uint32_t *)dst;
        memcpy(&v, val, 4);
        for (int64_t i = 0; i < n; i++) d[i] = v;
        break;
    }
    case 8: {
        uint64_t v, *d = (uint64_t *)dst;
        memcpy(&v, val, 8);
        for (int64_t i = 0; i < n; i++) d[i] = v;
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++) memcpy(dst + (size_t)i * es, val, es);
        break;
    }
}

/* Common checks: params present (when needed), at least nin_min inputs and one output, output
 * and input 0 of the same known element type. */
static int check_io(RtCtx *ctx, const char *op, const void *params, int need_params, int nin,
                    int nin_min, int nout, const RtTensor *in, const RtTensor *out) {
    if ((need_params && !params) || nin < nin_min || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: expected params, %d inputs, an output",
                       op, nin_min);
    if (rt_dtype_size(out[0].dtype) == 0 || (nin_min > 0 && in[0].dtype != out[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element types %d -> %d", op,
                       nin_min > 0 ? (int)in[0].dtype : -1, (int)out[0].dtype);
    if (out[0].rank < 0 || out[0].rank > MAXR || (nin_min > 0 && (in[0].rank < 0 ||
                                                                   in[0].rank > MAXR)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: unsupported rank", op);
    if (rt_numel(&out[0]) > 0 && !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: missing output data", op);
    if (nin_min > 0 && rt_numel(&in[0]) > 0 && !in[0].data)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: missing input data", op);
    return 0;
}

/* ------------------------------------------------------------------------------ Shape, Size */

int rt_k_shape(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    const RtShapeParams *p = params;
    if (!p || nin < 1 || nout < 1 || in[0].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Shape: expected params, 1 input, 1 output");
    int r = in[0].rank;
    if (p->start < 0 || p->start > p->end || p->end > r || out[0].dtype != T_INT64 ||
        out[0].rank != 1 || out[0].dims[0] != p->end - p->start)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Shape: output does not match dims [%d, %d) of rank %d",
                       (int)p->start, (int)p->end, r);
    for (int i = p->start; i < p->end; i++) ((int64_t *)out[0].data)[i - p->start] = in[0].dims[i];
    return 0;
}

int rt_k_size(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    (void)params;
    if (nin < 1 || nout < 1 || in[0].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Size: expected 1 input, 1 output");
    if (out[0].dtype != T_INT64 || rt_numel(&out[0]) != 1 || !out[0].data)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Size: the output must be one int64");
    *(int64_t *)out[0].data = rt_numel(&in[0]);
    return 0;
}

/* ------------------------------------------------------------------------------ ConstantOfShape */

int rt_k_constant_of_shape(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                           RtTensor *out, int nout) {
    const RtConstantOfShapeParams *p = params;
    if (check_io(ctx, "ConstantOfShape", params, 1, nin, 0, nout, in, out)) return ctx->status;
    size_t es = rt_dtype_size(out[0].dtype);
    if (p->size != (int32_t)es || es > sizeof p->value)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "ConstantOfShape: value has %d bytes, element %d",
                       (int)p->size, (int)es);
    if (nin >= 1 && in[0].rank >= 0) {
        const RtTensor *s = &in[0];
        if (!is_int_tensor(s) || s->rank != 1 || s->dims[0] != out[0].rank)
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "ConstantOfShape: the shape input must be a 1-D int64 tensor of %d "
                           "values", (int)out[0].rank);
        int64_t want[MAXR];
        for (int i = 0; i < out[0].rank; i++)
            want[i] = int_at(s, i);
        /* checks a compiled shape, or allocates a run-time one (docs/DYNAMIC_SHAPES.md) */
        if (rt_out_alloc(ctx, &out[0], want)) return ctx->status;
    }
    fill_elems(out[0].data, p->value, rt_numel(&out[0]), es);
    return 0;
}

/* ------------------------------------------------------------------------------ Gather */

/* out = data.dims[:axis] + indices.dims + data.dims[axis+1:]; for each outer index and each
 * index value k (negative counts from the end) copies the block data[..., k, ...]. */
int rt_k_gather(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtAxisParams *p = params;
    if (check_io(ctx, "Gather", params, 1, nin, 2, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *ix = &in[1];
    int r = x->rank, q = ix->rank, axis = p->axis;
    if (r < 1 || axis < 0 || axis >= r || !is_int_tensor(ix) || r - 1 + q > MAXR)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Gather: bad axis %d, rank %d or indices", axis, r);
    int64_t want[MAXR];
    int k = 0;
    for (int i = 0; i < axis; i++) want[k++] = x->dims[i];
    for (int i = 0; i < q; i++) want[k++] = ix->dims[i];
    for (int i = axis + 1; i < r; i++) want[k++] = x->dims[i];
    if (!dims_equal(&out[0], k, want))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Gather: output shape does not match");
    size_t es = rt_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1, n = x->dims[axis], nidx = rt_numel(ix);
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = axis + 1; i < r; i++) inner *= x->dims[i];
    size_t blk = (size_t)inner * es;
    for (int64_t j = 0; j < nidx; j++) {
        int64_t v = int_at(ix, j);
        if (v < -n || v >= n)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME,
                           "Gather: index %lld is out of range for axis %d of size %lld",
                           (long long)v, axis, (long long)n);
    }
    if (blk == 0 || nidx == 0 || outer == 0) return 0;
    const char *src = x->data;
    char *dst = out[0].data;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < nidx; j++) {
            int64_t v = int_at(ix, j);
            if (v < 0) v += n;
            memcpy(dst, src + (size_t)(o * n + v) * blk, blk);
            dst += blk;
        }
    return 0;
}

/* Shared walk of GatherElements and ScatterElements: for every element e of `ix` (row-major),
 * calls back with the data offset its coordinates give, the axis coordinate replaced by the
 * index value. Fails on an index outside [-n, n) or an indices dim larger than data's. */
typedef int (*ElemFn)(void *u, int64_t e, int64_t data_off);

static int walk_elements(RtCtx *ctx, const char *op, const RtTensor *x, const RtTensor *ix,
                         int axis, ElemFn fn, void *u) {
    int r = x->rank;
    if (r < 1 || axis < 0 || axis >= r || !is_int_tensor(ix) || ix->rank != r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad axis, rank or indices", op);
    for (int i = 0; i < r; i++)
        if (i != axis && ix->dims[i] > x->dims[i])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: indices dim %d (%lld) exceeds data's (%lld)",
                           op, i, (long long)ix->dims[i], (long long)x->dims[i]);
    int64_t st[MAXR], coord[MAXR] = {0};
    strides_of(r, x->dims, st);
    int64_t total = rt_numel(ix), n = x->dims[axis], off = 0;
    for (int64_t e = 0; e < total; e++) {
        int64_t v = int_at(ix, e);
        if (v < -n || v >= n)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME,
                           "%s: index %lld is out of range for axis %d of size %lld", op,
                           (long long)v, axis, (long long)n);
        if (v < 0) v += n;
        int st_ = fn(u, e, off + v * st[axis]);
        if (st_) return st_;
        for (int i = r - 1; i >= 0; i--) {
            coord[i]++;
            if (i != axis) off += st[i];
            if (coord[i] < ix->dims[i]) break;
            if (i != axis) off -= coord[i] * st[i];
            coord[i] = 0;
        }
    }
    return 0;
}

typedef struct CopyElem {
    char *dst;
    const char *src;
    size_t es;
} CopyElem;

static int gather_elem(void *u, int64_t e, int64_t off) {
    CopyElem *c = u;
    memcpy(c->dst + (size_t)e * c->es, c->src + (size_t)off * c->es, c->es);
    return 0;
}

int rt_k_gather_elements(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                         RtTensor *out, int nout) {
    const RtAxisParams *p = params;
    if (check_io(ctx, "GatherElements", params, 1, nin, 2, nout, in, out)) return ctx->status;
    if (!dims_equal(&out[0], in[1].rank, in[1].dims))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "GatherElements: output shape differs from indices");
    CopyElem c = {out[0].data, in[0].data, rt_dtype_size(in[0].dtype)};
    return walk_elements(ctx, "GatherElements", &in[0], &in[1], p->axis, gather_elem, &c);
}

/* ------------------------------------------------------------------------------ GatherND */

/* Geometry shared by GatherND and ScatterND: data [B..., D...], indices [B..., I..., m] with
 * b = batch_dims leading batch dims; each index tuple of m values picks the slice
 * data[b..., t0, ..., t(m-1), :...] of `slice` elements. */
typedef struct NdGeom {
    int64_t nbatch;      /* product of the batch dims */
    int64_t ntuple;      /* index tuples per batch */
    int64_t m;           /* values per tuple */
    int64_t slice;       /* elements per picked slice */
    int64_t batch_elems; /* data elements per batch */
    int64_t st[MAXR];    /* data strides of the indexed dims b..b+m-1 */
    const int64_t *dims; /* their sizes */
} NdGeom;

static int nd_geom(RtCtx *ctx, const char *op, const RtTensor *x, const RtTensor *ix, int b,
                   NdGeom *g) {
    int r = x->rank, q = ix->rank;
    if (!is_int_tensor(ix) || q < 1 || b < 0 || b >= q || b >= r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: bad indices rank %d or batch_dims %d", op, q, b);
    g->m = ix->dims[q - 1];
    if (g->m < 1 || g->m > r - b)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: index tuples of %lld values for data rank %d",
                       op, (long long)g->m, r);
    g->nbatch = 1;
    for (int i = 0; i < b; i++) {
        if (ix->dims[i] != x->dims[i])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: batch dim %d differs", op, i);
        g->nbatch *= x->dims[i];
    }
    g->ntuple = 1;
    for (int i = b; i < q - 1; i++) g->ntuple *= ix->dims[i];
    g->slice = 1;
    for (int i = b + (int)g->m; i < r; i++) g->slice *= x->dims[i];
    int64_t st[MAXR];
    strides_of(r, x->dims, st);
    g->batch_elems = 1;
    for (int i = b; i < r; i++) g->batch_elems *= x->dims[i];
    for (int j = 0; j < g->m; j++) g->st[j] = st[b + j];
    g->dims = x->dims + b;
    return 0;
}

/* Data offset (within a batch) of tuple t of batch bi; -1 + rt_fail on an index out of range. */
static int nd_offset(RtCtx *ctx, const char *op, const NdGeom *g, const RtTensor *ix, int64_t bi,
                     int64_t t, int64_t *off) {
    int64_t o = 0, base = (bi * g->ntuple + t) * g->m;
    for (int64_t j = 0; j < g->m; j++) {
        int64_t v = int_at(ix, base + j), n = g->dims[j];
        if (v < -n || v >= n)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME,
                           "%s: index %lld is out of range for a dim of size %lld", op,
                           (long long)v, (long long)n);
        if (v < 0) v += n;
        o += v * g->st[j];
    }
    *off = o;
    return 0;
}

int rt_k_gather_nd(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtGatherNDParams *p = params;
    if (check_io(ctx, "GatherND", params, 1, nin, 2, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *ix = &in[1];
    NdGeom g;
    if (nd_geom(ctx, "GatherND", x, ix, p->batch_dims, &g)) return ctx->status;
    int64_t want[2 * MAXR];
    int k = 0;
    for (int i = 0; i < ix->rank - 1; i++) want[k++] = ix->dims[i];
    for (int i = p->batch_dims + (int)g.m; i < x->rank; i++) want[k++] = x->dims[i];
    if (k > MAXR || !dims_equal(&out[0], k, want))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "GatherND: output shape does not match");
    size_t es = rt_dtype_size(x->dtype), blk = (size_t)g.slice * es;
    const char *src = x->data;
    char *dst = out[0].data;
    for (int64_t bi = 0; bi < g.nbatch; bi++)
        for (int64_t t = 0; t < g.ntuple; t++) {
            int64_t off;
            if (nd_offset(ctx, "GatherND", &g, ix, bi, t, &off)) return ctx->status;
            if (blk) memcpy(dst, src + (size_t)(bi * g.batch_elems + off) * es, blk);
            dst += blk;
        }
    return 0;
}

/* ------------------------------------------------------------------------------ Slice */

/* Resolves Slice-10+ starts/ends/axes/steps (int32/int64 1-D tensors; axes and steps may be
 * absent: rank < 0) against dims into start/step/len per dim. Returns 0 or a status. */
static int slice_resolve(RtCtx *ctx, int r, const int64_t *dims, const RtTensor *starts,
                         const RtTensor *ends, const RtTensor *axes, const RtTensor *steps,
                         int64_t *start, int64_t *step, int64_t *len) {
    if (!is_int_tensor(starts) || !is_int_tensor(ends) || starts->rank != 1 ||
        ends->rank != 1 || ends->dims[0] != starts->dims[0])
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: starts and ends must be 1-D of one length");
    int64_t k = starts->dims[0];
    if ((axes->rank >= 0 && (!is_int_tensor(axes) || axes->rank != 1 || axes->dims[0] != k)) ||
        (steps->rank >= 0 && (!is_int_tensor(steps) || steps->rank != 1 || steps->dims[0] != k)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: axes and steps must match starts");
    if (k > r) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: %lld axes for rank %d", (long long)k, r);
    unsigned char seen[MAXR] = {0};
    for (int d = 0; d < r; d++) {
        start[d] = 0;
        step[d] = 1;
        len[d] = dims[d];
    }
    for (int64_t i = 0; i < k; i++) {
        int64_t a = axes->rank >= 0 ? int_at(axes, i) : i;
        if (a < 0) a += r;
        if (a < 0 || a >= r || seen[a])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: axis %lld out of range or repeated",
                           (long long)(axes->rank >= 0 ? int_at(axes, i) : i));
        seen[a] = 1;
        int64_t s = int_at(starts, i), e = int_at(ends, i), n = dims[a];
        int64_t st = steps->rank >= 0 ? int_at(steps, i) : 1;
        if (st == 0) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: step 0");
        if (s < 0) s += n;
        if (e < 0) e += n;
        int64_t l;
        if (st > 0) {
            s = s < 0 ? 0 : s > n ? n : s;
            e = e < 0 ? 0 : e > n ? n : e;
            l = e > s ? (e - s - 1) / st + 1 : 0;
        } else {
            s = s < 0 ? 0 : s > n - 1 ? n - 1 : s;
            e = e < -1 ? -1 : e > n - 1 ? n - 1 : e;
            /* -st overflows for INT64_MIN; any step beyond the span takes one element */
            l = s > e ? (st < -n - 1 ? 1 : (s - e - 1) / -st + 1) : 0;
        }
        start[a] = s;
        step[a] = st;
        len[a] = l;
    }
    return 0;
}

int rt_k_slice(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    const RtSliceParams *p = params;
    if (check_io(ctx, "Slice", params, 1, nin, 1, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0];
    int r = x->rank;
    if (p->rank != r || out[0].rank != r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: rank %d, input %d, output %d", (int)p->rank,
                       r, (int)out[0].rank);
    int64_t start[MAXR], step[MAXR], len[MAXR];
    if (p->from_inputs) {
        static const RtTensor absent = {NULL, NULL, -1, 0};
        if (nin < 3)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Slice: starts and ends are required");
        if (slice_resolve(ctx, r, x->dims, &in[1], &in[2], nin > 3 ? &in[3] : &absent,
                          nin > 4 ? &in[4] : &absent, start, step, len))
            return ctx->status;
        if (rt_out_alloc(ctx, &out[0], len)) return ctx->status;
    } else {
        for (int d = 0; d < r; d++) {
            start[d] = p->start[d];
            step[d] = p->step[d];
        }
    }
    int64_t st[MAXR], vst[MAXR], base = 0;
    strides_of(r, x->dims, st);
    for (int d = 0; d < r; d++) {
        int64_t l = out[0].dims[d], n = x->dims[d];
        if (step[d] == 0) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: step 0");
        if (l > 0) {
            int64_t last;
            if (__builtin_mul_overflow(l - 1, step[d], &last) ||
                __builtin_add_overflow(last, start[d], &last) || start[d] < 0 || start[d] >= n ||
                last < 0 || last >= n)
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Slice: dim %d reads outside [0, %lld)", d,
                               (long long)n);
        }
        base += start[d] * st[d];
        vst[d] = step[d] * st[d];
    }
    if (rt_numel(&out[0]) == 0) return 0;
    rt_strided_gather(out[0].data, x->data, r, out[0].dims, vst, base, rt_dtype_size(x->dtype));
    return 0;
}

/* ------------------------------------------------------------------------------ Split */

/* Splits in[0] along axis into the outputs, whose dims along axis give the part sizes; an
 * optional in[1] (split sizes) must agree with them. */
int rt_k_split(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    const RtAxisParams *p = params;
    if (check_io(ctx, "Split", params, 1, nin, 1, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0];
    int r = x->rank, axis = p->axis;
    if (axis < 0 || axis >= r) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Split: bad axis %d", axis);
    const RtTensor *sp = nin > 1 && in[1].rank >= 0 ? &in[1] : NULL;
    if (sp && (!is_int_tensor(sp) || sp->rank != 1 || sp->dims[0] != nout))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Split: 'split' must have one value per output");
    int64_t sum = 0;
    for (int k = 0; k < nout; k++) {
        const RtTensor *y = &out[k];
        if (y->rank < 0) continue;
        if (y->rank != r || y->dtype != x->dtype)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Split: output %d rank/type differs", k);
        for (int i = 0; i < r; i++)
            if (i != axis && y->dims[i] != x->dims[i])
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Split: output %d dim %d differs", k, i);
        if (sp && int_at(sp, k) != y->dims[axis])
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "Split: split[%d] is %lld, the model was compiled for %lld", k,
                           (long long)int_at(sp, k), (long long)y->dims[axis]);
        if (rt_numel(y) > 0 && !y->data)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Split: missing output data");
        sum += y->dims[axis];
    }
    int all = 1;
    for (int k = 0; k < nout; k++) all &= out[k].rank >= 0;
    if (all ? sum != x->dims[axis] : sum > x->dims[axis])
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Split: parts sum to %lld, the axis has %lld",
                       (long long)sum, (long long)x->dims[axis]);
    if (!all)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Split: every output must be present");
    size_t es = rt_dtype_size(x->dtype);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = axis + 1; i < r; i++) inner *= x->dims[i];
    size_t row = (size_t)(x->dims[axis] * inner) * es, pos = 0;
    const char *src = x->data;
    for (int k = 0; k < nout; k++) {
        size_t blk = (size_t)(out[k].dims[axis] * inner) * es;
        char *dst = out[k].data;
        if (blk)
            for (int64_t o = 0; o < outer; o++)
                memcpy(dst + (size_t)o * blk, src + (size_t)o * row + pos, blk);
        pos += blk;
    }
    return 0;
}

/* ------------------------------------------------------------------------------ Expand, Tile */

/* Expand: out = broadcast of in[0] with the shape in[1] (numpy rules, both directions); the
 * shape must give out.dims. */
int rt_k_expand(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    (void)params;
    if (check_io(ctx, "Expand", params, 0, nin, 2, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *s = &in[1], *y = &out[0];
    if (!is_int_tensor(s) || s->rank != 1 || s->dims[0] > MAXR)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Expand: shape must be a 1-D int64 tensor");
    int k = (int)s->dims[0], r = x->rank, R = k > r ? k : r;
    int64_t want[MAXR];
    for (int i = 0; i < R; i++) {
        int ia = i - (R - r), ib = i - (R - k);
        int64_t a = ia >= 0 ? x->dims[ia] : 1, b = ib >= 0 ? int_at(s, ib) : 1;
        if (b < 0 || (a != b && a != 1 && b != 1))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Expand: dim %lld cannot broadcast to %lld",
                           (long long)a, (long long)b);
        want[i] = a == 1 ? b : a;
    }
    if (y->rank != R) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Expand: output rank %d, expected %d",
                                     (int)y->rank, R);
    if (rt_out_alloc(ctx, &out[0], want)) return ctx->status;
    int64_t st[MAXR], vst[MAXR];
    strides_of(r, x->dims, st);
    for (int i = 0; i < R; i++) {
        int ia = i - (R - r);
        vst[i] = (ia < 0 || x->dims[ia] == 1) ? 0 : st[ia];
    }
    if (rt_numel(y) == 0) return 0;
    rt_strided_gather(y->data, x->data, R, y->dims, vst, 0, rt_dtype_size(x->dtype));
    return 0;
}

/* Tile: out.dims[d] = in.dims[d] * repeats[d]; output dim d is walked as the pair
 * (repeat, position) so the whole op is one strided view with stride 0 for the repeats. */
int rt_k_tile(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    (void)params;
    if (check_io(ctx, "Tile", params, 0, nin, 2, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *rep = &in[1], *y = &out[0];
    int r = x->rank;
    if (!is_int_tensor(rep) || rep->rank != 1 || rep->dims[0] != r)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Tile: repeats must be 1-D with %d values", r);
    int64_t want[MAXR], dims2[2 * MAXR], vst[2 * MAXR], st[MAXR];
    for (int i = 0; i < r; i++) {
        int64_t t = int_at(rep, i);
        if (t < 0 || __builtin_mul_overflow(x->dims[i], t, &want[i]))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Tile: bad repeat %lld", (long long)t);
    }
    if (y->rank != r) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Tile: output rank differs");
    if (rt_out_alloc(ctx, &out[0], want)) return ctx->status;
    if (rt_numel(y) == 0) return 0;
    strides_of(r, x->dims, st);
    for (int i = 0; i < r; i++) {
        dims2[2 * i] = int_at(rep, i);
        vst[2 * i] = 0;
        dims2[2 * i + 1] = x->dims[i];
        vst[2 * i + 1] = st[i];
    }
    rt_strided_gather(y->data, x->data, 2 * r, dims2, vst, 0, rt_dtype_size(x->dtype));
    return 0;
}

/* ------------------------------------------------------------------------------ Range */

/* Range: out[i] = start + i * delta for i < max(ceil((limit - start) / delta), 0). Integer
 * types are computed exactly in 64 bits; float and double as numpy's arange fills (the second
 * element's difference times i, in the element type); float16/bfloat16 in float. */
int rt_k_range(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    (void)params;
    if (check_io(ctx, "Range", params, 0, nin, 3, nout, in, out)) return ctx->status;
    int dt = out[0].dtype;
    for (int i = 0; i < 3; i++)
        if (in[i].dtype != dt || rt_numel(&in[i]) != 1 || in[i].rank > 1 || !in[i].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Range: input %d must be a scalar of the output type", i);
    if (out[0].rank != 1) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Range: the output must be 1-D");
    int64_t n = out[0].dims[0], want;
    if (dt == T_INT64 || dt == T_INT32 || dt == T_INT16 || dt == T_INT8) {
        double ds, dl, dd;
        load_f64(&in[0], 0, &ds);
        load_f64(&in[1], 0, &dl);
        load_f64(&in[2], 0, &dd);
        int64_t s = dt == T_INT64 ? ((const int64_t *)in[0].data)[0] : (int64_t)ds;
        int64_t l = dt == T_INT64 ? ((const int64_t *)in[1].data)[0] : (int64_t)dl;
        int64_t d = dt == T_INT64 ? ((const int64_t *)in[2].data)[0] : (int64_t)dd;
        if (d == 0) return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Range: delta is 0");
        __int128 span = (__int128)l - s, c;
        if (d > 0) c = span > 0 ? (span + d - 1) / d : 0;
        else c = span < 0 ? (-span + (-(__int128)d) - 1) / (-(__int128)d) : 0;
        if (c > INT64_MAX) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Range: too many elements");
        want = (int64_t)c;
        if ((want != n || !out[0].data) && rt_out_alloc(ctx, &out[0], &want)) goto mismatch;
        n = want;
        for (int64_t i = 0; i < n; i++) {
            int64_t v = (int64_t)((uint64_t)s + (uint64_t)i * (uint64_t)d);
            switch (dt) {
            case T_INT64: ((int64_t *)out[0].data)[i] = v; break;
            case T_INT32: ((int32_t *)out[0].data)[i] = (int32_t)v; break;
            case T_INT16: ((int16_t *)out[0].data)[i] = (int16_t)v; break;
            default: ((int8_t *)out[0].data)[i] = (int8_t)v; break;
            }
        }
        return 0;
    }
    double s, l, d;
    if (load_f64(&in[0], 0, &s) || load_f64(&in[1], 0, &l) || load_f64(&in[2], 0, &d) ||
        dt == T_BOOL || dt == T_STRING)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Range: unsupported element type %d", dt);
    if (d == 0 || d != d || s != s || l != l)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Range: delta is 0 or a value is NaN");
    double c = (l - s) / d;
    if (c > 9.0e15) return rt_fail(ctx, ONNXC_ERR_SHAPE, "Range: too many elements");
    want = c > 0 ? (int64_t)c : 0;
    if ((double)want < c) want++;
    if ((want != n || !out[0].data) && rt_out_alloc(ctx, &out[0], &want)) goto mismatch;
    n = want;
    if (dt == T_FLOAT) {
        float fs = (float)s, fd = (float)(float)((float)s + (float)d) - (float)s;
        float *o = out[0].data;
        for (int64_t i = 0; i < n; i++) o[i] = i == 1 ? (float)s + (float)d : fs + (float)i * fd;
        return 0;
    }
    if (dt == T_DOUBLE) {
        double dd = (s + d) - s, *o = out[0].data;
        for (int64_t i = 0; i < n; i++) o[i] = i == 1 ? s + d : s + (double)i * dd;
        return 0;
    }
    size_t es = rt_dtype_size(dt);
    for (int64_t i = 0; i < n; i++)
        if (store_f64((char *)out[0].data + (size_t)i * es, dt, (double)((float)s + (float)i * (float)d)))
            return rt_fail(ctx, ONNXC_ERR_TYPE, "Range: unsupported element type %d", dt);
    return 0;
mismatch:
    return rt_fail(ctx, ONNXC_ERR_SHAPE,
                   "Range: the inputs give %lld elements, the model was compiled for %lld",
                   (long long)want, (long long)n);
}

/* ------------------------------------------------------------------------------ Pad */

/* Maps output position o of a padded dim to a position of the (cropped) input dim of size m
 * that starts at lo: -1 for the constant value. b is the (non-negative) begin pad. */
static int64_t pad_map(int64_t o, int64_t b, int64_t m, int64_t lo, int mode) {
    int64_t i = o - b;
    if (i >= 0 && i < m) return lo + i;
    switch (mode) {
    case RT_PAD_EDGE:
        return lo + (i < 0 ? 0 : m - 1);
    case RT_PAD_REFLECT: {
        if (m == 1) return lo;
        int64_t per = 2 * (m - 1);
        i %= per;
        if (i < 0) i += per;
        if (i >= m) i = per - i;
        return lo + i;
    }
    case RT_PAD_WRAP:
        i %= m;
        if (i < 0) i += m;
        return lo + i;
    default:
        return -1;
    }
}

/* Pad: each output dim is [begin pad | input (cropped by negative pads) | end pad]; the padding
 * holds the constant value or a reflected / edge / wrapped input position (computed on the
 * input cropped first, as the reference implementation does). */
int rt_k_pad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtPadParams *p = params;
    if (check_io(ctx, "Pad", params, 1, nin, 1, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *y = &out[0];
    int r = x->rank, mode = p->mode;
    size_t es = rt_dtype_size(x->dtype);
    if (p->rank != r || y->rank != r || mode < 0 || mode > RT_PAD_WRAP)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: rank or mode does not match");
    int64_t pads[2 * MAXR];
    uint8_t value[16] = {0};
    if (p->from_inputs) {
        const RtTensor *pt = nin > 1 ? &in[1] : NULL;
        const RtTensor *ax = nin > 3 && in[3].rank >= 0 ? &in[3] : NULL;
        if (!pt || !is_int_tensor(pt) || pt->rank != 1)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: pads must be a 1-D int64 tensor");
        int64_t na = ax ? (is_int_tensor(ax) && ax->rank == 1 ? ax->dims[0] : -1) : r;
        if (na < 0 || na > r || pt->dims[0] != 2 * na)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: pads has %lld values for %lld axes",
                           (long long)pt->dims[0], (long long)na);
        memset(pads, 0, sizeof pads);
        unsigned char seen[MAXR] = {0};
        for (int64_t i = 0; i < na; i++) {
            int64_t a = ax ? int_at(ax, i) : i;
            if (a < 0) a += r;
            if (a < 0 || a >= r || seen[a])
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: axis out of range or repeated");
            seen[a] = 1;
            pads[a] = int_at(pt, i);
            pads[r + a] = int_at(pt, na + i);
        }
        if (nin > 2 && in[2].rank >= 0 && rt_numel(&in[2]) > 0) {
            if (in[2].dtype != x->dtype || !in[2].data || es > sizeof value)
                return rt_fail(ctx, ONNXC_ERR_TYPE, "Pad: constant_value type differs from data");
            memcpy(value, in[2].data, es);
        }
    } else {
        memcpy(pads, p->pads, sizeof(int64_t) * 2 * (size_t)r);
        if (es <= sizeof value && x->dtype != T_STRING) store_f64(value, x->dtype, p->value);
    }
    int64_t lo[MAXR], m[MAXR], b[MAXR], st[MAXR], wd[MAXR];
    for (int d = 0; d < r; d++) {
        int64_t n = x->dims[d], pb = pads[d], pe = pads[r + d], want;
        if (pb < -n || pe < -n || __builtin_add_overflow(n, pb, &want) ||
            __builtin_add_overflow(want, pe, &want))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: pads of dim %d out of range", d);
        lo[d] = pb < 0 ? -pb : 0;
        m[d] = n - lo[d] - (pe < 0 ? -pe : 0);
        b[d] = pb > 0 ? pb : 0;
        if (m[d] < 0)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: pads give dim %d = %lld", d, (long long)want);
        wd[d] = want;
    }
    /* the output shape comes from the pads (docs/DYNAMIC_SHAPES.md) */
    if (rt_out_alloc(ctx, &out[0], wd)) return ctx->status;
    for (int d = 0; d < r; d++) {
        if (m[d] == 0 && mode != RT_PAD_CONSTANT && y->dims[d] > 0)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Pad: cannot %s-pad an empty dim %d",
                           mode == RT_PAD_EDGE ? "edge" : mode == RT_PAD_WRAP ? "wrap" : "reflect", d);
    }
    int64_t total = rt_numel(y);
    if (total == 0) return 0;
    strides_of(r, x->dims, st);
    char *dst = y->data;
    const char *src = x->data;
    if (r == 0) {
        memcpy(dst, src, es);
        return 0;
    }
    int64_t inner = y->dims[r - 1], idx[MAXR] = {0};
    for (int64_t done = 0; done < total; done += inner) {
        /* offset of the row in the input, or -1 when a padded position of an outer dim makes
         * the whole row the constant value */
        int64_t off = 0;
        for (int d = 0; d < r - 1 && off >= 0; d++) {
            int64_t s = pad_map(idx[d], b[d], m[d], lo[d], mode);
            off = s < 0 ? -1 : off + s * st[d];
        }
        char *row = dst + (size_t)done * es;
        if (off < 0) {
            fill_elems(row, value, inner, es);
        } else {
            int d = r - 1;
            for (int64_t o = 0; o < inner; o++) {
                int64_t s = pad_map(o, b[d], m[d], lo[d], mode);
                memcpy(row + (size_t)o * es, s < 0 ? (const char *)value : src + (size_t)(off + s) * es, es);
            }
        }
        for (int d = r - 2; d >= 0; d--) {
            if (++idx[d] < y->dims[d]) break;
            idx[d] = 0;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ OneHot */

/* OneHot: out has indices' dims with depth inserted at `axis`; every element is values[0]
 * (off) except out[..., k, ...] = values[1] (on) where k is the index (negative counts from
 * depth; indices outside [-depth, depth) leave their row off). */
int rt_k_onehot(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtAxisParams *p = params;
    if (!p || nin < 3 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "OneHot: expected params, 3 inputs, an output");
    const RtTensor *ix = &in[0], *dp = &in[1], *vals = &in[2], *y = &out[0];
    size_t es = rt_dtype_size(y->dtype);
    double dd;
    if (vals->dtype != y->dtype || rt_numel(vals) != 2 || !vals->data || es == 0)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "OneHot: values must be [off, on] of the output type");
    if (rt_numel(dp) != 1 || !dp->data || load_f64(dp, 0, &dd))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "OneHot: depth must be one number");
    int64_t depth = rt_d2i64(dd);
    int q = ix->rank, axis = p->axis;
    if (q < 0 || q + 1 > MAXR || y->rank != q + 1 || axis < 0 || axis > q || depth < 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "OneHot: bad rank, axis or depth");
    int64_t want[MAXR];
    for (int i = 0, j = 0; i <= q; i++) want[i] = i == axis ? depth : ix->dims[j++];
    if (!dims_equal(y, q + 1, want))
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "OneHot: depth %lld gives a shape other than the compiled one",
                       (long long)depth);
    int64_t total = rt_numel(y), nidx = rt_numel(ix);
    if (total == 0) return 0;
    if (nidx > 0 && !ix->data) return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "OneHot: no indices");
    fill_elems(y->data, vals->data, total, es);
    int64_t inner = 1;
    for (int i = axis; i < q; i++) inner *= ix->dims[i];
    const char *on = (const char *)vals->data + es;
    for (int64_t e = 0; e < nidx; e++) {
        double v;
        if (load_f64(ix, e, &v)) return rt_fail(ctx, ONNXC_ERR_TYPE, "OneHot: indices type");
        int64_t k = rt_d2i64(v);
        if (k < 0) k += depth;
        if (k < 0 || k >= depth) continue;
        int64_t o = e / inner, i = e % inner;
        memcpy((char *)y->data + (size_t)((o * depth + k) * inner + i) * es, on, es);
    }
    return 0;
}

/* ------------------------------------------------------------------------------ Scatter */

/* Signed integers combine through unsigned arithmetic (wrapping, no undefined behaviour). */
#define RED_INT(T, UT)                                                                        \
    {                                                                                         \
        T a, b;                                                                               \
        memcpy(&a, dst, sizeof a);                                                            \
        memcpy(&b, src, sizeof b);                                                            \
        switch (red) {                                                                        \
        case RT_SCATTER_ADD: a = (T)(UT)((UT)a + (UT)b); break;                               \
        case RT_SCATTER_MUL: a = (T)(UT)((UT)a * (UT)b); break;                               \
        case RT_SCATTER_MAX: a = b > a ? b : a; break;                                        \
        default: a = b < a ? b : a; break;                                                    \
        }                                                                                     \
        memcpy(dst, &a, sizeof a);                                                            \
        return 0;                                                                             \
    }
/* Floats: max/min propagate NaN like numpy's maximum/minimum. */
#define RED_FLT(T, LOAD, STORE)                                                               \
    {                                                                                         \
        T a = LOAD(dst), b = LOAD(src);                                                       \
        switch (red) {                                                                        \
        case RT_SCATTER_ADD: a = a + b; break;                                                \
        case RT_SCATTER_MUL: a = a * b; break;                                                \
        case RT_SCATTER_MAX: a = (b != b || b > a) ? b : a; break;                            \
        default: a = (b != b || b < a) ? b : a; break;                                        \
        }                                                                                     \
        STORE(dst, a);                                                                        \
        return 0;                                                                             \
    }
static inline float ld_f32(const void *p) { float v; memcpy(&v, p, 4); return v; }
static inline void st_f32(void *p, float v) { memcpy(p, &v, 4); }
static inline double ld_f64(const void *p) { double v; memcpy(&v, p, 8); return v; }
static inline void st_f64(void *p, double v) { memcpy(p, &v, 8); }
static inline float ld_h(const void *p) { uint16_t v; memcpy(&v, p, 2); return rt_h2f(v); }
static inline void st_h(void *p, float v) { uint16_t h = rt_f2h(v); memcpy(p, &h, 2); }
static inline float ld_bf(const void *p) { uint16_t v; memcpy(&v, p, 2); return rt_bf2f(v); }
static inline void st_bf(void *p, float v) { uint16_t h = rt_f2bf(v); memcpy(p, &h, 2); }

/* dst = dst (red) src for one element of type dt; -1 for a type without arithmetic. Bool adds
 * and maximises as "or", multiplies and minimises as "and" (numpy's bool arithmetic). */
static int combine(void *dst, const void *src, int dt, int red) {
    switch (dt) {
    case T_FLOAT: RED_FLT(float, ld_f32, st_f32)
    case T_DOUBLE: RED_FLT(double, ld_f64, st_f64)
    case T_FLOAT16: RED_FLT(float, ld_h, st_h)
    case T_BFLOAT16: RED_FLT(float, ld_bf, st_bf)
    case T_INT8: RED_INT(int8_t, uint8_t)
    case T_UINT8: RED_INT(uint8_t, uint8_t)
    case T_INT16: RED_INT(int16_t, uint16_t)
    case T_UINT16: RED_INT(uint16_t, uint16_t)
    case T_INT32: RED_INT(int32_t, uint32_t)
    case T_UINT32: RED_INT(uint32_t, uint32_t)
    case T_INT64: RED_INT(int64_t, uint64_t)
    case T_UINT64: RED_INT(uint64_t, uint64_t)
    case T_BOOL: {
        uint8_t *a = dst;
        uint8_t b = *(const uint8_t *)src != 0;
        *a = (red == RT_SCATTER_ADD || red == RT_SCATTER_MAX) ? (*a || b) : (*a && b);
        return 0;
    }
    default:
        return -1;
    }
}

typedef struct ScatterElem {
    RtCtx *ctx;
    char *dst;
    const char *upd;
    size_t es;
    int dt, red;
} ScatterElem;

static int scatter_elem(void *u, int64_t e, int64_t off) {
    ScatterElem *s = u;
    char *d = s->dst + (size_t)off * s->es;
    const char *v = s->upd + (size_t)e * s->es;
    if (s->red == RT_SCATTER_NONE) memcpy(d, v, s->es);
    else if (combine(d, v, s->dt, s->red))
        return rt_fail(s->ctx, ONNXC_ERR_TYPE, "ScatterElements: no reduction for element type %d",
                       s->dt);
    return 0;
}

/* Copies in[0] (data) to the output when they are distinct buffers. */
static void copy_data(const RtTensor *x, RtTensor *y) {
    int64_t n = rt_numel(x);
    if (n > 0 && x->data != y->data) memmove(y->data, x->data, (size_t)n * rt_dtype_size(x->dtype));
}

int rt_k_scatter_elements(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                          RtTensor *out, int nout) {
    const RtScatterParams *p = params;
    if (check_io(ctx, "ScatterElements", params, 1, nin, 3, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *ix = &in[1], *upd = &in[2];
    if (!dims_equal(&out[0], x->rank, x->dims) || upd->dtype != x->dtype ||
        !dims_equal(upd, ix->rank, ix->dims) || (rt_numel(upd) > 0 && !upd->data))
        return rt_fail(ctx, ONNXC_ERR_SHAPE,
                       "ScatterElements: output must match data, updates must match indices");
    if (p->reduction < RT_SCATTER_NONE || p->reduction > RT_SCATTER_MIN)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ScatterElements: bad reduction");
    copy_data(x, &out[0]);
    ScatterElem s = {ctx, out[0].data, upd->data, rt_dtype_size(x->dtype), x->dtype,
                     p->reduction};
    return walk_elements(ctx, "ScatterElements", x, ix, p->axis, scatter_elem, &s);
}

int rt_k_scatter_nd(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                    int nout) {
    const RtScatterParams *p = params;
    if (check_io(ctx, "ScatterND", params, 1, nin, 3, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *ix = &in[1], *upd = &in[2];
    if (!dims_equal(&out[0], x->rank, x->dims) || upd->dtype != x->dtype ||
        (rt_numel(upd) > 0 && !upd->data))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ScatterND: output must match data");
    if (p->reduction < RT_SCATTER_NONE || p->reduction > RT_SCATTER_MIN)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ScatterND: bad reduction");
    NdGeom g;
    if (nd_geom(ctx, "ScatterND", x, ix, 0, &g)) return ctx->status;
    /* updates: indices.dims[:-1] + data.dims[m:] */
    int64_t want[2 * MAXR];
    int k = 0;
    for (int i = 0; i < ix->rank - 1; i++) want[k++] = ix->dims[i];
    for (int i = (int)g.m; i < x->rank; i++) want[k++] = x->dims[i];
    if (!dims_equal(upd, k, want))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ScatterND: updates shape does not match");
    copy_data(x, &out[0]);
    size_t es = rt_dtype_size(x->dtype);
    char *dst = out[0].data;
    const char *u = upd->data;
    for (int64_t t = 0; t < g.ntuple; t++) {
        int64_t off;
        if (nd_offset(ctx, "ScatterND", &g, ix, 0, t, &off)) return ctx->status;
        char *d = dst + (size_t)off * es;
        const char *v = u + (size_t)(t * g.slice) * es;
        if (p->reduction == RT_SCATTER_NONE) {
            if (g.slice) memcpy(d, v, (size_t)g.slice * es);
        } else {
            for (int64_t j = 0; j < g.slice; j++)
                if (combine(d + (size_t)j * es, v + (size_t)j * es, x->dtype, p->reduction))
                    return rt_fail(ctx, ONNXC_ERR_TYPE,
                                   "ScatterND: no reduction for element type %d", (int)x->dtype);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------ Trilu */

int rt_k_trilu(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    const RtTriluParams *p = params;
    if (check_io(ctx, "Trilu", params, 1, nin, 1, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0];
    int r = x->rank;
    if (r < 2 || !dims_equal(&out[0], r, x->dims))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Trilu: input rank %d < 2 or output differs", r);
    int64_t k = 0;
    if (nin > 1 && in[1].rank >= 0 && int_scalar(&in[1], &k))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Trilu: k must be one int64");
    int64_t nr = x->dims[r - 2], nc = x->dims[r - 1], mats = rt_numel(x);
    if (nr == 0 || nc == 0 || mats == 0) return 0;
    mats /= nr * nc;
    /* keep the sane range of k: beyond it the whole matrix is kept or zeroed */
    if (k > nc + 1) k = nc + 1;
    if (k < -nr - 1) k = -nr - 1;
    size_t es = rt_dtype_size(x->dtype);
    const char *src = x->data;
    char *dst = out[0].data;
    for (int64_t mi = 0; mi < mats; mi++)
        for (int64_t i = 0; i < nr; i++) {
            size_t row = (size_t)((mi * nr + i) * nc) * es;
            /* upper keeps j >= i + k, lower keeps j <= i + k */
            int64_t c = p->upper ? i + k : i + k + 1;
            c = c < 0 ? 0 : c > nc ? nc : c;
            int64_t keep0 = p->upper ? c : 0, keep1 = p->upper ? nc : c;
            memset(dst + row, 0, (size_t)nc * es);
            if (keep1 > keep0)
                memmove(dst + row + (size_t)keep0 * es, src + row + (size_t)keep0 * es,
                        (size_t)(keep1 - keep0) * es);
        }
    return 0;
}

/* ------------------------------------------------------------------------------ CumSum */

#define CUMSUM_LOOP(T, ACC, LOAD, STORE)                                                       \
    for (int64_t o = 0; o < outer; o++)                                                        \
        for (int64_t i = 0; i < inner; i++) {                                                  \
            ACC acc = 0;                                                                       \
            for (int64_t t = 0; t < n; t++) {                                                  \
                int64_t j = p->reverse ? n - 1 - t : t;                                        \
                size_t at = (size_t)((o * n + j) * inner + i);                                 \
                ACC v = LOAD(((const T *)src)[at]);                                            \
                if (p->exclusive) {                                                            \
                    ((T *)dst)[at] = STORE(acc);                                               \
                    acc = ACCUM(acc, v);                                                       \
                } else {                                                                       \
                    acc = ACCUM(acc, v);                                                       \
                    ((T *)dst)[at] = STORE(acc);                                               \
                }                                                                              \
            }                                                                                  \
        }

#define ID(x) (x)
#define ACC_NATIVE(a, v) ((a) + (v))
#define ACC_WRAP(a, v) ((uint64_t)(a) + (uint64_t)(v))
#define ACC_HALF(a, v) rt_h2f(rt_f2h((a) + (v)))
#define ACC_BF(a, v) rt_bf2f(rt_f2bf((a) + (v)))

/* CumSum along the axis given by in[1]: sums accumulate in the element type (integers wrap;
 * float16/bfloat16 round after every addition, as numpy's cumsum in those types). */
int rt_k_cumsum(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtCumSumParams *p = params;
    if (check_io(ctx, "CumSum", params, 1, nin, 2, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0];
    int r = x->rank;
    int64_t axis;
    if (int_scalar(&in[1], &axis))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "CumSum: axis must be one int32/int64");
    if (axis < -r || axis >= r || r == 0)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "CumSum: axis %lld is out of range for rank %d",
                       (long long)axis, r);
    if (axis < 0) axis += r;
    if (!dims_equal(&out[0], r, x->dims))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "CumSum: output differs from input");
    int64_t outer = 1, inner = 1, n = x->dims[axis];
    for (int i = 0; i < axis; i++) outer *= x->dims[i];
    for (int i = (int)axis + 1; i < r; i++) inner *= x->dims[i];
    if (rt_numel(x) == 0) return 0;
    const void *src = x->data;
    void *dst = out[0].data;
    switch (x->dtype) {
#define ACCUM ACC_NATIVE
    case T_FLOAT: CUMSUM_LOOP(float, float, ID, ID) return 0;
    case T_DOUBLE: CUMSUM_LOOP(double, double, ID, ID) return 0;
#undef ACCUM
#define ACCUM ACC_WRAP
    case T_INT8: CUMSUM_LOOP(int8_t, uint64_t, (uint64_t), (int8_t)) return 0;
    case T_UINT8: CUMSUM_LOOP(uint8_t, uint64_t, (uint64_t), (uint8_t)) return 0;
    case T_INT16: CUMSUM_LOOP(int16_t, uint64_t, (uint64_t), (int16_t)) return 0;
    case T_UINT16: CUMSUM_LOOP(uint16_t, uint64_t, (uint64_t), (uint16_t)) return 0;
    case T_INT32: CUMSUM_LOOP(int32_t, uint64_t, (uint64_t), (int32_t)) return 0;
    case T_UINT32: CUMSUM_LOOP(uint32_t, uint64_t, (uint64_t), (uint32_t)) return 0;
    case T_INT64: CUMSUM_LOOP(int64_t, uint64_t, (uint64_t), (int64_t)) return 0;
    case T_UINT64: CUMSUM_LOOP(uint64_t, uint64_t, (uint64_t), (uint64_t)) return 0;
#undef ACCUM
#define ACCUM ACC_HALF
    case T_FLOAT16: CUMSUM_LOOP(uint16_t, float, rt_h2f, rt_f2h) return 0;
#undef ACCUM
#define ACCUM ACC_BF
    case T_BFLOAT16: CUMSUM_LOOP(uint16_t, float, rt_bf2f, rt_f2bf) return 0;
#undef ACCUM
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "CumSum: unsupported element type %d", (int)x->dtype);
    }
}

/* ------------------------------------------------------------------------------ EyeLike */

int rt_k_eyelike(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    const RtEyeLikeParams *p = params;
    if (!p || nin < 1 || nout < 1 || in[0].rank != 2 || !dims_equal(&out[0], 2, in[0].dims))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "EyeLike: expects a 2-D input and output of its shape");
    size_t es = rt_dtype_size(out[0].dtype);
    uint8_t one[16];
    if (es == 0 || es > sizeof one || store_f64(one, out[0].dtype, 1.0))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "EyeLike: unsupported element type %d",
                       (int)out[0].dtype);
    int64_t nr = out[0].dims[0], nc = out[0].dims[1];
    if (nr * nc == 0) return 0;
    char *dst = out[0].data;
    memset(dst, 0, (size_t)(nr * nc) * es);
    for (int64_t i = 0; i < nr; i++) {
        if (p->k > nc || p->k < -nr) break;
        int64_t j = i + p->k;
        if (j >= 0 && j < nc) memcpy(dst + (size_t)(i * nc + j) * es, one, es);
    }
    return 0;
}

/* ------------------------------------------------------------------------------ DepthToSpace */

/* DepthToSpace (DCR, CRD) and SpaceToDepth on NCHW: each is a reshape to 6 dims, a transpose
 * and a reshape back, i.e. one strided view of the input walked in output order. */
int rt_k_depth_space(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                     int nout) {
    const RtDepthSpaceParams *p = params;
    if (check_io(ctx, "DepthToSpace", params, 1, nin, 1, nout, in, out)) return ctx->status;
    const RtTensor *x = &in[0], *y = &out[0];
    int64_t b = p->blocksize;
    if (x->rank != 4 || y->rank != 4 || b < 1 || p->mode < RT_D2S_DCR || p->mode > RT_S2D)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "DepthToSpace: 4-D tensors and blocksize >= 1");
    int64_t N = x->dims[0], C = x->dims[1], H = x->dims[2], W = x->dims[3];
    int64_t st[4], dims[6], vst[6];
    strides_of(4, x->dims, st);
    int64_t want[4];
    if (p->mode == RT_S2D) {
        if (H % b || W % b)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "SpaceToDepth: H, W must divide by blocksize");
        want[0] = N, want[1] = C * b * b, want[2] = H / b, want[3] = W / b;
        /* out[n, (i*b + j)*C + c, h, w] = in[n, c, h*b + i, w*b + j] */
        int64_t d6[6] = {N, b, b, C, H / b, W / b};
        int64_t s6[6] = {st[0], st[2], st[3], st[1], b * st[2], b * st[3]};
        memcpy(dims, d6, sizeof d6);
        memcpy(vst, s6, sizeof s6);
    } else {
        if (C % (b * b))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "DepthToSpace: C must divide by blocksize^2");
        int64_t c2 = C / (b * b);
        want[0] = N, want[1] = c2, want[2] = H * b, want[3] = W * b;
        int64_t d6[6] = {N, c2, H, b, W, b};
        /* DCR: out[n, c, h*b + i, w*b + j] = in[n, (i*b + j)*c2 + c, h, w]
         * CRD: out[n, c, h*b + i, w*b + j] = in[n, c*b*b + i*b + j, h, w] */
        int64_t s_dcr[6] = {st[0], st[1], st[2], b * c2 * st[1], st[3], c2 * st[1]};
        int64_t s_crd[6] = {st[0], b * b * st[1], st[2], b * st[1], st[3], st[1]};
        memcpy(dims, d6, sizeof d6);
        memcpy(vst, p->mode == RT_D2S_DCR ? s_dcr : s_crd, sizeof s_dcr);
    }
    if (!dims_equal(y, 4, want))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "DepthToSpace: output shape does not match");
    if (rt_numel(y) == 0) return 0;
    rt_strided_gather(y->data, x->data, 6, dims, vst, 0, rt_dtype_size(x->dtype));
    return 0;
}
