package cli

import (
	"testing"

	"github.com/vgglab/vgg/kernels"
)

// TestSelfChecksRunOnCPU runs every `vgg gpu` check with the CPU backend on both sides: each
// must run without a shape error and agree with itself exactly, so that on a GPU machine a
// difference can only come from the GPU.
func TestSelfChecksRunOnCPU(t *testing.T) {
	cpu, err := kernels.Open("cpu")
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range selfChecks {
		worst, err := sc.compare(cpu, cpu)
		if err != nil {
			t.Errorf("%s: %v", sc.op, err)
		} else if worst != 0 {
			t.Errorf("%s: the CPU differs from itself by %g", sc.op, worst)
		}
	}
}
