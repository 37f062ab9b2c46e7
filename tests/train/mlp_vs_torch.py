#!/usr/bin/env python3
"""mlp_vs_torch.py - onnxc train against PyTorch on examples/mlp.onnx (docs/TRAINING.md).

Dense(10, relu) -> Dense(1), Adam (lr 0.01) + MSE, 100 epochs, batch 32, 1,000 samples: the same
initial weights (read from the .onnx), the same data and the same batch order (onnxc's seeded
splitmix64 / Fisher-Yates permutation, reproduced here; the 8 samples of the last partial batch
are dropped on both sides). Compares the mean batch loss of every epoch; exit 0 when every epoch
agrees within --rtol (default 1e-4) relative. Exit 77 when torch/onnx are missing.

usage: mlp_vs_torch.py ONNXC_BINARY MODEL.onnx WORKDIR [--epochs N] [--rtol R] [--bench]
"""
import argparse
import os
import subprocess
import sys
import time

try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
    import torch
except ImportError as e:  # pragma: no cover
    print("SKIP: needs numpy, onnx and torch in /usr/bin/python3 (%s)" % e)
    sys.exit(77)

M64 = (1 << 64) - 1


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & M64
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return state, z ^ (z >> 31)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnxc")
    ap.add_argument("model")
    ap.add_argument("work")
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--bench", action="store_true")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    rng = np.random.default_rng(1234)
    n, batch, lr = 1000, 32, 0.01
    x = rng.normal(size=(n, 9)).astype(np.float32)
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] * x[:, 2:3] - 0.3 * x[:, 3:4]
         + 0.05 * rng.normal(size=(n, 1))).astype(np.float32)
    xp, yp = os.path.join(a.work, "x.npy"), os.path.join(a.work, "y.npy")
    np.save(xp, x)
    np.save(yp, y)
    log = os.path.join(a.work, "onnxc_loss.txt")
    cmd = [a.onnxc, "train", a.model, "--x", xp, "--y", yp, "--loss", "mse", "--optimizer", "adam",
           "--lr", str(lr), "--epochs", str(a.epochs), "--batch", str(batch), "--seed", str(a.seed),
           "--loss-log", log, "--save", os.path.join(a.work, "mlp_trained.onnx")]
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True)
    t_onnxc = time.time() - t0
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        print("FAIL: onnxc train failed")
        return 1
    ours = [float(v) for v in open(log).read().split()]

    # PyTorch, same weights and batch order
    torch.manual_seed(0)
    torch.set_num_threads(1)
    m = onnx.load(a.model)
    w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    l1, l2 = torch.nn.Linear(9, 10), torch.nn.Linear(10, 1)
    with torch.no_grad():
        l1.weight.copy_(torch.from_numpy(w["dense1_w"].T.copy()))
        l1.bias.copy_(torch.from_numpy(w["dense1_b"].copy()))
        l2.weight.copy_(torch.from_numpy(w["dense2_w"].T.copy()))
        l2.bias.copy_(torch.from_numpy(w["dense2_b"].copy()))
    net = torch.nn.Sequential(l1, torch.nn.ReLU(), l2)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    lossf = torch.nn.MSELoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    perm = list(range(n))
    state = a.seed
    theirs = []
    t0 = time.time()
    for ep in range(a.epochs):
        for i in range(n - 1, 0, -1):
            state, z = splitmix(state)
            j = z % (i + 1)
            perm[i], perm[j] = perm[j], perm[i]
        total, nb = 0.0, n // batch
        for b in range(nb):
            idx = torch.tensor(perm[b * batch:(b + 1) * batch])
            opt.zero_grad()
            loss = lossf(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item()
        theirs.append(total / nb)
    t_torch = time.time() - t0
    if len(ours) != len(theirs):
        print("FAIL: %d epochs from onnxc, %d from torch" % (len(ours), len(theirs)))
        return 1
    worst, worst_ep = 0.0, 0
    for e, (p, q) in enumerate(zip(ours, theirs)):
        rel = abs(p - q) / max(abs(q), 1e-30)
        if rel > worst:
            worst, worst_ep = rel, e + 1
    for e in (0, 1, 9, 49, a.epochs - 1):
        if e < len(ours):
            print("epoch %3d  onnxc %.9f  torch %.9f" % (e + 1, ours[e], theirs[e]))
    print("largest relative difference %.3g (epoch %d), tolerance %g" % (worst, worst_ep, a.rtol))
    if a.bench:
        import re
        ms = [float(v) for v in re.findall(r"([0-9.]+) ms$", r.stdout, re.M)]
        print("time per epoch (31 steps of batch 32, training only): onnxc %.3f ms, "
              "PyTorch %.3f ms (1 thread); onnxc train total incl. compile %.1f s"
              % (sum(ms) / max(len(ms), 1), 1000 * t_torch / a.epochs, t_onnxc))
    if worst > a.rtol:
        print("FAIL")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
