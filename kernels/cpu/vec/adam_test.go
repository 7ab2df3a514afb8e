package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestAdam checks Adam against its plain-Go twin bit for bit, decoupled and not, on lengths
// that cover the tail, with special values among the parameters and gradients, and that it
// leaves the elements past the slices alone.
func TestAdam(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 8))
		for _, decoupled := range []bool{false, true} {
			s := AdamStep{LR: 1e-3, WeightDecay: 0.05, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, Corr1: 0.271, Corr2: 0.00299, Decoupled: decoupled}
			for _, n := range []int{1, 7, 8, 13, 64, 1001} {
				p, g := testValues(rng, n+1), testValues(rng, n+1)
				m, v := testValues(rng, n+1), testValues(rng, n+1)
				for i := range v {
					v[i] = float32(math.Abs(float64(v[i]))) // a second moment is never negative
				}
				wp, wm, wv := append([]float32(nil), p...), append([]float32(nil), m...), append([]float32(nil), v...)
				adamGo(wp[:n], g[:n], wm[:n], wv[:n], s)
				Adam(p[:n], g, m, v, s)
				for i := 0; i <= n; i++ {
					for _, c := range []struct {
						name      string
						got, want float32
					}{{"p", p[i], wp[i]}, {"m", m[i], wm[i]}, {"v", v[i], wv[i]}} {
						if math.Float32bits(c.got) != math.Float32bits(c.want) {
							t.Fatalf("decoupled=%v n=%d: %s[%d] = %v, want %v", decoupled, n, c.name, i, c.got, c.want)
						}
					}
				}
			}
		}
	})
}

// TestAdamDefinition checks the plain-Go twin on one element worked out by hand.
func TestAdamDefinition(t *testing.T) {
	p, g, m, v := []float32{1}, []float32{0.5}, []float32{0.2}, []float32{0.04}
	s := AdamStep{LR: 0.1, WeightDecay: 0.1, Beta1: 0.5, Beta2: 0.5, Eps: 0, Corr1: 0.5, Corr2: 0.5}
	adamGo(p, g, m, v, s)
	// g = 0.5 + 0.1·1 = 0.6; m = 0.1 + 0.3 = 0.4; v = 0.02 + 0.18 = 0.2;
	// p = 1 - 0.1·0.8/sqrt(0.4).
	want := 1 - 0.1*0.8/math.Sqrt(0.4)
	if math.Abs(float64(p[0])-want) > 1e-6 || math.Abs(float64(m[0])-0.4) > 1e-7 || math.Abs(float64(v[0])-0.2) > 1e-7 {
		t.Fatalf("p, m, v = %v, %v, %v; want %v, 0.4, 0.2", p[0], m[0], v[0], want)
	}
}
