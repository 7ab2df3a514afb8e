package sgemm

// dot4x3AVX2 (dots_amd64.s) writes to sums[i*3+j] the dot product over k values (k a
// positive multiple of 8) of row i of a (rows lda floats apart) and row j of b (ldb apart),
// for i < 4, j < 3.
//
//go:noescape
func dot4x3AVX2(k int, a *float32, lda int, b *float32, ldb int, sums *float32)

// dotKernel is Dots' tile kernel. It is called directly, not through a function value, so
// that the compiler sees sums does not escape and keeps it on the stack.
func dotKernel(k int, a *float32, lda int, b *float32, ldb int, sums *float32) {
	dot4x3AVX2(k, a, lda, b, ldb, sums)
}
