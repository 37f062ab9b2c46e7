/* test_ir_parse.c - the IR text parser (ir/ir_parse.c) against the printer (ir/ir_print.c).
 *
 *  - A hand-written text that exercises every construct of docs/IR_FORMAT.md parses and prints
 *    back byte for byte, and the parsed IR holds the expected values.
 *  - Errors: truncated text (every prefix), bad types, unknown value names, deep nesting,
 *    summarised constants, out-of-range elements, oversized literals, random corruption: an
 *    error with line:column, never a crash.
 *  - Round trip over the ONNX backend test data (env ONNXC_BACKEND_TESTS or
 *    ../shared/onnx-backend-tests; skipped when absent): print (full) -> parse -> print gives
 *    byte-identical text for every model whose full text is at most ROUNDTRIP_MAX_BYTES; the
 *    same after the compile pipeline (onnxc_prepare: inferred types and constants, optimisation
 *    passes, kernels, workspace offsets) for every model it accepts.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <math.h>
#include <time.h>

#include <cmocka.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"

/* Models whose full text is larger are counted and skipped (keeps the test fast). */
#define ROUNDTRIP_MAX_BYTES ((size_t)16 << 20)

/* ------------------------------------------------------------------ helpers */

static char *model_text(const IrModel *m, int full, size_t *len_out) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = ir_print_model(m, f, full);
    fclose(f);
    assert_int_equal(rc, 0);
    if (len_out)
        *len_out = len;
    return buf;
}

static void print_diag(const IrDiag *d) {
    for (int i = 0; i < d->nentries; i++)
        print_message("  diag: %s\n", d->entries[i].msg);
}

static int diag_has(const IrDiag *d, const char *s) {
    for (int i = 0; i < d->nentries; i++)
        if (d->entries[i].sev == IR_SEV_ERROR && strstr(d->entries[i].msg, s))
            return 1;
    return 0;
}

/* Parses text; expects success; returns the model. */
static IrModel *parse_ok(const char *text) {
    IrDiag d;
    ir_diag_init(&d, "t.ir");
    IrModel *m = ir_parse_model(text, strlen(text), "t.ir", &d);
    if (!m)
        print_diag(&d);
    assert_non_null(m);
    assert_int_equal(d.nerrors, 0);
    ir_diag_free(&d);
    return m;
}

/* Number of parse_fails calls whose expectation failed (checked at the end of each test, so
 * that one run shows every mismatch). */
static int g_bad_errors;

/* Parses text; expects failure with an error containing each of the given fragments (NULL
 * terminated). */
static void parse_fails(const char *text, size_t len, ...) {
    IrDiag d;
    ir_diag_init(&d, "t.ir");
    IrModel *m = ir_parse_model(text, len, "t.ir", &d);
    int ok = m == NULL && d.nerrors > 0;
    va_list ap;
    va_start(ap, len);
    for (const char *s; (s = va_arg(ap, const char *));)
        if (!diag_has(&d, s)) {
            print_message("missing '%s' in the diagnostics\n", s);
            ok = 0;
        }
    va_end(ap);
    if (!ok)
        print_diag(&d);
    ir_model_destroy(m);
    ir_diag_free(&d);
    if (!ok)
        g_bad_errors++;
}

/* parse -> print (full) must give the text back. */
static void assert_roundtrip(const char *text) {
    IrModel *m = parse_ok(text);
    char *out = model_text(m, 1, NULL);
    if (strcmp(out, text) != 0)
        print_message("--- expected:\n%s--- got:\n%s---\n", text, out);
    assert_string_equal(out, text);
    free(out);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ a text with everything */

static const char *k_everything =
    "onnxc-ir 1\n"
    "ir_version 9\n"
    "producer \"tests\" \"1.0\"\n"
    "domain \"org.example\"\n"
    "model_version 3\n"
    "opset \"\" 17\n"
    "opset \"com.microsoft\" 1\n"
    "opset \"my-dom\" 2\n"
    "meta \"author\" \"line\\nbreak \\\"quoted\\\" \\x01\\xff\"\n"
    "workspace_bytes 128\n"
    "naive_bytes 256\n"
    "function \"local::Scale\" domain \"local\" {\n"
    "  doc \"scales by alpha\"\n"
    "  input %x : ?\n"
    "  %a = Constant() {value_float: float = @alpha} : ?  # node \"c\", opset 17\n"
    "  %y = Mul(%x, %a) {} : ?  # node \"m\", opset 17\n"
    "  output %y : ?\n"
    "}\n"
    "graph \"main graph\" {\n"
    "  doc \"the \\\"main\\\" graph\"\n"
    "  input %x : f32[N,3]\n"
    "  input %\"in put\" : f32[\"batch size\",?]\n"
    "  input %c : bool[]\n"
    "  input %w : f32[2,2]\n"
    "  input %s : seq(map(i64,opt(f16[*])))\n"
    "  input %sp : sparse(f32[10,10])\n"
    "  init %w : f32[2,2] = [1.0, -0.0, 1e+10, 0.100000001]\n"
    "  init %b : f32[2] @ws+64 = [nan, nan:0x7fc00001]\n"
    "  init %d : f64[3] = [inf, -inf, 0.10000000000000001]\n"
    "  init %h : f16[2] = [0x3c00, 0xfc00]\n"
    "  init %bf : bf16[1] = [0x3f80]\n"
    "  init %f8 : f8e4m3fn[2] = [0x38, 0x7f]\n"
    "  init %f4 : f4e2m1[3] = [0x01, 0x0f, 0x00]\n"
    "  init %i4 : i4[3] = [-8, 7, 0]\n"
    "  init %u2 : u2[2] = [3, 0]\n"
    "  init %i2 : i2[2] = [-2, 1]\n"
    "  init %u64 : u64[2] = [18446744073709551615, 0]\n"
    "  init %i64 : i64[2] = [-9223372036854775808, 9223372036854775807]\n"
    "  init %i32 : i32[2] = [-2147483648, 2147483647]\n"
    "  init %u32 : u32[1] = [4294967295]\n"
    "  init %i16 : i16[2] = [-32768, 32767]\n"
    "  init %u16 : u16[1] = [65535]\n"
    "  init %i8 : i8[2] = [-128, 127]\n"
    "  init %u8 : u8[2] = [0, 255]\n"
    "  init %bo : bool[2] = [0, 1]\n"
    "  init %z : c64[1] = [(1.5,-2.0)]\n"
    "  init %zz : c128[1] = [(0.5,nan)]\n"
    "  init %str : str[3] = [\"a\", \"\", \"nul\\x00byte\"]\n"
    "  init %empty : f32[0,3] = []\n"
    "  init %sym : f32[N] = f32[2] [1.0, 2.0]\n"
    "  const %folded : i64[2] = [4, 5]\n"
    "  %mm = MatMul(%x, %w) {} : f32[N,2]  # node \"/fc/MatMul\", opset 17\n"
    "  %y = Add(%mm, %b) {} : f32[N,2] @ws+0  # node \"/fc/Add\", opset 17, kernel rt_k_add\n"
    "  %z2 = Clip(%y, _, %\"onnx::max_7\") {} : f32[N,2]  # node \"clip\", opset 17\n"
    "  %\"onnx::max_7\" = Constant() {value: tensor = f32[] [6.0]} : f32[] = @value  # node \"\", opset 17\n"
    "  %k = Constant() {value: tensor = \"named\" i64[2] [1, 2]} : i64[2] = @value  # node \"k\", opset 17\n"
    "  %e = Shape(%x) {} : i64[2] = [7, 3]  # node \"shape\", opset 17\n"
    "  %g = com.microsoft.Gelu(%y) {} : f32[N,2]  # node \"gelu\", opset 1\n"
    "  %q = \"my-dom\".\"My Op\"(%g) {\"odd name\": string = \"v\", u: undefined = _} : f32[*]  # node \"q\", opset 2\n"
    "  %l = local.Scale(%q) {alpha: float = 2.5} : ?  # node \"scale\", opset -1\n"
    "  () = Print(%l) {}  # node \"print\", opset 17\n"
    "  %o1, _, %o3 = Split(%z2, _) {axis: int = -1, ints: ints = [1, -2], no: ints = [], fl: floats = [0.5, 1.0], ss: strings = [\"a\", \"b\\tc\"], ts: tensors = [f32[1] [1.0], \"t\" i8[] [-3]], sts: sparse_tensors = [], sp: sparse_tensor = f32[2] [0.0, 1.0], ty: type = seq(f32[*]), tys: types = [i64[], opt(?)]} : f32[N,1], _, f32[N,?]  # node \"split\", opset 17\n"
    "  %r = If(%c) {then_branch: graph = graph \"then\" {\n"
    "      outer %z2 : f32[N,2]\n"
    "      outer %yy : f32[N,2] from %y\n"
    "      %t = Neg(%z2) {} : f32[N,2]  # node \"neg\", opset 17\n"
    "      %u = Loop(_, _) {body: graph = graph \"body\" {\n"
    "          outer %yy : f32[N,2]\n"
    "          output %yy : f32[N,2]\n"
    "        }} : f32[N,2]  # node \"loop\", opset 17\n"
    "      output %t : f32[N,2]\n"
    "    }, else_branch: graph = graph \"else\" {\n"
    "      outer %z2 : f32[N,2]\n"
    "      output %z2 : f32[N,2]\n"
    "    }, gs: graphs = [graph \"g0\" {\n"
    "    }, graph \"g1\" {\n"
    "      input %p : f32[1]\n"
    "      output %p : f32[1]\n"
    "    }]} : f32[N,2]  # node \"if1\", opset 17\n"
    "  %fwd = Relu(%late) {} : f32[2]  # node \"uses before def\", opset 17\n"
    "  %late = Relu(%b) {} : f32[2]  # node \"defines later\", opset 17\n"
    "  output %r : f32[N,2]\n"
    "  output %folded : i64[2]\n"
    "  output %e : i64[2]\n"
    "}\n";

static void test_everything_roundtrips(void **state) {
    (void)state;
    assert_roundtrip(k_everything);
}

/* The parsed IR holds what the text says (not only the same text). */
static void test_everything_values(void **state) {
    (void)state;
    IrModel *m = parse_ok(k_everything);
    assert_int_equal(m->ir_version, 9);
    assert_string_equal(m->model_domain, "org.example");
    assert_int_equal(m->nopsets, 3);
    assert_int_equal(ir_model_opset(m, "com.microsoft"), 1);
    assert_int_equal(m->nmeta, 1);
    assert_string_equal(m->meta_values[0], "line\nbreak \"quoted\" \x01\xff");
    assert_int_equal(m->workspace_bytes, 128);
    assert_int_equal(m->nfunctions, 1);
    assert_string_equal(m->functions[0]->name, "local::Scale");
    assert_string_equal(m->function_domains[0], "local");
    IrGraph *g = m->graph;
    assert_string_equal(g->name, "main graph");
    assert_int_equal(g->ninputs, 6);
    assert_int_equal(g->noutputs, 3);
    /* %w is both an input and an initializer (IR v3 style) */
    IrValue *w = ir_graph_find_value(g, "w");
    assert_true((w->flags & IR_VALUE_INPUT) && (w->flags & IR_VALUE_INITIALIZER));
    assert_non_null(w->init);
    float wv[4];
    memcpy(wv, w->init->data, sizeof wv);
    assert_true(wv[0] == 1.0f && wv[2] == 1e10f);
    assert_true(wv[1] == 0.0f && signbit(wv[1]));
    assert_true(wv[3] == 0.100000001f);
    IrValue *b = ir_graph_find_value(g, "b");
    assert_int_equal(b->offset, 64);
    uint32_t bits[2];
    memcpy(bits, b->init->data, sizeof bits);
    assert_int_equal(bits[0], 0x7fc00000u);
    assert_int_equal(bits[1], 0x7fc00001u);
    IrValue *x = ir_graph_find_value(g, "x");
    assert_int_equal(x->type.rank, 2);
    assert_string_equal(x->type.dims[0].sym, "N");
    assert_int_equal(x->type.dims[1].value, 3);
    IrValue *in2 = ir_graph_find_value(g, "in put");
    assert_non_null(in2);
    assert_string_equal(in2->type.dims[0].sym, "batch size");
    assert_true(in2->type.dims[1].value < 0 && !in2->type.dims[1].sym);
    IrValue *s = ir_graph_find_value(g, "s");
    assert_int_equal(s->type.kind, IR_TYPE_SEQUENCE);
    assert_int_equal(s->type.elem->kind, IR_TYPE_MAP);
    assert_int_equal(s->type.elem->dtype, IR_DT_INT64);
    assert_int_equal(s->type.elem->elem->kind, IR_TYPE_OPTIONAL);
    assert_int_equal(s->type.elem->elem->elem->rank, -1);
    IrValue *str = ir_graph_find_value(g, "str");
    const IrString *ss = str->init->data;
    assert_int_equal(ss[2].len, 8);
    assert_memory_equal(ss[2].data, "nul\0byte", 8);
    IrValue *i4 = ir_graph_find_value(g, "i4");
    assert_int_equal(((int8_t *)i4->init->data)[0], -8);
    IrValue *sym = ir_graph_find_value(g, "sym");
    assert_int_equal(sym->init->rank, 1);
    assert_int_equal(sym->init->dims[0], 2);
    IrValue *folded = ir_graph_find_value(g, "folded");
    assert_non_null(folded->init);
    assert_null(folded->producer);
    assert_int_equal(folded->flags, IR_VALUE_OUTPUT);
    /* nodes */
    IrNode *n = g->first;
    assert_string_equal(n->name, "/fc/MatMul");
    assert_int_equal(n->opset, 17);
    n = n->next;
    assert_string_equal(n->kernel, "rt_k_add");
    assert_int_equal(n->out[0]->offset, 0);
    n = n->next; /* clip */
    assert_int_equal(n->nin, 3);
    assert_null(n->in[1]);
    IrValue *max7 = ir_graph_find_value(g, "onnx::max_7");
    assert_ptr_equal(n->in[2], max7);
    n = n->next; /* the Constant */
    assert_ptr_equal(max7->producer, n);
    assert_ptr_equal(max7->init, n->attrs[0].t);
    int nodes = 0;
    IrNode *split = NULL, *iff = NULL, *q = NULL, *gelu = NULL, *pr = NULL, *fwd = NULL;
    for (IrNode *k = g->first; k; k = k->next, nodes++) {
        if (!strcmp(k->name, "split")) split = k;
        if (!strcmp(k->name, "if1")) iff = k;
        if (!strcmp(k->name, "q")) q = k;
        if (!strcmp(k->name, "gelu")) gelu = k;
        if (!strcmp(k->name, "print")) pr = k;
        if (!strcmp(k->name, "uses before def")) fwd = k;
    }
    assert_int_equal(nodes, g->nnodes);
    assert_string_equal(gelu->domain, "com.microsoft");
    assert_string_equal(gelu->op_type, "Gelu");
    assert_string_equal(q->domain, "my-dom");
    assert_string_equal(q->op_type, "My Op");
    assert_string_equal(q->attrs[0].name, "odd name");
    assert_int_equal(q->attrs[1].kind, IR_ATTR_UNDEFINED);
    assert_int_equal(pr->nout, 0);
    assert_int_equal(split->nout, 3);
    assert_null(split->out[1]);
    assert_int_equal(split->nattr, 10);
    assert_int_equal(split->attrs[0].i, -1);
    assert_int_equal(split->attrs[1].n, 2);
    assert_int_equal(split->attrs[1].ints[1], -2);
    assert_int_equal(split->attrs[2].n, 0);
    assert_int_equal(split->attrs[6].kind, IR_ATTR_SPARSE_TENSORS);
    assert_int_equal(split->attrs[7].kind, IR_ATTR_SPARSE_TENSOR);
    assert_string_equal(split->attrs[5].tensors[1]->name, "t");
    assert_int_equal(split->attrs[9].n, 2);
    assert_int_equal(split->attrs[9].tps[1]->elem->kind, IR_TYPE_UNKNOWN);
    /* subgraphs and outer references */
    IrGraph *then = iff->attrs[0].g;
    assert_ptr_equal(then->parent, g);
    IrValue *yy = ir_graph_find_value(then, "yy");
    assert_true(yy->flags & IR_VALUE_OUTER);
    assert_ptr_equal(yy->outer, ir_graph_find_value(g, "y"));
    IrGraph *body = then->last->attrs[0].g;
    assert_ptr_equal(body->parent, then);
    assert_ptr_equal(ir_graph_find_value(body, "yy")->outer, yy);
    assert_int_equal(iff->attrs[2].n, 2);
    assert_int_equal(iff->attrs[2].graphs[1]->ninputs, 1);
    /* a forward reference is resolved to the later definition */
    IrValue *late = ir_graph_find_value(g, "late");
    assert_ptr_equal(fwd->in[0], late);
    assert_non_null(late->producer);
    assert_int_equal(late->nuses, 1);
    assert_null(late->user);
    /* the function body keeps its attribute reference */
    IrNode *c = m->functions[0]->first;
    assert_string_equal(c->attrs[0].ref_attr_name, "alpha");
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ errors */

static void test_truncated_prefixes(void **state) {
    (void)state;
    size_t len = strlen(k_everything);
    /* the text ends with "}\n": any shorter prefix lacks the main graph's closing brace */
    for (size_t n = 0; n + 1 < len; n++) {
        IrDiag d;
        ir_diag_init(&d, "t.ir");
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees any read past the end */
        memcpy(copy, k_everything, n);
        IrModel *m = ir_parse_model(copy, n, "t.ir", &d);
        if (m || d.nerrors == 0)
            print_message("prefix of %zu bytes was accepted\n", n);
        assert_null(m);
        assert_true(d.nerrors > 0);
        free(copy);
        ir_diag_free(&d);
    }
    IrModel *m = parse_ok(k_everything);
    ir_model_destroy(m);
}

#define HEAD "onnxc-ir 1\nir_version 8\nproducer \"\" \"\"\ndomain \"\"\nmodel_version 0\nopset \"\" 13\n"

static void test_error_messages(void **state) {
    (void)state;
    g_bad_errors = 0;
    const char *t;
    /* bad types, with line:column */
    t = HEAD "graph \"g\" {\n  input %x : f33[2]\n}\n";
    parse_fails(t, strlen(t), "8:14:", "unknown element type 'f33'", NULL);
    t = HEAD "graph \"g\" {\n  input %x : f32[2,\n}\n";
    parse_fails(t, strlen(t), "9:1:", NULL);
    t = HEAD "graph \"g\" {\n  input %x : seq(f32[2]\n}\n";
    parse_fails(t, strlen(t), "expected ')'", NULL);
    t = HEAD "graph \"g\" {\n  input %x : f32[-1]\n}\n";
    parse_fails(t, strlen(t), "out of range", NULL);
    /* unknown value names */
    t = HEAD "graph \"g\" {\n  input %x : f32[2]\n  %y = Neg(%nope) {} : f32[2]  # node \"n\", opset 13\n"
             "  output %y : f32[2]\n}\n";
    parse_fails(t, strlen(t), "9:12:", "'nope' is used but never defined", NULL);
    t = HEAD "graph \"g\" {\n  input %x : f32[2]\n  output %y : f32[2]\n}\n";
    parse_fails(t, strlen(t), "9:10:", "output 'y' is not a value", NULL);
    t = HEAD "graph \"g\" {\n  input %x : f32[2]\n  output %x : f32[3]\n}\n";
    parse_fails(t, strlen(t), "differs", NULL);
    t = HEAD "graph \"g\" {\n  input %c : bool[]\n  %r = If(%c) {then_branch: graph = graph \"t\" {\n"
             "      outer %q : f32[2]\n      output %q : f32[2]\n    }} : f32[2]  # node \"if\", opset 13\n"
             "  output %r : f32[2]\n}\n";
    parse_fails(t, strlen(t), "10:13:", "outer value 'q' is not a value of the enclosing graph", NULL);
    t = HEAD "graph \"g\" {\n  outer %q : f32[2]\n}\n";
    parse_fails(t, strlen(t), "no enclosing graph", NULL);
    /* duplicates */
    t = HEAD "graph \"g\" {\n  input %x : f32[2]\n  %x = Neg(%x) {} : f32[2]  # node \"n\", opset 13\n}\n";
    parse_fails(t, strlen(t), "'x' is defined more than once", NULL);
    /* order of lines */
    t = HEAD "graph \"g\" {\n  input %x : f32[2]\n  output %x : f32[2]\n  init %w : f32[1] = [1.0]\n}\n";
    parse_fails(t, strlen(t), "10:3:", "'init' line after 'output' lines", NULL);
    /* constants */
    t = HEAD "graph \"g\" {\n  init %w : f32[16] = [1.0, 2.0, 3.0, 4.0, ... fnv1a64=0123456789abcdef]\n}\n";
    parse_fails(t, strlen(t), "summarised constant", "--full", NULL);
    t = HEAD "graph \"g\" {\n  init %w : i8[2] = [1, 200]\n}\n";
    parse_fails(t, strlen(t), "200 is out of range for i8", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[3] = [1.0, 2.0]\n}\n";
    parse_fails(t, strlen(t), "2 elements, expected 3", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[1] = [1.0, 2.0]\n}\n";
    parse_fails(t, strlen(t), "more than the 1 elements", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[N] = [1.0]\n}\n";
    parse_fails(t, strlen(t), "not a static tensor type", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[100000,100000,100000] = [1.0]\n}\n";
    parse_fails(t, strlen(t), "text is shorter", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[1] = [1e999]\n}\n";
    parse_fails(t, strlen(t), "out of range for f32", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[1] = [0x3c00]\n}\n";
    parse_fails(t, strlen(t), "expected a number", NULL);
    t = HEAD "graph \"g\" {\n  init %w : f32[1] = <no data>\n}\n";
    parse_fails(t, strlen(t), "no data", NULL);
    t = HEAD "graph \"g\" {\n  init %w : str[1] = [\"abc]\n}\n";
    parse_fails(t, strlen(t), "unterminated string", NULL);
    t = HEAD "graph \"g\" {\n  init %w : str[1] = [\"\\q\"]\n}\n";
    parse_fails(t, strlen(t), "unknown escape", NULL);
    t = HEAD "graph \"g\" {\n  input %\"a\\x00b\" : f32[1]\n}\n";
    parse_fails(t, strlen(t), "NUL byte", NULL);
    /* nodes */
    t = HEAD "graph \"g\" {\n  %y = Neg() {} : f32[2]\n}\n";
    parse_fails(t, strlen(t), "expected '#'", NULL);
    t = HEAD "graph \"g\" {\n  %y = Neg() {a: int32 = 1} : f32[2]  # node \"n\", opset 13\n}\n";
    parse_fails(t, strlen(t), "unknown attribute kind 'int32'", NULL);
    t = HEAD "graph \"g\" {\n  %y = Neg() {} : f32[2] = @value  # node \"n\", opset 13\n}\n";
    parse_fails(t, strlen(t), "'@value' does not name a tensor attribute", NULL);
    t = HEAD "graph \"g\" {\n  %y, _ = Neg() {} : f32[2], f32[2]  # node \"n\", opset 13\n}\n";
    parse_fails(t, strlen(t), "output 1 is omitted", NULL);
    /* header and trailing text */
    t = "onnxc-ir 2\n";
    parse_fails(t, strlen(t), "1:10:", "format version 2", NULL);
    t = "graph \"g\" {\n}\n";
    parse_fails(t, strlen(t), "1:1:", "not onnxc IR text", NULL);
    t = HEAD "graph \"g\" {\n}\ngraph \"h\" {\n}\n";
    parse_fails(t, strlen(t), "9:1:", "after the main graph", NULL);
    parse_fails(NULL, 0, "no text", NULL);
    /* a text with a NUL byte in the middle of a keyword is just bad text */
    const char nul[] = "onnxc-ir 1\nir_\0version 8\n";
    parse_fails(nul, sizeof nul - 1, "2:1:", NULL);
    assert_int_equal(g_bad_errors, 0);
}

/* Writes a model whose main graph nests `levels` If subgraphs into a malloc'ed string. */
static char *nested_if_text(int levels) {
    size_t cap = 256 + (size_t)levels * 200;
    char *s = malloc(cap);
    size_t n = (size_t)snprintf(s, cap, HEAD "graph \"g\" {\n  input %%c : bool[]\n");
    for (int i = 0; i < levels; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s%%r%d = If(%%c) {then_branch: graph = graph \"b%d\" {\n",
                              i ? "outer %c : bool[]\n" : "", i, i);
    for (int i = levels - 1; i >= 0; i--)
        n += (size_t)snprintf(s + n, cap - n, "}} : ?  # node \"if%d\", opset 13\n", i);
    n += (size_t)snprintf(s + n, cap - n, "}\n");
    assert_true(n < cap);
    return s;
}

static void test_deep_nesting(void **state) {
    (void)state;
    g_bad_errors = 0;
    /* 63 levels of subgraphs is what the printer prints: accepted and printed back */
    char *ok = nested_if_text(IR_MAX_SUBGRAPH_DEPTH - 1);
    IrModel *m = parse_ok(ok);
    char *out = model_text(m, 1, NULL);
    IrModel *m2 = parse_ok(out);
    char *out2 = model_text(m2, 1, NULL);
    assert_string_equal(out, out2);
    free(out);
    free(out2);
    ir_model_destroy(m);
    ir_model_destroy(m2);
    free(ok);
    /* one more level, and far more: refused without deep recursion */
    char *bad = nested_if_text(IR_MAX_SUBGRAPH_DEPTH);
    parse_fails(bad, strlen(bad), "subgraphs nested deeper than 63 levels", NULL);
    free(bad);
    bad = nested_if_text(100000);
    parse_fails(bad, strlen(bad), "subgraphs nested deeper", NULL);
    free(bad);
    /* deeply nested types */
    size_t levels = 100000, cap = levels * 5 + 200;
    char *t = malloc(cap);
    size_t n = (size_t)snprintf(t, cap, HEAD "graph \"g\" {\n  input %%x : ");
    for (size_t i = 0; i < levels; i++)
        n += (size_t)snprintf(t + n, cap - n, "seq(");
    t[n] = 0;
    parse_fails(t, n, "types nested deeper than 32", NULL);
    free(t);
    assert_int_equal(g_bad_errors, 0);
}

/* Random corruption of a valid text: any outcome but a crash; accepted texts print and parse
 * back to the same text. */
static void test_random_corruption(void **state) {
    (void)state;
    size_t len = strlen(k_everything);
    char *buf = malloc(len);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    int accepted = 0;
    for (int iter = 0; iter < 3000; iter++) {
        memcpy(buf, k_everything, len);
        int flips = 1 + iter % 4;
        for (int k = 0; k < flips; k++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(seed >> 33) % len;
            static const char pool[] = "%_\"\\[](){},:=@#.-0123456789ax \n\x01\xff";
            buf[at] = pool[(seed >> 17) % (sizeof pool - 1)];
        }
        IrDiag d;
        ir_diag_init(&d, "t.ir");
        IrModel *m = ir_parse_model(buf, len, "t.ir", &d);
        if (m) {
            accepted++;
            char *out = model_text(m, 1, NULL);
            IrModel *m2 = ir_parse_model(out, strlen(out), "again.ir", &d);
            assert_non_null(m2);
            char *out2 = model_text(m2, 1, NULL);
            assert_string_equal(out, out2);
            free(out);
            free(out2);
            ir_model_destroy(m2);
        } else {
            assert_true(d.nerrors > 0);
        }
        ir_model_destroy(m);
        ir_diag_free(&d);
    }
    print_message("random corruption: %d of 3000 corrupted texts were still valid\n", accepted);
    free(buf);
}

/* ------------------------------------------------------------------ backend test data */

static const char *backend_root(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

/* Set by the test: run onnxc_prepare before printing, on every PREPARE_EVERY-th model (the
 * pipeline takes most of the time: about 40 ms per model). */
static int g_prepare;
#define PREPARE_EVERY 5

typedef struct RtStats {
    int models;      /* .onnx files found */
    int load_fail;   /* not loadable by the frontend (not the parser's business) */
    int skipped_big; /* full text above ROUNDTRIP_MAX_BYTES */
    int ok;          /* byte-identical round trip */
    int fail;        /* parse error or different text */
    int prep_fail;   /* refused by onnxc_prepare (unsupported operators ...) */
    int sampled;     /* models actually tried */
    size_t bytes;    /* total text parsed */
} RtStats;

static void roundtrip_file(const char *path, RtStats *st) {
    st->models++;
    if (g_prepare && st->models % PREPARE_EVERY != 0)
        return;
    st->sampled++;
    IrDiag d;
    ir_diag_init(&d, path);
    IrModel *m = fe_load_model(path, NULL, &d);
    if (!m) {
        st->load_fail++;
        ir_diag_free(&d);
        return;
    }
    if (g_prepare) {
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        IrDiag pd;
        ir_diag_init(&pd, path);
        int r = onnxc_prepare(m, &o, &pd);
        ir_diag_free(&pd);
        if (r != 0) {
            st->prep_fail++;
            ir_model_destroy(m);
            ir_diag_free(&d);
            return;
        }
    }
    size_t len;
    char *text = model_text(m, 1, &len);
    ir_model_destroy(m);
    if (len > ROUNDTRIP_MAX_BYTES) {
        st->skipped_big++;
        free(text);
        ir_diag_free(&d);
        return;
    }
    st->bytes += len;
    IrModel *m2 = ir_parse_model(text, len, path, &d);
    if (!m2) {
        st->fail++;
        if (st->fail <= 5) {
            print_message("PARSE FAILED: %s\n", path);
            print_diag(&d);
        }
    } else {
        size_t len2;
        char *text2 = model_text(m2, 1, &len2);
        if (len2 != len || memcmp(text, text2, len) != 0) {
            st->fail++;
            if (st->fail <= 5) {
                size_t i = 0;
                while (i < len && i < len2 && text[i] == text2[i])
                    i++;
                size_t from = i > 80 ? i - 80 : 0;
                print_message("DIFFERENT TEXT: %s at byte %zu\n  printed: %.160s\n  again:   %.160s\n",
                              path, i, text + from, text2 + from);
            }
        } else {
            st->ok++;
        }
        free(text2);
        ir_model_destroy(m2);
    }
    free(text);
    ir_diag_free(&d);
}

/* Every *.onnx file under dir (sorted, recursive, bounded depth). */
static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void walk(const char *dir, int depth, RtStats *st) {
    if (depth > 6)
        return;
    DIR *dd = opendir(dir);
    if (!dd)
        return;
    int n = 0, cap = 64;
    char **names = malloc((size_t)cap * sizeof *names);
    struct dirent *e;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap *= 2;
            names = realloc(names, (size_t)cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(dd);
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++) {
        char p[2048];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        struct stat sb;
        if (stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            walk(p, depth + 1, st);
        } else {
            size_t l = strlen(names[i]);
            if (l > 5 && strcmp(names[i] + l - 5, ".onnx") == 0)
                roundtrip_file(p, st);
        }
        free(names[i]);
    }
    free(names);
}

static void test_backend_roundtrip(void **state) {
    (void)state;
    const char *root = backend_root();
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        print_message("SKIP: ONNX backend test data not found at %s (set ONNXC_BACKEND_TESTS)\n",
                      root);
        skip();
    }
    RtStats st = {0};
    clock_t t0 = clock();
    walk(root, 0, &st);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    print_message("IR text round trip: %d models, %d identical, %d failed, %d not loadable by the "
                  "frontend, %d skipped (full text above %zu MB); %.1f MB of text, %.1f s CPU\n",
                  st.models, st.ok, st.fail, st.load_fail, st.skipped_big,
                  ROUNDTRIP_MAX_BYTES >> 20, (double)st.bytes / 1e6, secs);
    assert_true(st.models > 0);
    assert_int_equal(st.fail, 0);
    assert_true(st.ok > 0);
}

/* The IR after the compile pipeline has everything the format can show: inferred symbolic
 * types, constants on node outputs (= @value, = [...]), kernels, @ws+ offsets, workspace_bytes. */
static void test_backend_prepared_roundtrip(void **state) {
    (void)state;
    const char *root = backend_root();
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        print_message("SKIP: ONNX backend test data not found at %s (set ONNXC_BACKEND_TESTS)\n",
                      root);
        skip();
    }
    RtStats st = {0};
    g_prepare = 1;
    clock_t t0 = clock();
    walk(root, 0, &st);
    g_prepare = 0;
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    print_message("IR text round trip after onnxc_prepare: %d of %d models sampled, %d identical, "
                  "%d failed, %d refused by the pipeline, %d skipped (full text above %zu MB); "
                  "%.1f MB of text, %.1f s CPU\n", st.sampled, st.models, st.ok, st.fail,
                  st.prep_fail, st.skipped_big,
                  ROUNDTRIP_MAX_BYTES >> 20, (double)st.bytes / 1e6, secs);
    assert_int_equal(st.fail, 0);
    assert_true(st.ok > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_everything_roundtrips),
        cmocka_unit_test(test_everything_values),
        cmocka_unit_test(test_truncated_prefixes),
        cmocka_unit_test(test_error_messages),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_random_corruption),
        cmocka_unit_test(test_backend_roundtrip),
        cmocka_unit_test(test_backend_prepared_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
