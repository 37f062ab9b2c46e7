/* fe_write.c - an IrModel back into an ONNX ModelProto file (fe_write_model).
 *
 * Follows the ONNX IR specification (onnx/onnx.proto, docs/IR.md) the other way round from
 * fe_model.c:
 *  - ModelProto: ir_version, opset_import, producer, domain, model_version, metadata_props,
 *    functions (FunctionProto with the opset imports its nodes use and the attribute names its
 *    body refers to), graph.
 *  - GraphProto: inputs, initializers (TensorProto with raw_data, little-endian, 4-bit and
 *    2-bit types packed two/four per byte, low bits first; strings in string_data), nodes in
 *    list order, outputs, and value_info for every other typed value (node outputs, and values
 *    a subgraph reads from an enclosing graph). Constants that are not initializers and have no
 *    producer (folded values) are written as initializers (in an IR version 3 model's main graph
 *    also listed as inputs, as that version requires).
 *  - NodeProto: inputs/outputs by name ("" for an omitted slot; a subgraph's reference to an
 *    enclosing value uses the enclosing value's name), attributes of every kind (sparse tensor
 *    attributes as SparseTensorProto with linear indices of the non-zero elements), subgraphs.
 *  - Types: tensor, sparse tensor, sequence, optional, map, with dim_value / dim_param / unset
 *    dims; an unknown type leaves ValueInfoProto.type unset.
 * Every protobuf-c message is allocated in one temporary arena (freed at the end); tensor data
 * is referenced in place where the serialized form equals the in-memory one. The file is written
 * atomically: a temporary file in the same folder, fsync, rename.
 */
#include "frontend/fe_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Nested types deeper than this are refused (the printer's limit too). */
#define FW_TYPE_MAX_DEPTH 32

typedef struct FeWriter {
    IrArena *a;        /* owns every message built */
    IrDiag *d;         /* diagnostics */
    int failed;        /* an error was reported */
    const IrGraph *v3_main; /* main graph of an IR version < 4 model (its initializers must be
                               listed among its inputs), else NULL */
} FeWriter;

static int fw_oom(FeWriter *w) {
    if (!w->failed)
        ir_error(w->d, NULL, "out of memory while building the ONNX model");
    w->failed = 1;
    return -1;
}

/* A message of size `size` initialised from `init` (the message's INIT value), in the arena. */
static void *fw_msg(FeWriter *w, size_t size, const void *init) {
    void *p = ir_arena_memdup(w->a, init, size);
    if (!p)
        fw_oom(w);
    return p;
}
#define FW_NEW(w, T, INIT) ((T *)fw_msg((w), sizeof(T), &(T)INIT))

/* Array of n pointers (or other elements) in the arena; NULL with n == 0 is fine. */
static void *fw_array(FeWriter *w, size_t n, size_t es) {
    if (n == 0)
        return NULL;
    if (n > SIZE_MAX / es) {
        fw_oom(w);
        return NULL;
    }
    void *p = ir_arena_alloc(w->a, n * es);
    if (!p)
        fw_oom(w);
    return p;
}

/* protobuf-c fields are `char *`; the IR's strings are not modified by packing. */
static char *fw_str(const char *s) { return (char *)(s ? s : ""); }
static char *fw_opt_str(const char *s) { return (s && s[0]) ? (char *)s : NULL; }

/* ---------------------------------------------------------------- types */

static Onnx__TensorShapeProto *fw_shape(FeWriter *w, const IrType *t) {
    if (t->rank < 0)
        return NULL; /* rank unknown: no shape */
    if (t->rank > IR_MAX_RANK) {
        ir_error(w->d, NULL, "type with rank %d above the limit of %d", t->rank, IR_MAX_RANK);
        w->failed = 1;
        return NULL;
    }
    Onnx__TensorShapeProto *sp = FW_NEW(w, Onnx__TensorShapeProto, ONNX__TENSOR_SHAPE_PROTO__INIT);
    if (!sp)
        return NULL;
    sp->n_dim = (size_t)t->rank;
    sp->dim = fw_array(w, sp->n_dim, sizeof *sp->dim);
    if (t->rank && !sp->dim)
        return NULL;
    for (int i = 0; i < t->rank; i++) {
        Onnx__TensorShapeProto__Dimension *dm =
            FW_NEW(w, Onnx__TensorShapeProto__Dimension, ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT);
        if (!dm)
            return NULL;
        if (t->dims && t->dims[i].value >= 0) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm->dim_value = t->dims[i].value;
        } else if (t->dims && t->dims[i].sym && t->dims[i].sym[0]) {
            dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            dm->dim_param = (char *)t->dims[i].sym;
        } /* else: unknown, neither value nor param */
        sp->dim[i] = dm;
    }
    return sp;
}

/* IrType -> TypeProto; NULL for an unknown type (and on error, with w->failed set). */
static Onnx__TypeProto *fw_type(FeWriter *w, const IrType *t, int depth) {
    if (!t || t->kind == IR_TYPE_UNKNOWN)
        return NULL;
    if (depth >= FW_TYPE_MAX_DEPTH) {
        ir_error(w->d, NULL, "types nested deeper than %d levels", FW_TYPE_MAX_DEPTH);
        w->failed = 1;
        return NULL;
    }
    Onnx__TypeProto *tp = FW_NEW(w, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT);
    if (!tp)
        return NULL;
    switch (t->kind) {
    case IR_TYPE_TENSOR: {
        Onnx__TypeProto__Tensor *tt = FW_NEW(w, Onnx__TypeProto__Tensor, ONNX__TYPE_PROTO__TENSOR__INIT);
        if (!tt)
            return NULL;
        tt->has_elem_type = 1;
        tt->elem_type = (int32_t)t->dtype;
        tt->shape = fw_shape(w, t);
        tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        tp->tensor_type = tt;
        break;
    }
    case IR_TYPE_SPARSE_TENSOR: {
        Onnx__TypeProto__SparseTensor *st =
            FW_NEW(w, Onnx__TypeProto__SparseTensor, ONNX__TYPE_PROTO__SPARSE_TENSOR__INIT);
        if (!st)
            return NULL;
        st->has_elem_type = 1;
        st->elem_type = (int32_t)t->dtype;
        st->shape = fw_shape(w, t);
        tp->value_case = ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE;
        tp->sparse_tensor_type = st;
        break;
    }
    case IR_TYPE_SEQUENCE: {
        Onnx__TypeProto__Sequence *sq = FW_NEW(w, Onnx__TypeProto__Sequence, ONNX__TYPE_PROTO__SEQUENCE__INIT);
        if (!sq)
            return NULL;
        sq->elem_type = fw_type(w, t->elem, depth + 1);
        tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
        tp->sequence_type = sq;
        break;
    }
    case IR_TYPE_OPTIONAL: {
        Onnx__TypeProto__Optional *op = FW_NEW(w, Onnx__TypeProto__Optional, ONNX__TYPE_PROTO__OPTIONAL__INIT);
        if (!op)
            return NULL;
        op->elem_type = fw_type(w, t->elem, depth + 1);
        tp->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
        tp->optional_type = op;
        break;
    }
    case IR_TYPE_MAP: {
        Onnx__TypeProto__Map *mp = FW_NEW(w, Onnx__TypeProto__Map, ONNX__TYPE_PROTO__MAP__INIT);
        if (!mp)
            return NULL;
        mp->has_key_type = 1;
        mp->key_type = (int32_t)t->dtype;
        mp->value_type = fw_type(w, t->elem, depth + 1);
        tp->value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE;
        tp->map_type = mp;
        break;
    }
    default:
        ir_error(w->d, NULL, "cannot write a type of kind %d", (int)t->kind);
        w->failed = 1;
        return NULL;
    }
    return w->failed ? NULL : tp;
}

/* A TypeProto that is never NULL (attribute values): empty for an unknown type. */
static Onnx__TypeProto *fw_type_nonnull(FeWriter *w, const IrType *t) {
    Onnx__TypeProto *tp = fw_type(w, t, 0);
    if (!tp && !w->failed)
        tp = FW_NEW(w, Onnx__TypeProto, ONNX__TYPE_PROTO__INIT);
    return tp;
}

static Onnx__ValueInfoProto *fw_value_info(FeWriter *w, const char *name, const IrType *t) {
    Onnx__ValueInfoProto *vi = FW_NEW(w, Onnx__ValueInfoProto, ONNX__VALUE_INFO_PROTO__INIT);
    if (!vi)
        return NULL;
    vi->name = fw_str(name);
    vi->type = fw_type(w, t, 0);
    return w->failed ? NULL : vi;
}

/* ---------------------------------------------------------------- tensors */

static int fw_subbyte_bits(int dt) {
    switch (dt) {
    case IR_DT_INT4: case IR_DT_UINT4: case IR_DT_FLOAT4E2M1: return 4;
    case IR_DT_INT2: case IR_DT_UINT2: return 2;
    default: return 0;
    }
}

static int fw_host_big_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 0;
}

/* Fills tp's payload from numel elements of dt at data (onnxc layout). */
static int fw_tensor_payload(FeWriter *w, Onnx__TensorProto *tp, IrDType dt, const void *data,
                             int64_t numel) {
    if (dt == IR_DT_STRING) {
        tp->n_string_data = (size_t)numel;
        tp->string_data = fw_array(w, (size_t)numel, sizeof *tp->string_data);
        if (numel && !tp->string_data)
            return -1;
        const IrString *s = data;
        for (int64_t i = 0; i < numel; i++) {
            tp->string_data[i].data = (uint8_t *)(s[i].data ? s[i].data : "");
            tp->string_data[i].len = s[i].data ? s[i].len : 0;
        }
        return 0;
    }
    int64_t nb = fe_packed_nbytes(dt, numel);
    if (nb < 0) {
        ir_error(w->d, NULL, "cannot serialize a %s tensor of %lld elements", ir_dtype_name(dt),
                 (long long)numel);
        w->failed = 1;
        return -1;
    }
    tp->has_raw_data = 1;
    tp->raw_data.len = (size_t)nb;
    int bits = fw_subbyte_bits(dt);
    size_t es = ir_dtype_size(dt);
    if (bits) { /* pack: element i goes to bits (i % per) * bits of byte i / per */
        uint8_t *p = fw_array(w, (size_t)nb ? (size_t)nb : 1, 1);
        if (!p)
            return -1;
        int per = 8 / bits;
        unsigned mask = (1u << bits) - 1u;
        const uint8_t *src = data;
        for (int64_t i = 0; i < numel; i++)
            p[i / per] |= (uint8_t)((src[i] & mask) << ((unsigned)(i % per) * (unsigned)bits));
        tp->raw_data.data = p;
    } else if (fw_host_big_endian() && es > 1) { /* serialized form is little-endian */
        uint8_t *p = fw_array(w, (size_t)nb, 1);
        if (!p)
            return -1;
        memcpy(p, data, (size_t)nb);
        size_t word = (dt == IR_DT_COMPLEX64 || dt == IR_DT_COMPLEX128) ? es / 2 : es;
        for (size_t o = 0; o + word <= (size_t)nb; o += word)
            for (size_t i = 0; i < word / 2; i++) {
                uint8_t t = p[o + i];
                p[o + i] = p[o + word - 1 - i];
                p[o + word - 1 - i] = t;
            }
        tp->raw_data.data = p;
    } else {
        tp->raw_data.data = (uint8_t *)data; /* same bytes: referenced, not copied */
    }
    return 0;
}

/* 1 if the tensor's payload is consistent with its type (as the printer checks too). */
static int fw_tensor_ok(FeWriter *w, const IrTensor *t, const char *name) {
    size_t es = ir_dtype_size(t->dtype);
    if (!ir_dtype_valid(t->dtype) || t->rank < 0 || t->rank > IR_MAX_RANK ||
        (t->rank > 0 && !t->dims) || t->numel < 0 || (t->numel > 0 && !t->data) || es == 0 ||
        (uint64_t)t->numel > (uint64_t)(t->nbytes / es)) {
        ir_error(w->d, NULL, "tensor '%s' has no data or inconsistent data; cannot write it",
                 name ? name : "");
        w->failed = 1;
        return 0;
    }
    return 1;
}

static Onnx__TensorProto *fw_tensor(FeWriter *w, const IrTensor *t, const char *name) {
    if (!t) {
        ir_error(w->d, NULL, "tensor '%s' is missing; cannot write it", name ? name : "");
        w->failed = 1;
        return NULL;
    }
    if (!fw_tensor_ok(w, t, name))
        return NULL;
    Onnx__TensorProto *tp = FW_NEW(w, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);
    if (!tp)
        return NULL;
    tp->n_dims = (size_t)t->rank;
    tp->dims = t->dims;
    tp->has_data_type = 1;
    tp->data_type = (int32_t)t->dtype;
    tp->name = fw_opt_str(name);
    return fw_tensor_payload(w, tp, t->dtype, t->data, t->numel) ? NULL : tp;
}

/* A dense tensor as a SparseTensorProto: values = the non-zero elements (bytes not all zero;
 * non-empty strings), indices = their linear positions (INT64 [nnz]). */
static Onnx__SparseTensorProto *fw_sparse(FeWriter *w, const IrTensor *t) {
    if (!t || !fw_tensor_ok(w, t, t ? t->name : NULL))
        return NULL;
    size_t es = ir_dtype_size(t->dtype);
    int64_t nnz = 0;
    const uint8_t *p = t->data;
    int64_t *idx = fw_array(w, t->numel ? (size_t)t->numel : 1, sizeof(int64_t));
    uint8_t *vals = fw_array(w, t->numel ? (size_t)t->numel * es : 1, 1);
    if (!idx || !vals)
        return NULL;
    for (int64_t i = 0; i < t->numel; i++) {
        const uint8_t *e = p + (size_t)i * es;
        int nz = 0;
        if (t->dtype == IR_DT_STRING) {
            IrString s;
            memcpy(&s, e, sizeof s);
            nz = s.data && s.len;
        } else {
            for (size_t k = 0; k < es && !nz; k++)
                nz = e[k] != 0;
        }
        if (nz) {
            idx[nnz] = i;
            memcpy(vals + (size_t)nnz * es, e, es);
            nnz++;
        }
    }
    Onnx__SparseTensorProto *sp = FW_NEW(w, Onnx__SparseTensorProto, ONNX__SPARSE_TENSOR_PROTO__INIT);
    Onnx__TensorProto *vt = FW_NEW(w, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);
    Onnx__TensorProto *it = FW_NEW(w, Onnx__TensorProto, ONNX__TENSOR_PROTO__INIT);
    int64_t *nnzdim = fw_array(w, 1, sizeof(int64_t));
    int64_t *nnzdim2 = fw_array(w, 1, sizeof(int64_t));
    if (!sp || !vt || !it || !nnzdim || !nnzdim2)
        return NULL;
    nnzdim[0] = nnzdim2[0] = nnz;
    vt->n_dims = 1;
    vt->dims = nnzdim;
    vt->has_data_type = 1;
    vt->data_type = (int32_t)t->dtype;
    vt->name = fw_opt_str(t->name);
    it->n_dims = 1;
    it->dims = nnzdim2;
    it->has_data_type = 1;
    it->data_type = IR_DT_INT64;
    if (fw_tensor_payload(w, vt, t->dtype, vals, nnz) ||
        fw_tensor_payload(w, it, IR_DT_INT64, idx, nnz))
        return NULL;
    sp->values = vt;
    sp->indices = it;
    sp->n_dims = (size_t)t->rank;
    sp->dims = t->dims;
    return sp;
}

/* ---------------------------------------------------------------- graphs */

static Onnx__GraphProto *fw_graph(FeWriter *w, const IrGraph *g, int depth);

/* The name a use of v has in ONNX: a subgraph's reference to an enclosing value is written with
 * the enclosing value's name (ONNX resolves names through scopes). */
static const char *fw_value_name(const IrValue *v) {
    for (int k = 0; v && (v->flags & IR_VALUE_OUTER) && v->outer && k <= IR_MAX_SUBGRAPH_DEPTH; k++)
        v = v->outer;
    return v && v->name ? v->name : "";
}

static Onnx__AttributeProto *fw_attr(FeWriter *w, const IrNode *n, const IrAttr *at, int depth) {
    Onnx__AttributeProto *ap = FW_NEW(w, Onnx__AttributeProto, ONNX__ATTRIBUTE_PROTO__INIT);
    if (!ap)
        return NULL;
    ap->name = fw_str(at->name);
    if (at->kind != IR_ATTR_UNDEFINED) {
        ap->has_type = 1;
        ap->type = (Onnx__AttributeProto__AttributeType)at->kind;
    }
    if (at->ref_attr_name) {
        ap->ref_attr_name = (char *)at->ref_attr_name; /* the value comes from the caller */
        return ap;
    }
    size_t cnt = at->n > 0 ? (size_t)at->n : 0;
    switch (at->kind) {
    case IR_ATTR_UNDEFINED:
        break;
    case IR_ATTR_FLOAT:
        ap->has_f = 1;
        ap->f = at->f;
        break;
    case IR_ATTR_INT:
        ap->has_i = 1;
        ap->i = at->i;
        break;
    case IR_ATTR_STRING:
        ap->has_s = 1;
        ap->s.data = (uint8_t *)(at->s.data ? at->s.data : "");
        ap->s.len = at->s.data ? at->s.len : 0;
        break;
    case IR_ATTR_TENSOR:
        if (!(ap->t = fw_tensor(w, at->t, at->t ? at->t->name : NULL)))
            return NULL;
        break;
    case IR_ATTR_SPARSE_TENSOR:
        if (!(ap->sparse_tensor = fw_sparse(w, at->t)))
            return NULL;
        break;
    case IR_ATTR_GRAPH:
        if (!at->g) {
            ir_error(w->d, n, "attribute '%s' has no graph", at->name);
            w->failed = 1;
            return NULL;
        }
        if (!(ap->g = fw_graph(w, at->g, depth + 1)))
            return NULL;
        break;
    case IR_ATTR_TYPE_PROTO:
        if (!(ap->tp = fw_type_nonnull(w, at->tp)))
            return NULL;
        break;
    case IR_ATTR_FLOATS:
        ap->n_floats = at->floats ? cnt : 0;
        ap->floats = at->floats;
        break;
    case IR_ATTR_INTS:
        ap->n_ints = at->ints ? cnt : 0;
        ap->ints = at->ints;
        break;
    case IR_ATTR_STRINGS:
        if (!at->strings)
            break;
        ap->n_strings = cnt;
        if (cnt && !(ap->strings = fw_array(w, cnt, sizeof *ap->strings)))
            return NULL;
        for (size_t i = 0; i < cnt; i++) {
            ap->strings[i].data = (uint8_t *)(at->strings[i].data ? at->strings[i].data : "");
            ap->strings[i].len = at->strings[i].data ? at->strings[i].len : 0;
        }
        break;
    case IR_ATTR_TENSORS:
    case IR_ATTR_SPARSE_TENSORS: {
        if (!at->tensors)
            break;
        int sparse = at->kind == IR_ATTR_SPARSE_TENSORS;
        void **arr = fw_array(w, cnt, sizeof(void *));
        if (cnt && !arr)
            return NULL;
        for (size_t i = 0; i < cnt; i++) {
            const IrTensor *t = at->tensors[i];
            arr[i] = sparse ? (void *)fw_sparse(w, t) : (void *)fw_tensor(w, t, t ? t->name : NULL);
            if (!arr[i]) {
                if (!w->failed) {
                    ir_error(w->d, n, "attribute '%s': tensor %zu is missing", at->name, i);
                    w->failed = 1;
                }
                return NULL;
            }
        }
        if (sparse) {
            ap->n_sparse_tensors = cnt;
            ap->sparse_tensors = (Onnx__SparseTensorProto **)arr;
        } else {
            ap->n_tensors = cnt;
            ap->tensors = (Onnx__TensorProto **)arr;
        }
        break;
    }
    case IR_ATTR_GRAPHS:
        if (!at->graphs)
            break;
        ap->n_graphs = cnt;
        if (cnt && !(ap->graphs = fw_array(w, cnt, sizeof *ap->graphs)))
            return NULL;
        for (size_t i = 0; i < cnt; i++) {
            if (!at->graphs[i]) {
                ir_error(w->d, n, "attribute '%s': graph %zu is missing", at->name, i);
                w->failed = 1;
                return NULL;
            }
            if (!(ap->graphs[i] = fw_graph(w, at->graphs[i], depth + 1)))
                return NULL;
        }
        break;
    case IR_ATTR_TYPE_PROTOS:
        if (!at->tps)
            break;
        ap->n_type_protos = cnt;
        if (cnt && !(ap->type_protos = fw_array(w, cnt, sizeof *ap->type_protos)))
            return NULL;
        for (size_t i = 0; i < cnt; i++)
            if (!(ap->type_protos[i] = fw_type_nonnull(w, at->tps[i])))
                return NULL;
        break;
    default:
        ir_error(w->d, n, "attribute '%s' has unknown kind %d", at->name, (int)at->kind);
        w->failed = 1;
        return NULL;
    }
    return ap;
}

static Onnx__NodeProto *fw_node(FeWriter *w, const IrNode *n, int depth) {
    Onnx__NodeProto *np = FW_NEW(w, Onnx__NodeProto, ONNX__NODE_PROTO__INIT);
    if (!np)
        return NULL;
    np->name = fw_opt_str(n->name);
    np->op_type = fw_str(n->op_type);
    np->domain = fw_opt_str(n->domain);
    size_t nin = n->nin > 0 && n->in ? (size_t)n->nin : 0;
    size_t nout = n->nout > 0 && n->out ? (size_t)n->nout : 0;
    size_t nattr = n->nattr > 0 && n->attrs ? (size_t)n->nattr : 0;
    np->n_input = nin;
    np->n_output = nout;
    np->n_attribute = nattr;
    np->input = fw_array(w, nin, sizeof(char *));
    np->output = fw_array(w, nout, sizeof(char *));
    np->attribute = fw_array(w, nattr, sizeof(Onnx__AttributeProto *));
    if ((nin && !np->input) || (nout && !np->output) || (nattr && !np->attribute))
        return NULL;
    for (size_t i = 0; i < nin; i++)
        np->input[i] = fw_str(n->in[i] ? fw_value_name(n->in[i]) : "");
    for (size_t i = 0; i < nout; i++)
        np->output[i] = fw_str(n->out[i] ? n->out[i]->name : "");
    for (size_t i = 0; i < nattr; i++)
        if (!(np->attribute[i] = fw_attr(w, n, &n->attrs[i], depth)))
            return NULL;
    return np;
}

/* 1 if v is a constant that has to be written as an initializer although it is not one (a
 * folded value: constant data, no producer, not an input or outer reference). */
static int fw_is_loose_const(const IrValue *v) {
    return v && v->init && !v->producer &&
           !(v->flags & (IR_VALUE_INITIALIZER | IR_VALUE_INPUT | IR_VALUE_OUTER));
}

static Onnx__GraphProto *fw_graph(FeWriter *w, const IrGraph *g, int depth) {
    if (depth >= IR_MAX_SUBGRAPH_DEPTH) {
        ir_error(w->d, NULL, "graph '%s': subgraphs nested deeper than %d levels", fw_str(g->name),
                 IR_MAX_SUBGRAPH_DEPTH - 1);
        w->failed = 1;
        return NULL;
    }
    Onnx__GraphProto *gp = FW_NEW(w, Onnx__GraphProto, ONNX__GRAPH_PROTO__INIT);
    if (!gp)
        return NULL;
    gp->name = fw_str(g->name);
    gp->doc_string = fw_opt_str(g->doc);
    /* inputs (in an IR version 3 main graph also the constants that become initializers) */
    size_t nloose = 0;
    for (int i = 0; i < g->nvalues; i++)
        nloose += fw_is_loose_const(g->values[i]);
    gp->n_input = (size_t)g->ninputs;
    gp->input = fw_array(w, gp->n_input + (g == w->v3_main ? nloose : 0), sizeof *gp->input);
    if (gp->n_input + (g == w->v3_main ? nloose : 0) && !gp->input)
        return NULL;
    for (int i = 0; i < g->ninputs; i++)
        if (!(gp->input[i] = fw_value_info(w, g->inputs[i]->name, &g->inputs[i]->type)))
            return NULL;
    for (int i = 0; g == w->v3_main && i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        if (fw_is_loose_const(v) &&
            !(gp->input[gp->n_input++] = fw_value_info(w, v->name, &v->type)))
            return NULL;
    }
    /* initializers, then loose constants */
    size_t ninit = (size_t)g->ninits + nloose;
    gp->initializer = fw_array(w, ninit, sizeof *gp->initializer);
    if (ninit && !gp->initializer)
        return NULL;
    for (int i = 0; i < g->ninits; i++) {
        const IrValue *v = g->inits[i];
        if (!(gp->initializer[gp->n_initializer++] = fw_tensor(w, v->init, v->name)))
            return NULL;
    }
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        if (fw_is_loose_const(v) &&
            !(gp->initializer[gp->n_initializer++] = fw_tensor(w, v->init, v->name)))
            return NULL;
    }
    /* nodes */
    gp->node = fw_array(w, g->nnodes > 0 ? (size_t)g->nnodes : 0, sizeof *gp->node);
    if (g->nnodes > 0 && !gp->node)
        return NULL;
    int64_t guard = g->nnodes;
    for (const IrNode *n = g->first; n; n = n->next) {
        if (guard-- <= 0) {
            ir_error(w->d, NULL, "graph '%s': node list longer than nnodes", fw_str(g->name));
            w->failed = 1;
            return NULL;
        }
        if (!(gp->node[gp->n_node++] = fw_node(w, n, depth)))
            return NULL;
    }
    /* outputs */
    gp->n_output = (size_t)g->noutputs;
    gp->output = fw_array(w, gp->n_output, sizeof *gp->output);
    if (gp->n_output && !gp->output)
        return NULL;
    for (int i = 0; i < g->noutputs; i++) {
        const IrValue *v = g->outputs[i];
        if (!(gp->output[i] = fw_value_info(w, fw_value_name(v), &v->type)))
            return NULL;
    }
    /* value_info: every other typed value that is defined by a live node or read from an
     * enclosing graph */
    size_t nvi = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < g->nvalues; i++) {
            const IrValue *v = g->values[i];
            if (!v || v->type.kind == IR_TYPE_UNKNOWN ||
                (v->flags & (IR_VALUE_INPUT | IR_VALUE_OUTPUT | IR_VALUE_INITIALIZER)) ||
                fw_is_loose_const(v) || !(v->producer || (v->flags & IR_VALUE_OUTER)))
                continue;
            if (pass == 1 &&
                !(gp->value_info[gp->n_value_info++] = fw_value_info(w, fw_value_name(v), &v->type)))
                return NULL;
            nvi++;
        }
        if (pass == 0) {
            gp->value_info = fw_array(w, nvi, sizeof *gp->value_info);
            if (nvi && !gp->value_info)
                return NULL;
        }
    }
    return w->failed ? NULL : gp;
}

/* ---------------------------------------------------------------- functions */

/* Opset imports and referenced attribute names collected from a function body. */
typedef struct FwFnInfo {
    Onnx__OperatorSetIdProto **opsets;
    size_t nopsets, cap_opsets;
    char **attrs;
    size_t nattrs, cap_attrs;
} FwFnInfo;

static int fw_grow(FeWriter *w, void ***arr, size_t *cap, size_t need) {
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 8;
    void **n = fw_array(w, ncap, sizeof(void *));
    if (!n)
        return -1;
    if (*cap)
        memcpy(n, *arr, *cap * sizeof(void *));
    *arr = n;
    *cap = ncap;
    return 0;
}

static int fw_fn_collect(FeWriter *w, const IrGraph *g, FwFnInfo *fi, int depth) {
    if (depth >= IR_MAX_SUBGRAPH_DEPTH)
        return 0; /* fw_graph reports it */
    for (const IrNode *n = g->first; n; n = n->next) {
        const char *dom = n->domain ? n->domain : "";
        int seen = 0;
        for (size_t i = 0; i < fi->nopsets && !seen; i++)
            seen = strcmp(fi->opsets[i]->domain ? fi->opsets[i]->domain : "", dom) == 0;
        if (!seen && n->opset >= 0) {
            if (fw_grow(w, (void ***)&fi->opsets, &fi->cap_opsets, fi->nopsets + 1))
                return -1;
            Onnx__OperatorSetIdProto *o = FW_NEW(w, Onnx__OperatorSetIdProto, ONNX__OPERATOR_SET_ID_PROTO__INIT);
            if (!o)
                return -1;
            o->domain = (char *)dom;
            o->has_version = 1;
            o->version = n->opset;
            fi->opsets[fi->nopsets++] = o;
        }
        for (int k = 0; k < n->nattr; k++) {
            const IrAttr *at = &n->attrs[k];
            if (at->ref_attr_name) {
                int dup = 0;
                for (size_t i = 0; i < fi->nattrs && !dup; i++)
                    dup = strcmp(fi->attrs[i], at->ref_attr_name) == 0;
                if (!dup) {
                    if (fw_grow(w, (void ***)&fi->attrs, &fi->cap_attrs, fi->nattrs + 1))
                        return -1;
                    fi->attrs[fi->nattrs++] = (char *)at->ref_attr_name;
                }
            }
            if (at->kind == IR_ATTR_GRAPH && at->g && fw_fn_collect(w, at->g, fi, depth + 1))
                return -1;
            for (int i = 0; at->kind == IR_ATTR_GRAPHS && at->graphs && i < at->n; i++)
                if (at->graphs[i] && fw_fn_collect(w, at->graphs[i], fi, depth + 1))
                    return -1;
        }
    }
    return 0;
}

static Onnx__FunctionProto *fw_function(FeWriter *w, const IrGraph *g, const char *domain) {
    Onnx__FunctionProto *fp = FW_NEW(w, Onnx__FunctionProto, ONNX__FUNCTION_PROTO__INIT);
    if (!fp)
        return NULL;
    const char *name = g->name ? g->name : "";
    size_t dl = strlen(domain);
    if (strncmp(name, domain, dl) == 0 && strncmp(name + dl, "::", 2) == 0)
        name += dl + 2; /* the IR names functions "domain::name" */
    fp->name = (char *)name;
    fp->domain = (char *)domain;
    fp->doc_string = fw_opt_str(g->doc);
    fp->n_input = (size_t)g->ninputs;
    fp->input = fw_array(w, fp->n_input, sizeof(char *));
    fp->n_output = (size_t)g->noutputs;
    fp->output = fw_array(w, fp->n_output, sizeof(char *));
    if ((fp->n_input && !fp->input) || (fp->n_output && !fp->output))
        return NULL;
    for (int i = 0; i < g->ninputs; i++)
        fp->input[i] = fw_str(g->inputs[i]->name);
    for (int i = 0; i < g->noutputs; i++)
        fp->output[i] = fw_str(g->outputs[i]->name);
    /* the body as a graph, then its nodes moved into the function */
    Onnx__GraphProto *gp = fw_graph(w, g, 0);
    if (!gp)
        return NULL;
    fp->n_node = gp->n_node;
    fp->node = gp->node;
    FwFnInfo fi = {0};
    if (fw_fn_collect(w, g, &fi, 0))
        return NULL;
    fp->n_opset_import = fi.nopsets;
    fp->opset_import = fi.opsets;
    fp->n_attribute = fi.nattrs;
    fp->attribute = fi.attrs;
    return fp;
}

/* ---------------------------------------------------------------- model and file */

static Onnx__ModelProto *fw_model(FeWriter *w, const IrModel *m) {
    Onnx__ModelProto *mp = FW_NEW(w, Onnx__ModelProto, ONNX__MODEL_PROTO__INIT);
    if (!mp)
        return NULL;
    mp->has_ir_version = 1;
    mp->ir_version = m->ir_version;
    mp->producer_name = fw_opt_str(m->producer_name);
    mp->producer_version = fw_opt_str(m->producer_version);
    mp->domain = fw_opt_str(m->model_domain);
    mp->has_model_version = 1;
    mp->model_version = m->model_version;
    size_t nops = m->nopsets > 0 && m->opsets ? (size_t)m->nopsets : 0;
    mp->n_opset_import = nops;
    mp->opset_import = fw_array(w, nops, sizeof *mp->opset_import);
    if (nops && !mp->opset_import)
        return NULL;
    for (size_t i = 0; i < nops; i++) {
        Onnx__OperatorSetIdProto *o = FW_NEW(w, Onnx__OperatorSetIdProto, ONNX__OPERATOR_SET_ID_PROTO__INIT);
        if (!o)
            return NULL;
        o->domain = fw_str(m->opsets[i].domain);
        o->has_version = 1;
        o->version = m->opsets[i].version;
        mp->opset_import[i] = o;
    }
    size_t nmeta = m->nmeta > 0 && m->meta_keys && m->meta_values ? (size_t)m->nmeta : 0;
    mp->n_metadata_props = nmeta;
    mp->metadata_props = fw_array(w, nmeta, sizeof *mp->metadata_props);
    if (nmeta && !mp->metadata_props)
        return NULL;
    for (size_t i = 0; i < nmeta; i++) {
        Onnx__StringStringEntryProto *e =
            FW_NEW(w, Onnx__StringStringEntryProto, ONNX__STRING_STRING_ENTRY_PROTO__INIT);
        if (!e)
            return NULL;
        e->key = fw_str(m->meta_keys[i]);
        e->value = fw_str(m->meta_values[i]);
        mp->metadata_props[i] = e;
    }
    size_t nfn = m->nfunctions > 0 && m->functions ? (size_t)m->nfunctions : 0;
    mp->functions = fw_array(w, nfn, sizeof *mp->functions);
    if (nfn && !mp->functions)
        return NULL;
    for (size_t i = 0; i < nfn; i++) {
        if (!m->functions[i])
            continue;
        const char *fd = m->function_domains && m->function_domains[i] ? m->function_domains[i] : "";
        if (!(mp->functions[mp->n_functions++] = fw_function(w, m->functions[i], fd)))
            return NULL;
    }
    if (!m->graph) {
        ir_error(w->d, NULL, "model has no graph");
        w->failed = 1;
        return NULL;
    }
    mp->graph = fw_graph(w, m->graph, 0);
    return w->failed || !mp->graph ? NULL : mp;
}

/* protobuf-c output buffer that writes straight into a FILE (no second copy of the weights). */
typedef struct FwFileBuffer {
    ProtobufCBuffer base; /* must be first */
    FILE *f;
    int err;
} FwFileBuffer;

static void fw_file_append(ProtobufCBuffer *b, size_t len, const uint8_t *data) {
    FwFileBuffer *fb = (FwFileBuffer *)b;
    if (!fb->err && len && fwrite(data, 1, len, fb->f) != len)
        fb->err = errno ? errno : EIO;
}

int fe_write_model(const IrModel *m, const char *path, IrDiag *d) {
    if (!m || !path) {
        ir_error(d, NULL, "fe_write_model: no model or no path");
        return -1;
    }
    FeWriter w = {.a = ir_arena_create(), .d = d,
                  .v3_main = m->ir_version < 4 ? m->graph : NULL};
    if (!w.a) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    int rc = -1;
    char *tmp = NULL;
    FILE *f = NULL;
    int fd = -1;
    Onnx__ModelProto *mp = fw_model(&w, m);
    if (!mp)
        goto done;
    size_t tl = strlen(path) + 16;
    if (!(tmp = malloc(tl))) {
        ir_error(d, NULL, "out of memory");
        goto done;
    }
    snprintf(tmp, tl, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        ir_error(d, NULL, "cannot create a temporary file next to '%s': %s", path, strerror(errno));
        free(tmp);
        tmp = NULL;
        goto done;
    }
    if (!(f = fdopen(fd, "wb"))) {
        ir_error(d, NULL, "cannot write '%s': %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1; /* owned by f */
    (void)fchmod(fileno(f), 0644); /* mkstemp creates 0600; a model file is ordinary data */
    FwFileBuffer fb = {.base = {.append = fw_file_append}, .f = f};
    errno = 0;
    protobuf_c_message_pack_to_buffer(&mp->base, &fb.base);
    if (fb.err || fflush(f) != 0 || fsync(fileno(f)) != 0) {
        ir_error(d, NULL, "error writing '%s': %s", tmp, strerror(fb.err ? fb.err : errno));
        goto done;
    }
    int cl = fclose(f);
    f = NULL;
    if (cl != 0) {
        ir_error(d, NULL, "error writing '%s': %s", tmp, strerror(errno));
        goto done;
    }
    if (rename(tmp, path) != 0) {
        ir_error(d, NULL, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (f)
        fclose(f);
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp)
        unlink(tmp);
    free(tmp);
    ir_arena_destroy(w.a);
    return rc;
}
