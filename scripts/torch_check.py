#!/usr/bin/env python3
"""Loads the vgg engine's checkpoints into PyTorch with load_state_dict(strict=True) and checks
that PyTorch computes the same evaluation-mode logits as the Go forward pass.

    VGG_TORCH_CHECK_DIR=/tmp/tc go test ./nn -run TorchCheck
    python3 scripts/torch_check.py /tmp/tc

For each architecture directory (vgg-d, vgg-d-bn) the Go test wrote model.safetensors, a
batch input.f32 [N, 3, S, S] and the Go logits logits.f32 [N, classes]. The safetensors file is
parsed by hand (the safetensors package is not needed): 8-byte little-endian header length,
JSON header {name: {dtype, shape, data_offsets}}, raw little-endian data.
"""
import json
import os
import struct
import sys

import torch
from torch import nn

DTYPES = {"F32": torch.float32, "I64": torch.int64}
PLAN = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGGD(nn.Module):
    """VGG-16 configuration D as the vgg engine builds it: module indices = tensor names;
    with batch_norm, torchvision's vgg16_bn features layout (conv, bn, relu)."""

    def __init__(self, classes, input_size, width_divisor, batch_norm):
        super().__init__()
        layers, c = [], 3
        for v in PLAN:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            v //= width_divisor
            layers.append(nn.Conv2d(c, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
        self.cnn = nn.Sequential(*layers)
        h1, h2, side = 4096 // width_divisor, 2048 // width_divisor, input_size // 32
        self.fc = nn.Sequential(
            nn.Linear(c * side * side, h1), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(h1, h2), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(h2, classes))

    def forward(self, x):
        return self.fc(torch.flatten(self.cnn(x), 1))


def read_safetensors(path):
    """Returns ({name: tensor}, metadata)."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    data = raw[8 + n:]
    tensors = {}
    for name, e in header.items():
        begin, end = e["data_offsets"]
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=DTYPES[e["dtype"]])
        tensors[name] = t.reshape(e["shape"]).clone()
    return tensors, meta


def read_floats(path):
    with open(path, "rb") as f:
        return torch.frombuffer(bytearray(f.read()), dtype=torch.float32)


def check(directory):
    state, meta = read_safetensors(os.path.join(directory, "model.safetensors"))
    arch = meta.get("arch", "vgg-d")
    classes, size = len(json.loads(meta["classes"])), int(meta["input_size"])
    model = VGGD(classes, size, int(meta["width_divisor"]), arch == "vgg-d-bn")
    model.load_state_dict(state, strict=True)  # raises on a missing, extra or misshapen tensor
    model.eval()
    x = read_floats(os.path.join(directory, "input.f32")).reshape(-1, 3, size, size)
    want = read_floats(os.path.join(directory, "logits.f32")).reshape(x.shape[0], classes)
    with torch.no_grad():
        got = model(x)
    err = (got - want).abs().max().item()
    tracked = [v.item() for k, v in state.items() if k.endswith("num_batches_tracked")]
    print(f"{arch}: strict load OK ({len(state)} tensors, num_batches_tracked {sorted(set(tracked))}); "
          f"max |torch - go| logit difference {err:.3g} (logits up to {want.abs().max().item():.3g})")
    return err <= 1e-4


def main():
    root = sys.argv[1]
    ok = all([check(os.path.join(root, d)) for d in sorted(os.listdir(root))])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
