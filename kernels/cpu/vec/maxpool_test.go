package vec

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestMaxPoolRows checks MaxPoolRows against its plain-Go twin bit for bit (values and
// offsets), on rows whose windows hold ties, NaNs, signed zeros and infinities (specials
// drawn into a small set so that ties are common), on lengths that cover the tail, with
// poisoned neighbours around both outputs.
func TestMaxPoolRows(t *testing.T) {
	forEachVariant(t, func(t *testing.T) {
		rng := rand.New(rand.NewPCG(5, 6))
		pool := append([]float32{2, -3}, specials...)
		for _, n := range []int{1, 7, 8, 9, 16, 29, 64, 800} {
			top, bottom := make([]float32, 2*n), make([]float32, 2*n)
			for i := range top {
				top[i], bottom[i] = pool[rng.IntN(len(pool))], pool[rng.IntN(len(pool))]
			}
			const at, width = 37, 2*64 + 3
			out, arg := make([]float32, n+2), make([]int32, n+2)
			out[0], out[n+1], arg[0], arg[n+1] = float32(math.NaN()), float32(math.NaN()), -7, -7
			MaxPoolRows(out[1:n+1], arg[1:n+1], top, bottom, at, width)
			want, wantArg := make([]float32, n), make([]int32, n)
			maxPoolRowsGo(want, wantArg, top, bottom, at, width)
			for j := range want {
				if math.Float32bits(out[j+1]) != math.Float32bits(want[j]) || arg[j+1] != wantArg[j] {
					t.Fatalf("n=%d window %d (%v %v / %v %v): got %v at %d, want %v at %d", n, j,
						top[2*j], top[2*j+1], bottom[2*j], bottom[2*j+1], out[j+1], arg[j+1], want[j], wantArg[j])
				}
			}
			if !math.IsNaN(float64(out[0])) || !math.IsNaN(float64(out[n+1])) || arg[0] != -7 || arg[n+1] != -7 {
				t.Fatalf("n=%d: wrote outside out or arg", n)
			}
		}
	})
}

// TestMaxPoolRowsDefinition checks the plain-Go twin itself on hand-made windows.
func TestMaxPoolRowsDefinition(t *testing.T) {
	nan := float32(math.NaN())
	for _, c := range []struct {
		window [4]float32
		want   float32
		arg    int32
	}{
		{[4]float32{1, 2, 3, 4}, 4, 11},
		{[4]float32{4, 3, 2, 1}, 4, 0},
		{[4]float32{1, 3, 3, 2}, 3, 1},     // a tie goes to the earlier element
		{[4]float32{nan, 5, 6, 7}, nan, 0}, // nothing is greater than a NaN in the first place
		{[4]float32{1, nan, 0, 2}, 2, 11},  // a NaN elsewhere never wins
	} {
		out, arg := make([]float32, 1), make([]int32, 1)
		maxPoolRowsGo(out, arg, c.window[:2], c.window[2:], 0, 10)
		if math.Float32bits(out[0]) != math.Float32bits(c.want) || arg[0] != c.arg {
			t.Errorf("%v: got %v at %d, want %v at %d", c.window, out[0], arg[0], c.want, c.arg)
		}
	}
}
