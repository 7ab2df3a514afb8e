package cpu

import (
	"fmt"
	"math"
	"syscall"
	"testing"

	"gonum.org/v1/gonum/blas"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/kerneltest"
	"github.com/vgglab/vgg/tensor"
)

// vggBatch is the training batch the benchmarks model.
const vggBatch = 8

// vggConvLayers are the distinct convolutions of VGG-16 configuration D on 128x128 input
// (conv3_3, conv4_3 and conv5_2/5_3 repeat an earlier shape and are not run twice).
var vggConvLayers = []struct {
	name        string
	in, out, hw int
}{
	{"conv1_1_3to64_128", 3, 64, 128},
	{"conv1_2_64to64_128", 64, 64, 128},
	{"conv2_1_64to128_64", 64, 128, 64},
	{"conv2_2_128to128_64", 128, 128, 64},
	{"conv3_1_128to256_32", 128, 256, 32},
	{"conv3_2_256to256_32", 256, 256, 32},
	{"conv4_1_256to512_16", 256, 512, 16},
	{"conv4_2_512to512_16", 512, 512, 16},
	{"conv5_1_512to512_8", 512, 512, 8},
}

// benchLoop runs op b.N times and reports its rate in giga-units of work (GFLOP, GB) per
// second of wall time, and per second of CPU time summed over threads. On a machine shared
// with other jobs the wall rate drops with the load while the CPU-time rate shows the
// per-core efficiency, so comparing variants stays possible; on an idle machine, wall rate
// over CPU rate is the number of cores kept busy.
func benchLoop(b *testing.B, work float64, unit string, op func() error) {
	startCPU := cpuSeconds()
	for b.Loop() {
		if err := op(); err != nil {
			b.Fatal(err)
		}
	}
	cpu := cpuSeconds() - startCPU
	total := work * float64(b.N) / 1e9
	b.ReportMetric(total/b.Elapsed().Seconds(), unit+"/s")
	b.ReportMetric(total/cpu, unit+"/cpu-s")
}

// cpuSeconds is the user and system time this process has used so far.
func cpuSeconds() float64 {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return math.NaN()
	}
	return float64(u.Utime.Nano()+u.Stime.Nano()) / 1e9
}

// BenchmarkConvVGG runs each VGG-D convolution forward, backward-data and backward-filter
// at batch 8 on cpu and cpu-gonum; all three cost 2·N·K·C·R·S·P·Q flops. "dense" feeds
// Gaussian noise; "relu" feeds what training sees, inputs and output gradients with half
// their entries zero (ReLU and its backward mask), except conv1_1's input, which is the
// image itself.
//
// "cpu-no-winograd" is the cpu backend with the Winograd convolutions turned off, so that
// usesWinograd's choices can be measured against what the layers would run otherwise.
func BenchmarkConvVGG(b *testing.B) {
	noWinograd := New()
	noWinograd.winogradKernel = nil
	for _, be := range []struct {
		name string
		be   *Backend
	}{{"cpu", New()}, {"cpu-no-winograd", noWinograd}, {"cpu-gonum", NewGonum()}} {
		b.Run(be.name, func(b *testing.B) { benchConvVGG(b, be.be) })
	}
}

func benchConvVGG(b *testing.B, be *Backend) {
	rng := tensor.NewRand(1)
	for li, l := range vggConvLayers {
		s := kerneltest.ConvShape{N: vggBatch, C: l.in, H: l.hw, W: l.hw, K: l.out, Params: kernels.Conv3x3}
		w := kerneltest.RandomTensor(rng, s.WShape()...)
		bias := kerneltest.RandomTensor(rng, s.K)
		y := tensor.Zeros(s.YShape()...)
		dx := tensor.Zeros(s.XShape()...)
		dw := tensor.Zeros(s.WShape()...)
		db := tensor.Zeros(s.K)
		for _, data := range []string{"dense", "relu"} {
			x := kerneltest.RandomTensor(rng, s.XShape()...)
			dy := kerneltest.RandomTensor(rng, s.YShape()...)
			if data == "relu" {
				if li > 0 {
					zeroHalf(x)
				}
				zeroHalf(dy)
			}
			name := l.name + "/" + data
			b.Run(name+"/forward", func(b *testing.B) {
				benchLoop(b, s.Flops(), "GFLOP", func() error { return be.Conv2D(y, x, w, bias, s.Params) })
			})
			b.Run(name+"/backward_data", func(b *testing.B) {
				benchLoop(b, s.Flops(), "GFLOP", func() error { return be.Conv2DBackwardData(dx, dy, w, s.Params) })
			})
			b.Run(name+"/backward_filter", func(b *testing.B) {
				benchLoop(b, s.Flops(), "GFLOP", func() error { return be.Conv2DBackwardFilter(dw, db, x, dy, s.Params) })
			})
		}
	}
}

// zeroHalf zeroes the negative entries of a Gaussian tensor, about half, as ReLU does.
func zeroHalf(t *tensor.Tensor) {
	for i, v := range t.Float32s() {
		t.Float32s()[i] = max(v, 0)
	}
}

// BenchmarkSgemm measures the backends' SGEMMs alone (cpu: the packed sgemm; cpu-gonum:
// gonum's): the 1024³ reference rate, and the products that one image of a convolution layer
// hands it (forward: K x P·Q x C·R·S), which is the ceiling for that layer's convolution.
func BenchmarkSgemm(b *testing.B) {
	cases := []struct {
		name    string
		m, n, k int
	}{
		{"1024x1024x1024", 1024, 1024, 1024},
		{"conv1_2_fwd_64x16384x576", 64, 16384, 576},
		{"conv2_2_fwd_128x4096x1152", 128, 4096, 1152},
		{"conv4_2_fwd_512x256x4608", 512, 256, 4608},
	}
	rng := tensor.NewRand(2)
	for _, c := range cases {
		a := kerneltest.RandomTensor(rng, c.m, c.k).Float32s()
		bm := kerneltest.RandomTensor(rng, c.k, c.n).Float32s()
		out := make([]float32, c.m*c.n)
		for _, be := range []*Backend{New(), NewGonum()} {
			b.Run(c.name+"/"+be.Name(), func(b *testing.B) {
				benchLoop(b, 2*float64(c.m)*float64(c.n)*float64(c.k), "GFLOP", func() error {
					be.gemm(be.workers, blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a, c.k, bm, c.n, 0, out, c.n)
					return nil
				})
			})
		}
	}
}

// elementwiseShape is conv1_2's activation at batch 8 (33.5 MB), the largest in the network.
var elementwiseShape = []int{vggBatch, 64, 128, 128}

func BenchmarkReLU(b *testing.B) {
	be := New()
	x := kerneltest.RandomTensor(tensor.NewRand(3), elementwiseShape...)
	y := tensor.Zeros(elementwiseShape...)
	dx := tensor.Zeros(elementwiseShape...)
	// backward needs a real forward output: its speed depends on the pattern of positives.
	if err := be.ReLU(y, x); err != nil {
		b.Fatal(err)
	}
	b.Run("forward", func(b *testing.B) {
		benchLoop(b, float64(2*x.Bytes()), "GB", func() error { return be.ReLU(y, x) }) // read x, write y
	})
	b.Run("backward", func(b *testing.B) {
		benchLoop(b, float64(3*x.Bytes()), "GB", func() error { return be.ReLUBackward(dx, x, y) }) // read dy and y, write dx
	})
}

func BenchmarkMaxPool2x2(b *testing.B) {
	be := New()
	n, c, h, w := elementwiseShape[0], elementwiseShape[1], elementwiseShape[2], elementwiseShape[3]
	x := kerneltest.RandomTensor(tensor.NewRand(4), n, c, h, w)
	y := tensor.Zeros(n, c, h/2, w/2)
	arg := tensor.New(tensor.Int32, n, c, h/2, w/2)
	dx := tensor.Zeros(n, c, h, w)
	// backward needs the argmax of a real forward pass.
	if err := be.MaxPool2x2(y, arg, x); err != nil {
		b.Fatal(err)
	}
	b.Run("forward", func(b *testing.B) {
		benchLoop(b, float64(x.Bytes()+y.Bytes()+arg.Bytes()), "GB", func() error { return be.MaxPool2x2(y, arg, x) })
	})
	b.Run("backward", func(b *testing.B) {
		benchLoop(b, float64(dx.Bytes()+y.Bytes()+arg.Bytes()), "GB", func() error { return be.MaxPool2x2Backward(dx, y, arg) })
	})
}

// BenchmarkDropout runs on the first FC layer's output at batch 8 and on a big activation.
func BenchmarkDropout(b *testing.B) {
	be := New()
	for _, shape := range [][]int{{vggBatch, 4096}, elementwiseShape} {
		x := kerneltest.RandomTensor(tensor.NewRand(5), shape...)
		y := tensor.Zeros(shape...)
		b.Run(fmt.Sprint(tensor.Shape(shape)), func(b *testing.B) {
			benchLoop(b, float64(2*x.Bytes()), "GB", func() error { return be.Dropout(y, x, 0.5, 42) })
		})
	}
}

// BenchmarkLinear is VGG's first fully connected layer, 8192 -> 4096, at batch 8.
func BenchmarkLinear(b *testing.B) {
	const n, in, out = vggBatch, 512 * 4 * 4, 4096
	be := New()
	rng := tensor.NewRand(6)
	x, w := kerneltest.RandomTensor(rng, n, in), kerneltest.RandomTensor(rng, out, in)
	bias, y := kerneltest.RandomTensor(rng, out), tensor.Zeros(n, out)
	dx, dw, db := tensor.Zeros(n, in), tensor.Zeros(out, in), tensor.Zeros(out)
	flops := 2 * float64(n*in*out)
	b.Run("forward", func(b *testing.B) {
		benchLoop(b, flops, "GFLOP", func() error { return be.Linear(y, x, w, bias) })
	})
	b.Run("backward", func(b *testing.B) {
		benchLoop(b, 2*flops, "GFLOP", func() error { return be.LinearBackward(dx, dw, db, y, x, w) }) // dx and dw, one product each
	})
}
