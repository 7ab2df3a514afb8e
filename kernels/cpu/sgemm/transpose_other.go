//go:build !amd64

package sgemm

func transpose8AVX2(dst *float32, dstLd, dstStep int, src *float32, srcLd, srcStep, n int) {
	panic("sgemm: no AVX2 here")
}
