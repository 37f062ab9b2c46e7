/* fuzz_load.c - libFuzzer target: the ModelProto loader (fe_load_model_buffer), then ir_verify
 * on whatever it accepted. Input: one serialized ModelProto (or IR text: the loader recognises
 * it by its first line). Seeds: the backend test models (scripts/fuzz.sh). */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = fe_load_model_buffer(data, size, "fuzz.onnx", NULL, NULL, &d);
    fz_check_contract(m, &d);
    if (m)
        (void)ir_verify(m->graph, &d); /* must not crash on what the loader accepted */
    ir_model_destroy(m);
    ir_diag_free(&d);
    return 0;
}
