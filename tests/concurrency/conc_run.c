/* conc_run.c - runs a compiled model from several threads at once, each with its own context,
 * and checks that every run gives the same bytes as a single-threaded reference run
 * (docs/HARDENING.md, "concurrency"; the threading contract of include/onnxc/onnxc_model.h).
 *
 *   onnxc_conc_run LIB.so [THREADS=4] [ITERS=20] [--share]
 *
 * --share is the negative control: every thread uses ONE context (which the contract forbids),
 * so a ThreadSanitizer build must report a data race on the workspace (scripts/harden.sh checks
 * that it does, which shows that the instrumentation reaches the kernels).
 *
 * Uses only the generic API (onnxc_model_info, onnxc_context_create, onnxc_run, ...), so it
 * needs no generated header and links nothing of onnxc. Inputs are deterministic pseudo-random
 * values of each input's element type (float types in [-1, 1], integers in [0, 3], bool 0/1);
 * every input must have static dimensions. scripts/test.sh builds it with -fsanitize=thread
 * together with the runtime it links into the model, so ThreadSanitizer sees the kernels.
 * Exit status 0 when every thread agreed with the reference and TSan reported nothing.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc/onnxc_model.h"

typedef const OnnxcModelInfo *(*InfoFn)(void);
typedef int (*CreateFn)(OnnxcContext **);
typedef void (*DestroyFn)(OnnxcContext *);
typedef int (*RunFn)(OnnxcContext *, const OnnxcTensor *, int32_t, OnnxcTensor *, int32_t);
typedef const char *(*ErrFn)(const OnnxcContext *);

static InfoFn f_info;
static CreateFn f_create;
static DestroyFn f_destroy;
static RunFn f_run;
static ErrFn f_err;
static const OnnxcModelInfo *info;
static OnnxcTensor *inputs;    /* shared, read-only while threads run */
static void **ref_out;         /* reference outputs */
static size_t *out_bytes;      /* bytes of each output */
static int iters = 20;
static OnnxcContext *shared_ctx; /* --share: the one context every thread uses */

static size_t dtype_size(int dt) {
    switch (dt) {
    case 11: case 7: case 13: return 8;
    case 1: case 6: case 12: return 4;
    case 10: case 16: case 5: case 4: return 2;
    case 14: return 8;
    case 15: return 16;
    case 8: return 0; /* strings: not supported here */
    default: return 1;
    }
}

static int numel_of(const OnnxcTensorInfo *t, size_t *n) {
    size_t k = 1;
    for (int i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return -1;
        k *= (size_t)t->dims[i];
    }
    *n = k;
    return 0;
}

static void fill(void *p, int dt, size_t n, uint32_t seed) {
    uint32_t s = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        double u = (double)(s >> 8) / 16777216.0 * 2.0 - 1.0; /* [-1, 1) */
        unsigned small = (s >> 20) & 3;
        switch (dt) {
        case 1: ((float *)p)[i] = (float)u; break;
        case 11: ((double *)p)[i] = u; break;
        case 7: ((int64_t *)p)[i] = small; break;
        case 6: ((int32_t *)p)[i] = (int32_t)small; break;
        case 9: ((uint8_t *)p)[i] = (uint8_t)(small & 1); break;
        default: memset((char *)p + i * dtype_size(dt), (int)small, dtype_size(dt)); break;
        }
    }
}

/* Runs the model once on a fresh context into outs; returns 0 or -1 (message printed). */
static int run_once(void **outs, const char *who) {
    OnnxcContext *ctx = shared_ctx;
    int st = ctx ? 0 : f_create(&ctx);
    if (st) {
        fprintf(stderr, "%s: context_create failed: %d\n", who, st);
        return -1;
    }
    int rc = 0;
    for (int it = 0; it < iters && rc == 0; it++) {
        OnnxcTensor o[64];
        for (int k = 0; k < info->num_outputs; k++) {
            o[k].data = outs[k];
            o[k].dtype = info->outputs[k].dtype;
            o[k].rank = info->outputs[k].rank;
            o[k].dims = info->outputs[k].dims;
        }
        st = f_run(ctx, inputs, info->num_inputs, o, info->num_outputs);
        if (st) {
            fprintf(stderr, "%s: run failed: %s\n", who, f_err(ctx));
            rc = -1;
        }
        if (ref_out && outs != ref_out)
            for (int k = 0; k < info->num_outputs && rc == 0; k++)
                if (memcmp(outs[k], ref_out[k], out_bytes[k]) != 0) {
                    fprintf(stderr, "%s: iteration %d: output %d differs from the reference\n",
                            who, it, k);
                    rc = -1;
                }
    }
    if (ctx != shared_ctx)
        f_destroy(ctx);
    return rc;
}

static void *thread_main(void *arg) {
    long id = (long)(intptr_t)arg;
    char who[32];
    snprintf(who, sizeof who, "thread %ld", id);
    void *outs[64];
    int ok = 1;
    for (int k = 0; k < info->num_outputs; k++)
        outs[k] = calloc(out_bytes[k] ? out_bytes[k] : 1, 1);
    if (run_once(outs, who))
        ok = 0;
    for (int k = 0; k < info->num_outputs; k++)
        free(outs[k]);
    return ok ? (void *)1 : NULL;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s LIB.so [THREADS] [ITERS]\n", argv[0]);
        return 2;
    }
    int share = argc > 4 && strcmp(argv[4], "--share") == 0;
    int nthreads = argc > 2 ? atoi(argv[2]) : 4;
    if (argc > 3)
        iters = atoi(argv[3]);
    if (nthreads < 1 || nthreads > 64 || iters < 1)
        return 2;
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    f_info = (InfoFn)dlsym(h, "onnxc_model_info");
    f_create = (CreateFn)dlsym(h, "onnxc_context_create");
    f_destroy = (DestroyFn)dlsym(h, "onnxc_context_destroy");
    f_run = (RunFn)dlsym(h, "onnxc_run");
    f_err = (ErrFn)dlsym(h, "onnxc_context_error");
    if (!f_info || !f_create || !f_destroy || !f_run || !f_err) {
        fprintf(stderr, "%s: not an onnxc model library\n", argv[1]);
        return 1;
    }
    info = f_info();
    if (info->num_inputs > 64 || info->num_outputs > 64)
        return 1;
    inputs = calloc((size_t)info->num_inputs + 1, sizeof *inputs);
    for (int k = 0; k < info->num_inputs; k++) {
        const OnnxcTensorInfo *t = &info->inputs[k];
        size_t n;
        if (numel_of(t, &n) || dtype_size(t->dtype) == 0) {
            fprintf(stderr, "input '%s': symbolic dims or strings are not supported here\n",
                    t->name);
            return 1;
        }
        inputs[k].data = calloc(n * dtype_size(t->dtype) + 1, 1);
        fill(inputs[k].data, t->dtype, n, (uint32_t)k + 1);
        inputs[k].dtype = t->dtype;
        inputs[k].rank = t->rank;
        inputs[k].dims = t->dims;
    }
    out_bytes = calloc((size_t)info->num_outputs + 1, sizeof *out_bytes);
    void **ref = calloc((size_t)info->num_outputs + 1, sizeof *ref);
    for (int k = 0; k < info->num_outputs; k++) {
        size_t n;
        if (numel_of(&info->outputs[k], &n)) {
            fprintf(stderr, "output '%s': symbolic dims are not supported here\n",
                    info->outputs[k].name);
            return 1;
        }
        out_bytes[k] = n * dtype_size(info->outputs[k].dtype);
        ref[k] = calloc(out_bytes[k] + 1, 1);
    }
    int saved = iters;
    iters = 1;
    if (run_once(ref, "reference"))
        return 1;
    iters = saved;
    ref_out = ref;
    if (share && f_create(&shared_ctx))
        return 1;
    pthread_t th[64];
    for (long i = 0; i < nthreads; i++)
        if (pthread_create(&th[i], NULL, thread_main, (void *)(intptr_t)i)) {
            fprintf(stderr, "pthread_create failed\n");
            return 1;
        }
    int bad = 0;
    for (int i = 0; i < nthreads; i++) {
        void *r = NULL;
        pthread_join(th[i], &r);
        bad += r == NULL;
    }
    printf("conc_run: %s: %d threads x %d runs, %s: %s\n", info->name, nthreads, iters,
           share ? "ONE shared context" : "separate contexts",
           bad ? "MISMATCH" : "identical results");
    f_destroy(shared_ctx);
    for (int k = 0; k < info->num_inputs; k++)
        free(inputs[k].data);
    for (int k = 0; k < info->num_outputs; k++)
        free(ref[k]);
    free(ref);
    free(inputs);
    free(out_bytes);
    dlclose(h);
    return bad ? 1 : 0;
}
