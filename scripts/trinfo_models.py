#!/usr/bin/python3
"""Models carrying ONNX TrainingInfoProto for tests/test_trinfo.c (docs/TRAINING.md section
"TrainingInfoProto"), plus a numpy re-computation of their training steps.

usage: trinfo_models.py OUTDIR     (exit 77 when onnx or numpy is missing)

Writes into OUTDIR:
  linear_momentum.onnx  y = X W + B (X [4,3], W [3,2], B [2]); training_info[0]:
      initialization: Constant W0 -> W, Constant T0 (int64 0) -> T (an algorithm initializer)
      algorithm (inputs: Yt [4,2]): L = ReduceMean((Y - Yt)^2); dW, dB = Gradient(W, B) of L;
      W', B', VW', VB' = Momentum(R, T, W, B, dW, dB, VW, VB) (ai.onnx.preview.training,
      standard mode, alpha 0.9, beta 0.8, norm_coefficient 0.01); T' = T + 1;
      outputs L, W', B', VW', VB', T'; update_binding W, B, VW, VB, T
  linear_adam.onnx      the same with Adam (alpha 0.9, beta 0.999, epsilon 1e-6,
      norm_coefficient 0.001; state M and V for W and B) and no initialization graph
  X.bin, Yt.bin         float32 batch (row-major)
  ref_momentum.bin, ref_adam.bin: float64 little-endian: for each of STEPS steps the loss, then
      the final W (6 values), B (2) after STEPS steps, then the initial W, B (after the
      initialization)
  bad_key.onnx          update_binding names 'Wx', not an initializer
  bad_type.onnx         update_binding B <- W' (float[3,2] for float[2])
  bad_init_out.onnx     initialization_binding W <- 'nothing' (not an initialization output)
  random_init.onnx      initialization RandomNormal -> W (not computable at compile time)
  two_algorithms.onnx   two training_info entries with an algorithm each
  init_only.onnx        an empty algorithm and the initialization W <- W0: --loss/--optimizer
                        training starting from W0
"""
import os
import sys

try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError:
    sys.exit(77)

STEPS = 20
OPS = [helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.preview.training", 1)]
TR = "ai.onnx.preview.training"

W_STORED = np.array([[0.5, -0.25], [0.125, 1.0], [-0.75, 0.375]], np.float32)
B_STORED = np.array([0.1, -0.2], np.float32)
W_INIT = np.array([[0.25, 0.5], [-0.5, 0.75], [1.0, -1.0]], np.float32)


def main_graph():
    return helper.make_graph(
        [helper.make_node("MatMul", ["X", "W"], ["XW"], name="mm"),
         helper.make_node("Add", ["XW", "B"], ["Y"], name="add")],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [4, 3])],
        [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [4, 2])],
        [numpy_helper.from_array(W_STORED, "W"), numpy_helper.from_array(B_STORED, "B")])


def loss_nodes():
    return [helper.make_node("Sub", ["Y", "Yt"], ["D"], name="sub"),
            helper.make_node("Mul", ["D", "D"], ["D2"], name="sq"),
            helper.make_node("ReduceMean", ["D2"], ["L"], name="mean", keepdims=0),
            helper.make_node("Gradient", ["W", "B"], ["dW", "dB"], name="grad", domain=TR,
                             xs=["W", "B"], y="L"),
            helper.make_node("Constant", [], ["one"], name="one",
                             value=numpy_helper.from_array(np.array(1, np.int64))),
            helper.make_node("Add", ["T", "one"], ["T_new"], name="tick")]


def vi(name, dt, shape):
    return helper.make_tensor_value_info(name, dt, shape)


def algo_outputs(extra):
    return ([vi("L", TensorProto.FLOAT, []), vi("W_new", TensorProto.FLOAT, [3, 2]),
             vi("B_new", TensorProto.FLOAT, [2])] + extra + [vi("T_new", TensorProto.INT64, [])])


def momentum_algorithm():
    nodes = loss_nodes() + [helper.make_node(
        "Momentum", ["R", "T", "W", "B", "dW", "dB", "VW", "VB"],
        ["W_new", "B_new", "VW_new", "VB_new"], name="momentum", domain=TR, alpha=0.9, beta=0.8,
        mode="standard", norm_coefficient=0.01)]
    inits = [numpy_helper.from_array(np.array(0.05, np.float32), "R"),
             numpy_helper.from_array(np.array(7, np.int64), "T"),
             numpy_helper.from_array(np.zeros((3, 2), np.float32), "VW"),
             numpy_helper.from_array(np.zeros(2, np.float32), "VB")]
    outs = algo_outputs([vi("VW_new", TensorProto.FLOAT, [3, 2]),
                         vi("VB_new", TensorProto.FLOAT, [2])])
    return helper.make_graph(nodes, "momentum_step", [vi("Yt", TensorProto.FLOAT, [4, 2])], outs,
                             inits)


def adam_algorithm():
    nodes = loss_nodes() + [helper.make_node(
        "Adam", ["R", "T", "W", "B", "dW", "dB", "MW", "MB", "VW", "VB"],
        ["W_new", "B_new", "MW_new", "MB_new", "VW_new", "VB_new"], name="adam", domain=TR,
        alpha=0.9, beta=0.999, epsilon=1e-6, norm_coefficient=0.001)]
    inits = [numpy_helper.from_array(np.array(0.05, np.float32), "R"),
             numpy_helper.from_array(np.array(0, np.int64), "T")]
    for p, shp in (("W", (3, 2)), ("B", (2,))):
        inits += [numpy_helper.from_array(np.zeros(shp, np.float32), "M" + p),
                  numpy_helper.from_array(np.zeros(shp, np.float32), "V" + p)]
    outs = algo_outputs([vi("MW_new", TensorProto.FLOAT, [3, 2]),
                         vi("MB_new", TensorProto.FLOAT, [2]),
                         vi("VW_new", TensorProto.FLOAT, [3, 2]),
                         vi("VB_new", TensorProto.FLOAT, [2])])
    return helper.make_graph(nodes, "adam_step", [vi("Yt", TensorProto.FLOAT, [4, 2])], outs,
                             inits)


def initialization(random=False):
    if random:
        w0 = helper.make_node("RandomNormal", [], ["W0"], name="rand", shape=[3, 2], seed=1.0)
    else:
        w0 = helper.make_node("Constant", [], ["W0"], name="w0",
                              value=numpy_helper.from_array(W_INIT))
    t0 = helper.make_node("ConstantOfShape", ["shape0"], ["T0"], name="t0",
                          value=numpy_helper.from_array(np.array([0], np.int64)))
    s0 = helper.make_node("Constant", [], ["shape0"], name="s0",
                          value=numpy_helper.from_array(np.zeros(0, np.int64)))
    return helper.make_graph([w0, s0, t0], "init", [],
                             [vi("W0", TensorProto.FLOAT, [3, 2]), vi("T0", TensorProto.INT64, [])])


def model(infos):
    m = helper.make_model(main_graph(), opset_imports=OPS, producer_name="trinfo_models.py")
    m.ir_version = 8
    for t in infos:
        m.training_info.append(t)
    return m


MOM_BIND = [("W", "W_new"), ("B", "B_new"), ("VW", "VW_new"), ("VB", "VB_new"), ("T", "T_new")]
ADAM_BIND = [("W", "W_new"), ("B", "B_new"), ("MW", "MW_new"), ("MB", "MB_new"),
             ("VW", "VW_new"), ("VB", "VB_new"), ("T", "T_new")]
INIT_BIND = [("W", "W0"), ("T", "T0")]


def grads(X, Yt, W, B):
    Y = X @ W + B
    D = Y - Yt
    L = np.mean(D * D)
    dY = 2.0 * D / D.size
    return L, X.T @ dY, dY.sum(axis=0)


def ref_momentum(X, Yt):
    """ONNX Momentum (standard): G' = norm * X + G; beta' = beta if T > 0 else 1;
    V' = alpha V + beta' G'; X' = X - R V'. T starts at 0 (the initialization's T0)."""
    W, B = W_INIT.astype(np.float64), B_STORED.astype(np.float64)
    VW, VB = np.zeros_like(W), np.zeros_like(B)
    T, R, alpha, beta, norm = 0, 0.05, 0.9, 0.8, 0.01
    losses = []
    for _ in range(STEPS):
        L, gW, gB = grads(X, Yt, W, B)
        losses.append(L)
        bt = beta if T > 0 else 1.0
        VW = alpha * VW + bt * (norm * W + gW)
        VB = alpha * VB + bt * (norm * B + gB)
        W, B, T = W - R * VW, B - R * VB, T + 1
    return losses, W, B, W_INIT, B_STORED


def ref_adam(X, Yt):
    """ONNX Adam: G' = norm * X + G; V' = alpha V + (1 - alpha) G'; H' = beta H + (1 - beta) G'^2;
    R' = R sqrt(1 - beta^T) / (1 - alpha^T) if T > 0 else R; X' = X - R' V' / (sqrt(H') + eps)."""
    W, B = W_STORED.astype(np.float64), B_STORED.astype(np.float64)
    st = {"W": [np.zeros_like(W), np.zeros_like(W)], "B": [np.zeros_like(B), np.zeros_like(B)]}
    T, R, alpha, beta, eps, norm = 0, 0.05, 0.9, 0.999, 1e-6, 0.001
    losses = []
    for _ in range(STEPS):
        L, gW, gB = grads(X, Yt, W, B)
        losses.append(L)
        new = {}
        for p, x, g in (("W", W, gW), ("B", B, gB)):
            g = norm * x + g
            m, v = st[p]
            m = alpha * m + (1 - alpha) * g
            v = beta * v + (1 - beta) * g * g
            r = R * np.sqrt(1 - beta ** T) / (1 - alpha ** T) if T > 0 else R
            new[p] = x - r * m / (np.sqrt(v) + eps)
            st[p] = [m, v]
        W, B, T = new["W"], new["B"], T + 1
    return losses, W, B, W_STORED, B_STORED


def write_ref(path, r):
    losses, W, B, W0, B0 = r
    np.concatenate([np.array(losses, np.float64), W.ravel(), B.ravel(), W0.ravel().astype(np.float64),
                    B0.ravel().astype(np.float64)]).astype("<f8").tofile(path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(5)
    X = rng.standard_normal((4, 3)).astype(np.float32)
    Yt = (X @ np.array([[1.0, -1.0], [0.5, 2.0], [-1.5, 0.25]]) + [0.3, -0.4]).astype(np.float32)
    X.astype("<f4").tofile(os.path.join(out, "X.bin"))
    Yt.astype("<f4").tofile(os.path.join(out, "Yt.bin"))
    X64, Yt64 = X.astype(np.float64), Yt.astype(np.float64)

    def save(name, infos):
        onnx.save(model(infos), os.path.join(out, name))

    ti = helper.make_training_info
    save("linear_momentum.onnx", [ti(momentum_algorithm(), MOM_BIND, initialization(), INIT_BIND)])
    write_ref(os.path.join(out, "ref_momentum.bin"), ref_momentum(X64, Yt64))
    save("linear_adam.onnx", [ti(adam_algorithm(), ADAM_BIND, None, None)])
    write_ref(os.path.join(out, "ref_adam.bin"), ref_adam(X64, Yt64))
    bad = [("Wx", "W_new")] + MOM_BIND[1:]
    save("bad_key.onnx", [ti(momentum_algorithm(), bad, None, None)])
    bad = [("W", "W_new"), ("B", "W_new")] + MOM_BIND[2:]
    save("bad_type.onnx", [ti(momentum_algorithm(), bad, None, None)])
    save("bad_init_out.onnx", [ti(momentum_algorithm(), MOM_BIND, initialization(),
                                  [("W", "nothing")])])
    save("random_init.onnx", [ti(momentum_algorithm(), MOM_BIND, initialization(random=True),
                                 INIT_BIND)])
    save("two_algorithms.onnx", [ti(momentum_algorithm(), MOM_BIND, None, None),
                                 ti(helper.make_graph([helper.make_node("Identity", ["Y"], ["Z"])],
                                                      "second", [], [vi("Z", TensorProto.FLOAT,
                                                                        [4, 2])]), [], None,
                                    None)])
    save("init_only.onnx", [ti(helper.make_graph([], "empty", [], []), [], initialization(),
                               [("W", "W0")])])
    return 0


if __name__ == "__main__":
    sys.exit(main())
