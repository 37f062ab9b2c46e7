/* op_table.c - the operator table (expanded from ops/ops.def), lookup, the generic driver of the
 * infer/lower hooks, and helpers shared by the family files (broadcasting, axes, constants). */
#include "ops/op.h"

#include <string.h>

#include "runtime/onnxc_rt.h"

const OpInfo op_table[OP_COUNT] = {
#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) \
    [OP_##ID] = {TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS, &op_hooks_##ID},
#include "ops/ops.def"
#undef OP
};
_Static_assert(sizeof(op_table) / sizeof(op_table[0]) == OP_COUNT, "op table size");

static int is_default_domain(const char *d) { return !d || !d[0] || strcmp(d, "ai.onnx") == 0; }

int op_lookup(const char *domain, const char *op_type) {
    if (!op_type)
        return OP_UNKNOWN;
    int dflt = is_default_domain(domain);
    for (int i = 0; i < OP_COUNT; i++) {
        const OpInfo *o = &op_table[i];
        if (strcmp(o->op_type, op_type) != 0)
            continue;
        if (dflt ? is_default_domain(o->domain) : strcmp(o->domain, domain) == 0)
            return i;
    }
    return OP_UNKNOWN;
}

const OpInfo *op_info(int op) { return (op >= 0 && op < OP_COUNT) ? &op_table[op] : NULL; }

/* Checks the node's arity against the table; -1 + diag if out of bounds. */
static int check_arity(IrNode *n, const OpInfo *o, IrDiag *d) {
    /* trailing omitted inputs do not count */
    int nin = n->nin;
    while (nin > 0 && !n->in[nin - 1])
        nin--;
    if (nin < o->min_in || (o->max_in >= 0 && n->nin > o->max_in)) {
        ir_error(d, n, "has %d inputs, expected %d to %d", n->nin, o->min_in, o->max_in);
        return -1;
    }
    if (n->nout < o->min_out || n->nout > o->max_out) {
        ir_error(d, n, "has %d outputs, expected %d to %d", n->nout, o->min_out, o->max_out);
        return -1;
    }
    for (int i = 0; i < o->min_in && i < n->nin; i++)
        if (!n->in[i]) {
            ir_error(d, n, "required input %d is missing", i);
            return -1;
        }
    return 0;
}

int op_infer_node(IrNode *n, IrDiag *d) {
    const OpInfo *o = op_info(n->op);
    if (!o) {
        ir_error(d, n, "unsupported operator %s%s%s", n->domain[0] ? n->domain : "",
                 n->domain[0] ? "::" : "", n->op_type);
        return -1;
    }
    if (check_arity(n, o, d))
        return -1;
    if (!o->hooks->infer) {
        ir_error(d, n, "unsupported operator %s: no type inference", n->op_type);
        return -1;
    }
    for (int i = 0; i < n->nin; i++)
        if (n->in[i] && n->in[i]->type.kind == IR_TYPE_UNKNOWN) {
            ir_error(d, n, "input %d '%s' has no known type", i, n->in[i]->name);
            return -1;
        }
    if (o->hooks->infer(n, d))
        return -1;
    /* Shape arithmetic on constants (integer results, e.g. Shape -> Gather -> Unsqueeze ->
     * Concat -> Reshape) resolves now, so that later infer hooks see constants; other constant
     * folding is the fold pass's job. */
    for (int i = 0; i < n->nout; i++) {
        IrDType dt = n->out[i] ? n->out[i]->type.dtype : IR_DT_INT64;
        if (n->out[i] && n->out[i]->type.kind != IR_TYPE_TENSOR)
            return 0;
        if (dt != IR_DT_INT64 && dt != IR_DT_INT32 && dt != IR_DT_INT16 && dt != IR_DT_INT8 &&
            dt != IR_DT_UINT64 && dt != IR_DT_UINT32 && dt != IR_DT_UINT16 && dt != IR_DT_UINT8 &&
            dt != IR_DT_BOOL)
            return 0;
    }
    return op_fold_node(n, d, OP_INFER_FOLD_CAP);
}

/* Lowering of a node with non-static tensors (docs/DYNAMIC_SHAPES.md). Ranks must be known.
 * The node is lowered twice with every unknown dim replaced by two different sizes, and must
 * choose the same kernel and parameter bytes both times (its parameters then do not depend on
 * those dims), else "needs static shape". */
#define LOWER_MAX_DYN 64
static int lower_dynamic(IrNode *n, const OpInfo *o, IrDiag *d) {
    IrDim *dims[LOWER_MAX_DYN];
    IrDim saved[LOWER_MAX_DYN];
    int nd = 0;
    const char *what = NULL;
    for (int pass = 0; pass < 2; pass++) {
        int cnt = pass == 0 ? n->nin : n->nout;
        for (int i = 0; i < cnt; i++) {
            IrValue *v = pass == 0 ? n->in[i] : n->out[i];
            if (!v || v->type.kind != IR_TYPE_TENSOR)
                continue;
            if (v->type.rank < 0) {
                ir_error(d, n, "unsupported: %s %d '%s' has an unknown rank", pass ? "output" : "input",
                         i, v->name);
                return -1;
            }
            for (int k = 0; k < v->type.rank; k++) {
                IrDim *dm = &v->type.dims[k];
                if (dm->value >= 0)
                    continue;
                int seen = 0;
                for (int j = 0; j < nd && !seen; j++)
                    seen = dims[j] == dm;
                if (seen)
                    continue;
                if (nd == LOWER_MAX_DYN) {
                    ir_error(d, n, "unsupported: too many dynamic dims");
                    return -1;
                }
                if (!what)
                    what = v->name;
                saved[nd] = *dm;
                dims[nd++] = dm;
            }
        }
    }
    static const int64_t probe[2] = {7, 13};
    const char *kernel[2] = {NULL, NULL};
    const void *params[2] = {NULL, NULL};
    size_t psize[2] = {0, 0};
    int rc = 0;
    for (int t = 0; t < 2 && rc == 0; t++) {
        for (int j = 0; j < nd; j++)
            *dims[j] = (IrDim){probe[t], NULL};
        n->kernel = NULL;
        n->params = NULL;
        n->params_size = 0;
        rc = o->hooks->lower(n, d);
        kernel[t] = n->kernel;
        params[t] = n->params;
        psize[t] = n->params_size;
    }
    for (int j = 0; j < nd; j++)
        *dims[j] = saved[j];
    if (rc != 0)
        return -1;
    if (!kernel[0] || !kernel[1] || strcmp(kernel[0], kernel[1]) != 0 || psize[0] != psize[1] ||
        (psize[0] && memcmp(params[0], params[1], psize[0]) != 0)) {
        n->kernel = NULL;
        ir_error(d, n, "unsupported: needs static shape of '%s' (the kernel parameters depend on "
                 "its dynamic dims; use --shape)", what ? what : "?");
        return -1;
    }
    return 0;
}

int op_lower_node(IrNode *n, IrDiag *d) {
    const OpInfo *o = op_info(n->op);
    if (!o) {
        ir_error(d, n, "unsupported operator %s", n->op_type);
        return -1;
    }
    if (!o->hooks->lower) {
        ir_error(d, n, "unsupported operator %s: no code generation", n->op_type);
        return -1;
    }
    int dyn = 0;
    for (int i = 0; i < n->nin; i++)
        if (n->in[i] && n->in[i]->type.kind == IR_TYPE_TENSOR && !ir_type_is_static(&n->in[i]->type))
            dyn = 1;
    for (int i = 0; i < n->nout; i++) {
        if (!n->out[i])
            continue;
        if (n->out[i]->type.kind != IR_TYPE_TENSOR) {
            char buf[128];
            ir_type_to_string(&n->out[i]->type, buf, sizeof buf);
            ir_error(d, n, "output %d '%s' has a non-tensor type %s", i, n->out[i]->name, buf);
            return -1;
        }
        if (!ir_type_is_static(&n->out[i]->type))
            dyn = 1;
    }
    if (dyn)
        return lower_dynamic(n, o, d);
    return o->hooks->lower(n, d);
}

/* ------------------------------------------------------------------ helpers */

int op_broadcast_shapes(IrNode *n, IrDiag *d, const IrType *a, const IrType *b, IrType *out) {
    IrArena *ar = n->graph->arena;
    if (a->rank < 0 || b->rank < 0) {
        IrType t = {.kind = IR_TYPE_TENSOR, .dtype = a->dtype, .rank = -1};
        *out = t;
        return 0;
    }
    int r = a->rank > b->rank ? a->rank : b->rank;
    IrType t = {.kind = IR_TYPE_TENSOR, .dtype = a->dtype, .rank = r};
    if (r > 0) {
        t.dims = ir_arena_alloc(ar, (size_t)r * sizeof(IrDim));
        if (!t.dims) {
            ir_error(d, n, "out of memory");
            return -1;
        }
    }
    for (int i = 0; i < r; i++) {
        int ia = i - (r - a->rank), ib = i - (r - b->rank);
        IrDim da = ia >= 0 ? a->dims[ia] : (IrDim){1, NULL};
        IrDim db = ib >= 0 ? b->dims[ib] : (IrDim){1, NULL};
        IrDim o;
        if (da.value == 1)
            o = db;
        else if (db.value == 1)
            o = da;
        else if (da.value >= 0 && db.value >= 0) {
            if (da.value != db.value) {
                ir_error(d, n, "shapes cannot be broadcast: dimension %d is %lld and %lld", i,
                         (long long)da.value, (long long)db.value);
                return -1;
            }
            o = da;
        } else if (da.value >= 0)
            o = da; /* symbolic vs known: the known one (the symbol must equal it or be 1) */
        else if (db.value >= 0)
            o = db;
        else if (da.sym && db.sym && strcmp(da.sym, db.sym) == 0)
            o = da;
        else
            o = (IrDim){-1, NULL};
        t.dims[i].value = o.value;
        t.dims[i].sym = o.sym ? ir_arena_strdup(ar, o.sym) : NULL;
    }
    *out = t;
    return 0;
}

const IrType *op_input_any_rank(IrNode *n, IrDiag *d, int i) {
    IrValue *v = ir_node_in(n, i);
    if (!v) {
        ir_error(d, n, "input %d is missing", i);
        return NULL;
    }
    if (v->type.kind != IR_TYPE_TENSOR) {
        ir_error(d, n, "input %d '%s' is not a tensor", i, v->name);
        return NULL;
    }
    return &v->type;
}

const IrType *op_input_tensor(IrNode *n, IrDiag *d, int i) {
    const IrType *t = op_input_any_rank(n, d, i);
    if (t && t->rank < 0) {
        ir_error(d, n, "input %d '%s' has unknown rank", i, ir_node_in(n, i)->name);
        return NULL;
    }
    return t;
}

int op_check_dtype(IrNode *n, IrDiag *d, int i, IrDType dt, unsigned set) {
    if (dt <= 0 || dt >= IR_DT_COUNT || !(set & (1u << dt))) {
        ir_error(d, n, "input %d has element type %s, not supported by %s (opset %d)", i,
                 ir_dtype_name(dt), n->op_type, n->opset);
        return -1;
    }
    return 0;
}

int op_legacy_broadcast(IrNode *n, IrDiag *d, const IrType *a, const IrType *b, int *b_axis) {
    *b_axis = -1;
    if (a->rank < 0 || b->rank < 0)
        return 0; /* checked again once ranks are known */
    if (!ir_attr_int(n, "broadcast", 0)) {
        int same = a->rank == b->rank;
        for (int i = 0; same && i < a->rank; i++)
            if (a->dims[i].value >= 0 && b->dims[i].value >= 0 &&
                a->dims[i].value != b->dims[i].value)
                same = 0;
        if (!same) {
            ir_error(d, n, "input shapes differ and attribute 'broadcast' is 0 (opset %d)",
                     n->opset);
            return -1;
        }
        return 0;
    }
    int64_t axis = a->rank - b->rank;
    if (ir_node_attr(n, "axis")) {
        axis = ir_attr_int(n, "axis", 0);
        if (axis < 0)
            axis += a->rank;
    }
    if (b->rank > a->rank || axis < 0 || axis + b->rank > a->rank) {
        ir_error(d, n, "B (rank %d) does not fit in A (rank %d) at axis %lld", b->rank, a->rank,
                 (long long)axis);
        return -1;
    }
    for (int i = 0; i < b->rank; i++) {
        int64_t bd = b->dims[i].value, ad = a->dims[axis + i].value;
        if (bd >= 0 && bd != 1 && ad >= 0 && bd != ad) {
            ir_error(d, n, "B dim %d is %lld, A dim %lld is %lld: not broadcastable", i,
                     (long long)bd, (long long)(axis + i), (long long)ad);
            return -1;
        }
    }
    *b_axis = axis == a->rank - b->rank ? -1 : (int)axis;
    return 0;
}

int op_set_output(IrNode *n, int i, IrDType dt, int rank, const IrDim *dims) {
    if (i < 0 || i >= n->nout || !n->out[i])
        return 0;
    IrType src = {.kind = IR_TYPE_TENSOR, .dtype = dt, .rank = rank, .dims = (IrDim *)dims};
    if (rank <= 0)
        src.dims = NULL;
    return ir_type_copy(n->graph->arena, &n->out[i]->type, &src);
}

int op_set_output_static(IrNode *n, int i, IrDType dt, int rank, const int64_t *dims) {
    if (i < 0 || i >= n->nout || !n->out[i])
        return 0;
    return ir_type_set_tensor(n->graph->arena, &n->out[i]->type, dt, rank, dims);
}

void *op_params(IrNode *n, IrDiag *d, const char *kernel, size_t size) {
    void *p = NULL;
    if (size) {
        p = ir_arena_alloc(n->graph->arena, size);
        if (!p) {
            ir_error(d, n, "out of memory");
            return NULL;
        }
    }
    n->params = p;
    n->params_size = size;
    n->kernel = kernel;
    return p ? p : (void *)n; /* non-NULL on success even for size 0 */
}

int op_const_ints(IrNode *n, int i, const int64_t **out) {
    IrValue *v = ir_node_in(n, i);
    if (!v || !v->init)
        return -1;
    const IrTensor *t = v->init;
    if (t->rank > 1 || t->numel > IR_MAX_RANK * 1024)
        return -1;
    int64_t *r = ir_arena_alloc(n->graph->arena, (size_t)(t->numel ? t->numel : 1) * sizeof(int64_t));
    if (!r)
        return -1;
    for (int64_t k = 0; k < t->numel; k++) {
        if (t->dtype == IR_DT_INT64)
            r[k] = ((const int64_t *)t->data)[k];
        else if (t->dtype == IR_DT_INT32)
            r[k] = ((const int32_t *)t->data)[k];
        else
            return -1;
    }
    *out = r;
    return (int)t->numel;
}

int op_norm_axis(IrNode *n, IrDiag *d, int64_t axis, int rank, int64_t *out) {
    if (axis < -rank || axis >= rank) {
        ir_error(d, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
        return -1;
    }
    *out = axis < 0 ? axis + rank : axis;
    return 0;
}

int op_fold_node(IrNode *n, IrDiag *d, int64_t cap) {
    const OpInfo *oi = op_info(n->op);
    if (!oi || !oi->hooks->lower || (oi->flags & (OPF_RANDOM | OPF_NO_FOLD)) || n->nout < 1)
        return 0;
    int any = 0;
    for (int i = 0; i < n->nin; i++) {
        if (!n->in[i])
            continue;
        if (!n->in[i]->init || n->in[i]->type.kind != IR_TYPE_TENSOR)
            return 0;
        any = 1;
    }
    if (!any)
        return 0;
    int64_t total = 0;
    for (int i = 0; i < n->nout; i++) {
        int64_t nb;
        if (!n->out[i])
            continue;
        if (n->out[i]->init || n->out[i]->type.kind != IR_TYPE_TENSOR ||
            ir_type_nbytes(&n->out[i]->type, &nb) || ir_add_i64(total, nb, &total) || total > cap)
            return 0;
    }
    IrDiag scratch;
    ir_diag_init(&scratch, NULL);
    int lowered = oi->hooks->lower(n, &scratch) == 0 && n->kernel;
    ir_diag_free(&scratch);
    RtKernelFn fn = lowered ? rt_kernel_find(n->kernel) : NULL;
    const void *params = n->params;
    n->kernel = NULL;
    n->params = NULL;
    n->params_size = 0;
    if (!fn)
        return 0;
    IrArena *ar = n->graph->arena;
    RtTensor *in = ir_arena_alloc(ar, sizeof(RtTensor) * (size_t)n->nin);
    RtTensor *out = ir_arena_alloc(ar, sizeof(RtTensor) * (size_t)n->nout);
    IrTensor **res = ir_arena_alloc(ar, sizeof(IrTensor *) * (size_t)n->nout);
    if ((n->nin && !in) || !out || !res)
        goto oom;
    for (int i = 0; i < n->nin; i++) {
        const IrTensor *t = n->in[i] ? n->in[i]->init : NULL;
        in[i].rank = -1;
        if (!t)
            continue;
        in[i].data = t->data;
        in[i].dims = t->dims;
        in[i].rank = t->rank;
        in[i].dtype = t->dtype;
    }
    for (int i = 0; i < n->nout; i++) {
        IrValue *v = n->out[i];
        out[i].rank = -1;
        if (!v)
            continue;
        int64_t dims[IR_MAX_RANK];
        for (int k = 0; k < v->type.rank; k++)
            dims[k] = v->type.dims[k].value;
        res[i] = ir_tensor_new(ar, v->type.dtype, v->type.rank, dims);
        if (!res[i])
            goto oom;
        out[i].data = res[i]->data;
        out[i].dims = res[i]->dims;
        out[i].rank = res[i]->rank;
        out[i].dtype = res[i]->dtype;
    }
    RtCtx ctx;
    rt_ctx_init(&ctx);
    if (fn(&ctx, params, in, n->nin, out, n->nout) != 0)
        return 0;
    for (int i = 0; i < n->nout; i++)
        if (n->out[i]) {
            res[i]->name = n->out[i]->name;
            n->out[i]->init = res[i];
        }
    return 0;
oom:
    ir_error(d, n, "out of memory");
    return -1;
}
