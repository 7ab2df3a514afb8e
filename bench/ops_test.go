// Per-op throughput at the network's shapes (model_test.go has the whole network). Every
// backend this build has (kernels.Names) runs the same benchmarks, so
// `go test -tags cuda -bench . ./bench` prints the GPU next to the CPU:
//
//	go test -bench 'Ops/cpu' -benchtime 1x ./bench           # CPU only, one run each
//	go test -tags cuda -bench 'Ops/cuda' ./bench             # on a GPU machine

package bench

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/tensor"
)

// opBatch is the batch the per-op benchmarks use: the training batch on a GPU, a smaller one
// on the CPU so that a run takes seconds, not minutes. The metrics are rates, so they compare.
func opBatch(backend string) int {
	if strings.HasPrefix(backend, "cpu") { // cpu and cpu-gonum
		return 8
	}
	return 64
}

// convShape is a 3x3, pad 1 convolution: input channels, filters and spatial size.
type convShape struct {
	name    string
	c, k, s int
}

// vggConvs are the distinct convolutions of VGG-16 configuration D on 128x128 inputs: input
// channels, filters and spatial size (the repeated 3x3 layers of a block share a shape).
var vggConvs = []convShape{
	{"conv1_1", 3, 64, 128}, {"conv1_2", 64, 64, 128},
	{"conv2_1", 64, 128, 64}, {"conv2_2", 128, 128, 64},
	{"conv3_1", 128, 256, 32}, {"conv3_2", 256, 256, 32},
	{"conv4_1", 256, 512, 16}, {"conv4_2", 512, 512, 16},
	{"conv5_x", 512, 512, 8},
}

// smallConvs are the distinct convolutions of the README's small network (an eighth of the
// width, 64x64 inputs), which BenchmarkSmallConvs times at the default batch of 16.
var smallConvs = []convShape{
	{"conv1_1", 3, 8, 64}, {"conv1_2", 8, 8, 64},
	{"conv2_1", 8, 16, 32}, {"conv2_2", 16, 16, 32},
	{"conv3_1", 16, 32, 16}, {"conv3_2", 32, 32, 16},
	{"conv4_1", 32, 64, 8}, {"conv4_2", 64, 64, 8},
	{"conv5_x", 64, 64, 4},
}

// vggLinears are the classifier's layers (60 identities in the seed's data set).
var vggLinears = []struct {
	name    string
	in, out int
}{{"fc1", 512 * 4 * 4, 4096}, {"fc2", 4096, 2048}, {"fc3", 2048, 60}}

// The memory-bound ops run over the activation of conv1_2 at batch 64: 64x64x128x128.
var elementwiseShape = []int{64, 64, 128, 128}

// benchBackend holds an open backend and the tensors a benchmark made on it.
type benchBackend struct {
	kernels.Backend
	made []*tensor.Tensor
}

// random allocates a tensor filled with N(0,1) draws (never zeros: they can hide bugs and
// run faster than real data).
func (bb *benchBackend) random(b *testing.B, shape ...int) *tensor.Tensor {
	host := tensor.Zeros(shape...)
	host.FillNormal(tensor.NewRand(uint64(len(bb.made))+1), 0, 1)
	t, err := bb.Alloc(tensor.Float32, shape...)
	if err != nil {
		b.Fatal(err)
	}
	if err := bb.Upload(t, host); err != nil {
		b.Fatal(err)
	}
	bb.made = append(bb.made, t)
	return t
}

func (bb *benchBackend) alloc(b *testing.B, dtype tensor.DType, shape ...int) *tensor.Tensor {
	t, err := bb.Alloc(dtype, shape...)
	if err != nil {
		b.Fatal(err)
	}
	bb.made = append(bb.made, t)
	return t
}

func (bb *benchBackend) releaseAll() {
	for _, t := range bb.made {
		t.Release()
	}
	bb.made = nil
}

// measure runs op b.N times after one warm-up run and reports the rate: flops per run as
// GFLOP/s when flops > 0, bytes per run as GB/s when bytes > 0. A GPU queues ops
// asynchronously, so the clock stops only after Sync.
func measure(b *testing.B, bb *benchBackend, flops, bytes float64, op func() error) {
	if err := op(); err != nil {
		b.Fatal(err)
	}
	if err := bb.Sync(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	if err := bb.Sync(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	sec := b.Elapsed().Seconds() / float64(b.N)
	if flops > 0 {
		b.ReportMetric(flops/sec/1e9, "GFLOP/s")
	}
	if bytes > 0 {
		b.ReportMetric(bytes/sec/1e9, "GB/s")
	}
}

// BenchmarkOps times every op at the network's shapes on every backend of the build:
// BenchmarkOps/<backend>/<op>.
func BenchmarkOps(b *testing.B) {
	onEveryBackend(b, func(b *testing.B, bb *benchBackend, name string) {
		benchCopy(b, bb)
		benchConvs(b, bb, opBatch(name), vggConvs)
		benchLinears(b, bb, opBatch(name))
		benchElementwise(b, bb)
		benchLoss(b, bb, opBatch(name))
		benchOptimizers(b, bb)
	})
}

// onEveryBackend runs bench as a sub-benchmark named after each backend of the build, open.
func onEveryBackend(b *testing.B, bench func(b *testing.B, bb *benchBackend, name string)) {
	for _, name := range kernels.Names() {
		b.Run(name, func(b *testing.B) {
			backend, err := kernels.Open(name)
			if err != nil {
				b.Fatal(err)
			}
			defer backend.Close()
			bench(b, &benchBackend{Backend: backend}, name)
		})
	}
}

// benchCopy is the memory ceiling: a device-to-device copy, counting bytes read and written.
func benchCopy(b *testing.B, bb *benchBackend) {
	b.Run("copy", func(b *testing.B) {
		defer bb.releaseAll()
		src := bb.random(b, elementwiseShape...)
		dst := bb.alloc(b, tensor.Float32, elementwiseShape...)
		measure(b, bb, 0, 2*float64(src.Bytes()), func() error { return bb.Copy(dst, src) })
	})
}

// BenchmarkSmallConvs times the small network's convolutions, forward and backward, at batch
// 16 on every backend: BenchmarkSmallConvs/<backend>/<layer>/<direction>.
func BenchmarkSmallConvs(b *testing.B) {
	onEveryBackend(b, func(b *testing.B, bb *benchBackend, _ string) { benchConvs(b, bb, 16, smallConvs) })
}

func benchConvs(b *testing.B, bb *benchBackend, n int, convs []convShape) {
	p := kernels.Conv3x3
	for _, c := range convs {
		flops := 2 * float64(n) * float64(c.k) * float64(c.c*9) * float64(c.s*c.s)
		b.Run(c.name, func(b *testing.B) {
			defer bb.releaseAll()
			x := bb.random(b, n, c.c, c.s, c.s)
			w := bb.random(b, c.k, c.c, 3, 3)
			bias := bb.random(b, c.k)
			dy := bb.random(b, n, c.k, c.s, c.s)
			y := bb.alloc(b, tensor.Float32, n, c.k, c.s, c.s)
			dx := bb.alloc(b, tensor.Float32, n, c.c, c.s, c.s)
			dw := bb.alloc(b, tensor.Float32, c.k, c.c, 3, 3)
			db := bb.alloc(b, tensor.Float32, c.k)
			b.Run("forward", func(b *testing.B) {
				measure(b, bb, flops, 0, func() error { return bb.Conv2D(y, x, w, bias, p) })
			})
			b.Run("backward-data", func(b *testing.B) {
				measure(b, bb, flops, 0, func() error { return bb.Conv2DBackwardData(dx, dy, w, p) })
			})
			b.Run("backward-filter", func(b *testing.B) {
				measure(b, bb, flops, 0, func() error { return bb.Conv2DBackwardFilter(dw, db, x, dy, p) })
			})
		})
	}
}

func benchLinears(b *testing.B, bb *benchBackend, n int) {
	for _, l := range vggLinears {
		flops := 2 * float64(n) * float64(l.in) * float64(l.out)
		b.Run(l.name, func(b *testing.B) {
			defer bb.releaseAll()
			x := bb.random(b, n, l.in)
			w := bb.random(b, l.out, l.in)
			bias := bb.random(b, l.out)
			dy := bb.random(b, n, l.out)
			y := bb.alloc(b, tensor.Float32, n, l.out)
			dx := bb.alloc(b, tensor.Float32, n, l.in)
			dw := bb.alloc(b, tensor.Float32, l.out, l.in)
			db := bb.alloc(b, tensor.Float32, l.out)
			b.Run("forward", func(b *testing.B) {
				measure(b, bb, flops, 0, func() error { return bb.Linear(y, x, w, bias) })
			})
			b.Run("backward", func(b *testing.B) {
				measure(b, bb, 2*flops, 0, func() error { return bb.LinearBackward(dx, dw, db, dy, x, w) })
			})
		})
	}
}

// benchElementwise times the memory-bound ops over 64x64x128x128, counting the bytes each
// must move at least (every input read once, every output written once).
func benchElementwise(b *testing.B, bb *benchBackend) {
	defer bb.releaseAll()
	x := bb.random(b, elementwiseShape...)
	y := bb.alloc(b, tensor.Float32, elementwiseShape...)
	dx := bb.alloc(b, tensor.Float32, elementwiseShape...)
	n, c, h, w := elementwiseShape[0], elementwiseShape[1], elementwiseShape[2], elementwiseShape[3]
	pooled := bb.alloc(b, tensor.Float32, n, c, h/2, w/2)
	argmax := bb.alloc(b, tensor.Int32, n, c, h/2, w/2)
	bytes := float64(x.Bytes())
	b.Run("relu/forward", func(b *testing.B) {
		measure(b, bb, 0, 2*bytes, func() error { return bb.ReLU(y, x) })
	})
	b.Run("relu/backward", func(b *testing.B) {
		measure(b, bb, 0, 3*bytes, func() error { return bb.ReLUBackward(dx, x, y) })
	})
	b.Run("maxpool/forward", func(b *testing.B) {
		measure(b, bb, 0, bytes*1.5, func() error { return bb.MaxPool2x2(pooled, argmax, x) })
	})
	b.Run("maxpool/backward", func(b *testing.B) {
		measure(b, bb, 0, bytes*1.5, func() error { return bb.MaxPool2x2Backward(dx, pooled, argmax) })
	})
	b.Run("dropout/forward", func(b *testing.B) {
		measure(b, bb, 0, 2*bytes, func() error { return bb.Dropout(y, x, 0.5, 42) })
	})
	b.Run("dropout/backward", func(b *testing.B) {
		measure(b, bb, 0, 2*bytes, func() error { return bb.DropoutBackward(dx, y, 0.5, 42) })
	})
}

func benchLoss(b *testing.B, bb *benchBackend, n int) {
	defer bb.releaseAll()
	classes := vggLinears[len(vggLinears)-1].out
	logits := bb.random(b, n, classes)
	probs := bb.alloc(b, tensor.Float32, n, classes)
	loss := bb.alloc(b, tensor.Float32, n)
	dlogits := bb.alloc(b, tensor.Float32, n, classes)
	stats := bb.alloc(b, tensor.Float32, 3)
	labelsHost := tensor.New(tensor.Int32, n)
	for i := range labelsHost.Int32s() {
		labelsHost.Int32s()[i] = int32(i % classes)
	}
	labels := bb.alloc(b, tensor.Int32, n)
	if err := bb.Upload(labels, labelsHost); err != nil {
		b.Fatal(err)
	}
	if err := bb.Fill(stats, 0); err != nil {
		b.Fatal(err)
	}
	b.Run(fmt.Sprintf("softmax-xent/%dx%d", n, classes), func(b *testing.B) {
		measure(b, bb, 0, 0, func() error {
			if err := bb.SoftmaxCrossEntropy(probs, loss, logits, labels); err != nil {
				return err
			}
			if err := bb.AccumulateStats(stats, loss, probs, labels); err != nil {
				return err
			}
			return bb.SoftmaxCrossEntropyBackward(dlogits, probs, labels)
		})
	})
}

// benchOptimizers updates fc1's 33.5M weights, the largest parameter tensor.
func benchOptimizers(b *testing.B, bb *benchBackend) {
	defer bb.releaseAll()
	fc1 := vggLinears[0]
	param := bb.random(b, fc1.out, fc1.in)
	grad := bb.random(b, fc1.out, fc1.in)
	m := bb.random(b, fc1.out, fc1.in)
	v := bb.alloc(b, tensor.Float32, fc1.out, fc1.in)
	if err := bb.Fill(v, 0.01); err != nil {
		b.Fatal(err)
	}
	bytes := float64(param.Bytes())
	b.Run("sgd", func(b *testing.B) {
		cfg := kernels.SGDConfig{LR: 1e-6, Momentum: 0.9, WeightDecay: 5e-4}
		measure(b, bb, 0, 5*bytes, func() error { return bb.SGD(param, grad, m, cfg) })
	})
	b.Run("adam", func(b *testing.B) {
		cfg := kernels.AdamConfig{LR: 1e-6, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
		measure(b, bb, 0, 7*bytes, func() error { return bb.Adam(param, grad, m, v, cfg, 1) })
	})
}
