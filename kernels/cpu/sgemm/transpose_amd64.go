package sgemm

// transpose8AVX2 is Transpose8 for n ≥ 1 blocks (transpose_amd64.s).
//
//go:noescape
func transpose8AVX2(dst *float32, dstLd, dstStep int, src *float32, srcLd, srcStep, n int)
