package cpu

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/sgemm"
	"github.com/vgglab/vgg/kernels/cpu/winograd"
	"github.com/vgglab/vgg/kernels/kerneltest"
	"github.com/vgglab/vgg/tensor"
)

// winogradShapes are odd sizes for the Winograd convolutions: one tile; channels that leave
// the last filter block part-empty; more inputs than a micro-kernel's kc (the products summed
// in two chunks); more tiles than a block of nr, the last block part-empty; tiles at every
// border.
var winogradShapes = []kerneltest.ConvShape{
	{N: 1, C: 1, K: 1, H: 4, W: 4},
	{N: 3, C: 5, K: 13, H: 8, W: 12},
	{N: 5, C: 37, K: 29, H: 12, W: 16},
	{N: 1, C: 259, K: 7, H: 4, W: 8},
	{N: 2, C: 7, K: 261, H: 8, W: 4},
}

// TestWinogradAgainstReference runs the Winograd forward pass, input gradient and weight
// gradient (in one chunk of tiles, and in chunks of 32 tiles) on every micro-kernel this
// machine can run, plain Go included, against the float64 references, the outputs
// NaN-filled before each run. The error allowed is Conformance's for products,
// relative to the output's norm: the transforms' rounding (see winograd.go) is logged, and
// on these sizes stays within a few times 1e-6.
func TestWinogradAgainstReference(t *testing.T) {
	tol := kerneltest.DefaultTolerance().Product
	for _, v := range sgemm.Variants() {
		for _, s := range winogradShapes {
			s.Params = kernels.Conv3x3
			t.Run(fmt.Sprintf("%s/%dx%dx%dx%d_to_%d", v.Name, s.N, s.C, s.H, s.W, s.K), func(t *testing.T) {
				be := newWithVariant(v)
				rng := tensor.NewRand(uint64(s.C*1000 + s.K))
				x := kerneltest.RandomTensor(rng, s.XShape()...)
				w := kerneltest.RandomTensor(rng, s.WShape()...)
				bias := kerneltest.RandomTensor(rng, s.K)
				dy := kerneltest.RandomTensor(rng, s.YShape()...)
				g := geometry(kernels.ConvGeometry{N: s.N, C: s.C, H: s.H, W: s.W, K: s.K, P: s.H, Q: s.W}, s.Params)

				y := poisoned(s.YShape())
				be.winogradForward(y.Float32s(), x.Float32s(), w.Float32s(), bias.Float32s(), g)
				kerneltest.CheckClose(t, "y", y, kerneltest.RefConv2D(kerneltest.Float64s(x), kerneltest.Float64s(w), kerneltest.Float64s(bias), s), tol)

				dx := poisoned(s.XShape())
				be.winogradBackwardData(dx.Float32s(), dy.Float32s(), w.Float32s(), g)
				kerneltest.CheckClose(t, "dx", dx, kerneltest.RefConv2DBackwardData(kerneltest.Float64s(dy), kerneltest.Float64s(w), s), tol)

				refDW, _ := kerneltest.RefConv2DBackwardFilter(kerneltest.Float64s(x), kerneltest.Float64s(dy), s)
				for _, chunks := range []string{"one chunk", "chunks of one stage"} {
					if chunks != "one chunk" {
						defer func() { winogradChunkTiles = 0 }()
						winogradChunkTiles = winograd.StageLanes
					}
					dw := poisoned(s.WShape())
					be.winogradBackwardFilter(dw.Float32s(), x.Float32s(), dy.Float32s(), g)
					kerneltest.CheckClose(t, "dw in "+chunks, dw, refDW, tol)
				}
			})
		}
	}
}

// poisoned is a host tensor of NaNs, so that an output the kernel does not write fails.
func poisoned(shape []int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	for i := range t.Float32s() {
		t.Float32s()[i] = float32(math.NaN())
	}
	return t
}

// TestWinogradSameForAnyWorkers checks that 1, 2 and 3 workers give the same bits in all three
// ops: each output, and each sum over a chunk of tiles, is computed by one worker in a fixed
// order.
func TestWinogradSameForAnyWorkers(t *testing.T) {
	s := kerneltest.ConvShape{N: 5, C: 37, K: 29, H: 12, W: 16, Params: kernels.Conv3x3}
	rng := tensor.NewRand(3)
	x := kerneltest.RandomTensor(rng, s.XShape()...)
	w := kerneltest.RandomTensor(rng, s.WShape()...)
	bias := kerneltest.RandomTensor(rng, s.K)
	g := geometry(kernels.ConvGeometry{N: s.N, C: s.C, H: s.H, W: s.W, K: s.K, P: s.H, Q: s.W}, s.Params)
	dy := kerneltest.RandomTensor(rng, s.YShape()...)
	defer func() { winogradChunkTiles = 0 }()
	winogradChunkTiles = winograd.StageLanes // two chunks
	var first [][]float32
	for _, workers := range []int{1, 2, 3} {
		be := New()
		be.workers = workers
		y, dx, dw := poisoned(s.YShape()), poisoned(s.XShape()), poisoned(s.WShape())
		be.winogradForward(y.Float32s(), x.Float32s(), w.Float32s(), bias.Float32s(), g)
		be.winogradBackwardData(dx.Float32s(), dy.Float32s(), w.Float32s(), g)
		be.winogradBackwardFilter(dw.Float32s(), x.Float32s(), dy.Float32s(), g)
		got := [][]float32{y.Float32s(), dx.Float32s(), dw.Float32s()}
		if first == nil {
			first = got
			continue
		}
		for i, name := range []string{"y", "dx", "dw"} {
			if !slices.Equal(first[i], got[i]) {
				t.Errorf("%s: %d workers give other bits than 1", name, workers)
			}
		}
	}
}

// TestWinogradThroughTheOps runs Conv2D, Conv2DBackwardData and Conv2DBackward on a layer
// that the "cpu" backend sends to Winograd, against the float64 references: the dispatch, and
// the weight gradient computed beside a Winograd input gradient.
func TestWinogradThroughTheOps(t *testing.T) {
	s := kerneltest.ConvShape{N: 1, C: winogradMinChannels, K: winogradMinChannels + 3, H: 64, W: 64, Params: kernels.Conv3x3}
	be := New()
	g := geometry(kernels.ConvGeometry{N: s.N, C: s.C, H: s.H, W: s.W, K: s.K, P: s.H, Q: s.W}, s.Params)
	if !be.usesWinograd(g) {
		t.Fatalf("%s does not send a %v layer to Winograd", be.Describe(), s.XShape())
	}
	tol := kerneltest.DefaultTolerance().Product
	rng := tensor.NewRand(5)
	x := kerneltest.RandomTensor(rng, s.XShape()...)
	w := kerneltest.RandomTensor(rng, s.WShape()...)
	bias := kerneltest.RandomTensor(rng, s.K)
	dy := kerneltest.RandomTensor(rng, s.YShape()...)
	x64, w64, dy64 := kerneltest.Float64s(x), kerneltest.Float64s(w), kerneltest.Float64s(dy)

	y := poisoned(s.YShape())
	if err := be.Conv2D(y, x, w, bias, s.Params); err != nil {
		t.Fatal(err)
	}
	kerneltest.CheckClose(t, "y", y, kerneltest.RefConv2D(x64, w64, kerneltest.Float64s(bias), s), tol)

	dx, dw, db := poisoned(s.XShape()), poisoned(s.WShape()), poisoned([]int{s.K})
	if err := be.Conv2DBackward(dx, dw, db, x, dy, w, s.Params); err != nil {
		t.Fatal(err)
	}
	refDW, refDB := kerneltest.RefConv2DBackwardFilter(x64, dy64, s)
	kerneltest.CheckClose(t, "dx", dx, kerneltest.RefConv2DBackwardData(dy64, w64, s), tol)
	kerneltest.CheckClose(t, "dw", dw, refDW, tol)
	kerneltest.CheckClose(t, "db", db, refDB, tol)
}
