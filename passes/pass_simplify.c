/* pass_simplify.c - shape-driven and algebraic simplifications, as a table of rewrite rules.
 *
 * Each row of `rules` is (root op type, rule name, rewrite function). A rewrite looks at one
 * node (the root) and its producers; it returns 1 if it changed the graph, else 0 (and then
 * has changed nothing). Rules are indexed by root op type, tried in table order, and the graph
 * is swept again until no rule fires (each firing removes a node or shortens a chain, so this
 * terminates; a sweep cap guards it anyway). Every firing is counted under "simplify.<rule>"
 * for --stats.
 *
 * Rules (ONNX semantics at inference):
 *   identity          Identity(x) -> x
 *   dropout           Dropout(x) -> x when its mask output is absent or unused (inference)
 *   same_type_view    Reshape/Flatten/Squeeze/Unsqueeze/Expand whose output type equals the
 *                     input type -> x (only with a constant or absent shape/axes input: a
 *                     computed one carries a run-time check that must stay)
 *   same_type_cast    Cast(x) to x's own type -> x
 *   transpose_cancel  Transpose(Transpose(x, p), q) with p[q[i]] == i -> x
 *   transpose_compose Transpose(Transpose(x, p), q) -> Transpose(x, r), r[i] = p[q[i]]
 *   reshape_reshape   Reshape(Reshape(x, s1), s2) -> Reshape(x, static output shape)
 *   mul_one, add_zero, sub_zero, div_one
 *                     x*1, 1*x, x+0, 0+x, x-0, x/1 -> x when the constant's every element is
 *                     that neutral value and broadcasting leaves x's type unchanged. (x + 0
 *                     turns -0.0 into +0.0; like most graph compilers we accept that.)
 * Graph output names are kept (pm_bypass_node); a rewrite that cannot keep them is skipped.
 */
#include <math.h>
#include <string.h>

#include "ops/op.h"
#include "passes/pass_manager.h"
#include "runtime/rt_halfconv.h"

typedef int (*RuleFn)(IrGraph *g, IrNode *n);

typedef struct SimplifyRule {
    const char *op;    /* root op type (default domain) */
    const char *name;  /* counter name: "simplify.<name>" */
    RuleFn apply;      /* rewrite; 1 if it fired */
} SimplifyRule;

/* ------------------------------------------------------------------ helpers */

static int types_equal_static(const IrValue *a, const IrValue *b) {
    return a && b && a->type.kind == IR_TYPE_TENSOR && ir_type_equal(&a->type, &b->type) &&
           a->type.rank >= 0;
}

/* Output 0 is the only output that matters (others absent or unused). */
static int single_output(const IrNode *n) {
    if (n->nout < 1 || !n->out[0])
        return 0;
    for (int i = 1; i < n->nout; i++)
        if (n->out[i] && (n->out[i]->nuses > 0 || (n->out[i]->flags & IR_VALUE_OUTPUT)))
            return 0;
    return 1;
}

/* Element i of a constant as double; 0 with *ok = 0 if the type is not numeric. */
static double elem(const IrTensor *t, int64_t i, int *ok) {
    const void *p = t->data;
    switch ((int)t->dtype) {
    case IR_DT_FLOAT: return ((const float *)p)[i];
    case IR_DT_DOUBLE: return ((const double *)p)[i];
    case IR_DT_FLOAT16: return rt_h2f(((const uint16_t *)p)[i]);
    case IR_DT_BFLOAT16: return rt_bf2f(((const uint16_t *)p)[i]);
    case IR_DT_INT8: return ((const int8_t *)p)[i];
    case IR_DT_UINT8: return ((const uint8_t *)p)[i];
    case IR_DT_INT16: return ((const int16_t *)p)[i];
    case IR_DT_UINT16: return ((const uint16_t *)p)[i];
    case IR_DT_INT32: return ((const int32_t *)p)[i];
    case IR_DT_UINT32: return ((const uint32_t *)p)[i];
    case IR_DT_INT64: return (double)((const int64_t *)p)[i];
    case IR_DT_UINT64: return (double)((const uint64_t *)p)[i];
    default: *ok = 0; return 0;
    }
}

/* 1 if v is a constant whose every element equals `want` (0 or 1). */
static int const_all(const IrValue *v, double want) {
    if (!v || !v->init || v->init->numel == 0 || v->init->numel > (1 << 20))
        return 0;
    int ok = 1;
    for (int64_t i = 0; i < v->init->numel; i++)
        if (elem(v->init, i, &ok) != want || !ok)
            return 0;
    return 1;
}

/* Reads a Transpose's permutation (default: reversed) for input rank `rank`; -1 if bad. */
static int get_perm(const IrNode *n, int rank, int *perm) {
    const int64_t *p = NULL;
    int k = ir_attr_ints(n, "perm", &p);
    if (k < 0) {
        for (int i = 0; i < rank; i++)
            perm[i] = rank - 1 - i;
        return 0;
    }
    if (k != rank)
        return -1;
    for (int i = 0; i < rank; i++) {
        if (p[i] < 0 || p[i] >= rank)
            return -1;
        perm[i] = (int)p[i];
    }
    return 0;
}

/* ------------------------------------------------------------------ rules */

static int r_identity(IrGraph *g, IrNode *n) {
    return n->in[0] && pm_bypass_node(g, n, n->in[0]);
}

static int r_dropout(IrGraph *g, IrNode *n) {
    /* training_mode (input 2, opset 12+) must be absent or a constant false */
    IrValue *tm = ir_node_in(n, 2);
    if (tm && !(tm->init && const_all(tm, 0)))
        return 0;
    if (!single_output(n) || !types_equal_static(n->in[0], n->out[0]))
        return 0;
    return pm_bypass_node(g, n, n->in[0]);
}

static int r_same_type_view(IrGraph *g, IrNode *n) {
    IrValue *param = ir_node_in(n, 1);
    if (param && !param->init)
        return 0;
    if (!types_equal_static(n->in[0], n->out[0]) || !ir_type_is_static(&n->out[0]->type))
        return 0;
    return pm_bypass_node(g, n, n->in[0]);
}

static int r_same_type_cast(IrGraph *g, IrNode *n) {
    if (!types_equal_static(n->in[0], n->out[0]))
        return 0;
    return pm_bypass_node(g, n, n->in[0]);
}

/* Transpose(Transpose(x, p), q): cancel or compose. Returns 1 = cancelled, 2 = composed. */
static int transpose_pair(IrGraph *g, IrNode *n, int compose) {
    IrValue *a = n->in[0];
    IrNode *t1 = a ? a->producer : NULL;
    if (!t1 || t1->op != OP_Transpose || !t1->in[0] || !single_output(n))
        return 0;
    IrValue *x = t1->in[0];
    int rank = x->type.rank;
    if (x->type.kind != IR_TYPE_TENSOR || rank < 0 || rank > IR_MAX_RANK || a->type.rank != rank)
        return 0;
    int p[IR_MAX_RANK], q[IR_MAX_RANK], r[IR_MAX_RANK], ident = 1;
    if (get_perm(t1, rank, p) || get_perm(n, rank, q))
        return 0;
    for (int i = 0; i < rank; i++) {
        r[i] = p[q[i]];
        ident &= r[i] == i;
    }
    if (ident)
        return compose ? 0 : pm_bypass_node(g, n, x);
    if (!compose)
        return 0;
    int64_t *ints = ir_arena_alloc(g->arena, (size_t)(rank ? rank : 1) * sizeof(int64_t));
    if (!ints)
        return 0;
    for (int i = 0; i < rank; i++)
        ints[i] = r[i];
    IrAttr *at = NULL;
    for (int i = 0; i < n->nattr; i++)
        if (strcmp(n->attrs[i].name, "perm") == 0)
            at = &n->attrs[i];
    if (!at && !(at = ir_node_add_attr(n, "perm", IR_ATTR_INTS)))
        return 0;
    at->kind = IR_ATTR_INTS;
    at->ints = ints;
    at->n = rank;
    ir_node_set_input(n, 0, x);
    n->name = pm_join_names(g, t1->name, n->name);
    return 1;
}

static int r_transpose_cancel(IrGraph *g, IrNode *n) { return transpose_pair(g, n, 0); }
static int r_transpose_compose(IrGraph *g, IrNode *n) { return transpose_pair(g, n, 1); }

static int r_reshape_reshape(IrGraph *g, IrNode *n) {
    IrValue *a = n->in[0], *s2 = ir_node_in(n, 1);
    IrNode *r1 = a ? a->producer : NULL;
    if (!r1 || r1->op != OP_Reshape || !r1->in[0] || !s2 || !s2->init)
        return 0;
    /* r1's own shape input may be computed: then its run-time check must stay */
    IrValue *s1 = ir_node_in(r1, 1);
    if (!s1 || !s1->init)
        return 0;
    const IrType *yt = &n->out[0]->type;
    if (!ir_type_is_static(yt) || !ir_type_is_static(&r1->in[0]->type))
        return 0;
    int64_t dims[IR_MAX_RANK], rk = yt->rank;
    for (int i = 0; i < rk; i++) {
        dims[i] = yt->dims[i].value;
        if (dims[i] == 0)
            return 0; /* a 0 would mean "copy the input's dim" unless allowzero */
    }
    IrValue *c = pm_new_const(g, "shape", IR_DT_INT64, 1, &rk);
    if (!c)
        return 0;
    memcpy(c->init->data, dims, (size_t)rk * sizeof(int64_t));
    ir_node_set_input(n, 0, r1->in[0]);
    ir_node_set_input(n, 1, c);
    n->name = pm_join_names(g, r1->name, n->name);
    return 1;
}

/* x OP c -> x when c is all `neutral` and the output type is x's. `commutes`: also c OP x. */
static int neutral_operand(IrGraph *g, IrNode *n, double neutral, int commutes) {
    IrValue *a = n->in[0], *b = n->in[1];
    if (!a || !b)
        return 0;
    if (const_all(b, neutral) && types_equal_static(a, n->out[0]))
        return pm_bypass_node(g, n, a);
    if (commutes && const_all(a, neutral) && types_equal_static(b, n->out[0]))
        return pm_bypass_node(g, n, b);
    return 0;
}

static int r_mul_one(IrGraph *g, IrNode *n) { return neutral_operand(g, n, 1.0, 1); }
static int r_add_zero(IrGraph *g, IrNode *n) { return neutral_operand(g, n, 0.0, 1); }
static int r_sub_zero(IrGraph *g, IrNode *n) { return neutral_operand(g, n, 0.0, 0); }
static int r_div_one(IrGraph *g, IrNode *n) { return neutral_operand(g, n, 1.0, 0); }

/* ------------------------------------------------------------------ the table */

static const SimplifyRule rules[] = {
    {"Identity", "identity", r_identity},
    {"Dropout", "dropout", r_dropout},
    {"Reshape", "same_type_view", r_same_type_view},
    {"Flatten", "same_type_view", r_same_type_view},
    {"Squeeze", "same_type_view", r_same_type_view},
    {"Unsqueeze", "same_type_view", r_same_type_view},
    {"Expand", "same_type_view", r_same_type_view},
    {"Cast", "same_type_cast", r_same_type_cast},
    {"Transpose", "transpose_cancel", r_transpose_cancel},
    {"Transpose", "transpose_compose", r_transpose_compose},
    {"Reshape", "reshape_reshape", r_reshape_reshape},
    {"Mul", "mul_one", r_mul_one},
    {"Add", "add_zero", r_add_zero},
    {"Sub", "sub_zero", r_sub_zero},
    {"Div", "div_one", r_div_one},
};
#define NRULES ((int)(sizeof rules / sizeof rules[0]))

/* Static counter names "simplify.<rule>" (pm_count_rule keeps the pointer). */
static const char *counter_name(const char *rule) {
    static const char *const names[][2] = {
        {"identity", "simplify.identity"},
        {"dropout", "simplify.dropout"},
        {"same_type_view", "simplify.same_type_view"},
        {"same_type_cast", "simplify.same_type_cast"},
        {"transpose_cancel", "simplify.transpose_cancel"},
        {"transpose_compose", "simplify.transpose_compose"},
        {"reshape_reshape", "simplify.reshape_reshape"},
        {"mul_one", "simplify.mul_one"},
        {"add_zero", "simplify.add_zero"},
        {"sub_zero", "simplify.sub_zero"},
        {"div_one", "simplify.div_one"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i][0], rule) == 0)
            return names[i][1];
    return "simplify.other";
}

#define MAX_SWEEPS 16

int pass_simplify_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    /* Index: for each op id, the first rule and how many follow (rows of an op are adjacent
     * or not: a small per-op list of rule indices). */
    int first[OP_COUNT + 1][4];
    int count[OP_COUNT + 1];
    memset(count, 0, sizeof count);
    for (int r = 0; r < NRULES; r++) {
        int op = op_lookup("", rules[r].op);
        int slot = op >= 0 ? op : OP_COUNT; /* ops not in the table share the last slot */
        if (count[slot] < 4)
            first[slot][count[slot]++] = r;
    }
    int changes = 0;
    for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
        int fired = 0;
        IrNode *next;
        for (IrNode *n = g->first; n; n = next) {
            next = n->next;
            if (strcmp(n->domain, "") != 0 && strcmp(n->domain, "ai.onnx") != 0)
                continue;
            if (n->nin < 1 || !n->in[0] || n->nout < 1 || !n->out[0])
                continue;
            int slot = n->op >= 0 && n->op < OP_COUNT ? n->op : OP_COUNT;
            for (int k = 0; k < count[slot]; k++) {
                const SimplifyRule *r = &rules[first[slot][k]];
                if (strcmp(r->op, n->op_type) != 0)
                    continue;
                if (r->apply(g, n)) {
                    pm_count_rule(cx, counter_name(r->name));
                    fired++;
                    break;
                }
            }
            /* a rule may have removed `next`'s predecessor only; `next` itself stays valid
             * unless it was removed, in which case restart from the top */
            if (next && pm_node_dead(g, next))
                next = g->first;
        }
        changes += fired;
        if (!fired)
            break;
    }
    return changes;
}
