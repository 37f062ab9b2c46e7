/* test_util.h - helpers shared by the operator tests (tests/test_ops_*.c): kernel calls on
 * hand-made tensors, and the runner of the official ONNX backend node tests of a family (load,
 * infer, lower, run every node through its kernel, compare with output_K.pb).
 * Header-only (static inline); include it after <cmocka.h> and the project headers below.
 */
#ifndef ONNXC_TEST_UTIL_H
#define ONNXC_TEST_UTIL_H

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_convert.h"

/* An RtTensor view of data (not copied). */
static inline RtTensor tn(const void *data, int32_t dtype, int32_t rank, const int64_t *dims) {
    RtTensor t = {(void *)data, dims, rank, dtype};
    return t;
}

/* An absent optional input/output. */
static const RtTensor absent __attribute__((unused)) = {NULL, NULL, -1, 0};

/* Runs kernel `name`; returns its status (message printed on failure). */
static inline int run_k(const char *name, const void *p, const RtTensor *in, int nin,
                        RtTensor *out, int nout) {
    RtKernelFn f = rt_kernel_find(name);
    assert_non_null(f);
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int st = f(&ctx, p, in, nin, out, nout);
    if (st)
        print_message("%s: %s\n", name, ctx.errmsg);
    return st;
}

/* Root of the ONNX backend test data (ONNXC_BACKEND_TESTS overrides
 * ../shared/onnx-backend-tests next to the source tree). */
static inline const char *tu_backend_root(void) {
    const char *e = getenv("ONNXC_BACKEND_TESTS");
    return e && *e ? e : ONNXC_SOURCE_DIR "/../shared/onnx-backend-tests";
}

/* 1 if got matches want (the family's tolerance), else 0 with the reason in why. */
typedef int (*TuMatchFn)(const IrTensor *got, const IrTensor *want, char *why, size_t cap);

/* The usual TuMatchFn: same element type, rank and element count; float, double, float16 and
 * bfloat16 within |g - w| <= 1e-7 + rtol |w| (rtol 1e-3, 8e-3 for float16/bfloat16; NaN equals
 * NaN), every other type byte for byte. */
static inline int tu_tensors_close(const IrTensor *got, const IrTensor *want, char *why,
                                   size_t cap) {
    if (got->dtype != want->dtype || got->rank != want->rank || got->numel != want->numel) {
        snprintf(why, cap, "type/shape differ (%s rank %d vs %s rank %d)",
                 ir_dtype_name(got->dtype), got->rank, ir_dtype_name(want->dtype), want->rank);
        return 0;
    }
    int dt = got->dtype;
    if (dt != IR_DT_FLOAT && dt != IR_DT_DOUBLE && dt != IR_DT_FLOAT16 && dt != IR_DT_BFLOAT16) {
        size_t es = ir_dtype_size(got->dtype);
        for (int64_t i = 0; i < got->numel; i++)
            if (memcmp((const char *)got->data + i * es, (const char *)want->data + i * es, es)) {
                snprintf(why, cap, "element %lld differs", (long long)i);
                return 0;
            }
        return 1;
    }
    double rtol = dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16 ? 8e-3 : 1e-3;
    for (int64_t i = 0; i < got->numel; i++) {
        double g = rt_load_f64_at(got->data, dt, i), w = rt_load_f64_at(want->data, dt, i);
        if ((isnan(g) && isnan(w)) || g == w)
            continue;
        if (!(fabs(g - w) <= 1e-7 + rtol * fabs(w))) {
            snprintf(why, cap, "element %lld: got %.9g, want %.9g", (long long)i, g, w);
            return 0;
        }
    }
    return 1;
}

/* Loads, infers and lowers one test model (dir/name/model.onnx) and runs its nodes through
 * their kernels on every data set, comparing the outputs with `match`. Returns 1 on a pass, 0
 * with the reason in why. */
static inline int tu_run_node_test(const char *dir, const char *name, TuMatchFn match, char *why,
                                   size_t cap) {
    enum { MAXIN = 16, MAXOUT = 8 };
    char path[1200];
    IrDiag d;
    ir_diag_init(&d, name);
    snprintf(path, sizeof path, "%s/%s/model.onnx", dir, name);
    IrModel *m = fe_load_model(path, NULL, &d);
    if (!m) {
        snprintf(why, cap, "load: %s", ir_diag_last(&d));
        ir_diag_free(&d);
        return 0;
    }
    IrGraph *g = m->graph;
    int ok = 0, bad = 0;
    if (pass_infer(g, &d) || pass_lower(g, &d)) {
        snprintf(why, cap, "%s", ir_diag_last(&d));
        goto done;
    }
    for (int set = 0; !bad; set++) {
        struct stat sb;
        snprintf(path, sizeof path, "%s/%s/test_data_set_%d", dir, name, set);
        if (stat(path, &sb) != 0)
            break;
        IrTensor **vals = calloc((size_t)g->nvalues + 1, sizeof *vals);
        assert_non_null(vals);
        for (int i = 0; i < g->nvalues; i++)
            vals[i] = g->values[i]->init;
        for (int i = 0, k = 0; i < g->ninputs && !bad; i++) {
            IrValue *v = g->inputs[i];
            if (v->init)
                continue;
            snprintf(path, sizeof path, "%s/%s/test_data_set_%d/input_%d.pb", dir, name, set, k++);
            if (!(vals[v->id] = fe_read_tensor_pb(g->arena, path, &d))) {
                snprintf(why, cap, "input: %s", ir_diag_last(&d));
                bad = 1;
            }
        }
        for (IrNode *n = g->first; n && !bad; n = n->next) {
            RtTensor in[MAXIN], out[MAXOUT];
            if (!n->kernel || n->nin > MAXIN || n->nout > MAXOUT) {
                snprintf(why, cap, "node %s has no kernel", n->op_type);
                bad = 1;
                break;
            }
            for (int i = 0; i < n->nin; i++) {
                IrTensor *t = n->in[i] ? vals[n->in[i]->id] : NULL;
                in[i] = t ? tn(t->data, t->dtype, t->rank, t->dims) : absent;
            }
            for (int i = 0; i < n->nout; i++) {
                IrValue *v = n->out[i];
                out[i] = absent;
                if (!v)
                    continue;
                int64_t dims[IR_MAX_RANK];
                for (int j = 0; j < v->type.rank; j++)
                    dims[j] = v->type.dims[j].value;
                IrTensor *t = ir_tensor_new(g->arena, v->type.dtype, v->type.rank, dims);
                assert_non_null(t);
                vals[v->id] = t;
                out[i] = tn(t->data, t->dtype, t->rank, t->dims);
            }
            RtCtx ctx;
            rt_ctx_init(&ctx);
            RtKernelFn fn = rt_kernel_find(n->kernel);
            if (!fn || fn(&ctx, n->params, in, n->nin, out, n->nout) != 0) {
                snprintf(why, cap, "kernel %s: %s", n->kernel, fn ? ctx.errmsg : "not found");
                bad = 1;
            }
        }
        for (int i = 0; i < g->noutputs && !bad; i++) {
            snprintf(path, sizeof path, "%s/%s/test_data_set_%d/output_%d.pb", dir, name, set, i);
            IrTensor *want = fe_read_tensor_pb(g->arena, path, &d), *got = vals[g->outputs[i]->id];
            if (!want || !got) {
                snprintf(why, cap, "output %d: %s", i, want ? "not computed" : ir_diag_last(&d));
                bad = 1;
            } else if (!match(got, want, why, cap)) {
                bad = 1;
            }
        }
        free(vals);
    }
    ok = !bad;
done:
    ir_model_destroy(m);
    ir_diag_free(&d);
    return ok;
}

static inline int tu_cmp_names(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Runs, in name order, the backend node tests that `selected` accepts through tu_run_node_test;
 * a failure that `known` (may be NULL) accepts is printed as a known failure and not counted.
 * Prints "<label> family backend node tests: P of N pass" and sets *count (N) and *pass (P).
 * Returns the number of unexpected failures; skips the test when the data is absent. */
static inline int tu_run_node_tests(const char *label, int (*selected)(const char *),
                                    int (*known)(const char *), TuMatchFn match, int *count,
                                    int *pass) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/node", tu_backend_root());
    *count = *pass = 0;
    DIR *dp = opendir(dir);
    if (!dp) {
        print_message("skipped: no ONNX backend test data at %s (set ONNXC_BACKEND_TESTS)\n", dir);
        skip();
        return 0;
    }
    char **names = NULL;
    int n = 0, cap = 0, unexpected = 0;
    struct dirent *e;
    while ((e = readdir(dp)))
        if (selected(e->d_name)) {
            if (n == cap) {
                cap = cap ? 2 * cap : 256;
                names = realloc(names, (size_t)cap * sizeof *names);
                assert_non_null(names);
            }
            names[n] = strdup(e->d_name);
            assert_non_null(names[n]);
            n++;
        }
    closedir(dp);
    if (n)
        qsort(names, (size_t)n, sizeof names[0], tu_cmp_names);
    for (int i = 0; i < n; i++) {
        char why[600] = "";
        if (tu_run_node_test(dir, names[i], match, why, sizeof why)) {
            (*pass)++;
        } else if (known && known(names[i])) {
            print_message("  known failure %s: %s\n", names[i], why);
        } else {
            unexpected++;
            print_message("  FAIL %s: %s\n", names[i], why);
        }
        free(names[i]);
    }
    free(names);
    *count = n;
    print_message("%s family backend node tests: %d of %d pass\n", label, *pass, n);
    return unexpected;
}

#endif
