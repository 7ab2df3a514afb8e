package cpu

import (
	"gonum.org/v1/gonum/blas"

	"github.com/vgglab/vgg/kernels/cpu/direct"
	"github.com/vgglab/vgg/kernels/cpu/sgemm"
	"github.com/vgglab/vgg/kernels/cpu/winograd"
)

// The weight gradient as Winograd F(4x4, 3x3), for the layers whose forward pass runs so
// (usesWinograd). Each tile's output is Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A, linear in the filter
// g, so the gradient of g is that map transposed, summed over the tiles t:
//
//	dw = Gᵀ [ Σ_t (A dy_t Aᵀ) ⊙ (Bᵀ d_t B) ] G
//
// for dy_t the tile's 4x4 output gradient and d_t its 6x6 input patch. Element by element of
// the 6x6, over every filter k and input channel c, the sum is 36 matrix products whose
// inner dimension is the tiles:
//
//	S_ξ[k][c] = Σ_t E_ξ[t][k] · V_ξ[t][c],   E = A dy Aᵀ, V = Bᵀ d B (as in the forward pass)
//
// 36 multiply-adds per 16 positions and channel pair, a quarter of the direct sum's 144.
//
// Work: the batch is copied into flat planes as in the forward pass; the tiles go in chunks
// (winogradChunk) whose transforms E and V fit in the last-level cache. For each chunk the
// workers transform groups of 32 tiles (package winograd, as in the forward pass, and
// GatherTiles and Grad for dy), eight channels at a time, and transpose each eight into rows
// of channels, tile by tile (E and V as above): the layout in which SGEMM packs its panels
// with plain copies. Then the workers share out the 36 products, each one worker's, added
// onto the chunks before (beta 1).
// Last, each filter's 36 sums become its 3x3 gradient, Gᵀ S G. Each sum is made by one
// worker, chunk after chunk in order, so results do not depend on the number of workers.

// winogradChunkBytes bounds the memory of one chunk's transforms, E and V, 36 floats per tile
// and channel, so that they stay in the last-level cache between being written and being
// multiplied: 8 MiB, 448 tiles for the 64-channel layers of VGG-D.
const winogradChunkBytes = 8 << 20

// winogradChunkTiles, when not 0, sets the chunk instead: for tests, which make chunks of one
// stage to check that chunks add up.
var winogradChunkTiles = 0

// winogradChunk is how many tiles a chunk takes for k outputs and c inputs: a whole number of
// stages. Each chunk reads and writes the 36·k·c sums once more, so a chunk takes at least
// 2·k·c/(k+c) tiles, whose transforms are as large as the sums: VGG-D's conv4 layers (512
// filters, 128 tiles at batch 8) go in one chunk, not four.
func winogradChunk(k, c, tiles int) int {
	if winogradChunkTiles > 0 {
		return winogradChunkTiles
	}
	chunk := max(winogradChunkBytes/(winograd.Terms*(k+c)*4), 2*k*c/(k+c))
	chunk = ceilDiv(chunk, winograd.StageLanes) * winograd.StageLanes
	return min(chunk, ceilDiv(tiles, winograd.StageLanes)*winograd.StageLanes)
}

// winogradBackwardFilter: dw = the weight gradient of x's 3x3 correlation with output
// gradient dy.
func (be *Backend) winogradBackwardFilter(dwd, xd, dyd []float32, g convGeometry) {
	v, s, workers := be.winogradKernel, &be.winograd, be.winogradWorkers()
	const L = winograd.StageLanes
	tiles := g.n * (g.h / winograd.Out) * (g.w / winograd.Out)
	chunk := winogradChunk(g.k, g.c, tiles)
	plane := direct.NewPlane(direct.Layout{N: g.n, H: g.h, W: g.w}, 1)
	s.planes = grow(s.planes, g.c*plane.Len)
	parallelFor(g.c*g.n, be.workers, func(_, lo, hi int) { plane.Pack(s.planes, xd, g.c, lo, hi) })
	// The 36 matrices of each kind lie a cache line more than their size apart (see vStride).
	dataStride, gradStride, sumStride := g.c*chunk+cacheLine, g.k*chunk+cacheLine, g.k*g.c+cacheLine
	s.chunkData = grow(s.chunkData, winograd.Terms*dataStride)
	s.chunkGrad = grow(s.chunkGrad, winograd.Terms*gradStride)
	s.sums = grow(s.sums, winograd.Terms*sumStride)
	area := g.h * g.w
	for first := 0; first < tiles; first += chunk {
		count := min(chunk, tiles-first)
		parallelFor(ceilDiv(count, L), be.workers, func(worker, lo, hi int) {
			wk := workers[worker]
			for group := lo; group < hi; group++ {
				at := group * L
				n := min(L, count-at)
				lanes := ceilDiv(n, 8) * 8
				wk.place(plane, first+at, n, g.k, lanes)
				for c0 := 0; c0 < g.c; c0 += 8 {
					for c := c0; c < min(c0+8, g.c); c++ {
						winograd.Gather(&wk.data, s.planes[c*plane.Len:(c+1)*plane.Len], wk.patches[:lanes], plane.RowStride(), lanes)
						winograd.Data(wk.block[(c-c0)*winograd.Terms*L:], L, &wk.data, lanes)
					}
					wk.blockToRows(s.chunkData, g.c, dataStride, at, c0, lanes)
				}
				for k0 := 0; k0 < g.k; k0 += 8 {
					for k := k0; k < min(k0+8, g.k); k++ {
						winograd.GatherTiles(&wk.result, dyd[k*area:], wk.tiles[:lanes], g.w, lanes)
						winograd.Grad(wk.block[(k-k0)*winograd.Terms*L:], L, &wk.result, lanes)
					}
					wk.blockToRows(s.chunkGrad, g.k, gradStride, at, k0, lanes)
				}
			}
		})
		// The products read the chunk's first count tiles only: the lanes past them, in the
		// last group, hold repeats.
		beta := float32(min(first, 1))
		parallelFor(winograd.Terms, be.workers, func(_, lo, hi int) {
			for xi := lo; xi < hi; xi++ {
				v.SgemmWorkers(1, blas.Trans, blas.NoTrans, g.k, g.c, count, 1,
					s.chunkGrad[xi*gradStride:], g.k, s.chunkData[xi*dataStride:], g.c, beta, s.sums[xi*sumStride:], g.c)
			}
		})
	}
	parallelFor(g.k, be.workers, func(_, lo, hi int) {
		var u [winograd.Terms]float32
		var dw [9]float32
		for k := lo; k < hi; k++ {
			for c := range g.c {
				for xi := range u {
					u[xi] = s.sums[xi*sumStride+k*g.c+c]
				}
				winograd.FilterGrad(&dw, &u)
				copy(dwd[(k*g.c+c)*9:][:9], dw[:])
			}
		}
	})
}

// blockToRows copies the transforms in wk.block (channel j's element ξ of tile t at
// [(j·36 + ξ)·32 + t], for channels c0 to c0+7 or the last) into dst as rows of channels,
// tile by tile: element ξ of channel c0+j for tile at+t at dst[ξ·stride + (at+t)·channels +
// c0+j], eight by eight transposed.
func (wk *wgWorker) blockToRows(dst []float32, channels, stride, at, c0, lanes int) {
	const L = winograd.StageLanes
	if n := min(8, channels-c0); n < 8 {
		for j := range n {
			for xi := range winograd.Terms {
				for t := range lanes {
					dst[xi*stride+(at+t)*channels+c0+j] = wk.block[(j*winograd.Terms+xi)*L+t]
				}
			}
		}
		return
	}
	for t := 0; t < lanes; t += 8 {
		sgemm.Transpose8(dst[(at+t)*channels+c0:], channels, stride, wk.block[t:], winograd.Terms*L, L, winograd.Terms)
	}
}
