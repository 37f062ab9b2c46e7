/* pass_pipeline.c - the compile pipeline (passes/pass.h): shape specialisation, type and shape
 * inference, lowering to kernels, memory planning. */
#include "passes/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "passes/pass_manager.h"

void onnxc_options_default(OnnxcCompileOptions *o) {
    memset(o, 0, sizeof(*o));
    o->opt_level = 2;
    o->use_bitcode = 1;
}

/* Applies one override to value v's type; returns 1 if it changed anything. */
static int apply_symbol(IrGraph *g, IrType *t, const OnnxcShapeOverride *s) {
    (void)g;
    int hit = 0;
    if (t->kind != IR_TYPE_TENSOR || t->rank <= 0)
        return 0;
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i].value < 0 && t->dims[i].sym && strcmp(t->dims[i].sym, s->name) == 0) {
            t->dims[i].value = s->dims[0];
            t->dims[i].sym = NULL;
            hit = 1;
        }
    return hit;
}

int pass_specialize_shapes(IrModel *m, const OnnxcCompileOptions *o, IrDiag *d) {
    IrGraph *g = m->graph;
    int errors = 0;
    for (int k = 0; o && k < o->nshapes; k++) {
        const OnnxcShapeOverride *s = &o->shapes[k];
        int hit = 0;
        if (s->rank >= 0) {
            IrValue *v = ir_graph_find_value(g, s->name);
            if (!v || !(v->flags & IR_VALUE_INPUT)) {
                ir_error(d, NULL, "--shape %s: the model has no input of that name", s->name);
                errors++;
                continue;
            }
            if (v->type.kind != IR_TYPE_TENSOR || (v->type.rank >= 0 && v->type.rank != s->rank)) {
                ir_error(d, NULL, "--shape %s: input has rank %d, %d dims given", s->name,
                         v->type.rank, s->rank);
                errors++;
                continue;
            }
            for (int i = 0; i < s->rank; i++)
                if (s->dims[i] < 0 || (v->type.rank >= 0 && v->type.dims[i].value >= 0 &&
                                       v->type.dims[i].value != s->dims[i])) {
                    ir_error(d, NULL, "--shape %s: dim %d cannot be %lld", s->name, i,
                             (long long)s->dims[i]);
                    errors++;
                    goto next;
                }
            if (ir_type_set_tensor(g->arena, &v->type, v->type.dtype, s->rank, s->dims)) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
            hit = 1;
        } else {
            if (s->dims[0] < 0) {
                ir_error(d, NULL, "--shape %s: negative size", s->name);
                errors++;
                continue;
            }
            for (int i = 0; i < g->nvalues; i++)
                hit |= apply_symbol(g, &g->values[i]->type, s);
        }
        if (!hit) {
            ir_error(d, NULL, "--shape %s: no input or symbolic dimension of that name", s->name);
            errors++;
        }
    next:;
    }
    return errors ? -1 : 0;
}

int pass_infer(IrGraph *g, IrDiag *d) {
    int errors = 0;
    for (IrNode *n = g->first, *next; n; n = next) {
        next = n->next;
        /* After an earlier failure, nodes fed by untyped values are skipped silently: one
         * unsupported operator should give one diagnostic, not one per downstream node. */
        int untyped = 0;
        for (int i = 0; i < n->nin; i++)
            if (n->in[i] && n->in[i]->type.kind == IR_TYPE_UNKNOWN)
                untyped = 1;
        if (untyped && errors) {
            continue;
        }
        /* Control flow and sequences known at compile time become tensor nodes, which are
         * inferred next (ops/op_ctrl.c). */
        int ex = untyped ? 0 : op_expand_node(n, &next, d);
        if (ex < 0)
            errors++;
        if (ex != 0)
            continue;
        if (op_infer_node(n, d))
            errors++;
    }
    if (!errors)
        op_remove_dead_nontensor(g);
    for (int i = 0; i < g->noutputs && !errors; i++)
        if (g->outputs[i]->type.kind == IR_TYPE_UNKNOWN) {
            ir_error(d, NULL, "graph output '%s' has no inferred type", g->outputs[i]->name);
            errors++;
        }
    return errors;
}

/* 1 if every present output of n is a constant (nothing to compute at run time). */
static int all_outputs_constant(const IrNode *n) {
    int any = 0;
    for (int i = 0; i < n->nout; i++) {
        if (!n->out[i])
            continue;
        if (!n->out[i]->init)
            return 0;
        any = 1;
    }
    return any;
}

int pass_lower(IrGraph *g, IrDiag *d) {
    int errors = 0;
    for (IrNode *n = g->first; n; n = n->next) {
        n->kernel = NULL;
        if (all_outputs_constant(n))
            continue;
        if (op_lower_node(n, d))
            errors++;
    }
    return errors;
}

/* ------------------------------------------------------------------ limits */

/* Checks one type against the limits (ir.h, IrLimits); the element type of a sequence or
 * optional too (type nesting is bounded by the loader and the parser). Reports on the value's
 * producer node when it has one. Returns the number of errors (0 or 1). */
static int check_type_limits(const IrValue *v, const IrType *t, const IrLimits *L, IrDiag *d,
                             int depth) {
    if (!t || depth > IR_MAX_SUBGRAPH_DEPTH)
        return 0;
    if (t->kind == IR_TYPE_SEQUENCE || t->kind == IR_TYPE_OPTIONAL)
        return check_type_limits(v, t->elem, L, d, depth + 1);
    if (t->kind != IR_TYPE_TENSOR || t->rank < 0 || (t->rank > 0 && !t->dims))
        return 0;
    const char *what = (v->flags & IR_VALUE_INPUT) ? "graph input" :
                       (v->flags & IR_VALUE_OUTPUT) ? "graph output" :
                       v->init ? "constant" : "value";
    const IrNode *at = (v->flags & IR_VALUE_INPUT) ? NULL : v->producer;
    if (t->rank > IR_MAX_RANK) {
        ir_error(d, at, "%s '%s' has rank %d, above the limit of %d", what, v->name, t->rank,
                 IR_MAX_RANK);
        return 1;
    }
    int64_t numel = 1, nbytes = 0;
    int overflow = 0;
    for (int i = 0; i < t->rank; i++) {
        int64_t dv = t->dims[i].value;
        if (dv < 0)
            return 0; /* symbolic or unknown: sized at run time (checked there) */
        if (dv > L->max_dim) {
            ir_error(d, at, "%s '%s': dimension %d is %lld, above the limit of %lld "
                     "(--max-dim)", what, v->name, i, (long long)dv, (long long)L->max_dim);
            return 1;
        }
        overflow |= ir_mul_i64(numel, dv, &numel) != 0;
    }
    size_t es = ir_dtype_size(t->dtype);
    if (!overflow && es)
        overflow = ir_mul_i64(numel, (int64_t)es, &nbytes) != 0;
    if (overflow || nbytes > L->max_tensor_bytes) {
        char shape[160];
        int k = 0;
        for (int i = 0; i < t->rank && k < (int)sizeof shape - 24; i++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%lld", i ? "," : "",
                          (long long)t->dims[i].value);
        if (overflow)
            ir_error(d, at, "%s '%s' %s[%s]: its size overflows 64 bits", what, v->name,
                     ir_dtype_name(t->dtype), shape);
        else
            ir_error(d, at, "%s '%s' %s[%s] has %lld bytes, above the limit of %lld "
                     "(--max-tensor-bytes)", what, v->name, ir_dtype_name(t->dtype), shape,
                     (long long)nbytes, (long long)L->max_tensor_bytes);
        return 1;
    }
    return 0;
}

/* Refuses a graph (and its subgraphs) with more nodes than the limit or a value whose static
 * size exceeds the limits: every value, including graph inputs and outputs, which the planner
 * does not size. Iterative over values and nodes; recursion only into subgraphs, bounded by
 * IR_MAX_SUBGRAPH_DEPTH. Returns the number of errors. */
static int check_limits(IrGraph *g, const IrLimits *L, IrDiag *d, int depth) {
    if (depth > IR_MAX_SUBGRAPH_DEPTH) {
        ir_error(d, NULL, "subgraphs nested deeper than %d levels", IR_MAX_SUBGRAPH_DEPTH);
        return 1;
    }
    if (g->nnodes > L->max_nodes) {
        ir_error(d, NULL, "graph '%s' has %d nodes, above the limit of %lld (--max-nodes)",
                 g->name ? g->name : "", g->nnodes, (long long)L->max_nodes);
        return 1;
    }
    int errors = 0;
    for (int i = 0; i < g->nvalues && errors < 20; i++) {
        const IrValue *v = g->values[i];
        if (!v || (v->flags & IR_VALUE_OUTER))
            continue;
        if (v->init) {
            /* constant data: its real size (the type may not be filled in yet) */
            if ((int64_t)v->init->nbytes > L->max_tensor_bytes) {
                ir_error(d, v->producer, "constant '%s' has %zu bytes, above the limit of %lld "
                         "(--max-tensor-bytes)", v->name, v->init->nbytes,
                         (long long)L->max_tensor_bytes);
                errors++;
            }
            continue;
        }
        if (v->nuses == 0 && !v->producer && !(v->flags & (IR_VALUE_INPUT | IR_VALUE_OUTPUT)))
            continue; /* dead value left behind by a pass */
        errors += check_type_limits(v, &v->type, L, d, 0);
    }
    for (IrNode *n = g->first; n && !errors; n = n->next)
        for (int a = 0; a < n->nattr; a++) {
            const IrAttr *at = &n->attrs[a];
            if (at->kind == IR_ATTR_GRAPH && at->g)
                errors += check_limits(at->g, L, d, depth + 1);
            for (int k = 0; at->kind == IR_ATTR_GRAPHS && k < at->n; k++)
                if (at->graphs && at->graphs[k])
                    errors += check_limits(at->graphs[k], L, d, depth + 1);
        }
    return errors;
}

int onnxc_check_limits(IrModel *m, IrDiag *d) {
    if (!m || !m->graph)
        return 0;
    IrLimits L = ir_limits();
    return check_limits(m->graph, &L, d, 0) ? -1 : 0;
}

/* Plans m's main graph and records the workspace sizes in m. */
static int pass_plan_model(IrModel *m, IrDiag *d) {
    int64_t ws = 0, naive = 0;
    if (pass_plan(m->graph, &ws, &naive, d))
        return -1;
    m->workspace_bytes = ws;
    m->naive_bytes = naive;
    return 0;
}

int onnxc_prepare(IrModel *m, const OnnxcCompileOptions *o, IrDiag *d) {
    if (!m || !m->graph) {
        ir_error(d, NULL, "no model");
        return -1;
    }
    IrGraph *g = m->graph;
    if (pass_specialize_shapes(m, o, d) || pass_seq_inputs(m, o, d))
        return -1;
    for (int i = 0; i < g->ninputs; i++) {
        IrValue *v = g->inputs[i];
        if (v->init)
            continue;
        if (v->type.kind != IR_TYPE_TENSOR) {
            ir_error(d, NULL, "input '%s': only tensor inputs are supported yet", v->name);
            return -1;
        }
    }
    if (onnxc_check_limits(m, d)) /* before inference: inputs and constants as loaded */
        return -1;
    if (pass_infer(g, d) || pass_seq_outputs(m, d))
        return -1;
    if (ir_verify(g, d) || onnxc_check_limits(m, d))
        return -1;
    /* optimisation pipeline of o->opt_level (passes/pass_manager.h); re-infers what changed */
    PassCtx cx;
    pm_ctx_init(&cx, o, d);
    if (pm_run_default(m, &cx) < 0) {
        pm_ctx_free(&cx);
        return -1;
    }
    pm_print_times(&cx);
    if (onnxc_check_limits(m, d) || pass_lower(g, d) || pass_plan_model(m, d)) {
        pm_ctx_free(&cx);
        return -1;
    }
    pm_print_stats(m, &cx);
    pm_ctx_free(&cx);
    return 0;
}
