/* op_fused.c - hooks of onnxc's fused elementwise operator (ai.onnxc FusedElementwise) and the
 * epilogue attributes shared by FusedConv / FusedGemm / FusedMatMul (ops/op_fused.h).
 *
 * FusedElementwise(X0, ..., Xn-1) -> Y, created by passes/pass_fuse_elementwise.c from a chain
 * of elementwise nodes. Attributes (all required but `to`):
 *   program     INTS, 4 per instruction: op (RT_FOP_*), dst, a, b (runtime/rt_params_fused.h);
 *               registers 0..n-1 hold the inputs, operand -1 is the instruction's immediate
 *   immediates  FLOATS, one per instruction
 *   nregs       INT, registers used (inputs included)
 *   out_reg     INT, the register holding the result
 *   to          INT, Y's element type (default float32; float64, float16, bfloat16 allowed)
 *   ops         STRING (optional, informational): the fused op types, for dumps
 * The inputs may have any element type the kernel converts from (float types, 8- to 64-bit
 * integers, bool); Y's shape is the numpy broadcast of the inputs' shapes.
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"
#include "ops/op_fused.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------ epilogue attributes */

int op_fused_act_code(const char *name) {
    static const char *const names[RT_EPI_COUNT] = {
        [RT_EPI_RELU] = "Relu",       [RT_EPI_LEAKYRELU] = "LeakyRelu",
        [RT_EPI_CLIP] = "Clip",       [RT_EPI_SIGMOID] = "Sigmoid",
        [RT_EPI_HARDSIGMOID] = "HardSigmoid", [RT_EPI_TANH] = "Tanh"};
    for (int i = 1; name && i < RT_EPI_COUNT; i++)
        if (strcmp(names[i], name) == 0)
            return i;
    return -1;
}

int op_fused_epilogue(IrNode *n, IrDiag *d, RtEpilogue *e) {
    memset(e, 0, sizeof *e);
    const char *act = ir_attr_string(n, "activation", NULL);
    if (!act) {
        ir_error(d, n, "attribute 'activation' is missing");
        return -1;
    }
    int code = op_fused_act_code(act);
    if (code < 0) {
        ir_error(d, n, "activation '%s' is not supported (Relu, LeakyRelu, Clip, Sigmoid, "
                 "HardSigmoid, Tanh)", act);
        return -1;
    }
    const float *p = NULL;
    int np = ir_attr_floats(n, "activation_params", &p);
    if (np < 0)
        np = 0;
    int want = code == RT_EPI_LEAKYRELU ? 1 : (code == RT_EPI_CLIP || code == RT_EPI_HARDSIGMOID) ? 2 : 0;
    if (np != 0 && np != want) {
        ir_error(d, n, "activation %s takes %d activation_params, %d given", act, want, np);
        return -1;
    }
    e->act = code;
    switch (code) {
    case RT_EPI_LEAKYRELU: e->alpha = np ? p[0] : 0.01f; break;
    case RT_EPI_CLIP:
        e->alpha = np ? p[0] : -INFINITY;
        e->beta = np ? p[1] : INFINITY;
        break;
    case RT_EPI_HARDSIGMOID:
        e->alpha = np ? p[0] : 0.2f;
        e->beta = np ? p[1] : 0.5f;
        break;
    default: break;
    }
    return 0;
}

/* ------------------------------------------------------------------ FusedElementwise */

/* 1 if the kernel converts inputs of element type dt to float32. */
static int fe_in_type_ok(int dt) {
    switch (dt) {
    case IR_DT_FLOAT: case IR_DT_DOUBLE: case IR_DT_FLOAT16: case IR_DT_BFLOAT16:
    case IR_DT_INT8: case IR_DT_UINT8: case IR_DT_INT16: case IR_DT_UINT16:
    case IR_DT_INT32: case IR_DT_UINT32: case IR_DT_INT64: case IR_DT_UINT64: case IR_DT_BOOL:
        return 1;
    default:
        return 0;
    }
}

static int fe_out_type_ok(int64_t dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

static int fe_infer(IrNode *n, IrDiag *d) {
    int64_t to = ir_attr_int(n, "to", IR_DT_FLOAT);
    if (!fe_out_type_ok(to)) {
        ir_error(d, n, "attribute 'to' is %lld: the result must be float32/64/16 or bfloat16",
                 (long long)to);
        return -1;
    }
    IrType acc = {0};
    for (int i = 0; i < n->nin; i++) {
        const IrType *t = op_input_tensor(n, d, i);
        if (!t)
            return -1;
        if (!fe_in_type_ok(t->dtype)) {
            ir_error(d, n, "input %d has element type %s, which the kernel does not read", i,
                     ir_dtype_name(t->dtype));
            return -1;
        }
        if (i == 0) {
            acc = *t;
        } else {
            IrType r;
            if (op_broadcast_shapes(n, d, &acc, t, &r))
                return -1;
            acc = r;
        }
    }
    return op_set_output(n, 0, (IrDType)to, acc.rank, acc.dims);
}

/* Fills p from the attributes, checking every register and op code. */
static int fe_lower(IrNode *n, IrDiag *d) {
    RtFusedParams *p = op_params(n, d, "rt_k_fused_elementwise", sizeof *p);
    if (!p)
        return -1;
    const int64_t *prog = NULL;
    const float *imm = NULL;
    int np = ir_attr_ints(n, "program", &prog);
    int ni = ir_attr_floats(n, "immediates", &imm);
    int64_t nregs = ir_attr_int(n, "nregs", -1), out_reg = ir_attr_int(n, "out_reg", -1);
    if (np < 4 || np % 4 != 0 || np / 4 > RT_FUSED_MAX_OPS || ni != np / 4) {
        ir_error(d, n, "attribute 'program' must hold 4 ints per instruction (1..%d "
                 "instructions) and 'immediates' one float each", RT_FUSED_MAX_OPS);
        return -1;
    }
    if (n->nin < 1 || n->nin > RT_FUSED_MAX_IN || nregs < n->nin || nregs > RT_FUSED_MAX_REGS ||
        out_reg < 0 || out_reg >= nregs) {
        ir_error(d, n, "nregs %lld / out_reg %lld do not fit %d inputs (at most %d registers)",
                 (long long)nregs, (long long)out_reg, n->nin, RT_FUSED_MAX_REGS);
        return -1;
    }
    p->nin = n->nin;
    p->nops = np / 4;
    p->nregs = (int32_t)nregs;
    p->out_reg = (int32_t)out_reg;
    p->out_dtype = n->out[0]->type.dtype;
    for (int i = 0; i < n->nin; i++)
        p->in_dtype[i] = n->in[i]->type.dtype;
    for (int k = 0; k < p->nops; k++) {
        const int64_t *c = prog + 4 * k;
        int unary = c[0] != RT_FOP_ADD && c[0] != RT_FOP_SUB && c[0] != RT_FOP_MUL &&
                    c[0] != RT_FOP_DIV && c[0] != RT_FOP_POW;
        int ok = c[0] >= 0 && c[0] < RT_FOP_COUNT && c[1] >= n->nin && c[1] < nregs &&
                 c[2] >= RT_FUSED_IMM && c[2] < nregs &&
                 (unary ? c[3] == 0 : (c[3] >= RT_FUSED_IMM && c[3] < nregs));
        if (!ok) {
            ir_error(d, n, "instruction %d (%lld %lld %lld %lld) is invalid", k, (long long)c[0],
                     (long long)c[1], (long long)c[2], (long long)c[3]);
            return -1;
        }
        p->code[k] = (RtFusedInstr){(int8_t)c[0], (int8_t)c[1], (int8_t)c[2], (int8_t)c[3], imm[k]};
    }
    return 0;
}

const OpHooks op_hooks_FusedElementwise = {fe_infer, fe_lower, NULL};
