// Package direct computes the 3x3 convolutions with stride 1 and padding 1 that make up VGG
// directly, without a column matrix.
//
// The images are first copied into flat planes, one per channel, in which every pixel's eight
// neighbours lie at fixed distances: with rows RowStride = W+1 floats apart, the pixel to the
// right is +1, the one below +RowStride. Each row is followed by one zero, which is at once its
// right padding and the next row's left padding; each image by a row of zeros, at once its
// bottom padding and the next image's top one. Filter tap (ky, kx) of the output at position o
// then reads the input at o + (ky-1)·RowStride + (kx-1) for every o, with no test for the
// border, and a run of consecutive outputs reads a run of consecutive inputs: a vector load.
//
// The kernels compute every position of the run, padding included (those results are
// dropped when the planes are copied back), which costs (H+1)(W+1)/(HW) times the useful
// multiply-adds: 3% more on 64x64 images, 27% on 8x8, 56% on 4x4. In exchange nothing is
// gathered: the im2col lowering copied every input pixel nine times into a column matrix and
// added nine values back per input gradient (col2im), which on VGG's small layers cost as
// much as the products.
//
// The three ops are one forward kernel and one weight-gradient kernel:
//
//	forward:         y[k][o]  = Σ_c Σ_t w[k][c][t] · x[c][o + off(t)]
//	backward-data:   dx[c][o] = Σ_k Σ_t w[k][c][8-t] · dy[k][o + off(t)]   (the forward kernel on dy, filters flipped)
//	backward-filter: dw[k][c][t] = Σ_o dy[k][o] · x[c][o + off(t)]         (dy zero in the padding)
package direct

// Layout is where a batch of N images of H x W pixels lies in a flat plane: pixel (n, y, x) at
// Base() + n·ImageStride() + y·RowStride() + x, zeros everywhere else.
type Layout struct{ N, H, W int }

// RowStride is the distance between rows: W pixels and one zero.
func (l Layout) RowStride() int { return l.W + 1 }

// ImageStride is the distance between images: H rows and one row of zeros.
func (l Layout) ImageStride() int { return (l.H + 1) * l.RowStride() }

// Base is the position of the first pixel: after a row of zeros and one zero, the top and
// left padding of the first image.
func (l Layout) Base() int { return l.RowStride() + 1 }

// Span is the number of positions from Base on that the kernels compute: every image's rows
// with the padding between them.
func (l Layout) Span() int { return l.N * l.ImageStride() }

// Plane is a layout whose planes are Len floats apart and whose kernels compute Cols
// positions from Base on (Span rounded up to a whole number of tiles).
type Plane struct {
	Layout
	Cols, Len int
}

// NewPlane returns the planes for l whose runs are computed in tiles of tileCols positions.
// A plane holds, past the computed positions, the RowStride+1 floats the last tile's taps
// reach; its length is rounded to 16 floats (64 bytes) plus 16, so that planes start on cache
// lines without falling a power of two apart.
func NewPlane(l Layout, tileCols int) Plane {
	cols := ceilDiv(l.Span(), tileCols) * tileCols
	n := l.Base() + cols + l.RowStride() + 1
	return Plane{Layout: l, Cols: cols, Len: ceilDiv(n, 16)*16 + 16}
}

// Pack copies images into planes, a unit (one image of one channel) at a time: unit u in
// [lo, hi) is channel u%channels of image u/channels of the NCHW batch src, which goes into
// plane u%channels of dst (planes Len floats apart), with the zeros around it; the first
// image of a plane also writes the zeros before it, the last those after. Units run in the
// order the batch lies, image by image, so that workers given contiguous units pack the
// images whose positions they go on to compute (the kernels' tiles run in the same order).
func (p Plane) Pack(dst, src []float32, channels, lo, hi int) {
	hw, s, is := p.H*p.W, p.RowStride(), p.ImageStride()
	for u := lo; u < hi; u++ {
		plane, n := u%channels, u/channels
		d := dst[plane*p.Len:][:p.Len]
		img := src[u*hw:][:hw]
		at := p.Base() + n*is
		if n == 0 {
			clear(d[:at])
		}
		for y := 0; y < p.H; y++ {
			copy(d[at:at+p.W], img[y*p.W:(y+1)*p.W])
			d[at+p.W] = 0
			at += s
		}
		clear(d[at : at+s])
		if n == p.N-1 {
			clear(d[at+s:])
		}
	}
}

// Scatter copies one tile of results into the NCHW batch dst (channels per image): rows
// [k0, k0+rows) of channels at the computed positions [j0, j0+cols) (Base+j0 onwards), row r
// at src[r·ld:], dropping the positions that are padding. Tiles scattered by different
// workers write different elements.
func (p Plane) Scatter(dst []float32, channels, k0, rows int, src []float32, ld, j0, cols int) {
	s, is := p.RowStride(), p.ImageStride()
	end := min(j0+cols, p.Span())
	for q := j0; q < end; {
		n, rem := q/is, q%is
		y, x := rem/s, rem%s
		run := min(end-q, s-x) // to the end of this row, its padding column included
		if y < p.H && x < p.W {
			w := min(run, p.W-x)
			for r := 0; r < rows; r++ {
				copy(dst[((n*channels+k0+r)*p.H+y)*p.W+x:][:w], src[r*ld+q-j0:][:w])
			}
		}
		q += run
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
