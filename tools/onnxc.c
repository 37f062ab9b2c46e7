/* onnxc.c - the command-line driver.
 *
 *   onnxc dump MODEL.onnx [--full] [--after-infer] [--format=text|dot]
 *   onnxc compile MODEL.onnx [-o OUT] [--emit=ir|llvm|asm|obj|so] [-O0..-O3] [--name NAME]
 *                 [--shape NAME=d0,d1,...]... [--no-bitcode] [-v]
 *                 [--print-before=P] [--print-after=P] [--print-changed] [--verify-each]
 *                 [--disable-pass=P] [--time-passes] [--stats] [--passes=P,P,...]
 *                 [--max-tensor-bytes=N] [--max-dim=N] [--max-nodes=N]
 *   onnxc run MODEL(.onnx|.so) --data DIR [--out DIR] [--rtol R] [--atol A] [compile options]
 *   onnxc info LIB.so
 *   onnxc optimize MODEL.onnx -o OUT.onnx [-O0..-O3] [--shape NAME=...]... [pass options]
 *
 * MODEL may also be onnxc IR text (docs/IR_FORMAT.md, as `dump --full` prints it).
 * Exit status: 0 success, 1 failure (diagnostics printed), 2 usage error.
 */
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend/be.h"
#include "backend/be_internal.h" /* be_tmp_create / be_tmp_commit: atomic outputs */
#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "passes/pass_manager.h"
#include "tools/harness.h"

#ifndef ONNXC_VERSION
#define ONNXC_VERSION "unknown"
#endif

#define EXIT_USAGE 2
#define MAX_SHAPES 64

/* tools/onnxc_train.c (docs/TRAINING.md) */
int onnxc_train_compile_cmd(int argc, char **argv);
int onnxc_train_cmd(int argc, char **argv);

static const char *usage_text =
    "usage: onnxc COMMAND [options]\n"
    "\n"
    "commands:\n"
    "  dump MODEL.onnx [--full] [--after-infer] [--format=text|dot]\n"
    "      print the model as IR text; --full prints large constants in full; --after-infer\n"
    "      runs type and shape inference first (errors go to stderr, the IR is still printed);\n"
    "      --format=dot prints a Graphviz graph instead (render with: dot -Tsvg)\n"
    "  compile MODEL.onnx [-o OUT] [--emit=ir|llvm|asm|obj|so] [-O0|-O1|-O2|-O3]\n"
    "          [--name NAME] [--shape NAME=d0,d1,...]... [--no-bitcode] [-v]\n"
    "      compile the model; default --emit=so and OUT=lib<model>.so (plus <OUT>.h header);\n"
    "      --emit=ir prints the IR after the compile pipeline ('-o -' writes to stdout);\n"
    "      --shape fixes an input's shape (NAME is an input) or a symbolic dimension (NAME=d)\n"
    "      optimisation passes (-O1: fold,dce; -O2/-O3: the full pipeline), instruments to stderr:\n"
    "        --print-before=PASS|all --print-after=PASS|all --print-changed --verify-each\n"
    "        --disable-pass=NAME[,NAME] --time-passes --stats --passes=NAME,NAME,... (custom)\n"
    "      limits (docs/HARDENING.md): --max-tensor-bytes=N (default 2^34), --max-dim=N\n"
    "        (default 2^34), --max-nodes=N per graph (default 2^24)\n"
    "  run MODEL(.onnx|.so) --data DIR [--out DIR] [--rtol R] [--atol A] [compile options]\n"
    "      run on DIR/input_K.pb; compare with DIR/output_K.pb when present (default rtol 1e-3,\n"
    "      atol 1e-7); --out writes the outputs as output_K.pb; exit 1 on a mismatch\n"
    "  info LIB.so\n"
    "      print the model description of a compiled library\n"
    "  optimize MODEL.onnx -o OUT.onnx [-O0|-O1|-O2|-O3] [--shape NAME=...]... [pass options]\n"
    "      load, infer types and shapes, run the optimisation passes of the -O level (default\n"
    "      -O2; -O0: none) and write the model back as ONNX (with value_info)\n"
    "  compile MODEL.onnx --train [--loss=mse|ce|bce] [--optimizer=NAME] [--lr=R] [...]\n"
    "      build a training library (NAME_train_step/infer/get_weight/set_weight/save;\n"
    "      optimizers sgd, momentum, nesterov, adam, adamw, adagrad, rmsprop; docs/TRAINING.md)\n"
    "  train MODEL.onnx --x X.npy|X.pb --y Y.npy|Y.pb [--loss L] [--optimizer O] [--lr R]\n"
    "        [--epochs E] [--batch B] [--seed S] [--val F] [--schedule S] [--save OUT.onnx]\n"
    "      train for E epochs with a progress line per epoch, then print evaluation metrics\n"
    "\n"
    "  MODEL may also be onnxc IR text (a file starting with 'onnxc-ir', see dump --full)\n"
    "\n"
    "  onnxc --help | --version\n";

static int usage_error(const char *fmt, const char *arg) {
    fprintf(stderr, "onnxc: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see onnxc --help)\n");
    return EXIT_USAGE;
}

/* Prints the diagnostics and returns 1 (the failure exit code). */
static int fail(IrDiag *d) {
    ir_diag_print(d, stderr);
    if (d->nerrors == 0) fprintf(stderr, "onnxc: failed\n");
    return 1;
}

/* File name without folder and extension, made into a C-identifier-friendly stem. */
static void model_stem(const char *path, char *out, size_t cap) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    size_t n = strlen(b);
    const char *dot = strrchr(b, '.');
    if (dot && dot != b) n = (size_t)(dot - b);
    if (n >= cap) n = cap - 1;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        out[i] = ok ? c : '_';
    }
    out[n] = 0;
    if (n == 0) snprintf(out, cap, "model");
}

/* ------------------------------------------------------------------ shared option parsing */

typedef struct CompileArgs {
    OnnxcCompileOptions opt;               /* options handed to the pipeline */
    OnnxcShapeOverride shapes[MAX_SHAPES]; /* --shape overrides (parsed, names borrowed) */
    const char *shape_text[MAX_SHAPES];    /* the raw NAME=... texts */
    int nshapes;                           /* number of --shape options */
} CompileArgs;

/* Consumes one compile option at argv[*i] if it is one: returns 1 if consumed, 0 if not a
 * compile option, -1 on a usage error (message printed). */
static int parse_compile_opt(CompileArgs *c, int argc, char **argv, int *i) {
    const char *a = argv[*i];
    if (strlen(a) == 3 && a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3') {
        c->opt.opt_level = a[2] - '0';
        return 1;
    }
    if (strcmp(a, "--no-bitcode") == 0) {
        c->opt.use_bitcode = 0;
        return 1;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        c->opt.verbose = 1;
        return 1;
    }
    /* pass manager instruments (passes/pass_manager.h) */
    if (strncmp(a, "--print-before=", 15) == 0) { c->opt.print_before = a + 15; return 1; }
    if (strncmp(a, "--print-after=", 14) == 0) { c->opt.print_after = a + 14; return 1; }
    if (strncmp(a, "--disable-pass=", 15) == 0) { c->opt.disable_pass = a + 15; return 1; }
    if (strncmp(a, "--passes=", 9) == 0) { c->opt.passes = a + 9; return 1; }
    if (strcmp(a, "--print-changed") == 0) { c->opt.print_changed = 1; return 1; }
    if (strcmp(a, "--verify-each") == 0) { c->opt.verify_each = 1; return 1; }
    if (strcmp(a, "--time-passes") == 0) { c->opt.time_passes = 1; return 1; }
    if (strcmp(a, "--stats") == 0) { c->opt.stats = 1; return 1; }
    /* run-time limits (ir.h, IrLimits; docs/HARDENING.md): process-wide, set now */
    if (strncmp(a, "--max-tensor-bytes=", 19) == 0 || strncmp(a, "--max-dim=", 10) == 0 ||
        strncmp(a, "--max-nodes=", 12) == 0) {
        const char *v = strchr(a, '=') + 1;
        char *end;
        errno = 0;
        long long x = strtoll(v, &end, 10);
        IrLimits l = ir_limits();
        int64_t *f = a[6] == 't' ? &l.max_tensor_bytes : a[6] == 'd' ? &l.max_dim : &l.max_nodes;
        if (end == v || *end || errno || x <= 0)
            return usage_error("bad limit '%s' (a positive number)", a), -1;
        *f = x;
        if (ir_limits_set(&l) != 0)
            return usage_error("limit too large: '%s' (at most 2^48)", a), -1;
        return 1;
    }
    if (strcmp(a, "--name") == 0 || strncmp(a, "--name=", 7) == 0) {
        const char *v = a[6] == '=' ? a + 7 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v || !*v) return usage_error("--name needs a value%s", ""), -1;
        c->opt.model_name = v;
        return 1;
    }
    if (strcmp(a, "--shape") == 0 || strncmp(a, "--shape=", 8) == 0) {
        const char *v = a[7] == '=' ? a + 8 : (*i + 1 < argc ? argv[++*i] : NULL);
        if (!v || !strchr(v, '=') || v[0] == '=')
            return usage_error("--shape needs NAME=d0,d1,... (got '%s')", v ? v : ""), -1;
        if (c->nshapes == MAX_SHAPES) return usage_error("too many --shape options%s", ""), -1;
        c->shape_text[c->nshapes++] = v;
        return 1;
    }
    return 0;
}

/* Parses the --shape texts now that the model is loaded: NAME that is a graph input takes a
 * whole shape, any other NAME is a dimension symbol and takes one value. */
static int resolve_shapes(CompileArgs *c, const IrModel *m, IrDiag *d) {
    for (int k = 0; k < c->nshapes; k++) {
        const char *t = c->shape_text[k];
        const char *eq = strchr(t, '=');
        OnnxcShapeOverride *s = &c->shapes[k];
        char *name = malloc((size_t)(eq - t) + 1);
        if (!name) return -1;
        memcpy(name, t, (size_t)(eq - t));
        name[eq - t] = 0;
        s->name = name;
        int n = 0;
        const char *p = eq + 1;
        while (*p) {
            char *end;
            errno = 0;
            long long v = strtoll(p, &end, 10);
            if (end == p || errno || v < 0 || n == IR_MAX_RANK || (*end && *end != ',')) {
                ir_error(d, NULL, "--shape %s: bad dimension list '%s'", name, eq + 1);
                return -1;
            }
            s->dims[n++] = v;
            p = *end ? end + 1 : end;
        }
        int is_input = 0;
        for (int i = 0; m && m->graph && i < m->graph->ninputs; i++)
            if (strcmp(m->graph->inputs[i]->name, name) == 0) is_input = 1;
        if (is_input) {
            s->rank = n;
        } else {
            if (n != 1) {
                ir_error(d, NULL, "--shape %s: not an input of the model, so it names a symbolic "
                         "dimension and takes exactly one value", name);
                return -1;
            }
            s->rank = -1;
        }
    }
    c->opt.shapes = c->shapes;
    c->opt.nshapes = c->nshapes;
    return 0;
}

static void free_shapes(CompileArgs *c) {
    for (int k = 0; k < c->nshapes; k++) {
        free((char *)c->shapes[k].name);
        c->shapes[k].name = NULL;
    }
}

/* ------------------------------------------------------------------ dump */

static int cmd_dump(int argc, char **argv) {
    const char *path = NULL;
    int full = 0, after_infer = 0, dot = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--full") == 0) full = 1;
        else if (strcmp(argv[i], "--after-infer") == 0) after_infer = 1;
        else if (strcmp(argv[i], "--format=dot") == 0) dot = 1;
        else if (strcmp(argv[i], "--format=text") == 0) dot = 0;
        else if (strncmp(argv[i], "--format", 8) == 0)
            return usage_error("dump: --format=text or --format=dot (got %s)", argv[i]);
        else if (argv[i][0] == '-' && argv[i][1]) return usage_error("dump: unknown option %s", argv[i]);
        else if (path) return usage_error("dump: more than one model given (%s)", argv[i]);
        else path = argv[i];
    }
    if (!path) return usage_error("dump: no model given%s", "");
    IrDiag d;
    ir_diag_init(&d, path);
    IrModel *m = fe_load_model(path, NULL, &d);
    if (!m) {
        int rc = fail(&d);
        ir_diag_free(&d);
        return rc;
    }
    int rc = 0;
    if (after_infer && pass_infer(m->graph, &d) > 0) rc = 1;
    /* Warnings and inference errors go to stderr; the IR is printed regardless. */
    ir_diag_print(&d, stderr);
    if ((dot ? ir_print_dot(m, stdout, full) : ir_print_model(m, stdout, full)) != 0) {
        fprintf(stderr, "onnxc: error writing the %s\n", dot ? "dot graph" : "IR text");
        rc = 1;
    }
    fflush(stdout);
    ir_model_destroy(m);
    ir_diag_free(&d);
    return rc;
}

/* ------------------------------------------------------------------ compile */

static int cmd_compile(int argc, char **argv) {
    CompileArgs c;
    memset(&c, 0, sizeof c);
    onnxc_options_default(&c.opt);
    const char *path = NULL, *out = NULL, *emit = "so";
    for (int i = 0; i < argc; i++) {
        int r = parse_compile_opt(&c, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        const char *a = argv[i];
        if (strcmp(a, "-o") == 0) {
            if (i + 1 >= argc) return usage_error("-o needs a file name%s", "");
            out = argv[++i];
        } else if (strncmp(a, "--emit=", 7) == 0) {
            emit = a + 7;
        } else if (strcmp(a, "--emit") == 0) {
            if (i + 1 >= argc) return usage_error("--emit needs a kind%s", "");
            emit = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            return usage_error("compile: unknown option %s", a);
        } else if (path) {
            return usage_error("compile: more than one model given (%s)", a);
        } else {
            path = a;
        }
    }
    if (!path) return usage_error("compile: no model given%s", "");
    BeEmitKind kind = BE_EMIT_SO;
    const char *ext = ".so";
    int emit_ir = 0;
    if (strcmp(emit, "ir") == 0) { emit_ir = 1; ext = ".ir"; }
    else if (strcmp(emit, "llvm") == 0) { kind = BE_EMIT_LLVM; ext = ".ll"; }
    else if (strcmp(emit, "asm") == 0) { kind = BE_EMIT_ASM; ext = ".s"; }
    else if (strcmp(emit, "obj") == 0) { kind = BE_EMIT_OBJ; ext = ".o"; }
    else if (strcmp(emit, "so") != 0) return usage_error("--emit: unknown kind '%s'", emit);

    char stem[256], dflt_out[300];
    model_stem(path, stem, sizeof stem);
    if (!out) {
        snprintf(dflt_out, sizeof dflt_out, "%s%s%s", kind == BE_EMIT_SO && !emit_ir ? "lib" : "",
                 stem, ext);
        out = dflt_out;
    }

    IrDiag d;
    ir_diag_init(&d, path);
    int rc = 1;
    IrModel *m = fe_load_model(path, NULL, &d);
    if (!m) goto done;
    if (resolve_shapes(&c, m, &d) != 0) goto done;
    if (onnxc_prepare(m, &c.opt, &d) != 0) goto done;
    if (emit_ir) {
        /* a file is written under a temporary name next to it and renamed when complete */
        int to_stdout = strcmp(out, "-") == 0;
        char *tmp = to_stdout ? NULL : be_tmp_create(out, ".ir", &d);
        if (!to_stdout && !tmp) goto done;
        FILE *f = to_stdout ? stdout : fopen(tmp, "w");
        if (!f) {
            ir_error(&d, NULL, "cannot write %s: %s", out, strerror(errno));
            if (tmp) unlink(tmp);
            free(tmp);
            goto done;
        }
        int wr = ir_print_model(m, f, 0);
        int cl = to_stdout ? fflush(f) : fclose(f);
        if (wr != 0 || cl != 0) {
            ir_error(&d, NULL, "error writing %s", out);
            if (tmp) unlink(tmp);
            free(tmp);
            goto done;
        }
        int cm = tmp ? be_tmp_commit(tmp, out, &d) : 0;
        free(tmp);
        if (cm != 0) goto done;
    } else {
        if (be_emit(m, &c.opt, kind, out, NULL, m->workspace_bytes, &d) != 0) goto done;
    }
    rc = 0;
done:
    if (rc) fail(&d);
    else ir_diag_print(&d, stderr); /* warnings */
    if (m) ir_model_destroy(m);
    free_shapes(&c);
    ir_diag_free(&d);
    return rc;
}

/* ------------------------------------------------------------------ run */

static int file_exists(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static void print_shape(FILE *f, const IrTensor *t) {
    fprintf(f, "%s[", ir_dtype_name(t->dtype));
    for (int k = 0; k < t->rank; k++) fprintf(f, "%s%lld", k ? "," : "", (long long)t->dims[k]);
    fprintf(f, "]");
}

/* Prints the first few values of a tensor (numeric types only). */
static void print_values(FILE *f, const IrTensor *t, int64_t max) {
    int64_t n = t->numel < max ? t->numel : max;
    fprintf(f, "  [");
    for (int64_t i = 0; i < n; i++) {
        const char *sep = i ? ", " : "";
        switch ((int)t->dtype) {
        case IR_DT_FLOAT: fprintf(f, "%s%.7g", sep, ((const float *)t->data)[i]); break;
        case IR_DT_DOUBLE: fprintf(f, "%s%.15g", sep, ((const double *)t->data)[i]); break;
        case IR_DT_INT64: fprintf(f, "%s%lld", sep, (long long)((const int64_t *)t->data)[i]); break;
        case IR_DT_INT32: fprintf(f, "%s%d", sep, ((const int32_t *)t->data)[i]); break;
        case IR_DT_BOOL: case IR_DT_UINT8:
            fprintf(f, "%s%u", sep, ((const uint8_t *)t->data)[i]); break;
        case IR_DT_INT8: fprintf(f, "%s%d", sep, ((const int8_t *)t->data)[i]); break;
        default: fprintf(f, "%s...", sep); i = n; break;
        }
    }
    fprintf(f, "%s]\n", t->numel > n ? ", ..." : "");
}

static int parse_double(const char *s, double *out) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !(v >= 0)) return -1;
    *out = v;
    return 0;
}

static int cmd_run(int argc, char **argv) {
    CompileArgs c;
    memset(&c, 0, sizeof c);
    onnxc_options_default(&c.opt);
    const char *path = NULL, *data = NULL, *outdir = NULL;
    double rtol = 1e-3, atol = 1e-7;
    for (int i = 0; i < argc; i++) {
        int r = parse_compile_opt(&c, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        const char *a = argv[i];
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--data") == 0 || strcmp(a, "--out") == 0 || strcmp(a, "--rtol") == 0 ||
            strcmp(a, "--atol") == 0) {
            if (!next) return usage_error("%s needs a value", a);
            i++;
            if (strcmp(a, "--data") == 0) data = next;
            else if (strcmp(a, "--out") == 0) outdir = next;
            else if (parse_double(next, strcmp(a, "--rtol") == 0 ? &rtol : &atol) != 0)
                return usage_error("bad tolerance '%s'", next);
        } else if (a[0] == '-' && a[1]) {
            return usage_error("run: unknown option %s", a);
        } else if (path) {
            return usage_error("run: more than one model given (%s)", a);
        } else {
            path = a;
        }
    }
    if (!path) return usage_error("run: no model given%s", "");
    if (!data) return usage_error("run: --data DIR is required%s", "");

    IrDiag d;
    ir_diag_init(&d, path);
    IrArena *arena = ir_arena_create();
    HarnessModel *h = NULL;
    int rc = 1, mismatch = 0;
    IrTensor **ins = NULL, **outs = NULL;
    if (!arena) {
        ir_error(&d, NULL, "out of memory");
        goto done;
    }
    if (c.nshapes) {
        /* --shape needs the model to tell input names from dimension symbols. */
        IrModel *m = fe_load_model(path, NULL, &d);
        if (!m) goto done;
        int r = resolve_shapes(&c, m, &d);
        ir_model_destroy(m);
        if (r != 0) goto done;
    }
    h = harness_open(path, &c.opt, &d);
    if (!h) goto done;
    const OnnxcModelInfo *info = harness_info(h);
    int nin = info->num_inputs, nout = info->num_outputs;
    ins = calloc((size_t)nin + 1, sizeof *ins);
    outs = calloc((size_t)nout + 1, sizeof *outs);
    if (!ins || !outs) {
        ir_error(&d, NULL, "out of memory");
        goto done;
    }
    char p[4096];
    for (int i = 0; i < nin; i++) {
        snprintf(p, sizeof p, "%s/input_%d.pb", data, i);
        if (!file_exists(p)) {
            ir_error(&d, NULL, "the model takes %d input(s) but %s does not exist", nin, p);
            goto done;
        }
        ins[i] = fe_read_tensor_pb(arena, p, &d);
        if (!ins[i]) goto done;
    }
    snprintf(p, sizeof p, "%s/input_%d.pb", data, nin);
    if (file_exists(p)) {
        ir_error(&d, NULL, "%s exists but the model takes only %d input(s)", p, nin);
        goto done;
    }
    if (harness_run(h, ins, nin, arena, outs, &d) != 0) goto done;
    if (outdir) {
        if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
            ir_error(&d, NULL, "cannot create %s: %s", outdir, strerror(errno));
            goto done;
        }
        for (int i = 0; i < nout; i++) {
            snprintf(p, sizeof p, "%s/output_%d.pb", outdir, i);
            if (fe_write_tensor_pb(p, outs[i], info->outputs[i].name, &d) != 0) goto done;
        }
    }
    for (int i = 0; i < nout; i++) {
        printf("output %d '%s': ", i, info->outputs[i].name);
        print_shape(stdout, outs[i]);
        snprintf(p, sizeof p, "%s/output_%d.pb", data, i);
        if (!file_exists(p)) {
            printf(" (no expected output)\n");
            print_values(stdout, outs[i], 16);
            continue;
        }
        IrTensor *e = fe_read_tensor_pb(arena, p, &d);
        if (!e) goto done;
        double mabs, mrel;
        int ok = harness_compare(outs[i], e, rtol, atol, &mabs, &mrel);
        if (!ok && (e->dtype != outs[i]->dtype || e->numel != outs[i]->numel)) {
            printf(" expected ");
            print_shape(stdout, e);
            printf(": MISMATCH (type or shape)\n");
        } else {
            printf(" max abs err %.3g, max rel err %.3g: %s\n", mabs, mrel,
                   ok ? "OK" : "MISMATCH");
        }
        if (!ok) mismatch = 1;
    }
    if (mismatch)
        fprintf(stderr, "onnxc: outputs differ from %s (rtol %g, atol %g)\n", data, rtol, atol);
    rc = mismatch;
done:
    if (rc && !mismatch) fail(&d);
    harness_close(h);
    free(ins);
    free(outs);
    ir_arena_destroy(arena);
    free_shapes(&c);
    ir_diag_free(&d);
    return rc;
}

/* ------------------------------------------------------------------ info */

static void print_tensor_info(const OnnxcTensorInfo *t) {
    printf("  %s: %s[", t->name, ir_dtype_name(t->dtype));
    for (int k = 0; k < t->rank; k++) {
        if (t->dims[k] >= 0) printf("%s%lld", k ? "," : "", (long long)t->dims[k]);
        else printf("%s%s", k ? "," : "", t->dim_names && t->dim_names[k] ? t->dim_names[k] : "?");
    }
    printf("]\n");
}

static int cmd_info(int argc, char **argv) {
    if (argc != 1) return usage_error("info: give exactly one library%s", "");
    IrDiag d;
    ir_diag_init(&d, argv[0]);
    HarnessModel *h = NULL;
    size_t n = strlen(argv[0]);
    if (n < 3 || strcmp(argv[0] + n - 3, ".so") != 0)
        ir_error(&d, NULL, "info expects a compiled library (.so)");
    else
        h = harness_open(argv[0], NULL, &d);
    if (!h) {
        int rc = fail(&d);
        ir_diag_free(&d);
        return rc;
    }
    const OnnxcModelInfo *m = harness_info(h);
    printf("model: %s\n", m->name);
    printf("producer: %s\n", m->producer ? m->producer : "?");
    printf("abi version: %u\n", (unsigned)m->abi_version);
    printf("workspace bytes: %llu\n", (unsigned long long)m->workspace_bytes);
    printf("weight bytes: %llu\n", (unsigned long long)m->weight_bytes);
    printf("inputs (%d):\n", m->num_inputs);
    for (int i = 0; i < m->num_inputs; i++) print_tensor_info(&m->inputs[i]);
    printf("outputs (%d):\n", m->num_outputs);
    for (int i = 0; i < m->num_outputs; i++) print_tensor_info(&m->outputs[i]);
    harness_close(h);
    ir_diag_free(&d);
    return 0;
}

/* ------------------------------------------------------------------ optimize */

/* Load, (shape specialisation,) type and shape inference, the optimisation pipeline of the -O
 * level (passes/pass_manager.h, with its instruments), write as ONNX (fe_write_model). */
static int cmd_optimize(int argc, char **argv) {
    CompileArgs c;
    memset(&c, 0, sizeof c);
    onnxc_options_default(&c.opt);
    const char *path = NULL, *out = NULL;
    for (int i = 0; i < argc; i++) {
        int r = parse_compile_opt(&c, argc, argv, &i);
        if (r < 0) return EXIT_USAGE;
        if (r > 0) continue;
        if (strcmp(argv[i], "-o") == 0) {
            if (i + 1 >= argc) return usage_error("-o needs a file name%s", "");
            out = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return usage_error("optimize: unknown option %s", argv[i]);
        } else if (path) {
            return usage_error("optimize: more than one model given (%s)", argv[i]);
        } else {
            path = argv[i];
        }
    }
    if (!path) return usage_error("optimize: no model given%s", "");
    if (!out) return usage_error("optimize: -o OUT.onnx is required%s", "");
    /* the written model is for other runtimes: standard ops at the model's opsets only */
    c.opt.portable = 1;
    IrDiag d;
    ir_diag_init(&d, path);
    int rc = 1;
    PassCtx cx;
    pm_ctx_init(&cx, &c.opt, &d);
    IrModel *m = fe_load_model(path, NULL, &d);
    if (m && resolve_shapes(&c, m, &d) == 0 && pass_specialize_shapes(m, &c.opt, &d) == 0 &&
        pass_infer(m->graph, &d) == 0 && ir_verify(m->graph, &d) == 0 &&
        pm_run_default(m, &cx) >= 0) {
        pm_print_times(&cx);
        pm_print_stats(m, &cx);
        if (fe_write_model(m, out, &d) == 0) rc = 0;
    }
    if (rc) fail(&d);
    else ir_diag_print(&d, stderr); /* warnings */
    pm_ctx_free(&cx);
    ir_model_destroy(m);
    free_shapes(&c);
    ir_diag_free(&d);
    return rc;
}

/* SIGINT/SIGTERM/SIGHUP during a compile: remove the backend's temporary files, then die of
 * the signal as before (outputs are only ever renamed into place complete). */
static void on_fatal_signal(int sig) {
    be_tmp_remove_all();
    signal(sig, SIG_DFL);
    raise(sig);
}

int main(int argc, char **argv) {
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction sa;
        if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
            continue; /* e.g. SIGHUP under nohup stays ignored */
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_fatal_signal;
        sigemptyset(&sa.sa_mask);
        sigaction(sigs[i], &sa, NULL);
    }
    if (argc < 2) {
        fputs(usage_text, stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        fputs(usage_text, stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("onnxc %s (LLVM 19 backend, ONNX IR up to 1.23 data)\n", ONNXC_VERSION);
        return 0;
    }
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        }
    if (strcmp(cmd, "dump") == 0) return cmd_dump(argc - 2, argv + 2);
    if (strcmp(cmd, "compile") == 0)
        for (int i = 2; i < argc; i++) /* training library: tools/onnxc_train.c */
            if (strcmp(argv[i], "--train") == 0) return onnxc_train_compile_cmd(argc - 2, argv + 2);
    if (strcmp(cmd, "compile") == 0) return cmd_compile(argc - 2, argv + 2);
    if (strcmp(cmd, "train") == 0) return onnxc_train_cmd(argc - 2, argv + 2);
    if (strcmp(cmd, "run") == 0) return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "info") == 0) return cmd_info(argc - 2, argv + 2);
    if (strcmp(cmd, "optimize") == 0) return cmd_optimize(argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}
