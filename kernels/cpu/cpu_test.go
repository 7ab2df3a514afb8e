package cpu

import (
	"math"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/sgemm"
	"github.com/vgglab/vgg/kernels/kerneltest"
	"github.com/vgglab/vgg/tensor"
)

// testBackend makes one of the CPU backends the tests run on.
type testBackend struct {
	name string
	make func() *Backend
}

// testBackends are cpu-gonum and cpu with each micro-kernel this machine can run (the
// plain-Go one always, assembly ones where the CPU has the instructions).
func testBackends() []testBackend {
	tbs := []testBackend{{"cpu-gonum", NewGonum}}
	for _, v := range sgemm.Variants() {
		tbs = append(tbs, testBackend{"cpu/" + v.Name, func() *Backend { return newWithVariant(v) }})
	}
	return tbs
}

func TestConformance(t *testing.T) {
	for _, tb := range testBackends() {
		t.Run(tb.name, func(t *testing.T) {
			r := kerneltest.Conformance(t, tb.make(), kerneltest.DefaultTolerance())
			if m := r.Missing(); len(m) > 0 {
				t.Errorf("the reference backend must have every op; missing: %v", m)
			}
		})
	}
}

func TestRegistered(t *testing.T) {
	for _, name := range []string{"cpu", "cpu-gonum"} {
		b, err := kernels.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		if b.Name() != name {
			t.Errorf("Open(%q) gave backend %q", name, b.Name())
		}
		t.Log(b.Describe())
	}
	if want := "sgemm with " + sgemm.Default().Describe(); New().gemmName != want {
		t.Errorf("cpu backend runs %q, want %q", New().gemmName, want)
	}
}

// The products of cpu and cpu-gonum are summed in different orders, so they agree to
// rounding, not bit for bit.
func TestSgemmBackendsAgree(t *testing.T) {
	want := runOps(t, NewGonum())
	for _, tb := range testBackends()[1:] {
		got := runOps(t, tb.make())
		for i := range want {
			var scale float64
			for _, v := range want[i] {
				scale = max(scale, math.Abs(float64(v)))
			}
			for j := range want[i] {
				if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-4*scale {
					t.Fatalf("%s: output %d element %d is %v, cpu-gonum gives %v", tb.name, i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}

// runOps runs a forward and backward pass of a convolution, a linear layer, dropout, batch
// norm, ReLU and max-pool on fixed random inputs and returns every output, for bit-for-bit
// comparison.
func runOps(t *testing.T, be *Backend) [][]float32 {
	rng := tensor.NewRand(9)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	var outs [][]float32
	// Batch 5 of 24x24 images: lowered, the convolution runs in more than one image group;
	// with 20 filters of 9 channels it runs on the direct kernels; on 7 images of 27x26 the
	// direct weight gradient sums two parts of the batch.
	for _, s := range []kerneltest.ConvShape{
		{N: 5, C: 6, H: 24, W: 24, K: 70, Params: kernels.Conv3x3},
		{N: 5, C: 9, H: 24, W: 24, K: 20, Params: kernels.Conv3x3},
		{N: 7, C: 9, H: 27, W: 26, K: 20, Params: kernels.Conv3x3},
	} {
		x, w := kerneltest.RandomTensor(rng, s.XShape()...), kerneltest.RandomTensor(rng, s.WShape()...)
		bias, dy := kerneltest.RandomTensor(rng, s.K), kerneltest.RandomTensor(rng, s.YShape()...)
		y, dx := tensor.Zeros(s.YShape()...), tensor.Zeros(s.XShape()...)
		dw, db := tensor.Zeros(s.WShape()...), tensor.Zeros(s.K)
		must(be.Conv2D(y, x, w, bias, s.Params))
		must(be.Conv2DBackwardData(dx, dy, w, s.Params))
		must(be.Conv2DBackwardFilter(dw, db, x, dy, s.Params))
		for _, o := range []*tensor.Tensor{y, dx, dw, db} {
			outs = append(outs, o.Float32s())
		}
	}

	const n, in, out = 9, 700, 300
	lx, lw := kerneltest.RandomTensor(rng, n, in), kerneltest.RandomTensor(rng, out, in)
	lb, ldy := kerneltest.RandomTensor(rng, out), kerneltest.RandomTensor(rng, n, out)
	ly, ldx, ldw, ldb := tensor.Zeros(n, out), tensor.Zeros(n, in), tensor.Zeros(out, in), tensor.Zeros(out)
	must(be.Linear(ly, lx, lw, lb))
	must(be.LinearBackward(ldx, ldw, ldb, ldy, lx, lw))

	drop := tensor.Zeros(3, 100000)
	must(be.Dropout(drop, kerneltest.RandomTensor(rng, 3, 100000), 0.5, 7))

	for _, o := range []*tensor.Tensor{ly, ldx, ldw, ldb, drop} {
		outs = append(outs, o.Float32s())
	}

	// Batch norm, ReLU and max-pool on 5 images of 13 channels of 64x64 (planes split unevenly
	// over the workers, enough elements for every worker), a non-zero mean as after a layer.
	shape := []int{5, 13, 64, 64}
	bx, bdy := kerneltest.RandomTensor(rng, shape...), kerneltest.RandomTensor(rng, shape...)
	for i := range bx.Float32s() {
		bx.Float32s()[i] += 3
	}
	gamma, beta := kerneltest.RandomTensor(rng, 13), kerneltest.RandomTensor(rng, 13)
	runMean, runVar := tensor.Zeros(13), tensor.Zeros(13)
	saveMean, saveInvStd := tensor.Zeros(13), tensor.Zeros(13)
	by, bdx, dgamma, dbeta, eval := tensor.Zeros(shape...), tensor.Zeros(shape...), tensor.Zeros(13), tensor.Zeros(13), tensor.Zeros(shape...)
	must(be.BatchNormTrain(by, saveMean, saveInvStd, runMean, runVar, bx, gamma, beta, 0.1, 1e-5))
	must(be.BatchNormBackward(bdx, dgamma, dbeta, bdy, bx, gamma, saveMean, saveInvStd))
	must(be.BatchNormEval(eval, bx, gamma, beta, runMean, runVar, 1e-5))
	relu, reluGrad := tensor.Zeros(shape...), tensor.Zeros(shape...)
	must(be.ReLU(relu, by))
	must(be.ReLUBackward(reluGrad, bdy, relu))
	pooled, argmax, unpooled := tensor.Zeros(5, 13, 32, 32), tensor.New(tensor.Int32, 5, 13, 32, 32), tensor.Zeros(shape...)
	must(be.MaxPool2x2(pooled, argmax, bx))
	must(be.MaxPool2x2Backward(unpooled, pooled, argmax))
	for _, o := range []*tensor.Tensor{by, saveMean, saveInvStd, runMean, runVar, bdx, dgamma, dbeta, eval, relu, reluGrad, pooled, unpooled} {
		outs = append(outs, o.Float32s())
	}
	return outs
}

// Training resumes must replay exactly, so results may not depend on how many workers run
// them: one, two and three workers (an uneven split) must agree bit for bit. The worker
// count is set directly, so the comparison runs on a machine with one core too.
func TestDeterministicAcrossThreadCounts(t *testing.T) {
	for _, tb := range testBackends() {
		run := func(workers int) [][]float32 {
			be := tb.make()
			be.workers = workers
			return runOps(t, be)
		}
		serial := run(1)
		for _, workers := range []int{2, 3} {
			parallel := run(workers)
			for i := range parallel {
				for j := range parallel[i] {
					if math.Float32bits(parallel[i][j]) != math.Float32bits(serial[i][j]) {
						t.Fatalf("%s: output %d element %d: %v with %d workers, %v with one", tb.name, i, j, parallel[i][j], workers, serial[i][j])
					}
				}
			}
		}
	}
}

// Bad arguments that are not shape mismatches must also come back as errors, not panics.
func TestInvalidArguments(t *testing.T) {
	be := New()
	f := tensor.Zeros
	labels := func(v ...int32) *tensor.Tensor { return kerneltest.Int32Tensor(v, len(v)) }
	conv := kernels.Conv3x3
	cases := []struct {
		name string
		call func() error
	}{
		{"conv window", func() error {
			return be.Conv2D(f(1, 1, 3, 3), f(1, 1, 3, 3), f(1, 1, 0, 3), f(1), kernels.ConvParams{KernelW: 3, StrideH: 1, StrideW: 1})
		}},
		{"conv input smaller than window", func() error {
			return be.Conv2D(f(1, 1, 1, 1), f(1, 1, 2, 2), f(1, 1, 5, 5), f(1), kernels.ConvParams{KernelH: 5, KernelW: 5, StrideH: 1, StrideW: 1})
		}},
		{"conv int32 input", func() error {
			return be.Conv2D(f(1, 1, 3, 3), tensor.New(tensor.Int32, 1, 1, 3, 3), f(1, 1, 3, 3), f(1), conv)
		}},
		{"conv missing bias", func() error { return be.Conv2D(f(1, 1, 3, 3), f(1, 1, 3, 3), f(1, 1, 3, 3), nil, conv) }},
		{"maxpool odd width", func() error { return be.MaxPool2x2(f(1, 1, 2, 2), tensor.New(tensor.Int32, 1, 1, 2, 2), f(1, 1, 4, 5)) }},
		{"maxpool argmax outside window", func() error {
			arg := kerneltest.Int32Tensor([]int32{5}, 1, 1, 1, 1)
			return be.MaxPool2x2Backward(f(1, 1, 2, 2), f(1, 1, 1, 1), arg)
		}},
		{"dropout p = 1", func() error { return be.Dropout(f(4), f(4), 1, 0) }},
		{"dropout p < 0", func() error { return be.DropoutBackward(f(4), f(4), -0.1, 0) }},
		{"label too large", func() error { return be.SoftmaxCrossEntropy(f(2, 3), f(2), f(2, 3), labels(0, 3)) }},
		{"negative label", func() error { return be.SoftmaxCrossEntropyBackward(f(2, 3), f(2, 3), labels(-1, 0)) }},
		{"float labels", func() error { return be.AccumulateStats(f(3), f(2), f(2, 3), f(2)) }},
		{"adam step 0", func() error { return be.Adam(f(2), f(2), f(2), f(2), kernels.AdamConfig{LR: 1}, 0) }},
		{"copy sizes", func() error { return be.Copy(f(3), f(4)) }},
		{"upload types", func() error { return be.Upload(f(3), tensor.New(tensor.Int32, 3)) }},
		{"alloc negative", func() error { _, err := be.Alloc(tensor.Float32, 2, -1); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			func() {
				defer func() {
					if r := recover(); r != nil {
						t.Fatalf("panicked: %v", r)
					}
				}()
				err = tc.call()
			}()
			if err == nil {
				t.Fatal("no error")
			}
			t.Log(err)
		})
	}
}

// Conv2DBackward gives bit for bit what Conv2DBackwardData and Conv2DBackwardFilter give, on
// the direct kernels (dy's planes shared) and lowered, with and without a bias gradient.
func TestConv2DBackwardMatchesTheTwoOps(t *testing.T) {
	var _ kernels.ConvBackward = (*Backend)(nil)
	for _, tb := range testBackends() {
		for _, s := range []kerneltest.ConvShape{
			{N: 3, C: 9, H: 10, W: 6, K: 20, Params: kernels.Conv3x3},
			{N: 2, C: 5, H: 4, W: 4, K: 70, Params: kernels.Conv3x3},
			{N: 2, C: 4, H: 13, W: 10, K: 6, Params: kernels.ConvParams{KernelH: 3, KernelW: 3, StrideH: 2, StrideW: 2, PadH: 1, PadW: 1}},
		} {
			for _, withBias := range []bool{true, false} {
				be := tb.make()
				rng := tensor.NewRand(11)
				x, w := kerneltest.RandomTensor(rng, s.XShape()...), kerneltest.RandomTensor(rng, s.WShape()...)
				dy := kerneltest.RandomTensor(rng, s.YShape()...)
				grads := func() (dx, dw, db *tensor.Tensor) {
					dx, dw = tensor.Zeros(s.XShape()...), tensor.Zeros(s.WShape()...)
					if withBias {
						db = tensor.Zeros(s.K)
					}
					return dx, dw, db
				}
				dx1, dw1, db1 := grads()
				if err := be.Conv2DBackwardData(dx1, dy, w, s.Params); err != nil {
					t.Fatal(err)
				}
				if err := be.Conv2DBackwardFilter(dw1, db1, x, dy, s.Params); err != nil {
					t.Fatal(err)
				}
				dx2, dw2, db2 := grads()
				if err := be.Conv2DBackward(dx2, dw2, db2, x, dy, w, s.Params); err != nil {
					t.Fatal(err)
				}
				pairs := [][2]*tensor.Tensor{{dx1, dx2}, {dw1, dw2}}
				if withBias {
					pairs = append(pairs, [2]*tensor.Tensor{db1, db2})
				}
				for i, p := range pairs {
					a, b := p[0].Float32s(), p[1].Float32s()
					for j := range a {
						if math.Float32bits(a[j]) != math.Float32bits(b[j]) {
							t.Fatalf("%s %v: output %d element %d: %v from the two ops, %v from Conv2DBackward", tb.name, s, i, j, a[j], b[j])
						}
					}
				}
			}
		}
	}
}
