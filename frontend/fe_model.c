/* fe_model.c - onnx.ModelProto into an IrModel.
 *
 * Follows the ONNX IR specification (docs/IR.md of github.com/onnx/onnx): ModelProto
 * (ir_version >= 3, opset_import, metadata_props, functions), GraphProto (input, output,
 * initializer, sparse_initializer, value_info, node in file order), NodeProto, AttributeProto
 * (all 14 kinds, ref_attr_name), TypeProto (tensor, sequence, map, optional, sparse_tensor) and
 * the scoping rule for subgraphs: a name that a subgraph uses but does not define refers to
 * the nearest enclosing graph's value of that name (IR_VALUE_OUTER values, one per graph level,
 * each ->outer pointing at the value of the same name in the immediately enclosing graph).
 *
 * Errors are recorded in the IrDiag and loading continues where it safely can, so that one run
 * reports several problems; the model is returned only when no error was found.
 */
#include "frontend/fe_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Marker in IrValue.user for a value used before any definition was seen (cleared at the end
 * of the graph; any left is "used but never defined"). */
static char fe_pending_mark;

/* What the graph loader needs to know. */
typedef struct FeLoad {
    IrModel *m;                         /* model being built */
    IrDiag *d;                          /* diagnostics */
    const char *dir;                    /* model folder for external data (NULL: none) */
    int allow_external;                 /* FeOptions.allow_external_data */
    const Onnx__FunctionProto *fn;      /* function being loaded (its opset_import), or NULL */
    int combine;                        /* FeOptions.training_algorithm */
    int keep_tensors;                   /* do not release decoded tensor bytes (loaded twice) */
} FeLoad;

static const char *fe_str(const char *s) { return s ? s : ""; }

static int fe_is_default_domain(const char *d) {
    return !d || !d[0] || strcmp(d, "ai.onnx") == 0;
}

/* ---------------------------------------------------------------- types */

/* TensorShapeProto -> dims of t (rank -1 when shape is absent). */
static int fe_shape(IrArena *a, const Onnx__TensorShapeProto *sp, IrType *t, IrDiag *d,
                    const char *what) {
    if (!sp) {
        t->rank = -1;
        return 0;
    }
    if (sp->n_dim > IR_MAX_RANK) {
        ir_error(d, NULL, "%s: rank %zu exceeds the limit of %d", what, sp->n_dim, IR_MAX_RANK);
        return -1;
    }
    t->rank = (int)sp->n_dim;
    t->dims = NULL;
    if (sp->n_dim == 0)
        return 0;
    t->dims = ir_arena_alloc(a, sp->n_dim * sizeof(IrDim));
    if (!t->dims) {
        ir_error(d, NULL, "%s: out of memory", what);
        return -1;
    }
    for (size_t i = 0; i < sp->n_dim; i++) {
        const Onnx__TensorShapeProto__Dimension *dm = sp->dim[i];
        t->dims[i].value = -1;
        t->dims[i].sym = NULL;
        if (!dm)
            continue;
        if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            if (dm->dim_value >= 0)
                t->dims[i].value = dm->dim_value; /* negative: treated as unknown */
        } else if (dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM &&
                   dm->dim_param && dm->dim_param[0]) {
            t->dims[i].sym = ir_arena_strdup(a, dm->dim_param);
        }
    }
    return 0;
}

/* TypeProto -> IrType (allocations in arena a). A missing TypeProto gives IR_TYPE_UNKNOWN. */
static int fe_type(IrArena *a, const Onnx__TypeProto *tp, IrType *t, IrDiag *d, const char *what,
                   int depth) {
    memset(t, 0, sizeof *t);
    t->rank = -1;
    if (!tp)
        return 0;
    if (depth > IR_MAX_SUBGRAPH_DEPTH) {
        ir_error(d, NULL, "%s: type nesting is deeper than %d", what, IR_MAX_SUBGRAPH_DEPTH);
        return -1;
    }
    IrType *elem;
    switch (tp->value_case) {
    case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE:
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: {
        int sparse = tp->value_case == ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE;
        int et = sparse ? tp->sparse_tensor_type->elem_type : tp->tensor_type->elem_type;
        const Onnx__TensorShapeProto *sh =
            sparse ? tp->sparse_tensor_type->shape : tp->tensor_type->shape;
        if (et != 0 && !ir_dtype_valid(et)) {
            ir_error(d, NULL, "%s: unknown element type %d", what, et);
            return -1;
        }
        t->kind = sparse ? IR_TYPE_SPARSE_TENSOR : IR_TYPE_TENSOR;
        t->dtype = (IrDType)et;
        return fe_shape(a, sh, t, d, what);
    }
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE:
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: {
        int seq = tp->value_case == ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
        const Onnx__TypeProto *et = seq ? tp->sequence_type->elem_type : tp->optional_type->elem_type;
        t->kind = seq ? IR_TYPE_SEQUENCE : IR_TYPE_OPTIONAL;
        elem = ir_arena_alloc(a, sizeof *elem);
        if (!elem) {
            ir_error(d, NULL, "%s: out of memory", what);
            return -1;
        }
        t->elem = elem;
        return fe_type(a, et, elem, d, what, depth + 1);
    }
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: {
        int kt = tp->map_type->key_type;
        if (kt != 0 && !ir_dtype_valid(kt)) {
            ir_error(d, NULL, "%s: unknown map key type %d", what, kt);
            return -1;
        }
        t->kind = IR_TYPE_MAP;
        t->dtype = (IrDType)kt;
        elem = ir_arena_alloc(a, sizeof *elem);
        if (!elem) {
            ir_error(d, NULL, "%s: out of memory", what);
            return -1;
        }
        t->elem = elem;
        return fe_type(a, tp->map_type->value_type, elem, d, what, depth + 1);
    }
    default:
        return 0; /* no type given (or a kind newer than the schema): unknown */
    }
}

/* ---------------------------------------------------------------- names and scopes */

/* Value `name` as seen from graph g's enclosing graphs (g is the parent of the graph that
 * asks). Creates IR_VALUE_OUTER values on the way down so that every level lists what it
 * captures. NULL if no enclosing graph defines the name. */
static IrValue *fe_resolve_outer(IrGraph *g, const char *name) {
    if (!g)
        return NULL;
    IrValue *v = ir_graph_find_value(g, name);
    if (v)
        return v->user == &fe_pending_mark ? NULL : v;
    IrValue *pv = fe_resolve_outer(g->parent, name);
    if (!pv)
        return NULL;
    IrValue *o = ir_value_new(g, name);
    if (!o)
        return NULL;
    o->flags |= IR_VALUE_OUTER;
    o->outer = pv;
    return o;
}

/* The value a node input `name` reads in g: local, captured from an enclosing graph, or a
 * placeholder marked pending (defined later, or never: reported at the end of the graph). */
static IrValue *fe_use(IrGraph *g, const char *name) {
    IrValue *v = ir_graph_find_value(g, name);
    if (v)
        return v;
    IrValue *pv = fe_resolve_outer(g->parent, name);
    if (pv) {
        v = ir_value_new(g, name);
        if (v) {
            v->flags |= IR_VALUE_OUTER;
            v->outer = pv;
        }
        return v;
    }
    v = ir_value_new(g, name);
    if (v)
        v->user = &fe_pending_mark;
    return v;
}

/* A new definition of `name` in g (node output). A pending placeholder becomes the definition;
 * a second definition is an error (the value is still created so that loading can go on). */
static IrValue *fe_define(FeLoad *L, IrGraph *g, const char *name, const char *node_name,
                          const char *op_type) {
    IrValue *v = ir_graph_find_value(g, name);
    if (v && v->user == &fe_pending_mark) {
        v->user = NULL;
        return v;
    }
    if (v)
        ir_error(L->d, NULL, "graph '%s': node '%s' (%s): value '%s' is assigned more than once",
                 fe_str(g->name), node_name, op_type, name);
    return ir_value_new(g, name);
}

/* ---------------------------------------------------------------- attributes */

static int fe_load_graph(FeLoad *L, IrGraph *g, const Onnx__GraphProto *gp, int depth);

static int fe_copy_string(IrArena *a, IrString *dst, const ProtobufCBinaryData *src) {
    char *s = ir_arena_alloc(a, src->len + 1);
    if (!s)
        return -1;
    if (src->len)
        memcpy(s, src->data, src->len);
    dst->data = s;
    dst->len = src->len;
    return 0;
}

/* The attribute's kind; old models without `type` get it from the field that is set. */
static int fe_attr_kind(const Onnx__AttributeProto *ap) {
    if (ap->has_type)
        return (int)ap->type;
    if (ap->has_f) return IR_ATTR_FLOAT;
    if (ap->has_i) return IR_ATTR_INT;
    if (ap->has_s) return IR_ATTR_STRING;
    if (ap->t) return IR_ATTR_TENSOR;
    if (ap->g) return IR_ATTR_GRAPH;
    if (ap->sparse_tensor) return IR_ATTR_SPARSE_TENSOR;
    if (ap->tp) return IR_ATTR_TYPE_PROTO;
    if (ap->n_floats) return IR_ATTR_FLOATS;
    if (ap->n_ints) return IR_ATTR_INTS;
    if (ap->n_strings) return IR_ATTR_STRINGS;
    if (ap->n_tensors) return IR_ATTR_TENSORS;
    if (ap->n_graphs) return IR_ATTR_GRAPHS;
    if (ap->n_sparse_tensors) return IR_ATTR_SPARSE_TENSORS;
    if (ap->n_type_protos) return IR_ATTR_TYPE_PROTOS;
    return IR_ATTR_UNDEFINED;
}

/* Loads one subgraph attribute value into a new graph owned by the node's attribute. */
static IrGraph *fe_subgraph(FeLoad *L, IrNode *n, const char *aname, const Onnx__GraphProto *gp,
                            int depth) {
    if (depth + 1 > IR_MAX_SUBGRAPH_DEPTH) {
        ir_error(L->d, n, "attribute '%s': subgraphs nested deeper than %d", aname,
                 IR_MAX_SUBGRAPH_DEPTH);
        return NULL;
    }
    IrGraph *sub = ir_graph_create(L->m, n->graph, gp->name && gp->name[0] ? gp->name : aname);
    if (!sub)
        ir_error(L->d, n, "attribute '%s': out of memory", aname);
    return sub;
}

/* Adds attribute ap to node n (graph g at nesting depth `depth`). */
static int fe_attr(FeLoad *L, IrNode *n, const Onnx__AttributeProto *ap, int depth) {
    IrArena *a = n->graph->arena;
    IrDiag *d = L->d;
    const char *aname = fe_str(ap->name);
    if (!aname[0]) {
        ir_error(d, n, "attribute without a name");
        return -1;
    }
    int kind = fe_attr_kind(ap);
    if (kind <= IR_ATTR_UNDEFINED || kind > IR_ATTR_TYPE_PROTOS) {
        if (ap->ref_attr_name && ap->ref_attr_name[0])
            kind = IR_ATTR_UNDEFINED; /* reference with no kind: keep the reference */
        else {
            ir_error(d, n, "attribute '%s' has unknown type %d", aname, kind);
            return -1;
        }
    }
    IrAttr *at = ir_node_add_attr(n, aname, (IrAttrKind)kind);
    if (!at) {
        ir_error(d, n, "attribute '%s': out of memory", aname);
        return -1;
    }
    if (ap->ref_attr_name && ap->ref_attr_name[0]) {
        at->ref_attr_name = ir_arena_strdup(a, ap->ref_attr_name);
        if (!ap->t && !ap->g && !ap->has_f && !ap->has_i && !ap->has_s && !ap->n_floats &&
            !ap->n_ints && !ap->n_strings && !ap->n_tensors && !ap->n_graphs && !ap->tp &&
            !ap->sparse_tensor && !ap->n_sparse_tensors && !ap->n_type_protos)
            return 0; /* pure reference: the value comes from the caller */
    }
    char what[300];
    snprintf(what, sizeof what, "attribute '%.200s'", aname);
    FeTensorCtx tc = {.dir = L->dir, .allow_external = L->allow_external, .node = n, .what = what};
    char twhat[420];
    snprintf(twhat, sizeof twhat, "node '%.100s' %s", fe_str(n->name), what);
    switch (kind) {
    case IR_ATTR_UNDEFINED:
        return 0;
    case IR_ATTR_FLOAT:
        at->f = ap->f;
        return 0;
    case IR_ATTR_INT:
        at->i = ap->i;
        return 0;
    case IR_ATTR_STRING:
        if (ap->has_s && fe_copy_string(a, &at->s, &ap->s))
            goto oom;
        if (!ap->has_s) {
            at->s.data = ir_arena_strdup(a, "");
            at->s.len = 0;
        }
        return 0;
    case IR_ATTR_TENSOR:
        if (!ap->t) {
            ir_error(d, n, "attribute '%s' of type TENSOR has no tensor", aname);
            return -1;
        }
        at->t = fe_tensor_decode(a, ap->t, &tc, d);
        if (!L->keep_tensors)
            fe_tensor_release(ap->t); /* decoded: free the message's copy (Constant weights) */
        return at->t ? 0 : -1;
    case IR_ATTR_SPARSE_TENSOR:
        if (!ap->sparse_tensor) {
            ir_error(d, n, "attribute '%s' of type SPARSE_TENSOR has no tensor", aname);
            return -1;
        }
        at->t = fe_sparse_decode(a, ap->sparse_tensor, &tc, d);
        return at->t ? 0 : -1;
    case IR_ATTR_GRAPH: {
        if (!ap->g) {
            ir_error(d, n, "attribute '%s' of type GRAPH has no graph", aname);
            return -1;
        }
        IrGraph *sub = fe_subgraph(L, n, aname, ap->g, depth);
        if (!sub)
            return -1;
        at->g = sub; /* owned by the attribute from here on */
        return fe_load_graph(L, sub, ap->g, depth + 1);
    }
    case IR_ATTR_TYPE_PROTO:
        at->tp = ir_arena_alloc(a, sizeof(IrType));
        if (!at->tp)
            goto oom;
        return fe_type(a, ap->tp, at->tp, d, twhat, 0);
    case IR_ATTR_FLOATS:
        at->n = (int)ap->n_floats;
        if (ap->n_floats > (size_t)INT32_MAX)
            goto oom;
        if (ap->n_floats && !(at->floats = ir_arena_memdup(a, ap->floats, ap->n_floats * sizeof(float))))
            goto oom;
        return 0;
    case IR_ATTR_INTS:
        if (ap->n_ints > (size_t)INT32_MAX)
            goto oom;
        at->n = (int)ap->n_ints;
        if (ap->n_ints && !(at->ints = ir_arena_memdup(a, ap->ints, ap->n_ints * sizeof(int64_t))))
            goto oom;
        return 0;
    case IR_ATTR_STRINGS:
        if (ap->n_strings > (size_t)INT32_MAX)
            goto oom;
        at->n = (int)ap->n_strings;
        if (ap->n_strings) {
            at->strings = ir_arena_alloc(a, ap->n_strings * sizeof(IrString));
            if (!at->strings)
                goto oom;
            for (size_t i = 0; i < ap->n_strings; i++)
                if (fe_copy_string(a, &at->strings[i], &ap->strings[i]))
                    goto oom;
        }
        return 0;
    case IR_ATTR_TENSORS:
    case IR_ATTR_SPARSE_TENSORS: {
        int sparse = kind == IR_ATTR_SPARSE_TENSORS;
        size_t cnt = sparse ? ap->n_sparse_tensors : ap->n_tensors;
        if (cnt > (size_t)INT32_MAX)
            goto oom;
        at->n = (int)cnt;
        if (!cnt)
            return 0;
        at->tensors = ir_arena_alloc(a, cnt * sizeof(IrTensor *));
        if (!at->tensors)
            goto oom;
        int rc = 0;
        for (size_t i = 0; i < cnt; i++) {
            at->tensors[i] = sparse ? fe_sparse_decode(a, ap->sparse_tensors[i], &tc, d)
                                    : fe_tensor_decode(a, ap->tensors[i], &tc, d);
            if (!at->tensors[i])
                rc = -1;
        }
        return rc;
    }
    case IR_ATTR_GRAPHS: {
        if (ap->n_graphs > (size_t)INT32_MAX)
            goto oom;
        if (!ap->n_graphs)
            return 0;
        at->graphs = ir_arena_alloc(a, ap->n_graphs * sizeof(IrGraph *));
        if (!at->graphs)
            goto oom;
        int rc = 0;
        for (size_t i = 0; i < ap->n_graphs; i++) {
            if (!ap->graphs[i])
                continue;
            IrGraph *sub = fe_subgraph(L, n, aname, ap->graphs[i], depth);
            if (!sub)
                return -1;
            at->graphs[i] = sub;
            at->n = (int)i + 1; /* owned by the attribute from here on */
            if (fe_load_graph(L, sub, ap->graphs[i], depth + 1))
                rc = -1;
        }
        at->n = (int)ap->n_graphs;
        return rc;
    }
    case IR_ATTR_TYPE_PROTOS:
        if (ap->n_type_protos > (size_t)INT32_MAX)
            goto oom;
        at->n = (int)ap->n_type_protos;
        if (!ap->n_type_protos)
            return 0;
        at->tps = ir_arena_alloc(a, ap->n_type_protos * sizeof(IrType *));
        if (!at->tps)
            goto oom;
        for (size_t i = 0; i < ap->n_type_protos; i++) {
            at->tps[i] = ir_arena_alloc(a, sizeof(IrType));
            if (!at->tps[i])
                goto oom;
            if (fe_type(a, ap->type_protos[i], at->tps[i], d, twhat, 0))
                return -1;
        }
        return 0;
    default:
        break;
    }
    return 0;
oom:
    ir_error(d, n, "attribute '%s': out of memory", aname);
    return -1;
}

/* ---------------------------------------------------------------- nodes and graphs */

/* Opset version for a node of `domain`: the function's own imports first (inside a function),
 * then the model's. -1 if the domain is not imported. */
static int fe_node_opset(FeLoad *L, const char *domain) {
    if (L->fn) {
        int dflt = fe_is_default_domain(domain);
        for (size_t i = 0; i < L->fn->n_opset_import; i++) {
            const Onnx__OperatorSetIdProto *o = L->fn->opset_import[i];
            if (!o)
                continue;
            int odflt = fe_is_default_domain(o->domain);
            if (dflt ? odflt : (!odflt && strcmp(fe_str(o->domain), domain) == 0))
                return o->version < 0 ? -1 : o->version > INT32_MAX ? INT32_MAX : (int)o->version;
        }
    }
    int64_t v = ir_model_opset(L->m, domain);
    return v > INT32_MAX ? INT32_MAX : (int)v;
}

static int fe_node(FeLoad *L, IrGraph *g, const Onnx__NodeProto *np, size_t index, int depth) {
    IrDiag *d = L->d;
    const char *op_type = fe_str(np->op_type);
    const char *nname = fe_str(np->name);
    if (!op_type[0]) {
        ir_error(d, NULL, "graph '%s': node #%zu ('%s') has no op_type", fe_str(g->name), index,
                 nname);
        return -1;
    }
    if (np->n_input > (size_t)INT32_MAX || np->n_output > (size_t)INT32_MAX) {
        ir_error(d, NULL, "graph '%s': node '%s' has too many inputs or outputs", fe_str(g->name),
                 nname);
        return -1;
    }
    size_t nio = np->n_input + np->n_output;
    IrValue **io = ir_calloc(nio ? nio : 1, sizeof(IrValue *));
    if (!io) {
        ir_error(d, NULL, "graph '%s': node '%s': out of memory", fe_str(g->name), nname);
        return -1;
    }
    int rc = 0;
    for (size_t i = 0; i < np->n_input; i++) {
        const char *in = np->input[i];
        if (!in || !in[0])
            continue; /* omitted optional input */
        if (!(io[i] = fe_use(g, in)))
            rc = -1;
    }
    for (size_t i = 0; i < np->n_output; i++) {
        const char *on = np->output[i];
        if (!on || !on[0])
            continue; /* omitted optional output */
        if (!(io[np->n_input + i] = fe_define(L, g, on, nname, op_type)))
            rc = -1;
    }
    const char *domain = fe_str(np->domain);
    if (!strcmp(domain, "ai.onnx"))
        domain = ""; /* one spelling of the default domain in the IR */
    int opset = fe_node_opset(L, domain);
    IrNode *n = rc ? NULL
                   : ir_node_new(g, NULL, nname, domain, op_type, opset, (int)np->n_input, io,
                                 (int)np->n_output, io + np->n_input);
    free(io);
    if (!n) {
        ir_error(d, NULL, "graph '%s': node '%s': out of memory", fe_str(g->name), nname);
        return -1;
    }
    if (opset < 0)
        ir_warning(d, n, "domain '%s' is not in the model's opset_import", domain);
    for (size_t i = 0; i < np->n_attribute; i++)
        if (np->attribute[i] && fe_attr(L, n, np->attribute[i], depth))
            rc = -1;
    return rc;
}

/* Applies a declared type to v (only when v has none yet). */
static int fe_apply_vi(FeLoad *L, IrGraph *g, IrValue *v, const Onnx__ValueInfoProto *vi,
                       const char *role) {
    if (!vi->type || v->type.kind != IR_TYPE_UNKNOWN)
        return 0;
    char what[320];
    snprintf(what, sizeof what, "graph '%.100s': %s '%.150s'", fe_str(g->name), role,
             fe_str(vi->name));
    return fe_type(g->arena, vi->type, &v->type, L->d, what, 0);
}

/* Loads GraphProto gp into the (empty) graph g. depth = nesting level of g (0 = main). */
static int fe_load_graph(FeLoad *L, IrGraph *g, const Onnx__GraphProto *gp, int depth) {
    IrDiag *d = L->d;
    int e0 = d->nerrors;
    const char *gname = fe_str(g->name);
    if (gp->doc_string && gp->doc_string[0])
        g->doc = ir_arena_strdup(g->arena, gp->doc_string);

    /* inputs */
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vi = gp->input[i];
        const char *name = vi ? fe_str(vi->name) : "";
        if (!name[0]) {
            ir_error(d, NULL, "graph '%s': input #%zu has no name", gname, i);
            continue;
        }
        if (ir_graph_find_value(g, name)) {
            ir_error(d, NULL, "graph '%s': input '%s' is listed twice", gname, name);
            continue;
        }
        IrValue *v = ir_value_new(g, name);
        if (!v || ir_graph_add_input(g, v)) {
            ir_error(d, NULL, "graph '%s': out of memory", gname);
            return -1;
        }
        fe_apply_vi(L, g, v, vi, "input");
    }

    /* initializers (dense, then sparse); in IR v3 they may also be listed as inputs */
    FeTensorCtx tc = {.dir = L->dir, .allow_external = L->allow_external, .node = NULL,
                      .what = "initializer"};
    size_t ninit = gp->n_initializer + gp->n_sparse_initializer;
    for (size_t i = 0; i < ninit; i++) {
        int sparse = i >= gp->n_initializer;
        const Onnx__TensorProto *tp = sparse ? NULL : gp->initializer[i];
        const Onnx__SparseTensorProto *sp = sparse ? gp->sparse_initializer[i - gp->n_initializer]
                                                   : NULL;
        const char *name = sparse ? (sp && sp->values ? fe_str(sp->values->name) : "")
                                  : (tp ? fe_str(tp->name) : "");
        if (!name[0]) {
            ir_error(d, NULL, "graph '%s': initializer #%zu has no name", gname, i);
            continue;
        }
        IrTensor *t = sparse ? fe_sparse_decode(g->arena, sp, &tc, d)
                             : fe_tensor_decode(g->arena, tp, &tc, d);
        if (!sparse && !L->keep_tensors) /* the message is ours: drop the decoded bytes */
            fe_tensor_release((Onnx__TensorProto *)tp);
        if (!t)
            continue;
        IrValue *v = ir_graph_find_value(g, name);
        if (v && ((v->flags & IR_VALUE_INITIALIZER) || !(v->flags & IR_VALUE_INPUT))) {
            ir_error(d, NULL, "graph '%s': initializer '%s' is defined twice", gname, name);
            continue;
        }
        if (!v && !(v = ir_value_new(g, name))) {
            ir_error(d, NULL, "graph '%s': out of memory", gname);
            return -1;
        }
        v->init = t;
        if (ir_type_set_tensor(g->arena, &v->type, t->dtype, t->rank, t->dims) ||
            ir_graph_add_init(g, v)) {
            ir_error(d, NULL, "graph '%s': out of memory", gname);
            return -1;
        }
    }

    /* nodes, in file order */
    for (size_t i = 0; i < gp->n_node; i++)
        if (gp->node[i])
            fe_node(L, g, gp->node[i], i, depth);

    /* outputs */
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vi = gp->output[i];
        const char *name = vi ? fe_str(vi->name) : "";
        if (!name[0]) {
            ir_error(d, NULL, "graph '%s': output #%zu has no name", gname, i);
            continue;
        }
        IrValue *v = ir_graph_find_value(g, name);
        if (v && v->user == &fe_pending_mark)
            v = NULL;
        if (!v && (v = fe_resolve_outer(g->parent, name))) {
            /* a subgraph output that is an enclosing graph's value: capture it here */
            IrValue *o = ir_value_new(g, name);
            if (!o) {
                ir_error(d, NULL, "graph '%s': out of memory", gname);
                return -1;
            }
            o->flags |= IR_VALUE_OUTER;
            o->outer = v;
            v = o;
        }
        if (!v) {
            if (!ir_graph_find_value(g, name))
                ir_error(d, NULL, "graph '%s': output '%s' is never defined", gname, name);
            continue;
        }
        if (ir_graph_add_output(g, v)) {
            ir_error(d, NULL, "graph '%s': out of memory", gname);
            return -1;
        }
        fe_apply_vi(L, g, v, vi, "output");
    }

    /* value_info: declared types of intermediate values */
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vi = gp->value_info[i];
        if (!vi || !vi->name)
            continue;
        IrValue *v = ir_graph_find_value(g, vi->name);
        if (v)
            fe_apply_vi(L, g, v, vi, "value_info");
    }

    /* values used but never defined */
    for (int i = 0; i < g->nvalues; i++) {
        IrValue *v = g->values[i];
        if (v->user == &fe_pending_mark) {
            ir_error(d, NULL, "graph '%s': value '%s' is used but never defined", gname, v->name);
            v->user = NULL;
        }
    }
    return d->nerrors > e0 ? -1 : 0;
}

/* FunctionProto -> a graph "domain::name" whose inputs/outputs are the formal names. */
static int fe_load_function(FeLoad *L, const Onnx__FunctionProto *fp, int index) {
    IrModel *m = L->m;
    IrDiag *d = L->d;
    const char *fname = fe_str(fp->name);
    const char *fdom = fe_str(fp->domain);
    if (!fname[0]) {
        ir_error(d, NULL, "function #%d has no name", index);
        return -1;
    }
    size_t ql = strlen(fdom) + strlen(fname) + 3;
    char *qname = ir_malloc(ql);
    if (!qname) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    snprintf(qname, ql, "%s::%s", fdom, fname);
    IrGraph *g = ir_graph_create(m, NULL, qname);
    free(qname);
    if (!g) {
        ir_error(d, NULL, "function '%s': out of memory", fname);
        return -1;
    }
    m->functions[m->nfunctions] = g;
    m->function_domains[m->nfunctions] = ir_arena_strdup(m->arena, fdom);
    m->nfunctions++;
    if (fp->doc_string && fp->doc_string[0])
        g->doc = ir_arena_strdup(g->arena, fp->doc_string);
    int e0 = d->nerrors;
    for (size_t i = 0; i < fp->n_input; i++) {
        const char *in = fe_str(fp->input[i]);
        if (!in[0] || ir_graph_find_value(g, in)) {
            ir_error(d, NULL, "function '%s': input #%zu is empty or repeated", fname, i);
            continue;
        }
        IrValue *v = ir_value_new(g, in);
        if (!v || ir_graph_add_input(g, v)) {
            ir_error(d, NULL, "function '%s': out of memory", fname);
            return -1;
        }
    }
    FeLoad FL = *L;
    FL.fn = fp;
    for (size_t i = 0; i < fp->n_node; i++)
        if (fp->node[i])
            fe_node(&FL, g, fp->node[i], i, 0);
    for (size_t i = 0; i < fp->n_output; i++) {
        const char *on = fe_str(fp->output[i]);
        IrValue *v = on[0] ? ir_graph_find_value(g, on) : NULL;
        if (!v || v->user == &fe_pending_mark) {
            ir_error(d, NULL, "function '%s': output '%s' is never defined", fname, on);
            continue;
        }
        if (ir_graph_add_output(g, v)) {
            ir_error(d, NULL, "function '%s': out of memory", fname);
            return -1;
        }
    }
    for (int i = 0; i < g->nvalues; i++) {
        IrValue *v = g->values[i];
        if (v->user == &fe_pending_mark) {
            ir_error(d, NULL, "function '%s': value '%s' is used but never defined", fname,
                     v->name);
            v->user = NULL;
        }
    }
    return d->nerrors > e0 ? -1 : 0;
}

/* ---------------------------------------------------------------- training_info */

#define FE_MAX_TRAINING_INFO 4096
#define FE_MAX_BINDINGS 1000000

/* 1 if `name` is an initializer of g (a value with constant data, not captured). */
static int fe_is_init(const IrGraph *g, const char *name) {
    const IrValue *v = g ? ir_graph_find_value(g, name) : NULL;
    return v && v->init && (v->flags & IR_VALUE_INITIALIZER) && !(v->flags & IR_VALUE_OUTER);
}

/* 1 if `name` is an output of g. */
static int fe_is_output(const IrGraph *g, const char *name) {
    for (int i = 0; g && i < g->noutputs; i++)
        if (g->outputs[i] && !strcmp(g->outputs[i]->name, name))
            return 1;
    return 0;
}

/* Copies n StringStringEntryProto into arena arrays; 0 / -1 (OOM or an empty name). */
static int fe_bindings(FeLoad *L, int k, const char *what, Onnx__StringStringEntryProto **e,
                       size_t n, int *cnt, const char ***keys, const char ***vals) {
    IrModel *m = L->m;
    *cnt = 0;
    if (n == 0)
        return 0;
    if (n > FE_MAX_BINDINGS) {
        ir_error(L->d, NULL, "training_info[%d]: %zu entries in %s (at most %d)", k, n, what,
                 FE_MAX_BINDINGS);
        return -1;
    }
    *keys = ir_arena_alloc(m->arena, n * sizeof(char *));
    *vals = ir_arena_alloc(m->arena, n * sizeof(char *));
    if (!*keys || !*vals) {
        ir_error(L->d, NULL, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const char *key = e[i] ? fe_str(e[i]->key) : "", *val = e[i] ? fe_str(e[i]->value) : "";
        if (!key[0] || !val[0]) {
            ir_error(L->d, NULL, "training_info[%d]: %s entry #%zu has an empty key or value", k,
                     what, i);
            return -1;
        }
        (*keys)[i] = ir_arena_strdup(m->arena, key);
        (*vals)[i] = ir_arena_strdup(m->arena, val);
        if (!(*keys)[i] || !(*vals)[i]) {
            ir_error(L->d, NULL, "out of memory");
            return -1;
        }
    }
    *cnt = (int)n;
    return 0;
}

/* ModelProto.training_info -> m->training_info (ir/ir.h IrTrainingInfo), with the checks of
 * onnx.proto's TrainingInfoProto comments. Runs after the main graph is loaded. */
static int fe_load_training_info(FeLoad *L, const Onnx__ModelProto *mp) {
    IrModel *m = L->m;
    IrDiag *d = L->d;
    size_t n = mp->n_training_info;
    if (n == 0)
        return 0;
    if (n > FE_MAX_TRAINING_INFO) {
        ir_error(d, NULL, "model has %zu training_info entries (at most %d)", n,
                 FE_MAX_TRAINING_INFO);
        return -1;
    }
    m->training_info = ir_arena_alloc(m->arena, n * sizeof *m->training_info);
    if (!m->training_info) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    memset(m->training_info, 0, n * sizeof *m->training_info);
    int e0 = d->nerrors;
    for (size_t k = 0; k < n; k++) {
        const Onnx__TrainingInfoProto *tp = mp->training_info[k];
        IrTrainingInfo *ti = &m->training_info[k];
        m->ntraining_info = (int)k + 1; /* what exists is destroyed with the model */
        if (!tp)
            continue;
        char nm[64];
        if (tp->initialization) {
            snprintf(nm, sizeof nm, "training_info[%zu].initialization", k);
            ti->initialization = ir_graph_create(m, NULL, nm);
            if (!ti->initialization) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
            if (fe_load_graph(L, ti->initialization, tp->initialization, 0))
                continue;
            if (ti->initialization->ninputs > 0) {
                ir_error(d, NULL, "training_info[%zu]: the initialization graph has inputs "
                         "(onnx.proto: it has none)", k);
                continue;
            }
        }
        if (tp->algorithm) {
            snprintf(nm, sizeof nm, "training_info[%zu].algorithm", k);
            ti->algorithm = ir_graph_create(m, m->graph, nm);
            if (!ti->algorithm) {
                ir_error(d, NULL, "out of memory");
                return -1;
            }
            /* the combined graph loads this algorithm again (fe_load_model_proto) */
            L->keep_tensors = L->combine == (int)k + 1;
            int bad = fe_load_graph(L, ti->algorithm, tp->algorithm, 0);
            L->keep_tensors = 0;
            if (bad)
                continue;
        }
        if (fe_bindings(L, (int)k, "initialization_binding", tp->initialization_binding,
                        tp->n_initialization_binding, &ti->ninit_bind, &ti->init_keys,
                        &ti->init_values) ||
            fe_bindings(L, (int)k, "update_binding", tp->update_binding, tp->n_update_binding,
                        &ti->nupdate_bind, &ti->update_keys, &ti->update_values))
            return -1;
        for (int i = 0; i < ti->ninit_bind; i++) {
            const char *key = ti->init_keys[i], *val = ti->init_values[i];
            if (!fe_is_init(m->graph, key) && !fe_is_init(ti->algorithm, key))
                ir_error(d, NULL, "training_info[%zu]: initialization_binding '%s' <- '%s': '%s' "
                         "is not an initializer of the main graph or of the algorithm", k, key,
                         val, key);
            else if (!fe_is_output(ti->initialization, val))
                ir_error(d, NULL, "training_info[%zu]: initialization_binding '%s' <- '%s': '%s' "
                         "is not an output of the initialization graph", k, key, val, val);
        }
        for (int i = 0; i < ti->nupdate_bind; i++) {
            const char *key = ti->update_keys[i], *val = ti->update_values[i];
            if (!fe_is_init(m->graph, key) && !fe_is_init(ti->algorithm, key))
                ir_error(d, NULL, "training_info[%zu]: update_binding '%s' <- '%s': '%s' is not "
                         "an initializer of the main graph or of the algorithm", k, key, val, key);
            else if (!fe_is_output(ti->algorithm, val) && !fe_is_output(m->graph, val))
                ir_error(d, NULL, "training_info[%zu]: update_binding '%s' <- '%s': '%s' is not "
                         "an output of the algorithm or of the main graph", k, key, val, val);
            /* keys are unique across every update_binding (onnx.proto rule 1) */
            for (size_t j = 0; j <= k; j++) {
                const IrTrainingInfo *tj = &m->training_info[j];
                int lim = j == k ? i : tj->nupdate_bind;
                for (int q = 0; q < lim; q++)
                    if (!strcmp(tj->update_keys[q], key)) {
                        ir_error(d, NULL, "training_info[%zu]: update_binding assigns '%s' twice "
                                 "(also in training_info[%zu])", k, key, j);
                        j = k + 1;
                        break;
                    }
            }
        }
    }
    return d->nerrors > e0 ? -1 : 0;
}

/* ---------------------------------------------------------------- model */

static int fe_load_model_proto(FeLoad *L, const Onnx__ModelProto *mp) {
    IrModel *m = L->m;
    IrDiag *d = L->d;
    m->ir_version = mp->has_ir_version ? mp->ir_version : 0;
    if (m->ir_version < 3) {
        ir_error(d, NULL, "IR version %lld is not supported (onnxc needs IR version 3 or newer)",
                 (long long)m->ir_version);
        return -1;
    }
    m->producer_name = ir_arena_strdup(m->arena, fe_str(mp->producer_name));
    m->producer_version = ir_arena_strdup(m->arena, fe_str(mp->producer_version));
    m->model_domain = ir_arena_strdup(m->arena, fe_str(mp->domain));
    m->model_version = mp->has_model_version ? mp->model_version : 0;

    if (mp->n_opset_import > 100000 || mp->n_metadata_props > 10000000 ||
        mp->n_functions > 10000000) {
        ir_error(d, NULL, "model has an absurd number of opset imports, metadata or functions");
        return -1;
    }
    if (mp->n_opset_import) {
        m->opsets = ir_arena_alloc(m->arena, mp->n_opset_import * sizeof(IrOpsetImport));
        if (!m->opsets)
            goto oom;
        for (size_t i = 0; i < mp->n_opset_import; i++) {
            const Onnx__OperatorSetIdProto *o = mp->opset_import[i];
            if (!o)
                continue;
            const char *dom = fe_str(o->domain);
            if (!strcmp(dom, "ai.onnx"))
                dom = "";
            if (ir_model_opset(m, dom) >= 0) {
                ir_warning(d, NULL, "opset_import lists domain '%s' twice; the first is used", dom);
                continue;
            }
            int64_t ver = o->has_version ? o->version : 1;
            if (ver < 1 || ver > INT32_MAX) {
                ir_error(d, NULL, "opset_import: domain '%s' has invalid version %lld", dom,
                         (long long)ver);
                continue;
            }
            m->opsets[m->nopsets].domain = ir_arena_strdup(m->arena, dom);
            m->opsets[m->nopsets].version = ver;
            m->nopsets++;
        }
    } else {
        ir_warning(d, NULL, "model has no opset_import");
    }
    if (mp->n_metadata_props) {
        m->meta_keys = ir_arena_alloc(m->arena, mp->n_metadata_props * sizeof(char *));
        m->meta_values = ir_arena_alloc(m->arena, mp->n_metadata_props * sizeof(char *));
        if (!m->meta_keys || !m->meta_values)
            goto oom;
        for (size_t i = 0; i < mp->n_metadata_props; i++) {
            const Onnx__StringStringEntryProto *e = mp->metadata_props[i];
            m->meta_keys[i] = ir_arena_strdup(m->arena, e ? fe_str(e->key) : "");
            m->meta_values[i] = ir_arena_strdup(m->arena, e ? fe_str(e->value) : "");
        }
        m->nmeta = (int)mp->n_metadata_props;
    }
    if (mp->n_functions) {
        m->functions = ir_arena_alloc(m->arena, mp->n_functions * sizeof(IrGraph *));
        m->function_domains = ir_arena_alloc(m->arena, mp->n_functions * sizeof(char *));
        if (!m->functions || !m->function_domains)
            goto oom;
        for (size_t i = 0; i < mp->n_functions; i++)
            if (mp->functions[i] && fe_load_function(L, mp->functions[i], (int)i) &&
                m->nfunctions <= (int)i)
                return -1; /* out of memory creating the graph */
    }
    if (!mp->graph) {
        ir_error(d, NULL, "model has no graph");
        return -1;
    }
    m->graph = ir_graph_create(m, NULL, mp->graph->name ? mp->graph->name : "main");
    if (!m->graph)
        goto oom;
    if (fe_load_graph(L, m->graph, mp->graph, 0))
        return -1;
    if (fe_load_training_info(L, mp))
        return -1;
    if (L->combine > 0) { /* ONNX's training graph: main ++ algorithm (onnx.proto) */
        const Onnx__TrainingInfoProto *ti = (size_t)L->combine <= mp->n_training_info
                                                ? mp->training_info[L->combine - 1] : NULL;
        if (!ti || !ti->algorithm) {
            ir_error(d, NULL, "training_info[%d]: no such entry or no algorithm graph",
                     L->combine - 1);
            return -1;
        }
        return fe_load_graph(L, m->graph, ti->algorithm, 0);
    }
    return 0;
oom:
    ir_error(d, NULL, "out of memory");
    return -1;
}

/* protobuf-c's unpack recurses once per nested message with no limit, so a small hostile file
 * (a few hundred KB of nested TypeProto or GraphProto) could overflow the stack. This walks the
 * wire format iteratively, using the generated descriptors to know which length-delimited
 * fields are messages, and returns -1 if messages nest deeper than max_depth. Malformed input
 * is left for protobuf_c_message_unpack to reject (returns 0). */
#define FE_MAX_PB_DEPTH (4 * IR_MAX_SUBGRAPH_DEPTH + 64)

static int fe_varint(const uint8_t *b, size_t end, size_t *pos, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *pos < end; shift += 7) {
        uint8_t c = b[(*pos)++];
        v |= (uint64_t)(c & 0x7F) << shift;
        if (!(c & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

static int fe_pb_depth_ok(const uint8_t *b, size_t len, const ProtobufCMessageDescriptor *desc) {
    struct {
        size_t end;
        const ProtobufCMessageDescriptor *desc;
    } st[FE_MAX_PB_DEPTH + 1];
    int top = 0;
    st[0].end = len;
    st[0].desc = desc;
    size_t pos = 0;
    for (;;) {
        while (top > 0 && pos >= st[top].end)
            pos = st[top--].end;
        if (pos >= st[top].end)
            return 0;
        size_t end = st[top].end;
        uint64_t tag, n;
        if (fe_varint(b, end, &pos, &tag))
            return 0;
        switch (tag & 7) {
        case 0:
            if (fe_varint(b, end, &pos, &n))
                return 0;
            break;
        case 1:
            if (end - pos < 8)
                return 0;
            pos += 8;
            break;
        case 5:
            if (end - pos < 4)
                return 0;
            pos += 4;
            break;
        case 2: {
            if (fe_varint(b, end, &pos, &n) || n > end - pos)
                return 0;
            const ProtobufCFieldDescriptor *f =
                tag >> 3 <= UINT32_MAX
                    ? protobuf_c_message_descriptor_get_field(st[top].desc, (unsigned)(tag >> 3))
                    : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && f->descriptor) {
                if (top == FE_MAX_PB_DEPTH)
                    return -1;
                top++;
                st[top].end = pos + (size_t)n;
                st[top].desc = f->descriptor;
            } else {
                pos += (size_t)n;
            }
            break;
        }
        default:
            return 0; /* groups or garbage: unpack decides */
        }
    }
}

/* Builds the model from an unpacked ModelProto (consumed: freed here). */
static IrModel *fe_load_unpacked(Onnx__ModelProto *mp, const char *path, const char *dir,
                                 const FeOptions *opt, IrDiag *d) {
    IrModel *m = ir_model_create();
    if (!m) {
        ir_error(d, NULL, "out of memory");
        onnx__model_proto__free_unpacked(mp, &fe_pb_allocator);
        return NULL;
    }
    if (path)
        m->path = ir_arena_strdup(m->arena, path);
    if (dir)
        m->dir = ir_arena_strdup(m->arena, dir);
    FeLoad L = {.m = m, .d = d, .dir = dir, .allow_external = opt ? opt->allow_external_data : 1,
                .fn = NULL, .combine = opt ? opt->training_algorithm : 0};
    int e0 = d->nerrors;
    fe_load_model_proto(&L, mp);
    onnx__model_proto__free_unpacked(mp, &fe_pb_allocator);
    if (d->nerrors > e0) {
        ir_model_destroy(m);
        m = NULL;
    }
    return m;
}

/* Checks size and nesting, then unpacks; NULL + diagnostic if not a valid ModelProto. */
static Onnx__ModelProto *fe_unpack_model(const void *buf, size_t len, const char *path,
                                         const FeOptions *opt, IrDiag *d) {
    int64_t maxb = opt && opt->max_file_bytes > 0 ? opt->max_file_bytes : ((int64_t)4 << 30);
    if ((uint64_t)len > (uint64_t)maxb) {
        ir_error(d, NULL, "model is %zu bytes, more than the limit of %lld", len, (long long)maxb);
        return NULL;
    }
    if (fe_pb_depth_ok(buf, len, &onnx__model_proto__descriptor)) {
        ir_error(d, NULL, "'%s': messages are nested deeper than %d levels",
                 path ? path : "<buffer>", FE_MAX_PB_DEPTH);
        return NULL;
    }
    Onnx__ModelProto *mp = onnx__model_proto__unpack(&fe_pb_allocator, len, buf);
    if (!mp)
        ir_error(d, NULL, "'%s' is not a valid ONNX model (protobuf parse failed)",
                 path ? path : "<buffer>");
    return mp;
}

/* 1 if the bytes are onnxc IR text (docs/IR_FORMAT.md), which starts with "onnxc-ir"; a
 * ModelProto cannot ('o' would be field 13 with the invalid wire type 7). */
static int fe_is_ir_text(const void *buf, size_t len) {
    return len >= 8 && memcmp(buf, "onnxc-ir", 8) == 0;
}

/* IR text into a model (ir_parse_model), with the model's path and folder recorded. */
static IrModel *fe_load_ir_text(const void *buf, size_t len, const char *path, const char *dir,
                                IrDiag *d) {
    IrModel *m = ir_parse_model(buf, len, path, d);
    if (m && dir && !(m->dir = ir_arena_strdup(m->arena, dir))) {
        ir_error(d, NULL, "out of memory");
        ir_model_destroy(m);
        m = NULL;
    }
    return m;
}

IrModel *fe_load_model_buffer(const void *buf, size_t len, const char *path, const char *dir,
                              const FeOptions *opt, IrDiag *d) {
    IrDiag local;
    if (!d) {
        ir_diag_init(&local, path);
        d = &local;
    }
    IrModel *m = NULL;
    if (buf && fe_is_ir_text(buf, len)) {
        m = fe_load_ir_text(buf, len, path, dir, d);
        if (d == &local)
            ir_diag_free(&local);
        return m;
    }
    Onnx__ModelProto *mp = fe_unpack_model(buf, len, path, opt, d);
    if (mp)
        m = fe_load_unpacked(mp, path, dir, opt, d);
    if (d == &local)
        ir_diag_free(&local);
    return m;
}

IrModel *fe_load_model(const char *path, const FeOptions *opt, IrDiag *d) {
    IrDiag local;
    if (!d) {
        ir_diag_init(&local, path);
        d = &local;
    }
    IrModel *m = NULL;
    void *buf = NULL;
    size_t len = 0;
    char *dir = NULL;
    int64_t maxb = opt && opt->max_file_bytes > 0 ? opt->max_file_bytes : ((int64_t)4 << 30);
    if (!path) {
        ir_error(d, NULL, "no model path given");
        goto out;
    }
    /* read(), not mmap(): a file truncated by someone else while mapped would raise SIGBUS */
    if (fe_read_file(path, maxb, &buf, &len, d))
        goto out;
    const char *slash = strrchr(path, '/');
    dir = slash ? (slash == path ? strdup("/") : strndup(path, (size_t)(slash - path)))
                : strdup(".");
    if (!dir) {
        ir_error(d, NULL, "out of memory");
        goto out;
    }
    if (fe_is_ir_text(buf, len)) { /* onnxc IR text (a .ir file) */
        m = fe_load_ir_text(buf, len, path, dir, d);
        goto out;
    }
    Onnx__ModelProto *mp = fe_unpack_model(buf, len, path, opt, d);
    free(buf); /* the file bytes are no longer needed: keep peak memory down */
    buf = NULL;
    if (mp)
        m = fe_load_unpacked(mp, path, dir, opt, d);
out:
    free(dir);
    free(buf);
    if (d == &local)
        ir_diag_free(&local);
    return m;
}
