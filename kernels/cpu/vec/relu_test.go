package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// specials are the values where a ReLU is easy to get wrong.
var specials = []float32{0, float32(math.Copysign(0, -1)), 1, -1, float32(math.Inf(1)), float32(math.Inf(-1)),
	float32(math.NaN()), math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, math.MaxFloat32, -math.MaxFloat32}

// testValues returns n values, the specials first, then random normals.
func testValues(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		if i < len(specials) {
			v[i] = specials[i]
		} else {
			v[i] = float32(rng.NormFloat64())
		}
	}
	rng.Shuffle(n, func(i, j int) { v[i], v[j] = v[j], v[i] })
	return v
}

// TestReLU checks ReLU against its definition (Go's max(x, 0), bit for bit) on lengths that
// cover every loop's tail, writing into a slice whose NaN neighbours must stay, and in place.
func TestReLU(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for _, n := range []int{1, 7, 8, 11, 33, 70, 1029} {
			src := testValues(rng, n)
			buf := make([]float32, n+2)
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
			dst := buf[1 : n+1]
			ReLU(dst, src)
			for i, x := range src {
				if want := max(x, 0); math.Float32bits(dst[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d: ReLU(%v) = %v, want %v", n, x, dst[i], want)
				}
			}
			if !math.IsNaN(float64(buf[0])) || !math.IsNaN(float64(buf[n+1])) {
				t.Fatalf("n=%d: ReLU wrote outside dst", n)
			}
			inPlace := append([]float32(nil), src...)
			ReLU(inPlace, inPlace)
			for i := range inPlace {
				if math.Float32bits(inPlace[i]) != math.Float32bits(dst[i]) {
					t.Fatalf("n=%d: in place, element %d is %v, want %v", n, i, inPlace[i], dst[i])
				}
			}
		}
	})
}

// TestReLUMask checks ReLUMask against its definition (dy where y > 0, else +0) on the
// special values in both y and dy, with the same tails and neighbours.
func TestReLUMask(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		for _, n := range []int{1, 7, 8, 11, 33, 70, 1029} {
			y, dy := testValues(rng, n), testValues(rng, n)
			buf := make([]float32, n+2)
			for i := range buf {
				buf[i] = float32(math.NaN())
			}
			dx := buf[1 : n+1]
			ReLUMask(dx, dy, y)
			for i := range y {
				var want float32
				if y[i] > 0 {
					want = dy[i]
				}
				if math.Float32bits(dx[i]) != math.Float32bits(want) {
					t.Fatalf("n=%d: ReLUMask(dy %v, y %v) = %v, want %v", n, dy[i], y[i], dx[i], want)
				}
			}
			if !math.IsNaN(float64(buf[0])) || !math.IsNaN(float64(buf[n+1])) {
				t.Fatalf("n=%d: ReLUMask wrote outside dx", n)
			}
		}
	})
}
