#!/usr/bin/env python3
"""make_mlp.py - generate the onnxc example model and its reference data.

The model: Dense(10, relu) -> Dense(1) on 9 input features, batch 32, written as
MatMul + Add + Relu + MatMul + Add nodes at opset 13, with weights from a fixed-seed random
generator. Writes (next to this script unless --out is given):
    mlp.onnx                   the model (input "x": float[32,9], output "y": float[32,1])
    mlp_data/input_0.pb        a fixed-seed input batch (onnx.TensorProto)
    mlp_data/output_0.pb       the expected output, computed here with numpy alone

Needs python3-numpy and python3-onnx (Debian 12 packages; no torch). Run with /usr/bin/python3
if another python3 comes first in PATH.
"""
import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

BATCH, FEATURES, HIDDEN, OUTPUTS = 32, 9, 10, 1
SEED = 20240613


def make_weights(rng):
    # Glorot-style uniform init, in float32 like a trained Keras Dense layer would store them.
    lim1 = np.sqrt(6.0 / (FEATURES + HIDDEN))
    lim2 = np.sqrt(6.0 / (HIDDEN + OUTPUTS))
    w1 = rng.uniform(-lim1, lim1, size=(FEATURES, HIDDEN)).astype(np.float32)
    b1 = rng.uniform(-0.1, 0.1, size=(HIDDEN,)).astype(np.float32)
    w2 = rng.uniform(-lim2, lim2, size=(HIDDEN, OUTPUTS)).astype(np.float32)
    b2 = rng.uniform(-0.1, 0.1, size=(OUTPUTS,)).astype(np.float32)
    return w1, b1, w2, b2


def make_model(w1, b1, w2, b2):
    inits = [numpy_helper.from_array(a, name) for a, name in
             ((w1, "dense1_w"), (b1, "dense1_b"), (w2, "dense2_w"), (b2, "dense2_b"))]
    nodes = [
        helper.make_node("MatMul", ["x", "dense1_w"], ["h_mm"], name="dense1_matmul"),
        helper.make_node("Add", ["h_mm", "dense1_b"], ["h_pre"], name="dense1_bias"),
        helper.make_node("Relu", ["h_pre"], ["h"], name="dense1_relu"),
        helper.make_node("MatMul", ["h", "dense2_w"], ["y_mm"], name="dense2_matmul"),
        helper.make_node("Add", ["y_mm", "dense2_b"], ["y"], name="dense2_bias"),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [BATCH, FEATURES])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [BATCH, OUTPUTS])],
        initializer=inits)
    model = helper.make_model(graph, producer_name="onnxc examples/make_mlp.py",
                              opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def reference(x, w1, b1, w2, b2):
    # Computed in float64 from the float32 values, then rounded once to float32.
    x, w1, b1, w2, b2 = (a.astype(np.float64) for a in (x, w1, b1, w2, b2))
    h = np.maximum(x @ w1 + b1, 0.0)
    return (h @ w2 + b2).astype(np.float32)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=here, help="folder for mlp.onnx and mlp_data/")
    args = ap.parse_args()

    rng = np.random.default_rng(SEED)
    w1, b1, w2, b2 = make_weights(rng)
    x = rng.standard_normal((BATCH, FEATURES)).astype(np.float32)
    y = reference(x, w1, b1, w2, b2)

    os.makedirs(os.path.join(args.out, "mlp_data"), exist_ok=True)
    onnx.save(make_model(w1, b1, w2, b2), os.path.join(args.out, "mlp.onnx"))
    for name, arr, tname in (("input_0.pb", x, "x"), ("output_0.pb", y, "y")):
        with open(os.path.join(args.out, "mlp_data", name), "wb") as f:
            f.write(numpy_helper.from_array(arr, tname).SerializeToString())
    print("wrote %s/mlp.onnx and mlp_data/{input_0,output_0}.pb (y[0:4] = %s)"
          % (args.out, np.array2string(y[:4, 0], precision=6)))


if __name__ == "__main__":
    main()
