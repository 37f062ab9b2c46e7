/* op_attn.c - infer and lower hooks of the attention family: Attention (opsets 23, 24) and
 * RotaryEmbedding (opset 23); kernels in runtime/rt_attn.c.
 *
 * ONNX specification: docs/Operators.md, sections Attention and RotaryEmbedding, with the
 * reference semantics of onnx/reference/ops/op_attention.py and op_rotary_embedding.py.
 *  - Attention: Q/K/V all 3-D ([B, S, heads * head_size], q_num_heads and kv_num_heads
 *    required) or all 4-D ([B, heads, S, head_size]). Optional inputs attn_mask (bool or float,
 *    broadcast to [B, q_heads, S_q, T]), past_key/past_value ([B, kv_heads, P, D]) and, from
 *    opset 24, nonpad_kv_seqlen ([B] int64). Outputs Y, present_key/present_value
 *    ([B, kv_heads, P + S_kv, D]) and qk_matmul_output ([B, q_heads, S_q, P + S_kv]).
 *    softmax_precision is accepted; the kernel always computes in float.
 *  - RotaryEmbedding: X 4-D [B, heads, S, D] or 3-D [B, S, heads * D] (num_heads required),
 *    cos/sin caches [B, S, rot / 2] or [max_position, rot / 2] with position_ids [B, S].
 *  - CausalConvWithState (opset 27): depthwise causal conv of input [B, C, L] with weight
 *    [C, 1, K], optional bias [C] and past_state [B, C, K - 1]; outputs [B, C, L] and
 *    present_state [B, C, K - 1]; activation "none", "silu" or "swish".
 *  - LinearAttention (opset 27): 3-D query/key/value with q_num_heads/kv_num_heads, optional
 *    past_state, decay and beta selected by update_rule (linear, gated, delta, gated_delta);
 *    chunk_size is a tuning hint without effect on the result.
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* 1 if dt is a float type these ops accept. */
static int attn_is_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* Dim value or -1 if not known. */
static int64_t dimv(const IrType *t, int i) {
    return t->dims[i].value;
}

/* An unknown-or-constant dim: v >= 0 a constant, else unknown. */
static IrDim mkdim(int64_t v) {
    IrDim d = {v >= 0 ? v : -1, NULL};
    return d;
}

/* a * b, a + b, a / b with unknown (-1) propagation. */
static int64_t dmul(int64_t a, int64_t b) {
    return a < 0 || b < 0 ? -1 : a * b;
}
static int64_t dadd(int64_t a, int64_t b) {
    return a < 0 || b < 0 ? -1 : a + b;
}
static int64_t ddiv(int64_t a, int64_t b) {
    return a < 0 || b <= 0 ? -1 : a / b;
}

/* Shapes of an Attention node resolved from its inputs (-1 where unknown). */
typedef struct AttnGeom {
    int rank;                 /* 3 or 4 */
    int64_t hq, hkv;          /* head counts */
    int64_t sq, skv, p;       /* query length, new key length, past length */
    int64_t dq, dk, dv;       /* head sizes */
} AttnGeom;

static int attn_geom(IrNode *n, IrDiag *d, AttnGeom *g) {
    const IrType *q = op_input_tensor(n, d, 0), *k = op_input_tensor(n, d, 1),
                 *v = op_input_tensor(n, d, 2);
    if (!q || !k || !v)
        return -1;
    if (!attn_is_float(q->dtype) || k->dtype != q->dtype || v->dtype != q->dtype) {
        ir_error(d, n, "Q, K, V must have one float element type (got %s, %s, %s)",
                 ir_dtype_name(q->dtype), ir_dtype_name(k->dtype), ir_dtype_name(v->dtype));
        return -1;
    }
    if ((q->rank != 3 && q->rank != 4) || k->rank != q->rank || v->rank != q->rank) {
        ir_error(d, n, "Q, K, V must all be 3-D or all 4-D (got ranks %d, %d, %d)", q->rank,
                 k->rank, v->rank);
        return -1;
    }
    g->rank = q->rank;
    if (g->rank == 4) {
        g->hq = dimv(q, 1), g->sq = dimv(q, 2), g->dq = dimv(q, 3);
        g->hkv = dimv(k, 1), g->skv = dimv(k, 2), g->dk = dimv(k, 3), g->dv = dimv(v, 3);
    } else {
        g->hq = ir_attr_int(n, "q_num_heads", 0), g->hkv = ir_attr_int(n, "kv_num_heads", 0);
        if (g->hq <= 0 || g->hkv <= 0) {
            ir_error(d, n, "3-D Q/K/V need positive q_num_heads and kv_num_heads attributes");
            return -1;
        }
        int64_t hid[3] = {dimv(q, 2), dimv(k, 2), dimv(v, 2)}, hh[3] = {g->hq, g->hkv, g->hkv};
        for (int i = 0; i < 3; i++)
            if (hid[i] >= 0 && hid[i] % hh[i]) {
                ir_error(d, n, "input %d hidden size %lld is not divisible by %lld heads", i,
                         (long long)hid[i], (long long)hh[i]);
                return -1;
            }
        g->sq = dimv(q, 1), g->skv = dimv(k, 1);
        g->dq = ddiv(hid[0], g->hq), g->dk = ddiv(hid[1], g->hkv), g->dv = ddiv(hid[2], g->hkv);
    }
    if (g->hq >= 0 && g->hkv > 0 && g->hq % g->hkv) {
        ir_error(d, n, "q heads (%lld) must be a multiple of kv heads (%lld)", (long long)g->hq,
                 (long long)g->hkv);
        return -1;
    }
    if (g->dq >= 0 && g->dk >= 0 && g->dq != g->dk) {
        ir_error(d, n, "Q head size %lld differs from K head size %lld", (long long)g->dq,
                 (long long)g->dk);
        return -1;
    }
    IrValue *pk = ir_node_in(n, 4), *pv = ir_node_in(n, 5);
    g->p = 0;
    if (!pk != !pv) {
        ir_error(d, n, "past_key and past_value must be given together");
        return -1;
    }
    if (pk) {
        const IrType *t = op_input_tensor(n, d, 4), *u = op_input_tensor(n, d, 5);
        if (!t || !u)
            return -1;
        if (t->rank != 4 || u->rank != 4 || t->dtype != q->dtype || u->dtype != q->dtype) {
            ir_error(d, n, "past_key/past_value must be 4-D tensors of Q's element type");
            return -1;
        }
        g->p = dimv(t, 2);
    }
    IrValue *m = ir_node_in(n, 3);
    if (m) {
        const IrType *t = op_input_tensor(n, d, 3);
        if (!t)
            return -1;
        if (t->rank < 1 || t->rank > 4 || (t->dtype != IR_DT_BOOL && !attn_is_float(t->dtype))) {
            ir_error(d, n, "attn_mask must be a bool or float tensor of rank 1..4 (got %s, rank %d)",
                     ir_dtype_name(t->dtype), t->rank);
            return -1;
        }
    }
    if (ir_node_in(n, 6)) {
        const IrType *t = op_input_tensor(n, d, 6);
        if (!t)
            return -1;
        if (t->dtype != IR_DT_INT64 || n->opset < 24) {
            ir_error(d, n, "nonpad_kv_seqlen must be int64 (opset >= 24)");
            return -1;
        }
        if (pk) {
            ir_error(d, n, "nonpad_kv_seqlen cannot be combined with past_key/past_value");
            return -1;
        }
    }
    int64_t mode = ir_attr_int(n, "qk_matmul_output_mode", 0);
    if (mode < 0 || mode > 3) {
        ir_error(d, n, "qk_matmul_output_mode %lld is not one of 0..3", (long long)mode);
        return -1;
    }
    return 0;
}

static int infer_attention(IrNode *n, IrDiag *d) {
    AttnGeom g;
    if (attn_geom(n, d, &g))
        return -1;
    const IrType *q = &n->in[0]->type;
    IrDType dt = q->dtype;
    int64_t t = dadd(g.p, g.skv);
    IrDim b = q->dims[0];
    IrDim y[4], pk[4], pv[4], qk[4];
    if (g.rank == 4) {
        y[0] = b, y[1] = q->dims[1], y[2] = q->dims[2], y[3] = mkdim(g.dv);
    } else {
        y[0] = b, y[1] = q->dims[1], y[2] = mkdim(dmul(g.hq, g.dv));
    }
    pk[0] = b, pk[1] = mkdim(g.hkv), pk[2] = mkdim(t), pk[3] = mkdim(g.dk);
    pv[0] = b, pv[1] = mkdim(g.hkv), pv[2] = mkdim(t), pv[3] = mkdim(g.dv);
    qk[0] = b, qk[1] = mkdim(g.hq), qk[2] = mkdim(g.sq), qk[3] = mkdim(t);
    if (op_set_output(n, 0, dt, g.rank, y) || op_set_output(n, 1, dt, 4, pk) ||
        op_set_output(n, 2, dt, 4, pv) || op_set_output(n, 3, dt, 4, qk)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_attention(IrNode *n, IrDiag *d) {
    AttnGeom g;
    if (attn_geom(n, d, &g))
        return -1;
    RtAttentionParams *p = op_params(n, d, "rt_k_attention", sizeof *p);
    if (!p)
        return -1;
    p->q_heads = (int32_t)g.hq;
    p->kv_heads = (int32_t)g.hkv;
    p->is_causal = ir_attr_int(n, "is_causal", 0) != 0;
    p->qk_mode = (int32_t)ir_attr_int(n, "qk_matmul_output_mode", 0);
    p->scale = ir_node_attr(n, "scale") ? ir_attr_float(n, "scale", 0.0f) : 0.0f;
    if (ir_node_attr(n, "scale") && !(p->scale > 0.0f)) {
        ir_error(d, n, "scale must be positive");
        return -1;
    }
    p->softcap = ir_attr_float(n, "softcap", 0.0f);
    return 0;
}

/* ---------------------------------------------------------------- RotaryEmbedding */

static int infer_rotary(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *c = op_input_tensor(n, d, 1),
                 *s = op_input_tensor(n, d, 2);
    if (!x || !c || !s)
        return -1;
    if (!attn_is_float(x->dtype) || c->dtype != x->dtype || s->dtype != x->dtype) {
        ir_error(d, n, "X, cos_cache and sin_cache must have one float element type");
        return -1;
    }
    if (x->rank != 3 && x->rank != 4) {
        ir_error(d, n, "X must be 3-D or 4-D, got rank %d", x->rank);
        return -1;
    }
    int64_t heads = ir_attr_int(n, "num_heads", 0), rd = ir_attr_int(n, "rotary_embedding_dim", 0);
    if (x->rank == 3 && heads <= 0) {
        ir_error(d, n, "a 3-D X needs a positive num_heads attribute");
        return -1;
    }
    if (rd < 0 || rd % 2) {
        ir_error(d, n, "rotary_embedding_dim %lld must be even and non-negative", (long long)rd);
        return -1;
    }
    IrValue *pos = ir_node_in(n, 3);
    if (pos) {
        const IrType *t = op_input_tensor(n, d, 3);
        if (!t)
            return -1;
        if (t->dtype != IR_DT_INT64 || t->rank != 2 || c->rank != 2) {
            ir_error(d, n, "position_ids must be int64 [B, S] with caches [max_position, rot / 2]");
            return -1;
        }
    } else if (c->rank != 3) {
        ir_error(d, n, "without position_ids the caches must be [B, S, rot / 2], got rank %d",
                 c->rank);
        return -1;
    }
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_rotary(IrNode *n, IrDiag *d) {
    RtRotaryParams *p = op_params(n, d, "rt_k_rotary_embedding", sizeof *p);
    if (!p)
        return -1;
    p->interleaved = ir_attr_int(n, "interleaved", 0) != 0;
    p->rot_dim = (int32_t)ir_attr_int(n, "rotary_embedding_dim", 0);
    p->num_heads = (int32_t)ir_attr_int(n, "num_heads", 0);
    return 0;
}

/* ---------------------------------------------------------------- CausalConvWithState */

static int infer_causal_conv(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *w = op_input_tensor(n, d, 1);
    if (!x || !w)
        return -1;
    if (!attn_is_float(x->dtype) || w->dtype != x->dtype || x->rank != 3 || w->rank != 3) {
        ir_error(d, n, "input and weight must be 3-D tensors of one float type");
        return -1;
    }
    for (int i = 2; i < 4; i++)
        if (ir_node_in(n, i)) {
            const IrType *t = op_input_tensor(n, d, i);
            if (!t)
                return -1;
            if (t->dtype != x->dtype || t->rank != (i == 2 ? 1 : 3)) {
                ir_error(d, n, "%s must be a %d-D tensor of the input's type",
                         i == 2 ? "bias" : "past_state", i == 2 ? 1 : 3);
                return -1;
            }
        }
    const char *act = ir_attr_string(n, "activation", "none");
    if (strcmp(act, "none") && strcmp(act, "silu") && strcmp(act, "swish")) {
        ir_error(d, n, "activation '%s' is not one of none, silu, swish", act);
        return -1;
    }
    int64_t k = dimv(w, 2);
    IrDim st[3] = {x->dims[0], x->dims[1], mkdim(k >= 1 ? k - 1 : -1)};
    if (op_set_output(n, 0, x->dtype, 3, x->dims) || op_set_output(n, 1, x->dtype, 3, st)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_causal_conv(IrNode *n, IrDiag *d) {
    RtCausalConvParams *p = op_params(n, d, "rt_k_causal_conv_state", sizeof *p);
    if (!p)
        return -1;
    p->silu = strcmp(ir_attr_string(n, "activation", "none"), "none") != 0;
    return 0;
}

/* ---------------------------------------------------------------- LinearAttention */

/* update_rule -> gating/delta flags; -1 + diag if unknown. */
static int linattn_rule(IrNode *n, IrDiag *d, int *gating, int *delta) {
    const char *r = ir_attr_string(n, "update_rule", "gated_delta");
    *gating = !strcmp(r, "gated") || !strcmp(r, "gated_delta");
    *delta = !strcmp(r, "delta") || !strcmp(r, "gated_delta");
    if (!*gating && !*delta && strcmp(r, "linear")) {
        ir_error(d, n, "update_rule '%s' is not one of linear, gated, delta, gated_delta", r);
        return -1;
    }
    if (*gating != (ir_node_in(n, 4) != NULL) || *delta != (ir_node_in(n, 5) != NULL)) {
        ir_error(d, n, "update_rule '%s' %s decay and %s beta", r, *gating ? "needs" : "forbids",
                 *delta ? "needs" : "forbids");
        return -1;
    }
    return 0;
}

static int infer_linear_attention(IrNode *n, IrDiag *d) {
    int gating, delta;
    if (linattn_rule(n, d, &gating, &delta))
        return -1;
    const IrType *q = op_input_tensor(n, d, 0), *k = op_input_tensor(n, d, 1),
                 *v = op_input_tensor(n, d, 2);
    if (!q || !k || !v)
        return -1;
    if (!attn_is_float(q->dtype) || k->dtype != q->dtype || v->dtype != q->dtype ||
        q->rank != 3 || k->rank != 3 || v->rank != 3) {
        ir_error(d, n, "query, key, value must be 3-D tensors of one float type");
        return -1;
    }
    int64_t hq = ir_attr_int(n, "q_num_heads", 0), hkv = ir_attr_int(n, "kv_num_heads", 0);
    if (hq <= 0 || hkv <= 0 || hq % hkv) {
        ir_error(d, n, "q_num_heads (%lld) must be a positive multiple of kv_num_heads (%lld)",
                 (long long)hq, (long long)hkv);
        return -1;
    }
    int64_t dk = ddiv(dimv(q, 2), hq), dv = ddiv(dimv(v, 2), hkv);
    IrDim y[3] = {q->dims[0], q->dims[1], mkdim(dmul(hq, dv))};
    IrDim st[4] = {q->dims[0], mkdim(hkv), mkdim(dk), mkdim(dv)};
    IrDType sdt = q->dtype;
    if (ir_node_in(n, 3)) {
        const IrType *p = op_input_tensor(n, d, 3);
        if (!p)
            return -1;
        sdt = p->dtype;
    }
    if (op_set_output(n, 0, q->dtype, 3, y) || op_set_output(n, 1, sdt, 4, st)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_linear_attention(IrNode *n, IrDiag *d) {
    int gating, delta;
    if (linattn_rule(n, d, &gating, &delta))
        return -1;
    RtLinearAttnParams *p = op_params(n, d, "rt_k_linear_attention", sizeof *p);
    if (!p)
        return -1;
    p->q_heads = (int32_t)ir_attr_int(n, "q_num_heads", 0);
    p->kv_heads = (int32_t)ir_attr_int(n, "kv_num_heads", 0);
    p->gating = gating;
    p->delta = delta;
    p->scale = ir_attr_float(n, "scale", 0.0f);
    return 0;
}

const OpHooks op_hooks_LinearAttention = {infer_linear_attention, lower_linear_attention, NULL};
const OpHooks op_hooks_CausalConvWithState = {infer_causal_conv, lower_causal_conv, NULL};
const OpHooks op_hooks_Attention = {infer_attention, lower_attention, NULL};
const OpHooks op_hooks_RotaryEmbedding = {infer_rotary, lower_rotary, NULL};
