package kerneltest

import (
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// optimSteps is how many consecutive updates each optimizer case runs, so that the state
// (velocity, moments) carried between steps is exercised too.
const optimSteps = 3

// optimShapes are a small parameter and a large one (155,100 elements) that a backend splits
// over threads.
var optimShapes = [][]int{{7, 13}, {300, 517}}

func optimCases() []Case {
	return append(sgdCases(), adamCases()...)
}

func sgdCases() []Case {
	var cases []Case
	configs := map[string]kernels.SGDConfig{
		"plain":           {LR: 0.1},
		"momentum_decay":  {LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4},
		"nesterov_decay":  {LR: 0.05, Momentum: 0.9, WeightDecay: 5e-4, Nesterov: true},
		"nesterov_strong": {LR: 0.3, Momentum: 0.5, WeightDecay: 0.1, Nesterov: true},
	}
	for _, name := range []string{"plain", "momentum_decay", "nesterov_decay", "nesterov_strong"} {
		for _, optimShape := range optimShapes {
			cfg := configs[name]
			cases = append(cases, Case{"SGD", fmt.Sprintf("%s_%v", name, tensor.Shape(optimShape)), func(t T, b kernels.Backend, tol Tolerance) {
				rng := tensor.NewRand(60)
				param, velocity := RandomTensor(rng, optimShape...), RandomTensor(rng, optimShape...)
				refParam, refVelocity := Float64s(param), Float64s(velocity)
				dParam, dVelocity := Upload(t, b, param), Upload(t, b, velocity)
				for step := 1; step <= optimSteps; step++ {
					grad := RandomTensor(rng, optimShape...)
					must(t, "SGD", b.SGD(dParam, Upload(t, b, grad), dVelocity, cfg))
					RefSGD(refParam, Float64s(grad), refVelocity, cfg)
					CheckClose(t, fmt.Sprintf("param after step %d", step), Download(t, b, dParam), refParam, tol.Pointwise)
					CheckClose(t, fmt.Sprintf("velocity after step %d", step), Download(t, b, dVelocity), refVelocity, tol.Pointwise)
				}
			}})
		}
	}
	return cases
}

func adamCases() []Case {
	var cases []Case
	configs := map[string]kernels.AdamConfig{
		"adam":             {LR: 1e-3, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8},
		"adam_decay":       {LR: 1e-2, Beta1: 0.8, Beta2: 0.99, Eps: 1e-6, WeightDecay: 0.01},
		"adamw":            {LR: 1e-2, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1, Decoupled: true},
		"adamw_large_step": {LR: 0.1, Beta1: 0.5, Beta2: 0.9, Eps: 1e-4, WeightDecay: 0.5, Decoupled: true},
	}
	for _, name := range []string{"adam", "adam_decay", "adamw", "adamw_large_step"} {
		for _, optimShape := range optimShapes {
			cfg := configs[name]
			cases = append(cases, Case{"Adam", fmt.Sprintf("%s_%v", name, tensor.Shape(optimShape)), func(t T, b kernels.Backend, tol Tolerance) {
				rng := tensor.NewRand(61)
				param := RandomTensor(rng, optimShape...)
				zeros := tensor.Zeros(optimShape...)
				refParam, refM, refV := Float64s(param), Float64s(zeros), Float64s(zeros)
				dParam, dM, dV := Upload(t, b, param), Upload(t, b, zeros), Upload(t, b, zeros)
				for step := 1; step <= optimSteps; step++ {
					grad := RandomTensor(rng, optimShape...)
					must(t, "Adam", b.Adam(dParam, Upload(t, b, grad), dM, dV, cfg, step))
					RefAdam(refParam, Float64s(grad), refM, refV, cfg, step)
					CheckClose(t, fmt.Sprintf("param after step %d", step), Download(t, b, dParam), refParam, tol.Pointwise)
					CheckClose(t, fmt.Sprintf("m after step %d", step), Download(t, b, dM), refM, tol.Pointwise)
					CheckClose(t, fmt.Sprintf("v after step %d", step), Download(t, b, dV), refV, tol.Pointwise)
				}
			}})
		}
	}
	return cases
}
