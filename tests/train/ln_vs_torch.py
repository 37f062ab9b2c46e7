#!/usr/bin/env python3
"""ln_vs_torch.py - onnxc train through a LayerNormalization gradient against PyTorch
(docs/GRAD_RULES.md).

Gemm(9->16) -> LayerNormalization(16) -> Relu -> Gemm(16->1), Adam (lr 0.01) + MSE, 20 epochs,
batch 32, 512 samples in order (--no-shuffle), the same initial weights on both sides (the LN
scale and bias are trained too). Exit 0 when the loss decreases (last epoch below half the first)
and every epoch's mean batch loss agrees with PyTorch within --rtol (default 1e-4) relative.
Exit 77 when torch/onnx are missing.

usage: ln_vs_torch.py ONNXC_BINARY WORKDIR [--rtol R]
"""
import argparse
import os
import subprocess
import sys

try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto
    import torch
except ImportError as e:  # pragma: no cover
    print("SKIP: needs numpy, onnx and torch in /usr/bin/python3 (%s)" % e)
    sys.exit(77)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnxc")
    ap.add_argument("work")
    ap.add_argument("--rtol", type=float, default=1e-4)
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(5)
    w = {
        "W1": (rng.normal(size=(9, 16)) * 0.3).astype(np.float32),
        "b1": np.zeros(16, np.float32),
        "g": (1 + 0.1 * rng.normal(size=16)).astype(np.float32),
        "be": (0.1 * rng.normal(size=16)).astype(np.float32),
        "W2": (rng.normal(size=(16, 1)) * 0.3).astype(np.float32),
        "b2": np.zeros(1, np.float32),
    }
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["h1"]),
             helper.make_node("LayerNormalization", ["h1", "g", "be"], ["h2"], axis=-1, epsilon=1e-5),
             helper.make_node("Relu", ["h2"], ["h3"]),
             helper.make_node("Gemm", ["h3", "W2", "b2"], ["pred"])]
    graph = helper.make_graph(nodes, "ln_mlp", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [32, 9])],
                              [helper.make_tensor_value_info("pred", TensorProto.FLOAT, [32, 1])],
                              [numpy_helper.from_array(v, k) for k, v in w.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    mp = os.path.join(a.work, "ln_mlp.onnx")
    onnx.save(model, mp)
    n, batch, epochs, lr = 512, 32, 20, 0.01
    x = rng.normal(size=(n, 9)).astype(np.float32)
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3]).astype(np.float32)
    xp, yp, log = (os.path.join(a.work, f) for f in ("x.npy", "y.npy", "loss.txt"))
    np.save(xp, x)
    np.save(yp, y)
    cmd = [a.onnxc, "train", mp, "--x", xp, "--y", yp, "--loss", "mse", "--optimizer", "adam",
           "--lr", str(lr), "--epochs", str(epochs), "--batch", str(batch), "--no-shuffle",
           "--loss-log", log]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        print("FAIL: onnxc train exited with %d" % r.returncode)
        return 1
    mine = [float(l.split()[-1]) for l in open(log) if l.strip() and not l.startswith("#")]
    tw = {k: torch.tensor(v.copy(), requires_grad=True) for k, v in w.items()}
    opt = torch.optim.Adam(list(tw.values()), lr=lr)
    xt, yt = torch.tensor(x), torch.tensor(y)
    ref = []
    for _ in range(epochs):
        tot = 0.0
        for b in range(0, n, batch):
            h1 = xt[b:b + batch] @ tw["W1"] + tw["b1"]
            h2 = torch.nn.functional.layer_norm(h1, (16,), tw["g"], tw["be"], 1e-5)
            p = torch.relu(h2) @ tw["W2"] + tw["b2"]
            loss = ((p - yt[b:b + batch]) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            tot += loss.item()
        ref.append(tot / (n // batch))
    if len(mine) != epochs:
        print("FAIL: %d epochs logged" % len(mine))
        return 1
    worst = max(abs(m - t) / abs(t) for m, t in zip(mine, ref))
    print("loss %.6f -> %.6f (PyTorch %.6f -> %.6f), largest relative difference %.2e"
          % (mine[0], mine[-1], ref[0], ref[-1], worst))
    if worst > a.rtol or not mine[-1] < 0.5 * mine[0]:
        print("FAIL")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
