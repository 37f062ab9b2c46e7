/* grad_act.c - gradient rules of the act family's activations and unary math (ops/ops_act.def;
 * docs/TRAINING.md): dY * f'(X) through ActGrad; PRelu from Where; Einsum from Einsum. */
#include <stdio.h>
#include <string.h>

#include "ops/grad.h"
#include "runtime/rt_params.h"

static int act_x(GradCtx *c, int kind, double alpha, double beta, double gamma) {
    IrNode *f = grad_fwd(c);
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    IrValue *in[2] = {g, f->in[0]};
    IrNode *n = grad_node(c, GRAD_DOMAIN, "ActGrad", 2, in, 1);
    if (!n || grad_attr_int(c, n, "kind", kind) || grad_attr_float(c, n, "alpha", (float)alpha) ||
        grad_attr_float(c, n, "beta", (float)beta) || grad_attr_float(c, n, "gamma", (float)gamma))
        return -1;
    return grad_add(c, 0, grad_emit(c, n));
}

static int elu_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_ELU, ir_attr_float(f, "alpha", 1.0f), 0, 0);
}
static int softplus_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_SOFTPLUS, 0, 0, 0);
}
static int softsign_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_SOFTSIGN, 0, 0, 0);
}
static int hardsigmoid_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_HARDSIGMOID, ir_attr_float(f, "alpha", 0.2f), ir_attr_float(f, "beta", 0.5f), 0);
}
static int selu_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_SELU, ir_attr_float(f, "alpha", 1.67326319217681884765625f), 0,
                 ir_attr_float(f, "gamma", 1.05070102214813232421875f));
}
static int gelu_rule(IrNode *f, void *c, IrDiag *d) {
    const char *a = ir_attr_string(f, "approximate", "none");
    if (a && strcmp(a, "none") != 0) {
        ir_error(d, f, "gradient of Gelu with approximate='%s' is not supported", a);
        return -1;
    }
    return act_x(c, RT_AG_GELU, 0, 0, 0);
}
static int sin_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_SIN, 0, 0, 0);
}
static int cos_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_COS, 0, 0, 0);
}
static int erf_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_ERF, 0, 0, 0);
}

static int hardswish_rule(IrNode *f, void *c, IrDiag *d) {
    (void)f, (void)d;
    return act_x(c, RT_AG_HARDSWISH, 0, 0, 0);
}
static int swish_rule(IrNode *f, void *c, IrDiag *d) {
    (void)d;
    return act_x(c, RT_AG_SWISH, ir_attr_float(f, "alpha", 1.0f), 0, 0);
}

static IrValue *op2(GradCtx *c, const char *op_type, IrValue *a, IrValue *b) {
    return a && b ? grad_op2(c, op_type, a, b) : NULL;
}
static IrValue *where(GradCtx *c, IrValue *cond, IrValue *a, IrValue *b) {
    IrValue *in[3] = {cond, a, b};
    return cond && a && b ? grad_emit(c, grad_node(c, "", "Where", 3, in, 1)) : NULL;
}

/* PRelu: dX = dY where X > 0, else slope dY (PyTorch's choice at 0); dSlope = sum of X dY where
 * X <= 0, summed to the slope's shape. A 1-D slope aligned with the channel dim 1 (old opsets) is
 * viewed as [C, 1, ...]. */
static int prelu_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0), *x = f->in[0], *s = f->in[1], *sb = s;
    if (!g)
        return 0;
    int r = x->type.rank, numpy = s->type.rank <= r;
    for (int k = 0; numpy && k < s->type.rank; k++) {
        int64_t pd = s->type.dims[k].value, xd = x->type.dims[k + r - s->type.rank].value;
        numpy = pd == 1 || pd == xd;
    }
    if (!numpy) {
        if (s->type.rank != 1 || r < 2 || s->type.dims[0].value != x->type.dims[1].value) {
            ir_error(d, f, "gradient of PRelu: this slope alignment is not supported");
            return -1;
        }
        int64_t sd[IR_MAX_RANK];
        sd[0] = s->type.dims[0].value;
        for (int i = 1; i < r - 1; i++)
            sd[i] = 1;
        sb = op2(c, "Reshape", s, grad_const_i64(c, sd, r - 1));
    }
    IrValue *zero = grad_scalar(c, x->type.dtype, 0.0);
    IrValue *pos = op2(c, "Greater", x, zero);
    if (grad_wants(c, 0) && grad_add(c, 0, where(c, pos, g, op2(c, "Mul", g, sb))))
        return -1;
    if (grad_wants(c, 1)) {
        IrValue *t = where(c, pos, zero, op2(c, "Mul", g, x));
        if (grad_add(c, 1, grad_reshape_like(c, grad_sum_to(c, t, sb), s)))
            return -1;
    }
    return 0;
}

/* Einsum (letters only, no "...", no label repeated inside a term): dX_i is the Einsum of dY with
 * the other operands giving X_i's labels; labels only X_i has (summed away) are left out and
 * restored by broadcasting (Reshape + ExpandTo). */
static int einsum_rule(IrNode *f, void *ctx, IrDiag *d) {
    GradCtx *c = ctx;
    IrValue *g = grad_out(c, 0);
    if (!g)
        return 0;
    const char *eq = ir_attr_string(f, "equation", "");
    char term[9][IR_MAX_RANK + 1];
    int nt = 0, len = 0, explicit_out = 0, count[128] = {0};
    if (f->nin > 8) {
        ir_error(d, f, "gradient of Einsum with more than 8 inputs is not supported");
        return -1;
    }
    for (const char *q = eq;; q++) {
        if (*q == ' ')
            continue;
        if (*q == ',' || *q == '\0' || (q[0] == '-' && q[1] == '>')) {
            if (nt > 8)
                goto unsupported;
            term[nt++][len] = '\0';
            len = 0;
            if (*q == '\0')
                break;
            if (*q == '-') {
                explicit_out = 1;
                q++;
            }
            continue;
        }
        if (!((*q >= 'a' && *q <= 'z') || (*q >= 'A' && *q <= 'Z')) || len >= IR_MAX_RANK || nt > 8)
            goto unsupported;
        term[nt][len++] = *q;
        if (!explicit_out)
            count[(int)*q]++;
    }
    if (nt != f->nin + explicit_out)
        goto unsupported;
    if (!explicit_out) { /* implicit output: the labels used once, in ASCII order */
        len = 0;
        for (int ch = 0; ch < 128; ch++)
            if (count[ch] == 1)
                term[nt][len++] = (char)ch;
        term[nt++][len] = '\0';
    }
    const char *lo = term[nt - 1];
    for (int i = 0; i < f->nin; i++) {
        if (!grad_wants(c, i))
            continue;
        const char *li = term[i];
        IrValue *x = f->in[i], *in[9];
        int k = 0;
        char geq[9 * (IR_MAX_RANK + 1) + 4], keep[IR_MAX_RANK + 1];
        int pos = snprintf(geq, sizeof geq, "%s", lo);
        in[k++] = g;
        for (int j = 0; j < f->nin; j++)
            if (j != i) {
                pos += snprintf(geq + pos, sizeof geq - (size_t)pos, ",%s", term[j]);
                in[k++] = f->in[j];
            }
        int nk = 0;
        int64_t shape[IR_MAX_RANK];
        for (int a = 0; li[a]; a++) {
            if (strchr(li + a + 1, li[a]))
                goto unsupported;
            int seen = strchr(lo, li[a]) != NULL;
            for (int j = 0; j < f->nin && !seen; j++)
                seen = j != i && strchr(term[j], li[a]) != NULL;
            shape[a] = seen ? x->type.dims[a].value : 1;
            if (seen)
                keep[nk++] = li[a];
        }
        keep[nk] = '\0';
        snprintf(geq + pos, sizeof geq - (size_t)pos, "->%s", keep);
        IrNode *n = grad_node(c, "", "Einsum", k, in, 1);
        if (!n || grad_attr_string(c, n, "equation", geq))
            return -1;
        IrValue *gx = grad_emit(c, n);
        if (gx && nk < (int)strlen(li)) {
            IrValue *rs = op2(c, "Reshape", gx, grad_const_i64(c, shape, (int)strlen(li)));
            IrValue *ein[2] = {rs, x};
            gx = rs ? grad_emit(c, grad_node(c, GRAD_DOMAIN, "ExpandTo", 2, ein, 1)) : NULL;
        }
        if (grad_add(c, i, gx))
            return -1;
    }
    return 0;
unsupported:
    ir_error(d, f, "gradient of Einsum '%s' is not supported (letters only, no \"...\", no label "
             "repeated inside a term)", eq);
    return -1;
}

const OpGradFn op_grad_Elu = elu_rule;
const OpGradFn op_grad_Softplus = softplus_rule;
const OpGradFn op_grad_Softsign = softsign_rule;
const OpGradFn op_grad_HardSigmoid = hardsigmoid_rule;
const OpGradFn op_grad_Selu = selu_rule;
const OpGradFn op_grad_Gelu = gelu_rule;
const OpGradFn op_grad_Sin = sin_rule;
const OpGradFn op_grad_Cos = cos_rule;
const OpGradFn op_grad_Erf = erf_rule;
const OpGradFn op_grad_HardSwish = hardswish_rule;
const OpGradFn op_grad_Swish = swish_rule;
const OpGradFn op_grad_PRelu = prelu_rule;
const OpGradFn op_grad_Einsum = einsum_rule;
