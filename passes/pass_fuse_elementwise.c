/* pass_fuse_elementwise.c - chains of elementwise ops fused into one FusedElementwise node.
 *
 * Starting from the last node of the graph and walking up, each elementwise node (a root) grows
 * a group by taking in the producers of its inputs while
 *   - the producer is a fusable elementwise op computing float32 (list below),
 *   - its output has the root's shape (so no work is repeated under broadcasting), is not a
 *     graph output, and every reader of it is already in the group.
 * External inputs (tensors the group reads but does not compute) become the inputs of the
 * fused node, broadcast numpy-style by its kernel; scalar float32 constants become immediates.
 * The group becomes one ai.onnxc FusedElementwise node (ops/op_fused.c) whose `program`
 * attribute is the register program runtime/rt_fused.c interprets in one loop over the output;
 * it writes the root's output value and is named after its parts ("mul1+erf1+add1").
 *
 * Fusable: Add, Sub, Mul, Div, Pow (opset >= 7 broadcasting), Neg, Abs, Sqrt, Exp, Log, Relu,
 * LeakyRelu, Sigmoid, Tanh, Erf, Reciprocal, Floor, Ceil, Gelu (exact form), HardSigmoid, Clip
 * (constant bounds), Identity, and Cast: to float32 from any type the kernel loads (its input is
 * then an external input read with conversion), or, as the root only, float32 to float16,
 * bfloat16 or float64 (the store converts). A group needs at least two nodes and at most
 * RT_FUSED_MAX_IN inputs, RT_FUSED_MAX_OPS instructions and RT_FUSED_MAX_REGS registers;
 * otherwise it is left alone. Counted as fuse_elementwise.groups and fuse_elementwise.nodes.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "ops/op_fused.h"
#include "passes/pass_manager.h"



#define FG_MAX_NODES 24

/* 1 if dt can be loaded (converted to float32) by the kernel. */
static int loadable(IrDType dt) {
    switch (dt) {
    case IR_DT_FLOAT: case IR_DT_DOUBLE: case IR_DT_FLOAT16: case IR_DT_BFLOAT16:
    case IR_DT_INT8: case IR_DT_UINT8: case IR_DT_INT16: case IR_DT_UINT16:
    case IR_DT_INT32: case IR_DT_UINT32: case IR_DT_INT64: case IR_DT_UINT64: case IR_DT_BOOL:
        return 1;
    default:
        return 0;
    }
}

static int is_f32(const IrValue *v) {
    return v && v->type.kind == IR_TYPE_TENSOR && v->type.dtype == IR_DT_FLOAT && v->type.rank >= 0;
}

/* Scalar float32 constant? */
static int scalar_f32(const IrValue *v, float *out) {
    if (!v || !v->init || v->init->numel != 1 || v->init->dtype != IR_DT_FLOAT)
        return 0;
    if (out)
        *out = ((const float *)v->init->data)[0];
    return 1;
}

/* Clip bounds of a Clip node if constant; 0 if not fusable. */
static int clip_bounds(const IrNode *n, float *lo, float *hi) {
    *lo = -INFINITY;
    *hi = INFINITY;
    if (n->opset < 11) {
        *lo = ir_attr_float(n, "min", -INFINITY);
        *hi = ir_attr_float(n, "max", INFINITY);
        return 1;
    }
    IrValue *l = ir_node_in(n, 1), *h = ir_node_in(n, 2);
    if (l && !scalar_f32(l, lo))
        return 0;
    if (h && !scalar_f32(h, hi))
        return 0;
    return 1;
}

/* Kind of participation of node n: 0 not fusable; 1 ordinary float32 op; 2 Cast to float32
 * (reads a loadable type); 3 Cast from float32 to another float type (root only). */
static int fusable(const IrNode *n) {
    if (n->nout != 1 || !n->out[0] || n->nin < 1 || !n->in[0] ||
        (n->domain && n->domain[0] && strcmp(n->domain, "ai.onnx") != 0))
        return 0;
    const IrValue *y = n->out[0];
    if (y->type.kind != IR_TYPE_TENSOR || y->type.rank < 0)
        return 0;
    if (n->op == OP_Cast) {
        IrDType from = n->in[0]->type.dtype, to = y->type.dtype;
        if (to == IR_DT_FLOAT && loadable(from) && from != IR_DT_FLOAT)
            return 2;
        if (from == IR_DT_FLOAT &&
            (to == IR_DT_FLOAT16 || to == IR_DT_BFLOAT16 || to == IR_DT_DOUBLE))
            return 3;
        return 0;
    }
    if (!is_f32(y))
        return 0;
    switch (n->op) {
    case OP_Add: case OP_Sub: case OP_Mul: case OP_Div: case OP_Pow:
        if (n->nin != 2 || !is_f32(n->in[0]) || !is_f32(n->in[1]) || n->opset < 7)
            return 0;
        return 1;
    case OP_Neg: case OP_Abs: case OP_Sqrt: case OP_Exp: case OP_Log: case OP_Relu:
    case OP_LeakyRelu: case OP_Sigmoid: case OP_Tanh: case OP_Erf: case OP_Reciprocal:
    case OP_Floor: case OP_Ceil: case OP_HardSigmoid: case OP_Identity:
        return is_f32(n->in[0]) ? 1 : 0;
    case OP_Gelu: {
        const char *ap = ir_attr_string(n, "approximate", "none");
        return is_f32(n->in[0]) && strcmp(ap, "none") == 0 ? 1 : 0;
    }
    case OP_Clip: {
        float lo, hi;
        return is_f32(n->in[0]) && clip_bounds(n, &lo, &hi) ? 1 : 0;
    }
    default:
        return 0;
    }
}

/* The value whose shape every group member must have: the root's compute output. */
typedef struct Group {
    IrNode *nodes[FG_MAX_NODES]; /* in list order once sorted */
    int n;
} Group;

static int in_group(const Group *gr, const IrNode *n) {
    for (int i = 0; i < gr->n; i++)
        if (gr->nodes[i] == n)
            return 1;
    return 0;
}

/* Number of input slots of group nodes that read v. */
static int uses_in_group(const Group *gr, const IrValue *v) {
    int k = 0;
    for (int i = 0; i < gr->n; i++)
        for (int j = 0; j < gr->nodes[i]->nin; j++)
            k += gr->nodes[i]->in[j] == v;
    return k;
}

/* Program under construction. */
typedef struct Prog {
    int64_t code[4 * RT_FUSED_MAX_OPS];
    float imm[RT_FUSED_MAX_OPS];
    int nops;
    IrValue *ins[RT_FUSED_MAX_IN]; /* external tensor inputs (register i) */
    int nin;
    int nregs;
} Prog;

static int emit(Prog *p, int op, int dst, int a, int b, float imm) {
    if (p->nops >= RT_FUSED_MAX_OPS)
        return -1;
    int64_t *c = p->code + 4 * p->nops;
    c[0] = op;
    c[1] = dst;
    c[2] = a;
    c[3] = b;
    p->imm[p->nops++] = imm;
    return 0;
}

/* Index of the last group node reading v (-1 if none). */
static int last_reader(const Group *gr, const IrValue *v) {
    int last = -1;
    for (int i = 0; i < gr->n; i++)
        for (int j = 0; j < gr->nodes[i]->nin; j++)
            if (gr->nodes[i]->in[j] == v)
                last = i;
    return last;
}

/* Builds the program of a group sorted in list order. Registers 0..nin-1 hold the external
 * inputs for the whole program; a temporary register is reused once the last reader of the
 * value(s) it holds has run (an instruction may write the register it reads: elementwise).
 * Returns the output register, or -1 if the group does not fit. */
static int build(Group *gr, Prog *p, IrDType *out_dt) {
    IrValue *vals[RT_FUSED_MAX_IN + FG_MAX_NODES];
    int regs[RT_FUSED_MAX_IN + FG_MAX_NODES];
    int nv = 0;
    int until[RT_FUSED_MAX_REGS]; /* register busy until this node index (inclusive) */
    p->nops = p->nin = 0;
    for (int i = 0; i < gr->n; i++) {
        IrNode *n = gr->nodes[i];
        int nin = n->op == OP_Clip ? 1 : n->nin; /* Clip bounds are immediates */
        for (int j = 0; j < nin; j++) {
            IrValue *v = n->in[j];
            if (!v || (v->producer && in_group(gr, v->producer)) || scalar_f32(v, NULL))
                continue;
            int seen = 0;
            for (int k = 0; k < p->nin; k++)
                seen |= p->ins[k] == v;
            if (seen)
                continue;
            if (p->nin >= RT_FUSED_MAX_IN)
                return -1;
            vals[nv] = v;
            regs[nv++] = p->nin;
            p->ins[p->nin++] = v;
        }
    }
    for (int r = 0; r < RT_FUSED_MAX_REGS; r++)
        until[r] = r < p->nin ? FG_MAX_NODES + 1 : -1;
    p->nregs = p->nin;
    int out_reg = -1;
    *out_dt = IR_DT_FLOAT;
    for (int i = 0; i < gr->n; i++) {
        IrNode *n = gr->nodes[i];
        int opr[2] = {RT_FUSED_IMM, RT_FUSED_IMM};
        float oimm[2] = {0, 0};
        int nin = n->op == OP_Clip ? 1 : (n->nin < 2 ? n->nin : 2);
        for (int j = 0; j < nin; j++) {
            IrValue *v = n->in[j];
            if (!(v->producer && in_group(gr, v->producer)) && scalar_f32(v, &oimm[j]))
                continue;
            int k = 0;
            while (k < nv && vals[k] != v)
                k++;
            if (k == nv)
                return -1;
            opr[j] = regs[k];
        }
        if (opr[0] == RT_FUSED_IMM && opr[1] == RT_FUSED_IMM)
            return -1; /* all constant: fold's job */
        IrValue *y = n->out[0];
        int lr = i == gr->n - 1 ? FG_MAX_NODES + 1 : last_reader(gr, y);
        int kind = fusable(n);
        if (kind == 2 || kind == 3 || n->op == OP_Identity) {
            /* the value lives in its operand's register; no instruction */
            if (opr[0] == RT_FUSED_IMM)
                return -1;
            vals[nv] = y;
            regs[nv++] = opr[0];
            if (lr > until[opr[0]])
                until[opr[0]] = lr;
            if (kind == 3)
                *out_dt = y->type.dtype;
            out_reg = opr[0];
            continue;
        }
        int dst = -1;
        for (int r = p->nin; r < RT_FUSED_MAX_REGS && dst < 0; r++)
            if (until[r] <= i)
                dst = r;
        if (dst < 0)
            return -1;
        until[dst] = lr;
        if (dst + 1 > p->nregs)
            p->nregs = dst + 1;
        int a = opr[0], b = opr[1];
        float im = a == RT_FUSED_IMM ? oimm[0] : oimm[1];
        int rc = 0;
        switch (n->op) {
        case OP_Add: rc = emit(p, RT_FOP_ADD, dst, a, b, im); break;
        case OP_Sub: rc = emit(p, RT_FOP_SUB, dst, a, b, im); break;
        case OP_Mul: rc = emit(p, RT_FOP_MUL, dst, a, b, im); break;
        case OP_Div: rc = emit(p, RT_FOP_DIV, dst, a, b, im); break;
        case OP_Pow: rc = emit(p, RT_FOP_POW, dst, a, b, im); break;
        case OP_Neg: rc = emit(p, RT_FOP_NEG, dst, a, 0, 0); break;
        case OP_Abs: rc = emit(p, RT_FOP_ABS, dst, a, 0, 0); break;
        case OP_Sqrt: rc = emit(p, RT_FOP_SQRT, dst, a, 0, 0); break;
        case OP_Exp: rc = emit(p, RT_FOP_EXP, dst, a, 0, 0); break;
        case OP_Log: rc = emit(p, RT_FOP_LOG, dst, a, 0, 0); break;
        case OP_Relu: rc = emit(p, RT_FOP_RELU, dst, a, 0, 0); break;
        case OP_Sigmoid: rc = emit(p, RT_FOP_SIGMOID, dst, a, 0, 0); break;
        case OP_Tanh: rc = emit(p, RT_FOP_TANH, dst, a, 0, 0); break;
        case OP_Erf: rc = emit(p, RT_FOP_ERF, dst, a, 0, 0); break;
        case OP_Reciprocal: rc = emit(p, RT_FOP_RECIP, dst, a, 0, 0); break;
        case OP_Floor: rc = emit(p, RT_FOP_FLOOR, dst, a, 0, 0); break;
        case OP_Ceil: rc = emit(p, RT_FOP_CEIL, dst, a, 0, 0); break;
        case OP_Gelu: rc = emit(p, RT_FOP_GELU, dst, a, 0, 0); break;
        case OP_LeakyRelu:
            rc = emit(p, RT_FOP_LEAKYRELU, dst, a, 0, ir_attr_float(n, "alpha", 0.01f));
            break;
        case OP_HardSigmoid:
            rc = emit(p, RT_FOP_MUL, dst, a, RT_FUSED_IMM, ir_attr_float(n, "alpha", 0.2f));
            rc |= emit(p, RT_FOP_ADD, dst, dst, RT_FUSED_IMM, ir_attr_float(n, "beta", 0.5f));
            rc |= emit(p, RT_FOP_MAXI, dst, dst, 0, 0.0f);
            rc |= emit(p, RT_FOP_MINI, dst, dst, 0, 1.0f);
            break;
        case OP_Clip: {
            float lo, hi;
            clip_bounds(n, &lo, &hi);
            rc = emit(p, RT_FOP_MAXI, dst, a, 0, lo);
            rc |= emit(p, RT_FOP_MINI, dst, dst, 0, hi);
            break;
        }
        default: return -1;
        }
        if (rc)
            return -1;
        vals[nv] = y;
        regs[nv++] = dst;
        out_reg = dst;
    }
    return p->nops > 0 ? out_reg : -1;
}

/* 1 if the broadcast of the external inputs' shapes is exactly `t`. */
static int inputs_cover(const Prog *p, const IrType *t) {
    int rank = 0;
    for (int i = 0; i < p->nin; i++)
        if (p->ins[i]->type.rank > rank)
            rank = p->ins[i]->type.rank;
    if (rank != t->rank)
        return 0;
    for (int d = 0; d < rank; d++) {
        int hit = 0;
        for (int i = 0; i < p->nin; i++) {
            const IrType *it = &p->ins[i]->type;
            int k = d - (rank - it->rank);
            if (k < 0)
                continue;
            IrDim x = it->dims[k];
            if (x.value >= 0 && x.value == t->dims[d].value)
                hit = 1;
            else if (x.value < 0 && x.sym && t->dims[d].sym && strcmp(x.sym, t->dims[d].sym) == 0)
                hit = 1;
        }
        if (!hit && t->dims[d].value != 1)
            return 0;
    }
    return 1;
}

/* Tries to fuse the group rooted at `root`; 1 if fused, 0 if not, -1 on OOM. */
static int fuse_from(IrModel *m, IrGraph *g, IrNode *root, PassCtx *cx, IrNode **made) {
    int kind = fusable(root);
    if (!kind)
        return 0;
    Group gr = {{root}, 1};
    /* the shape every internal value must have */
    const IrType *shape = kind == 3 ? &root->in[0]->type : &root->out[0]->type;
    for (int changed = 1; changed;) {
        changed = 0;
        for (int i = 0; i < gr.n && gr.n < FG_MAX_NODES; i++) {
            IrNode *n = gr.nodes[i];
            if (fusable(n) == 2)
                continue; /* a Cast's input is read with conversion */
            for (int j = 0; j < n->nin && gr.n < FG_MAX_NODES; j++) {
                IrValue *v = n->in[j];
                IrNode *p = v ? v->producer : NULL;
                if (!p || in_group(&gr, p) || (v->flags & (IR_VALUE_OUTPUT | IR_VALUE_INPUT)) ||
                    v->init)
                    continue;
                int pk = fusable(p);
                if (pk != 1 && pk != 2)
                    continue;
                if (!ir_type_equal(&v->type, shape) || v->type.dtype != IR_DT_FLOAT)
                    continue;
                if (uses_in_group(&gr, v) != v->nuses)
                    continue;
                gr.nodes[gr.n++] = p;
                changed = 1;
            }
        }
    }
    if (gr.n < 2)
        return 0;
    /* list order: walk back from the root */
    Group sorted = {{0}, 0};
    for (IrNode *n = root; n && sorted.n < gr.n; n = n->prev)
        if (in_group(&gr, n))
            sorted.nodes[sorted.n++] = n;
    if (sorted.n != gr.n)
        return 0;
    for (int i = 0; i < sorted.n / 2; i++) {
        IrNode *t = sorted.nodes[i];
        sorted.nodes[i] = sorted.nodes[sorted.n - 1 - i];
        sorted.nodes[sorted.n - 1 - i] = t;
    }
    Prog p;
    IrDType out_dt;
    int out_reg = build(&sorted, &p, &out_dt);
    if (out_reg < 0 || p.nin < 1 || !inputs_cover(&p, shape))
        return 0;
    if (pm_ensure_fused_opset(m))
        return -1;
    /* name and op list */
    const char *name = sorted.nodes[0]->name;
    char ops[512];
    size_t ol = 0;
    ops[0] = 0;
    for (int i = 0; i < sorted.n; i++) {
        if (i > 0)
            name = pm_join_names(g, name, sorted.nodes[i]->name);
        int k = snprintf(ops + ol, sizeof ops - ol, "%s%s", i ? "," : "", sorted.nodes[i]->op_type);
        if (k > 0 && ol + (size_t)k < sizeof ops)
            ol += (size_t)k;
    }
    IrValue *y = root->out[0];
    IrNode *after = root->next;
    ir_node_remove(g, root);
    IrNode *fn = ir_node_new(g, after, name, OP_FUSED_DOMAIN, "FusedElementwise", 1, p.nin,
                             p.ins, 1, &y);
    if (!fn)
        return -1;
    IrAttr *a;
    int64_t *code = ir_arena_memdup(g->arena, p.code, sizeof(int64_t) * 4 * (size_t)p.nops);
    float *imm = ir_arena_memdup(g->arena, p.imm, sizeof(float) * (size_t)p.nops);
    if (!code || !imm)
        return -1;
    if (!(a = ir_node_add_attr(fn, "program", IR_ATTR_INTS)))
        return -1;
    a->ints = code;
    a->n = 4 * p.nops;
    if (!(a = ir_node_add_attr(fn, "immediates", IR_ATTR_FLOATS)))
        return -1;
    a->floats = imm;
    a->n = p.nops;
    if (!(a = ir_node_add_attr(fn, "nregs", IR_ATTR_INT)))
        return -1;
    a->i = p.nregs;
    if (!(a = ir_node_add_attr(fn, "out_reg", IR_ATTR_INT)))
        return -1;
    a->i = out_reg;
    if (out_dt != IR_DT_FLOAT) {
        if (!(a = ir_node_add_attr(fn, "to", IR_ATTR_INT)))
            return -1;
        a->i = out_dt;
    }
    if (!(a = ir_node_add_attr(fn, "ops", IR_ATTR_STRING)))
        return -1;
    a->s.data = ir_arena_strdup(g->arena, ops);
    a->s.len = strlen(ops);
    if (!a->s.data)
        return -1;
    for (int i = 0; i < sorted.n - 1; i++) /* the root is gone already; consumers first */
        ir_node_remove(g, sorted.nodes[sorted.n - 2 - i]);
    *made = fn;
    pm_count_rule(cx, "fuse_elementwise.groups");
    for (int i = 0; i < sorted.n; i++)
        pm_count_rule(cx, "fuse_elementwise.nodes");
    return 1;
}

int pass_fuse_elementwise_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    if (cx->o && cx->o->portable)
        return 0; /* FusedElementwise is onnxc's own op */
    IrNode *prev;
    for (IrNode *n = g->last; n; n = prev) {
        prev = n->prev;
        IrNode *made = NULL;
        int r = fuse_from(m, g, n, cx, &made);
        if (r < 0) {
            ir_error(cx->d, NULL, "out of memory in pass fuse_elementwise");
            return -1;
        }
        if (r > 0) {
            changes++;
            prev = made->prev; /* the group sat above the root: go on above the fused node */
        }
    }
    return changes;
}
