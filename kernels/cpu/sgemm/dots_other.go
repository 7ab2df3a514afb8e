//go:build !amd64

package sgemm

// dotKernel: no assembly on this architecture; Dots runs its scalar loop.
var dotKernel func(k int, a *float32, lda int, b *float32, ldb int, sums *float32)
