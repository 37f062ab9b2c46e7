/* op_vision.c - infer and lower hooks of the vision family: GridSample, AffineGrid, Col2Im,
 * CenterCropPad, DeformConv, RoiAlign, NonMaxSuppression (kernels in runtime/rt_vision.c,
 * parameter blocks in runtime/rt_params_vision.h, notes in docs/OPS_VISION.md).
 *
 * ONNX specification: docs/Operators.md, sections
 *  - GridSample (16: 4-D X, modes bilinear/nearest/bicubic; 20, 22: N-D X, modes
 *    linear/nearest/cubic), padding_mode zeros/border/reflection, align_corners;
 *  - AffineGrid (20): theta [N, 2, 3] or [N, 3, 4], size (N, C, [D,] H, W);
 *  - Col2Im (18): input [N, C * prod(block_shape), L], image_shape, block_shape, dilations,
 *    pads, strides;
 *  - CenterCropPad (18): shape input, axes attribute;
 *  - DeformConv (19, 22): 2-D, group, offset_group, optional B and mask;
 *  - RoiAlign (10: output_half_pixel coordinates; 16, 22: coordinate_transformation_mode,
 *    default half_pixel), mode avg/max;
 *  - NonMaxSuppression (10, 11): center_point_box, optional max_output_boxes_per_class,
 *    iou_threshold, score_threshold inputs.
 * Outputs whose shape comes from the value of an input (AffineGrid's size, Col2Im's
 * image_shape/block_shape, CenterCropPad's shape) are computed at compile time when that input
 * is a constant. Otherwise, and for NonMaxSuppression's row count, the model's declared static
 * output type is kept when there is one (the kernel checks it), else the unknown dims become
 * fresh symbols that the kernel binds at run time (OPF_DYN_SHAPE, docs/DYNAMIC_SHAPES.md).
 */
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"

static int vis_is_float(IrDType dt) {
    return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE || dt == IR_DT_FLOAT16 || dt == IR_DT_BFLOAT16;
}

static int vis_is_int(IrDType dt) {
    return dt == IR_DT_INT8 || dt == IR_DT_INT16 || dt == IR_DT_INT32 || dt == IR_DT_INT64 ||
           dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 || dt == IR_DT_UINT64;
}

/* Input i as a tensor of known rank (exactly `rank` unless rank < 0), or NULL + diag. */
static const IrType *vis_in(IrNode *n, IrDiag *d, int i, int rank, const char *what) {
    const IrType *t = op_input_tensor(n, d, i);
    if (!t)
        return NULL;
    if (rank >= 0 && t->rank != rank) {
        ir_error(d, n, "input %d (%s) has rank %d, expected %d", i, what, t->rank, rank);
        return NULL;
    }
    return t;
}

/* Input i must have element type `a` or `b`. */
static int vis_dtype(IrNode *n, IrDiag *d, int i, const IrType *t, IrDType a, IrDType b,
                     const char *what) {
    if (t->dtype == a || t->dtype == b)
        return 0;
    ir_error(d, n, "input %d (%s) has element type %s, not supported", i, what,
             ir_dtype_name(t->dtype));
    return -1;
}

/* Input i must have a float type (X, theta, boxes...). */
static int vis_float_in(IrNode *n, IrDiag *d, int i, const IrType *t, const char *what) {
    if (vis_is_float(t->dtype))
        return 0;
    ir_error(d, n, "input %d (%s) has element type %s, expected a float type", i, what,
             ir_dtype_name(t->dtype));
    return -1;
}

static int vis_out(IrNode *n, IrDiag *d, int i, IrDType dt, int rank, const int64_t *dims) {
    if (op_set_output_static(n, i, dt, rank, dims)) {
        ir_error(d, n, "out of memory or output too large");
        return -1;
    }
    return 0;
}

/* Output 0 when its shape depends on the value of an input computed at run time: the model's
 * declared type is kept when it is a static tensor of type dt and rank `rank` (the kernel checks
 * it); otherwise the output gets `dims`, where every entry of unknown value becomes a fresh
 * symbol `<output>?<k>` that the kernel binds (rt_out_alloc, docs/DYNAMIC_SHAPES.md). */
static int vis_dynamic_out(IrNode *n, IrDiag *d, IrDType dt, int rank, IrDim *dims) {
    IrValue *o = n->nout > 0 ? n->out[0] : NULL;
    if (!o)
        return 0;
    if (o->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&o->type) && o->type.dtype == dt &&
        o->type.rank == rank)
        return 0;
    for (int k = 0; k < rank; k++) {
        if (dims[k].value >= 0 || dims[k].sym)
            continue;
        char buf[256];
        snprintf(buf, sizeof buf, "%s?%d", o->name ? o->name : "out", k);
        if (!(dims[k].sym = ir_arena_strdup(n->graph->arena, buf))) {
            ir_error(d, n, "out of memory");
            return -1;
        }
    }
    if (op_set_output(n, 0, dt, rank, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

/* Reads an int list attribute of exactly `count` entries (default `dflt` for each when absent);
 * each must be >= lo. -1 + diag otherwise. */
static int vis_ints(IrNode *n, IrDiag *d, const char *name, int count, int64_t dflt, int64_t lo,
                    int64_t *out) {
    const int64_t *v;
    int k = ir_attr_ints(n, name, &v);
    if (k < 0) {
        for (int i = 0; i < count; i++)
            out[i] = dflt;
        return 0;
    }
    if (k != count) {
        ir_error(d, n, "attribute '%s' has %d entries, expected %d", name, k, count);
        return -1;
    }
    for (int i = 0; i < count; i++) {
        if (v[i] < lo || v[i] > ((int64_t)1 << 32)) {
            ir_error(d, n, "attribute '%s'[%d] is %lld, out of range", name, i, (long long)v[i]);
            return -1;
        }
        out[i] = v[i];
    }
    return 0;
}

/* Index of string attribute `attr` among names[0..count) (dflt when absent); -1 + diag. */
static int vis_choice(IrNode *n, IrDiag *d, const char *attr, const char *dflt,
                      const char *const *names, int count) {
    const char *s = ir_attr_string(n, attr, dflt);
    for (int i = 0; i < count; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    ir_error(d, n, "attribute '%s' is '%s', not supported at opset %d", attr, s, n->opset);
    return -1;
}

/* ---------------------------------------------------------------- GridSample */

/* Mode, padding and align_corners of GridSample for the node's opset; -1 + diag. */
static int gs_attrs(IrNode *n, IrDiag *d, RtGridSampleParams *p) {
    static const char *const m16[] = {"nearest", "bilinear", "bicubic"};
    static const char *const m20[] = {"nearest", "linear", "cubic"};
    static const char *const pads[] = {"zeros", "border", "reflection"};
    int old = n->opset < 20;
    p->mode = vis_choice(n, d, "mode", old ? "bilinear" : "linear", old ? m16 : m20, 3);
    p->padding = vis_choice(n, d, "padding_mode", "zeros", pads, 3);
    p->align_corners = ir_attr_int(n, "align_corners", 0) != 0;
    return p->mode < 0 || p->padding < 0 ? -1 : 0;
}

static int infer_grid_sample(IrNode *n, IrDiag *d) {
    const IrType *x = vis_in(n, d, 0, -1, "X"), *g = x ? vis_in(n, d, 1, -1, "grid") : NULL;
    RtGridSampleParams p;
    if (!g || gs_attrs(n, d, &p))
        return -1;
    int k = x->rank - 2;
    if (k < 1 || k > RT_VISION_MAX_SPATIAL || (n->opset < 20 && k != 2)) {
        ir_error(d, n, "X has rank %d, supported: %s", x->rank, n->opset < 20 ? "4" : "3..10");
        return -1;
    }
    if (g->rank != x->rank) {
        ir_error(d, n, "grid has rank %d, X %d", g->rank, x->rank);
        return -1;
    }
    if (g->dims[k + 1].value >= 0 && g->dims[k + 1].value != k) {
        ir_error(d, n, "grid's last dim is %lld, expected %d", (long long)g->dims[k + 1].value, k);
        return -1;
    }
    if (!vis_is_float(x->dtype) && !vis_is_int(x->dtype)) {
        ir_error(d, n, "X has element type %s, not supported", ir_dtype_name(x->dtype));
        return -1;
    }
    if (vis_float_in(n, d, 1, g, "grid"))
        return -1;
    IrDim dims[RT_VISION_MAX_SPATIAL + 2];
    dims[0] = x->dims[0];
    dims[1] = x->dims[1];
    for (int i = 0; i < k; i++)
        dims[2 + i] = g->dims[1 + i];
    if (op_set_output(n, 0, x->dtype, k + 2, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_grid_sample(IrNode *n, IrDiag *d) {
    RtGridSampleParams *p = op_params(n, d, "rt_k_grid_sample", sizeof *p);
    if (!p || gs_attrs(n, d, p))
        return -1;
    p->nspatial = n->in[0]->type.rank - 2;
    return 0;
}

/* ---------------------------------------------------------------- AffineGrid */

static int infer_affine_grid(IrNode *n, IrDiag *d) {
    const IrType *th = vis_in(n, d, 0, 3, "theta"), *sz = th ? vis_in(n, d, 1, 1, "size") : NULL;
    if (!sz || vis_float_in(n, d, 0, th, "theta") ||
        vis_dtype(n, d, 1, sz, IR_DT_INT64, IR_DT_INT64, "size"))
        return -1;
    int64_t k = th->dims[1].value;
    if (k < 0 && sz->dims[0].value >= 0)
        k = sz->dims[0].value - 2;
    if (k != 2 && k != 3) {
        ir_error(d, n, "theta must be [N, 2, 3] or [N, 3, 4] (size of 4 or 5 entries)");
        return -1;
    }
    if ((th->dims[2].value >= 0 && th->dims[2].value != k + 1) ||
        (sz->dims[0].value >= 0 && sz->dims[0].value != k + 2)) {
        ir_error(d, n, "theta [N, %lld, %lld] and size [%lld] disagree", (long long)k,
                 (long long)th->dims[2].value, (long long)sz->dims[0].value);
        return -1;
    }
    const int64_t *s;
    if (op_const_ints(n, 1, &s) != k + 2) {
        IrDim dd[5] = {th->dims[0], {-1, NULL}, {-1, NULL}, {-1, NULL}, {-1, NULL}};
        dd[k + 1] = (IrDim){k, NULL};
        return vis_dynamic_out(n, d, th->dtype, (int)k + 2, dd);
    }
    int64_t dims[5];
    dims[0] = s[0];
    for (int i = 0; i < k; i++)
        dims[1 + i] = s[2 + i];
    dims[k + 1] = k;
    for (int i = 0; i <= k; i++)
        if (dims[i] < 0) {
            ir_error(d, n, "size has a negative entry");
            return -1;
        }
    if (th->dims[0].value >= 0 && th->dims[0].value != s[0]) {
        ir_error(d, n, "size[0] is %lld, theta has N = %lld", (long long)s[0],
                 (long long)th->dims[0].value);
        return -1;
    }
    return vis_out(n, d, 0, th->dtype, (int)k + 2, dims);
}

static int lower_affine_grid(IrNode *n, IrDiag *d) {
    RtAffineGridParams *p = op_params(n, d, "rt_k_affine_grid", sizeof *p);
    if (!p)
        return -1;
    p->align_corners = ir_attr_int(n, "align_corners", 0) != 0;
    p->nspatial = (int32_t)n->in[0]->type.dims[1].value;
    return 0;
}

/* ---------------------------------------------------------------- Col2Im */

/* Spatial rank of Col2Im (the length of image_shape), its attributes; -1 + diag. */
static int c2i_attrs(IrNode *n, IrDiag *d, RtCol2ImParams *p) {
    const IrType *im = vis_in(n, d, 1, 1, "image_shape"), *bl = im ? vis_in(n, d, 2, 1, "block_shape") : NULL;
    if (!bl || vis_dtype(n, d, 1, im, IR_DT_INT64, IR_DT_INT64, "image_shape") ||
        vis_dtype(n, d, 2, bl, IR_DT_INT64, IR_DT_INT64, "block_shape"))
        return -1;
    int64_t k = im->dims[0].value >= 0 ? im->dims[0].value : bl->dims[0].value;
    if (k < 1 || k > RT_VISION_MAX_SPATIAL) {
        ir_error(d, n, "image_shape must have a static length in 1..%d", RT_VISION_MAX_SPATIAL);
        return -1;
    }
    if (bl->dims[0].value >= 0 && bl->dims[0].value != k) {
        ir_error(d, n, "image_shape has %lld entries, block_shape %lld", (long long)k,
                 (long long)bl->dims[0].value);
        return -1;
    }
    memset(p, 0, sizeof *p);
    p->nspatial = (int32_t)k;
    if (vis_ints(n, d, "dilations", (int)k, 1, 1, p->dilations) ||
        vis_ints(n, d, "strides", (int)k, 1, 1, p->strides) ||
        vis_ints(n, d, "pads", 2 * (int)k, 0, 0, p->pads))
        return -1;
    return 0;
}

static int infer_col2im(IrNode *n, IrDiag *d) {
    RtCol2ImParams p;
    const IrType *x = vis_in(n, d, 0, 3, "input");
    if (!x || c2i_attrs(n, d, &p))
        return -1;
    if (!vis_is_float(x->dtype) && !vis_is_int(x->dtype)) {
        ir_error(d, n, "input has element type %s, not supported", ir_dtype_name(x->dtype));
        return -1;
    }
    int k = p.nspatial;
    const int64_t *im, *bl;
    if (op_const_ints(n, 1, &im) != k || op_const_ints(n, 2, &bl) != k || x->dims[1].value < 0) {
        IrDim dd[RT_VISION_MAX_SPATIAL + 2];
        dd[0] = x->dims[0];
        for (int i = 1; i < k + 2; i++)
            dd[i] = (IrDim){-1, NULL};
        return vis_dynamic_out(n, d, x->dtype, k + 2, dd);
    }
    int64_t B = 1, L = 1, dims[RT_VISION_MAX_SPATIAL + 2];
    for (int i = 0; i < k; i++) {
        if (im[i] < 0 || bl[i] < 1 || bl[i] > ((int64_t)1 << 32) || im[i] > ((int64_t)1 << 40)) {
            ir_error(d, n, "image_shape[%d] = %lld, block_shape[%d] = %lld: out of range", i,
                     (long long)im[i], i, (long long)bl[i]);
            return -1;
        }
        int64_t span = im[i] + p.pads[i] + p.pads[k + i] - (p.dilations[i] * (bl[i] - 1) + 1);
        if (span < 0) {
            ir_error(d, n, "block %d (dilated) is larger than the padded image", i);
            return -1;
        }
        if (ir_mul_i64(B, bl[i], &B) || ir_mul_i64(L, span / p.strides[i] + 1, &L)) {
            ir_error(d, n, "sizes overflow");
            return -1;
        }
        dims[2 + i] = im[i];
    }
    if (x->dims[1].value % B != 0 || (x->dims[2].value >= 0 && x->dims[2].value != L)) {
        ir_error(d, n, "input is [., %lld, %lld], expected [., C * %lld, %lld]",
                 (long long)x->dims[1].value, (long long)x->dims[2].value, (long long)B,
                 (long long)L);
        return -1;
    }
    IrDim od[RT_VISION_MAX_SPATIAL + 2];
    od[0] = x->dims[0];
    od[1] = (IrDim){x->dims[1].value / B, NULL};
    for (int i = 0; i < k; i++)
        od[2 + i] = (IrDim){dims[2 + i], NULL};
    if (op_set_output(n, 0, x->dtype, k + 2, od)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_col2im(IrNode *n, IrDiag *d) {
    RtCol2ImParams q;
    if (c2i_attrs(n, d, &q))
        return -1;
    RtCol2ImParams *p = op_params(n, d, "rt_k_col2im", sizeof *p);
    if (!p)
        return -1;
    *p = q;
    return 0;
}

/* ---------------------------------------------------------------- CenterCropPad */

/* The axes of CenterCropPad (normalised, distinct) for input rank r and shape length k. */
static int ccp_axes(IrNode *n, IrDiag *d, int r, int64_t k, RtCenterCropPadParams *p) {
    const int64_t *ax;
    int na = ir_attr_ints(n, "axes", &ax);
    memset(p, 0, sizeof *p);
    if (na < 0)
        na = r;
    if (na > RT_VISION_MAX_RANK || (k >= 0 && k != na)) {
        ir_error(d, n, "shape has %lld entries for %d axes", (long long)k, na);
        return -1;
    }
    p->naxes = na;
    for (int a = 0; a < na; a++) {
        int64_t v = a;
        if (ir_attr_ints(n, "axes", &ax) >= 0 && op_norm_axis(n, d, ax[a], r, &v))
            return -1;
        for (int b = 0; b < a; b++)
            if (p->axes[b] == v) {
                ir_error(d, n, "axis %lld is repeated", (long long)v);
                return -1;
            }
        p->axes[a] = (int32_t)v;
    }
    return 0;
}

static int infer_center_crop_pad(IrNode *n, IrDiag *d) {
    const IrType *x = vis_in(n, d, 0, -1, "input_data"), *s = x ? vis_in(n, d, 1, 1, "shape") : NULL;
    RtCenterCropPadParams p;
    if (!s || vis_dtype(n, d, 1, s, IR_DT_INT64, IR_DT_INT32, "shape") ||
        ccp_axes(n, d, x->rank, s->dims[0].value, &p))
        return -1;
    const int64_t *sv;
    IrDim dims[IR_MAX_RANK];
    for (int i = 0; i < x->rank; i++)
        dims[i] = x->dims[i];
    if (op_const_ints(n, 1, &sv) != p.naxes) {
        for (int a = 0; a < p.naxes; a++)
            dims[p.axes[a]] = (IrDim){-1, NULL};
        return vis_dynamic_out(n, d, x->dtype, x->rank, dims);
    }
    for (int a = 0; a < p.naxes; a++) {
        if (sv[a] < 0) {
            ir_error(d, n, "shape[%d] is %lld", a, (long long)sv[a]);
            return -1;
        }
        dims[p.axes[a]] = (IrDim){sv[a], NULL};
    }
    if (op_set_output(n, 0, x->dtype, x->rank, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_center_crop_pad(IrNode *n, IrDiag *d) {
    RtCenterCropPadParams q;
    if (ccp_axes(n, d, n->in[0]->type.rank, n->in[1]->type.dims[0].value, &q))
        return -1;
    RtCenterCropPadParams *p = op_params(n, d, "rt_k_center_crop_pad", sizeof *p);
    if (!p)
        return -1;
    *p = q;
    return 0;
}

/* ---------------------------------------------------------------- DeformConv */

/* DeformConv's attributes for X [N, C, H, W] and W [OC, C/group, kh, kw]. */
static int dc_attrs(IrNode *n, IrDiag *d, const IrType *x, const IrType *w, RtDeformConvParams *p) {
    memset(p, 0, sizeof *p);
    p->group = ir_attr_int(n, "group", 1);
    p->offset_group = ir_attr_int(n, "offset_group", 1);
    if (p->group < 1 || p->offset_group < 1 || p->group > ((int64_t)1 << 32) ||
        p->offset_group > ((int64_t)1 << 32)) {
        ir_error(d, n, "group and offset_group must be >= 1");
        return -1;
    }
    int64_t dflt[2] = {w->dims[2].value, w->dims[3].value};
    if (vis_ints(n, d, "kernel_shape", 2, -1, 1, p->kernel) ||
        vis_ints(n, d, "strides", 2, 1, 1, p->strides) ||
        vis_ints(n, d, "dilations", 2, 1, 1, p->dilations) ||
        vis_ints(n, d, "pads", 4, 0, 0, p->pads))
        return -1;
    for (int i = 0; i < 2; i++) {
        if (p->kernel[i] < 0)
            p->kernel[i] = dflt[i];
        if (p->kernel[i] < 1 || (dflt[i] >= 0 && dflt[i] != p->kernel[i])) {
            ir_error(d, n, "kernel_shape does not match W's spatial dims");
            return -1;
        }
    }
    int64_t c = x->dims[1].value, oc = w->dims[0].value;
    if ((c >= 0 && (c % p->group || c % p->offset_group ||
                    (w->dims[1].value >= 0 && w->dims[1].value * p->group != c))) ||
        (oc >= 0 && oc % p->group)) {
        ir_error(d, n, "channels do not divide into group %lld / offset_group %lld",
                 (long long)p->group, (long long)p->offset_group);
        return -1;
    }
    return 0;
}

static int infer_deform_conv(IrNode *n, IrDiag *d) {
    const IrType *x = vis_in(n, d, 0, -1, "X");
    if (!x)
        return -1;
    if (x->rank != 4) {
        ir_error(d, n, "unsupported: X has rank %d, only 2-D DeformConv (rank 4) is implemented",
                 x->rank);
        return -1;
    }
    const IrType *w = vis_in(n, d, 1, 4, "W"), *of = w ? vis_in(n, d, 2, 4, "offset") : NULL;
    RtDeformConvParams p;
    if (!of || vis_float_in(n, d, 0, x, "X") || dc_attrs(n, d, x, w, &p))
        return -1;
    for (int i = 1; i < 5; i++) {
        IrValue *v = ir_node_in(n, i);
        if (v && (v->type.kind != IR_TYPE_TENSOR || v->type.dtype != x->dtype)) {
            ir_error(d, n, "input %d must have X's element type %s", i, ir_dtype_name(x->dtype));
            return -1;
        }
    }
    IrDim dims[4] = {x->dims[0], w->dims[0], {-1, NULL}, {-1, NULL}};
    for (int i = 0; i < 2; i++) {
        int64_t s = x->dims[2 + i].value;
        if (s < 0)
            continue;
        int64_t span = s + p.pads[i] + p.pads[2 + i] - ((p.kernel[i] - 1) * p.dilations[i] + 1);
        if (span < 0) {
            ir_error(d, n, "kernel (dilated) larger than the padded input along dim %d", 2 + i);
            return -1;
        }
        dims[2 + i].value = span / p.strides[i] + 1;
    }
    return op_set_output(n, 0, x->dtype, 4, dims) ? (ir_error(d, n, "out of memory"), -1) : 0;
}

static int lower_deform_conv(IrNode *n, IrDiag *d) {
    RtDeformConvParams q;
    if (dc_attrs(n, d, &n->in[0]->type, &n->in[1]->type, &q))
        return -1;
    RtDeformConvParams *p = op_params(n, d, "rt_k_deform_conv", sizeof *p);
    if (!p)
        return -1;
    *p = q;
    return 0;
}

/* ---------------------------------------------------------------- RoiAlign */

static int ra_attrs(IrNode *n, IrDiag *d, RtRoiAlignParams *p) {
    static const char *const modes[] = {"avg", "max"};
    static const char *const ctm[] = {"output_half_pixel", "half_pixel"};
    memset(p, 0, sizeof *p);
    int m = vis_choice(n, d, "mode", "avg", modes, 2);
    int c = n->opset < 16 ? 0 : vis_choice(n, d, "coordinate_transformation_mode", "half_pixel", ctm, 2);
    if (m < 0 || c < 0)
        return -1;
    p->mode_max = m;
    p->half_pixel = c;
    p->output_height = ir_attr_int(n, "output_height", 1);
    p->output_width = ir_attr_int(n, "output_width", 1);
    p->sampling_ratio = ir_attr_int(n, "sampling_ratio", 0);
    p->spatial_scale = ir_attr_float(n, "spatial_scale", 1.0f);
    if (p->output_height < 1 || p->output_width < 1 || p->output_height > ((int64_t)1 << 32) ||
        p->output_width > ((int64_t)1 << 32) || p->sampling_ratio < 0 ||
        p->sampling_ratio > ((int64_t)1 << 16)) {
        ir_error(d, n, "output_height/output_width must be >= 1 and sampling_ratio >= 0");
        return -1;
    }
    return 0;
}

static int infer_roi_align(IrNode *n, IrDiag *d) {
    const IrType *x = vis_in(n, d, 0, 4, "X"), *r = x ? vis_in(n, d, 1, 2, "rois") : NULL;
    const IrType *b = r ? vis_in(n, d, 2, 1, "batch_indices") : NULL;
    RtRoiAlignParams p;
    if (!b || vis_float_in(n, d, 0, x, "X") || ra_attrs(n, d, &p) ||
        vis_dtype(n, d, 1, r, x->dtype, x->dtype, "rois") ||
        vis_dtype(n, d, 2, b, IR_DT_INT64, IR_DT_INT64, "batch_indices"))
        return -1;
    if (r->dims[1].value >= 0 && r->dims[1].value != 4) {
        ir_error(d, n, "rois must be [num_rois, 4]");
        return -1;
    }
    IrDim dims[4] = {r->dims[0].value >= 0 ? r->dims[0] : b->dims[0], x->dims[1],
                     {p.output_height, NULL}, {p.output_width, NULL}};
    return op_set_output(n, 0, x->dtype, 4, dims) ? (ir_error(d, n, "out of memory"), -1) : 0;
}

static int lower_roi_align(IrNode *n, IrDiag *d) {
    RtRoiAlignParams q;
    if (ra_attrs(n, d, &q))
        return -1;
    RtRoiAlignParams *p = op_params(n, d, "rt_k_roi_align", sizeof *p);
    if (!p)
        return -1;
    *p = q;
    return 0;
}

/* ---------------------------------------------------------------- NonMaxSuppression */

static int infer_nms(IrNode *n, IrDiag *d) {
    const IrType *b = vis_in(n, d, 0, 3, "boxes"), *s = b ? vis_in(n, d, 1, 3, "scores") : NULL;
    if (!s || vis_dtype(n, d, 0, b, IR_DT_FLOAT, IR_DT_FLOAT, "boxes") ||
        vis_dtype(n, d, 1, s, IR_DT_FLOAT, IR_DT_FLOAT, "scores"))
        return -1;
    static const char *const what[] = {"", "", "max_output_boxes_per_class", "iou_threshold",
                                       "score_threshold"};
    for (int i = 2; i < 5; i++) {
        IrValue *v = ir_node_in(n, i);
        if (!v)
            continue;
        const IrType *t = vis_in(n, d, i, -1, what[i]);
        if (!t || vis_dtype(n, d, i, t, i == 2 ? IR_DT_INT64 : IR_DT_FLOAT,
                            i == 2 ? IR_DT_INT64 : IR_DT_FLOAT, what[i]))
            return -1;
        if (t->rank > 1) {
            ir_error(d, n, "input %d (%s) must be a scalar or 1-D", i, what[i]);
            return -1;
        }
    }
    int64_t cpb = ir_attr_int(n, "center_point_box", 0);
    if (cpb != 0 && cpb != 1) {
        ir_error(d, n, "center_point_box is %lld, expected 0 or 1", (long long)cpb);
        return -1;
    }
    if ((b->dims[2].value >= 0 && b->dims[2].value != 4) ||
        (b->dims[0].value >= 0 && s->dims[0].value >= 0 && b->dims[0].value != s->dims[0].value) ||
        (b->dims[1].value >= 0 && s->dims[2].value >= 0 && b->dims[1].value != s->dims[2].value)) {
        ir_error(d, n, "boxes must be [B, N, 4] and scores [B, C, N]");
        return -1;
    }
    /* no box, class or allowed output: known empty */
    const int64_t *mo;
    int64_t zero[2] = {0, 3};
    if (b->dims[0].value == 0 || b->dims[1].value == 0 || s->dims[1].value == 0 ||
        !ir_node_in(n, 2) || (op_const_ints(n, 2, &mo) == 1 && mo[0] <= 0))
        return vis_out(n, d, 0, IR_DT_INT64, 2, zero);
    IrValue *o = n->out[0];
    if (o && o->type.kind == IR_TYPE_TENSOR && o->type.rank == 2 && ir_type_is_static(&o->type) &&
        o->type.dims[1].value != 3) {
        ir_error(d, n, "the declared output must be [k, 3]");
        return -1;
    }
    IrDim dd[2] = {{-1, NULL}, {3, NULL}}; /* the row count depends on the data */
    return vis_dynamic_out(n, d, IR_DT_INT64, 2, dd);
}

static int lower_nms(IrNode *n, IrDiag *d) {
    RtNmsParams *p = op_params(n, d, "rt_k_nms", sizeof *p);
    if (!p)
        return -1;
    p->center_point_box = (int32_t)ir_attr_int(n, "center_point_box", 0);
    return 0;
}

/* ---------------------------------------------------------------- the table's hooks */

const OpHooks op_hooks_GridSample = {infer_grid_sample, lower_grid_sample, NULL};
const OpHooks op_hooks_AffineGrid = {infer_affine_grid, lower_affine_grid, NULL};
const OpHooks op_hooks_Col2Im = {infer_col2im, lower_col2im, NULL};
const OpHooks op_hooks_CenterCropPad = {infer_center_crop_pad, lower_center_crop_pad, NULL};
const OpHooks op_hooks_DeformConv = {infer_deform_conv, lower_deform_conv, NULL};
const OpHooks op_hooks_RoiAlign = {infer_roi_align, lower_roi_align, NULL};
const OpHooks op_hooks_NonMaxSuppression = {infer_nms, lower_nms, NULL};
