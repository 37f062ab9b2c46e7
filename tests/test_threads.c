/* test_threads.c - the runtime worker pool (runtime/rt_threads.c) and the kernels that use it:
 * rt_parallel_for covers every item exactly once with valid worker indices; the 2-D fast paths
 * of runtime/rt_conv.c (depthwise Conv, im2col, MaxPool) give the same bytes with 1 and with 3
 * threads, agree with the direct reference Conv, and MaxPool's 2-D path agrees bit for bit
 * with its general loops (taken when Indices are requested). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"

/* ---------------------------------------------------------------- rt_parallel_for */

typedef struct Marks {
    unsigned char *hit;
    int bad_worker;
    int nthreads;
} Marks;

static void mark_range(void *arg, int64_t b, int64_t e, int worker) {
    Marks *m = arg;
    if (worker < 0 || worker >= m->nthreads) m->bad_worker = 1; /* benign: only ever set to 1 */
    for (int64_t i = b; i < e; i++) m->hit[i]++;
}

static void test_parallel_for_covers(void **state) {
    (void)state;
    RtCtx ctx;
    rt_ctx_init(&ctx);
    ctx.threads = rt_threads_new(3);
    assert_non_null(ctx.threads);
    assert_int_equal(rt_threads_count(ctx.threads), 3);
    assert_int_equal(rt_ctx_threads(&ctx), 3);
    int64_t sizes[] = {0, 1, 2, 7, 1000, 100003};
    int64_t costs[] = {1, 1000000};
    for (int rep = 0; rep < 20; rep++)
        for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
            for (size_t ci = 0; ci < 2; ci++) {
                int64_t n = sizes[si];
                Marks m = {calloc((size_t)n + 1, 1), 0, 3};
                assert_non_null(m.hit);
                rt_parallel_for(&ctx, n, costs[ci], mark_range, &m);
                for (int64_t i = 0; i < n; i++) assert_int_equal(m.hit[i], 1);
                assert_int_equal(m.bad_worker, 0);
                free(m.hit);
            }
    rt_threads_free(ctx.threads);
    /* without a pool: one call on the calling thread */
    rt_ctx_init(&ctx);
    assert_null(ctx.threads);
    assert_int_equal(rt_ctx_threads(&ctx), 1);
    assert_null(rt_threads_new(1));
    rt_threads_free(NULL);
    Marks m = {calloc(5000, 1), 0, 1};
    rt_parallel_for(&ctx, 5000, 1000, mark_range, &m);
    for (int i = 0; i < 5000; i++) assert_int_equal(m.hit[i], 1);
    free(m.hit);
}

/* ---------------------------------------------------------------- kernels */

static uint32_t lcg = 12345;
static float rnd(void) {
    lcg = lcg * 1664525u + 1013904223u;
    return (float)((lcg >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static int64_t out_len(int64_t in, int64_t k, int64_t s, int64_t d, int64_t pb, int64_t pe) {
    return (in + pb + pe - ((k - 1) * d + 1)) / s + 1;
}

typedef struct Cfg {
    int n, c, m, group;
    int64_t in[2], k[2], s[2], d[2], pb[2], pe[2];
} Cfg;

static int run(const char *name, RtCtx *ctx, const void *p, const RtTensor *in, int nin,
               RtTensor *out, int nout) {
    RtKernelFn fn = rt_kernel_find(name);
    assert_non_null(fn);
    int rc = fn(ctx, p, in, nin, out, nout);
    if (rc) print_message("%s: %s\n", name, ctx->errmsg);
    return rc;
}

/* Conv float32 with 1 and 3 threads (identical bytes) against the direct loops (1e-4). */
static void test_conv_threads(void **state) {
    (void)state;
    Cfg cfg[] = {
        {1, 32, 32, 32, {56, 56}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}}, /* depthwise */
        {2, 16, 16, 16, {29, 31}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}, /* depthwise s2 */
        {1, 8, 16, 8, {20, 17}, {5, 3}, {1, 3}, {2, 1}, {3, 0}, {1, 2}},   /* multiplier 2 */
        {1, 12, 12, 12, {9, 40}, {1, 7}, {1, 2}, {1, 3}, {0, 4}, {0, 5}},  /* 1x7, dilated */
        {1, 16, 24, 1, {30, 30}, {3, 3}, {1, 1}, {1, 1}, {1, 1}, {1, 1}},  /* im2col */
        {2, 6, 8, 2, {33, 21}, {3, 5}, {2, 3}, {2, 1}, {2, 0}, {0, 3}},    /* im2col, groups */
        {1, 3, 8, 1, {64, 64}, {7, 7}, {2, 2}, {1, 1}, {3, 3}, {3, 3}},    /* ResNet stem */
    };
    RtCtx c1, c3;
    rt_ctx_init(&c1);
    rt_ctx_init(&c3);
    c3.threads = rt_threads_new(3);
    assert_non_null(c3.threads);
    double worst = 0;
    for (size_t ci = 0; ci < sizeof cfg / sizeof cfg[0]; ci++) {
        const Cfg *f = &cfg[ci];
        RtConvParams p;
        memset(&p, 0, sizeof p);
        p.nspatial = 2;
        p.group = f->group;
        int64_t xd[4] = {f->n, f->c}, wd[4] = {f->m, f->c / f->group}, yd[4] = {f->n, f->m};
        int64_t bd[1] = {f->m};
        for (int i = 0; i < 2; i++) {
            p.kernel[i] = f->k[i];
            p.stride[i] = f->s[i];
            p.dilation[i] = f->d[i];
            p.pad_begin[i] = f->pb[i];
            p.pad_end[i] = f->pe[i];
            xd[2 + i] = f->in[i];
            wd[2 + i] = f->k[i];
            yd[2 + i] = out_len(f->in[i], f->k[i], f->s[i], f->d[i], f->pb[i], f->pe[i]);
        }
        int64_t nx = xd[0] * xd[1] * xd[2] * xd[3], nw = wd[0] * wd[1] * wd[2] * wd[3];
        int64_t ny = yd[0] * yd[1] * yd[2] * yd[3];
        float *x = malloc(sizeof(float) * (size_t)nx), *w = malloc(sizeof(float) * (size_t)nw);
        float *b = malloc(sizeof(float) * (size_t)f->m);
        float *yr = malloc(sizeof(float) * (size_t)ny), *y1 = malloc(sizeof(float) * (size_t)ny);
        float *y3 = malloc(sizeof(float) * (size_t)ny);
        assert_true(x && w && b && yr && y1 && y3);
        for (int64_t i = 0; i < nx; i++) x[i] = rnd();
        for (int64_t i = 0; i < nw; i++) w[i] = rnd();
        for (int i = 0; i < f->m; i++) b[i] = rnd();
        RtTensor in[3] = {{x, xd, 4, 1}, {w, wd, 4, 1}, {b, bd, 1, 1}};
        RtTensor o[3] = {{yr, yd, 4, 1}, {y1, yd, 4, 1}, {y3, yd, 4, 1}};
        assert_int_equal(run("rt_k_conv_ref_f32", &c1, &p, in, 3, &o[0], 1), 0);
        assert_int_equal(run("rt_k_conv_f32", &c1, &p, in, 3, &o[1], 1), 0);
        assert_int_equal(run("rt_k_conv_f32", &c3, &p, in, 3, &o[2], 1), 0);
        assert_memory_equal(y1, y3, sizeof(float) * (size_t)ny);
        for (int64_t i = 0; i < ny; i++) {
            double dlt = fabs((double)y1[i] - (double)yr[i]);
            if (dlt > worst) worst = dlt;
            if (dlt > 1e-4) {
                print_error("config %zu element %lld: %g vs reference %g\n", ci, (long long)i,
                            (double)y1[i], (double)yr[i]);
                fail();
            }
        }
        free(x), free(w), free(b), free(yr), free(y1), free(y3);
    }
    print_message("conv fast paths vs direct: max abs difference %g\n", worst);
    rt_threads_free(c3.threads);
}

/* MaxPool float32 2-D: the fast path (no Indices) with 1 and 3 threads against the general
 * loops (with Indices), bit for bit, including NaN inputs and ceil-mode windows past the end. */
static void test_maxpool_threads(void **state) {
    (void)state;
    Cfg cfg[] = {
        {1, 16, 16, 0, {112, 112}, {3, 3}, {2, 2}, {1, 1}, {1, 1}, {1, 1}}, /* ResNet */
        {2, 5, 5, 0, {13, 17}, {2, 3}, {2, 1}, {2, 1}, {0, 1}, {1, 2}},
        {1, 4, 4, 0, {9, 9}, {3, 3}, {3, 3}, {1, 1}, {0, 0}, {2, 2}},       /* ceil mode */
    };
    RtCtx c1, c3;
    rt_ctx_init(&c1);
    rt_ctx_init(&c3);
    c3.threads = rt_threads_new(3);
    assert_non_null(c3.threads);
    for (size_t ci = 0; ci < sizeof cfg / sizeof cfg[0]; ci++) {
        const Cfg *f = &cfg[ci];
        RtPoolParams p;
        memset(&p, 0, sizeof p);
        p.nspatial = 2;
        int64_t xd[4] = {f->n, f->c}, yd[4] = {f->n, f->c};
        for (int i = 0; i < 2; i++) {
            p.kernel[i] = f->k[i];
            p.stride[i] = f->s[i];
            p.dilation[i] = f->d[i];
            p.pad_begin[i] = f->pb[i];
            p.pad_end[i] = f->pe[i];
            xd[2 + i] = f->in[i];
            yd[2 + i] = out_len(f->in[i], f->k[i], f->s[i], f->d[i], f->pb[i], f->pe[i]);
        }
        int64_t nx = xd[0] * xd[1] * xd[2] * xd[3], ny = yd[0] * yd[1] * yd[2] * yd[3];
        float *x = malloc(sizeof(float) * (size_t)nx);
        float *yg = malloc(sizeof(float) * (size_t)ny), *y1 = malloc(sizeof(float) * (size_t)ny);
        float *y3 = malloc(sizeof(float) * (size_t)ny);
        int64_t *ind = malloc(sizeof(int64_t) * (size_t)ny);
        assert_true(x && yg && y1 && y3 && ind);
        for (int64_t i = 0; i < nx; i++) x[i] = (i % 97 == 5) ? NAN : rnd();
        RtTensor in[1] = {{x, xd, 4, 1}};
        RtTensor og[2] = {{yg, yd, 4, 1}, {ind, yd, 4, 7}};
        RtTensor o1 = {y1, yd, 4, 1}, o3 = {y3, yd, 4, 1};
        assert_int_equal(run("rt_k_maxpool_f32", &c1, &p, in, 1, og, 2), 0);
        assert_int_equal(run("rt_k_maxpool_f32", &c1, &p, in, 1, &o1, 1), 0);
        assert_int_equal(run("rt_k_maxpool_f32", &c3, &p, in, 1, &o3, 1), 0);
        assert_memory_equal(yg, y1, sizeof(float) * (size_t)ny);
        assert_memory_equal(yg, y3, sizeof(float) * (size_t)ny);
        free(x), free(yg), free(y1), free(y3), free(ind);
    }
    rt_threads_free(c3.threads);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parallel_for_covers),
        cmocka_unit_test(test_conv_threads),
        cmocka_unit_test(test_maxpool_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
