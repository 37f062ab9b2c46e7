/* rt_rnn.c - the recurrent kernel (ops/op_rnn.c): RNN, GRU and LSTM, one layer, forward,
 * reverse or bidirectional (ONNX docs/Operators.md, sections RNN, GRU, LSTM; opsets 7, 14, 22).
 *
 * Per direction: the input projection X W^T + Wb (+ Rb where it is added outside the reset
 * gate) of every time step is one GEMM; each step then multiplies the previous hidden state by
 * R^T (one GEMM over the batch; GRU without linear_before_reset needs a second one for the
 * candidate gate, on r * H) and applies the gate equations elementwise:
 *   RNN:  H = f(x + H R^T)
 *   GRU:  z = f(.), r = f(.), h = g(Xh + (r * H) Rh^T + Rbh + Wbh)   (linear_before_reset 0)
 *                             h = g(Xh + r * (H Rh^T + Rbh) + Wbh)   (linear_before_reset 1)
 *         H = (1 - z) * h + z * H
 *   LSTM: i = f(. + Pi * C), f = f(. + Pf * C) (or 1 - i with input_forget), c = g(.),
 *         C = f * C + i * c, o = f(. + Po * C_new), H = o * h(C)
 * `clip` bounds every activation's input. With sequence_lens, batch entry b runs its first
 * len_b steps (the reverse direction starts at len_b - 1); Y is zero beyond len_b and Y_h/Y_c
 * hold the state after its last step. float and double compute in their own precision
 * (OpenBLAS sgemm/dgemm); float16/bfloat16 on float copies.
 */
#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

/* The tensors of one call, checked, with the sizes every loop needs. */
typedef struct RnnArgs {
    const RtRnnParams *p;
    int64_t seq, batch, isz, hid, ndir, ngate; /* steps, batch, input size, hidden, directions,
                                                 gates */
    const void *x, *w, *r, *b;   /* data (b may be NULL) */
    const int32_t *lens;         /* sequence_lens or NULL */
    const void *h0, *c0, *peep;  /* initial_h, initial_c, P or NULL */
    void *y, *yh, *yc;           /* outputs or NULL */
} RnnArgs;

/* Index of X row (t, b) / Y row (t, d, b) / state row (d, b) for the layout. */
static inline int64_t rnn_xrow(const RnnArgs *a, int64_t t, int64_t b) {
    return a->p->layout ? b * a->seq + t : t * a->batch + b;
}
static inline int64_t rnn_yrow(const RnnArgs *a, int64_t t, int64_t d, int64_t b) {
    return a->p->layout ? (b * a->seq + t) * a->ndir + d : (t * a->ndir + d) * a->batch + b;
}
static inline int64_t rnn_srow(const RnnArgs *a, int64_t d, int64_t b) {
    return a->p->layout ? b * a->ndir + d : d * a->batch + b;
}

/* One instance of the kernel per element type T (float with sgemm, double with dgemm). */
#define DEFINE_RNN(T, SFX, GEMM, EXP, TANH, LOG1P)                                                 \
    static inline T rnn_act_##SFX(int f, T al, T be, T x) {                                       \
        switch (f) {                                                                               \
        case RT_RNN_ACT_RELU: return x > 0 ? x : 0;                                                \
        case RT_RNN_ACT_TANH: return TANH(x);                                                      \
        case RT_RNN_ACT_SIGMOID: return 1 / (1 + EXP(-x));                                         \
        case RT_RNN_ACT_AFFINE: return al * x + be;                                                \
        case RT_RNN_ACT_LEAKYRELU: return x >= 0 ? x : al * x;                                     \
        case RT_RNN_ACT_THRESHOLDEDRELU: return x >= al ? x : (x != x ? x : 0);                    \
        case RT_RNN_ACT_SCALEDTANH: return al * TANH(be * x);                                      \
        case RT_RNN_ACT_HARDSIGMOID: {                                                             \
            T v = al * x + be;                                                                     \
            return v < 0 ? 0 : v > 1 ? 1 : v;                                                      \
        }                                                                                          \
        case RT_RNN_ACT_ELU: return x >= 0 ? x : al * (EXP(x) - 1);                                \
        case RT_RNN_ACT_SOFTSIGN: return x / (1 + (x < 0 ? -x : x));                               \
        case RT_RNN_ACT_SOFTPLUS: return (x > 0 ? x : 0) + LOG1P(EXP(x > 0 ? -x : x));             \
        default: return x;                                                                         \
        }                                                                                          \
    }                                                                                              \
                                                                                                   \
    /* Direction d of the layer. ws: scratch of rnn_ws_elems(a) elements. */                       \
    static void rnn_dir_##SFX(const RnnArgs *a, int64_t d, T *ws) {                                \
        const RtRnnParams *p = a->p;                                                               \
        const int64_t T_ = a->seq, B = a->batch, IS = a->isz, H = a->hid, GH = a->ngate * H;               \
        const int gru = p->cell == RT_RNN_GRU, lstm = p->cell == RT_RNN_LSTM;                      \
        const int rev = p->direction == 1 || (p->direction == 2 && d == 1);                        \
        const T *W = (const T *)a->w + d * GH * IS, *R = (const T *)a->r + d * GH * H;              \
        const T *Wb = a->b ? (const T *)a->b + d * 2 * GH : NULL, *Rb = Wb ? Wb + GH : NULL;       \
        const T *P = a->peep ? (const T *)a->peep + d * 3 * H : NULL;                              \
        const int f = p->act[d][0], g = p->act[d][1], hh = p->act[d][2];                           \
        const T fa = (T)p->alpha[d][0], fb = (T)p->beta[d][0], ga = (T)p->alpha[d][1];             \
        const T gb = (T)p->beta[d][1], ha = (T)p->alpha[d][2], hb = (T)p->beta[d][2];              \
        const T clip = (T)p->clip;                                                                 \
        T *xw = ws;             /* [T * B, GH]: input projection, rows in X's order */             \
        T *hr = xw + T_ * B * GH; /* [B, GH]: H R^T of the step */                                 \
        T *hs = hr + B * GH;    /* [B, H]: hidden state */                                         \
        T *cs = hs + B * H;     /* [B, H]: cell state (LSTM) */                                    \
        T *rh = cs + B * H;     /* [B, H]: r * H (GRU) */                                          \
        /* input projection and the biases added outside the reset gate */                        \
        if (T_ * B > 0)                                                                            \
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(T_ * B), (int)GH, (int)IS, 1,      \
                 (const T *)a->x, (int)IS, W, (int)IS, 0, xw, (int)GH);                              \
        if (Wb)                                                                                    \
            for (int64_t row = 0; row < T_ * B; row++)                                             \
                for (int64_t j = 0; j < GH; j++)                                                   \
                    xw[row * GH + j] +=                                                            \
                        Wb[j] + ((gru && p->linear_before_reset && j >= 2 * H) ? 0 : Rb[j]);       \
        /* initial state */                                                                        \
        for (int64_t b = 0; b < B; b++)                                                            \
            for (int64_t j = 0; j < H; j++) {                                                      \
                hs[b * H + j] = a->h0 ? ((const T *)a->h0)[rnn_srow(a, d, b) * H + j] : 0;         \
                cs[b * H + j] = a->c0 ? ((const T *)a->c0)[rnn_srow(a, d, b) * H + j] : 0;         \
            }                                                                                      \
        /* Y beyond each sequence's length is zero */                                              \
        if (a->y)                                                                                  \
            for (int64_t t = 0; t < T_; t++)                                                       \
                for (int64_t b = 0; b < B; b++)                                                    \
                    if (a->lens && t >= a->lens[b])                                                \
                        memset((T *)a->y + rnn_yrow(a, t, d, b) * H, 0, (size_t)H * sizeof(T));    \
        for (int64_t s = 0; s < T_; s++) {                                                         \
            /* H R^T for every gate (GRU without linear_before_reset: z and r only) */            \
            int64_t ng = (gru && !p->linear_before_reset) ? 2 * H : GH;                            \
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)ng, (int)H, 1, hs, (int)H,  \
                 R, (int)H, 0, hr, (int)GH);                                                       \
            if (gru && !p->linear_before_reset) {                                                  \
                /* r first, then (r * H) Rh^T into the h part of hr */                            \
                for (int64_t b = 0; b < B; b++) {                                                  \
                    int64_t len = a->lens ? a->lens[b] : T_;                                       \
                    int64_t t = rev ? len - 1 - s : s;                                             \
                    const T *x = xw + rnn_xrow(a, s < len ? t : 0, b) * GH;                        \
                    for (int64_t j = 0; j < H; j++) {                                              \
                        T v = x[H + j] + hr[b * GH + H + j];                                       \
                        if (p->has_clip)                                                           \
                            v = v < -clip ? -clip : v > clip ? clip : v;                           \
                        rh[b * H + j] = rnn_act_##SFX(f, fa, fb, v) * hs[b * H + j];               \
                    }                                                                              \
                }                                                                                  \
                GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)B, (int)H, (int)H, 1, rh,       \
                     (int)H, R + 2 * H * H, (int)H, 0, hr + 2 * H, (int)GH);                       \
            }                                                                                      \
            for (int64_t b = 0; b < B; b++) {                                                      \
                int64_t len = a->lens ? a->lens[b] : T_;                                           \
                if (s >= len)                                                                      \
                    continue; /* this sequence has ended: its state stays */                       \
                int64_t t = rev ? len - 1 - s : s;                                                 \
                const T *x = xw + rnn_xrow(a, t, b) * GH;                                          \
                T *hrow = hr + b * GH, *hb_ = hs + b * H, *cb = cs + b * H;                        \
                for (int64_t j = 0; j < H; j++) {                                                  \
                    T hn;                                                                          \
                    if (p->cell == RT_RNN_SIMPLE) {                                                \
                        T v = x[j] + hrow[j];                                                      \
                        if (p->has_clip)                                                           \
                            v = v < -clip ? -clip : v > clip ? clip : v;                           \
                        hn = rnn_act_##SFX(f, fa, fb, v);                                          \
                    } else if (gru) {                                                              \
                        T vz = x[j] + hrow[j], vr = x[H + j] + hrow[H + j], vh;                    \
                        if (p->has_clip) {                                                         \
                            vz = vz < -clip ? -clip : vz > clip ? clip : vz;                       \
                            vr = vr < -clip ? -clip : vr > clip ? clip : vr;                       \
                        }                                                                          \
                        T z = rnn_act_##SFX(f, fa, fb, vz);                                        \
                        if (p->linear_before_reset) {                                              \
                            T rr = rnn_act_##SFX(f, fa, fb, vr);                                   \
                            vh = x[2 * H + j] + rr * (hrow[2 * H + j] + (Rb ? Rb[2 * H + j] : 0)); \
                        } else                                                                     \
                            vh = x[2 * H + j] + hrow[2 * H + j];                                   \
                        if (p->has_clip)                                                           \
                            vh = vh < -clip ? -clip : vh > clip ? clip : vh;                       \
                        T hc = rnn_act_##SFX(g, ga, gb, vh);                                       \
                        hn = (1 - z) * hc + z * hb_[j];                                            \
                    } else {                                                                       \
                        T c = cb[j];                                                               \
                        T vi = x[j] + hrow[j] + (P ? P[j] * c : 0);                                \
                        T vo = x[H + j] + hrow[H + j];                                             \
                        T vf = x[2 * H + j] + hrow[2 * H + j] + (P ? P[2 * H + j] * c : 0);        \
                        T vc = x[3 * H + j] + hrow[3 * H + j];                                     \
                        if (p->has_clip) {                                                         \
                            vi = vi < -clip ? -clip : vi > clip ? clip : vi;                       \
                            vf = vf < -clip ? -clip : vf > clip ? clip : vf;                       \
                            vc = vc < -clip ? -clip : vc > clip ? clip : vc;                       \
                        }                                                                          \
                        T ig = rnn_act_##SFX(f, fa, fb, vi);                                       \
                        T fg = p->input_forget ? 1 - ig : rnn_act_##SFX(f, fa, fb, vf);            \
                        T cc = rnn_act_##SFX(g, ga, gb, vc);                                       \
                        T cn = fg * c + ig * cc;                                                   \
                        vo += P ? P[H + j] * cn : 0;                                               \
                        if (p->has_clip)                                                           \
                            vo = vo < -clip ? -clip : vo > clip ? clip : vo;                       \
                        T og = rnn_act_##SFX(f, fa, fb, vo);                                       \
                        T hcell = cn;                                                              \
                        if (p->has_clip) /* h's input is clipped too */                            \
                            hcell = hcell < -clip ? -clip : hcell > clip ? clip : hcell;           \
                        hn = og * rnn_act_##SFX(hh, ha, hb, hcell);                                \
                        cb[j] = cn;                                                                \
                    }                                                                              \
                    hb_[j] = hn;                                                                   \
                }                                                                                  \
                if (a->y)                                                                          \
                    memcpy((T *)a->y + rnn_yrow(a, t, d, b) * H, hb_, (size_t)H * sizeof(T));      \
            }                                                                                      \
        }                                                                                          \
        for (int64_t b = 0; b < B; b++) {                                                          \
            if (a->yh)                                                                             \
                memcpy((T *)a->yh + rnn_srow(a, d, b) * H, hs + b * H, (size_t)H * sizeof(T));     \
            if (a->yc && lstm)                                                                     \
                memcpy((T *)a->yc + rnn_srow(a, d, b) * H, cs + b * H, (size_t)H * sizeof(T));     \
        }                                                                                          \
    }

DEFINE_RNN(float, f32, cblas_sgemm, expf, tanhf, log1pf)
DEFINE_RNN(double, f64, cblas_dgemm, exp, tanh, log1p)

/* Scratch elements of one direction: xw [T*B, G*H], hr [B, G*H], hs, cs, rh [B, H]. */
static int rnn_ws_elems(const RnnArgs *a, int64_t *out) {
    int64_t gh, tb, n1, n2;
    if (__builtin_mul_overflow(a->ngate, a->hid, &gh) || __builtin_mul_overflow(a->seq, a->batch, &tb) ||
        __builtin_mul_overflow(tb + a->batch, gh, &n1) || __builtin_mul_overflow(a->batch * 3, a->hid, &n2) ||
        __builtin_add_overflow(n1, n2, out) || *out > ((int64_t)1 << 40))
        return -1;
    return 0;
}

/* Element count of t, or 0 when absent. */
static int64_t rnn_numel(const RtTensor *t) { return t && t->rank >= 0 ? rt_numel(t) : 0; }

/* Widens a present float16/bfloat16 tensor into a new float array (NULL data stays NULL). */
static float *rnn_widen(const RtTensor *t, int *oom) {
    if (!t || t->rank < 0 || !t->data)
        return NULL;
    int64_t n = rt_numel(t);
    float *f = malloc((size_t)(n ? n : 1) * sizeof(float));
    if (!f) {
        *oom = 1;
        return NULL;
    }
    const uint16_t *s = t->data;
    for (int64_t i = 0; i < n; i++)
        f[i] = t->dtype == IR_DT_FLOAT16 ? rt_h2f(s[i]) : rt_bf2f(s[i]);
    return f;
}

/* dims of t equal the listed ones (rank = count). */
static int rnn_dims(const RtTensor *t, int count, int64_t d0, int64_t d1, int64_t d2, int64_t d3) {
    int64_t want[4] = {d0, d1, d2, d3};
    if (t->rank != count)
        return 0;
    for (int i = 0; i < count; i++)
        if (t->dims[i] != want[i])
            return 0;
    return 1;
}

int rt_k_rnn(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
             int nout) {
    const RtRnnParams *p = params;
    if (!p || !in || !out || nin < 3 || nout < 1 || p->cell < 0 || p->cell > 2 ||
        p->direction < 0 || p->direction > 2 || p->hidden < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "RNN: bad parameters");
    for (int k = 0; k < 2; k++)
        for (int j = 0; j < 3; j++)
            if (p->act[k][j] < 0 || p->act[k][j] >= RT_RNN_ACT_COUNT)
                return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "RNN: bad activation");
    const char *op = p->cell == RT_RNN_SIMPLE ? "RNN" : p->cell == RT_RNN_GRU ? "GRU" : "LSTM";
    const int lstm = p->cell == RT_RNN_LSTM;
#define OPT_IN(i) (nin > (i) && in[i].rank >= 0 ? &in[i] : NULL)
#define OPT_OUT(i) (nout > (i) && out[i].rank >= 0 ? &out[i] : NULL)
    const RtTensor *x = &in[0], *w = &in[1], *r = &in[2], *bias = OPT_IN(3), *sl = OPT_IN(4);
    const RtTensor *h0 = OPT_IN(5), *c0 = lstm ? OPT_IN(6) : NULL, *pp = lstm ? OPT_IN(7) : NULL;
    RtTensor *y = OPT_OUT(0), *yh = OPT_OUT(1), *yc = lstm ? OPT_OUT(2) : NULL;
#undef OPT_IN
#undef OPT_OUT
    int32_t dt = x->dtype;
    if (dt != IR_DT_FLOAT && dt != IR_DT_DOUBLE && dt != IR_DT_FLOAT16 && dt != IR_DT_BFLOAT16)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: element type %d not supported", op, (int)dt);
    const RtTensor *same[] = {w, r, bias, h0, c0, pp, y, yh, yc};
    for (size_t k = 0; k < sizeof same / sizeof same[0]; k++)
        if (same[k] && (same[k]->dtype != dt || (!same[k]->data && rt_numel(same[k]) > 0)))
            return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: inputs and outputs must share X's type", op);
    if (x->rank != 3 || (!x->data && rt_numel(x) > 0))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: X must have rank 3", op);
    RnnArgs a = {.p = p};
    a.seq = x->dims[p->layout ? 1 : 0];
    a.batch = x->dims[p->layout ? 0 : 1];
    a.isz = x->dims[2];
    a.hid = p->hidden;
    a.ndir = p->direction == 2 ? 2 : 1;
    a.ngate = p->cell == RT_RNN_SIMPLE ? 1 : p->cell == RT_RNN_GRU ? 3 : 4;
    int64_t D = a.ndir, B = a.batch, H = a.hid, GH = a.ngate * a.hid, T = a.seq;
    int64_t s0 = p->layout ? B : D, s1 = p->layout ? D : B; /* state dims */
    if (!rnn_dims(w, 3, D, GH, a.isz, 0) || !rnn_dims(r, 3, D, GH, H, 0) ||
        (bias && !rnn_dims(bias, 2, D, 2 * GH, 0, 0)) || (sl && !rnn_dims(sl, 1, B, 0, 0, 0)) ||
        (h0 && !rnn_dims(h0, 3, s0, s1, H, 0)) || (c0 && !rnn_dims(c0, 3, s0, s1, H, 0)) ||
        (pp && !rnn_dims(pp, 2, D, 3 * H, 0, 0)) || (yh && !rnn_dims(yh, 3, s0, s1, H, 0)) ||
        (yc && !rnn_dims(yc, 3, s0, s1, H, 0)) ||
        (y && !(p->layout ? rnn_dims(y, 4, B, T, D, H) : rnn_dims(y, 4, T, D, B, H))))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: input or output shapes do not match "
                                             "X [%lld, %lld, %lld] and hidden_size %lld",
                       op, (long long)x->dims[0], (long long)x->dims[1], (long long)x->dims[2],
                       (long long)H);
    if (sl && sl->dtype != IR_DT_INT32)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: sequence_lens must be int32", op);
    if (sl)
        for (int64_t b = 0; b < B; b++) {
            int32_t v = ((const int32_t *)sl->data)[b];
            if (v < 0 || v > T)
                return rt_fail(ctx, ONNXC_ERR_RUNTIME, "%s: sequence_lens[%lld] = %d, outside [0, %lld]",
                               op, (long long)b, (int)v, (long long)T);
        }
    if (GH > INT32_MAX || a.isz > INT32_MAX || T * B > INT32_MAX)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "%s: sizes exceed the GEMM's int range", op);
    int64_t wsn;
    if (rnn_ws_elems(&a, &wsn))
        return rt_fail(ctx, ONNXC_ERR_NOMEM, "%s: scratch size overflows", op);
    a.lens = sl ? sl->data : NULL;

    /* float16 / bfloat16: float copies of every input and output */
    int half = dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16, oom = 0;
    float *hx = NULL, *hw = NULL, *hr = NULL, *hb = NULL, *hh0 = NULL, *hc0 = NULL, *hp = NULL;
    float *hy = NULL, *hyh = NULL, *hyc = NULL;
    size_t es = dt == IR_DT_DOUBLE ? sizeof(double) : sizeof(float);
    void *ws = malloc((size_t)wsn * es);
    if (half) {
        hx = rnn_widen(x, &oom);
        hw = rnn_widen(w, &oom);
        hr = rnn_widen(r, &oom);
        hb = rnn_widen(bias, &oom);
        hh0 = rnn_widen(h0, &oom);
        hc0 = rnn_widen(c0, &oom);
        hp = rnn_widen(pp, &oom);
        if (y && !(hy = malloc((size_t)(rnn_numel(y) + 1) * sizeof(float))))
            oom = 1;
        if (yh && !(hyh = malloc((size_t)(rnn_numel(yh) + 1) * sizeof(float))))
            oom = 1;
        if (yc && !(hyc = malloc((size_t)(rnn_numel(yc) + 1) * sizeof(float))))
            oom = 1;
    }
    int status = 0;
    if (!ws || oom) {
        status = rt_fail(ctx, ONNXC_ERR_NOMEM, "%s: out of memory", op);
    } else {
        a.x = half ? hx : x->data;
        a.w = half ? hw : w->data;
        a.r = half ? hr : r->data;
        a.b = bias ? (half ? (void *)hb : bias->data) : NULL;
        a.h0 = h0 ? (half ? (void *)hh0 : h0->data) : NULL;
        a.c0 = c0 ? (half ? (void *)hc0 : c0->data) : NULL;
        a.peep = pp ? (half ? (void *)hp : pp->data) : NULL;
        a.y = y ? (half ? (void *)hy : y->data) : NULL;
        a.yh = yh ? (half ? (void *)hyh : yh->data) : NULL;
        a.yc = yc ? (half ? (void *)hyc : yc->data) : NULL;
        for (int64_t d = 0; d < D; d++) {
            if (dt == IR_DT_DOUBLE)
                rnn_dir_f64(&a, d, ws);
            else
                rnn_dir_f32(&a, d, ws);
        }
        /* narrow the float results back */
        RtTensor *outs[3] = {y, yh, yc};
        float *src[3] = {hy, hyh, hyc};
        for (int k = 0; half && k < 3; k++)
            if (outs[k]) {
                int64_t n = rt_numel(outs[k]);
                uint16_t *o = outs[k]->data;
                for (int64_t i = 0; i < n; i++)
                    o[i] = dt == IR_DT_FLOAT16 ? rt_f2h(src[k][i]) : rt_f2bf(src[k][i]);
            }
    }
    free(ws);
    free(hx);
    free(hw);
    free(hr);
    free(hb);
    free(hh0);
    free(hc0);
    free(hp);
    free(hy);
    free(hyh);
    free(hyc);
    return status;
}
