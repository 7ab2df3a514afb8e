//go:build cuda

package cuda

import (
	"errors"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/kernels/kerneltest"
	"github.com/vgglab/vgg/tensor"
)

// These tests need an NVIDIA GPU: build them with -tags cuda (scripts/gpu-check.sh
// cross-builds the binary for the GPU machine).

func openGPU(t *testing.T) *Backend {
	t.Helper()
	b, err := Open()
	if err != nil {
		t.Fatalf("opening the cuda backend: %v", err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	t.Log(b.Describe())
	return b
}

func openCPU(t *testing.T) kernels.Backend {
	t.Helper()
	b, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestConformance runs the shared suite: every op against the float64 references, odd sizes,
// poisoned outputs.
func TestConformance(t *testing.T) {
	kerneltest.Conformance(t, openGPU(t), kerneltest.DefaultTolerance())
}

// onBoth uploads the same host inputs to the CPU and GPU backends, runs op on each with
// poisoned outputs of the given shapes, and returns both backends' outputs on the host.
func onBoth(t *testing.T, cpu, gpu kernels.Backend, inputs []*tensor.Tensor, outs []tensor.Shape,
	op func(b kernels.Backend, in, out []*tensor.Tensor) error) (cpuOut, gpuOut []*tensor.Tensor) {
	t.Helper()
	run := func(b kernels.Backend) []*tensor.Tensor {
		in := make([]*tensor.Tensor, len(inputs))
		for i, h := range inputs {
			in[i] = kerneltest.Upload(t, b, h)
		}
		out := make([]*tensor.Tensor, len(outs))
		for i, s := range outs {
			out[i] = kerneltest.Poisoned(t, b, tensor.Float32, s...)
		}
		if err := op(b, in, out); err != nil {
			t.Fatalf("%s: %v", b.Name(), err)
		}
		host := make([]*tensor.Tensor, len(out))
		for i, o := range out {
			host[i] = kerneltest.Download(t, b, o)
		}
		return host
	}
	return run(cpu), run(gpu)
}

// agree checks each GPU output against the CPU's within tol (relative L2 error).
func agree(t *testing.T, names []string, cpuOut, gpuOut []*tensor.Tensor, tol float64) {
	t.Helper()
	for i, name := range names {
		kerneltest.CheckClose(t, name, gpuOut[i], kerneltest.Float64s(cpuOut[i]), tol)
	}
}

// TestConvAtNetworkSizes compares the convolutions with the CPU backend at sizes like the
// network's: full tiles, partial tiles on both axes, heavy split-K in the filter gradient.
func TestConvAtNetworkSizes(t *testing.T) {
	gpu, cpu := openGPU(t), openCPU(t)
	cases := []struct{ n, c, h, w, k int }{
		{2, 3, 64, 64, 64},   // the first layer: C*R*S = 27, a single partial tile
		{2, 64, 32, 32, 128}, // a full 128-filter tile
		{3, 129, 9, 7, 131},  // tiles cut on every axis
		{2, 512, 8, 8, 512},  // the last block: long sums, many tiles
	}
	rng := tensor.NewRand(7)
	for _, c := range cases {
		x := kerneltest.RandomTensor(rng, c.n, c.c, c.h, c.w)
		w := kerneltest.RandomTensor(rng, c.k, c.c, 3, 3)
		bias := kerneltest.RandomTensor(rng, c.k)
		dy := kerneltest.RandomTensor(rng, c.n, c.k, c.h, c.w)
		cpuOut, gpuOut := onBoth(t, cpu, gpu, []*tensor.Tensor{x, w, bias, dy},
			[]tensor.Shape{{c.n, c.k, c.h, c.w}, {c.n, c.c, c.h, c.w}, {c.k, c.c, 3, 3}, {c.k}},
			func(b kernels.Backend, in, out []*tensor.Tensor) error {
				if err := b.Conv2D(out[0], in[0], in[1], in[2], kernels.Conv3x3); err != nil {
					return err
				}
				if err := b.Conv2DBackwardData(out[1], in[3], in[1], kernels.Conv3x3); err != nil {
					return err
				}
				return b.Conv2DBackwardFilter(out[2], out[3], in[0], in[3], kernels.Conv3x3)
			})
		agree(t, []string{"y", "dx", "dw", "db"}, cpuOut, gpuOut, 1e-5)
	}
}

// TestLinearAtNetworkSizes covers split-K (In much larger than the batch) and ragged tiles.
func TestLinearAtNetworkSizes(t *testing.T) {
	gpu, cpu := openGPU(t), openCPU(t)
	rng := tensor.NewRand(8)
	for _, c := range []struct{ n, in, out int }{{64, 8192, 512}, {13, 1000, 259}} {
		x := kerneltest.RandomTensor(rng, c.n, c.in)
		w := kerneltest.RandomTensor(rng, c.out, c.in)
		bias := kerneltest.RandomTensor(rng, c.out)
		dy := kerneltest.RandomTensor(rng, c.n, c.out)
		cpuOut, gpuOut := onBoth(t, cpu, gpu, []*tensor.Tensor{x, w, bias, dy},
			[]tensor.Shape{{c.n, c.out}, {c.n, c.in}, {c.out, c.in}, {c.out}},
			func(b kernels.Backend, in, out []*tensor.Tensor) error {
				if err := b.Linear(out[0], in[0], in[1], in[2]); err != nil {
					return err
				}
				return b.LinearBackward(out[1], out[2], out[3], in[3], in[0], in[1])
			})
		agree(t, []string{"y", "dx", "dw", "db"}, cpuOut, gpuOut, 1e-5)
	}
}

// TestDropoutMatchesCPUExactly: the same Philox stream and the same division give the very
// same output on both backends, over a million elements and a ragged tail.
func TestDropoutMatchesCPUExactly(t *testing.T) {
	gpu, cpu := openGPU(t), openCPU(t)
	x := kerneltest.RandomTensor(tensor.NewRand(9), 1<<20+3)
	for _, p := range []float32{0.5, 0.1} {
		seed := uint64(0x1234_5678_9abc_def0) + uint64(p*100)
		cpuOut, gpuOut := onBoth(t, cpu, gpu, []*tensor.Tensor{x}, []tensor.Shape{x.Shape(), x.Shape()},
			func(b kernels.Backend, in, out []*tensor.Tensor) error {
				if err := b.Dropout(out[0], in[0], p, seed); err != nil {
					return err
				}
				return b.DropoutBackward(out[1], in[0], p, seed)
			})
		kerneltest.CheckExact(t, "dropout forward", gpuOut[0], kerneltest.Float64s(cpuOut[0]))
		kerneltest.CheckExact(t, "dropout backward", gpuOut[1], kerneltest.Float64s(cpuOut[1]))
	}
}

// TestAllocatorReusesBlocks: a released block is handed out again for the same size class,
// with no new driver allocation.
func TestAllocatorReusesBlocks(t *testing.T) {
	b := openGPU(t)
	a, err := b.Alloc(tensor.Float32, 1000, 1000)
	if err != nil {
		t.Fatal(err)
	}
	first := a.Buffer().(*Buffer).ptr
	heldBefore, _ := b.MemoryStats()
	a.Release()
	a.Release() // a second release must do nothing
	c, err := b.Alloc(tensor.Float32, 999, 1001)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Buffer().(*Buffer).ptr; got != first {
		t.Errorf("same size class got block %v, want the released %v", got, first)
	}
	if held, _ := b.MemoryStats(); held != heldBefore {
		t.Errorf("driver memory held grew from %d to %d bytes on reuse", heldBefore, held)
	}
	if err := b.ReLU(a, a); err == nil || !strings.Contains(err.Error(), "released") {
		t.Errorf("ReLU on a released tensor: got %v, want an error saying so", err)
	}
}

// TestOutOfMemorySaysHowMuch: an impossible request names the size asked and what is free.
func TestOutOfMemorySaysHowMuch(t *testing.T) {
	b := openGPU(t)
	err := b.d.do(func() error {
		_, _, err := b.d.mem.alloc(1 << 50)
		return err
	})
	if err == nil || !strings.Contains(err.Error(), "asked for") || !strings.Contains(err.Error(), "free of") {
		t.Errorf("allocating 1 PiB: got %v, want an out-of-memory error with the sizes", err)
	}
}

// TestErrorsNameTheOp: wrong inputs come back as errors that say which op and which tensor.
func TestErrorsNameTheOp(t *testing.T) {
	b := openGPU(t)
	host := tensor.Zeros(4, 4)
	dev, err := b.Alloc(tensor.Float32, 4, 4)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.ReLU(dev, host); err == nil || !strings.Contains(err.Error(), "ReLU") || !strings.Contains(err.Error(), "x") {
		t.Errorf("ReLU with a host input: got %v", err)
	}
	if err := b.Dropout(dev, dev, 1, 1); err == nil || !strings.Contains(err.Error(), "Dropout") {
		t.Errorf("Dropout with p = 1: got %v", err)
	}
	if err := b.Sync(); err != nil {
		t.Errorf("Sync: %v", err)
	}
}

// TestLabelsWrittenOnTheDeviceAreChecked: labels that did not come from the host (here the
// argmax of a max-pool, copied into a [2] tensor) have no host copy, so the loss op downloads
// them to apply the label rule: an out-of-range one is an error, as on the CPU.
func TestLabelsWrittenOnTheDeviceAreChecked(t *testing.T) {
	b := openGPU(t)
	// Two 2x2 windows whose maxima sit at plane offsets 1 and 7.
	x := kerneltest.Upload(t, b, tensorOf(t, []float32{0, 9, 0, 0, 0, 0, 0, 9}, 1, 1, 2, 4))
	y := kerneltest.Poisoned(t, b, tensor.Float32, 1, 1, 1, 2)
	argmax := kerneltest.Poisoned(t, b, tensor.Int32, 1, 1, 1, 2)
	if err := b.MaxPool2x2(y, argmax, x); err != nil {
		t.Fatal(err)
	}
	labels := kerneltest.Poisoned(t, b, tensor.Int32, 2)
	if err := b.Copy(labels, argmax); err != nil {
		t.Fatal(err)
	}
	if labels.Buffer().(*Buffer).uploaded.Load() != nil {
		t.Fatal("labels written by a kernel still carry a host copy")
	}
	for _, tc := range []struct {
		classes int
		ok      bool
	}{{8, true}, {5, false}} {
		logits := kerneltest.Upload(t, b, tensor.Zeros(2, tc.classes))
		probs := kerneltest.Poisoned(t, b, tensor.Float32, 2, tc.classes)
		loss := kerneltest.Poisoned(t, b, tensor.Float32, 2)
		err := b.SoftmaxCrossEntropy(probs, loss, logits, labels)
		var argErr *kernels.ArgError
		switch {
		case tc.ok && err != nil:
			t.Errorf("%d classes, labels [1 7]: %v", tc.classes, err)
		case !tc.ok && !(errors.As(err, &argErr) && argErr.Arg == "labels"):
			t.Errorf("%d classes, labels [1 7]: error %v, want the label rule's", tc.classes, err)
		}
	}
}

func tensorOf(t *testing.T, v []float32, shape ...int) *tensor.Tensor {
	t.Helper()
	h, err := tensor.FromFloat32(v, shape...)
	if err != nil {
		t.Fatal(err)
	}
	return h
}
