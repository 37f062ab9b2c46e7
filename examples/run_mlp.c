/* run_mlp.c - use a model compiled by onnxc from C, through its generated header.
 *
 *   onnxc compile examples/mlp.onnx --name mlp -o libmlp.so      (writes libmlp.so + libmlp.h)
 *   cc -std=c11 -I. examples/run_mlp.c -L. -lmlp -Wl,-rpath,'$ORIGIN' -o run_mlp
 *   ./run_mlp examples/mlp_data/input_0.pb [examples/mlp_data/output_0.pb]
 *
 * Reads the input batch (float[32,9]) from an ONNX TensorProto file, runs the model with the
 * typed API (mlp_create / mlp_run / mlp_destroy) and prints the 32 outputs. Given the expected
 * output file too, it prints the largest absolute difference and fails above 1e-5.
 *
 * The .pb reader below understands just what numpy_helper.from_array writes for a float tensor
 * (dims, data_type, raw_data or float_data) so that the example needs nothing but the model.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MLP_HEADER
#define MLP_HEADER "libmlp.h" /* the header onnxc wrote next to libmlp.so */
#endif
#include MLP_HEADER

#define BATCH 32
#define FEATURES 9

/* Reads a protobuf varint at *p (< end); returns 0 or -1. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = v;
            return 0;
        }
    }
    return -1;
}

/* Loads a float TensorProto of exactly n elements into out; returns 0 or -1 (message printed). */
static int read_float_pb(const char *path, float *out, int64_t n) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        return -1;
    }
    static uint8_t buf[1 << 20];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    const uint8_t *p = buf, *end = buf + len;
    int64_t numel = 1, got = 0;
    uint64_t dtype = 0;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key)) goto bad;
        int field = (int)(key >> 3), wire = (int)(key & 7);
        if (wire == 0) { /* varint: dims (1), data_type (2) */
            if (read_varint(&p, end, &v)) goto bad;
            if (field == 1) numel *= (int64_t)v;
            if (field == 2) dtype = v;
        } else if (wire == 2) { /* length-delimited */
            if (read_varint(&p, end, &v) || v > (uint64_t)(end - p)) goto bad;
            const uint8_t *q = p, *qe = p + v;
            if (field == 1) { /* packed dims */
                while (q < qe) {
                    uint64_t dim;
                    if (read_varint(&q, qe, &dim)) goto bad;
                    numel *= (int64_t)dim;
                }
            } else if ((field == 9 || field == 4) && v % 4 == 0) { /* raw_data / float_data */
                if ((int64_t)(v / 4) != n) {
                    fprintf(stderr, "%s: %llu floats, expected %lld\n", path,
                            (unsigned long long)(v / 4), (long long)n);
                    return -1;
                }
                memcpy(out, q, v); /* little-endian float32, as on x86-64 */
                got = n;
            }
            p = qe;
        } else if (wire == 5) { /* unpacked float_data */
            if (end - p < 4) goto bad;
            if (field == 4 && got < n) memcpy(&out[got++], p, 4);
            p += 4;
        } else if (wire == 1) {
            if (end - p < 8) goto bad;
            p += 8;
        } else {
            goto bad;
        }
    }
    if (dtype != 1 || numel != n || got != n) {
        fprintf(stderr, "%s: expected a float tensor of %lld elements\n", path, (long long)n);
        return -1;
    }
    return 0;
bad:
    fprintf(stderr, "%s: not a TensorProto this example can read\n", path);
    return -1;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s input_0.pb [expected_output_0.pb]\n", argv[0]);
        return 2;
    }
    static float x[BATCH * FEATURES], y[BATCH], want[BATCH];
    if (read_float_pb(argv[1], x, BATCH * FEATURES)) return 1;

    OnnxcContext *ctx = NULL;
    if (mlp_create(&ctx) != ONNXC_OK) {
        fprintf(stderr, "mlp_create failed: %s\n", mlp_error(ctx));
        return 1;
    }
    if (mlp_run(ctx, x, y) != ONNXC_OK) {
        fprintf(stderr, "mlp_run failed: %s\n", mlp_error(ctx));
        mlp_destroy(ctx);
        return 1;
    }
    mlp_destroy(ctx);

    for (int i = 0; i < BATCH; i++) printf("y[%2d] = %.7g\n", i, y[i]);
    if (argc == 3) {
        if (read_float_pb(argv[2], want, BATCH)) return 1;
        double maxerr = 0;
        for (int i = 0; i < BATCH; i++) {
            double e = fabs((double)y[i] - (double)want[i]);
            if (e > maxerr) maxerr = e;
        }
        printf("max |y - numpy reference| = %.3g (%s, tolerance 1e-5)\n", maxerr,
               maxerr <= 1e-5 ? "OK" : "MISMATCH");
        return maxerr <= 1e-5 ? 0 : 1;
    }
    return 0;
}
