/* bench_run.c - time one onnxc-compiled model library, the peer of bench/ort_bench.js.
 *
 *   bench_run LIB.so INPUT.bin WARMUP RUNS [REF.bin]
 *
 * dlopens LIB.so (any onnxc output: the generic API of include/onnxc/onnxc_model.h), reads the
 * model's single float32 input from INPUT.bin (raw little-endian, its size must match the
 * model's static input shape), runs WARMUP untimed inferences and RUNS timed ones (one
 * onnxc_run each, CLOCK_MONOTONIC), and prints one line:
 *   onnxc median_ms=M p90_ms=P runs=N max_abs=A max_rel=R ref_max=F threads=T
 * max_abs/max_rel compare the first output with REF.bin (ORT's output, raw float32), max_rel as
 * max |y - ref| / max(|ref|, 1e-3) over the elements, ref_max = max |ref| (all -1 when no
 * REF.bin is given).
 * Threads: the library's default, ONNXC_NUM_THREADS in the environment (run.sh sets it and
 * OPENBLAS_NUM_THREADS), which gives each context a worker pool and sets OpenBLAS's threads
 * (docs/BACKEND.md, "Threads"); the line ends with threads=N, the context's count as
 * onnxc_get_num_threads reports it (1 for libraries older than that function).
 * Build: cc -O2 -I include bench/bench_run.c -o bench_run -ldl -lm
 */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onnxc/onnxc_model.h"

typedef const OnnxcModelInfo *(*InfoFn)(void);
typedef int (*CreateFn)(OnnxcContext **);
typedef void (*DestroyFn)(OnnxcContext *);
typedef int (*RunFn)(OnnxcContext *, const OnnxcTensor *, int32_t, OnnxcTensor *, int32_t);
typedef const char *(*ErrFn)(const OnnxcContext *);
typedef int (*GetThreadsFn)(const OnnxcContext *);

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double quantile(const double *sorted, long n, double q)
{
    long i = (long)ceil(q * (double)n) - 1;
    if (i < 0) i = 0;
    if (i >= n) i = n - 1;
    return sorted[i];
}

static void *read_file(const char *path, long *size)
{
    FILE *f = fopen(path, "rb");
    void *buf = NULL;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *size = n;
    return buf;
}

static long elem_count(const OnnxcTensorInfo *t)
{
    long n = 1;
    for (int32_t d = 0; d < t->rank; d++) {
        if (t->dims[d] < 0) return -1;
        n *= (long)t->dims[d];
    }
    return n;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: bench_run LIB.so INPUT.bin WARMUP RUNS [REF.bin]\n");
        return 2;
    }
    long warm = atol(argv[3]), runs = atol(argv[4]);
    if (runs < 1 || warm < 0) {
        fprintf(stderr, "bench_run: bad WARMUP/RUNS\n");
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "bench_run: %s\n", dlerror());
        return 1;
    }
    InfoFn info_fn = (InfoFn)dlsym(lib, "onnxc_model_info");
    CreateFn create = (CreateFn)dlsym(lib, "onnxc_context_create");
    DestroyFn destroy = (DestroyFn)dlsym(lib, "onnxc_context_destroy");
    RunFn run = (RunFn)dlsym(lib, "onnxc_run");
    ErrFn err = (ErrFn)dlsym(lib, "onnxc_context_error");
    if (!info_fn || !create || !destroy || !run || !err) {
        fprintf(stderr, "bench_run: %s lacks the onnxc API\n", argv[1]);
        return 1;
    }
    const OnnxcModelInfo *info = info_fn();
    if (info->num_inputs != 1 || info->num_outputs < 1 || info->inputs[0].dtype != 1 ||
        info->outputs[0].dtype != 1) {
        fprintf(stderr, "bench_run: expects one float32 input and float32 outputs\n");
        return 1;
    }
    long nin = elem_count(&info->inputs[0]), insize = 0;
    float *in = read_file(argv[2], &insize);
    if (!in || nin < 0 || insize != nin * 4) {
        fprintf(stderr, "bench_run: %s: %ld bytes, the model's input needs %ld\n", argv[2], insize,
                nin * 4);
        return 1;
    }
    OnnxcTensor tin = {in, 1, info->inputs[0].rank, info->inputs[0].dims};
    int32_t nout = info->num_outputs;
    OnnxcTensor *tout = calloc((size_t)nout, sizeof *tout);
    if (!tout) return 1;
    for (int32_t o = 0; o < nout; o++) {
        long n = elem_count(&info->outputs[o]);
        if (n < 0 || info->outputs[o].dtype != 1) {
            fprintf(stderr, "bench_run: output %d is not a static float32 tensor\n", (int)o);
            return 1;
        }
        tout[o].data = calloc((size_t)(n > 0 ? n : 1), 4);
        tout[o].dtype = 1;
        tout[o].rank = info->outputs[o].rank;
        tout[o].dims = info->outputs[o].dims;
        if (!tout[o].data) return 1;
    }
    OnnxcContext *ctx = NULL;
    if (create(&ctx) != ONNXC_OK) {
        fprintf(stderr, "bench_run: context creation failed: %s\n", err(NULL));
        return 1;
    }
    double *t = malloc((size_t)runs * sizeof *t);
    if (!t) return 1;
    for (long i = 0; i < warm + runs; i++) {
        double t0 = now_ms();
        int rc = run(ctx, &tin, 1, tout, nout);
        double t1 = now_ms();
        if (rc != ONNXC_OK) {
            fprintf(stderr, "bench_run: onnxc_run: status %d: %s\n", rc, err(ctx));
            return 1;
        }
        if (i >= warm) t[i - warm] = t1 - t0;
    }
    qsort(t, (size_t)runs, sizeof *t, cmp_double);
    double max_abs = -1, max_rel = -1, ref_max = -1;
    if (argc == 6) {
        long refsize = 0, nref = elem_count(&info->outputs[0]);
        float *ref = read_file(argv[5], &refsize);
        if (!ref || refsize != nref * 4) {
            fprintf(stderr, "bench_run: %s: %ld bytes, output 0 has %ld\n", argv[5], refsize,
                    nref * 4);
            return 1;
        }
        const float *y = tout[0].data;
        max_abs = max_rel = ref_max = 0;
        for (long i = 0; i < nref; i++) {
            double d = fabs((double)y[i] - (double)ref[i]);
            double r = d / fmax(fabs((double)ref[i]), 1e-3);
            if (!(d <= max_abs)) max_abs = d; /* NaN propagates */
            if (!(r <= max_rel)) max_rel = r;
            if (fabs((double)ref[i]) > ref_max) ref_max = fabs((double)ref[i]);
        }
        free(ref);
    }
    GetThreadsFn get_threads = (GetThreadsFn)dlsym(lib, "onnxc_get_num_threads");
    printf("onnxc median_ms=%.4f p90_ms=%.4f runs=%ld max_abs=%.3g max_rel=%.3g ref_max=%.3g "
           "threads=%d\n",
           quantile(t, runs, 0.5), quantile(t, runs, 0.9), runs, max_abs, max_rel, ref_max,
           get_threads ? get_threads(ctx) : 1);
    destroy(ctx);
    for (int32_t o = 0; o < nout; o++) free(tout[o].data);
    free(tout);
    free(t);
    free(in);
    dlclose(lib);
    return 0;
}
