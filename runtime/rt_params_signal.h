/* rt_params_signal.h - kernel parameter records of the signal family (runtime/rt_signal.c, hooks
 * in ops/op_signal.c): DFT, STFT, the window functions, MelWeightMatrix, and the small
 * data-movement / linear-algebra ops kept with them (CumProd, Det, BitCast, TensorScatter,
 * ReverseSequence). Shapes travel in the RtTensors; what is stored here is what the node's
 * attributes (resolved for its opset) decide. */
#pragma once
#include <stdint.h>

/* rt_k_dft: in = (x [.., n, .., c], optional dft_length (scalar int32/int64), optional axis
 * (scalar int64, DFT-20)); c = 1 (real) or 2 (complex) is the last dim. */
typedef struct RtDftParams {
    int32_t axis;       /* the transformed dim in [0, rank - 2], or -1: read it from in[2]
                           (DFT-20; default -2 when that input is absent) */
    int32_t inverse;    /* 1: inverse transform (scaled by 1 / dft_length) */
    int32_t onesided;   /* forward: keep bins [0, L/2]; inverse: Hermitian input, real output */
    int32_t pad_;       /* zero */
} RtDftParams;

/* rt_k_stft: in = (signal [B, L, c], frame_step, optional window [W], optional frame_length);
 * out [B, frames, bins, 2] with frames = 1 + (L - frame_length) / frame_step and bins =
 * frame_length / 2 + 1 (onesided) or frame_length. */
typedef struct RtStftParams {
    int32_t onesided; /* 1: bins [0, frame_length / 2] only */
    int32_t pad_;     /* zero */
} RtStftParams;

/* rt_k_window: in = (size, a scalar int32/int64); out [size] of any numeric type. With
 * N = periodic ? size : size - 1, y[n] = a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N). */
enum { RT_WINDOW_HANN = 0, RT_WINDOW_HAMMING = 1, RT_WINDOW_BLACKMAN = 2 };
typedef struct RtWindowParams {
    int32_t kind;     /* RT_WINDOW_* */
    int32_t periodic; /* 1: periodic window, 0: symmetric */
} RtWindowParams;

/* rt_k_melweight: in = (num_mel_bins, dft_length, sample_rate, lower_edge_hertz,
 * upper_edge_hertz); out [dft_length / 2 + 1, num_mel_bins] of any numeric type. No
 * parameters (params may be NULL). */

/* rt_k_cumprod: in = (x, axis scalar int32/int64). */
typedef struct RtCumProdParams {
    int32_t exclusive; /* 1: y[j] = product of the elements before j */
    int32_t reverse;   /* 1: run from the end of the axis */
} RtCumProdParams;

/* rt_k_det: in = X [*, M, M] (float types); out [*]. No parameters. */

/* rt_k_bitcast: in and out of the same shape and bit width; the bits are copied. No
 * parameters. Sub-byte types (stored one per byte) keep their low 4 or 2 bits, sign-extended
 * for int4 / int2. */

/* rt_k_tensorscatter: in = (past_cache, update, optional write_indices [batch] int64). */
typedef struct RtTensorScatterParams {
    int32_t axis;     /* the sequence dim in [1, rank) */
    int32_t circular; /* 1: write index modulo max_sequence_length */
} RtTensorScatterParams;

/* rt_k_reversesequence: in = (x, sequence_lens [batch] int64). */
typedef struct RtReverseSequenceParams {
    int32_t batch_axis; /* 0 or 1 */
    int32_t time_axis;  /* 1 or 0 (the other one) */
} RtReverseSequenceParams;
