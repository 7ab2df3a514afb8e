#!/usr/bin/env python3
"""Compare the vgg engine's GPU benchmarks with the PyTorch twin, both measured in one run.

    python3 gpu_summary.py bench.txt pytorch.json

bench.txt is `go test -bench` output of bench.test (BenchmarkOps/cuda/..., BenchmarkVGGD...);
pytorch.json is what bench/pytorch_twin.py --json wrote. Prints, per op and for the model, our
rate, PyTorch's and the ratio, and for the memory-bound ops the fraction of our own measured
device-to-device copy rate.
"""
import json
import re
import sys

LINE = re.compile(r"^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+[\d.]+ ns/op(.*)$")


def ours(path):
    rates = {}
    for line in open(path):
        m = LINE.match(line.strip())
        if not m:
            continue
        name, metrics = m.group(1), m.group(2).split()
        vals = {metrics[i + 1]: float(metrics[i]) for i in range(0, len(metrics) - 1, 2)}
        if name.startswith("Ops/cuda/"):
            key = name[len("Ops/cuda/"):].replace("/", " ")
        elif name.startswith("VGGDTrainStep/cuda/batch="):
            key = "train step batch " + name.rsplit("=", 1)[1]
        elif name.startswith("VGGDForward/cuda/batch="):
            key = "inference batch " + name.rsplit("=", 1)[1]
        else:
            continue
        for unit in ("img/s", "GFLOP/s", "GB/s"):
            if unit in vals:
                rates[key] = (vals[unit], unit)
                break
    return rates


def main():
    mine = ours(sys.argv[1])
    torch = {}
    for row in json.load(open(sys.argv[2])):
        torch[row["what"].replace(" 64x64x128x128", "")] = (row["rate"], row["unit"])
    copy = mine.get("copy", (float("nan"), ""))[0]
    print(f"{'what':28} {'vgg (Go+CUDA)':>16} {'PyTorch':>16} {'ratio':>7}  note")
    for key in sorted(set(mine) | set(torch), key=lambda k: (not k.startswith(("train", "inference")), k)):
        m, t = mine.get(key), torch.get(key)
        unit = (m or t)[1]
        mv = f"{m[0]:10.1f} {unit}" if m else "-"
        tv = f"{t[0]:10.1f} {unit}" if t else "-"
        ratio = f"{m[0] / t[0]:7.2f}" if m and t and t[0] > 0 else "      -"
        note = ""
        if m and unit == "GB/s" and key != "copy" and copy == copy:
            note = f"{100 * m[0] / copy:.0f}% of our copy rate"
        print(f"{key:28} {mv:>16} {tv:>16} {ratio}  {note}")


if __name__ == "__main__":
    main()
