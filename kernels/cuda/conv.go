//go:build cuda

package cuda

import (
	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Kernels of conv.cu; the _3x3s1 instances have the VGG window compiled in.
var (
	convForward3x3s1         = kernel{"conv", "conv_forward_3x3s1"}
	convForward3x3s1M64      = kernel{"conv", "conv_forward_3x3s1_m64"}
	convForward              = kernel{"conv", "conv_forward"}
	convBackwardData3x3s1    = kernel{"conv", "conv_backward_data_3x3s1"}
	convBackwardData3x3s1M64 = kernel{"conv", "conv_backward_data_3x3s1_m64"}
	convBackwardData         = kernel{"conv", "conv_backward_data"}
	convBackwardDataSmallC   = kernel{"conv", "conv_backward_data_3x3s1_small_c"}
	convBackwardFilter3x3s1  = kernel{"conv", "conv_backward_filter_3x3s1"}
	convBackwardFilter       = kernel{"conv", "conv_backward_filter"}
	convBiasGrad             = kernel{"conv", "conv_bias_grad"}
)

// gemm.cuh's block: 256 threads computing a 128x128 tile of the output, or a 64x256 one in
// the _m64 instances, stepping through the summed axis 8 at a time.
const (
	gemmTile    = 128
	gemmThreads = 256
	gemmStep    = 8
)

// The direct input-gradient kernel for few input channels (conv.cu's SMALL_C, SMALL_W): at
// most 4 channels and a filter bank of at most 4096 floats, held in shared memory.
const (
	smallC = 4
	smallW = 4096
)

// tileFor picks the kernel and grid of an implicit-GEMM convolution with an m x n output:
// the 64x256 tiles when m (the filters, or the input channels) fits in 64, since a 128-row
// tile would compute half of it for nothing.
func tileFor(m, n int, wide, square kernel) (kernel, dim3) {
	if m <= 64 {
		return wide, dim3{ceilDiv(n, 256), ceilDiv(m, 64), 1}
	}
	return square, dim3{ceilDiv(n, gemmTile), ceilDiv(m, gemmTile), 1}
}

// convGeometry is a convolution's sizes, checked against the tensors.
type convGeometry struct {
	n, c, h, w, k, p, q int
	params              kernels.ConvParams
}

// seed reports whether the window is the VGG one, which has its own kernel instances.
func (g convGeometry) seed() bool {
	p := g.params
	return p.KernelH == 3 && p.KernelW == 3 && p.StrideH == 1 && p.StrideW == 1
}

// args are the kernels' trailing size parameters, in CONV_DIM_PARAMS order.
func (g convGeometry) args() []uint64 {
	p := g.params
	return []uint64{intArg(g.n), intArg(g.c), intArg(g.h), intArg(g.w), intArg(g.k), intArg(g.p),
		intArg(g.q), intArg(p.KernelH), intArg(p.KernelW), intArg(p.StrideH), intArg(p.StrideW),
		intArg(p.PadH), intArg(p.PadW)}
}

// convGeometryOf converts the contract's geometry, which kernels' rules have checked.
func convGeometryOf(g kernels.ConvGeometry) convGeometry {
	return convGeometry{n: g.N, c: g.C, h: g.H, w: g.W, k: g.K, p: g.P, q: g.Q, params: g.Params}
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// splitK divides a GEMM's summed axis of length k across blocks when its output has too few
// tiles to fill the GPU: about four blocks per multiprocessor, each summing at least 512
// terms. It returns the number of splits and the length of each (a multiple of gemmStep).
func (b *Backend) splitK(tiles, k int) (splits, chunk int) {
	want := ceilDiv(4*b.d.multiprocs, tiles)
	splits = max(1, min(want, k/512))
	chunk = ceilDiv(ceilDiv(k, splits), gemmStep) * gemmStep
	return ceilDiv(k, chunk), chunk
}

func (b *Backend) Conv2D(y, x, w, bias *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2D"
	kg, err := kernels.CheckConv2D(y, x, w, bias, p)
	if err != nil {
		return err
	}
	g := convGeometryOf(kg)
	py, err := b.devicePtr(op, "y", y)
	if err != nil {
		return err
	}
	px, err := b.devicePtr(op, "x", x)
	if err != nil {
		return err
	}
	pw, err := b.devicePtr(op, "w", w)
	if err != nil {
		return err
	}
	pb, err := b.devicePtr(op, "b", bias)
	if err != nil {
		return err
	}
	k, grid := convForward, dim3{ceilDiv(g.n*g.p*g.q, gemmTile), ceilDiv(g.k, gemmTile), 1}
	if g.seed() {
		k, grid = tileFor(g.k, g.n*g.p*g.q, convForward3x3s1M64, convForward3x3s1)
	}
	args := append([]uint64{ptrArg(py), ptrArg(px), ptrArg(pw), ptrArg(pb)}, g.args()...)
	return b.run(op, func() error { return b.d.launch(k, grid, dim3{gemmThreads, 1, 1}, args...) })
}

func (b *Backend) Conv2DBackwardData(dx, dy, w *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackwardData"
	kg, err := kernels.CheckConv2DBackwardData(dx, dy, w, p)
	if err != nil {
		return err
	}
	g := convGeometryOf(kg)
	pdx, err := b.devicePtr(op, "dx", dx)
	if err != nil {
		return err
	}
	pdy, err := b.devicePtr(op, "dy", dy)
	if err != nil {
		return err
	}
	pw, err := b.devicePtr(op, "w", w)
	if err != nil {
		return err
	}
	k, grid := convBackwardData, dim3{ceilDiv(g.n*g.h*g.w, gemmTile), ceilDiv(g.c, gemmTile), 1}
	switch {
	case g.seed() && g.c <= smallC && g.k*g.c*9 <= smallW:
		k, grid = convBackwardDataSmallC, b.d.gridFor(g.n*g.h*g.w)
	case g.seed():
		k, grid = tileFor(g.c, g.n*g.h*g.w, convBackwardData3x3s1M64, convBackwardData3x3s1)
	}
	args := append([]uint64{ptrArg(pdx), ptrArg(pdy), ptrArg(pw)}, g.args()...)
	return b.run(op, func() error { return b.d.launch(k, grid, dim3{gemmThreads, 1, 1}, args...) })
}

func (b *Backend) Conv2DBackwardFilter(dw, db, x, dy *tensor.Tensor, p kernels.ConvParams) error {
	const op = "Conv2DBackwardFilter"
	kg, err := kernels.CheckConv2DBackwardFilter(dw, db, x, dy, p)
	if err != nil {
		return err
	}
	g := convGeometryOf(kg)
	pdw, err := b.devicePtr(op, "dw", dw)
	if err != nil {
		return err
	}
	pdb, err := b.optionalPtr(op, "db", db)
	if err != nil {
		return err
	}
	px, err := b.devicePtr(op, "x", x)
	if err != nil {
		return err
	}
	pdy, err := b.devicePtr(op, "dy", dy)
	if err != nil {
		return err
	}
	k := convBackwardFilter
	if g.seed() {
		k = convBackwardFilter3x3s1
	}
	crs := g.c * p.KernelH * p.KernelW
	tilesN, tilesM := ceilDiv(crs, gemmTile), ceilDiv(g.k, gemmTile)
	splits, chunk := b.splitK(tilesN*tilesM, g.n*g.p*g.q)
	grid := dim3{tilesN, tilesM, splits}
	args := append([]uint64{ptrArg(pdw), ptrArg(px), ptrArg(pdy), intArg(chunk)}, g.args()...)

	// The bias gradient: one block per (channel, slice of the batch), enough to fill the GPU.
	slices := max(1, min(g.n, ceilDiv(4*b.d.multiprocs, g.k)))
	perSlice := ceilDiv(g.n, slices)
	slices = ceilDiv(g.n, perSlice)
	return b.run(op, func() error {
		// Split-K partial sums are added atomically, so dw starts at zero.
		if err := b.d.memset32(pdw, 0, dw.Numel()); err != nil {
			return err
		}
		if err := b.d.launch(k, grid, dim3{gemmThreads, 1, 1}, args...); err != nil {
			return err
		}
		if db == nil {
			return nil
		}
		if err := b.d.memset32(pdb, 0, db.Numel()); err != nil {
			return err
		}
		return b.d.launch(convBiasGrad, dim3{g.k, slices, 1}, dim3{256, 1, 1},
			ptrArg(pdb), ptrArg(pdy), intArg(g.n), intArg(g.k), intArg(g.p*g.q), intArg(perSlice))
	})
}
