package kerneltest

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// Tolerance bounds the relative error ‖out − ref‖/‖ref‖ that Conformance accepts.
type Tolerance struct {
	// Product is for ops that sum many float32 products (convolution, linear). A float32 sum
	// of K terms carries a rounding error of about √K·2⁻²⁴ relative to the sum for random data
	// (K·2⁻²⁴ in the worst case), and the longest sums here have K ≈ 1,700 (the filter
	// gradient of the batch-3 23x25 case sums N·P·Q = 1,725 products; the 67-channel case's
	// forward pass sums C·R·S = 603), so honest kernels land near 1e-6 (the CPU backend:
	// at most 7e-7). 1e-4 leaves room for other summation orders and fused multiply-adds,
	// while a wrong index or a missed term gives errors of order 1e-2 or more.
	Product float64
	// Pointwise is for ops whose every output is a short formula of a few inputs (dropout's
	// scale, softmax, the optimizers): a handful of float32 roundings, about 1e-7.
	Pointwise float64
}

// DefaultTolerance suits any correct float32 backend.
func DefaultTolerance() Tolerance {
	return Tolerance{Product: 1e-4, Pointwise: 1e-5}
}

// T is what a conformance case reports to: a *testing.T under go test (Conformance), a
// recorder that collects the results under Run (`vgg gpu`). testing.TB satisfies it.
type T interface {
	Helper()
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Skipf(format string, args ...any)
}

// Case is one row of the conformance table: a check of one op on one backend.
type Case struct {
	// Op is the op the case covers: one of kernels.Ops, or MemoryOp.
	Op string
	// Name says what the case varies (shapes, in place, a bad argument).
	Name string
	Run  func(t T, b kernels.Backend, tol Tolerance)
}

// MemoryOp names the cases of the memory ops (Alloc, Upload, Download, Copy, Fill), which
// every other case relies on; it is not one of kernels.Ops.
const MemoryOp = "Memory"

// Cases is the conformance table, every backend's and `vgg gpu`'s: the memory ops, then each
// op of kernels.Ops against the float64 references on random inputs with odd sizes, every
// output poisoned (NaN, or PoisonInt32 for int32) before the op runs so that unwritten
// elements fail; ops that only copy, compare or mask values must match exactly, the rest
// within the tolerance. Then every op with a wrong argument, which must be refused with an
// error naming the op and the argument.
func Cases() []Case {
	cases := []Case{{MemoryOp, "round_trips", func(t T, b kernels.Backend, _ Tolerance) { testMemory(t, b) }}}
	for _, family := range [][]Case{
		convCases(), reluCases(), maxPoolCases(), dropoutCases(), linearCases(), lossCases(),
		batchNormCases(), optimCases(), argumentCases(),
	} {
		cases = append(cases, family...)
	}
	return cases
}

// missingPrefix starts the message of a case whose op the backend does not implement.
const missingPrefix = "MISSING: "

// Conformance runs the table on b, a sub-test per case named op/case. A case whose op
// returns an error wrapping kernels.ErrNotImplemented is skipped with a MISSING message and
// its op reported missing in the summary logged at the end and in the returned Report: the
// caller decides whether a missing op fails (the CPU backends must have every op).
func Conformance(t *testing.T, b kernels.Backend, tol Tolerance) Report {
	return ConformanceCases(t, b, tol, Cases())
}

// ConformanceCases is Conformance on a part of the table.
func ConformanceCases(t *testing.T, b kernels.Backend, tol Tolerance, cases []Case) Report {
	var results []caseResult
	for _, c := range cases {
		rec := &testingCase{T: t}
		passed := t.Run(c.Op+"/"+c.Name, func(t *testing.T) {
			rec.T = t
			c.Run(rec, b, tol)
		})
		results = append(results, caseResult{c.Op, !passed, rec.missing, rec.why, rec.worst})
	}
	if err := b.Sync(); err != nil {
		t.Errorf("Sync after the suite: %v", err)
	}
	r := newReport(b.Name(), results)
	t.Log(r.Summary())
	return r
}

// testingCase adapts a *testing.T: it notes a MISSING skip and the worst relative error.
type testingCase struct {
	*testing.T
	missing bool
	why     string
	worst   float64
}

func (c *testingCase) Skipf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if why, ok := strings.CutPrefix(msg, missingPrefix); ok {
		c.missing, c.why = true, why
	}
	c.T.Helper()
	c.T.Skip(msg)
}

func (c *testingCase) noteRelErr(e float64) { c.worst = max(c.worst, e) }

// Run runs the table on b without the testing package, as `vgg gpu` does, and reports per
// op. A panic in a case (a backend bug) fails that case, not the program.
func Run(b kernels.Backend, tol Tolerance) Report { return RunCases(b, tol, Cases()) }

// RunCases is Run on a part of the table.
func RunCases(b kernels.Backend, tol Tolerance, cases []Case) Report {
	var results []caseResult
	for _, c := range cases {
		rec := &recorder{}
		rec.run(func() { c.Run(rec, b, tol) })
		results = append(results, caseResult{c.Op, len(rec.failures) > 0, rec.missing, rec.why(), rec.worst})
	}
	if err := b.Sync(); err != nil {
		results = append(results, caseResult{MemoryOp, true, false, "Sync after the suite: " + err.Error(), 0})
	}
	return newReport(b.Name(), results)
}

// recorder is a T that keeps what a case reports; Fatalf and Skipf end the case.
type recorder struct {
	failures []string
	missing  bool
	skipped  string
	worst    float64
}

// endCase is what Fatalf and Skipf panic with to leave the case, as runtime.Goexit does for
// a *testing.T.
type endCase struct{}

func (r *recorder) run(body func()) {
	defer func() {
		if p := recover(); p != nil {
			if _, ok := p.(endCase); !ok {
				r.failures = append(r.failures, fmt.Sprintf("panic: %v", p))
			}
		}
	}()
	body()
}

func (r *recorder) Helper()              {}
func (r *recorder) Logf(string, ...any)  {}
func (r *recorder) noteRelErr(e float64) { r.worst = max(r.worst, e) }
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	panic(endCase{})
}

func (r *recorder) Skipf(format string, args ...any) {
	r.skipped, r.missing = strings.CutPrefix(fmt.Sprintf(format, args...), missingPrefix)
	panic(endCase{})
}

// why is the first failure, else the skip message.
func (r *recorder) why() string {
	if len(r.failures) > 0 {
		return r.failures[0]
	}
	return r.skipped
}

// caseResult is one case's outcome.
type caseResult struct {
	op              string
	failed, missing bool
	why             string
	worst           float64
}

// OpReport is how one op fared over its cases.
type OpReport struct {
	Op            string
	Cases, Failed int
	// Missing is set when a case found the op not implemented (kernels.ErrNotImplemented).
	Missing bool
	// Why is the first failure's message, else the error that said the op is missing.
	Why string
	// WorstRelErr is the largest relative error of the outputs compared within a tolerance
	// (0 when every output was compared exactly).
	WorstRelErr float64
}

// Agrees reports whether every case of the op ran and passed.
func (o OpReport) Agrees() bool { return o.Cases > 0 && o.Failed == 0 && !o.Missing }

// Report is the table's outcome on one backend: the memory ops, then every op of
// kernels.Ops in order.
type Report struct {
	Backend string
	Memory  OpReport
	Ops     []OpReport
}

func newReport(backend string, results []caseResult) Report {
	r := Report{Backend: backend, Memory: OpReport{Op: MemoryOp}}
	at := map[string]*OpReport{MemoryOp: &r.Memory}
	r.Ops = make([]OpReport, len(kernels.Ops))
	for i, op := range kernels.Ops {
		r.Ops[i].Op = op
		at[op] = &r.Ops[i]
	}
	for _, c := range results {
		o := at[c.op]
		if o == nil {
			panic(fmt.Sprintf("kerneltest: a case covers %q, which is not in kernels.Ops", c.op)) // a bug in the table
		}
		o.Cases++
		o.WorstRelErr = max(o.WorstRelErr, c.worst)
		if c.failed {
			if o.Failed == 0 {
				o.Why = c.why
			}
			o.Failed++
		}
		if c.missing && !o.Missing {
			o.Missing = true
			if o.Failed == 0 {
				o.Why = c.why
			}
		}
	}
	return r
}

// Missing lists the ops the backend does not implement (and that failed no case).
func (r Report) Missing() []string {
	return r.opsWhere(func(o OpReport) bool { return o.Missing && o.Failed == 0 })
}

// Failing lists the ops with a failed case.
func (r Report) Failing() []string {
	return r.opsWhere(func(o OpReport) bool { return o.Failed > 0 })
}

// Agreeing lists the ops whose every case ran and passed.
func (r Report) Agreeing() []string { return r.opsWhere(OpReport.Agrees) }

func (r Report) opsWhere(keep func(OpReport) bool) []string {
	var ops []string
	for _, o := range r.Ops {
		if keep(o) {
			ops = append(ops, o.Op)
		}
	}
	return ops
}

// OK reports whether the memory ops and every op that exists agree: missing ops are not
// failures.
func (r Report) OK() bool { return r.Memory.Failed == 0 && len(r.Failing()) == 0 }

// Summary is one line, e.g. "16 of 19 ops agree; missing on cuda: BatchNormTrain,
// BatchNormEval, BatchNormBackward".
func (r Report) Summary() string {
	s := fmt.Sprintf("%d of %d ops agree", len(r.Agreeing()), len(r.Ops))
	if r.Memory.Failed > 0 {
		s += fmt.Sprintf("; the memory ops fail on %s (%s)", r.Backend, r.Memory.Why)
	}
	if f := r.Failing(); len(f) > 0 {
		s += fmt.Sprintf("; failing on %s: %s", r.Backend, strings.Join(f, ", "))
	}
	if m := r.Missing(); len(m) > 0 {
		s += fmt.Sprintf("; missing on %s: %s", r.Backend, strings.Join(m, ", "))
	}
	return s
}

// must ends the case on an op's error; an error that wraps kernels.ErrNotImplemented ends it
// as MISSING.
func must(t T, op string, err error) {
	t.Helper()
	if errors.Is(err, kernels.ErrNotImplemented) {
		t.Skipf("%s%v", missingPrefix, err)
	}
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// ConformanceConvShapes are the convolutions Conformance runs: the network's 3x3/pad 1 at
// batch 1 and 2, stride 2, 1x1, 5x5/pad 2, no padding, a non-square window with unequal
// strides and pads, batch 3 on a larger plane (a backend that groups images per product
// ends with a partial group), and one with 67 channels and filters on 19x23, big and ragged
// enough to cross the tile edges of a GPU kernel; and one whose 20 filters make two whole
// blocks and a partial one of the CPU's direct kernels, with more weight-gradient units
// (filter block, channel, filter row) than one worker sums at once; and the 2x2 and 1x1
// planes of a small network's last layers, where most of what the direct kernels compute is
// padding; and 7 images of 27x26, enough positions for the CPU's weight gradient to sum
// two parts of the batch apart, split inside an image.
var ConformanceConvShapes = []ConvShape{
	{N: 1, C: 3, H: 9, W: 11, K: 5, Params: kernels.Conv3x3},
	{N: 2, C: 5, H: 13, W: 13, K: 7, Params: kernels.Conv3x3},
	{N: 2, C: 4, H: 13, W: 10, K: 6, Params: kernels.ConvParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
	{N: 2, C: 7, H: 9, W: 9, K: 5, Params: kernels.ConvParams{KernelH: 1, KernelW: 1, StrideH: 1, StrideW: 1}},
	{N: 1, C: 3, H: 11, W: 7, K: 4, Params: kernels.ConvParams{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1, PadH: 2, PadW: 2}},
	{N: 2, C: 5, H: 8, W: 9, K: 3, Params: kernels.ConvParams{KernelH: 3, KernelW: 3, StrideH: 1, StrideW: 1}},
	{N: 2, C: 3, H: 9, W: 12, K: 5, Params: kernels.ConvParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1, PadW: 0}},
	{N: 3, C: 2, H: 23, W: 25, K: 3, Params: kernels.Conv3x3},
	{N: 2, C: 67, H: 19, W: 23, K: 67, Params: kernels.Conv3x3},
	{N: 3, C: 9, H: 10, W: 6, K: 20, Params: kernels.Conv3x3},
	{N: 8, C: 16, H: 2, W: 2, K: 24, Params: kernels.Conv3x3},
	{N: 5, C: 8, H: 1, W: 1, K: 8, Params: kernels.Conv3x3},
	{N: 7, C: 3, H: 27, W: 26, K: 10, Params: kernels.Conv3x3},
}

func convName(s ConvShape) string {
	p := s.Params
	return fmt.Sprintf("k%dx%d_s%dx%d_p%dx%d_n%d_c%d_k%d_%dx%d", p.KernelH, p.KernelW, p.StrideH, p.StrideW, p.PadH, p.PadW, s.N, s.C, s.K, s.H, s.W)
}

func testMemory(t T, b kernels.Backend) {
	rng := tensor.NewRand(1)
	host := RandomTensor(rng, 3, 5, 7)
	dev := Upload(t, b, host)
	CheckExact(t, "Upload then Download", Download(t, b, dev), Float64s(host))

	labels := Int32Tensor([]int32{0, 5, -3, math.MaxInt32}, 4)
	CheckExact(t, "int32 round trip", Download(t, b, Upload(t, b, labels)), Float64s(labels))

	flat := Poisoned(t, b, tensor.Float32, 105)
	must(t, "Copy", b.Copy(flat, dev))
	CheckExact(t, "Copy to another shape", Download(t, b, flat), Float64s(host))

	must(t, "Fill", b.Fill(flat, -2.5))
	want := make([]float64, 105)
	for i := range want {
		want[i] = -2.5
	}
	CheckExact(t, "Fill", Download(t, b, flat), want)
}

// convInputs are a convolution case's random x, w, bias and dy on the host.
func convInputs(s ConvShape, seed uint64) (x, w, bias, dy *tensor.Tensor) {
	rng := tensor.NewRand(seed)
	x, w = RandomTensor(rng, s.XShape()...), RandomTensor(rng, s.WShape()...)
	bias, dy = RandomTensor(rng, s.K), RandomTensor(rng, s.YShape()...)
	return x, w, bias, dy
}

func convCases() []Case {
	var cases []Case
	for i, s := range ConformanceConvShapes {
		seed, name := uint64(100+i), convName(s)
		cases = append(cases,
			Case{"Conv2D", name, func(t T, b kernels.Backend, tol Tolerance) {
				x, w, bias, _ := convInputs(s, seed)
				y := Poisoned(t, b, tensor.Float32, s.YShape()...)
				must(t, "Conv2D", b.Conv2D(y, Upload(t, b, x), Upload(t, b, w), Upload(t, b, bias), s.Params))
				CheckClose(t, "y", Download(t, b, y), RefConv2D(Float64s(x), Float64s(w), Float64s(bias), s), tol.Product)
			}},
			Case{"Conv2DBackwardData", name, func(t T, b kernels.Backend, tol Tolerance) {
				_, w, _, dy := convInputs(s, seed)
				dx := Poisoned(t, b, tensor.Float32, s.XShape()...)
				must(t, "Conv2DBackwardData", b.Conv2DBackwardData(dx, Upload(t, b, dy), Upload(t, b, w), s.Params))
				CheckClose(t, "dx", Download(t, b, dx), RefConv2DBackwardData(Float64s(dy), Float64s(w), s), tol.Product)
			}},
		)
		for _, withBias := range []bool{true, false} {
			caseName := name
			if !withBias {
				caseName += "_no_db"
			}
			cases = append(cases, Case{"Conv2DBackwardFilter", caseName, func(t T, b kernels.Backend, tol Tolerance) {
				x, _, _, dy := convInputs(s, seed)
				refDW, refDB := RefConv2DBackwardFilter(Float64s(x), Float64s(dy), s)
				dw := Poisoned(t, b, tensor.Float32, s.WShape()...)
				var db *tensor.Tensor
				if withBias {
					db = Poisoned(t, b, tensor.Float32, s.K)
				}
				must(t, "Conv2DBackwardFilter", b.Conv2DBackwardFilter(dw, db, Upload(t, b, x), Upload(t, b, dy), s.Params))
				CheckClose(t, "dw", Download(t, b, dw), refDW, tol.Product)
				if withBias {
					CheckClose(t, "db", Download(t, b, db), refDB, tol.Product)
				}
			}})
		}
	}
	return cases
}

// elementwiseShapes are a small odd tensor and one large enough (234,232 elements) that a
// backend splits it over threads or thread blocks.
var elementwiseShapes = [][]int{{3, 5, 7, 9}, {2, 67, 38, 46}}

func reluCases() []Case {
	var cases []Case
	for _, shape := range elementwiseShapes {
		name := tensor.Shape(shape).String()
		inputs := func() (x, dy, y *tensor.Tensor, refY, refDX []float64) {
			rng := tensor.NewRand(2)
			x, dy = RandomTensor(rng, shape...), RandomTensor(rng, shape...)
			refY = RefReLU(Float64s(x))
			refDX = RefReLUBackward(Float64s(dy), refY)
			return x, dy, f32Tensor(refY, shape...), refY, refDX
		}
		cases = append(cases,
			Case{"ReLU", name, func(t T, b kernels.Backend, _ Tolerance) {
				x, _, _, refY, _ := inputs()
				y := Poisoned(t, b, tensor.Float32, shape...)
				must(t, "ReLU", b.ReLU(y, Upload(t, b, x)))
				CheckExact(t, "y", Download(t, b, y), refY)
			}},
			Case{"ReLU", name + "_in_place", func(t T, b kernels.Backend, _ Tolerance) {
				x, _, _, refY, _ := inputs()
				xy := Upload(t, b, x)
				must(t, "ReLU", b.ReLU(xy, xy))
				CheckExact(t, "y", Download(t, b, xy), refY)
			}},
			Case{"ReLUBackward", name, func(t T, b kernels.Backend, _ Tolerance) {
				_, dy, y, _, refDX := inputs()
				dx := Poisoned(t, b, tensor.Float32, shape...)
				must(t, "ReLUBackward", b.ReLUBackward(dx, Upload(t, b, dy), Upload(t, b, y)))
				CheckExact(t, "dx", Download(t, b, dx), refDX)
			}},
			Case{"ReLUBackward", name + "_in_place", func(t T, b kernels.Backend, _ Tolerance) {
				_, dy, y, _, refDX := inputs()
				g := Upload(t, b, dy)
				must(t, "ReLUBackward", b.ReLUBackward(g, g, Upload(t, b, y)))
				CheckExact(t, "dx", Download(t, b, g), refDX)
			}},
		)
	}
	return cases
}

func maxPoolCases() []Case {
	shapes := []struct {
		name       string
		n, c, h, w int
		ties       bool
	}{
		{"random_n1_c3_6x10", 1, 3, 6, 10, false},
		{"random_n2_c67_38x46", 2, 67, 38, 46, false},
		// Values drawn from {0, 1, 2} make most windows tie; the first in row-major order wins.
		{"ties_n3_c5_10x14", 3, 5, 10, 14, true},
	}
	var cases []Case
	for i, tc := range shapes {
		outShape := []int{tc.n, tc.c, tc.h / 2, tc.w / 2}
		inputs := func() (x, dy *tensor.Tensor) {
			rng := tensor.NewRand(uint64(30 + i))
			x = RandomTensor(rng, tc.n, tc.c, tc.h, tc.w)
			if tc.ties {
				for j := range x.Float32s() {
					x.Float32s()[j] = float32(rng.IntN(3))
				}
			}
			return x, RandomTensor(rng, outShape...)
		}
		cases = append(cases,
			Case{"MaxPool2x2", tc.name, func(t T, b kernels.Backend, _ Tolerance) {
				x, _ := inputs()
				refY, refArg := RefMaxPool2x2(Float64s(x), tc.n, tc.c, tc.h, tc.w)
				y := Poisoned(t, b, tensor.Float32, outShape...)
				arg := Poisoned(t, b, tensor.Int32, outShape...)
				must(t, "MaxPool2x2", b.MaxPool2x2(y, arg, Upload(t, b, x)))
				CheckExact(t, "y", Download(t, b, y), refY)
				CheckExact(t, "argmax", Download(t, b, arg), Float64s(Int32Tensor(refArg, outShape...)))
			}},
			Case{"MaxPool2x2Backward", tc.name, func(t T, b kernels.Backend, _ Tolerance) {
				x, dy := inputs()
				_, refArg := RefMaxPool2x2(Float64s(x), tc.n, tc.c, tc.h, tc.w)
				dx := Poisoned(t, b, tensor.Float32, tc.n, tc.c, tc.h, tc.w)
				must(t, "MaxPool2x2Backward", b.MaxPool2x2Backward(dx, Upload(t, b, dy), Upload(t, b, Int32Tensor(refArg, outShape...))))
				CheckExact(t, "dx", Download(t, b, dx), RefMaxPool2x2Backward(Float64s(dy), refArg, tc.n, tc.c, tc.h, tc.w))
			}},
		)
	}
	return cases
}

// checkMask fails unless got is zero exactly where ref is: the dropout mask must be the
// very same on every backend, not merely close.
func checkMask(t T, got *tensor.Tensor, ref []float64) {
	t.Helper()
	for i, v := range got.Float32s() {
		if (v == 0) != (ref[i] == 0) {
			t.Errorf("element %d: got %v, reference %v: the dropout mask differs", i, v, ref[i])
			return
		}
	}
}

func dropoutCases() []Case {
	const seed = 0x0123456789abcdef // both halves of the key matter
	var cases []Case
	for _, p := range []float32{0, 0.1, 0.5} {
		for _, shape := range append([][]int{{1001}}, elementwiseShapes...) {
			// The backward pass is the same masked scaling applied to dy, so both directions
			// run the same checks, out of place and in place.
			for _, op := range []string{"Dropout", "DropoutBackward"} {
				cases = append(cases, Case{op, fmt.Sprintf("p%v_%v", p, tensor.Shape(shape)), func(t T, b kernels.Backend, tol Tolerance) {
					apply := b.Dropout
					if op == "DropoutBackward" {
						apply = b.DropoutBackward
					}
					x := RandomTensor(tensor.NewRand(4), shape...)
					ref := RefDropout(Float64s(x), p, seed)
					check := func(what string, out *tensor.Tensor) {
						got := Download(t, b, out)
						CheckClose(t, what, got, ref, tol.Pointwise)
						checkMask(t, got, ref)
					}
					out := Poisoned(t, b, tensor.Float32, shape...)
					must(t, op, apply(out, Upload(t, b, x), p, seed))
					check("output", out)
					inPlace := Upload(t, b, x)
					must(t, op, apply(inPlace, inPlace, p, seed))
					check("output in place", inPlace)
				}})
			}
		}
	}
	return cases
}

func linearCases() []Case {
	var cases []Case
	for i, dims := range [][3]int{{1, 7, 3}, {5, 33, 17}, {300, 517, 129}} {
		n, in, out := dims[0], dims[1], dims[2]
		name := fmt.Sprintf("n%d_in%d_out%d", n, in, out)
		inputs := func() (x, w, bias, dy *tensor.Tensor) {
			rng := tensor.NewRand(uint64(50 + i))
			x, w, bias = RandomTensor(rng, n, in), RandomTensor(rng, out, in), RandomTensor(rng, out)
			return x, w, bias, RandomTensor(rng, n, out)
		}
		cases = append(cases, Case{"Linear", name, func(t T, b kernels.Backend, tol Tolerance) {
			x, w, bias, _ := inputs()
			y := Poisoned(t, b, tensor.Float32, n, out)
			must(t, "Linear", b.Linear(y, Upload(t, b, x), Upload(t, b, w), Upload(t, b, bias)))
			CheckClose(t, "y", Download(t, b, y), RefLinear(Float64s(x), Float64s(w), Float64s(bias), n, in, out), tol.Product)
		}})
		// The first layer needs no dx and a bias-free layer no db.
		for _, all := range []bool{true, false} {
			caseName := name
			if !all {
				caseName += "_no_dx_db"
			}
			cases = append(cases, Case{"LinearBackward", caseName, func(t T, b kernels.Backend, tol Tolerance) {
				x, w, _, dy := inputs()
				refDX, refDW, refDB := RefLinearBackward(Float64s(dy), Float64s(x), Float64s(w), n, in, out)
				gw := Poisoned(t, b, tensor.Float32, out, in)
				var gx, gb *tensor.Tensor
				if all {
					gx, gb = Poisoned(t, b, tensor.Float32, n, in), Poisoned(t, b, tensor.Float32, out)
				}
				must(t, "LinearBackward", b.LinearBackward(gx, gw, gb, Upload(t, b, dy), Upload(t, b, x), Upload(t, b, w)))
				CheckClose(t, "dw", Download(t, b, gw), refDW, tol.Product)
				if all {
					CheckClose(t, "dx", Download(t, b, gx), refDX, tol.Product)
					CheckClose(t, "db", Download(t, b, gb), refDB, tol.Product)
				}
			}})
		}
	}
	return cases
}

// softmaxCase is a batch of logits with labels that include both the first and last class.
func softmaxCase(seed uint64, n, classes int, scale float64) (*tensor.Tensor, []int32) {
	rng := tensor.NewRand(seed)
	logits := tensor.Zeros(n, classes)
	logits.FillNormal(rng, 0, scale)
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = int32(rng.IntN(classes))
	}
	labels[0], labels[n-1] = 0, int32(classes-1)
	return logits, labels
}

func lossCases() []Case {
	const n, classes = 6, 11
	var cases []Case
	for _, scale := range []float64{3, 1e4} {
		// At scale 1e4 exp(logit) overflows float32 (and float64) unless computed via
		// log-sum-exp.
		name := fmt.Sprintf("logit_scale_%g", scale)
		cases = append(cases,
			Case{"SoftmaxCrossEntropy", name, func(t T, b kernels.Backend, tol Tolerance) {
				logits, labels := softmaxCase(7, n, classes, scale)
				refProbs, refLoss := RefSoftmaxCrossEntropy(Float64s(logits), labels, n, classes)
				probs := Poisoned(t, b, tensor.Float32, n, classes)
				loss := Poisoned(t, b, tensor.Float32, n)
				must(t, "SoftmaxCrossEntropy", b.SoftmaxCrossEntropy(probs, loss, Upload(t, b, logits), Upload(t, b, Int32Tensor(labels, n))))
				CheckClose(t, "probs", Download(t, b, probs), refProbs, tol.Pointwise)
				CheckClose(t, "loss", Download(t, b, loss), refLoss, tol.Pointwise)
			}},
			Case{"SoftmaxCrossEntropyBackward", name, func(t T, b kernels.Backend, tol Tolerance) {
				// From the reference probabilities rounded to float32, so only this op's
				// error is measured.
				logits, labels := softmaxCase(7, n, classes, scale)
				refProbs, _ := RefSoftmaxCrossEntropy(Float64s(logits), labels, n, classes)
				probs := f32Tensor(refProbs, n, classes)
				dlogits := Poisoned(t, b, tensor.Float32, n, classes)
				must(t, "SoftmaxCrossEntropyBackward", b.SoftmaxCrossEntropyBackward(dlogits, Upload(t, b, probs), Upload(t, b, Int32Tensor(labels, n))))
				CheckClose(t, "dlogits", Download(t, b, dlogits), RefSoftmaxCrossEntropyBackward(Float64s(probs), labels, n, classes), tol.Pointwise)
			}},
		)
	}
	cases = append(cases, Case{"AccumulateStats", "two_batches", testAccumulateStats})
	return cases
}

func testAccumulateStats(t T, b kernels.Backend, tol Tolerance) {
	const n, classes = 9, 5
	logits, labels := softmaxCase(8, n, classes, 2)
	lr := Float64s(logits)
	// Make every third prediction right (label = the row's argmax), so the count of correct
	// samples is neither 0 nor n.
	for i := 0; i < n; i += 3 {
		best := 0
		for c := 1; c < classes; c++ {
			if lr[i*classes+c] > lr[i*classes+best] {
				best = c
			}
		}
		labels[i] = int32(best)
	}
	probs, loss := RefSoftmaxCrossEntropy(lr, labels, n, classes)
	// A row of equal probabilities: ties go to the first class, which is this sample's label.
	labels[0] = 0
	for c := 0; c < classes; c++ {
		probs[c] = 1 / float64(classes)
	}
	probsHost, lossHost := f32Tensor(probs, n, classes), f32Tensor(loss, n)
	start := []float64{1.5, 2, 3} // stats carried over from earlier batches
	stats := Upload(t, b, f32Tensor(start, 3))
	dLoss, dProbs, dLabels := Upload(t, b, lossHost), Upload(t, b, probsHost), Upload(t, b, Int32Tensor(labels, n))
	must(t, "AccumulateStats", b.AccumulateStats(stats, dLoss, dProbs, dLabels))
	must(t, "AccumulateStats", b.AccumulateStats(stats, dLoss, dProbs, dLabels))
	want := start
	for range 2 {
		want = RefAccumulateStats(want, Float64s(lossHost), Float64s(probsHost), labels, classes)
	}
	got := Download(t, b, stats)
	CheckClose(t, "stats[0] (loss sum)", sliceTensor(got, 0, 1), want[:1], tol.Pointwise)
	CheckExact(t, "stats[1:] (correct, count)", sliceTensor(got, 1, 3), want[1:])
}

// f32Tensor rounds float64 values to a float32 host tensor of the given shape (a vector when
// none is given).
func f32Tensor(v []float64, shape ...int) *tensor.Tensor {
	if len(shape) == 0 {
		shape = []int{len(v)}
	}
	h := tensor.Zeros(shape...)
	for i, x := range v {
		h.Float32s()[i] = float32(x)
	}
	return h
}

// sliceTensor returns elements [lo, hi) of a float32 host tensor as a new host tensor.
func sliceTensor(t *tensor.Tensor, lo, hi int) *tensor.Tensor {
	s, _ := tensor.FromFloat32(append([]float32(nil), t.Float32s()[lo:hi]...), hi-lo)
	return s
}
