/* rt_str.c - kernels of the str family and the context's string pool.
 *
 * STRING tensors are arrays of OnnxcString records {const char *data; size_t len} (the layout of
 * IrString); the bytes are not NUL-terminated. Bytes a kernel creates come from the context's
 * pool (rt_str_alloc): a list of chunks released all at once by rt_str_release, which the model
 * API calls before every run and at context destruction (docs/OPS_STRINGS.md).
 *
 * ONNX specification (docs/Operators.md):
 *  - StringNormalizer (10): [C] or [1, C]; remove stop words, then LOWER/UPPER/NONE. Case
 *    folding is ASCII only (the locale attribute is ignored); if nothing is kept the output is
 *    one empty string ([1] or [1, 1]).
 *  - StringConcat (20): elementwise concatenation with numpy broadcasting.
 *  - StringSplit (20): Python str.split semantics (a delimiter: every occurrence separates, empty
 *    pieces kept; none or "": runs of whitespace separate, leading/trailing ones dropped);
 *    maxsplit bounds the number of splits.
 *  - RegexFullMatch (20): true where the whole element matches; the pattern arrives translated
 *    to POSIX ERE (ops/op_str.c) and is matched with libc's regcomp/regexec.
 */
#include <regex.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/onnxc_rt.h"
#include "runtime/rt_params.h"
#include "runtime/rt_params_str.h"

/* ------------------------------------------------------------------ the pool */

/* A chunk of the pool: header then `cap` bytes. */
typedef struct RtStrChunk {
    struct RtStrChunk *next; /* older chunk */
    size_t cap;              /* bytes after the header */
    size_t used;             /* bytes handed out */
    char data[];
} RtStrChunk;

#define RT_STR_CHUNK ((size_t)64 << 10)

void *rt_str_alloc(RtCtx *ctx, size_t n) {
    if (!ctx)
        return NULL;
    RtStrChunk *c = ctx->str_pool;
    if (n == 0)
        n = 1; /* a distinct, valid pointer */
    if (c && c->cap - c->used >= n) {
        void *p = c->data + c->used;
        c->used += n;
        return p;
    }
    size_t cap = n > RT_STR_CHUNK ? n : RT_STR_CHUNK;
    if (cap > SIZE_MAX - sizeof(RtStrChunk))
        return NULL;
    RtStrChunk *nc = malloc(sizeof(RtStrChunk) + cap);
    if (!nc)
        return NULL;
    nc->cap = cap;
    nc->used = n;
    if (c && n > RT_STR_CHUNK / 2 && c->cap - c->used > RT_STR_CHUNK / 4) {
        /* a big request: keep the partly used chunk on top for the small ones */
        nc->next = c->next;
        c->next = nc;
    } else {
        nc->next = c;
        ctx->str_pool = nc;
    }
    return nc->data;
}

void rt_str_release(RtCtx *ctx) {
    if (!ctx)
        return;
    RtStrChunk *c = ctx->str_pool;
    while (c) {
        RtStrChunk *next = c->next;
        free(c);
        c = next;
    }
    ctx->str_pool = NULL;
}

/* ------------------------------------------------------------------ helpers */

/* A string record as kernels see it. */
typedef OnnxcString RtStr;

static int str_eq(const RtStr *a, const char *b, size_t blen, int fold) {
    if (a->len != blen)
        return 0;
    if (!fold)
        return blen == 0 || memcmp(a->data, b, blen) == 0;
    for (size_t i = 0; i < blen; i++) {
        unsigned char x = (unsigned char)a->data[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z') x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z') y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
    }
    return 1;
}

/* Checks the element type of tensor t (present, STRING unless dt says otherwise). */
static int want_type(RtCtx *ctx, const char *op, const char *what, const RtTensor *t, int dt) {
    if (t->rank < 0 || (what[0] == 'i' && !t->data && rt_numel(t) > 0))
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "%s: %s is missing", op, what);
    if (t->dtype != dt)
        return rt_fail(ctx, ONNXC_ERR_TYPE, "%s: %s has element type %d, expected %d", op, what,
                       (int)t->dtype, dt);
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ StringNormalizer */

/* 1 if element x is one of the stop words. */
static int norm_is_stop(const RtStrNormParams *p, const RtStr *x) {
    const char *base = (const char *)p;
    for (int64_t s = 0; s < p->nstop; s++)
        if (str_eq(x, base + p->stop[s].off, (size_t)p->stop[s].len, !p->case_sensitive))
            return 1;
    return 0;
}

int rt_k_string_normalizer(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                           RtTensor *out, int nout) {
    const RtStrNormParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "StringNormalizer: bad arguments");
    int st = want_type(ctx, "StringNormalizer", "input X", &in[0], 8);
    if (!st) st = want_type(ctx, "StringNormalizer", "output Y", &out[0], 8);
    if (st)
        return st;
    if (in[0].rank < 1 || in[0].rank > 2 || out[0].rank != in[0].rank)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "StringNormalizer: X must be [C] or [1, C]");
    const RtStr *x = in[0].data;
    int64_t n = rt_numel(&in[0]), k = 0;
    for (int64_t i = 0; i < n; i++)
        k += !norm_is_stop(p, &x[i]);
    /* the kept elements, or one empty string; the output's shape is checked (declared) or
     * allocated (dynamic) here */
    int64_t dims[2] = {1, k ? k : 1};
    st = rt_out_alloc(ctx, &out[0], in[0].rank == 2 ? dims : dims + 1);
    if (st)
        return st;
    RtStr *y = out[0].data;
    if (k == 0) {
        y[0].data = "";
        y[0].len = 0;
        return ONNXC_OK;
    }
    k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (norm_is_stop(p, &x[i]))
            continue;
        size_t len = x[i].len;
        if (p->case_action == RT_STRNORM_NONE || len == 0) {
            y[k++] = x[i];
            continue;
        }
        char *b = rt_str_alloc(ctx, len);
        if (!b)
            return rt_fail(ctx, ONNXC_ERR_NOMEM, "StringNormalizer: out of memory");
        for (size_t j = 0; j < len; j++) {
            unsigned char c = (unsigned char)x[i].data[j];
            if (p->case_action == RT_STRNORM_LOWER && c >= 'A' && c <= 'Z') c = (unsigned char)(c + 32);
            if (p->case_action == RT_STRNORM_UPPER && c >= 'a' && c <= 'z') c = (unsigned char)(c - 32);
            b[j] = (char)c;
        }
        y[k].data = b;
        y[k].len = len;
        k++;
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ StringConcat */

/* Offset into t (rank <= out rank, numpy right-aligned broadcasting) of the output element
 * whose multi-index is idx[0..rank). */
static int64_t bcast_offset(const RtTensor *t, const int64_t *idx, int rank) {
    int64_t off = 0;
    int lead = rank - t->rank;
    for (int k = 0; k < t->rank; k++) {
        int64_t d = t->dims[k];
        off = off * d + (d == 1 ? 0 : idx[lead + k]);
    }
    return off;
}

/* 1 if t broadcasts to out's shape. */
static int bcast_ok(const RtTensor *t, const RtTensor *o) {
    if (t->rank > o->rank)
        return 0;
    int lead = o->rank - t->rank;
    for (int k = 0; k < t->rank; k++)
        if (t->dims[k] != 1 && t->dims[k] != o->dims[lead + k])
            return 0;
    return 1;
}

int rt_k_string_concat(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                       RtTensor *out, int nout) {
    (void)params;
    if (nin < 2 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "StringConcat: bad arguments");
    int st = want_type(ctx, "StringConcat", "input X", &in[0], 8);
    if (!st) st = want_type(ctx, "StringConcat", "input Y", &in[1], 8);
    if (!st) st = want_type(ctx, "StringConcat", "output Z", &out[0], 8);
    if (st)
        return st;
    if (!bcast_ok(&in[0], &out[0]) || !bcast_ok(&in[1], &out[0]) || out[0].rank > 64)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "StringConcat: the inputs do not broadcast to the "
                       "output shape");
    const RtStr *a = in[0].data, *b = in[1].data;
    RtStr *z = out[0].data;
    int r = out[0].rank;
    int64_t n = rt_numel(&out[0]), idx[64] = {0};
    for (int64_t i = 0; i < n; i++) {
        const RtStr *s = &a[bcast_offset(&in[0], idx, r)], *t = &b[bcast_offset(&in[1], idx, r)];
        if (s->len > SIZE_MAX - t->len)
            return rt_fail(ctx, ONNXC_ERR_NOMEM, "StringConcat: string too long");
        size_t len = s->len + t->len;
        char *buf = rt_str_alloc(ctx, len);
        if (!buf)
            return rt_fail(ctx, ONNXC_ERR_NOMEM, "StringConcat: out of memory");
        if (s->len) memcpy(buf, s->data, s->len);
        if (t->len) memcpy(buf + s->len, t->data, t->len);
        z[i].data = buf;
        z[i].len = len;
        for (int k = r - 1; k >= 0; k--) { /* next multi-index */
            if (++idx[k] < out[0].dims[k])
                break;
            idx[k] = 0;
        }
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ StringSplit */

static int is_space(unsigned char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

/* Splits s (Python str.split semantics); stores the pieces in order in y[0..cap) when `y` is
 * non-NULL (they point into s). Returns the number of pieces. */
static int64_t split_one(const RtStrSplitParams *p, const RtStr *s, RtStr *y, int64_t cap) {
    const char *d = s->data;
    size_t len = s->len, pos = 0;
    int64_t k = 0, splits = 0;
    if (p->delim_len == 0) {
        for (;;) {
            while (pos < len && is_space((unsigned char)d[pos])) pos++;
            if (pos >= len)
                break;
            size_t start = pos, end;
            if (p->maxsplit >= 0 && splits >= p->maxsplit) {
                end = len; /* the rest, trailing whitespace kept (as Python does) */
                pos = len;
            } else {
                while (pos < len && !is_space((unsigned char)d[pos])) pos++;
                end = pos;
                splits++;
            }
            if (y && k < cap) { y[k].data = d + start; y[k].len = end - start; }
            k++;
        }
        return k;
    }
    size_t dl = (size_t)p->delim_len;
    for (;;) {
        size_t found = len;
        if (p->maxsplit < 0 || splits < p->maxsplit)
            for (size_t j = pos; j + dl <= len; j++)
                if (memcmp(d + j, p->delim, dl) == 0) { found = j; break; }
        if (y && k < cap) { y[k].data = len ? d + pos : ""; y[k].len = found - pos; }
        k++;
        if (found == len)
            break;
        pos = found + dl;
        splits++;
    }
    return k;
}

int rt_k_string_split(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                      RtTensor *out, int nout) {
    const RtStrSplitParams *p = params;
    if (!p || nin < 1 || nout < 2)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "StringSplit: bad arguments");
    int st = want_type(ctx, "StringSplit", "input X", &in[0], 8);
    if (!st) st = want_type(ctx, "StringSplit", "output Y", &out[0], 8);
    if (!st) st = want_type(ctx, "StringSplit", "output Z", &out[1], 7);
    if (st)
        return st;
    int64_t n = rt_numel(&in[0]);
    int r = in[0].rank;
    if (out[0].rank != r + 1 || out[1].rank != r || r >= 64)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "StringSplit: output ranks do not match the input");
    /* Z has X's shape; Y's last dimension is the largest number of pieces (checked against a
     * declared shape, or allocated for a dynamic one) */
    st = rt_out_alloc(ctx, &out[1], in[0].dims);
    if (st)
        return st;
    const RtStr *x = in[0].data;
    int64_t *z = out[1].data, most = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t c = split_one(p, &x[i], NULL, 0);
        z[i] = c;
        if (c > most) most = c;
    }
    int64_t dims[64];
    for (int k = 0; k < r; k++) dims[k] = in[0].dims[k];
    dims[r] = most;
    st = rt_out_alloc(ctx, &out[0], dims);
    if (st)
        return st;
    int64_t m = most;
    RtStr *y = out[0].data;
    for (int64_t i = 0; i < n; i++) {
        RtStr *row = y + i * m;
        int64_t c = split_one(p, &x[i], row, m);
        for (int64_t j = c; j < m; j++) { row[j].data = ""; row[j].len = 0; }
    }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ RegexFullMatch */

int rt_k_regex_full_match(RtCtx *ctx, const void *params, const RtTensor *in, int nin,
                          RtTensor *out, int nout) {
    const RtRegexParams *p = params;
    if (!p || nin < 1 || nout < 1)
        return rt_fail(ctx, ONNXC_ERR_INVALID_ARG, "RegexFullMatch: bad arguments");
    int st = want_type(ctx, "RegexFullMatch", "input X", &in[0], 8);
    if (!st) st = want_type(ctx, "RegexFullMatch", "output Y", &out[0], 9);
    if (st)
        return st;
    int64_t n = rt_numel(&in[0]);
    if (rt_numel(&out[0]) != n)
        return rt_fail(ctx, ONNXC_ERR_SHAPE, "RegexFullMatch: %lld elements in, %lld out",
                       (long long)n, (long long)rt_numel(&out[0]));
    if (n == 0)
        return ONNXC_OK;
    regex_t re;
    int rc = regcomp(&re, p->pattern, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        char msg[128];
        regerror(rc, &re, msg, sizeof msg);
        return rt_fail(ctx, ONNXC_ERR_RUNTIME, "RegexFullMatch: pattern '%s': %s", p->pattern, msg);
    }
    const RtStr *x = in[0].data;
    uint8_t *yv = out[0].data;
    char small[256];
    for (int64_t i = 0; i < n && !st; i++) {
        /* regexec needs a NUL-terminated string; an element with a NUL byte never matches
         * beyond it, so it is matched on a copy (and fails when it holds a NUL) */
        size_t len = x[i].len;
        if (len && memchr(x[i].data, 0, len)) { yv[i] = 0; continue; }
        char *buf = len < sizeof small ? small : malloc(len + 1);
        if (!buf) { st = rt_fail(ctx, ONNXC_ERR_NOMEM, "RegexFullMatch: out of memory"); break; }
        if (len) memcpy(buf, x[i].data, len);
        buf[len] = '\0';
        yv[i] = regexec(&re, buf, 0, NULL, 0) == 0;
        if (buf != small) free(buf);
    }
    regfree(&re);
    return st;
}
