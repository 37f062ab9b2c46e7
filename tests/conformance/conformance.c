/* conformance.c - the ONNX backend-test conformance runner (executable onnxc_conformance).
 *
 * Walks the ONNX backend test data (onnx/backend/test/data layout, see the data's README):
 *   node/, simple/, pytorch-converted/, pytorch-operator/: one folder per test with model.onnx
 *     and test_data_set_N/{input_K.pb, output_K.pb};
 *   light/: light_NAME.onnx + light_NAME_output_0.pb, no input file: the one graph input without
 *     an initializer is fed with arange(n).reshape(shape) / n as float32 (symbolic dims count 1),
 *     as upstream's runner does.
 * Each test runs in a forked child (own process group, a CPU-time limit (RLIMIT_CPU), a wall-clock alarm at ten times it and a parent-side
 * deadline) so that a crash or hang cannot stop the run. The child compiles the model through the
 * harness (tools/harness.h), runs every data set and compares with |a-e| <= atol + rtol*|e|
 * (upstream's defaults rtol 1e-3, atol 1e-7; per-test exceptions in
 * tests/conformance_tolerances.txt), then writes "OUTCOME<TAB>detail" to a pipe.
 *
 * Outcomes: passed, wrong result, unsupported (first "unsupported operator" diagnostic),
 * compile error, run error (including unreadable test data), crash (signal), timeout, skipped
 * (the model has sequence/optional/map inputs or outputs, which the harness cannot feed, or the
 * test has no data set). The closing line is
 * "N passed, N failed" where failed counts every run test that is neither passed nor skipped,
 * followed by ", N skipped" when some were skipped.
 */
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "tools/harness.h"

#ifndef ONNXC_SOURCE_DIR
#define ONNXC_SOURCE_DIR "."
#endif

typedef enum Outcome {
    OC_PASSED,
    OC_WRONG,
    OC_UNSUPPORTED,
    OC_COMPILE_ERROR,
    OC_RUN_ERROR,
    OC_CRASH,
    OC_TIMEOUT,
    OC_SKIPPED,
    OC_COUNT
} Outcome;

static const char *const outcome_names[OC_COUNT] = {
    "passed", "wrong result", "unsupported", "compile error", "run error", "crash", "timeout",
    "skipped"};

typedef struct Test {
    char *name;        /* "category/test_name" (malloc) */
    const char *category; /* "node", "simple", ..., "light" (static) */
    char *model;       /* path of the .onnx (malloc) */
    char *dir;         /* test folder; for light/ the expected output .pb (malloc) */
    int light;         /* 1 for light/ models (generated input) */
    double rtol, atol; /* tolerances for this test */
    Outcome outcome;   /* result */
    char *detail;      /* one-line detail (malloc), may be NULL */
    double secs;       /* wall time of the child */
    int ran;           /* 1 once the outcome is known */
} Test;

typedef struct Config {
    const char *data;           /* backend test data root */
    int jobs;                   /* parallel children */
    int timeout;                /* seconds per test */
    const char *filter;         /* substring of the test name, or NULL */
    const char *list;           /* file with test names to run, or NULL */
    const char *report;         /* markdown report path, or NULL */
    const char *expected;       /* expected-pass list, or NULL */
    const char *write_expected; /* where to write the passing tests, or NULL */
    const char *tolerances;     /* per-test tolerance file */
    double rtol, atol;          /* default tolerances */
    int opt_level;              /* compile -O level */
    int verbose;                /* print every test; keep child output */
    char tmpbase[4096];         /* temporary folder for the children's compiles */
} Config;

/* ------------------------------------------------------------------ small helpers */

/* Set by SIGINT/SIGTERM in the parent: stop, kill the running children, clean up. */
static volatile sig_atomic_t g_stop;

static void on_stop_signal(int sig) {
    (void)sig;
    g_stop = 1;
}

static double now_secs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static char *xstrdup(const char *s) {
    char *p = strdup(s ? s : "");
    if (!p) {
        fprintf(stderr, "onnxc_conformance: out of memory\n");
        exit(2);
    }
    return p;
}

static char *xasprintf(const char *fmt, const char *a, const char *b) {
    size_t n = strlen(fmt) + strlen(a) + (b ? strlen(b) : 0) + 1;
    char *p = malloc(n);
    if (!p) {
        fprintf(stderr, "onnxc_conformance: out of memory\n");
        exit(2);
    }
    snprintf(p, n, fmt, a, b);
    return p;
}

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static int is_file(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

/* A growable list of tests. */
typedef struct TestList {
    Test *v;   /* entries */
    int n;     /* used */
    int cap;   /* allocated */
} TestList;

static Test *tests_push(TestList *l) {
    if (l->n == l->cap) {
        int cap = l->cap ? l->cap * 2 : 256;
        Test *v = realloc(l->v, sizeof(Test) * (size_t)cap);
        if (!v) {
            fprintf(stderr, "onnxc_conformance: out of memory\n");
            exit(2);
        }
        l->v = v;
        l->cap = cap;
    }
    Test *t = &l->v[l->n++];
    memset(t, 0, sizeof *t);
    return t;
}

/* A set of names read from a file (one per line, '#' comments). */
typedef struct NameSet {
    char **names; /* entries (malloc) */
    int n;        /* count */
} NameSet;

static int nameset_read(NameSet *s, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[1024];
    int cap = 0;
    while (fgets(line, sizeof line, f)) {
        char *h = strchr(line, '#');
        if (h) *h = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        size_t n = strcspn(p, " \t\r\n");
        if (n == 0) continue;
        p[n] = 0;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 256;
            char **v = realloc(s->names, sizeof(char *) * (size_t)cap);
            if (!v) { fclose(f); return -1; }
            s->names = v;
        }
        s->names[s->n++] = xstrdup(p);
    }
    fclose(f);
    return 0;
}

/* A name in a list matches a test by its full name ("node/test_add") or its bare name. */
static int name_matches(const char *listed, const Test *t) {
    if (strcmp(listed, t->name) == 0) return 1;
    const char *bare = strchr(t->name, '/');
    return bare && strcmp(listed, bare + 1) == 0;
}

static int nameset_has(const NameSet *s, const Test *t) {
    for (int i = 0; i < s->n; i++)
        if (name_matches(s->names[i], t)) return 1;
    return 0;
}

/* ------------------------------------------------------------------ discovery */

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir (without . and ..); returns count, -1 if unreadable. */
static int list_dir(const char *dir, char ***out) {
    DIR *dp = opendir(dir);
    if (!dp) return -1;
    char **v = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nv = realloc(v, sizeof(char *) * (size_t)cap);
            if (!nv) break;
            v = nv;
        }
        v[n++] = xstrdup(e->d_name);
    }
    closedir(dp);
    if (n) qsort(v, (size_t)n, sizeof(char *), cmp_str);
    *out = v;
    return n;
}

static void free_names(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static void discover(const Config *c, TestList *l) {
    static const char *const cats[] = {"node", "simple", "pytorch-converted", "pytorch-operator"};
    for (size_t k = 0; k < sizeof cats / sizeof cats[0]; k++) {
        char *root = xasprintf("%s/%s", c->data, cats[k]);
        char **names = NULL;
        int n = list_dir(root, &names);
        for (int i = 0; i < n; i++) {
            char *dir = xasprintf("%s/%s", root, names[i]);
            char *model = xasprintf("%s/%s", dir, "model.onnx");
            if (!is_dir(dir) || !is_file(model)) {
                free(dir);
                free(model);
                continue;
            }
            Test *t = tests_push(l);
            t->name = xasprintf("%s/%s", cats[k], names[i]);
            t->category = cats[k];
            t->dir = dir;
            t->model = model;
        }
        if (n > 0) free_names(names, n);
        free(root);
    }
    char *root = xasprintf("%s/%s", c->data, "light");
    char **names = NULL;
    int n = list_dir(root, &names);
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len < 6 || strcmp(names[i] + len - 5, ".onnx") != 0) continue;
        char stem[512];
        snprintf(stem, sizeof stem, "%.*s", (int)(len - 5), names[i]);
        Test *t = tests_push(l);
        t->name = xasprintf("light/%s", stem, NULL);
        t->category = "light";
        t->model = xasprintf("%s/%s", root, names[i]);
        char out[1024];
        snprintf(out, sizeof out, "%s_output_0.pb", stem);
        t->dir = xasprintf("%s/%s", root, out);
        t->light = 1;
    }
    if (n > 0) free_names(names, n);
    free(root);
}

/* Reads "name rtol atol # reason" lines; sets the tolerances of matching tests. */
static void apply_tolerances(const char *path, TestList *l) {
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[2048];
    int lineno = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *p = line;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '#' || *p == '\n' || *p == 0) continue;
        char name[512];
        double rtol, atol;
        if (sscanf(p, "%511s %lf %lf", name, &rtol, &atol) != 3 || !strchr(p, '#')) {
            fprintf(stderr, "%s:%d: expected 'TEST RTOL ATOL # reason'\n", path, lineno);
            continue;
        }
        for (int i = 0; i < l->n; i++)
            if (name_matches(name, &l->v[i])) {
                l->v[i].rtol = rtol;
                l->v[i].atol = atol;
            }
    }
    fclose(f);
}

/* ------------------------------------------------------------------ the child */

typedef struct ChildResult {
    Outcome oc;       /* outcome */
    char detail[900]; /* one-line detail */
} ChildResult;

/* Message of the first error (file prefix removed), or the last entry. */
static const char *first_error(const IrDiag *d, const char *file) {
    const char *m = NULL;
    for (int i = 0; i < d->nentries && !m; i++)
        if (d->entries[i].sev == IR_SEV_ERROR) m = d->entries[i].msg;
    if (!m) m = d->nentries ? d->entries[d->nentries - 1].msg : "unknown error";
    size_t n = strlen(file);
    if (strncmp(m, file, n) == 0 && m[n] == ':' && m[n + 1] == ' ') m += n + 2;
    return m;
}

/* Sets the outcome of a failed compile: unsupported (with the operator) or compile error. */
static void classify_compile_failure(ChildResult *r, const IrDiag *d, const char *file) {
    for (int i = 0; i < d->nentries; i++) {
        const char *m = d->entries[i].msg;
        const char *u = strstr(m, "unsupported operator");
        if (!u) continue;
        u += strlen("unsupported operator");
        while (*u == ' ' || *u == '\'' || *u == ':' || *u == '"') u++;
        size_t n = strcspn(u, " ,'\"");
        while (n > 0 && u[n - 1] == ':') n--; /* "Op: no type inference" */
        r->oc = OC_UNSUPPORTED;
        if (n == 0) snprintf(r->detail, sizeof r->detail, "%s", first_error(d, file));
        else snprintf(r->detail, sizeof r->detail, "%.*s", (int)n, u);
        return;
    }
    r->oc = OC_COMPILE_ERROR;
    snprintf(r->detail, sizeof r->detail, "%s", first_error(d, file));
}

/* Compares the outputs of one data set; returns 1 if all match (detail filled otherwise). */
static int compare_outputs(ChildResult *r, const OnnxcModelInfo *info, IrTensor **got,
                           IrTensor **want, int nwant, const Test *t, const char *set) {
    if (nwant != info->num_outputs) {
        r->oc = OC_WRONG;
        snprintf(r->detail, sizeof r->detail, "%s: %d expected outputs, the model has %d", set,
                 nwant, info->num_outputs);
        return 0;
    }
    for (int k = 0; k < nwant; k++) {
        double mabs = 0, mrel = 0;
        if (harness_compare(got[k], want[k], t->rtol, t->atol, &mabs, &mrel)) continue;
        r->oc = OC_WRONG;
        char gs[256], ws[256];
        int same = got[k]->dtype == want[k]->dtype && got[k]->rank == want[k]->rank &&
                   got[k]->numel == want[k]->numel;
        for (int j = 0; same && j < got[k]->rank; j++)
            if (got[k]->dims[j] != want[k]->dims[j]) same = 0;
        if (same) {
            snprintf(r->detail, sizeof r->detail, "%s output %d '%s': max abs err %.3g, max rel "
                     "err %.3g", set, k, info->outputs[k].name, mabs, mrel);
        } else {
            size_t a = (size_t)snprintf(gs, sizeof gs, "%s[", ir_dtype_name(got[k]->dtype));
            for (int j = 0; j < got[k]->rank && a < sizeof gs; j++)
                a += (size_t)snprintf(gs + a, sizeof gs - a, "%s%lld", j ? "," : "",
                                      (long long)got[k]->dims[j]);
            size_t b = (size_t)snprintf(ws, sizeof ws, "%s[", ir_dtype_name(want[k]->dtype));
            for (int j = 0; j < want[k]->rank && b < sizeof ws; j++)
                b += (size_t)snprintf(ws + b, sizeof ws - b, "%s%lld", j ? "," : "",
                                      (long long)want[k]->dims[j]);
            snprintf(r->detail, sizeof r->detail, "%s output %d '%s': got %s], expected %s]", set,
                     k, info->outputs[k].name, gs, ws);
        }
        return 0;
    }
    return 1;
}

/* Reads prefix_K.pb for K = 0, 1, ... while present; returns the count, -1 on a read error. */
static int read_pbs(IrArena *a, const char *dir, const char *prefix, IrTensor ***out, IrDiag *d) {
    int n = 0;
    char p[4096];
    for (;;) {
        snprintf(p, sizeof p, "%s/%s_%d.pb", dir, prefix, n);
        if (!is_file(p)) break;
        n++;
    }
    IrTensor **v = ir_arena_alloc(a, sizeof(IrTensor *) * (size_t)(n + 1));
    if (!v) return -1;
    for (int k = 0; k < n; k++) {
        snprintf(p, sizeof p, "%s/%s_%d.pb", dir, prefix, k);
        v[k] = fe_read_tensor_pb(a, p, d);
        if (!v[k]) return -1;
    }
    *out = v;
    return n;
}

/* Builds the light/ input list: initializer-backed inputs from the model, the data input as
 * arange(n)/n. */
static int light_inputs(IrArena *a, const OnnxcModelInfo *info, const IrModel *m,
                        IrTensor ***out, IrDiag *d) {
    IrTensor **v = ir_arena_alloc(a, sizeof(IrTensor *) * (size_t)(info->num_inputs + 1));
    if (!v) return -1;
    for (int i = 0; i < info->num_inputs; i++) {
        const OnnxcTensorInfo *ti = &info->inputs[i];
        IrValue *val = ir_graph_find_value(m->graph, ti->name);
        if (val && val->init) {
            v[i] = val->init;
            continue;
        }
        if (ti->dtype != IR_DT_FLOAT) {
            ir_error(d, NULL, "light input '%s' is %s, only float inputs can be generated",
                     ti->name, ir_dtype_name(ti->dtype));
            return -1;
        }
        int64_t dims[IR_MAX_RANK];
        for (int k = 0; k < ti->rank && k < IR_MAX_RANK; k++) dims[k] = ti->dims[k] >= 0 ? ti->dims[k] : 1;
        IrTensor *t = ir_tensor_new(a, IR_DT_FLOAT, ti->rank, dims);
        if (!t) {
            ir_error(d, NULL, "cannot allocate input '%s'", ti->name);
            return -1;
        }
        float *f = t->data;
        for (int64_t k = 0; k < t->numel; k++) f[k] = (float)((double)k / (double)t->numel);
        v[i] = t;
    }
    *out = v;
    return info->num_inputs;
}

static int type_is_tensor(const IrType *t) { return t->kind == IR_TYPE_TENSOR; }

static void run_child_test(const Test *t, const Config *c, ChildResult *r) {
    IrDiag d;
    ir_diag_init(&d, t->model);
    IrArena *a = ir_arena_create();
    HarnessModel *h = NULL;
    IrModel *m = NULL;
    char **sets = NULL;
    int nsets = 0;
    r->oc = OC_PASSED;
    r->detail[0] = 0;
    if (!a) {
        r->oc = OC_RUN_ERROR;
        snprintf(r->detail, sizeof r->detail, "out of memory");
        goto done;
    }
    m = fe_load_model(t->model, NULL, &d);
    if (!m) {
        classify_compile_failure(r, &d, t->model);
        goto done;
    }
    int seqio = harness_seq_model(m); /* sequence/optional values: tools/harness_seq.c */
    for (int i = 0; i < m->graph->ninputs; i++)
        if (!m->graph->inputs[i]->init && !type_is_tensor(&m->graph->inputs[i]->type) &&
            !(seqio && !t->light && m->graph->inputs[i]->type.kind != IR_TYPE_MAP)) {
            r->oc = OC_SKIPPED;
            snprintf(r->detail, sizeof r->detail, "input '%s' is not a tensor (sequence, optional "
                     "or map values are not fed by the harness)", m->graph->inputs[i]->name);
            goto done;
        }
    for (int i = 0; i < m->graph->noutputs; i++)
        if (!type_is_tensor(&m->graph->outputs[i]->type) &&
            m->graph->outputs[i]->type.kind != IR_TYPE_UNKNOWN &&
            !(seqio && !t->light && m->graph->outputs[i]->type.kind != IR_TYPE_MAP)) {
            r->oc = OC_SKIPPED;
            snprintf(r->detail, sizeof r->detail, "output '%s' is not a tensor (sequence, "
                     "optional or map values are not compared by the harness)",
                     m->graph->outputs[i]->name);
            goto done;
        }
    if (!t->light) {
        char **names = NULL;
        int n = list_dir(t->dir, &names);
        for (int i = 0; i < n; i++) {
            if (strncmp(names[i], "test_data_set_", 14) == 0) names[nsets++] = names[i];
            else free(names[i]);
        }
        sets = names;
        if (nsets == 0) {
            r->oc = OC_SKIPPED;
            snprintf(r->detail, sizeof r->detail, "no test_data_set_N folder");
            goto done;
        }
    }
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.opt_level = c->opt_level;
    if (seqio && nsets > 0) { /* sequence/optional inputs: their content from the first set */
        char dir[4096];
        IrTensor **ins0;
        int nin0;
        OnnxcSeqInput *specs;
        snprintf(dir, sizeof dir, "%s/%s", t->dir, sets[0]);
        if (harness_seq_read_inputs(a, m, dir, &ins0, &nin0, &specs, &o.nseq_inputs, &d)) {
            r->oc = OC_RUN_ERROR;
            snprintf(r->detail, sizeof r->detail, "%s: cannot read the test data: %s", sets[0],
                     first_error(&d, t->model));
            goto done;
        }
        o.seq_inputs = specs;
    }
    h = harness_open(t->model, &o, &d);
    if (!h) {
        classify_compile_failure(r, &d, t->model);
        goto done;
    }
    const OnnxcModelInfo *info = harness_info(h);
    IrTensor **outs = ir_arena_alloc(a, sizeof(IrTensor *) * (size_t)(info->num_outputs + 1));
    if (!outs) {
        r->oc = OC_RUN_ERROR;
        snprintf(r->detail, sizeof r->detail, "out of memory");
        goto done;
    }
    if (t->light) {
        IrTensor **ins, *want;
        int nin = light_inputs(a, info, m, &ins, &d);
        if (nin < 0 || !(want = fe_read_tensor_pb(a, t->dir, &d))) {
            r->oc = OC_RUN_ERROR;
            snprintf(r->detail, sizeof r->detail, "%s", first_error(&d, t->model));
            goto done;
        }
        if (harness_run(h, ins, nin, a, outs, &d) != 0) {
            r->oc = OC_RUN_ERROR;
            snprintf(r->detail, sizeof r->detail, "%s", first_error(&d, t->model));
            goto done;
        }
        /* Only output 0 is shipped. */
        IrTensor *want1[1] = {want};
        OnnxcModelInfo one = *info;
        one.num_outputs = 1;
        compare_outputs(r, &one, outs, want1, 1, t, "light");
        goto done;
    }
    for (int s = 0; s < nsets; s++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", t->dir, sets[s]);
        IrTensor **ins = NULL, **want = NULL;
        int nin, nout;
        if (seqio) {
            nin = nout = -1;
            if (harness_seq_read_inputs(a, m, dir, &ins, &nin, NULL, NULL, &d) == 0)
                harness_seq_read_outputs(a, m, dir, &want, &nout, &d);
        } else {
            nin = read_pbs(a, dir, "input", &ins, &d);
            nout = nin < 0 ? -1 : read_pbs(a, dir, "output", &want, &d);
        }
        if (nin < 0 || nout < 0) {
            r->oc = OC_RUN_ERROR;
            snprintf(r->detail, sizeof r->detail, "%s: cannot read the test data: %s",
                     sets[s], first_error(&d, t->model));
            goto done;
        }
        if (harness_run(h, ins, nin, a, outs, &d) != 0) {
            r->oc = OC_RUN_ERROR;
            snprintf(r->detail, sizeof r->detail, "%s: %s", sets[s], first_error(&d, t->model));
            goto done;
        }
        if (!compare_outputs(r, info, outs, want, nout, t, sets[s])) goto done;
    }
done:
    harness_close(h);
    if (m) ir_model_destroy(m);
    if (sets) free_names(sets, nsets);
    ir_arena_destroy(a);
    ir_diag_free(&d);
}

/* ------------------------------------------------------------------ the parent */

typedef struct Slot {
    pid_t pid;     /* child, 0 if the slot is free */
    int fd;        /* read end of the result pipe */
    int test;      /* index in the test list */
    double start;  /* start time */
    int killed;    /* 1 if the parent killed it for exceeding the deadline */
} Slot;

static void spawn(Slot *s, int ti, Test *t, const Config *c) {
    int p[2];
    fflush(stdout);
    fflush(stderr);
    if (pipe(p) != 0) {
        t->outcome = OC_CRASH;
        t->detail = xstrdup("pipe() failed");
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]);
        close(p[1]);
        t->outcome = OC_CRASH;
        t->detail = xstrdup("fork() failed");
        return;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setpgid(0, 0);
        close(p[0]);
        fcntl(p[1], F_SETFD, FD_CLOEXEC);
        if (!c->verbose) {
            int nul = open("/dev/null", O_WRONLY);
            if (nul >= 0) {
                dup2(nul, 1);
                dup2(nul, 2);
                close(nul);
            }
        }
        setenv("TMPDIR", c->tmpbase, 1);
        /* The limit is CPU time (SIGXCPU), so that a loaded machine does not turn slow compiles
         * into timeouts; a wall-clock alarm at ten times the limit still catches a test that
         * hangs without using CPU. */
        struct rlimit rl = {(rlim_t)c->timeout, (rlim_t)c->timeout + 1};
        setrlimit(RLIMIT_CPU, &rl);
        alarm((unsigned)c->timeout * 10u);
        ChildResult r;
        run_child_test(t, c, &r);
        char msg[1024];
        for (char *q = r.detail; *q; q++)
            if (*q == '\n' || *q == '\t' || *q == '\r') *q = ' ';
        int n = snprintf(msg, sizeof msg, "%d\t%s\n", (int)r.oc, r.detail);
        if (n > (int)sizeof msg - 1) n = (int)sizeof msg - 1;
        ssize_t w = write(p[1], msg, (size_t)n);
        (void)w;
        _exit(0);
    }
    setpgid(pid, pid); /* also here, so that the group exists before any kill */
    close(p[1]);
    fcntl(p[0], F_SETFL, O_NONBLOCK);
    s->pid = pid;
    s->fd = p[0];
    s->test = ti;
    s->start = now_secs();
    s->killed = 0;
}

/* Collects the result of a finished child. */
static void finish(Slot *s, Test *t, int status) {
    char buf[1100];
    ssize_t n = read(s->fd, buf, sizeof buf - 1);
    close(s->fd);
    buf[n > 0 ? n : 0] = 0;
    t->secs = now_secs() - s->start;
    /* Clean up whatever a killed or crashed child left running (e.g. a linker process). */
    if (s->killed || WIFSIGNALED(status)) kill(-s->pid, SIGKILL);
    if (s->killed || (WIFSIGNALED(status) && (WTERMSIG(status) == SIGALRM ||
                                                  WTERMSIG(status) == SIGXCPU))) {
        t->outcome = OC_TIMEOUT;
        t->detail = xstrdup("time limit exceeded");
    } else if (WIFSIGNALED(status)) {
        char d[64];
        snprintf(d, sizeof d, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        t->outcome = OC_CRASH;
        t->detail = xstrdup(d);
    } else if (n <= 0) {
        char d[64];
        snprintf(d, sizeof d, "exited with status %d without a result",
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        t->outcome = OC_CRASH;
        t->detail = xstrdup(d);
    } else {
        int oc = atoi(buf);
        char *tab = strchr(buf, '\t');
        char *detail = tab ? tab + 1 : buf;
        detail[strcspn(detail, "\n")] = 0;
        t->outcome = oc >= 0 && oc < OC_COUNT ? (Outcome)oc : OC_CRASH;
        t->detail = xstrdup(detail);
    }
    t->ran = 1;
    s->pid = 0;
}

static void run_all(TestList *l, int *sel, int nsel, const Config *c) {
    Slot *slots = calloc((size_t)c->jobs, sizeof *slots);
    if (!slots) exit(2);
    int next = 0, done = 0, running = 0;
    double t0 = now_secs();
    while (done < nsel) {
        if (g_stop) { /* interrupted: end the running children and stop */
            for (int j = 0; j < c->jobs; j++)
                if (slots[j].pid) {
                    kill(-slots[j].pid, SIGKILL);
                    kill(slots[j].pid, SIGKILL);
                    waitpid(slots[j].pid, NULL, 0);
                    close(slots[j].fd);
                    slots[j].pid = 0;
                }
            break;
        }
        for (int j = 0; j < c->jobs && next < nsel; j++) {
            if (slots[j].pid) continue;
            Test *t = &l->v[sel[next]];
            spawn(&slots[j], sel[next], t, c);
            next++;
            if (!slots[j].pid) { /* could not start: already has its outcome */
                t->ran = 1;
                done++;
                continue;
            }
            running++;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
        for (int j = 0; j < c->jobs; j++) {
            Slot *s = &slots[j];
            if (!s->pid) continue;
            int status = 0;
            pid_t r = waitpid(s->pid, &status, WNOHANG);
            if (r == 0) {
                if (!s->killed && now_secs() - s->start > c->timeout * 10.0 + 5.0) {
                    s->killed = 1;
                    kill(-s->pid, SIGKILL);
                    kill(s->pid, SIGKILL);
                }
                continue;
            }
            Test *t = &l->v[s->test];
            finish(s, t, r < 0 ? 0 : status);
            running--;
            done++;
            if (c->verbose)
                printf("[%4d/%d] %-60s %-13s %6.2fs %s\n", done, nsel, t->name,
                       outcome_names[t->outcome], t->secs, t->detail ? t->detail : "");
            else if (done % 100 == 0 || done == nsel)
                fprintf(stderr, "onnxc_conformance: %d/%d tests done (%.0f s)\n", done, nsel,
                        now_secs() - t0);
        }
    }
    free(slots);
}

/* ------------------------------------------------------------------ output */

static void md_escape(FILE *f, const char *s) {
    for (; s && *s; s++) {
        if (*s == '|') fputs("\\|", f);
        else if (*s == '\n') fputc(' ', f);
        else fputc(*s, f);
    }
}

static int write_report(const char *path, const TestList *l, const int *sel, int nsel) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int counts[OC_COUNT] = {0};
    for (int i = 0; i < nsel; i++) counts[l->v[sel[i]].outcome]++;
    fprintf(f, "# onnxc conformance report\n\n");
    for (int o = 0; o < OC_COUNT; o++) fprintf(f, "- %s: %d\n", outcome_names[o], counts[o]);
    fprintf(f, "\n| test | category | outcome | detail | seconds |\n|---|---|---|---|---|\n");
    for (int i = 0; i < nsel; i++) {
        const Test *t = &l->v[sel[i]];
        const char *bare = strchr(t->name, '/');
        fprintf(f, "| %s | %s | %s | ", bare ? bare + 1 : t->name, t->category,
                outcome_names[t->outcome]);
        md_escape(f, t->detail);
        fprintf(f, " | %.2f |\n", t->secs);
    }
    return fclose(f);
}

typedef struct OpCount {
    const char *op; /* operator name (borrowed) */
    int n;          /* tests it blocks */
} OpCount;

static int cmp_opcount(const void *a, const void *b) {
    const OpCount *x = a, *y = b;
    if (x->n != y->n) return y->n - x->n;
    return strcmp(x->op, y->op);
}

static void usage(FILE *f) {
    fprintf(f,
            "usage: onnxc_conformance [--data DIR] [--jobs N] [--timeout S] [--filter SUBSTRING]\n"
            "         [--list FILE] [--report FILE] [--expected FILE] [--write-expected FILE]\n"
            "         [--tolerances FILE] [--rtol R] [--atol A] [-O0..-O3] [-v]\n"
            "Runs the ONNX backend tests (default data: $ONNXC_BACKEND_TESTS or\n"
            "%s/../shared/onnx-backend-tests).\n",
            ONNXC_SOURCE_DIR);
}

int main(int argc, char **argv) {
    Config c;
    memset(&c, 0, sizeof c);
    c.jobs = 2;
    c.timeout = 60;
    c.rtol = 1e-3;
    c.atol = 1e-7;
    c.opt_level = 2;
    c.tolerances = ONNXC_SOURCE_DIR "/tests/conformance_tolerances.txt";
    c.data = getenv("ONNXC_BACKEND_TESTS");
    if (!c.data || !*c.data) c.data = ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(flag) (strcmp(a, flag) == 0 && v && (i++, 1))
        if (TAKE("--data")) c.data = v;
        else if (TAKE("--jobs")) c.jobs = atoi(v);
        else if (TAKE("--timeout")) c.timeout = atoi(v);
        else if (TAKE("--filter")) c.filter = v;
        else if (TAKE("--list")) c.list = v;
        else if (TAKE("--report")) c.report = v;
        else if (TAKE("--expected")) c.expected = v;
        else if (TAKE("--write-expected")) c.write_expected = v;
        else if (TAKE("--tolerances")) c.tolerances = v;
        else if (TAKE("--rtol")) c.rtol = atof(v);
        else if (TAKE("--atol")) c.atol = atof(v);
        else if (strlen(a) == 3 && a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3')
            c.opt_level = a[2] - '0';
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) c.verbose = 1;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "onnxc_conformance: unknown or incomplete option '%s'\n", a);
            usage(stderr);
            return 2;
        }
#undef TAKE
    }
    if (c.jobs < 1) c.jobs = 1;
    if (c.jobs > 64) c.jobs = 64;
    if (c.timeout < 1) c.timeout = 1;
    if (!is_dir(c.data)) {
        printf("backend test data not found at %s; conformance skipped\n", c.data);
        return 0;
    }

    TestList l = {0};
    discover(&c, &l);
    for (int i = 0; i < l.n; i++) {
        l.v[i].rtol = c.rtol;
        l.v[i].atol = c.atol;
    }
    apply_tolerances(c.tolerances, &l);
    NameSet only = {0}, expected = {0};
    if (c.list && nameset_read(&only, c.list) != 0) {
        fprintf(stderr, "onnxc_conformance: cannot read --list %s\n", c.list);
        return 2;
    }
    if (c.expected && nameset_read(&expected, c.expected) != 0) {
        fprintf(stderr, "onnxc_conformance: cannot read --expected %s\n", c.expected);
        return 2;
    }
    int *sel = malloc(sizeof(int) * (size_t)(l.n + 1));
    int nsel = 0;
    for (int i = 0; i < l.n; i++) {
        if (c.filter && !strstr(l.v[i].name, c.filter)) continue;
        if (c.list && !nameset_has(&only, &l.v[i])) continue;
        sel[nsel++] = i;
    }
    printf("onnxc_conformance: %d of %d tests from %s, %d job(s), %d s limit\n", nsel, l.n,
           c.data, c.jobs, c.timeout);
    fflush(stdout);

    const char *tb = getenv("TMPDIR");
    snprintf(c.tmpbase, sizeof c.tmpbase, "%s/onnxc-conf-XXXXXX", tb && *tb ? tb : "/tmp");
    if (!mkdtemp(c.tmpbase)) {
        fprintf(stderr, "onnxc_conformance: cannot create %s: %s\n", c.tmpbase, strerror(errno));
        return 2;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    double t0 = now_secs();
    run_all(&l, sel, nsel, &c);
    double total = now_secs() - t0;
    nftw(c.tmpbase, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (g_stop) { /* summarise the tests that finished */
        int k = 0;
        for (int i = 0; i < nsel; i++)
            if (l.v[sel[i]].ran) sel[k++] = sel[i];
        printf("onnxc_conformance: interrupted after %d of %d tests; partial results follow\n",
               k, nsel);
        nsel = k;
    }

    /* Summary by outcome, then the operators that block most tests. */
    int counts[OC_COUNT] = {0};
    for (int i = 0; i < nsel; i++) counts[l.v[sel[i]].outcome]++;
    printf("\nsummary (%.0f s):\n", total);
    for (int o = 0; o < OC_COUNT; o++) printf("  %-14s %5d\n", outcome_names[o], counts[o]);
    OpCount *ops = calloc((size_t)nsel + 1, sizeof *ops);
    int nops = 0;
    for (int i = 0; ops && i < nsel; i++) {
        const Test *t = &l.v[sel[i]];
        if (t->outcome != OC_UNSUPPORTED || !t->detail) continue;
        int k = 0;
        while (k < nops && strcmp(ops[k].op, t->detail) != 0) k++;
        if (k == nops) ops[nops++].op = t->detail;
        ops[k].n++;
    }
    if (nops) {
        qsort(ops, (size_t)nops, sizeof *ops, cmp_opcount);
        printf("unsupported operators (tests blocked):");
        for (int k = 0; k < nops && k < 25; k++) printf("%s %s (%d)", k ? "," : "", ops[k].op, ops[k].n);
        printf("%s\n", nops > 25 ? ", ..." : "");
    }
    free(ops);
    if (counts[OC_SKIPPED]) {
        printf("skipped:\n");
        for (int i = 0; i < nsel; i++)
            if (l.v[sel[i]].outcome == OC_SKIPPED)
                printf("  %s: %s\n", l.v[sel[i]].name, l.v[sel[i]].detail);
    }
    int rc = 0;
    if (c.report) {
        if (write_report(c.report, &l, sel, nsel) != 0) {
            fprintf(stderr, "onnxc_conformance: cannot write %s\n", c.report);
            rc = 2;
        } else {
            printf("report written to %s\n", c.report);
        }
    }
    if (c.write_expected) {
        FILE *f = fopen(c.write_expected, "w");
        if (!f) {
            fprintf(stderr, "onnxc_conformance: cannot write %s\n", c.write_expected);
            rc = 2;
        } else {
            fprintf(f, "# Tests that pass (generated by onnxc_conformance --write-expected;\n"
                       "# scripts/update_expected.sh). scripts/test.sh fails if one regresses.\n");
            for (int i = 0; i < nsel; i++)
                if (l.v[sel[i]].outcome == OC_PASSED) fprintf(f, "%s\n", l.v[sel[i]].name);
            if (fclose(f) != 0) rc = 2;
            else printf("passing tests written to %s\n", c.write_expected);
        }
    }
    if (c.expected) {
        int nreg = 0, nnew = 0;
        for (int i = 0; i < nsel; i++) {
            const Test *t = &l.v[sel[i]];
            int exp = nameset_has(&expected, t);
            if (exp && t->outcome != OC_PASSED) {
                if (!nreg) printf("REGRESSIONS (expected to pass):\n");
                printf("  %s: %s: %s\n", t->name, outcome_names[t->outcome],
                       t->detail ? t->detail : "");
                nreg++;
            } else if (!exp && t->outcome == OC_PASSED) {
                nnew++;
            }
        }
        for (int k = 0; k < expected.n; k++) {
            int found = 0;
            for (int i = 0; i < l.n && !found; i++) found = name_matches(expected.names[k], &l.v[i]);
            if (!found) printf("warning: expected test %s is not in the data\n", expected.names[k]);
        }
        if (nreg) {
            printf("%d regression(s) against %s\n", nreg, c.expected);
            rc = 1;
        } else {
            printf("no regressions against %s\n", c.expected);
        }
        if (nnew)
            printf("%d test(s) pass that are not in %s (scripts/update_expected.sh adds them)\n",
                   nnew, c.expected);
    }
    int failed = nsel - counts[OC_PASSED] - counts[OC_SKIPPED];
    printf("%d passed, %d failed", counts[OC_PASSED], failed);
    if (counts[OC_SKIPPED]) printf(", %d skipped", counts[OC_SKIPPED]);
    printf("\n");
    return g_stop ? 130 : rc;
}
