/* test_fe_write.c - writing the IR back as ONNX (frontend/fe_write.c).
 *
 *  - Hand-written IR text (parsed with ir_parse_model) with every attribute kind, sub-byte
 *    types, strings, sparse tensors, subgraphs with outer references, functions and metadata:
 *    write -> load gives the same printed IR; the packed 4-bit/2-bit bytes are checked in the
 *    serialized TensorProto itself.
 *  - Folded constants become initializers; inferred types become value_info.
 *  - Errors: unwritable folder, missing tensor data; no temporary file is left behind.
 *  - Every model of the ONNX backend test data (env ONNXC_BACKEND_TESTS or
 *    ../shared/onnx-backend-tests; skipped when absent): load -> write -> load gives the same
 *    printed IR (full); a sample of written files goes through onnx.checker.check_model when
 *    /usr/bin/python3 has the onnx package (skipped with a message otherwise), and must pass
 *    whenever the original file passes.
 *  - A sample of backend models after inference and the -O2 optimisation pipeline (folded
 *    constants, fused nodes): written, loaded back and re-inferred they print the same IR, and
 *    they pass the ONNX checker whenever the original does (what `onnxc optimize` writes).
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
#include "onnxpb/onnx.pb-c.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"

/* Every CHECK_EVERY-th backend model (and every light/ network) goes through the ONNX checker. */
#define CHECK_EVERY 10

static char g_tmpdir[256];

static int setup_tmpdir(void **state) {
    (void)state;
    snprintf(g_tmpdir, sizeof g_tmpdir, "/tmp/onnxc_fe_write_XXXXXX");
    return mkdtemp(g_tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state) {
    (void)state;
    DIR *dd = opendir(g_tmpdir);
    if (dd) {
        struct dirent *e;
        char p[600];
        while ((e = readdir(dd)))
            if (e->d_name[0] != '.') {
                snprintf(p, sizeof p, "%s/%s", g_tmpdir, e->d_name);
                unlink(p);
            }
        closedir(dd);
    }
    rmdir(g_tmpdir);
    return 0;
}

static char *model_text(const IrModel *m) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    int rc = ir_print_model(m, f, 1);
    fclose(f);
    assert_int_equal(rc, 0);
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

static IrModel *parse_text(const char *text) {
    IrDiag d;
    ir_diag_init(&d, "t.ir");
    IrModel *m = ir_parse_model(text, strlen(text), "t.ir", &d);
    if (!m)
        print_diag(&d);
    assert_non_null(m);
    ir_diag_free(&d);
    return m;
}

static IrModel *load(const char *path) {
    IrDiag d;
    ir_diag_init(&d, path);
    IrModel *m = fe_load_model(path, NULL, &d);
    if (!m)
        print_diag(&d);
    assert_non_null(m);
    ir_diag_free(&d);
    return m;
}

static void write_ok(const IrModel *m, const char *path) {
    IrDiag d;
    ir_diag_init(&d, path);
    int rc = fe_write_model(m, path, &d);
    if (rc)
        print_diag(&d);
    assert_int_equal(rc, 0);
    ir_diag_free(&d);
}

/* Number of entries in the temporary folder. */
static int tmpdir_entries(void) {
    DIR *dd = opendir(g_tmpdir);
    assert_non_null(dd);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dd)))
        n += e->d_name[0] != '.';
    closedir(dd);
    return n;
}

/* ------------------------------------------------------------------ hand-written models */

#define HEAD "onnxc-ir 1\nir_version 9\nproducer \"tests\" \"2\"\ndomain \"org.example\"\nmodel_version 7\n"

/* Text that an ONNX file can express exactly (so that write -> load -> print gives it back). */
static const char *k_model =
    HEAD
    "opset \"\" 17\n"
    "opset \"local\" 1\n"
    "opset \"com.microsoft\" 1\n"
    "meta \"author\" \"me\\x01you\"\n"
    "meta \"k\" \"\"\n"
    "function \"local::Scale\" domain \"local\" {\n"
    "  doc \"scales\"\n"
    "  input %x : ?\n"
    "  %a = Constant() {value_float: float = @alpha} : ?  # node \"c\", opset 17\n"
    "  %y = Mul(%x, %a) {} : ?  # node \"m\", opset 17\n"
    "  output %y : ?\n"
    "}\n"
    "graph \"main\" {\n"
    "  doc \"main doc\"\n"
    "  input %x : f32[N,3]\n"
    "  input %c : bool[]\n"
    "  input %\"odd name\" : f32[\"batch size\",?]\n"
    "  input %ru : f32[*]\n"
    "  input %s : seq(map(i64,opt(f16[*])))\n"
    "  input %sp : sparse(f32[10,10])\n"
    "  input %u : undef[2]\n"
    "  init %i4 : i4[3] = [-8, 7, 1]\n"
    "  init %u4 : u4[4] = [0, 15, 3, 9]\n"
    "  init %f4 : f4e2m1[1] = [0x0f]\n"
    "  init %i2 : i2[5] = [-2, -1, 0, 1, -2]\n"
    "  init %u2 : u2[3] = [3, 2, 1]\n"
    "  init %h : f16[2] = [0x3c00, 0xfc00]\n"
    "  init %bf : bf16[1] = [0x3f80]\n"
    "  init %f8 : f8e5m2[2] = [0x38, 0x7f]\n"
    "  init %d : f64[2] = [inf, nan:0x7ff0000000000001]\n"
    "  init %z : c64[1] = [(1.5,-2.0)]\n"
    "  init %str : str[3] = [\"a\", \"\", \"nul\\x00byte\"]\n"
    "  init %bo : bool[2] = [0, 1]\n"
    "  init %u64 : u64[1] = [18446744073709551615]\n"
    "  init %empty : f32[0,3] = []\n"
    "  init %scalar : i64[] = [-1]\n"
    "  %mm = MatMul(%x, %x) {} : f32[N,N]  # node \"/fc/MatMul\", opset 17\n"
    "  %o1, _, %o3 = Split(%mm, _) {axis: int = -1, ints: ints = [1, -2], no: ints = [], "
    "fl: floats = [0.5, 1.0], ss: strings = [\"a\", \"b\\tc\"], s1: string = \"\\x01\", "
    "f1: float = -0.0, t: tensor = \"named\" i64[2] [1, 2], ts: tensors = [f32[1] [1.0], i4[3] [1, 2, 3]], "
    "sts: sparse_tensors = [f32[3] [0.0, 2.0, 0.0]], sp: sparse_tensor = \"sv\" str[2,2] [\"\", \"x\", \"\", \"\"], "
    "ty: type = seq(f32[*]), tys: types = [i64[], opt(?)], ety: types = []} : f32[N,1], _, f32[N,?]  "
    "# node \"split\", opset 17\n"
    "  %g = com.microsoft.Gelu(%o1) {} : f32[N,1]  # node \"\", opset 1\n"
    "  %l = local.Scale(%g) {alpha: float = 2.5} : ?  # node \"scale\", opset 1\n"
    "  %r = If(%c) {then_branch: graph = graph \"then\" {\n"
    "      outer %o3 : f32[N,?]\n"
    "      outer %l : ?\n"
    "      %t = Neg(%o3) {} : f32[N,?]  # node \"neg\", opset 17\n"
    "      %w = Loop(_, _) {body: graph = graph \"body\" {\n"
    "          outer %l : ?\n"
    "          output %l : ?\n"
    "        }} : f32[N,?]  # node \"loop\", opset 17\n"
    "      output %t : f32[N,?]\n"
    "    }, else_branch: graph = graph \"else\" {\n"
    "      outer %o3 : f32[N,?]\n"
    "      output %o3 : f32[N,?]\n"
    "    }} : f32[N,?]  # node \"if1\", opset 17\n"
    "  () = Print(%r) {}  # node \"print\", opset 17\n"
    "  output %r : f32[N,?]\n"
    "  output %i4 : i4[3]\n"
    "}\n";

static void test_write_everything(void **state) {
    (void)state;
    IrModel *m = parse_text(k_model);
    char *want = model_text(m);
    assert_string_equal(want, k_model); /* the text is what the printer prints */
    char path[400];
    snprintf(path, sizeof path, "%s/everything.onnx", g_tmpdir);
    write_ok(m, path);
    assert_int_equal(tmpdir_entries(), 1); /* no temporary file left */
    struct stat sb;
    assert_int_equal(stat(path, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    IrModel *m2 = load(path);
    char *got = model_text(m2);
    if (strcmp(got, want) != 0)
        print_message("--- written from:\n%s--- loaded back:\n%s---\n", want, got);
    assert_string_equal(got, want);
    free(got);
    free(want);
    ir_model_destroy(m2);
    ir_model_destroy(m);

    /* the serialized form itself: sub-byte types packed low bits first, strings, sparse */
    void *buf;
    size_t len;
    IrDiag d;
    ir_diag_init(&d, path);
    assert_int_equal(fe_read_file(path, 0, &buf, &len, &d), 0);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    assert_non_null(mp);
    assert_int_equal(mp->ir_version, 9);
    assert_int_equal(mp->n_functions, 1);
    assert_string_equal(mp->functions[0]->name, "Scale");
    assert_string_equal(mp->functions[0]->domain, "local");
    assert_int_equal(mp->functions[0]->n_attribute, 1);
    assert_string_equal(mp->functions[0]->attribute[0], "alpha");
    assert_int_equal(mp->functions[0]->n_opset_import, 1);
    assert_int_equal(mp->functions[0]->opset_import[0]->version, 17);
    assert_int_equal(mp->n_metadata_props, 2);
    const Onnx__GraphProto *gp = mp->graph;
    const Onnx__TensorProto *t = gp->initializer[0]; /* i4 [-8, 7, 1] */
    assert_string_equal(t->name, "i4");
    assert_int_equal(t->data_type, IR_DT_INT4);
    assert_true(t->has_raw_data);
    assert_int_equal(t->raw_data.len, 2);
    assert_int_equal(t->raw_data.data[0], 0x78);
    assert_int_equal(t->raw_data.data[1], 0x01);
    t = gp->initializer[1]; /* u4 [0, 15, 3, 9] */
    assert_int_equal(t->raw_data.len, 2);
    assert_int_equal(t->raw_data.data[0], 0xf0);
    assert_int_equal(t->raw_data.data[1], 0x93);
    t = gp->initializer[3]; /* i2 [-2, -1, 0, 1, -2]: codes 2, 3, 0, 1, 2 */
    assert_int_equal(t->raw_data.len, 2);
    assert_int_equal(t->raw_data.data[0], 0x2 | 0x3 << 2 | 0x0 << 4 | 0x1 << 6);
    assert_int_equal(t->raw_data.data[1], 0x02);
    t = gp->initializer[10]; /* strings */
    assert_int_equal(t->n_string_data, 3);
    assert_int_equal(t->string_data[2].len, 8);
    /* value_info for the typed intermediate %mm (and the outer reference's type in "then") */
    int found = 0;
    for (size_t i = 0; i < gp->n_value_info; i++)
        found += !strcmp(gp->value_info[i]->name, "mm");
    assert_int_equal(found, 1);
    const Onnx__NodeProto *split = gp->node[1];
    assert_string_equal(split->output[1], "");
    const Onnx__AttributeProto *sp = NULL;
    for (size_t i = 0; i < split->n_attribute; i++)
        if (!strcmp(split->attribute[i]->name, "sp"))
            sp = split->attribute[i];
    assert_non_null(sp);
    assert_non_null(sp->sparse_tensor);
    assert_int_equal(sp->sparse_tensor->values->dims[0], 1); /* one non-empty string */
    assert_int_equal(sp->sparse_tensor->indices->raw_data.data[0], 1);
    onnx__model_proto__free_unpacked(mp, NULL);
    ir_diag_free(&d);
    unlink(path);
}

/* Folded constants (no producer, not initializers) are written as initializers; inferred types
 * become value_info and come back. */
static void test_folded_and_inferred(void **state) {
    (void)state;
    const char *text = HEAD "opset \"\" 13\n"
        "graph \"g\" {\n"
        "  input %x : f32[2]\n"
        "  const %k : f32[2] = [1.0, 2.0]\n"
        "  %y = Add(%x, %k) {} : f32[2]  # node \"add\", opset 13\n"
        "  %z = Relu(%y) {} : ?  # node \"relu\", opset 13\n"
        "  output %z : ?\n"
        "}\n";
    IrModel *m = parse_text(text);
    char path[400];
    snprintf(path, sizeof path, "%s/folded.onnx", g_tmpdir);
    write_ok(m, path);
    ir_model_destroy(m);
    IrModel *m2 = load(path);
    char *got = model_text(m2);
    const char *want = HEAD "opset \"\" 13\n"
        "graph \"g\" {\n"
        "  input %x : f32[2]\n"
        "  init %k : f32[2] = [1.0, 2.0]\n"
        "  %y = Add(%x, %k) {} : f32[2]  # node \"add\", opset 13\n"
        "  %z = Relu(%y) {} : ?  # node \"relu\", opset 13\n"
        "  output %z : ?\n"
        "}\n";
    assert_string_equal(got, want);
    free(got);
    /* after inference every value is typed, and the types survive writing */
    IrDiag d;
    ir_diag_init(&d, path);
    assert_int_equal(pass_infer(m2->graph, &d), 0);
    write_ok(m2, path);
    char *inferred = model_text(m2);
    IrModel *m3 = load(path);
    char *back = model_text(m3);
    assert_string_equal(back, inferred);
    assert_non_null(strstr(back, "%z = Relu(%y) {} : f32[2]"));
    free(inferred);
    free(back);
    ir_model_destroy(m2);
    ir_model_destroy(m3);
    ir_diag_free(&d);
    unlink(path);
}

static void test_write_errors(void **state) {
    (void)state;
    IrModel *m = parse_text(HEAD "opset \"\" 13\ngraph \"g\" {\n  input %x : f32[2]\n"
                                 "  output %x : f32[2]\n}\n");
    IrDiag d;
    ir_diag_init(&d, NULL);
    char path[400];
    snprintf(path, sizeof path, "%s/no/such/folder/m.onnx", g_tmpdir);
    assert_int_equal(fe_write_model(m, path, &d), -1);
    assert_true(diag_has(&d, "cannot create a temporary file"));
    /* an initializer whose data went missing is refused, and nothing is left behind */
    IrValue *v = m->graph->inputs[0];
    int64_t two = 2;
    v->init = ir_tensor_new(m->graph->arena, IR_DT_FLOAT, 1, &two);
    assert_int_equal(ir_graph_add_init(m->graph, v), 0);
    v->init->data = NULL;
    snprintf(path, sizeof path, "%s/bad.onnx", g_tmpdir);
    int before = tmpdir_entries();
    assert_int_equal(fe_write_model(m, path, &d), -1);
    assert_true(diag_has(&d, "no data or inconsistent data"));
    assert_int_equal(tmpdir_entries(), before);
    assert_int_equal(fe_write_model(NULL, path, &d), -1);
    ir_diag_free(&d);
    ir_model_destroy(m);
}

/* ------------------------------------------------------------------ backend test data */

static const char *backend_root(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

typedef struct WStats {
    int models, load_fail, ok, fail;
    FILE *check_list; /* "original\twritten\n" lines for the ONNX checker */
    int nchecked;
} WStats;

static void roundtrip_file(const char *path, int force_check, WStats *st) {
    st->models++;
    IrDiag d;
    ir_diag_init(&d, path);
    IrModel *m = fe_load_model(path, NULL, &d);
    if (!m) {
        st->load_fail++;
        ir_diag_free(&d);
        return;
    }
    int check = force_check || st->models % CHECK_EVERY == 0;
    char out[400];
    snprintf(out, sizeof out, "%s/%s%d.onnx", g_tmpdir, check ? "chk" : "w", st->models);
    char *want = model_text(m);
    int rc = fe_write_model(m, out, &d);
    ir_model_destroy(m);
    IrModel *m2 = rc == 0 ? fe_load_model(out, NULL, &d) : NULL;
    if (!m2) {
        st->fail++;
        if (st->fail <= 5) {
            print_message("WRITE/RELOAD FAILED: %s\n", path);
            print_diag(&d);
        }
    } else {
        char *got = model_text(m2);
        if (strcmp(got, want) != 0) {
            st->fail++;
            if (st->fail <= 5) {
                size_t i = 0;
                while (want[i] && want[i] == got[i])
                    i++;
                size_t from = i > 80 ? i - 80 : 0;
                print_message("DIFFERENT IR after write+load: %s at byte %zu\n  original: %.160s\n"
                              "  reloaded: %.160s\n", path, i, want + from, got + from);
            }
        } else {
            st->ok++;
        }
        free(got);
        ir_model_destroy(m2);
    }
    free(want);
    if (check && rc == 0 && st->check_list) {
        fprintf(st->check_list, "%s\t%s\n", path, out);
        st->nchecked++;
    } else {
        unlink(out);
    }
    ir_diag_free(&d);
}

static int cmp_str(const void *x, const void *y) { return strcmp(*(char *const *)x, *(char *const *)y); }

static void walk(const char *dir, int depth, WStats *st) {
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
                roundtrip_file(p, strstr(p, "/light/") != NULL, st);
        }
        free(names[i]);
    }
    free(names);
}

/* The checker over the listed pairs, in one python process: prints "checked N" and one
 * "FAIL <written>: <message>" line per written file that fails although its original passes. */
static const char *k_checker =
    "import sys, onnx\n"
    "n = bad = orig_bad = 0\n"
    "for line in open(sys.argv[1]):\n"
    "    orig, out = line.rstrip('\\n').split('\\t')\n"
    "    try:\n"
    "        onnx.checker.check_model(onnx.load(orig))\n"
    "    except Exception:\n"
    "        orig_bad += 1\n"
    "        continue\n"
    "    n += 1\n"
    "    try:\n"
    "        onnx.checker.check_model(onnx.load(out))\n"
    "    except Exception as e:\n"
    "        bad += 1\n"
    "        print('FAIL %s (%s): %s' % (out, orig, str(e).splitlines()[0] if str(e) else e))\n"
    "print('checked %d written files (%d originals fail the checker themselves), %d failed' % (n, orig_bad, bad))\n"
    "sys.exit(1 if bad else 0)\n";

/* Runs the checker script over the pairs listed in `list`; asserts it passes. */
static void run_checker(const char *list);

static void test_backend_write_roundtrip(void **state) {
    (void)state;
    const char *root = backend_root();
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        print_message("SKIP: ONNX backend test data not found at %s (set ONNXC_BACKEND_TESTS)\n",
                      root);
        skip();
    }
    char list[400], script[400];
    snprintf(list, sizeof list, "%s/check_list.txt", g_tmpdir);
    snprintf(script, sizeof script, "%s/check.py", g_tmpdir);
    WStats st = {0};
    int have_python =
        system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") == 0;
    if (have_python)
        st.check_list = fopen(list, "w");
    else
        print_message("NOTE: /usr/bin/python3 with the onnx package not found: the ONNX checker "
                      "part is skipped\n");
    walk(root, 0, &st);
    if (st.check_list)
        fclose(st.check_list);
    print_message("ONNX write round trip: %d models, %d identical after write+load, %d failed, %d "
                  "not loadable by the frontend\n", st.models, st.ok, st.fail, st.load_fail);
    assert_true(st.models > 0);
    assert_int_equal(st.fail, 0);
    if (have_python && st.nchecked > 0)
        run_checker(list);
    (void)script;
}

static void run_checker(const char *list) {
    char script[400];
    snprintf(script, sizeof script, "%s/check.py", g_tmpdir);
    FILE *f = fopen(script, "w");
    assert_non_null(f);
    fputs(k_checker, f);
    fclose(f);
    char cmd[1000];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s 2>&1", script, list);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char line[2048];
    while (fgets(line, sizeof line, p))
        print_message("onnx.checker: %s", line);
    int rc = pclose(p);
    assert_int_equal(rc, 0);
}

/* Every 10th model of node, pytorch-converted, pytorch-operator and simple: infer, the -O2
 * pipeline, write. */
static void test_optimized_models(void **state) {
    (void)state;
    const char *root = backend_root();
    struct stat sb;
    if (stat(root, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        print_message("SKIP: ONNX backend test data not found at %s\n", root);
        skip();
    }
    int have_python = system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") == 0;
    char list[400];
    snprintf(list, sizeof list, "%s/opt_list.txt", g_tmpdir);
    FILE *lf = have_python ? fopen(list, "w") : NULL;
    const char *groups[] = {"node", "pytorch-converted", "pytorch-operator", "simple"};
    int k = 0, tried = 0, optimized = 0, changed = 0, nlisted = 0;
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.opt_level = 2;
    for (size_t gi = 0; gi < sizeof groups / sizeof *groups; gi++) {
        char dir[1024];
        snprintf(dir, sizeof dir, "%s/%s", root, groups[gi]);
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);
        for (int i = 0; i < n; i++) {
            char p[2048], out[600];
            snprintf(p, sizeof p, "%s/%s/model.onnx", dir, names[i]->d_name);
            if (names[i]->d_name[0] == '.' || k++ % 10 != 0 || stat(p, &sb) != 0) {
                free(names[i]);
                continue;
            }
            free(names[i]);
            tried++;
            IrDiag d;
            ir_diag_init(&d, p);
            IrModel *m = fe_load_model(p, NULL, &d);
            assert_non_null(m);
            PassCtx cx;
            pm_ctx_init(&cx, &o, &d);
            int nchanges = -1;
            if (pass_infer(m->graph, &d) == 0 && ir_verify(m->graph, &d) == 0)
                nchanges = pm_run_default(m, &cx);
            pm_ctx_free(&cx);
            if (nchanges < 0) { /* unsupported operators: not the writer's business */
                ir_model_destroy(m);
                ir_diag_free(&d);
                continue;
            }
            optimized++;
            changed += nchanges > 0;
            snprintf(out, sizeof out, "%s/opt%d.onnx", g_tmpdir, tried);
            write_ok(m, out);
            char *want = model_text(m);
            /* folded constants come back as initializers (printed in the same place) */
            for (char *c; (c = strstr(want, "\n  const %"));)
                memcpy(c, "\n  init  %", 10), memmove(c + 7, c + 8, strlen(c + 8) + 1);
            IrModel *m2 = load(out);
            assert_int_equal(pass_infer(m2->graph, &d), 0);
            char *got = model_text(m2);
            if (m->ir_version < 4) { /* there they are also listed as inputs: not compared */
                free(got);
                got = strdup(want);
            }
            if (strcmp(got, want) != 0)
                print_message("--- optimized %s:\n%s--- written, loaded, inferred:\n%s---\n", p, want, got);
            assert_string_equal(got, want);
            free(want);
            free(got);
            ir_model_destroy(m2);
            ir_model_destroy(m);
            ir_diag_free(&d);
            if (lf) {
                fprintf(lf, "%s\t%s\n", p, out);
                nlisted++;
            } else {
                unlink(out);
            }
        }
        if (n > 0)
            free(names);
    }
    if (lf)
        fclose(lf);
    print_message("optimized and written %d of %d sampled models (%d changed by the passes)\n",
                  optimized, tried, changed);
    assert_true(optimized > 0);
    if (nlisted)
        run_checker(list);
    else if (!have_python)
        print_message("NOTE: /usr/bin/python3 with onnx not found: checker part skipped\n");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_write_everything),
        cmocka_unit_test(test_folded_and_inferred),
        cmocka_unit_test(test_write_errors),
        cmocka_unit_test(test_backend_write_roundtrip),
        cmocka_unit_test(test_optimized_models),
    };
    return cmocka_run_group_tests(tests, setup_tmpdir, remove_tmpdir);
}
