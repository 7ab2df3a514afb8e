package bench

// Whole-model benchmarks: the seed's VGG-D forward (inference) and training step on every
// backend this build has, in images per second.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/nn"
	"github.com/vgglab/vgg/tensor"
)

// The seed's model: 60 identities, 128x128 faces, full width.
var seedConfig = nn.Config{Classes: 60, InputSize: 128, WidthDivisor: 1}

// batchSizes per backend: the CPU takes seconds per batch, the GPU needs big batches to fill.
func batchSizes(backend string, inference bool) []int {
	if strings.HasPrefix(backend, "cpu") { // cpu and cpu-gonum
		return []int{8}
	}
	if inference {
		return []int{64, 128, 256}
	}
	return []int{64, 128}
}

// setup opens a backend, builds the seed's model on it and uploads a random batch.
func setup(b *testing.B, name string, n int) (kernels.Backend, *nn.Model, *tensor.Tensor, *tensor.Tensor) {
	be, err := kernels.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close() })
	m, err := nn.New(be, seedConfig, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := tensor.NewRand(2)
	hostX := tensor.Zeros(m.InputShape(n)...)
	hostX.FillNormal(rng, 0, 1)
	hostY := tensor.New(tensor.Int32, n)
	for i := range hostY.Int32s() {
		hostY.Int32s()[i] = int32(rng.IntN(seedConfig.Classes))
	}
	x, err := be.Alloc(tensor.Float32, hostX.Shape()...)
	if err != nil {
		b.Fatal(err)
	}
	y, err := be.Alloc(tensor.Int32, n)
	if err != nil {
		b.Fatal(err)
	}
	if err := be.Upload(x, hostX); err != nil {
		b.Fatal(err)
	}
	if err := be.Upload(y, hostY); err != nil {
		b.Fatal(err)
	}
	return be, m, x, y
}

// report turns the elapsed time into images and GFLOP per second.
func report(b *testing.B, n int, flopsPerImage float64) {
	sec := b.Elapsed().Seconds()
	images := float64(n * b.N)
	b.ReportMetric(images/sec, "img/s")
	b.ReportMetric(images*flopsPerImage/sec/1e9, "GFLOP/s")
}

// BenchmarkVGGDForward is inference: evaluation mode, logits only.
func BenchmarkVGGDForward(b *testing.B) {
	for _, name := range kernels.Names() {
		for _, n := range batchSizes(name, true) {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) {
				be, m, x, _ := setup(b, name, n)
				m.SetTraining(false)
				if _, err := m.Forward(x); err != nil { // allocates the activations
					b.Fatal(err)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if _, err := m.Forward(x); err != nil {
						b.Fatal(err)
					}
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				report(b, n, float64(m.FLOPs()))
			})
		}
	}
}

// BenchmarkVGGDTrainStep is one SGD-with-momentum step: forward with dropout, loss, backward,
// update. Its GFLOP/s counts three forward passes' worth of products per image (forward, input
// gradient, weight gradient).
func BenchmarkVGGDTrainStep(b *testing.B) {
	for _, name := range kernels.Names() {
		for _, n := range batchSizes(name, false) {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) {
				be, m, x, y := setup(b, name, n)
				tr, err := nn.NewTrainer(m, nn.OptimizerConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 5e-4},
					nn.Schedule{Kind: "constant", LR: 1e-3})
				if err != nil {
					b.Fatal(err)
				}
				if err := tr.Step(x, y); err != nil {
					b.Fatal(err)
				}
				if err := be.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := tr.Step(x, y); err != nil {
						b.Fatal(err)
					}
				}
				if _, err := tr.ReadTrainStats(); err != nil { // waits for the queued steps
					b.Fatal(err)
				}
				report(b, n, 3*float64(m.FLOPs()))
			})
		}
	}
}
