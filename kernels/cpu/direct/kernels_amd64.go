package direct

import "github.com/vgglab/vgg/kernels/cpu/simd"

// forward8x48AVX512 (forward_amd64.s) is Forward for an 8 x 48 tile: 24 ZMM accumulators,
// 8 filters x 3 vectors of 16 positions; each tap loads 3 input vectors and broadcasts 8
// weights for 24 fused multiply-adds; the biases are added at the end. Sizes in bytes.
//
//go:noescape
func forward8x48AVX512(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32)

// forward4x24AVX2 (forward_amd64.s) is Forward for a 4 x 24 tile: 12 YMM accumulators, 4
// filters x 3 vectors of 8; each tap loads 3 input vectors and broadcasts 4 weights for 12
// fused multiply-adds. Sizes in bytes.
//
//go:noescape
func forward4x24AVX2(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32)

// filter8x3AVX512 (filter_amd64.s) is Filter for 8 filters x 3 taps x 16 lanes: 24 ZMM
// partial sums; each step loads 3 shifted input vectors and 8 gradient vectors for 24 fused
// multiply-adds. dyLd in bytes, n in floats.
//
//go:noescape
func filter8x3AVX512(acc, dy *float32, dyLd int, x *float32, n int)

// filter4x3AVX2 (filter_amd64.s) is Filter for 4 filters x 3 taps x 8 lanes: 12 YMM partial
// sums; each step loads 3 input vectors and 4 gradient vectors for 12 fused multiply-adds.
//
//go:noescape
func filter4x3AVX2(acc, dy *float32, dyLd int, x *float32, n int)

// sumLanes16AVX512 and sumLanes8AVX2 (filter_amd64.s) are SumLanes for 16 and 8 lanes.
//
//go:noescape
func sumLanes16AVX512(dst, src *float32, groups int)

//go:noescape
func sumLanes8AVX2(dst, src *float32, groups int)

var avx512Variant = &Variant{Name: "avx512", Rows: 8, Cols: 48, FilterRows: 8, Lanes: 16,
	forward: func(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32) {
		forward8x48AVX512(out, 4*outLd, in, 4*planeLen, 4*rowStride, channels, w, bias)
	},
	filter:   func(acc, dy *float32, dyLd int, x *float32, n int) { filter8x3AVX512(acc, dy, 4*dyLd, x, n) },
	sumLanes: sumLanes16AVX512,
}

var avx2Variant = &Variant{Name: "avx2", Rows: 4, Cols: 24, FilterRows: 4, Lanes: 8,
	forward: func(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32) {
		forward4x24AVX2(out, 4*outLd, in, 4*planeLen, 4*rowStride, channels, w, bias)
	},
	filter:   func(acc, dy *float32, dyLd int, x *float32, n int) { filter4x3AVX2(acc, dy, 4*dyLd, x, n) },
	sumLanes: sumLanes8AVX2,
}

func archVariants() []*Variant {
	var vs []*Variant
	if simd.Allowed(simd.AVX512) {
		vs = append(vs, avx512Variant)
	}
	if simd.Allowed(simd.AVX2) {
		vs = append(vs, avx2Variant)
	}
	return vs
}
