/* rt_params_attn.h - parameter blocks of the attn kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_ATTN_H
#define ONNXC_RT_PARAMS_ATTN_H
#include <stdint.h>

/* Attention, opsets 23/24 (rt_k_attention). Inputs Q, K, V, attn_mask, past_key, past_value,
 * nonpad_kv_seqlen (absent ones have rank -1); outputs Y, present_key, present_value,
 * qk_matmul_output. Q/K/V are all 3-D ([B, S, heads * head_size]) or all 4-D
 * ([B, heads, S, head_size]); past/present and qk_matmul_output are always 4-D. */
typedef struct RtAttentionParams {
    int32_t q_heads;   /* number of query heads (3-D inputs; 4-D inputs carry it in dims[1]) */
    int32_t kv_heads;  /* number of key/value heads (same) */
    int32_t is_causal; /* nonzero: bottom-right aligned causal mask */
    int32_t qk_mode;   /* qk_matmul_output: 0/1 scaled (softcapped) QK^T, 2 + mask, 3 softmax */
    float scale;       /* > 0: the scale; 0: 1 / sqrt(query head size) */
    float softcap;     /* > 0: scores become softcap * tanh(scores / softcap) */
} RtAttentionParams;

/* RotaryEmbedding, opset 23 (rt_k_rotary_embedding). Inputs X ([B, H, S, D] or [B, S, H * D]),
 * cos_cache and sin_cache ([B, S, rot / 2], or [max_pos, rot / 2] with position_ids [B, S]). */
typedef struct RtRotaryParams {
    int32_t interleaved; /* nonzero: rotate pairs (2k, 2k+1); zero: halves (k, k + rot / 2) */
    int32_t rot_dim;     /* rotated leading part of each head; 0: the whole head */
    int32_t num_heads;   /* heads of a 3-D X (required then) */
} RtRotaryParams;

/* CausalConvWithState (rt_k_causal_conv_state): depthwise causal 1-D convolution of input
 * [B, C, L] with weight [C, 1, K], optional bias [C], left-padded by past_state [B, C, K - 1]
 * (zeros when absent); outputs output [B, C, L] and present_state [B, C, K - 1]. */
typedef struct RtCausalConvParams {
    int32_t silu; /* nonzero: output = x * sigmoid(x) (activation "silu" / "swish") */
} RtCausalConvParams;

/* LinearAttention (rt_k_linear_attention): query [B, T, Hq * dk], key [B, T, Hkv * dk], value
 * [B, T, Hkv * dv], optional past_state [B, Hkv, dk, dv], decay [B, T, Hkv or Hkv * dk] and
 * beta [B, T, Hkv or 1]; outputs output [B, T, Hq * dv] and present_state [B, Hkv, dk, dv].
 * Per step t and kv head: S *= exp(decay) (gating); v' = beta (v - S^T k) (delta rule);
 * S += k v'^T; output for query head h (kv head h / (Hq / Hkv)) = scale q^T S. */
typedef struct RtLinearAttnParams {
    int32_t q_heads;  /* q_num_heads */
    int32_t kv_heads; /* kv_num_heads */
    int32_t gating;   /* update_rule "gated" or "gated_delta": decay input used */
    int32_t delta;    /* update_rule "delta" or "gated_delta": beta input used */
    float scale;      /* > 0: the scale; 0: 1 / sqrt(dk) */
} RtLinearAttnParams;

#endif
