/* rt_params_str.h - kernel parameter records of the str family (runtime/rt_str.c):
 * StringNormalizer, StringConcat, StringSplit, RegexFullMatch.
 *
 * Variable-length data (stop words, delimiter, pattern) follows the fixed header in the same
 * block; strings are referred to by RtStrRef (byte offset from the start of the block and
 * length), never by pointer, so the block stays POD and can be embedded as a constant. */
#pragma once
#include <stdint.h>

/* `len` bytes at byte offset `off` from the start of the parameter block that holds it. */
typedef struct RtStrRef {
    int64_t off;
    int64_t len;
} RtStrRef;

/* StringNormalizer's case_change_action. */
enum { RT_STRNORM_NONE = 0, RT_STRNORM_LOWER = 1, RT_STRNORM_UPPER = 2 };

/* rt_k_string_normalizer: X [C] or [1, C]; elements equal to a stop word are removed (compared
 * after ASCII case folding unless case_sensitive), the rest case-changed. The output holds the
 * kept elements, or one empty string when none is kept; its element count must equal the
 * number the kernel finds (checked at run time). */
typedef struct RtStrNormParams {
    int32_t case_action;    /* RT_STRNORM_* */
    int32_t case_sensitive; /* is_case_sensitive */
    int64_t nstop;          /* stop words: stop[0..nstop) */
    RtStrRef stop[];        /* then the words' bytes */
} RtStrNormParams;

/* rt_k_string_split: X -> Y (X.shape + [M], padded with empty strings), Z int64 X.shape (the
 * number of substrings of each element). */
typedef struct RtStrSplitParams {
    int64_t maxsplit;  /* < 0: unlimited */
    int64_t delim_len; /* 0: split on runs of whitespace, dropping leading/trailing ones */
    char delim[];      /* delim_len bytes */
} RtStrSplitParams;

/* rt_k_regex_full_match: the pattern translated from RE2 syntax to a POSIX extended regular
 * expression anchored at both ends (ops/op_str.c), NUL-terminated. */
typedef struct RtRegexParams {
    int64_t len;       /* strlen(pattern) */
    char pattern[];    /* len + 1 bytes */
} RtRegexParams;
