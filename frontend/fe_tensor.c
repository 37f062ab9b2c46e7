/* fe_tensor.c - onnx.TensorProto and SparseTensorProto into IrTensor, external data, .pb files.
 *
 * Implements the tensor parts of the ONNX IR specification (onnx/onnx.proto, TensorProto):
 *  - element types 1..26 (types newer than Debian's 1.12 schema arrive as plain integers);
 *  - raw_data (little-endian, sub-byte types packed low bits first) and the typed fields
 *    (float_data, int32_data, int64_data, double_data, uint64_data, string_data);
 *  - external data (data_location = EXTERNAL, keys location/offset/length) with the path
 *    rules in docs/FRONTEND.md;
 *  - sparse tensors (values + linear or coordinate indices), densified.
 * The result is in onnxc's in-memory layout (ir/ir.h): sub-byte types unpacked one per byte,
 * BOOL as 0/1 bytes, 16- and 8-bit floats as bit patterns, strings as IrString.
 */
#include "frontend/fe_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The frontend's protobuf-c allocator (fe_internal.h): malloc/free, failing on purpose when the
 * fault-injection hook says so (tests/test_oom.c). */
static void *fe_pb_alloc(void *ud, size_t size) {
    (void)ud;
    return ir_malloc(size);
}
static void fe_pb_free(void *ud, void *p) {
    (void)ud;
    free(p);
}
ProtobufCAllocator fe_pb_allocator = {fe_pb_alloc, fe_pb_free, NULL};

/* ---------------------------------------------------------------- element helpers */

/* Bits per element in the serialized form for sub-byte types, else 0. */
static int fe_subbyte_bits(int dt) {
    switch (dt) {
    case IR_DT_INT4: case IR_DT_UINT4: case IR_DT_FLOAT4E2M1: return 4;
    case IR_DT_INT2: case IR_DT_UINT2: return 2;
    default: return 0;
    }
}

int64_t fe_packed_nbytes(int dt, int64_t numel) {
    int bits = fe_subbyte_bits(dt);
    if (bits) {
        int per = 8 / bits;
        return numel / per + (numel % per != 0);
    }
    if (dt == IR_DT_STRING || !ir_dtype_valid(dt))
        return -1;
    int64_t n;
    if (ir_mul_i64(numel, (int64_t)ir_dtype_size(dt), &n) != 0)
        return -1;
    return n;
}

/* Unpacks element i of a sub-byte packed array into one byte (sign-extended if signed). */
static uint8_t fe_unpack_elem(const uint8_t *packed, int64_t i, int dt) {
    int bits = fe_subbyte_bits(dt);
    int per = 8 / bits;
    unsigned byte = packed[i / per];
    unsigned mask = (1u << bits) - 1u;
    unsigned v = (byte >> ((unsigned)(i % per) * (unsigned)bits)) & mask;
    if ((dt == IR_DT_INT4 || dt == IR_DT_INT2) && (v & (1u << (bits - 1))))
        return (uint8_t)(int8_t)((int)v - (1 << bits));
    return (uint8_t)v;
}

static int fe_host_big_endian(void) {
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 0;
}

/* Reverses every `size`-byte word in place (for big-endian hosts only). */
static void fe_swap_words(uint8_t *p, size_t nbytes, size_t size) {
    for (size_t o = 0; o + size <= nbytes; o += size)
        for (size_t i = 0; i < size / 2; i++) {
            uint8_t t = p[o + i];
            p[o + i] = p[o + size - 1 - i];
            p[o + size - 1 - i] = t;
        }
}

static const char *fe_tname(const Onnx__TensorProto *tp) {
    return (tp && tp->name && tp->name[0]) ? tp->name : "<unnamed>";
}

#define FE_TERR(c, d, tp, ...) fe_terr((c), (d), (tp), __VA_ARGS__)

/* Error about tensor tp: "<what> 'name': <text>". */
static void fe_terr(const FeTensorCtx *c, IrDiag *d, const Onnx__TensorProto *tp,
                    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void fe_terr(const FeTensorCtx *c, IrDiag *d, const Onnx__TensorProto *tp,
                    const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ir_error(d, c ? c->node : NULL, "%s '%s': %s", (c && c->what) ? c->what : "tensor",
             fe_tname(tp), msg);
}

/* Decodes serialized little-endian (packed) bytes into t (already allocated). */
static int fe_decode_raw(IrTensor *t, const uint8_t *src, size_t len, const FeTensorCtx *c,
                         IrDiag *d, const Onnx__TensorProto *tp, const char *field) {
    if (t->dtype == IR_DT_STRING) {
        FE_TERR(c, d, tp, "STRING tensors cannot use %s (use string_data)", field);
        return -1;
    }
    int64_t need = fe_packed_nbytes(t->dtype, t->numel);
    if (need < 0 || (uint64_t)len != (uint64_t)need) {
        FE_TERR(c, d, tp, "%s has %zu bytes but %s with %lld elements needs %lld", field, len,
                ir_dtype_onnx_name(t->dtype), (long long)t->numel, (long long)need);
        return -1;
    }
    uint8_t *dst = t->data;
    if (fe_subbyte_bits(t->dtype)) {
        for (int64_t i = 0; i < t->numel; i++)
            dst[i] = fe_unpack_elem(src, i, t->dtype);
        return 0;
    }
    if (len)
        memcpy(dst, src, len);
    if (t->dtype == IR_DT_BOOL)
        for (size_t i = 0; i < len; i++)
            dst[i] = dst[i] != 0;
    if (fe_host_big_endian()) {
        size_t es = ir_dtype_size(t->dtype);
        if (t->dtype == IR_DT_COMPLEX64 || t->dtype == IR_DT_COMPLEX128)
            es /= 2;
        if (es > 1)
            fe_swap_words(dst, len, es);
    }
    return 0;
}

/* Checks a typed field's count against the expected count. */
static int fe_count_ok(const FeTensorCtx *c, IrDiag *d, const Onnx__TensorProto *tp,
                       const char *field, size_t have, int64_t want) {
    if ((uint64_t)have == (uint64_t)want)
        return 1;
    FE_TERR(c, d, tp, "%s has %zu entries but dims need %lld", field, have, (long long)want);
    return 0;
}

/* Decodes from the typed repeated fields. */
static int fe_decode_typed(IrArena *a, IrTensor *t, const Onnx__TensorProto *tp,
                           const FeTensorCtx *c, IrDiag *d) {
    int64_t n = t->numel;
    int dt = t->dtype;
    uint8_t *u8 = t->data;
    size_t nf = tp->n_float_data, ni32 = tp->n_int32_data, ni64 = tp->n_int64_data,
           nd = tp->n_double_data, nu64 = tp->n_uint64_data, ns = tp->n_string_data;
    size_t total = nf + ni32 + ni64 + nd + nu64 + ns;
    if (total == 0) {
        if (n == 0)
            return 0;
        FE_TERR(c, d, tp, "has no data for %lld elements", (long long)n);
        return -1;
    }
    switch (dt) {
    case IR_DT_FLOAT:
    case IR_DT_COMPLEX64: {
        int64_t want = dt == IR_DT_FLOAT ? n : 2 * n;
        if (total != nf) break;
        if (!fe_count_ok(c, d, tp, "float_data", nf, want)) return -1;
        memcpy(t->data, tp->float_data, nf * sizeof(float));
        return 0;
    }
    case IR_DT_DOUBLE:
    case IR_DT_COMPLEX128: {
        int64_t want = dt == IR_DT_DOUBLE ? n : 2 * n;
        if (total != nd) break;
        if (!fe_count_ok(c, d, tp, "double_data", nd, want)) return -1;
        memcpy(t->data, tp->double_data, nd * sizeof(double));
        return 0;
    }
    case IR_DT_INT64:
        if (total != ni64) break;
        if (!fe_count_ok(c, d, tp, "int64_data", ni64, n)) return -1;
        memcpy(t->data, tp->int64_data, ni64 * sizeof(int64_t));
        return 0;
    case IR_DT_UINT64:
    case IR_DT_UINT32:
        if (total != nu64) break;
        if (!fe_count_ok(c, d, tp, "uint64_data", nu64, n)) return -1;
        if (dt == IR_DT_UINT64) {
            memcpy(t->data, tp->uint64_data, nu64 * sizeof(uint64_t));
        } else {
            uint32_t *o = t->data;
            for (size_t i = 0; i < nu64; i++)
                o[i] = (uint32_t)tp->uint64_data[i];
        }
        return 0;
    case IR_DT_STRING: {
        if (total != ns) break;
        if (!fe_count_ok(c, d, tp, "string_data", ns, n)) return -1;
        IrString *o = t->data;
        for (size_t i = 0; i < ns; i++) {
            size_t l = tp->string_data[i].len;
            char *s = ir_arena_alloc(a, l + 1);
            if (!s) {
                FE_TERR(c, d, tp, "out of memory");
                return -1;
            }
            if (l)
                memcpy(s, tp->string_data[i].data, l);
            o[i].data = s;
            o[i].len = l;
        }
        return 0;
    }
    case IR_DT_INT32:
        if (total != ni32) break;
        if (!fe_count_ok(c, d, tp, "int32_data", ni32, n)) return -1;
        memcpy(t->data, tp->int32_data, ni32 * sizeof(int32_t));
        return 0;
    case IR_DT_INT4: case IR_DT_UINT4: case IR_DT_FLOAT4E2M1:
    case IR_DT_INT2: case IR_DT_UINT2: {
        /* Each int32_data entry holds one packed byte (2 or 4 elements). */
        if (total != ni32) break;
        int64_t want = fe_packed_nbytes(dt, n);
        if (!fe_count_ok(c, d, tp, "int32_data", ni32, want)) return -1;
        uint8_t *packed = ir_malloc(ni32 ? ni32 : 1);
        if (!packed) {
            FE_TERR(c, d, tp, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < ni32; i++)
            packed[i] = (uint8_t)tp->int32_data[i];
        for (int64_t i = 0; i < n; i++)
            u8[i] = fe_unpack_elem(packed, i, dt);
        free(packed);
        return 0;
    }
    case IR_DT_INT8: case IR_DT_UINT8: case IR_DT_BOOL:
    case IR_DT_FLOAT8E4M3FN: case IR_DT_FLOAT8E4M3FNUZ: case IR_DT_FLOAT8E5M2:
    case IR_DT_FLOAT8E5M2FNUZ: case IR_DT_FLOAT8E8M0:
        if (total != ni32) break;
        if (!fe_count_ok(c, d, tp, "int32_data", ni32, n)) return -1;
        for (size_t i = 0; i < ni32; i++)
            u8[i] = dt == IR_DT_BOOL ? (tp->int32_data[i] != 0) : (uint8_t)tp->int32_data[i];
        return 0;
    case IR_DT_INT16: case IR_DT_UINT16: case IR_DT_FLOAT16: case IR_DT_BFLOAT16: {
        if (total != ni32) break;
        if (!fe_count_ok(c, d, tp, "int32_data", ni32, n)) return -1;
        uint16_t *o = t->data;
        for (size_t i = 0; i < ni32; i++)
            o[i] = (uint16_t)tp->int32_data[i];
        return 0;
    }
    default:
        break;
    }
    FE_TERR(c, d, tp, "data is stored in a field that does not match element type %s",
            ir_dtype_onnx_name(dt));
    return -1;
}

/* ---------------------------------------------------------------- external data */

/* Parses a non-negative decimal integer (digits only); -1 if malformed or too large. */
static int64_t fe_parse_nonneg(const char *s) {
    if (!s || !*s)
        return -1;
    int64_t v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (ir_mul_i64(v, 10, &v) || ir_add_i64(v, *s - '0', &v))
            return -1;
    }
    return v;
}

/* 1 if the relative location has an empty-safe form: not absolute and no ".." component. */
static int fe_location_escapes(const char *loc) {
    const char *p = loc;
    while (*p) {
        const char *e = p;
        while (*e && *e != '/' && *e != '\\')
            e++;
        if (e - p == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        p = *e ? e + 1 : e;
    }
    return 0;
}

/* Reads the external bytes of tp into a malloc'ed buffer. */
static int fe_external_read(const Onnx__TensorProto *tp, const FeTensorCtx *c, IrDiag *d,
                            uint8_t **out, size_t *outlen) {
    const char *loc = NULL, *soff = NULL, *slen = NULL;
    for (size_t i = 0; i < tp->n_external_data; i++) {
        const Onnx__StringStringEntryProto *e = tp->external_data[i];
        if (!e || !e->key)
            continue;
        if (!strcmp(e->key, "location")) loc = e->value;
        else if (!strcmp(e->key, "offset")) soff = e->value;
        else if (!strcmp(e->key, "length")) slen = e->value;
    }
    if (!c || !c->allow_external) {
        FE_TERR(c, d, tp, "external data ('%s') is disabled", loc ? loc : "");
        return -1;
    }
    if (!loc || !*loc) {
        FE_TERR(c, d, tp, "external data without a 'location'");
        return -1;
    }
    if (!c->dir) {
        FE_TERR(c, d, tp, "external data '%s' needs the model's folder (model loaded from memory)",
                loc);
        return -1;
    }
    if (loc[0] == '/' || loc[0] == '\\' ||
        (((loc[0] | 0x20) >= 'a' && (loc[0] | 0x20) <= 'z') && loc[1] == ':')) { /* C: */
        FE_TERR(c, d, tp, "external data location '%s' is an absolute path", loc);
        return -1;
    }
    if (fe_location_escapes(loc)) {
        FE_TERR(c, d, tp, "external data location '%s' contains a '..' component", loc);
        return -1;
    }
    int64_t off = 0, len = -1;
    if (soff && (off = fe_parse_nonneg(soff)) < 0) {
        FE_TERR(c, d, tp, "external data '%s': bad offset '%s'", loc, soff);
        return -1;
    }
    if (slen && (len = fe_parse_nonneg(slen)) < 0) {
        FE_TERR(c, d, tp, "external data '%s': bad length '%s'", loc, slen);
        return -1;
    }
    char rdir[PATH_MAX], rfile[PATH_MAX];
    if (!realpath(c->dir, rdir)) {
        FE_TERR(c, d, tp, "external data '%s': model folder '%s': %s", loc, c->dir,
                strerror(errno));
        return -1;
    }
    size_t need = strlen(c->dir) + strlen(loc) + 2;
    char *full = ir_malloc(need);
    if (!full) {
        FE_TERR(c, d, tp, "out of memory");
        return -1;
    }
    snprintf(full, need, "%s/%s", c->dir, loc);
    if (!realpath(full, rfile)) {
        FE_TERR(c, d, tp, "external data file '%s' cannot be opened: %s", loc, strerror(errno));
        free(full);
        return -1;
    }
    free(full);
    size_t dl = strlen(rdir);
    int inside = strncmp(rfile, rdir, dl) == 0 &&
                 (rfile[dl] == '/' || (dl == 1 && rdir[0] == '/'));
    if (!inside) {
        FE_TERR(c, d, tp, "external data location '%s' resolves outside the model folder", loc);
        return -1;
    }
    int fd = open(rfile, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        FE_TERR(c, d, tp, "external data file '%s' cannot be opened: %s", loc, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        FE_TERR(c, d, tp, "external data '%s' is not a regular file", loc);
        close(fd);
        return -1;
    }
    int64_t fsize = (int64_t)st.st_size;
    if (off > fsize) {
        FE_TERR(c, d, tp, "external data '%s': offset %lld is past the end of the file (%lld bytes)",
                loc, (long long)off, (long long)fsize);
        close(fd);
        return -1;
    }
    if (len < 0)
        len = fsize - off;
    int64_t end;
    if (ir_add_i64(off, len, &end) || end > fsize) {
        FE_TERR(c, d, tp,
                "external data '%s': range offset %lld length %lld is outside the file (%lld bytes)",
                loc, (long long)off, (long long)len, (long long)fsize);
        close(fd);
        return -1;
    }
    if (len > IR_MAX_TENSOR_BYTES) {
        FE_TERR(c, d, tp, "external data '%s': length %lld exceeds the tensor size limit", loc,
                (long long)len);
        close(fd);
        return -1;
    }
    uint8_t *buf = ir_malloc(len ? (size_t)len : 1);
    if (!buf) {
        FE_TERR(c, d, tp, "external data '%s': out of memory for %lld bytes", loc, (long long)len);
        close(fd);
        return -1;
    }
    int64_t got = 0;
    while (got < len) {
        ssize_t r = pread(fd, buf + got, (size_t)(len - got), (off_t)(off + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            FE_TERR(c, d, tp, "external data '%s': read failed: %s", loc,
                    r < 0 ? strerror(errno) : "unexpected end of file");
            free(buf);
            close(fd);
            return -1;
        }
        got += r;
    }
    close(fd);
    *out = buf;
    *outlen = (size_t)len;
    return 0;
}

/* ---------------------------------------------------------------- TensorProto */

/* Validates dtype and dims; fills *numel. */
static int fe_check_shape(const FeTensorCtx *c, IrDiag *d, const Onnx__TensorProto *tp, int dt,
                          size_t rank, const int64_t *dims, int64_t *numel) {
    if (!ir_dtype_valid(dt)) {
        FE_TERR(c, d, tp, "unsupported or undefined element type %d", dt);
        return -1;
    }
    if (rank > IR_MAX_RANK) {
        FE_TERR(c, d, tp, "rank %zu exceeds the limit of %d", rank, IR_MAX_RANK);
        return -1;
    }
    int64_t n = 1;
    for (size_t i = 0; i < rank; i++) {
        if (dims[i] < 0) {
            FE_TERR(c, d, tp, "dimension %zu is negative (%lld)", i, (long long)dims[i]);
            return -1;
        }
        if (ir_mul_i64(n, dims[i], &n)) {
            FE_TERR(c, d, tp, "element count overflows (dimension %zu = %lld)", i,
                    (long long)dims[i]);
            return -1;
        }
    }
    int64_t bytes;
    if (ir_mul_i64(n, (int64_t)ir_dtype_size(dt), &bytes) || bytes > IR_MAX_TENSOR_BYTES) {
        FE_TERR(c, d, tp, "%lld elements of %s exceed the tensor size limit of %lld bytes",
                (long long)n, ir_dtype_onnx_name(dt), (long long)IR_MAX_TENSOR_BYTES);
        return -1;
    }
    *numel = n;
    return 0;
}

IrTensor *fe_tensor_decode(IrArena *a, const Onnx__TensorProto *tp, const FeTensorCtx *c,
                           IrDiag *d) {
    if (!tp) {
        ir_error(d, c ? c->node : NULL, "%s: missing tensor", (c && c->what) ? c->what : "tensor");
        return NULL;
    }
    int dt = tp->has_data_type ? tp->data_type : IR_DT_UNDEFINED;
    int64_t numel;
    if (fe_check_shape(c, d, tp, dt, tp->n_dims, tp->dims, &numel))
        return NULL;
    if (tp->segment) {
        FE_TERR(c, d, tp, "segmented tensors are not supported (or this is not a TensorProto)");
        return NULL;
    }
    /* Before allocating numel elements (up to IR_MAX_TENSOR_BYTES, zero-filled): refuse a
     * payload that cannot hold them, so that an 11-byte file cannot cost gigabytes (found by
     * fuzz_tensor, docs/HARDENING.md). No encoding packs more than 4 elements per byte. */
    int is_ext = tp->has_data_location &&
                 tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (!is_ext && numel > 0) {
        size_t typed = tp->n_float_data + tp->n_int32_data + tp->n_int64_data +
                       tp->n_double_data + tp->n_uint64_data + tp->n_string_data;
        if (!tp->has_raw_data && typed == 0) {
            FE_TERR(c, d, tp, "has no data for %lld elements", (long long)numel);
            return NULL;
        }
        /* a typed value holds at most 8 bytes of packed 2-bit elements: 32 elements */
        if (!tp->has_raw_data && (uint64_t)typed < (uint64_t)numel / 32) {
            FE_TERR(c, d, tp, "%zu data values cannot hold %lld elements", typed,
                    (long long)numel);
            return NULL;
        }
        if (tp->has_raw_data && (uint64_t)tp->raw_data.len < (uint64_t)numel / 4) {
            FE_TERR(c, d, tp, "raw_data of %zu bytes cannot hold %lld elements",
                    tp->raw_data.len, (long long)numel);
            return NULL;
        }
    }
    int64_t dims[IR_MAX_RANK + 1];
    for (size_t i = 0; i < tp->n_dims; i++)
        dims[i] = tp->dims[i];
    IrTensor *t = ir_tensor_new(a, (IrDType)dt, (int)tp->n_dims, dims);
    if (!t) {
        FE_TERR(c, d, tp, "out of memory for %lld elements", (long long)numel);
        return NULL;
    }
    if (tp->name)
        t->name = ir_arena_strdup(a, tp->name);
    int external = tp->has_data_location &&
                   tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (external) {
        uint8_t *buf = NULL;
        size_t len = 0;
        if (fe_external_read(tp, c, d, &buf, &len))
            return NULL;
        int r = fe_decode_raw(t, buf, len, c, d, tp, "external data");
        free(buf);
        return r ? NULL : t;
    }
    if (tp->has_raw_data)
        return fe_decode_raw(t, tp->raw_data.data, tp->raw_data.len, c, d, tp, "raw_data") ? NULL
                                                                                           : t;
    return fe_decode_typed(a, t, tp, c, d) ? NULL : t;
}

void fe_tensor_release(Onnx__TensorProto *tp) {
    if (!tp)
        return;
    if (tp->has_raw_data) {
        free(tp->raw_data.data);
        tp->raw_data.data = NULL;
        tp->raw_data.len = 0;
        tp->has_raw_data = 0;
    }
    free(tp->float_data);
    tp->float_data = NULL;
    tp->n_float_data = 0;
    free(tp->int32_data);
    tp->int32_data = NULL;
    tp->n_int32_data = 0;
    free(tp->int64_data);
    tp->int64_data = NULL;
    tp->n_int64_data = 0;
    free(tp->double_data);
    tp->double_data = NULL;
    tp->n_double_data = 0;
    free(tp->uint64_data);
    tp->uint64_data = NULL;
    tp->n_uint64_data = 0;
}

/* ---------------------------------------------------------------- SparseTensorProto */

IrTensor *fe_sparse_decode(IrArena *a, const Onnx__SparseTensorProto *sp, const FeTensorCtx *c,
                           IrDiag *d) {
    const IrNode *node = c ? c->node : NULL;
    const char *what = (c && c->what) ? c->what : "sparse tensor";
    if (!sp || !sp->values || !sp->indices) {
        ir_error(d, node, "%s: sparse tensor without values or indices", what);
        return NULL;
    }
    const char *name = fe_tname(sp->values);
    IrTensor *vals = fe_tensor_decode(a, sp->values, c, d);
    if (!vals)
        return NULL;
    IrTensor *idx = fe_tensor_decode(a, sp->indices, c, d);
    if (!idx)
        return NULL;
    int64_t numel;
    Onnx__TensorProto shape_only = ONNX__TENSOR_PROTO__INIT;
    shape_only.name = sp->values->name;
    if (fe_check_shape(c, d, &shape_only, vals->dtype, sp->n_dims, sp->dims, &numel))
        return NULL;
    int rank = (int)sp->n_dims;
    if (vals->rank != 1) {
        ir_error(d, node, "%s '%s': sparse values must be 1-D (rank %d)", what, name, vals->rank);
        return NULL;
    }
    int64_t nnz = vals->dims[0];
    if (idx->dtype != IR_DT_INT64) {
        ir_error(d, node, "%s '%s': sparse indices must be INT64", what, name);
        return NULL;
    }
    int coords;
    if (idx->rank == 1 && idx->dims[0] == nnz)
        coords = 0;
    else if (idx->rank == 2 && idx->dims[0] == nnz && idx->dims[1] == rank)
        coords = 1;
    else {
        ir_error(d, node, "%s '%s': sparse indices shape does not match %lld values and rank %d",
                 what, name, (long long)nnz, rank);
        return NULL;
    }
    int64_t dims[IR_MAX_RANK + 1];
    for (int i = 0; i < rank; i++)
        dims[i] = sp->dims[i];
    IrTensor *t = ir_tensor_new(a, vals->dtype, rank, dims);
    if (!t) {
        ir_error(d, node, "%s '%s': out of memory", what, name);
        return NULL;
    }
    t->name = vals->name;
    size_t es = ir_dtype_size(vals->dtype);
    const int64_t *ix = idx->data;
    for (int64_t k = 0; k < nnz; k++) {
        int64_t lin = 0;
        if (!coords) {
            lin = ix[k];
        } else {
            for (int j = 0; j < rank; j++) {
                int64_t cj = ix[k * rank + j];
                if (cj < 0 || cj >= dims[j]) {
                    lin = -1;
                    break;
                }
                lin = lin * dims[j] + cj;
            }
        }
        if (lin < 0 || lin >= numel) {
            ir_error(d, node, "%s '%s': sparse index %lld is out of range", what, name,
                     (long long)k);
            return NULL;
        }
        memcpy((uint8_t *)t->data + (size_t)lin * es, (uint8_t *)vals->data + (size_t)k * es, es);
    }
    return t;
}

/* ---------------------------------------------------------------- files */

int fe_read_file(const char *path, int64_t max_bytes, void **buf, size_t *len, IrDiag *d) {
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        ir_error(d, NULL, "cannot open '%s': %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ir_error(d, NULL, "'%s' is not a regular file", path);
        close(fd);
        return -1;
    }
    int64_t size = (int64_t)st.st_size;
    if (max_bytes > 0 && size > max_bytes) {
        ir_error(d, NULL, "'%s' is %lld bytes, more than the limit of %lld", path,
                 (long long)size, (long long)max_bytes);
        close(fd);
        return -1;
    }
    if ((uint64_t)size > (uint64_t)SIZE_MAX - 1) {
        ir_error(d, NULL, "'%s' is too large", path);
        close(fd);
        return -1;
    }
    uint8_t *p = ir_malloc((size_t)size + 1);
    if (!p) {
        ir_error(d, NULL, "out of memory reading '%s' (%lld bytes)", path, (long long)size);
        close(fd);
        return -1;
    }
    size_t got = 0;
    while (got < (size_t)size) {
        ssize_t r = read(fd, p + got, (size_t)size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            ir_error(d, NULL, "error reading '%s': %s", path, strerror(errno));
            free(p);
            close(fd);
            return -1;
        }
        if (r == 0)
            break; /* file shrank: use what we have */
        got += (size_t)r;
    }
    close(fd);
    p[got] = 0;
    *buf = p;
    *len = got;
    return 0;
}

/* Folder part of path ("." if none), malloc'ed. */
static char *fe_dirname(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash)
        return strdup(".");
    if (slash == path)
        return strdup("/");
    return strndup(path, (size_t)(slash - path));
}

/* 1 if buf walks cleanly as an onnx SequenceProto or OptionalProto (onnx-data.proto): fields
 * 1 (name, bytes), 2 (elem_type, varint 0..5) and 3..7 (values, bytes) only. Used only to explain
 * why a file failed to decode as a TensorProto. */
static int fe_looks_like_sequence(const uint8_t *b, size_t len) {
    size_t pos = 0;
    int seen2 = 0;
    while (pos < len) {
        uint64_t tag = 0, v = 0;
        int shift = 0;
        for (;;) {
            if (pos >= len || shift > 63)
                return 0;
            uint8_t c = b[pos++];
            tag |= (uint64_t)(c & 0x7F) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (field < 1 || field > 7 || wt != (field == 2 ? 0u : 2u))
            return 0;
        shift = 0;
        for (;;) {
            if (pos >= len || shift > 63)
                return 0;
            uint8_t c = b[pos++];
            v |= (uint64_t)(c & 0x7F) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        if (field == 2) {
            if (v > 5)
                return 0;
            seen2 = 1;
        } else {
            if (v > len - pos)
                return 0;
            pos += (size_t)v;
        }
    }
    return seen2;
}

/* Shared by fe_read_tensor_pb(_buffer). */
static IrTensor *fe_tensor_from_bytes(IrArena *a, const void *buf, size_t len, const char *path,
                                      const char *dir, IrDiag *d) {
    const char *shown = path ? path : "<buffer>";
    Onnx__TensorProto *tp = onnx__tensor_proto__unpack(&fe_pb_allocator, len, buf);
    IrTensor *t = NULL;
    if (!tp) {
        ir_error(d, NULL, "'%s' is not a valid serialized TensorProto", shown);
    } else {
        FeTensorCtx c = {.dir = dir, .allow_external = dir != NULL, .node = NULL, .what = "tensor"};
        t = fe_tensor_decode(a, tp, &c, d);
        onnx__tensor_proto__free_unpacked(tp, &fe_pb_allocator);
    }
    if (!t && fe_looks_like_sequence(buf, len))
        ir_error(d, NULL,
                 "'%s' looks like a SequenceProto or OptionalProto, not a TensorProto: "
                 "sequence and optional values are not supported by fe_read_tensor_pb", shown);
    return t;
}

IrTensor *fe_read_tensor_pb_buffer(IrArena *a, const void *buf, size_t len, const char *path,
                                   IrDiag *d) {
    return fe_tensor_from_bytes(a, buf, len, path, NULL, d);
}

IrTensor *fe_read_tensor_pb(IrArena *a, const char *path, IrDiag *d) {
    void *buf;
    size_t len;
    if (fe_read_file(path, IR_MAX_TENSOR_BYTES * 2, &buf, &len, d))
        return NULL;
    char *dir = fe_dirname(path);
    IrTensor *t = NULL;
    if (!dir)
        ir_error(d, NULL, "out of memory");
    else
        t = fe_tensor_from_bytes(a, buf, len, path, dir, d);
    free(dir);
    free(buf);
    return t;
}

/* Packs t's elements into ONNX's serialized form (little-endian, sub-byte packed); malloc'ed. */
static uint8_t *fe_pack_raw(const IrTensor *t, size_t *len) {
    int64_t nb = fe_packed_nbytes(t->dtype, t->numel);
    if (nb < 0)
        return NULL;
    uint8_t *p = calloc(nb ? (size_t)nb : 1, 1);
    if (!p)
        return NULL;
    int bits = fe_subbyte_bits(t->dtype);
    const uint8_t *src = t->data;
    if (bits) {
        int per = 8 / bits;
        unsigned mask = (1u << bits) - 1u;
        for (int64_t i = 0; i < t->numel; i++)
            p[i / per] |= (uint8_t)((src[i] & mask) << ((unsigned)(i % per) * (unsigned)bits));
    } else if (nb) {
        memcpy(p, src, (size_t)nb);
        if (fe_host_big_endian()) {
            size_t es = ir_dtype_size(t->dtype);
            if (t->dtype == IR_DT_COMPLEX64 || t->dtype == IR_DT_COMPLEX128)
                es /= 2;
            if (es > 1)
                fe_swap_words(p, (size_t)nb, es);
        }
    }
    *len = (size_t)nb;
    return p;
}

int fe_write_tensor_pb(const char *path, const IrTensor *t, const char *name, IrDiag *d) {
    if (!t || !ir_dtype_valid(t->dtype) || t->rank < 0 || t->rank > IR_MAX_RANK) {
        ir_error(d, NULL, "cannot write '%s': invalid tensor", path);
        return -1;
    }
    Onnx__TensorProto tp = ONNX__TENSOR_PROTO__INIT;
    tp.n_dims = (size_t)t->rank;
    tp.dims = t->dims;
    tp.has_data_type = 1;
    tp.data_type = t->dtype;
    tp.name = (char *)(name ? name : t->name);
    uint8_t *raw = NULL;
    ProtobufCBinaryData *strs = NULL;
    if (t->dtype == IR_DT_STRING) {
        const IrString *s = t->data;
        strs = calloc(t->numel ? (size_t)t->numel : 1, sizeof *strs);
        if (!strs) {
            ir_error(d, NULL, "cannot write '%s': out of memory", path);
            return -1;
        }
        for (int64_t i = 0; i < t->numel; i++) {
            strs[i].data = (uint8_t *)s[i].data;
            strs[i].len = s[i].len;
        }
        tp.n_string_data = (size_t)t->numel;
        tp.string_data = strs;
    } else {
        size_t rl = 0;
        raw = fe_pack_raw(t, &rl);
        if (!raw) {
            ir_error(d, NULL, "cannot write '%s': out of memory", path);
            return -1;
        }
        tp.has_raw_data = 1;
        tp.raw_data.data = raw;
        tp.raw_data.len = rl;
    }
    size_t sz = onnx__tensor_proto__get_packed_size(&tp);
    uint8_t *out = malloc(sz ? sz : 1);
    int rc = -1;
    char *tmp = NULL;
    int fd = -1;
    if (!out) {
        ir_error(d, NULL, "cannot write '%s': out of memory", path);
        goto done;
    }
    onnx__tensor_proto__pack(&tp, out);
    size_t tl = strlen(path) + 16;
    tmp = malloc(tl);
    if (!tmp) {
        ir_error(d, NULL, "cannot write '%s': out of memory", path);
        goto done;
    }
    snprintf(tmp, tl, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        ir_error(d, NULL, "cannot create a temporary file next to '%s': %s", path, strerror(errno));
        goto done;
    }
    size_t put = 0;
    while (put < sz) {
        ssize_t w = write(fd, out + put, sz - put);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            ir_error(d, NULL, "error writing '%s': %s", tmp, strerror(errno));
            goto done;
        }
        put += (size_t)w;
    }
    if (fsync(fd) != 0 || close(fd) != 0) {
        fd = -1;
        ir_error(d, NULL, "error writing '%s': %s", tmp, strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0) {
        ir_error(d, NULL, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    if (fd >= 0)
        close(fd);
    if (rc != 0 && tmp)
        unlink(tmp);
    free(tmp);
    free(out);
    free(raw);
    free(strs);
    return rc;
}
