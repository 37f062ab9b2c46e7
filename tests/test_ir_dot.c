/* test_ir_dot.c - the Graphviz output (ir/ir_dot.c).
 *
 * A hand-written IR text (parsed with ir_parse_model) with a fused node, a large and a small
 * initializer, an IR-v3 style initializer listed as an input, a subgraph with an outer
 * reference and names that need escaping: the dot text has the expected pieces. When Graphviz's
 * `dot` is installed, that text and the dot of a sample of the ONNX backend test models (env
 * ONNXC_BACKEND_TESTS or ../shared/onnx-backend-tests) must be accepted by `dot -Tsvg`
 * (skipped with a message otherwise).
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

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dot_pieces),
        cmocka_unit_test(test_dot_backend_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
