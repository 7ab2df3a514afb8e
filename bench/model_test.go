package bench

// Whole-model benchmarks on every backend this build has, in images per second: the seed's
// VGG-D (full width, 128x128) and the small network most people train on a CPU (the README's
// `--width 8 --input 64`, with the default recipe's batch norm, AdamW and batch 16), each as
// inference (forward) and as a training step.

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

// smallConfig is the README's small network: vgg-d-bn at an eighth of the width on 64x64 faces.
var smallConfig = nn.Config{Classes: 60, InputSize: 64, WidthDivisor: 8, Arch: nn.ArchVGGDBN}

// The optimisers of the two recipes: the seed's SGD with momentum, the default AdamW.
var (
	seedOptimizer  = nn.OptimizerConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 5e-4}
	adamwOptimizer = nn.OptimizerConfig{Kind: "adamw", WeightDecay: 0.05, ExemptNoDecay: true}
)

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

// setup opens a backend, builds a model of cfg on it and uploads a random batch.
func setup(b *testing.B, name string, cfg nn.Config, n int) (kernels.Backend, *nn.Model, *tensor.Tensor, *tensor.Tensor) {
	be, err := kernels.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { be.Close() })
	m, err := nn.New(be, cfg, 1)
	if err != nil {
		b.Fatal(err)
	}
	rng := tensor.NewRand(2)
	hostX := tensor.Zeros(m.InputShape(n)...)
	hostX.FillNormal(rng, 0, 1)
	hostY := tensor.New(tensor.Int32, n)
	for i := range hostY.Int32s() {
		hostY.Int32s()[i] = int32(rng.IntN(cfg.Classes))
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

// BenchmarkVGGDForward is the seed's network in inference: evaluation mode, logits only.
func BenchmarkVGGDForward(b *testing.B) {
	for _, name := range kernels.Names() {
		for _, n := range batchSizes(name, true) {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) { benchForward(b, name, seedConfig, n) })
		}
	}
}

// BenchmarkVGGDTrainStep is the seed's training step: SGD with momentum, forward with
// dropout, loss, backward, update.
func BenchmarkVGGDTrainStep(b *testing.B) {
	for _, name := range kernels.Names() {
		for _, n := range batchSizes(name, false) {
			b.Run(fmt.Sprintf("%s/batch=%d", name, n), func(b *testing.B) { benchTrainStep(b, name, seedConfig, seedOptimizer, n) })
		}
	}
}

// BenchmarkSmallForward is the small network in inference, at the default batch of 16.
func BenchmarkSmallForward(b *testing.B) {
	for _, name := range kernels.Names() {
		b.Run(name+"/batch=16", func(b *testing.B) { benchForward(b, name, smallConfig, 16) })
	}
}

// BenchmarkSmallTrainStep is the small network's training step with the default recipe's
// AdamW, at batch 16.
func BenchmarkSmallTrainStep(b *testing.B) {
	for _, name := range kernels.Names() {
		b.Run(name+"/batch=16", func(b *testing.B) { benchTrainStep(b, name, smallConfig, adamwOptimizer, 16) })
	}
}

// benchForward times evaluation-mode forward passes of a batch of n.
func benchForward(b *testing.B, name string, cfg nn.Config, n int) {
	be, m, x, _ := setup(b, name, cfg, n)
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
}

// benchTrainStep times training steps on a batch of n. Its GFLOP/s counts three forward
// passes' worth of products per image (forward, input gradient, weight gradient).
func benchTrainStep(b *testing.B, name string, cfg nn.Config, opt nn.OptimizerConfig, n int) {
	be, m, x, y := setup(b, name, cfg, n)
	tr, err := nn.NewTrainer(m, opt, nn.Schedule{Kind: "constant", LR: 1e-3})
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
}
