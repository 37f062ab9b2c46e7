/* test_mutated.c - every backend test model, mutated, through the loader and onnxc_prepare
 * (docs/HARDENING.md, "malformed inputs").
 *
 * For each model.onnx (and every .onnx file of light/) of the ONNX backend test data (env ONNXC_BACKEND_TESTS,
 * default ../shared/onnx-backend-tests; skipped when absent) the test makes mutated copies:
 *  - bytes: truncated at 1/8 .. 7/8 of the length and at length-1; 6 single random byte
 *    changes; 2 bursts of 4 random byte changes;
 *  - wire level: the first and last top-level fields swapped; the graph field repeated (protobuf
 *    merges repeated message fields, so node lists double);
 *  - parsed and re-packed (protobuf-c): first graph input's first dimension set to 2^62,
 *    INT64_MAX, -3 and 2^31; first initializer's first dim set to 2^62 and every dim to 2^21
 *    (product overflows); first initializer's data_type changed; first and last nodes swapped;
 *    first node's input 0 and output 0 swapped (a cycle); first node's input 0 renamed to an
 *    undefined value; opset version 1 and 10000.
 * Each copy goes through fe_load_model_buffer and, when it loads, onnxc_prepare (-O2, no LLVM).
 * Checked: no crash or sanitizer report (the sanitizer build of scripts/test.sh runs this test),
 * the error contract (a result iff no error), no case slower than 10 s (a hang). Counts are
 * printed. ONNXC_MUTATED_STRIDE=k keeps every k-th model only (default 1: all of them).
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
#include <time.h>

#include <cmocka.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "onnxpb/onnx.pb-c.h"
#include "passes/pass.h"

typedef struct Counts {
    long models, cases, load_ok, load_err, prep_ok, prep_err;
    double max_s;        /* slowest case */
    char max_what[512];  /* which one */
} Counts;

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Loads and prepares one mutated copy; checks the error contract; counts. */
static void run_case(Counts *c, const void *buf, size_t len, const char *model, const char *what) {
    double t0 = now_s();
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(buf, len, "mutated.onnx", NULL, NULL, &d);
    c->cases++;
    if (!m) {
        if (d.nerrors == 0)
            fail_msg("%s (%s): load failed without an error", model, what);
        c->load_err++;
    } else {
        if (d.nerrors)
            fail_msg("%s (%s): model returned with errors", model, what);
        c->load_ok++;
        OnnxcCompileOptions o;
        onnxc_options_default(&o);
        if (onnxc_prepare(m, &o, &d) == 0) {
            if (d.nerrors)
                fail_msg("%s (%s): prepare succeeded with errors", model, what);
            c->prep_ok++;
        } else {
            if (d.nerrors == 0)
                fail_msg("%s (%s): prepare failed without an error", model, what);
            c->prep_err++;
        }
    }
    ir_model_destroy(m);
    ir_diag_free(&d);
    double dt = now_s() - t0;
    if (dt > c->max_s) {
        c->max_s = dt;
        snprintf(c->max_what, sizeof c->max_what, "%s (%s)", model, what);
    }
    if (dt > 10.0)
        fail_msg("%s (%s): %.1f s, a hang?", model, what, dt);
}

/* ---------------------------------------------------------------- wire-level edits */

static int rd_varint(const uint8_t *b, size_t n, size_t *i, uint64_t *v) {
    uint64_t r = 0;
    for (int s = 0; s < 64 && *i < n; s += 7) {
        uint8_t x = b[(*i)++];
        r |= (uint64_t)(x & 0x7f) << s;
        if (!(x & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Splits b into top-level fields: starts[k]..starts[k+1]; returns the count or -1. */
static int split_fields(const uint8_t *b, size_t n, size_t *starts, int cap, int *graph_idx) {
    size_t i = 0;
    int k = 0;
    *graph_idx = -1;
    while (i < n && k < cap - 1) {
        starts[k] = i;
        uint64_t key, v;
        if (rd_varint(b, n, &i, &key))
            return -1;
        switch (key & 7) {
        case 0: if (rd_varint(b, n, &i, &v)) return -1; break;
        case 1: i += 8; break;
        case 2:
            if (rd_varint(b, n, &i, &v) || v > n - i)
                return -1;
            i += v;
            break;
        case 5: i += 4; break;
        default: return -1;
        }
        if (i > n)
            return -1;
        if ((key >> 3) == 7)
            *graph_idx = k;
        k++;
    }
    starts[k] = n;
    return k;
}

static void wire_cases(Counts *c, const uint8_t *b, size_t n, const char *model) {
    size_t st[257];
    int gi;
    int k = split_fields(b, n, st, 257, &gi);
    if (k < 2)
        return;
    uint8_t *o = malloc(2 * n + 1);
    assert_non_null(o);
    /* swap first and last field */
    size_t l0 = st[1] - st[0], ll = st[k] - st[k - 1], mid = st[k - 1] - st[1];
    memcpy(o, b + st[k - 1], ll);
    memcpy(o + ll, b + st[1], mid);
    memcpy(o + ll + mid, b, l0);
    run_case(c, o, n, model, "first/last fields swapped");
    if (gi >= 0) { /* graph field twice */
        size_t gl = st[gi + 1] - st[gi];
        memcpy(o, b, n);
        memcpy(o + n, b + st[gi], gl);
        run_case(c, o, n + gl, model, "graph field repeated");
    }
    free(o);
}

/* ---------------------------------------------------------------- structured edits */

enum {
    S_IN_DIM_2P62, S_IN_DIM_MAX, S_IN_DIM_NEG, S_IN_DIM_2P31, S_INIT_DIM_2P62, S_INIT_DIMS_OVF,
    S_INIT_DTYPE, S_SWAP_NODES, S_SWAP_IO, S_UNDEF_INPUT, S_OPSET_1, S_OPSET_HUGE, S_COUNT
};
static const char *s_name[S_COUNT] = {
    "input dim 2^62", "input dim INT64_MAX", "input dim -3", "input dim 2^31",
    "initializer dim 2^62", "initializer dims 2^21 each", "initializer data_type changed",
    "first/last nodes swapped", "node input/output swapped", "node input undefined",
    "opset 1", "opset 10000",
};

/* Applies edit s to mp; returns 0 if it does not apply to this model. `undo` keeps what must be
 * put back before free_unpacked (pointers we replaced). */
static int apply_edit(Onnx__ModelProto *mp, int s, char **undo_slot, char **undo_val) {
    Onnx__GraphProto *g = mp->graph;
    *undo_slot = NULL;
    if (!g)
        return 0;
    Onnx__TensorShapeProto__Dimension *dim = NULL;
    if (g->n_input && g->input[0]->type && g->input[0]->type->value_case ==
                                               ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        Onnx__TypeProto__Tensor *tt = g->input[0]->type->tensor_type;
        if (tt && tt->shape && tt->shape->n_dim)
            dim = tt->shape->dim[0];
    }
    Onnx__TensorProto *init = g->n_initializer ? g->initializer[0] : NULL;
    static const int64_t in_vals[4] = {(int64_t)1 << 62, INT64_MAX, -3, (int64_t)1 << 31};
    switch (s) {
    case S_IN_DIM_2P62: case S_IN_DIM_MAX: case S_IN_DIM_NEG: case S_IN_DIM_2P31:
        if (!dim || dim->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM)
            return 0; /* dim_param: replacing the union member would leak its string */
        dim->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
        dim->dim_value = in_vals[s - S_IN_DIM_2P62];
        return 1;
    case S_INIT_DIM_2P62:
        if (!init || !init->n_dims)
            return 0;
        init->dims[0] = (int64_t)1 << 62;
        return 1;
    case S_INIT_DIMS_OVF:
        if (!init || !init->n_dims)
            return 0;
        for (size_t i = 0; i < init->n_dims; i++)
            init->dims[i] = (int64_t)1 << 21;
        return 1;
    case S_INIT_DTYPE:
        if (!init)
            return 0;
        init->has_data_type = 1;
        init->data_type = init->data_type == 11 ? 1 : 11; /* float <-> double */
        return 1;
    case S_SWAP_NODES: {
        if (g->n_node < 2)
            return 0;
        Onnx__NodeProto *t = g->node[0];
        g->node[0] = g->node[g->n_node - 1];
        g->node[g->n_node - 1] = t;
        return 1;
    }
    case S_SWAP_IO: {
        if (!g->n_node || !g->node[0]->n_input || !g->node[0]->n_output)
            return 0;
        char *t = g->node[0]->input[0];
        g->node[0]->input[0] = g->node[0]->output[0];
        g->node[0]->output[0] = t;
        return 1;
    }
    case S_UNDEF_INPUT:
        if (!g->n_node || !g->node[0]->n_input)
            return 0;
        *undo_slot = (char *)&g->node[0]->input[0];
        *undo_val = g->node[0]->input[0];
        g->node[0]->input[0] = "no_such_value_anywhere";
        return 1;
    case S_OPSET_1: case S_OPSET_HUGE:
        if (!mp->n_opset_import)
            return 0;
        for (size_t i = 0; i < mp->n_opset_import; i++) {
            mp->opset_import[i]->has_version = 1;
            mp->opset_import[i]->version = s == S_OPSET_1 ? 1 : 10000;
        }
        return 1;
    }
    return 0;
}

static void struct_cases(Counts *c, const uint8_t *b, size_t n, const char *model) {
    for (int s = 0; s < S_COUNT; s++) {
        Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, n, b);
        if (!mp)
            return;
        char *slot, *val = NULL;
        if (apply_edit(mp, s, &slot, &val)) {
            size_t sz = onnx__model_proto__get_packed_size(mp);
            uint8_t *o = malloc(sz ? sz : 1);
            assert_non_null(o);
            onnx__model_proto__pack(mp, o);
            run_case(c, o, sz, model, s_name[s]);
            free(o);
        }
        if (slot)
            *(char **)slot = val;
        onnx__model_proto__free_unpacked(mp, NULL);
    }
}

/* ---------------------------------------------------------------- byte edits */

static void byte_cases(Counts *c, const uint8_t *b, size_t n, const char *model) {
    uint8_t *o = malloc(n ? n : 1);
    assert_non_null(o);
    char what[64];
    for (int k = 1; k <= 8; k++) {
        size_t at = k < 8 ? n * (size_t)k / 8 : (n ? n - 1 : 0);
        snprintf(what, sizeof what, "truncated at %zu of %zu", at, n);
        run_case(c, b, at, model, what);
    }
    if (!n) {
        free(o);
        return;
    }
    for (int k = 0; k < 8; k++) {
        memcpy(o, b, n);
        int edits = k < 6 ? 1 : 4;
        for (int e = 0; e < edits; e++)
            o[rnd() % n] = (uint8_t)rnd();
        snprintf(what, sizeof what, "%d random byte%s changed (#%d)", edits, edits > 1 ? "s" : "",
                 k);
        run_case(c, o, n, model, what);
    }
    free(o);
}

/* ---------------------------------------------------------------- walk */

static void one_model(Counts *c, const char *path) {
    void *buf = NULL;
    size_t len = 0;
    IrDiag d;
    ir_diag_init(&d, NULL);
    int rc = fe_read_file(path, 64 << 20, &buf, &len, &d);
    ir_diag_free(&d);
    if (rc)
        return;
    c->models++;
    byte_cases(c, buf, len, path);
    wire_cases(c, buf, len, path);
    struct_cases(c, buf, len, path);
    free(buf);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects model files under dir (depth <= 2) into a sorted list. */
static void collect(const char *dir, int depth, char ***list, size_t *n, size_t *cap) {
    DIR *dp = opendir(dir);
    if (!dp)
        return;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.')
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st))
            continue;
        size_t l = strlen(e->d_name);
        if (S_ISDIR(st.st_mode) && depth < 2 && strncmp(e->d_name, "test_data", 9) != 0) {
            collect(p, depth + 1, list, n, cap);
        } else if (S_ISREG(st.st_mode) && l > 5 && strcmp(e->d_name + l - 5, ".onnx") == 0) {
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 256;
                *list = realloc(*list, *cap * sizeof **list);
                assert_non_null(*list);
            }
            (*list)[(*n)++] = strdup(p);
        }
    }
    closedir(dp);
}

static void test_mutated_backend_models(void **state) {
    (void)state;
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    const char *root = e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
    char **list = NULL;
    size_t n = 0, cap = 0;
    collect(root, 0, &list, &n, &cap);
    if (!n) {
        print_message("SKIP: no models under %s (set ONNXC_BACKEND_TESTS)\n", root);
        skip();
    }
    qsort(list, n, sizeof *list, cmp_str);
    const char *se = getenv("ONNXC_MUTATED_STRIDE");
    long stride = se && atol(se) > 0 ? atol(se) : 1;
    Counts c = {0};
    double t0 = now_s();
    for (size_t i = 0; i < n; i += (size_t)stride)
        one_model(&c, list[i]);
    print_message("mutated: %ld of %zu models (stride %ld), %ld mutated copies: loaded %ld, load "
                  "errors %ld; prepared %ld, prepare errors %ld; 0 crashes; slowest case %.2f s "
                  "(%s); %.1f s in all\n",
                  c.models, n, stride, c.cases, c.load_ok, c.load_err, c.prep_ok, c.prep_err,
                  c.max_s, c.max_what, now_s() - t0);
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
    assert_true(c.models > 0);
    assert_true(c.load_err > 0 && c.prep_err > 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mutated_backend_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
