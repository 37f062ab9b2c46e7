/* fuzz_common.h - what every libFuzzer target in tests/fuzz/ shares (docs/HARDENING.md).
 *
 * The targets check the library's error contract, not only the absence of crashes: a parser
 * returns a result without errors or NULL with at least one error (STYLE.md: errors never
 * abort, a failure always says why). A broken contract is reported with __builtin_trap() so
 * that libFuzzer saves the input like any other crash.
 */
#ifndef ONNXC_FUZZ_COMMON_H
#define ONNXC_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "frontend/fe.h"
#include "ir/ir.h"
#include "passes/pass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Traps unless (result != NULL) == (d->nerrors == 0). */
static inline void fz_check_contract(const void *result, const IrDiag *d) {
    if (result && d->nerrors)
        __builtin_trap(); /* a result is returned only without errors */
    if (!result && !d->nerrors)
        __builtin_trap(); /* a failure always says why */
}

/* Runs what `onnxc compile` runs before LLVM emission on a loaded model: type and shape
 * inference, then the whole onnxc_prepare pipeline (optimisation passes at -O2, lowering,
 * memory planning) on the same model. The model is destroyed by the caller. */
static inline void fz_prepare(IrModel *m) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    OnnxcCompileOptions o;
    onnxc_options_default(&o);
    o.use_bitcode = 0;
    if (onnxc_prepare(m, &o, &d) != 0 && !d.nerrors)
        __builtin_trap(); /* a failed prepare always says why */
    ir_diag_free(&d);
}

#endif
