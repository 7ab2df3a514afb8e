package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// momentResults runs every batch-norm loop on the same inputs and returns all its outputs as
// float64 bit patterns, for comparing variants bit for bit.
func momentResults(x, dy []float32, mean float64) []uint64 {
	var out []uint64
	add := func(v ...float64) {
		for _, f := range v {
			out = append(out, math.Float64bits(f))
		}
	}
	add(Sum(x), SumSqDev(x, mean))
	a, b := SumDyDev(dy, x, mean)
	add(a, b)
	y := make([]float32, len(x))
	Normalise(y, x, mean, 0.7, -0.2)
	for _, v := range y {
		add(float64(v))
	}
	dx := make([]float32, len(x))
	NormaliseGrad(dx, dy, x, mean, 1.3, 0.7, 0.01, -0.4)
	for _, v := range dx {
		add(float64(v))
	}
	return out
}

// The batch-norm loops: each variant against float64 references (sums within a few rounding
// errors of float64, elements exactly as their expression), and the variants against each
// other bit for bit, on lengths that leave every tail, around a large mean too.
func TestMoments(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, n := range []int{1, 7, 8, 9, 16, 17, 100, 1027} {
		for _, offset := range []float64{0, 1000} {
			x, dy := make([]float32, n), make([]float32, n)
			for i := range x {
				x[i] = float32(offset + rng.NormFloat64())
				dy[i] = float32(rng.NormFloat64())
			}
			mean := offset + 0.1
			var variants [][]uint64
			forEachVariant(t, func(t *testing.T) {
				checkMoments(t, x, dy, mean)
				variants = append(variants, momentResults(x, dy, mean))
			})
			for v := 1; v < len(variants); v++ {
				for i := range variants[0] {
					if variants[v][i] != variants[0][i] {
						t.Fatalf("n=%d offset %g: output %d differs between variants: %v and %v", n, offset, i,
							math.Float64frombits(variants[0][i]), math.Float64frombits(variants[v][i]))
					}
				}
			}
		}
	}
}

func checkMoments(t *testing.T, x, dy []float32, mean float64) {
	t.Helper()
	var sum, sq, sdy, sdd, mag float64
	for i, v := range x {
		d := float64(v) - mean
		sum, sq, sdy, sdd = sum+float64(v), sq+d*d, sdy+float64(dy[i]), sdd+float64(dy[i])*d
		mag += math.Abs(float64(v)) + d*d + math.Abs(float64(dy[i])*d) + math.Abs(float64(dy[i]))
	}
	tol := 4 * float64(len(x)) * 0x1p-52 * (mag + 1)
	a, b := SumDyDev(dy, x, mean)
	for _, c := range []struct {
		name      string
		got, want float64
	}{{"Sum", Sum(x), sum}, {"SumSqDev", SumSqDev(x, mean), sq}, {"SumDyDev dy", a, sdy}, {"SumDyDev dy·dev", b, sdd}} {
		if math.Abs(c.got-c.want) > tol {
			t.Fatalf("n=%d: %s = %v, want %v (tolerance %g)", len(x), c.name, c.got, c.want, tol)
		}
	}
	y := make([]float32, len(x)+1)
	y[len(x)] = float32(math.NaN())
	Normalise(y[:len(x)], x, mean, 0.7, -0.2)
	dx := make([]float32, len(x)+1)
	dx[len(x)] = float32(math.NaN())
	NormaliseGrad(dx[:len(x)], dy, x, mean, 1.3, 0.7, 0.01, -0.4)
	for i, v := range x {
		if want := float32((float64(v)-mean)*0.7 + -0.2); y[i] != want {
			t.Fatalf("n=%d: Normalise element %d = %v, want %v", len(x), i, y[i], want)
		}
		xhat := (float64(v) - mean) * 1.3
		if want := float32(0.7 * (float64(dy[i]) - 0.01 - xhat*-0.4)); dx[i] != want {
			t.Fatalf("n=%d: NormaliseGrad element %d = %v, want %v", len(x), i, dx[i], want)
		}
	}
	if !math.IsNaN(float64(y[len(x)])) || !math.IsNaN(float64(dx[len(x)])) {
		t.Fatalf("n=%d: wrote past the end", len(x))
	}
}
