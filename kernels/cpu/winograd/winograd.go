// Package winograd holds the transforms of the Winograd F(4x4, 3x3) convolution (Lavin and
// Gray, "Fast Algorithms for Convolutional Neural Networks", 2016): each 4x4 tile of a 3x3
// correlation's output is
//
//	Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// for the 3x3 filter g and the 6x6 patch d of the input that the tile reads, ⊙ multiplying
// element by element. The three transforms are here; the products between them, summed over
// the input channels, are the caller's (package cpu's winograd.go).
//
// The data and result transforms work on stages that hold up to StageLanes tiles side by
// side, one tile per lane: element ξ of tile t at stage[ξ·StageLanes + t]. On AVX2 every
// step of a transform is then one vector operation on the same element of eight tiles.
package winograd

import (
	"slices"

	"github.com/vgglab/vgg/kernels/cpu/simd"
)

// The tile: Out x Out outputs from an In x In patch, Terms elements in the transformed domain.
const (
	Out   = 4
	In    = Out + 2
	Terms = In * In
)

// StageLanes is how many tiles a stage holds side by side.
const StageLanes = 32

// DataStage holds the 6x6 patches of up to StageLanes tiles: element ξ (row-major) of tile t
// at [ξ·StageLanes + t].
type DataStage [Terms * StageLanes]float32

// TileStage holds 4x4 tiles of up to StageLanes tiles (a convolution's results, or the tiles
// of its output gradient), element r·4+c of tile t at [(r·4+c)·StageLanes + t], and after
// them room for a transform's halfway values.
type TileStage [(Out*Out + In*Out) * StageLanes]float32

// useAVX2 says whether the assembly transforms run (they need AVX2 and FMA).
var useAVX2 = simd.Allowed(simd.AVX2)

// Data sets v[ξ·stride + t] to element ξ of Bᵀ d B for the patch d of each tile t < lanes in
// s (lanes ≤ StageLanes), overwriting s.
func Data(v []float32, stride int, s *DataStage, lanes int) {
	if lanes <= 0 {
		return
	}
	_ = v[(Terms-1)*stride+lanes-1]
	if useAVX2 && lanes%8 == 0 {
		dataAVX2(&v[0], stride, &s[0], lanes)
		return
	}
	dataGo(v, stride, s, lanes)
}

// dataGo is Data in plain Go, one tile at a time.
func dataGo(v []float32, stride int, s *DataStage, lanes int) {
	var d [Terms]float32
	for t := range lanes {
		for xi := range d {
			d[xi] = s[xi*StageLanes+t]
		}
		dataTransform(&d)
		for xi, e := range d {
			v[xi*stride+t] = e
		}
	}
}

// Result sets the results in o to Aᵀ P A + bias for the products P of each tile t < lanes
// (lanes ≤ StageLanes), element ξ of P at m[ξ·stride + t].
func Result(o *TileStage, m []float32, stride, lanes int, bias float32) {
	if lanes <= 0 {
		return
	}
	_ = m[(Terms-1)*stride+lanes-1]
	if useAVX2 && lanes%8 == 0 {
		resultAVX2(&o[0], &m[0], stride, lanes, bias)
		return
	}
	resultGo(o, m, stride, lanes, bias)
}

// resultGo is Result in plain Go, one tile at a time.
func resultGo(o *TileStage, m []float32, stride, lanes int, bias float32) {
	var p [Terms]float32
	var y [Out * Out]float32
	for t := range lanes {
		for xi := range p {
			p[xi] = m[xi*stride+t]
		}
		resultTransform(&y, &p)
		for i, e := range y {
			o[i*StageLanes+t] = e + bias
		}
	}
}

// Filter sets u to G g Gᵀ for the 3x3 filter g (row-major), with
//
//	G = [ 1/4     0     0  ]
//	    [-1/6  -1/6  -1/6  ]
//	    [-1/6   1/6  -1/6  ]
//	    [1/24  1/12   1/6  ]
//	    [1/24 -1/12   1/6  ]
//	    [  0     0     1   ]
func Filter(u *[Terms]float32, g *[9]float32) {
	var t [In * 3]float32 // G g: 6 rows of 3
	for c := range 3 {
		t[c], t[3+c], t[6+c], t[9+c], t[12+c], t[15+c] = filter1(g[c], g[3+c], g[6+c])
	}
	for r := range In {
		u[r*In], u[r*In+1], u[r*In+2], u[r*In+3], u[r*In+4], u[r*In+5] = filter1(t[r*3], t[r*3+1], t[r*3+2])
	}
}

// filter1 is G times the 3-vector (g0, g1, g2). It multiplies by the fractions rounded to
// float32 rather than divide: divisions cost ten times as much, and the rounding of 1/6 is
// one more float32 rounding among the transform's (TestFilter allows for it).
func filter1(g0, g1, g2 float32) (u0, u1, u2, u3, u4, u5 float32) {
	const sixth, twelfth, twentyFourth = float32(1.0 / 6), float32(1.0 / 12), float32(1.0 / 24)
	even, odd := g0+g2, g1
	ends := g0*twentyFourth + g2*sixth
	return g0 * 0.25, -(even + odd) * sixth, -(even - odd) * sixth,
		ends + g1*twelfth, ends - g1*twelfth, g2
}

// dataTransform replaces the 6x6 patch d (row-major) by Bᵀ d B, with
//
//	Bᵀ = [ 4   0  -5   0   1   0 ]
//	     [ 0  -4  -4   1   1   0 ]
//	     [ 0   4  -4  -1   1   0 ]
//	     [ 0  -2  -1   2   1   0 ]
//	     [ 0   2  -1  -2   1   0 ]
//	     [ 0   4   0  -5   0   1 ]
func dataTransform(d *[Terms]float32) {
	for c := range In { // Bᵀ d, column by column
		d[c], d[6+c], d[12+c], d[18+c], d[24+c], d[30+c] = data1(d[c], d[6+c], d[12+c], d[18+c], d[24+c], d[30+c])
	}
	for r := range In { // then (Bᵀ d) B, row by row
		row := d[r*In:][:In]
		row[0], row[1], row[2], row[3], row[4], row[5] = data1(row[0], row[1], row[2], row[3], row[4], row[5])
	}
}

// data1 is Bᵀ times the 6-vector (d0, ..., d5).
func data1(d0, d1, d2, d3, d4, d5 float32) (v0, v1, v2, v3, v4, v5 float32) {
	return 4*d0 - 5*d2 + d4,
		(d3 + d4) - 4*(d1+d2),
		(d4 - d3) + 4*(d1-d2),
		(d4 - d2) + 2*(d3-d1),
		(d4 - d2) - 2*(d3-d1),
		4*d1 - 5*d3 + d5
}

// resultTransform sets y (4x4, row-major) to Aᵀ p A for the 6x6 products p, with
//
//	Aᵀ = [ 1   1   1   1   1   0 ]
//	     [ 0   1  -1   2  -2   0 ]
//	     [ 0   1   1   4   4   0 ]
//	     [ 0   1  -1   8  -8   1 ]
func resultTransform(y *[Out * Out]float32, p *[Terms]float32) {
	var t [In * Out]float32 // p A: 6 rows of 4
	for r := range In {
		row := p[r*In:][:In]
		t[r*4], t[r*4+1], t[r*4+2], t[r*4+3] = result1(row[0], row[1], row[2], row[3], row[4], row[5])
	}
	for c := range Out { // then Aᵀ (p A), column by column
		y[c], y[4+c], y[8+c], y[12+c] = result1(t[c], t[4+c], t[8+c], t[12+c], t[16+c], t[20+c])
	}
}

// result1 is Aᵀ times the 6-vector (p0, ..., p5).
func result1(p0, p1, p2, p3, p4, p5 float32) (y0, y1, y2, y3 float32) {
	sum12, diff12, sum34, diff34 := p1+p2, p1-p2, p3+p4, p3-p4
	return p0 + sum12 + sum34, diff12 + 2*diff34, sum12 + 4*sum34, diff12 + p5 + 8*diff34
}

// Gather copies lanes patches (lanes ≤ StageLanes) into s: patch t is the 6x6 window of
// plane whose rows start at offsets[t] + r·rowStride. offsets must increase with t, so that
// the last is the farthest from the plane's start.
func Gather(s *DataStage, plane []float32, offsets []int32, rowStride, lanes int) {
	if lanes <= 0 {
		return
	}
	if offsets[0] < 0 || !slices.IsSorted(offsets[:lanes]) {
		panic("winograd: Gather: offsets negative or out of order")
	}
	last := int(offsets[lanes-1]) + (In-1)*rowStride + In - 1
	_ = plane[last]
	if !useAVX2 || lanes%8 != 0 {
		gatherGo(s, plane, offsets, rowStride, lanes)
		return
	}
	// Eight tiles side by side in a row (every group, on images 32 pixels wide or more) are
	// read with vector loads and shuffles, which read 2 floats past the last patch; other
	// groups with gathers, several times slower.
	for g := 0; g < lanes; g += 8 {
		at := int(offsets[g])
		if inRow(offsets[g:g+8]) && at+(In-1)*rowStride+In+1 < len(plane) {
			rowAVX2(&s[g], &plane[at], rowStride)
		} else {
			gatherAVX2(&s[g], &plane[0], &offsets[g], rowStride, 8)
		}
	}
}

// inRow reports whether the tiles at offsets lie side by side, Out floats apart.
func inRow[T int32 | int](offsets []T) bool {
	for i := 1; i < len(offsets); i++ {
		if offsets[i]-offsets[i-1] != Out {
			return false
		}
	}
	return true
}

// gatherGo is Gather in plain Go.
func gatherGo(s *DataStage, plane []float32, offsets []int32, rowStride, lanes int) {
	for t, at := range offsets[:lanes] {
		for r := range In {
			row := plane[int(at)+r*rowStride:][:In]
			for c, x := range row {
				s[(r*In+c)*StageLanes+t] = x
			}
		}
	}
}

// Scatter copies the results of count tiles (count ≤ StageLanes) from o into out: row r of
// tile t's 4x4 results to out[offsets[t] + r·width:][:4]. offsets must increase with t.
func Scatter(out []float32, o *TileStage, offsets []int32, width, count int) {
	if count <= 0 {
		return
	}
	if offsets[0] < 0 || !slices.IsSorted(offsets[:count]) {
		panic("winograd: Scatter: offsets negative or out of order")
	}
	_ = out[int(offsets[count-1])+(Out-1)*width+Out-1]
	done := 0
	if useAVX2 && count >= 8 {
		done = count / 8 * 8
		scatterAVX2(&out[0], &o[0], &offsets[0], width, count/8)
	}
	scatterGo(out, o, offsets[done:count], width, done)
}

// scatterGo is Scatter in plain Go for the tiles from first on.
func scatterGo(out []float32, o *TileStage, offsets []int32, width, first int) {
	for i, at := range offsets {
		t := first + i
		for r := range Out {
			row := out[int(at)+r*width:][:Out]
			for c := range row {
				row[c] = o[(r*Out+c)*StageLanes+t]
			}
		}
	}
}

// GatherTiles copies lanes 4x4 tiles (lanes ≤ StageLanes) into s: tile t is the 4x4 window of
// plane whose rows start at offsets[t] + r·rowStride. offsets must increase with t.
func GatherTiles(s *TileStage, plane []float32, offsets []int32, rowStride, lanes int) {
	if lanes <= 0 {
		return
	}
	if offsets[0] < 0 || !slices.IsSorted(offsets[:lanes]) {
		panic("winograd: GatherTiles: offsets negative or out of order")
	}
	_ = plane[int(offsets[lanes-1])+(Out-1)*rowStride+Out-1]
	for g := 0; g < lanes; g += 8 {
		n := min(8, lanes-g)
		if useAVX2 && n == 8 && inRow(offsets[g:g+8]) {
			tileRowAVX2(&s[g], &plane[offsets[g]], rowStride)
			continue
		}
		gatherTilesGo(s, plane, offsets[g:g+n], rowStride, g)
	}
}

// gatherTilesGo is GatherTiles in plain Go for the tiles from first on.
func gatherTilesGo(s *TileStage, plane []float32, offsets []int32, rowStride, first int) {
	for i, at := range offsets {
		for r := range Out {
			row := plane[int(at)+r*rowStride:][:Out]
			for c, x := range row {
				s[(r*Out+c)*StageLanes+first+i] = x
			}
		}
	}
}

// Grad sets v[ξ·stride + t] to element ξ of A y Aᵀ for the 4x4 tile y of each tile t < lanes
// in s (lanes ≤ StageLanes): the output gradient's side of the weight gradient, which sums
// Gᵀ [ (A dy Aᵀ) ⊙ (Bᵀ d B) ] G over the tiles (the forward pass transposed).
func Grad(v []float32, stride int, s *TileStage, lanes int) {
	if lanes <= 0 {
		return
	}
	_ = v[(Terms-1)*stride+lanes-1]
	if useAVX2 && lanes%8 == 0 {
		gradAVX2(&v[0], stride, &s[0], lanes)
		return
	}
	gradGo(v, stride, s, lanes)
}

// gradGo is Grad in plain Go, one tile at a time.
func gradGo(v []float32, stride int, s *TileStage, lanes int) {
	var y [Out * Out]float32
	var e [Terms]float32
	for t := range lanes {
		for i := range y {
			y[i] = s[i*StageLanes+t]
		}
		gradTransform(&e, &y)
		for xi, x := range e {
			v[xi*stride+t] = x
		}
	}
}

// gradTransform sets e to A y Aᵀ for the 4x4 tile y (row-major), A being Aᵀ's transpose.
func gradTransform(e *[Terms]float32, y *[Out * Out]float32) {
	var t [In * Out]float32 // A y: 6 rows of 4
	for c := range Out {
		t[c], t[4+c], t[8+c], t[12+c], t[16+c], t[20+c] = grad1(y[c], y[4+c], y[8+c], y[12+c])
	}
	for r := range In {
		row := t[r*Out:][:Out]
		e[r*In], e[r*In+1], e[r*In+2], e[r*In+3], e[r*In+4], e[r*In+5] = grad1(row[0], row[1], row[2], row[3])
	}
}

// grad1 is A times the 4-vector (y0, y1, y2, y3).
func grad1(y0, y1, y2, y3 float32) (e0, e1, e2, e3, e4, e5 float32) {
	even, odd := y0+y2, y1+y3
	fours, twos := y0+4*y2, y1+4*y3
	return y0, even + odd, even - odd, fours + 2*twos, fours - 2*twos, y3
}

// FilterGrad sets dw to Gᵀ u G for the 6x6 u (row-major): a 3x3 weight gradient from its
// products summed over the tiles.
func FilterGrad(dw *[9]float32, u *[Terms]float32) {
	var t [3 * In]float32 // Gᵀ u: 3 rows of 6
	for c := range In {
		t[c], t[6+c], t[12+c] = filterGrad1(u[c], u[6+c], u[12+c], u[18+c], u[24+c], u[30+c])
	}
	for r := range 3 {
		row := t[r*In:][:In]
		dw[r*3], dw[r*3+1], dw[r*3+2] = filterGrad1(row[0], row[1], row[2], row[3], row[4], row[5])
	}
}

// filterGrad1 is Gᵀ times the 6-vector (u0, ..., u5).
func filterGrad1(u0, u1, u2, u3, u4, u5 float32) (g0, g1, g2 float32) {
	const sixth, twelfth, twentyFourth = float32(1.0 / 6), float32(1.0 / 12), float32(1.0 / 24)
	sum12, diff12, sum34, diff34 := u1+u2, u1-u2, u3+u4, u3-u4
	return u0*0.25 - sum12*sixth + sum34*twentyFourth,
		diff34*twelfth - diff12*sixth,
		(sum34-sum12)*sixth + u5
}
