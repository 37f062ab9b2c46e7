#!/bin/sh
# train_bench.sh - time per epoch of `onnxc train` and PyTorch (CPU, one thread) side by side on
# the example MLP (examples/mlp.onnx: Dense(10, relu) -> Dense(1), Adam + MSE, batch 32, 1,000
# samples), with the loss curves compared as in tests/train/mlp_vs_torch.py. docs/TRAINING.md.
# usage: bench/train_bench.sh [BUILD_DIR] [EPOCHS]
set -e
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
epochs=${2:-50}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/tests/train/mlp_vs_torch.py" \
    "$build/onnxc" "$here/examples/mlp.onnx" "$work" --epochs "$epochs" --bench
