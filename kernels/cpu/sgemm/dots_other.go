//go:build !amd64

package sgemm

// hasDotKernel: no assembly on this architecture; Dots runs its scalar loop.
var hasDotKernel = false

func dotKernel(k int, a *float32, lda int, b *float32, ldb int, sums *float32) {
	panic("sgemm: no dot kernel on this architecture")
}
