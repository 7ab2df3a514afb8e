package cpu

import (
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/kernels/cpu/vec"
	"github.com/vgglab/vgg/tensor"
)

// optimData returns the elements of param and of every state tensor (grad, velocity, m, v,
// named in names), once the op's rule has checked their shapes, as float32 host tensors.
func optimData(op string, param *tensor.Tensor, names []string, state ...*tensor.Tensor) ([]float32, [][]float32, error) {
	pd, err := hostF32(op, "param", param)
	if err != nil {
		return nil, nil, err
	}
	data := make([][]float32, len(state))
	for i, t := range state {
		if data[i], err = hostF32(op, names[i], t); err != nil {
			return nil, nil, err
		}
	}
	return pd, data, nil
}

// SGD is torch.optim.SGD without dampening: g = grad + wd*param; v = momentum*v + g;
// param -= lr*v, or with Nesterov param -= lr*(g + momentum*v).
func (be *Backend) SGD(param, grad, velocity *tensor.Tensor, cfg kernels.SGDConfig) error {
	const op = "SGD"
	if err := kernels.CheckSGD(param, grad, velocity, cfg); err != nil {
		return err
	}
	pd, st, err := optimData(op, param, []string{"grad", "velocity"}, grad, velocity)
	if err != nil {
		return err
	}
	gd, vd := st[0], st[1]
	parallelFor(len(pd), be.workersFor(len(pd)), func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			g := gd[i] + cfg.WeightDecay*pd[i]
			v := cfg.Momentum*vd[i] + g
			vd[i] = v
			if cfg.Nesterov {
				pd[i] -= cfg.LR * (g + cfg.Momentum*v)
			} else {
				pd[i] -= cfg.LR * v
			}
		}
	})
	return nil
}

// Adam is torch.optim.Adam, or AdamW when cfg.Decoupled; see kernels.AdamConfig.
func (be *Backend) Adam(param, grad, m, v *tensor.Tensor, cfg kernels.AdamConfig, step int) error {
	const op = "Adam"
	if err := kernels.CheckAdam(param, grad, m, v, cfg, step); err != nil {
		return err
	}
	pd, st, err := optimData(op, param, []string{"grad", "m", "v"}, grad, m, v)
	if err != nil {
		return err
	}
	gd, md, vd := st[0], st[1], st[2]
	// The bias corrections are computed once per call, in float64 since B^t for large t
	// needs the precision.
	corr1 := float32(1 - math.Pow(float64(cfg.Beta1), float64(step)))
	corr2 := float32(1 - math.Pow(float64(cfg.Beta2), float64(step)))
	step32 := vec.AdamStep{LR: cfg.LR, WeightDecay: cfg.WeightDecay, Beta1: cfg.Beta1, Beta2: cfg.Beta2, Eps: cfg.Eps,
		Corr1: corr1, Corr2: corr2, Decoupled: cfg.Decoupled}
	parallelFor(len(pd), be.workersFor(len(pd)), func(_, lo, hi int) {
		vec.Adam(pd[lo:hi], gd[lo:hi], md[lo:hi], vd[lo:hi], step32)
	})
	return nil
}
