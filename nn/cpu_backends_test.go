package nn

import (
	"math"
	"testing"

	"github.com/vgglab/vgg/kernels"
)

// One training step of a small VGG-D on cpu (the packed SGEMM and the direct convolutions)
// and on cpu-gonum (gonum's Sgemm) gives the same loss and the same weight updates to float32
// rounding: the two sum their products in different orders, nothing more.
func TestCPUBackendsAgreeOnATrainingStep(t *testing.T) {
	type result struct {
		loss          float64
		before, after [][]float32
	}
	run := func(name string) result {
		b, err := kernels.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		cfg := tinyConfig(4)
		m, err := New(b, cfg, 21)
		if err != nil {
			t.Fatal(err)
		}
		tr, err := NewTrainer(m, OptimizerConfig{Kind: "sgd", Momentum: 0.9}, Schedule{Kind: "constant", LR: 0.05})
		if err != nil {
			t.Fatal(err)
		}
		x, labels := randomBatch(t, b, cfg, 8, 22)
		before := paramBits(t, b, m)
		if err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		s, err := tr.ReadTrainStats()
		if err != nil {
			t.Fatal(err)
		}
		return result{s.Loss, before, paramBits(t, b, m)}
	}
	fast, ref := run("cpu"), run("cpu-gonum")
	if math.Abs(fast.loss-ref.loss) > 1e-5*math.Abs(ref.loss) {
		t.Errorf("loss %v on cpu, %v on cpu-gonum", fast.loss, ref.loss)
	}
	for i := range ref.after {
		// Compare the updates, step = after - before, as vectors: the norm of the difference
		// against the norm of the step. Rounding errors that the batch norms' subtractions
		// magnify can make one small element differ by more, which says nothing about the
		// kernels (a normwise bound is what error analysis gives for sums in another order).
		var diff, norm float64
		for j := range ref.after[i] {
			got := float64(fast.after[i][j] - fast.before[i][j])
			want := float64(ref.after[i][j] - ref.before[i][j])
			diff += (got - want) * (got - want)
			norm += want * want
		}
		if norm == 0 {
			t.Fatalf("parameter %d did not change", i)
		}
		t.Logf("parameter %d: |step on cpu - step on cpu-gonum| / |step on cpu-gonum| = %.2g", i, math.Sqrt(diff/norm))
		if math.Sqrt(diff/norm) > 1e-3 {
			t.Fatalf("parameter %d: the steps on cpu and cpu-gonum differ by %.2g of the step's norm", i, math.Sqrt(diff/norm))
		}
	}
}
