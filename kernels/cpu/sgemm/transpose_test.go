package sgemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestTranspose8 checks Transpose8 (in assembly where the CPU has AVX2) and transpose8Go
// against indexing, with strides that leave gaps (which must stay NaN).
func TestTranspose8(t *testing.T) {
	for _, impl := range []string{"Transpose8", "transpose8Go"} {
		t.Run(impl, func(t *testing.T) { testTranspose8(t, impl) })
	}
	if !hasTransposeKernel {
		t.Log("no AVX2 here (or VGG_SIMD=go): only the plain-Go transpose was tested")
	}
}

func testTranspose8(t *testing.T, impl string) {
	rng := rand.New(rand.NewPCG(17, 18))
	const n, srcLd, srcStep, dstLd, dstStep = 3, 11, 97, 13, 110
	src := make([]float32, (n-1)*srcStep+7*srcLd+8)
	for i := range src {
		src[i] = float32(rng.NormFloat64())
	}
	dst := make([]float32, (n-1)*dstStep+7*dstLd+8)
	for i := range dst {
		dst[i] = float32(math.NaN())
	}
	if impl == "Transpose8" {
		Transpose8(dst, dstLd, dstStep, src, srcLd, srcStep, n)
	} else {
		transpose8Go(dst, dstLd, dstStep, src, srcLd, srcStep, n)
	}
	written := 0
	for b := range n {
		for i := range 8 {
			for j := range 8 {
				if got, want := dst[b*dstStep+j*dstLd+i], src[b*srcStep+i*srcLd+j]; got != want {
					t.Fatalf("block %d (%d, %d): %v, want %v", b, i, j, got, want)
				}
				written++
			}
		}
	}
	for _, v := range dst {
		if !math.IsNaN(float64(v)) {
			written--
		}
	}
	if written != 0 {
		t.Fatalf("%d elements outside the blocks were written", -written)
	}
}
