#!/usr/bin/python3
"""optimize_check.py LIST OUTDIR - checks the models `onnxc optimize` wrote (tests/test_passes.c,
test_optimize_portable).

LIST has one line per model: NAME<TAB>ORIGINAL.onnx<TAB>OPTIMIZED.onnx. For each:
  - onnx.checker.check_model(optimized, full_check=True) must pass whenever it passes on the
    original (an original the installed onnx cannot check, e.g. a newer opset, is reported);
  - every op of the optimized model is of the default ONNX domain (or a domain the original
    already imported), and its opset imports are the original's;
  - random inputs (float inputs only; dynamic dims set to 1) are written to OUTDIR/NAME.json
    ({"inputs": {name: {"dims": [...], "data": [...]}}}) for tests/optimize_ort.js, which runs
    both models with onnxruntime and compares the outputs.
Prints one line per model; exit status 1 when a check fails.
"""
import json
import sys

import numpy as np
import onnx


def opsets(m):
    return {(o.domain or "ai.onnx"): o.version for o in m.opset_import}


def main():
    lst, outdir = sys.argv[1], sys.argv[2]
    bad = 0
    rng = np.random.default_rng(7)
    for line in open(lst):
        name, orig, opt = line.rstrip("\n").split("\t")
        mo, mp = onnx.load(orig), onnx.load(opt)
        try:
            onnx.checker.check_model(mo, full_check=True)
            orig_ok = True
        except Exception as e:  # noqa: BLE001 - any checker failure
            orig_ok = False
            print(f"{name}: original not checkable by onnx {onnx.__version__}: "
                  f"{str(e).splitlines()[0][:120]}")
        if orig_ok:
            try:
                onnx.checker.check_model(mp, full_check=True)
                print(f"{name}: checker ok ({len(mo.graph.node)} -> {len(mp.graph.node)} nodes)")
            except Exception as e:  # noqa: BLE001
                print(f"{name}: CHECKER FAILED on the optimized model: {e}")
                bad = 1
        so, sp = opsets(mo), opsets(mp)
        if so != sp:
            print(f"{name}: OPSET IMPORTS CHANGED {so} -> {sp}")
            bad = 1
        for n in mp.graph.node:
            if (n.domain or "ai.onnx") not in so:
                print(f"{name}: NON-STANDARD OP {n.domain}.{n.op_type} ({n.name})")
                bad = 1
                break
        inits = {t.name for t in mo.graph.initializer}
        feeds = {}
        for vi in mo.graph.input:
            if vi.name in inits:
                continue
            tt = vi.type.tensor_type
            if tt.elem_type != onnx.TensorProto.FLOAT:
                feeds = None
                break
            dims = [d.dim_value if d.dim_value > 0 else 1 for d in tt.shape.dim]
            a = rng.standard_normal(dims).astype(np.float32)
            feeds[vi.name] = {"dims": dims, "data": [float(x) for x in a.ravel()]}
        if feeds is None:
            print(f"{name}: inputs not all float32: not run")
            continue
        with open(f"{outdir}/{name}.json", "w") as f:
            json.dump({"inputs": feeds}, f)
    sys.exit(bad)


main()
