/* rt_ml.c - kernels of the ml family: LabelEncoder, Binarizer, ArrayFeatureExtractor,
 * TreeEnsemble (ai.onnx.ml) and TfIdfVectorizer (default domain). Parameter blocks in
 * runtime/rt_params_ml.h, filled by ops/op_ml.c.
 *
 * ONNX specification: docs/Operators-ml.md (LabelEncoder 1/2/4, Binarizer 1,
 * ArrayFeatureExtractor 1, TreeEnsemble 5) and docs/Operators.md (TfIdfVectorizer 9).
 * Look-ups are linear scans of the (usually small) tables.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"
#include "runtime/rt_params_ml.h"

enum { DT_FLOAT = 1, DT_UINT8 = 2, DT_INT8 = 3, DT_UINT16 = 4, DT_INT16 = 5, DT_INT32 = 6,
       DT_INT64 = 7, DT_STRING = 8, DT_BOOL = 9, DT_DOUBLE = 11, DT_UINT32 = 12, DT_UINT64 = 13 };

#define AT(p, off, T) ((const T *)((const char *)(p) + (off)))

/* Element i of a numeric tensor as double / int64 (0 for other types). */
static double get_f64(const void *d, int dt, int64_t i) {
    switch (dt) {
    case DT_FLOAT: return ((const float *)d)[i];
    case DT_DOUBLE: return ((const double *)d)[i];
    case DT_INT64: return (double)((const int64_t *)d)[i];
    case DT_INT32: return ((const int32_t *)d)[i];
    case DT_INT16: return ((const int16_t *)d)[i];
    case DT_INT8: return ((const int8_t *)d)[i];
    case DT_UINT8: return ((const uint8_t *)d)[i];
    case DT_UINT16: return ((const uint16_t *)d)[i];
    case DT_UINT32: return ((const uint32_t *)d)[i];
    case DT_UINT64: return (double)((const uint64_t *)d)[i];
    default: return 0;
    }
}

static int64_t get_i64(const void *d, int dt, int64_t i) {
    switch (dt) {
    case DT_INT64: return ((const int64_t *)d)[i];
    case DT_INT32: return ((const int32_t *)d)[i];
    case DT_INT16: return ((const int16_t *)d)[i];
    case DT_INT8: return ((const int8_t *)d)[i];
    case DT_UINT8: return ((const uint8_t *)d)[i];
    case DT_UINT16: return ((const uint16_t *)d)[i];
    case DT_UINT32: return ((const uint32_t *)d)[i];
    case DT_UINT64: return (int64_t)((const uint64_t *)d)[i];
    default: return 0;
    }
}

static int is_float_dt(int dt) { return dt == DT_FLOAT || dt == DT_DOUBLE; }

/* ------------------------------------------------------------------ LabelEncoder */

int rt_k_label_encoder(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                       RtTensor *out, int nout) {
    const RtLabelEncParams *p = params;
    if (!p || nin < 1 || nout < 1 || in[0].rank < 0)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "LabelEncoder: bad arguments");
    if (in[0].dtype != p->key_dtype || out[0].dtype != p->val_dtype)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "LabelEncoder: element types do not match the "
                       "compiled key/value types");
    int64_t n = rt_numel(&in[0]);
    if (n != rt_numel(&out[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "LabelEncoder: %lld elements in, %lld out",
                       (long long)n, (long long)rt_numel(&out[0]));
    size_t vs = rt_dtype_size(p->val_dtype);
    const char *base = (const char *)p;
    int kdt = p->key_dtype, vstr = p->val_dtype == DT_STRING;
    for (int64_t i = 0; i < n; i++) {
        int64_t hit = -1;
        if (kdt == DT_STRING) {
            const OnnxcString *s = &((const OnnxcString *)in[0].data)[i];
            const RtStrRef *k = AT(p, p->keys_off, RtStrRef);
            for (int64_t j = 0; j < p->nkeys && hit < 0; j++)
                if ((size_t)k[j].len == s->len && (s->len == 0 || memcmp(base + k[j].off, s->data, s->len) == 0))
                    hit = j;
        } else if (is_float_dt(kdt)) {
            double x = get_f64(in[0].data, kdt, i);
            const double *k = AT(p, p->keys_off, double);
            for (int64_t j = 0; j < p->nkeys && hit < 0; j++)
                if (k[j] == x || (isnan(k[j]) && isnan(x)))
                    hit = j;
        } else {
            int64_t x = get_i64(in[0].data, kdt, i);
            const int64_t *k = AT(p, p->keys_off, int64_t);
            for (int64_t j = 0; j < p->nkeys && hit < 0; j++)
                if (k[j] == x)
                    hit = j;
        }
        char *dst = (char *)out[0].data + (size_t)i * vs;
        if (vstr) {
            const RtStrRef *r = hit >= 0 ? AT(p, p->vals_off, RtStrRef) + hit : AT(p, p->dflt_off, RtStrRef);
            OnnxcString *o = (OnnxcString *)dst;
            o->data = base + r->off;
            o->len = (size_t)r->len;
        } else {
            const char *src = hit >= 0 ? base + p->vals_off + (size_t)hit * vs : base + p->dflt_off;
            memcpy(dst, src, vs);
        }
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ Binarizer */

int rt_k_binarizer(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtBinarizerParams *p = params;
    if (!p || nin < 1 || nout < 1 || in[0].rank < 0 || in[0].dtype != out[0].dtype)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Binarizer: bad arguments");
    int64_t n = rt_numel(&in[0]);
    if (n != rt_numel(&out[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Binarizer: %lld elements in, %lld out",
                       (long long)n, (long long)rt_numel(&out[0]));
    double t = p->threshold;
    switch (in[0].dtype) {
    case DT_FLOAT: {
        const float *x = in[0].data;
        float *y = out[0].data;
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > t ? 1.0f : 0.0f;
        return ONNXC_OK;
    }
    case DT_DOUBLE: {
        const double *x = in[0].data;
        double *y = out[0].data;
        for (int64_t i = 0; i < n; i++) y[i] = x[i] > t ? 1.0 : 0.0;
        return ONNXC_OK;
    }
    case DT_INT64: {
        const int64_t *x = in[0].data;
        int64_t *y = out[0].data;
        for (int64_t i = 0; i < n; i++) y[i] = (double)x[i] > t;
        return ONNXC_OK;
    }
    case DT_INT32: {
        const int32_t *x = in[0].data;
        int32_t *y = out[0].data;
        for (int64_t i = 0; i < n; i++) y[i] = (double)x[i] > t;
        return ONNXC_OK;
    }
    default:
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Binarizer: element type %d is not supported",
                       (int)in[0].dtype);
    }
}

/* ------------------------------------------------------------------ ArrayFeatureExtractor */

int rt_k_array_feature_extractor(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                                 RtTensor *out, int nout) {
    (void)params;
    if (nin < 2 || nout < 1 || in[0].rank < 1 || in[1].rank < 0 || in[1].dtype != DT_INT64 ||
        in[0].dtype != out[0].dtype)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ArrayFeatureExtractor: bad arguments");
    size_t es = rt_dtype_size(in[0].dtype);
    int64_t cols = in[0].dims[in[0].rank - 1], rows = cols ? rt_numel(&in[0]) / cols : 0;
    int64_t k = rt_numel(&in[1]);
    const int64_t *idx = in[1].data;
    if (cols == 0) {
        rows = 1;
        for (int j = 0; j < in[0].rank - 1; j++) rows *= in[0].dims[j];
    }
    if (rows * k != rt_numel(&out[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ArrayFeatureExtractor: output has %lld elements, "
                       "expected %lld", (long long)rt_numel(&out[0]), (long long)(rows * k));
    for (int64_t j = 0; j < k; j++)
        if (idx[j] < 0 || idx[j] >= cols)
            return rt_fail(ctx, ONNXC_ERR_RUNTIME, "ArrayFeatureExtractor: index %lld is out of "
                           "range [0, %lld)", (long long)idx[j], (long long)cols);
    const char *x = in[0].data;
    char *z = out[0].data;
    for (int64_t r = 0; r < rows; r++)
        for (int64_t j = 0; j < k; j++)
            memcpy(z + (size_t)(r * k + j) * es, x + (size_t)(r * cols + idx[j]) * es, es);
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ TreeEnsemble */

/* 1 if the node sends x to its true branch. */
static int tree_cmp(const RtTreeParams *p, const RtTreeNode *nd, double x) {
    if (isnan(x) && nd->missing_true)
        return 1;
    switch (nd->mode) {
    case RT_TREE_LEQ: return x <= nd->split;
    case RT_TREE_LT: return x < nd->split;
    case RT_TREE_GTE: return x >= nd->split;
    case RT_TREE_GT: return x > nd->split;
    case RT_TREE_EQ: return x == nd->split;
    case RT_TREE_NEQ: return x != nd->split;
    case RT_TREE_MEMBER: {
        const double *m = AT(p, p->members_off, double) + nd->mem_start;
        for (int64_t j = 0; j < nd->mem_count; j++)
            if (m[j] == x) return 1;
        return 0;
    }
    default: return 0;
    }
}

int rt_k_tree_ensemble(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                       RtTensor *out, int nout) {
    const RtTreeParams *p = params;
    if (!p || nin < 1 || nout < 1 || in[0].rank != 2 || out[0].rank != 2 ||
        in[0].dtype != out[0].dtype || !is_float_dt(in[0].dtype))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "TreeEnsemble: bad arguments");
    int64_t N = in[0].dims[0], F = in[0].dims[1], T = p->ntargets;
    if (out[0].dims[0] != N || out[0].dims[1] != T)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "TreeEnsemble: output shape is not [N, n_targets]");
    const RtTreeNode *nodes = AT(p, p->nodes_off, RtTreeNode);
    const RtTreeLeaf *leaves = AT(p, p->leaves_off, RtTreeLeaf);
    const int64_t *roots = AT(p, p->roots_off, int64_t);
    int dt = in[0].dtype;
    /* MIN/MAX start from the type's extreme values, as the reference implementation does */
    double big = dt == DT_FLOAT ? (double)FLT_MAX : DBL_MAX;
    double init = p->aggregate == RT_TREE_MIN ? big : p->aggregate == RT_TREE_MAX ? -big : 0.0;
    enum { BLK = 256 };
    double acc[BLK];
    for (int64_t r = 0; r < N; r++) {
        /* targets in blocks of BLK: every tree is walked once per block */
        for (int64_t t0 = 0; t0 < T || (t0 == 0 && T == 0); t0 += BLK) {
            int64_t t1 = T - t0 < BLK ? T : t0 + BLK;
            for (int64_t t = t0; t < t1; t++) acc[t - t0] = init;
            for (int64_t tr = 0; tr < p->ntrees; tr++) {
                int64_t cur = roots[2 * tr], leaf = roots[2 * tr + 1], steps = 0;
                while (!leaf) {
                    if (cur < 0 || cur >= p->nnodes || ++steps > p->nnodes)
                        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "TreeEnsemble: tree %lld has a "
                                       "cycle or a bad node index", (long long)tr);
                    const RtTreeNode *nd = &nodes[cur];
                    if (nd->feature < 0 || nd->feature >= F)
                        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "TreeEnsemble: feature %lld is "
                                       "out of range [0, %lld)", (long long)nd->feature,
                                       (long long)F);
                    int b = tree_cmp(p, nd, get_f64(in[0].data, dt, r * F + nd->feature)) ? 0 : 1;
                    leaf = nd->is_leaf[b];
                    cur = nd->next[b];
                }
                if (cur < 0 || cur >= p->nleaves || leaves[cur].target < 0 ||
                    leaves[cur].target >= T)
                    return rt_fail(ctx, ONNXC_ERR_RUNTIME, "TreeEnsemble: bad leaf %lld",
                                   (long long)cur);
                int64_t t = leaves[cur].target;
                if (t < t0 || t >= t1)
                    continue;
                double w = leaves[cur].weight, *slot = &acc[t - t0];
                switch (p->aggregate) {
                case RT_TREE_MIN: if (w < *slot) *slot = w; break;
                case RT_TREE_MAX: if (w > *slot) *slot = w; break;
                case RT_TREE_AVERAGE: *slot += w / (double)p->ntrees; break;
                default: *slot += w; break;
                }
            }
            for (int64_t t = t0; t < t1; t++) {
                if (dt == DT_FLOAT) ((float *)out[0].data)[r * T + t] = (float)acc[t - t0];
                else ((double *)out[0].data)[r * T + t] = acc[t - t0];
            }
            if (T == 0) break;
        }
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ TfIdfVectorizer */

/* 1 if item `k` of the input row equals pool item `j`. */
static int tf_item_eq(const RtTfIdfParams *p, const RtTensor *x, int64_t k, int64_t j) {
    if (p->strings) {
        const OnnxcString *s = &((const OnnxcString *)x->data)[k];
        const RtStrRef *r = AT(p, p->pool_off, RtStrRef) + j;
        return (size_t)r->len == s->len &&
               (s->len == 0 || memcmp((const char *)p + r->off, s->data, s->len) == 0);
    }
    return get_i64(x->data, x->dtype, k) == AT(p, p->pool_off, int64_t)[j];
}

int rt_k_tfidf(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
               int nout) {
    const RtTfIdfParams *p = params;
    if (!p || nin < 1 || nout < 1 || in[0].rank < 0 || in[0].rank > 2 || out[0].dtype != DT_FLOAT)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "TfIdfVectorizer: bad arguments");
    if ((p->strings != 0) != (in[0].dtype == DT_STRING))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "TfIdfVectorizer: input and pool types differ");
    int64_t B = in[0].rank == 2 ? in[0].dims[0] : 1;
    int64_t C = in[0].rank == 0 ? 1 : in[0].dims[in[0].rank - 1];
    int64_t S = p->out_size;
    if (rt_numel(&out[0]) != B * S)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "TfIdfVectorizer: output has %lld elements, "
                       "expected %lld", (long long)rt_numel(&out[0]), (long long)(B * S));
    float *y = out[0].data;
    const RtTfIdfGram *g = AT(p, p->grams_off, RtTfIdfGram);
    for (int64_t i = 0; i < B * S; i++) y[i] = 0;
    for (int64_t b = 0; b < B; b++) {
        int64_t row = b * C;
        float *yr = y + b * S;
        for (int64_t skip = 1; skip <= p->max_skip + 1; skip++) {
            /* unigrams are counted once, with the first skip distance */
            int64_t nmin = skip > 1 && p->min_n < 2 ? 2 : p->min_n;
            if (nmin > p->max_n) break;
            for (int64_t s = 0; s < C; s++) {
                for (int64_t q = p->ngrams - 1; q >= 0; q--) {
                    int64_t n = g[q].n;
                    if (n < nmin || s + (n - 1) * skip >= C)
                        continue;
                    int ok = 1;
                    for (int64_t k = 0; k < n && ok; k++)
                        ok = tf_item_eq(p, &in[0], row + s + k * skip, g[q].first + k);
                    if (!ok)
                        continue;
                    /* a repeated pool n-gram counts once, for its last listing */
                    int dup = 0;
                    for (int64_t q2 = q + 1; q2 < p->ngrams && !dup; q2++) {
                        if (g[q2].n != n) continue;
                        int same = 1;
                        for (int64_t k = 0; k < n && same; k++)
                            same = tf_item_eq(p, &in[0], row + s + k * skip, g[q2].first + k);
                        dup = same;
                    }
                    if (!dup)
                        yr[g[q].out] += 1.0f;
                }
            }
        }
    }
    if (p->mode != RT_TFIDF_TF) {
        const double *w = AT(p, p->weights_off, double);
        for (int64_t b = 0; b < B; b++)
            for (int64_t i = 0; i < S; i++) {
                float f = y[b * S + i];
                if (p->mode == RT_TFIDF_IDF)
                    y[b * S + i] = f > 0 ? (p->nweights ? (float)w[i] : 1.0f) : 0.0f;
                else if (p->nweights)
                    y[b * S + i] = (float)w[i] * f;
            }
    }
    return ONNXC_OK;
}
