/* rt_loss.c - kernels of the loss family: NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss and
 * the gradient of SoftmaxCrossEntropyLoss with respect to its scores (for training).
 *
 * Semantics follow docs/Operators.md of ONNX (NegativeLogLikelihoodLoss 12/13/22,
 * SoftmaxCrossEntropyLoss 12/13) and its reference implementation
 * (onnx/reference/ops/op_negative_log_likelihood_loss.py, op_softmax_cross_entropy_loss.py):
 *  - the input x (NLL: log-probabilities; SCE: scores) has shape (N, C, d1, ..., dk), k >= 0, and
 *    is seen as (N, C, D) with D = d1 * ... * dk; labels (int32 or int64) have shape
 *    (N, d1, ..., dk); optional weights have shape (C);
 *  - SCE first takes log_softmax over axis 1 (shifted by the maximum, so exp cannot overflow) and
 *    optionally writes it as its second output; then both compute
 *      loss[n, d] = -x[n, label[n, d], d] * w[label[n, d]]   (w = 1 without weights)
 *    and loss 0, weight 0 where label == ignore_index;
 *  - a label outside [0, C) that is not ignore_index is a run-time error (ONNXC_ERR_RUNTIME);
 *  - reduction none writes loss, sum writes its sum, mean writes sum(loss) / sum(weights of the
 *    non-ignored elements) (the plain mean without weights and ignore_index; NaN when nothing
 *    counts, as numpy's 0/0);
 *  - float and double; computed in double and rounded once.
 * Kernels are plain C (also built as LLVM bitcode) and allocate nothing.
 */
#include <math.h>
#include <stdint.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"

/* Element i of a float or double tensor as double; store likewise. */
static inline double ls_ld(const void *p, int32_t dt, int64_t i) {
    return dt == IR_DT_DOUBLE ? ((const double *)p)[i] : (double)((const float *)p)[i];
}
static inline void ls_st(void *p, int32_t dt, int64_t i, double v) {
    if (dt == IR_DT_DOUBLE)
        ((double *)p)[i] = v;
    else
        ((float *)p)[i] = (float)v;
}
static inline int64_t ls_label(const RtTensor *t, int64_t i) {
    return t->dtype == IR_DT_INT64 ? ((const int64_t *)t->data)[i]
                                   : (int64_t)((const int32_t *)t->data)[i];
}

/* The problem's sizes: x (N, C, d...) seen as (N, C, D). Checks labels' and weights' (w may be
 * NULL) types and shapes against x. Returns 0 or the status after rt_fail. */
static int ls_shape(RtCtx *ctx, const char *name, const RtTensor *x, const RtTensor *lab,
                    const RtTensor *w, int64_t *pn, int64_t *pc, int64_t *pd) {
    if (x->rank < 2 || (x->dtype != IR_DT_FLOAT && x->dtype != IR_DT_DOUBLE))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: input must be float or double of rank >= 2", name);
    if (lab->rank != x->rank - 1 || (lab->dtype != IR_DT_INT64 && lab->dtype != IR_DT_INT32))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: labels must be int32/int64 of rank %d", name,
                       (int)x->rank - 1);
    int64_t dd = 1;
    for (int i = 0; i < lab->rank; i++) {
        if (lab->dims[i] != x->dims[i == 0 ? 0 : i + 1])
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: labels dim %d is %lld, expected %lld", name,
                           i, (long long)lab->dims[i], (long long)x->dims[i == 0 ? 0 : i + 1]);
        if (i > 0)
            dd *= lab->dims[i];
    }
    *pn = x->dims[0];
    *pc = x->dims[1];
    *pd = dd;
    if (w && (w->rank != 1 || w->dtype != x->dtype || w->dims[0] != *pc))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: weights must be 1-D of size C = %lld and the "
                       "input's type", name, (long long)*pc);
    return 0;
}

/* Label of element (n, d) = index i: its weight (0 when ignored) in *wout, and whether it is
 * ignored in *ign; returns 0, or the status after rt_fail when the label is out of [0, C) and not
 * ignored. *lout receives the label. */
static int ls_weight(RtCtx *ctx, const char *name, const RtLossParams *p, const RtTensor *lab,
                     const RtTensor *w, int64_t i, int64_t c, int64_t *lout, double *wout,
                     int *ign) {
    int64_t l = ls_label(lab, i);
    *lout = l;
    *ign = p->has_ignore && l == p->ignore_index;
    if (*ign) {
        *wout = 0.0;
        return 0;
    }
    if (l < 0 || l >= c)
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "%s: label %lld at element %lld is out of range "
                       "[0, %lld)", name, (long long)l, (long long)i, (long long)c);
    *wout = w ? ls_ld(w->data, w->dtype, l) : 1.0;
    return 0;
}

/* log(sum(exp(x[base + c*D] - m))) + m over c, with m the maximum: the log-softmax normaliser. */
static double ls_logsumexp(const void *x, int32_t dt, int64_t base, int64_t c, int64_t dd) {
    double m = -INFINITY, s = 0.0;
    for (int64_t k = 0; k < c; k++) {
        double v = ls_ld(x, dt, base + k * dd);
        if (v > m)
            m = v;
    }
    if (!isfinite(m))
        return m;
    for (int64_t k = 0; k < c; k++)
        s += exp(ls_ld(x, dt, base + k * dd) - m);
    return log(s) + m;
}

/* The body of both loss kernels; `softmax` selects SCE (log_softmax first, optional log_prob
 * output out[1]). */
static int ls_run(RtCtx *ctx, int softmax, const void *params, const RtTensor *in, int nin,
                  RtTensor *out, int nout) {
    const char *name = softmax ? "SoftmaxCrossEntropyLoss" : "NegativeLogLikelihoodLoss";
    const RtLossParams *p = params;
    if (!p || nin < 2 || nout < 1 || p->reduction < RT_LOSS_NONE || p->reduction > RT_LOSS_MEAN)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: needs parameters, 2 inputs, an output",
                       name);
    const RtTensor *x = &in[0], *lab = &in[1];
    const RtTensor *w = nin > 2 && in[2].rank >= 0 ? &in[2] : NULL;
    RtTensor *y = &out[0];
    RtTensor *lp = softmax && nout > 1 && out[1].rank >= 0 && out[1].data ? &out[1] : NULL;
    int64_t n, c, dd;
    int st = ls_shape(ctx, name, x, lab, w, &n, &c, &dd);
    if (st)
        return st;
    int32_t dt = x->dtype;
    if (y->dtype != dt || rt_numel(y) != (p->reduction == RT_LOSS_NONE ? n * dd : 1))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: output has %lld elements of type %d", name,
                       (long long)rt_numel(y), (int)y->dtype);
    if (lp && (lp->dtype != dt || rt_numel(lp) != rt_numel(x)))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: log_prob output must have the scores' shape",
                       name);
    double acc = 0.0, wsum = 0.0;
    for (int64_t i = 0; i < n; i++)
        for (int64_t d = 0; d < dd; d++) {
            int64_t e = i * dd + d, base = i * c * dd + d, l;
            double wl;
            int ign;
            if ((st = ls_weight(ctx, name, p, lab, w, e, c, &l, &wl, &ign)) != 0)
                return st;
            int used = !ign;
            double v = 0.0;
            if (softmax && (lp || used)) {
                double lse = ls_logsumexp(x->data, dt, base, c, dd);
                if (lp)
                    for (int64_t k = 0; k < c; k++)
                        ls_st(lp->data, dt, base + k * dd, ls_ld(x->data, dt, base + k * dd) - lse);
                if (used)
                    v = ls_ld(x->data, dt, base + l * dd) - lse;
            } else if (used) {
                v = ls_ld(x->data, dt, base + l * dd);
            }
            double loss = used ? -v * wl : 0.0;
            wsum += wl;
            if (p->reduction == RT_LOSS_NONE)
                ls_st(y->data, dt, e, loss);
            else
                acc += loss;
        }
    if (p->reduction != RT_LOSS_NONE)
        ls_st(y->data, dt, 0, p->reduction == RT_LOSS_MEAN ? acc / wsum : acc);
    return ONNXC_OK;
}

int rt_k_nll_loss(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    return ls_run(ctx, 0, params, in, nin, out, nout);
}

int rt_k_sce_loss(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    return ls_run(ctx, 1, params, in, nin, out, nout);
}

/* d(loss)/d(scores) of SoftmaxCrossEntropyLoss: in[0] = dY (the loss output's gradient: a scalar
 * for sum/mean, the labels' shape for none), in[1] = scores, in[2] = labels, in[3] = weights
 * (optional); out[0] has the scores' shape and type. With w the element weight and g its share
 * of dY (dY for sum, dY / sum(w) for mean, dY[n, d] for none):
 *   dscores[n, c, d] = g * w * (softmax(scores)[n, c, d] - (c == label[n, d]))
 * and 0 for ignored elements. */
int rt_k_sce_loss_grad(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                       int nout) {
    const char *name = "SoftmaxCrossEntropyLossGrad";
    const RtLossParams *p = params;
    if (!p || nin < 3 || nout < 1 || p->reduction < RT_LOSS_NONE || p->reduction > RT_LOSS_MEAN)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: needs parameters, 3 inputs, an output",
                       name);
    const RtTensor *dy = &in[0], *x = &in[1], *lab = &in[2];
    const RtTensor *w = nin > 3 && in[3].rank >= 0 ? &in[3] : NULL;
    RtTensor *g = &out[0];
    int64_t n, c, dd;
    int st = ls_shape(ctx, name, x, lab, w, &n, &c, &dd);
    if (st)
        return st;
    int32_t dt = x->dtype;
    if (dy->dtype != dt || rt_numel(dy) != (p->reduction == RT_LOSS_NONE ? n * dd : 1) ||
        g->dtype != dt || rt_numel(g) != rt_numel(x))
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "%s: dY or the output has the wrong shape or type",
                       name);
    double scale = p->reduction == RT_LOSS_NONE ? 1.0 : ls_ld(dy->data, dt, 0);
    if (p->reduction == RT_LOSS_MEAN) {
        double wsum = 0.0, wl;
        int64_t l;
        int ign;
        for (int64_t e = 0; e < n * dd; e++) {
            if ((st = ls_weight(ctx, name, p, lab, w, e, c, &l, &wl, &ign)) != 0)
                return st;
            wsum += wl;
        }
        scale /= wsum;
    }
    for (int64_t i = 0; i < n; i++)
        for (int64_t d = 0; d < dd; d++) {
            int64_t e = i * dd + d, base = i * c * dd + d, l;
            double wl;
            int ign;
            if ((st = ls_weight(ctx, name, p, lab, w, e, c, &l, &wl, &ign)) != 0)
                return st;
            double s = wl * (p->reduction == RT_LOSS_NONE ? ls_ld(dy->data, dt, e) : scale);
            int used = !ign;
            double lse = used ? ls_logsumexp(x->data, dt, base, c, dd) : 0.0;
            for (int64_t k = 0; k < c; k++) {
                int64_t o = base + k * dd;
                double v = used ? exp(ls_ld(x->data, dt, o) - lse) - (k == l) : 0.0;
                ls_st(g->data, dt, o, s * v);
            }
        }
    return ONNXC_OK;
}
