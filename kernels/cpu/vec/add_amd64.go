package vec

// addAVX2 is Add for n >= 1 elements at dst and src (add_amd64.s).
//
//go:noescape
func addAVX2(dst, src *float32, n int)

// reluAVX2 is ReLU for n >= 1 elements (relu_amd64.s).
//
//go:noescape
func reluAVX2(dst, src *float32, n int)

// reluMaskAVX2 is ReLUMask for n >= 1 elements (relu_amd64.s).
//
//go:noescape
func reluMaskAVX2(dx, dy, y *float32, n int)

// The batch-norm loops of moments.go for n, a positive multiple of 8, elements
// (moments_amd64.s).
//
//go:noescape
func sumAVX2(x *float32, n int) float64

//go:noescape
func sumSqDevAVX2(x *float32, n int, mean float64) float64

//go:noescape
func sumDyDevAVX2(dy, x *float32, n int, mean float64) (sumDy, sumDyDev float64)

//go:noescape
func normaliseAVX2(y, x *float32, n int, mean, scale, shift float64)

// normaliseGradAVX2's c holds mean, invstd, scale, meanDy and meanDyXhat.
//
//go:noescape
func normaliseGradAVX2(dx, dy, x *float32, n int, c *[5]float64)

// maxPoolRowsAVX2 is MaxPoolRows for n, a positive multiple of 8, windows (maxpool_amd64.s).
//
//go:noescape
func maxPoolRowsAVX2(out *float32, arg *int32, top, bottom *float32, n int, at, width int32)

// adamAVX2 is Adam for n, a positive multiple of 8, elements (adam_amd64.s); c holds lr·wd,
// wd, β1, 1-β1, β2, 1-β2, corr1, corr2 and lr.
//
//go:noescape
func adamAVX2(p, grad, m, v *float32, n int, c *[9]float32, eps float32, decoupled bool)
