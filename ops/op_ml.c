/* op_ml.c - infer and lower hooks of the ml family: the ai.onnx.ml operators LabelEncoder
 * (1, 2, 4), Binarizer (1), ArrayFeatureExtractor (1), TreeEnsemble (5), and TfIdfVectorizer (9)
 * of the default domain (kernels in runtime/rt_ml.c, parameter blocks in
 * runtime/rt_params_ml.h).
 *
 * ONNX specification: docs/Operators-ml.md and docs/Operators.md. Rows of the ai.onnx.ml domain
 * are found by (domain, op type) (ops/op_table.c), and n->opset is the model's opset_import
 * version of that domain (frontend), so LabelEncoder-1's classes_strings form and the key/value
 * attributes of 2 and 4 are told apart by n->opset.
 *
 * Every table attribute is copied into the node's parameter block at compile time; the kernels
 * read nothing else. TreeEnsemble's post_transform must be NONE (the only one the tests use;
 * others are reported as unsupported).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"
#include "runtime/rt_params_ml.h"

static size_t up8(size_t v) { return (v + 7) & ~(size_t)7; }

/* Element k of a numeric constant tensor as double / int64; -1 for other types. */
static int tensor_f64(const IrTensor *t, int64_t k, double *v) {
    const void *p = t->data;
    switch ((int)t->dtype) {
    case IR_DT_FLOAT: *v = ((const float *)p)[k]; return 0;
    case IR_DT_DOUBLE: *v = ((const double *)p)[k]; return 0;
    case IR_DT_INT64: *v = (double)((const int64_t *)p)[k]; return 0;
    case IR_DT_INT32: *v = ((const int32_t *)p)[k]; return 0;
    case IR_DT_INT16: *v = ((const int16_t *)p)[k]; return 0;
    case IR_DT_INT8: *v = ((const int8_t *)p)[k]; return 0;
    case IR_DT_UINT8: case IR_DT_BOOL: *v = ((const uint8_t *)p)[k]; return 0;
    case IR_DT_UINT16: *v = ((const uint16_t *)p)[k]; return 0;
    case IR_DT_UINT32: *v = ((const uint32_t *)p)[k]; return 0;
    case IR_DT_UINT64: *v = (double)((const uint64_t *)p)[k]; return 0;
    default: return -1;
    }
}

static int tensor_i64(const IrTensor *t, int64_t k, int64_t *v) {
    const void *p = t->data;
    switch ((int)t->dtype) {
    case IR_DT_INT64: *v = ((const int64_t *)p)[k]; return 0;
    case IR_DT_INT32: *v = ((const int32_t *)p)[k]; return 0;
    case IR_DT_INT16: *v = ((const int16_t *)p)[k]; return 0;
    case IR_DT_INT8: *v = ((const int8_t *)p)[k]; return 0;
    case IR_DT_UINT8: case IR_DT_BOOL: *v = ((const uint8_t *)p)[k]; return 0;
    case IR_DT_UINT16: *v = ((const uint16_t *)p)[k]; return 0;
    case IR_DT_UINT32: *v = ((const uint32_t *)p)[k]; return 0;
    case IR_DT_UINT64: *v = (int64_t)((const uint64_t *)p)[k]; return 0;
    default: {
        double d;
        if (tensor_f64(t, k, &d)) return -1;
        *v = (int64_t)d;
        return 0;
    }
    }
}

static int is_int_dt(int dt) {
    return dt == IR_DT_INT64 || dt == IR_DT_INT32 || dt == IR_DT_INT16 || dt == IR_DT_INT8 ||
           dt == IR_DT_UINT8 || dt == IR_DT_UINT16 || dt == IR_DT_UINT32 || dt == IR_DT_UINT64;
}

static int is_flt_dt(int dt) { return dt == IR_DT_FLOAT || dt == IR_DT_DOUBLE; }

/* Stores v (as double or int64, by dt) into one element of dt at dst. */
static void store_num(void *dst, int dt, double f, int64_t i) {
    switch (dt) {
    case IR_DT_FLOAT: *(float *)dst = (float)f; break;
    case IR_DT_DOUBLE: *(double *)dst = f; break;
    case IR_DT_INT64: *(int64_t *)dst = i; break;
    case IR_DT_INT32: *(int32_t *)dst = (int32_t)i; break;
    case IR_DT_INT16: *(int16_t *)dst = (int16_t)i; break;
    case IR_DT_INT8: *(int8_t *)dst = (int8_t)i; break;
    case IR_DT_UINT8: case IR_DT_BOOL: *(uint8_t *)dst = (uint8_t)i; break;
    case IR_DT_UINT16: *(uint16_t *)dst = (uint16_t)i; break;
    case IR_DT_UINT32: *(uint32_t *)dst = (uint32_t)i; break;
    case IR_DT_UINT64: *(uint64_t *)dst = (uint64_t)i; break;
    default: break;
    }
}

/* ---------------------------------------------------------------- LabelEncoder */

/* A list of keys or values from the attributes, in one of three forms. */
typedef struct LeList {
    int dt;               /* element type (IR_DT_*), 0 if absent */
    int64_t n;
    const IrTensor *t;    /* tensor form */
    const int64_t *ints;  /* int64s form */
    const float *floats;  /* floats form */
    const IrString *strs; /* strings form */
    int index_values;     /* LabelEncoder-1 with string input: values are 0..n-1 */
} LeList;

static double le_f64(const LeList *l, int64_t k) {
    double v = 0;
    if (l->t) tensor_f64(l->t, k, &v);
    else if (l->floats) v = l->floats[k];
    else if (l->ints) v = (double)l->ints[k];
    else if (l->index_values) v = (double)k;
    return v;
}

static int64_t le_i64(const LeList *l, int64_t k) {
    int64_t v = 0;
    if (l->t) tensor_i64(l->t, k, &v);
    else if (l->ints) v = l->ints[k];
    else if (l->floats) v = (int64_t)l->floats[k];
    else if (l->index_values) v = k;
    return v;
}

static IrString le_str(const LeList *l, int64_t k) {
    if (l->t) return ((const IrString *)l->t->data)[k];
    return l->strs[k];
}

/* The list of attribute prefix ("keys" or "values"); counts how many forms are given. */
static int le_list(const IrNode *n, const char *prefix, LeList *l) {
    char name[32];
    int forms = 0;
    const IrAttr *a;
    memset(l, 0, sizeof *l);
    snprintf(name, sizeof name, "%s_tensor", prefix);
    if ((a = ir_node_attr(n, name)) && a->kind == IR_ATTR_TENSOR && a->t) {
        l->t = a->t; l->dt = a->t->dtype; l->n = a->t->numel; forms++;
    }
    snprintf(name, sizeof name, "%s_int64s", prefix);
    if ((a = ir_node_attr(n, name)) && a->kind == IR_ATTR_INTS) {
        l->ints = a->ints; l->dt = IR_DT_INT64; l->n = a->n; forms++;
    }
    snprintf(name, sizeof name, "%s_floats", prefix);
    if ((a = ir_node_attr(n, name)) && a->kind == IR_ATTR_FLOATS) {
        l->floats = a->floats; l->dt = IR_DT_FLOAT; l->n = a->n; forms++;
    }
    snprintf(name, sizeof name, "%s_strings", prefix);
    if ((a = ir_node_attr(n, name)) && a->kind == IR_ATTR_STRINGS) {
        l->strs = a->strings; l->dt = IR_DT_STRING; l->n = a->n; forms++;
    }
    return forms;
}

/* Keys, values and the default of node n whose input has element type xdt. Returns 0 or -1 +
 * diag. dflt is a one-element list of the value type. */
static int le_tables(IrNode *n, IrDiag *d, int xdt, LeList *keys, LeList *vals, LeList *dflt,
                     double *df, int64_t *di, IrString *ds) {
    memset(dflt, 0, sizeof *dflt);
    *df = -0.0;
    *di = -1;
    ds->data = "_Unused";
    ds->len = 7;
    if (n->opset < 2) {
        const IrAttr *cs = ir_node_attr(n, "classes_strings");
        if (!cs || cs->kind != IR_ATTR_STRINGS) {
            ir_error(d, n, "attribute 'classes_strings' is required (LabelEncoder-1)");
            return -1;
        }
        LeList s = {.dt = IR_DT_STRING, .n = cs->n, .strs = cs->strings};
        LeList idx = {.dt = IR_DT_INT64, .n = cs->n, .index_values = 1};
        if (xdt == IR_DT_STRING) { *keys = s; *vals = idx; }
        else { *keys = idx; *vals = s; }
        *di = ir_attr_int(n, "default_int64", -1);
        const IrAttr *a = ir_node_attr(n, "default_string");
        if (a && a->kind == IR_ATTR_STRING) *ds = a->s;
        dflt->dt = vals->dt;
        return 0;
    }
    int kf = le_list(n, "keys", keys), vf = le_list(n, "values", vals);
    if (kf != 1 || vf != 1) {
        ir_error(d, n, "exactly one keys_* and one values_* attribute are required (%d and %d "
                 "given)", kf, vf);
        return -1;
    }
    if (keys->n != vals->n) {
        ir_error(d, n, "%lld keys but %lld values", (long long)keys->n, (long long)vals->n);
        return -1;
    }
    if (keys->t && keys->t->rank > 1) {
        ir_error(d, n, "keys_tensor must be 1-D");
        return -1;
    }
    const IrAttr *a;
    if ((a = ir_node_attr(n, "default_tensor")) && a->kind == IR_ATTR_TENSOR && a->t) {
        if (a->t->dtype != (IrDType)vals->dt || a->t->numel != 1) {
            ir_error(d, n, "default_tensor must hold one element of the values' type");
            return -1;
        }
        dflt->t = a->t;
        dflt->n = 1;
    }
    if ((a = ir_node_attr(n, "default_float")) && a->kind == IR_ATTR_FLOAT) *df = a->f;
    if ((a = ir_node_attr(n, "default_int64")) && a->kind == IR_ATTR_INT) *di = a->i;
    if ((a = ir_node_attr(n, "default_string")) && a->kind == IR_ATTR_STRING) *ds = a->s;
    dflt->dt = vals->dt;
    return 0;
}

static int le_key_ok(int kdt, int xdt) {
    if (kdt == xdt) return 1;
    return is_int_dt(kdt) && is_int_dt(xdt); /* keys_int64s serve every integer input */
}

static int infer_label_encoder(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    LeList k, v, df;
    double f;
    int64_t i;
    IrString s;
    if (le_tables(n, d, x->dtype, &k, &v, &df, &f, &i, &s))
        return -1;
    if (!(x->dtype == IR_DT_STRING || is_int_dt(x->dtype) || is_flt_dt(x->dtype)) ||
        !le_key_ok(k.dt, x->dtype) || (is_flt_dt(k.dt) && !is_flt_dt(x->dtype))) {
        ir_error(d, n, "input has element type %s but the keys are %s", ir_dtype_name(x->dtype),
                 ir_dtype_name(k.dt));
        return -1;
    }
    if (!(v.dt == IR_DT_STRING || is_int_dt(v.dt) || is_flt_dt(v.dt))) {
        ir_error(d, n, "values of element type %s are not supported", ir_dtype_name(v.dt));
        return -1;
    }
    if (op_set_output(n, 0, (IrDType)v.dt, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_label_encoder(IrNode *n, IrDiag *d) {
    int xdt = n->in[0]->type.dtype;
    LeList k, v, df;
    double dff;
    int64_t dfi;
    IrString dfs;
    if (le_tables(n, d, xdt, &k, &v, &df, &dff, &dfi, &dfs))
        return -1;
    int vdt = v.dt, vstr = vdt == IR_DT_STRING;
    size_t vs = vstr ? sizeof(RtStrRef) : ir_dtype_size(vdt);
    if (k.n > ((int64_t)1 << 26)) {
        ir_error(d, n, "too many keys (%lld)", (long long)k.n);
        return -1;
    }
    size_t nk = (size_t)k.n;
    size_t keys_off = up8(sizeof(RtLabelEncParams));
    size_t vals_off = keys_off + up8(nk * (k.dt == IR_DT_STRING ? sizeof(RtStrRef) : 8));
    size_t dflt_off = vals_off + up8(nk * vs);
    size_t bytes_off = dflt_off + up8(vs), size = bytes_off;
    for (size_t j = 0; j < nk; j++) {
        if (k.dt == IR_DT_STRING) size += le_str(&k, (int64_t)j).len;
        if (vstr) size += le_str(&v, (int64_t)j).len;
        if (size > ((size_t)1 << 31)) {
            ir_error(d, n, "the key/value tables are too large");
            return -1;
        }
    }
    IrString dstr = vstr ? (df.t ? ((const IrString *)df.t->data)[0] : dfs) : (IrString){0};
    size += dstr.len;
    RtLabelEncParams *p = op_params(n, d, "rt_k_label_encoder", size);
    if (!p)
        return -1;
    char *base = (char *)p;
    int64_t pos = (int64_t)bytes_off;
    p->key_dtype = xdt;
    p->val_dtype = vdt;
    p->nkeys = k.n;
    p->keys_off = (int64_t)keys_off;
    p->vals_off = (int64_t)vals_off;
    p->dflt_off = (int64_t)dflt_off;
    for (size_t j = 0; j < nk; j++) {
        if (k.dt == IR_DT_STRING) {
            IrString s = le_str(&k, (int64_t)j);
            RtStrRef *r = (RtStrRef *)(base + keys_off) + j;
            r->off = pos;
            r->len = (int64_t)s.len;
            if (s.len) memcpy(base + pos, s.data, s.len);
            pos += (int64_t)s.len;
        } else if (is_flt_dt(xdt)) {
            ((double *)(base + keys_off))[j] = le_f64(&k, (int64_t)j);
        } else {
            ((int64_t *)(base + keys_off))[j] = le_i64(&k, (int64_t)j);
        }
        if (vstr) {
            IrString s = le_str(&v, (int64_t)j);
            RtStrRef *r = (RtStrRef *)(base + vals_off) + j;
            r->off = pos;
            r->len = (int64_t)s.len;
            if (s.len) memcpy(base + pos, s.data, s.len);
            pos += (int64_t)s.len;
        } else {
            store_num(base + vals_off + j * vs, vdt, le_f64(&v, (int64_t)j), le_i64(&v, (int64_t)j));
        }
    }
    if (vstr) {
        RtStrRef *r = (RtStrRef *)(base + dflt_off);
        r->off = pos;
        r->len = (int64_t)dstr.len;
        if (dstr.len) memcpy(base + pos, dstr.data, dstr.len);
    } else if (df.t) {
        memcpy(base + dflt_off, df.t->data, vs);
    } else {
        store_num(base + dflt_off, vdt, is_flt_dt(vdt) ? dff : (double)dfi, dfi);
    }
    return 0;
}

/* ---------------------------------------------------------------- Binarizer */

static int infer_binarizer(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (x->dtype != IR_DT_FLOAT && x->dtype != IR_DT_DOUBLE && x->dtype != IR_DT_INT64 &&
        x->dtype != IR_DT_INT32) {
        ir_error(d, n, "input has element type %s, expected float, double, int64 or int32",
                 ir_dtype_name(x->dtype));
        return -1;
    }
    if (op_set_output(n, 0, x->dtype, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_binarizer(IrNode *n, IrDiag *d) {
    RtBinarizerParams *p = op_params(n, d, "rt_k_binarizer", sizeof *p);
    if (!p)
        return -1;
    p->threshold = ir_attr_float(n, "threshold", 0.0f);
    return 0;
}

/* ---------------------------------------------------------------- ArrayFeatureExtractor */

static int infer_array_feature_extractor(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0), *y = x ? op_input_tensor(n, d, 1) : NULL;
    if (!x || !y)
        return -1;
    if (y->dtype != IR_DT_INT64) {
        ir_error(d, n, "input Y must be int64 indices");
        return -1;
    }
    if (x->rank < 1 || x->rank >= IR_MAX_RANK) {
        ir_error(d, n, "input X must have rank 1 to %d", IR_MAX_RANK - 1);
        return -1;
    }
    if (x->dtype != IR_DT_FLOAT && x->dtype != IR_DT_DOUBLE && x->dtype != IR_DT_INT64 &&
        x->dtype != IR_DT_INT32 && x->dtype != IR_DT_STRING) {
        ir_error(d, n, "input X has element type %s, not supported", ir_dtype_name(x->dtype));
        return -1;
    }
    int64_t k = 1;
    for (int i = 0; i < y->rank; i++)
        k = (k < 0 || y->dims[i].value < 0) ? -1 : k * y->dims[i].value;
    IrDim dims[IR_MAX_RANK];
    int r = x->rank == 1 ? 2 : x->rank;
    if (x->rank == 1)
        dims[0] = (IrDim){1, NULL};
    else
        for (int i = 0; i < x->rank - 1; i++) dims[i] = x->dims[i];
    dims[r - 1] = (IrDim){k, NULL};
    if (op_set_output(n, 0, x->dtype, r, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_array_feature_extractor(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_array_feature_extractor", 0) ? 0 : -1;
}

/* ---------------------------------------------------------------- TreeEnsemble */

/* Int list attribute `name`, with its count; -1 if absent. */
static int64_t ints_attr(const IrNode *n, const char *name, const int64_t **v) {
    const IrAttr *a = ir_node_attr(n, name);
    if (!a || a->kind != IR_ATTR_INTS) { *v = NULL; return -1; }
    *v = a->ints;
    return a->n;
}

static const IrTensor *tensor_attr(const IrNode *n, const char *name) {
    const IrAttr *a = ir_node_attr(n, name);
    return a && a->kind == IR_ATTR_TENSOR ? a->t : NULL;
}

static int infer_tree_ensemble(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (x->rank != 2 || !is_flt_dt(x->dtype)) {
        ir_error(d, n, "input X must be a 2-D float or double tensor");
        return -1;
    }
    int64_t t = ir_attr_int(n, "n_targets", -1);
    if (t < 0) {
        ir_error(d, n, "attribute 'n_targets' is required");
        return -1;
    }
    IrDim dims[2] = {x->dims[0], {t, NULL}};
    if (op_set_output(n, 0, x->dtype, 2, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_tree_ensemble(IrNode *n, IrDiag *d) {
    const int64_t *feat, *tid, *fid, *tleaf, *fleaf, *ltgt, *roots, *miss;
    int64_t nn = ints_attr(n, "nodes_featureids", &feat);
    int64_t c1 = ints_attr(n, "nodes_truenodeids", &tid), c2 = ints_attr(n, "nodes_falsenodeids", &fid);
    int64_t c3 = ints_attr(n, "nodes_trueleafs", &tleaf), c4 = ints_attr(n, "nodes_falseleafs", &fleaf);
    int64_t nl = ints_attr(n, "leaf_targetids", &ltgt), nt = ints_attr(n, "tree_roots", &roots);
    int64_t cm = ints_attr(n, "nodes_missing_value_tracks_true", &miss);
    const IrTensor *modes = tensor_attr(n, "nodes_modes"), *splits = tensor_attr(n, "nodes_splits");
    const IrTensor *lw = tensor_attr(n, "leaf_weights"), *mem = tensor_attr(n, "membership_values");
    int64_t T = ir_attr_int(n, "n_targets", -1), agg = ir_attr_int(n, "aggregate_function", 1);
    int64_t post = ir_attr_int(n, "post_transform", 0);
    if (nn < 0 || c1 != nn || c2 != nn || c3 != nn || c4 != nn || !modes || modes->numel != nn ||
        !splits || splits->numel != nn || nl < 0 || !lw || lw->numel != nl || nt < 0 ||
        (cm >= 0 && cm != nn)) {
        ir_error(d, n, "the nodes_*, leaf_* and tree_roots attributes are missing or their "
                 "lengths disagree");
        return -1;
    }
    if (post != 0) {
        ir_error(d, n, "unsupported: post_transform %lld (only NONE is implemented)", (long long)post);
        return -1;
    }
    if (agg < 0 || agg > 3) {
        ir_error(d, n, "attribute 'aggregate_function' is %lld, expected 0..3", (long long)agg);
        return -1;
    }
    if (nn > ((int64_t)1 << 24) || nl > ((int64_t)1 << 24) || nt > ((int64_t)1 << 24)) {
        ir_error(d, n, "the ensemble is too large");
        return -1;
    }
    int64_t F = n->in[0]->type.dims[1].value;
    int64_t nmem = mem ? mem->numel : 0;
    size_t nodes_off = up8(sizeof(RtTreeParams));
    size_t leaves_off = nodes_off + (size_t)nn * sizeof(RtTreeNode);
    size_t roots_off = leaves_off + (size_t)nl * sizeof(RtTreeLeaf);
    size_t mem_off = roots_off + (size_t)nt * 2 * sizeof(int64_t);
    size_t size = mem_off + (size_t)nmem * sizeof(double);
    RtTreeParams *p = op_params(n, d, "rt_k_tree_ensemble", size);
    if (!p)
        return -1;
    p->nnodes = nn; p->nleaves = nl; p->ntrees = nt; p->ntargets = T; p->aggregate = agg;
    p->nodes_off = (int64_t)nodes_off; p->leaves_off = (int64_t)leaves_off;
    p->roots_off = (int64_t)roots_off; p->members_off = (int64_t)mem_off;
    RtTreeNode *nodes = (RtTreeNode *)((char *)p + nodes_off);
    RtTreeLeaf *leaves = (RtTreeLeaf *)((char *)p + leaves_off);
    int64_t *rt = (int64_t *)((char *)p + roots_off);
    double *members = (double *)((char *)p + mem_off);
    /* membership sets: NaN-separated, in the order MEMBER nodes appear in nodes_modes */
    int64_t mpos = 0, nm = 0;
    for (int64_t i = 0; i < nmem; i++) {
        double v;
        tensor_f64(mem, i, &v);
        if (!isnan(v)) members[nm++] = v;
        else members[nm++] = NAN;
    }
    p->nmembers = nm;
    for (int64_t i = 0; i < nn; i++) {
        RtTreeNode *nd = &nodes[i];
        int64_t mode;
        double sp;
        if (tensor_i64(modes, i, &mode) || tensor_f64(splits, i, &sp) || mode < 0 || mode > 6) {
            ir_error(d, n, "node %lld: bad mode or split", (long long)i);
            return -1;
        }
        nd->feature = feat[i];
        nd->mode = mode;
        nd->split = sp;
        nd->next[0] = tid[i];
        nd->next[1] = fid[i];
        nd->is_leaf[0] = tleaf[i] != 0;
        nd->is_leaf[1] = fleaf[i] != 0;
        nd->missing_true = cm >= 0 ? miss[i] != 0 : 0;
        if (feat[i] < 0 || (F >= 0 && feat[i] >= F)) {
            ir_error(d, n, "node %lld: feature %lld is out of range [0, %lld)", (long long)i,
                     (long long)feat[i], (long long)F);
            return -1;
        }
        for (int b = 0; b < 2; b++) {
            int64_t lim = nd->is_leaf[b] ? nl : nn;
            if (nd->next[b] < 0 || nd->next[b] >= lim) {
                ir_error(d, n, "node %lld: %s branch index %lld is out of range", (long long)i,
                         b ? "false" : "true", (long long)nd->next[b]);
                return -1;
            }
        }
        if (mode == RT_TREE_MEMBER) {
            nd->mem_start = mpos;
            while (mpos < nm && !isnan(members[mpos])) mpos++;
            nd->mem_count = mpos - nd->mem_start;
            if (mpos >= nm && nd->mem_count == 0 && nmem == 0) {
                ir_error(d, n, "node %lld is a set membership node but membership_values is "
                         "missing", (long long)i);
                return -1;
            }
            if (mpos < nm) mpos++; /* the NaN */
        }
    }
    for (int64_t i = 0; i < nl; i++) {
        double w;
        tensor_f64(lw, i, &w);
        leaves[i].weight = w;
        leaves[i].target = ltgt[i];
        if (ltgt[i] < 0 || ltgt[i] >= T) {
            ir_error(d, n, "leaf %lld: target %lld is out of range [0, %lld)", (long long)i,
                     (long long)ltgt[i], (long long)T);
            return -1;
        }
    }
    for (int64_t i = 0; i < nt; i++) {
        int64_t r = roots[i];
        if (r < 0 || r >= nn) {
            ir_error(d, n, "tree root %lld is out of range", (long long)r);
            return -1;
        }
        /* a root whose two branches are the same leaf is itself that leaf (reference rule) */
        int leaf = tleaf[r] && fleaf[r] && tid[r] == fid[r];
        rt[2 * i] = r;
        rt[2 * i + 1] = leaf;
        if (leaf && r >= nl) {
            ir_error(d, n, "tree root %lld: leaf index out of range", (long long)r);
            return -1;
        }
    }
    return 0;
}

/* ---------------------------------------------------------------- TfIdfVectorizer */

static int tfidf_mode(IrNode *n, IrDiag *d) {
    const char *m = ir_attr_string(n, "mode", "");
    if (strcmp(m, "TF") == 0) return RT_TFIDF_TF;
    if (strcmp(m, "IDF") == 0) return RT_TFIDF_IDF;
    if (strcmp(m, "TFIDF") == 0) return RT_TFIDF_TFIDF;
    ir_error(d, n, "attribute 'mode' is '%s', expected TF, IDF or TFIDF", m);
    return -1;
}

/* max(ngram_indexes) + 1, or -1 + diag. */
static int64_t tfidf_out_size(IrNode *n, IrDiag *d) {
    const int64_t *idx;
    int64_t k = ints_attr(n, "ngram_indexes", &idx), m = -1;
    for (int64_t i = 0; i < k; i++) {
        if (idx[i] < 0) {
            ir_error(d, n, "ngram_indexes holds a negative index");
            return -1;
        }
        if (idx[i] > m) m = idx[i];
    }
    if (m < 0) {
        ir_error(d, n, "attribute 'ngram_indexes' is required and must not be empty");
        return -1;
    }
    return m + 1;
}

static int infer_tfidf(IrNode *n, IrDiag *d) {
    const IrType *x = op_input_tensor(n, d, 0);
    if (!x)
        return -1;
    if (x->dtype != IR_DT_STRING && x->dtype != IR_DT_INT32 && x->dtype != IR_DT_INT64) {
        ir_error(d, n, "input has element type %s, expected string, int32 or int64",
                 ir_dtype_name(x->dtype));
        return -1;
    }
    if (x->rank != 1 && x->rank != 2) {
        ir_error(d, n, "input must have shape [C] or [N, C]");
        return -1;
    }
    int64_t s = tfidf_out_size(n, d);
    if (s < 0 || tfidf_mode(n, d) < 0)
        return -1;
    IrDim dims[2] = {x->dims[0], {s, NULL}};
    if (op_set_output(n, 0, IR_DT_FLOAT, x->rank, x->rank == 1 ? dims + 1 : dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_tfidf(IrNode *n, IrDiag *d) {
    int mode = tfidf_mode(n, d);
    int64_t S = tfidf_out_size(n, d);
    if (mode < 0 || S < 0)
        return -1;
    int strs = n->in[0]->type.dtype == IR_DT_STRING;
    const int64_t *counts, *idx, *pint = NULL;
    int64_t nc = ints_attr(n, "ngram_counts", &counts), ni = ints_attr(n, "ngram_indexes", &idx);
    const IrAttr *ps = ir_node_attr(n, "pool_strings");
    int64_t npool = strs ? (ps && ps->kind == IR_ATTR_STRINGS ? ps->n : -1)
                         : ints_attr(n, "pool_int64s", &pint);
    if (npool < 0) {
        ir_error(d, n, "attribute '%s' is required for %s input", strs ? "pool_strings" : "pool_int64s",
                 strs ? "string" : "integer");
        return -1;
    }
    int64_t minn = ir_attr_int(n, "min_gram_length", -1), maxn = ir_attr_int(n, "max_gram_length", -1);
    int64_t skip = ir_attr_int(n, "max_skip_count", -1);
    if (nc < 1 || minn < 1 || maxn < minn || skip < 0 || npool > ((int64_t)1 << 24) || maxn > 1024) {
        ir_error(d, n, "bad ngram_counts, min/max_gram_length or max_skip_count");
        return -1;
    }
    const float *w = NULL;
    int nw = ir_attr_floats(n, "weights", &w);
    if (nw > 0 && nw != S && nw != ni) {
        ir_error(d, n, "weights has %d entries, expected %lld", nw, (long long)S);
        return -1;
    }
    /* the n-grams: group g (size g + 1) spans pool[counts[g] .. counts[g + 1]) */
    int64_t ngrams = 0, gid = 0;
    for (int64_t g = 0; g < nc; g++) {
        int64_t a = counts[g], b = g + 1 < nc ? counts[g + 1] : npool, sz = g + 1;
        if (a < 0 || b < a || b > npool) {
            ir_error(d, n, "ngram_counts is not increasing within the pool");
            return -1;
        }
        int64_t cnt = (b - a) / sz;
        if (sz >= minn && sz <= maxn) ngrams += cnt;
        gid += cnt;
    }
    if (gid > ni) {
        ir_error(d, n, "the pool holds %lld n-grams but ngram_indexes has %lld entries",
                 (long long)gid, (long long)ni);
        return -1;
    }
    size_t grams_off = up8(sizeof(RtTfIdfParams));
    size_t pool_off = grams_off + (size_t)ngrams * sizeof(RtTfIdfGram);
    size_t w_off = pool_off + (size_t)npool * (strs ? sizeof(RtStrRef) : sizeof(int64_t));
    size_t bytes_off = w_off + (size_t)(nw > 0 ? S : 0) * sizeof(double), size = bytes_off;
    if (strs)
        for (int64_t i = 0; i < npool; i++) {
            size += ps->strings[i].len;
            if (size > ((size_t)1 << 31)) {
                ir_error(d, n, "pool_strings is too large");
                return -1;
            }
        }
    RtTfIdfParams *p = op_params(n, d, "rt_k_tfidf", size);
    if (!p)
        return -1;
    char *base = (char *)p;
    p->mode = mode;
    p->strings = strs;
    p->min_n = minn; p->max_n = maxn; p->max_skip = skip; p->out_size = S;
    p->ngrams = ngrams; p->grams_off = (int64_t)grams_off; p->pool_off = (int64_t)pool_off;
    p->nweights = nw > 0 ? S : 0; p->weights_off = (int64_t)w_off;
    RtTfIdfGram *gr = (RtTfIdfGram *)(base + grams_off);
    int64_t q = 0;
    gid = 0;
    for (int64_t g = 0; g < nc; g++) {
        int64_t a = counts[g], b = g + 1 < nc ? counts[g + 1] : npool, sz = g + 1;
        for (int64_t k = 0; k < (b - a) / sz; k++, gid++) {
            if (sz < minn || sz > maxn) continue;
            gr[q].n = sz;
            gr[q].first = a + k * sz;
            gr[q].out = idx[gid];
            q++;
        }
    }
    int64_t pos = (int64_t)bytes_off;
    for (int64_t i = 0; i < npool; i++) {
        if (strs) {
            RtStrRef *r = (RtStrRef *)(base + pool_off) + i;
            r->off = pos;
            r->len = (int64_t)ps->strings[i].len;
            if (r->len) memcpy(base + pos, ps->strings[i].data, (size_t)r->len);
            pos += r->len;
        } else {
            ((int64_t *)(base + pool_off))[i] = pint[i];
        }
    }
    for (int64_t i = 0; i < (nw > 0 ? S : 0); i++)
        ((double *)(base + w_off))[i] = i < nw ? w[i] : 0.0;
    return 0;
}

const OpHooks op_hooks_LabelEncoder = {infer_label_encoder, lower_label_encoder, NULL};
const OpHooks op_hooks_Binarizer = {infer_binarizer, lower_binarizer, NULL};
const OpHooks op_hooks_ArrayFeatureExtractor = {infer_array_feature_extractor,
                                                lower_array_feature_extractor, NULL};
const OpHooks op_hooks_TreeEnsemble = {infer_tree_ensemble, lower_tree_ensemble, NULL};
const OpHooks op_hooks_TfIdfVectorizer = {infer_tfidf, lower_tfidf, NULL};
