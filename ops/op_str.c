/* op_str.c - infer and lower hooks of the str family: StringNormalizer, StringConcat,
 * StringSplit, RegexFullMatch (kernels in runtime/rt_str.c, parameter blocks in
 * runtime/rt_params_str.h, representation of strings in docs/OPS_STRINGS.md).
 *
 * ONNX specification: docs/Operators.md, sections StringNormalizer (10), StringConcat (20),
 * StringSplit (20), RegexFullMatch (20).
 *
 * Data-dependent shapes: StringNormalizer's output length (with stop words) and StringSplit's
 * last output dimension depend on the strings. The model's declared static output type is used
 * when there is one (the kernel checks at run time that the data gives exactly that shape);
 * otherwise that dim is a fresh symbol `<output>?<k>` and the kernel allocates the output
 * (OPF_DYN_SHAPE, rt_out_alloc, docs/DYNAMIC_SHAPES.md).
 *
 * RegexFullMatch: the RE2 pattern is translated here into a POSIX extended regular expression
 * (glibc regcomp) anchored at both ends: \d \s \w and their negations become bracket classes
 * (also inside brackets), \b \B stay (glibc extensions), (?: and (?P<name> become plain groups,
 * lazy quantifiers become greedy (same result for a full match). Constructs without a POSIX
 * equivalent (flags such as (?i), \p{..}, \x.., \Q..\E, look-around, backreferences) are
 * reported as unsupported at compile time.
 */
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "ops/op.h"
#include "runtime/rt_params.h"
#include "runtime/rt_params_str.h"

/* Input i as a tensor of element type STRING with known rank, or NULL + diag. */
static const IrType *str_in(IrNode *n, IrDiag *d, int i) {
    const IrType *t = op_input_tensor(n, d, i);
    if (!t)
        return NULL;
    if (t->dtype != IR_DT_STRING) {
        ir_error(d, n, "input %d has element type %s, expected STRING", i, ir_dtype_name(t->dtype));
        return NULL;
    }
    return t;
}

/* 1 if output i has a declared static tensor type of element type dt and rank `rank`. */
static int declared(const IrNode *n, int i, IrDType dt, int rank) {
    const IrValue *o = i < n->nout ? n->out[i] : NULL;
    return o && o->type.kind == IR_TYPE_TENSOR && ir_type_is_static(&o->type) &&
           o->type.dtype == dt && o->type.rank == rank;
}

/* Output i gets the type dt [dims[0..rank-1), fresh] where the last dim is a fresh symbol
 * `<output>?<k>` that the kernel binds when it runs (docs/DYNAMIC_SHAPES.md). */
static int set_fresh_last(IrNode *n, IrDiag *d, int i, IrDType dt, int rank, const IrDim *dims) {
    IrDim out[IR_MAX_RANK];
    char buf[256];
    const IrValue *o = i < n->nout ? n->out[i] : NULL;
    if (!o)
        return 0;
    for (int k = 0; k + 1 < rank; k++)
        out[k] = dims[k];
    snprintf(buf, sizeof buf, "%s?%d", o->name ? o->name : "out", rank - 1);
    out[rank - 1] = (IrDim){-1, ir_arena_strdup(n->graph->arena, buf)};
    if (!out[rank - 1].sym || op_set_output(n, i, dt, rank, out)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

/* Copies `len` bytes into the block at *pos and returns the reference. */
static RtStrRef put_bytes(char *block, int64_t *pos, const char *s, size_t len) {
    RtStrRef r = {*pos, (int64_t)len};
    if (len)
        memcpy(block + *pos, s, len);
    *pos += (int64_t)len;
    return r;
}

/* ---------------------------------------------------------------- StringNormalizer */

static int norm_case(IrNode *n, IrDiag *d) {
    const char *a = ir_attr_string(n, "case_change_action", "NONE");
    if (strcmp(a, "NONE") == 0) return RT_STRNORM_NONE;
    if (strcmp(a, "LOWER") == 0) return RT_STRNORM_LOWER;
    if (strcmp(a, "UPPER") == 0) return RT_STRNORM_UPPER;
    ir_error(d, n, "attribute 'case_change_action' is '%s', expected NONE, LOWER or UPPER", a);
    return -1;
}

static int infer_string_normalizer(IrNode *n, IrDiag *d) {
    const IrType *x = str_in(n, d, 0);
    if (!x || norm_case(n, d) < 0)
        return -1;
    if (!(x->rank == 1 || (x->rank == 2 && x->dims[0].value == 1))) {
        ir_error(d, n, "input X must have shape [C] or [1, C]");
        return -1;
    }
    const IrAttr *sw = ir_node_attr(n, "stopwords");
    int nstop = sw && sw->kind == IR_ATTR_STRINGS ? sw->n : 0;
    int rc;
    if (x->dims[x->rank - 1].value == 0) { /* nothing to keep: one empty string */
        int64_t dims[2] = {1, 1};
        rc = op_set_output_static(n, 0, IR_DT_STRING, x->rank, dims);
    } else if (nstop == 0) {
        rc = op_set_output(n, 0, IR_DT_STRING, x->rank, x->dims);
    } else {
        if (declared(n, 0, IR_DT_STRING, x->rank))
            return 0;
        return set_fresh_last(n, d, 0, IR_DT_STRING, x->rank, x->dims);
    }
    if (rc)
        ir_error(d, n, "out of memory");
    return rc ? -1 : 0;
}

static int lower_string_normalizer(IrNode *n, IrDiag *d) {
    const IrAttr *sw = ir_node_attr(n, "stopwords");
    int nstop = sw && sw->kind == IR_ATTR_STRINGS ? sw->n : 0;
    size_t size = sizeof(RtStrNormParams) + (size_t)nstop * sizeof(RtStrRef);
    for (int i = 0; i < nstop; i++) {
        if (sw->strings[i].len > ((size_t)1 << 30) || size > ((size_t)1 << 30)) {
            ir_error(d, n, "stop words are too long");
            return -1;
        }
        size += sw->strings[i].len;
    }
    int cs = norm_case(n, d);
    if (cs < 0)
        return -1;
    RtStrNormParams *p = op_params(n, d, "rt_k_string_normalizer", size);
    if (!p)
        return -1;
    p->case_action = cs;
    p->case_sensitive = ir_attr_int(n, "is_case_sensitive", 0) != 0;
    p->nstop = nstop;
    int64_t pos = (int64_t)(sizeof(RtStrNormParams) + (size_t)nstop * sizeof(RtStrRef));
    for (int i = 0; i < nstop; i++)
        p->stop[i] = put_bytes((char *)p, &pos, sw->strings[i].data, sw->strings[i].len);
    return 0;
}

/* ---------------------------------------------------------------- StringConcat */

static int infer_string_concat(IrNode *n, IrDiag *d) {
    const IrType *x = str_in(n, d, 0), *y = x ? str_in(n, d, 1) : NULL;
    if (!x || !y)
        return -1;
    IrType t;
    if (op_broadcast_shapes(n, d, x, y, &t))
        return -1;
    if (op_set_output(n, 0, IR_DT_STRING, t.rank, t.dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_string_concat(IrNode *n, IrDiag *d) {
    return op_params(n, d, "rt_k_string_concat", 0) ? 0 : -1;
}

/* ---------------------------------------------------------------- StringSplit */

static int infer_string_split(IrNode *n, IrDiag *d) {
    const IrType *x = str_in(n, d, 0);
    if (!x)
        return -1;
    if (x->rank >= IR_MAX_RANK) {
        ir_error(d, n, "input X has rank %d, too large", x->rank);
        return -1;
    }
    if (op_set_output(n, 1, IR_DT_INT64, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    int64_t numel = 1;
    int known = 1;
    for (int k = 0; k < x->rank; k++) {
        if (x->dims[k].value < 0) known = 0;
        else if (x->dims[k].value == 0) numel = 0;
    }
    IrDim dims[IR_MAX_RANK];
    for (int k = 0; k < x->rank; k++)
        dims[k] = x->dims[k];
    dims[x->rank] = (IrDim){-1, NULL};
    if (known && numel == 0) /* no strings: no pieces */
        dims[x->rank].value = 0;
    else if (declared(n, 0, IR_DT_STRING, x->rank + 1))
        return 0;
    else
        return set_fresh_last(n, d, 0, IR_DT_STRING, x->rank + 1, dims);
    if (op_set_output(n, 0, IR_DT_STRING, x->rank + 1, dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_string_split(IrNode *n, IrDiag *d) {
    const IrAttr *a = ir_node_attr(n, "delimiter");
    size_t dl = a && a->kind == IR_ATTR_STRING ? a->s.len : 0;
    if (dl > ((size_t)1 << 20)) {
        ir_error(d, n, "attribute 'delimiter' is too long");
        return -1;
    }
    RtStrSplitParams *p = op_params(n, d, "rt_k_string_split", sizeof *p + dl);
    if (!p)
        return -1;
    const IrAttr *ms = ir_node_attr(n, "maxsplit");
    p->maxsplit = ms && ms->kind == IR_ATTR_INT ? ms->i : -1;
    if (p->maxsplit < 0)
        p->maxsplit = -1;
    p->delim_len = (int64_t)dl;
    if (dl)
        memcpy(p->delim, a->s.data, dl);
    return 0;
}

/* ---------------------------------------------------------------- RegexFullMatch */

/* Output buffer of the translation. */
typedef struct ReOut {
    char *buf;
    size_t len, cap;
    int err;
} ReOut;

static void re_put(ReOut *o, const char *s, size_t n) {
    if (o->err || o->len + n + 1 > o->cap) {
        o->err = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
    o->buf[o->len] = '\0';
}

static void re_puts(ReOut *o, const char *s) { re_put(o, s, strlen(s)); }

/* The control character of escape \c (n t r f v a), or -1. */
static int re_ctrl(char c) {
    switch (c) {
    case 'n': return '\n';
    case 't': return '\t';
    case 'r': return '\r';
    case 'f': return '\f';
    case 'v': return '\v';
    case 'a': return '\a';
    default: return -1;
    }
}

/* Translates a bracket expression starting at p[*i] == '['; *i ends after its ']'. Returns 0 or
 * -1 with a message in why. */
static int re_bracket(const char *p, size_t len, size_t *i, ReOut *o, const char **why) {
    size_t k = *i + 1;
    int neg = 0;
    if (k < len && p[k] == '^') { neg = 1; k++; }
    char lits[256] = {0};      /* single literal characters */
    char classes[128] = "";    /* [:name:] items */
    char ranges[1024] = "";    /* a-z items */
    size_t nr = 0;
    int first = 1;
    for (;;) {
        if (k >= len) { *why = "unterminated [...]"; return -1; }
        if (p[k] == ']' && !first) { k++; break; }
        first = 0;
        int lo;
        if (p[k] == '[' && k + 1 < len && p[k + 1] == ':') {
            const char *e = strstr(p + k + 2, ":]");
            if (!e || (size_t)(e - p) >= len || strlen(classes) + (size_t)(e - (p + k)) + 3 > sizeof classes) {
                *why = "bad [:class:]";
                return -1;
            }
            strncat(classes, p + k, (size_t)(e - (p + k)) + 2);
            k = (size_t)(e - p) + 2;
            continue;
        }
        if (p[k] == '\\') {
            if (k + 1 >= len) { *why = "trailing \\"; return -1; }
            char c = p[k + 1];
            k += 2;
            const char *cls = c == 'd' ? "[:digit:]" : c == 's' ? "[:space:]"
                            : c == 'w' ? "[:alnum:]_" : NULL;
            if (cls) {
                if (strlen(classes) + strlen(cls) + 1 > sizeof classes) { *why = "too many classes"; return -1; }
                strcat(classes, cls);
                continue;
            }
            if (c == 'D' || c == 'S' || c == 'W' || c == 'p' || c == 'P' || c == 'x' ||
                (c >= '0' && c <= '9')) {
                *why = "a negated class, \\p, \\x or an octal escape inside [...]";
                return -1;
            }
            lo = re_ctrl(c) >= 0 ? re_ctrl(c) : (unsigned char)c;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
                if (re_ctrl(c) < 0) { *why = "an unknown escape inside [...]"; return -1; }
            }
        } else {
            lo = (unsigned char)p[k++];
        }
        /* a range lo-hi? */
        if (k + 1 < len && p[k] == '-' && p[k + 1] != ']') {
            int hi;
            k++;
            if (p[k] == '\\') {
                if (k + 1 >= len) { *why = "trailing \\"; return -1; }
                char c = p[k + 1];
                hi = re_ctrl(c) >= 0 ? re_ctrl(c) : (unsigned char)c;
                k += 2;
            } else {
                hi = (unsigned char)p[k++];
            }
            if (hi < lo) { *why = "an inverted range"; return -1; }
            if (nr + 4 > sizeof ranges) { *why = "too many ranges"; return -1; }
            /* endpoints that are special in POSIX brackets become collating elements */
            if (lo == ']' || lo == '-' || lo == '^' || lo == '[' || hi == ']' || hi == '-' ||
                hi == '^' || hi == '[') {
                for (int c = lo; c <= hi; c++) lits[c] = 1;
                continue;
            }
            ranges[nr++] = (char)lo;
            ranges[nr++] = '-';
            ranges[nr++] = (char)hi;
            ranges[nr] = '\0';
            continue;
        }
        lits[lo & 255] = 1;
    }
    /* POSIX order: ']' first, '^' not first, '-' last; '[' before ':' '.' '=' is avoided by
     * putting it after the other literals. */
    int only_caret = lits['^'] && !neg && nr == 0 && !classes[0];
    for (int c = 1; c < 256 && only_caret; c++)
        if (lits[c] && c != '^') only_caret = 0;
    if (only_caret) {
        re_puts(o, "\\^");
        *i = k;
        return 0;
    }
    re_puts(o, neg ? "[^" : "[");
    if (lits[']']) re_puts(o, "]");
    re_puts(o, ranges);
    for (int c = 1; c < 256; c++) {
        if (!lits[c] || c == ']' || c == '-' || c == '^' || c == '[') continue;
        char ch = (char)c;
        re_put(o, &ch, 1);
    }
    re_puts(o, classes);
    if (lits['[']) re_puts(o, "[");
    if (lits['^']) re_puts(o, "^");
    if (lits['-']) re_puts(o, "-");
    re_puts(o, "]");
    if (lits[0]) { *why = "a NUL character"; return -1; }
    *i = k;
    return 0;
}

/* RE2 pattern -> anchored POSIX ERE in o. Returns 0 or -1 with *why set. */
static int re_translate(const char *p, size_t len, ReOut *o, const char **why) {
    re_puts(o, "^(");
    for (size_t i = 0; i < len;) {
        char c = p[i];
        if (c == '\0') { *why = "a NUL character"; return -1; }
        if (c == '[') {
            if (re_bracket(p, len, &i, o, why)) return -1;
            continue;
        }
        if (c == '\\') {
            if (i + 1 >= len) { *why = "a trailing \\"; return -1; }
            char e = p[i + 1];
            i += 2;
            switch (e) {
            case 'd': re_puts(o, "[0-9]"); continue;
            case 'D': re_puts(o, "[^0-9]"); continue;
            case 's': re_puts(o, "[[:space:]]"); continue;
            case 'S': re_puts(o, "[^[:space:]]"); continue;
            case 'w': re_puts(o, "[[:alnum:]_]"); continue;
            case 'W': re_puts(o, "[^[:alnum:]_]"); continue;
            case 'b': re_puts(o, "\\b"); continue;
            case 'B': re_puts(o, "\\B"); continue;
            case 'A': re_puts(o, "^"); continue;
            case 'z': re_puts(o, "$"); continue;
            default: break;
            }
            if (re_ctrl(e) >= 0) {
                char ch = (char)re_ctrl(e);
                re_put(o, &ch, 1);
                continue;
            }
            if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
                *why = "an escape without a POSIX equivalent (\\p, \\x, \\Q, \\C, \\1, ...)";
                return -1;
            }
            if (strchr(".[]()*+?{}|^$\\", e)) {
                char esc[2] = {'\\', e};
                re_put(o, esc, 2);
            } else {
                re_put(o, &e, 1);
            }
            continue;
        }
        if (c == '(' && i + 1 < len && p[i + 1] == '?') {
            if (i + 2 < len && p[i + 2] == ':') { re_puts(o, "("); i += 3; continue; }
            if (i + 3 < len && p[i + 2] == 'P' && p[i + 3] == '<') {
                const char *e = memchr(p + i, '>', len - i);
                if (!e) { *why = "an unterminated group name"; return -1; }
                re_puts(o, "(");
                i = (size_t)(e - p) + 1;
                continue;
            }
            *why = "a (?...) group (flags or look-around)";
            return -1;
        }
        if ((c == '*' || c == '+' || c == '?' || c == '}') && i + 1 < len && p[i + 1] == '?') {
            re_put(o, &c, 1); /* lazy: same full-match result as greedy */
            i += 2;
            continue;
        }
        re_put(o, &c, 1);
        i++;
    }
    re_puts(o, ")$");
    if (o->err) { *why = "the pattern is too long"; return -1; }
    return 0;
}

static int infer_regex_full_match(IrNode *n, IrDiag *d) {
    const IrType *x = str_in(n, d, 0);
    if (!x)
        return -1;
    const IrAttr *a = ir_node_attr(n, "pattern");
    if (!a || a->kind != IR_ATTR_STRING) {
        ir_error(d, n, "attribute 'pattern' is required");
        return -1;
    }
    if (op_set_output(n, 0, IR_DT_BOOL, x->rank, x->dims)) {
        ir_error(d, n, "out of memory");
        return -1;
    }
    return 0;
}

static int lower_regex_full_match(IrNode *n, IrDiag *d) {
    const IrAttr *a = ir_node_attr(n, "pattern");
    if (!a || a->kind != IR_ATTR_STRING) {
        ir_error(d, n, "attribute 'pattern' is required");
        return -1;
    }
    if (a->s.len > 4096) {
        ir_error(d, n, "unsupported: pattern longer than 4096 bytes");
        return -1;
    }
    char src[4096 + 1], buf[4 * 4096 + 64];
    if (a->s.len && memchr(a->s.data, 0, a->s.len)) {
        ir_error(d, n, "unsupported regular expression: a NUL character");
        return -1;
    }
    if (a->s.len) /* the translator reads a NUL-terminated copy */
        memcpy(src, a->s.data, a->s.len);
    src[a->s.len] = '\0';
    ReOut o = {buf, 0, sizeof buf, 0};
    buf[0] = '\0';
    const char *why = NULL;
    if (re_translate(src, a->s.len, &o, &why)) {
        ir_error(d, n, "unsupported regular expression: %s (RE2 is translated to POSIX ERE)", why);
        return -1;
    }
    regex_t re;
    int rc = regcomp(&re, buf, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        ir_error(d, n, "regular expression '%s' (as POSIX '%s'): %s", src, buf, msg);
        return -1;
    }
    regfree(&re);
    RtRegexParams *p = op_params(n, d, "rt_k_regex_full_match", sizeof *p + o.len + 1);
    if (!p)
        return -1;
    p->len = (int64_t)o.len;
    memcpy(p->pattern, buf, o.len + 1);
    return 0;
}

const OpHooks op_hooks_StringNormalizer = {infer_string_normalizer, lower_string_normalizer, NULL};
const OpHooks op_hooks_StringConcat = {infer_string_concat, lower_string_concat, NULL};
const OpHooks op_hooks_StringSplit = {infer_string_split, lower_string_split, NULL};
const OpHooks op_hooks_RegexFullMatch = {infer_regex_full_match, lower_regex_full_match, NULL};
