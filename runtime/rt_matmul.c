/* rt_matmul.c - kernels of the matmul family: MatMul (numpy matmul semantics: 1-D operands are
 * promoted to matrices and the promoted dim removed again, batch dims broadcast) and Gemm
 * (Y = alpha * op(A) * op(B) + beta * C with C unidirectionally broadcast to [M, N]).
 *
 * float32/float64 use OpenBLAS (cblas_sgemm / cblas_dgemm) when the params ask for it and the
 * sizes fit in a BLAS int; every other case (float16/bfloat16 through float, all integer types
 * with wrap-around) runs the plain C loops below, which are also the reference implementations
 * (rt_ref_*) the tests check the BLAS path against.
 */
#include <cblas.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_epilogue.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_matmul.h"
#include "runtime/rt_params.h"

#define MM_MAX_RANK 64

/* ---------------------------------------------------------------- the plain C loops */

/* One (optionally transposed) matrix product into y[m,n] (row-major, ld n):
 *   y[i,j] = sum_k A(i,k) * B(k,j),  A(i,k) = a[i*sai + k*sak],  B(k,j) = b[k*sbk + j*sbj].
 * ACC is the accumulator type, LD converts an element to ACC, ST converts ACC back. */
#define MM_LOOP(T, ACC, LD, ST)                                                      \
    do {                                                                             \
        const T *a_ = (const T *)a;                                                  \
        const T *b_ = (const T *)b;                                                  \
        T *y_ = (T *)y;                                                              \
        for (int64_t i_ = 0; i_ < m; i_++)                                           \
            for (int64_t j_ = 0; j_ < n; j_++) {                                     \
                ACC acc_ = 0;                                                        \
                for (int64_t k_ = 0; k_ < k; k_++)                                   \
                    acc_ += (ACC)LD(a_[i_ * sai + k_ * sak]) *                       \
                            (ACC)LD(b_[k_ * sbk + j_ * sbj]);                        \
                y_[i_ * n + j_] = ST(acc_);                                          \
            }                                                                        \
    } while (0)

#define ID(x) (x)

/* 1 if the C loops support element type dt. */
static int mm_type_ok(int32_t dt) {
    switch (dt) {
    case IR_DT_FLOAT: case IR_DT_DOUBLE: case IR_DT_FLOAT16: case IR_DT_BFLOAT16:
    case IR_DT_INT8: case IR_DT_INT16: case IR_DT_INT32: case IR_DT_INT64:
    case IR_DT_UINT8: case IR_DT_UINT16: case IR_DT_UINT32: case IR_DT_UINT64:
        return 1;
    default:
        return 0;
    }
}

/* y = op(a) * op(b) for element type dt with the C loops (dt checked by mm_type_ok).
 * Integers accumulate in uint64_t (wrap-around, then truncated to the element type). */
static void mm_c(int32_t dt, int trans_a, int trans_b, const void *a, const void *b, void *y,
                 int64_t m, int64_t n, int64_t k) {
    int64_t sai = trans_a ? 1 : k, sak = trans_a ? m : 1;
    int64_t sbk = trans_b ? 1 : n, sbj = trans_b ? k : 1;
    switch (dt) {
    case IR_DT_FLOAT: MM_LOOP(float, float, ID, ID); break;
    case IR_DT_DOUBLE: MM_LOOP(double, double, ID, ID); break;
    case IR_DT_FLOAT16: MM_LOOP(uint16_t, float, rt_h2f, rt_f2h); break;
    case IR_DT_BFLOAT16: MM_LOOP(uint16_t, float, rt_bf2f, rt_f2bf); break;
    case IR_DT_INT8: MM_LOOP(int8_t, uint64_t, ID, ID); break;
    case IR_DT_INT16: MM_LOOP(int16_t, uint64_t, ID, ID); break;
    case IR_DT_INT32: MM_LOOP(int32_t, uint64_t, ID, ID); break;
    case IR_DT_INT64: MM_LOOP(int64_t, uint64_t, ID, ID); break;
    case IR_DT_UINT8: MM_LOOP(uint8_t, uint64_t, ID, ID); break;
    case IR_DT_UINT16: MM_LOOP(uint16_t, uint64_t, ID, ID); break;
    case IR_DT_UINT32: MM_LOOP(uint32_t, uint64_t, ID, ID); break;
    case IR_DT_UINT64: MM_LOOP(uint64_t, uint64_t, ID, ID); break;
    default: break;
    }
}

void rt_ref_matmul_f32(const float *a, const float *b, float *y, int64_t m, int64_t n, int64_t k) {
    mm_c(IR_DT_FLOAT, 0, 0, a, b, y, m, n, k);
}

void rt_ref_matmul_f64(const double *a, const double *b, double *y, int64_t m, int64_t n,
                       int64_t k) {
    mm_c(IR_DT_DOUBLE, 0, 0, a, b, y, m, n, k);
}

void rt_ref_gemm_f32(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, const float *b, float beta, const float *c, float *y) {
    mm_c(IR_DT_FLOAT, trans_a, trans_b, a, b, y, m, n, k);
    for (int64_t i = 0; i < m * n; i++)
        y[i] = alpha * y[i] + (c ? beta * c[i] : 0.0f);
}

void rt_ref_gemm_f64(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                     const double *a, const double *b, double beta, const double *c, double *y) {
    mm_c(IR_DT_DOUBLE, trans_a, trans_b, a, b, y, m, n, k);
    for (int64_t i = 0; i < m * n; i++)
        y[i] = alpha * y[i] + (c ? beta * c[i] : 0.0);
}

/* 1 if every size fits the BLAS integer type. */
static int blas_fits(int64_t m, int64_t n, int64_t k) {
    return m > 0 && n > 0 && k > 0 && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX;
}

/* y = op(a) * op(b) (+ beta_acc * y when beta_acc != 0, BLAS path only), choosing OpenBLAS for
 * float32/float64 when use_blas and the sizes fit. Returns 1 if BLAS did it, 0 otherwise. */
static int mm_blas(int32_t dt, int trans_a, int trans_b, const void *a, const void *b, void *y,
                   int64_t m, int64_t n, int64_t k, double alpha, double beta_acc) {
    if (!blas_fits(m, n, k) || (dt != IR_DT_FLOAT && dt != IR_DT_DOUBLE))
        return 0;
    int lda = (int)(trans_a ? m : k), ldb = (int)(trans_b ? k : n);
    enum CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans;
    enum CBLAS_TRANSPOSE tb = trans_b ? CblasTrans : CblasNoTrans;
    if (dt == IR_DT_FLOAT)
        cblas_sgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, (float)alpha, (const float *)a,
                    lda, (const float *)b, ldb, (float)beta_acc, (float *)y, (int)n);
    else
        cblas_dgemm(CblasRowMajor, ta, tb, (int)m, (int)n, (int)k, alpha, (const double *)a, lda,
                    (const double *)b, ldb, beta_acc, (double *)y, (int)n);
    return 1;
}

/* The activation epilogue (FusedMatMul, FusedGemm) over `count` elements of y just written
 * (float32/float64; the lower hooks refuse an epilogue on other types). */
static void mm_epilogue(int32_t dt, const RtEpilogue *epi, void *y, int64_t count) {
    if (!epi || epi->act == RT_EPI_NONE)
        return;
    if (dt == IR_DT_FLOAT)
        rt_epilogue_f32(epi, (float *)y, count);
    else if (dt == IR_DT_DOUBLE)
        rt_epilogue_f64(epi, (double *)y, count);
}

/* ---------------------------------------------------------------- MatMul */

/* MatMul, and FusedMatMul when epi is set: the epilogue runs on each product as it is written. */
static int matmul_run(RtCtx *ctx, int use_blas, const RtEpilogue *epi, const RtTensor *in,
                      int nin, RtTensor *out, int nout) {
    if (!in || !out || nin < 2 || nout < 1 || in[0].rank < 1 || in[1].rank < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "MatMul: expects 2 inputs of rank >= 1");
    const RtTensor *a = &in[0], *b = &in[1];
    int32_t dt = a->dtype;
    if (b->dtype != dt || out[0].dtype != dt)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "MatMul: element types differ (%d, %d -> %d)",
                       (int)a->dtype, (int)b->dtype, (int)out[0].dtype);
    if (!mm_type_ok(dt))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "MatMul: element type %d not supported", (int)dt);
    int ra = a->rank, rb = b->rank;
    if (ra > MM_MAX_RANK || rb > MM_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMul: rank too large");
    int64_t m = ra == 1 ? 1 : a->dims[ra - 2];
    int64_t k = a->dims[ra - 1];
    int64_t kb = rb == 1 ? b->dims[0] : b->dims[rb - 2];
    int64_t n = rb == 1 ? 1 : b->dims[rb - 1];
    if (k != kb)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMul: inner dims differ (%lld vs %lld)",
                       (long long)k, (long long)kb);
    /* broadcast batch dims, right-aligned */
    int ba = ra > 2 ? ra - 2 : 0, bb = rb > 2 ? rb - 2 : 0;
    int br = ba > bb ? ba : bb;
    int64_t bdims[MM_MAX_RANK], sa[MM_MAX_RANK], sb[MM_MAX_RANK];
    int64_t nbatch = 1, st_a = 1, st_b = 1;
    for (int d = br - 1; d >= 0; d--) {
        int ka = d - (br - ba), kbb = d - (br - bb);
        int64_t da = ka >= 0 ? a->dims[ka] : 1, db = kbb >= 0 ? b->dims[kbb] : 1;
        if (da != db && da != 1 && db != 1)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMul: batch dims %lld and %lld do not broadcast",
                           (long long)da, (long long)db);
        bdims[d] = da == 1 ? db : da;
        sa[d] = da == 1 ? 0 : st_a; /* in matrices */
        sb[d] = db == 1 ? 0 : st_b;
        st_a *= da;
        st_b *= db;
        nbatch *= bdims[d];
    }
    /* output shape: batch + [m if ra > 1] + [n if rb > 1] */
    int orank = br + (ra > 1) + (rb > 1);
    if (out[0].rank != orank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMul: output rank %d, expected %d",
                       (int)out[0].rank, orank);
    for (int d = 0; d < orank; d++) {
        int64_t want = d < br ? bdims[d] : (d == br && ra > 1) ? m : n;
        if (out[0].dims[d] != want)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "MatMul: output dim %d is %lld, expected %lld", d,
                           (long long)out[0].dims[d], (long long)want);
    }
    if (nbatch == 0 || m == 0 || n == 0)
        return 0;
    size_t es = rt_dtype_size(dt);
    if (k == 0) {
        memset(out[0].data, 0, (size_t)(nbatch * m * n) * es); /* empty sums (0 in every type) */
        mm_epilogue(dt, epi, out[0].data, nbatch * m * n);
        return 0;
    }
    const char *pa = (const char *)a->data, *pb = (const char *)b->data;
    char *py = (char *)out[0].data;
    if (bb == 0) {
        /* B is one matrix: fold A's batch into its rows (A is contiguous over batch x m) */
        int64_t mm = nbatch * m;
        if (!(use_blas && mm_blas(dt, 0, 0, pa, pb, py, mm, n, k, 1.0, 0.0)))
            mm_c(dt, 0, 0, pa, pb, py, mm, n, k);
        mm_epilogue(dt, epi, py, mm * n);
        return 0;
    }
    int64_t idx[MM_MAX_RANK] = {0};
    int64_t oa = 0, ob = 0; /* matrix indices into A and B */
    size_t bytes_a = (size_t)(m * k) * es, bytes_b = (size_t)(k * n) * es;
    size_t bytes_y = (size_t)(m * n) * es;
    for (int64_t t = 0; t < nbatch; t++) {
        const void *ma = pa + (size_t)oa * bytes_a, *mb = pb + (size_t)ob * bytes_b;
        void *my = py + (size_t)t * bytes_y;
        if (!(use_blas && mm_blas(dt, 0, 0, ma, mb, my, m, n, k, 1.0, 0.0)))
            mm_c(dt, 0, 0, ma, mb, my, m, n, k);
        mm_epilogue(dt, epi, my, m * n);
        for (int d = br - 1; d >= 0; d--) {
            idx[d]++;
            oa += sa[d];
            ob += sb[d];
            if (idx[d] < bdims[d])
                break;
            oa -= sa[d] * bdims[d];
            ob -= sb[d] * bdims[d];
            idx[d] = 0;
        }
    }
    return 0;
}

int rt_k_matmul(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                int nout) {
    const RtMatMulParams *pp = (const RtMatMulParams *)params;
    return matmul_run(ctx, pp ? pp->use_blas : 1, NULL, in, nin, out, nout);
}

int rt_k_matmul_act(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                    int nout) {
    const RtMatMulActParams *pp = (const RtMatMulActParams *)params;
    if (!pp)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "FusedMatMul: missing parameters");
    return matmul_run(ctx, pp->mm.use_blas, &pp->epi, in, nin, out, nout);
}

/* ---------------------------------------------------------------- Gemm */

/* double -> int64 without undefined behaviour (truncate, saturate, NaN -> 0). */
static int64_t gemm_d2i(double v) {
    if (v != v)
        return 0;
    if (v >= 9223372036854775807.0)
        return INT64_MAX;
    if (v <= -9223372036854775808.0)
        return INT64_MIN;
    return (int64_t)v;
}

/* y[i,j] = alpha * y[i,j] + beta * C(i,j) with C broadcast through strides (sci, scj) (c NULL:
 * no bias). Integer types compute in double only when alpha or beta is not 1. */
#define GEMM_EPI_F(T, ACC, LD, ST)                                                   \
    do {                                                                             \
        T *y_ = (T *)y;                                                              \
        const T *c_ = (const T *)c;                                                  \
        for (int64_t i_ = 0; i_ < m; i_++)                                           \
            for (int64_t j_ = 0; j_ < n; j_++) {                                     \
                ACC v_ = (ACC)alpha * (ACC)LD(y_[i_ * n + j_]);                      \
                if (c_)                                                              \
                    v_ += (ACC)beta * (ACC)LD(c_[i_ * sci + j_ * scj]);              \
                y_[i_ * n + j_] = ST(v_);                                            \
            }                                                                        \
    } while (0)
#define GEMM_EPI_I(T)                                                                \
    do {                                                                             \
        T *y_ = (T *)y;                                                              \
        const T *c_ = (const T *)c;                                                  \
        int exact_ = alpha == 1.0 && (beta == 1.0 || !c_);                           \
        for (int64_t i_ = 0; i_ < m; i_++)                                           \
            for (int64_t j_ = 0; j_ < n; j_++) {                                     \
                T cv_ = c_ ? c_[i_ * sci + j_ * scj] : 0;                            \
                if (exact_)                                                          \
                    y_[i_ * n + j_] = (T)((uint64_t)y_[i_ * n + j_] + (uint64_t)cv_); \
                else                                                                 \
                    y_[i_ * n + j_] = (T)gemm_d2i(alpha * (double)y_[i_ * n + j_] +  \
                                                  beta * (double)cv_);               \
            }                                                                        \
    } while (0)

static void gemm_epilogue(int32_t dt, void *y, const void *c, int64_t sci, int64_t scj,
                          int64_t m, int64_t n, double alpha, double beta) {
    switch (dt) {
    case IR_DT_FLOAT: GEMM_EPI_F(float, float, ID, ID); break;
    case IR_DT_DOUBLE: GEMM_EPI_F(double, double, ID, ID); break;
    case IR_DT_FLOAT16: GEMM_EPI_F(uint16_t, float, rt_h2f, rt_f2h); break;
    case IR_DT_BFLOAT16: GEMM_EPI_F(uint16_t, float, rt_bf2f, rt_f2bf); break;
    case IR_DT_INT8: GEMM_EPI_I(int8_t); break;
    case IR_DT_INT16: GEMM_EPI_I(int16_t); break;
    case IR_DT_INT32: GEMM_EPI_I(int32_t); break;
    case IR_DT_INT64: GEMM_EPI_I(int64_t); break;
    case IR_DT_UINT8: GEMM_EPI_I(uint8_t); break;
    case IR_DT_UINT16: GEMM_EPI_I(uint16_t); break;
    case IR_DT_UINT32: GEMM_EPI_I(uint32_t); break;
    case IR_DT_UINT64: GEMM_EPI_I(uint64_t); break;
    default: break;
    }
}

/* BLAS path prologue: y[i,j] = beta * C(i,j) (float32/float64 only). */
static void gemm_fill_c(int32_t dt, void *y, const void *c, int64_t sci, int64_t scj, int64_t m,
                        int64_t n, double beta) {
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            if (dt == IR_DT_FLOAT)
                ((float *)y)[i * n + j] = (float)beta * ((const float *)c)[i * sci + j * scj];
            else
                ((double *)y)[i * n + j] = beta * ((const double *)c)[i * sci + j * scj];
        }
}

/* Gemm, and FusedGemm when epi is set (the epilogue runs after the bias). */
static int gemm_run(RtCtx *ctx, const RtGemmParams *pp, const RtEpilogue *epi, const RtTensor *in,
                    int nin, RtTensor *out, int nout) {
    if (!in || !out || nin < 2 || nout < 1 || in[0].rank != 2 || in[1].rank != 2 ||
        out[0].rank != 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "Gemm: expects 2-D A, B and Y");
    const RtTensor *a = &in[0], *b = &in[1];
    const RtTensor *ct = (nin > 2 && in[2].rank >= 0 && in[2].data) ? &in[2] : NULL;
    int32_t dt = a->dtype;
    if (b->dtype != dt || out[0].dtype != dt || (ct && ct->dtype != dt))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Gemm: element types differ");
    if (!mm_type_ok(dt))
        return rt_fail(ctx, ONNXC_ERR_TYPE, "Gemm: element type %d not supported", (int)dt);
    int ta = pp->trans_a != 0, tb = pp->trans_b != 0;
    int64_t m = ta ? a->dims[1] : a->dims[0], k = ta ? a->dims[0] : a->dims[1];
    int64_t kb = tb ? b->dims[1] : b->dims[0], n = tb ? b->dims[0] : b->dims[1];
    if (k != kb)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Gemm: inner dims differ (%lld vs %lld)",
                       (long long)k, (long long)kb);
    if (out[0].dims[0] != m || out[0].dims[1] != n)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "Gemm: output is [%lld,%lld], expected [%lld,%lld]",
                       (long long)out[0].dims[0], (long long)out[0].dims[1], (long long)m,
                       (long long)n);
    /* C strides for unidirectional broadcast to [m, n] */
    int64_t sci = 0, scj = 0;
    if (ct) {
        int64_t cm = 1, cn = 1;
        if (ct->rank > 2)
            return rt_fail(ctx, ONNXC_ERR_SHAPE, "Gemm: C has rank %d", (int)ct->rank);
        if (ct->rank == 2) {
            cm = ct->dims[0];
            cn = ct->dims[1];
        } else if (ct->rank == 1) {
            cn = ct->dims[0];
        }
        if ((cm != 1 && cm != m) || (cn != 1 && cn != n))
            return rt_fail(ctx, ONNXC_ERR_SHAPE,
                           "Gemm: C [%lld,%lld] does not broadcast to [%lld,%lld]", (long long)cm,
                           (long long)cn, (long long)m, (long long)n);
        sci = cm == 1 ? 0 : cn;
        scj = cn == 1 ? 0 : 1;
    }
    if (m == 0 || n == 0)
        return 0;
    void *y = out[0].data;
    const void *c = ct ? ct->data : NULL;
    if (pp->use_blas && blas_fits(m, n, k) && (dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE)) {
        if (c)
            gemm_fill_c(dt, y, c, sci, scj, m, n, pp->beta);
        mm_blas(dt, ta, tb, a->data, b->data, y, m, n, k, pp->alpha, c ? 1.0 : 0.0);
        mm_epilogue(dt, epi, y, m * n);
        return 0;
    }
    if (k == 0)
        memset(y, 0, (size_t)(m * n) * rt_dtype_size(dt));
    else
        mm_c(dt, ta, tb, a->data, b->data, y, m, n, k);
    gemm_epilogue(dt, y, c, sci, scj, m, n, pp->alpha, pp->beta);
    mm_epilogue(dt, epi, y, m * n);
    return 0;
}

int rt_k_gemm(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
              int nout) {
    static const RtGemmParams dflt = {1.0, 1.0, 0, 0, 1};
    return gemm_run(ctx, params ? (const RtGemmParams *)params : &dflt, NULL, in, nin, out, nout);
}

int rt_k_gemm_act(RtCtx *ctx, const void *params, const RtTensor *in, int nin, RtTensor *out,
                  int nout) {
    const RtGemmActParams *pp = (const RtGemmActParams *)params;
    if (!pp)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "FusedGemm: missing parameters");
    return gemm_run(ctx, &pp->gemm, &pp->epi, in, nin, out, nout);
}
