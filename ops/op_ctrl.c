/* op_ctrl.c - the ctrl family: If (1/11/13/16/19/21/23), Loop (1/11/13/16/19/21/23) and Scan
 * (8, 9/11/16/19/21/23) of docs/Operators.md, resolved at compile time (docs/CONTROL_FLOW.md).
 *
 * pass_infer calls op_expand_node on every node once its inputs are typed. The ctrl rewrites:
 *   - If with a constant condition: the taken branch's nodes are copied into the enclosing graph
 *     (outer references read the enclosing values; nested subgraphs move along);
 *   - If with a run-time condition: both branches are copied and each output becomes
 *     onnxc::Select(cond, then, else) (a Where on equal shapes; the branches must be free of
 *     failing ops, which holds for the pure ops onnxc compiles);
 *   - Scan with static scan lengths: unrolled; iteration t reads Gather(x, t, axis) (reversed
 *     for direction 1), scan outputs are stacked with Unsqueeze + Concat; Scan-8's batch axis is
 *     unrolled the same way, and its sequence_lens must be absent or constant and full;
 *   - Loop with a constant trip count, a condition that is absent or constant true, and a body
 *     whose cond_out is its cond_in (or constant true): unrolled, scan outputs stacked.
 * The copied nodes are then inferred (and expanded again if they are control flow themselves),
 * so the rest of the compiler only sees tensor nodes. What cannot be resolved (a run-time trip
 * count, a condition computed in the body) gets an "unsupported operator" diagnostic that names
 * the reason: run-time control flow needs run-time shapes (docs/CONTROL_FLOW.md, "What is left").
 */
#include "ops/op_ctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Opsets used for the tensor nodes the rewrites create (fixed: their hooks know them). */
#define CTRL_OPSET 13

/* ------------------------------------------------------------------ node-building helpers */

static IrValue *new_value(IrGraph *g, const char *base) {
    const char *nm = ir_graph_unique_name(g, base && *base ? base : "ctrl");
    return nm ? ir_value_new(g, nm) : NULL;
}

static IrValue *const_tensor(IrGraph *g, const char *base, IrDType dt, int rank,
                             const int64_t *dims, const void *data, size_t nbytes) {
    IrValue *v = new_value(g, base);
    IrTensor *t = v ? ir_tensor_new(g->arena, dt, rank, dims) : NULL;
    if (!t || t->nbytes != nbytes)
        return NULL;
    if (nbytes)
        memcpy(t->data, data, nbytes);
    v->init = t;
    if (ir_type_set_tensor(g->arena, &v->type, dt, rank, dims))
        return NULL;
    return v;
}

IrValue *ctrl_const_i64(IrGraph *g, const char *base, const int64_t *v, int n, int rank) {
    int64_t dims[1] = {n};
    return const_tensor(g, base, IR_DT_INT64, rank ? 1 : 0, dims, v, sizeof(int64_t) * (size_t)n);
}

IrValue *ctrl_const_bool(IrGraph *g, const char *base, int v) {
    uint8_t b = v != 0;
    return const_tensor(g, base, IR_DT_BOOL, 0, NULL, &b, 1);
}

int ctrl_opset(const IrGraph *g, int min) {
    int64_t v = g && g->model ? ir_model_opset(g->model, "") : -1;
    return v > min && v < 1000 ? (int)v : min;
}

IrValue *ctrl_node1(IrNode *before, const char *name, const char *op_type, int opset, int nin,
                    IrValue **in, const char *base) {
    IrGraph *g = before->graph;
    opset = ctrl_opset(g, opset);
    IrValue *o = new_value(g, base);
    if (!o)
        return NULL;
    IrNode *n = ir_node_new(g, before, name, "", op_type, opset, nin, in, 1, &o);
    return n ? o : NULL;
}

IrValue *ctrl_gather(IrNode *before, IrValue *x, int64_t idx, int64_t axis) {
    IrValue *iv = ctrl_const_i64(before->graph, "ctrl_idx", &idx, 1, 0);
    if (!iv)
        return NULL;
    IrValue *in[2] = {x, iv};
    IrValue *o = ctrl_node1(before, before->name, "Gather", CTRL_OPSET, 2, in, x->name);
    IrAttr *a = o ? ir_node_add_attr(o->producer, "axis", IR_ATTR_INT) : NULL;
    if (!a)
        return NULL;
    a->i = axis;
    return o;
}

IrValue *ctrl_unsqueeze(IrNode *before, IrValue *x, int64_t axis) {
    IrValue *av = ctrl_const_i64(before->graph, "ctrl_axes", &axis, 1, 1);
    if (!av)
        return NULL;
    IrValue *in[2] = {x, av};
    return ctrl_node1(before, before->name, "Unsqueeze", CTRL_OPSET, 2, in, x->name);
}

IrValue *ctrl_concat(IrNode *before, IrValue **xs, int n, int64_t axis, const char *base) {
    IrValue *o = ctrl_node1(before, before->name, "Concat", CTRL_OPSET, n, xs, base);
    IrAttr *a = o ? ir_node_add_attr(o->producer, "axis", IR_ATTR_INT) : NULL;
    if (!a)
        return NULL;
    a->i = axis;
    return o;
}

IrValue *ctrl_stack(IrNode *before, IrValue **xs, int n, int64_t axis, const char *base) {
    IrValue **u = calloc((size_t)(n > 0 ? n : 1), sizeof *u);
    if (!u)
        return NULL;
    IrValue *o = NULL;
    int k = 0;
    for (; k < n; k++)
        if (!(u[k] = ctrl_unsqueeze(before, xs[k], axis)))
            break;
    if (k == n && n > 0)
        o = ctrl_concat(before, u, n, axis, base);
    free(u);
    return o;
}

/* ------------------------------------------------------------------ copying a body */

typedef struct Clone {
    IrGraph *g;     /* destination graph */
    IrGraph *body;  /* source body */
    IrValue **map;  /* body value id -> destination value */
    IrNode *ctx;    /* node diagnostics name */
    IrDiag *d;
} Clone;

static IrTensor *copy_tensor(IrArena *a, const IrTensor *t) {
    if (!t)
        return NULL;
    IrTensor *c = ir_tensor_new(a, t->dtype, t->rank, t->dims);
    if (!c)
        return NULL;
    c->name = t->name ? ir_arena_strdup(a, t->name) : NULL;
    if (t->dtype == IR_DT_STRING) {
        const IrString *s = t->data;
        IrString *o = c->data;
        for (int64_t i = 0; s && i < t->numel; i++) {
            o[i].len = s[i].len;
            o[i].data = s[i].len ? ir_arena_memdup(a, s[i].data, s[i].len) : "";
            if (!o[i].data)
                return NULL;
        }
    } else if (t->data && c->nbytes == t->nbytes && t->nbytes) {
        memcpy(c->data, t->data, t->nbytes);
    }
    return c;
}

/* The destination value standing for body value v (copying constants on first use). */
static IrValue *resolve(Clone *c, IrValue *v) {
    if (!v)
        return NULL;
    if (v->id < c->body->nvalues && c->body->values[v->id] == v && c->map[v->id])
        return c->map[v->id];
    IrValue *r = NULL;
    if (v->flags & IR_VALUE_OUTER) {
        r = v->outer;
    } else if (v->init) {
        r = new_value(c->g, v->name);
        if (r) {
            r->init = copy_tensor(c->g->arena, v->init);
            if (!r->init || ir_type_copy(c->g->arena, &r->type, &v->type))
                r = NULL;
            else if (r->type.kind != IR_TYPE_TENSOR)
                ir_type_set_tensor(c->g->arena, &r->type, v->init->dtype, v->init->rank, v->init->dims);
        }
    } else {
        ir_error(c->d, c->ctx, "subgraph '%s': value '%s' is read but not defined", c->body->name ? c->body->name : "",
                 v->name);
        return NULL;
    }
    if (!r) {
        if (!c->d->nerrors)
            ir_error(c->d, c->ctx, "out of memory");
        return NULL;
    }
    if (v->id < c->body->nvalues && c->body->values[v->id] == v)
        c->map[v->id] = r;
    return r;
}

/* Moves subgraph sg (held by a body node) under the destination graph: its outer references
 * now point at the destination's values. */
static int reparent(Clone *c, IrGraph *sg) {
    if (!sg)
        return 0;
    sg->parent = c->g;
    for (int i = 0; i < sg->nvalues; i++) {
        IrValue *w = sg->values[i];
        if (w && (w->flags & IR_VALUE_OUTER) && w->outer) {
            IrValue *r = resolve(c, w->outer);
            if (!r)
                return -1;
            w->outer = r;
        }
    }
    return 0;
}

static int copy_attr(Clone *c, IrNode *dst, IrAttr *s, int move) {
    IrArena *a = c->g->arena;
    IrAttr *t = ir_node_add_attr(dst, s->name, s->kind);
    if (!t)
        return -1;
    t->ref_attr_name = s->ref_attr_name ? ir_arena_strdup(a, s->ref_attr_name) : NULL;
    t->f = s->f;
    t->i = s->i;
    t->s.len = s->s.len;
    t->s.data = s->s.data ? ir_arena_memdup(a, s->s.data, s->s.len + 1) : NULL;
    if (s->s.data && !t->s.data)
        return -1;
    if (s->t && !(t->t = copy_tensor(a, s->t)))
        return -1;
    if (s->tp) {
        t->tp = ir_arena_alloc(a, sizeof(IrType));
        if (!t->tp || ir_type_copy(a, t->tp, s->tp))
            return -1;
    }
    if (s->g) {
        if (!move)
            return -1;
        t->g = s->g;
        s->g = NULL;
        if (reparent(c, t->g))
            return -1;
    }
    t->n = s->n;
    size_t n = s->n > 0 ? (size_t)s->n : 0;
    if (s->floats && !(t->floats = ir_arena_memdup(a, s->floats, n * sizeof(float))))
        return -1;
    if (s->ints && !(t->ints = ir_arena_memdup(a, s->ints, n * sizeof(int64_t))))
        return -1;
    if (s->strings) {
        if (!(t->strings = ir_arena_alloc(a, (n ? n : 1) * sizeof(IrString))))
            return -1;
        for (size_t k = 0; k < n; k++) {
            t->strings[k].len = s->strings[k].len;
            t->strings[k].data = ir_arena_memdup(a, s->strings[k].data ? s->strings[k].data : "",
                                                 s->strings[k].len + 1);
            if (!t->strings[k].data)
                return -1;
        }
    }
    if (s->tensors) {
        if (!(t->tensors = ir_arena_alloc(a, (n ? n : 1) * sizeof(IrTensor *))))
            return -1;
        for (size_t k = 0; k < n; k++)
            if (s->tensors[k] && !(t->tensors[k] = copy_tensor(a, s->tensors[k])))
                return -1;
    }
    if (s->graphs) {
        if (!move || !(t->graphs = ir_arena_alloc(a, (n ? n : 1) * sizeof(IrGraph *))))
            return -1;
        for (size_t k = 0; k < n; k++) {
            t->graphs[k] = s->graphs[k];
            s->graphs[k] = NULL;
            if (reparent(c, t->graphs[k]))
                return -1;
        }
    }
    if (s->tps) {
        if (!(t->tps = ir_arena_alloc(a, (n ? n : 1) * sizeof(IrType *))))
            return -1;
        for (size_t k = 0; k < n; k++) {
            t->tps[k] = ir_arena_alloc(a, sizeof(IrType));
            if (!t->tps[k] || (s->tps[k] && ir_type_copy(a, t->tps[k], s->tps[k])))
                return -1;
        }
    }
    return 0;
}

int ctrl_has_subgraphs(const IrGraph *body) {
    for (const IrNode *n = body->first; n; n = n->next)
        for (int i = 0; i < n->nattr; i++)
            if (n->attrs[i].kind == IR_ATTR_GRAPH || n->attrs[i].kind == IR_ATTR_GRAPHS)
                return 1;
    return 0;
}

int ctrl_clone_body(IrNode *before, IrGraph *body, IrValue **bind, int nbind, int move,
                    const char *tag, IrValue **outs, IrNode *ctx, IrDiag *d) {
    IrGraph *g = before->graph;
    if (!body) {
        ir_error(d, ctx, "missing subgraph");
        return -1;
    }
    if (body->parent != g) {
        ir_error(d, ctx, "internal error: subgraph '%s' does not belong to this graph",
                 body->name ? body->name : "");
        return -1;
    }
    if (!move && ctrl_has_subgraphs(body)) {
        ir_error(d, ctx, "unsupported operator %s: a body with nested subgraphs cannot be unrolled",
                 ctx->op_type);
        return -1;
    }
    if (nbind != body->ninputs) {
        ir_error(d, ctx, "subgraph '%s' has %d inputs, %d values bound to them",
                 body->name ? body->name : "", body->ninputs, nbind);
        return -1;
    }
    Clone c = {g, body, calloc((size_t)body->nvalues + 1, sizeof(IrValue *)), ctx, d};
    if (!c.map) {
        ir_error(d, ctx, "out of memory");
        return -1;
    }
    int rc = -1;
    for (int k = 0; k < nbind; k++) {
        IrValue *bv = body->inputs[k];
        if (!bind[k]) {
            if (bv->nuses > 0) {
                ir_error(d, ctx, "subgraph input '%s' is read but nothing is bound to it", bv->name);
                goto done;
            }
            continue;
        }
        c.map[bv->id] = bind[k];
    }
    for (IrNode *bn = body->first; bn; bn = bn->next) {
        IrValue *ins[64], *os[64];
        IrValue **in = bn->nin <= 64 ? ins : calloc((size_t)bn->nin, sizeof *in);
        IrValue **out = bn->nout <= 64 ? os : calloc((size_t)bn->nout, sizeof *out);
        int ok = in && out;
        for (int k = 0; ok && k < bn->nin; k++) {
            in[k] = NULL;
            if (bn->in[k] && !(in[k] = resolve(&c, bn->in[k])))
                ok = 0;
        }
        for (int k = 0; ok && k < bn->nout; k++) {
            out[k] = NULL;
            if (bn->out[k] && !(out[k] = new_value(g, bn->out[k]->name)))
                ok = 0;
        }
        char nm[512];
        snprintf(nm, sizeof nm, "%s%s", tag ? tag : "", bn->name ? bn->name : "");
        IrNode *nn = ok ? ir_node_new(g, before, nm, bn->domain, bn->op_type, bn->opset, bn->nin, in,
                                      bn->nout, out)
                        : NULL;
        for (int k = 0; nn && k < bn->nattr; k++)
            if (copy_attr(&c, nn, &bn->attrs[k], move))
                nn = NULL;
        for (int k = 0; nn && k < bn->nout; k++)
            if (bn->out[k])
                c.map[bn->out[k]->id] = out[k];
        if (in != ins)
            free(in);
        if (out != os)
            free(out);
        if (!nn) {
            if (!d->nerrors)
                ir_error(d, ctx, "out of memory while copying subgraph '%s'", body->name ? body->name : "");
            goto done;
        }
    }
    for (int k = 0; k < body->noutputs; k++)
        if (!(outs[k] = resolve(&c, body->outputs[k])))
            goto done;
    rc = 0;
done:
    free(c.map);
    return rc;
}

int ctrl_replace_node(IrNode *n, IrValue **repl, IrNode *prev, IrNode **next, IrDiag *d) {
    IrGraph *g = n->graph;
    int nout = n->nout;
    IrValue *os[64];
    IrValue **o = nout <= 64 ? os : calloc((size_t)nout, sizeof *o);
    if (!o) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    for (int i = 0; i < nout; i++) {
        o[i] = n->out[i];
        n->out[i] = NULL;
        if (o[i] && o[i]->producer == n)
            o[i]->producer = NULL;
    }
    IrNode *after = n->next;
    const char *name = n->name;
    ir_node_remove(g, n);
    int rc = 0;
    for (int i = 0; i < nout && rc == 0; i++) {
        if (!o[i])
            continue;
        if (!repl[i]) {
            ir_error(d, NULL, "node '%s': output '%s' has no value after the rewrite", name, o[i]->name);
            rc = -1;
            break;
        }
        IrValue *x = repl[i];
        IrNode *id = ir_node_new(g, after, name, "", "Identity", ctrl_opset(g, 13), 1, &x, 1, &o[i]);
        if (!id) {
            ir_error(d, NULL, "out of memory");
            rc = -1;
        }
    }
    if (o != os)
        free(o);
    *next = prev ? prev->next : g->first;
    return rc;
}

/* ------------------------------------------------------------------ If */

/* Scalar truth of a constant tensor (first element), or -1 if not a constant. */
static int const_truth(const IrValue *v) {
    if (!v || !v->init || v->init->numel < 1 || !v->init->data)
        return -1;
    size_t es = ir_dtype_size(v->init->dtype);
    const unsigned char *p = v->init->data;
    for (size_t k = 0; k < es; k++)
        if (p[k])
            return 1;
    return 0;
}

static IrGraph *graph_attr(const IrNode *n, const char *name) {
    const IrAttr *a = ir_node_attr(n, name);
    return a && a->kind == IR_ATTR_GRAPH ? a->g : NULL;
}

static int expand_if(IrNode *n, IrNode **next, IrDiag *d) {
    IrGraph *tb = graph_attr(n, "then_branch"), *eb = graph_attr(n, "else_branch");
    if (!tb || !eb) {
        ir_error(d, n, "If needs the graph attributes then_branch and else_branch");
        return -1;
    }
    if (tb->noutputs != n->nout || eb->noutputs != n->nout) {
        ir_error(d, n, "If has %d outputs but its branches have %d and %d", n->nout, tb->noutputs,
                 eb->noutputs);
        return -1;
    }
    IrNode *prev = n->prev;
    IrValue **tv = calloc((size_t)n->nout + 1, sizeof *tv);
    IrValue **ev = calloc((size_t)n->nout + 1, sizeof *ev);
    int rc = -1, c = const_truth(n->in[0]);
    char tag[300];
    if (!tv || !ev) {
        ir_error(d, n, "out of memory");
        goto done;
    }
    if (c >= 0) {
        snprintf(tag, sizeof tag, "%s/%s/", n->name, c ? "then" : "else");
        if (ctrl_clone_body(n, c ? tb : eb, NULL, 0, 1, tag, tv, n, d) == 0)
            rc = ctrl_replace_node(n, tv, prev, next, d);
        goto done;
    }
    /* Run-time condition: both branches, then onnxc::Select per output. */
    snprintf(tag, sizeof tag, "%s/then/", n->name);
    if (ctrl_clone_body(n, tb, NULL, 0, 1, tag, tv, n, d))
        goto done;
    snprintf(tag, sizeof tag, "%s/else/", n->name);
    if (ctrl_clone_body(n, eb, NULL, 0, 1, tag, ev, n, d))
        goto done;
    for (int i = 0; i < n->nout; i++) {
        if (!n->out[i])
            continue;
        IrValue *in[3] = {n->in[0], tv[i], ev[i]};
        IrValue *o = new_value(n->graph, n->out[i]->name);
        if (!o || !ir_node_new(n->graph, n, n->name, "onnxc", "Select", 1, 3, in, 1, &o)) {
            ir_error(d, n, "out of memory");
            goto done;
        }
        tv[i] = o;
    }
    rc = ctrl_replace_node(n, tv, prev, next, d);
done:
    free(tv);
    free(ev);
    return rc < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ Scan */

/* Unrolls one scan over scan inputs xs (scan axis axes[j], direction dirs[j]) with states sts;
 * the body's outputs are nst new states then nso scan outputs, stacked on out_axes[k] with
 * out_dirs[k]. Results: final states in fin[], scan outputs in so[]. */
static int scan_unroll(IrNode *n, IrGraph *body, int nst, IrValue **sts, int nsc, IrValue **xs,
                       const int64_t *axes, const int64_t *dirs, int nso, const int64_t *out_axes,
                       const int64_t *out_dirs, IrValue **fin, IrValue **so, const char *tagp,
                       int64_t T, IrDiag *d) {
    for (int j = 0; j < nsc && T < 0; j++) {
        const IrType *t = &xs[j]->type;
        int64_t ax = axes[j];
        if (t->kind != IR_TYPE_TENSOR || t->rank < 1 || ax < -t->rank || ax >= t->rank) {
            ir_error(d, n, "unsupported operator Scan: scan input %d needs a known rank covering "
                     "axis %lld", j, (long long)ax);
            return -1;
        }
        if (ax < 0)
            ax += t->rank;
        int64_t len = t->dims[ax].value;
        if (len < 0) {
            ir_error(d, n, "unsupported operator Scan: the length of scan input %d is not known "
                     "at compile time (run-time loops are not supported yet)", j);
            return -1;
        }
        for (int i = 0; i < nsc; i++) {
            const IrType *u = &xs[i]->type;
            int64_t ai = axes[i] < 0 ? axes[i] + u->rank : axes[i];
            if (u->kind != IR_TYPE_TENSOR || ai < 0 || ai >= u->rank || u->dims[ai].value != len) {
                ir_error(d, n, "unsupported operator Scan: scan inputs 0 and %d differ in length "
                         "or it is not known", i);
                return -1;
            }
        }
        T = len;
    }
    if (T < 1 || T > CTRL_MAX_UNROLL || (T > 1 && ctrl_has_subgraphs(body))) {
        ir_error(d, n, "unsupported operator Scan: %lld iterations cannot be unrolled%s",
                 (long long)T, T > 1 && T <= CTRL_MAX_UNROLL ? " (nested subgraphs)" : "");
        return -1;
    }
    int nb = nst + nsc;
    IrValue **bind = calloc((size_t)nb + 1, sizeof *bind);
    IrValue **outs = calloc((size_t)(nst + nso) + 1, sizeof *outs);
    IrValue **ys = calloc((size_t)(nso * T) + 1, sizeof *ys);
    int rc = -1;
    if (!bind || !outs || !ys) {
        ir_error(d, n, "out of memory");
        goto done;
    }
    for (int k = 0; k < nst; k++)
        fin[k] = sts[k];
    for (int64_t t = 0; t < T; t++) {
        for (int k = 0; k < nst; k++)
            bind[k] = fin[k];
        for (int j = 0; j < nsc; j++) {
            int64_t ax = axes[j] < 0 ? axes[j] + xs[j]->type.rank : axes[j];
            if (!(bind[nst + j] = ctrl_gather(n, xs[j], dirs[j] ? T - 1 - t : t, ax))) {
                ir_error(d, n, "out of memory");
                goto done;
            }
        }
        char tag[300];
        snprintf(tag, sizeof tag, "%s%s/t%lld/", tagp, n->name, (long long)t);
        if (ctrl_clone_body(n, body, bind, nb, T == 1, tag, outs, n, d))
            goto done;
        for (int k = 0; k < nst; k++)
            fin[k] = outs[k];
        for (int k = 0; k < nso; k++)
            ys[(size_t)k * (size_t)T + (size_t)(out_dirs[k] ? T - 1 - t : t)] = outs[nst + k];
    }
    for (int k = 0; k < nso; k++) {
        /* Output axis: counted in the stacked rank (element rank + 1); negative resolved by
         * Unsqueeze itself. */
        if (!(so[k] = ctrl_stack(n, ys + (size_t)k * (size_t)T, (int)T, out_axes[k], "scan_out"))) {
            ir_error(d, n, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    free(bind);
    free(outs);
    free(ys);
    return rc;
}

/* Reads an ints attribute into a[0..n) (default dflt when absent); -1 + diag on a bad length. */
static int ints_or(IrNode *n, IrDiag *d, const char *name, int64_t *a, int cnt, int64_t dflt) {
    const int64_t *v;
    int k = ir_attr_ints(n, name, &v);
    for (int i = 0; i < cnt; i++)
        a[i] = dflt;
    if (k < 0)
        return 0;
    if (k != cnt) {
        ir_error(d, n, "attribute %s has %d entries, expected %d", name, k, cnt);
        return -1;
    }
    for (int i = 0; i < cnt; i++)
        a[i] = v[i];
    return 0;
}

static int expand_scan(IrNode *n, IrNode **next, IrDiag *d) {
    IrGraph *body = graph_attr(n, "body");
    int64_t M = ir_attr_int(n, "num_scan_inputs", -1);
    int v8 = n->opset < 9, first = v8 ? 1 : 0;
    int nin = n->nin - first;
    if (!body || M < 1 || M > nin) {
        ir_error(d, n, "Scan needs a body and 1 <= num_scan_inputs <= %d", nin);
        return -1;
    }
    int nst = nin - (int)M, nsc = (int)M, nso = n->nout - nst;
    if (nso < 0 || body->noutputs != n->nout || body->ninputs != nin) {
        ir_error(d, n, "Scan: the body has %d inputs and %d outputs, the node %d and %d",
                 body->ninputs, body->noutputs, nin, n->nout);
        return -1;
    }
    for (int i = first; i < n->nin; i++)
        if (!n->in[i]) {
            ir_error(d, n, "Scan: input %d is missing", i);
            return -1;
        }
    int64_t *ia = calloc((size_t)(2 * nsc + 2 * nso) + 1, sizeof *ia);
    IrValue **vals = calloc((size_t)(2 * nin + 2 * n->nout) + 4, sizeof *vals);
    IrNode *prev = n->prev;
    int rc = -1;
    if (!ia || !vals) {
        ir_error(d, n, "out of memory");
        goto done;
    }
    int64_t *axes = ia, *dirs = ia + nsc, *oaxes = ia + 2 * nsc, *odirs = ia + 2 * nsc + nso;
    IrValue **sts = vals, **xs = vals + nst, **fin = vals + nin, **so = fin + nst;
    IrValue **res = so + nso; /* n->nout entries */
    if (v8) {
        if (ints_or(n, d, "directions", dirs, nsc, 0))
            goto done;
    } else if (ints_or(n, d, "scan_input_axes", axes, nsc, 0) ||
               ints_or(n, d, "scan_input_directions", dirs, nsc, 0) ||
               ints_or(n, d, "scan_output_axes", oaxes, nso, 0) ||
               ints_or(n, d, "scan_output_directions", odirs, nso, 0)) {
        goto done;
    }
    for (int i = 0; i < nin; i++)
        vals[i] = n->in[first + i];
    if (!v8) {
        if (scan_unroll(n, body, nst, sts, nsc, xs, axes, dirs, nso, oaxes, odirs, res, res + nst,
                        "", -1, d))
            goto done;
    } else {
        /* Scan-8: every input and output has a leading batch axis; the scan axis is 1. */
        const IrType *t0 = &n->in[first]->type;
        int64_t B = t0->kind == IR_TYPE_TENSOR && t0->rank >= 1 ? t0->dims[0].value : -1;
        if (B < 1 || B > CTRL_MAX_UNROLL || (B > 1 && ctrl_has_subgraphs(body))) {
            ir_error(d, n, "unsupported operator Scan: batch size %lld cannot be unrolled",
                     (long long)B);
            goto done;
        }
        /* Scan length: axis 1 of every scan input, the same for all. */
        int64_t T = -1;
        for (int j = 0; j < nsc; j++) {
            const IrType *u = &xs[j]->type;
            int64_t len = u->kind == IR_TYPE_TENSOR && u->rank >= 2 && u->dims[0].value == B
                              ? u->dims[1].value : -1;
            if (len < 0 || (T >= 0 && len != T)) {
                ir_error(d, n, "unsupported operator Scan: scan input %d needs a static shape "
                         "[batch %lld, length, ...] agreeing with the others", j, (long long)B);
                goto done;
            }
            T = len;
        }
        IrValue *sl = n->in[0];
        if (sl) {
            const IrTensor *t = sl->init;
            int full = t && t->dtype == IR_DT_INT32 && t->numel == B;
            for (int64_t b = 0; full && b < B; b++)
                full = ((const int32_t *)t->data)[b] == T;
            if (!full) {
                ir_error(d, n, "unsupported operator Scan: sequence_lens other than the full "
                         "length (a constant) is not supported");
                goto done;
            }
        }
        IrValue **bs = calloc((size_t)(nin + n->nout) * (size_t)B + 1, sizeof *bs);
        if (!bs) {
            ir_error(d, n, "out of memory");
            goto done;
        }
        int bad = 0;
        for (int64_t b = 0; b < B && !bad; b++) {
            IrValue **bin = bs + (size_t)b * (size_t)(nin + n->nout), **bout = bin + nin;
            for (int i = 0; i < nin && !bad; i++)
                bad = !(bin[i] = ctrl_gather(n, vals[i], b, 0));
            char tag[64];
            snprintf(tag, sizeof tag, "b%lld/", (long long)b);
            for (int k = 0; k < nsc; k++)
                axes[k] = 0;
            if (!bad)
                bad = scan_unroll(n, body, nst, bin, nsc, bin + nst, axes, dirs, nso, oaxes, odirs,
                                  bout, bout + nst, tag, T, d) != 0;
        }
        for (int k = 0; k < n->nout && !bad; k++) {
            IrValue **col = calloc((size_t)B, sizeof *col);
            bad = !col;
            for (int64_t b = 0; col && b < B; b++)
                col[b] = bs[(size_t)b * (size_t)(nin + n->nout) + (size_t)nin + (size_t)k];
            if (col)
                bad = !(res[k] = ctrl_stack(n, col, (int)B, 0, "scan_out"));
            free(col);
        }
        free(bs);
        if (bad) {
            if (!d->nerrors)
                ir_error(d, n, "out of memory");
            goto done;
        }
    }
    rc = ctrl_replace_node(n, res, prev, next, d);
done:
    free(ia);
    free(vals);
    return rc < 0 ? -1 : 1;
}

/* ------------------------------------------------------------------ Loop */

/* 1 if the body's cond_out is its cond_in (through Identity) or a constant true. */
static int body_cond_always_true(const IrGraph *body) {
    if (body->noutputs < 1 || body->ninputs < 2)
        return 0;
    const IrValue *v = body->outputs[0];
    for (int k = 0; k < 64 && v; k++) {
        if (v == body->inputs[1])
            return 1;
        if (v->init)
            return const_truth(v) == 1;
        if (v->producer && strcmp(v->producer->op_type, "Identity") == 0 && v->producer->nin == 1)
            v = v->producer->in[0];
        else
            return 0;
    }
    return 0;
}

static int expand_loop(IrNode *n, IrNode **next, IrDiag *d) {
    IrGraph *body = graph_attr(n, "body");
    if (!body) {
        ir_error(d, n, "Loop needs the graph attribute body");
        return -1;
    }
    IrValue *mv = ir_node_in(n, 0), *cv = ir_node_in(n, 1);
    int nst = n->nin - 2, nso = n->nout - nst;
    if (nst < 0 || nso < 0 || body->ninputs != nst + 2 || body->noutputs != 1 + nst + nso) {
        ir_error(d, n, "Loop: the body has %d inputs and %d outputs, the node %d and %d",
                 body->ninputs, body->noutputs, n->nin, n->nout);
        return -1;
    }
    int64_t M = -1;
    if (mv && mv->init && mv->init->numel == 1 && mv->init->dtype == IR_DT_INT64)
        M = *(const int64_t *)mv->init->data;
    if (!mv || M < 0) {
        ir_error(d, n, "unsupported operator Loop: the trip count is %s (run-time loops are not "
                 "supported yet)", mv ? "computed at run time" : "absent");
        return -1;
    }
    if (cv && const_truth(cv) != 1) {
        ir_error(d, n, "unsupported operator Loop: the condition is %s",
                 const_truth(cv) == 0 ? "false (not supported yet)" : "computed at run time");
        return -1;
    }
    if (!body_cond_always_true(body) && M > 0) {
        ir_error(d, n, "unsupported operator Loop: the body computes its own condition (run-time "
                 "loops are not supported yet)");
        return -1;
    }
    if (M > CTRL_MAX_UNROLL || (M > 1 && ctrl_has_subgraphs(body)) || (M == 0 && nso > 0)) {
        ir_error(d, n, "unsupported operator Loop: %lld iterations cannot be unrolled%s",
                 (long long)M, M == 0 ? " (empty scan outputs)" : "");
        return -1;
    }
    IrNode *prev = n->prev;
    IrValue **bind = calloc((size_t)(nst + 2), sizeof *bind);
    IrValue **outs = calloc((size_t)(1 + nst + nso), sizeof *outs);
    IrValue **res = calloc((size_t)(nst + nso) + 1, sizeof *res);
    IrValue **ys = calloc((size_t)(nso * M) + 1, sizeof *ys);
    int rc = -1;
    if (!bind || !outs || !res || !ys) {
        ir_error(d, n, "out of memory");
        goto done;
    }
    for (int k = 0; k < nst; k++)
        res[k] = n->in[2 + k];
    for (int64_t i = 0; i < M; i++) {
        bind[0] = ctrl_const_i64(n->graph, "iter", &i, 1, 0);
        bind[1] = ctrl_const_bool(n->graph, "cond", 1);
        if (!bind[0] || !bind[1]) {
            ir_error(d, n, "out of memory");
            goto done;
        }
        for (int k = 0; k < nst; k++)
            bind[2 + k] = res[k];
        char tag[300];
        snprintf(tag, sizeof tag, "%s/i%lld/", n->name, (long long)i);
        if (ctrl_clone_body(n, body, bind, nst + 2, M == 1, tag, outs, n, d))
            goto done;
        for (int k = 0; k < nst; k++)
            res[k] = outs[1 + k];
        for (int k = 0; k < nso; k++)
            ys[(size_t)k * (size_t)M + (size_t)i] = outs[1 + nst + k];
    }
    for (int k = 0; k < nso; k++)
        if (!(res[nst + k] = ctrl_stack(n, ys + (size_t)k * (size_t)M, (int)M, 0, "loop_out"))) {
            ir_error(d, n, "out of memory");
            goto done;
        }
    rc = ctrl_replace_node(n, res, prev, next, d);
done:
    free(bind);
    free(outs);
    free(res);
    free(ys);
    return rc < 0 ? -1 : 1;
}

/* onnxc::Select on sequences (both known at compile time, of equal length): one Select per
 * element, then SequenceConstruct. Optionals: both present, Select of the contents. */
static int expand_select(IrNode *n, IrNode **next, IrDiag *d) {
    IrValue *c = n->in[0], *a = n->in[1], *b = n->in[2];
    IrValue *ea = a, *eb = b;
    int wrap = 0;
    if (a->type.kind == IR_TYPE_OPTIONAL || b->type.kind == IR_TYPE_OPTIONAL) {
        if (seq_static_optional(a, &ea) != 1 || seq_static_optional(b, &eb) != 1)
            return 0;
        wrap = 1;
    }
    IrValue *r = NULL, *sel;
    IrNode *prev = n->prev;
    IrGraph *g = n->graph;
    if (ea->type.kind == IR_TYPE_SEQUENCE && eb->type.kind == IR_TYPE_SEQUENCE) {
        IrValue **xa, **xb;
        int ka = seq_static_elems(g, ea, &xa), kb = seq_static_elems(g, eb, &xb);
        if (ka < 1 || ka != kb)
            return 0;
        IrValue **xs = calloc((size_t)ka, sizeof *xs);
        if (!xs) {
            ir_error(d, n, "out of memory");
            return -1;
        }
        int bad = 0;
        for (int i = 0; i < ka && !bad; i++) {
            IrValue *in[3] = {c, xa[i], xb[i]};
            bad = !(xs[i] = ctrl_node1(n, n->name, "Select", 1, 3, in, "select"));
            if (!bad) {
                xs[i]->producer->domain = "onnxc";
                xs[i]->producer->op = OP_CtrlSelect;
            }
        }
        r = bad ? NULL : ctrl_node1(n, n->name, "SequenceConstruct", 11, ka, xs, "select_seq");
        free(xs);
    } else if (wrap && ea->type.kind == IR_TYPE_TENSOR && eb->type.kind == IR_TYPE_TENSOR) {
        IrValue *in[3] = {c, ea, eb};
        r = ctrl_node1(n, n->name, "Select", 1, 3, in, "select");
        if (r) {
            r->producer->domain = "onnxc";
            r->producer->op = OP_CtrlSelect;
        }
    } else {
        return 0;
    }
    if (r && wrap)
        r = ctrl_node1(n, n->name, "Optional", 15, 1, &r, "select_opt");
    if (!r) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    sel = r;
    return ctrl_replace_node(n, &sel, prev, next, d) ? -1 : 1;
}

/* ------------------------------------------------------------------ dispatch */

int ctrl_expand(IrNode *n, IrNode **next, IrDiag *d) {
    switch (n->op) {
    case OP_If: return expand_if(n, next, d);
    case OP_Scan: return expand_scan(n, next, d);
    case OP_Loop: return expand_loop(n, next, d);
    case OP_CtrlSelect:
        return n->nin == 3 && n->in[0] && n->in[1] && n->in[2] ? expand_select(n, next, d) : 0;
    default: return 0;
    }
}

int op_expand_node(IrNode *n, IrNode **next, IrDiag *d) {
    int r = ctrl_expand(n, next, d);
    return r != 0 ? r : seq_expand(n, next, d);
}

int op_remove_dead_nontensor(IrGraph *g) {
    int removed = 0, changed = 1;
    while (changed) {
        changed = 0;
        for (IrNode *n = g->last, *p; n; n = p) {
            p = n->prev;
            int dead = n->nout > 0;
            for (int i = 0; i < n->nout && dead; i++) {
                IrValue *o = n->out[i];
                if (o && (o->type.kind == IR_TYPE_TENSOR || o->nuses > 0 ||
                          (o->flags & IR_VALUE_OUTPUT)))
                    dead = 0;
            }
            if (dead) {
                ir_node_remove(g, n);
                removed++;
                changed = 1;
            }
        }
    }
    return removed;
}

/* ------------------------------------------------------------------ hooks */

/* Reached only when op_expand_node left the node alone (it reports why): keep the type of the
 * outputs unknown and fail. */
static int ctrl_infer_unresolved(IrNode *n, IrDiag *d) {
    ir_error(d, n, "unsupported operator %s: control flow that is not known at compile time",
             n->op_type);
    return -1;
}

const OpHooks op_hooks_If = {ctrl_infer_unresolved, NULL, NULL};
const OpHooks op_hooks_Loop = {ctrl_infer_unresolved, NULL, NULL};
const OpHooks op_hooks_Scan = {ctrl_infer_unresolved, NULL, NULL};

/* onnxc::Select(cond, a, b): what a run-time If becomes; a Where whose branches must agree in
 * type and shape. */
static int infer_select(IrNode *n, IrDiag *d) {
    const IrType *c = &n->in[0]->type, *a = &n->in[1]->type, *b = &n->in[2]->type;
    if (a->kind != IR_TYPE_TENSOR || b->kind != IR_TYPE_TENSOR) {
        ir_error(d, n, "unsupported operator If: a run-time condition with sequence or optional "
                 "outputs is not supported yet");
        return -1;
    }
    if (c->kind != IR_TYPE_TENSOR || c->dtype != IR_DT_BOOL) {
        ir_error(d, n, "If: the condition must be a bool tensor");
        return -1;
    }
    if (!ir_type_equal(a, b) || !ir_type_is_static(a)) {
        char x[128], y[128];
        ir_type_to_string(a, x, sizeof x);
        ir_type_to_string(b, y, sizeof y);
        ir_error(d, n, "unsupported operator If: with a run-time condition the branches must "
                 "give the same static type (then %s, else %s)", x, y);
        return -1;
    }
    /* Checked: from now on the node is an ordinary Where. */
    n->op = OP_Where;
    n->op_type = "Where";
    n->domain = "";
    n->opset = ctrl_opset(n->graph, 9);
    return op_hooks_Where.infer(n, d);
}

const OpHooks op_hooks_CtrlSelect = {infer_select, NULL, NULL};
