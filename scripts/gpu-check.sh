#!/bin/sh
# gpu-check.sh: prepare everything a GPU machine needs to check and time the cuda backend.
# Runs HERE (no GPU needed): the GPU machine has no Go and no access to the shared data, so
# this cross-builds the cuda-tagged test binaries and the vgg binary into .gpu/, writes the
# tiny preprocessed face subset there (when VGG_FACES is set), and copies the PyTorch twin
# and .gpu/run.sh, the script to run there:
#
#     VGG_FACES=/work/shared/faces scripts/gpu-check.sh
#     # then, on the GPU machine, from the repository root with .gpu carried along:
#     bash .gpu/run.sh            # writes its logs to $OUT (default .gpu/out)
#
# .gpu/ is kept out of git through .git/info/exclude.
set -eu
cd "$(dirname "$0")/.."

if [ ! -f /usr/include/cuda.h ] && [ -z "${CGO_CFLAGS:-}" ]; then
    eval "$(scripts/cuda-stubs.sh)"
fi
grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
rm -rf .gpu
mkdir -p .gpu

echo "gpu-check: building cuda-tagged binaries into .gpu/" >&2
go test -c -tags cuda -ldflags=-s -o .gpu/kernels-cuda.test ./kernels/cuda
go test -c -tags cuda -ldflags=-s -o .gpu/bench.test ./bench
# The whole command pulls in every package; if one is mid-edit, the tests still go.
go build -tags cuda -ldflags=-s -o .gpu/vgg ./cmd/vgg || echo "gpu-check: cmd/vgg does not build; run.sh skips 'vgg gpu'" >&2
cp bench/pytorch_twin.py scripts/gpu_summary.py .gpu/
if [ -n "${VGG_FACES:-}" ]; then
    go run ./scripts/gpusubset -faces "$VGG_FACES/celebs60" -out .gpu
else
    echo "gpu-check: VGG_FACES is not set; the ten-step training test will skip" >&2
fi

cat >.gpu/run.sh <<'RUN'
#!/bin/bash
# Runs on the GPU machine from the repository root: bash .gpu/run.sh
# Logs go to $OUT (7 files); the comparison table is printed last.
# Each phase has its own time limit, so that one hang cannot eat the whole device lease.
set -u
OUT=${OUT:-$PWD/.gpu/out}
mkdir -p "$OUT"
cd .gpu
# The driver's libcuda.so.1 may live outside the default library path (a read-only mount).
export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}/usr/local/nvidia/lib64:/usr/local/nvidia/lib
{
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv
    if [ -x vgg ]; then
        timeout 60 ./vgg gpu
        echo "vgg gpu exit $?"
    fi
} 2>&1 | tee "$OUT/device.txt"

echo "== kernels/cuda tests"
timeout 150 ./kernels-cuda.test -test.v >"$OUT/kernels-cuda.txt" 2>&1
echo "kernels-cuda.test exit $?"
grep -E '^(--- |ok|PASS|FAIL)|relative error' "$OUT/kernels-cuda.txt" | grep -vE '^    --- PASS' | tail -40

echo "== training on the GPU vs the CPU"
VGG_GPU_SUBSET=$PWD timeout 150 ./bench.test -test.run 'TestTrainingStep|TestTenSteps' -test.v >"$OUT/train.txt" 2>&1
echo "bench.test (training) exit $?"
grep -E '^(--- |ok|PASS|FAIL)|loss|error [0-9]' "$OUT/train.txt" | tail -40

echo "== benchmarks"
timeout 150 ./bench.test -test.run '^$' -test.bench 'Ops/cuda|VGGD(Forward|TrainStep)/cuda' -test.benchtime 10x \
    >"$OUT/bench.txt" 2>&1
echo "bench.test (benchmarks) exit $?"
grep -E '^Benchmark' "$OUT/bench.txt" | tail -60

echo "== PyTorch twin"
PYTHONUNBUFFERED=1 timeout 120 python3 pytorch_twin.py --json "$OUT/pytorch.json" >"$OUT/pytorch.txt" 2>&1
echo "pytorch_twin exit $?"
head -1 "$OUT/pytorch.txt"

echo "== vgg vs PyTorch, same GPU, same run"
python3 gpu_summary.py "$OUT/bench.txt" "$OUT/pytorch.json" 2>&1 | tee "$OUT/summary.txt"
RUN
chmod +x .gpu/run.sh
du -sh .gpu >&2
