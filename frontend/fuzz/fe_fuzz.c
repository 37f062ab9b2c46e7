/* fe_fuzz.c - libFuzzer entry point for the frontend's parsers (not part of the CMake build).
 *
 * The first input byte picks the parser: even -> fe_load_model_buffer, odd ->
 * fe_read_tensor_pb_buffer; the rest is the serialized message. Built with
 * -fsanitize=fuzzer it is a libFuzzer target; built with -DFE_FUZZ_MAIN it is a standalone
 * mutation fuzzer (for machines without the libFuzzer runtime): each file given on the command
 * line is a seed (model files and .pb files, told apart by their name), mutated N times
 * (env FE_FUZZ_ITERS, default 2000) with bit flips, byte sets, truncation, insertion, deletion
 * and chunk copies. See docs/FRONTEND.md for the build line.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/fe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1)
        return 0;
    IrDiag d;
    ir_diag_init(&d, NULL);
    if ((data[0] & 1) == 0) {
        IrModel *m = fe_load_model_buffer(data + 1, size - 1, "fuzz.onnx", NULL, NULL, &d);
        if (m && d.nerrors)
            __builtin_trap(); /* a model is returned only without errors */
        if (!m && !d.nerrors)
            __builtin_trap(); /* a failure always says why */
        if (m)
            (void)ir_verify(m->graph, &d); /* must not crash on what the loader accepted */
        ir_model_destroy(m);
    } else {
        IrArena *a = ir_arena_create();
        IrTensor *t = fe_read_tensor_pb_buffer(a, data + 1, size - 1, "fuzz.pb", &d);
        if (!t && !d.nerrors)
            __builtin_trap();
        ir_arena_destroy(a);
    }
    ir_diag_free(&d);
    return 0;
}

#ifdef FE_FUZZ_MAIN
static uint64_t fz_state = 0x243F6A8885A308D3ull;
static uint64_t fz_rand(void) {
    fz_state ^= fz_state << 13;
    fz_state ^= fz_state >> 7;
    fz_state ^= fz_state << 17;
    return fz_state;
}

/* One random edit of b[0..*n) (capacity cap); keeps b[0] (the parser selector). */
static void fz_mutate(uint8_t *b, size_t *n, size_t cap) {
    size_t len = *n;
    if (len < 2)
        return;
    size_t at = 1 + (size_t)(fz_rand() % (len - 1));
    switch (fz_rand() % 6) {
    case 0: b[at] ^= (uint8_t)(1u << (fz_rand() % 8)); break;
    case 1: b[at] = (uint8_t)fz_rand(); break;
    case 2: *n = at; break; /* truncate */
    case 3: /* insert a byte */
        if (len < cap) {
            memmove(b + at + 1, b + at, len - at);
            b[at] = (uint8_t)fz_rand();
            *n = len + 1;
        }
        break;
    case 4: /* delete a run */ {
        size_t k = 1 + (size_t)(fz_rand() % 8);
        if (at + k > len) k = len - at;
        memmove(b + at, b + at + k, len - at - k);
        *n = len - k;
        break;
    }
    default: /* copy a chunk over another place */ {
        size_t from = 1 + (size_t)(fz_rand() % (len - 1));
        size_t k = 1 + (size_t)(fz_rand() % 16);
        if (from + k > len) k = len - from;
        if (at + k > len) k = len - at;
        memmove(b + at, b + from, k);
        break;
    }
    }
}

int main(int argc, char **argv) {
    const char *e = getenv("FE_FUZZ_ITERS");
    long iters = e ? atol(e) : 2000;
    for (int f = 1; f < argc; f++) {
        FILE *fp = fopen(argv[f], "rb");
        if (!fp)
            continue;
        fseek(fp, 0, SEEK_END);
        long sz = ftell(fp);
        fseek(fp, 0, SEEK_SET);
        if (sz < 0 || sz > (64 << 20)) {
            fclose(fp);
            continue;
        }
        size_t cap = (size_t)sz + 64;
        uint8_t *seed = malloc(cap), *b = malloc(cap);
        size_t l = strlen(argv[f]);
        seed[0] = (l > 3 && strcmp(argv[f] + l - 3, ".pb") == 0) ? 1 : 0;
        size_t n0 = 1 + fread(seed + 1, 1, (size_t)sz, fp);
        fclose(fp);
        LLVMFuzzerTestOneInput(seed, n0);
        for (long it = 0; it < iters; it++) {
            memcpy(b, seed, n0);
            size_t n = n0;
            int edits = 1 + (int)(fz_rand() % 4);
            for (int k = 0; k < edits; k++)
                fz_mutate(b, &n, cap);
            LLVMFuzzerTestOneInput(b, n);
        }
        free(seed);
        free(b);
    }
    printf("fe_fuzz: %d seeds x %ld mutations: no crash\n", argc - 1, iters);
    return 0;
}
#endif
