/* be_llvm.c - LLVM code generation for a prepared model (LLVM-C API of LLVM 19).
 *
 * One module per model (docs/BACKEND.md has the full picture):
 *   - every constant a lowered node reads (or a graph output that is a constant) as a private
 *     64-byte aligned constant global holding its bytes;
 *   - `onnxc__graph` (hidden): calls the kernel of every lowered node in order with RtTensor
 *     arrays built on the stack, returns the first non-zero status, and finally copies the graph
 *     outputs that no lowered node writes (inputs, constants, a value listed twice);
 *   - `onnxc__desc` (hidden, RtModelDesc of runtime/api/rt_model.h) and the OnnxcModelInfo /
 *     OnnxcTensorInfo tables it points at;
 *   - the typed API NAME_create / NAME_destroy / NAME_error / NAME_run forwarding to rt_api_*.
 * be_emit_named gives the graph function and the descriptor other symbol names (the training
 * library links two graphs into one library: backend/be_train.c).
 * With o->use_bitcode the runtime's kernel bitcode is linked in, everything but the entry
 * points is internalised (unused kernels disappear), functions get the host CPU and features,
 * and the new pass manager's default<On> pipeline runs. Output is written to a temporary file
 * next to the target and renamed on success.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/BitReader.h>
#include <llvm-c/Core.h>
#include <llvm-c/Linker.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "backend/be_internal.h"
#include "ops/op.h"
#include "runtime/api/rt_model.h"
#include "runtime/onnxc_rt.h"

#ifndef ONNXC_VERSION
#define ONNXC_VERSION "0"
#endif

/* The LLVM types below mirror these C structs; keep them in step. */
_Static_assert(sizeof(RtTensor) == 24, "RtTensor layout changed: update be_llvm.c");
_Static_assert(sizeof(RtModelDesc) == 32, "RtModelDesc layout changed: update be_llvm.c");
_Static_assert(sizeof(OnnxcTensorInfo) == 32, "OnnxcTensorInfo changed: update be_llvm.c");
_Static_assert(sizeof(OnnxcModelInfo) == 64, "OnnxcModelInfo changed: update be_llvm.c");

/* State of one emission. */
typedef struct Be {
    LLVMContextRef C;       /* owns types and constants */
    LLVMModuleRef M;        /* the model module */
    LLVMBuilderRef B;       /* instruction builder */
    IrGraph *g;             /* graph being compiled */
    IrDiag *d;              /* diagnostics */
    const char *name;       /* model name (C identifier) */
    const char *graph_sym;  /* graph function's symbol (onnxc__graph unless be_emit_named) */
    const char *desc_sym;   /* RtModelDesc's symbol (onnxc__desc unless be_emit_named) */
    LLVMTypeRef i8, i32, i64, ptr, vd; /* basic types */
    LLVMTypeRef tensor_ty;  /* RtTensor {ptr, ptr, i32, i32} */
    LLVMTypeRef kfn_ty;     /* kernel signature */
    LLVMValueRef *data_g;   /* per value id: constant global of its data (lazily made) */
    LLVMValueRef *dims_g;   /* per value id: constant global of its dims (lazily made) */
    int *in_idx;            /* per value id: index among real inputs, or -1 */
    int *out_idx;           /* per value id: first index among graph outputs, or -1 */
    LLVMValueRef dims0;     /* shared dims global for rank-0 tensors */
    uint64_t weight_bytes;  /* bytes of constant data emitted */
    int nconst;             /* counter for global names */
    int inline_kernels;     /* bitcode at O1+: force-inline kernels, one RtTensor array per node */
    int dynamic;            /* some value has a dynamic shape: dynamic graph function */
    int oom;                /* a scratch allocation failed: be_emit reports it and stops */
} Be;

/* Calls of one kernel beyond which it is not force-inlined (code size). */
#define BE_MAX_INLINED_CALLS 16

/* Kernels never force-inlined: rt_k_fused_elementwise (runtime/rt_fused.c) is an interpreter
 * whose program, input count and element types LLVM does not reliably resolve inside a large
 * graph function; each inlined copy then kept every op x dtype x stride loop and vectorised
 * them all (ResNet-18 at -O3: 8 copies, 53 s user instead of 8 s without fusion). Out of line it
 * is optimised once and dispatches per block of 256 elements. docs/PASSES.md has the numbers. */
static const char *const be_no_force_inline[] = {"rt_k_fused_elementwise"};

/* ------------------------------------------------------------------ process-wide state */

static pthread_once_t g_target_once = PTHREAD_ONCE_INIT;
static int g_target_ok;

static void init_target(void) {
    g_target_ok = LLVMInitializeNativeTarget() == 0 && LLVMInitializeNativeAsmPrinter() == 0;
}

/* The kernel bitcode file is read once per process (per path) and parsed from memory into each
 * emission's own context: parsing is the cheap part, and contexts stay per-emission (no global
 * LLVM state, no growth across the ~2000 models of a conformance run). */
static pthread_mutex_t g_bc_lock = PTHREAD_MUTEX_INITIALIZER;
static char *g_bc_path;  /* path the cached bytes came from */
static void *g_bc_data;  /* file contents */
static size_t g_bc_len;  /* bytes */

/* Returns the cached bitcode bytes for path (reading it on first use); 0 / -1 + diag. */
static int bitcode_bytes(const char *path, const void **data, size_t *len, IrDiag *d) {
    pthread_mutex_lock(&g_bc_lock);
    if (!g_bc_path || strcmp(g_bc_path, path) != 0) {
        FILE *f = fopen(path, "rb");
        if (!f) {
            pthread_mutex_unlock(&g_bc_lock);
            ir_error(d, NULL, "cannot open kernel bitcode '%s': %s (set ONNXC_RUNTIME_DIR, or "
                     "compile without bitcode)", path, strerror(errno));
            return -1;
        }
        char *buf = NULL;
        size_t n = 0, cap = 0;
        int bad = 0;
        for (;;) {
            if (n == cap) {
                cap = cap ? cap * 2 : (1u << 20);
                char *nb = ir_realloc(buf, cap);
                if (!nb) {
                    bad = 1;
                    break;
                }
                buf = nb;
            }
            size_t k = fread(buf + n, 1, cap - n, f);
            n += k;
            if (k == 0)
                break;
        }
        bad |= ferror(f) != 0;
        fclose(f);
        if (bad) {
            free(buf);
            pthread_mutex_unlock(&g_bc_lock);
            ir_error(d, NULL, "cannot read kernel bitcode '%s'", path);
            return -1;
        }
        /* A previous file's bytes are kept (not freed): another thread's lazily loaded module
         * may still be reading them. Only a change of runtime folder leaks them. */
        g_bc_data = buf;
        g_bc_len = n;
        g_bc_path = strdup(path);
    }
    *data = g_bc_data;
    *len = g_bc_len;
    pthread_mutex_unlock(&g_bc_lock);
    return 0;
}

/* ------------------------------------------------------------------ small helpers */

static LLVMValueRef ci32(Be *be, long long v) { return LLVMConstInt(be->i32, (unsigned long long)v, 1); }
static LLVMValueRef ci64(Be *be, long long v) { return LLVMConstInt(be->i64, (unsigned long long)v, 1); }

/* Private constant global with initializer init. */
static LLVMValueRef const_global(Be *be, LLVMValueRef init, const char *prefix, unsigned align) {
    char nm[64];
    snprintf(nm, sizeof nm, "onnxc.%s.%d", prefix, be->nconst++);
    LLVMValueRef gv = LLVMAddGlobal(be->M, LLVMTypeOf(init), nm);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    LLVMSetUnnamedAddress(gv, LLVMGlobalUnnamedAddr);
    if (align)
        LLVMSetAlignment(gv, align);
    return gv;
}

/* NUL-terminated string constant; NULL s gives a null pointer. */
static LLVMValueRef cstr(Be *be, const char *s) {
    if (!s)
        return LLVMConstNull(be->ptr);
    LLVMValueRef init = LLVMConstStringInContext2(be->C, s, strlen(s), 0);
    return const_global(be, init, "str", 1);
}

/* Array of int64 as a constant global. */
static LLVMValueRef i64_array(Be *be, const int64_t *v, int n) {
    LLVMValueRef *el = ir_malloc(sizeof *el * (size_t)(n > 0 ? n : 1));
    if (!el) { /* a placeholder keeps the builder calls valid; be_emit stops on be->oom */
        be->oom = 1;
        return LLVMConstNull(be->ptr);
    }
    for (int i = 0; i < n; i++)
        el[i] = ci64(be, v[i]);
    LLVMValueRef arr = LLVMConstArray2(be->i64, el, (uint64_t)n);
    free(el);
    return const_global(be, arr, "dims", 8);
}

/* Dims global of a (static) value. */
static LLVMValueRef value_dims(Be *be, const IrValue *v) {
    if (v->type.rank <= 0) {
        if (!be->dims0) {
            int64_t zero = 0;
            be->dims0 = i64_array(be, &zero, 1);
        }
        return be->dims0;
    }
    if (!be->dims_g[v->id]) {
        int64_t dims[IR_MAX_RANK];
        for (int k = 0; k < v->type.rank && k < IR_MAX_RANK; k++)
            dims[k] = v->type.dims[k].value;
        be->dims_g[v->id] = i64_array(be, dims, v->type.rank);
    }
    return be->dims_g[v->id];
}

/* Constant global holding a constant value's bytes (strings: {ptr, i64} records). */
static LLVMValueRef value_const(Be *be, const IrValue *v) {
    if (be->data_g[v->id])
        return be->data_g[v->id];
    const IrTensor *t = v->init;
    LLVMValueRef init;
    if (t->dtype == IR_DT_STRING) {
        LLVMTypeRef rec = LLVMStructTypeInContext(be->C, (LLVMTypeRef[]){be->ptr, be->i64}, 2, 0);
        int64_t n = t->numel;
        LLVMValueRef *el = ir_malloc(sizeof *el * (size_t)(n > 0 ? n : 1));
        if (!el) {
            be->oom = 1;
            return LLVMConstNull(be->ptr);
        }
        const IrString *s = t->data;
        for (int64_t i = 0; i < n; i++) {
            LLVMValueRef str = const_global(
                be, LLVMConstStringInContext2(be->C, s[i].data ? s[i].data : "", s[i].len, 1),
                "s", 1);
            el[i] = LLVMConstNamedStruct(rec, (LLVMValueRef[]){str, ci64(be, (long long)s[i].len)}, 2);
        }
        init = LLVMConstArray2(rec, el, (uint64_t)n);
        free(el);
    } else {
        init = LLVMConstStringInContext2(be->C, t->data ? t->data : "", t->nbytes, 1);
    }
    be->weight_bytes += t->nbytes;
    be->data_g[v->id] = const_global(be, init, "w", 64);
    return be->data_g[v->id];
}

/* Loads arr[idx] (an array of pointers). */
static LLVMValueRef load_ptr_at(Be *be, LLVMValueRef arr, int idx) {
    LLVMValueRef p = LLVMBuildGEP2(be->B, be->ptr, arr, (LLVMValueRef[]){ci64(be, idx)}, 1, "");
    return LLVMBuildLoad2(be->B, be->ptr, p, "");
}

/* Data pointer of a value inside onnxc__graph; NULL (LLVM) with a diagnostic if unplanned. */
static LLVMValueRef value_data(Be *be, const IrValue *v, LLVMValueRef ws, LLVMValueRef ins,
                               LLVMValueRef outs) {
    if (be->in_idx[v->id] >= 0)
        return load_ptr_at(be, ins, be->in_idx[v->id]);
    if (v->init)
        return value_const(be, v);
    if (be->out_idx[v->id] >= 0)
        return load_ptr_at(be, outs, be->out_idx[v->id]);
    if (v->offset >= 0)
        return LLVMBuildGEP2(be->B, be->i8, ws, (LLVMValueRef[]){ci64(be, v->offset)}, 1, "");
    ir_error(be->d, v->producer, "value '%s' has no memory (not planned)", v->name);
    return NULL;
}

/* Stores one RtTensor {data, dims, rank, dtype} into element i of arr. */
static void store_tensor(Be *be, LLVMValueRef arr, int i, LLVMValueRef data, LLVMValueRef dims,
                         int rank, int dtype) {
    LLVMValueRef el = LLVMBuildGEP2(be->B, be->tensor_ty, arr, (LLVMValueRef[]){ci64(be, i)}, 1, "");
    LLVMBuildStore(be->B, data, LLVMBuildStructGEP2(be->B, be->tensor_ty, el, 0, ""));
    LLVMBuildStore(be->B, dims, LLVMBuildStructGEP2(be->B, be->tensor_ty, el, 1, ""));
    LLVMBuildStore(be->B, ci32(be, rank), LLVMBuildStructGEP2(be->B, be->tensor_ty, el, 2, ""));
    LLVMBuildStore(be->B, ci32(be, dtype), LLVMBuildStructGEP2(be->B, be->tensor_ty, el, 3, ""));
}

static LLVMValueRef get_fn(Be *be, const char *name, LLVMTypeRef ty) {
    LLVMValueRef f = LLVMGetNamedFunction(be->M, name);
    return f ? f : LLVMAddFunction(be->M, name, ty);
}

/* ------------------------------------------------------------------ checks */

static int value_ok(Be *be, const IrNode *n, const IrValue *v, const char *what) {
    if (be->dynamic && v->type.kind == IR_TYPE_TENSOR && v->type.rank >= 0 && !v->init)
        return 0; /* dims read or computed at run time (docs/DYNAMIC_SHAPES.md) */
    if (v->type.kind != IR_TYPE_TENSOR || !ir_type_is_static(&v->type)) {
        ir_error(be->d, n, "%s '%s' has no static tensor type; the backend needs static shapes",
                 what, v->name);
        return -1;
    }
    if (v->init && v->init->dtype == IR_DT_STRING && !v->init->data && v->init->numel > 0) {
        ir_error(be->d, n, "%s '%s': string constant without data", what, v->name);
        return -1;
    }
    return 0;
}

static int check_graph(Be *be) {
    int bad = 0;
    IrGraph *g = be->g;
    for (int i = 0; i < g->ninputs; i++)
        if (be_is_real_input(g->inputs[i]))
            bad |= value_ok(be, NULL, g->inputs[i], "input") != 0;
    for (int i = 0; i < g->noutputs; i++) {
        const IrValue *v = g->outputs[i];
        bad |= value_ok(be, NULL, v, "output") != 0;
        if (be->in_idx[v->id] < 0 && !v->init && !(v->producer && v->producer->kernel)) {
            ir_error(be->d, NULL, "output '%s' is not computed by any lowered node", v->name);
            bad = 1;
        }
    }
    for (IrNode *n = g->first; n; n = n->next) {
        if (!n->kernel)
            continue;
        if (!rt_kernel_find(n->kernel)) {
            ir_error(be->d, n, "kernel '%s' is not in the runtime", n->kernel);
            bad = 1;
        }
        for (int k = 0; k < n->nin; k++)
            if (n->in[k])
                bad |= value_ok(be, n, n->in[k], "input") != 0;
        for (int k = 0; k < n->nout; k++) {
            if (!n->out[k])
                continue;
            bad |= value_ok(be, n, n->out[k], "output") != 0;
            if (n->out[k]->init) {
                ir_error(be->d, n, "output '%s' is a constant but the node is not folded",
                         n->out[k]->name);
                bad = 1;
            }
        }
    }
    return bad ? -1 : 0;
}

/* ------------------------------------------------------------------ the graph function */

static LLVMValueRef emit_graph_fn_dyn(Be *be);

static LLVMValueRef emit_graph_fn(Be *be) {
    if (be->dynamic)
        return emit_graph_fn_dyn(be);
    IrGraph *g = be->g;
    LLVMTypeRef gty = LLVMFunctionType(be->i32, (LLVMTypeRef[]){be->ptr, be->ptr, be->ptr, be->ptr}, 4, 0);
    LLVMValueRef fn = LLVMAddFunction(be->M, be->graph_sym, gty);
    LLVMSetVisibility(fn, LLVMHiddenVisibility);
    LLVMValueRef ctx = LLVMGetParam(fn, 0), ws = LLVMGetParam(fn, 1);
    LLVMValueRef ins = LLVMGetParam(fn, 2), outs = LLVMGetParam(fn, 3);
    LLVMBasicBlockRef entry = LLVMAppendBasicBlockInContext(be->C, fn, "entry");
    LLVMBasicBlockRef fail = LLVMAppendBasicBlockInContext(be->C, fn, "fail");
    LLVMPositionBuilderAtEnd(be->B, entry);

    int maxin = 1, maxout = 1, nlowered = 0;
    for (IrNode *n = g->first; n; n = n->next) {
        if (!n->kernel)
            continue;
        nlowered++;
        if (n->nin > maxin)
            maxin = n->nin;
        if (n->nout > maxout)
            maxout = n->nout;
    }
    /* One pair of tensor arrays serves every call (kernels do not keep the pointers). */
    LLVMValueRef tin = LLVMBuildAlloca(be->B, LLVMArrayType2(be->tensor_ty, (uint64_t)maxin), "tin");
    LLVMValueRef tout = LLVMBuildAlloca(be->B, LLVMArrayType2(be->tensor_ty, (uint64_t)maxout), "tout");
    LLVMSetAlignment(tin, 16);
    LLVMSetAlignment(tout, 16);

    LLVMValueRef *phi_v = ir_calloc((size_t)nlowered + 1, sizeof *phi_v);
    LLVMBasicBlockRef *phi_b = ir_calloc((size_t)nlowered + 1, sizeof *phi_b);
    if (!phi_v || !phi_b) {
        free(phi_v);
        free(phi_b);
        ir_error(be->d, NULL, "out of memory");
        return NULL;
    }
    int nphi = 0, bad = 0;
    LLVMValueRef null = LLVMConstNull(be->ptr);
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(be->B);
    for (IrNode *n = g->first; n; n = n->next) {
        if (!n->kernel)
            continue;
        if (be->inline_kernels) {
            /* Separate arrays per node (at the top of the entry block): once a kernel is
             * inlined, loads of its RtTensor fields then fold to the stored constants (one
             * shared array would be clobbered, for alias analysis, by any call it escapes to). */
            cur = LLVMGetInsertBlock(be->B);
            LLVMValueRef first = LLVMGetFirstInstruction(entry);
            if (first)
                LLVMPositionBuilderBefore(be->B, first);
            else
                LLVMPositionBuilderAtEnd(be->B, entry);
            tin = LLVMBuildAlloca(be->B, LLVMArrayType2(be->tensor_ty, (uint64_t)(n->nin ? n->nin : 1)), "tin");
            tout = LLVMBuildAlloca(be->B, LLVMArrayType2(be->tensor_ty, (uint64_t)(n->nout ? n->nout : 1)), "tout");
            LLVMSetAlignment(tin, 16);
            LLVMSetAlignment(tout, 16);
            LLVMPositionBuilderAtEnd(be->B, cur);
        }
        for (int k = 0; k < n->nin; k++) {
            IrValue *v = n->in[k];
            if (!v) {
                store_tensor(be, tin, k, null, null, -1, 0);
                continue;
            }
            LLVMValueRef data = value_data(be, v, ws, ins, outs);
            if (!data) {
                bad = 1;
                continue;
            }
            store_tensor(be, tin, k, data, value_dims(be, v), v->type.rank, v->type.dtype);
        }
        for (int k = 0; k < n->nout; k++) {
            IrValue *v = n->out[k];
            if (!v) {
                store_tensor(be, tout, k, null, null, -1, 0);
                continue;
            }
            LLVMValueRef data = value_data(be, v, ws, ins, outs);
            if (!data) {
                bad = 1;
                continue;
            }
            store_tensor(be, tout, k, data, value_dims(be, v), v->type.rank, v->type.dtype);
        }
        LLVMValueRef params = null;
        if (n->params && n->params_size > 0)
            params = const_global(be, LLVMConstStringInContext2(be->C, n->params, n->params_size, 1),
                                  "p", 16);
        LLVMValueRef kf = get_fn(be, n->kernel, be->kfn_ty);
        LLVMValueRef args[6] = {ctx, params, tin, ci32(be, n->nin), tout, ci32(be, n->nout)};
        LLVMValueRef st = LLVMBuildCall2(be->B, be->kfn_ty, kf, args, 6, "");
        LLVMValueRef ne = LLVMBuildICmp(be->B, LLVMIntNE, st, ci32(be, 0), "");
        LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(be->C, fn, "");
        LLVMMoveBasicBlockBefore(next, fail);
        LLVMBuildCondBr(be->B, ne, fail, next);
        phi_v[nphi] = st;
        phi_b[nphi++] = LLVMGetInsertBlock(be->B);
        LLVMPositionBuilderAtEnd(be->B, next);
    }
    /* Outputs that no lowered node writes in place. */
    for (int i = 0; i < g->noutputs; i++) {
        IrValue *v = g->outputs[i];
        int written = v->producer && v->producer->kernel && be->out_idx[v->id] == i &&
                      be->in_idx[v->id] < 0 && !v->init;
        if (written)
            continue;
        int64_t nb = 0;
        if (ir_type_nbytes(&v->type, &nb) != 0) {
            ir_error(be->d, NULL, "output '%s': size unknown", v->name);
            bad = 1;
            continue;
        }
        LLVMValueRef src = value_data(be, v, ws, ins, outs);
        if (!src) {
            bad = 1;
            continue;
        }
        LLVMValueRef dst = load_ptr_at(be, outs, i);
        if (nb > 0)
            LLVMBuildMemCpy(be->B, dst, 1, src, 1, ci64(be, nb));
    }
    LLVMBuildRet(be->B, ci32(be, 0));
    LLVMPositionBuilderAtEnd(be->B, fail);
    if (nphi > 0) {
        LLVMValueRef phi = LLVMBuildPhi(be->B, be->i32, "status");
        LLVMAddIncoming(phi, phi_v, phi_b, (unsigned)nphi);
        LLVMBuildRet(be->B, phi);
    } else {
        LLVMBuildUnreachable(be->B);
    }
    free(phi_v);
    free(phi_b);
    return bad ? NULL : fn;
}

/* ------------------------------------------------------------------ dynamic-shape graph function */

int be_graph_dynamic(const IrGraph *g) {
    for (int i = 0; i < g->ninputs; i++)
        if (be_is_real_input(g->inputs[i]) && !ir_type_is_static(&g->inputs[i]->type))
            return 1;
    for (int i = 0; i < g->noutputs; i++)
        if (!ir_type_is_static(&g->outputs[i]->type))
            return 1;
    for (const IrNode *n = g->first; n; n = n->next) {
        if (!n->kernel)
            continue;
        for (int k = 0; k < n->nin; k++)
            if (n->in[k] && n->in[k]->type.kind == IR_TYPE_TENSOR && !ir_type_is_static(&n->in[k]->type))
                return 1;
        for (int k = 0; k < n->nout; k++)
            if (n->out[k] && !ir_type_is_static(&n->out[k]->type))
                return 1;
    }
    return 0;
}

/* State of the dynamic graph function (docs/DYNAMIC_SHAPES.md). */
typedef struct Dyn {
    LLVMValueRef fn, ctx, ws, ins, outs;
    LLVMBasicBlockRef entry, fail;
    LLVMValueRef *phi_v;       /* statuses flowing into `fail` */
    LLVMBasicBlockRef *phi_b;
    int nphi, capphi;
    const char **sym;          /* symbol names */
    LLVMValueRef *sym_slot;    /* per symbol: i64 alloca, -1 while unbound */
    LLVMValueRef *sym_name;    /* per symbol: its name as a C string (lazily) */
    unsigned char *sym_bound;  /* per symbol: bound at this point of code generation */
    int nsym, capsym;
    LLVMValueRef *dslot;       /* per value id: ptr alloca holding the data (dynamic values) */
    LLVMValueRef *ddims;       /* per value id: pointer to its dims storage (dynamic values) */
    LLVMTypeRef bind_ty, prep_ty;
    int bad;
} Dyn;

static int dyn_grow(void **p, int *cap, int need, size_t el) {
    if (need <= *cap)
        return 0;
    int nc = *cap ? *cap * 2 : 16;
    while (nc < need)
        nc *= 2;
    void *q = realloc(*p, (size_t)nc * el);
    if (!q)
        return -1;
    *p = q;
    *cap = nc;
    return 0;
}

/* Branch to `fail` when st != 0 (st recorded for the phi); continues in a new block. */
static void dyn_check(Be *be, Dyn *D, LLVMValueRef st) {
    int cap = D->capphi;
    if (dyn_grow((void **)&D->phi_v, &cap, D->nphi + 1, sizeof *D->phi_v) ||
        dyn_grow((void **)&D->phi_b, &D->capphi, D->nphi + 1, sizeof *D->phi_b)) {
        D->bad = 1;
        return;
    }
    LLVMValueRef ne = LLVMBuildICmp(be->B, LLVMIntNE, st, ci32(be, 0), "");
    LLVMBasicBlockRef next = LLVMAppendBasicBlockInContext(be->C, D->fn, "");
    LLVMMoveBasicBlockBefore(next, D->fail);
    LLVMBuildCondBr(be->B, ne, D->fail, next);
    D->phi_v[D->nphi] = st;
    D->phi_b[D->nphi++] = LLVMGetInsertBlock(be->B);
    LLVMPositionBuilderAtEnd(be->B, next);
}

/* An alloca at the top of the entry block. */
static LLVMValueRef dyn_alloca(Be *be, Dyn *D, LLVMTypeRef ty, const char *nm) {
    LLVMBasicBlockRef cur = LLVMGetInsertBlock(be->B);
    LLVMValueRef first = LLVMGetFirstInstruction(D->entry);
    if (first)
        LLVMPositionBuilderBefore(be->B, first);
    else
        LLVMPositionBuilderAtEnd(be->B, D->entry);
    LLVMValueRef a = LLVMBuildAlloca(be->B, ty, nm);
    LLVMSetAlignment(a, 16);
    LLVMPositionBuilderAtEnd(be->B, cur);
    return a;
}

static int dyn_sym_index(Dyn *D, const char *s) {
    for (int i = 0; i < D->nsym; i++)
        if (strcmp(D->sym[i], s) == 0)
            return i;
    return -1;
}

static void dyn_add_syms(Dyn *D, const IrValue *v) {
    if (!v || v->type.kind != IR_TYPE_TENSOR)
        return;
    for (int k = 0; k < v->type.rank; k++) {
        const char *s = v->type.dims[k].sym;
        if (v->type.dims[k].value >= 0 || !s || dyn_sym_index(D, s) >= 0)
            continue;
        int cap = D->capsym, cap2 = D->capsym;
        if (dyn_grow((void **)&D->sym, &cap, D->nsym + 1, sizeof *D->sym) ||
            dyn_grow((void **)&D->sym_slot, &cap2, D->nsym + 1, sizeof *D->sym_slot) ||
            dyn_grow((void **)&D->sym_name, &D->capsym, D->nsym + 1, sizeof *D->sym_name)) {
            D->bad = 1;
            return;
        }
        D->sym[D->nsym++] = s;
    }
}

/* Pointer to field f of element i of an RtTensor array. */
static LLVMValueRef tensor_field(Be *be, LLVMValueRef arr, int i, unsigned f) {
    LLVMValueRef el = LLVMBuildGEP2(be->B, be->tensor_ty, arr, (LLVMValueRef[]){ci64(be, i)}, 1, "");
    return LLVMBuildStructGEP2(be->B, be->tensor_ty, el, f, "");
}

/* Pointer to element j of an i64 array. */
static LLVMValueRef i64_at(Be *be, LLVMValueRef arr, int j) {
    return LLVMBuildGEP2(be->B, be->i64, arr, (LLVMValueRef[]){ci64(be, j)}, 1, "");
}

/* Binds symbol si to `val` (rt_dyn_bind), with the failure check. */
static void dyn_bind(Be *be, Dyn *D, int si, LLVMValueRef val) {
    if (!D->sym_name[si])
        D->sym_name[si] = cstr(be, D->sym[si]);
    LLVMValueRef args[4] = {D->ctx, D->sym_slot[si], val, D->sym_name[si]};
    LLVMValueRef st = LLVMBuildCall2(be->B, D->bind_ty, get_fn(be, "rt_dyn_bind", D->bind_ty), args,
                                     4, "");
    dyn_check(be, D, st);
    D->sym_bound[si] = 1;
}

/* Data and dims pointers of value v at this point of the dynamic graph function. */
static int dyn_value(Be *be, Dyn *D, const IrValue *v, LLVMValueRef *data, LLVMValueRef *dims) {
    if (D->dslot[v->id]) {
        *data = LLVMBuildLoad2(be->B, be->ptr, D->dslot[v->id], "");
        *dims = D->ddims[v->id];
        return 0;
    }
    *dims = value_dims(be, v);
    if (be->in_idx[v->id] >= 0)
        *data = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D->ins, be->in_idx[v->id], 0), "");
    else if (v->init)
        *data = value_const(be, v);
    else if (be->out_idx[v->id] >= 0)
        *data = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D->outs, be->out_idx[v->id], 0), "");
    else if (v->offset >= 0)
        *data = LLVMBuildGEP2(be->B, be->i8, D->ws, (LLVMValueRef[]){ci64(be, v->offset)}, 1, "");
    else {
        ir_error(be->d, v->producer, "value '%s' has no memory (not planned)", v->name);
        return -1;
    }
    return 0;
}

/* Storage of a dynamic value v (data slot, dims) made in the entry block. */
static void dyn_storage(Be *be, Dyn *D, const IrValue *v) {
    if (!v || D->dslot[v->id] || v->init || v->type.kind != IR_TYPE_TENSOR ||
        ir_type_is_static(&v->type))
        return;
    LLVMValueRef slot = dyn_alloca(be, D, be->ptr, "data");
    LLVMValueRef data, dims;
    int r = v->type.rank;
    if (be->in_idx[v->id] >= 0) {
        data = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D->ins, be->in_idx[v->id], 0), "");
        dims = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D->ins, be->in_idx[v->id], 1), "");
    } else if (be->out_idx[v->id] >= 0) {
        data = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D->outs, be->out_idx[v->id], 0), "");
        dims = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D->outs, be->out_idx[v->id], 1), "");
    } else {
        data = LLVMConstNull(be->ptr);
        dims = dyn_alloca(be, D, LLVMArrayType2(be->i64, (uint64_t)(r > 0 ? r : 1)), "dims");
    }
    LLVMBuildStore(be->B, data, slot);
    D->dslot[v->id] = slot;
    D->ddims[v->id] = dims;
}

/* 1 if every dim of v is a constant or a bound symbol. */
static int dyn_known(Dyn *D, const IrValue *v) {
    for (int k = 0; k < v->type.rank; k++) {
        const IrDim *dm = &v->type.dims[k];
        if (dm->value >= 0)
            continue;
        int si = dm->sym ? dyn_sym_index(D, dm->sym) : -1;
        if (si < 0 || !D->sym_bound[si])
            return 0;
    }
    return 1;
}

/* Stores the dims of v (constants and bound symbols) into dst. */
static void dyn_fill_dims(Be *be, Dyn *D, const IrValue *v, LLVMValueRef dst) {
    for (int k = 0; k < v->type.rank; k++) {
        const IrDim *dm = &v->type.dims[k];
        LLVMValueRef x = dm->value >= 0 ? ci64(be, dm->value)
                                        : LLVMBuildLoad2(be->B, be->i64,
                                                         D->sym_slot[dyn_sym_index(D, dm->sym)], "");
        LLVMBuildStore(be->B, x, i64_at(be, dst, k));
    }
}

/* The graph function of a model with dynamic shapes: int onnxc__graph(RtCtx *ctx, void *ws,
 * const RtTensor *inputs, RtTensor *outputs) (runtime/api/rt_model.h, RtGraphDynFn). */
static LLVMValueRef emit_graph_fn_dyn(Be *be) {
    IrGraph *g = be->g;
    Dyn D;
    memset(&D, 0, sizeof D);
    LLVMTypeRef gty = LLVMFunctionType(be->i32, (LLVMTypeRef[]){be->ptr, be->ptr, be->ptr, be->ptr}, 4, 0);
    D.fn = LLVMAddFunction(be->M, be->graph_sym, gty);
    LLVMSetVisibility(D.fn, LLVMHiddenVisibility);
    D.ctx = LLVMGetParam(D.fn, 0);
    D.ws = LLVMGetParam(D.fn, 1);
    D.ins = LLVMGetParam(D.fn, 2);
    D.outs = LLVMGetParam(D.fn, 3);
    D.entry = LLVMAppendBasicBlockInContext(be->C, D.fn, "entry");
    D.fail = LLVMAppendBasicBlockInContext(be->C, D.fn, "fail");
    D.bind_ty = LLVMFunctionType(be->i32, (LLVMTypeRef[]){be->ptr, be->ptr, be->i64, be->ptr}, 4, 0);
    D.prep_ty = LLVMFunctionType(be->i32, (LLVMTypeRef[]){be->ptr, be->ptr}, 2, 0);
    size_t nv = (size_t)g->nvalues + 1;
    D.dslot = calloc(nv, sizeof *D.dslot);
    D.ddims = calloc(nv, sizeof *D.ddims);
    LLVMPositionBuilderAtEnd(be->B, D.entry);
    LLVMValueRef null = LLVMConstNull(be->ptr);
    if (!D.dslot || !D.ddims)
        D.bad = 1;

    /* Symbols, their slots, the storage of every dynamic value. */
    for (int i = 0; i < g->ninputs && !D.bad; i++)
        if (be_is_real_input(g->inputs[i]))
            dyn_add_syms(&D, g->inputs[i]);
    for (IrNode *n = g->first; n && !D.bad; n = n->next) {
        if (!n->kernel)
            continue;
        for (int k = 0; k < n->nin; k++)
            dyn_add_syms(&D, n->in[k]);
        for (int k = 0; k < n->nout; k++)
            dyn_add_syms(&D, n->out[k]);
    }
    for (int i = 0; i < g->noutputs && !D.bad; i++)
        dyn_add_syms(&D, g->outputs[i]);
    D.sym_bound = calloc((size_t)D.nsym + 1, 1);
    if (!D.sym_bound)
        D.bad = 1;
    for (int i = 0; i < D.nsym && !D.bad; i++) {
        D.sym_slot[i] = dyn_alloca(be, &D, be->i64, "sym");
        D.sym_name[i] = NULL;
        LLVMBuildStore(be->B, ci64(be, -1), D.sym_slot[i]);
    }
    for (int i = 0; i < g->ninputs && !D.bad; i++)
        if (be_is_real_input(g->inputs[i]))
            dyn_storage(be, &D, g->inputs[i]);
    for (IrNode *n = g->first; n && !D.bad; n = n->next) {
        if (!n->kernel)
            continue;
        for (int k = 0; k < n->nout; k++)
            dyn_storage(be, &D, n->out[k]);
    }
    /* Bind the symbols of the inputs. */
    for (int i = 0; i < g->ninputs && !D.bad; i++) {
        IrValue *v = g->inputs[i];
        if (!be_is_real_input(v) || !D.dslot[v->id])
            continue;
        for (int k = 0; k < v->type.rank; k++) {
            const IrDim *dm = &v->type.dims[k];
            if (dm->value >= 0 || !dm->sym)
                continue;
            LLVMValueRef x = LLVMBuildLoad2(be->B, be->i64, i64_at(be, D.ddims[v->id], k), "");
            dyn_bind(be, &D, dyn_sym_index(&D, dm->sym), x);
        }
    }

    /* The nodes. */
    for (IrNode *n = g->first; n && !D.bad; n = n->next) {
        if (!n->kernel)
            continue;
        LLVMValueRef tin = dyn_alloca(be, &D, LLVMArrayType2(be->tensor_ty, (uint64_t)(n->nin ? n->nin : 1)), "tin");
        LLVMValueRef tout = dyn_alloca(be, &D, LLVMArrayType2(be->tensor_ty, (uint64_t)(n->nout ? n->nout : 1)), "tout");
        for (int k = 0; k < n->nin; k++) {
            IrValue *v = n->in[k];
            LLVMValueRef data, dims;
            if (!v) {
                store_tensor(be, tin, k, null, null, -1, 0);
                continue;
            }
            if (dyn_value(be, &D, v, &data, &dims)) {
                D.bad = 1;
                break;
            }
            store_tensor(be, tin, k, data, dims, v->type.rank, v->type.dtype);
        }
        for (int k = 0; k < n->nout && !D.bad; k++) {
            IrValue *v = n->out[k];
            LLVMValueRef data, dims;
            if (!v) {
                store_tensor(be, tout, k, null, null, -1, 0);
                continue;
            }
            if (dyn_value(be, &D, v, &data, &dims)) {
                D.bad = 1;
                break;
            }
            store_tensor(be, tout, k, data, dims, v->type.rank, v->type.dtype);
            if (!D.dslot[v->id])
                continue;
            if (dyn_known(&D, v)) {
                dyn_fill_dims(be, &D, v, dims);
                LLVMValueRef args[2] = {D.ctx, LLVMBuildGEP2(be->B, be->tensor_ty, tout,
                                                             (LLVMValueRef[]){ci64(be, k)}, 1, "")};
                LLVMValueRef st = LLVMBuildCall2(be->B, D.prep_ty,
                                                 get_fn(be, "rt_out_prepare", D.prep_ty), args, 2, "");
                dyn_check(be, &D, st);
            } else {
                /* the kernel calls rt_out_alloc; zero dims until then (numel 0, no data) */
                for (int j = 0; j < v->type.rank; j++)
                    LLVMBuildStore(be->B, ci64(be, 0), i64_at(be, dims, j));
                const OpInfo *oi = op_info(n->op);
                if (!oi || !(oi->flags & OPF_DYN_SHAPE)) {
                    char buf[128];
                    ir_type_to_string(&v->type, buf, sizeof buf);
                    ir_error(be->d, n, "unsupported: needs static shape of '%s' (%s: its dims are "
                             "not known before the node runs and %s does not compute its output "
                             "shape)", v->name, buf, n->op_type);
                    D.bad = 1;
                }
            }
        }
        if (D.bad)
            break;
        LLVMValueRef params = null;
        if (n->params && n->params_size > 0)
            params = const_global(be, LLVMConstStringInContext2(be->C, n->params, n->params_size, 1),
                                  "p", 16);
        LLVMValueRef kf = get_fn(be, n->kernel, be->kfn_ty);
        LLVMValueRef args[6] = {D.ctx, params, tin, ci32(be, n->nin), tout, ci32(be, n->nout)};
        dyn_check(be, &D, LLVMBuildCall2(be->B, be->kfn_ty, kf, args, 6, ""));
        /* Results: data pointers of dynamic outputs; symbols they define. */
        for (int k = 0; k < n->nout; k++) {
            IrValue *v = n->out[k];
            if (!v || !D.dslot[v->id])
                continue;
            LLVMBuildStore(be->B, LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, tout, k, 0), ""),
                           D.dslot[v->id]);
            for (int j = 0; j < v->type.rank; j++) {
                const IrDim *dm = &v->type.dims[j];
                int si = dm->value < 0 && dm->sym ? dyn_sym_index(&D, dm->sym) : -1;
                if (si < 0 || D.sym_bound[si])
                    continue;
                dyn_bind(be, &D, si, LLVMBuildLoad2(be->B, be->i64, i64_at(be, D.ddims[v->id], j), ""));
            }
        }
    }

    /* Outputs: static ones are in the caller's buffer (copied when not written in place);
     * dynamic ones report their data pointer and dims. */
    for (int i = 0; i < g->noutputs && !D.bad; i++) {
        IrValue *v = g->outputs[i];
        int written = v->producer && v->producer->kernel && be->out_idx[v->id] == i &&
                      be->in_idx[v->id] < 0 && !v->init;
        LLVMValueRef data, dims;
        if (ir_type_is_static(&v->type)) {
            if (written)
                continue;
            int64_t nb = 0;
            if (ir_type_nbytes(&v->type, &nb) != 0 || dyn_value(be, &D, v, &data, &dims)) {
                ir_error(be->d, NULL, "output '%s': size unknown", v->name);
                D.bad = 1;
                break;
            }
            LLVMValueRef dst = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D.outs, i, 0), "");
            if (nb > 0)
                LLVMBuildMemCpy(be->B, dst, 1, data, 1, ci64(be, nb));
            continue;
        }
        if (dyn_value(be, &D, v, &data, &dims)) {
            D.bad = 1;
            break;
        }
        LLVMBuildStore(be->B, data, tensor_field(be, D.outs, i, 0));
        if (written)
            continue; /* dims storage is outputs[i].dims already */
        LLVMValueRef odims = LLVMBuildLoad2(be->B, be->ptr, tensor_field(be, D.outs, i, 1), "");
        for (int k = 0; k < v->type.rank; k++)
            LLVMBuildStore(be->B, LLVMBuildLoad2(be->B, be->i64, i64_at(be, dims, k), ""),
                           i64_at(be, odims, k));
    }
    LLVMBuildRet(be->B, ci32(be, 0));
    LLVMPositionBuilderAtEnd(be->B, D.fail);
    if (D.nphi > 0) {
        LLVMValueRef phi = LLVMBuildPhi(be->B, be->i32, "status");
        LLVMAddIncoming(phi, D.phi_v, D.phi_b, (unsigned)D.nphi);
        LLVMBuildRet(be->B, phi);
    } else {
        LLVMBuildUnreachable(be->B);
    }
    int bad = D.bad;
    if (bad && be->d && be->d->nerrors == 0)
        ir_error(be->d, NULL, "out of memory in code generation");
    free(D.phi_v);
    free(D.phi_b);
    free(D.sym);
    free(D.sym_slot);
    free(D.sym_name);
    free(D.sym_bound);
    free(D.dslot);
    free(D.ddims);
    return bad ? NULL : D.fn;
}

/* ------------------------------------------------------------------ info tables and API */

static LLVMValueRef tensor_info(Be *be, LLVMTypeRef ti_ty, const IrValue *v) {
    int rank = v->type.rank;
    LLVMValueRef dims = LLVMConstNull(be->ptr), names = LLVMConstNull(be->ptr);
    if (rank > 0) {
        int64_t dv[IR_MAX_RANK];
        LLVMValueRef nv[IR_MAX_RANK];
        for (int k = 0; k < rank; k++) {
            dv[k] = v->type.dims[k].value >= 0 ? v->type.dims[k].value : -1;
            nv[k] = v->type.dims[k].value >= 0 ? LLVMConstNull(be->ptr) : cstr(be, v->type.dims[k].sym);
        }
        dims = i64_array(be, dv, rank);
        names = const_global(be, LLVMConstArray2(be->ptr, nv, (uint64_t)rank), "dn", 8);
    }
    LLVMValueRef f[5] = {cstr(be, v->name), ci32(be, v->type.dtype), ci32(be, rank), dims, names};
    return LLVMConstNamedStruct(ti_ty, f, 5);
}

static int emit_desc(Be *be, LLVMValueRef graph_fn, int64_t workspace_bytes) {
    IrGraph *g = be->g;
    LLVMTypeRef ti_ty = LLVMStructCreateNamed(be->C, "OnnxcTensorInfo");
    LLVMStructSetBody(ti_ty, (LLVMTypeRef[]){be->ptr, be->i32, be->i32, be->ptr, be->ptr}, 5, 0);
    LLVMTypeRef mi_ty = LLVMStructCreateNamed(be->C, "OnnxcModelInfo");
    LLVMStructSetBody(mi_ty, (LLVMTypeRef[]){be->i32, be->ptr, be->i32, be->i32, be->ptr, be->ptr,
                                            be->i64, be->i64, be->ptr}, 9, 0);
    LLVMTypeRef desc_ty = LLVMStructCreateNamed(be->C, "RtModelDesc");
    LLVMStructSetBody(desc_ty, (LLVMTypeRef[]){be->ptr, be->i64, be->ptr, be->i64}, 4, 0);

    int nin = 0;
    LLVMValueRef *ti = ir_malloc(sizeof *ti * (size_t)(g->ninputs + g->noutputs + 1));
    if (!ti)
        return -1;
    for (int i = 0; i < g->ninputs; i++)
        if (be_is_real_input(g->inputs[i]))
            ti[nin++] = tensor_info(be, ti_ty, g->inputs[i]);
    for (int i = 0; i < g->noutputs; i++)
        ti[nin + i] = tensor_info(be, ti_ty, g->outputs[i]);
    LLVMValueRef ins = nin ? const_global(be, LLVMConstArray2(ti_ty, ti, (uint64_t)nin), "ti", 8)
                           : LLVMConstNull(be->ptr);
    LLVMValueRef outs = g->noutputs ? const_global(be, LLVMConstArray2(ti_ty, ti + nin,
                                                                        (uint64_t)g->noutputs), "to", 8)
                                    : LLVMConstNull(be->ptr);
    free(ti);
    LLVMValueRef mf[9] = {ci32(be, ONNXC_ABI_VERSION), cstr(be, be->name), ci32(be, nin),
                          ci32(be, g->noutputs), ins, outs, ci64(be, workspace_bytes),
                          ci64(be, (long long)be->weight_bytes), cstr(be, "onnxc " ONNXC_VERSION)};
    LLVMValueRef info = const_global(be, LLVMConstNamedStruct(mi_ty, mf, 9), "info", 8);
    LLVMValueRef df[4] = {info, ci64(be, workspace_bytes), graph_fn, ci64(be, be->dynamic)};
    LLVMValueRef desc = LLVMAddGlobal(be->M, desc_ty, be->desc_sym);
    LLVMSetInitializer(desc, LLVMConstNamedStruct(desc_ty, df, 4));
    LLVMSetGlobalConstant(desc, 1);
    LLVMSetVisibility(desc, LLVMHiddenVisibility);
    LLVMSetAlignment(desc, 8);
    return 0;
}

/* A hidden declaration of an rt_api_* function. */
static LLVMValueRef api_decl(Be *be, const char *name, LLVMTypeRef ty) {
    LLVMValueRef f = get_fn(be, name, ty);
    LLVMSetVisibility(f, LLVMHiddenVisibility);
    return f;
}

static LLVMValueRef typed_fn(Be *be, const char *suffix, LLVMTypeRef ty) {
    char nm[300];
    snprintf(nm, sizeof nm, "%s_%s", be->name, suffix);
    LLVMValueRef f = LLVMAddFunction(be->M, nm, ty);
    LLVMPositionBuilderAtEnd(be->B, LLVMAppendBasicBlockInContext(be->C, f, "entry"));
    return f;
}

static void emit_typed_api(Be *be) {
    IrGraph *g = be->g;
    LLVMTypeRef p1i32 = LLVMFunctionType(be->i32, (LLVMTypeRef[]){be->ptr}, 1, 0);
    LLVMTypeRef p1void = LLVMFunctionType(be->vd, (LLVMTypeRef[]){be->ptr}, 1, 0);
    LLVMTypeRef p1ptr = LLVMFunctionType(be->ptr, (LLVMTypeRef[]){be->ptr}, 1, 0);
    LLVMTypeRef run3 = LLVMFunctionType(be->i32, (LLVMTypeRef[]){be->ptr, be->ptr, be->ptr}, 3, 0);

    LLVMValueRef f = typed_fn(be, "create", p1i32);
    LLVMValueRef a = LLVMGetParam(f, 0);
    LLVMBuildRet(be->B, LLVMBuildCall2(be->B, p1i32, api_decl(be, "rt_api_create", p1i32), &a, 1, ""));
    f = typed_fn(be, "destroy", p1void);
    a = LLVMGetParam(f, 0);
    LLVMBuildCall2(be->B, p1void, api_decl(be, "rt_api_destroy", p1void), &a, 1, "");
    LLVMBuildRetVoid(be->B);
    f = typed_fn(be, "error", p1ptr);
    a = LLVMGetParam(f, 0);
    LLVMBuildRet(be->B, LLVMBuildCall2(be->B, p1ptr, api_decl(be, "rt_api_error", p1ptr), &a, 1, ""));

    int nin = 0;
    for (int i = 0; i < g->ninputs; i++)
        nin += be_is_real_input(g->inputs[i]);
    int nparams = 1 + nin + g->noutputs;
    LLVMTypeRef *pt = ir_malloc(sizeof *pt * (size_t)nparams);
    if (!pt) {
        be->oom = 1;
        return;
    }
    for (int i = 0; i < nparams; i++)
        pt[i] = be->ptr;
    LLVMTypeRef run_ty = LLVMFunctionType(be->i32, pt, (unsigned)nparams, 0);
    free(pt);
    f = typed_fn(be, "run", run_ty);
    LLVMValueRef inarr = LLVMConstNull(be->ptr), outarr = LLVMConstNull(be->ptr);
    if (nin > 0)
        inarr = LLVMBuildArrayAlloca(be->B, be->ptr, ci32(be, nin), "in");
    if (g->noutputs > 0)
        outarr = LLVMBuildArrayAlloca(be->B, be->ptr, ci32(be, g->noutputs), "out");
    for (int i = 0; i < nin; i++)
        LLVMBuildStore(be->B, LLVMGetParam(f, (unsigned)(1 + i)),
                       LLVMBuildGEP2(be->B, be->ptr, inarr, (LLVMValueRef[]){ci64(be, i)}, 1, ""));
    for (int i = 0; i < g->noutputs; i++)
        LLVMBuildStore(be->B, LLVMGetParam(f, (unsigned)(1 + nin + i)),
                       LLVMBuildGEP2(be->B, be->ptr, outarr, (LLVMValueRef[]){ci64(be, i)}, 1, ""));
    LLVMValueRef args[3] = {LLVMGetParam(f, 0), inarr, outarr};
    /* dynamic shapes: the arguments are OnnxcTensor descriptors (docs/DYNAMIC_SHAPES.md) */
    const char *runner = be->dynamic ? "rt_api_run_desc" : "rt_api_run";
    LLVMBuildRet(be->B, LLVMBuildCall2(be->B, run3, api_decl(be, runner, run3), args, 3, ""));
}

/* ------------------------------------------------------------------ bitcode and optimisation */

static int is_entry_point(Be *be, const char *nm) {
    size_t n = strlen(be->name);
    if (strcmp(nm, be->graph_sym) == 0 || strcmp(nm, be->desc_sym) == 0)
        return 1;
    if (strncmp(nm, be->name, n) == 0 && nm[n] == '_') {
        const char *s = nm + n + 1;
        return !strcmp(s, "create") || !strcmp(s, "destroy") || !strcmp(s, "error") ||
               !strcmp(s, "run");
    }
    return 0;
}

static void internalize(Be *be, LLVMValueRef gv) {
    if (LLVMIsDeclaration(gv))
        return;
    size_t len;
    const char *nm = LLVMGetValueName2(gv, &len);
    if (is_entry_point(be, nm))
        return;
    switch (LLVMGetLinkage(gv)) {
    case LLVMExternalLinkage: case LLVMWeakAnyLinkage: case LLVMWeakODRLinkage:
    case LLVMLinkOnceAnyLinkage: case LLVMLinkOnceODRLinkage: case LLVMCommonLinkage:
        LLVMSetLinkage(gv, LLVMInternalLinkage);
        LLVMSetVisibility(gv, LLVMDefaultVisibility);
        break;
    default:
        break;
    }
}

/* 1 if some lowered node calls kernel `nm`. */
static int kernel_used(Be *be, const char *nm) {
    for (IrNode *n = be->g->first; n; n = n->next)
        if (n->kernel && strcmp(n->kernel, nm) == 0)
            return 1;
    return 0;
}

/* Links the kernel bitcode into the model module. The bitcode is read lazily (function bodies
 * are materialised on demand), and before linking every external definition of it that the
 * model does not call is made internal: the IR linker copies local symbols only when something
 * references them, so only the used kernels and what they call get parsed and linked. */
static int link_bitcode(Be *be) {
    char path[4096];
    snprintf(path, sizeof path, "%s/onnxc_rt.bc", be_runtime_dir());
    const void *bytes;
    size_t len;
    if (bitcode_bytes(path, &bytes, &len, be->d) != 0)
        return -1;
    LLVMMemoryBufferRef mb = LLVMCreateMemoryBufferWithMemoryRange(bytes, len, "onnxc_rt.bc", 0);
    LLVMModuleRef rt = NULL;
    if (LLVMGetBitcodeModuleInContext2(be->C, mb, &rt)) { /* owns mb on success only */
        LLVMDisposeMemoryBuffer(mb);
        ir_error(be->d, NULL, "cannot parse kernel bitcode '%s'", path);
        return -1;
    }
    LLVMSetTarget(rt, LLVMGetTarget(be->M));
    LLVMSetDataLayout(rt, LLVMGetDataLayoutStr(be->M));
    for (LLVMValueRef f = LLVMGetFirstFunction(rt); f; f = LLVMGetNextFunction(f)) {
        size_t n;
        if (!kernel_used(be, LLVMGetValueName2(f, &n)))
            internalize(be, f);
    }
    for (LLVMValueRef gv = LLVMGetFirstGlobal(rt); gv; gv = LLVMGetNextGlobal(gv))
        internalize(be, gv);
    if (LLVMLinkModules2(be->M, rt)) { /* consumes rt */
        ir_error(be->d, NULL, "cannot link kernel bitcode '%s'", path);
        return -1;
    }
    for (LLVMValueRef f = LLVMGetFirstFunction(be->M); f; f = LLVMGetNextFunction(f))
        internalize(be, f);
    for (LLVMValueRef gv = LLVMGetFirstGlobal(be->M); gv; gv = LLVMGetNextGlobal(gv))
        internalize(be, gv);
    return 0;
}

/* Kernels dispatch on the element type at run time. Out of line and called from several nodes,
 * every dtype loop of a kernel is optimised and vectorised (seconds at O2 for the binary
 * elementwise kernels); inlined at each call, where dtype, rank and dims are constants, only the
 * path the node needs survives. So the kernels the model calls (at most BE_MAX_INLINED_CALLS
 * times each) are marked alwaysinline. Measured on 3 x Add f32[64,64] at O2: 3.3 s -> 0.95 s
 * CPU, object text 62 KB -> 22 KB (docs/BACKEND.md). */
static void force_inline_kernels(Be *be) {
    unsigned kind = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
    unsigned noinl = LLVMGetEnumAttributeKindForName("noinline", 8);
    for (LLVMValueRef f = LLVMGetFirstFunction(be->M); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f))
            continue;
        size_t n;
        const char *nm = LLVMGetValueName2(f, &n);
        int calls = 0;
        for (IrNode *nd = be->g->first; nd; nd = nd->next)
            calls += nd->kernel && strcmp(nd->kernel, nm) == 0;
        if (calls == 0 || calls > BE_MAX_INLINED_CALLS)
            continue;
        int never = 0;
        for (size_t k = 0; k < sizeof be_no_force_inline / sizeof *be_no_force_inline; k++)
            never |= strcmp(nm, be_no_force_inline[k]) == 0;
        if (never)
            continue;
        LLVMRemoveEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, noinl);
        LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(be->C, kind, 0));
    }
}

/* Gives every defined function the host CPU and features (the bitcode carries clang's generic
 * x86-64 defaults, which would keep the optimiser from using AVX; ARCHITECTURE.md). */
static void set_cpu_attrs(Be *be, const char *cpu, const char *features) {
    static const char *const keys[] = {"target-cpu", "target-features", "tune-cpu"};
    for (LLVMValueRef f = LLVMGetFirstFunction(be->M); f; f = LLVMGetNextFunction(f)) {
        if (LLVMIsDeclaration(f))
            continue;
        for (int k = 0; k < 3; k++)
            LLVMRemoveStringAttributeAtIndex(f, LLVMAttributeFunctionIndex, keys[k],
                                             (unsigned)strlen(keys[k]));
        LLVMAddTargetDependentFunctionAttr(f, "target-cpu", cpu);
        LLVMAddTargetDependentFunctionAttr(f, "target-features", features);
    }
}

/* ------------------------------------------------------------------ driver */

/* Phase timing printed to stderr with o->verbose >= 2. */
static double be_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void phase(const OnnxcCompileOptions *o, const char *what, double *t) {
    if (o->verbose >= 2) {
        double n = be_now_ms();
        fprintf(stderr, "onnxc: be_emit: %-10s %8.1f ms\n", what, n - *t);
        *t = n;
    }
}

int be_emit(IrModel *m, const OnnxcCompileOptions *o, BeEmitKind kind, const char *out_path,
            const char *header_path, int64_t workspace_bytes, IrDiag *d) {
    return be_emit_named(m, o, kind, out_path, header_path, workspace_bytes, NULL, d);
}

int be_emit_named(IrModel *m, const OnnxcCompileOptions *o, BeEmitKind kind, const char *out_path,
                  const char *header_path, int64_t workspace_bytes, const BeSymbols *syms,
                  IrDiag *d) {
    if (!m || !m->graph || !out_path || !o) {
        ir_error(d, NULL, "be_emit: missing model, options or output path");
        return -1;
    }
    pthread_once(&g_target_once, init_target);
    if (!g_target_ok) {
        ir_error(d, NULL, "LLVM native target is not available");
        return -1;
    }
    char name[256];
    be_model_name(m, o, out_path, name, sizeof name);
    double t = be_now_ms();

    Be be;
    memset(&be, 0, sizeof be);
    be.g = m->graph;
    be.d = d;
    be.name = name;
    be.graph_sym = syms && syms->graph ? syms->graph : "onnxc__graph";
    be.desc_sym = syms && syms->desc ? syms->desc : "onnxc__desc";
    IrGraph *g = be.g;
    int ol = o->opt_level < 0 ? 0 : o->opt_level > 3 ? 3 : o->opt_level;
    be.inline_kernels = o->use_bitcode && ol >= 1;
    size_t nv = (size_t)g->nvalues + 1;
    be.data_g = ir_calloc(nv, sizeof *be.data_g);
    be.dims_g = ir_calloc(nv, sizeof *be.dims_g);
    be.in_idx = ir_malloc(nv * sizeof *be.in_idx);
    be.out_idx = ir_malloc(nv * sizeof *be.out_idx);
    char *triple = NULL, *cpu = NULL, *features = NULL, *err = NULL;
    char *tmp_out = NULL, *tmp_obj = NULL, *tmp_h = NULL;
    LLVMTargetMachineRef tm = NULL;
    int rc = -1;
    if (!be.data_g || !be.dims_g || !be.in_idx || !be.out_idx) {
        ir_error(d, NULL, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < nv; i++)
        be.in_idx[i] = be.out_idx[i] = -1;
    for (int i = 0, k = 0; i < g->ninputs; i++)
        if (be_is_real_input(g->inputs[i]))
            be.in_idx[g->inputs[i]->id] = k++;
    for (int i = g->noutputs - 1; i >= 0; i--)
        be.out_idx[g->outputs[i]->id] = i;
    be.dynamic = be_graph_dynamic(g);
    if (check_graph(&be) != 0)
        goto done;

    /* Target machine for the host. */
    triple = LLVMGetDefaultTargetTriple();
    cpu = LLVMGetHostCPUName();
    features = LLVMGetHostCPUFeatures();
    LLVMTargetRef target;
    if (LLVMGetTargetFromTriple(triple, &target, &err)) {
        ir_error(d, NULL, "LLVM target '%s': %s", triple, err ? err : "");
        goto done;
    }
    static const LLVMCodeGenOptLevel levels[4] = {LLVMCodeGenLevelNone, LLVMCodeGenLevelLess,
                                                  LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive};
    tm = LLVMCreateTargetMachine(target, triple, cpu, features, levels[ol], LLVMRelocPIC,
                                 LLVMCodeModelDefault);
    if (!tm) {
        ir_error(d, NULL, "cannot create an LLVM target machine for '%s'", triple);
        goto done;
    }

    be.C = LLVMContextCreate();
    be.M = LLVMModuleCreateWithNameInContext(name, be.C);
    be.B = LLVMCreateBuilderInContext(be.C);
    LLVMSetTarget(be.M, triple);
    LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
    char *dl = LLVMCopyStringRepOfTargetData(td);
    LLVMSetDataLayout(be.M, dl);
    LLVMDisposeMessage(dl);
    LLVMDisposeTargetData(td);
    be.i8 = LLVMInt8TypeInContext(be.C);
    be.i32 = LLVMInt32TypeInContext(be.C);
    be.i64 = LLVMInt64TypeInContext(be.C);
    be.ptr = LLVMPointerTypeInContext(be.C, 0);
    be.vd = LLVMVoidTypeInContext(be.C);
    be.tensor_ty = LLVMStructCreateNamed(be.C, "RtTensor");
    LLVMStructSetBody(be.tensor_ty, (LLVMTypeRef[]){be.ptr, be.ptr, be.i32, be.i32}, 4, 0);
    be.kfn_ty = LLVMFunctionType(be.i32, (LLVMTypeRef[]){be.ptr, be.ptr, be.ptr, be.i32, be.ptr, be.i32},
                                 6, 0);

    LLVMValueRef gfn = emit_graph_fn(&be);
    if (!gfn)
        goto done;
    if (emit_desc(&be, gfn, workspace_bytes) != 0) {
        ir_error(d, NULL, "out of memory");
        goto done;
    }
    emit_typed_api(&be);
    if (be.oom) {
        ir_error(d, NULL, "out of memory in code generation");
        goto done;
    }
    phase(o, "codegen", &t);
    if (o->use_bitcode && link_bitcode(&be) != 0)
        goto done;
    phase(o, "bitcode", &t);
    if (be.inline_kernels)
        force_inline_kernels(&be);
    set_cpu_attrs(&be, cpu, features);
    if (LLVMVerifyModule(be.M, LLVMReturnStatusAction, &err)) {
        ir_error(d, NULL, "internal error: generated LLVM module is invalid: %s", err ? err : "");
        goto done;
    }
    LLVMDisposeMessage(err);
    err = NULL;
    {
        char pipeline[64];
        snprintf(pipeline, sizeof pipeline, "%sdefault<O%d>", o->use_bitcode ? "globaldce," : "", ol);
        LLVMPassBuilderOptionsRef pbo = LLVMCreatePassBuilderOptions();
        LLVMErrorRef e = LLVMRunPasses(be.M, pipeline, tm, pbo);
        LLVMDisposePassBuilderOptions(pbo);
        phase(o, "optimise", &t);
        if (e) {
            char *msg = LLVMGetErrorMessage(e);
            ir_error(d, NULL, "LLVM optimisation failed: %s", msg);
            LLVMDisposeErrorMessage(msg);
            goto done;
        }
    }

    /* Emit. */
    if (kind == BE_EMIT_LLVM || kind == BE_EMIT_ASM || kind == BE_EMIT_OBJ) {
        const char *sfx = kind == BE_EMIT_LLVM ? ".ll" : kind == BE_EMIT_ASM ? ".s" : ".o";
        tmp_out = be_tmp_create(out_path, sfx, d);
        if (!tmp_out)
            goto done;
        LLVMBool bad = kind == BE_EMIT_LLVM
                           ? LLVMPrintModuleToFile(be.M, tmp_out, &err)
                           : LLVMTargetMachineEmitToFile(tm, be.M, tmp_out,
                                                         kind == BE_EMIT_ASM ? LLVMAssemblyFile
                                                                             : LLVMObjectFile,
                                                         &err);
        phase(o, "emit", &t);
        if (bad) {
            ir_error(d, NULL, "cannot write '%s': %s", out_path, err ? err : "");
            goto done;
        }
        if (be_tmp_commit(tmp_out, out_path, d) != 0)
            goto done;
        free(tmp_out);
        tmp_out = NULL;
        rc = 0;
        goto done;
    }
    if (kind != BE_EMIT_SO) {
        ir_error(d, NULL, "be_emit: unknown output kind %d", (int)kind);
        goto done;
    }
    {
        /* Header first (cheap), then object, then link; rename both only when all worked. */
        char hbuf[4096];
        if (!header_path) {
            const char *slash = strrchr(out_path, '/');
            const char *dot = strrchr(out_path, '.');
            size_t n = (dot && (!slash || dot > slash)) ? (size_t)(dot - out_path) : strlen(out_path);
            snprintf(hbuf, sizeof hbuf, "%.*s.h", (int)n, out_path);
            header_path = hbuf;
        }
        tmp_h = be_tmp_create(header_path, ".h", d);
        if (!tmp_h)
            goto done;
        FILE *hf = fopen(tmp_h, "w");
        int herr = !hf || be_header_write(g, name, hf) != 0;
        if (hf && fclose(hf) != 0)
            herr = 1;
        if (herr) {
            ir_error(d, NULL, "cannot write header '%s': %s", header_path, strerror(errno));
            goto done;
        }
        tmp_obj = be_tmp_create(out_path, ".o", d);
        if (!tmp_obj)
            goto done;
        if (LLVMTargetMachineEmitToFile(tm, be.M, tmp_obj, LLVMObjectFile, &err)) {
            ir_error(d, NULL, "cannot write object for '%s': %s", out_path, err ? err : "");
            goto done;
        }
        phase(o, "object", &t);
        tmp_out = be_tmp_create(out_path, ".so", d);
        if (!tmp_out)
            goto done;
        if (be_link_shared(tmp_obj, tmp_out, name, d) != 0)
            goto done;
        phase(o, "link", &t);
        if (be_tmp_commit(tmp_out, out_path, d) != 0) {
            free(tmp_out);
            tmp_out = NULL;
            goto done;
        }
        free(tmp_out);
        tmp_out = NULL;
        if (be_tmp_commit(tmp_h, header_path, d) != 0) {
            free(tmp_h);
            tmp_h = NULL;
            unlink(out_path);
            goto done;
        }
        free(tmp_h);
        tmp_h = NULL;
        rc = 0;
    }

done:
    if (tmp_out) {
        unlink(tmp_out);
        free(tmp_out);
    }
    if (tmp_obj) {
        unlink(tmp_obj);
        free(tmp_obj);
    }
    if (tmp_h) {
        unlink(tmp_h);
        free(tmp_h);
    }
    if (err)
        LLVMDisposeMessage(err);
    if (be.B)
        LLVMDisposeBuilder(be.B);
    if (be.M)
        LLVMDisposeModule(be.M);
    if (be.C)
        LLVMContextDispose(be.C);
    if (tm)
        LLVMDisposeTargetMachine(tm);
    if (triple)
        LLVMDisposeMessage(triple);
    if (cpu)
        LLVMDisposeMessage(cpu);
    if (features)
        LLVMDisposeMessage(features);
    free(be.data_g);
    free(be.dims_g);
    free(be.in_idx);
    free(be.out_idx);
    return rc;
}
