/* fuzz_ir_parse.c - libFuzzer target: the IR text parser (ir_parse_model), then ir_verify and a
 * print of what it accepted. Seeds: `onnxc dump --full` of backend test models (scripts/fuzz.sh). */
#include <stdio.h>

#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    IrDiag d;
    ir_diag_init(&d, NULL);
    IrModel *m = ir_parse_model((const char *)data, size, "fuzz.ir", &d);
    fz_check_contract(m, &d);
    if (m) {
        (void)ir_verify(m->graph, &d);
        FILE *f = fopen("/dev/null", "w");
        if (f) {
            (void)ir_print_model(m, f, 1); /* printing what was parsed must not crash either */
            fclose(f);
        }
    }
    ir_model_destroy(m);
    ir_diag_free(&d);
    return 0;
}
