package direct

import "fmt"

// Variant is one implementation of the two kernels: a SIMD level's assembly or plain Go.
type Variant struct {
	Name string
	// Rows x Cols is the forward tile: Rows filters (or input channels, for the input
	// gradient) at Cols consecutive positions.
	Rows, Cols int
	// FilterRows filters x 3 taps is the weight-gradient tile, whose sums are kept in Lanes
	// partial sums each.
	FilterRows, Lanes int

	forward  func(out *float32, outLd int, in *float32, planeLen, rowStride, channels int, w, bias *float32)
	filter   func(acc, dy *float32, dyLd int, x *float32, n int)
	sumLanes func(dst, src *float32, groups int)
}

// Forward sets the Rows x Cols tile of out, rows outLd floats apart, to
//
//	out[m·outLd + j] = Σ_{c < channels} Σ_{t < 9} w[(c·9+t)·Rows + m] · in[c·planeLen + j + (t/3)·rowStride + t%3] + bias[m]
//
// (the bias added last) where in starts at the tile's tap (0,0): RowStride + 1 floats before
// the position of its first output. w is one block of PackFilters, bias one of Rows values.
// channels >= 1.
func (v *Variant) Forward(out []float32, outLd int, in []float32, planeLen, rowStride, channels int, w, bias []float32) {
	if channels < 1 || rowStride < 1 || outLd < v.Cols || planeLen < v.Cols+2*rowStride+2 {
		panic(fmt.Sprintf("direct: Forward: bad geometry: channels %d, rowStride %d, outLd %d, planeLen %d", channels, rowStride, outLd, planeLen))
	}
	_ = out[(v.Rows-1)*outLd+v.Cols-1]
	_ = in[(channels-1)*planeLen+v.Cols-1+2*rowStride+2]
	_, _ = w[channels*9*v.Rows-1], bias[v.Rows-1]
	v.forward(&out[0], outLd, &in[0], planeLen, rowStride, channels, &w[0], &bias[0])
}

// Filter adds to each of the FilterRows x 3 x Lanes partial sums
//
//	acc[(m·3+kx)·Lanes + l] += Σ_{s < n/Lanes} dy[m·dyLd + s·Lanes + l] · x[s·Lanes + l + kx]
//
// the products of FilterRows rows of the output gradient with a row of the input seen through
// the three taps of one filter row. n is a positive multiple of Lanes.
func (v *Variant) Filter(acc, dy []float32, dyLd int, x []float32, n int) {
	if n < v.Lanes || n%v.Lanes != 0 || dyLd < n {
		panic(fmt.Sprintf("direct: Filter: bad geometry: n %d (lanes %d), dyLd %d", n, v.Lanes, dyLd))
	}
	_ = acc[v.FilterRows*3*v.Lanes-1]
	_ = dy[(v.FilterRows-1)*dyLd+n-1]
	_ = x[n+1]
	v.filter(&acc[0], &dy[0], dyLd, &x[0], n)
}

// SumLanes sets dst[i] to the sum of src[i·Lanes : (i+1)·Lanes], Filter's partial sums of
// one filter and tap added across lanes. len(src) = len(dst)·Lanes.
func (v *Variant) SumLanes(dst, src []float32) {
	if len(src) != len(dst)*v.Lanes {
		panic(fmt.Sprintf("direct: SumLanes: %d partial sums for %d sums of %d lanes", len(src), len(dst), v.Lanes))
	}
	if len(dst) > 0 {
		v.sumLanes(&dst[0], &src[0], len(dst))
	}
}

// PackFilters writes blocks [b0, b1) of the k x c filters w[k][c][3][3] in the order Forward
// reads them: in blocks of Rows filters, each block [c][9][Rows], a missing filter of the
// last block as zeros. dst holds PackedLen(k, c) floats; the blocks may be packed by
// different workers.
func (v *Variant) PackFilters(dst, w []float32, k, c, b0, b1 int) {
	size := c * 9 * v.Rows
	for b := b0; b < b1; b++ {
		block := dst[b*size:][:size]
		filters := min(v.Rows, k-b*v.Rows)
		if filters < v.Rows {
			clear(block)
		}
		// Each filter's weights are read in order and written Rows apart.
		for r := 0; r < filters; r++ {
			src := w[(b*v.Rows+r)*c*9:][:c*9]
			out := block[r:]
			for i, f := range src {
				out[i*v.Rows] = f
			}
		}
	}
}

// PackFiltersFlipped packs blocks [b0, b1) of the filters of the input gradient: the k x c
// forward filters w[k][c][3][3] with inputs and outputs swapped and turned half a turn, the
// c x k filters f[c][k][t] = w[k][c][8-t]. dst holds PackedLen(c, k) floats.
func (v *Variant) PackFiltersFlipped(dst, w []float32, k, c, b0, b1 int) {
	size := k * 9 * v.Rows
	for b := b0; b < b1; b++ {
		block := dst[b*size:][:size]
		channels := min(v.Rows, c-b*v.Rows)
		if channels < v.Rows {
			clear(block)
		}
		for m := 0; m < k; m++ {
			out := block[m*9*v.Rows:][:9*v.Rows]
			for r := 0; r < channels; r++ {
				src := w[(m*c+b*v.Rows+r)*9:][:9]
				for t, f := range src {
					out[(8-t)*v.Rows+r] = f
				}
			}
		}
	}
}

// Blocks is the number of blocks of Rows filters that outputs filters make.
func (v *Variant) Blocks(outputs int) int { return ceilDiv(outputs, v.Rows) }

// PackedLen is the length of the packed filters of outputs filters of inputs channels.
func (v *Variant) PackedLen(outputs, inputs int) int {
	return ceilDiv(outputs, v.Rows) * inputs * 9 * v.Rows
}

// goVariant runs everywhere; the architecture files add faster ones.
var goVariant = &Variant{Name: "go", Rows: 4, Cols: 8, FilterRows: 4, Lanes: 8, forward: forwardGo, filter: filterGo, sumLanes: sumLanesGo}

var variants = append(archVariants(), goVariant)

// Variants returns the variants this machine can run (see package simd), fastest first.
func Variants() []*Variant { return append([]*Variant(nil), variants...) }

// ByName returns the variant of that name (the SIMD level's), or nil if it cannot run here.
func ByName(name string) *Variant {
	for _, v := range variants {
		if v.Name == name {
			return v
		}
	}
	return nil
}
