package kerneltest_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu"
	"github.com/vgglab/vgg/kernels/kerneltest"
	"github.com/vgglab/vgg/tensor"
)

// lacking is the CPU backend without BatchNormEval: it refuses the op the way a backend
// without a kernel must, with an error wrapping kernels.ErrNotImplemented, after the op's
// rule (as the cuda batch-norm stubs do).
type lacking struct{ kernels.Backend }

func (l lacking) BatchNormEval(y, x, gamma, beta, runMean, runVar *tensor.Tensor, eps float32) error {
	if _, err := kernels.CheckBatchNormEval(y, x, gamma, beta, runMean, runVar, eps); err != nil {
		return err
	}
	return fmt.Errorf("fake BatchNormEval: %w", kernels.ErrNotImplemented)
}

// wrongReLU also lacks BatchNormEval, and its ReLU copies x unchanged.
type wrongReLU struct{ lacking }

func (w wrongReLU) ReLU(y, x *tensor.Tensor) error { return w.Copy(y, x) }

// firstCaseOfEachOp is a quick part of the table that still covers every op: the first case
// of each, the smallest shapes.
func firstCaseOfEachOp() []kerneltest.Case {
	var cases []kerneltest.Case
	seen := map[string]bool{}
	for _, c := range kerneltest.Cases() {
		if !seen[c.Op] {
			seen[c.Op] = true
			cases = append(cases, c)
		}
	}
	return cases
}

// TestRunReportsMissingAndFailingOps runs the table as `vgg gpu` does (the first case of each
// op, for speed) on a backend that lacks one op and gets another wrong: the first is reported
// missing, the second failing, and the other 17 agree.
func TestRunReportsMissingAndFailingOps(t *testing.T) {
	r := kerneltest.RunCases(wrongReLU{lacking{cpu.New()}}, kerneltest.DefaultTolerance(), firstCaseOfEachOp())
	if got := r.Missing(); !slices.Equal(got, []string{"BatchNormEval"}) {
		t.Errorf("missing ops %v, want [BatchNormEval]", got)
	}
	if got := r.Failing(); !slices.Equal(got, []string{"ReLU"}) {
		t.Errorf("failing ops %v, want [ReLU]", got)
	}
	if got := len(r.Agreeing()); got != len(kernels.Ops)-2 {
		t.Errorf("%d ops agree, want %d: %v", got, len(kernels.Ops)-2, r.Agreeing())
	}
	want := "17 of 19 ops agree; failing on cpu: ReLU; missing on cpu: BatchNormEval"
	if got := r.Summary(); got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
	if r.OK() {
		t.Error("OK() with a failing op")
	}
	for _, o := range append([]kerneltest.OpReport{r.Memory}, r.Ops...) {
		if o.Cases == 0 {
			t.Errorf("%s: no case covers it", o.Op)
		}
		if o.Op == "BatchNormEval" && (!o.Missing || o.Why == "") {
			t.Errorf("BatchNormEval: %+v, want missing with the reason", o)
		}
	}
}

// TestConformanceReportsMissingOp runs the suite under go test on a backend that lacks one op:
// that op's cases are skipped as MISSING (the others still pass, the bad-argument cases of
// the missing op too, since its rule runs) and the report names it. The first case of each
// op, for speed, and every case of the missing op.
func TestConformanceReportsMissingOp(t *testing.T) {
	cases := firstCaseOfEachOp()
	for _, c := range kerneltest.Cases() {
		if c.Op == "BatchNormEval" {
			cases = append(cases, c)
		}
	}
	var r kerneltest.Report
	t.Run("lacking", func(t *testing.T) {
		r = kerneltest.ConformanceCases(t, lacking{cpu.New()}, kerneltest.DefaultTolerance(), cases)
	})
	if got := r.Missing(); !slices.Equal(got, []string{"BatchNormEval"}) {
		t.Errorf("missing ops %v, want [BatchNormEval]", got)
	}
	if want := "18 of 19 ops agree; missing on cpu: BatchNormEval"; r.Summary() != want {
		t.Errorf("summary %q, want %q", r.Summary(), want)
	}
	if !r.OK() {
		t.Errorf("a missing op is not a failure: %s", r.Summary())
	}
}

// TestEveryOpHasCases keeps the table complete: every op of the contract has cases that run
// it and a case that gives it a bad argument.
func TestEveryOpHasCases(t *testing.T) {
	run, refused := map[string]bool{}, map[string]bool{}
	for _, c := range kerneltest.Cases() {
		if c.Op != kerneltest.MemoryOp && !slices.Contains(kernels.Ops, c.Op) {
			t.Errorf("case %s/%s covers %q, which is not an op of the contract", c.Op, c.Name, c.Op)
		}
		if len(c.Name) > 4 && c.Name[:4] == "bad_" {
			refused[c.Op] = true
		} else {
			run[c.Op] = true
		}
	}
	for _, op := range kernels.Ops {
		if !run[op] || !refused[op] {
			t.Errorf("%s: cases that run it %v, a bad-argument case %v", op, run[op], refused[op])
		}
	}
}
