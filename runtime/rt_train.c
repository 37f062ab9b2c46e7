/* rt_train.c - kernels of the train family (ops/op_train.c, docs/TRAINING.md): the backward
 * operators the autodiff pass creates (SumTo, ExpandTo, ActGrad, SoftmaxGrad, NLL loss gradient,
 * ConvGrad, PoolGrad), the ai.onnx.preview.training optimizers (Adam, Adagrad, Momentum; ONNX
 * docs/Operators.md, section ai.onnx.preview.training) and the optimizer step of the training
 * library (rt_optim_step, PyTorch's torch.optim definitions).
 *
 * Float and double tensors; values are computed in double and rounded once. No allocation.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"

#define TR_MAX_RANK 64

static inline double tr_ld(const RtTensor *t, int64_t i) {
    return t->dtype == IR_DT_DOUBLE ? ((const double *)t->data)[i] : ((const float *)t->data)[i];
}

static inline void tr_st(const RtTensor *t, int64_t i, double v) {
    if (t->dtype == IR_DT_DOUBLE)
        ((double *)t->data)[i] = v;
    else
        ((float *)t->data)[i] = (float)v;
}

static inline void tr_add(const RtTensor *t, int64_t i, double v) {
    if (t->dtype == IR_DT_DOUBLE)
        ((double *)t->data)[i] += v;
    else
        ((float *)t->data)[i] += (float)v;
}

static int tr_isfloat(const RtTensor *t) {
    return t->rank >= 0 && (t->dtype == IR_DT_FLOAT || t->dtype == IR_DT_DOUBLE);
}

static void tr_zero(const RtTensor *t) {
    memset(t->data, 0, (size_t)rt_numel(t) * rt_dtype_size(t->dtype));
}

/* Strides of `small` (right-aligned against big's rank; 0 for broadcast dims) over big's dims. */
static int tr_bcast_strides(const RtTensor *big, const RtTensor *small, int64_t *st) {
    int r = big->rank, rs = small->rank;
    if (rs > r || r > TR_MAX_RANK)
        return -1;
    int64_t s = 1;
    for (int i = r - 1; i >= 0; i--) {
        int j = i - (r - rs);
        if (j < 0) {
            st[i] = 0;
            continue;
        }
        if (small->dims[j] == big->dims[i])
            st[i] = s;
        else if (small->dims[j] == 1)
            st[i] = 0;
        else
            return -1;
        s *= small->dims[j];
    }
    return 0;
}

/* Visits every element of big in order; calls f(i_big, i_small) with the broadcast offset. */
#define TR_BCAST_LOOP(big, st, IB, IS, BODY)                                      \
    do {                                                                          \
        int64_t idx_[TR_MAX_RANK] = {0};                                          \
        int64_t nb_ = rt_numel(big), IS = 0;                                      \
        int r_ = (big)->rank;                                                     \
        for (int64_t IB = 0; IB < nb_; IB++) {                                    \
            BODY;                                                                 \
            for (int k_ = r_ - 1; k_ >= 0; k_--) {                                \
                idx_[k_]++;                                                       \
                IS += (st)[k_];                                                   \
                if (idx_[k_] < (big)->dims[k_])                                   \
                    break;                                                        \
                IS -= (st)[k_] * idx_[k_];                                        \
                idx_[k_] = 0;                                                     \
            }                                                                     \
        }                                                                         \
    } while (0)

/* SumTo: out (like's shape) = sum of in[0] over the broadcast dims. */
int rt_k_sum_to(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    (void)params;
    int64_t st[TR_MAX_RANK];
    if (nin < 1 || nout < 1 || !tr_isfloat(&in[0]) || out[0].dtype != in[0].dtype ||
        tr_bcast_strides(&in[0], &out[0], st))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "SumTo: the output does not broadcast to the input");
    tr_zero(&out[0]);
    TR_BCAST_LOOP(&in[0], st, ib, is, tr_add(&out[0], is, tr_ld(&in[0], ib)));
    return 0;
}

/* ExpandTo: out = broadcast(in[0]) * scale. */
int rt_k_expand_to(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtExpandToParams *p = params;
    int64_t st[TR_MAX_RANK];
    if (!p || nin < 1 || nout < 1 || !tr_isfloat(&in[0]) || out[0].dtype != in[0].dtype ||
        tr_bcast_strides(&out[0], &in[0], st))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ExpandTo: the input does not broadcast to the output");
    double s = p->scale;
    TR_BCAST_LOOP(&out[0], st, ib, is, tr_st(&out[0], ib, tr_ld(&in[0], is) * s));
    return 0;
}

/* ActGrad: out = dY * f'(T). */
int rt_k_act_grad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    const RtActGradParams *p = params;
    if (!p || nin < 2 || nout < 1 || !tr_isfloat(&in[0]) || !tr_isfloat(&in[1]) ||
        rt_numel(&in[0]) != rt_numel(&in[1]) || rt_numel(&out[0]) != rt_numel(&in[0]))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ActGrad: dY, T and the output must agree");
    int64_t n = rt_numel(&in[0]);
    double a = p->alpha, b = p->beta;
    for (int64_t i = 0; i < n; i++) {
        double dy = tr_ld(&in[0], i), t = tr_ld(&in[1], i), r;
        switch (p->kind) {
        case RT_AG_RELU: r = t > 0 ? dy : 0.0; break;
        case RT_AG_SIGMOID: r = dy * t * (1.0 - t); break;
        case RT_AG_TANH: r = dy * (1.0 - t * t); break;
        case RT_AG_LEAKYRELU: r = t > 0 ? dy : dy * a; break;
        case RT_AG_EXP: r = dy * t; break;
        case RT_AG_LOG: r = dy / t; break;
        case RT_AG_SQRT: r = dy / (2.0 * t); break;
        case RT_AG_ELU: r = t > 0 ? dy : dy * a * exp(t); break;
        case RT_AG_SOFTPLUS: r = dy / (1.0 + exp(-t)); break;
        case RT_AG_ABS: r = t > 0 ? dy : t < 0 ? -dy : 0.0; break;
        case RT_AG_RECIPROCAL: r = -dy * t * t; break;
        case RT_AG_SIN: r = dy * cos(t); break;
        case RT_AG_COS: r = -dy * sin(t); break;
        case RT_AG_HARDSIGMOID: {
            double v = a * t + b;
            r = (v > 0 && v < 1) ? dy * a : 0.0;
            break;
        }
        case RT_AG_SOFTSIGN: r = dy / ((1.0 + fabs(t)) * (1.0 + fabs(t))); break;
        case RT_AG_GELU: r = dy * (0.5 * (1.0 + erf(t / sqrt(2.0))) + t * exp(-0.5 * t * t) / sqrt(2.0 * M_PI)); break;
        case RT_AG_SELU: r = dy * p->gamma * (t > 0 ? 1.0 : a * exp(t)); break;
        case RT_AG_ERF: r = dy * 2.0 / sqrt(M_PI) * exp(-t * t); break;
        case RT_AG_HARDSWISH: r = t < -3.0 ? 0.0 : t <= 3.0 ? dy * (t / 3.0 + 0.5) : dy; break;
        case RT_AG_SWISH: {
            double s = 1.0 / (1.0 + exp(-a * t));
            r = dy * (s + a * t * s * (1.0 - s));
            break;
        }
        default: return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "ActGrad: unknown kind %d", p->kind);
        }
        tr_st(&out[0], i, r);
    }
    return 0;
}

/* SoftmaxGrad: dX = Y (dY - sum(dY Y)) for Softmax, dX = dY - exp(Y) sum(dY) for LogSoftmax. */
int rt_k_softmax_grad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    const RtSoftmaxGradParams *p = params;
    if (!p || nin < 2 || nout < 1 || !tr_isfloat(&in[0]) || rt_numel(&in[0]) != rt_numel(&in[1]) ||
        p->axis < 0 || p->axis >= in[1].rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "SoftmaxGrad: bad shapes or axis");
    const RtTensor *y = &in[1];
    int64_t outer = 1, n = 1, inner = 1;
    for (int i = 0; i < y->rank; i++) {
        if (i < p->axis)
            outer *= y->dims[i];
        else if (i == p->axis || p->coerce2d)
            n *= y->dims[i];
        else
            inner *= y->dims[i];
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t k = 0; k < inner; k++) {
            int64_t base = o * n * inner + k;
            double s = 0.0;
            for (int64_t j = 0; j < n; j++) {
                int64_t e = base + j * inner;
                s += p->log ? tr_ld(&in[0], e) : tr_ld(&in[0], e) * tr_ld(y, e);
            }
            for (int64_t j = 0; j < n; j++) {
                int64_t e = base + j * inner;
                double dy = tr_ld(&in[0], e), yy = tr_ld(y, e);
                tr_st(&out[0], e, p->log ? dy - exp(yy) * s : yy * (dy - s));
            }
        }
    return 0;
}

/* NegativeLogLikelihoodLoss gradient: in dY, input (N, C, D...), labels, weights?; out dInput.
 * d[n, label, d] = -g w[label], g = dY (sum), dY / sum(weights) (mean), dY[n, d] (none). */
int rt_k_nll_loss_grad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                       int nout) {
    const RtLossParams *p = params;
    if (!p || nin < 3 || nout < 1 || !tr_isfloat(&in[1]) || in[1].rank < 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "NegativeLogLikelihoodLossGrad: bad arguments");
    const RtTensor *dy = &in[0], *x = &in[1], *lab = &in[2];
    const RtTensor *w = nin > 3 && in[3].rank >= 0 ? &in[3] : NULL;
    int64_t N = x->dims[0], C = x->dims[1], D = 1;
    for (int i = 2; i < x->rank; i++)
        D *= x->dims[i];
    tr_zero(&out[0]);
    double wsum = 0.0;
    for (int pass = 0; pass < 2; pass++)
        for (int64_t e = 0; e < N * D; e++) {
            int64_t l = lab->dtype == IR_DT_INT32 ? ((const int32_t *)lab->data)[e]
                                                  : ((const int64_t *)lab->data)[e];
            if (p->has_ignore && l == p->ignore_index)
                continue;
            if (l < 0 || l >= C)
                return rt_fail(ctx, ONNXC_ERR_RUNTIME,
                               "NegativeLogLikelihoodLossGrad: label %lld outside [0, %lld)",
                               (long long)l, (long long)C);
            double wl = w ? tr_ld(w, l) : 1.0;
            if (pass == 0) {
                wsum += wl;
                continue;
            }
            double g = p->reduction == RT_LOSS_NONE ? tr_ld(dy, e) : tr_ld(dy, 0);
            if (p->reduction == RT_LOSS_MEAN)
                g /= wsum;
            int64_t n = e / D, d = e % D;
            tr_st(&out[0], (n * C + l) * D + d, -g * wl);
        }
    return 0;
}

/* Advances a multi-index over dims[0..r-1]; 0 when it wrapped around. */
static int tr_next(int64_t *idx, const int64_t *dims, int r) {
    for (int k = r - 1; k >= 0; k--) {
        if (++idx[k] < dims[k])
            return 1;
        idx[k] = 0;
    }
    return 0;
}

/* ConvGrad: in dY (N, M, o...), X (N, C, i...), W (M, C/group, k...); out dX?, dW?, dB?. */
int rt_k_conv_grad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtConvGradParams *p = params;
    if (!p || nin < 3 || !tr_isfloat(&in[0]) || p->nsp < 1 || p->nsp > RT_TRAIN_MAX_SPATIAL ||
        in[1].rank != p->nsp + 2 || in[2].rank != p->nsp + 2 || in[0].rank != p->nsp + 2 ||
        p->group < 1)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvGrad: bad ranks or parameters");
    const RtTensor *dy = &in[0], *x = &in[1], *w = &in[2];
    const RtTensor *dx = nout > 0 && out[0].rank >= 0 && out[0].data ? &out[0] : NULL;
    const RtTensor *dw = nout > 1 && out[1].rank >= 0 && out[1].data ? &out[1] : NULL;
    const RtTensor *db = nout > 2 && out[2].rank >= 0 && out[2].data ? &out[2] : NULL;
    int nsp = p->nsp;
    int64_t N = x->dims[0], C = x->dims[1], M = w->dims[0], Cg = w->dims[1], G = p->group;
    if (C != Cg * G || M % G != 0 || dy->dims[1] != M)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "ConvGrad: channel counts do not agree");
    int64_t Mg = M / G, isz = 1, osz = 1, ksz = 1;
    const int64_t *id = x->dims + 2, *od = dy->dims + 2, *kd = w->dims + 2;
    for (int s = 0; s < nsp; s++) {
        isz *= id[s];
        osz *= od[s];
        ksz *= kd[s];
    }
    if (dx)
        tr_zero(dx);
    if (dw)
        tr_zero(dw);
    if (db)
        tr_zero(db);
    for (int64_t n = 0; n < N; n++)
        for (int64_t m = 0; m < M; m++) {
            int64_t gi = m / Mg;
            int64_t oi[RT_TRAIN_MAX_SPATIAL] = {0};
            for (int64_t o = 0; o < osz; o++, tr_next(oi, od, nsp)) {
                double g = tr_ld(dy, (n * M + m) * osz + o);
                if (db)
                    tr_add(db, m, g);
                if (g == 0.0)
                    continue;
                int64_t ki[RT_TRAIN_MAX_SPATIAL] = {0};
                for (int64_t k = 0; k < ksz; k++, tr_next(ki, kd, nsp)) {
                    int64_t ip = 0, ok = 1;
                    for (int s = 0; s < nsp; s++) {
                        int64_t c = oi[s] * p->strides[s] - p->pads[s] + ki[s] * p->dilations[s];
                        if (c < 0 || c >= id[s]) {
                            ok = 0;
                            break;
                        }
                        ip = ip * id[s] + c;
                    }
                    if (!ok)
                        continue;
                    for (int64_t cc = 0; cc < Cg; cc++) {
                        int64_t c = gi * Cg + cc;
                        int64_t xoff = (n * C + c) * isz + ip, woff = (m * Cg + cc) * ksz + k;
                        if (dx)
                            tr_add(dx, xoff, g * tr_ld(w, woff));
                        if (dw)
                            tr_add(dw, woff, g * tr_ld(x, xoff));
                    }
                }
            }
        }
    return 0;
}

/* PoolGrad: in dY (N, C, o...), X (N, C, i...); out dX. */
int rt_k_pool_grad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                   int nout) {
    const RtPoolGradParams *p = params;
    if (!p || nin < 2 || nout < 1 || !tr_isfloat(&in[0]) || p->nsp < 1 ||
        p->nsp > RT_TRAIN_MAX_SPATIAL || in[1].rank != p->nsp + 2 || in[0].rank != p->nsp + 2)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "PoolGrad: bad ranks or parameters");
    const RtTensor *dy = &in[0], *x = &in[1], *dx = &out[0];
    int nsp = p->nsp;
    int64_t NC = x->dims[0] * x->dims[1], isz = 1, osz = 1, ksz = 1;
    const int64_t *id = x->dims + 2, *od = dy->dims + 2, *kd = p->kernel;
    for (int s = 0; s < nsp; s++) {
        isz *= id[s];
        osz *= od[s];
        ksz *= kd[s];
    }
    tr_zero(dx);
    for (int64_t nc = 0; nc < NC; nc++) {
        int64_t oi[RT_TRAIN_MAX_SPATIAL] = {0};
        for (int64_t o = 0; o < osz; o++, tr_next(oi, od, nsp)) {
            double g = tr_ld(dy, nc * osz + o), best = -INFINITY;
            int64_t best_at = -1, count = 0;
            for (int pass = 0; pass < 2; pass++) {
                int64_t ki[RT_TRAIN_MAX_SPATIAL] = {0};
                for (int64_t k = 0; k < ksz; k++, tr_next(ki, kd, nsp)) {
                    int64_t ip = 0, ok = 1;
                    for (int s = 0; s < nsp; s++) {
                        int64_t c = oi[s] * p->strides[s] - p->pads[s] + ki[s] * p->dilations[s];
                        if (c < 0 || c >= id[s]) {
                            ok = 0;
                            break;
                        }
                        ip = ip * id[s] + c;
                    }
                    if (!ok)
                        continue;
                    if (p->max) {
                        double v = tr_ld(x, nc * isz + ip);
                        if (pass == 0 && (best_at < 0 || v > best)) {
                            best = v;
                            best_at = ip;
                        }
                    } else if (pass == 0) {
                        count++;
                    } else {
                        tr_add(dx, nc * isz + ip, g / (double)(p->count_include_pad ? ksz : count));
                    }
                }
                if (p->max) {
                    if (best_at >= 0)
                        tr_add(dx, nc * isz + best_at, g);
                    break;
                }
                if (count == 0)
                    break;
            }
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ optimizers */

/* Common checks of Adam/Adagrad/Momentum: R scalar float/double, T scalar int64, then k groups
 * of n tensors each (X, G, state...) with equal element counts; outputs (1 + k - 2) groups. */
static int opt_check(RtCtx *ctx, const char *name, const RtOptimOpParams *p, const RtTensor *in,
                     int nin, int nout, int groups, double *r, int64_t *t) {
    if (!p || p->n < 1 || nin != 2 + groups * p->n || nout < p->n || nout > (groups - 1) * p->n)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: %d inputs and %d outputs do not match %d tensors",
                       name, nin, nout, p ? p->n : 0);
    if (rt_numel(&in[0]) != 1 || rt_numel(&in[1]) != 1 || in[1].dtype != IR_DT_INT64)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: R and T must be scalars (T int64)", name);
    *r = tr_ld(&in[0], 0);
    *t = ((const int64_t *)in[1].data)[0];
    for (int i = 0; i < p->n; i++)
        for (int gi = 1; gi < groups; gi++)
            if (rt_numel(&in[2 + gi * p->n + i]) != rt_numel(&in[2 + i]) || !tr_isfloat(&in[2 + i]))
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: tensor %d and its gradient/state differ",
                               name, i);
    return 0;
}

int rt_k_opt_adam(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    const RtOptimOpParams *p = params;
    double r;
    int64_t t;
    int st = opt_check(ctx, "Adam", p, in, nin, nout, 4, &r, &t);
    if (st)
        return st;
    int n = p->n;
    double ra = t > 0 ? r * sqrt(1.0 - pow(p->beta, (double)t)) / (1.0 - pow(p->alpha, (double)t)) : r;
    for (int i = 0; i < n; i++) {
        const RtTensor *x = &in[2 + i], *g = &in[2 + n + i], *v = &in[2 + 2 * n + i],
                       *h = &in[2 + 3 * n + i];
        const RtTensor *xo = &out[i], *vo = nout > n + i ? &out[n + i] : NULL,
                       *ho = nout > 2 * n + i ? &out[2 * n + i] : NULL;
        int64_t m = rt_numel(x);
        for (int64_t e = 0; e < m; e++) {
            double xv = tr_ld(x, e), gr = p->norm_coefficient * xv + tr_ld(g, e);
            double vn = p->alpha * tr_ld(v, e) + (1.0 - p->alpha) * gr;
            double hn = p->beta * tr_ld(h, e) + (1.0 - p->beta) * gr * gr;
            double xn = xv - ra * vn / (sqrt(hn) + p->epsilon);
            tr_st(xo, e, (1.0 - p->norm_coefficient_post) * xn);
            if (vo)
                tr_st(vo, e, vn);
            if (ho)
                tr_st(ho, e, hn);
        }
    }
    return 0;
}

int rt_k_opt_adagrad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                     int nout) {
    const RtOptimOpParams *p = params;
    double r;
    int64_t t;
    int st = opt_check(ctx, "Adagrad", p, in, nin, nout, 3, &r, &t);
    if (st)
        return st;
    int n = p->n;
    r = r / (1.0 + (double)t * p->decay_factor);
    for (int i = 0; i < n; i++) {
        const RtTensor *x = &in[2 + i], *g = &in[2 + n + i], *h = &in[2 + 2 * n + i];
        const RtTensor *xo = &out[i], *ho = nout > n + i ? &out[n + i] : NULL;
        int64_t m = rt_numel(x);
        for (int64_t e = 0; e < m; e++) {
            double xv = tr_ld(x, e), gr = p->norm_coefficient * xv + tr_ld(g, e);
            double hn = tr_ld(h, e) + gr * gr;
            tr_st(xo, e, xv - r * gr / (sqrt(hn) + p->epsilon));
            if (ho)
                tr_st(ho, e, hn);
        }
    }
    return 0;
}

int rt_k_opt_momentum(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                      int nout) {
    const RtOptimOpParams *p = params;
    double r;
    int64_t t;
    int st = opt_check(ctx, "Momentum", p, in, nin, nout, 3, &r, &t);
    if (st)
        return st;
    int n = p->n;
    double ba = t > 0 ? p->beta : 1.0;
    for (int i = 0; i < n; i++) {
        const RtTensor *x = &in[2 + i], *g = &in[2 + n + i], *v = &in[2 + 2 * n + i];
        const RtTensor *xo = &out[i], *vo = nout > n + i ? &out[n + i] : NULL;
        int64_t m = rt_numel(x);
        for (int64_t e = 0; e < m; e++) {
            double xv = tr_ld(x, e), gr = p->norm_coefficient * xv + tr_ld(g, e);
            double vn = p->alpha * tr_ld(v, e) + ba * gr;
            tr_st(xo, e, p->nesterov ? xv - r * (gr + p->alpha * vn) : xv - r * vn);
            if (vo)
                tr_st(vo, e, vn);
        }
    }
    return 0;
}

/* torch.optim semantics (PyTorch 2.x documentation of SGD, Adam, AdamW, Adagrad, RMSprop):
 *   SGD:      g += wd x; x -= lr g
 *   momentum: g += wd x; b = step == 1 ? g : mu b + g; x -= lr b        (nesterov: lr (g + mu b))
 *   Adam:     g += wd x; m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 *             x -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   AdamW:    x *= 1 - lr wd; then Adam without wd
 *   Adagrad:  g += wd x; s += g^2; x -= lr g / (sqrt(s) + eps)
 *   RMSprop:  g += wd x; s = a s + (1-a) g^2; d = g / (sqrt(s) + eps);
 *             mu > 0: b = mu b + d, x -= lr b; else x -= lr d */
void rt_optim_step(const RtOptimConfig *c, double lr, int64_t step, float *x, const float *g,
                   float *s1, float *s2, int64_t n) {
    double wd = c->weight_decay, b1 = c->beta1, b2 = c->beta2, eps = c->eps;
    double bc1 = 1.0 - pow(b1, (double)step), bc2s = sqrt(1.0 - pow(b2, (double)step));
    for (int64_t i = 0; i < n; i++) {
        double xv = x[i], gv = g[i];
        if (c->kind != RT_OPT_ADAMW)
            gv += wd * xv;
        switch (c->kind) {
        case RT_OPT_SGD:
            xv -= lr * gv;
            break;
        case RT_OPT_MOMENTUM:
        case RT_OPT_NESTEROV: {
            double b = step == 1 ? gv : b1 * s1[i] + gv;
            s1[i] = (float)b;
            xv -= lr * (c->kind == RT_OPT_NESTEROV ? gv + b1 * b : b);
            break;
        }
        case RT_OPT_ADAMW:
            xv *= 1.0 - lr * wd;
            /* fall through */
        case RT_OPT_ADAM: {
            double m = b1 * s1[i] + (1.0 - b1) * gv, v = b2 * s2[i] + (1.0 - b2) * gv * gv;
            s1[i] = (float)m;
            s2[i] = (float)v;
            xv -= lr / bc1 * m / (sqrt(v) / bc2s + eps);
            break;
        }
        case RT_OPT_ADAGRAD: {
            double s = s1[i] + gv * gv;
            s1[i] = (float)s;
            xv -= lr * gv / (sqrt(s) + eps);
            break;
        }
        case RT_OPT_RMSPROP: {
            double s = b2 * s1[i] + (1.0 - b2) * gv * gv, dv = gv / (sqrt(s) + eps);
            s1[i] = (float)s;
            if (b1 > 0) {
                double b = b1 * s2[i] + dv;
                s2[i] = (float)b;
                dv = b;
            }
            xv -= lr * dv;
            break;
        }
        default:
            break;
        }
        x[i] = (float)xv;
    }
}

/* Gradient (after expansion by the autodiff pass): out[i] = in[i] for every i. */
int rt_k_copy_all(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    (void)params;
    if (nin != nout)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "copy_all: %d inputs, %d outputs", nin, nout);
    for (int i = 0; i < nin; i++) {
        int64_t n = rt_numel(&in[i]);
        size_t es = rt_dtype_size(in[i].dtype);
        if (n != rt_numel(&out[i]) || es != rt_dtype_size(out[i].dtype))
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "copy_all: tensor %d differs", i);
        if (n > 0 && in[i].data != out[i].data)
            memmove(out[i].data, in[i].data, (size_t)n * es);
    }
    return 0;
}
