// Package sgemm is a single-precision general matrix product for row-major matrices,
//
//	C = alpha·op(A)·op(B) + beta·C,   op(X) = X or Xᵀ,  op(A) m x k, op(B) k x n, C m x n,
//
// with the same arguments as gonum's blas32 Sgemm, so that it drops in where that is called.
//
// It is built as BLIS and GotoBLAS are. For each block of nc columns of C and each block of
// kc steps of the inner dimension, op(B)'s kc x nc block is packed into nr-wide column panels
// (each panel kc·nr floats, contiguous, in the order the micro-kernel reads them), and for
// each block of mc rows op(A)'s mc x kc block is packed into mr-tall row panels, scaled by
// alpha. A micro-kernel then multiplies one A panel by one B panel into an mr x nr tile of C,
// keeping the tile in registers for the whole kc loop. The sizes put one B panel (kc·nr
// floats) in L1, the packed A block (mc·kc) in L2 and the packed B block in L3. Packing
// zero-pads partial panels, so the micro-kernel always computes a full tile; tiles that
// overhang C's edge are computed into a small buffer and only their inside is copied out.
// Packing turns every transpose into the same memory layout, so the kernel never sees one.
//
// Work is split over goroutines in two phases per (nc, kc) block: the B panels are packed in
// parallel, then the (mc row block, run of B panels) pairs are handed out. Every C element is
// summed over k in the same order whichever goroutine computes it (k blocks in order, the
// micro-kernel's fixed order inside a block), so results are bit-identical for any number of
// goroutines. Helper goroutines are started once and reused, and packing buffers are pooled,
// so a call in steady state allocates nothing.
//
// beta == 0 overwrites C without reading it, so NaN or Inf in C does not survive.
package sgemm

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/blas"
)

// Variant is one micro-kernel with the block sizes it is tuned for.
type Variant struct {
	// Name identifies the variant: "go" (plain Go, every machine), "avx2" (AVX2+FMA),
	// "avx512" (AVX-512F).
	Name string
	// mr x nr is the register tile the kernel computes; mc, kc, nc are the cache blocks
	// (mc a multiple of mr, nc of nr).
	mr, nr, mc, kc, nc int
	// kernel computes the mr x nr tile C = beta·C + A·B (C = A·B when beta == 0, C not
	// read) from a packed A panel (k x mr, row i of step p at a[p*mr+i]) and a packed B
	// panel (k x nr, at b[p*nr+j]); C's rows are ldc apart. k >= 1.
	kernel func(k int, a, b, c []float32, ldc int, beta float32)
}

// goVariant runs everywhere; the architecture files add faster ones.
var goVariant = &Variant{Name: "go", mr: 6, nr: 16, mc: 144, kc: 256, nc: 4096, kernel: kernelGo6x16}

// variants lists what this machine can run, fastest first.
var variants = append(archVariants(), goVariant)

// Variants returns the variants this machine can run, fastest (the default) first.
func Variants() []*Variant { return append([]*Variant(nil), variants...) }

// Default is the fastest variant this machine runs; Sgemm uses it.
func Default() *Variant { return variants[0] }

// Describe says which micro-kernel a variant runs, for backend descriptions.
func (v *Variant) Describe() string {
	return fmt.Sprintf("%s %dx%d micro-kernel", v.Name, v.mr, v.nr)
}

// Tile returns the micro-kernel's register tile, mr rows by nr columns, and kc, the most
// steps of the inner dimension its panels are sized for (a B panel of kc·nr floats in L1).
func (v *Variant) Tile() (mr, nr, kc int) { return v.mr, v.nr, v.kc }

// MultiplyPanels runs the micro-kernel alone on panels the caller packed: the mr x nr tile
// c = a·b (beta 0: c is not read) or c + a·b (beta 1), from an A panel of k steps of mr rows
// (a[p*mr+i]) and a B panel of k steps of nr columns (b[p*nr+j]); c's rows lie ldc apart.
// It is for callers that multiply the same packed operands many times, such as the Winograd
// convolutions' 36 products per block of tiles, which Sgemm would pack again on every call.
func (v *Variant) MultiplyPanels(k int, a, b, c []float32, ldc int, beta float32) {
	v.kernel(k, a, b, c, ldc, beta)
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with the default variant, on up to
// GOMAXPROCS goroutines.
func Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	Default().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Sgemm computes C = alpha·op(A)·op(B) + beta·C with this variant's micro-kernel, on up to
// GOMAXPROCS goroutines. Bad arguments panic, as in gonum.
func (v *Variant) Sgemm(tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	v.SgemmWorkers(runtime.GOMAXPROCS(0), tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// SgemmWorkers is Sgemm on at most workers goroutines (the caller's included); 1 runs it on
// the caller's alone, for callers that split their own work across cores. The result is the
// same for any number.
func (v *Variant) SgemmWorkers(workers int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	transA, transB := checkArgs(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	v.run(workers, beta, call{v: v, transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc})
}

// PackB fills one panel of a B that is never stored whole: k steps [p0, p0+kc) of columns
// [j0, j0+cols), cols <= nr, element (p, j) at dst[(p-p0)*nr + j-j0], and zeros in the
// nr-cols columns beyond. It is called from several goroutines at once, for disjoint panels.
type PackB func(dst []float32, p0, kc, j0, cols, nr int)

// SgemmPackedB is SgemmWorkers with op(B) given by the function that packs its panels, so
// that a B computed from other data (a convolution's column matrix, read from the image)
// is packed straight from there without being written out first.
func (v *Variant) SgemmPackedB(workers int, tA blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, packB PackB, beta float32, c []float32, ldc int) {
	transA := checkAC(tA, m, n, k, a, lda, c, ldc)
	v.run(workers, beta, call{v: v, transA: transA, m: m, n: n, k: k, alpha: alpha,
		a: a, lda: lda, packB: packB, c: c, ldc: ldc})
}

// run computes C = alpha·op(A)·op(B) + beta·C for the call's arguments.
func (v *Variant) run(workers int, beta float32, args call) {
	m, n, k := args.m, args.n, args.k
	if m == 0 || n == 0 {
		return
	}
	if args.alpha == 0 || k == 0 {
		scaleC(m, n, beta, args.c, args.ldc)
		return
	}
	ws := workspaces.Get().(*workspace)
	ws.fit(v, min(n, v.nc))
	j := jobs.Get().(*job)
	j.call = args
	j.bp = ws.b
	startHelpers(workers - 1)
	icBlocks := ceilDiv(m, v.mc)
	for jc := 0; jc < n; jc += v.nc {
		j.jc, j.nc = jc, min(v.nc, n-jc)
		j.panels = ceilDiv(j.nc, v.nr)
		// Few row blocks leave cores idle: split each one's columns into runs of panels
		// too, aiming at two units per worker so that a busy core does not hold up the rest.
		j.chunks = 1
		if workers > 1 && icBlocks < 2*workers {
			j.chunks = min(j.panels, ceilDiv(2*workers, icBlocks))
		}
		for pc := 0; pc < k; pc += v.kc {
			j.pc, j.kc = pc, min(v.kc, k-pc)
			// The first k block applies beta; the later ones add onto what it left.
			j.beta = 1
			if pc == 0 {
				j.beta = beta
			}
			j.packing, j.units = true, j.panels
			j.run(workers, ws)
			j.packing, j.units = false, icBlocks*j.chunks
			j.run(workers, ws)
		}
	}
	j.call = call{} // drop the references to the caller's matrices
	jobs.Put(j)
	workspaces.Put(ws)
}

// job is one Sgemm call: its arguments and the (nc, kc) block being worked on. Its units
// are B panels to pack (packing) or (row block, run of panels) pairs to multiply.
type job struct {
	call
	next atomic.Int64 // the next unit to hand out
	wg   sync.WaitGroup
}

// call is a job's state without its synchronisation, so that it can be set and cleared whole.
type call struct {
	v              *Variant
	transA, transB bool
	m, n, k        int
	alpha          float32
	a, b, c        []float32
	lda, ldb, ldc  int
	packB          PackB     // packs B's panels when B is not a matrix in memory
	bp             []float32 // the packed B block, panels kc*nr apart

	jc, nc, pc, kc int     // the current block: columns [jc, jc+nc), k steps [pc, pc+kc)
	beta           float32 // what the current k block scales C by
	panels, chunks int     // B panels in the block; runs of panels per row block
	packing        bool
	units          int
}

// run does the current phase's units on min(workers, units) goroutines, this one included,
// and returns when all are done. Units are handed out in turn to whichever goroutine asks;
// which goroutine does a unit does not change its result.
func (j *job) run(workers int, ws *workspace) {
	helpers := min(workers, j.units) - 1
	j.next.Store(0)
	j.wg.Add(helpers)
	for range helpers {
		helperJobs <- j
	}
	j.work(ws)
	j.wg.Wait()
}

func (j *job) work(ws *workspace) {
	for {
		u := int(j.next.Add(1)) - 1
		if u >= j.units {
			return
		}
		if j.packing {
			j.packBPanel(u)
		} else {
			j.multiply(u, ws)
		}
	}
}

// packBPanel packs the u-th nr-wide panel of the current B block.
func (j *job) packBPanel(u int) {
	nr := j.v.nr
	col := j.jc + u*nr
	dst := j.bp[u*nr*j.kc : (u+1)*nr*j.kc]
	if j.packB != nil {
		j.packB(dst, j.pc, j.kc, col, min(nr, j.n-col), nr)
		return
	}
	packB(dst, j.transB, j.b, j.ldb, j.pc, j.kc, col, min(nr, j.n-col), nr, j.v != goVariant)
}

// multiply packs unit u's row block of A and multiplies it by its run of B panels, B panel
// by B panel (the panel stays in L1 while the A block streams from L2).
func (j *job) multiply(u int, ws *workspace) {
	v := j.v
	mr, nr := v.mr, v.nr
	ic := u / j.chunks * v.mc
	mc := min(v.mc, j.m-ic)
	run := u % j.chunks
	p0, p1 := run*j.panels/j.chunks, (run+1)*j.panels/j.chunks
	packA(ws.a, j.transA, j.a, j.lda, ic, mc, j.pc, j.kc, mr, j.alpha)
	for pj := p0; pj < p1; pj++ {
		col := j.jc + pj*nr
		cols := min(nr, j.n-col)
		bPanel := j.bp[pj*nr*j.kc : (pj+1)*nr*j.kc]
		for ir := 0; ir < mc; ir += mr {
			rows := min(mr, mc-ir)
			aPanel := ws.a[ir*j.kc : (ir+mr)*j.kc]
			c := j.c[(ic+ir)*j.ldc+col:]
			if rows == mr && cols == nr {
				v.kernel(j.kc, aPanel, bPanel, c, j.ldc, j.beta)
				continue
			}
			v.kernel(j.kc, aPanel, bPanel, ws.tile, nr, 0)
			storeTile(ws.tile, nr, rows, cols, c, j.ldc, j.beta)
		}
	}
}

// storeTile sets the rows x cols corner of C to beta·C + tile (tile's rows ld apart), or to
// tile alone when beta == 0.
func storeTile(tile []float32, ld, rows, cols int, c []float32, ldc int, beta float32) {
	for i := 0; i < rows; i++ {
		t, row := tile[i*ld:i*ld+cols], c[i*ldc:i*ldc+cols]
		if beta == 0 {
			copy(row, t)
			continue
		}
		for j, x := range t {
			row[j] = beta*row[j] + x
		}
	}
}

// scaleC sets C = beta·C, writing zeros when beta == 0.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		switch beta {
		case 0:
			clear(row)
		case 1:
		default:
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// workspace is one goroutine's packing memory: a packed A block, an edge tile, and (for the
// goroutine that runs a call) the packed B block its helpers share.
type workspace struct {
	a, tile, b []float32
}

// fit grows the buffers for variant v and B blocks of up to cols columns.
func (ws *workspace) fit(v *Variant, cols int) {
	ws.fitA(v)
	if n := v.kc * ceilDiv(cols, v.nr) * v.nr; len(ws.b) < n {
		ws.b = make([]float32, n)
	}
}

// fitA grows the A and tile buffers for variant v.
func (ws *workspace) fitA(v *Variant) {
	if n := v.mc * v.kc; len(ws.a) < n {
		ws.a = make([]float32, n)
	}
	if n := v.mr * v.nr; len(ws.tile) < n {
		ws.tile = make([]float32, n)
	}
}

var (
	workspaces = sync.Pool{New: func() any { return new(workspace) }}
	jobs       = sync.Pool{New: func() any { return new(job) }}
)

// Helper goroutines wait on helperJobs; each takes a job, works on its units and signals the
// job's WaitGroup. They are started on demand, never more than GOMAXPROCS-1 at the largest
// GOMAXPROCS seen, and each keeps its own workspace, so steady-state calls start nothing and
// allocate nothing.
var (
	helperJobs    = make(chan *job)
	helperMu      sync.Mutex
	helperStarted int
)

func startHelpers(n int) {
	helperMu.Lock()
	defer helperMu.Unlock()
	for ; helperStarted < n; helperStarted++ {
		go helper()
	}
}

func helper() {
	ws := new(workspace)
	for j := range helperJobs {
		ws.fitA(j.v)
		j.work(ws)
		j.wg.Done()
	}
}

// checkArgs panics, as gonum does, on a bad transpose flag, a negative size, a leading
// dimension smaller than a row, or a slice too short for its matrix. It returns whether A
// and B are transposed.
func checkArgs(tA, tB blas.Transpose, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) (transA, transB bool) {
	transA, transB = checkAC(tA, m, n, k, a, lda, c, ldc), isTrans(tB)
	rowsB, colsB := k, n
	if transB {
		rowsB, colsB = n, k
	}
	checkMatrix("B", rowsB, colsB, b, ldb)
	return transA, transB
}

// checkAC is checkArgs for the sizes, A and C alone. It returns whether A is transposed.
func checkAC(tA blas.Transpose, m, n, k int, a []float32, lda int, c []float32, ldc int) (transA bool) {
	transA = isTrans(tA)
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("sgemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	rowsA, colsA := m, k
	if transA {
		rowsA, colsA = k, m
	}
	checkMatrix("A", rowsA, colsA, a, lda)
	checkMatrix("C", m, n, c, ldc)
	return transA
}

func isTrans(t blas.Transpose) bool {
	switch t {
	case blas.NoTrans:
		return false
	case blas.Trans, blas.ConjTrans:
		return true
	}
	panic(fmt.Sprintf("sgemm: bad transpose %v", t))
}

func checkMatrix(name string, rows, cols int, x []float32, ld int) {
	if ld < max(1, cols) {
		panic(fmt.Sprintf("sgemm: leading dimension of %s is %d, less than its %d columns", name, ld, cols))
	}
	if rows > 0 && cols > 0 && len(x) < (rows-1)*ld+cols {
		panic(fmt.Sprintf("sgemm: %s has %d elements, a %dx%d matrix with ld %d needs %d", name, len(x), rows, cols, ld, (rows-1)*ld+cols))
	}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
