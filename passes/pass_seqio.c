/* pass_seqio.c - sequence and optional values at the model boundary (docs/CONTROL_FLOW.md).
 *
 * The compiled library's interface is made of tensors. A sequence or optional graph input whose
 * content is given at compile time (OnnxcSeqInput: how many tensors, of which types and shapes,
 * or an empty optional) becomes that many tensor inputs NAME.0, NAME.1, ..., and a
 * SequenceConstruct / SequenceEmpty / Optional node at the top of the graph rebuilds the value,
 * which the seq family then resolves at compile time. After inference, a sequence or optional
 * graph output whose content is known at compile time becomes the outputs NAME.0, NAME.1, ...
 * (one Identity each; an empty optional or sequence gives none).
 */
#include "passes/pass.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op_ctrl.h"

/* Replaces the graph-interface entry `v` of list (inputs or outputs) by vs[0..n). */
static int splice(IrGraph *g, int outputs, IrValue *v, IrValue **vs, int n) {
    int cnt = outputs ? g->noutputs : g->ninputs;
    IrValue **old = outputs ? g->outputs : g->inputs;
    IrValue **copy = malloc(sizeof *copy * (size_t)(cnt + 1));
    if (!copy)
        return -1;
    memcpy(copy, old, sizeof *copy * (size_t)cnt);
    if (outputs)
        g->noutputs = 0;
    else
        g->ninputs = 0;
    int rc = 0;
    for (int i = 0; i < cnt && rc == 0; i++) {
        if (copy[i] != v) {
            rc = outputs ? ir_graph_add_output(g, copy[i]) : ir_graph_add_input(g, copy[i]);
            continue;
        }
        for (int k = 0; k < n && rc == 0; k++)
            rc = outputs ? ir_graph_add_output(g, vs[k]) : ir_graph_add_input(g, vs[k]);
    }
    free(copy);
    v->flags &= outputs ? ~(unsigned)IR_VALUE_OUTPUT : ~(unsigned)IR_VALUE_INPUT;
    return rc;
}

static IrValue *named(IrGraph *g, const char *base, int i) {
    char nm[512];
    snprintf(nm, sizeof nm, "%.480s.%d", base, i);
    return ir_value_new(g, ir_graph_unique_name(g, nm));
}

/* Builds a SequenceConstruct (or SequenceEmpty of dt) of xs producing out, before `before`. */
static IrNode *seq_node(IrGraph *g, IrNode *before, IrValue **xs, int n, IrDType dt, IrValue *out) {
    if (n > 0)
        return ir_node_new(g, before, out->name, "", "SequenceConstruct", ctrl_opset(g, 11), n, xs, 1, &out);
    IrNode *s = ir_node_new(g, before, out->name, "", "SequenceEmpty", ctrl_opset(g, 11), 0, NULL, 1, &out);
    IrAttr *a = s ? ir_node_add_attr(s, "dtype", IR_ATTR_INT) : NULL;
    if (!a)
        return NULL;
    a->i = dt;
    return s;
}

int pass_seq_inputs(IrModel *m, const OnnxcCompileOptions *o, IrDiag *d) {
    IrGraph *g = m->graph;
    for (int k = 0; o && k < o->nseq_inputs; k++) {
        const OnnxcSeqInput *s = &o->seq_inputs[k];
        IrValue *v = s->name ? ir_graph_find_value(g, s->name) : NULL;
        if (!v || !(v->flags & IR_VALUE_INPUT) ||
            (v->type.kind != IR_TYPE_SEQUENCE && v->type.kind != IR_TYPE_OPTIONAL)) {
            ir_error(d, NULL, "sequence input '%s': the model has no sequence or optional input "
                     "of that name", s->name ? s->name : "");
            return -1;
        }
        if (s->count < 0 || s->count > CTRL_MAX_UNROLL || (s->count && (!s->dtypes || !s->shapes))) {
            ir_error(d, NULL, "sequence input '%s': bad element count %d", v->name, s->count);
            return -1;
        }
        const IrType *inner = v->type.kind == IR_TYPE_OPTIONAL ? v->type.elem : &v->type;
        int is_seq = inner && inner->kind == IR_TYPE_SEQUENCE;
        if (v->type.kind == IR_TYPE_OPTIONAL && s->present && !is_seq && s->count != 1) {
            ir_error(d, NULL, "optional input '%s' holds one tensor, %d given", v->name, s->count);
            return -1;
        }
        IrValue **xs = calloc((size_t)s->count + 1, sizeof *xs);
        if (!xs) {
            ir_error(d, NULL, "out of memory");
            return -1;
        }
        int bad = 0;
        for (int i = 0; i < s->count && !bad; i++) {
            const OnnxcShapeOverride *sh = &s->shapes[i];
            xs[i] = named(g, v->name, i);
            bad = !xs[i] || sh->rank < 0 || sh->rank > IR_MAX_RANK || !ir_dtype_valid(s->dtypes[i]) ||
                  ir_type_set_tensor(g->arena, &xs[i]->type, (IrDType)s->dtypes[i], sh->rank, sh->dims);
        }
        if (!bad)
            bad = splice(g, 0, v, xs, s->count) != 0;
        /* Rebuild v at the top of the graph. */
        IrNode *top = g->first;
        if (!bad && v->type.kind == IR_TYPE_SEQUENCE) {
            IrDType dt = v->type.elem ? v->type.elem->dtype : IR_DT_FLOAT;
            bad = !seq_node(g, top, xs, s->count, dt ? dt : IR_DT_FLOAT, v);
        } else if (!bad) {
            IrValue *x = NULL;
            if (s->present && is_seq) {
                x = ir_value_new(g, ir_graph_unique_name(g, v->name));
                IrDType dt = inner->elem ? inner->elem->dtype : IR_DT_FLOAT;
                bad = !x || !seq_node(g, top, xs, s->count, dt ? dt : IR_DT_FLOAT, x);
            } else if (s->present) {
                x = xs[0];
            }
            IrNode *on = bad ? NULL : ir_node_new(g, top, v->name, "", "Optional", ctrl_opset(g, 15), x ? 1 : 0, &x, 1, &v);
            if (!bad && on && !x) {
                IrAttr *a = ir_node_add_attr(on, "type", IR_ATTR_TYPE_PROTO);
                if (a && (a->tp = ir_arena_alloc(g->arena, sizeof(IrType))))
                    bad = ir_type_copy(g->arena, a->tp, inner) != 0;
                else
                    bad = 1;
            }
            bad |= !on;
        }
        free(xs);
        if (bad) {
            ir_error(d, NULL, "sequence input '%s': bad element type or shape, or out of memory",
                     v->name);
            return -1;
        }
    }
    return 0;
}

int pass_seq_outputs(IrModel *m, IrDiag *d) {
    IrGraph *g = m->graph;
    int changed = 0;
    for (int i = 0; i < g->noutputs; i++) {
        IrValue *v = g->outputs[i];
        if (v->type.kind != IR_TYPE_SEQUENCE && v->type.kind != IR_TYPE_OPTIONAL)
            continue;
        IrValue **el = NULL, *e = v, *one[1];
        int n = 1;
        if (v->type.kind == IR_TYPE_OPTIONAL) {
            n = seq_static_optional(v, &e);
            if (n == 1 && e->type.kind == IR_TYPE_OPTIONAL)
                n = -1;
            if (n == 1 && e->type.kind != IR_TYPE_SEQUENCE) {
                one[0] = e;
                el = one;
            }
        }
        if (n == 1 && !el)
            n = seq_static_elems(g, e, &el);
        if (n < 0) {
            ir_error(d, NULL, "output '%s': the %s is not known at compile time (run-time "
                     "sequences are not supported yet)", v->name,
                     v->type.kind == IR_TYPE_SEQUENCE ? "sequence" : "optional");
            return -1;
        }
        IrValue **outs = calloc((size_t)n + 1, sizeof *outs);
        if (!outs) {
            ir_error(d, NULL, "out of memory");
            return -1;
        }
        int bad = 0;
        for (int k = 0; k < n && !bad; k++) {
            IrValue *x = el[k];
            outs[k] = named(g, v->name, k);
            IrNode *id = outs[k] ? ir_node_new(g, NULL, outs[k]->name, "", "Identity", ctrl_opset(g, 14), 1, &x, 1,
                                               &outs[k])
                                 : NULL;
            bad = !id || op_infer_node(id, d) != 0;
        }
        if (!bad)
            bad = splice(g, 1, v, outs, n) != 0;
        free(outs);
        if (bad) {
            if (!d->nerrors)
                ir_error(d, NULL, "out of memory");
            return -1;
        }
        i += n - 1;
        changed = 1;
    }
    if (changed)
        op_remove_dead_nontensor(g);
    return 0;
}
