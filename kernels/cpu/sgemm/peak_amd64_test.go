package sgemm

import (
	"testing"

	"golang.org/x/sys/cpu"
)

// BenchmarkFMAPeak measures one core's fused multiply-add throughput with 8-wide (YMM) and
// 16-wide (ZMM) vectors, from loops of independent VFMADD231PS: the ceilings the AVX2 and
// AVX-512 kernels' GFLOP/s are fractions of. Run it with -cpu 1.
func BenchmarkFMAPeak(b *testing.B) {
	const iters = 1 << 20
	b.Run("avx2", func(b *testing.B) {
		if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
			b.Skip("no AVX2+FMA")
		}
		for b.Loop() {
			fmaPeakAVX2(iters)
		}
		b.ReportMetric(192*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
	b.Run("avx512", func(b *testing.B) {
		if !cpu.X86.HasAVX512F {
			b.Skip("no AVX-512")
		}
		for b.Loop() {
			fmaPeakAVX512(iters)
		}
		b.ReportMetric(768*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
	})
}
