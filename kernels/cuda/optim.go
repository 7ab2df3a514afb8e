//go:build cuda

package cuda

import (
	"math"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

var (
	sgdUpdate  = kernel{"optim", "sgd_update"}
	adamUpdate = kernel{"optim", "adam_update"}
)

func boolArg(v bool) uint64 {
	if v {
		return 1
	}
	return 0
}

func (b *Backend) SGD(param, grad, velocity *tensor.Tensor, cfg kernels.SGDConfig) error {
	const op = "SGD"
	if err := kernels.CheckSGD(param, grad, velocity, cfg); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"param", param}, named{"grad", grad}, named{"velocity", velocity})
	if err != nil {
		return err
	}
	n := param.Numel()
	return b.run(op, func() error {
		return b.d.launch(sgdUpdate, b.d.gridFor(ceilDiv(n, 4)), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), intArg(n), floatArg(cfg.LR),
			floatArg(cfg.Momentum), floatArg(cfg.WeightDecay), boolArg(cfg.Nesterov))
	})
}

func (b *Backend) Adam(param, grad, m, v *tensor.Tensor, cfg kernels.AdamConfig, step int) error {
	const op = "Adam"
	if err := kernels.CheckAdam(param, grad, m, v, cfg, step); err != nil {
		return err
	}
	p, err := b.pointers(op, named{"param", param}, named{"grad", grad}, named{"m", m}, named{"v", v})
	if err != nil {
		return err
	}
	n := param.Numel()
	// The bias corrections 1-β^t, once per step on the host.
	bc1 := float32(1 - math.Pow(float64(cfg.Beta1), float64(step)))
	bc2 := float32(1 - math.Pow(float64(cfg.Beta2), float64(step)))
	return b.run(op, func() error {
		return b.d.launch(adamUpdate, b.d.gridFor(ceilDiv(n, 4)), dim3{256, 1, 1},
			ptrArg(p[0]), ptrArg(p[1]), ptrArg(p[2]), ptrArg(p[3]), intArg(n), floatArg(cfg.LR),
			floatArg(cfg.Beta1), floatArg(cfg.Beta2), floatArg(cfg.Eps), floatArg(cfg.WeightDecay),
			boolArg(cfg.Decoupled), floatArg(bc1), floatArg(bc2))
	})
}
