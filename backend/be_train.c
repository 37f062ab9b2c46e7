/* be_train.c - the training library (`onnxc compile --train`, docs/TRAINING.md).
 *
 * From one inference model:
 *   1. the training graph (passes/pass_train.c: loss, autodiff, weights as inputs) and the
 *      inference graph (the same weights as inputs) are prepared and emitted as two objects by
 *      the ordinary backend (be_emit); the training object's hidden `onnxc__graph` /
 *      `onnxc__desc` are renamed `onnxc__tgraph` / `onnxc__tdesc` (objcopy) so both link into
 *      one library; the inference graph keeps them and so also serves the generic onnxc_* API;
 *   2. a C glue file holds the initial weights, the optimizer configuration, the model bytes
 *      without the trained initializers (for saving) and the exported entry points
 *      (NAME_create, NAME_train_step, NAME_infer, ..., onnxc_train_*), which forward to
 *      runtime/api/rt_train_api.c;
 *   3. cc compiles the glue and links everything with the runtime into LIB.so; a header NAME.h
 *      declares the typed API. Every file is written to a temporary name and renamed.
 * Needs the source tree's headers for the glue (ONNXC_SOURCE_DIR, overridable by the
 * environment variable of the same name) and objcopy (binutils).
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
#include "runtime/api/rt_train_model.h"

extern char **environ;

#define BT_MAX_W 256

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

static void c_floats(FILE *f, const float *v, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        fprintf(f, "%a,%s", (double)v[i], (i % 8 == 7) ? "\n" : "");
    if (n == 0)
        fprintf(f, "0");
}

/* Writes the glue C file. */
static int write_glue(FILE *f, const char *name, IrGraph *tg, int nx, int ny, int nw,
                      IrTensor **winit, const RtOptimConfig *oc, const unsigned char *model,
                      size_t model_len, const char *loss) {
    fprintf(f, "/* generated by onnxc compile --train: glue of the training library %s */\n"
               "#include \"runtime/api/rt_train_model.h\"\n"
               "_Static_assert(sizeof(RtTrainDesc) == %zu, \"onnxc headers differ\");\n"
               "extern const RtModelDesc onnxc__tdesc __attribute__((visibility(\"hidden\")));\n",
            name, sizeof(RtTrainDesc));
    for (int i = 0; i < nw; i++) {
        fprintf(f, "static const float w%d[] __attribute__((aligned(64))) = {\n", i);
        c_floats(f, winit[i]->data, winit[i]->numel);
        fprintf(f, "};\n");
    }
    fprintf(f, "static const float *const winit[] = {");
    for (int i = 0; i < nw; i++)
        fprintf(f, "w%d,", i);
    fprintf(f, "0};\nstatic const unsigned char model_bytes[] = {\n");
    for (size_t i = 0; i < model_len; i++)
        fprintf(f, "%u,%s", model[i], (i % 24 == 23) ? "\n" : "");
    fprintf(f, "0};\n");
    fprintf(f, "static const RtTrainDesc desc = {&onnxc__tdesc, &onnxc__desc, %d, %d, %d, 0, winit,\n"
               "  {%d, 0, %a, %a, %a, %a, %a}, model_bytes, %zu, \"%s\"};\n",
            nx, ny, nw, oc->kind, oc->lr, oc->beta1, oc->beta2, oc->eps, oc->weight_decay,
            model_len, loss);
    /* generic API */
    fprintf(f,
            "const RtTrainDesc *onnxc_train_desc(void) { return &desc; }\n"
            "int onnxc_train_create(OnnxcTrainer **c) { return rt_train_create(&desc, c); }\n"
            "void onnxc_train_destroy(OnnxcTrainer *c) { rt_train_destroy(c); }\n"
            "const char *onnxc_train_error(const OnnxcTrainer *c) { return rt_train_error(c); }\n"
            "int onnxc_train_step(OnnxcTrainer *c, void *const *in, float *loss) { return rt_train_step(c, in, loss); }\n"
            "int onnxc_train_eval_loss(OnnxcTrainer *c, void *const *in, float *loss) { return rt_train_eval_loss(c, in, loss); }\n"
            "int onnxc_train_infer(OnnxcTrainer *c, void *const *in, void *const *out) { return rt_train_infer(c, in, out); }\n"
            "int onnxc_train_get_weight(OnnxcTrainer *c, int i, float *w) { return rt_train_get_weight(c, i, w); }\n"
            "int onnxc_train_set_weight(OnnxcTrainer *c, int i, const float *w) { return rt_train_set_weight(c, i, w); }\n"
            "int onnxc_train_set_lr(OnnxcTrainer *c, double lr) { return rt_train_set_lr(c, lr); }\n"
            "int onnxc_train_save(OnnxcTrainer *c, const char *path) { return rt_train_save(c, path); }\n");
    /* typed API */
    fprintf(f,
            "int %s_create(OnnxcTrainer **c) { return rt_train_create(&desc, c); }\n"
            "void %s_destroy(OnnxcTrainer *c) { rt_train_destroy(c); }\n"
            "const char *%s_error(const OnnxcTrainer *c) { return rt_train_error(c); }\n"
            "int %s_get_weight(OnnxcTrainer *c, int i, float *w) { return rt_train_get_weight(c, i, w); }\n"
            "int %s_set_weight(OnnxcTrainer *c, int i, const float *w) { return rt_train_set_weight(c, i, w); }\n"
            "int %s_set_lr(OnnxcTrainer *c, double lr) { return rt_train_set_lr(c, lr); }\n"
            "int %s_save(OnnxcTrainer *c, const char *path) { return rt_train_save(c, path); }\n",
            name, name, name, name, name, name, name);
    fprintf(f, "int %s_train_step(OnnxcTrainer *c", name);
    for (int i = 0; i < nx + ny; i++)
        fprintf(f, ", const %s *in%d", be_c_type(tg->inputs[i]->type.dtype), i);
    fprintf(f, ", float *loss) {\n  void *in[] = {");
    for (int i = 0; i < nx + ny; i++)
        fprintf(f, "(void *)in%d, ", i);
    fprintf(f, "0};\n  return rt_train_step(c, in, loss);\n}\n");
    return ferror(f) ? -1 : 0;
}

/* The typed inference entry point needs the inference graph's outputs. */
static int write_glue_infer(FILE *f, const char *name, IrGraph *ig, int nx) {
    fprintf(f, "int %s_infer(OnnxcTrainer *c", name);
    for (int i = 0; i < nx; i++)
        fprintf(f, ", const %s *in%d", be_c_type(ig->inputs[i]->type.dtype), i);
    for (int i = 0; i < ig->noutputs; i++)
        fprintf(f, ", %s *out%d", be_c_type(ig->outputs[i]->type.dtype), i);
    fprintf(f, ") {\n  void *in[] = {");
    for (int i = 0; i < nx; i++)
        fprintf(f, "(void *)in%d, ", i);
    fprintf(f, "0};\n  void *out[] = {");
    for (int i = 0; i < ig->noutputs; i++)
        fprintf(f, "out%d, ", i);
    fprintf(f, "0};\n  return rt_train_infer(c, in, out);\n}\n");
    return ferror(f) ? -1 : 0;
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

/* Reports TrainingInfoProto: the frontend does not import it (Debian's onnx.proto has the field,
 * the IR has no place for it yet), so a model carrying one is trained from its inference graph
 * with the command line's loss and optimizer; the caller is told. */
static void note_training_info(const char *path, IrDiag *d) {
    void *buf = NULL;
    size_t len = 0;
    if (fe_read_file(path, 0, &buf, &len, NULL) != 0)
        return;
    /* ModelProto.training_info is field 20, wire type 2: key bytes 0xa2 0x01 at top level */
    const unsigned char *p = buf;
    size_t i = 0;
    int found = 0;
    while (i < len) {
        uint64_t key = 0, v = 0;
        int sh = 0;
        while (i < len && sh < 64) {
            key |= (uint64_t)(p[i] & 0x7f) << sh;
            sh += 7;
            if (!(p[i++] & 0x80))
                break;
        }
        int wt = (int)(key & 7);
        if ((key >> 3) == 20)
            found = 1;
        if (wt == 0) {
            while (i < len && (p[i++] & 0x80))
                ;
        } else if (wt == 2) {
            sh = 0;
            while (i < len && sh < 64) {
                v |= (uint64_t)(p[i] & 0x7f) << sh;
                sh += 7;
                if (!(p[i++] & 0x80))
                    break;
            }
            if (v > len - i)
                break;
            i += v;
        } else if (wt == 1) {
            i += 8;
        } else if (wt == 5) {
            i += 4;
        } else {
            break;
        }
    }
    free(buf);
    if (found)
        ir_warning(d, NULL, "the model has TrainingInfoProto (training_info): not supported yet; its "
                   "algorithm and initialization graphs are ignored and the training step is built "
                   "from the inference graph with --loss/--optimizer");
}

int be_emit_train(const char *model_path, const OnnxcCompileOptions *o, const BeTrainSpec *s,
                  const char *so_path, const char *header_path, IrDiag *d) {
    int rc = -1;
    IrModel *mt = NULL, *mi = NULL, *mb = NULL;
    char *t_obj = NULL, *i_obj = NULL, *glue = NULL, *g_obj = NULL, *so_tmp = NULL, *h_tmp = NULL,
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
    note_training_info(model_path, d);
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
    if (pass_specialize_shapes(mt, o, d) || pass_infer(mt->graph, d))
        goto done;
    int nx = 0;
    for (int i = 0; i < mt->graph->ninputs; i++)
        nx += !mt->graph->inputs[i]->init;
    if (train_build(mt, s->loss, s->l1, w, &nw, BT_MAX_W, d))
        goto done;
    int ny = 1;
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
    {
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
    /* 4. objects */
    {
        OnnxcCompileOptions ot = *o, oi = *o;
        char tn[300], in_[300];
        snprintf(tn, sizeof tn, "%s_tstep", name);
        snprintf(in_, sizeof in_, "%s_fwd", name);
        ot.model_name = tn;
        oi.model_name = in_;
        t_obj = be_tmp_create(so_path, ".t.o", d);
        i_obj = t_obj ? be_tmp_create(so_path, ".i.o", d) : NULL;
        if (!i_obj || be_emit(mt, &ot, BE_EMIT_OBJ, t_obj, NULL, mt->workspace_bytes, d) ||
            be_emit(mi, &oi, BE_EMIT_OBJ, i_obj, NULL, mi->workspace_bytes, d))
            goto done;
        char *oc_argv[] = {"objcopy", "--redefine-sym", "onnxc__graph=onnxc__tgraph",
                           "--redefine-sym", "onnxc__desc=onnxc__tdesc", t_obj, NULL};
        if (run(oc_argv, d))
            goto done;
    }
    /* 5. glue, header, link */
    glue = be_tmp_create(so_path, ".c", d);
    if (!glue)
        goto done;
    {
        FILE *f = fopen(glue, "w");
        int bad = !f || write_glue(f, name, mt->graph, nx, ny, nw, winit, &oc, mbytes, mlen, s->loss) ||
                  write_glue_infer(f, name, mi->graph, nx);
        if (f && fclose(f))
            bad = 1;
        if (bad) {
            ir_error(d, NULL, "cannot write '%s'", glue);
            goto done;
        }
    }
    g_obj = be_tmp_create(so_path, ".g.o", d);
    if (!g_obj)
        goto done;
    {
        const char *src = getenv("ONNXC_SOURCE_DIR");
        if (!src || !src[0])
            src = ONNXC_SOURCE_DIR;
        char inc1[4200], inc2[4200];
        snprintf(inc1, sizeof inc1, "-I%s", src);
        snprintf(inc2, sizeof inc2, "-I%s/include", src);
        const char *cc = getenv("ONNXC_CC");
        if (!cc || !cc[0])
            cc = "cc";
        char *cc_argv[] = {(char *)cc, "-std=gnu11", "-O1", "-fPIC", "-c", inc1, inc2, "-x", "c",
                           glue, "-o", g_obj, NULL};
        if (run(cc_argv, d))
            goto done;
        vs = be_tmp_create(so_path, ".map", d);
        FILE *f = vs ? fopen(vs, "w") : NULL;
        if (!f) {
            ir_error(d, NULL, "cannot write the version script");
            goto done;
        }
        fprintf(f, "{\n  global:\n    onnxc_model_info; onnxc_context_create; onnxc_context_destroy;\n"
                   "    onnxc_run; onnxc_context_error; onnxc_status_string; onnxc_train_*;\n"
                   "    %s_create; %s_destroy; %s_error; %s_get_weight; %s_set_weight; %s_set_lr;\n"
                   "    %s_save; %s_train_step; %s_infer;\n  local: *;\n};\n",
                name, name, name, name, name, name, name, name, name);
        if (fclose(f)) {
            ir_error(d, NULL, "cannot write the version script");
            goto done;
        }
        const char *rt = be_runtime_dir();
        char rtapi[4096], rtlib[4096], vsarg[4200];
        snprintf(rtapi, sizeof rtapi, "%s/libonnxc_rtapi.a", rt);
        snprintf(rtlib, sizeof rtlib, "%s/libonnxc_rt.a", rt);
        snprintf(vsarg, sizeof vsarg, "-Wl,--version-script=%s", vs);
        so_tmp = be_tmp_create(so_path, ".so", d);
        if (!so_tmp)
            goto done;
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
    char *tmps[] = {t_obj, i_obj, glue, g_obj, so_tmp, h_tmp, vs, mb_tmp};
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
