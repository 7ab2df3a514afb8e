package cpu

import (
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/direct"
	"github.com/vgglab/vgg/kernels/cpu/winograd"
)

// Winograd convolutions, F(4x4, 3x3) (Lavin and Gray, "Fast Algorithms for Convolutional
// Neural Networks", 2016), for the 3x3 stride-1 layers with many channels: the forward pass
// and the input gradient (the same correlation on dy with the filters turned and transposed).
//
// The output is cut into tiles of 4x4 positions; each reads a 6x6 patch d of every input
// channel (the patch's first row and column one before the tile's, so the padding is the
// zeros outside the image). With the filter g of one (output, input) channel pair,
//
//	tile = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
//
// where ⊙ multiplies element by element. Summed over the input channels, the 36 elements of
// the 6x6 products are 36 independent matrix products, one per element ξ:
//
//	M_ξ[k][t] = Σ_c U_ξ[k][c] · V_ξ[c][t],   U = G g Gᵀ (filters), V = Bᵀ d B (tiles)
//
// 36 multiply-adds per 16 outputs and channel pair, where the direct kernels do 144: a
// quarter, paid for by the three transforms, whose cost grows with the channels while the
// products' grows with their square (see usesWinograd for where it wins).
//
// Work: the filters are transformed once per call into U, laid out as the micro-kernel's
// A panels (mr filters by C inputs per ξ), and the batch is copied into the direct kernels'
// flat planes (package direct), where every patch, at the border too, is a plain 6x6 window
// with the padding's zeros in place. The tiles, numbered image by image and row by row, go in
// blocks of nr (the micro-kernel's width) to the workers. For its block a worker copies each
// input channel's patches side by side into a stage, transforms them (package winograd: in
// AVX2 eight tiles per vector) into V, laid out as B panels (C by nr per ξ), runs the 36
// products on the SGEMM micro-kernel into M (filters by nr per ξ), and transforms M, filter
// by filter, into a stage of 4x4 results that it copies into the output, adding the bias.
// Each output is computed by one worker in a fixed order, so results do not depend on the
// number of workers.
//
// Accuracy: the transforms multiply by up to 5 (Bᵀ), 1/24 (G) and 8 (Aᵀ) and add up to 36
// terms of mixed signs before and after the product, so the float32 rounding error is larger
// than the direct kernels', which sum C·9 products. Against the float64 reference on VGG-D's
// layers (one image, Gaussian filters, Gaussian or half-zero inputs), ‖y − ref‖/‖ref‖ was
// 1.4e-6 to 3.0e-6, against 0.3e-6 to 1.2e-6 for the direct kernels: 2.4 to 4.6 times as
// large, and far inside the 1e-4 that Conformance allows any backend.

// winogradScratch is the Winograd convolutions' memory, kept across calls.
type winogradScratch struct {
	u, planes []float32   // transformed filters [36][filter blocks][C][mr]; the batch's flat planes
	workers   []*wgWorker // each worker's own
	// The weight gradient's (winograd_filter.go): one chunk of tiles' transformed inputs
	// [36][chunk][C] and output gradients [36][chunk][K], and the products summed over the
	// chunks [36][K][C].
	chunkData, chunkGrad, sums []float32
}

// wgWorker is one worker's memory for a block of tiles.
type wgWorker struct {
	v, m    []float32 // transformed tiles [36][C][nr], products [36][K rounded up to mr][nr] (see vStride)
	data    winograd.DataStage
	result  winograd.TileStage
	patches [winograd.StageLanes]int32 // where each tile's patch starts in its flat plane
	tiles   [winograd.StageLanes]int32 // where each tile starts in the output (or dy), channel 0
	// block holds the transforms of eight channels for the weight gradient, channel j's
	// element ξ of tile t at [(j·36 + ξ)·32 + t] (winograd_filter.go).
	block [8 * winograd.Terms * winograd.StageLanes]float32
	// vStride and mStride are the distances between v's and m's 36 matrices: their sizes
	// plus a cache line, so that the transforms' 36 loads or stores a tile, one per matrix,
	// do not fall a multiple of 4 KiB apart (which on x86 stalls loads behind stores).
	vStride, mStride int
	filterUs         [][winograd.Terms]float32
}

// usesWinograd reports whether this convolution's three ops run as Winograd F(4x4, 3x3) (the
// weight gradient in winograd_filter.go): a 3x3 stride-1 pad-1 layer whose sides are
// multiples of 4 (whole tiles only), with enough channels that the products outweigh the
// transforms, and enough tiles that the filter transform, made once per call and four times
// the size of the filters, is spread over them (the thresholds below). Measured with BenchmarkConvVGG (batch 8, one thread, medians
// of 3), against the direct kernels, GFLOP/s counted as the direct convolution's:
//   - AVX-512 (Zen 5): conv1_2 to conv3_2 (64 to 256 channels, 8192 to 512 tiles) 1.80x to
//     2.44x (350-500 GFLOP/s, 1.4 to 2 times the FMA peak); conv4 (128 tiles) 1.14x to 1.46x;
//     conv5 (32 tiles) 0.75x, where the filters' transform costs more than the products.
//   - AVX2 (VGG_SIMD=avx2): 2.25x to 3.21x, 1.22x to 2.33x, 0.97x to 1.02x.
//   - Plain Go (VGG_SIMD=go, against the lowering): 2.7x to 6.1x, and 1.15x to 1.49x on conv5.
//
// The weight gradient, against the direct kernels (64 filters) or the lowering (more):
// conv1_2 to conv4_2 1.43x to 2.55x with AVX-512 (146-302 GFLOP/s; then 138-331 in chunks
// of 8 MiB), 1.55x to 2.35x with AVX2, 2.1x to 3.9x in plain Go.
func (be *Backend) usesWinograd(g convGeometry) bool {
	if be.winogradKernel == nil || g.params != kernels.Conv3x3 || g.h%winograd.Out != 0 || g.w%winograd.Out != 0 {
		return false
	}
	// Tiles and patches are placed by int32 offsets into the batch.
	if g.n*max(g.c, g.k)*(g.h+1)*(g.w+1) > math.MaxInt32 {
		return false
	}
	tiles, channels := g.n*g.h/winograd.Out*g.w/winograd.Out, min(g.c, g.k)
	return channels >= winogradMinChannels && tiles >= winogradMinTiles && tiles*channels >= winogradMinWork
}

// cacheLine is 64 bytes in floats.
const cacheLine = 16

// winogradMinChannels, winogradMinTiles and winogradMinWork are where Winograd starts to win
// (see usesWinograd): between VGG-D's conv5 (32 tiles) and conv4 (128), where a fit of the
// two gives 55 tiles; and with fewer tiles·channels than 8192 the data and result
// transforms, which grow with C+K where the products grow with C·K, cost more than they
// save. Forward and backward together, one thread, GFLOP/s Winograd against direct, at
// batch 16: 64 channels at 8x8 (64 tiles, the small network's conv4) 130 against 143;
// 128 channels at 8x8 177 against 130; 64 channels at 16x16 238 against 171.
const (
	winogradMinChannels = 64
	winogradMinTiles    = 64
	winogradMinWork     = 8192
)

// winogradForward: y = conv(x, w) + b.
func (be *Backend) winogradForward(yd, xd, wd, bd []float32, g convGeometry) {
	be.winogradFilters(wd, g.k, g.c, false)
	be.winogradCorrelate(yd, xd, g.n, g.c, g.k, g.h, g.w, bd)
}

// winogradBackwardData: dx = the correlation of dy with the filters turned half a turn,
// inputs and outputs swapped.
func (be *Backend) winogradBackwardData(dxd, dyd, wd []float32, g convGeometry) {
	be.winogradFilters(wd, g.k, g.c, true)
	be.winogradCorrelate(dxd, dyd, g.n, g.k, g.c, g.h, g.w, nil)
}

// winogradWorkers returns the workers' memory, one per worker.
func (be *Backend) winogradWorkers() []*wgWorker {
	s := &be.winograd
	for len(s.workers) < be.workers {
		s.workers = append(s.workers, new(wgWorker))
	}
	return s.workers
}

// winogradFilters sets s.u to U = G g Gᵀ for every filter of the [k][c][3][3] weights w, as
// A panels of mr filters: U_ξ[f][i] at u[((ξ·blocks + f/mr)·inputs + i)·mr + f%mr], with
// zeros for the last block's missing filters. Forward (flipped false) the filters are w's
// and the inputs its c channels; flipped, for the input gradient, filter f is input channel
// c = f of w turned half a turn, over w's k filters as inputs.
func (be *Backend) winogradFilters(w []float32, k, c int, flipped bool) {
	mr, _, _ := be.winogradKernel.Tile()
	outputs, inputs := k, c
	if flipped {
		outputs, inputs = c, k
	}
	blocks := ceilDiv(outputs, mr)
	s, workers := &be.winograd, be.winogradWorkers()
	s.u = grow(s.u, winograd.Terms*blocks*mr*inputs)
	parallelFor(blocks*inputs, be.workers, func(worker, lo, hi int) {
		us := grow(workers[worker].filterUs, mr)
		workers[worker].filterUs = us
		var g [9]float32
		for unit := lo; unit < hi; unit++ {
			b, i := unit/inputs, unit%inputs
			for r := range mr {
				f := b*mr + r
				switch {
				case f >= outputs:
					us[r] = [winograd.Terms]float32{}
					continue
				case flipped:
					src := w[(i*c+f)*9:][:9]
					for t := range g {
						g[t] = src[8-t]
					}
				default:
					copy(g[:], w[(f*c+i)*9:][:9])
				}
				winograd.Filter(&us[r], &g)
			}
			for xi := range winograd.Terms {
				dst := s.u[((xi*blocks+b)*inputs+i)*mr:][:mr]
				for r := range dst {
					dst[r] = us[r][xi]
				}
			}
		}
	})
}

// winogradCorrelate sets out, n images of outputs channels of h x w, to the 3x3 correlation
// (padding 1) of in, n images of inputs channels, with the filters in s.u, plus bias when
// not nil.
func (be *Backend) winogradCorrelate(out, in []float32, n, inputs, outputs, h, w int, bias []float32) {
	v, s, workers := be.winogradKernel, &be.winograd, be.winogradWorkers()
	mr, nr, kc := v.Tile()
	rows := ceilDiv(outputs, mr) * mr
	tiles := n * (h / winograd.Out) * (w / winograd.Out)
	plane := direct.NewPlane(direct.Layout{N: n, H: h, W: w}, 1)
	s.planes = grow(s.planes, inputs*plane.Len)
	parallelFor(inputs*n, be.workers, func(_, lo, hi int) { plane.Pack(s.planes, in, inputs, lo, hi) })
	parallelFor(ceilDiv(tiles, nr), be.workers, func(worker, lo, hi int) {
		wk := workers[worker]
		wk.vStride, wk.mStride = inputs*nr+cacheLine, rows*nr+cacheLine
		wk.v = grow(wk.v, winograd.Terms*wk.vStride)
		wk.m = grow(wk.m, winograd.Terms*wk.mStride)
		for block := lo; block < hi; block++ {
			first := block * nr
			count := min(nr, tiles-first)
			lanes := min(nr, ceilDiv(count, 8)*8) // the assembly transforms go by eights
			wk.place(plane, first, count, outputs, lanes)
			wk.transformData(s.planes, plane, inputs, lanes, nr)
			// For each ξ, each chunk of kc inputs is multiplied by every filter block while
			// its B panel (kc·nr floats) is in L1.
			for xi := range winograd.Terms {
				a, b, m := s.u[xi*rows*inputs:], wk.v[xi*wk.vStride:], wk.m[xi*wk.mStride:]
				for c0 := 0; c0 < inputs; c0 += kc {
					steps, beta := min(kc, inputs-c0), float32(min(c0, 1))
					for r := 0; r < rows; r += mr {
						v.MultiplyPanels(steps, a[r*inputs+c0*mr:], b[c0*nr:], m[r*nr:], nr, beta)
					}
				}
			}
			wk.transformResults(out, outputs, h*w, w, count, lanes, nr, bias)
		}
	})
}

// place notes where the patches of tiles first to first+count-1 start in the flat planes,
// and where their results go in the output (images of outputs planes of h x w); the lanes
// past count repeat the last tile.
func (wk *wgWorker) place(plane direct.Plane, first, count, outputs, lanes int) {
	across := plane.W / winograd.Out
	perImage := plane.H / winograd.Out * across
	for t := range count {
		image, at := (first+t)/perImage, (first+t)%perImage
		top, left := at/across*winograd.Out, at%across*winograd.Out
		// The patch starts one row and one column before the tile.
		wk.patches[t] = int32(plane.Base() + image*plane.ImageStride() + (top-1)*plane.RowStride() + left - 1)
		wk.tiles[t] = int32(image*outputs*plane.H*plane.W + top*plane.W + left)
	}
	for t := count; t < lanes; t++ {
		wk.patches[t], wk.tiles[t] = wk.patches[count-1], wk.tiles[count-1]
	}
}

// transformData sets wk.v to the data transforms of the block's tiles (lanes of them, the
// last repeated to fill) for every input channel.
func (wk *wgWorker) transformData(planes []float32, plane direct.Plane, inputs, lanes, nr int) {
	for i := range inputs {
		winograd.Gather(&wk.data, planes[i*plane.Len:(i+1)*plane.Len], wk.patches[:lanes], plane.RowStride(), lanes)
		winograd.Data(wk.v[i*nr:], wk.vStride, &wk.data, lanes)
	}
}

// transformResults writes the block's count tiles of every output channel into out (planes
// of area floats, rows width apart) from the products in wk.m, adding bias[k] when bias is
// not nil.
func (wk *wgWorker) transformResults(out []float32, outputs, area, width, count, lanes, nr int, bias []float32) {
	for k := range outputs {
		var b float32
		if bias != nil {
			b = bias[k]
		}
		winograd.Result(&wk.result, wk.m[k*nr:], wk.mStride, lanes, b)
		winograd.Scatter(out[k*area:], &wk.result, wk.tiles[:count], width, count)
	}
}
