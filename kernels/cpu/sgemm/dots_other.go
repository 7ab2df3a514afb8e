//go:build !amd64

package sgemm

// dotKernel: no assembly on this architecture (simd allows no AVX2 here, so it is never called).
func dotKernel(k int, a *float32, lda int, b *float32, ldb int, sums *float32) {
	panic("sgemm: no dot kernel on this architecture")
}
