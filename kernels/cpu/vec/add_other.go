//go:build !amd64

package vec

func addAVX2(dst, src *float32, n int) { panic("vec: no AVX2 on this architecture") }

func reluAVX2(dst, src *float32, n int) { panic("vec: no AVX2 on this architecture") }

func reluMaskAVX2(dx, dy, y *float32, n int) { panic("vec: no AVX2 on this architecture") }

func sumAVX2(x *float32, n int) float64 { panic("vec: no AVX2 on this architecture") }

func sumSqDevAVX2(x *float32, n int, mean float64) float64 {
	panic("vec: no AVX2 on this architecture")
}

func sumDyDevAVX2(dy, x *float32, n int, mean float64) (float64, float64) {
	panic("vec: no AVX2 on this architecture")
}

func normaliseAVX2(y, x *float32, n int, mean, scale, shift float64) {
	panic("vec: no AVX2 on this architecture")
}

func normaliseGradAVX2(dx, dy, x *float32, n int, c *[5]float64) {
	panic("vec: no AVX2 on this architecture")
}

func maxPoolRowsAVX2(out *float32, arg *int32, top, bottom *float32, n int, at, width int32) {
	panic("vec: no AVX2 on this architecture")
}

func adamAVX2(p, grad, m, v *float32, n int, c *[9]float32, eps float32, decoupled bool) {
	panic("vec: no AVX2 on this architecture")
}
