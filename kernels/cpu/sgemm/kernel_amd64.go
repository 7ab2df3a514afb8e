package sgemm

import "golang.org/x/sys/cpu"

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

var avx2Variant = &Variant{Name: "avx2", mr: 6, nr: 16, mc: 144, kc: 256, nc: 4096, kernel: avx2Kernel}

// avx2Kernel checks the panels and tile cover what the assembly touches, then runs it.
func avx2Kernel(k int, a, b, c []float32, ldc int, beta float32) {
	_, _, _ = a[6*k-1], b[16*k-1], c[5*ldc+15]
	kernel6x16AVX2(k, &a[0], &b[0], &c[0], ldc, beta)
}

func archVariants() []*Variant {
	if cpu.X86.HasAVX2 && cpu.X86.HasFMA {
		return []*Variant{avx2Variant}
	}
	return nil
}
