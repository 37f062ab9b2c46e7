/* ir_core.c - the IR's foundations: element types, checked arithmetic, arenas, diagnostics,
 * types and shapes, constant tensors, and construction/editing of models, graphs, values, nodes
 * and attributes (declared in ir/ir.h).
 *
 * Element type numbering and names follow ONNX's TensorProto.DataType (onnx/onnx.proto), with
 * the newer types (FLOAT8*, 4-bit, 2-bit) added by hand since Debian's schema predates them.
 */
#include "ir/ir.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/op.h"

/* ------------------------------------------------------------------ element types */

typedef struct DTypeInfo {
    const char *name;      /* short name used in the text format */
    const char *onnx_name; /* TensorProto.DataType enum name */
    size_t size;           /* bytes per element in onnxc layout */
} DTypeInfo;

static const DTypeInfo dtype_info[IR_DT_COUNT] = {
    [IR_DT_UNDEFINED] = {"undef", "UNDEFINED", 0},
    [IR_DT_FLOAT] = {"f32", "FLOAT", 4},
    [IR_DT_UINT8] = {"u8", "UINT8", 1},
    [IR_DT_INT8] = {"i8", "INT8", 1},
    [IR_DT_UINT16] = {"u16", "UINT16", 2},
    [IR_DT_INT16] = {"i16", "INT16", 2},
    [IR_DT_INT32] = {"i32", "INT32", 4},
    [IR_DT_INT64] = {"i64", "INT64", 8},
    [IR_DT_STRING] = {"str", "STRING", sizeof(IrString)},
    [IR_DT_BOOL] = {"bool", "BOOL", 1},
    [IR_DT_FLOAT16] = {"f16", "FLOAT16", 2},
    [IR_DT_DOUBLE] = {"f64", "DOUBLE", 8},
    [IR_DT_UINT32] = {"u32", "UINT32", 4},
    [IR_DT_UINT64] = {"u64", "UINT64", 8},
    [IR_DT_COMPLEX64] = {"c64", "COMPLEX64", 8},
    [IR_DT_COMPLEX128] = {"c128", "COMPLEX128", 16},
    [IR_DT_BFLOAT16] = {"bf16", "BFLOAT16", 2},
    [IR_DT_FLOAT8E4M3FN] = {"f8e4m3fn", "FLOAT8E4M3FN", 1},
    [IR_DT_FLOAT8E4M3FNUZ] = {"f8e4m3fnuz", "FLOAT8E4M3FNUZ", 1},
    [IR_DT_FLOAT8E5M2] = {"f8e5m2", "FLOAT8E5M2", 1},
    [IR_DT_FLOAT8E5M2FNUZ] = {"f8e5m2fnuz", "FLOAT8E5M2FNUZ", 1},
    [IR_DT_UINT4] = {"u4", "UINT4", 1},
    [IR_DT_INT4] = {"i4", "INT4", 1},
    [IR_DT_FLOAT4E2M1] = {"f4e2m1", "FLOAT4E2M1", 1},
    [IR_DT_FLOAT8E8M0] = {"f8e8m0", "FLOAT8E8M0", 1},
    [IR_DT_UINT2] = {"u2", "UINT2", 1},
    [IR_DT_INT2] = {"i2", "INT2", 1},
};
_Static_assert(sizeof(dtype_info) / sizeof(dtype_info[0]) == IR_DT_COUNT, "dtype table size");

int ir_dtype_valid(int dt) { return dt > 0 && dt < IR_DT_COUNT; }

const char *ir_dtype_name(int dt) { return (dt >= 0 && dt < IR_DT_COUNT) ? dtype_info[dt].name : "?"; }

const char *ir_dtype_onnx_name(int dt) {
    return (dt >= 0 && dt < IR_DT_COUNT) ? dtype_info[dt].onnx_name : "?";
}

size_t ir_dtype_size(int dt) { return ir_dtype_valid(dt) ? dtype_info[dt].size : 0; }

IrDType ir_dtype_from_name(const char *name) {
    if (!name)
        return IR_DT_UNDEFINED;
    for (int i = 1; i < IR_DT_COUNT; i++)
        if (strcmp(dtype_info[i].name, name) == 0)
            return (IrDType)i;
    return IR_DT_UNDEFINED;
}

/* ------------------------------------------------------------------ checked arithmetic */

int ir_mul_i64(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

int ir_add_i64(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return -1;
    *out = r;
    return 0;
}

/* ------------------------------------------------------------------ limits */

/* Process-wide run-time limits (ir.h, IrLimits); atomics so that reading them while the
 * driver sets them is defined behaviour. */
static _Atomic int64_t lim_tensor_bytes = IR_MAX_TENSOR_BYTES;
static _Atomic int64_t lim_dim = IR_MAX_DIM;
static _Atomic int64_t lim_nodes = IR_MAX_NODES;

IrLimits ir_limits(void) {
    IrLimits l;
    l.max_tensor_bytes = atomic_load_explicit(&lim_tensor_bytes, memory_order_relaxed);
    l.max_dim = atomic_load_explicit(&lim_dim, memory_order_relaxed);
    l.max_nodes = atomic_load_explicit(&lim_nodes, memory_order_relaxed);
    return l;
}

int ir_limits_set(const IrLimits *l) {
    IrLimits n = {IR_MAX_TENSOR_BYTES, IR_MAX_DIM, IR_MAX_NODES};
    if (l) {
        if (l->max_tensor_bytes > IR_LIMIT_CEILING || l->max_dim > IR_LIMIT_CEILING ||
            l->max_nodes > IR_LIMIT_CEILING)
            return -1;
        if (l->max_tensor_bytes > 0)
            n.max_tensor_bytes = l->max_tensor_bytes;
        if (l->max_dim > 0)
            n.max_dim = l->max_dim;
        if (l->max_nodes > 0)
            n.max_nodes = l->max_nodes;
    }
    atomic_store(&lim_tensor_bytes, n.max_tensor_bytes);
    atomic_store(&lim_dim, n.max_dim);
    atomic_store(&lim_nodes, n.max_nodes);
    return 0;
}

/* ------------------------------------------------------------------ fault injection */

/* Added for the hardening work (docs/HARDENING.md): see ir_fault_set in ir/ir.h. */
static _Thread_local long fault_fail_at; /* 0: off; else the allocation number that fails */
static _Thread_local long fault_count;   /* allocations counted since ir_fault_set */

void ir_fault_set(long n) {
    fault_fail_at = n > 0 ? n : 0;
    fault_count = 0;
}

long ir_fault_count(void) { return fault_count; }

int ir_fault_hit(void) {
    if (!fault_fail_at)
        return 0;
    return ++fault_count == fault_fail_at;
}

void *ir_malloc(size_t size) { return ir_fault_hit() ? NULL : malloc(size); }
void *ir_calloc(size_t n, size_t size) { return ir_fault_hit() ? NULL : calloc(n, size); }
void *ir_realloc(void *p, size_t size) { return ir_fault_hit() ? NULL : realloc(p, size); }

/* ------------------------------------------------------------------ arena */

/* A chunk of the arena: small allocations are bumped from `data`; allocations of BIG_THRESHOLD
 * bytes or more get their own chunk. */
typedef struct ArenaChunk {
    struct ArenaChunk *next; /* previously filled chunks */
    size_t used;             /* bytes handed out from data */
    size_t cap;              /* bytes available at data */
    _Alignas(64) unsigned char data[];
} ArenaChunk;

struct IrArena {
    ArenaChunk *head;   /* current chunk for small allocations */
    ArenaChunk *big;    /* list of dedicated chunks */
    size_t bytes;       /* total bytes held */
};

#define ARENA_CHUNK 65536
#define BIG_THRESHOLD 4096

IrArena *ir_arena_create(void) {
    IrArena *a = ir_calloc(1, sizeof(*a));
    return a;
}

static void chunk_list_free(ArenaChunk *c) {
    while (c) {
        ArenaChunk *n = c->next;
        free(c);
        c = n;
    }
}

void ir_arena_destroy(IrArena *a) {
    if (!a)
        return;
    chunk_list_free(a->head);
    chunk_list_free(a->big);
    free(a);
}

static ArenaChunk *chunk_new(size_t cap) {
    if (cap > SIZE_MAX - sizeof(ArenaChunk) - 64)
        return NULL;
    if (ir_fault_hit())
        return NULL;
    ArenaChunk *c = aligned_alloc(64, (sizeof(ArenaChunk) + cap + 63) & ~(size_t)63);
    if (!c)
        return NULL;
    c->next = NULL;
    c->used = 0;
    c->cap = cap;
    return c;
}

void *ir_arena_alloc(IrArena *a, size_t size) {
    if (!a)
        return NULL;
    if (size == 0)
        size = 1;
    if (size >= BIG_THRESHOLD) {
        ArenaChunk *c = chunk_new(size);
        if (!c)
            return NULL;
        memset(c->data, 0, size);
        c->used = size;
        c->next = a->big;
        a->big = c;
        a->bytes += size;
        return c->data;
    }
    size_t need = (size + 15) & ~(size_t)15;
    if (!a->head || a->head->cap - a->head->used < need) {
        ArenaChunk *c = chunk_new(ARENA_CHUNK);
        if (!c)
            return NULL;
        c->next = a->head;
        a->head = c;
    }
    void *p = a->head->data + a->head->used;
    a->head->used += need;
    a->bytes += need;
    memset(p, 0, size);
    return p;
}

void *ir_arena_memdup(IrArena *a, const void *p, size_t n) {
    void *q = ir_arena_alloc(a, n);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

char *ir_arena_strndup(IrArena *a, const char *s, size_t n) {
    if (!s)
        return NULL;
    if (n == SIZE_MAX)
        return NULL;
    char *q = ir_arena_alloc(a, n + 1);
    if (q) {
        memcpy(q, s, n);
        q[n] = 0;
    }
    return q;
}

char *ir_arena_strdup(IrArena *a, const char *s) { return s ? ir_arena_strndup(a, s, strlen(s)) : NULL; }

size_t ir_arena_bytes(const IrArena *a) { return a ? a->bytes : 0; }

/* ------------------------------------------------------------------ diagnostics */

void ir_diag_init(IrDiag *d, const char *file) {
    memset(d, 0, sizeof(*d));
    d->file = file;
}

void ir_diag_free(IrDiag *d) {
    if (!d)
        return;
    for (int i = 0; i < d->nentries; i++)
        free(d->entries[i].msg);
    free(d->entries);
    d->entries = NULL;
    d->nentries = d->cap = d->nerrors = 0;
}

static const char *sev_name(IrSeverity s) {
    return s == IR_SEV_ERROR ? "error" : s == IR_SEV_WARNING ? "warning" : "note";
}

void ir_diag_vadd(IrDiag *d, IrSeverity sev, const IrNode *node, const char *fmt, va_list ap) {
    if (!d)
        return;
    if (sev == IR_SEV_ERROR)
        d->nerrors++;
    char body[1024];
    vsnprintf(body, sizeof body, fmt, ap);
    char prefix[512] = "";
    size_t off = 0;
    const char *file = d->file;
    if (!file && node && node->graph && node->graph->model)
        file = node->graph->model->path;
    if (file)
        off += snprintf(prefix + off, sizeof prefix - off, "%s: ", file);
    if (node && off < sizeof prefix) {
        const char *dom = node->domain && node->domain[0] ? node->domain : NULL;
        off += snprintf(prefix + off, sizeof prefix - off, "node '%s' (%s%s%s, opset %d): ",
                        node->name ? node->name : "", dom ? dom : "", dom ? "::" : "",
                        node->op_type ? node->op_type : "?", node->opset);
    }
    if (off >= sizeof prefix)
        off = sizeof prefix - 1;
    size_t len = strlen(prefix) + strlen(body) + 16;
    char *msg = malloc(len);
    if (msg)
        snprintf(msg, len, "%s%s: %s", prefix, sev_name(sev), body);
    if (d->echo)
        fprintf(stderr, "%s\n", msg ? msg : body);
    if (!msg)
        return;
    if (d->nentries == d->cap) {
        int ncap = d->cap ? d->cap * 2 : 8;
        IrDiagEntry *ne = realloc(d->entries, (size_t)ncap * sizeof(*ne));
        if (!ne) {
            free(msg);
            return;
        }
        d->entries = ne;
        d->cap = ncap;
    }
    d->entries[d->nentries].sev = sev;
    d->entries[d->nentries].msg = msg;
    d->nentries++;
}

void ir_diag_add(IrDiag *d, IrSeverity sev, const IrNode *node, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    ir_diag_vadd(d, sev, node, fmt, ap);
    va_end(ap);
}

const char *ir_diag_last(const IrDiag *d) {
    if (!d)
        return "";
    for (int i = d->nentries - 1; i >= 0; i--)
        if (d->entries[i].sev == IR_SEV_ERROR)
            return d->entries[i].msg;
    return "";
}

void ir_diag_print(const IrDiag *d, void *file) {
    FILE *f = file ? (FILE *)file : stderr;
    if (!d)
        return;
    for (int i = 0; i < d->nentries; i++)
        fprintf(f, "%s\n", d->entries[i].msg);
}

/* ------------------------------------------------------------------ types */

int ir_type_is_static(const IrType *t) {
    if (!t || t->kind != IR_TYPE_TENSOR || t->rank < 0)
        return 0;
    for (int i = 0; i < t->rank; i++)
        if (t->dims[i].value < 0)
            return 0;
    return 1;
}

int ir_type_numel(const IrType *t, int64_t *out) {
    if (!ir_type_is_static(t))
        return -1;
    int64_t n = 1;
    for (int i = 0; i < t->rank; i++)
        if (ir_mul_i64(n, t->dims[i].value, &n))
            return -1;
    *out = n;
    return 0;
}

int ir_type_nbytes(const IrType *t, int64_t *out) {
    int64_t n;
    if (ir_type_numel(t, &n))
        return -1;
    size_t es = ir_dtype_size(t->dtype);
    if (es == 0 || ir_mul_i64(n, (int64_t)es, &n) || n > ir_limits().max_tensor_bytes)
        return -1;
    *out = n;
    return 0;
}

int ir_type_copy(IrArena *a, IrType *dst, const IrType *src) {
    IrType t = *src;
    t.dims = NULL;
    t.elem = NULL;
    if (src->rank > 0 && src->dims) {
        t.dims = ir_arena_alloc(a, (size_t)src->rank * sizeof(IrDim));
        if (!t.dims)
            return -1;
        for (int i = 0; i < src->rank; i++) {
            t.dims[i].value = src->dims[i].value;
            t.dims[i].sym = src->dims[i].sym ? ir_arena_strdup(a, src->dims[i].sym) : NULL;
        }
    }
    if (src->elem) {
        t.elem = ir_arena_alloc(a, sizeof(IrType));
        if (!t.elem || ir_type_copy(a, t.elem, src->elem))
            return -1;
    }
    *dst = t;
    return 0;
}

int ir_type_set_tensor(IrArena *a, IrType *t, IrDType dt, int rank, const int64_t *dims) {
    if (rank < 0 || rank > IR_MAX_RANK)
        return -1;
    IrType n = {0};
    n.kind = IR_TYPE_TENSOR;
    n.dtype = dt;
    n.rank = rank;
    if (rank > 0) {
        n.dims = ir_arena_alloc(a, (size_t)rank * sizeof(IrDim));
        if (!n.dims)
            return -1;
        for (int i = 0; i < rank; i++)
            n.dims[i].value = dims ? dims[i] : -1;
    }
    *t = n;
    return 0;
}

int ir_type_equal(const IrType *x, const IrType *y) {
    if (x->kind != y->kind || x->dtype != y->dtype || x->rank != y->rank)
        return 0;
    for (int i = 0; i < x->rank && x->dims && y->dims; i++) {
        if (x->dims[i].value != y->dims[i].value)
            return 0;
        const char *a = x->dims[i].sym, *b = y->dims[i].sym;
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0))
            return 0;
    }
    if ((x->elem == NULL) != (y->elem == NULL))
        return 0;
    return x->elem ? ir_type_equal(x->elem, y->elem) : 1;
}

/* ------------------------------------------------------------------ tensors */

IrTensor *ir_tensor_new(IrArena *a, IrDType dt, int rank, const int64_t *dims) {
    if (!ir_dtype_valid(dt) || rank < 0 || rank > IR_MAX_RANK)
        return NULL;
    int64_t n = 1;
    for (int i = 0; i < rank; i++) {
        if (dims[i] < 0 || ir_mul_i64(n, dims[i], &n))
            return NULL;
    }
    int64_t bytes;
    if (ir_mul_i64(n, (int64_t)ir_dtype_size(dt), &bytes) ||
        bytes > ir_limits().max_tensor_bytes)
        return NULL;
    IrTensor *t = ir_arena_alloc(a, sizeof(*t));
    if (!t)
        return NULL;
    t->dtype = dt;
    t->rank = rank;
    t->numel = n;
    t->nbytes = (size_t)bytes;
    if (rank > 0) {
        t->dims = ir_arena_memdup(a, dims, (size_t)rank * sizeof(int64_t));
        if (!t->dims)
            return NULL;
    }
    t->data = ir_arena_alloc(a, t->nbytes ? t->nbytes : 1);
    if (!t->data)
        return NULL;
    return t;
}

/* ------------------------------------------------------------------ models */

IrModel *ir_model_create(void) {
    IrModel *m = ir_calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->arena = ir_arena_create();
    if (!m->arena) {
        free(m);
        return NULL;
    }
    m->workspace_bytes = -1;
    m->naive_bytes = -1;
    return m;
}

void ir_model_destroy(IrModel *m) {
    if (!m)
        return;
    ir_graph_destroy(m->graph);
    for (int i = 0; i < m->nfunctions; i++)
        ir_graph_destroy(m->functions[i]);
    for (int i = 0; i < m->ntraining_info; i++) {
        ir_graph_destroy(m->training_info[i].initialization);
        ir_graph_destroy(m->training_info[i].algorithm);
    }
    ir_arena_destroy(m->arena);
    free(m);
}

int64_t ir_model_opset(const IrModel *m, const char *domain) {
    if (!m)
        return -1;
    int dflt = !domain || !domain[0] || strcmp(domain, "ai.onnx") == 0;
    for (int i = 0; i < m->nopsets; i++) {
        const char *d = m->opsets[i].domain ? m->opsets[i].domain : "";
        int idflt = !d[0] || strcmp(d, "ai.onnx") == 0;
        if (dflt ? idflt : (!idflt && strcmp(d, domain) == 0))
            return m->opsets[i].version;
    }
    return -1;
}

/* ------------------------------------------------------------------ graphs */

/* Name -> value hash map (open addressing) of one graph. It lives in GraphExt, allocated
 * together with the IrGraph, so that the IrGraph struct stays as declared in ir.h. */
typedef struct NameMap {
    IrGraph *g;        /* owner */
    size_t cap;        /* slots (power of two) */
    size_t used;       /* filled slots */
    IrValue **slots;   /* malloc-owned */
} NameMap;

/* Graph extension record: allocated together with the graph. */
typedef struct GraphExt {
    IrGraph g;   /* must be first */
    NameMap map; /* name index */
    int64_t uniq; /* counter for ir_graph_unique_name */
} GraphExt;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int map_put(NameMap *m, IrValue *v) {
    if ((m->used + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        IrValue **ns = ir_calloc(ncap, sizeof(*ns));
        if (!ns)
            return -1;
        for (size_t i = 0; i < m->cap; i++) {
            IrValue *x = m->slots[i];
            if (!x)
                continue;
            size_t j = hash_str(x->name) & (ncap - 1);
            while (ns[j])
                j = (j + 1) & (ncap - 1);
            ns[j] = x;
        }
        free(m->slots);
        m->slots = ns;
        m->cap = ncap;
    }
    size_t j = hash_str(v->name) & (m->cap - 1);
    while (m->slots[j]) {
        if (strcmp(m->slots[j]->name, v->name) == 0) {
            m->slots[j] = v; /* latest definition wins for lookups */
            return 0;
        }
        j = (j + 1) & (m->cap - 1);
    }
    m->slots[j] = v;
    m->used++;
    return 0;
}

static IrValue *map_get(const NameMap *m, const char *name) {
    if (!m->cap || !name)
        return NULL;
    size_t j = hash_str(name) & (m->cap - 1);
    while (m->slots[j]) {
        if (strcmp(m->slots[j]->name, name) == 0)
            return m->slots[j];
        j = (j + 1) & (m->cap - 1);
    }
    return NULL;
}

IrGraph *ir_graph_create(IrModel *m, IrGraph *parent, const char *name) {
    GraphExt *x = ir_calloc(1, sizeof(*x));
    if (!x)
        return NULL;
    IrGraph *g = &x->g;
    g->arena = ir_arena_create();
    if (!g->arena) {
        free(x);
        return NULL;
    }
    g->model = m;
    g->parent = parent;
    g->name = ir_arena_strdup(g->arena, name ? name : "");
    x->map.g = g;
    return g;
}

/* Subgraphs are owned by the attributes of the graph's nodes. */
static void destroy_subgraphs(IrGraph *g) {
    for (IrNode *n = g->first; n; n = n->next) {
        for (int i = 0; i < n->nattr; i++) {
            IrAttr *a = &n->attrs[i];
            if (a->kind == IR_ATTR_GRAPH && a->g) {
                ir_graph_destroy(a->g);
                a->g = NULL;
            }
            if (a->kind == IR_ATTR_GRAPHS)
                for (int k = 0; k < a->n; k++) {
                    ir_graph_destroy(a->graphs[k]);
                    a->graphs[k] = NULL;
                }
        }
    }
}

void ir_graph_destroy(IrGraph *g) {
    if (!g)
        return;
    destroy_subgraphs(g);
    GraphExt *x = (GraphExt *)g;
    free(x->map.slots);
    free(g->values);
    free(g->inputs);
    free(g->outputs);
    free(g->inits);
    ir_arena_destroy(g->arena);
    free(x);
}

/* Grow a malloc'ed pointer array; -1 on overflow/OOM. */
static int grow(void ***arr, int *cap, int need) {
    if (need <= *cap)
        return 0;
    int ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > (1 << 29))
            return -1;
        ncap *= 2;
    }
    void **n = ir_realloc(*arr, (size_t)ncap * sizeof(void *));
    if (!n)
        return -1;
    *arr = n;
    *cap = ncap;
    return 0;
}

IrValue *ir_value_new(IrGraph *g, const char *name) {
    if (!g)
        return NULL;
    IrValue *v = ir_arena_alloc(g->arena, sizeof(*v));
    if (!v)
        return NULL;
    v->name = ir_arena_strdup(g->arena, name ? name : "");
    if (!v->name)
        return NULL;
    v->offset = -1;
    v->type.rank = -1;
    if (grow((void ***)&g->values, &g->cap_values, g->nvalues + 1))
        return NULL;
    v->id = g->nvalues;
    g->values[g->nvalues++] = v;
    if (v->name[0] && map_put(&((GraphExt *)g)->map, v))
        return NULL;
    return v;
}

IrValue *ir_graph_find_value(const IrGraph *g, const char *name) {
    if (!g || !name)
        return NULL;
    return map_get(&((const GraphExt *)g)->map, name);
}

const char *ir_graph_unique_name(IrGraph *g, const char *base) {
    GraphExt *x = (GraphExt *)g;
    char buf[256];
    if (!base || !base[0])
        base = "t";
    if (!ir_graph_find_value(g, base))
        return ir_arena_strdup(g->arena, base);
    for (;;) {
        snprintf(buf, sizeof buf, "%.200s_%lld", base, (long long)++x->uniq);
        if (!ir_graph_find_value(g, buf))
            return ir_arena_strdup(g->arena, buf);
    }
}

int ir_graph_add_input(IrGraph *g, IrValue *v) {
    if (grow((void ***)&g->inputs, &g->cap_inputs, g->ninputs + 1))
        return -1;
    g->inputs[g->ninputs++] = v;
    v->flags |= IR_VALUE_INPUT;
    return 0;
}

int ir_graph_add_output(IrGraph *g, IrValue *v) {
    if (grow((void ***)&g->outputs, &g->cap_outputs, g->noutputs + 1))
        return -1;
    g->outputs[g->noutputs++] = v;
    v->flags |= IR_VALUE_OUTPUT;
    return 0;
}

int ir_graph_add_init(IrGraph *g, IrValue *v) {
    if (!v->init)
        return -1;
    if (grow((void ***)&g->inits, &g->cap_inits, g->ninits + 1))
        return -1;
    g->inits[g->ninits++] = v;
    v->flags |= IR_VALUE_INITIALIZER;
    return 0;
}

/* ------------------------------------------------------------------ nodes */

IrNode *ir_node_new(IrGraph *g, IrNode *before, const char *name, const char *domain,
                    const char *op_type, int opset, int nin, IrValue **in, int nout, IrValue **out) {
    if (!g || nin < 0 || nout < 0)
        return NULL;
    IrNode *n = ir_arena_alloc(g->arena, sizeof(*n));
    if (!n)
        return NULL;
    n->graph = g;
    n->id = g->next_node_id++;
    n->name = ir_arena_strdup(g->arena, name ? name : "");
    n->domain = ir_arena_strdup(g->arena, domain ? domain : "");
    n->op_type = ir_arena_strdup(g->arena, op_type ? op_type : "");
    if (!n->name || !n->domain || !n->op_type)
        return NULL;
    n->opset = opset;
    n->op = op_lookup(n->domain, n->op_type);
    n->nin = nin;
    n->nout = nout;
    if (nin) {
        n->in = ir_arena_alloc(g->arena, (size_t)nin * sizeof(IrValue *));
        if (!n->in)
            return NULL;
        for (int i = 0; i < nin; i++) {
            n->in[i] = in ? in[i] : NULL;
            if (n->in[i])
                n->in[i]->nuses++;
        }
    }
    if (nout) {
        n->out = ir_arena_alloc(g->arena, (size_t)nout * sizeof(IrValue *));
        if (!n->out)
            return NULL;
        for (int i = 0; i < nout; i++) {
            n->out[i] = out ? out[i] : NULL;
            if (n->out[i]) {
                n->out[i]->producer = n;
                n->out[i]->producer_out = i;
            }
        }
    }
    /* link */
    if (before) {
        n->next = before;
        n->prev = before->prev;
        if (before->prev)
            before->prev->next = n;
        else
            g->first = n;
        before->prev = n;
    } else {
        n->prev = g->last;
        if (g->last)
            g->last->next = n;
        else
            g->first = n;
        g->last = n;
    }
    g->nnodes++;
    return n;
}

static void unlink_node(IrGraph *g, IrNode *n) {
    if (n->prev)
        n->prev->next = n->next;
    else
        g->first = n->next;
    if (n->next)
        n->next->prev = n->prev;
    else
        g->last = n->prev;
    n->prev = n->next = NULL;
}

void ir_node_remove(IrGraph *g, IrNode *n) {
    if (!g || !n)
        return;
    unlink_node(g, n);
    g->nnodes--;
    for (int i = 0; i < n->nin; i++)
        if (n->in[i]) {
            n->in[i]->nuses--;
            n->in[i] = NULL;
        }
    for (int i = 0; i < n->nout; i++)
        if (n->out[i] && n->out[i]->producer == n)
            n->out[i]->producer = NULL;
    /* subgraphs of a removed node are freed with the graph (still reachable through attrs? no:
     * the node is unlinked), so free them now. */
    for (int i = 0; i < n->nattr; i++) {
        IrAttr *a = &n->attrs[i];
        if (a->kind == IR_ATTR_GRAPH && a->g) {
            ir_graph_destroy(a->g);
            a->g = NULL;
        } else if (a->kind == IR_ATTR_GRAPHS) {
            for (int k = 0; k < a->n; k++) {
                ir_graph_destroy(a->graphs[k]);
                a->graphs[k] = NULL;
            }
        }
    }
}

void ir_node_move_before(IrGraph *g, IrNode *n, IrNode *before) {
    if (n == before)
        return;
    unlink_node(g, n);
    if (before) {
        n->next = before;
        n->prev = before->prev;
        if (before->prev)
            before->prev->next = n;
        else
            g->first = n;
        before->prev = n;
    } else {
        n->prev = g->last;
        if (g->last)
            g->last->next = n;
        else
            g->first = n;
        g->last = n;
    }
}

void ir_node_set_input(IrNode *n, int i, IrValue *v) {
    if (i < 0 || i >= n->nin)
        return;
    if (n->in[i])
        n->in[i]->nuses--;
    n->in[i] = v;
    if (v)
        v->nuses++;
}

void ir_value_replace_uses(IrGraph *g, IrValue *from, IrValue *to) {
    for (IrNode *n = g->first; n; n = n->next)
        for (int i = 0; i < n->nin; i++)
            if (n->in[i] == from)
                ir_node_set_input(n, i, to);
    for (int i = 0; i < g->noutputs; i++)
        if (g->outputs[i] == from) {
            g->outputs[i] = to;
            to->flags |= IR_VALUE_OUTPUT;
        }
}

/* ------------------------------------------------------------------ attributes */

IrAttr *ir_node_add_attr(IrNode *n, const char *name, IrAttrKind kind) {
    IrArena *a = n->graph->arena;
    IrAttr *na = ir_arena_alloc(a, (size_t)(n->nattr + 1) * sizeof(IrAttr));
    if (!na)
        return NULL;
    if (n->nattr)
        memcpy(na, n->attrs, (size_t)n->nattr * sizeof(IrAttr));
    n->attrs = na;
    IrAttr *at = &na[n->nattr++];
    memset(at, 0, sizeof(*at));
    at->name = ir_arena_strdup(a, name ? name : "");
    at->kind = kind;
    return at->name ? at : NULL;
}

const IrAttr *ir_node_attr(const IrNode *n, const char *name) {
    for (int i = 0; i < n->nattr; i++)
        if (strcmp(n->attrs[i].name, name) == 0)
            return &n->attrs[i];
    return NULL;
}

int64_t ir_attr_int(const IrNode *n, const char *name, int64_t dflt) {
    const IrAttr *a = ir_node_attr(n, name);
    return (a && a->kind == IR_ATTR_INT) ? a->i : dflt;
}

float ir_attr_float(const IrNode *n, const char *name, float dflt) {
    const IrAttr *a = ir_node_attr(n, name);
    if (a && a->kind == IR_ATTR_FLOAT)
        return a->f;
    if (a && a->kind == IR_ATTR_INT) /* some exporters write integral floats as ints */
        return (float)a->i;
    return dflt;
}

const char *ir_attr_string(const IrNode *n, const char *name, const char *dflt) {
    const IrAttr *a = ir_node_attr(n, name);
    if (!a || a->kind != IR_ATTR_STRING)
        return dflt;
    return ir_arena_strndup(n->graph->arena, a->s.data ? a->s.data : "", a->s.len);
}

int ir_attr_ints(const IrNode *n, const char *name, const int64_t **out) {
    const IrAttr *a = ir_node_attr(n, name);
    if (!a || a->kind != IR_ATTR_INTS)
        return -1;
    *out = a->ints;
    return a->n;
}

int ir_attr_floats(const IrNode *n, const char *name, const float **out) {
    const IrAttr *a = ir_node_attr(n, name);
    if (!a || a->kind != IR_ATTR_FLOATS)
        return -1;
    *out = a->floats;
    return a->n;
}
