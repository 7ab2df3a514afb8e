package cpu

import (
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/sgemm"
	"github.com/vgglab/vgg/kernels/cpu/vec"
	"github.com/vgglab/vgg/tensor"
)

// Convolutions are lowered to matrix products (im2col) here, except VGG's 3x3, stride-1
// ones: layers of 64 channels or more run as Winograd F(4x4, 3x3) (winograd.go,
// winograd_filter.go), and the rest run on the direct kernels of conv3x3.go where the CPU has
// AVX2 or AVX-512 (see usesWinograd and usesDirect for the measured exceptions). For a group
// of images, the column matrix col[C*R*S, images*P*Q] holds in row (c,r,s) and column
// (image,p,q) the input pixel that filter tap (r,s) of channel c sees at output position
// (p,q), or 0 in the padding.
// With w as the [K, C*R*S] matrix it is in memory and dy, y as [K, images*P*Q], the three
// ops are
//
//	forward:          y   = w · col
//	backward-data:    col = wᵀ · dy,          added back onto dx (col2im)
//	backward-filter:  dw  = Σ_groups dy · colᵀ
//
// The products keep the pixels along the columns, the long side that SGEMM's register tile
// runs along and its B panels pack, and the channels (8 to 512) along the rows: with
// few filters the pixels still fill whole tiles, and each result comes out in the layout its
// tensor has, [K, P*Q] per image, so nothing is transposed. The right-hand operand is never
// written out: SGEMM packs its panels straight from x (col, colᵀ) or dy (sgemm.PackB), so
// the column matrix costs one pass over the input instead of an im2col pass and a packing
// pass over a matrix R*S times its size. The weight gradient is the exception where the CPU
// has an assembly dot-product kernel and the layer has few filters: dy and col both lie
// along the pixels, its k, so sgemm.Dots multiplies their rows as they are, and col is
// written out once (packing colᵀ for SGEMM would transpose it element by element, which for
// few filters costs more than the multiply-adds).
//
// Images are grouped so that each product has at least minGroupColumns columns: for the deep
// layers (P*Q = 4 to 256) one image alone would make a thin product that SGEMM runs slowly.
// The forward and backward-data ops make smaller groups where that gives each worker one
// (see groupSize). When there are at least as many groups as workers, each worker takes
// whole groups and runs their products and col2im alone (the batch split across cores, no
// hand-off inside a layer); with fewer groups they go one at a time and SGEMM splits each
// product over the cores. Either way every output element is summed in the same order (SGEMM sums over k the
// same whichever goroutine computes a tile, and the weight gradient adds the groups' partial
// products in group order), so results do not depend on the number of workers.

// maxDotFilters is the most filters for which the weight gradient is computed as dot
// products (sgemm.Dots): each block of 4 filters streams the whole column matrix once more,
// so beyond 64 filters (VGG-D's conv2 onwards at full width) packing colᵀ once for SGEMM's
// wider AVX-512 tiles wins again (measured on conv2_2: 40 against 52 GFLOP/s; on conv1_2,
// 64 filters, Dots 34-40 against 26-31).
const maxDotFilters = 64

// minGroupColumns is the least number of output pixels per SGEMM call, batch permitting.
const minGroupColumns = 256

// convGeometry is the shape of one convolution call, checked once and shared by the three ops.
type convGeometry struct {
	n, c, h, w int // input
	k, r, s    int // filters
	p, q       int // output
	params     kernels.ConvParams
	size       int // images per group (see groupSize)
}

// colRows is C*R*S, the column matrix's height and the filters' row length.
func (g convGeometry) colRows() int { return g.c * g.r * g.s }

// pixels is P*Q, the columns one image contributes.
func (g convGeometry) pixels() int { return g.p * g.q }

// groupSize is how many images go into one column matrix: enough for minGroupColumns
// columns. The weight gradient sums its groups' partial products in turn, so its grouping
// must not depend on the number of workers; the forward and backward-data products compute
// each output element the same way however the images are grouped, so they take smaller
// groups when that gives every worker one (the last layers have few pixels an image).
func (g convGeometry) groupSize(workers int) int {
	size := min(g.n, ceilDiv(minGroupColumns, g.pixels()))
	if workers > 1 {
		size = min(size, ceilDiv(g.n, workers))
	}
	return size
}

// withGroups returns g splitting its batch into groups of size images.
func (g convGeometry) withGroups(size int) convGeometry {
	g.size = size
	return g
}

// groups is how many groups the batch makes.
func (g convGeometry) groups() int { return ceilDiv(g.n, g.size) }

// group returns group u's first image and its number of images.
func (g convGeometry) group(u int) (first, images int) {
	first = u * g.size
	return first, min(g.size, g.n-first)
}

// convScratch is one worker's memory for a group: the column matrix and a [K, columns]
// product or gathered gradient, plus a weight-gradient partial [K, C*R*S].
type convScratch struct {
	col, mat, part []float32
	taps           []colTap
}

// geometry turns the contract's convolution geometry into the one the lowering uses.
func geometry(kg kernels.ConvGeometry, p kernels.ConvParams) convGeometry {
	return convGeometry{n: kg.N, c: kg.C, h: kg.H, w: kg.W, k: kg.K, r: p.KernelH, s: p.KernelW, p: kg.P, q: kg.Q, params: p}
}

// forEachGroup calls do for every group of the batch, with a worker's scratch and the number
// of goroutines do's products and copies may use: the groups spread over the workers (each
// then runs alone) when there are enough to go round, else one at a time with all the
// workers inside each. Groups are handed out in order.
func (be *Backend) forEachGroup(g convGeometry, do func(s *convScratch, u, workers int)) {
	groups := g.groups()
	for len(be.scratch) < be.workers {
		be.scratch = append(be.scratch, new(convScratch))
	}
	if groups < be.workers {
		for u := 0; u < groups; u++ {
			do(be.scratch[0], u, be.workers)
		}
		return
	}
	var next atomic.Int64
	parallelFor(be.workers, be.workers, func(worker, _, _ int) {
		for u := int(next.Add(1)) - 1; u < groups; u = int(next.Add(1)) - 1 {
			do(be.scratch[worker], u, 1)
		}
	})
}

// Conv2D: y = conv(x, w) + b.
func (be *Backend) Conv2D(y, x, w, b *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2D"
	kg, err := kernels.CheckConv2D(y, x, w, b, p)
	if err != nil {
		return err
	}
	g := geometry(kg, p)
	g = g.withGroups(g.groupSize(be.workers))
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
	if be.usesWinograd(g) {
		be.winogradForward(yd, xd, wd, bd, g)
		return nil
	}
	if be.usesDirect(g) {
		be.directForward(yd, xd, wd, bd, g)
		return nil
	}
	crs, pq := g.colRows(), g.pixels()
	be.forEachGroup(g, func(s *convScratch, u, workers int) {
		first, images := g.group(u)
		cols := images * pq
		out := yd[first*g.k*pq : (first+1)*g.k*pq] // one image: straight into y
		if images > 1 {
			s.mat = grow(s.mat, g.k*cols)
			out = s.mat
		}
		be.gemmPackedB(workers, blas.NoTrans, g.k, cols, crs, 1, wd, crs, g.packCol(xd, first, g.colTaps(s)), 0, out, cols)
		// Add the bias, moving each image's rows of a group's product into y on the way.
		parallelFor(images*g.k, workers, func(_, lo, hi int) {
			for row := lo; row < hi; row++ {
				i, k := row/g.k, row%g.k
				dst := yd[((first+i)*g.k+k)*pq:][:pq]
				if images > 1 {
					copy(dst, out[k*cols+i*pq:][:pq])
				}
				bias := bd[k]
				for j := range dst {
					dst[j] += bias
				}
			}
		})
	})
	return nil
}

// Conv2DBackwardData: dx = col2im(wᵀ · dy).
func (be *Backend) Conv2DBackwardData(dx, dy, w *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackwardData"
	kg, err := kernels.CheckConv2DBackwardData(dx, dy, w, p)
	if err != nil {
		return err
	}
	g := geometry(kg, p)
	g = g.withGroups(g.groupSize(be.workers))
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
	if be.usesWinograd(g) {
		be.winogradBackwardData(dxd, dyd, wd, g)
		return nil
	}
	if be.usesDirect(g) {
		be.directBackwardData(dxd, dyd, wd, g)
		return nil
	}
	crs, pq := g.colRows(), g.pixels()
	be.forEachGroup(g, func(s *convScratch, u, workers int) {
		first, images := g.group(u)
		cols := images * pq
		s.col = grow(s.col, crs*cols)
		be.gemmPackedB(workers, blas.Trans, crs, cols, g.k, 1, wd, crs, g.packDy(dyd, first), 0, s.col, cols)
		col2imGroup(dxd, s.col, g, first, images, workers)
	})
	return nil
}

// Conv2DBackwardFilter: dw = Σ_groups dy_group · col_groupᵀ, the groups' partial products
// added in batch order (or the direct kernels' sums), and db = Σ_n Σ_pq dy.
func (be *Backend) Conv2DBackwardFilter(dw, db, x, dy *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackwardFilter"
	kg, err := kernels.CheckConv2DBackwardFilter(dw, db, x, dy, p)
	if err != nil {
		return err
	}
	g := geometry(kg, p)
	g = g.withGroups(g.groupSize(1)) // the same groups for any number of workers
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
		if dbd, err = hostF32(op, "db", db); err != nil {
			return err
		}
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	switch {
	case be.usesWinograd(g):
		be.winogradBackwardFilter(dwd, xd, dyd, g)
	case be.usesDirectFilter(g):
		be.directBackwardFilter(dwd, xd, dyd, g)
	default:
		be.loweredBackwardFilter(dwd, xd, dyd, g)
	}
	be.biasGrad(dbd, dyd, g)
	return nil
}

// Conv2DBackward computes what Conv2DBackwardData and Conv2DBackwardFilter compute, in one
// call (kernels.ConvBackward). Where the direct kernels compute both gradients, dy is copied
// into its flat planes once, for both; elsewhere (Winograd, the lowering) it is the two ops
// in turn. The results are bit for bit those of the two ops.
func (be *Backend) Conv2DBackward(dx, dw, db, x, dy, w *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackward"
	kg, err := kernels.CheckConv2DBackwardData(dx, dy, w, p)
	if err != nil {
		return err
	}
	if _, err := kernels.CheckConv2DBackwardFilter(dw, db, x, dy, p); err != nil {
		return err
	}
	g := geometry(kg, p)
	if !be.usesDirectFilter(g) {
		if err := be.Conv2DBackwardData(dx, dy, w, p); err != nil {
			return err
		}
		return be.Conv2DBackwardFilter(dw, db, x, dy, p)
	}
	d, err := hostAll(op, named{"dx", dx}, named{"dw", dw}, named{"x", x}, named{"dy", dy}, named{"w", w})
	if err != nil {
		return err
	}
	var dbd []float32
	if db != nil {
		if dbd, err = hostF32(op, "db", db); err != nil {
			return err
		}
	}
	be.mu.Lock()
	defer be.mu.Unlock()
	be.directBackward(d[0], d[1], d[2], d[3], d[4], g)
	be.biasGrad(dbd, d[3], g)
	return nil
}

// biasGrad sets db = Σ_n Σ_pq dy, when db is not nil. Bias gradients sum N*P*Q terms each;
// they are accumulated in float64 for accuracy: each plane's sum by one worker (planes split
// in image order, as batch norm's), then each filter's in batch order. Called under be.mu.
func (be *Backend) biasGrad(dbd, dyd []float32, g convGeometry) {
	if dbd == nil {
		return
	}
	pq, planes := g.pixels(), g.n*g.k
	s := be.sums(planes, g.k)
	parallelFor(planes, be.workersFor(len(dyd)), func(_, lo, hi int) {
		for p := lo; p < hi; p++ {
			s.parts[p] = vec.Sum(dyd[p*pq : (p+1)*pq])
		}
	})
	for k := range g.k {
		dbd[k] = float32(channelTotal(s.parts, g.n, k, g.k))
	}
}

// loweredBackwardFilter: dw = Σ_groups dy_group · col_groupᵀ.
func (be *Backend) loweredBackwardFilter(dwd, xd, dyd []float32, g convGeometry) {
	crs, pq := g.colRows(), g.pixels()
	// Group u's partial product may be added to dw only after group u-1's: added tracks how
	// many have been, and a worker whose partial is ready waits for its turn.
	var (
		turn  sync.Mutex
		ready = sync.NewCond(&turn)
		added int
	)
	be.forEachGroup(g, func(s *convScratch, u, workers int) {
		first, images := g.group(u)
		cols := images * pq
		grad := gatherGroup(s, dyd, g, first, images, workers)
		part := dwd // the first group writes dw itself
		if u > 0 {
			s.part = grow(s.part, g.k*crs)
			part = s.part
		}
		if be.dots != nil && g.k <= maxDotFilters {
			col := colMatrix(s, xd, g, first, images, workers)
			be.dots(workers, g.k, crs, cols, grad, cols, col, cols, 0, part, crs)
		} else {
			be.gemmPackedB(workers, blas.NoTrans, g.k, crs, cols, 1, grad, cols, g.packColT(xd, first, g.colTaps(s)), 0, part, crs)
		}
		turn.Lock()
		for added < u {
			ready.Wait()
		}
		turn.Unlock()
		if u > 0 {
			addInto(dwd, part, workers)
		}
		turn.Lock()
		added++
		ready.Broadcast()
		turn.Unlock()
	})
}

// addInto sets dst += src, split over workers.
func addInto(dst, src []float32, workers int) {
	parallelFor(ceilDiv(len(dst), 4096), workers, func(_, lo, hi int) {
		vec.Add(dst[lo*4096:min(hi*4096, len(dst))], src[lo*4096:])
	})
}

// colMatrix writes the column matrix [C*R*S, images*P*Q] of images [first, first+images) of
// x into s's scratch, split over its rows, and returns it.
func colMatrix(s *convScratch, xd []float32, g convGeometry, first, images, workers int) []float32 {
	crs, cols := g.colRows(), images*g.pixels()
	s.col = grow(s.col, crs*cols)
	taps := g.colTaps(s)
	parallelFor(crs, workers, func(_, lo, hi int) {
		for row := lo; row < hi; row++ {
			g.colRow(s.col[row*cols:(row+1)*cols], xd, first, &taps[row], colPos{})
		}
	})
	return s.col
}

// col2imGroup sets images [first, first+images) of dx from the column matrix col
// [C*R*S, images*P*Q], split over (image, channel) pairs.
func col2imGroup(dxd, col []float32, g convGeometry, first, images, workers int) {
	cols := images * g.pixels()
	rs := g.r * g.s
	parallelFor(images*g.c, workers, func(_, lo, hi int) {
		for unit := lo; unit < hi; unit++ {
			i, c := unit/g.c, unit%g.c
			plane := dxd[((first+i)*g.c+c)*g.h*g.w:][:g.h*g.w]
			col2im(plane, col[c*rs*cols+i*g.pixels():], cols, g)
		}
	})
}

// gatherGroup returns dy for images [first, first+images) as one [K, images*P*Q] matrix: dy
// itself when there is one image, else a copy in s's matrix.
func gatherGroup(s *convScratch, dyd []float32, g convGeometry, first, images, workers int) []float32 {
	pq := g.pixels()
	if images == 1 {
		return dyd[first*g.k*pq : (first+1)*g.k*pq]
	}
	cols := images * pq
	s.mat = grow(s.mat, g.k*cols)
	parallelFor(images, workers, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			src := dyd[(first+i)*g.k*pq:]
			for k := 0; k < g.k; k++ {
				copy(s.mat[k*cols+i*pq:k*cols+(i+1)*pq], src[k*pq:(k+1)*pq])
			}
		}
	})
	return s.mat
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

// colTap is what colRow needs of one row (c,r,s) of the column matrix, worked out once per
// call: where channel c starts in an image, the tap, and the output rows and columns whose
// tap falls inside the input.
type colTap struct {
	offset, r, s       int
	pLo, pHi, qLo, qHi int
}

// colTaps returns the colTap of every row of the column matrix, in s's scratch.
func (g convGeometry) colTaps(s *convScratch) []colTap {
	pp := g.params
	rs := g.r * g.s
	s.taps = grow(s.taps, g.colRows())
	for row := range s.taps {
		c, r, t := row/rs, row%rs/g.s, row%g.s
		pLo, pHi := validRange(g.p, g.h, pp.StrideH, pp.PadH, r)
		qLo, qHi := validRange(g.q, g.w, pp.StrideW, pp.PadW, t)
		s.taps[row] = colTap{offset: c * g.h * g.w, r: r, s: t, pLo: pLo, pHi: pHi, qLo: qLo, qHi: qHi}
	}
	return s.taps
}

// colPos is a column of the column matrix: image i (counted from the group's first) and
// output position (op, oq).
type colPos struct{ i, op, oq int }

// pos returns where column j of the column matrix is; it divides, so callers work it out once
// per run of columns.
func (g convGeometry) pos(j int) colPos {
	pix := j % g.pixels()
	return colPos{i: j / g.pixels(), op: pix / g.q, oq: pix % g.q}
}

// colRow writes the len(d) columns from at on of the column matrix's row for tap t, for the
// images from first on, into d: the input pixel the tap sees at each output position, 0 in
// the padding. The columns are walked a run of one output row at a time, which is a copy
// from a row of the input when the stride is 1; positions advance by addition, as divisions
// would cost more than the copies at these sizes, and short runs are copied by a loop rather
// than a call.
func (g convGeometry) colRow(d, xd []float32, first int, t *colTap, at colPos) {
	pp := g.params
	image := g.c * g.h * g.w
	op, oq := at.op, at.oq
	plane := (first+at.i)*image + t.offset // where this image's channel starts in x
	for j := 0; j < len(d); {
		seg := d[j : j+min(g.q-oq, len(d)-j)]
		lo, hi := max(oq, t.qLo), min(oq+len(seg), t.qHi) // the run's columns inside the input
		if op < t.pLo || op >= t.pHi || lo >= hi {
			clear(seg)
		} else {
			for k := range seg[:lo-oq] {
				seg[k] = 0
			}
			for k := hi - oq; k < len(seg); k++ {
				seg[k] = 0
			}
			src := xd[plane+(op*pp.StrideH-pp.PadH+t.r)*g.w:][:g.w]
			iw := lo*pp.StrideW - pp.PadW + t.s
			dst := seg[lo-oq : hi-oq]
			switch {
			case pp.StrideW != 1:
				for k := range dst {
					dst[k] = src[iw+k*pp.StrideW]
				}
			case len(dst) <= 16:
				for k, v := range src[iw : iw+len(dst)] {
					dst[k] = v
				}
			default:
				copy(dst, src[iw:])
			}
		}
		j += len(seg)
		if oq += len(seg); oq == g.q {
			if oq, op = 0, op+1; op == g.p {
				op, plane = 0, plane+image
			}
		}
	}
}

// packCol packs panels of the column matrix of the images from first on (rows (c,r,s),
// columns (image,p,q)) straight from x.
func (g convGeometry) packCol(xd []float32, first int, taps []colTap) sgemm.PackB {
	return func(dst []float32, p0, kc, j0, cols, nr int) {
		at := g.pos(j0)
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			g.colRow(d[:cols], xd, first, &taps[p0+p], at)
			clear(d[cols:])
		}
	}
}

// packColT packs panels of the column matrix's transpose (rows (image,p,q), columns (c,r,s))
// straight from x: each column of the panel is a run of a row of col, written across.
func (g convGeometry) packColT(xd []float32, first int, taps []colTap) sgemm.PackB {
	return func(dst []float32, p0, kc, j0, cols, nr int) {
		var run [256]float32
		for j := 0; j < nr; j++ {
			for at := 0; at < kc; at += len(run) {
				seg := run[:min(len(run), kc-at)]
				if j < cols {
					g.colRow(seg, xd, first, &taps[j0+j], g.pos(p0+at))
				} else {
					clear(seg)
				}
				for p, v := range seg {
					dst[(at+p)*nr+j] = v
				}
			}
		}
	}
}

// packDy packs panels of dy for the images from first on as one [K, images*P*Q] matrix.
func (g convGeometry) packDy(dyd []float32, first int) sgemm.PackB {
	pq := g.pixels()
	return func(dst []float32, p0, kc, j0, cols, nr int) {
		for p := 0; p < kc; p++ {
			d := dst[p*nr : p*nr+nr]
			for j := 0; j < cols; {
				i, pix := (j0+j)/pq, (j0+j)%pq
				n := copy(d[j:cols], dyd[((first+i)*g.k+p0+p)*pq+pix:((first+i)*g.k+p0+p+1)*pq])
				j += n
			}
			clear(d[cols:])
		}
	}
}

// col2im is im2col's adjoint for one channel: it sets plane [H,W] to the sum of the taps in
// its R*S rows of col (rows ld apart) that were copied from each pixel; taps that fell in
// the padding are dropped.
func col2im(plane, col []float32, ld int, g convGeometry) {
	pp := g.params
	clear(plane)
	row := 0
	for r := 0; r < g.r; r++ {
		pLo, pHi := validRange(g.p, g.h, pp.StrideH, pp.PadH, r)
		for s := 0; s < g.s; s++ {
			qLo, qHi := validRange(g.q, g.w, pp.StrideW, pp.PadW, s)
			taps := col[row*ld : row*ld+g.p*g.q]
			row++
			for op := pLo; op < pHi; op++ {
				dst := plane[(op*pp.StrideH-pp.PadH+r)*g.w:]
				seg := taps[op*g.q : (op+1)*g.q]
				first := qLo*pp.StrideW - pp.PadW + s
				if pp.StrideW == 1 {
					vec.Add(dst[first:first+qHi-qLo], seg[qLo:qHi])
					continue
				}
				for oq, iw := qLo, first; oq < qHi; oq, iw = oq+1, iw+pp.StrideW {
					dst[iw] += seg[oq]
				}
			}
		}
	}
}
