/* grad_table.c - the weak (NULL) gradient rule of every row of the op table and the lookup the
 * autodiff pass uses. A file ops/grad_<family>.c overrides a row's rule with a strong
 * `const OpGradFn op_grad_<ID> = fn;`; the compiler library is linked whole-archive
 * (CMakeLists.txt), so the strong definitions win, exactly as for ops/op_weak.c's hooks. */
#include "ops/op.h"

#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) \
    __attribute__((weak)) const OpGradFn op_grad_##ID = 0;
#include "ops/ops.def"
#undef OP

OpGradFn op_grad_rule(int op) {
    const OpInfo *o = op_info(op);
    if (!o)
        return 0;
    if (o->hooks->grad)
        return o->hooks->grad;
    switch (op) {
#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) \
    case OP_##ID:                                                 \
        return op_grad_##ID;
#include "ops/ops.def"
#undef OP
    default:
        return 0;
    }
}
