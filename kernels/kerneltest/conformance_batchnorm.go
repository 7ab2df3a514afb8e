package kerneltest

import (
	"fmt"

	"github.com/vgglab/vgg/kernels"
	"github.com/vgglab/vgg/tensor"
)

// The batch-normalisation cases: odd sizes, 1x1 planes (statistics over the batch only), a
// single image (over the plane only), a channel whose mean (1000) dwarfs its spread (a
// one-pass E[x²] − E[x]² in float32 loses the variance there), and 70 channels for a backend
// that splits channels over threads.
var batchNormShapes = []struct {
	shape  BatchNormShape
	offset float64
}{
	{BatchNormShape{N: 3, C: 5, H: 7, W: 3}, 0},
	{BatchNormShape{N: 4, C: 3, H: 1, W: 1}, 0},
	{BatchNormShape{N: 1, C: 2, H: 5, W: 4}, 0},
	{BatchNormShape{N: 2, C: 3, H: 6, W: 5}, 1000},
	{BatchNormShape{N: 2, C: 70, H: 9, W: 11}, 0},
}

const (
	bnMomentum = 0.1
	bnEps      = 1e-5
)

// batchNormCases check the three ops against the references. The outputs depend on sums
// over a channel's N·H·W values, so they are held to tol.Product (evaluation to
// tol.Pointwise: it sums nothing).
func batchNormCases() []Case {
	var cases []Case
	for i, bc := range batchNormShapes {
		s := bc.shape
		name := fmt.Sprintf("n%d_c%d_%dx%d_offset%g", s.N, s.C, s.H, s.W, bc.offset)
		inputs := func() (x, gamma, beta, runMean, runVar, dy *tensor.Tensor) {
			rng := tensor.NewRand(uint64(80 + i))
			x = RandomTensor(rng, s.XShape()...)
			for j := range x.Float32s() {
				x.Float32s()[j] += float32(bc.offset)
			}
			gamma, beta, runMean = RandomTensor(rng, s.C), RandomTensor(rng, s.C), RandomTensor(rng, s.C)
			runVar = tensor.Zeros(s.C)
			runVar.FillUniform(rng, 0.5, 2)
			return x, gamma, beta, runMean, runVar, RandomTensor(rng, s.XShape()...)
		}
		cases = append(cases,
			Case{"BatchNormTrain", name, func(t T, b kernels.Backend, tol Tolerance) {
				x, gamma, beta, runMean, runVar, _ := inputs()
				ref := RefBatchNormTrain(Float64s(x), Float64s(gamma), Float64s(beta), Float64s(runMean), Float64s(runVar), s, bnMomentum, bnEps)
				dX, dGamma, dBeta := Upload(t, b, x), Upload(t, b, gamma), Upload(t, b, beta)
				y := Poisoned(t, b, tensor.Float32, s.XShape()...)
				mean, invstd := Poisoned(t, b, tensor.Float32, s.C), Poisoned(t, b, tensor.Float32, s.C)
				rm, rv := Upload(t, b, runMean), Upload(t, b, runVar)
				must(t, "BatchNormTrain", b.BatchNormTrain(y, mean, invstd, rm, rv, dX, dGamma, dBeta, bnMomentum, bnEps))
				hostY := Download(t, b, y)
				CheckClose(t, "y", hostY, ref.Y, tol.Product)
				CheckClose(t, "saveMean", Download(t, b, mean), ref.Mean, tol.Product)
				CheckClose(t, "saveInvStd", Download(t, b, invstd), ref.InvStd, tol.Product)
				CheckClose(t, "runMean", Download(t, b, rm), ref.RunMean, tol.Product)
				CheckClose(t, "runVar", Download(t, b, rv), ref.RunVar, tol.Product)

				// Again in place (y = x), from the same running statistics: the very same bits.
				inPlace, rm2, rv2 := Upload(t, b, x), Upload(t, b, runMean), Upload(t, b, runVar)
				must(t, "BatchNormTrain in place", b.BatchNormTrain(inPlace, mean, invstd, rm2, rv2, inPlace, dGamma, dBeta, bnMomentum, bnEps))
				CheckExact(t, "y in place, against y", Download(t, b, inPlace), Float64s(hostY))
				CheckExact(t, "runVar of the second run", Download(t, b, rv2), Float64s(Download(t, b, rv)))
			}},
			Case{"BatchNormEval", name, func(t T, b kernels.Backend, tol Tolerance) {
				x, gamma, beta, runMean, runVar, _ := inputs()
				want := RefBatchNormEval(Float64s(x), Float64s(gamma), Float64s(beta), Float64s(runMean), Float64s(runVar), s, bnEps)
				dGamma, dBeta := Upload(t, b, gamma), Upload(t, b, beta)
				y := Poisoned(t, b, tensor.Float32, s.XShape()...)
				rm, rv := Upload(t, b, runMean), Upload(t, b, runVar)
				must(t, "BatchNormEval", b.BatchNormEval(y, Upload(t, b, x), dGamma, dBeta, rm, rv, bnEps))
				hostY := Download(t, b, y)
				CheckClose(t, "y", hostY, want, tol.Pointwise)
				CheckExact(t, "runMean (unchanged)", Download(t, b, rm), Float64s(runMean))
				CheckExact(t, "runVar (unchanged)", Download(t, b, rv), Float64s(runVar))
				inPlace := Upload(t, b, x)
				must(t, "BatchNormEval in place", b.BatchNormEval(inPlace, inPlace, dGamma, dBeta, rm, rv, bnEps))
				CheckExact(t, "y in place, against y", Download(t, b, inPlace), Float64s(hostY))
			}},
			Case{"BatchNormBackward", name, func(t T, b kernels.Backend, tol Tolerance) {
				x, gamma, beta, runMean, runVar, dy := inputs()
				xr, gr := Float64s(x), Float64s(gamma)
				ref := RefBatchNormTrain(xr, gr, Float64s(beta), Float64s(runMean), Float64s(runVar), s, bnMomentum, bnEps)
				// The saved statistics are the reference's, rounded to float32 as a backend
				// would save them, so only the backward op's error is measured.
				mean, invstd := f32Tensor(ref.Mean), f32Tensor(ref.InvStd)
				wantDX, wantDGamma, wantDBeta := RefBatchNormBackward(Float64s(dy), xr, gr, Float64s(mean), Float64s(invstd), s)
				dX, dGamma := Upload(t, b, x), Upload(t, b, gamma)
				dMean, dInvStd, dDY := Upload(t, b, mean), Upload(t, b, invstd), Upload(t, b, dy)
				dx := Poisoned(t, b, tensor.Float32, s.XShape()...)
				dg, db := Poisoned(t, b, tensor.Float32, s.C), Poisoned(t, b, tensor.Float32, s.C)
				must(t, "BatchNormBackward", b.BatchNormBackward(dx, dg, db, dDY, dX, dGamma, dMean, dInvStd))
				hostDX := Download(t, b, dx)
				CheckClose(t, "dx", hostDX, wantDX, tol.Product)
				CheckClose(t, "dgamma", Download(t, b, dg), wantDGamma, tol.Product)
				CheckClose(t, "dbeta", Download(t, b, db), wantDBeta, tol.Product)
				must(t, "BatchNormBackward in place", b.BatchNormBackward(dDY, dg, db, dDY, dX, dGamma, dMean, dInvStd))
				CheckExact(t, "dx in place, against dx", Download(t, b, dDY), Float64s(hostDX))
			}},
		)
	}
	return cases
}
