// Package haar is a Viola–Jones face detector written from scratch: integral images, Haar-like
// features (upright and 45° tilted), boosted cascades read from and written to OpenCV's XML
// format, a multi-scale sliding-window detector with OpenCV's rectangle grouping, and a trainer
// (AdaBoost over the Haar feature pool with negative mining) that builds new cascades.
//
// The detector follows OpenCV 4's CascadeClassifier step by step (image pyramid with bilinear
// resizing, window step, variance normalisation, stage evaluation, groupRectangles), so a stock
// OpenCV cascade loaded by this package finds the same boxes OpenCV finds.
package haar

// integral holds the summed-area tables of one grey image of w x h pixels, each (w+1) x (h+1)
// entries with a zero first row and column, row-major with the given stride:
//
//	sum[y][x]    = Σ img[j][i]          for j < y, i < x
//	sqsum[y][x]  = Σ img[j][i]²         for j < y, i < x
//	tilted[y][x] = Σ img[j][i]          for j < y, |i - x + 1| <= y - j - 1   (a 45° triangle)
//
// The tables are uint32 on purpose: they wrap around on big images, but a rectangle sum is a
// difference of four entries and modular arithmetic gives the exact result whenever the true
// rectangle sum fits in 32 bits (always, for detector windows), exactly as OpenCV's int tables do.
type integral struct {
	w, h, stride int
	sum, sqsum   []uint32
	tilted       []uint32 // nil unless requested; shares one buffer with sum (see tables)
	tables       []uint32 // sum followed by tilted, so one offset list can address both
	diagDown     []uint32 // scratch for the tilted table: running sums along x - y = const
	diagUp       []uint32 // scratch for the tilted table: running sums along x + y = const
}

// compute fills the tables for the w x h grey pixels pix (row stride pixStride), reusing the
// buffers from earlier calls when they are big enough.
func (ii *integral) compute(pix []uint8, w, h, pixStride int, withTilted bool) {
	ii.w, ii.h, ii.stride = w, h, w+1
	n := (w + 1) * (h + 1)
	if withTilted {
		ii.tables = grow(ii.tables, 2*n)
	} else {
		ii.tables = grow(ii.tables, n)
	}
	ii.sum = ii.tables[:n]
	ii.sqsum = grow(ii.sqsum, n)
	s := ii.stride
	for x := 0; x <= w; x++ {
		ii.sum[x], ii.sqsum[x] = 0, 0
	}
	for y := 1; y <= h; y++ {
		row := pix[(y-1)*pixStride : (y-1)*pixStride+w]
		above, cur := (y-1)*s, y*s
		ii.sum[cur], ii.sqsum[cur] = 0, 0
		var rowSum, rowSq uint32
		for x, p := range row {
			v := uint32(p)
			rowSum += v
			rowSq += v * v
			ii.sum[cur+x+1] = ii.sum[above+x+1] + rowSum
			ii.sqsum[cur+x+1] = ii.sqsum[above+x+1] + rowSq
		}
	}
	if withTilted {
		ii.computeTilted(pix, pixStride)
	} else {
		ii.tilted = nil
	}
}

// computeTilted builds the 45° table row by row. Going from row y-1 to row y, the triangle with
// apex at pixel (x-1, y-1) gains the apex and one pixel on each of its two slanted edges in
// every row above; those edge pixels lie on the diagonals x-y = X-Y and x+y = X+Y-2, so two
// running diagonal sums (updated as each row is read) give the whole row in O(w):
//
//	tilted[Y][X] = tilted[Y-1][X] + down[X-Y] + up[X+Y-2] - img[Y-1][X-1]
//
// where down and up already include row Y-1 (which counts the apex twice, hence the subtraction).
func (ii *integral) computeTilted(pix []uint8, pixStride int) {
	w, h, s := ii.w, ii.h, ii.stride
	ii.tilted = ii.tables[s*(h+1) : 2*s*(h+1)]
	// Diagonal x-y ranges over [-h, w]; x+y over [-2, w+h]. Offsets make them slice indices.
	ii.diagDown = grow(ii.diagDown, w+h+1)
	ii.diagUp = grow(ii.diagUp, w+h+3)
	clear(ii.diagDown)
	clear(ii.diagUp)
	down := func(d int) *uint32 { return &ii.diagDown[d+h] }
	up := func(d int) *uint32 { return &ii.diagUp[d+2] }
	for x := 0; x <= w; x++ {
		ii.tilted[x] = 0
	}
	for Y := 1; Y <= h; Y++ {
		row := pix[(Y-1)*pixStride : (Y-1)*pixStride+w]
		for x, p := range row {
			*down(x - (Y - 1)) += uint32(p)
			*up(x + Y - 1) += uint32(p)
		}
		cur, above := Y*s, (Y-1)*s
		for X := 0; X <= w; X++ {
			var apex uint32
			if X >= 1 {
				apex = uint32(row[X-1])
			}
			ii.tilted[cur+X] = ii.tilted[above+X] + *down(X - Y) + *up(X + Y - 2) - apex
		}
	}
}

// grow returns buf resized to n entries, reallocating only when its capacity is too small.
func grow(buf []uint32, n int) []uint32 {
	if cap(buf) < n {
		return make([]uint32, n)
	}
	return buf[:n]
}
