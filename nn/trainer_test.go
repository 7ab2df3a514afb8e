package nn

import (
	"math"
	"path/filepath"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// evalLoss is the model's mean loss on a batch in evaluation mode (no dropout).
func evalLoss(t *testing.T, tr *Trainer, x, labels *tensor.Tensor) Stats {
	t.Helper()
	if err := tr.Eval(x, labels); err != nil {
		t.Fatal(err)
	}
	s, err := tr.ReadEvalStats()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// paramBits downloads every parameter, for bit-exact comparisons.
func paramBits(t *testing.T, b kernels.Backend, m *Model) [][]float32 {
	t.Helper()
	var out [][]float32
	for _, p := range m.Params() {
		out = append(out, download(t, b, p.Value))
	}
	return out
}

func sameBits(a, b [][]float32) bool {
	for i := range a {
		for j := range a[i] {
			if math.Float32bits(a[i][j]) != math.Float32bits(b[i][j]) {
				return false
			}
		}
	}
	return true
}

// overfit trains a tiny VGG-D on one batch of 8 random images of 4 classes and returns the
// trainer, the batch, and the evaluation loss before training.
func overfit(t *testing.T, b kernels.Backend, steps int) (*Trainer, *tensor.Tensor, *tensor.Tensor, Stats) {
	cfg := tinyConfig(4)
	m, err := New(b, cfg, 21)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, OptimizerConfig{Kind: "adam"}, Schedule{Kind: "constant", LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := randomBatch(t, b, cfg, 8, 22)
	start := evalLoss(t, tr, x, labels)
	for i := 0; i < steps; i++ {
		if err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	return tr, x, labels, start
}

// A small VGG-D memorises a tiny labelled set, with dropout on, and does it deterministically.
func TestTinyVGGDOverfitsDeterministically(t *testing.T) {
	b := openCPU(t)
	const steps = 300
	tr1, x, labels, start := overfit(t, b, steps)
	train, err := tr1.ReadTrainStats()
	if err != nil {
		t.Fatal(err)
	}
	if err := train.Check(); err != nil {
		t.Fatal(err)
	}
	end := evalLoss(t, tr1, x, labels)
	t.Logf("eval loss %.4f -> %.4f after %d steps (accuracy %.2f); mean training loss %.4f over %d examples",
		start.Loss, end.Loss, steps, end.Accuracy, train.Loss, train.Count)
	if train.Count != 8*steps {
		t.Errorf("training stats counted %d examples, want %d", train.Count, 8*steps)
	}
	if end.Loss > 0.05*start.Loss || end.Accuracy != 1 {
		t.Errorf("loss fell from %.4f to only %.4f (accuracy %.2f); want below 5%% of the start and every example right",
			start.Loss, end.Loss, end.Accuracy)
	}
	tr2, _, _, _ := overfit(t, b, steps)
	if !sameBits(paramBits(t, b, tr1.Model), paramBits(t, b, tr2.Model)) {
		t.Error("two runs with the same seed ended with different weights")
	}
}

// Stopping, saving, loading into a fresh process's worth of objects and going on gives the very
// weights of a run that never stopped: optimiser buffers, step counter (learning rate, dropout
// masks, Adam's bias correction) and seed all come back; with batch norm, its running
// statistics and batch counters too.
func TestSaveLoadResumeIsExact(t *testing.T) {
	for _, c := range []struct {
		arch string
		opt  OptimizerConfig
	}{
		{ArchVGGD, OptimizerConfig{Kind: "adamw", WeightDecay: 0.01}},
		{ArchVGGD, OptimizerConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true}},
		{ArchVGGDBN, OptimizerConfig{Kind: "adamw", WeightDecay: 0.01, ExemptNoDecay: true}},
	} {
		opt := c.opt
		t.Run(c.arch+"_"+opt.Kind, func(t *testing.T) {
			b := openCPU(t)
			cfg := tinyConfig(3)
			cfg.Arch = c.arch
			sched := Schedule{Kind: "onecycle", LR: 1e-3, TotalSteps: 8}
			x, labels := randomBatch(t, b, cfg, 4, 31)
			train := func(tr *Trainer, steps int) {
				for i := 0; i < steps; i++ {
					if err := tr.Step(x, labels); err != nil {
						t.Fatal(err)
					}
				}
			}

			m, err := New(b, cfg, 5)
			if err != nil {
				t.Fatal(err)
			}
			straight, err := NewTrainer(m, opt, sched)
			if err != nil {
				t.Fatal(err)
			}
			train(straight, 6)

			m1, _ := New(b, cfg, 5)
			first, _ := NewTrainer(m1, opt, sched)
			train(first, 3)
			first.Epoch, first.BestScore, first.Extra = 2, 0.625, map[string]string{"split_seed": "9"}
			dir := t.TempDir()
			modelPath := filepath.Join(dir, "model.safetensors")
			info := ModelInfo{ClassNames: []string{"a", "b", "c"}, Mean: [3]float32{0.5, 0.4, 0.3}, Std: [3]float32{0.25, 0.2, 0.2}}
			if err := SaveModel(modelPath, m1, info); err != nil {
				t.Fatal(err)
			}
			if err := first.SaveState(TrainStatePath(modelPath)); err != nil {
				t.Fatal(err)
			}

			m2, info2, err := LoadModel(b, modelPath)
			if err != nil {
				t.Fatal(err)
			}
			if m2.Config != m1.Config || info2.Mean != info.Mean || info2.Std != info.Std || len(info2.ClassNames) != 3 || info2.ClassNames[2] != "c" {
				t.Fatalf("loaded config %+v info %+v, saved %+v %+v", m2.Config, info2, m1.Config, info)
			}
			resumed, err := NewTrainer(m2, opt, sched)
			if err != nil {
				t.Fatal(err)
			}
			if err := resumed.LoadState(TrainStatePath(modelPath)); err != nil {
				t.Fatal(err)
			}
			if resumed.Steps != 3 || resumed.Epoch != 2 || resumed.BestScore != 0.625 || resumed.Extra["split_seed"] != "9" {
				t.Fatalf("resumed at step %d epoch %d best %v extra %v", resumed.Steps, resumed.Epoch, resumed.BestScore, resumed.Extra)
			}
			train(resumed, 3)
			if !sameBits(paramBits(t, b, straight.Model), paramBits(t, b, resumed.Model)) {
				t.Error("save, load and continue ended with other weights than training straight through")
			}
			if !sameBits(bufferBits(t, b, straight.Model), bufferBits(t, b, resumed.Model)) {
				t.Error("save, load and continue ended with other running statistics than training straight through")
			}
			for i, bn := range resumed.Model.batchNorms {
				if bn.NumBatchesTracked != 6 || straight.Model.batchNorms[i].NumBatchesTracked != 6 {
					t.Errorf("%s: num_batches_tracked %d resumed, %d straight; want 6", bn.Name(), bn.NumBatchesTracked, straight.Model.batchNorms[i].NumBatchesTracked)
				}
			}
		})
	}
}

// countingBackend counts the allocations made through it.
type countingBackend struct {
	kernels.Backend
	allocs int
}

func (c *countingBackend) Alloc(dtype tensor.DType, shape ...int) (*tensor.Tensor, error) {
	c.allocs++
	return c.Backend.Alloc(dtype, shape...)
}

// Once a batch shape has been seen, training and evaluation steps allocate nothing on the
// backend: every activation, gradient and loss buffer is reused.
func TestStepsReuseTheirBuffers(t *testing.T) {
	b := &countingBackend{Backend: openCPU(t)}
	cfg := tinyConfig(3)
	m, err := New(b, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, OptimizerConfig{Kind: "adam"}, Schedule{Kind: "constant", LR: 1e-3})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := randomBatch(t, b, cfg, 4, 1)
	step := func() {
		if err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
		if err := tr.Eval(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	step()
	before := b.allocs
	for i := 0; i < 3; i++ {
		step()
	}
	if b.allocs != before {
		t.Errorf("3 more training and evaluation steps made %d allocations, want 0", b.allocs-before)
	}
}
