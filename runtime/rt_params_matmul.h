/* rt_params_matmul.h - parameter blocks of the matmul kernels (see rt_params.h). */
#ifndef ONNXC_RT_PARAMS_MATMUL_H
#define ONNXC_RT_PARAMS_MATMUL_H
#include <stdint.h>

#include "runtime/rt_params_fused.h" /* RtEpilogue */

/* MatMul (rt_k_matmul): numpy matmul semantics; all shapes come from the tensors. */
typedef struct RtMatMulParams {
    int32_t use_blas; /* nonzero: float32/float64 use OpenBLAS; zero: the plain C loops */
} RtMatMulParams;

/* Gemm (rt_k_gemm): Y = alpha * op(A) * op(B) + beta * C, op = transpose when trans* != 0.
 * C (input 2) is optional and unidirectionally broadcast to [M, N] (rank 0, 1 or 2). */
typedef struct RtGemmParams {
    double alpha;     /* scale of the product (default 1) */
    double beta;      /* scale of C (default 1) */
    int32_t trans_a;  /* A is stored [K, M] */
    int32_t trans_b;  /* B is stored [N, K] */
    int32_t use_blas; /* nonzero: float32/float64 use OpenBLAS; zero: the plain C loops */
} RtGemmParams;

/* FusedMatMul (rt_k_matmul_act): MatMul, then the epilogue on every output element
 * (float32/float64). */
typedef struct RtMatMulActParams {
    RtMatMulParams mm; /* as for MatMul */
    int32_t pad_;      /* zero */
    RtEpilogue epi;    /* activation applied to Y */
} RtMatMulActParams;

/* FusedGemm (rt_k_gemm_act): Gemm, then the epilogue on every output element (float32/float64). */
typedef struct RtGemmActParams {
    RtGemmParams gemm; /* as for Gemm */
    RtEpilogue epi;    /* activation applied to Y */
} RtGemmActParams;

#endif
