package nn

import (
	"testing"

	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/tensor"
)

// openCPU opens the reference backend for a test.
func openCPU(t testing.TB) kernels.Backend {
	t.Helper()
	b, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

// tinyConfig is the VGG-D small enough for exhaustive tests: 1/16 of the channels, 32x32 input.
func tinyConfig(classes int) Config {
	return Config{Classes: classes, InputSize: 32, WidthDivisor: 16}
}

// randomBatch makes n random images and labels on b, reproducibly from seed.
func randomBatch(t testing.TB, b kernels.Backend, cfg Config, n int, seed uint64) (x, labels *tensor.Tensor) {
	t.Helper()
	rng := tensor.NewRand(seed)
	hostX := tensor.Zeros(n, InputChannels, cfg.InputSize, cfg.InputSize)
	hostX.FillNormal(rng, 0, 1)
	hostL := tensor.New(tensor.Int32, n)
	for i := range hostL.Int32s() {
		hostL.Int32s()[i] = int32(rng.IntN(cfg.Classes))
	}
	return upload(t, b, hostX), upload(t, b, hostL)
}

// upload copies a host tensor to b.
func upload(t testing.TB, b kernels.Backend, host *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	d, err := b.Alloc(host.DType(), host.Shape()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Upload(d, host); err != nil {
		t.Fatal(err)
	}
	return d
}

// download copies a backend float32 tensor to the host.
func download(t testing.TB, b kernels.Backend, d *tensor.Tensor) []float32 {
	t.Helper()
	host := tensor.Zeros(d.Shape()...)
	if err := b.Download(host, d); err != nil {
		t.Fatal(err)
	}
	return host.Float32s()
}
