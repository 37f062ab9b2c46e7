/* pass_matmul_add.c - MatMul (2-D) followed by Add of a row-broadcast bias becomes one Gemm.
 *
 *     t = MatMul(A[M,K], B[K,N]);  y = Add(t, c)   (or Add(c, t))
 *  -> y = Gemm(A, B, c)            (alpha = beta = 1, no transposes)
 * when A and B have rank 2, c has shape [N] or [1, N] (broadcast over the rows, which is what
 * Gemm's unidirectional broadcast of C allows), everything has the same float element type
 * (f32 or f64, the types Gemm's kernel handles with BLAS), and t is read only by the Add and
 * is not a graph output. The Gemm is named "matmul+add" after both nodes and writes the Add's
 * output value (its name, and a graph output's name, are kept). ONNX Gemm, opsets 7-13.
 */
#include "ops/op.h"
#include "passes/pass_manager.h"

static int fuse(IrGraph *g, IrNode *add) {
    for (int side = 0; side < 2; side++) {
        IrValue *t = add->in[side], *c = add->in[1 - side];
        IrNode *mm = t ? t->producer : NULL;
        if (!mm || mm->op != OP_MatMul || !c || t->nuses != 1 || (t->flags & IR_VALUE_OUTPUT) ||
            (t == c))
            continue;
        IrValue *a = mm->in[0], *b = mm->in[1], *y = add->out[0];
        if (!a || !b || !y || a->type.rank != 2 || b->type.rank != 2 || y->type.rank != 2 ||
            !ir_type_is_static(&t->type) || !ir_type_is_static(&c->type) ||
            !ir_type_equal(&t->type, &y->type))
            continue;
        IrDType dt = t->type.dtype;
        if ((dt != IR_DT_FLOAT && dt != IR_DT_DOUBLE) || a->type.dtype != dt ||
            b->type.dtype != dt || c->type.dtype != dt)
            continue;
        int64_t n = t->type.dims[1].value;
        int row = (c->type.rank == 1 && c->type.dims[0].value == n) ||
                  (c->type.rank == 2 && c->type.dims[0].value == 1 && c->type.dims[1].value == n);
        if (!row)
            continue;
        const char *name = pm_join_names(g, mm->name, add->name);
        IrNode *gm = ir_node_new(g, add, name, "", "Gemm", add->opset > 7 ? add->opset : 7, 3,
                                 (IrValue *[]){a, b, c}, 0, NULL);
        if (!gm)
            return 0;
        /* move the output over: the Add stops producing y, the Gemm does */
        ir_node_remove(g, add);
        gm->nout = 1;
        gm->out = ir_arena_alloc(g->arena, sizeof(IrValue *));
        if (!gm->out) {
            gm->nout = 0;
            return 0;
        }
        gm->out[0] = y;
        y->producer = gm;
        y->producer_out = 0;
        ir_node_remove(g, mm);
        return 1;
    }
    return 0;
}

int pass_matmul_add_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    IrNode *next;
    for (IrNode *n = g->first; n; n = next) {
        next = n->next;
        if (n->op != OP_Add || n->nin != 2 || n->nout != 1)
            continue;
        if (fuse(g, n)) {
            pm_count_rule(cx, "matmul_add.gemm");
            changes++;
        }
    }
    return changes;
}
