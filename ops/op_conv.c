/* op_conv.c - infer and lower hooks of the conv family: Conv, MaxPool, AveragePool,
 * GlobalAveragePool, LpPool, GlobalMaxPool, MaxUnpool (kernels in runtime/rt_conv.c).
 *
 * ONNX specification: docs/Operators.md, sections Conv (opsets 1, 11, 22), MaxPool (1, 8, 10, 11,
 * 12, 22), AveragePool (1, 7, 10, 11, 19, 22), GlobalAveragePool (1, 22), LpPool (1, 2, 11,
 * 18, 22), GlobalMaxPool (1, 22), MaxUnpool (9, 11, 22).
 *
 * Output spatial size, per spatial dim i, with dk = (kernel - 1) * dilation + 1:
 *   NOTSET   floor((D + pad_begin + pad_end - dk) / stride) + 1, or with ceil_mode the ceiling,
 *            minus one if that last window would start at or after D + pad_begin ("sliding
 *            windows that would start in the right padded region are ignored");
 *   VALID    floor((D - dk) / stride) + 1 (no padding; the same with ceil_mode);
 *   SAME_*   ceil(D / stride), with total padding max(0, (out - 1) * stride + dk - D) split
 *            evenly, the odd pixel at the end (SAME_UPPER) or at the beginning (SAME_LOWER).
 * Symbolic spatial dims flow through when the window is the identity (1 tap, stride 1, no
 * padding); otherwise the output dim is unknown until the shape is specialised.
 *
 * The lower hooks resolve auto_pad into explicit pads, so the kernels only see pads, strides,
 * dilations and the output shape.
 */
#include <stddef.h>
#include <string.h>

#include "ops/op.h"
#include "ops/op_fused.h"
#include "runtime/rt_params.h"

/* Window attributes shared by Conv and the pools, read and checked once. */
typedef struct WinAttrs {
    int ns;                              /* number of spatial dims */
    int auto_pad;                        /* one of the AP_* values below */
    int ceil_mode;                       /* 1: ceil instead of floor (pools, opset >= 10) */
    int64_t kernel[RT_MAX_SPATIAL];      /* window size (kernel_shape or W's dims) */
    int kernel_known[RT_MAX_SPATIAL];    /* 0 if the kernel dim comes from a symbolic W dim */
    int64_t stride[RT_MAX_SPATIAL];      /* strides (default 1) */
    int64_t dilation[RT_MAX_SPATIAL];    /* dilations (default 1) */
    int64_t pads[2 * RT_MAX_SPATIAL];    /* explicit pads [b1..bn, e1..en] (default 0) */
} WinAttrs;

enum { AP_NOTSET = 0, AP_SAME_UPPER = 1, AP_SAME_LOWER = 2, AP_VALID = 3 };

/* Reads an optional INTS attribute of exactly `count` entries, each >= min_value, into out
 * (left untouched when absent). Returns 0 or -1 + diag. */
static int read_ints_attr(IrNode *n, IrDiag *d, const char *name, int count, int64_t min_value,
                          int64_t *out) {
    const int64_t *v;
    int k = ir_attr_ints(n, name, &v);
    if (k < 0) return 0;
    if (k != count) {
        ir_error(d, n, "attribute '%s' has %d values, expected %d (one per spatial dim%s)", name,
                 k, count, count > 0 && strcmp(name, "pads") == 0 ? ", begin and end" : "");
        return -1;
    }
    for (int i = 0; i < k; i++) {
        if (v[i] < min_value) {
            ir_error(d, n, "attribute '%s'[%d] is %lld, must be >= %lld", name, i,
                     (long long)v[i], (long long)min_value);
            return -1;
        }
        out[i] = v[i];
    }
    return 0;
}

/* Reads auto_pad, kernel_shape, strides, dilations, pads and ceil_mode for a node with `ns`
 * spatial dims. wdims (Conv's W spatial dims, NULL for pools) supplies the kernel when
 * kernel_shape is absent and is checked against it when present. */
static int read_win_attrs(IrNode *n, IrDiag *d, int ns, const IrDim *wdims, WinAttrs *a) {
    memset(a, 0, sizeof *a);
    a->ns = ns;
    if (ns < 1 || ns > RT_MAX_SPATIAL) {
        ir_error(d, n, "%d spatial dims are not supported (1..%d)", ns, RT_MAX_SPATIAL);
        return -1;
    }
    for (int i = 0; i < ns; i++) a->stride[i] = a->dilation[i] = 1;
    const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
    if (strcmp(ap, "NOTSET") == 0 || ap[0] == '\0') a->auto_pad = AP_NOTSET;
    else if (strcmp(ap, "SAME_UPPER") == 0) a->auto_pad = AP_SAME_UPPER;
    else if (strcmp(ap, "SAME_LOWER") == 0) a->auto_pad = AP_SAME_LOWER;
    else if (strcmp(ap, "VALID") == 0) a->auto_pad = AP_VALID;
    else {
        ir_error(d, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
        return -1;
    }
    const int64_t *ks;
    int nk = ir_attr_ints(n, "kernel_shape", &ks);
    if (nk < 0 && !wdims) {
        ir_error(d, n, "attribute 'kernel_shape' is required");
        return -1;
    }
    if (nk >= 0 && nk != ns) {
        ir_error(d, n, "kernel_shape has %d values, expected %d (one per spatial dim)", nk, ns);
        return -1;
    }
    for (int i = 0; i < ns; i++) {
        if (nk >= 0) {
            if (ks[i] < 1) {
                ir_error(d, n, "kernel_shape[%d] is %lld, must be >= 1", i, (long long)ks[i]);
                return -1;
            }
            if (wdims && wdims[i].value >= 0 && wdims[i].value != ks[i]) {
                ir_error(d, n, "kernel_shape[%d] is %lld but the weight has %lld", i,
                         (long long)ks[i], (long long)wdims[i].value);
                return -1;
            }
            a->kernel[i] = ks[i];
            a->kernel_known[i] = 1;
        } else {
            a->kernel[i] = wdims[i].value;
            a->kernel_known[i] = wdims[i].value >= 0;
        }
    }
    if (read_ints_attr(n, d, "strides", ns, 1, a->stride) ||
        read_ints_attr(n, d, "dilations", ns, 1, a->dilation) ||
        read_ints_attr(n, d, "pads", 2 * ns, 0, a->pads))
        return -1;
    if (a->auto_pad != AP_NOTSET) {
        for (int i = 0; i < 2 * ns; i++)
            if (a->pads[i] != 0) {
                ir_error(d, n, "pads cannot be used together with auto_pad");
                return -1;
            }
    }
    int64_t cm = ir_attr_int(n, "ceil_mode", 0);
    if (cm != 0 && cm != 1) {
        ir_error(d, n, "ceil_mode is %lld, must be 0 or 1", (long long)cm);
        return -1;
    }
    a->ceil_mode = (int)cm;
    return 0;
}

/* Output size and resolved pads of spatial dim i for a static input size `in` (see the file
 * comment). Returns 0, or -1 + diag when the window does not fit. */
static int win_out_dim(IrNode *n, IrDiag *d, const WinAttrs *a, int i, int64_t in, int64_t *out,
                       int64_t *pb, int64_t *pe) {
    int64_t k = a->kernel[i], s = a->stride[i], dil = a->dilation[i];
    int64_t dk, tmp;
    if (ir_mul_i64(k - 1, dil, &tmp) || ir_add_i64(tmp, 1, &dk)) {
        ir_error(d, n, "kernel extent overflows");
        return -1;
    }
    *pb = *pe = 0;
    switch (a->auto_pad) {
    case AP_SAME_UPPER:
    case AP_SAME_LOWER: {
        int64_t o = in / s + (in % s != 0);
        /* checked: hostile dims/dilations (docs/HARDENING.md, tests/test_limits.c) */
        int64_t total;
        if (ir_add_i64(o > 0 ? (o - 1) * s : 0, dk - in, &total)) {
            ir_error(d, n, "padded extent overflows along spatial dim %d", i);
            return -1;
        }
        if (total < 0) total = 0;
        if (a->auto_pad == AP_SAME_UPPER) {
            *pb = total / 2;
            *pe = total - total / 2;
        } else {
            *pb = total - total / 2;
            *pe = total / 2;
        }
        *out = o;
        return 0;
    }
    case AP_VALID:
        if (in < dk) {
            ir_error(d, n, "kernel extent %lld is larger than the input (%lld) along spatial dim "
                     "%d", (long long)dk, (long long)in, i);
            return -1;
        }
        *out = (in - dk) / s + 1;
        return 0;
    default: {
        int64_t b = a->pads[i], e = a->pads[a->ns + i];
        int64_t padded, inb, tmp;
        /* checked: pads and dims come from the file (docs/HARDENING.md, tests/test_limits.c) */
        if (ir_add_i64(in, b, &inb) || ir_add_i64(inb, e, &padded)) {
            ir_error(d, n, "padded input size overflows along spatial dim %d", i);
            return -1;
        }
        if (padded < dk) {
            ir_error(d, n, "kernel extent %lld is larger than the padded input (%lld) along "
                     "spatial dim %d", (long long)dk, (long long)padded, i);
            return -1;
        }
        int64_t num = padded - dk;
        if (ir_add_i64(num, s - 1, &tmp)) {
            ir_error(d, n, "padded input size overflows along spatial dim %d", i);
            return -1;
        }
        int64_t o = num / s + 1;
        if (a->ceil_mode) {
            o = (num + s - 1) / s + 1;
            if ((o - 1) * s >= inb) o--; /* last window would start in the end padding */
        }
        *pb = b;
        *pe = e;
        *out = o;
        return 0;
    }
    }
}

/* Output dim for a possibly symbolic input dim: static inputs are computed; symbolic ones pass
 * through when the window is the identity, else become unknown. */
static int win_out_irdim(IrNode *n, IrDiag *d, const WinAttrs *a, int i, const IrDim *in,
                         IrDim *out) {
    int64_t pb, pe;
    if (in->value >= 0 && a->kernel_known[i]) {
        out->sym = NULL;
        return win_out_dim(n, d, a, i, in->value, &out->value, &pb, &pe);
    }
    int identity = a->kernel_known[i] && a->stride[i] == 1 &&
                   (a->kernel[i] == 1 || a->auto_pad == AP_SAME_UPPER ||
                    a->auto_pad == AP_SAME_LOWER) &&
                   (a->auto_pad != AP_NOTSET || (a->pads[i] == 0 && a->pads[a->ns + i] == 0));
    if (identity) *out = *in;
    else {
        out->value = -1;
        out->sym = NULL;
    }
    return 0;
}

static int is_float_type(IrDType t) {
    return t == IR_DT_FLOAT || t == IR_DT_DOUBLE || t == IR_DT_FLOAT16 || t == IR_DT_BFLOAT16;
}

/* Input X of a conv/pool: a tensor of rank >= 3 (N, C, spatial...). */
static const IrType *spatial_input(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return NULL;
    if (x->rank < 3) {
        ir_error(d, n, "input X has rank %d, expected at least 3 (N, C, spatial dims)", x->rank);
        return NULL;
    }
    if (x->rank - 2 > RT_MAX_SPATIAL) {
        ir_error(d, n, "input X has %d spatial dims, at most %d are supported", x->rank - 2,
                 RT_MAX_SPATIAL);
        return NULL;
    }
    return x;
}

/* Resolves pads for static input dims and copies the window into the kernel parameters. */
static int fill_window(IrNode *n, IrDiag *d, const WinAttrs *a, const IrType *x, int64_t *kernel,
                       int64_t *stride, int64_t *dilation, int64_t *pad_begin, int64_t *pad_end) {
    for (int i = 0; i < a->ns; i++) {
        int64_t o;
        if (win_out_dim(n, d, a, i, x->dims[2 + i].value, &o, &pad_begin[i], &pad_end[i]))
            return -1;
        kernel[i] = a->kernel[i];
        stride[i] = a->stride[i];
        dilation[i] = a->dilation[i];
    }
    return 0;
}

/* ------------------------------------------------------------------------------------ Conv */

static int conv_infer(IrNode *n, IrDiag *d) {
    const IrType *x = spatial_input(n, d);
    if (!x) return -1;
    const IrType *w = op_input_tensor(n, d, 1);
    if (!w) return -1;
    if (!is_float_type(x->dtype)) {
        ir_error(d, n, "input X has element type %s, expected a float type",
                 ir_dtype_name(x->dtype));
        return -1;
    }
    if (w->dtype != x->dtype) {
        ir_error(d, n, "weight W has element type %s, X has %s", ir_dtype_name(w->dtype),
                 ir_dtype_name(x->dtype));
        return -1;
    }
    if (w->rank != x->rank) {
        ir_error(d, n, "weight W has rank %d, expected %d (like X)", w->rank, x->rank);
        return -1;
    }
    int ns = x->rank - 2;
    int64_t group = ir_attr_int(n, "group", 1);
    if (group < 1) {
        ir_error(d, n, "group is %lld, must be >= 1", (long long)group);
        return -1;
    }
    const IrDim *c = &x->dims[1], *m = &w->dims[0], *wc = &w->dims[1];
    if (c->value >= 0 && wc->value >= 0 && c->value != wc->value * group) {
        ir_error(d, n, "X has %lld channels but W expects %lld x group %lld",
                 (long long)c->value, (long long)wc->value, (long long)group);
        return -1;
    }
    if (m->value >= 0 && m->value % group != 0) {
        ir_error(d, n, "W has %lld output channels, not divisible by group %lld",
                 (long long)m->value, (long long)group);
        return -1;
    }
    IrValue *bv = ir_node_in(n, 2);
    if (bv) {
        const IrType *b = op_input_tensor(n, d, 2);
        if (!b) return -1;
        if (b->dtype != x->dtype || b->rank != 1 ||
            (b->dims[0].value >= 0 && m->value >= 0 && b->dims[0].value != m->value)) {
            ir_error(d, n, "bias B must be a 1-D %s tensor of size M = %lld",
                     ir_dtype_name(x->dtype), (long long)m->value);
            return -1;
        }
    }
    WinAttrs a;
    if (read_win_attrs(n, d, ns, &w->dims[2], &a)) return -1;
    IrDim out[2 + RT_MAX_SPATIAL];
    out[0] = x->dims[0];
    out[1] = *m;
    for (int i = 0; i < ns; i++)
        if (win_out_irdim(n, d, &a, i, &x->dims[2 + i], &out[2 + i])) return -1;
    return op_set_output(n, 0, x->dtype, x->rank, out);
}

static int conv_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type, *w = &n->in[1]->type;
    const char *kernel;
    switch (x->dtype) {
    case IR_DT_FLOAT: kernel = "rt_k_conv_f32"; break;
    case IR_DT_DOUBLE: kernel = "rt_k_conv_f64"; break;
    case IR_DT_FLOAT16: kernel = "rt_k_conv_f16"; break;
    case IR_DT_BFLOAT16: kernel = "rt_k_conv_bf16"; break;
    default:
        ir_error(d, n, "Conv on %s tensors is not supported yet", ir_dtype_name(x->dtype));
        return -1;
    }
    WinAttrs a;
    if (read_win_attrs(n, d, x->rank - 2, &w->dims[2], &a)) return -1;
    RtConvParams *p = op_params(n, d, kernel, sizeof *p);
    if (!p) return -1;
    p->nspatial = a.ns;
    p->group = (int32_t)ir_attr_int(n, "group", 1);
    return fill_window(n, d, &a, x, p->kernel, p->stride, p->dilation, p->pad_begin, p->pad_end);
}

const OpHooks op_hooks_Conv = {conv_infer, conv_lower, NULL};

/* FusedConv (ai.onnxc, passes/pass_fuse_epilogue.c): a Conv whose kernel applies the activation
 * of its `activation` / `activation_params` attributes (ops/op_fused.h) to each block of output
 * it writes (RtConvParams.epi). */
static int fused_conv_lower(IrNode *n, IrDiag *d) {
    if (conv_lower(n, d)) return -1;
    RtConvParams *p = n->params;
    return op_fused_epilogue(n, d, &p->epi);
}

const OpHooks op_hooks_FusedConv = {conv_infer, fused_conv_lower, NULL};

/* ------------------------------------------------------------------------------------ pools */

/* Common part of MaxPool / AveragePool inference: window attributes and output dims. */
static int pool_infer_common(IrNode *n, IrDiag *d, const IrType *x) {
    WinAttrs a;
    int ns = x->rank - 2;
    if (read_win_attrs(n, d, ns, NULL, &a)) return -1;
    IrDim out[2 + RT_MAX_SPATIAL];
    out[0] = x->dims[0];
    out[1] = x->dims[1];
    for (int i = 0; i < ns; i++)
        if (win_out_irdim(n, d, &a, i, &x->dims[2 + i], &out[2 + i])) return -1;
    if (op_set_output(n, 0, x->dtype, x->rank, out)) return -1;
    if (n->nout > 1 && op_set_output(n, 1, IR_DT_INT64, x->rank, out)) return -1;
    return 0;
}

/* Kernel names of a pool operator by X's element type (NULL: type not supported). */
typedef struct PoolKernels {
    const char *f32, *f64, *f16, *bf16, *i8, *u8;
} PoolKernels;

/* The kernel of k for X's element type, or NULL after reporting an unsupported type. */
static const char *pool_kernel(IrNode *n, IrDiag *d, const PoolKernels *k) {
    const char *kernel = NULL;
    switch (n->in[0]->type.dtype) {
    case IR_DT_FLOAT: kernel = k->f32; break;
    case IR_DT_DOUBLE: kernel = k->f64; break;
    case IR_DT_FLOAT16: kernel = k->f16; break;
    case IR_DT_BFLOAT16: kernel = k->bf16; break;
    case IR_DT_INT8: kernel = k->i8; break;
    case IR_DT_UINT8: kernel = k->u8; break;
    default: break;
    }
    if (!kernel)
        ir_error(d, n, "%s on %s tensors is not supported", n->op_type,
                 ir_dtype_name(n->in[0]->type.dtype));
    return kernel;
}

/* Allocates the parameter block (`size` bytes) of the pool kernel chosen from k and fills the
 * window record at byte offset `at` of it (an RtPoolParams) from the node's attributes
 * (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode, count_include_pad,
 * storage_order). Returns the block, or NULL after reporting an error. */
static void *pool_params(IrNode *n, IrDiag *d, const PoolKernels *k, size_t size, size_t at) {
    const IrType *x = &n->in[0]->type;
    const char *kernel = pool_kernel(n, d, k);
    if (!kernel) return NULL;
    WinAttrs a;
    if (read_win_attrs(n, d, x->rank - 2, NULL, &a)) return NULL;
    void *blk = op_params(n, d, kernel, size);
    if (!blk) return NULL;
    RtPoolParams *p = (RtPoolParams *)((char *)blk + at);
    p->nspatial = a.ns;
    p->count_include_pad = (int32_t)ir_attr_int(n, "count_include_pad", 0);
    p->storage_order = (int32_t)ir_attr_int(n, "storage_order", 0);
    if (fill_window(n, d, &a, x, p->kernel, p->stride, p->dilation, p->pad_begin, p->pad_end))
        return NULL;
    return blk;
}

/* 0 if X has a float type, else -1 after reporting it. */
static int require_float_x(IrNode *n, IrDiag *d, const IrType *x) {
    if (is_float_type(x->dtype)) return 0;
    ir_error(d, n, "input X has element type %s, expected a float type", ir_dtype_name(x->dtype));
    return -1;
}

static int maxpool_infer(IrNode *n, IrDiag *d) {
    const IrType *x = spatial_input(n, d);
    if (!x) return -1;
    int ok = is_float_type(x->dtype) ||
             (n->opset >= 12 && (x->dtype == IR_DT_INT8 || x->dtype == IR_DT_UINT8));
    if (!ok) {
        ir_error(d, n, "input X has element type %s, not allowed by MaxPool-%d",
                 ir_dtype_name(x->dtype), n->opset);
        return -1;
    }
    int64_t so = ir_attr_int(n, "storage_order", 0);
    if (so != 0 && so != 1) {
        ir_error(d, n, "storage_order is %lld, must be 0 or 1", (long long)so);
        return -1;
    }
    if (n->nout > 1 && n->out[1] && n->opset < 8) {
        ir_error(d, n, "the Indices output needs MaxPool-8 or later");
        return -1;
    }
    return pool_infer_common(n, d, x);
}

static int maxpool_lower(IrNode *n, IrDiag *d) {
    static const PoolKernels k = {"rt_k_maxpool_f32", "rt_k_maxpool_f64", "rt_k_maxpool_f16",
                                  "rt_k_maxpool_bf16", "rt_k_maxpool_i8", "rt_k_maxpool_u8"};
    return pool_params(n, d, &k, sizeof(RtPoolParams), 0) ? 0 : -1;
}

const OpHooks op_hooks_MaxPool = {maxpool_infer, maxpool_lower, NULL};

static int avgpool_infer(IrNode *n, IrDiag *d) {
    const IrType *x = spatial_input(n, d);
    if (!x || require_float_x(n, d, x)) return -1;
    int64_t cip = ir_attr_int(n, "count_include_pad", 0);
    if (cip != 0 && cip != 1) {
        ir_error(d, n, "count_include_pad is %lld, must be 0 or 1", (long long)cip);
        return -1;
    }
    return pool_infer_common(n, d, x);
}

static int avgpool_lower(IrNode *n, IrDiag *d) {
    static const PoolKernels k = {"rt_k_avgpool_f32", "rt_k_avgpool_f64", "rt_k_avgpool_f16",
                                  "rt_k_avgpool_bf16", NULL, NULL};
    return pool_params(n, d, &k, sizeof(RtPoolParams), 0) ? 0 : -1;
}

const OpHooks op_hooks_AveragePool = {avgpool_infer, avgpool_lower, NULL};

static int gap_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (x->rank < 3) {
        ir_error(d, n, "input X has rank %d, expected at least 3 (N, C, spatial dims)", x->rank);
        return -1;
    }
    if (require_float_x(n, d, x)) return -1;
    if (x->rank > IR_MAX_RANK) return -1;
    IrDim out[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        out[i].value = i < 2 ? x->dims[i].value : 1;
        out[i].sym = i < 2 ? x->dims[i].sym : NULL;
    }
    return op_set_output(n, 0, x->dtype, x->rank, out);
}

static int gap_lower(IrNode *n, IrDiag *d) {
    static const PoolKernels k = {"rt_k_global_avgpool_f32", "rt_k_global_avgpool_f64",
                                  "rt_k_global_avgpool_f16", "rt_k_global_avgpool_bf16", NULL,
                                  NULL};
    const char *kernel = pool_kernel(n, d, &k);
    return kernel && op_params(n, d, kernel, 0) ? 0 : -1;
}

const OpHooks op_hooks_GlobalAveragePool = {gap_infer, gap_lower, NULL};

/* ------------------------------------------------------- LpPool, GlobalMaxPool, MaxUnpool */

/* LpPool (1: `p` a float attribute; 2, 11, 18 (ceil_mode, dilations), 22): the windows of
 * MaxPool/AveragePool, y = (sum of |x|^p over the taps inside the input)^(1/p) (padding taps
 * are zeros and add nothing). */
static double lppool_p(IrNode *n) {
    return n->opset < 2 ? (double)ir_attr_float(n, "p", 2.0f) : (double)ir_attr_int(n, "p", 2);
}

static int lppool_infer(IrNode *n, IrDiag *d) {
    const IrType *x = spatial_input(n, d);
    if (!x || require_float_x(n, d, x)) return -1;
    if (!(lppool_p(n) > 0)) {
        ir_error(d, n, "attribute 'p' is %g, must be positive", lppool_p(n));
        return -1;
    }
    return pool_infer_common(n, d, x);
}

static int lppool_lower(IrNode *n, IrDiag *d) {
    static const PoolKernels k = {"rt_k_lppool_f32", "rt_k_lppool_f64", "rt_k_lppool_f16",
                                  "rt_k_lppool_bf16", NULL, NULL};
    RtLpPoolParams *p =
        pool_params(n, d, &k, sizeof(RtLpPoolParams), offsetof(RtLpPoolParams, pool));
    if (!p) return -1;
    p->p = lppool_p(n);
    return 0;
}

const OpHooks op_hooks_LpPool = {lppool_infer, lppool_lower, NULL};

/* GlobalMaxPool (1, 22): maximum over all spatial positions; the output type of
 * GlobalAveragePool. */
static int gmp_lower(IrNode *n, IrDiag *d) {
    static const PoolKernels k = {"rt_k_global_maxpool_f32", "rt_k_global_maxpool_f64",
                                  "rt_k_global_maxpool_f16", "rt_k_global_maxpool_bf16", NULL,
                                  NULL};
    const char *kernel = pool_kernel(n, d, &k);
    return kernel && op_params(n, d, kernel, 0) ? 0 : -1;
}

const OpHooks op_hooks_GlobalMaxPool = {gap_infer, gmp_lower, NULL};

/* MaxUnpool (9, 11, 22): inputs X [N, C, D...], I (int64 indices of MaxPool, flat over the
 * unpooled tensor [N, C, U...] with U = (D - 1) * stride - pad_begin - pad_end + kernel) and an
 * optional output_shape; the output is zero except Y[I[j]] = X[j], and with output_shape the
 * unpooled tensor sits at the start of each dim of the larger output (as in the reference
 * implementation). A computed output_shape needs a declared static output type. */
static int unpool_attrs(IrNode *n, IrDiag *d, int ns, WinAttrs *a) {
    if (read_win_attrs(n, d, ns, NULL, a)) return -1;
    if (a->auto_pad != AP_NOTSET) {
        ir_error(d, n, "MaxUnpool has no auto_pad");
        return -1;
    }
    return 0;
}

static int unpool_infer(IrNode *n, IrDiag *d) {
    const IrType *x = spatial_input(n, d);
    if (!x) return -1;
    if (!is_float_type(x->dtype)) {
        ir_error(d, n, "input X has element type %s, expected a float type",
                 ir_dtype_name(x->dtype));
        return -1;
    }
    const IrType *ind = op_input_tensor(n, d, 1);
    if (!ind) return -1;
    if (ind->dtype != IR_DT_INT64 || ind->rank != x->rank) {
        ir_error(d, n, "input I must be int64 of X's rank");
        return -1;
    }
    WinAttrs a;
    int ns = x->rank - 2;
    if (unpool_attrs(n, d, ns, &a)) return -1;
    IrDim out[2 + RT_MAX_SPATIAL];
    IrValue *os = ir_node_in(n, 2);
    if (os) {
        const int64_t *v;
        int k = os->init ? op_const_ints(n, 2, &v) : -1;
        if (k < 0) {
            IrValue *o = n->out[0];
            if (o && o->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&o->type) &&
                o->type.dtype == x->dtype && o->type.rank == x->rank)
                return 0; /* the declared type; the kernel checks output_shape at run time */
            ir_error(d, n, "unsupported: the output shape of MaxUnpool depends on the value of "
                     "its output_shape input, which is computed at run time (make it a constant "
                     "or declare a static output type in the model)");
            return -1;
        }
        if (k != x->rank) {
            ir_error(d, n, "output_shape has %d entries, expected %d", k, x->rank);
            return -1;
        }
        for (int i = 0; i < k; i++) out[i] = (IrDim){v[i], NULL};
        return op_set_output(n, 0, x->dtype, x->rank, out);
    }
    out[0] = x->dims[0];
    out[1] = x->dims[1];
    for (int i = 0; i < ns; i++) {
        int64_t dim = x->dims[2 + i].value, u;
        out[2 + i] = (IrDim){-1, NULL};
        if (dim < 0) continue;
        if (ir_mul_i64(dim > 0 ? dim - 1 : 0, a.stride[i], &u) ||
            ir_add_i64(u, a.kernel[i] - a.pads[i] - a.pads[ns + i], &u) || u < 0) {
            ir_error(d, n, "unpooled size of spatial dim %d is invalid", i);
            return -1;
        }
        out[2 + i].value = u;
    }
    return op_set_output(n, 0, x->dtype, x->rank, out);
}

static int unpool_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    WinAttrs a;
    int ns = x->rank - 2;
    if (unpool_attrs(n, d, ns, &a)) return -1;
    RtPoolParams *p = op_params(n, d, "rt_k_maxunpool", sizeof *p);
    if (!p) return -1;
    p->nspatial = ns;
    for (int i = 0; i < ns; i++) {
        p->kernel[i] = a.kernel[i];
        p->stride[i] = a.stride[i];
        p->dilation[i] = 1;
        p->pad_begin[i] = a.pads[i];
        p->pad_end[i] = a.pads[ns + i];
    }
    return 0;
}

const OpHooks op_hooks_MaxUnpool = {unpool_infer, unpool_lower, NULL};
