package sgemm

import "testing"

// BenchmarkFMAPeak measures one core's fused multiply-add throughput with 8-wide (YMM)
// vectors, from a loop of independent VFMADD231PS: the ceiling the AVX2 kernel's GFLOP/s are
// a fraction of. Run it with -cpu 1.
func BenchmarkFMAPeak(b *testing.B) {
	const iters = 1 << 20
	for b.Loop() {
		fmaPeakAVX2(iters)
	}
	b.ReportMetric(192*iters*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
