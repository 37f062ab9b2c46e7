/* test_frontend.c - cmocka tests of the ONNX importer (frontend/).
 *
 * Models are built here with protobuf-c and packed to bytes, so each test states its input
 * exactly. Expected values are written by hand from the ONNX encoding rules (e.g. float16 1.0 =
 * 0x3C00, int4 -1 = nibble 0xF), never taken from the code under test. The last tests load
 * every model and tensor of the ONNX backend test data (env ONNXC_BACKEND_TESTS overrides
 * ../shared/onnx-backend-tests).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "onnxpb/onnx.pb-c.h"

/* ---------------------------------------------------------------- protobuf builders */

/* Every allocation of a builder is recorded here and freed by tfree_all(). */
static void **g_allocs;
static size_t g_nallocs, g_capallocs;

static void *T(size_t n) {
    void *p = calloc(1, n ? n : 1);
    assert_non_null(p);
    if (g_nallocs == g_capallocs) {
        g_capallocs = g_capallocs ? g_capallocs * 2 : 256;
        g_allocs = realloc(g_allocs, g_capallocs * sizeof *g_allocs);
        assert_non_null(g_allocs);
    }
    g_allocs[g_nallocs++] = p;
    return p;
}

static void tfree_all(void) {
    for (size_t i = 0; i < g_nallocs; i++)
        free(g_allocs[i]);
    free(g_allocs);
    g_allocs = NULL;
    g_nallocs = g_capallocs = 0;
}

/* n bytes (may contain NUL) copied into a builder allocation. */
static uint8_t *BYTES(const char *s, size_t n) {
    uint8_t *p = T(n + 1);
    memcpy(p, s, n);
    return p;
}

static char *S(const char *s) {
    char *p = T(strlen(s) + 1);
    memcpy(p, s, strlen(s));
    return p;
}

#define CAP 80
/* Appends x to the repeated field (arr, n) (capacity CAP). */
#define APPEND(arr, n, x)                                                                          \
    do {                                                                                           \
        if (!(arr))                                                                                \
            (arr) = T(CAP * sizeof(*(arr)));                                                       \
        assert_true((n) < CAP);                                                                    \
        (arr)[(n)++] = (x);                                                                        \
    } while (0)

static Onnx__TensorProto *mk_tensor(const char *name, int dt, int rank, const int64_t *dims) {
    Onnx__TensorProto *t = T(sizeof *t);
    onnx__tensor_proto__init(t);
    if (name)
        t->name = S(name);
    t->has_data_type = 1;
    t->data_type = dt;
    t->n_dims = (size_t)rank;
    t->dims = T((size_t)(rank + 1) * sizeof(int64_t));
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    return t;
}

static void t_raw(Onnx__TensorProto *t, const void *p, size_t n) {
    t->has_raw_data = 1;
    t->raw_data.data = T(n);
    memcpy(t->raw_data.data, p, n);
    t->raw_data.len = n;
}

static void t_floats(Onnx__TensorProto *t, const float *v, size_t n) {
    t->float_data = T(n * sizeof(float));
    memcpy(t->float_data, v, n * sizeof(float));
    t->n_float_data = n;
}

static void t_int32s(Onnx__TensorProto *t, const int32_t *v, size_t n) {
    t->int32_data = T(n * sizeof(int32_t));
    memcpy(t->int32_data, v, n * sizeof(int32_t));
    t->n_int32_data = n;
}

static void t_ext(Onnx__TensorProto *t, const char *loc, const char *off, const char *len) {
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {loc, off, len};
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        Onnx__StringStringEntryProto *e = T(sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = S(keys[i]);
        e->value = S(vals[i]);
        APPEND(t->external_data, t->n_external_data, e);
    }
}

/* Tensor type; dims[i] < 0 means unknown, unless syms[i] names a symbol. */
static Onnx__TypeProto *mk_ttype(int dt, int rank, const int64_t *dims, const char *const *syms) {
    Onnx__TypeProto *tp = T(sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = T(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = dt;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = T(sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *dm = T(sizeof *dm);
            onnx__tensor_shape_proto__dimension__init(dm);
            if (syms && syms[i]) {
                dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                dm->dim_param = S(syms[i]);
            } else if (dims[i] >= 0) {
                dm->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                dm->dim_value = dims[i];
            }
            APPEND(sh->dim, sh->n_dim, dm);
        }
        tt->shape = sh;
    }
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    return tp;
}

static Onnx__ValueInfoProto *mk_vi(const char *name, Onnx__TypeProto *type) {
    Onnx__ValueInfoProto *v = T(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = S(name);
    v->type = type;
    return v;
}

static Onnx__NodeProto *mk_node(const char *op, const char *name, const char *domain,
                                const char *ins, const char *outs) {
    /* ins/outs: comma-separated names; an empty item is an omitted optional slot */
    Onnx__NodeProto *n = T(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = S(op);
    if (name)
        n->name = S(name);
    if (domain)
        n->domain = S(domain);
    for (int k = 0; k < 2; k++) {
        const char *p = k ? outs : ins;
        if (!p)
            continue;
        for (;;) {
            const char *e = strchr(p, ',');
            size_t l = e ? (size_t)(e - p) : strlen(p);
            char *s = T(l + 1);
            memcpy(s, p, l);
            if (k)
                APPEND(n->output, n->n_output, s);
            else
                APPEND(n->input, n->n_input, s);
            if (!e)
                break;
            p = e + 1;
        }
    }
    return n;
}

static Onnx__AttributeProto *mk_attr(Onnx__NodeProto *n, const char *name, int type) {
    Onnx__AttributeProto *a = T(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = S(name);
    a->has_type = 1;
    a->type = (Onnx__AttributeProto__AttributeType)type;
    APPEND(n->attribute, n->n_attribute, a);
    return a;
}

static Onnx__GraphProto *mk_graph(const char *name) {
    Onnx__GraphProto *g = T(sizeof *g);
    onnx__graph_proto__init(g);
    g->name = S(name);
    return g;
}

static Onnx__ModelProto *mk_model(int64_t irv, Onnx__GraphProto *g) {
    Onnx__ModelProto *m = T(sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = irv;
    m->graph = g;
    return m;
}

static void add_opset(Onnx__ModelProto *m, const char *domain, int64_t v) {
    Onnx__OperatorSetIdProto *o = T(sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = S(domain);
    o->has_version = 1;
    o->version = v;
    APPEND(m->opset_import, m->n_opset_import, o);
}

static uint8_t *pack_model(const Onnx__ModelProto *m, size_t *len) {
    *len = onnx__model_proto__get_packed_size(m);
    uint8_t *b = T(*len);
    assert_int_equal(onnx__model_proto__pack(m, b), *len);
    return b;
}

static uint8_t *pack_tensor(const Onnx__TensorProto *t, size_t *len) {
    *len = onnx__tensor_proto__get_packed_size(t);
    uint8_t *b = T(*len);
    assert_int_equal(onnx__tensor_proto__pack(t, b), *len);
    return b;
}

static IrModel *load_buf(const Onnx__ModelProto *mp, const char *dir, IrDiag *d) {
    size_t len;
    uint8_t *b = pack_model(mp, &len);
    return fe_load_model_buffer(b, len, "test.onnx", dir, NULL, d);
}

/* 1 if some diagnostic contains `needle`. */
static int diag_has(const IrDiag *d, const char *needle) {
    for (int i = 0; i < d->nentries; i++)
        if (strstr(d->entries[i].msg, needle))
            return 1;
    return 0;
}

static void print_diag(const IrDiag *d) {
    for (int i = 0; i < d->nentries; i++)
        print_message("  diag: %s\n", d->entries[i].msg);
}

static IrValue *find_init(const IrGraph *g, const char *name) {
    for (int i = 0; i < g->ninits; i++)
        if (!strcmp(g->inits[i]->name, name))
            return g->inits[i];
    return NULL;
}

/* ---------------------------------------------------------------- the MLP model */

/* X[N,4] -> MatMul W[4,3] -> Add B[3] -> Relu -> Y[N,3], plus a com.example node with one
 * attribute of every kind. */
static Onnx__ModelProto *mlp_model(void) {
    Onnx__GraphProto *g = mk_graph("mlp");
    const char *syms[2] = {"N", NULL};
    APPEND(g->input, g->n_input, mk_vi("X", mk_ttype(1, 2, (int64_t[]){-1, 4}, syms)));
    Onnx__TensorProto *W = mk_tensor("W", 1, 2, (int64_t[]){4, 3});
    float w[12];
    for (int i = 0; i < 12; i++)
        w[i] = 0.5f * (float)i - 1.0f;
    t_floats(W, w, 12);
    Onnx__TensorProto *B = mk_tensor("B", 1, 1, (int64_t[]){3});
    float b[3] = {0.25f, -1.5f, 3.0f};
    t_raw(B, b, sizeof b);
    APPEND(g->initializer, g->n_initializer, W);
    APPEND(g->initializer, g->n_initializer, B);
    APPEND(g->node, g->n_node, mk_node("MatMul", "mm", NULL, "X,W", "H"));
    APPEND(g->node, g->n_node, mk_node("Add", "add", "", "H,B", "Z"));
    APPEND(g->node, g->n_node, mk_node("Relu", "relu", NULL, "Z", "Y"));
    Onnx__NodeProto *c = mk_node("Fancy", "fancy", "com.example", "Y,,B", "F,");
    APPEND(g->node, g->n_node, c);
    Onnx__AttributeProto *a;
    a = mk_attr(c, "f", 1); a->has_f = 1; a->f = 0.125f;
    a = mk_attr(c, "i", 2); a->has_i = 1; a->i = -7;
    a = mk_attr(c, "s", 3); a->has_s = 1; a->s.data = (uint8_t *)S("hi"); a->s.len = 2;
    a = mk_attr(c, "t", 4);
    a->t = mk_tensor("tv", 7, 1, (int64_t[]){2});
    a->t->int64_data = T(2 * sizeof(int64_t));
    a->t->int64_data[0] = 5; a->t->int64_data[1] = -9; a->t->n_int64_data = 2;
    a = mk_attr(c, "fs", 6);
    a->floats = T(3 * sizeof(float)); a->n_floats = 3;
    a->floats[0] = 1; a->floats[1] = 2.5f; a->floats[2] = -3;
    a = mk_attr(c, "is", 7);
    a->ints = T(2 * sizeof(int64_t)); a->n_ints = 2; a->ints[0] = 1; a->ints[1] = (int64_t)1 << 40;
    a = mk_attr(c, "ss", 8);
    a->strings = T(2 * sizeof(ProtobufCBinaryData)); a->n_strings = 2;
    a->strings[0].data = (uint8_t *)S("a"); a->strings[0].len = 1;
    a->strings[1].data = BYTES("b\0c", 3); a->strings[1].len = 3;
    a = mk_attr(c, "ts", 9);
    Onnx__TensorProto *t1 = mk_tensor(NULL, 6, 0, NULL);
    t_int32s(t1, (int32_t[]){42}, 1);
    APPEND(a->tensors, a->n_tensors, t1);
    a = mk_attr(c, "sp", 11);
    a->sparse_tensor = T(sizeof(Onnx__SparseTensorProto));
    onnx__sparse_tensor_proto__init(a->sparse_tensor);
    a->sparse_tensor->values = mk_tensor("spv", 1, 1, (int64_t[]){2});
    t_floats(a->sparse_tensor->values, (float[]){7, 8}, 2);
    a->sparse_tensor->indices = mk_tensor("spi", 7, 1, (int64_t[]){2});
    a->sparse_tensor->indices->int64_data = T(2 * sizeof(int64_t));
    a->sparse_tensor->indices->int64_data[0] = 1;
    a->sparse_tensor->indices->int64_data[1] = 4;
    a->sparse_tensor->indices->n_int64_data = 2;
    a->sparse_tensor->dims = T(2 * sizeof(int64_t));
    a->sparse_tensor->dims[0] = 2; a->sparse_tensor->dims[1] = 3; a->sparse_tensor->n_dims = 2;
    a = mk_attr(c, "tp", 13);
    a->tp = mk_ttype(10, 1, (int64_t[]){5}, NULL);
    a = mk_attr(c, "ref", 2);
    a->ref_attr_name = S("outer_attr");
    APPEND(g->output, g->n_output, mk_vi("Y", mk_ttype(1, 2, (int64_t[]){-1, 3}, syms)));
    APPEND(g->value_info, g->n_value_info, mk_vi("H", mk_ttype(1, 2, (int64_t[]){-1, 3}, syms)));
    Onnx__ModelProto *m = mk_model(8, g);
    m->producer_name = S("unit-test");
    m->producer_version = S("1.0");
    add_opset(m, "", 13);
    add_opset(m, "com.example", 2);
    Onnx__StringStringEntryProto *e = T(sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = S("author");
    e->value = S("me");
    APPEND(m->metadata_props, m->n_metadata_props, e);
    return m;
}

static void test_mlp(void **state) {
    (void)state;
    IrDiag d;
    ir_diag_init(&d, "mlp.onnx");
    IrModel *m = load_buf(mlp_model(), NULL, &d);
    print_diag(&d);
    assert_non_null(m);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(m->ir_version, 8);
    assert_string_equal(m->producer_name, "unit-test");
    assert_string_equal(m->producer_version, "1.0");
    assert_int_equal(ir_model_opset(m, ""), 13);
    assert_int_equal(ir_model_opset(m, "ai.onnx"), 13);
    assert_int_equal(ir_model_opset(m, "com.example"), 2);
    assert_int_equal(m->nmeta, 1);
    assert_string_equal(m->meta_keys[0], "author");
    assert_string_equal(m->meta_values[0], "me");
    IrGraph *g = m->graph;
    assert_string_equal(g->name, "mlp");
    /* inputs */
    assert_int_equal(g->ninputs, 1);
    IrValue *x = g->inputs[0];
    assert_string_equal(x->name, "X");
    assert_true(x->flags & IR_VALUE_INPUT);
    assert_int_equal(x->type.kind, IR_TYPE_TENSOR);
    assert_int_equal(x->type.dtype, IR_DT_FLOAT);
    assert_int_equal(x->type.rank, 2);
    assert_true(x->type.dims[0].value < 0);
    assert_string_equal(x->type.dims[0].sym, "N");
    assert_int_equal(x->type.dims[1].value, 4);
    assert_null(x->type.dims[1].sym);
    /* initializers */
    assert_int_equal(g->ninits, 2);
    IrValue *w = find_init(g, "W");
    assert_non_null(w);
    assert_true(w->flags & IR_VALUE_INITIALIZER);
    assert_false(w->flags & IR_VALUE_INPUT);
    assert_int_equal(w->init->dtype, IR_DT_FLOAT);
    assert_int_equal(w->init->rank, 2);
    assert_int_equal(w->init->dims[0], 4);
    assert_int_equal(w->init->dims[1], 3);
    assert_int_equal(w->init->numel, 12);
    assert_int_equal(w->type.rank, 2);
    assert_int_equal(w->type.dims[1].value, 3);
    const float *wd = w->init->data;
    assert_true(wd[0] == -1.0f && wd[1] == -0.5f && wd[11] == 4.5f);
    IrValue *b = find_init(g, "B");
    const float *bd = b->init->data;
    assert_true(bd[0] == 0.25f && bd[1] == -1.5f && bd[2] == 3.0f);
    /* nodes in order */
    assert_int_equal(g->nnodes, 4);
    IrNode *n = g->first;
    assert_string_equal(n->op_type, "MatMul");
    assert_string_equal(n->name, "mm");
    assert_int_equal(n->opset, 13);
    assert_ptr_equal(n->in[0], x);
    assert_ptr_equal(n->in[1], w);
    IrValue *h = n->out[0];
    assert_ptr_equal(h->producer, n);
    /* value_info applied */
    assert_int_equal(h->type.kind, IR_TYPE_TENSOR);
    assert_int_equal(h->type.rank, 2);
    assert_int_equal(h->type.dims[1].value, 3);
    n = n->next;
    assert_string_equal(n->op_type, "Add");
    assert_ptr_equal(n->in[0], h);
    assert_ptr_equal(n->in[1], b);
    n = n->next;
    assert_string_equal(n->op_type, "Relu");
    IrValue *y = n->out[0];
    n = n->next;
    assert_string_equal(n->op_type, "Fancy");
    assert_string_equal(n->domain, "com.example");
    assert_int_equal(n->opset, 2);
    assert_int_equal(n->nin, 3);
    assert_ptr_equal(n->in[0], y);
    assert_null(n->in[1]);
    assert_ptr_equal(n->in[2], b);
    assert_int_equal(n->nout, 2);
    assert_non_null(n->out[0]);
    assert_null(n->out[1]);
    /* outputs */
    assert_int_equal(g->noutputs, 1);
    assert_ptr_equal(g->outputs[0], y);
    assert_true(y->flags & IR_VALUE_OUTPUT);
    assert_string_equal(y->type.dims[0].sym, "N");
    /* attributes */
    assert_int_equal(n->nattr, 11);
    assert_true(ir_attr_float(n, "f", 0) == 0.125f);
    assert_int_equal(ir_attr_int(n, "i", 0), -7);
    const IrAttr *a = ir_node_attr(n, "s");
    assert_int_equal(a->kind, IR_ATTR_STRING);
    assert_int_equal(a->s.len, 2);
    assert_memory_equal(a->s.data, "hi", 2);
    a = ir_node_attr(n, "t");
    assert_int_equal(a->kind, IR_ATTR_TENSOR);
    assert_int_equal(a->t->dtype, IR_DT_INT64);
    assert_int_equal(((int64_t *)a->t->data)[1], -9);
    const float *fs;
    assert_int_equal(ir_attr_floats(n, "fs", &fs), 3);
    assert_true(fs[1] == 2.5f && fs[2] == -3.0f);
    const int64_t *is;
    assert_int_equal(ir_attr_ints(n, "is", &is), 2);
    assert_int_equal(is[1], (int64_t)1 << 40);
    a = ir_node_attr(n, "ss");
    assert_int_equal(a->n, 2);
    assert_int_equal(a->strings[1].len, 3);
    assert_memory_equal(a->strings[1].data, "b\0c", 3);
    a = ir_node_attr(n, "ts");
    assert_int_equal(a->n, 1);
    assert_int_equal(a->tensors[0]->rank, 0);
    assert_int_equal(a->tensors[0]->numel, 1);
    assert_int_equal(*(int32_t *)a->tensors[0]->data, 42);
    a = ir_node_attr(n, "sp");
    assert_int_equal(a->kind, IR_ATTR_SPARSE_TENSOR);
    assert_int_equal(a->t->numel, 6);
    const float *spd = a->t->data;
    const float want_sp[6] = {0, 7, 0, 0, 8, 0};
    for (int i = 0; i < 6; i++)
        assert_true(spd[i] == want_sp[i]);
    a = ir_node_attr(n, "tp");
    assert_int_equal(a->tp->kind, IR_TYPE_TENSOR);
    assert_int_equal(a->tp->dtype, IR_DT_FLOAT16);
    assert_int_equal(a->tp->rank, 1);
    assert_int_equal(a->tp->dims[0].value, 5);
    a = ir_node_attr(n, "ref");
    assert_string_equal(a->ref_attr_name, "outer_attr");
    assert_int_equal(ir_verify(g, &d), 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    tfree_all();
}

/* ---------------------------------------------------------------- subgraphs, scoping */

static void test_subgraph_outer(void **state) {
    (void)state;
    /* main: If(cond) then {Loop body uses X from main} else {Identity(X)} */
    Onnx__GraphProto *g = mk_graph("main");
    APPEND(g->input, g->n_input, mk_vi("cond", mk_ttype(9, 0, NULL, NULL)));
    APPEND(g->input, g->n_input, mk_vi("X", mk_ttype(1, 1, (int64_t[]){3}, NULL)));
    Onnx__GraphProto *body = mk_graph("body");
    APPEND(body->input, body->n_input, mk_vi("it", mk_ttype(7, 0, NULL, NULL)));
    APPEND(body->input, body->n_input, mk_vi("c", mk_ttype(9, 0, NULL, NULL)));
    APPEND(body->node, body->n_node, mk_node("Identity", "bi", NULL, "c", "c_out"));
    APPEND(body->node, body->n_node, mk_node("Neg", "bn", NULL, "X", "scan_out"));
    APPEND(body->output, body->n_output, mk_vi("c_out", NULL));
    APPEND(body->output, body->n_output, mk_vi("scan_out", NULL));
    Onnx__GraphProto *then_g = mk_graph("then");
    APPEND(then_g->node, then_g->n_node, mk_node("Constant", "tc", NULL, NULL, "trip"));
    Onnx__AttributeProto *ca = mk_attr(then_g->node[0], "value", 4);
    ca->t = mk_tensor("trip_v", 7, 0, NULL);
    ca->t->int64_data = T(8); ca->t->int64_data[0] = 2; ca->t->n_int64_data = 1;
    Onnx__NodeProto *loop = mk_node("Loop", "lp", NULL, "trip,cond", "scanned");
    Onnx__AttributeProto *ba = mk_attr(loop, "body", 5);
    ba->g = body;
    APPEND(then_g->node, then_g->n_node, loop);
    APPEND(then_g->output, then_g->n_output, mk_vi("scanned", NULL));
    Onnx__GraphProto *else_g = mk_graph("else");
    APPEND(else_g->output, else_g->n_output, mk_vi("X", NULL)); /* output = outer value */
    Onnx__NodeProto *ifn = mk_node("If", "if", NULL, "cond", "R");
    mk_attr(ifn, "then_branch", 5)->g = then_g;
    mk_attr(ifn, "else_branch", 5)->g = else_g;
    APPEND(g->node, g->n_node, ifn);
    APPEND(g->output, g->n_output, mk_vi("R", NULL));
    Onnx__ModelProto *mp = mk_model(8, g);
    add_opset(mp, "", 17);

    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_buf(mp, NULL, &d);
    print_diag(&d);
    assert_non_null(m);
    IrGraph *mg = m->graph;
    IrValue *X = ir_graph_find_value(mg, "X");
    IrValue *cond = ir_graph_find_value(mg, "cond");
    IrNode *n = mg->first;
    assert_string_equal(n->op_type, "If");
    const IrAttr *ta = ir_node_attr(n, "then_branch");
    assert_int_equal(ta->kind, IR_ATTR_GRAPH);
    IrGraph *tg = ta->g;
    assert_ptr_equal(tg->parent, mg);
    assert_string_equal(tg->name, "then");
    /* Loop in then-branch reads 'cond' from main: an OUTER value in 'then' */
    IrNode *ln = tg->first->next;
    assert_string_equal(ln->op_type, "Loop");
    assert_true(ln->in[1]->flags & IR_VALUE_OUTER);
    assert_ptr_equal(ln->in[1]->outer, cond);
    /* the body reads X from main through 'then' (one OUTER value per level) */
    IrGraph *bg = ir_node_attr(ln, "body")->g;
    assert_ptr_equal(bg->parent, tg);
    assert_int_equal(bg->ninputs, 2);
    IrNode *neg = bg->first->next;
    IrValue *xb = neg->in[0];
    assert_true(xb->flags & IR_VALUE_OUTER);
    assert_ptr_equal(xb->outer, ir_graph_find_value(tg, "X"));
    assert_true(xb->outer->flags & IR_VALUE_OUTER);
    assert_ptr_equal(xb->outer->outer, X);
    assert_null(xb->producer);
    /* else-branch output is main's X directly */
    IrGraph *eg = ir_node_attr(n, "else_branch")->g;
    assert_int_equal(eg->noutputs, 1);
    assert_true(eg->outputs[0]->flags & IR_VALUE_OUTER);
    assert_ptr_equal(eg->outputs[0]->outer, X);
    assert_int_equal(ir_verify(mg, &d), 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    tfree_all();
}

/* ---------------------------------------------------------------- graph-level rules */

static void test_ir3_initializer_as_input(void **state) {
    (void)state;
    Onnx__GraphProto *g = mk_graph("g");
    APPEND(g->input, g->n_input, mk_vi("data", mk_ttype(1, 1, (int64_t[]){2}, NULL)));
    APPEND(g->input, g->n_input, mk_vi("w", mk_ttype(1, 1, (int64_t[]){2}, NULL)));
    Onnx__TensorProto *w = mk_tensor("w", 1, 1, (int64_t[]){2});
    t_floats(w, (float[]){3, 4}, 2);
    APPEND(g->initializer, g->n_initializer, w);
    APPEND(g->node, g->n_node, mk_node("Mul", "m", NULL, "data,w", "y"));
    APPEND(g->output, g->n_output, mk_vi("y", NULL));
    Onnx__ModelProto *mp = mk_model(3, g);
    add_opset(mp, "", 8);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_buf(mp, NULL, &d);
    print_diag(&d);
    assert_non_null(m);
    assert_int_equal(m->graph->ninputs, 2);
    IrValue *v = m->graph->inputs[1];
    assert_string_equal(v->name, "w");
    assert_true(v->flags & IR_VALUE_INPUT);
    assert_true(v->flags & IR_VALUE_INITIALIZER);
    assert_int_equal(m->graph->ninits, 1);
    assert_ptr_equal(m->graph->inits[0], v);
    assert_true(((float *)v->init->data)[1] == 4.0f);
    assert_ptr_equal(m->graph->first->in[1], v);
    assert_int_equal(ir_verify(m->graph, &d), 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    tfree_all();
}

static void test_ir_version_2_rejected(void **state) {
    (void)state;
    Onnx__GraphProto *g = mk_graph("g");
    APPEND(g->input, g->n_input, mk_vi("x", mk_ttype(1, 0, NULL, NULL)));
    APPEND(g->output, g->n_output, mk_vi("x", NULL));
    Onnx__ModelProto *mp = mk_model(2, g);
    add_opset(mp, "", 1);
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(d.nerrors > 0);
    assert_true(diag_has(&d, "IR version 2"));
    ir_diag_free(&d);
    /* and a model with no ir_version at all */
    mp->has_ir_version = 0;
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "IR version 0"));
    ir_diag_free(&d);
    tfree_all();
}

static void test_use_before_def_and_undefined(void **state) {
    (void)state;
    /* out of file order: the loader accepts it (the verifier judges the order) */
    Onnx__GraphProto *g = mk_graph("g");
    APPEND(g->input, g->n_input, mk_vi("x", mk_ttype(1, 1, (int64_t[]){2}, NULL)));
    APPEND(g->node, g->n_node, mk_node("Relu", "second", NULL, "t", "y"));
    APPEND(g->node, g->n_node, mk_node("Neg", "first", NULL, "x", "t"));
    APPEND(g->output, g->n_output, mk_vi("y", NULL));
    Onnx__ModelProto *mp = mk_model(7, g);
    add_opset(mp, "", 13);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_buf(mp, NULL, &d);
    assert_non_null(m);
    IrValue *t = m->graph->first->in[0];
    assert_string_equal(t->name, "t");
    assert_ptr_equal(t->producer, m->graph->last);
    assert_null(t->user);
    assert_int_equal(d.nerrors, 0);
    assert_true(ir_verify(m->graph, &d) > 0); /* the verifier reports the order */
    ir_model_destroy(m);
    ir_diag_free(&d);
    /* a value that nothing defines: error naming it */
    g->node[1]->input[0] = S("nowhere");
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "'nowhere' is used but never defined"));
    ir_diag_free(&d);
    /* an output that nothing defines, and a value defined twice */
    g->node[1]->input[0] = S("x");
    g->node[1]->output[0] = S("y");
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "'y' is assigned more than once"));
    ir_diag_free(&d);
    tfree_all();
}

static void test_functions(void **state) {
    (void)state;
    Onnx__FunctionProto *f = T(sizeof *f);
    onnx__function_proto__init(f);
    f->name = S("AddMul");
    f->domain = S("custom");
    APPEND(f->input, f->n_input, S("a"));
    APPEND(f->input, f->n_input, S("b"));
    APPEND(f->output, f->n_output, S("c"));
    APPEND(f->attribute, f->n_attribute, S("alpha"));
    APPEND(f->node, f->n_node, mk_node("Add", "fa", NULL, "a,b", "s"));
    Onnx__NodeProto *fm = mk_node("Mul", "fm", NULL, "s,a", "c");
    Onnx__AttributeProto *ra = mk_attr(fm, "unused", 1);
    ra->ref_attr_name = S("alpha");
    APPEND(f->node, f->n_node, fm);
    Onnx__OperatorSetIdProto *o = T(sizeof *o);
    onnx__operator_set_id_proto__init(o);
    o->domain = S("");
    o->has_version = 1;
    o->version = 14;
    APPEND(f->opset_import, f->n_opset_import, o);

    Onnx__GraphProto *g = mk_graph("g");
    APPEND(g->input, g->n_input, mk_vi("x", mk_ttype(1, 1, (int64_t[]){2}, NULL)));
    APPEND(g->node, g->n_node, mk_node("AddMul", "call", "custom", "x,x", "y"));
    APPEND(g->output, g->n_output, mk_vi("y", NULL));
    Onnx__ModelProto *mp = mk_model(8, g);
    add_opset(mp, "", 13);
    add_opset(mp, "custom", 1);
    APPEND(mp->functions, mp->n_functions, f);
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_buf(mp, NULL, &d);
    print_diag(&d);
    assert_non_null(m);
    assert_int_equal(m->nfunctions, 1);
    IrGraph *fg = m->functions[0];
    assert_string_equal(fg->name, "custom::AddMul");
    assert_string_equal(m->function_domains[0], "custom");
    assert_int_equal(fg->ninputs, 2);
    assert_string_equal(fg->inputs[0]->name, "a");
    assert_int_equal(fg->noutputs, 1);
    assert_string_equal(fg->outputs[0]->name, "c");
    assert_int_equal(fg->nnodes, 2);
    assert_int_equal(fg->first->opset, 14); /* the function's own opset_import */
    assert_string_equal(ir_node_attr(fg->last, "unused")->ref_attr_name, "alpha");
    assert_string_equal(m->graph->first->domain, "custom");
    assert_int_equal(m->graph->first->opset, 1);
    assert_int_equal(ir_verify(m->graph, &d), 0);
    assert_int_equal(ir_verify(fg, &d), 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    tfree_all();
}

static void test_subgraph_depth_cap(void **state) {
    (void)state;
    /* 80 nested If nodes: deeper than IR_MAX_SUBGRAPH_DEPTH, must fail cleanly */
    Onnx__GraphProto *inner = mk_graph("leaf");
    APPEND(inner->output, inner->n_output, mk_vi("c", NULL));
    Onnx__GraphProto *leaf = inner;
    for (int i = 0; i < 80; i++) {
        Onnx__GraphProto *g = mk_graph("lvl");
        Onnx__NodeProto *n = mk_node("If", "if", NULL, "c", "r");
        mk_attr(n, "then_branch", 5)->g = inner;
        mk_attr(n, "else_branch", 5)->g = leaf; /* not `inner`: that would be 2^80 loads */
        APPEND(g->node, g->n_node, n);
        APPEND(g->output, g->n_output, mk_vi("r", NULL));
        inner = g;
    }
    APPEND(inner->input, inner->n_input, mk_vi("c", mk_ttype(9, 0, NULL, NULL)));
    Onnx__ModelProto *mp = mk_model(8, inner);
    add_opset(mp, "", 13);
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "nested deeper"));
    ir_diag_free(&d);
    tfree_all();
}

static void test_types_and_list_attrs(void **state) {
    (void)state;
    Onnx__GraphProto *g = mk_graph("g");
    /* input s: seq(map(int64 -> optional(f32[2]))) ; input sp: sparse f16[3,?] */
    Onnx__TypeProto *opt = T(sizeof *opt);
    onnx__type_proto__init(opt);
    opt->value_case = ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE;
    opt->optional_type = T(sizeof(Onnx__TypeProto__Optional));
    onnx__type_proto__optional__init(opt->optional_type);
    opt->optional_type->elem_type = mk_ttype(IR_DT_FLOAT, 1, (int64_t[]){2}, NULL);
    Onnx__TypeProto *map = T(sizeof *map);
    onnx__type_proto__init(map);
    map->value_case = ONNX__TYPE_PROTO__VALUE_MAP_TYPE;
    map->map_type = T(sizeof(Onnx__TypeProto__Map));
    onnx__type_proto__map__init(map->map_type);
    map->map_type->has_key_type = 1;
    map->map_type->key_type = IR_DT_INT64;
    map->map_type->value_type = opt;
    Onnx__TypeProto *seq = T(sizeof *seq);
    onnx__type_proto__init(seq);
    seq->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    seq->sequence_type = T(sizeof(Onnx__TypeProto__Sequence));
    onnx__type_proto__sequence__init(seq->sequence_type);
    seq->sequence_type->elem_type = map;
    APPEND(g->input, g->n_input, mk_vi("s", seq));
    Onnx__TypeProto *spt = T(sizeof *spt);
    onnx__type_proto__init(spt);
    spt->value_case = ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE;
    spt->sparse_tensor_type = T(sizeof(Onnx__TypeProto__SparseTensor));
    onnx__type_proto__sparse_tensor__init(spt->sparse_tensor_type);
    spt->sparse_tensor_type->has_elem_type = 1;
    spt->sparse_tensor_type->elem_type = IR_DT_FLOAT16;
    spt->sparse_tensor_type->shape = mk_ttype(1, 2, (int64_t[]){3, -1}, NULL)->tensor_type->shape;
    APPEND(g->input, g->n_input, mk_vi("sp", spt));
    /* sparse initializer with [NNZ, rank] coordinates: (0,1)=5 and (2,0)=6 in a 3x2 int32 */
    Onnx__SparseTensorProto *si = T(sizeof *si);
    onnx__sparse_tensor_proto__init(si);
    si->values = mk_tensor("S", IR_DT_INT32, 1, (int64_t[]){2});
    t_int32s(si->values, (int32_t[]){5, 6}, 2);
    si->indices = mk_tensor(NULL, IR_DT_INT64, 2, (int64_t[]){2, 2});
    si->indices->int64_data = T(4 * sizeof(int64_t));
    si->indices->int64_data[0] = 0; si->indices->int64_data[1] = 1;
    si->indices->int64_data[2] = 2; si->indices->int64_data[3] = 0;
    si->indices->n_int64_data = 4;
    si->dims = T(2 * sizeof(int64_t)); si->dims[0] = 3; si->dims[1] = 2; si->n_dims = 2;
    APPEND(g->sparse_initializer, g->n_sparse_initializer, si);
    /* a node (default domain spelled "ai.onnx") with GRAPHS and TYPE_PROTOS attributes */
    Onnx__NodeProto *n = mk_node("Identity", "id", "ai.onnx", "S", "out");
    Onnx__AttributeProto *a = mk_attr(n, "gs", 10);
    for (int i = 0; i < 2; i++) {
        Onnx__GraphProto *sg = mk_graph(i ? "g1" : "g0");
        APPEND(sg->node, sg->n_node, mk_node("Identity", "in", NULL, "S", "o"));
        APPEND(sg->output, sg->n_output, mk_vi("o", NULL));
        APPEND(a->graphs, a->n_graphs, sg);
    }
    a = mk_attr(n, "tps", 14);
    APPEND(a->type_protos, a->n_type_protos, seq);
    APPEND(a->type_protos, a->n_type_protos, mk_ttype(IR_DT_BOOL, 0, NULL, NULL));
    APPEND(g->node, g->n_node, n);
    APPEND(g->output, g->n_output, mk_vi("out", NULL));
    Onnx__ModelProto *mp = mk_model(8, g);
    add_opset(mp, "ai.onnx", 15);

    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_buf(mp, NULL, &d);
    print_diag(&d);
    assert_non_null(m);
    IrGraph *mg = m->graph;
    const IrType *t = &mg->inputs[0]->type;
    assert_int_equal(t->kind, IR_TYPE_SEQUENCE);
    assert_int_equal(t->elem->kind, IR_TYPE_MAP);
    assert_int_equal(t->elem->dtype, IR_DT_INT64);
    assert_int_equal(t->elem->elem->kind, IR_TYPE_OPTIONAL);
    assert_int_equal(t->elem->elem->elem->kind, IR_TYPE_TENSOR);
    assert_int_equal(t->elem->elem->elem->dtype, IR_DT_FLOAT);
    assert_int_equal(t->elem->elem->elem->dims[0].value, 2);
    t = &mg->inputs[1]->type;
    assert_int_equal(t->kind, IR_TYPE_SPARSE_TENSOR);
    assert_int_equal(t->dtype, IR_DT_FLOAT16);
    assert_int_equal(t->rank, 2);
    assert_int_equal(t->dims[0].value, 3);
    assert_true(t->dims[1].value < 0 && t->dims[1].sym == NULL);
    IrValue *S = find_init(mg, "S");
    assert_non_null(S);
    assert_int_equal(S->init->numel, 6);
    assert_memory_equal(S->init->data, ((int32_t[]){0, 5, 0, 0, 6, 0}), 6 * sizeof(int32_t));
    IrNode *node = mg->first;
    assert_string_equal(node->domain, "");
    assert_int_equal(node->opset, 15);
    const IrAttr *ga = ir_node_attr(node, "gs");
    assert_int_equal(ga->kind, IR_ATTR_GRAPHS);
    assert_int_equal(ga->n, 2);
    assert_string_equal(ga->graphs[1]->name, "g1");
    assert_ptr_equal(ga->graphs[1]->parent, mg);
    assert_ptr_equal(ga->graphs[0]->first->in[0]->outer, S);
    const IrAttr *ta = ir_node_attr(node, "tps");
    assert_int_equal(ta->n, 2);
    assert_int_equal(ta->tps[0]->kind, IR_TYPE_SEQUENCE);
    assert_int_equal(ta->tps[1]->dtype, IR_DT_BOOL);
    assert_int_equal(ta->tps[1]->rank, 0);
    assert_int_equal(ir_verify(mg, &d), 0);
    ir_model_destroy(m);
    ir_diag_free(&d);
    /* an out-of-range sparse coordinate is an error naming the tensor */
    si->indices->int64_data[3] = 2;
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "'S': sparse index 1 is out of range"));
    ir_diag_free(&d);
    tfree_all();
}

/* ---------------------------------------------------------------- element types */

static IrTensor *dec(IrArena *a, const Onnx__TensorProto *t, IrDiag *d) {
    size_t len;
    uint8_t *b = pack_tensor(t, &len);
    return fe_read_tensor_pb_buffer(a, b, len, "t.pb", d);
}

/* Decodes t and checks it has no error, dtype dt and n elements. */
static IrTensor *dec_ok(IrArena *a, const Onnx__TensorProto *t, int dt, int64_t n) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrTensor *r = dec(a, t, &d);
    print_diag(&d);
    assert_non_null(r);
    assert_int_equal(d.nerrors, 0);
    assert_int_equal(r->dtype, dt);
    assert_int_equal(r->numel, n);
    ir_diag_free(&d);
    return r;
}

/* Decoding t must fail with a message containing needle. */
static void dec_fail(IrArena *a, const Onnx__TensorProto *t, const char *needle) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_null(dec(a, t, &d));
    assert_true(d.nerrors > 0);
    if (!diag_has(&d, needle)) {
        print_diag(&d);
        fail_msg("expected a diagnostic containing '%s'", needle);
    }
    ir_diag_free(&d);
}

static void test_dtypes(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    Onnx__TensorProto *t;
    IrTensor *r;

    /* FLOAT16: 1.0 = 0x3C00, -2.0 = 0xC000, +inf = 0x7C00; typed (int32_data) and raw */
    t = mk_tensor("h", IR_DT_FLOAT16, 1, (int64_t[]){3});
    t_int32s(t, (int32_t[]){0x3C00, 0xC000, 0x7C00}, 3);
    r = dec_ok(a, t, IR_DT_FLOAT16, 3);
    assert_int_equal(((uint16_t *)r->data)[0], 0x3C00);
    assert_int_equal(((uint16_t *)r->data)[1], 0xC000);
    assert_int_equal(((uint16_t *)r->data)[2], 0x7C00);
    t = mk_tensor("h", IR_DT_FLOAT16, 1, (int64_t[]){2});
    t_raw(t, (uint8_t[]){0x00, 0x3C, 0x00, 0xC0}, 4);
    r = dec_ok(a, t, IR_DT_FLOAT16, 2);
    assert_int_equal(((uint16_t *)r->data)[0], 0x3C00);
    assert_int_equal(((uint16_t *)r->data)[1], 0xC000);

    /* BFLOAT16: 1.0 = 0x3F80, -0.5 = 0xBF00 */
    t = mk_tensor("bf", IR_DT_BFLOAT16, 1, (int64_t[]){2});
    t_raw(t, (uint8_t[]){0x80, 0x3F, 0x00, 0xBF}, 4);
    r = dec_ok(a, t, IR_DT_BFLOAT16, 2);
    assert_int_equal(((uint16_t *)r->data)[0], 0x3F80);
    assert_int_equal(((uint16_t *)r->data)[1], 0xBF00);
    t = mk_tensor("bf", IR_DT_BFLOAT16, 1, (int64_t[]){1});
    t_int32s(t, (int32_t[]){0xBF00}, 1);
    r = dec_ok(a, t, IR_DT_BFLOAT16, 1);
    assert_int_equal(((uint16_t *)r->data)[0], 0xBF00);

    /* INT4 [-1, 7, -8, 3, 5]: nibbles F,7,8,3,5 -> bytes 0x7F, 0x38, 0x05 (low nibble first) */
    const int8_t i4[5] = {-1, 7, -8, 3, 5};
    t = mk_tensor("i4", IR_DT_INT4, 1, (int64_t[]){5});
    t_raw(t, (uint8_t[]){0x7F, 0x38, 0x05}, 3);
    r = dec_ok(a, t, IR_DT_INT4, 5);
    assert_memory_equal(r->data, i4, 5);
    t = mk_tensor("i4", IR_DT_INT4, 1, (int64_t[]){5});
    t_int32s(t, (int32_t[]){0x7F, 0x38, 0x05}, 3); /* typed: one packed byte per int32 */
    r = dec_ok(a, t, IR_DT_INT4, 5);
    assert_memory_equal(r->data, i4, 5);
    /* UINT4: same bytes -> 15, 7, 8, 3, 5 */
    t = mk_tensor("u4", IR_DT_UINT4, 1, (int64_t[]){5});
    t_raw(t, (uint8_t[]){0x7F, 0x38, 0x05}, 3);
    r = dec_ok(a, t, IR_DT_UINT4, 5);
    assert_memory_equal(r->data, ((uint8_t[]){15, 7, 8, 3, 5}), 5);
    /* FLOAT4E2M1: raw 4-bit codes kept (0xF = -6.0 code stays 0x0F) */
    t = mk_tensor("f4", IR_DT_FLOAT4E2M1, 1, (int64_t[]){2});
    t_raw(t, (uint8_t[]){0x2F}, 1);
    r = dec_ok(a, t, IR_DT_FLOAT4E2M1, 2);
    assert_memory_equal(r->data, ((uint8_t[]){0x0F, 0x02}), 2);
    /* INT2 [-2, -1, 0, 1, 1]: codes 2,3,0,1 | 1 -> 0b01001110 = 0x4E, 0x01 */
    t = mk_tensor("i2", IR_DT_INT2, 1, (int64_t[]){5});
    t_raw(t, (uint8_t[]){0x4E, 0x01}, 2);
    r = dec_ok(a, t, IR_DT_INT2, 5);
    assert_memory_equal(r->data, ((int8_t[]){-2, -1, 0, 1, 1}), 5);
    t = mk_tensor("u2", IR_DT_UINT2, 1, (int64_t[]){4});
    t_int32s(t, (int32_t[]){0x4E}, 1);
    r = dec_ok(a, t, IR_DT_UINT2, 4);
    assert_memory_equal(r->data, ((uint8_t[]){2, 3, 0, 1}), 4);

    /* BOOL: any nonzero is true, stored as 0/1 */
    t = mk_tensor("b", IR_DT_BOOL, 1, (int64_t[]){3});
    t_int32s(t, (int32_t[]){0, 1, 5}, 3);
    r = dec_ok(a, t, IR_DT_BOOL, 3);
    assert_memory_equal(r->data, ((uint8_t[]){0, 1, 1}), 3);
    t = mk_tensor("b", IR_DT_BOOL, 1, (int64_t[]){2});
    t_raw(t, (uint8_t[]){2, 0}, 2);
    r = dec_ok(a, t, IR_DT_BOOL, 2);
    assert_memory_equal(r->data, ((uint8_t[]){1, 0}), 2);

    /* STRING (with an embedded NUL and an empty string) */
    t = mk_tensor("s", IR_DT_STRING, 1, (int64_t[]){3});
    t->string_data = T(3 * sizeof(ProtobufCBinaryData));
    t->string_data[0].data = (uint8_t *)S("ab"); t->string_data[0].len = 2;
    t->string_data[1].data = NULL; t->string_data[1].len = 0;
    t->string_data[2].data = BYTES("x\0y", 3); t->string_data[2].len = 3;
    t->n_string_data = 3;
    r = dec_ok(a, t, IR_DT_STRING, 3);
    const IrString *ss = r->data;
    assert_int_equal(ss[0].len, 2);
    assert_memory_equal(ss[0].data, "ab", 2);
    assert_int_equal(ss[1].len, 0);
    assert_int_equal(ss[2].len, 3);
    assert_memory_equal(ss[2].data, "x\0y", 3);

    /* DOUBLE typed and raw */
    t = mk_tensor("d", IR_DT_DOUBLE, 1, (int64_t[]){2});
    t->double_data = T(16); t->double_data[0] = 1.5; t->double_data[1] = -2.25; t->n_double_data = 2;
    r = dec_ok(a, t, IR_DT_DOUBLE, 2);
    assert_true(((double *)r->data)[0] == 1.5 && ((double *)r->data)[1] == -2.25);
    t = mk_tensor("d", IR_DT_DOUBLE, 0, NULL);
    /* 1.0 as IEEE double little-endian: 00 00 00 00 00 00 F0 3F */
    t_raw(t, (uint8_t[]){0, 0, 0, 0, 0, 0, 0xF0, 0x3F}, 8);
    r = dec_ok(a, t, IR_DT_DOUBLE, 1);
    assert_true(*(double *)r->data == 1.0);

    /* UINT64 / UINT32 from uint64_data */
    t = mk_tensor("u64", IR_DT_UINT64, 1, (int64_t[]){2});
    t->uint64_data = T(16); t->uint64_data[0] = UINT64_MAX; t->uint64_data[1] = 7; t->n_uint64_data = 2;
    r = dec_ok(a, t, IR_DT_UINT64, 2);
    assert_true(((uint64_t *)r->data)[0] == UINT64_MAX && ((uint64_t *)r->data)[1] == 7);
    t = mk_tensor("u32", IR_DT_UINT32, 1, (int64_t[]){2});
    t->uint64_data = T(16); t->uint64_data[0] = 4294967295u; t->uint64_data[1] = 1; t->n_uint64_data = 2;
    r = dec_ok(a, t, IR_DT_UINT32, 2);
    assert_true(((uint32_t *)r->data)[0] == 4294967295u && ((uint32_t *)r->data)[1] == 1);

    /* INT64 typed; INT8 / UINT16 / INT32 from int32_data */
    t = mk_tensor("i64", IR_DT_INT64, 1, (int64_t[]){2});
    t->int64_data = T(16); t->int64_data[0] = INT64_MIN; t->int64_data[1] = 3; t->n_int64_data = 2;
    r = dec_ok(a, t, IR_DT_INT64, 2);
    assert_true(((int64_t *)r->data)[0] == INT64_MIN);
    t = mk_tensor("i8", IR_DT_INT8, 1, (int64_t[]){2});
    t_int32s(t, (int32_t[]){-128, 127}, 2);
    r = dec_ok(a, t, IR_DT_INT8, 2);
    assert_memory_equal(r->data, ((int8_t[]){-128, 127}), 2);
    t = mk_tensor("u16", IR_DT_UINT16, 1, (int64_t[]){1});
    t_int32s(t, (int32_t[]){65535}, 1);
    r = dec_ok(a, t, IR_DT_UINT16, 1);
    assert_int_equal(*(uint16_t *)r->data, 65535);
    t = mk_tensor("i32", IR_DT_INT32, 1, (int64_t[]){2});
    t_raw(t, (uint8_t[]){0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x02, 0x00, 0x00}, 8);
    r = dec_ok(a, t, IR_DT_INT32, 2);
    assert_int_equal(((int32_t *)r->data)[0], -1);
    assert_int_equal(((int32_t *)r->data)[1], 0x0201);

    /* COMPLEX64 as (re, im) pairs; FLOAT8E4M3FN (type 17, newer than the schema) */
    t = mk_tensor("c", IR_DT_COMPLEX64, 1, (int64_t[]){2});
    t_floats(t, (float[]){1, 2, 3, 4}, 4);
    r = dec_ok(a, t, IR_DT_COMPLEX64, 2);
    assert_true(((float *)r->data)[1] == 2.0f && ((float *)r->data)[3] == 4.0f);
    t = mk_tensor("f8", IR_DT_FLOAT8E4M3FN, 1, (int64_t[]){2});
    t_int32s(t, (int32_t[]){0x38, 0xB8}, 2); /* 1.0 and -1.0 in E4M3FN */
    r = dec_ok(a, t, IR_DT_FLOAT8E4M3FN, 2);
    assert_memory_equal(r->data, ((uint8_t[]){0x38, 0xB8}), 2);

    /* raw and typed FLOAT give the same values; 0x3F800000 = 1.0f */
    t = mk_tensor("f", IR_DT_FLOAT, 1, (int64_t[]){2});
    t_raw(t, (uint8_t[]){0, 0, 0x80, 0x3F, 0, 0, 0, 0xC0}, 8);
    r = dec_ok(a, t, IR_DT_FLOAT, 2);
    assert_true(((float *)r->data)[0] == 1.0f && ((float *)r->data)[1] == -2.0f);

    /* empty tensor with no data is fine */
    t = mk_tensor("e", IR_DT_FLOAT, 2, (int64_t[]){0, 3});
    r = dec_ok(a, t, IR_DT_FLOAT, 0);

    ir_arena_destroy(a);
    tfree_all();
}

static void test_tensor_errors(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    Onnx__TensorProto *t;
    /* typed count disagrees with dims */
    t = mk_tensor("short", IR_DT_FLOAT, 2, (int64_t[]){2, 3});
    t_floats(t, (float[]){1, 2, 3, 4, 5}, 5);
    dec_fail(a, t, "'short': float_data has 5 entries but dims need 6");
    /* raw length disagrees with dims */
    t = mk_tensor("rawlen", IR_DT_FLOAT, 2, (int64_t[]){2, 3});
    t_raw(t, (uint8_t[23]){0}, 23);
    dec_fail(a, t, "'rawlen': raw_data has 23 bytes");
    t = mk_tensor("i4len", IR_DT_INT4, 1, (int64_t[]){5});
    t_raw(t, (uint8_t[]){0, 0}, 2);
    dec_fail(a, t, "'i4len': raw_data has 2 bytes");
    /* absurd dims */
    t = mk_tensor("huge", IR_DT_FLOAT, 1, (int64_t[]){(int64_t)1 << 62});
    dec_fail(a, t, "'huge'");
    t = mk_tensor("ovf", IR_DT_FLOAT, 3, (int64_t[]){(int64_t)1 << 31, (int64_t)1 << 31, 4});
    dec_fail(a, t, "'ovf': element count overflows");
    t = mk_tensor("neg", IR_DT_FLOAT, 1, (int64_t[]){-3});
    dec_fail(a, t, "'neg': dimension 0 is negative");
    /* rank beyond the cap */
    int64_t dims[IR_MAX_RANK + 1];
    for (int i = 0; i <= IR_MAX_RANK; i++)
        dims[i] = 1;
    t = mk_tensor("deep", IR_DT_FLOAT, IR_MAX_RANK + 1, dims);
    t_floats(t, (float[]){1}, 1);
    dec_fail(a, t, "'deep': rank 65 exceeds the limit");
    /* unknown element type, wrong field for the type, no data */
    t = mk_tensor("ty", 99, 1, (int64_t[]){1});
    dec_fail(a, t, "'ty': unsupported or undefined element type 99");
    t = mk_tensor("field", IR_DT_FLOAT, 1, (int64_t[]){1});
    t->int64_data = T(8); t->n_int64_data = 1;
    dec_fail(a, t, "'field': data is stored in a field that does not match");
    t = mk_tensor("nodata", IR_DT_FLOAT, 1, (int64_t[]){4});
    dec_fail(a, t, "'nodata': has no data");
    t = mk_tensor("rawstr", IR_DT_STRING, 1, (int64_t[]){1});
    t_raw(t, "a", 1);
    dec_fail(a, t, "'rawstr': STRING tensors cannot use raw_data");
    /* external data in a buffer with no folder */
    t = mk_tensor("ext", IR_DT_FLOAT, 1, (int64_t[]){1});
    t_ext(t, "w.bin", NULL, NULL);
    dec_fail(a, t, "'ext'");
    /* not a protobuf at all */
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_null(fe_read_tensor_pb_buffer(a, "\xff\xff\xff", 3, "junk.pb", &d));
    assert_true(diag_has(&d, "junk.pb"));
    ir_diag_free(&d);
    /* a SequenceProto {name "s", elem_type TENSOR, tensor_values [float[1] {2.0}]} by hand */
    t = mk_tensor("e", IR_DT_FLOAT, 1, (int64_t[]){1});
    t_floats(t, (float[]){2.0f}, 1);
    size_t tl;
    uint8_t *tb = pack_tensor(t, &tl);
    uint8_t seq[128];
    size_t k = 0;
    seq[k++] = 1 << 3 | 2; seq[k++] = 1; seq[k++] = 's';
    seq[k++] = 2 << 3 | 0; seq[k++] = 1;
    seq[k++] = 3 << 3 | 2; seq[k++] = (uint8_t)tl;
    memcpy(seq + k, tb, tl);
    k += tl;
    ir_diag_init(&d, NULL);
    assert_null(fe_read_tensor_pb_buffer(a, seq, k, "seq.pb", &d));
    assert_true(diag_has(&d, "'seq.pb' looks like a SequenceProto or OptionalProto"));
    ir_diag_free(&d);
    ir_arena_destroy(a);
    tfree_all();
}

/* ---------------------------------------------------------------- malformed models */

static void test_truncated_prefixes(void **state) {
    (void)state;
    size_t len;
    uint8_t *full = pack_model(mlp_model(), &len);
    int loaded = 0;
    for (size_t n = 0; n < len; n++) {
        uint8_t *b = malloc(n ? n : 1); /* exact size so that ASan sees any over-read */
        memcpy(b, full, n);
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrModel *m = fe_load_model_buffer(b, n, "trunc.onnx", NULL, NULL, &d);
        if (m) {
            loaded++; /* a cut at a field boundary can still be a valid (smaller) model */
            assert_int_equal(d.nerrors, 0);
            ir_model_destroy(m);
        } else {
            assert_true(d.nerrors > 0);
        }
        ir_diag_free(&d);
        free(b);
    }
    assert_true(loaded < (int)len); /* most prefixes are rejected */
    tfree_all();
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint64_t rng(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void test_random_flips(void **state) {
    (void)state;
    size_t len;
    uint8_t *full = pack_model(mlp_model(), &len);
    uint8_t *b = malloc(len);
    int rejected = 0;
    for (int it = 0; it < 4000; it++) {
        memcpy(b, full, len);
        int nflips = 1 + (int)(rng() % 4);
        for (int k = 0; k < nflips; k++) {
            size_t at = (size_t)(rng() % len);
            if (rng() & 1)
                b[at] ^= (uint8_t)(1u << (rng() % 8));
            else
                b[at] = (uint8_t)rng();
        }
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrModel *m = fe_load_model_buffer(b, len, "flip.onnx", NULL, NULL, &d);
        if (m)
            ir_model_destroy(m);
        else {
            assert_true(d.nerrors > 0);
            rejected++;
        }
        ir_diag_free(&d);
    }
    assert_true(rejected > 0);
    free(b);
    tfree_all();
}

static void test_model_level_tensor_errors(void **state) {
    (void)state;
    /* an initializer with absurd dims inside a model: error names it, no crash */
    Onnx__GraphProto *g = mk_graph("g");
    Onnx__TensorProto *t = mk_tensor("bigW", IR_DT_FLOAT, 2, (int64_t[]){(int64_t)1 << 62, 4});
    APPEND(g->initializer, g->n_initializer, t);
    APPEND(g->output, g->n_output, mk_vi("bigW", NULL));
    Onnx__ModelProto *mp = mk_model(8, g);
    add_opset(mp, "", 13);
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "initializer 'bigW'"));
    ir_diag_free(&d);
    /* input type with rank above the cap */
    int64_t dims[IR_MAX_RANK + 1];
    for (int i = 0; i <= IR_MAX_RANK; i++)
        dims[i] = 1;
    g = mk_graph("g");
    APPEND(g->input, g->n_input, mk_vi("x", mk_ttype(1, IR_MAX_RANK + 1, dims, NULL)));
    APPEND(g->output, g->n_output, mk_vi("x", NULL));
    mp = mk_model(8, g);
    add_opset(mp, "", 13);
    ir_diag_init(&d, NULL);
    assert_null(load_buf(mp, NULL, &d));
    assert_true(diag_has(&d, "rank 65 exceeds"));
    ir_diag_free(&d);
    tfree_all();
}

/* Appends a protobuf varint. */
static size_t put_varint(uint8_t *b, uint64_t v) {
    size_t n = 0;
    do {
        b[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

static size_t varint_len(uint64_t v) {
    uint8_t tmp[10];
    return put_varint(tmp, v);
}

/* Wraps payload p[0..n) as field `field` (length-delimited) into a new buffer. */
static uint8_t *wrap_field(const uint8_t *p, size_t n, unsigned field, size_t *out_len) {
    uint8_t *b = T(n + 16);
    size_t k = put_varint(b, (uint64_t)field << 3 | 2);
    k += put_varint(b + k, n);
    memcpy(b + k, p, n);
    *out_len = k + n;
    return b;
}

static void test_deep_nesting_bytes(void **state) {
    (void)state;
    /* ModelProto{ir_version 8, graph{input{type: seq(seq(seq(...)))}}} with 200000 levels,
     * written by hand (protobuf-c's own pack and unpack are recursive). */
    enum { LEVELS = 200000 };
    size_t *L = malloc((LEVELS + 1) * sizeof *L), *Q = malloc((LEVELS + 1) * sizeof *Q);
    L[0] = 0; /* innermost TypeProto: empty */
    for (int k = 1; k <= LEVELS; k++) {
        Q[k] = 1 + varint_len(L[k - 1]) + L[k - 1]; /* TypeProto.Sequence{elem_type = 1} */
        L[k] = 1 + varint_len(Q[k]) + Q[k];         /* TypeProto{sequence_type = 4} */
    }
    uint8_t *tp = malloc(L[LEVELS]);
    size_t pos = 0;
    for (int k = LEVELS; k >= 1; k--) {
        tp[pos++] = 4 << 3 | 2;
        pos += put_varint(tp + pos, Q[k]);
        tp[pos++] = 1 << 3 | 2;
        pos += put_varint(tp + pos, L[k - 1]);
    }
    assert_int_equal(pos, L[LEVELS]);
    size_t n1, n2, n3;
    uint8_t *vi = wrap_field(tp, pos, 2, &n1);   /* ValueInfoProto.type */
    uint8_t *gr = wrap_field(vi, n1, 11, &n2);   /* GraphProto.input */
    uint8_t *gf = wrap_field(gr, n2, 7, &n3);    /* ModelProto.graph */
    uint8_t *model = T(n3 + 2);
    model[0] = 1 << 3 | 0;                       /* ModelProto.ir_version = 8 */
    model[1] = 8;
    memcpy(model + 2, gf, n3);
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_null(fe_load_model_buffer(model, n3 + 2, "deep.onnx", NULL, NULL, &d));
    assert_true(diag_has(&d, "nested deeper"));
    ir_diag_free(&d);
    free(tp);
    free(L);
    free(Q);
    tfree_all();
}

/* ---------------------------------------------------------------- external data */

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Writes dir/model.onnx with one external initializer and loads it. */
static IrModel *load_ext(const char *dir, const char *loc, const char *off, const char *len,
                         int64_t n, IrDiag *d) {
    Onnx__GraphProto *g = mk_graph("g");
    Onnx__TensorProto *t = mk_tensor("wext", IR_DT_FLOAT, 1, (int64_t[]){n});
    t_ext(t, loc, off, len);
    APPEND(g->initializer, g->n_initializer, t);
    APPEND(g->output, g->n_output, mk_vi("wext", NULL));
    Onnx__ModelProto *mp = mk_model(8, g);
    add_opset(mp, "", 13);
    size_t blen;
    uint8_t *b = pack_model(mp, &blen);
    char path[512];
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    write_bytes(path, b, blen);
    return fe_load_model(path, NULL, d);
}

static void expect_ext_error(const char *dir, const char *loc, const char *off, const char *len,
                             int64_t n, const char *needle) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_ext(dir, loc, off, len, n, &d);
    assert_null(m);
    if (!diag_has(&d, needle) || !diag_has(&d, "'wext'")) {
        print_diag(&d);
        fail_msg("expected a diagnostic naming 'wext' and containing '%s'", needle);
    }
    ir_diag_free(&d);
}

static void test_external_data(void **state) {
    (void)state;
    char dir[] = "/tmp/onnxc_fe_XXXXXX", out[] = "/tmp/onnxc_fe_out_XXXXXX";
    assert_non_null(mkdtemp(dir));
    assert_non_null(mkdtemp(out));
    char p[600], q[600];
    float w[8];
    for (int i = 0; i < 8; i++)
        w[i] = 1.5f * (float)i;
    snprintf(p, sizeof p, "%s/w.bin", dir);
    write_bytes(p, w, sizeof w);
    snprintf(p, sizeof p, "%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    snprintf(p, sizeof p, "%s/sub/w2.bin", dir);
    write_bytes(p, w, sizeof w);
    snprintf(q, sizeof q, "%s/secret.bin", out);
    write_bytes(q, w, sizeof w);
    snprintf(p, sizeof p, "%s/escape.bin", dir);
    assert_int_equal(symlink(q, p), 0);
    snprintf(p, sizeof p, "%s/inside.bin", dir);
    assert_int_equal(symlink("sub/w2.bin", p), 0);

    /* whole file, a slice, a sub-folder, a symlink that stays inside */
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = load_ext(dir, "w.bin", NULL, NULL, 8, &d);
    print_diag(&d);
    assert_non_null(m);
    assert_memory_equal(m->graph->inits[0]->init->data, w, sizeof w);
    ir_model_destroy(m);
    m = load_ext(dir, "w.bin", "8", "8", 2, &d);
    assert_non_null(m);
    const float *v = m->graph->inits[0]->init->data;
    assert_true(v[0] == 3.0f && v[1] == 4.5f);
    ir_model_destroy(m);
    m = load_ext(dir, "sub/w2.bin", "28", NULL, 1, &d);
    assert_non_null(m);
    assert_true(*(float *)m->graph->inits[0]->init->data == 10.5f);
    ir_model_destroy(m);
    m = load_ext(dir, "inside.bin", "4", "4", 1, &d);
    assert_non_null(m);
    assert_true(*(float *)m->graph->inits[0]->init->data == 1.5f);
    ir_model_destroy(m);
    assert_int_equal(d.nerrors, 0);
    ir_diag_free(&d);

    /* rejected locations and ranges */
    expect_ext_error(dir, q, NULL, NULL, 8, "is an absolute path");
    expect_ext_error(dir, "C:\\w.bin", NULL, NULL, 8, "is an absolute path");
    expect_ext_error(dir, "../x.bin", NULL, NULL, 8, "contains a '..' component");
    expect_ext_error(dir, "sub/../../x.bin", NULL, NULL, 8, "contains a '..' component");
    expect_ext_error(dir, "escape.bin", NULL, NULL, 8, "resolves outside the model folder");
    expect_ext_error(dir, "w.bin", "64", NULL, 1, "past the end");
    expect_ext_error(dir, "w.bin", "40", NULL, 1, "past the end");
    expect_ext_error(dir, "w.bin", "24", "16", 4, "outside the file");
    expect_ext_error(dir, "w.bin", "-4", NULL, 1, "bad offset");
    expect_ext_error(dir, "missing.bin", NULL, NULL, 1, "cannot be opened");
    expect_ext_error(dir, "w.bin", "0", "12", 2, "external data has 12 bytes");
    expect_ext_error(dir, "sub", NULL, NULL, 1, "not a regular file");

    /* a .pb tensor file resolves external data relative to its own folder */
    {
        Onnx__TensorProto *t = mk_tensor("pbext", IR_DT_FLOAT, 1, (int64_t[]){2});
        t_ext(t, "w.bin", "4", "8");
        size_t tl;
        uint8_t *tb = pack_tensor(t, &tl);
        snprintf(p, sizeof p, "%s/ext.pb", dir);
        write_bytes(p, tb, tl);
        IrArena *ar = ir_arena_create();
        ir_diag_init(&d, NULL);
        IrTensor *r = fe_read_tensor_pb(ar, p, &d);
        print_diag(&d);
        assert_non_null(r);
        assert_true(((float *)r->data)[0] == 1.5f && ((float *)r->data)[1] == 3.0f);
        ir_diag_free(&d);
        ir_arena_destroy(ar);
        unlink(p);
    }

    /* disabled by option */
    ir_diag_init(&d, NULL);
    snprintf(p, sizeof p, "%s/model.onnx", dir);
    ir_model_destroy(load_ext(dir, "w.bin", NULL, NULL, 8, NULL));
    FeOptions o = {.max_file_bytes = 0, .allow_external_data = 0};
    assert_null(fe_load_model(p, &o, &d));
    assert_true(diag_has(&d, "disabled"));
    ir_diag_free(&d);
    /* size cap on the model file */
    ir_diag_init(&d, NULL);
    FeOptions o2 = {.max_file_bytes = 10, .allow_external_data = 1};
    assert_null(fe_load_model(p, &o2, &d));
    assert_true(diag_has(&d, "limit"));
    ir_diag_free(&d);

    /* clean up */
    const char *names[] = {"w.bin", "sub/w2.bin", "escape.bin", "inside.bin", "model.onnx"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    rmdir(dir);
    unlink(q);
    rmdir(out);
    tfree_all();
}

/* ---------------------------------------------------------------- .pb write / read */

static void test_write_read_pb(void **state) {
    (void)state;
    char dir[] = "/tmp/onnxc_fe_pb_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p[600];
    snprintf(p, sizeof p, "%s/t.pb", dir);
    IrArena *a = ir_arena_create();
    IrDiag d;
    ir_diag_init(&d, NULL);

    /* INT4 [5] = -1 7 -8 3 5 must be written packed 0x7F 0x38 0x05 */
    IrTensor *t = ir_tensor_new(a, IR_DT_INT4, 1, (int64_t[]){5});
    memcpy(t->data, ((int8_t[]){-1, 7, -8, 3, 5}), 5);
    assert_int_equal(fe_write_tensor_pb(p, t, "q", &d), 0);
    void *buf;
    size_t len;
    assert_int_equal(fe_read_file(p, 0, &buf, &len, &d), 0);
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(NULL, len, buf);
    assert_non_null(tp);
    assert_string_equal(tp->name, "q");
    assert_int_equal(tp->data_type, IR_DT_INT4);
    assert_int_equal(tp->raw_data.len, 3);
    assert_memory_equal(tp->raw_data.data, ((uint8_t[]){0x7F, 0x38, 0x05}), 3);
    onnx__tensor_proto__free_unpacked(tp, NULL);
    free(buf);
    IrTensor *r = fe_read_tensor_pb(a, p, &d);
    assert_non_null(r);
    assert_string_equal(r->name, "q");
    assert_memory_equal(r->data, t->data, 5);

    /* FLOAT [2,2] and STRING round trips */
    t = ir_tensor_new(a, IR_DT_FLOAT, 2, (int64_t[]){2, 2});
    memcpy(t->data, ((float[]){1, -2, 3.5f, 0}), 16);
    assert_int_equal(fe_write_tensor_pb(p, t, NULL, &d), 0);
    r = fe_read_tensor_pb(a, p, &d);
    assert_non_null(r);
    assert_int_equal(r->rank, 2);
    assert_int_equal(r->dims[1], 2);
    assert_memory_equal(r->data, t->data, 16);
    t = ir_tensor_new(a, IR_DT_STRING, 1, (int64_t[]){2});
    ((IrString *)t->data)[0] = (IrString){"hello", 5};
    ((IrString *)t->data)[1] = (IrString){"", 0};
    assert_int_equal(fe_write_tensor_pb(p, t, "s", &d), 0);
    r = fe_read_tensor_pb(a, p, &d);
    assert_non_null(r);
    assert_int_equal(((IrString *)r->data)[0].len, 5);
    assert_memory_equal(((IrString *)r->data)[0].data, "hello", 5);
    assert_int_equal(((IrString *)r->data)[1].len, 0);
    assert_int_equal(d.nerrors, 0);

    /* no temporary files left; writing into a missing folder fails cleanly */
    DIR *dd = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(dd)))
        if (e->d_name[0] != '.')
            files++;
    closedir(dd);
    assert_int_equal(files, 1);
    snprintf(p, sizeof p, "%s/nope/t.pb", dir);
    assert_int_equal(fe_write_tensor_pb(p, t, "s", &d), -1);
    assert_true(d.nerrors > 0);
    /* fe_read_file: missing file, size cap */
    assert_int_equal(fe_read_file(p, 0, &buf, &len, &d), -1);
    snprintf(p, sizeof p, "%s/t.pb", dir);
    assert_int_equal(fe_read_file(p, 3, &buf, &len, &d), -1);
    assert_true(diag_has(&d, "more than the limit"));
    unlink(p);
    rmdir(dir);
    ir_diag_free(&d);
    ir_arena_destroy(a);
}

/* ---------------------------------------------------------------- ONNX backend test data */

static const char *backend_root(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Sorted entry names of a folder (malloc'ed; free with free_names). */
static char **list_dir(const char *p, int *n) {
    *n = 0;
    DIR *dd = opendir(p);
    if (!dd)
        return NULL;
    int cap = 64;
    char **v = malloc((size_t)cap * sizeof *v);
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.')
            continue;
        if (*n == cap) {
            cap *= 2;
            v = realloc(v, (size_t)cap * sizeof *v);
        }
        v[(*n)++] = strdup(e->d_name);
    }
    closedir(dd);
    qsort(v, (size_t)*n, sizeof *v, cmp_str);
    return v;
}

static void free_names(char **v, int n) {
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The graph's K-th input that is not an initializer (the order of input_K.pb). */
static const IrValue *fed_input(const IrGraph *g, int k) {
    for (int i = 0; i < g->ninputs; i++)
        if (!(g->inputs[i]->flags & IR_VALUE_INITIALIZER) && k-- == 0)
            return g->inputs[i];
    return NULL;
}

typedef struct BtStats {
    int models, model_fail, tensors, tensor_fail, other_pb, verify_fail;
} BtStats;

/* Loads test folder `dir` (model.onnx + test_data_set_*). */
static void backend_one(const char *dir, BtStats *st) {
    char p[1200];
    snprintf(p, sizeof p, "%s/model.onnx", dir);
    if (!is_file(p))
        return;
    IrDiag d;
    ir_diag_init(&d, p);
    IrModel *m = fe_load_model(p, NULL, &d);
    st->models++;
    if (!m) {
        st->model_fail++;
        print_message("FAILED to load %s\n", p);
        print_diag(&d);
        ir_diag_free(&d);
        return;
    }
    ir_diag_free(&d);
    /* what the frontend built must pass the structural verifier */
    ir_diag_init(&d, p);
    if (ir_verify(m->graph, &d) != 0) {
        st->verify_fail++;
        print_message("ir_verify FAILED on %s\n", p);
        print_diag(&d);
    }
    ir_diag_free(&d);
    int ns;
    char **sets = list_dir(dir, &ns);
    for (int s = 0; s < ns; s++) {
        if (strncmp(sets[s], "test_data_set_", 14) != 0)
            continue;
        char sp[1400];
        snprintf(sp, sizeof sp, "%s/%s", dir, sets[s]);
        int nf;
        char **files = list_dir(sp, &nf);
        for (int f = 0; f < nf; f++) {
            int k;
            int isin = sscanf(files[f], "input_%d.pb", &k) == 1;
            int isout = !isin && sscanf(files[f], "output_%d.pb", &k) == 1;
            if (!isin && !isout)
                continue;
            const IrValue *v = isin ? fed_input(m->graph, k)
                                    : (k < m->graph->noutputs ? m->graph->outputs[k] : NULL);
            char fp[1700];
            snprintf(fp, sizeof fp, "%s/%s", sp, files[f]);
            IrArena *a = ir_arena_create();
            IrDiag td;
            ir_diag_init(&td, fp);
            IrTensor *t = fe_read_tensor_pb(a, fp, &td);
            if (v && v->type.kind == IR_TYPE_TENSOR) {
                st->tensors++;
                int bad = !t || (v->type.dtype && t->dtype != v->type.dtype) ||
                          (v->type.rank >= 0 && t->rank != v->type.rank);
                if (bad) {
                    st->tensor_fail++;
                    print_message("FAILED to read tensor %s\n", fp);
                    print_diag(&td);
                }
            } else {
                st->other_pb++; /* sequence/optional values: may be unsupported, must not crash */
                if (!t && !diag_has(&td, "SequenceProto or OptionalProto")) {
                    st->tensor_fail++;
                    print_message("unclear failure on %s\n", fp);
                    print_diag(&td);
                }
            }
            ir_diag_free(&td);
            ir_arena_destroy(a);
        }
        free_names(files, nf);
    }
    free_names(sets, ns);
    ir_model_destroy(m);
}

static void test_backend_models(void **state) {
    (void)state;
    const char *root = backend_root();
    char p[1024];
    snprintf(p, sizeof p, "%s/node", root);
    if (!is_dir(p)) {
        print_message("SKIP: ONNX backend test data not found at %s (set ONNXC_BACKEND_TESTS)\n",
                      root);
        skip();
    }
    BtStats st = {0};
    const char *groups[] = {"node", "simple", "pytorch-converted", "pytorch-operator"};
    for (size_t gi = 0; gi < sizeof groups / sizeof *groups; gi++) {
        snprintf(p, sizeof p, "%s/%s", root, groups[gi]);
        int n;
        char **names = list_dir(p, &n);
        for (int i = 0; i < n; i++) {
            char dp[1100];
            snprintf(dp, sizeof dp, "%s/%s", p, names[i]);
            backend_one(dp, &st);
        }
        free_names(names, n);
    }
    /* light/: whole networks (IR version 3, initializers listed as inputs) */
    snprintf(p, sizeof p, "%s/light", root);
    int n;
    char **names = list_dir(p, &n);
    for (int i = 0; i < n; i++) {
        size_t l = strlen(names[i]);
        if (l < 5 || strcmp(names[i] + l - 5, ".onnx") != 0)
            continue;
        char fp[1200];
        snprintf(fp, sizeof fp, "%s/%s", p, names[i]);
        IrDiag d;
        ir_diag_init(&d, fp);
        IrModel *m = fe_load_model(fp, NULL, &d);
        st.models++;
        if (!m) {
            st.model_fail++;
            print_diag(&d);
        } else if (ir_verify(m->graph, &d) != 0) {
            st.verify_fail++;
            print_message("ir_verify FAILED on %s\n", fp);
            print_diag(&d);
        }
        ir_model_destroy(m);
        ir_diag_free(&d);
    }
    free_names(names, n);
    print_message("backend data: %d models (%d failed, %d failed ir_verify), %d tensors (%d failed), "
                  "%d other .pb\n", st.models, st.model_fail, st.verify_fail, st.tensors,
                  st.tensor_fail, st.other_pb);
    assert_true(st.models > 1800);
    assert_int_equal(st.model_fail, 0);
    assert_int_equal(st.verify_fail, 0);
    assert_true(st.tensors > 3000);
    assert_int_equal(st.tensor_fail, 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp),
        cmocka_unit_test(test_subgraph_outer),
        cmocka_unit_test(test_ir3_initializer_as_input),
        cmocka_unit_test(test_ir_version_2_rejected),
        cmocka_unit_test(test_use_before_def_and_undefined),
        cmocka_unit_test(test_functions),
        cmocka_unit_test(test_types_and_list_attrs),
        cmocka_unit_test(test_subgraph_depth_cap),
        cmocka_unit_test(test_dtypes),
        cmocka_unit_test(test_tensor_errors),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_random_flips),
        cmocka_unit_test(test_model_level_tensor_errors),
        cmocka_unit_test(test_deep_nesting_bytes),
        cmocka_unit_test(test_external_data),
        cmocka_unit_test(test_write_read_pb),
        cmocka_unit_test(test_backend_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
