/* op_weak.c - an empty (weak) hook record for every row of the op table. A family file that
 * defines `op_hooks_<ID>` overrides it; a row whose family has not defined its hooks yet is then
 * reported as "unsupported operator ... no type inference" instead of failing the link. The
 * compiler library is linked whole-archive (CMakeLists.txt) so the strong definitions always win. */
#include "ops/op.h"

#define OP(ID, TYPE, DOMAIN, MININ, MAXIN, MINOUT, MAXOUT, FLAGS) \
    __attribute__((weak)) const OpHooks op_hooks_##ID = {0};
#include "ops/ops.def"
#undef OP
