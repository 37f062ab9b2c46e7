/* harness.c - compile a model to a temporary shared library, load it with dlopen and run it on
 * IrTensor inputs; compare tensors with ONNX's backend-test tolerance rule
 * (|actual - expected| <= atol + rtol * |expected|, as onnx/backend/test/runner uses through
 * numpy.testing.assert_allclose).
 *
 * Used by `onnxc run`, `onnxc info` and the conformance runner (tests/conformance/). Errors are
 * reported through IrDiag; nothing here exits the process.
 */
#include "tools/harness.h"

#include <dlfcn.h>
#include <errno.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/be.h"
#include "frontend/fe.h"

typedef const OnnxcModelInfo *(*HarnessInfoFn)(void);
typedef int (*HarnessCreateFn)(OnnxcContext **out);
typedef int (*HarnessRunFn)(OnnxcContext *ctx, const OnnxcTensor *inputs, int32_t num_inputs,
                            OnnxcTensor *outputs, int32_t num_outputs);
typedef const char *(*HarnessErrorFn)(const OnnxcContext *ctx);
typedef void (*HarnessDestroyFn)(OnnxcContext *ctx);

struct HarnessModel {
    void *dl;                     /* dlopen handle */
    char *tmpdir;                 /* malloc'ed temporary folder to delete on close, or NULL */
    const OnnxcModelInfo *info;   /* the library's static model description */
    HarnessCreateFn create;       /* onnxc_context_create */
    HarnessRunFn run;             /* onnxc_run */
    HarnessErrorFn error;         /* onnxc_context_error */
    HarnessDestroyFn destroy;     /* onnxc_context_destroy */
    OnnxcContext *ctx;            /* created on the first run, destroyed on close */
};

/* ------------------------------------------------------------------ temporary folders */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st; (void)flag; (void)ftw;
    remove(path);
    return 0;
}

/* Removes a folder and everything below it (best effort). */
static void rm_tree(const char *dir) {
    if (dir && *dir) nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Loads the library at so_path and resolves the generic API. */
static int load_library(HarnessModel *h, const char *so_path, IrDiag *d) {
    char buf[4096];
    const char *p = so_path;
    if (!strchr(so_path, '/')) { /* dlopen searches the library path for bare names */
        snprintf(buf, sizeof buf, "./%s", so_path);
        p = buf;
    }
    dlerror();
    h->dl = dlopen(p, RTLD_NOW | RTLD_LOCAL);
    if (!h->dl) {
        const char *e = dlerror();
        ir_error(d, NULL, "cannot load %s: %s", so_path, e ? e : "unknown dlopen error");
        return -1;
    }
    HarnessInfoFn info = (HarnessInfoFn)dlsym(h->dl, "onnxc_model_info");
    h->create = (HarnessCreateFn)dlsym(h->dl, "onnxc_context_create");
    h->run = (HarnessRunFn)dlsym(h->dl, "onnxc_run");
    h->error = (HarnessErrorFn)dlsym(h->dl, "onnxc_context_error");
    h->destroy = (HarnessDestroyFn)dlsym(h->dl, "onnxc_context_destroy");
    if (!info || !h->create || !h->run || !h->error || !h->destroy) {
        ir_error(d, NULL, "%s is not an onnxc model library (missing %s)", so_path,
                 !info ? "onnxc_model_info" : !h->create ? "onnxc_context_create"
                 : !h->run ? "onnxc_run" : !h->error ? "onnxc_context_error"
                 : "onnxc_context_destroy");
        return -1;
    }
    h->info = info();
    if (!h->info) {
        ir_error(d, NULL, "%s: onnxc_model_info() returned NULL", so_path);
        return -1;
    }
    if (h->info->abi_version != ONNXC_ABI_VERSION) {
        ir_error(d, NULL, "%s: model ABI version %u, expected %d", so_path,
                 (unsigned)h->info->abi_version, ONNXC_ABI_VERSION);
        return -1;
    }
    return 0;
}

/* Compiles model_path into h->tmpdir/libmodel.so. */
static int compile_to_tmp(HarnessModel *h, const char *model_path, const OnnxcCompileOptions *o,
                          char *so_path, size_t cap, IrDiag *d) {
    OnnxcCompileOptions dflt;
    if (!o) {
        onnxc_options_default(&dflt);
        o = &dflt;
    }
    IrModel *m = fe_load_model(model_path, NULL, d);
    if (!m) return -1;
    int rc = -1;
    if (onnxc_prepare(m, o, d) != 0) goto done;
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/onnxc-XXXXXX", base);
    if (!mkdtemp(tmpl)) {
        ir_error(d, NULL, "cannot create a temporary folder in %s: %s", base, strerror(errno));
        goto done;
    }
    h->tmpdir = strdup(tmpl);
    if (!h->tmpdir) {
        rm_tree(tmpl);
        ir_error(d, NULL, "out of memory");
        goto done;
    }
    char header[4200];
    snprintf(so_path, cap, "%s/libmodel.so", h->tmpdir);
    snprintf(header, sizeof header, "%s/model.h", h->tmpdir);
    if (be_emit(m, o, BE_EMIT_SO, so_path, header, m->workspace_bytes, d) != 0) goto done;
    rc = 0;
done:
    ir_model_destroy(m);
    return rc;
}

HarnessModel *harness_open(const char *model_path, const OnnxcCompileOptions *o, IrDiag *d) {
    if (!model_path) {
        ir_error(d, NULL, "no model path given");
        return NULL;
    }
    HarnessModel *h = calloc(1, sizeof *h);
    if (!h) {
        ir_error(d, NULL, "out of memory");
        return NULL;
    }
    int rc;
    if (ends_with(model_path, ".so")) {
        rc = load_library(h, model_path, d);
    } else {
        char so_path[4200];
        rc = compile_to_tmp(h, model_path, o, so_path, sizeof so_path, d);
        if (rc == 0) rc = load_library(h, so_path, d);
    }
    if (rc != 0) {
        harness_close(h);
        return NULL;
    }
    return h;
}

const OnnxcModelInfo *harness_info(const HarnessModel *h) { return h ? h->info : NULL; }

void harness_close(HarnessModel *h) {
    if (!h) return;
    if (h->ctx && h->destroy) h->destroy(h->ctx);
    if (h->dl) dlclose(h->dl);
    if (h->tmpdir) rm_tree(h->tmpdir);
    free(h->tmpdir);
    free(h);
}

/* ------------------------------------------------------------------ running */

/* Symbol bindings gathered from the inputs' actual dimensions. */
typedef struct SymBind {
    const char *name; /* dim symbol (borrowed from the model info) */
    int64_t value;    /* its value in this run */
} SymBind;

static void shape_str(char *buf, size_t cap, int rank, const int64_t *dims,
                      const char *const *names) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, cap - k, "[");
    for (int i = 0; i < rank && k < cap; i++) {
        if (dims[i] >= 0)
            k += (size_t)snprintf(buf + k, cap - k, "%s%lld", i ? "," : "", (long long)dims[i]);
        else
            k += (size_t)snprintf(buf + k, cap - k, "%s%s", i ? "," : "",
                                  names && names[i] ? names[i] : "?");
    }
    if (k < cap) snprintf(buf + k, cap - k, "]");
}

int harness_run(HarnessModel *h, IrTensor *const *inputs, int ninputs, IrArena *a,
                IrTensor **outputs, IrDiag *d) {
    if (!h || !h->info || !a || (ninputs > 0 && !inputs)) {
        ir_error(d, NULL, "harness_run: invalid arguments");
        return ONNXC_ERR_INVALID_ARG;
    }
    const OnnxcModelInfo *info = h->info;
    if (ninputs != info->num_inputs) {
        ir_error(d, NULL, "model '%s' takes %d input(s), %d given", info->name, info->num_inputs,
                 ninputs);
        return ONNXC_ERR_INVALID_ARG;
    }
    int nsym = 0, capsym = 0;
    for (int i = 0; i < info->num_inputs; i++) capsym += info->inputs[i].rank;
    SymBind *syms = capsym ? ir_arena_alloc(a, sizeof(SymBind) * (size_t)capsym) : NULL;
    OnnxcTensor *in = ninputs ? ir_arena_alloc(a, sizeof(OnnxcTensor) * (size_t)ninputs) : NULL;
    OnnxcTensor *out = info->num_outputs
                           ? ir_arena_alloc(a, sizeof(OnnxcTensor) * (size_t)info->num_outputs)
                           : NULL;
    if ((capsym && !syms) || (ninputs && !in) || (info->num_outputs && !out)) {
        ir_error(d, NULL, "out of memory");
        return ONNXC_ERR_NOMEM;
    }
    /* Inputs: dtype, rank and static dims must match; symbolic dims bind their symbols. */
    for (int i = 0; i < ninputs; i++) {
        const OnnxcTensorInfo *ti = &info->inputs[i];
        const IrTensor *t = inputs[i];
        char want[512], got[512];
        if (!t) {
            ir_error(d, NULL, "input %d '%s': no tensor given", i, ti->name);
            return ONNXC_ERR_INVALID_ARG;
        }
        if ((int)t->dtype != ti->dtype) {
            ir_error(d, NULL, "input %d '%s': element type %s given, the model expects %s", i,
                     ti->name, ir_dtype_name(t->dtype), ir_dtype_name(ti->dtype));
            return ONNXC_ERR_TYPE;
        }
        shape_str(want, sizeof want, ti->rank, ti->dims, ti->dim_names);
        shape_str(got, sizeof got, t->rank, t->dims, NULL);
        if (t->rank != ti->rank) {
            ir_error(d, NULL, "input %d '%s': shape %s given, the model expects %s (rank %d)", i,
                     ti->name, got, want, ti->rank);
            return ONNXC_ERR_SHAPE;
        }
        for (int k = 0; k < ti->rank; k++) {
            if (ti->dims[k] >= 0) {
                if (t->dims[k] != ti->dims[k]) {
                    ir_error(d, NULL, "input %d '%s': shape %s given, the model expects %s "
                             "(dimension %d)", i, ti->name, got, want, k);
                    return ONNXC_ERR_SHAPE;
                }
                continue;
            }
            const char *s = ti->dim_names ? ti->dim_names[k] : NULL;
            if (!s) continue;
            int j = 0;
            while (j < nsym && strcmp(syms[j].name, s) != 0) j++;
            if (j < nsym) {
                if (syms[j].value != t->dims[k]) {
                    ir_error(d, NULL, "input %d '%s': dimension %d ('%s') is %lld but '%s' is "
                             "%lld in an earlier input", i, ti->name, k, s,
                             (long long)t->dims[k], s, (long long)syms[j].value);
                    return ONNXC_ERR_SHAPE;
                }
            } else {
                syms[nsym].name = s;
                syms[nsym].value = t->dims[k];
                nsym++;
            }
        }
        in[i].data = t->data;
        in[i].dtype = ti->dtype;
        in[i].rank = t->rank;
        in[i].dims = t->dims;
    }
    /* Outputs: shapes from the info; symbolic dims resolved from the inputs' bindings. An
     * output with a data-dependent dim is allocated by the library (data NULL) and copied
     * after the run (docs/DYNAMIC_SHAPES.md). */
    for (int i = 0; i < info->num_outputs; i++) {
        int dynamic = 0;
        const OnnxcTensorInfo *ti = &info->outputs[i];
        int64_t dims[IR_MAX_RANK];
        if (ti->rank < 0 || ti->rank > IR_MAX_RANK) {
            ir_error(d, NULL, "output %d '%s': unsupported rank %d", i, ti->name, ti->rank);
            return ONNXC_ERR_UNSUPPORTED;
        }
        for (int k = 0; k < ti->rank; k++) {
            dims[k] = ti->dims[k];
            if (dims[k] >= 0) continue;
            const char *s = ti->dim_names ? ti->dim_names[k] : NULL;
            int j = 0;
            while (s && j < nsym && strcmp(syms[j].name, s) != 0) j++;
            if (!s || j == nsym) {
                dynamic = 1;
                continue;
            }
            dims[k] = syms[j].value;
        }
        if (dynamic) {
            outputs[i] = NULL;
            out[i].data = NULL;
            out[i].dtype = ti->dtype;
            out[i].rank = ti->rank;
            out[i].dims = NULL;
            continue;
        }
        IrTensor *t = ir_tensor_new(a, (IrDType)ti->dtype, ti->rank, dims);
        if (!t) {
            ir_error(d, NULL, "output %d '%s': cannot allocate the output tensor", i, ti->name);
            return ONNXC_ERR_NOMEM;
        }
        t->name = ir_arena_strdup(a, ti->name);
        outputs[i] = t;
        out[i].data = t->data;
        out[i].dtype = ti->dtype;
        out[i].rank = t->rank;
        out[i].dims = t->dims;
    }
    if (!h->ctx) {
        int st = h->create(&h->ctx);
        if (st != ONNXC_OK || !h->ctx) {
            ir_error(d, NULL, "model '%s': onnxc_context_create failed (status %d): %s",
                     info->name, st, h->error(NULL));
            h->ctx = NULL;
            return st ? st : ONNXC_ERR_NOMEM;
        }
    }
    int st = h->run(h->ctx, in, ninputs, out, info->num_outputs);
    if (st != ONNXC_OK) {
        ir_error(d, NULL, "model '%s': onnxc_run failed (status %d): %s", info->name, st,
                 h->error(h->ctx));
        return st;
    }
    for (int i = 0; i < info->num_outputs; i++) {
        if (outputs[i])
            continue;
        if (!out[i].data || (out[i].rank > 0 && !out[i].dims)) {
            ir_error(d, NULL, "output %d '%s': the library returned no data", i,
                     info->outputs[i].name);
            return ONNXC_ERR_RUNTIME;
        }
        IrTensor *t = ir_tensor_new(a, (IrDType)out[i].dtype, out[i].rank, out[i].dims);
        if (!t) {
            ir_error(d, NULL, "output %d '%s': cannot allocate the output tensor", i,
                     info->outputs[i].name);
            return ONNXC_ERR_NOMEM;
        }
        t->name = ir_arena_strdup(a, info->outputs[i].name);
        if (t->nbytes > 0)
            memcpy(t->data, out[i].data, (size_t)t->nbytes); /* strings: records, owned below */
        outputs[i] = t;
    }
    for (int i = 0; i < info->num_outputs; i++)
        if (harness_str_own(outputs[i], a)) {
            ir_error(d, NULL, "output %d '%s': cannot copy its strings", i, info->outputs[i].name);
            return ONNXC_ERR_NOMEM;
        }
    return ONNXC_OK;
}

/* ------------------------------------------------------------------ comparison */

/* IEEE half (1-5-10) bits to double. */
static double f16_to_double(uint16_t b) {
    int s = b >> 15, e = (b >> 10) & 31, m = b & 1023;
    double v;
    if (e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = ldexp((double)m, -24);
    else v = ldexp(1.0 + m / 1024.0, e - 15);
    return s ? -v : v;
}

/* bfloat16: the upper half of a float32. */
static double bf16_to_double(uint16_t b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Small float formats of the ONNX spec (docs/Float8.md, float4 in docs/Operators.md Cast):
 * sign bit, `eb` exponent bits, `mb` mantissa bits, exponent bias; `fnuz` formats have NaN = 0x80
 * and no -0; E4M3FN has NaN at all-ones and no infinities; E5M2 is IEEE-like. */
static double small_float_to_double(int dt, uint8_t b) {
    int eb, mb, bias;
    switch (dt) {
    case IR_DT_FLOAT8E4M3FN: eb = 4; mb = 3; bias = 7; if ((b & 0x7f) == 0x7f) return NAN; break;
    case IR_DT_FLOAT8E4M3FNUZ: eb = 4; mb = 3; bias = 8; if (b == 0x80) return NAN; break;
    case IR_DT_FLOAT8E5M2:
        eb = 5; mb = 2; bias = 15;
        if (((b >> 2) & 31) == 31) return (b & 3) ? NAN : ((b & 0x80) ? -INFINITY : INFINITY);
        break;
    case IR_DT_FLOAT8E5M2FNUZ: eb = 5; mb = 2; bias = 16; if (b == 0x80) return NAN; break;
    case IR_DT_FLOAT4E2M1: eb = 2; mb = 1; bias = 1; b &= 0x0f; break;
    case IR_DT_FLOAT8E8M0: return b == 0xff ? NAN : ldexp(1.0, (int)b - 127);
    default: return NAN;
    }
    int s = (b >> (eb + mb)) & 1, e = (b >> mb) & ((1 << eb) - 1), m = b & ((1 << mb) - 1);
    double v = e == 0 ? ldexp((double)m, 1 - bias - mb)
                      : ldexp(1.0 + (double)m / (1 << mb), e - bias);
    return s ? -v : v;
}

/* Element i of a real-valued numeric tensor as a double (complex: component i of the flat
 * real/imaginary pairs). */
static double elem_double(const IrTensor *t, int64_t i) {
    const void *p = t->data;
    switch ((int)t->dtype) {
    case IR_DT_FLOAT: case IR_DT_COMPLEX64: return ((const float *)p)[i];
    case IR_DT_DOUBLE: case IR_DT_COMPLEX128: return ((const double *)p)[i];
    case IR_DT_FLOAT16: return f16_to_double(((const uint16_t *)p)[i]);
    case IR_DT_BFLOAT16: return bf16_to_double(((const uint16_t *)p)[i]);
    case IR_DT_FLOAT8E4M3FN: case IR_DT_FLOAT8E4M3FNUZ: case IR_DT_FLOAT8E5M2:
    case IR_DT_FLOAT8E5M2FNUZ: case IR_DT_FLOAT8E8M0: case IR_DT_FLOAT4E2M1:
        return small_float_to_double(t->dtype, ((const uint8_t *)p)[i]);
    default: return NAN;
    }
}

static int is_float_type(int dt) {
    switch (dt) {
    case IR_DT_FLOAT: case IR_DT_DOUBLE: case IR_DT_FLOAT16: case IR_DT_BFLOAT16:
    case IR_DT_COMPLEX64: case IR_DT_COMPLEX128: case IR_DT_FLOAT8E4M3FN:
    case IR_DT_FLOAT8E4M3FNUZ: case IR_DT_FLOAT8E5M2: case IR_DT_FLOAT8E5M2FNUZ:
    case IR_DT_FLOAT8E8M0: case IR_DT_FLOAT4E2M1:
        return 1;
    default:
        return 0;
    }
}

/* Integer element as a signed value (unsigned 64-bit handled separately). */
static int64_t elem_int(const IrTensor *t, int64_t i) {
    const void *p = t->data;
    switch ((int)t->dtype) {
    case IR_DT_UINT8: case IR_DT_UINT4: case IR_DT_UINT2: case IR_DT_BOOL:
        return ((const uint8_t *)p)[i];
    case IR_DT_INT8: case IR_DT_INT4: case IR_DT_INT2: return ((const int8_t *)p)[i];
    case IR_DT_UINT16: return ((const uint16_t *)p)[i];
    case IR_DT_INT16: return ((const int16_t *)p)[i];
    case IR_DT_INT32: return ((const int32_t *)p)[i];
    case IR_DT_UINT32: return ((const uint32_t *)p)[i];
    case IR_DT_INT64: return ((const int64_t *)p)[i];
    default: return 0;
    }
}

int harness_compare(const IrTensor *actual, const IrTensor *expected, double rtol, double atol,
                    double *max_abs, double *max_rel) {
    double mabs = 0, mrel = 0;
    int ok = 1;
    if (max_abs) *max_abs = INFINITY;
    if (max_rel) *max_rel = INFINITY;
    if (!actual || !expected || actual->dtype != expected->dtype ||
        actual->rank != expected->rank)
        return 0;
    for (int k = 0; k < actual->rank; k++)
        if (actual->dims[k] != expected->dims[k]) return 0;
    int64_t n = expected->numel;
    if (actual->numel != n) return 0;
    if (n > 0 && (!actual->data || !expected->data)) return 0;
    int dt = expected->dtype;
    if (is_float_type(dt)) {
        if (dt == IR_DT_COMPLEX64 || dt == IR_DT_COMPLEX128) n *= 2;
        for (int64_t i = 0; i < n; i++) {
            double a = elem_double(actual, i), e = elem_double(expected, i);
            if (isnan(e) || isnan(a)) {
                if (!(isnan(e) && isnan(a))) { ok = 0; mabs = INFINITY; mrel = INFINITY; }
                continue;
            }
            if (isinf(e) || isinf(a)) {
                if (a != e) { ok = 0; mabs = INFINITY; mrel = INFINITY; }
                continue;
            }
            double err = fabs(a - e);
            if (err > atol + rtol * fabs(e)) ok = 0;
            if (err > mabs) mabs = err;
            if (e != 0 && err / fabs(e) > mrel) mrel = err / fabs(e);
        }
    } else if (dt == IR_DT_STRING) {
        const IrString *a = actual->data, *e = expected->data;
        for (int64_t i = 0; i < n; i++) {
            if (a[i].len != e[i].len || (e[i].len && memcmp(a[i].data, e[i].data, e[i].len))) {
                ok = 0;
                mabs = mrel = 1;
            }
        }
    } else if (dt == IR_DT_UINT64) {
        const uint64_t *a = actual->data, *e = expected->data;
        for (int64_t i = 0; i < n; i++) {
            if (a[i] != e[i]) {
                ok = 0;
                double err = a[i] > e[i] ? (double)(a[i] - e[i]) : (double)(e[i] - a[i]);
                if (err > mabs) mabs = err;
                if (e[i] && err / (double)e[i] > mrel) mrel = err / (double)e[i];
            }
        }
    } else if (ir_dtype_valid(dt)) {
        for (int64_t i = 0; i < n; i++) {
            int64_t a = elem_int(actual, i), e = elem_int(expected, i);
            if (dt == IR_DT_BOOL) { a = a != 0; e = e != 0; }
            if (a != e) {
                ok = 0;
                double err = fabs((double)a - (double)e);
                if (err > mabs) mabs = err;
                if (e && err / fabs((double)e) > mrel) mrel = err / fabs((double)e);
            }
        }
    } else {
        return 0;
    }
    if (max_abs) *max_abs = mabs;
    if (max_rel) *max_rel = mrel;
    return ok;
}
