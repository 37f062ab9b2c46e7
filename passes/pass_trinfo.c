/* pass_trinfo.c - the training step of a model's TrainingInfoProto (docs/TRAINING.md section
 * "TrainingInfoProto"; contract in passes/pass_trinfo.h).
 *
 * onnx.proto defines one training iteration as running the graph obtained by concatenating the
 * inference graph and TrainingInfoProto.algorithm (inputs, initializers, nodes, outputs, in that
 * order) and then assigning the outputs named by update_binding to the initializers named by its
 * keys; initialization runs TrainingInfoProto.initialization and assigns its outputs through
 * initialization_binding. The frontend loads the concatenated graph (FeOptions
 * .training_algorithm); here it becomes a graph of the training library (mode
 * RT_TRAIN_MODE_TRAININFO of runtime/api/rt_train_model.h): the bound initializers are inputs
 * and their new values outputs, and the runtime copies the outputs back after each step. The
 * initialization graph is evaluated at compile time by constant folding (the kernels the library
 * would run); what cannot be folded (RandomNormal, RandomUniform, ...) is refused with a message.
 */
#include <stdio.h>
#include <string.h>

#include "ops/grad.h"
#include "ops/op.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"
#include "passes/pass_train.h"
#include "passes/pass_trinfo.h"

static int has_algorithm(const IrTrainingInfo *ti) {
    return ti->algorithm && (ti->algorithm->nnodes > 0 || ti->algorithm->noutputs > 0);
}

int trinfo_algorithm_index(const IrModel *m, IrDiag *d) {
    int k = -1;
    for (int i = 0; i < m->ntraining_info; i++) {
        if (!has_algorithm(&m->training_info[i]))
            continue;
        if (k >= 0) {
            ir_error(d, NULL, "training_info[%d] and training_info[%d] both have an algorithm: "
                     "running several algorithms as one training step is not supported", k, i);
            return -2;
        }
        k = i;
    }
    return k;
}

static int same_type(const IrTensor *t, const IrType *ty) {
    if (ty->kind != IR_TYPE_TENSOR || (int)ty->dtype != (int)t->dtype || ty->rank != t->rank ||
        !ir_type_is_static(ty))
        return 0;
    for (int i = 0; i < t->rank; i++)
        if (ty->dims[i].value != t->dims[i])
            return 0;
    return 1;
}

static void tensor_type_str(const IrTensor *t, char *buf, size_t cap) {
    IrType ty;
    memset(&ty, 0, sizeof ty);
    IrArena *a = ir_arena_create();
    if (!a || ir_type_set_tensor(a, &ty, t->dtype, t->rank, t->dims) ||
        ir_type_to_string(&ty, buf, cap) < 0)
        snprintf(buf, cap, "?");
    ir_arena_destroy(a);
}

/* Evaluates graph ig of m (no inputs) by inference + constant folding. 0 / -1. */
static int eval_graph(IrModel *m, IrGraph *ig, int k, IrDiag *d) {
    IrLimits lim = ir_limits();
    if (ig->nnodes > lim.max_nodes) {
        ir_error(d, NULL, "training_info[%d]: the initialization graph has %d nodes (limit %lld)",
                 k, ig->nnodes, (long long)lim.max_nodes);
        return -1;
    }
    IrGraph *main = m->graph;
    m->graph = ig;
    int rc = pass_infer(ig, d) ? -1 : 0;
    if (rc)
        ir_error(d, NULL, "training_info[%d]: initialization graph: cannot be evaluated at compile "
                 "time (see above)", k);
    if (rc == 0) {
        PassCtx cx;
        pm_ctx_init(&cx, NULL, d);
        rc = pass_fold_run(m, &cx) < 0 ? -1 : 0;
        pm_ctx_free(&cx);
    }
    m->graph = main;
    return rc;
}

int trinfo_apply_init(IrModel *m, IrDiag *d) {
    for (int k = 0; k < m->ntraining_info; k++) {
        IrTrainingInfo *ti = &m->training_info[k];
        if (ti->ninit_bind == 0 || !ti->initialization)
            continue;
        IrGraph *ig = ti->initialization;
        if (eval_graph(m, ig, k, d))
            return -1;
        for (int i = 0; i < ti->ninit_bind; i++) {
            IrValue *src = NULL;
            for (int j = 0; j < ig->noutputs && !src; j++)
                if (!strcmp(ig->outputs[j]->name, ti->init_values[i]))
                    src = ig->outputs[j];
            if (!src || !src->init) {
                const IrNode *p = src ? src->producer : NULL;
                ir_error(d, NULL, "training_info[%d]: initialization output '%s' cannot be "
                         "computed at compile time%s%s%s (onnxc evaluates initialization graphs "
                         "by constant folding; random operators are not folded)", k,
                         ti->init_values[i], p ? ": node '" : "", p && p->name ? p->name : "",
                         p ? "'" : "");
                return -1;
            }
            IrValue *dst = ir_graph_find_value(m->graph, ti->init_keys[i]);
            if (!dst || !dst->init)
                continue; /* an algorithm initializer this graph does not have */
            if (!same_type(src->init, &dst->type) || src->init->dtype == IR_DT_STRING) {
                char a[128], b[128];
                tensor_type_str(src->init, a, sizeof a);
                ir_type_to_string(&dst->type, b, sizeof b);
                ir_error(d, NULL, "training_info[%d]: initialization_binding '%s' <- '%s': the "
                         "initialization computes %s for an initializer of type %s", k,
                         ti->init_keys[i], ti->init_values[i], a, b);
                return -1;
            }
            IrTensor *t = ir_tensor_new(m->graph->arena, src->init->dtype, src->init->rank,
                                        src->init->dims);
            if (!t) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
            memcpy(t->data, src->init->data, t->nbytes < src->init->nbytes ? t->nbytes
                                                                             : src->init->nbytes);
            t->name = dst->name;
            dst->init = t;
        }
    }
    return 0;
}

/* Identity(v) appended to g, inferred. */
static IrValue *identity(IrGraph *g, IrValue *v, IrDiag *d) {
    const char *nm = ir_graph_unique_name(g, "trinfo_out");
    IrValue *o = nm ? ir_value_new(g, nm) : NULL;
    IrNode *n = o ? ir_node_new(g, NULL, nm, "", "Identity", GRAD_ONNX_OPSET, 1, &v, 1, &o) : NULL;
    if (!n) {
        ir_error(d, NULL, "out of memory");
        return NULL;
    }
    return op_infer_node(n, d) ? NULL : o;
}

/* A float scalar 0 (the loss of an algorithm without one). */
static IrValue *zero_loss(IrGraph *g, IrDiag *d) {
    const char *nm = ir_graph_unique_name(g, "trinfo_no_loss");
    IrValue *c = nm ? ir_value_new(g, nm) : NULL;
    IrTensor *t = c ? ir_tensor_new(g->arena, IR_DT_FLOAT, 0, NULL) : NULL;
    if (!t || ir_type_set_tensor(g->arena, &c->type, IR_DT_FLOAT, 0, NULL)) {
        ir_error(d, NULL, "out of memory");
        return NULL;
    }
    t->name = c->name;
    c->init = t;
    c->flags |= IR_VALUE_INITIALIZER;
    return ir_graph_add_init(g, c) ? NULL : c;
}

int trinfo_build(IrModel *m, int k, IrValue **w, IrTensor **winit, int *nw, int cap, int *nx,
                 IrDiag *d) {
    if (k < 0 || k >= m->ntraining_info) {
        ir_error(d, NULL, "training_info[%d]: no such entry", k);
        return -1;
    }
    if (trinfo_apply_init(m, d))
        return -1;
    IrGraph *g = m->graph;
    const IrTrainingInfo *ti = &m->training_info[k];
    int cnt = 0;
    for (int i = 0; i < g->ninputs; i++)
        cnt += !g->inputs[i]->init;
    *nx = cnt;
    int n = ti->nupdate_bind;
    if (n == 0) {
        ir_error(d, NULL, "training_info[%d]: update_binding is empty: the training step would "
                 "change nothing", k);
        return -1;
    }
    if (n > cap) {
        ir_error(d, NULL, "training_info[%d]: %d bound initializers (at most %d)", k, n, cap);
        return -1;
    }
    IrValue *nv[n];
    for (int i = 0; i < n; i++) {
        const char *key = ti->update_keys[i], *val = ti->update_values[i];
        IrValue *v = ir_graph_find_value(g, key);
        IrValue *u = ir_graph_find_value(g, val);
        if (!v || !v->init || !(v->flags & IR_VALUE_INITIALIZER)) {
            ir_error(d, NULL, "training_info[%d]: update_binding '%s' <- '%s': '%s' is not an "
                     "initializer of the training graph", k, key, val, key);
            return -1;
        }
        if (!u) {
            ir_error(d, NULL, "training_info[%d]: update_binding '%s' <- '%s': no value '%s'", k,
                     key, val, val);
            return -1;
        }
        w[i] = v;
        winit[i] = v->init;
        nv[i] = u;
    }
    /* The weights become inputs before inference, which would otherwise fold integer arithmetic
     * on them (the iteration count T + 1) into constants. */
    if (train_weights_to_inputs(g, w, n, NULL))
        return -1;
    for (int i = 0; i < n; i++)
        if (ir_type_set_tensor(g->arena, &w[i]->type, winit[i]->dtype, winit[i]->rank,
                               winit[i]->dims)) {
            ir_error(d, NULL, "out of memory");
            return -1;
        }
    if (pass_infer(g, d))
        return -1;
    for (int i = 0; i < n; i++) {
        const char *key = ti->update_keys[i], *val = ti->update_values[i];
        IrValue *u = nv[i];
        if (!same_type(winit[i], &u->type) || winit[i]->dtype == IR_DT_STRING) {
            char a[128], b[128];
            ir_type_to_string(&u->type, a, sizeof a);
            tensor_type_str(winit[i], b, sizeof b);
            ir_error(d, NULL, "training_info[%d]: update_binding '%s' <- '%s': the algorithm "
                     "computes %s for an initializer of type %s", k, key, val, a, b);
            return -1;
        }
    }
    /* the loss: the first algorithm output not bound, if a one-element float tensor */
    IrValue *loss = NULL;
    for (int i = 0; i < ti->algorithm->noutputs && !loss; i++) {
        const char *on = ti->algorithm->outputs[i]->name;
        int bound = 0;
        for (int j = 0; j < n; j++)
            bound |= !strcmp(on, ti->update_values[j]);
        if (bound)
            continue;
        IrValue *v = ir_graph_find_value(g, on);
        int64_t ne = 0;
        if (v && v->type.kind == IR_TYPE_TENSOR && v->type.dtype == IR_DT_FLOAT &&
            ir_type_numel(&v->type, &ne) == 0 && ne == 1)
            loss = v;
        break; /* only the first non-bound output is the loss */
    }
    if (!loss && !(loss = zero_loss(g, d)))
        return -1;
    /* outputs: loss, then the new values (an Identity where a value is also another output, a
     * constant, an input or a weight) */
    for (int i = 0; i < g->noutputs; i++)
        g->outputs[i]->flags &= ~(unsigned)IR_VALUE_OUTPUT;
    g->noutputs = 0;
    if (loss->init || (loss->flags & IR_VALUE_INPUT)) {
        if (!(loss = identity(g, loss, d)))
            return -1;
    }
    if (ir_graph_add_output(g, loss))
        return -1;
    loss->flags |= IR_VALUE_OUTPUT;
    for (int i = 0; i < n; i++) {
        IrValue *u = nv[i];
        int dup = u == loss || u->init != NULL || (u->flags & IR_VALUE_INPUT);
        for (int j = 0; j < i; j++)
            dup |= nv[j] == u;
        for (int j = 0; j < n; j++)
            dup |= u == w[j];
        if (dup && !(u = identity(g, u, d)))
            return -1;
        nv[i] = u;
        u->flags |= IR_VALUE_OUTPUT;
        if (ir_graph_add_output(g, u))
            return -1;
    }
    *nw = n;
    return 0;
}

int trinfo_infer_graph(IrModel *mi, const IrGraph *tg, int nx, IrValue *const *w,
                       IrTensor *const *winit, int nw, IrDiag *d) {
    if (trinfo_apply_init(mi, d))
        return -1;
    IrGraph *g = mi->graph;
    /* data inputs: the training graph's nx, in its order (the algorithm's own are unused here) */
    IrValue *din[nx > 0 ? nx : 1];
    for (int i = 0; i < nx; i++) {
        const IrValue *tv = tg->inputs[i];
        IrValue *v = ir_graph_find_value(g, tv->name);
        if (v && (v->init || !(v->flags & IR_VALUE_INPUT))) {
            ir_error(d, NULL, "training graph input '%s' is a value of the inference graph",
                     tv->name);
            return -1;
        }
        if (!v) {
            v = ir_value_new(g, tv->name);
            if (!v || ir_type_copy(g->arena, &v->type, &tv->type)) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
            v->flags |= IR_VALUE_INPUT;
        }
        din[i] = v;
    }
    int rest = 0;
    for (int i = 0; i < g->ninputs; i++) {
        int listed = 0;
        for (int j = 0; j < nx; j++)
            listed |= g->inputs[i] == din[j];
        if (!listed && !g->inputs[i]->init) {
            ir_error(d, NULL, "inference graph input '%s' is not an input of the training graph",
                     g->inputs[i]->name);
            return -1;
        }
        if (!listed)
            g->inputs[rest++] = g->inputs[i]; /* initializers listed as inputs (IR v3) */
    }
    int nrest = rest;
    IrValue *keep[nrest > 0 ? nrest : 1];
    for (int i = 0; i < nrest; i++)
        keep[i] = g->inputs[i];
    g->ninputs = 0;
    for (int i = 0; i < nx; i++)
        if (ir_graph_add_input(g, din[i])) {
            ir_error(d, NULL, "out of memory");
            return -1;
        }
    for (int i = 0; i < nrest; i++)
        if (ir_graph_add_input(g, keep[i])) {
            ir_error(d, NULL, "out of memory");
            return -1;
        }
    IrValue *wi[nw > 0 ? nw : 1];
    for (int i = 0; i < nw; i++) {
        IrValue *v = ir_graph_find_value(g, w[i]->name);
        if (v && !v->init) {
            ir_error(d, NULL, "training graph: weight '%s' is not an initializer of the inference "
                     "graph", w[i]->name);
            return -1;
        }
        if (!v) { /* only the algorithm has it (optimizer state, iteration count) */
            v = ir_value_new(g, w[i]->name);
            if (!v || ir_type_set_tensor(g->arena, &v->type, winit[i]->dtype, winit[i]->rank,
                                         winit[i]->dims)) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
            v->init = winit[i];
            v->flags |= IR_VALUE_INITIALIZER;
            if (ir_graph_add_init(g, v)) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
        }
        wi[i] = v;
    }
    return train_weights_to_inputs(g, wi, nw, NULL);
}
