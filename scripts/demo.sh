#!/usr/bin/env bash
# demo.sh - the main job end to end: set up, build onnxc in ./build, compile the example model
# examples/mlp.onnx (Dense(10, relu) -> Dense(1), batch 32, 9 features) into a shared library
# plus C header, build examples/run_mlp.c against it, run it, and compare its 32 outputs with the
# numpy reference that examples/make_mlp.py computed (examples/mlp_data/output_0.pb).
#
# Environment: ONNXC_BUILD_DIR (default ./build), JOBS (default nproc).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${ONNXC_BUILD_DIR:-$ROOT/build}
JOBS=${JOBS:-$(nproc)}
OUT=$BUILD/demo

echo "== setup"
bash "$ROOT/scripts/setup.sh"

echo "== build ($BUILD)"
mkdir -p "$BUILD"
cmake -S "$ROOT" -B "$BUILD" > "$BUILD/configure.log" 2>&1 || { cat "$BUILD/configure.log"; exit 1; }
cmake --build "$BUILD" -j"$JOBS" --target onnxc

echo "== compile examples/mlp.onnx"
mkdir -p "$OUT"
"$BUILD/onnxc" compile "$ROOT/examples/mlp.onnx" --name mlp -O3 -o "$OUT/libmlp.so"
ls -l "$OUT/libmlp.so" "$OUT/libmlp.h"
"$BUILD/onnxc" info "$OUT/libmlp.so"

echo "== build examples/run_mlp.c against libmlp.so"
cc -std=c11 -O2 -Wall -Wextra -I"$OUT" "$ROOT/examples/run_mlp.c" -L"$OUT" -lmlp \
   -Wl,-rpath,"$OUT" -lm -o "$OUT/run_mlp"

echo "== run (outputs, then the comparison with the numpy reference)"
"$OUT/run_mlp" "$ROOT/examples/mlp_data/input_0.pb" "$ROOT/examples/mlp_data/output_0.pb"

echo "== the same through the driver (onnxc run)"
"$BUILD/onnxc" run "$OUT/libmlp.so" --data "$ROOT/examples/mlp_data" --rtol 0 --atol 1e-5
echo "demo: OK"
