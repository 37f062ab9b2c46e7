/* op_seq.c - the seq family: SequenceEmpty/Construct/Insert/Erase/At/Length (11), SplitToSequence
 * (11), ConcatFromSequence (11), SequenceMap (17), Optional/OptionalHasElement/
 * OptionalGetElement (15/18) of docs/Operators.md, resolved at compile time
 * (docs/CONTROL_FLOW.md).
 *
 * A sequence is known at compile time when the chain of its producers is made of SequenceEmpty,
 * SequenceConstruct, SequenceInsert / SequenceErase at constant positions, Identity and
 * OptionalGetElement (seq_static_elems); an optional when it comes from Optional, from a plain
 * tensor or sequence, or is absent (seq_static_optional). The consumers are then rewritten
 * (op_expand_node, called by pass_infer) into tensor nodes:
 *   SequenceAt(S, constant)      -> the element;
 *   SequenceLength(S)            -> an int64 constant;
 *   ConcatFromSequence(S)        -> Concat (new_axis: Unsqueeze each, then Concat);
 *   SplitToSequence(x, split)    -> Split (+ Squeeze for keepdims = 0), SequenceConstruct;
 *   SequenceMap(S.., x..)        -> the body copied once per element, SequenceConstruct per output;
 *   OptionalHasElement(o)        -> a bool constant;
 *   OptionalGetElement(o)        -> the contained value.
 * Sequence-valued nodes nobody reads any more are removed after inference
 * (op_remove_dead_nontensor). The infer hooks give every sequence/optional value its type; the
 * nodes have no lowering, so a sequence that must exist at run time is reported as unsupported.
 */
#include "ops/op_ctrl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ static resolution */

/* Integer value of a constant scalar / one-element int32 or int64 tensor. */
static int const_int(const IrValue *v, int64_t *out) {
    if (!v || !v->init || v->init->numel != 1 || !v->init->data)
        return -1;
    if (v->init->dtype == IR_DT_INT64)
        *out = *(const int64_t *)v->init->data;
    else if (v->init->dtype == IR_DT_INT32)
        *out = *(const int32_t *)v->init->data;
    else
        return -1;
    return 0;
}

int seq_static_optional(IrValue *v, IrValue **elem) {
    for (int depth = 0; depth < 256; depth++) {
        if (!v)
            return 0;
        if (v->type.kind == IR_TYPE_TENSOR || v->type.kind == IR_TYPE_SEQUENCE) {
            *elem = v;
            return 1;
        }
        IrNode *p = v->producer;
        if (!p)
            return -1;
        if (p->op == OP_Optional) {
            if (p->nin >= 1 && p->in[0]) {
                *elem = p->in[0];
                return 1;
            }
            return 0;
        }
        if (p->op == OP_Identity && p->nin == 1) {
            v = p->in[0];
            continue;
        }
        return -1;
    }
    return -1;
}

/* Elements of s into buf (cap entries); count or -1. */
static int elems_rec(IrValue *s, IrValue **buf, int cap, int depth) {
    if (!s || depth > 4096)
        return -1;
    IrNode *p = s->producer;
    if (!p)
        return -1;
    switch (p->op) {
    case OP_SequenceEmpty:
        return 0;
    case OP_SequenceConstruct:
        if (p->nin > cap)
            return -1;
        for (int i = 0; i < p->nin; i++) {
            if (!p->in[i])
                return -1;
            buf[i] = p->in[i];
        }
        return p->nin;
    case OP_SequenceInsert: {
        int k = elems_rec(ir_node_in(p, 0), buf, cap, depth + 1);
        int64_t pos = k;
        IrValue *t = ir_node_in(p, 1);
        if (k < 0 || k >= cap || !t || (ir_node_in(p, 2) && const_int(p->in[2], &pos)))
            return -1;
        if (pos < 0)
            pos += k;
        if (pos < 0 || pos > k)
            return -1;
        memmove(buf + pos + 1, buf + pos, sizeof *buf * (size_t)(k - pos));
        buf[pos] = t;
        return k + 1;
    }
    case OP_SequenceErase: {
        int k = elems_rec(ir_node_in(p, 0), buf, cap, depth + 1);
        int64_t pos = k - 1;
        if (k < 1 || (ir_node_in(p, 1) && const_int(p->in[1], &pos)))
            return -1;
        if (pos < 0)
            pos += k;
        if (pos < 0 || pos >= k)
            return -1;
        memmove(buf + pos, buf + pos + 1, sizeof *buf * (size_t)(k - pos - 1));
        return k - 1;
    }
    case OP_Identity:
        return p->nin == 1 ? elems_rec(p->in[0], buf, cap, depth + 1) : -1;
    case OP_OptionalGetElement: {
        IrValue *e = NULL;
        if (p->nin != 1 || seq_static_optional(p->in[0], &e) != 1 || e == s)
            return -1;
        return elems_rec(e, buf, cap, depth + 1);
    }
    default:
        return -1;
    }
}

int seq_static_elems(IrGraph *g, IrValue *s, IrValue ***out) {
    IrValue **buf = malloc(sizeof *buf * CTRL_MAX_UNROLL);
    if (!buf)
        return -1;
    int k = elems_rec(s, buf, CTRL_MAX_UNROLL, 0);
    if (k >= 0) {
        *out = ir_arena_alloc(g->arena, sizeof **out * (size_t)(k + 1));
        if (*out)
            memcpy(*out, buf, sizeof *buf * (size_t)k);
        else
            k = -1;
    }
    free(buf);
    return k;
}

/* ------------------------------------------------------------------ rewrites */

/* A SequenceConstruct (or SequenceEmpty of dtype dt when k == 0) of xs, before `before`. */
static IrValue *make_seq(IrNode *before, IrValue **xs, int k, IrDType dt, const char *base) {
    if (k > 0)
        return ctrl_node1(before, before->name, "SequenceConstruct", 11, k, xs, base);
    IrValue *o = ctrl_node1(before, before->name, "SequenceEmpty", 11, 0, NULL, base);
    IrAttr *a = o ? ir_node_add_attr(o->producer, "dtype", IR_ATTR_INT) : NULL;
    if (!a)
        return NULL;
    a->i = dt;
    return o;
}

static int oom(IrNode *n, IrDiag *d) {
    ir_error(d, n, "out of memory");
    return -1;
}

static int expand_split_to_sequence(IrNode *n, IrNode **next, IrDiag *d) {
    IrValue *x = n->in[0], *sp = ir_node_in(n, 1);
    const IrType *t = &x->type;
    if (t->kind != IR_TYPE_TENSOR || t->rank < 1)
        return 0;
    int64_t axis = ir_attr_int(n, "axis", 0), keep = ir_attr_int(n, "keepdims", 1);
    if (axis < -t->rank || axis >= t->rank) {
        ir_error(d, n, "axis %lld is out of range for rank %d", (long long)axis, t->rank);
        return -1;
    }
    if (axis < 0)
        axis += t->rank;
    int64_t len = t->dims[axis].value;
    if (len < 0)
        return 0;
    int64_t *sizes = malloc(sizeof *sizes * (size_t)(len + 1));
    if (!sizes)
        return oom(n, d);
    int k = 0, squeeze = 0, rc = -1;
    IrValue **outs = NULL;
    if (!sp) {
        for (k = 0; k < len; k++)
            sizes[k] = 1;
        squeeze = keep == 0;
    } else if (sp->init && sp->init->rank == 0) {
        int64_t s;
        if (const_int(sp, &s) || s < 1) {
            ir_error(d, n, "split must be a positive integer");
            goto done;
        }
        for (int64_t off = 0; off < len; off += s)
            sizes[k++] = off + s <= len ? s : len - off;
    } else if (sp->init && sp->init->rank == 1 && sp->init->numel <= len + 1) {
        int64_t sum = 0;
        for (int64_t i = 0; i < sp->init->numel; i++) {
            int64_t s = sp->init->dtype == IR_DT_INT32 ? ((const int32_t *)sp->init->data)[i]
                                                       : ((const int64_t *)sp->init->data)[i];
            if (s < 0) {
                ir_error(d, n, "split has a negative entry");
                goto done;
            }
            sizes[k++] = s;
            sum += s;
        }
        if (sum != len) {
            ir_error(d, n, "split sums to %lld, the axis has %lld", (long long)sum, (long long)len);
            goto done;
        }
    } else {
        rc = 0; /* run-time split: not resolvable */
        goto done;
    }
    if (k < 1 || k > CTRL_MAX_UNROLL) {
        rc = 0;
        goto done;
    }
    IrNode *prev = n->prev;
    IrGraph *g = n->graph;
    outs = calloc((size_t)k, sizeof *outs);
    IrValue *sv = ctrl_const_i64(g, "split", sizes, k, 1);
    if (!outs || !sv) {
        rc = oom(n, d);
        goto done;
    }
    for (int i = 0; i < k; i++)
        if (!(outs[i] = ir_value_new(g, ir_graph_unique_name(g, n->out[0]->name)))) {
            rc = oom(n, d);
            goto done;
        }
    IrValue *in[2] = {x, sv};
    IrNode *s = ir_node_new(g, n, n->name, "", "Split", ctrl_opset(g, 13), 2, in, k, outs);
    IrAttr *a = s ? ir_node_add_attr(s, "axis", IR_ATTR_INT) : NULL;
    if (!a) {
        rc = oom(n, d);
        goto done;
    }
    a->i = axis;
    if (squeeze) {
        for (int i = 0; i < k; i++) {
            IrValue *av = ctrl_const_i64(g, "axes", &axis, 1, 1);
            IrValue *sin[2] = {outs[i], av};
            if (!av || !(outs[i] = ctrl_node1(n, n->name, "Squeeze", 13, 2, sin, outs[i]->name))) {
                rc = oom(n, d);
                goto done;
            }
        }
    }
    IrValue *seq = make_seq(n, outs, k, t->dtype, n->out[0]->name);
    if (!seq) {
        rc = oom(n, d);
        goto done;
    }
    rc = ctrl_replace_node(n, &seq, prev, next, d) ? -1 : 1;
done:
    free(sizes);
    free(outs);
    return rc;
}

static int expand_sequence_map(IrNode *n, IrNode **next, IrDiag *d) {
    const IrAttr *ba = ir_node_attr(n, "body");
    IrGraph *body = ba && ba->kind == IR_ATTR_GRAPH ? ba->g : NULL;
    if (!body)
        return 0;
    IrGraph *g = n->graph;
    IrValue ***el = calloc((size_t)n->nin, sizeof *el);
    if (!el)
        return oom(n, d);
    int L = -1, rc = 0;
    for (int i = 0; i < n->nin; i++) {
        if (!n->in[i] || n->in[i]->type.kind != IR_TYPE_SEQUENCE)
            continue;
        int k = seq_static_elems(g, n->in[i], &el[i]);
        if (k < 0 || (L >= 0 && k != L))
            goto done; /* not static (or mismatched: the infer hook reports it) */
        L = k;
    }
    if (L < 1 || (L > 1 && ctrl_has_subgraphs(body)))
        goto done;
    IrNode *prev = n->prev;
    IrValue **bind = calloc((size_t)n->nin + 1, sizeof *bind);
    IrValue **outs = calloc((size_t)body->noutputs + 1, sizeof *outs);
    IrValue **col = calloc((size_t)body->noutputs * (size_t)L + 1, sizeof *col);
    IrValue **res = calloc((size_t)n->nout + 1, sizeof *res);
    rc = -1;
    if (!bind || !outs || !col || !res) {
        oom(n, d);
        goto done2;
    }
    if (body->noutputs != n->nout) {
        ir_error(d, n, "SequenceMap: the body has %d outputs, the node %d", body->noutputs, n->nout);
        goto done2;
    }
    for (int i = 0; i < L; i++) {
        for (int k = 0; k < n->nin; k++)
            bind[k] = el[k] ? el[k][i] : n->in[k];
        char tag[300];
        snprintf(tag, sizeof tag, "%s/e%d/", n->name, i);
        if (ctrl_clone_body(n, body, bind, n->nin, L == 1, tag, outs, n, d))
            goto done2;
        for (int k = 0; k < n->nout; k++)
            col[(size_t)k * (size_t)L + (size_t)i] = outs[k];
    }
    for (int k = 0; k < n->nout; k++)
        if (!(res[k] = make_seq(n, col + (size_t)k * (size_t)L, L, IR_DT_FLOAT, "seq_map_out"))) {
            oom(n, d);
            goto done2;
        }
    rc = ctrl_replace_node(n, res, prev, next, d) ? -1 : 1;
done2:
    free(bind);
    free(outs);
    free(col);
    free(res);
done:
    free(el);
    return rc;
}

int seq_expand(IrNode *n, IrNode **next, IrDiag *d) {
    IrGraph *g = n->graph;
    IrNode *prev = n->prev;
    IrValue **el = NULL, *r = NULL;
    int k;
    switch (n->op) {
    case OP_SequenceAt: {
        int64_t pos;
        if (n->nin != 2 || !n->in[0] || const_int(n->in[1], &pos) ||
            (k = seq_static_elems(g, n->in[0], &el)) < 0)
            return 0;
        if (pos < -k || pos >= k) {
            ir_error(d, n, "position %lld is out of range for a sequence of %d", (long long)pos, k);
            return -1;
        }
        r = el[pos < 0 ? pos + k : pos];
        break;
    }
    case OP_SequenceLength: {
        if (n->nin != 1 || !n->in[0])
            return 0;
        k = seq_static_elems(g, n->in[0], &el);
        /* SplitToSequence with a 1-D split: as many elements as split entries, whatever the
         * values (known at run time only). */
        IrNode *p = n->in[0]->producer;
        IrValue *sp = p && p->op == OP_SplitToSequence ? ir_node_in(p, 1) : NULL;
        if (k < 0 && sp && sp->type.kind == IR_TYPE_TENSOR && sp->type.rank == 1 &&
            sp->type.dims[0].value >= 0)
            k = (int)sp->type.dims[0].value;
        if (k < 0)
            return 0;
        int64_t v = k;
        if (!(r = ctrl_const_i64(g, "seq_len", &v, 1, 0)))
            return oom(n, d);
        break;
    }
    case OP_ConcatFromSequence: {
        if (n->nin != 1 || !n->in[0] || (k = seq_static_elems(g, n->in[0], &el)) < 1)
            return 0;
        int64_t axis = ir_attr_int(n, "axis", 0);
        r = ir_attr_int(n, "new_axis", 0) ? ctrl_stack(n, el, k, axis, n->out[0]->name)
                                          : ctrl_concat(n, el, k, axis, n->out[0]->name);
        if (!r)
            return oom(n, d);
        break;
    }
    case OP_SplitToSequence:
        return n->nin >= 1 && n->in[0] ? expand_split_to_sequence(n, next, d) : 0;
    case OP_SequenceMap:
        return expand_sequence_map(n, next, d);
    case OP_OptionalHasElement: {
        IrValue *e;
        int st = seq_static_optional(ir_node_in(n, 0), &e);
        if (st < 0)
            return 0;
        if (!(r = ctrl_const_bool(g, "has_element", st)))
            return oom(n, d);
        break;
    }
    case OP_OptionalGetElement: {
        int st = n->nin == 1 ? seq_static_optional(n->in[0], &r) : -1;
        if (st < 0)
            return 0;
        if (st == 0) {
            ir_error(d, n, "OptionalGetElement of an empty optional");
            return -1;
        }
        break;
    }
    default:
        return 0;
    }
    return ctrl_replace_node(n, &r, prev, next, d) ? -1 : 1;
}

/* ------------------------------------------------------------------ type inference */

/* Sets output i to kind (SEQUENCE/OPTIONAL) of a copy of elem. */
static int set_wrapped(IrNode *n, int i, IrTypeKind kind, const IrType *elem, IrDiag *d) {
    IrArena *a = n->graph->arena;
    IrType *e = ir_arena_alloc(a, sizeof *e);
    if (!e || ir_type_copy(a, e, elem))
        return oom(n, d);
    IrType t = {0};
    t.kind = kind;
    t.rank = -1;
    t.elem = e;
    n->out[i]->type = t;
    return 0;
}

static int set_copy(IrNode *n, int i, const IrType *t, IrDiag *d) {
    if (ir_type_copy(n->graph->arena, &n->out[i]->type, t))
        return oom(n, d);
    return 0;
}

/* Element type of sequence type t, or NULL + diag. */
static const IrType *seq_elem(IrNode *n, int i, IrDiag *d) {
    const IrValue *v = ir_node_in(n, i);
    if (!v || v->type.kind != IR_TYPE_SEQUENCE || !v->type.elem) {
        ir_error(d, n, "input %d must be a sequence", i);
        return NULL;
    }
    return v->type.elem;
}

/* A tensor type of dt with unknown rank. */
static IrType any_tensor(IrDType dt) {
    IrType t = {0};
    t.kind = IR_TYPE_TENSOR;
    t.dtype = dt;
    t.rank = -1;
    return t;
}

/* Same dtype and rank as both a and b, dims kept where they agree. */
static int join_types(IrNode *n, const IrType *a, const IrType *b, IrType *out, IrDiag *d) {
    if (ir_type_copy(n->graph->arena, out, a))
        return oom(n, d);
    if (a->kind != IR_TYPE_TENSOR || b->kind != IR_TYPE_TENSOR)
        return 0;
    if (a->dtype != b->dtype) {
        ir_error(d, n, "sequence elements of different types (%s, %s)", ir_dtype_name(a->dtype),
                 ir_dtype_name(b->dtype));
        return -1;
    }
    if (a->rank != b->rank) {
        out->rank = -1;
        out->dims = NULL;
        return 0;
    }
    for (int k = 0; k < a->rank; k++)
        if (a->dims[k].value != b->dims[k].value) {
            out->dims[k].value = -1;
            out->dims[k].sym = NULL;
        }
    return 0;
}

static int infer_seq(IrNode *n, IrDiag *d) {
    switch (n->op) {
    case OP_SequenceEmpty: {
        IrType t = any_tensor((IrDType)ir_attr_int(n, "dtype", IR_DT_FLOAT));
        return set_wrapped(n, 0, IR_TYPE_SEQUENCE, &t, d);
    }
    case OP_SequenceConstruct: {
        IrType t;
        if (ir_type_copy(n->graph->arena, &t, &n->in[0]->type))
            return oom(n, d);
        for (int i = 1; i < n->nin; i++)
            if (!n->in[i] || join_types(n, &t, &n->in[i]->type, &t, d))
                return -1;
        return set_wrapped(n, 0, IR_TYPE_SEQUENCE, &t, d);
    }
    case OP_SequenceInsert: {
        const IrType *e = seq_elem(n, 0, d);
        if (!e)
            return -1;
        IrType t;
        /* An empty sequence's element type has no shape: take the inserted tensor's. */
        const IrType *x = &n->in[1]->type;
        if (e->rank < 0 && x->kind == IR_TYPE_TENSOR && x->dtype == e->dtype) {
            if (ir_type_copy(n->graph->arena, &t, x))
                return oom(n, d);
        } else if (join_types(n, e, x, &t, d)) {
            return -1;
        }
        return set_wrapped(n, 0, IR_TYPE_SEQUENCE, &t, d);
    }
    case OP_SequenceErase:
        return seq_elem(n, 0, d) ? set_copy(n, 0, &n->in[0]->type, d) : -1;
    case OP_SequenceAt: {
        const IrType *e = seq_elem(n, 0, d);
        return e ? set_copy(n, 0, e, d) : -1;
    }
    case OP_SequenceLength: {
        if (!seq_elem(n, 0, d))
            return -1;
        return op_set_output_static(n, 0, IR_DT_INT64, 0, NULL);
    }
    case OP_ConcatFromSequence: {
        const IrType *e = seq_elem(n, 0, d);
        if (!e)
            return -1;
        IrType t = any_tensor(e->dtype);
        return set_copy(n, 0, &t, d);
    }
    case OP_SplitToSequence: {
        const IrType *x = op_input_tensor(n, d, 0);
        if (!x)
            return -1;
        IrType t = any_tensor(x->dtype);
        return set_wrapped(n, 0, IR_TYPE_SEQUENCE, &t, d);
    }
    case OP_Optional: {
        const IrValue *x = ir_node_in(n, 0);
        const IrAttr *a = ir_node_attr(n, "type");
        if (x)
            return set_wrapped(n, 0, IR_TYPE_OPTIONAL, &x->type, d);
        if (a && a->kind == IR_ATTR_TYPE_PROTO && a->tp)
            return set_wrapped(n, 0, IR_TYPE_OPTIONAL, a->tp, d);
        ir_error(d, n, "Optional without an input needs the attribute 'type'");
        return -1;
    }
    case OP_OptionalHasElement:
        return op_set_output_static(n, 0, IR_DT_BOOL, 0, NULL);
    case OP_OptionalGetElement: {
        const IrType *t = &n->in[0]->type;
        if (t->kind == IR_TYPE_OPTIONAL && t->elem)
            return set_copy(n, 0, t->elem, d);
        return set_copy(n, 0, t, d);
    }
    case OP_SequenceMap:
        ir_error(d, n, "unsupported operator SequenceMap: the input sequences are not known at "
                 "compile time");
        return -1;
    default:
        ir_error(d, n, "internal error: not a seq-family operator");
        return -1;
    }
}

const OpHooks op_hooks_SequenceEmpty = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SequenceConstruct = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SequenceInsert = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SequenceErase = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SequenceAt = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SequenceLength = {infer_seq, NULL, NULL};
const OpHooks op_hooks_ConcatFromSequence = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SplitToSequence = {infer_seq, NULL, NULL};
const OpHooks op_hooks_SequenceMap = {infer_seq, NULL, NULL};
const OpHooks op_hooks_Optional = {infer_seq, NULL, NULL};
const OpHooks op_hooks_OptionalHasElement = {infer_seq, NULL, NULL};
const OpHooks op_hooks_OptionalGetElement = {infer_seq, NULL, NULL};
