package vec

import "math"

// ReLU sets dst[i] = max(src[i], 0) for every i < len(dst), as Go's max does (NaN stays NaN,
// -0 becomes +0); src must be at least as long. dst may be src.
//
// Cost: one load, one compare, one and, one store per element. The AVX2 version keeps the
// elements where src > 0 or src is NaN (VCMPPS not-less-or-equal, unordered) and clears the
// rest with VANDPS, 32 elements an iteration, then 8, then one at a time.
func ReLU(dst, src []float32) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	if useAVX2 {
		reluAVX2(&dst[0], &src[0], len(dst))
		return
	}
	reluGo(dst, src)
}

func reluGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] = max(v, 0)
	}
}

// ReLUMask sets dx[i] = dy[i] where y[i] > 0, else 0 (+Inf counts as above 0, NaN does not),
// for every i < len(dx); dy and y must be at least as long. dx may be dy.
//
// Cost: two loads, one compare, one and, one store per element; no branches, since about
// half of a ReLU's outputs are zero in no pattern a branch predictor could follow. The AVX2
// version compares y > 0 (ordered) with VCMPPS and keeps dy with VANDPS.
func ReLUMask(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	if len(dx) == 0 {
		return
	}
	if useAVX2 {
		reluMaskAVX2(&dx[0], &dy[0], &y[0], len(dx))
		return
	}
	reluMaskGo(dx, dy, y)
}

// reluMaskGo is ReLUMask in plain Go: y > 0 (+Inf included, NaN not) is exactly
// 1 <= bits(y) <= bits(+Inf) as unsigned integers, which becomes an all-ones or all-zero mask
// on dy's bits, so the loop has no branch either.
func reluMaskGo(dx, dy, y []float32) {
	dy, y = dy[:len(dx)], y[:len(dx)]
	const inf = 0x7f800000
	for i, v := range y {
		keep := uint32(0)
		if math.Float32bits(v)-1 < inf {
			keep = ^uint32(0)
		}
		dx[i] = math.Float32frombits(math.Float32bits(dy[i]) & keep)
	}
}
