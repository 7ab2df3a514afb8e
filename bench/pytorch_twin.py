#!/usr/bin/env python3
"""PyTorch twin of the vgg engine's model, for speed comparison on the same GPU.

The same network as nn.VGGD (VGG-16 configuration D on 3x128x128 faces: 13 conv 3x3 pad 1 +
ReLU, 5 max-pools, FC 8192 -> 4096 -> 2048 -> classes with ReLU and dropout 0.5), trained with
SGD momentum 0.9, in float32 with TF32 OFF everywhere, so that cuDNN/cuBLAS do the same
arithmetic as the hand-written Go/CUDA kernels. Prints a table of
  - training-step images/s at batch 64 and 128, inference images/s at batch 256;
  - the per-op shapes of bench/ops_test.go (each conv layer forward / backward-data /
    backward-filter at batch 64, the linear layers, ReLU / max-pool / dropout over
    64x64x128x128) in GFLOP/s or GB/s, and a device-to-device copy as the memory ceiling.
Every time is the median of repeated runs timed with CUDA events after warm-up.

    python3 bench/pytorch_twin.py [--classes 60] [--json out.json]
"""
import argparse
import json
import statistics

import torch
import torch.nn as nn

torch.backends.cuda.matmul.allow_tf32 = False
torch.backends.cudnn.allow_tf32 = False
torch.backends.cudnn.benchmark = True  # let cuDNN pick its fastest algorithms

CFG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
CONVS = [("conv1_1", 3, 64, 128), ("conv1_2", 64, 64, 128), ("conv2_1", 64, 128, 64),
         ("conv2_2", 128, 128, 64), ("conv3_1", 128, 256, 32), ("conv3_2", 256, 256, 32),
         ("conv4_1", 256, 512, 16), ("conv4_2", 512, 512, 16), ("conv5_x", 512, 512, 8)]
LINEARS = [("fc1", 512 * 4 * 4, 4096), ("fc2", 4096, 2048), ("fc3", 2048, 60)]


def vgg_d(classes):
    layers, c = [], 3
    for v in CFG_D:
        if v == "M":
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.ReLU(inplace=True)]
            c = v
    return nn.Sequential(*layers, nn.Flatten(),
                         nn.Linear(512 * 4 * 4, 4096), nn.ReLU(inplace=True), nn.Dropout(0.5),
                         nn.Linear(4096, 2048), nn.ReLU(inplace=True), nn.Dropout(0.5),
                         nn.Linear(2048, classes))


def median_ms(fn, warmup=3, reps=10):
    """Median time of fn in milliseconds, timed with CUDA events after warm-up."""
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def model_rates(classes, dev):
    rows = []
    model = vgg_d(classes).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    loss_fn = nn.CrossEntropyLoss()
    for batch in (64, 128):
        x = torch.randn(batch, 3, 128, 128, device=dev)
        y = torch.randint(0, classes, (batch,), device=dev)
        model.train()

        def step():
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x), y).backward()
            opt.step()
        ms = median_ms(step)
        rows.append(("model", f"train step batch {batch}", ms, batch / ms * 1e3, "img/s"))
    model.eval()
    x = torch.randn(256, 3, 128, 128, device=dev)
    with torch.no_grad():
        ms = median_ms(lambda: model(x))
    rows.append(("model", "inference batch 256", ms, 256 / ms * 1e3, "img/s"))
    return rows


def op_rates(dev):
    rows, n = [], 64
    big = torch.randn(64, 64, 128, 128, device=dev)
    out = torch.empty_like(big)
    nbytes = big.numel() * 4
    ms = median_ms(lambda: out.copy_(big))
    rows.append(("memory", "copy 64x64x128x128", ms, 2 * nbytes / ms / 1e6, "GB/s"))
    for name, c, k, s in CONVS:
        x = torch.randn(n, c, s, s, device=dev)
        w = torch.randn(k, c, 3, 3, device=dev)
        b = torch.randn(k, device=dev)
        dy = torch.randn(n, k, s, s, device=dev)
        flops = 2 * n * k * c * 9 * s * s
        conv_bwd = torch.ops.aten.convolution_backward
        args = ([k], [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
        for what, fn in (
                ("forward", lambda: torch.nn.functional.conv2d(x, w, b, padding=1)),
                ("backward-data", lambda: conv_bwd(dy, x, w, *args, [True, False, False])),
                ("backward-filter", lambda: conv_bwd(dy, x, w, *args, [False, True, True]))):
            ms = median_ms(fn)
            rows.append(("conv", f"{name} {what}", ms, flops / ms / 1e6, "GFLOP/s"))
    for name, fin, fout in LINEARS:
        x = torch.randn(n, fin, device=dev, requires_grad=True)
        lin = nn.Linear(fin, fout).to(dev)
        flops = 2 * n * fin * fout
        ms = median_ms(lambda: lin(x))
        rows.append(("linear", f"{name} forward", ms, flops / ms / 1e6, "GFLOP/s"))
        y = lin(x)
        dy = torch.randn_like(y)
        ms = median_ms(lambda: torch.autograd.grad(y, [x, lin.weight, lin.bias], dy, retain_graph=True))
        rows.append(("linear", f"{name} backward", ms, 2 * flops / ms / 1e6, "GFLOP/s"))
    pooled_bytes = nbytes * 1.5
    grad = torch.randn_like(big)
    mask_y = torch.relu(big)
    pool_y, pool_idx = torch.nn.functional.max_pool2d(big, 2, 2, return_indices=True)
    pool_dy = torch.randn_like(pool_y)
    for what, fn, moved in (
            ("relu forward", lambda: torch.relu(big), 2 * nbytes),
            ("relu backward", lambda: torch.ops.aten.threshold_backward(grad, mask_y, 0), 3 * nbytes),
            ("maxpool forward", lambda: torch.nn.functional.max_pool2d(big, 2, 2, return_indices=True), pooled_bytes),
            ("maxpool backward", lambda: torch.ops.aten.max_pool2d_with_indices_backward(
                pool_dy, big, [2, 2], [2, 2], [0, 0], [1, 1], False, pool_idx), pooled_bytes),
            ("dropout forward", lambda: torch.nn.functional.dropout(big, 0.5, True), 2 * nbytes)):
        ms = median_ms(fn)
        rows.append(("memory", f"{what} 64x64x128x128", ms, moved / ms / 1e6, "GB/s"))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--classes", type=int, default=60)
    ap.add_argument("--json", help="also write the rows to this file")
    args = ap.parse_args()
    dev = torch.device("cuda")
    print(f"PyTorch {torch.__version__}, {torch.cuda.get_device_name(0)}, fp32, TF32 off, "
          f"cuDNN {torch.backends.cudnn.version()}")
    rows = op_rates(dev) + model_rates(args.classes, dev)
    print(f"{'group':8} {'what':36} {'ms':>9} {'rate':>12}")
    for group, what, ms, rate, unit in rows:
        print(f"{group:8} {what:36} {ms:9.3f} {rate:12.1f} {unit}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(group=g, what=w, ms=m, rate=r, unit=u) for g, w, m, r, u in rows], f, indent=1)


if __name__ == "__main__":
    main()
