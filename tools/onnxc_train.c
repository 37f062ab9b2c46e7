/* onnxc_train.c - `onnxc compile --train` and `onnxc train` (docs/TRAINING.md).
 *
 *   onnxc compile MODEL.onnx --train [--loss=mse|ce|bce] [--optimizer=adam|...] [--lr=R]
 *                 [--weight-decay=W] [--l1=L] [-o LIB.so] [--name N] [--shape ...] [-O.] [-v]
 *   onnxc train MODEL.onnx --x X.npy|X.pb --y Y.npy|Y.pb [--loss ..] [--optimizer ..] [--lr R]
 *               [--epochs E] [--batch B] [--seed S] [--no-shuffle] [--val FRACTION]
 *               [--schedule constant|step:K:G|exp:G|cosine] [--save OUT.onnx] [--lib KEEP.so]
 *               [--loss-log FILE] [--predict OUT.npy] [--weight-decay W] [--l1 L] [-v]
 *
 * `train` compiles the training library for batch B (the first input's first dimension), loads it,
 * and runs epochs: the training part of the data (the last FRACTION is held out for validation)
 * is shuffled each epoch with a splitmix64 / Fisher-Yates permutation from the seed (the same
 * stream across epochs), cut into full batches (the remainder is dropped), and each batch is one
 * train_step. One line per epoch: mean batch loss, validation loss and metric. At the end the
 * evaluation metrics: accuracy, macro precision / recall / F1 and ROC AUC (one-vs-rest macro) for
 * classification (ce, bce), RMSE for regression (mse).
 */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend/be_train.h"
#include "frontend/fe.h"
#include "runtime/api/rt_train_model.h"

/* ------------------------------------------------------------------ data */

typedef struct Data {
    int rank;
    int64_t dims[8];
    int64_t n;     /* elements */
    float *f;      /* as float */
    int64_t *i;    /* as int64 (labels) */
} Data;

static void data_free(Data *d) {
    free(d->f);
    free(d->i);
}

static int load_npy(const char *path, Data *out) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return fprintf(stderr, "onnxc train: cannot open '%s'\n", path), -1;
    unsigned char hd[10];
    if (fread(hd, 1, 10, f) != 10 || memcmp(hd, "\x93NUMPY", 6) != 0) {
        fclose(f);
        return fprintf(stderr, "onnxc train: '%s' is not a .npy file\n", path), -1;
    }
    size_t hl = hd[8] | (hd[9] << 8);
    if (hd[6] >= 2) {
        unsigned char e[2];
        if (fread(e, 1, 2, f) != 2) {
            fclose(f);
            return -1;
        }
        hl = hd[8] | (hd[9] << 8) | ((size_t)e[0] << 16) | ((size_t)e[1] << 24);
    }
    char *h = calloc(hl + 1, 1);
    if (!h || fread(h, 1, hl, f) != hl) {
        free(h);
        fclose(f);
        return -1;
    }
    const char *ds = strstr(h, "'descr':");
    const char *fo = strstr(h, "'fortran_order':");
    const char *sh = strstr(h, "'shape':");
    char descr[16] = "";
    if (ds)
        sscanf(ds + 8, " '%15[^']'", descr);
    if (!ds || !fo || !sh || strstr(fo, "True") == fo + 17) {
        free(h);
        fclose(f);
        return fprintf(stderr, "onnxc train: '%s': unsupported .npy header\n", path), -1;
    }
    const char *p = strchr(sh, '(');
    out->rank = 0;
    out->n = 1;
    while (p && *p && *p != ')' && out->rank < 8) {
        p++;
        while (*p == ' ')
            p++;
        if (*p == ')')
            break;
        long long v = strtoll(p, (char **)&p, 10);
        out->dims[out->rank++] = v;
        out->n *= v;
        while (*p == ' ')
            p++;
    }
    free(h);
    size_t es = strstr(descr, "f8") || strstr(descr, "i8") ? 8 : strstr(descr, "f4") || strstr(descr, "i4") ? 4 : 0;
    if (!es || descr[0] == '>') {
        fclose(f);
        return fprintf(stderr, "onnxc train: '%s': dtype %s not supported (f4, f8, i4, i8)\n", path, descr), -1;
    }
    void *raw = malloc((size_t)out->n * es + 1);
    out->f = malloc((size_t)out->n * sizeof(float) + 1);
    out->i = malloc((size_t)out->n * sizeof(int64_t) + 1);
    if (!raw || !out->f || !out->i || fread(raw, es, (size_t)out->n, f) != (size_t)out->n) {
        free(raw);
        fclose(f);
        return fprintf(stderr, "onnxc train: '%s': short file\n", path), -1;
    }
    fclose(f);
    for (int64_t k = 0; k < out->n; k++) {
        double v = descr[1] == 'f' ? (es == 4 ? ((float *)raw)[k] : ((double *)raw)[k])
                                   : (double)(es == 4 ? ((int32_t *)raw)[k] : ((int64_t *)raw)[k]);
        out->f[k] = (float)v;
        out->i[k] = (int64_t)v;
    }
    free(raw);
    return 0;
}

static int load_data(const char *path, Data *out) {
    memset(out, 0, sizeof *out);
    size_t l = strlen(path);
    if (l > 4 && !strcmp(path + l - 4, ".npy"))
        return load_npy(path, out);
    IrArena *a = ir_arena_create();
    IrDiag d;
    ir_diag_init(&d, path);
    IrTensor *t = a ? fe_read_tensor_pb(a, path, &d) : NULL;
    int rc = -1;
    if (t && t->rank <= 8 && (t->dtype == IR_DT_FLOAT || t->dtype == IR_DT_DOUBLE ||
                              t->dtype == IR_DT_INT64 || t->dtype == IR_DT_INT32)) {
        out->rank = t->rank;
        out->n = t->numel;
        memcpy(out->dims, t->dims, (size_t)t->rank * sizeof(int64_t));
        out->f = malloc((size_t)t->numel * sizeof(float) + 1);
        out->i = malloc((size_t)t->numel * sizeof(int64_t) + 1);
        if (out->f && out->i) {
            for (int64_t k = 0; k < t->numel; k++) {
                double v = t->dtype == IR_DT_FLOAT ? ((float *)t->data)[k]
                           : t->dtype == IR_DT_DOUBLE ? ((double *)t->data)[k]
                           : t->dtype == IR_DT_INT64 ? (double)((int64_t *)t->data)[k]
                                                     : ((int32_t *)t->data)[k];
                out->f[k] = (float)v;
                out->i[k] = (int64_t)v;
            }
            rc = 0;
        }
    } else {
        ir_diag_print(&d, stderr);
        fprintf(stderr, "onnxc train: cannot read '%s' (TensorProto of float/double/int)\n", path);
    }
    ir_diag_free(&d);
    ir_arena_destroy(a);
    return rc;
}

/* ------------------------------------------------------------------ options */

typedef struct Opts {
    const char *model, *out, *x, *y, *save, *lib, *loss_log, *schedule, *predict;
    BeTrainSpec spec;
    OnnxcCompileOptions co;
    OnnxcShapeOverride shape;
    int epochs, batch, shuffle, verbose;
    uint64_t seed;
    double val;
} Opts;

static const char *val_of(int argc, char **argv, int *i, const char *name) {
    size_t n = strlen(name);
    if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (!strcmp(argv[*i], name) && *i + 1 < argc)
        return argv[++*i];
    return NULL;
}

/* Parses the options shared by compile --train and train; 1 if consumed, 0 if not, -1 bad. */
static int common_opt(Opts *o, int argc, char **argv, int *i) {
    const char *v;
    const char *a = argv[*i];
    if ((v = val_of(argc, argv, i, "--loss")))
        o->spec.loss = v;
    else if ((v = val_of(argc, argv, i, "--optimizer")))
        o->spec.optimizer = v;
    else if ((v = val_of(argc, argv, i, "--lr")))
        o->spec.lr = atof(v);
    else if ((v = val_of(argc, argv, i, "--weight-decay")))
        o->spec.weight_decay = atof(v);
    else if ((v = val_of(argc, argv, i, "--l1")))
        o->spec.l1 = atof(v);
    else if ((v = val_of(argc, argv, i, "--beta1")))
        o->spec.beta1 = atof(v);
    else if ((v = val_of(argc, argv, i, "--beta2")))
        o->spec.beta2 = atof(v);
    else if ((v = val_of(argc, argv, i, "--eps")))
        o->spec.eps = atof(v);
    else if ((v = val_of(argc, argv, i, "--name")))
        o->co.model_name = v;
    else if (!strcmp(a, "--no-bitcode"))
        o->co.use_bitcode = 0;
    else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3])
        o->co.opt_level = a[2] - '0';
    else if (!strcmp(a, "-v"))
        o->co.verbose = o->verbose = 1;
    else
        return 0;
    return 1;
}

static void opts_init(Opts *o) {
    memset(o, 0, sizeof *o);
    be_train_spec_default(&o->spec);
    onnxc_options_default(&o->co);
    o->epochs = 10;
    o->batch = 32;
    o->shuffle = 1;
}

int onnxc_train_compile_cmd(int argc, char **argv) {
    Opts o;
    opts_init(&o);
    for (int i = 0; i < argc; i++) {
        int r = common_opt(&o, argc, argv, &i);
        if (r)
            continue;
        if (!strcmp(argv[i], "--train"))
            continue;
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            o.out = argv[++i];
        else if (argv[i][0] != '-' && !o.model)
            o.model = argv[i];
        else {
            fprintf(stderr, "onnxc compile --train: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!o.model) {
        fprintf(stderr, "onnxc compile --train: no model given\n");
        return 2;
    }
    char outbuf[4096];
    if (!o.out) {
        const char *b = strrchr(o.model, '/');
        b = b ? b + 1 : o.model;
        const char *dot = strchr(b, '.');
        snprintf(outbuf, sizeof outbuf, "lib%.*s_train.so", (int)(dot ? dot - b : (long)strlen(b)), b);
        o.out = outbuf;
    }
    IrDiag d;
    ir_diag_init(&d, o.model);
    int rc = be_emit_train(o.model, &o.co, &o.spec, o.out, NULL, &d);
    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    return rc ? 1 : 0;
}

/* ------------------------------------------------------------------ training loop */

static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct Lib {
    void *h;
    const RtTrainDesc *(*desc)(void);
    int (*create)(OnnxcTrainer **);
    void (*destroy)(OnnxcTrainer *);
    const char *(*error)(const OnnxcTrainer *);
    int (*step)(OnnxcTrainer *, void *const *, float *);
    int (*eval)(OnnxcTrainer *, void *const *, float *);
    int (*infer)(OnnxcTrainer *, void *const *, void *const *);
    int (*set_lr)(OnnxcTrainer *, double);
    int (*save)(OnnxcTrainer *, const char *);
} Lib;

static int lib_open(Lib *l, const char *path) {
    memset(l, 0, sizeof *l);
    l->h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!l->h) {
        fprintf(stderr, "onnxc train: %s\n", dlerror());
        return -1;
    }
    *(void **)&l->desc = dlsym(l->h, "onnxc_train_desc");
    *(void **)&l->create = dlsym(l->h, "onnxc_train_create");
    *(void **)&l->destroy = dlsym(l->h, "onnxc_train_destroy");
    *(void **)&l->error = dlsym(l->h, "onnxc_train_error");
    *(void **)&l->step = dlsym(l->h, "onnxc_train_step");
    *(void **)&l->eval = dlsym(l->h, "onnxc_train_eval_loss");
    *(void **)&l->infer = dlsym(l->h, "onnxc_train_infer");
    *(void **)&l->set_lr = dlsym(l->h, "onnxc_train_set_lr");
    *(void **)&l->save = dlsym(l->h, "onnxc_train_save");
    if (!l->desc || !l->create || !l->destroy || !l->error || !l->step || !l->eval || !l->infer ||
        !l->set_lr || !l->save) {
        fprintf(stderr, "onnxc train: '%s' is not an onnxc training library\n", path);
        return -1;
    }
    return 0;
}

/* Rank-based ROC AUC of scores for the positive labels (ties averaged). */
static double roc_auc(const double *s, const int *pos, int64_t n) {
    int64_t np = 0, nn = 0;
    for (int64_t i = 0; i < n; i++)
        np += pos[i];
    nn = n - np;
    if (!np || !nn)
        return NAN;
    int64_t *idx = malloc((size_t)n * sizeof *idx);
    if (!idx)
        return NAN;
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    for (int64_t i = 1; i < n; i++) { /* insertion sort: n is a validation set */
        int64_t k = idx[i], j = i - 1;
        while (j >= 0 && s[idx[j]] > s[k]) {
            idx[j + 1] = idx[j];
            j--;
        }
        idx[j + 1] = k;
    }
    double rsum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j + 1 < n && s[idx[j + 1]] == s[idx[i]])
            j++;
        double r = (double)(i + j) / 2.0 + 1.0;
        for (int64_t k = i; k <= j; k++)
            if (pos[idx[k]])
                rsum += r;
        i = j + 1;
    }
    free(idx);
    return (rsum - (double)np * (double)(np + 1) / 2.0) / ((double)np * (double)nn);
}

int onnxc_train_cmd(int argc, char **argv) {
    Opts o;
    opts_init(&o);
    for (int i = 0; i < argc; i++) {
        const char *v;
        if (common_opt(&o, argc, argv, &i))
            continue;
        if ((v = val_of(argc, argv, &i, "--x")))
            o.x = v;
        else if ((v = val_of(argc, argv, &i, "--y")))
            o.y = v;
        else if ((v = val_of(argc, argv, &i, "--epochs")))
            o.epochs = atoi(v);
        else if ((v = val_of(argc, argv, &i, "--batch")))
            o.batch = atoi(v);
        else if ((v = val_of(argc, argv, &i, "--seed")))
            o.seed = strtoull(v, NULL, 10);
        else if ((v = val_of(argc, argv, &i, "--val")))
            o.val = atof(v);
        else if ((v = val_of(argc, argv, &i, "--save")))
            o.save = v;
        else if ((v = val_of(argc, argv, &i, "--lib")))
            o.lib = v;
        else if ((v = val_of(argc, argv, &i, "--loss-log")))
            o.loss_log = v;
        else if ((v = val_of(argc, argv, &i, "--predict")))
            o.predict = v;
        else if ((v = val_of(argc, argv, &i, "--schedule")))
            o.schedule = v;
        else if (!strcmp(argv[i], "--no-shuffle"))
            o.shuffle = 0;
        else if (argv[i][0] != '-' && !o.model)
            o.model = argv[i];
        else {
            fprintf(stderr, "onnxc train: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (!o.model || !o.x || !o.y || o.batch < 1 || o.epochs < 0 || o.val < 0 || o.val >= 1) {
        fprintf(stderr, "usage: onnxc train MODEL.onnx --x X.npy --y Y.npy [--loss mse|ce|bce] "
                        "[--optimizer NAME] [--lr R] [--epochs E] [--batch B] [--seed S] "
                        "[--no-shuffle] [--val F] [--schedule S] [--save OUT.onnx]\n");
        return 2;
    }
    Data X, Y;
    if (load_data(o.x, &X) || load_data(o.y, &Y))
        return 1;
    int64_t N = X.dims[0];
    if (X.rank < 1 || Y.rank < 1 || Y.dims[0] != N || N < 1) {
        fprintf(stderr, "onnxc train: X and Y must have the same first dimension\n");
        return 1;
    }
    int ce = !strcmp(o.spec.loss, "ce"), bce = !strcmp(o.spec.loss, "bce");
    /* compile for this batch size */
    IrDiag d;
    ir_diag_init(&d, o.model);
    IrModel *m = fe_load_model(o.model, NULL, &d);
    if (!m || m->graph->ninputs < 1) {
        ir_diag_print(&d, stderr);
        ir_diag_free(&d);
        return 1;
    }
    const IrValue *in0 = NULL;
    for (int i = 0; i < m->graph->ninputs && !in0; i++)
        if (!m->graph->inputs[i]->init)
            in0 = m->graph->inputs[i];
    if (!in0) {
        fprintf(stderr, "onnxc train: the model has no input\n");
        return 1;
    }
    static char in0_name[512];
    snprintf(in0_name, sizeof in0_name, "%s", in0->name);
    o.shape.name = in0_name;
    o.shape.rank = X.rank;
    o.shape.dims[0] = o.batch;
    for (int k = 1; k < X.rank; k++)
        o.shape.dims[k] = X.dims[k];
    o.co.nshapes = 1;
    o.co.shapes = &o.shape;
    ir_model_destroy(m);
    char libpath[4096];
    if (o.lib)
        snprintf(libpath, sizeof libpath, "%s", o.lib);
    else
        snprintf(libpath, sizeof libpath, "/tmp/onnxc_train_%d.so", (int)getpid());
    int rc = be_emit_train(o.model, &o.co, &o.spec, libpath, NULL, &d);
    ir_diag_print(&d, stderr);
    ir_diag_free(&d);
    if (rc) {
        data_free(&X);
        data_free(&Y);
        return 1;
    }
    char hpath[4200];
    snprintf(hpath, sizeof hpath, "%.*s.h", (int)(strlen(libpath) - 3), libpath);
    Lib L;
    OnnxcTrainer *tr = NULL;
    if (lib_open(&L, libpath) || L.create(&tr)) {
        fprintf(stderr, "onnxc train: cannot create the trainer\n");
        return 1;
    }
    if (!o.lib) {
        unlink(libpath);
        unlink(hpath);
    }
    const RtTrainDesc *desc = L.desc();
    const OnnxcModelInfo *ii = desc->infer->info;
    int64_t xs = X.n / N, ys = Y.n / N;
    int64_t out_per = 1;
    for (int k = 1; k < ii->outputs[0].rank; k++)
        out_per *= ii->outputs[0].dims[k];
    int64_t nval = (int64_t)(o.val * (double)N), ntr = N - nval;
    if (ntr < o.batch) {
        fprintf(stderr, "onnxc train: %lld training samples, fewer than one batch of %d\n",
                (long long)ntr, o.batch);
        return 1;
    }
    float *bx = malloc((size_t)(o.batch * xs) * sizeof(float));
    void *by = malloc((size_t)(o.batch * ys) * 8);
    float *bo = malloc((size_t)(o.batch * out_per) * sizeof(float));
    int64_t *perm = malloc((size_t)ntr * sizeof *perm);
    float *pred = malloc((size_t)(N * out_per) * sizeof(float) + 1);
    FILE *lf = o.loss_log ? fopen(o.loss_log, "w") : NULL;
    if (!bx || !by || !bo || !perm || !pred || (o.loss_log && !lf)) {
        fprintf(stderr, "onnxc train: out of memory or cannot write the loss log\n");
        return 1;
    }
    uint64_t rng = o.seed;
    for (int64_t i = 0; i < ntr; i++)
        perm[i] = i;
    /* gathers samples idx[0..batch-1] into the batch buffers */
#define GATHER(IDX)                                                                           \
    for (int b = 0; b < o.batch; b++) {                                                       \
        int64_t s = (IDX);                                                                    \
        memcpy(bx + b * xs, X.f + s * xs, (size_t)xs * sizeof(float));                       \
        if (ce)                                                                               \
            memcpy((int64_t *)by + b * ys, Y.i + s * ys, (size_t)ys * sizeof(int64_t));       \
        else                                                                                  \
            memcpy((float *)by + b * ys, Y.f + s * ys, (size_t)ys * sizeof(float));           \
    }
    /* predictions for samples [from, to) (last partial batch padded with its first sample) */
#define PREDICT(FROM, TO)                                                                     \
    for (int64_t s0 = (FROM); s0 < (TO); s0 += o.batch) {                                     \
        GATHER(s0 + b < (TO) ? s0 + b : s0);                                                  \
        void *ins[1] = {bx};                                                                  \
        void *outs[1] = {bo};                                                                 \
        if (L.infer(tr, ins, outs)) {                                                         \
            fprintf(stderr, "onnxc train: %s\n", L.error(tr));                                \
            return 1;                                                                         \
        }                                                                                     \
        for (int b = 0; b < o.batch && s0 + b < (TO); b++)                                    \
            memcpy(pred + (s0 + b) * out_per, bo + b * out_per, (size_t)out_per * sizeof(float)); \
    }
    double lr0 = o.spec.lr;
    for (int ep = 0; ep < o.epochs; ep++) {
        double lr = lr0;
        if (o.schedule) {
            int k;
            double gm;
            if (sscanf(o.schedule, "step:%d:%lf", &k, &gm) == 2 && k > 0)
                lr = lr0 * pow(gm, ep / k);
            else if (sscanf(o.schedule, "exp:%lf", &gm) == 1)
                lr = lr0 * pow(gm, ep);
            else if (!strcmp(o.schedule, "cosine"))
                lr = lr0 * 0.5 * (1.0 + cos(M_PI * ep / (o.epochs > 0 ? o.epochs : 1)));
        }
        L.set_lr(tr, lr);
        struct timespec ts0, ts1;
        clock_gettime(CLOCK_MONOTONIC, &ts0);
        if (o.shuffle)
            for (int64_t i = ntr - 1; i > 0; i--) {
                int64_t j = (int64_t)(splitmix(&rng) % (uint64_t)(i + 1)), t = perm[i];
                perm[i] = perm[j];
                perm[j] = t;
            }
        double sum = 0;
        int64_t nb = ntr / o.batch;
        for (int64_t bi = 0; bi < nb; bi++) {
            GATHER(perm[bi * o.batch + b]);
            void *ins[2] = {bx, by};
            float loss;
            if (L.step(tr, ins, &loss)) {
                fprintf(stderr, "onnxc train: train step: %s\n", L.error(tr));
                return 1;
            }
            sum += loss;
        }
        double eloss = sum / (double)nb;
        clock_gettime(CLOCK_MONOTONIC, &ts1);
        double ms = (double)(ts1.tv_sec - ts0.tv_sec) * 1e3 + (double)(ts1.tv_nsec - ts0.tv_nsec) / 1e6;
        if (lf)
            fprintf(lf, "%.9g\n", eloss);
        /* metric on the validation part (or the training part) */
        int64_t from = nval ? ntr : 0, to = nval ? N : ntr, ok = 0;
        double se = 0;
        PREDICT(from, to);
        for (int64_t s = from; s < to; s++) {
            const float *p = pred + s * out_per;
            if (ce) {
                int64_t best = 0;
                for (int64_t c = 1; c < out_per; c++)
                    if (p[c] > p[best])
                        best = c;
                ok += best == Y.i[s];
            } else if (bce) {
                ok += (p[0] > 0.5f) == (Y.f[s] > 0.5f);
            } else {
                for (int64_t c = 0; c < ys; c++)
                    se += (p[c] - Y.f[s * ys + c]) * (p[c] - Y.f[s * ys + c]);
            }
        }
        if (ce || bce)
            printf("epoch %d/%d  loss %.6f  %s accuracy %.4f  lr %g  %.2f ms\n", ep + 1, o.epochs,
                   eloss, nval ? "val" : "train", (double)ok / (double)(to - from), lr, ms);
        else
            printf("epoch %d/%d  loss %.6f  %s rmse %.6f  lr %g  %.2f ms\n", ep + 1, o.epochs, eloss,
                   nval ? "val" : "train", sqrt(se / (double)((to - from) * ys)), lr, ms);
        fflush(stdout);
    }
    /* final evaluation */
    int64_t from = nval ? ntr : 0, to = nval ? N : ntr, n = to - from;
    PREDICT(from, to);
    printf("evaluation on %s (%lld samples):\n", nval ? "the validation split" : "the training data",
           (long long)n);
    if (ce || bce) {
        int64_t C = ce ? out_per : 2;
        double *score = malloc((size_t)n * sizeof *score);
        int *pos = malloc((size_t)n * sizeof *pos);
        int64_t *tp = calloc((size_t)C, sizeof *tp), *fp = calloc((size_t)C, sizeof *fp),
                *fn = calloc((size_t)C, sizeof *fn);
        if (!score || !pos || !tp || !fp || !fn)
            return 1;
        int64_t ok = 0;
        for (int64_t s = from; s < to; s++) {
            const float *p = pred + s * out_per;
            int64_t yl = ce ? Y.i[s] : Y.f[s] > 0.5f, pl = 0;
            if (ce) {
                for (int64_t c = 1; c < C; c++)
                    if (p[c] > p[pl])
                        pl = c;
            } else
                pl = p[0] > 0.5f;
            ok += pl == yl;
            if (pl == yl)
                tp[pl]++;
            else {
                if (pl >= 0 && pl < C)
                    fp[pl]++;
                if (yl >= 0 && yl < C)
                    fn[yl]++;
            }
        }
        double P = 0, R = 0, F = 0, A = 0;
        int na = 0;
        for (int64_t c = 0; c < C; c++) {
            double pc = tp[c] + fp[c] ? (double)tp[c] / (double)(tp[c] + fp[c]) : 0;
            double rc2 = tp[c] + fn[c] ? (double)tp[c] / (double)(tp[c] + fn[c]) : 0;
            P += pc;
            R += rc2;
            F += pc + rc2 > 0 ? 2 * pc * rc2 / (pc + rc2) : 0;
            if (bce && c == 0)
                continue;
            for (int64_t s = from; s < to; s++) {
                const float *p = pred + s * out_per;
                if (ce) {
                    double mx = p[0], z = 0;
                    for (int64_t k = 1; k < C; k++)
                        mx = p[k] > mx ? p[k] : mx;
                    for (int64_t k = 0; k < C; k++)
                        z += exp(p[k] - mx);
                    score[s - from] = exp(p[c] - mx) / z;
                    pos[s - from] = Y.i[s] == c;
                } else {
                    score[s - from] = p[0];
                    pos[s - from] = Y.f[s] > 0.5f;
                }
            }
            double auc = roc_auc(score, pos, n);
            if (auc == auc) {
                A += auc;
                na++;
            }
        }
        printf("  accuracy  %.4f\n  precision %.4f (macro)\n  recall    %.4f (macro)\n"
               "  f1        %.4f (macro)\n  roc_auc   %.4f (%s)\n",
               (double)ok / (double)n, P / (double)C, R / (double)C, F / (double)C,
               na ? A / na : NAN, ce ? "one-vs-rest macro" : "binary");
        free(score);
        free(pos);
        free(tp);
        free(fp);
        free(fn);
    } else {
        double se = 0;
        for (int64_t s = from; s < to; s++)
            for (int64_t c = 0; c < ys; c++)
                se += (pred[s * out_per + c] - Y.f[s * ys + c]) * (pred[s * out_per + c] - Y.f[s * ys + c]);
        printf("  rmse      %.6f\n", sqrt(se / (double)(n * ys)));
    }
    rc = 0;
    if (o.predict) { /* the evaluation split's outputs as a float32 .npy */
        FILE *pf = fopen(o.predict, "wb");
        char hdr[128];
        int hl = snprintf(hdr, sizeof hdr, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld, %lld), }",
                          (long long)n, (long long)out_per);
        int pad = 64 - (10 + hl + 1) % 64;
        if (pf) {
            fwrite("\x93NUMPY\x01\x00", 1, 8, pf);
            unsigned short tot = (unsigned short)(hl + pad + 1);
            fputc(tot & 255, pf);
            fputc(tot >> 8, pf);
            fwrite(hdr, 1, (size_t)hl, pf);
            for (int k = 0; k < pad; k++)
                fputc(' ', pf);
            fputc('\n', pf);
            fwrite(pred + from * out_per, sizeof(float), (size_t)(n * out_per), pf);
        }
        if (!pf || fclose(pf)) {
            fprintf(stderr, "onnxc train: cannot write '%s'\n", o.predict);
            rc = 1;
        }
    }
    if (o.save) {
        if (L.save(tr, o.save)) {
            fprintf(stderr, "onnxc train: %s\n", L.error(tr));
            rc = 1;
        } else {
            printf("saved the trained model to %s\n", o.save);
        }
    }
    if (lf)
        fclose(lf);
    L.destroy(tr);
    free(bx);
    free(by);
    free(bo);
    free(perm);
    free(pred);
    data_free(&X);
    data_free(&Y);
    return rc;
}
