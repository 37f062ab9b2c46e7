/* rt_select.c - kernels of the select family: TopK, NonZero, Unique, Compress (ONNX
 * Operators.md). Their output shapes depend on data (or on a run-time k), so each kernel
 * computes its output shapes and reports them with rt_out_alloc (docs/DYNAMIC_SHAPES.md), which
 * either checks them against a preallocated static output or allocates from the context.
 * Ordering follows numpy (onnx/reference): ties keep the lower index first; NaN sorts last. */
#include <stdlib.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

#define MAXR 16

/* Element k of a numeric tensor, for comparisons: integers exactly (i or u), floats as double.
 * kind: 0 signed, 1 unsigned, 2 floating. Returns -1 for unsupported types. */
typedef struct Elem {
    int kind;
    int64_t i;
    uint64_t u;
    double f;
} Elem;

static int elem_kind(int dt) {
    switch (dt) {
    case 3: case 5: case 6: case 7: return 0;            /* int8/16/32/64 */
    case 2: case 4: case 12: case 13: case 9: return 1;  /* uint8/16/32/64, bool */
    case 1: case 10: case 11: case 16: return 2;         /* float, f16, double, bf16 */
    default: return -1;
    }
}

static Elem load(const void *p, int dt, int64_t k) {
    Elem e = {elem_kind(dt), 0, 0, 0};
    switch (dt) {
    case 3: e.i = ((const int8_t *)p)[k]; break;
    case 5: e.i = ((const int16_t *)p)[k]; break;
    case 6: e.i = ((const int32_t *)p)[k]; break;
    case 7: e.i = ((const int64_t *)p)[k]; break;
    case 2: case 9: e.u = ((const uint8_t *)p)[k]; break;
    case 4: e.u = ((const uint16_t *)p)[k]; break;
    case 12: e.u = ((const uint32_t *)p)[k]; break;
    case 13: e.u = ((const uint64_t *)p)[k]; break;
    case 1: e.f = ((const float *)p)[k]; break;
    case 11: e.f = ((const double *)p)[k]; break;
    case 10: e.f = rt_h2f(((const uint16_t *)p)[k]); break;
    case 16: e.f = rt_bf2f(((const uint16_t *)p)[k]); break;
    default: break;
    }
    return e;
}

/* -1, 0, 1 ordering of elements a and b (NaN after everything, NaNs equal). */
static int cmp_elem(const void *p, int dt, int64_t a, int64_t b) {
    Elem x = load(p, dt, a), y = load(p, dt, b);
    if (x.kind == 0)
        return (x.i > y.i) - (x.i < y.i);
    if (x.kind == 1)
        return (x.u > y.u) - (x.u < y.u);
    int xn = x.f != x.f, yn = y.f != y.f;
    if (xn || yn)
        return xn - yn;
    return (x.f > y.f) - (x.f < y.f);
}

/* Sort context: element j of the sequence is at data index base + j * stride (TopK), or row j
 * of a [outer, n, inner] view (Unique with rows). */
typedef struct SortCtx {
    const void *data;
    int dt;
    int64_t base, stride;  /* element sequence */
    int64_t outer, n, inner; /* rows (rows != 0) */
    int rows;
    int desc;              /* descending values */
} SortCtx;

static int cmp_key(const SortCtx *c, int64_t a, int64_t b) {
    if (!c->rows) {
        int r = cmp_elem(c->data, c->dt, c->base + a * c->stride, c->base + b * c->stride);
        return c->desc ? -r : r;
    }
    for (int64_t o = 0; o < c->outer; o++)
        for (int64_t i = 0; i < c->inner; i++) {
            int64_t pa = (o * c->n + a) * c->inner + i, pb = (o * c->n + b) * c->inner + i;
            int r = cmp_elem(c->data, c->dt, pa, pb);
            if (r)
                return r;
        }
    return 0;
}

/* Stable merge sort of idx[0..n) by key (ties: original order, i.e. lower index first). */
static void msort(const SortCtx *c, int64_t *idx, int64_t *tmp, int64_t n) {
    for (int64_t w = 1; w < n; w *= 2) {
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = cmp_key(c, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[k++] = idx[i++];
            while (j < hi)
                tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, sizeof *idx * (size_t)n);
    }
}

static int64_t *alloc_idx(RtCtx *ctx, int64_t n) {
    if (n < 0 || (uint64_t)n > SIZE_MAX / 16) {
        rt_fail(ctx, ONNXC_ERR_NOMEM, "too many elements");
        return NULL;
    }
    int64_t *p = malloc(sizeof *p * (size_t)(2 * n + 1));
    if (!p)
        rt_fail(ctx, ONNXC_ERR_NOMEM, "out of memory");
    return p;
}

/* outer / n / inner sizes around axis. */
static void split_dims(const RtTensor *t, int axis, int64_t *outer, int64_t *n, int64_t *inner) {
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++)
        *outer *= t->dims[d];
    *n = t->dims[axis];
    for (int d = axis + 1; d < t->rank; d++)
        *inner *= t->dims[d];
}

/* ------------------------------------------------------------------ TopK */

int rt_k_topk(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out, int nout) {
    const RtTopKParams *p = params;
    if (!p || nin < 1 || nout < 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "TopK: expected params, an input, 2 outputs");
    const RtTensor *x = &in[0];
    if (x->rank < 1 || x->rank > MAXR || p->axis < 0 || p->axis >= x->rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "TopK: bad rank or axis");
    if (elem_kind(x->dtype) < 0 || out[0].dtype != x->dtype || out[1].dtype != 7)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "TopK: unsupported element type %d", (int)x->dtype);
    int64_t k = p->k;
    if (k < 0) {
        if (nin < 2 || in[1].rank < 0 || rt_numel(&in[1]) != 1 || !in[1].data)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "TopK: K must be a 1-element tensor");
        k = in[1].dtype == 6 ? ((const int32_t *)in[1].data)[0] : ((const int64_t *)in[1].data)[0];
    }
    int64_t outer, n, inner;
    split_dims(x, p->axis, &outer, &n, &inner);
    if (k < 0 || k > n)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "TopK: k = %lld is out of range [0, %lld]",
                       (long long)k, (long long)n);
    int64_t od[MAXR];
    for (int d = 0; d < x->rank; d++)
        od[d] = d == p->axis ? k : x->dims[d];
    if (rt_out_alloc(ctx, &out[0], od) || rt_out_alloc(ctx, &out[1], od))
        return ctx->status;
    if (k == 0 || outer == 0 || inner == 0)
        return ONNXC_OK;
    int64_t *idx = alloc_idx(ctx, n);
    if (!idx)
        return ctx->status;
    size_t es = rt_dtype_size(x->dtype);
    SortCtx c = {x->data, x->dtype, 0, inner, 0, 0, 0, 0, p->largest != 0};
    for (int64_t o = 0; o < outer; o++)
        for (int64_t i = 0; i < inner; i++) {
            c.base = o * n * inner + i;
            for (int64_t j = 0; j < n; j++)
                idx[j] = j;
            msort(&c, idx, idx + n, n);
            for (int64_t j = 0; j < k; j++) {
                int64_t dst = (o * k + j) * inner + i;
                memcpy((char *)out[0].data + (size_t)dst * es,
                       (const char *)x->data + (size_t)(c.base + idx[j] * inner) * es, es);
                ((int64_t *)out[1].data)[dst] = idx[j];
            }
        }
    free(idx);
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ NonZero */

static int is_nonzero(const RtTensor *t, int64_t k) {
    switch (t->dtype) {
    case 10: case 16: return (((const uint16_t *)t->data)[k] & 0x7fff) != 0;
    case 1: return ((const float *)t->data)[k] != 0.0f;
    case 11: return ((const double *)t->data)[k] != 0.0;
    default: {
        size_t es = rt_dtype_size(t->dtype);
        const unsigned char *b = (const unsigned char *)t->data + (size_t)k * es;
        for (size_t i = 0; i < es; i++)
            if (b[i])
                return 1;
        return 0;
    }
    }
}

int rt_k_nonzero(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                 int nout) {
    (void)params;
    if (nin < 1 || nout < 1 || out[0].rank != 2 || out[0].dtype != 7)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "NonZero: expected one input, an int64 2-D output");
    const RtTensor *x = &in[0];
    if (x->rank < 0 || x->rank > MAXR || x->dtype == 8 || rt_dtype_size(x->dtype) == 0)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "NonZero: unsupported input");
    int64_t total = rt_numel(x), nnz = 0;
    for (int64_t k = 0; k < total; k++)
        nnz += is_nonzero(x, k);
    int64_t od[2] = {x->rank, nnz};
    if (rt_out_alloc(ctx, &out[0], od))
        return ctx->status;
    int64_t *o = out[0].data, col = 0;
    for (int64_t k = 0; k < total; k++) {
        if (!is_nonzero(x, k))
            continue;
        int64_t rem = k;
        for (int d = x->rank - 1; d >= 0; d--) {
            o[d * nnz + col] = x->dims[d] ? rem % x->dims[d] : 0;
            rem = x->dims[d] ? rem / x->dims[d] : 0;
        }
        col++;
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ Unique */

int rt_k_unique(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtUniqueParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Unique: expected params, an input, an output");
    const RtTensor *x = &in[0];
    if (x->rank < 0 || x->rank > MAXR || elem_kind(x->dtype) < 0 || out[0].dtype != x->dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Unique: unsupported input");
    SortCtx c = {x->data, x->dtype, 0, 1, 1, 0, 1, 1, 0};
    if (p->has_axis) {
        if (p->axis < 0 || p->axis >= x->rank)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Unique: axis out of range");
        split_dims(x, p->axis, &c.outer, &c.n, &c.inner);
    } else {
        c.n = rt_numel(x);
    }
    int64_t n = c.n;
    int64_t *idx = alloc_idx(ctx, 2 * n);
    if (!idx)
        return ctx->status;
    int64_t *tmp = idx + n, *grp = idx + 2 * n, *order = idx + 3 * n;
    for (int64_t j = 0; j < n; j++)
        idx[j] = j;
    msort(&c, idx, tmp, n);
    /* groups in sorted order: first (smallest) index of each; grp[j] = group of element j */
    int64_t u = 0;
    for (int64_t j = 0; j < n; j++) {
        if (j == 0 || cmp_key(&c, idx[j - 1], idx[j]) != 0)
            tmp[u++] = idx[j]; /* tmp: first occurrence per group (sorted order) */
        grp[idx[j]] = u - 1;
    }
    /* output order of the groups: sorted, or by first occurrence */
    for (int64_t g = 0; g < u; g++)
        order[g] = g; /* position -> group */
    if (!p->sorted) {
        SortCtx f = {tmp, 7, 0, 1, 0, 0, 0, 0, 0};
        int64_t *scratch = malloc(sizeof *scratch * (size_t)(u + 1));
        if (!scratch) {
            free(idx);
            return rt_fail(ctx, ONNXC_ERR_NOMEM, "out of memory");
        }
        msort(&f, order, scratch, u);
        free(scratch);
    }
    int64_t *pos = idx; /* group -> output position (idx no longer needed) */
    for (int64_t q = 0; q < u; q++)
        pos[order[q]] = q;
    int64_t yd[MAXR];
    int yr = p->has_axis ? x->rank : 1;
    if (p->has_axis)
        for (int d = 0; d < x->rank; d++)
            yd[d] = d == p->axis ? u : x->dims[d];
    else
        yd[0] = u;
    int st = rt_out_alloc(ctx, &out[0], yd);
    if (!st && nout > 1 && out[1].rank >= 0)
        st = rt_out_alloc(ctx, &out[1], &u);
    if (!st && nout > 2 && out[2].rank >= 0)
        st = rt_out_alloc(ctx, &out[2], &n);
    if (!st && nout > 3 && out[3].rank >= 0)
        st = rt_out_alloc(ctx, &out[3], &u);
    (void)yr;
    if (st) {
        free(idx);
        return ctx->status;
    }
    size_t es = rt_dtype_size(x->dtype);
    for (int64_t q = 0; q < u; q++) {
        int64_t first = tmp[order[q]];
        for (int64_t o = 0; o < c.outer; o++)
            memcpy((char *)out[0].data + (size_t)((o * u + q) * c.inner) * es,
                   (const char *)x->data + (size_t)((o * n + first) * c.inner) * es,
                   (size_t)c.inner * es);
        if (nout > 1 && out[1].rank >= 0)
            ((int64_t *)out[1].data)[q] = first;
        if (nout > 3 && out[3].rank >= 0)
            ((int64_t *)out[3].data)[q] = 0;
    }
    for (int64_t j = 0; j < n; j++) {
        int64_t q = pos[grp[j]];
        if (nout > 2 && out[2].rank >= 0)
            ((int64_t *)out[2].data)[j] = q;
        if (nout > 3 && out[3].rank >= 0)
            ((int64_t *)out[3].data)[q]++;
    }
    free(idx);
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ Compress */

int rt_k_compress(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    const RtCompressParams *p = params;
    if (!p || nin < 2 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Compress: expected params, 2 inputs, an output");
    const RtTensor *x = &in[0], *cnd = &in[1];
    if (x->rank < 0 || x->rank > MAXR || out[0].dtype != x->dtype || cnd->rank != 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Compress: bad input");
    int64_t outer = 1, n, inner = 1;
    if (p->has_axis) {
        if (p->axis < 0 || p->axis >= x->rank)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Compress: axis out of range");
        split_dims(x, p->axis, &outer, &n, &inner);
    } else {
        n = rt_numel(x);
    }
    int64_t len = cnd->dims[0];
    if (len > n)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "Compress: condition has %lld entries for %lld",
                       (long long)len, (long long)n);
    int64_t cnt = 0;
    for (int64_t j = 0; j < len; j++)
        cnt += is_nonzero(cnd, j);
    int64_t od[MAXR];
    if (p->has_axis)
        for (int d = 0; d < x->rank; d++)
            od[d] = d == p->axis ? cnt : x->dims[d];
    else
        od[0] = cnt;
    if (rt_out_alloc(ctx, &out[0], od))
        return ctx->status;
    size_t es = rt_dtype_size(x->dtype);
    for (int64_t o = 0; o < outer; o++) {
        int64_t q = 0;
        for (int64_t j = 0; j < len; j++) {
            if (!is_nonzero(cnd, j))
                continue;
            memcpy((char *)out[0].data + (size_t)((o * cnt + q) * inner) * es,
                   (const char *)x->data + (size_t)((o * n + j) * inner) * es, (size_t)inner * es);
            q++;
        }
    }
    return ONNXC_OK;
}
