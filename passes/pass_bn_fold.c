/* pass_bn_fold.c - BatchNormalization (inference) folded into the Conv or Gemm before it.
 *
 * At inference BatchNormalization is a per-channel affine map (ONNX BatchNormalization,
 * opsets 7-15, spatial form):
 *     y = s * (x - mean) + B,   s = scale / sqrt(var + epsilon)
 * applied to channel dim 1. When x = Conv(X, W, b) - channel = output feature map m - then
 *     y = Conv(X, W', b'),  W'[m, ...] = s[m] * W[m, ...],  b'[m] = s[m] * (b[m] - mean[m]) + B[m]
 * and when x = Gemm(A, Bm, C) (rank 2, channel = column n, C broadcast to [1, N] or absent),
 *     y = Gemm(A, Bm', C'),  column n of op(Bm) scaled by s[n],
 *                            C'[n] = s[n] * (beta * C[n] - mean[n]) + B[n],  beta' = 1.
 * (MatMul + Add becomes Gemm in pass_matmul_add, which runs first.)
 *
 * Conditions: W (Bm), b (C), scale, B, mean, var are constants of type f32 or f64 (the same as
 * x); the Conv/Gemm output is read only by the BatchNormalization and is not a graph output;
 * the BatchNormalization has no training outputs in use. The arithmetic is done in double and
 * rounded once. The fused node is named "conv1+bn1", writes the BatchNormalization's output
 * value (so its name and any graph output name are kept) and takes new constants; the old
 * weights go away in dce when nothing else reads them.
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"
#include "passes/pass_manager.h"

static int is_fp(IrDType dt) { return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE; }

static double getd(const IrTensor *t, int64_t i) {
    return t->dtype == IR_DT_FLOAT ? (double)((const float *)t->data)[i] : ((const double *)t->data)[i];
}

static void setd(IrTensor *t, int64_t i, double v) {
    if (t->dtype == IR_DT_FLOAT)
        ((float *)t->data)[i] = (float)v;
    else
        ((double *)t->data)[i] = v;
}

/* A constant f32/f64 vector of exactly c elements (rank 1, or any rank with numel c). */
static const IrTensor *const_vec(const IrValue *v, int64_t c) {
    if (!v || !v->init || !is_fp(v->init->dtype) || v->init->numel != c)
        return NULL;
    return v->init;
}

/* Fills s[c] and t[c] (y = s*x + t per channel) from the BN node; 0 or -1. */
static int bn_affine(const IrNode *bn, int64_t c, double *s, double *t) {
    const IrTensor *sc = const_vec(ir_node_in(bn, 1), c), *b = const_vec(ir_node_in(bn, 2), c);
    const IrTensor *mu = const_vec(ir_node_in(bn, 3), c), *var = const_vec(ir_node_in(bn, 4), c);
    if (!sc || !b || !mu || !var)
        return -1;
    double eps = ir_attr_float(bn, "epsilon", 1e-5f);
    for (int64_t i = 0; i < c; i++) {
        double d = getd(var, i) + eps;
        if (!(d > 0))
            return -1;
        s[i] = getd(sc, i) / sqrt(d);
        t[i] = getd(b, i) - s[i] * getd(mu, i);
    }
    return 0;
}

/* New node of op_type like `old` (same domain, opset, attributes) with the given inputs,
 * writing `out`, placed where `old` is. */
static IrNode *clone_with(IrGraph *g, IrNode *old, const char *name, int nin, IrValue **in,
                          IrValue *out) {
    IrNode *nn = ir_node_new(g, old, name, old->domain, old->op_type, old->opset, nin, in, 1, &out);
    if (!nn)
        return NULL;
    if (old->nattr) {
        nn->attrs = ir_arena_alloc(g->arena, (size_t)old->nattr * sizeof(IrAttr));
        if (!nn->attrs)
            return NULL;
        memcpy(nn->attrs, old->attrs, (size_t)old->nattr * sizeof(IrAttr));
        nn->nattr = old->nattr;
    }
    return nn;
}

static int fold_conv(IrGraph *g, IrNode *conv, IrNode *bn) {
    IrValue *w = ir_node_in(conv, 1), *b = ir_node_in(conv, 2), *x = conv->in[0];
    if (!w || !w->init || !is_fp(w->init->dtype) || w->init->rank < 1 ||
        w->init->dtype != conv->out[0]->type.dtype || (b && !b->init))
        return 0;
    int64_t c = w->init->dims[0];
    if (c <= 0 || w->init->numel % c != 0 || c > (1 << 24))
        return 0;
    if (b && !const_vec(b, c))
        return 0;
    double *s = ir_arena_alloc(g->arena, (size_t)c * 2 * sizeof(double));
    if (!s)
        return 0;
    double *t = s + c;
    if (bn_affine(bn, c, s, t))
        return 0;
    IrDType dt = w->init->dtype;
    IrValue *nw = pm_new_const(g, w->name, dt, w->init->rank, w->init->dims);
    IrValue *nb = pm_new_const(g, b ? b->name : "bias", dt, 1, &c);
    if (!nw || !nb)
        return 0;
    int64_t per = w->init->numel / c;
    for (int64_t m = 0; m < c; m++) {
        for (int64_t k = 0; k < per; k++)
            setd(nw->init, m * per + k, s[m] * getd(w->init, m * per + k));
        setd(nb->init, m, s[m] * (b ? getd(b->init, m) : 0.0) + t[m]);
    }
    IrValue *y = bn->out[0];
    const char *name = pm_join_names(g, conv->name, bn->name);
    ir_node_remove(g, bn);
    if (!clone_with(g, conv, name, 3, (IrValue *[]){x, nw, nb}, y))
        return 0;
    ir_node_remove(g, conv);
    return 1;
}

static int fold_gemm(IrGraph *g, IrNode *gemm, IrNode *bn) {
    IrValue *a = gemm->in[0], *bm = ir_node_in(gemm, 1), *cv = ir_node_in(gemm, 2);
    const IrType *yt = &gemm->out[0]->type;
    if (!bm || !bm->init || !is_fp(bm->init->dtype) || bm->init->rank != 2 || yt->rank != 2 ||
        !ir_type_is_static(yt) || bm->init->dtype != yt->dtype)
        return 0;
    int64_t n = yt->dims[1].value;
    int trans_b = ir_attr_int(gemm, "transB", 0) != 0;
    if ((trans_b ? bm->init->dims[0] : bm->init->dims[1]) != n || n <= 0 || n > (1 << 24))
        return 0;
    /* C: absent, a scalar, [N] or [1, N] constant */
    if (cv && (!cv->init || !is_fp(cv->init->dtype) ||
               !(cv->init->numel == 1 || (cv->init->numel == n && (cv->init->rank == 1 ||
                                          (cv->init->rank == 2 && cv->init->dims[0] == 1))))))
        return 0;
    double *s = ir_arena_alloc(g->arena, (size_t)n * 2 * sizeof(double));
    if (!s)
        return 0;
    double *t = s + n;
    if (bn_affine(bn, n, s, t))
        return 0;
    double beta = ir_attr_float(gemm, "beta", 1.0f);
    IrDType dt = bm->init->dtype;
    IrValue *nbm = pm_new_const(g, bm->name, dt, 2, bm->init->dims);
    IrValue *nc = pm_new_const(g, cv ? cv->name : "bias", dt, 1, &n);
    if (!nbm || !nc)
        return 0;
    int64_t rows = bm->init->dims[0], cols = bm->init->dims[1];
    for (int64_t r = 0; r < rows; r++)
        for (int64_t k = 0; k < cols; k++) {
            int64_t ch = trans_b ? r : k;
            setd(nbm->init, r * cols + k, s[ch] * getd(bm->init, r * cols + k));
        }
    for (int64_t k = 0; k < n; k++) {
        double cval = cv ? getd(cv->init, cv->init->numel == 1 ? 0 : k) : 0.0;
        setd(nc->init, k, s[k] * beta * cval + t[k]);
    }
    IrValue *y = bn->out[0];
    const char *name = pm_join_names(g, gemm->name, bn->name);
    ir_node_remove(g, bn);
    IrNode *nn = clone_with(g, gemm, name, 3, (IrValue *[]){a, nbm, nc}, y);
    if (!nn)
        return 0;
    /* beta is now folded into C */
    int has_beta = 0;
    for (int i = 0; i < nn->nattr; i++)
        if (strcmp(nn->attrs[i].name, "beta") == 0) {
            nn->attrs[i].kind = IR_ATTR_FLOAT;
            nn->attrs[i].f = 1.0f;
            has_beta = 1;
        }
    (void)has_beta; /* absent beta defaults to 1 */
    ir_node_remove(g, gemm);
    return 1;
}

int pass_bn_fold_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    IrNode *next;
    for (IrNode *bn = g->first; bn; bn = next) {
        next = bn->next;
        if (bn->op != OP_BatchNormalization || bn->nin < 5 || !bn->out[0])
            continue;
        if (bn->opset >= 14 && ir_attr_int(bn, "training_mode", 0) != 0)
            continue;
        if (bn->opset < 9 && ir_attr_int(bn, "spatial", 1) == 0)
            continue;
        int extra = 0;
        for (int i = 1; i < bn->nout; i++)
            extra |= bn->out[i] != NULL;
        IrValue *x = bn->in[0];
        IrNode *p = x ? x->producer : NULL;
        if (extra || !p || x->nuses != 1 || (x->flags & IR_VALUE_OUTPUT) || p->nout != 1 ||
            x->type.dtype != bn->out[0]->type.dtype)
            continue;
        if (p->op == OP_Conv && fold_conv(g, p, bn)) {
            pm_count_rule(cx, "bn_fold.conv");
            changes++;
        } else if (p->op == OP_Gemm && fold_gemm(g, p, bn)) {
            pm_count_rule(cx, "bn_fold.gemm");
            changes++;
        }
    }
    return changes;
}
