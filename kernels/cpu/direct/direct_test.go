package direct

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/vgglab/vgg/kernels/cpu/simd"
)

func TestMain(m *testing.M) {
	if s := simd.Unavailable(); s != "" {
		println("direct: variants not run here:", s)
	}
	m.Run()
}

func randomSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func poisoned(n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(math.NaN())
	}
	return s
}

// tolerance is the error bound for a float32 sum of terms products whose magnitudes add up to
// mag: each rounding is at most half an ulp of a partial sum bounded by mag.
func tolerance(terms int, mag float64) float64 { return float64(terms+2) * mag * 0x1p-24 }

// TestForwardTile checks every variant's forward tile (with its bias) against a float64 sum on random
// inputs, with odd strides and channel counts, the output poisoned around the tile.
func TestForwardTile(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, v := range Variants() {
		for _, c := range []struct{ channels, rowStride int }{{1, 5}, {3, 9}, {7, 17}, {16, 65}} {
			planeLen := v.Cols + 2*c.rowStride + 2 + 3
			outLd := v.Cols + 5
			in := randomSlice(rng, c.channels*planeLen)
			w, bias := randomSlice(rng, c.channels*9*v.Rows), randomSlice(rng, v.Rows)
			out := poisoned(v.Rows*outLd + 3)
			v.Forward(out, outLd, in, planeLen, c.rowStride, c.channels, w, bias)
			for m := 0; m < v.Rows; m++ {
				for j := 0; j < outLd; j++ {
					got := out[m*outLd+j]
					if j >= v.Cols {
						if !math.IsNaN(float64(got)) {
							t.Fatalf("%s: wrote outside the tile at row %d column %d", v.Name, m, j)
						}
						continue
					}
					want, mag := float64(bias[m]), math.Abs(float64(bias[m]))
					for ch := 0; ch < c.channels; ch++ {
						for tap := 0; tap < 9; tap++ {
							p := float64(w[(ch*9+tap)*v.Rows+m]) * float64(in[ch*planeLen+j+tap/3*c.rowStride+tap%3])
							want += p
							mag += math.Abs(p)
						}
					}
					if math.Abs(float64(got)-want) > tolerance(9*c.channels+1, mag) {
						t.Fatalf("%s %+v: out[%d][%d] = %g, want %g", v.Name, c, m, j, got, want)
					}
				}
			}
		}
	}
}

// TestFilterTile checks every variant's weight-gradient tile, which adds to its partial sums.
func TestFilterTile(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	for _, v := range Variants() {
		for _, steps := range []int{1, 3, 37} {
			n := steps * v.Lanes
			dyLd := n + 7
			dy := randomSlice(rng, v.FilterRows*dyLd)
			x := randomSlice(rng, n+2)
			acc := randomSlice(rng, v.FilterRows*3*v.Lanes)
			before := append([]float32(nil), acc...)
			v.Filter(acc, dy, dyLd, x, n)
			for m := 0; m < v.FilterRows; m++ {
				for kx := 0; kx < 3; kx++ {
					for l := 0; l < v.Lanes; l++ {
						i := (m*3+kx)*v.Lanes + l
						want, mag := float64(before[i]), math.Abs(float64(before[i]))
						for s := 0; s < steps; s++ {
							p := float64(dy[m*dyLd+s*v.Lanes+l]) * float64(x[s*v.Lanes+l+kx])
							want += p
							mag += math.Abs(p)
						}
						if math.Abs(float64(acc[i])-want) > tolerance(steps, mag) {
							t.Fatalf("%s: %d steps: acc[%d][%d][%d] = %g, want %g", v.Name, steps, m, kx, l, acc[i], want)
						}
					}
				}
			}
		}
	}
}

// TestPackScatter checks that a batch survives Pack and Scatter and that Pack leaves zeros
// wherever no pixel lies, which the kernels rely on for the padding.
func TestPackScatter(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	l := Layout{N: 3, H: 5, W: 7}
	p := NewPlane(l, 24)
	const channels = 4
	src := randomSlice(rng, l.N*channels*l.H*l.W)
	dst := poisoned(channels * p.Len)
	for u := channels*l.N - 1; u >= 0; u-- { // one unit at a time, in any order, as workers would
		p.Pack(dst, src, channels, u, u+1)
	}
	pixels := 0
	for c := 0; c < channels; c++ {
		plane := dst[c*p.Len:][:p.Len]
		for i, v := range plane {
			j := i - p.Base()
			n, rest := j/l.ImageStride(), j%l.ImageStride()
			y, x := rest/l.RowStride(), rest%l.RowStride()
			inside := j >= 0 && n < l.N && y < l.H && x < l.W
			switch {
			case inside && v != src[((n*channels+c)*l.H+y)*l.W+x]:
				t.Fatalf("plane %d position %d: %g, want pixel (%d,%d,%d)", c, i, v, n, y, x)
			case inside:
				pixels++
			case v != 0:
				t.Fatalf("plane %d position %d: %g, want 0 (padding)", c, i, v)
			}
		}
	}
	if pixels != channels*l.N*l.H*l.W {
		t.Fatalf("%d pixels packed, want %d", pixels, channels*l.N*l.H*l.W)
	}
	// Scatter back in tiles of 24 positions, as the kernels compute them: every pixel of
	// channels 1 and 2 comes back, nothing else is written.
	back := poisoned(len(src))
	for j := 0; j < p.Cols; j += 24 {
		p.Scatter(back, channels, 1, 2, dst[p.Len+p.Base()+j:], p.Len, j, 24)
	}
	for i, v := range back {
		c := i / (l.H * l.W) % channels
		if c < 1 || c >= 3 {
			if !math.IsNaN(float64(v)) {
				t.Fatalf("Scatter wrote channel %d", c)
			}
			continue
		}
		if v != src[i] {
			t.Fatalf("Scatter: element %d = %g, want %g", i, v, src[i])
		}
	}
}

// TestSumLanes checks every variant's sums across lanes, the output poisoned past its end.
func TestSumLanes(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, v := range Variants() {
		for _, groups := range []int{1, 5, 24} {
			src := randomSlice(rng, groups*v.Lanes)
			dst := poisoned(groups + 1)
			v.SumLanes(dst[:groups], src)
			for i := 0; i < groups; i++ {
				var want, mag float64
				for _, p := range src[i*v.Lanes:][:v.Lanes] {
					want += float64(p)
					mag += math.Abs(float64(p))
				}
				if math.Abs(float64(dst[i])-want) > tolerance(v.Lanes, mag) {
					t.Fatalf("%s: group %d sums to %g, want %g", v.Name, i, dst[i], want)
				}
			}
			if !math.IsNaN(float64(dst[groups])) {
				t.Fatalf("%s: wrote past the last group", v.Name)
			}
		}
	}
}

// BenchmarkPack packs the small network's layer inputs (batch 16), in GB/s of planes written.
func BenchmarkPack(b *testing.B) {
	for _, s := range []struct{ c, hw int }{{8, 64}, {16, 32}, {32, 16}, {64, 8}, {64, 4}} {
		l := Layout{N: 16, H: s.hw, W: s.hw}
		p := NewPlane(l, 48)
		src := make([]float32, l.N*s.c*s.hw*s.hw)
		dst := make([]float32, s.c*p.Len)
		b.Run(fmt.Sprintf("%dx%dx%d", s.c, s.hw, s.hw), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				p.Pack(dst, src, s.c, 0, s.c*l.N)
			}
			b.ReportMetric(float64(4*len(dst))*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
		})
	}
}

// BenchmarkKernels runs each variant's tiles on L1-resident data: the kernels' own ceiling,
// in GFLOP/s (two per multiply-add).
func BenchmarkKernels(b *testing.B) {
	rng := rand.New(rand.NewSource(5))
	for _, v := range Variants() {
		const channels, rowStride = 16, 65
		planeLen := v.Cols + 2*rowStride + 2
		in, w := randomSlice(rng, channels*planeLen), randomSlice(rng, channels*9*v.Rows)
		bias, out := randomSlice(rng, v.Rows), make([]float32, v.Rows*v.Cols)
		b.Run(v.Name+"/forward", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				v.Forward(out, v.Cols, in, planeLen, rowStride, channels, w, bias)
			}
			b.ReportMetric(float64(2*channels*9*v.Rows*v.Cols)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		const n = 512
		dy, x := randomSlice(rng, v.FilterRows*n), randomSlice(rng, n+2)
		acc := make([]float32, v.FilterRows*3*v.Lanes)
		b.Run(v.Name+"/filter", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				v.Filter(acc, dy, n, x, n)
			}
			b.ReportMetric(float64(2*v.FilterRows*3*n)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
