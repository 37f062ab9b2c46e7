/* test_ir_dot.c - the Graphviz output (ir/ir_dot.c).
 *
 * A hand-written IR text (parsed with ir_parse_model) with a fused node, a large and a small
 * initializer, an IR-v3 style initializer listed as an input, a subgraph with an outer
 * reference and names that need escaping: the dot text has the expected pieces. When Graphviz's
 * `dot` is installed, that text and the dot of a sample of the ONNX backend test models (env
 * ONNXC_BACKEND_TESTS or ../shared/onnx-backend-tests) must be accepted by `dot -Tsvg`
 * (skipped with a message otherwise).
 *
 * Golden: the inputs tests/golden/O3/conv_bn_relu_pool.ir and tests/golden/fuse_elementwise/
 * chain.ir go through the -O3 pass pipeline; their dot text (fused nodes as clusters listing the
 * nodes they replaced) must equal tests/golden/dot/<case>.dot byte for byte
 * (ONNXC_GOLDEN_UPDATE=1 rewrites the files; review the diff).
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
#include <unistd.h>

#include <cmocka.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"

static const char *k_text =
    "onnxc-ir 1\nir_version 8\nproducer \"p\\\"q\" \"1\"\ndomain \"\"\nmodel_version 0\n"
    "opset \"\" 13\n"
    "graph \"main\" {\n"
    "  input %x : f32[N,16]\n"
    "  input %w : f32[16,16]\n"
    "  input %c : bool[]\n"
    "  init %w : f32[16,16] = [" /* 256 elements replace the marker */
    "@ZEROS@"
    "]\n"
    "  init %b : f32[2] = [0.5, -1.0]\n"
    "  %mm = MatMul(%x, %w) {} : f32[N,16]  # node \"fc/MatMul\", opset 13\n"
    "  %y = FusedAddRelu(%mm, %b) {} : f32[N,16]  # node \"add1+relu1\", opset 13\n"
    "  %r = If(%c) {then_branch: graph = graph \"then\" {\n"
    "      outer %y : f32[N,16]\n"
    "      %t = Neg(%y) {} : f32[N,16]  # node \"neg \\\"quoted\\\" \\\\ back\", opset 13\n"
    "      output %t : f32[N,16]\n"
    "    }, else_branch: graph = graph \"else\" {\n"
    "      outer %y : f32[N,16]\n"
    "      output %y : f32[N,16]\n"
    "    }} : f32[N,16]  # node \"if1\", opset 13\n"
    "  output %r : f32[N,16]\n"
    "}\n";

static IrModel *parse_sample(void) {
    size_t cap = strlen(k_text) + 256 * 6 + 1;
    char *zeros = malloc(256 * 6 + 1), *text = malloc(cap);
    size_t n = 0;
    for (int i = 0; i < 256; i++)
        n += (size_t)sprintf(zeros + n, i ? ", %d.0" : "%d.0", i % 3);
    const char *mark = strstr(k_text, "@ZEROS@");
    snprintf(text, cap, "%.*s%s%s", (int)(mark - k_text), k_text, zeros, mark + 7);
    IrDiag d;
    ir_diag_init(&d, "t.ir");
    IrModel *m = ir_parse_model(text, strlen(text), "t.ir", &d);
    for (int i = 0; i < d.nentries; i++)
        print_message("  diag: %s\n", d.entries[i].msg);
    assert_non_null(m);
    ir_diag_free(&d);
    free(zeros);
    free(text);
    return m;
}

static char *dot_text(const IrModel *m, int full) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = ir_print_dot(m, f, full);
    fclose(f);
    assert_int_equal(rc, 0);
    return buf;
}

static int have_dot(void) { return system("dot -V >/dev/null 2>&1") == 0; }

/* Runs `dot -Tsvg` on text; returns its exit status. */
static int run_dot(const char *text) {
    char path[] = "/tmp/onnxc_test_dot_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs(text, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "dot -Tsvg %s -o /dev/null 2>&1", path);
    int rc = system(cmd);
    unlink(path);
    return rc;
}

static void test_dot_pieces(void **state) {
    (void)state;
    IrModel *m = parse_sample();
    char *t = dot_text(m, 0);
    /* header, with the producer's quote escaped */
    assert_non_null(strstr(t, "digraph \"main\" {"));
    assert_non_null(strstr(t, "label=\"main (p\\\"q)\""));
    /* inputs: x and c as ellipses; w (an initializer listed as an input) is not drawn as one */
    assert_non_null(strstr(t, "g0_v0 [label=\"x\\nf32[N,16]\", shape=ellipse"));
    assert_null(strstr(t, "[label=\"w\\nf32[16,16]\", shape=ellipse"));
    /* the large initializer is folded into the MatMul label, the small one is a box with values */
    assert_non_null(strstr(t, "[label=\"MatMul\\nfc/MatMul\\nw: f32[16,16]\""));
    assert_non_null(strstr(t, "[label=\"b\\nf32[2]\\n[0.5, -1]\", shape=box"));
    /* the fused node is marked */
    assert_non_null(strstr(t, "[label=\"fused: FusedAddRelu\\nadd1+relu1\""));
    assert_non_null(strstr(t, "peripheries=2"));
    /* typed edges */
    assert_non_null(strstr(t, "g0_n0 -> g0_n1 [label=\"f32[N,16]\"]"));
    /* subgraphs as clusters, joined to their node; outer value as a dotted edge */
    assert_non_null(strstr(t, "subgraph cluster_g1 {"));
    assert_non_null(strstr(t, "label=\"If 'if1' then_branch\""));
    assert_non_null(strstr(t, "subgraph cluster_g2 {"));
    assert_non_null(strstr(t, "g0_n2 -> g1_anchor [lhead=cluster_g1"));
    assert_non_null(strstr(t, "g0_n1 -> g1_n0 [label=\"f32[N,16]\", style=dotted]"));
    assert_non_null(strstr(t, "neg \\\"quoted\\\" \\\\ back"));
    /* the else branch returns the outer value itself */
    assert_non_null(strstr(t, "g0_n1 -> g2_out0"));
    /* outputs */
    assert_non_null(strstr(t, "g0_out0 [label=\"r\\nf32[N,16]\", shape=ellipse"));
    /* full: the large initializer gets its own box too */
    char *tf = dot_text(m, 1);
    assert_non_null(strstr(tf, "[label=\"w\\nf32[16,16]\", shape=box"));
    assert_non_null(strstr(tf, "-> g0_n0 [label=\"f32[16,16]\"]"));
    if (have_dot()) {
        assert_int_equal(run_dot(t), 0);
        assert_int_equal(run_dot(tf), 0);
    } else {
        print_message("NOTE: Graphviz 'dot' not installed: the output is not rendered\n");
    }
    free(t);
    free(tf);
    ir_model_destroy(m);
}

/* dot -Tsvg accepts the output for a sample of the backend models (every 100th, and one whole
 * network from light/: rendering is slow). */
static void test_dot_backend_sample(void **state) {
    (void)state;
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    const char *root = e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
    struct stat sb;
    if (stat(root, &sb) != 0) {
        print_message("SKIP: ONNX backend test data not found at %s\n", root);
        skip();
    }
    if (!have_dot()) {
        print_message("SKIP: Graphviz 'dot' not installed\n");
        skip();
    }
    const char *groups[] = {"node", "pytorch-converted", "pytorch-operator", "simple", "light"};
    int k = 0, rendered = 0;
    for (size_t gi = 0; gi < sizeof groups / sizeof *groups; gi++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, groups[gi]);
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            char p[2048];
            int light = gi == 4;
            const char *nm = names[i]->d_name;
            if (light)
                snprintf(p, sizeof p, "%s/%s", dir, nm);
            else
                snprintf(p, sizeof p, "%s/%s/model.onnx", dir, nm);
            int pick = light ? !strcmp(nm, "light_squeezenet.onnx") : (nm[0] != '.' && k++ % 100 == 0);
            if (pick && stat(p, &sb) == 0) {
                IrDiag d;
                ir_diag_init(&d, p);
                IrModel *m = fe_load_model(p, NULL, &d);
                assert_non_null(m);
                char *t = dot_text(m, 0);
                int rc = run_dot(t);
                if (rc)
                    print_message("dot rejected the graph of %s\n", p);
                assert_int_equal(rc, 0);
                rendered++;
                free(t);
                ir_model_destroy(m);
                ir_diag_free(&d);
            }
            free(names[i]);
        }
        if (n > 0)
            free(names);
    }
    print_message("dot rendered %d backend models\n", rendered);
    assert_true(rendered > 0);
}

static char *slurp_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *s = NULL;
    size_t cap = 0, len = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = (len + 4096 + 1) * 2;
            char *t = realloc(s, cap);
            assert_non_null(t);
            s = t;
        }
        size_t k = fread(s + len, 1, 4096, f);
        len += k;
        if (k == 0)
            break;
    }
    fclose(f);
    s[len] = 0;
    return s;
}

/* The dot of a golden IR input after the -O3 pipeline equals tests/golden/dot/<name>.dot. */
static void check_dot_golden(const char *in_rel, const char *name, int expect_clusters) {
    char in[1024], exp[1024];
    snprintf(in, sizeof in, "%s/tests/golden/%s", ONNXC_SOURCE_DIR, in_rel);
    snprintf(exp, sizeof exp, "%s/tests/golden/dot/%s.dot", ONNXC_SOURCE_DIR, name);
    char *text = slurp_file(in);
    assert_non_null(text);
    IrDiag d;
    ir_diag_init(&d, in);
    IrModel *m = ir_parse_model(text, strlen(text), in, &d);
    free(text);
    assert_non_null(m);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.verify_each = 1;
    assert_int_equal(pass_infer(m->graph, &d), 0);
    PassCtx cx;
    pm_ctx_init(&cx, &o, &d);
    int rc = pm_run_pipeline(m, &cx, pm_pipeline_for_level(3));
    pm_ctx_free(&cx);
    for (int i = 0; i < d.nentries; i++)
        print_message("  diag: %s\n", d.entries[i].msg);
    assert_true(rc >= 0);
    char *got = dot_text(m, 0);
    /* each fused node is a cluster holding the node and the list of what it replaced */
    int nclusters = 0;
    for (const char *c = got; (c = strstr(c, "subgraph cluster_g0_f")); c++)
        nclusters++;
    assert_int_equal(nclusters, expect_clusters);
    const char *upd = getenv("ONNXC_GOLDEN_UPDATE");
    if (upd && *upd && strcmp(upd, "0") != 0) {
        FILE *f = fopen(exp, "w");
        assert_non_null(f);
        fputs(got, f);
        fclose(f);
        print_message("golden: rewrote %s\n", exp);
    } else {
        char *want = slurp_file(exp);
        if (!want)
            print_message("%s missing: run with ONNXC_GOLDEN_UPDATE=1\n", exp);
        assert_non_null(want);
        if (strcmp(want, got) != 0)
            print_message("--- expected %s:\n%s--- got:\n%s---\n", exp, want, got);
        assert_string_equal(want, got);
        free(want);
    }
    if (have_dot())
        assert_int_equal(run_dot(got), 0);
    free(got);
    ir_model_destroy(m);
    ir_diag_free(&d);
}

static void test_dot_golden_fused(void **state) {
    (void)state;
    /* FusedConv (conv1+bn1+relu1) and Gemm (fc/MatMul+fc/Add, standard op, fused name) */
    check_dot_golden("O3/conv_bn_relu_pool.ir", "conv_bn_relu_pool", 2);
    /* FusedElementwise of 5 nodes, each listed with its op type */
    check_dot_golden("fuse_elementwise/chain.ir", "chain", 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot_pieces),
        cmocka_unit_test(test_dot_backend_sample),
        cmocka_unit_test(test_dot_golden_fused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
