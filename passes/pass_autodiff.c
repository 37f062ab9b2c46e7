/* pass_autodiff.c - reverse-mode automatic differentiation on the IR (docs/TRAINING.md).
 *
 * Given a loss value and a set of values to differentiate with respect to, the pass
 *   1. marks the values that depend on a parameter (forward, list order) and the nodes from
 *      which the loss is reachable (backward);
 *   2. seeds dL/dloss (1, or a given value) and visits the relevant nodes in reverse list order,
 *      calling each operator's gradient rule (ops/grad_<family>.c via op_grad_rule), which adds
 *      the gradients of the node's inputs (summed with Add when a value has several readers);
 *   3. returns the gradient of every requested value.
 * Backward nodes are appended after all existing nodes, so the node list stays topological;
 * each is type-inferred when it is made. Values of integer or bool type never carry gradients.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/grad.h"
#include "passes/pass_train.h"

struct GradCtx {
    IrGraph *g;
    IrDiag *d;
    IrNode *n;           /* forward node being differentiated */
    IrNode *before;      /* backward nodes are inserted before it (NULL: appended) */
    int nids;            /* entries of need / loss_reach (values that existed at the start) */
    unsigned char *need; /* per value id: depends on a parameter */
    IrValue **grad;      /* per value id (< cap): accumulated gradient */
    int cap;
};

static int is_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

IrNode *grad_fwd(GradCtx *c) { return c->n; }

static IrValue **grad_slot(GradCtx *c, const IrValue *v) {
    if (v->id >= c->cap) {
        int nc = c->cap ? c->cap : 64;
        while (nc <= v->id)
            nc *= 2;
        IrValue **ng = realloc(c->grad, (size_t)nc * sizeof *ng);
        if (!ng)
            return NULL;
        memset(ng + c->cap, 0, (size_t)(nc - c->cap) * sizeof *ng);
        c->grad = ng;
        c->cap = nc;
    }
    return &c->grad[v->id];
}

IrValue *grad_out(GradCtx *c, int i) {
    if (i < 0 || i >= c->n->nout || !c->n->out[i] || c->n->out[i]->id >= c->cap)
        return NULL;
    return c->grad[c->n->out[i]->id];
}

int grad_wants(GradCtx *c, int i) {
    IrValue *v = ir_node_in(c->n, i);
    return v && v->id < c->nids && c->need[v->id];
}

IrNode *grad_node(GradCtx *c, const char *domain, const char *op_type, int nin,
                  IrValue *const *in, int nout) {
    char base[256];
    snprintf(base, sizeof base, "%s_grad", c->n->name[0] ? c->n->name : c->n->op_type);
    const char *nm = ir_graph_unique_name(c->g, base);
    IrValue *outs[8];
    if (nout > 8 || !nm)
        goto oom;
    for (int i = 0; i < nout; i++) {
        const char *vn = ir_graph_unique_name(c->g, base);
        outs[i] = vn ? ir_value_new(c->g, vn) : NULL;
        if (!outs[i])
            goto oom;
    }
    int gdomain = domain && strcmp(domain, GRAD_DOMAIN) == 0;
    IrNode *n = ir_node_new(c->g, c->before, nm, domain ? domain : "", op_type,
                            gdomain ? 1 : GRAD_ONNX_OPSET, nin, (IrValue **)in, nout, outs);
    if (!n)
        goto oom;
    return n;
oom:
    ir_error(c->d, c->n, "out of memory building the gradient");
    return NULL;
}

IrValue *grad_emit(GradCtx *c, IrNode *n) {
    if (!n)
        return NULL;
    if (op_infer_node(n, c->d)) {
        ir_error(c->d, c->n, "gradient node %s '%s' could not be typed", n->op_type, n->name);
        return NULL;
    }
    return n->out[0];
}

int grad_attr_int(GradCtx *c, IrNode *n, const char *name, int64_t v) {
    IrAttr *a = n ? ir_node_add_attr(n, name, IR_ATTR_INT) : NULL;
    if (!a) {
        ir_error(c->d, c->n, "out of memory");
        return -1;
    }
    a->i = v;
    return 0;
}

int grad_attr_float(GradCtx *c, IrNode *n, const char *name, float v) {
    IrAttr *a = n ? ir_node_add_attr(n, name, IR_ATTR_FLOAT) : NULL;
    if (!a) {
        ir_error(c->d, c->n, "out of memory");
        return -1;
    }
    a->f = v;
    return 0;
}

int grad_attr_ints(GradCtx *c, IrNode *n, const char *name, const int64_t *v, int count) {
    IrAttr *a = n ? ir_node_add_attr(n, name, IR_ATTR_INTS) : NULL;
    if (a && count > 0)
        a->ints = ir_arena_memdup(c->g->arena, v, (size_t)count * sizeof *v);
    if (!a || (count > 0 && !a->ints)) {
        ir_error(c->d, c->n, "out of memory");
        return -1;
    }
    a->n = count;
    return 0;
}

int grad_attr_string(GradCtx *c, IrNode *n, const char *name, const char *v) {
    IrAttr *a = n ? ir_node_add_attr(n, name, IR_ATTR_STRING) : NULL;
    char *s = a ? ir_arena_strdup(c->g->arena, v) : NULL;
    if (!s) {
        ir_error(c->d, c->n, "out of memory");
        return -1;
    }
    a->s.data = s;
    a->s.len = strlen(s);
    return 0;
}

IrValue *grad_op1(GradCtx *c, const char *op_type, IrValue *a) {
    return grad_emit(c, grad_node(c, "", op_type, 1, &a, 1));
}

IrValue *grad_op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b) {
    IrValue *in[2] = {a, b};
    return grad_emit(c, grad_node(c, "", op_type, 2, in, 1));
}

/* A constant value holding tensor t. */
static IrValue *const_value(GradCtx *c, IrTensor *t, const char *base) {
    const char *nm = t ? ir_graph_unique_name(c->g, base) : NULL;
    IrValue *v = nm ? ir_value_new(c->g, nm) : NULL;
    if (!v || ir_type_set_tensor(c->g->arena, &v->type, t->dtype, t->rank, t->dims)) {
        ir_error(c->d, c->n, "out of memory");
        return NULL;
    }
    t->name = v->name;
    v->init = t;
    if (ir_graph_add_init(c->g, v)) {
        ir_error(c->d, c->n, "out of memory");
        return NULL;
    }
    return v;
}

/* A constant of type t (static) filled with x. */
static IrValue *fill_like(GradCtx *c, const IrType *ty, double x, const char *base) {
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < ty->rank; i++)
        dims[i] = ty->dims[i].value;
    IrTensor *t = ir_tensor_new(c->g->arena, ty->dtype, ty->rank, dims);
    if (!t) {
        ir_error(c->d, c->n, "out of memory");
        return NULL;
    }
    for (int64_t i = 0; i < t->numel; i++) {
        if (ty->dtype == IR_DT_DOUBLE)
            ((double *)t->data)[i] = x;
        else if (ty->dtype == IR_DT_FLOAT)
            ((float *)t->data)[i] = (float)x;
        else {
            ir_error(c->d, c->n, "gradients of element type %s are not supported",
                     ir_dtype_name(ty->dtype));
            return NULL;
        }
    }
    return const_value(c, t, base);
}

IrValue *grad_scalar(GradCtx *c, IrDType dt, double v) {
    IrType ty = {.kind = IR_TYPE_TENSOR, .dtype = dt, .rank = 0};
    return fill_like(c, &ty, v, "grad_const");
}

IrValue *grad_const_i64(GradCtx *c, const int64_t *v, int count) {
    int64_t dims[1] = {count};
    IrTensor *t = ir_tensor_new(c->g->arena, IR_DT_INT64, 1, dims);
    if (!t) {
        ir_error(c->d, c->n, "out of memory");
        return NULL;
    }
    if (count > 0)
        memcpy(t->data, v, (size_t)count * sizeof *v);
    return const_value(c, t, "grad_shape");
}

IrValue *grad_sum_to(GradCtx *c, IrValue *g, const IrValue *like) {
    if (!g)
        return NULL;
    if (ir_type_equal(&g->type, &like->type))
        return g;
    IrValue *in[2] = {g, (IrValue *)like};
    return grad_emit(c, grad_node(c, GRAD_DOMAIN, "SumTo", 2, in, 1));
}

IrValue *grad_reshape_like(GradCtx *c, IrValue *g, const IrValue *like) {
    if (!g)
        return NULL;
    if (ir_type_equal(&g->type, &like->type))
        return g;
    int64_t dims[IR_MAX_RANK];
    for (int i = 0; i < like->type.rank; i++)
        dims[i] = like->type.dims[i].value;
    IrValue *shape = grad_const_i64(c, dims, like->type.rank);
    return shape ? grad_op2(c, "Reshape", g, shape) : NULL;
}

IrValue *grad_transpose_last2(GradCtx *c, IrValue *x) {
    int r = x->type.rank;
    int64_t perm[IR_MAX_RANK];
    for (int i = 0; i < r; i++)
        perm[i] = i;
    if (r >= 2) {
        perm[r - 2] = r - 1;
        perm[r - 1] = r - 2;
    }
    IrNode *n = grad_node(c, "", "Transpose", 1, &x, 1);
    if (!n || grad_attr_ints(c, n, "perm", perm, r))
        return NULL;
    return grad_emit(c, n);
}

int grad_add(GradCtx *c, int i, IrValue *g) {
    if (!grad_wants(c, i))
        return 0;
    if (!g)
        return -1;
    IrValue *v = c->n->in[i];
    if (!ir_type_equal(&g->type, &v->type)) {
        char a[128], b[128];
        ir_type_to_string(&g->type, a, sizeof a);
        ir_type_to_string(&v->type, b, sizeof b);
        ir_error(c->d, c->n, "internal error: gradient of input %d is %s, the input is %s", i, a, b);
        return -1;
    }
    IrValue **slot = grad_slot(c, v);
    if (!slot) {
        ir_error(c->d, c->n, "out of memory");
        return -1;
    }
    if (!*slot) {
        *slot = g;
        return 0;
    }
    IrValue *s = grad_op2(c, "Add", *slot, g);
    if (!s)
        return -1;
    slot = grad_slot(c, v);
    if (!slot)
        return -1;
    *slot = s;
    return 0;
}

int pass_autodiff_at(IrGraph *g, IrValue *loss, IrValue *seed, int nwrt, IrValue *const *wrt,
                     IrValue **grads, IrNode *before, IrDiag *d) {
    GradCtx c = {.g = g, .d = d, .nids = g->nvalues, .before = before};
    int rc = -1, nnodes = 0;
    IrNode **nodes = NULL;
    unsigned char *reach = NULL;
    c.need = calloc((size_t)c.nids + 1, 1);
    reach = calloc((size_t)c.nids + 1, 1);
    for (IrNode *n = g->first; n; n = n->next)
        nnodes++;
    nodes = malloc(((size_t)nnodes + 1) * sizeof *nodes);
    if (!c.need || !reach || !nodes) {
        ir_error(d, NULL, "out of memory");
        goto done;
    }
    if (!loss || loss->type.kind != IR_TYPE_TENSOR || !ir_type_is_static(&loss->type) ||
        !is_float(loss->type.dtype)) {
        ir_error(d, NULL, "autodiff: the loss '%s' must be a float tensor of static shape",
                 loss ? loss->name : "?");
        goto done;
    }
    nnodes = 0;
    for (IrNode *n = g->first; n; n = n->next)
        nodes[nnodes++] = n;
    /* 1. forward: what depends on a parameter */
    for (int i = 0; i < nwrt; i++)
        if (wrt[i] && is_float(wrt[i]->type.dtype))
            c.need[wrt[i]->id] = 1;
    for (int k = 0; k < nnodes; k++) {
        IrNode *n = nodes[k];
        int any = 0;
        for (int i = 0; i < n->nin; i++)
            any |= n->in[i] && c.need[n->in[i]->id];
        if (!any)
            continue;
        for (int i = 0; i < n->nout; i++)
            if (n->out[i] && n->out[i]->type.kind == IR_TYPE_TENSOR && is_float(n->out[i]->type.dtype))
                c.need[n->out[i]->id] = 1;
    }
    /* backward: what the loss depends on */
    reach[loss->id] = 1;
    for (int k = nnodes - 1; k >= 0; k--) {
        IrNode *n = nodes[k];
        int any = 0;
        for (int i = 0; i < n->nout; i++)
            any |= n->out[i] && reach[n->out[i]->id];
        if (any)
            for (int i = 0; i < n->nin; i++)
                if (n->in[i])
                    reach[n->in[i]->id] = 1;
    }
    /* 2. seed and reverse sweep */
    if (!seed) {
        c.n = loss->producer ? loss->producer : nodes[nnodes ? nnodes - 1 : 0];
        if (!nnodes) {
            ir_error(d, NULL, "autodiff: empty graph");
            goto done;
        }
        seed = fill_like(&c, &loss->type, 1.0, "grad_seed");
        if (!seed)
            goto done;
    }
    {
        IrValue **slot = grad_slot(&c, loss);
        if (!slot) {
            ir_error(d, NULL, "out of memory");
            goto done;
        }
        *slot = seed;
    }
    for (int k = nnodes - 1; k >= 0; k--) {
        IrNode *n = nodes[k];
        int has_grad = 0, wants = 0;
        for (int i = 0; i < n->nout; i++)
            if (n->out[i] && reach[n->out[i]->id] && n->out[i]->id < c.cap &&
                c.grad[n->out[i]->id])
                has_grad = 1;
        for (int i = 0; i < n->nin; i++)
            wants |= n->in[i] && c.need[n->in[i]->id];
        if (!has_grad || !wants)
            continue;
        OpGradFn rule = op_grad_rule(n->op);
        if (!rule) {
            ir_error(d, n, "no gradient rule for operator %s (training: docs/TRAINING.md lists the "
                     "differentiable operators)", n->op_type);
            goto done;
        }
        c.n = n;
        if (rule(n, &c, d))
            goto done;
    }
    /* 3. results */
    for (int i = 0; i < nwrt; i++) {
        IrValue *gv = wrt[i] && wrt[i]->id < c.cap ? c.grad[wrt[i]->id] : NULL;
        if (!gv && wrt[i]) {
            c.n = nnodes ? nodes[nnodes - 1] : NULL;
            gv = fill_like(&c, &wrt[i]->type, 0.0, "grad_zero");
            if (!gv)
                goto done;
        }
        grads[i] = gv;
    }
    rc = 0;
done:
    free(c.need);
    free(c.grad);
    free(reach);
    free(nodes);
    return rc;
}

int pass_autodiff(IrGraph *g, IrValue *loss, int nwrt, IrValue *const *wrt, IrValue **grads,
                  IrDiag *d) {
    return pass_autodiff_at(g, loss, NULL, nwrt, wrt, grads, NULL, d);
}
