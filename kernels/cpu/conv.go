package cpu

import (
	"fmt"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Convolution is lowered to matrix products (im2col). For one image, the column matrix
// col[C*R*S, P*Q] holds in row (c,r,s) and column (p,q) the input pixel that filter tap (r,s)
// of channel c sees at output position (p,q), or 0 in the padding. Then
//
//	forward:          y[K, P*Q]     = w[K, C*R*S] · col
//	backward-data:    col           = wᵀ · dy[K, P*Q], scattered back onto dx (col2im)
//	backward-filter:  dw[K, C*R*S] += dy · colᵀ, summed over the batch
//
// so nearly all the work happens in Sgemm.

// sgemm is gonum's pure-Go single-precision matrix product. It splits big products over
// goroutines by output blocks, each summed over k in a fixed order, so it is deterministic.
var sgemm = blas32.Implementation().Sgemm

// convGeometry is the shape of one convolution call, checked once and shared by the three ops.
type convGeometry struct {
	n, c, h, w int // input
	k, r, s    int // filters
	p, q       int // output
	params     kernels.ConvParams
}

// colRows and colCols are the im2col matrix's dimensions.
func (g convGeometry) colRows() int { return g.c * g.r * g.s }
func (g convGeometry) colCols() int { return g.p * g.q }

// isPointwise reports a 1x1 stride-1 unpadded convolution, whose column matrix is the image
// itself, so im2col can be skipped.
func (g convGeometry) isPointwise() bool {
	pp := g.params
	return g.r == 1 && g.s == 1 && pp.StrideH == 1 && pp.StrideW == 1 && pp.PadH == 0 && pp.PadW == 0
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

// Conv2D: y = conv(x, w) + b, one image per worker, each with its own column matrix.
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
	cols := be.colWorkspaces(g)
	inSize, outSize, crs, pq := g.c*g.h*g.w, g.k*g.p*g.q, g.colRows(), g.colCols()
	parallelFor(g.n, be.workers, func(worker, lo, hi int) {
		for n := lo; n < hi; n++ {
			img := xd[n*inSize : (n+1)*inSize]
			col := img
			if !g.isPointwise() {
				col = cols[worker]
				im2col(col, img, g)
			}
			out := yd[n*outSize : (n+1)*outSize]
			// Start from the bias and let Sgemm add the product (beta = 1).
			for k := 0; k < g.k; k++ {
				row := out[k*pq : (k+1)*pq]
				for i := range row {
					row[i] = bd[k]
				}
			}
			sgemm(blas.NoTrans, blas.NoTrans, g.k, pq, crs, 1, wd, crs, col, pq, 1, out, pq)
		}
	})
	return nil
}

// Conv2DBackwardData: dx = col2im(wᵀ · dy), one image per worker.
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
	cols := be.colWorkspaces(g)
	inSize, outSize, crs, pq := g.c*g.h*g.w, g.k*g.p*g.q, g.colRows(), g.colCols()
	parallelFor(g.n, be.workers, func(worker, lo, hi int) {
		for n := lo; n < hi; n++ {
			img := dxd[n*inSize : (n+1)*inSize]
			grad := dyd[n*outSize : (n+1)*outSize]
			if g.isPointwise() {
				// The column matrix is the image itself: write the product straight into dx.
				sgemm(blas.Trans, blas.NoTrans, crs, pq, g.k, 1, wd, crs, grad, pq, 0, img, pq)
				continue
			}
			col := cols[worker]
			sgemm(blas.Trans, blas.NoTrans, crs, pq, g.k, 1, wd, crs, grad, pq, 0, col, pq)
			col2im(img, col, g)
		}
	})
	return nil
}

// Conv2DBackwardFilter: dw = Σ_n dy_n · col_nᵀ and db = Σ_n Σ_pq dy. Each worker sums its
// own contiguous run of images into a private buffer; the buffers are then added in worker
// order, so the summation order is fixed.
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
	cols := be.colWorkspaces(g)
	inSize, outSize, crs, pq := g.c*g.h*g.w, g.k*g.p*g.q, g.colRows(), g.colCols()
	workers := min(be.workers, g.n)
	partials := append([][]float32{dwd}, be.extraSums(workers-1, len(dwd))...) // worker 0 sums straight into dw
	parallelFor(g.n, workers, func(worker, lo, hi int) {
		sum := partials[worker]
		for n := lo; n < hi; n++ {
			col := xd[n*inSize : (n+1)*inSize]
			if !g.isPointwise() {
				col = cols[worker]
				im2col(col, xd[n*inSize:(n+1)*inSize], g)
			}
			var beta float32 = 1
			if n == lo {
				beta = 0 // overwrite: the first image of the run starts the sum
			}
			sgemm(blas.NoTrans, blas.Trans, g.k, crs, pq, 1, dyd[n*outSize:(n+1)*outSize], pq, col, pq, beta, sum, crs)
		}
	})
	for _, part := range partials[1:] {
		for i, v := range part {
			dwd[i] += v
		}
	}
	if dbd != nil {
		// Bias gradients are short sums; accumulate in float64 for accuracy.
		for k := 0; k < g.k; k++ {
			var sum float64
			for n := 0; n < g.n; n++ {
				for _, v := range dyd[n*outSize+k*pq : n*outSize+(k+1)*pq] {
					sum += float64(v)
				}
			}
			dbd[k] = float32(sum)
		}
	}
	return nil
}

// colWorkspaces returns one column matrix per worker, big enough for g.
func (be *Backend) colWorkspaces(g convGeometry) [][]float32 {
	if g.isPointwise() {
		return nil
	}
	size := g.colRows() * g.colCols()
	if len(be.cols) < be.workers {
		be.cols = make([][]float32, be.workers)
	}
	for i := range be.cols {
		be.cols[i] = grow(be.cols[i], size)
	}
	return be.cols
}

// extraSums returns count private sum buffers of size floats, kept across calls.
func (be *Backend) extraSums(count, size int) [][]float32 {
	if len(be.partials) < count {
		be.partials = make([][]float32, count)
	}
	for i := 0; i < count; i++ {
		be.partials[i] = grow(be.partials[i], size)
	}
	return be.partials[:count]
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

// im2col fills col[C*R*S, P*Q] from one image img[C,H,W].
func im2col(col, img []float32, g convGeometry) {
	pp := g.params
	pq := g.colCols()
	row := 0
	for c := 0; c < g.c; c++ {
		plane := img[c*g.h*g.w : (c+1)*g.h*g.w]
		for r := 0; r < g.r; r++ {
			pLo, pHi := validRange(g.p, g.h, pp.StrideH, pp.PadH, r)
			for s := 0; s < g.s; s++ {
				qLo, qHi := validRange(g.q, g.w, pp.StrideW, pp.PadW, s)
				dst := col[row*pq : (row+1)*pq]
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
}

// col2im is im2col's adjoint: it zeroes img[C,H,W] and adds every entry of col back onto the
// input pixel it was copied from (padding entries are dropped).
func col2im(img, col []float32, g convGeometry) {
	pp := g.params
	pq := g.colCols()
	clear(img)
	row := 0
	for c := 0; c < g.c; c++ {
		plane := img[c*g.h*g.w : (c+1)*g.h*g.w]
		for r := 0; r < g.r; r++ {
			pLo, pHi := validRange(g.p, g.h, pp.StrideH, pp.PadH, r)
			for s := 0; s < g.s; s++ {
				qLo, qHi := validRange(g.q, g.w, pp.StrideW, pp.PadW, s)
				src := col[row*pq : (row+1)*pq]
				row++
				for op := pLo; op < pHi; op++ {
					dst := plane[(op*pp.StrideH-pp.PadH+r)*g.w:]
					seg := src[op*g.q : (op+1)*g.q]
					for oq, iw := qLo, qLo*pp.StrideW-pp.PadW+s; oq < qHi; oq, iw = oq+1, iw+pp.StrideW {
						dst[iw] += seg[oq]
					}
				}
			}
		}
	}
}
