/* be_internal.h - helpers shared by the backend's files (be_llvm.c, be_link.c, be_header.c).
 * Not part of any contract outside backend/. */
#ifndef ONNXC_BE_INTERNAL_H
#define ONNXC_BE_INTERNAL_H

#include <stdio.h>

#include "backend/be.h"

/* The model name: o->model_name, else the model file's base name, else out_path's, sanitised
 * to a C identifier (non [A-Za-z0-9_] -> '_', a leading digit gets "m_"; "" -> "model").
 * Written into buf (cap bytes, truncated). */
void be_model_name(const IrModel *m, const OnnxcCompileOptions *o, const char *out_path,
                   char *buf, size_t cap);

/* 1 if v is a "real" graph input (fed by the caller): a graph input without constant data. */
int be_is_real_input(const IrValue *v);

/* C element type used by the typed API for an ONNX dtype ("float", "int64_t", ...). */
const char *be_c_type(int dtype);

/* Creates an empty temporary file next to final_path (".<base>.XXXXXX<suffix>") and returns
 * its malloc'ed name, or NULL with a diagnostic. */
char *be_tmp_create(const char *final_path, const char *suffix, IrDiag *d);
/* Renames tmp to final_path; on failure removes tmp and records a diagnostic. 0 / -1. */
int be_tmp_commit(const char *tmp, const char *final_path, IrDiag *d);
/* Removes the temporary files of the emissions still in progress (the 32 most recent names
 * of be_tmp_create). Async-signal-safe: the driver calls it from its SIGINT/SIGTERM/SIGHUP
 * handler, so an interrupted compile leaves nothing behind (docs/HARDENING.md, "Files"). */
void be_tmp_remove_all(void);

/* Symbol names of one emission's graph function and RtModelDesc (NULL members: the defaults
 * onnxc__graph / onnxc__desc). Both stay hidden. */
typedef struct BeSymbols {
    const char *graph;
    const char *desc;
} BeSymbols;

/* be_emit with the graph function and descriptor named by syms (NULL: the defaults). */
int be_emit_named(IrModel *m, const OnnxcCompileOptions *o, BeEmitKind kind, const char *out_path,
                  const char *header_path, int64_t workspace_bytes, const BeSymbols *syms,
                  IrDiag *d);

/* Writes the generated C header of the model (see docs/BACKEND.md) to f. 0 / -1 on I/O error. */
int be_header_write(const IrGraph *g, const char *model_name, FILE *f);

/* Links obj_path with the runtime into a shared library at so_path, exporting only the
 * onnxc_* API and model_name's typed API. The linker runs as a child process; its output is
 * captured into the diagnostic on failure. 0 / -1. */
int be_link_shared(const char *obj_path, const char *so_path, const char *model_name, IrDiag *d);

#endif
