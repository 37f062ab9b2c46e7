/* rt_fused.c - the kernel of onnxc's fused elementwise operator (ai.onnxc FusedElementwise,
 * ops/op_fused.c; created by passes/pass_fuse_elementwise.c).
 *
 * One loop over the output runs a small program (RtFusedParams, runtime/rt_params_fused.h):
 * the output is walked in blocks of up to FE_BLOCK elements along its innermost (collapsed)
 * dimension; for each block every input is loaded into its register, converted to float32 and
 * broadcast numpy-style; each instruction then runs as one tight loop over the block (which
 * LLVM vectorises, and, when the backend inlines this kernel with the parameter block as a
 * constant, specialises to the program); the result register is converted and stored. So a
 * chain of k elementwise ops reads its inputs and writes its output once instead of k times.
 *
 * Each instruction computes what the unfused kernel computes in float32 (the formulas of
 * rt_elementwise.c and rt_act.c), so fused and unfused results agree to rounding.
 *
 * Aliasing: a block is loaded completely before it is stored, so Y may share memory with an
 * input of Y's shape (the in-place plan of passes/pass_plan.c relies on this).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "ir/ir.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"

#define FE_BLOCK 256
#define FE_MAX_RANK 16

/* Converts len elements of element type dt at base + off (stride st elements) to float. */
static void fe_load(float *r, const void *base, int32_t dt, int64_t off, int64_t st, int64_t len) {
#define FE_LD(T, CONV)                                                        \
    do {                                                                      \
        const T *x_ = (const T *)base + off;                                  \
        if (st == 1)                                                          \
            for (int64_t j_ = 0; j_ < len; j_++) r[j_] = (float)CONV(x_[j_]); \
        else if (st == 0) {                                                   \
            float v_ = (float)CONV(x_[0]);                                    \
            for (int64_t j_ = 0; j_ < len; j_++) r[j_] = v_;                  \
        } else                                                                \
            for (int64_t j_ = 0; j_ < len; j_++)                              \
                r[j_] = (float)CONV(x_[j_ * st]);                             \
    } while (0)
#define FE_ID(x) (x)
    switch (dt) {
    case IR_DT_FLOAT: FE_LD(float, FE_ID); break;
    case IR_DT_DOUBLE: FE_LD(double, FE_ID); break;
    case IR_DT_FLOAT16: FE_LD(uint16_t, rt_h2f); break;
    case IR_DT_BFLOAT16: FE_LD(uint16_t, rt_bf2f); break;
    case IR_DT_INT8: FE_LD(int8_t, FE_ID); break;
    case IR_DT_UINT8: FE_LD(uint8_t, FE_ID); break;
    case IR_DT_BOOL: FE_LD(uint8_t, FE_ID); break;
    case IR_DT_INT16: FE_LD(int16_t, FE_ID); break;
    case IR_DT_UINT16: FE_LD(uint16_t, FE_ID); break;
    case IR_DT_INT32: FE_LD(int32_t, FE_ID); break;
    case IR_DT_UINT32: FE_LD(uint32_t, FE_ID); break;
    case IR_DT_INT64: FE_LD(int64_t, FE_ID); break;
    case IR_DT_UINT64: FE_LD(uint64_t, FE_ID); break;
    default: memset(r, 0, (size_t)len * sizeof(float)); break;
    }
#undef FE_LD
}

/* Stores len floats at y + off (element type dt, contiguous). */
static void fe_store(void *y, int32_t dt, int64_t off, const float *r, int64_t len) {
    switch (dt) {
    case IR_DT_FLOAT: memcpy((float *)y + off, r, (size_t)len * sizeof(float)); break;
    case IR_DT_DOUBLE:
        for (int64_t j = 0; j < len; j++) ((double *)y)[off + j] = r[j];
        break;
    case IR_DT_FLOAT16:
        for (int64_t j = 0; j < len; j++) ((uint16_t *)y)[off + j] = rt_f2h(r[j]);
        break;
    case IR_DT_BFLOAT16:
        for (int64_t j = 0; j < len; j++) ((uint16_t *)y)[off + j] = rt_f2bf(r[j]);
        break;
    default: break;
    }
}

static inline float fe_sigmoid(float x) {
    if (x >= 0.0f)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

/* Runs the program over one block of len elements. */
static void fe_run(const RtFusedParams *p, float r[][FE_BLOCK], int64_t len) {
    for (int k = 0; k < p->nops; k++) {
        const RtFusedInstr *c = &p->code[k];
        float *D = r[c->dst];
        const float im = c->imm;
        const float *A = c->a >= 0 ? r[c->a] : NULL;
        const float *B = c->b >= 0 ? r[c->b] : NULL;
/* binary op F on (register|immediate, register|immediate) */
#define FE_BIN(F)                                                                   \
    do {                                                                            \
        if (A && B)                                                                 \
            for (int64_t j = 0; j < len; j++) D[j] = F(A[j], B[j]);                 \
        else if (A)                                                                 \
            for (int64_t j = 0; j < len; j++) D[j] = F(A[j], im);                   \
        else if (B)                                                                 \
            for (int64_t j = 0; j < len; j++) D[j] = F(im, B[j]);                   \
        else                                                                        \
            for (int64_t j = 0; j < len; j++) D[j] = F(im, im);                     \
    } while (0)
#define FE_UN(F)                                                                    \
    do {                                                                            \
        if (A)                                                                      \
            for (int64_t j = 0; j < len; j++) D[j] = F(A[j]);                       \
        else                                                                        \
            for (int64_t j = 0; j < len; j++) D[j] = F(im);                         \
    } while (0)
#define F_ADD(x, y) ((x) + (y))
#define F_SUB(x, y) ((x) - (y))
#define F_MUL(x, y) ((x) * (y))
#define F_DIV(x, y) ((x) / (y))
#define F_POW(x, y) ((float)pow((double)(x), (double)(y)))
#define F_MAXI(x) ((x) < im ? im : (x))
#define F_MINI(x) ((x) > im ? im : (x))
#define F_ID(x) (x)
#define F_NEG(x) (-(x))
#define F_RELU(x) ((x) > 0 ? (x) : 0.0f)
#define F_LRELU(x) ((x) < 0 ? (x) * im : (x))
#define F_RECIP(x) (1.0f / (x))
#define F_GELU(x) ((float)(0.5 * (double)(x) * (1.0 + erf((double)(x) * 0.70710678118654752440))))
        switch (c->op) {
        case RT_FOP_COPY: FE_UN(F_ID); break;
        case RT_FOP_ADD: FE_BIN(F_ADD); break;
        case RT_FOP_SUB: FE_BIN(F_SUB); break;
        case RT_FOP_MUL: FE_BIN(F_MUL); break;
        case RT_FOP_DIV: FE_BIN(F_DIV); break;
        case RT_FOP_POW: FE_BIN(F_POW); break;
        case RT_FOP_MAXI: FE_UN(F_MAXI); break;
        case RT_FOP_MINI: FE_UN(F_MINI); break;
        case RT_FOP_NEG: FE_UN(F_NEG); break;
        case RT_FOP_ABS: FE_UN(fabsf); break;
        case RT_FOP_SQRT: FE_UN(sqrtf); break;
        case RT_FOP_EXP: FE_UN(expf); break;
        case RT_FOP_LOG: FE_UN(logf); break;
        case RT_FOP_RELU: FE_UN(F_RELU); break;
        case RT_FOP_LEAKYRELU: FE_UN(F_LRELU); break;
        case RT_FOP_SIGMOID: FE_UN(fe_sigmoid); break;
        case RT_FOP_TANH: FE_UN(tanhf); break;
        case RT_FOP_ERF: FE_UN(erff); break;
        case RT_FOP_RECIP: FE_UN(F_RECIP); break;
        case RT_FOP_FLOOR: FE_UN(floorf); break;
        case RT_FOP_CEIL: FE_UN(ceilf); break;
        case RT_FOP_GELU: FE_UN(F_GELU); break;
        default: break;
        }
#undef FE_BIN
#undef FE_UN
    }
}

int rt_k_fused_elementwise(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                           RtTensor *out, int nout) {
    const RtFusedParams *p = (const RtFusedParams *)params;
    if (!p || !in || !out || nout < 1 || nin != p->nin || p->nin < 1 ||
        p->nin > RT_FUSED_MAX_IN || p->nops < 0 || p->nops > RT_FUSED_MAX_OPS ||
        p->nregs < p->nin || p->nregs > RT_FUSED_MAX_REGS || p->out_reg < 0 ||
        p->out_reg >= p->nregs)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "FusedElementwise: inconsistent parameters");
    for (int k = 0; k < p->nops; k++) {
        const RtFusedInstr *c = &p->code[k];
        if (c->dst < p->nin || c->dst >= p->nregs || c->a >= p->nregs || c->b >= p->nregs ||
            c->a < RT_FUSED_IMM || c->b < RT_FUSED_IMM)
            return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "FusedElementwise: bad instruction %d", k);
    }
    const RtTensor *y = &out[0];
    if (y->dtype != p->out_dtype || y->rank < 0 || y->rank > FE_MAX_RANK)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "FusedElementwise: output type or rank mismatch");
    /* output dims without the 1s, and each input's element stride along them (0: broadcast) */
    int rank = 0;
    int64_t dims[FE_MAX_RANK], st[RT_FUSED_MAX_IN][FE_MAX_RANK];
    for (int i = 0; i < nin; i++) {
        if (in[i].dtype != p->in_dtype[i] || in[i].rank < 0 || in[i].rank > y->rank ||
            (!in[i].data && rt_numel(&in[i]) > 0))
            return rt_fail(ctx, ONNXC_ERR_TYPE, "FusedElementwise: input %d type or rank mismatch",
                           i);
    }
    int64_t run[RT_FUSED_MAX_IN];
    for (int i = 0; i < nin; i++) run[i] = 1;
    int64_t kept[FE_MAX_RANK]; /* output dim index of each kept dim, innermost last */
    int nk = 0;
    for (int d = 0; d < y->rank; d++)
        if (y->dims[d] != 1) kept[nk++] = d;
    for (int k = nk - 1; k >= 0; k--) {
        int d = kept[k];
        for (int i = 0; i < nin; i++) {
            int ki = d - (y->rank - in[i].rank);
            int64_t di = ki >= 0 ? in[i].dims[ki] : 1;
            if (di != y->dims[d] && di != 1)
                return rt_fail(ctx, ONNXC_ERR_SHAPE,
                               "FusedElementwise: input %d dim %lld does not broadcast to %lld", i,
                               (long long)di, (long long)y->dims[d]);
            st[i][k] = di == 1 ? 0 : run[i];
        }
        /* strides must also skip the input's dims of size 1 and those of removed output 1s */
        for (int i = 0; i < nin; i++) {
            int ki = d - (y->rank - in[i].rank);
            int64_t di = ki >= 0 ? in[i].dims[ki] : 1;
            run[i] *= di;
        }
        dims[k] = y->dims[d];
    }
    rank = nk;
    for (int i = 0; i < nin; i++) /* an input dim of 1 where the output has 1 is harmless */
        for (int d = 0; d < y->rank; d++) {
            int ki = d - (y->rank - in[i].rank);
            if (ki >= 0 && y->dims[d] == 1 && in[i].dims[ki] != 1)
                return rt_fail(ctx, ONNXC_ERR_SHAPE, "FusedElementwise: input %d does not "
                               "broadcast to the output", i);
        }
    /* collapse adjacent dims along which every input is contiguous or broadcast */
    int w = 0;
    for (int k = 0; k < rank; k++) {
        if (w > 0) {
            int ok = 1;
            for (int i = 0; i < nin && ok; i++)
                ok = (st[i][w - 1] == 0 && st[i][k] == 0) ||
                     (st[i][k] != 0 && st[i][w - 1] == st[i][k] * dims[k]);
            if (ok) {
                dims[w - 1] *= dims[k];
                for (int i = 0; i < nin; i++) st[i][w - 1] = st[i][k];
                continue;
            }
        }
        dims[w] = dims[k];
        for (int i = 0; i < nin; i++) st[i][w] = st[i][k];
        w++;
    }
    rank = w;
    int64_t total = rt_numel(y);
    if (total == 0)
        return 0;
    if (rank == 0) { /* a single element */
        dims[0] = 1;
        for (int i = 0; i < nin; i++) st[i][0] = 0;
        rank = 1;
    }
    float r[RT_FUSED_MAX_REGS][FE_BLOCK];
    int64_t inner = dims[rank - 1], rows = total / inner;
    int64_t idx[FE_MAX_RANK] = {0}, off[RT_FUSED_MAX_IN] = {0}, yoff = 0;
    for (int64_t row = 0; row < rows; row++) {
        for (int64_t j0 = 0; j0 < inner; j0 += FE_BLOCK) {
            int64_t len = inner - j0 < FE_BLOCK ? inner - j0 : FE_BLOCK;
            for (int i = 0; i < nin; i++)
                fe_load(r[i], in[i].data, in[i].dtype, off[i] + j0 * st[i][rank - 1],
                        st[i][rank - 1], len);
            fe_run(p, r, len);
            fe_store(y->data, y->dtype, yoff + j0, r[p->out_reg], len);
        }
        yoff += inner;
        for (int d = rank - 2; d >= 0; d--) {
            idx[d]++;
            for (int i = 0; i < nin; i++) off[i] += st[i][d];
            if (idx[d] < dims[d])
                break;
            for (int i = 0; i < nin; i++) off[i] -= st[i][d] * dims[d];
            idx[d] = 0;
        }
    }
    return 0;
}
