/* ir_verify.c - structural checks of an IrGraph (ir_verify, declared in ir/ir.h).
 *
 * What is checked (each problem is one error in the IrDiag, naming the node when there is one):
 *  - the node list is well formed (links, owner, count) and finite;
 *  - single assignment: a value is produced by at most one node, and a produced value is not
 *    also a graph input, initializer or outer reference; producer links agree with the node;
 *  - defined before use: every node input is a graph input, an initializer, a constant, an
 *    outer reference, or an output of an EARLIER node in list order (so the list order is a
 *    topological order and there are no cycles); graph outputs are defined;
 *  - use counts: value->nuses equals the number of node input slots that read the value
 *    (including direct reads from nodes of subgraphs, which ir_node_new also counts);
 *  - initializers (and other constants) agree with their data: dtype, rank, dims, byte size;
 *  - node arity within the op table's bounds (ops/ops.def); unknown ops skip this check;
 *  - the node's opset is not newer than IR_MAX_OPSET_ONNX (ai.onnx) / IR_MAX_OPSET_ONNX_ML;
 *  - value names are unique among graph inputs, initializers, outer references and node outputs
 *    (the text format of docs/IR_FORMAT.md refers to values by name);
 *  - subgraphs (GRAPH/GRAPHS attributes) are verified recursively, at most
 *    IR_MAX_SUBGRAPH_DEPTH levels deep; their outer references must resolve to a value of an
 *    enclosing graph that is defined before the node that owns the subgraph.
 * Recursion happens only into subgraphs and is capped, so a hostile model cannot use the
 * verifier to exhaust the stack.
 */
#include "ir/ir.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"

/* Verification state of one graph on the current subgraph path. */
typedef struct VFrame {
    const IrGraph *g;        /* graph being verified */
    unsigned char *defined;  /* per value id: 1 once the value is available to later nodes */
    const IrNode **producer; /* per value id: the live node that produced it, or NULL */
    int *uses;               /* per value id: node input slots seen reading it */
    const struct VFrame *up; /* frame of the enclosing graph (NULL at the top) */
    int depth;               /* 0 for the graph ir_verify was called on */
} VFrame;

/* Counts errors whether or not a diagnostic sink was given. */
typedef struct VCtx {
    IrDiag *d;   /* sink (may be NULL) */
    int nerrors; /* errors found */
} VCtx;

#define VERR(c, node, ...)                        \
    do {                                          \
        (c)->nerrors++;                           \
        if ((c)->d)                               \
            ir_error((c)->d, (node), __VA_ARGS__); \
    } while (0)

static const char *vname(const IrValue *v) { return v && v->name ? v->name : ""; }
static const char *gname(const IrGraph *g) { return g && g->name ? g->name : ""; }

/* 1 if v is owned by g (v is g->values[v->id]). */
static int owns(const IrGraph *g, const IrValue *v) {
    return v && g && v->id >= 0 && v->id < g->nvalues && g->values[v->id] == v;
}

/* Frame of the enclosing graph that owns v, or NULL. */
static const VFrame *owner_frame(const VFrame *f, const IrValue *v) {
    for (const VFrame *u = f->up; u; u = u->up)
        if (owns(u->g, v))
            return u;
    return NULL;
}

/* When ir_verify was called on a subgraph directly: 1 if v is owned by one of g's ancestors
 * (found through the parent links; definedness cannot be checked then). */
static int owned_by_parent_chain(const IrGraph *g, const IrValue *v) {
    int hops = 0;
    for (const IrGraph *p = g->parent; p && hops <= IR_MAX_SUBGRAPH_DEPTH; p = p->parent, hops++)
        if (owns(p, v))
            return 1;
    return 0;
}

/* ------------------------------------------------------------------ types and constants */

/* Checks a constant tensor's own consistency; 0 if well formed, -1 after reporting. */
static int check_tensor(VCtx *c, const IrNode *n, const char *what, const IrTensor *t) {
    if (!t) {
        VERR(c, n, "%s has no data", what);
        return -1;
    }
    if (!ir_dtype_valid(t->dtype)) {
        VERR(c, n, "%s has invalid element type %d", what, (int)t->dtype);
        return -1;
    }
    if (t->rank < 0 || t->rank > IR_MAX_RANK || (t->rank > 0 && !t->dims)) {
        VERR(c, n, "%s has invalid rank %d", what, t->rank);
        return -1;
    }
    int64_t numel = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0 || ir_mul_i64(numel, t->dims[i], &numel)) {
            VERR(c, n, "%s has invalid dimension %d (%lld)", what, i, (long long)t->dims[i]);
            return -1;
        }
    }
    if (numel != t->numel) {
        VERR(c, n, "%s has numel %lld but its dims give %lld", what, (long long)t->numel,
             (long long)numel);
        return -1;
    }
    int64_t nbytes;
    if (ir_mul_i64(numel, (int64_t)ir_dtype_size(t->dtype), &nbytes) ||
        (uint64_t)nbytes != (uint64_t)t->nbytes) {
        VERR(c, n, "%s holds %zu bytes, expected %lld for %s x %lld", what, t->nbytes,
             (long long)nbytes, ir_dtype_name(t->dtype), (long long)numel);
        return -1;
    }
    if (nbytes > 0 && !t->data) {
        VERR(c, n, "%s has no data", what);
        return -1;
    }
    return 0;
}

/* A constant value: its type must be the tensor type of its data (for a node output, once its
 * type is known). */
static void check_const_value(VCtx *c, const IrGraph *g, const IrValue *v) {
    char what[300];
    snprintf(what, sizeof what, "constant '%.200s'", vname(v));
    const IrTensor *t = v->init;
    if (check_tensor(c, v->producer, what, t))
        return; /* dims unusable: no comparison with the type */
    if (!(v->flags & IR_VALUE_INITIALIZER) && v->type.kind == IR_TYPE_UNKNOWN)
        return; /* a node output with constant data whose type is not inferred yet */
    char ty[128], dt[128];
    if (ir_type_to_string(&v->type, ty, sizeof ty) < 0)
        snprintf(ty, sizeof ty, "<bad type>");
    int ok = v->type.kind == IR_TYPE_TENSOR && v->type.dtype == t->dtype && v->type.rank == t->rank;
    for (int i = 0; ok && i < t->rank; i++)
        ok = v->type.dims && t->dims && v->type.dims[i].value == t->dims[i];
    if (!ok) {
        int k = snprintf(dt, sizeof dt, "%s[", ir_dtype_name(t->dtype));
        for (int i = 0; i < t->rank && k > 0 && (size_t)k < sizeof dt; i++)
            k += snprintf(dt + k, sizeof dt - (size_t)k, i ? ",%lld" : "%lld", (long long)t->dims[i]);
        if (k > 0 && (size_t)k < sizeof dt)
            snprintf(dt + k, sizeof dt - (size_t)k, "]");
        VERR(c, v->producer, "graph '%s': %s has type %s but its data is %s", gname(g), what, ty,
             dt);
    }
}

/* Value types must be printable and bounded: rank within IR_MAX_RANK, dims present, nested
 * types present. */
static void check_type(VCtx *c, const IrNode *n, const IrValue *v) {
    const IrType *t = &v->type;
    for (int depth = 0; t; depth++) {
        if (depth >= 32) { /* the printer's cap on nested types (ir_print.c) */
            VERR(c, n, "value '%s' has a type nested too deeply", vname(v));
            return;
        }
        if ((t->kind == IR_TYPE_TENSOR || t->kind == IR_TYPE_SPARSE_TENSOR) &&
            (t->rank > IR_MAX_RANK || (t->rank > 0 && !t->dims))) {
            VERR(c, n, "value '%s' has a tensor type with invalid rank %d", vname(v), t->rank);
            return;
        }
        if (t->kind == IR_TYPE_SEQUENCE || t->kind == IR_TYPE_OPTIONAL || t->kind == IR_TYPE_MAP) {
            if (!t->elem) {
                VERR(c, n, "value '%s' has a sequence/optional/map type without element type",
                     vname(v));
                return;
            }
            t = t->elem;
        } else {
            t = NULL;
        }
    }
}

/* ------------------------------------------------------------------ names */

/* One named value of the graph, for the duplicate-name check. */
typedef struct NameRef {
    const char *name;     /* the value's name */
    const IrValue *v;     /* the value */
    const IrNode *node;   /* producing node, or NULL for inputs/initializers/outer values */
    const char *role;     /* "input", "initializer", "outer value", "output of a node" */
    int seq;              /* order of collection (tie-break for a deterministic sort) */
} NameRef;

static int cmp_nameref(const void *pa, const void *pb) {
    const NameRef *a = pa, *b = pb;
    int r = strcmp(a->name, b->name);
    return r ? r : (a->seq > b->seq) - (a->seq < b->seq);
}

/* ------------------------------------------------------------------ graphs */

static void verify_graph(VCtx *c, VFrame *f);

/* Verifies subgraph sg of node n (in frame f). */
static void verify_subgraph(VCtx *c, const VFrame *f, const IrNode *n, const IrAttr *a,
                            const IrGraph *sg) {
    if (!sg) {
        VERR(c, n, "attribute '%s' has no graph", a->name ? a->name : "");
        return;
    }
    if (f->depth + 1 >= IR_MAX_SUBGRAPH_DEPTH) {
        VERR(c, n, "subgraph '%s' of attribute '%s' is nested more than %d levels deep", gname(sg),
             a->name ? a->name : "", IR_MAX_SUBGRAPH_DEPTH);
        return;
    }
    if (sg->parent != f->g)
        VERR(c, n, "subgraph '%s' of attribute '%s' does not name graph '%s' as its parent",
             gname(sg), a->name ? a->name : "", gname(f->g));
    VFrame sub = {0};
    sub.g = sg;
    sub.up = f;
    sub.depth = f->depth + 1;
    verify_graph(c, &sub);
}

static void check_arity(VCtx *c, const IrNode *n) {
    if (n->op < 0)
        return; /* unknown op: no table row to check against */
    const OpInfo *o = op_info(n->op);
    if (!o) {
        VERR(c, n, "op id %d is not in the op table", n->op);
        return;
    }
    int nin = n->nin, nout = n->nout;
    while (nin > 0 && !n->in[nin - 1])
        nin--; /* trailing omitted optional inputs do not count */
    while (nout > 0 && !n->out[nout - 1])
        nout--;
    if (nin < o->min_in || (o->max_in >= 0 && n->nin > o->max_in)) {
        if (o->max_in >= 0)
            VERR(c, n, "has %d inputs, expected %d to %d", n->nin, o->min_in, o->max_in);
        else
            VERR(c, n, "has %d inputs, expected at least %d", n->nin, o->min_in);
    }
    if (nout < o->min_out || n->nout > o->max_out)
        VERR(c, n, "has %d outputs, expected %d to %d", n->nout, o->min_out, o->max_out);
    for (int i = 0; i < o->min_in && i < n->nin; i++)
        if (!n->in[i])
            VERR(c, n, "required input %d is missing", i);
    for (int i = 0; i < o->min_out && i < n->nout; i++)
        if (!n->out[i])
            VERR(c, n, "required output %d is missing", i);
}

/* Checks input slot i of node n, which reads v. */
static void check_input(VCtx *c, VFrame *f, const IrNode *n, int i, const IrValue *v) {
    const IrGraph *g = f->g;
    if (owns(g, v)) {
        f->uses[v->id]++;
        if (!f->defined[v->id]) {
            if (f->producer[v->id] == NULL && v->producer && v->producer->graph == g)
                VERR(c, n, "input %d ('%s') is used before node '%s' defines it", i, vname(v),
                     v->producer->name ? v->producer->name : "");
            else
                VERR(c, n, "input %d ('%s') is not defined before its use", i, vname(v));
        }
        return;
    }
    /* a direct read of a value of an enclosing graph */
    const VFrame *u = owner_frame(f, v);
    if (u) {
        ((VFrame *)u)->uses[v->id]++;
        if (!u->defined[v->id])
            VERR(c, n, "input %d ('%s') reads a value of graph '%s' that is not defined there "
                       "before this subgraph", i, vname(v), gname(u->g));
        return;
    }
    if (!f->up && owned_by_parent_chain(g, v))
        return; /* verifying a subgraph on its own: accept reads of the enclosing graphs */
    VERR(c, n, "input %d ('%s') belongs to neither graph '%s' nor an enclosing graph", i, vname(v),
         gname(g));
}

static int cmp_str_ptr(const void *pa, const void *pb) {
    return strcmp(*(const char *const *)pa, *(const char *const *)pb);
}

/* Attribute names of a node are unique (sorted copy: no quadratic time on hostile nodes). */
static void check_attr_names(VCtx *c, const IrNode *n) {
    if (n->nattr < 2)
        return;
    const char **names = ir_malloc((size_t)n->nattr * sizeof(*names));
    if (!names) {
        VERR(c, n, "out of memory while verifying");
        return;
    }
    for (int i = 0; i < n->nattr; i++)
        names[i] = n->attrs[i].name ? n->attrs[i].name : "";
    qsort(names, (size_t)n->nattr, sizeof(*names), cmp_str_ptr);
    for (int i = 1; i < n->nattr; i++)
        if (strcmp(names[i], names[i - 1]) == 0 && (i < 2 || strcmp(names[i], names[i - 2]) != 0))
            VERR(c, n, "attribute '%s' appears more than once", names[i]);
    free(names);
}

static void verify_node(VCtx *c, VFrame *f, const IrNode *n) {
    const IrGraph *g = f->g;
    if ((n->nin > 0 && !n->in) || n->nin < 0 || (n->nout > 0 && !n->out) || n->nout < 0 ||
        n->nattr < 0 || (n->nattr > 0 && !n->attrs)) {
        VERR(c, n, "has malformed input, output or attribute arrays");
        return;
    }
    check_arity(c, n);
    /* opsets newer than the operator table knows (docs/HARDENING.md): their ops may have new
     * semantics under the same name; other domains are refused as unsupported operators */
    const char *dom = n->domain ? n->domain : "";
    int onnx_dom = dom[0] == '\0' || strcmp(dom, "ai.onnx") == 0;
    int max_opset = onnx_dom ? IR_MAX_OPSET_ONNX
                             : strcmp(dom, "ai.onnx.ml") == 0 ? IR_MAX_OPSET_ONNX_ML : 0;
    if (max_opset && n->opset > max_opset)
        VERR(c, n, "opset %d of domain '%s' is newer than the newest supported (%d)", n->opset,
             onnx_dom ? "ai.onnx" : dom, max_opset);
    for (int i = 0; i < n->nin; i++)
        if (n->in[i])
            check_input(c, f, n, i, n->in[i]);
    check_attr_names(c, n);
    /* attributes: well-formed payloads, subgraphs */
    for (int i = 0; i < n->nattr; i++) {
        const IrAttr *a = &n->attrs[i];
        const char *an = a->name ? a->name : "";
        if (a->ref_attr_name)
            continue;
        char what[300];
        switch (a->kind) {
        case IR_ATTR_GRAPH:
            verify_subgraph(c, f, n, a, a->g);
            break;
        case IR_ATTR_GRAPHS:
            for (int k = 0; k < a->n; k++)
                verify_subgraph(c, f, n, a, a->graphs ? a->graphs[k] : NULL);
            break;
        case IR_ATTR_TENSOR:
        case IR_ATTR_SPARSE_TENSOR:
            snprintf(what, sizeof what, "attribute '%.200s'", an);
            check_tensor(c, n, what, a->t);
            break;
        case IR_ATTR_TENSORS:
        case IR_ATTR_SPARSE_TENSORS:
            for (int k = 0; k < a->n; k++) {
                snprintf(what, sizeof what, "attribute '%.200s' tensor %d", an, k);
                check_tensor(c, n, what, a->tensors ? a->tensors[k] : NULL);
            }
            break;
        default:
            break;
        }
        if (a->n > 0 && a->kind >= IR_ATTR_FLOATS && a->kind <= IR_ATTR_GRAPHS) {
            const void *arr = a->kind == IR_ATTR_FLOATS    ? (const void *)a->floats
                              : a->kind == IR_ATTR_INTS    ? (const void *)a->ints
                              : a->kind == IR_ATTR_STRINGS ? (const void *)a->strings
                              : a->kind == IR_ATTR_TENSORS ? (const void *)a->tensors
                                                           : (const void *)a->graphs;
            if (!arr)
                VERR(c, n, "attribute '%s' has %d entries but no array", an, a->n);
        }
    }
    /* outputs: single assignment and producer links */
    for (int i = 0; i < n->nout; i++) {
        const IrValue *v = n->out[i];
        if (!v)
            continue;
        if (!owns(g, v)) {
            VERR(c, n, "output %d ('%s') is not a value of graph '%s'", i, vname(v), gname(g));
            continue;
        }
        check_type(c, n, v);
        if (f->producer[v->id]) {
            VERR(c, n, "output %d ('%s') is already produced by node '%s'", i, vname(v),
                 f->producer[v->id]->name ? f->producer[v->id]->name : "");
            continue;
        }
        if (v->flags & (IR_VALUE_INPUT | IR_VALUE_INITIALIZER | IR_VALUE_OUTER)) {
            VERR(c, n, "output %d ('%s') is also a graph %s", i, vname(v),
                 (v->flags & IR_VALUE_INPUT) ? "input"
                 : (v->flags & IR_VALUE_INITIALIZER) ? "initializer" : "outer reference");
            continue;
        }
        if (v->producer != n || v->producer_out != i)
            VERR(c, n, "output %d ('%s') has a producer link to %s", i, vname(v),
                 v->producer ? "another node or slot" : "no node");
        f->producer[v->id] = n;
        f->defined[v->id] = 1;
    }
}

/* Collects the graph's named values, sorts them by name and reports every name held by two
 * different values (or listed twice among inputs, initializers or outputs). */
static void check_names(VCtx *c, const VFrame *f) {
    const IrGraph *g = f->g;
    size_t cap = (size_t)g->ninputs + (size_t)g->ninits + (size_t)g->nvalues + 1;
    NameRef *r = ir_malloc(cap * sizeof(*r));
    if (!r) {
        VERR(c, NULL, "graph '%s': out of memory while verifying", gname(g));
        return;
    }
    size_t k = 0;
    for (int i = 0; i < g->ninputs; i++)
        if (g->inputs[i])
            r[k] = (NameRef){vname(g->inputs[i]), g->inputs[i], NULL, "input", (int)k}, k++;
    for (int i = 0; i < g->ninits; i++) {
        const IrValue *v = g->inits[i];
        if (!v || (v->flags & IR_VALUE_INPUT))
            continue; /* IR v3: an initializer that is also listed as an input */
        r[k] = (NameRef){vname(v), v, NULL, "initializer", (int)k}, k++;
    }
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        if (!v)
            continue;
        if (v->flags & IR_VALUE_OUTER)
            r[k] = (NameRef){vname(v), v, NULL, "outer value", (int)k}, k++;
        else if (f->producer[i])
            r[k] = (NameRef){vname(v), v, f->producer[i], "output of a node", (int)k}, k++;
    }
    qsort(r, k, sizeof(*r), cmp_nameref);
    for (size_t i = 1; i < k; i++) {
        if (!r[i].name[0] || strcmp(r[i].name, r[i - 1].name) != 0)
            continue;
        if (r[i].v == r[i - 1].v)
            VERR(c, r[i].node, "graph '%s': value '%s' is listed twice as %s", gname(g), r[i].name,
                 r[i].role);
        else
            VERR(c, r[i].node ? r[i].node : r[i - 1].node,
                 "graph '%s': two different values are named '%s' (%s and %s)", gname(g),
                 r[i].name, r[i - 1].role, r[i].role);
    }
    free(r);
    /* graph outputs listed twice (counted per value id: linear time) */
    int *seen = ir_calloc((size_t)g->nvalues + 1, sizeof(*seen));
    if (!seen) {
        VERR(c, NULL, "graph '%s': out of memory while verifying", gname(g));
        return;
    }
    for (int i = 0; i < g->noutputs; i++) {
        const IrValue *v = g->outputs[i];
        if (owns(g, v) && ++seen[v->id] == 2)
            VERR(c, NULL, "graph '%s': output '%s' is listed more than once", gname(g), vname(v));
    }
    free(seen);
}

static void verify_graph(VCtx *c, VFrame *f) {
    const IrGraph *g = f->g;
    size_t nv = g->nvalues > 0 ? (size_t)g->nvalues : 0;
    if ((nv && !g->values) || (g->ninputs > 0 && !g->inputs) || (g->noutputs > 0 && !g->outputs) ||
        (g->ninits > 0 && !g->inits)) {
        VERR(c, NULL, "graph '%s': malformed value lists", gname(g));
        return;
    }
    f->defined = ir_calloc(nv + 1, 1);
    f->producer = ir_calloc(nv + 1, sizeof(*f->producer));
    f->uses = ir_calloc(nv + 1, sizeof(*f->uses));
    if (!f->defined || !f->producer || !f->uses) {
        VERR(c, NULL, "graph '%s': out of memory while verifying", gname(g));
        goto done;
    }

    /* inputs */
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->inputs[i];
        if (!owns(g, v)) {
            VERR(c, NULL, "graph '%s': input %d ('%s') is not a value of this graph", gname(g), i,
                 vname(v));
            continue;
        }
        if (!(v->flags & IR_VALUE_INPUT))
            VERR(c, NULL, "graph '%s': input '%s' lacks the input flag", gname(g), vname(v));
        check_type(c, NULL, v);
        f->defined[v->id] = 1;
    }
    /* initializers */
    for (int i = 0; i < g->ninits; i++) {
        const IrValue *v = g->inits[i];
        if (!owns(g, v)) {
            VERR(c, NULL, "graph '%s': initializer %d ('%s') is not a value of this graph",
                 gname(g), i, vname(v));
            continue;
        }
        if (!(v->flags & IR_VALUE_INITIALIZER))
            VERR(c, NULL, "graph '%s': initializer '%s' lacks the initializer flag", gname(g),
                 vname(v));
        if (!v->init)
            VERR(c, NULL, "graph '%s': initializer '%s' has no data", gname(g), vname(v));
        f->defined[v->id] = 1;
    }
    /* outer references, constants, and values listed in no list */
    for (size_t i = 0; i < nv; i++) {
        const IrValue *v = g->values[i];
        if (!v) {
            VERR(c, NULL, "graph '%s': value slot %zu is empty", gname(g), i);
            continue;
        }
        if (v->id != (int)i)
            VERR(c, NULL, "graph '%s': value '%s' has id %d but sits at index %zu", gname(g),
                 vname(v), v->id, i);
        if (v->init)
            check_const_value(c, g, v);
        if (v->init && !v->producer)
            f->defined[i] = 1; /* initializers and folded constants */
        if (v->flags & IR_VALUE_OUTER) {
            check_type(c, NULL, v);
            f->defined[i] = 1;
            const IrValue *o = v->outer;
            if (!o)
                VERR(c, NULL, "graph '%s': outer reference '%s' names no value", gname(g), vname(v));
            else if (f->up) {
                const VFrame *u = owner_frame(f, o);
                if (!u)
                    VERR(c, NULL, "graph '%s': outer reference '%s' does not resolve to a value "
                                  "of an enclosing graph", gname(g), vname(v));
                else if (!u->defined[o->id])
                    VERR(c, NULL, "graph '%s': outer reference '%s' reads '%s' of graph '%s', "
                                  "which is not defined before this subgraph", gname(g), vname(v),
                         vname(o), gname(u->g));
            } else if (!owned_by_parent_chain(g, o)) {
                VERR(c, NULL, "graph '%s': outer reference '%s' does not resolve to a value of an "
                              "enclosing graph", gname(g), vname(v));
            }
        }
    }

    /* nodes in list order */
    int64_t limit = (int64_t)g->next_node_id + 1; /* ids are unique: no more live nodes */
    int64_t count = 0;
    const IrNode *prev = NULL;
    for (const IrNode *n = g->first; n; prev = n, n = n->next) {
        if (++count > limit) {
            VERR(c, NULL, "graph '%s': node list does not end (cycle in the list links)", gname(g));
            break;
        }
        if (n->prev != prev)
            VERR(c, n, "node list back link is wrong");
        if (n->graph != g) {
            VERR(c, n, "node is linked into graph '%s' but belongs to another graph", gname(g));
            continue;
        }
        verify_node(c, f, n);
    }
    if (count <= limit && g->last != prev)
        VERR(c, NULL, "graph '%s': last node link is wrong", gname(g));
    if (count <= limit && count != g->nnodes)
        VERR(c, NULL, "graph '%s': %lld nodes linked but nnodes is %d", gname(g), (long long)count,
             g->nnodes);

    /* producer links to nodes that are not (or no longer) in the list */
    for (size_t i = 0; i < nv; i++) {
        const IrValue *v = g->values[i];
        if (v && v->producer && !f->producer[i])
            VERR(c, NULL, "graph '%s': value '%s' names a producer node '%s' that is not in the "
                          "graph", gname(g), vname(v), v->producer->name ? v->producer->name : "");
    }
    /* outputs */
    for (int i = 0; i < g->noutputs; i++) {
        const IrValue *v = g->outputs[i];
        if (!v) {
            VERR(c, NULL, "graph '%s': output %d is missing", gname(g), i);
            continue;
        }
        if (!(v->flags & IR_VALUE_OUTPUT))
            VERR(c, NULL, "graph '%s': output '%s' lacks the output flag", gname(g), vname(v));
        if (owns(g, v)) {
            if (!f->defined[v->id])
                VERR(c, NULL, "graph '%s': output '%s' is not defined", gname(g), vname(v));
        } else if (!owner_frame(f, v) && !(!f->up && owned_by_parent_chain(g, v))) {
            VERR(c, NULL, "graph '%s': output '%s' is not a value of this graph", gname(g),
                 vname(v));
        }
    }
    check_names(c, f);
    /* use counts (direct reads from subgraphs were added while verifying them) */
    for (size_t i = 0; i < nv; i++) {
        const IrValue *v = g->values[i];
        if (v && v->nuses != f->uses[i])
            VERR(c, f->producer[i], "value '%s' has nuses %d but %d node inputs read it", vname(v),
                 v->nuses, f->uses[i]);
    }
done:
    free(f->defined);
    free(f->producer);
    free(f->uses);
    f->defined = NULL;
    f->producer = NULL;
    f->uses = NULL;
}

int ir_verify(const IrGraph *g, IrDiag *d) {
    VCtx c = {d, 0};
    if (!g) {
        VERR(&c, NULL, "no graph to verify");
        return c.nerrors;
    }
    VFrame top = {0};
    top.g = g;
    verify_graph(&c, &top);
    return c.nerrors;
}
