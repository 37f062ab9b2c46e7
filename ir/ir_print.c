/* ir_print.c - the IR text format printer (ir_print_model, ir_print_graph, ir_type_to_string).
 *
 * The format is specified in docs/IR_FORMAT.md; this file is its reference printer. Design
 * points that the code below must keep:
 *  - Deterministic: everything is printed in list order (graph inputs, initializers, nodes,
 *    outputs, attributes as stored); no pointer values, no hash-table order, no locale-dependent
 *    text other than the C locale's decimal point.
 *  - Parseable: names that are not plain identifiers are quoted with a fixed set of escapes;
 *    floats are printed so that they round-trip (%.9g for f32, %.17g for f64); half and 8-bit
 *    float types are printed as hex bit patterns.
 *  - Bounded: subgraph nesting and nested types are printed with a depth cap, so a hostile model
 *    cannot exhaust the stack through the printer.
 */
#include "ir/ir.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Nested types (seq(seq(...))) deeper than this are refused. */
#define TYPE_MAX_DEPTH 32
/* Constants with more elements than this are summarised unless printing in full. */
#define SUMMARY_MAX_ELEMS 8
/* Number of leading elements shown in a summary. */
#define SUMMARY_HEAD 4

/* ------------------------------------------------------------------ output sink */

/* Where text goes: a FILE, or a bounded buffer (for ir_type_to_string). */
typedef struct Out {
    FILE *f;    /* destination file, or NULL to write into buf */
    char *buf;  /* buffer mode: destination (may be NULL when cap == 0) */
    size_t cap; /* buffer mode: bytes available at buf, including the terminating NUL */
    size_t len; /* characters produced so far (also counted past cap in buffer mode) */
    int err;    /* nonzero after an I/O error or a structure too deep/malformed to print */
} Out;

static void out_write(Out *o, const char *s, size_t n) {
    if (n == 0)
        return;
    if (o->f) {
        if (fwrite(s, 1, n, o->f) != n)
            o->err = 1;
    } else if (o->buf && o->len + 1 < o->cap) {
        size_t room = o->cap - 1 - o->len; /* keep one byte for the NUL */
        size_t k = n < room ? n : room;
        memcpy(o->buf + o->len, s, k);
        o->buf[o->len + k] = 0;
    }
    o->len += n;
}

static void out_puts(Out *o, const char *s) { out_write(o, s, strlen(s)); }

static void out_printf(Out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void out_printf(Out *o, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) {
        o->err = 1;
        return;
    }
    /* every caller prints numbers and short words: never longer than tmp */
    out_write(o, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static void out_indent(Out *o, int indent) {
    static const char spaces[] = "                                ";
    while (indent > 0) {
        int k = indent < 32 ? indent : 32;
        out_write(o, spaces, (size_t)k);
        indent -= k;
    }
}

/* ------------------------------------------------------------------ names and strings */

/* A quoted string: '"' bytes '"' with \\ \" \n \t \r and \xHH (exactly two hex digits) for
 * every other byte outside printable ASCII. */
static void out_quoted_n(Out *o, const char *s, size_t n) {
    out_write(o, "\"", 1);
    size_t run = 0; /* start of the current run of bytes printed as they are */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[5];
        if (c == '\\')
            esc = "\\\\";
        else if (c == '"')
            esc = "\\\"";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\r')
            esc = "\\r";
        else if (c < 0x20 || c >= 0x7f) {
            snprintf(hex, sizeof hex, "\\x%02x", c);
            esc = hex;
        }
        if (esc) {
            out_write(o, s + run, i - run);
            out_puts(o, esc);
            run = i + 1;
        }
    }
    out_write(o, s + run, n - run);
    out_write(o, "\"", 1);
}

static void out_quoted(Out *o, const char *s) {
    if (!s)
        s = "";
    out_quoted_n(o, s, strlen(s));
}

static int is_alpha_(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }

/* [A-Za-z_][A-Za-z0-9_]* */
static int is_ident(const char *s) {
    if (!s || !is_alpha_((unsigned char)s[0]))
        return 0;
    for (const char *p = s + 1; *p; p++)
        if (!is_alpha_((unsigned char)*p) && !is_digit((unsigned char)*p))
            return 0;
    return 1;
}

/* ident ('.' ident)* */
static int is_dotted_ident(const char *s) {
    if (!s || !s[0])
        return 0;
    int at_start = 1;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '.') {
            if (at_start)
                return 0;
            at_start = 1;
        } else if (at_start) {
            if (!is_alpha_(c))
                return 0;
            at_start = 0;
        } else if (!is_alpha_(c) && !is_digit(c)) {
            return 0;
        }
    }
    return !at_start;
}

/* Value names after '%': one or more of [A-Za-z0-9_./-] print bare. */
static int is_plain_value_name(const char *s) {
    if (!s || !s[0])
        return 0;
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!is_alpha_(c) && !is_digit(c) && c != '.' && c != '-' && c != '/')
            return 0;
    }
    return 1;
}

static void out_ident_or_quoted(Out *o, const char *s) {
    if (is_ident(s))
        out_puts(o, s);
    else
        out_quoted(o, s);
}

static void out_value_name(Out *o, const IrValue *v) {
    const char *s = v && v->name ? v->name : "";
    out_write(o, "%", 1);
    if (is_plain_value_name(s))
        out_puts(o, s);
    else
        out_quoted(o, s);
}

/* ------------------------------------------------------------------ types */

static void out_dims(Out *o, int rank, const IrDim *dims) {
    if (rank < 0) {
        out_puts(o, "[*]");
        return;
    }
    if (rank > IR_MAX_RANK) {
        out_printf(o, "[<bad rank %d>]", rank);
        o->err = 1;
        return;
    }
    out_write(o, "[", 1);
    for (int i = 0; i < rank; i++) {
        if (i)
            out_write(o, ",", 1);
        if (!dims)
            out_write(o, "?", 1);
        else if (dims[i].value >= 0)
            out_printf(o, "%lld", (long long)dims[i].value);
        else if (dims[i].sym)
            out_ident_or_quoted(o, dims[i].sym);
        else
            out_write(o, "?", 1);
    }
    out_write(o, "]", 1);
}

static void out_type(Out *o, const IrType *t, int depth) {
    if (!t) {
        out_write(o, "?", 1);
        return;
    }
    if (depth >= TYPE_MAX_DEPTH) {
        out_puts(o, "<too deep>");
        o->err = 1;
        return;
    }
    switch (t->kind) {
    case IR_TYPE_UNKNOWN:
        out_write(o, "?", 1);
        break;
    case IR_TYPE_TENSOR:
        out_puts(o, ir_dtype_name(t->dtype));
        out_dims(o, t->rank, t->dims);
        break;
    case IR_TYPE_SPARSE_TENSOR:
        out_puts(o, "sparse(");
        out_puts(o, ir_dtype_name(t->dtype));
        out_dims(o, t->rank, t->dims);
        out_write(o, ")", 1);
        break;
    case IR_TYPE_SEQUENCE:
        out_puts(o, "seq(");
        out_type(o, t->elem, depth + 1);
        out_write(o, ")", 1);
        break;
    case IR_TYPE_OPTIONAL:
        out_puts(o, "opt(");
        out_type(o, t->elem, depth + 1);
        out_write(o, ")", 1);
        break;
    case IR_TYPE_MAP:
        out_puts(o, "map(");
        out_puts(o, ir_dtype_name(t->dtype));
        out_write(o, ",", 1);
        out_type(o, t->elem, depth + 1);
        out_write(o, ")", 1);
        break;
    default:
        out_printf(o, "<bad type kind %d>", (int)t->kind);
        o->err = 1;
        break;
    }
}

int ir_type_to_string(const IrType *t, char *buf, size_t cap) {
    Out o = {0};
    o.buf = buf;
    o.cap = cap;
    if (buf && cap)
        buf[0] = 0;
    out_type(&o, t, 0);
    if (o.err)
        return -1;
    return o.len > (size_t)INT32_MAX ? -1 : (int)o.len;
}

/* ------------------------------------------------------------------ numbers and constants */

/* Appends ".0" when %g produced something that reads as an integer, so that a float never
 * looks like an int ("1" -> "1.0", "-0" -> "-0.0"; "1e+10" and "0.5" stay as they are). */
static void out_float_text(Out *o, const char *b) {
    out_puts(o, b);
    if (!strpbrk(b, ".eE"))
        out_puts(o, ".0");
}

static void out_f32(Out *o, float x) {
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    if (isnan(x)) {
        if (bits == 0x7fc00000u)
            out_puts(o, "nan");
        else
            out_printf(o, "nan:0x%08x", (unsigned)bits);
        return;
    }
    if (isinf(x)) {
        out_puts(o, x < 0 ? "-inf" : "inf");
        return;
    }
    char b[48];
    snprintf(b, sizeof b, "%.9g", (double)x);
    out_float_text(o, b);
}

static void out_f64(Out *o, double x) {
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    if (isnan(x)) {
        if (bits == 0x7ff8000000000000ull)
            out_puts(o, "nan");
        else
            out_printf(o, "nan:0x%016llx", (unsigned long long)bits);
        return;
    }
    if (isinf(x)) {
        out_puts(o, x < 0 ? "-inf" : "inf");
        return;
    }
    char b[48];
    snprintf(b, sizeof b, "%.17g", x);
    out_float_text(o, b);
}

/* Element i of a constant of type dt at data (onnxc in-memory layout, see ir/ir.h). */
static void out_elem(Out *o, IrDType dt, const void *data, int64_t i) {
    const unsigned char *p = (const unsigned char *)data + (size_t)i * ir_dtype_size(dt);
    switch (dt) {
    case IR_DT_FLOAT: {
        float x;
        memcpy(&x, p, 4);
        out_f32(o, x);
        break;
    }
    case IR_DT_DOUBLE: {
        double x;
        memcpy(&x, p, 8);
        out_f64(o, x);
        break;
    }
    case IR_DT_COMPLEX64: {
        float re, im;
        memcpy(&re, p, 4);
        memcpy(&im, p + 4, 4);
        out_write(o, "(", 1);
        out_f32(o, re);
        out_write(o, ",", 1);
        out_f32(o, im);
        out_write(o, ")", 1);
        break;
    }
    case IR_DT_COMPLEX128: {
        double re, im;
        memcpy(&re, p, 8);
        memcpy(&im, p + 8, 8);
        out_write(o, "(", 1);
        out_f64(o, re);
        out_write(o, ",", 1);
        out_f64(o, im);
        out_write(o, ")", 1);
        break;
    }
    case IR_DT_FLOAT16:
    case IR_DT_BFLOAT16: {
        uint16_t x;
        memcpy(&x, p, 2);
        out_printf(o, "0x%04x", (unsigned)x);
        break;
    }
    case IR_DT_FLOAT8E4M3FN:
    case IR_DT_FLOAT8E4M3FNUZ:
    case IR_DT_FLOAT8E5M2:
    case IR_DT_FLOAT8E5M2FNUZ:
    case IR_DT_FLOAT8E8M0:
    case IR_DT_FLOAT4E2M1:
        out_printf(o, "0x%02x", (unsigned)p[0]);
        break;
    case IR_DT_UINT8:
    case IR_DT_BOOL:
    case IR_DT_UINT4:
    case IR_DT_UINT2:
        out_printf(o, "%u", (unsigned)p[0]);
        break;
    case IR_DT_INT8:
    case IR_DT_INT4:
    case IR_DT_INT2:
        out_printf(o, "%d", (int)(int8_t)p[0]);
        break;
    case IR_DT_UINT16: {
        uint16_t x;
        memcpy(&x, p, 2);
        out_printf(o, "%u", (unsigned)x);
        break;
    }
    case IR_DT_INT16: {
        int16_t x;
        memcpy(&x, p, 2);
        out_printf(o, "%d", (int)x);
        break;
    }
    case IR_DT_UINT32: {
        uint32_t x;
        memcpy(&x, p, 4);
        out_printf(o, "%lu", (unsigned long)x);
        break;
    }
    case IR_DT_INT32: {
        int32_t x;
        memcpy(&x, p, 4);
        out_printf(o, "%ld", (long)x);
        break;
    }
    case IR_DT_UINT64: {
        uint64_t x;
        memcpy(&x, p, 8);
        out_printf(o, "%llu", (unsigned long long)x);
        break;
    }
    case IR_DT_INT64: {
        int64_t x;
        memcpy(&x, p, 8);
        out_printf(o, "%lld", (long long)x);
        break;
    }
    case IR_DT_STRING: {
        IrString s;
        memcpy(&s, p, sizeof s);
        out_quoted_n(o, s.data ? s.data : "", s.data ? s.len : 0);
        break;
    }
    default:
        out_write(o, "?", 1);
        o->err = 1;
        break;
    }
}

/* FNV-1a, 64 bit, over the constant's content: the in-memory bytes, or for STRING tensors each
 * element's length as 8 little-endian bytes followed by its bytes. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull; /* FNV-1a 64 prime */
    return h;
}

static uint64_t tensor_hash(const IrTensor *t) {
    uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a 64 offset basis */
    if (t->dtype != IR_DT_STRING)
        return fnv1a(h, t->data, t->nbytes);
    const IrString *s = t->data;
    for (int64_t i = 0; i < t->numel; i++) {
        unsigned char len[8];
        uint64_t l = s[i].data ? (uint64_t)s[i].len : 0;
        for (int k = 0; k < 8; k++)
            len[k] = (unsigned char)(l >> (8 * k));
        h = fnv1a(h, len, 8);
        if (l)
            h = fnv1a(h, s[i].data, (size_t)l);
    }
    return h;
}

/* 1 if t's own type (dtype, dims) is exactly the static tensor type vt. */
static int tensor_matches_type(const IrTensor *t, const IrType *vt) {
    if (!vt || vt->kind != IR_TYPE_TENSOR || vt->dtype != t->dtype || vt->rank != t->rank)
        return 0;
    for (int i = 0; i < t->rank; i++)
        if (!vt->dims || vt->dims[i].value != t->dims[i])
            return 0;
    return 1;
}

/* The tensor's own type, e.g. "f32[2,3]". */
static void out_tensor_type(Out *o, const IrTensor *t) {
    out_puts(o, ir_dtype_name(t->dtype));
    if (t->rank < 0 || t->rank > IR_MAX_RANK || (t->rank > 0 && !t->dims)) {
        out_printf(o, "[<bad rank %d>]", t->rank);
        o->err = 1;
        return;
    }
    out_write(o, "[", 1);
    for (int i = 0; i < t->rank; i++)
        out_printf(o, i ? ",%lld" : "%lld", (long long)t->dims[i]);
    out_write(o, "]", 1);
}

/* The data list: "[v0, v1, ...]" in full, or "[v0, v1, v2, v3, ... fnv1a64=HHHH]" when
 * summarised. "<no data>" if the payload is missing or inconsistent with numel. */
static void out_tensor_data(Out *o, const IrTensor *t, int full) {
    size_t es = ir_dtype_size(t->dtype);
    if (es == 0 || t->numel < 0 || (t->numel > 0 && !t->data) ||
        (uint64_t)t->numel > (uint64_t)(t->nbytes / es)) {
        out_puts(o, "<no data>");
        return;
    }
    int64_t shown = t->numel;
    int summary = !full && t->numel > SUMMARY_MAX_ELEMS;
    if (summary)
        shown = SUMMARY_HEAD;
    out_write(o, "[", 1);
    for (int64_t i = 0; i < shown && !o->err; i++) {
        if (i)
            out_puts(o, ", ");
        out_elem(o, t->dtype, t->data, i);
    }
    if (summary)
        out_printf(o, ", ... fnv1a64=%016llx", (unsigned long long)tensor_hash(t));
    out_write(o, "]", 1);
}

/* A constant after "= ": the data list, preceded by the tensor's own type when it is not
 * exactly `vt` (vt NULL: always). */
static void out_literal(Out *o, const IrTensor *t, const IrType *vt, int full) {
    if (!t) {
        out_puts(o, "<no data>");
        return;
    }
    if (!vt || !tensor_matches_type(t, vt)) {
        out_tensor_type(o, t);
        out_write(o, " ", 1);
    }
    out_tensor_data(o, t, full);
}

/* ------------------------------------------------------------------ graphs */

static void print_graph(Out *o, const IrGraph *g, int indent, int full, int depth,
                        const char *keyword, const char *fdomain);

static const char *attr_kind_name(IrAttrKind k) {
    switch (k) {
    case IR_ATTR_FLOAT: return "float";
    case IR_ATTR_INT: return "int";
    case IR_ATTR_STRING: return "string";
    case IR_ATTR_TENSOR: return "tensor";
    case IR_ATTR_GRAPH: return "graph";
    case IR_ATTR_FLOATS: return "floats";
    case IR_ATTR_INTS: return "ints";
    case IR_ATTR_STRINGS: return "strings";
    case IR_ATTR_TENSORS: return "tensors";
    case IR_ATTR_GRAPHS: return "graphs";
    case IR_ATTR_SPARSE_TENSOR: return "sparse_tensor";
    case IR_ATTR_SPARSE_TENSORS: return "sparse_tensors";
    case IR_ATTR_TYPE_PROTO: return "type";
    case IR_ATTR_TYPE_PROTOS: return "types";
    default: return "undefined";
    }
}

/* A subgraph value: 'graph "name" {' NL body (indent + 4) '}' (at indent + 2). */
static void print_subgraph(Out *o, const IrGraph *g, int indent, int full, int depth) {
    if (!g) {
        out_puts(o, "<no graph>");
        return;
    }
    if (depth >= IR_MAX_SUBGRAPH_DEPTH) {
        out_puts(o, "<subgraphs nested too deep>");
        o->err = 1;
        return;
    }
    print_graph(o, g, indent + 2, full, depth, "graph", NULL);
}

static void print_attr(Out *o, const IrAttr *a, int indent, int full, int depth) {
    out_ident_or_quoted(o, a->name ? a->name : "");
    out_puts(o, ": ");
    out_puts(o, attr_kind_name(a->kind));
    out_puts(o, " = ");
    if (a->ref_attr_name) {
        out_write(o, "@", 1);
        out_ident_or_quoted(o, a->ref_attr_name);
        return;
    }
    int n = a->n > 0 ? a->n : 0;
    switch (a->kind) {
    case IR_ATTR_FLOAT:
        out_f32(o, a->f);
        break;
    case IR_ATTR_INT:
        out_printf(o, "%lld", (long long)a->i);
        break;
    case IR_ATTR_STRING:
        out_quoted_n(o, a->s.data ? a->s.data : "", a->s.data ? a->s.len : 0);
        break;
    case IR_ATTR_TENSOR:
    case IR_ATTR_SPARSE_TENSOR:
        if (a->t && a->t->name && a->t->name[0]) {
            out_quoted(o, a->t->name);
            out_write(o, " ", 1);
        }
        out_literal(o, a->t, NULL, full);
        break;
    case IR_ATTR_GRAPH:
        print_subgraph(o, a->g, indent, full, depth + 1);
        break;
    case IR_ATTR_TYPE_PROTO:
        out_type(o, a->tp, 0);
        break;
    case IR_ATTR_FLOATS:
    case IR_ATTR_INTS:
    case IR_ATTR_STRINGS:
    case IR_ATTR_TENSORS:
    case IR_ATTR_SPARSE_TENSORS:
    case IR_ATTR_GRAPHS:
    case IR_ATTR_TYPE_PROTOS:
        out_write(o, "[", 1);
        for (int i = 0; i < n && !o->err; i++) {
            if (i)
                out_puts(o, ", ");
            if (a->kind == IR_ATTR_FLOATS)
                out_f32(o, a->floats ? a->floats[i] : 0.0f);
            else if (a->kind == IR_ATTR_INTS)
                out_printf(o, "%lld", (long long)(a->ints ? a->ints[i] : 0));
            else if (a->kind == IR_ATTR_STRINGS) {
                IrString s = a->strings ? a->strings[i] : (IrString){0};
                out_quoted_n(o, s.data ? s.data : "", s.data ? s.len : 0);
            } else if (a->kind == IR_ATTR_GRAPHS)
                print_subgraph(o, a->graphs ? a->graphs[i] : NULL, indent, full, depth + 1);
            else if (a->kind == IR_ATTR_TYPE_PROTOS)
                out_type(o, a->tps ? a->tps[i] : NULL, 0);
            else {
                const IrTensor *t = a->tensors ? a->tensors[i] : NULL;
                if (t && t->name && t->name[0]) {
                    out_quoted(o, t->name);
                    out_write(o, " ", 1);
                }
                out_literal(o, t, NULL, full);
            }
        }
        out_write(o, "]", 1);
        break;
    default:
        out_write(o, "_", 1);
        break;
    }
}

/* " @ws+OFF" when the value has a place in the planned workspace. */
static void out_offset(Out *o, const IrValue *v) {
    if (v && v->offset >= 0)
        out_printf(o, " @ws+%lld", (long long)v->offset);
}

/* " = @ATTR" or " = LITERAL" when a node output carries constant data (IrValue.init): the
 * reference names the node's own tensor attribute holding that very tensor (a Constant's
 * `value`, set by its inference), so the data is not printed twice. */
static void out_node_const(Out *o, const IrNode *n, const IrValue *v, int full) {
    if (!v->init)
        return;
    out_puts(o, " = ");
    for (int i = 0; i < n->nattr && n->attrs; i++) {
        const IrAttr *a = &n->attrs[i];
        if ((a->kind == IR_ATTR_TENSOR || a->kind == IR_ATTR_SPARSE_TENSOR) && a->t == v->init &&
            !a->ref_attr_name) {
            out_write(o, "@", 1);
            out_ident_or_quoted(o, a->name ? a->name : "");
            return;
        }
    }
    out_literal(o, v->init, &v->type, full);
}

static void print_node(Out *o, const IrNode *n, int indent, int full, int depth) {
    out_indent(o, indent);
    /* outputs */
    if (n->nout <= 0 || !n->out)
        out_puts(o, "()");
    for (int i = 0; i < n->nout && n->out; i++) {
        if (i)
            out_puts(o, ", ");
        if (n->out[i])
            out_value_name(o, n->out[i]);
        else
            out_write(o, "_", 1);
    }
    out_puts(o, " = ");
    /* [domain.]OpType */
    const char *dom = n->domain ? n->domain : "";
    if (dom[0]) {
        if (is_dotted_ident(dom))
            out_puts(o, dom);
        else
            out_quoted(o, dom);
        out_write(o, ".", 1);
    }
    out_ident_or_quoted(o, n->op_type ? n->op_type : "");
    /* inputs */
    out_write(o, "(", 1);
    for (int i = 0; i < n->nin && n->in; i++) {
        if (i)
            out_puts(o, ", ");
        if (n->in[i])
            out_value_name(o, n->in[i]);
        else
            out_write(o, "_", 1);
    }
    out_puts(o, ") {");
    for (int i = 0; i < n->nattr && n->attrs && !o->err; i++) {
        if (i)
            out_puts(o, ", ");
        print_attr(o, &n->attrs[i], indent, full, depth);
    }
    out_write(o, "}", 1);
    /* output types */
    if (n->nout > 0 && n->out) {
        out_puts(o, " : ");
        for (int i = 0; i < n->nout; i++) {
            if (i)
                out_puts(o, ", ");
            if (n->out[i]) {
                out_type(o, &n->out[i]->type, 0);
                out_offset(o, n->out[i]);
                out_node_const(o, n, n->out[i], full);
            } else {
                out_write(o, "_", 1);
            }
        }
    }
    /* provenance */
    out_puts(o, "  # node ");
    out_quoted(o, n->name ? n->name : "");
    out_printf(o, ", opset %d", n->opset);
    if (n->kernel) {
        out_puts(o, ", kernel ");
        out_ident_or_quoted(o, n->kernel);
    }
    out_write(o, "\n", 1);
}

/* A value declaration line: KEYWORD %name : type [@ws+OFF] */
static void print_decl(Out *o, const char *keyword, const IrValue *v, int indent) {
    out_indent(o, indent);
    out_puts(o, keyword);
    out_write(o, " ", 1);
    out_value_name(o, v);
    out_puts(o, " : ");
    out_type(o, v ? &v->type : NULL, 0);
    out_offset(o, v);
}

/* KEYWORD "name" [domain "D"] { ... } with the body at indent + 2 and the closing brace at
 * indent. The opening line is assumed to be already indented by the caller (it may follow
 * "name: graph = "). fdomain is the function domain for model-local functions, else NULL. */
static void print_graph(Out *o, const IrGraph *g, int indent, int full, int depth,
                        const char *keyword, const char *fdomain) {
    int in = indent + 2;
    out_puts(o, keyword);
    out_write(o, " ", 1);
    out_quoted(o, g->name ? g->name : "");
    if (fdomain) {
        out_puts(o, " domain ");
        out_quoted(o, fdomain);
    }
    out_puts(o, " {\n");
    if (g->doc) {
        out_indent(o, in);
        out_puts(o, "doc ");
        out_quoted(o, g->doc);
        out_write(o, "\n", 1);
    }
    for (int i = 0; i < g->ninputs && !o->err; i++) {
        print_decl(o, "input", g->inputs[i], in);
        out_write(o, "\n", 1);
    }
    /* references to values of enclosing graphs, in creation order */
    for (int i = 0; i < g->nvalues && !o->err; i++) {
        const IrValue *v = g->values[i];
        if (!v || !(v->flags & IR_VALUE_OUTER))
            continue;
        print_decl(o, "outer", v, in);
        if (v->outer && v->outer->name && v->name && strcmp(v->outer->name, v->name) != 0) {
            out_puts(o, " from ");
            out_value_name(o, v->outer);
        }
        out_write(o, "\n", 1);
    }
    for (int i = 0; i < g->ninits && !o->err; i++) {
        const IrValue *v = g->inits[i];
        print_decl(o, "init", v, in);
        out_puts(o, " = ");
        out_literal(o, v ? v->init : NULL, v ? &v->type : NULL, full);
        out_write(o, "\n", 1);
    }
    /* constants that are neither initializers nor produced by a node (e.g. folded values) */
    for (int i = 0; i < g->nvalues && !o->err; i++) {
        const IrValue *v = g->values[i];
        if (!v || !v->init || v->producer ||
            (v->flags & (IR_VALUE_INITIALIZER | IR_VALUE_INPUT | IR_VALUE_OUTER)))
            continue;
        print_decl(o, "const", v, in);
        out_puts(o, " = ");
        out_literal(o, v->init, &v->type, full);
        out_write(o, "\n", 1);
    }
    int64_t guard = (int64_t)g->nnodes + 1; /* stop on a corrupt (cyclic) node list */
    for (const IrNode *n = g->first; n && !o->err; n = n->next) {
        if (guard-- <= 0) {
            out_indent(o, in);
            out_puts(o, "<node list longer than nnodes>\n");
            o->err = 1;
            break;
        }
        print_node(o, n, in, full, depth);
    }
    for (int i = 0; i < g->noutputs && !o->err; i++) {
        print_decl(o, "output", g->outputs[i], in);
        out_write(o, "\n", 1);
    }
    out_indent(o, indent);
    out_write(o, "}", 1);
}

/* ------------------------------------------------------------------ entry points */

int ir_print_graph(const IrGraph *g, void *f, int full) {
    if (!g || !f)
        return -1;
    Out o = {0};
    o.f = f;
    print_graph(&o, g, 0, full, 0, "graph", NULL);
    out_write(&o, "\n", 1);
    return (o.err || ferror((FILE *)f)) ? -1 : 0;
}

int ir_print_model(const IrModel *m, void *f, int full) {
    if (!m || !f)
        return -1;
    Out o = {0};
    o.f = f;
    out_puts(&o, "onnxc-ir 1\n");
    out_printf(&o, "ir_version %lld\n", (long long)m->ir_version);
    out_puts(&o, "producer ");
    out_quoted(&o, m->producer_name);
    out_write(&o, " ", 1);
    out_quoted(&o, m->producer_version);
    out_puts(&o, "\ndomain ");
    out_quoted(&o, m->model_domain);
    out_printf(&o, "\nmodel_version %lld\n", (long long)m->model_version);
    for (int i = 0; i < m->nopsets && m->opsets; i++) {
        out_puts(&o, "opset ");
        out_quoted(&o, m->opsets[i].domain);
        out_printf(&o, " %lld\n", (long long)m->opsets[i].version);
    }
    for (int i = 0; i < m->nmeta && m->meta_keys && m->meta_values; i++) {
        out_puts(&o, "meta ");
        out_quoted(&o, m->meta_keys[i]);
        out_write(&o, " ", 1);
        out_quoted(&o, m->meta_values[i]);
        out_write(&o, "\n", 1);
    }
    if (m->workspace_bytes >= 0)
        out_printf(&o, "workspace_bytes %lld\n", (long long)m->workspace_bytes);
    if (m->naive_bytes >= 0)
        out_printf(&o, "naive_bytes %lld\n", (long long)m->naive_bytes);
    for (int i = 0; i < m->nfunctions && m->functions && !o.err; i++) {
        const IrGraph *fg = m->functions[i];
        if (!fg)
            continue;
        const char *fd = m->function_domains && m->function_domains[i] ? m->function_domains[i] : "";
        print_graph(&o, fg, 0, full, 0, "function", fd);
        out_write(&o, "\n", 1);
    }
    if (m->graph && !o.err) {
        print_graph(&o, m->graph, 0, full, 0, "graph", NULL);
        out_write(&o, "\n", 1);
    }
    return (o.err || ferror((FILE *)f)) ? -1 : 0;
}
