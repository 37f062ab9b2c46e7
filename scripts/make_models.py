#!/usr/bin/python3
"""make_models.py - export the models onnxc's pass tests and benchmarks use, with random weights.

    /usr/bin/python3 scripts/make_models.py OUTDIR [NAME ...]     (default: every model)

NAME is one of: mlp, lenet, resnet18, mobilenetv2, transformer, lstm. For each model it writes
    OUTDIR/NAME.onnx                              the model (static shapes, opset 13)
    OUTDIR/NAME/test_data_set_0/input_0.pb        a random input (ONNX TensorProto)
    OUTDIR/NAME/test_data_set_0/output_0.pb       torch's output for it (the reference)
so that `onnxc run OUTDIR/NAME.onnx --data OUTDIR/NAME/test_data_set_0` checks onnxc against
torch. Weights and inputs come from a fixed seed. ResNet-18 and MobileNetV2 are defined here in
plain torch (Debian has no torchvision), layer for layer as torchvision defines them, and put in
eval mode (BatchNormalization with random running statistics, so bn_fold has work to do).
Opset 13 makes torch export LayerNorm and GELU decomposed (ReduceMean/Sub/Pow/..., Div/Erf/
Add/Mul/Mul), which is what the pattern fusions of onnxc -O3 recognise.

Never commit the outputs: they go to a build directory (ResNet-18 is 45 MB).
Needs /usr/bin/python3 with torch and onnx (Debian python3-torch, python3-onnx).
"""
import os
import sys

import numpy as np

try:
    import torch
    import torch.nn as nn
except ImportError:  # the callers check for this exit status and skip
    sys.stderr.write("make_models.py: torch is not installed (apt install python3-torch)\n")
    sys.exit(3)
import onnx
from onnx import numpy_helper

OPSET = 13


# ----------------------------------------------------------------------------- models

class MLP(nn.Module):
    """Dense(10, relu) -> Dense(1) on 9 features."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(9, 10)
        self.fc2 = nn.Linear(10, 1)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class LeNet(nn.Module):
    """LeNet-5 style: two conv+relu+maxpool stages, three dense layers, 28x28 input."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.conv1(x)), 2)
        x = torch.max_pool2d(torch.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                      nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (self.down(x) if self.down is not None else x))


class ResNet18(nn.Module):
    """torchvision's resnet18 (BasicBlock, [2, 2, 2, 2]), 1000 classes."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers = []
        cin = 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(512, 1000)

    def forward(self, x):
        x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
        x = self.layers(x)
        x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


def conv_bn(cin, cout, k, stride, groups=1, act=True):
    layers = [nn.Conv2d(cin, cout, k, stride, (k - 1) // 2, groups=groups, bias=False),
              nn.BatchNorm2d(cout)]
    if act:
        layers.append(nn.ReLU6())
    return nn.Sequential(*layers)


class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, stride, expand):
        super().__init__()
        hidden = cin * expand
        self.use_res = stride == 1 and cin == cout
        layers = [] if expand == 1 else [conv_bn(cin, hidden, 1, 1)]
        layers += [conv_bn(hidden, hidden, 3, stride, groups=hidden),
                   conv_bn(hidden, cout, 1, 1, act=False)]
        self.conv = nn.Sequential(*layers)

    def forward(self, x):
        return x + self.conv(x) if self.use_res else self.conv(x)


class MobileNetV2(nn.Module):
    """torchvision's mobilenet_v2 (width 1.0), 1000 classes, dropout omitted (inference)."""

    def __init__(self):
        super().__init__()
        cfg = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1),
               (6, 160, 3, 2), (6, 320, 1, 1)]
        layers = [conv_bn(3, 32, 3, 2)]
        cin = 32
        for t, c, n, s in cfg:
            for i in range(n):
                layers.append(InvertedResidual(cin, c, s if i == 0 else 1, t))
                cin = c
        layers.append(conv_bn(cin, 1280, 1, 1))
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(1280, 1000)

    def forward(self, x):
        x = self.features(x)
        x = torch.flatten(torch.nn.functional.adaptive_avg_pool2d(x, 1), 1)
        return self.classifier(x)


class Transformer(nn.Module):
    """A 2-layer transformer encoder (d_model 64, 4 heads, feed-forward 128, GELU)."""

    def __init__(self):
        super().__init__()
        layer = nn.TransformerEncoderLayer(64, 4, 128, dropout=0.0, activation="gelu",
                                           batch_first=True)
        self.enc = nn.TransformerEncoder(layer, 2, enable_nested_tensor=False)

    def forward(self, x):
        return self.enc(x)


class LSTMModel(nn.Module):
    """One LSTM layer (16 -> 32) over 10 steps, then a dense layer on the last step."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(16, 32)
        self.fc = nn.Linear(32, 4)

    def forward(self, x):
        y, _ = self.lstm(x)
        return self.fc(y[-1])


MODELS = {
    "mlp": (MLP, (32, 9)),
    "lenet": (LeNet, (1, 1, 28, 28)),
    "resnet18": (ResNet18, (1, 3, 224, 224)),
    "mobilenetv2": (MobileNetV2, (1, 3, 224, 224)),
    "transformer": (Transformer, (1, 16, 64)),
    "lstm": (LSTMModel, (10, 1, 16)),
}


def randomise_bn(model, gen):
    """Random running statistics and affine parameters, so that BatchNorm is not an identity."""
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            m.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def export(name, outdir):
    cls, shape = MODELS[name]
    torch.manual_seed(1234)
    gen = torch.Generator().manual_seed(4321)
    model = cls().eval()
    with torch.no_grad():
        randomise_bn(model, gen)
        x = torch.randn(*shape, generator=gen)
        y = model(x)
    # exported with gradients enabled: under no_grad torch 1.13 takes the fused "fast path"
    # of TransformerEncoderLayer, which has no ONNX export. TrainingMode.PRESERVE keeps the
    # (eval-mode) BatchNormalization nodes that TrainingMode.EVAL would fold into the Convs
    # itself: folding them is onnxc's job (bn_fold).
    path = os.path.join(outdir, name + ".onnx")
    torch.onnx.export(model, (x,), path, input_names=["input"], output_names=["output"],
                      opset_version=OPSET, do_constant_folding=True,
                      training=torch.onnx.TrainingMode.PRESERVE)
    onnx.checker.check_model(onnx.load(path))
    data = os.path.join(outdir, name, "test_data_set_0")
    os.makedirs(data, exist_ok=True)
    for fname, t, tname in (("input_0.pb", x, "input"), ("output_0.pb", y, "output")):
        tp = numpy_helper.from_array(t.numpy().astype(np.float32), tname)
        with open(os.path.join(data, fname), "wb") as f:
            f.write(tp.SerializeToString())
    print("%s: %s (%d bytes), input %s, output %s" % (name, path, os.path.getsize(path),
                                                      list(x.shape), list(y.shape)))


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 2
    outdir = argv[1]
    names = argv[2:] or list(MODELS)
    for n in names:
        if n not in MODELS:
            sys.stderr.write("make_models.py: unknown model %s (known: %s)\n" %
                             (n, ", ".join(MODELS)))
            return 2
    os.makedirs(outdir, exist_ok=True)
    for n in names:
        export(n, outdir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
