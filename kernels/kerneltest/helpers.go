package kerneltest

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// PoisonInt32 is what int32 outputs are filled with before an op runs: no valid argmax or
// label, so an element the op forgot to write shows up.
const PoisonInt32 = math.MinInt32

// RandomTensor returns a float32 host tensor of N(0, 1) draws.
func RandomTensor(rng *rand.Rand, shape ...int) *tensor.Tensor {
	t := tensor.Zeros(shape...)
	t.FillNormal(rng, 0, 1)
	return t
}

// Float64s converts a float32 or int32 host tensor's elements to float64, the references'
// element type.
func Float64s(t *tensor.Tensor) []float64 {
	out := make([]float64, t.Numel())
	if t.DType() == tensor.Int32 {
		for i, v := range t.Int32s() {
			out[i] = float64(v)
		}
		return out
	}
	for i, v := range t.Float32s() {
		out[i] = float64(v)
	}
	return out
}

// Upload allocates a tensor on b shaped like host and copies host into it; failures end the
// test.
func Upload(t T, b kernels.Backend, host *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	dev, err := b.Alloc(host.DType(), host.Shape()...)
	if err != nil {
		t.Fatalf("Alloc %v: %v", host.Shape(), err)
	}
	if err := b.Upload(dev, host); err != nil {
		t.Fatalf("Upload %v: %v", host.Shape(), err)
	}
	return dev
}

// Poisoned allocates an output tensor on b and fills it with NaN (float32) or PoisonInt32
// (int32), so that any element the op under test does not write is caught.
func Poisoned(t T, b kernels.Backend, dtype tensor.DType, shape ...int) *tensor.Tensor {
	t.Helper()
	host := tensor.New(dtype, shape...)
	if dtype == tensor.Int32 {
		for i := range host.Int32s() {
			host.Int32s()[i] = PoisonInt32
		}
	} else {
		host.FillNaN()
	}
	return Upload(t, b, host)
}

// Download copies a backend tensor into a new host tensor; failures end the test.
func Download(t T, b kernels.Backend, dev *tensor.Tensor) *tensor.Tensor {
	t.Helper()
	host := tensor.New(dev.DType(), dev.Shape()...)
	if err := b.Download(host, dev); err != nil {
		t.Fatalf("Download %v: %v", dev.Shape(), err)
	}
	return host
}

// RelErr is ‖got − ref‖ / ‖ref‖ in the Euclidean norm (‖got − ref‖ alone when ref is zero).
// It is NaN when got holds a NaN.
func RelErr(got []float32, ref []float64) float64 {
	var diff, norm float64
	for i, r := range ref {
		d := float64(got[i]) - r
		diff += d * d
		norm += r * r
	}
	if norm == 0 {
		return math.Sqrt(diff)
	}
	return math.Sqrt(diff / norm)
}

// firstNonFinite returns the index of the first NaN or Inf in x, or -1.
func firstNonFinite(x []float32) int {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return i
		}
	}
	return -1
}

// CheckClose fails the test when got is not all finite or its relative error against ref
// exceeds tol. It returns the relative error for logging.
func CheckClose(t T, what string, got *tensor.Tensor, ref []float64, tol float64) float64 {
	t.Helper()
	g := got.Float32s()
	if len(g) != len(ref) {
		t.Fatalf("%s: %d elements, reference has %d", what, len(g), len(ref))
	}
	if i := firstNonFinite(g); i >= 0 {
		t.Errorf("%s: element %d of %v is %v (unwritten or overflowed); reference %v", what, i, got.Shape(), g[i], ref[i])
		return math.NaN()
	}
	e := RelErr(g, ref)
	if n, ok := t.(interface{ noteRelErr(float64) }); ok {
		n.noteRelErr(e) // for the report's worst error per op
	}
	if !(e <= tol) {
		i := worstElement(g, ref)
		t.Errorf("%s: relative error %.3g > tolerance %.3g (worst element %d: got %v, want %v)", what, e, tol, i, g[i], ref[i])
	} else {
		t.Logf("%s: relative error %.3g", what, e)
	}
	return e
}

// worstElement is the index where got and ref differ most.
func worstElement(got []float32, ref []float64) int {
	worst, at := -1.0, 0
	for i, r := range ref {
		if d := math.Abs(float64(got[i]) - r); d > worst {
			worst, at = d, i
		}
	}
	return at
}

// CheckExact fails the test unless every element of got equals ref exactly: for ops that
// only copy, compare or mask values (ReLU, max-pool, argmax).
func CheckExact(t T, what string, got *tensor.Tensor, ref []float64) {
	t.Helper()
	g := Float64s(got)
	if len(g) != len(ref) {
		t.Fatalf("%s: %d elements, reference has %d", what, len(g), len(ref))
	}
	for i := range g {
		if g[i] != ref[i] { // NaN != anything, so unwritten elements fail here too
			t.Errorf("%s: element %d of %v is %v, want exactly %v", what, i, got.Shape(), g[i], ref[i])
			return
		}
	}
}

// Int32Tensor wraps labels or offsets as an int32 host tensor.
func Int32Tensor(values []int32, shape ...int) *tensor.Tensor {
	t, err := tensor.FromInt32(append([]int32(nil), values...), shape...)
	if err != nil {
		panic(fmt.Sprintf("kerneltest: %v", err)) // a bug in the calling test, not in a backend
	}
	return t
}
