/* fuzz_prepare.c - libFuzzer target: loader + pass_infer + the whole onnxc_prepare pipeline
 * (-O2 passes, lowering, planning; no LLVM emission). Input: one serialized ModelProto.
 * Seeds: the backend test models (scripts/fuzz.sh). */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(data, size, "fuzz.onnx", NULL, NULL, &d);
    fz_check_contract(m, &d);
    if (m) {
        IrDiag d2;
        ir_diag_init(&d2, NULL);
        (void)pass_infer(m->graph, &d2); /* inference alone first: keeps going past errors */
        ir_diag_free(&d2);
        ir_model_destroy(m);
        /* reload: pass_infer may have typed values, prepare starts from the loaded model */
        ir_diag_free(&d);
        ir_diag_init(&d, NULL);
        m = fe_load_model_buffer(data, size, "fuzz.onnx", NULL, NULL, &d);
        if (m)
            fz_prepare(m);
    }
    ir_model_destroy(m);
    ir_diag_free(&d);
    return 0;
}
