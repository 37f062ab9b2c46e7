/* pass_manager.c - the registry of optimisation passes, the pipeline of each -O level, and the
 * instruments (passes/pass_manager.h). The shape follows TVM's pass infrastructure (pass info
 * records, a context carrying instruments) and QBE's readable pipeline; the instruments are
 * those of LLVM's new pass manager (-print-before/-after, -print-changed, -verify-each,
 * -time-passes, -stats).
 */
#include "passes/pass_manager.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ops/op.h"

/* ------------------------------------------------------------------ registry and pipelines */

static const PassInfo pass_registry[] = {
    {"fold", "constant folding: nodes whose inputs are all constants run their kernel now",
     pass_fold_run, PASS_NEEDS_TYPES},
    {"dce", "dead code elimination: unused nodes and constants", pass_dce_run, 0},
    {"cse", "common subexpression elimination: identical nodes merged", pass_cse_run,
     PASS_NEEDS_TYPES},
    {"simplify", "shape-driven and algebraic rewrite rules (identity ops, transposes, x*1, ...)",
     pass_simplify_run, PASS_NEEDS_TYPES},
    {"bn_fold", "BatchNormalization folded into the preceding Conv or Gemm", pass_bn_fold_run,
     PASS_NEEDS_TYPES | PASS_NEEDS_STATIC},
    {"matmul_add", "2-D MatMul + row-broadcast Add fused into Gemm", pass_matmul_add_run,
     PASS_NEEDS_TYPES},
    {"fuse_patterns", "decomposed Softmax / LayerNormalization / GELU into the single ops",
     pass_fuse_patterns_run, PASS_NEEDS_TYPES},
    {"fuse_epilogue", "Conv bias Add, and Conv/Gemm/MatMul + activation into one node",
     pass_fuse_epilogue_run, PASS_NEEDS_TYPES},
    {"fuse_elementwise", "chains of elementwise ops into one FusedElementwise loop",
     pass_fuse_elementwise_run, PASS_NEEDS_TYPES},
};

/* The pipelines, read top to bottom. simplify first removes no-op nodes that would hide
 * patterns; fold then evaluates constant subgraphs; the fusions run on the cleaned graph;
 * a second simplify/cse/fold round takes what the fusions exposed; dce sweeps last. */
static const char *const pipeline_O1 = "fold,dce";
static const char *const pipeline_O2 =
    "simplify,"
    "fold,"
    "matmul_add,"
    "bn_fold,"
    "simplify,"
    "cse,"
    "fold,"
    "dce";
/* -O3 adds the fusions into onnxc's own ops (domain ai.onnxc) and into ops newer than the
 * model's opset: patterns first (they need the unfused nodes), then epilogues (Conv + Relu),
 * then what is left of the elementwise chains; dce last. */
static const char *const pipeline_O3 =
    "simplify,"
    "fold,"
    "matmul_add,"
    "bn_fold,"
    "simplify,"
    "cse,"
    "fold,"
    "fuse_patterns,"
    "fuse_epilogue,"
    "fuse_elementwise,"
    "dce";

int pm_num_passes(void) { return (int)(sizeof pass_registry / sizeof pass_registry[0]); }

const PassInfo *pm_pass_at(int i) {
    return (i >= 0 && i < pm_num_passes()) ? &pass_registry[i] : NULL;
}

const char *pm_pipeline_for_level(int level) {
    if (level <= 0)
        return "";
    if (level == 1)
        return pipeline_O1;
    if (level == 2)
        return pipeline_O2;
    return pipeline_O3;
}

const PassInfo *pm_find_pass(const PassCtx *cx, const char *name) {
    for (int i = 0; cx && i < cx->nextra; i++)
        if (strcmp(cx->extra[i].name, name) == 0)
            return &cx->extra[i];
    for (int i = 0; i < pm_num_passes(); i++)
        if (strcmp(pass_registry[i].name, name) == 0)
            return &pass_registry[i];
    return NULL;
}

/* ------------------------------------------------------------------ context */

void pm_ctx_init(PassCtx *cx, const OnnxcCompileOptions *o, IrDiag *d) {
    memset(cx, 0, sizeof *cx);
    cx->o = o;
    cx->d = d;
    cx->out = (o && o->pass_out) ? o->pass_out : stderr;
    cx->fold_cap_bytes = (int64_t)64 << 20;
}

void pm_ctx_free(PassCtx *cx) { (void)cx; /* nothing malloc-owned yet */ }

int pm_ctx_add_pass(PassCtx *cx, const PassInfo *p) {
    if (!p || !p->name || !p->run || cx->nextra >= PM_MAX_EXTRA_PASSES)
        return -1;
    cx->extra[cx->nextra++] = *p;
    return 0;
}

void pm_count_rule(PassCtx *cx, const char *name) {
    for (int i = 0; i < cx->nrules; i++)
        if (strcmp(cx->rules[i].name, name) == 0) {
            cx->rules[i].count++;
            return;
        }
    if (cx->nrules < PM_MAX_RULES)
        cx->rules[cx->nrules++] = (PassRuleCount){name, 1};
}

int64_t pm_rule_count(const PassCtx *cx, const char *name) {
    for (int i = 0; i < cx->nrules; i++)
        if (strcmp(cx->rules[i].name, name) == 0)
            return cx->rules[i].count;
    return 0;
}

static PassTime *time_slot(PassCtx *cx, const char *name) {
    for (int i = 0; i < cx->ntimes; i++)
        if (strcmp(cx->times[i].name, name) == 0)
            return &cx->times[i];
    if (cx->ntimes >= PM_MAX_PASS_STATS)
        return NULL;
    PassTime *t = &cx->times[cx->ntimes++];
    memset(t, 0, sizeof *t);
    t->name = name;
    return t;
}

/* ------------------------------------------------------------------ instruments */

/* 1 if `list` (comma-separated, or "all") names `name`. */
static int list_has(const char *list, const char *name) {
    if (!list || !*list)
        return 0;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if ((len == 3 && strncmp(p, "all", 3) == 0) || (len == n && strncmp(p, name, n) == 0))
            return 1;
        if (!e)
            break;
        p = e + 1;
    }
    return 0;
}

static void print_ir(PassCtx *cx, IrModel *m, const char *when, const char *pass) {
    FILE *f = cx->out;
    fprintf(f, "; *** IR Dump %s %s ***\n", when, pass);
    ir_print_model(m, f, 0);
    fflush(f);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Re-infers types if a pass changed the graph since the last inference. */
static int reinfer(IrModel *m, PassCtx *cx, const char *after) {
    if (!cx->types_dirty)
        return 0;
    int before = cx->d ? cx->d->nerrors : 0;
    int errs = pass_infer(m->graph, cx->d);
    cx->types_dirty = 0;
    if (errs) {
        if (cx->d && cx->d->nerrors == before)
            ir_error(cx->d, NULL, "type inference failed after pass '%s'", after);
        else
            ir_diag_add(cx->d, IR_SEV_NOTE, NULL, "(the errors above appeared after pass '%s')",
                        after);
        return -1;
    }
    return 0;
}

/* Runs one pass with its instruments. Returns its change count or -1. */
static int run_one(IrModel *m, PassCtx *cx, const PassInfo *p, const char **last_pass) {
    const OnnxcCompileOptions *o = cx->o;
    if (o && list_has(o->disable_pass, p->name)) {
        if (o->verbose)
            fprintf(cx->out, "; pass %s disabled\n", p->name);
        return 0;
    }
    if ((p->req & PASS_NEEDS_TYPES) && reinfer(m, cx, *last_pass) != 0)
        return -1;
    if (o && list_has(o->print_before, p->name))
        print_ir(cx, m, "Before", p->name);
    cx->pass = p->name;
    int nerr0 = cx->d ? cx->d->nerrors : 0;
    double t0 = now_seconds();
    int changes = p->run(m, cx);
    double dt = now_seconds() - t0;
    cx->pass = NULL;
    *last_pass = p->name;
    PassTime *ts = time_slot(cx, p->name);
    if (ts) {
        ts->runs++;
        ts->seconds += dt;
        if (changes > 0)
            ts->changes += changes;
    }
    if (changes < 0) {
        if (cx->d && cx->d->nerrors == nerr0)
            ir_error(cx->d, NULL, "pass '%s' failed", p->name);
        return -1;
    }
    if (changes > 0)
        cx->types_dirty = 1;
    int want_after = o && list_has(o->print_after, p->name);
    if (o && o->print_changed)
        want_after = (want_after || !o->print_after) && changes > 0;
    if (want_after)
        print_ir(cx, m, "After", p->name);
    if (o && o->verify_each) {
        IrDiag vd;
        ir_diag_init(&vd, cx->d ? cx->d->file : NULL);
        int verrs = ir_verify(m->graph, &vd);
        if (verrs) {
            for (int i = 0; i < vd.nentries; i++)
                ir_diag_add(cx->d, vd.entries[i].sev, NULL, "%s", vd.entries[i].msg);
            ir_error(cx->d, NULL, "verify-each: the IR is invalid after pass '%s' (%d error%s)",
                     p->name, verrs, verrs == 1 ? "" : "s");
            ir_diag_free(&vd);
            return -1;
        }
        ir_diag_free(&vd);
        if (reinfer(m, cx, p->name) != 0)
            return -1;
    }
    return changes;
}

int pm_run_pipeline(IrModel *m, PassCtx *cx, const char *pipeline) {
    if (!m || !m->graph)
        return -1;
    if (!pipeline)
        pipeline = "";
    /* Check every name first: a typo should not leave a half-optimised graph. */
    char name[64];
    for (const char *p = pipeline; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0) {
            if (len >= sizeof name || (memcpy(name, p, len), name[len] = 0, !pm_find_pass(cx, name))) {
                ir_error(cx->d, NULL, "unknown pass '%.*s' in pipeline '%s'", (int)(len < 60 ? len : 60),
                         p, pipeline);
                return -1;
            }
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (pm_graph_has_subgraphs(m->graph)) {
        if (cx->o && cx->o->verbose)
            fprintf(cx->out, "; graph has subgraphs: optimisation passes skipped\n");
        return 0;
    }
    int total = 0;
    const char *last = "inference";
    for (const char *p = pipeline; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len > 0) {
            memcpy(name, p, len);
            name[len] = 0;
            int c = run_one(m, cx, pm_find_pass(cx, name), &last);
            if (c < 0)
                return -1;
            total += c;
        }
        if (!e)
            break;
        p = e + 1;
    }
    if (reinfer(m, cx, last) != 0)
        return -1;
    return total;
}

int pm_run_default(IrModel *m, PassCtx *cx) {
    const OnnxcCompileOptions *o = cx->o;
    const char *pl = (o && o->passes) ? o->passes : pm_pipeline_for_level(o ? o->opt_level : 2);
    return pm_run_pipeline(m, cx, pl);
}

void pm_print_times(const PassCtx *cx) {
    if (!cx->o || !cx->o->time_passes)
        return;
    FILE *f = cx->out;
    double total = 0;
    for (int i = 0; i < cx->ntimes; i++)
        total += cx->times[i].seconds;
    fprintf(f, "=== pass execution times ===\n");
    fprintf(f, "  %-12s %5s %8s %10s %6s\n", "pass", "runs", "changes", "ms", "%");
    for (int i = 0; i < cx->ntimes; i++) {
        const PassTime *t = &cx->times[i];
        fprintf(f, "  %-12s %5d %8lld %10.3f %5.1f%%\n", t->name, t->runs, (long long)t->changes,
                t->seconds * 1e3, total > 0 ? 100.0 * t->seconds / total : 0.0);
    }
    fprintf(f, "  %-12s %5s %8s %10.3f\n", "total", "", "", total * 1e3);
    fflush(f);
}

/* ------------------------------------------------------------------ stats */

int64_t pm_node_flops(const IrNode *n) {
    if (n->nout < 1 || !n->out[0])
        return 0;
    const IrType *yt = &n->out[0]->type;
    int64_t ynumel = 0, f = 0;
    if (ir_type_numel(yt, &ynumel) != 0)
        return 0;
    const IrValue *a = ir_node_in(n, 0), *b = ir_node_in(n, 1);
    if (!a || !b || a->type.kind != IR_TYPE_TENSOR || b->type.kind != IR_TYPE_TENSOR)
        return 0;
    int64_t k = 0;
    if (n->op == OP_MatMul) {
        if (a->type.rank < 1 || !ir_type_is_static(&a->type))
            return 0;
        k = a->type.dims[a->type.rank - 1].value;
    } else if (n->op == OP_Gemm) {
        if (a->type.rank != 2 || !ir_type_is_static(&a->type))
            return 0;
        k = ir_attr_int(n, "transA", 0) ? a->type.dims[0].value : a->type.dims[1].value;
    } else if (n->op == OP_Conv) {
        /* each output element: C/group * prod(kernel) multiply-adds = W's numel / M */
        int64_t wn = 0;
        if (ir_type_numel(&b->type, &wn) != 0 || b->type.rank < 1 || b->type.dims[0].value <= 0)
            return 0;
        k = wn / b->type.dims[0].value;
    } else {
        return 0;
    }
    if (ir_mul_i64(ynumel, k, &f) || ir_mul_i64(f, 2, &f))
        return 0;
    return f;
}

/* One op type and how many nodes have it. */
typedef struct OpCount {
    const char *op;
    int count;
} OpCount;

static int cmp_opcount(const void *a, const void *b) {
    const OpCount *x = a, *y = b;
    return strcmp(x->op, y->op);
}

void pm_print_stats(const IrModel *m, const PassCtx *cx) {
    if (!cx->o || !cx->o->stats || !m || !m->graph)
        return;
    FILE *f = cx->out;
    const IrGraph *g = m->graph;
    OpCount *oc = ir_calloc((size_t)g->nnodes + 1, sizeof *oc);
    int noc = 0;
    int64_t flops = 0, params = 0, pbytes = 0;
    for (const IrNode *n = g->first; n; n = n->next) {
        int k = 0;
        while (oc && k < noc && strcmp(oc[k].op, n->op_type) != 0)
            k++;
        if (oc && k == noc)
            oc[noc++] = (OpCount){n->op_type, 0};
        if (oc)
            oc[k].count++;
        int64_t fl = pm_node_flops(n);
        if (fl > 0 && ir_add_i64(flops, fl, &flops))
            flops = INT64_MAX;
    }
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        /* initializers and folded constants that something still reads */
        if (!v || !v->init || v->producer)
            continue;
        if (!(v->flags & IR_VALUE_INITIALIZER) && v->nuses == 0 && !(v->flags & IR_VALUE_OUTPUT))
            continue;
        params += v->init->numel;
        pbytes += (int64_t)v->init->nbytes;
    }
    fprintf(f, "=== onnxc stats ===\n");
    fprintf(f, "nodes: %d\n", g->nnodes);
    if (oc) {
        qsort(oc, (size_t)noc, sizeof *oc, cmp_opcount);
        for (int i = 0; i < noc; i++)
            fprintf(f, "  %-24s %d\n", oc[i].op, oc[i].count);
    }
    fprintf(f, "parameters: %lld elements (%lld bytes)\n", (long long)params, (long long)pbytes);
    fprintf(f, "flops: %lld (MatMul, Gemm, Conv; 2 per multiply-add)\n", (long long)flops);
    if (m->workspace_bytes >= 0)
        fprintf(f, "workspace: %lld bytes planned, %lld bytes without reuse (%.1f%%)\n",
                (long long)m->workspace_bytes, (long long)m->naive_bytes,
                m->naive_bytes > 0 ? 100.0 * (double)m->workspace_bytes / (double)m->naive_bytes
                                   : 100.0);
    fprintf(f, "rules fired:%s\n", cx->nrules ? "" : " none");
    for (int i = 0; i < cx->nrules; i++)
        fprintf(f, "  %-32s %lld\n", cx->rules[i].name, (long long)cx->rules[i].count);
    fflush(f);
    free(oc);
}

/* ------------------------------------------------------------------ rewrite helpers */

int pm_node_dead(const IrGraph *g, const IrNode *n) {
    return !n->prev && !n->next && g->first != n;
}

int pm_bypass_node(IrGraph *g, IrNode *n, IrValue *keep) {
    IrValue *out = n->nout > 0 ? n->out[0] : NULL;
    if (!out || !keep || out == keep)
        return 0;
    if (!(out->flags & IR_VALUE_OUTPUT)) {
        ir_value_replace_uses(g, out, keep);
        ir_node_remove(g, n);
        return 1;
    }
    /* out is a graph output: keep its name by making keep's producer write it. */
    IrNode *p = keep->producer;
    if (!p || p == n || keep->init ||
        (keep->flags & (IR_VALUE_INPUT | IR_VALUE_OUTPUT | IR_VALUE_INITIALIZER)))
        return 0;
    ir_node_remove(g, n);
    ir_value_replace_uses(g, keep, out);
    int k = keep->producer_out;
    p->out[k] = out;
    out->producer = p;
    out->producer_out = k;
    keep->producer = NULL;
    return 1;
}

IrValue *pm_new_const(IrGraph *g, const char *base, IrDType dt, int rank, const int64_t *dims) {
    const char *nm = ir_graph_unique_name(g, base);
    if (!nm)
        return NULL;
    IrValue *v = ir_value_new(g, nm);
    if (!v)
        return NULL;
    v->init = ir_tensor_new(g->arena, dt, rank, dims);
    if (!v->init || ir_type_set_tensor(g->arena, &v->type, dt, rank, dims) != 0)
        return NULL;
    v->init->name = v->name;
    return v;
}

const char *pm_join_names(IrGraph *g, const char *a, const char *b) {
    size_t la = strlen(a ? a : ""), lb = strlen(b ? b : "");
    char *s = ir_arena_alloc(g->arena, la + lb + 2);
    if (!s)
        return a;
    memcpy(s, a ? a : "", la);
    s[la] = '+';
    memcpy(s + la + 1, b ? b : "", lb);
    s[la + lb + 1] = 0;
    return s;
}

int pm_graph_has_subgraphs(const IrGraph *g) {
    for (const IrNode *n = g->first; n; n = n->next)
        for (int i = 0; i < n->nattr; i++)
            if (n->attrs[i].kind == IR_ATTR_GRAPH || n->attrs[i].kind == IR_ATTR_GRAPHS)
                return 1;
    return 0;
}
