/* pass_pipeline.c - the compile pipeline (passes/pass.h): shape specialisation, type and shape
 * inference, lowering to kernels, memory planning. */
#include "passes/pass.h"

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
    for (IrNode *n = g->first; n; n = n->next) {
        /* After an earlier failure, nodes fed by untyped values are skipped silently: one
         * unsupported operator should give one diagnostic, not one per downstream node. */
        int untyped = 0;
        for (int i = 0; i < n->nin; i++)
            if (n->in[i] && n->in[i]->type.kind == IR_TYPE_UNKNOWN)
                untyped = 1;
        if (untyped && errors) {
            continue;
        }
        if (op_infer_node(n, d))
            errors++;
    }
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
    if (pass_specialize_shapes(m, o, d))
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
    if (pass_infer(g, d))
        return -1;
    if (ir_verify(g, d))
        return -1;
    /* optimisation pipeline of o->opt_level (passes/pass_manager.h); re-infers what changed */
    PassCtx cx;
    pm_ctx_init(&cx, o, d);
    if (pm_run_default(m, &cx) < 0) {
        pm_ctx_free(&cx);
        return -1;
    }
    pm_print_times(&cx);
    if (pass_lower(g, d) || pass_plan_model(m, d)) {
        pm_ctx_free(&cx);
        return -1;
    }
    pm_print_stats(m, &cx);
    pm_ctx_free(&cx);
    return 0;
}
