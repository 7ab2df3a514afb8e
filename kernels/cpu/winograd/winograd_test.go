package winograd

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The transforms in float64, straight from the matrices, as the reference.
var (
	bt = [][]float64{
		{4, 0, -5, 0, 1, 0},
		{0, -4, -4, 1, 1, 0},
		{0, 4, -4, -1, 1, 0},
		{0, -2, -1, 2, 1, 0},
		{0, 2, -1, -2, 1, 0},
		{0, 4, 0, -5, 0, 1},
	}
	gm = [][]float64{
		{1.0 / 4, 0, 0},
		{-1.0 / 6, -1.0 / 6, -1.0 / 6},
		{-1.0 / 6, 1.0 / 6, -1.0 / 6},
		{1.0 / 24, 1.0 / 12, 1.0 / 6},
		{1.0 / 24, -1.0 / 12, 1.0 / 6},
		{0, 0, 1},
	}
	at = [][]float64{
		{1, 1, 1, 1, 1, 0},
		{0, 1, -1, 2, -2, 0},
		{0, 1, 1, 4, 4, 0},
		{0, 1, -1, 8, -8, 1},
	}
)

// sandwich returns L X Lᵀ for L rows x cols and X cols x cols, and the same with |L|, |X|
// (the scale a float32 result's rounding error is measured against).
func sandwich(l [][]float64, x [][]float64) (out, mag [][]float64) {
	rows, cols := len(l), len(x)
	out, mag = make([][]float64, rows), make([][]float64, rows)
	for i := range rows {
		out[i], mag[i] = make([]float64, rows), make([]float64, rows)
		for j := range rows {
			for a := range cols {
				for b := range cols {
					out[i][j] += l[i][a] * x[a][b] * l[j][b]
					mag[i][j] += math.Abs(l[i][a] * x[a][b] * l[j][b])
				}
			}
		}
	}
	return out, mag
}

// closeTo reports whether got is want to within a float32 rounding of each of the at most
// 36·2 additions and multiplications that make it: |got − want| ≤ 100·2⁻²⁴·mag, mag being
// the sum of the absolute terms.
func closeTo(got float32, want, mag float64) bool {
	return math.Abs(float64(got)-want) <= 100*0x1p-24*mag
}

// TestData runs Data on every lane count, through the assembly where this machine runs it
// (multiples of 8) and plain Go (the rest, and dataGo on all), against Bᵀ d B in float64;
// the lanes beyond and the rows between are NaN before and must stay so.
func TestData(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	btRows := bt
	for _, lanes := range []int{1, 5, 8, 16, 24, 32} {
		for _, impl := range []string{"Data", "dataGo"} {
			t.Run(fmt.Sprintf("%s/%d", impl, lanes), func(t *testing.T) {
				var s DataStage
				patches := make([][][]float64, lanes)
				for tile := range lanes {
					patches[tile] = make([][]float64, In)
					for r := range In {
						patches[tile][r] = make([]float64, In)
						for c := range In {
							x := float32(rng.NormFloat64())
							patches[tile][r][c] = float64(x)
							s[(r*In+c)*StageLanes+tile] = x
						}
					}
				}
				stride := lanes + 3
				v := make([]float32, Terms*stride)
				for i := range v {
					v[i] = float32(math.NaN())
				}
				if impl == "Data" {
					Data(v, stride, &s, lanes)
				} else {
					dataGo(v, stride, &s, lanes)
				}
				for tile := range lanes {
					want, mag := sandwich(btRows, patches[tile])
					for xi := range Terms {
						if got := v[xi*stride+tile]; !closeTo(got, want[xi/In][xi%In], mag[xi/In][xi%In]) {
							t.Fatalf("tile %d element %d: %v, want %v", tile, xi, got, want[xi/In][xi%In])
						}
					}
				}
				for xi := range Terms {
					for tile := lanes; tile < stride; tile++ {
						if !math.IsNaN(float64(v[xi*stride+tile])) {
							t.Fatalf("row %d lane %d beyond the tiles was written", xi, tile)
						}
					}
				}
			})
		}
	}
}

// TestResult is TestData for Result: Aᵀ P A + bias.
func TestResult(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	atRows := at
	for _, lanes := range []int{1, 5, 8, 16, 24, 32} {
		for _, impl := range []string{"Result", "resultGo"} {
			t.Run(fmt.Sprintf("%s/%d", impl, lanes), func(t *testing.T) {
				stride := lanes + 5
				m := make([]float32, Terms*stride)
				for i := range m {
					m[i] = float32(rng.NormFloat64())
				}
				bias := float32(rng.NormFloat64())
				var o TileStage
				for i := range o {
					o[i] = float32(math.NaN())
				}
				if impl == "Result" {
					Result(&o, m, stride, lanes, bias)
				} else {
					resultGo(&o, m, stride, lanes, bias)
				}
				for tile := range lanes {
					p := make([][]float64, In)
					for r := range In {
						p[r] = make([]float64, In)
						for c := range In {
							p[r][c] = float64(m[(r*In+c)*stride+tile])
						}
					}
					want, mag := sandwich(atRows, p)
					for i := range Out * Out {
						w := want[i/Out][i%Out] + float64(bias)
						if got := o[i*StageLanes+tile]; !closeTo(got, w, mag[i/Out][i%Out]+math.Abs(float64(bias))) {
							t.Fatalf("tile %d result %d: %v, want %v", tile, i, got, w)
						}
					}
				}
				for i := range Out * Out {
					for tile := lanes; tile < StageLanes; tile++ {
						if !math.IsNaN(float64(o[i*StageLanes+tile])) {
							t.Fatalf("result %d lane %d beyond the tiles was written", i, tile)
						}
					}
				}
			})
		}
	}
}

// TestFilter checks Filter against G g Gᵀ in float64.
func TestFilter(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	gRows := gm
	for range 100 {
		var g [9]float32
		x := make([][]float64, 3)
		for r := range 3 {
			x[r] = make([]float64, 3)
			for c := range 3 {
				g[r*3+c] = float32(rng.NormFloat64())
				x[r][c] = float64(g[r*3+c])
			}
		}
		var u [Terms]float32
		Filter(&u, &g)
		want, mag := sandwich(gRows, x)
		for xi := range Terms {
			if !closeTo(u[xi], want[xi/In][xi%In], mag[xi/In][xi%In]) {
				t.Fatalf("element %d: %v, want %v", xi, u[xi], want[xi/In][xi%In])
			}
		}
	}
}

// TestAssemblyRuns says whether the assembly transforms ran here.
func TestAssemblyRuns(t *testing.T) {
	if !useAVX2 {
		t.Skip("no AVX2 and FMA here (or VGG_SIMD=go): only the plain-Go transforms were tested")
	}
}

// TestGather checks Gather (assembly on multiples of 8 lanes where the CPU runs it: vector
// loads for groups of 8 patches side by side, gathers for the others) and gatherGo against
// indexing the plane: patches at irregular increasing offsets, side by side (4 apart), and
// side by side in the first group only. The last patch ends at the plane's end, so that a
// read past it would fail.
func TestGather(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const rowStride = 23
	for _, lanes := range []int{1, 5, 8, 16, 24, 32} {
		for _, impl := range []string{"Gather", "gatherGo"} {
			for _, layout := range []string{"irregular", "side_by_side", "first_side_by_side"} {
				t.Run(fmt.Sprintf("%s/%d/%s", impl, lanes, layout), func(t *testing.T) {
					offsets := make([]int32, lanes)
					at := int32(rng.IntN(5))
					for i := range offsets {
						offsets[i] = at
						switch {
						case layout == "side_by_side", layout == "first_side_by_side" && i < 7:
							at += Out
						default:
							at += int32(rng.IntN(40))
						}
					}
					plane := make([]float32, int(offsets[lanes-1])+(In-1)*rowStride+In)
					for i := range plane {
						plane[i] = float32(rng.NormFloat64())
					}
					var s DataStage
					for i := range s {
						s[i] = float32(math.NaN())
					}
					if impl == "Gather" {
						Gather(&s, plane, offsets, rowStride, lanes)
					} else {
						gatherGo(&s, plane, offsets, rowStride, lanes)
					}
					for tile, at := range offsets {
						for r := range In {
							for c := range In {
								if got, want := s[(r*In+c)*StageLanes+tile], plane[int(at)+r*rowStride+c]; got != want {
									t.Fatalf("tile %d (%d, %d): %v, want %v", tile, r, c, got, want)
								}
							}
						}
					}
					for xi := range Terms {
						for tile := lanes; tile < StageLanes; tile++ {
							if !math.IsNaN(float64(s[xi*StageLanes+tile])) {
								t.Fatalf("stage row %d lane %d beyond the tiles was written", xi, tile)
							}
						}
					}
				})
			}
		}
	}
}

// TestScatter checks Scatter (assembly for whole groups of 8 tiles, Go for the rest) against
// indexing: tiles laid out as in a 36-wide image, every other element left NaN.
func TestScatter(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	const width, across = 36, 9
	for _, count := range []int{1, 7, 8, 13, 16, 29, 32} {
		t.Run(fmt.Sprint(count), func(t *testing.T) {
			var o TileStage
			for i := range o {
				o[i] = float32(rng.NormFloat64())
			}
			offsets := make([]int32, count)
			for i := range offsets {
				offsets[i] = int32(i/across*Out*width + i%across*Out)
			}
			out := make([]float32, (count/across+1)*Out*width)
			for i := range out {
				out[i] = float32(math.NaN())
			}
			Scatter(out, &o, offsets, width, count)
			written := 0
			for tile, at := range offsets {
				for r := range Out {
					for c := range Out {
						if got, want := out[int(at)+r*width+c], o[(r*Out+c)*StageLanes+tile]; got != want {
							t.Fatalf("tile %d (%d, %d): %v, want %v", tile, r, c, got, want)
						}
						written++
					}
				}
			}
			for _, v := range out {
				if !math.IsNaN(float64(v)) {
					written--
				}
			}
			if written != 0 {
				t.Fatalf("%d elements outside the tiles were written", -written)
			}
		})
	}
}

// transpose returns mᵀ.
func transpose(m [][]float64) [][]float64 {
	t := make([][]float64, len(m[0]))
	for j := range t {
		t[j] = make([]float64, len(m))
		for i := range m {
			t[j][i] = m[i][j]
		}
	}
	return t
}

// TestGrad runs Grad (assembly on multiples of 8 lanes where the CPU runs it) and gradGo
// against A y Aᵀ in float64; lanes beyond and rows between stay NaN.
func TestGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	a := transpose(at)
	for _, lanes := range []int{1, 5, 8, 16, 24, 32} {
		for _, impl := range []string{"Grad", "gradGo"} {
			t.Run(fmt.Sprintf("%s/%d", impl, lanes), func(t *testing.T) {
				var s TileStage
				tiles := make([][][]float64, lanes)
				for tile := range lanes {
					tiles[tile] = make([][]float64, Out)
					for r := range Out {
						tiles[tile][r] = make([]float64, Out)
						for c := range Out {
							x := float32(rng.NormFloat64())
							tiles[tile][r][c] = float64(x)
							s[(r*Out+c)*StageLanes+tile] = x
						}
					}
				}
				stride := lanes + 3
				v := make([]float32, Terms*stride)
				for i := range v {
					v[i] = float32(math.NaN())
				}
				if impl == "Grad" {
					Grad(v, stride, &s, lanes)
				} else {
					gradGo(v, stride, &s, lanes)
				}
				for tile := range lanes {
					want, mag := sandwich(a, tiles[tile])
					for xi := range Terms {
						if got := v[xi*stride+tile]; !closeTo(got, want[xi/In][xi%In], mag[xi/In][xi%In]) {
							t.Fatalf("tile %d element %d: %v, want %v", tile, xi, got, want[xi/In][xi%In])
						}
					}
				}
				for xi := range Terms {
					for tile := lanes; tile < stride; tile++ {
						if !math.IsNaN(float64(v[xi*stride+tile])) {
							t.Fatalf("row %d lane %d beyond the tiles was written", xi, tile)
						}
					}
				}
			})
		}
	}
}

// TestGatherTiles checks GatherTiles against indexing: tiles side by side (the assembly's
// vector loads where the CPU runs them) and at irregular offsets, the last ending at the
// plane's end.
func TestGatherTiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	const rowStride = 37
	for _, lanes := range []int{1, 5, 8, 16, 24, 32} {
		for _, layout := range []string{"irregular", "side_by_side"} {
			t.Run(fmt.Sprintf("%d/%s", lanes, layout), func(t *testing.T) {
				offsets := make([]int32, lanes)
				at := int32(rng.IntN(5))
				for i := range offsets {
					offsets[i] = at
					if layout == "side_by_side" {
						at += Out
					} else {
						at += int32(rng.IntN(40))
					}
				}
				plane := make([]float32, int(offsets[lanes-1])+(Out-1)*rowStride+Out)
				for i := range plane {
					plane[i] = float32(rng.NormFloat64())
				}
				var s TileStage
				for i := range s {
					s[i] = float32(math.NaN())
				}
				GatherTiles(&s, plane, offsets, rowStride, lanes)
				for tile, at := range offsets {
					for r := range Out {
						for c := range Out {
							if got, want := s[(r*Out+c)*StageLanes+tile], plane[int(at)+r*rowStride+c]; got != want {
								t.Fatalf("tile %d (%d, %d): %v, want %v", tile, r, c, got, want)
							}
						}
					}
				}
				for i := range Out * Out {
					for tile := lanes; tile < StageLanes; tile++ {
						if !math.IsNaN(float64(s[i*StageLanes+tile])) {
							t.Fatalf("stage row %d lane %d beyond the tiles was written", i, tile)
						}
					}
				}
			})
		}
	}
}

// TestFilterGrad checks FilterGrad against Gᵀ u G in float64.
func TestFilterGrad(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	gt := transpose(gm)
	for range 100 {
		var u [Terms]float32
		x := make([][]float64, In)
		for r := range In {
			x[r] = make([]float64, In)
			for c := range In {
				u[r*In+c] = float32(rng.NormFloat64())
				x[r][c] = float64(u[r*In+c])
			}
		}
		var dw [9]float32
		FilterGrad(&dw, &u)
		want, mag := sandwich(gt, x)
		for i := range 9 {
			if !closeTo(dw[i], want[i/3][i%3], mag[i/3][i%3]) {
				t.Fatalf("element %d: %v, want %v", i, dw[i], want[i/3][i%3])
			}
		}
	}
}
