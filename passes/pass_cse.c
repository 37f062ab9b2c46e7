/* pass_cse.c - common subexpression elimination.
 *
 * Two nodes are identical when they have the same op type, domain, opset, the same input
 * values slot by slot (NULL slots included), the same number of output slots (present in the
 * same places) and equal attributes (same names in the same order, same kinds, same values;
 * floats compared by bit pattern, tensors by type and bytes; graph attributes never compare
 * equal). The later of two identical nodes is removed and its outputs' uses read the earlier
 * node's outputs. Ops flagged OPF_RANDOM are never merged. A node with a graph output is kept
 * (its output's name is part of the model's interface) unless the earlier node's matching
 * output is an intermediate that can give up its name.
 *
 * Candidates are found through a hash of (op type, inputs, attribute names) in an
 * open-addressing table, so the pass is linear in the number of nodes.
 */
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"
#include "passes/pass_manager.h"

static uint64_t mix(uint64_t h, uint64_t x) { return (h ^ x) * 1099511628211ull; }

static uint64_t hash_str(uint64_t h, const char *s) {
    for (; s && *s; s++)
        h = mix(h, (unsigned char)*s);
    return mix(h, 0xff);
}

static uint64_t node_hash(const IrNode *n) {
    uint64_t h = 1469598103934665603ull;
    h = hash_str(h, n->op_type);
    h = hash_str(h, n->domain);
    h = mix(h, (uint64_t)n->opset);
    h = mix(h, (uint64_t)n->nin);
    for (int i = 0; i < n->nin; i++)
        h = mix(h, n->in[i] ? (uint64_t)n->in[i]->id + 1 : 0);
    for (int i = 0; i < n->nattr; i++)
        h = hash_str(h, n->attrs[i].name);
    return h;
}

static int tensor_equal(const IrTensor *a, const IrTensor *b) {
    if (!a || !b)
        return a == b;
    if (a->dtype != b->dtype || a->rank != b->rank || a->nbytes != b->nbytes ||
        a->dtype == IR_DT_STRING)
        return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->dims[i] != b->dims[i])
            return 0;
    return a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0;
}

static int attr_equal(const IrAttr *a, const IrAttr *b) {
    if (strcmp(a->name, b->name) != 0 || a->kind != b->kind || a->ref_attr_name || b->ref_attr_name)
        return 0;
    switch (a->kind) {
    case IR_ATTR_FLOAT:
        return memcmp(&a->f, &b->f, sizeof a->f) == 0;
    case IR_ATTR_INT:
        return a->i == b->i;
    case IR_ATTR_STRING:
        return a->s.len == b->s.len && (a->s.len == 0 || memcmp(a->s.data, b->s.data, a->s.len) == 0);
    case IR_ATTR_FLOATS:
        return a->n == b->n && (a->n == 0 || memcmp(a->floats, b->floats, (size_t)a->n * sizeof(float)) == 0);
    case IR_ATTR_INTS:
        return a->n == b->n && (a->n == 0 || memcmp(a->ints, b->ints, (size_t)a->n * sizeof(int64_t)) == 0);
    case IR_ATTR_STRINGS:
        if (a->n != b->n)
            return 0;
        for (int i = 0; i < a->n; i++)
            if (a->strings[i].len != b->strings[i].len ||
                (a->strings[i].len && memcmp(a->strings[i].data, b->strings[i].data, a->strings[i].len)))
                return 0;
        return 1;
    case IR_ATTR_TENSOR:
        return tensor_equal(a->t, b->t);
    case IR_ATTR_TENSORS:
        if (a->n != b->n)
            return 0;
        for (int i = 0; i < a->n; i++)
            if (!tensor_equal(a->tensors[i], b->tensors[i]))
                return 0;
        return 1;
    case IR_ATTR_TYPE_PROTO:
        return a->tp && b->tp && ir_type_equal(a->tp, b->tp);
    default: /* graphs, sparse tensors, type lists: not compared */
        return 0;
    }
}

static int nodes_equal(const IrNode *a, const IrNode *b) {
    if (strcmp(a->op_type, b->op_type) != 0 || strcmp(a->domain, b->domain) != 0 ||
        a->opset != b->opset || a->nin != b->nin || a->nout != b->nout || a->nattr != b->nattr)
        return 0;
    for (int i = 0; i < a->nin; i++)
        if (a->in[i] != b->in[i])
            return 0;
    for (int i = 0; i < a->nout; i++)
        if (!a->out[i] != !b->out[i])
            return 0;
    for (int i = 0; i < a->nattr; i++)
        if (!attr_equal(&a->attrs[i], &b->attrs[i]))
            return 0;
    return 1;
}

/* Merges n into the earlier identical node e. 1 if done. */
static int merge(IrGraph *g, IrNode *e, IrNode *n) {
    for (int i = 0; i < n->nout; i++) {
        IrValue *o = n->out[i];
        if (o && (o->flags & IR_VALUE_OUTPUT)) {
            IrValue *k = e->out[i];
            if (k->flags & (IR_VALUE_OUTPUT | IR_VALUE_INPUT | IR_VALUE_INITIALIZER) || k->init)
                return 0;
        }
    }
    for (int i = 0; i < n->nout; i++) {
        IrValue *o = n->out[i], *k = e->out[i];
        if (!o)
            continue;
        if (o->flags & IR_VALUE_OUTPUT) {
            /* e writes o instead of k (o keeps the graph output's name) */
            n->out[i] = NULL;
            o->producer = NULL;
            ir_value_replace_uses(g, k, o);
            e->out[i] = o;
            o->producer = e;
            o->producer_out = i;
            k->producer = NULL;
        } else {
            ir_value_replace_uses(g, o, k);
        }
    }
    ir_node_remove(g, n);
    return 1;
}

int pass_cse_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    size_t cap = 16;
    while (cap < (size_t)g->nnodes * 2 + 2)
        cap *= 2;
    IrNode **tab = ir_calloc(cap, sizeof *tab);
    uint64_t *hs = ir_calloc(cap, sizeof *hs);
    if (!tab || !hs) {
        free(tab);
        free(hs);
        ir_error(cx->d, NULL, "out of memory in cse");
        return -1;
    }
    int changes = 0;
    IrNode *next;
    for (IrNode *n = g->first; n; n = next) {
        next = n->next;
        const OpInfo *oi = op_info(n->op);
        if (!oi || (oi->flags & OPF_RANDOM) || n->nout == 0)
            continue;
        uint64_t h = node_hash(n);
        size_t j = h & (cap - 1);
        int merged = 0;
        for (; tab[j]; j = (j + 1) & (cap - 1)) {
            if (hs[j] == h && !pm_node_dead(g, tab[j]) && nodes_equal(tab[j], n)) {
                merged = merge(g, tab[j], n);
                break;
            }
        }
        if (merged) {
            pm_count_rule(cx, "cse.merged");
            changes++;
            continue;
        }
        if (!tab[j]) {
            tab[j] = n;
            hs[j] = h;
        }
    }
    free(tab);
    free(hs);
    return changes;
}
