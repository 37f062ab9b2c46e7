/* rt_params_ml.h - kernel parameter records of the ml family (runtime/rt_ml.c): the ai.onnx.ml
 * operators LabelEncoder, ArrayFeatureExtractor, Binarizer, TreeEnsemble, and TfIdfVectorizer
 * of the default domain.
 *
 * Variable-length tables follow the fixed header in the same block and are found by byte
 * offsets from the block's start (8-byte aligned); strings are RtStrRef (rt_params_str.h).
 * Nothing holds a pointer, so blocks embed as constants. */
#pragma once
#include <stdint.h>

#include "runtime/rt_params_str.h"

/* rt_k_label_encoder: Y[i] = values[k] for the first k with keys[k] == X[i], else the default.
 * Keys: int64 (integer key types), double (float/double keys; NaN matches NaN) or RtStrRef.
 * Values and the default are stored in the output's element type (strings as RtStrRef). */
typedef struct RtLabelEncParams {
    int32_t key_dtype; /* element type of X */
    int32_t val_dtype; /* element type of Y */
    int64_t nkeys;
    int64_t keys_off;  /* nkeys int64 / double / RtStrRef, by key_dtype */
    int64_t vals_off;  /* nkeys values of val_dtype (RtStrRef for STRING) */
    int64_t dflt_off;  /* one value of val_dtype */
} RtLabelEncParams;

/* rt_k_binarizer: Y = X > threshold ? 1 : 0 (same element type). */
typedef struct RtBinarizerParams {
    double threshold;
} RtBinarizerParams;

/* rt_k_array_feature_extractor: Z[r, j] = X[r, Y[j]] over the last axis of X (rows r: the
 * leading dims flattened); no parameters. */

/* TreeEnsemble (ai.onnx.ml 5) node comparison modes (nodes_modes). */
enum {
    RT_TREE_LEQ = 0, RT_TREE_LT = 1, RT_TREE_GTE = 2, RT_TREE_GT = 3, RT_TREE_EQ = 4,
    RT_TREE_NEQ = 5, RT_TREE_MEMBER = 6
};
/* aggregate_function */
enum { RT_TREE_AVERAGE = 0, RT_TREE_SUM = 1, RT_TREE_MIN = 2, RT_TREE_MAX = 3 };

/* One interior node. */
typedef struct RtTreeNode {
    int64_t feature;     /* column of X */
    int64_t mode;        /* RT_TREE_* comparison */
    int64_t next[2];     /* [0] true branch, [1] false branch: node or leaf index */
    int64_t is_leaf[2];  /* 1 if next[k] is a leaf index */
    int64_t missing_true; /* NaN takes the true branch */
    int64_t mem_start;   /* MEMBER: members[mem_start .. mem_start + mem_count) */
    int64_t mem_count;
    double split;        /* threshold (not MEMBER) */
} RtTreeNode;

typedef struct RtTreeLeaf {
    int64_t target;
    double weight;
} RtTreeLeaf;

/* rt_k_tree_ensemble: X [N, F] -> Y [N, n_targets]; each tree (root: a node, or a leaf when
 * root_is_leaf) gives one leaf whose weight is aggregated into its target. */
typedef struct RtTreeParams {
    int64_t nnodes, nleaves, ntrees, ntargets, nmembers;
    int64_t aggregate;   /* RT_TREE_AVERAGE .. RT_TREE_MAX */
    int64_t nodes_off;   /* RtTreeNode[nnodes] */
    int64_t leaves_off;  /* RtTreeLeaf[nleaves] */
    int64_t roots_off;   /* int64 pairs [ntrees][2]: index, is_leaf */
    int64_t members_off; /* double[nmembers] */
} RtTreeParams;

/* TfIdfVectorizer modes. */
enum { RT_TFIDF_TF = 0, RT_TFIDF_IDF = 1, RT_TFIDF_TFIDF = 2 };

/* One n-gram of the pool (sizes within [min_n, max_n] only). */
typedef struct RtTfIdfGram {
    int64_t n;      /* items */
    int64_t first;  /* index of its first item in the pool table */
    int64_t out;    /* output column (ngram_indexes) */
} RtTfIdfGram;

/* rt_k_tfidf: X [C] or [B, C] (int32, int64 or STRING) -> Y float [out_size] or [B, out_size]. */
typedef struct RtTfIdfParams {
    int32_t mode;      /* RT_TFIDF_* */
    int32_t strings;   /* 1: the pool holds RtStrRef (pool_strings), else int64 */
    int64_t min_n, max_n, max_skip, out_size;
    int64_t ngrams;    /* RtTfIdfGram entries */
    int64_t grams_off;
    int64_t pool_off;  /* int64[] or RtStrRef[] */
    int64_t nweights;  /* 0 or out_size */
    int64_t weights_off; /* double[nweights] */
} RtTfIdfParams;
