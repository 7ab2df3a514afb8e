package sgemm

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
)

// benchShapes are square products and the ones the CPU backend's convolutions hand to Sgemm
// for VGG-D at 128x128, batch 8: forward is yᵀ[pixels, K] = colᵀ · wᵀ with A transposed
// (m = the pixels of a group of images, n = K filters, k = C·3·3).
var benchShapes = []struct {
	name    string
	tA      blas.Transpose
	m, n, k int
}{
	{"256x256x256", blas.NoTrans, 256, 256, 256},
	{"512x512x512", blas.NoTrans, 512, 512, 512},
	{"1024x1024x1024", blas.NoTrans, 1024, 1024, 1024},
	{"conv1_2_fwd_16384x64x576", blas.Trans, 16384, 64, 576},
	{"conv2_2_fwd_4096x128x1152", blas.Trans, 4096, 128, 1152},
	{"conv3_2_fwd_1024x256x2304", blas.Trans, 1024, 256, 2304},
	{"conv4_2_fwd_1024x512x4608", blas.Trans, 1024, 512, 4608},
	{"conv5_x_fwd_512x512x4608", blas.Trans, 512, 512, 4608},
}

// BenchmarkSgemm runs each shape with every variant and with gonum, in GFLOP/s.
func BenchmarkSgemm(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	type impl struct {
		name string
		gemm func(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	}
	impls := []impl{{"gonum", blas32.Implementation().Sgemm}}
	for _, v := range Variants() {
		impls = append(impls, impl{v.Name, v.Sgemm})
	}
	for _, s := range benchShapes {
		a, bm, c := randSlice(rng, s.m*s.k), randSlice(rng, s.k*s.n), make([]float32, s.m*s.n)
		lda := s.k
		if s.tA == blas.Trans {
			lda = s.m
		}
		for _, im := range impls {
			b.Run(s.name+"/"+im.name, func(b *testing.B) {
				for b.Loop() {
					im.gemm(s.tA, blas.NoTrans, s.m, s.n, s.k, 1, a, lda, bm, s.n, 0, c, s.n)
				}
				b.ReportMetric(2*float64(s.m*s.n*s.k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
