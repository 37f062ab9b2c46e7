/* rt_attn.c - kernels of the attention family: Attention (opsets 23, 24) and RotaryEmbedding
 * (opset 23), following ONNX docs/Operators.md and the reference semantics of
 * onnx/reference/ops/op_attention.py and op_rotary_embedding.py.
 *
 * Attention, per batch b, query head h and query row i (kv head = h / (Hq / Hkv), grouped-query
 * attention repeating each kv head over consecutive query heads):
 *   keys/values are past (if any) followed by the new K/V: T = P + S_kv positions, which are also
 *   written to present_key / present_value;
 *   s[j]    = scale * q . k_j, then softcap * tanh(s / softcap) when softcap > 0;
 *   bias[j] = attn_mask (bool: true -> 0, false -> -inf; float: added; a mask shorter than T is
 *             padded with -inf; other dims broadcast right-aligned against [B, Hq, S_q, T])
 *             + -inf where is_causal and j > i + offset (offset = P with a past, else
 *             nonpad_kv_seqlen[b] - S_q when given, else 0) + -inf where j >= nonpad_kv_seqlen[b];
 *   p       = softmax(s + bias), all zero for a row whose bias is -inf everywhere;
 *   Y[i]    = sum_j p[j] v_j.
 * qk_matmul_output holds s (modes 0 and 1), s + bias (mode 2) or p (mode 3).
 * Everything is computed in float (float16/bfloat16/double are converted on load and store).
 * One scratch row of T + D floats is allocated per call.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

/* 1 if dt is a float type these kernels accept. */
static int attn_float_type(int32_t dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* Element i of a float tensor, as float (every float type widens to double exactly). */
static float attn_ld(const RtTensor *t, int64_t i) {
    return (float)rt_load_f64(t, i);
}

/* Stores v as element i of a float tensor (float widens to double exactly, so float16 and
 * bfloat16 still round once, from float). */
static void attn_st(RtTensor *t, int64_t i, float v) {
    rt_store_f64(t, i, v, RT_STORE_TRUNC);
}

/* 1 if optional tensor slot i is present. */
static int attn_has(const RtTensor *t, int n, int i) {
    return i < n && t[i].rank >= 0 && t[i].data != NULL;
}

/* 1 if t has rank r and dims d[0..r-1]. */
static int attn_dims_are(const RtTensor *t, int r, const int64_t *d) {
    if (t->rank != r)
        return 0;
    for (int k = 0; k < r; k++)
        if (t->dims[k] != d[k])
            return 0;
    return 1;
}

/* Strides (elements) of batch, head and sequence of a Q/K/V tensor viewed as [B, H, S, D]:
 * 4-D tensors are [B, H, S, D], 3-D ones [B, S, H * D]. */
static void attn_strides(const RtTensor *t, int64_t d, int64_t st[3]) {
    if (t->rank == 4) {
        st[2] = t->dims[3];
        st[1] = t->dims[2] * t->dims[3];
        st[0] = t->dims[1] * st[1];
    } else {
        st[2] = t->dims[2];
        st[1] = d;
        st[0] = t->dims[1] * t->dims[2];
    }
}

#define ATTN_FAIL(st, ...) rt_fail(ctx, (st), "Attention: " __VA_ARGS__)

int rt_k_attention(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    static const RtAttentionParams dflt = {0, 0, 0, 0, 0.0f, 0.0f};
    const RtAttentionParams *pp = params ? (const RtAttentionParams *)params : &dflt;
    if (!in || !out || nin < 3 || nout < 1 || !attn_has(out, nout, 0))
        return ATTN_FAIL(ONNXC_ERR_INVALID_ARG, "expects Q, K, V and the output Y");
    int r = in[0].rank;
    for (int i = 0; i < 3; i++)
        if (in[i].rank != r || !attn_float_type(in[i].dtype) || in[i].dtype != in[0].dtype)
            return ATTN_FAIL(ONNXC_ERR_TYPE, "Q, K, V must be float tensors of one type and rank");
    if (r != 3 && r != 4)
        return ATTN_FAIL(ONNXC_ERR_SHAPE, "Q, K, V must be 3-D or 4-D, got rank %d", r);
    const RtTensor *q = &in[0], *k = &in[1], *v = &in[2];
    int64_t B = q->dims[0], Hq, Hkv, Sq, Skv, Dq, Dk, Dv;
    if (r == 4) {
        Hq = q->dims[1], Sq = q->dims[2], Dq = q->dims[3];
        Hkv = k->dims[1], Skv = k->dims[2], Dk = k->dims[3], Dv = v->dims[3];
        if (v->dims[1] != Hkv)
            return ATTN_FAIL(ONNXC_ERR_SHAPE, "K and V have different head counts");
    } else {
        Hq = pp->q_heads, Hkv = pp->kv_heads, Sq = q->dims[1], Skv = k->dims[1];
        if (Hq <= 0 || Hkv <= 0 || q->dims[2] % Hq || k->dims[2] % Hkv || v->dims[2] % Hkv)
            return ATTN_FAIL(ONNXC_ERR_SHAPE, "hidden sizes not divisible by the head counts");
        Dq = q->dims[2] / Hq, Dk = k->dims[2] / Hkv, Dv = v->dims[2] / Hkv;
    }
    if (k->dims[0] != B || v->dims[0] != B || v->dims[r == 4 ? 2 : 1] != Skv || Dq != Dk ||
        Hkv <= 0 || Hq % Hkv != 0)
        return ATTN_FAIL(ONNXC_ERR_SHAPE, "Q, K, V shapes do not agree");
    /* past key/value: [B, Hkv, P, Dk] and [B, Hkv, P, Dv] */
    const RtTensor *pk = attn_has(in, nin, 4) ? &in[4] : NULL;
    const RtTensor *pv = attn_has(in, nin, 5) ? &in[5] : NULL;
    int64_t P = 0;
    if (!pk != !pv)
        return ATTN_FAIL(ONNXC_ERR_INVALID_ARG, "past_key and past_value go together");
    if (pk) {
        P = pk->rank == 4 ? pk->dims[2] : -1;
        int64_t ek[4] = {B, Hkv, P, Dk}, ev[4] = {B, Hkv, P, Dv};
        if (!attn_dims_are(pk, 4, ek) || !attn_dims_are(pv, 4, ev) || pk->dtype != q->dtype ||
            pv->dtype != q->dtype)
            return ATTN_FAIL(ONNXC_ERR_SHAPE, "past_key/past_value must be [B, kv_heads, P, D]");
    }
    int64_t T = P + Skv;
    const int64_t *nonpad = NULL;
    if (attn_has(in, nin, 6)) {
        if (in[6].dtype != IR_DT_INT64 || rt_numel(&in[6]) != B)
            return ATTN_FAIL(ONNXC_ERR_SHAPE, "nonpad_kv_seqlen must be int64 [B]");
        nonpad = (const int64_t *)in[6].data;
    }
    /* mask strides against [B, Hq, Sq, Tm] (0 for broadcast dims); its last dim Tm <= T */
    const RtTensor *mk = attn_has(in, nin, 3) ? &in[3] : NULL;
    int64_t ms[4] = {0, 0, 0, 0}, Tm = T;
    if (mk) {
        int64_t tgt[4] = {B, Hq, Sq, T}, acc = 1;
        if (mk->rank < 1 || mk->rank > 4 ||
            (mk->dtype != IR_DT_BOOL && !attn_float_type(mk->dtype)))
            return ATTN_FAIL(ONNXC_ERR_TYPE, "attn_mask must be a bool or float tensor of rank 1..4");
        for (int a = mk->rank - 1; a >= 0; a--) {
            int ax = 4 - mk->rank + a;
            int64_t md = mk->dims[a];
            if (ax == 3) {
                if (md > T)
                    return ATTN_FAIL(ONNXC_ERR_SHAPE, "attn_mask has %lld keys, more than %lld",
                                     (long long)md, (long long)T);
                Tm = md, ms[3] = 1;
            } else if (md != 1 && md != tgt[ax]) {
                return ATTN_FAIL(ONNXC_ERR_SHAPE, "attn_mask does not broadcast to [B, H, S_q, T]");
            } else {
                ms[ax] = md == 1 ? 0 : acc;
            }
            acc *= md;
        }
    }
    /* outputs */
    int64_t ey3[3] = {B, Sq, Hq * Dv}, ey4[4] = {B, Hq, Sq, Dv};
    int64_t epk[4] = {B, Hkv, T, Dk}, epv[4] = {B, Hkv, T, Dv}, eqk[4] = {B, Hq, Sq, T};
    RtTensor *y = &out[0];
    RtTensor *ok = attn_has(out, nout, 1) ? &out[1] : NULL;
    RtTensor *ov = attn_has(out, nout, 2) ? &out[2] : NULL;
    RtTensor *oqk = attn_has(out, nout, 3) ? &out[3] : NULL;
    if (!(r == 4 ? attn_dims_are(y, 4, ey4) : attn_dims_are(y, 3, ey3)) ||
        (ok && !attn_dims_are(ok, 4, epk)) || (ov && !attn_dims_are(ov, 4, epv)) ||
        (oqk && !attn_dims_are(oqk, 4, eqk)))
        return ATTN_FAIL(ONNXC_ERR_SHAPE, "an output does not have the expected shape");
    if (!attn_float_type(y->dtype) || (ok && !attn_float_type(ok->dtype)) ||
        (ov && !attn_float_type(ov->dtype)) || (oqk && !attn_float_type(oqk->dtype)))
        return ATTN_FAIL(ONNXC_ERR_TYPE, "outputs must be float tensors");
    int64_t qs[3], ks[3], vs[3];
    attn_strides(q, Dq, qs);
    attn_strides(k, Dk, ks);
    attn_strides(v, Dv, vs);
    /* present_key / present_value: past followed by the new keys/values */
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hkv; h++)
            for (int64_t j = 0; j < T; j++) {
                int64_t row = (b * Hkv + h) * T + j, prow = (b * Hkv + h) * P + j;
                int64_t nrow = b * ks[0] + h * ks[1] + (j - P) * ks[2];
                for (int64_t d = 0; ok && d < Dk; d++)
                    attn_st(ok, row * Dk + d, j < P ? attn_ld(pk, prow * Dk + d) : attn_ld(k, nrow + d));
                nrow = b * vs[0] + h * vs[1] + (j - P) * vs[2];
                for (int64_t d = 0; ov && d < Dv; d++)
                    attn_st(ov, row * Dv + d, j < P ? attn_ld(pv, prow * Dv + d) : attn_ld(v, nrow + d));
            }
    if (B == 0 || Hq == 0 || Sq == 0)
        return 0;
    float *w = malloc((size_t)(T + Dv + Dq + 1) * sizeof(float));
    if (!w)
        return ATTN_FAIL(ONNXC_ERR_NOMEM, "cannot allocate a row of %lld scores", (long long)T);
    float *acc = w + T, *qrow = acc + Dv;
    float scale = pp->scale > 0.0f ? pp->scale : 1.0f / sqrtf((float)(Dq > 0 ? Dq : 1));
    int64_t group = Hq / Hkv;
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < Hq; h++)
            for (int64_t i = 0; i < Sq; i++) {
                int64_t kh = h / group, qkrow = ((b * Hq + h) * Sq + i) * T;
                int64_t off = pk ? P : nonpad ? nonpad[b] - Sq : 0;
                int all_masked = 1;
                for (int64_t d = 0; d < Dq; d++)
                    qrow[d] = attn_ld(q, b * qs[0] + h * qs[1] + i * qs[2] + d) * scale;
                for (int64_t j = 0; j < T; j++) {
                    float s = 0.0f, bias = 0.0f;
                    for (int64_t d = 0; d < Dq; d++) {
                        float kv = j < P ? attn_ld(pk, ((b * Hkv + kh) * P + j) * Dk + d)
                                         : attn_ld(k, b * ks[0] + kh * ks[1] + (j - P) * ks[2] + d);
                        s += qrow[d] * kv;
                    }
                    if (pp->softcap > 0.0f)
                        s = pp->softcap * tanhf(s / pp->softcap);
                    if (mk && j >= Tm) {
                        bias = -INFINITY;
                    } else if (mk) {
                        int64_t mi = b * ms[0] + h * ms[1] + i * ms[2] + j;
                        if (mk->dtype == IR_DT_BOOL)
                            bias = ((const uint8_t *)mk->data)[mi] ? 0.0f : -INFINITY;
                        else
                            bias = attn_ld(mk, mi);
                    }
                    if (pp->is_causal && j > i + off)
                        bias += -INFINITY;
                    if (nonpad && j >= nonpad[b])
                        bias += -INFINITY;
                    if (!(bias == -INFINITY))
                        all_masked = 0;
                    if (oqk && pp->qk_mode != 3)
                        attn_st(oqk, qkrow + j, pp->qk_mode == 2 ? s + bias : s);
                    w[j] = s + bias;
                }
                /* softmax; a fully masked row gives zeros */
                float m = -INFINITY, sum = 0.0f;
                for (int64_t j = 0; j < T; j++)
                    if (w[j] > m)
                        m = w[j];
                if (m == -INFINITY)
                    m = 0.0f;
                for (int64_t j = 0; j < T; j++) {
                    w[j] = all_masked ? 0.0f : expf(w[j] - m);
                    sum += w[j];
                }
                float inv = sum == 0.0f ? 1.0f : 1.0f / sum;
                for (int64_t d = 0; d < Dv; d++)
                    acc[d] = 0.0f;
                for (int64_t j = 0; j < T; j++) {
                    float p = w[j] * inv;
                    if (oqk && pp->qk_mode == 3)
                        attn_st(oqk, qkrow + j, p);
                    if (p == 0.0f)
                        continue;
                    for (int64_t d = 0; d < Dv; d++)
                        acc[d] += p * (j < P ? attn_ld(pv, ((b * Hkv + kh) * P + j) * Dv + d)
                                             : attn_ld(v, b * vs[0] + kh * vs[1] + (j - P) * vs[2] + d));
                }
                int64_t yo = r == 4 ? ((b * Hq + h) * Sq + i) * Dv : (b * Sq + i) * Hq * Dv + h * Dv;
                for (int64_t d = 0; d < Dv; d++)
                    attn_st(y, yo + d, acc[d]);
            }
    free(w);
    return 0;
}

/* ---------------------------------------------------------------- RotaryEmbedding */

int rt_k_rotary_embedding(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                          RtTensor *out, int nout) {
    static const RtRotaryParams dflt = {0, 0, 0};
    const RtRotaryParams *pp = params ? (const RtRotaryParams *)params : &dflt;
    if (!in || !out || nin < 3 || nout < 1 || !attn_has(out, nout, 0))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "RotaryEmbedding: expects X, cos, sin and Y");
    const RtTensor *x = &in[0], *cs = &in[1], *sn = &in[2];
    const RtTensor *pos = attn_has(in, nin, 3) ? &in[3] : NULL;
    RtTensor *y = &out[0];
    for (int i = 0; i < 3; i++)
        if (in[i].rank < 0 || !attn_float_type(in[i].dtype))
            return rt_fail(ctx, ONNXC_ERR_TYPE, "RotaryEmbedding: input %d must be a float tensor", i);
    int r = x->rank;
    if ((r != 3 && r != 4) || !attn_dims_are(y, r, x->dims) || !attn_float_type(y->dtype))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "RotaryEmbedding: X must be 3-D or 4-D and Y alike");
    int64_t B = x->dims[0], H, S, D;
    if (r == 4) {
        H = x->dims[1], S = x->dims[2], D = x->dims[3];
    } else {
        H = pp->num_heads, S = x->dims[1];
        if (H <= 0 || x->dims[2] % H)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "RotaryEmbedding: 3-D X needs num_heads dividing "
                           "its hidden size");
        D = x->dims[2] / H;
    }
    int64_t rd = pp->rot_dim > 0 ? pp->rot_dim : D, half = rd / 2, maxp = 0, cb = 0;
    if (rd > D || rd % 2 || !attn_dims_are(sn, cs->rank, cs->dims) || cs->rank < 1 ||
        cs->dims[cs->rank - 1] != half)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "RotaryEmbedding: caches must be [..., %lld] "
                       "(rotary_embedding_dim %lld of head size %lld)", (long long)half,
                       (long long)rd, (long long)D);
    if (pos) {
        if (pos->dtype != IR_DT_INT64 || rt_numel(pos) != B * S || cs->rank != 2)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "RotaryEmbedding: position_ids must be int64 "
                           "[B, S] and the caches [max_position, rot / 2]");
        maxp = cs->dims[0];
    } else {
        if (cs->rank != 3 || (cs->dims[0] != B && cs->dims[0] != 1) || cs->dims[1] != S)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "RotaryEmbedding: caches must be [B, S, rot / 2] "
                           "without position_ids");
        cb = cs->dims[0] == 1 ? 0 : 1;
    }
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++) {
            int64_t row = (b * cb * S + s) * half;
            if (pos) {
                int64_t p = ((const int64_t *)pos->data)[b * S + s];
                if (p < 0 || p >= maxp)
                    return rt_fail(ctx, ONNXC_ERR_RUNTIME, "RotaryEmbedding: position id %lld out of "
                                   "range [0, %lld)", (long long)p, (long long)maxp);
                row = p * half;
            }
            for (int64_t h = 0; h < H; h++) {
                int64_t base = r == 4 ? ((b * H + h) * S + s) * D : (b * S + s) * H * D + h * D;
                for (int64_t j = 0; j < half; j++) {
                    int64_t i1 = pp->interleaved ? 2 * j : j;
                    int64_t i2 = pp->interleaved ? 2 * j + 1 : j + half;
                    float c = attn_ld(cs, row + j), si = attn_ld(sn, row + j);
                    float x1 = attn_ld(x, base + i1), x2 = attn_ld(x, base + i2);
                    attn_st(y, base + i1, c * x1 - si * x2);
                    attn_st(y, base + i2, si * x1 + c * x2);
                }
                for (int64_t d = rd; d < D; d++)
                    attn_st(y, base + d, attn_ld(x, base + d));
            }
        }
    return 0;
}

/* ---------------------------------------------------------------- CausalConvWithState */

/* out[b, c, t] = bias[c] + sum_k w[c, 0, k] * padded[b, c, t + k], where padded is past_state
 * (or K - 1 zeros) followed by input; present_state = the last K - 1 positions of padded. */
int rt_k_causal_conv_state(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                           RtTensor *out, int nout) {
    static const RtCausalConvParams dflt = {0};
    const RtCausalConvParams *pp = params ? (const RtCausalConvParams *)params : &dflt;
    if (!in || !out || nin < 2 || nout < 1 || !attn_has(out, nout, 0))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "CausalConvWithState: expects input, weight, output");
    const RtTensor *x = &in[0], *w = &in[1];
    const RtTensor *bias = attn_has(in, nin, 2) ? &in[2] : NULL;
    const RtTensor *past = attn_has(in, nin, 3) ? &in[3] : NULL;
    RtTensor *y = &out[0], *pres = attn_has(out, nout, 1) ? &out[1] : NULL;
    if (x->rank != 3 || w->rank != 3 || !attn_float_type(x->dtype) || !attn_float_type(w->dtype) ||
        !attn_float_type(y->dtype) || (bias && !attn_float_type(bias->dtype)) ||
        (past && !attn_float_type(past->dtype)) || (pres && !attn_float_type(pres->dtype)))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "CausalConvWithState: input and weight must be 3-D "
                       "float tensors");
    int64_t B = x->dims[0], C = x->dims[1], L = x->dims[2], K = w->dims[2];
    int64_t ew[3] = {C, 1, K}, es[3] = {B, C, K - 1};
    if (K < 1 || !attn_dims_are(w, 3, ew) || !attn_dims_are(y, 3, x->dims) ||
        (bias && rt_numel(bias) != C) || (past && !attn_dims_are(past, 3, es)) ||
        (pres && !attn_dims_are(pres, 3, es)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "CausalConvWithState: weight must be [C, 1, K], bias "
                       "[C], past/present state [B, C, K - 1]");
    for (int64_t b = 0; b < B; b++)
        for (int64_t c = 0; c < C; c++) {
            int64_t xr = (b * C + c) * L, sr = (b * C + c) * (K - 1);
            for (int64_t t = 0; t < L + K - 1; t++) {
                /* padded position t + k: state position if < K - 1, else input position */
                if (t < L) {
                    float acc = bias ? attn_ld(bias, c) : 0.0f;
                    for (int64_t k = 0; k < K; k++) {
                        int64_t p = t + k - (K - 1);
                        float v = p >= 0 ? attn_ld(x, xr + p) : past ? attn_ld(past, sr + K - 1 + p) : 0.0f;
                        acc += attn_ld(w, c * K + k) * v;
                    }
                    if (pp->silu)
                        acc = acc / (1.0f + expf(-acc));
                    attn_st(y, xr + t, acc);
                }
                if (pres && t >= L) {
                    int64_t p = t - (K - 1); /* padded index t -> input index */
                    float v = p >= 0 ? attn_ld(x, xr + p) : past ? attn_ld(past, sr + K - 1 + p) : 0.0f;
                    attn_st(pres, sr + t - L, v);
                }
            }
        }
    return 0;
}

/* ---------------------------------------------------------------- LinearAttention */

/* The recurrence of RtLinearAttnParams, computed in float with one state per (batch, kv head)
 * (one allocation of Hkv * dk * dv + dv floats per call). */
int rt_k_linear_attention(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                          RtTensor *out, int nout) {
    static const RtLinearAttnParams dflt = {0, 0, 0, 0, 0.0f};
    const RtLinearAttnParams *pp = params ? (const RtLinearAttnParams *)params : &dflt;
    if (!in || !out || nin < 3 || nout < 1 || !attn_has(out, nout, 0))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "LinearAttention: expects query, key, value, output");
    const RtTensor *q = &in[0], *k = &in[1], *v = &in[2];
    const RtTensor *past = attn_has(in, nin, 3) ? &in[3] : NULL;
    const RtTensor *dec = attn_has(in, nin, 4) ? &in[4] : NULL;
    const RtTensor *beta = attn_has(in, nin, 5) ? &in[5] : NULL;
    RtTensor *y = &out[0], *pres = attn_has(out, nout, 1) ? &out[1] : NULL;
    int64_t Hq = pp->q_heads, Hkv = pp->kv_heads;
    for (int i = 0; i < 6; i++)
        if (attn_has(in, nin, i) && (in[i].rank != (i == 3 ? 4 : 3) || !attn_float_type(in[i].dtype)))
            return rt_fail(ctx, ONNXC_ERR_TYPE, "LinearAttention: input %d has the wrong rank or type", i);
    if (Hq <= 0 || Hkv <= 0 || Hq % Hkv || q->dims[2] % Hq || v->dims[2] % Hkv ||
        !attn_float_type(y->dtype) || (pres && !attn_float_type(pres->dtype)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "LinearAttention: bad head counts or output types");
    int64_t B = q->dims[0], T = q->dims[1], dk = q->dims[2] / Hq, dv = v->dims[2] / Hkv;
    int64_t ek[3] = {B, T, Hkv * dk}, ey[3] = {B, T, Hq * dv}, es[4] = {B, Hkv, dk, dv};
    int64_t dl = dec ? dec->dims[2] : 0, bl = beta ? beta->dims[2] : 0;
    if (!attn_dims_are(k, 3, ek) || v->dims[0] != B || v->dims[1] != T || !attn_dims_are(y, 3, ey) ||
        (pres && !attn_dims_are(pres, 4, es)) || (past && !attn_dims_are(past, 4, es)) ||
        (!dec != !pp->gating) || (!beta != !pp->delta) ||
        (dec && (dec->dims[0] != B || dec->dims[1] != T || (dl != Hkv && dl != Hkv * dk))) ||
        (beta && (beta->dims[0] != B || beta->dims[1] != T || (bl != Hkv && bl != 1))))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "LinearAttention: input shapes do not agree "
                       "(or decay/beta do not match update_rule)");
    float *S = malloc((size_t)(Hkv * dk * dv + dv + 1) * sizeof(float));
    if (!S)
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "LinearAttention: cannot allocate the state");
    float *vt = S + Hkv * dk * dv;
    float scale = pp->scale > 0.0f ? pp->scale : 1.0f / sqrtf((float)(dk > 0 ? dk : 1));
    for (int64_t b = 0; b < B; b++) {
        for (int64_t i = 0; i < Hkv * dk * dv; i++)
            S[i] = past ? attn_ld(past, b * Hkv * dk * dv + i) : 0.0f;
        for (int64_t t = 0; t < T; t++) {
            int64_t row = b * T + t;
            for (int64_t h = 0; h < Hkv; h++) {
                float *Sh = S + h * dk * dv;
                for (int64_t d = 0; dec && d < dk; d++) {
                    float g = expf(attn_ld(dec, row * dl + (dl == Hkv ? h : h * dk + d)));
                    for (int64_t m = 0; m < dv; m++)
                        Sh[d * dv + m] *= g;
                }
                for (int64_t m = 0; m < dv; m++) {
                    vt[m] = attn_ld(v, row * Hkv * dv + h * dv + m);
                    if (beta) {
                        float r = 0.0f;
                        for (int64_t d = 0; d < dk; d++)
                            r += Sh[d * dv + m] * attn_ld(k, row * Hkv * dk + h * dk + d);
                        vt[m] = attn_ld(beta, row * bl + (bl == 1 ? 0 : h)) * (vt[m] - r);
                    }
                }
                for (int64_t d = 0; d < dk; d++) {
                    float kd = attn_ld(k, row * Hkv * dk + h * dk + d);
                    for (int64_t m = 0; m < dv; m++)
                        Sh[d * dv + m] += kd * vt[m];
                }
            }
            for (int64_t h = 0; h < Hq; h++) {
                const float *Sh = S + (h / (Hq / Hkv)) * dk * dv;
                for (int64_t m = 0; m < dv; m++) {
                    float acc = 0.0f;
                    for (int64_t d = 0; d < dk; d++)
                        acc += attn_ld(q, row * Hq * dk + h * dk + d) * Sh[d * dv + m];
                    attn_st(y, row * Hq * dv + h * dv + m, scale * acc);
                }
            }
        }
        for (int64_t i = 0; pres && i < Hkv * dk * dv; i++)
            attn_st(pres, b * Hkv * dk * dv + i, S[i]);
    }
    free(S);
    return 0;
}
