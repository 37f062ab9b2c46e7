/* test_limits.c - absurd sizes through the whole prepare pipeline (docs/HARDENING.md, "limits").
 *
 * Each case builds a one-node ONNX model with protobuf-c (graph inputs with dims such as 2^62,
 * or shape-like int64 initializers holding such values), serializes it, and runs
 * fe_load_model_buffer + onnxc_prepare (-O2, no LLVM). Every case should fail with an error (the
 * sizes exceed IR_MAX_TENSOR_BYTES or overflow int64) and must not crash: the sanitizer build of
 * scripts/test.sh runs this test with UBSan, so an unchecked signed overflow in an infer hook
 * or the planner is a failure too. Every case over the caps must be refused by an error that
 * names the value or node (onnxc_check_limits for graph inputs/outputs, which the planner does
 * not size). test_limit_options lowers and raises the run-time limits (ir_limits_set).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "onnxpb/onnx.pb-c.h"
#include "passes/pass.h"

#define H ((int64_t)1 << 62)
#define G32 ((int64_t)1 << 32)
#define END INT64_MIN /* terminates dim lists */

/* A graph input or an int64 initializer of a case. */
typedef struct Arg {
    const char *name;
    int dtype;           /* graph input element type (1 float, 7 int64) */
    int64_t dims[72];    /* END-terminated; for initializers: the int64 values (1-D) */
    int is_init;         /* 1: int64 initializer whose values are dims[] */
} Arg;

typedef struct Case {
    const char *what;
    const char *op;
    Arg args[4];
    int nargs;
    const char *int_attr;   /* one int attribute (name) or NULL */
    int64_t int_val;
    const char *ints_attr;  /* one ints attribute or NULL */
    int64_t ints_val[4];
    int nints;
    int expect_ok;          /* 1: must prepare without error */
} Case;

static int ndims_of(const int64_t *d) {
    int n = 0;
    while (d[n] != END)
        n++;
    return n;
}

/* 1: run_case calls pass_infer alone instead of onnxc_prepare (which refuses graph inputs
 * over the limits before inference), so that the infer hooks still see the absurd sizes. */
static int g_infer_only;

/* Builds, packs, loads and prepares one case; returns 1 if prepared, 0 on clean failure. */
static int run_case(const Case *c, char *first_error, size_t cap) {
    Onnx__ModelProto mp = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto g = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto os = ONNX__OPERATOR_SET_ID_PROTO__INIT;
    Onnx__OperatorSetIdProto *osp = &os;
    Onnx__NodeProto node = ONNX__NODE_PROTO__INIT;
    Onnx__NodeProto *nodep = &node;
    Onnx__ValueInfoProto vin[4], vout = ONNX__VALUE_INFO_PROTO__INIT;
    Onnx__ValueInfoProto *vinp[4], *voutp = &vout;
    Onnx__TypeProto tp[4], tout = ONNX__TYPE_PROTO__INIT;
    Onnx__TypeProto__Tensor tt[4];
    Onnx__TensorShapeProto sh[4];
    Onnx__TensorShapeProto__Dimension dm[4][72], *dmp[4][72];
    Onnx__TensorProto init[4], *initp[4];
    int64_t init_dims[4];
    Onnx__AttributeProto at[2], *atp[2];
    char *in_names[4], *out_name = "y";
    int nin = 0, ninit = 0, nat = 0;

    mp.has_ir_version = 1;
    mp.ir_version = 8;
    os.domain = "";
    os.has_version = 1;
    os.version = 17;
    mp.n_opset_import = 1;
    mp.opset_import = &osp;
    mp.graph = &g;
    g.name = "limits";
    for (int i = 0; i < c->nargs; i++) {
        const Arg *a = &c->args[i];
        in_names[i] = (char *)a->name;
        int nd = ndims_of(a->dims);
        if (a->is_init) {
            onnx__tensor_proto__init(&init[ninit]);
            init[ninit].name = (char *)a->name;
            init[ninit].has_data_type = 1;
            init[ninit].data_type = 7;
            init_dims[ninit] = nd;
            init[ninit].n_dims = 1;
            init[ninit].dims = &init_dims[ninit];
            init[ninit].n_int64_data = (size_t)nd;
            init[ninit].int64_data = (int64_t *)a->dims;
            initp[ninit] = &init[ninit];
            ninit++;
            continue;
        }
        onnx__value_info_proto__init(&vin[nin]);
        onnx__type_proto__init(&tp[nin]);
        onnx__type_proto__tensor__init(&tt[nin]);
        onnx__tensor_shape_proto__init(&sh[nin]);
        for (int k = 0; k < nd; k++) {
            onnx__tensor_shape_proto__dimension__init(&dm[nin][k]);
            dm[nin][k].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            dm[nin][k].dim_value = a->dims[k];
            dmp[nin][k] = &dm[nin][k];
        }
        sh[nin].n_dim = (size_t)nd;
        sh[nin].dim = dmp[nin];
        tt[nin].has_elem_type = 1;
        tt[nin].elem_type = a->dtype;
        tt[nin].shape = &sh[nin];
        tp[nin].value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        tp[nin].tensor_type = &tt[nin];
        vin[nin].name = (char *)a->name;
        vin[nin].type = &tp[nin];
        vinp[nin] = &vin[nin];
        nin++;
    }
    g.n_input = (size_t)nin;
    g.input = vinp;
    g.n_initializer = (size_t)ninit;
    g.initializer = initp;
    vout.name = out_name;
    (void)tout;
    g.n_output = 1;
    g.output = &voutp;
    node.name = "n";
    node.op_type = (char *)c->op;
    node.n_input = (size_t)c->nargs;
    node.input = in_names;
    node.n_output = 1;
    node.output = &out_name;
    if (c->int_attr) {
        onnx__attribute_proto__init(&at[nat]);
        at[nat].name = (char *)c->int_attr;
        at[nat].has_type = 1;
        at[nat].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        at[nat].has_i = 1;
        at[nat].i = c->int_val;
        atp[nat] = &at[nat];
        nat++;
    }
    if (c->ints_attr) {
        onnx__attribute_proto__init(&at[nat]);
        at[nat].name = (char *)c->ints_attr;
        at[nat].has_type = 1;
        at[nat].type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
        at[nat].n_ints = (size_t)c->nints;
        at[nat].ints = (int64_t *)c->ints_val;
        atp[nat] = &at[nat];
        nat++;
    }
    node.n_attribute = (size_t)nat;
    node.attribute = atp;
    g.n_node = 1;
    g.node = &nodep;

    size_t sz = onnx__model_proto__get_packed_size(&mp);
    uint8_t *buf = malloc(sz);
    assert_non_null(buf);
    onnx__model_proto__pack(&mp, buf);

    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(buf, sz, "limits.onnx", NULL, NULL, &d);
    int ok = 0;
    if (m) {
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        ok = g_infer_only ? pass_infer(m->graph, &d) == 0 : onnxc_prepare(m, &o, &d) == 0;
    }
    if (ok)
        assert_int_equal(d.nerrors, 0);
    else
        assert_true(d.nerrors > 0);
    if (d.nentries && first_error)
        snprintf(first_error, cap, "%s", d.entries[0].msg);
    ir_model_destroy(m);
    ir_diag_free(&d);
    free(buf);
    return ok;
}

#define IN(n, ...) {n, 1, {__VA_ARGS__, END}, 0}
#define IN64(n, ...) {n, 7, {__VA_ARGS__, END}, 0}
#define CST(n, ...) {n, 7, {__VA_ARGS__, END}, 1}

static const Case cases[] = {
    {"Add of two [2^62]", "Add", {IN("a", H), IN("b", H)}, 2, 0, 0, 0, {0}, 0, 0},
    {"Add of [2^32,2^32] (element count overflows)", "Add",
     {IN("a", G32, G32), IN("b", 1)}, 2, 0, 0, 0, {0}, 0, 0},
    {"Relu of [2^62,4,4]", "Relu", {IN("a", H, 4, 4)}, 1, 0, 0, 0, {0}, 0, 0},
    {"MatMul [2^62,2] x [2,2^62]", "MatMul", {IN("a", H, 2), IN("b", 2, H)}, 2, 0, 0, 0, {0}, 0, 0},
    {"MatMul [2,2^62] x [2^62,2] (K huge)", "MatMul", {IN("a", 2, H), IN("b", H, 2)}, 2, 0, 0, 0,
     {0}, 0, 0},
    {"Gemm [2^62,2^62]", "Gemm", {IN("a", H, H), IN("b", H, H)}, 2, 0, 0, 0, {0}, 0, 0},
    {"Reshape [2^31,2^31] to [-1]", "Reshape", {IN("x", G32 / 2, G32 / 2), CST("s", -1)}, 2, 0, 0,
     0, {0}, 0, 0},
    {"Reshape [2] to [2^62, 2^62]", "Reshape", {IN("x", 2), CST("s", H, H)}, 2, 0, 0, 0, {0}, 0, 0},
    {"Flatten [2^32,2^32,4]", "Flatten", {IN("x", G32, G32, 4)}, 1, "axis", 1, 0, {0}, 0, 0},
    {"Concat [2^62] + [2^62] (sum 2^63 overflows)", "Concat", {IN("a", H), IN("b", H)}, 2, "axis",
     0, 0, {0}, 0, 0},
    {"Concat [INT64_MAX] + [1]", "Concat", {IN("a", INT64_MAX), IN("b", 1)}, 2, "axis", 0, 0, {0},
     0, 0},
    {"ConstantOfShape [2^62,2^62]", "ConstantOfShape", {CST("s", H, H)}, 1, 0, 0, 0, {0}, 0, 0},
    {"ConstantOfShape [2^31] (8 GiB, under the cap: refused or planned, never folded)",
     "ConstantOfShape", {CST("s", G32 / 2)}, 1, 0, 0, 0, {0}, 0, -1},
    {"ConstantOfShape [-5]", "ConstantOfShape", {CST("s", -5)}, 1, 0, 0, 0, {0}, 0, 0},
    {"Expand [1] to [2^62]", "Expand", {IN("x", 1), CST("s", H)}, 2, 0, 0, 0, {0}, 0, 0},
    {"Tile [2^40] x 2^40", "Tile", {IN("x", (int64_t)1 << 40), CST("r", (int64_t)1 << 40)}, 2, 0,
     0, 0, {0}, 0, 0},
    {"Pad [2^62] by 2^62 each side", "Pad", {IN("x", H), CST("p", H, H)}, 2, 0, 0, 0, {0}, 0, 0},
    {"Range 0..2^62 step 1", "Range", {CST("a", 0), CST("b", H), CST("c", 1)}, 3, 0, 0, 0, {0}, 0,
     0},
    {"Conv [1,1,2^62,2^62] * [1,1,3,3]", "Conv", {IN("x", 1, 1, H, H), IN("w", 1, 1, 3, 3)}, 2, 0,
     0, 0, {0}, 0, 0},
    {"Conv with pads 2^62", "Conv", {IN("x", 1, 1, 8, 8), IN("w", 1, 1, 3, 3)}, 2, 0, 0, "pads",
     {H, H, H, H}, 4, 0},
    {"Conv with strides INT64_MAX and dilations 2^62", "Conv",
     {IN("x", 1, 1, 8, 8), IN("w", 1, 1, 3, 3)}, 2, 0, 0, "dilations", {H, H}, 2, 0},
    {"MaxPool kernel 2^62", "MaxPool", {IN("x", 1, 1, 8, 8)}, 1, 0, 0, "kernel_shape", {H, H}, 2,
     0},
    {"Transpose [2^62,2,2]", "Transpose", {IN("x", H, 2, 2)}, 1, 0, 0, 0, {0}, 0, 0},
    {"ReduceSum [2^62,2^62]", "ReduceSum", {IN("x", H, H)}, 1, 0, 0, 0, {0}, 0, 0},
    {"Slice [2^62] 0..INT64_MAX", "Slice", {IN("x", H), CST("s", 0), CST("e", INT64_MAX)}, 3, 0, 0,
     0, {0}, 0, 0},
    {"Gather [2^62,4] by [2^62-1]", "Gather", {IN("x", H, 4), CST("i", H - 1)}, 2, 0, 0, 0, {0}, 0,
     0},
    {"Split [2^62] in 2", "Split", {IN("x", H)}, 1, 0, 0, 0, {0}, 0, 0},
    {"OneHot depth 2^62", "OneHot", {IN64("i", 4), CST("d", H), CST("v", 0, 1)}, 3, 0, 0, 0, {0}, 0,
     0},
    {"Unsqueeze [2^62,2^62] axes 0", "Unsqueeze", {IN("x", H, H), CST("a", 0)}, 2, 0, 0, 0, {0}, 0,
     0},
    /* the loader reads a negative dim_value as an unknown dim (frontend/fe_model.c), which
     * dynamic shapes size at run time: either outcome, never a crash */
    {"Add with a negative dim (read as unknown)", "Add", {IN("a", -7), IN("b", 1)}, 2, 0, 0, 0,
     {0}, 0, -1},
    {"Relu of rank 65", "Relu",
     {IN("x", 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
         1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
         1, 1, 1, 1, 1, 1, 1)},
     1, 0, 0, 0, {0}, 0, 0},
    {"Relu of [2^30] (4 GiB: under the 16 GiB cap)", "Relu", {IN("x", (int64_t)1 << 30)}, 1, 0, 0,
     0, {0}, 0, 1},
};

static void test_absurd_dims(void **state) {
    (void)state;
    int n = (int)(sizeof cases / sizeof cases[0]), refused = 0;
    for (int i = 0; i < n; i++) {
        char err[600] = "";
        int ok = run_case(&cases[i], err, sizeof err);
        print_message("limits: %-70s %s%s\n", cases[i].what, ok ? "prepared" : "refused: ",
                      ok ? "" : err);
        /* Every case over the caps must be refused with an error that names what is wrong:
         * a value (graph input/output, constant, intermediate: 'name') or the node ('n'). */
        if (cases[i].expect_ok == 0) {
            if (ok)
                fail_msg("%s: prepared, expected an error", cases[i].what);
            if (!strchr(err, '\''))
                fail_msg("%s: the error names no value or node: %s", cases[i].what, err);
        }
        if (cases[i].expect_ok == 1 && !ok)
            fail_msg("%s: refused, expected to prepare", cases[i].what);
        refused += !ok;
    }
    print_message("limits: %d absurd-size cases, %d refused with an error, 0 crashes\n", n,
                  refused);
    /* the same sizes through the infer hooks alone (UBSan checks their arithmetic) */
    g_infer_only = 1;
    int inferred = 0;
    for (int i = 0; i < n; i++) {
        char err[600] = "";
        inferred += run_case(&cases[i], err, sizeof err);
    }
    g_infer_only = 0;
    print_message("limits: pass_infer alone: %d of %d cases inferred, the others refused, 0 "
                  "crashes\n", inferred, n);
}

/* The run-time limits (ir.h, IrLimits; onnx --max-tensor-bytes / --max-dim / --max-nodes):
 * lowering them refuses a model that passes by default, raising them accepts one that the
 * defaults refuse, and the error names the value. */
static void test_limit_options(void **state) {
    (void)state;
    char err[600];
    const Case relu1k = {"Relu [1024]", "Relu", {IN("x", 1024)}, 1, 0, 0, 0, {0}, 0, 1};
    const Case relu32g = {"Relu [2^33] f32 (32 GiB)", "Relu", {IN("x", (int64_t)1 << 33)}, 1, 0,
                          0, 0, {0}, 0, 1};
    IrLimits def = ir_limits();
    assert_int_equal(def.max_tensor_bytes, IR_MAX_TENSOR_BYTES);
    assert_int_equal(def.max_dim, IR_MAX_DIM);
    assert_int_equal(def.max_nodes, IR_MAX_NODES);
    assert_int_equal(run_case(&relu1k, err, sizeof err), 1);
    assert_int_equal(run_case(&relu32g, err, sizeof err), 0);
    assert_non_null(strstr(err, "graph input 'x'"));
    assert_non_null(strstr(err, "--max-tensor-bytes"));

    IrLimits l = {1000, 0, 0}; /* 1000 bytes */
    assert_int_equal(ir_limits_set(&l), 0);
    assert_int_equal(ir_limits().max_dim, IR_MAX_DIM); /* 0: default */
    assert_int_equal(run_case(&relu1k, err, sizeof err), 0);
    assert_non_null(strstr(err, "'x'"));
    assert_non_null(strstr(err, "4096 bytes"));

    l = (IrLimits){(int64_t)1 << 36, 0, 0}; /* 64 GiB */
    assert_int_equal(ir_limits_set(&l), 0);
    assert_int_equal(run_case(&relu32g, err, sizeof err), 1);

    l = (IrLimits){0, 512, 0};
    assert_int_equal(ir_limits_set(&l), 0);
    assert_int_equal(run_case(&relu1k, err, sizeof err), 0);
    assert_non_null(strstr(err, "dimension 0 is 1024"));
    assert_non_null(strstr(err, "--max-dim"));

    const Case add = {"Add [4]+[4]", "Add", {IN("a", 4), IN("b", 4)}, 2, 0, 0, 0, {0}, 0, 1};
    l = (IrLimits){0, 0, 1};
    assert_int_equal(ir_limits_set(&l), 0);
    assert_int_equal(run_case(&add, err, sizeof err), 1); /* one node: at the limit */

    /* two nodes over a limit of one: refused, naming the graph */
    static const char two[] =
        "onnxc-ir 1\nir_version 7\nproducer \"\" \"\"\ndomain \"\"\nmodel_version 0\n"
        "opset \"\" 17\ngraph \"two\" {\n  input %x : f32[2]\n"
        "  %t = Relu(%x) {} : ?  # node \"a\", opset 17\n"
        "  %y = Relu(%t) {} : ?  # node \"b\", opset 17\n  output %y : ?\n}\n";
    for (int lim = 1; lim <= 2; lim++) {
        l = (IrLimits){0, 0, lim};
        assert_int_equal(ir_limits_set(&l), 0);
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrModel *m = ir_parse_model(two, sizeof two - 1, "two.ir", &d);
        assert_non_null(m);
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        int rc = onnxc_prepare(m, &o, &d);
        if (lim == 1) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(ir_diag_last(&d), "graph 'two' has 2 nodes"));
        } else {
            assert_int_equal(rc, 0);
        }
        ir_model_destroy(m);
        ir_diag_free(&d);
    }
    l = (IrLimits){0, 0, 1};
    assert_int_equal(ir_limits_set(&l), 0);

    l = (IrLimits){IR_LIMIT_CEILING + 1, 0, 0};
    assert_int_equal(ir_limits_set(&l), -1); /* refused, nothing changed */
    assert_int_equal(ir_limits().max_nodes, 1);
    assert_int_equal(ir_limits_set(NULL), 0);
    def = ir_limits();
    assert_int_equal(def.max_tensor_bytes, IR_MAX_TENSOR_BYTES);
    assert_int_equal(def.max_nodes, IR_MAX_NODES);
    assert_int_equal(run_case(&relu32g, err, sizeof err), 0);
}

/* Byte size of a static type: overflow and the cap give -1. */
static void test_type_bytes(void **state) {
    (void)state;
    IrDim dims[2];
    memset(dims, 0, sizeof dims);
    IrType t;
    memset(&t, 0, sizeof t);
    t.kind = IR_TYPE_TENSOR;
    t.dtype = IR_DT_FLOAT;
    t.rank = 2;
    t.dims = dims;
    int64_t r;
    dims[0].value = H;
    dims[1].value = 4;
    assert_int_equal(ir_type_nbytes(&t, &r), -1);
    dims[0].value = (int64_t)1 << 32;
    dims[1].value = (int64_t)1 << 32;
    assert_int_equal(ir_type_numel(&t, &r), -1);
    assert_int_equal(ir_type_nbytes(&t, &r), -1);
    dims[0].value = (int64_t)1 << 31;
    dims[1].value = 4; /* 32 GiB: over IR_MAX_TENSOR_BYTES */
    assert_int_equal(ir_type_nbytes(&t, &r), -1);
    dims[0].value = 1024;
    dims[1].value = 1024;
    assert_int_equal(ir_type_nbytes(&t, &r), 0);
    assert_int_equal(r, 4 << 20);
    assert_int_equal(ir_mul_i64(H, 2, &r), -1);
    assert_int_equal(ir_add_i64(INT64_MAX, 1, &r), -1);
}

/* Regression (fuzz_tensor, docs/HARDENING.md): an 11-byte TensorProto declaring INT2 dims
 * [7, 1, 263'000'000] without data made the reader zero-fill 1.8 GB before noticing that there
 * was no data (a 26 s libFuzzer timeout). It must be refused before allocating. */
static void test_tiny_pb_huge_dims(void **state) {
    (void)state;
    static const uint8_t pb[] = {0x08, 0x07, 0x08, 0x01, 0x10, 0x1a, 0x08, 0xaf, 0xfd, 0xc6, 0x7d};
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrArena *a = ir_arena_create();
    assert_non_null(a);
    assert_null(fe_read_tensor_pb_buffer(a, pb, sizeof pb, "tiny.pb", &d));
    assert_true(d.nerrors > 0);
    assert_true(ir_arena_bytes(a) < (1u << 20)); /* nothing big was allocated */
    ir_arena_destroy(a);
    ir_diag_free(&d);
    /* same dims with 3 bytes of raw_data (field 9) */
    static const uint8_t pb2[] = {0x08, 0x07, 0x08, 0x01, 0x10, 0x1a, 0x08, 0xaf, 0xfd, 0xc6,
                                  0x7d, 0x4a, 0x03, 1, 2, 3};
    ir_diag_init(&d, NULL);
    a = ir_arena_create();
    assert_null(fe_read_tensor_pb_buffer(a, pb2, sizeof pb2, "tiny.pb", &d));
    assert_true(d.nerrors > 0);
    assert_true(ir_arena_bytes(a) < (1u << 20));
    ir_arena_destroy(a);
    ir_diag_free(&d);
    /* second finding: dims [1,16,26,90,1,9,57,176] (3.4 G INT2 elements) with one uint64_data
     * value made the reader allocate 3.4 GB (libFuzzer out-of-memory) */
    static const uint8_t pb3[] = {0x0a, 0x07, 0x01, 0x10, 0x1a, 0x5a, 0x01, 0x09, 0x39, 0x08, 0xb0,
                                  0x01, 0x10, 0x1a, 0x5a, 0x02, 0xff, 0x39};
    ir_diag_init(&d, NULL);
    a = ir_arena_create();
    assert_null(fe_read_tensor_pb_buffer(a, pb3, sizeof pb3, "tiny.pb", &d));
    assert_true(d.nerrors > 0);
    assert_true(ir_arena_bytes(a) < (1u << 20));
    ir_arena_destroy(a);
    ir_diag_free(&d);
}

/* Graph depth: a chain of DEEP_NODES Relu nodes is parsed, verified and prepared at -O2 in a
 * thread with a small stack (no recursion follows the graph's edges, docs/HARDENING.md). */
#define DEEP_NODES 20000
typedef struct DeepJob {
    char *text;
    size_t len;
    int rc;
    int64_t nnodes;
} DeepJob;

static void *deep_prepare(void *arg) {
    DeepJob *j = arg;
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = ir_parse_model(j->text, j->len, "deep.ir", &d);
    j->rc = -1;
    if (m) {
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        j->rc = onnxc_prepare(m, &o, &d);
        j->nnodes = m->graph->nnodes;
    }
    if (j->rc)
        print_message("deep: %s\n", ir_diag_last(&d));
    ir_model_destroy(m);
    ir_diag_free(&d);
    return NULL;
}

static void test_deep_graph(void **state) {
    (void)state;
    size_t cap = (size_t)DEEP_NODES * 80 + 1024, k = 0;
    char *t = malloc(cap);
    assert_non_null(t);
    k += (size_t)snprintf(t + k, cap - k,
                          "onnxc-ir 1\nir_version 8\nproducer \"\" \"\"\ndomain \"\"\n"
                          "model_version 0\nopset \"\" 17\ngraph \"deep\" {\n"
                          "  input %%v0 : f32[4]\n");
    for (int i = 0; i < DEEP_NODES; i++)
        k += (size_t)snprintf(t + k, cap - k, "  %%v%d = Relu(%%v%d) {} : ?  # node \"r%d\", "
                              "opset 17\n", i + 1, i, i);
    k += (size_t)snprintf(t + k, cap - k, "  output %%v%d : ?\n}\n", DEEP_NODES);
    assert_true(k < cap);
    DeepJob j = {t, k, -1, 0};
    pthread_attr_t at;
    pthread_attr_init(&at);
    /* 1 MiB: plenty for iterative code (ASan frames included), far too little for one
     * stack frame per node */
    assert_int_equal(pthread_attr_setstacksize(&at, (size_t)1 << 20), 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, &at, deep_prepare, &j), 0);
    pthread_join(th, NULL);
    pthread_attr_destroy(&at);
    free(t);
    assert_int_equal(j.rc, 0);
    print_message("limits: a chain of %d nodes prepared on a 1 MiB stack (%lld nodes after -O2)\n",
                  DEEP_NODES, (long long)j.nnodes);
}

/* Opsets newer than the operator table knows are refused by ir_verify, naming the node. */
static void test_newer_opset(void **state) {
    (void)state;
    static const char *const heads[] = {"opset \"\" 29\n", "opset \"\" 28\n"};
    for (int k = 0; k < 2; k++) {
        char text[600];
        int n = snprintf(text, sizeof text,
                         "onnxc-ir 1\nir_version 8\nproducer \"\" \"\"\ndomain \"\"\n"
                         "model_version 0\n%sgraph \"g\" {\n  input %%x : f32[2]\n"
                         "  %%y = Relu(%%x) {} : ?  # node \"r\", opset %d\n  output %%y : ?\n}\n",
                         heads[k], 29 - k);
        IrDiag d;
        ir_diag_init(&d, NULL);
        IrModel *m = ir_parse_model(text, (size_t)n, "op.ir", &d);
        assert_non_null(m);
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        int rc = onnxc_prepare(m, &o, &d);
        if (k == 0) {
            assert_int_equal(rc, -1);
            assert_non_null(strstr(ir_diag_last(&d), "node 'r' (Relu, opset 29)"));
            assert_non_null(strstr(ir_diag_last(&d), "newer than the newest supported (28)"));
        } else {
            assert_int_equal(rc, 0);
        }
        ir_model_destroy(m);
        ir_diag_free(&d);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tiny_pb_huge_dims),
        cmocka_unit_test(test_type_bytes),
        cmocka_unit_test(test_absurd_dims),
        cmocka_unit_test(test_limit_options),
        cmocka_unit_test(test_deep_graph),
        cmocka_unit_test(test_newer_opset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
