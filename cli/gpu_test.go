package cli

import (
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/kerneltest"
)

// TestPrintConformanceNamesEveryOp prints the report of a GPU backend without batch norm: every
// op gets its line, the missing ones say so, and the summary counts and names them.
func TestPrintConformanceNamesEveryOp(t *testing.T) {
	r := kerneltest.Report{Backend: "cuda", Memory: kerneltest.OpReport{Op: kerneltest.MemoryOp, Cases: 1}}
	for _, op := range kernels.Ops {
		o := kerneltest.OpReport{Op: op, Cases: 3, WorstRelErr: 1e-7}
		if strings.HasPrefix(op, "BatchNorm") {
			o.Missing, o.Why = true, "cuda "+op+": batch normalisation has no GPU kernel yet"
		}
		r.Ops = append(r.Ops, o)
	}
	var out strings.Builder
	printConformance(&out, r)
	text := out.String()
	for _, op := range append([]string{kerneltest.MemoryOp}, kernels.Ops...) {
		if !strings.Contains(text, "\n"+op+" ") {
			t.Errorf("no line for %s in\n%s", op, text)
		}
	}
	if strings.Count(text, "MISSING") != 3 {
		t.Errorf("want the three batch-norm ops marked MISSING in\n%s", text)
	}
	want := "16 of 19 ops agree; missing on cuda: BatchNormTrain, BatchNormEval, BatchNormBackward\n"
	if !strings.HasSuffix(text, want) {
		t.Errorf("output ends\n%s\nwant the summary %q", text[max(0, len(text)-200):], want)
	}
	if !r.OK() {
		t.Error("missing ops made the report fail")
	}
}
