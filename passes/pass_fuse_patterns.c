/* pass_fuse_patterns.c - decomposed Softmax, LayerNormalization and GELU (as exporters such as
 * PyTorch write them for older opsets) recognised and replaced by the single ops, whose kernels
 * make one or two passes over the data instead of one per node.
 *
 *   fuse_patterns.softmax    Div(E, ReduceSum(E, [a], keepdims=1)), E = Exp(X) or
 *                            Exp(Sub(X, ReduceMax(X, [a], keepdims=1)))  -> Softmax(X, axis=a)
 *                            (opset 13: one axis)
 *   fuse_patterns.layernorm  D = Sub(X, ReduceMean(X, A)); V = ReduceMean(Pow(D, 2), A);
 *                            N = Div(D, Sqrt(Add(V, eps)))  [then Mul(N, gamma), Add(., beta)]
 *                            -> LayerNormalization(X, gamma|1, beta, axis=-k, epsilon=eps)
 *                            (opset 17), A = the last k axes, keepdims=1
 *   fuse_patterns.gelu       X * 0.5 * (1 + Erf(X / sqrt 2))   (any association of the Muls,
 *                            X * (1/sqrt 2) also) -> Gelu(X) (opset 20)
 * Scalars are compared with a relative tolerance of 1e-4. Only float32/float64; every
 * intermediate of a pattern must be read only inside it (and not be a graph output); the
 * replacement writes the pattern's output value and is named after the pattern's root and its
 * first node ("div1+reducemean1"). The new op carries its own opset (IrNode.opset), which may be
 * newer than the model's when compiling; with OnnxcCompileOptions.portable (`onnxc optimize`)
 * a pattern is replaced only when the model's default-domain opset already has the op.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ops/op.h"
#include "passes/pass_manager.h"

static int is_fp(const IrValue *v) {
    return v && v->type.kind == IR_TYPE_TENSOR &&
           (v->type.dtype == IR_DT_FLOAT || v->type.dtype == IR_DT_DOUBLE) && v->type.rank >= 0;
}

/* Scalar constant (any float type, numel 1) as double; 0 if not one. */
static int scalar(const IrValue *v, double *out) {
    if (!v || !v->init || v->init->numel != 1)
        return 0;
    if (v->init->dtype == IR_DT_FLOAT)
        *out = ((const float *)v->init->data)[0];
    else if (v->init->dtype == IR_DT_DOUBLE)
        *out = ((const double *)v->init->data)[0];
    else
        return 0;
    return 1;
}

static int near(double x, double want) { return fabs(x - want) <= 1e-4 * fabs(want); }

/* Producer of v if it has op `op` and v is an internal value read `uses` times. */
static IrNode *prod(const IrValue *v, int op, int uses) {
    if (!v || !v->producer || v->producer->op != op || v->nuses != uses ||
        (v->flags & IR_VALUE_OUTPUT))
        return NULL;
    return v->producer;
}

/* The other input of binary node n (not v); NULL if n does not read v. */
static IrValue *other(const IrNode *n, const IrValue *v) {
    if (n->nin != 2)
        return NULL;
    return n->in[0] == v ? n->in[1] : n->in[1] == v ? n->in[0] : NULL;
}

/* Axes of a reduction (attribute before opset 18, input 1 from then on; ReduceSum from 13),
 * normalised to [0, rank). Returns the count, or -1. keepdims must be 1. */
static int red_axes(const IrNode *r, int rank, int64_t *axes) {
    if (ir_attr_int(r, "keepdims", 1) != 1 || ir_attr_int(r, "noop_with_empty_axes", 0) != 0)
        return -1;
    const int64_t *a = NULL;
    int k;
    int from_input = r->opset >= 18 || (r->op == OP_ReduceSum && r->opset >= 13);
    if (from_input)
        k = op_const_ints((IrNode *)r, 1, &a);
    else
        k = ir_attr_ints(r, "axes", &a);
    if (k <= 0 || k > rank)
        return -1;
    for (int i = 0; i < k; i++) {
        int64_t x = a[i] < 0 ? a[i] + rank : a[i];
        if (x < 0 || x >= rank)
            return -1;
        axes[i] = x;
    }
    return k;
}

/* New node writing y (which `root` wrote), placed where root was; root is removed. */
static IrNode *replace(IrGraph *g, IrNode *root, const char *name, const char *op, int opset,
                       int nin, IrValue **in, IrNode **made) {
    IrValue *y = root->out[0];
    IrNode *after = root->next;
    ir_node_remove(g, root);
    *made = ir_node_new(g, after, name, "", op, opset, nin, in, 1, &y);
    return *made;
}

/* ------------------------------------------------------------------ Softmax */

static int fuse_softmax(IrGraph *g, IrNode *div, IrNode **made) {
    IrValue *e = div->in[0], *s = div->in[1];
    if (!is_fp(div->out[0]) || !e || !s || !e->producer || e->producer->op != OP_Exp ||
        e->nuses != 2 || (e->flags & IR_VALUE_OUTPUT))
        return 0;
    IrNode *exp = e->producer, *sum = prod(s, OP_ReduceSum, 1);
    if (!sum || sum->in[0] != e)
        return 0;
    int rank = e->type.rank;
    int64_t ax[IR_MAX_RANK];
    if (red_axes(sum, rank, ax) != 1)
        return 0;
    IrValue *x = exp->in[0];
    IrNode *sub = prod(x, OP_Sub, 1), *mx = NULL;
    if (sub) {
        IrNode *m2 = prod(sub->in[1], OP_ReduceMax, 1);
        int64_t ax2[IR_MAX_RANK];
        if (m2 && m2->in[0] == sub->in[0] && red_axes(m2, rank, ax2) == 1 && ax2[0] == ax[0]) {
            mx = m2;
            x = sub->in[0];
        } else {
            sub = NULL;
        }
    }
    if (!ir_type_equal(&x->type, &div->out[0]->type))
        return 0;
    const char *name = pm_join_names(g, div->name, (mx ? mx : exp)->name);
    IrNode *nn = replace(g, div, name, "Softmax", 13, 1, &x, made);
    if (!nn)
        return -1;
    IrAttr *a = ir_node_add_attr(nn, "axis", IR_ATTR_INT);
    if (!a)
        return -1;
    a->i = ax[0];
    ir_node_remove(g, sum);
    ir_node_remove(g, exp);
    if (sub) {
        ir_node_remove(g, sub);
        ir_node_remove(g, mx);
    }
    return 1;
}

/* ------------------------------------------------------------------ LayerNormalization */

/* 1 if axes (k of them) are exactly the last k of rank. */
static int trailing(const int64_t *axes, int k, int rank) {
    int seen[IR_MAX_RANK] = {0};
    for (int i = 0; i < k; i++) {
        if (axes[i] < rank - k || seen[axes[i]])
            return 0;
        seen[axes[i]] = 1;
    }
    return 1;
}

/* A constant that broadcasts like LayerNormalization's Scale/B: rank <= k, its dims equal to
 * the trailing dims of x (leading 1s allowed). */
static int affine_const(const IrValue *c, const IrType *x, int k) {
    if (!c || !c->init || c->init->dtype != x->dtype)
        return 0;
    const IrTensor *t = c->init;
    if (t->rank > x->rank)
        return 0;
    for (int i = 0; i < t->rank; i++) {
        int xd = x->rank - t->rank + i;
        if (xd < x->rank - k) {
            if (t->dims[i] != 1)
                return 0;
        } else if (t->dims[i] != x->dims[xd].value) {
            return 0;
        }
    }
    return 1;
}

static int fuse_layernorm(IrGraph *g, IrNode *div, IrNode **made) {
    IrValue *dv = div->in[0], *sv = div->in[1];
    if (!is_fp(div->out[0]) || !ir_type_is_static(&div->out[0]->type))
        return 0;
    IrNode *sub = prod(dv, OP_Sub, 2), *sq = prod(sv, OP_Sqrt, 1);
    if (!sub || !sq)
        return 0;
    IrNode *add = prod(sq->in[0], OP_Add, 1);
    if (!add)
        return 0;
    double eps;
    IrValue *vv = NULL;
    if (scalar(add->in[1], &eps))
        vv = add->in[0];
    else if (scalar(add->in[0], &eps))
        vv = add->in[1];
    IrNode *var = prod(vv, OP_ReduceMean, 1);
    if (!var)
        return 0;
    IrNode *pw = prod(var->in[0], OP_Pow, 1);
    double two;
    if (!pw || pw->in[0] != dv || !scalar(pw->in[1], &two) || two != 2.0)
        return 0;
    IrValue *x = sub->in[0];
    IrNode *mean = prod(sub->in[1], OP_ReduceMean, 1);
    if (!mean || mean->in[0] != x || !ir_type_equal(&x->type, &div->out[0]->type))
        return 0;
    int rank = x->type.rank;
    int64_t a1[IR_MAX_RANK], a2[IR_MAX_RANK];
    int k = red_axes(mean, rank, a1);
    if (k < 1 || red_axes(var, rank, a2) != k || !trailing(a1, k, rank) || !trailing(a2, k, rank))
        return 0;
    /* optional affine part: Mul(N, gamma) then Add(., beta) */
    IrNode *root = div, *mul = NULL, *badd = NULL;
    IrValue *gamma = NULL, *beta = NULL;
    IrValue *nv = div->out[0];
    if (nv->nuses == 1 && !(nv->flags & IR_VALUE_OUTPUT)) {
        IrNode *u = NULL;
        for (IrNode *t = div->next; t && !u; t = t->next)
            for (int i = 0; i < t->nin; i++)
                if (t->in[i] == nv)
                    u = t;
        if (u && u->op == OP_Mul && affine_const(other(u, nv), &x->type, k) &&
            ir_type_equal(&u->out[0]->type, &x->type)) {
            mul = u;
            gamma = other(u, nv);
            root = mul;
            IrValue *mv = mul->out[0];
            IrNode *w = NULL;
            if (mv->nuses == 1 && !(mv->flags & IR_VALUE_OUTPUT))
                for (IrNode *t = mul->next; t && !w; t = t->next)
                    for (int i = 0; i < t->nin; i++)
                        if (t->in[i] == mv)
                            w = t;
            if (w && w->op == OP_Add && affine_const(other(w, mv), &x->type, k) &&
                ir_type_equal(&w->out[0]->type, &x->type)) {
                badd = w;
                beta = other(w, mv);
                root = badd;
            }
        }
    }
    if (!gamma) { /* LayerNormalization needs a Scale: ones of the normalised shape */
        int64_t dims[IR_MAX_RANK];
        for (int i = 0; i < k; i++)
            dims[i] = x->type.dims[rank - k + i].value;
        gamma = pm_new_const(g, "ln_scale", x->type.dtype, k, dims);
        if (!gamma)
            return -1;
        for (int64_t i = 0; i < gamma->init->numel; i++) {
            if (x->type.dtype == IR_DT_FLOAT)
                ((float *)gamma->init->data)[i] = 1.0f;
            else
                ((double *)gamma->init->data)[i] = 1.0;
        }
    }
    const char *name = pm_join_names(g, root->name, mean->name);
    IrValue *ins[3] = {x, gamma, beta};
    IrNode *nn = replace(g, root, name, "LayerNormalization", 17, beta ? 3 : 2, ins, made);
    if (!nn)
        return -1;
    IrAttr *a = ir_node_add_attr(nn, "axis", IR_ATTR_INT);
    IrAttr *e = a ? ir_node_add_attr(nn, "epsilon", IR_ATTR_FLOAT) : NULL;
    if (!e)
        return -1;
    nn->attrs[nn->nattr - 2].i = -k;
    e->f = (float)eps;
    if (mul && root != mul)
        ir_node_remove(g, mul);
    if (root != div)
        ir_node_remove(g, div);
    ir_node_remove(g, sq);
    ir_node_remove(g, add);
    ir_node_remove(g, var);
    ir_node_remove(g, pw);
    ir_node_remove(g, sub);
    ir_node_remove(g, mean);
    return 1;
}

/* ------------------------------------------------------------------ GELU */

/* Flattens a tree of single-use Muls under value v into factors (values) and the nodes. */
static int mul_factors(IrValue *v, int top, IrValue **f, int *nf, IrNode **nodes, int *nn) {
    IrNode *m = v->producer;
    if (m && m->op == OP_Mul && m->nin == 2 && (top || (v->nuses == 1 && !(v->flags & IR_VALUE_OUTPUT))) &&
        *nn < 4) {
        nodes[(*nn)++] = m;
        for (int i = 0; i < 2; i++)
            if (mul_factors(m->in[i], 0, f, nf, nodes, nn))
                return -1;
        return 0;
    }
    if (*nf >= 4)
        return -1;
    f[(*nf)++] = v;
    return 0;
}

static int fuse_gelu(IrGraph *g, IrNode *root, IrNode **made) {
    IrValue *y = root->out[0];
    if (!is_fp(y))
        return 0;
    IrValue *f[4];
    IrNode *muls[4];
    int nf = 0, nm = 0;
    if (mul_factors(y, 1, f, &nf, muls, &nm) || nf != 3 || nm != 2)
        return 0;
    /* factors: X, 0.5, Add(Erf(X / sqrt2), 1) in any order */
    double half = 0;
    IrValue *x = NULL, *t = NULL;
    for (int i = 0; i < 3; i++) {
        double c;
        if (scalar(f[i], &c) && near(c, 0.5))
            half = c;
        else if (prod(f[i], OP_Add, 1))
            t = t ? t : f[i];
    }
    if (!half || !t)
        return 0;
    for (int i = 0; i < 3; i++)
        if (f[i] != t && !(scalar(f[i], &half) && near(half, 0.5)))
            x = f[i];
    if (!x)
        return 0;
    IrNode *add = t->producer;
    double one;
    IrValue *ev = scalar(add->in[1], &one) ? add->in[0] : scalar(add->in[0], &one) ? add->in[1] : NULL;
    IrNode *erf = ev && near(one, 1.0) ? prod(ev, OP_Erf, 1) : NULL;
    if (!erf)
        return 0;
    IrValue *sv = erf->in[0];
    IrNode *sc = sv ? sv->producer : NULL;
    double c;
    int ok = sc && sv->nuses == 1 && !(sv->flags & IR_VALUE_OUTPUT) && sc->in[0] == x &&
             ((sc->op == OP_Div && scalar(sc->in[1], &c) && near(c, sqrt(2.0))) ||
              (sc->op == OP_Mul && scalar(sc->in[1], &c) && near(c, sqrt(0.5))));
    if (!ok || !ir_type_equal(&x->type, &y->type))
        return 0;
    const char *name = pm_join_names(g, root->name, sc->name);
    IrNode *nn = replace(g, root, name, "Gelu", 20, 1, &x, made);
    if (!nn)
        return -1;
    for (int i = 1; i < nm; i++)
        ir_node_remove(g, muls[i]);
    ir_node_remove(g, add);
    ir_node_remove(g, erf);
    ir_node_remove(g, sc);
    return 1;
}

int pass_fuse_patterns_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    IrNode *prev;
    /* portable: only ops the model's default-domain opset already has (their versions 13, 17
     * and 20 are still the newest ones); the opset import is never raised */
    int64_t os = cx->o && cx->o->portable ? ir_model_opset(m, "") : INT64_MAX;
    int softmax_ok = os >= 13, layernorm_ok = os >= 17, gelu_ok = os >= 20;
    for (IrNode *n = g->last; n; n = prev) {
        prev = n->prev;
        int r = 0;
        const char *rule = NULL;
        IrNode *made = NULL;
        if (n->op == OP_Div && n->nin == 2 && n->nout == 1) {
            if (softmax_ok) {
                r = fuse_softmax(g, n, &made);
                rule = "fuse_patterns.softmax";
            }
            if (r == 0 && layernorm_ok) {
                r = fuse_layernorm(g, n, &made);
                rule = "fuse_patterns.layernorm";
            }
        } else if (gelu_ok && n->op == OP_Mul && n->nin == 2 && n->nout == 1) {
            r = fuse_gelu(g, n, &made);
            rule = "fuse_patterns.gelu";
        }
        if (r < 0) {
            ir_error(cx->d, NULL, "out of memory in pass fuse_patterns");
            return -1;
        }
        if (r > 0) {
            pm_count_rule(cx, rule);
            changes++;
            prev = made->prev; /* the pattern's other nodes were above the new node */
        }
    }
    return changes;
}
