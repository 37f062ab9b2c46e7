/* grad_table.c - the lookup of gradient rules the autodiff pass uses: the op's hooks' grad, else
 * its op_grad_<ID> (strong in ops/grad_<family>.c, else the weak NULL of ops/grad_weak.c). */
#include "ops/op.h"

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
