/* rt_params_fused.h - parameter blocks of the fused family (runtime/rt_fused.c) and the
 * activation epilogue that the Conv, Gemm and MatMul kernels apply in their output loops
 * (see rt_params.h). Written by the fusion passes (passes/pass_fuse_*.c) through the nodes'
 * attributes, read back by the lower hooks (ops/op_fused.c, op_conv.c, op_matmul.c). */
#ifndef ONNXC_RT_PARAMS_FUSED_H
#define ONNXC_RT_PARAMS_FUSED_H
#include <stdint.h>

/* ------------------------------------------------------------------ activation epilogue */

/* The activations an epilogue applies (attribute `activation` of FusedConv / FusedGemm /
 * FusedMatMul; the names and parameter order follow onnxruntime's com.microsoft.FusedConv). */
enum {
    RT_EPI_NONE = 0,    /* y */
    RT_EPI_RELU,        /* y > 0 ? y : 0 */
    RT_EPI_LEAKYRELU,   /* y < 0 ? alpha y : y */
    RT_EPI_CLIP,        /* min(max(y, alpha), beta) (NaN stays NaN) */
    RT_EPI_SIGMOID,     /* 1 / (1 + exp(-y)) */
    RT_EPI_HARDSIGMOID, /* max(0, min(1, alpha y + beta)) */
    RT_EPI_TANH,        /* tanh(y) */
    RT_EPI_COUNT
};

/* Epilogue of a Conv/Gemm/MatMul kernel; all zero (RT_EPI_NONE) for the plain ops. */
typedef struct RtEpilogue {
    int32_t act;   /* RT_EPI_* */
    int32_t pad_;  /* zero */
    double alpha;  /* LeakyRelu slope; Clip lower bound; HardSigmoid alpha */
    double beta;   /* Clip upper bound; HardSigmoid beta */
} RtEpilogue;

/* ------------------------------------------------------------------ fused elementwise */

#define RT_FUSED_MAX_IN 8    /* tensor inputs of one FusedElementwise node */
#define RT_FUSED_MAX_OPS 32  /* instructions of one program */
#define RT_FUSED_MAX_REGS 16 /* registers (inputs first, then temporaries) */
#define RT_FUSED_IMM (-1)    /* operand code: the instruction's immediate instead of a register */

/* Operations of a FusedElementwise program (attribute `program`: 4 ints per instruction, op,
 * dst, a, b; attribute `immediates`: one float per instruction). Everything is computed in
 * float32; each op rounds like the unfused kernel computing in float32. */
enum {
    RT_FOP_COPY = 0, /* a */
    RT_FOP_ADD,      /* a + b */
    RT_FOP_SUB,      /* a - b */
    RT_FOP_MUL,      /* a * b */
    RT_FOP_DIV,      /* a / b */
    RT_FOP_POW,      /* pow(a, b) (computed in double, as the Pow kernel does) */
    RT_FOP_MAXI,     /* a < imm ? imm : a (Clip's lower bound; NaN stays NaN) */
    RT_FOP_MINI,     /* a > imm ? imm : a (Clip's upper bound) */
    RT_FOP_NEG,      /* -a */
    RT_FOP_ABS,      /* |a| */
    RT_FOP_SQRT,     /* sqrt(a) */
    RT_FOP_EXP,      /* exp(a) */
    RT_FOP_LOG,      /* log(a) */
    RT_FOP_RELU,     /* a > 0 ? a : 0 */
    RT_FOP_LEAKYRELU,/* a < 0 ? imm a : a */
    RT_FOP_SIGMOID,  /* 1 / (1 + exp(-a)), stable form */
    RT_FOP_TANH,     /* tanh(a) */
    RT_FOP_ERF,      /* erf(a) */
    RT_FOP_RECIP,    /* 1 / a */
    RT_FOP_FLOOR,    /* floor(a) */
    RT_FOP_CEIL,     /* ceil(a) */
    RT_FOP_GELU,     /* a / 2 (1 + erf(a / sqrt 2)) */
    RT_FOP_COUNT
};

/* One instruction: dst = op(a, b); a, b are register numbers or RT_FUSED_IMM. */
typedef struct RtFusedInstr {
    int8_t op;   /* RT_FOP_* */
    int8_t dst;  /* register written (>= nin) */
    int8_t a;    /* first operand */
    int8_t b;    /* second operand (binary ops), else 0 */
    float imm;   /* the immediate operand or parameter */
} RtFusedInstr;

/* rt_k_fused_elementwise: Y = program(X0..Xn-1), inputs broadcast numpy-style to Y's shape.
 * Register i < nin holds input i converted to float32 (from in_dtype[i]); the result is
 * register out_reg, converted to out_dtype. */
typedef struct RtFusedParams {
    int32_t nin;                         /* tensor inputs (<= RT_FUSED_MAX_IN) */
    int32_t nops;                        /* instructions (<= RT_FUSED_MAX_OPS) */
    int32_t nregs;                       /* registers used (<= RT_FUSED_MAX_REGS) */
    int32_t out_reg;                     /* register holding the result */
    int32_t out_dtype;                   /* f32, f64, f16 or bf16 */
    int32_t in_dtype[RT_FUSED_MAX_IN];   /* element type of each input */
    int32_t pad_;                        /* zero */
    RtFusedInstr code[RT_FUSED_MAX_OPS]; /* the program */
} RtFusedParams;

#endif
