/* fuzz_tensor.c - libFuzzer target: the .pb TensorProto reader (fe_read_tensor_pb_buffer).
 * Seeds: the backend tests' input_*.pb / output_*.pb files (scripts/fuzz.sh). */
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrArena *a = ir_arena_create();
    if (!a)
        return 0;
    IrTensor *t = fe_read_tensor_pb_buffer(a, data, size, "fuzz.pb", &d);
    fz_check_contract(t, &d);
    ir_arena_destroy(a);
    ir_diag_free(&d);
    return 0;
}
