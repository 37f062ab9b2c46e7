/* rt_train_api.c - the generic training runtime of a generated training library
 * (docs/TRAINING.md; contract in runtime/api/rt_train_model.h).
 *
 * OnnxcTrainer = the weights (copied from the initial values), their gradients, two optimizer
 * state buffers per weight, the step count, the learning rate and one workspace per graph.
 * train_step runs the training graph (data, targets, weights -> loss, gradients) and then
 * rt_optim_step on every weight in place. Saving re-encodes the stored ModelProto (stored without
 * the trained initializers) with one `graph` field: the stored graph's bytes followed by the
 * current weights as initializers (a message's fields may come in any order, so appending
 * initializers to the graph's bytes is a valid GraphProto). The file is written to a temporary
 * name, fsync'ed and renamed.
 * Only float32 weights, except in RT_TRAIN_MODE_TRAININFO (the model's TrainingInfoProto: the
 * step's outputs are the new weights, assigned after the run, of any fixed-size type). Nothing
 * global; one trainer per thread.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/api/rt_train_model.h"

struct OnnxcTrainer {
    RtCtx rt;               /* kernel context (errmsg) */
    const RtTrainDesc *t;
    void *ws_train, *ws_infer;
    float **w, **g, **s1, **s2; /* nw each */
    int64_t *numel;         /* nw */
    int64_t *nbytes;        /* nw: bytes of each weight (numel * element size) */
    int64_t step;           /* optimizer steps done */
    double lr;
    float loss;             /* last loss */
};

/* RT_TRAIN_MODE_TRAININFO: the model's TrainingInfoProto (docs/TRAINING.md section 8). */
static int trinfo_mode(const RtTrainDesc *t) { return t->mode == RT_TRAIN_MODE_TRAININFO; }

static void *aligned(uint64_t n) {
    void *p = NULL;
    if (n == 0)
        return NULL;
    if (posix_memalign(&p, 64, (size_t)n) != 0)
        return NULL;
    memset(p, 0, (size_t)n);
    return p;
}

static int fail(OnnxcTrainer *c, int st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->rt.errmsg, sizeof c->rt.errmsg, fmt, ap);
    va_end(ap);
    c->rt.status = st;
    return st;
}

void rt_train_destroy(OnnxcTrainer *c) {
    if (!c)
        return;
    for (int i = 0; c->w && i < c->t->nw; i++) {
        free(c->w[i]);
        free(c->g[i]);
        free(c->s1[i]);
        free(c->s2[i]);
    }
    free(c->w);
    free(c->g);
    free(c->s1);
    free(c->s2);
    free(c->numel);
    free(c->nbytes);
    free(c->ws_train);
    free(c->ws_infer);
    free(c);
}

int rt_train_create(const RtTrainDesc *t, OnnxcTrainer **out) {
    if (!out)
        return ONNXC_ERR_INVALID_ARG;
    *out = NULL;
    OnnxcTrainer *c = calloc(1, sizeof *c);
    if (!c)
        return ONNXC_ERR_NOMEM;
    rt_ctx_init(&c->rt);
    c->t = t;
    c->lr = t->opt.lr;
    int nw = t->nw;
    c->w = calloc((size_t)nw + 1, sizeof *c->w);
    c->g = calloc((size_t)nw + 1, sizeof *c->g);
    c->s1 = calloc((size_t)nw + 1, sizeof *c->s1);
    c->s2 = calloc((size_t)nw + 1, sizeof *c->s2);
    c->numel = calloc((size_t)nw + 1, sizeof *c->numel);
    c->nbytes = calloc((size_t)nw + 1, sizeof *c->nbytes);
    c->ws_train = aligned(t->train->workspace_bytes);
    c->ws_infer = aligned(t->infer->workspace_bytes);
    int bad = !c->w || !c->g || !c->s1 || !c->s2 || !c->numel || !c->nbytes ||
              (t->train->workspace_bytes && !c->ws_train) || (t->infer->workspace_bytes && !c->ws_infer);
    int badtype = 0;
    for (int i = 0; !bad && i < nw; i++) {
        const OnnxcTensorInfo *ti = &t->train->info->inputs[t->nx + t->ny + i];
        int64_t n = 1;
        for (int k = 0; k < ti->rank; k++)
            n *= ti->dims[k];
        c->numel[i] = n;
        /* float32 weights, except in TrainingInfoProto mode (optimizer state, step counts) */
        size_t es = trinfo_mode(t) ? rt_dtype_size(ti->dtype) : sizeof(float);
        if (es == 0) { /* an element type without a size (strings): not trainable */
            bad = badtype = 1;
            break;
        }
        size_t b = (size_t)n * es;
        c->nbytes[i] = (int64_t)b;
        c->w[i] = aligned(b + 64);
        c->g[i] = aligned(b + 64);
        c->s1[i] = aligned(b + 64);
        c->s2[i] = aligned(b + 64);
        bad = !c->w[i] || !c->g[i] || !c->s1[i] || !c->s2[i];
        if (!bad)
            memcpy(c->w[i], t->w_init[i], b);
    }
    if (bad) {
        rt_train_destroy(c);
        return badtype ? ONNXC_ERR_INVALID_ARG : ONNXC_ERR_NOMEM;
    }
    *out = c;
    return ONNXC_OK;
}

const char *rt_train_error(const OnnxcTrainer *c) {
    return c ? c->rt.errmsg : "no trainer (NULL)";
}

/* Runs the training graph; gradients land in c->g. */
static int run_train(OnnxcTrainer *c, void *const *inputs, float *loss) {
    const RtTrainDesc *t = c->t;
    int nin = t->nx + t->ny + t->nw, nout = 1 + t->nw;
    void **in = malloc(sizeof *in * (size_t)nin), **out = malloc(sizeof *out * (size_t)nout);
    if (!in || !out) {
        free(in);
        free(out);
        return fail(c, ONNXC_ERR_NOMEM, "out of memory");
    }
    for (int i = 0; i < t->nx + t->ny; i++)
        in[i] = inputs[i];
    for (int i = 0; i < t->nw; i++) {
        in[t->nx + t->ny + i] = c->w[i];
        out[1 + i] = c->g[i];
    }
    out[0] = loss;
    c->rt.errmsg[0] = '\0';
    int st = t->train->run(&c->rt, c->ws_train, in, out);
    free(in);
    free(out);
    return st;
}

int rt_train_step(OnnxcTrainer *c, void *const *inputs, float *loss) {
    if (!c || !inputs || !loss)
        return ONNXC_ERR_INVALID_ARG;
    for (int i = 0; i < c->t->nx + c->t->ny; i++)
        if (!inputs[i])
            return fail(c, ONNXC_ERR_INVALID_ARG, "train_step: input %d is NULL", i);
    int st = run_train(c, inputs, loss);
    if (st)
        return st;
    c->step++;
    if (trinfo_mode(c->t)) {
        /* update_binding: every new value was computed from the old ones; assign them now */
        for (int i = 0; i < c->t->nw; i++)
            memcpy(c->w[i], c->g[i], (size_t)c->nbytes[i]);
        c->loss = *loss;
        return ONNXC_OK;
    }
    for (int i = 0; i < c->t->nw; i++)
        rt_optim_step(&c->t->opt, c->lr, c->step, c->w[i], c->g[i], c->s1[i], c->s2[i],
                      c->numel[i]);
    c->loss = *loss;
    return ONNXC_OK;
}

int rt_train_eval_loss(OnnxcTrainer *c, void *const *inputs, float *loss) {
    if (!c || !inputs || !loss)
        return ONNXC_ERR_INVALID_ARG;
    return run_train(c, inputs, loss);
}

int rt_train_infer(OnnxcTrainer *c, void *const *inputs, void *const *outputs) {
    if (!c || !inputs || !outputs)
        return ONNXC_ERR_INVALID_ARG;
    const RtTrainDesc *t = c->t;
    int nin = t->nx + t->nw;
    void **in = malloc(sizeof *in * (size_t)nin);
    if (!in)
        return fail(c, ONNXC_ERR_NOMEM, "out of memory");
    for (int i = 0; i < t->nx; i++)
        in[i] = inputs[i];
    for (int i = 0; i < t->nw; i++)
        in[t->nx + i] = c->w[i];
    c->rt.errmsg[0] = '\0';
    int st = t->infer->run(&c->rt, c->ws_infer, in, outputs);
    free(in);
    return st;
}

int rt_train_get_weight(OnnxcTrainer *c, int i, float *dst) {
    if (!c || !dst || i < 0 || i >= c->t->nw)
        return ONNXC_ERR_INVALID_ARG;
    memcpy(dst, c->w[i], (size_t)c->nbytes[i]);
    return ONNXC_OK;
}

int rt_train_set_weight(OnnxcTrainer *c, int i, const float *src) {
    if (!c || !src || i < 0 || i >= c->t->nw)
        return ONNXC_ERR_INVALID_ARG;
    memcpy(c->w[i], src, (size_t)c->nbytes[i]);
    return ONNXC_OK;
}

int rt_train_set_lr(OnnxcTrainer *c, double lr) {
    if (!c || !(lr >= 0))
        return ONNXC_ERR_INVALID_ARG;
    c->lr = lr;
    return ONNXC_OK;
}

int rt_train_reset(OnnxcTrainer *c) {
    if (!c)
        return ONNXC_ERR_INVALID_ARG;
    for (int i = 0; i < c->t->nw; i++) {
        memcpy(c->w[i], c->t->w_init[i], (size_t)c->nbytes[i]);
        memset(c->s1[i], 0, (size_t)c->nbytes[i]);
        memset(c->s2[i], 0, (size_t)c->nbytes[i]);
    }
    c->step = 0;
    c->lr = c->t->opt.lr;
    return ONNXC_OK;
}

int64_t rt_train_steps(const OnnxcTrainer *c) { return c ? c->step : 0; }

/* ------------------------------------------------------------------ protobuf writing */

typedef struct Buf {
    unsigned char *p;
    size_t n, cap;
    int oom;
} Buf;

static void put(Buf *b, const void *s, size_t n) {
    if (b->oom)
        return;
    if (b->n + n > b->cap) {
        size_t nc = b->cap ? b->cap : 256;
        while (nc < b->n + n)
            nc *= 2;
        unsigned char *np = realloc(b->p, nc);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void varint(Buf *b, uint64_t v) {
    unsigned char t[10];
    int k = 0;
    do {
        t[k] = (unsigned char)(v & 0x7f);
        v >>= 7;
        if (v)
            t[k] |= 0x80;
        k++;
    } while (v);
    put(b, t, (size_t)k);
}

static void field_bytes(Buf *b, int field, const void *s, size_t n) {
    varint(b, ((uint64_t)field << 3) | 2);
    varint(b, n);
    put(b, s, n);
}

/* Reads a varint at p[*i] (n bytes); 0, or -1 if truncated or longer than 10 bytes. */
static int get_varint(const unsigned char *p, size_t n, size_t *i, uint64_t *v) {
    *v = 0;
    for (int sh = 0; sh < 70; sh += 7) {
        if (*i >= n)
            return -1;
        unsigned char b = p[(*i)++];
        *v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            return 0;
    }
    return -1;
}

int rt_train_save(OnnxcTrainer *c, const char *path) {
    if (!c || !path)
        return ONNXC_ERR_INVALID_ARG;
    const RtTrainDesc *t = c->t;
    Buf g = {0};
    for (int i = 0; i < t->nw; i++) {
        const OnnxcTensorInfo *ti = &t->train->info->inputs[t->nx + t->ny + i];
        Buf tp = {0};
        for (int k = 0; k < ti->rank; k++) {
            varint(&tp, (1 << 3) | 0);
            varint(&tp, (uint64_t)ti->dims[k]);
        }
        varint(&tp, (2 << 3) | 0);
        varint(&tp, (uint64_t)ti->dtype); /* FLOAT except in TrainingInfoProto mode */
        field_bytes(&tp, 8, ti->name, strlen(ti->name));
        field_bytes(&tp, 9, c->w[i], (size_t)c->nbytes[i]);
        if (tp.oom) {
            free(tp.p);
            free(g.p);
            return fail(c, ONNXC_ERR_NOMEM, "out of memory");
        }
        field_bytes(&g, 5, tp.p, tp.n); /* GraphProto.initializer */
        free(tp.p);
    }
    /* One ModelProto.graph field: the stored graph's bytes followed by the initializers. The
     * stored model's other fields are copied as they are, the graph at its first place. */
    Buf all = {0}, sg = {0};
    const unsigned char *m = t->model;
    size_t mn = (size_t)t->model_len, i = 0, graph_at = (size_t)-1;
    int bad_model = 0;
    while (i < mn && !bad_model) {
        size_t start = i;
        uint64_t key = 0, len = 0;
        if (get_varint(m, mn, &i, &key)) {
            bad_model = 1;
            break;
        }
        int wt = (int)(key & 7);
        size_t body = i;
        if (wt == 0) {
            bad_model = get_varint(m, mn, &i, &len);
        } else if (wt == 1 || wt == 5) {
            bad_model = mn - i < (size_t)(wt == 1 ? 8 : 4);
            if (!bad_model)
                i += wt == 1 ? 8 : 4;
        } else if (wt == 2) {
            bad_model = get_varint(m, mn, &i, &len) || len > mn - i;
            body = i;
            if (!bad_model)
                i += (size_t)len;
        } else {
            bad_model = 1;
        }
        if (bad_model)
            break;
        if ((key >> 3) == 7 && wt == 2) { /* ModelProto.graph: merged into one */
            if (graph_at == (size_t)-1)
                graph_at = all.n;
            put(&sg, m + body, (size_t)len);
        } else {
            put(&all, m + start, i - start);
        }
    }
    if (bad_model) {
        free(all.p);
        free(sg.p);
        free(g.p);
        return fail(c, ONNXC_ERR_RUNTIME, "save: the stored model is malformed (byte %zu)", i);
    }
    put(&sg, g.p, g.n);
    free(g.p);
    Buf gf = {0};
    field_bytes(&gf, 7, sg.p, sg.n);
    free(sg.p);
    if (graph_at == (size_t)-1)
        graph_at = all.n;
    if (!all.oom && !gf.oom) { /* insert the graph field at graph_at */
        put(&all, gf.p, gf.n);
        if (!all.oom) {
            memmove(all.p + graph_at + gf.n, all.p + graph_at, all.n - gf.n - graph_at);
            memcpy(all.p + graph_at, gf.p, gf.n);
        }
    }
    int oom = all.oom || gf.oom;
    free(gf.p);
    if (oom) {
        free(all.p);
        return fail(c, ONNXC_ERR_NOMEM, "out of memory");
    }
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) {
        free(all.p);
        return fail(c, ONNXC_ERR_NOMEM, "out of memory");
    }
    snprintf(tmp, pl + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(all.p);
        free(tmp);
        return fail(c, ONNXC_ERR_RUNTIME, "cannot create a temporary file for '%s': %s", path,
                    strerror(e));
    }
    size_t off = 0;
    int bad = 0;
    while (off < all.n) {
        ssize_t k = write(fd, all.p + off, all.n - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            bad = 1;
            break;
        }
        off += (size_t)k;
    }
    int e = errno;
    bad |= fsync(fd) != 0;
    bad |= close(fd) != 0;
    free(all.p);
    if (bad || rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        free(tmp);
        return fail(c, ONNXC_ERR_RUNTIME, "cannot write '%s': %s", path, strerror(e));
    }
    free(tmp);
    return ONNXC_OK;
}
