/* ir.h - the onnxc graph IR: element types, shapes, values, nodes, attributes, graphs.
 *
 * One IrGraph owns one arena (IrArena): every node, value, name, shape and attribute of the
 * graph is allocated from it and freed at once by ir_graph_destroy(). Large tensor payloads
 * (initializers, Constant values) are also arena-owned (arena "big" blocks).
 *
 * Ownership rules:
 *  - IrModel owns its main IrGraph and its model-local functions (each an IrGraph).
 *  - A subgraph (If/Loop/Scan body) is an IrGraph with parent != NULL; it has its own arena
 *    and is owned by the attribute that holds it (destroyed with the parent graph).
 *  - Strings handed to ir_* functions are copied into the arena.
 *
 * Nothing here aborts on bad input: functions that can fail return NULL or -1 and, when a
 * diagnostic sink (IrDiag) is given, record a message with context.
 *
 * Element type numbering is ONNX's TensorProto.DataType, including the types newer than
 * Debian's onnx.proto (1.12): FLOAT8*, UINT4/INT4, FLOAT4E2M1, FLOAT8E8M0, UINT2/INT2.
 *
 * In-memory layout (the contract between frontend, kernels and generated code):
 *  - Dense, row-major, no padding.
 *  - Sub-byte types (INT4, UINT4, FLOAT4E2M1, INT2, UINT2) are stored UNPACKED, one element per
 *    byte (sign-extended for INT4/INT2, the raw 4-bit code for FLOAT4E2M1). The frontend unpacks
 *    ONNX's packed form; writers pack again.
 *  - FLOAT16/BFLOAT16 are uint16 bit patterns; FLOAT8 types are uint8 bit patterns.
 *  - STRING tensors hold `IrString` records (pointer + length) in the arena.
 *  - BOOL is one byte, 0 or 1.
 */
#ifndef ONNXC_IR_H
#define ONNXC_IR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------- element types */

/* ONNX TensorProto.DataType numbering. */
typedef enum IrDType {
    IR_DT_UNDEFINED = 0,
    IR_DT_FLOAT = 1,
    IR_DT_UINT8 = 2,
    IR_DT_INT8 = 3,
    IR_DT_UINT16 = 4,
    IR_DT_INT16 = 5,
    IR_DT_INT32 = 6,
    IR_DT_INT64 = 7,
    IR_DT_STRING = 8,
    IR_DT_BOOL = 9,
    IR_DT_FLOAT16 = 10,
    IR_DT_DOUBLE = 11,
    IR_DT_UINT32 = 12,
    IR_DT_UINT64 = 13,
    IR_DT_COMPLEX64 = 14,
    IR_DT_COMPLEX128 = 15,
    IR_DT_BFLOAT16 = 16,
    IR_DT_FLOAT8E4M3FN = 17,
    IR_DT_FLOAT8E4M3FNUZ = 18,
    IR_DT_FLOAT8E5M2 = 19,
    IR_DT_FLOAT8E5M2FNUZ = 20,
    IR_DT_UINT4 = 21,
    IR_DT_INT4 = 22,
    IR_DT_FLOAT4E2M1 = 23,
    IR_DT_FLOAT8E8M0 = 24,
    IR_DT_UINT2 = 25,
    IR_DT_INT2 = 26,
    IR_DT_COUNT = 27
} IrDType;

/* Name used by the text format and diagnostics ("f32", "i64", "bf16", ...); "?" if invalid. */
const char *ir_dtype_name(int dt);
/* Inverse of ir_dtype_name; returns IR_DT_UNDEFINED if unknown. */
IrDType ir_dtype_from_name(const char *name);
/* ONNX's upper-case name ("FLOAT", "INT64", ...). */
const char *ir_dtype_onnx_name(int dt);
/* Bytes per element in onnxc's in-memory layout (see header comment); 0 for UNDEFINED/invalid.
 * STRING gives sizeof(IrString). */
size_t ir_dtype_size(int dt);
/* 1 if dt is a valid IrDType value in [1, IR_DT_COUNT). */
int ir_dtype_valid(int dt);

/* A string element of a STRING tensor. Bytes are not NUL-terminated in general. */
typedef struct IrString {
    const char *data; /* bytes, arena-owned */
    size_t len;       /* number of bytes */
} IrString;

/* ---------------------------------------------------------------- limits */

/* Caps that keep hostile models from exhausting memory or the stack (docs/HARDENING.md,
 * "Limits"). IR_MAX_RANK is fixed (stack arrays and the runtime's parameter blocks are sized by
 * it); IR_MAX_SUBGRAPH_DEPTH bounds every recursion over nested graphs and may be raised at
 * build time (-DIR_MAX_SUBGRAPH_DEPTH=N in CMAKE_C_FLAGS). The other three are the defaults of
 * the run-time limits below (IrLimits). */
#define IR_MAX_RANK 64
#ifndef IR_MAX_SUBGRAPH_DEPTH
#define IR_MAX_SUBGRAPH_DEPTH 64
#endif
#define IR_MAX_TENSOR_BYTES ((int64_t)1 << 34) /* 16 GiB: default of IrLimits.max_tensor_bytes */
#define IR_MAX_DIM ((int64_t)1 << 34)          /* default of IrLimits.max_dim */
#define IR_MAX_NODES (1 << 24)                 /* default of IrLimits.max_nodes */
#define IR_LIMIT_CEILING ((int64_t)1 << 48)    /* no limit may be raised above this */
/* Newest opsets the operator table knows (ir_verify refuses newer ones): those of the ONNX
 * backend test data this onnxc is tested with (ONNX 1.23). */
#define IR_MAX_OPSET_ONNX 28
#define IR_MAX_OPSET_ONNX_ML 5

/* Run-time limits, process-wide (the driver sets them from --max-tensor-bytes, --max-dim,
 * --max-nodes before compiling; not meant to change while another thread compiles).
 * onnxc_prepare refuses a model with a value above them (passes/pass_pipeline.c). */
typedef struct IrLimits {
    int64_t max_tensor_bytes; /* static byte size of any value, constant or tensor type */
    int64_t max_dim;          /* any static dimension */
    int64_t max_nodes;        /* nodes per graph (bounds the graph's depth too) */
} IrLimits;
/* The limits in force (defaults until ir_limits_set). */
IrLimits ir_limits(void);
/* Sets the limits; a field <= 0 takes its default; NULL restores every default. -1 (nothing
 * changed) if a field exceeds IR_LIMIT_CEILING. */
int ir_limits_set(const IrLimits *l);

/* Checked arithmetic: return 0 on success, -1 on overflow (result untouched). */
int ir_mul_i64(int64_t a, int64_t b, int64_t *out);
int ir_add_i64(int64_t a, int64_t b, int64_t *out);

/* ---------------------------------------------------------------- fault injection */

/* Allocation-failure injection for tests (Lua/SQLite style; tests/test_oom.c). Every allocation
 * of the arena, of the IR's own tables and of the frontend (including protobuf-c's, through
 * fe_pb_allocator) goes through ir_malloc/ir_calloc/ir_realloc, which count allocations per
 * thread. ir_fault_set(n) with n >= 1 resets the count and makes the n-th counted allocation
 * after it fail (only that one); n = 0 turns injection off (the default: one thread-local
 * compare per allocation). Diagnostics (ir_diag_*) are never failed on purpose. */
void ir_fault_set(long n);
/* Allocations counted since the last ir_fault_set. */
long ir_fault_count(void);
/* 1 if the allocation being made now must fail (counts it). */
int ir_fault_hit(void);
void *ir_malloc(size_t size);
void *ir_calloc(size_t n, size_t size);
void *ir_realloc(void *p, size_t size);

/* ---------------------------------------------------------------- arena */

typedef struct IrArena IrArena;

IrArena *ir_arena_create(void);
void ir_arena_destroy(IrArena *a);
/* Zeroed, 16-byte aligned (64-byte for sizes >= 4096); NULL on failure (overflow or OOM). */
void *ir_arena_alloc(IrArena *a, size_t size);
/* Copies; NULL s gives NULL. */
char *ir_arena_strdup(IrArena *a, const char *s);
char *ir_arena_strndup(IrArena *a, const char *s, size_t n);
void *ir_arena_memdup(IrArena *a, const void *p, size_t n);
/* Bytes currently held (for --stats and tests). */
size_t ir_arena_bytes(const IrArena *a);

/* ---------------------------------------------------------------- diagnostics */

typedef enum IrSeverity { IR_SEV_NOTE = 0, IR_SEV_WARNING = 1, IR_SEV_ERROR = 2 } IrSeverity;

typedef struct IrDiagEntry {
    IrSeverity sev;
    char *msg; /* fully formatted: "file: node 'n' (Op, opset 13): text" (malloc-owned) */
} IrDiagEntry;

/* A diagnostic sink. Not arena-owned (it outlives graphs); free with ir_diag_free. */
typedef struct IrDiag {
    const char *file;     /* model path used as prefix (borrowed; may be NULL) */
    int nerrors;          /* number of IR_SEV_ERROR entries */
    int nentries;         /* entries used */
    int cap;              /* entries allocated */
    IrDiagEntry *entries; /* malloc-owned */
    int echo;             /* if nonzero, each message is also printed to stderr when added */
} IrDiag;

struct IrNode;
void ir_diag_init(IrDiag *d, const char *file);
void ir_diag_free(IrDiag *d);
/* Records "file: node 'name' (OpType, opset N): <fmt>"; node may be NULL. */
void ir_diag_add(IrDiag *d, IrSeverity sev, const struct IrNode *node, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void ir_diag_vadd(IrDiag *d, IrSeverity sev, const struct IrNode *node, const char *fmt, va_list ap);
#define ir_error(d, node, ...) ir_diag_add((d), IR_SEV_ERROR, (node), __VA_ARGS__)
#define ir_warning(d, node, ...) ir_diag_add((d), IR_SEV_WARNING, (node), __VA_ARGS__)
/* Last error message, or "" if none. */
const char *ir_diag_last(const IrDiag *d);
/* Print every entry to a FILE* (void* to avoid stdio in this header). */
void ir_diag_print(const IrDiag *d, void *file);

/* ---------------------------------------------------------------- types and shapes */

/* One dimension: a constant (value >= 0), a named symbol (value < 0, sym != NULL), or unknown
 * (value < 0, sym == NULL). */
typedef struct IrDim {
    int64_t value;   /* >= 0 if known */
    const char *sym; /* symbol name if symbolic (arena-owned), else NULL */
} IrDim;

typedef enum IrTypeKind {
    IR_TYPE_UNKNOWN = 0, /* not yet inferred */
    IR_TYPE_TENSOR = 1,
    IR_TYPE_SEQUENCE = 2, /* elem points at the element type */
    IR_TYPE_OPTIONAL = 3, /* elem points at the contained type */
    IR_TYPE_MAP = 4,      /* key dtype in dtype, value type in elem */
    IR_TYPE_SPARSE_TENSOR = 5
} IrTypeKind;

typedef struct IrType {
    IrTypeKind kind;
    IrDType dtype;      /* tensor element type (or map key type) */
    int rank;           /* -1: rank unknown */
    IrDim *dims;        /* rank entries (arena-owned), NULL when rank <= 0 */
    struct IrType *elem; /* for SEQUENCE/OPTIONAL/MAP (arena-owned) */
} IrType;

/* 1 if every dim is a known constant and rank >= 0 (tensor only). */
int ir_type_is_static(const IrType *t);
/* Element count of a static tensor type into *out; -1 if not static or on overflow. */
int ir_type_numel(const IrType *t, int64_t *out);
/* Byte size of a static tensor type; -1 if not static, overflow or above
 * ir_limits().max_tensor_bytes. */
int ir_type_nbytes(const IrType *t, int64_t *out);
/* Deep copy into arena a. */
int ir_type_copy(IrArena *a, IrType *dst, const IrType *src);
/* Convenience: set *t to a tensor of dtype with static dims. */
int ir_type_set_tensor(IrArena *a, IrType *t, IrDType dt, int rank, const int64_t *dims);
/* 1 if equal (kind, dtype, rank, dims including symbols). */
int ir_type_equal(const IrType *x, const IrType *y);

/* ---------------------------------------------------------------- constant tensors */

/* A constant tensor (initializer, Constant value, tensor attribute). */
typedef struct IrTensor {
    const char *name; /* may be NULL for anonymous (arena-owned) */
    IrDType dtype;
    int rank;
    int64_t *dims;   /* rank entries (arena-owned) */
    int64_t numel;   /* product of dims (1 for rank 0) */
    void *data;      /* numel * ir_dtype_size(dtype) bytes, onnxc layout (arena-owned) */
    size_t nbytes;   /* bytes at data */
} IrTensor;

/* Allocates an IrTensor with zeroed data in arena a; NULL on overflow/limit/OOM. */
IrTensor *ir_tensor_new(IrArena *a, IrDType dt, int rank, const int64_t *dims);

/* ---------------------------------------------------------------- attributes */

/* ONNX AttributeProto.AttributeType numbering. */
typedef enum IrAttrKind {
    IR_ATTR_UNDEFINED = 0,
    IR_ATTR_FLOAT = 1,
    IR_ATTR_INT = 2,
    IR_ATTR_STRING = 3,
    IR_ATTR_TENSOR = 4,
    IR_ATTR_GRAPH = 5,
    IR_ATTR_FLOATS = 6,
    IR_ATTR_INTS = 7,
    IR_ATTR_STRINGS = 8,
    IR_ATTR_TENSORS = 9,
    IR_ATTR_GRAPHS = 10,
    IR_ATTR_SPARSE_TENSOR = 11,
    IR_ATTR_SPARSE_TENSORS = 12,
    IR_ATTR_TYPE_PROTO = 13,
    IR_ATTR_TYPE_PROTOS = 14
} IrAttrKind;

struct IrGraph;

typedef struct IrAttr {
    const char *name;      /* arena-owned */
    IrAttrKind kind;
    const char *ref_attr_name; /* non-NULL inside function bodies: refers to caller's attribute */
    /* scalar forms */
    float f;
    int64_t i;
    IrString s;            /* STRING: bytes (may contain NUL) */
    IrTensor *t;           /* TENSOR / SPARSE_TENSOR (densified) */
    struct IrGraph *g;     /* GRAPH */
    IrType *tp;            /* TYPE_PROTO */
    /* list forms: n entries in the array matching kind */
    int n;
    float *floats;
    int64_t *ints;
    IrString *strings;
    IrTensor **tensors;
    struct IrGraph **graphs;
    IrType **tps;
} IrAttr;

/* ---------------------------------------------------------------- values and nodes */

struct IrNode;

enum {
    IR_VALUE_INPUT = 1 << 0,       /* graph input (fed by the caller) */
    IR_VALUE_OUTPUT = 1 << 1,      /* graph output */
    IR_VALUE_INITIALIZER = 1 << 2, /* has constant data in `init` */
    IR_VALUE_OUTER = 1 << 3        /* in a subgraph: a reference to a value of an enclosing graph */
};

typedef struct IrValue {
    int id;                 /* index in graph->values */
    const char *name;       /* SSA name (arena-owned); "" for an omitted optional input never stored */
    IrType type;            /* element type and shape (may be IR_TYPE_UNKNOWN before inference) */
    unsigned flags;         /* IR_VALUE_* */
    struct IrNode *producer; /* node that defines it, NULL for inputs/initializers/outer values */
    int producer_out;       /* output index in producer */
    IrTensor *init;         /* constant data for initializers (or folded constants), else NULL */
    struct IrValue *outer;  /* for IR_VALUE_OUTER: the value in the enclosing graph */
    int nuses;              /* number of node input slots that read it (maintained by ir_* edits) */
    /* Memory plan (set by the planning pass; -1 when not planned). */
    int64_t offset;         /* byte offset in the workspace */
    void *user;             /* scratch pointer for passes (cleared between passes) */
} IrValue;

typedef struct IrNode {
    int id;                  /* unique in graph (monotonic) */
    const char *name;        /* provenance name (from the model or generated, e.g. "conv1+relu1") */
    const char *domain;      /* "" for ai.onnx */
    const char *op_type;     /* ONNX op type as in the model */
    int opset;               /* opset version of the node's domain in force for this model */
    int op;                  /* OpId from ops/ops.def, or -1 (OP_UNKNOWN) if not in the table */
    int nin;                 /* number of input slots */
    IrValue **in;            /* nin entries; NULL for an omitted optional input */
    int nout;                /* number of output slots */
    IrValue **out;           /* nout entries; NULL for an omitted optional output */
    int nattr;
    IrAttr *attrs;           /* nattr entries */
    void *params;            /* kernel parameters filled by the op's lower hook (arena-owned) */
    size_t params_size;
    const char *kernel;      /* kernel symbol chosen by the lower hook (static string) */
    struct IrNode *prev, *next; /* position in graph's topologically ordered list */
    struct IrGraph *graph;   /* owner */
} IrNode;

typedef struct IrGraph {
    IrArena *arena;          /* owns everything below */
    const char *name;
    struct IrGraph *parent;  /* enclosing graph for subgraphs, else NULL */
    struct IrModel *model;   /* model this graph belongs to (for opsets, diagnostics) */
    /* values */
    int nvalues, cap_values;
    IrValue **values;        /* every value ever created (ids index this) */
    /* interface */
    int ninputs, cap_inputs;
    IrValue **inputs;        /* graph inputs in order (may include initializers in IR v3 models) */
    int noutputs, cap_outputs;
    IrValue **outputs;
    int ninits, cap_inits;
    IrValue **inits;         /* initializers in order */
    /* nodes: doubly linked list in topological order */
    IrNode *first, *last;
    int nnodes;              /* live nodes */
    int next_node_id;
    const char *doc;         /* doc_string (optional) */
} IrGraph;

typedef struct IrOpsetImport {
    const char *domain; /* "" == ai.onnx */
    int64_t version;
} IrOpsetImport;

/* One ModelProto.training_info entry (onnx.proto TrainingInfoProto; docs/TRAINING.md section
 * "TrainingInfoProto"), imported by the frontend. `initialization` has no parent (no inputs);
 * `algorithm` has the main graph as parent, so names it takes from the inference graph
 * (initializers, inputs, intermediates) are IR_VALUE_OUTER values. Either graph is NULL when the
 * proto leaves it out. Bindings are (key = initializer name, value = output name) pairs, checked
 * at import: keys name an initializer of the main graph or of this algorithm, update keys are
 * unique across all entries, values name an output of the bound graph (update values may also
 * be main-graph outputs). Not printed by the IR text format. */
typedef struct IrTrainingInfo {
    struct IrGraph *initialization;
    struct IrGraph *algorithm;
    int ninit_bind, nupdate_bind;
    const char **init_keys, **init_values;     /* ninit_bind each */
    const char **update_keys, **update_values; /* nupdate_bind each */
} IrTrainingInfo;

typedef struct IrModel {
    IrArena *arena;          /* model-level strings */
    int64_t ir_version;
    const char *producer_name;
    const char *producer_version;
    const char *model_domain;
    int64_t model_version;
    const char *path;        /* file the model came from (may be NULL) */
    const char *dir;         /* its folder, for external data */
    int nopsets;
    IrOpsetImport *opsets;
    IrGraph *graph;          /* main graph */
    int nfunctions;
    IrGraph **functions;     /* model-local functions, each a graph with name = "domain::name" */
    const char **function_domains; /* domain of each function */
    int nmeta;
    const char **meta_keys, **meta_values;
    /* Set by onnxc_prepare (passes/pass.h) from the memory plan; -1 before planning. */
    int64_t workspace_bytes; /* planned workspace size of the main graph */
    int64_t naive_bytes;     /* sum of all intermediate sizes (what a plan without reuse needs) */
    /* ModelProto.training_info, in file order (frontend; destroyed with the model). */
    int ntraining_info;
    IrTrainingInfo *training_info;
} IrModel;

/* ---------------------------------------------------------------- construction */

IrModel *ir_model_create(void);
void ir_model_destroy(IrModel *m); /* destroys its graphs too */
/* Opset version of domain ("" or "ai.onnx" are the same), or -1 if not imported. */
int64_t ir_model_opset(const IrModel *m, const char *domain);

IrGraph *ir_graph_create(IrModel *m, IrGraph *parent, const char *name);
void ir_graph_destroy(IrGraph *g);

/* New value named `name` (copied); type unknown. NULL on OOM. Does not check uniqueness. */
IrValue *ir_value_new(IrGraph *g, const char *name);
/* Find a value by name in this graph only (linear or hashed); NULL if none. */
IrValue *ir_graph_find_value(const IrGraph *g, const char *name);
/* Fresh unique name derived from base ("base_1", ...), arena-owned. */
const char *ir_graph_unique_name(IrGraph *g, const char *base);

int ir_graph_add_input(IrGraph *g, IrValue *v);
int ir_graph_add_output(IrGraph *g, IrValue *v);
int ir_graph_add_init(IrGraph *g, IrValue *v); /* v->init must be set */

/* New node appended at the end (or inserted before `before` if non-NULL). Inputs/outputs are
 * given as arrays (entries may be NULL); outputs get producer set. Attributes are added with
 * ir_node_add_attr. The op id is looked up from the op table by (domain, op_type). */
IrNode *ir_node_new(IrGraph *g, IrNode *before, const char *name, const char *domain,
                    const char *op_type, int opset, int nin, IrValue **in, int nout, IrValue **out);
/* Unlinks and marks dead; updates use counts of its inputs; producer of outputs set to NULL. */
void ir_node_remove(IrGraph *g, IrNode *n);
/* Moves an existing node to just before `before` (or to the end when NULL). */
void ir_node_move_before(IrGraph *g, IrNode *n, IrNode *before);
/* Replace input slot i with v (updates use counts). */
void ir_node_set_input(IrNode *n, int i, IrValue *v);
/* Every use of `from` (node inputs and graph outputs) now reads `to`. */
void ir_value_replace_uses(IrGraph *g, IrValue *from, IrValue *to);

/* Append an attribute (zeroed, name copied) and return it for filling; NULL on OOM. */
IrAttr *ir_node_add_attr(IrNode *n, const char *name, IrAttrKind kind);
/* Lookup; NULL if absent. */
const IrAttr *ir_node_attr(const IrNode *n, const char *name);
/* Typed getters with default when absent (or of wrong kind). */
int64_t ir_attr_int(const IrNode *n, const char *name, int64_t dflt);
float ir_attr_float(const IrNode *n, const char *name, float dflt);
/* Returns the string (NUL-terminated copy in the arena) or dflt. */
const char *ir_attr_string(const IrNode *n, const char *name, const char *dflt);
/* Returns the number of ints and sets *out to the array (arena-owned), or -1 if absent. */
int ir_attr_ints(const IrNode *n, const char *name, const int64_t **out);
int ir_attr_floats(const IrNode *n, const char *name, const float **out);

/* Input i if present (slot exists and not omitted), else NULL. */
static inline IrValue *ir_node_in(const IrNode *n, int i) {
    return (i >= 0 && i < n->nin) ? n->in[i] : NULL;
}

/* ---------------------------------------------------------------- checks and text */

/* Verifies structure: single assignment, defined before use, no cycles (list order is a
 * topological order), use counts, types of initializers agree with their data, node arity
 * matches the op table. Records errors in d; returns number of errors found. Recurses into
 * subgraphs (bounded depth). */
int ir_verify(const IrGraph *g, IrDiag *d);

/* Text format (docs/IR_FORMAT.md). Prints the whole model (opsets, functions, main graph).
 * `f` is a FILE*. Large constants are summarised unless full != 0. Returns 0 or -1 on I/O error. */
int ir_print_model(const IrModel *m, void *f, int full);
int ir_print_graph(const IrGraph *g, void *f, int full);
/* Print one type as in the text format ("f32[32,9]", "f32[N,3]", "seq(f32[?])"). */
int ir_type_to_string(const IrType *t, char *buf, size_t cap);

/* Parses the text format back (ir/ir_parse.c): exactly what ir_print_model prints with
 * full != 0. `path` is recorded as the model's path (may be NULL). Errors are reported to d as
 * "LINE:COL: message" (summarised constants are refused); returns a new model (free with
 * ir_model_destroy) or NULL. Never aborts; recursion and allocations are bounded. */
IrModel *ir_parse_model(const char *text, size_t len, const char *path, IrDiag *d);

/* Graphviz dot of the main graph (ir/ir_dot.c): nodes labelled with op type and name, edges
 * with types, inputs/outputs as coloured ellipses, constants as small boxes (those with more
 * than 8 elements folded into their consumers' labels unless full != 0), subgraphs as clusters,
 * fused nodes (name with '+') marked. `file` is a FILE*. Returns 0, or -1 on I/O error or
 * subgraphs nested deeper than IR_MAX_SUBGRAPH_DEPTH. */
int ir_print_dot(const IrModel *m, void *file, int full);

#ifdef __cplusplus
}
#endif
#endif
