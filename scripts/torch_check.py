#!/usr/bin/env python3
"""Loads the vgg engine's checkpoints into PyTorch with load_state_dict(strict=True) and checks
that PyTorch computes the same evaluation-mode logits as the Go forward pass.

    VGG_TORCH_CHECK_DIR=/tmp/tc go test ./nn -run TorchCheck
    python3 scripts/torch_check.py /tmp/tc

For each architecture directory (vgg-d, vgg-d-bn) the Go test wrote model.safetensors, a
batch input.f32 [N, 3, S, S] and the Go logits logits.f32 [N, classes]. The safetensors file is
parsed by hand (the safetensors package is not needed): 8-byte little-endian header length,
JSON header {name: {dtype, shape, data_offsets}}, raw little-endian data.

A trained model against `vgg match` itself, on the pictures `go run ./bench/facedump` writes
(the same decoding, centre square and resize as `vgg match --aligned`):

    vgg match --model M.safetensors --aligned --json --top 100 PHOTOS... > match.json
    python3 scripts/torch_check.py --match M.safetensors match.json DUMP

compares every probability vgg printed with PyTorch's softmax of the strictly loaded model.
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


def load_model(path):
    """The checkpoint at path in PyTorch, strictly loaded, in evaluation mode."""
    state, meta = read_safetensors(path)
    arch = meta.get("arch", "vgg-d")
    classes, size = len(json.loads(meta["classes"])), int(meta["input_size"])
    model = VGGD(classes, size, int(meta["width_divisor"]), arch == "vgg-d-bn")
    model.load_state_dict(state, strict=True)  # raises on a missing, extra or misshapen tensor
    return model.eval(), state, meta, arch, classes, size


def check_match(model_path, match_json, dump):
    """vgg match's probabilities against PyTorch's for the same pictures."""
    model, _, meta, arch, _, size = load_model(model_path)
    names = json.loads(meta["classes"])
    mean = torch.tensor(json.loads(meta["mean"])).view(1, 3, 1, 1)
    std = torch.tensor(json.loads(meta["std"])).view(1, 3, 1, 1)
    dmeta = json.load(open(os.path.join(dump, "meta.json")))
    pix = torch.frombuffer(bytearray(open(os.path.join(dump, "val_x.u8"), "rb").read()), dtype=torch.uint8)
    pix = pix.reshape(-1, 3, size, size)
    index = {os.path.realpath(p): i for i, p in enumerate(dmeta["val_paths"])}
    worst, compared = 0.0, 0
    for answer in json.load(open(match_json)):
        i = index[os.path.realpath(answer["photo"])]
        with torch.no_grad():
            probs = model((pix[i:i + 1].float() / 255 - mean) / std).softmax(1)[0]
        for m in answer["matches"]:
            worst = max(worst, abs(probs[names.index(m["identity"])].item() - m["probability"]))
            compared += 1
    print(f"{arch}: {compared} probabilities of vgg match against PyTorch: max difference {worst:.3g}")
    return worst <= 1e-4


def check(directory):
    model, state, meta, arch, classes, size = load_model(os.path.join(directory, "model.safetensors"))
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
    if sys.argv[1] == "--match":
        sys.exit(0 if check_match(*sys.argv[2:5]) else 1)
    root = sys.argv[1]
    ok = all([check(os.path.join(root, d)) for d in sorted(os.listdir(root))])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
