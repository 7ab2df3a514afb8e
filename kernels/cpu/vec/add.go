// Package vec holds the CPU backend's elementwise loops over float32 slices: in assembly
// where the CPU has AVX2 (and kernels/cpu/simd allows it), in plain Go elsewhere. Each loop
// does per element exactly what its plain-Go twin does, so both give bit-identical results.
package vec

import "github.com/vgglab/vgg/kernels/cpu/simd"

// Add sets dst[i] += src[i] for every i < len(dst); src must be at least as long.
//
// Cost: one load of each, one add and one store per element; memory-bound for long slices.
// The AVX2 version adds 32 elements (four YMM registers) per iteration, then 8 at a time,
// then one at a time.
func Add(dst, src []float32) {
	src = src[:len(dst)]
	if len(dst) == 0 {
		return
	}
	if useAVX2 {
		addAVX2(&dst[0], &src[0], len(dst))
		return
	}
	addGo(dst, src)
}

// addGo is Add in plain Go, the reference and fallback.
func addGo(dst, src []float32) {
	src = src[:len(dst)]
	for i, v := range src {
		dst[i] += v
	}
}

// useAVX2 says whether the assembly loops run (simd allows AVX2 only on amd64, where they
// exist); tests flip it to run both versions.
var useAVX2 = simd.Allowed(simd.AVX2)
