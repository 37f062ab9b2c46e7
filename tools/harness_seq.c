/* harness_seq.c - sequence and optional values in the backend-test data (tools/harness.h).
 *
 * A test's input_K.pb / output_K.pb holds an onnx.TensorProto, SequenceProto or OptionalProto
 * (onnx/onnx-data.proto), as the model's declared type of that input or output says. Debian's
 * generated protobuf code has only onnx.proto, so the two small container messages are read
 * here from the wire format (fields: SequenceProto 1 name, 2 elem_type, 3 tensor_values,
 * 5 sequence_values; OptionalProto 1 name, 2 elem_type, 3 tensor_value, 5 sequence_value); each
 * tensor goes through fe_read_tensor_pb_buffer.
 *
 * Values are flattened into their tensors in model order, which is how the compiled library
 * sees them (passes/pass_seqio.c): a sequence input becomes its elements, a present optional
 * its tensor (or its sequence's elements), an empty optional nothing; outputs likewise. The
 * inputs of the first data set also give the compile-time description of each sequence or
 * optional input (OnnxcSeqInput).
 */
#include "tools/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"

/* A growing list of tensors in an arena. */
typedef struct TList {
    IrArena *a;
    IrTensor **v;
    int n, cap;
} TList;

static int tl_push(TList *l, IrTensor *t) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 8;
        IrTensor **nv = ir_arena_alloc(l->a, sizeof *nv * (size_t)nc);
        if (!nv)
            return -1;
        if (l->n)
            memcpy(nv, l->v, sizeof *nv * (size_t)l->n);
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = t;
    return 0;
}

/* ------------------------------------------------------------------ wire format */

static int rd_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
    uint64_t r = 0;
    for (int s = 0; s < 64; s += 7) {
        if (*p >= end)
            return -1;
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << s;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

/* Next field: number, wire type, and for length-delimited ones the payload. 1 read, 0 end,
 * -1 malformed. */
static int rd_field(const uint8_t **p, const uint8_t *end, int *num, const uint8_t **pay,
                    size_t *len, uint64_t *ival) {
    if (*p >= end)
        return 0;
    uint64_t key;
    if (rd_varint(p, end, &key))
        return -1;
    *num = (int)(key >> 3);
    switch (key & 7) {
    case 0:
        return rd_varint(p, end, ival) ? -1 : 1;
    case 1:
        if (end - *p < 8)
            return -1;
        *p += 8;
        return 1;
    case 5:
        if (end - *p < 4)
            return -1;
        *p += 4;
        return 1;
    case 2: {
        uint64_t l;
        if (rd_varint(p, end, &l) || l > (uint64_t)(end - *p))
            return -1;
        *pay = *p;
        *len = (size_t)l;
        *p += l;
        return 1;
    }
    default:
        return -1;
    }
}

/* Appends the tensors of a SequenceProto (tensor elements only). */
static int read_sequence(TList *l, const uint8_t *p, size_t n, const char *path, IrDiag *d) {
    const uint8_t *end = p + n, *pay = NULL;
    size_t len = 0;
    uint64_t iv = 0;
    int num, r;
    while ((r = rd_field(&p, end, &num, &pay, &len, &iv)) == 1) {
        if (num == 3) {
            IrTensor *t = fe_read_tensor_pb_buffer(l->a, pay, len, path, d);
            if (!t || tl_push(l, t))
                return -1;
        } else if (num >= 4 && num <= 7) {
            ir_error(d, NULL, "%s: sequences of sequences, maps or optionals are not supported",
                     path);
            return -1;
        }
    }
    if (r < 0) {
        ir_error(d, NULL, "%s: malformed SequenceProto", path);
        return -1;
    }
    return 0;
}

/* Appends the tensors of an OptionalProto; *present = 0 when it is empty. */
static int read_optional(TList *l, const uint8_t *p, size_t n, const char *path, int *present,
                         IrDiag *d) {
    const uint8_t *end = p + n, *pay = NULL;
    size_t len = 0;
    uint64_t iv = 0;
    int num, r;
    *present = 0;
    while ((r = rd_field(&p, end, &num, &pay, &len, &iv)) == 1) {
        if (num == 3) {
            IrTensor *t = fe_read_tensor_pb_buffer(l->a, pay, len, path, d);
            if (!t || tl_push(l, t))
                return -1;
            *present = 1;
        } else if (num == 5) {
            if (read_sequence(l, pay, len, path, d))
                return -1;
            *present = 1;
        } else if (num == 4 || num == 6 || num == 7) {
            ir_error(d, NULL, "%s: optional sparse tensors, maps or optionals are not supported",
                     path);
            return -1;
        }
    }
    if (r < 0) {
        ir_error(d, NULL, "%s: malformed OptionalProto", path);
        return -1;
    }
    return 0;
}

/* Reads one value file of declared type t, appending its tensors; *present as for optionals
 * (1 for tensors and sequences). */
static int read_value(TList *l, const char *path, const IrType *t, int *present, IrDiag *d) {
    void *buf = NULL;
    size_t len = 0;
    *present = 1;
    if (fe_read_file(path, 0, &buf, &len, d))
        return -1;
    int rc;
    if (t->kind == IR_TYPE_SEQUENCE) {
        rc = read_sequence(l, buf, len, path, d);
    } else if (t->kind == IR_TYPE_OPTIONAL) {
        rc = read_optional(l, buf, len, path, present, d);
    } else {
        IrTensor *x = fe_read_tensor_pb_buffer(l->a, buf, len, path, d);
        rc = !x || tl_push(l, x) ? -1 : 0;
    }
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------ public */

static int is_nontensor(const IrType *t) {
    return t->kind == IR_TYPE_SEQUENCE || t->kind == IR_TYPE_OPTIONAL;
}

int harness_seq_model(const IrModel *m) {
    const IrGraph *g = m->graph;
    for (int i = 0; i < g->ninputs; i++)
        if (!g->inputs[i]->init && is_nontensor(&g->inputs[i]->type))
            return 1;
    for (int i = 0; i < g->noutputs; i++)
        if (is_nontensor(&g->outputs[i]->type))
            return 1;
    return 0;
}

int harness_seq_read_inputs(IrArena *a, const IrModel *m, const char *dir, IrTensor ***ins,
                            int *nin, OnnxcSeqInput **specs, int *nspecs, IrDiag *d) {
    const IrGraph *g = m->graph;
    TList l = {a, NULL, 0, 0};
    OnnxcSeqInput *sp = ir_arena_alloc(a, sizeof *sp * (size_t)(g->ninputs + 1));
    int ns = 0, k = 0;
    if (!sp) {
        ir_error(d, NULL, "out of memory");
        return -1;
    }
    for (int i = 0; i < g->ninputs; i++) {
        const IrValue *v = g->inputs[i];
        if (v->init || (v->flags & IR_VALUE_INITIALIZER))
            continue;
        char p[4096];
        snprintf(p, sizeof p, "%s/input_%d.pb", dir, k++);
        int first = l.n, present;
        if (read_value(&l, p, &v->type, &present, d))
            return -1;
        if (!is_nontensor(&v->type))
            continue;
        OnnxcSeqInput *s = &sp[ns++];
        s->name = v->name;
        s->present = present;
        s->count = l.n - first;
        int *dts = ir_arena_alloc(a, sizeof *dts * (size_t)(s->count + 1));
        OnnxcShapeOverride *sh = ir_arena_alloc(a, sizeof *sh * (size_t)(s->count + 1));
        if (!dts || !sh) {
            ir_error(d, NULL, "out of memory");
            return -1;
        }
        for (int j = 0; j < s->count; j++) {
            const IrTensor *t = l.v[first + j];
            dts[j] = t->dtype;
            sh[j].name = v->name;
            sh[j].rank = t->rank;
            for (int r = 0; r < t->rank && r < IR_MAX_RANK; r++)
                sh[j].dims[r] = t->dims[r];
        }
        s->dtypes = dts;
        s->shapes = sh;
    }
    *ins = l.v;
    *nin = l.n;
    if (specs)
        *specs = sp;
    if (nspecs)
        *nspecs = ns;
    return 0;
}

int harness_seq_read_outputs(IrArena *a, const IrModel *m, const char *dir, IrTensor ***outs,
                             int *nout, IrDiag *d) {
    const IrGraph *g = m->graph;
    TList l = {a, NULL, 0, 0};
    for (int i = 0; i < g->noutputs; i++) {
        char p[4096];
        int present;
        snprintf(p, sizeof p, "%s/output_%d.pb", dir, i);
        if (read_value(&l, p, &g->outputs[i]->type, &present, d))
            return -1;
    }
    *outs = l.v;
    *nout = l.n;
    return 0;
}
