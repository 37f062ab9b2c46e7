/* op_rnn.c - infer and lower hooks of the recurrent family: RNN, GRU, LSTM (one kernel,
 * rt_k_rnn in runtime/rt_rnn.c; parameter block in runtime/rt_params_rnn.h; notes in
 * docs/OPS_VISION.md, "Recurrent ops").
 *
 * ONNX specification: docs/Operators.md, sections RNN, GRU, LSTM (opsets 7, 14, 22; 1 and 3
 * for GRU/LSTM/RNN where they differ only in the optional `output_sequence`, which is ignored:
 * the outputs present decide). Attributes: direction (forward, reverse, bidirectional),
 * hidden_size (else taken from R), activations (f[, g[, h]] per direction), activation_alpha,
 * activation_beta (consumed in order by the activations that take them, defaults those of the
 * ONNX operators of the same name: LeakyRelu 0.01, ThresholdedRelu 1, HardSigmoid 0.2/0.5,
 * Elu 1; Affine 1/0 and ScaledTanh 1/1), clip, input_forget (LSTM), linear_before_reset
 * (GRU), layout (14: 1 = batch first). Inputs X, W, R, B, sequence_lens (int32), initial_h,
 * initial_c and P (LSTM); outputs Y, Y_h, Y_c (LSTM), each optional.
 */
#include <string.h>
#include <strings.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* Cell type of node n. */
static int rnn_cell(const IrNode *n) {
    return n->op == OP_GRU ? RT_RNN_GRU : n->op == OP_LSTM ? RT_RNN_LSTM : RT_RNN_SIMPLE;
}

/* Names, defaults and alpha/beta use of the activations. */
static const struct {
    const char *name;
    int uses_alpha, uses_beta;
    double alpha, beta;
} rnn_acts[RT_RNN_ACT_COUNT] = {
    [RT_RNN_ACT_RELU] = {"Relu", 0, 0, 0, 0},
    [RT_RNN_ACT_TANH] = {"Tanh", 0, 0, 0, 0},
    [RT_RNN_ACT_SIGMOID] = {"Sigmoid", 0, 0, 0, 0},
    [RT_RNN_ACT_AFFINE] = {"Affine", 1, 1, 1.0, 0.0},
    [RT_RNN_ACT_LEAKYRELU] = {"LeakyRelu", 1, 0, 0.01, 0},
    [RT_RNN_ACT_THRESHOLDEDRELU] = {"ThresholdedRelu", 1, 0, 1.0, 0},
    [RT_RNN_ACT_SCALEDTANH] = {"ScaledTanh", 1, 1, 1.0, 1.0},
    [RT_RNN_ACT_HARDSIGMOID] = {"HardSigmoid", 1, 1, 0.2, 0.5},
    [RT_RNN_ACT_ELU] = {"Elu", 1, 0, 1.0, 0},
    [RT_RNN_ACT_SOFTSIGN] = {"Softsign", 0, 0, 0, 0},
    [RT_RNN_ACT_SOFTPLUS] = {"Softplus", 0, 0, 0, 0},
};

/* Everything the attributes decide (the kernel's parameter block). -1 + diag. */
static int rnn_params(IrNode *n, IrDiag *d, RtRnnParams *p) {
    memset(p, 0, sizeof *p);
    p->cell = rnn_cell(n);
    const char *dir = ir_attr_string(n, "direction", "forward");
    if (strcmp(dir, "forward") == 0)
        p->direction = 0;
    else if (strcmp(dir, "reverse") == 0)
        p->direction = 1;
    else if (strcmp(dir, "bidirectional") == 0)
        p->direction = 2;
    else {
        ir_error(d, n, "attribute 'direction' is '%s', expected forward, reverse or bidirectional",
                 dir);
        return -1;
    }
    int nd = p->direction == 2 ? 2 : 1;
    int per = p->cell == RT_RNN_SIMPLE ? 1 : p->cell == RT_RNN_GRU ? 2 : 3;
    /* hidden_size, else R's last dim */
    IrValue *r = ir_node_in(n, 2);
    int64_t h = ir_attr_int(n, "hidden_size", -1);
    if (h < 0 && r && r->type.kind == IR_TYPE_TENSOR && r->type.rank == 3)
        h = r->type.dims[2].value;
    if (h < 1 || h > ((int64_t)1 << 30)) {
        ir_error(d, n, "hidden_size is %lld (missing or out of range)", (long long)h);
        return -1;
    }
    p->hidden = h;
    p->layout = n->opset >= 14 ? (int32_t)ir_attr_int(n, "layout", 0) : 0;
    if (p->layout != 0 && p->layout != 1) {
        ir_error(d, n, "attribute 'layout' is %d, expected 0 or 1", (int)p->layout);
        return -1;
    }
    const IrAttr *ca = ir_node_attr(n, "clip");
    if (ca) {
        p->has_clip = 1;
        p->clip = ir_attr_float(n, "clip", 0.0f);
        if (!(p->clip > 0)) {
            ir_error(d, n, "attribute 'clip' must be positive");
            return -1;
        }
    }
    p->input_forget = p->cell == RT_RNN_LSTM && ir_attr_int(n, "input_forget", 0) != 0;
    p->linear_before_reset = p->cell == RT_RNN_GRU && ir_attr_int(n, "linear_before_reset", 0) != 0;
    /* activations: defaults f = Sigmoid (Tanh for RNN), g = h = Tanh */
    static const int dflt[3][3] = {{RT_RNN_ACT_TANH, 0, 0},
                                   {RT_RNN_ACT_SIGMOID, RT_RNN_ACT_TANH, 0},
                                   {RT_RNN_ACT_SIGMOID, RT_RNN_ACT_TANH, RT_RNN_ACT_TANH}};
    const IrAttr *aa = ir_node_attr(n, "activations");
    if (aa && aa->kind != IR_ATTR_STRINGS) {
        ir_error(d, n, "attribute 'activations' must be a list of strings");
        return -1;
    }
    if (aa && aa->n != per * nd) {
        ir_error(d, n, "attribute 'activations' has %d entries, expected %d", aa->n, per * nd);
        return -1;
    }
    const float *al = NULL, *be = NULL;
    int nal = ir_attr_floats(n, "activation_alpha", &al), nbe = ir_attr_floats(n, "activation_beta", &be);
    int ia = 0, ib = 0;
    for (int k = 0; k < nd; k++)
        for (int j = 0; j < 3; j++) {
            int f = RT_RNN_ACT_TANH;
            if (j < per && aa) {
                const IrString *s = &aa->strings[k * per + j];
                f = -1;
                for (int q = 0; q < RT_RNN_ACT_COUNT && f < 0; q++)
                    if (strlen(rnn_acts[q].name) == s->len &&
                        strncasecmp(rnn_acts[q].name, s->data, s->len) == 0)
                        f = q;
                if (f < 0) {
                    ir_error(d, n, "activation '%.*s' is not supported", (int)(s->len > 64 ? 64 : s->len),
                             s->data);
                    return -1;
                }
            } else if (j < per)
                f = dflt[p->cell][j];
            p->act[k][j] = f;
            p->alpha[k][j] = rnn_acts[f].alpha;
            p->beta[k][j] = rnn_acts[f].beta;
            if (j < per && rnn_acts[f].uses_alpha && ia < nal)
                p->alpha[k][j] = al[ia++];
            if (j < per && rnn_acts[f].uses_beta && ib < nbe)
                p->beta[k][j] = be[ib++];
        }
    return 0;
}

static int rnn_is_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

/* Input i, if present, has rank `rank`, element type dt and dims compatible with `want`
 * (entries < 0 unchecked). */
static int rnn_check(IrNode *n, IrDiag *d, int i, const char *what, IrDType dt, int rank,
                     const int64_t *want) {
    IrValue *v = ir_node_in(n, i);
    if (!v)
        return 0;
    if (v->type.kind != IR_TYPE_TENSOR || v->type.rank != rank) {
        ir_error(d, n, "input %d (%s) must be a tensor of rank %d", i, what, rank);
        return -1;
    }
    if (v->type.dtype != dt) {
        ir_error(d, n, "input %d (%s) has element type %s, expected %s", i, what,
                 ir_dtype_name(v->type.dtype), ir_dtype_name(dt));
        return -1;
    }
    for (int k = 0; k < rank; k++) {
        int64_t have = v->type.dims[k].value;
        if (want[k] >= 0 && have >= 0 && have != want[k]) {
            ir_error(d, n, "input %d (%s) has dim %d = %lld, expected %lld", i, what, k,
                     (long long)have, (long long)want[k]);
            return -1;
        }
    }
    return 0;
}

static int infer_rnn(IrNode *n, IrDiag *d) {
    RtRnnParams p;
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x || rnn_params(n, d, &p))
        return -1;
    if (!rnn_is_float(x->dtype) || x->rank != 3) {
        ir_error(d, n, "X must be a rank-3 tensor of a float type (it is %s of rank %d)",
                 ir_dtype_name(x->dtype), x->rank);
        return -1;
    }
    int64_t D = p.direction == 2 ? 2 : 1, H = p.hidden;
    int64_t G = p.cell == RT_RNN_SIMPLE ? 1 : p.cell == RT_RNN_GRU ? 3 : 4;
    IrDim T = x->dims[p.layout ? 1 : 0], B = x->dims[p.layout ? 0 : 1];
    int64_t I = x->dims[2].value, b = B.value;
    int64_t ww[3] = {D, G * H, I}, rw[3] = {D, G * H, H}, bw[2] = {D, 2 * G * H}, sw[1] = {b};
    int64_t hw[3] = {p.layout ? b : D, p.layout ? D : b, H}, pw[2] = {D, 3 * H};
    if (rnn_check(n, d, 1, "W", x->dtype, 3, ww) || rnn_check(n, d, 2, "R", x->dtype, 3, rw) ||
        rnn_check(n, d, 3, "B", x->dtype, 2, bw) ||
        rnn_check(n, d, 4, "sequence_lens", IR_DT_INT32, 1, sw) ||
        rnn_check(n, d, 5, "initial_h", x->dtype, 3, hw) ||
        (p.cell == RT_RNN_LSTM && (rnn_check(n, d, 6, "initial_c", x->dtype, 3, hw) ||
                                   rnn_check(n, d, 7, "P", x->dtype, 2, pw))))
        return -1;
    if (p.cell != RT_RNN_LSTM && n->nin > 6) {
        for (int i = 6; i < n->nin; i++)
            if (n->in[i]) {
                ir_error(d, n, "%s has at most 6 inputs", n->op_type);
                return -1;
            }
    }
    IrDim dd = {D, NULL}, hd = {H, NULL};
    IrDim y[4], s[3];
    if (p.layout) {
        y[0] = B, y[1] = T, y[2] = dd, y[3] = hd;
        s[0] = B, s[1] = dd, s[2] = hd;
    } else {
        y[0] = T, y[1] = dd, y[2] = B, y[3] = hd;
        s[0] = dd, s[1] = B, s[2] = hd;
    }
    if (op_set_output(n, 0, x->dtype, 4, y) || op_set_output(n, 1, x->dtype, 3, s) ||
        (p.cell == RT_RNN_LSTM && op_set_output(n, 2, x->dtype, 3, s))) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_rnn(IrNode *n, IrDiag *d) {
    RtRnnParams q;
    if (rnn_params(n, d, &q))
        return -1;
    RtRnnParams *p = op_params(n, d, "rt_k_rnn", sizeof *p);
    if (!p)
        return -1;
    *p = q;
    return 0;
}

/* ---------------------------------------------------------------- the table's hooks */

const OpHooks op_hooks_RNN = {infer_rnn, lower_rnn, NULL};
const OpHooks op_hooks_GRU = {infer_rnn, lower_rnn, NULL};
const OpHooks op_hooks_LSTM = {infer_rnn, lower_rnn, NULL};
