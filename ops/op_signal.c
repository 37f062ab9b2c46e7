/* op_signal.c - infer and lower hooks of the signal family: DFT, STFT, HannWindow,
 * HammingWindow, BlackmanWindow, MelWeightMatrix, and the small ops kept with them: CumProd,
 * Det, BitCast, TensorScatter, ReverseSequence (kernels in runtime/rt_signal.c, parameter
 * blocks in runtime/rt_params_signal.h; docs/OPS_SIGNAL.md).
 *
 * ONNX specification: docs/Operators.md, sections
 *  - DFT (17: `axis` an attribute, default 1; 20: `axis` an optional scalar input, default -2;
 *    both: optional dft_length input, `inverse`, `onesided`; real input has a last dim of 1,
 *    complex of 2; onesided + inverse is the IRFFT with a real output and a default length of
 *    2 * (n - 1));
 *  - STFT (17), HannWindow, HammingWindow, BlackmanWindow (17: `periodic`, `output_datatype`),
 *    MelWeightMatrix (17: `output_datatype`);
 *  - CumProd (26), Det (11, 22), BitCast (26), TensorScatter (24), ReverseSequence (10).
 *
 * Shapes that depend on input values (a window's size, DFT's axis and dft_length, STFT's
 * frame_step and frame_length, MelWeightMatrix's sizes) are computed when those inputs are
 * constants. When they are computed at run time, the model's declared static output type is
 * used and the kernel checks at run time that the values give exactly that shape; without a
 * declared type the node is rejected with an "unsupported" diagnostic naming the input.
 */
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* ---------------------------------------------------------------- helpers */

static int sig_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

static int sig_intidx(IrDType dt) { return dt == IR_DT_INT32 || dt == IR_DT_INT64; }

/* Numeric types of the windows' and MelWeightMatrix's output_datatype. */
static int sig_numeric(IrDType dt) {
    return sig_float(dt) || dt == IR_DT_INT8 || dt == IR_DT_INT16 || dt == IR_DT_INT32 ||
           dt == IR_DT_INT64 || dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 ||
           dt == IR_DT_UINT64;
}

/* Input i as a tensor whose element type satisfies ok(); NULL + diag otherwise. */
static const IrType *sig_in(IrNode *n, IrDiag *d, int i, int (*ok)(IrDType), const char *what) {
    const IrType *t = op_input_tensor(n, d, i);
    if (t && !ok(t->dtype)) {
        ir_error(d, n, "input %d has element type %s, expected %s", i, ir_dtype_name(t->dtype),
                 what);
        return NULL;
    }
    return t;
}

/* Reads the constant one-element integer input i: 1 if read, 0 if absent or computed at run
 * time, -1 + diag if it does not hold one int32/int64 value. */
static int sig_const_int(IrNode *n, IrDiag *d, int i, int64_t *v) {
    IrValue *x = ir_node_in(n, i);
    if (!x || !x->init) return 0;
    const IrTensor *t = x->init;
    if (t->numel != 1 || t->rank > 1 || !sig_intidx(t->dtype)) {
        ir_error(d, n, "input %d must be one int32/int64 value", i);
        return -1;
    }
    *v = t->dtype == IR_DT_INT64 ? *(const int64_t *)t->data : *(const int32_t *)t->data;
    return 1;
}

/* Output 0 keeps the model's declared static type when the input `what` that decides its shape
 * is computed at run time: it must be a static tensor of element type dt and rank `rank`; the
 * kernel checks the shape at run time. 0, or -1 with the "unsupported" diagnostic. */
static int sig_declared(IrNode *n, IrDiag *d, IrDType dt, int rank, const char *what) {
    IrValue *o = n->nout > 0 ? n->out[0] : NULL;
    if (!o) return 0;
    if (o->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&o->type) && o->type.dtype == dt &&
        (rank < 0 || o->type.rank == rank))
        return 0;
    ir_error(d, n,
             "unsupported: the output shape of %s depends on the value of its %s input, which is "
             "computed at run time (make it a constant or declare a static output type of "
             "element type %s and rank %d in the model)",
             n->op_type, what, ir_dtype_name(dt), rank);
    return -1;
}

static int sig_out(IrNode *n, IrDiag *d, IrDType dt, int rank, const IrDim *dims) {
    if (op_set_output(n, 0, dt, rank, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static IrDim sig_dim(int64_t v) {
    IrDim x = {v, NULL};
    return x;
}

/* output_datatype of the windows and MelWeightMatrix (default float); -1 + diag if invalid. */
static int sig_out_dtype(IrNode *n, IrDiag *d) {
    int64_t t = ir_attr_int(n, "output_datatype", IR_DT_FLOAT);
    if (t <= 0 || t >= IR_DT_COUNT || !sig_numeric((IrDType)t)) {
        ir_error(d, n, "output_datatype %lld is not a numeric element type", (long long)t);
        return -1;
    }
    return (int)t;
}

/* ---------------------------------------------------------------- DFT */

/* The DFT's axis: 1 and *axis in [0, r-2] when known at compile time (DFT-17's attribute, or
 * DFT-20's constant or absent input), 0 when read at run time, -1 + diag if invalid. */
static int dft_axis(IrNode *n, IrDiag *d, int r, int64_t *axis) {
    int64_t a;
    if (n->opset < 20) {
        a = ir_attr_int(n, "axis", 1);
    } else {
        int got = sig_const_int(n, d, 2, &a);
        if (got < 0) return -1;
        if (got == 0 && ir_node_in(n, 2)) return 0;
        if (got == 0) a = -2;
    }
    if (a < -r || a > r - 2 || a == -1) {
        ir_error(d, n, "axis %lld is outside [-%d, -2] and [0, %d]", (long long)a, r, r - 2);
        return -1;
    }
    *axis = a < 0 ? a + r : a;
    return 1;
}

static int dft_infer(IrNode *n, IrDiag *d) {
    const IrType *x = sig_in(n, d, 0, sig_float, "a float type");
    if (!x) return -1;
    if (x->rank < 2 || x->rank > IR_MAX_RANK) {
        ir_error(d, n, "input has rank %d, expected at least 2 ([..., n, 1 or 2])", x->rank);
        return -1;
    }
    int r = x->rank;
    int64_t c = x->dims[r - 1].value;
    if (c >= 0 && c != 1 && c != 2) {
        ir_error(d, n, "the last dim is %lld, expected 1 (real) or 2 (complex)", (long long)c);
        return -1;
    }
    if (ir_node_in(n, 1) && !sig_in(n, d, 1, sig_intidx, "int32 or int64")) return -1;
    if (n->opset >= 20 && ir_node_in(n, 2) && !sig_in(n, d, 2, sig_intidx, "int64")) return -1;
    int inverse = ir_attr_int(n, "inverse", 0) != 0, onesided = ir_attr_int(n, "onesided", 0) != 0;
    int64_t axis, L = -1;
    int ka = dft_axis(n, d, r, &axis);
    if (ka < 0) return -1;
    if (!ka) return sig_declared(n, d, x->dtype, r, "axis");
    int gl = sig_const_int(n, d, 1, &L);
    if (gl < 0) return -1;
    if (!gl && ir_node_in(n, 1)) return sig_declared(n, d, x->dtype, r, "dft_length");
    if (gl && L < 1) {
        ir_error(d, n, "dft_length %lld is not positive", (long long)L);
        return -1;
    }
    IrDim dims[IR_MAX_RANK];
    for (int i = 0; i < r; i++) dims[i] = x->dims[i];
    int64_t na = x->dims[axis].value;
    if (!gl && na >= 0) L = onesided && inverse ? 2 * (na - 1) : na;
    if (L >= 0) dims[axis] = sig_dim(onesided && !inverse ? L / 2 + 1 : L);
    else if (onesided) dims[axis] = sig_dim(-1);
    dims[r - 1] = sig_dim(onesided && inverse ? 1 : 2);
    return sig_out(n, d, x->dtype, r, dims);
}

static int dft_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    int ka = dft_axis(n, d, n->in[0]->type.rank, &axis);
    if (ka < 0) return -1;
    RtDftParams *p = op_params(n, d, "rt_k_dft", sizeof *p);
    if (!p) return -1;
    p->axis = ka ? (int32_t)axis : -1;
    p->inverse = ir_attr_int(n, "inverse", 0) != 0;
    p->onesided = ir_attr_int(n, "onesided", 0) != 0;
    return 0;
}

/* ---------------------------------------------------------------- STFT */

static int stft_infer(IrNode *n, IrDiag *d) {
    const IrType *x = sig_in(n, d, 0, sig_float, "a float type");
    if (!x || !sig_in(n, d, 1, sig_intidx, "int32 or int64")) return -1;
    if (x->rank != 3) {
        ir_error(d, n, "signal has rank %d, expected 3 ([batch, length, 1 or 2])", x->rank);
        return -1;
    }
    const IrType *w = NULL;
    if (ir_node_in(n, 2)) {
        w = sig_in(n, d, 2, sig_float, "a float type");
        if (!w) return -1;
        if (w->rank != 1 || w->dtype != x->dtype) {
            ir_error(d, n, "window must be 1-D of the signal's element type");
            return -1;
        }
    }
    if (ir_node_in(n, 3) && !sig_in(n, d, 3, sig_intidx, "int32 or int64")) return -1;
    int64_t step, fl = -1;
    int gs = sig_const_int(n, d, 1, &step), gf = sig_const_int(n, d, 3, &fl);
    if (gs < 0 || gf < 0) return -1;
    if (!gs) return sig_declared(n, d, x->dtype, 4, "frame_step");
    if (!gf && ir_node_in(n, 3)) return sig_declared(n, d, x->dtype, 4, "frame_length");
    if (step < 1) {
        ir_error(d, n, "frame_step %lld is not positive", (long long)step);
        return -1;
    }
    int64_t len = x->dims[1].value;
    if (!gf) fl = w ? w->dims[0].value : len;
    int onesided = ir_attr_int(n, "onesided", 1) != 0;
    IrDim dims[4] = {x->dims[0], sig_dim(-1), sig_dim(-1), sig_dim(2)};
    if (fl >= 0) {
        if (fl < 1 || (len >= 0 && fl > len)) {
            ir_error(d, n, "frame_length %lld is outside [1, signal length %lld]", (long long)fl,
                     (long long)len);
            return -1;
        }
        dims[2] = sig_dim(onesided ? fl / 2 + 1 : fl);
        if (len >= 0) dims[1] = sig_dim(1 + (len - fl) / step);
    }
    return sig_out(n, d, x->dtype, 4, dims);
}

static int stft_lower(IrNode *n, IrDiag *d) {
    RtStftParams *p = op_params(n, d, "rt_k_stft", sizeof *p);
    if (!p) return -1;
    p->onesided = ir_attr_int(n, "onesided", 1) != 0;
    return 0;
}

/* ---------------------------------------------------------------- windows */

static int window_infer(IrNode *n, IrDiag *d) {
    const IrType *s = sig_in(n, d, 0, sig_intidx, "int32 or int64");
    int dt = sig_out_dtype(n, d);
    if (!s || dt < 0) return -1;
    int64_t size;
    int got = sig_const_int(n, d, 0, &size);
    if (got < 0) return -1;
    if (!got) return sig_declared(n, d, (IrDType)dt, 1, "size");
    if (size < 0) {
        ir_error(d, n, "size %lld is negative", (long long)size);
        return -1;
    }
    IrDim dim = sig_dim(size);
    return sig_out(n, d, (IrDType)dt, 1, &dim);
}

static int window_lower(IrNode *n, IrDiag *d) {
    RtWindowParams *p = op_params(n, d, "rt_k_window", sizeof *p);
    if (!p) return -1;
    p->kind = n->op == OP_HannWindow      ? RT_WINDOW_HANN
              : n->op == OP_HammingWindow ? RT_WINDOW_HAMMING
                                          : RT_WINDOW_BLACKMAN;
    p->periodic = ir_attr_int(n, "periodic", 1) != 0;
    return 0;
}

/* ---------------------------------------------------------------- MelWeightMatrix */

static int mel_infer(IrNode *n, IrDiag *d) {
    for (int i = 0; i < 5; i++)
        if (!sig_in(n, d, i, i < 3 ? sig_intidx : sig_float,
                    i < 3 ? "int32 or int64" : "a float type"))
            return -1;
    int dt = sig_out_dtype(n, d);
    if (dt < 0) return -1;
    int64_t nmel, dftl;
    int g0 = sig_const_int(n, d, 0, &nmel), g1 = sig_const_int(n, d, 1, &dftl);
    if (g0 < 0 || g1 < 0) return -1;
    if (!g0 || !g1) return sig_declared(n, d, (IrDType)dt, 2, "num_mel_bins/dft_length");
    if (nmel < 1 || dftl < 1) {
        ir_error(d, n, "num_mel_bins %lld and dft_length %lld must be positive", (long long)nmel,
                 (long long)dftl);
        return -1;
    }
    IrDim dims[2] = {sig_dim(dftl / 2 + 1), sig_dim(nmel)};
    return sig_out(n, d, (IrDType)dt, 2, dims);
}

static int mel_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_melweight", 0) ? 0 : -1;
}

/* ---------------------------------------------------------------- CumProd */

static int cumprod_type(IrDType dt) {
    return sig_float(dt) || dt == IR_DT_INT32 || dt == IR_DT_INT64 || dt == IR_DT_UINT32 ||
           dt == IR_DT_UINT64;
}

static int cumprod_infer(IrNode *n, IrDiag *d) {
    const IrType *x = sig_in(n, d, 0, cumprod_type, "a float type or (u)int32/(u)int64");
    if (!x || !sig_in(n, d, 1, sig_intidx, "int32 or int64")) return -1;
    if (x->rank < 1) {
        ir_error(d, n, "input must have rank >= 1");
        return -1;
    }
    int64_t axis;
    int got = sig_const_int(n, d, 1, &axis);
    if (got < 0) return -1;
    if (got && (axis < -x->rank || axis >= x->rank)) {
        ir_error(d, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
        return -1;
    }
    return sig_out(n, d, x->dtype, x->rank, x->dims);
}

static int cumprod_lower(IrNode *n, IrDiag *d) {
    RtCumProdParams *p = op_params(n, d, "rt_k_cumprod", sizeof *p);
    if (!p) return -1;
    p->exclusive = ir_attr_int(n, "exclusive", 0) != 0;
    p->reverse = ir_attr_int(n, "reverse", 0) != 0;
    return 0;
}

/* ---------------------------------------------------------------- Det */

static int det_infer(IrNode *n, IrDiag *d) {
    const IrType *x = sig_in(n, d, 0, sig_float, "a float type");
    if (!x) return -1;
    if (x->rank < 2) {
        ir_error(d, n, "input has rank %d, expected [*, M, M]", x->rank);
        return -1;
    }
    int64_t a = x->dims[x->rank - 2].value, b = x->dims[x->rank - 1].value;
    if (a >= 0 && b >= 0 && a != b) {
        ir_error(d, n, "the matrices are %lldx%lld, not square", (long long)a, (long long)b);
        return -1;
    }
    return sig_out(n, d, x->dtype, x->rank - 2, x->dims);
}

static int det_lower(IrNode *n, IrDiag *d) { return op_params(n, d, "rt_k_det", 0) ? 0 : -1; }

/* ---------------------------------------------------------------- BitCast */

/* Bit width of an element type (0 for string and unknown types). */
static int bitcast_bits(IrDType dt) {
    if (dt == IR_DT_STRING || dt <= IR_DT_UNDEFINED || dt >= IR_DT_COUNT) return 0;
    if (dt == IR_DT_UINT4 || dt == IR_DT_INT4 || dt == IR_DT_FLOAT4E2M1) return 4;
    if (dt == IR_DT_UINT2 || dt == IR_DT_INT2) return 2;
    return (int)ir_dtype_size(dt) * 8;
}

static int bitcast_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (!ir_node_attr(n, "to")) {
        ir_error(d, n, "attribute 'to' is required");
        return -1;
    }
    int64_t to = ir_attr_int(n, "to", 0);
    int bi = bitcast_bits(x->dtype), bo = to > 0 && to < IR_DT_COUNT ? bitcast_bits((IrDType)to) : 0;
    if (bi == 0 || bo == 0) {
        ir_error(d, n, "cannot bitcast %s to element type %lld (strings and unknown types are "
                 "not allowed)", ir_dtype_name(x->dtype), (long long)to);
        return -1;
    }
    if (bi != bo) {
        ir_error(d, n, "%s has %d bits, %s has %d: BitCast needs equal widths",
                 ir_dtype_name(x->dtype), bi, ir_dtype_name((IrDType)to), bo);
        return -1;
    }
    return sig_out(n, d, (IrDType)to, x->rank, x->dims);
}

static int bitcast_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_bitcast", 0) ? 0 : -1;
}

/* ---------------------------------------------------------------- TensorScatter */

/* TensorScatter's axis in [1, rank) and mode; -1 + diag if invalid. */
static int tscatter_attrs(IrNode *n, IrDiag *d, int r, int64_t *axis, int *circular) {
    int64_t a = ir_attr_int(n, "axis", -2);
    if (op_norm_axis(n, d, a, r, axis)) return -1;
    if (*axis == 0) {
        ir_error(d, n, "axis must not be the batch dim 0");
        return -1;
    }
    const char *m = ir_attr_string(n, "mode", "linear");
    if (strcmp(m, "linear") != 0 && strcmp(m, "circular") != 0) {
        ir_error(d, n, "mode '%s' is not 'linear' or 'circular'", m);
        return -1;
    }
    *circular = strcmp(m, "circular") == 0;
    return 0;
}

static int tscatter_infer(IrNode *n, IrDiag *d) {
    const IrType *past = op_input_tensor(n, d, 0), *upd = past ? op_input_tensor(n, d, 1) : NULL;
    if (!upd) return -1;
    int64_t axis;
    int circ;
    if (past->rank < 2 || upd->rank != past->rank) {
        ir_error(d, n, "past_cache (rank %d) and update (rank %d) must have one rank >= 2",
                 past->rank, upd->rank);
        return -1;
    }
    if (upd->dtype != past->dtype) {
        ir_error(d, n, "update has element type %s, past_cache %s", ir_dtype_name(upd->dtype),
                 ir_dtype_name(past->dtype));
        return -1;
    }
    if (tscatter_attrs(n, d, past->rank, &axis, &circ)) return -1;
    for (int i = 0; i < past->rank; i++) {
        int64_t a = past->dims[i].value, b = upd->dims[i].value;
        if (a >= 0 && b >= 0 && (i == axis ? b > a : a != b)) {
            ir_error(d, n, "update dim %d is %lld, past_cache has %lld", i, (long long)b,
                     (long long)a);
            return -1;
        }
    }
    if (ir_node_in(n, 2)) {
        const IrType *w = op_input_tensor(n, d, 2);
        if (!w) return -1;
        if (w->dtype != IR_DT_INT64 || w->rank != 1) {
            ir_error(d, n, "write_indices must be a 1-D int64 tensor");
            return -1;
        }
    }
    return sig_out(n, d, past->dtype, past->rank, past->dims);
}

static int tscatter_lower(IrNode *n, IrDiag *d) {
    int64_t axis;
    int circ;
    if (tscatter_attrs(n, d, n->in[0]->type.rank, &axis, &circ)) return -1;
    RtTensorScatterParams *p = op_params(n, d, "rt_k_tensorscatter", sizeof *p);
    if (!p) return -1;
    p->axis = (int32_t)axis;
    p->circular = circ;
    return 0;
}

/* ---------------------------------------------------------------- ReverseSequence */

static int revseq_attrs(IrNode *n, IrDiag *d, int *ba, int *ta) {
    int64_t b = ir_attr_int(n, "batch_axis", 1), t = ir_attr_int(n, "time_axis", 0);
    if (!((b == 0 && t == 1) || (b == 1 && t == 0))) {
        ir_error(d, n, "batch_axis %lld and time_axis %lld must be 0 and 1 in some order",
                 (long long)b, (long long)t);
        return -1;
    }
    *ba = (int)b;
    *ta = (int)t;
    return 0;
}

static int revseq_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *sl = x ? op_input_tensor(n, d, 1) : NULL;
    int ba, ta;
    if (!sl || revseq_attrs(n, d, &ba, &ta)) return -1;
    if (x->rank < 2) {
        ir_error(d, n, "input has rank %d, expected at least 2", x->rank);
        return -1;
    }
    if (sl->dtype != IR_DT_INT64 || sl->rank != 1) {
        ir_error(d, n, "sequence_lens must be a 1-D int64 tensor");
        return -1;
    }
    int64_t b = x->dims[ba].value, s = sl->dims[0].value;
    if (b >= 0 && s >= 0 && b != s) {
        ir_error(d, n, "sequence_lens has %lld entries, the batch dim %lld", (long long)s,
                 (long long)b);
        return -1;
    }
    return sig_out(n, d, x->dtype, x->rank, x->dims);
}

static int revseq_lower(IrNode *n, IrDiag *d) {
    int ba, ta;
    if (revseq_attrs(n, d, &ba, &ta)) return -1;
    RtReverseSequenceParams *p = op_params(n, d, "rt_k_reversesequence", sizeof *p);
    if (!p) return -1;
    p->batch_axis = ba;
    p->time_axis = ta;
    return 0;
}

/* ---------------------------------------------------------------- the table's hooks */

const OpHooks op_hooks_DFT = {dft_infer, dft_lower, NULL};
const OpHooks op_hooks_STFT = {stft_infer, stft_lower, NULL};
const OpHooks op_hooks_HannWindow = {window_infer, window_lower, NULL};
const OpHooks op_hooks_HammingWindow = {window_infer, window_lower, NULL};
const OpHooks op_hooks_BlackmanWindow = {window_infer, window_lower, NULL};
const OpHooks op_hooks_MelWeightMatrix = {mel_infer, mel_lower, NULL};
const OpHooks op_hooks_CumProd = {cumprod_infer, cumprod_lower, NULL};
const OpHooks op_hooks_Det = {det_infer, det_lower, NULL};
const OpHooks op_hooks_BitCast = {bitcast_infer, bitcast_lower, NULL};
const OpHooks op_hooks_TensorScatter = {tscatter_infer, tscatter_lower, NULL};
const OpHooks op_hooks_ReverseSequence = {revseq_infer, revseq_lower, NULL};
