/* pass_manager.h - the optimisation pass manager: a registry of IR-to-IR passes, the pipeline
 * of each optimisation level as a readable list of names, and the instruments (print before /
 * after, print-changed, verify-each, disable-pass, time-passes, stats), which the manager
 * implements so that no pass has to.
 *
 * A pass is a record (PassInfo) in the registry of passes/pass_manager.c:
 *   run(m, cx)   rewrites m->graph; returns the number of changes it made (0 = untouched), or
 *                -1 after recording an error in cx->d. A pass keeps graph output names, gives
 *                fused nodes joined provenance names ("conv1+bn1") and leaves the types of the
 *                values it creates set; the manager re-runs type inference after a pass that
 *                changed something, before the next pass that needs types.
 *
 * Pipelines (pm_pipeline_for_level):
 *   -O0  none
 *   -O1  fold, dce
 *   -O2  simplify, fold, matmul_add, bn_fold, simplify, cse, fold, dce
 *   -O3  -O2 without the last dce, then fuse_patterns, fuse_epilogue, fuse_elementwise, dce
 *
 * Instruments read from OnnxcCompileOptions (passes/pass.h): print_before / print_after (a pass
 * name or "all"), print_changed, verify_each, disable_pass (comma-separated names),
 * time_passes, stats, passes (a custom comma-separated pipeline). Their text goes to
 * o->pass_out (a FILE*), or stderr when NULL.
 *
 * Nothing here exits or aborts: errors go to the IrDiag.
 */
#ifndef ONNXC_PASS_MANAGER_H
#define ONNXC_PASS_MANAGER_H

#include "ir/ir.h"
#include "passes/pass.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pass requirements (PassInfo.req). */
enum {
    PASS_NEEDS_TYPES = 1 << 0, /* every value's type inferred (re-inferred if a pass changed it) */
    PASS_NEEDS_STATIC = 1 << 1 /* the pass only acts on static shapes (informational) */
};

typedef struct PassCtx PassCtx;

typedef int (*PassRunFn)(IrModel *m, PassCtx *cx);

/* One registered pass. */
typedef struct PassInfo {
    const char *name; /* name used in pipelines and instrument options */
    const char *desc; /* one line for --help-passes and docs */
    PassRunFn run;    /* the pass */
    unsigned req;     /* PASS_NEEDS_* */
} PassInfo;

#define PM_MAX_RULES 64        /* distinct rewrite-rule counters per context */
#define PM_MAX_EXTRA_PASSES 8  /* passes registered at run time (tests) per context */
#define PM_MAX_PASS_STATS 32   /* distinct passes timed per context */

/* How often one rewrite rule fired (for --stats). */
typedef struct PassRuleCount {
    const char *name; /* "simplify.identity" (static string) */
    int64_t count;    /* times fired */
} PassRuleCount;

/* Time and changes of one pass over the pipeline (for --time-passes). */
typedef struct PassTime {
    const char *name; /* pass name (static string of its PassInfo) */
    int runs;         /* times run */
    int64_t changes;  /* sum of the run function's results */
    double seconds;   /* wall-clock time in the run function */
} PassTime;

/* State of one pipeline run: options, diagnostics, counters. Lives on the caller's stack
 * (pm_ctx_init / pm_ctx_free); nothing is global, so two threads can compile at once. */
struct PassCtx {
    const OnnxcCompileOptions *o; /* options (instruments); may be NULL */
    IrDiag *d;                    /* diagnostics sink */
    void *out;                    /* FILE* for instrument output */
    const char *pass;             /* name of the running pass (NULL between passes) */
    int types_dirty;              /* a pass changed the graph since the last inference */
    int nrules;
    PassRuleCount rules[PM_MAX_RULES];
    int nextra;
    PassInfo extra[PM_MAX_EXTRA_PASSES]; /* passes added with pm_ctx_add_pass */
    int ntimes;
    PassTime times[PM_MAX_PASS_STATS];
    int64_t fold_cap_bytes;       /* largest tensor constant folding may create (64 MiB) */
};

void pm_ctx_init(PassCtx *cx, const OnnxcCompileOptions *o, IrDiag *d);
void pm_ctx_free(PassCtx *cx);
/* Registers an extra pass in this context only (e.g. a test's deliberately broken pass); it
 * takes precedence over a built-in pass of the same name. Returns 0 or -1 when full. */
int pm_ctx_add_pass(PassCtx *cx, const PassInfo *p);

/* Built-in registry. */
int pm_num_passes(void);
const PassInfo *pm_pass_at(int i);
/* Looks up a pass by name (the context's extra passes first); NULL if unknown. */
const PassInfo *pm_find_pass(const PassCtx *cx, const char *name);
/* The pipeline of an -O level as a comma-separated list of pass names ("" for -O0). */
const char *pm_pipeline_for_level(int level);

/* Runs a comma-separated pipeline over m with the instruments of cx->o. Returns the total
 * number of changes, or -1 on error (unknown pass name, a pass failed, verify-each or
 * re-inference found errors). The graph's types are up to date on return. */
int pm_run_pipeline(IrModel *m, PassCtx *cx, const char *pipeline);
/* Runs the pipeline the options ask for (o->passes, else o->opt_level's). */
int pm_run_default(IrModel *m, PassCtx *cx);

/* Prints what --time-passes and --stats report (the latter after planning, to include the
 * workspace). Each does nothing unless its option is set. */
void pm_print_times(const PassCtx *cx);
void pm_print_stats(const IrModel *m, const PassCtx *cx);

/* ------------------------------------------------------------------ helpers for passes */

/* Counts one firing of rule `name` (a static string, e.g. "simplify.identity"). */
void pm_count_rule(PassCtx *cx, const char *name);
/* Count of a rule so far (0 if it never fired). */
int64_t pm_rule_count(const PassCtx *cx, const char *name);

/* Estimated floating-point operations of one node (MatMul, Gemm, Conv: 2 per multiply-add;
 * 0 for other ops or non-static shapes). */
int64_t pm_node_flops(const IrNode *n);

/* 1 if node n was removed from its graph (unlinked). */
int pm_node_dead(const IrGraph *g, const IrNode *n);
/* Removes node n, whose output 0 computes the same tensor (same type) as value `keep`: every
 * use of n->out[0] then reads `keep`. When n->out[0] is a graph output its name is kept: the
 * producer of `keep` is made to write it instead (only when `keep` is an intermediate;
 * otherwise nothing changes). Returns 1 if n was removed, 0 if not. */
int pm_bypass_node(IrGraph *g, IrNode *n, IrValue *keep);
/* A new constant value (init set, no producer, type set) named after base (made unique) in g,
 * holding a zeroed tensor of dtype and dims; NULL on OOM or limit. */
IrValue *pm_new_const(IrGraph *g, const char *base, IrDType dt, int rank, const int64_t *dims);
/* "a+b" in g's arena (provenance name of a fused node). */
const char *pm_join_names(IrGraph *g, const char *a, const char *b);
/* 1 if g or any node's attributes hold subgraphs (rewrites then stay away from the graph,
 * since subgraph nodes may read its values directly). */
int pm_graph_has_subgraphs(const IrGraph *g);

/* The passes (one file each: passes/pass_<name>.c). */
int pass_fold_run(IrModel *m, PassCtx *cx);
int pass_dce_run(IrModel *m, PassCtx *cx);
int pass_cse_run(IrModel *m, PassCtx *cx);
int pass_simplify_run(IrModel *m, PassCtx *cx);
int pass_bn_fold_run(IrModel *m, PassCtx *cx);
int pass_matmul_add_run(IrModel *m, PassCtx *cx);
int pass_fuse_patterns_run(IrModel *m, PassCtx *cx);
int pass_fuse_epilogue_run(IrModel *m, PassCtx *cx);
int pass_fuse_elementwise_run(IrModel *m, PassCtx *cx);
/* Adds ("ai.onnxc", 1), the domain of the fused ops, to m's opset imports if missing; 0/-1. */
int pm_ensure_fused_opset(IrModel *m);

#ifdef __cplusplus
}
#endif
#endif
