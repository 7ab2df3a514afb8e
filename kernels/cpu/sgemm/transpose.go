package sgemm

import "github.com/vgglab/vgg/kernels/cpu/simd"

// hasTransposeKernel says whether Transpose8 runs in assembly here (AVX2).
var hasTransposeKernel = simd.Allowed(simd.AVX2)

// Transpose8 transposes n 8x8 blocks: for b < n and i, j < 8,
//
//	dst[b·dstStep + j·dstLd + i] = src[b·srcStep + i·srcLd + j]
//
// packB transposes B's blocks with it, and the Winograd weight gradient its transforms
// (made eight tiles to a vector, channel by channel, into rows of channels, tile by tile).
func Transpose8(dst []float32, dstLd, dstStep int, src []float32, srcLd, srcStep, n int) {
	if n <= 0 {
		return
	}
	_ = dst[(n-1)*dstStep+7*dstLd+7]
	_ = src[(n-1)*srcStep+7*srcLd+7]
	if hasTransposeKernel {
		transpose8AVX2(&dst[0], dstLd, dstStep, &src[0], srcLd, srcStep, n)
		return
	}
	transpose8Go(dst, dstLd, dstStep, src, srcLd, srcStep, n)
}

// transpose8Go is Transpose8 in plain Go.
func transpose8Go(dst []float32, dstLd, dstStep int, src []float32, srcLd, srcStep, n int) {
	for b := range n {
		for i := range 8 {
			for j := range 8 {
				dst[b*dstStep+j*dstLd+i] = src[b*srcStep+i*srcLd+j]
			}
		}
	}
}
