// Package cpu is the reference backend: every kernels.Backend op in plain Go on host memory,
// with the convolutions and matrix products lowered to SGEMM. "cpu" runs them on this
// module's packed SGEMM (kernels/cpu/sgemm, assembly micro-kernels where the CPU has them);
// "cpu-gonum" runs them on gonum's pure-Go Sgemm, the slower, readable reference. It is what
// the tests of every other backend are compared with, so it favours clarity and determinism:
// the same inputs give bit-identical outputs however goroutines are scheduled.
package cpu

import (
	"fmt"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/direct"
	"github.com/vgglab/vgg/kernels/cpu/sgemm"
	"github.com/vgglab/vgg/kernels/cpu/simd"
	"github.com/vgglab/vgg/tensor"
)

func init() {
	kernels.Register("cpu", func() (kernels.Backend, error) {
		if err := simd.Check(); err != nil {
			return nil, fmt.Errorf("cpu backend: %w", err)
		}
		return New(), nil
	})
	kernels.Register("cpu-gonum", func() (kernels.Backend, error) { return NewGonum(), nil })
}

// gemmFunc is a row-major single-precision matrix product with gonum blas32's arguments,
// C = alpha·op(A)·op(B) + beta·C, on up to workers goroutines. Both implementations sum each
// element over k in a fixed order whichever goroutine computes it, so they are deterministic.
type gemmFunc func(workers int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// gemmPackedBFunc is gemmFunc with op(B) given by a function that packs its panels
// (sgemm.PackB), for a B that is computed from other data rather than stored.
type gemmPackedBFunc func(workers int, tA blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, packB sgemm.PackB, beta float32, c []float32, ldc int)

// Backend computes on the host. Its tensors are ordinary host tensors (tensor.HostBuffer), so
// Upload and Download are plain copies.
type Backend struct {
	// name is the registered name; gemm does every matrix product, gemmName says which.
	name, gemmName string
	gemm           gemmFunc
	gemmPackedB    gemmPackedBFunc
	// dots, where set, computes the weight gradient's dy·colᵀ as dot products of rows
	// (sgemm.Dots): only with an assembly dot kernel, which then beats packing colᵀ.
	dots func(workers, m, n, k int, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
	// mu serialises ops that use the shared workspaces below, so that one Backend may be
	// called from several goroutines without corrupting them.
	mu sync.Mutex
	// workers is how many goroutines the parallel ops split their work over.
	workers int
	// scratch holds each worker's convolution workspaces, grown on demand and kept across
	// calls so that steady-state training allocates nothing per step.
	scratch []*convScratch
	// direct, where set, runs the 3x3 stride-1 convolutions (see conv3x3.go) in directScratch.
	direct        *direct.Variant
	directScratch directScratch
	// winogradKernel, where set, is the SGEMM micro-kernel the Winograd convolutions
	// (winograd.go) multiply with, in winograd's memory.
	winogradKernel *sgemm.Variant
	winograd       winogradScratch
	// planeSums holds the partial sums of batch norm and the bias gradient (batchnorm.go).
	planeSums planeSums
}

// New returns the "cpu" backend: this module's SGEMM with the fastest micro-kernel the CPU
// runs, on every core Go may run on.
func New() *Backend { return newWithVariant(sgemm.Default()) }

// NewGonum returns the "cpu-gonum" backend, which hands its products to gonum's Sgemm.
func NewGonum() *Backend {
	return &Backend{name: "cpu-gonum", gemmName: "gonum Sgemm", gemm: gonumSgemm, gemmPackedB: gonumSgemmPackedB, workers: runtime.GOMAXPROCS(0)}
}

// newWithVariant is the "cpu" backend with a given micro-kernel, so that tests can run each.
func newWithVariant(v *sgemm.Variant) *Backend {
	b := &Backend{name: "cpu", gemmName: "sgemm with " + v.Describe(), gemm: v.SgemmWorkers, gemmPackedB: v.SgemmPackedB, workers: runtime.GOMAXPROCS(0), winogradKernel: v}
	if v.Name != "go" && sgemm.HasDotKernel() {
		b.dots = sgemm.Dots
	}
	// In plain Go the direct kernels lose to the lowering (7.6 against 11.4 img/s on the small
	// network's training step): without vector loads, reading the image as it lies gains
	// nothing, and the packed products keep more in registers.
	if v.Name != "go" {
		b.direct = direct.ByName(v.Name)
	}
	return b
}

// gonumSgemm is gonum's Sgemm as a gemmFunc; gonum picks its own number of goroutines.
func gonumSgemm(_ int, tA, tB blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	blas32.Implementation().Sgemm(tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gonumSgemmPackedB has packB write all of B as one row-major k x n matrix (a single panel
// n wide), then runs gonum's Sgemm on it.
func gonumSgemmPackedB(workers int, tA blas.Transpose, m, n, k int, alpha float32, a []float32, lda int, packB sgemm.PackB, beta float32, c []float32, ldc int) {
	buf := gonumB.Get().(*[]float32)
	*buf = grow(*buf, k*n)
	if k > 0 && n > 0 {
		packB(*buf, 0, k, 0, n, n)
	}
	gonumSgemm(workers, tA, blas.NoTrans, m, n, k, alpha, a, lda, *buf, max(1, n), beta, c, ldc)
	gonumB.Put(buf)
}

// gonumB pools the matrices gonumSgemmPackedB packs B into.
var gonumB = sync.Pool{New: func() any { return new([]float32) }}

var _ kernels.Backend = (*Backend)(nil)

func (b *Backend) Name() string { return b.name }

func (b *Backend) Describe() string {
	convs := ""
	if b.winogradKernel != nil {
		convs = fmt.Sprintf("Winograd F(4x4,3x3) for 3x3 layers of %d+ channels and %d+ tiles (channels·tiles %d+), ", winogradMinChannels, winogradMinTiles, winogradMinWork)
	}
	if b.direct != nil {
		convs += fmt.Sprintf("direct 3x3 convolutions (%s %dx%d tiles), ", b.direct.Name, b.direct.Rows, b.direct.Cols)
	}
	return fmt.Sprintf("%s: Go ops, %s%s, %d threads", b.name, convs, b.gemmName, b.workers)
}

// Alloc returns a zero-filled host tensor.
func (*Backend) Alloc(dtype tensor.DType, shape ...int) (*tensor.Tensor, error) {
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("cpu: Alloc: negative dimension in shape %v", tensor.Shape(shape))
		}
	}
	if dtype != tensor.Float32 && dtype != tensor.Int32 {
		return nil, fmt.Errorf("cpu: Alloc: unknown element type %v", dtype)
	}
	return tensor.New(dtype, shape...), nil
}

func (*Backend) Upload(dst, src *tensor.Tensor) error { return copyChecked("Upload", dst, src) }

func (*Backend) Download(dst, src *tensor.Tensor) error { return copyChecked("Download", dst, src) }

// copyChecked copies between two host tensors of the same shape and type.
func copyChecked(op string, dst, src *tensor.Tensor) error {
	if src == nil || dst == nil {
		return fmt.Errorf("%s: missing tensor", op)
	}
	if err := tensor.Check(op, "dst", dst, src.Shape()...); err != nil {
		return err
	}
	return copyElements(op, dst, src)
}

// Copy copies between two tensors with equal element counts and the same type.
func (*Backend) Copy(dst, src *tensor.Tensor) error {
	if src == nil || dst == nil {
		return fmt.Errorf("Copy: missing tensor")
	}
	if dst.Numel() != src.Numel() {
		return fmt.Errorf("Copy: dst has %d elements %v, src has %d %v", dst.Numel(), dst.Shape(), src.Numel(), src.Shape())
	}
	return copyElements("Copy", dst, src)
}

func copyElements(op string, dst, src *tensor.Tensor) error {
	if dst.DType() != src.DType() {
		return fmt.Errorf("%s: dst is %s, src is %s", op, dst.DType(), src.DType())
	}
	if src.DType() == tensor.Int32 {
		d, err := hostI32(op, "dst", dst)
		if err != nil {
			return err
		}
		s, err := hostI32(op, "src", src)
		if err != nil {
			return err
		}
		copy(d, s)
		return nil
	}
	d, err := hostF32(op, "dst", dst)
	if err != nil {
		return err
	}
	s, err := hostF32(op, "src", src)
	if err != nil {
		return err
	}
	copy(d, s)
	return nil
}

func (*Backend) Fill(t *tensor.Tensor, v float32) error {
	data, err := hostF32("Fill", "t", t)
	if err != nil {
		return err
	}
	for i := range data {
		data[i] = v
	}
	return nil
}

// Sync has nothing to wait for: every CPU op finishes before it returns.
func (*Backend) Sync() error { return nil }

// Close drops the workspaces; host tensors stay valid Go memory but belong to nobody.
func (b *Backend) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.scratch = nil
	b.directScratch = directScratch{}
	b.winograd = winogradScratch{}
	b.planeSums = planeSums{}
	return nil
}

// hostF32 returns the elements of a float32 host tensor, or an error naming the op and the
// argument when the tensor is missing, of the wrong type or on another device.
func hostF32(op, name string, t *tensor.Tensor) ([]float32, error) {
	if t == nil {
		return nil, fmt.Errorf("%s: %s is missing", op, name)
	}
	if err := tensor.CheckDType(op, name, t, tensor.Float32); err != nil {
		return nil, err
	}
	if !t.OnHost() {
		return nil, fmt.Errorf("%s: %s lives on %s, not on the cpu backend", op, name, t.Buffer().Location())
	}
	return t.Float32s(), nil
}

// hostI32 is hostF32 for int32 tensors.
func hostI32(op, name string, t *tensor.Tensor) ([]int32, error) {
	if t == nil {
		return nil, fmt.Errorf("%s: %s is missing", op, name)
	}
	if err := tensor.CheckDType(op, name, t, tensor.Int32); err != nil {
		return nil, err
	}
	if !t.OnHost() {
		return nil, fmt.Errorf("%s: %s lives on %s, not on the cpu backend", op, name, t.Buffer().Location())
	}
	return t.Int32s(), nil
}

// grow returns buf resized to n elements, reallocating only when it is too small.
func grow[T any](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}
