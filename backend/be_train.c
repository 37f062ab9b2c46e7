/* be_train.c - the training library (`onnxc compile --train`, docs/TRAINING.md).
 *
 * From one inference model:
 *   1. the training graph (passes/pass_train.c: loss, autodiff, weights as inputs) and the
 *      inference graph (the same weights as inputs) are prepared and emitted as two objects by
 *      the ordinary backend; the training object's hidden graph function and descriptor are
 *      named `onnxc__tgraph` / `onnxc__tdesc` (be_emit_named), so both link into one library;
 *      the inference graph keeps `onnxc__graph` / `onnxc__desc` and so also serves the generic
 *      onnxc_* API;
 *   2. a third object, emitted through the LLVM-C API too (be_train_glue.c), holds the
 *      RtTrainDesc `onnxc__train`: the initial weights, the optimizer configuration, the model
 *      bytes without the trained initializers (for saving) and the loss name, and the exported
 *      entry points (NAME_create, NAME_train_step, NAME_infer, ..., onnxc_train_*), thin
 *      functions forwarding to runtime/api/rt_train_api.c;
 *   3. cc, as the linker driver only (as for inference libraries, be_link.c), links the three
 *      objects with the runtime archives into LIB.so; the header NAME.h declaring the typed API
 *      is written here. Every file is written to a temporary name (be_tmp_create) and renamed.
 * Needs nothing from the source tree and no binutils beyond what `cc -shared` runs.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/be_internal.h"
#include "backend/be_train.h"
#include "frontend/fe.h"
#include "passes/pass_train.h"
#include "passes/pass_trinfo.h"
#include "runtime/api/rt_train_model.h"

extern char **environ;

#define BT_MAX_W 256
/* NAME_reset / onnxc_train_reset come with trinfo's RtTrainDesc.mode (rt_train_reset) */
#ifdef RT_TRAIN_MODE_TRAININFO
#define BT_RESET 1
#else
#define BT_RESET 0
#endif

/* Runs argv; output captured to a temporary file and copied into the diagnostic on failure. */
static int run(char *const argv[], IrDiag *d) {
    char log[] = "/tmp/onnxc_train_XXXXXX";
    int fd = mkstemp(log);
    if (fd < 0) {
        ir_error(d, NULL, "cannot create a temporary file: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fd, 1);
    posix_spawn_file_actions_adddup2(&fa, fd, 2);
    pid_t pid;
    int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    int st = -1;
    if (rc == 0) {
        int w = 0;
        while (waitpid(pid, &w, 0) < 0 && errno == EINTR)
            ;
        st = WIFEXITED(w) ? WEXITSTATUS(w) : -1;
    }
    if (st != 0) {
        char buf[2048] = "";
        ssize_t k = pread(fd, buf, sizeof buf - 1, 0);
        buf[k > 0 ? k : 0] = '\0';
        ir_error(d, NULL, "'%s' failed (status %d)%s: %s", argv[0], st,
                 rc ? " (cannot start)" : "", buf);
    }
    close(fd);
    unlink(log);
    return st == 0 ? 0 : -1;
}

static int optim_kind(const char *s) {
    static const char *names[RT_OPT_COUNT] = {"sgd", "momentum", "nesterov", "adam", "adamw",
                                              "adagrad", "rmsprop"};
    for (int i = 0; i < RT_OPT_COUNT; i++)
        if (!strcmp(s, names[i]))
            return i;
    return -1;
}

void be_train_spec_default(BeTrainSpec *s) {
    memset(s, 0, sizeof *s);
    s->loss = "mse";
    s->optimizer = "adam";
    s->lr = 1e-3;
    s->beta1 = -1;
    s->beta2 = -1;
    s->eps = -1;
}

/* Fills an RtOptimConfig with PyTorch's defaults for what the spec leaves at -1. */
static int optim_config(const BeTrainSpec *s, RtOptimConfig *c, IrDiag *d) {
    memset(c, 0, sizeof *c);
    c->kind = optim_kind(s->optimizer);
    if (c->kind < 0) {
        ir_error(d, NULL, "unknown optimizer '%s' (sgd, momentum, nesterov, adam, adamw, adagrad, "
                 "rmsprop)", s->optimizer);
        return -1;
    }
    c->lr = s->lr;
    c->weight_decay = s->weight_decay;
    switch (c->kind) {
    case RT_OPT_MOMENTUM:
    case RT_OPT_NESTEROV:
        c->beta1 = s->beta1 >= 0 ? s->beta1 : 0.9;
        break;
    case RT_OPT_ADAM:
    case RT_OPT_ADAMW:
        c->beta1 = s->beta1 >= 0 ? s->beta1 : 0.9;
        c->beta2 = s->beta2 >= 0 ? s->beta2 : 0.999;
        c->eps = s->eps >= 0 ? s->eps : 1e-8;
        if (c->kind == RT_OPT_ADAMW && s->weight_decay == 0)
            c->weight_decay = 0.01;
        break;
    case RT_OPT_ADAGRAD:
        c->eps = s->eps >= 0 ? s->eps : 1e-10;
        break;
    case RT_OPT_RMSPROP:
        c->beta1 = s->beta1 >= 0 ? s->beta1 : 0.0;  /* momentum */
        c->beta2 = s->beta2 >= 0 ? s->beta2 : 0.99; /* alpha */
        c->eps = s->eps >= 0 ? s->eps : 1e-8;
        break;
    default:
        break;
    }
    return 0;
}

static int write_header(FILE *f, const char *name, IrGraph *tg, IrGraph *ig, int nx, int ny,
                        int nw) {
    fprintf(f, "/* %s.h - training library generated by onnxc compile --train (docs/TRAINING.md) */\n"
               "#ifndef %s_ONNXC_TRAIN_H\n#define %s_ONNXC_TRAIN_H\n#include <stdint.h>\n"
               "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
               "typedef struct OnnxcTrainer OnnxcTrainer;\n", name, name, name);
    for (int i = 0; i < nx + ny; i++)
        fprintf(f, "/* train input %d: '%s' */\n", i, tg->inputs[i]->name);
    for (int i = 0; i < nw; i++) {
        char t[128];
        ir_type_to_string(&tg->inputs[nx + ny + i]->type, t, sizeof t);
        fprintf(f, "/* weight %d: '%s' %s */\n", i, tg->inputs[nx + ny + i]->name, t);
    }
    fprintf(f,
            "int %s_create(OnnxcTrainer **c);\nvoid %s_destroy(OnnxcTrainer *c);\n"
            "const char *%s_error(const OnnxcTrainer *c);\n"
            "int %s_get_weight(OnnxcTrainer *c, int i, float *w);\n"
            "int %s_set_weight(OnnxcTrainer *c, int i, const float *w);\n"
            "int %s_set_lr(OnnxcTrainer *c, double lr);\n"
            "int %s_save(OnnxcTrainer *c, const char *path);\n",
            name, name, name, name, name, name, name);
    if (BT_RESET)
        fprintf(f, "int %s_reset(OnnxcTrainer *c); /* back to the initial weights, step 0 */\n",
                name);
    fprintf(f, "int %s_train_step(OnnxcTrainer *c", name);
    for (int i = 0; i < nx + ny; i++)
        fprintf(f, ", const %s *in%d", be_c_type(tg->inputs[i]->type.dtype), i);
    fprintf(f, ", float *loss);\nint %s_infer(OnnxcTrainer *c", name);
    for (int i = 0; i < nx; i++)
        fprintf(f, ", const %s *in%d", be_c_type(ig->inputs[i]->type.dtype), i);
    for (int i = 0; i < ig->noutputs; i++)
        fprintf(f, ", %s *out%d", be_c_type(ig->outputs[i]->type.dtype), i);
    fprintf(f, ");\n#ifdef __cplusplus\n}\n#endif\n#endif\n");
    return ferror(f) ? -1 : 0;
}

/* TrainingInfoProto (passes/pass_trinfo.c, docs/TRAINING.md): both graphs from the model's
 * training_info[k]: the training graph is ONNX's concatenation of the main graph and the
 * algorithm (the step assigns its bound outputs), the inference graph takes the same weights. */
static int trinfo_graphs(const char *path, const OnnxcCompileOptions *o, int k, IrModel **mt,
                         IrModel *mi, IrValue **w, IrTensor **winit, int *nw, int *nx, IrDiag *d) {
    ir_warning(d, NULL, "the model has TrainingInfoProto: the training step is its algorithm "
               "(training_info[%d]); --loss, --optimizer, --lr and their options are ignored", k);
    FeOptions fo = {.allow_external_data = 1, .training_algorithm = k + 1};
    ir_model_destroy(*mt);
    *mt = fe_load_model(path, &fo, d);
    if (!*mt || pass_specialize_shapes(*mt, o, d) ||
        trinfo_build(*mt, k, w, winit, nw, BT_MAX_W, nx, d) || onnxc_prepare(*mt, o, d))
        return -1;
    if (pass_specialize_shapes(mi, o, d) || trinfo_infer_graph(mi, (*mt)->graph, *nx, w, winit, *nw, d) ||
        pass_infer(mi->graph, d) || onnxc_prepare(mi, o, d))
        return -1;
    return 0;
}

int be_emit_train(const char *model_path, const OnnxcCompileOptions *o, const BeTrainSpec *s,
                  const char *so_path, const char *header_path, IrDiag *d) {
    int rc = -1;
    IrModel *mt = NULL, *mi = NULL, *mb = NULL;
    char *t_obj = NULL, *i_obj = NULL, *g_obj = NULL, *so_tmp = NULL, *h_tmp = NULL,
         *vs = NULL, *mb_tmp = NULL;
    void *mbytes = NULL;
    size_t mlen = 0;
    IrValue *w[BT_MAX_W], *wi[BT_MAX_W];
    IrTensor *winit[BT_MAX_W];
    int nw = 0;
    RtOptimConfig oc;
    char name[256], hbuf[4096];
    if (optim_config(s, &oc, d))
        return -1;
    be_model_name(NULL, o, so_path, name, sizeof name);
    if (!o->model_name) {
        const char *b = strrchr(model_path, '/');
        OnnxcCompileOptions o2 = *o;
        char nb[256];
        snprintf(nb, sizeof nb, "%s", b ? b + 1 : model_path);
        char *dot = strchr(nb, '.');
        if (dot)
            *dot = '\0';
        o2.model_name = nb;
        be_model_name(NULL, &o2, so_path, name, sizeof name);
    }
    /* 1. training graph */
    mt = fe_load_model(model_path, NULL, d);
    mi = mt ? fe_load_model(model_path, NULL, d) : NULL;
    mb = mi ? fe_load_model(model_path, NULL, d) : NULL;
    if (!mb)
        goto done;
    int nx = 0, ny = 1, tri = trinfo_algorithm_index(mt, d);
    if (tri < -1 || (tri >= 0 && trinfo_graphs(model_path, o, tri, &mt, mi, w, winit, &nw, &nx, d)))
        goto done;
    if (tri >= 0) {
        ny = 0;
        goto graphs_ready;
    }
    if (mt->ntraining_info > 0) /* initialization only: applied (pass_trinfo.c) */
        ir_warning(d, NULL, "training_info has no algorithm graph: the training step is built "
                   "with --loss/--optimizer; its initialization is applied");
    if (trinfo_apply_init(mt, d) || trinfo_apply_init(mi, d) ||
        pass_specialize_shapes(mt, o, d) || pass_infer(mt->graph, d))
        goto done;
    for (int i = 0; i < mt->graph->ninputs; i++)
        nx += !mt->graph->inputs[i]->init;
    if (train_build(mt, s->loss, s->l1, w, &nw, BT_MAX_W, d))
        goto done;
    if (onnxc_prepare(mt, o, d))
        goto done;
    /* 2. inference graph with the same weights as inputs */
    if (pass_specialize_shapes(mi, o, d) || pass_infer(mi->graph, d))
        goto done;
    for (int i = 0; i < nw; i++) {
        wi[i] = ir_graph_find_value(mi->graph, w[i]->name);
        if (!wi[i] || !wi[i]->init) {
            ir_error(d, NULL, "internal error: weight '%s' not found again", w[i]->name);
            goto done;
        }
    }
    if (train_weights_to_inputs(mi->graph, wi, nw, winit) || onnxc_prepare(mi, o, d))
        goto done;
    /* 3. the model without the trained initializers, for saving */
graphs_ready: {
        IrGraph *g = mb->graph;
        int k = 0;
        for (int i = 0; i < g->ninits; i++) {
            int is_w = 0;
            for (int j = 0; j < nw; j++)
                is_w |= !strcmp(g->inits[i]->name, w[j]->name);
            if (is_w) {
                g->inits[i]->init = NULL;
                g->inits[i]->flags &= ~(unsigned)IR_VALUE_INITIALIZER;
            } else {
                g->inits[k++] = g->inits[i];
            }
        }
        g->ninits = k;
        mb_tmp = be_tmp_create(so_path, ".onnx", d);
        if (!mb_tmp || fe_write_model(mb, mb_tmp, d) || fe_read_file(mb_tmp, 0, &mbytes, &mlen, d))
            goto done;
    }
    /* 4. objects: both graphs through the ordinary backend, the training graph's function and
     * descriptor under their own hidden names, then the descriptor object (be_train_glue.c) */
    {
        OnnxcCompileOptions ot = *o, oi = *o;
        char tn[300], in_[300];
        snprintf(tn, sizeof tn, "%s_tstep", name);
        snprintf(in_, sizeof in_, "%s_fwd", name);
        ot.model_name = tn;
        oi.model_name = in_;
        const BeSymbols tsyms = {"onnxc__tgraph", "onnxc__tdesc"};
        t_obj = be_tmp_create(so_path, ".t.o", d);
        i_obj = t_obj ? be_tmp_create(so_path, ".i.o", d) : NULL;
        g_obj = i_obj ? be_tmp_create(so_path, ".g.o", d) : NULL;
        if (!g_obj ||
            be_emit_named(mt, &ot, BE_EMIT_OBJ, t_obj, NULL, mt->workspace_bytes, &tsyms, d) ||
            be_emit(mi, &oi, BE_EMIT_OBJ, i_obj, NULL, mi->workspace_bytes, d))
            goto done;
        BeTrainGlue gl = {.name = name, .train_desc = "onnxc__tdesc", .infer_desc = "onnxc__desc",
                          .nx = nx, .ny = ny, .nw = nw, .nout = mi->graph->noutputs,
                          .winit = winit, .opt = oc, .model = mbytes, .model_len = mlen,
                          .loss = tri >= 0 ? "trinfo" : s->loss,
                          .mode = tri >= 0 ? RT_TRAIN_MODE_TRAININFO : RT_TRAIN_MODE_LOSS};
        if (be_train_glue_emit(&gl, o, g_obj, d))
            goto done;
    }
    /* 5. link (cc as the linker driver only, as for inference libraries) */
    {
        const char *rt = be_runtime_dir();
        char rtapi[4096], rtlib[4096], vsarg[4200];
        snprintf(rtapi, sizeof rtapi, "%s/libonnxc_rtapi.a", rt);
        snprintf(rtlib, sizeof rtlib, "%s/libonnxc_rt.a", rt);
        if (access(rtapi, R_OK) != 0 || access(rtlib, R_OK) != 0) {
            ir_error(d, NULL, "runtime libraries not found in '%s' (libonnxc_rtapi.a, "
                     "libonnxc_rt.a); set ONNXC_RUNTIME_DIR", rt);
            goto done;
        }
        vs = be_tmp_create(so_path, ".map", d);
        FILE *f = vs ? fopen(vs, "w") : NULL;
        if (!f) {
            if (vs)
                ir_error(d, NULL, "cannot write the version script '%s': %s", vs, strerror(errno));
            goto done;
        }
        fprintf(f, "{\n  global:\n    onnxc_model_info; onnxc_context_create; onnxc_context_destroy;\n"
                   "    onnxc_run; onnxc_context_error; onnxc_status_string; onnxc_train_*;\n"
                   "    %s_create; %s_destroy; %s_error; %s_get_weight; %s_set_weight; %s_set_lr;\n"
                   "    %s_save; %s_train_step; %s_infer;%s%s%s\n  local: *;\n};\n",
                name, name, name, name, name, name, name, name, name, BT_RESET ? " " : "",
                BT_RESET ? name : "", BT_RESET ? "_reset;" : "");
        int werr = ferror(f) != 0;
        if (fclose(f) || werr) {
            ir_error(d, NULL, "cannot write the version script '%s'", vs);
            goto done;
        }
        snprintf(vsarg, sizeof vsarg, "-Wl,--version-script=%s", vs);
        so_tmp = be_tmp_create(so_path, ".so", d);
        if (!so_tmp)
            goto done;
        const char *cc = getenv("ONNXC_CC");
        if (!cc || !cc[0])
            cc = "cc";
        char *ld_argv[] = {(char *)cc, "-shared", "-o", so_tmp, t_obj, i_obj, g_obj, vsarg,
                           "-Wl,-z,noexecstack", "-Wl,--whole-archive", rtapi,
                           "-Wl,--no-whole-archive", rtlib, (char *)ONNXC_OPENBLAS_LIB, "-lm",
                           "-lpthread", NULL};
        if (run(ld_argv, d))
            goto done;
    }
    if (!header_path) {
        const char *slash = strrchr(so_path, '/');
        const char *dot = strrchr(so_path, '.');
        size_t n = (dot && (!slash || dot > slash)) ? (size_t)(dot - so_path) : strlen(so_path);
        snprintf(hbuf, sizeof hbuf, "%.*s.h", (int)n, so_path);
        header_path = hbuf;
    }
    h_tmp = be_tmp_create(header_path, ".h", d);
    if (!h_tmp)
        goto done;
    {
        FILE *f = fopen(h_tmp, "w");
        int bad = !f || write_header(f, name, mt->graph, mi->graph, nx, ny, nw);
        if (f && fclose(f))
            bad = 1;
        if (bad) {
            ir_error(d, NULL, "cannot write '%s'", header_path);
            goto done;
        }
    }
    if (be_tmp_commit(so_tmp, so_path, d))
        goto done;
    free(so_tmp);
    so_tmp = NULL;
    if (be_tmp_commit(h_tmp, header_path, d))
        goto done;
    free(h_tmp);
    h_tmp = NULL;
    if (o->verbose)
        fprintf(stderr, "onnxc: training library %s: %d weights, loss %s, optimizer %s, lr %g\n",
                so_path, nw, s->loss, s->optimizer, s->lr);
    rc = 0;
done : {
    char *tmps[] = {t_obj, i_obj, g_obj, so_tmp, h_tmp, vs, mb_tmp};
    for (size_t i = 0; i < sizeof tmps / sizeof tmps[0]; i++)
        if (tmps[i]) {
            unlink(tmps[i]);
            free(tmps[i]);
        }
}
    free(mbytes);
    ir_model_destroy(mt);
    ir_model_destroy(mi);
    ir_model_destroy(mb);
    return rc;
}
