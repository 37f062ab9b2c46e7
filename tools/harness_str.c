/* harness_str.c - STRING tensors in the harness (docs/OPS_STRINGS.md).
 *
 * A STRING tensor crosses the model API as an array of OnnxcString records {data, len}, the
 * layout of the IR's IrString, so the frontend's decoded input tensors are passed as they are.
 * Output strings returned by a model point at bytes owned by its context (or at the model's
 * constants, or at the inputs) and end with the next run or harness_close; harness_str_own
 * copies them into the caller's arena so that results outlive the run.
 */
#include <stddef.h>
#include <string.h>

#include "tools/harness.h"

_Static_assert(sizeof(IrString) == sizeof(OnnxcString) &&
                   offsetof(IrString, data) == offsetof(OnnxcString, data) &&
                   offsetof(IrString, len) == offsetof(OnnxcString, len),
               "IrString and OnnxcString must share one layout");

int harness_str_own(IrTensor *t, IrArena *a) {
    if (!t || t->dtype != IR_DT_STRING || t->numel <= 0)
        return 0;
    IrString *s = t->data;
    for (int64_t i = 0; i < t->numel; i++) {
        if (s[i].len == 0) {
            s[i].data = "";
            continue;
        }
        if (!s[i].data)
            return -1;
        char *b = ir_arena_alloc(a, s[i].len + 1);
        if (!b)
            return -1;
        memcpy(b, s[i].data, s[i].len);
        b[s[i].len] = '\0';
        s[i].data = b;
    }
    return 0;
}
