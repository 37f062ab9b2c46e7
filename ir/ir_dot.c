/* ir_dot.c - Graphviz (dot) picture of a model's main graph (ir_print_dot).
 *
 * What is drawn (the language is Graphviz's DOT, graphviz.org/doc/info/lang.html):
 *  - every node as a rounded box labelled "[domain.]OpType" and its name; a fused node (name
 *    joining the originals with '+', e.g. "conv1+relu1", or an op of domain ai.onnxc) is filled
 *    orange with a double border, labelled "fused", and drawn inside its own cluster
 *    (`subgraph cluster_g<G>_f<N>`) together with a note listing the original nodes it replaced,
 *    one line each, "name: OpType" when the op type is known (FusedElementwise's `ops`
 *    attribute; the base op and the `activation` of FusedConv/FusedGemm/FusedMatMul; names
 *    only for a standard op with a joined name, e.g. Gemm from MatMul + Add);
 *  - graph inputs as blue ellipses, graph outputs as green ellipses;
 *  - initializers and folded constants as small grey boxes (with their values when they have at
 *    most DOT_SMALL_ELEMS elements); larger ones are folded into their consumers' labels
 *    ("name: type") unless `full` is set;
 *  - edges labelled with the type of the value they carry (element type and shape);
 *  - subgraphs (If/Loop/Scan bodies) as clusters next to their node, joined to it by a dashed
 *    edge; a value a subgraph reads from an enclosing graph is a dotted edge from where that
 *    value is defined.
 * Output is deterministic (list order everywhere); names are escaped for DOT strings.
 */
#include "ir/ir.h"

#include <stdio.h>
#include <string.h>

/* Constants up to this many elements are drawn as boxes showing their values. */
#define DOT_SMALL_ELEMS 8
/* Longest name shown in a label (longer names are shortened with "..."). */
#define DOT_MAX_NAME 48
/* Folded initializers listed in one node label at most. */
#define DOT_MAX_FOLDED 6

typedef struct Dot {
    FILE *f;
    int full;              /* 1: every constant gets its own box */
    int ngraphs;           /* graphs numbered so far (cluster and node-id prefix) */
    int err;               /* too deep / malformed */
    const IrGraph *chain[IR_MAX_SUBGRAPH_DEPTH + 1]; /* enclosing graphs of the current one */
    int chain_id[IR_MAX_SUBGRAPH_DEPTH + 1];         /* their numbers */
} Dot;

/* Writes s into a DOT double-quoted string (without the quotes), shortened to `max` bytes. */
static void dot_text(Dot *D, const char *s, size_t max) {
    if (!s)
        return;
    size_t n = strlen(s);
    int cut = n > max;
    if (cut)
        n = max;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(D->f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", D->f);
        else if (c < 0x20 || c >= 0x7f)
            fputc('?', D->f); /* keep the file ASCII (labels must be valid UTF-8) */
        else
            fputc(c, D->f);
    }
    if (cut)
        fputs("...", D->f);
}

static void dot_type(Dot *D, const IrType *t) {
    char buf[160];
    int n = ir_type_to_string(t, buf, sizeof buf);
    if (n < 0)
        fputs("?", D->f);
    else
        dot_text(D, buf, sizeof buf - 1);
}

/* A constant drawn as a box or folded: an initializer (also one listed among the inputs, as IR
 * version 3 models do) or a folded value. */
static int is_const_value(const IrValue *v) {
    return v->init && !v->producer && !(v->flags & IR_VALUE_OUTER);
}

/* 1 if constant v is folded into its consumers' labels instead of having a box. */
static int is_folded(const Dot *D, const IrValue *v) {
    return !D->full && is_const_value(v) && v->init && v->init->numel > DOT_SMALL_ELEMS &&
           !(v->flags & IR_VALUE_OUTPUT);
}

/* The values of a small constant, for its box ("[1, 2, 3]"). */
static void dot_small_values(Dot *D, const IrTensor *t) {
    if (!t || t->numel > DOT_SMALL_ELEMS || t->numel < 0 || (t->numel && !t->data))
        return;
    fputs("\\n[", D->f);
    for (int64_t i = 0; i < t->numel; i++) {
        char b[48];
        const unsigned char *p = (const unsigned char *)t->data;
        b[0] = 0;
        switch (t->dtype) {
        case IR_DT_FLOAT: { float x; memcpy(&x, p + i * 4, 4); snprintf(b, sizeof b, "%g", (double)x); break; }
        case IR_DT_DOUBLE: { double x; memcpy(&x, p + i * 8, 8); snprintf(b, sizeof b, "%g", x); break; }
        case IR_DT_INT64: { int64_t x; memcpy(&x, p + i * 8, 8); snprintf(b, sizeof b, "%lld", (long long)x); break; }
        case IR_DT_INT32: { int32_t x; memcpy(&x, p + i * 4, 4); snprintf(b, sizeof b, "%d", (int)x); break; }
        case IR_DT_INT8: case IR_DT_INT4: case IR_DT_INT2:
            snprintf(b, sizeof b, "%d", (int)(int8_t)p[i]); break;
        case IR_DT_UINT8: case IR_DT_BOOL: case IR_DT_UINT4: case IR_DT_UINT2:
            snprintf(b, sizeof b, "%u", (unsigned)p[i]); break;
        default:
            snprintf(b, sizeof b, "..."); i = t->numel; break;
        }
        fprintf(D->f, "%s%s", i ? ", " : "", b);
    }
    fputs("]", D->f);
}

/* DOT id of the place where value v (of the graph at chain level `level`) comes from, into buf;
 * 0 if it has none (undefined, or a folded constant). */
static int value_source(const Dot *D, const IrValue *v, int level, char *buf, size_t cap) {
    for (int k = 0; v && (v->flags & IR_VALUE_OUTER); k++) {
        if (!v->outer || level == 0 || k > IR_MAX_SUBGRAPH_DEPTH)
            return 0;
        v = v->outer; /* the enclosing graph's value */
        level--;
    }
    if (!v)
        return 0;
    int gid = D->chain_id[level];
    if (v->producer)
        snprintf(buf, cap, "g%d_n%d", gid, v->producer->id);
    else if (is_const_value(v) ? !is_folded(D, v) : (v->flags & IR_VALUE_INPUT) != 0)
        snprintf(buf, cap, "g%d_v%d", gid, v->id);
    else
        return 0;
    return 1;
}

static void dot_graph_body(Dot *D, const IrGraph *g, int level, int indent);

static void dot_indent(Dot *D, int n) { fprintf(D->f, "%*s", n, ""); }

/* 1 if n is a fused node: its name joins the originals with '+' or its op is onnxc's own. */
static int is_fused(const IrNode *n) {
    return (n->name && strchr(n->name, '+') != NULL) ||
           (n->domain && strcmp(n->domain, "ai.onnxc") == 0);
}

/* Number of sep-separated parts of s (at least 1). */
static int count_parts(const char *s, char sep) {
    int k = 1;
    for (; s && *s; s++)
        k += *s == sep;
    return k;
}

/* Writes part `i` of the '+'- (or ','-) separated list s. */
static void dot_part(Dot *D, const char *s, char sep, int i) {
    for (; s && i > 0; s++) {
        if (!*s)
            return;
        i -= *s == sep;
    }
    if (!s)
        return;
    const char *e = strchr(s, sep);
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char buf[DOT_MAX_NAME + 1];
    if (n > DOT_MAX_NAME)
        n = DOT_MAX_NAME;
    memcpy(buf, s, n);
    buf[n] = 0;
    dot_text(D, buf, DOT_MAX_NAME);
}

/* Most original nodes listed in the note of one fused node. */
#define DOT_MAX_PARTS 32

/* The note of fused node n: one line per original node ("name: OpType" when known). */
static void dot_fused_parts(Dot *D, const IrNode *n, int gid, int indent) {
    const char *name = n->name && n->name[0] ? n->name : NULL;
    int nparts = name ? count_parts(name, '+') : 1;
    const char *ops = NULL; /* FusedElementwise: op types of the parts, in order */
    const char *act = NULL; /* FusedConv/Gemm/MatMul: the activation of the last part */
    const char *base = NULL; /* FusedConv/Gemm/MatMul: the op of the first part */
    const IrAttr *a = ir_node_attr(n, "ops");
    if (a && a->kind == IR_ATTR_STRING && a->s.data) {
        ops = a->s.data;
        if (count_parts(ops, ',') != nparts)
            ops = NULL; /* a part's name had a '+' of its own: names only */
    }
    /* a standard op with a joined name (Gemm from MatMul + Add, Conv with a folded
     * BatchNormalization): the originals' types are not recorded, names only */
    if (!ops && n->domain && strcmp(n->domain, "ai.onnxc") == 0 &&
        strncmp(n->op_type, "Fused", 5) == 0 && strcmp(n->op_type, "FusedElementwise") != 0) {
        base = n->op_type + 5; /* FusedConv: Conv, then the activation */
        const IrAttr *ac = ir_node_attr(n, "activation");
        if (ac && ac->kind == IR_ATTR_STRING && ac->s.data)
            act = ac->s.data;
    }
    dot_indent(D, indent);
    fprintf(D->f, "g%d_n%d_parts [label=\"replaces %d node%s:\\l", gid, n->id, nparts,
            nparts == 1 ? "" : "s");
    for (int i = 0; i < nparts && i < DOT_MAX_PARTS; i++) {
        if (name)
            dot_part(D, name, '+', i);
        else
            fputs("(unnamed)", D->f);
        if (ops) {
            fputs(": ", D->f);
            dot_part(D, ops, ',', i);
        } else if (i == 0 && nparts > 1 && base) {
            fputs(": ", D->f);
            dot_text(D, base, DOT_MAX_NAME);
        } else if (i == nparts - 1 && nparts > 1 && act) {
            fputs(": ", D->f);
            dot_text(D, act, DOT_MAX_NAME);
        }
        fputs("\\l", D->f);
    }
    if (nparts > DOT_MAX_PARTS)
        fprintf(D->f, "(+%d more)\\l", nparts - DOT_MAX_PARTS);
    fputs("\", shape=note, fontsize=8, style=filled, fillcolor=\"#fff8ee\", color=\"#e0a050\"];\n",
          D->f);
}

/* A node, its incoming edges, and clusters for its subgraphs. A fused node and the note listing
 * its original nodes go into a cluster of their own; the edges are written after the cluster is
 * closed (an edge inside a subgraph would pull its source node into the cluster). */
static void dot_node(Dot *D, const IrNode *n, int level, int indent) {
    int gid = D->chain_id[level];
    int fused = is_fused(n);
    int outer_indent = indent;
    if (fused) {
        dot_indent(D, indent);
        fprintf(D->f, "subgraph cluster_g%d_f%d {\n", gid, n->id);
        indent += 2;
        dot_indent(D, indent);
        fputs("label=\"fused ", D->f);
        dot_text(D, n->op_type, DOT_MAX_NAME);
        fputs("\"; style=\"rounded,filled\"; fillcolor=\"#fff3e0\"; color=\"#e08000\"; "
              "fontsize=9;\n", D->f);
    }
    dot_indent(D, indent);
    fprintf(D->f, "g%d_n%d [label=\"", gid, n->id);
    if (fused)
        fputs("fused: ", D->f);
    if (n->domain && n->domain[0]) {
        dot_text(D, n->domain, DOT_MAX_NAME);
        fputc('.', D->f);
    }
    dot_text(D, n->op_type, DOT_MAX_NAME);
    if (n->name && n->name[0]) {
        fputs("\\n", D->f);
        dot_text(D, n->name, DOT_MAX_NAME);
    }
    int folded = 0;
    for (int i = 0; i < n->nin; i++) {
        const IrValue *v = n->in[i];
        if (!v || !is_folded(D, v))
            continue;
        if (folded++ == DOT_MAX_FOLDED)
            continue;
        fputs("\\n", D->f);
        dot_text(D, v->name, DOT_MAX_NAME);
        fputs(": ", D->f);
        dot_type(D, &v->type);
    }
    if (folded > DOT_MAX_FOLDED)
        fprintf(D->f, "\\n(+%d more constants)", folded - DOT_MAX_FOLDED);
    fprintf(D->f, "\", shape=box, style=\"rounded,filled\", fillcolor=\"%s\"%s];\n",
            fused ? "#ffcc80" : "#ffffff", fused ? ", peripheries=2, penwidth=1.5" : "");
    if (fused) {
        dot_fused_parts(D, n, gid, indent);
        dot_indent(D, indent);
        fprintf(D->f, "g%d_n%d_parts -> g%d_n%d [style=invis];\n", gid, n->id, gid, n->id);
        indent = outer_indent;
        dot_indent(D, indent);
        fputs("}\n", D->f);
    }
    /* incoming edges */
    for (int i = 0; i < n->nin; i++) {
        const IrValue *v = n->in[i];
        char src[64];
        if (!v || !value_source(D, v, level, src, sizeof src))
            continue;
        dot_indent(D, indent);
        fprintf(D->f, "%s -> g%d_n%d [label=\"", src, gid, n->id);
        if (v->type.kind != IR_TYPE_UNKNOWN)
            dot_type(D, &v->type);
        fprintf(D->f, "\"%s];\n", (v->flags & IR_VALUE_OUTER) ? ", style=dotted" : "");
    }
    /* subgraphs */
    for (int k = 0; k < n->nattr && !D->err; k++) {
        const IrAttr *a = &n->attrs[k];
        int cnt = a->kind == IR_ATTR_GRAPH ? 1 : a->kind == IR_ATTR_GRAPHS ? a->n : 0;
        for (int j = 0; j < cnt && !D->err; j++) {
            const IrGraph *sg = a->kind == IR_ATTR_GRAPH ? a->g : (a->graphs ? a->graphs[j] : NULL);
            if (!sg)
                continue;
            if (level + 1 >= IR_MAX_SUBGRAPH_DEPTH) {
                D->err = 1;
                return;
            }
            int sid = ++D->ngraphs;
            D->chain[level + 1] = sg;
            D->chain_id[level + 1] = sid;
            dot_indent(D, indent);
            fprintf(D->f, "subgraph cluster_g%d {\n", sid);
            dot_indent(D, indent + 2);
            fputs("label=\"", D->f);
            dot_text(D, n->op_type, DOT_MAX_NAME);
            if (n->name && n->name[0]) {
                fputs(" '", D->f);
                dot_text(D, n->name, DOT_MAX_NAME);
                fputs("'", D->f);
            }
            fputs(" ", D->f);
            dot_text(D, a->name, DOT_MAX_NAME);
            if (a->kind == IR_ATTR_GRAPHS)
                fprintf(D->f, "[%d]", j);
            fputs("\";\n", D->f);
            dot_indent(D, indent + 2);
            fputs("style=\"rounded,dashed\"; color=\"#888888\"; fontsize=10;\n", D->f);
            dot_indent(D, indent + 2);
            fprintf(D->f, "g%d_anchor [shape=point, style=invis, width=0];\n", sid);
            dot_graph_body(D, sg, level + 1, indent + 2);
            dot_indent(D, indent);
            fputs("}\n", D->f);
            dot_indent(D, indent);
            fprintf(D->f, "g%d_n%d -> g%d_anchor [lhead=cluster_g%d, style=dashed, arrowhead=odiamond, "
                    "label=\"", gid, n->id, sid, sid);
            dot_text(D, a->name, DOT_MAX_NAME);
            fputs("\"];\n", D->f);
        }
    }
}

/* Inputs, constants, nodes and outputs of g (chain level `level`). */
static void dot_graph_body(Dot *D, const IrGraph *g, int level, int indent) {
    int gid = D->chain_id[level];
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->inputs[i];
        if (is_const_value(v))
            continue; /* an initializer listed as an input: drawn as a constant below */
        dot_indent(D, indent);
        fprintf(D->f, "g%d_v%d [label=\"", gid, v->id);
        dot_text(D, v->name, DOT_MAX_NAME);
        fputs("\\n", D->f);
        dot_type(D, &v->type);
        fputs("\", shape=ellipse, style=filled, fillcolor=\"#cfe2ff\"];\n", D->f);
    }
    for (int i = 0; i < g->nvalues; i++) {
        const IrValue *v = g->values[i];
        if (!v || !is_const_value(v) || is_folded(D, v))
            continue;
        dot_indent(D, indent);
        fprintf(D->f, "g%d_v%d [label=\"", gid, v->id);
        dot_text(D, v->name, DOT_MAX_NAME);
        fputs("\\n", D->f);
        dot_type(D, &v->type);
        dot_small_values(D, v->init);
        fputs("\", shape=box, fontsize=8, height=0.2, style=filled, fillcolor=\"#eeeeee\", "
              "color=\"#999999\"];\n", D->f);
    }
    int64_t guard = (int64_t)g->nnodes + 1;
    for (const IrNode *n = g->first; n && !D->err; n = n->next) {
        if (guard-- <= 0) {
            D->err = 1;
            return;
        }
        dot_node(D, n, level, indent);
    }
    for (int i = 0; i < g->noutputs && !D->err; i++) {
        const IrValue *v = g->outputs[i];
        dot_indent(D, indent);
        fprintf(D->f, "g%d_out%d [label=\"", gid, i);
        dot_text(D, v->name, DOT_MAX_NAME);
        fputs("\\n", D->f);
        dot_type(D, &v->type);
        fputs("\", shape=ellipse, style=filled, fillcolor=\"#d1f2d1\"];\n", D->f);
        char src[64];
        if (value_source(D, v, level, src, sizeof src)) {
            dot_indent(D, indent);
            fprintf(D->f, "%s -> g%d_out%d [label=\"", src, gid, i);
            if (v->type.kind != IR_TYPE_UNKNOWN)
                dot_type(D, &v->type);
            fputs("\"];\n", D->f);
        }
    }
}

int ir_print_dot(const IrModel *m, void *file, int full) {
    if (!m || !m->graph || !file)
        return -1;
    Dot D = {.f = file, .full = full};
    const IrGraph *g = m->graph;
    D.chain[0] = g;
    D.chain_id[0] = 0;
    fputs("digraph \"", D.f);
    dot_text(&D, g->name, DOT_MAX_NAME);
    fputs("\" {\n", D.f);
    fputs("  graph [rankdir=TB, compound=true, fontname=\"Helvetica\", fontsize=11, label=\"", D.f);
    dot_text(&D, g->name, DOT_MAX_NAME);
    if (m->producer_name && m->producer_name[0]) {
        fputs(" (", D.f);
        dot_text(&D, m->producer_name, DOT_MAX_NAME);
        fputs(")", D.f);
    }
    fputs("\", labelloc=t];\n", D.f);
    fputs("  node [fontname=\"Helvetica\", fontsize=10];\n", D.f);
    fputs("  edge [fontname=\"Helvetica\", fontsize=8, color=\"#555555\"];\n", D.f);
    dot_graph_body(&D, g, 0, 2);
    if (D.err)
        fputs("  too_deep [label=\"<subgraphs nested too deep or node list corrupt>\", shape=note];\n", D.f);
    fputs("}\n", D.f);
    return (D.err || ferror((FILE *)file)) ? -1 : 0;
}
