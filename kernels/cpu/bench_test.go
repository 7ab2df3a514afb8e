package cpu

import (
	"fmt"
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

// reportGFlops reports the rate of b.N runs of an op that does flops floating-point operations.
func reportGFlops(b *testing.B, flops float64) {
	b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}

// reportGBs reports the memory rate of b.N runs of an op that moves bytes bytes.
func reportGBs(b *testing.B, bytes float64) {
	b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

func mustBench(b *testing.B, err error) {
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkConvVGG runs each VGG-D convolution forward, backward-data and backward-filter
// at batch 8; all three cost 2·N·K·C·R·S·P·Q flops.
func BenchmarkConvVGG(b *testing.B) {
	be := New()
	rng := tensor.NewRand(1)
	for _, l := range vggConvLayers {
		s := kerneltest.ConvShape{N: vggBatch, C: l.in, H: l.hw, W: l.hw, K: l.out, Params: kernels.Conv3x3}
		x := kerneltest.RandomTensor(rng, s.XShape()...)
		w := kerneltest.RandomTensor(rng, s.WShape()...)
		bias := kerneltest.RandomTensor(rng, s.K)
		y := kerneltest.RandomTensor(rng, s.YShape()...)
		dx := tensor.Zeros(s.XShape()...)
		dw := tensor.Zeros(s.WShape()...)
		db := tensor.Zeros(s.K)
		b.Run(l.name+"/forward", func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Conv2D(y, x, w, bias, s.Params))
			}
			reportGFlops(b, s.Flops())
		})
		b.Run(l.name+"/backward_data", func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Conv2DBackwardData(dx, y, w, s.Params))
			}
			reportGFlops(b, s.Flops())
		})
		b.Run(l.name+"/backward_filter", func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Conv2DBackwardFilter(dw, db, x, y, s.Params))
			}
			reportGFlops(b, s.Flops())
		})
	}
}

// BenchmarkSgemm measures gonum's Sgemm alone: the 1024³ reference rate, and the products
// that one image of a convolution layer hands it (forward: K x P·Q x C·R·S), which is the
// ceiling for that layer's convolution.
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
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				sgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a, c.k, bm, c.n, 0, out, c.n)
			}
			reportGFlops(b, 2*float64(c.m)*float64(c.n)*float64(c.k))
		})
	}
}

// elementwiseShape is conv1_2's activation at batch 8 (33.5 MB), the largest in the network.
var elementwiseShape = []int{vggBatch, 64, 128, 128}

func BenchmarkReLU(b *testing.B) {
	be := New()
	x := kerneltest.RandomTensor(tensor.NewRand(3), elementwiseShape...)
	y := tensor.Zeros(elementwiseShape...)
	dx := tensor.Zeros(elementwiseShape...)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			mustBench(b, be.ReLU(y, x))
		}
		reportGBs(b, float64(2*x.Bytes())) // read x, write y
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			mustBench(b, be.ReLUBackward(dx, x, y))
		}
		reportGBs(b, float64(3*x.Bytes())) // read dy and y, write dx
	})
}

func BenchmarkMaxPool2x2(b *testing.B) {
	be := New()
	n, c, h, w := elementwiseShape[0], elementwiseShape[1], elementwiseShape[2], elementwiseShape[3]
	x := kerneltest.RandomTensor(tensor.NewRand(4), n, c, h, w)
	y := tensor.Zeros(n, c, h/2, w/2)
	arg := tensor.New(tensor.Int32, n, c, h/2, w/2)
	dx := tensor.Zeros(n, c, h, w)
	b.Run("forward", func(b *testing.B) {
		for b.Loop() {
			mustBench(b, be.MaxPool2x2(y, arg, x))
		}
		reportGBs(b, float64(x.Bytes()+y.Bytes()+arg.Bytes()))
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			mustBench(b, be.MaxPool2x2Backward(dx, y, arg))
		}
		reportGBs(b, float64(dx.Bytes()+y.Bytes()+arg.Bytes()))
	})
}

// BenchmarkDropout runs on the first FC layer's output at batch 8 and on a big activation.
func BenchmarkDropout(b *testing.B) {
	be := New()
	for _, shape := range [][]int{{vggBatch, 4096}, elementwiseShape} {
		x := kerneltest.RandomTensor(tensor.NewRand(5), shape...)
		y := tensor.Zeros(shape...)
		b.Run(fmt.Sprint(tensor.Shape(shape)), func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Dropout(y, x, 0.5, 42))
			}
			reportGBs(b, float64(2*x.Bytes()))
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
		for b.Loop() {
			mustBench(b, be.Linear(y, x, w, bias))
		}
		reportGFlops(b, flops)
	})
	b.Run("backward", func(b *testing.B) {
		for b.Loop() {
			mustBench(b, be.LinearBackward(dx, dw, db, y, x, w))
		}
		reportGFlops(b, 2*flops) // dx and dw, one product each
	})
}
