/* be_train_glue.c - the training library's descriptor and entry points as an LLVM object
 * (backend/be_train.c, docs/TRAINING.md section 5).
 *
 * One LLVM module holding:
 *   - the initial weights (private 64-byte aligned constants), the table of their pointers, the
 *     model bytes without the trained initializers (for NAME_save) and the loss name;
 *   - `onnxc__train` (hidden): the RtTrainDesc of runtime/api/rt_train_model.h pointing at them
 *     and at the two graphs' descriptors (hidden symbols of the other two objects), with the
 *     mode (loss + optimizer, or TrainingInfoProto: passes/pass_trinfo.c);
 *   - the exported entry points: onnxc_train_desc and onnxc_train_* (generic, used through
 *     dlopen by `onnxc train`) and NAME_create ... NAME_save, NAME_reset, NAME_train_step,
 *     NAME_infer (typed), each a thin function forwarding to runtime/api/rt_train_api.c.
 * The LLVM struct types mirror the C structs (static-asserted below); nothing is compiled with cc.
 */
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Core.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>

#include "backend/be_internal.h"
#include "backend/be_train.h"
#include "runtime/api/rt_train_model.h"

/* The LLVM types below mirror these C structs; keep them in step. */
_Static_assert(sizeof(RtOptimConfig) == 48, "RtOptimConfig changed: update be_train_glue.c");
_Static_assert(offsetof(RtTrainDesc, w_init) == 32 && offsetof(RtTrainDesc, opt) == 40 &&
                   offsetof(RtTrainDesc, model) == 88 && offsetof(RtTrainDesc, loss) == 104,
               "RtTrainDesc layout changed: update be_train_glue.c");
_Static_assert(offsetof(RtTrainDesc, mode) == 112 && sizeof(RtTrainDesc) == 120,
               "RtTrainDesc changed: update be_train_glue.c");

typedef struct Glue {
    LLVMContextRef C;
    LLVMModuleRef M;
    LLVMBuilderRef B;
    LLVMTypeRef i8, i32, i64, f64, ptr, vd;
    LLVMValueRef desc; /* onnxc__train */
    int nconst;
} Glue;

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_ok;

static void init_target(void) {
    g_ok = LLVMInitializeNativeTarget() == 0 && LLVMInitializeNativeAsmPrinter() == 0;
}

static LLVMValueRef ci32(Glue *G, long long v) {
    return LLVMConstInt(G->i32, (unsigned long long)v, 1);
}
static LLVMValueRef ci64(Glue *G, long long v) {
    return LLVMConstInt(G->i64, (unsigned long long)v, 1);
}

/* Private constant global holding init. */
static LLVMValueRef const_global(Glue *G, LLVMValueRef init, const char *prefix, unsigned align) {
    char nm[64];
    snprintf(nm, sizeof nm, "onnxc.train.%s.%d", prefix, G->nconst++);
    LLVMValueRef gv = LLVMAddGlobal(G->M, LLVMTypeOf(init), nm);
    LLVMSetInitializer(gv, init);
    LLVMSetGlobalConstant(gv, 1);
    LLVMSetLinkage(gv, LLVMPrivateLinkage);
    if (align)
        LLVMSetAlignment(gv, align);
    return gv;
}

/* Raw bytes as a constant global (an i8 array; a NUL is appended when nul). */
static LLVMValueRef bytes_global(Glue *G, const void *p, size_t n, int nul, const char *prefix,
                                 unsigned align) {
    LLVMValueRef init = LLVMConstStringInContext2(G->C, p ? p : "", p ? n : 0, !nul);
    return const_global(G, init, prefix, align);
}

/* A declaration of a runtime function (runtime/api/rt_train_api.c). */
static LLVMValueRef rt_fn(Glue *G, const char *name, LLVMTypeRef ty) {
    LLVMValueRef f = LLVMGetNamedFunction(G->M, name);
    return f ? f : LLVMAddFunction(G->M, name, ty);
}

/* Defines exported `sym` of type fty forwarding its parameters to `callee`; with_desc passes
 * &onnxc__train first. */
static void forward(Glue *G, const char *sym, LLVMTypeRef fty, const char *callee, int with_desc) {
    unsigned np = LLVMCountParamTypes(fty);
    LLVMTypeRef pt[8], ct[9];
    LLVMValueRef args[9];
    LLVMGetParamTypes(fty, pt);
    unsigned k = 0;
    if (with_desc)
        ct[k++] = G->ptr;
    for (unsigned i = 0; i < np; i++)
        ct[k++] = pt[i];
    LLVMTypeRef ret = LLVMGetReturnType(fty);
    LLVMTypeRef cty = LLVMFunctionType(ret, ct, k, 0);
    LLVMValueRef f = LLVMAddFunction(G->M, sym, fty);
    LLVMPositionBuilderAtEnd(G->B, LLVMAppendBasicBlockInContext(G->C, f, "entry"));
    k = 0;
    if (with_desc)
        args[k++] = G->desc;
    for (unsigned i = 0; i < np; i++)
        args[k++] = LLVMGetParam(f, i);
    LLVMValueRef r = LLVMBuildCall2(G->B, cty, rt_fn(G, callee, cty), args, k, "");
    if (LLVMGetTypeKind(ret) == LLVMVoidTypeKind)
        LLVMBuildRetVoid(G->B);
    else
        LLVMBuildRet(G->B, r);
}

/* Defines sym(c, p_0 .. p_{n-1} [, last]) that collects the n pointers into arrays and calls
 * callee(c, in[], last) / callee(c, in[], out[]): NAME_train_step (n inputs, then loss) and
 * NAME_infer (nin inputs, then nout outputs as a second array). */
static int typed_call(Glue *G, const char *sym, int nin, int nout, int last_plain,
                      const char *callee) {
    int np = 1 + nin + nout + (last_plain ? 1 : 0);
    LLVMTypeRef *pt = ir_malloc(sizeof *pt * (size_t)np);
    if (!pt)
        return -1;
    for (int i = 0; i < np; i++)
        pt[i] = G->ptr;
    LLVMTypeRef fty = LLVMFunctionType(G->i32, pt, (unsigned)np, 0);
    free(pt);
    LLVMValueRef f = LLVMAddFunction(G->M, sym, fty);
    LLVMPositionBuilderAtEnd(G->B, LLVMAppendBasicBlockInContext(G->C, f, "entry"));
    LLVMValueRef arr[2] = {LLVMConstNull(G->ptr), LLVMConstNull(G->ptr)};
    int cnt[2] = {nin, nout};
    for (int a = 0, p = 1; a < 2; a++) {
        if (cnt[a] == 0)
            continue;
        /* one spare NULL slot, like the C arrays the glue used to build */
        arr[a] = LLVMBuildArrayAlloca(G->B, G->ptr, ci32(G, cnt[a] + 1), "");
        for (int i = 0; i < cnt[a]; i++, p++)
            LLVMBuildStore(G->B, LLVMGetParam(f, (unsigned)p),
                           LLVMBuildGEP2(G->B, G->ptr, arr[a], (LLVMValueRef[]){ci64(G, i)}, 1, ""));
        LLVMBuildStore(G->B, LLVMConstNull(G->ptr),
                       LLVMBuildGEP2(G->B, G->ptr, arr[a], (LLVMValueRef[]){ci64(G, cnt[a])}, 1, ""));
    }
    LLVMValueRef third = last_plain ? LLVMGetParam(f, (unsigned)(np - 1)) : arr[1];
    LLVMTypeRef cty = LLVMFunctionType(G->i32, (LLVMTypeRef[]){G->ptr, G->ptr, G->ptr}, 3, 0);
    LLVMValueRef args[3] = {LLVMGetParam(f, 0), arr[0], third};
    LLVMBuildRet(G->B, LLVMBuildCall2(G->B, cty, rt_fn(G, callee, cty), args, 3, ""));
    return 0;
}

/* The RtTrainDesc constant `onnxc__train` and what it points at. */
static int emit_desc(Glue *G, const BeTrainGlue *t) {
    LLVMValueRef *wp = ir_malloc(sizeof *wp * (size_t)(t->nw + 1));
    if (!wp)
        return -1;
    for (int i = 0; i < t->nw; i++)
        wp[i] = bytes_global(G, t->winit[i]->data, t->winit[i]->nbytes, 0, "w", 64);
    wp[t->nw] = LLVMConstNull(G->ptr);
    LLVMValueRef wtab = const_global(G, LLVMConstArray2(G->ptr, wp, (uint64_t)t->nw + 1), "wtab", 8);
    free(wp);
    LLVMValueRef model = bytes_global(G, t->model, t->model_len, 0, "model", 16);
    LLVMValueRef loss = bytes_global(G, t->loss, strlen(t->loss), 1, "loss", 1);
    LLVMTypeRef md_ty = LLVMStructCreateNamed(G->C, "RtModelDesc");
    LLVMStructSetBody(md_ty, (LLVMTypeRef[]){G->ptr, G->i64, G->ptr, G->i64}, 4, 0);
    LLVMValueRef tdesc = LLVMAddGlobal(G->M, md_ty, t->train_desc);
    LLVMValueRef idesc = LLVMAddGlobal(G->M, md_ty, t->infer_desc);
    LLVMSetVisibility(tdesc, LLVMHiddenVisibility);
    LLVMSetVisibility(idesc, LLVMHiddenVisibility);
    LLVMSetGlobalConstant(tdesc, 1);
    LLVMSetGlobalConstant(idesc, 1);

    LLVMTypeRef oc_ty = LLVMStructCreateNamed(G->C, "RtOptimConfig");
    LLVMStructSetBody(oc_ty, (LLVMTypeRef[]){G->i32, G->i32, G->f64, G->f64, G->f64, G->f64, G->f64},
                      7, 0);
    const RtOptimConfig *o = &t->opt;
    LLVMValueRef of[7] = {ci32(G, o->kind), ci32(G, 0), LLVMConstReal(G->f64, o->lr),
                          LLVMConstReal(G->f64, o->beta1), LLVMConstReal(G->f64, o->beta2),
                          LLVMConstReal(G->f64, o->eps), LLVMConstReal(G->f64, o->weight_decay)};
    LLVMTypeRef td_ty = LLVMStructCreateNamed(G->C, "RtTrainDesc");
    LLVMTypeRef ft[13] = {G->ptr, G->ptr, G->i32, G->i32, G->i32, G->i32, G->ptr,
                          oc_ty,  G->ptr, G->i64, G->ptr, G->i32, G->i32};
    LLVMStructSetBody(td_ty, ft, 13, 0);
    LLVMValueRef fv[13] = {tdesc,
                           idesc,
                           ci32(G, t->nx),
                           ci32(G, t->ny),
                           ci32(G, t->nw),
                           ci32(G, 0),
                           wtab,
                           LLVMConstNamedStruct(oc_ty, of, 7),
                           model,
                           ci64(G, (long long)t->model_len),
                           loss,
                           ci32(G, t->mode),
                           ci32(G, 0)};
    G->desc = LLVMAddGlobal(G->M, td_ty, "onnxc__train");
    LLVMSetInitializer(G->desc, LLVMConstNamedStruct(td_ty, fv, 13));
    LLVMSetGlobalConstant(G->desc, 1);
    LLVMSetVisibility(G->desc, LLVMHiddenVisibility);
    LLVMSetAlignment(G->desc, 8);
    return 0;
}

static int emit_api(Glue *G, const BeTrainGlue *t) {
    LLVMTypeRef p = G->ptr, i32 = G->i32;
    LLVMTypeRef f_p = LLVMFunctionType(i32, (LLVMTypeRef[]){p}, 1, 0);           /* create */
    LLVMTypeRef v_p = LLVMFunctionType(G->vd, (LLVMTypeRef[]){p}, 1, 0);         /* destroy */
    LLVMTypeRef s_p = LLVMFunctionType(p, (LLVMTypeRef[]){p}, 1, 0);             /* error */
    LLVMTypeRef f_ppp = LLVMFunctionType(i32, (LLVMTypeRef[]){p, p, p}, 3, 0);   /* step, infer */
    LLVMTypeRef f_pip = LLVMFunctionType(i32, (LLVMTypeRef[]){p, i32, p}, 3, 0); /* get/set weight */
    LLVMTypeRef f_pd = LLVMFunctionType(i32, (LLVMTypeRef[]){p, G->f64}, 2, 0);  /* set_lr */
    LLVMTypeRef f_pp = LLVMFunctionType(i32, (LLVMTypeRef[]){p, p}, 2, 0);       /* save */
    LLVMTypeRef p_v = LLVMFunctionType(p, NULL, 0, 0);                           /* desc */

    LLVMValueRef f = LLVMAddFunction(G->M, "onnxc_train_desc", p_v);
    LLVMPositionBuilderAtEnd(G->B, LLVMAppendBasicBlockInContext(G->C, f, "entry"));
    LLVMBuildRet(G->B, G->desc);

    static const struct {
        const char *suffix, *callee;
        int sig, desc, generic_only;
    } fw[] = {
        {"create", "rt_train_create", 0, 1, 0},         {"destroy", "rt_train_destroy", 1, 0, 0},
        {"error", "rt_train_error", 2, 0, 0},           {"step", "rt_train_step", 3, 0, 1},
        {"eval_loss", "rt_train_eval_loss", 3, 0, 1},   {"infer", "rt_train_infer", 3, 0, 1},
        {"get_weight", "rt_train_get_weight", 4, 0, 0}, {"set_weight", "rt_train_set_weight", 4, 0, 0},
        {"set_lr", "rt_train_set_lr", 5, 0, 0},         {"save", "rt_train_save", 6, 0, 0},
        {"reset", "rt_train_reset", 0, 0, 0},
    };
    LLVMTypeRef sigs[7] = {f_p, v_p, s_p, f_ppp, f_pip, f_pd, f_pp};
    char sym[400];
    for (size_t i = 0; i < sizeof fw / sizeof fw[0]; i++) {
        snprintf(sym, sizeof sym, "onnxc_train_%s", fw[i].suffix);
        forward(G, sym, sigs[fw[i].sig], fw[i].callee, fw[i].desc);
        if (fw[i].generic_only)
            continue;
        snprintf(sym, sizeof sym, "%s_%s", t->name, fw[i].suffix);
        forward(G, sym, sigs[fw[i].sig], fw[i].callee, fw[i].desc);
    }
    snprintf(sym, sizeof sym, "%s_train_step", t->name);
    if (typed_call(G, sym, t->nx + t->ny, 0, 1, "rt_train_step"))
        return -1;
    snprintf(sym, sizeof sym, "%s_infer", t->name);
    return typed_call(G, sym, t->nx, t->nout, 0, "rt_train_infer");
}

int be_train_glue_emit(const BeTrainGlue *t, const OnnxcCompileOptions *o, const char *obj_path,
                       IrDiag *d) {
    pthread_once(&g_once, init_target);
    if (!g_ok) {
        ir_error(d, NULL, "LLVM native target is not available");
        return -1;
    }
    int rc = -1;
    char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
    LLVMTargetMachineRef tm = NULL;
    LLVMTargetRef target;
    Glue G;
    memset(&G, 0, sizeof G);
    if (LLVMGetTargetFromTriple(triple, &target, &err)) {
        ir_error(d, NULL, "LLVM target '%s': %s", triple, err ? err : "");
        goto done;
    }
    tm = LLVMCreateTargetMachine(target, triple, "generic", "",
                                 o && o->opt_level > 0 ? LLVMCodeGenLevelLess : LLVMCodeGenLevelNone,
                                 LLVMRelocPIC, LLVMCodeModelDefault);
    if (!tm) {
        ir_error(d, NULL, "cannot create an LLVM target machine for '%s'", triple);
        goto done;
    }
    G.C = LLVMContextCreate();
    G.M = LLVMModuleCreateWithNameInContext("onnxc_train_glue", G.C);
    G.B = LLVMCreateBuilderInContext(G.C);
    LLVMSetTarget(G.M, triple);
    {
        LLVMTargetDataRef td = LLVMCreateTargetDataLayout(tm);
        char *dl = LLVMCopyStringRepOfTargetData(td);
        LLVMSetDataLayout(G.M, dl);
        LLVMDisposeMessage(dl);
        LLVMDisposeTargetData(td);
    }
    G.i8 = LLVMInt8TypeInContext(G.C);
    G.i32 = LLVMInt32TypeInContext(G.C);
    G.i64 = LLVMInt64TypeInContext(G.C);
    G.f64 = LLVMDoubleTypeInContext(G.C);
    G.ptr = LLVMPointerTypeInContext(G.C, 0);
    G.vd = LLVMVoidTypeInContext(G.C);
    if (emit_desc(&G, t) || emit_api(&G, t)) {
        ir_error(d, NULL, "out of memory in the training library's code generation");
        goto done;
    }
    if (LLVMVerifyModule(G.M, LLVMReturnStatusAction, &err)) {
        ir_error(d, NULL, "internal error: the training library's LLVM module is invalid: %s",
                 err ? err : "");
        goto done;
    }
    LLVMDisposeMessage(err);
    err = NULL;
    if (LLVMTargetMachineEmitToFile(tm, G.M, (char *)obj_path, LLVMObjectFile, &err)) {
        ir_error(d, NULL, "cannot write '%s': %s", obj_path, err ? err : "");
        goto done;
    }
    rc = 0;
done:
    if (err)
        LLVMDisposeMessage(err);
    if (G.B)
        LLVMDisposeBuilder(G.B);
    if (G.M)
        LLVMDisposeModule(G.M);
    if (G.C)
        LLVMContextDispose(G.C);
    if (tm)
        LLVMDisposeTargetMachine(tm);
    LLVMDisposeMessage(triple);
    return rc;
}
