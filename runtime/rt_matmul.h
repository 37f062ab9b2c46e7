/* rt_matmul.h - plain C reference implementations of the matmul family (runtime/rt_matmul.c),
 * used by the tests to check the OpenBLAS path of rt_k_matmul / rt_k_gemm. Internal to onnxc
 * (not part of the model library's ABI). All matrices are dense row-major. */
#ifndef ONNXC_RT_MATMUL_H
#define ONNXC_RT_MATMUL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* y[m,n] = a[m,k] * b[k,n], accumulated in the element type, in the order k = 0..K-1. */
void rt_ref_matmul_f32(const float *a, const float *b, float *y, int64_t m, int64_t n, int64_t k);
void rt_ref_matmul_f64(const double *a, const double *b, double *y, int64_t m, int64_t n,
                       int64_t k);

/* y[m,n] = alpha * op(a) * op(b) + beta * c, op(x) = x^T when trans_x; a is [m,k] ([k,m] when
 * trans_a), b is [k,n] ([n,k] when trans_b), c is a full [m,n] matrix or NULL (no bias). */
void rt_ref_gemm_f32(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                     const float *a, const float *b, float beta, const float *c, float *y);
void rt_ref_gemm_f64(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, double alpha,
                     const double *a, const double *b, double beta, const double *c, double *y);

#ifdef __cplusplus
}
#endif
#endif
