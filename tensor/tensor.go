// Package tensor holds the n-dimensional arrays the engine computes on: float32 (activations,
// weights, gradients) or int32 (labels, max-pool argmax), laid out row-major, images as NCHW.
//
// A tensor is a shape, an element type and a Buffer. The host buffer is a plain Go slice; a
// device backend (kernels/cuda) supplies its own Buffer that owns device memory, so the same
// *Tensor type flows through nn/ whichever backend computes on it.
package tensor

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// DType is the element type of a tensor.
type DType uint8

const (
	Float32 DType = iota
	Int32
)

// Size is the number of bytes of one element.
func (d DType) Size() int { return 4 }

func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int32:
		return "int32"
	}
	return fmt.Sprintf("DType(%d)", uint8(d))
}

// Buffer is the memory behind a tensor. Release hands the memory back to whoever owns it
// (the Go heap, a device's caching allocator); it is safe to call more than once.
type Buffer interface {
	// Location names where the elements live: "cpu" or a device such as "cuda".
	Location() string
	Release()
}

// HostBuffer is memory on the host: exactly one of F32 and I32 is set.
type HostBuffer struct {
	F32 []float32
	I32 []int32
}

func (*HostBuffer) Location() string { return "cpu" }

func (b *HostBuffer) Release() { b.F32, b.I32 = nil, nil }

// Tensor is a shape, an element type and the buffer holding the elements.
type Tensor struct {
	shape Shape
	dtype DType
	buf   Buffer
}

// New returns a zero-filled host tensor.
func New(dtype DType, shape ...int) *Tensor {
	s := Shape(shape).Clone()
	n := s.Numel()
	b := &HostBuffer{}
	if dtype == Int32 {
		b.I32 = make([]int32, n)
	} else {
		b.F32 = make([]float32, n)
	}
	return &Tensor{shape: s, dtype: dtype, buf: b}
}

// Zeros returns a zero-filled float32 host tensor.
func Zeros(shape ...int) *Tensor { return New(Float32, shape...) }

// FromFloat32 wraps data (not copied) as a host tensor of the given shape.
func FromFloat32(data []float32, shape ...int) (*Tensor, error) {
	s := Shape(shape).Clone()
	if s.Numel() != len(data) {
		return nil, fmt.Errorf("tensor: %d float32 values cannot have shape %v (%d elements)", len(data), s, s.Numel())
	}
	return &Tensor{shape: s, dtype: Float32, buf: &HostBuffer{F32: data}}, nil
}

// FromInt32 wraps data (not copied) as a host tensor of the given shape.
func FromInt32(data []int32, shape ...int) (*Tensor, error) {
	s := Shape(shape).Clone()
	if s.Numel() != len(data) {
		return nil, fmt.Errorf("tensor: %d int32 values cannot have shape %v (%d elements)", len(data), s, s.Numel())
	}
	return &Tensor{shape: s, dtype: Int32, buf: &HostBuffer{I32: data}}, nil
}

// Wrap makes a tensor over a buffer that a backend allocated; the backend guarantees the
// buffer holds shape.Numel() elements of dtype.
func Wrap(dtype DType, buf Buffer, shape ...int) *Tensor {
	return &Tensor{shape: Shape(shape).Clone(), dtype: dtype, buf: buf}
}

func (t *Tensor) Shape() Shape   { return t.shape }
func (t *Tensor) DType() DType   { return t.dtype }
func (t *Tensor) Numel() int     { return t.shape.Numel() }
func (t *Tensor) Buffer() Buffer { return t.buf }
func (t *Tensor) Bytes() int     { return t.Numel() * t.dtype.Size() }

// Dim returns the size of axis i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// OnHost reports whether the elements live in host memory.
func (t *Tensor) OnHost() bool {
	_, ok := t.buf.(*HostBuffer)
	return ok
}

// Float32s returns the host elements of a float32 tensor. Calling it on a device or int32
// tensor is a programming error and panics.
func (t *Tensor) Float32s() []float32 {
	b, ok := t.buf.(*HostBuffer)
	if !ok || t.dtype != Float32 {
		panic(fmt.Sprintf("tensor: Float32s on a %s %s tensor", t.buf.Location(), t.dtype))
	}
	return b.F32[:t.Numel()]
}

// Int32s returns the host elements of an int32 tensor; see Float32s.
func (t *Tensor) Int32s() []int32 {
	b, ok := t.buf.(*HostBuffer)
	if !ok || t.dtype != Int32 {
		panic(fmt.Sprintf("tensor: Int32s on a %s %s tensor", t.buf.Location(), t.dtype))
	}
	return b.I32[:t.Numel()]
}

// Release hands the tensor's memory back to its owner. The tensor must not be used after.
func (t *Tensor) Release() { t.buf.Release() }

// Reshape returns a view with a new shape over the same buffer (no copy). One dimension may
// be -1, meaning "whatever is left", as in PyTorch's view.
func (t *Tensor) Reshape(shape ...int) (*Tensor, error) {
	s := Shape(shape).Clone()
	infer := -1
	known := 1
	for i, d := range s {
		switch {
		case d == -1 && infer < 0:
			infer = i
		case d <= 0:
			return nil, fmt.Errorf("tensor: cannot reshape %v to %v", t.shape, Shape(shape))
		default:
			known *= d
		}
	}
	if infer >= 0 {
		if known == 0 || t.Numel()%known != 0 {
			return nil, fmt.Errorf("tensor: cannot reshape %v to %v", t.shape, Shape(shape))
		}
		s[infer] = t.Numel() / known
	}
	if s.Numel() != t.Numel() {
		return nil, fmt.Errorf("tensor: cannot reshape %v (%d elements) to %v", t.shape, t.Numel(), Shape(shape))
	}
	return &Tensor{shape: s, dtype: t.dtype, buf: t.buf}, nil
}

// Clone returns a host copy of a host tensor.
func (t *Tensor) Clone() *Tensor {
	c := New(t.dtype, t.shape...)
	if t.dtype == Int32 {
		copy(c.Int32s(), t.Int32s())
	} else {
		copy(c.Float32s(), t.Float32s())
	}
	return c
}

// FillNormal fills a float32 host tensor with draws from N(mean, std²).
func (t *Tensor) FillNormal(rng *rand.Rand, mean, std float64) {
	data := t.Float32s()
	for i := range data {
		data[i] = float32(mean + std*rng.NormFloat64())
	}
}

// FillUniform fills a float32 host tensor with draws from U[lo, hi).
func (t *Tensor) FillUniform(rng *rand.Rand, lo, hi float64) {
	data := t.Float32s()
	for i := range data {
		data[i] = float32(lo + (hi-lo)*rng.Float64())
	}
}

// FillNaN poisons a float32 host tensor, so that a test can tell which elements an op wrote.
func (t *Tensor) FillNaN() {
	data := t.Float32s()
	nan := float32(math.NaN())
	for i := range data {
		data[i] = nan
	}
}

// NewRand returns a generator seeded from one number, so every random fill is reproducible.
func NewRand(seed uint64) *rand.Rand {
	return rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
}
