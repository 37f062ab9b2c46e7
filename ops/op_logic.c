/* op_logic.c - infer and lower hooks of the cast, comparison, logical and bitwise family
 * (kernels in runtime/rt_logic.c, parameters RtLogicParams in runtime/rt_params_logic.h).
 *
 * ONNX specification: docs/Operators.md, sections Cast (1, 6, 9, 13, 19, 21, 23, 24, 25),
 * CastLike (15, 19, 21, 23, 24, 25), Equal (1, 7, 11, 13, 19), Less / Greater (1, 7, 9, 13),
 * LessOrEqual / GreaterOrEqual (12, 16), And / Or / Xor (1, 7), Not (1), Where (9, 16),
 * IsNaN (9, 13, 20), IsInf (10, 20), Sign (9, 13), Floor / Ceil (1, 6, 13), Round (11, 22),
 * Reciprocal (1, 6, 13), Mod (10, 13), BitShift (11), BitwiseAnd / Or / Xor / Not (18), and
 * "Broadcasting in ONNX".
 *
 *  - Binary ops broadcast numpy-style from opset 7. Before opset 7 (Equal, Less, Greater, And,
 *    Or, Xor) they broadcast only when the `broadcast` attribute is 1, matching B against A from
 *    `axis` (default: right-aligned); the output then has A's shape.
 *  - Cast: `to` is required (an integer, or the type's name in Cast-1); `saturate` (opset >= 19) applies to float8 targets; `round_mode`
 *    (opset >= 24: "up", "down", "nearest") to FLOAT8E8M0 targets. Casting to STRING is refused
 *    at lowering (the kernels cannot allocate strings); STRING -> number is supported.
 *  - CastLike takes the target type from input 1 (its values are not read).
 *  - Mod's `fmod` must be 1 for float inputs according to the spec; fmod = 0 on floats is accepted
 *    and computed with the sign of the divisor (numpy.mod).
 *  - BitShift's `direction` is "LEFT" or "RIGHT" (required).
 */
#include <string.h>
#include <strings.h>

#include "ops/op.h"
#include "runtime/rt_convert.h"
#include "runtime/rt_params.h"

/* Type sets (bit i = IrDType i). */
#define LBIT(t) (1u << (t))
#define LS_FLOAT (LBIT(IR_DT_FLOAT16) | LBIT(IR_DT_FLOAT) | LBIT(IR_DT_DOUBLE) | LBIT(IR_DT_BFLOAT16))
#define LS_F8 (LBIT(IR_DT_FLOAT8E4M3FN) | LBIT(IR_DT_FLOAT8E4M3FNUZ) | LBIT(IR_DT_FLOAT8E5M2) | \
               LBIT(IR_DT_FLOAT8E5M2FNUZ))
#define LS_SINT (LBIT(IR_DT_INT8) | LBIT(IR_DT_INT16) | LBIT(IR_DT_INT32) | LBIT(IR_DT_INT64))
#define LS_UINT (LBIT(IR_DT_UINT8) | LBIT(IR_DT_UINT16) | LBIT(IR_DT_UINT32) | LBIT(IR_DT_UINT64))
#define LS_NUMERIC (LS_FLOAT | LS_SINT | LS_UINT)
#define LS_BOOL LBIT(IR_DT_BOOL)
/* Every type Cast accepts on either side: all but UNDEFINED and the complex types. */
#define LS_CASTABLE (((1u << IR_DT_COUNT) - 1u) & ~(LBIT(IR_DT_UNDEFINED) | LBIT(IR_DT_COMPLEX64) | \
                                                    LBIT(IR_DT_COMPLEX128)))

/* Element types allowed for the (first data) input of op at opset. */
static unsigned lg_types(int op, int opset) {
    switch (op) {
    case OP_Equal:
        if (opset >= 19)
            return LS_NUMERIC | LS_BOOL | LBIT(IR_DT_STRING);
        return opset >= 11 ? LS_NUMERIC | LS_BOOL : LS_BOOL | LBIT(IR_DT_INT32) | LBIT(IR_DT_INT64);
    case OP_Less: case OP_Greater:
        return opset >= 9 ? LS_NUMERIC : LS_FLOAT;
    case OP_LessOrEqual: case OP_GreaterOrEqual: case OP_Sign: case OP_Mod:
        return LS_NUMERIC;
    case OP_And: case OP_Or: case OP_Xor: case OP_Not:
        return LS_BOOL;
    case OP_IsNaN: case OP_IsInf:
        return opset >= 20 ? LS_FLOAT | LS_F8 : LS_FLOAT;
    case OP_Floor: case OP_Ceil: case OP_Round: case OP_Reciprocal:
        return LS_FLOAT;
    case OP_BitShift:
        return LS_UINT;
    case OP_BitwiseAnd: case OP_BitwiseOr: case OP_BitwiseXor: case OP_BitwiseNot:
        return LS_SINT | LS_UINT;
    case OP_Where:
        return LS_CASTABLE | LBIT(IR_DT_COMPLEX64) | LBIT(IR_DT_COMPLEX128);
    default:
        return LS_CASTABLE;
    }
}

/* The kernel symbol of each op of the family. */
static const char *lg_kernel(int op) {
    switch (op) {
    case OP_Cast: case OP_CastLike: return "rt_k_cast";
    case OP_Equal: return "rt_k_equal";
    case OP_Less: return "rt_k_less";
    case OP_LessOrEqual: return "rt_k_less_equal";
    case OP_Greater: return "rt_k_greater";
    case OP_GreaterOrEqual: return "rt_k_greater_equal";
    case OP_And: return "rt_k_and";
    case OP_Or: return "rt_k_or";
    case OP_Xor: return "rt_k_xor";
    case OP_Not: return "rt_k_not";
    case OP_Where: return "rt_k_where";
    case OP_IsNaN: return "rt_k_isnan";
    case OP_IsInf: return "rt_k_isinf";
    case OP_Sign: return "rt_k_sign";
    case OP_Floor: return "rt_k_floor";
    case OP_Ceil: return "rt_k_ceil";
    case OP_Round: return "rt_k_round";
    case OP_Reciprocal: return "rt_k_reciprocal";
    case OP_Mod: return "rt_k_mod";
    case OP_BitShift: return "rt_k_bitshift";
    case OP_BitwiseAnd: return "rt_k_bitwise_and";
    case OP_BitwiseOr: return "rt_k_bitwise_or";
    case OP_BitwiseXor: return "rt_k_bitwise_xor";
    case OP_BitwiseNot: return "rt_k_bitwise_not";
    default: return NULL;
    }
}

/* 1 for the binary ops that had the legacy `broadcast`/`axis` attributes before opset 7. */
static int lg_has_legacy_broadcast(int op) {
    return op == OP_Equal || op == OP_Less || op == OP_Greater || op == OP_And || op == OP_Or ||
           op == OP_Xor;
}

/* Output element type of a binary op with input type dt. */
static IrDType lg_binary_out_type(int op, IrDType dt) {
    switch (op) {
    case OP_Equal: case OP_Less: case OP_LessOrEqual: case OP_Greater: case OP_GreaterOrEqual:
    case OP_And: case OP_Or: case OP_Xor:
        return IR_DT_BOOL;
    default:
        return dt;
    }
}

/* Infer hook of every binary op: same element types, broadcast shapes. */
static int lg_infer_binary(IrNode *n, IrDiag *d) {
    const IrType *a = op_input_any_rank(n, d, 0), *b = a ? op_input_any_rank(n, d, 1) : NULL;
    if (!a || !b)
        return -1;
    if (op_check_dtype(n, d, 0, a->dtype, lg_types(n->op, n->opset)))
        return -1;
    if (a->dtype != b->dtype) {
        ir_error(d, n, "inputs have different element types %s and %s", ir_dtype_name(a->dtype),
                 ir_dtype_name(b->dtype));
        return -1;
    }
    if (n->op == OP_BitShift) {
        const char *dir = ir_attr_string(n, "direction", NULL);
        if (!dir || (strcmp(dir, "LEFT") != 0 && strcmp(dir, "RIGHT") != 0)) {
            ir_error(d, n, "attribute 'direction' must be \"LEFT\" or \"RIGHT\" (got %s)",
                     dir ? dir : "nothing");
            return -1;
        }
    }
    IrDType odt = lg_binary_out_type(n->op, a->dtype);
    if (n->opset < 7 && lg_has_legacy_broadcast(n->op)) {
        int b_axis;
        if (op_legacy_broadcast(n, d, a, b, &b_axis))
            return -1;
        return op_set_output(n, 0, odt, a->rank, a->dims);
    }
    IrType t;
    if (op_broadcast_shapes(n, d, a, b, &t))
        return -1;
    return op_set_output(n, 0, odt, t.rank, t.dims);
}

/* Output element type of a unary op with input type dt. */
static IrDType lg_unary_out_type(int op, IrDType dt) {
    return (op == OP_Not || op == OP_IsNaN || op == OP_IsInf) ? IR_DT_BOOL : dt;
}

/* Infer hook of the unary ops (Not, IsNaN, IsInf, Sign, Floor, Ceil, Round, Reciprocal,
 * BitwiseNot). */
static int lg_infer_unary(IrNode *n, IrDiag *d) {
    const IrType *a = op_input_any_rank(n, d, 0);
    if (!a)
        return -1;
    if (op_check_dtype(n, d, 0, a->dtype, lg_types(n->op, n->opset)))
        return -1;
    return op_set_output(n, 0, lg_unary_out_type(n->op, a->dtype), a->rank, a->dims);
}

/* Where(cond, X, Y): bool condition, X and Y of one type, three-way broadcast. */
static int lg_infer_where(IrNode *n, IrDiag *d) {
    const IrType *c = op_input_any_rank(n, d, 0), *x = c ? op_input_any_rank(n, d, 1) : NULL,
                 *y = x ? op_input_any_rank(n, d, 2) : NULL;
    if (!y)
        return -1;
    if (c->dtype != IR_DT_BOOL) {
        ir_error(d, n, "condition has element type %s, expected bool", ir_dtype_name(c->dtype));
        return -1;
    }
    if (op_check_dtype(n, d, 1, x->dtype, lg_types(n->op, n->opset)))
        return -1;
    if (x->dtype != y->dtype) {
        ir_error(d, n, "X and Y have different element types %s and %s", ir_dtype_name(x->dtype),
                 ir_dtype_name(y->dtype));
        return -1;
    }
    IrType t1, t2;
    if (op_broadcast_shapes(n, d, c, x, &t1) || op_broadcast_shapes(n, d, &t1, y, &t2))
        return -1;
    return op_set_output(n, 0, x->dtype, t2.rank, t2.dims);
}

/* Reads and checks the `round_mode` attribute into RT_ROUND_*; -1 + diag if unknown. */
static int lg_round_mode(IrNode *n, IrDiag *d, int32_t *out) {
    const char *rm = ir_attr_string(n, "round_mode", "up");
    if (strcmp(rm, "up") == 0)
        *out = RT_ROUND_UP;
    else if (strcmp(rm, "down") == 0)
        *out = RT_ROUND_DOWN;
    else if (strcmp(rm, "nearest") == 0)
        *out = RT_ROUND_NEAREST;
    else {
        ir_error(d, n, "attribute 'round_mode' is \"%s\", expected \"up\", \"down\" or \"nearest\"",
                 rm);
        return -1;
    }
    return 0;
}

/* Target type of a Cast (`to`) or CastLike (input 1's type); -1 + diag if invalid. */
static int lg_cast_target(IrNode *n, IrDiag *d, int *to) {
    if (n->op == OP_CastLike) {
        const IrType *t = op_input_any_rank(n, d, 1);
        if (!t)
            return -1;
        *to = t->dtype;
    } else {
        const IrAttr *a = ir_node_attr(n, "to");
        if (a && a->kind == IR_ATTR_STRING) {
            /* Cast-1: `to` is the type's name ("FLOAT", "INT64", ...) */
            *to = IR_DT_UNDEFINED;
            for (int t = 1; t < IR_DT_COUNT; t++) {
                const char *nm = ir_dtype_onnx_name(t);
                if (nm && strlen(nm) == a->s.len && a->s.len &&
                    strncasecmp(nm, a->s.data, a->s.len) == 0)
                    *to = t;
            }
            if (*to == IR_DT_UNDEFINED) {
                ir_error(d, n, "attribute 'to' names no known element type (\"%.*s\")",
                         (int)(a->s.len > 64 ? 64 : a->s.len), a->s.data ? a->s.data : "");
                return -1;
            }
        } else if (!a || a->kind != IR_ATTR_INT) {
            ir_error(d, n, "required attribute 'to' is missing");
            return -1;
        } else {
            *to = a->i > 0 && a->i < IR_DT_COUNT ? (int)a->i : -1;
        }
    }
    if (*to <= 0 || *to >= IR_DT_COUNT || !(LS_CASTABLE & LBIT(*to))) {
        ir_error(d, n, "cannot cast to element type %s", *to < 0 ? "(out of range)" : ir_dtype_name(*to));
        return -1;
    }
    return 0;
}

static int lg_infer_cast(IrNode *n, IrDiag *d) {
    const IrType *a = op_input_any_rank(n, d, 0);
    int to;
    int32_t rm;
    if (!a || lg_cast_target(n, d, &to))
        return -1;
    if (op_check_dtype(n, d, 0, a->dtype, LS_CASTABLE))
        return -1;
    if (lg_round_mode(n, d, &rm))
        return -1;
    return op_set_output(n, 0, (IrDType)to, a->rank, a->dims);
}

/* Lower hook of the whole family: picks the kernel and fills RtLogicParams. */
static int lg_lower(IrNode *n, IrDiag *d) {
    const char *k = lg_kernel(n->op);
    if (!k) {
        ir_error(d, n, "no kernel for %s", n->op_type);
        return -1;
    }
    RtLogicParams *p = op_params(n, d, k, sizeof(RtLogicParams));
    if (!p)
        return -1;
    p->b_axis = -1;
    p->saturate = 1;
    p->round_mode = RT_ROUND_UP;
    p->detect_negative = 1;
    p->detect_positive = 1;
    switch (n->op) {
    case OP_Cast: case OP_CastLike: {
        int to;
        if (lg_cast_target(n, d, &to) || lg_round_mode(n, d, &p->round_mode))
            return -1;
        if (to == IR_DT_STRING) {
            ir_error(d, n, "casting to STRING is not supported");
            return -1;
        }
        p->to = to;
        p->saturate = (int32_t)(ir_attr_int(n, "saturate", 1) != 0);
        break;
    }
    case OP_Mod:
        p->fmod = (int32_t)(ir_attr_int(n, "fmod", 0) != 0);
        break;
    case OP_BitShift:
        p->shift_right = strcmp(ir_attr_string(n, "direction", "LEFT"), "RIGHT") == 0;
        break;
    case OP_IsInf:
        p->detect_negative = (int32_t)(ir_attr_int(n, "detect_negative", 1) != 0);
        p->detect_positive = (int32_t)(ir_attr_int(n, "detect_positive", 1) != 0);
        break;
    default:
        break;
    }
    if (n->opset < 7 && lg_has_legacy_broadcast(n->op)) {
        int b_axis;
        if (op_legacy_broadcast(n, d, &n->in[0]->type, &n->in[1]->type, &b_axis))
            return -1;
        p->b_axis = b_axis;
    }
    return 0;
}

const OpHooks op_hooks_Cast = {lg_infer_cast, lg_lower, NULL};
const OpHooks op_hooks_CastLike = {lg_infer_cast, lg_lower, NULL};
const OpHooks op_hooks_Equal = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_Less = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_LessOrEqual = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_Greater = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_GreaterOrEqual = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_And = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_Or = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_Xor = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_Not = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Where = {lg_infer_where, lg_lower, NULL};
const OpHooks op_hooks_IsNaN = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_IsInf = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Sign = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Floor = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Ceil = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Round = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Reciprocal = {lg_infer_unary, lg_lower, NULL};
const OpHooks op_hooks_Mod = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_BitShift = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_BitwiseAnd = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_BitwiseOr = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_BitwiseXor = {lg_infer_binary, lg_lower, NULL};
const OpHooks op_hooks_BitwiseNot = {lg_infer_unary, lg_lower, NULL};
