#!/usr/bin/env python3
"""PyTorch on the CPU, timed on the same workloads as the vgg engine's CPU benchmarks.

Measures, in float32 on T threads (torch.set_num_threads):
  - Sgemm/<shape>: the GEMM shapes of kernels/cpu/sgemm/bench_test.go (square products and
    VGG-D's im2col products at 128x128, batch 8, A stored transposed as our convolutions
    store it), twice: torch.mm, which this build hands to libblas.so.3 (the BLAS that
    nn.Linear uses), and oneDNN's inner product (torch._C._nn.mkldnn_linear, the BLAS-free
    path torch.utils.mkldnn uses), its input converted to oneDNN's layout before timing;
  - Ops/cpu/<layer>/<direction>: each distinct convolution of bench/ops_test.go at batch 8
    (forward, backward-data, backward-filter with the bias gradient, through
    aten.convolution_backward as autograd calls it) and the linear layers' forward and
    backward, in GFLOP/s;
  - VGGDTrainStep/cpu/batch=8: one SGD-momentum step (lr 1e-3, momentum 0.9, weight decay
    5e-4, dropout on) of VGG-D at 128x128, full width, 60 classes, as nn's Trainer runs it in
    bench/model_test.go; VGGDForward/cpu/batch=8: inference (eval mode, no_grad), in img/s;
  - SmallTrainStep/cpu/batch=16 and SmallForward/cpu/batch=16: the same for the README's small
    network (VGG-D with batch norm, an eighth of the width, 64x64, 60 classes) with the default
    recipe's AdamW (lr 1e-3, weight decay 0.05 spared to biases and batch norms).
The names are those of the Go benchmarks, without "Benchmark", the GOMAXPROCS suffix and
Sgemm's variant, so bench/cpuvstorch can pair them. Each figure is the median of repeated
runs timed with time.perf_counter after one warm-up run: at least 3 runs and at least
--benchtime seconds (--quick: one run, for smoke tests). Run it pinned, as bench/cpuvstorch
does:

    OMP_NUM_THREADS=1 taskset -c 0 python3 bench/cpu_twin.py --threads 1 [--json out.json]
"""
import argparse
import json
import os
import statistics
import time

import torch
import torch.nn as nn

from pytorch_twin import CONVS, LINEARS, vgg_d

BATCH = 8
CLASSES = 60
# kernels/cpu/sgemm/bench_test.go's benchShapes: name, A stored transposed, m, n, k.
GEMMS = [("256x256x256", False, 256, 256, 256), ("512x512x512", False, 512, 512, 512),
         ("1024x1024x1024", False, 1024, 1024, 1024),
         ("conv1_2_fwd_16384x64x576", True, 16384, 64, 576),
         ("conv2_2_fwd_4096x128x1152", True, 4096, 128, 1152),
         ("conv3_2_fwd_1024x256x2304", True, 1024, 256, 2304),
         ("conv4_2_fwd_1024x512x4608", True, 1024, 512, 4608),
         ("conv5_x_fwd_512x512x4608", True, 512, 512, 4608)]


def median_s(fn, benchtime, quick):
    """Median seconds of fn over repeated runs after one warm-up run."""
    fn()
    times = []
    while len(times) < (1 if quick else 3) or (not quick and sum(times) < benchtime):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def libblas():
    """The file libblas.so.3 resolves to in this process (whose BLAS torch.mm runs)."""
    with open("/proc/self/maps") as f:
        for line in f:
            path = line.split()[-1]
            if "libblas" in path or "openblas" in path or "mkl_rt" in path:
                return os.path.realpath(path)
    return "unknown"


def gemm_rows(benchtime, quick):
    rows = []
    for name, trans_a, m, n, k in GEMMS:
        flops = 2 * m * n * k
        a = torch.randn(k, m).t() if trans_a else torch.randn(m, k)  # op(A), m x k
        b = torch.randn(k, n)
        c = torch.empty(m, n)
        sec = median_s(lambda: torch.mm(a, b, out=c), benchtime, quick)
        rows.append(dict(name=f"Sgemm/{name}", path="torch.mm", value=flops / sec / 1e9, unit="GFLOP/s"))
        a_dnn = a.contiguous().to_mkldnn()
        w = b.t().contiguous()  # mkldnn_linear computes x·wᵀ
        sec = median_s(lambda: torch._C._nn.mkldnn_linear(a_dnn, w, None), benchtime, quick)
        rows.append(dict(name=f"Sgemm/{name}", path="oneDNN", value=flops / sec / 1e9, unit="GFLOP/s"))
    return rows


def op_rows(benchtime, quick):
    rows, n = [], BATCH
    conv_bwd = torch.ops.aten.convolution_backward
    for name, c, k, s in CONVS:
        x = torch.randn(n, c, s, s)
        w = torch.randn(k, c, 3, 3)
        bias = torch.randn(k)
        dy = torch.randn(n, k, s, s)
        flops = 2 * n * k * c * 9 * s * s
        args = ([k], [1, 1], [1, 1], [1, 1], False, [0, 0], 1)
        for what, fn in (
                ("forward", lambda: torch.nn.functional.conv2d(x, w, bias, padding=1)),
                ("backward-data", lambda: conv_bwd(dy, x, w, *args, [True, False, False])),
                ("backward-filter", lambda: conv_bwd(dy, x, w, *args, [False, True, True]))):
            sec = median_s(fn, benchtime, quick)
            rows.append(dict(name=f"Ops/cpu/{name}/{what}", path="", value=flops / sec / 1e9, unit="GFLOP/s"))
    for name, fin, fout in LINEARS:
        x = torch.randn(n, fin, requires_grad=True)
        lin = nn.Linear(fin, fout)
        flops = 2 * n * fin * fout
        with torch.no_grad():
            sec = median_s(lambda: lin(x), benchtime, quick)
        rows.append(dict(name=f"Ops/cpu/{name}/forward", path="", value=flops / sec / 1e9, unit="GFLOP/s"))
        y = lin(x)
        dy = torch.randn_like(y)
        sec = median_s(lambda: torch.autograd.grad(y, [x, lin.weight, lin.bias], dy, retain_graph=True),
                       benchtime, quick)
        rows.append(dict(name=f"Ops/cpu/{name}/backward", path="", value=2 * flops / sec / 1e9, unit="GFLOP/s"))
    return rows


def network_rows(name, model, opt, batch, size, benchtime, quick):
    """<name>TrainStep (one step of opt, dropout on) and <name>Forward (eval, no_grad) at batch."""
    loss_fn = nn.CrossEntropyLoss()
    x = torch.randn(batch, 3, size, size)
    y = torch.randint(0, CLASSES, (batch,))
    model.train()

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()
    sec = median_s(step, benchtime, quick)
    rows = [dict(name=f"{name}TrainStep/cpu/batch={batch}", path="", value=batch / sec, unit="img/s")]
    model.eval()
    with torch.no_grad():
        sec = median_s(lambda: model(x), benchtime, quick)
    rows.append(dict(name=f"{name}Forward/cpu/batch={batch}", path="", value=batch / sec, unit="img/s"))
    return rows


def model_rows(benchtime, quick):
    torch.manual_seed(1)
    model = vgg_d(CLASSES)
    opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9, weight_decay=5e-4)
    return network_rows("VGGD", model, opt, BATCH, 128, benchtime, quick)


def vgg_d_bn(classes, input_size, width_divisor):
    """VGG-D with a batch norm after every convolution, the README's checkpoint layout."""
    layers, c = [], 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            v //= width_divisor
            layers += [nn.Conv2d(c, v, 3, padding=1), nn.BatchNorm2d(v), nn.ReLU(inplace=True)]
            c = v
    side = input_size // 32
    return nn.Sequential(*layers, nn.Flatten(),
                         nn.Linear(c * side * side, 4096 // width_divisor), nn.ReLU(inplace=True), nn.Dropout(0.5),
                         nn.Linear(4096 // width_divisor, 2048 // width_divisor), nn.ReLU(inplace=True),
                         nn.Dropout(0.5), nn.Linear(2048 // width_divisor, classes))


def small_rows(benchtime, quick):
    torch.manual_seed(1)
    model = vgg_d_bn(CLASSES, 64, 8)
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.AdamW([dict(params=decay, weight_decay=0.05), dict(params=no_decay, weight_decay=0.0)], lr=1e-3)
    return network_rows("Small", model, opt, 16, 64, benchtime, quick)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    ap.add_argument("--benchtime", type=float, default=0.5, help="seconds of timed runs per workload, at least")
    ap.add_argument("--quick", action="store_true", help="one timed run per workload (smoke test)")
    ap.add_argument("--models", action="store_true", help="only the whole networks, not the GEMMs and layers")
    ap.add_argument("--json", help="write the result here instead of stdout")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    rows = [] if args.models else gemm_rows(args.benchtime, args.quick) + op_rows(args.benchtime, args.quick)
    rows += model_rows(args.benchtime, args.quick) + small_rows(args.benchtime, args.quick)
    out = dict(torch=torch.__version__, threads=torch.get_num_threads(), libblas=libblas(),
               mkldnn=torch.backends.mkldnn.is_available(), rows=rows)
    text = json.dumps(out, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    else:
        print(text)


if __name__ == "__main__":
    main()
