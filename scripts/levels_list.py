#!/usr/bin/python3
"""Writes tests/conformance_levels.txt: the expected-pass conformance tests that exercise the
optimisation passes, run again at -O0 and -O3 by scripts/test.sh.

usage: /usr/bin/python3 scripts/levels_list.py BACKEND_TESTS_DIR tests/conformance_expected_pass.txt > LIST
(needs python3-onnx; the header comment of tests/conformance_levels.txt is kept by hand)."""
import os
import sys

import onnx

REWRITTEN = {'Conv', 'Gemm', 'MatMul', 'BatchNormalization', 'Relu', 'Softmax',
             'LayerNormalization', 'Gelu', 'Transpose', 'Reshape', 'Cast', 'Identity', 'Dropout',
             'Expand', 'Sigmoid', 'Tanh', 'Add', 'Mul', 'Sub', 'Div', 'Erf', 'Sqrt', 'Pow',
             'ReduceMean', 'Clip', 'LeakyRelu', 'HardSigmoid', 'Flatten'}


def main():
    root, expected = sys.argv[1], sys.argv[2]
    tests = [l.strip() for l in open(expected) if l.strip() and not l.startswith('#')]
    out, nattn = [], 0
    for t in tests:
        if t.startswith('light/') or 'linear_attention' in t or 'flexattention' in t:
            continue
        try:
            m = onnx.load(os.path.join(root, t, 'model.onnx'), load_external_data=False)
        except Exception:
            continue
        ops = [n.op_type for n in m.graph.node]
        hit = [o for o in ops if o in REWRITTEN]
        if t.startswith(('pytorch-converted/', 'simple/', 'pytorch-operator/')):
            keep = len(hit) >= 1
        else:
            keep = len(ops) >= 2 and len(hit) >= 2
        if keep and t.startswith('node/test_attention'):
            nattn += 1
            keep = nattn % 8 == 0
        if keep:
            out.append(t)
    print('\n'.join(out))


if __name__ == '__main__':
    main()
