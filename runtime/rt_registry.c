/* rt_registry.c - kernel lookup by name, for constant folding and tests. Kept apart from
 * rt_core.c so that a model library, which references kernels by symbol, does not pull every
 * kernel in through this table. */
#include "runtime/onnxc_rt.h"

#include <string.h>

typedef struct RtKernelEntry {
    const char *name;
    RtKernelFn fn;
} RtKernelEntry;

static const RtKernelEntry rt_kernels[] = {
#define KERNEL(NAME) {#NAME, NAME},
#include "runtime/kernels.def"
#undef KERNEL
    {NULL, NULL}};

RtKernelFn rt_kernel_find(const char *name) {
    if (!name)
        return NULL;
    for (const RtKernelEntry *e = rt_kernels; e->name; e++)
        if (strcmp(e->name, name) == 0)
            return e->fn;
    return NULL;
}
