/* ir_parse.c - reads the IR text format back (ir_parse_model).
 *
 * Parses exactly what ir_print_model (ir/ir_print.c) prints with `full` set; the grammar is
 * docs/IR_FORMAT.md. A recursive-descent parser over the bytes of the text, with these
 * guarantees for hostile input:
 *  - it never aborts or exits; the first problem is reported to the IrDiag as
 *    "LINE:COL: message" and the call returns NULL (everything built so far is freed);
 *  - recursion is bounded: subgraphs at most IR_MAX_SUBGRAPH_DEPTH levels (the printer's own
 *    limit), nested types at most PARSE_TYPE_MAX_DEPTH levels;
 *  - every allocation is bounded by the size of the text: a literal's element count is checked
 *    against the bytes left before its payload is allocated, lists grow geometrically.
 *
 * Values may be used before the line that defines them (node lists of imported models are
 * normally but not necessarily topological); a name that is used and never defined is an error
 * at its first use. Summarised constants ("... fnv1a64=...") are refused: print with `full`.
 */
#include "ir/ir.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same cap as the printer's nested types (seq(seq(...))). */
#define PARSE_TYPE_MAX_DEPTH 32
/* Longest number token (digits, sign, exponent, "nan:0x..."). */
#define PARSE_NUM_MAX 64

/* ------------------------------------------------------------------ parser state */

typedef struct Parser {
    const char *src;   /* the text (not NUL-terminated in general) */
    size_t len;        /* its length */
    size_t pos;        /* current byte offset */
    IrDiag *d;         /* diagnostics */
    int failed;        /* set once an error was reported: everything unwinds */
    IrModel *m;        /* model being built */
    char *sbuf;        /* scratch for the bytes of the last quoted string (malloc) */
    size_t slen;       /* bytes in sbuf */
    size_t scap;       /* capacity of sbuf */
} Parser;

/* Marker in IrValue.user: used before any definition (forward reference). */
static char parse_pending_mark;

/* A forward reference waiting for its definition. */
typedef struct Pending {
    IrValue *v;  /* placeholder value */
    size_t pos;  /* first use, for the error message */
} Pending;

/* Reports "LINE:COL: message" for byte offset pos (first error only). */
static int perr(Parser *P, size_t pos, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int perr(Parser *P, size_t pos, const char *fmt, ...) {
    if (P->failed)
        return -1;
    P->failed = 1;
    if (pos > P->len)
        pos = P->len;
    int line = 1;
    size_t ls = 0;
    for (size_t i = 0; i < pos; i++)
        if (P->src[i] == '\n') {
            line++;
            ls = i + 1;
        }
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ir_error(P->d, NULL, "%d:%zu: %s", line, pos - ls + 1, msg);
    return -1;
}

static int oom(Parser *P) { return perr(P, P->pos, "out of memory"); }

/* ------------------------------------------------------------------ lexing */

static int is_alpha_(int c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }
static int is_digit(int c) { return c >= '0' && c <= '9'; }
static int is_name_char(int c) { return is_alpha_(c) || is_digit(c) || c == '.' || c == '-' || c == '/'; }

static int peekc(const Parser *P) { return P->pos < P->len ? (unsigned char)P->src[P->pos] : -1; }

static void skip_ws(Parser *P) {
    while (P->pos < P->len) {
        char c = P->src[P->pos];
        if (c == ' ' || c == '\n' || c == '\t' || c == '\r')
            P->pos++;
        else
            break;
    }
}

/* Skips whitespace and returns the next byte (-1 at the end). */
static int peek(Parser *P) {
    skip_ws(P);
    return peekc(P);
}

/* Text for "found ..." in messages. */
static const char *found_desc(Parser *P, char *buf, size_t cap) {
    int c = peek(P);
    if (c < 0)
        return "the end of the text";
    if (c >= 0x21 && c < 0x7f)
        snprintf(buf, cap, "'%c'", c);
    else
        snprintf(buf, cap, "byte 0x%02x", (unsigned)c);
    return buf;
}

static int expect(Parser *P, char c, const char *what) {
    if (peek(P) == (unsigned char)c) {
        P->pos++;
        return 0;
    }
    char b[32];
    return perr(P, P->pos, "expected '%c' %s, found %s", c, what, found_desc(P, b, sizeof b));
}

/* Identifier [A-Za-z_][A-Za-z0-9_]* at the current position (after whitespace): its start and
 * length, or 0 if there is none (nothing consumed). */
static size_t lex_ident(Parser *P, const char **s) {
    skip_ws(P);
    size_t p = P->pos;
    if (p >= P->len || !is_alpha_((unsigned char)P->src[p]))
        return 0;
    while (p < P->len && (is_alpha_((unsigned char)P->src[p]) || is_digit((unsigned char)P->src[p])))
        p++;
    *s = P->src + P->pos;
    size_t n = p - P->pos;
    P->pos = p;
    return n;
}

static int word_is(const char *s, size_t n, const char *w) { return strlen(w) == n && memcmp(s, w, n) == 0; }

/* 1 if the next word is kw (not consumed). */
static int next_word_is(Parser *P, const char *kw) {
    size_t at = (skip_ws(P), P->pos);
    const char *s;
    size_t n = lex_ident(P, &s);
    P->pos = at;
    return n && word_is(s, n, kw);
}

/* Consumes keyword w (a whole identifier) or reports an error. */
static int expect_word(Parser *P, const char *w, const char *what) {
    size_t at = (skip_ws(P), P->pos);
    const char *s;
    size_t n = lex_ident(P, &s);
    if (n && word_is(s, n, w))
        return 0;
    P->pos = at;
    char b[32];
    return perr(P, at, "expected '%s' %s, found %s", w, what, found_desc(P, b, sizeof b));
}

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int sbuf_put(Parser *P, char c) {
    if (P->slen + 1 >= P->scap) {
        size_t ncap = P->scap ? P->scap * 2 : 256;
        char *nb = ir_realloc(P->sbuf, ncap);
        if (!nb)
            return oom(P);
        P->sbuf = nb;
        P->scap = ncap;
    }
    P->sbuf[P->slen++] = c;
    P->sbuf[P->slen] = 0;
    return 0;
}

/* A quoted string into P->sbuf / P->slen (NUL-terminated there; may contain NUL bytes). */
static int lex_string(Parser *P) {
    if (peek(P) != '"') {
        char b[32];
        return perr(P, P->pos, "expected a quoted string, found %s", found_desc(P, b, sizeof b));
    }
    size_t start = P->pos++;
    P->slen = 0;
    if (sbuf_put(P, 0))
        return -1;
    P->slen = 0;
    for (;;) {
        if (P->pos >= P->len || P->src[P->pos] == '\n')
            return perr(P, start, "unterminated string");
        char c = P->src[P->pos++];
        if (c == '"')
            return 0;
        if (c == '\\') {
            if (P->pos >= P->len)
                return perr(P, start, "unterminated string");
            char e = P->src[P->pos++];
            switch (e) {
            case '\\': c = '\\'; break;
            case '"': c = '"'; break;
            case 'n': c = '\n'; break;
            case 't': c = '\t'; break;
            case 'r': c = '\r'; break;
            case 'x': {
                int h1 = P->pos < P->len ? hexval((unsigned char)P->src[P->pos]) : -1;
                int h2 = P->pos + 1 < P->len ? hexval((unsigned char)P->src[P->pos + 1]) : -1;
                if (h1 < 0 || h2 < 0)
                    return perr(P, P->pos - 2, "'\\x' must be followed by two hex digits");
                P->pos += 2;
                c = (char)(h1 * 16 + h2);
                break;
            }
            default:
                return perr(P, P->pos - 2, "unknown escape '\\%c' in a string (only \\\\ \\\" \\n \\t "
                            "\\r \\xHH)", (e >= 0x20 && e < 0x7f) ? e : '?');
            }
        }
        if (sbuf_put(P, c))
            return -1;
    }
}

/* A quoted string that is used as a C string (name): NUL bytes are refused. Returns the
 * arena copy or NULL. */
static const char *lex_cstring(Parser *P, IrArena *a, const char *what) {
    size_t at = (skip_ws(P), P->pos);
    if (lex_string(P))
        return NULL;
    if (memchr(P->sbuf, 0, P->slen)) {
        perr(P, at, "%s contains a NUL byte", what);
        return NULL;
    }
    const char *s = ir_arena_strndup(a, P->sbuf, P->slen);
    if (!s)
        oom(P);
    return s;
}

/* An identifier or a quoted string (names of attributes, symbols, kernels). */
static const char *lex_ident_or_string(Parser *P, IrArena *a, const char *what) {
    if (peek(P) == '"')
        return lex_cstring(P, a, what);
    const char *s;
    size_t at = P->pos;
    size_t n = lex_ident(P, &s);
    if (!n) {
        char b[32];
        perr(P, at, "expected %s (a name or a quoted string), found %s", what,
             found_desc(P, b, sizeof b));
        return NULL;
    }
    const char *r = ir_arena_strndup(a, s, n);
    if (!r)
        oom(P);
    return r;
}

/* A number-like token: [A-Za-z0-9_.+:-]+ into buf (NUL-terminated). Returns its length, 0 if
 * there is none, -1 (error reported) if it is too long. */
static int lex_numtok(Parser *P, char *buf) {
    skip_ws(P);
    size_t p = P->pos;
    while (p < P->len) {
        int c = (unsigned char)P->src[p];
        if (!(is_alpha_(c) || is_digit(c) || c == '.' || c == '+' || c == '-' || c == ':'))
            break;
        p++;
    }
    size_t n = p - P->pos;
    if (n >= PARSE_NUM_MAX)
        return perr(P, P->pos, "number too long");
    memcpy(buf, P->src + P->pos, n);
    buf[n] = 0;
    return (int)n;
}

/* Decimal integer with optional '-' (exact, range-checked int64). */
static int parse_i64(Parser *P, int64_t *out, const char *what) {
    char buf[PARSE_NUM_MAX];
    size_t at = (skip_ws(P), P->pos);
    int n = lex_numtok(P, buf);
    if (n < 0)
        return -1;
    const char *q = buf[0] == '-' ? buf + 1 : buf;
    int ok = n > 0 && *q;
    for (const char *c = q; ok && *c; c++)
        ok = is_digit((unsigned char)*c);
    if (!ok) {
        char b[32];
        return perr(P, at, "expected an integer (%s), found %s", what,
                    n > 0 ? "a non-integer" : found_desc(P, b, sizeof b));
    }
    errno = 0;
    long long v = strtoll(buf, NULL, 10);
    if (errno == ERANGE)
        return perr(P, at, "integer %s out of range (%s)", buf, what);
    P->pos += (size_t)n;
    *out = v;
    return 0;
}

/* Decimal unsigned integer (uint64). */
static int parse_u64(Parser *P, uint64_t *out, const char *what) {
    char buf[PARSE_NUM_MAX];
    size_t at = (skip_ws(P), P->pos);
    int n = lex_numtok(P, buf);
    if (n < 0)
        return -1;
    int ok = n > 0;
    for (const char *c = buf; ok && *c; c++)
        ok = is_digit((unsigned char)*c);
    if (!ok)
        return perr(P, at, "expected an unsigned integer (%s)", what);
    errno = 0;
    unsigned long long v = strtoull(buf, NULL, 10);
    if (errno == ERANGE)
        return perr(P, at, "integer %s out of range (%s)", buf, what);
    P->pos += (size_t)n;
    *out = v;
    return 0;
}

/* An int in [lo, hi]. */
static int parse_int_range(Parser *P, int64_t lo, int64_t hi, int64_t *out, const char *what) {
    size_t at = (skip_ws(P), P->pos);
    if (parse_i64(P, out, what))
        return -1;
    if (*out < lo || *out > hi)
        return perr(P, at, "%lld is out of range for %s (%lld..%lld)", (long long)*out, what,
                    (long long)lo, (long long)hi);
    return 0;
}

/* "0x" + hex digits, at most max_value. */
static int parse_hex(Parser *P, uint64_t max_value, uint64_t *out, const char *what) {
    char buf[PARSE_NUM_MAX];
    size_t at = (skip_ws(P), P->pos);
    int n = lex_numtok(P, buf);
    if (n < 0)
        return -1;
    uint64_t v = 0;
    int ok = n > 2 && n <= 18 && buf[0] == '0' && buf[1] == 'x';
    for (int i = 2; ok && i < n; i++) {
        int h = hexval((unsigned char)buf[i]);
        ok = h >= 0;
        v = v * 16 + (uint64_t)(h < 0 ? 0 : h);
    }
    if (!ok)
        return perr(P, at, "expected a hex bit pattern 0x... (%s)", what);
    if (v > max_value)
        return perr(P, at, "bit pattern %s is too wide for %s", buf, what);
    P->pos += (size_t)n;
    *out = v;
    return 0;
}

/* Decimal float text ([-]digits[.digits][e[+-]digits], as %g prints it). */
static int is_decimal_float(const char *s) {
    const char *p = s;
    if (*p == '-')
        p++;
    int digits = 0;
    while (is_digit((unsigned char)*p)) {
        p++;
        digits++;
    }
    if (*p == '.') {
        p++;
        while (is_digit((unsigned char)*p)) {
            p++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit((unsigned char)*p))
            return 0;
        while (is_digit((unsigned char)*p))
            p++;
    }
    return *p == 0;
}

/* A float (f32 when wide == 0, else f64) as the printer writes it: decimal, inf, -inf, nan,
 * nan:0x<bits>. Stores the value's bytes at out (4 or 8). */
static int parse_float_bits(Parser *P, int wide, void *out, const char *what) {
    char buf[PARSE_NUM_MAX];
    size_t at = (skip_ws(P), P->pos);
    int n = lex_numtok(P, buf);
    if (n < 0)
        return -1;
    if (n == 0) {
        char b[32];
        return perr(P, at, "expected a number (%s), found %s", what, found_desc(P, b, sizeof b));
    }
    uint64_t bits = 0;
    int have_bits = 0;
    double dv = 0;
    float fv = 0;
    if (!strcmp(buf, "nan")) {
        bits = wide ? 0x7ff8000000000000ull : 0x7fc00000u;
        have_bits = 1;
    } else if (!strncmp(buf, "nan:0x", 6)) {
        int nd = n - 6;
        int ok = nd >= 1 && nd <= (wide ? 16 : 8);
        for (int i = 6; ok && i < n; i++) {
            int h = hexval((unsigned char)buf[i]);
            ok = h >= 0;
            bits = bits * 16 + (uint64_t)(h < 0 ? 0 : h);
        }
        if (!ok)
            return perr(P, at, "bad NaN bit pattern '%s' (%s)", buf, what);
        have_bits = 1;
    } else if (!strcmp(buf, "inf") || !strcmp(buf, "-inf")) {
        dv = buf[0] == '-' ? -INFINITY : INFINITY;
        fv = (float)dv;
    } else if (is_decimal_float(buf)) {
        errno = 0;
        if (wide)
            dv = strtod(buf, NULL);
        else
            fv = strtof(buf, NULL); /* not via double: no double rounding */
        if (wide ? isinf(dv) : isinf(fv))
            return perr(P, at, "%s is out of range for %s", buf, wide ? "f64" : "f32");
    } else {
        return perr(P, at, "expected a number (%s), found '%s'", what, buf);
    }
    P->pos += (size_t)n;
    if (wide) {
        if (have_bits)
            memcpy(out, &bits, 8);
        else
            memcpy(out, &dv, 8);
    } else {
        if (have_bits) {
            uint32_t b32 = (uint32_t)bits;
            memcpy(out, &b32, 4);
        } else {
            memcpy(out, &fv, 4);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ growable arrays */

/* Grows a malloc'ed array of elements of size es to hold need entries. */
static int vec_grow(Parser *P, void **arr, size_t *cap, size_t need, size_t es) {
    if (need <= *cap)
        return 0;
    size_t ncap = *cap ? *cap : 8;
    while (ncap < need) {
        if (ncap > ((size_t)1 << 40) / es)
            return oom(P);
        ncap *= 2;
    }
    void *n = ir_realloc(*arr, ncap * es);
    if (!n)
        return oom(P);
    *arr = n;
    *cap = ncap;
    return 0;
}

/* Arena array growth: copies into a new arena block of twice the capacity (the old block is
 * left to the arena; total waste at most the final size). */
static void *arena_grow(Parser *P, IrArena *a, void *old, size_t n, size_t *cap, size_t es) {
    if (n < *cap)
        return old;
    size_t ncap = *cap ? *cap * 2 : 4;
    if (ncap > ((size_t)1 << 40) / es) {
        oom(P);
        return NULL;
    }
    void *nb = ir_arena_alloc(a, ncap * es);
    if (!nb) {
        oom(P);
        return NULL;
    }
    if (n)
        memcpy(nb, old, n * es);
    *cap = ncap;
    return nb;
}

/* ------------------------------------------------------------------ types */

static int parse_dtype(Parser *P, IrDType *dt, int allow_undef) {
    size_t at = (skip_ws(P), P->pos);
    const char *s;
    size_t n = lex_ident(P, &s);
    char name[24];
    if (n && n < sizeof name) {
        memcpy(name, s, n);
        name[n] = 0;
        if (!strcmp(name, "undef") && allow_undef) {
            *dt = IR_DT_UNDEFINED;
            return 0;
        }
        IrDType x = ir_dtype_from_name(name);
        if (x != IR_DT_UNDEFINED) {
            *dt = x;
            return 0;
        }
    }
    P->pos = at;
    if (n)
        return perr(P, at, "unknown element type '%.*s'", (int)(n < 40 ? n : 40), s);
    char b[32];
    return perr(P, at, "expected an element type (f32, i64, ...), found %s", found_desc(P, b, sizeof b));
}

/* '[' ('*' | dim (',' dim)*)? ']' into t->rank / t->dims. */
static int parse_dims(Parser *P, IrArena *a, IrType *t) {
    if (expect(P, '[', "to open the dimensions"))
        return -1;
    if (peek(P) == '*') {
        P->pos++;
        t->rank = -1;
        t->dims = NULL;
        return expect(P, ']', "after '*'");
    }
    IrDim tmp[IR_MAX_RANK];
    int rank = 0;
    if (peek(P) != ']') {
        for (;;) {
            if (rank == IR_MAX_RANK)
                return perr(P, P->pos, "more than %d dimensions", IR_MAX_RANK);
            IrDim *dm = &tmp[rank++];
            dm->value = -1;
            dm->sym = NULL;
            int c = peek(P);
            if (c == '?') {
                P->pos++;
            } else if (c == '"') {
                if (!(dm->sym = lex_cstring(P, a, "a dimension symbol")))
                    return -1;
            } else if (c >= 0 && is_alpha_(c)) {
                if (!(dm->sym = lex_ident_or_string(P, a, "a dimension symbol")))
                    return -1;
            } else {
                if (parse_int_range(P, 0, INT64_MAX, &dm->value, "a dimension"))
                    return -1;
            }
            if (peek(P) == ',') {
                P->pos++;
                continue;
            }
            break;
        }
    }
    if (expect(P, ']', "to close the dimensions"))
        return -1;
    t->rank = rank;
    t->dims = NULL;
    if (rank) {
        t->dims = ir_arena_memdup(a, tmp, (size_t)rank * sizeof(IrDim));
        if (!t->dims)
            return oom(P);
    }
    return 0;
}

/* A type (docs/IR_FORMAT.md "Types"); depth bounds seq/opt/map nesting. */
static int parse_type(Parser *P, IrArena *a, IrType *t, int depth) {
    memset(t, 0, sizeof *t);
    t->rank = -1;
    if (depth >= PARSE_TYPE_MAX_DEPTH)
        return perr(P, P->pos, "types nested deeper than %d levels", PARSE_TYPE_MAX_DEPTH);
    int c = peek(P);
    if (c == '?') {
        P->pos++;
        t->kind = IR_TYPE_UNKNOWN;
        return 0;
    }
    size_t at = P->pos;
    const char *s;
    size_t n = lex_ident(P, &s);
    if (n && (word_is(s, n, "seq") || word_is(s, n, "opt") || word_is(s, n, "map") ||
              word_is(s, n, "sparse")) && peek(P) == '(') {
        P->pos++;
        if (word_is(s, n, "sparse")) {
            t->kind = IR_TYPE_SPARSE_TENSOR;
            if (parse_dtype(P, &t->dtype, 1) || parse_dims(P, a, t))
                return -1;
            return expect(P, ')', "to close sparse(");
        }
        if (word_is(s, n, "map")) {
            t->kind = IR_TYPE_MAP;
            if (parse_dtype(P, &t->dtype, 1) || expect(P, ',', "after the map key type"))
                return -1;
        } else {
            t->kind = word_is(s, n, "seq") ? IR_TYPE_SEQUENCE : IR_TYPE_OPTIONAL;
        }
        t->elem = ir_arena_alloc(a, sizeof(IrType));
        if (!t->elem)
            return oom(P);
        if (parse_type(P, a, t->elem, depth + 1))
            return -1;
        return expect(P, ')', "to close the type");
    }
    P->pos = at;
    t->kind = IR_TYPE_TENSOR;
    if (parse_dtype(P, &t->dtype, 1))
        return -1;
    return parse_dims(P, a, t);
}

/* ------------------------------------------------------------------ literals */

/* One element of type dt at p. */
static int parse_elem(Parser *P, IrArena *a, IrDType dt, unsigned char *p) {
    int64_t iv = 0;
    uint64_t uv = 0;
    switch (dt) {
    case IR_DT_FLOAT:
        return parse_float_bits(P, 0, p, "f32 element");
    case IR_DT_DOUBLE:
        return parse_float_bits(P, 1, p, "f64 element");
    case IR_DT_COMPLEX64:
    case IR_DT_COMPLEX128: {
        int w = dt == IR_DT_COMPLEX128;
        if (expect(P, '(', "to open a complex number") || parse_float_bits(P, w, p, "real part") ||
            expect(P, ',', "between real and imaginary parts") ||
            parse_float_bits(P, w, p + (w ? 8 : 4), "imaginary part") ||
            expect(P, ')', "to close a complex number"))
            return -1;
        return 0;
    }
    case IR_DT_FLOAT16:
    case IR_DT_BFLOAT16: {
        if (parse_hex(P, 0xffff, &uv, ir_dtype_name(dt)))
            return -1;
        uint16_t x = (uint16_t)uv;
        memcpy(p, &x, 2);
        return 0;
    }
    case IR_DT_FLOAT8E4M3FN:
    case IR_DT_FLOAT8E4M3FNUZ:
    case IR_DT_FLOAT8E5M2:
    case IR_DT_FLOAT8E5M2FNUZ:
    case IR_DT_FLOAT8E8M0:
    case IR_DT_FLOAT4E2M1:
        if (parse_hex(P, dt == IR_DT_FLOAT4E2M1 ? 0xf : 0xff, &uv, ir_dtype_name(dt)))
            return -1;
        p[0] = (unsigned char)uv;
        return 0;
    case IR_DT_BOOL:
        if (parse_int_range(P, 0, 1, &iv, "bool"))
            return -1;
        p[0] = (unsigned char)iv;
        return 0;
    case IR_DT_UINT8:
    case IR_DT_UINT4:
    case IR_DT_UINT2: {
        int64_t hi = dt == IR_DT_UINT8 ? 255 : dt == IR_DT_UINT4 ? 15 : 3;
        if (parse_int_range(P, 0, hi, &iv, ir_dtype_name(dt)))
            return -1;
        p[0] = (unsigned char)iv;
        return 0;
    }
    case IR_DT_INT8:
    case IR_DT_INT4:
    case IR_DT_INT2: {
        int64_t lim = dt == IR_DT_INT8 ? 128 : dt == IR_DT_INT4 ? 8 : 2;
        if (parse_int_range(P, -lim, lim - 1, &iv, ir_dtype_name(dt)))
            return -1;
        int8_t x = (int8_t)iv;
        memcpy(p, &x, 1);
        return 0;
    }
    case IR_DT_UINT16: {
        if (parse_int_range(P, 0, UINT16_MAX, &iv, "u16"))
            return -1;
        uint16_t x = (uint16_t)iv;
        memcpy(p, &x, 2);
        return 0;
    }
    case IR_DT_INT16: {
        if (parse_int_range(P, INT16_MIN, INT16_MAX, &iv, "i16"))
            return -1;
        int16_t x = (int16_t)iv;
        memcpy(p, &x, 2);
        return 0;
    }
    case IR_DT_UINT32: {
        if (parse_int_range(P, 0, UINT32_MAX, &iv, "u32"))
            return -1;
        uint32_t x = (uint32_t)iv;
        memcpy(p, &x, 4);
        return 0;
    }
    case IR_DT_INT32: {
        if (parse_int_range(P, INT32_MIN, INT32_MAX, &iv, "i32"))
            return -1;
        int32_t x = (int32_t)iv;
        memcpy(p, &x, 4);
        return 0;
    }
    case IR_DT_UINT64:
        if (parse_u64(P, &uv, "u64"))
            return -1;
        memcpy(p, &uv, 8);
        return 0;
    case IR_DT_INT64:
        if (parse_i64(P, &iv, "i64"))
            return -1;
        memcpy(p, &iv, 8);
        return 0;
    case IR_DT_STRING: {
        if (lex_string(P))
            return -1;
        IrString s;
        s.len = P->slen;
        s.data = ir_arena_memdup(a, P->sbuf, P->slen + 1); /* NUL-terminated copy */
        if (!s.data)
            return oom(P);
        memcpy(p, &s, sizeof s);
        return 0;
    }
    default:
        return perr(P, P->pos, "constants of element type %s are not supported", ir_dtype_name(dt));
    }
}

/* The data list '[' elems ']' of a tensor of type (dt, rank, dims) allocated in arena a. */
static IrTensor *parse_tensor_data(Parser *P, IrArena *a, IrDType dt, int rank, const int64_t *dims) {
    size_t at = (skip_ws(P), P->pos);
    if (peekc(P) == '<')
        return perr(P, at, "constant has no data ('<no data>' cannot be parsed back)"), NULL;
    if (expect(P, '[', "to open the constant's elements"))
        return NULL;
    int64_t numel = 1;
    for (int i = 0; i < rank; i++)
        if (ir_mul_i64(numel, dims[i], &numel))
            return perr(P, at, "constant's element count overflows"), NULL;
    /* every element takes at least one byte of text: refuse before allocating */
    if ((uint64_t)numel > (uint64_t)(P->len - P->pos))
        return perr(P, at, "constant declares %lld elements but the text is shorter than that",
                    (long long)numel), NULL;
    IrTensor *t = ir_tensor_new(a, dt, rank, dims);
    if (!t)
        return perr(P, at, "cannot allocate a %s constant of %lld elements", ir_dtype_name(dt),
                    (long long)numel), NULL;
    size_t es = ir_dtype_size(dt);
    for (int64_t i = 0; i < numel; i++) {
        if (peek(P) == ']')
            return perr(P, P->pos, "constant has %lld elements, expected %lld", (long long)i,
                        (long long)numel), NULL;
        if (i && expect(P, ',', "between elements"))
            return NULL;
        if (peek(P) == '.')
            return perr(P, P->pos, "summarised constant (printed without 'full') cannot be "
                        "parsed back: print it in full (onnxc dump --full)"), NULL;
        if (parse_elem(P, a, dt, (unsigned char *)t->data + (size_t)i * es))
            return NULL;
    }
    if (peek(P) == ',') {
        P->pos++;
        if (peek(P) == '.')
            return perr(P, P->pos, "summarised constant (printed without 'full') cannot be parsed "
                        "back: print it in full (onnxc dump --full)"), NULL;
        return perr(P, P->pos, "constant has more than the %lld elements its type declares",
                    (long long)numel), NULL;
    }
    if (expect(P, ']', "to close the constant's elements"))
        return NULL;
    return t;
}

/* A tensor's own type: dtype '[' int (',' int)* ']' (always static). */
static int parse_tensor_type(Parser *P, IrDType *dt, int *rank, int64_t *dims) {
    if (parse_dtype(P, dt, 0) || expect(P, '[', "to open the constant's dimensions"))
        return -1;
    *rank = 0;
    if (peek(P) != ']') {
        for (;;) {
            if (*rank == IR_MAX_RANK)
                return perr(P, P->pos, "more than %d dimensions", IR_MAX_RANK);
            if (parse_int_range(P, 0, INT64_MAX, &dims[*rank], "a constant's dimension"))
                return -1;
            (*rank)++;
            if (peek(P) != ',')
                break;
            P->pos++;
        }
    }
    return expect(P, ']', "to close the constant's dimensions");
}

/* LITERAL := [TENSORTYPE] '[' ELEMS ']'. Without TENSORTYPE the declared type vt gives the
 * element type and shape (it must then be a static tensor type). */
static IrTensor *parse_literal(Parser *P, IrArena *a, const IrType *vt) {
    int c = peek(P);
    int64_t dims[IR_MAX_RANK];
    int rank = 0;
    IrDType dt;
    if (c == '[' || c == '<') {
        if (!vt || !ir_type_is_static(vt) || !ir_dtype_valid(vt->dtype))
            return perr(P, P->pos, "constant without its own type, but the declared type is not "
                        "a static tensor type"), NULL;
        dt = vt->dtype;
        rank = vt->rank;
        for (int i = 0; i < rank; i++)
            dims[i] = vt->dims[i].value;
    } else if (parse_tensor_type(P, &dt, &rank, dims)) {
        return NULL;
    }
    return parse_tensor_data(P, a, dt, rank, dims);
}

/* ------------------------------------------------------------------ values */

/* A value reference after '%': a plain name or a quoted string (into P->sbuf). Returns the
 * name in P->sbuf (NUL-terminated) or NULL. */
static const char *lex_value_name(Parser *P) {
    size_t at = (skip_ws(P), P->pos);
    if (peekc(P) != '%') {
        char b[32];
        perr(P, at, "expected a value name (%%name), found %s", found_desc(P, b, sizeof b));
        return NULL;
    }
    P->pos++;
    if (peekc(P) == '"') {
        if (lex_string(P))
            return NULL;
        if (memchr(P->sbuf, 0, P->slen)) {
            perr(P, at, "value name contains a NUL byte");
            return NULL;
        }
    } else {
        size_t p = P->pos;
        while (p < P->len && is_name_char((unsigned char)P->src[p]))
            p++;
        P->slen = 0;
        for (size_t i = P->pos; i < p; i++)
            if (sbuf_put(P, P->src[i]))
                return NULL;
        P->pos = p;
        if (sbuf_put(P, 0))
            return NULL;
        P->slen--;
    }
    if (P->slen == 0) {
        perr(P, at, "empty value name");
        return NULL;
    }
    return P->sbuf;
}

/* Graph being parsed, with its forward references. */
typedef struct GraphCtx {
    IrGraph *g;
    Pending *pending;   /* malloc'ed */
    size_t npending, cap_pending;
    int depth;          /* nesting level (0: main graph or function) */
} GraphCtx;

/* The value a use of `name` refers to in the graph: existing, or a new forward reference. */
static IrValue *use_value(Parser *P, GraphCtx *G, const char *name, size_t at) {
    IrValue *v = ir_graph_find_value(G->g, name);
    if (v)
        return v;
    v = ir_value_new(G->g, name);
    if (!v) {
        oom(P);
        return NULL;
    }
    v->user = &parse_pending_mark;
    if (vec_grow(P, (void **)&G->pending, &G->cap_pending, G->npending + 1, sizeof(Pending)))
        return NULL;
    G->pending[G->npending].v = v;
    G->pending[G->npending].pos = at;
    G->npending++;
    return v;
}

/* A new definition of `name` (node output, declaration): takes over a forward reference; a
 * second definition is an error. */
static IrValue *define_value(Parser *P, GraphCtx *G, const char *name, size_t at) {
    IrValue *v = ir_graph_find_value(G->g, name);
    if (v && v->user == &parse_pending_mark) {
        v->user = NULL;
        return v;
    }
    if (v) {
        perr(P, at, "value '%s' is defined more than once in graph '%s'", name, G->g->name);
        return NULL;
    }
    v = ir_value_new(G->g, name);
    if (!v)
        oom(P);
    return v;
}

/* Optional " @ws+OFF" after a type. */
static int parse_offset(Parser *P, IrValue *v) {
    if (peek(P) != '@')
        return 0;
    size_t at = P->pos;
    if (P->len - P->pos >= 4 && memcmp(P->src + P->pos, "@ws+", 4) == 0) {
        P->pos += 4;
        int64_t off;
        if (parse_int_range(P, 0, INT64_MAX, &off, "a workspace offset"))
            return -1;
        if (v)
            v->offset = off;
        return 0;
    }
    return perr(P, at, "expected '@ws+OFFSET'");
}

/* ------------------------------------------------------------------ graphs and nodes */

static int parse_graph_block(Parser *P, IrGraph *g, int depth);

static const struct {
    const char *name;
    IrAttrKind kind;
} attr_kinds[] = {
    {"float", IR_ATTR_FLOAT},       {"int", IR_ATTR_INT},
    {"string", IR_ATTR_STRING},     {"tensor", IR_ATTR_TENSOR},
    {"graph", IR_ATTR_GRAPH},       {"floats", IR_ATTR_FLOATS},
    {"ints", IR_ATTR_INTS},         {"strings", IR_ATTR_STRINGS},
    {"tensors", IR_ATTR_TENSORS},   {"graphs", IR_ATTR_GRAPHS},
    {"sparse_tensor", IR_ATTR_SPARSE_TENSOR}, {"sparse_tensors", IR_ATTR_SPARSE_TENSORS},
    {"type", IR_ATTR_TYPE_PROTO},   {"types", IR_ATTR_TYPE_PROTOS},
    {"undefined", IR_ATTR_UNDEFINED},
};

/* A subgraph value: 'graph' "NAME" '{' body '}', created as a child of node n's graph and
 * stored through *slot before its body is parsed (so that it is freed with the node). */
static int parse_subgraph(Parser *P, IrNode *n, IrGraph **slot, int depth) {
    size_t at = (skip_ws(P), P->pos);
    if (expect_word(P, "graph", "(a subgraph)"))
        return -1;
    if (depth + 1 >= IR_MAX_SUBGRAPH_DEPTH)
        return perr(P, at, "subgraphs nested deeper than %d levels", IR_MAX_SUBGRAPH_DEPTH - 1);
    const char *name = lex_cstring(P, n->graph->arena, "a graph name");
    if (!name)
        return -1;
    IrGraph *sub = ir_graph_create(P->m, n->graph, name);
    if (!sub)
        return oom(P);
    *slot = sub;
    return parse_graph_block(P, sub, depth + 1);
}

/* A tensor attribute value: ["NAME"] TENSORTYPE DATA. */
static IrTensor *parse_attr_tensor(Parser *P, IrArena *a) {
    const char *tname = NULL;
    if (peek(P) == '"' && !(tname = lex_cstring(P, a, "a tensor name")))
        return NULL;
    IrTensor *t = parse_literal(P, a, NULL);
    if (t)
        t->name = tname;
    return t;
}

/* NAME ':' KIND '=' VALUE, appended to node n (attrs grown geometrically by the caller). */
static int parse_attr(Parser *P, IrNode *n, IrAttr *at, int depth) {
    IrArena *a = n->graph->arena;
    if (!(at->name = lex_ident_or_string(P, a, "an attribute name")))
        return -1;
    if (expect(P, ':', "after the attribute name"))
        return -1;
    size_t kat = (skip_ws(P), P->pos);
    const char *ks;
    size_t kn = lex_ident(P, &ks);
    size_t k = 0;
    for (; k < sizeof attr_kinds / sizeof attr_kinds[0]; k++)
        if (kn && word_is(ks, kn, attr_kinds[k].name))
            break;
    if (k == sizeof attr_kinds / sizeof attr_kinds[0])
        return perr(P, kat, "unknown attribute kind '%.*s' for attribute '%s'",
                    (int)(kn < 40 ? kn : 40), kn ? ks : "", at->name);
    at->kind = attr_kinds[k].kind;
    if (expect(P, '=', "after the attribute kind"))
        return -1;
    if (peek(P) == '@') {
        P->pos++;
        at->ref_attr_name = lex_ident_or_string(P, a, "a referenced attribute name");
        return at->ref_attr_name ? 0 : -1;
    }
    size_t vat = P->pos;
    switch (at->kind) {
    case IR_ATTR_UNDEFINED:
        if (peek(P) != '_')
            return perr(P, vat, "expected '_' for an undefined attribute");
        P->pos++;
        return 0;
    case IR_ATTR_FLOAT:
        return parse_float_bits(P, 0, &at->f, "float attribute");
    case IR_ATTR_INT:
        return parse_i64(P, &at->i, "int attribute");
    case IR_ATTR_STRING: {
        if (lex_string(P))
            return -1;
        char *s = ir_arena_memdup(a, P->sbuf, P->slen + 1);
        if (!s)
            return oom(P);
        at->s.data = s;
        at->s.len = P->slen;
        return 0;
    }
    case IR_ATTR_TENSOR:
    case IR_ATTR_SPARSE_TENSOR:
        at->t = parse_attr_tensor(P, a);
        return at->t ? 0 : -1;
    case IR_ATTR_GRAPH:
        return parse_subgraph(P, n, &at->g, depth);
    case IR_ATTR_TYPE_PROTO:
        if (!(at->tp = ir_arena_alloc(a, sizeof(IrType))))
            return oom(P);
        return parse_type(P, a, at->tp, 0);
    default:
        break;
    }
    /* list kinds */
    if (expect(P, '[', "to open the attribute's list"))
        return -1;
    size_t es = at->kind == IR_ATTR_FLOATS ? sizeof(float)
              : at->kind == IR_ATTR_INTS ? sizeof(int64_t)
              : at->kind == IR_ATTR_STRINGS ? sizeof(IrString)
              : sizeof(void *);
    void *arr = NULL;   /* arena array (graphs: stored in the attribute as it grows) */
    size_t cap = 0, cnt = 0;
    int rc = 0;
    if (peek(P) != ']') {
        for (;;) {
            if (cnt >= (size_t)INT32_MAX)
                return perr(P, P->pos, "attribute list too long");
            void *na = arena_grow(P, a, arr, cnt, &cap, es);
            if (!na)
                return -1;
            arr = na;
            unsigned char *slot = (unsigned char *)arr + cnt * es;
            switch (at->kind) {
            case IR_ATTR_FLOATS:
                at->floats = arr;
                rc = parse_float_bits(P, 0, slot, "float list element");
                break;
            case IR_ATTR_INTS:
                at->ints = arr;
                rc = parse_i64(P, (int64_t *)slot, "int list element");
                break;
            case IR_ATTR_STRINGS: {
                at->strings = arr;
                rc = lex_string(P);
                if (!rc) {
                    IrString s = {ir_arena_memdup(a, P->sbuf, P->slen + 1), P->slen};
                    if (!s.data)
                        return oom(P);
                    memcpy(slot, &s, sizeof s);
                }
                break;
            }
            case IR_ATTR_TENSORS:
            case IR_ATTR_SPARSE_TENSORS: {
                at->tensors = arr;
                IrTensor *t = parse_attr_tensor(P, a);
                memcpy(slot, &t, sizeof t);
                rc = t ? 0 : -1;
                break;
            }
            case IR_ATTR_GRAPHS:
                at->graphs = arr;
                ((IrGraph **)arr)[cnt] = NULL;
                at->n = (int)cnt + 1; /* owned (and freed) by the attribute from here on */
                rc = parse_subgraph(P, n, &((IrGraph **)arr)[cnt], depth);
                break;
            case IR_ATTR_TYPE_PROTOS: {
                at->tps = arr;
                IrType *tp = ir_arena_alloc(a, sizeof(IrType));
                if (!tp)
                    return oom(P);
                memcpy(slot, &tp, sizeof tp);
                rc = parse_type(P, a, tp, 0);
                break;
            }
            default:
                return perr(P, vat, "internal: unexpected attribute kind");
            }
            cnt++;
            at->n = (int)cnt;
            if (rc)
                return -1;
            if (peek(P) != ',')
                break;
            P->pos++;
        }
    }
    return expect(P, ']', "to close the attribute's list");
}

/* Appends an attribute slot to n, growing n->attrs geometrically (ir_node_add_attr copies the
 * whole array per call, which a node with many attributes cannot afford). */
static IrAttr *node_attr_slot(Parser *P, IrNode *n, size_t *cap) {
    IrAttr *na = arena_grow(P, n->graph->arena, n->attrs, (size_t)n->nattr, cap, sizeof(IrAttr));
    if (!na)
        return NULL;
    n->attrs = na;
    IrAttr *at = &n->attrs[n->nattr];
    memset(at, 0, sizeof *at);
    n->nattr++;
    return at;
}

/* [domain '.'] optype: bare dotted words split at the last '.', a quoted string followed by
 * '.' is a domain. Results are arena strings. */
static int parse_opref(Parser *P, IrArena *a, const char **domain, const char **op_type) {
    skip_ws(P);
    size_t at = P->pos;
    if (peekc(P) == '"') {
        const char *first = lex_cstring(P, a, "an operator name");
        if (!first)
            return -1;
        if (peekc(P) == '.') {
            P->pos++;
            *domain = first;
            *op_type = lex_ident_or_string(P, a, "an operator type");
            return *op_type ? 0 : -1;
        }
        *domain = "";
        *op_type = first;
        return 0;
    }
    /* ident ('.' ident)* ['.' quoted] */
    size_t wstart = P->pos, last_dot = 0;
    int have_dot = 0;
    for (;;) {
        const char *s;
        if (!lex_ident(P, &s))
            return perr(P, P->pos, "expected an operator type");
        if (peekc(P) != '.')
            break;
        last_dot = P->pos;
        have_dot = 1;
        P->pos++;
        if (peekc(P) == '"') {
            *domain = ir_arena_strndup(a, P->src + wstart, last_dot - wstart);
            *op_type = lex_cstring(P, a, "an operator type");
            if (!*domain)
                return oom(P);
            return *op_type ? 0 : -1;
        }
        if (peekc(P) < 0 || !is_alpha_(peekc(P)))
            return perr(P, at, "bad operator name");
    }
    if (have_dot) {
        *domain = ir_arena_strndup(a, P->src + wstart, last_dot - wstart);
        *op_type = ir_arena_strndup(a, P->src + last_dot + 1, P->pos - last_dot - 1);
    } else {
        *domain = "";
        *op_type = ir_arena_strndup(a, P->src + wstart, P->pos - wstart);
    }
    if (!*domain || !*op_type)
        return oom(P);
    return 0;
}

/* One node line; the first output (or '_' / '()') starts at the current position. */
static int parse_node(Parser *P, GraphCtx *G) {
    IrGraph *g = G->g;
    IrArena *a = g->arena;
    size_t line_at = (skip_ws(P), P->pos);
    IrValue **outs = NULL, **ins = NULL;
    size_t nout = 0, cap_out = 0, nin = 0, cap_in = 0;
    size_t *out_pos = NULL, cap_pos = 0;
    int rc = -1;
    IrNode *n = NULL;
    /* outputs */
    if (peek(P) == '(') {
        P->pos++;
        if (expect(P, ')', "(a node without outputs is written '()')"))
            goto done;
    } else {
        for (;;) {
            if (vec_grow(P, (void **)&outs, &cap_out, nout + 1, sizeof *outs) ||
                vec_grow(P, (void **)&out_pos, &cap_pos, nout + 1, sizeof *out_pos))
                goto done;
            size_t vat = (skip_ws(P), P->pos);
            out_pos[nout] = vat;
            if (peekc(P) == '_' && (P->pos + 1 >= P->len || !is_name_char((unsigned char)P->src[P->pos + 1]))) {
                P->pos++;
                outs[nout++] = NULL;
            } else {
                const char *name = lex_value_name(P);
                if (!name)
                    goto done;
                for (size_t k = 0; k < nout; k++)
                    if (outs[k] && !strcmp(outs[k]->name, name)) {
                        perr(P, vat, "value '%s' is defined more than once in graph '%s'", name, g->name);
                        goto done;
                    }
                if (!(outs[nout++] = define_value(P, G, name, vat)))
                    goto done;
            }
            if (nout > (size_t)INT32_MAX / 2) {
                perr(P, vat, "too many outputs");
                goto done;
            }
            if (peek(P) != ',')
                break;
            P->pos++;
        }
    }
    if (expect(P, '=', "after the node's outputs"))
        goto done;
    const char *domain = "", *op_type = "";
    if (parse_opref(P, a, &domain, &op_type))
        goto done;
    if (expect(P, '(', "to open the node's inputs"))
        goto done;
    if (peek(P) != ')') {
        for (;;) {
            if (vec_grow(P, (void **)&ins, &cap_in, nin + 1, sizeof *ins))
                goto done;
            size_t vat = (skip_ws(P), P->pos);
            if (peekc(P) == '_') {
                P->pos++;
                ins[nin++] = NULL;
            } else {
                const char *name = lex_value_name(P);
                if (!name || !(ins[nin++] = use_value(P, G, name, vat)))
                    goto done;
            }
            if (nin > (size_t)INT32_MAX / 2) {
                perr(P, vat, "too many inputs");
                goto done;
            }
            if (peek(P) != ',')
                break;
            P->pos++;
        }
    }
    if (expect(P, ')', "to close the node's inputs"))
        goto done;
    n = ir_node_new(g, NULL, "", domain, op_type, 0, (int)nin, ins, (int)nout, outs);
    if (!n) {
        oom(P);
        goto done;
    }
    /* attributes */
    if (expect(P, '{', "to open the node's attributes"))
        goto done;
    size_t acap = 0;
    if (peek(P) != '}') {
        for (;;) {
            IrAttr *at = node_attr_slot(P, n, &acap);
            if (!at || parse_attr(P, n, at, G->depth))
                goto done;
            if (n->nattr >= INT32_MAX / 2) {
                perr(P, P->pos, "too many attributes");
                goto done;
            }
            if (peek(P) != ',')
                break;
            P->pos++;
        }
    }
    if (expect(P, '}', "to close the node's attributes"))
        goto done;
    /* output types */
    if (nout > 0) {
        if (expect(P, ':', "before the node's output types"))
            goto done;
        for (size_t i = 0; i < nout; i++) {
            if (i && expect(P, ',', "between output types"))
                goto done;
            IrValue *v = outs[i];
            if (!v) {
                if (peek(P) != '_') {
                    perr(P, P->pos, "output %zu is omitted: its type must be '_'", i);
                    goto done;
                }
                P->pos++;
                continue;
            }
            if (peek(P) == '_') {
                perr(P, P->pos, "output %zu ('%s') needs a type, found '_'", i, v->name);
                goto done;
            }
            if (parse_type(P, a, &v->type, 0) || parse_offset(P, v))
                goto done;
            if (peek(P) == '=') {
                P->pos++;
                if (peek(P) == '@') {
                    size_t rat = P->pos++;
                    const char *an = lex_ident_or_string(P, a, "an attribute name");
                    if (!an)
                        goto done;
                    for (int k = 0; k < n->nattr; k++) {
                        IrAttr *x = &n->attrs[k];
                        if (!strcmp(x->name, an) && !x->ref_attr_name && x->t &&
                            (x->kind == IR_ATTR_TENSOR || x->kind == IR_ATTR_SPARSE_TENSOR)) {
                            v->init = x->t;
                            break;
                        }
                    }
                    if (!v->init) {
                        perr(P, rat, "'@%s' does not name a tensor attribute of this node", an);
                        goto done;
                    }
                } else if (!(v->init = parse_literal(P, a, &v->type))) {
                    goto done;
                }
            }
        }
    }
    /* provenance */
    if (expect(P, '#', "before the node's provenance ('# node \"NAME\", opset N')") ||
        expect_word(P, "node", "after '#'"))
        goto done;
    if (!(n->name = lex_cstring(P, a, "a node name")))
        goto done;
    int64_t opset;
    if (expect(P, ',', "after the node name") || expect_word(P, "opset", "after the node name") ||
        parse_int_range(P, INT32_MIN, INT32_MAX, &opset, "an opset version"))
        goto done;
    n->opset = (int)opset;
    if (peek(P) == ',') {
        P->pos++;
        if (expect_word(P, "kernel", "after the opset"))
            goto done;
        if (!(n->kernel = lex_ident_or_string(P, a, "a kernel name")))
            goto done;
    }
    rc = 0;
done:
    if (rc && !P->failed)
        perr(P, line_at, "bad node");
    free(outs);
    free(ins);
    free(out_pos);
    return rc;
}

/* Line kinds of a graph body, in the order they must appear. */
enum { L_DOC, L_INPUT, L_OUTER, L_INIT, L_CONST, L_NODE, L_OUTPUT };

/* 'KEYWORD %v : TYPE [@ws+OFF]' after the keyword; returns the name's position in *vat. */
static const char *parse_decl_head(Parser *P, size_t *vat) {
    *vat = (skip_ws(P), P->pos);
    const char *name = lex_value_name(P);
    if (!name)
        return NULL;
    if (expect(P, ':', "after the value name")) /* keeps P->sbuf: ':' is not a string */
        return NULL;
    return name;
}

/* '{' body '}' of graph g (its name already read). */
static int parse_graph_block(Parser *P, IrGraph *g, int depth) {
    if (expect(P, '{', "to open the graph body"))
        return -1;
    GraphCtx G = {.g = g, .depth = depth};
    IrArena *a = g->arena;
    int phase = L_DOC, rc = -1;
    static const char *const phase_names[] = {"doc", "input", "outer", "init", "const", "node",
                                              "output"};
    for (;;) {
        int c = peek(P);
        if (c == '}') {
            P->pos++;
            break;
        }
        if (c < 0) {
            perr(P, P->pos, "unexpected end of the text inside graph '%s' (missing '}')", g->name);
            goto done;
        }
        size_t at = P->pos;
        int kind = L_NODE;
        const char *s = NULL;
        size_t n = 0;
        if (c != '%' && c != '(') {
            n = lex_ident(P, &s);
            if (n == 1 && s[0] == '_') {
                P->pos = at; /* a node whose first output is omitted */
            } else if (n && word_is(s, n, "doc"))
                kind = L_DOC;
            else if (n && word_is(s, n, "input"))
                kind = L_INPUT;
            else if (n && word_is(s, n, "outer"))
                kind = L_OUTER;
            else if (n && word_is(s, n, "init"))
                kind = L_INIT;
            else if (n && word_is(s, n, "const"))
                kind = L_CONST;
            else if (n && word_is(s, n, "output"))
                kind = L_OUTPUT;
            else {
                perr(P, at, "expected a declaration (input, outer, init, const, output), a node or "
                     "'}' in graph '%s', found '%.*s'", g->name, (int)(n ? (n < 40 ? n : 40) : 1),
                     n ? s : P->src + at);
                goto done;
            }
        }
        if (kind < phase) {
            perr(P, at, "'%s' line after '%s' lines (order: doc, input, outer, init, const, nodes, "
                 "output)", phase_names[kind], phase_names[phase]);
            goto done;
        }
        if (kind == L_DOC && g->doc) {
            perr(P, at, "second 'doc' line");
            goto done;
        }
        phase = kind;
        if (kind == L_NODE) {
            if (parse_node(P, &G))
                goto done;
            continue;
        }
        if (kind == L_DOC) {
            if (!(g->doc = lex_cstring(P, a, "a doc string")))
                goto done;
            continue;
        }
        size_t vat;
        const char *name = parse_decl_head(P, &vat);
        if (!name)
            goto done;
        IrType ty;
        IrValue *v = NULL;
        if (kind == L_OUTPUT) {
            v = ir_graph_find_value(g, name);
            if (!v || v->user == &parse_pending_mark) {
                perr(P, vat, "output '%s' is not a value of graph '%s'", name, g->name);
                goto done;
            }
            int64_t off0 = v->offset;
            v->offset = -1;
            if (parse_type(P, a, &ty, 0) || parse_offset(P, v))
                goto done;
            if (!ir_type_equal(&ty, &v->type) || v->offset != off0) {
                perr(P, vat, "output '%s': the type or offset differs from the value's declaration",
                     v->name);
                goto done;
            }
            if (ir_graph_add_output(g, v)) {
                oom(P);
                goto done;
            }
            continue;
        }
        if (kind == L_INIT) {
            IrValue *x = ir_graph_find_value(g, name);
            if (x && (x->flags & IR_VALUE_INPUT) && !(x->flags & IR_VALUE_INITIALIZER))
                v = x; /* IR v3: the initializer of a declared input */
        }
        if (!v) {
            if (ir_graph_find_value(g, name)) {
                perr(P, vat, "value '%s' is defined more than once in graph '%s'", name, g->name);
                goto done;
            }
            if (!(v = ir_value_new(g, name))) {
                oom(P);
                goto done;
            }
        }
        if (parse_type(P, a, &v->type, 0) || parse_offset(P, v))
            goto done;
        if (kind == L_INPUT) {
            if (ir_graph_add_input(g, v)) {
                oom(P);
                goto done;
            }
        } else if (kind == L_OUTER) {
            if (!g->parent) {
                perr(P, at, "'outer' declaration in a graph that has no enclosing graph");
                goto done;
            }
            const char *from = v->name;
            size_t fat = vat;
            if (next_word_is(P, "from")) {
                fat = P->pos;
                if (expect_word(P, "from", "after the outer value's type") || !(from = lex_value_name(P)))
                    goto done;
            }
            IrValue *ov = ir_graph_find_value(g->parent, from);
            if (!ov) {
                perr(P, fat, "outer value '%s' is not a value of the enclosing graph '%s'", from,
                     g->parent->name);
                goto done;
            }
            v->flags |= IR_VALUE_OUTER;
            v->outer = ov;
        } else {
            if (expect(P, '=', "before the constant"))
                goto done;
            if (!(v->init = parse_literal(P, a, &v->type)))
                goto done;
            if (kind == L_INIT && ir_graph_add_init(g, v)) {
                oom(P);
                goto done;
            }
        }
    }
    rc = 0;
done:
    for (size_t i = 0; i < G.npending; i++) {
        IrValue *v = G.pending[i].v;
        if (v->user == &parse_pending_mark) {
            if (rc == 0)
                rc = perr(P, G.pending[i].pos, "value '%s' is used but never defined in graph '%s'",
                          v->name, g->name);
            v->user = NULL;
        }
    }
    free(G.pending);
    return rc;
}

/* ------------------------------------------------------------------ model */

static int parse_header_int(Parser *P, const char *kw, int64_t *out) {
    return expect_word(P, kw, "in the model header") || parse_i64(P, out, kw) ? -1 : 0;
}

static int parse_model(Parser *P) {
    IrModel *m = P->m;
    IrArena *a = m->arena;
    int64_t fmt;
    if (P->len < 8 || memcmp(P->src, "onnxc-ir", 8) != 0)
        return perr(P, 0, "not onnxc IR text (the first line must be 'onnxc-ir 1')");
    P->pos = 8;
    size_t at = (skip_ws(P), P->pos);
    if (parse_i64(P, &fmt, "format version"))
        return -1;
    if (fmt != 1)
        return perr(P, at, "unsupported IR text format version %lld (this parser reads 1)",
                    (long long)fmt);
    if (parse_header_int(P, "ir_version", &m->ir_version))
        return -1;
    if (expect_word(P, "producer", "in the model header") ||
        !(m->producer_name = lex_cstring(P, a, "the producer name")) ||
        !(m->producer_version = lex_cstring(P, a, "the producer version")))
        return -1;
    if (expect_word(P, "domain", "in the model header") ||
        !(m->model_domain = lex_cstring(P, a, "the model domain")))
        return -1;
    if (parse_header_int(P, "model_version", &m->model_version))
        return -1;
    size_t cap = 0;
    while (next_word_is(P, "opset")) {
        expect_word(P, "opset", "");
        IrOpsetImport *no = arena_grow(P, a, m->opsets, (size_t)m->nopsets, &cap, sizeof *no);
        if (!no)
            return -1;
        m->opsets = no;
        IrOpsetImport *o = &m->opsets[m->nopsets];
        if (!(o->domain = lex_cstring(P, a, "an opset domain")) ||
            parse_i64(P, &o->version, "opset version"))
            return -1;
        if (m->nopsets == INT32_MAX / 2)
            return perr(P, P->pos, "too many opsets");
        m->nopsets++;
    }
    size_t kcap = 0, vcap = 0;
    while (next_word_is(P, "meta")) {
        expect_word(P, "meta", "");
        size_t n = (size_t)m->nmeta;
        const char **nk = arena_grow(P, a, (void *)m->meta_keys, n, &kcap, sizeof(char *));
        const char **nv = nk ? arena_grow(P, a, (void *)m->meta_values, n, &vcap, sizeof(char *)) : NULL;
        if (!nk || !nv)
            return -1;
        m->meta_keys = nk;
        m->meta_values = nv;
        if (!(nk[n] = lex_cstring(P, a, "a metadata key")) ||
            !(nv[n] = lex_cstring(P, a, "a metadata value")))
            return -1;
        if (m->nmeta == INT32_MAX / 2)
            return perr(P, P->pos, "too much metadata");
        m->nmeta++;
    }
    if (next_word_is(P, "workspace_bytes") && parse_header_int(P, "workspace_bytes", &m->workspace_bytes))
        return -1;
    if (next_word_is(P, "naive_bytes") && parse_header_int(P, "naive_bytes", &m->naive_bytes))
        return -1;
    size_t fcap = 0, dcap = 0;
    while (next_word_is(P, "function")) {
        expect_word(P, "function", "");
        size_t n = (size_t)m->nfunctions;
        IrGraph **nf = arena_grow(P, a, m->functions, n, &fcap, sizeof(IrGraph *));
        const char **nd = nf ? arena_grow(P, a, (void *)m->function_domains, n, &dcap, sizeof(char *)) : NULL;
        if (!nf || !nd)
            return -1;
        m->functions = nf;
        m->function_domains = nd;
        const char *name = lex_cstring(P, a, "a function name");
        if (!name || expect_word(P, "domain", "after the function name"))
            return -1;
        const char *fd = lex_cstring(P, a, "a function domain");
        if (!fd)
            return -1;
        IrGraph *g = ir_graph_create(m, NULL, name);
        if (!g)
            return oom(P);
        nf[n] = g;
        nd[n] = fd;
        m->nfunctions++;
        if (parse_graph_block(P, g, 0))
            return -1;
        if (m->nfunctions == INT32_MAX / 2)
            return perr(P, P->pos, "too many functions");
    }
    if (expect_word(P, "graph", "(the main graph)"))
        return -1;
    const char *gname = lex_cstring(P, a, "the graph name");
    if (!gname)
        return -1;
    m->graph = ir_graph_create(m, NULL, gname);
    if (!m->graph)
        return oom(P);
    if (parse_graph_block(P, m->graph, 0))
        return -1;
    if (peek(P) >= 0) {
        char b[32];
        return perr(P, P->pos, "unexpected %s after the main graph", found_desc(P, b, sizeof b));
    }
    return 0;
}

IrModel *ir_parse_model(const char *text, size_t len, const char *path, IrDiag *d) {
    IrDiag local;
    if (!d) {
        ir_diag_init(&local, path);
        d = &local;
    }
    IrModel *m = NULL;
    if (!text) {
        ir_error(d, NULL, "no text to parse");
        goto out;
    }
    m = ir_model_create();
    if (!m) {
        ir_error(d, NULL, "out of memory");
        goto out;
    }
    Parser P = {.src = text, .len = len, .d = d, .m = m};
    if (path && !(m->path = ir_arena_strdup(m->arena, path)))
        oom(&P);
    if (!P.failed)
        parse_model(&P);
    free(P.sbuf);
    if (P.failed) {
        ir_model_destroy(m);
        m = NULL;
    }
out:
    if (d == &local)
        ir_diag_free(&local);
    return m;
}
