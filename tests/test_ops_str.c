/* test_ops_str.c - tests of the str and ml families and of string tensors: the context's string
 * pool (runtime/rt_str.c), the infer/lower hooks of ops/op_str.c and ops/op_ml.c on small
 * graphs with their kernels run directly (StringNormalizer, StringConcat, StringSplit,
 * RegexFullMatch with the RE2 -> POSIX translation, LabelEncoder, Binarizer,
 * ArrayFeatureExtractor, TreeEnsemble, TfIdfVectorizer), with expected values worked out by hand
 * from the specification, and one compiled model with string input and output through the
 * harness (skipped when the backend test data is absent).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "ops/op.h"
#include "passes/pass.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"
#include "runtime/rt_params_ml.h"
#include "runtime/rt_params_str.h"
#include "tools/harness.h"

/* ------------------------------------------------------------------ fixture */

typedef struct Fx {
    IrModel *m;
    IrGraph *g;
    IrDiag d;
    RtCtx ctx; /* kernels run here; its string pool is released by fx_free */
} Fx;

static Fx *fx_new(void) {
    Fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    f->m = ir_model_create();
    assert_non_null(f->m);
    f->g = ir_graph_create(f->m, NULL, "t");
    assert_non_null(f->g);
    f->m->graph = f->g;
    ir_diag_init(&f->d, "test");
    rt_ctx_init(&f->ctx);
    return f;
}

static void fx_free(Fx *f) {
    rt_str_release(&f->ctx);
    ir_diag_free(&f->d);
    ir_model_destroy(f->m);
    free(f);
}

static IrValue *fx_input(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_non_null(v);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    assert_int_equal(ir_graph_add_input(f->g, v), 0);
    return v;
}

/* A node with nin inputs and nout outputs y0, y1, ... in `domain`. */
static IrNode *fx_node(Fx *f, const char *domain, const char *op, int opset, int nin,
                       IrValue **in, int nout) {
    IrValue *out[4];
    for (int i = 0; i < nout; i++) {
        char nm[8];
        snprintf(nm, sizeof nm, "y%d", i);
        out[i] = ir_value_new(f->g, nm);
        assert_non_null(out[i]);
    }
    IrNode *n = ir_node_new(f->g, NULL, op, domain, op, opset, nin, in, nout, out);
    assert_non_null(n);
    assert_int_not_equal(n->op, OP_UNKNOWN);
    return n;
}

/* Declares output i's static type (as a model's graph output would). */
static void declare(Fx *f, IrNode *n, int i, IrDType dt, int rank, const int64_t *dims) {
    assert_int_equal(ir_type_set_tensor(f->g->arena, &n->out[i]->type, dt, rank, dims), 0);
}

static void set_int(IrNode *n, const char *name, int64_t v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INT);
    assert_non_null(a);
    a->i = v;
}

static void set_float(IrNode *n, const char *name, float v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_FLOAT);
    assert_non_null(a);
    a->f = v;
}

static void set_ints(IrNode *n, const char *name, int cnt, const int64_t *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_INTS);
    assert_non_null(a);
    a->n = cnt;
    a->ints = ir_arena_memdup(n->graph->arena, v, (size_t)cnt * sizeof(int64_t));
}

static void set_floats(IrNode *n, const char *name, int cnt, const float *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_FLOATS);
    assert_non_null(a);
    a->n = cnt;
    a->floats = ir_arena_memdup(n->graph->arena, v, (size_t)cnt * sizeof(float));
}

static void set_str(IrNode *n, const char *name, const char *s) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_STRING);
    assert_non_null(a);
    a->s.len = strlen(s);
    a->s.data = ir_arena_memdup(n->graph->arena, s, a->s.len + 1);
}

static void set_strs(IrNode *n, const char *name, int cnt, const char *const *v) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_STRINGS);
    assert_non_null(a);
    a->n = cnt;
    a->strings = ir_arena_alloc(n->graph->arena, sizeof(IrString) * (size_t)cnt);
    for (int i = 0; i < cnt; i++) {
        a->strings[i].len = strlen(v[i]);
        a->strings[i].data = ir_arena_memdup(n->graph->arena, v[i], a->strings[i].len + 1);
    }
}

/* A tensor attribute of dt with cnt elements from `data` (1-D). */
static void set_tensor(IrNode *n, const char *name, IrDType dt, int64_t cnt, const void *data) {
    IrAttr *a = ir_node_add_attr(n, name, IR_ATTR_TENSOR);
    assert_non_null(a);
    a->t = ir_tensor_new(n->graph->arena, dt, 1, &cnt);
    assert_non_null(a->t);
    if (cnt) memcpy(a->t->data, data, a->t->nbytes);
}

/* Infers and lowers n (asserting success). */
static void fx_prepare(Fx *f, IrNode *n) {
    if (op_infer_node(n, &f->d) != 0 || op_lower_node(n, &f->d) != 0) {
        ir_diag_print(&f->d, stderr);
        fail_msg("infer/lower failed: %s", ir_diag_last(&f->d));
    }
}

/* Runs n's kernel on in_data (per input) writing out_data (per output), with the inferred
 * shapes; returns the kernel's status. */
static int fx_exec(Fx *f, IrNode *n, const void *const *in_data, void *const *out_data) {
    RtKernelFn k = rt_kernel_find(n->kernel);
    assert_non_null(k);
    RtTensor in[4], out[4];
    static int64_t dims[8][IR_MAX_RANK];
    assert_true(n->nin <= 4 && n->nout <= 4);
    for (int i = 0; i < n->nin; i++) {
        IrValue *v = n->in[i];
        for (int j = 0; j < v->type.rank; j++) dims[i][j] = v->type.dims[j].value;
        in[i] = (RtTensor){(void *)in_data[i], dims[i], v->type.rank, v->type.dtype};
    }
    for (int i = 0; i < n->nout; i++) {
        IrValue *v = n->out[i];
        for (int j = 0; j < v->type.rank; j++) dims[4 + i][j] = v->type.dims[j].value;
        out[i] = (RtTensor){out_data[i], dims[4 + i], v->type.rank, v->type.dtype};
    }
    f->ctx.errmsg[0] = '\0';
    int st = k(&f->ctx, n->params, in, n->nin, out, n->nout);
    if (st)
        print_message("kernel: %s\n", f->ctx.errmsg);
    return st;
}

static void expect_error(Fx *f, IrNode *n, const char *needle) {
    int rc = op_infer_node(n, &f->d);
    if (rc == 0)
        rc = op_lower_node(n, &f->d);
    assert_int_not_equal(rc, 0);
    if (!strstr(ir_diag_last(&f->d), needle))
        fail_msg("message '%s' lacks '%s'", ir_diag_last(&f->d), needle);
}

static OnnxcString S(const char *s) {
    OnnxcString r = {s, strlen(s)};
    return r;
}

static void assert_strs(const OnnxcString *got, const char *const *want, int n) {
    for (int i = 0; i < n; i++) {
        size_t wl = strlen(want[i]);
        if (got[i].len != wl || (wl && memcmp(got[i].data, want[i], wl) != 0))
            fail_msg("element %d: got '%.*s' (%zu bytes), want '%s'", i, (int)got[i].len,
                     got[i].data ? got[i].data : "", got[i].len, want[i]);
    }
}

/* ------------------------------------------------------------------ the pool */

static void test_pool(void **state) {
    (void)state;
    RtCtx ctx;
    rt_ctx_init(&ctx);
    assert_null(ctx.str_pool);
    char *p[100];
    for (int i = 0; i < 100; i++) {
        p[i] = rt_str_alloc(&ctx, 1000);
        assert_non_null(p[i]);
        memset(p[i], i, 1000);
    }
    char *big = rt_str_alloc(&ctx, (size_t)1 << 20); /* larger than a chunk */
    assert_non_null(big);
    memset(big, 0x5a, (size_t)1 << 20);
    char *small = rt_str_alloc(&ctx, 3);
    assert_non_null(small);
    for (int i = 0; i < 100; i++) /* nothing was overwritten */
        assert_int_equal((unsigned char)p[i][999], (unsigned char)i);
    assert_non_null(rt_str_alloc(&ctx, 0));
    assert_null(rt_str_alloc(NULL, 8));
    rt_str_release(&ctx);
    assert_null(ctx.str_pool);
    rt_str_release(&ctx); /* twice is harmless */
    rt_str_release(NULL);
}

/* ------------------------------------------------------------------ StringNormalizer */

static void test_string_normalizer(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d16[2] = {1, 6}, d14[2] = {1, 4}, d13[2] = {1, 3};
    IrValue *x = fx_input(f, "x", IR_DT_STRING, 2, d16);
    IrNode *n = fx_node(f, "", "StringNormalizer", 10, 1, &x, 1);
    const char *stop[] = {"monday"};
    set_strs(n, "stopwords", 1, stop);
    set_str(n, "case_change_action", "UPPER");
    declare(f, n, 0, IR_DT_STRING, 2, d14);
    fx_prepare(f, n);
    OnnxcString xs[6] = {S("Monday"), S("tuesday"), S("wednesday"), S("MONDAY"), S("tue-Day"),
                         S("caf\xc3\xa9")};
    OnnxcString ys[4];
    const void *in[1] = {xs};
    void *out[1] = {ys};
    assert_int_equal(fx_exec(f, n, in, out), 0);
    const char *want[] = {"TUESDAY", "WEDNESDAY", "TUE-DAY", "CAF\xc3\xa9"}; /* ASCII only */
    assert_strs(ys, want, 4);
    /* case sensitive: only the exact "monday" goes, so 6 are kept but 4 declared */
    set_int(n, "is_case_sensitive", 1);
    fx_prepare(f, n);
    assert_int_equal(fx_exec(f, n, in, out), ONNXC_ERR_SHAPE);
    assert_non_null(strstr(f->ctx.errmsg, "differs"));
    /* fewer kept than declared is an error too */
    declare(f, n, 0, IR_DT_STRING, 2, d13);
    OnnxcString all[6] = {S("monday"), S("monday"), S("a"), S("b"), S("monday"), S("c")};
    OnnxcString y3[3];
    const void *in2[1] = {all};
    void *out2[1] = {y3};
    fx_prepare(f, n);
    assert_int_equal(fx_exec(f, n, in2, out2), 0);
    const char *want3[] = {"A", "B", "C"};
    assert_strs(y3, want3, 3);
    /* everything removed: one empty string */
    int64_t d11[2] = {1, 1};
    declare(f, n, 0, IR_DT_STRING, 2, d11);
    OnnxcString mon[6] = {S("monday"), S("monday"), S("monday"), S("monday"), S("monday"),
                          S("monday")};
    OnnxcString y1[1] = {S("junk")};
    const void *in3[1] = {mon};
    void *out3[1] = {y1};
    fx_prepare(f, n);
    assert_int_equal(fx_exec(f, n, in3, out3), 0);
    assert_int_equal(y1[0].len, 0);
    /* without a declared output type the length is a fresh symbol and the kernel allocates
     * the output from the context's run-time pool */
    IrValue *x2 = fx_input(f, "x2", IR_DT_STRING, 1, d16 + 1);
    IrNode *n2 = fx_node(f, "", "StringNormalizer", 10, 1, &x2, 1);
    set_strs(n2, "stopwords", 1, stop);
    set_str(n2, "case_change_action", "LOWER");
    fx_prepare(f, n2);
    assert_int_equal(n2->out[0]->type.rank, 1);
    assert_true(n2->out[0]->type.dims[0].value < 0 && n2->out[0]->type.dims[0].sym);
    {
        RtTensor xi = {xs, d16 + 1, 1, IR_DT_STRING};
        int64_t ydims[1] = {-1};
        RtTensor yo = {NULL, ydims, 1, IR_DT_STRING};
        RtCtx c;
        rt_ctx_init(&c);
        /* no pool (as in constant folding): unsupported, not a crash */
        assert_int_equal(rt_kernel_find(n2->kernel)(&c, n2->params, &xi, 1, &yo, 1),
                         ONNXC_ERR_UNSUPPORTED);
        c.pool = rt_pool_new();
        assert_non_null(c.pool);
        assert_int_equal(rt_kernel_find(n2->kernel)(&c, n2->params, &xi, 1, &yo, 1), 0);
        assert_int_equal(ydims[0], 4);
        const char *wantd[] = {"tuesday", "wednesday", "tue-day", "caf\xc3\xa9"};
        assert_strs(yo.data, wantd, 4);
        rt_pool_free(c.pool);
        rt_str_release(&c);
    }
    /* shape [2, C] is refused, a bad action too */
    int64_t d23[2] = {2, 3};
    IrValue *x3 = fx_input(f, "x3", IR_DT_STRING, 2, d23);
    IrNode *n3 = fx_node(f, "", "StringNormalizer", 10, 1, &x3, 1);
    expect_error(f, n3, "[C] or [1, C]");
    IrValue *x4 = fx_input(f, "x4", IR_DT_STRING, 1, d16 + 1);
    IrNode *n4 = fx_node(f, "", "StringNormalizer", 10, 1, &x4, 1);
    set_str(n4, "case_change_action", "TITLE");
    expect_error(f, n4, "case_change_action");
    fx_free(f);
}

/* ------------------------------------------------------------------ StringConcat */

static void test_string_concat(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d21[2] = {2, 1}, d3[1] = {3};
    IrValue *in[2] = {fx_input(f, "a", IR_DT_STRING, 2, d21), fx_input(f, "b", IR_DT_STRING, 1, d3)};
    IrNode *n = fx_node(f, "", "StringConcat", 20, 2, in, 1);
    fx_prepare(f, n);
    assert_int_equal(n->out[0]->type.rank, 2);
    assert_int_equal(n->out[0]->type.dims[0].value, 2);
    assert_int_equal(n->out[0]->type.dims[1].value, 3);
    OnnxcString a[2] = {S("x"), S("")}, b[3] = {S("1"), S(""), S("\xe7\x9a\x84")};
    OnnxcString z[6];
    const void *ind[2] = {a, b};
    void *outd[1] = {z};
    assert_int_equal(fx_exec(f, n, ind, outd), 0);
    const char *want[] = {"x1", "x", "x\xe7\x9a\x84", "1", "", "\xe7\x9a\x84"};
    assert_strs(z, want, 6);
    /* a non-string input is refused */
    IrValue *in2[2] = {fx_input(f, "c", IR_DT_FLOAT, 1, d3), in[1]};
    IrNode *n2 = fx_node(f, "", "StringConcat", 20, 2, in2, 1);
    expect_error(f, n2, "expected STRING");
    fx_free(f);
}

/* ------------------------------------------------------------------ StringSplit */

static void test_string_split(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d3[1] = {3}, d33[2] = {3, 3};
    IrValue *x = fx_input(f, "x", IR_DT_STRING, 1, d3);
    IrNode *n = fx_node(f, "", "StringSplit", 20, 1, &x, 2);
    set_str(n, "delimiter", "--");
    declare(f, n, 0, IR_DT_STRING, 2, d33);
    fx_prepare(f, n);
    assert_int_equal(n->out[1]->type.dtype, IR_DT_INT64);
    OnnxcString xs[3] = {S("a--b----c"), S(""), S("--x")};
    OnnxcString y[9];
    int64_t z[3];
    const void *in[1] = {xs};
    void *out[2] = {y, z};
    /* "a--b----c" -> a, b, "", c: 4 pieces, but 3 declared */
    assert_int_equal(fx_exec(f, n, in, out), ONNXC_ERR_SHAPE);
    xs[0] = S("a--b--");
    assert_int_equal(fx_exec(f, n, in, out), 0);
    const char *want[] = {"a", "b", "", "", "", "", "", "x", ""};
    assert_strs(y, want, 9);
    assert_int_equal(z[0], 3);
    assert_int_equal(z[1], 1); /* "" split by a delimiter is [""] */
    assert_int_equal(z[2], 2);
    /* whitespace with maxsplit 1: the remainder keeps its trailing whitespace (Python) */
    IrValue *x2 = fx_input(f, "x2", IR_DT_STRING, 1, d3);
    IrNode *n2 = fx_node(f, "", "StringSplit", 20, 1, &x2, 2);
    set_int(n2, "maxsplit", 1);
    int64_t d32[2] = {3, 2};
    declare(f, n2, 0, IR_DT_STRING, 2, d32);
    fx_prepare(f, n2);
    OnnxcString xs2[3] = {S("  a b  c "), S("   "), S("one")};
    OnnxcString y2[6];
    int64_t z2[3];
    const void *in2[1] = {xs2};
    void *out2[2] = {y2, z2};
    assert_int_equal(fx_exec(f, n2, in2, out2), 0);
    const char *want2[] = {"a", "b  c ", "", "", "one", ""};
    assert_strs(y2, want2, 6);
    assert_int_equal(z2[0], 2);
    assert_int_equal(z2[1], 0);
    assert_int_equal(z2[2], 1);
    /* without a declared type the last dimension is computed by the kernel */
    IrValue *x3 = fx_input(f, "x3", IR_DT_STRING, 1, d3);
    IrNode *n3 = fx_node(f, "", "StringSplit", 20, 1, &x3, 2);
    fx_prepare(f, n3);
    assert_true(n3->out[0]->type.dims[1].value < 0 && n3->out[0]->type.dims[1].sym);
    {
        RtTensor xi = {xs2, d3, 1, IR_DT_STRING};
        int64_t ydims[2] = {3, -1}, zdims[1] = {3};
        RtTensor o[2] = {{NULL, ydims, 2, IR_DT_STRING}, {z2, zdims, 1, IR_DT_INT64}};
        RtCtx c;
        rt_ctx_init(&c);
        c.pool = rt_pool_new();
        assert_non_null(c.pool);
        assert_int_equal(rt_kernel_find(n3->kernel)(&c, n3->params, &xi, 1, o, 2), 0);
        assert_int_equal(ydims[1], 3); /* "  a b  c " -> a, b, c */
        const char *want3[] = {"a", "b", "c", "", "", "", "one", "", ""};
        assert_strs(o[0].data, want3, 9);
        rt_pool_free(c.pool);
        rt_str_release(&c);
    }
    fx_free(f);
}

/* ------------------------------------------------------------------ RegexFullMatch */

/* Compiles `pattern` and matches the strings; writes the results. Returns infer+lower status. */
static int regex_run(const char *pattern, int cnt, const char *const *s, uint8_t *res) {
    Fx *f = fx_new();
    int64_t d[1] = {cnt};
    IrValue *x = fx_input(f, "x", IR_DT_STRING, 1, d);
    IrNode *n = fx_node(f, "", "RegexFullMatch", 20, 1, &x, 1);
    set_str(n, "pattern", pattern);
    int rc = op_infer_node(n, &f->d);
    if (rc == 0)
        rc = op_lower_node(n, &f->d);
    if (rc == 0) {
        OnnxcString xs[16];
        assert_true(cnt <= 16);
        for (int i = 0; i < cnt; i++) xs[i] = S(s[i]);
        const void *in[1] = {xs};
        void *out[1] = {res};
        assert_int_equal(fx_exec(f, n, in, out), 0);
    }
    fx_free(f);
    return rc;
}

static void expect_matches(const char *pattern, int cnt, const char *const *s, const uint8_t *want) {
    uint8_t got[16];
    assert_int_equal(regex_run(pattern, cnt, s, got), 0);
    for (int i = 0; i < cnt; i++)
        if (got[i] != want[i])
            fail_msg("pattern '%s' on '%s': got %d, want %d", pattern, s[i], got[i], want[i]);
}

static void test_regex_full_match(void **state) {
    (void)state;
    const char *s1[] = {"12-34", "12-3a", "x12-34", ""};
    expect_matches("\\d+-\\d+", 4, s1, (const uint8_t[]){1, 0, 0, 0});
    const char *s2[] = {"me.x-y@x.com", "me@x.comm", "@x.com", "a\\b@x.com"};
    expect_matches("[\\w.-]+@x\\.com", 4, s2, (const uint8_t[]){1, 0, 0, 0});
    const char *s3[] = {"aaab", "b", "aab c"};
    expect_matches("a+?b", 3, s3, (const uint8_t[]){1, 0, 0});
    const char *s4[] = {"abab", "aba", ""};
    expect_matches("(?:ab)+", 3, s4, (const uint8_t[]){1, 0, 0});
    const char *s5[] = {"]^-a", "b", "^", "-"};
    expect_matches("[]a^-]+", 4, s5, (const uint8_t[]){1, 0, 1, 1});
    const char *s6[] = {"b", "a", "^"};
    expect_matches("[^a^]", 3, s6, (const uint8_t[]){1, 0, 0});
    const char *s7[] = {"x y", "xy", "x\ty"};
    expect_matches("x\\sy", 3, s7, (const uint8_t[]){1, 0, 1});
    const char *s8[] = {"www.a.com", "www.a.co"};
    expect_matches("www\\.[\\w.-]+\\.\\bcom\\b", 2, s8, (const uint8_t[]){1, 0});
    const char *s9[] = {"a.b", "axb"};
    expect_matches("a\\.b", 2, s9, (const uint8_t[]){1, 0});
    /* without a POSIX equivalent: reported at compile time */
    uint8_t r[4];
    assert_int_not_equal(regex_run("(?i)abc", 1, s1, r), 0);
    assert_int_not_equal(regex_run("\\p{L}+", 1, s1, r), 0);
    assert_int_not_equal(regex_run("(a", 1, s1, r), 0);
}

/* ------------------------------------------------------------------ LabelEncoder */

static void test_label_encoder(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d4[1] = {4};
    /* string -> int64 with default */
    IrValue *x = fx_input(f, "x", IR_DT_STRING, 1, d4);
    IrNode *n = fx_node(f, "ai.onnx.ml", "LabelEncoder", 2, 1, &x, 1);
    const char *keys[] = {"a", "b", ""};
    set_strs(n, "keys_strings", 3, keys);
    set_ints(n, "values_int64s", 3, (const int64_t[]){10, 20, 30});
    set_int(n, "default_int64", 7);
    fx_prepare(f, n);
    assert_int_equal(n->out[0]->type.dtype, IR_DT_INT64);
    OnnxcString xs[4] = {S("b"), S("c"), S(""), S("a")};
    int64_t y[4];
    const void *in[1] = {xs};
    void *out[1] = {y};
    assert_int_equal(fx_exec(f, n, in, out), 0);
    assert_int_equal(y[0], 20);
    assert_int_equal(y[1], 7);
    assert_int_equal(y[2], 30);
    assert_int_equal(y[3], 10);
    /* int64 -> string, default "_Unused" */
    IrValue *x2 = fx_input(f, "x2", IR_DT_INT64, 1, d4);
    IrNode *n2 = fx_node(f, "ai.onnx.ml", "LabelEncoder", 2, 1, &x2, 1);
    set_ints(n2, "keys_int64s", 2, (const int64_t[]){5, -1});
    const char *vals[] = {"five", "minus one"};
    set_strs(n2, "values_strings", 2, vals);
    fx_prepare(f, n2);
    int64_t xi[4] = {-1, 5, 6, 5};
    OnnxcString ys[4];
    const void *in2[1] = {xi};
    void *out2[1] = {ys};
    assert_int_equal(fx_exec(f, n2, in2, out2), 0);
    const char *want[] = {"minus one", "five", "_Unused", "five"};
    assert_strs(ys, want, 4);
    /* opset 4: float keys tensor with NaN, double values tensor, default tensor */
    IrValue *x3 = fx_input(f, "x3", IR_DT_FLOAT, 1, d4);
    IrNode *n3 = fx_node(f, "ai.onnx.ml", "LabelEncoder", 4, 1, &x3, 1);
    set_tensor(n3, "keys_tensor", IR_DT_FLOAT, 2, (const float[]){NAN, 1.5f});
    set_tensor(n3, "values_tensor", IR_DT_DOUBLE, 2, (const double[]){-2.0, 3.25});
    set_tensor(n3, "default_tensor", IR_DT_DOUBLE, 1, (const double[]){99.0});
    fx_prepare(f, n3);
    assert_int_equal(n3->out[0]->type.dtype, IR_DT_DOUBLE);
    float xf[4] = {1.5f, NAN, 0.0f, -1.5f};
    double yd[4];
    const void *in3[1] = {xf};
    void *out3[1] = {yd};
    assert_int_equal(fx_exec(f, n3, in3, out3), 0);
    assert_true(yd[0] == 3.25 && yd[1] == -2.0 && yd[2] == 99.0 && yd[3] == 99.0);
    /* keys and values of different lengths */
    IrValue *x4 = fx_input(f, "x4", IR_DT_STRING, 1, d4);
    IrNode *n4 = fx_node(f, "ai.onnx.ml", "LabelEncoder", 2, 1, &x4, 1);
    set_strs(n4, "keys_strings", 3, keys);
    set_ints(n4, "values_int64s", 2, (const int64_t[]){1, 2});
    expect_error(f, n4, "3 keys but 2 values");
    /* LabelEncoder-1: classes_strings, string -> index */
    IrValue *x5 = fx_input(f, "x5", IR_DT_STRING, 1, d4);
    IrNode *n5 = fx_node(f, "ai.onnx.ml", "LabelEncoder", 1, 1, &x5, 1);
    set_strs(n5, "classes_strings", 3, keys);
    fx_prepare(f, n5);
    assert_int_equal(fx_exec(f, n5, in, out), 0);
    assert_int_equal(y[0], 1);
    assert_int_equal(y[1], -1);
    assert_int_equal(y[2], 2);
    assert_int_equal(y[3], 0);
    fx_free(f);
}

/* ------------------------------------------------------------------ Binarizer, ArrayFeatureExtractor */

static void test_binarizer_afe(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d23[2] = {2, 3}, d2[1] = {2};
    IrValue *x = fx_input(f, "x", IR_DT_INT32, 2, d23);
    IrNode *n = fx_node(f, "ai.onnx.ml", "Binarizer", 1, 1, &x, 1);
    set_float(n, "threshold", 1.5f);
    fx_prepare(f, n);
    int32_t xi[6] = {-3, 1, 2, 5, 1, 0}, yi[6];
    const void *in[1] = {xi};
    void *out[1] = {yi};
    assert_int_equal(fx_exec(f, n, in, out), 0);
    const int32_t want[6] = {0, 0, 1, 1, 0, 0};
    assert_memory_equal(yi, want, sizeof want);
    /* ArrayFeatureExtractor on strings: rows keep their order, columns are picked */
    IrValue *in2[2] = {fx_input(f, "s", IR_DT_STRING, 2, d23), fx_input(f, "i", IR_DT_INT64, 1, d2)};
    IrNode *n2 = fx_node(f, "ai.onnx.ml", "ArrayFeatureExtractor", 1, 2, in2, 1);
    fx_prepare(f, n2);
    assert_int_equal(n2->out[0]->type.dims[1].value, 2);
    OnnxcString xs[6] = {S("a"), S("b"), S("c"), S("d"), S("e"), S("f")}, zs[4];
    int64_t idx[2] = {2, 0};
    const void *ind[2] = {xs, idx};
    void *outd[1] = {zs};
    assert_int_equal(fx_exec(f, n2, ind, outd), 0);
    const char *want2[] = {"c", "a", "f", "d"};
    assert_strs(zs, want2, 4);
    idx[0] = 3; /* out of range: a run-time error, not a crash */
    assert_int_equal(fx_exec(f, n2, ind, outd), ONNXC_ERR_RUNTIME);
    /* 1-D X gives [1, k] */
    int64_t d4[1] = {4};
    IrValue *in3[2] = {fx_input(f, "v", IR_DT_FLOAT, 1, d4), fx_input(f, "j", IR_DT_INT64, 1, d2)};
    IrNode *n3 = fx_node(f, "ai.onnx.ml", "ArrayFeatureExtractor", 1, 2, in3, 1);
    fx_prepare(f, n3);
    assert_int_equal(n3->out[0]->type.rank, 2);
    assert_int_equal(n3->out[0]->type.dims[0].value, 1);
    fx_free(f);
}

/* ------------------------------------------------------------------ TreeEnsemble */

/* Two trees over X [N, 2] float, SUM:
 *   tree 0: node 0: x0 <= 1 ? leaf 0 (t0, 1.0) : node 1;
 *           node 1: x1 in {2, 3} ? leaf 1 (t1, 4.0) : leaf 2 (t0, -2.0)
 *   tree 1: root node 2 whose two branches are the same leaf: the reference treats such a root
 *           as the leaf of the root's own index, leaf 2 (t0, -2.0). */
static void test_tree_ensemble(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d32[2] = {3, 2};
    IrValue *x = fx_input(f, "x", IR_DT_FLOAT, 2, d32);
    IrNode *n = fx_node(f, "ai.onnx.ml", "TreeEnsemble", 5, 1, &x, 1);
    set_int(n, "n_targets", 2);
    set_int(n, "aggregate_function", 1); /* SUM */
    set_ints(n, "nodes_featureids", 3, (const int64_t[]){0, 1, 0});
    set_tensor(n, "nodes_modes", IR_DT_UINT8, 3, (const uint8_t[]){0, 6, 0});
    set_tensor(n, "nodes_splits", IR_DT_FLOAT, 3, (const float[]){1.0f, 0.0f, 0.0f});
    set_ints(n, "nodes_truenodeids", 3, (const int64_t[]){0, 1, 3});
    set_ints(n, "nodes_trueleafs", 3, (const int64_t[]){1, 1, 1});
    set_ints(n, "nodes_falsenodeids", 3, (const int64_t[]){1, 2, 3});
    set_ints(n, "nodes_falseleafs", 3, (const int64_t[]){0, 1, 1});
    set_ints(n, "leaf_targetids", 4, (const int64_t[]){0, 1, 0, 1});
    set_tensor(n, "leaf_weights", IR_DT_FLOAT, 4, (const float[]){1.0f, 4.0f, -2.0f, 0.5f});
    set_tensor(n, "membership_values", IR_DT_FLOAT, 3, (const float[]){2.0f, 3.0f, NAN});
    set_ints(n, "tree_roots", 2, (const int64_t[]){0, 2});
    fx_prepare(f, n);
    float xv[6] = {0.5f, 9.0f, 2.0f, 3.0f, 2.0f, 5.0f}, y[6];
    const void *in[1] = {xv};
    void *out[1] = {y};
    assert_int_equal(fx_exec(f, n, in, out), 0);
    const float want[6] = {1.0f - 2.0f, 0.0f, -2.0f, 4.0f, -2.0f - 2.0f, 0.0f};
    for (int i = 0; i < 6; i++)
        if (y[i] != want[i]) fail_msg("y[%d] = %g, want %g", i, y[i], want[i]);
    fx_free(f);
    /* a node that leads back to itself: detected at run time */
    f = fx_new();
    x = fx_input(f, "x", IR_DT_DOUBLE, 2, d32);
    n = fx_node(f, "ai.onnx.ml", "TreeEnsemble", 5, 1, &x, 1);
    set_int(n, "n_targets", 1);
    set_ints(n, "nodes_featureids", 1, (const int64_t[]){0});
    set_tensor(n, "nodes_modes", IR_DT_UINT8, 1, (const uint8_t[]){0});
    set_tensor(n, "nodes_splits", IR_DT_DOUBLE, 1, (const double[]){0.0});
    set_ints(n, "nodes_truenodeids", 1, (const int64_t[]){0});
    set_ints(n, "nodes_trueleafs", 1, (const int64_t[]){0});
    set_ints(n, "nodes_falsenodeids", 1, (const int64_t[]){0});
    set_ints(n, "nodes_falseleafs", 1, (const int64_t[]){1});
    set_ints(n, "leaf_targetids", 1, (const int64_t[]){0});
    set_tensor(n, "leaf_weights", IR_DT_DOUBLE, 1, (const double[]){1.0});
    set_ints(n, "tree_roots", 1, (const int64_t[]){0});
    fx_prepare(f, n);
    double xd[6] = {-1, 0, -1, 0, 5, 0}, yd[3];
    const void *in2[1] = {xd};
    void *out2[1] = {yd};
    assert_int_equal(fx_exec(f, n, in2, out2), ONNXC_ERR_RUNTIME);
    assert_non_null(strstr(f->ctx.errmsg, "cycle"));
    fx_free(f);
}

/* ------------------------------------------------------------------ TfIdfVectorizer */

static void test_tfidf(void **state) {
    (void)state;
    Fx *f = fx_new();
    int64_t d6[1] = {6};
    IrValue *x = fx_input(f, "x", IR_DT_INT64, 1, d6);
    IrNode *n = fx_node(f, "", "TfIdfVectorizer", 9, 1, &x, 1);
    /* unigrams 7, 8; bigrams (7, 8), (8, 7) -> columns 0 1 2 3 */
    set_int(n, "min_gram_length", 1);
    set_int(n, "max_gram_length", 2);
    set_int(n, "max_skip_count", 1);
    set_str(n, "mode", "TF");
    set_ints(n, "ngram_counts", 2, (const int64_t[]){0, 2});
    set_ints(n, "ngram_indexes", 4, (const int64_t[]){0, 1, 2, 3});
    set_ints(n, "pool_int64s", 6, (const int64_t[]){7, 8, 7, 8, 8, 7});
    fx_prepare(f, n);
    assert_int_equal(n->out[0]->type.dims[0].value, 4);
    int64_t xv[6] = {7, 8, 9, 7, 8, 7};
    float y[4];
    const void *in[1] = {xv};
    void *out[1] = {y};
    assert_int_equal(fx_exec(f, n, in, out), 0);
    /* unigrams once: 7 x3, 8 x2; bigrams skip 0: (7,8) at 0 and 3, (8,7) at 4;
     * skip 1 (distance 2): (7,9) (8,7)@1 (9,8) (7,7)@3 -> (8,7) once more */
    const float want[4] = {3, 2, 2, 2};
    for (int i = 0; i < 4; i++)
        if (y[i] != want[i]) fail_msg("TF y[%d] = %g, want %g", i, y[i], want[i]);
    /* IDF with weights: weight where the count is positive */
    IrValue *x2 = fx_input(f, "x2", IR_DT_INT64, 1, d6);
    IrNode *n2 = fx_node(f, "", "TfIdfVectorizer", 9, 1, &x2, 1);
    set_int(n2, "min_gram_length", 1);
    set_int(n2, "max_gram_length", 1);
    set_int(n2, "max_skip_count", 0);
    set_str(n2, "mode", "TFIDF");
    set_ints(n2, "ngram_counts", 1, (const int64_t[]){0});
    set_ints(n2, "ngram_indexes", 2, (const int64_t[]){1, 0});
    set_ints(n2, "pool_int64s", 2, (const int64_t[]){7, 9});
    set_floats(n2, "weights", 2, (const float[]){0.5f, 2.0f});
    fx_prepare(f, n2);
    float y2[2];
    void *out2[1] = {y2};
    assert_int_equal(fx_exec(f, n2, in, out2), 0);
    /* 7 (3 times) -> column 1, weight 2; 9 (once) -> column 0, weight 0.5 */
    assert_true(y2[0] == 0.5f && y2[1] == 6.0f);
    /* strings, batch [2, 3], bigrams only, no skips */
    int64_t d23[2] = {2, 3};
    IrValue *x4 = fx_input(f, "x4", IR_DT_STRING, 2, d23);
    IrNode *n4 = fx_node(f, "", "TfIdfVectorizer", 9, 1, &x4, 1);
    set_int(n4, "min_gram_length", 2);
    set_int(n4, "max_gram_length", 2);
    set_int(n4, "max_skip_count", 0);
    set_str(n4, "mode", "IDF");
    set_ints(n4, "ngram_counts", 2, (const int64_t[]){0, 1});
    set_ints(n4, "ngram_indexes", 2, (const int64_t[]){0, 1});
    const char *pool[] = {"a", "a", "b"}; /* unigram "a" (not counted: min 2), bigram (a, b) */
    set_strs(n4, "pool_strings", 3, pool);
    fx_prepare(f, n4);
    assert_int_equal(n4->out[0]->type.rank, 2);
    assert_int_equal(n4->out[0]->type.dims[1].value, 2);
    OnnxcString xs4[6] = {S("a"), S("b"), S("a"), S("b"), S("a"), S("a")};
    float y4[4];
    const void *in4[1] = {xs4};
    void *out4[1] = {y4};
    assert_int_equal(fx_exec(f, n4, in4, out4), 0);
    assert_true(y4[0] == 0 && y4[1] == 1 && y4[2] == 0 && y4[3] == 0);
    /* bad mode */
    IrValue *x3 = fx_input(f, "x3", IR_DT_INT64, 1, d6);
    IrNode *n3 = fx_node(f, "", "TfIdfVectorizer", 9, 1, &x3, 1);
    set_str(n3, "mode", "BM25");
    set_ints(n3, "ngram_indexes", 1, (const int64_t[]){0});
    expect_error(f, n3, "mode");
    fx_free(f);
}

/* ------------------------------------------------------------------ compiled models */

static const char *data_dir(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

/* test_string_concat compiled to a library: string inputs, string output; results outlive a
 * second run (harness_str_own copies them out of the context's pool). */
static void test_compiled_strings(void **state) {
    (void)state;
    char path[4200];
    snprintf(path, sizeof path, "%s/node/test_string_concat/model.onnx", data_dir());
    struct stat st;
    if (stat(path, &st) != 0) {
        print_message("skipped: %s not found\n", path);
        skip();
    }
    IrDiag d;
    ir_diag_init(&d, "test");
    HarnessModel *h = harness_open(path, NULL, &d);
    if (!h) {
        ir_diag_print(&d, stderr);
        fail();
    }
    const OnnxcModelInfo *info = harness_info(h);
    assert_int_equal(info->inputs[0].dtype, IR_DT_STRING);
    assert_int_equal(info->outputs[0].dtype, IR_DT_STRING);
    IrArena *a = ir_arena_create();
    assert_non_null(a);
    int64_t d2[1] = {2};
    IrTensor *x = ir_tensor_new(a, IR_DT_STRING, 1, d2), *y = ir_tensor_new(a, IR_DT_STRING, 1, d2);
    IrString *xs = x->data, *ys = y->data;
    xs[0] = (IrString){"ab", 2};
    xs[1] = (IrString){"", 0};
    ys[0] = (IrString){"c\0d", 3}; /* a NUL byte inside */
    ys[1] = (IrString){"e", 1};
    IrTensor *in[2] = {x, y}, *out1[1], *out2[1];
    assert_int_equal(harness_run(h, in, 2, a, out1, &d), 0);
    xs[0] = (IrString){"zz", 2};
    assert_int_equal(harness_run(h, in, 2, a, out2, &d), 0);
    const IrString *r1 = out1[0]->data, *r2 = out2[0]->data;
    assert_int_equal(r1[0].len, 5);
    assert_memory_equal(r1[0].data, "abc\0d", 5);
    assert_int_equal(r1[1].len, 1);
    assert_memory_equal(r1[1].data, "e", 1);
    assert_memory_equal(r2[0].data, "zzc\0d", 5);
    harness_close(h);
    ir_arena_destroy(a);
    ir_diag_free(&d);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_string_normalizer),
        cmocka_unit_test(test_string_concat),
        cmocka_unit_test(test_string_split),
        cmocka_unit_test(test_regex_full_match),
        cmocka_unit_test(test_label_encoder),
        cmocka_unit_test(test_binarizer_afe),
        cmocka_unit_test(test_tree_ensemble),
        cmocka_unit_test(test_tfidf),
        cmocka_unit_test(test_compiled_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
