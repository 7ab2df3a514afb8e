package cpu

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/direct"
)

// The 3x3 convolutions with stride 1 and padding 1 (all of VGG's) run on the direct kernels
// of package direct where the backend has them: the batch is copied into flat padded planes,
// one per channel, the kernels compute every output position from those planes as they lie,
// and the results are copied back into NCHW. See package direct for the layout.
//
// Work is split over the cores by tiles of positions (forward and input gradient) or by
// (filter block, input channel, filter row) units (weight gradient); each output element is
// computed by one kernel call in a fixed order, so results do not depend on the number of
// workers.

// filterChunk is how many positions the weight gradient takes at a time: the gradient rows of
// one filter block over a chunk (8 rows of 2 KiB with AVX-512) stay in the L1 cache while
// every input channel and filter row of a batch of units passes over them.
const filterChunk = 512

// filterBatch is the most weight-gradient units a worker sums at once, each with its own
// partial sums (FilterRows·3·Lanes floats, 1.5 KiB with AVX-512), added into dw when the batch
// is done.
const filterBatch = 64

// directScratch is the direct convolutions' memory, kept across calls.
type directScratch struct {
	in, filters []float32   // planes read, packed filters
	tiles       [][]float32 // each worker's tile of results, before they are scattered
	bias        []float32   // the biases, zeros for missing filters or none
	grad        []float32   // the weight gradient's second planes (dy)
	sums        [][]float32 // each worker's partial sums
	shardSums   []float32   // the weight gradient's sums, shard by shard
}

// usesDirect reports whether this convolution's forward and input-gradient ops run on the
// direct kernels: a 3x3 one with stride 1 and padding 1 that does not run as Winograd
// (usesWinograd), except a layer with few inputs and many filters. Measured with BenchmarkSmallConvs and BenchmarkConvVGG (AVX-512, one core):
//   - even on VGG's 4x4 layers, where the kernels compute 56% more multiply-adds than the
//     pixels need, direct ran 41-47 GFLOP/s forward against 21 lowered, 32-50 against 25
//     for the input gradient;
//   - on VGG-D's conv1_1 (3 inputs, 64 filters at 128x128) the direct kernels' multiply-adds
//     are few against copying 64 planes in and out of the flat layout: lowered 26 and 33
//     GFLOP/s against 21 and 19; on the small network's conv1_1 (8 filters) direct won 4x.
func (be *Backend) usesDirect(g convGeometry) bool {
	return be.direct != nil && g.params == kernels.Conv3x3 && (g.c >= 8 || g.k <= 32) && !be.usesWinograd(g)
}

// usesDirectFilter reports whether the weight gradient runs on the direct kernels: as
// usesDirect, for layers of up to maxDotFilters filters. With more, SGEMM's wider tile wins
// (VGG-D's conv3_1 to conv5_3: 84-100 GFLOP/s lowered against 46-88 direct; its conv1_2, 64
// filters: 83 direct against 40).
func (be *Backend) usesDirectFilter(g convGeometry) bool {
	return be.usesDirect(g) && g.k <= maxDotFilters
}

// directCorrelate sets out, the NCHW batch of outputs channels, to the 3x3 correlation of the
// NCHW batch in (inputs channels of h x w) with the filters packed in s.filters, plus bias
// when not nil: the forward convolution, or with flipped filters the input gradient.
func (be *Backend) directCorrelate(out, in []float32, n, inputs, outputs, h, w int, bias []float32) {
	v, s := be.direct, &be.directScratch
	plane := direct.NewPlane(direct.Layout{N: n, H: h, W: w}, v.Cols)
	s.in = grow(s.in, inputs*plane.Len)
	parallelFor(inputs*n, be.workers, func(_, lo, hi int) { plane.Pack(s.in, in, inputs, lo, hi) })
	be.correlatePlanes(out, s.in, plane, inputs, outputs, bias)
}

// correlatePlanes is directCorrelate on inputs already in their flat planes. Each tile of
// results is scattered into out while it is still in the L1 cache.
func (be *Backend) correlatePlanes(out, planes []float32, plane direct.Plane, inputs, outputs int, bias []float32) {
	v, s := be.direct, &be.directScratch
	blocks := v.Blocks(outputs)
	s.bias = grow(s.bias, blocks*v.Rows)
	clear(s.bias[copy(s.bias, bias):])
	for len(s.tiles) < be.workers {
		s.tiles = append(s.tiles, make([]float32, v.Rows*v.Cols))
	}
	origin := plane.Base() - plane.RowStride() - 1 // tap (0,0) of position Base
	// A unit is one tile of positions for one block of filters, taken tile by tile so that a
	// tile's inputs stay in cache across its blocks; units rather than tiles split the work
	// evenly where the planes make few tiles (nine for the small network's 4x4 layers).
	units := plane.Cols / v.Cols * blocks
	parallelFor(units, be.workers, func(worker, lo, hi int) {
		tile := s.tiles[worker][:v.Rows*v.Cols]
		for u := lo; u < hi; u++ {
			j, b := u/blocks*v.Cols, u%blocks
			v.Forward(tile, v.Cols, planes[origin+j:], plane.Len, plane.RowStride(),
				inputs, s.filters[b*inputs*9*v.Rows:], s.bias[b*v.Rows:])
			plane.Scatter(out, outputs, b*v.Rows, min(v.Rows, outputs-b*v.Rows), tile, v.Cols, j, v.Cols)
		}
	})
}

// directForward: y = conv(x, w) + b.
func (be *Backend) directForward(yd, xd, wd, bd []float32, g convGeometry) {
	v, s := be.direct, &be.directScratch
	s.filters = grow(s.filters, v.PackedLen(g.k, g.c))
	parallelFor(v.Blocks(g.k), be.workers, func(_, lo, hi int) { v.PackFilters(s.filters, wd, g.k, g.c, lo, hi) })
	be.directCorrelate(yd, xd, g.n, g.c, g.k, g.h, g.w, bd)
}

// directBackwardData: dx = the correlation of dy with the filters turned half a turn, inputs
// and outputs swapped.
func (be *Backend) directBackwardData(dxd, dyd, wd []float32, g convGeometry) {
	be.packFlipped(wd, g)
	be.directCorrelate(dxd, dyd, g.n, g.k, g.c, g.h, g.w, nil)
}

// packFlipped packs the input gradient's filters into s.filters.
func (be *Backend) packFlipped(wd []float32, g convGeometry) {
	v, s := be.direct, &be.directScratch
	s.filters = grow(s.filters, v.PackedLen(g.c, g.k))
	parallelFor(v.Blocks(g.c), be.workers, func(_, lo, hi int) { v.PackFiltersFlipped(s.filters, wd, g.k, g.c, lo, hi) })
}

// directBackward computes both gradients from one copy of dy's planes (in s.grad): the input
// gradient as directBackwardData, then the weight gradient as directBackwardFilter.
func (be *Backend) directBackward(dxd, dwd, xd, dyd, wd []float32, g convGeometry) {
	plane := be.packGrad(dyd, g)
	be.packFlipped(wd, g)
	be.correlatePlanes(dxd, be.directScratch.grad, plane, g.k, g.c, nil)
	be.filterFromPlanes(dwd, xd, plane, g)
}

// directBackwardFilter: dw[k][c][ky][kx] = Σ_o dy[k][o] · x[c][o + (ky-1)·RowStride + kx-1]
// over every position o, dy being zero in the padding.
func (be *Backend) directBackwardFilter(dwd, xd, dyd []float32, g convGeometry) {
	be.filterFromPlanes(dwd, xd, be.packGrad(dyd, g), g)
}

// packGrad copies dy into its flat planes, s.grad, with zero planes for the last filter
// block's missing filters, and returns their geometry.
func (be *Backend) packGrad(dyd []float32, g convGeometry) direct.Plane {
	v, s := be.direct, &be.directScratch
	plane := direct.NewPlane(direct.Layout{N: g.n, H: g.h, W: g.w}, v.Cols)
	blocks := v.Blocks(g.k)
	s.grad = grow(s.grad, blocks*v.FilterRows*plane.Len)
	parallelFor(g.k*g.n, be.workers, func(_, lo, hi int) { plane.Pack(s.grad, dyd, g.k, lo, hi) })
	clear(s.grad[g.k*plane.Len:])
	return plane
}

// filterShards is how many parts of the batch the weight gradient of a layer with cols
// positions is summed in, each part's sums added into dw in order at the end. Two parts on
// layers of 4096 positions and more let two workers each sum the images that they packed
// and whose gradients they computed (a worker reading the other's planes pays for moving
// them between the cores' caches); the number depends on the layer alone, so that results
// do not depend on the number of workers.
func filterShards(cols int) int { // at most maxFilterShards
	if cols >= 4096 {
		return 2
	}
	return 1
}

// maxFilterShards is the most parts filterShards splits a batch into.
const maxFilterShards = 2

// filterFromPlanes is the weight gradient from dy's planes in s.grad. A unit is one filter
// block, input channel and filter row in one shard of the positions; each is summed by one
// worker, chunk after chunk, into partial sums that are added across lanes at the end, and
// the shards' sums are added in order.
func (be *Backend) filterFromPlanes(dwd, xd []float32, plane direct.Plane, g convGeometry) {
	v, s := be.direct, &be.directScratch
	blocks := ceilDiv(g.k, v.FilterRows)
	s.in = grow(s.in, g.c*plane.Len)
	parallelFor(g.c*g.n, be.workers, func(_, lo, hi int) { plane.Pack(s.in, xd, g.c, lo, hi) })
	tile := v.FilterRows * 3 * v.Lanes
	for len(s.sums) < be.workers {
		s.sums = append(s.sums, nil)
	}
	// Shard i covers positions [bounds[i], bounds[i+1]): a whole number of lane groups,
	// starting at the first image of its part of the batch.
	shards := filterShards(plane.Cols)
	var bounds [maxFilterShards + 1]int
	for i := 1; i < shards; i++ {
		bounds[i] = i * g.n / shards * plane.ImageStride() / v.Lanes * v.Lanes
	}
	bounds[shards] = plane.Cols
	perShard := blocks * g.c * 3
	sumsLen := perShard * v.FilterRows * 3 // one unit's FilterRows x 3 sums after another
	s.shardSums = grow(s.shardSums, shards*sumsLen)
	parallelFor(shards*perShard, be.workers, func(worker, lo, hi int) {
		for first := lo; first < hi; {
			shard := first / perShard
			batch := min(filterBatch, hi-first, (shard+1)*perShard-first)
			sums := grow(s.sums[worker], batch*tile)
			s.sums[worker] = sums
			clear(sums)
			for j := bounds[shard]; j < bounds[shard+1]; j += filterChunk {
				n := min(filterChunk, bounds[shard+1]-j)
				at := plane.Base() + j
				for i := 0; i < batch; i++ {
					u := (first + i) % perShard
					b, c, ky := u/(g.c*3), u/3%g.c, u%3
					x := s.in[c*plane.Len+at+(ky-1)*plane.RowStride()-1:]
					v.Filter(sums[i*tile:], s.grad[b*v.FilterRows*plane.Len+at:], plane.Len, x, n)
				}
			}
			v.SumLanes(s.shardSums[first/perShard*sumsLen+first%perShard*v.FilterRows*3:][:batch*v.FilterRows*3], sums)
			first += batch
		}
	})
	// dw[k][c][ky][kx] from unit (block, c, ky), row m = k - block·FilterRows, tap kx: the
	// shards' sums in order.
	for u := range perShard {
		b, c, ky := u/(g.c*3), u/3%g.c, u%3
		for m := 0; m < v.FilterRows && b*v.FilterRows+m < g.k; m++ {
			dw := dwd[((b*v.FilterRows+m)*g.c+c)*9+ky*3:][:3]
			copy(dw, s.shardSums[(u*v.FilterRows+m)*3:][:3])
			for shard := 1; shard < shards; shard++ {
				for kx, sum := range s.shardSums[shard*sumsLen+(u*v.FilterRows+m)*3:][:3] {
					dw[kx] += sum
				}
			}
		}
	}
}
