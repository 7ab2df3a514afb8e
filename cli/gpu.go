package cli

import (
	"fmt"
	"math"
	"math/rand/v2"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/vgglab/vgg/kernels"
	_ "github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/tensor"
)

func init() {
	addCommand(&cli.Command{
		Name:  "gpu",
		Usage: "describe the GPU and check every GPU op against the CPU",
		Description: "Prints the GPU's name, memory, compute capability and driver version, then runs " +
			"each op of the network on small random inputs on both the GPU and the CPU and prints " +
			"the largest relative difference per op. Fails when the build has no GPU support or an " +
			"op disagrees.",
		Action: runGPU,
	})
}

func runGPU(c *cli.Context) error {
	gpu, err := kernels.Open("cuda")
	if err != nil {
		return err
	}
	defer gpu.Close()
	cpu, err := kernels.Open("cpu")
	if err != nil {
		return err
	}
	defer cpu.Close()
	out := c.App.Writer
	fmt.Fprintf(out, "GPU: %s\n\n", gpu.Describe())

	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "op\tmax relative error\tlimit\tresult")
	failed := 0
	for _, sc := range selfChecks {
		worst, err := sc.compare(cpu, gpu)
		result := "ok"
		switch {
		case err != nil:
			result = "ERROR: " + err.Error()
			failed++
		case !(worst <= sc.limit): // NaN fails too
			result = "FAIL"
			failed++
		}
		fmt.Fprintf(tw, "%s\t%.2e\t%.0e\t%s\n", sc.op, worst, sc.limit, result)
	}
	tw.Flush()
	if failed > 0 {
		return fmt.Errorf("gpu: %d of %d ops disagree with the CPU", failed, len(selfChecks))
	}
	fmt.Fprintf(out, "\nall %d ops agree with the CPU\n", len(selfChecks))
	return nil
}

// selfCheck runs one op on a backend with inputs drawn from a fixed seed, so that both
// backends see the same numbers, and returns its outputs on the host.
type selfCheck struct {
	op    string
	limit float64 // largest acceptable max|gpu-cpu| / max|cpu| over each output
	run   func(r *checkRun)
}

// compare runs the check on both backends and returns the worst relative difference.
func (sc selfCheck) compare(cpu, gpu kernels.Backend) (float64, error) {
	var outs [2][]*tensor.Tensor
	for i, b := range []kernels.Backend{cpu, gpu} {
		r := &checkRun{b: b, rng: tensor.NewRand(11)}
		sc.run(r)
		if r.err != nil {
			return math.NaN(), fmt.Errorf("%s: %w", b.Name(), r.err)
		}
		outs[i] = r.results
	}
	worst := 0.0
	for i := range outs[0] {
		worst = math.Max(worst, maxRelDiff(asFloat64(outs[0][i]), asFloat64(outs[1][i])))
		if math.IsNaN(worst) {
			break
		}
	}
	return worst, nil
}

// maxRelDiff is max|got-ref| over max|ref| (NaN when got has a NaN).
func maxRelDiff(ref, got []float64) float64 {
	diff, scale := 0.0, 1e-30
	for i := range ref {
		d := math.Abs(got[i] - ref[i])
		if math.IsNaN(d) {
			return math.NaN()
		}
		diff = math.Max(diff, d)
		scale = math.Max(scale, math.Abs(ref[i]))
	}
	return diff / scale
}

func asFloat64(t *tensor.Tensor) []float64 {
	v := make([]float64, t.Numel())
	if t.DType() == tensor.Int32 {
		for i, x := range t.Int32s() {
			v[i] = float64(x)
		}
		return v
	}
	for i, x := range t.Float32s() {
		v[i] = float64(x)
	}
	return v
}

// checkRun makes tensors on one backend and keeps the first error, so a check reads as a
// plain sequence of ops.
type checkRun struct {
	b       kernels.Backend
	rng     *rand.Rand
	err     error
	results []*tensor.Tensor
}

func (r *checkRun) do(err error) {
	if r.err == nil {
		r.err = err
	}
}

// random is a backend tensor of N(0,1) draws.
func (r *checkRun) random(shape ...int) *tensor.Tensor {
	host := tensor.Zeros(shape...)
	host.FillNormal(r.rng, 0, 1)
	return r.upload(host)
}

func (r *checkRun) upload(host *tensor.Tensor) *tensor.Tensor {
	t := r.alloc(host.DType(), host.Shape()...)
	if t != nil {
		r.do(r.b.Upload(t, host))
	}
	return t
}

// alloc is an output tensor, NaN-filled so that unwritten elements show.
func (r *checkRun) alloc(dtype tensor.DType, shape ...int) *tensor.Tensor {
	t, err := r.b.Alloc(dtype, shape...)
	r.do(err)
	if err == nil && dtype == tensor.Float32 {
		r.do(r.b.Fill(t, float32(math.NaN())))
	}
	return t
}

func (r *checkRun) labels(n, classes int) *tensor.Tensor {
	host := tensor.New(tensor.Int32, n)
	for i := range host.Int32s() {
		host.Int32s()[i] = int32(r.rng.IntN(classes))
	}
	return r.upload(host)
}

// keep downloads outputs for comparison.
func (r *checkRun) keep(ts ...*tensor.Tensor) {
	for _, t := range ts {
		if r.err != nil {
			return
		}
		host := tensor.New(t.DType(), t.Shape()...)
		r.do(r.b.Download(host, t))
		r.results = append(r.results, host)
	}
}

// The checks use odd sizes so that partial tiles and vector tails are exercised.
var selfChecks = []selfCheck{
	{"Conv2D", 1e-5, func(r *checkRun) {
		x, w, b := r.random(2, 5, 13, 11), r.random(7, 5, 3, 3), r.random(7)
		y := r.alloc(tensor.Float32, 2, 7, 13, 11)
		r.do(r.b.Conv2D(y, x, w, b, kernels.Conv3x3))
		strided := kernels.ConvParams{KernelH: 3, KernelW: 2, StrideH: 2, StrideW: 1, PadH: 1}
		w2 := r.random(4, 5, 3, 2)
		y2 := r.alloc(tensor.Float32, 2, 4, 7, 10)
		r.do(r.b.Conv2D(y2, x, w2, r.random(4), strided))
		r.keep(y, y2)
	}},
	{"Conv2DBackwardData", 1e-5, func(r *checkRun) {
		dy, w := r.random(2, 7, 13, 11), r.random(7, 5, 3, 3)
		dx := r.alloc(tensor.Float32, 2, 5, 13, 11)
		r.do(r.b.Conv2DBackwardData(dx, dy, w, kernels.Conv3x3))
		r.keep(dx)
	}},
	{"Conv2DBackwardFilter", 1e-5, func(r *checkRun) {
		x, dy := r.random(2, 5, 13, 11), r.random(2, 7, 13, 11)
		dw, db := r.alloc(tensor.Float32, 7, 5, 3, 3), r.alloc(tensor.Float32, 7)
		r.do(r.b.Conv2DBackwardFilter(dw, db, x, dy, kernels.Conv3x3))
		r.keep(dw, db)
	}},
	{"ReLU", 0, func(r *checkRun) {
		x := r.random(3, 5, 7, 9)
		y := r.alloc(tensor.Float32, 3, 5, 7, 9)
		r.do(r.b.ReLU(y, x))
		r.keep(y)
	}},
	{"ReLUBackward", 0, func(r *checkRun) {
		dy, y := r.random(3, 5, 7, 9), r.random(3, 5, 7, 9)
		dx := r.alloc(tensor.Float32, 3, 5, 7, 9)
		r.do(r.b.ReLUBackward(dx, dy, y))
		r.keep(dx)
	}},
	{"MaxPool2x2", 0, func(r *checkRun) {
		x := r.random(3, 5, 6, 10)
		y, arg := r.alloc(tensor.Float32, 3, 5, 3, 5), r.alloc(tensor.Int32, 3, 5, 3, 5)
		r.do(r.b.MaxPool2x2(y, arg, x))
		r.keep(y, arg)
	}},
	{"MaxPool2x2Backward", 0, func(r *checkRun) {
		x, dy := r.random(3, 5, 6, 10), r.random(3, 5, 3, 5)
		y, arg := r.alloc(tensor.Float32, 3, 5, 3, 5), r.alloc(tensor.Int32, 3, 5, 3, 5)
		dx := r.alloc(tensor.Float32, 3, 5, 6, 10)
		r.do(r.b.MaxPool2x2(y, arg, x))
		r.do(r.b.MaxPool2x2Backward(dx, dy, arg))
		r.keep(dx)
	}},
	{"Dropout", 0, func(r *checkRun) {
		x := r.random(7, 1001)
		y := r.alloc(tensor.Float32, 7, 1001)
		r.do(r.b.Dropout(y, x, 0.5, 0xfeedface))
		r.keep(y)
	}},
	{"DropoutBackward", 0, func(r *checkRun) {
		dy := r.random(7, 1001)
		dx := r.alloc(tensor.Float32, 7, 1001)
		r.do(r.b.DropoutBackward(dx, dy, 0.3, 77))
		r.keep(dx)
	}},
	{"Linear", 1e-5, func(r *checkRun) {
		x, w, b := r.random(5, 300), r.random(131, 300), r.random(131)
		y := r.alloc(tensor.Float32, 5, 131)
		r.do(r.b.Linear(y, x, w, b))
		r.keep(y)
	}},
	{"LinearBackward", 1e-5, func(r *checkRun) {
		x, w, dy := r.random(5, 300), r.random(131, 300), r.random(5, 131)
		dx, dw, db := r.alloc(tensor.Float32, 5, 300), r.alloc(tensor.Float32, 131, 300), r.alloc(tensor.Float32, 131)
		r.do(r.b.LinearBackward(dx, dw, db, dy, x, w))
		r.keep(dx, dw, db)
	}},
	{"SoftmaxCrossEntropy", 1e-5, func(r *checkRun) {
		logits, labels := r.random(9, 61), r.labels(9, 61)
		probs, loss := r.alloc(tensor.Float32, 9, 61), r.alloc(tensor.Float32, 9)
		r.do(r.b.SoftmaxCrossEntropy(probs, loss, logits, labels))
		r.keep(probs, loss)
	}},
	{"SoftmaxCrossEntropyBackward", 1e-5, func(r *checkRun) {
		logits, labels := r.random(9, 61), r.labels(9, 61)
		probs, loss := r.alloc(tensor.Float32, 9, 61), r.alloc(tensor.Float32, 9)
		dlogits := r.alloc(tensor.Float32, 9, 61)
		r.do(r.b.SoftmaxCrossEntropy(probs, loss, logits, labels))
		r.do(r.b.SoftmaxCrossEntropyBackward(dlogits, probs, labels))
		r.keep(dlogits)
	}},
	{"AccumulateStats", 1e-5, func(r *checkRun) {
		logits, labels := r.random(9, 61), r.labels(9, 61)
		probs, loss := r.alloc(tensor.Float32, 9, 61), r.alloc(tensor.Float32, 9)
		stats := r.alloc(tensor.Float32, 3)
		r.do(r.b.Fill(stats, 1))
		r.do(r.b.SoftmaxCrossEntropy(probs, loss, logits, labels))
		r.do(r.b.AccumulateStats(stats, loss, probs, labels))
		r.keep(stats)
	}},
	{"SGD", 1e-6, func(r *checkRun) {
		p, g, v := r.random(1001), r.random(1001), r.random(1001)
		r.do(r.b.SGD(p, g, v, kernels.SGDConfig{LR: 0.1, Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true}))
		r.keep(p, v)
	}},
	{"Adam", 1e-6, func(r *checkRun) {
		p, g, m, v := r.random(1001), r.random(1001), r.random(1001), r.random(1001)
		r.do(r.b.Fill(v, 0.5))
		r.do(r.b.Adam(p, g, m, v, kernels.AdamConfig{LR: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.01, Decoupled: true}, 3))
		r.keep(p, m, v)
	}},
}
