/* op_ctrl.h - helpers shared by the ctrl family (ops/op_ctrl.c: If, Loop, Scan) and the seq family
 * (ops/op_seq.c: sequences and optionals). Both resolve control flow and non-tensor values at
 * compile time by rewriting the graph during inference (docs/CONTROL_FLOW.md); the functions
 * here build the small tensor nodes those rewrites are made of. Every new node is inserted
 * before `before` in `before`'s graph; every new value gets a fresh unique name derived from
 * `base`. All return NULL (or -1) with a diagnostic on `ctx`'s behalf when out of memory. */
#ifndef ONNXC_OP_CTRL_H
#define ONNXC_OP_CTRL_H

#include "ops/op.h"

/* Cap on the number of iterations unrolled / sequence elements tracked at compile time. */
#define CTRL_MAX_UNROLL 4096

/* Opset for a node the rewrites create: the model's default-domain opset (so the written model
 * says what the node means), at least `min` (the version whose semantics the rewrite uses). */
int ctrl_opset(const IrGraph *g, int min);
/* A new constant int64 tensor value (rank 0 when rank == 0, else 1-D of n values). */
IrValue *ctrl_const_i64(IrGraph *g, const char *base, const int64_t *v, int n, int rank);
/* A new constant bool scalar. */
IrValue *ctrl_const_bool(IrGraph *g, const char *base, int v);
/* A node `op_type` (default domain, opset given) with inputs `in` and one new output value;
 * returns the output. */
IrValue *ctrl_node1(IrNode *before, const char *name, const char *op_type, int opset, int nin,
                    IrValue **in, const char *base);
/* Gather(x, scalar index, axis) / Unsqueeze(x, [axis]) / Concat(xs, axis) / Identity(x). */
IrValue *ctrl_gather(IrNode *before, IrValue *x, int64_t idx, int64_t axis);
IrValue *ctrl_unsqueeze(IrNode *before, IrValue *x, int64_t axis);
IrValue *ctrl_concat(IrNode *before, IrValue **xs, int n, int64_t axis, const char *base);
/* Stacks xs along a new axis `axis` (Unsqueeze each, then Concat). */
IrValue *ctrl_stack(IrNode *before, IrValue **xs, int n, int64_t axis, const char *base);

/* Copies body (a subgraph of `before`'s graph) in front of `before`: body input k reads
 * bind[k], outer references read the enclosing values, constants are copied. With move != 0 the
 * subgraphs of body nodes are moved (the body must not be copied again); with move == 0 a body
 * containing subgraphs is refused. outs[k] receives the value of body output k. `tag` is
 * prefixed to node names. Returns 0 or -1 with a diagnostic naming `ctx`. */
int ctrl_clone_body(IrNode *before, IrGraph *body, IrValue **bind, int nbind, int move,
                    const char *tag, IrValue **outs, IrNode *ctx, IrDiag *d);
/* 1 if some node of body has a graph attribute. */
int ctrl_has_subgraphs(const IrGraph *body);
/* Replaces node n by `repl` (one value per output of n): each present output o of n becomes the
 * output of Identity(repl[i]) (names and graph-output positions kept), then n is removed.
 * *next = the first node that now stands where n's rewrite began (first_new if non-NULL). */
int ctrl_replace_node(IrNode *n, IrValue **repl, IrNode *prev, IrNode **next, IrDiag *d);

/* Static sequence resolution (ops/op_seq.c): the elements of sequence value s when its producers
 * (SequenceConstruct/Empty/Insert/Erase, Identity, ...) are resolvable at compile time; returns
 * the count (elements in *out, arena array of g) or -1 when unknown. */
int seq_static_elems(IrGraph *g, IrValue *s, IrValue ***out);
/* Optional value: 1 present (*elem = the contained value), 0 empty, -1 unknown at compile time. */
int seq_static_optional(IrValue *v, IrValue **elem);

/* Expansion entry points of the families (called through op_expand_node). */
int ctrl_expand(IrNode *n, IrNode **next, IrDiag *d);
int seq_expand(IrNode *n, IrNode **next, IrDiag *d);

#endif
