package cpu

import (
	"gonum.org/v1/gonum/blas"
	"os"
	"strconv"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/kerneltest"
	"github.com/vgglab/vgg/tensor"
)

func BenchmarkExpWorkers(b *testing.B) {
	wk, _ := strconv.Atoi(os.Getenv("WK"))
	be := &Backend{workers: wk}
	rng := tensor.NewRand(1)
	for _, l := range vggConvLayers[1:] {
		s := kerneltest.ConvShape{N: vggBatch, C: l.in, H: l.hw, W: l.hw, K: l.out, Params: kernels.Conv3x3}
		x := kerneltest.RandomTensor(rng, s.XShape()...)
		w := kerneltest.RandomTensor(rng, s.WShape()...)
		bias := kerneltest.RandomTensor(rng, s.K)
		y := kerneltest.RandomTensor(rng, s.YShape()...)
		dx := tensor.Zeros(s.XShape()...)
		dw := tensor.Zeros(s.WShape()...)
		db := tensor.Zeros(s.K)
		b.Run(l.name+"/f", func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Conv2D(y, x, w, bias, s.Params))
			}
			reportGFlops(b, s.Flops())
		})
		b.Run(l.name+"/d", func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Conv2DBackwardData(dx, y, w, s.Params))
			}
			reportGFlops(b, s.Flops())
		})
		b.Run(l.name+"/w", func(b *testing.B) {
			for b.Loop() {
				mustBench(b, be.Conv2DBackwardFilter(dw, db, x, y, s.Params))
			}
			reportGFlops(b, s.Flops())
		})
	}
}

func BenchmarkExpGemm(b *testing.B) {
	cases := []struct {
		name    string
		tb      bool
		m, n, k int
	}{
		{"c5f_img", false, 512, 64, 4608},
		{"c5f_batch", false, 512, 512, 4608},
		{"c4w_img", true, 512, 4608, 256},
		{"c4w_batch", true, 512, 4608, 2048},
		{"c4f_img", false, 512, 256, 4608},
		{"c4f_batch", false, 512, 2048, 4608},
		{"c12f_img", false, 64, 16384, 576},
		{"c22f_img", false, 128, 4096, 1152},
		{"c22f_2img", false, 128, 8192, 1152},
	}
	rng := tensor.NewRand(2)
	for _, c := range cases {
		a := kerneltest.RandomTensor(rng, c.m, c.k).Float32s()
		bm := kerneltest.RandomTensor(rng, c.k, c.n).Float32s()
		out := make([]float32, c.m*c.n)
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if c.tb {
					sgemm(blas.NoTrans, blas.Trans, c.m, c.n, c.k, 1, a, c.k, bm, c.k, 0, out, c.n)
				} else {
					sgemm(blas.NoTrans, blas.NoTrans, c.m, c.n, c.k, 1, a, c.k, bm, c.n, 0, out, c.n)
				}
			}
			reportGFlops(b, 2*float64(c.m)*float64(c.n)*float64(c.k))
		})
	}
}
