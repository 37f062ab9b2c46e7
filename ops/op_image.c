/* op_image.c - infer and lower hooks of the image family: Resize, Upsample, QuantizeLinear,
 * DequantizeLinear, DynamicQuantizeLinear, ConvTranspose, MatMulInteger, QLinearMatMul,
 * ConvInteger, QLinearConv (kernels in runtime/rt_image.c).
 *
 * ONNX specification: docs/Operators.md, sections Resize (10, 11, 13, 18, 19), Upsample (1, 7,
 * 9), QuantizeLinear / DequantizeLinear (10, 13, 19, 21, 23, 24, 25), DynamicQuantizeLinear
 * (11), ConvTranspose (1, 11, 22), MatMulInteger (10), QLinearMatMul (10, 21), ConvInteger (10),
 * QLinearConv (10).
 *
 * Resize: the output shape is resolved at compile time from constant scales or sizes (with
 * axes and keep_aspect_ratio_policy); when they are computed at run time, the model's declared
 * static output type is kept and the kernel recomputes and checks the shape from the run-time
 * values (RtResizeParams.runtime). Resize-10 and Upsample have no coordinate attributes: they
 * use asymmetric coordinates and, for nearest, floor when upsampling and ceil when downsampling
 * (what onnxruntime does for these versions; the spec does not say).
 *
 * ConvTranspose resolves auto_pad / output_shape into a begin crop (pad_begin) and the output
 * size: total = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - out, split as the
 * spec says (SAME_UPPER puts the odd pixel at the end).
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

/* ------------------------------------------------------------------------------- helpers */

static int is_float_dt(IrDType t) {
    return t == IR_DT_FLOAT || t == IR_DT_DOUBLE || t == IR_DT_FLOAT16 || t == IR_DT_BFLOAT16;
}

/* Reads a constant numeric 0-D/1-D input i as doubles (at most cap); returns the count, -1 if
 * absent or not constant, -2 for an unsupported element type. */
static int const_doubles(IrNode *n, int i, double *out, int cap) {
    IrValue *v = ir_node_in(n, i);
    if (!v || !v->init) return -1;
    const IrTensor *t = v->init;
    if (t->rank > 1 || t->numel > cap) return -2;
    for (int64_t k = 0; k < t->numel; k++) {
        const void *p = t->data;
        switch (t->dtype) {
        case IR_DT_FLOAT: out[k] = ((const float *)p)[k]; break;
        case IR_DT_DOUBLE: out[k] = ((const double *)p)[k]; break;
        case IR_DT_INT64: out[k] = (double)((const int64_t *)p)[k]; break;
        case IR_DT_INT32: out[k] = ((const int32_t *)p)[k]; break;
        case IR_DT_FLOAT16: {
            uint16_t h = ((const uint16_t *)p)[k];
            int e = (h >> 10) & 31, m = h & 1023;
            double v2 = e == 0 ? ldexp(m, -24) : e == 31 ? INFINITY : ldexp(m | 1024, e - 25);
            out[k] = (h & 0x8000) ? -v2 : v2;
            break;
        }
        default: return -2;
        }
    }
    return (int)t->numel;
}

/* 1 if input i is present and its value is a known-empty tensor (an "absent" scales/roi). */
static int input_empty(IrNode *n, int i) {
    IrValue *v = ir_node_in(n, i);
    int64_t k;
    return !v || (v->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&v->type) &&
                  ir_type_numel(&v->type, &k) == 0 && k == 0);
}

/* The declared static output type is usable for an output whose shape depends on run-time
 * values: a static tensor of dtype dt and rank `rank`. */
static int declared_ok(IrNode *n, IrDType dt, int rank) {
    IrValue *o = n->nout > 0 ? n->out[0] : NULL;
    return o && o->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&o->type) &&
           o->type.dtype == dt && o->type.rank == rank;
}

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ------------------------------------------------------------------------------ Resize */

/* Everything Resize/Upsample needs, resolved from the node. */
typedef struct ResizePlan {
    RtResizeParams p;             /* kernel parameters (axes filled with the resampled dims) */
    int64_t out[RT_IMG_MAX_RANK]; /* output dims (-1: unknown) */
    int runtime;                  /* 1: scales/sizes computed at run time (declared output) */
} ResizePlan;

static int parse_choice(IrNode *n, IrDiag *d, const char *attr, const char *dflt,
                        const char *const *names, int count, int *out) {
    const char *s = ir_attr_string(n, attr, dflt);
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = i;
            return 0;
        }
    ir_error(d, n, "%s '%s' is not supported", attr, s);
    return -1;
}

static int resize_plan(IrNode *n, IrDiag *d, const IrType *x, ResizePlan *pl) {
    int r = x->rank, upsample = strcmp(n->op_type, "Upsample") == 0;
    int legacy = upsample || n->opset < 11;
    RtResizeParams *p = &pl->p;
    memset(pl, 0, sizeof *pl);
    if (r < 1 || r > RT_IMG_MAX_RANK) {
        ir_error(d, n, "input X has rank %d, supported: 1..%d", r, RT_IMG_MAX_RANK);
        return -1;
    }
    p->rank = r;
    static const char *const modes[] = {"nearest", "linear", "cubic", "bilinear"};
    int mode;
    if (parse_choice(n, d, "mode", "nearest", modes, legacy ? 4 : 3, &mode)) return -1;
    p->mode = mode == 3 ? RT_RESIZE_LINEAR : mode;
    if (legacy && p->mode == RT_RESIZE_CUBIC) {
        ir_error(d, n, "mode 'cubic' needs Resize-11 or later");
        return -1;
    }
    p->cubic_a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
    p->exclude_outside = (int32_t)ir_attr_int(n, "exclude_outside", 0) != 0;
    p->extrapolation = ir_attr_float(n, "extrapolation_value", 0.0f);
    p->antialias = n->opset >= 18 && ir_attr_int(n, "antialias", 0) != 0;
    if (legacy) {
        p->coord = RT_RESIZE_ASYMMETRIC;
        p->nearest_mode = RT_NEAREST_SIMPLE;
    } else {
        static const char *const coords[] = {"half_pixel", "half_pixel_symmetric",
                                             "pytorch_half_pixel", "align_corners",
                                             "asymmetric", "tf_crop_and_resize",
                                             "tf_half_pixel_for_nn"};
        static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor",
                                          "ceil"};
        int c, nm;
        if (parse_choice(n, d, "coordinate_transformation_mode", "half_pixel", coords, 7, &c) ||
            parse_choice(n, d, "nearest_mode", "round_prefer_floor", nms, 4, &nm))
            return -1;
        if ((c == RT_RESIZE_HALF_PIXEL_SYM && n->opset < 19) ||
            (c == RT_RESIZE_TF_HALF_NN && n->opset >= 13)) {
            ir_error(d, n, "coordinate_transformation_mode is not defined in Resize-%d",
                     n->opset);
            return -1;
        }
        p->coord = c;
        p->nearest_mode = nm;
    }
    /* axes (opset 18) */
    int axes[RT_IMG_MAX_RANK], naxes = r;
    for (int i = 0; i < r; i++) axes[i] = i;
    const int64_t *av;
    int na = n->opset >= 18 && !upsample ? ir_attr_ints(n, "axes", &av) : -1;
    if (na >= 0) {
        if (na < 1 || na > r) {
            ir_error(d, n, "axes has %d entries for rank %d", na, r);
            return -1;
        }
        unsigned seen = 0;
        for (int i = 0; i < na; i++) {
            int64_t a;
            if (op_norm_axis(n, d, av[i], r, &a)) return -1;
            if (seen & (1u << a)) {
                ir_error(d, n, "axis %lld is repeated in axes", (long long)av[i]);
                return -1;
            }
            seen |= 1u << a;
            axes[i] = (int)a;
        }
        naxes = na;
    }
    static const char *const kars[] = {"stretch", "not_larger", "not_smaller"};
    int kar = 0;
    if (n->opset >= 18 && !upsample &&
        parse_choice(n, d, "keep_aspect_ratio_policy", "stretch", kars, 3, &kar))
        return -1;
    for (int i = 0; i < r; i++) {
        p->scale[i] = 1.0;
        p->roi_start[i] = 0.0;
        p->roi_end[i] = 1.0;
        pl->out[i] = x->dims[i].value;
    }
    /* scales / sizes / roi slots */
    int s_slot = legacy ? 1 : 2, z_slot = legacy ? -1 : 3, roi_slot = legacy ? -1 : 1;
    double vals[RT_IMG_MAX_RANK * 2];
    int ns = -1, nz = -1, sizes_given = 0, computed = 0, roi_rt = 0;
    if (upsample && n->opset < 9) {
        const float *fs;
        int k = ir_attr_floats(n, "scales", &fs);
        if (k >= 0) {
            if (k != r) {
                ir_error(d, n, "attribute 'scales' has %d values for rank %d", k, r);
                return -1;
            }
            for (int i = 0; i < k; i++) vals[i] = fs[i];
            ns = k;
        } else if (r == 4) {
            vals[0] = vals[1] = 1.0;
            vals[2] = ir_attr_float(n, "height_scale", 1.0f);
            vals[3] = ir_attr_float(n, "width_scale", 1.0f);
            ns = 4;
        } else {
            ir_error(d, n, "attribute 'scales' is required");
            return -1;
        }
    } else if (!input_empty(n, s_slot)) {
        ns = const_doubles(n, s_slot, vals, RT_IMG_MAX_RANK);
        if (ns == -2) {
            ir_error(d, n, "scales must be a 1-D float tensor of at most %d values",
                     RT_IMG_MAX_RANK);
            return -1;
        }
        if (ns < 0) computed = 1;
    }
    if (ns < 0 && !computed && z_slot >= 0 && !input_empty(n, z_slot)) {
        nz = const_doubles(n, z_slot, vals, RT_IMG_MAX_RANK);
        if (nz == -2) {
            ir_error(d, n, "sizes must be a 1-D int64 tensor of at most %d values",
                     RT_IMG_MAX_RANK);
            return -1;
        }
        if (nz < 0) computed = 1;
        sizes_given = 1;
    }
    if (ns < 0 && nz < 0 && !computed) {
        ir_error(d, n, "one of scales and sizes must be given");
        return -1;
    }
    int cnt = ns >= 0 ? ns : nz;
    if (!computed && cnt != naxes) {
        ir_error(d, n, "%s has %d values, expected %d", ns >= 0 ? "scales" : "sizes", cnt, naxes);
        return -1;
    }
    if (p->coord == RT_RESIZE_TF_CROP && roi_slot >= 0 && !input_empty(n, roi_slot)) {
        double roi[RT_IMG_MAX_RANK * 2];
        int k = const_doubles(n, roi_slot, roi, 2 * RT_IMG_MAX_RANK);
        if (k == -1) {
            roi_rt = 1; /* read by the kernel from input 1 */
        } else if (k != 2 * naxes) {
            ir_error(d, n, "roi must have %d values", 2 * naxes);
            return -1;
        }
        for (int i = 0; i < naxes && !roi_rt; i++) {
            p->roi_start[axes[i]] = roi[i];
            p->roi_end[axes[i]] = roi[naxes + i];
        }
    }
    if (computed) {
        /* the declared output type gives the shape; the kernel takes the values at run time */
        pl->runtime = 1;
        p->runtime = (ns == -1 && nz == -1 && !sizes_given ? (legacy ? 1 : 2) : 3 + kar) |
                     (roi_rt ? 8 : 0);
        IrValue *o = n->out[0];
        for (int i = 0; i < naxes; i++) p->axes[i] = axes[i];
        p->naxes = naxes;
        for (int i = 0; i < r; i++) pl->out[i] = declared_ok(n, x->dtype, r) ? o->type.dims[i].value : -1;
        for (int i = 0; i < r; i++)
            if (x->dims[i].value > 0 && pl->out[i] >= 0)
                p->scale[i] = (double)pl->out[i] / (double)x->dims[i].value;
        return 0;
    }
    double kscale = kar == 1 ? INFINITY : -INFINITY;
    if (sizes_given && kar) {
        for (int i = 0; i < naxes; i++) {
            int64_t in = x->dims[axes[i]].value;
            if (in <= 0) return 0; /* unknown */
            double s = vals[i] / (double)in;
            kscale = kar == 1 ? (s < kscale ? s : kscale) : (s > kscale ? s : kscale);
        }
    }
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        int64_t in = x->dims[a].value;
        if (sizes_given) {
            if (vals[i] < 0 || vals[i] > 1e15) {
                ir_error(d, n, "sizes[%d] is %g (out of range)", i, vals[i]);
                return -1;
            }
            if (in < 0) {
                pl->out[a] = kar ? -1 : (int64_t)vals[i];
                continue;
            }
            if (kar) {
                p->scale[a] = kscale;
                if (!(kscale * (double)in < 1e15)) {
                    ir_error(d, n, "the output along dim %d is too large", a);
                    return -1;
                }
                pl->out[a] = (int64_t)(kscale * (double)in + 0.5);
            } else {
                pl->out[a] = (int64_t)vals[i];
                p->scale[a] = in > 0 ? vals[i] / (double)in : 1.0;
            }
        } else {
            if (!(vals[i] > 0) || vals[i] > 1e9) {
                ir_error(d, n, "scales[%d] is %g, must be > 0", i, vals[i]);
                return -1;
            }
            p->scale[a] = vals[i];
            if (in >= 0 && !(vals[i] * (double)in < 1e15)) {
                ir_error(d, n, "the output along dim %d is too large", a);
                return -1;
            }
            pl->out[a] = in < 0 ? -1 : (int64_t)floor(vals[i] * (double)in);
        }
    }
    /* resampled axes in order, skipping identities (as the reference does) */
    for (int i = 0; i < naxes; i++) {
        int a = axes[i];
        int identity = fabs(p->scale[a] - 1.0) <= 1e-9 * fmax(1.0, fabs(p->scale[a])) &&
                       pl->out[a] == x->dims[a].value && pl->out[a] >= 0 &&
                       fabs(p->roi_start[a]) <= 1e-9 && fabs(p->roi_end[a] - 1.0) <= 1e-9;
        if (!identity || roi_rt) p->axes[p->naxes++] = a;
    }
    if (roi_rt) p->runtime = 8;
    return 0;
}

static int resize_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    ResizePlan pl;
    if (resize_plan(n, d, x, &pl)) return -1;
    if (pl.p.mode != RT_RESIZE_NEAREST &&
        (x->dtype == IR_DT_STRING || x->dtype == IR_DT_BOOL || x->dtype == IR_DT_COMPLEX64 ||
         x->dtype == IR_DT_COMPLEX128)) {
        ir_error(d, n, "%s interpolation of %s tensors is not defined",
                 pl.p.mode == RT_RESIZE_LINEAR ? "linear" : "cubic", ir_dtype_name(x->dtype));
        return -1;
    }
    if (pl.runtime) {
        if (declared_ok(n, x->dtype, x->rank)) return 0;
        ir_error(d, n,
                 "unsupported: the output shape of %s depends on its scales/sizes input, which is "
                 "computed at run time (make it a constant or declare a static output type)",
                 n->op_type);
        return -1;
    }
    IrDim dims[RT_IMG_MAX_RANK];
    for (int i = 0; i < x->rank; i++) {
        dims[i].value = pl.out[i];
        dims[i].sym = pl.out[i] == x->dims[i].value ? x->dims[i].sym : NULL;
    }
    return op_set_output(n, 0, x->dtype, x->rank, dims);
}

static int resize_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type;
    ResizePlan pl;
    if (resize_plan(n, d, x, &pl)) return -1;
    if (x->dtype == IR_DT_COMPLEX64 || x->dtype == IR_DT_COMPLEX128) {
        ir_error(d, n, "Resize on %s tensors is not supported yet", ir_dtype_name(x->dtype));
        return -1;
    }
    RtResizeParams *p = op_params(n, d, "rt_k_resize", sizeof *p);
    if (!p) return -1;
    *p = pl.p;
    return 0;
}

const OpHooks op_hooks_Resize = {resize_infer, resize_lower, NULL};
const OpHooks op_hooks_Upsample = {resize_infer, resize_lower, NULL};

/* ------------------------------------------------------------- QuantizeLinear / Dequantize */

static int is_quant_dt(IrDType t) {
    switch (t) {
    case IR_DT_UINT8: case IR_DT_INT8: case IR_DT_UINT16: case IR_DT_INT16: case IR_DT_UINT4:
    case IR_DT_INT4: case IR_DT_UINT2: case IR_DT_INT2: case IR_DT_FLOAT8E4M3FN:
    case IR_DT_FLOAT8E4M3FNUZ: case IR_DT_FLOAT8E5M2: case IR_DT_FLOAT8E5M2FNUZ:
    case IR_DT_FLOAT4E2M1:
        return 1;
    default: return 0;
    }
}

/* Checks the scale (input 1) and zero point (input 2) shapes against x for the granularity the
 * scale's shape selects; fills the normalised axis and block size. */
static int quant_granularity(IrNode *n, IrDiag *d, const IrType *x, int32_t *axis,
                             int32_t *block) {
    const IrType *s = op_input_tensor(n, d, 1);
    if (!s) return -1;
    IrValue *zv = ir_node_in(n, 2);
    if (zv) {
        const IrType *z = op_input_tensor(n, d, 2);
        if (!z) return -1;
        int64_t zn, sn;
        if (!ir_type_numel(z, &zn) && !ir_type_numel(s, &sn) && zn != sn) {
            ir_error(d, n, "zero point has %lld elements, the scale %lld", (long long)zn,
                     (long long)sn);
            return -1;
        }
    }
    int64_t b = n->opset >= 21 ? ir_attr_int(n, "block_size", 0) : 0;
    int64_t ax = ir_attr_int(n, "axis", 1), a = 0;
    *axis = 0;
    *block = 0;
    if (b < 0) {
        ir_error(d, n, "block_size is %lld, must be >= 0", (long long)b);
        return -1;
    }
    int64_t ns;
    int per_tensor = s->rank == 0 || (s->rank == 1 && !ir_type_numel(s, &ns) && ns == 1 && !b);
    if (per_tensor && !b) return 0;
    if (x->rank < 1 || op_norm_axis(n, d, ax, x->rank, &a)) return -1;
    *axis = (int32_t)a;
    if (!b) {
        if (s->rank != 1) {
            ir_error(d, n, "the scale has rank %d: per-axis needs 1-D (blocked needs block_size)",
                     s->rank);
            return -1;
        }
        if (s->dims[0].value >= 0 && x->dims[a].value >= 0 && s->dims[0].value != x->dims[a].value) {
            ir_error(d, n, "the scale has %lld values, x has %lld along axis %lld",
                     (long long)s->dims[0].value, (long long)x->dims[a].value, (long long)a);
            return -1;
        }
        return 0;
    }
    if (s->rank != x->rank) {
        ir_error(d, n, "blocked quantization needs a scale of rank %d", x->rank);
        return -1;
    }
    for (int i = 0; i < x->rank; i++) {
        int64_t xd = x->dims[i].value, sd = s->dims[i].value;
        if (xd < 0 || sd < 0) continue;
        if (i == a ? (xd + b - 1) / b != sd : xd != sd) {
            ir_error(d, n, "scale shape does not match x blocked by %lld along axis %lld",
                     (long long)b, (long long)a);
            return -1;
        }
    }
    *block = (int32_t)b;
    return 0;
}

static IrDType quant_out_dtype(IrNode *n, IrDiag *d) {
    IrValue *zv = ir_node_in(n, 2);
    int64_t od = n->opset >= 21 ? ir_attr_int(n, "output_dtype", 0) : 0;
    IrDType t = zv ? zv->type.dtype : od ? (IrDType)od : IR_DT_UINT8;
    if (zv && od && od != zv->type.dtype) {
        ir_error(d, n, "output_dtype %lld differs from the zero point's type %s", (long long)od,
                 ir_dtype_name(zv->type.dtype));
        return IR_DT_UNDEFINED;
    }
    if (!is_quant_dt(t)) {
        ir_error(d, n, "%s is not a quantized type", ir_dtype_name(t));
        return IR_DT_UNDEFINED;
    }
    return t;
}

static int quantize_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (!is_float_dt(x->dtype) && x->dtype != IR_DT_INT32) {
        ir_error(d, n, "x has element type %s, expected float or int32", ir_dtype_name(x->dtype));
        return -1;
    }
    int32_t axis, block;
    if (quant_granularity(n, d, x, &axis, &block)) return -1;
    IrDType t = quant_out_dtype(n, d);
    if (t == IR_DT_UNDEFINED) return -1;
    return op_set_output(n, 0, t, x->rank, x->dims);
}

static int quantize_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type, *s = &n->in[1]->type;
    RtQuantParams *p = op_params(n, d, "rt_k_quantize_linear", sizeof *p);
    if (!p || quant_granularity(n, d, x, &p->axis, &p->block)) return -1;
    p->saturate = n->opset >= 19 ? ir_attr_int(n, "saturate", 1) != 0 : 1;
    int64_t prec = n->opset >= 23 ? ir_attr_int(n, "precision", 0) : 0;
    if (!prec) {
        /* numpy's promotion of x / scale, which produced the reference results */
        if (x->dtype == IR_DT_INT32 || s->dtype == IR_DT_INT32 || x->dtype == IR_DT_DOUBLE) prec = 11;
        else if (x->dtype == s->dtype) prec = x->dtype;
        else prec = 1;
    }
    if (prec != 1 && prec != 10 && prec != 16 && prec != 11) {
        ir_error(d, n, "precision %lld is not supported (float, float16, bfloat16)", (long long)prec);
        return -1;
    }
    p->precision = (int32_t)prec;
    return 0;
}

const OpHooks op_hooks_QuantizeLinear = {quantize_infer, quantize_lower, NULL};

static int dequantize_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    const IrType *s = op_input_tensor(n, d, 1);
    if (!x || !s) return -1;
    if (!is_quant_dt(x->dtype) && x->dtype != IR_DT_INT32) {
        ir_error(d, n, "x has element type %s, not a quantized type", ir_dtype_name(x->dtype));
        return -1;
    }
    IrValue *zv = ir_node_in(n, 2);
    if (zv && zv->type.dtype != x->dtype) {
        ir_error(d, n, "zero point has type %s, x has %s", ir_dtype_name(zv->type.dtype),
                 ir_dtype_name(x->dtype));
        return -1;
    }
    int32_t axis, block;
    if (quant_granularity(n, d, x, &axis, &block)) return -1;
    int64_t od = n->opset >= 23 ? ir_attr_int(n, "output_dtype", 0) : 0;
    IrDType t = od ? (IrDType)od : n->opset >= 19 ? s->dtype : IR_DT_FLOAT;
    if (t == IR_DT_FLOAT8E8M0) t = IR_DT_FLOAT;
    if (t != IR_DT_FLOAT && t != IR_DT_FLOAT16 && t != IR_DT_BFLOAT16) {
        ir_error(d, n, "output type %s is not float, float16 or bfloat16", ir_dtype_name(t));
        return -1;
    }
    return op_set_output(n, 0, t, x->rank, x->dims);
}

static int dequantize_lower(IrNode *n, IrDiag *d) {
    RtQuantParams *p = op_params(n, d, "rt_k_dequantize_linear", sizeof *p);
    if (!p) return -1;
    return quant_granularity(n, d, &n->in[0]->type, &p->axis, &p->block);
}

const OpHooks op_hooks_DequantizeLinear = {dequantize_infer, dequantize_lower, NULL};

static int dynq_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x) return -1;
    if (x->dtype != IR_DT_FLOAT) {
        ir_error(d, n, "x has element type %s, expected float", ir_dtype_name(x->dtype));
        return -1;
    }
    if (op_set_output(n, 0, IR_DT_UINT8, x->rank, x->dims) ||
        op_set_output(n, 1, IR_DT_FLOAT, 0, NULL) || op_set_output(n, 2, IR_DT_UINT8, 0, NULL))
        return -1;
    return 0;
}

static int dynq_lower(IrNode *n, IrDiag *d) {
    for (int i = 0; i < 3; i++)
        if (!n->out[i]) {
            ir_error(d, n, "every output must be present (output %d is omitted)", i);
            return -1;
        }
    return op_params(n, d, "rt_k_dynamic_quantize_linear", 0) ? 0 : -1;
}

const OpHooks op_hooks_DynamicQuantizeLinear = {dynq_infer, dynq_lower, NULL};

/* ---------------------------------------------------------------- conv window attributes */

enum { AP_NOTSET = 0, AP_SAME_UPPER = 1, AP_SAME_LOWER = 2, AP_VALID = 3 };

/* Window attributes of ConvTranspose / ConvInteger / QLinearConv. */
typedef struct Win {
    int ns, auto_pad;
    int64_t k[RT_IMG_MAX_RANK], s[RT_IMG_MAX_RANK], dl[RT_IMG_MAX_RANK];
    int64_t pads[2 * RT_IMG_MAX_RANK], opad[RT_IMG_MAX_RANK], oshape[RT_IMG_MAX_RANK];
    int has_oshape;
} Win;

static int ints_attr(IrNode *n, IrDiag *d, const char *name, int count, int64_t minv,
                     int64_t *out) {
    const int64_t *v;
    int k = ir_attr_ints(n, name, &v);
    if (k < 0) return 0;
    if (k != count) {
        ir_error(d, n, "attribute '%s' has %d values, expected %d", name, k, count);
        return -1;
    }
    for (int i = 0; i < k; i++) {
        if (v[i] < minv) {
            ir_error(d, n, "attribute '%s'[%d] is %lld, must be >= %lld", name, i,
                     (long long)v[i], (long long)minv);
            return -1;
        }
        out[i] = v[i];
    }
    return 0;
}

/* Reads the window attributes for ns spatial dims; wk (W's spatial dims) gives the kernel. */
static int read_win(IrNode *n, IrDiag *d, int ns, const IrDim *wk, Win *w) {
    memset(w, 0, sizeof *w);
    w->ns = ns;
    if (ns < 1 || ns > RT_IMG_MAX_RANK) {
        ir_error(d, n, "%d spatial dims are not supported (1..%d)", ns, RT_IMG_MAX_RANK);
        return -1;
    }
    static const char *const aps[] = {"NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"};
    const char *ap = ir_attr_string(n, "auto_pad", "NOTSET");
    w->auto_pad = -1;
    for (int i = 0; i < 4; i++)
        if (strcmp(ap, aps[i]) == 0) w->auto_pad = i;
    if (!ap[0]) w->auto_pad = AP_NOTSET;
    if (w->auto_pad < 0) {
        ir_error(d, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
        return -1;
    }
    for (int i = 0; i < ns; i++) {
        w->s[i] = w->dl[i] = 1;
        w->k[i] = wk[i].value;
        if (w->k[i] < 0) {
            ir_error(d, n, "the weight's spatial dims must be known");
            return -1;
        }
    }
    int64_t ks[RT_IMG_MAX_RANK];
    memcpy(ks, w->k, sizeof ks);
    if (ints_attr(n, d, "kernel_shape", ns, 1, ks) || ints_attr(n, d, "strides", ns, 1, w->s) ||
        ints_attr(n, d, "dilations", ns, 1, w->dl) || ints_attr(n, d, "pads", 2 * ns, 0, w->pads) ||
        ints_attr(n, d, "output_padding", ns, 0, w->opad))
        return -1;
    for (int i = 0; i < ns; i++)
        if (ks[i] != w->k[i]) {
            ir_error(d, n, "kernel_shape[%d] is %lld but the weight has %lld", i,
                     (long long)ks[i], (long long)w->k[i]);
            return -1;
        }
    const int64_t big = (int64_t)1 << 40, small = (int64_t)1 << 20;
    for (int i = 0; i < ns; i++)
        if (w->k[i] > big || w->s[i] > small || w->dl[i] > small || w->opad[i] > big ||
            w->pads[i] > big || w->pads[ns + i] > big) {
            ir_error(d, n, "window attributes of spatial dim %d are too large", i);
            return -1;
        }
    const int64_t *os;
    int k = ir_attr_ints(n, "output_shape", &os);
    if (k >= 0) {
        if (k != ns && k != ns + 2) {
            ir_error(d, n, "output_shape has %d values, expected %d", k, ns);
            return -1;
        }
        for (int i = 0; i < ns; i++) {
            w->oshape[i] = os[k - ns + i];
            if (w->oshape[i] < 0 || w->oshape[i] > big) {
                ir_error(d, n, "output_shape[%d] is %lld", i, (long long)w->oshape[i]);
                return -1;
            }
        }
        w->has_oshape = 1;
    }
    return 0;
}

/* ConvTranspose output size and begin crop of spatial dim i for input size `in`. */
static int convt_dim(IrNode *n, IrDiag *d, const Win *w, int i, int64_t in, int64_t *out,
                     int64_t *pb) {
    int64_t dk = (w->k[i] - 1) * w->dl[i] + 1;
    int64_t full = w->s[i] * (in - 1) + w->opad[i] + dk;
    if (in < 1 || dk > ((int64_t)1 << 40) || in > ((int64_t)1 << 40) || w->s[i] > (1 << 20)) {
        ir_error(d, n, "spatial dim %d: input %lld is not supported", i, (long long)in);
        return -1;
    }
    if (w->has_oshape || w->auto_pad == AP_SAME_UPPER || w->auto_pad == AP_SAME_LOWER) {
        int64_t o = w->has_oshape ? w->oshape[i] : in * w->s[i];
        int64_t total = full - o;
        *pb = w->auto_pad == AP_SAME_UPPER ? floor_div(total, 2) : total - floor_div(total, 2);
        *out = o;
    } else if (w->auto_pad == AP_VALID) {
        *pb = 0;
        *out = full;
    } else {
        *pb = w->pads[i];
        *out = full - w->pads[i] - w->pads[w->ns + i];
    }
    if (*out < 0) {
        ir_error(d, n, "output size along spatial dim %d is negative", i);
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------- ConvTranspose */

static int convt_infer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *w = op_input_tensor(n, d, 1);
    if (!x || !w) return -1;
    if (!is_float_dt(x->dtype) || w->dtype != x->dtype) {
        ir_error(d, n, "X and W must have the same float type (%s, %s)", ir_dtype_name(x->dtype),
                 ir_dtype_name(w->dtype));
        return -1;
    }
    if (x->rank < 3 || w->rank != x->rank) {
        ir_error(d, n, "X has rank %d and W %d, expected equal ranks >= 3", x->rank, w->rank);
        return -1;
    }
    int64_t group = ir_attr_int(n, "group", 1);
    const IrDim *c = &x->dims[1], *wc = &w->dims[0];
    if (group < 1 || (c->value >= 0 && c->value % group) ||
        (c->value >= 0 && wc->value >= 0 && c->value != wc->value)) {
        ir_error(d, n, "X has %lld channels, W %lld, group %lld", (long long)c->value,
                 (long long)wc->value, (long long)group);
        return -1;
    }
    Win win;
    if (read_win(n, d, x->rank - 2, &w->dims[2], &win)) return -1;
    IrDim out[2 + RT_IMG_MAX_RANK];
    out[0] = x->dims[0];
    out[1].value = w->dims[1].value >= 0 ? w->dims[1].value * group : -1;
    out[1].sym = NULL;
    IrValue *bv = ir_node_in(n, 2);
    if (bv) {
        const IrType *b = op_input_tensor(n, d, 2);
        if (!b) return -1;
        if (b->dtype != x->dtype || b->rank != 1 ||
            (b->dims[0].value >= 0 && out[1].value >= 0 && b->dims[0].value != out[1].value)) {
            ir_error(d, n, "bias B must be a 1-D %s tensor of size M = %lld",
                     ir_dtype_name(x->dtype), (long long)out[1].value);
            return -1;
        }
    }
    for (int i = 0; i < win.ns; i++) {
        int64_t pb;
        out[2 + i].sym = NULL;
        out[2 + i].value = -1;
        if (x->dims[2 + i].value >= 0 &&
            convt_dim(n, d, &win, i, x->dims[2 + i].value, &out[2 + i].value, &pb))
            return -1;
    }
    return op_set_output(n, 0, x->dtype, x->rank, out);
}

static int convt_lower(IrNode *n, IrDiag *d) {
    const IrType *x = &n->in[0]->type, *w = &n->in[1]->type;
    const char *kernel = x->dtype == IR_DT_FLOAT      ? "rt_k_conv_transpose_f32"
                         : x->dtype == IR_DT_DOUBLE   ? "rt_k_conv_transpose_f64"
                         : x->dtype == IR_DT_FLOAT16  ? "rt_k_conv_transpose_f16"
                         : x->dtype == IR_DT_BFLOAT16 ? "rt_k_conv_transpose_bf16"
                                                      : NULL;
    if (!kernel) {
        ir_error(d, n, "ConvTranspose on %s tensors is not supported yet", ir_dtype_name(x->dtype));
        return -1;
    }
    Win win;
    if (read_win(n, d, x->rank - 2, &w->dims[2], &win)) return -1;
    RtConvTransposeParams *p = op_params(n, d, kernel, sizeof *p);
    if (!p) return -1;
    p->nspatial = win.ns;
    p->group = (int32_t)ir_attr_int(n, "group", 1);
    for (int i = 0; i < win.ns; i++) {
        int64_t o;
        if (convt_dim(n, d, &win, i, x->dims[2 + i].value, &o, &p->pad_begin[i])) return -1;
        p->stride[i] = win.s[i];
        p->dilation[i] = win.dl[i];
    }
    return 0;
}

const OpHooks op_hooks_ConvTranspose = {convt_infer, convt_lower, NULL};

/* ------------------------------------------------------------------ integer matmul / conv */

static int is_q8(IrDType t) { return t == IR_DT_UINT8 || t == IR_DT_INT8; }

/* Output type of A[..., M, K] x B[..., K, N] with broadcast batch dims (ranks >= 2). */
static int int_matmul_shape(IrNode *n, IrDiag *d, const IrType *a, const IrType *b, IrDType dt) {
    if (a->rank < 1 || b->rank < 1) {
        ir_error(d, n, "operands must have rank >= 1 (ranks %d, %d)", a->rank, b->rank);
        return -1;
    }
    /* 1-D operands as numpy: A [K] is [1, K] and B [K] is [K, 1], the added dim dropped */
    IrDim ad[2], bd[2];
    IrType at = *a, bt = *b;
    if (a->rank == 1) {
        ad[0] = (IrDim){1, NULL};
        ad[1] = a->dims[0];
        at.rank = 2;
        at.dims = ad;
        a = &at;
    }
    if (b->rank == 1) {
        bd[0] = b->dims[0];
        bd[1] = (IrDim){1, NULL};
        bt.rank = 2;
        bt.dims = bd;
        b = &bt;
    }
    int a1 = at.dims == ad, b1 = bt.dims == bd;
    int r = a->rank > b->rank ? a->rank : b->rank;
    if (r > 16) {
        ir_error(d, n, "rank %d is not supported", r);
        return -1;
    }
    const IrDim *k1 = &a->dims[a->rank - 1], *k2 = &b->dims[b->rank - 2];
    if (k1->value >= 0 && k2->value >= 0 && k1->value != k2->value) {
        ir_error(d, n, "inner dimensions differ: %lld and %lld", (long long)k1->value,
                 (long long)k2->value);
        return -1;
    }
    IrDim out[16];
    for (int i = 0; i < r - 2; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        IrDim da = ia >= 0 ? a->dims[ia] : (IrDim){1, NULL};
        IrDim db = ib >= 0 ? b->dims[ib] : (IrDim){1, NULL};
        if (da.value >= 0 && db.value >= 0 && da.value != db.value && da.value != 1 &&
            db.value != 1) {
            ir_error(d, n, "batch dimensions %lld and %lld do not broadcast",
                     (long long)da.value, (long long)db.value);
            return -1;
        }
        out[i] = da.value == 1 ? db : db.value == 1 ? da : da.value >= 0 ? da : db;
    }
    out[r - 2] = a->dims[a->rank - 2];
    out[r - 1] = b->dims[b->rank - 1];
    if (b1) r--;
    if (a1) {
        out[r - 1] = out[r];
        r--;
    }
    return op_set_output(n, 0, dt, r, out);
}

/* Optional zero point / scale input i: when present, of type dt (if dt != 0) with at most
 * `maxn` elements along a 0-D or 1-D shape. */
static int check_param(IrNode *n, IrDiag *d, int i, IrDType dt, const char *what) {
    IrValue *v = ir_node_in(n, i);
    if (!v) return 0;
    const IrType *t = op_input_tensor(n, d, i);
    if (!t) return -1;
    if ((dt && t->dtype != dt) || t->rank > 1) {
        ir_error(d, n, "%s must be a scalar or 1-D tensor of %s", what,
                 dt ? ir_dtype_name(dt) : "the right type");
        return -1;
    }
    return 0;
}

static int matmulint_infer(IrNode *n, IrDiag *d) {
    const IrType *a = op_input_tensor(n, d, 0), *b = op_input_tensor(n, d, 1);
    if (!a || !b) return -1;
    if (!is_q8(a->dtype) || !is_q8(b->dtype)) {
        ir_error(d, n, "A and B must be int8 or uint8 (%s, %s)", ir_dtype_name(a->dtype),
                 ir_dtype_name(b->dtype));
        return -1;
    }
    if (check_param(n, d, 2, a->dtype, "a_zero_point") ||
        check_param(n, d, 3, b->dtype, "b_zero_point"))
        return -1;
    return int_matmul_shape(n, d, a, b, IR_DT_INT32);
}

static int matmulint_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_matmul_integer", 0) ? 0 : -1;
}

const OpHooks op_hooks_MatMulInteger = {matmulint_infer, matmulint_lower, NULL};

static int qlmatmul_infer(IrNode *n, IrDiag *d) {
    const IrType *a = op_input_tensor(n, d, 0), *b = op_input_tensor(n, d, 3);
    const IrType *as = op_input_tensor(n, d, 1), *ys = op_input_tensor(n, d, 6);
    if (!a || !b || !as || !ys) return -1;
    IrValue *yz = ir_node_in(n, 7);
    if (!is_q8(a->dtype) || !is_q8(b->dtype) || !yz || !is_q8(yz->type.dtype)) {
        ir_error(d, n, "a, b and y_zero_point must be int8 or uint8");
        return -1;
    }
    if (!is_float_dt(as->dtype) || check_param(n, d, 4, as->dtype, "b_scale") ||
        check_param(n, d, 6, as->dtype, "y_scale") || check_param(n, d, 2, a->dtype, "a_zero_point") ||
        check_param(n, d, 5, b->dtype, "b_zero_point") || check_param(n, d, 7, 0, "y_zero_point"))
        return -1;
    return int_matmul_shape(n, d, a, b, yz->type.dtype);
}

static int qlmatmul_lower(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_qlinear_matmul", 0) ? 0 : -1;
}

const OpHooks op_hooks_QLinearMatMul = {qlmatmul_infer, qlmatmul_lower, NULL};

/* Conv output size and begin pad of spatial dim i (ONNX Conv formulas). */
static int conv_dim(IrNode *n, IrDiag *d, const Win *w, int i, int64_t in, int64_t *out,
                    int64_t *pb) {
    int64_t dk = (w->k[i] - 1) * w->dl[i] + 1;
    if (in > ((int64_t)1 << 40)) {
        ir_error(d, n, "spatial dim %d: input %lld is too large", i, (long long)in);
        return -1;
    }
    if (w->auto_pad == AP_SAME_UPPER || w->auto_pad == AP_SAME_LOWER) {
        int64_t o = (in + w->s[i] - 1) / w->s[i];
        int64_t total = (o > 0 ? (o - 1) * w->s[i] : 0) + dk - in;
        if (total < 0) total = 0;
        *pb = w->auto_pad == AP_SAME_UPPER ? total / 2 : total - total / 2;
        *out = o;
        return 0;
    }
    int64_t b = w->auto_pad == AP_VALID ? 0 : w->pads[i];
    int64_t e = w->auto_pad == AP_VALID ? 0 : w->pads[w->ns + i];
    if (in + b + e < dk) {
        ir_error(d, n, "kernel extent %lld is larger than the padded input along spatial dim %d",
                 (long long)dk, i);
        return -1;
    }
    *pb = b;
    *out = (in + b + e - dk) / w->s[i] + 1;
    return 0;
}

/* Shared inference of ConvInteger (x 0, w 1) and QLinearConv (x 0, w 3). */
static int intconv_infer(IrNode *n, IrDiag *d, int wi, IrDType ydt) {
    const IrType *x = op_input_tensor(n, d, 0), *w = op_input_tensor(n, d, wi);
    if (!x || !w) return -1;
    if (!is_q8(x->dtype) || !is_q8(w->dtype)) {
        ir_error(d, n, "x and w must be int8 or uint8 (%s, %s)", ir_dtype_name(x->dtype),
                 ir_dtype_name(w->dtype));
        return -1;
    }
    if (x->rank < 3 || w->rank != x->rank) {
        ir_error(d, n, "x has rank %d and w %d, expected equal ranks >= 3", x->rank, w->rank);
        return -1;
    }
    int64_t group = ir_attr_int(n, "group", 1);
    if (group < 1 || (x->dims[1].value >= 0 && w->dims[1].value >= 0 &&
                      x->dims[1].value != w->dims[1].value * group)) {
        ir_error(d, n, "x has %lld channels, w expects %lld x group %lld",
                 (long long)x->dims[1].value, (long long)w->dims[1].value, (long long)group);
        return -1;
    }
    Win win;
    if (read_win(n, d, x->rank - 2, &w->dims[2], &win)) return -1;
    IrDim out[2 + RT_IMG_MAX_RANK];
    out[0] = x->dims[0];
    out[1] = w->dims[0];
    for (int i = 0; i < win.ns; i++) {
        int64_t pb;
        out[2 + i].sym = NULL;
        out[2 + i].value = -1;
        if (x->dims[2 + i].value >= 0 &&
            conv_dim(n, d, &win, i, x->dims[2 + i].value, &out[2 + i].value, &pb))
            return -1;
    }
    return op_set_output(n, 0, ydt, x->rank, out);
}

static int intconv_lower(IrNode *n, IrDiag *d, int wi, const char *kernel) {
    const IrType *x = &n->in[0]->type, *w = &n->in[wi]->type;
    Win win;
    if (read_win(n, d, x->rank - 2, &w->dims[2], &win)) return -1;
    RtConvIntParams *p = op_params(n, d, kernel, sizeof *p);
    if (!p) return -1;
    p->nspatial = win.ns;
    p->group = (int32_t)ir_attr_int(n, "group", 1);
    for (int i = 0; i < win.ns; i++) {
        int64_t o;
        if (conv_dim(n, d, &win, i, x->dims[2 + i].value, &o, &p->pad_begin[i])) return -1;
        p->kernel[i] = win.k[i];
        p->stride[i] = win.s[i];
        p->dilation[i] = win.dl[i];
    }
    return 0;
}

static int convint_infer(IrNode *n, IrDiag *d) {
    IrValue *xz = ir_node_in(n, 2);
    if (xz && (xz->type.rank > 1 || (xz->type.rank == 1 && xz->type.dims[0].value > 1))) {
        ir_error(d, n, "x_zero_point must be a scalar (per-tensor)");
        return -1;
    }
    if (check_param(n, d, 2, 0, "x_zero_point") || check_param(n, d, 3, 0, "w_zero_point"))
        return -1;
    return intconv_infer(n, d, 1, IR_DT_INT32);
}

static int convint_lower(IrNode *n, IrDiag *d) {
    return intconv_lower(n, d, 1, "rt_k_conv_integer");
}

const OpHooks op_hooks_ConvInteger = {convint_infer, convint_lower, NULL};

static int qlconv_infer(IrNode *n, IrDiag *d) {
    const IrType *xs = op_input_tensor(n, d, 1);
    IrValue *yz = ir_node_in(n, 7);
    if (!xs || !op_input_tensor(n, d, 4) || !op_input_tensor(n, d, 6)) return -1;
    if (!yz || !is_q8(yz->type.dtype) || !is_float_dt(xs->dtype)) {
        ir_error(d, n, "y_zero_point must be int8/uint8 and the scales float");
        return -1;
    }
    if (check_param(n, d, 2, 0, "x_zero_point") || check_param(n, d, 4, 0, "w_scale") ||
        check_param(n, d, 5, 0, "w_zero_point") || check_param(n, d, 8, IR_DT_INT32, "B"))
        return -1;
    return intconv_infer(n, d, 3, yz->type.dtype);
}

static int qlconv_lower(IrNode *n, IrDiag *d) {
    return intconv_lower(n, d, 3, "rt_k_qlinear_conv");
}

const OpHooks op_hooks_QLinearConv = {qlconv_infer, qlconv_lower, NULL};
