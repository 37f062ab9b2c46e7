/* test_ops_attn.c - tests of the attention family (ops/op_attn.c, runtime/rt_attn.c): the kernels
 * on inputs small enough to work out by hand (softmax of [0, 1] is [1/(1+e), e/(1+e)]), the
 * infer/lower hooks on small graphs (shapes of every output, attribute errors) and the kernels'
 * refusal of malformed calls. The ONNX backend node tests run end to end through
 * build/onnxc_conformance --filter test_attention / test_rotary.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ir/ir.h"
#include "ops/op.h"
#include "runtime/onnxc_rt.h"
#include "runtime/rt_halfconv.h"
#include "runtime/rt_params.h"
#include "tests/test_util.h"

/* ------------------------------------------------------------------ helpers */

/* Asserts |got[i] - want[i]| <= tol (1 + |want[i]|) (or both -inf) for n floats. */
static void near_f(const float *got, const double *want, int n, double tol) {
    for (int i = 0; i < n; i++) {
        if (isinf(want[i]) && got[i] == (float)want[i])
            continue;
        double e = fabs((double)got[i] - want[i]) / (1.0 + fabs(want[i]));
        if (!(e <= tol)) {
            print_message("element %d: got %.9g, want %.9g\n", i, (double)got[i], want[i]);
            fail();
        }
    }
}

#define S0 0.2689414213699951 /* 1 / (1 + e): softmax([0, 1])[0] */
#define S1 0.7310585786300049
#define Y01 2.46211715726001 /* S0 * 1 + S1 * 3 */

/* ------------------------------------------------------------------ Attention kernel */

/* One head, keys [0, 1], values [1, 3]: plain, causal (qk modes 0, 2, 3), bool mask with a fully
 * masked row, and past key/value concatenation. */
static void test_attention_basic(void **state) {
    (void)state;
    float q[2] = {1, 1}, k[2] = {0, 1}, v[2] = {1, 3}, y[2], qk[4];
    int64_t dq1[4] = {1, 1, 1, 1}, dq2[4] = {1, 1, 2, 1}, dk[4] = {1, 1, 2, 1};
    int64_t dqk1[4] = {1, 1, 1, 2}, dqk2[4] = {1, 1, 2, 2};
    RtAttentionParams p = {0, 0, 0, 0, 0.0f, 0.0f};
    RtTensor in[7] = {tn(q, IR_DT_FLOAT, 4, dq1), tn(k, IR_DT_FLOAT, 4, dk),
                      tn(v, IR_DT_FLOAT, 4, dk), absent, absent, absent, absent};
    RtTensor out[4] = {tn(y, IR_DT_FLOAT, 4, dq1), absent, absent, tn(qk, IR_DT_FLOAT, 4, dqk1)};
    assert_int_equal(run_k("rt_k_attention", &p, in, 7, out, 4), 0);
    near_f(y, (const double[]){Y01}, 1, 1e-6);
    near_f(qk, (const double[]){0, 1}, 2, 1e-6);
    /* causal over two query rows: row 0 sees key 0 only */
    in[0] = tn(q, IR_DT_FLOAT, 4, dq2);
    out[0] = tn(y, IR_DT_FLOAT, 4, dq2);
    out[3] = tn(qk, IR_DT_FLOAT, 4, dqk2);
    p.is_causal = 1;
    assert_int_equal(run_k("rt_k_attention", &p, in, 7, out, 4), 0);
    near_f(y, (const double[]){1, Y01}, 2, 1e-6);
    near_f(qk, (const double[]){0, 1, 0, 1}, 4, 1e-6);
    p.qk_mode = 2;
    assert_int_equal(run_k("rt_k_attention", &p, in, 7, out, 4), 0);
    near_f(qk, (const double[]){0, -INFINITY, 0, 1}, 4, 1e-6);
    p.qk_mode = 3;
    assert_int_equal(run_k("rt_k_attention", &p, in, 7, out, 4), 0);
    near_f(qk, (const double[]){1, 0, S0, S1}, 4, 1e-6);
    /* bool mask [[F, F], [T, T]], not causal: row 0 fully masked -> zeros, not NaN */
    uint8_t mask[4] = {0, 0, 1, 1};
    int64_t dm[2] = {2, 2};
    in[3] = tn(mask, IR_DT_BOOL, 2, dm);
    p.is_causal = 0;
    assert_int_equal(run_k("rt_k_attention", &p, in, 7, out, 4), 0);
    near_f(y, (const double[]){0, Y01}, 2, 1e-6);
    near_f(qk, (const double[]){0, 0, S0, S1}, 4, 1e-6);
    /* a float mask of one key is padded with -inf: only key 0 is seen */
    float fmask[1] = {0.0f};
    int64_t dm1[1] = {1};
    in[3] = tn(fmask, IR_DT_FLOAT, 1, dm1);
    assert_int_equal(run_k("rt_k_attention", &p, in, 7, out, 4), 0);
    near_f(y, (const double[]){1, 1}, 2, 1e-6);
    /* past key 0 / value 1 followed by the new key 1 / value 3 */
    float pk[1] = {0}, pv[1] = {1}, nk[1] = {1}, nv[1] = {3}, prk[2], prv[2];
    int64_t d1[4] = {1, 1, 1, 1}, d2[4] = {1, 1, 2, 1};
    RtTensor pin[6] = {tn(q, IR_DT_FLOAT, 4, d1), tn(nk, IR_DT_FLOAT, 4, d1),
                       tn(nv, IR_DT_FLOAT, 4, d1), absent, tn(pk, IR_DT_FLOAT, 4, d1),
                       tn(pv, IR_DT_FLOAT, 4, d1)};
    RtTensor pout[3] = {tn(y, IR_DT_FLOAT, 4, d1), tn(prk, IR_DT_FLOAT, 4, d2),
                        tn(prv, IR_DT_FLOAT, 4, d2)};
    p.qk_mode = 0;
    p.is_causal = 1; /* offset = past length: the single query sees both keys */
    assert_int_equal(run_k("rt_k_attention", &p, pin, 6, pout, 3), 0);
    near_f(y, (const double[]){Y01}, 1, 1e-6);
    near_f(prk, (const double[]){0, 1}, 2, 0);
    near_f(prv, (const double[]){1, 3}, 2, 0);
}

/* 3-D inputs with grouped-query attention (2 query heads on 1 kv head), softcap, explicit scale,
 * float16 and nonpad_kv_seqlen. */
static void test_attention_gqa_softcap(void **state) {
    (void)state;
    float q[2] = {1, 2}, k[2] = {0, 1}, v[2] = {1, 3}, y[2];
    int64_t dq[3] = {1, 1, 2}, dk[3] = {1, 2, 1};
    RtAttentionParams p = {2, 1, 0, 0, 0.0f, 0.0f};
    RtTensor in[3] = {tn(q, IR_DT_FLOAT, 3, dq), tn(k, IR_DT_FLOAT, 3, dk),
                      tn(v, IR_DT_FLOAT, 3, dk)};
    RtTensor out[1] = {tn(y, IR_DT_FLOAT, 3, dq)};
    assert_int_equal(run_k("rt_k_attention", &p, in, 3, out, 1), 0);
    /* head 1: scores [0, 2], softmax [1, e^2] / (1 + e^2) */
    near_f(y, (const double[]){Y01, 2.7615941559557653}, 2, 1e-6);
    /* explicit scale 0.5 halves head 1's scores back to [0, 1] */
    p.scale = 0.5f;
    assert_int_equal(run_k("rt_k_attention", &p, in, 3, out, 1), 0);
    near_f(y + 1, (const double[]){Y01}, 1, 1e-6);
    /* softcap 0.5 maps score 1 to 0.5 tanh(2) = 0.48201379 */
    p.scale = 1.0f;
    p.softcap = 0.5f;
    assert_int_equal(run_k("rt_k_attention", &p, in, 3, out, 1), 0);
    near_f(y, (const double[]){2.2364465781424006}, 1, 1e-6);
    /* float16 */
    uint16_t hq[2], hk[2], hv[2], hy[2];
    for (int i = 0; i < 2; i++)
        hq[i] = rt_f2h(q[i]), hk[i] = rt_f2h(k[i]), hv[i] = rt_f2h(v[i]);
    RtTensor hin[3] = {tn(hq, IR_DT_FLOAT16, 3, dq), tn(hk, IR_DT_FLOAT16, 3, dk),
                       tn(hv, IR_DT_FLOAT16, 3, dk)};
    RtTensor hout[1] = {tn(hy, IR_DT_FLOAT16, 3, dq)};
    p.softcap = 0.0f;
    p.scale = 0.0f;
    assert_int_equal(run_k("rt_k_attention", &p, hin, 3, hout, 1), 0);
    float fy[2] = {rt_h2f(hy[0]), rt_h2f(hy[1])};
    near_f(fy, (const double[]){Y01, 2.7615941559557653}, 2, 1e-3);
    /* nonpad_kv_seqlen = 1: only key 0 is valid */
    int64_t nonpad[1] = {1}, dn[1] = {1};
    RtTensor nin[7] = {in[0], in[1], in[2], absent, absent, absent, tn(nonpad, IR_DT_INT64, 1, dn)};
    assert_int_equal(run_k("rt_k_attention", &p, nin, 7, out, 1), 0);
    near_f(y, (const double[]){1, 1}, 2, 1e-6);
}

/* ------------------------------------------------------------------ RotaryEmbedding kernel */

static void test_rotary(void **state) {
    (void)state;
    float x[4] = {1, 2, 3, 4}, y[4], c[2] = {0, 1}, s[2] = {1, 0};
    int64_t dx[4] = {1, 1, 1, 4}, dc[3] = {1, 1, 2};
    RtRotaryParams p = {0, 0, 0};
    RtTensor in[4] = {tn(x, IR_DT_FLOAT, 4, dx), tn(c, IR_DT_FLOAT, 3, dc),
                      tn(s, IR_DT_FLOAT, 3, dc), absent};
    RtTensor out[1] = {tn(y, IR_DT_FLOAT, 4, dx)};
    /* halves (1, 3) at 90 degrees and (2, 4) at 0 degrees */
    assert_int_equal(run_k("rt_k_rotary_embedding", &p, in, 4, out, 1), 0);
    near_f(y, (const double[]){-3, 2, 1, 4}, 4, 1e-6);
    /* interleaved pairs (1, 2) and (3, 4) */
    p.interleaved = 1;
    assert_int_equal(run_k("rt_k_rotary_embedding", &p, in, 4, out, 1), 0);
    near_f(y, (const double[]){-2, 1, 3, 4}, 4, 1e-6);
    /* 3-D X with 2 heads of 2, rotary dim 2, caches indexed by position_ids */
    float cc[3] = {1, 0, -1}, sc[3] = {0, 1, 0};
    int64_t dx3[3] = {1, 1, 4}, dcc[2] = {3, 1}, dp[2] = {1, 1}, pos[1] = {1};
    RtRotaryParams p3 = {0, 2, 2};
    RtTensor in3[4] = {tn(x, IR_DT_FLOAT, 3, dx3), tn(cc, IR_DT_FLOAT, 2, dcc),
                       tn(sc, IR_DT_FLOAT, 2, dcc), tn(pos, IR_DT_INT64, 2, dp)};
    RtTensor out3[1] = {tn(y, IR_DT_FLOAT, 3, dx3)};
    assert_int_equal(run_k("rt_k_rotary_embedding", &p3, in3, 4, out3, 1), 0);
    near_f(y, (const double[]){-2, 1, -4, 3}, 4, 1e-6);
    pos[0] = 2;
    assert_int_equal(run_k("rt_k_rotary_embedding", &p3, in3, 4, out3, 1), 0);
    near_f(y, (const double[]){-1, -2, -3, -4}, 4, 1e-6);
    /* out-of-range position ids are refused */
    pos[0] = 3;
    assert_int_equal(run_k("rt_k_rotary_embedding", &p3, in3, 4, out3, 1), ONNXC_ERR_RUNTIME);
    pos[0] = -1;
    assert_int_equal(run_k("rt_k_rotary_embedding", &p3, in3, 4, out3, 1), ONNXC_ERR_RUNTIME);
}

/* ------------------------------------------------------------------ CausalConvWithState */

/* C = 1, K = 3, weights [1, 2, 3]: y[t] = x[t-2] + 2 x[t-1] + 3 x[t] over past state + input. */
static void test_causal_conv(void **state) {
    (void)state;
    float x[3] = {1, 2, 3}, w[3] = {1, 2, 3}, b[1] = {10}, past[2] = {4, 5}, y[3], st[2];
    int64_t dx[3] = {1, 1, 3}, dw[3] = {1, 1, 3}, db[1] = {1}, ds[3] = {1, 1, 2};
    RtCausalConvParams p = {0};
    RtTensor in[4] = {tn(x, IR_DT_FLOAT, 3, dx), tn(w, IR_DT_FLOAT, 3, dw), absent, absent};
    RtTensor out[2] = {tn(y, IR_DT_FLOAT, 3, dx), tn(st, IR_DT_FLOAT, 3, ds)};
    assert_int_equal(run_k("rt_k_causal_conv_state", &p, in, 4, out, 2), 0);
    near_f(y, (const double[]){3, 8, 14}, 3, 1e-6); /* zero state */
    near_f(st, (const double[]){2, 3}, 2, 0);
    in[2] = tn(b, IR_DT_FLOAT, 1, db);
    in[3] = tn(past, IR_DT_FLOAT, 3, ds);
    assert_int_equal(run_k("rt_k_causal_conv_state", &p, in, 4, out, 2), 0);
    /* padded [4, 5, 1, 2, 3]: 4 + 10 + 3 = 17, 5 + 2 + 6 = 13, 1 + 4 + 9 = 14, plus bias 10 */
    near_f(y, (const double[]){27, 23, 24}, 3, 1e-6);
    near_f(st, (const double[]){2, 3}, 2, 0);
    /* silu: 27 * sigmoid(27) */
    p.silu = 1;
    assert_int_equal(run_k("rt_k_causal_conv_state", &p, in, 4, out, 2), 0);
    near_f(y, (const double[]){27.0 / (1.0 + exp(-27.0))}, 1, 1e-6);
    /* a past state of the wrong length is refused */
    int64_t dbad[3] = {1, 1, 1};
    in[3] = tn(past, IR_DT_FLOAT, 3, dbad);
    assert_int_equal(run_k("rt_k_causal_conv_state", &p, in, 4, out, 2), ONNXC_ERR_SHAPE);
}

/* ------------------------------------------------------------------ LinearAttention */

/* One head, dk = dv = 1, q = [1, 1], k = [1, 2], v = [3, 4], scale 1:
 * linear: S = 3, then 3 + 2 * 4 = 11; gated (decay log 0.5): 3, then 1.5 + 8 = 9.5;
 * delta (beta 1): v' = 3 - 0, S = 3; v' = 4 - 2 * 3 = -2, S = 3 + 2 * -2 = -1. */
static void test_linear_attention(void **state) {
    (void)state;
    float q[2] = {1, 1}, k[2] = {1, 2}, v[2] = {3, 4}, y[2], st[1];
    float dec[2] = {(float)log(0.5), (float)log(0.5)}, beta[2] = {1, 1}, past[1] = {1};
    int64_t d3[3] = {1, 2, 1}, ds[4] = {1, 1, 1, 1};
    RtLinearAttnParams p = {1, 1, 0, 0, 1.0f};
    RtTensor in[6] = {tn(q, IR_DT_FLOAT, 3, d3), tn(k, IR_DT_FLOAT, 3, d3),
                      tn(v, IR_DT_FLOAT, 3, d3), absent, absent, absent};
    RtTensor out[2] = {tn(y, IR_DT_FLOAT, 3, d3), tn(st, IR_DT_FLOAT, 4, ds)};
    assert_int_equal(run_k("rt_k_linear_attention", &p, in, 6, out, 2), 0);
    near_f(y, (const double[]){3, 11}, 2, 1e-6);
    near_f(st, (const double[]){11}, 1, 1e-6);
    in[3] = tn(past, IR_DT_FLOAT, 4, ds); /* past state 1 adds 1 to both outputs */
    assert_int_equal(run_k("rt_k_linear_attention", &p, in, 6, out, 2), 0);
    near_f(y, (const double[]){4, 12}, 2, 1e-6);
    in[3] = absent;
    in[4] = tn(dec, IR_DT_FLOAT, 3, d3);
    assert_int_equal(run_k("rt_k_linear_attention", &p, in, 6, out, 2), ONNXC_ERR_SHAPE);
    p.gating = 1;
    assert_int_equal(run_k("rt_k_linear_attention", &p, in, 6, out, 2), 0);
    near_f(y, (const double[]){3, 9.5}, 2, 1e-6);
    p.gating = 0, p.delta = 1;
    in[4] = absent;
    in[5] = tn(beta, IR_DT_FLOAT, 3, d3);
    assert_int_equal(run_k("rt_k_linear_attention", &p, in, 6, out, 2), 0);
    near_f(y, (const double[]){3, -1}, 2, 1e-6);
}

/* ------------------------------------------------------------------ malformed calls */

static void test_kernel_errors(void **state) {
    (void)state;
    float q[8] = {0}, y[8];
    int64_t d4[4] = {1, 1, 2, 2}, d3[3] = {1, 2, 3}, dbad[4] = {1, 1, 3, 2};
    RtAttentionParams p = {0, 0, 0, 0, 0.0f, 0.0f};
    RtTensor in[3] = {tn(q, IR_DT_FLOAT, 4, d4), tn(q, IR_DT_FLOAT, 4, d4), tn(q, IR_DT_FLOAT, 4, d4)};
    RtTensor out[1] = {tn(y, IR_DT_FLOAT, 4, d4)};
    assert_int_equal(run_k("rt_k_attention", &p, in, 3, out, 1), 0);
    assert_int_not_equal(run_k("rt_k_attention", &p, in, 2, out, 1), 0);
    RtTensor bad_out[1] = {tn(y, IR_DT_FLOAT, 4, dbad)};
    assert_int_equal(run_k("rt_k_attention", &p, in, 3, bad_out, 1), ONNXC_ERR_SHAPE);
    in[1] = tn(q, IR_DT_INT32, 4, d4);
    assert_int_equal(run_k("rt_k_attention", &p, in, 3, out, 1), ONNXC_ERR_TYPE);
    /* 3-D without head counts, or with heads that do not divide the hidden size */
    RtTensor in3[3] = {tn(q, IR_DT_FLOAT, 3, d3), tn(q, IR_DT_FLOAT, 3, d3), tn(q, IR_DT_FLOAT, 3, d3)};
    RtTensor out3[1] = {tn(y, IR_DT_FLOAT, 3, d3)};
    assert_int_equal(run_k("rt_k_attention", &p, in3, 3, out3, 1), ONNXC_ERR_SHAPE);
    p.q_heads = 2, p.kv_heads = 2;
    assert_int_equal(run_k("rt_k_attention", &p, in3, 3, out3, 1), ONNXC_ERR_SHAPE);
    p.q_heads = 3, p.kv_heads = 3;
    assert_int_equal(run_k("rt_k_attention", &p, in3, 3, out3, 1), 0);
    /* a mask that does not broadcast */
    uint8_t m[3] = {1, 1, 1};
    int64_t dm[2] = {3, 1};
    RtTensor min[4] = {in3[0], in3[1], in3[2], tn(m, IR_DT_BOOL, 2, dm)};
    assert_int_equal(run_k("rt_k_attention", &p, min, 4, out3, 1), ONNXC_ERR_SHAPE);
    /* rotary: odd rotary dim, cache of the wrong width */
    float c[2] = {1, 1};
    int64_t dx[4] = {1, 1, 1, 4}, dc[3] = {1, 1, 2}, dc1[3] = {1, 1, 1};
    RtRotaryParams rp = {0, 3, 0};
    RtTensor rin[3] = {tn(q, IR_DT_FLOAT, 4, dx), tn(c, IR_DT_FLOAT, 3, dc), tn(c, IR_DT_FLOAT, 3, dc)};
    RtTensor rout[1] = {tn(y, IR_DT_FLOAT, 4, dx)};
    assert_int_equal(run_k("rt_k_rotary_embedding", &rp, rin, 3, rout, 1), ONNXC_ERR_SHAPE);
    rp.rot_dim = 0;
    assert_int_equal(run_k("rt_k_rotary_embedding", &rp, rin, 3, rout, 1), 0);
    rin[1] = tn(c, IR_DT_FLOAT, 3, dc1);
    assert_int_equal(run_k("rt_k_rotary_embedding", &rp, rin, 3, rout, 1), ONNXC_ERR_SHAPE);
    assert_int_not_equal(run_k("rt_k_rotary_embedding", NULL, rin, 1, rout, 1), 0);
}

/* ------------------------------------------------------------------ infer and lower */

typedef struct Fx {
    IrModel *m;
    IrGraph *g;
    IrDiag d;
} Fx;

static IrValue *mkval(Fx *f, const char *name, IrDType dt, int rank, const int64_t *dims) {
    IrValue *v = ir_value_new(f->g, name);
    assert_int_equal(ir_type_set_tensor(f->g->arena, &v->type, dt, rank, dims), 0);
    return v;
}

static IrNode *mknode(Fx *f, const char *op, int opset, int nin, IrValue **in, int nout) {
    static int k = 0;
    IrValue *outs[4];
    char name[32];
    for (int i = 0; i < nout; i++) {
        snprintf(name, sizeof name, "v%d_%d", k, i);
        outs[i] = ir_value_new(f->g, name);
    }
    snprintf(name, sizeof name, "n%d", k++);
    IrNode *n = ir_node_new(f->g, NULL, name, "", op, opset, nin, in, nout, outs);
    assert_non_null(n);
    return n;
}

static void set_int(IrNode *n, const char *name, int64_t v) {
    ir_node_add_attr(n, name, IR_ATTR_INT)->i = v;
}

/* Asserts value v has static shape dims[0..rank-1]. */
static void shape_is(const IrValue *v, int rank, const int64_t *dims) {
    assert_int_equal(v->type.rank, rank);
    for (int i = 0; i < rank; i++)
        assert_int_equal(v->type.dims[i].value, dims[i]);
}

static void test_infer_lower(void **state) {
    (void)state;
    Fx f;
    f.m = ir_model_create();
    f.g = ir_graph_create(f.m, NULL, "g");
    f.m->graph = f.g;
    ir_diag_init(&f.d, "test");
    /* 3-D GQA with past: Q [2, 4, 8 * 3], K/V [2, 4, 2 * 3], past [2, 2, 5, 3] */
    int64_t dq[3] = {2, 4, 24}, dk[3] = {2, 4, 6}, dp[4] = {2, 2, 5, 3};
    IrValue *in[6] = {mkval(&f, "q", IR_DT_FLOAT, 3, dq), mkval(&f, "k", IR_DT_FLOAT, 3, dk),
                      mkval(&f, "v", IR_DT_FLOAT, 3, dk), NULL,
                      mkval(&f, "pk", IR_DT_FLOAT, 4, dp), mkval(&f, "pv", IR_DT_FLOAT, 4, dp)};
    IrNode *n = mknode(&f, "Attention", 23, 6, in, 4);
    assert_int_equal(op_infer_node(n, &f.d), -1); /* no head counts */
    set_int(n, "q_num_heads", 8);
    set_int(n, "kv_num_heads", 2);
    assert_int_equal(op_infer_node(n, &f.d), 0);
    shape_is(n->out[0], 3, (const int64_t[]){2, 4, 24});
    shape_is(n->out[1], 4, (const int64_t[]){2, 2, 9, 3});
    shape_is(n->out[2], 4, (const int64_t[]){2, 2, 9, 3});
    shape_is(n->out[3], 4, (const int64_t[]){2, 8, 4, 9});
    assert_int_equal(op_lower_node(n, &f.d), 0);
    assert_string_equal(n->kernel, "rt_k_attention");
    const RtAttentionParams *p = n->params;
    assert_int_equal(p->q_heads, 8);
    assert_int_equal(p->kv_heads, 2);
    /* 4-D with heads that do not group: 3 query heads on 2 kv heads */
    int64_t d4q[4] = {1, 3, 2, 4}, d4k[4] = {1, 2, 5, 4};
    IrValue *in4[3] = {mkval(&f, "q4", IR_DT_FLOAT, 4, d4q), mkval(&f, "k4", IR_DT_FLOAT, 4, d4k),
                       mkval(&f, "v4", IR_DT_FLOAT, 4, d4k)};
    IrNode *n4 = mknode(&f, "Attention", 23, 3, in4, 1);
    assert_int_equal(op_infer_node(n4, &f.d), -1);
    /* rotary: 3-D X needs num_heads */
    int64_t dx[3] = {2, 3, 8}, dc[3] = {2, 3, 4};
    IrValue *rin[3] = {mkval(&f, "x", IR_DT_FLOAT, 3, dx), mkval(&f, "c", IR_DT_FLOAT, 3, dc),
                       mkval(&f, "s", IR_DT_FLOAT, 3, dc)};
    IrNode *r = mknode(&f, "RotaryEmbedding", 23, 3, rin, 1);
    assert_int_equal(op_infer_node(r, &f.d), -1);
    set_int(r, "num_heads", 1);
    set_int(r, "interleaved", 1);
    assert_int_equal(op_infer_node(r, &f.d), 0);
    shape_is(r->out[0], 3, dx);
    assert_int_equal(op_lower_node(r, &f.d), 0);
    const RtRotaryParams *rp = r->params;
    assert_int_equal(rp->interleaved, 1);
    assert_int_equal(rp->num_heads, 1);
    ir_diag_free(&f.d);
    ir_model_destroy(f.m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attention_basic),
        cmocka_unit_test(test_attention_gqa_softcap),
        cmocka_unit_test(test_rotary),
        cmocka_unit_test(test_causal_conv),
        cmocka_unit_test(test_linear_attention),
        cmocka_unit_test(test_kernel_errors),
        cmocka_unit_test(test_infer_lower),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
