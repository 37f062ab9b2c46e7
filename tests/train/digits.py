#!/usr/bin/env python3
"""digits.py - a small CNN trained by `onnxc train` on scikit-learn's bundled digits data
(docs/TRAINING.md).

Model (written here with onnx.helper, opset 13): x[N,1,8,8] -> Conv(8, 3x3, pads 1) -> Relu ->
MaxPool(2x2) -> Flatten -> Gemm(128 -> 10) logits. 1,797 images scaled to [0, 1], shuffled with a
fixed seed; the last 20% are the test split (`--val 0.2`). Trained with SoftmaxCrossEntropyLoss
and Adam. Checks: test accuracy >= 0.97 (the metrics `onnxc train` prints are shown), and the
saved .onnx, compiled again by `onnxc run`, reproduces the training library's test outputs
(same argmax everywhere, values within 1e-4). Exit 77 when sklearn/onnx are missing.

usage: digits.py ONNXC_BINARY WORKDIR [--epochs N]
"""
import argparse
import os
import re
import subprocess
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from sklearn.datasets import load_digits
except ImportError as e:  # pragma: no cover
    print("SKIP: needs numpy, onnx and scikit-learn in /usr/bin/python3 (%s)" % e)
    sys.exit(77)


def make_model(path, rng):
    w1 = rng.uniform(-1, 1, size=(8, 1, 3, 3)).astype(np.float32) * np.sqrt(6 / 9)
    b1 = np.zeros(8, np.float32)
    w2 = rng.uniform(-1, 1, size=(128, 10)).astype(np.float32) * np.sqrt(6 / 138)
    b2 = np.zeros(10, np.float32)
    inits = [numpy_helper.from_array(a, n) for a, n in
             ((w1, "conv_w"), (b1, "conv_b"), (w2, "fc_w"), (b2, "fc_b"))]
    nodes = [
        helper.make_node("Conv", ["x", "conv_w", "conv_b"], ["c"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("MaxPool", ["r"], ["p"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc_w", "fc_b"], ["logits"], name="fc"),
    ]
    g = helper.make_graph(nodes, "digits_cnn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 1, 8, 8])],
                          [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 10])],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)], producer_name="digits.py")
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnxc")
    ap.add_argument("work")
    ap.add_argument("--epochs", type=int, default=30)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(2024)
    d = load_digits()
    x = (d.images / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    y = d.target.astype(np.int64)
    p = rng.permutation(len(y))
    x, y = x[p], y[p]
    ntest = int(0.2 * len(y))
    model = os.path.join(a.work, "digits.onnx")
    make_model(model, rng)
    np.save(os.path.join(a.work, "x.npy"), x)
    np.save(os.path.join(a.work, "y.npy"), y)
    saved = os.path.join(a.work, "digits_trained.onnx")
    pred = os.path.join(a.work, "pred.npy")
    cmd = [a.onnxc, "train", model, "--x", os.path.join(a.work, "x.npy"), "--y",
           os.path.join(a.work, "y.npy"), "--loss", "ce", "--optimizer", "adam", "--lr", "0.01",
           "--epochs", str(a.epochs), "--batch", "32", "--seed", "1", "--val", "0.2",
           "--save", saved, "--predict", pred]
    r = subprocess.run(cmd, capture_output=True, text=True)
    print(r.stdout)
    if r.returncode != 0:
        print(r.stderr)
        print("FAIL: onnxc train failed")
        return 1
    acc = float(re.search(r"accuracy\s+([0-9.]+)", r.stdout.split("evaluation")[1]).group(1))
    ours = np.load(pred)
    xt = x[len(y) - ntest:]
    # the saved model, compiled again for inference
    m = onnx.load(saved)
    onnx.checker.check_model(m)
    data = os.path.join(a.work, "data")
    os.makedirs(data, exist_ok=True)
    with open(os.path.join(data, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(xt, "x").SerializeToString())
    with open(os.path.join(data, "output_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(ours, "logits").SerializeToString())
    out = os.path.join(a.work, "out")
    r2 = subprocess.run([a.onnxc, "run", saved, "--data", data, "--out", out, "--shape",
                         "x=%d,1,8,8" % ntest, "--rtol", "1e-4", "--atol", "1e-5"],
                        capture_output=True, text=True)
    print(r2.stdout.strip(), r2.stderr.strip())
    again = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "output_0.pb")))
    same = int((again.argmax(1) == ours.argmax(1)).sum())
    print("test accuracy %.4f (need >= 0.97); saved model recompiled: %d/%d same predictions, "
          "largest difference %.3g" % (acc, same, ntest, float(np.abs(again - ours).max())))
    if acc < 0.97 or same != ntest or r2.returncode != 0:
        print("FAIL")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
