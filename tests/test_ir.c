/* test_ir.c - unit tests of the IR core pieces used everywhere: arena, checked arithmetic,
 * element type names, the text format printer (docs/IR_FORMAT.md) and the verifier.
 *
 * Golden strings are written by hand from the format specification; hashes and float texts were
 * computed independently with numpy (see the comments next to them).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir/ir.h"

/* ------------------------------------------------------------------ helpers */

/* A tensor value of graph g with static dims. */
static IrValue *tval(IrGraph *g, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

/* Graph input with static dims. */
static IrValue *tinput(IrGraph *g, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = tval(g, name, dt, rank, dims);
    assert_int_equal(ir_graph_add_input(g, v), 0);
    return v;
}

/* f32 initializer of rank 1 holding vals. */
static IrValue *tinit_f32(IrGraph *g, const char *name, int64_t n, const float *vals) {
    IrValue *v = tval(g, name, IR_DT_FLOAT, 1, &n);
    v->init = ir_tensor_new(g->arena, IR_DT_FLOAT, 1, &n);
    assert_non_null(v->init);
    memcpy(v->init->data, vals, (size_t)n * sizeof(float));
    assert_int_equal(ir_graph_add_init(g, v), 0);
    return v;
}

static IrNode *node1(IrGraph *g, const char *name, const char *op, int nin, IrValue **in,
                     IrValue *out) {
    IrNode *n = ir_node_new(g, NULL, name, "", op, 13, nin, in, out ? 1 : 0, out ? &out : NULL);
    assert_non_null(n);
    return n;
}

static char *graph_text(const IrGraph *g, int full) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ir_print_graph(g, f, full), 0);
    fclose(f);
    return buf;
}

static char *model_text(const IrModel *m, int full) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(ir_print_model(m, f, full), 0);
    fclose(f);
    return buf;
}

static void assert_text(char *got, const char *want) {
    if (strcmp(got, want) != 0)
        fprintf(stderr, "--- expected:\n%s--- got:\n%s---\n", want, got);
    assert_string_equal(got, want);
    free(got);
}

/* 1 if some error entry of d contains s. */
static int diag_has(const IrDiag *d, const char *s) {
    for (int i = 0; i < d->nentries; i++)
        if (d->entries[i].sev == IR_SEV_ERROR && strstr(d->entries[i].msg, s))
            return 1;
    return 0;
}

static void dump_diag(const IrDiag *d) {
    for (int i = 0; i < d->nentries; i++)
        fprintf(stderr, "  diag: %s\n", d->entries[i].msg);
}

/* Runs the verifier; expects at least one error mentioning `node_ref` and `text`. */
static void expect_verify_error(const IrGraph *g, const char *node_ref, const char *text) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    int n = ir_verify(g, &d);
    if (n == 0 || !diag_has(&d, node_ref) || !diag_has(&d, text))
        dump_diag(&d);
    assert_true(n > 0);
    assert_int_equal(d.nerrors, n);
    assert_true(diag_has(&d, node_ref));
    assert_true(diag_has(&d, text));
    ir_diag_free(&d);
}

static void expect_verify_ok(const IrGraph *g) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    int n = ir_verify(g, &d);
    if (n)
        dump_diag(&d);
    assert_int_equal(n, 0);
    ir_diag_free(&d);
}

static const int64_t D32x10[] = {32, 10};

/* a, b : f32[32,10];  y = Add(a, b) "add1";  output y */
static IrGraph *make_add_graph(IrModel *m) {
    IrGraph *g = ir_graph_create(m, NULL, "main");
    assert_non_null(g);
    IrValue *in[2] = {tinput(g, "a", IR_DT_FLOAT, 2, D32x10), tinput(g, "b", IR_DT_FLOAT, 2, D32x10)};
    IrValue *y = tval(g, "y", IR_DT_FLOAT, 2, D32x10);
    node1(g, "add1", "Add", 2, in, y);
    assert_int_equal(ir_graph_add_output(g, y), 0);
    return g;
}

/* ------------------------------------------------------------------ arena */

static void test_arena_alignment_and_zero(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    assert_non_null(a);
    for (size_t sz = 1; sz < 600; sz += 37) {
        unsigned char *p = ir_arena_alloc(a, sz);
        assert_non_null(p);
        assert_int_equal((uintptr_t)p % 16, 0);
        for (size_t i = 0; i < sz; i++)
            assert_int_equal(p[i], 0);
        memset(p, 0xAB, sz); /* must not disturb later allocations */
    }
    assert_true(ir_arena_bytes(a) > 0);
    ir_arena_destroy(a);
}

static void test_arena_large_blocks(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    size_t before = ir_arena_bytes(a);
    const size_t big = (size_t)3 << 20; /* 3 MiB: larger than any small-chunk size */
    unsigned char *p = ir_arena_alloc(a, big);
    assert_non_null(p);
    assert_int_equal((uintptr_t)p % 64, 0);
    assert_int_equal(p[0], 0);
    assert_int_equal(p[big - 1], 0);
    memset(p, 7, big);
    assert_true(ir_arena_bytes(a) >= before + big);
    unsigned char *q = ir_arena_alloc(a, 4096);
    assert_non_null(q);
    assert_int_equal((uintptr_t)q % 64, 0);
    assert_int_equal(p[big - 1], 7);
    /* an impossible size fails cleanly */
    assert_null(ir_arena_alloc(a, SIZE_MAX - 8));
    ir_arena_destroy(a);
}

static void test_arena_strings(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    const char *src = "conv1/weight";
    char *s = ir_arena_strdup(a, src);
    assert_non_null(s);
    assert_ptr_not_equal(s, src);
    assert_string_equal(s, src);
    assert_null(ir_arena_strdup(a, NULL));
    char *t = ir_arena_strndup(a, "abcdef", 3);
    assert_string_equal(t, "abc");
    int x[4] = {1, 2, 3, 4};
    int *y = ir_arena_memdup(a, x, sizeof x);
    assert_non_null(y);
    assert_memory_equal(x, y, sizeof x);
    ir_arena_destroy(a);
}

/* ------------------------------------------------------------------ arithmetic, dtypes */

static void test_checked_arithmetic(void **state) {
    (void)state;
    int64_t r = 99;
    assert_int_equal(ir_mul_i64(3, 4, &r), 0);
    assert_int_equal(r, 12);
    assert_int_equal(ir_mul_i64(-3, 4, &r), 0);
    assert_int_equal(r, -12);
    r = 99;
    assert_int_equal(ir_mul_i64(INT64_MAX, 2, &r), -1);
    assert_int_equal(r, 99); /* untouched on overflow */
    assert_int_equal(ir_mul_i64(INT64_MIN, -1, &r), -1);
    assert_int_equal(ir_mul_i64((int64_t)1 << 32, (int64_t)1 << 31, &r), -1);
    assert_int_equal(ir_mul_i64((int64_t)1 << 31, (int64_t)1 << 31, &r), 0);
    assert_int_equal(r, (int64_t)1 << 62);
    assert_int_equal(ir_add_i64(INT64_MAX, 1, &r), -1);
    assert_int_equal(ir_add_i64(INT64_MIN, -1, &r), -1);
    assert_int_equal(ir_add_i64(40, 2, &r), 0);
    assert_int_equal(r, 42);
}

static void test_dtype_names(void **state) {
    (void)state;
    for (int t = 1; t < IR_DT_COUNT; t++) {
        const char *name = ir_dtype_name(t);
        assert_non_null(name);
        assert_string_not_equal(name, "?");
        assert_int_equal(ir_dtype_from_name(name), t);
        assert_true(ir_dtype_size(t) > 0);
    }
    assert_string_equal(ir_dtype_name(IR_DT_FLOAT), "f32");
    assert_string_equal(ir_dtype_name(IR_DT_INT64), "i64");
    assert_string_equal(ir_dtype_name(IR_DT_BFLOAT16), "bf16");
    assert_string_equal(ir_dtype_name(IR_DT_FLOAT8E4M3FN), "f8e4m3fn");
    assert_string_equal(ir_dtype_name(IR_DT_UINT2), "u2");
    assert_string_equal(ir_dtype_name(IR_DT_INT2), "i2");
    assert_string_equal(ir_dtype_name(IR_DT_COUNT), "?");
    assert_string_equal(ir_dtype_name(-1), "?");
    assert_int_equal(ir_dtype_from_name("float32"), IR_DT_UNDEFINED);
    assert_int_equal(ir_dtype_from_name(NULL), IR_DT_UNDEFINED);
}

/* ------------------------------------------------------------------ types */

static void test_type_strings(void **state) {
    (void)state;
    IrArena *a = ir_arena_create();
    char buf[128];
    IrType t = {0};

    int64_t d1[] = {32, 9};
    ir_type_set_tensor(a, &t, IR_DT_FLOAT, 2, d1);
    assert_int_equal(ir_type_to_string(&t, buf, sizeof buf), 9);
    assert_string_equal(buf, "f32[32,9]");

    t.dims[0].value = -1;
    t.dims[0].sym = "N";
    t.dims[1].value = 3;
    ir_type_to_string(&t, buf, sizeof buf);
    assert_string_equal(buf, "f32[N,3]");

    t.dims[0].sym = NULL;
    ir_type_to_string(&t, buf, sizeof buf);
    assert_string_equal(buf, "f32[?,3]");

    t.dims[0].sym = "batch size"; /* not an identifier: quoted */
    ir_type_to_string(&t, buf, sizeof buf);
    assert_string_equal(buf, "f32[\"batch size\",3]");

    IrType u = {.kind = IR_TYPE_TENSOR, .dtype = IR_DT_FLOAT, .rank = -1};
    ir_type_to_string(&u, buf, sizeof buf);
    assert_string_equal(buf, "f32[*]");

    IrType scalar = {.kind = IR_TYPE_TENSOR, .dtype = IR_DT_INT64, .rank = 0};
    IrType opt = {.kind = IR_TYPE_OPTIONAL, .elem = &scalar};
    ir_type_to_string(&opt, buf, sizeof buf);
    assert_string_equal(buf, "opt(i64[])");

    IrDim qd = {-1, NULL};
    IrType f1 = {.kind = IR_TYPE_TENSOR, .dtype = IR_DT_FLOAT, .rank = 1, .dims = &qd};
    IrType seq = {.kind = IR_TYPE_SEQUENCE, .elem = &f1};
    ir_type_to_string(&seq, buf, sizeof buf);
    assert_string_equal(buf, "seq(f32[?])");

    IrType f0 = {.kind = IR_TYPE_TENSOR, .dtype = IR_DT_FLOAT, .rank = 0};
    IrType map = {.kind = IR_TYPE_MAP, .dtype = IR_DT_INT64, .elem = &f0};
    ir_type_to_string(&map, buf, sizeof buf);
    assert_string_equal(buf, "map(i64,f32[])");

    IrType unk = {0};
    ir_type_to_string(&unk, buf, sizeof buf);
    assert_string_equal(buf, "?");

    /* truncation: the full length is returned, the prefix is NUL-terminated */
    char small[6];
    assert_int_equal(ir_type_to_string(&map, small, sizeof small), 14);
    assert_string_equal(small, "map(i");
    assert_int_equal(ir_type_to_string(&map, NULL, 0), 14);

    /* a type nested too deeply is refused, not overflowed */
    IrType chain[40];
    for (int i = 0; i < 40; i++)
        chain[i] = (IrType){.kind = IR_TYPE_SEQUENCE, .elem = i + 1 < 40 ? &chain[i + 1] : &f0};
    assert_int_equal(ir_type_to_string(&chain[0], buf, sizeof buf), -1);
    ir_arena_destroy(a);
}

/* ------------------------------------------------------------------ printer */

static void test_print_add_golden(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    assert_text(graph_text(g, 0),
                "graph \"main\" {\n"
                "  input %a : f32[32,10]\n"
                "  input %b : f32[32,10]\n"
                "  %y = Add(%a, %b) {} : f32[32,10]  # node \"add1\", opset 13\n"
                "  output %y : f32[32,10]\n"
                "}\n");
    ir_graph_destroy(g);
}

static void test_print_model_golden(void **state) {
    (void)state;
    IrModel *m = ir_model_create();
    m->ir_version = 8;
    m->producer_name = "onnxc-test";
    m->producer_version = "0.1";
    m->model_domain = "";
    m->model_version = 2;
    IrOpsetImport ops[2] = {{"", 13}, {"com.microsoft", 1}};
    m->opsets = ops;
    m->nopsets = 2;
    m->graph = make_add_graph(m);
    assert_text(model_text(m, 0),
                "onnxc-ir 1\n"
                "ir_version 8\n"
                "producer \"onnxc-test\" \"0.1\"\n"
                "domain \"\"\n"
                "model_version 2\n"
                "opset \"\" 13\n"
                "opset \"com.microsoft\" 1\n"
                "graph \"main\" {\n"
                "  input %a : f32[32,10]\n"
                "  input %b : f32[32,10]\n"
                "  %y = Add(%a, %b) {} : f32[32,10]  # node \"add1\", opset 13\n"
                "  output %y : f32[32,10]\n"
                "}\n");
    m->opsets = NULL;
    m->nopsets = 0;
    ir_model_destroy(m);
}

/* Symbols, unknown dims, quoted names, initializers (summarised and full), attributes of each
 * scalar/list kind, omitted inputs and outputs, a custom domain, kernel and workspace offsets. */
static void test_print_features_golden(void **state) {
    (void)state;
    IrGraph *g = ir_graph_create(NULL, NULL, "g 1");
    IrValue *x = tinput(g, "onnx::x/0", IR_DT_FLOAT, 2, (int64_t[]){1, 3});
    x->type.dims[0].value = -1;
    x->type.dims[0].sym = "N";
    float wv[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
    IrValue *w = tinit_f32(g, "w", 10, wv);
    float bv[3] = {0.1f, 1.0f, -0.0f};
    IrValue *b = tinit_f32(g, "b.bias", 3, bv);
    IrValue *y = tval(g, "y", IR_DT_FLOAT, 2, (int64_t[]){1, 3});
    y->type.dims[0].value = -1; /* unknown */
    y->offset = 128;
    IrNode *n = ir_node_new(g, NULL, "clip", "", "Clip", 13, 3, (IrValue *[]){x, NULL, b}, 1, &y);
    n->kernel = "rt_k_clip";
    IrAttr *at = ir_node_add_attr(n, "alpha", IR_ATTR_FLOAT);
    at->f = 0.5f;
    at = ir_node_add_attr(n, "axis", IR_ATTR_INT);
    at->i = -1;
    at = ir_node_add_attr(n, "perm", IR_ATTR_INTS);
    at->n = 3;
    at->ints = (int64_t[]){0, 2, 1};
    at = ir_node_add_attr(n, "scales", IR_ATTR_FLOATS);
    at->n = 2;
    at->floats = (float[]){1.0f, 0.25f};
    at = ir_node_add_attr(n, "mode", IR_ATTR_STRING);
    at->s = (IrString){"say \"hi\"\n", 9};
    at = ir_node_add_attr(n, "empty", IR_ATTR_INTS);
    IrValue *z = tval(g, "z", IR_DT_FLOAT, 0, NULL);
    ir_node_new(g, NULL, "", "com.microsoft", "Gelu", 1, 1, &w, 2, (IrValue *[]){z, NULL});
    ir_graph_add_output(g, y);
    ir_graph_add_output(g, z);

    /* fnv1a64 of np.arange(10, dtype=np.float32).tobytes() = 06a148898f77dda8 (numpy) */
    assert_text(graph_text(g, 0),
                "graph \"g 1\" {\n"
                "  input %\"onnx::x/0\" : f32[N,3]\n"
                "  init %w : f32[10] = [0.0, 1.0, 2.0, 3.0, ... fnv1a64=06a148898f77dda8]\n"
                "  init %b.bias : f32[3] = [0.100000001, 1.0, -0.0]\n"
                "  %y = Clip(%\"onnx::x/0\", _, %b.bias) {alpha: float = 0.5, axis: int = -1, "
                "perm: ints = [0, 2, 1], scales: floats = [1.0, 0.25], "
                "mode: string = \"say \\\"hi\\\"\\n\", empty: ints = []} : f32[?,3] @ws+128"
                "  # node \"clip\", opset 13, kernel rt_k_clip\n"
                "  %z, _ = com.microsoft.Gelu(%w) {} : f32[], _  # node \"\", opset 1\n"
                "  output %y : f32[?,3] @ws+128\n"
                "  output %z : f32[]\n"
                "}\n");
    char *full = graph_text(g, 1);
    assert_non_null(strstr(full, "init %w : f32[10] = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, "
                                 "8.0, 9.0]\n"));
    free(full);
    ir_graph_destroy(g);
}

/* Constants of the non-f32 element types: hex for f16/f8, ints, strings, bools, and a tensor
 * attribute whose type is given with the data. */
static void test_print_constants(void **state) {
    (void)state;
    IrGraph *g = ir_graph_create(NULL, NULL, "c");
    int64_t two = 2;
    IrValue *h = tval(g, "h", IR_DT_FLOAT16, 1, &two);
    h->init = ir_tensor_new(g->arena, IR_DT_FLOAT16, 1, &two);
    uint16_t hv[2] = {0x3e00, 0xc000}; /* 1.5 and -2 as float16 (numpy .view(np.uint16)) */
    memcpy(h->init->data, hv, sizeof hv);
    ir_graph_add_init(g, h);
    IrValue *s = tval(g, "s", IR_DT_STRING, 1, &two);
    s->init = ir_tensor_new(g->arena, IR_DT_STRING, 1, &two);
    IrString sv[2] = {{"a\tb", 3}, {"\xff", 1}};
    memcpy(s->init->data, sv, sizeof sv);
    ir_graph_add_init(g, s);
    IrValue *c = tval(g, "c", IR_DT_INT64, 1, &two);
    IrNode *n = ir_node_new(g, NULL, "k", "", "Constant", 13, 0, NULL, 1, &c);
    IrAttr *at = ir_node_add_attr(n, "value", IR_ATTR_TENSOR);
    at->t = ir_tensor_new(g->arena, IR_DT_INT64, 1, &two);
    ((int64_t *)at->t->data)[0] = -5;
    ((int64_t *)at->t->data)[1] = INT64_MAX;
    IrValue *bo = tval(g, "bo", IR_DT_BOOL, 0, NULL);
    bo->init = ir_tensor_new(g->arena, IR_DT_BOOL, 0, NULL);
    ((unsigned char *)bo->init->data)[0] = 1;
    ir_graph_add_init(g, bo);
    ir_graph_add_output(g, c);
    assert_text(graph_text(g, 0),
                "graph \"c\" {\n"
                "  init %h : f16[2] = [0x3e00, 0xc000]\n"
                "  init %s : str[2] = [\"a\\tb\", \"\\xff\"]\n"
                "  init %bo : bool[] = [1]\n"
                "  %c = Constant() {value: tensor = i64[2] [-5, 9223372036854775807]} : i64[2]"
                "  # node \"k\", opset 13\n"
                "  output %c : i64[2]\n"
                "}\n");
    /* once inference attached the attribute's tensor to the output, the line says so */
    c->init = at->t;
    char *t = graph_text(g, 0);
    assert_non_null(strstr(t, "  %c = Constant() {value: tensor = i64[2] [-5, 9223372036854775807]}"
                              " : i64[2] = @value  # node \"k\", opset 13\n"));
    free(t);
    /* data that is not an attribute of the node is printed */
    c->init = ir_tensor_new(g->arena, IR_DT_INT64, 1, &two);
    ((int64_t *)c->init->data)[1] = 3;
    t = graph_text(g, 0);
    assert_non_null(strstr(t, " : i64[2] = [0, 3]  # node \"k\", opset 13\n"));
    free(t);
    ir_graph_destroy(g);
}

/* If with a then/else subgraph reading an outer value: nested, indented blocks. */
static IrGraph *make_if_graph(IrModel *m, IrGraph **then_out) {
    IrGraph *g = ir_graph_create(m, NULL, "main");
    IrValue *cond = tinput(g, "cond", IR_DT_BOOL, 0, NULL);
    IrValue *x = tinput(g, "x", IR_DT_FLOAT, 1, (int64_t[]){2});
    IrValue *r = tval(g, "r", IR_DT_FLOAT, 1, (int64_t[]){2});
    IrNode *n = node1(g, "if1", "If", 1, &cond, r);

    IrGraph *tg = ir_graph_create(m, g, "then");
    IrValue *tx = tval(tg, "x", IR_DT_FLOAT, 1, (int64_t[]){2});
    tx->flags |= IR_VALUE_OUTER;
    tx->outer = x;
    IrValue *ty = tval(tg, "t", IR_DT_FLOAT, 1, (int64_t[]){2});
    ir_node_new(tg, NULL, "neg", "", "Neg", 13, 1, &tx, 1, &ty);
    ir_graph_add_output(tg, ty);

    IrGraph *eg = ir_graph_create(m, g, "else");
    IrValue *ex = tval(eg, "x", IR_DT_FLOAT, 1, (int64_t[]){2});
    ex->flags |= IR_VALUE_OUTER;
    ex->outer = x;
    ir_graph_add_output(eg, ex);

    ir_node_add_attr(n, "then_branch", IR_ATTR_GRAPH)->g = tg;
    ir_node_add_attr(n, "else_branch", IR_ATTR_GRAPH)->g = eg;
    ir_graph_add_output(g, r);
    if (then_out)
        *then_out = tg;
    return g;
}

static void test_print_subgraph_golden(void **state) {
    (void)state;
    IrGraph *g = make_if_graph(NULL, NULL);
    assert_text(graph_text(g, 0),
                "graph \"main\" {\n"
                "  input %cond : bool[]\n"
                "  input %x : f32[2]\n"
                "  %r = If(%cond) {then_branch: graph = graph \"then\" {\n"
                "      outer %x : f32[2]\n"
                "      %t = Neg(%x) {} : f32[2]  # node \"neg\", opset 13\n"
                "      output %t : f32[2]\n"
                "    }, else_branch: graph = graph \"else\" {\n"
                "      outer %x : f32[2]\n"
                "      output %x : f32[2]\n"
                "    }} : f32[2]  # node \"if1\", opset 13\n"
                "  output %r : f32[2]\n"
                "}\n");
    expect_verify_ok(g);
    ir_graph_destroy(g);
}

/* Model-local functions, attribute references, metadata, plan sizes, a folded constant, an
 * outer reference under another name, graphs/type attributes, quoted op type and domain, and
 * a node without outputs. */
static void test_print_model_functions_golden(void **state) {
    (void)state;
    IrModel *m = ir_model_create();
    m->ir_version = 9;
    m->opsets = (IrOpsetImport[]){{"", 18}, {"custom", 1}};
    m->nopsets = 2;
    m->meta_keys = (const char *[]){"author"};
    m->meta_values = (const char *[]){"me"};
    m->nmeta = 1;
    m->workspace_bytes = 256;
    m->naive_bytes = 512;

    IrGraph *fn = ir_graph_create(m, NULL, "custom::Scale");
    IrValue *fx = ir_value_new(fn, "X");
    ir_graph_add_input(fn, fx);
    IrValue *fy = ir_value_new(fn, "Y");
    IrNode *fnode = ir_node_new(fn, NULL, "", "", "LeakyRelu", 18, 1, &fx, 1, &fy);
    ir_node_add_attr(fnode, "alpha", IR_ATTR_FLOAT)->ref_attr_name = "factor";
    ir_graph_add_output(fn, fy);
    m->functions = (IrGraph *[]){fn};
    m->function_domains = (const char *[]){"custom"};
    m->nfunctions = 1;

    IrGraph *g = ir_graph_create(m, NULL, "main");
    m->graph = g;
    IrValue *x = tinput(g, "x", IR_DT_INT64, 1, (int64_t[]){2});
    IrValue *k = tval(g, "k", IR_DT_INT64, 0, NULL); /* folded constant: data, no producer */
    k->init = ir_tensor_new(g->arena, IR_DT_INT64, 0, NULL);
    ((int64_t *)k->init->data)[0] = 7;
    IrValue *s = tval(g, "s", IR_DT_INT64, 1, (int64_t[]){2});
    IrNode *call = ir_node_new(g, NULL, "call", "custom", "Scale", 1, 2, (IrValue *[]){x, k}, 1, &s);
    ir_node_add_attr(call, "factor", IR_ATTR_FLOAT)->f = 2.0f;
    IrNode *pr = ir_node_new(g, NULL, "p", "my-dom", "Print Op", 1, 1, &s, 0, NULL);
    IrAttr *tp = ir_node_add_attr(pr, "fmt", IR_ATTR_TYPE_PROTO);
    IrType seq_t = {.kind = IR_TYPE_SEQUENCE, .elem = &x->type};
    tp->tp = &seq_t;
    IrAttr *br = ir_node_add_attr(pr, "branches", IR_ATTR_GRAPHS);
    IrGraph *b0 = ir_graph_create(m, g, "b0");
    IrValue *cap = tval(b0, "captured", IR_DT_INT64, 1, (int64_t[]){2});
    cap->flags |= IR_VALUE_OUTER;
    cap->outer = s;
    ir_graph_add_output(b0, cap);
    br->n = 1;
    br->graphs = ir_arena_alloc(g->arena, sizeof(IrGraph *));
    br->graphs[0] = b0;
    ir_graph_add_output(g, s);

    char *t = model_text(m, 0);
    assert_text(t, "onnxc-ir 1\n"
                   "ir_version 9\n"
                   "producer \"\" \"\"\n"
                   "domain \"\"\n"
                   "model_version 0\n"
                   "opset \"\" 18\n"
                   "opset \"custom\" 1\n"
                   "meta \"author\" \"me\"\n"
                   "workspace_bytes 256\n"
                   "naive_bytes 512\n"
                   "function \"custom::Scale\" domain \"custom\" {\n"
                   "  input %X : ?\n"
                   "  %Y = LeakyRelu(%X) {alpha: float = @factor} : ?  # node \"\", opset 18\n"
                   "  output %Y : ?\n"
                   "}\n"
                   "graph \"main\" {\n"
                   "  input %x : i64[2]\n"
                   "  const %k : i64[] = [7]\n"
                   "  %s = custom.Scale(%x, %k) {factor: float = 2.0} : i64[2]"
                   "  # node \"call\", opset 1\n"
                   "  () = \"my-dom\".\"Print Op\"(%s) {fmt: type = seq(i64[2]), "
                   "branches: graphs = [graph \"b0\" {\n"
                   "      outer %captured : i64[2] from %s\n"
                   "      output %captured : i64[2]\n"
                   "    }]}  # node \"p\", opset 1\n"
                   "  output %s : i64[2]\n"
                   "}\n");
    expect_verify_ok(g);
    expect_verify_ok(fn);
    /* the arrays above live on this stack frame: detach them before destroying */
    m->functions = NULL;
    m->nfunctions = 0;
    m->opsets = NULL;
    m->nopsets = 0;
    m->nmeta = 0;
    ir_graph_destroy(fn);
    ir_model_destroy(m);
}

static void test_print_deterministic(void **state) {
    (void)state;
    IrGraph *g1 = make_if_graph(NULL, NULL);
    IrGraph *g2 = make_if_graph(NULL, NULL);
    char *a = graph_text(g1, 1), *b = graph_text(g1, 1), *c = graph_text(g2, 1);
    assert_string_equal(a, b);
    assert_string_equal(a, c); /* separately built identical IR prints the same bytes */
    free(a);
    free(b);
    free(c);
    ir_graph_destroy(g1);
    ir_graph_destroy(g2);
}

static void test_print_special_floats(void **state) {
    (void)state;
    IrGraph *g = ir_graph_create(NULL, NULL, "f");
    float vals[6] = {1.0f / 3.0f, 1e10f, -2.5f, 0.0f, 0.0f, 0.0f};
    vals[3] = __builtin_inff();
    vals[4] = -__builtin_inff();
    vals[5] = __builtin_nanf("");
    tinit_f32(g, "v", 6, vals);
    IrValue *d = tval(g, "d", IR_DT_DOUBLE, 1, (int64_t[]){1});
    d->init = ir_tensor_new(g->arena, IR_DT_DOUBLE, 1, (int64_t[]){1});
    ((double *)d->init->data)[0] = 0.1;
    ir_graph_add_init(g, d);
    char *t = graph_text(g, 1);
    /* numpy: '%.9g' % np.float32(1/3) = 0.333333343; '%.17g' % 0.1 = 0.10000000000000001 */
    assert_non_null(strstr(t, "init %v : f32[6] = [0.333333343, 1e+10, -2.5, inf, -inf, nan]\n"));
    assert_non_null(strstr(t, "init %d : f64[1] = [0.10000000000000001]\n"));
    free(t);
    ir_graph_destroy(g);
}

/* ------------------------------------------------------------------ verifier */

static void test_verify_accepts_valid(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    expect_verify_ok(g);
    /* with an initializer, an omitted optional input and a chain of nodes */
    IrValue *y = g->outputs[0];
    float mn = 0.0f;
    IrValue *lo = tinit_f32(g, "lo", 1, &mn);
    IrValue *z = tval(g, "z", IR_DT_FLOAT, 2, D32x10);
    node1(g, "clip1", "Clip", 3, (IrValue *[]){y, lo, NULL}, z);
    ir_graph_add_output(g, z);
    expect_verify_ok(g);
    assert_int_equal(ir_verify(g, NULL), 0);
    ir_graph_destroy(g);
}

static void test_verify_double_assignment(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *y = g->outputs[0];
    IrValue *a = g->inputs[0];
    IrNode *n2 = node1(g, "neg2", "Neg", 1, &a, y); /* y produced a second time */
    (void)n2;
    expect_verify_error(g, "node 'neg2'", "already produced by node 'add1'");
    ir_graph_destroy(g);
}

static void test_verify_output_is_input(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *a = g->inputs[0], *b = g->inputs[1];
    node1(g, "bad", "Neg", 1, &a, b); /* writes a graph input */
    expect_verify_error(g, "node 'bad'", "also a graph input");
    ir_graph_destroy(g);
}

static void test_verify_use_before_def(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *y = g->outputs[0];
    IrValue *z = tval(g, "z", IR_DT_FLOAT, 2, D32x10);
    IrNode *neg = node1(g, "neg1", "Neg", 1, &y, z);
    ir_graph_add_output(g, z);
    expect_verify_ok(g);
    ir_node_move_before(g, neg, g->first); /* now reads y before add1 defines it */
    expect_verify_error(g, "node 'neg1'", "used before node 'add1' defines it");
    ir_graph_destroy(g);
}

static void test_verify_cycle(void **state) {
    (void)state;
    IrGraph *g = ir_graph_create(NULL, NULL, "cyc");
    IrValue *p = tval(g, "p", IR_DT_FLOAT, 0, NULL);
    IrValue *q = tval(g, "q", IR_DT_FLOAT, 0, NULL);
    node1(g, "n1", "Neg", 1, &q, p); /* p = Neg(q) */
    node1(g, "n2", "Neg", 1, &p, q); /* q = Neg(p) */
    ir_graph_add_output(g, q);
    expect_verify_error(g, "node 'n1'", "used before node 'n2' defines it");
    ir_graph_destroy(g);
}

static void test_verify_undefined_input(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *ghost = tval(g, "ghost", IR_DT_FLOAT, 2, D32x10); /* never defined */
    ir_node_set_input(g->first, 1, ghost);
    expect_verify_error(g, "node 'add1'", "input 1 ('ghost') is not defined");
    ir_graph_destroy(g);
}

static void test_verify_use_counts(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    g->inputs[0]->nuses = 5; /* really 1 */
    expect_verify_error(g, "'a'", "nuses 5 but 1 node inputs read it");
    g->inputs[0]->nuses = 1;
    g->outputs[0]->nuses = 2; /* y is read by no node: names its producer */
    expect_verify_error(g, "node 'add1'", "value 'y' has nuses 2 but 0");
    ir_graph_destroy(g);
}

static void test_verify_initializer_mismatch(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    float v[4] = {1, 2, 3, 4};
    IrValue *w = tinit_f32(g, "w", 4, v);
    IrValue *o = tval(g, "o", IR_DT_FLOAT, 1, (int64_t[]){4});
    node1(g, "usew", "Relu", 1, &w, o);
    expect_verify_ok(g);
    w->type.dims[0].value = 5; /* dims disagree */
    expect_verify_error(g, "'w'", "has type f32[5] but its data is f32[4]");
    w->type.dims[0].value = 4;
    w->type.dtype = IR_DT_INT32; /* dtype disagrees */
    expect_verify_error(g, "'w'", "has type i32[4] but its data is f32[4]");
    w->type.dtype = IR_DT_FLOAT;
    w->init->nbytes = 8; /* payload size disagrees with dims */
    expect_verify_error(g, "'w'", "holds 8 bytes, expected 16");
    ir_graph_destroy(g);
}

static void test_verify_arity(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *a = g->inputs[0], *b = g->inputs[1];
    IrValue *z = tval(g, "z", IR_DT_FLOAT, 2, D32x10);
    node1(g, "add3", "Add", 3, (IrValue *[]){a, b, a}, z); /* Add takes exactly 2 */
    expect_verify_error(g, "node 'add3'", "has 3 inputs, expected 2 to 2");
    ir_graph_destroy(g);

    g = make_add_graph(NULL);
    a = g->inputs[0];
    IrValue *z2 = tval(g, "z", IR_DT_FLOAT, 2, D32x10);
    node1(g, "gemm1", "Gemm", 2, (IrValue *[]){NULL, a}, z2); /* required input 0 omitted */
    expect_verify_error(g, "node 'gemm1'", "required input 0 is missing");
    ir_graph_destroy(g);

    /* an op unknown to the table is not arity-checked */
    g = make_add_graph(NULL);
    a = g->inputs[0];
    IrValue *z3 = tval(g, "z", IR_DT_FLOAT, 2, D32x10);
    node1(g, "mystery", "NoSuchOp", 3, (IrValue *[]){a, a, a}, z3);
    expect_verify_ok(g);
    ir_graph_destroy(g);
}

static void test_verify_duplicate_names(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *a2 = tinput(g, "a", IR_DT_FLOAT, 2, D32x10); /* second value named "a" */
    (void)a2;
    expect_verify_error(g, "graph 'main'", "two different values are named 'a'");
    ir_graph_destroy(g);

    g = make_add_graph(NULL);
    IrValue *a = g->inputs[0];
    IrValue *dup = tval(g, "y", IR_DT_FLOAT, 2, D32x10); /* node output reusing "y" */
    node1(g, "neg", "Neg", 1, &a, dup);
    expect_verify_error(g, "node 'neg'", "two different values are named 'y'");
    ir_graph_destroy(g);

    /* the same value listed twice among the inputs, and among the outputs */
    g = make_add_graph(NULL);
    ir_graph_add_input(g, g->inputs[0]);
    expect_verify_error(g, "graph 'main'", "value 'a' is listed twice as input");
    ir_graph_destroy(g);
    g = make_add_graph(NULL);
    ir_graph_add_output(g, g->outputs[0]);
    expect_verify_error(g, "graph 'main'", "output 'y' is listed more than once");
    ir_graph_destroy(g);

    /* two attributes of one node with the same name */
    g = make_add_graph(NULL);
    ir_node_add_attr(g->first, "axis", IR_ATTR_INT)->i = 0;
    ir_node_add_attr(g->first, "alpha", IR_ATTR_FLOAT)->f = 1.0f;
    ir_node_add_attr(g->first, "axis", IR_ATTR_INT)->i = 1;
    expect_verify_error(g, "node 'add1'", "attribute 'axis' appears more than once");
    ir_graph_destroy(g);
}

static void test_verify_output_undefined(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *lost = tval(g, "lost", IR_DT_FLOAT, 0, NULL);
    ir_graph_add_output(g, lost);
    expect_verify_error(g, "graph 'main'", "output 'lost' is not defined");
    ir_graph_destroy(g);

    /* an output whose producer was removed */
    g = make_add_graph(NULL);
    ir_node_remove(g, g->first);
    expect_verify_error(g, "graph 'main'", "output 'y' is not defined");
    ir_graph_destroy(g);
}

static void test_verify_subgraph_outer_refs(void **state) {
    (void)state;
    IrGraph *tg = NULL;
    IrGraph *g = make_if_graph(NULL, &tg);
    expect_verify_ok(g);

    /* an outer reference to a value of an unrelated graph */
    IrGraph *other = ir_graph_create(NULL, NULL, "other");
    IrValue *stranger = tval(other, "x", IR_DT_FLOAT, 1, (int64_t[]){2});
    IrValue *tx = tg->values[0];
    tx->outer = stranger;
    expect_verify_error(g, "graph 'then'", "does not resolve to a value of an enclosing graph");

    /* an outer reference to a value defined only after the If node */
    IrValue *late = tval(g, "late", IR_DT_FLOAT, 1, (int64_t[]){2});
    node1(g, "after", "Neg", 1, &g->outputs[0], late);
    tx->outer = late;
    expect_verify_error(g, "graph 'then'", "not defined before this subgraph");
    tx->outer = g->inputs[1];
    expect_verify_ok(g);

    /* a subgraph node with a problem is reported by name */
    IrNode *neg = tg->first;
    IrValue *ghost = tval(tg, "ghost", IR_DT_FLOAT, 1, (int64_t[]){2});
    ir_node_set_input(neg, 0, ghost);
    tx->nuses = 0;
    expect_verify_error(g, "node 'neg'", "input 0 ('ghost') is not defined");
    ir_graph_destroy(other);
    ir_graph_destroy(g);
}

/* A subgraph node may also read an enclosing graph's value directly (no outer declaration);
 * the use is counted in that value's nuses, and the value must be defined before the node that
 * owns the subgraph. */
static void test_verify_subgraph_direct_read(void **state) {
    (void)state;
    IrGraph *tg = NULL;
    IrGraph *g = make_if_graph(NULL, &tg);
    IrValue *x = g->inputs[1];
    IrValue *u = tval(tg, "u", IR_DT_FLOAT, 1, (int64_t[]){2});
    ir_node_new(tg, NULL, "direct", "", "Relu", 13, 1, &x, 1, &u);
    assert_int_equal(x->nuses, 1); /* counted on the enclosing graph's value */
    expect_verify_ok(g);
    x->nuses = 0;
    expect_verify_error(g, "'x'", "has nuses 0 but 1 node inputs read it");
    x->nuses = 1;

    /* reading a value that the enclosing graph defines only after the If */
    IrValue *late = tval(g, "late", IR_DT_FLOAT, 1, (int64_t[]){2});
    node1(g, "after", "Neg", 1, &g->outputs[0], late);
    ir_node_set_input(tg->last, 0, late);
    expect_verify_error(g, "node 'direct'", "not defined there before this subgraph");

    /* reading a value of an unrelated graph */
    IrGraph *other = ir_graph_create(NULL, NULL, "other");
    IrValue *stranger = tval(other, "s", IR_DT_FLOAT, 1, (int64_t[]){2});
    ir_node_set_input(tg->last, 0, stranger);
    expect_verify_error(g, "node 'direct'", "belongs to neither graph 'then' nor an enclosing");
    ir_graph_destroy(other);
    ir_graph_destroy(g);
}

/* Corrupt structures are reported, never crash or loop: a cyclic node list and a constant
 * whose rank is out of bounds. */
static void test_verify_print_corrupt(void **state) {
    (void)state;
    IrGraph *g = make_add_graph(NULL);
    IrValue *a = g->inputs[0];
    IrValue *z = tval(g, "z", IR_DT_FLOAT, 2, D32x10);
    node1(g, "neg", "Neg", 1, &a, z);
    g->last->next = g->first; /* the list now loops */
    expect_verify_error(g, "graph 'main'", "node list does not end");
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(ir_print_graph(g, f, 0), -1);
    g->last->next = NULL;
    expect_verify_ok(g);

    float one = 1.0f;
    IrValue *w = tinit_f32(g, "w", 1, &one);
    w->init->rank = 1000; /* beyond IR_MAX_RANK */
    expect_verify_error(g, "'w'", "invalid rank 1000");
    assert_int_equal(ir_print_graph(g, f, 0), -1);
    w->init->rank = 1;
    w->init->data = NULL;
    expect_verify_error(g, "'w'", "has no data");
    fclose(f);
    ir_graph_destroy(g);
}

/* Subgraphs nested deeper than IR_MAX_SUBGRAPH_DEPTH are reported, not followed. */
static void test_verify_depth_cap(void **state) {
    (void)state;
    IrGraph *top = ir_graph_create(NULL, NULL, "level0");
    IrGraph *g = top;
    for (int i = 1; i <= IR_MAX_SUBGRAPH_DEPTH + 6; i++) {
        char nm[32];
        snprintf(nm, sizeof nm, "level%d", i);
        IrGraph *sub = ir_graph_create(NULL, g, nm);
        snprintf(nm, sizeof nm, "loop%d", i);
        IrNode *n = ir_node_new(g, NULL, nm, "", "Loop", 13, 0, NULL, 0, NULL);
        ir_node_add_attr(n, "body", IR_ATTR_GRAPH)->g = sub;
        g = sub;
    }
    IrDiag d;
    ir_diag_init(&d, NULL);
    assert_true(ir_verify(top, &d) > 0);
    assert_true(diag_has(&d, "nested more than"));
    ir_diag_free(&d);
    /* the printer stops at the same cap and reports an error instead of recursing further */
    FILE *f = fopen("/dev/null", "w");
    assert_non_null(f);
    assert_int_equal(ir_print_graph(top, f, 0), -1);
    fclose(f);
    ir_graph_destroy(top);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_arena_alignment_and_zero),
        cmocka_unit_test(test_arena_large_blocks),
        cmocka_unit_test(test_arena_strings),
        cmocka_unit_test(test_checked_arithmetic),
        cmocka_unit_test(test_dtype_names),
        cmocka_unit_test(test_type_strings),
        cmocka_unit_test(test_print_add_golden),
        cmocka_unit_test(test_print_model_golden),
        cmocka_unit_test(test_print_features_golden),
        cmocka_unit_test(test_print_constants),
        cmocka_unit_test(test_print_subgraph_golden),
        cmocka_unit_test(test_print_model_functions_golden),
        cmocka_unit_test(test_print_deterministic),
        cmocka_unit_test(test_print_special_floats),
        cmocka_unit_test(test_verify_accepts_valid),
        cmocka_unit_test(test_verify_double_assignment),
        cmocka_unit_test(test_verify_output_is_input),
        cmocka_unit_test(test_verify_use_before_def),
        cmocka_unit_test(test_verify_cycle),
        cmocka_unit_test(test_verify_undefined_input),
        cmocka_unit_test(test_verify_use_counts),
        cmocka_unit_test(test_verify_initializer_mismatch),
        cmocka_unit_test(test_verify_arity),
        cmocka_unit_test(test_verify_duplicate_names),
        cmocka_unit_test(test_verify_output_undefined),
        cmocka_unit_test(test_verify_subgraph_outer_refs),
        cmocka_unit_test(test_verify_subgraph_direct_read),
        cmocka_unit_test(test_verify_depth_cap),
        cmocka_unit_test(test_verify_print_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
