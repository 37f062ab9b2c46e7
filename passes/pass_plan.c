/* pass_plan.c - workspace planning: one buffer holds every intermediate tensor, and tensors
 * whose lifetimes do not overlap share memory.
 *
 * Intermediates are the outputs of lowered nodes (n->kernel != NULL) that are not graph
 * outputs, not graph inputs and carry no constant data. A value lives from the node that
 * produces it to the last lowered node that reads it (inclusive), in list order; a value that
 * nothing reads lives only during its producer. Because a node's inputs are still live while
 * it runs, its outputs never overlap its inputs - except in place:
 *
 * In-place: an elementwise node (OPF_ELEMENTWISE, or ai.onnxc FusedElementwise) whose input has
 * the output's shape and element type and dies at that node (this is its last reader) writes its
 * output over that input: the two share one buffer whose lifetime runs from the input's
 * definition to the output's last use. Their kernels read element i of such an input before
 * writing element i of the output (rt_elementwise.c, rt_act.c, rt_fused.c), so this is safe.
 * Only intermediates take part (never graph inputs, outputs or constants), and the view-like
 * ops (Reshape, Flatten, ...) copy their input, so no other name can see the overwritten
 * buffer. Chains (x -> Relu -> Sigmoid -> ...) share one buffer.
 *
 * Placement is "greedy by size" (the offline strategy of TFLite's arena planner and of the
 * ggml allocator): values sorted by size, largest first; each goes at the lowest 64-byte
 * aligned offset where it does not overlap any already placed value with an overlapping
 * lifetime. O(n^2) in the number of intermediates, which is fine for the models onnxc sees.
 */
#include <stdlib.h>

#include "ops/op.h"
#include "passes/pass.h"

#define PLAN_ALIGN 64

/* One intermediate tensor to place. */
typedef struct PlanItem {
    IrValue *v;      /* the value */
    int64_t size;    /* bytes, rounded up to PLAN_ALIGN */
    int first, last; /* lifetime in node positions, inclusive */
    int64_t offset;  /* assigned offset, -1 until placed */
    struct PlanItem *root; /* in place: the item whose buffer this one shares, else NULL */
    struct PlanItem *tail; /* of a root: the latest value written into its buffer */
} PlanItem;

/* 1 if node n may write its output over input v (see the header comment). */
static int inplace_ok(const IrNode *n, const IrValue *v, const IrValue *y) {
    if (n->op < 0 || n->nout != 1 || !v || !y)
        return 0;
    if (!(op_table[n->op].flags & OPF_ELEMENTWISE) && n->op != OP_FusedElementwise)
        return 0;
    return v->type.kind == IR_TYPE_TENSOR && v->type.dtype == y->type.dtype &&
           ir_type_equal(&v->type, &y->type);
}

static int cmp_size_desc(const void *a, const void *b) {
    const PlanItem *x = *(const PlanItem *const *)a, *y = *(const PlanItem *const *)b;
    if (x->size != y->size)
        return x->size < y->size ? 1 : -1;
    if (x->first != y->first) /* stable order for equal sizes: earlier first */
        return x->first < y->first ? -1 : 1;
    return x->v->id < y->v->id ? -1 : (x->v->id > y->v->id);
}

static int cmp_offset(const void *a, const void *b) {
    const PlanItem *x = *(const PlanItem *const *)a, *y = *(const PlanItem *const *)b;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    return 0;
}

static int is_intermediate(const IrValue *v) {
    return v && !v->init && !(v->flags & (IR_VALUE_OUTPUT | IR_VALUE_INPUT | IR_VALUE_INITIALIZER));
}

int pass_plan(IrGraph *g, int64_t *ws_bytes, int64_t *naive_bytes, IrDiag *d) {
    if (ws_bytes)
        *ws_bytes = 0;
    if (naive_bytes)
        *naive_bytes = 0;
    if (!g)
        return -1;
    for (int i = 0; i < g->nvalues; i++) {
        if (g->values[i]) {
            g->values[i]->offset = -1;
            g->values[i]->user = NULL;
        }
    }
    /* Count candidate items. */
    int nitems = 0;
    for (IrNode *n = g->first; n; n = n->next)
        if (n->kernel)
            for (int k = 0; k < n->nout; k++)
                if (is_intermediate(n->out[k]))
                    nitems++;
    if (nitems == 0)
        return 0;
    PlanItem *items = calloc((size_t)nitems, sizeof *items);
    PlanItem **order = calloc((size_t)nitems, sizeof *order);
    PlanItem **live = calloc((size_t)nitems, sizeof *live);
    if (!items || !order || !live) {
        ir_error(d, NULL, "out of memory in memory planning");
        free(items);
        free(order);
        free(live);
        return -1;
    }
    int rc = 0, m = 0, pos = 0;
    int64_t naive = 0;
    /* Definitions and sizes; value->user points at the item while planning. */
    for (IrNode *n = g->first; n; n = n->next, pos++) {
        if (!n->kernel)
            continue;
        for (int k = 0; k < n->nout; k++) {
            IrValue *v = n->out[k];
            if (!is_intermediate(v) || v->user)
                continue;
            if (v->type.kind == IR_TYPE_TENSOR && !ir_type_is_static(&v->type))
                continue; /* dynamic shape: allocated at run time (docs/DYNAMIC_SHAPES.md) */
            int64_t nb = 0;
            if (ir_type_nbytes(&v->type, &nb) != 0) {
                ir_error(d, n, "cannot plan output '%s': shape is not static or too large",
                         v->name);
                rc = -1;
                continue;
            }
            PlanItem *it = &items[m++];
            it->v = v;
            it->size = (nb + PLAN_ALIGN - 1) / PLAN_ALIGN * PLAN_ALIGN;
            it->first = it->last = pos;
            it->offset = -1;
            v->user = it;
            if (ir_add_i64(naive, it->size, &naive) != 0) {
                ir_error(d, n, "workspace size overflows");
                rc = -1;
            }
        }
    }
    /* Last uses: lowered readers only (skipped nodes do not run). */
    pos = 0;
    for (IrNode *n = g->first; n; n = n->next, pos++) {
        if (!n->kernel)
            continue;
        for (int k = 0; k < n->nin; k++) {
            IrValue *v = n->in[k];
            if (v && v->user) {
                PlanItem *it = v->user;
                if (pos > it->last)
                    it->last = pos;
            }
        }
    }
    /* In place: merge an elementwise node's output into an input that dies there. */
    pos = 0;
    for (IrNode *n = g->first; n; n = n->next, pos++) {
        IrValue *y = n->nout == 1 ? n->out[0] : NULL;
        if (!n->kernel || !y || !y->user)
            continue;
        PlanItem *yi = y->user;
        for (int k = 0; k < n->nin; k++) {
            IrValue *v = n->in[k];
            PlanItem *vi = v ? v->user : NULL;
            if (!vi || vi->last != pos || vi->size != yi->size || !inplace_ok(n, v, y))
                continue;
            PlanItem *r = vi->root ? vi->root : vi;
            if ((r->tail ? r->tail : r) != vi)
                continue; /* v's buffer already holds a later value */
            yi->root = r;
            r->tail = yi;
            if (yi->last > r->last)
                r->last = yi->last;
            break;
        }
    }
    /* Place, largest first (the buffers shared in place once, through their root). */
    int nplace = 0;
    for (int i = 0; i < m; i++)
        if (!items[i].root)
            order[nplace++] = &items[i];
    qsort(order, (size_t)nplace, sizeof *order, cmp_size_desc);
    int64_t total = 0;
    for (int i = 0; i < nplace && rc == 0; i++) {
        PlanItem *it = order[i];
        int nl = 0;
        for (int j = 0; j < i; j++) {
            PlanItem *o = order[j];
            if (o->size > 0 && o->first <= it->last && it->first <= o->last)
                live[nl++] = o;
        }
        qsort(live, (size_t)nl, sizeof *live, cmp_offset);
        int64_t off = 0;
        for (int j = 0; j < nl && it->size > 0; j++) {
            if (live[j]->offset >= off + it->size)
                break; /* fits in the gap before live[j] */
            if (live[j]->offset + live[j]->size > off)
                off = live[j]->offset + live[j]->size;
        }
        it->offset = off;
        it->v->offset = off;
        if (off + it->size > total)
            total = off + it->size;
    }
    for (int i = 0; i < m && rc == 0; i++)
        if (items[i].root)
            items[i].v->offset = items[i].root->offset;
    for (int i = 0; i < m; i++)
        items[i].v->user = NULL;
    free(items);
    free(order);
    free(live);
    if (rc != 0)
        return -1;
    if (ws_bytes)
        *ws_bytes = total;
    if (naive_bytes)
        *naive_bytes = naive;
    return 0;
}
