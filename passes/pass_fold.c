/* pass_fold.c - constant folding.
 *
 * A node whose present inputs are all constants (value->init) is evaluated now: it is lowered
 * with its op's lower hook (op_lower_node) and its kernel, found with rt_kernel_find, is called
 * natively on the constant inputs - the very kernel the generated code would call, so folded
 * values equal computed values. Its outputs keep their names and get the result as ->init; the
 * node is removed (the values print as `const` lines).
 *
 * Never folded: ops flagged OPF_RANDOM or OPF_NO_FOLD, ops without a lower hook or kernel,
 * nodes with non-static or string output types, and nodes whose outputs would exceed cx->fold_cap_bytes
 * (64 MiB) together (folding must not bloat the library). A kernel that fails (e.g. an integer
 * division by zero) leaves the node in place: the error then happens at run time, where the
 * ONNX semantics put it. Nodes whose every output already has data (Constant, after inference)
 * are simply removed.
 */
#include <string.h>

#include "ops/op.h"
#include "passes/pass_manager.h"
#include "runtime/onnxc_rt.h"

/* 1 if every present output of n already carries constant data. */
static int outputs_constant(const IrNode *n) {
    int any = 0;
    for (int i = 0; i < n->nout; i++) {
        if (!n->out[i])
            continue;
        if (!n->out[i]->init)
            return 0;
        any = 1;
    }
    return any;
}

/* Evaluates n on its constant inputs; 1 if folded, 0 if left alone. */
static int fold_node(IrGraph *g, IrNode *n, PassCtx *cx) {
    const OpInfo *oi = op_info(n->op);
    if (!oi || (oi->flags & (OPF_RANDOM | OPF_NO_FOLD)) || n->nin == 0 || n->nout == 0 ||
        n->nin > 64 || n->nout > 16)
        return 0;
    int nconst = 0;
    for (int i = 0; i < n->nin; i++) {
        if (!n->in[i])
            continue;
        if (!n->in[i]->init || n->in[i]->type.kind != IR_TYPE_TENSOR)
            return 0;
        nconst++;
    }
    if (nconst == 0)
        return 0;
    int64_t total = 0;
    for (int i = 0; i < n->nout; i++) {
        int64_t nb = 0;
        if (!n->out[i])
            continue;
        /* string results may point into kernel-owned memory: left to run time */
        if (n->out[i]->type.kind != IR_TYPE_TENSOR || n->out[i]->type.dtype == IR_DT_STRING ||
            ir_type_nbytes(&n->out[i]->type, &nb) != 0 ||
            ir_add_i64(total, nb, &total) || total > cx->fold_cap_bytes)
            return 0;
    }
    /* Lowering problems are not errors here: the node is just not folded (the real lowering
     * reports them later if they persist). */
    IrDiag scratch;
    ir_diag_init(&scratch, NULL);
    int lowered = op_lower_node(n, &scratch) == 0 && n->kernel;
    ir_diag_free(&scratch);
    if (!lowered)
        return 0;
    RtKernelFn fn = rt_kernel_find(n->kernel);
    if (!fn) {
        n->kernel = NULL;
        return 0;
    }
    RtTensor in[64], out[16];
    IrTensor *res[16];
    memset(in, 0, sizeof in);
    memset(out, 0, sizeof out);
    for (int i = 0; i < n->nin; i++) {
        const IrTensor *t = n->in[i] ? n->in[i]->init : NULL;
        if (!t) {
            in[i].rank = -1;
            continue;
        }
        in[i].data = t->data;
        in[i].dims = t->dims;
        in[i].rank = t->rank;
        in[i].dtype = t->dtype;
    }
    for (int i = 0; i < n->nout; i++) {
        res[i] = NULL;
        IrValue *v = n->out[i];
        if (!v) {
            out[i].rank = -1;
            continue;
        }
        int64_t dims[IR_MAX_RANK];
        for (int k = 0; k < v->type.rank; k++)
            dims[k] = v->type.dims[k].value;
        res[i] = ir_tensor_new(g->arena, v->type.dtype, v->type.rank, dims);
        if (!res[i]) {
            n->kernel = NULL;
            return 0;
        }
        out[i].data = res[i]->data;
        out[i].dims = res[i]->dims;
        out[i].rank = res[i]->rank;
        out[i].dtype = res[i]->dtype;
    }
    RtCtx ctx;
    rt_ctx_init(&ctx);
    int st = fn(&ctx, n->params, in, n->nin, out, n->nout);
    n->kernel = NULL;
    if (st != 0) {
        if (cx->o && cx->o->verbose)
            ir_diag_add(cx->d, IR_SEV_NOTE, n, "not folded: the kernel failed: %s", ctx.errmsg);
        return 0;
    }
    for (int i = 0; i < n->nout; i++)
        if (n->out[i]) {
            res[i]->name = n->out[i]->name;
            n->out[i]->init = res[i];
        }
    return 1;
}

int pass_fold_run(IrModel *m, PassCtx *cx) {
    IrGraph *g = m->graph;
    int changes = 0;
    IrNode *next;
    for (IrNode *n = g->first; n; n = next) {
        next = n->next;
        if (outputs_constant(n)) {
            ir_node_remove(g, n);
            pm_count_rule(cx, "fold.constant_node");
            changes++;
            continue;
        }
        if (fold_node(g, n, cx)) {
            ir_node_remove(g, n);
            pm_count_rule(cx, "fold.evaluated");
            changes++;
        }
    }
    return changes;
}
