package cpu

import (
	"fmt"

	"gonum.org/v1/gonum/blas"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Convolution is lowered to matrix products (im2col). For a group of images, the column
// matrix col[C*R*S, images*P*Q] holds in row (c,r,s) and column (image,p,q) the input pixel
// that filter tap (r,s) of channel c sees at output position (p,q), or 0 in the padding.
// Writing dy and y as [K, images*P*Q] matrices, the three ops are
//
//	forward:          yᵀ  = colᵀ · wᵀ        (w as [K, C*R*S])
//	backward-data:    colᵀ = dyᵀ · w,         scattered back onto dx (col2im)
//	backward-filter:  dwᵀ += col · dyᵀ,       summed over the groups of the batch
//
// Each product is arranged so that its left operand is the one that holds the activations'
// zeros (col, from post-ReLU inputs and padding; dy, masked by ReLU and max-pool backward).
// That order is for gonum's Sgemm (the cpu-gonum backend), which skips the row update for a
// zero left-hand element, so that training data, about half zeros, runs faster there than
// dense data (1.1-1.5x per core). The cpu backend's packed SGEMM does not skip zeros and runs
// both at one speed; it packs both operands into its own layout, so the order costs it only
// the transposes, which touch each output once, against C*R*S or K multiply-adds per output
// for the product. Keeping one order keeps the two backends' products alike.
//
// Images are grouped so that each product has at least minGroupColumns columns: for the deep
// layers (P*Q = 64 or 256) one image alone would make a thin product that SGEMM runs slowly.
// Both SGEMMs split each product over the cores themselves.
// im2col is split over (image, channel) pairs, col2im over (image, block of channels).

// minGroupColumns is the least number of output pixels per SGEMM call, batch permitting.
const minGroupColumns = 1024

// convGeometry is the shape of one convolution call, checked once and shared by the three ops.
type convGeometry struct {
	n, c, h, w int // input
	k, r, s    int // filters
	p, q       int // output
	params     kernels.ConvParams
}

// colRows is C*R*S, the column matrix's height and the filters' row length.
func (g convGeometry) colRows() int { return g.c * g.r * g.s }

// pixels is P*Q, the columns one image contributes.
func (g convGeometry) pixels() int { return g.p * g.q }

// groupSize is how many images go into one column matrix.
func (g convGeometry) groupSize() int {
	return min(g.n, ceilDiv(minGroupColumns, g.pixels()))
}

// checkConv validates the window and the shapes of x [N,C,H,W], w [K,C,R,S] and the output
// [N,K,P,Q] (named outName), and returns the geometry.
func checkConv(op string, x, w, out *tensor.Tensor, outName string, p kernels.ConvParams) (convGeometry, error) {
	var g convGeometry
	if err := p.Validate(); err != nil {
		return g, fmt.Errorf("%s: %w", op, err)
	}
	if err := tensor.Check(op, "x", x, -1, -1, -1, -1); err != nil {
		return g, err
	}
	g.n, g.c, g.h, g.w = x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3)
	if err := tensor.Check(op, "w", w, -1, g.c, p.KernelH, p.KernelW); err != nil {
		return g, err
	}
	g.k, g.r, g.s = w.Dim(0), p.KernelH, p.KernelW
	g.p, g.q = p.OutSize(g.h, g.w)
	if g.p < 1 || g.q < 1 {
		return g, fmt.Errorf("%s: input %dx%d is smaller than the %dx%d window with padding %d,%d", op, g.h, g.w, p.KernelH, p.KernelW, p.PadH, p.PadW)
	}
	g.params = p
	return g, tensor.Check(op, outName, out, g.n, g.k, g.p, g.q)
}

// Conv2D: y = conv(x, w) + b.
func (be *Backend) Conv2D(y, x, w, b *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2D"
	g, err := checkConv(op, x, w, y, "y", p)
	if err != nil {
		return err
	}
	if err := tensor.Check(op, "b", b, g.k); err != nil {
		return err
	}
	yd, err := hostF32(op, "y", y)
	if err != nil {
		return err
	}
	xd, err := hostF32(op, "x", x)
	if err != nil {
		return err
	}
	wd, err := hostF32(op, "w", w)
	if err != nil {
		return err
	}
	bd, err := hostF32(op, "b", b)
	if err != nil {
		return err
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	crs, pq := g.colRows(), g.pixels()
	be.wt = grow(be.wt, crs*g.k)
	transpose(be.wt, g.k, wd, crs, g.k, crs, be.workers)
	for first := 0; first < g.n; first += g.groupSize() {
		images := min(g.groupSize(), g.n-first)
		cols := images * pq
		col := be.im2colGroup(xd, g, first, images)
		be.prod = grow(be.prod, cols*g.k)
		be.gemm(blas.Trans, blas.NoTrans, cols, g.k, crs, 1, col, cols, be.wt, g.k, 0, be.prod, g.k)
		// prod is yᵀ [images*P*Q, K]; y wants [images, K, P*Q].
		for i := 0; i < images; i++ {
			transpose(yd[(first+i)*g.k*pq:], pq, be.prod[i*pq*g.k:], g.k, pq, g.k, be.workers)
		}
	}
	// Add the bias, one (image, filter) row at a time.
	parallelFor(g.n*g.k, be.workers, func(_, lo, hi int) {
		for row := lo; row < hi; row++ {
			out, bias := yd[row*pq:(row+1)*pq], bd[row%g.k]
			for j := range out {
				out[j] += bias
			}
		}
	})
	return nil
}

// Conv2DBackwardData: dx = col2im((dyᵀ · w)ᵀ).
func (be *Backend) Conv2DBackwardData(dx, dy, w *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackwardData"
	g, err := checkConv(op, dx, w, dy, "dy", p)
	if err != nil {
		return err
	}
	dxd, err := hostF32(op, "dx", dx)
	if err != nil {
		return err
	}
	dyd, err := hostF32(op, "dy", dy)
	if err != nil {
		return err
	}
	wd, err := hostF32(op, "w", w)
	if err != nil {
		return err
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	crs, pq := g.colRows(), g.pixels()
	for first := 0; first < g.n; first += g.groupSize() {
		images := min(g.groupSize(), g.n-first)
		cols := images * pq
		grad := be.gatherGroup(dyd, g, first, images)
		be.col = grow(be.col, cols*crs)
		be.gemm(blas.Trans, blas.NoTrans, cols, crs, g.k, 1, grad, cols, wd, crs, 0, be.col, crs)
		be.col2imGroup(dxd, g, first, images)
	}
	return nil
}

// Conv2DBackwardFilter: dw = Σ_n dy_n · col_nᵀ and db = Σ_n Σ_pq dy, summed group by group in
// batch order.
func (be *Backend) Conv2DBackwardFilter(dw, db, x, dy *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackwardFilter"
	g, err := checkConv(op, x, dw, dy, "dy", p)
	if err != nil {
		return err
	}
	dwd, err := hostF32(op, "dw", dw)
	if err != nil {
		return err
	}
	xd, err := hostF32(op, "x", x)
	if err != nil {
		return err
	}
	dyd, err := hostF32(op, "dy", dy)
	if err != nil {
		return err
	}
	var dbd []float32
	if db != nil {
		if err := tensor.Check(op, "db", db, g.k); err != nil {
			return err
		}
		if dbd, err = hostF32(op, "db", db); err != nil {
			return err
		}
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	crs, pq := g.colRows(), g.pixels()
	be.wt = grow(be.wt, crs*g.k)
	for first := 0; first < g.n; first += g.groupSize() {
		images := min(g.groupSize(), g.n-first)
		cols := images * pq
		col := be.im2colGroup(xd, g, first, images)
		// dyᵀ [images*P*Q, K], one image at a time.
		be.prod = grow(be.prod, cols*g.k)
		for i := 0; i < images; i++ {
			transpose(be.prod[i*pq*g.k:], g.k, dyd[(first+i)*g.k*pq:], pq, g.k, pq, be.workers)
		}
		var beta float32 = 1
		if first == 0 {
			beta = 0 // the first group overwrites dwᵀ, the others add to it
		}
		be.gemm(blas.NoTrans, blas.NoTrans, crs, g.k, cols, 1, col, cols, be.prod, g.k, beta, be.wt, g.k)
	}
	transpose(dwd, crs, be.wt, g.k, crs, g.k, be.workers)
	if dbd != nil {
		// Bias gradients sum N*P*Q terms each; accumulate in float64 for accuracy. Each
		// filter's sum is one worker's, in batch order.
		parallelFor(g.k, be.workers, func(_, lo, hi int) {
			for k := lo; k < hi; k++ {
				var sum float64
				for n := 0; n < g.n; n++ {
					for _, v := range dyd[(n*g.k+k)*pq : (n*g.k+k+1)*pq] {
						sum += float64(v)
					}
				}
				dbd[k] = float32(sum)
			}
		})
	}
	return nil
}

// im2colGroup fills the column workspace [C*R*S, images*P*Q] from images
// [first, first+images) of x and returns it.
func (be *Backend) im2colGroup(xd []float32, g convGeometry, first, images int) []float32 {
	crs, pq := g.colRows(), g.pixels()
	cols := images * pq
	be.col = grow(be.col, crs*cols)
	col := be.col
	rowsPerChannel := g.r * g.s
	parallelFor(images*g.c, be.workers, func(_, lo, hi int) {
		for unit := lo; unit < hi; unit++ {
			i, c := unit/g.c, unit%g.c
			plane := xd[((first+i)*g.c+c)*g.h*g.w:][:g.h*g.w]
			im2col(col[c*rowsPerChannel*cols+i*pq:], cols, plane, g)
		}
	})
	return col
}

// col2imGroup adds the transposed column workspace [images*P*Q, C*R*S] back onto images
// [first, first+images) of dx, split over (image, block of channels) pairs.
func (be *Backend) col2imGroup(dxd []float32, g convGeometry, first, images int) {
	crs, pq, hw := g.colRows(), g.pixels(), g.h*g.w
	blocks := ceilDiv(g.c, col2imChannels)
	parallelFor(images*blocks, be.workers, func(_, lo, hi int) {
		for unit := lo; unit < hi; unit++ {
			i, c0 := unit/blocks, unit%blocks*col2imChannels
			c1 := min(c0+col2imChannels, g.c)
			planes := dxd[((first+i)*g.c+c0)*hw : ((first+i)*g.c+c1)*hw]
			col2imTransposed(planes, c1-c0, be.col[i*pq*crs+c0*g.r*g.s:], crs, g)
		}
	})
}

// gatherGroup returns dy for images [first, first+images) as one [K, images*P*Q] matrix: dy
// itself when there is one image, else a copy in the product workspace.
func (be *Backend) gatherGroup(dyd []float32, g convGeometry, first, images int) []float32 {
	pq := g.pixels()
	if images == 1 {
		return dyd[first*g.k*pq : (first+1)*g.k*pq]
	}
	cols := images * pq
	be.prod = grow(be.prod, g.k*cols)
	parallelFor(images, be.workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			src := dyd[(first+i)*g.k*pq:]
			for k := 0; k < g.k; k++ {
				copy(be.prod[k*cols+i*pq:k*cols+(i+1)*pq], src[k*pq:(k+1)*pq])
			}
		}
	})
	return be.prod
}

// transposeTile is the side of the square blocks transpose copies, small enough that a
// block of the source and one of the destination stay in L1 cache together.
const transposeTile = 32

// transpose writes the rows x cols matrix src (rows lds apart) transposed into dst (rows
// ldd apart): dst[j*ldd+i] = src[i*lds+j]. It goes tile by tile so that neither side is
// read or written with a cache-missing stride for long, and splits the bands of
// transposeTile source rows over up to `workers` goroutines (each writes its own columns of
// dst).
func transpose(dst []float32, ldd int, src []float32, lds int, rows, cols, workers int) {
	parallelFor(ceilDiv(rows, transposeTile), workers, func(_, lo, hi int) {
		for i0 := lo * transposeTile; i0 < min(hi*transposeTile, rows); i0 += transposeTile {
			for j0 := 0; j0 < cols; j0 += transposeTile {
				for i := i0; i < min(i0+transposeTile, rows); i++ {
					row := src[i*lds:]
					for j := j0; j < min(j0+transposeTile, cols); j++ {
						dst[j*ldd+i] = row[j]
					}
				}
			}
		}
	})
}

// validRange returns the output positions [lo, hi) along one axis whose input coordinate
// out*stride - pad + tap falls inside [0, inLen); the others read padding.
func validRange(outLen, inLen, stride, pad, tap int) (lo, hi int) {
	lo = ceilDiv(max(pad-tap, 0), stride)
	hi = ceilDiv(max(inLen+pad-tap, 0), stride)
	hi = min(hi, outLen)
	lo = min(lo, hi)
	return lo, hi
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// im2col writes the R*S rows of one input channel plane [H,W] into col, whose rows are ld
// apart: row (r,s), column (p,q) gets the pixel that tap (r,s) sees at output (p,q), or 0.
func im2col(col []float32, ld int, plane []float32, g convGeometry) {
	pp := g.params
	row := 0
	for r := 0; r < g.r; r++ {
		pLo, pHi := validRange(g.p, g.h, pp.StrideH, pp.PadH, r)
		for s := 0; s < g.s; s++ {
			qLo, qHi := validRange(g.q, g.w, pp.StrideW, pp.PadW, s)
			dst := col[row*ld : row*ld+g.p*g.q]
			row++
			clear(dst[:pLo*g.q])
			clear(dst[pHi*g.q:])
			for op := pLo; op < pHi; op++ {
				src := plane[(op*pp.StrideH-pp.PadH+r)*g.w:]
				seg := dst[op*g.q : (op+1)*g.q]
				clear(seg[:qLo])
				clear(seg[qHi:])
				first := qLo*pp.StrideW - pp.PadW + s
				if pp.StrideW == 1 {
					copy(seg[qLo:qHi], src[first:])
					continue
				}
				for oq, iw := qLo, first; oq < qHi; oq, iw = oq+1, iw+pp.StrideW {
					seg[oq] = src[iw]
				}
			}
		}
	}
}

// col2imChannels is how many channels one col2im task handles: the row of the transposed
// column matrix it reads per output pixel is then col2imChannels*R*S floats long, several
// whole cache lines.
const col2imChannels = 8

// col2imTransposed is im2col's adjoint for a run of channels, reading the column matrix
// transposed: colT holds, for output pixel (p,q), the channels' R*S taps each at
// colT[(p*Q+q)*ld + c*R*S + r*S+s]. It zeroes planes [channels,H,W] and adds every tap back
// onto the pixel it was copied from; taps that fell in the padding are dropped.
func col2imTransposed(planes []float32, channels int, colT []float32, ld int, g convGeometry) {
	pp := g.params
	hw, rs := g.h*g.w, g.r*g.s
	clear(planes)
	for op := 0; op < g.p; op++ {
		for oq := 0; oq < g.q; oq++ {
			taps := colT[(op*g.q+oq)*ld:][:channels*rs]
			for r := 0; r < g.r; r++ {
				ih := op*pp.StrideH - pp.PadH + r
				if ih < 0 || ih >= g.h {
					continue
				}
				for s := 0; s < g.s; s++ {
					iw := oq*pp.StrideW - pp.PadW + s
					if iw < 0 || iw >= g.w {
						continue
					}
					for c, at := 0, ih*g.w+iw; c < channels; c, at = c+1, at+hw {
						planes[at] += taps[c*rs+r*g.s+s]
					}
				}
			}
		}
	}
}
