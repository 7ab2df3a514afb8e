//go:build cuda

package cuda

import (
	"fmt"
	"math"
	"slices"
	"sync/atomic"
	"unsafe"

	"gorgonia.org/cu"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

func init() {
	kernels.Register("cuda", func() (kernels.Backend, error) { return Open() })
}

// Backend runs every op on GPU 0. It is safe for use from several goroutines (calls are
// serialised on the device's owner goroutine), though nn/ uses it from one.
type Backend struct {
	d      *device
	closed atomic.Bool
}

var _ kernels.Backend = (*Backend)(nil)

// Open starts the backend on GPU 0.
func Open() (*Backend, error) {
	d, err := openDevice()
	if err != nil {
		return nil, err
	}
	return &Backend{d: d}, nil
}

func (b *Backend) Name() string { return "cuda" }

// Describe names the card, its memory, compute capability, multiprocessors and driver.
func (b *Backend) Describe() string {
	var free int64
	_ = b.run("Describe", func() error {
		var err error
		free, _, err = cu.MemInfo()
		return err
	})
	drv := b.d.driverVersion
	return fmt.Sprintf("%s, %.1f GiB (%.1f GiB free), compute capability %d.%d, %d multiprocessors, CUDA driver %d.%d",
		b.d.name, float64(b.d.totalMem)/(1<<30), float64(free)/(1<<30), b.d.major, b.d.minor,
		b.d.multiprocs, drv/1000, drv%1000/10)
}

// run executes f on the device's goroutine, naming op in any error it returns, and records
// op as the last one queued.
func (b *Backend) run(op string, f func() error) error {
	if b.closed.Load() {
		return fmt.Errorf("cuda %s: the backend is closed", op)
	}
	return b.d.do(func() error {
		b.d.lastOp = op
		if err := f(); err != nil {
			return fmt.Errorf("cuda %s: %w", op, err)
		}
		return nil
	})
}

// sync waits for the stream; a failure there comes from an op queued earlier.
func (b *Backend) sync() error {
	if err := b.d.stream.Synchronize(); err != nil {
		return fmt.Errorf("an earlier op failed (last queued: %s): %w", b.d.lastOp, err)
	}
	return nil
}

func (b *Backend) Alloc(dtype tensor.DType, shape ...int) (*tensor.Tensor, error) {
	n := tensor.Shape(shape).Numel()
	for _, d := range shape {
		if d < 0 {
			return nil, fmt.Errorf("cuda Alloc: negative dimension in %v", tensor.Shape(shape))
		}
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("cuda Alloc: %v has %d elements; the kernels index with 32-bit ints", tensor.Shape(shape), n)
	}
	var buf *Buffer
	err := b.run("Alloc "+tensor.Shape(shape).String(), func() error {
		p, class, err := b.d.mem.alloc(int64(max(n, 1) * dtype.Size()))
		if err != nil {
			return err
		}
		buf = &Buffer{mem: b.d.mem, ptr: p, class: class}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return tensor.Wrap(dtype, buf, shape...), nil
}

// devicePtr returns the device address of a tensor this backend made.
func (b *Backend) devicePtr(op, name string, t *tensor.Tensor) (cu.DevicePtr, error) {
	if t == nil {
		return 0, fmt.Errorf("cuda %s: %s is missing", op, name)
	}
	buf, ok := t.Buffer().(*Buffer)
	if !ok {
		return 0, fmt.Errorf("cuda %s: %s lives on %s, not on this cuda backend", op, name, t.Buffer().Location())
	}
	if buf.mem != b.d.mem {
		return 0, fmt.Errorf("cuda %s: %s belongs to another cuda backend", op, name)
	}
	if buf.released.Load() {
		return 0, fmt.Errorf("cuda %s: %s was released", op, name)
	}
	return buf.ptr, nil
}

// optionalPtr is devicePtr for an output the op may skip (dx, db when nil): address 0.
func (b *Backend) optionalPtr(op, name string, t *tensor.Tensor) (cu.DevicePtr, error) {
	if t == nil {
		return 0, nil
	}
	return b.devicePtr(op, name, t)
}

func hostPointer(t *tensor.Tensor) unsafe.Pointer {
	if t.DType() == tensor.Int32 {
		return unsafe.Pointer(unsafe.SliceData(t.Int32s()))
	}
	return unsafe.Pointer(unsafe.SliceData(t.Float32s()))
}

func checkSameLayout(op string, dst, src *tensor.Tensor) error {
	if !dst.Shape().Equal(src.Shape()) {
		return &tensor.ShapeError{Op: op, Name: "dst", Got: dst.Shape().Clone(), Want: src.Shape().Clone()}
	}
	return tensor.CheckDType(op, "dst", dst, src.DType())
}

// Upload copies host memory to the device. The driver stages pageable host memory before
// the call returns, so src may be reused at once; the copy itself is ordered on the stream.
func (b *Backend) Upload(dst, src *tensor.Tensor) error {
	const op = "Upload"
	if src == nil || !src.OnHost() {
		return fmt.Errorf("cuda %s: src must be a host tensor", op)
	}
	if err := checkSameLayout(op, dst, src); err != nil {
		return err
	}
	p, err := b.devicePtr(op, "dst", dst)
	if err != nil {
		return err
	}
	var uploaded *[]int32
	if src.DType() == tensor.Int32 {
		values := slices.Clone(src.Int32s())
		uploaded = &values
	}
	dst.Buffer().(*Buffer).uploaded.Store(uploaded)
	if dst.Numel() == 0 {
		return nil
	}
	return b.run(op, func() error {
		return cu.MemcpyHtoDAsync(p, hostPointer(src), int64(src.Bytes()), b.d.stream)
	})
}

// Download waits for the work that produces src, then copies it to host memory.
func (b *Backend) Download(dst, src *tensor.Tensor) error {
	const op = "Download"
	if dst == nil || !dst.OnHost() {
		return fmt.Errorf("cuda %s: dst must be a host tensor", op)
	}
	if err := checkSameLayout(op, dst, src); err != nil {
		return err
	}
	p, err := b.devicePtr(op, "src", src)
	if err != nil || src.Numel() == 0 {
		return err
	}
	return b.run(op, func() error {
		if err := b.sync(); err != nil {
			return err
		}
		if err := cu.MemcpyDtoHAsync(hostPointer(dst), p, int64(src.Bytes()), b.d.stream); err != nil {
			return err
		}
		return b.d.stream.Synchronize()
	})
}

func (b *Backend) Copy(dst, src *tensor.Tensor) error {
	const op = "Copy"
	if dst == nil || src == nil || dst.Numel() != src.Numel() || dst.DType() != src.DType() {
		return fmt.Errorf("cuda %s: dst and src need equal element counts and types", op)
	}
	pd, err := b.devicePtr(op, "dst", dst)
	if err != nil {
		return err
	}
	ps, err := b.devicePtr(op, "src", src)
	if err != nil {
		return err
	}
	dst.Buffer().(*Buffer).uploaded.Store(src.Buffer().(*Buffer).uploaded.Load())
	if src.Numel() == 0 {
		return nil
	}
	return b.run(op, func() error {
		return cu.MemcpyDtoDAsync(pd, ps, int64(src.Bytes()), b.d.stream)
	})
}

func (b *Backend) Fill(t *tensor.Tensor, v float32) error {
	const op = "Fill"
	if err := tensor.CheckDType(op, "t", t, tensor.Float32); err != nil {
		return err
	}
	p, err := b.devicePtr(op, "t", t)
	if err != nil || t.Numel() == 0 {
		return err
	}
	return b.run(op, func() error { return b.d.memset32(p, math.Float32bits(v), t.Numel()) })
}

func (b *Backend) Sync() error {
	return b.run("Sync", func() error { return b.sync() })
}

// Close waits for pending work, frees all device memory (cached and held) and the context.
func (b *Backend) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	return b.d.close()
}

// MemoryStats reports the bytes the caching allocator holds from the driver and how many of
// them sit unused on its free lists.
func (b *Backend) MemoryStats() (held, cached int64) {
	cached, held = b.d.mem.cached()
	return held, cached
}

// named is a tensor argument with the name errors use for it.
type named struct {
	name string
	t    *tensor.Tensor
}

// pointers resolves the device addresses of several tensor arguments.
func (b *Backend) pointers(op string, args ...named) ([]cu.DevicePtr, error) {
	ptrs := make([]cu.DevicePtr, len(args))
	for i, a := range args {
		p, err := b.devicePtr(op, a.name, a.t)
		if err != nil {
			return nil, err
		}
		ptrs[i] = p
	}
	return ptrs, nil
}
