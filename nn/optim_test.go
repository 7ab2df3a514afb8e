package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// oneParam is a single parameter on b with a given value and gradient.
func oneParam(t *testing.T, b kernels.Backend, value, grad []float32) *Param {
	p := &Param{Name: "w", Shape: tensor.Shape{len(value)}}
	v, _ := tensor.FromFloat32(append([]float32(nil), value...), len(value))
	g, _ := tensor.FromFloat32(append([]float32(nil), grad...), len(grad))
	p.Value, p.Grad = upload(t, b, v), upload(t, b, g)
	return p
}

// The optimiser hands each kind its PyTorch semantics: SGD's first step is p -= lr*(g + wd*p);
// Adam's first step moves every element by lr against its gradient's sign (m̂ = g, v̂ = g²);
// AdamW also shrinks by lr*wd*p, Adam folds wd*p into the gradient instead.
func TestOptimizerFirstSteps(t *testing.T) {
	value, grad := []float32{1, -2, 0.5, 3}, []float32{0.5, 0.25, -1, 0}
	cases := []struct {
		cfg  OptimizerConfig
		want func(p, g float64) float64
	}{
		{OptimizerConfig{Kind: "sgd", Momentum: 0.9, WeightDecay: 0.1}, func(p, g float64) float64 { return p - 0.1*(g+0.1*p) }},
		{OptimizerConfig{Kind: "adam"}, func(p, g float64) float64 { return p - 0.1*g/(math.Abs(g)+1e-8) }},
		{OptimizerConfig{Kind: "adamw", WeightDecay: 0.5}, func(p, g float64) float64 {
			return p*(1-0.1*0.5) - 0.1*g/(math.Abs(g)+1e-8)
		}},
		{OptimizerConfig{Kind: "adam", WeightDecay: 0.5}, func(p, g float64) float64 {
			g += 0.5 * p
			return p - 0.1*g/(math.Abs(g)+1e-8)
		}},
	}
	for _, c := range cases {
		b := openCPU(t)
		p := oneParam(t, b, value, grad)
		o, err := NewOptimizer(b, []*Param{p}, c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if err := o.Update(0.1); err != nil {
			t.Fatal(err)
		}
		got := download(t, b, p.Value)
		for i := range value {
			if want := c.want(float64(value[i]), float64(grad[i])); math.Abs(float64(got[i])-want) > 1e-6 {
				t.Errorf("%+v: element %d went %g -> %g, want %g", c.cfg, i, value[i], got[i], want)
			}
		}
		var names []string
		for _, nt := range o.stateTensors() {
			names = append(names, nt.name)
		}
		if c.cfg.Kind == "sgd" && strings.Join(names, ",") != "w.momentum_buffer" ||
			c.cfg.Kind != "sgd" && strings.Join(names, ",") != "w.exp_avg,w.exp_avg_sq" {
			t.Errorf("%s state is named %v", c.cfg.Kind, names)
		}
	}
	if _, err := NewOptimizer(openCPU(t), nil, OptimizerConfig{Kind: "lbfgs"}); err == nil {
		t.Error("an unknown optimiser was accepted")
	}
}

// A run that blows up is caught when the loop reads its stats.
func TestDivergenceIsReported(t *testing.T) {
	b := openCPU(t)
	cfg := tinyConfig(3)
	m, err := New(b, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(m, OptimizerConfig{Kind: "sgd"}, Schedule{Kind: "constant", LR: 1e30})
	if err != nil {
		t.Fatal(err)
	}
	x, labels := randomBatch(t, b, cfg, 4, 2)
	for i := 0; i < 4; i++ {
		if err := tr.Step(x, labels); err != nil {
			t.Fatal(err)
		}
	}
	s, err := tr.ReadTrainStats()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(); err == nil || !strings.Contains(err.Error(), "diverged") {
		t.Errorf("stats %+v after steps at lr 1e30: Check() = %v", s, err)
	}
	if err := (Stats{Loss: 1.2, Count: 8}).Check(); err != nil {
		t.Errorf("a finite loss was reported: %v", err)
	}
}

// Each dropout layer draws its own mask at each step, and the same one again for the same step.
func TestDropoutSeeds(t *testing.T) {
	ctx := &Context{}
	a, b := NewDropout(ctx, "fc.2", 0.5), NewDropout(ctx, "fc.5", 0.5)
	seen := map[uint64]string{}
	for step := uint64(0); step < 100; step++ {
		for _, d := range []*Dropout{a, b} {
			s := d.Seed(42, step)
			if s != d.Seed(42, step) {
				t.Fatal("the seed is not a function of its inputs")
			}
			if prev, ok := seen[s]; ok {
				t.Errorf("%s at step %d repeats the seed of %s", d.Name(), step, prev)
			}
			seen[s] = d.Name()
		}
	}
	if a.Seed(1, 0) == a.Seed(2, 0) {
		t.Error("two run seeds give the same mask")
	}
}
