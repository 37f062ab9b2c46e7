/* rt_epilogue.h - the activation epilogue (RtEpilogue, runtime/rt_params_fused.h) applied by the
 * Conv, Gemm and MatMul kernels to each block of output they have just written, while it is
 * still in cache. Internal to the runtime (static inline, also compiled into the bitcode). The
 * formulas are those of the standalone kernels (rt_elementwise.c, rt_act.c). */
#ifndef ONNXC_RT_EPILOGUE_H
#define ONNXC_RT_EPILOGUE_H

#include <math.h>
#include <stdint.h>

#include "runtime/rt_params_fused.h"

/* The body, for T = float or double: y[0..n) = act(y[0..n)). The switch is outside the loops
 * so that each loop vectorises. */
#define RT_EPILOGUE_BODY(T, EXP, TANH)                                                          \
    do {                                                                                        \
        T al_ = (T)e->alpha, be_ = (T)e->beta;                                                  \
        switch (e->act) {                                                                       \
        case RT_EPI_RELU:                                                                       \
            for (int64_t i_ = 0; i_ < n; i_++) y[i_] = y[i_] > 0 ? y[i_] : 0;                   \
            break;                                                                              \
        case RT_EPI_LEAKYRELU:                                                                  \
            for (int64_t i_ = 0; i_ < n; i_++) y[i_] = y[i_] < 0 ? y[i_] * al_ : y[i_];         \
            break;                                                                              \
        case RT_EPI_CLIP:                                                                       \
            for (int64_t i_ = 0; i_ < n; i_++) {                                                \
                T v_ = y[i_] < al_ ? al_ : y[i_];                                               \
                y[i_] = v_ > be_ ? be_ : v_;                                                    \
            }                                                                                   \
            break;                                                                              \
        case RT_EPI_SIGMOID:                                                                    \
            for (int64_t i_ = 0; i_ < n; i_++) {                                                \
                T v_ = y[i_];                                                                   \
                if (v_ >= 0) {                                                                  \
                    y[i_] = 1 / (1 + EXP(-v_));                                                 \
                } else {                                                                        \
                    T x_ = EXP(v_);                                                             \
                    y[i_] = x_ / (1 + x_);                                                      \
                }                                                                               \
            }                                                                                   \
            break;                                                                              \
        case RT_EPI_HARDSIGMOID:                                                                \
            for (int64_t i_ = 0; i_ < n; i_++) {                                                \
                T v_ = al_ * y[i_] + be_;                                                       \
                v_ = v_ < 0 ? 0 : v_;                                                           \
                y[i_] = v_ > 1 ? 1 : v_;                                                        \
            }                                                                                   \
            break;                                                                              \
        case RT_EPI_TANH:                                                                       \
            for (int64_t i_ = 0; i_ < n; i_++) y[i_] = TANH(y[i_]);                             \
            break;                                                                              \
        default:                                                                                \
            break;                                                                              \
        }                                                                                       \
    } while (0)

static inline void rt_epilogue_f32(const RtEpilogue *e, float *y, int64_t n) {
    if (e && e->act != RT_EPI_NONE)
        RT_EPILOGUE_BODY(float, expf, tanhf);
}

static inline void rt_epilogue_f64(const RtEpilogue *e, double *y, int64_t n) {
    if (e && e->act != RT_EPI_NONE)
        RT_EPILOGUE_BODY(double, exp, tanh);
}

/* A strided 2-D block: rows of `cols` elements, `ld` apart. */
static inline void rt_epilogue_f32_2d(const RtEpilogue *e, float *y, int64_t rows, int64_t cols,
                                      int64_t ld) {
    if (e && e->act != RT_EPI_NONE)
        for (int64_t r = 0; r < rows; r++)
            rt_epilogue_f32(e, y + r * ld, cols);
}

#endif
