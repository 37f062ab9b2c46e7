/* pass_dce.c - dead code elimination.
 *
 * A node is dead when none of its outputs is read by a node or is a graph output (ONNX
 * operators have no side effects at inference). The list is walked backwards, so removing a
 * node makes its producers' outputs unused in the same walk. Then constants are swept:
 * initializers and folded constants that nothing reads and that are not graph outputs are
 * dropped (their data stays in the arena until the graph is destroyed, but is no longer part
 * of the IR or of the generated library). Graph inputs are never removed, including
 * initializers that are also graph inputs (overridable defaults, IR version 3).
 */
#include "passes/pass_manager.h"

static int value_live(const IrValue *v) {
    return v && (v->nuses > 0 || (v->flags & IR_VALUE_OUTPUT));
}

int pass_dce_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    IrNode *prev;
    for (IrNode *n = g->last; n; n = prev) {
        prev = n->prev;
        int live = 0;
        for (int i = 0; i < n->nout && !live; i++)
            live = value_live(n->out[i]);
        if (!live) {
            ir_node_remove(g, n);
            pm_count_rule(cx, "dce.node");
            changes++;
        }
    }
    /* initializers */
    int k = 0;
    for (int i = 0; i < g->ninits; i++) {
        IrValue *v = g->inits[i];
        if (!value_live(v) && !(v->flags & IR_VALUE_INPUT)) {
            v->flags &= ~(unsigned)IR_VALUE_INITIALIZER;
            v->init = NULL;
            pm_count_rule(cx, "dce.initializer");
            changes++;
            continue;
        }
        g->inits[k++] = v;
    }
    g->ninits = k;
    /* other constants (folded values, fusion results) */
    for (int i = 0; i < g->nvalues; i++) {
        IrValue *v = g->values[i];
        if (v && v->init && !v->producer && !value_live(v) &&
            !(v->flags & (IR_VALUE_INPUT | IR_VALUE_INITIALIZER | IR_VALUE_OUTER))) {
            v->init = NULL;
            pm_count_rule(cx, "dce.constant");
            changes++;
        }
    }
    return changes;
}
