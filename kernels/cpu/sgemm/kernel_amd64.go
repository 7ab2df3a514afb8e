package sgemm

import "github.com/vgglab/vgg/kernels/cpu/simd"

// kernel6x16AVX2 is the AVX2+FMA micro-kernel (kernel_amd64.s): the 6x16 tile
// C = beta·C + A·B (C = A·B without reading C when beta == 0) from packed panels
// a (k x 6) and b (k x 16); C's rows are ldc floats apart. k >= 1.
//
//go:noescape
func kernel6x16AVX2(k int, a, b, c *float32, ldc int, beta float32)

// fmaPeakAVX2 runs iters iterations of 12 independent 8-wide fused multiply-adds (192 flops
// an iteration): the ceiling one core can reach, which BenchmarkFMAPeak measures.
//
//go:noescape
func fmaPeakAVX2(iters int)

// kernel12x32AVX512 is the AVX-512 micro-kernel (kernel_avx512_amd64.s): kernel6x16AVX2's
// contract for a 12x32 tile, from panels a (k x 12) and b (k x 32).
//
//go:noescape
func kernel12x32AVX512(k int, a, b, c *float32, ldc int, beta float32)

// fmaPeakAVX512 runs iters iterations of 24 independent 16-wide fused multiply-adds (768
// flops an iteration), BenchmarkFMAPeak's 512-bit ceiling.
//
//go:noescape
func fmaPeakAVX512(iters int)

// avx512Variant's kc is smaller than avx2Variant's so that its B panel (kc·32 floats, 24 KiB)
// still leaves room in a 32 KiB L1 for the A panel.
var avx512Variant = &Variant{Name: "avx512", mr: 12, nr: 32, mc: 144, kc: 192, nc: 4096, kernel: avx512Kernel}

var avx2Variant = &Variant{Name: "avx2", mr: 6, nr: 16, mc: 144, kc: 256, nc: 4096, kernel: avx2Kernel}

// avx2Kernel checks the panels and tile cover what the assembly touches, then runs it.
func avx2Kernel(k int, a, b, c []float32, ldc int, beta float32) {
	_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, beta)
}

// avx512Kernel checks the panels and tile cover what the assembly touches, then runs it.
func avx512Kernel(k int, a, b, c []float32, ldc int, beta float32) {
	_, _, _ = a[12*k-1], b[32*k-1], c[11*ldc+31]
	kernel12x32AVX512(k, &a[0], &b[0], &c[0], ldc, beta)
}

func archVariants() []*Variant {
	var vs []*Variant
	if simd.Allowed(simd.AVX512) {
		vs = append(vs, avx512Variant)
	}
	if simd.Allowed(simd.AVX2) {
		vs = append(vs, avx2Variant)
	}
	return vs
}
