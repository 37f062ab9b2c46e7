/* grad_weak.c - the weak (NULL) gradient rule of every row of the op table. A file
 * ops/grad_<family>.c overrides a row's rule with a strong `const OpGradFn op_grad_<ID> = fn;`;
 * the compiler library is linked whole-archive (CMakeLists.txt), so the strong definitions win,
 * exactly as for ops/op_weak.c's hooks. Kept apart from grad_table.c so that the compiler cannot
 * fold the weak initialisers into the lookup. */
#include "ops/op.h"

#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) \
    __attribute__((weak)) const OpGradFn op_grad_##ID = 0;
#include "ops/ops.def"
#undef OP
