package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// forEachVariant runs f with each version of the loops this machine runs, and says which
// it cannot run.
func forEachVariant(t *testing.T, f func(t *testing.T)) {
	saved := useAVX2
	defer func() { useAVX2 = saved }()
	variants := []string{"go"}
	if saved {
		variants = append(variants, "avx2")
	} else {
		t.Log("avx2 not run: this CPU (or VGG_SIMD) does not allow it")
	}
	for _, name := range variants {
		useAVX2 = name == "avx2"
		t.Run(name, f)
	}
}

// TestAdd compares Add with float64 sums over lengths that cover every loop's tail, on
// slices cut out of larger ones whose neighbours are NaN: an element outside dst that was
// read or written would show.
func TestAdd(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for _, n := range []int{0, 1, 3, 7, 8, 9, 31, 32, 33, 63, 100, 1027} {
			dstBuf := make([]float32, n+2)
			srcBuf := make([]float32, n+2)
			for i := range dstBuf {
				dstBuf[i], srcBuf[i] = float32(math.NaN()), float32(math.NaN())
			}
			dst, src := dstBuf[1:n+1], srcBuf[1:n+1]
			for i := range dst {
				dst[i], src[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			}
			want := make([]float64, n)
			for i := range want {
				// One float32 addition is correctly rounded: the float64 sum rounded to
				// float32 is the only right answer.
				want[i] = float64(float32(float64(dst[i]) + float64(src[i])))
			}
			Add(dst, src)
			for i := range dst {
				if float64(dst[i]) != want[i] {
					t.Fatalf("n=%d: dst[%d] = %v, want %v", n, i, dst[i], want[i])
				}
			}
			if !math.IsNaN(float64(dstBuf[0])) || !math.IsNaN(float64(dstBuf[n+1])) {
				t.Fatalf("n=%d: Add wrote outside dst", n)
			}
		}
	})
}
